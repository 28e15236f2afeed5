/* SPDX-License-Identifier: Apache-2.0 */
/* Writing STIX objects as JSON, and new bundles. */
#include <stdint.h>
#include <string.h>

#include "stix/stix_int.h"

static int append(const char *buf, size_t size, void *data)
{
    return cairn_buf_append(data, buf, size) == 0 ? 0 : -1;
}

int cairn_stix_serialize(const json_t *obj, bool pretty, char **out,
                         size_t *len_out)
{
    struct cairn_buf b;
    *out = NULL;
    if (len_out != NULL)
        *len_out = 0;
    if (obj == NULL)
        return CAIRN_EINVAL;
    /*
     * jansson 2.14 keeps members in insertion order; JSON_PRESERVE_ORDER
     * still matters for older releases. JSON_ENCODE_ANY lets a caller
     * serialise a lone value such as a list of objects.
     */
    size_t flags = JSON_PRESERVE_ORDER | JSON_ENCODE_ANY |
                   (pretty ? JSON_INDENT(2) : JSON_COMPACT);
    cairn_buf_init(&b, SIZE_MAX / 2);
    if (json_dump_callback(obj, append, &b, flags) != 0 ||
        cairn_buf_reserve(&b, 1) != 0) {
        cairn_buf_release(&b);
        return CAIRN_ENOMEM;
    }
    *out = cairn_buf_steal(&b, len_out);
    if (*out == NULL) {
        /* An empty buffer may have no memory yet. */
        *out = cairn_strdup("");
        if (*out == NULL)
            return CAIRN_ENOMEM;
    }
    return 0;
}

int cairn_bundle_new(json_t **out)
{
    char uuid[CAIRN_UUID_STRLEN];
    char id[8 + CAIRN_UUID_STRLEN];
    int rc = CAIRN_ENOMEM;
    *out = NULL;
    json_t *b = json_object();
    if (b == NULL)
        goto out;
    rc = cairn_uuid4(uuid);
    if (rc < 0)
        goto out;
    memcpy(id, "bundle--", 8);
    memcpy(id + 8, uuid, CAIRN_UUID_STRLEN);
    rc = CAIRN_ENOMEM;
    if (json_object_set_new(b, "type", json_string("bundle")) != 0 ||
        json_object_set_new(b, "id", json_string(id)) != 0 ||
        json_object_set_new(b, "objects", json_array()) != 0)
        goto out;
    *out = b;
    b = NULL;
    rc = 0;
out:
    json_decref(b);
    return rc;
}
