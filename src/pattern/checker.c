/* SPDX-License-Identifier: Apache-2.0 */
/* The pattern checker that STIX validation borrows from this module. */
#include "pattern/pattern_int.h"

int cairn_pattern_checker(const char *text, size_t len,
                          struct cairn_diag *diag, void *ud)
{
    struct cairn_pattern *p = NULL;
    (void)ud;
    int rc = cairn_pattern_parse(text, len, NULL, &p, diag);
    /* Valid, but with names outside STIX's rules (a warning). */
    if (rc == 0 && !cairn_pattern_check_names(p, diag))
        rc = 1;
    cairn_pattern_free(p);
    return rc;
}
