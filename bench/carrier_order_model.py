#!/usr/bin/env python3
"""A size model (issue #19, "Index <= 0.5x the BCF"): carrier sets coded on their own, against the
same sets after sorting each stretch's people by their genotypes and coding the sets as runs.

    python3 bench/carrier_order_model.py [COHORT_DIR] [--every K] [--stretch B ...]

Reads COHORT_DIR/DK.vcf.gz (default bench-data), normalised as ingest normalises it (`bcftools norm
-f REF -m -any`), chr22 only. For every record: the het and hom-ALT sets (missing calls as
hom-REF). Prints, in MB over the whole chromosome (every K-th record measured, scaled by K):

  own    each set coded on its own, the cheapest of a bitset (one bit a person), a list of
         2-byte columns, or one-byte gaps (when at most one gap in 16 needs an escape, 3 bytes
         each) -- close to what blocks hold before linking (bench: 15.30 MB modelled, coded sets);
  sorted for stretches of B consecutive records: the people ordered by a lexicographic sort of
         their genotypes at the stretch's 64 most informative records (highest minor carrier
         count first), then each set in that order coded as the cheapest of the above or as
         runs (LEB128 gap to the run, LEB128 run length); plus the order itself,
         ceil(log2 people) bits a person per stretch.

A set in sorted order is still counted in place: without a filter, the sum of its run lengths;
with one, the filter's columns permuted into the stretch's order once per stretch and counted
over each run. Needs numpy and bcftools.
"""

import argparse
import math
import os
import subprocess
import sys

import numpy as np


def genotypes(cohort):
    """Dosage matrix (records x people) of chr22, uint8 0/1/2."""
    norm = subprocess.Popen(
        ["bcftools", "norm", "-f", os.path.join(cohort, "reference.fa.gz"), "-m", "-any", "-r", "22",
         os.path.join(cohort, "DK.vcf.gz")], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    query = subprocess.Popen(["bcftools", "query", "-f", "[%GT]\n"], stdin=norm.stdout, stdout=subprocess.PIPE)
    rows = []
    for line in query.stdout:
        calls = np.frombuffer(line.rstrip(b"\n"), dtype=np.uint8).reshape(-1, 3)
        rows.append((calls[:, 0] == ord("1")).astype(np.uint8) + (calls[:, 2] == ord("1")).astype(np.uint8))
    if query.wait() != 0 or norm.wait() != 0:
        sys.exit("carrier_order_model.py: bcftools failed")
    return np.array(rows, dtype=np.uint8)


def leb128_bytes(values):
    values = np.asarray(values, dtype=np.int64)
    return 1 + (values >= 1 << 7) + (values >= 1 << 14) + (values >= 1 << 21)


def own_cost(members, people):
    count = int(members.sum())
    if count == 0:
        return 0
    columns = np.flatnonzero(members)
    gaps = np.diff(np.concatenate(([-1], columns))) - 1
    escaped = int((gaps >= 255).sum())
    one_byte_gaps = count + 3 * escaped if escaped * 16 <= count else math.inf
    return min(math.ceil(people / 8), 2 * count, one_byte_gaps)


def run_cost(members):
    edges = np.diff(np.concatenate(([0], members.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    if len(starts) == 0:
        return 0
    gaps = starts - np.concatenate(([0], ends[:-1]))
    return int(leb128_bytes(gaps).sum() + leb128_bytes(ends - starts).sum())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cohort", nargs="?", default="bench-data")
    ap.add_argument("--every", type=int, default=7, help="measure every K-th record (default 7)")
    ap.add_argument("--stretch", type=int, nargs="*", default=[64, 128, 256, 512, 1024])
    args = ap.parse_args()
    g = genotypes(args.cohort)
    records, people = g.shape
    every = args.every
    print(f"{args.cohort}: {records} chr22 records, {people} people, every {every}th record measured")
    own = sum(own_cost(g[r] == k, people) for r in range(0, records, every) for k in (1, 2)) * every
    print(f"own: {own / 1e6:.2f} MB")
    order_bits = math.ceil(math.log2(people))
    for stretch in args.stretch:
        sets = orders = 0.0
        for first in range(0, records, stretch):
            block = g[first:first + stretch]
            carriers = (block > 0).sum(axis=1)
            informative = np.argsort(-np.minimum(carriers, people - carriers))[:64]
            order = np.lexsort([block[i] for i in informative[::-1]])  # the last key sorts first
            orders += people * order_bits / 8
            for row in block[:, order][::every]:
                for k in (1, 2):
                    members = row == k
                    sets += min(own_cost(members, people), run_cost(members))
        sets *= every
        print(f"sorted, stretches of {stretch}: sets {sets / 1e6:.2f} MB + orders {orders / 1e6:.2f} MB"
              f" = {(sets + orders) / 1e6:.2f} MB", flush=True)


if __name__ == "__main__":
    main()
