#!/usr/bin/env bash
# Beacon v2 load test (issue 4): a sequence query at count granularity with a phenotype filter
# (HP:0000707 and descendants), registered caller, `wrk` on loopback, for cohorts of several sizes.
#
#   bench/beacon.sh [--baseline REV] [--scrape] COHORT_DIR [COHORT_DIR...]     (DK.vcf.gz of each is served)
#
# With --baseline, git revision REV is built too (in a temporary worktree, release) and each
# measurement runs on both builds, alternating, each on its own node; the ratio current/baseline
# of requests/s is printed (the machines are shared and noisy: compare within one run only).
# BASELINE_BIN=PATH uses an oresund binary already built from REV instead of building it.
# With --scrape, the current build also runs as `scraped`: its own node, with `curl /metrics`
# every second during its rounds, as Prometheus would (issue 16: the cost of metrics).
#
# Each COHORT_DIR that does not exist is made by bench/gen_cohort.py with N individuals per
# population (default 5000; LENGTH and SEED as in bench/cohort.sh). The cohorts in BENCHMARKS.md:
#   python3 bench/gen_cohort.py --out bench-data-1000 --n 1000 --length 10000000 --seed 11
#   bench/beacon.sh bench-data-1000 bench-data
#
# The server and wrk share the machine's cores; wrk gets one thread.
set -euo pipefail
cd "$(dirname "$0")/.."
baseline="" scrape=""
if [ "${1:-}" = --scrape ]; then scrape=1; shift; fi
if [ "${1:-}" = --baseline ]; then baseline=$2; shift 2; fi
if [ "${1:-}" = --scrape ]; then scrape=1; shift; fi
[ $# -gt 0 ] || { echo "usage: bench/beacon.sh [--baseline REV] [--scrape] COHORT_DIR [COHORT_DIR...]" >&2; exit 1; }
. bench/cohort.sh
for data in "$@"; do cohort "$data"; done
cargo build --release -q -p oresund
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; [ ! -d "$work/baseline-src" ] || git worktree remove --force "$work/baseline-src"; rm -rf "$work"' EXIT
cp target/release/oresund "$work/oresund-current"
builds=(current)
if [ -n "$baseline" ] && [ -n "${BASELINE_BIN:-}" ]; then
  cp "$BASELINE_BIN" "$work/oresund-baseline"
  builds=(baseline current)
  echo "baseline: $(git rev-parse --short "$baseline") (prebuilt $BASELINE_BIN), current: $(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes')"
elif [ -n "$baseline" ]; then
  git worktree add -q --detach "$work/baseline-src" "$baseline"
  # Its own target dir, seeded with ours so unchanged dependencies are not rebuilt.
  mkdir -p "$work/baseline-target" && cp -a target/release "$work/baseline-target/"
  (cd "$work/baseline-src" && CARGO_TARGET_DIR="$work/baseline-target" cargo build --release -q -p oresund)
  cp "$work/baseline-target/release/oresund" "$work/oresund-baseline"
  rm -rf "$work/baseline-target"
  builds=(baseline current)
  echo "baseline: $(git rev-parse --short "$baseline"), current: $(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes')"
fi
if [ -n "$scrape" ]; then cp "$work/oresund-current" "$work/oresund-scraped"; builds+=(scraped); fi
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(date -u +%Y-%m-%dT%H:%MZ), $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
port=7300
for data in "$@"; do
  samples=$(bcftools query -l "$data/DK.vcf.gz" | wc -l)
  # A common biallelic SNV (more than 500 carriers in the VCF), so the answer has real counts.
  read -r pos ref alt < <(zcat "$data/DK.vcf.gz" | grep -v '^#' | awk 'NR>=2000 && $5 !~ /,/ && length($4)==1 && length($5)==1 {n=gsub(/0\/1|1\/1/,"&"); if (n>500) {print $2-1, $4, $5; exit}}')
  declare -A url token metrics
  for build in "${builds[@]}"; do
    bin=$work/oresund-$build node="$work/$build-$(basename "$data")"
    "$bin" init -q "$node" --node-id BENCH --country DK --reference "$data/reference.fa.gz" --hpo "$hpo"
    "$bin" ingest -q "$node" --dataset DK --individuals "$data/DK.individuals.tsv" "$data/DK.vcf.gz"
    token[$build]=$("$bin" token add "$node" --user bench --registered 2>/dev/null)
    port=$((port + 1))
    sleep 1000000 | "$bin" serve -q "$node" --listen "127.0.0.1:$port" --until-stdin-closes 2>/dev/null &
    metrics[$build]="http://127.0.0.1:$port/metrics"
    url[$build]="http://127.0.0.1:$port/g_variants?referenceName=22&start=$pos&referenceBases=$ref&alternateBases=$alt&requestedGranularity=count&filters=HP:0000707"
  done
  sleep 1
  for build in "${builds[@]}"; do curl -sf -H "Authorization: Bearer ${token[$build]}" "${url[$build]}" >/dev/null; done
  for connections in 8 16; do
    declare -A total=()
    # Three alternating rounds, so that a noisy neighbour hits both builds alike.
    for round in 1 2 3; do
      for build in "${builds[@]}"; do
        scraper=""
        if [ "$build" = scraped ]; then
          (while true; do curl -sf "${metrics[$build]}" >/dev/null; sleep 1; done) &
          scraper=$!
        fi
        wrk -t1 -c$connections -d10s --latency -H "Authorization: Bearer ${token[$build]}" "${url[$build]}" > "$work/wrk.txt"
        if [ -n "$scraper" ]; then kill "$scraper"; wait "$scraper" 2>/dev/null || true; fi
        rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
        p50=$(awk '$1=="50%" {print $2}' "$work/wrk.txt")
        p99=$(awk '$1=="99%" {print $2}' "$work/wrk.txt")
        total[$build]=$(awk -v a="${total[$build]:-0}" -v b="$rps" 'BEGIN {print a + b}')
        echo "$build, $samples individuals, $connections connections, round $round: $rps requests/s, p50 $p50, p99 $p99"
      done
    done
    if [ -n "$baseline" ]; then
      awk -v c="${total[current]}" -v b="${total[baseline]}" -v n="$samples" -v k="$connections" \
        'BEGIN {printf "%d individuals, %d connections: current/baseline requests/s = %.3f\n", n, k, c / b}'
    fi
    if [ -n "$scrape" ]; then
      awk -v s="${total[scraped]}" -v c="${total[current]}" -v n="$samples" -v k="$connections" \
        'BEGIN {printf "%d individuals, %d connections: scraped/current requests/s = %.3f\n", n, k, s / c}'
    fi
  done
done
