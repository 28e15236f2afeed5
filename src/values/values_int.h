/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the values module: limits shared by its files. */
#ifndef CAIRN_VALUES_INT_H
#define CAIRN_VALUES_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cairn/values.h"

/* Longest URL that is normalised (bytes). */
#define HUNT_URL_MAX CAIRN_VALUE_URL_MAX

#endif
