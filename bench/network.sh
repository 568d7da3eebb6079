#!/usr/bin/env bash
# Network latency (issue 5): a pooled two-node count query through a portal vs the same query to
# one node, same run, `wrk` on loopback. Nodes: DK and SE of a cohort made by bench/gen_cohort.py.
#
#   bench/network.sh [COHORT_DIR]      (default bench-data; demo-data for the 500-person cohorts)
#
# A missing COHORT_DIR is made by `python3 bench/gen_cohort.py --n 5000 --length 10000000
# --seed 11` (N, LENGTH, SEED as in bench/cohort.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/scratch.sh "${1:-bench-data}"
machine
token=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
port=7400
peers="$work/peers.toml"
echo "timeout_ms = 5000" > "$peers"
for population in DK SE; do
  port=$((port + 1))
  node="$work/$population"
  secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  "$bin" init -q "$node" --node-id "$population-NODE" --country "$population" --reference "$data/reference.fa.gz" --hpo "$hpo"
  "$bin" ingest -q "$node" --dataset "$population" --individuals "$data/$population.individuals.tsv" "$data/$population.vcf.gz"
  echo "$token" | "$bin" token add -q "$node" --user bench --registered --token-stdin
  printf '\n[[network.peers]]\nid = "PORTAL"\ncountry = "EU"\nsecret = "%s"\n' "$secret" >> "$node/oresund.toml"
  printf '\n[[peers]]\nid = "%s-NODE"\ncountry = "%s"\nurl = "http://127.0.0.1:%s"\nsecret = "%s"\n' "$population" "$population" "$port" "$secret" >> "$peers"
  sleep 1000000 | "$bin" serve -q "$node" --listen "127.0.0.1:$port" --until-stdin-closes &
done
"$bin" portal -q --peers "$peers" --listen 127.0.0.1:7400 &
sleep 1.5
# A common biallelic SNV (carried by more than a tenth of the samples, at most 500).
samples=$(bcftools query -l "$data/DK.vcf.gz" | wc -l)
min=$((samples / 10 < 500 ? samples / 10 : 500))
read -r pos ref alt < <(zcat "$data/DK.vcf.gz" | grep -v '^#' | awk -v min=$min 'NR>=2000 && $5 !~ /,/ && length($4)==1 && length($5)==1 {n=gsub(/0\/1|1\/1/,"&"); if (n>min) {print $2-1, $4, $5; exit}}')
query="referenceName=22&start=$pos&referenceBases=$ref&alternateBases=$alt&requestedGranularity=count&filters=HP:0000707"
curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:7400/network/g_variants?$query" | grep -q '"status":"ok"'
for connections in 4 8; do
  for target in "single node|http://127.0.0.1:7401/g_variants?$query" "network (2 nodes)|http://127.0.0.1:7400/network/g_variants?$query"; do
    name=${target%%|*}
    url=${target#*|}
    wrk -t1 -c$connections -d10s --latency -H "Authorization: Bearer $token" "$url" > "$work/wrk.txt"
    echo "$name, $connections connections: $(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt") requests/s, p50 $(awk '$1=="50%" {print $2}' "$work/wrk.txt"), p99 $(awk '$1=="99%" {print $2}' "$work/wrk.txt")"
  done
done
