#!/usr/bin/env bash
# `oresund report` over a long audit log (issue 16): wall time and peak RSS of the report over
# N entries (default 1,000,000, made by examples/fill_audit.rs), against reading and grouping the
# same rows with SQLite itself (Python's sqlite3: a GROUP BY month, action, decision over the
# table — the floor of any report that reads every entry) in the same run.
#
#   bench/report.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
. bench/scratch.sh ''
cargo build --release -q -p oresund-node --example fill_audit
machine "$n audit entries"
node="$work/node"
"$bin" init -q "$node" --node-id BENCH --country DK --reference demo-data/reference.fa.gz --hpo demo-data/hp.obo.gz
"$bin" ingest -q "$node" --dataset DK --individuals demo-data/DK.individuals.tsv demo-data/DK.vcf.gz
start=$(date +%s.%N)
target/release/examples/fill_audit "$node" "$n"
echo "filled in $(echo "$(date +%s.%N) - $start" | bc) s"
# Peak RSS counts the pages of the memory-mapped access.db the report reads (file-backed and
# reclaimable); the report's own memory is its anonymous RSS, sampled here every 20 ms.
peak_anon() {
  local peak=0 now
  while kill -0 "$1" 2>/dev/null; do
    now=$(awk '/^RssAnon:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0)
    [ "${now:-0}" -gt "$peak" ] && peak=$now
    sleep 0.02
  done
  echo "$peak"
}
for run in 1 2 3; do
  /usr/bin/time -f "report: %e s wall, %M KB peak RSS" "$bin" report -q "$node" --format json -o "$work/r.json" &
  sleep 0.05
  pid=$(pgrep -n -f "oresund report -q $node" || true)
  [ -z "$pid" ] || echo "report: $(peak_anon "$pid") KB peak anonymous RSS (sampled)"
  wait
  /usr/bin/time -f "sqlite3 GROUP BY: %e s wall, %M KB peak RSS" python3 -c "
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
rows = c.execute(\"SELECT substr(time, 1, 7), action, decision, count(*), sum(length(detail)) FROM audit_log GROUP BY 1, 2, 3\").fetchall()
" "$node/access.db"
done
python3 -c "import json; r = json.load(open('$work/r.json')); print('entries', r['auditEntries'], 'answered', r['usage']['answered'], 'refused', r['usage']['refused'])"
