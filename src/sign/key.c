/* SPDX-License-Identifier: Apache-2.0 */
/* Ed25519 keys: generated, read from and written to PEM files with headers. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/pem.h>

#include "sign/sign_int.h"

/* A key file is small; anything larger is not one. */
#define KEY_FILE_MAX 65536

__attribute__((format(printf, 4, 5))) static void
set_diag(struct cairn_diag *d, const char *file, unsigned line,
         const char *fmt, ...)
{
    char msg[300];
    va_list ap;

    if (d == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cairn_diag_clear(d);
    if (file != NULL)
        snprintf(d->file, sizeof d->file, "%s", file);
    d->line = line;
    cairn_diag_set(d, CAIRN_SEV_ERROR, "key", "%s", msg);
}

/* Fill pub and fpr from pkey. */
static int finish(struct cairn_sign_key *k)
{
    size_t len = sizeof k->pub;
    unsigned char md[32];
    unsigned int mdlen = 0;
    static const char hex[] = "0123456789abcdef";

    if (EVP_PKEY_get_raw_public_key(k->pkey, k->pub, &len) != 1 ||
        len != sizeof k->pub)
        return CAIRN_EINVAL;
    if (EVP_Digest(k->pub, sizeof k->pub, md, &mdlen, EVP_sha256(), NULL) !=
            1 ||
        mdlen != sizeof md)
        return CAIRN_EINTERNAL;
    for (size_t i = 0; i < sizeof md; i++) {
        k->fpr[2 * i] = hex[md[i] >> 4];
        k->fpr[2 * i + 1] = hex[md[i] & 15];
    }
    k->fpr[64] = '\0';
    return 0;
}

int cairn_sign_key_generate(struct cairn_sign_key **out)
{
    int rc = CAIRN_ENOMEM;
    EVP_PKEY_CTX *ctx = NULL;
    struct cairn_sign_key *k = cairn_calloc(1, sizeof *k);

    *out = NULL;
    if (k == NULL)
        goto out;
    rc = CAIRN_EINTERNAL;
    ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
    if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1 ||
        EVP_PKEY_keygen(ctx, &k->pkey) != 1)
        goto out;
    k->priv = true;
    rc = finish(k);
    if (rc < 0)
        goto out;
    *out = k;
    k = NULL;
out:
    EVP_PKEY_CTX_free(ctx);
    cairn_sign_key_free(k);
    return rc;
}

int cairn__sign_key_public_copy(const struct cairn_sign_key *k,
                                struct cairn_sign_key **out)
{
    int rc = CAIRN_ENOMEM;
    struct cairn_sign_key *c = cairn_calloc(1, sizeof *c);

    *out = NULL;
    if (c == NULL)
        goto out;
    *c = *k;
    c->pkey = NULL;
    c->name = NULL;
    c->identity = NULL;
    c->priv = false;
    if ((k->name != NULL && (c->name = cairn_strdup(k->name)) == NULL) ||
        (k->identity != NULL &&
         (c->identity = cairn_strdup(k->identity)) == NULL))
        goto out;
    rc = CAIRN_EINTERNAL;
    c->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, k->pub,
                                          sizeof k->pub);
    if (c->pkey == NULL)
        goto out;
    *out = c;
    c = NULL;
    rc = 0;
out:
    cairn_sign_key_free(c);
    return rc;
}

void cairn_sign_key_free(struct cairn_sign_key *k)
{
    if (k == NULL)
        return;
    EVP_PKEY_free(k->pkey);
    cairn_free(k->name);
    cairn_free(k->identity);
    cairn_free(k);
}

const char *cairn_sign_key_fingerprint(const struct cairn_sign_key *k)
{
    return k->fpr;
}

bool cairn_sign_key_is_private(const struct cairn_sign_key *k)
{
    return k->priv;
}

const char *cairn_sign_key_name(const struct cairn_sign_key *k)
{
    return k->name;
}

const char *cairn_sign_key_identity(const struct cairn_sign_key *k)
{
    return k->identity;
}

static bool identity_ok(const char *id)
{
    return strncmp(id, "identity--", 10) == 0 &&
           cairn_uuid_check(id + 10, strlen(id + 10), true, NULL);
}

/* A name goes in a header line and a file name: no line breaks. */
static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 200 || !cairn_utf8_valid(s, n))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

static int set_str(char **slot, const char *v)
{
    char *c = NULL;
    if (v != NULL && (c = cairn_strdup(v)) == NULL)
        return CAIRN_ENOMEM;
    cairn_free(*slot);
    *slot = c;
    return 0;
}

int cairn_sign_key_set_name(struct cairn_sign_key *k, const char *name)
{
    if (name != NULL && !name_ok(name))
        return CAIRN_EINVAL;
    return set_str(&k->name, name);
}

int cairn_sign_key_set_identity(struct cairn_sign_key *k, const char *id)
{
    if (id != NULL && !identity_ok(id))
        return CAIRN_EINVAL;
    return set_str(&k->identity, id);
}

/* ---- reading ------------------------------------------------------------ */

static int header_time(const char *v, struct cairn_time *t)
{
    return cairn_time_parse(v, strlen(v), true, t);
}

/* One "name: value" line before the PEM block. */
static int header(struct cairn_sign_key *k, const char *line, size_t len,
                  char *fpr_claimed, const char *file, unsigned lineno,
                  struct cairn_diag *diag)
{
    char buf[512];
    if (len >= sizeof buf) {
        set_diag(diag, file, lineno, "%s", "header line too long");
        return CAIRN_EINVAL;
    }
    memcpy(buf, line, len);
    buf[len] = '\0';
    while (len > 0 && (buf[len - 1] == ' ' || buf[len - 1] == '\t' ||
                       buf[len - 1] == '\r'))
        buf[--len] = '\0';
    char *colon = strchr(buf, ':');
    if (colon == NULL) {
        set_diag(diag, file, lineno,
                 "expected 'name: value' or a PEM block, found '%.60s'", buf);
        return CAIRN_EINVAL;
    }
    *colon = '\0';
    char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    int rc = 0;
    if (strcmp(buf, "name") == 0) {
        rc = cairn_sign_key_set_name(k, v);
    } else if (strcmp(buf, "identity") == 0) {
        rc = cairn_sign_key_set_identity(k, v);
    } else if (strcmp(buf, "fingerprint") == 0) {
        if (strncmp(v, "sha256:", 7) == 0)
            v += 7;
        snprintf(fpr_claimed, CAIRN_SIGN_FPR_LEN, "%s", v);
        rc = strlen(v) == 64 ? 0 : CAIRN_EINVAL;
    } else if (strcmp(buf, "algorithm") == 0) {
        rc = strcmp(v, CAIRN_SIGN_ALGORITHM) == 0 ? 0 : CAIRN_EINVAL;
    } else if (strcmp(buf, "not-before") == 0) {
        k->has_not_before = true;
        rc = header_time(v, &k->not_before);
    } else if (strcmp(buf, "not-after") == 0) {
        k->has_not_after = true;
        rc = header_time(v, &k->not_after);
    } else if (strcmp(buf, "revoked") == 0) {
        k->has_revoked = true;
        if (strcmp(v, "yes") == 0)
            k->revoked_all = true;
        else
            rc = header_time(v, &k->revoked);
    } else {
        set_diag(diag, file, lineno,
                 "unknown header '%.60s' (name, identity, fingerprint, "
                 "algorithm, not-before, not-after, revoked)",
                 buf);
        return CAIRN_EINVAL;
    }
    if (rc == CAIRN_EINVAL) {
        char msg[200];
        snprintf(msg, sizeof msg, "%.60s: '%.80s' is not %s", buf, v,
                 strcmp(buf, "identity") == 0  ? "identity--UUID"
                 : strcmp(buf, "name") == 0    ? "a name on one line"
                 : strcmp(buf, "fingerprint") == 0 ? "64 hex digits"
                 : strcmp(buf, "algorithm") == 0   ? CAIRN_SIGN_ALGORITHM
                 : strcmp(buf, "revoked") == 0
                     ? "yes or a STIX timestamp"
                     : "a STIX timestamp (2026-01-31T00:00:00Z)");
        set_diag(diag, file, lineno, "%s", msg);
    }
    return rc;
}

int cairn_sign_key_parse(const char *text, size_t len, const char *name,
                         struct cairn_sign_key **out, struct cairn_diag *diag)
{
    int rc = CAIRN_ENOMEM;
    BIO *bio = NULL;
    char fpr_claimed[CAIRN_SIGN_FPR_LEN] = "";
    struct cairn_sign_key *k = cairn_calloc(1, sizeof *k);
    size_t pos = 0;
    unsigned lineno = 0;

    *out = NULL;
    if (k == NULL)
        goto out;
    rc = CAIRN_EINVAL;
    if (len > KEY_FILE_MAX || memchr(text, '\0', len) != NULL) {
        set_diag(diag, name, 0, "%s", "not a key file");
        goto out;
    }
    /* Headers until the PEM block. */
    for (;;) {
        if (pos >= len) {
            set_diag(diag, name, 0, "%s",
                     "no PEM block (-----BEGIN PUBLIC KEY----- or "
                     "-----BEGIN PRIVATE KEY-----)");
            goto out;
        }
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t ll = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;
        lineno++;
        if (ll >= 5 && memcmp(text + pos, "-----", 5) == 0)
            break;
        const char *l = text + pos;
        size_t t = 0;
        while (t < ll && (l[t] == ' ' || l[t] == '\t' || l[t] == '\r'))
            t++;
        if (t < ll && l[t] != '#') {
            rc = header(k, l, ll, fpr_claimed, name, lineno, diag);
            if (rc < 0)
                goto out;
            rc = CAIRN_EINVAL;
        }
        pos += ll + (nl != NULL);
    }
    const char *pem = text + pos;
    size_t pem_len = len - pos;
    bio = BIO_new_mem_buf(pem, (int)pem_len);
    if (bio == NULL) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    if (pem_len > 27 && memcmp(pem, "-----BEGIN PRIVATE KEY-----", 27) == 0) {
        k->pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
        k->priv = true;
    } else if (pem_len > 26 &&
               memcmp(pem, "-----BEGIN PUBLIC KEY-----", 26) == 0) {
        k->pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    }
    if (k->pkey == NULL) {
        set_diag(diag, name, lineno, "%s",
                 "the PEM block is not a readable public or private key");
        goto out;
    }
    if (EVP_PKEY_get_id(k->pkey) != EVP_PKEY_ED25519) {
        set_diag(diag, name, lineno, "%s", "not an Ed25519 key");
        goto out;
    }
    rc = finish(k);
    if (rc < 0)
        goto out;
    if (fpr_claimed[0] != '\0' && strcmp(fpr_claimed, k->fpr) != 0) {
        set_diag(diag, name, 0,
                 "the fingerprint header does not match the key (%s)",
                 k->fpr);
        rc = CAIRN_EINVAL;
        goto out;
    }
    *out = k;
    k = NULL;
    rc = 0;
out:
    BIO_free(bio);
    cairn_sign_key_free(k);
    return rc;
}

int cairn_sign_key_load(const char *path, struct cairn_sign_key **out,
                        struct cairn_diag *diag)
{
    int rc = CAIRN_EIO;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = fopen(path, "rb");

    *out = NULL;
    if (f == NULL) {
        set_diag(diag, path, 0, "%s", strerror(errno));
        goto out;
    }
    rc = CAIRN_ENOMEM;
    buf = cairn_malloc(KEY_FILE_MAX + 1);
    if (buf == NULL)
        goto out;
    len = fread(buf, 1, KEY_FILE_MAX + 1, f);
    if (ferror(f)) {
        rc = CAIRN_EIO;
        set_diag(diag, path, 0, "%s", strerror(errno));
        goto out;
    }
    rc = cairn_sign_key_parse(buf, len, path, out, diag);
out:
    if (buf != NULL)
        OPENSSL_cleanse(buf, KEY_FILE_MAX + 1);
    cairn_free(buf);
    if (f != NULL)
        fclose(f);
    return rc;
}

/* ---- writing ------------------------------------------------------------ */

static int put_headers(struct cairn_buf *b, const struct cairn_sign_key *k)
{
    char t[40];
    int rc = 0;
    if (k->name != NULL)
        rc = cairn_buf_printf(b, "name: %s\n", k->name);
    if (rc == 0)
        rc = cairn_buf_printf(b, "algorithm: %s\nfingerprint: sha256:%s\n",
                              CAIRN_SIGN_ALGORITHM, k->fpr);
    if (rc == 0 && k->identity != NULL)
        rc = cairn_buf_printf(b, "identity: %s\n", k->identity);
    if (rc == 0 && k->has_not_before &&
        cairn_time_format(&k->not_before, -1, t, sizeof t) > 0)
        rc = cairn_buf_printf(b, "not-before: %s\n", t);
    if (rc == 0 && k->has_not_after &&
        cairn_time_format(&k->not_after, -1, t, sizeof t) > 0)
        rc = cairn_buf_printf(b, "not-after: %s\n", t);
    if (rc == 0 && k->has_revoked) {
        if (k->revoked_all)
            rc = cairn_buf_puts(b, "revoked: yes\n");
        else if (cairn_time_format(&k->revoked, -1, t, sizeof t) > 0)
            rc = cairn_buf_printf(b, "revoked: %s\n", t);
    }
    return rc;
}

/* Headers and the PEM block of the private (or else public) key. */
static int render(const struct cairn_sign_key *k, bool priv, char **out,
                  size_t *len_out)
{
    struct cairn_buf b;
    int rc = CAIRN_ENOMEM;
    BIO *bio = BIO_new(BIO_s_mem());
    char *mem = NULL;

    *out = NULL;
    cairn_buf_init(&b, KEY_FILE_MAX);
    if (bio == NULL)
        goto out;
    rc = put_headers(&b, k);
    if (rc < 0)
        goto out;
    rc = CAIRN_EINTERNAL;
    if (priv ? PEM_write_bio_PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL,
                                        NULL) != 1
             : PEM_write_bio_PUBKEY(bio, k->pkey) != 1)
        goto out;
    long n = BIO_get_mem_data(bio, &mem);
    if (n <= 0)
        goto out;
    rc = cairn_buf_append(&b, mem, (size_t)n);
    if (rc < 0)
        goto out;
    *out = cairn_buf_steal(&b, len_out);
    rc = 0;
out:
    BIO_free(bio);
    cairn_buf_release(&b);
    return rc;
}

int cairn_sign_key_export(const struct cairn_sign_key *k, char **out)
{
    return render(k, false, out, NULL);
}

int cairn_sign_key_save(const struct cairn_sign_key *k, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    int fd = -1;

    if (!k->priv)
        return CAIRN_EINVAL;
    int rc = render(k, true, &text, &len);
    if (rc < 0)
        return rc;
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = errno == EEXIST ? CAIRN_EEXIST : CAIRN_EIO;
        goto out;
    }
    /* Whatever the umask: readable by its owner only. */
    rc = CAIRN_EIO;
    if (fchmod(fd, 0600) != 0)
        goto out;
    for (size_t done = 0; done < len;) {
        ssize_t w = write(fd, text + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto out;
        done += (size_t)w;
    }
    if (fsync(fd) != 0)
        goto out;
    rc = 0;
out:
    if (fd >= 0 && close(fd) != 0 && rc == 0)
        rc = CAIRN_EIO;
    if (rc < 0 && rc != CAIRN_EEXIST && fd >= 0)
        unlink(path);
    if (text != NULL)
        OPENSSL_cleanse(text, len);
    cairn_free(text);
    return rc;
}
