#!/usr/bin/env bash
# Region counts on a node whose people come in one file per chromosome, as centres often deliver
# them (issue #19): the DK population ingested whole into one node and as one file per contig
# (`bcftools view -r`) into another, the same people in every file. Both nodes must give the same
# answers (examples/query_latency: every variant once, and 200 1 Mb windows, summed); the ratio is
# the split node's 1 Mb region p50 over the whole node's, in the same run. With OLD set to another
# build's query_latency example, that build reads the same two nodes first in each round.
#
#   bench/split_files.sh [COHORT_DIR]     (default bench-data; ROUNDS, default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-bench-data}
. bench/cohort.sh
cohort "$data"
cargo build --release -q -p oresund -p oresund-node --examples --bins
bin=target/release/oresund
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(date -u +%Y-%m-%dT%H:%MZ), $(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes')"
split=()
for contig in $(bcftools index -s "$data/DK.vcf.gz" | cut -f1); do
  bcftools view -r "$contig" -Oz -o "$work/DK.$contig.vcf.gz" "$data/DK.vcf.gz"
  split+=("$work/DK.$contig.vcf.gz")
done
for node in whole split; do
  "$bin" init -q "$work/$node" --node-id BENCH --country DK --reference "$data/reference.fa.gz" --hpo "$hpo"
done
"$bin" ingest -q "$work/whole" --dataset DK --individuals "$data/DK.individuals.tsv" "$data/DK.vcf.gz"
for file in "${split[@]}"; do
  "$bin" ingest -q "$work/split" --dataset DK --individuals "$data/DK.individuals.tsv" "$file" 2> /dev/null
done
echo "input: $data DK, $(bcftools query -l "$data/DK.vcf.gz" | wc -l) samples; split into ${#split[@]} files"

p50() { sed -n 's/.*1 Mb region.* p50=\([0-9.]*\) µs.*/\1/p' "$1"; }
for round in $(seq "${ROUNDS:-2}"); do
  for example in ${OLD:-} target/release/examples/query_latency; do
    for node in whole split; do
      "$example" "$work/$node" HP:0000707 2000 > "$work/$node.txt"
      echo "round $round, $example, $node: $(grep '1 Mb region,' "$work/$node.txt")"
    done
    for what in '^every variant' 'AC summed'; do
      [ "$(grep "$what" "$work/whole.txt")" = "$(grep "$what" "$work/split.txt")" ] ||
        { echo "FAIL: the nodes answered differently ($what)" >&2; grep "$what" "$work"/*.txt >&2; exit 1; }
    done
    echo "round $round, $example: split / whole region p50 $(awk -v s="$(p50 "$work/split.txt")" -v w="$(p50 "$work/whole.txt")" 'BEGIN {printf "%.2f", s / w}')"
  done
done
