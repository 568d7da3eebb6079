#!/usr/bin/env bash
# Ingest and count benchmark (issue 2): `oresund ingest` vs `bcftools norm -f REF -m -any -Ob` on
# the same VCF, peak memory, index bytes vs BCF bytes, and in-process query latency.
#
#   bench/node.sh [COHORT_DIR]     (default bench-data/)
#
# A missing COHORT_DIR is made first by `python3 bench/gen_cohort.py --out COHORT_DIR --n 5000
# --length 10000000 --seed 11` (a minute or two on 2 cores; bench/cohort.sh installs msprime
# if needed). Environment: N (individuals per population, default 5000), LENGTH (bases
# simulated on chr22, default 10000000), SEED (default 11) for that cohort.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/scratch.sh "${1:-bench-data}"
cargo build --release -q -p oresund-node --example query_latency

machine
echo "input: $data/DK.vcf.gz, $(zcat "$data/DK.vcf.gz" | grep -vc '^#') records, $(zcat "$data/DK.vcf.gz" | grep -m1 '^#CHROM' | awk '{print NF-9}') samples, $(stat -c %s "$data/DK.vcf.gz") bytes"
"$bin" init -q "$work/node" --node-id BENCH --country DK --reference "$data/reference.fa.gz" --hpo "$hpo"
for run in 1 2 3; do
  rm -f "$work/dk.bcf"
  /usr/bin/time -f "bcftools norm      run $run: %e s wall, %M KB peak RSS" \
    bcftools norm -f "$data/reference.fa.gz" -m -any -Ob -o "$work/dk.bcf" "$data/DK.vcf.gz" 2>&1 | grep -v '^Lines'
  rm -rf "$work/run" && cp -r "$work/node" "$work/run"
  /usr/bin/time -f "oresund ingest     run $run: %e s wall, %M KB peak RSS" \
    "$bin" ingest -q "$work/run" --dataset DK --individuals "$data/DK.individuals.tsv" "$data/DK.vcf.gz"
done
echo "index: $(stat -c %s "$work/run/node.db") bytes (node.db); normalised BCF: $(stat -c %s "$work/dk.bcf") bytes"
target/release/examples/query_latency "$work/run" HP:0000707 20000
