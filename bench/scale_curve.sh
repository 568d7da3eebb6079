#!/usr/bin/env bash
# Scale curve (issue #19): cohorts of 1,000, 5,000 and 20,000 samples over the same 10 Mb of
# chr22 from the project's generator (seed 11). For each: ingest wall time and peak RSS against
# `bcftools norm -f REF -m -any -Ob` in the same run, index bytes per genotype (node.db over
# normalised variants x samples), in-process single-variant and 1 Mb region p50/p99
# (examples/query_latency, HP:0000707 with descendants), and Beacon requests/s (`wrk -c8 -d10s`, a
# registered count query for a common SNV). Writes bench/scale-curve.tsv and bench/scale-curve.svg.
#
#   bench/scale_curve.sh [COHORT_DIR...]   (default bench-data-1000 bench-data bench-data-20000)
#
# A missing cohort is made by bench/gen_cohort.py with N from its name's number (5,000 for
# bench-data). Criteria: single-variant p99 grows at most 2x from the smallest to the largest
# cohort; index bytes per genotype fall or stay flat.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- bench-data-1000 bench-data bench-data-20000
. bench/cohort.sh
for data in "$@"; do
  n=${data##*-}
  [[ $n =~ ^[0-9]+$ ]] || n=5000
  N=$n cohort "$data"
done
cargo build --release -q -p oresund
cargo build --release -q -p oresund-node --example query_latency
bin=$PWD/target/release/oresund
latency=$PWD/target/release/examples/query_latency
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(date -u +%Y-%m-%dT%H:%MZ), $(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes'), bcftools $(bcftools --version | head -1 | cut -d' ' -f2)"
table=bench/scale-curve.tsv
printf 'samples\tvariants\tingest_s\tbcftools_norm_s\tingest_ratio\tingest_rss_mb\tindex_bytes\tbytes_per_genotype\tsingle_p50_us\tsingle_p99_us\tregion_p50_ms\tregion_p99_ms\tbeacon_rps\n' > "$table"
port=7600
for data in "$@"; do
  samples=$(bcftools query -l "$data/DK.vcf.gz" | wc -l)
  node=$work/node-$samples
  "$bin" init -q "$node" --node-id BENCH --country DK --reference "$data/reference.fa.gz" --hpo "$hpo"
  /usr/bin/time -f "%e %M" -o "$work/norm.time" \
    bcftools norm -f "$data/reference.fa.gz" -m -any -Ob -o "$work/norm.bcf" "$data/DK.vcf.gz" 2> /dev/null
  /usr/bin/time -f "%e %M" -o "$work/ingest.time" \
    "$bin" ingest -q "$node" --dataset DK --individuals "$data/DK.individuals.tsv" "$data/DK.vcf.gz"
  read -r norm_s _ < "$work/norm.time"
  read -r ingest_s ingest_kb < "$work/ingest.time"
  variants=$(bcftools view -H "$work/norm.bcf" | wc -l)
  index=$(stat -c %s "$node/node.db")
  "$latency" "$node" HP:0000707 20000 > "$work/latency.txt"
  single=$(grep '^single variant' "$work/latency.txt")
  region=$(grep '^1 Mb region,' "$work/latency.txt")
  field() { echo "$1" | grep -o "$2=[0-9.]*" | cut -d= -f2; }
  # Beacon: a common biallelic SNV (carried by over a tenth of the samples, at most 500).
  min=$((samples / 10 < 500 ? samples / 10 : 500))
  read -r pos ref alt < <(zcat "$data/DK.vcf.gz" | grep -v '^#' | awk -v min=$min 'NR>=2000 && $5 !~ /,/ && length($4)==1 && length($5)==1 {n=gsub(/0\/1|1\/1/,"&"); if (n>min) {print $2-1, $4, $5; exit}}')
  token=$("$bin" token add "$node" --user bench --registered 2> /dev/null)
  port=$((port + 1))
  sleep 1000000 | "$bin" serve -q "$node" --listen "127.0.0.1:$port" --until-stdin-closes 2> /dev/null &
  url="http://127.0.0.1:$port/g_variants?referenceName=22&start=$pos&referenceBases=$ref&alternateBases=$alt&requestedGranularity=count&filters=HP:0000707"
  until curl -sf -H "Authorization: Bearer $token" "$url" > /dev/null; do sleep 0.2; done
  wrk -t1 -c8 -d10s -H "Authorization: Bearer $token" "$url" > "$work/wrk.txt"
  rps=$(awk '/Requests\/sec/ {printf "%.0f", $2}' "$work/wrk.txt")
  kill %% 2> /dev/null || true
  awk -v s="$samples" -v v="$variants" -v i="$ingest_s" -v b="$norm_s" -v kb="$ingest_kb" -v x="$index" \
    -v sp50="$(field "$single" p50)" -v sp99="$(field "$single" p99)" \
    -v rp50="$(field "$region" p50)" -v rp99="$(field "$region" p99)" -v rps="$rps" \
    'BEGIN {printf "%d\t%d\t%.2f\t%.2f\t%.3f\t%.1f\t%d\t%.4f\t%.1f\t%.1f\t%.2f\t%.2f\t%d\n", s, v, i, b, i / b, kb / 1024, x, x / (v * s), sp50, sp99, rp50 / 1000, rp99 / 1000, rps}' >> "$table"
  tail -1 "$table"
done
column -t "$table"
python3 bench/scale_curve_plot.py "$table" bench/scale-curve.svg
awk -F'\t' 'NR == 2 {p = $10; b = $8} END {
  printf "single-variant p99 %s -> %s us (%.2fx; criterion <= 2x); bytes per genotype %s -> %s (%s)\n", p, $10, $10 / p, b, $8, ($8 <= b * 1.02) ? "flat or falling" : "rising"
}' "$table"
