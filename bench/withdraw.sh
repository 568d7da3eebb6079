#!/usr/bin/env bash
# Withdrawing one person (issue 15): `oresund withdraw` on a node holding the 5,000-sample, 10 Mb
# cohort — decrypting the archived VCF, dropping the column, re-compressing and encrypting the new
# version, updating the variant index, shredding the old version — against what the file alone
# takes with bcftools: `bcftools view -s ^ID -Oz` on the same plaintext VCF. RUNS rounds, each on
# a fresh copy of the ingested node, alternating which tool goes first; wall time and peak RSS.
#
#   bench/withdraw.sh [COHORT_DIR]      (default: bench-data, made by gen_cohort.py with N=5000,
#                                        LENGTH=10000000, SEED=11 if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
. bench/scratch.sh "${1:-bench-data}"
samples=$(bcftools query -l "$data/DK.vcf.gz" | wc -l)
machine "$(bcftools --version | head -1), cohort $data ($samples samples, $(du -h "$data/DK.vcf.gz" | cut -f1))"
node="$work/node"
"$bin" init -q "$node" --node-id BENCH --country DK --reference "$data/reference.fa.gz" --hpo "$hpo"
"$bin" ingest -q "$node" --dataset DK --individuals "$data/DK.individuals.tsv" "$data/DK.vcf.gz"
# Seconds and peak RSS (MB) of a command, from GNU time.
measure() {
  /usr/bin/time -f '%e %M' -o "$work/time" "$@" > /dev/null 2>&1
  awk '{printf "%s %.0f", $1, $2 / 1024}' "$work/time"
}
for run in $(seq "$RUNS"); do
  # A different person each round, from the middle of the file.
  id=$(sed -n "$((run * 997 % samples + 2))p" "$data/DK.individuals.tsv" | cut -f1)
  rm -rf "$work/copy" && cp -a "$node" "$work/copy"
  sync
  if [ $((run % 2)) -eq 1 ]; then
    ours=$(measure "$bin" withdraw "$work/copy" --individual "$id" --reason bench)
    theirs=$(measure bcftools view -s "^$id" -Oz -o "$work/out.vcf.gz" "$data/DK.vcf.gz")
  else
    theirs=$(measure bcftools view -s "^$id" -Oz -o "$work/out.vcf.gz" "$data/DK.vcf.gz")
    ours=$(measure "$bin" withdraw "$work/copy" --individual "$id" --reason bench)
  fi
  read -r ours_s ours_mb <<< "$ours"
  read -r theirs_s theirs_mb <<< "$theirs"
  "$bin" archive list "$work/copy" | awk -F'\t' '$2 == "vcf" && $10 != 2 {exit 1}'
  echo "run $run: oresund withdraw ${ours_s}s (peak RSS ${ours_mb} MB), bcftools view -s ^ID -Oz ${theirs_s}s (${theirs_mb} MB): ratio $(echo "$ours_s / $theirs_s" | bc -l | cut -c1-4)"
done
