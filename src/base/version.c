/* SPDX-License-Identifier: Apache-2.0 */
/* The library's version. */
#include "cairn/cairn.h"

const char *cairn_version(void)
{
    return CAIRN_VERSION_STRING;
}
