/* SPDX-License-Identifier: Apache-2.0 */
/* TLP markings: the fixed marking-definition ids of TLP 2.0 and 1.0. */
#include <string.h>
#include <strings.h>

#include "stix/stix_int.h"

/*
 * The ids are fixed by the specification (TLP 1.0, section 7.2.1.4) and by
 * the OASIS TLP 2.0 extension (extension-definition--60a3c5c5-...).
 */
static const struct {
    const char *id;
    enum cairn_tlp tlp;
    int version; /* 1 or 2 */
    const char *level;
} tlp_ids[] = {
    {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
     CAIRN_TLP_CLEAR, 2, "clear"},
    {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
     CAIRN_TLP_GREEN, 2, "green"},
    {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
     CAIRN_TLP_AMBER, 2, "amber"},
    {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
     CAIRN_TLP_AMBER_STRICT, 2, "amber+strict"},
    {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", CAIRN_TLP_RED,
     2, "red"},
    {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
     CAIRN_TLP_CLEAR, 1, "white"},
    {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
     CAIRN_TLP_GREEN, 1, "green"},
    {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
     CAIRN_TLP_AMBER, 1, "amber"},
    {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", CAIRN_TLP_RED,
     1, "red"},
};

#define N_TLP (sizeof tlp_ids / sizeof tlp_ids[0])

int cairn__stix_tlp_lookup(const char *marking_id, const char **level)
{
    if (marking_id == NULL)
        return 0;
    for (size_t i = 0; i < N_TLP; i++) {
        if (strcmp(marking_id, tlp_ids[i].id) == 0) {
            if (level != NULL)
                *level = tlp_ids[i].level;
            return tlp_ids[i].version;
        }
    }
    return 0;
}

enum cairn_tlp cairn_tlp_of_marking(const char *marking_id)
{
    if (marking_id == NULL)
        return CAIRN_TLP_NONE;
    for (size_t i = 0; i < N_TLP; i++)
        if (strcmp(marking_id, tlp_ids[i].id) == 0)
            return tlp_ids[i].tlp;
    return CAIRN_TLP_NONE;
}

const char *cairn_tlp_name(enum cairn_tlp tlp)
{
    switch (tlp) {
    case CAIRN_TLP_CLEAR:
        return "TLP:CLEAR";
    case CAIRN_TLP_GREEN:
        return "TLP:GREEN";
    case CAIRN_TLP_AMBER:
        return "TLP:AMBER";
    case CAIRN_TLP_AMBER_STRICT:
        return "TLP:AMBER+STRICT";
    case CAIRN_TLP_RED:
        return "TLP:RED";
    case CAIRN_TLP_NONE:
        break;
    }
    return NULL;
}

const char *cairn_tlp_marking_id(enum cairn_tlp tlp)
{
    for (size_t i = 0; i < N_TLP; i++)
        if (tlp_ids[i].tlp == tlp && tlp_ids[i].version == 2)
            return tlp_ids[i].id;
    return NULL;
}

enum cairn_tlp cairn_tlp_from_name(const char *name)
{
    static const struct {
        const char *name;
        enum cairn_tlp tlp;
    } names[] = {
        {"clear", CAIRN_TLP_CLEAR},
        {"white", CAIRN_TLP_CLEAR},
        {"green", CAIRN_TLP_GREEN},
        {"amber", CAIRN_TLP_AMBER},
        {"amber+strict", CAIRN_TLP_AMBER_STRICT},
        {"red", CAIRN_TLP_RED},
    };

    if (strncasecmp(name, "tlp:", 4) == 0)
        name += 4;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(name, names[i].name) == 0)
            return names[i].tlp;
    return CAIRN_TLP_NONE;
}
