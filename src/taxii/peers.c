/* SPDX-License-Identifier: Apache-2.0 */
/* The [peer NAME] sections of the configuration file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/taxii.h"

#define PEERS_MAX       256
#define FLOWS_MAX       256
#define INTERVAL_DEF    300
#define INTERVAL_MAX    (7 * 86400)
#define BOUND_MAX       1000000000L
#define PEER_PREFIX     "peer "
#define PEER_PREFIX_LEN 5
/* restricted_marking lines one peer section may have. */
#define RESTRICTED_MAX 64

struct loader {
    struct cairn_ini ini;
    struct cairn_peers *peers;
    struct cairn_peer *cur; /* the section being read, or NULL */
    char label[64]; /* "peer NAME" of `cur`; inih's sections are < 50 bytes */
    unsigned header_seen; /* ini.section_line when `cur` was started */
    bool member_seen;     /* in the current section */
    bool anonymize_seen;  /* in the current section */
    struct cairn_sign_trust_rule *rule; /* [collection ID] being read */
    unsigned rule_header;
};

/* ---- signatures and trust (docs/signing.md) ------------------------------ */

#define TRUST_FILES_MAX 256
#define COLLECTION_RULES_MAX 1024

/* `signatures = POLICY` or `trust = FILE...` of a peer or collection. */
static int sign_entry(struct loader *ld, struct cairn_sign_trust_rule *r,
                      const char *label, const char *name, const char *value)
{
    if (strcmp(name, "signatures") == 0) {
        enum cairn_sign_policy pol;
        if (r->policy >= 0)
            return cairn_ini_fail(&ld->ini, "[%s] signatures is given twice",
                                  label);
        if (cairn_sign_policy_parse(value, &pol) < 0)
            return cairn_ini_fail(&ld->ini,
                                  "[%s] signatures: '%.80s' is not require, "
                                  "check or ignore",
                                  label, value);
        r->policy = (int)pol;
        return 0;
    }
    /* trust: file names separated by blanks */
    const char *p = value;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        size_t len = strcspn(p, " \t");
        if (len == 0)
            break;
        if (r->n_trust_files >= TRUST_FILES_MAX)
            return cairn_ini_fail(&ld->ini, "[%s] more than %d trust files",
                                  label, TRUST_FILES_MAX);
        char **list = cairn_realloc(
            r->trust_files, (r->n_trust_files + 1) * sizeof *list);
        if (list == NULL)
            return CAIRN_ENOMEM;
        r->trust_files = list;
        char *one = cairn_strndup(p, len);
        if (one == NULL)
            return CAIRN_ENOMEM;
        int rc = cairn_ini_path(&ld->ini, one, &list[r->n_trust_files]);
        cairn_free(one);
        if (rc < 0)
            return rc;
        r->n_trust_files++;
        p += len;
    }
    return 0;
}

/* Add the keys of `r`'s trust files to `*t` (created when needed). */
static int trust_load(struct loader *ld, const struct cairn_sign_trust_rule *r,
                      struct cairn_trust **t)
{
    for (size_t i = 0; i < r->n_trust_files; i++) {
        int rc = 0;
        if (*t == NULL)
            rc = cairn_trust_new(t);
        if (rc == 0)
            rc = cairn_trust_add_file(*t, r->trust_files[i], ld->ini.diag);
        if (rc < 0) {
            ld->ini.rc = rc;
            return rc;
        }
    }
    return 0;
}

static void rule_release(struct cairn_sign_trust_rule *r)
{
    for (size_t i = 0; i < r->n_trust_files; i++)
        cairn_free(r->trust_files[i]);
    cairn_free(r->trust_files);
    cairn_trust_free(r->trust);
    memset(r, 0, sizeof *r);
    r->policy = -1;
}

static int start_collection(struct loader *ld, const char *section)
{
    const char *id = section + 11;
    struct cairn_peers *peers = ld->peers;

    while (*id == ' ')
        id++;
    if (!cairn_uuid_check(id, strlen(id), false, NULL))
        return cairn_ini_fail(&ld->ini,
                              "[collection %.80s]: expected the collection's "
                              "id ('cairn collection list' shows them)",
                              id);
    for (size_t i = 0; i < peers->n_collections; i++)
        if (strcmp(peers->collections[i].collection, id) == 0)
            return cairn_ini_fail(&ld->ini, "[collection %s] appears twice",
                                  id);
    if (peers->n_collections >= COLLECTION_RULES_MAX)
        return cairn_ini_fail(&ld->ini, "more than %d [collection] sections",
                              COLLECTION_RULES_MAX);
    struct cairn_sign_trust_rule *list = cairn_realloc(
        peers->collections, (peers->n_collections + 1) * sizeof *list);
    if (list == NULL)
        return CAIRN_ENOMEM;
    peers->collections = list;
    ld->rule = &list[peers->n_collections++];
    memset(ld->rule, 0, sizeof *ld->rule);
    ld->rule->policy = -1;
    snprintf(ld->rule->collection, sizeof ld->rule->collection, "%s", id);
    return 0;
}

const struct cairn_sign_trust_rule *
cairn_peers_collection_rule(const struct cairn_peers *peers, const char *id)
{
    if (peers == NULL || id == NULL)
        return NULL;
    for (size_t i = 0; i < peers->n_collections; i++)
        if (strcmp(peers->collections[i].collection, id) == 0)
            return &peers->collections[i];
    return NULL;
}

int cairn_peers_signer(const struct cairn_peers *peers, const char *data_dir,
                       struct cairn_sign_key **out, struct cairn_diag *diag)
{
    char path[4096];

    *out = NULL;
    if (peers == NULL || peers->sign == NULL)
        return 0;
    const char *file = peers->sign;
    if (strchr(peers->sign, '/') == NULL) {
        int n = snprintf(path, sizeof path, "%s/keys/%s.key",
                         data_dir != NULL ? data_dir : ".", peers->sign);
        if (n < 0 || (size_t)n >= sizeof path)
            return CAIRN_EINVAL;
        file = path;
    }
    int rc = cairn_sign_key_load(file, out, diag);
    if (rc == 0 && !cairn_sign_key_is_private(*out)) {
        cairn_sign_key_free(*out);
        *out = NULL;
        if (diag != NULL) {
            cairn_diag_clear(diag);
            cairn_diag_set(diag, CAIRN_SEV_ERROR, "config",
                           "[server] sign: %.200s is a public key, which "
                           "cannot sign",
                           file);
        }
        rc = CAIRN_EINVAL;
    }
    return rc;
}

static int set_string(struct loader *ld, char **slot, const char *name,
                      const char *value, bool is_path)
{
    return cairn_ini_string(&ld->ini, slot, ld->label, name, value, is_path);
}

/* A STIX type name: [a-z0-9-], 1 to 250 bytes. */
static bool type_name_ok(const char *s, size_t len)
{
    if (len == 0 || len > 250)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    return true;
}

/* The next word of `*p` (blanks and commas separate), or length 0. */
static size_t next_word(const char **p)
{
    while (**p == ' ' || **p == '\t' || **p == ',')
        (*p)++;
    return strcspn(*p, " \t,");
}

/* "pull = REMOTE -> LOCAL" or "push = LOCAL -> REMOTE [TYPE...]". */
static int add_flow(struct loader *ld, bool push, const char *value)
{
    struct cairn_peer *peer = ld->cur;
    const char *arrow = strstr(value, "->");
    const char *what =
        push ? "push = LOCAL -> REMOTE [TYPE...]" : "pull = REMOTE -> LOCAL";

    if (arrow == NULL)
        return cairn_ini_fail(&ld->ini, "[peer %s] expected %s", peer->name,
                              what);
    if (peer->n_flows >= FLOWS_MAX)
        return cairn_ini_fail(&ld->ini,
                              "[peer %s] more than %d pull and push lines",
                              peer->name, FLOWS_MAX);
    const char *p = value;
    size_t llen = next_word(&p);
    const char *left = p;
    p += llen;
    while (*p == ' ' || *p == '\t')
        p++;
    if (llen == 0 || p != arrow)
        return cairn_ini_fail(&ld->ini, "[peer %s] expected %s", peer->name,
                              what);
    p = arrow + 2;
    size_t rlen = next_word(&p);
    const char *right = p;
    p += rlen;
    if (rlen == 0)
        return cairn_ini_fail(&ld->ini, "[peer %s] expected %s", peer->name,
                              what);

    struct cairn_peer_flow *flows =
        cairn_realloc(peer->flows, (peer->n_flows + 1) * sizeof *peer->flows);
    if (flows == NULL)
        return CAIRN_ENOMEM;
    peer->flows = flows;
    struct cairn_peer_flow *f = &flows[peer->n_flows++];
    memset(f, 0, sizeof *f);
    f->push = push;
    char *l = cairn_strndup(left, llen);
    char *r = cairn_strndup(right, rlen);
    f->remote = push ? r : l;
    f->local = push ? l : r;
    if (l == NULL || r == NULL)
        return CAIRN_ENOMEM;
    for (;;) {
        size_t tlen = next_word(&p);
        if (tlen == 0)
            break;
        if (!push)
            return cairn_ini_fail(
                &ld->ini,
                "[peer %s] pull takes no types: pull = REMOTE -> LOCAL",
                peer->name);
        if (!type_name_ok(p, tlen))
            return cairn_ini_fail(&ld->ini,
                                  "[peer %s] '%.*s' is not a STIX type name",
                                  peer->name, (int)(tlen > 64 ? 64 : tlen), p);
        if (f->n_types >= CAIRN_PEER_TYPES_MAX)
            return cairn_ini_fail(
                &ld->ini, "[peer %s] more than %d types on one push line",
                peer->name, CAIRN_PEER_TYPES_MAX);
        f->types[f->n_types] = cairn_strndup(p, tlen);
        if (f->types[f->n_types] == NULL)
            return CAIRN_ENOMEM;
        f->n_types++;
        p += tlen;
    }
    return 0;
}

static int start_peer(struct loader *ld, const char *section)
{
    const char *name = section + PEER_PREFIX_LEN;
    struct cairn_peers *peers = ld->peers;

    while (*name == ' ')
        name++;
    if (*name == '\0')
        return cairn_ini_fail(&ld->ini, "[peer] needs a name: [peer NAME]");
    for (size_t i = 0; i < peers->n; i++) {
        if (strcmp(peers->peers[i].name, name) == 0)
            return cairn_ini_fail(&ld->ini, "[peer %s] appears twice", name);
    }
    if (peers->n >= PEERS_MAX)
        return cairn_ini_fail(&ld->ini, "more than %d peers", PEERS_MAX);
    struct cairn_peer *list =
        cairn_realloc(peers->peers, (peers->n + 1) * sizeof *list);
    if (list == NULL)
        return CAIRN_ENOMEM;
    peers->peers = list;
    ld->cur = &list[peers->n++];
    memset(ld->cur, 0, sizeof *ld->cur);
    ld->member_seen = false;
    ld->anonymize_seen = false;
    snprintf(ld->label, sizeof ld->label, "peer %s", name);
    ld->cur->sign.policy = -1;
    ld->cur->name = cairn_strdup(name);
    return ld->cur->name != NULL ? 0 : CAIRN_ENOMEM;
}

static int on_entry(struct cairn_ini *ini, const char *section,
                    const char *name, const char *value, void *ud)
{
    struct loader *ld = ud;
    int rc;

    if (strncmp(section, PEER_PREFIX, PEER_PREFIX_LEN) != 0 &&
        strcmp(section, "peer") != 0) {
        ld->cur = NULL;
        /* The server's reader checks it; here it only locates the state. */
        if (strcmp(section, "server") == 0 && strcmp(name, "data") == 0 &&
            ld->peers->data == NULL && value[0] != '\0')
            return cairn_ini_path(ini, value, &ld->peers->data);
        if (strcmp(section, "server") == 0 && strcmp(name, "sign") == 0)
            return cairn_ini_string(ini, &ld->peers->sign, section, name,
                                    value, strchr(value, '/') != NULL);
        if (strncmp(section, "collection ", 11) == 0) {
            if (ld->rule == NULL || ld->rule_header != ini->section_line) {
                ld->rule_header = ini->section_line;
                int rc2 = start_collection(ld, section);
                if (rc2 < 0)
                    return rc2;
            }
            if (strcmp(name, "signatures") == 0 || strcmp(name, "trust") == 0)
                return sign_entry(ld, ld->rule, section, name, value);
            return cairn_ini_fail(ini,
                                  "unknown key '%s' in section [%s] "
                                  "(signatures, trust)",
                                  name, section);
        }
        return 0; /* another reader's section */
    }
    if (ld->cur == NULL || ld->header_seen != ini->section_line) {
        if (strcmp(section, "peer") == 0)
            return cairn_ini_fail(ini, "[peer] needs a name: [peer NAME]");
        ld->header_seen = ini->section_line;
        rc = start_peer(ld, section);
        if (rc < 0)
            return rc;
    }
    struct cairn_peer *p = ld->cur;
    if (strcmp(name, "url") == 0)
        return set_string(ld, &p->url, name, value, false);
    if (strcmp(name, "user") == 0)
        return set_string(ld, &p->user, name, value, false);
    if (strcmp(name, "password_file") == 0)
        return set_string(ld, &p->password_file, name, value, true);
    if (strcmp(name, "token_file") == 0)
        return set_string(ld, &p->token_file, name, value, true);
    if (strcmp(name, "cacert") == 0)
        return set_string(ld, &p->cacert, name, value, true);
    if (strcmp(name, "cert") == 0)
        return set_string(ld, &p->cert, name, value, true);
    if (strcmp(name, "key") == 0)
        return set_string(ld, &p->key, name, value, true);
    if (strcmp(name, "identity") == 0) {
        if (strncmp(value, "identity--", 10) != 0 ||
            !cairn_uuid_check(value + 10, strlen(value + 10), false, NULL))
            return cairn_ini_fail(
                ini, "[peer %s] identity: '%.80s' is not identity--UUID",
                p->name, value);
        return set_string(ld, &p->identity, name, value, false);
    }
    if (strcmp(name, "member") == 0) {
        if (ld->member_seen)
            return cairn_ini_fail(ini, "[peer %s] member is given twice",
                                  p->name);
        ld->member_seen = true;
        if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0)
            p->member = true;
        else if (strcmp(value, "no") != 0 && strcmp(value, "false") != 0)
            return cairn_ini_fail(ini,
                                  "[peer %s] member: '%.80s' is not yes or no",
                                  p->name, value);
        return 0;
    }
    if (strcmp(name, "anonymize") == 0) {
        if (ld->anonymize_seen)
            return cairn_ini_fail(ini, "[peer %s] anonymize is given twice",
                                  p->name);
        ld->anonymize_seen = true;
        if (strcmp(value, "pseudonym") == 0)
            p->anonymize = CAIRN_SHARE_ANON_PSEUDONYM;
        else if (strcmp(value, "remove") == 0)
            p->anonymize = CAIRN_SHARE_ANON_REMOVE;
        else if (strcmp(value, "no") != 0)
            return cairn_ini_fail(
                ini,
                "[peer %s] anonymize: '%.80s' is not pseudonym, remove or no",
                p->name, value);
        return 0;
    }
    if (strcmp(name, "restricted_marking") == 0) {
        if (strncmp(value, "marking-definition--", 20) != 0 ||
            !cairn_uuid_check(value + 20, strlen(value + 20), false, NULL))
            return cairn_ini_fail(ini,
                                  "[peer %s] restricted_marking: '%.80s' is "
                                  "not marking-definition--UUID",
                                  p->name, value);
        if (p->n_restricted >= RESTRICTED_MAX)
            return cairn_ini_fail(ini,
                                  "[peer %s] more than %d restricted_marking "
                                  "lines",
                                  p->name, RESTRICTED_MAX);
        char **list = cairn_realloc(p->restricted,
                                    (p->n_restricted + 1) * sizeof *list);
        if (list == NULL)
            return CAIRN_ENOMEM;
        p->restricted = list;
        list[p->n_restricted] = cairn_strdup(value);
        if (list[p->n_restricted] == NULL)
            return CAIRN_ENOMEM;
        p->n_restricted++;
        return 0;
    }
    if (strcmp(name, "signatures") == 0 || strcmp(name, "trust") == 0)
        return sign_entry(ld, &p->sign, ld->label, name, value);
    if (strcmp(name, "pull") == 0)
        return add_flow(ld, false, value);
    if (strcmp(name, "push") == 0)
        return add_flow(ld, true, value);
    if (strcmp(name, "max_pages") == 0 || strcmp(name, "max_objects") == 0 ||
        strcmp(name, "deadline") == 0) {
        bool pages = name[4] == 'p', objects = name[4] == 'o';
        char *end = NULL;
        if ((pages && p->max_pages != 0) || (objects && p->max_objects != 0) ||
            (!pages && !objects && p->deadline != 0))
            return cairn_ini_fail(ini, "[peer %s] %s is given twice", p->name,
                                  name);
        errno = 0;
        long v = strtol(value, &end, 10);
        if (value[0] < '0' || value[0] > '9' || errno != 0 || *end != '\0' ||
            v < 1 || v > BOUND_MAX)
            return cairn_ini_fail(ini,
                                  "[peer %s] %s: '%.80s' is not a number from "
                                  "1 to %ld%s",
                                  p->name, name, value, BOUND_MAX,
                                  pages || objects ? "" : " (seconds)");
        if (pages)
            p->max_pages = (size_t)v;
        else if (objects)
            p->max_objects = (size_t)v;
        else
            p->deadline = (unsigned)v;
        return 0;
    }
    if (strcmp(name, "interval") == 0) {
        char *end = NULL;
        if (p->interval != 0)
            return cairn_ini_fail(ini, "[peer %s] interval is given twice",
                                  p->name);
        errno = 0;
        long v = strtol(value, &end, 10);
        if (value[0] < '0' || value[0] > '9' || errno != 0 || *end != '\0' ||
            v < 1 || v > INTERVAL_MAX)
            return cairn_ini_fail(ini,
                                  "[peer %s] interval: '%s' is not a number of "
                                  "seconds from 1 to %d",
                                  p->name, value, INTERVAL_MAX);
        p->interval = (unsigned)v;
        return 0;
    }
    return cairn_ini_fail(ini, "unknown key '%s' in section [peer %s]", name,
                          p->name);
}

/* What a section must have once it is read. */
static int check_peer(struct loader *ld, struct cairn_peer *p)
{
    ld->ini.line = 0; /* the file as a whole */
    if (p->url == NULL)
        return cairn_ini_fail(&ld->ini, "[peer %s] has no url", p->name);
    if (p->user != NULL && p->token_file != NULL)
        return cairn_ini_fail(
            &ld->ini, "[peer %s] user and token_file exclude each other",
            p->name);
    if (p->password_file != NULL && p->user == NULL)
        return cairn_ini_fail(&ld->ini, "[peer %s] password_file needs a user",
                              p->name);
    if (p->key != NULL && p->cert == NULL)
        return cairn_ini_fail(&ld->ini, "[peer %s] key needs a cert", p->name);
    if (p->n_flows == 0)
        return cairn_ini_fail(&ld->ini, "[peer %s] has no pull or push line",
                              p->name);
    if (p->interval == 0)
        p->interval = INTERVAL_DEF;
    int rc = trust_load(ld, &p->sign, &p->sign.trust);
    for (size_t i = 0; rc == 0 && i < p->n_flows; i++) {
        struct cairn_peer_flow *f = &p->flows[i];
        const struct cairn_sign_trust_rule *c =
            cairn_peers_collection_rule(ld->peers, f->local);
        if (f->push)
            continue;
        f->sign_policy = p->sign.policy > 0 ? p->sign.policy : 0;
        if (c != NULL && c->policy > f->sign_policy)
            f->sign_policy = c->policy;
        rc = trust_load(ld, &p->sign, &f->sign_trust);
        if (rc == 0 && c != NULL)
            rc = trust_load(ld, c, &f->sign_trust);
    }
    if (rc == 0 && p->sign.policy == CAIRN_SIGN_REQUIRE &&
        p->sign.n_trust_files == 0)
        return cairn_ini_fail(&ld->ini,
                              "[peer %s] signatures = require needs trust = "
                              "KEYFILE...",
                              p->name);
    return rc;
}

int cairn_peers_load(const char *path, struct cairn_peers *out,
                     struct cairn_diag *diag)
{
    struct loader ld = {.peers = out};

    memset(out, 0, sizeof *out);
    int rc = cairn_ini_parse(&ld.ini, path, on_entry, &ld, diag);
    for (size_t i = 0; rc == 0 && i < out->n_collections; i++) {
        struct cairn_sign_trust_rule *r = &out->collections[i];
        ld.ini.line = 0;
        rc = trust_load(&ld, r, &r->trust);
        if (rc == 0 && r->policy == CAIRN_SIGN_REQUIRE &&
            r->n_trust_files == 0)
            rc = cairn_ini_fail(&ld.ini,
                                "[collection %s] signatures = require needs "
                                "trust = KEYFILE...",
                                r->collection);
    }
    for (size_t i = 0; rc == 0 && i < out->n; i++)
        rc = check_peer(&ld, &out->peers[i]);
    if (rc != 0)
        cairn_peers_release(out);
    return rc;
}

void cairn_peers_release(struct cairn_peers *peers)
{
    if (peers == NULL)
        return;
    for (size_t i = 0; i < peers->n; i++) {
        struct cairn_peer *p = &peers->peers[i];
        cairn_free(p->name);
        cairn_free(p->url);
        cairn_free(p->user);
        cairn_free(p->password_file);
        cairn_free(p->token_file);
        cairn_free(p->cacert);
        cairn_free(p->cert);
        cairn_free(p->key);
        cairn_free(p->identity);
        for (size_t j = 0; j < p->n_restricted; j++)
            cairn_free(p->restricted[j]);
        cairn_free(p->restricted);
        rule_release(&p->sign);
        for (size_t j = 0; j < p->n_flows; j++) {
            struct cairn_peer_flow *f = &p->flows[j];
            cairn_trust_free(f->sign_trust);
            cairn_free(f->remote);
            cairn_free(f->local);
            for (size_t k = 0; k < f->n_types; k++)
                cairn_free(f->types[k]);
        }
        cairn_free(p->flows);
    }
    cairn_free(peers->peers);
    cairn_free(peers->data);
    for (size_t i = 0; i < peers->n_collections; i++)
        rule_release(&peers->collections[i]);
    cairn_free(peers->collections);
    cairn_free(peers->sign);
    memset(peers, 0, sizeof *peers);
}
