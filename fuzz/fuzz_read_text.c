/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the text telemetry reader (time stamps, extracted values)
 * over arbitrary bytes. */
#include "fuzz_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_reader(data, size, CAIRN_TELEMETRY_TEXT);
}
