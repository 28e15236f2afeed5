/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the archive's segment reader (footer, names, block
 * directory, values, postings, blocks, events, the probe index with its
 * pages checked as read) over arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "archive/archive_int.h"

static struct cairn_hunt_field fields[SEG_MAX_FIELDS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count(uint32_t vid, void *ud)
{
    (void)vid;
    return ++*(unsigned *)ud > 100000 ? -1 : 0;
}

/* The probe index as a hunt reads it: each page checked when first read. */
static void probe(const struct seg_reader *r)
{
    struct seg_probe p;
    char why[256];
    unsigned n = 0;
    static const uint8_t lo6[16] = {0}, hi6[16] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

    if (r->foot.version < 2 ||
        cairn__seg_probe(r, SEG_VERIFY_USED, &p, why, sizeof why) < 0)
        return;
    static const char *const keys[] = {"example.com", "com", "evil.example.net",
                                       "http://evil.example.net/scan"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        (void)cairn__seg_probe_hash(
            &p,
            cairn__seg_key_hash(i == 3 ? CAIRN_IOC_URL : CAIRN_IOC_DOMAIN,
                                keys[i], strlen(keys[i])),
            count, &n);
    for (uint64_t b = 0; b < 64; b++)
        (void)cairn__seg_probe_hash(&p, b << 58 | b, count, &n);
    (void)cairn__seg_probe_v4(&p, 0, UINT32_MAX, count, &n);
    (void)cairn__seg_probe_v4(&p, 0x0a000000u, 0x0a0000ffu, count, &n);
    (void)cairn__seg_probe_v6(&p, lo6, hi6, count, &n);
    cairn__seg_probe_close(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct seg_reader r;
    struct seg_values v;
    char why[256];
    /* A copy: the reader must stay inside `size` bytes exactly. */
    uint8_t *copy = malloc(size ? size : 1);

    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    if (cairn__seg_open(copy, size, &r, why, sizeof why) == 0) {
        (void)cairn__seg_verify(&r, why, sizeof why);
        probe(&r);
        if (cairn__seg_values(&r, true, &v, why, sizeof why) == 0) {
            for (uint64_t i = 0; i < v.n; i++) {
                struct seg_posting p;
                uint64_t prev = 0;
                if (cairn__seg_posting(&v, i, &p) == 0)
                    for (uint64_t k = 0;
                         k < 100000 && cairn__seg_posting_next(&p, &prev); k++)
                        ;
            }
            for (uint64_t bl = 0; bl < r.foot.n_blocks; bl++) {
                struct seg_block_events b;
                if (cairn__seg_block(&r, bl, &v, &b, why, sizeof why) < 0)
                    continue;
                for (uint32_t i = 0; i < b.n; i++) {
                    struct cairn_hunt_event ev;
                    (void)cairn__seg_event(&r, &v, &b, i, fields, &ev);
                }
                cairn__seg_block_free(&b);
            }
            cairn__seg_values_free(&v);
        }
        cairn__seg_close(&r);
    }
    free(copy);
    return 0;
}
