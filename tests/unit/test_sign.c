/* SPDX-License-Identifier: Apache-2.0 */
/* Signatures: vectors made by a second path, tampering, trust, the gate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cairn/sign.h"
#include "cairn/store.h"

#define DIR CAIRN_TEST_DATA "/sign/"
#define SIGNER "identity--5b8a3f4e-2c1d-4e6f-9a7b-0c1d2e3f4a5b"
#define EXT CAIRN_SIGN_EXTENSION

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
    char *c = malloc(n + 1);
    assert_non_null(c);
    memcpy(c, buf, n + 1);
    return c;
}

static json_t *load_json(const char *path)
{
    json_error_t e;
    json_t *v = json_load_file(path, 0, &e);
    if (v == NULL)
        fail_msg("%s: %s", path, e.text);
    return v;
}

static struct cairn_sign_key *vector_key(void)
{
    struct cairn_sign_key *k = NULL;
    assert_int_equal(cairn_sign_key_load(DIR "vector.pem", &k, NULL), 0);
    assert_true(cairn_sign_key_is_private(k));
    assert_int_equal(cairn_sign_key_set_identity(k, SIGNER), 0);
    return k;
}

static struct cairn_trust *trust_of(const struct cairn_sign_key *k)
{
    struct cairn_trust *t = NULL;
    assert_int_equal(cairn_trust_new(&t), 0);
    assert_int_equal(cairn_trust_add_key(t, k), 0);
    return t;
}

static enum cairn_sign_verdict verdict_of(const json_t *obj,
                                          const struct cairn_trust *t)
{
    enum cairn_sign_verdict v;
    char why[300];
    assert_int_equal(cairn_sign_verify(obj, t, &v, why, sizeof why), 0);
    assert_true(why[0] != '\0');
    return v;
}

/* ---- vectors: canonical bytes from Python, signatures from OpenSSL ------- */

static void vector(const char *name)
{
    char path[512];
    size_t want_len = 0;
    struct cairn_time at;
    const char *ts = "2026-12-07T08:00:00.000Z";
    assert_int_equal(cairn_time_parse(ts, strlen(ts), true, &at), 0);

    struct cairn_sign_key *k = vector_key();
    snprintf(path, sizeof path, DIR "%s.json", name);
    json_t *obj = load_json(path);
    assert_int_equal(cairn_sign_object(obj, k, &at), 0);

    /* The same bytes signed... */
    char *canon = NULL;
    size_t len = 0;
    assert_int_equal(cairn_sign_canonical(obj, &canon, &len), 0);
    snprintf(path, sizeof path, DIR "%s.canonical", name);
    char *want = slurp(path, &want_len);
    assert_int_equal(len, want_len);
    assert_memory_equal(canon, want, len);

    /* ...and the same signature (Ed25519 is deterministic) as OpenSSL's. */
    snprintf(path, sizeof path, DIR "%s.sig", name);
    char *sig = slurp(path, NULL);
    sig[strcspn(sig, "\n")] = '\0';
    const char *mine = json_string_value(json_object_get(
        json_object_get(json_object_get(obj, "extensions"), EXT),
        "signature"));
    assert_string_equal(mine, sig);

    /* The file the other path signed verifies here. */
    struct cairn_trust *t = NULL;
    assert_int_equal(cairn_trust_new(&t), 0);
    assert_int_equal(cairn_trust_add_file(t, DIR "vector.pub.pem", NULL), 0);
    snprintf(path, sizeof path, DIR "%s.signed.json", name);
    json_t *theirs = load_json(path);
    assert_int_equal(verdict_of(theirs, t), CAIRN_SIGN_VALID);
    assert_int_equal(verdict_of(obj, t), CAIRN_SIGN_VALID);

    json_decref(theirs);
    cairn_trust_free(t);
    free(sig);
    free(want);
    cairn_free(canon);
    json_decref(obj);
    cairn_sign_key_free(k);
}

static void test_vectors(void **state)
{
    (void)state;
    vector("vector1");
    vector("vector2");
}

/* ---- what is a change and what is not ------------------------------------- */

/* `text` parsed, with the trust of the vector key. */
static enum cairn_sign_verdict verdict_text(const char *text,
                                            const struct cairn_trust *t)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);
    if (v == NULL)
        fail_msg("%s", e.text);
    enum cairn_sign_verdict r = verdict_of(v, t);
    json_decref(v);
    return r;
}

static void test_changes(void **state)
{
    (void)state;
    struct cairn_sign_key *k = vector_key();
    struct cairn_trust *t = trust_of(k);
    json_t *obj = load_json(DIR "vector2.json");
    assert_int_equal(cairn_sign_object(obj, k, NULL), 0);
    assert_int_equal(verdict_of(obj, t), CAIRN_SIGN_VALID);

    /* Other white space and member order: the same content. */
    char *sorted = json_dumps(obj, JSON_SORT_KEYS | JSON_INDENT(7));
    assert_int_equal(verdict_text(sorted, t), CAIRN_SIGN_VALID);
    free(sorted);
    json_t *rev = json_object();
    const char *key;
    json_t *val;
    const char *keys[64];
    size_t n = 0;
    json_object_foreach(obj, key, val) keys[n++] = key;
    while (n > 0) {
        n--;
        json_object_set(rev, keys[n], json_object_get(obj, keys[n]));
    }
    char *reversed = json_dumps(rev, JSON_COMPACT);
    assert_int_equal(verdict_text(reversed, t), CAIRN_SIGN_VALID);
    free(reversed);
    json_decref(rev);
    /* Escapes written another way are the same strings. */
    char *ascii = json_dumps(obj, JSON_ENSURE_ASCII);
    assert_int_equal(verdict_text(ascii, t), CAIRN_SIGN_VALID);
    free(ascii);

    /* Any change of content, however deep, is not. */
    static const char *const edits[] = {
        /* deep in a nested extension */
        "/extensions/windows-pebinary-ext/sections/1/hashes/MD5",
        "/extensions/windows-pebinary-ext/sections/0/entropy",
        "/extensions/x-note/text",
        "/name",
        "/size",
        /* the signed metadata */
        "/extensions/" EXT "/signed",
        "/extensions/" EXT "/signer",
    };
    for (size_t i = 0; i < sizeof edits / sizeof *edits; i++) {
        json_t *c = json_deep_copy(obj);
        json_t *parent = c;
        char path[256];
        snprintf(path, sizeof path, "%s", edits[i] + 1);
        char *seg = path, *slash;
        while ((slash = strchr(seg, '/')) != NULL) {
            *slash = '\0';
            parent = json_is_array(parent)
                         ? json_array_get(parent, (size_t)strtoul(seg, NULL, 10))
                         : json_object_get(parent, seg);
            seg = slash + 1;
        }
        json_t *leaf = json_object_get(parent, seg);
        assert_non_null(leaf);
        if (json_is_string(leaf)) {
            char s[300];
            snprintf(s, sizeof s, "%sX", json_string_value(leaf));
            if (i == 5)
                snprintf(s, sizeof s, "2026-12-07T08:00:00.001Z");
            json_object_set_new(parent, seg, json_string(s));
        } else if (json_is_integer(leaf)) {
            json_object_set_new(parent, seg,
                                json_integer(json_integer_value(leaf) + 1));
        } else {
            json_object_set_new(parent, seg,
                                json_real(json_real_value(leaf) + 0.125));
        }
        if (verdict_of(c, t) != CAIRN_SIGN_BAD)
            fail_msg("a change of %s went unnoticed", edits[i]);
        json_decref(c);
    }
    /* A member added, one removed, an array reordered. */
    json_t *c = json_deep_copy(obj);
    json_object_set_new(json_object_get(json_object_get(c, "extensions"),
                                        "x-note"),
                        "extra", json_true());
    assert_int_equal(verdict_of(c, t), CAIRN_SIGN_BAD);
    json_decref(c);
    c = json_deep_copy(obj);
    json_object_del(c, "size");
    assert_int_equal(verdict_of(c, t), CAIRN_SIGN_BAD);
    json_decref(c);
    c = json_deep_copy(obj);
    json_t *secs = json_object_get(
        json_object_get(json_object_get(c, "extensions"),
                        "windows-pebinary-ext"),
        "sections");
    json_t *first = json_incref(json_array_get(secs, 0));
    json_array_remove(secs, 0);
    json_array_append_new(secs, first);
    assert_int_equal(verdict_of(c, t), CAIRN_SIGN_BAD);
    json_decref(c);
    /* Another key's signature in its place. */
    c = json_deep_copy(obj);
    json_t *ext = json_object_get(json_object_get(c, "extensions"), EXT);
    char zeros[89];
    memset(zeros, 'A', 86);
    memcpy(zeros + 86, "==", 3);
    json_object_set_new(ext, "signature", json_string(zeros));
    assert_int_equal(verdict_of(c, t), CAIRN_SIGN_BAD);
    json_decref(c);

    json_decref(obj);
    cairn_trust_free(t);
    cairn_sign_key_free(k);
}

/* ---- malformed extensions ---------------------------------------------- */

static void test_malformed(void **state)
{
    (void)state;
    struct cairn_sign_key *k = vector_key();
    struct cairn_trust *t = trust_of(k);
    json_t *obj = load_json(DIR "vector1.json");

    assert_int_equal(verdict_of(obj, t), CAIRN_SIGN_UNSIGNED);
    assert_int_equal(cairn_sign_object(obj, k, NULL), 0);
    static const char *const members[] = {"algorithm", "key", "signed",
                                          "signature", "signer"};
    for (size_t i = 0; i < 5; i++) {
        json_t *c = json_deep_copy(obj);
        json_t *ext = json_object_get(json_object_get(c, "extensions"), EXT);
        json_object_set_new(ext, members[i], json_integer(7));
        assert_int_equal(verdict_of(c, t), CAIRN_SIGN_MALFORMED);
        if (i < 4) {
            json_object_del(ext, members[i]);
            assert_int_equal(verdict_of(c, t), CAIRN_SIGN_MALFORMED);
        }
        json_decref(c);
    }
    json_t *c = json_deep_copy(obj);
    json_t *ext = json_object_get(json_object_get(c, "extensions"), EXT);
    json_object_set_new(ext, "algorithm", json_string("rsa"));
    assert_int_equal(verdict_of(c, t), CAIRN_SIGN_MALFORMED);
    json_object_set_new(ext, "algorithm", json_string("ed25519"));
    json_object_set_new(ext, "signature", json_string("not base64!"));
    assert_int_equal(verdict_of(c, t), CAIRN_SIGN_MALFORMED);
    json_object_set_new(json_object_get(c, "extensions"), EXT,
                        json_string("x"));
    assert_int_equal(verdict_of(c, t), CAIRN_SIGN_MALFORMED);
    json_decref(c);
    json_t *arr = json_array();
    assert_int_equal(verdict_of(arr, t), CAIRN_SIGN_MALFORMED);
    json_decref(arr);

    json_decref(obj);
    cairn_trust_free(t);
    cairn_sign_key_free(k);
}

/* ---- keys, trust, revocation, validity --------------------------------- */

static void test_keys_and_trust(void **state)
{
    (void)state;
    char dir[] = "/tmp/cairn-sign-XXXXXX";
    char path[512], pub[512];
    assert_non_null(mkdtemp(dir));

    struct cairn_sign_key *k = NULL, *other = NULL, *back = NULL;
    assert_int_equal(cairn_sign_key_generate(&k), 0);
    assert_int_equal(cairn_sign_key_generate(&other), 0);
    assert_string_not_equal(cairn_sign_key_fingerprint(k),
                            cairn_sign_key_fingerprint(other));
    assert_int_equal(cairn_sign_key_set_name(k, "producer"), 0);
    assert_int_equal(cairn_sign_key_set_identity(k, "nope"), CAIRN_EINVAL);

    /* Saved readable by its owner only, never overwritten. */
    snprintf(path, sizeof path, "%s/producer.key", dir);
    assert_int_equal(cairn_sign_key_save(k, path), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(cairn_sign_key_save(k, path), CAIRN_EEXIST);
    assert_int_equal(cairn_sign_key_load(path, &back, NULL), 0);
    assert_string_equal(cairn_sign_key_fingerprint(back),
                        cairn_sign_key_fingerprint(k));
    assert_string_equal(cairn_sign_key_name(back), "producer");

    /* The export reads back as a public key with the same fingerprint. */
    char *text = NULL;
    assert_int_equal(cairn_sign_key_export(k, &text), 0);
    struct cairn_sign_key *pk = NULL;
    assert_int_equal(cairn_sign_key_parse(text, strlen(text), "x", &pk, NULL),
                     0);
    assert_false(cairn_sign_key_is_private(pk));
    assert_string_equal(cairn_sign_key_fingerprint(pk),
                        cairn_sign_key_fingerprint(k));
    json_t *obj = load_json(DIR "vector1.json");
    assert_int_equal(cairn_sign_object(obj, pk, NULL), CAIRN_EINVAL);
    cairn_sign_key_free(pk);

    /* A wrong fingerprint header or an unknown one is refused. */
    struct cairn_diag d;
    char bad[2048];
    snprintf(bad, sizeof bad, "fingerprint: sha256:%064d\n%s", 0,
             strstr(text, "-----BEGIN"));
    assert_int_equal(cairn_sign_key_parse(bad, strlen(bad), "f", &pk, &d),
                     CAIRN_EINVAL);
    assert_non_null(strstr(d.message, "does not match"));
    snprintf(bad, sizeof bad, "colour: blue\n%s", strstr(text, "-----BEGIN"));
    assert_int_equal(cairn_sign_key_parse(bad, strlen(bad), "f", &pk, &d),
                     CAIRN_EINVAL);
    assert_int_equal(d.line, 1);
    assert_int_equal(cairn_sign_key_parse("junk", 4, "f", &pk, &d),
                     CAIRN_EINVAL);

    /* Signed at a known time, checked against periods and revocations. */
    struct cairn_time at;
    assert_int_equal(
        cairn_time_parse("2026-06-01T00:00:00Z", 20, true, &at), 0);
    assert_int_equal(cairn_sign_object(obj, k, &at), 0);
    struct {
        const char *headers;
        enum cairn_sign_verdict want;
    } cases[] = {
        {"", CAIRN_SIGN_VALID},
        {"not-before: 2026-01-01T00:00:00Z\nnot-after: 2027-01-01T00:00:00Z\n",
         CAIRN_SIGN_VALID},
        {"not-before: 2026-07-01T00:00:00Z\n", CAIRN_SIGN_OUT_OF_DATE},
        {"not-after: 2026-05-31T23:59:59Z\n", CAIRN_SIGN_OUT_OF_DATE},
        {"revoked: 2026-05-01T00:00:00Z\n", CAIRN_SIGN_REVOKED},
        {"revoked: 2026-07-01T00:00:00Z\n", CAIRN_SIGN_VALID},
        {"revoked: yes\n", CAIRN_SIGN_REVOKED},
        {"identity: identity--00000000-0000-4000-8000-000000000001\n",
         CAIRN_SIGN_VALID}, /* the object names no signer */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        snprintf(pub, sizeof pub, "%s/peer%zu.pub", dir, i);
        FILE *f = fopen(pub, "w");
        assert_non_null(f);
        fprintf(f, "# a peer's copy\n%s%s", cases[i].headers, text);
        fclose(f);
        struct cairn_trust *t = NULL;
        assert_int_equal(cairn_trust_new(&t), 0);
        assert_int_equal(cairn_trust_add_file(t, pub, NULL), 0);
        if (verdict_of(obj, t) != cases[i].want)
            fail_msg("case %zu: verdict %s", i,
                     cairn_sign_verdict_name(verdict_of(obj, t)));
        cairn_trust_free(t);
        unlink(pub);
    }
    /* A key trusted for one identity does not sign for another. */
    assert_int_equal(cairn_sign_key_set_identity(
                         k, "identity--00000000-0000-4000-8000-000000000002"),
                     0);
    assert_int_equal(cairn_sign_object(obj, k, &at), 0);
    snprintf(pub, sizeof pub, "%s/peer.pub", dir);
    FILE *f = fopen(pub, "w");
    assert_non_null(f);
    fprintf(f, "identity: identity--00000000-0000-4000-8000-000000000001\n%s",
            text);
    fclose(f);
    struct cairn_trust *t = NULL;
    assert_int_equal(cairn_trust_new(&t), 0);
    assert_int_equal(cairn_trust_add_dir(t, dir, NULL), 0);
    assert_int_equal(cairn_trust_count(t), 1); /* .key and .pub: one key */
    assert_int_equal(verdict_of(obj, t), CAIRN_SIGN_UNTRUSTED);
    cairn_trust_free(t);
    /* Another key altogether is not trusted; no trust set at all neither. */
    t = trust_of(other);
    assert_int_equal(verdict_of(obj, t), CAIRN_SIGN_UNTRUSTED);
    assert_int_equal(verdict_of(obj, NULL), CAIRN_SIGN_UNTRUSTED);
    cairn_trust_free(t);

    unlink(pub);
    unlink(path);
    rmdir(dir);
    json_decref(obj);
    cairn_free(text);
    cairn_sign_key_free(back);
    cairn_sign_key_free(other);
    cairn_sign_key_free(k);
}

/* ---- the ingest hook: signing, require, check, and the stored bytes ----- */

struct seen {
    size_t invalid, stored, marks;
    char last[200];
};

static void on_result(const struct cairn_store_result *r, bool invalid,
                      void *ud)
{
    struct seen *s = ud;
    if (invalid) {
        s->invalid++;
        snprintf(s->last, sizeof s->last, "%s", r->message);
    } else if (r->outcome == CAIRN_STORE_STORED) {
        s->stored++;
    }
}

static void on_mark(const struct cairn_diag *d, void *ud)
{
    struct seen *s = ud;
    if (strcmp(d->rule, "signature") == 0)
        s->marks++;
}

static json_t *indicator(int n)
{
    char id[80];
    snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012d", n);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type",
                     "indicator", "spec_version", "2.1", "id", id, "created",
                     "2024-01-01T00:00:00.000Z", "modified",
                     "2024-01-01T00:00:00.000Z", "name", "x", "pattern",
                     "[ipv4-addr:value = '10.0.0.1']", "pattern_type", "stix",
                     "valid_from", "2024-01-01T00:00:00Z");
}

static void test_ingest_gate(void **state)
{
    (void)state;
    struct cairn_store *s = NULL;
    char coll[CAIRN_UUID_STRLEN], coll2[CAIRN_UUID_STRLEN];
    assert_int_equal(cairn_store_open("memory:", NULL, &s), 0);
    struct cairn_store_api_root root = {"api1", "API one", NULL, 0};
    assert_int_equal(cairn_store_api_root_put(s, &root), 0);
    struct cairn_store_collection c = {.api_root = "api1", .title = "a"};
    assert_int_equal(cairn_store_collection_create(s, &c, coll), 0);
    assert_int_equal(cairn_store_collection_create(s, &c, coll2), 0);
    struct cairn_sign_key *k = vector_key(), *rogue = NULL;
    assert_int_equal(cairn_sign_key_generate(&rogue), 0);
    struct cairn_trust *t = trust_of(k);

    /* A producer: what it creates is signed on the way in. */
    struct seen sn = {0};
    struct cairn_sign_gate g = {.signer = k};
    struct cairn_ingest_opts io = {.collection = coll,
                                   .on_result = on_result,
                                   .result_ud = &sn,
                                   .hook = cairn_sign_gate_hook,
                                   .hook_ud = &g};
    struct cairn_ingest *in = NULL;
    assert_int_equal(cairn_ingest_new(s, &io, &in), 0);
    for (int i = 1; i <= 3; i++) {
        json_t *o = indicator(i);
        assert_int_equal(cairn_ingest_add(in, o, NULL, 0, NULL, 0), 0);
        json_decref(o);
    }
    assert_int_equal(cairn_ingest_flush(in), 0);
    cairn_ingest_free(in);
    assert_int_equal(sn.stored, 3);
    assert_int_equal(g.signed_here, 3);

    /* What the store serves verifies: it kept what was signed. */
    struct cairn_store_query q = {.collection = coll, .with_json = true};
    struct cairn_store_page *page = NULL;
    assert_int_equal(cairn_store_query(s, &q, &page), 0);
    assert_int_equal(page->n, 3);
    json_t *served[3];
    for (size_t i = 0; i < 3; i++) {
        json_error_t e;
        served[i] = json_loadb(page->rows[i].json, page->rows[i].json_len, 0,
                               &e);
        assert_non_null(served[i]);
        assert_int_equal(verdict_of(served[i], t), CAIRN_SIGN_VALID);
    }
    cairn_store_page_free(page);

    /* A member with require: the producer's objects as they are, one
     * altered on the way, one signed by a stranger, one unsigned. */
    json_t *altered = json_deep_copy(served[1]);
    json_object_set_new(altered, "pattern",
                        json_string("[domain-name:value = 'bank.example']"));
    json_t *stranger = indicator(4);
    assert_int_equal(cairn_sign_object(stranger, rogue, NULL), 0);
    json_t *bare = indicator(5);
    json_t *batch[] = {served[0], altered, served[2], stranger, bare};

    sn = (struct seen){0};
    struct cairn_sign_gate req = {.policy = CAIRN_SIGN_REQUIRE,
                                  .trust = t,
                                  .cb = on_mark,
                                  .ud = &sn};
    io.collection = coll2;
    io.hook_ud = &req;
    assert_int_equal(cairn_ingest_new(s, &io, &in), 0);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(cairn_ingest_add(in, batch[i], NULL, 0, NULL, 0), 0);
    assert_int_equal(cairn_ingest_flush(in), 0);
    cairn_ingest_free(in);
    assert_int_equal(sn.stored, 2);
    assert_int_equal(sn.invalid, 3);
    assert_int_equal(sn.marks, 3);
    assert_non_null(strstr(sn.last, "signature unsigned"));
    assert_int_equal(req.verdicts[CAIRN_SIGN_VALID], 2);
    assert_int_equal(req.verdicts[CAIRN_SIGN_BAD], 1);
    assert_int_equal(req.verdicts[CAIRN_SIGN_UNTRUSTED], 1);
    assert_int_equal(req.verdicts[CAIRN_SIGN_UNSIGNED], 1);

    /* check: all stored (new ids here), the three marked. */
    sn = (struct seen){0};
    struct cairn_sign_gate chk = {.policy = CAIRN_SIGN_CHECK,
                                  .trust = t,
                                  .cb = on_mark,
                                  .ud = &sn};
    char coll3[CAIRN_UUID_STRLEN];
    assert_int_equal(cairn_store_collection_create(s, &c, coll3), 0);
    io.collection = coll3;
    io.hook_ud = &chk;
    assert_int_equal(cairn_ingest_new(s, &io, &in), 0);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(cairn_ingest_add(in, batch[i], NULL, 0, NULL, 0), 0);
    assert_int_equal(cairn_ingest_flush(in), 0);
    cairn_ingest_free(in);
    assert_int_equal(sn.stored, 5);
    assert_int_equal(sn.invalid, 0);
    assert_int_equal(sn.marks, 3);

    for (size_t i = 0; i < 3; i++)
        json_decref(served[i]);
    json_decref(altered);
    json_decref(stranger);
    json_decref(bare);
    cairn_trust_free(t);
    cairn_sign_key_free(rogue);
    cairn_sign_key_free(k);
    cairn_store_close(s);
}

/* Many at once, on several threads: the same verdicts as one by one. */
static void test_verify_many(void **state)
{
    (void)state;
    struct cairn_sign_key *k = vector_key();
    struct cairn_trust *t = trust_of(k);
    struct cairn_sign_key *stranger = NULL;
    enum { N = 300 };
    json_t *objs[N];
    unsigned char valid[N];

    assert_int_equal(cairn_sign_key_generate(&stranger), 0);
    for (int i = 0; i < N; i++) {
        objs[i] = indicator(i);
        assert_non_null(objs[i]);
        if (i % 5 != 4)
            assert_int_equal(
                cairn_sign_object(objs[i], i % 5 == 3 ? stranger : k, NULL),
                0);
        if (i % 5 == 2) /* altered after signing */
            json_object_set_new(objs[i], "name", json_string("y"));
    }
    for (unsigned threads = 1; threads <= 4; threads++) {
        memset(valid, 0xaa, sizeof valid);
        assert_int_equal(cairn_sign_verify_many(objs, N, t, valid, threads), 0);
        for (int i = 0; i < N; i++) {
            assert_int_equal(valid[i],
                             verdict_of(objs[i], t) == CAIRN_SIGN_VALID);
            assert_int_equal(valid[i], i % 5 < 2);
        }
    }
    assert_int_equal(cairn_sign_verify_many(objs, 0, t, valid, 0), 0);
    /* The gate counts an object the caller verified without verifying. */
    struct cairn_sign_gate g = {.policy = CAIRN_SIGN_REQUIRE, .trust = t};
    json_t *rep = NULL;
    char why[300];
    g.prevalid = true;
    assert_int_equal(cairn_sign_gate_hook(objs[0], &rep, why, sizeof why, &g),
                     0);
    g.prevalid = false;
    assert_int_equal(cairn_sign_gate_hook(objs[2], &rep, why, sizeof why, &g),
                     1);
    assert_int_equal(g.verdicts[CAIRN_SIGN_VALID], 1);
    assert_int_equal(g.verdicts[CAIRN_SIGN_BAD], 1);
    /* Under check the same object is stored, marked with the reason. */
    g.policy = CAIRN_SIGN_CHECK;
    assert_int_equal(cairn_sign_gate_hook(objs[2], &rep, why, sizeof why, &g),
                     2);
    assert_null(rep);
    assert_non_null(strstr(why, "signature bad: "));
    for (int i = 0; i < N; i++)
        json_decref(objs[i]);
    cairn_sign_key_free(stranger);
    cairn_trust_free(t);
    cairn_sign_key_free(k);
}

static void test_definition(void **state)
{
    (void)state;
    json_t *def = NULL;
    assert_int_equal(cairn_sign_extension_definition(&def), 0);
    assert_string_equal(json_string_value(json_object_get(def, "id")), EXT);
    struct cairn_validate_opts vo = {.strict = true};
    struct cairn_validate_stats st = {0};
    assert_int_equal(cairn_stix_validate_object(def, "", &vo, &st), 0);
    /* It passes unsigned; a changed copy does not. */
    assert_int_equal(verdict_of(def, NULL), CAIRN_SIGN_VALID);
    /* A node that signs what it stores leaves the definition unsigned. */
    struct cairn_sign_key *signer = vector_key();
    struct cairn_sign_gate g = {.signer = signer};
    json_t *rep = NULL;
    char why[200];
    assert_int_equal(cairn_sign_gate_hook(def, &rep, why, sizeof why, &g), 0);
    assert_null(rep);
    assert_int_equal(g.signed_here, 0);
    cairn_sign_key_free(signer);
    json_object_set_new(def, "name", json_string("other"));
    assert_int_equal(verdict_of(def, NULL), CAIRN_SIGN_UNSIGNED);
    json_decref(def);

    /* A signed object stays valid STIX, strictly. */
    struct cairn_sign_key *k = vector_key();
    json_t *obj = load_json(DIR "vector1.json");
    assert_int_equal(cairn_sign_object(obj, k, NULL), 0);
    st = (struct cairn_validate_stats){0};
    assert_int_equal(cairn_stix_validate_object(obj, "", &vo, &st), 0);
    assert_int_equal(st.warnings, 0);
    json_decref(obj);
    cairn_sign_key_free(k);
}

/* A reason is stored as a mark and printed: cut anywhere by the caller's
 * buffer, a key name of many-byte characters still leaves it UTF-8. */
static void test_reason_utf8(void **state)
{
    (void)state;
    struct cairn_sign_key *k = vector_key();
    json_t *obj = indicator(1);

    assert_int_equal(cairn_sign_key_set_name(
                         k, "cl\u00e9 \u00e9\u00e9\u00e9\u00e9\u00e9 "
                            "\u20ac\u20ac\u20ac \U0001F511\U0001F511"),
                     0);
    assert_int_equal(cairn_sign_object(obj, k, NULL), 0);
    struct cairn_trust *t = trust_of(k);
    for (size_t len = 2; len <= 80; len++) {
        char why[80];
        enum cairn_sign_verdict v;
        assert_int_equal(cairn_sign_verify(obj, t, &v, why, len), 0);
        assert_int_equal(v, CAIRN_SIGN_VALID);
        if (!cairn_utf8_valid(why, strlen(why)))
            fail_msg("a reason cut at %zu bytes is not UTF-8: %s", len, why);
    }
    cairn_trust_free(t);
    json_decref(obj);
    cairn_sign_key_free(k);
}

int main(void)
{
    cairn_alloc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_changes),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_keys_and_trust),
        cmocka_unit_test(test_ingest_gate),
        cmocka_unit_test(test_definition),
        cmocka_unit_test(test_verify_many),
        cmocka_unit_test(test_reason_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
