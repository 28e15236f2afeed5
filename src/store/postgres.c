/* SPDX-License-Identifier: Apache-2.0 */
/* The PostgreSQL backend of the store: libpq, COPY, several nodes. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libpq-fe.h>
#include <openssl/rand.h>

#include "cairn/values.h"
#include "store/store_int.h"

/*
 * docs/postgres.md explains the design; in short:
 *
 * - date_added is taken under a row lock on the collection (SELECT ...
 *   FOR UPDATE) held to COMMIT. PostgreSQL makes a transaction visible
 *   before it releases its locks, so the next writer of the collection,
 *   on any node, commits after the previous one is visible: a snapshot
 *   always holds a prefix of the collection in date_added order, and a
 *   client paging with added_after never misses an object.
 * - A put sends its objects' (hash, version) by COPY into a session
 *   table and reads back the stored rows with those hashes, in one
 *   statement: the versions stored before are settled ("stored before",
 *   "other content", "id hash collision"); the new rows go by COPY
 *   straight into objects, their index entries by COPY into obj_keys.
 * - objects.multi marks the objects with more than one version, so that
 *   paging the last (or first) versions looks for other versions only
 *   where there are some.
 * - Each process is a node with a random 64-bit key; every connection
 *   holds a shared advisory lock on it. A status a node's job left pending
 *   is abandoned only when that lock is free: the node is gone.
 * - A lost connection is re-established on the next call; until then
 *   every call fails with CAIRN_EBUSY (the TAXII server answers 503 with
 *   Retry-After). Nothing is acknowledged before COMMIT has returned.
 */

static const char *const migrations[] = {
    /* 1: the first schema (docs/postgres.md) */
    "CREATE TABLE api_roots("
    " name TEXT COLLATE \"C\" PRIMARY KEY, title TEXT NOT NULL,"
    " description TEXT, max_content_length BIGINT NOT NULL);"
    "CREATE TABLE collections("
    " pk BIGSERIAL PRIMARY KEY, id TEXT COLLATE \"C\" NOT NULL UNIQUE,"
    " api_root TEXT COLLATE \"C\" NOT NULL"
    "  REFERENCES api_roots(name) ON DELETE CASCADE,"
    " title TEXT NOT NULL, description TEXT, alias TEXT COLLATE \"C\","
    " media_types TEXT NOT NULL,"
    " last_added BIGINT NOT NULL DEFAULT 0,"
    " default_tlp INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE objects("
    " coll BIGINT NOT NULL REFERENCES collections(pk) ON DELETE CASCADE,"
    " date_added BIGINT NOT NULL, idh BIGINT NOT NULL,"
    " id TEXT COLLATE \"C\" NOT NULL, type TEXT COLLATE \"C\" NOT NULL,"
    " spec_version TEXT COLLATE \"C\" NOT NULL,"
    " vsec BIGINT NOT NULL, vns INTEGER NOT NULL,"
    " salt INTEGER NOT NULL DEFAULT 0,"
    " created TEXT, modified TEXT, json TEXT NOT NULL,"
    " PRIMARY KEY(coll, date_added));"
    "CREATE UNIQUE INDEX objects_version"
    " ON objects(coll, idh, vsec, vns, salt);"
    "CREATE TABLE statuses("
    " id TEXT COLLATE \"C\" PRIMARY KEY, coll TEXT NOT NULL, usr TEXT,"
    " request_ts BIGINT NOT NULL, total BIGINT NOT NULL,"
    " success BIGINT NOT NULL DEFAULT 0, failure BIGINT NOT NULL DEFAULT 0,"
    " node BIGINT NOT NULL DEFAULT 0);"
    "CREATE INDEX statuses_open ON statuses(node)"
    " WHERE success + failure < total;"
    "CREATE TABLE status_items("
    " seq BIGSERIAL,"
    " status TEXT COLLATE \"C\" NOT NULL"
    "  REFERENCES statuses(id) ON DELETE CASCADE,"
    " obj_id TEXT COLLATE \"C\" NOT NULL,"
    " version TEXT COLLATE \"C\" NOT NULL,"
    " kind INTEGER NOT NULL, message TEXT NOT NULL);"
    "CREATE INDEX status_items_status ON status_items(status, seq);"
    "CREATE INDEX status_items_pending"
    " ON status_items(status, obj_id, version) WHERE kind = 2;"
    "CREATE TABLE users("
    " name TEXT COLLATE \"C\" PRIMARY KEY, hash TEXT NOT NULL,"
    " created BIGINT NOT NULL, identity TEXT,"
    " member INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE tokens("
    " hash TEXT COLLATE \"C\" PRIMARY KEY,"
    " usr TEXT COLLATE \"C\" NOT NULL"
    "  REFERENCES users(name) ON DELETE CASCADE,"
    " created BIGINT NOT NULL);"
    "CREATE INDEX tokens_usr ON tokens(usr);"
    "CREATE TABLE rights("
    " usr TEXT COLLATE \"C\" NOT NULL"
    "  REFERENCES users(name) ON DELETE CASCADE,"
    " coll TEXT COLLATE \"C\" NOT NULL"
    "  REFERENCES collections(id) ON DELETE CASCADE,"
    " bits INTEGER NOT NULL, PRIMARY KEY(usr, coll));"
    "CREATE INDEX rights_coll ON rights(coll);",
    /*
     * 2: the correlation index (docs/analysis.md): each object version's
     * value and reference keys (cairn_value_object_keys), 64-bit hashes
     * next to the row's key (coll, date_added). Filled for the rows
     * already stored by index_existing() in the same transaction.
     */
    "CREATE TABLE obj_keys(k BIGINT NOT NULL, coll BIGINT NOT NULL,"
    " added BIGINT NOT NULL, PRIMARY KEY(k, coll, added));",
    /* 3: the web console's administrators (docs/console.md). */
    "ALTER TABLE users ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;",
    /*
     * 4: sighting summaries (docs/analysis.md): what each sighting
     * version tells the report, read once when it is written, in the
     * order the report reads them; a deleted row's summary goes with it.
     * Users entitled to the identities behind sightings. The correlation
     * index gets the keys of the domains a name lies under: rebuilt, with
     * the summaries, by index_existing() in the same transaction.
     */
    "CREATE TABLE sightings("
    " coll BIGINT NOT NULL, idh BIGINT NOT NULL, vsec BIGINT NOT NULL,"
    " vns INTEGER NOT NULL, added BIGINT NOT NULL,"
    " of_ref TEXT COLLATE \"C\" NOT NULL, orgs TEXT NOT NULL,"
    " fp INTEGER NOT NULL, cnt BIGINT NOT NULL,"
    " first_seen TEXT, last_seen TEXT,"
    " PRIMARY KEY(coll, idh, vsec, vns, added),"
    " FOREIGN KEY(coll, added) REFERENCES objects(coll, date_added)"
    "  ON DELETE CASCADE);"
    "CREATE INDEX sightings_added ON sightings(coll, added);"
    "CREATE INDEX sightings_of ON sightings(of_ref);"
    "ALTER TABLE users ADD COLUMN identities INTEGER NOT NULL DEFAULT 0;"
    "DELETE FROM obj_keys;",
    /*
     * 5: named state, the federation
     * flows' progress (docs/federation.md), shared by the nodes so that
     * one taking over a [peer] goes on where another stopped.
     */
    "CREATE TABLE IF NOT EXISTS sync_state(name TEXT COLLATE \"C\""
    " PRIMARY KEY, value TEXT NOT NULL, updated BIGINT NOT NULL);",
    /* 6: marks (docs/signing.md),
     * as SQLite's. */
    "CREATE TABLE IF NOT EXISTS marks("
    " coll TEXT COLLATE \"C\" NOT NULL"
    "  REFERENCES collections(id) ON DELETE CASCADE,"
    " obj TEXT COLLATE \"C\" NOT NULL, mark TEXT NOT NULL,"
    " at BIGINT NOT NULL, PRIMARY KEY(coll, obj));",
    /*
     * 7: `multi`: another version of the object is (or was) stored in the
     * collection. Paging with match[version]=last or first looks for the
     * other versions only of the rows so marked; nearly every object has
     * one version, and the look-up was most of a page's cost. Set when a
     * second version arrives (on every version of it); a deleted version
     * leaves it set, which only costs that look-up.
     */
    "ALTER TABLE objects ADD COLUMN multi BOOLEAN NOT NULL DEFAULT false;"
    "UPDATE objects o SET multi = true FROM (SELECT coll, idh FROM objects"
    " GROUP BY coll, idh HAVING count(*) > 1) d"
    " WHERE o.coll = d.coll AND o.idh = d.idh;",
    /*
     * 8: warninglist flags (docs/analysis.md): the list and value an
     * object version was flagged for when stored, as SQLite's.
     */
    "CREATE TABLE IF NOT EXISTS flags("
    " coll BIGINT NOT NULL, added BIGINT NOT NULL,"
    " list TEXT NOT NULL, value TEXT NOT NULL,"
    " PRIMARY KEY(coll, added),"
    " FOREIGN KEY(coll, added) REFERENCES objects(coll, date_added)"
    "  ON DELETE CASCADE);",
    /*
     * 9: the objects of a deleted collection go by a trigger on
     * collections instead of a foreign key on objects (and a status's
     * items by one on statuses). The key's check
     * ran a query per row written (a third of the server's work in a
     * bulk put); a put holds its collection's row lock, so no row can
     * come for a collection being deleted, and the trigger's DELETE sees
     * what a put committed before the collection's row was deleted.
     */
    "CREATE OR REPLACE FUNCTION cairn_collection_deleted() RETURNS trigger"
    " LANGUAGE plpgsql AS $$ BEGIN"
    " DELETE FROM objects WHERE coll = OLD.pk; RETURN NULL; END $$;"
    "CREATE OR REPLACE TRIGGER collections_objects AFTER DELETE ON collections"
    " FOR EACH ROW EXECUTE FUNCTION cairn_collection_deleted();"
    "ALTER TABLE objects DROP CONSTRAINT IF EXISTS objects_coll_fkey;"
    /* The same for a status's items, written one row per object. */
    "CREATE OR REPLACE FUNCTION cairn_status_deleted() RETURNS trigger"
    " LANGUAGE plpgsql AS $$ BEGIN"
    " DELETE FROM status_items WHERE status = OLD.id; RETURN NULL; END $$;"
    "CREATE OR REPLACE TRIGGER statuses_items AFTER DELETE ON statuses"
    " FOR EACH ROW EXECUTE FUNCTION cairn_status_deleted();"
    "ALTER TABLE status_items"
    " DROP CONSTRAINT IF EXISTS status_items_status_fkey;",
};

/* The migration after which index_existing() runs: it (re)builds the
 * correlation index and the sighting summaries of the rows stored. */
#define MIGRATION_KEYS 4

#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

/* Advisory lock keys: the bigint space for nodes (random), the two-int
 * space with this class for named locks (peers), and one for migrations. */
#define LOCK_CLASS   0x63616972 /* "cair" */
#define MIGRATE_LOCK 0x63616972736d6967LL

enum { ITEM_SUCCESS = 0, ITEM_FAILURE = 1, ITEM_PENDING = 2 };

#define NO_VERSION INT64_MIN
#define SALT_MAX   16
/* Rows read per statement when paging: bounds memory, not the page. A
 * page of 1000 (TAXII's usual limit) reads 1001 rows: one statement. */
#define READ_CHUNK 1025
/* COPY data is sent in pieces of about this size. */
#define COPY_PIECE (1u << 20)

/* ---- this process's handles on one database ----------------------------- */

struct put_req {
    const char *collection;
    struct store_obj *objs;
    size_t n;
    const char *status_id;
    struct cairn_store_result *res;
    int rc;
    bool taken;
    bool done;
    struct put_req *next;
};

/*
 * The small reads every request makes (its API root, collection, the
 * user's rights and flags, a token's user) are kept for CACHE_MS: a GET
 * then makes one round trip, its page, instead of six. Any change of
 * them made through cairn (this node, another node, the CLI) sends
 * NOTIFY cairn_authz once written; every session LISTENs, and a handle
 * drains its connection before it trusts the cache, so such a change
 * takes effect on every node as soon as its notification arrives, and
 * within CACHE_MS whatever happens (one written by hand in SQL).
 */
#define CACHE_N  64
#define CACHE_MS 500

struct centry {
    char *key; /* the statement, then each parameter, NUL-separated */
    size_t key_len;
    PGresult *res;
    int64_t at_ms;
};

/* Shared by this process's handles with the same URL: the queue of puts
 * for group commit, and whether the database was last seen away. */
struct pg_shared {
    char *url;
    pid_t pid;
    int refs;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct put_req *head, *tail;
    bool leading;
    bool away; /* under mu: logged as gone, not yet as back */
    /* Under mu: rows this process stored since it last had the tables'
     * statistics renewed, and the row count they then gave (-1: never
     * analysed; -2: not read yet). */
    int64_t since_analyze;
    double analyzed_rows;
    /* Reads cached for a moment (see cached_run), under cmu. */
    pthread_mutex_t cmu;
    struct centry cache[CACHE_N];
    struct pg_shared *next;
};

static pthread_mutex_t shared_mu = PTHREAD_MUTEX_INITIALIZER;
static struct pg_shared *shared_list;

/* This process as a node: its key, taken again in a child after fork()
 * (a child is another node: its statuses are not its parent's). */
static pthread_mutex_t node_mu = PTHREAD_MUTEX_INITIALIZER;
static int64_t node_key_v;
static pid_t node_pid;

static int64_t node_key(void)
{
    pthread_mutex_lock(&node_mu);
    if (node_key_v == 0 || node_pid != getpid()) {
        unsigned char b[8];
        uint64_t v = 0;
        if (RAND_bytes(b, sizeof b) != 1) {
            /* Not secret, only distinct: the time and pid will do. */
            v = (uint64_t)cairn__store_now_us() ^ ((uint64_t)getpid() << 32);
        } else {
            for (int i = 0; i < 8; i++)
                v = v << 8 | b[i];
        }
        v &= 0x7fffffffffffffffULL; /* positive: reads well in pg_locks */
        if (v == 0)
            v = 1; /* 0 is "no node" in statuses */
        node_key_v = (int64_t)v;
        node_pid = getpid();
    }
    int64_t k = node_key_v;
    pthread_mutex_unlock(&node_mu);
    return k;
}

/* Statements prepared per connection; past that, sent unprepared. */
#define PREP_N 64

struct pg_store {
    struct cairn_store base;
    PGconn *conn;
    struct pg_shared *sh;
    char *url;      /* as given: may hold a password, never logged */
    char where[256]; /* host, port, database and user, for messages */
    int busy_ms;
    bool ready;  /* the session is set up (temp table, node lock) */
    bool in_tx;  /* between BEGIN and COMMIT/ROLLBACK */
    bool lost;   /* the connection failed: reset it before the next call */
    /* Statements prepared on this connection (see prepared()). */
    struct prep {
        uint64_t h;
        char *sql;
    } prep[PREP_N];
    size_t n_prep;
};

static struct pg_store *pg(struct cairn_store *s)
{
    return (struct pg_store *)s;
}

static struct pg_shared *shared_get(const char *url)
{
    pid_t pid = getpid();
    pthread_mutex_lock(&shared_mu);
    struct pg_shared *sh = shared_list;
    while (sh != NULL && (sh->pid != pid || strcmp(sh->url, url) != 0))
        sh = sh->next;
    if (sh != NULL) {
        sh->refs++;
    } else if ((sh = cairn_calloc(1, sizeof *sh)) != NULL) {
        sh->url = cairn_strdup(url);
        if (sh->url == NULL) {
            cairn_free(sh);
            sh = NULL;
        } else {
            sh->pid = pid;
            sh->refs = 1;
            sh->analyzed_rows = -2;
            pthread_mutex_init(&sh->mu, NULL);
            pthread_mutex_init(&sh->cmu, NULL);
            pthread_condattr_t ca;
            pthread_condattr_init(&ca);
            pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
            pthread_cond_init(&sh->cv, &ca);
            pthread_condattr_destroy(&ca);
            sh->next = shared_list;
            shared_list = sh;
        }
    }
    pthread_mutex_unlock(&shared_mu);
    return sh;
}

static void shared_put(struct pg_shared *sh)
{
    if (sh == NULL)
        return;
    pthread_mutex_lock(&shared_mu);
    bool last = --sh->refs == 0;
    if (last) {
        struct pg_shared **p = &shared_list;
        while (*p != sh)
            p = &(*p)->next;
        *p = sh->next;
    }
    pthread_mutex_unlock(&shared_mu);
    if (last) {
        for (size_t i = 0; i < CACHE_N; i++) {
            cairn_free(sh->cache[i].key);
            PQclear(sh->cache[i].res);
        }
        pthread_mutex_destroy(&sh->cmu);
        pthread_mutex_destroy(&sh->mu);
        pthread_cond_destroy(&sh->cv);
        cairn_free(sh->url);
        cairn_free(sh);
    }
}

/* Log the database going away or coming back, once per change. */
static void note_away(struct pg_store *s, bool away, const char *why)
{
    pthread_mutex_lock(&s->sh->mu);
    bool changed = s->sh->away != away;
    s->sh->away = away;
    pthread_mutex_unlock(&s->sh->mu);
    if (!changed)
        return;
    if (away) {
        char msg[300];
        snprintf(msg, sizeof msg, "%s", why ? why : "");
        size_t len = strlen(msg);
        while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
            msg[--len] = '\0';
        for (size_t i = 0; i < len; i++)
            if (msg[i] == '\n')
                msg[i] = ' ';
        cairn_log(CAIRN_LOG_ERROR,
                  "store: the database %s is unreachable (%s); answering "
                  "busy until it is back",
                  s->where, msg);
    } else {
        cairn_log(CAIRN_LOG_INFO, "store: the database %s is back", s->where);
    }
}

/* ---- errors and statements ---------------------------------------------- */

/* A failed result as a cairn error; logs what is not the caller's doing. */
static int res_error(struct pg_store *s, const PGresult *r, const char *what)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (PQstatus(s->conn) != CONNECTION_OK) {
        s->ready = false;
        s->in_tx = false;
        note_away(s, true, PQerrorMessage(s->conn));
        return CAIRN_EBUSY;
    }
    if (state == NULL) {
        const char *msg = r ? PQresultErrorMessage(r) : "";
        if (r == NULL || msg[0] == '\0')
            msg = PQerrorMessage(s->conn);
        if (strstr(msg, "out of memory") != NULL)
            return CAIRN_ENOMEM;
        /* No SQLSTATE: libpq's own error. The socket may be closed while
         * libpq still says CONNECTION_OK; a new connection will tell. */
        if (strstr(msg, "server closed the connection") != NULL ||
            strstr(msg, "no connection to the server") != NULL ||
            strstr(msg, "could not send data") != NULL ||
            strstr(msg, "could not receive data") != NULL ||
            strstr(msg, "SSL SYSCALL error") != NULL ||
            strstr(msg, "SSL connection has been closed") != NULL) {
            s->ready = false;
            s->in_tx = false;
            s->lost = true;
            note_away(s, true, msg);
            return CAIRN_EBUSY;
        }
        cairn_log(CAIRN_LOG_ERROR, "store: %s: %s", what, msg);
        return CAIRN_EIO;
    }
    if (strcmp(state, "23505") == 0)
        return CAIRN_EEXIST;
    if (strcmp(state, "23503") == 0)
        return CAIRN_ENOTFOUND;
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
        strcmp(state, "55P03") == 0 || strcmp(state, "57014") == 0 ||
        strcmp(state, "25006") == 0 || strncmp(state, "08", 2) == 0 ||
        strncmp(state, "57P", 3) == 0 || strcmp(state, "53300") == 0) {
        /* Locks held too long, a standby, a shutdown, no connection
         * slots: all pass; the client comes back. */
        cairn_log(CAIRN_LOG_WARN, "store: %s: %s", what,
                  PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
        return CAIRN_EBUSY;
    }
    if (strcmp(state, "53200") == 0)
        return CAIRN_ENOMEM;
    if (strcmp(state, "54000") == 0 || strcmp(state, "54001") == 0)
        return CAIRN_ETOOBIG;
    cairn_log(CAIRN_LOG_ERROR, "store: %s: %s (SQLSTATE %s)", what,
              PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY), state);
    return CAIRN_EIO;
}

static int session_setup(struct pg_store *s);

/* A usable connection: re-established when it was lost. */
static int ensure(struct pg_store *s)
{
    if (PQstatus(s->conn) != CONNECTION_OK || s->lost) {
        s->ready = false;
        s->in_tx = false;
        s->lost = false;
        PQreset(s->conn);
        if (PQstatus(s->conn) != CONNECTION_OK) {
            note_away(s, true, PQerrorMessage(s->conn));
            return CAIRN_EBUSY;
        }
    }
    if (!s->ready) {
        int rc = session_setup(s);
        if (rc < 0)
            return rc;
        note_away(s, false, NULL);
    }
    return 0;
}

static void prep_forget(struct pg_store *s)
{
    for (size_t i = 0; i < s->n_prep; i++)
        cairn_free(s->prep[i].sql);
    s->n_prep = 0;
}

/*
 * The name of `sql` prepared on this connection, prepared now when new:
 * the server then parses it once per connection rather than at every
 * call (most of the cost of a short read). Empty when the table is full:
 * the statement is then sent unprepared; NULL with *res on an error.
 */
static const char *prepared(struct pg_store *s, const char *sql, int n,
                            char name[32], PGresult **res)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *c = sql; *c != '\0'; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    *res = NULL;
    name[0] = '\0';
    for (size_t i = 0; i < s->n_prep; i++) {
        if (s->prep[i].h == h && strcmp(s->prep[i].sql, sql) == 0) {
            snprintf(name, 32, "cairn_%zu", i);
            return name;
        }
    }
    if (s->n_prep == PREP_N)
        return name;
    char *copy = cairn_strdup(sql);
    if (copy == NULL)
        return name;
    snprintf(name, 32, "cairn_%zu", s->n_prep);
    PGresult *r = PQprepare(s->conn, name, sql, n, NULL);
    if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
        cairn_free(copy);
        *res = r;
        return NULL;
    }
    PQclear(r);
    s->prep[s->n_prep++] = (struct prep){h, copy};
    return name;
}

/*
 * Run `sql` with text parameters. The result (when `out` is not NULL and
 * the statement succeeded) belongs to the caller. A read alone (`retry`)
 * is run once more on a new connection when the old one was lost.
 */
static int run(struct pg_store *s, const char *sql, int n,
               const char *const *v, const int *lens, PGresult **out,
               bool retry)
{
    if (out != NULL)
        *out = NULL;
    for (int attempt = 0;; attempt++) {
        int rc = ensure(s);
        if (rc < 0)
            return rc;
        /* Without parameters, several statements may go at once. */
        char name[32];
        PGresult *r = NULL;
        const char *pn = n == 0 ? "" : prepared(s, sql, n, name, &r);
        if (pn == NULL)
            ; /* r holds why it could not be prepared */
        else if (n == 0)
            r = PQexec(s->conn, sql);
        else if (pn[0] != '\0')
            r = PQexecPrepared(s->conn, pn, n, v, lens, NULL, 0);
        else
            r = PQexecParams(s->conn, sql, n, NULL, v, lens, NULL, 0);
        ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
            if (out != NULL)
                *out = r;
            else
                PQclear(r);
            return 0;
        }
        rc = res_error(s, r, "a statement failed");
        PQclear(r);
        if (rc == CAIRN_EBUSY && retry && !s->in_tx && attempt == 0 &&
            (PQstatus(s->conn) != CONNECTION_OK || s->lost))
            continue;
        return rc;
    }
}

static int run0(struct pg_store *s, const char *sql)
{
    return run(s, sql, 0, NULL, NULL, NULL, false);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void cache_clear(struct pg_shared *sh)
{
    pthread_mutex_lock(&sh->cmu);
    for (size_t i = 0; i < CACHE_N; i++) {
        cairn_free(sh->cache[i].key);
        PQclear(sh->cache[i].res);
        sh->cache[i] = (struct centry){0};
    }
    pthread_mutex_unlock(&sh->cmu);
}

/* Notifications that came in on this handle's connection: a change
 * somewhere, so the cache goes. */
static void cache_drain(struct pg_store *s)
{
    bool any = false;
    if (PQconsumeInput(s->conn) == 1) {
        PGnotify *n;
        while ((n = PQnotifies(s->conn)) != NULL) {
            PQfreemem(n);
            any = true;
        }
    }
    if (any)
        cache_clear(s->sh);
}

/* Users, tokens, rights, collections or API roots changed: forget what
 * this process read of them, and tell the other nodes. */
static void authz_changed(struct pg_store *s)
{
    cache_clear(s->sh);
    /* Outside a transaction, sent at once; inside, at its commit. */
    if (run(s, "NOTIFY cairn_authz", 0, NULL, NULL, NULL, false) < 0)
        cairn_log(CAIRN_LOG_WARN,
                  "store: other nodes may see a change of "
                  "rights only within %d ms",
                  CACHE_MS);
}

static int cache_key(struct cairn_buf *b, const char *sql, int n,
                     const char *const *v)
{
    int rc = cairn_buf_append(b, sql, strlen(sql) + 1);
    for (int i = 0; rc == 0 && i < n; i++) {
        if (v[i] == NULL)
            rc = cairn_buf_append(b, "\1", 2);
        else
            rc = cairn_buf_append(b, v[i], strlen(v[i]) + 1);
    }
    return rc;
}

/* run() of a read whose result may be up to CACHE_MS old (see CACHE_MS). */
static int cached_run(struct pg_store *s, const char *sql, int n,
                      const char *const *v, PGresult **out)
{
    *out = NULL;
    if (s->in_tx)
        return run(s, sql, n, v, NULL, out, true);
    struct pg_shared *sh = s->sh;
    struct cairn_buf key;
    cairn_buf_init(&key, 64 * 1024);
    int rc = cache_key(&key, sql, n, v);
    if (rc < 0 || key.len > 4096) {
        cairn_buf_release(&key);
        return rc < 0 && rc != CAIRN_ETOOBIG
                   ? rc
                   : run(s, sql, n, v, NULL, out, true);
    }
    if (PQstatus(s->conn) == CONNECTION_OK && !s->lost)
        cache_drain(s);
    int64_t now = mono_ms();
    pthread_mutex_lock(&sh->cmu);
    struct centry *victim = &sh->cache[0];
    for (size_t i = 0; i < CACHE_N; i++) {
        struct centry *e = &sh->cache[i];
        if (e->key != NULL && e->key_len == key.len &&
            memcmp(e->key, key.data, key.len) == 0) {
            if (now - e->at_ms < CACHE_MS) {
                *out =
                    PQcopyResult(e->res, PG_COPYRES_ATTRS | PG_COPYRES_TUPLES);
                pthread_mutex_unlock(&sh->cmu);
                cairn_buf_release(&key);
                return *out != NULL ? 0 : CAIRN_ENOMEM;
            }
            victim = e;
            break;
        }
        if (victim->key != NULL && (e->key == NULL || e->at_ms < victim->at_ms))
            victim = e;
    }
    pthread_mutex_unlock(&sh->cmu);
    rc = run(s, sql, n, v, NULL, out, true);
    if (rc < 0) {
        cairn_buf_release(&key);
        return rc;
    }
    PGresult *copy = PQcopyResult(*out, PG_COPYRES_ATTRS | PG_COPYRES_TUPLES);
    char *k = cairn_malloc(key.len);
    if (copy == NULL || k == NULL) {
        PQclear(copy);
        cairn_free(k);
        cairn_buf_release(&key);
        return 0; /* not cached: no matter */
    }
    memcpy(k, key.data, key.len);
    pthread_mutex_lock(&sh->cmu);
    /* The victim may have been taken meanwhile: it is replaced all the
     * same, as it is a cache. */
    cairn_free(victim->key);
    PQclear(victim->res);
    *victim = (struct centry){k, key.len, copy, now};
    pthread_mutex_unlock(&sh->cmu);
    cairn_buf_release(&key);
    return 0;
}

static int begin(struct pg_store *s)
{
    int rc = run0(s, "BEGIN");
    if (rc == 0)
        s->in_tx = true;
    return rc;
}

/* Commit when rc is 0, else roll back. */
static int finish(struct pg_store *s, int rc)
{
    if (!s->in_tx)
        return rc;
    if (rc == 0)
        rc = run0(s, "COMMIT");
    if (rc < 0 && s->in_tx && PQstatus(s->conn) == CONNECTION_OK) {
        PGresult *r = PQexec(s->conn, "ROLLBACK");
        PQclear(r);
    }
    s->in_tx = false;
    return rc;
}

/* Numbers travel as text too. */
struct num {
    char b[24];
};

static const char *i64(struct num *n, int64_t v)
{
    snprintf(n->b, sizeof n->b, "%" PRId64, v);
    return n->b;
}

static int64_t get_i64(const PGresult *r, int row, int col)
{
    return (int64_t)strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static char *get_dup(const PGresult *r, int row, int col, int *rc)
{
    if (PQgetisnull(r, row, col))
        return NULL;
    char *p = cairn_strndup(PQgetvalue(r, row, col),
                            (size_t)PQgetlength(r, row, col));
    if (p == NULL)
        *rc = CAIRN_ENOMEM;
    return p;
}

static const char *get_str(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

/* Statements that change rows: how many they changed. */
static int64_t changed(const PGresult *r)
{
    const char *t = PQcmdTuples((PGresult *)r);
    return t && t[0] ? (int64_t)strtoll(t, NULL, 10) : 0;
}

/* ---- open, migrate, close ----------------------------------------------- */

static int read_version(struct pg_store *s, int *out)
{
    PGresult *r = NULL;
    *out = 0;
    /* pg_class itself, not to_regclass(): its cache may not have seen
     * the table another node created while we waited for its lock. */
    int rc = run(s,
                 "SELECT count(*) FROM pg_catalog.pg_class c"
                 " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
                 " WHERE c.relname = 'schema_version'"
                 " AND n.nspname = current_schema()",
                 0, NULL, NULL, &r, true);
    if (rc < 0)
        return rc;
    int exists = (int)get_i64(r, 0, 0) != 0;
    PQclear(r);
    if (!exists)
        return 0;
    rc = run(s, "SELECT version FROM schema_version", 0, NULL, NULL, &r, true);
    if (rc < 0)
        return rc;
    if (PQntuples(r) == 1)
        *out = (int)get_i64(r, 0, 0);
    else
        rc = CAIRN_EIO;
    PQclear(r);
    return rc;
}

/* ---- the correlation index: entries go in batches ----------------------- */

/* Entries (k, coll, added) as three bigint[] texts. */
struct key_batch {
    struct cairn_buf k, c, a;
    size_t n;
};

/* A batch is written when its text passes this size. */
#define KEY_BATCH_BYTES (1u << 20)

static void kb_init(struct key_batch *kb)
{
    cairn_buf_init(&kb->k, (size_t)1 << 30);
    cairn_buf_init(&kb->c, (size_t)1 << 30);
    cairn_buf_init(&kb->a, (size_t)1 << 30);
    kb->n = 0;
}

static void kb_release(struct key_batch *kb)
{
    cairn_buf_release(&kb->k);
    cairn_buf_release(&kb->c);
    cairn_buf_release(&kb->a);
}

static int kb_add(struct key_batch *kb, int64_t key, int64_t coll,
                  int64_t added)
{
    const char *sep = kb->n ? "," : "{";
    int rc = cairn_buf_printf(&kb->k, "%s%" PRId64, sep, key);
    if (rc == 0)
        rc = cairn_buf_printf(&kb->c, "%s%" PRId64, sep, coll);
    if (rc == 0)
        rc = cairn_buf_printf(&kb->a, "%s%" PRId64, sep, added);
    if (rc == 0)
        kb->n++;
    return rc;
}

/* Write the batch's entries (a key twice is one entry) and empty it. */
static int kb_flush(struct pg_store *s, struct key_batch *kb)
{
    if (kb->n == 0)
        return 0;
    int rc = cairn_buf_putc(&kb->k, '}');
    if (rc == 0)
        rc = cairn_buf_putc(&kb->c, '}');
    if (rc == 0)
        rc = cairn_buf_putc(&kb->a, '}');
    if (rc == 0) {
        const char *p[3] = {kb->k.data, kb->c.data, kb->a.data};
        rc = run(s,
                 "INSERT INTO obj_keys(k, coll, added) SELECT k, c, a FROM"
                 " unnest($1::bigint[], $2::bigint[], $3::bigint[])"
                 " AS t(k, c, a) ON CONFLICT DO NOTHING",
                 3, p, NULL, NULL, false);
    }
    cairn_buf_reset(&kb->k);
    cairn_buf_reset(&kb->c);
    cairn_buf_reset(&kb->a);
    kb->n = 0;
    return rc;
}

static bool kb_full(const struct key_batch *kb)
{
    return kb->k.len + kb->c.len + kb->a.len > KEY_BATCH_BYTES;
}

struct row_keys {
    struct key_batch *kb;
    int64_t coll, added;
};

static int row_key_add(void *ud, uint64_t key)
{
    struct row_keys *rk = ud;
    return kb_add(rk->kb, (int64_t)key, rk->coll, rk->added);
}

/* Store the summary of sighting row (coll, added). */
static int insert_sight(struct pg_store *s, int64_t coll, int64_t idh,
                        int64_t vsec, int64_t vns, int64_t added,
                        const struct store_sight *sg)
{
    struct num a, b, c, d, e, f;
    const char *p[11] = {
        i64(&a, coll),      i64(&b, idh), i64(&c, vsec), i64(&d, vns),
        i64(&e, added),     sg->of_ref,   sg->orgs,      sg->fp ? "1" : "0",
        i64(&f, sg->count), sg->first,    sg->last};
    return run(s,
               "INSERT INTO sightings(coll, idh, vsec, vns, added, of_ref,"
               " orgs, fp, cnt, first_seen, last_seen) VALUES($1::bigint,"
               " $2::bigint, $3::bigint, $4::int, $5::bigint, $6, $7,"
               " $8::int, $9::bigint, $10, $11) ON CONFLICT DO NOTHING",
               11, p, NULL, NULL, false);
}

/* Flag row (coll, added) as on a warninglist. */
static int insert_flag(struct pg_store *s, int64_t coll, int64_t added,
                       const char *list, const char *value)
{
    struct num a, b;
    const char *p[4] = {i64(&a, coll), i64(&b, added), list,
                        value != NULL ? value : ""};
    return run(s,
               "INSERT INTO flags(coll, added, list, value) VALUES($1::bigint,"
               " $2::bigint, $3, $4) ON CONFLICT (coll, added) DO UPDATE SET"
               " list = EXCLUDED.list, value = EXCLUDED.value",
               4, p, NULL, NULL, false);
}

/* Fill the correlation index for the rows a store held before it, in
 * chunks in (coll, date_added) order, inside the migration. */
static int index_existing(struct pg_store *s)
{
    struct key_batch kb;
    kb_init(&kb);
    struct num nc, na;
    const char *p[2] = {i64(&nc, 0), i64(&na, 0)};
    size_t rows = 0;
    int rc = 0;
    for (;;) {
        PGresult *r = NULL;
        rc = run(s,
                 "SELECT coll, date_added, json, idh, vsec, vns FROM objects"
                 " WHERE (coll, date_added) > ($1::bigint, $2::bigint)"
                 " ORDER BY coll, date_added LIMIT 1025",
                 2, p, NULL, &r, false);
        if (rc < 0)
            break;
        int n = PQntuples(r);
        for (int i = 0; rc == 0 && i < n; i++) {
            struct row_keys rk = {
                .kb = &kb, .coll = get_i64(r, i, 0), .added = get_i64(r, i, 1)};
            p[0] = i64(&nc, rk.coll);
            p[1] = i64(&na, rk.added);
            json_error_t e;
            json_t *obj = json_loadb(PQgetvalue(r, i, 2),
                                     (size_t)PQgetlength(r, i, 2), 0, &e);
            if (obj == NULL)
                continue;
            rc = cairn_value_object_keys(obj, row_key_add, &rk);
            struct cairn_arena *a = NULL;
            struct store_sight sg;
            if (rc == 0)
                rc = cairn_arena_new(0, &a);
            if (rc == 0)
                rc = cairn__store_sight_read(obj, a, &sg);
            if (rc == 1)
                rc =
                    insert_sight(s, rk.coll, get_i64(r, i, 3), get_i64(r, i, 4),
                                 get_i64(r, i, 5), rk.added, &sg);
            cairn_arena_free(a);
            json_decref(obj);
            if (rc == 0 && kb_full(&kb))
                rc = kb_flush(s, &kb);
            rows++;
        }
        PQclear(r);
        if (rc < 0 || n < 1025)
            break;
    }
    if (rc == 0)
        rc = kb_flush(s, &kb);
    kb_release(&kb);
    if (rc == 0 && rows > 0)
        cairn_log(CAIRN_LOG_INFO, "store: indexed the values of %zu stored "
                  "objects", rows);
    return rc;
}

static int migrate(struct pg_store *s)
{
    int v;
    int rc = read_version(s, &v);
    if (rc == 0 && v == N_MIGRATIONS)
        return 0;
    if (rc == 0 && v > N_MIGRATIONS)
        return CAIRN_EUNSUPPORTED;
    rc = begin(s);
    if (rc < 0)
        return rc;
    /* One migrator at a time, across nodes; then look again. */
    struct num k;
    const char *p[1] = {i64(&k, MIGRATE_LOCK)};
    rc = run(s, "SELECT pg_advisory_xact_lock($1::bigint)", 1, p, NULL, NULL,
             false);
    if (rc == 0)
        rc = read_version(s, &v);
    if (rc == 0 && v > N_MIGRATIONS)
        rc = CAIRN_EUNSUPPORTED;
    if (rc == 0 && v == 0)
        rc = run0(s, "CREATE TABLE schema_version(version INTEGER NOT NULL);"
                     "INSERT INTO schema_version VALUES(0)");
    for (; rc == 0 && v < N_MIGRATIONS; v++) {
        rc = run0(s, migrations[v]);
        if (rc == 0 && v + 1 == MIGRATION_KEYS)
            rc = index_existing(s);
        if (rc == 0) {
            char sql[64];
            snprintf(sql, sizeof sql, "UPDATE schema_version SET version=%d",
                     v + 1);
            rc = run0(s, sql);
        }
        if (rc < 0)
            cairn_log(CAIRN_LOG_ERROR, "store: migration %d failed", v + 1);
    }
    return finish(s, rc);
}

/*
 * What every new connection needs: a lock timeout (a writer waiting for a
 * collection longer than busy_ms gives up with CAIRN_EBUSY), the node's
 * shared lock, and the temporary table COPY fills.
 */
static int session_setup(struct pg_store *s)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SET lock_timeout = %d; SET client_encoding = 'UTF8'; SET jit = off;"
             " SET plan_cache_mode = force_generic_plan;"
             " SET synchronous_commit = on; LISTEN cairn_authz",
             s->busy_ms);
    /* What came while the connection was away was not heard; what it
     * had prepared is gone. */
    cache_clear(s->sh);
    prep_forget(s);
    PGresult *r = PQexec(s->conn, sql);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK
                 ? 0
                 : res_error(s, r, "setting up the session");
    PQclear(r);
    if (rc < 0)
        return rc;
    struct num k;
    const char *p[1] = {i64(&k, node_key())};
    r = PQexecParams(s->conn, "SELECT pg_advisory_lock_shared($1::bigint)", 1,
                     NULL, p, NULL, NULL, 0);
    rc = PQresultStatus(r) == PGRES_TUPLES_OK
             ? 0
             : res_error(s, r, "taking the node's lock");
    PQclear(r);
    if (rc < 0)
        return rc;
    r = PQexec(s->conn,
               "CREATE TEMP TABLE IF NOT EXISTS cairn_keys("
               " seq INTEGER NOT NULL, idh BIGINT NOT NULL,"
               " vsec BIGINT NOT NULL, vns INTEGER NOT NULL)"
               " ON COMMIT DELETE ROWS");
    rc = PQresultStatus(r) == PGRES_COMMAND_OK
             ? 0
             : res_error(s, r, "creating the session's table");
    PQclear(r);
    if (rc == 0)
        s->ready = true;
    return rc;
}

/* "host:port/db as user", from the URL without its password. */
static void describe(const char *url, char *out, size_t len)
{
    char *err = NULL;
    PQconninfoOption *o = PQconninfoParse(url, &err);
    const char *host = NULL, *port = NULL, *db = NULL, *user = NULL;
    for (PQconninfoOption *i = o; i != NULL && i->keyword != NULL; i++) {
        if (i->val == NULL)
            continue;
        if (strcmp(i->keyword, "host") == 0)
            host = i->val;
        else if (strcmp(i->keyword, "port") == 0)
            port = i->val;
        else if (strcmp(i->keyword, "dbname") == 0)
            db = i->val;
        else if (strcmp(i->keyword, "user") == 0)
            user = i->val;
    }
    snprintf(out, len, "%s%s%s/%s%s%s", host ? host : "(local)",
             port ? ":" : "", port ? port : "", db ? db : "",
             user ? " as " : "", user ? user : "");
    PQfreemem(err);
    PQconninfoFree(o);
}

static const struct store_ops pg_ops;

static void pg_close(struct cairn_store *base)
{
    struct pg_store *s = pg(base);
    PQfinish(s->conn);
    prep_forget(s);
    shared_put(s->sh);
    if (s->url != NULL) {
        explicit_bzero(s->url, strlen(s->url));
        cairn_free(s->url);
    }
    cairn_free(s);
}

int cairn__store_postgres_open(const char *url,
                               const struct cairn_store_opts *opts,
                               struct cairn_store **out)
{
    int rc = CAIRN_ENOMEM;
    struct pg_store *s = cairn_calloc(1, sizeof *s);
    if (s == NULL)
        return rc;
    s->base.ops = &pg_ops;
    s->busy_ms = opts->busy_timeout_ms > 0 ? opts->busy_timeout_ms : 10000;
    s->url = cairn_strdup(url);
    if (s->url == NULL)
        goto out;
    s->sh = shared_get(url);
    if (s->sh == NULL)
        goto out;
    char *err = NULL;
    PQconninfoOption *check = PQconninfoParse(url, &err);
    if (check == NULL) {
        /* The message may quote the URL: keep it out of the log. */
        cairn_log(CAIRN_LOG_ERROR, "store: not a PostgreSQL connection URL");
        PQfreemem(err);
        rc = CAIRN_EINVAL;
        goto out;
    }
    PQconninfoFree(check);
    describe(url, s->where, sizeof s->where);
    /* Defaults first, so that the URL overrides them. */
    const char *keys[] = {"connect_timeout", "fallback_application_name",
                          "dbname", NULL};
    const char *vals[] = {"5", "cairn", url, NULL};
    s->conn = PQconnectdbParams(keys, vals, 1);
    if (s->conn == NULL)
        goto out;
    if (PQstatus(s->conn) != CONNECTION_OK) {
        char msg[300];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(s->conn));
        for (char *c = msg; *c; c++)
            if (*c == '\n')
                *c = ' ';
        cairn_log(CAIRN_LOG_ERROR, "store: cannot connect to %s: %s",
                  s->where, msg);
        rc = CAIRN_EIO;
        goto out;
    }
    rc = session_setup(s);
    if (rc == 0)
        rc = migrate(s);
    if (rc == CAIRN_EBUSY)
        rc = CAIRN_EIO;
out:
    if (rc < 0) {
        pg_close(&s->base);
        return rc;
    }
    *out = &s->base;
    return 0;
}

static int pg_schema_version(struct cairn_store *base, int *out)
{
    return read_version(pg(base), out);
}

/* ---- API roots ----------------------------------------------------------- */

static int pg_api_root_put(struct cairn_store *base,
                           const struct cairn_store_api_root *r)
{
    struct num n;
    const char *p[4] = {r->name, r->title, r->description,
                        i64(&n, r->max_content_length)};
    int rc = run(pg(base),
                 "INSERT INTO api_roots VALUES($1, $2, $3, $4::bigint)"
                 " ON CONFLICT(name) DO UPDATE SET title = EXCLUDED.title,"
                 " description = EXCLUDED.description,"
                 " max_content_length = EXCLUDED.max_content_length",
                 4, p, NULL, NULL, false);
    if (rc == 0)
        authz_changed(pg(base));
    return rc;
}

static int read_roots(struct pg_store *s, const char *name,
                      struct cairn_store_api_root **out, size_t *n)
{
    PGresult *r = NULL;
    const char *p[1] = {name};
    int rc = cached_run(s,
                        "SELECT name, title, description, max_content_length"
                        " FROM api_roots WHERE $1::text IS NULL OR name = $1"
                        " ORDER BY name",
                        1, p, &r);
    if (rc < 0)
        return rc;
    int rows = PQntuples(r);
    struct cairn_store_api_root *arr =
        rows > 0 ? cairn_calloc((size_t)rows, sizeof *arr) : NULL;
    if (rows > 0 && arr == NULL)
        rc = CAIRN_ENOMEM;
    for (int i = 0; rc == 0 && i < rows; i++) {
        arr[i].name = get_dup(r, i, 0, &rc);
        arr[i].title = get_dup(r, i, 1, &rc);
        arr[i].description = get_dup(r, i, 2, &rc);
        arr[i].max_content_length = get_i64(r, i, 3);
    }
    PQclear(r);
    if (rc < 0) {
        cairn_store_api_root_list_free(arr, (size_t)rows);
        return rc;
    }
    *out = arr;
    *n = (size_t)rows;
    return 0;
}

static int pg_api_root_get(struct cairn_store *base, const char *name,
                           struct cairn_store_api_root **out)
{
    size_t n = 0;
    struct cairn_store_api_root *arr = NULL;
    int rc = read_roots(pg(base), name, &arr, &n);
    if (rc == 0 && n == 0)
        rc = CAIRN_ENOTFOUND;
    if (rc == 0)
        *out = arr;
    else
        cairn_store_api_root_list_free(arr, n);
    return rc;
}

static int pg_api_root_list(struct cairn_store *base,
                            struct cairn_store_api_root **out, size_t *n)
{
    return read_roots(pg(base), NULL, out, n);
}

/* ---- collections ----------------------------------------------------------- */

static int pg_collection_create(struct cairn_store *base,
                                const struct cairn_store_collection *c)
{
    struct cairn_buf types;
    cairn_buf_init(&types, 4096);
    int rc = 0;
    for (size_t i = 0; i < CAIRN_STORE_MEDIA_TYPES_MAX && c->media_types[i];
         i++) {
        if (strchr(c->media_types[i], '\n') != NULL) {
            rc = CAIRN_EINVAL;
            break;
        }
        if (i > 0)
            rc = cairn_buf_putc(&types, '\n');
        if (rc == 0)
            rc = cairn_buf_puts(&types, c->media_types[i]);
        if (rc < 0)
            break;
    }
    if (rc == 0) {
        const char *p[6] = {c->id,    c->api_root, c->title, c->description,
                            c->alias, types.data ? types.data : ""};
        rc = run(pg(base),
                 "INSERT INTO collections(id, api_root, title, description,"
                 " alias, media_types) VALUES($1, $2, $3, $4, $5, $6)",
                 6, p, NULL, NULL, false);
        if (rc == 0)
            authz_changed(pg(base));
    }
    cairn_buf_release(&types);
    return rc;
}

static int read_colls(struct pg_store *s, const char *api_root, const char *id,
                      bool alias, struct cairn_store_collection **out,
                      size_t *n)
{
    PGresult *r = NULL;
    const char *p[2] = {api_root, id};
    int rc =
        cached_run(s,
                   alias ? "SELECT id, api_root, title, description, alias,"
                           " media_types FROM collections"
                           " WHERE api_root = $1 AND (id = $2 OR alias = $2)"
                           " ORDER BY id = $2 DESC, pk"
                         : "SELECT id, api_root, title, description, alias,"
                           " media_types FROM collections"
                           " WHERE ($1::text IS NULL OR api_root = $1)"
                           " AND ($2::text IS NULL OR id = $2) ORDER BY pk",
                   2, p, &r);
    if (rc < 0)
        return rc;
    int rows = PQntuples(r);
    struct cairn_store_collection *arr =
        rows > 0 ? cairn_calloc((size_t)rows, sizeof *arr) : NULL;
    if (rows > 0 && arr == NULL)
        rc = CAIRN_ENOMEM;
    for (int i = 0; rc == 0 && i < rows; i++) {
        struct cairn_store_collection *c = &arr[i];
        snprintf(c->id, sizeof c->id, "%s", PQgetvalue(r, i, 0));
        c->api_root = get_dup(r, i, 1, &rc);
        c->title = get_dup(r, i, 2, &rc);
        c->description = get_dup(r, i, 3, &rc);
        c->alias = get_dup(r, i, 4, &rc);
        const char *types = PQgetvalue(r, i, 5);
        for (size_t k = 0; rc == 0 && types != NULL && types[0] != '\0' &&
                           k < CAIRN_STORE_MEDIA_TYPES_MAX;
             k++) {
            const char *nl = strchr(types, '\n');
            size_t len = nl ? (size_t)(nl - types) : strlen(types);
            c->media_types[k] = cairn_strndup(types, len);
            if (c->media_types[k] == NULL)
                rc = CAIRN_ENOMEM;
            types = nl ? nl + 1 : NULL;
        }
    }
    PQclear(r);
    if (rc < 0) {
        cairn_store_collection_list_free(arr, (size_t)rows);
        return rc;
    }
    *out = arr;
    *n = (size_t)rows;
    return 0;
}

static int pg_collection_get(struct cairn_store *base, const char *api_root,
                             const char *id, bool alias,
                             struct cairn_store_collection **out)
{
    size_t n = 0;
    struct cairn_store_collection *arr = NULL;
    int rc = read_colls(pg(base), api_root, id, alias, &arr, &n);
    if (rc == 0 && n == 0)
        rc = CAIRN_ENOTFOUND;
    if (rc == 0 && n > 1)
        for (size_t i = 1; i < n; i++)
            cairn__store_collection_clear(&arr[i]);
    if (rc == 0)
        *out = arr;
    else
        cairn_store_collection_list_free(arr, n);
    return rc;
}

static int pg_collection_list(struct cairn_store *base, const char *api_root,
                              struct cairn_store_collection **out, size_t *n)
{
    return read_colls(pg(base), api_root, NULL, false, out, n);
}

static int pg_collection_delete(struct cairn_store *base, const char *id)
{
    PGresult *r = NULL;
    const char *p[1] = {id};
    int rc = run(pg(base), "DELETE FROM collections WHERE id = $1", 1, p, NULL,
                 &r, false);
    if (rc == 0 && changed(r) == 0)
        rc = CAIRN_ENOTFOUND;
    PQclear(r);
    if (rc == 0)
        authz_changed(pg(base));
    return rc;
}

/* ---- COPY ------------------------------------------------------------------ */

/* One field of COPY's text format: backslash, tab, newline, CR escaped. */
static int copy_field(struct cairn_buf *b, const char *v, size_t len)
{
    if (v == NULL)
        return cairn_buf_append(b, "\\N", 2);
    size_t start = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < len; i++) {
        char c = v[i];
        if (c != '\\' && (unsigned char)c > '\r')
            continue; /* nearly every byte */
        const char *esc = c == '\\'   ? "\\\\"
                          : c == '\t' ? "\\t"
                          : c == '\n' ? "\\n"
                          : c == '\r' ? "\\r"
                                      : NULL;
        if (esc == NULL)
            continue;
        rc = cairn_buf_append(b, v + start, i - start);
        if (rc == 0)
            rc = cairn_buf_append(b, esc, 2);
        start = i + 1;
    }
    if (rc == 0)
        rc = cairn_buf_append(b, v + start, len - start);
    return rc;
}

static int copy_str(struct cairn_buf *b, const char *v, char sep)
{
    int rc = copy_field(b, v, v ? strlen(v) : 0);
    return rc == 0 ? cairn_buf_putc(b, sep) : rc;
}

/* An integer and `sep`: COPY rows carry several each, and printf was a
 * tenth of the client's work in a bulk put. */
static int copy_int(struct cairn_buf *b, int64_t v, char sep)
{
    char t[24];
    size_t i = sizeof t;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    t[--i] = sep;
    do {
        t[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        t[--i] = '-';
    return cairn_buf_append(b, t + i, sizeof t - i);
}

/* A COPY in progress: rows are built in `b` and sent in pieces. */
static int copy_begin(struct pg_store *s, const char *sql)
{
    PGresult *r = PQexec(s->conn, sql);
    int rc = PQresultStatus(r) == PGRES_COPY_IN
                 ? 0
                 : res_error(s, r, "starting a COPY");
    PQclear(r);
    return rc;
}

static int copy_send(struct pg_store *s, struct cairn_buf *b, bool force)
{
    if (b->len == 0 || (!force && b->len < COPY_PIECE))
        return 0;
    if (PQputCopyData(s->conn, b->data, (int)b->len) != 1)
        return res_error(s, NULL, "sending COPY data");
    cairn_buf_reset(b);
    return 0;
}

/* End the COPY: sends the rest, or aborts it when rc is an error. */
static int copy_end(struct pg_store *s, struct cairn_buf *b, int rc)
{
    if (rc == 0)
        rc = copy_send(s, b, true);
    if (PQputCopyEnd(s->conn, rc == 0 ? NULL : "cairn: aborted") != 1 &&
        rc == 0)
        rc = res_error(s, NULL, "ending a COPY");
    PGresult *r;
    while ((r = PQgetResult(s->conn)) != NULL) {
        if (rc == 0 && PQresultStatus(r) != PGRES_COMMAND_OK)
            rc = res_error(s, r, "COPY");
        PQclear(r);
    }
    if (rc == 0 && PQstatus(s->conn) != CONNECTION_OK)
        rc = res_error(s, NULL, "COPY");
    cairn_buf_reset(b);
    return rc;
}

/* ---- statuses (inside a transaction) --------------------------------------- */

/* Whether the status exists with room for `adding` more outcomes; its row
 * stays locked to the end of the transaction. */
static int status_check(struct pg_store *s, const char *id, size_t adding)
{
    PGresult *r = NULL;
    const char *p[1] = {id};
    int rc = run(s,
                 "SELECT total - success - failure FROM statuses"
                 " WHERE id = $1 FOR UPDATE",
                 1, p, NULL, &r, false);
    if (rc < 0)
        return rc;
    if (PQntuples(r) == 0)
        rc = CAIRN_ENOTFOUND;
    else if ((int64_t)adding > get_i64(r, 0, 0))
        rc = CAIRN_EINVAL;
    PQclear(r);
    return rc;
}

static int status_items(struct pg_store *s, const char *id,
                        const struct cairn_store_result *res, size_t n,
                        const struct store_obj *objs)
{
    PGresult *r = NULL;
    const char *p[5] = {id};
    int rc = run(s,
                 "SELECT 1 FROM status_items WHERE status = $1 AND kind = 2"
                 " LIMIT 1",
                 1, p, NULL, &r, false);
    if (rc < 0)
        return rc;
    bool pending = PQntuples(r) > 0;
    PQclear(r);
    int64_t ok = 0, bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (res[i].outcome == CAIRN_STORE_FAILED)
            bad++;
        else
            ok++;
    }
    (void)objs;
    if (pending) {
        struct num k;
        for (size_t i = 0; rc == 0 && i < n; i++) {
            int kind = res[i].outcome == CAIRN_STORE_FAILED ? ITEM_FAILURE
                                                             : ITEM_SUCCESS;
            const char *q[5] = {id, res[i].id, res[i].version, i64(&k, kind),
                                res[i].message};
            rc = run(s,
                     "WITH u AS (UPDATE status_items SET kind = $4::int,"
                     " message = $5 WHERE ctid = (SELECT ctid FROM"
                     " status_items WHERE status = $1 AND obj_id = $2"
                     " AND version = $3 AND kind = 2 ORDER BY seq LIMIT 1)"
                     " RETURNING 1)"
                     " INSERT INTO status_items(status, obj_id, version,"
                     " kind, message) SELECT $1, $2, $3, $4::int, $5"
                     " WHERE NOT EXISTS (SELECT 1 FROM u)",
                     5, q, NULL, NULL, false);
        }
    } else if (n > 0) {
        struct cairn_buf b;
        cairn_buf_init(&b, (size_t)1 << 30);
        rc = copy_begin(s, "COPY status_items(status, obj_id, version, kind,"
                           " message) FROM STDIN");
        if (rc == 0) {
            for (size_t i = 0; rc == 0 && i < n; i++) {
                rc = copy_str(&b, id, '\t');
                if (rc == 0)
                    rc = copy_str(&b, res[i].id, '\t');
                if (rc == 0)
                    rc = copy_str(&b, res[i].version, '\t');
                if (rc == 0)
                    rc = copy_int(&b,
                                  res[i].outcome == CAIRN_STORE_FAILED
                                      ? ITEM_FAILURE
                                      : ITEM_SUCCESS,
                                  '\t');
                if (rc == 0)
                    rc = copy_str(&b, res[i].message, '\n');
                if (rc == 0)
                    rc = copy_send(s, &b, false);
            }
            rc = copy_end(s, &b, rc);
        }
        cairn_buf_release(&b);
    }
    if (rc == 0) {
        struct num a, c;
        const char *q[3] = {id, i64(&a, ok), i64(&c, bad)};
        rc = run(s,
                 "UPDATE statuses SET success = success + $2::bigint,"
                 " failure = failure + $3::bigint WHERE id = $1",
                 3, q, NULL, NULL, false);
    }
    return rc;
}

/* ---- objects ------------------------------------------------------------- */

static int64_t vsec_of(const struct store_obj *o)
{
    return o->vkey[0] ? o->vtime.sec : NO_VERSION;
}

static int64_t vns_of(const struct store_obj *o)
{
    return o->vkey[0] ? o->vtime.nsec : 0;
}

/* A collection locked by a group, with its high-water mark. */
struct locked {
    const char *id;
    int64_t pk;
    int64_t last;
    bool found;
};

/* `{"a","b"}` for a text[] parameter. */
static int text_array(struct cairn_buf *b, const char *const *v, size_t n)
{
    int rc = cairn_buf_putc(b, '{');
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = cairn_buf_puts(b, i ? ",\"" : "\"");
        for (const char *c = v[i]; rc == 0 && *c; c++) {
            if (*c == '"' || *c == '\\')
                rc = cairn_buf_putc(b, '\\');
            if (rc == 0)
                rc = cairn_buf_putc(b, *c);
        }
        if (rc == 0)
            rc = cairn_buf_putc(b, '"');
    }
    if (rc == 0)
        rc = cairn_buf_putc(b, '}');
    return rc;
}

/*
 * Lock the collections of the group, in pk order so that two nodes never
 * wait for each other, and read their high-water marks.
 */
static int lock_collections(struct pg_store *s, struct locked *lk, size_t n)
{
    const char **ids = cairn_calloc(n, sizeof *ids);
    if (ids == NULL)
        return CAIRN_ENOMEM;
    for (size_t i = 0; i < n; i++)
        ids[i] = lk[i].id;
    struct cairn_buf arr;
    cairn_buf_init(&arr, (size_t)1 << 24);
    int rc = text_array(&arr, ids, n);
    cairn_free(ids);
    PGresult *r = NULL;
    if (rc == 0) {
        const char *p[1] = {arr.data};
        rc = run(s,
                 "SELECT id, pk, last_added FROM collections"
                 " WHERE id = ANY($1::text[]) ORDER BY pk FOR UPDATE",
                 1, p, NULL, &r, false);
    }
    cairn_buf_release(&arr);
    if (rc < 0)
        return rc;
    for (int row = 0; row < PQntuples(r); row++) {
        const char *id = PQgetvalue(r, row, 0);
        for (size_t i = 0; i < n; i++) {
            if (strcmp(lk[i].id, id) == 0) {
                lk[i].found = true;
                lk[i].pk = get_i64(r, row, 1);
                lk[i].last = get_i64(r, row, 2);
            }
        }
    }
    PQclear(r);
    return 0;
}

/*
 * A row whose version is stored already: look at the stored rows with its
 * hash and version (`cand` rows from..to: seq, id, json, salt and, when
 * there is a fifth column, whether the row is that version: others are
 * skipped). The same id means the version is there (same content:
 * EXISTED, else FAILED); only other ids mean a hash collision, stored
 * with the next free salt under the date_added it was given; *salted
 * says so.
 */
static int settle_refused(struct pg_store *s, int64_t pk, int64_t added,
                          struct store_obj *o, struct cairn_store_result *res,
                          const PGresult *cand, int from, int to, bool *salted)
{
    int salt = 0;
    bool flagged = PQnfields(cand) > 4;
    for (int i = from; i < to; i++) {
        if (flagged && PQgetvalue(cand, i, 4)[0] != 't')
            continue;
        int taken = (int)get_i64(cand, i, 3);
        if (taken >= salt)
            salt = taken + 1;
        if (strcmp(PQgetvalue(cand, i, 1), o->id) != 0)
            continue;
        int same = cairn__store_same_content(
            PQgetvalue(cand, i, 2), (size_t)PQgetlength(cand, i, 2), o);
        if (same < 0)
            return same;
        if (same) {
            res->outcome = CAIRN_STORE_EXISTED;
        } else {
            res->outcome = CAIRN_STORE_FAILED;
            cairn__store_result_msg(res, "%s", CAIRN_STORE_CONFLICT_MSG);
        }
        return 0;
    }
    if (salt >= SALT_MAX)
        return CAIRN_EINTERNAL;
    /* Parameters are C strings; the text may be a slice of a file. */
    char *json = cairn_strndup(o->json, o->json_len);
    if (json == NULL)
        return CAIRN_ENOMEM;
    struct num a, b, c, d, e, f;
    const char *p[12] = {i64(&a, pk),        i64(&b, added),
                         i64(&c, o->idh),     o->id,
                         o->type,             o->spec_version,
                         i64(&d, vsec_of(o)), i64(&e, vns_of(o)),
                         i64(&f, salt),       o->created,
                         o->modified,         json};
    int rc = run(s,
                 "INSERT INTO objects(coll, date_added, idh, id, type,"
                 " spec_version, vsec, vns, salt, created, modified, json,"
                 " multi) VALUES($1::bigint, $2::bigint, $3::bigint, $4, $5,"
                 " $6, $7::bigint, $8::int, $9::int, $10, $11, $12, true)",
                 12, p, NULL, NULL, false);
    cairn_free(json);
    if (rc == 0) {
        res->outcome = CAIRN_STORE_STORED;
        *salted = true;
    }
    return rc;
}

/* What put_request knows of each object of a put. */
enum { ROW_NEW, ROW_DUP, ROW_SETTLED };

struct prow {
    int64_t added; /* the date_added it was given; 0 when failed before */
    int64_t vsec;
    int64_t vns;
    int state;
    bool multi; /* another version of it is stored, or comes with it */
};

/* Sort key of a row: (idh, vsec, vns), then its place in the put. */
struct order {
    int64_t idh, vsec, vns;
    size_t i;
};

static int order_cmp(const void *a, const void *b)
{
    const struct order *x = a, *y = b;
    if (x->idh != y->idh)
        return x->idh < y->idh ? -1 : 1;
    if (x->vsec != y->vsec)
        return x->vsec < y->vsec ? -1 : 1;
    if (x->vns != y->vns)
        return x->vns < y->vns ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/*
 * Within one put: a second copy of a version (same hash and version as an
 * earlier object of the put) is ROW_DUP, settled once the first is
 * written; objects of which the put brings two versions or more are
 * multi.
 */
static int mark_within(const struct put_req *q, struct prow *pr)
{
    size_t m = 0;
    for (size_t i = 0; i < q->n; i++)
        if (!q->objs[i].failed)
            m++;
    if (m < 2)
        return 0;
    struct order *ord = cairn_calloc(m, sizeof *ord);
    if (ord == NULL)
        return CAIRN_ENOMEM;
    m = 0;
    for (size_t i = 0; i < q->n; i++)
        if (!q->objs[i].failed)
            ord[m++] = (struct order){q->objs[i].idh, pr[i].vsec, pr[i].vns,
                                      i};
    qsort(ord, m, sizeof *ord, order_cmp);
    for (size_t a = 0, b; a < m; a = b) {
        size_t versions = 1;
        for (b = a + 1; b < m && ord[b].idh == ord[a].idh; b++) {
            if (ord[b].vsec == ord[b - 1].vsec && ord[b].vns == ord[b - 1].vns)
                pr[ord[b].i].state = ROW_DUP;
            else
                versions++;
        }
        for (size_t k = a; versions > 1 && k < b; k++)
            pr[ord[k].i].multi = true;
    }
    cairn_free(ord);
    return 0;
}

/* `{1,2,3}` for a bigint[] parameter. */
static int int_array(struct cairn_buf *b, const int64_t *v, size_t n)
{
    int rc = cairn_buf_putc(b, '{');
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = cairn_buf_printf(b, "%s%" PRId64, i ? "," : "", v[i]);
    if (rc == 0)
        rc = cairn_buf_putc(b, '}');
    return rc;
}

/*
 * The stored rows with the hash of each new object of the put (its
 * (seq, idh, vsec, vns) sent by COPY into a session table): any means
 * another version is stored (multi); one of the same version settles the
 * object now (settle_refused) instead of writing it.
 */
static int look_up_stored(struct pg_store *s, const struct put_req *q,
                          struct locked *lk, struct prow *pr, int seq0,
                          struct cairn_buf *b, int64_t *salted,
                          size_t *n_salted)
{
    int rc = copy_begin(s, "COPY pg_temp.cairn_keys FROM STDIN");
    if (rc < 0)
        return rc;
    for (size_t i = 0; rc == 0 && i < q->n; i++) {
        if (q->objs[i].failed || pr[i].state != ROW_NEW)
            continue;
        rc = copy_int(b, seq0 + (int64_t)i, '\t');
        if (rc == 0)
            rc = copy_int(b, q->objs[i].idh, '\t');
        if (rc == 0)
            rc = copy_int(b, pr[i].vsec, '\t');
        if (rc == 0)
            rc = copy_int(b, pr[i].vns, '\n');
        if (rc == 0)
            rc = copy_send(s, b, false);
    }
    rc = copy_end(s, b, rc);
    if (rc < 0)
        return rc;
    PGresult *r = NULL;
    struct num a, c;
    const char *p[2] = {i64(&a, seq0), i64(&c, lk->pk)};
    /* One probe of the version index per key, whatever the estimates:
     * LATERAL with OFFSET 0 keeps the planner from joining otherwise
     * (the session table has no statistics). */
    rc = run(s,
             "SELECT k.seq, o.id,"
             " CASE WHEN o.vsec = k.vsec AND o.vns = k.vns THEN o.json END,"
             " o.salt, o.vsec = k.vsec AND o.vns = k.vns"
             " FROM pg_temp.cairn_keys k CROSS JOIN LATERAL"
             " (SELECT id, json, salt, vsec, vns FROM objects"
             "  WHERE coll = $2::bigint AND idh = k.idh OFFSET 0) o"
             " WHERE k.seq >= $1::int ORDER BY k.seq",
             2, p, NULL, &r, false);
    if (rc < 0)
        return rc;
    int nr = PQntuples(r);
    for (int a0 = 0, b0; rc == 0 && a0 < nr; a0 = b0) {
        int sq = (int)get_i64(r, a0, 0);
        bool same = false;
        for (b0 = a0; b0 < nr && (int)get_i64(r, b0, 0) == sq; b0++)
            same = same || PQgetvalue(r, b0, 4)[0] == 't';
        size_t i = (size_t)(sq - seq0);
        if (sq < seq0 || i >= q->n) {
            rc = CAIRN_EINTERNAL;
            break;
        }
        pr[i].multi = true;
        if (!same)
            continue;
        bool salt = false;
        pr[i].state = ROW_SETTLED;
        rc = settle_refused(s, lk->pk, pr[i].added, &q->objs[i], &q->res[i],
                            r, a0, b0, &salt);
        if (rc == 0 && salt)
            salted[(*n_salted)++] = q->objs[i].idh;
    }
    PQclear(r);
    return rc;
}

/* COPY the put's new objects into objects, each under its date_added. */
static int copy_rows(struct pg_store *s, const struct put_req *q,
                     const struct locked *lk, const struct prow *pr,
                     struct cairn_buf *b)
{
    int rc = copy_begin(s, "COPY objects(coll, date_added, idh, id, type,"
                           " spec_version, vsec, vns, salt, created,"
                           " modified, json, multi) FROM STDIN");
    if (rc < 0)
        return rc;
    for (size_t i = 0; rc == 0 && i < q->n; i++) {
        const struct store_obj *o = &q->objs[i];
        if (o->failed || pr[i].state != ROW_NEW)
            continue;
        rc = copy_int(b, lk->pk, '\t');
        if (rc == 0)
            rc = copy_int(b, pr[i].added, '\t');
        if (rc == 0)
            rc = copy_int(b, o->idh, '\t');
        if (rc == 0)
            rc = copy_str(b, o->id, '\t');
        if (rc == 0)
            rc = copy_str(b, o->type, '\t');
        if (rc == 0)
            rc = copy_str(b, o->spec_version, '\t');
        if (rc == 0)
            rc = copy_int(b, pr[i].vsec, '\t');
        if (rc == 0)
            rc = copy_int(b, pr[i].vns, '\t');
        if (rc == 0)
            rc = cairn_buf_append(b, "0\t", 2);
        if (rc == 0)
            rc = copy_str(b, o->created, '\t');
        if (rc == 0)
            rc = copy_str(b, o->modified, '\t');
        if (rc == 0)
            rc = copy_field(b, o->json, o->json_len);
        if (rc == 0)
            rc = cairn_buf_puts(b, pr[i].multi ? "\tt\n" : "\tf\n");
        if (rc == 0)
            rc = copy_send(s, b, false);
    }
    return copy_end(s, b, rc);
}

/* A second copy of a version within the put, once the first is written. */
static int settle_dup(struct pg_store *s, const struct put_req *q,
                      const struct locked *lk, struct prow *pr, size_t i,
                      int64_t *salted, size_t *n_salted)
{
    const struct store_obj *o = &q->objs[i];
    struct num a, b, c, d;
    const char *p[4] = {i64(&a, lk->pk), i64(&b, o->idh), i64(&c, pr[i].vsec),
                        i64(&d, pr[i].vns)};
    PGresult *r = NULL;
    int rc = run(s,
                 "SELECT 0, id, json, salt FROM objects WHERE coll = $1::bigint"
                 " AND idh = $2::bigint AND vsec = $3::bigint"
                 " AND vns = $4::int",
                 4, p, NULL, &r, false);
    if (rc < 0)
        return rc;
    bool salt = false;
    rc = settle_refused(s, lk->pk, pr[i].added, &q->objs[i], &q->res[i], r, 0,
                        PQntuples(r), &salt);
    PQclear(r);
    if (rc == 0 && salt)
        salted[(*n_salted)++] = o->idh;
    return rc;
}

/* An index entry: key and row. */
struct kentry {
    int64_t k, added;
};

static int kentry_cmp(const void *a, const void *b)
{
    const struct kentry *x = a, *y = b;
    if (x->k != y->k)
        return x->k < y->k ? -1 : 1;
    return x->added < y->added ? -1 : x->added > y->added;
}

/*
 * COPY the correlation index entries of the rows the put stored, in key
 * order: the index's pages are then visited in order, once each, rather
 * than at random (a third less work for the server).
 */
static int copy_keys(struct pg_store *s, const struct put_req *q,
                     const struct locked *lk, const struct prow *pr,
                     struct cairn_buf *b)
{
    size_t n = 0;
    for (size_t i = 0; i < q->n; i++)
        if (!q->objs[i].failed && q->res[i].outcome == CAIRN_STORE_STORED)
            n += q->objs[i].n_keys;
    if (n == 0)
        return 0;
    struct kentry *e = cairn_calloc(n, sizeof *e);
    if (e == NULL)
        return CAIRN_ENOMEM;
    n = 0;
    for (size_t i = 0; i < q->n; i++) {
        const struct store_obj *o = &q->objs[i];
        if (o->failed || q->res[i].outcome != CAIRN_STORE_STORED)
            continue;
        for (size_t k = 0; k < o->n_keys; k++)
            e[n++] = (struct kentry){o->keys[k], pr[i].added};
    }
    qsort(e, n, sizeof *e, kentry_cmp);
    /* date_added is new to the collection: no entry can be there. */
    int rc = copy_begin(s, "COPY obj_keys(k, coll, added) FROM STDIN");
    if (rc < 0) {
        cairn_free(e);
        return rc;
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = copy_int(b, e[i].k, '\t');
        if (rc == 0)
            rc = copy_int(b, lk->pk, '\t');
        if (rc == 0)
            rc = copy_int(b, e[i].added, '\n');
        if (rc == 0)
            rc = copy_send(s, b, false);
    }
    cairn_free(e);
    return copy_end(s, b, rc);
}

/*
 * One put inside a group's transaction. An error before any row is
 * written (no such collection or status, a status without room) is this
 * put's alone; once *wrote is set, an error spoils the whole group.
 *
 * The objects' (hash, version) go first (COPY into a session table) to
 * find what is stored already; the new rows then go by COPY straight
 * into objects, and their index entries by COPY into obj_keys. The
 * collection's row lock keeps every other writer out meanwhile.
 */
static int put_request(struct pg_store *s, const struct put_req *q,
                       struct locked *lk, int *seq, bool *wrote)
{
    *wrote = false;
    if (!lk->found)
        return CAIRN_ENOTFOUND;
    int rc = 0;
    if (q->status_id != NULL && (rc = status_check(s, q->status_id, q->n)) < 0)
        return rc;
    for (size_t i = 0; i < q->n; i++) {
        struct store_obj *o = &q->objs[i];
        if (!o->failed && memchr(o->json, '\0', o->json_len) != NULL) {
            o->failed = true;
            q->res[i].outcome = CAIRN_STORE_FAILED;
            cairn__store_result_msg(&q->res[i],
                                    "the object's text holds a NUL byte");
        }
    }
    *wrote = true;
    struct prow *pr = cairn_calloc(q->n ? q->n : 1, sizeof *pr);
    int64_t *salted = cairn_calloc(q->n ? q->n : 1, sizeof *salted);
    size_t n_salted = 0;
    struct cairn_buf b;
    cairn_buf_init(&b, (size_t)1 << 30);
    if (pr == NULL || salted == NULL) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    /* date_added: one after another from the collection's mark, taken
     * under its row lock. */
    int64_t first = cairn__store_next_added(lk->last), next = first;
    int seq0 = *seq;
    *seq += (int)q->n;
    for (size_t i = 0; i < q->n; i++) {
        const struct store_obj *o = &q->objs[i];
        pr[i].state = ROW_NEW;
        if (o->failed)
            continue;
        pr[i].added = next++;
        pr[i].vsec = vsec_of(o);
        pr[i].vns = vns_of(o);
    }
    rc = mark_within(q, pr);
    if (rc == 0 && next > first)
        rc = look_up_stored(s, q, lk, pr, seq0, &b, salted, &n_salted);
    bool any_new = false;
    for (size_t i = 0; rc == 0 && i < q->n; i++) {
        if (!q->objs[i].failed && pr[i].state == ROW_NEW) {
            q->res[i].outcome = CAIRN_STORE_STORED;
            any_new = true;
        }
    }
    if (rc == 0 && any_new)
        rc = copy_rows(s, q, lk, pr, &b);
    for (size_t i = 0; rc == 0 && i < q->n; i++)
        if (!q->objs[i].failed && pr[i].state == ROW_DUP)
            rc = settle_dup(s, q, lk, pr, i, salted, &n_salted);
    /* Another version stored before a new one: mark the older rows too. */
    size_t n_older = n_salted;
    for (size_t i = 0; rc == 0 && i < q->n; i++)
        if (!q->objs[i].failed && pr[i].state == ROW_NEW && pr[i].multi)
            salted[n_older++] = q->objs[i].idh;
    if (rc == 0 && n_older > 0) {
        cairn_buf_reset(&b);
        rc = int_array(&b, salted, n_older);
        struct num a;
        const char *p[2] = {i64(&a, lk->pk), b.data};
        if (rc == 0)
            rc = run(s,
                     "UPDATE objects SET multi = true WHERE coll = $1::bigint"
                     " AND idh = ANY($2::bigint[]) AND NOT multi",
                     2, p, NULL, NULL, false);
        cairn_buf_reset(&b);
    }
    if (rc == 0)
        rc = copy_keys(s, q, lk, pr, &b);
    /* The summaries of the sightings stored (docs/analysis.md). */
    for (size_t i = 0; rc == 0 && i < q->n; i++) {
        const struct store_obj *o = &q->objs[i];
        if (!o->failed && q->res[i].outcome == CAIRN_STORE_STORED &&
            o->sight != NULL)
            rc = insert_sight(s, lk->pk, o->idh, pr[i].vsec, pr[i].vns,
                              pr[i].added, o->sight);
        if (rc == 0 && !o->failed &&
            q->res[i].outcome == CAIRN_STORE_STORED && o->flag_list != NULL)
            rc = insert_flag(s, lk->pk, pr[i].added, o->flag_list,
                             o->flag_value);
    }
    if (rc == 0 && next > first) {
        struct num a, b2;
        const char *pl[2] = {i64(&a, lk->pk), i64(&b2, next - 1)};
        rc = run(s,
                 "UPDATE collections SET last_added = $2::bigint"
                 " WHERE pk = $1::bigint",
                 2, pl, NULL, NULL, false);
        if (rc == 0)
            lk->last = next - 1;
    }
    if (rc == 0 && q->status_id != NULL)
        rc = status_items(s, q->status_id, q->res, q->n, q->objs);
out:
    cairn_buf_release(&b);
    cairn_free(pr);
    cairn_free(salted);
    return rc;
}

/* Rows stored before the planner is told the tables grew: below it, a
 * few puts never cost an ANALYZE. */
#define ANALYZE_MIN_ROWS 1000

/*
 * Keep the planner's statistics of objects and obj_keys up to date with
 * bulk writes. Until they are renewed, a table filled by COPY looks
 * empty or small to the planner, and a page (coll = $1 AND date_added >
 * $2 ORDER BY date_added LIMIT n) is planned as a bitmap scan of every
 * row after $2 and a sort instead of a walk of the primary key: each
 * page then costs as much as the rest of the collection (100 ms for
 * 20,000 rows), and paging out grows with the square of the collection.
 * Autovacuum comes to it only after a minute or more. So once the rows
 * this process stored since the last renewal reach what the statistics
 * counted (the tables have doubled), it runs ANALYZE itself: a sample of
 * 3,000 rows of the key columns, a handful of times over a collection's
 * life.
 * A failure only leaves the statistics to autovacuum.
 */
static void renew_stats(struct pg_store *s, const struct put_req *group)
{
    int64_t stored = 0;
    for (const struct put_req *r = group; r != NULL; r = r->next)
        for (size_t i = 0; r->rc == 0 && i < r->n; i++)
            if (r->res[i].outcome == CAIRN_STORE_STORED)
                stored++;
    if (stored == 0)
        return;
    struct pg_shared *sh = s->sh;
    pthread_mutex_lock(&sh->mu);
    sh->since_analyze += stored;
    int64_t since = sh->since_analyze;
    double known = sh->analyzed_rows;
    pthread_mutex_unlock(&sh->mu);
    if (since < ANALYZE_MIN_ROWS)
        return;
    PGresult *r = NULL;
    if (known == -2) {
        if (run(s,
                "SELECT reltuples FROM pg_class WHERE oid ="
                " 'objects'::regclass",
                0, NULL, NULL, &r, true) < 0)
            return;
        known = PQntuples(r) == 1 ? strtod(PQgetvalue(r, 0, 0), NULL) : -1;
        PQclear(r);
        r = NULL;
    }
    if (known >= 0 && (double)since < known) {
        pthread_mutex_lock(&sh->mu);
        sh->analyzed_rows = known;
        pthread_mutex_unlock(&sh->mu);
        return;
    }
    /*
     * The planner needs the row counts and the key columns, not the
     * objects' text: a sample of 3,000 rows (statistics target 10) of
     * those columns costs a tenth of a full ANALYZE, which was about a
     * quarter of the database's work in a bulk import. Autovacuum later
     * analyses the tables in full as usual.
     */
    if (run(s,
            "SET default_statistics_target = 10;"
            " ANALYZE objects(coll, date_added, idh, type, spec_version,"
            " vsec, vns, salt, multi), obj_keys;"
            " RESET default_statistics_target",
            0, NULL, NULL, NULL, false) < 0 ||
        run(s,
            "SELECT reltuples FROM pg_class WHERE oid ="
            " 'objects'::regclass",
            0, NULL, NULL, &r, true) < 0)
        return;
    known = PQntuples(r) == 1 ? strtod(PQgetvalue(r, 0, 0), NULL) : -1;
    PQclear(r);
    pthread_mutex_lock(&sh->mu);
    sh->since_analyze -= since;
    sh->analyzed_rows = known;
    pthread_mutex_unlock(&sh->mu);
}

/* Write the puts of `group` in one transaction; each gets its rc. */
static void write_group(struct pg_store *s, struct put_req *group)
{
    size_t n = 0;
    for (struct put_req *r = group; r != NULL; r = r->next)
        n++;
    struct locked *lk = cairn_calloc(n, sizeof *lk);
    size_t nl = 0;
    int rc = lk != NULL ? 0 : CAIRN_ENOMEM;
    for (struct put_req *r = group; rc == 0 && r != NULL; r = r->next) {
        size_t i = 0;
        while (i < nl && strcmp(lk[i].id, r->collection) != 0)
            i++;
        if (i == nl)
            lk[nl++].id = r->collection;
    }
    if (rc == 0)
        rc = begin(s);
    if (rc == 0)
        rc = lock_collections(s, lk, nl);
    int seq = 0;
    for (struct put_req *r = group; rc == 0 && r != NULL; r = r->next) {
        size_t i = 0;
        while (strcmp(lk[i].id, r->collection) != 0)
            i++;
        bool wrote;
        r->rc = put_request(s, r, &lk[i], &seq, &wrote);
        if (r->rc < 0 &&
            (wrote || (r->rc != CAIRN_ENOTFOUND && r->rc != CAIRN_EINVAL)))
            rc = r->rc;
    }
    rc = finish(s, rc);
    for (struct put_req *r = group; rc < 0 && r != NULL; r = r->next)
        if (r->rc == 0)
            r->rc = rc;
    cairn_free(lk);
    if (rc == 0)
        renew_stats(s, group);
}

static struct timespec deadline_in(int ms)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

static void unqueue(struct pg_shared *f, struct put_req *me)
{
    struct put_req **p = &f->head, *prev = NULL;
    while (*p != me) {
        prev = *p;
        p = &(*p)->next;
    }
    *p = me->next;
    if (f->tail == me)
        f->tail = prev;
}

/*
 * Group commit, as in the SQLite backend: a put joins this process's
 * queue; if no put is being written, it takes the queue (up to
 * CAIRN_STORE_BATCH_MAX objects) and writes it in one transaction on its
 * own connection, else it waits to be written with the next group.
 */
static int pg_put_objects(struct cairn_store *base, const char *collection,
                          struct store_obj *objs, size_t n,
                          const char *status_id, struct cairn_store_result *res)
{
    struct pg_store *s = pg(base);
    struct pg_shared *f = s->sh;
    struct put_req me = {.collection = collection,
                         .objs = objs,
                         .n = n,
                         .status_id = status_id,
                         .res = res};
    struct timespec until = deadline_in(s->busy_ms);
    pthread_mutex_lock(&f->mu);
    if (f->tail != NULL)
        f->tail->next = &me;
    else
        f->head = &me;
    f->tail = &me;
    while (!me.done) {
        if (f->leading) {
            if (me.taken) {
                pthread_cond_wait(&f->cv, &f->mu);
            } else if (pthread_cond_timedwait(&f->cv, &f->mu, &until) ==
                           ETIMEDOUT &&
                       !me.taken && !me.done) {
                unqueue(f, &me);
                me.rc = CAIRN_EBUSY;
                cairn_log(CAIRN_LOG_ERROR,
                          "store: gave up after %d ms waiting for the "
                          "writes queued before this one",
                          s->busy_ms);
                break;
            }
            continue;
        }
        f->leading = true;
        struct put_req *group = f->head, *end = group;
        size_t total = group->n;
        while (end->next != NULL &&
               total + end->next->n <= CAIRN_STORE_BATCH_MAX) {
            end = end->next;
            total += end->n;
        }
        f->head = end->next;
        if (f->head == NULL)
            f->tail = NULL;
        end->next = NULL;
        for (struct put_req *r = group; r != NULL; r = r->next)
            r->taken = true;
        pthread_mutex_unlock(&f->mu);

        write_group(s, group);
        until = deadline_in(s->busy_ms);

        pthread_mutex_lock(&f->mu);
        for (struct put_req *r = group, *next; r != NULL; r = next) {
            next = r->next;
            r->done = true;
        }
        f->leading = false;
        pthread_cond_broadcast(&f->cv);
    }
    pthread_mutex_unlock(&f->mu);
    return me.rc;
}

/* ---- queries --------------------------------------------------------------- */

/* Parameters of a query, as text. */
struct plist {
    const char **v;
    struct num *num;
    int n, cap;
};

static int pl_init(struct plist *pl, int cap)
{
    pl->n = 0;
    pl->cap = cap;
    pl->v = cairn_calloc((size_t)cap, sizeof *pl->v);
    pl->num = cairn_calloc((size_t)cap, sizeof *pl->num);
    return pl->v && pl->num ? 0 : CAIRN_ENOMEM;
}

static void pl_free(struct plist *pl)
{
    cairn_free(pl->v);
    cairn_free(pl->num);
}

/* Add a text parameter and write its placeholder with `cast`. */
static int pl_text(struct cairn_buf *b, struct plist *pl, const char *v,
                   const char *cast)
{
    if (pl->n == pl->cap)
        return CAIRN_EINTERNAL;
    pl->v[pl->n++] = v;
    return cairn_buf_printf(b, "$%d%s", pl->n, cast);
}

static int pl_int(struct cairn_buf *b, struct plist *pl, int64_t v)
{
    if (pl->n == pl->cap)
        return CAIRN_EINTERNAL;
    pl->v[pl->n] = i64(&pl->num[pl->n], v);
    pl->n++;
    return cairn_buf_printf(b, "$%d::bigint", pl->n);
}

static int in_list(struct cairn_buf *b, struct plist *pl, const char *col,
                   const char *const *v, size_t n)
{
    int rc = cairn_buf_printf(b, " AND %s IN (", col);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (i > 0)
            rc = cairn_buf_putc(b, ',');
        if (rc == 0)
            rc = pl_text(b, pl, v[i], "");
    }
    if (rc == 0)
        rc = cairn_buf_putc(b, ')');
    return rc;
}

static int other_versions(struct cairn_buf *b, struct plist *pl,
                          const struct store_q *q, const char *cmp)
{
    /* Without `multi`, the row is the only version: no look-up. */
    int rc = cairn_buf_printf(b,
                              "(NOT o.multi OR NOT EXISTS (SELECT 1 FROM"
                              " objects v WHERE v.coll = o.coll AND"
                              " v.idh = o.idh AND v.id = o.id AND"
                              " (v.vsec, v.vns) %s (o.vsec, o.vns)",
                              cmp);
    if (rc == 0 && q->q->n_spec_versions > 0)
        rc = in_list(b, pl, "v.spec_version", q->q->spec_versions,
                     q->q->n_spec_versions);
    if (rc == 0)
        rc = cairn_buf_puts(b, "))");
    return rc;
}

/* The WHERE clause of a query; *after_param is the number of the
 * date_added parameter, which chunked reads move on. The collection is
 * `pk`, or when `coll_id` is not NULL the one with that id, looked up in
 * the same statement (a round trip less for every page). */
static int build_where(struct cairn_buf *b, struct plist *pl,
                       const struct store_q *q, int64_t pk,
                       const char *coll_id, int *after_param)
{
    const struct cairn_store_query *u = q->q;
    int rc = cairn_buf_puts(b, " WHERE o.coll = ");
    if (rc == 0 && coll_id != NULL) {
        rc = cairn_buf_puts(b, "(SELECT pk FROM collections WHERE id = ");
        if (rc == 0)
            rc = pl_text(b, pl, coll_id, ")");
    } else if (rc == 0) {
        rc = pl_int(b, pl, pk);
    }
    if (rc == 0)
        rc = cairn_buf_puts(b, " AND o.date_added > ");
    if (rc == 0) {
        *after_param = pl->n;
        rc = pl_int(b, pl, q->after_us);
    }
    if (rc == 0 && u->n_ids > 0) {
        rc = cairn_buf_puts(b, " AND o.idh IN (");
        for (size_t i = 0; rc == 0 && i < u->n_ids; i++) {
            if (i > 0)
                rc = cairn_buf_putc(b, ',');
            if (rc == 0)
                rc = pl_int(b, pl, cairn__store_id_hash(u->ids[i]));
        }
        if (rc == 0)
            rc = cairn_buf_putc(b, ')');
        if (rc == 0)
            rc = in_list(b, pl, "o.id", u->ids, u->n_ids);
    }
    if (rc == 0 && u->n_types > 0)
        rc = in_list(b, pl, "o.type", u->types, u->n_types);
    if (rc == 0 && u->n_spec_versions > 0)
        rc = in_list(b, pl, "o.spec_version", u->spec_versions,
                     u->n_spec_versions);
    if (rc < 0 || (q->versions & CAIRN_STORE_VERSION_ALL))
        return rc;
    const char *sep = " AND (";
    if (q->versions & CAIRN_STORE_VERSION_LAST) {
        rc = cairn_buf_puts(b, sep);
        if (rc == 0)
            rc = other_versions(b, pl, q, ">");
        sep = " OR ";
    }
    if (rc == 0 && (q->versions & CAIRN_STORE_VERSION_FIRST)) {
        rc = cairn_buf_puts(b, sep);
        if (rc == 0)
            rc = other_versions(b, pl, q, "<");
        sep = " OR ";
    }
    for (size_t i = 0; rc == 0 && i < q->n_vkeys; i++) {
        rc = cairn_buf_printf(b, "%s(o.vsec = ", sep);
        if (rc == 0)
            rc = pl_int(b, pl, u->version_times[i].sec);
        if (rc == 0)
            rc = cairn_buf_puts(b, " AND o.vns = ");
        if (rc == 0)
            rc = pl_int(b, pl, u->version_times[i].nsec);
        if (rc == 0)
            rc = cairn_buf_putc(b, ')');
        sep = " OR ";
    }
    if (rc == 0)
        rc = cairn_buf_putc(b, ')');
    return rc;
}

/* Parameters a query can have: see CAIRN_STORE_FILTER_MAX. */
#define QUERY_PARAMS (4 + 6 * CAIRN_STORE_FILTER_MAX)

static int coll_pk(struct pg_store *s, const char *id, int64_t *pk)
{
    PGresult *r = NULL;
    const char *p[1] = {id};
    int rc = run(s, "SELECT pk FROM collections WHERE id = $1", 1, p, NULL,
                 &r, true);
    if (rc < 0)
        return rc;
    if (PQntuples(r) == 1)
        *pk = get_i64(r, 0, 0);
    else
        rc = CAIRN_ENOTFOUND;
    PQclear(r);
    return rc;
}

static int pg_query(struct cairn_store *base, const struct store_q *q,
                    const struct store_row_sink *sink)
{
    struct pg_store *s = pg(base);
    int64_t pk;
    struct plist pl;
    struct cairn_buf sql;
    cairn_buf_init(&sql, 256 * 1024);
    int after = 0;
    int rc = pl_init(&pl, QUERY_PARAMS);
    if (rc == 0)
        rc = cairn_buf_printf(&sql,
                              "SELECT o.date_added, o.id, o.type,"
                              " o.spec_version, o.created, o.modified, %s"
                              " FROM objects o",
                              q->q->with_json ? "o.json" : "NULL");
    if (rc == 0)
        rc = build_where(&sql, &pl, q, 0, q->q->collection, &after);
    size_t want = q->limit + 1;
    size_t chunk = want < READ_CHUNK ? want : READ_CHUNK;
    if (rc == 0)
        rc = cairn_buf_puts(&sql, " ORDER BY o.date_added LIMIT ");
    int limit_param = pl.n;
    if (rc == 0)
        rc = pl_int(&sql, &pl, (int64_t)chunk);
    /*
     * Read in chunks of date_added ranges: each statement sees a snapshot
     * that holds a prefix of the collection, so a later chunk may see
     * more rows past the last one read, never fewer before it.
     */
    size_t got = 0;
    while (rc == 0) {
        PGresult *r = NULL;
        rc = run(s, sql.data, pl.n, pl.v, NULL, &r, true);
        if (rc < 0)
            break;
        int rows = PQntuples(r);
        int64_t last = 0;
        for (int i = 0; rc == 0 && i < rows; i++) {
            struct cairn_store_row row = {0};
            row.id = get_str(r, i, 1);
            row.type = get_str(r, i, 2);
            row.spec_version = get_str(r, i, 3);
            row.created = get_str(r, i, 4);
            row.modified = get_str(r, i, 5);
            row.version = row.modified ? row.modified : row.created;
            row.json = get_str(r, i, 6);
            row.json_len = row.json ? (size_t)PQgetlength(r, i, 6) : 0;
            last = get_i64(r, i, 0);
            rc = sink->row(sink->ud, &row, last);
        }
        PQclear(r);
        got += (size_t)rows;
        if (rc != 0 || (size_t)rows < chunk || got >= want)
            break;
        pl.v[after] = i64(&pl.num[after], last);
        /* No more rows than the page still wants (limit + 1 is 1001). */
        if (want - got < chunk) {
            chunk = want - got;
            pl.v[limit_param] = i64(&pl.num[limit_param], (int64_t)chunk);
        }
    }
    if (rc > 0)
        rc = 0;
    /* No rows: perhaps no such collection. */
    if (rc == 0 && got == 0)
        rc = coll_pk(s, q->q->collection, &pk);
    pl_free(&pl);
    cairn_buf_release(&sql);
    return rc;
}

/*
 * The rows whose index entries hold `key`, in chunks in (coll, added)
 * order. Entries of deleted rows find no row and are skipped: date_added
 * never comes back in a collection, nor a collection's pk.
 */
static int pg_keys_find(struct cairn_store *base, int64_t key,
                        const struct store_hit_sink *sink)
{
    struct pg_store *s = pg(base);
    struct num nk, nc, na;
    const char *p[3] = {i64(&nk, key), i64(&nc, 0), i64(&na, 0)};
    int rc = 0;
    while (rc == 0) {
        PGresult *r = NULL;
        rc = run(s,
                 "SELECT k.coll, k.added, o.id, o.type, o.spec_version,"
                 " o.created, o.modified, o.json, c.id, f.list, f.value"
                 " FROM obj_keys k"
                 " JOIN objects o ON o.coll = k.coll"
                 " AND o.date_added = k.added"
                 " JOIN collections c ON c.pk = k.coll"
                 " LEFT JOIN flags f ON f.coll = k.coll"
                 " AND f.added = k.added"
                 " WHERE k.k = $1::bigint"
                 " AND (k.coll, k.added) > ($2::bigint, $3::bigint)"
                 " ORDER BY k.coll, k.added LIMIT 1025",
                 3, p, NULL, &r, true);
        if (rc < 0)
            break;
        int rows = PQntuples(r);
        for (int i = 0; rc == 0 && i < rows; i++) {
            struct cairn_store_row row = {0};
            int64_t coll = get_i64(r, i, 0), added = get_i64(r, i, 1);
            row.date_added = cairn__store_us_time(added);
            row.id = get_str(r, i, 2);
            row.type = get_str(r, i, 3);
            row.spec_version = get_str(r, i, 4);
            row.created = get_str(r, i, 5);
            row.modified = get_str(r, i, 6);
            row.version = row.modified ? row.modified : row.created;
            row.json = get_str(r, i, 7);
            row.json_len = row.json ? (size_t)PQgetlength(r, i, 7) : 0;
            row.flag_list = get_str(r, i, 9);
            row.flag_value = get_str(r, i, 10);
            p[1] = i64(&nc, coll);
            p[2] = i64(&na, added);
            rc = sink->hit(sink->ud, get_str(r, i, 8), &row);
        }
        PQclear(r);
        if (rows < 1025)
            break;
    }
    return rc > 0 ? 0 : rc;
}

/* The summaries in keyset pages of 5,000, in (coll, idh, vsec, vns,
 * added) order, newest first. */
static int pg_sightings_scan(struct cairn_store *base, const char *of,
                             bool with_json,
                             const struct store_sight_sink *sink)
{
    struct pg_store *s = pg(base);
    struct num n[5];
    const char *p[6] = {i64(&n[0], INT64_MAX), i64(&n[1], INT64_MAX),
                        i64(&n[2], INT64_MAX), i64(&n[3], INT32_MAX),
                        i64(&n[4], INT64_MAX), of};
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT c.id, g.coll, g.idh, g.vsec, g.vns, g.added, g.of_ref,"
             " g.orgs, g.fp, g.cnt, g.first_seen, g.last_seen%s"
             " FROM sightings g JOIN collections c ON c.pk = g.coll%s"
             " WHERE (g.coll, g.idh, g.vsec, g.vns, g.added) <"
             " ($1::bigint, $2::bigint, $3::bigint, $4::int, $5::bigint)%s"
             " ORDER BY g.coll DESC, g.idh DESC, g.vsec DESC, g.vns DESC,"
             " g.added DESC LIMIT 5000",
             with_json ? ", o.id, o.type, o.spec_version, o.created,"
                         " o.modified, o.json"
                       : "",
             with_json ? " JOIN objects o ON o.coll = g.coll"
                         " AND o.date_added = g.added"
                       : "",
             of != NULL ? " AND (g.coll, g.idh) IN (SELECT coll, idh FROM"
                          " sightings WHERE of_ref = $6)"
                        : "");
    int rc = 0;
    while (rc == 0) {
        PGresult *r = NULL;
        rc = run(s, sql, of != NULL ? 6 : 5, p, NULL, &r, true);
        if (rc < 0)
            break;
        int rows = PQntuples(r);
        for (int i = 0; rc == 0 && i < rows; i++) {
            struct cairn_store_row row = {0};
            struct store_sight_row g = {
                .collection = get_str(r, i, 0),
                .idh = get_i64(r, i, 2),
                .vsec = get_i64(r, i, 3),
                .vns = get_i64(r, i, 4),
                .sight = {.of_ref = get_str(r, i, 6),
                          .orgs = get_str(r, i, 7),
                          .fp = get_i64(r, i, 8) != 0,
                          .count = get_i64(r, i, 9),
                          .first = get_str(r, i, 10),
                          .last = get_str(r, i, 11)},
            };
            if (with_json) {
                row.date_added = cairn__store_us_time(get_i64(r, i, 5));
                row.id = get_str(r, i, 12);
                row.type = get_str(r, i, 13);
                row.spec_version = get_str(r, i, 14);
                row.created = get_str(r, i, 15);
                row.modified = get_str(r, i, 16);
                row.version = row.modified ? row.modified : row.created;
                row.json = get_str(r, i, 17);
                row.json_len = row.json ? (size_t)PQgetlength(r, i, 17) : 0;
                g.row = &row;
            }
            for (int k = 0; k < 5; k++)
                p[k] = i64(&n[k], get_i64(r, i, 1 + k));
            rc = sink->row(sink->ud, &g);
        }
        PQclear(r);
        if (rows < 5000)
            break;
    }
    return rc > 0 ? 0 : rc;
}


static int pg_delete_objects(struct cairn_store *base, const struct store_q *q,
                             size_t *deleted)
{
    struct pg_store *s = pg(base);
    int64_t pk;
    int rc = coll_pk(s, q->q->collection, &pk);
    if (rc < 0)
        return rc;
    struct plist pl;
    struct cairn_buf sql;
    cairn_buf_init(&sql, 256 * 1024);
    int after = 0;
    rc = pl_init(&pl, QUERY_PARAMS);
    if (rc == 0)
        rc = cairn_buf_puts(&sql, "DELETE FROM objects o");
    if (rc == 0)
        rc = build_where(&sql, &pl, q, pk, NULL, &after);
    PGresult *r = NULL;
    if (rc == 0)
        rc = run(s, sql.data, pl.n, pl.v, NULL, &r, false);
    if (rc == 0)
        *deleted = (size_t)changed(r);
    PQclear(r);
    pl_free(&pl);
    cairn_buf_release(&sql);
    return rc;
}

/* ---- status resources ---------------------------------------------------- */

static int pg_status_new(struct cairn_store *base, const char *id,
                         const char *collection, const char *user,
                         int64_t request_us, int64_t total)
{
    struct num a, b, c;
    const char *p[6] = {id,
                        collection,
                        user,
                        i64(&a, request_us),
                        i64(&b, total),
                        i64(&c, node_key())};
    PGresult *r = NULL;
    int rc = run(pg(base),
                 "INSERT INTO statuses(id, coll, usr, request_ts, total, node)"
                 " SELECT $1, $2, $3, $4::bigint, $5::bigint, $6::bigint"
                 " WHERE EXISTS (SELECT 1 FROM collections WHERE id = $2)",
                 6, p, NULL, &r, false);
    if (rc == 0 && changed(r) == 0)
        rc = CAIRN_ENOTFOUND;
    PQclear(r);
    return rc;
}

static int pg_status_add_pending(struct cairn_store *base, const char *id,
                                 const struct cairn_store_result *items,
                                 size_t n)
{
    struct pg_store *s = pg(base);
    int rc = begin(s);
    if (rc < 0)
        return rc;
    rc = status_check(s, id, 0);
    if (rc == 0 && n > 0) {
        struct cairn_buf b;
        cairn_buf_init(&b, (size_t)1 << 30);
        rc = copy_begin(s, "COPY status_items(status, obj_id, version, kind,"
                           " message) FROM STDIN");
        if (rc == 0) {
            for (size_t i = 0; rc == 0 && i < n; i++) {
                rc = copy_str(&b, id, '\t');
                if (rc == 0)
                    rc = copy_str(&b, items[i].id, '\t');
                if (rc == 0)
                    rc = copy_str(&b, items[i].version, '\t');
                if (rc == 0)
                    rc = copy_int(&b, ITEM_PENDING, '\t');
                if (rc == 0)
                    rc = copy_str(&b, "", '\n');
                if (rc == 0)
                    rc = copy_send(s, &b, false);
            }
            rc = copy_end(s, &b, rc);
        }
        cairn_buf_release(&b);
    }
    return finish(s, rc);
}

static int pg_status_record(struct cairn_store *base, const char *id,
                            const struct cairn_store_result *results, size_t n)
{
    struct pg_store *s = pg(base);
    int rc = begin(s);
    if (rc < 0)
        return rc;
    rc = status_check(s, id, n);
    if (rc == 0)
        rc = status_items(s, id, results, n, NULL);
    return finish(s, rc);
}

/*
 * Finish the statuses left pending by this node (the caller says no job
 * of it writes now) and by nodes that are gone: those whose shared lock
 * no connection holds any more. A status of a node still running is left
 * to it.
 */
static int pg_status_abandon_pending(struct cairn_store *base,
                                     const char *message, size_t *count)
{
    struct pg_store *s = pg(base);
    int rc = begin(s);
    if (rc < 0)
        return rc;
    PGresult *r = NULL;
    struct num own;
    const char *p[2] = {i64(&own, node_key()), message};
    rc = run(s,
             "SELECT DISTINCT node FROM statuses"
             " WHERE success + failure < total AND node <> $1::bigint",
             1, p, NULL, &r, false);
    struct cairn_buf nodes;
    cairn_buf_init(&nodes, (size_t)1 << 24);
    if (rc == 0)
        rc = cairn_buf_printf(&nodes, "{%s", p[0]);
    for (int i = 0; rc == 0 && r != NULL && i < PQntuples(r); i++) {
        PGresult *t = NULL;
        const char *k[1] = {PQgetvalue(r, i, 0)};
        rc = run(s, "SELECT pg_try_advisory_xact_lock($1::bigint)", 1, k,
                 NULL, &t, false);
        if (rc == 0 && strcmp(PQgetvalue(t, 0, 0), "t") == 0)
            rc = cairn_buf_printf(&nodes, ",%s", k[0]);
        PQclear(t);
    }
    PQclear(r);
    r = NULL;
    if (rc == 0)
        rc = cairn_buf_putc(&nodes, '}');
    if (rc == 0) {
        const char *q[2] = {nodes.data, message};
        rc = run(s,
                 "UPDATE status_items SET kind = 1, message = $2"
                 " WHERE kind = 2 AND status IN (SELECT id FROM statuses"
                 " WHERE success + failure < total"
                 " AND node = ANY($1::bigint[]))",
                 2, q, NULL, NULL, false);
        if (rc == 0)
            rc = run(s,
                     "UPDATE statuses SET failure = total - success"
                     " WHERE success + failure < total"
                     " AND node = ANY($1::bigint[])",
                     1, q, NULL, &r, false);
        if (rc == 0)
            *count = (size_t)changed(r);
        PQclear(r);
    }
    cairn_buf_release(&nodes);
    return finish(s, rc);
}

static int pg_status_get(struct cairn_store *base, const char *id,
                         struct cairn_store_status **out)
{
    struct pg_store *s = pg(base);
    struct cairn_store_status *stt = cairn_calloc(1, sizeof *stt);
    if (stt == NULL)
        return CAIRN_ENOMEM;
    /* One snapshot, so that counters and lists agree. */
    int rc = run0(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    if (rc == 0)
        s->in_tx = true;
    PGresult *r = NULL;
    const char *p[1] = {id};
    if (rc == 0)
        rc = run(s,
                 "SELECT coll, usr, request_ts, total, success, failure"
                 " FROM statuses WHERE id = $1",
                 1, p, NULL, &r, false);
    if (rc == 0) {
        if (PQntuples(r) == 1) {
            snprintf(stt->id, sizeof stt->id, "%s", id);
            stt->collection = get_dup(r, 0, 0, &rc);
            stt->user = get_dup(r, 0, 1, &rc);
            stt->request_timestamp = cairn__store_us_time(get_i64(r, 0, 2));
            stt->total = get_i64(r, 0, 3);
            stt->success = get_i64(r, 0, 4);
            stt->failure = get_i64(r, 0, 5);
        } else {
            rc = CAIRN_ENOTFOUND;
        }
    }
    PQclear(r);
    r = NULL;
    if (rc == 0)
        rc = run(s,
                 "SELECT kind, obj_id, version, message FROM status_items"
                 " WHERE status = $1 ORDER BY seq",
                 1, p, NULL, &r, false);
    size_t alloc[3] = {0, 0, 0};
    for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
        struct cairn_store_result it = {0};
        int kind = (int)get_i64(r, i, 0);
        it.outcome =
            kind == ITEM_FAILURE ? CAIRN_STORE_FAILED : CAIRN_STORE_STORED;
        snprintf(it.id, sizeof it.id, "%s", PQgetvalue(r, i, 1));
        snprintf(it.version, sizeof it.version, "%s", PQgetvalue(r, i, 2));
        snprintf(it.message, sizeof it.message, "%s", PQgetvalue(r, i, 3));
        if (kind == ITEM_SUCCESS)
            rc = cairn__store_result_push(&stt->successes, &stt->n_successes,
                                          &alloc[0], &it);
        else if (kind == ITEM_FAILURE)
            rc = cairn__store_result_push(&stt->failures, &stt->n_failures,
                                          &alloc[1], &it);
        else
            rc = cairn__store_result_push(&stt->pendings, &stt->n_pendings,
                                          &alloc[2], &it);
    }
    PQclear(r);
    int frc = finish(s, 0);
    if (rc == 0)
        rc = frc;
    if (rc < 0) {
        cairn_store_status_free(stt);
        return rc;
    }
    *out = stt;
    return 0;
}

/* ---- users, tokens, rights ------------------------------------------------ */

/* A write of `n` parameters; `changes` (may be NULL) gets the rows. */
static int write_n(struct pg_store *s, const char *sql, int n,
                   const char *const *p, int64_t *changes)
{
    PGresult *r = NULL;
    int rc = run(s, sql, n, p, NULL, &r, false);
    if (rc == 0 && changes != NULL)
        *changes = changed(r);
    PQclear(r);
    return rc;
}

/* write_n() of users, tokens, rights or a collection's settings. */
static int write_authz(struct pg_store *s, const char *sql, int n,
                       const char *const *p, int64_t *changes)
{
    int rc = write_n(s, sql, n, p, changes);
    if (rc == 0)
        authz_changed(s);
    return rc;
}

/* The first column of the first row; CAIRN_ENOTFOUND. With `cache`, it
 * may be up to CACHE_MS old (cached_run). */
static int read_first(struct pg_store *s, const char *sql, int n,
                      const char *const *p, bool cache, char **out)
{
    PGresult *r = NULL;
    int rc = cache ? cached_run(s, sql, n, p, &r)
                   : run(s, sql, n, p, NULL, &r, true);
    if (rc < 0)
        return rc;
    if (PQntuples(r) > 0)
        *out = get_dup(r, 0, 0, &rc);
    if (rc == 0 && *out == NULL)
        rc = CAIRN_ENOTFOUND;
    PQclear(r);
    return rc;
}

static int read_n(struct pg_store *s, const char *sql, int n,
                  const char *const *p, char **out)
{
    return read_first(s, sql, n, p, false, out);
}

static int read_cached(struct pg_store *s, const char *sql, int n,
                       const char *const *p, char **out)
{
    return read_first(s, sql, n, p, true, out);
}

static int pg_user_add(struct cairn_store *base, const char *name,
                       const char *hash)
{
    struct num now;
    const char *p[3] = {name, hash, i64(&now, cairn__store_now_us())};
    return write_authz(pg(base),
                       "INSERT INTO users(name, hash, created)"
                       " VALUES($1, $2, $3::bigint)",
                       3, p, NULL);
}

static int pg_user_set_hash(struct cairn_store *base, const char *name,
                            const char *hash)
{
    int64_t ch = 0;
    const char *p[2] = {name, hash};
    int rc = write_n(pg(base), "UPDATE users SET hash = $2 WHERE name = $1", 2,
                     p, &ch);
    return rc == 0 && ch == 0 ? CAIRN_ENOTFOUND : rc;
}

static int pg_user_hash(struct cairn_store *base, const char *name, char **out)
{
    const char *p[1] = {name};
    return read_n(pg(base), "SELECT hash FROM users WHERE name = $1", 1, p,
                  out);
}

static int pg_user_remove(struct cairn_store *base, const char *name)
{
    int64_t ch = 0;
    const char *p[1] = {name};
    int rc =
        write_authz(pg(base), "DELETE FROM users WHERE name = $1", 1, p, &ch);
    return rc == 0 && ch == 0 ? CAIRN_ENOTFOUND : rc;
}

static int pg_user_list(struct cairn_store *base, char ***out, size_t *n)
{
    PGresult *r = NULL;
    int rc = run(pg(base), "SELECT name FROM users ORDER BY name", 0, NULL,
                 NULL, &r, true);
    if (rc < 0)
        return rc;
    int rows = PQntuples(r);
    char **arr = rows > 0 ? cairn_calloc((size_t)rows, sizeof *arr) : NULL;
    if (rows > 0 && arr == NULL)
        rc = CAIRN_ENOMEM;
    for (int i = 0; rc == 0 && i < rows; i++)
        arr[i] = get_dup(r, i, 0, &rc);
    PQclear(r);
    if (rc < 0) {
        cairn_store_name_list_free(arr, (size_t)rows);
        return rc;
    }
    *out = arr;
    *n = (size_t)rows;
    return 0;
}

static int pg_token_add(struct cairn_store *base, const char *hash,
                        const char *user)
{
    struct num now;
    const char *p[3] = {hash, user, i64(&now, cairn__store_now_us())};
    return write_authz(pg(base),
                       "INSERT INTO tokens(hash, usr, created)"
                       " VALUES($1, $2, $3::bigint)",
                       3, p, NULL);
}

static int pg_token_user(struct cairn_store *base, const char *hash, char **out)
{
    const char *p[1] = {hash};
    return read_cached(pg(base), "SELECT usr FROM tokens WHERE hash = $1", 1, p,
                       out);
}

static int pg_token_remove(struct cairn_store *base, const char *hash)
{
    int64_t ch = 0;
    const char *p[1] = {hash};
    int rc =
        write_authz(pg(base), "DELETE FROM tokens WHERE hash = $1", 1, p, &ch);
    return rc == 0 && ch == 0 ? CAIRN_ENOTFOUND : rc;
}

static int pg_rights_set(struct cairn_store *base, const char *user,
                         const char *collection, unsigned rights)
{
    struct pg_store *s = pg(base);
    char *tmp = NULL;
    const char *pu[1] = {user}, *pc[1] = {collection};
    int rc = read_n(s, "SELECT name FROM users WHERE name = $1", 1, pu, &tmp);
    cairn_free(tmp);
    tmp = NULL;
    if (rc == 0)
        rc = read_n(s, "SELECT id FROM collections WHERE id = $1", 1, pc,
                    &tmp);
    cairn_free(tmp);
    if (rc < 0)
        return rc;
    char bits[12];
    snprintf(bits, sizeof bits, "%u", rights);
    const char *p[3] = {user, collection, bits};
    if (rights == 0)
        return write_authz(s, "DELETE FROM rights WHERE usr = $1 AND coll = $2",
                           2, p, NULL);
    return write_authz(
        s,
        "INSERT INTO rights(usr, coll, bits)"
        " VALUES($1, $2, $3::int)"
        " ON CONFLICT(usr, coll) DO UPDATE SET bits = EXCLUDED.bits",
        3, p, NULL);
}

static int pg_rights_get(struct cairn_store *base, const char *user,
                         const char *collection, unsigned *out)
{
    char *bits = NULL;
    const char *p[2] = {user, collection};
    int rc = read_cached(pg(base),
                         "SELECT bits::text FROM rights WHERE usr = $1"
                         " AND coll = $2",
                         2, p, &bits);
    *out = 0;
    if (rc == 0)
        *out = (unsigned)strtoul(bits, NULL, 10);
    cairn_free(bits);
    return rc == CAIRN_ENOTFOUND ? 0 : rc;
}

static int pg_user_share_get(struct cairn_store *base, const char *name,
                             struct cairn_store_user_share *out)
{
    PGresult *r = NULL;
    const char *p[1] = {name};
    int rc = cached_run(pg(base),
                        "SELECT identity, member FROM users WHERE name = $1", 1,
                        p, &r);
    if (rc < 0)
        return rc;
    if (PQntuples(r) == 1) {
        const char *id = get_str(r, 0, 0);
        if (id != NULL)
            snprintf(out->identity, sizeof out->identity, "%s", id);
        out->member = get_i64(r, 0, 1) != 0;
    } else {
        rc = CAIRN_ENOTFOUND;
    }
    PQclear(r);
    return rc;
}

static int pg_user_share_set(struct cairn_store *base, const char *name,
                             const struct cairn_store_user_share *in)
{
    int64_t ch = 0;
    const char *p[3] = {name, in->identity, in->member ? "1" : "0"};
    int rc = write_authz(pg(base),
                         "UPDATE users SET identity = NULLIF($2, ''),"
                         " member = $3::int WHERE name = $1",
                         3, p, &ch);
    return rc == 0 && ch == 0 ? CAIRN_ENOTFOUND : rc;
}

static int pg_collection_count(struct cairn_store *base, const char *id,
                               size_t *out)
{
    char *v = NULL;
    const char *p[1] = {id};
    int rc = read_n(pg(base),
                    "SELECT (SELECT count(*) FROM objects o"
                    " WHERE o.coll = c.pk)::text FROM collections c"
                    " WHERE c.id = $1",
                    1, p, &v);
    if (rc == 0)
        *out = (size_t)strtoull(v, NULL, 10);
    cairn_free(v);
    return rc;
}

/* A user's flag (admin, identities): read with `sql`, a SELECT of one
 * column as text for name $1; set with an UPDATE of it to $2 for name $1. */
static int user_flag_get(struct cairn_store *base, const char *sql,
                         const char *name, bool *out)
{
    char *v = NULL;
    const char *p[1] = {name};
    int rc = read_cached(pg(base), sql, 1, p, &v);
    if (rc == 0)
        *out = strtol(v, NULL, 10) != 0;
    cairn_free(v);
    return rc;
}

static int user_flag_set(struct cairn_store *base, const char *sql,
                         const char *name, bool on)
{
    int64_t ch = 0;
    const char *p[2] = {name, on ? "1" : "0"};
    int rc = write_authz(pg(base), sql, 2, p, &ch);
    return rc == 0 && ch == 0 ? CAIRN_ENOTFOUND : rc;
}

static int pg_user_admin_get(struct cairn_store *base, const char *name,
                             bool *out)
{
    return user_flag_get(base, "SELECT admin::text FROM users WHERE name = $1",
                         name, out);
}

static int pg_user_admin_set(struct cairn_store *base, const char *name,
                             bool admin)
{
    return user_flag_set(
        base, "UPDATE users SET admin = $2::int WHERE name = $1", name, admin);
}

static int pg_user_identities_get(struct cairn_store *base, const char *name,
                                  bool *out)
{
    return user_flag_get(base,
                         "SELECT identities::text FROM users WHERE name = $1",
                         name, out);
}

static int pg_user_identities_set(struct cairn_store *base, const char *name,
                                  bool on)
{
    return user_flag_set(base,
                         "UPDATE users SET identities = $2::int WHERE name = $1",
                         name, on);
}

static int pg_state_get(struct cairn_store *base, const char *name,
                        char **out)
{
    const char *p[1] = {name};
    return read_n(pg(base), "SELECT value FROM sync_state WHERE name = $1", 1,
                  p, out);
}

static int pg_state_set(struct cairn_store *base, const char *name,
                        const char *value)
{
    struct num now;
    const char *p[3] = {name, value, i64(&now, cairn__store_now_us())};
    if (value == NULL)
        return write_n(pg(base), "DELETE FROM sync_state WHERE name = $1", 1,
                       p, NULL);
    return write_n(pg(base),
                   "INSERT INTO sync_state(name, value, updated)"
                   " VALUES($1, $2, $3::bigint) ON CONFLICT (name) DO UPDATE"
                   " SET value = EXCLUDED.value, updated = EXCLUDED.updated",
                   3, p, NULL);
}

static int pg_collection_tlp_get(struct cairn_store *base, const char *id,
                                 int *out)
{
    char *v = NULL;
    const char *p[1] = {id};
    int rc = read_cached(
        pg(base), "SELECT default_tlp::text FROM collections WHERE id = $1", 1,
        p, &v);
    if (rc == 0)
        *out = (int)strtol(v, NULL, 10);
    cairn_free(v);
    return rc;
}

static int pg_collection_tlp_set(struct cairn_store *base, const char *id,
                                 int tlp)
{
    char v[12];
    int64_t ch = 0;
    snprintf(v, sizeof v, "%d", tlp);
    const char *p[2] = {id, v};
    int rc = write_authz(pg(base),
                         "UPDATE collections SET default_tlp = $2::int"
                         " WHERE id = $1",
                         2, p, &ch);
    return rc == 0 && ch == 0 ? CAIRN_ENOTFOUND : rc;
}

static int pg_mark_put(struct cairn_store *base, const char *collection,
                       const char *const *keys, const char *const *marks,
                       size_t n)
{
    struct num now;
    int64_t ch = 0;
    char *rows = NULL;
    int rc = CAIRN_ENOMEM;
    /* A page's marks in one statement: [[key, mark], ...] as JSON, which
     * escapes whatever they hold. */
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < n; i++) {
        if (!cairn_utf8_valid(keys[i], strlen(keys[i])) ||
            !cairn_utf8_valid(marks[i], strlen(marks[i]))) {
            rc = CAIRN_EINVAL; /* PostgreSQL's text is UTF-8 */
            goto out;
        }
        if (json_array_append_new(arr, json_pack("[ss]", keys[i], marks[i])) !=
            0)
            goto out;
    }
    if (arr == NULL || (rows = json_dumps(arr, JSON_COMPACT)) == NULL)
        goto out;
    const char *p[3] = {collection, rows, i64(&now, cairn__store_now_us())};
    rc = write_n(pg(base),
                 "INSERT INTO marks(coll, obj, mark, at)"
                 " SELECT $1, e->>0, e->>1, $3::bigint"
                 " FROM json_array_elements($2::json) AS e"
                 " WHERE EXISTS (SELECT 1 FROM collections WHERE id = $1)"
                 " ON CONFLICT (coll, obj) DO UPDATE"
                 " SET mark = EXCLUDED.mark, at = EXCLUDED.at",
                 3, p, &ch);
    if (rc == 0 && ch == 0)
        rc = CAIRN_ENOTFOUND;
out:
    json_decref(arr);
    if (rows != NULL) {
        json_malloc_t m;
        json_free_t fr;
        json_get_alloc_funcs(&m, &fr);
        fr(rows);
    }
    return rc;
}

static int pg_mark_get(struct cairn_store *base, const char *collection,
                       const char *key, char **out)
{
    const char *p[2] = {collection, key};
    return read_n(pg(base),
                  "SELECT mark FROM marks WHERE coll = $1 AND obj = $2", 2, p,
                  out);
}

static int pg_mark_list(struct cairn_store *base, const char *collection,
                        int (*cb)(void *ud, const char *collection,
                                  const char *key, const char *mark),
                        void *ud)
{
    const char *p[1] = {collection};
    PGresult *r = NULL;
    int rc = run(pg(base),
                 "SELECT coll, obj, mark FROM marks"
                 " WHERE $1::text IS NULL OR coll = $1 ORDER BY coll, obj",
                 1, p, NULL, &r, true);
    for (int i = 0; rc == 0 && i < PQntuples(r); i++)
        rc = cb(ud, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                PQgetvalue(r, i, 2));
    PQclear(r);
    return rc;
}

/* ---- named locks (one node runs a [peer]) --------------------------------- */

static int32_t lock_key(const char *name)
{
    uint32_t h = (uint32_t)cairn__store_id_hash(name);
    return (int32_t)(h & 0x7fffffff);
}

/*
 * Held by this connection already (it may have been lost with a
 * connection), else taken if free. A session lock: it goes with the
 * connection, so a node that dies lets another take over.
 */
static int pg_lock_try(struct cairn_store *base, const char *name, bool *got)
{
    struct num a, b;
    const char *p[2] = {i64(&a, LOCK_CLASS), i64(&b, lock_key(name))};
    PGresult *r = NULL;
    *got = false;
    int rc = run(pg(base),
                 "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_locks WHERE"
                 " locktype = 'advisory' AND pid = pg_backend_pid() AND"
                 " classid = $1::bigint::oid AND objid = $2::bigint::oid AND"
                 " objsubid = 2 AND granted) THEN true ELSE"
                 " pg_try_advisory_lock($1::int, $2::int) END",
                 2, p, NULL, &r, false);
    if (rc == 0)
        *got = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return rc;
}

static int pg_lock_release(struct cairn_store *base, const char *name)
{
    struct num a, b;
    const char *p[2] = {i64(&a, LOCK_CLASS), i64(&b, lock_key(name))};
    return run(pg(base), "SELECT pg_advisory_unlock($1::int, $2::int)", 2, p,
               NULL, NULL, false);
}

static const struct store_ops pg_ops = {
    .name = "postgres",
    .close = pg_close,
    .schema_version = pg_schema_version,
    .api_root_put = pg_api_root_put,
    .api_root_get = pg_api_root_get,
    .api_root_list = pg_api_root_list,
    .collection_create = pg_collection_create,
    .collection_get = pg_collection_get,
    .collection_list = pg_collection_list,
    .collection_delete = pg_collection_delete,
    .put_objects = pg_put_objects,
    .query = pg_query,
    .keys_find = pg_keys_find,
    .delete_objects = pg_delete_objects,
    .status_new = pg_status_new,
    .status_add_pending = pg_status_add_pending,
    .status_record = pg_status_record,
    .status_get = pg_status_get,
    .status_abandon_pending = pg_status_abandon_pending,
    .user_add = pg_user_add,
    .user_set_hash = pg_user_set_hash,
    .user_hash = pg_user_hash,
    .user_remove = pg_user_remove,
    .user_list = pg_user_list,
    .token_add = pg_token_add,
    .token_user = pg_token_user,
    .token_remove = pg_token_remove,
    .rights_set = pg_rights_set,
    .rights_get = pg_rights_get,
    .user_share_get = pg_user_share_get,
    .user_share_set = pg_user_share_set,
    .collection_count = pg_collection_count,
    .user_admin_get = pg_user_admin_get,
    .user_admin_set = pg_user_admin_set,
    .sightings_scan = pg_sightings_scan,
    .user_identities_get = pg_user_identities_get,
    .user_identities_set = pg_user_identities_set,
    .state_get = pg_state_get,
    .state_set = pg_state_set,
    .collection_tlp_get = pg_collection_tlp_get,
    .mark_put = pg_mark_put,
    .mark_get = pg_mark_get,
    .mark_list = pg_mark_list,
    .collection_tlp_set = pg_collection_tlp_set,
    .lock_try = pg_lock_try,
    .lock_release = pg_lock_release,
};
