/* SPDX-License-Identifier: Apache-2.0 */
/* SUNBURST's DNS encoding: one query label decoded, a domain reassembled. */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "analysis/analysis_int.h"

/*
 * The encoding is described in docs/analysers.md. In short: the label
 * before ".appsync-api.REGION.avsvmcloud.com" starts with 15 characters of
 * a custom base32 holding a one-byte key and the 8-byte victim id XORed
 * with it. A key with bit 7 set marks a query that carries a chunk of the
 * victim's AD domain (then a sequence character and the chunk); a clear
 * one, a NextString(Ex) beacon of 20 or 23 characters.
 */

static const char B32[] = "ph2eifo3n5utg1j8d94qrvbmk0sal76c";
/* The substitution alphabet: 26 letters and the digits 1 to 9. */
static const char SUBST[] = "rq3gsalt6u1iyfzop572d49bnx8cvmkewhj";
#define SUBST_LEN 35
/* What a '0' escape stands for, by the escape partner's index mod 4. */
static const char ESCAPED[] = "0_-.";

static const char *const REGIONS[4] = {"eu-west-1", "us-west-2",
                                       "us-east-1", "us-east-2"};

/* 2010-01-01T00:00:00Z, the epoch of the beacons' 30-minute steps. */
#define EPOCH_2010 1262304000

static signed char b32_rev[256];
static signed char subst_rev[256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void tables_fill(void)
{
    memset(b32_rev, -1, sizeof b32_rev);
    memset(subst_rev, -1, sizeof subst_rev);
    for (int i = 0; i < 32; i++)
        b32_rev[(unsigned char)B32[i]] = (signed char)i;
    for (int i = 0; i < SUBST_LEN; i++)
        subst_rev[(unsigned char)SUBST[i]] = (signed char)i;
}

static void tables_init(void)
{
    (void)pthread_once(&tables_once, tables_fill);
}

/*
 * Base32, least significant bits first: 5 bits a character, a byte out
 * whenever 8 have gathered (floor(5n/8) bytes in all). -1 for a character
 * outside the alphabet or more bytes than `cap`.
 */
static int b32_decode(const char *s, size_t n, uint8_t *out, size_t cap)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b32_rev[(unsigned char)s[i]];
        if (v < 0)
            return -1;
        acc |= (uint32_t)v << bits;
        bits += 5;
        if (bits >= 8) {
            if (o == cap)
                return -1;
            out[o++] = (uint8_t)(acc & 0xff);
            acc >>= 8;
            bits -= 8;
        }
    }
    return (int)o;
}

static int base36(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 10;
    return -1;
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Whether `name` (len bytes) ends with `suffix`, ignoring case. */
static bool ends_with(const char *name, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);
    if (len < n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(name[len - n + i]) != suffix[i])
            return false;
    return true;
}

bool cairn__sunburst_relevant(const char *name, size_t len)
{
    if (len > 0 && name[len - 1] == '.')
        len--;
    return ends_with(name, len, ".avsvmcloud.com") ||
           (len == 14 && ends_with(name, len, "avsvmcloud.com"));
}

static enum cairn_sunburst_kind decode_domain_query(
    const char *label, size_t n, const uint8_t *b, struct cairn_sunburst_label *out)
{
    uint8_t key = b[0];
    if (n < 17 || n > 32)
        return CAIRN_SUNBURST_UNDECODABLE;
    for (int i = 0; i < 8; i++)
        out->guid[i] = b[1 + i] ^ key;
    int v = base36(label[15]);
    if (v < 0)
        return CAIRN_SUNBURST_UNDECODABLE;
    out->seq = ((v - (int)(unsigned char)label[0]) % 36 + 36) % 36;
    size_t clen = n - 16;
    if (label[n - 1] == '0')
        clen--; /* the marker after a chunk cut before an escape */
    if (clen == 0 || clen > CAIRN_SUNBURST_CHUNK_MAX)
        return CAIRN_SUNBURST_UNDECODABLE;
    for (size_t i = 0; i < clen; i++) {
        char c = label[16 + i];
        if (c != '0' && subst_rev[(unsigned char)c] < 0 &&
            b32_rev[(unsigned char)c] < 0)
            return CAIRN_SUNBURST_UNDECODABLE;
    }
    memcpy(out->chunk, label + 16, clen);
    out->chunk[clen] = '\0';
    out->chunk_len = clen;
    return CAIRN_SUNBURST_DOMAIN;
}

static enum cairn_sunburst_kind
decode_beacon(const char *label, size_t n, struct cairn_sunburst_label *out)
{
    uint8_t b[16], buf[16];
    if (n != 20 && n != 23)
        return CAIRN_SUNBURST_UNDECODABLE;
    int got = b32_decode(label, n, b, sizeof b);
    if (got != (n == 20 ? 12 : 14))
        return CAIRN_SUNBURST_UNDECODABLE;
    uint8_t key = b[0];
    for (int i = 1; i < got; i++)
        buf[i - 1] = b[i] ^ key;
    for (int i = 0; i < 8; i++)
        buf[i] ^= buf[10 - (i % 2)];
    int sz = buf[8] >> 4;
    if (sz != (n == 20 ? 1 : 2))
        return CAIRN_SUNBURST_UNDECODABLE;
    memcpy(out->guid, buf, 8);
    uint32_t h = ((uint32_t)(buf[8] & 0x0f) << 16) | ((uint32_t)buf[9] << 8) |
                 buf[10];
    out->stage2 = (h & 1) != 0;
    out->when = EPOCH_2010 + (int64_t)(h >> 1) * 1800;
    if (n == 23) {
        out->services = (uint16_t)((buf[11] << 8) | buf[12]);
        return CAIRN_SUNBURST_NEXT_EX;
    }
    return CAIRN_SUNBURST_NEXT;
}

enum cairn_sunburst_kind
cairn_sunburst_decode_label(const char *name, size_t len,
                            struct cairn_sunburst_label *out)
{
    tables_init();
    memset(out, 0, sizeof *out);
    out->region = -1;
    if (len > 0 && name[len - 1] == '.')
        len--;
    if (!cairn__sunburst_relevant(name, len))
        return out->kind = CAIRN_SUNBURST_NONE;

    /* LABEL.appsync-api.REGION.avsvmcloud.com, LABEL one label */
    size_t label_len = 0;
    for (int r = 0; r < 4; r++) {
        char suffix[64];
        snprintf(suffix, sizeof suffix, ".appsync-api.%s.avsvmcloud.com",
                 REGIONS[r]);
        if (ends_with(name, len, suffix)) {
            out->region = r;
            label_len = len - strlen(suffix);
            break;
        }
    }
    if (out->region < 0 || label_len < 15 || label_len > 32)
        return out->kind = CAIRN_SUNBURST_UNDECODABLE;

    char label[33];
    for (size_t i = 0; i < label_len; i++) {
        label[i] = lower(name[i]);
        if (base36(label[i]) < 0) /* a dot, a hyphen: not one label */
            return out->kind = CAIRN_SUNBURST_UNDECODABLE;
    }
    label[label_len] = '\0';

    uint8_t b[16];
    if (b32_decode(label, 15, b, sizeof b) != 9)
        return out->kind = CAIRN_SUNBURST_UNDECODABLE;
    enum cairn_sunburst_kind kind =
        (b[0] & 0x80) ? decode_domain_query(label, label_len, b, out)
                      : decode_beacon(label, label_len, out);
    if (kind == CAIRN_SUNBURST_UNDECODABLE) {
        int region = out->region;
        memset(out, 0, sizeof *out);
        out->region = region;
    } else {
        out->region_ok = out->region == out->guid[0] % 4;
    }
    return out->kind = kind;
}

/* Replace bytes that are not valid UTF-8, or are control characters. */
static void printable_utf8(char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t n = cairn_utf8_len(s + i, len - i);
        unsigned char c = (unsigned char)s[i];
        if (n == 0 || c < 0x20 || c == 0x7f) {
            s[i++] = '?';
            continue;
        }
        i += n;
    }
}

int cairn_sunburst_decode_domain(const char *enc, size_t len, char *out,
                                 size_t cap)
{
    tables_init();
    if (cap == 0)
        return CAIRN_ETOOBIG;
    size_t o = 0;
    if (len >= 2 && enc[0] == '0' && enc[1] == '0') {
        /* "00" and base32 of the UTF-8 bytes */
        if (len - 2 > (cap - 1) * 8 / 5 + 1)
            return CAIRN_ETOOBIG;
        int n = b32_decode(enc + 2, len - 2, (uint8_t *)out, cap - 1);
        if (n < 0)
            return CAIRN_EINVAL;
        out[n] = '\0';
        printable_utf8(out, (size_t)n);
        return n;
    }
    for (size_t i = 0; i < len; i++) {
        if (o + 1 >= cap)
            return CAIRN_ETOOBIG;
        int v;
        if (enc[i] == '0') {
            if (i + 1 == len)
                return CAIRN_EINVAL; /* an escape cut off */
            v = subst_rev[(unsigned char)enc[++i]];
            if (v < 0)
                return CAIRN_EINVAL;
            out[o++] = ESCAPED[v % 4];
        } else {
            v = subst_rev[(unsigned char)enc[i]];
            if (v < 0)
                return CAIRN_EINVAL;
            out[o++] = SUBST[(v + SUBST_LEN - 4) % SUBST_LEN];
        }
    }
    out[o] = '\0';
    return (int)o;
}

const char *cairn_sunburst_state_name(enum cairn_sunburst_state s)
{
    switch (s) {
    case CAIRN_SUNBURST_STATE_CONTINUE:
        return "continue";
    case CAIRN_SUNBURST_STATE_TERMINATE:
        return "terminate";
    case CAIRN_SUNBURST_STATE_STAGE2:
        return "stage2";
    case CAIRN_SUNBURST_STATE_UNKNOWN:
        break;
    }
    return "unknown";
}

/*
 * The address ranges the implant compares an A record with, as published
 * in analyses of the sample (docs/analysers.md names the families).
 */
static const struct {
    uint32_t net;
    int bits;
    enum cairn_sunburst_state state;
} V4_RANGES[] = {
    /* "Atm": local, private and multicast answers end the implant. */
    {0x0a000000, 8, CAIRN_SUNBURST_STATE_TERMINATE},  /* 10/8 */
    {0x7f000000, 8, CAIRN_SUNBURST_STATE_TERMINATE},  /* 127/8 */
    {0xac100000, 12, CAIRN_SUNBURST_STATE_TERMINATE}, /* 172.16/12 */
    {0xc0a80000, 16, CAIRN_SUNBURST_STATE_TERMINATE}, /* 192.168/16 */
    {0xe0000000, 4, CAIRN_SUNBURST_STATE_TERMINATE},  /* 224/4 */
    /* "ImpLink": the kill switch. */
    {0x148c0000, 15, CAIRN_SUNBURST_STATE_TERMINATE}, /* 20.140/15 */
    {0x601fac00, 24, CAIRN_SUNBURST_STATE_TERMINATE}, /* 96.31.172/24 */
    {0x83e40c00, 22, CAIRN_SUNBURST_STATE_TERMINATE}, /* 131.228.12/22 */
    {0x9056e200, 24, CAIRN_SUNBURST_STATE_TERMINATE}, /* 144.86.226/24 */
    /* "Ipx": keep going, status updated. */
    {0x29549f00, 24, CAIRN_SUNBURST_STATE_CONTINUE}, /* 41.84.159/24 */
    {0x4a721800, 21, CAIRN_SUNBURST_STATE_CONTINUE}, /* 74.114.24/21 */
    {0x9a768c00, 24, CAIRN_SUNBURST_STATE_CONTINUE}, /* 154.118.140/24 */
    {0xd9a30700, 24, CAIRN_SUNBURST_STATE_CONTINUE}, /* 217.163.7/24 */
    /* "NetBios": the victim was chosen; the HTTP channel comes next. */
    {0x08129000, 23, CAIRN_SUNBURST_STATE_STAGE2}, /* 8.18.144/23 */
    {0x12820000, 16, CAIRN_SUNBURST_STATE_STAGE2}, /* 18.130/16 */
    {0x47983500, 24, CAIRN_SUNBURST_STATE_STAGE2}, /* 71.152.53/24 */
    {0x634f0000, 16, CAIRN_SUNBURST_STATE_STAGE2}, /* 99.79/16 */
    {0x57ee5000, 21, CAIRN_SUNBURST_STATE_STAGE2}, /* 87.238.80/21 */
    {0xc7c97500, 24, CAIRN_SUNBURST_STATE_STAGE2}, /* 199.201.117/24 */
    {0xb8480000, 15, CAIRN_SUNBURST_STATE_STAGE2}, /* 184.72/15 */
};

enum cairn_sunburst_state
cairn_sunburst_answer_state(const struct cairn_dns_answer *answer)
{
    char text[64];
    if (answer->type == CAIRN_DNS_CNAME)
        return CAIRN_SUNBURST_STATE_STAGE2;
    if (answer->len == 0 || answer->len >= sizeof text)
        return CAIRN_SUNBURST_STATE_UNKNOWN;
    memcpy(text, answer->value, answer->len);
    text[answer->len] = '\0';
    if (answer->type == CAIRN_DNS_A) {
        struct in_addr a;
        if (inet_pton(AF_INET, text, &a) != 1)
            return CAIRN_SUNBURST_STATE_UNKNOWN;
        uint32_t v = ntohl(a.s_addr);
        for (size_t i = 0; i < sizeof V4_RANGES / sizeof V4_RANGES[0]; i++) {
            uint32_t mask = 0xffffffffu << (32 - V4_RANGES[i].bits);
            if ((v & mask) == V4_RANGES[i].net)
                return V4_RANGES[i].state;
        }
        return CAIRN_SUNBURST_STATE_CONTINUE;
    }
    struct in6_addr a6;
    if (inet_pton(AF_INET6, text, &a6) != 1)
        return CAIRN_SUNBURST_STATE_UNKNOWN;
    const uint8_t *b = a6.s6_addr;
    /* "Atm": fc00::/7, fec0::/10, ff00::/8 */
    if ((b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) ||
        b[0] == 0xff)
        return CAIRN_SUNBURST_STATE_TERMINATE;
    return CAIRN_SUNBURST_STATE_CONTINUE;
}
