# Sourced by the benchmarks on the embedded store, from the repository root after
# `set -euo pipefail` (bench/pg_scratch.sh is its twin for PostgreSQL and S3):
#
#   . bench/scratch.sh COHORT_DIR      (or '' for none: sourced without arguments, a file sees the
#                                      script's own)
#
# Makes the cohort COHORT_DIR when one is given (bench/cohort.sh: N, LENGTH and SEED choose it),
# builds the release binary (ORESUND_BIN=PATH runs a binary built before instead, for a baseline),
# and makes a work directory that is removed, with every background job, when the script exits (a
# script that sets its own EXIT trap calls scratch_cleanup in it). Sets data (when given), hpo, bin
# and work; `machine` (bench/cohort.sh) prints the machine line.
. bench/cohort.sh
if [ -n "${1:-}" ]; then
  data=$1
  cohort "$data"
fi
work=$(mktemp -d)
if [ -n "${ORESUND_BIN:-}" ]; then
  # Copied under its own name, so that its processes are found as `oresund`.
  cp "$ORESUND_BIN" "$work/oresund"
  bin=$work/oresund
  echo "binary: $ORESUND_BIN (built before, modified $(date -u -r "$ORESUND_BIN" +%Y-%m-%dT%H:%MZ))"
else
  cargo build --release -q -p oresund
  bin=$PWD/target/release/oresund
fi
scratch_cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  rm -rf "$work"
}
trap scratch_cleanup EXIT
