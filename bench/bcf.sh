#!/usr/bin/env bash
# BCF input (issue 19): the cohort's VCF written as BCF by bcftools, then, alternating, three runs of
#   - reading it as VCF text: `bcf_to_vcf` (oresund-ingest's reader) vs `bcftools view --no-version`
#     (both to a checksum, which must agree);
#   - ingesting it: `oresund ingest FILE.bcf` vs `bcftools norm -f REF -m -any -Ob` on the BCF,
#     with `oresund ingest` of the VCF.gz beside them; wall time and peak RSS.
#
#   [OLD_ORESUND=BIN] bench/bcf.sh [COHORT_DIR]     (default bench-data/, made by bench/cohort.sh if missing)
#
# With OLD_ORESUND set to another build's binary, that build ingests the BCF too in each run, just
# before this one.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/scratch.sh "${1:-bench-data}"
cargo build --release -q -p oresund-ingest --example bcf_to_vcf

bcftools view --no-version -Ob -o "$work/DK.bcf" "$data/DK.vcf.gz"
machine
echo "input: $data/DK.vcf.gz as BCF, $(bcftools view -H "$work/DK.bcf" | wc -l) records, $(bcftools query -l "$work/DK.bcf" | wc -l) samples, $(stat -c %s "$work/DK.bcf") bytes"
"$bin" init -q "$work/node" --node-id BENCH --country DK --reference "$data/reference.fa.gz" --hpo "$hpo"
for run in 1 2 3; do
  theirs=$( { /usr/bin/time -f "bcftools view        run $run: %e s wall, %M KB peak RSS" \
    bcftools view --no-version "$work/DK.bcf" | md5sum; } 2>&1 )
  ours=$( { /usr/bin/time -f "bcf_to_vcf           run $run: %e s wall, %M KB peak RSS" \
    target/release/examples/bcf_to_vcf "$work/DK.bcf" | md5sum; } 2>&1 )
  echo "$theirs" | grep wall; echo "$ours" | grep wall
  [ "$(echo "$theirs" | grep -v wall)" = "$(echo "$ours" | grep -v wall)" ] || { echo "the texts differ" >&2; exit 1; }
  rm -f "$work/norm.bcf"
  /usr/bin/time -f "bcftools norm (BCF)  run $run: %e s wall, %M KB peak RSS" \
    bcftools norm -f "$data/reference.fa.gz" -m -any -Ob -o "$work/norm.bcf" "$work/DK.bcf" 2>&1 | grep -v '^Lines'
  for build in ${OLD_ORESUND:+"old:$OLD_ORESUND:$work/DK.bcf"} "new:$bin:$data/DK.vcf.gz" "new:$bin:$work/DK.bcf"; do
    IFS=: read -r name binary input <<< "$build"
    rm -rf "$work/run" && cp -r "$work/node" "$work/run"
    /usr/bin/time -f "oresund ingest $(basename "$input" | sed 's/DK\.//')${OLD_ORESUND:+ ($name)} run $run: %e s wall, %M KB peak RSS" \
      "$binary" ingest -q "$work/run" --dataset DK --individuals "$data/DK.individuals.tsv" "$input"
  done
done
echo "archived copy of the BCF's text: $("$bin" archive list "$work/run" | awk '$2 == "vcf" {print $4}') bytes plaintext"
