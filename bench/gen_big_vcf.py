#!/usr/bin/env python3
"""A large synthetic bgzipped VCF on contig 22 of demo-data/'s reference, for bench/delivery.sh.

    python3 bench/gen_big_vcf.py --out DIR [--size-mib 1024] [--samples 2000] [--info-bytes 6000]
                                 [--seed 5] [--reference demo-data/reference.fa.gz] [--records R]

Python 3 standard library only, plus bgzip and tabix on PATH (Debian: apt-get install tabix).

Writes into DIR:
  big.vcf.gz (+ .tbi)     VCFv4.3, one biallelic SNV per record on 22 in [16,000,001, 17,999,999]
                          (the sequence part of the demo reference), positions sorted and unique,
                          REF read from the reference, ALT another base; GT only, SAMPLES
                          individuals with random unphased genotypes (0/0 50%, 0/1 35%, 1/1 15%);
                          INFO BULK= carrying INFO_BYTES random bytes as base64, so the file is
                          large (random data does not compress) while ingest, which parses every
                          record's genotypes but skips INFO, stays fast.
  big.individuals.tsv     local_id sex birth_year hpo_terms icd10_codes consent, as in
                          demo-data/DK.individuals.tsv (synthetic CPR-like local ids, unique).

The number of records is chosen so the bgzipped file is about SIZE_MIB MiB (estimated by
compressing the first records with zlib at bgzip's level; --records sets it instead). Everything
follows from --seed and the other options: the same options give the same records (and, with
the same bgzip/zlib, the same bytes).
"""

import argparse
import base64
import gzip
import os
import random
import shutil
import subprocess
import sys
import zlib

CONTIG = "22"
FIRST = 16_000_001   # first base of sequence on 22 in demo-data/reference.fa.gz (N before it)
LAST = 17_999_999    # the contig's last base
HPO_TERMS = ["HP:0000118", "HP:0000365", "HP:0000707", "HP:0000822", "HP:0001249",
             "HP:0001250", "HP:0001513", "HP:0001627", "HP:0002664", "HP:0004322"]
ICD10_CODES = ["C50.9", "E11.9", "E66.9", "F84.0", "G40.9", "I10", "Q21.1"]
CONSENTS = ["DUO:0000006", "DUO:0000006,DUO:0000045", "DUO:0000007,MONDO:0005027",
            "DUO:0000042", "DUO:0000042,DUO:0000019"]
POOL = 1 << 22       # genotypes in the random pool records are cut from (16 MiB of text)


def read_contig(path, name):
    """The sequence of contig `name` of a (b)gzipped FASTA with a .fai, as bytes."""
    fai = {}
    with open(path + ".fai") as f:
        for line in f:
            n, length, offset, line_bases, line_width = line.split("\t")[:5]
            fai[n] = (int(length), int(offset), int(line_bases), int(line_width))
    length, offset, line_bases, line_width = fai[name]
    with gzip.open(path, "rb") as f:
        f.seek(offset)
        lines = (length + line_bases - 1) // line_bases
        raw = f.read(lines * line_width)
    seq = raw.replace(b"\n", b"").replace(b"\r", b"")[:length]
    if len(seq) != length:
        sys.exit(f"gen_big_vcf.py: contig {name} is {len(seq)} bases in {path}, .fai says {length}")
    return seq.upper()


def individuals(n, rng):
    rows, seen = [], set()
    for _ in range(n):
        sex = "female" if rng.random() < 0.5 else "male"
        year, month, day = rng.randrange(1935, 2020), rng.randrange(1, 13), rng.randrange(1, 29)
        while True:
            local_id = f"{day:02d}{month:02d}{year % 100:02d}-{rng.randrange(10_000):04d}"
            if local_id not in seen:
                break
        seen.add(local_id)
        terms = sorted(rng.sample(HPO_TERMS, rng.randrange(3)))
        icd = [rng.choice(ICD10_CODES)] if rng.random() < 0.5 else []
        rows.append((local_id, sex, str(year), ",".join(terms), ",".join(icd), rng.choice(CONSENTS)))
    return rows


def genotype_pool(rng):
    """POOL random genotypes as text, 4 bytes each ("0/1\\t")."""
    table = [b"0/0\t"] * 128 + [b"0/1\t"] * 90 + [b"1/1\t"] * 38
    return b"".join(map(table.__getitem__, rng.randbytes(POOL)))


class Records:
    """Record lines, in order; each cuts its genotypes from the pool at a random offset (the
    pool is far larger than deflate's 32 KiB window, so records do not compress against each
    other) and carries fresh random INFO bytes."""

    def __init__(self, seq, samples, info_bytes, rng):
        self.seq, self.samples, self.info_bytes, self.rng = seq, samples, info_bytes, rng
        self.pool = genotype_pool(rng)

    def line(self, pos):
        rng = self.rng
        ref = chr(self.seq[pos - 1])
        if ref not in "ACGT":
            sys.exit(f"gen_big_vcf.py: the reference has {ref!r} at {CONTIG}:{pos}")
        alt = rng.choice([b for b in "ACGT" if b != ref])
        start = 4 * rng.randrange(POOL - self.samples)
        gts = self.pool[start:start + 4 * self.samples - 1]
        info = base64.b64encode(rng.randbytes(self.info_bytes)).decode() if self.info_bytes else ""
        return (f"{CONTIG}\t{pos}\t.\t{ref}\t{alt}\t.\tPASS\t{'BULK=' + info if info else '.'}\tGT\t".encode()
                + gts + b"\n")


def positions(count, rng):
    """`count` sorted distinct positions spread over [FIRST, LAST]."""
    span = LAST - FIRST + 1
    if count > span:
        sys.exit(f"gen_big_vcf.py: at most {span} records fit on {CONTIG} (one per base)")
    step = span / count
    return [FIRST + int(i * step) + rng.randrange(max(1, int(step))) for i in range(count)]


def estimate_record_bytes(seq, samples, info_bytes, seed):
    """Compressed bytes per record, from 200 records compressed like bgzip does (64 KiB blocks,
    zlib level 6); a separate generator so the file's records do not depend on it."""
    rng = random.Random(seed ^ 0x5EED)
    gen = Records(seq, samples, info_bytes, rng)
    text = b"".join(gen.line(FIRST + i) for i in range(200))
    size = 0
    for i in range(0, len(text), 65280):
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        size += len(c.compress(text[i:i + 65280]) + c.flush()) + 26
    return size / 200


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output directory (created if missing)")
    ap.add_argument("--size-mib", type=float, default=1024, help="bgzipped size to aim at (default 1024)")
    ap.add_argument("--samples", type=int, default=2000, help="individuals (default 2000)")
    ap.add_argument("--info-bytes", type=int, default=6000,
                    help="random bytes per record in INFO, base64 (default 6000)")
    ap.add_argument("--records", type=int, help="number of records (default: from --size-mib)")
    ap.add_argument("--seed", type=int, default=5, help="random seed (default 5)")
    ap.add_argument("--reference", default="demo-data/reference.fa.gz",
                    help="bgzipped FASTA with .fai holding contig 22 (default demo-data/reference.fa.gz)")
    args = ap.parse_args()
    missing = [tool for tool in ("bgzip", "tabix") if shutil.which(tool) is None]
    if missing:
        sys.exit(f"gen_big_vcf.py: {', '.join(missing)} not found (Debian: apt-get install tabix)")
    if args.samples < 1 or args.info_bytes < 0:
        sys.exit("gen_big_vcf.py: --samples must be at least 1 and --info-bytes at least 0")
    os.makedirs(args.out, exist_ok=True)
    seq = read_contig(args.reference, CONTIG)
    count = args.records or max(1, round(args.size_mib * 2 ** 20 /
                                         estimate_record_bytes(seq, args.samples, args.info_bytes, args.seed)))

    rng = random.Random(args.seed)
    people = individuals(args.samples, rng)
    with open(os.path.join(args.out, "big.individuals.tsv"), "w", newline="\n") as f:
        f.write("local_id\tsex\tbirth_year\thpo_terms\ticd10_codes\tconsent\n")
        for row in people:
            f.write("\t".join(row) + "\n")

    where = positions(count, rng)
    records = Records(seq, args.samples, args.info_bytes, rng)
    path = os.path.join(args.out, "big.vcf.gz")
    with open(path, "wb") as f:
        bgzip = subprocess.Popen(["bgzip", "-@", "2", "-c"], stdin=subprocess.PIPE, stdout=f)
    header = ("##fileformat=VCFv4.3\n##reference=demo-data/reference.fa.gz\n"
              f"##contig=<ID=22,length={LAST},assembly=GRCh38>\n"
              '##INFO=<ID=BULK,Number=1,Type=String,Description="Random bytes, base64 (bench filler)">\n'
              '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
              "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t"
              + "\t".join(row[0] for row in people) + "\n")
    bgzip.stdin.write(header.encode())
    batch = []
    for pos in where:
        batch.append(records.line(pos))
        if len(batch) == 64:
            bgzip.stdin.write(b"".join(batch))
            batch.clear()
    bgzip.stdin.write(b"".join(batch))
    bgzip.stdin.close()
    if bgzip.wait() != 0:
        sys.exit("gen_big_vcf.py: bgzip failed")
    subprocess.run(["tabix", "-f", "-p", "vcf", path], check=True)
    print(f"{path}: {count} records, {args.samples} samples, {args.info_bytes} INFO bytes per record, "
          f"{os.path.getsize(path)} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
