#!/usr/bin/env python3
"""Synthetic national cohorts for Øresund's benchmarks, of the same form as demo-data/.

    python3 bench/gen_cohort.py --out DIR [--n 500] [--length 2000000] [--seed 11]

Needs Python 3.11, msprime 1.4.4 (`pip install msprime==1.4.4`, which brings numpy), and
bgzip, tabix and samtools on PATH (Debian: `apt-get install tabix samtools`).

Writes into DIR:
  reference.fa.gz (+ .fai, .gzi)   synthetic GRCh38-like reference, contigs 22 and X. On 22 the
                                   sequence is [16,000,000, 16,000,000 + LENGTH) (N before it,
                                   the contig ends with it); X is 3,200,000 bp with sequence in
                                   its last 500 kb (N before it), as in demo-data/.
  DK.vcf.gz, SE.vcf.gz (+ .tbi)    VCFv4.3, GT only, N individuals each. Two related populations
                                   from one msprime coalescent simulation (split 300 generations
                                   ago, a little migration since); diploid on 22; on X haploid
                                   calls for males, diploid for females. Both files hold the same
                                   sites (some monomorphic in one population). About 0.2% of calls
                                   are missing, about 2% of records multi-allelic, 3% indels, every
                                   indel in a repeat planted in the reference and written
                                   right-shifted (not left-aligned), so `bcftools norm` has work
                                   to do; REF always matches the reference.
  DK.individuals.tsv, SE.individuals.tsv
                                   local_id sex birth_year hpo_terms icd10_codes consent, with
                                   synthetic CPR-like (DDMMYY-NNNN) and personnummer-like
                                   (YYYYMMDD-NNNN) ids.
  truth.json                       one planted rare SNV on 22 (about 1% of all individuals carry
                                   it, heterozygous) whose carriers mostly (80%) have HP:0001250.

Everything follows from --seed: the same seed, N and LENGTH give byte-identical files (with the
same msprime, numpy and htslib versions).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys

import msprime
import numpy as np

CHR22_OFFSET = 16_000_000  # 1-based position of the first base of sequence on 22
X_LENGTH = 3_200_000
X_REGION = 500_000  # sequence (and variants) in X's last 500 kb, as in demo-data
X_OFFSET = X_LENGTH - X_REGION + 1

HPO_TERMS = ["HP:0000118", "HP:0000365", "HP:0000707", "HP:0000822", "HP:0001249",
             "HP:0001250", "HP:0001513", "HP:0001627", "HP:0002664", "HP:0004322"]
ICD10_CODES = ["C50.9", "E11.9", "E66.9", "F84.0", "G40.9", "I10", "Q21.1"]
CONSENTS = ["DUO:0000006", "DUO:0000006,DUO:0000045", "DUO:0000007,MONDO:0005027",
            "DUO:0000042", "DUO:0000042,DUO:0000019"]
DISEASE_PHENOTYPE = "HP:0001250"

POPULATIONS = ["DK", "SE"]
NE = 10_000              # effective size of each population and of the ancestral one
SPLIT_GENERATIONS = 300  # DK and SE split this many generations ago
MIGRATION = 5e-4         # symmetric migration rate per generation since the split
MUTATION_RATE = 1.1e-8   # per base per generation
RECOMBINATION_RATE = 1e-8

MISSING = 0.002          # share of calls written as ./. or .
P_MULTI_SNV = 0.005      # site kinds (the rest are biallelic SNVs)
P_MULTI_INDEL = 0.015
P_INDEL = 0.02
MARGIN = 25              # no other site this close to an indel (its repeat is at most 15 bp)
CHUNK = 256              # records per block of genotype text

SNV, MULTI_SNV, INDEL, MULTI_INDEL = 0, 1, 2, 3
TRANSITION = {"A": "G", "G": "A", "C": "T", "T": "C"}
TRANSVERSIONS = {"A": "CT", "G": "CT", "C": "AG", "T": "AG"}
BASES = "ACGT"


def demography(scale):
    d = msprime.Demography()
    for name in POPULATIONS:
        d.add_population(name=name, initial_size=NE * scale)
    d.add_population(name="ANC", initial_size=NE * scale)
    d.set_symmetric_migration_rate(POPULATIONS, MIGRATION)
    d.add_population_split(time=SPLIT_GENERATIONS, derived=POPULATIONS, ancestral="ANC")
    return d


def make_individuals(n, rng):
    """Per population a list of dicts; local ids unique within the population."""
    people = {}
    for pop in POPULATIONS:
        rows, seen = [], set()
        for _ in range(n):
            sex = "female" if rng.random() < 0.5 else "male"
            year = int(rng.integers(1935, 2020))
            month = int(rng.integers(1, 13))
            day = int(rng.integers(1, 29))
            while True:
                serial = int(rng.integers(0, 10_000))
                if pop == "DK":
                    local_id = f"{day:02d}{month:02d}{year % 100:02d}-{serial:04d}"
                else:
                    local_id = f"{year:04d}{month:02d}{day:02d}-{serial:04d}"
                if local_id not in seen:
                    break
            seen.add(local_id)
            k = int(rng.integers(0, 3))
            terms = sorted(HPO_TERMS[i] for i in rng.choice(len(HPO_TERMS), k, replace=False))
            icd = [ICD10_CODES[int(rng.integers(len(ICD10_CODES)))]] if rng.random() < 0.5 else []
            consent = CONSENTS[int(rng.integers(len(CONSENTS)))]
            rows.append({"local_id": local_id, "sex": sex, "birth_year": year, "hpo": terms,
                         "icd": icd, "consent": consent})
        people[pop] = rows
    return people


def write_individuals(path, rows):
    with open(path, "w", newline="\n") as f:
        f.write("local_id\tsex\tbirth_year\thpo_terms\ticd10_codes\tconsent\n")
        for r in rows:
            f.write(f"{r['local_id']}\t{r['sex']}\t{r['birth_year']}\t{','.join(r['hpo'])}\t"
                    f"{','.join(r['icd'])}\t{r['consent']}\n")


def random_sequence(length, rng):
    # GC content about 41%, as in the human genome.
    codes = rng.choice(4, size=length, p=[0.295, 0.205, 0.205, 0.295]).astype(np.uint8)
    return np.frombuffer(b"ACGT", dtype=np.uint8)[codes]


class Contig:
    """One simulated contig: its tree sequence, the records to write and their genotype sources."""

    def __init__(self, name, offset, region, ref, ts, rng, disease_x=None):
        self.name, self.offset, self.ts = name, offset, ts
        xs = ts.tables.sites.position.astype(np.int64)
        u = rng.random(len(xs))
        kinds = np.full(len(xs), SNV, dtype=np.int8)
        kinds[u < P_MULTI_SNV + P_MULTI_INDEL + P_INDEL] = INDEL
        kinds[u < P_MULTI_SNV + P_MULTI_INDEL] = MULTI_INDEL
        kinds[u < P_MULTI_SNV] = MULTI_SNV
        self.role = np.zeros(len(xs), dtype=np.int8)  # 0 unused, 1 a record, 2 allele 2 of a record
        self.records = {}  # site id -> (pos, kind, spec); kind-specific allele spec
        self.partner = {}  # site id of a multi-allelic record -> site id giving its allele 2
        self.disease = None
        last_end = -10 ** 9
        last_x = -10 ** 9
        i = 0
        while i < len(xs):
            x = int(xs[i])
            if x < 20 or x >= region - 40 or x <= last_end or (
                    disease_x is not None and abs(x - disease_x) <= MARGIN):
                i += 1
                continue
            kind = int(kinds[i])
            if kind in (INDEL, MULTI_INDEL) and x - last_x <= MARGIN:
                kind = SNV
            if kind in (MULTI_SNV, MULTI_INDEL) and i + 1 >= len(xs):
                kind = SNV if kind == MULTI_SNV else INDEL
            pos = offset + x
            if kind in (INDEL, MULTI_INDEL):
                spec = plant_indel(ref, pos, kind, rng)
                last_end = x + MARGIN
            else:
                spec = rng.random()
                last_end = x
            last_x = x
            self.role[i] = 1
            self.records[i] = (pos, kind, spec)
            if kind in (MULTI_SNV, MULTI_INDEL):
                self.role[i + 1] = 2
                self.partner[i] = i + 1
                i += 2
            else:
                i += 1
        # Alleles of the SNVs, now that every repeat is planted.
        for i, (pos, kind, spec) in self.records.items():
            base = chr(ref[pos - 1])
            if kind == SNV:  # two transitions for one transversion
                alt = TRANSITION[base] if spec < 2 / 3 else TRANSVERSIONS[base][int(spec * 6) % 2]
                self.records[i] = (pos, base, alt)
            elif kind == MULTI_SNV:
                others = [b for b in BASES if b != base]
                first = int(spec * 3)
                self.records[i] = (pos, base, f"{others[first]},{others[(first + 1) % 3]}")
            else:
                self.records[i] = (pos,) + spec
        if disease_x is not None:
            pos = offset + disease_x
            base = chr(ref[pos - 1])
            self.disease = (pos, base, [b for b in BASES if b != base][int(rng.integers(3))])


def plant_indel(ref, pos, kind, rng):
    """Writes a repeat into ref (a 0-based array of 1-based positions) around pos and returns
    (REF, ALT) of an indel in it written at pos, right-shifted."""
    m = int(rng.choice([1, 2, 3], p=[0.4, 0.3, 0.3]))
    while True:
        unit = "".join(BASES[int(b)] for b in rng.integers(0, 4, m))
        if m == 1 or len(set(unit)) > 1:
            break
    copies = int(rng.integers(6, 15)) if m == 1 else int(rng.integers(2, 5))
    k = int(rng.integers(1, 4)) if m == 1 and copies >= 8 else 1  # units deleted or inserted
    style = rng.random()
    if kind == INDEL:
        deletion = style < 0.5
    else:
        deletion = style < 0.85  # contraction and expansion; else two insertion lengths
    end = pos + k * m if deletion else pos  # last base of the repeat
    start = end - copies * m + 1
    for j, b in enumerate((unit * copies).encode()):
        ref[start - 1 + j] = b
    # The repeat stops at both ends, so the right-shifted form is the rightmost one.
    after = [b for b in BASES if b != unit[0]][int(rng.integers(3))]
    before = [b for b in BASES if b != unit[-1]][int(rng.integers(3))]
    ref[end] = ord(after)
    ref[start - 2] = ord(before)
    r = ref[pos - 1:end].tobytes().decode()
    if kind == INDEL:
        return (r, r[0]) if deletion else (r, r + unit * k)
    if deletion:
        return r, f"{r[0]},{r + unit * k}"
    return r, f"{r + unit * k},{r + unit * 2 * k}"


def genotype_tables():
    """Genotype text per code, 4 bytes each: 0-8 diploid lo*3+hi, 9 ./., 10-12 haploid, 13 '.'."""
    t = np.zeros((14, 4), dtype=np.uint8)
    for lo in range(3):
        for hi in range(lo, 3):
            t[lo * 3 + hi] = np.frombuffer(f"{lo}/{hi}\t".encode(), dtype=np.uint8)
    t[9] = np.frombuffer(b"./.\t", dtype=np.uint8)
    for a in range(3):
        t[10 + a] = np.frombuffer(f"{a}\t\0\0".encode(), dtype=np.uint8)
    t[13] = np.frombuffer(b".\t\0\0", dtype=np.uint8)
    return t


class Population:
    """How one population's columns come out of a contig's haplotypes."""

    def __init__(self, first, second, haploid):
        self.first, self.second = first, second  # haplotype columns per individual
        self.haploid = haploid                   # bool per individual
        self.missing_code = np.where(haploid, 13, 9).astype(np.uint8)
        self.keep = np.ones((len(first), 4), dtype=bool)
        self.keep[haploid, 2:] = False

    def rows(self, hap, table, rng, no_missing_row=None):
        a = hap[:, self.first]
        b = hap[:, self.second]
        code = (np.minimum(a, b) * 3 + np.maximum(a, b)).astype(np.uint8)
        if self.haploid.any():
            code[:, self.haploid] = 10 + a[:, self.haploid]
        cells = code.size
        hits = rng.integers(0, cells, rng.binomial(cells, MISSING))
        if no_missing_row is not None:
            hits = hits[hits // code.shape[1] != no_missing_row]
        code.flat[hits] = np.broadcast_to(self.missing_code, code.shape).flat[hits]
        text = table[code]
        if self.haploid.any():
            text = text[:, self.keep]
        else:
            text = text.reshape(len(code), -1)
        text[:, -1] = ord("\n")
        return text


def write_vcf_records(contig, pops, outs, table, rng, carriers=None):
    """Streams the contig's records, sorted, to each population's output, CHUNK at a time."""
    buf = np.zeros((CHUNK, contig.ts.num_samples), dtype=np.int8)
    meta = []          # (pos, REF, ALT) per buffer row
    pending = {}       # partner site id -> buffer row of its multi-allelic record
    special = [None]   # buffer row of the planted variant (no missing calls there)

    def flush():
        prefixes = [f"{contig.name}\t{pos}\t.\t{r}\t{a}\t.\tPASS\t.\tGT\t".encode() for pos, r, a in meta]
        for pop, out in zip(pops, outs):
            text = pop.rows(buf[:len(meta)], table, rng, special[0])
            pieces = []
            for j, p in enumerate(prefixes):
                pieces.append(p)
                pieces.append(text[j].tobytes())
            out.write(b"".join(pieces))
        meta.clear()
        special[0] = None

    def append(record, haplotypes):
        # A multi-allelic record's partner is the very next site, so nothing is appended while
        # one is pending and a full buffer can always be written out here.
        if len(meta) == CHUNK:
            flush()
        buf[len(meta)] = haplotypes
        meta.append(record)
        return len(meta) - 1

    disease = contig.disease
    for var in contig.ts.variants(copy=False):
        sid = var.site.id
        role = contig.role[sid]
        if role == 0:
            continue
        if role == 2:  # haplotypes derived here and not at the record's own site get allele 2
            row = pending.pop(sid)
            g = var.genotypes
            buf[row][(g == 1) & (buf[row] == 0)] = 2
            continue
        record = contig.records[sid]
        if disease is not None and disease[0] < record[0]:
            special[0] = append(disease, carriers)
            disease = None
        row = append(record, var.genotypes)
        if sid in contig.partner:
            pending[contig.partner[sid]] = row
    if disease is not None:
        special[0] = append(disease, carriers)
    if meta:
        flush()


def bgzip_to(path):
    f = open(path, "wb")
    p = subprocess.Popen(["bgzip", "-@", "2", "-c"], stdin=subprocess.PIPE, stdout=f)
    f.close()
    return p


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output directory (created if missing)")
    ap.add_argument("--n", type=int, default=500, help="individuals per population (default 500)")
    ap.add_argument("--length", type=int, default=2_000_000,
                    help="bases of simulated sequence on 22, from 16,000,000 (default 2000000)")
    ap.add_argument("--seed", type=int, default=11, help="random seed (default 11)")
    args = ap.parse_args()
    if args.n < 10 or args.length < 10_000:
        sys.exit("gen_cohort.py: --n must be at least 10 and --length at least 10000")
    missing = [tool for tool in ("bgzip", "tabix", "samtools") if shutil.which(tool) is None]
    if missing:
        sys.exit(f"gen_cohort.py: {', '.join(missing)} not found (Debian: apt-get install tabix samtools)")
    os.makedirs(args.out, exist_ok=True)
    n, length = args.n, args.length
    streams = np.random.SeedSequence(args.seed).spawn(6)
    rng_people, rng_ref, rng_sites, rng_calls = (np.random.default_rng(s) for s in streams[:4])
    msp_seeds = streams[4].generate_state(4) % (2 ** 31 - 1) + 1

    # Individuals, then the planted variant's carriers.
    people = make_individuals(n, rng_people)
    everyone = [(pop, i) for pop in POPULATIONS for i in range(n)]
    n_carriers = max(4, round(2 * n / 100))
    chosen = sorted(int(c) for c in rng_people.choice(2 * n, n_carriers, replace=False))
    with_phenotype = set(int(c) for c in rng_people.choice(chosen, round(0.8 * n_carriers), replace=False))
    carriers = np.zeros(4 * n, dtype=np.int8)  # haplotype vector on 22: DK then SE, 2 per person
    for c in chosen:
        carriers[2 * c] = 1
        pop, i = everyone[c]
        if c in with_phenotype and DISEASE_PHENOTYPE not in people[pop][i]["hpo"]:
            people[pop][i]["hpo"] = sorted(people[pop][i]["hpo"] + [DISEASE_PHENOTYPE])
    for pop in POPULATIONS:
        write_individuals(os.path.join(args.out, f"{pop}.individuals.tsv"), people[pop])

    # Coalescent simulations: 22 with N diploid individuals per population; X with one haplotype
    # per male and two per female, three quarters of the autosomal population sizes, and
    # recombination in females only (2/3 of the autosomal rate on average).
    ts22 = msprime.sim_ancestry(samples={p: n for p in POPULATIONS}, demography=demography(1.0),
                                sequence_length=length, recombination_rate=RECOMBINATION_RATE,
                                random_seed=int(msp_seeds[0]))
    ts22 = msprime.sim_mutations(ts22, rate=MUTATION_RATE, model=msprime.BinaryMutationModel(),
                                 random_seed=int(msp_seeds[1]))
    x_haps = {p: sum(2 if r["sex"] == "female" else 1 for r in people[p]) for p in POPULATIONS}
    tsx = msprime.sim_ancestry(samples=[msprime.SampleSet(x_haps[p], population=p, ploidy=1) for p in POPULATIONS],
                               demography=demography(0.75), ploidy=2, sequence_length=X_REGION,
                               recombination_rate=RECOMBINATION_RATE * 2 / 3, random_seed=int(msp_seeds[2]))
    tsx = msprime.sim_mutations(tsx, rate=MUTATION_RATE, model=msprime.BinaryMutationModel(),
                                random_seed=int(msp_seeds[3]))

    # Reference: N outside the simulated regions, random sequence inside, repeats planted at indels.
    len22 = CHR22_OFFSET + length - 1
    ref22 = np.full(len22, ord("N"), dtype=np.uint8)
    ref22[CHR22_OFFSET - 1:] = random_sequence(length, rng_ref)
    refx = np.full(X_LENGTH, ord("N"), dtype=np.uint8)
    refx[X_OFFSET - 1:] = random_sequence(X_REGION, rng_ref)
    disease_x = length // 2 + 17
    c22 = Contig("22", CHR22_OFFSET, length, ref22, ts22, rng_sites, disease_x)
    cx = Contig("X", X_OFFSET, X_REGION, refx, tsx, rng_sites)

    ref_path = os.path.join(args.out, "reference.fa.gz")
    p = bgzip_to(ref_path)
    for name, seq in (("22", ref22), ("X", refx)):
        p.stdin.write(f">{name}\n".encode())
        full = len(seq) // 60 * 60
        lines = np.empty((full // 60, 61), dtype=np.uint8)
        lines[:, :60] = seq[:full].reshape(-1, 60)
        lines[:, 60] = ord("\n")
        p.stdin.write(lines.tobytes())
        if full < len(seq):
            p.stdin.write(seq[full:].tobytes() + b"\n")
    p.stdin.close()
    if p.wait() != 0:
        sys.exit("gen_cohort.py: bgzip failed")
    for suffix in (".fai", ".gzi"):
        if os.path.exists(ref_path + suffix):
            os.remove(ref_path + suffix)
    subprocess.run(["samtools", "faidx", ref_path], check=True)

    # Genotypes.
    table = genotype_tables()
    idx = np.arange(n)
    pops22 = [Population(2 * idx + k * 2 * n, 2 * idx + 1 + k * 2 * n, np.zeros(n, dtype=bool))
              for k in range(len(POPULATIONS))]
    popsx, base = [], 0
    for p_name in POPULATIONS:
        first, second, haploid = [], [], []
        for r in people[p_name]:
            first.append(base)
            if r["sex"] == "female":
                second.append(base + 1)
                base += 2
            else:
                second.append(base)
                base += 1
            haploid.append(r["sex"] == "male")
        popsx.append(Population(np.array(first), np.array(second), np.array(haploid)))

    header = ("##fileformat=VCFv4.3\n##reference=GRCh38-synthetic\n"
              f"##contig=<ID=22,length={len22},assembly=GRCh38>\n"
              f"##contig=<ID=X,length={X_LENGTH},assembly=GRCh38>\n"
              '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n')
    vcf_paths = [os.path.join(args.out, f"{p}.vcf.gz") for p in POPULATIONS]
    procs = [bgzip_to(path) for path in vcf_paths]
    outs = [proc.stdin for proc in procs]
    for pop, out in zip(POPULATIONS, outs):
        names = "\t".join(r["local_id"] for r in people[pop])
        out.write((header + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + names + "\n").encode())
    write_vcf_records(c22, pops22, outs, table, rng_calls, carriers)
    write_vcf_records(cx, popsx, outs, table, rng_calls)
    for proc in procs:
        proc.stdin.close()
    if any(proc.wait() != 0 for proc in procs):
        sys.exit("gen_cohort.py: bgzip failed")
    for path in vcf_paths:
        subprocess.run(["tabix", "-f", "-p", "vcf", path], check=True)

    pos, r, a = c22.disease
    truth = {"seed": args.seed, "individuals_per_population": n,
             "disease_variant": {"chrom": "22", "pos": pos, "ref": r, "alt": a,
                                 "carriers": n_carriers, "phenotype": DISEASE_PHENOTYPE}}
    with open(os.path.join(args.out, "truth.json"), "w") as f:
        f.write(json.dumps(truth, indent=2))


if __name__ == "__main__":
    main()
