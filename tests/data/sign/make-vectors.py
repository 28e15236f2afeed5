#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# How the signature test vectors were made, by a second path that shares no
# code with cairn: Python's json builds the RFC 8785 form (sorted ASCII
# keys, no white space, integers and short decimals only, so that both
# number rules agree), and `openssl pkeyutl -sign -rawin` signs it. For each
# vectorN.json (an unsigned object) it writes vectorN.canonical (the signed
# bytes), vectorN.sig (base64) and vectorN.signed.json (the object with the
# signature). cairn's test (tests/unit/test_sign.c) must produce the same
# bytes and signature; tests/cli/sign.sh has OpenSSL verify them.
# Not run by the test suite; kept to show how the files came about.
import base64, hashlib, json, subprocess, sys

EXT = "extension-definition--718342c2-66d1-4e46-a012-623a7b551ddb"
SIGNED_AT = "2026-12-07T08:00:00.000Z"

der = subprocess.run(["openssl", "pkey", "-in", "vector.pem", "-pubout",
                      "-outform", "DER"], capture_output=True, check=True).stdout
fpr = hashlib.sha256(der[-32:]).hexdigest()

def canon(v):
    return json.dumps(v, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")

for name in sys.argv[1:]:
    obj = json.load(open(name + ".json", encoding="utf-8"))
    ext = {"extension_type": "property-extension", "algorithm": "ed25519",
           "key": fpr, "signed": SIGNED_AT,
           "signer": "identity--5b8a3f4e-2c1d-4e6f-9a7b-0c1d2e3f4a5b"}
    obj.setdefault("extensions", {})[EXT] = ext
    data = canon(obj)
    open(name + ".canonical", "wb").write(data)
    sig = subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-inkey",
                          "vector.pem", "-in", name + ".canonical"],
                         capture_output=True, check=True).stdout
    b64 = base64.b64encode(sig).decode()
    open(name + ".sig", "w").write(b64 + "\n")
    ext["signature"] = b64
    with open(name + ".signed.json", "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")
