/* SPDX-License-Identifier: Apache-2.0 */
/* Deterministic identifiers of Cyber-observable Objects (STIX 2.1, 2.9). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "stix/stix_int.h"

/* The namespace section 2.9 defines for SCO UUIDv5s. */
#define SCO_NAMESPACE "00abedb4-aa42-466c-9c01-fed23315a9b7"

/*
 * The validator computes the id of every SCO it sees, so the common case
 * avoids the generic path (a jansson object, cairn_json_canonical, and
 * cairn_uuid5, which looks SHA-1 up on every call): the canonical JSON is
 * written straight into a stack buffer and hashed with a SHA-1 fetched
 * once. Anything unusual (a float, a nested object, a long value) takes
 * the generic path, which gives the same bytes.
 */
#define FAST_MAX 4096

static const unsigned char ns_bytes[16] = {
    0x00, 0xab, 0xed, 0xb4, 0xaa, 0x42, 0x46, 0x6c,
    0x9c, 0x01, 0xfe, 0xd2, 0x33, 0x15, 0xa9, 0xb7,
};

static EVP_MD *sha1_md; /* fetched once, kept for the process's life */
static pthread_once_t sha1_once = PTHREAD_ONCE_INIT;

static void fetch_sha1(void)
{
    sha1_md = EVP_MD_fetch(NULL, "SHA1", NULL);
}

/* cairn_uuid5 in SCO_NAMESPACE, without its per-call lookups. */
static int sco_uuid5(const char *name, size_t len, char out[CAIRN_UUID_STRLEN])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned md_len = 0;

    pthread_once(&sha1_once, fetch_sha1);
    if (sha1_md == NULL)
        return cairn_uuid5(SCO_NAMESPACE, name, len, out);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return CAIRN_ENOMEM;
    int ok = EVP_DigestInit_ex2(ctx, sha1_md, NULL) == 1 &&
             EVP_DigestUpdate(ctx, ns_bytes, sizeof ns_bytes) == 1 &&
             EVP_DigestUpdate(ctx, name, len) == 1 &&
             EVP_DigestFinal_ex(ctx, md, &md_len) == 1 && md_len >= 16;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return CAIRN_EINTERNAL;
    md[6] = (unsigned char)((md[6] & 0x0f) | 0x50); /* version 5 */
    md[8] = (unsigned char)((md[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    size_t o = 0;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[md[i] >> 4];
        out[o++] = hex[md[i] & 0xf];
    }
    out[o] = '\0';
    return 0;
}

/* A bounded output buffer; `ok` turns false when something does not fit
 * or is not handled here. */
struct canon {
    char buf[FAST_MAX];
    size_t len;
    bool ok;
};

static void put(struct canon *c, const char *s, size_t n)
{
    if (!c->ok || n > sizeof c->buf - c->len) {
        c->ok = false;
        return;
    }
    memcpy(c->buf + c->len, s, n);
    c->len += n;
}

/* RFC 8785 section 3.2.2.2: the escapes of ECMAScript's JSON.stringify. */
static void put_string(struct canon *c, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    put(c, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        put(c, s + run, i - run);
        run = i + 1;
        char esc[6] = {'\\', 0, '0', '0', 0, 0};
        size_t esc_len = 2;
        switch (ch) {
        case '"':
        case '\\':
            esc[1] = (char)ch;
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\t':
            esc[1] = 't';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        default:
            esc[1] = 'u';
            esc[4] = hex[ch >> 4];
            esc[5] = hex[ch & 0xf];
            esc_len = 6;
            break;
        }
        put(c, esc, esc_len);
    }
    put(c, s + run, n - run);
    put(c, "\"", 1);
}

/* Strings, integers that print as themselves, booleans and lists of
 * those; anything else is left to the generic path. */
static void put_value(struct canon *c, const json_t *v, int depth)
{
    char num[24];
    switch (json_typeof(v)) {
    case JSON_STRING:
        put_string(c, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER: {
        json_int_t n = json_integer_value(v);
        /* beyond 2^53 a double prints otherwise (RFC 8785, 3.2.2.3) */
        if (n > 9007199254740992LL || n < -9007199254740992LL) {
            c->ok = false;
            break;
        }
        int len = snprintf(num, sizeof num, "%lld", (long long)n);
        put(c, num, (size_t)len);
        break;
    }
    case JSON_TRUE:
        put(c, "true", 4);
        break;
    case JSON_FALSE:
        put(c, "false", 5);
        break;
    case JSON_NULL:
        put(c, "null", 4);
        break;
    case JSON_ARRAY:
        if (depth > 4) {
            c->ok = false;
            break;
        }
        put(c, "[", 1);
        for (size_t i = 0; i < json_array_size(v) && c->ok; i++) {
            if (i > 0)
                put(c, ",", 1);
            put_value(c, json_array_get(v, i), depth + 1);
        }
        put(c, "]", 1);
        break;
    default: /* objects need sorting, reals ECMAScript's number format */
        c->ok = false;
        break;
    }
}

/*
 * Sections 6.1, 6.7 and 6.18: of a hashes property only one hash counts,
 * chosen in this order of preference. Beyond the list the specification
 * says nothing; like the reference implementation (stix2 for Python) we
 * take the first hash as written, so both compute the same ids.
 */
static const char *const hash_preference[] = {"MD5", "SHA-1", "SHA-256",
                                              "SHA-512", NULL};

/* The hash that contributes: false for an empty dictionary. */
static bool choose_hash(const json_t *hashes, const char **alg_out,
                        json_t **val_out)
{
    for (const char *const *p = hash_preference; *p != NULL; p++) {
        json_t *val = json_object_get(hashes, *p);
        if (val != NULL) {
            *alg_out = *p;
            *val_out = val;
            return true;
        }
    }
    void *it = json_object_iter((json_t *)hashes);
    if (it == NULL)
        return false;
    *alg_out = json_object_iter_key(it);
    *val_out = json_object_iter_value(it);
    return true;
}

/* The name of the UUIDv5 as a jansson object, canonicalised by
 * cairn_json_canonical: handles every value. */
static int generic_uuid(const json_t *obj, const char *const *keys, size_t n,
                        char uuid[CAIRN_UUID_STRLEN])
{
    int rc = CAIRN_ENOMEM;
    json_t *name = json_object();
    char *canon = NULL;
    size_t canon_len = 0;
    if (name == NULL)
        goto out;
    for (size_t i = 0; i < n; i++) {
        json_t *val = json_object_get(obj, keys[i]);
        const char *alg;
        json_t *hval;
        if (strcmp(keys[i], "hashes") == 0 && json_is_object(val)) {
            json_t *one = json_object();
            if (one == NULL)
                goto out;
            /* an empty dictionary still counts, as it was given */
            if (choose_hash(val, &alg, &hval) &&
                json_object_set(one, alg, hval) != 0) {
                json_decref(one);
                goto out;
            }
            /* set_new releases `one` even when it fails */
            if (json_object_set_new(name, keys[i], one) != 0)
                goto out;
        } else if (json_object_set(name, keys[i], val) != 0) {
            /* set, not a copy: the value is shared, never modified */
            goto out;
        }
    }
    rc = cairn_json_canonical(name, &canon, &canon_len);
    if (rc == 0)
        rc = sco_uuid5(canon, canon_len, uuid);
out:
    cairn_free(canon);
    json_decref(name);
    return rc;
}

/* The same bytes as generic_uuid for the common values; false when it
 * cannot tell. */
static bool fast_canon(const json_t *obj, const char *const *keys, size_t n,
                       struct canon *c)
{
    c->len = 0;
    c->ok = true;
    put(c, "{", 1);
    for (size_t i = 0; i < n && c->ok; i++) {
        json_t *val = json_object_get(obj, keys[i]);
        const char *alg;
        json_t *hval;
        if (i > 0)
            put(c, ",", 1);
        put_string(c, keys[i], strlen(keys[i]));
        put(c, ":", 1);
        if (strcmp(keys[i], "hashes") != 0 || !json_is_object(val)) {
            put_value(c, val, 0);
        } else if (!choose_hash(val, &alg, &hval)) {
            put(c, "{}", 2);
        } else {
            put(c, "{", 1);
            put_string(c, alg, strlen(alg));
            put(c, ":", 1);
            put_value(c, hval, 0);
            put(c, "}", 1);
        }
    }
    put(c, "}", 1);
    return c->ok;
}

int cairn_stix_sco_id(const json_t *obj, char out[CAIRN_STIX_ID_MAX])
{
    const char *keys[16];
    size_t n = 0;
    char uuid[CAIRN_UUID_STRLEN];
    struct canon c;
    int rc;

    out[0] = '\0';
    const char *type = cairn_stix_type(obj);
    const struct type_spec *spec = cairn__stix_type_lookup(type);
    if (!json_is_object(obj) || spec == NULL || spec->kind != CAIRN_STIX_SCO)
        return CAIRN_EINVAL;

    /* the present ones, sorted as RFC 8785 sorts members (ASCII names) */
    for (const char *const *p = spec->id_props; p != NULL && *p != NULL; p++) {
        if (json_object_get(obj, *p) == NULL || n == 16)
            continue;
        size_t i = n++;
        for (; i > 0 && strcmp(keys[i - 1], *p) > 0; i--)
            keys[i] = keys[i - 1];
        keys[i] = *p;
    }

    if (n == 0) {
        /* "If the contributing properties are all optional, and none are
         * present on the SCO, then a UUIDv4 MUST be used." */
        rc = cairn_uuid4(uuid);
    } else if (fast_canon(obj, keys, n, &c)) {
        rc = sco_uuid5(c.buf, c.len, uuid);
    } else {
        rc = generic_uuid(obj, keys, n, uuid);
    }
    if (rc != 0)
        return rc;
    size_t tlen = strlen(spec->type);
    memcpy(out, spec->type, tlen);
    memcpy(out + tlen, "--", 2);
    memcpy(out + tlen + 2, uuid, CAIRN_UUID_STRLEN);
    return 0;
}
