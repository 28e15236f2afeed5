/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: a pattern line, then JSON observations; parse and match. */
#include <stdint.h>
#include <string.h>

#include "cairn/pattern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    const char *nl = memchr(s, '\n', size);
    if (nl == NULL)
        return 0;
    size_t plen = (size_t)(nl - s);
    struct cairn_pattern *p = NULL;
    struct cairn_observation_set *set = NULL;
    struct cairn_diag diag;
    if (cairn_pattern_parse(s, plen, NULL, &p, &diag) != 0)
        return 0;
    json_error_t err;
    json_t *doc = json_loadb(nl + 1, size - plen - 1, 0, &err);
    if (doc != NULL && cairn_observations_new(&set) == 0 &&
        cairn_observations_add_json(set, doc, &diag) == 0 &&
        cairn_observations_seal(set, &diag) == 0) {
        struct cairn_match_result res;
        if (cairn_pattern_match(p, set, NULL, &res) == 0)
            cairn_match_result_release(&res);
    }
    json_decref(doc);
    cairn_observations_free(set);
    cairn_pattern_free(p);
    return 0;
}
