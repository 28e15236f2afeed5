/* SPDX-License-Identifier: Apache-2.0 */
/* The [peer NAME] sections of the configuration file, read with inih. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "cairn/taxii.h"

#define VALUE_MAX_LEN   1024
#define PEERS_MAX       256
#define FLOWS_MAX       256
#define INTERVAL_DEF    300
#define INTERVAL_MAX    (7 * 86400)
#define PEER_PREFIX     "peer "
#define PEER_PREFIX_LEN 5

struct loader {
    FILE *f;
    unsigned line;
    const char *path;
    size_t dir_len; /* the file's directory with its '/'; 0: none */
    struct cairn_peers *peers;
    struct cairn_peer *cur; /* the section being read, or NULL */
    unsigned header_line;   /* line of the last "[section]" read */
    unsigned header_seen;   /* header_line when `cur` was started */
    struct cairn_diag *diag;
    int rc;
    unsigned long_line;
    bool member_seen;    /* in the current section */
    bool anonymize_seen; /* in the current section */
};

static char *read_line(char *str, int num, void *stream)
{
    struct loader *ld = stream;

    if (fgets(str, num, ld->f) == NULL)
        return NULL;
    ld->line++;
    size_t n = strlen(str);
    if (n > 0 && str[n - 1] != '\n' && !feof(ld->f) && ld->long_line == 0)
        ld->long_line = ld->line;
    /* inih does not say when a section starts; two [peer a] in a row
     * must not merge silently. */
    if (str[strspn(str, " \t")] == '[')
        ld->header_line = ld->line;
    return str;
}

static int fail(struct loader *ld, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Record the first mistake; returns 0, inih's "this line failed". */
static int fail(struct loader *ld, const char *fmt, ...)
{
    char msg[320];
    va_list ap;

    if (ld->rc != 0)
        return 0;
    ld->rc = CAIRN_EINVAL;
    if (ld->diag == NULL)
        return 0;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cairn_diag_clear(ld->diag);
    snprintf(ld->diag->file, sizeof ld->diag->file, "%s", ld->path);
    ld->diag->line = ld->line;
    cairn_diag_set(ld->diag, CAIRN_SEV_ERROR, "config", "%s", msg);
    return 0;
}

static int nomem(struct loader *ld)
{
    if (ld->rc == 0)
        ld->rc = CAIRN_ENOMEM;
    return 0;
}

/* `value`, relative to the file's directory unless absolute. */
static int set_path(struct loader *ld, char **slot, const char *value)
{
    if (value[0] != '/' && ld->dir_len > 0) {
        size_t len = ld->dir_len + strlen(value) + 1;
        char *p = cairn_malloc(len);
        if (p == NULL)
            return nomem(ld);
        snprintf(p, len, "%.*s%s", (int)ld->dir_len, ld->path, value);
        *slot = p;
        return 1;
    }
    *slot = cairn_strdup(value);
    return *slot != NULL ? 1 : nomem(ld);
}

static int set_string(struct loader *ld, char **slot, const char *name,
                      const char *value, bool is_path)
{
    if (*slot != NULL)
        return fail(ld, "[peer %s] %s is given twice", ld->cur->name, name);
    if (value[0] == '\0')
        return fail(ld, "[peer %s] %s is empty", ld->cur->name, name);
    if (strlen(value) > VALUE_MAX_LEN)
        return fail(ld, "[peer %s] %s is too long", ld->cur->name, name);
    if (is_path)
        return set_path(ld, slot, value);
    *slot = cairn_strdup(value);
    return *slot != NULL ? 1 : nomem(ld);
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
        return fail(ld, "[peer %s] expected %s", peer->name, what);
    if (peer->n_flows >= FLOWS_MAX)
        return fail(ld, "[peer %s] more than %d pull and push lines",
                    peer->name, FLOWS_MAX);
    const char *p = value;
    size_t llen = next_word(&p);
    const char *left = p;
    p += llen;
    while (*p == ' ' || *p == '\t')
        p++;
    if (llen == 0 || p != arrow)
        return fail(ld, "[peer %s] expected %s", peer->name, what);
    p = arrow + 2;
    size_t rlen = next_word(&p);
    const char *right = p;
    p += rlen;
    if (rlen == 0)
        return fail(ld, "[peer %s] expected %s", peer->name, what);

    struct cairn_peer_flow *flows =
        cairn_realloc(peer->flows, (peer->n_flows + 1) * sizeof *peer->flows);
    if (flows == NULL)
        return nomem(ld);
    peer->flows = flows;
    struct cairn_peer_flow *f = &flows[peer->n_flows++];
    memset(f, 0, sizeof *f);
    f->push = push;
    char *l = cairn_strndup(left, llen);
    char *r = cairn_strndup(right, rlen);
    f->remote = push ? r : l;
    f->local = push ? l : r;
    if (l == NULL || r == NULL)
        return nomem(ld);
    for (;;) {
        size_t tlen = next_word(&p);
        if (tlen == 0)
            break;
        if (!push)
            return fail(ld,
                        "[peer %s] pull takes no types: pull = REMOTE -> "
                        "LOCAL",
                        peer->name);
        if (!type_name_ok(p, tlen))
            return fail(ld, "[peer %s] '%.*s' is not a STIX type name",
                        peer->name, (int)(tlen > 64 ? 64 : tlen), p);
        if (f->n_types >= CAIRN_PEER_TYPES_MAX)
            return fail(ld, "[peer %s] more than %d types on one push line",
                        peer->name, CAIRN_PEER_TYPES_MAX);
        f->types[f->n_types] = cairn_strndup(p, tlen);
        if (f->types[f->n_types] == NULL)
            return nomem(ld);
        f->n_types++;
        p += tlen;
    }
    return 1;
}

static int start_peer(struct loader *ld, const char *section)
{
    const char *name = section + PEER_PREFIX_LEN;
    struct cairn_peers *peers = ld->peers;

    while (*name == ' ')
        name++;
    if (*name == '\0')
        return fail(ld, "[peer] needs a name: [peer NAME]");
    for (size_t i = 0; i < peers->n; i++) {
        if (strcmp(peers->peers[i].name, name) == 0)
            return fail(ld, "[peer %s] appears twice", name);
    }
    if (peers->n >= PEERS_MAX)
        return fail(ld, "more than %d peers", PEERS_MAX);
    struct cairn_peer *list =
        cairn_realloc(peers->peers, (peers->n + 1) * sizeof *list);
    if (list == NULL)
        return nomem(ld);
    peers->peers = list;
    ld->cur = &list[peers->n++];
    memset(ld->cur, 0, sizeof *ld->cur);
    ld->member_seen = false;
    ld->anonymize_seen = false;
    ld->cur->name = cairn_strdup(name);
    return ld->cur->name != NULL ? 1 : nomem(ld);
}

static int on_entry(void *user, const char *section, const char *name,
                    const char *value)
{
    struct loader *ld = user;

    if (ld->rc != 0)
        return 0;
    if (ld->long_line != 0) {
        ld->line = ld->long_line;
        return fail(ld, "line too long");
    }
    if (strncmp(section, PEER_PREFIX, PEER_PREFIX_LEN) != 0 &&
        strcmp(section, "peer") != 0) {
        ld->cur = NULL;
        /* The server's reader checks it; here it only locates the state. */
        if (strcmp(section, "server") == 0 && strcmp(name, "data") == 0 &&
            ld->peers->data == NULL && value[0] != '\0')
            return set_path(ld, &ld->peers->data, value);
        return 1; /* another reader's section */
    }
    if (ld->cur == NULL || ld->header_seen != ld->header_line) {
        if (strcmp(section, "peer") == 0)
            return fail(ld, "[peer] needs a name: [peer NAME]");
        ld->header_seen = ld->header_line;
        if (start_peer(ld, section) == 0)
            return 0;
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
            return fail(ld, "[peer %s] identity: '%.80s' is not identity--UUID",
                        p->name, value);
        return set_string(ld, &p->identity, name, value, false);
    }
    if (strcmp(name, "member") == 0) {
        if (ld->member_seen)
            return fail(ld, "[peer %s] member is given twice", p->name);
        ld->member_seen = true;
        if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0)
            p->member = true;
        else if (strcmp(value, "no") != 0 && strcmp(value, "false") != 0)
            return fail(ld, "[peer %s] member: '%.80s' is not yes or no",
                        p->name, value);
        return 1;
    }
    if (strcmp(name, "anonymize") == 0) {
        if (ld->anonymize_seen)
            return fail(ld, "[peer %s] anonymize is given twice", p->name);
        ld->anonymize_seen = true;
        if (strcmp(value, "pseudonym") == 0)
            p->anonymize = CAIRN_SHARE_ANON_PSEUDONYM;
        else if (strcmp(value, "remove") == 0)
            p->anonymize = CAIRN_SHARE_ANON_REMOVE;
        else if (strcmp(value, "no") != 0)
            return fail(ld,
                        "[peer %s] anonymize: '%.80s' is not pseudonym, "
                        "remove or no",
                        p->name, value);
        return 1;
    }
    if (strcmp(name, "pull") == 0)
        return add_flow(ld, false, value);
    if (strcmp(name, "push") == 0)
        return add_flow(ld, true, value);
    if (strcmp(name, "interval") == 0) {
        char *end = NULL;
        if (p->interval != 0)
            return fail(ld, "[peer %s] interval is given twice", p->name);
        errno = 0;
        long v = strtol(value, &end, 10);
        if (value[0] < '0' || value[0] > '9' || errno != 0 || *end != '\0' ||
            v < 1 || v > INTERVAL_MAX)
            return fail(ld,
                        "[peer %s] interval: '%s' is not a number of "
                        "seconds from 1 to %d",
                        p->name, value, INTERVAL_MAX);
        p->interval = (unsigned)v;
        return 1;
    }
    return fail(ld, "unknown key '%s' in section [peer %s]", name, p->name);
}

/* What a section must have once it is read. */
static int check_peer(struct loader *ld, struct cairn_peer *p)
{
    ld->line = 0;
    if (p->url == NULL)
        return fail(ld, "[peer %s] has no url", p->name);
    if (p->user != NULL && p->token_file != NULL)
        return fail(ld, "[peer %s] user and token_file exclude each other",
                    p->name);
    if (p->password_file != NULL && p->user == NULL)
        return fail(ld, "[peer %s] password_file needs a user", p->name);
    if (p->key != NULL && p->cert == NULL)
        return fail(ld, "[peer %s] key needs a cert", p->name);
    if (p->n_flows == 0)
        return fail(ld, "[peer %s] has no pull or push line", p->name);
    if (p->interval == 0)
        p->interval = INTERVAL_DEF;
    return 1;
}

int cairn_peers_load(const char *path, struct cairn_peers *out,
                     struct cairn_diag *diag)
{
    struct loader ld = {
        .path = path,
        .peers = out,
        .diag = diag,
    };
    int rc = CAIRN_EINTERNAL;

    memset(out, 0, sizeof *out);
    const char *slash = strrchr(path, '/');
    ld.dir_len = slash != NULL ? (size_t)(slash - path) + 1 : 0;
    ld.f = fopen(path, "re");
    if (ld.f == NULL) {
        if (diag != NULL) {
            cairn_diag_clear(diag);
            snprintf(diag->file, sizeof diag->file, "%s", path);
            cairn_diag_set(diag, CAIRN_SEV_ERROR, "config", "%s",
                           strerror(errno));
        }
        rc = CAIRN_EIO;
        goto out;
    }
    int line = ini_parse_stream(read_line, &ld, on_entry, &ld);
    if (ld.rc == 0 && line != 0) {
        /* inih's own parse errors; config.c names them for the server. */
        ld.line = line > 0 ? (unsigned)line : 0;
        fail(&ld, "expected [section] or key = value");
        if (line == -2)
            ld.rc = CAIRN_ENOMEM;
    }
    for (size_t i = 0; ld.rc == 0 && i < out->n; i++)
        check_peer(&ld, &out->peers[i]);
    rc = ld.rc;
out:
    if (ld.f != NULL)
        fclose(ld.f);
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
        for (size_t j = 0; j < p->n_flows; j++) {
            struct cairn_peer_flow *f = &p->flows[j];
            cairn_free(f->remote);
            cairn_free(f->local);
            for (size_t k = 0; k < f->n_types; k++)
                cairn_free(f->types[k]);
        }
        cairn_free(p->flows);
    }
    cairn_free(peers->peers);
    cairn_free(peers->data);
    memset(peers, 0, sizeof *peers);
}
