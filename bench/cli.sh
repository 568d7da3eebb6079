#!/usr/bin/env bash
# One question as a process (issue #19): `oresund query NODE --variant V` against
# `bcftools view -r CHR:POS NORM.bcf | bcftools +fill-tags -- -t AC,AN,AC_Het,AC_Hom,AC_Hemi`, the
# same counts from the normalised, indexed BCF, each run as a fresh process the way a person or a
# script asks one question at a time. Also with a phenotype filter (`--phenotype HP:0000707`),
# which parses the ontology. Medians over the variants (picked by a seeded shuffle), several
# rounds alternating the tools; the ratio is oresund / bcftools, measured in this run.
#
#   bench/cli.sh [COHORT_DIR] [VARIANTS]      (default bench-data, the 5,000-sample cohort; 30)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${2:-30}
. bench/scratch.sh "${1:-bench-data}"
machine "bcftools $(bcftools --version | head -1 | cut -d' ' -f2)"
echo "input: $data/DK.vcf.gz, $(zcat "$data/DK.vcf.gz" | grep -m1 '^#CHROM' | awk '{print NF-9}') samples"
"$bin" init -q "$work/node" --node-id BENCH --country DK --reference "$data/reference.fa.gz" --hpo "$hpo"
"$bin" ingest -q "$work/node" --dataset DK --individuals "$data/DK.individuals.tsv" "$data/DK.vcf.gz"
bcftools norm -f "$data/reference.fa.gz" -m -any -Ob -o "$work/norm.bcf" "$data/DK.vcf.gz" 2> /dev/null
bcftools index "$work/norm.bcf"
# Records after normalisation that someone carries, a seeded sample of them.
bcftools view -c1 "$work/norm.bcf" | bcftools query -f '%CHROM\t%POS\t%REF\t%ALT\n' - | awk 'BEGIN {srand(7)} {print rand() "\t" $0}' |
  sort -k1,1 | awk -v n="$count" 'NR <= n' | cut -f2- > "$work/variants.tsv"

# Wall time of one command in ms (the shell's own clock, no fork of date in between).
ms() { local start=$EPOCHREALTIME; "$@" > /dev/null; echo "$start $EPOCHREALTIME" | awk '{printf "%.2f\n", ($2 - $1) * 1000}'; }
bcftools_count() { bcftools view -r "$1:$2" "$work/norm.bcf" | bcftools +fill-tags -- -t AC,AN,AC_Het,AC_Hom,AC_Hemi; }
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# The answers agree before anything is timed: AC and AN of each variant from both tools.
while read -r chrom pos ref alt; do
  ours=$("$bin" query "$work/node" --variant "$chrom-$pos-$ref-$alt" --format tsv | awk -F'\t' 'NR == 2 {print $3, $4}')
  theirs=$(bcftools_count "$chrom" "$pos" | bcftools query -i "REF=\"$ref\" && ALT=\"$alt\"" -f '%AC %AN\n' -)
  [ "$ours" = "$theirs" ] || { echo "FAIL: $chrom-$pos-$ref-$alt: oresund $ours, bcftools $theirs" >&2; exit 1; }
done < "$work/variants.tsv"
echo "answers: AC and AN agree on all $count variants"

: > "$work/oresund.ms" && : > "$work/phenotype.ms" && : > "$work/bcftools.ms"
for round in 1 2 3; do
  while read -r chrom pos ref alt; do
    ms bcftools_count "$chrom" "$pos" >> "$work/bcftools.ms"
    ms "$bin" query "$work/node" --variant "$chrom-$pos-$ref-$alt" >> "$work/oresund.ms"
    ms "$bin" query "$work/node" --variant "$chrom-$pos-$ref-$alt" --phenotype HP:0000707 >> "$work/phenotype.ms"
  done < "$work/variants.tsv"
done
b=$(median < "$work/bcftools.ms")
o=$(median < "$work/oresund.ms")
p=$(median < "$work/phenotype.ms")
echo "bcftools view -r | +fill-tags: median $b ms over $((count * 3)) runs"
echo "oresund query --variant:        median $o ms ($(awk -v a="$o" -v b="$b" 'BEGIN {printf "%.2f", a / b}')x bcftools)"
echo "  with --phenotype HP:0000707:  median $p ms ($(awk -v a="$p" -v b="$b" 'BEGIN {printf "%.2f", a / b}')x bcftools)"
