/* SPDX-License-Identifier: Apache-2.0 */
/* Telemetry events being built: fields, scratch room, malformed lines. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "telemetry/telemetry_int.h"

/*
 * The bottom of the readers: the line parsers (read_zeek.c, read_json.c,
 * read_csv.c, read_text.c) and the extractor (extract.c) add what they
 * find here; read_source.c, at the top, calls the line parsers. Nothing
 * here calls back up.
 */

void cairn__tele_malformed(struct cairn_telemetry_reader *r, uint64_t line,
                           const char *rule, const char *fmt, ...)
{
    r->stats.malformed++;
    if (r->opts.on_diag == NULL || r->reported >= r->opts.max_reported)
        return;
    r->reported++;
    struct cairn_diag d;
    cairn_diag_clear(&d);
    snprintf(d.file, sizeof d.file, "%s", r->name);
    d.severity = CAIRN_SEV_WARNING;
    d.line = line > UINT32_MAX ? UINT32_MAX : (unsigned)line;
    d.column = 1;
    snprintf(d.rule, sizeof d.rule, "%s", rule);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d.message, sizeof d.message, fmt, ap);
    va_end(ap);
    r->opts.on_diag(&d, r->opts.diag_ud);
}

/* ---- fields ------------------------------------------------------------- */

int cairn__tele_add(struct cairn_telemetry_reader *r, enum cairn_ioc_type type,
                    const char *value, size_t len, const char *name)
{
    if (len == 0)
        return 0;
    if (r->n_fields == r->fields_cap) {
        if (r->fields_cap >= r->opts.max_fields)
            return 0; /* the rest of a huge event is dropped */
        size_t n = r->fields_cap ? r->fields_cap * 2 : 64;
        if (n > r->opts.max_fields)
            n = r->opts.max_fields;
        struct cairn_hunt_field *f = cairn_realloc(r->fields, n * sizeof *f);
        if (f == NULL)
            return CAIRN_ENOMEM;
        r->fields = f;
        r->fields_cap = n;
    }
    struct cairn_hunt_field *f = &r->fields[r->n_fields++];
    f->type = type;
    f->value = value;
    f->len = len;
    f->name = name;
    return 0;
}

char *cairn__tele_scratch(struct cairn_telemetry_reader *r, size_t len)
{
    if (len > r->scratch_cap - r->scratch_len)
        return NULL;
    char *p = r->scratch + r->scratch_len;
    r->scratch_len += len;
    return p;
}

/* -1: no cap (tests lower it before making readers). */
static int simd_cap = -1;

void cairn__tele_simd_cap(int level)
{
    simd_cap = level;
}

int cairn__tele_simd_level(void)
{
    int level = TELE_SIMD_NONE;
#if defined(__SSE2__)
    level = TELE_SIMD_SSE2;
#endif
#if defined(CAIRN_TELE_X86_SIMD)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2") &&
        __builtin_cpu_supports("popcnt")) {
        level = TELE_SIMD_AVX2;
        if (__builtin_cpu_supports("avx512f") &&
            __builtin_cpu_supports("avx512bw")) {
            level = TELE_SIMD_AVX512;
            if (__builtin_cpu_supports("avx512vbmi2"))
                level = TELE_SIMD_VBMI2;
        }
    }
#endif
    if (simd_cap >= 0 && level > simd_cap)
        level = simd_cap;
    return level;
}
