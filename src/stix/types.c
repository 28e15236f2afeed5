/* SPDX-License-Identifier: Apache-2.0 */
/* STIX type names: the table of known types, ids and object categories. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "stix/stix_int.h"

/*
 * All type specs in one array sorted by name, built once. There are about
 * fifty, so a binary search costs six string compares.
 */
#define MAX_TYPES 128

static const struct type_spec *sorted[MAX_TYPES];
static size_t n_sorted;
static pthread_once_t sorted_once = PTHREAD_ONCE_INIT;

static int compare_specs(const void *a, const void *b)
{
    const struct type_spec *x = *(const struct type_spec *const *)a;
    const struct type_spec *y = *(const struct type_spec *const *)b;
    return strcmp(x->type, y->type);
}

static void add_table(const struct type_spec *const *table)
{
    for (; *table != NULL && n_sorted < MAX_TYPES; table++)
        sorted[n_sorted++] = *table;
}

static void build_sorted(void)
{
    add_table(cairn__stix_sdo_types);
    add_table(cairn__stix_sco_types);
    add_table(cairn__stix_meta_types);
    qsort(sorted, n_sorted, sizeof sorted[0], compare_specs);
}

const struct type_spec *cairn__stix_type_lookup(const char *type)
{
    if (type == NULL)
        return NULL;
    pthread_once(&sorted_once, build_sorted);
    size_t lo = 0, hi = n_sorted;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(type, sorted[mid]->type);
        if (c == 0)
            return sorted[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

enum cairn_stix_kind cairn_stix_kind_of(const char *type)
{
    if (type == NULL)
        return CAIRN_STIX_UNKNOWN;
    if (strcmp(type, "bundle") == 0)
        return CAIRN_STIX_BUNDLE;
    const struct type_spec *spec = cairn__stix_type_lookup(type);
    return spec != NULL ? spec->kind : CAIRN_STIX_UNKNOWN;
}

const char *cairn_stix_type(const json_t *obj)
{
    return json_string_value(json_object_get(obj, "type"));
}

const char *cairn_stix_id(const json_t *obj)
{
    return json_string_value(json_object_get(obj, "id"));
}

/* Type names: a-z, 0-9 and '-', 3 to 250 bytes, starting with a
 * letter, no "--" (it separates the type from the UUID in an id). */
bool cairn__stix_type_name_ok(const char *s, size_t len)
{
    if (len < 3 || len > 250 || s[0] < 'a' || s[0] > 'z')
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '-') {
            if (i > 0 && s[i - 1] == '-')
                return false;
        } else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
            return false;
        }
    }
    return true;
}

bool cairn_stix_id_check(const char *id, const char *type)
{
    if (id == NULL)
        return false;
    size_t len = strlen(id);
    if (len < 3 + 2 + 36 || len >= CAIRN_STIX_ID_MAX)
        return false;
    size_t tlen = len - 38;
    if (id[tlen] != '-' || id[tlen + 1] != '-')
        return false;
    if (!cairn__stix_type_name_ok(id, tlen))
        return false;
    if (type != NULL && (strlen(type) != tlen || memcmp(id, type, tlen) != 0))
        return false;
    return cairn_uuid_check(id + tlen + 2, 36, true, NULL);
}
