#!/usr/bin/env bash
# What a registered user's refused Beacon answer costs the node (issue #19), beside what a
# controlled user's answer to the same question costs, in one run: a 1 Mb region at count
# granularity with a phenotype filter (HP:0000707 and descendants), `wrk -t1 -c1` on loopback.
#
#   [OLD_ORESUND=PATH] [ROUNDS=3] bench/budget_refusal.sh [COHORT_DIR]    (default bench-data-20000)
#   [OLD_ORESUND=PATH] ./test --no-install --run bench/budget_refusal.sh --postgres [COHORT_DIR]
#
# Per build and round:
#   first   — a new registered user's first such request, which the re-identification budget
#             refuses (HTTP 403): every rare variant's carriers costed and the charge booked;
#   locked  — a user refused before asks again: costed again (a repeat would be free), refused;
#   control — a controlled-access user gets the counts (HTTP 200), no budget.
# With OLD_ORESUND the other build serves the same node in turn (same schema needed).
# With --postgres the node's catalog is a scratch PostgreSQL database (bench/pg_scratch.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
postgres=""
if [ "${1:-}" = --postgres ]; then postgres=1; shift; fi
data=${1:-bench-data-20000}
if [ -n "$postgres" ]; then
  . bench/pg_scratch.sh refusal "$data"
  init_args=(--catalog "$catalog" --archive "$archive")
else
  export N=${N:-20000}
  . bench/scratch.sh "$data"
  init_args=()
  machine
fi
node=$work/node
"$bin" init -q "$node" --node-id BENCH --country DK --reference "$data/reference.fa.gz" --hpo "$hpo" "${init_args[@]}"
"$bin" ingest -q "$node" --dataset DK --individuals "$data/DK.individuals.tsv" "$data/DK.vcf.gz"
rounds=${ROUNDS:-3}
builds=(new)
[ -z "${OLD_ORESUND:-}" ] || builds=(old new)
token() { "$bin" token add -q "$node" "$@" 2>/dev/null; }
controlled=$(token --user bench-controlled --controlled DK --purpose GRU)
locked=$(token --user bench-locked --registered)
firsts=()
for i in $(seq $((rounds * ${#builds[@]} * 3))); do firsts+=("$(token --user "bench-first-$i" --registered)"); done
region() { echo "/g_variants?referenceName=22&start=$1&end=$(($1 + 999999))&requestedGranularity=count&filters=HP:0000707"; }
port=$((20000 + RANDOM % 20000))
serve() { # binary: starts it, waits until it answers
  "$1" serve -q "$node" --listen "127.0.0.1:$port" &
  server=$!
  for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/info" && return; sleep 0.1; done
  echo "serve did not start" >&2; exit 1
}
status() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" "http://127.0.0.1:$port$2"; }
latency() { # token path: "p50 p99" of wrk -c1 over 5 s
  wrk -t1 -c1 -d5s --latency -H "Authorization: Bearer $1" "http://127.0.0.1:$port$2" |
    awk '$1=="50%"{p50=$2} $1=="99%"{p99=$2} END{print p50, p99}'
}
serve "$bin"
[ "$(status "$locked" "$(region 17000000)")" = 403 ] || { echo "the registered user was not refused" >&2; exit 1; }
[ "$(status "$controlled" "$(region 17000000)")" = 200 ] || { echo "the controlled user got no answer" >&2; exit 1; }
kill "$server"; wait "$server" 2>/dev/null || true
next=0
for round in $(seq "$rounds"); do
  for build in "${builds[@]}"; do
    binary=$bin; [ "$build" = new ] || binary=$OLD_ORESUND
    serve "$binary"
    first=""
    for start in 16000000 17000000 18000000; do
      t=${firsts[$next]}; next=$((next + 1))
      first+=" $(curl -s -o /dev/null -w '%{http_code}:%{time_total}' -H "Authorization: Bearer $t" "http://127.0.0.1:$port$(region $start)")"
    done
    echo "round $round, $build: first$first | locked p50/p99 $(latency "$locked" "$(region 17000000)") | control p50/p99 $(latency "$controlled" "$(region 17000000)")"
    kill "$server"; wait "$server" 2>/dev/null || true
  done
done
