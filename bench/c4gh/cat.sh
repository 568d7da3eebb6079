#!/usr/bin/env bash
# Crypt4GH against `cat` (issue #19): whole-file decrypt and encrypt with the `oresund c4gh` CLI,
# each run beside `cat` moving the same bytes, rounds alternating so that the shared machine's
# drift hits both alike.
#
#   bench/c4gh/cat.sh [ROUNDS] [BINARY...]
#
# BINARY defaults to target/release/oresund (built first); give two to compare builds in the same
# rounds. The input is 1 GiB of random bytes (SIZE_MIB to change) in WORKDIR (default /dev/shm,
# tmpfs, so the disk is not what is timed). Both write to /dev/null, like the anchor
# `cat IN > /dev/null` (the issue's measure): writing 1 GiB into tmpfs varied 0.37-1.87 s for
# `cat` itself here, which would drown the cipher.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS="${1:-3}"
shift || true
if [ $# -eq 0 ]; then cargo build --release -p oresund >&2; set -- target/release/oresund; fi
WORKDIR="${WORKDIR:-/dev/shm/c4gh_cat}"
SIZE_MIB="${SIZE_MIB:-1024}"
mkdir -p "$WORKDIR"
IN="$WORKDIR/in.bin"
[ "$(stat -c %s "$IN" 2>/dev/null || echo 0)" -eq $((SIZE_MIB << 20)) ] || head -c $((SIZE_MIB << 20)) /dev/urandom > "$IN"
"$1" c4gh keygen -q --nocrypt --sk "$WORKDIR/k.sec" --pk "$WORKDIR/k.pub"
"$1" c4gh encrypt -q --recipient_pk "$WORKDIR/k.pub" < "$IN" > "$WORKDIR/in.c4gh"

# Wall seconds of one shell command.
secs() {
  local t0 t1
  t0=$(date +%s%N)
  bash -c "$1"
  t1=$(date +%s%N)
  echo "scale=3; ($t1 - $t0) / 1000000000" | bc
}
ratio() { echo "scale=2; $1 / $2" | bc; }

echo "| round | binary | \`cat IN > /dev/null\` | decrypt | ratio | encrypt | ratio |"
echo "|---|---|---:|---:|---:|---:|---:|"
for round in $(seq "$ROUNDS"); do
  for bin in "$@"; do
    cat_null=$(secs "cat '$IN' > /dev/null")
    dec=$(secs "'$bin' c4gh decrypt -q --sk '$WORKDIR/k.sec' < '$WORKDIR/in.c4gh' > /dev/null")
    enc=$(secs "'$bin' c4gh encrypt -q --recipient_pk '$WORKDIR/k.pub' < '$IN' > /dev/null")
    echo "| $round | $bin | $cat_null s | $dec s | $(ratio "$dec" "$cat_null") | $enc s | $(ratio "$enc" "$cat_null") |"
  done
done
[ "${KEEP_INPUT:-0}" = 1 ] || rm -rf "$WORKDIR"
