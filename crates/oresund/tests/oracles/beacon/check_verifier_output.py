#!/usr/bin/env python3
"""Classify beacon-verifier 0.3.3 JSON output (its stdout) per endpoint.

Usage: beacon-verifier ... URL | python3 check_verifier_output.py [--tolerate-unresolvable-refs] [--require ENTITY ...]
Prints one line per endpoint: PASS|FAIL|UNREACHABLE <entity> | <name> | <url> | <first error line>
Exit 0 when every endpoint passes (and every --require'd entity key is present), else 1.

--tolerate-unresolvable-refs: with the stock local framework (no "$id"s) the verifier can
resolve no relative "$ref" and reports every reachable endpoint invalid with lines like
  failed to resolve json-schema:///sections/beaconResponseMeta.json: cannot resolve relative external schema without root schema ID ()
With this flag an endpoint whose error consists ONLY of such lines counts as PASS
(any other error line - missing required property, type error, serde error - still FAILs;
valid == null, i.e. unreachable / non-2xx / non-JSON, always FAILs).
"""
import json, re, sys
RESOLVER = re.compile(r"^(Response does not match the schema: )?failed to resolve json-schema:///\S+: "
                      r"cannot resolve relative external schema without root schema ID \(\)$")
args = sys.argv[1:]
tolerate = "--tolerate-unresolvable-refs" in args
required = [args[i + 1] for i, a in enumerate(args) if a == "--require" and i + 1 < len(args)]
out = json.load(sys.stdin)
ok = True
entities = out.get("entities") or {}
if not entities:
    print(f"FAIL no entities in output (beacon unreachable?): {out.get('name')}")
    sys.exit(1)
for r in required:
    if r not in entities:
        print(f"FAIL required entity {r!r} missing"); ok = False
for ent, reports in entities.items():
    for rep in reports:
        err = (rep.get("error") or "").strip()
        lines = [l for l in err.split("\n") if l.strip()]
        if rep.get("valid") is True:
            status = "PASS"
        elif rep.get("valid") is None:
            status = "UNREACHABLE"
        elif tolerate and lines and all(RESOLVER.match(l) for l in lines):
            status = "PASS"
        else:
            status = "FAIL"
        if status != "PASS":
            ok = False
        other = [l for l in lines if not RESOLVER.match(l)]
        print(f"{status} {ent} | {rep.get('name')} | {rep.get('url')} | {(other or lines or [''])[0][:200]}")
sys.exit(0 if ok else 1)
