#!/usr/bin/env bash
# Counts on nodes whose people come in several files, as centres deliver them (issue #19): the DK
# population ingested whole into one node, as one file per contig (`bcftools view -r`, the same
# people in every file) into a second, and as BATCHES files of different people (`bcftools view
# -S`, default 10) into a third. All three must give the same answers (examples/query_latency:
# every variant once, and 200 1 Mb windows, summed); the ratios are each split node's single-variant
# and 1 Mb region p50 over the whole node's, in the same run. With OLD set to another build's
# query_latency example, that build reads the same nodes first in each round.
#
#   bench/split_files.sh [COHORT_DIR]     (default bench-data; ROUNDS, default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/scratch.sh "${1:-bench-data}"
cargo build --release -q -p oresund-node --example query_latency
machine
split=()
for contig in $(bcftools index -s "$data/DK.vcf.gz" | cut -f1); do
  bcftools view -r "$contig" -Oz -o "$work/DK.$contig.vcf.gz" "$data/DK.vcf.gz"
  split+=("$work/DK.$contig.vcf.gz")
done
bcftools query -l "$data/DK.vcf.gz" > "$work/samples.txt"
split -n "l/${BATCHES:-10}" -d "$work/samples.txt" "$work/batch."
batches=()
for list in "$work"/batch.[0-9]*; do
  bcftools view -S "$list" -Oz -o "$list.vcf.gz" "$data/DK.vcf.gz"
  batches+=("$list.vcf.gz")
done
for node in whole split batches; do
  "$bin" init -q "$work/$node" --node-id BENCH --country DK --reference "$data/reference.fa.gz" --hpo "$hpo"
done
"$bin" ingest -q "$work/whole" --dataset DK --individuals "$data/DK.individuals.tsv" "$data/DK.vcf.gz"
for file in "${split[@]}"; do
  "$bin" ingest -q "$work/split" --dataset DK --individuals "$data/DK.individuals.tsv" "$file" 2> /dev/null
done
for file in "${batches[@]}"; do
  "$bin" ingest -q "$work/batches" --dataset DK --individuals "$data/DK.individuals.tsv" "$file"
done
echo "input: $data DK, $(wc -l < "$work/samples.txt") samples; by contig ${#split[@]} files, in batches ${#batches[@]} files"
for node in whole split batches; do echo "$node: node.db $(stat -c %s "$work/$node/node.db") bytes"; done

p50() { sed -n "s/.*$2.* p50=\([0-9.]*\) µs.*/\1/p" "$1"; }
ratio() { awk -v s="$(p50 "$work/$1.txt" "$2")" -v w="$(p50 "$work/whole.txt" "$2")" 'BEGIN {printf "%.2f", s / w}'; }
for round in $(seq "${ROUNDS:-2}"); do
  for example in ${OLD:-} target/release/examples/query_latency; do
    for node in whole split batches; do
      "$example" "$work/$node" HP:0000707 5000 > "$work/$node.txt"
      echo "round $round, $example, $node: $(grep 'single variant' "$work/$node.txt"); $(grep '1 Mb region,' "$work/$node.txt")"
    done
    for node in split batches; do
      for what in '^every variant' 'AC summed'; do
        [ "$(grep "$what" "$work/whole.txt")" = "$(grep "$what" "$work/$node.txt")" ] ||
          { echo "FAIL: $node answered differently ($what)" >&2; grep "$what" "$work"/*.txt >&2; exit 1; }
      done
      echo "round $round, $example: $node / whole, single-variant p50 $(ratio "$node" 'single variant'), 1 Mb region p50 $(ratio "$node" '1 Mb region')"
    done
  done
done
