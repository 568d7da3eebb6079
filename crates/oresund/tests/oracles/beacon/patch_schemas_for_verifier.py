#!/usr/bin/env python3
"""Make a copy of the Beacon v2 framework + default model that beacon-verifier 0.3.3 can resolve.

beacon-verifier 0.3.3 compiles each schema from an in-memory JSON value with no base URI
(jsonschema crate 0.16 uses "json-schema:///"), so every relative "$ref" fails with
"cannot resolve relative external schema without root schema ID" and every response
is reported invalid. This script copies SPEC_ROOT/framework and
SPEC_ROOT/models/beacon-v2-default-model to OUT/, adds an absolute file:// "$id" to every
schema file and rewrites the upstream-layout refs
("../../../../framework/json/...", "https://raw.githubusercontent.com/.../framework/json/...",
".../models/json/beacon-v2-default-model/...", "https://w3id.org/ga4gh/schema/vrs/1.3/vrs.json")
to absolute file:// URIs of the copy (VRS 1.3 from vrs-1.3.json next to this script).

Usage: python3 patch_schemas_for_verifier.py OUT [SPEC_ROOT]
Then:  beacon-verifier -f file://OUT/framework -m file://OUT/models/beacon-v2-default-model URL
"""
import json, shutil, sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
out = Path(sys.argv[1]).resolve()
spec = Path(sys.argv[2] if len(sys.argv) > 2 else Path(__file__).resolve().parent.parent.parent / "fixtures" / "beacon-v2")
fw, model = out / "framework", out / "models" / "beacon-v2-default-model"
if out.exists():
    shutil.rmtree(out)
shutil.copytree(spec / "framework", fw)
shutil.copytree(spec / "models" / "beacon-v2-default-model", model)
shutil.copy(HERE / "vrs-1.3.json", out / "vrs-1.3.json")

def rewrite(ref: str) -> str:
    for marker, base in (("framework/json/", fw), ("models/json/beacon-v2-default-model/", model)):
        if marker in ref:
            rest = ref.split(marker, 1)[1]
            path, _, frag = rest.partition("#")
            return (base / path).as_uri() + (("#" + frag) if frag else "")
    if "w3id.org/ga4gh/schema/vrs/" in ref:
        frag = ref.partition("#")[2]
        return (out / "vrs-1.3.json").as_uri() + (("#" + frag) if frag else "")
    return ref

def walk(o):
    if isinstance(o, dict):
        return {k: (rewrite(v) if k == "$ref" and isinstance(v, str) else walk(v)) for k, v in o.items()}
    if isinstance(o, list):
        return [walk(x) for x in o]
    return o

n = 0
for f in list(fw.rglob("*.json")) + list(model.rglob("*.json")):
    if "examples" in f.parts:
        continue
    d = json.loads(f.read_text())
    if isinstance(d, dict):
        d = walk(d)
        d["$id"] = f.as_uri()
        f.write_text(json.dumps(d, indent=1))
        n += 1
print(f"patched {n} files under {out}")
