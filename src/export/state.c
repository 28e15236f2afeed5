/* SPDX-License-Identifier: Apache-2.0 */
/* The state kept between rewrites (sids, RPZ serial), and atomic writes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export/export_int.h"

/* Longest state file read: 64 bytes a line, 16 million rules. */
#define STATE_MAX ((size_t)1 << 30)
#define SID_MAX   EXPORT_SID_MAX

int cairn_export_write_file(const char *path, const void *data, size_t len)
{
    size_t pl = strlen(path);
    char *tmp = cairn_malloc(pl + 16);
    int fd = -1, rc = CAIRN_EIO;

    if (tmp == NULL)
        return CAIRN_ENOMEM;
    memcpy(tmp, path, pl);
    memcpy(tmp + pl, ".tmp.XXXXXX", 12);
    fd = mkstemp(tmp);
    if (fd < 0)
        goto out;
    (void)fchmod(fd, 0644);
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            goto out;
        p += n;
        left -= (size_t)n;
    }
    if (fsync(fd) != 0)
        goto out;
    if (close(fd) != 0) {
        fd = -1;
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0)
        goto out;
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (rc != 0 && tmp != NULL)
        (void)unlink(tmp);
    cairn_free(tmp);
    return rc;
}

int cairn_export_write(struct cairn_export *ex, const struct cairn_time *now,
                       const char *path, struct cairn_export_file *file,
                       struct cairn_export_stats *stats,
                       cairn_export_skip_cb skip, void *ud)
{
    struct cairn_export_file f = {.fd = -1};
    char *tmp = NULL;
    int fd = -1, rc = CAIRN_EIO;

    if (file != NULL)
        *file = f;
    if (path == NULL) {
        fd = memfd_create("cairn-export", MFD_CLOEXEC);
        if (fd < 0)
            return CAIRN_EIO;
    } else {
        size_t pl = strlen(path);
        tmp = cairn_malloc(pl + 16);
        if (tmp == NULL)
            return CAIRN_ENOMEM;
        memcpy(tmp, path, pl);
        memcpy(tmp + pl, ".tmp.XXXXXX", 12);
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
            goto out;
        (void)fchmod(fd, 0644);
    }
    rc = cairn_export_render_fd(ex, now, fd, &f, stats, skip, ud);
    if (rc != 0)
        goto out;
    rc = CAIRN_EIO;
    if (tmp != NULL && (fsync(fd) != 0 || rename(tmp, path) != 0))
        goto out;
    cairn_free(tmp);
    tmp = NULL; /* renamed: nothing to take away */
    if (file != NULL) {
        f.fd = fd;
        fd = -1;
        *file = f;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (tmp != NULL) {
        (void)unlink(tmp);
        cairn_free(tmp);
    }
    return rc;
}

/* ---- the sid map ----------------------------------------------------------
 */

void cairn__export_sids_free(struct sidmap *m)
{
    cairn_free(m->recs);
    m->recs = NULL;
    m->cap = m->n = 0;
}

static size_t sid_slot(const struct sidmap *m, uint64_t key)
{
    size_t mask = m->cap - 1;
    size_t i = (size_t)key & mask;
    while (m->recs[i].key != 0 && m->recs[i].key != key)
        i = (i + 1) & mask;
    return i;
}

static int sid_grow_to(struct sidmap *m, size_t nc)
{
    struct sid_rec *old = m->recs;
    size_t oc = m->cap;
    m->recs = cairn_calloc(nc, sizeof *m->recs);
    if (m->recs == NULL) {
        m->recs = old;
        return CAIRN_ENOMEM;
    }
    m->cap = nc;
    for (size_t i = 0; i < oc; i++)
        if (old[i].key != 0)
            m->recs[sid_slot(m, old[i].key)] = old[i];
    cairn_free(old);
    return 0;
}

static int sid_grow(struct sidmap *m)
{
    return sid_grow_to(m, m->cap ? m->cap * 2 : 4096);
}

int cairn__export_sids_reserve(struct sidmap *m, size_t n)
{
    /* grown once to its size, not doubled twenty times over the rules */
    size_t nc = m->cap ? m->cap : 4096;
    while ((n + 1) * 2 > nc && nc < ((size_t)1 << 40))
        nc *= 2;
    return nc > m->cap ? sid_grow_to(m, nc) : 0;
}

int cairn__export_sids_get(struct sidmap *m, uint64_t key, uint64_t ver,
                           uint32_t *sid, uint32_t *rev)
{
    if (key == 0)
        key = 1;
    if ((m->n + 1) * 2 > m->cap && sid_grow(m) != 0)
        return CAIRN_ENOMEM;
    struct sid_rec *r = &m->recs[sid_slot(m, key)];
    if (r->key == 0) {
        if (m->next >= SID_MAX)
            return CAIRN_ETOOBIG;
        *r = (struct sid_rec){key, ver, m->next++, 1};
        m->n++;
        m->dirty = true;
    } else if (r->ver != ver) {
        r->ver = ver;
        r->rev++;
        m->dirty = true;
    }
    *sid = r->sid;
    *rev = r->rev;
    return 0;
}

static int fail_line(struct cairn_diag *diag, unsigned line, const char *msg)
{
    if (diag != NULL) {
        cairn_diag_set(diag, CAIRN_SEV_ERROR, "export-state", "%s", msg);
        diag->line = line;
    }
    return CAIRN_EINVALID;
}

static bool parse_u64(const char **p, const char *end, int base,
                      uint64_t max, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    size_t n = 0;
    while (s < end && *s == ' ')
        s++;
    for (; s < end && *s != ' '; s++, n++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else
            return false;
        if (n >= (base == 16 ? 16u : 19u))
            return false;
        v = v * (uint64_t)base + d;
    }
    if (n == 0 || v > max)
        return false;
    *p = s;
    *out = v;
    return true;
}

int cairn__export_sids_parse(struct sidmap *m, const char *text, size_t len,
                             struct cairn_diag *diag)
{
    size_t i = 0;
    unsigned line = 0;

    while (i < len) {
        const char *nl = memchr(text + i, '\n', len - i);
        const char *s = text + i, *end = nl != NULL ? nl : text + len;
        i = (size_t)(end - text) + 1;
        line++;
        if (end == s || *s == '#')
            continue;
        uint64_t a, b, c, d;
        if ((size_t)(end - s) > 7 && memcmp(s, "serial ", 7) == 0) {
            const char *p = s + 6;
            if (!parse_u64(&p, end, 10, UINT32_MAX, &a) || p != end)
                return fail_line(diag, line,
                                 "serial: not a number below 2^32");
            m->serial = a;
        } else if ((size_t)(end - s) > 4 && memcmp(s, "sid ", 4) == 0) {
            const char *p = s + 3;
            if (!parse_u64(&p, end, 10, SID_MAX - 1, &a) ||
                !parse_u64(&p, end, 10, UINT32_MAX, &b) ||
                !parse_u64(&p, end, 16, UINT64_MAX, &c) ||
                !parse_u64(&p, end, 16, UINT64_MAX, &d) || p != end ||
                a == 0 || b == 0 || c == 0)
                return fail_line(diag, line,
                                 "expected 'sid SID REV KEY VERSION' (KEY "
                                 "and VERSION in hex)");
            if (m != NULL) {
                if ((m->n + 1) * 2 > m->cap && sid_grow(m) != 0)
                    return CAIRN_ENOMEM;
                struct sid_rec *r = &m->recs[sid_slot(m, c)];
                if (r->key != 0)
                    return fail_line(diag, line, "a rule's key given twice");
                *r = (struct sid_rec){c, d, (uint32_t)a, (uint32_t)b};
                m->n++;
                if (a >= m->next)
                    m->next = (uint32_t)a + 1;
            }
        } else {
            return fail_line(diag, line, "expected 'serial N' or 'sid ...'");
        }
    }
    return 0;
}

int cairn_export_state_check(const char *text, size_t len,
                             struct cairn_diag *diag)
{
    struct sidmap m = {.next = CAIRN_EXPORT_SID_BASE};
    int rc = cairn__export_sids_parse(&m, text, len, diag);
    cairn__export_sids_free(&m);
    return rc;
}

int cairn__export_sids_load(struct sidmap *m, const char *path,
                            struct cairn_diag *diag)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    size_t len = 0, cap = 0;
    int rc = CAIRN_EIO;

    if (f == NULL) {
        if (errno == ENOENT)
            return 0; /* a first run */
        if (diag != NULL)
            cairn_diag_set(diag, CAIRN_SEV_ERROR, "export-state",
                           "cannot read: %s", strerror(errno));
        return CAIRN_EIO;
    }
    for (;;) {
        if (len == cap) {
            if (cap >= STATE_MAX) {
                rc = fail_line(diag, 0, "state file over 1 GiB");
                goto out;
            }
            size_t nc = cap ? cap * 2 : 65536;
            char *nt = cairn_realloc(text, nc);
            if (nt == NULL) {
                rc = CAIRN_ENOMEM;
                goto out;
            }
            text = nt;
            cap = nc;
        }
        size_t n = fread(text + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f))
        goto out;
    rc = cairn__export_sids_parse(m, text, len, diag);
    if (rc != 0 && diag != NULL)
        snprintf(diag->file, sizeof diag->file, "%s", path);
out:
    fclose(f);
    cairn_free(text);
    return rc;
}

int cairn__export_sids_save(const struct sidmap *m, const char *path)
{
    struct cairn_buf b;
    int rc;

    cairn_buf_init(&b, (size_t)-1 >> 1);
    rc = cairn_buf_printf(&b,
                          "# cairn export state: the RPZ serial and the "
                          "rules' sids (sid SID REV KEY VERSION)\n"
                          "serial %llu\n",
                          (unsigned long long)m->serial);
    for (size_t i = 0; i < m->cap && rc == 0; i++) {
        const struct sid_rec *r = &m->recs[i];
        if (r->key != 0)
            rc = cairn_buf_printf(&b, "sid %u %u %016llx %016llx\n", r->sid,
                                  r->rev, (unsigned long long)r->key,
                                  (unsigned long long)r->ver);
    }
    if (rc == 0)
        rc = cairn_export_write_file(path, b.data, b.len);
    cairn_buf_release(&b);
    return rc;
}
