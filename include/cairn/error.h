/* SPDX-License-Identifier: Apache-2.0 */
/* Error codes and diagnostics shared by every cairn module. */
#ifndef CAIRN_ERROR_H
#define CAIRN_ERROR_H

#include <stddef.h>

/*
 * Ownership: a struct cairn_diag is a plain value with fixed-size fields;
 * it owns nothing and may be copied. Strings handed to the diag functions
 * are borrowed for the duration of the call only.
 */

#ifdef __cplusplus
extern "C" {
#endif

/* Every fallible function returns 0 or one of these negative codes. */
enum cairn_error {
    CAIRN_OK = 0,
    CAIRN_EINTERNAL = -1,     /* a bug in cairn; please report it */
    CAIRN_ENOMEM = -2,        /* an allocation failed */
    CAIRN_EINVAL = -3,        /* an argument or input is malformed */
    CAIRN_ETOOBIG = -4,       /* a size limit was reached */
    CAIRN_EIO = -5,           /* reading or writing a file failed */
    CAIRN_ENOTFOUND = -6,     /* the thing asked for does not exist */
    CAIRN_EEXIST = -7,        /* the thing to create exists already */
    CAIRN_EPARSE = -8,        /* the input is not well-formed (JSON, pattern) */
    CAIRN_EINVALID = -9,      /* the input is well-formed but breaks a rule */
    CAIRN_EPERM = -10,        /* not allowed */
    CAIRN_EUNSUPPORTED = -11, /* valid, but not something cairn can do */
    CAIRN_EBUSY = -12,        /* others held a resource too long; retry */
};

/* A static, human-readable text for an error code; never NULL. */
const char *cairn_strerror(int code);

enum cairn_severity {
    CAIRN_SEV_ERROR = 0,
    CAIRN_SEV_WARNING = 1,
};

/*
 * One finding about an input: where it is and what is wrong. Fields that do
 * not apply are empty strings or 0. `line` and `column` are 1-based; `path`
 * is a JSON path such as "objects[3].valid_until" (empty for the document
 * itself). `rule` is a short stable name for the check, such as
 * "required-property", that tests and scripts may rely on.
 */
struct cairn_diag {
    enum cairn_severity severity;
    char file[256];
    char object_id[128];
    char path[256];
    size_t offset;
    unsigned line;
    unsigned column;
    char rule[48];
    char message[320];
};

/* Finding sink: called once per finding; `diag` is valid for the call only. */
typedef void (*cairn_diag_cb)(const struct cairn_diag *diag, void *ud);

/* Reset every field of `diag` to empty. */
void cairn_diag_clear(struct cairn_diag *diag);

/* Set the message (printf-style) and severity; truncates to fit. NULL-safe. */
void cairn_diag_set(struct cairn_diag *diag, enum cairn_severity sev,
                    const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Format `diag` as one line without a trailing newline, in the style
 * "FILE:LINE:COL: error: MESSAGE" or "FILE: OBJECT_ID: PATH: error: MESSAGE",
 * leaving out the parts that are empty. Returns the length snprintf would
 * have produced.
 */
int cairn_diag_format(const struct cairn_diag *diag, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
