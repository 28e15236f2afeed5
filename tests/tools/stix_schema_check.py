#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# stix_schema_check.py SCHEMAS_DIR FILE...: validates every object of each
# STIX bundle against the OASIS STIX 2.1 JSON schemas (python3-jsonschema),
# for tests that must show cairn's output is STIX other tools accept. Exit
# 0 when all pass, 1 with one line per failure, 2 when it cannot run.
import json, os, sys

try:
    import jsonschema
    from referencing import Registry, Resource
except ImportError:
    print("skipped: python3-jsonschema with referencing is not installed")
    sys.exit(2)

root = os.path.abspath(sys.argv[1])
BASE = ("http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/"
        "stix2.1/schemas/")
resources = []
for d, _, files in os.walk(root):
    for f in files:
        if f.endswith(".json"):
            p = os.path.join(d, f)
            rel = os.path.relpath(p, root)
            res = Resource.from_contents(json.load(open(p)))
            resources.append((BASE + rel, res))
registry = Registry().with_resources(resources)

def schema_for(t):
    for sub in ("sdos", "sros", "observables", "common"):
        uri = BASE + sub + "/" + t + ".json"
        try:
            return registry.contents(uri), uri
        except Exception:
            continue
    return None, None

bad = 0
for path in sys.argv[2:]:
    doc = json.load(open(path, encoding="utf-8"))
    objs = doc.get("objects", []) if doc.get("type") == "bundle" else [doc]
    for i, o in enumerate(objs):
        schema, uri = schema_for(o.get("type", ""))
        if schema is None:
            continue
        v = jsonschema.Draft202012Validator(
            {"$ref": uri}, registry=registry)
        for e in v.iter_errors(o):
            bad += 1
            print("%s: objects[%d] %s: %s" % (path, i, o.get("id"), e.message))
sys.exit(1 if bad else 0)
