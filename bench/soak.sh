#!/usr/bin/env bash
# Soak (issue #17): MINUTES (default 10) of Beacon and network queries, mixed operator tokens and
# broker-signed passports, at 70% of the throughput the same mix reached unthrottled in this run,
# on two nodes (DK and SE of demo-data) behind a portal. Passes when no request failed (wrk: no
# non-2xx answer, no socket error), each server's anonymous memory (RssAnon: heap and stacks) at
# the end is within 10% of what it was after the first minute (file-backed memory, the SQLite
# files the node maps, grows with the audit log and is reported beside it), and each node's audit
# chain verifies and grew by at least one record per answered request. Embedded always; PostgreSQL + S3 too when ./test provides them:
#
#   ./test --no-install --run bench/soak.sh [MINUTES]
#   SOAK_BACKENDS=embedded bench/soak.sh [MINUTES]     (one backend)
#
# Load: two wrk processes at once, one thread each — the Beacon mix on DK (bench/soak.lua: six
# requests, GET and POST, boolean and count, two variants, a phenotype filter; token and passport
# alternate) and pooled network queries through the portal (passport). wrk has no fixed-rate mode:
# the rate is held by connections that each wait 5 ms between requests, their number calibrated.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-10}
. bench/scratch.sh demo-data
machine "$minutes min per backend"
backends=(embedded)
[ -n "${ORESUND_TEST_POSTGRES_URL:-}" ] && [ -n "${ORESUND_TEST_S3_ENDPOINT:-}" ] && backends+=(postgres)
[ -z "${SOAK_BACKENDS:-}" ] || read -ra backends <<< "$SOAK_BACKENDS"

# The broker's keys, served for the nodes' JWKS fetches, and one passport for every request.
. bench/broker.sh
broker_start "$work/keys"
passport=$(broker_passport "$work/keys" soak urn:oresund:soak)
token=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')

# Two common biallelic SNVs of DK (carried by more than a tenth of the samples): the budget charges
# nothing for them, so every request is answered.
samples=$(bcftools query -l "$data/DK.vcf.gz" | wc -l)
mapfile -t variants < <(zcat "$data/DK.vcf.gz" | grep -v '^#' | awk -v min=$((samples / 10)) 'NR>=2000 && $5 !~ /,/ && length($4)==1 && length($5)==1 {n=gsub(/0\/1|1\/1/,"&"); if (n>min) {print $2-1, $4, $5; if (++k == 2) exit}}')
export SOAK_VARIANTS="${variants[0]};${variants[1]}" SOAK_TOKEN=$token SOAK_PASSPORT=$passport

summary() { awk '/Requests\/sec/ {rps=$2} $1=="50%" {p50=$2} $1=="99%" {p99=$2} END {printf "%s requests/s, p50 %s, p99 %s", rps, p50, p99}' "$1"; }
requests() { awk '/requests in/ {print $1}' "$1"; }
failures() { awk '/Non-2xx|Socket errors/' "$1"; }
# The chain's length, from `oresund audit verify` (which settles the journal first).
# Anonymous memory (heap, stacks: what a leak grows) and file-backed memory (the SQLite files the
# node maps, which grow with its audit log and which the kernel can reclaim), in kB.
rss() { awk '/^RssAnon:/ {a=$2} /^RssFile:/ {f=$2} END {print a, f}' "/proc/$1/status"; }
head_seq() { "$bin" audit verify "$1" 2>&1 | sed -n 's/^audit log intact: \([0-9]*\) entries.*/\1/p'; }

status=0
databases=()
for backend in "${backends[@]}"; do
  echo "== $backend"
  dir="$work/$backend"
  mkdir "$dir"
  peers="$dir/peers.toml"
  echo "timeout_ms = 5000" > "$peers"
  port=7410
  pids=()
  for population in DK SE; do
    port=$((port + 1))
    node="$dir/$population"
    storage=()
    if [ "$backend" = postgres ]; then
      db="soak_$(date +%s)_$population"
      db=${db,,}
      psql -qX "$ORESUND_TEST_POSTGRES_URL" -c "CREATE DATABASE $db"
      databases+=("$db")
      export AWS_ACCESS_KEY_ID=$ORESUND_TEST_S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$ORESUND_TEST_S3_SECRET_ACCESS_KEY
      curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -X PUT "$ORESUND_TEST_S3_ENDPOINT/${db//_/-}"
      storage=(--catalog "${ORESUND_TEST_POSTGRES_URL%/*}/$db" --archive "s3://${db//_/-}?endpoint=$ORESUND_TEST_S3_ENDPOINT")
    fi
    secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
    "$bin" init -q "$node" --node-id "$population-NODE" --country "$population" --reference "$data/reference.fa.gz" --hpo "$hpo" "${storage[@]}"
    "$bin" ingest -q "$node" --dataset "$population" --individuals "$data/$population.individuals.tsv" "$data/$population.vcf.gz"
    echo "$token" | "$bin" token add -q "$node" --user soak-operator --registered --token-stdin
    printf '\n[access]\naudiences = ["urn:oresund:soak"]\n[[access.issuers]]\niss = "https://broker.test"\njku = ["http://127.0.0.1:7398/broker.jwks.json"]\n' >> "$node/oresund.toml"
    printf '\n[[network.peers]]\nid = "PORTAL"\ncountry = "EU"\nsecret = "%s"\n' "$secret" >> "$node/oresund.toml"
    printf '\n[[peers]]\nid = "%s-NODE"\ncountry = "%s"\nurl = "http://127.0.0.1:%s"\nsecret = "%s"\n' "$population" "$population" "$port" "$secret" >> "$peers"
    sleep 1000000 | "$bin" serve -q "$node" --listen "127.0.0.1:$port" --until-stdin-closes &
    pids+=($!)
  done
  "$bin" portal -q --peers "$peers" --listen 127.0.0.1:7410 &
  portal=$!
  sleep 2
  servers=("${pids[@]}") # a background pipeline's $! is its last process: serve

  # The records one request leaves: the mix once (six requests, one record each on DK is what a
  # Beacon request leaves), one network query.
  before=("$(head_seq "$dir/DK")" "$(head_seq "$dir/SE")")
  SOAK_ONCE=1 wrk -t1 -c1 -d2s -s bench/soak.lua http://127.0.0.1:7411 > "$dir/once.txt"
  mix=$(requests "$dir/once.txt")
  read -r pos ref alt <<< "${variants[0]}"
  network="/network/g_variants?referenceName=22&start=$pos&referenceBases=$ref&alternateBases=$alt&requestedGranularity=count"
  curl -sf -H "Authorization: Bearer $passport" "http://127.0.0.1:7410$network" | grep -q '"exists":true'
  one=("$(head_seq "$dir/DK")" "$(head_seq "$dir/SE")")
  per_network_dk=$(( one[0] - before[0] - mix ))
  per_network_se=$(( one[1] - before[1] ))
  echo "records: the mix once ($mix requests) and one network query left $(( one[0] - before[0] )) on DK, $per_network_se on SE"

  # The unthrottled rate of the mix, both loads at once.
  wrk -t1 -c8 -d10s --latency -s bench/soak.lua http://127.0.0.1:7411 > "$dir/max-beacon.txt" &
  max_wrk=$!
  SOAK_PATH=$network wrk -t1 -c4 -d10s --latency -s bench/soak.lua http://127.0.0.1:7410 > "$dir/max-network.txt"
  wait "$max_wrk"
  echo "unthrottled: Beacon mix $(summary "$dir/max-beacon.txt"); network $(summary "$dir/max-network.txt")"
  # wrk's delay is whole milliseconds, so the rate is held by the number of connections, each
  # waiting DELAY_MS between requests: a first guess (1 ms per request), then one correction from
  # a 5 s run of both loads at once.
  rate() { awk '/Requests\/sec/ {print $2}' "$1"; }
  target_beacon=$(awk -v r="$(rate "$dir/max-beacon.txt")" 'BEGIN {print 0.7 * r}')
  target_network=$(awk -v r="$(rate "$dir/max-network.txt")" 'BEGIN {print 0.7 * r}')
  guess() { awk -v t="$1" -v d="$delay_ms" 'BEGIN {c = int(t * (d + 1) / 1000 + 0.5); print c < 1 ? 1 : c}'; }
  correct() { awk -v c="$1" -v t="$2" -v r="$(rate "$3")" 'BEGIN {c = int(c * t / r + 0.5); print c < 1 ? 1 : c}'; }
  delay_ms=5
  beacon_c=$(guess "$target_beacon")
  network_c=$(guess "$target_network")
  SOAK_DELAY_MS=$delay_ms wrk -t1 -c"$beacon_c" -d5s -s bench/soak.lua http://127.0.0.1:7411 > "$dir/calibrate-beacon.txt" &
  calibrate_wrk=$!
  SOAK_DELAY_MS=$delay_ms SOAK_PATH=$network wrk -t1 -c"$network_c" -d5s -s bench/soak.lua http://127.0.0.1:7410 > "$dir/calibrate-network.txt"
  wait "$calibrate_wrk"
  beacon_c=$(correct "$beacon_c" "$target_beacon" "$dir/calibrate-beacon.txt")
  network_c=$(correct "$network_c" "$target_network" "$dir/calibrate-network.txt")
  echo "soak: $minutes min at 70% of that ($target_beacon and $target_network requests/s): $beacon_c and $network_c connections, $delay_ms ms between a connection's requests"

  start=("$(head_seq "$dir/DK")" "$(head_seq "$dir/SE")")
  SOAK_DELAY_MS=$delay_ms wrk -t1 -c"$beacon_c" -d"${minutes}m" --latency -s bench/soak.lua http://127.0.0.1:7411 > "$dir/soak-beacon.txt" &
  beacon_wrk=$!
  SOAK_DELAY_MS=$delay_ms SOAK_PATH=$network wrk -t1 -c"$network_c" -d"${minutes}m" --latency -s bench/soak.lua http://127.0.0.1:7410 > "$dir/soak-network.txt" &
  network_wrk=$!
  : > "$dir/rss.tsv"
  for ((second = 0; second < minutes * 60; second += 10)); do
    sleep 10
    echo "$((second + 10)) $(rss "${servers[0]}") $(rss "${servers[1]}") $(rss "$portal")" >> "$dir/rss.tsv"
  done
  wait "$beacon_wrk" "$network_wrk"
  echo "Beacon mix: $(requests "$dir/soak-beacon.txt") requests, $(summary "$dir/soak-beacon.txt")"
  echo "network: $(requests "$dir/soak-network.txt") requests, $(summary "$dir/soak-network.txt")"
  for file in "$dir/soak-beacon.txt" "$dir/soak-network.txt"; do
    if [ -n "$(failures "$file")" ]; then echo "FAIL: $(basename "$file"): $(failures "$file")"; status=1; fi
  done
  # RSS: the sample after the first minute against the last, per process (run at least 2
  # minutes). The check is on anonymous memory; file-backed memory is reported beside it.
  awk 'NR == 6 {for (i = 2; i <= 7; i++) first[i] = $i} {for (i = 2; i <= 7; i++) { last[i] = $i; if ($i > max[i]) max[i] = $i }}
    END { split("DK SE portal", who, " ");
      for (p = 0; p < 3; p++) { a = 2 + 2 * p; f = a + 1; r = last[a] / first[a];
        printf "RSS %s: anonymous %.1f MB after 1 min, %.1f MB at the end (max %.1f): %.3f; file-backed %.1f -> %.1f MB\n", who[p + 1], first[a]/1024, last[a]/1024, max[a]/1024, r, first[f]/1024, last[f]/1024;
        if (r > 1.10) bad = 1 }
      exit bad }' "$dir/rss.tsv" || { echo "FAIL: anonymous memory grew by more than 10%"; status=1; }
  sed 's/^/rss.tsv: /' "$dir/rss.tsv" | awk 'NR % 6 == 0'

  # Stop the servers (SIGTERM: they drain and move their journals in), then check the chains.
  kill "$portal" "${pids[@]}" 2>/dev/null || true
  while kill -0 "${pids[@]}" 2>/dev/null; do sleep 0.2; done
  beacon_n=$(requests "$dir/soak-beacon.txt")
  network_n=$(requests "$dir/soak-network.txt")
  for i in 0 1; do
    node=("DK" "SE")
    verify=$("$bin" audit verify "$dir/${node[$i]}" 2>&1) || { echo "FAIL: ${node[$i]}: $verify"; status=1; continue; }
    grown=$(( $(head_seq "$dir/${node[$i]}") - start[i] ))
    if [ "$i" = 0 ]; then expected=$(( beacon_n + network_n * per_network_dk )); else expected=$(( network_n * per_network_se )); fi
    echo "audit ${node[$i]}: $verify; $grown new records for $expected answered requests' records"
    [ "$grown" -ge "$expected" ] || { echo "FAIL: ${node[$i]}: $((expected - grown)) records missing"; status=1; }
  done
  if [ "$backend" = postgres ]; then
    for db in "${databases[@]}"; do psql -qX "$ORESUND_TEST_POSTGRES_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true; done
  fi
done
exit $status
