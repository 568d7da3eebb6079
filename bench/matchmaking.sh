#!/usr/bin/env bash
# Matchmaking (issue 13): ranking N synthetic cases (default 100,000; features drawn from the HPO
# gene annotations, seed 7) in process; one clinician's match over HTTP on one node and across
# two countries (each node N cases); and patientMatcher 4.7.0's own scoring (PyPI, mongomock,
# offline) against ours on the same 2,000 cases in the same run.
#
#   bench/matchmaking.sh [N] [QUERIES]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
q=${2:-200}
. bench/scratch.sh ''
cargo build --release -q -p oresund-match --example rank_cases
rank=$PWD/target/release/examples/rank_cases
pids=()
# Servers are stopped with SIGINT, so that they shut down as they would.
trap 'for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done; scratch_cleanup' EXIT
machine "$n cases, $q queries"

echo "== in process (oresund-match CaseIndex, seed 7)"
"$rank" "$n" "$q" 7 "$work/dk" 2>/dev/null
"$rank" "$n" 1 8 "$work/se" >/dev/null 2>&1

echo "== patientMatcher 4.7.0 internal_matcher vs ours, the same 2,000 cases and 50 queries"
venv=${ORESUND_BENCH_PM_VENV:-$HOME/.cache/oresund-bench-patientmatcher}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check 'patientmatcher==4.7.0' 'mongomock==4.3.0'
"$rank" 2000 50 7 "$work/small" 2>/dev/null
"$venv/bin/python" bench/patientmatcher_bench.py "$work/small/cases.json" "$work/small/queries.json" 2>/dev/null

echo "== over HTTP: one node, then two countries (each with $n cases)"
mk() {
  "$bin" init -q "$work/$1" --node-id "$1" --country "$2" --reference demo-data/reference.fa.gz --hpo demo-data/hp.obo.gz
  "$bin" mme add -q "$work/$1" "$work/$3/cases.json" --submitter "bench@$1" --cross-border >/dev/null
}
start=$(date +%s.%N)
mk DK DK dk
echo "imported $n cases into DK in $(echo "$(date +%s.%N) - $start" | bc) s"
mk SE SE se
token=$("$bin" token add "$work/DK" --user dr.bench@rh.dk --clinician 2>/dev/null)
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
serve() {
  "$bin" serve -q "$work/$1" --listen "127.0.0.1:$2" >/dev/null 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$2/info" && return; sleep 0.1; done
}
dk_port=$(port)
serve DK "$dk_port"
python3 -c "import json,sys; json.dump(json.load(open(sys.argv[1]))[:5], open(sys.argv[2],'w'))" "$work/dk/queries.json" "$work/warm.json"
python3 bench/mme_load.py "127.0.0.1:$dk_port" "$token" "$work/warm.json" "warm-up (loads the index)" >/dev/null
python3 bench/mme_load.py "127.0.0.1:$dk_port" "$token" "$work/dk/queries.json" "one node"
kill -INT "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
se_port=$(port)
dk_to_se=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
printf '%s\n' "$dk_to_se" | "$bin" mme partner -q "$work/SE" --id DK --accept-token-stdin
printf '%s\n' "$dk_to_se" | "$bin" mme partner -q "$work/DK" --id SE --url "http://127.0.0.1:$se_port/mme/match" --token-stdin
serve SE "$se_port"
dk_port=$(port)
serve DK "$dk_port"
python3 bench/mme_load.py "127.0.0.1:$dk_port" "$token" "$work/warm.json" "warm-up" >/dev/null
python3 bench/mme_load.py "127.0.0.1:$dk_port" "$token" "$work/dk/queries.json" "two countries"
