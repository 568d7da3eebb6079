#!/usr/bin/env bash
# Ingest by two builds, alternating in one run (issue #19: ingest <= 0.25x `bcftools norm`, peak
# RSS <= 64 MB whatever the cohort's size). Per round: `bcftools norm -f REF -m -any -Ob` of the
# cohort's DK file, then an ingest of it into a new node by each build: wall time, peak RSS and
# the ratio to that round's bcftools. Both builds' catalogs must hold the same bytes (blocks,
# haploid sets, people, file columns); the script fails otherwise.
#
#   OLD_ORESUND=PATH [ROUNDS=3] bench/ingest_builds.sh [COHORT_DIR]
#   OLD_ORESUND=PATH ./test --no-install --run bench/ingest_builds.sh --postgres [COHORT_DIR]
#
# The default cohort, bench-data-1mb-60000, is the generator's (seed 11) at 60,000 people a
# population over 1 Mb of chr22 (and X's 500 kb): a national cohort's width without the hours a
# 10 Mb one takes to make. Another COHORT_DIR is made with N and LENGTH from the environment
# (bench/cohort.sh). With --postgres each node has a scratch database and bucket of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${OLD_ORESUND:?set OLD_ORESUND to the oresund binary of the other build}"
postgres=""
if [ "${1:-}" = --postgres ]; then postgres=1; shift; fi
data=${1:-bench-data-1mb-60000}
if [ "$data" = bench-data-1mb-60000 ]; then export N=60000 LENGTH=1000000; fi
if [ -n "$postgres" ]; then
  . bench/pg_scratch.sh ingest "$data"
else
  . bench/scratch.sh "$data"
  machine
fi
echo "cohort $data: $(bcftools query -l "$data/DK.vcf.gz" | wc -l) samples, $(bcftools view -H "$data/DK.vcf.gz" | wc -l) records; bcftools $(bcftools --version | head -1 | cut -d' ' -f2)"
databases=()
cleanup_databases() {
  for d in "${databases[@]}"; do psql -qX "$ORESUND_TEST_POSTGRES_URL" -c "DROP DATABASE IF EXISTS $d WITH (FORCE)"; done
}
[ -z "$postgres" ] || trap 'pg_scratch_cleanup; cleanup_databases' EXIT

# What both builds must have written alike, as one checksum.
catalog_sum() {
  local node=$1 url=${2:-}
  if [ -n "$url" ]; then
    psql -AtX "$url" -c "SELECT md5(string_agg(md5(data), '' ORDER BY id)) FROM blocks" \
      -c "SELECT md5(string_agg(md5(columns), '' ORDER BY file, id)) FROM haploid_sets" \
      -c "SELECT md5(string_agg(concat_ws(' ', number, sex, birth_year, hpo_terms, icd10_codes, consent), ',' ORDER BY number)) FROM individuals"
  else
    for q in "SELECT hex(data) FROM blocks ORDER BY id" "SELECT hex(columns) FROM haploid_sets ORDER BY file, id" \
      "SELECT number, sex, birth_year, hpo_terms, icd10_codes, consent FROM individuals ORDER BY number" \
      "SELECT hex(columns) FROM files"; do
      sqlite3 "$node/node.db" "$q" | sha256sum | cut -c1-16
    done
  fi | tr '\n' ' '
}

# Ingest by binary $2 into a new node named $1; writes "wall rss_kb checksum" to $work/result.
ingest() {
  local name=$1 binary=$2 args=() url=""
  if [ -n "$postgres" ]; then
    databases+=("$name")
    url="${ORESUND_TEST_POSTGRES_URL%/*}/$name"
    psql -qX "$ORESUND_TEST_POSTGRES_URL" -c "CREATE DATABASE $name"
    curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -X PUT "$ORESUND_TEST_S3_ENDPOINT/${name//_/-}"
    args=(--catalog "$url" --archive "s3://${name//_/-}?endpoint=$ORESUND_TEST_S3_ENDPOINT")
  fi
  "$binary" init -q "$work/$name" --node-id BENCH --country DK --reference "$data/reference.fa.gz" --hpo "$hpo" "${args[@]}"
  /usr/bin/time -f "%e %M" -o "$work/time" \
    "$binary" ingest -q "$work/$name" --dataset DK --individuals "$data/DK.individuals.tsv" "$data/DK.vcf.gz"
  echo "$(cat "$work/time") $(catalog_sum "$work/$name" "$url")" > "$work/result"
}

rounds=${ROUNDS:-3}
expected=""
for round in $(seq "$rounds"); do
  /usr/bin/time -f "%e" -o "$work/norm.time" \
    bcftools norm -f "$data/reference.fa.gz" -m -any -Ob -o "$work/norm.bcf" "$data/DK.vcf.gz" 2> /dev/null
  norm=$(cat "$work/norm.time")
  line="round $round: bcftools norm ${norm} s"
  for build in old new; do
    binary=$bin
    [ "$build" = old ] && binary=$OLD_ORESUND
    ingest "ingest_${build}_${round}_$$" "$binary"
    read -r wall kb sums < "$work/result"
    [ -n "$expected" ] || expected=$sums
    [ "$sums" = "$expected" ] || { echo "the $build build's catalog differs: $sums against $expected" >&2; exit 1; }
    line+=$(awk -v b="$build" -v w="$wall" -v kb="$kb" -v n="$norm" 'BEGIN {printf "; %s %.2f s (%.3f x), %.1f MB", b, w, w / n, kb / 1024}')
  done
  echo "$line"
done
echo "catalogs alike: $expected"
