/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the [analysis] score settings (source_confidence, decay). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/analysis.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 14)
        return 0;
    /* the input up to a newline is one setting, the rest the other */
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *nl = strchr(text, '\n');
    const char *decay = NULL;
    if (nl != NULL) {
        *nl = '\0';
        decay = nl + 1;
    }
    struct cairn_score_opts o = {0};
    char err[200];
    int rc = cairn_score_opts_parse(&o, text, decay, err, sizeof err);
    if (rc == CAIRN_EINVAL && err[0] == '\0')
        abort(); /* an error always names the entry */
    for (size_t i = 0; rc == 0 && i < o.n_sources; i++)
        if (o.sources[i].confidence < 0 || o.sources[i].confidence > 100)
            abort();
    for (size_t i = 0; rc == 0 && i < o.n_decay; i++)
        if (!(o.decay[i].lifetime_days > 0) || !(o.decay[i].speed > 0))
            abort();
    cairn_score_opts_clear(&o);
    free(text);
    return 0;
}
