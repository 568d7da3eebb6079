"""Reference benchmark: patientMatcher 4.7.0 internal matching latency (offline).

Measures the wall time of one call to patientMatcher's own
``patientMatcher.match.handler.internal_matcher(db, query, 0.25, 0.75, 5, 0)``
per query patient. That call is the scoring behind POST /match: a full
phenotype scan scored with simGIC over HPO ancestors (IC from the bundled
phenotype.hpoa), plus a genotype match on shared genes/variants, combined,
sorted and cut to the top 5. The database is an in-memory ``mongomock``
``patients`` collection.

Cases and queries go through patientMatcher's own code, as the server's /patient/add
and /match endpoints do: ``mme_patient(p, convert_to_ensembl=True)``; cases are then
stored with ``backend_add_patient``. Query conversion happens before the timed
call, as in the server (check_request runs before internal_matcher). Loading
the cases and initialising the HPO/disease/IC extensions are timed separately
(stderr) and are not part of the per-query time.

Offline patches: patientMatcher normally calls the Ensembl REST API to map
gene symbols to Ensembl ids and to lift variants over between GRCh37 and GRCh38.
``patientMatcher.parse.patient.{symbol_to_ensembl, ensembl_to_symbol,
entrez_to_symbol, liftover}`` are replaced with stubs that return None. The
genotype matcher uses those same functions through parse.patient. So gene ids
stay HGNC symbols (``gene.id`` == ``gene._geneName`` == symbol) and variants are
not lifted over. As a tripwire, ``requests`` raises if anything still tries an
HTTP call, and the number of such attempts is printed to stderr.

Usage: python bench/patientmatcher_bench.py CASES_JSON QUERIES_JSON [--repeat N]
Prints: patientmatcher cases=N queries=Q p50_ms=.. p99_ms=.. max_ms=.. mean_results=..
(with --repeat N, each query is timed N times and every timing is counted)
"""
import argparse
import copy
import json
import math
import statistics
import sys
import time

import mongomock
import requests

NET_ATTEMPTS = []


def _no_network(self, method, url, *args, **kwargs):
    NET_ATTEMPTS.append(url)
    raise RuntimeError(f"network disabled in benchmark: {method} {url}")


requests.sessions.Session.request = _no_network

import patientMatcher.server  # noqa: E402  (must precede match.handler: circular import)
import patientMatcher.parse.patient as pm_parse  # noqa: E402
from patientMatcher.server import extensions as ext  # noqa: E402
from patientMatcher.match.handler import internal_matcher  # noqa: E402
from patientMatcher.utils.add import backend_add_patient  # noqa: E402

pm_parse.symbol_to_ensembl = lambda symbol: None  # keep the HGNC symbol as gene id
pm_parse.ensembl_to_symbol = lambda ensembl_id: None
pm_parse.entrez_to_symbol = lambda entrez_id: None
pm_parse.liftover = lambda build, chrom, start, end=None: None  # no lifted variants


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cases_json")
    ap.add_argument("queries_json")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    with open(args.cases_json) as f:
        cases = json.load(f)
    with open(args.queries_json) as f:
        queries = json.load(f)

    t0 = time.perf_counter()
    ext.hpo.init_app()
    ext.diseases.init_app()
    ext.hpoic.init_app(None, ext.hpo, ext.diseases)
    t_init = time.perf_counter() - t0

    t0 = time.perf_counter()
    db = mongomock.MongoClient().db
    for case in cases:
        backend_add_patient(db, pm_parse.mme_patient(copy.deepcopy(case), convert_to_ensembl=True))
    t_load = time.perf_counter() - t0
    n_cases = db["patients"].count_documents({})

    # internal_matcher pops "_id" from its argument, so every call gets a fresh copy.
    prepared = [pm_parse.mme_patient(copy.deepcopy(q), convert_to_ensembl=True) for q in queries]
    times_ms, n_results = [], []
    for _ in range(args.repeat):
        for q in prepared:
            query = copy.deepcopy(q)
            t0 = time.perf_counter()
            match = internal_matcher(db, query, 0.25, 0.75, 5, 0)
            times_ms.append((time.perf_counter() - t0) * 1000.0)
            n_results.append(len(match["results"][0]["patients"]))

    s = sorted(times_ms)
    rank = lambda p: s[max(1, math.ceil(p * len(s))) - 1]  # nearest rank, as rank_cases.rs
    print(
        f"patientmatcher cases={n_cases} queries={len(queries)} "
        f"p50_ms={rank(0.50):.2f} p99_ms={rank(0.99):.2f} max_ms={s[-1]:.2f} "
        f"mean_results={statistics.mean(n_results):.2f}"
    )
    print(
        f"init_s={t_init:.2f} load_s={t_load:.2f} repeat={args.repeat} "
        f"network_attempts={len(NET_ATTEMPTS)}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
