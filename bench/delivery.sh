#!/usr/bin/env bash
# Delivery benchmark (htsget 1.3 / DRS 1.5), on loopback, in one run, each figure against a
# reference measured in the same run:
#   1. whole-file Crypt4GH download of a ~1 GiB archived VCF (the DRS `crypt4gh` access URL,
#      `curl -s -o /dev/null`) vs `cat` of the archived body file to /dev/null, page cache warm
#      for both; 3 alternating rounds, median MB/s, ratio (target >= 0.8); and, as a reference
#      for what HTTP over this loopback allows, the same body file sent by a minimal Python server
#      with sendfile(2), fetched by the same curl command in the same rounds;
#   2. ticket latency for a 1 Mb region (22:16,000,000-17,000,000), 200 sequential requests on
#      one keep-alive connection (Python http.client), p50/p99 (target p99 < 5 ms), against
#      `GET /info` measured the same way, interleaved with the tickets (and with the same ticket
#      asked with encryptionScheme=C4GH and the researcher's key);
#   3. peak VmRSS of `oresund serve` (sampled every 100 ms) while 8 clients each download the
#      whole file as Crypt4GH at once (target < 100 MB), and its RSS at idle before.
#
#   bench/delivery.sh [--quick] > bench/delivery-results.md
#
# Markdown report on stdout, progress on stderr. --quick uses a ~100 MB file instead of 1 GiB.
# The input is made by bench/gen_big_vcf.py (seed 5) on demo-data/'s reference and cached in
# bench-data-delivery/<MiB>/ (SAMPLES, INFO_BYTES and SEED change it: remove the directory then);
# ORESUND_BIN=PATH uses an oresund binary already built instead of `cargo build`. The node
# (init, ingest, token, researcher key) is made afresh in a temporary directory and removed at
# exit, with the server; PORT (default 7390) is where it listens.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=1024
if [ "${1:-}" = --quick ]; then size_mib=100; shift; fi
[ $# -eq 0 ] || { echo "usage: bench/delivery.sh [--quick]" >&2; exit 1; }
for tool in curl bgzip tabix python3; do
  command -v $tool >/dev/null || { echo "delivery.sh: $tool not found (Debian: apt-get install curl tabix)" >&2; exit 1; }
done
log() { echo "$*" >&2; }

samples=${SAMPLES:-2000} info_bytes=${INFO_BYTES:-6000} seed=${SEED:-5}
data=bench-data-delivery/$size_mib
if [ ! -f "$data/big.vcf.gz" ]; then
  log "making $data: gen_big_vcf.py --size-mib $size_mib --samples $samples --info-bytes $info_bytes --seed $seed"
  python3 bench/gen_big_vcf.py --out "$data" --size-mib "$size_mib" --samples "$samples" \
    --info-bytes "$info_bytes" --seed "$seed"
fi
[ -n "${ORESUND_BIN:-}" ] || cargo build --release -q -p oresund
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
bin=$work/oresund
cp "${ORESUND_BIN:-target/release/oresund}" "$bin"
if [ -n "${ORESUND_BIN:-}" ]; then
  build="prebuilt binary $ORESUND_BIN, modified $(date -u -r "$ORESUND_BIN" +%Y-%m-%dT%H:%MZ)"
else
  build="release build of the tree at $(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes')"
fi
node=$work/node

# --- the node -----------------------------------------------------------------------------
"$bin" init -q "$node" --node-id BENCH --country DK --reference demo-data/reference.fa.gz
t0=$(date +%s.%N)
"$bin" ingest -q "$node" --dataset DK-1 --individuals "$data/big.individuals.tsv" "$data/big.vcf.gz"
t1=$(date +%s.%N)
ingest_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')
log "ingest: $ingest_s s"
token=$("$bin" token add "$node" --user r@x.org --registered --controlled DK-1 2>/dev/null)
"$bin" c4gh keygen --sk "$work/researcher.sec" --pk "$work/researcher.pub" --nocrypt >/dev/null 2>&1
pubkey=$(base64 -w0 "$work/researcher.pub")
read -r accession body size < <("$bin" archive list "$node" --format json | python3 -c '
import json, sys
objects = json.load(sys.stdin)
objects = objects.get("objects", objects) if isinstance(objects, dict) else objects
vcf = [o for o in objects if o["kind"] == "vcf"]
assert len(vcf) == 1, vcf
print(vcf[0]["accession"], vcf[0]["body_object"], vcf[0]["body_size"])')
body=$node/archive/$body
[ -f "$body" ] && [ "$(stat -c %s "$body")" = "$size" ] || { echo "delivery.sh: body $body is not $size bytes" >&2; exit 1; }
vcf_bytes=$(stat -c %s "$data/big.vcf.gz")
records=$(bcftools index -n "$data/big.vcf.gz" 2>/dev/null || zcat "$data/big.vcf.gz" | grep -vc '^#' || true)

port=${PORT:-7390}
base=http://127.0.0.1:$port
start_server() {
  sleep 1000000 | "$bin" serve -q "$node" --listen "127.0.0.1:$port" --until-stdin-closes 2>>"$work/serve.err" &
  serve_pid=$!
  for _ in $(seq 100); do curl -sf "$base/info" >/dev/null 2>&1 && break; sleep 0.1; done
  [ "$(cat /proc/$serve_pid/comm)" = oresund ] || { echo "delivery.sh: pid $serve_pid is not the server" >&2; exit 1; }
}
start_server
start_kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$serve_pid/status")

# What HTTP over this loopback allows: the body file, whole, by sendfile(2), one client at a time.
cat > "$work/sendfile_server.py" <<'PY'
import os, socket, sys
path, port = sys.argv[1], int(sys.argv[2])
server = socket.create_server(("127.0.0.1", port))
while True:
    conn, _ = server.accept()
    with conn, open(path, "rb") as f:
        request = b""
        while b"\r\n\r\n" not in request:
            more = conn.recv(65536)
            if not more:
                break
            request += more
        head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % os.fstat(f.fileno()).st_size
        conn.sendall(head)
        conn.sendfile(f)
PY
python3 "$work/sendfile_server.py" "$body" $((port + 1)) &
ceiling=http://127.0.0.1:$((port + 1))/
for _ in $(seq 100); do curl -sf -o /dev/null -r 0-0 "$ceiling" 2>/dev/null && break; sleep 0.1; done

# A fresh DRS crypt4gh access URL (data URLs carry a short-lived token; not timed).
drs_url() {
  curl -sf -H "Authorization: Bearer $token" -H "Htsget-Context-Public-Key: $pubkey" \
    "$base/ga4gh/drs/v1/objects/$accession/access/crypt4gh" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["url"])'
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$serve_pid/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$serve_pid/stat"; }
mbps() { awk -v b="$1" -v s="$2" 'BEGIN {printf "%.0f", b / s / 1e6}'; }
median3() { printf '%s\n' "$@" | sort -g | sed -n 2p; }

# --- 1. whole-file Crypt4GH download vs cat -------------------------------------------------
# Once first: warms the page cache and the server's layout cache, and checks the stream: it must
# decrypt, with the researcher's key, to the file the DRS object describes (its SHA-256).
cat "$body" >/dev/null
url=$(drs_url)
check=$(curl -sf "$url" | "$bin" c4gh decrypt --sk "$work/researcher.sec" | sha256sum | cut -d' ' -f1)
want=$(curl -sf -H "Authorization: Bearer $token" "$base/ga4gh/drs/v1/objects/$accession" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["checksums"][0]["checksum"])')
[ "$check" = "$want" ] || { echo "delivery.sh: the Crypt4GH download decrypts to $check, DRS says $want" >&2; exit 1; }
log "download check: decrypts to the DRS object's sha-256 $want"
declare -a cat_mbps curl_mbps sendfile_mbps ratios ceiling_ratios cpu_per_gb
rounds_md=""
for round in 1 2 3; do
  t0=$(date +%s.%N); cat "$body" >/dev/null; t1=$(date +%s.%N)
  cat_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')
  read -r sent sendfile_s < <(curl -sf -o /dev/null -w '%{size_download} %{time_total}\n' "$ceiling")
  [ "$sent" = "$size" ] || { echo "delivery.sh: the sendfile server sent $sent bytes, body is $size" >&2; exit 1; }
  url=$(drs_url)
  c0=$(cpu_ticks)
  read -r got curl_s < <(curl -sf -o /dev/null -w '%{size_download} %{time_total}\n' "$url")
  c1=$(cpu_ticks)
  [ "$got" -gt "$size" ] || { echo "delivery.sh: download of $got bytes, body is $size" >&2; exit 1; }
  c=$(mbps "$size" "$cat_s") f=$(mbps "$size" "$sendfile_s") d=$(mbps "$got" "$curl_s")
  cat_mbps+=("$c") sendfile_mbps+=("$f") curl_mbps+=("$d")
  ratios+=("$(awk -v d="$d" -v c="$c" 'BEGIN {printf "%.3f", d / c}')")
  ceiling_ratios+=("$(awk -v d="$d" -v f="$f" 'BEGIN {printf "%.3f", d / f}')")
  cpu_per_gb+=("$(awk -v t=$((c1 - c0)) -v b="$got" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", t / hz / (b / 1e9)}')")
  log "round $round: cat $c MB/s ($cat_s s), sendfile server $f MB/s ($sendfile_s s)," \
    "oresund crypt4gh $d MB/s ($got bytes, $curl_s s, server CPU ${cpu_per_gb[-1]} s/GB)"
  rounds_md+="| $round | $c | $f | $d | ${ratios[-1]} | ${ceiling_ratios[-1]} | ${cpu_per_gb[-1]} |"$'\n'
done
cat_med=$(median3 "${cat_mbps[@]}") curl_med=$(median3 "${curl_mbps[@]}") ratio_med=$(median3 "${ratios[@]}")
sendfile_med=$(median3 "${sendfile_mbps[@]}") ceiling_med=$(median3 "${ceiling_ratios[@]}")
after1_kb=$(rss_kb)

# --- 2. ticket latency ----------------------------------------------------------------------
latency=$(python3 - "$port" "$token" "$accession" "$pubkey" <<'EOF'
import http.client, json, sys, time
port, token, accession, pubkey = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
region = f"/variants/{accession}?referenceName=22&start=16000000&end=17000000"
asks = {
    "ticket": (region, {"Authorization": f"Bearer {token}"}),
    "ticket_c4gh": (region + "&encryptionScheme=C4GH",
                    {"Authorization": f"Bearer {token}", "Htsget-Context-Public-Key": pubkey}),
    "info": ("/info", {}),
}
conn = http.client.HTTPConnection("127.0.0.1", int(port))
def ask(name):
    path, headers = asks[name]
    t = time.perf_counter()
    conn.request("GET", path, headers=headers)
    r = conn.getresponse()
    body = r.read()
    dt = time.perf_counter() - t
    if r.status != 200:
        sys.exit(f"{name}: HTTP {r.status}: {body[:300]!r}")
    return dt, body
for name in asks:  # warm-up, and a look at the answer
    for _ in range(5):
        _, body = ask(name)
ticket = json.loads(ask("ticket")[1])["htsget"]
times = {name: [] for name in asks}
for _ in range(200):  # interleaved, so that load from elsewhere hits each alike
    for name in asks:
        times[name].append(ask(name)[0])
out = {"urls": len(ticket["urls"]),
       "data_urls": sum(not u["url"].startswith("data:") for u in ticket["urls"])}
for name, ts in times.items():
    ts.sort()
    out[name] = {"p50": ts[99] * 1e3, "p99": ts[197] * 1e3, "max": ts[-1] * 1e3}
print(json.dumps(out))
EOF
)
lat() { python3 -c 'import json, sys; d = json.loads(sys.argv[1]); print("%.2f" % d[sys.argv[2]][sys.argv[3]] if sys.argv[3] else d[sys.argv[2]])' "$latency" "$1" "${2:-}"; }
log "latency: $latency"

# --- 3. RSS with 8 concurrent downloads -----------------------------------------------------
# On a server started afresh, so the figure is the downloads' own, not what the allocator kept
# from the ticket runs above (reported too: the RSS before this restart).
busy_kb=$(rss_kb)
kill "$serve_pid"
# (Not `wait`: that waits for the whole `sleep | serve` pipeline.)
for _ in $(seq 100); do kill -0 "$serve_pid" 2>/dev/null || break; sleep 0.1; done
start_server
urls=(); for i in 1 2 3 4 5 6 7 8; do urls+=("$(drs_url)"); done
sleep 1
idle_kb=$(rss_kb)
peak_kb=$idle_kb
t0=$(date +%s.%N)
pids=()
for i in 0 1 2 3 4 5 6 7; do
  curl -sf -o /dev/null -w '%{size_download}\n' "${urls[$i]}" > "$work/dl$i" &
  pids+=($!)
done
running=8
while [ "$running" -gt 0 ]; do
  kb=$(rss_kb); [ "$kb" -gt "$peak_kb" ] && peak_kb=$kb
  running=0; for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && running=$((running + 1)); done
  sleep 0.1
done
t1=$(date +%s.%N)
fail=0; for p in "${pids[@]}"; do wait "$p" || fail=$((fail + 1)); done
[ "$fail" = 0 ] || { echo "delivery.sh: $fail of 8 downloads failed" >&2; exit 1; }
total=$(cat "$work"/dl* | awk '{s += $1} END {printf "%.0f", s}')
eight_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')
sleep 1
after_kb=$(rss_kb)
log "8 downloads: $total bytes in $eight_s s; RSS idle $idle_kb kB, peak $peak_kb kB, after $after_kb kB"
errors=$(grep -ci 'error\|panic' "$work/serve.err" || true)

# --- report ---------------------------------------------------------------------------------
mb() { awk -v k="$1" 'BEGIN {printf "%.1f", k * 1024 / 1e6}'; }
yes_no() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN {ok = (op == ">=") ? v >= t : v < t; print ok ? "✔" : "✘"}'; }
p99=$(lat ticket p99) info_p99=$(lat info p99)
cat <<EOF
# Delivery (htsget 1.3 / DRS 1.5) on loopback

- Date: $(date -u +%Y-%m-%dT%H:%MZ)
- Command: \`bench/delivery.sh$([ "$size_mib" = 100 ] && echo ' --quick')\` ($build)
- Machine: $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p')), $(free -g | awk '/^Mem:/ {print $2 " GiB RAM, " $7 " GiB available"}'); server, curl and cat share the cores
- Input: \`$data/big.vcf.gz\` from \`python3 bench/gen_big_vcf.py --out $data --size-mib $size_mib --samples $samples --info-bytes $info_bytes --seed $seed\`: $records records on 22, $samples samples, $vcf_bytes bytes bgzipped; ingested in $ingest_s s (\`oresund ingest\`, wall)
- Archived body (Crypt4GH, node key): \`archive/…/$(basename "$body")\`, $size bytes; accession $accession
- Download check: the Crypt4GH stream decrypts (\`oresund c4gh decrypt\`) to the DRS object's SHA-256

## 1. Whole file as Crypt4GH (DRS access id \`crypt4gh\`) vs \`cat\` of the archived body

\`curl -s -o /dev/null URL\` vs \`cat BODY > /dev/null\`, page cache warm, 3 rounds alternating (MB = 10^6 bytes).
As a reference for what HTTP over this loopback allows, the same body file from a minimal
Python server by sendfile(2), fetched by the same curl command. Server CPU: utime + stime of \`oresund serve\`
during the download.

| round | cat MB/s | sendfile server MB/s | oresund crypt4gh MB/s | oresund / cat | oresund / sendfile | server CPU s per GB |
|---:|---:|---:|---:|---:|---:|---:|
$rounds_md
## 2. Ticket latency, 1 Mb region (\`referenceName=22&start=16000000&end=17000000\`)

200 sequential requests each, interleaved, one keep-alive connection (Python http.client); the
plain ticket has $(lat urls) URLs ($(lat data_urls) data URLs, the rest \`data:\`).

| request | p50 | p99 | max |
|---|---:|---:|---:|
| ticket | $(lat ticket p50) ms | $(lat ticket p99) ms | $(lat ticket max) ms |
| ticket, \`encryptionScheme=C4GH\` | $(lat ticket_c4gh p50) ms | $(lat ticket_c4gh p99) ms | $(lat ticket_c4gh max) ms |
| \`GET /info\` (reference) | $(lat info p50) ms | $(lat info p99) ms | $(lat info max) ms |

## 3. Server memory, 8 concurrent whole-file Crypt4GH downloads

VmRSS of \`oresund serve\` from /proc every 100 ms: $(mb "$start_kb") MB just started, $(mb "$after1_kb") MB after
section 1, $(mb "$busy_kb") MB after section 2; restarted for this section: $(mb "$idle_kb") MB idle
before the downloads (access URLs issued), peak $(mb "$peak_kb") MB,
1 s after $(mb "$after_kb") MB; the 8 downloads ($total bytes) took $eight_s s
($(mbps "$total" "$eight_s") MB/s together). Server log lines with "error" or "panic": $errors.

## Summary

| measure | oresund | reference | ratio | target |
|---|---:|---:|---:|---|
| whole-file Crypt4GH download, median of 3 | $curl_med MB/s | cat: $cat_med MB/s | **$ratio_med** | ≥ 0.8 $(yes_no "$ratio_med" 0.8 ">=") |
| same, against a bare sendfile(2) server | $curl_med MB/s | sendfile server: $sendfile_med MB/s | $ceiling_med | |
| ticket p99, 1 Mb region | $p99 ms | \`/info\` p99: $info_p99 ms | $(awk -v a="$p99" -v b="$info_p99" 'BEGIN {printf "%.1f", a / b}') | < 5 ms $(yes_no "$p99" 5 "<") |
| serve peak RSS, 8 × whole file at once | $(mb "$peak_kb") MB | idle: $(mb "$idle_kb") MB | $(awk -v a="$peak_kb" -v b="$idle_kb" 'BEGIN {printf "%.1f", a / b}') | < 100 MB $(yes_no "$(mb "$peak_kb")" 100 "<") |
EOF
echo
echo "Ratios in the first two rows are medians of the per-round ratios; MB/s are medians of the rounds."
