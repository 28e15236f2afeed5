/* SPDX-License-Identifier: Apache-2.0 */
/* Object versions: ordering by the "modified" timestamp. */
#include "stix/stix_int.h"

int cairn_stix_version_time(const json_t *obj, struct cairn_time *out)
{
    if (cairn__stix_time_of(json_object_get(obj, "modified"), out))
        return 0;
    if (cairn__stix_time_of(json_object_get(obj, "created"), out))
        return 0;
    return CAIRN_ENOTFOUND;
}

int cairn_stix_version_cmp(const json_t *a, const json_t *b)
{
    struct cairn_time ta, tb;
    /*
     * Objects without "modified" have one version; a timestamp that does
     * not parse orders before every valid one so that a repaired object
     * supersedes a broken one.
     */
    const json_t *ma = json_object_get(a, "modified");
    const json_t *mb = json_object_get(b, "modified");
    if (ma == NULL && mb == NULL)
        return 0;
    bool va = cairn__stix_time_of(ma, &ta);
    bool vb = cairn__stix_time_of(mb, &tb);
    if (!va && !vb)
        return 0;
    if (!va)
        return -1;
    if (!vb)
        return 1;
    return cairn_time_cmp(&ta, &tb);
}
