/* SPDX-License-Identifier: Apache-2.0 */
/* The whole public API of libcairn, and its version. */
#ifndef CAIRN_CAIRN_H
#define CAIRN_CAIRN_H

#include "cairn/error.h"
#include "cairn/base.h"
#include "cairn/stix.h"
#include "cairn/sign.h"
#include "cairn/pattern.h"
#include "cairn/store.h"
#include "cairn/values.h"
#include "cairn/telemetry.h"
#include "cairn/hunt.h"
#include "cairn/archive.h"
#include "cairn/analysis.h"
#include "cairn/feed.h"
#include "cairn/export.h"
#include "cairn/taxii.h"
#include "cairn/console.h"
#include "cairn/server.h"

#define CAIRN_VERSION "0.1.0" /* keep in step with CMakeLists.txt */

/* The library's version string, e.g. "0.1.0". */
const char *cairn_version(void);

#endif
