#!/usr/bin/env bash
# Scale backend benchmark (issue 7): the same cohort and queries on an embedded node and on a
# PostgreSQL + S3 node, in one run: ingest wall time, in-process single-variant and 1 Mb region
# latency (examples/query_latency), and Beacon throughput of one vs two `serve` processes over
# the same PostgreSQL and S3 under `wrk`.
#
#   bench/scale.sh [COHORT_DIR]      (default bench-data, the 5,000-sample cohort)
#
# A missing COHORT_DIR is made by `python3 bench/gen_cohort.py --n 5000 --length 10000000
# --seed 11` (N, LENGTH, SEED as in bench/cohort.sh).
#
# Needs PostgreSQL and S3, found the same way as the tests: ORESUND_TEST_POSTGRES_URL
# (+ PGPASSWORD), ORESUND_TEST_S3_ENDPOINT, ORESUND_TEST_S3_ACCESS_KEY_ID / _SECRET_ACCESS_KEY.
# `./test --no-install --run bench/scale.sh` starts both for the run and stops them after.
# Everything runs on this machine: PostgreSQL, SeaweedFS, the servers and wrk share its cores.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "scale.sh: wrk not found (Debian: apt-get install wrk)" >&2; exit 1; }
. bench/pg_scratch.sh bench "${1:-bench-data}"
echo "PostgreSQL $(psql -AtX "$ORESUND_TEST_POSTGRES_URL" -c 'SHOW server_version' | cut -d' ' -f1), SeaweedFS $(weed version 2>/dev/null | awk '{print $3}'), $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
echo "input: $data/DK.vcf.gz, $(zcat "$data/DK.vcf.gz" | grep -m1 '^#CHROM' | awk '{print NF-9}') samples, $(stat -c %s "$data/DK.vcf.gz") bytes"
init() { "$bin" init -q "$work/$1" --node-id BENCH --country DK --reference "$data/reference.fa.gz" --hpo "$hpo" "${@:2}"; }
init embedded
init scale --catalog "$catalog" --archive "$archive"
for node in embedded scale; do
  /usr/bin/time -f "ingest $node: %e s wall, %M KB peak RSS" \
    "$bin" ingest -q "$work/$node" --dataset DK --individuals "$data/DK.individuals.tsv" "$data/DK.vcf.gz"
done
echo "PostgreSQL database: $(psql -AtX "$catalog" -c "SELECT pg_size_pretty(pg_database_size(current_database()))"), embedded node.db: $(du -h "$work/embedded/node.db" | cut -f1)"
# Peak RSS of each latency process: what the block cache holds shows against the embedded node's.
rss() { echo "peak RSS of that process: $(awk '{printf "%.1f MB", $1 / 1024}' "$work/rss")"; }
for node in embedded scale; do
  echo "-- query latency, $node"
  /usr/bin/time -f %M -o "$work/rss" target/release/examples/query_latency "$work/$node" HP:0000707 20000 | grep -v '^node '
  rss
done
# The block cache cold and off: copies of the PostgreSQL node whose [catalog] keeps 1 MiB of
# blocks (about 40 of the ~1,000 a contig has: nearly every lookup misses and fetches the variant's
# entries alone, located by the directory's block heads) or none (every lookup does).
for mb in 1 0; do
  cp -r "$work/scale" "$work/scale-$mb"
  sed -i "s/^block_cache_mb = .*/block_cache_mb = $mb/" "$work/scale-$mb/oresund.toml"
  grep -q "^block_cache_mb = $mb\$" "$work/scale-$mb/oresund.toml"
  echo "-- query latency, scale with block_cache_mb = $mb"
  /usr/bin/time -f %M -o "$work/rss" target/release/examples/query_latency "$work/scale-$mb" HP:0000707 20000 | grep single
  rss
done
# One PostgreSQL round trip, the floor of a lookup that asks it: a prepared SELECT 1.
echo 'SELECT 1;' > "$work/select1.sql"
(cd "$work" && pgbench -n -M prepared -c 1 -T 10 -f select1.sql -l --log-prefix=select1 "$catalog" > pgbench.txt 2>&1)
awk '{print $3}' "$work"/select1.* | sort -n | awk '{v[NR]=$1} END {printf "pgbench -M prepared SELECT 1: n=%d p50=%.1f µs p99=%.1f µs\n", NR, v[int(NR*0.5)], v[int(NR*0.99)]}'

# Throughput: one vs two `serve` processes over the same PostgreSQL + S3 (the second with its
# own copy of the node directory), a registered count query with a phenotype filter as in
# bench/beacon.sh; the same total wrk connections either way.
token=$("$bin" token add "$work/scale" --user bench --registered 2>/dev/null)
cp -r "$work/scale" "$work/scale2"
sleep 1000000 | "$bin" serve -q "$work/scale" --listen 127.0.0.1:7501 --until-stdin-closes &
sleep 1000000 | "$bin" serve -q "$work/scale2" --listen 127.0.0.1:7502 --until-stdin-closes &
sleep 2
read -r pos ref alt < <(zcat "$data/DK.vcf.gz" | grep -v '^#' | awk 'NR>=2000 && $5 !~ /,/ && length($4)==1 && length($5)==1 {n=gsub(/0\/1|1\/1/,"&"); if (n>500) {print $2-1, $4, $5; exit}}')
path="/g_variants?referenceName=22&start=$pos&referenceBases=$ref&alternateBases=$alt&requestedGranularity=count&filters=HP:0000707"
for port in 7501 7502; do curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$port$path" >/dev/null; done
summary() { awk '/Requests\/sec/ {rps=$2} $1=="50%" {p50=$2} $1=="99%" {p99=$2} END {printf "%s requests/s, p50 %s, p99 %s", rps, p50, p99}' "$1"; }
wrk -t2 -c16 -d10s --latency -H "Authorization: Bearer $token" "http://127.0.0.1:7501$path" > "$work/one.txt"
echo "one serve process, wrk -t2 -c16: $(summary "$work/one.txt")"
wrk -t1 -c8 -d10s --latency -H "Authorization: Bearer $token" "http://127.0.0.1:7501$path" > "$work/a.txt" &
first=$!
wrk -t1 -c8 -d10s --latency -H "Authorization: Bearer $token" "http://127.0.0.1:7502$path" > "$work/b.txt"
wait "$first"
total=$(awk '/Requests\/sec/ {s += $2} END {printf "%.0f", s}' "$work/a.txt" "$work/b.txt")
echo "two serve processes, wrk -t1 -c8 each: $total requests/s in total ($(summary "$work/a.txt") | $(summary "$work/b.txt"))"
