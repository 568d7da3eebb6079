#!/usr/bin/env bash
# Association latency (issue 14): `POST /network/association` for a 1 Mb region through a portal
# asking two nodes (DK and SE of a cohort made by bench/gen_cohort.py), a CONTROLLED caller, cases
# HP:0001250 and everyone else as controls; against what one would do on one machine holding all
# the genotypes, in the same run: bcftools norm + merge + annotate, then `plink1.9 --bd` (CMH and
# Breslow–Day) on the same region, with country as the stratum.
#
#   bench/association.sh [--quick] [COHORT_DIR]   (default bench-data; demo-data for the
#                                                  500-person cohorts)
#
# A missing COHORT_DIR is made by `python3 bench/gen_cohort.py --n 5000 --length 10000000
# --seed 11` (N, LENGTH, SEED as in bench/cohort.sh): a 1 Mb window of it holds about 6,500
# variants once multi-allelic records are split. The region is the 1 Mb around the cohort's
# planted disease variant (truth.json). REQUESTS sequential requests (default 200; --quick 20)
# after a warm-up, one connection each (curl); the pipeline RUNS times (default 3; --quick 1),
# median. The full run also times the pipeline once on whole files (norm of the whole VCFs).
set -euo pipefail
cd "$(dirname "$0")/.."
quick=
if [ "${1:-}" = --quick ]; then quick=1; shift; fi
requests=${REQUESTS:-$([ -n "$quick" ] && echo 20 || echo 200)}
runs=${RUNS:-$([ -n "$quick" ] && echo 1 || echo 3)}
. bench/scratch.sh "${1:-bench-data}"
machine
term=HP:0001250
reference=$data/reference.fa.gz
# The 1 Mb around the planted variant (0-based start, exclusive end), e.g. [20,500,000, 21,500,000).
disease=$(sed -n 's/.*"pos": *\([0-9]*\).*/\1/p' "$data/truth.json")
start=$((disease / 1000000 * 1000000 - 500000))
end=$((start + 1000000))
region="22:$((start + 1))-$end"
samples=$(bcftools query -l "$data/DK.vcf.gz" | wc -l)
echo "cohort: $data, $samples individuals per country; region $region (start $start, end $end)"
for population in DK SE; do
  echo "$population: $(bcftools view -H -r "$region" "$data/$population.vcf.gz" | wc -l) records in the region," \
    "$(tail -n +2 "$data/$population.individuals.tsv" | cut -f4 | tr ',' '\n' | grep -cx "$term") cases ($term)"
done

# Two nodes and a portal on loopback; one CONTROLLED token on both nodes for their dataset.
token=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
port=7400
peers="$work/peers.toml"
echo "timeout_ms = 30000" > "$peers"
for population in DK SE; do
  port=$((port + 1))
  node="$work/$population"
  secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  "$bin" init -q "$node" --node-id "$population-NODE" --country "$population" --reference "$reference" --hpo "$hpo"
  "$bin" ingest -q "$node" --dataset "$population" --individuals "$data/$population.individuals.tsv" "$data/$population.vcf.gz"
  echo "$token" | "$bin" token add -q "$node" --user bench --registered --controlled "$population" --token-stdin > /dev/null
  printf '\n[[network.peers]]\nid = "PORTAL"\ncountry = "EU"\nsecret = "%s"\n' "$secret" >> "$node/oresund.toml"
  printf '\n[[peers]]\nid = "%s-NODE"\ncountry = "%s"\nurl = "http://127.0.0.1:%s"\nsecret = "%s"\n' "$population" "$population" "$port" "$secret" >> "$peers"
  sleep 1000000 | "$bin" serve -q "$node" --listen "127.0.0.1:$port" --until-stdin-closes &
done
"$bin" portal -q --peers "$peers" --listen 127.0.0.1:7400 &
body="{\"cases\": {\"filters\": [{\"id\": \"$term\"}]}, \"controls\": {\"filters\": []}, \"referenceName\": \"22\", \"start\": $start, \"end\": $end}"
post() { curl -s -H "Authorization: Bearer $token" -H 'Content-Type: application/json' --data-binary "$body" "$@"; }
for _ in $(seq 100); do  # until the portal and both nodes listen
  post -f -o "$work/answer.json" http://127.0.0.1:7400/network/association &&
    jq -e '.info.contributors | length == 2' "$work/answer.json" > /dev/null && break
  sleep 0.2
done
jq -e '.info.contributors | length == 2' "$work/answer.json" > /dev/null || { echo "not both nodes answered:" >&2; jq -c .info "$work/answer.json" >&2; exit 1; }
echo "answer: $(jq '.responseSummary.numTotalResults' "$work/answer.json") variants," \
  "$(jq '[.response.results[] | select(.countries | length == 2)] | length' "$work/answer.json") with both strata," \
  "$(wc -c < "$work/answer.json") bytes; nodes: $(jq -r '[.info.nodes[] | "\(.beaconId) \(.variants) variants, exact \(.exact), \(.latencyMs) ms"] | join("; ")' "$work/answer.json")"
echo "disease variant: $(jq -c --argjson pos "$disease" '.response.results[] | select(.position == $pos) | {variantInternalId, p, oddsRatio, countries}' "$work/answer.json")"

# Latency: REQUESTS sequential requests after 5 to warm up, each on its own connection.
summary() {  # times in seconds on stdin -> "p50 … ms, p99 … ms, max … ms" (nearest rank)
  sort -g | awk '{t[NR] = $1 * 1000} END {
    r50 = int(NR * 0.50 + 0.999); r99 = int(NR * 0.99 + 0.999)
    printf "p50 %.1f ms, p99 %.1f ms, max %.1f ms (%d requests)\n", t[r50], t[r99], t[NR], NR }'
}
measure() {  # URL NAME
  for _ in 1 2 3 4 5; do post -f -o /dev/null "$1"; done
  for _ in $(seq "$requests"); do
    post -o /dev/null -w '%{http_code} %{time_total}\n' "$1"
  done > "$work/times.txt"
  if awk '$1 != 200 {bad = 1} END {exit !bad}' "$work/times.txt"; then echo "$2: a request failed" >&2; exit 1; fi
  echo "$2: $(awk '{print $2}' "$work/times.txt" | summary)"
}
measure http://127.0.0.1:7400/network/association "network (portal, 2 nodes)"
p50=$(awk '{print $2}' "$work/times.txt" | sort -g | awk '{t[NR] = $1} END {print t[int(NR * 0.50 + 0.999)]}')
p99=$(awk '{print $2}' "$work/times.txt" | sort -g | awk '{t[NR] = $1} END {print t[int(NR * 0.99 + 0.999)]}')
measure http://127.0.0.1:7401/association "DK node alone (POST /association)"
kill $(jobs -p) 2>/dev/null || true

# One machine with all genotypes: normalise, merge, name the variants, then PLINK's CMH test.
pipeline() {  # DIR [whole]: the whole pipeline into DIR; prints the seconds of it and of plink alone
  local dir=$1 restrict=(-r "$region") t0 t1 t2
  [ "${2:-}" = whole ] && restrict=()
  mkdir -p "$dir"
  t0=$(date +%s.%N)
  for population in DK SE; do
    bcftools norm -f "$reference" -m -any "${restrict[@]}" "$data/$population.vcf.gz" 2>/dev/null |
      bcftools view -Oz -o "$dir/$population.vcf.gz"
    bcftools index -t "$dir/$population.vcf.gz"
  done
  bcftools merge -m none "$dir/DK.vcf.gz" "$dir/SE.vcf.gz" |
    bcftools annotate --set-id '%CHROM-%POS-%REF-%ALT' -Oz -o "$dir/merged.vcf.gz"
  for population in DK SE; do
    awk -F'\t' -v term="$term" -v pop="$population" -v pheno="$dir/pheno.txt" -v within="$dir/within.txt" 'NR > 1 {
      n = split($4, t, ","); status = 1; for (i = 1; i <= n; i++) if (t[i] == term) status = 2
      print $1 "\t" $1 "\t" status >> pheno; print $1 "\t" $1 "\t" pop >> within }' "$data/$population.individuals.tsv"
  done
  t1=$(date +%s.%N)
  plink1.9 --vcf "$dir/merged.vcf.gz" --double-id --keep-allele-order --allow-no-sex --pheno "$dir/pheno.txt" \
    --within "$dir/within.txt" --chr 22 --from-bp $((start + 1)) --to-bp "$end" --bd --out "$dir/cmh" > /dev/null
  t2=$(date +%s.%N)
  awk -v t0="$t0" -v t1="$t1" -v t2="$t2" 'BEGIN {print t2 - t0, t2 - t1}'
}
: > "$work/pipeline.txt"
for run in $(seq "$runs"); do
  pipeline "$work/pipeline-$run" >> "$work/pipeline.txt"
done
median() { sort -g | awk '{t[NR] = $1} END {print (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2}'; }
pipe=$(awk '{print $1}' "$work/pipeline.txt" | median)
plink=$(awk '{print $2}' "$work/pipeline.txt" | median)
echo "plink pipeline (norm -r region, merge, annotate, plink --bd), $runs runs: $(awk '{printf "%.2f s ", $1}' "$work/pipeline.txt")-> median $(printf %.2f "$pipe") s;" \
  "plink alone: median $(printf %.2f "$plink") s"
echo "plink: $(($(wc -l < "$work/pipeline-1/cmh.cmh") - 1)) variants in its CMH table;" \
  "disease variant: $(awk -v id="22-$disease-" 'NR == 1 {for (i = 1; i <= NF; i++) col[$i] = i}
    index($2, id) == 1 {print $2, "P", $col["P"], "OR", $col["OR"]}' "$work/pipeline-1/cmh.cmh")"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.4f", a / b}'; }
echo "ratio: network p50 / pipeline $(ratio "$p50" "$pipe"), p99 / pipeline $(ratio "$p99" "$pipe");" \
  "p50 / plink alone $(ratio "$p50" "$plink"), p99 / plink alone $(ratio "$p99" "$plink")"
if [ -z "$quick" ]; then
  read -r total _ < <(pipeline "$work/whole-files" whole)
  echo "the same pipeline normalising the whole VCFs (no -r), once: $(printf %.1f "$total") s"
fi
