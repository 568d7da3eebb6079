#!/usr/bin/env bash
# Controlled access (issue 6): what passports and the audit log cost a node's Beacon throughput.
# The same count query as bench/beacon.sh (a common SNV, HP:0000707 with descendants), asked by a
# registered caller with an operator token and with a GA4GH passport (broker-signed RS256, two
# registered-access visas, minted by crates/oresund/tests/oracles/passports.py; the broker's JWKS
# served by `python3 -m http.server`). Every request is audited; the budget is on (common variants
# cost nothing). Also the in-process cost of verifying a passport that is not cached.
#
#   bench/access.sh [COHORT_DIR]      (default demo-data, its 500-person cohort; DK.vcf.gz is served)
#
# A COHORT_DIR that does not exist is made by bench/gen_cohort.py (N, LENGTH, SEED as in
# bench/cohort.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/scratch.sh "${1:-demo-data}"
cargo build --release -q -p oresund-access --example passport_verification
machine "$(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
target/release/examples/passport_verification 2000

node="$work/node"
"$bin" init -q "$node" --node-id BENCH --country DK --reference "$data/reference.fa.gz" --hpo "$hpo"
"$bin" ingest -q "$node" --dataset DK --individuals "$data/DK.individuals.tsv" "$data/DK.vcf.gz"
token=$("$bin" token add "$node" --user bench --registered 2>/dev/null)
. bench/broker.sh
broker_start "$work/keys"
printf '\n[access]\naudiences = ["urn:oresund:bench"]\n[[access.issuers]]\niss = "https://broker.test"\njku = ["http://127.0.0.1:7398/broker.jwks.json"]\n' >> "$node/oresund.toml"
passport=$(broker_passport "$work/keys" bench urn:oresund:bench)
sleep 1000000 | "$bin" serve -q "$node" --listen 127.0.0.1:7399 --until-stdin-closes &
sleep 1
# A common biallelic SNV (carried by more than a third of the samples), as in bench/beacon.sh.
samples=$(bcftools query -l "$data/DK.vcf.gz" | wc -l)
read -r pos ref alt < <(zcat "$data/DK.vcf.gz" | grep -v '^#' | awk -v min=$((samples / 3)) 'NR>=2000 && $5 !~ /,/ && length($4)==1 && length($5)==1 {n=gsub(/0\/1|1\/1/,"&"); if (n>min) {print $2-1, $4, $5; exit}}')
url="http://127.0.0.1:7399/g_variants?referenceName=22&start=$pos&referenceBases=$ref&alternateBases=$alt&requestedGranularity=count&filters=HP:0000707"
for who in token passport; do
  credential=$token
  [ "$who" = passport ] && credential=$passport
  granularity=$(curl -sf -H "Authorization: Bearer $credential" "$url" | python3 -c 'import json,sys; print(json.load(sys.stdin)["meta"]["returnedGranularity"])')
  for connections in 8 16; do
    wrk -t1 -c$connections -d10s --latency -H "Authorization: Bearer $credential" "$url" > "$work/wrk.txt"
    rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
    p50=$(awk '$1=="50%" {print $2}' "$work/wrk.txt")
    p99=$(awk '$1=="99%" {print $2}' "$work/wrk.txt")
    echo "$who ($granularity), $connections connections: $rps requests/s, p50 $p50, p99 $p99"
  done
done
"$bin" audit verify "$node"
