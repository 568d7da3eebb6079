#!/usr/bin/env bash
# Two builds on PostgreSQL, alternating in one run (issue #19): ingest of the 5,000-sample cohort
# into a fresh database and bucket by each (wall time, peak RSS, the database's size), then, on
# this build's node, each build's examples/query_latency (single variant and 1 Mb region with the
# default 64 MiB cache, after counting every variant once) beside an embedded node of the same
# cohort. The single-variant answers (every variant once, summed) must be the same for all three.
#
#   OLD_ORESUND=/path/to/old/oresund OLD_QUERY_LATENCY=/path/to/old/query_latency \
#     ROUNDS=3 ./test --no-install --run bench/pg_builds.sh [COHORT_DIR]
#
# The old build must open this build's database (same PostgreSQL schema version, or the examples
# fail with "too new"); build it with CARGO_TARGET_DIR elsewhere from a `git worktree`.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${OLD_ORESUND:?set OLD_ORESUND to the other build's oresund binary}"
: "${OLD_QUERY_LATENCY:?set OLD_QUERY_LATENCY to the other build's examples/query_latency}"
. bench/pg_scratch.sh builds "${1:-bench-data}"
databases=()
trap 'pg_scratch_cleanup; for d in "${databases[@]}"; do psql -qX "$ORESUND_TEST_POSTGRES_URL" -c "DROP DATABASE IF EXISTS $d WITH (FORCE)"; done' EXIT
# A node of its own database and bucket, made by `oresund` binary $2, in $work/$1; says what
# the ingest took after the label $3.
pg_node() {
  local name=$1 binary=$2 label=$3
  databases+=("$name")
  psql -qX "$ORESUND_TEST_POSTGRES_URL" -c "CREATE DATABASE $name"
  curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -X PUT "$ORESUND_TEST_S3_ENDPOINT/${name//_/-}"
  "$binary" init -q "$work/$name" --node-id BENCH --country DK --reference "$data/reference.fa.gz" --hpo "$hpo" \
    --catalog "${ORESUND_TEST_POSTGRES_URL%/*}/$name" --archive "s3://${name//_/-}?endpoint=$ORESUND_TEST_S3_ENDPOINT"
  /usr/bin/time -f "%e s wall, %M KB peak RSS" -o "$work/time" \
    "$binary" ingest -q "$work/$name" --dataset DK --individuals "$data/DK.individuals.tsv" "$data/DK.vcf.gz"
  echo "$label $(cat "$work/time"), database $(psql -AtX "${ORESUND_TEST_POSTGRES_URL%/*}/$name" -c "SELECT pg_database_size(current_database())") bytes"
}
rounds=${ROUNDS:-3}
for round in $(seq "$rounds"); do
  pg_node "${run_id}_old_$round" "$OLD_ORESUND" "round $round, ingest, old:"
  pg_node "${run_id}_new_$round" "$bin" "round $round, ingest, new:"
done
node="$work/${run_id}_new_$rounds"
"$bin" init -q "$work/embedded" --node-id BENCH --country DK --reference "$data/reference.fa.gz" --hpo "$hpo"
"$bin" ingest -q "$work/embedded" --dataset DK --individuals "$data/DK.individuals.tsv" "$data/DK.vcf.gz"
expected=$(target/release/examples/query_latency "$work/embedded" HP:0000707 1 | grep '^every variant')
for round in $(seq "$rounds"); do
  for build in old new embedded; do
    case $build in
      old) example=$OLD_QUERY_LATENCY dir=$node ;;
      new) example=target/release/examples/query_latency dir=$node ;;
      embedded) example=target/release/examples/query_latency dir=$work/embedded ;;
    esac
    "$example" "$dir" HP:0000707 20000 > "$work/latency.txt"
    answers=$(grep '^every variant' "$work/latency.txt")
    [ "$answers" = "$expected" ] || { echo "$build answered differently: $answers" >&2; exit 1; }
    echo "round $round, $build: $(grep -E '^single|^1 Mb region,' "$work/latency.txt" | sed 's/, --phenotype HP:0000707//' | tr '\n' ';')"
    grep '^1 Mb regions hold' "$work/latency.txt"
  done
done
