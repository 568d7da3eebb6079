#!/usr/bin/env bash
# Consent per person (issue 18): what restricting CONTROLLED answers to the people whose consent
# allows a grant's purpose costs. One node, the DK cohort; two operator tokens with controlled
# access: the staff's (everyone) and a researcher's for HMB research (reaches the people whose DUO
# consent allows HMB, about 4 in 5 of the synthetic cohort). For each: the first record answer
# after start (the HMB one builds who consents, once per catalog generation) and the throughput of
# the same record query (a 100 kb window, exact counts per variant). The reference is what the
# researcher would run on the file: `bcftools view -S consenting -r WINDOW | norm -m -any | +fill-tags`,
# timed on the same window in the same run.
#
#   bench/consent.sh [COHORT_DIR]      (default: bench-data/n5000-l2m, made by gen_cohort.py
#                                       with N=5000, LENGTH=2000000, SEED=11 if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-5000} LENGTH=${LENGTH:-2000000}
. bench/scratch.sh "${1:-bench-data/n$N-l$((LENGTH / 1000000))m}"
machine "$(bcftools --version | head -1), cohort $data ($(bcftools query -l "$data/DK.vcf.gz" | wc -l) samples)"

node="$work/node"
"$bin" init -q "$node" --node-id BENCH --country DK --reference "$data/reference.fa.gz" --hpo "$hpo"
"$bin" ingest -q "$node" --dataset DK --individuals "$data/DK.individuals.tsv" "$data/DK.vcf.gz"
staff=$("$bin" token add "$node" --user staff --controlled DK 2>/dev/null)
hmb=$("$bin" token add "$node" --user hmb --controlled DK --purpose HMB 2>/dev/null)
# Who the HMB grant reaches, by the DUOS rule for this cohort's codes (GRU or HMB; none of them
# carries a modifier that needs review).
awk -F'\t' 'NR > 1 && $6 ~ /DUO:0000042|DUO:0000006/ {print $1}' "$data/DK.individuals.tsv" > "$work/hmb.txt"
echo "HMB reaches $(wc -l < "$work/hmb.txt") of $(($(wc -l < "$data/DK.individuals.tsv") - 1)) people"

# A 100 kb window 1 Mb into the simulated region (Beacon 0-based start, exclusive end).
first=$(set +o pipefail; zcat "$data/DK.vcf.gz" | grep -v '^#' | head -1 | cut -f2)
start=$((first + 1000000)) end=$((first + 1100000))
url="http://127.0.0.1:7399/g_variants?referenceName=22&start=$start&end=$end&requestedGranularity=record&limit=1000"
serve() {
  sleep 1000000 | "$bin" serve -q "$node" --listen 127.0.0.1:7399 --until-stdin-closes &
  until curl -sf -o /dev/null http://127.0.0.1:7399/info; do sleep 0.1; done
}
stop() {
  kill $(jobs -p) 2>/dev/null || true
  wait 2>/dev/null || true
}
for who in staff hmb; do
  credential=${!who}
  serve
  first=$(curl -sf -o "$work/$who.json" -w '%{time_total}' -H "Authorization: Bearer $credential" "$url")
  records=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["response"]["resultSets"][0]["results"]))' "$work/$who.json")
  wrk -t1 -c8 -d10s --latency -H "Authorization: Bearer $credential" "$url" > "$work/wrk.txt"
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
  p50=$(awk '$1=="50%" {print $2}' "$work/wrk.txt")
  p99=$(awk '$1=="99%" {print $2}' "$work/wrk.txt")
  echo "$who: $records records; first answer ${first}s; 8 connections: $rps requests/s, p50 $p50, p99 $p99"
  stop
done
# The reference on the same window (1-based inclusive for bcftools), normalised and split as the
# node stores variants, so that both count the same records.
reference() {
  bcftools view -S "$work/hmb.txt" -r "22:$((start + 1))-$end" "$data/DK.vcf.gz" |
    bcftools norm -f "$data/reference.fa.gz" -m -any 2>/dev/null | bcftools +fill-tags -- -t AC,AN |
    bcftools view -H -i "AC>0 && POS>$start && POS<=$end" | wc -l
}
[ -f "$data/DK.vcf.gz.tbi" ] || tabix -p vcf "$data/DK.vcf.gz"
reference > /dev/null
t0=$(date +%s.%N)
for _ in 1 2 3 4 5; do reference > "$work/ref.txt"; done
t1=$(date +%s.%N)
echo "bcftools view -S hmb -r | norm -m -any | +fill-tags: $(cat "$work/ref.txt") records with AC>0, $(echo "($t1 - $t0) / 5" | bc -l | cut -c1-6) s per run"
