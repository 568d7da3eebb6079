#!/usr/bin/env bash
# PostgreSQL single-variant lookups on cold data against one round trip (issue #19): the
# 5,000-sample cohort ingested into PostgreSQL, read by a node whose block cache holds 1 MiB
# (about 40 of the 1,060 blocks: nearly every lookup misses), in process (examples/query_latency,
# after counting every variant once), beside `pgbench -M prepared` `SELECT 1` on the same
# database, ROUNDS times (default 3). With OLD_QUERY_LATENCY set to another build's example, that
# build runs on the same node before this one in each round (the blocks are the same). This
# build's answers (every variant once, summed) must equal an embedded node's of the same cohort.
# Then the same without a cache (every lookup fetches its entries alone; answers checked too), and the parts of
# a lookup's query, each through pgbench (one client, 8 s): the primary-key probe, a 1 kB
# substring of a block, a whole block.
#
#   ./test --no-install --run bench/pg_cold.sh [COHORT_DIR]     (default bench-data)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/pg_scratch.sh cold "${1:-bench-data}"
"$bin" init -q "$work/node" --node-id BENCH --country DK --reference "$data/reference.fa.gz" --hpo "$hpo" \
  --catalog "$catalog" --archive "$archive"
"$bin" ingest -q "$work/node" --dataset DK --individuals "$data/DK.individuals.tsv" "$data/DK.vcf.gz"
"$bin" init -q "$work/embedded" --node-id BENCH --country DK --reference "$data/reference.fa.gz" --hpo "$hpo"
"$bin" ingest -q "$work/embedded" --dataset DK --individuals "$data/DK.individuals.tsv" "$data/DK.vcf.gz"
expected=$(target/release/examples/query_latency "$work/embedded" HP:0000707 1 | grep '^every variant')
echo "embedded: $expected"
sed -i "s/^block_cache_mb = .*/block_cache_mb = 1/" "$work/node/oresund.toml"
grep -q '^block_cache_mb = 1$' "$work/node/oresund.toml"
psql -AtX -F' ' "$catalog" -c "SELECT 'blocks:', count(*), 'mean bytes:', avg(octet_length(data))::int FROM blocks"

# Each pgbench script's per-transaction log, as p50 / p99 in µs.
pgbench_latency() {
  rm -f "$work"/q.[0-9]*
  (cd "$work" && pgbench -n -M prepared -c 1 -T "$2" -f q.sql -l --log-prefix=q "$catalog" > /dev/null 2>&1)
  awk '{print $3}' "$work"/q.[0-9]* | sort -n |
    awk -v name="$1" '{v[NR]=$1} END {printf "%-34s n=%d p50=%.1f µs p99=%.1f µs\n", name, NR, v[int(NR*0.5)], v[int(NR*0.99)]}'
}
for round in $(seq "${ROUNDS:-3}"); do
  for example in ${OLD_QUERY_LATENCY:-} target/release/examples/query_latency; do
    "$example" "$work/node" HP:0000707 20000 > "$work/latency.txt"
    echo "round $round, $example: $(grep single "$work/latency.txt")"
  done
  # This build's (the last run) answers, through heads and entries, against the embedded node's.
  answers=$(grep '^every variant' "$work/latency.txt")
  [ "$answers" = "$expected" ] || { echo "PostgreSQL answered differently: $answers" >&2; exit 1; }
  echo 'SELECT 1;' > "$work/q.sql"
  pgbench_latency "round $round, pgbench SELECT 1" 10
done
# Without a cache: each lookup fetches its entries alone, located by the block heads (a linked entry's
# block as well); the same answers.
cp -r "$work/node" "$work/uncached"
sed -i "s/^block_cache_mb = .*/block_cache_mb = 0/" "$work/uncached/oresund.toml"
target/release/examples/query_latency "$work/uncached" HP:0000707 20000 > "$work/latency.txt"
echo "no cache: $(grep single "$work/latency.txt")"
answers=$(grep '^every variant' "$work/latency.txt")
[ "$answers" = "$expected" ] || { echo "PostgreSQL without a cache answered differently: $answers" >&2; exit 1; }
read -r lo hi < <(psql -AtX -F' ' "$catalog" -c "SELECT min(id), max(id) FROM blocks")
part() {
  printf '%s\n' "\\set id random($lo, $hi)" "$2" > "$work/q.sql"
  pgbench_latency "$1" 8
}
echo 'SELECT 1;' > "$work/q.sql"
pgbench_latency "SELECT 1" 8
part "primary-key probe" "SELECT id FROM blocks WHERE id = :id;"
part "1 kB of a block (as a lookup)" "SELECT substring(data FROM 12001 FOR 1000) FROM blocks WHERE id = :id AND xmin::text::bigint > 0;"
part "whole block" "SELECT data FROM blocks WHERE id = :id;"
