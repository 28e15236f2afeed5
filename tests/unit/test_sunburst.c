/* SPDX-License-Identifier: Apache-2.0 */
/* The SUNBURST analyser: published vectors, an encoder's round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/analysis.h"
#include "cairn/stix.h"

/* ---- an encoder, as the implant does it, its random choices injected ---- */

static const char B32[] = "ph2eifo3n5utg1j8d94qrvbmk0sal76c";
static const char SUBST[] = "rq3gsalt6u1iyfzop572d49bnx8cvmkewhj";
static const char *const REGIONS[4] = {"eu-west-1", "us-west-2",
                                       "us-east-1", "us-east-2"};

/* A small deterministic generator, so failures can be replayed. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

static size_t b32_encode(const uint8_t *in, size_t n, bool random_tail,
                         char *out)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        acc |= (uint32_t)in[i] << bits;
        bits += 8;
        while (bits >= 5) {
            out[o++] = B32[acc & 31];
            acc >>= 5;
            bits -= 5;
        }
    }
    if (bits > 0) {
        uint32_t v = acc & 31;
        if (random_tail)
            v |= (rnd() << bits) & 31;
        out[o++] = B32[v];
    }
    out[o] = '\0';
    return o;
}

/* DecryptShort: the substitution cipher, or "00" and base32. */
static void encode_domain(const char *domain, char *out)
{
    static const char plain[] = "0123456789abcdefghijklmnopqrstuvwxyz-_.";
    bool simple = true;
    for (const char *p = domain; *p; p++)
        if (strchr(plain, *p) == NULL)
            simple = false;
    if (!simple) {
        out[0] = out[1] = '0';
        b32_encode((const uint8_t *)domain, strlen(domain), false, out + 2);
        return;
    }
    size_t o = 0;
    for (const char *p = domain; *p; p++) {
        const char *esc = strchr("0_-.", *p);
        if (esc != NULL) {
            out[o++] = '0';
            out[o++] = SUBST[(esc - "0_-.") + 4 * (int)(rnd() % 8)];
        } else {
            size_t i = (size_t)(strchr(SUBST, *p) - SUBST);
            out[o++] = SUBST[(i + 4) % 35];
        }
    }
    out[o] = '\0';
}

static void secure_string(const uint8_t *data, size_t n, bool high,
                          uint8_t key, char *out)
{
    uint8_t buf[32];
    buf[0] = high ? (uint8_t)(key | 0x80) : (uint8_t)(key & 0x7f);
    if (buf[0] == 0 || buf[0] == 0x80)
        buf[0] |= 1;
    for (size_t i = 0; i < n; i++)
        buf[1 + i] = data[i] ^ buf[0];
    b32_encode(buf, n + 1, true, out);
}

static char seq_char(int n, char c0)
{
    if (n < 0 || n >= 36)
        n = 35;
    return "0123456789abcdefghijklmnopqrstuvwxyz"[(n + (unsigned char)c0) %
                                                  36];
}

/* Every query name carrying `domain` for `guid`; returns how many. */
static size_t encode_queries(const uint8_t guid[8], const char *domain,
                             char names[40][128])
{
    char dn[1024];
    encode_domain(domain, dn);
    size_t len = strlen(dn), off = 0, k = 0;
    while (off < len && k < 36) {
        char g[16];
        secure_string(guid, 8, true, (uint8_t)(rnd() % 126 + 1), g);
        size_t n = len - off < 16 ? len - off : 16;
        char chunk[20];
        memcpy(chunk, dn + off, n);
        chunk[n] = '\0';
        if (strchr("-_0", chunk[n - 1]) != NULL) {
            if (n == 16) {
                chunk[15] = '\0';
                off += 15;
            } else {
                off += n;
            }
            size_t cl = strlen(chunk);
            chunk[cl] = '0';
            chunk[cl + 1] = '\0';
        } else {
            off += n;
        }
        int seq = off >= len ? -1 : (int)k;
        snprintf(names[k], 128, "%.15s%c%s.appsync-api.%s.avsvmcloud.com", g,
                 seq_char(seq, g[0]), chunk, REGIONS[guid[0] % 4]);
        k++;
    }
    return k;
}

static void beacon(const uint8_t guid[8], int64_t when, bool flag, bool ex,
                   uint16_t services, char out[128])
{
    uint8_t buf[13];
    uint32_t t = (uint32_t)(((when - 1262304000) / 1800) & 0x7ffff);
    uint32_t h = (t << 1) | (flag ? 1 : 0);
    buf[8] = (uint8_t)(((h >> 16) & 0x0f) | ((ex ? 2 : 1) << 4));
    buf[9] = (uint8_t)(h >> 8);
    buf[10] = (uint8_t)h;
    for (int i = 0; i < 8; i++)
        buf[i] = guid[i] ^ buf[10 - (i % 2)];
    buf[11] = (uint8_t)(services >> 8);
    buf[12] = (uint8_t)services;
    char label[32];
    secure_string(buf, ex ? 13 : 11, false, (uint8_t)(rnd() % 126 + 1), label);
    snprintf(out, 128, "%s.appsync-api.%s.avsvmcloud.com", label,
            REGIONS[guid[0] % 4]);
}

/* ---- helpers ---------------------------------------------------------------- */

static void hex8(const uint8_t g[8], char out[17])
{
    for (int i = 0; i < 8; i++)
        snprintf(out + 2 * i, 3, "%02x", g[i]);
}

static enum cairn_sunburst_kind label(const char *name,
                                      struct cairn_sunburst_label *l)
{
    return cairn_sunburst_decode_label(name, strlen(name), l);
}

static void decode_chunk(const struct cairn_sunburst_label *l, char *out,
                         size_t cap)
{
    int n = cairn_sunburst_decode_domain(l->chunk, l->chunk_len, out, cap);
    assert_true(n >= 0);
}

static struct cairn_analyser *analyser(void)
{
    struct cairn_analyser *a;
    assert_int_equal(cairn_analyser_new("sunburst", &a), 0);
    return a;
}

static void feed(struct cairn_analyser *a, const char *name)
{
    struct cairn_dns_name n = {.name = name, .len = strlen(name)};
    assert_int_equal(cairn_analyser_add_name(a, &n), 0);
}

static json_t *findings(struct cairn_analyser *a)
{
    json_t *f;
    assert_int_equal(cairn_analyser_findings(a, &f), 0);
    return f;
}

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* ---- the published vectors --------------------------------------------------- */

static void test_vectors(void **state)
{
    (void)state;
    struct cairn_sunburst_label l;
    char gh[17], text[256];

    assert_int_equal(label("r1qshoj05ji05ac6eoip02jovt6i2v0c.appsync-api."
                           "us-west-2.avsvmcloud.com", &l),
                     CAIRN_SUNBURST_DOMAIN);
    hex8(l.guid, gh);
    assert_string_equal(gh, "f9a9387f7d252842");
    assert_int_equal(l.seq, 0);
    assert_true(l.region_ok);

    assert_int_equal(label("1fik67gkncg86q6daovthro0love0oe2.appsync-api."
                           "eu-west-1.avsvmcloud.com", &l),
                     CAIRN_SUNBURST_DOMAIN);
    hex8(l.guid, gh);
    assert_string_equal(gh, "bd41966e451e4a0a");
    assert_int_equal(l.seq, 0);
    decode_chunk(&l, text, sizeof text);
    assert_string_equal(text, "qingmei-inc.co");

    assert_int_equal(label("fivu4vjamve5vfrtn2huov.appsync-api.us-east-1."
                           "avsvmcloud.com", &l),
                     CAIRN_SUNBURST_DOMAIN);
    assert_int_equal(l.seq, CAIRN_SUNBURST_FINAL_SEQ);
    decode_chunk(&l, text, sizeof text);
    assert_string_equal(text, "domain");

    assert_int_equal(label("7cbtailjomqle1pjvr2d32i2voe60ce2.appsync-api."
                           "us-east-1.avsvmcloud.com", &l),
                     CAIRN_SUNBURST_DOMAIN);
    hex8(l.guid, gh);
    assert_string_equal(gh, "2648f48a1bb3c3e7");
    assert_int_equal(l.seq, 0);
    assert_true(l.region_ok);
    decode_chunk(&l, text, sizeof text);
    assert_string_equal(text, "neophotonics.co");

    /* Upper case and a trailing dot are the same query. */
    assert_int_equal(label("6A57JK2BA1D9KEG15CBG.appsync-api.EU-WEST-1."
                           "avsvmcloud.com.", &l),
                     CAIRN_SUNBURST_NEXT);
    hex8(l.guid, gh);
    assert_string_equal(gh, "fc07eb59e028d3ee");
    assert_true(l.stage2);
    assert_true(l.region_ok);
    struct cairn_time t = {.sec = l.when};
    assert_int_equal(cairn_time_format(&t, 0, text, sizeof text), 20);
    assert_string_equal(text, "2020-06-13T09:00:00Z");

    /* 23 characters, but the key's high bit says domain-carrying. */
    assert_int_equal(label("0gct9eggl7j19gcbu30b2st.appsync-api.eu-west-1."
                           "avsvmcloud.com", &l),
                     CAIRN_SUNBURST_DOMAIN);
    decode_chunk(&l, text, sizeof text);
    assert_string_equal(text, "ah.org");
}

/* The two queries of city.kingston.on.ca make one complete victim. */
static void test_victim_assembled(void **state)
{
    (void)state;
    struct cairn_analyser *a = analyser();
    feed(a, "olc62cocacn7u2q22v02eu.appsync-api.us-west-2.avsvmcloud.com");
    feed(a, "r1qshoj05ji05ac6eoip02jovt6i2v0c.appsync-api.us-west-2."
            "avsvmcloud.com");
    json_t *f = findings(a);
    assert_int_equal(json_array_size(f), 1);
    json_t *v = json_array_get(f, 0);
    assert_string_equal(str(v, "guid"), "f9a9387f7d252842");
    assert_string_equal(str(v, "domain"), "city.kingston.on.ca");
    assert_string_equal(str(v, "status"), "complete");
    assert_string_equal(str(v, "encoding"), "substitution");
    assert_int_equal(json_integer_value(json_object_get(v, "queries")), 2);
    json_decref(f);
    cairn_analyser_free(a);
}

/* ---- round trips through the encoder --------------------------------------- */

static void random_domain(int cls, size_t len, char *out)
{
    static const char simple[] = "abcdefghijklmnopqrstuvwxyz0123456789-_.";
    static const char upper[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij.-";
    size_t o = 0;
    while (o < len) {
        if (cls == 0) {
            out[o++] = simple[rnd() % (sizeof simple - 1)];
        } else if (cls == 1) {
            /* at least one capital letter: that is what forces base32 */
            char c = o == 0 ? (char)('A' + rnd() % 26)
                            : upper[rnd() % (sizeof upper - 1)];
            out[o++] = c;
        } else if (o + 2 <= len && rnd() % 3 == 0) {
            out[o++] = (char)0xc3; /* é, ü, ...: two UTF-8 bytes */
            out[o++] = (char)(0xa0 + rnd() % 0x1f);
        } else {
            out[o++] = (char)('a' + rnd() % 26);
        }
    }
    out[len] = '\0';
}

static void test_round_trip(void **state)
{
    (void)state;
    for (int cls = 0; cls < 3; cls++) {
        for (size_t len = 1; len <= 200; len++) {
            char domain[256], names[40][128];
            uint8_t guid[8];
            for (int i = 0; i < 8; i++)
                guid[i] = (uint8_t)rnd();
            random_domain(cls, len, domain);
            size_t n = encode_queries(guid, domain, names);
            /* The guard of 36 chunks: longer names are cut by the implant. */
            if (n == 36)
                continue;
            struct cairn_analyser *a = analyser();
            /* In reverse order: the decoder sorts chunks by sequence. */
            for (size_t i = n; i-- > 0;)
                feed(a, names[i]);
            json_t *f = findings(a);
            assert_int_equal(json_array_size(f), 1);
            json_t *v = json_array_get(f, 0);
            char gh[17];
            hex8(guid, gh);
            if (strcmp(str(v, "domain"), domain) != 0 ||
                strcmp(str(v, "status"), "complete") != 0 ||
                strcmp(str(v, "guid"), gh) != 0)
                fail_msg("class %d length %zu: '%s' came back as '%s' (%s)",
                         cls, len, domain, str(v, "domain"), str(v, "status"));
            bool plain = strspn(domain, "0123456789abcdefghijklmnopqrstuvwxyz"
                                        "-_.") == len;
            assert_string_equal(str(v, "encoding"),
                                plain ? "substitution" : "base32");
            assert_int_equal(
                json_integer_value(json_object_get(v, "region_mismatches")),
                0);
            json_decref(f);
            cairn_analyser_free(a);
        }
    }
}

/* ---- what real logs hold besides clean queries ------------------------------- */

static void test_missing_chunks_and_resends(void **state)
{
    (void)state;
    uint8_t guid[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    char names[40][128];
    const char *domain = "corp.example-utility.internal.local.branch-office.lan";
    size_t n = encode_queries(guid, domain, names);
    /* A chunk missing before a later one is known to be missing; the last
     * non-final chunk missing cannot be told from a shorter name. */
    assert_true(n >= 4);

    struct cairn_analyser *a = analyser();
    for (size_t i = 0; i < n; i++)
        if (i != 1) /* chunk 1 never seen */
            feed(a, names[i]);
    /* A resend of chunk 0 with a fresh key changes nothing. */
    char again[40][128];
    rng_state = 12345;
    encode_queries(guid, domain, again);
    feed(a, again[0]);
    json_t *f = findings(a);
    json_t *v = json_array_get(f, 0);
    assert_string_equal(str(v, "status"), "partial");
    json_t *missing = json_object_get(v, "missing_chunks");
    assert_int_equal(json_array_size(missing), 1);
    assert_int_equal(json_integer_value(json_array_get(missing, 0)), 1);
    /* The pieces that decode are shown, the gap marked. */
    assert_non_null(strstr(str(v, "domain"), "\xe2\x80\xa6"));
    assert_true(strncmp(str(v, "domain"), "corp.example", 12) == 0);
    assert_int_equal(json_integer_value(json_object_get(v, "queries")),
                     (json_int_t)n);
    json_decref(f);

    /* Without the final chunk it is partial too, and says so. */
    struct cairn_analyser *b = analyser();
    feed(b, names[0]);
    f = findings(b);
    v = json_array_get(f, 0);
    assert_string_equal(str(v, "status"), "partial");
    missing = json_object_get(v, "missing_chunks");
    assert_int_equal(
        json_integer_value(json_array_get(missing, json_array_size(missing) - 1)),
        CAIRN_SUNBURST_FINAL_SEQ);
    json_decref(f);
    cairn_analyser_free(a);
    cairn_analyser_free(b);
}

static void test_not_sunburst(void **state)
{
    (void)state;
    struct cairn_sunburst_label l;
    /* Near misses are not SUNBURST at all. */
    assert_int_equal(label("avsvmcloud.com.example.net", &l),
                     CAIRN_SUNBURST_NONE);
    assert_int_equal(label("xavsvmcloud.com", &l), CAIRN_SUNBURST_NONE);
    assert_int_equal(label("www.example.com", &l), CAIRN_SUNBURST_NONE);
    /* Junk under the domain is counted as undecodable, never a victim. */
    assert_int_equal(label("avsvmcloud.com", &l), CAIRN_SUNBURST_UNDECODABLE);
    assert_int_equal(label("www.avsvmcloud.com", &l),
                     CAIRN_SUNBURST_UNDECODABLE);
    assert_int_equal(label("hello.appsync-api.eu-west-1.avsvmcloud.com", &l),
                     CAIRN_SUNBURST_UNDECODABLE);
    assert_int_equal(label("r1qshoj05ji05ac6eoip02jovt6i2v0c.appsync-api."
                           "mars-north-1.avsvmcloud.com", &l),
                     CAIRN_SUNBURST_UNDECODABLE);
    assert_int_equal(label("a.r1qshoj05ji05ac6eoip.appsync-api.eu-west-1."
                           "avsvmcloud.com", &l),
                     CAIRN_SUNBURST_UNDECODABLE);
    assert_int_equal(label("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz.appsync-"
                           "api.eu-west-1.avsvmcloud.com", &l),
                     CAIRN_SUNBURST_UNDECODABLE);

    struct cairn_analyser *a = analyser();
    feed(a, "xavsvmcloud.com");
    feed(a, "avsvmcloud.com.example.net");
    feed(a, "www.avsvmcloud.com");
    json_t *f = findings(a);
    assert_int_equal(json_array_size(f), 0);
    struct cairn_analyser_stats st;
    cairn_analyser_get_stats(a, &st);
    assert_int_equal(st.names, 3);
    assert_int_equal(st.relevant, 1);
    assert_int_equal(st.undecodable, 1);
    assert_int_equal(st.findings, 0);
    json_decref(f);
    cairn_analyser_free(a);
}

/* A label in the wrong region decodes, and is reported as such. */
static void test_wrong_region(void **state)
{
    (void)state;
    struct cairn_sunburst_label l;
    assert_int_equal(label("r1qshoj05ji05ac6eoip02jovt6i2v0c.appsync-api."
                           "eu-west-1.avsvmcloud.com", &l),
                     CAIRN_SUNBURST_DOMAIN);
    assert_false(l.region_ok);
    struct cairn_analyser *a = analyser();
    feed(a, "r1qshoj05ji05ac6eoip02jovt6i2v0c.appsync-api.eu-west-1."
            "avsvmcloud.com");
    json_t *f = findings(a);
    assert_int_equal(
        json_integer_value(
            json_object_get(json_array_get(f, 0), "region_mismatches")),
        1);
    json_decref(f);
    cairn_analyser_free(a);
}

static void test_beacons_and_answers(void **state)
{
    (void)state;
    uint8_t guid[8] = {0x42, 9, 8, 7, 6, 5, 4, 3};
    char name[128], names[40][128];
    struct cairn_sunburst_label l;
    int64_t when = 1591000200; /* 2020-06-01T08:30:00Z */
    beacon(guid, when, false, true, 0xa5c3, name);
    assert_int_equal(label(name, &l), CAIRN_SUNBURST_NEXT_EX);
    assert_int_equal(l.when, when);
    assert_false(l.stage2);
    assert_int_equal(l.services, 0xa5c3);
    assert_memory_equal(l.guid, guid, 8);

    struct cairn_analyser *a = analyser();
    size_t n = encode_queries(guid, "plant.example.org", names);
    struct cairn_dns_answer private_ip = {CAIRN_DNS_A, "10.1.2.3", 8};
    struct cairn_dns_answer chosen = {CAIRN_DNS_A, "18.130.4.5", 10};
    for (size_t i = 0; i < n; i++) {
        struct cairn_dns_name dn = {.name = names[i],
                                    .len = strlen(names[i]),
                                    .has_ts = true,
                                    .ts = {.sec = when - 3600 + (int64_t)i},
                                    .answers = &private_ip,
                                    .n_answers = 1};
        assert_int_equal(cairn_analyser_add_name(a, &dn), 0);
    }
    json_t *f = findings(a);
    json_t *v = json_array_get(f, 0);
    assert_string_equal(str(v, "state"), "terminate");
    assert_false(json_is_true(json_object_get(v, "stage2")));
    json_decref(f);

    /* Later, an answer in a "chosen" range, then a stage-2 beacon. */
    struct cairn_dns_name dn = {.name = name, .len = strlen(name),
                                .has_ts = true, .ts = {.sec = when},
                                .answers = &chosen, .n_answers = 1};
    assert_int_equal(cairn_analyser_add_name(a, &dn), 0);
    beacon(guid, when + 1800, true, false, 0, name);
    feed(a, name);
    f = findings(a);
    v = json_array_get(f, 0);
    assert_string_equal(str(v, "domain"), "plant.example.org");
    assert_string_equal(str(v, "state"), "stage2");
    assert_true(json_is_true(json_object_get(v, "stage2")));
    assert_int_equal(json_integer_value(json_object_get(v, "beacons")), 2);
    assert_string_equal(str(v, "services"), "a5c3");
    assert_string_equal(str(v, "first_seen"), "2020-06-01T07:30:00Z");
    json_decref(f);
    cairn_analyser_free(a);

    /* The ranges: kill switch, keep going, and IPv6's local ranges. */
    struct {
        enum cairn_dns_answer_type t;
        const char *v;
        enum cairn_sunburst_state want;
    } cases[] = {
        {CAIRN_DNS_A, "20.141.0.1", CAIRN_SUNBURST_STATE_TERMINATE},
        {CAIRN_DNS_A, "20.142.0.1", CAIRN_SUNBURST_STATE_CONTINUE},
        {CAIRN_DNS_A, "74.114.31.255", CAIRN_SUNBURST_STATE_CONTINUE},
        {CAIRN_DNS_A, "184.73.1.1", CAIRN_SUNBURST_STATE_STAGE2},
        {CAIRN_DNS_A, "224.0.0.251", CAIRN_SUNBURST_STATE_TERMINATE},
        {CAIRN_DNS_A, "not-an-address", CAIRN_SUNBURST_STATE_UNKNOWN},
        {CAIRN_DNS_AAAA, "fd00::1", CAIRN_SUNBURST_STATE_TERMINATE},
        {CAIRN_DNS_AAAA, "2001:db8::1", CAIRN_SUNBURST_STATE_CONTINUE},
        {CAIRN_DNS_CNAME, "deftsecurity.com", CAIRN_SUNBURST_STATE_STAGE2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cairn_dns_answer ans = {cases[i].t, cases[i].v,
                                       strlen(cases[i].v)};
        if (cairn_sunburst_answer_state(&ans) != cases[i].want)
            fail_msg("%s: %s, not %s", cases[i].v,
                     cairn_sunburst_state_name(
                         cairn_sunburst_answer_state(&ans)),
                     cairn_sunburst_state_name(cases[i].want));
    }
}

/* Several victims come out newest activity first. */
static void test_order_and_stix(void **state)
{
    (void)state;
    struct cairn_analyser *a = analyser();
    const char *domains[3] = {"alpha.example", "bravo.example",
                              "charlie.example"};
    int64_t last[3] = {1590000000, 1600000000, 1595000000};
    for (int d = 0; d < 3; d++) {
        uint8_t guid[8] = {(uint8_t)(d + 1), 1, 1, 1, 1, 1, 1, 1};
        char names[40][128];
        size_t n = encode_queries(guid, domains[d], names);
        for (size_t i = 0; i < n; i++) {
            struct cairn_dns_name dn = {.name = names[i],
                                        .len = strlen(names[i]),
                                        .has_ts = true,
                                        .ts = {.sec = last[d]}};
            assert_int_equal(cairn_analyser_add_name(a, &dn), 0);
        }
    }
    json_t *f = findings(a);
    assert_int_equal(json_array_size(f), 3);
    assert_string_equal(str(json_array_get(f, 0), "domain"), "bravo.example");
    assert_string_equal(str(json_array_get(f, 1), "domain"), "charlie.example");
    assert_string_equal(str(json_array_get(f, 2), "domain"), "alpha.example");
    json_decref(f);

    json_t *bundle;
    assert_int_equal(cairn_analyser_stix(a, NULL, &bundle), 0);
    json_t *objs = json_object_get(bundle, "objects");
    size_t identities = 0, sightings = 0, scos = 0;
    for (size_t i = 0; i < json_array_size(objs); i++) {
        json_t *o = json_array_get(objs, i);
        const char *type = str(o, "type");
        identities += strcmp(type, "identity") == 0;
        sightings += strcmp(type, "sighting") == 0;
        scos += strcmp(type, "domain-name") == 0;
        struct cairn_validate_opts vo = {.strict = true};
        struct cairn_validate_stats vs = {0};
        if (cairn_stix_validate_object(o, "", &vo, &vs) != 0 ||
            vs.errors != 0) {
            char *text = json_dumps(o, 0);
            fail_msg("invalid STIX written: %s", text);
        }
        if (strcmp(type, "identity") == 0)
            assert_string_equal(
                json_string_value(json_array_get(
                    json_object_get(o, "object_marking_refs"), 0)),
                cairn_tlp_marking_id(CAIRN_TLP_RED));
    }
    assert_int_equal(identities, 3);
    assert_int_equal(sightings, 3);
    assert_true(scos >= 3);
    json_decref(bundle);
    cairn_analyser_free(a);
}

static void test_bad_encodings(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(cairn_sunburst_decode_domain("abc0", 4, out, sizeof out),
                     CAIRN_EINVAL); /* a dangling escape */
    assert_int_equal(cairn_sunburst_decode_domain("a!c", 3, out, sizeof out),
                     CAIRN_EINVAL);
    assert_int_equal(cairn_sunburst_decode_domain("00a!", 4, out, sizeof out),
                     CAIRN_EINVAL);
    assert_int_equal(
        cairn_sunburst_decode_domain("abcdefgh", 8, out, 4), CAIRN_ETOOBIG);
    assert_int_equal(cairn_analyser_new("nosuch", &(struct cairn_analyser *){0}),
                     CAIRN_ENOTFOUND);
}

int main(void)
{
    cairn_alloc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_victim_assembled),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_missing_chunks_and_resends),
        cmocka_unit_test(test_not_sunburst),
        cmocka_unit_test(test_wrong_region),
        cmocka_unit_test(test_beacons_and_answers),
        cmocka_unit_test(test_order_and_stix),
        cmocka_unit_test(test_bad_encodings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
