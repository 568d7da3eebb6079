#!/usr/bin/env bash
# Beacon v2 load test (issue 4): a sequence query at count granularity with a phenotype filter
# (HP:0000707 and descendants), registered caller, `wrk` on loopback, for cohorts of several sizes.
#
#   bench/beacon.sh COHORT_DIR [COHORT_DIR...]     (DK.vcf.gz of each is served)
#
# Each COHORT_DIR that does not exist is made by bench/gen_cohort.py with N individuals per
# population (default 5000; LENGTH and SEED as in bench/cohort.sh). The cohorts in BENCHMARKS.md:
#   python3 bench/gen_cohort.py --out bench-data-1000 --n 1000 --length 10000000 --seed 11
#   bench/beacon.sh bench-data-1000 bench-data
#
# The server and wrk share the machine's cores; wrk gets one thread.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || { echo "usage: bench/beacon.sh COHORT_DIR [COHORT_DIR...]" >&2; exit 1; }
. bench/cohort.sh
for data in "$@"; do cohort "$data"; done
cargo build --release -q -p oresund
bin=$PWD/target/release/oresund
work=$(mktemp -d)
trap 'rm -rf "$work"; kill $(jobs -p) 2>/dev/null || true' EXIT
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(date -u +%Y-%m-%dT%H:%MZ), $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
port=7300
for data in "$@"; do
  node="$work/$(basename "$data")"
  "$bin" init -q "$node" --node-id BENCH --country DK --reference "$data/reference.fa.gz" --hpo "$hpo"
  "$bin" ingest -q "$node" --dataset DK --individuals "$data/DK.individuals.tsv" "$data/DK.vcf.gz"
  token=$("$bin" token add "$node" --user bench --registered 2>/dev/null)
  port=$((port + 1))
  sleep 1000000 | "$bin" serve -q "$node" --listen "127.0.0.1:$port" --until-stdin-closes &
  sleep 1
  # A common biallelic SNV (more than 500 carriers in the VCF), so the answer has real counts.
  read -r pos ref alt < <(zcat "$data/DK.vcf.gz" | grep -v '^#' | awk 'NR>=2000 && $5 !~ /,/ && length($4)==1 && length($5)==1 {n=gsub(/0\/1|1\/1/,"&"); if (n>500) {print $2-1, $4, $5; exit}}')
  url="http://127.0.0.1:$port/g_variants?referenceName=22&start=$pos&referenceBases=$ref&alternateBases=$alt&requestedGranularity=count&filters=HP:0000707"
  samples=$(bcftools query -l "$data/DK.vcf.gz" | wc -l)
  curl -sf -H "Authorization: Bearer $token" "$url" >/dev/null
  for connections in 8 16; do
    wrk -t1 -c$connections -d10s --latency -H "Authorization: Bearer $token" "$url" > "$work/wrk.txt"
    rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
    p50=$(awk '$1=="50%" {print $2}' "$work/wrk.txt")
    p99=$(awk '$1=="99%" {print $2}' "$work/wrk.txt")
    echo "$samples individuals, $connections connections: $rps requests/s, p50 $p50, p99 $p99"
  done
done
