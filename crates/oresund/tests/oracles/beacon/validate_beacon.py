#!/usr/bin/env python3
"""Validate a JSON document against a Beacon v2 JSON schema from the local spec copy.

Usage:
    python3 validate_beacon.py SCHEMA_RELATIVE_PATH[#/json/pointer] < doc.json
    python3 validate_beacon.py --entity ENTRY < response.json      (beacon-verifier 0.3.3 logic)

SCHEMA_RELATIVE_PATH is relative to the spec root (default ../../fixtures/beacon-v2 from here,
override with --spec-root or $BEACON_SPEC_ROOT), e.g.
    framework/responses/beaconInfoResponse.json
    framework/responses/ga4gh-service-info-1-0-0-schema.json
    models/beacon-v2-default-model/genomicVariations/defaultSchema.json
Shortcuts: a path that does not exist under the spec root is also tried under
framework/ and models/beacon-v2-default-model/ ("responses/beaconInfoResponse.json",
"individuals/defaultSchema.json" work). A fragment selects a sub-schema, e.g.
    framework/requests/filteringTerms.json#/$defs/OntologyFilter

--entity ENTRY reproduces what beacon-verifier 0.3.3 checks for one entry-type endpoint
response (ENTRY = analyses|biosamples|cohorts|datasets|g_variants|individuals|runs, or the
model folder name): meta.returnedGranularity picks beaconBooleanResponse /
beaconCountResponse / beaconCollectionsResponse (datasets, cohorts) /
beaconResultsetsResponse, and when the granularity is "record" and
responseSummary.exists is true every item of response.collections or
response.resultSets[].results is validated against the entry type's defaultSchema.json.
Use --entity-parent datasets|cohorts for /datasets/{id}/... and /cohorts/{id}/...
related endpoints (the verifier then uses the collections logic, see beacon.md).

Exit status: 0 valid, 1 invalid (errors printed to stdout, one per line as
"<json path>: <message>"), 2 usage / IO / schema resolution problem.

$ref resolution (no network is used):
  * every local file is addressed by its file:// URI, relative refs resolve normally;
  * ".../framework/json/X" (the upstream repo layout used by the model's
    "../../../../framework/json/..." refs and by the
    https://raw.githubusercontent.com/ga4gh-beacon/beacon-v2/<branch>/framework/json/X refs)
    maps to <spec-root>/framework/X;
  * ".../models/json/beacon-v2-default-model/X" maps to <spec-root>/models/beacon-v2-default-model/X;
  * https://w3id.org/ga4gh/schema/vrs/1.3/vrs.json maps to vrs-1.3.json next to this
    script (or $BEACON_VRS_SCHEMA). That file is the VRS 1.3 schema shipped in the
    ga4gh.vrs 0.8.4 wheel (ga4gh/vrs/_internal/data/schema/vrs.json).
Formats are checked (like the Rust jsonschema crate used by beacon-verifier, which
checks formats in its default Draft 7 mode): date-time (RFC 3339), date, uri
(absolute URI with a scheme), uri-template. Disable with --no-formats.
"""
import argparse
import json
import os
import re
import sys
import urllib.parse
from pathlib import Path

try:
    import jsonschema
    from jsonschema import Draft202012Validator, FormatChecker
    import referencing
    import referencing.jsonschema
    from referencing import Registry, Resource
    from referencing.exceptions import NoSuchResource
except ImportError as e:  # pragma: no cover
    print(f"missing dependency: {e} (pip install jsonschema>=4.18)", file=sys.stderr)
    sys.exit(2)

HERE = Path(__file__).resolve().parent
SPEC_ROOT = Path(os.environ.get("BEACON_SPEC_ROOT", Path(__file__).resolve().parent.parent.parent / "fixtures" / "beacon-v2"))
VRS_SCHEMA = Path(os.environ.get("BEACON_VRS_SCHEMA", str(HERE / "vrs-1.3.json")))
MODEL_DIR = "models/beacon-v2-default-model"

ENTITY_DIRS = {
    "analyses": "analyses", "analysis": "analyses",
    "biosamples": "biosamples", "biosample": "biosamples",
    "cohorts": "cohorts", "cohort": "cohorts",
    "datasets": "datasets", "dataset": "datasets",
    "g_variants": "genomicVariations", "genomicVariations": "genomicVariations",
    "genomicVariant": "genomicVariations", "genomicvariations": "genomicVariations",
    "individuals": "individuals", "individual": "individuals",
    "runs": "runs", "run": "runs",
}


def _local_path_for(uri: str) -> Path:
    """Map a schema URI to a local file, or raise NoSuchResource."""
    parsed = urllib.parse.urlsplit(uri)
    path = urllib.parse.unquote(parsed.path)
    if parsed.scheme == "file" and Path(path).is_file():
        return Path(path)
    if "w3id.org" in parsed.netloc and "/vrs/" in path:
        if VRS_SCHEMA.is_file():
            return VRS_SCHEMA
        raise NoSuchResource(ref=uri)
    for marker, local in (
        ("/framework/json/", SPEC_ROOT / "framework"),
        ("/models/json/beacon-v2-default-model/", SPEC_ROOT / MODEL_DIR),
        ("/framework/", SPEC_ROOT / "framework"),
        ("/beacon-v2-default-model/", SPEC_ROOT / MODEL_DIR),
    ):
        if marker in path:
            candidate = local / path.split(marker, 1)[1]
            if candidate.is_file():
                return candidate
    raise NoSuchResource(ref=uri)


def _retrieve(uri: str) -> Resource:
    p = _local_path_for(uri)
    with open(p) as fh:
        contents = json.load(fh)
    dialect = contents.get("$schema") if isinstance(contents, dict) else None
    try:
        spec = referencing.jsonschema.specification_with(
            dialect, default=referencing.jsonschema.DRAFT202012
        ) if dialect else referencing.jsonschema.DRAFT202012
    except Exception:
        spec = referencing.jsonschema.DRAFT202012
    return Resource(contents=contents, specification=spec)


def _format_checker() -> FormatChecker:
    fc = FormatChecker()

    @fc.checks("uri")
    def _is_uri(instance):  # absolute URI (scheme required), no whitespace
        if not isinstance(instance, str):
            return True
        return bool(re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]*$", instance))

    # same regex as the Rust jsonschema crate 0.16 (used by beacon-verifier)
    uri_template = re.compile(
        r"^(?:(?:[^\x00-\x20\"'<>%\\^`{|}]|%[0-9a-f]{2})|\{[+#./;?&=,!@|]?(?:[a-z0-9_]|%[0-9a-f]{2})+"
        r"(?::[1-9][0-9]{0,3}|\*)?(?:,(?:[a-z0-9_]|%[0-9a-f]{2})+(?::[1-9][0-9]{0,3}|\*)?)*})*\Z"
    )

    @fc.checks("uri-template")
    def _is_uri_template(instance):
        if not isinstance(instance, str):
            return True
        return bool(uri_template.match(instance))

    if "date-time" not in fc.checkers:  # rfc3339-validator missing: fall back to a regex
        rfc3339 = re.compile(
            r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")

        @fc.checks("date-time")
        def _is_dt(instance):
            return not isinstance(instance, str) or bool(rfc3339.match(instance))
    return fc


def resolve_schema_path(rel: str) -> Path:
    rel = rel.lstrip("/")
    for base in (SPEC_ROOT, SPEC_ROOT / "framework", SPEC_ROOT / MODEL_DIR):
        p = base / rel
        if p.is_file():
            return p
    if Path(rel).is_file():
        return Path(rel).resolve()
    raise FileNotFoundError(rel)


def make_validator(schema_ref: str, formats: bool = True):
    path_part, _, fragment = schema_ref.partition("#")
    path = resolve_schema_path(path_part).resolve()
    uri = path.as_uri()
    registry = Registry(retrieve=_retrieve)
    if fragment:
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                  "$ref": f"{uri}#{fragment}"}
    else:
        with open(path) as fh:
            schema = json.load(fh)
        schema = dict(schema)
        schema["$id"] = uri  # gives relative $refs a base URI
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    kwargs = {"registry": registry}
    if formats:
        kwargs["format_checker"] = _format_checker()
    return Draft202012Validator(schema, **kwargs)


def errors_for(schema_ref: str, doc, formats: bool = True, prefix: str = ""):
    v = make_validator(schema_ref, formats)
    out = []
    for err in sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path)):
        loc = prefix + ("/" + "/".join(str(p) for p in err.absolute_path) if err.absolute_path else "/")
        out.append(f"{loc}: {err.message}")
        if err.context:  # oneOf/anyOf details, shortest first
            for sub in sorted(err.context, key=lambda e: len(list(e.absolute_path)))[:6]:
                sloc = "/".join(str(p) for p in sub.absolute_path)
                out.append(f"    - {prefix}/{sloc}: {sub.message}")
    return out


def verifier_style(doc, entity: str, parent: str | None, formats: bool):
    """Mimic beacon-verifier 0.3.3 endpoint.rs for one entry-type response."""
    entity_dir = ENTITY_DIRS.get(entity, entity)
    entity_schema = f"{MODEL_DIR}/{entity_dir}/defaultSchema.json"
    gran = (doc.get("meta") or {}).get("returnedGranularity") if isinstance(doc, dict) else None
    if gran not in ("boolean", "count", "aggregated", "record"):
        return [f"/meta/returnedGranularity: verifier cannot deserialize granularity {gran!r} "
                "(serde error -> valid:false)"]
    collections_like = ENTITY_DIRS.get(parent or entity, parent or entity) in ("datasets", "cohorts")
    if gran == "boolean":
        fw = "framework/responses/beaconBooleanResponse.json"
    elif gran == "count":
        fw = "framework/responses/beaconCountResponse.json"
    elif collections_like:
        fw = "framework/responses/beaconCollectionsResponse.json"
    else:
        fw = "framework/responses/beaconResultsetsResponse.json"
    errs = errors_for(fw, doc, formats)
    if errs or gran != "record":
        return errs
    try:
        if not doc["responseSummary"]["exists"]:
            return []
        if collections_like:
            items = [("/response/collections/%d" % i, x)
                     for i, x in enumerate(doc["response"]["collections"])]
        else:
            items = []
            for i, rs in enumerate(doc["response"]["resultSets"]):
                if "results" not in rs:
                    return [f"/response/resultSets/{i}: no 'results' -> beacon-verifier PANICS"]
                items += [(f"/response/resultSets/{i}/results/{j}", x)
                          for j, x in enumerate(rs["results"])]
    except (KeyError, TypeError) as e:
        return [f"structure error {e!r} -> beacon-verifier would panic"]
    out = []
    for where, item in items:
        out += errors_for(entity_schema, item, formats, prefix=where)
    return out


def main(argv=None):
    global SPEC_ROOT
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("schema", nargs="?", help="schema path relative to the spec root (optional #fragment)")
    ap.add_argument("--entity", help="verifier-style check of an entry-type endpoint response")
    ap.add_argument("--entity-parent", help="datasets|cohorts for /datasets/{id}/... related endpoints")
    ap.add_argument("--spec-root", help="default $BEACON_SPEC_ROOT or tests/fixtures/beacon-v2")
    ap.add_argument("--no-formats", action="store_true", help="do not check 'format'")
    ap.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    args = ap.parse_args(argv)
    if args.spec_root:
        SPEC_ROOT = Path(args.spec_root)
    if not args.schema and not args.entity:
        ap.print_usage(sys.stderr)
        return 2
    try:
        doc = json.load(sys.stdin)
    except json.JSONDecodeError as e:
        print(f"input is not JSON: {e}")
        return 2
    try:
        if args.entity:
            errs = verifier_style(doc, args.entity, args.entity_parent, not args.no_formats)
        else:
            errs = errors_for(args.schema, doc, not args.no_formats)
    except FileNotFoundError as e:
        print(f"schema not found: {e}")
        return 2
    except (referencing.exceptions.Unresolvable, NoSuchResource) as e:
        print(f"unresolvable $ref: {e}")
        return 2
    if errs:
        print("INVALID")
        for line in errs:
            print(line)
        return 1
    if not args.quiet:
        print("VALID")
    return 0


if __name__ == "__main__":
    sys.exit(main())
