#!/usr/bin/env python3
"""Oracle: GA4GH VRS 2.0 Allele identifiers for VCF-style variants, computed by
vrs-python itself (PyPI `ga4gh.vrs`, tested with 2.3.3 / VRS 2.0.1).

Usage:
    python3 vrs_oracle.py REFERENCE.fa[.gz] < variants.tsv > ids.tsv
    python3 vrs_oracle.py --json REFERENCE.fa[.gz] < variants.tsv > ids.tsv

Input lines:   CHROM <TAB> POS <TAB> REF <TAB> ALT      (1-based, VCF style)
Output lines:  CHROM <TAB> POS <TAB> REF <TAB> ALT <TAB> ga4gh:VA.xxxxxxxx
With --json a 6th column holds the normalized Allele (model_dump, exclude_none)
and a 7th the canonical digest serialization of the Allele.
Lines starting with '#' and blank lines are copied through unchanged.
Alleles vrs-python does not translate (e.g. '*', '<DEL>', '.') get '.' as id;
a REF that does not match the reference, or an unknown contig, gets
'ERROR:<message>'.

The translation is exactly what vrs-python's VCF annotator does per allele:
AlleleTranslator._from_gnomad("CHROM-POS-REF-ALT") -> normalize (fully-justified,
rle_seq_limit=50) -> ga4gh_identify.  Only the sequence data proxy is written
here: a FASTA-backed subclass of vrs-python's _DataProxy, in which the refget
accession of each contig is SQ. + sha512t24u(upper-cased sequence).
"""

import gzip
import json
import logging
import sys

from ga4gh.core import ga4gh_identify, ga4gh_serialize, sha512t24u
from ga4gh.vrs.dataproxy import _DataProxy

try:
    from ga4gh.vrs.extras.translator import AlleleTranslator
except ImportError:
    # translator.py imports ga4gh.vrs.utils.hgvs_tools, which needs the optional
    # `hgvs` package (pip extra "ga4gh.vrs[extras]").  HGVS is only used lazily for
    # hgvs translation, never on the gnomad/VCF path, so stub that module out when
    # only the base package is installed.
    import types

    _stub = types.ModuleType("ga4gh.vrs.utils.hgvs_tools")
    _stub.HgvsTools = None
    sys.modules["ga4gh.vrs.utils.hgvs_tools"] = _stub
    from ga4gh.vrs.extras.translator import AlleleTranslator

ASSEMBLY = "GRCh38"  # name only used to build the "GRCh38:CHROM" alias


def read_fasta(path):
    opener = gzip.open if path.endswith(".gz") else open
    seqs, name, chunks = {}, None, []
    # gzip.open reads plain gzip as well as BGZF (multi-member gzip)
    with opener(path, "rt") as fh:
        for line in fh:
            if line.startswith(">"):
                if name is not None:
                    seqs[name] = "".join(chunks).upper()
                name = line[1:].strip().split()[0]
                chunks = []
            else:
                chunks.append(line.strip())
    if name is not None:
        seqs[name] = "".join(chunks).upper()
    return seqs


class FastaDataProxy(_DataProxy):
    """In-memory data proxy.  Every contig answers to the aliases
    NAME, GRCh38:NAME, SQ.xxx and ga4gh:SQ.xxx."""

    def __init__(self, fasta_path, assembly=ASSEMBLY):
        super().__init__()
        self.seqs = {}  # refget accession (SQ.xxx) -> sequence
        self.alias_to_ac = {}
        self.meta = {}
        for name, seq in read_fasta(fasta_path).items():
            ac = "SQ." + sha512t24u(seq.encode("ascii"))
            self.seqs[ac] = seq
            aliases = [f"ga4gh:{ac}", f"{assembly}:{name}"]
            for a in (name, ac, *aliases):
                self.alias_to_ac[a] = ac
            self.meta[ac] = {"length": len(seq), "alphabet": "".join(sorted(set(seq))),
                             "aliases": aliases}

    def _ac(self, identifier):
        try:
            return self.alias_to_ac[identifier]
        except KeyError:
            raise KeyError(identifier) from None

    def get_sequence(self, identifier, start=None, end=None):
        return self.seqs[self._ac(identifier)][start:end]

    def get_metadata(self, identifier):
        md = self.meta[self._ac(identifier)]
        return {"length": md["length"], "alphabet": md["alphabet"],
                "aliases": list(md["aliases"])}

    def refget_accession(self, chrom):
        return self.alias_to_ac.get(chrom)


def main(argv):
    want_json = False
    args = [a for a in argv[1:]]
    if args and args[0] == "--json":
        want_json = True
        args = args[1:]
    if len(args) != 1:
        sys.stderr.write(__doc__)
        return 2
    logging.disable(logging.CRITICAL)  # vrs-python logs every mismatch/unknown contig
    dp = FastaDataProxy(args[0])
    tlr = AlleleTranslator(dp, default_assembly_name=ASSEMBLY)  # rle_seq_limit=50 (default)
    out = sys.stdout
    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            out.write(line + "\n")
            continue
        chrom, pos, ref, alt = line.split("\t")[:4]
        vid, extra = ".", []
        if dp.refget_accession(chrom) is None:
            out.write("\t".join([chrom, pos, ref, alt, f"ERROR:unknown contig {chrom}"]) + "\n")
            continue
        try:
            allele = tlr.translate_from(f"{chrom}-{pos}-{ref}-{alt}", fmt="gnomad",
                                        assembly_name=ASSEMBLY, require_validation=True)
            vid = allele.id or ga4gh_identify(allele)
            if want_json:
                extra = [json.dumps(allele.model_dump(exclude_none=True), sort_keys=True,
                                    separators=(",", ":")),
                         ga4gh_serialize(allele).decode("utf-8")]
        except ValueError as e:  # unparsable allele (e.g. '*', '<DEL>')
            if "Unable to parse" not in str(e):
                vid = "ERROR:" + str(e).replace("\t", " ")
        except Exception as e:  # noqa: BLE001  (e.g. DataProxyValidationError)
            vid = "ERROR:" + str(e).replace("\t", " ")
        out.write("\t".join([chrom, pos, ref, alt, vid, *extra]) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
