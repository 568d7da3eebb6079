#!/usr/bin/env bash
# Fuzzes every parser of outside input (issue #17) with cargo-fuzz (libFuzzer) on the nightly
# toolchain: the VCF reader and ingest pipeline, the individuals file, Crypt4GH files, key files
# (Crypt4GH PEM, JWK sets), JWS tokens, Beacon requests, htsget/DRS/MME requests. Targets:
# fuzz/fuzz_targets/, their code fuzz/harness.rs.
#
#   bench/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]        (default 60 s, every target)
#   KEEP=1 bench/fuzz.sh 600                                (merge new coverage into fuzz/corpus/)
#
# Each target starts from its committed corpus (fuzz/corpus/TARGET) in a scratch copy; a crash is
# written to fuzz/artifacts/TARGET/ and fails the script. Fix it, then copy the input to
# fuzz/regressions/TARGET/: `cargo test -p oresund --test fuzz_corpora` replays corpus and
# regressions in the normal suite.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(vcf individuals c4gh keys jws beacon delivery)
command -v cargo-fuzz >/dev/null || cargo install -q cargo-fuzz --locked
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "machine: $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), $(cargo +nightly --version)"
for target in "${targets[@]}"; do
  mkdir -p "$work/$target"
  cp fuzz/corpus/"$target"/* "$work/$target/"
  cargo +nightly fuzz build -O "$target" --fuzz-dir fuzz 2>/dev/null || cargo +nightly fuzz build -O "$target" --fuzz-dir fuzz
  log="$work/$target.log"
  if ! cargo +nightly fuzz run -O "$target" --fuzz-dir fuzz "$work/$target" -- \
      -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 >"$log" 2>&1; then
    tail -40 "$log"
    echo "$target: CRASH (see fuzz/artifacts/$target/)" >&2
    exit 1
  fi
  runs=$(grep -o 'Done [0-9]* runs' "$log" | awk '{print $2}' | tail -1 || true)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}' || true)
  echo "$target: ${runs:-?} runs in ${seconds} s, coverage ${cov:-?} edges, $(ls "$work/$target" | wc -l) corpus inputs, no crash"
  if [ -n "${KEEP:-}" ]; then
    cargo +nightly fuzz cmin -O "$target" --fuzz-dir fuzz "$work/$target" >/dev/null 2>&1 || true
    cp "$work/$target"/* fuzz/corpus/"$target"/
  fi
done
