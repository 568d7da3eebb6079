# Sourced by the benchmarks that need PostgreSQL and S3 (bench/scale.sh, bench/pg_cold.sh), from
# the repository root after `set -euo pipefail`:
#
#   . bench/pg_scratch.sh PREFIX COHORT_DIR
#
# Checks that the servers are there (`./test --no-install --run bench/SCRIPT` starts them and sets
# ORESUND_TEST_POSTGRES_URL, ORESUND_TEST_S3_*), makes the cohort (bench/cohort.sh), builds the
# release binary and examples/query_latency, and makes a scratch database and bucket named
# PREFIX_<time> that are dropped, with the work directory and any background job, when the script
# exits. Sets data, hpo, bin, work, run_id, catalog, bucket and archive; exports AWS_ACCESS_KEY_ID
# and AWS_SECRET_ACCESS_KEY for curl and the node.
for var in ORESUND_TEST_POSTGRES_URL ORESUND_TEST_S3_ENDPOINT ORESUND_TEST_S3_ACCESS_KEY_ID ORESUND_TEST_S3_SECRET_ACCESS_KEY; do
  [ -n "${!var:-}" ] || { echo "$var is not set: run this as ./test --no-install --run $0" >&2; exit 1; }
done
data=$2
. bench/cohort.sh
cohort "$data"
cargo build --release -q -p oresund
cargo build --release -q -p oresund-node --example query_latency
bin=$PWD/target/release/oresund
work=$(mktemp -d)
run_id="${1}_$(date +%s)"
catalog="${ORESUND_TEST_POSTGRES_URL%/*}/$run_id"
bucket=${run_id//_/-}
archive="s3://$bucket?endpoint=$ORESUND_TEST_S3_ENDPOINT"
export AWS_ACCESS_KEY_ID=$ORESUND_TEST_S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$ORESUND_TEST_S3_SECRET_ACCESS_KEY
pg_scratch_cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  psql -qX "$ORESUND_TEST_POSTGRES_URL" -c "DROP DATABASE IF EXISTS $run_id WITH (FORCE)" || true
  rm -rf "$work"
}
trap pg_scratch_cleanup EXIT
psql -qX "$ORESUND_TEST_POSTGRES_URL" -c "CREATE DATABASE $run_id"
curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -X PUT "$ORESUND_TEST_S3_ENDPOINT/$bucket"
machine
