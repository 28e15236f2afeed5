/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the pattern module: how an observation set is laid out. */
#ifndef CAIRN_PATTERN_OBS_INT_H
#define CAIRN_PATTERN_OBS_INT_H

#include "cairn/pattern.h"

struct obs {
    const json_t *obj; /* the observed-data, or the SCO itself */
    const char *id;
    bool timed;
    bool self; /* the observation is `obj`, an SCO */
    struct cairn_time first, last;
    uint64_t count;
    const json_t *refs;     /* object_refs */
    const json_t *embedded; /* deprecated "objects" dictionary */
    size_t first_root, n_roots;
};

struct cairn_observation_set {
    json_t **docs;
    size_t n_docs, alloc_docs;
    struct obs *obs;
    size_t n, alloc_obs;
    const json_t **roots; /* the SCOs each observation is about */
    struct obs_entry {
        const char *id; /* borrowed from the object */
        const json_t *obj;
    } * index; /* objects by id; size a power of two */
    size_t index_size, index_used;
    bool sealed;
};

/* The object with this id in any document of the set, or NULL. */
const json_t *cairn__obs_lookup(const struct cairn_observation_set *set,
                         const char *id);

#endif
