/* SPDX-License-Identifier: Apache-2.0 */
/* `cairn hunt` and `cairn archive hunt`: the sighting bundle written out. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hunt_int.h"

__attribute__((format(printf, 2, 3))) static void say(hunt_say_fn fn,
                                                      const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    char *text = cairn_malloc((size_t)n + 1);
    if (text == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(text, (size_t)n + 1, fmt, ap);
    va_end(ap);
    fn(text);
    cairn_free(text);
}

int hunt_write_bundle(const json_t *bundle, const char *path, hunt_say_fn fn)
{
    char *text = NULL;
    size_t len = 0;
    int rc = cairn_stix_serialize(bundle, true, &text, &len);

    if (rc < 0) {
        say(fn, "sightings: %s", cairn_strerror(rc));
        return rc;
    }
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (f == NULL) {
        say(fn, "%s: %s", path, strerror(errno));
        cairn_free(text);
        return CAIRN_EIO;
    }
    rc = 0;
    if (fwrite(text, 1, len, f) != len || fputc('\n', f) == EOF)
        rc = CAIRN_EIO;
    if (f != stdout && fclose(f) != 0)
        rc = CAIRN_EIO;
    if (rc < 0)
        say(fn, "%s: cannot write: %s", path, strerror(errno));
    cairn_free(text);
    return rc;
}

struct refused_ud {
    const char *coll;
    hunt_say_fn fn;
};

/* A sighting validation or the store refused. */
static void sighting_refused(const struct cairn_store_result *r, bool invalid,
                             void *ud)
{
    const struct refused_ud *u = ud;

    (void)invalid;
    if (r->outcome == CAIRN_STORE_FAILED)
        say(u->fn, "collection %s: %s: %s", u->coll, r->id, r->message);
}

int hunt_store_bundle(struct cairn_store *s, const char *coll,
                      const json_t *bundle, const struct cairn_sign_key *signer,
                      hunt_say_fn fn)
{
    struct cairn_sign_gate gate = {.signer = signer};
    struct refused_ud u = {coll, fn};
    struct cairn_ingest_opts io = {
        .collection = coll,
        .on_result = sighting_refused,
        .result_ud = &u,
        .hook = signer != NULL ? cairn_sign_gate_hook : NULL,
        .hook_ud = &gate,
    };
    struct cairn_ingest_counts c;

    if (json_array_size(json_object_get(bundle, "objects")) == 0)
        return 0;
    int rc = cairn_hunt_sightings_store(s, &io, bundle, &c);
    if (rc < 0)
        say(fn, "collection %s: cannot store the sightings: %s", coll,
            rc == CAIRN_ENOTFOUND ? "no such collection" : cairn_strerror(rc));
    else if (c.invalid + c.failed > 0)
        rc = CAIRN_EINVALID;
    return rc;
}
