/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The archive's byte codec, shared by the segments and the catalogue:
 * little-endian integers, LEB128 varints, zig-zag for signed values, and
 * a bounded reader that turns `bad` instead of reading past the end.
 */
#ifndef CAIRN_ARCHIVE_CODEC_H
#define CAIRN_ARCHIVE_CODEC_H

#include <stdbool.h>
#include <stdint.h>

static inline uint64_t zz(int64_t x)
{
    return ((uint64_t)x << 1) ^ (uint64_t)(x >> 63);
}

static inline int64_t unzz(uint64_t x)
{
    return (int64_t)(x >> 1) ^ -(int64_t)(x & 1);
}

static inline void put_u32(uint8_t *p, uint32_t x)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(x >> (8 * i));
}

static inline void put_u64(uint8_t *p, uint64_t x)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(x >> (8 * i));
}

static inline uint32_t get_u32(const uint8_t *p)
{
    uint32_t x = 0;
    for (int i = 0; i < 4; i++)
        x |= (uint32_t)p[i] << (8 * i);
    return x;
}

static inline uint64_t get_u64(const uint8_t *p)
{
    uint64_t x = 0;
    for (int i = 0; i < 8; i++)
        x |= (uint64_t)p[i] << (8 * i);
    return x;
}

/* `x` as a varint at `p`, which has room for 10 bytes; the byte after. */
static inline uint8_t *put_varint_at(uint8_t *p, uint64_t x)
{
    while (x >= 0x80) {
        *p++ = (uint8_t)(x | 0x80);
        x >>= 7;
    }
    *p++ = (uint8_t)x;
    return p;
}

/* A bounded reader: `bad` once anything runs past the end. */
struct cur {
    const uint8_t *p, *end;
    bool bad;
};

static inline uint64_t get_varint(struct cur *c)
{
    uint64_t x = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (c->p >= c->end) {
            c->bad = true;
            return 0;
        }
        uint8_t b = *c->p++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (b < 0x80)
            return x;
    }
    c->bad = true;
    return 0;
}

static inline uint8_t get_byte(struct cur *c)
{
    if (c->p >= c->end) {
        c->bad = true;
        return 0;
    }
    return *c->p++;
}

static inline const uint8_t *get_bytes(struct cur *c, uint64_t n)
{
    if ((uint64_t)(c->end - c->p) < n) {
        c->bad = true;
        return NULL;
    }
    const uint8_t *p = c->p;
    c->p += n;
    return p;
}

#endif
