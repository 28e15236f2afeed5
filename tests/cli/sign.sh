#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# cairn key, sign and verify as a user runs them; every signature checked a
# second way, by OpenSSL's command line over canonical bytes that jq makes
# (and over the suite's test vectors); signed bundles still valid STIX.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${CAIRN_SRC:?CAIRN_SRC must name the source tree}/tests/cli/lib.sh"
need jq openssl
cd "$tmp" || exit 2
export CAIRN_DATA_DIR="$tmp/data"
EXT=extension-definition--718342c2-66d1-4e46-a012-623a7b551ddb
vectors=$CAIRN_DATA/sign
ID=identity--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061

# ---- keys ------------------------------------------------------------------
run key new producer --identity "$ID"
expect 0 "key new"
fpr=$(cut -d' ' -f2 "$out")
check "key new prints the name and a 64-hex fingerprint" \
    sh -c "grep -qE '^producer [0-9a-f]{64}$' '$out'"
check "the private key is readable by its owner only" \
    [ "$(stat -c %a data/keys/producer.key)" = 600 ]
check "the keys folder is private too" [ "$(stat -c %a data/keys)" = 700 ]
run key new producer
expect 1 "a second key new of the same name is refused"
check "...and says the key is never overwritten" said "never overwritten"
run key new ../evil
expect 2 "a key name with a slash is refused"
run key new stranger --dir "$tmp/elsewhere"
expect 0 "key new --dir"
check "...puts the key there" [ -s "$tmp/elsewhere/stranger.key" ]
run key list
expect 0 "key list"
check "key list shows the name, fingerprint and identity" \
    grep -qx "producer $fpr $ID" "$out"
run key export producer
expect 0 "key export"
cp "$out" producer.pub
check "the export has no private part" sh -c "! grep -q PRIVATE producer.pub"
check "the export names the fingerprint" \
    grep -qx "fingerprint: sha256:$fpr" producer.pub
check "OpenSSL reads the exported public key" \
    openssl pkey -pubin -in producer.pub -noout
check "...and its SHA-256 is the fingerprint" sh -c \
    "openssl pkey -pubin -in producer.pub -outform DER | tail -c 32 |
     sha256sum | grep -q '^$fpr '"
run key export stranger --dir "$tmp/elsewhere"
cp "$out" stranger.pub
run key export nosuch
expect 2 "export of a missing key"

# ---- the test vectors: OpenSSL verifies what cairn's unit test signs -------
for v in vector1 vector2; do
    openssl base64 -d -A -in "$vectors/$v.sig" -out "$v.bin"
    check "OpenSSL verifies test vector $v" openssl pkeyutl -verify -rawin \
        -pubin -inkey "$vectors/vector.pub.pem" \
        -in "$vectors/$v.canonical" -sigfile "$v.bin"
    run verify --trust "$vectors/vector.pub.pem" "$vectors/$v.signed.json"
    expect 0 "cairn verifies test vector $v"
done

# ---- sign and verify a bundle ------------------------------------------------
src=$CAIRN_EXAMPLES/stix/c2-infrastructure.json
nobj=$(jq '.objects | length' "$src")
run sign --key producer "$src"
expect 0 "sign"
cp "$out" signed.json
check "sign says how many it signed" said "$nobj objects signed"
check "every object of the bundle carries the extension" \
    [ "$(jq "[.objects[] | select(.extensions[\"$EXT\"].signature)] | length" \
        signed.json)" = "$nobj" ]
check "the bundle gained the extension-definition" \
    [ "$(jq "[.objects[] | select(.id == \"$EXT\")] | length" signed.json)" = 1 ]
run validate --strict signed.json
expect 0 "the signed bundle is valid STIX, without a warning"
schemas=${CAIRN_REF:-/nonexistent}/stix2-json-schemas/schemas
if [ -d "$schemas" ] && command -v python3 >/dev/null; then
    python3 "$CAIRN_SRC/tests/tools/stix_schema_check.py" "$schemas" \
        signed.json >schema.out 2>&1
    src_rc=$?
    if [ $src_rc -eq 2 ]; then
        cat schema.out
    else
        check "the signed bundle passes the OASIS JSON schemas ($(head -3 schema.out))" \
            [ $src_rc -eq 0 ]
    fi
else
    echo "skipped: no OASIS schemas at $schemas"
fi
run verify signed.json
expect 0 "verify with the data directory's keys"
check "verify counts every object valid" said "^$((nobj + 1)) valid, 0 not"
run verify --trust producer.pub signed.json
expect 0 "verify --trust the exported key"
mkdir peers && cp producer.pub peers/
run verify --keys peers signed.json
expect 0 "verify --keys DIR"

# The second path: jq's canonical form and OpenSSL's verification.
i=0
while [ $i -lt "$nobj" ]; do
    jq -j --argjson i $i ".objects[\$i] | del(.extensions[\"$EXT\"].signature)" \
        signed.json | jq -cSj . >canon.$i
    jq -r --argjson i $i ".objects[\$i].extensions[\"$EXT\"].signature" \
        signed.json | openssl base64 -d -A -out sig.$i
    check "OpenSSL verifies cairn's signature of objects[$i]" \
        openssl pkeyutl -verify -rawin -pubin -inkey producer.pub \
        -in canon.$i -sigfile sig.$i
    i=$((i + 1))
done

# Spelling is not content; content is.
jq -S --indent 7 . signed.json >respelled.json
run verify respelled.json
expect 0 "other white space and member order still verify"
jq '.objects[1].name += "!"' signed.json >tampered.json
run verify tampered.json
expect 1 "a changed name fails"
check "...naming the object and the verdict" \
    said "tampered.json: objects\[1\] .*: bad: "
run verify -q --keys "$tmp/elsewhere" signed.json
expect 1 "a key not trusted: exit 1"
check "...untrusted" said "untrusted"
run verify -q "$src"
expect 1 "an unsigned bundle: exit 1"
check "...unsigned" said "unsigned"
run verify nosuch.json
expect 2 "a missing file: exit 2"
printf 'nonsense\n' >bad.pub
run verify --trust bad.pub signed.json
expect 2 "an unreadable key file: exit 2"
check "...naming it" said "bad.pub"
run sign --key producer signed.json
expect 0 "signing a signed bundle again"
check "...leaves every signature as it was" said "0 objects signed"
check "...byte for byte in content" sh -c \
    "jq -cS . signed.json > a.c; jq -cS . '$out' > b.c; cmp -s a.c b.c"
run sign --key stranger "$src"
expect 2 "sign --key with a key elsewhere than DATA/keys needs its path"
run sign --key "$tmp/elsewhere/stranger.key" -o stranger.json "$src"
expect 0 "sign --key PATH -o FILE"
run verify -q --trust producer.pub stranger.json
expect 1 "the stranger's signatures are not the producer's"

# Revoked and out-of-date keys, as a peer marks its copy.
{ printf 'revoked: yes\n'; cat producer.pub; } >revoked.pub
run verify -q --trust revoked.pub signed.json
expect 1 "a revoked key"
check "...revoked" said "revoked"
{ printf 'not-after: 2000-01-01T00:00:00Z\n'; cat producer.pub; } >old.pub
run verify -q --trust old.pub signed.json
expect 1 "a key whose period is over"
check "...out-of-date" said "out-of-date"

# What a node produces, signed as it is written: feed and hunt output.
printf 'evil.example\n10.1.2.3\n' >list.txt
run feed import --format list --sign producer -o feed.json list.txt
expect 0 "feed import --sign -o FILE"
run verify --trust producer.pub feed.json
expect 0 "...its indicators verify"
check "...both, and the definition" said "^3 valid, 0 not"
printf '2024-01-01T00:00:00Z query evil.example from 10.0.0.1\n' >dns.txt
printf 'evil.example\n' >iocs.txt
run hunt -i iocs.txt --stix --sign producer --sightings sightings.json dns.txt
expect 1 "hunt --stix --sightings --sign finds the hit"
cp "$out" hunt.json
run verify --trust producer.pub hunt.json sightings.json
expect 0 "...the sighting and its identity verify, on stdout and in the file"
check "...identity, sighting and the definition in each" \
    said "^6 valid, 0 not"
run hunt -i iocs.txt --sign producer dns.txt
expect 2 "hunt --sign without a STIX output is a usage error"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
