#!/usr/bin/env bash
# Crypt4GH throughput: Python `crypt4gh` CLI vs oresund-c4gh (1 and N threads)
# vs a bare ChaCha20-Poly1305 loop, on a random file (1 GiB by default).
#
#   bench/c4gh/run.sh [WORKDIR] [SIZE_MIB]
#
# WORKDIR holds the input file, keys and encrypted outputs. It defaults to
# tmpfs (/dev/shm) so that both tools are timed on their crypto and not on
# the disk's dirty-page writeback (plain `dd` to ext4 here varies 0.3-1.8 GB/s);
# pass /tmp to include a real file system.
# Needs: cargo, python3, `pip install crypt4gh==1.8.6`. Also times the `oresund c4gh` CLI
# (release build of the whole binary) on the same files, like the Python CLI.
# Writes a markdown report to $RESULTS (default bench/c4gh-results.md).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [ -n "${1:-}" ]; then WORKDIR="$1"
elif [ -d /dev/shm ] && [ -w /dev/shm ]; then WORKDIR=/dev/shm/c4gh_bench
else WORKDIR=/tmp/c4gh_bench; fi
SIZE_MIB="${2:-1024}"
THREADS="${THREADS:-$(nproc)}"
RESULTS="${RESULTS:-$ROOT/bench/c4gh-results.md}"
PY_RUNS="${PY_RUNS:-3}"

command -v crypt4gh >/dev/null || { echo "crypt4gh CLI missing: pip install crypt4gh==1.8.6" >&2; exit 1; }
mkdir -p "$WORKDIR"
INPUT="$WORKDIR/c4gh_bench_${SIZE_MIB}MiB.bin"
if [ ! -f "$INPUT" ] || [ "$(stat -c %s "$INPUT")" -ne $((SIZE_MIB << 20)) ]; then
    echo "creating $INPUT" >&2
    head -c $((SIZE_MIB << 20)) /dev/urandom > "$INPUT"
fi

echo "building the throughput example" >&2
(cd "$ROOT" && cargo build --release -p oresund-c4gh --example c4gh_throughput >&2)
BIN="$ROOT/target/release/examples/c4gh_throughput"

KEYS="$WORKDIR/c4gh_bench_keys"
mkdir -p "$KEYS"
crypt4gh-keygen -f --nocrypt --sk "$KEYS/bench.sec" --pk "$KEYS/bench.pub" >/dev/null 2>&1

# Best wall-clock seconds of PY_RUNS runs of a shell command.
best_of() {
    local best="" t0 t1 dt
    for _ in $(seq "$PY_RUNS"); do
        t0=$(date +%s.%N)
        bash -c "$1"
        t1=$(date +%s.%N)
        dt=$(python3 -c "print($t1 - $t0)")
        if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if $dt < $best else 1)"; then best=$dt; fi
    done
    echo "$best"
}

cat "$INPUT" > /dev/null  # warm the page cache for everyone alike
echo "timing the Python CLI" >&2
PY_ENC=$(best_of "rm -f '$WORKDIR/c4gh_bench_py.c4gh'; crypt4gh encrypt --sk '$KEYS/bench.sec' --recipient_pk '$KEYS/bench.pub' < '$INPUT' > '$WORKDIR/c4gh_bench_py.c4gh'")
PY_DEC=$(best_of "crypt4gh decrypt --sk '$KEYS/bench.sec' < '$WORKDIR/c4gh_bench_py.c4gh' > /dev/null")
rm -f "$WORKDIR/c4gh_bench_py.c4gh"

echo "timing the oresund c4gh CLI" >&2
(cd "$ROOT" && cargo build --release -p oresund >&2)
CLI="$ROOT/target/release/oresund"
CLI_ENC=$(best_of "rm -f '$WORKDIR/c4gh_bench_cli.c4gh'; '$CLI' c4gh encrypt --recipient_pk '$KEYS/bench.pub' < '$INPUT' > '$WORKDIR/c4gh_bench_cli.c4gh'")
CLI_DEC=$(best_of "'$CLI' c4gh decrypt --sk '$KEYS/bench.sec' < '$WORKDIR/c4gh_bench_cli.c4gh' > /dev/null")
rm -f "$WORKDIR/c4gh_bench_cli.c4gh"

echo "timing oresund-c4gh" >&2
OURS_CMD="target/release/examples/c4gh_throughput $INPUT $THREADS $WORKDIR"
OURS="$("$BIN" "$INPUT" "$THREADS" "$WORKDIR" | tee /dev/stderr | grep '^RESULT')"

CMD="bench/c4gh/run.sh $*"
WHERE="$(df -T "$WORKDIR" | awk 'NR==2 {print $2}')"
MODEL="$(lscpu | grep 'Model name' | sed 's/Model name:[[:space:]]*//')"
python3 - "$RESULTS" "$SIZE_MIB" "$THREADS" "$PY_ENC" "$PY_DEC" "$(nproc)" "$MODEL" "$CMD" "$WORKDIR" "$WHERE" "$OURS_CMD" "$CLI_ENC" "$CLI_DEC" <<EOF
import sys, datetime
out, size_mib, threads, py_enc, py_dec, nproc, model, cmd, workdir, fstype, ours_cmd, cli_enc, cli_dec = sys.argv[1:]
size = int(size_mib) << 20
mbps = {}
for line in """$OURS""".splitlines():
    _, name, secs, rate = line.split()
    mbps[name] = float(rate)
mbps['py_encrypt'] = size / 1e6 / float(py_enc)
mbps['py_decrypt'] = size / 1e6 / float(py_dec)
mbps['cli_encrypt'] = size / 1e6 / float(cli_enc)
mbps['cli_decrypt'] = size / 1e6 / float(cli_dec)

def row(label, key, op):
    r = mbps[key]
    return f"| {label} | {r:,.0f} | {r / mbps['bare_' + op]:.2f} | {r / mbps['py_' + op]:.2f} |"

lines = [
    "# Crypt4GH throughput: oresund-c4gh vs Python crypt4gh 1.8.6",
    "",
    f"- Date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
    f"- Machine: {nproc} cores (nproc), {model}",
    f"- Input: {size_mib} MiB of random bytes; MB/s = 10^6 plaintext bytes per second, best of several runs",
    f"- Command: \`{cmd.strip()}\` (builds \`cargo build --release -p oresund-c4gh --example c4gh_throughput\`, then runs \`{ours_cmd}\`)",
    f"- Files in {workdir} ({fstype}); Python timed as \`crypt4gh encrypt --sk K --recipient_pk P < in > out\` and \`crypt4gh decrypt --sk K < out > /dev/null\`, best of $PY_RUNS",
    f"- N = {threads} threads; the machine is shared, so multi-threaded numbers are sensitive to other load",
    "",
]
for op in ("encrypt", "decrypt"):
    lines += [
        f"## {op.capitalize()}",
        "",
        "| Measurement | MB/s | × bare AEAD loop | × Python CLI |",
        "| --- | ---: | ---: | ---: |",
        row("bare ChaCha20-Poly1305 loop, 64 KiB segments, in memory", f"bare_{op}", op),
        row(f"oresund-c4gh {op}_body, 1 thread, memory → sink", f"ours_{op}_1", op),
        row(f"oresund-c4gh {op}_body, {threads} threads, memory → sink", f"ours_{op}_n", op),
        row(f"oresund-c4gh whole file, 1 thread, file → {'file' if op == 'encrypt' else '/dev/null'}", f"file_{op}_1", op),
        row(f"oresund-c4gh whole file, {threads} threads, file → {'file' if op == 'encrypt' else '/dev/null'}", f"file_{op}_n", op),
        row(f"\`oresund c4gh {op}\` CLI (all cores), file → {'file' if op == 'encrypt' else '/dev/null'}", f"cli_{op}", op),
        row(f"Python \`crypt4gh {op}\` CLI, file → {'file' if op == 'encrypt' else '/dev/null'}", f"py_{op}", op),
        "",
    ]
def ratio(a, b):
    return mbps[a] / mbps[b]
lines += [
    "## Targets",
    "",
    "| Target | Encrypt | Decrypt |",
    "| --- | ---: | ---: |",
    f"| single thread ≥ 0.8 × bare AEAD loop (in memory) | {ratio('ours_encrypt_1', 'bare_encrypt'):.2f} | {ratio('ours_decrypt_1', 'bare_decrypt'):.2f} |",
    f"| {threads} threads ≥ 1.7 × 1 thread (in memory) | {ratio('ours_encrypt_n', 'ours_encrypt_1'):.2f} | {ratio('ours_decrypt_n', 'ours_decrypt_1'):.2f} |",
    f"| {threads} threads ≥ 3 × Python CLI (whole file) | {ratio('file_encrypt_n', 'py_encrypt'):.2f} | {ratio('file_decrypt_n', 'py_decrypt'):.2f} |",
    f"| \`oresund c4gh\` CLI ≥ 3 × Python CLI | {ratio('cli_encrypt', 'py_encrypt'):.2f} | {ratio('cli_decrypt', 'py_decrypt'):.2f} |",
    "",
    "Notes: the bare decrypt loop copies each segment into a reused buffer before",
    "decrypting it in place (decryption destroys its input, as in any reader).",
    "Whole-file runs read and write the work directory's file system, exactly",
    "like the Python timing. The machine has 2 cores shared with other work,",
    "so 1- and N-thread runs alternate and the best of each is reported.",
    "",
]
open(out, "w").write("\n".join(lines))
print("\n".join(lines))
EOF

# The input lives in RAM when WORKDIR is tmpfs: drop it unless asked to keep it.
if [ "${KEEP_INPUT:-0}" != 1 ]; then rm -f "$INPUT"; fi
