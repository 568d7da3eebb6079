"""HPO set similarity by PyPI pyhpo 4.0.0, the oracle of Øresund's matchmaking phenotype score.

Reads JSON on stdin: {"obo": PATH (hp.obo, plain or .gz), "genes": PATH (Øresund's
hpo-genes.tsv.gz), "pairs": [[[HP ids], [HP ids]], ...]} and prints JSON:
{"genes": N, "scores": [float, ...]}: HPOSet.similarity(kind="gene", method="lin", combine="BMA")
for each pair. pyhpo reads a data folder; this script writes one from the same ontology and gene
annotations the node uses (genes_to_phenotype.txt rebuilt from the `A` lines, symbols from the
`G` lines), plus pyhpo's own phenotype.hpoa (disease annotations: read by pyhpo, unused by a
gene-based score).
"""

import gzip
import json
import os
import shutil
import sys
import tempfile

import pyhpo
from pyhpo import HPOSet, Ontology


def opened(path):
    return gzip.open(path, "rt") if path.endswith(".gz") else open(path)


def main():
    request = json.load(sys.stdin)
    folder = tempfile.mkdtemp(prefix="pyhpo-oracle-")
    try:
        with opened(request["obo"]) as src, open(os.path.join(folder, "hp.obo"), "w") as dst:
            shutil.copyfileobj(src, dst)
        symbols, annotations = {}, []
        with opened(request["genes"]) as table:
            for line in table:
                if line.startswith("#"):
                    continue
                cols = line.rstrip("\n").split("\t")
                if cols[0] == "G":
                    symbols[cols[1]] = cols[2]
                elif cols[0] == "A":
                    annotations.append((cols[1], cols[2]))
        with open(os.path.join(folder, "genes_to_phenotype.txt"), "w") as out:
            out.write("ncbi_gene_id\tgene_symbol\thpo_id\thpo_name\tfrequency\tdisease_id\n")
            for term, gene in annotations:
                out.write(f"{gene}\t{symbols[gene]}\t{term}\t-\t-\t-\n")
        hpoa = os.path.join(os.path.dirname(pyhpo.__file__), "data", "phenotype.hpoa")
        shutil.copy(hpoa, os.path.join(folder, "phenotype.hpoa"))
        Ontology(data_folder=folder)
        scores = []
        for a, b in request["pairs"]:
            left, right = HPOSet.from_queries(a), HPOSet.from_queries(b)
            scores.append(left.similarity(right, kind="gene", method="lin", combine="BMA"))
        json.dump({"genes": len(Ontology.genes), "scores": scores}, sys.stdout)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
