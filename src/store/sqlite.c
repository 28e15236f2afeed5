/* SPDX-License-Identifier: Apache-2.0 */
/* The SQLite backend of the store: WAL, migrations, cached statements. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cairn/values.h"
#include "store/store_int.h"

/*
 * Schema migrations, oldest first: migration i (1-based) brings a database
 * from version i-1 to i. A released entry never changes; a new release
 * appends one. docs/store.md explains every table.
 */
static const char *const migrations[] = {
    /* 1: the first schema */
    "CREATE TABLE api_roots("
    " name TEXT PRIMARY KEY, title TEXT NOT NULL, description TEXT,"
    " max_content_length INTEGER NOT NULL);"
    "CREATE TABLE collections("
    " pk INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    " api_root TEXT NOT NULL REFERENCES api_roots(name) ON DELETE CASCADE,"
    " title TEXT NOT NULL, description TEXT, alias TEXT,"
    " media_types TEXT NOT NULL,"
    " last_added INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE objects("
    " rid INTEGER PRIMARY KEY,"
    " coll INTEGER NOT NULL REFERENCES collections(pk) ON DELETE CASCADE,"
    " date_added INTEGER NOT NULL, idh INTEGER NOT NULL, id TEXT NOT NULL,"
    " type TEXT NOT NULL, spec_version TEXT NOT NULL,"
    " vsec INTEGER NOT NULL, vns INTEGER NOT NULL,"
    " salt INTEGER NOT NULL DEFAULT 0,"
    " created TEXT, modified TEXT, json TEXT NOT NULL);"
    "CREATE UNIQUE INDEX objects_added ON objects(coll, date_added);"
    "CREATE UNIQUE INDEX objects_version"
    " ON objects(coll, idh, vsec, vns, salt);"
    "CREATE TABLE statuses("
    " id TEXT PRIMARY KEY, coll TEXT NOT NULL, user TEXT,"
    " request_ts INTEGER NOT NULL, total INTEGER NOT NULL,"
    " success INTEGER NOT NULL DEFAULT 0,"
    " failure INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE status_items("
    " status TEXT NOT NULL REFERENCES statuses(id) ON DELETE CASCADE,"
    " obj_id TEXT NOT NULL, version TEXT NOT NULL, kind INTEGER NOT NULL,"
    " message TEXT NOT NULL);"
    "CREATE INDEX status_items_key ON status_items(status, obj_id, version);"
    "CREATE TABLE users("
    " name TEXT PRIMARY KEY, hash TEXT NOT NULL, created INTEGER NOT NULL);"
    "CREATE TABLE tokens("
    " hash TEXT PRIMARY KEY,"
    " user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,"
    " created INTEGER NOT NULL);"
    "CREATE INDEX tokens_user ON tokens(user);"
    "CREATE TABLE rights("
    " user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,"
    " coll TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,"
    " bits INTEGER NOT NULL, PRIMARY KEY(user, coll)) WITHOUT ROWID;"
    "CREATE INDEX rights_coll ON rights(coll);",
    /*
     * 2: status items indexed for appending. The key (status, obj_id,
     * version) on every item made each commit of a POST rewrite index
     * pages all over a large, random-text index; only pending items are
     * ever looked up by it, so only they are in it now.
     */
    "DROP INDEX status_items_key;"
    "CREATE INDEX status_items_status ON status_items(status);"
    "CREATE INDEX status_items_pending"
    " ON status_items(status, obj_id, version) WHERE kind = 2;",
    /*
     * 3: sharing rules (docs/federation.md): the STIX identity a user acts
     * for and its community membership, and the TLP level a collection's
     * unmarked objects are treated as (0: none, they flow to everyone).
     */
    "ALTER TABLE users ADD COLUMN identity TEXT;"
    "ALTER TABLE users ADD COLUMN member INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE collections ADD COLUMN default_tlp INTEGER NOT NULL"
    " DEFAULT 0;",
    /*
     * 4: an API root's max_content_length 0 means "the server's limit".
     * Earlier versions gave every root they created 100 MiB, the server's
     * default, which then capped a server configured for more; such roots
     * now follow the server.
     */
    "UPDATE api_roots SET max_content_length = 0"
    " WHERE max_content_length = 104857600;",
    /*
     * 5: the correlation index (docs/analysis.md): each object version's
     * value and reference keys (cairn_value_object_keys), 64-bit hashes
     * next to the row id, so an entry is two integers. Filled for the
     * rows already stored by index_existing() in the same transaction.
     */
    "CREATE TABLE IF NOT EXISTS obj_keys(k INTEGER NOT NULL,"
    " rid INTEGER NOT NULL,"
    " PRIMARY KEY(k, rid)) WITHOUT ROWID;",
    /* 6: the web console's administrators (docs/console.md). */
    "ALTER TABLE users ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;",
    /*
     * 7: sighting summaries (docs/analysis.md): what each sighting
     * version tells the report, read once when it is written, in the
     * order the report reads them (collection, sighting, version); a
     * deleted row's summary goes with it. Users entitled to the
     * identities behind sightings. The correlation index gets the keys
     * of the domains a name lies under: rebuilt, with the summaries, by
     * index_existing() in the same transaction.
     */
    "CREATE TABLE sightings("
    " coll INTEGER NOT NULL, idh INTEGER NOT NULL,"
    " vsec INTEGER NOT NULL, vns INTEGER NOT NULL,"
    " rid INTEGER NOT NULL REFERENCES objects(rid) ON DELETE CASCADE,"
    " of_ref TEXT NOT NULL, orgs TEXT NOT NULL, fp INTEGER NOT NULL,"
    " cnt INTEGER NOT NULL, first_seen TEXT, last_seen TEXT,"
    " PRIMARY KEY(coll, idh, vsec, vns, rid)) WITHOUT ROWID;"
    "CREATE INDEX sightings_rid ON sightings(rid);"
    "CREATE INDEX sightings_of ON sightings(of_ref);"
    "ALTER TABLE users ADD COLUMN identities INTEGER NOT NULL DEFAULT 0;"
    "DELETE FROM obj_keys;",
    /*
     * 8: named state, the federation
     * flows' progress (docs/federation.md), in the store instead of files
     * beside it.
     */
    "CREATE TABLE IF NOT EXISTS sync_state(name TEXT PRIMARY KEY,"
    " value TEXT NOT NULL, updated INTEGER NOT NULL);",
    /*
     * 9: marks, why an object
     * version was stored though a check found fault with it (a signature
     * policy of `check`; docs/signing.md), keyed "ID VERSION".
     */
    "CREATE TABLE IF NOT EXISTS marks("
    " coll TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,"
    " obj TEXT NOT NULL, mark TEXT NOT NULL, at INTEGER NOT NULL,"
    " PRIMARY KEY(coll, obj)) WITHOUT ROWID;",
    /*
     * 10: compact sighting summaries (docs/analysis.md): the object sighted
     * and the organisations as numbers of `names` (orgs: their numbers,
     * 4 bytes each, little-endian), the times as integers (fns, lns:
     * nanoseconds x 10 + the fraction's digits as written), so that the
     * report reads a third of the bytes and hashes no strings. Rebuilt by
     * index_existing() in the same transaction. Warninglist flags:
     * the list and value an object version was flagged for when stored.
     */
    "CREATE TABLE IF NOT EXISTS names(n INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE);"
    "DROP TABLE IF EXISTS sightings;"
    "CREATE TABLE sightings("
    " coll INTEGER NOT NULL, idh INTEGER NOT NULL,"
    " vsec INTEGER NOT NULL, vns INTEGER NOT NULL,"
    " rid INTEGER NOT NULL REFERENCES objects(rid) ON DELETE CASCADE,"
    " of_n INTEGER NOT NULL, orgs BLOB, fp INTEGER NOT NULL,"
    " cnt INTEGER NOT NULL, fsec INTEGER, fns INTEGER,"
    " lsec INTEGER, lns INTEGER,"
    " PRIMARY KEY(coll, idh, vsec, vns, rid)) WITHOUT ROWID;"
    "CREATE INDEX sightings_rid ON sightings(rid);"
    "CREATE INDEX sightings_of ON sightings(of_n);"
    "CREATE TABLE IF NOT EXISTS flags("
    " rid INTEGER PRIMARY KEY REFERENCES objects(rid) ON DELETE CASCADE,"
    " list TEXT NOT NULL, value TEXT NOT NULL);",
    /*
     * 11: sighting summaries keyed by the object sighted (docs/analysis.md),
     * so that the report counts each object's sightings one after the
     * other instead of jumping between counters: `old` is 1 for a version
     * of which a newer one is stored (whatever object that one names), so
     * the report reads the newest versions alone, in (of_n, coll, idh)
     * order; the trigger makes the newest remaining version current when
     * the current one is deleted. What the report reads is one blob
     * (sight_encode). Rebuilt by index_existing() in the same transaction.
     */
    "DROP TABLE IF EXISTS sightings;"
    "CREATE TABLE sightings("
    " old INTEGER NOT NULL, of_n INTEGER NOT NULL, coll INTEGER NOT NULL,"
    " idh INTEGER NOT NULL, vsec INTEGER NOT NULL, vns INTEGER NOT NULL,"
    " rid INTEGER NOT NULL REFERENCES objects(rid) ON DELETE CASCADE,"
    " s BLOB NOT NULL,"
    " PRIMARY KEY(old, of_n, coll, idh, vsec, vns, rid)) WITHOUT ROWID;"
    "CREATE INDEX sightings_rid ON sightings(rid);"
    "CREATE INDEX sightings_version ON sightings(coll, idh, vsec, vns, rid);"
    "CREATE TRIGGER sightings_newest AFTER DELETE ON sightings"
    " WHEN OLD.old = 0 BEGIN"
    " UPDATE sightings SET old = 0 WHERE old = 1 AND rid = (SELECT rid"
    " FROM sightings WHERE coll = OLD.coll AND idh = OLD.idh"
    " ORDER BY vsec DESC, vns DESC, rid DESC LIMIT 1);"
    " END;",
    /*
     * 12: object versions in a table of their own (docs/store.md): the
     * (coll, idh, vsec, vns, salt) index on objects took each new row at
     * a random place as it was written; `versions` takes a put's rows
     * sorted, after its objects, in the same transaction, and a deleted
     * object's row goes with it (the trigger, cascades included).
     * Rebuilt from the objects' own columns, so it can run again.
     */
    "DROP TABLE IF EXISTS versions;"
    "DROP TRIGGER IF EXISTS objects_versions;"
    "CREATE TABLE versions("
    " coll INTEGER NOT NULL, idh INTEGER NOT NULL,"
    " vsec INTEGER NOT NULL, vns INTEGER NOT NULL, salt INTEGER NOT NULL,"
    " rid INTEGER NOT NULL,"
    " PRIMARY KEY(coll, idh, vsec, vns, salt)) WITHOUT ROWID;"
    "INSERT INTO versions(coll, idh, vsec, vns, salt, rid)"
    " SELECT coll, idh, vsec, vns, salt, rid FROM objects"
    " ORDER BY coll, idh, vsec, vns, salt;"
    "DROP INDEX IF EXISTS objects_version;"
    "CREATE TRIGGER objects_versions AFTER DELETE ON objects BEGIN"
    " DELETE FROM versions WHERE coll = OLD.coll AND idh = OLD.idh"
    " AND vsec = OLD.vsec AND vns = OLD.vns AND salt = OLD.salt"
    " AND rid = OLD.rid;"
    " END;",
};

/* The migration after which index_existing() runs: it (re)builds the
 * correlation index and the sighting summaries of the rows stored. */
#define MIGRATION_KEYS 7
/* The migration after which index_existing() rebuilds the summaries. */
#define MIGRATION_SUMMARIES 11

#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

int cairn_store_schema_latest(void)
{
    return N_MIGRATIONS;
}

/* Status item kinds. */
enum { ITEM_SUCCESS = 0, ITEM_FAILURE = 1, ITEM_PENDING = 2 };

/* The fixed statements, prepared on first use and kept. */
enum stmt_id {
    S_COLL_PK,
    S_LAST_ADDED,
    S_SET_LAST_ADDED,
    S_INSERT_OBJ,
    S_FIND_OBJ,
    S_MAX_RID,
    S_INSERT_VER,
    S_INSERT_VERS,
    S_VER_RID,
    S_STATUS_COUNTS,
    S_HAS_PENDING,
    S_STATUS_ADD,
    S_ITEM_UPDATE,
    S_ITEM_INSERT,
    S_INSERT_KEY,
    S_INSERT_KEYS,
    S_FIND_KEY,
    S_INSERT_SIGHT,
    S_SIGHT_NEWEST,
    S_SIGHT_AGE,
    S_NAME_FIND,
    S_NAME_ADD,
    S_NAME_GET,
    S_INSERT_FLAG,
    S_COUNT
};

/* S_INSERT_KEYS's rows: KEYS_PER_INSERT pairs of parameters. */
#define KEYS_8                                                                 \
    "(?,?),(?,?),(?,?),(?,?),(?,?),(?,?),(?,?),(?,?)"
#define KEYS_PER_INSERT 32
/* S_INSERT_VERS's rows: VERS_PER_INSERT of five parameters, at salt 0. */
#define VERS_4                                                                 \
    "(?,?,?,?,0,?),(?,?,?,?,0,?),(?,?,?,?,0,?),(?,?,?,?,0,?)"
#define VERS_PER_INSERT 32

static const char *const stmt_sql[S_COUNT] = {
    [S_COLL_PK] = "SELECT pk FROM collections WHERE id = ?1",
    [S_LAST_ADDED] = "SELECT last_added FROM collections WHERE pk = ?1",
    [S_SET_LAST_ADDED] = "UPDATE collections SET last_added = ?2 WHERE pk = ?1",
    [S_INSERT_OBJ] = "INSERT INTO objects(coll, date_added, idh,"
                     " id, type, spec_version, vsec, vns, created, modified,"
                     " json, salt, rid)"
                     " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
                     " ?12, ?13)",
    [S_FIND_OBJ] = "SELECT o.id, o.json, v.salt FROM versions v"
                   " CROSS JOIN objects o ON o.rid = v.rid"
                   " WHERE v.coll = ?1 AND v.idh = ?2 AND v.vsec = ?3"
                   " AND v.vns = ?4",
    [S_MAX_RID] = "SELECT max(rid) FROM objects",
    [S_INSERT_VER] = "INSERT OR IGNORE INTO versions(coll, idh, vsec, vns,"
                     " salt, rid) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [S_INSERT_VERS] = "INSERT OR IGNORE INTO versions(coll, idh, vsec, vns,"
                      " salt, rid) VALUES" VERS_4 "," VERS_4 "," VERS_4 ","
                      VERS_4 "," VERS_4 "," VERS_4 "," VERS_4 "," VERS_4,
    [S_VER_RID] = "SELECT rid FROM versions WHERE coll = ?1 AND idh = ?2"
                  " AND vsec = ?3 AND vns = ?4 AND salt = 0",
    [S_STATUS_COUNTS] =
        "SELECT total, success, failure FROM statuses WHERE id = ?1",
    [S_HAS_PENDING] = "SELECT 1 FROM status_items INDEXED BY"
                      " status_items_pending WHERE status = ?1"
                      " AND kind = 2 LIMIT 1",
    [S_STATUS_ADD] = "UPDATE statuses SET success = success + ?2,"
                     " failure = failure + ?3 WHERE id = ?1",
    [S_ITEM_UPDATE] = "UPDATE status_items INDEXED BY status_items_pending"
                      " SET kind = ?4, message = ?5"
                      " WHERE status = ?1 AND obj_id = ?2 AND version = ?3"
                      " AND kind = 2",
    [S_ITEM_INSERT] = "INSERT INTO status_items(status, obj_id, version,"
                      " kind, message) VALUES(?1, ?2, ?3, ?4, ?5)",
    [S_INSERT_KEY] = "INSERT OR IGNORE INTO obj_keys(k, rid) VALUES(?1, ?2)",
    [S_INSERT_KEYS] = "INSERT OR IGNORE INTO obj_keys(k, rid) VALUES" KEYS_8
                      "," KEYS_8 "," KEYS_8 "," KEYS_8,
    [S_FIND_KEY] = "SELECT o.date_added, o.id, o.type, o.spec_version,"
                   " o.created, o.modified, o.json, c.id, f.list, f.value"
                   " FROM obj_keys k"
                   " JOIN objects o ON o.rid = k.rid"
                   " JOIN collections c ON c.pk = o.coll"
                   " LEFT JOIN flags f ON f.rid = k.rid WHERE k.k = ?1",
    [S_INSERT_SIGHT] = "INSERT OR IGNORE INTO sightings(old, of_n, coll, idh,"
                       " vsec, vns, rid, s)"
                       " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [S_SIGHT_NEWEST] = "SELECT vsec, vns, rid FROM sightings"
                       " WHERE coll = ?1 AND idh = ?2"
                       " ORDER BY vsec DESC, vns DESC, rid DESC LIMIT 1",
    [S_SIGHT_AGE] = "UPDATE sightings SET old = 1"
                    " WHERE coll = ?1 AND idh = ?2 AND old = 0",
    [S_NAME_FIND] = "SELECT n FROM names WHERE name = ?1",
    [S_NAME_ADD] = "INSERT INTO names(name) VALUES(?1)",
    [S_NAME_GET] = "SELECT name FROM names WHERE n = ?1",
    [S_INSERT_FLAG] = "INSERT OR REPLACE INTO flags(rid, list, value)"
                      " VALUES(?1, ?2, ?3)",
};

/* Statements built from a query's shape, kept by their text. */
#define DYN_CACHE 16

struct dyn_stmt {
    char *sql;
    sqlite3_stmt *stmt;
};

struct sq_file;

/* One entry of the correlation index: a key and the row that carries it. */
struct key_row {
    int64_t k;
    int64_t rid;
};

struct sq_store {
    struct cairn_store base;
    sqlite3 *db;
    struct sq_file *file; /* shared with this process's other handles */
    bool writing;         /* inside begin_write .. finish */
    bool fk_off;          /* foreign keys could not be turned back on */
    bool mapped;          /* reads through mmap (sq_sightings_scan) */
    int busy_ms;          /* how long a writer waits for the others */
    sqlite3_stmt *stmts[S_COUNT];
    struct dyn_stmt dyn[DYN_CACHE];
    size_t dyn_next;
    struct key_row *krows; /* a put's index entries, sorted before insert */
    size_t krows_alloc;
    struct key_row *vrows; /* a put's (idh, object), sorted before insert */
    size_t vrows_alloc;
    struct key_row *sort_tmp; /* sort_rows's other half */
    size_t sort_tmp_alloc;
    unsigned char *vstate; /* per object of a put: enum ver_state */
    size_t vstate_alloc;
};

static struct sq_store *sq(struct cairn_store *s)
{
    return (struct sq_store *)s;
}

static int map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return 0;
    case SQLITE_NOMEM:
        return CAIRN_ENOMEM;
    case SQLITE_CONSTRAINT:
        return CAIRN_EEXIST;
    case SQLITE_TOOBIG:
        return CAIRN_ETOOBIG;
    case SQLITE_MISUSE:
    case SQLITE_RANGE:
        return CAIRN_EINTERNAL;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return CAIRN_EBUSY;
    default:
        return CAIRN_EIO;
    }
}

static int exec(struct sq_store *s, const char *sql)
{
    return map_rc(sqlite3_exec(s->db, sql, NULL, NULL, NULL));
}

static int get_stmt(struct sq_store *s, enum stmt_id id, sqlite3_stmt **out)
{
    if (s->stmts[id] == NULL) {
        int rc =
            sqlite3_prepare_v3(s->db, stmt_sql[id], -1,
                               SQLITE_PREPARE_PERSISTENT, &s->stmts[id], NULL);
        if (rc != SQLITE_OK)
            return map_rc(rc);
    }
    *out = s->stmts[id];
    return 0;
}

/* A statement for `sql` from the cache, prepared when new. */
static int get_dyn(struct sq_store *s, const char *sql, sqlite3_stmt **out)
{
    for (size_t i = 0; i < DYN_CACHE; i++) {
        if (s->dyn[i].sql != NULL && strcmp(s->dyn[i].sql, sql) == 0) {
            *out = s->dyn[i].stmt;
            return 0;
        }
    }
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
                                NULL);
    if (rc != SQLITE_OK)
        return map_rc(rc);
    char *copy = cairn_strdup(sql);
    if (copy == NULL) {
        sqlite3_finalize(st);
        return CAIRN_ENOMEM;
    }
    struct dyn_stmt *d = &s->dyn[s->dyn_next];
    s->dyn_next = (s->dyn_next + 1) % DYN_CACHE;
    sqlite3_finalize(d->stmt);
    cairn_free(d->sql);
    d->sql = copy;
    d->stmt = st;
    *out = st;
    return 0;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v == NULL)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

/*
 * A growing result array with room for element `cnt`: `arr` itself while
 * it fits, else reallocated to twice `*alloc`. NULL when out of memory,
 * with `arr` and `*alloc` left as they were.
 */
static void *grow_array(void *arr, size_t *alloc, size_t cnt, size_t elem)
{
    if (cnt < *alloc)
        return arr;
    size_t na = *alloc ? 2 * *alloc : 8;
    void *p = cairn_realloc(arr, na * elem);
    if (p != NULL)
        *alloc = na;
    return p;
}

static char *col_dup(sqlite3_stmt *st, int i, int *rc)
{
    const unsigned char *v = sqlite3_column_text(st, i);
    if (v == NULL)
        return NULL;
    char *p =
        cairn_strndup((const char *)v, (size_t)sqlite3_column_bytes(st, i));
    if (p == NULL)
        *rc = CAIRN_ENOMEM;
    return p;
}

/* Run a statement that returns no rows, then reset it. */
static int step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : map_rc(rc);
}

/* ---- one database file, many handles -------------------------------------
 *
 * SQLite lets one connection write at a time and makes the others poll
 * for the lock, sleeping between tries (up to 100 ms at a time). Every
 * handle this process opens on one file shares an sq_file: its writer lock
 * makes the process's writers take turns without sleeping, and only
 * another process's writer is waited for through SQLite's busy handler.
 * The sq_file also queues object puts for group commit (sq_put_objects).
 */

/* One cairn_store_put_objects call waiting to be written. */
struct put_req {
    const char *collection;
    struct store_obj *objs;
    size_t n;
    const char *status_id;
    struct cairn_store_result *res;
    int rc;
    bool taken; /* in a leader's group: it will be written, wait for it */
    bool done;  /* written (or failed); set by whoever wrote it */
    struct put_req *next;
};

struct sq_file {
    dev_t dev;
    ino_t ino;
    pid_t pid;    /* a child after fork() does not share the parent's */
    bool relaxed; /* synchronous=NORMAL: grouped only with its like */
    int refs;
    bool shared;                /* in the list below; a private one is not */
    pthread_mutex_t write_lock; /* held from BEGIN to COMMIT or ROLLBACK */
    pthread_mutex_t mu;         /* guards the queue and `leading` */
    pthread_cond_t cv;          /* a group was written */
    struct put_req *head, *tail;
    bool leading; /* some put is writing a group */
    struct sq_file *next;
};

static pthread_mutex_t files_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sq_file *files;

static struct sq_file *file_new(void)
{
    struct sq_file *f = cairn_calloc(1, sizeof *f);
    if (f == NULL)
        return NULL;
    f->refs = 1;
    pthread_mutex_init(&f->write_lock, NULL);
    pthread_mutex_init(&f->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->cv, &ca);
    pthread_condattr_destroy(&ca);
    return f;
}

/* `ms` from now on `clock`, for the timed waits below. */
static struct timespec deadline_in(clockid_t clock, int ms)
{
    struct timespec t;
    clock_gettime(clock, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

/*
 * Take the writer lock, waiting as long as SQLite's busy handler would for
 * another process: a writer stuck on a hung disk makes the others fail
 * with CAIRN_EIO, not hang with it.
 */
static int lock_writer(struct sq_store *s)
{
    /* timedlock counts on the realtime clock; a clock step only makes the
     * wait shorter or longer, never endless. */
    struct timespec until = deadline_in(CLOCK_REALTIME, s->busy_ms);
    if (pthread_mutex_timedlock(&s->file->write_lock, &until) == 0)
        return 0;
    cairn_log(CAIRN_LOG_ERROR,
              "store: gave up after %d ms waiting for another writer of "
              "this process",
              s->busy_ms);
    return CAIRN_EBUSY;
}

static void file_destroy(struct sq_file *f)
{
    pthread_mutex_destroy(&f->write_lock);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    cairn_free(f);
}

/*
 * The sq_file of the open database: shared by device and inode among the
 * handles of this process with the same durability (a put must not be
 * committed with another handle's weaker synchronous setting); private for
 * an in-memory or temporary database. NULL when out of memory.
 */
static struct sq_file *file_get(sqlite3 *db, bool relaxed)
{
    const char *name = sqlite3_db_filename(db, "main");
    struct stat st;
    if (name == NULL || name[0] == '\0' || stat(name, &st) != 0)
        return file_new();
    pid_t pid = getpid();
    pthread_mutex_lock(&files_mu);
    struct sq_file *f = files;
    while (f != NULL && (f->dev != st.st_dev || f->ino != st.st_ino ||
                         f->pid != pid || f->relaxed != relaxed))
        f = f->next;
    if (f != NULL) {
        f->refs++;
    } else if ((f = file_new()) != NULL) {
        f->dev = st.st_dev;
        f->ino = st.st_ino;
        f->pid = pid;
        f->relaxed = relaxed;
        f->shared = true;
        f->next = files;
        files = f;
    }
    pthread_mutex_unlock(&files_mu);
    return f;
}

static void file_put(struct sq_file *f)
{
    if (f == NULL)
        return;
    pthread_mutex_lock(&files_mu);
    bool last = --f->refs == 0;
    if (last && f->shared) {
        struct sq_file **p = &files;
        while (*p != f)
            p = &(*p)->next;
        *p = f->next;
    }
    pthread_mutex_unlock(&files_mu);
    if (last)
        file_destroy(f);
}

/* Foreign keys on before a write, if turning them back on failed once. */
static int fk_ready(struct sq_store *s)
{
    if (s->fk_off && (s->fk_off = exec(s, "PRAGMA foreign_keys=ON") < 0))
        return CAIRN_ENOMEM;
    return 0;
}

static int begin_write(struct sq_store *s)
{
    if (fk_ready(s) < 0)
        return CAIRN_ENOMEM;
    int rc = lock_writer(s);
    if (rc < 0)
        return rc;
    /* IMMEDIATE takes the write lock now, so a writer never has to give
     * up half-way because another one got it first. */
    rc = exec(s, "BEGIN IMMEDIATE");
    if (rc < 0)
        pthread_mutex_unlock(&s->file->write_lock);
    else
        s->writing = true;
    return rc;
}

/* Commit when rc is 0, else roll back; releases the writer lock. */
static int finish(struct sq_store *s, int rc)
{
    if (rc == 0)
        rc = exec(s, "COMMIT");
    if (rc < 0)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    if (s->writing) {
        s->writing = false;
        pthread_mutex_unlock(&s->file->write_lock);
    }
    return rc;
}

/* A write of one statement: its own transaction, under the writer lock
 * unless inside a write already. */
static int write_alone(struct sq_store *s, sqlite3_stmt *st)
{
    if (s->writing)
        return step_done(st);
    if (fk_ready(s) < 0) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return CAIRN_ENOMEM;
    }
    int rc = lock_writer(s);
    if (rc < 0) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return rc;
    }
    rc = step_done(st);
    pthread_mutex_unlock(&s->file->write_lock);
    return rc;
}

/*
 * Turn foreign keys back on after a write that needed them off. The write's
 * outcome stands either way (a committed write is durable); if the pragma
 * fails (out of memory), the handle refuses to write until it succeeds, so
 * no later delete runs without its cascades.
 */
static int fk_on(struct sq_store *s, int rc)
{
    s->fk_off = exec(s, "PRAGMA foreign_keys=ON") < 0;
    return rc;
}

/* ---- open, migrate, close ----------------------------------------------- */

static int read_version(struct sq_store *s, int *out)
{
    sqlite3_stmt *st = NULL;
    *out = 0;
    int rc =
        sqlite3_prepare_v2(s->db,
                           "SELECT 1 FROM sqlite_master WHERE type='table' AND"
                           " name='schema_version'",
                           -1, &st, NULL);
    if (rc != SQLITE_OK)
        return map_rc(rc);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        return map_rc(rc);
    rc = sqlite3_prepare_v2(s->db, "SELECT version FROM schema_version", -1,
                            &st, NULL);
    if (rc != SQLITE_OK)
        return map_rc(rc);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : CAIRN_EIO;
}

static int insert_keys(struct sq_store *s, int64_t rid, const int64_t *keys,
                       size_t n);
static int insert_sight(struct sq_store *s, int64_t pk, int64_t idh,
                        int64_t vsec, int64_t vns, int64_t rid,
                        const struct store_sight *sg);

struct key_list {
    int64_t **keys;
    size_t *alloc;
    size_t n;
};

static int key_list_add(void *ud, uint64_t key)
{
    struct key_list *kl = ud;
    int64_t *p = grow_array(*kl->keys, kl->alloc, kl->n, sizeof *p);
    if (p == NULL)
        return CAIRN_ENOMEM;
    *kl->keys = p;
    p[kl->n++] = (int64_t)key;
    return 0;
}

/*
 * Fill the correlation index (`keys`) or the sighting summaries (else)
 * for the rows a store held before them. The summaries' table took its
 * present form in migration 11: earlier ones leave it to that one.
 */
static int index_existing(struct sq_store *s, bool keys_only)
{
    sqlite3_stmt *st = NULL;
    int64_t *keys = NULL;
    size_t alloc = 0, rows = 0;
    struct cairn_arena *a = NULL;
    int rc = sqlite3_prepare_v2(s->db,
                                keys_only
                                    ? "SELECT rid, json, coll, idh, vsec, vns"
                                      " FROM objects"
                                    : "SELECT rid, json, coll, idh, vsec, vns"
                                      " FROM objects WHERE type = 'sighting'",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return map_rc(rc);
    rc = 0;
    int step;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        json_error_t e;
        json_t *obj = json_loadb((const char *)sqlite3_column_text(st, 1),
                                 (size_t)sqlite3_column_bytes(st, 1), 0, &e);
        if (obj == NULL)
            continue;
        int64_t rid = sqlite3_column_int64(st, 0);
        struct key_list kl = {.keys = &keys, .alloc = &alloc};
        if (keys_only)
            rc = cairn_value_object_keys(obj, key_list_add, &kl);
        if (rc == 0 && keys_only)
            rc = insert_keys(s, rid, keys, kl.n);
        struct store_sight sg;
        if (rc == 0 && !keys_only)
            rc = cairn_arena_new(0, &a);
        if (rc == 0 && !keys_only)
            rc = cairn__store_sight_read(obj, a, &sg);
        if (rc == 1)
            rc = insert_sight(s, sqlite3_column_int64(st, 2),
                              sqlite3_column_int64(st, 3),
                              sqlite3_column_int64(st, 4),
                              sqlite3_column_int64(st, 5), rid, &sg);
        cairn_arena_free(a);
        a = NULL;
        json_decref(obj);
        rows++;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = map_rc(step);
    sqlite3_finalize(st);
    cairn_free(keys);
    if (rc == 0 && rows > 0)
        cairn_log(CAIRN_LOG_INFO, "store: %s of %zu stored objects",
                  keys_only ? "indexed the values" : "summarised the sightings",
                  rows);
    return rc;
}

static int migrate(struct sq_store *s)
{
    /* Up to date (the usual open): no need to queue behind the writers. */
    int v;
    int rc = read_version(s, &v);
    if (rc == 0 && v == N_MIGRATIONS)
        return 0;
    rc = begin_write(s);
    if (rc < 0)
        return rc;
    /* Again under the lock: another opener may have migrated meanwhile. */
    rc = read_version(s, &v);
    if (rc == 0 && v > N_MIGRATIONS)
        rc = CAIRN_EUNSUPPORTED;
    if (rc == 0 && v == 0)
        rc = exec(s, "CREATE TABLE schema_version(version INTEGER NOT NULL);"
                     "INSERT INTO schema_version VALUES(0)");
    for (; rc == 0 && v < N_MIGRATIONS; v++) {
        rc = exec(s, migrations[v]);
        if (rc == 0 && v + 1 == MIGRATION_KEYS)
            rc = index_existing(s, true);
        if (rc == 0 && v + 1 == MIGRATION_SUMMARIES)
            rc = index_existing(s, false);
        if (rc == 0) {
            char sql[64];
            snprintf(sql, sizeof sql, "UPDATE schema_version SET version=%d",
                     v + 1);
            rc = exec(s, sql);
        }
        if (rc < 0)
            cairn_log(CAIRN_LOG_ERROR, "store: migration %d failed: %s", v + 1,
                      sqlite3_errmsg(s->db));
    }
    return finish(s, rc);
}

static const struct store_ops sqlite_ops;

static void sq_close(struct cairn_store *base)
{
    struct sq_store *s = sq(base);
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(s->stmts[i]);
    for (size_t i = 0; i < DYN_CACHE; i++) {
        sqlite3_finalize(s->dyn[i].stmt);
        cairn_free(s->dyn[i].sql);
    }
    sqlite3_close(s->db);
    file_put(s->file);
    cairn_free(s->krows);
    cairn_free(s->vrows);
    cairn_free(s->sort_tmp);
    cairn_free(s->vstate);
    cairn_free(s);
}

/*
 * SQLite's memory statistics take a global mutex around every allocation,
 * a few percent of a bulk import; cairn never reads them. This must run
 * before SQLite initialises, i.e. before the first connection opens.
 */
static pthread_once_t sqlite_config_once = PTHREAD_ONCE_INIT;

static void sqlite_config(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int cairn__store_sqlite_open(const char *path,
                             const struct cairn_store_opts *opts,
                             struct cairn_store **out)
{
    int rc = CAIRN_ENOMEM;
    pthread_once(&sqlite_config_once, sqlite_config);
    struct sq_store *s = cairn_calloc(1, sizeof *s);
    if (s == NULL)
        return rc;
    s->base.ops = &sqlite_ops;
    rc = CAIRN_EIO;
    int flags =
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        cairn_log(CAIRN_LOG_ERROR, "store: cannot open %s: %s", path,
                  s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto out;
    }
    sqlite3_extended_result_codes(s->db, 1);
    s->busy_ms = opts->busy_timeout_ms > 0 ? opts->busy_timeout_ms : 10000;
    sqlite3_busy_timeout(s->db, s->busy_ms);
    /*
     * 32 KiB pages (taking effect in a new file only) halve the time of
     * bulk inserts against 4 KiB ones: fewer, fuller B-tree pages for the
     * random-id index. FULL makes COMMIT wait for the WAL on disk; see
     * docs/store.md for why that, not NORMAL, is the default. Checkpoints
     * every 8,192 pages (256 MiB of WAL) rather than 1,000: commits on a
     * large collection rewrite the same index pages again and again, and
     * a checkpoint copies each page once however often it was rewritten;
     * 15% off a POST-heavy load.
     */
    char pragmas[256];
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA page_size=32768; PRAGMA journal_mode=WAL;"
             " PRAGMA synchronous=%s;"
             " PRAGMA foreign_keys=ON; PRAGMA cache_size=-%d;"
             " PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=8192;",
             opts->relaxed_sync ? "NORMAL" : "FULL",
             opts->cache_kib > 0 ? opts->cache_kib : 65536);
    if ((rc = exec(s, pragmas)) < 0) {
        cairn_log(CAIRN_LOG_ERROR, "store: %s: %s", path,
                  sqlite3_errmsg(s->db));
        if (rc != CAIRN_ENOMEM)
            rc = CAIRN_EIO;
        goto out;
    }
    s->file = file_get(s->db, opts->relaxed_sync);
    rc = s->file != NULL ? migrate(s) : CAIRN_ENOMEM;
out:
    if (rc < 0) {
        sq_close(&s->base);
        return rc;
    }
    *out = &s->base;
    return 0;
}

static int sq_schema_version(struct cairn_store *base, int *out)
{
    return read_version(sq(base), out);
}

/* ---- API roots --------------------------------------------------------- */

static int sq_api_root_put(struct cairn_store *base,
                           const struct cairn_store_api_root *r)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = NULL;
    int rc = get_dyn(s,
                     "INSERT INTO api_roots VALUES(?1, ?2, ?3, ?4)"
                     " ON CONFLICT(name) DO UPDATE SET title = ?2,"
                     " description = ?3, max_content_length = ?4",
                     &st);
    if (rc < 0)
        return rc;
    bind_text(st, 1, r->name);
    bind_text(st, 2, r->title);
    bind_text(st, 3, r->description);
    sqlite3_bind_int64(st, 4, r->max_content_length);
    return write_alone(s, st);
}

static int read_roots(struct sq_store *s, const char *name,
                      struct cairn_store_api_root **out, size_t *n)
{
    sqlite3_stmt *st = NULL;
    int rc = get_dyn(s,
                     "SELECT name, title, description, max_content_length"
                     " FROM api_roots WHERE ?1 IS NULL OR name = ?1"
                     " ORDER BY name",
                     &st);
    if (rc < 0)
        return rc;
    bind_text(st, 1, name);
    struct cairn_store_api_root *arr = NULL;
    size_t cnt = 0, alloc = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        void *grown = grow_array(arr, &alloc, cnt, sizeof *arr);
        if (grown == NULL) {
            rc = CAIRN_ENOMEM;
            break;
        }
        arr = grown;
        struct cairn_store_api_root *r = &arr[cnt++];
        memset(r, 0, sizeof *r);
        r->name = col_dup(st, 0, &rc);
        r->title = col_dup(st, 1, &rc);
        r->description = col_dup(st, 2, &rc);
        r->max_content_length = sqlite3_column_int64(st, 3);
        if (rc < 0)
            break;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = map_rc(step);
    sqlite3_reset(st);
    if (rc < 0) {
        cairn_store_api_root_list_free(arr, cnt);
        return rc;
    }
    *out = arr;
    *n = cnt;
    return 0;
}

static int sq_api_root_get(struct cairn_store *base, const char *name,
                           struct cairn_store_api_root **out)
{
    size_t n = 0;
    struct cairn_store_api_root *arr = NULL;
    int rc = read_roots(sq(base), name, &arr, &n);
    if (rc == 0 && n == 0)
        rc = CAIRN_ENOTFOUND;
    if (rc == 0)
        *out = arr;
    else
        cairn_store_api_root_list_free(arr, n);
    return rc;
}

static int sq_api_root_list(struct cairn_store *base,
                            struct cairn_store_api_root **out, size_t *n)
{
    return read_roots(sq(base), NULL, out, n);
}

/* ---- collections -----------------------------------------------------------
 */

static int coll_pk(struct sq_store *s, const char *id, int64_t *pk)
{
    sqlite3_stmt *st = NULL;
    int rc = get_stmt(s, S_COLL_PK, &st);
    if (rc < 0)
        return rc;
    bind_text(st, 1, id);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *pk = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (step == SQLITE_ROW)
        return 0;
    return step == SQLITE_DONE ? CAIRN_ENOTFOUND : map_rc(step);
}

static int sq_collection_create(struct cairn_store *base,
                                const struct cairn_store_collection *c)
{
    struct sq_store *s = sq(base);
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
    sqlite3_stmt *st = NULL;
    if (rc == 0)
        rc = begin_write(s);
    if (rc < 0)
        goto out;
    rc = get_dyn(s, "SELECT 1 FROM api_roots WHERE name = ?1", &st);
    if (rc == 0) {
        bind_text(st, 1, c->api_root);
        int step = sqlite3_step(st);
        sqlite3_reset(st);
        rc = step == SQLITE_ROW    ? 0
             : step == SQLITE_DONE ? CAIRN_ENOTFOUND
                                   : map_rc(step);
    }
    if (rc == 0)
        rc = get_dyn(s,
                     "INSERT INTO collections(id, api_root, title,"
                     " description, alias, media_types)"
                     " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
                     &st);
    if (rc == 0) {
        bind_text(st, 1, c->id);
        bind_text(st, 2, c->api_root);
        bind_text(st, 3, c->title);
        bind_text(st, 4, c->description);
        bind_text(st, 5, c->alias);
        bind_text(st, 6, types.data ? types.data : "");
        rc = step_done(st);
    }
    rc = finish(s, rc);
out:
    cairn_buf_release(&types);
    return rc;
}

static int read_colls(struct sq_store *s, const char *api_root, const char *id,
                      bool alias, struct cairn_store_collection **out,
                      size_t *n)
{
    sqlite3_stmt *st = NULL;
    /* By alias: the id's own collection first, should an alias equal it. */
    int rc = get_dyn(s,
                     alias ? "SELECT id, api_root, title, description, alias,"
                             " media_types FROM collections"
                             " WHERE api_root = ?1 AND (id = ?2 OR alias = ?2)"
                             " ORDER BY id = ?2 DESC, pk"
                           : "SELECT id, api_root, title, description, alias,"
                             " media_types FROM collections"
                             " WHERE (?1 IS NULL OR api_root = ?1)"
                             " AND (?2 IS NULL OR id = ?2) ORDER BY pk",
                     &st);
    if (rc < 0)
        return rc;
    bind_text(st, 1, api_root);
    bind_text(st, 2, id);
    struct cairn_store_collection *arr = NULL;
    size_t cnt = 0, alloc = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        void *grown = grow_array(arr, &alloc, cnt, sizeof *arr);
        if (grown == NULL) {
            rc = CAIRN_ENOMEM;
            break;
        }
        arr = grown;
        struct cairn_store_collection *c = &arr[cnt++];
        memset(c, 0, sizeof *c);
        snprintf(c->id, sizeof c->id, "%s",
                 (const char *)sqlite3_column_text(st, 0));
        c->api_root = col_dup(st, 1, &rc);
        c->title = col_dup(st, 2, &rc);
        c->description = col_dup(st, 3, &rc);
        c->alias = col_dup(st, 4, &rc);
        const char *types = (const char *)sqlite3_column_text(st, 5);
        for (size_t i = 0; rc == 0 && types != NULL && types[0] != '\0' &&
                           i < CAIRN_STORE_MEDIA_TYPES_MAX;
             i++) {
            const char *nl = strchr(types, '\n');
            size_t len = nl ? (size_t)(nl - types) : strlen(types);
            c->media_types[i] = cairn_strndup(types, len);
            if (c->media_types[i] == NULL)
                rc = CAIRN_ENOMEM;
            types = nl ? nl + 1 : NULL;
        }
        if (rc < 0)
            break;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = map_rc(step);
    sqlite3_reset(st);
    if (rc < 0) {
        cairn_store_collection_list_free(arr, cnt);
        return rc;
    }
    *out = arr;
    *n = cnt;
    return 0;
}

static int sq_collection_get(struct cairn_store *base, const char *api_root,
                             const char *id, bool alias,
                             struct cairn_store_collection **out)
{
    size_t n = 0;
    struct cairn_store_collection *arr = NULL;
    int rc = read_colls(sq(base), api_root, id, alias, &arr, &n);
    if (rc == 0 && n == 0)
        rc = CAIRN_ENOTFOUND;
    if (rc == 0 && n > 1) {
        /* Keep the first: the caller frees element 0 and the array. */
        for (size_t i = 1; i < n; i++)
            cairn__store_collection_clear(&arr[i]);
    }
    if (rc == 0)
        *out = arr;
    else
        cairn_store_collection_list_free(arr, n);
    return rc;
}

static int sq_collection_list(struct cairn_store *base, const char *api_root,
                              struct cairn_store_collection **out, size_t *n)
{
    return read_colls(sq(base), api_root, NULL, false, out, n);
}

static int sq_collection_delete(struct cairn_store *base, const char *id)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = NULL;
    int rc = begin_write(s);
    if (rc < 0)
        return rc;
    rc = get_dyn(s, "DELETE FROM collections WHERE id = ?1", &st);
    if (rc == 0) {
        bind_text(st, 1, id);
        rc = step_done(st);
        if (rc == 0 && sqlite3_changes(s->db) == 0)
            rc = CAIRN_ENOTFOUND;
    }
    return finish(s, rc);
}

/* ---- status helpers (inside a write transaction) ------------------------ */

static int status_check(struct sq_store *s, const char *id, size_t adding)
{
    sqlite3_stmt *st = NULL;
    int rc = get_stmt(s, S_STATUS_COUNTS, &st);
    if (rc < 0)
        return rc;
    bind_text(st, 1, id);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        int64_t room = sqlite3_column_int64(st, 0) -
                       sqlite3_column_int64(st, 1) -
                       sqlite3_column_int64(st, 2);
        rc = (int64_t)adding > room ? CAIRN_EINVAL : 0;
    } else {
        rc = step == SQLITE_DONE ? CAIRN_ENOTFOUND : map_rc(step);
    }
    sqlite3_reset(st);
    return rc;
}

/* Whether the status has items registered as pending (1), or not (0). */
static int has_pending(struct sq_store *s, const char *id)
{
    sqlite3_stmt *st = NULL;
    int rc = get_stmt(s, S_HAS_PENDING, &st);
    if (rc < 0)
        return rc;
    bind_text(st, 1, id);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step == SQLITE_ROW)
        return 1;
    return step == SQLITE_DONE ? 0 : map_rc(step);
}

/*
 * Record outcomes: turn a matching pending item, or add an item. Most
 * statuses (every TAXII POST) name no pending items, and then one INSERT
 * per outcome does, without first trying an UPDATE that cannot match.
 */
static int status_items(struct sq_store *s, const char *id,
                        const struct cairn_store_result *res, size_t n)
{
    sqlite3_stmt *upd = NULL, *ins = NULL, *add = NULL;
    int rc = get_stmt(s, S_ITEM_UPDATE, &upd);
    if (rc == 0)
        rc = get_stmt(s, S_ITEM_INSERT, &ins);
    if (rc == 0)
        rc = get_stmt(s, S_STATUS_ADD, &add);
    int pending = rc == 0 ? has_pending(s, id) : rc;
    if (pending < 0)
        rc = pending;
    int64_t ok = 0, bad = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        int kind =
            res[i].outcome == CAIRN_STORE_FAILED ? ITEM_FAILURE : ITEM_SUCCESS;
        if (kind == ITEM_FAILURE)
            bad++;
        else
            ok++;
        if (pending) {
            bind_text(upd, 1, id);
            bind_text(upd, 2, res[i].id);
            bind_text(upd, 3, res[i].version);
            sqlite3_bind_int(upd, 4, kind);
            bind_text(upd, 5, res[i].message);
            rc = step_done(upd);
        }
        if (rc == 0 && (!pending || sqlite3_changes(s->db) == 0)) {
            bind_text(ins, 1, id);
            bind_text(ins, 2, res[i].id);
            bind_text(ins, 3, res[i].version);
            sqlite3_bind_int(ins, 4, kind);
            bind_text(ins, 5, res[i].message);
            rc = step_done(ins);
        }
    }
    if (rc == 0) {
        bind_text(add, 1, id);
        sqlite3_bind_int64(add, 2, ok);
        sqlite3_bind_int64(add, 3, bad);
        rc = step_done(add);
    }
    return rc;
}

/* ---- objects ------------------------------------------------------------- */

/*
 * Versions are (vsec, vns) integers and ids are known by a 64-bit hash:
 * `versions` rows stay small enough for a million objects' versions to
 * live in the page cache. A put's versions go in first, sorted, at salt
 * 0, with the row ids their objects will take (put_versions): the common
 * case is one INSERT OR IGNORE of 32 rows, each going down the path of
 * the one before. Only when one is refused do we look at the rows with
 * that hash and version (version_taken): the same id means the version is
 * stored already, another id is a hash collision, stored with the next
 * free `salt`. An object with neither modified nor created has its one
 * version at NO_VERSION.
 */
#define NO_VERSION INT64_MIN
#define SALT_MAX   16

static void bind_version(sqlite3_stmt *st, int i, const struct store_obj *o)
{
    sqlite3_bind_int64(st, i, o->vkey[0] ? o->vtime.sec : NO_VERSION);
    sqlite3_bind_int64(st, i + 1, o->vkey[0] ? o->vtime.nsec : 0);
}

/* After a refused insert: 1 when this id and version exist (r is set),
 * 0 when only colliding ids do (*salt = one past the highest salt among
 * them: free even when a colliding row was deleted), or an error. */
static int find_stored(sqlite3_stmt *find, int64_t pk, int64_t idh,
                       struct store_obj *o, struct cairn_store_result *r,
                       int *salt)
{
    sqlite3_bind_int64(find, 1, pk);
    sqlite3_bind_int64(find, 2, idh);
    bind_version(find, 3, o);
    int step, found = 0;
    *salt = 0;
    while ((step = sqlite3_step(find)) == SQLITE_ROW) {
        int taken = sqlite3_column_int(find, 2);
        if (taken >= *salt)
            *salt = taken + 1;
        if (strcmp((const char *)sqlite3_column_text(find, 0), o->id) != 0)
            continue;
        const char *json = (const char *)sqlite3_column_text(find, 1);
        size_t len = (size_t)sqlite3_column_bytes(find, 1);
        int same = cairn__store_same_content(json, len, o);
        if (same < 0) {
            sqlite3_reset(find);
            return same;
        }
        if (same) {
            r->outcome = CAIRN_STORE_EXISTED;
        } else {
            r->outcome = CAIRN_STORE_FAILED;
            cairn__store_result_msg(r, "%s", CAIRN_STORE_CONFLICT_MSG);
        }
        found = 1;
        break;
    }
    sqlite3_reset(find);
    if (found)
        return 1;
    return step == SQLITE_DONE ? 0 : map_rc(step);
}

/* The number of `name` in `names`, added when new. */
static int name_number(struct sq_store *s, const char *name, size_t len,
                       uint32_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = get_stmt(s, S_NAME_FIND, &st);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, name, (int)len, SQLITE_STATIC);
    int step = sqlite3_step(st);
    int64_t n = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return map_rc(step);
    if (step == SQLITE_DONE) {
        rc = get_stmt(s, S_NAME_ADD, &st);
        if (rc < 0)
            return rc;
        sqlite3_bind_text(st, 1, name, (int)len, SQLITE_STATIC);
        rc = step_done(st);
        if (rc < 0)
            return rc;
        n = sqlite3_last_insert_rowid(s->db);
    }
    if (n <= 0 || n > (int64_t)UINT32_MAX)
        return CAIRN_ETOOBIG;
    *out = (uint32_t)n;
    return 0;
}

/*
 * A sighting summary's blob (migration 11), what the report reads of it:
 * a byte of flags (SIGHT_FP, SIGHT_FIRST, SIGHT_LAST), the count, then
 * for each time present its seconds (zigzag) and nanoseconds x 10 + the
 * digits of the fraction as written, then the number of organisations
 * and their numbers in `names`; every integer a LEB128 varint.
 */
enum { SIGHT_FP = 1, SIGHT_FIRST = 2, SIGHT_LAST = 4 };
#define SIGHT_BLOB_MAX (1 + 10 + 2 * 20 + 10 + 5 * CAIRN_STORE_SIGHTING_ORGS_MAX)

static size_t put_varint(unsigned char *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (unsigned char)v;
    return n;
}

static size_t put_time(unsigned char *p, const struct cairn_time *t)
{
    uint64_t sec = (uint64_t)t->sec;
    size_t n = put_varint(p, (sec << 1) ^ (uint64_t)(t->sec >> 63));
    return n + put_varint(p + n, (uint64_t)t->nsec * 10 + (uint64_t)t->digits);
}

/* The next varint of [*p, end); false when it runs past the end or is
 * longer than 64 bits (a damaged blob). */
static bool get_varint(const unsigned char **p, const unsigned char *end,
                       uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; *p < end && shift < 64; shift += 7) {
        unsigned char b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            *out = v;
            return true;
        }
    }
    return false;
}

static bool get_time(const unsigned char **p, const unsigned char *end,
                     struct cairn_time *t)
{
    uint64_t z, f;
    if (!get_varint(p, end, &z) || !get_varint(p, end, &f) ||
        f / 10 > 999999999)
        return false;
    t->sec = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
    t->nsec = (int32_t)(f / 10);
    t->digits = (int8_t)(f % 10);
    return true;
}

/* Add the sighting summary of row `rid`, current unless a newer version
 * of the same sighting is stored, which it makes old otherwise. */
static int insert_sight(struct sq_store *s, int64_t pk, int64_t idh,
                        int64_t vsec, int64_t vns, int64_t rid,
                        const struct store_sight *sg)
{
    unsigned char blob[SIGHT_BLOB_MAX];
    uint32_t of_n = 0;
    struct cairn_time first, last;
    bool has_first = sg->first != NULL &&
                     cairn_time_parse(sg->first, strlen(sg->first), true,
                                      &first) == 0;
    bool has_last = sg->last != NULL &&
                    cairn_time_parse(sg->last, strlen(sg->last), true,
                                     &last) == 0;
    size_t len = 1;
    blob[0] = (unsigned char)((sg->fp ? SIGHT_FP : 0) |
                              (has_first ? SIGHT_FIRST : 0) |
                              (has_last ? SIGHT_LAST : 0));
    len += put_varint(blob + len, sg->count > 0 ? (uint64_t)sg->count : 0);
    if (has_first)
        len += put_time(blob + len, &first);
    if (has_last)
        len += put_time(blob + len, &last);
    uint32_t orgs[CAIRN_STORE_SIGHTING_ORGS_MAX];
    size_t n_orgs = 0;
    int rc = name_number(s, sg->of_ref, strlen(sg->of_ref), &of_n);
    for (const char *p = sg->orgs != NULL ? sg->orgs : "";
         rc == 0 && *p != '\0' && n_orgs < CAIRN_STORE_SIGHTING_ORGS_MAX;) {
        size_t olen = strcspn(p, " ");
        if (olen > 0)
            rc = name_number(s, p, olen, &orgs[n_orgs]);
        n_orgs += olen > 0 && rc == 0;
        p += olen;
        p += *p == ' ';
    }
    len += put_varint(blob + len, n_orgs);
    for (size_t i = 0; i < n_orgs; i++)
        len += put_varint(blob + len, orgs[i]);
    /* current, unless a newer version of this sighting is stored */
    sqlite3_stmt *st = NULL;
    bool old = false, older = false;
    if (rc == 0)
        rc = get_stmt(s, S_SIGHT_NEWEST, &st);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, pk);
    sqlite3_bind_int64(st, 2, idh);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        int64_t v[3] = {sqlite3_column_int64(st, 0),
                        sqlite3_column_int64(st, 1),
                        sqlite3_column_int64(st, 2)};
        int64_t w[3] = {vsec, vns, rid};
        int c = 0;
        for (int i = 0; c == 0 && i < 3; i++)
            c = v[i] < w[i] ? -1 : v[i] > w[i];
        old = c > 0;
        older = c < 0;
    }
    sqlite3_reset(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return map_rc(step);
    if (older) {
        rc = get_stmt(s, S_SIGHT_AGE, &st);
        if (rc < 0)
            return rc;
        sqlite3_bind_int64(st, 1, pk);
        sqlite3_bind_int64(st, 2, idh);
        rc = step_done(st);
        if (rc < 0)
            return rc;
    }
    rc = get_stmt(s, S_INSERT_SIGHT, &st);
    if (rc < 0)
        return rc;
    sqlite3_bind_int(st, 1, old ? 1 : 0);
    sqlite3_bind_int64(st, 2, of_n);
    sqlite3_bind_int64(st, 3, pk);
    sqlite3_bind_int64(st, 4, idh);
    sqlite3_bind_int64(st, 5, vsec);
    sqlite3_bind_int64(st, 6, vns);
    sqlite3_bind_int64(st, 7, rid);
    sqlite3_bind_blob(st, 8, blob, (int)len, SQLITE_STATIC);
    return step_done(st);
}

/* Flag row `rid` as on a warninglist. */
static int insert_flag(struct sq_store *s, int64_t rid, const char *list,
                       const char *value)
{
    sqlite3_stmt *st = NULL;
    int rc = get_stmt(s, S_INSERT_FLAG, &st);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, rid);
    bind_text(st, 2, list);
    bind_text(st, 3, value != NULL ? value : "");
    return step_done(st);
}

/* Add the index entries of row `rid`. */
static int insert_keys(struct sq_store *s, int64_t rid, const int64_t *keys,
                       size_t n)
{
    sqlite3_stmt *st = NULL;
    int rc = get_stmt(s, S_INSERT_KEY, &st);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        sqlite3_bind_int64(st, 1, keys[i]);
        sqlite3_bind_int64(st, 2, rid);
        rc = step_done(st);
    }
    return rc;
}

/* Keep the index entries of row `rid` for insert_key_rows. */
static int key_rows_add(struct sq_store *s, size_t *n, int64_t rid,
                        const int64_t *keys, size_t n_keys)
{
    for (size_t i = 0; i < n_keys; i++) {
        struct key_row *p =
            grow_array(s->krows, &s->krows_alloc, *n, sizeof *p);
        if (p == NULL)
            return CAIRN_ENOMEM;
        s->krows = p;
        p[(*n)++] = (struct key_row){keys[i], rid};
    }
    return 0;
}

/*
 * Sort `n` rows by k as SQLite orders integers, rows of equal k in the
 * order they came: a radix sort, a byte at a time from the lowest, with a
 * byte all rows share skipped. Linear, where qsort was 5% of a writer.
 */
static int sort_rows(struct sq_store *s, struct key_row *a, size_t n)
{
    if (n > s->sort_tmp_alloc) {
        struct key_row *p = cairn_realloc(s->sort_tmp, n * sizeof *p);
        if (p == NULL)
            return CAIRN_ENOMEM;
        s->sort_tmp = p;
        s->sort_tmp_alloc = n;
    }
    struct key_row *src = a, *dst = s->sort_tmp;
    for (unsigned shift = 0; shift < 64; shift += 8) {
        size_t count[256] = {0};
        for (size_t i = 0; i < n; i++)
            count[(((uint64_t)src[i].k ^ (UINT64_C(1) << 63)) >> shift) &
                  0xff]++;
        size_t sum = 0;
        bool one = false;
        for (int b = 0; b < 256; b++) {
            size_t c = count[b];
            one |= c == n;
            count[b] = sum;
            sum += c;
        }
        if (one)
            continue;
        for (size_t i = 0; i < n; i++) {
            unsigned b =
                (((uint64_t)src[i].k ^ (UINT64_C(1) << 63)) >> shift) & 0xff;
            dst[count[b]++] = src[i];
        }
        struct key_row *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * sizeof *a);
    return 0;
}

/*
 * Insert the `n` entries kept by key_rows_add, in key order. The keys are
 * hashes, so in the order the objects come they land all over the index
 * and every insert walks to a page that is cold in the CPU's caches;
 * sorted, each one goes down the path of the one before. A put's entries
 * are still in its own transaction: the index stays current.
 */
static int insert_key_rows(struct sq_store *s, size_t n)
{
    sqlite3_stmt *st = NULL;
    size_t i = 0;
    int rc = 0;
    if (n == 0)
        return 0;
    /* Rows were kept in row id order: equal keys stay in it. */
    rc = sort_rows(s, s->krows, n);
    /* Many rows per statement: one statement's setup for 32 rows. */
    if (rc == 0 && n >= KEYS_PER_INSERT)
        rc = get_stmt(s, S_INSERT_KEYS, &st);
    for (; rc == 0 && n - i >= KEYS_PER_INSERT; i += KEYS_PER_INSERT) {
        for (int j = 0; j < KEYS_PER_INSERT; j++) {
            sqlite3_bind_int64(st, 2 * j + 1, s->krows[i + (size_t)j].k);
            sqlite3_bind_int64(st, 2 * j + 2, s->krows[i + (size_t)j].rid);
        }
        rc = step_done(st);
    }
    if (rc == 0 && i < n)
        rc = get_stmt(s, S_INSERT_KEY, &st);
    for (; rc == 0 && i < n; i++) {
        sqlite3_bind_int64(st, 1, s->krows[i].k);
        sqlite3_bind_int64(st, 2, s->krows[i].rid);
        rc = step_done(st);
    }
    return rc;
}

/* What put_versions found for each object of a put. */
enum ver_state {
    V_SKIP,    /* failed before: its result is filled in */
    V_NEW,     /* its versions row is in at salt 0: store it */
    V_REFUSED, /* salt 0 was taken: version_taken decides */
};

static int64_t vsec_of(const struct store_obj *o)
{
    return o->vkey[0] ? o->vtime.sec : NO_VERSION;
}

static int64_t vns_of(const struct store_obj *o)
{
    return o->vkey[0] ? o->vtime.nsec : 0;
}

/* Mark V_REFUSED the objects of vrows[from, to) whose salt-0 row is not
 * the one they would have put in (row id base + i): after an insert of
 * them that added fewer rows than it was given. */
static int find_refused(struct sq_store *s, int64_t pk, int64_t base,
                        const struct put_req *r, size_t from, size_t to)
{
    sqlite3_stmt *st = NULL;
    int rc = get_stmt(s, S_VER_RID, &st);
    for (size_t j = from; rc == 0 && j < to; j++) {
        int64_t i = s->vrows[j].rid;
        sqlite3_bind_int64(st, 1, pk);
        sqlite3_bind_int64(st, 2, s->vrows[j].k);
        bind_version(st, 3, &r->objs[i]);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            if (sqlite3_column_int64(st, 0) != base + i)
                s->vstate[i] = V_REFUSED;
        } else {
            rc = step == SQLITE_DONE ? CAIRN_EINTERNAL : map_rc(step);
        }
        sqlite3_reset(st);
    }
    return rc;
}

/* Bind row j of s->vrows to five parameters of S_INSERT_VERS from `p`
 * on: coll, idh, vsec, vns, rid (the text has salt 0). */
static void bind_ver_row(struct sq_store *s, sqlite3_stmt *st, int p,
                         int64_t pk, int64_t base, const struct put_req *r,
                         size_t j)
{
    int64_t i = s->vrows[j].rid;
    sqlite3_bind_int64(st, p, pk);
    sqlite3_bind_int64(st, p + 1, s->vrows[j].k);
    bind_version(st, p + 2, &r->objs[i]);
    sqlite3_bind_int64(st, p + 4, base + i);
}

/*
 * The versions rows of a put's objects, each at salt 0 with the row id
 * base + i its object will take, inserted in key order (as
 * insert_key_rows does, and for the same reason); sets s->vstate[i]. Of
 * objects with the same hash and version, the first in the put gets the
 * row and the later ones are refused, as is one whose version a stored
 * row holds. Sorted by hash alone, objects with one hash keep their order
 * in the put: a few rows out of order in one leaf, no matter.
 */
static int put_versions(struct sq_store *s, int64_t pk, int64_t base,
                        const struct put_req *r)
{
    size_t n = 0, i = 0;
    int rc = 0;
    if (r->n > s->vrows_alloc) {
        struct key_row *p = cairn_realloc(s->vrows, r->n * sizeof *p);
        if (p == NULL)
            return CAIRN_ENOMEM;
        s->vrows = p;
        s->vrows_alloc = r->n;
    }
    for (size_t k = 0; k < r->n; k++)
        if (s->vstate[k] == V_NEW)
            s->vrows[n++] = (struct key_row){r->objs[k].idh, (int64_t)k};
    if (n == 0)
        return 0;
    rc = sort_rows(s, s->vrows, n);
    sqlite3_stmt *st = NULL;
    if (rc == 0 && n >= VERS_PER_INSERT)
        rc = get_stmt(s, S_INSERT_VERS, &st);
    for (; rc == 0 && n - i >= VERS_PER_INSERT; i += VERS_PER_INSERT) {
        for (int j = 0; j < VERS_PER_INSERT; j++)
            bind_ver_row(s, st, 5 * j + 1, pk, base, r, i + (size_t)j);
        rc = step_done(st);
        if (rc == 0 && sqlite3_changes(s->db) < VERS_PER_INSERT)
            rc = find_refused(s, pk, base, r, i, i + VERS_PER_INSERT);
    }
    if (rc == 0 && i < n)
        rc = get_stmt(s, S_INSERT_VER, &st);
    for (; rc == 0 && i < n; i++) {
        sqlite3_bind_int(st, 5, 0); /* salt */
        int64_t k = s->vrows[i].rid;
        sqlite3_bind_int64(st, 1, pk);
        sqlite3_bind_int64(st, 2, s->vrows[i].k);
        bind_version(st, 3, &r->objs[k]);
        sqlite3_bind_int64(st, 6, base + k);
        rc = step_done(st);
        if (rc == 0 && sqlite3_changes(s->db) == 0)
            s->vstate[k] = V_REFUSED;
    }
    return rc;
}

/*
 * An object refused by put_versions: 1 when its id and version are stored
 * (r is set), 0 when it is not and now has its versions row at the next
 * free salt, with row id `rid`; or an error.
 */
static int version_taken(struct sq_store *s, int64_t pk, struct store_obj *o,
                         int64_t rid, struct cairn_store_result *r,
                         int *salt)
{
    sqlite3_stmt *find = NULL, *ins = NULL;
    int rc = get_stmt(s, S_FIND_OBJ, &find);
    if (rc == 0)
        rc = get_stmt(s, S_INSERT_VER, &ins);
    if (rc == 0)
        rc = find_stored(find, pk, o->idh, o, r, salt);
    if (rc != 0)
        return rc;
    /* Refused, yet no row holds salt 0: never take a salt blindly. */
    if (*salt <= 0 || *salt >= SALT_MAX)
        return CAIRN_EINTERNAL;
    sqlite3_bind_int64(ins, 1, pk);
    sqlite3_bind_int64(ins, 2, o->idh);
    bind_version(ins, 3, o);
    sqlite3_bind_int(ins, 5, *salt);
    sqlite3_bind_int64(ins, 6, rid);
    rc = step_done(ins);
    if (rc == 0 && sqlite3_changes(s->db) != 1)
        rc = CAIRN_EINTERNAL;
    return rc;
}

/* The row of object `o`, whose versions row is in, at row id `rid`. */
static int put_one(struct sq_store *s, int64_t pk, const struct store_obj *o,
                   int64_t rid, int salt, int64_t *last)
{
    sqlite3_stmt *ins = NULL;
    int rc = get_stmt(s, S_INSERT_OBJ, &ins);
    if (rc < 0)
        return rc;
    int64_t added = cairn__store_next_added(*last);
    sqlite3_bind_int64(ins, 1, pk);
    sqlite3_bind_int64(ins, 2, added);
    sqlite3_bind_int64(ins, 3, o->idh);
    bind_text(ins, 4, o->id);
    bind_text(ins, 5, o->type);
    bind_text(ins, 6, o->spec_version);
    bind_version(ins, 7, o);
    bind_text(ins, 9, o->created);
    bind_text(ins, 10, o->modified);
    sqlite3_bind_text(ins, 11, o->json, (int)o->json_len, SQLITE_STATIC);
    sqlite3_bind_int(ins, 12, salt);
    sqlite3_bind_int64(ins, 13, rid);
    rc = step_done(ins);
    if (rc == 0)
        *last = added;
    return rc;
}

/*
 * One put inside a group's transaction. An error before any row is written
 * (no such collection or status, or a status without room for these
 * outcomes) is this put's alone; once *wrote is set, an error spoils the
 * whole transaction.
 */
static int put_request(struct sq_store *s, const struct put_req *r, bool *wrote)
{
    int64_t pk = 0, last = 0, base = 1;
    size_t n_krows = 0;
    sqlite3_stmt *st = NULL;
    *wrote = false;
    int rc = coll_pk(s, r->collection, &pk);
    if (rc == 0 && r->status_id != NULL)
        rc = status_check(s, r->status_id, r->n);
    /* Read under the write lock: no other writer can interleave, so the
     * high-water mark orders date_added across processes too. */
    if (rc == 0)
        rc = get_stmt(s, S_LAST_ADDED, &st);
    if (rc == 0) {
        sqlite3_bind_int64(st, 1, pk);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW)
            last = sqlite3_column_int64(st, 0);
        else
            rc = step == SQLITE_DONE ? CAIRN_ENOTFOUND : map_rc(step);
        sqlite3_reset(st);
    }
    /* Object i takes row id base + i if stored: the rows to come are
     * known before they are written, so their versions go in first. */
    if (rc == 0)
        rc = get_stmt(s, S_MAX_RID, &st);
    if (rc == 0) {
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW)
            base = sqlite3_column_int64(st, 0) + 1;
        else
            rc = map_rc(step);
        sqlite3_reset(st);
    }
    if (rc == 0 && r->n > s->vstate_alloc) {
        unsigned char *p = cairn_realloc(s->vstate, r->n);
        if (p == NULL)
            rc = CAIRN_ENOMEM;
        else {
            s->vstate = p;
            s->vstate_alloc = r->n;
        }
    }
    if (rc < 0)
        return rc;
    int max_len = sqlite3_limit(s->db, SQLITE_LIMIT_LENGTH, -1);
    for (size_t i = 0; i < r->n; i++) {
        s->vstate[i] = r->objs[i].failed ? V_SKIP : V_NEW;
        /* Past SQLite's longest value the text would bind as NULL. */
        if (!r->objs[i].failed && r->objs[i].json_len >= (size_t)max_len) {
            s->vstate[i] = V_SKIP;
            r->res[i].outcome = CAIRN_STORE_FAILED;
            cairn__store_result_msg(&r->res[i],
                                    "the object is too large to store");
        }
    }
    *wrote = true;
    rc = put_versions(s, pk, base, r);
    for (size_t i = 0; rc == 0 && i < r->n; i++) {
        if (s->vstate[i] == V_SKIP)
            continue;
        const struct store_obj *o = &r->objs[i];
        int64_t rid = base + (int64_t)i;
        int salt = 0;
        if (s->vstate[i] == V_REFUSED) {
            rc = version_taken(s, pk, &r->objs[i], rid, &r->res[i], &salt);
            if (rc != 0) {
                rc = rc < 0 ? rc : 0;
                continue;
            }
        }
        rc = put_one(s, pk, o, rid, salt, &last);
        if (rc < 0)
            continue;
        r->res[i].outcome = CAIRN_STORE_STORED;
        if (o->n_keys > 0)
            rc = key_rows_add(s, &n_krows, rid, o->keys, o->n_keys);
        if (rc == 0 && o->sight != NULL)
            rc = insert_sight(s, pk, o->idh, vsec_of(o), vns_of(o), rid,
                              o->sight);
        if (rc == 0 && o->flag_list != NULL)
            rc = insert_flag(s, rid, o->flag_list, o->flag_value);
    }
    if (rc == 0)
        rc = insert_key_rows(s, n_krows);
    if (rc == 0)
        rc = get_stmt(s, S_SET_LAST_ADDED, &st);
    if (rc == 0) {
        sqlite3_bind_int64(st, 1, pk);
        sqlite3_bind_int64(st, 2, last);
        rc = step_done(st);
    }
    if (rc == 0 && r->status_id != NULL)
        rc = status_items(s, r->status_id, r->res, r->n);
    return rc;
}

/* Write the puts of `group` in one transaction; each gets its rc. */
static void write_group(struct sq_store *s, struct put_req *group)
{
    /*
     * Foreign keys would look the collection (and the status) up again for
     * every row. Both are read under the write lock, so no one can delete
     * them before the commit; the pragma cannot change inside a
     * transaction, hence off here and on again after it.
     */
    int rc = exec(s, "PRAGMA foreign_keys=OFF");
    if (rc == 0)
        rc = begin_write(s);
    for (struct put_req *r = group; rc == 0 && r != NULL; r = r->next) {
        bool wrote;
        r->rc = put_request(s, r, &wrote);
        /*
         * A missing collection or status, or a status without room, is
         * this put's alone. Anything else (I/O, memory) may have rolled
         * the whole transaction back already, as SQLite does on such
         * errors even in a read: then the group fails together.
         */
        if (r->rc < 0 &&
            (wrote || (r->rc != CAIRN_ENOTFOUND && r->rc != CAIRN_EINVAL) ||
             sqlite3_get_autocommit(s->db)))
            rc = r->rc;
    }
    rc = fk_on(s, finish(s, rc));
    for (struct put_req *r = group; rc < 0 && r != NULL; r = r->next)
        if (r->rc == 0)
            r->rc = rc;
}

/* Take `me`, not yet taken by a leader, out of the queue (f->mu held). */
static void unqueue(struct sq_file *f, struct put_req *me)
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

/* Objects in one group transaction, at most (a bigger put goes alone). */
#define GROUP_MAX CAIRN_STORE_BATCH_MAX

/*
 * Group commit. A put joins the file's queue. If no put is being written,
 * it takes the queue (up to GROUP_MAX objects, oldest first) and writes
 * it in one transaction on its own handle; otherwise it waits, and is
 * written with the next group. Under load, one commit (which writes every
 * index page its rows touched, and fsyncs) serves many callers; alone, a
 * put is written at once, as before. Each put still succeeds or fails as
 * a whole, and returns only once it is durable.
 */
static int sq_put_objects(struct cairn_store *base, const char *collection,
                          struct store_obj *objs, size_t n,
                          const char *status_id, struct cairn_store_result *res)
{
    struct sq_store *s = sq(base);
    struct sq_file *f = s->file;
    struct put_req me = {.collection = collection,
                         .objs = objs,
                         .n = n,
                         .status_id = status_id,
                         .res = res};

    struct timespec until = deadline_in(CLOCK_MONOTONIC, s->busy_ms);
    pthread_mutex_lock(&f->mu);
    if (f->tail != NULL)
        f->tail->next = &me;
    else
        f->head = &me;
    f->tail = &me;
    while (!me.done) {
        if (f->leading) {
            /* Once taken, a put is being written: wait for its outcome.
             * Until then, give up as a busy database would. */
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
        /* `me` is still queued: a put taken by a leader is done before
         * `leading` is cleared. */
        f->leading = true;
        struct put_req *group = f->head, *end = group;
        size_t total = group->n;
        while (end->next != NULL && total + end->next->n <= GROUP_MAX) {
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
        /* A leader that wrote others' group waits afresh for its own. */
        until = deadline_in(CLOCK_MONOTONIC, s->busy_ms);

        pthread_mutex_lock(&f->mu);
        for (struct put_req *r = group, *next; r != NULL; r = next) {
            next = r->next; /* r may be gone once it is done */
            r->done = true;
        }
        f->leading = false;
        pthread_cond_broadcast(&f->cv);
    }
    pthread_mutex_unlock(&f->mu);
    return me.rc;
}

/*
 * The WHERE clause of a query, with `?` placeholders that bind_where fills
 * in the same order. "first" and "last" look at the other versions of the
 * same object through `versions`, keyed (coll, idh, vsec, vns).
 */
static int in_list(struct cairn_buf *b, const char *col, size_t n)
{
    int rc = cairn_buf_printf(b, " AND %s IN (", col);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = cairn_buf_puts(b, i ? ",?" : "?");
    if (rc == 0)
        rc = cairn_buf_putc(b, ')');
    return rc;
}

static int other_versions(struct cairn_buf *b, const struct store_q *q,
                          const char *cmp)
{
    int rc = cairn_buf_printf(b,
                              "NOT EXISTS (SELECT 1 FROM versions x"
                              " CROSS JOIN objects v ON v.rid = x.rid WHERE"
                              " x.coll = o.coll AND x.idh = o.idh AND"
                              " (x.vsec, x.vns) %s (o.vsec, o.vns) AND"
                              " v.id = o.id",
                              cmp);
    if (rc == 0 && q->q->n_spec_versions > 0)
        rc = in_list(b, "v.spec_version", q->q->n_spec_versions);
    if (rc == 0)
        rc = cairn_buf_putc(b, ')');
    return rc;
}

static int build_where(struct cairn_buf *b, const struct store_q *q)
{
    const struct cairn_store_query *u = q->q;
    int rc = cairn_buf_puts(b, u->n_ids > 0
                                   ? " WHERE w.coll = ? AND o.date_added > ?"
                                   : " WHERE o.coll = ? AND o.date_added > ?");
    if (rc == 0 && u->n_ids > 0)
        rc = in_list(b, "w.idh", u->n_ids);
    if (rc == 0 && u->n_ids > 0)
        rc = in_list(b, "o.id", u->n_ids);
    if (rc == 0 && u->n_types > 0)
        rc = in_list(b, "o.type", u->n_types);
    if (rc == 0 && u->n_spec_versions > 0)
        rc = in_list(b, "o.spec_version", u->n_spec_versions);
    if (rc < 0 || (q->versions & CAIRN_STORE_VERSION_ALL))
        return rc;
    const char *sep = " AND (";
    if (q->versions & CAIRN_STORE_VERSION_LAST) {
        rc = cairn_buf_puts(b, sep);
        if (rc == 0)
            rc = other_versions(b, q, ">");
        sep = " OR ";
    }
    if (rc == 0 && (q->versions & CAIRN_STORE_VERSION_FIRST)) {
        rc = cairn_buf_puts(b, sep);
        if (rc == 0)
            rc = other_versions(b, q, "<");
        sep = " OR ";
    }
    for (size_t i = 0; rc == 0 && i < q->n_vkeys; i++) {
        rc = cairn_buf_printf(b, "%s(o.vsec = ? AND o.vns = ?)", sep);
        sep = " OR ";
    }
    if (rc == 0)
        rc = cairn_buf_putc(b, ')');
    return rc;
}

static void bind_list(sqlite3_stmt *st, int *i, const char *const *l, size_t n)
{
    for (size_t k = 0; k < n; k++)
        bind_text(st, (*i)++, l[k]);
}

static int bind_where(sqlite3_stmt *st, const struct store_q *q, int64_t pk)
{
    const struct cairn_store_query *u = q->q;
    int i = 1;
    sqlite3_bind_int64(st, i++, pk);
    sqlite3_bind_int64(st, i++, q->after_us);
    for (size_t k = 0; k < u->n_ids; k++)
        sqlite3_bind_int64(st, i++, cairn__store_id_hash(u->ids[k]));
    bind_list(st, &i, u->ids, u->n_ids);
    bind_list(st, &i, u->types, u->n_types);
    bind_list(st, &i, u->spec_versions, u->n_spec_versions);
    if (q->versions & CAIRN_STORE_VERSION_ALL)
        return i;
    if (q->versions & CAIRN_STORE_VERSION_LAST)
        bind_list(st, &i, u->spec_versions, u->n_spec_versions);
    if (q->versions & CAIRN_STORE_VERSION_FIRST)
        bind_list(st, &i, u->spec_versions, u->n_spec_versions);
    for (size_t k = 0; k < q->n_vkeys; k++) {
        sqlite3_bind_int64(st, i++, u->version_times[k].sec);
        sqlite3_bind_int64(st, i++, u->version_times[k].nsec);
    }
    return i;
}

static const char *col_str(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

/* An object row from seven columns starting at `c`: date_added, id, type,
   spec_version, created, modified, json. */
static void read_row(sqlite3_stmt *st, int c, struct cairn_store_row *row)
{
    row->date_added = cairn__store_us_time(sqlite3_column_int64(st, c));
    row->id = col_str(st, c + 1);
    row->type = col_str(st, c + 2);
    row->spec_version = col_str(st, c + 3);
    row->created = col_str(st, c + 4);
    row->modified = col_str(st, c + 5);
    row->version = row->modified ? row->modified : row->created;
    row->json = col_str(st, c + 6);
    row->json_len = (size_t)sqlite3_column_bytes(st, c + 6);
}

/*
 * The rows a query reads. With match[id], through `versions` (as `w`) by
 * the ids' hashes: the planner, which has no statistics, would otherwise
 * walk the whole collection in date_added order to find a handful of rows.
 */
static const char *from_rows(const struct store_q *q)
{
    return q->q->n_ids > 0
               ? " FROM versions w CROSS JOIN objects o ON o.rid = w.rid"
               : " FROM objects o";
}

static int sq_query(struct cairn_store *base, const struct store_q *q,
                    const struct store_row_sink *sink)
{
    struct sq_store *s = sq(base);
    int64_t pk;
    int rc = coll_pk(s, q->q->collection, &pk);
    if (rc < 0)
        return rc;
    struct cairn_buf sql;
    cairn_buf_init(&sql, 64 * 1024);
    rc = cairn_buf_printf(&sql,
                          "SELECT o.date_added, o.id, o.type, o.spec_version,"
                          " o.created, o.modified, %s%s",
                          q->q->with_json ? "o.json" : "NULL", from_rows(q));
    if (rc == 0)
        rc = build_where(&sql, q);
    if (rc == 0)
        rc = cairn_buf_puts(&sql, " ORDER BY o.date_added LIMIT ?");
    sqlite3_stmt *st = NULL;
    if (rc == 0)
        rc = get_dyn(s, sql.data, &st);
    if (rc < 0)
        goto out;
    int i = bind_where(st, q, pk);
    sqlite3_bind_int64(st, i, (int64_t)q->limit + 1);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct cairn_store_row row = {0};
        row.id = col_str(st, 1);
        row.type = col_str(st, 2);
        row.spec_version = col_str(st, 3);
        row.created = col_str(st, 4);
        row.modified = col_str(st, 5);
        row.version = row.modified ? row.modified : row.created;
        row.json = col_str(st, 6);
        row.json_len = (size_t)sqlite3_column_bytes(st, 6);
        rc = sink->row(sink->ud, &row, sqlite3_column_int64(st, 0));
        if (rc != 0)
            break;
    }
    if (rc > 0)
        rc = 0;
    else if (rc == 0 && step != SQLITE_DONE)
        rc = map_rc(step);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
out:
    cairn_buf_release(&sql);
    return rc;
}

/* cairn_store_scan: one statement stepped through, rows handed in place. */
static int sq_scan(struct cairn_store *base, const char *collection,
                   const char *type, int64_t after_us, cairn_store_scan_cb cb,
                   void *ud)
{
    struct sq_store *s = sq(base);
    int64_t pk;
    int rc = coll_pk(s, collection, &pk);
    if (rc < 0)
        return rc;
    sqlite3_stmt *st = NULL;
    rc = get_dyn(s,
                 type != NULL
                     ? "SELECT date_added, id, json FROM objects"
                       " WHERE coll = ?1 AND date_added > ?2 AND type = ?3"
                       " ORDER BY date_added"
                     : "SELECT date_added, id, json FROM objects"
                       " WHERE coll = ?1 AND date_added > ?2"
                       " ORDER BY date_added",
                 &st);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, pk);
    sqlite3_bind_int64(st, 2, after_us);
    if (type != NULL)
        bind_text(st, 3, type);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct cairn_store_row row = {0};
        row.date_added = cairn__store_us_time(sqlite3_column_int64(st, 0));
        row.id = col_str(st, 1);
        row.json = col_str(st, 2);
        row.json_len = (size_t)sqlite3_column_bytes(st, 2);
        if (row.id == NULL || row.json == NULL) {
            rc = CAIRN_ENOMEM;
            break;
        }
        rc = cb(&row, ud);
        if (rc != 0)
            break;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = map_rc(step);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

static int sq_keys_find(struct cairn_store *base, int64_t key,
                        const struct store_hit_sink *sink)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = NULL;
    int rc = get_stmt(s, S_FIND_KEY, &st);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, key);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct cairn_store_row row = {0};
        read_row(st, 0, &row);
        row.flag_list = col_str(st, 8);
        row.flag_value = col_str(st, 9);
        rc = sink->hit(sink->ud, col_str(st, 7), &row);
        if (rc != 0)
            break;
    }
    if (rc > 0)
        rc = 0;
    else if (rc == 0 && step != SQLITE_DONE)
        rc = map_rc(step);
    sqlite3_reset(st);
    return rc;
}

/* Names and collection ids by number, read as a scan meets them. */
struct scan_names {
    char **names; /* by number; NULL: not read yet */
    size_t n_names;
    int64_t *pks;
    char (*ids)[CAIRN_UUID_STRLEN];
    size_t n_colls;
};

static void scan_names_free(struct scan_names *x)
{
    for (size_t i = 0; i < x->n_names; i++)
        cairn_free(x->names[i]);
    cairn_free(x->names);
    cairn_free(x->pks);
    cairn_free(x->ids);
}

static int scan_colls(struct sq_store *s, struct scan_names *x)
{
    sqlite3_stmt *st = NULL;
    size_t alloc = 0;
    int rc = get_dyn(s, "SELECT pk, id FROM collections", &st);
    if (rc < 0)
        return rc;
    int step;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        size_t a2 = alloc;
        int64_t *p = grow_array(x->pks, &alloc, x->n_colls, sizeof *p);
        void *q = p == NULL ? NULL
                            : grow_array(x->ids, &a2, x->n_colls,
                                         sizeof *x->ids);
        if (p != NULL)
            x->pks = p;
        if (q != NULL)
            x->ids = q;
        if (p == NULL || q == NULL) {
            rc = CAIRN_ENOMEM;
            break;
        }
        const char *id = col_str(st, 1);
        x->pks[x->n_colls] = sqlite3_column_int64(st, 0);
        snprintf(x->ids[x->n_colls++], CAIRN_UUID_STRLEN, "%s",
                 id != NULL ? id : "");
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = map_rc(step);
    sqlite3_reset(st);
    return rc;
}

static const char *coll_id_of(const struct scan_names *x, int64_t pk)
{
    for (size_t i = 0; i < x->n_colls; i++)
        if (x->pks[i] == pk)
            return x->ids[i];
    return NULL;
}

/* The name numbered n; NULL when there is none (*rc set on an error). */
static const char *name_of(struct sq_store *s, struct scan_names *x,
                           uint32_t n, int *rc)
{
    if (n < x->n_names && x->names[n] != NULL)
        return x->names[n];
    if (n >= x->n_names) {
        size_t nn = x->n_names ? x->n_names : 1024;
        while (nn <= n)
            nn *= 2;
        char **p = cairn_realloc(x->names, nn * sizeof *p);
        if (p == NULL) {
            *rc = CAIRN_ENOMEM;
            return NULL;
        }
        memset(p + x->n_names, 0, (nn - x->n_names) * sizeof *p);
        x->names = p;
        x->n_names = nn;
    }
    sqlite3_stmt *st = NULL;
    int r = get_stmt(s, S_NAME_GET, &st);
    if (r < 0) {
        *rc = r;
        return NULL;
    }
    sqlite3_bind_int64(st, 1, n);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        x->names[n] = col_dup(st, 0, &r);
        if (r < 0)
            *rc = r;
    } else if (step != SQLITE_DONE) {
        *rc = map_rc(step);
    }
    sqlite3_reset(st);
    return x->names[n];
}

static int sq_sightings_scan(struct cairn_store *base, const char *of,
                             bool with_json,
                             const struct store_sight_sink *sink)
{
    struct sq_store *s = sq(base);
    struct scan_names x = {0};
    const char *orgs[CAIRN_STORE_SIGHTING_ORGS_MAX];
    uint32_t org_ns[CAIRN_STORE_SIGHTING_ORGS_MAX];
    char sql[900];
    /* the current versions alone, each object's sightings together */
    snprintf(sql, sizeof sql,
             "SELECT g.coll, g.idh, g.vsec, g.vns, g.of_n, g.s%s"
             " FROM sightings g%s WHERE g.old = 0%s"
             " ORDER BY g.of_n, g.coll, g.idh",
             with_json ? ", o.date_added, o.id, o.type, o.spec_version,"
                         " o.created, o.modified, o.json"
                       : "",
             with_json ? " JOIN objects o ON o.rid = g.rid" : "",
             of != NULL ? " AND g.of_n = (SELECT n FROM names"
                          " WHERE name = ?1)"
                        : "");
    sqlite3_stmt *st = NULL;
    /* A scan reads the table from the file's pages in place rather than
     * copying each into the page cache (which costs as much as the
     * scan); SQLite caps the size at what it was built for. */
    if (!s->mapped)
        s->mapped = exec(s, "PRAGMA mmap_size=1099511627776") == 0;
    int rc = scan_colls(s, &x);
    if (rc == 0)
        rc = get_dyn(s, sql, &st);
    if (rc < 0)
        goto out;
    if (of != NULL)
        bind_text(st, 1, of);
    int step;
    int64_t last_pk = INT64_MIN;
    const char *coll = NULL;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct cairn_store_row row = {0};
        uint32_t of_n = (uint32_t)sqlite3_column_int64(st, 4);
        int64_t pk = sqlite3_column_int64(st, 0);
        if (pk != last_pk) {
            coll = coll_id_of(&x, pk);
            last_pk = pk;
        }
        struct store_sight_row r = {
            .collection = coll,
            .idh = sqlite3_column_int64(st, 1),
            .vsec = sqlite3_column_int64(st, 2),
            .vns = sqlite3_column_int64(st, 3),
            .sight = {.of_ref = name_of(s, &x, of_n, &rc)},
            .parsed = true,
            .of_n = of_n,
            .orgs = orgs,
            .org_ns = org_ns,
        };
        const unsigned char *p = sqlite3_column_blob(st, 5);
        const unsigned char *end =
            p != NULL ? p + sqlite3_column_bytes(st, 5) : NULL;
        uint64_t cnt = 0, n_orgs = 0;
        unsigned flags = p != NULL && p < end ? *p++ : 0;
        /* a damaged blob: the sighting is left out, as a row without
         * an object (below) */
        bool ok = p != NULL && get_varint(&p, end, &cnt) &&
                  (!(flags & SIGHT_FIRST) || get_time(&p, end, &r.first)) &&
                  (!(flags & SIGHT_LAST) || get_time(&p, end, &r.last)) &&
                  get_varint(&p, end, &n_orgs);
        r.sight.fp = (flags & SIGHT_FP) != 0;
        r.sight.count = cnt > INT64_MAX ? INT64_MAX : (int64_t)cnt;
        r.has_first = (flags & SIGHT_FIRST) != 0;
        r.has_last = (flags & SIGHT_LAST) != 0;
        for (uint64_t i = 0; ok && rc == 0 && i < n_orgs &&
                             r.n_orgs < CAIRN_STORE_SIGHTING_ORGS_MAX;
             i++) {
            uint64_t n;
            ok = get_varint(&p, end, &n) && n <= UINT32_MAX;
            const char *name = ok ? name_of(s, &x, (uint32_t)n, &rc) : NULL;
            if (name != NULL) {
                org_ns[r.n_orgs] = (uint32_t)n;
                orgs[r.n_orgs++] = name;
            }
        }
        if (rc < 0)
            break;
        if (with_json) {
            read_row(st, 6, &row);
            r.row = &row;
        }
        if (!ok || r.collection == NULL || r.sight.of_ref == NULL)
            continue;
        rc = sink->row(sink->ud, &r);
        if (rc != 0)
            break;
    }
    if (rc > 0)
        rc = 0;
    else if (rc == 0 && step != SQLITE_DONE)
        rc = map_rc(step);
    sqlite3_reset(st);
out:
    scan_names_free(&x);
    return rc;
}

static int sq_delete_objects(struct cairn_store *base, const struct store_q *q,
                             size_t *deleted)
{
    struct sq_store *s = sq(base);
    int64_t pk;
    struct cairn_buf sql;
    cairn_buf_init(&sql, 64 * 1024);
    int rc = begin_write(s);
    if (rc < 0)
        return rc;
    rc = coll_pk(s, q->q->collection, &pk);
    if (rc == 0)
        rc = cairn_buf_printf(&sql,
                              "DELETE FROM objects WHERE rid IN"
                              " (SELECT o.rid%s",
                              from_rows(q));
    if (rc == 0)
        rc = build_where(&sql, q);
    if (rc == 0)
        rc = cairn_buf_putc(&sql, ')');
    sqlite3_stmt *st = NULL;
    if (rc == 0)
        rc = get_dyn(s, sql.data, &st);
    if (rc == 0) {
        bind_where(st, q, pk);
        rc = step_done(st);
    }
    if (rc == 0)
        *deleted = (size_t)sqlite3_changes(s->db);
    cairn_buf_release(&sql);
    return finish(s, rc);
}

/* ---- status resources ------------------------------------------------------
 */

static int sq_status_new(struct cairn_store *base, const char *id,
                         const char *collection, const char *user,
                         int64_t request_us, int64_t total)
{
    struct sq_store *s = sq(base);
    int64_t pk;
    int rc = coll_pk(s, collection, &pk);
    sqlite3_stmt *st = NULL;
    if (rc == 0)
        rc = get_dyn(s,
                     "INSERT INTO statuses(id, coll, user, request_ts, total)"
                     " VALUES(?1, ?2, ?3, ?4, ?5)",
                     &st);
    if (rc < 0)
        return rc;
    bind_text(st, 1, id);
    bind_text(st, 2, collection);
    bind_text(st, 3, user);
    sqlite3_bind_int64(st, 4, request_us);
    sqlite3_bind_int64(st, 5, total);
    return write_alone(s, st);
}

static int sq_status_add_pending(struct cairn_store *base, const char *id,
                                 const struct cairn_store_result *items,
                                 size_t n)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *ins = NULL;
    int rc = begin_write(s);
    if (rc < 0)
        return rc;
    rc = status_check(s, id, 0);
    if (rc == 0)
        rc = get_stmt(s, S_ITEM_INSERT, &ins);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        bind_text(ins, 1, id);
        bind_text(ins, 2, items[i].id);
        bind_text(ins, 3, items[i].version);
        sqlite3_bind_int(ins, 4, ITEM_PENDING);
        bind_text(ins, 5, "");
        rc = step_done(ins);
    }
    return finish(s, rc);
}

static int sq_status_record(struct cairn_store *base, const char *id,
                            const struct cairn_store_result *results, size_t n)
{
    struct sq_store *s = sq(base);
    int rc = begin_write(s);
    if (rc < 0)
        return rc;
    rc = status_check(s, id, n);
    if (rc == 0)
        rc = status_items(s, id, results, n);
    return finish(s, rc);
}

static int sq_status_abandon_pending(struct cairn_store *base,
                                     const char *message, size_t *count)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *items = NULL, *counts = NULL;
    int rc = begin_write(s);
    if (rc < 0)
        return rc;
    rc = get_dyn(s,
                 "UPDATE status_items SET kind = 1, message = ?1"
                 " WHERE kind = 2 AND status IN (SELECT id FROM statuses"
                 " WHERE success + failure < total)",
                 &items);
    if (rc == 0) {
        bind_text(items, 1, message);
        rc = step_done(items);
    }
    if (rc == 0)
        rc = get_dyn(s,
                     "UPDATE statuses SET failure = total - success"
                     " WHERE success + failure < total",
                     &counts);
    if (rc == 0)
        rc = step_done(counts);
    if (rc == 0)
        *count = (size_t)sqlite3_changes(s->db);
    return finish(s, rc);
}

static int sq_status_get(struct cairn_store *base, const char *id,
                         struct cairn_store_status **out)
{
    struct sq_store *s = sq(base);
    struct cairn_store_status *stt = cairn_calloc(1, sizeof *stt);
    if (stt == NULL)
        return CAIRN_ENOMEM;
    sqlite3_stmt *st = NULL;
    /* One read transaction, so counters and lists agree. */
    int rc = exec(s, "BEGIN");
    if (rc < 0) {
        cairn_free(stt);
        return rc;
    }
    rc = get_dyn(s,
                 "SELECT coll, user, request_ts, total, success, failure"
                 " FROM statuses WHERE id = ?1",
                 &st);
    if (rc == 0) {
        bind_text(st, 1, id);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            snprintf(stt->id, sizeof stt->id, "%s", id);
            stt->collection = col_dup(st, 0, &rc);
            stt->user = col_dup(st, 1, &rc);
            stt->request_timestamp =
                cairn__store_us_time(sqlite3_column_int64(st, 2));
            stt->total = sqlite3_column_int64(st, 3);
            stt->success = sqlite3_column_int64(st, 4);
            stt->failure = sqlite3_column_int64(st, 5);
        } else {
            rc = step == SQLITE_DONE ? CAIRN_ENOTFOUND : map_rc(step);
        }
        sqlite3_reset(st);
    }
    if (rc == 0)
        rc = get_dyn(s,
                     "SELECT kind, obj_id, version, message FROM status_items"
                     " WHERE status = ?1 ORDER BY rowid",
                     &st);
    if (rc == 0) {
        bind_text(st, 1, id);
        size_t alloc[3] = {0, 0, 0};
        int step;
        while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
            struct cairn_store_result r = {0};
            int kind = sqlite3_column_int(st, 0);
            r.outcome =
                kind == ITEM_FAILURE ? CAIRN_STORE_FAILED : CAIRN_STORE_STORED;
            snprintf(r.id, sizeof r.id, "%s", col_str(st, 1));
            snprintf(r.version, sizeof r.version, "%s", col_str(st, 2));
            snprintf(r.message, sizeof r.message, "%s", col_str(st, 3));
            if (kind == ITEM_SUCCESS)
                rc = cairn__store_result_push(&stt->successes,
                                              &stt->n_successes, &alloc[0], &r);
            else if (kind == ITEM_FAILURE)
                rc = cairn__store_result_push(&stt->failures, &stt->n_failures,
                                              &alloc[1], &r);
            else
                rc = cairn__store_result_push(&stt->pendings, &stt->n_pendings,
                                              &alloc[2], &r);
        }
        if (rc == 0 && step != SQLITE_DONE)
            rc = map_rc(step);
        sqlite3_reset(st);
    }
    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    if (rc < 0) {
        cairn_store_status_free(stt);
        return rc;
    }
    *out = stt;
    return 0;
}

/* ---- users, tokens, rights ---------------------------------------------- */

/* Run a one-statement write binding up to three strings. */
static int write3(struct sq_store *s, const char *sql, const char *a,
                  const char *b, const char *c, int *changes)
{
    sqlite3_stmt *st = NULL;
    int rc = get_dyn(s, sql, &st);
    if (rc < 0)
        return rc;
    bind_text(st, 1, a);
    bind_text(st, 2, b);
    bind_text(st, 3, c);
    sqlite3_bind_int64(st, 4, cairn__store_now_us());
    rc = write_alone(s, st);
    if (changes != NULL)
        *changes = sqlite3_changes(s->db);
    return rc;
}

/* The first column of the first row as a string; CAIRN_ENOTFOUND. */
static int read1(struct sq_store *s, const char *sql, const char *a,
                 const char *b, char **out)
{
    sqlite3_stmt *st = NULL;
    int rc = get_dyn(s, sql, &st);
    if (rc < 0)
        return rc;
    bind_text(st, 1, a);
    bind_text(st, 2, b);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *out = col_dup(st, 0, &rc);
    else
        rc = step == SQLITE_DONE ? CAIRN_ENOTFOUND : map_rc(step);
    sqlite3_reset(st);
    return rc;
}

static int sq_user_add(struct cairn_store *base, const char *name,
                       const char *hash)
{
    return write3(sq(base),
                  "INSERT INTO users(name, hash, created) VALUES(?1, ?2, ?4)",
                  name, hash, NULL, NULL);
}

static int sq_user_set_hash(struct cairn_store *base, const char *name,
                            const char *hash)
{
    int changes = 0;
    int rc = write3(sq(base), "UPDATE users SET hash = ?2 WHERE name = ?1",
                    name, hash, NULL, &changes);
    return rc == 0 && changes == 0 ? CAIRN_ENOTFOUND : rc;
}

static int sq_user_hash(struct cairn_store *base, const char *name, char **out)
{
    return read1(sq(base), "SELECT hash FROM users WHERE name = ?1", name, NULL,
                 out);
}

static int sq_user_remove(struct cairn_store *base, const char *name)
{
    int changes = 0;
    int rc = write3(sq(base), "DELETE FROM users WHERE name = ?1", name, NULL,
                    NULL, &changes);
    return rc == 0 && changes == 0 ? CAIRN_ENOTFOUND : rc;
}

static int sq_user_list(struct cairn_store *base, char ***out, size_t *n)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = NULL;
    int rc = get_dyn(s, "SELECT name FROM users ORDER BY name", &st);
    if (rc < 0)
        return rc;
    char **arr = NULL;
    size_t cnt = 0, alloc = 0;
    int step;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        void *grown = grow_array(arr, &alloc, cnt, sizeof *arr);
        if (grown == NULL) {
            rc = CAIRN_ENOMEM;
            break;
        }
        arr = grown;
        arr[cnt] = col_dup(st, 0, &rc);
        if (arr[cnt] != NULL)
            cnt++;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = map_rc(step);
    sqlite3_reset(st);
    if (rc < 0) {
        cairn_store_name_list_free(arr, cnt);
        return rc;
    }
    *out = arr;
    *n = cnt;
    return 0;
}

static int sq_token_add(struct cairn_store *base, const char *hash,
                        const char *user)
{
    struct sq_store *s = sq(base);
    char *h = NULL;
    int rc = read1(s, "SELECT hash FROM users WHERE name = ?1", user, NULL, &h);
    cairn_free(h);
    if (rc == 0)
        rc = write3(s,
                    "INSERT INTO tokens(hash, user, created)"
                    " VALUES(?1, ?2, ?4)",
                    hash, user, NULL, NULL);
    return rc;
}

static int sq_token_user(struct cairn_store *base, const char *hash, char **out)
{
    return read1(sq(base), "SELECT user FROM tokens WHERE hash = ?1", hash,
                 NULL, out);
}

static int sq_token_remove(struct cairn_store *base, const char *hash)
{
    int changes = 0;
    int rc = write3(sq(base), "DELETE FROM tokens WHERE hash = ?1", hash, NULL,
                    NULL, &changes);
    return rc == 0 && changes == 0 ? CAIRN_ENOTFOUND : rc;
}

static int sq_rights_set(struct cairn_store *base, const char *user,
                         const char *collection, unsigned rights)
{
    struct sq_store *s = sq(base);
    char *tmp = NULL;
    int rc =
        read1(s, "SELECT name FROM users WHERE name = ?1", user, NULL, &tmp);
    cairn_free(tmp);
    tmp = NULL;
    if (rc == 0)
        rc = read1(s, "SELECT id FROM collections WHERE id = ?1", collection,
                   NULL, &tmp);
    cairn_free(tmp);
    if (rc < 0)
        return rc;
    char bits[8];
    snprintf(bits, sizeof bits, "%u", rights);
    if (rights == 0)
        return write3(s, "DELETE FROM rights WHERE user = ?1 AND coll = ?2",
                      user, collection, NULL, NULL);
    return write3(s,
                  "INSERT INTO rights(user, coll, bits) VALUES(?1, ?2, ?3)"
                  " ON CONFLICT(user, coll) DO UPDATE SET bits = ?3",
                  user, collection, bits, NULL);
}

static int sq_rights_get(struct cairn_store *base, const char *user,
                         const char *collection, unsigned *out)
{
    char *bits = NULL;
    int rc =
        read1(sq(base), "SELECT bits FROM rights WHERE user = ?1 AND coll = ?2",
              user, collection, &bits);
    *out = 0;
    if (rc == 0)
        *out = (unsigned)strtoul(bits, NULL, 10);
    cairn_free(bits);
    return rc == CAIRN_ENOTFOUND ? 0 : rc;
}

static int sq_user_share_get(struct cairn_store *base, const char *name,
                             struct cairn_store_user_share *out)
{
    sqlite3_stmt *st = NULL;
    int rc = get_dyn(sq(base),
                     "SELECT identity, member FROM users WHERE name = ?1", &st);
    if (rc < 0)
        return rc;
    bind_text(st, 1, name);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        const unsigned char *id = sqlite3_column_text(st, 0);
        if (id != NULL)
            snprintf(out->identity, sizeof out->identity, "%s",
                     (const char *)id);
        out->member = sqlite3_column_int(st, 1) != 0;
    } else {
        rc = step == SQLITE_DONE ? CAIRN_ENOTFOUND : map_rc(step);
    }
    sqlite3_reset(st);
    return rc;
}

static int sq_user_share_set(struct cairn_store *base, const char *name,
                             const struct cairn_store_user_share *in)
{
    int changes = 0;
    int rc = write3(sq(base),
                    "UPDATE users SET identity = NULLIF(?2, ''),"
                    " member = CAST(?3 AS INTEGER) WHERE name = ?1",
                    name, in->identity, in->member ? "1" : "0", &changes);
    return rc == 0 && changes == 0 ? CAIRN_ENOTFOUND : rc;
}

static int sq_collection_count(struct cairn_store *base, const char *id,
                               size_t *out)
{
    char *v = NULL;
    int rc = read1(sq(base),
                   "SELECT (SELECT count(*) FROM objects o"
                   " WHERE o.coll = c.pk) FROM collections c"
                   " WHERE c.id = ?1",
                   id, NULL, &v);
    if (rc == 0)
        *out = (size_t)strtoull(v, NULL, 10);
    cairn_free(v);
    return rc;
}

/* A user's flag (admin, identities): read with `sql`, a SELECT of one
 * column for name ?1; set with an UPDATE of it to ?2 for name ?1. */
static int user_flag_get(struct cairn_store *base, const char *sql,
                         const char *name, bool *out)
{
    char *v = NULL;
    int rc = read1(sq(base), sql, name, NULL, &v);
    if (rc == 0)
        *out = strtol(v, NULL, 10) != 0;
    cairn_free(v);
    return rc;
}

static int user_flag_set(struct cairn_store *base, const char *sql,
                         const char *name, bool on)
{
    int changes = 0;
    int rc = write3(sq(base), sql, name, on ? "1" : "0", NULL, &changes);
    return rc == 0 && changes == 0 ? CAIRN_ENOTFOUND : rc;
}

static int sq_user_admin_get(struct cairn_store *base, const char *name,
                             bool *out)
{
    return user_flag_get(base, "SELECT admin FROM users WHERE name = ?1",
                         name, out);
}

static int sq_user_admin_set(struct cairn_store *base, const char *name,
                             bool admin)
{
    return user_flag_set(base,
                         "UPDATE users SET admin = CAST(?2 AS INTEGER)"
                         " WHERE name = ?1",
                         name, admin);
}

static int sq_user_identities_get(struct cairn_store *base, const char *name,
                                  bool *out)
{
    return user_flag_get(base, "SELECT identities FROM users WHERE name = ?1",
                         name, out);
}

static int sq_user_identities_set(struct cairn_store *base, const char *name,
                                  bool on)
{
    return user_flag_set(base,
                         "UPDATE users SET identities = CAST(?2 AS INTEGER)"
                         " WHERE name = ?1",
                         name, on);
}

static int sq_state_get(struct cairn_store *base, const char *name,
                        char **out)
{
    return read1(sq(base), "SELECT value FROM sync_state WHERE name = ?1",
                 name, NULL, out);
}

static int sq_state_set(struct cairn_store *base, const char *name,
                        const char *value)
{
    if (value == NULL)
        return write3(sq(base), "DELETE FROM sync_state WHERE name = ?1", name,
                      NULL, NULL, NULL);
    return write3(sq(base),
                  "INSERT INTO sync_state(name, value, updated)"
                  " VALUES(?1, ?2, ?4) ON CONFLICT(name) DO UPDATE"
                  " SET value = excluded.value, updated = excluded.updated",
                  name, value, NULL, NULL);
}

static int sq_collection_tlp_get(struct cairn_store *base, const char *id,
                                 int *out)
{
    char *v = NULL;
    int rc =
        read1(sq(base), "SELECT default_tlp FROM collections WHERE id = ?1", id,
              NULL, &v);
    if (rc == 0)
        *out = (int)strtol(v, NULL, 10);
    cairn_free(v);
    return rc;
}

static int sq_collection_tlp_set(struct cairn_store *base, const char *id,
                                 int tlp)
{
    char v[8];
    int changes = 0;
    snprintf(v, sizeof v, "%d", tlp);
    int rc = write3(sq(base),
                    "UPDATE collections SET default_tlp = CAST(?2 AS INTEGER)"
                    " WHERE id = ?1",
                    id, v, NULL, &changes);
    return rc == 0 && changes == 0 ? CAIRN_ENOTFOUND : rc;
}

static int sq_mark_put(struct cairn_store *base, const char *collection,
                       const char *const *keys, const char *const *marks,
                       size_t n)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = NULL;
    char *pk = NULL;
    int rc = read1(s, "SELECT pk FROM collections WHERE id = ?1", collection,
                   NULL, &pk);
    cairn_free(pk);
    if (rc < 0)
        return rc;
    rc = get_dyn(s,
                 "INSERT OR REPLACE INTO marks(coll, obj, mark, at)"
                 " VALUES(?1, ?2, ?3, ?4)",
                 &st);
    if (rc < 0)
        return rc;
    /* A page's marks: one transaction, one commit. */
    rc = begin_write(s);
    if (rc < 0)
        return rc;
    int64_t now = cairn__store_now_us();
    for (size_t i = 0; rc == 0 && i < n; i++) {
        bind_text(st, 1, collection);
        bind_text(st, 2, keys[i]);
        bind_text(st, 3, marks[i]);
        sqlite3_bind_int64(st, 4, now);
        rc = step_done(st);
    }
    return finish(s, rc);
}

static int sq_mark_get(struct cairn_store *base, const char *collection,
                       const char *key, char **out)
{
    return read1(sq(base),
                 "SELECT mark FROM marks WHERE coll = ?1 AND obj = ?2",
                 collection, key, out);
}

static int sq_mark_list(struct cairn_store *base, const char *collection,
                        int (*cb)(void *ud, const char *collection,
                                  const char *key, const char *mark),
                        void *ud)
{
    struct sq_store *s = sq(base);
    sqlite3_stmt *st = NULL;
    int rc = get_dyn(s,
                     "SELECT coll, obj, mark FROM marks"
                     " WHERE ?1 IS NULL OR coll = ?1 ORDER BY coll, obj",
                     &st);
    if (rc < 0)
        return rc;
    bind_text(st, 1, collection);
    int step = SQLITE_DONE;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *c = (const char *)sqlite3_column_text(st, 0);
        const char *k = (const char *)sqlite3_column_text(st, 1);
        const char *m = (const char *)sqlite3_column_text(st, 2);
        rc = c != NULL && k != NULL && m != NULL ? cb(ud, c, k, m)
                                                 : CAIRN_ENOMEM;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = map_rc(step);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

static const struct store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .schema_version = sq_schema_version,
    .api_root_put = sq_api_root_put,
    .api_root_get = sq_api_root_get,
    .api_root_list = sq_api_root_list,
    .collection_create = sq_collection_create,
    .collection_get = sq_collection_get,
    .collection_list = sq_collection_list,
    .collection_delete = sq_collection_delete,
    .put_objects = sq_put_objects,
    .keys_find = sq_keys_find,
    .sightings_scan = sq_sightings_scan,
    .user_identities_get = sq_user_identities_get,
    .user_identities_set = sq_user_identities_set,
    .query = sq_query,
    .scan = sq_scan,
    .delete_objects = sq_delete_objects,
    .status_new = sq_status_new,
    .status_add_pending = sq_status_add_pending,
    .status_record = sq_status_record,
    .status_get = sq_status_get,
    .status_abandon_pending = sq_status_abandon_pending,
    .user_add = sq_user_add,
    .user_set_hash = sq_user_set_hash,
    .user_hash = sq_user_hash,
    .user_remove = sq_user_remove,
    .user_list = sq_user_list,
    .token_add = sq_token_add,
    .token_user = sq_token_user,
    .token_remove = sq_token_remove,
    .rights_set = sq_rights_set,
    .rights_get = sq_rights_get,
    .user_share_get = sq_user_share_get,
    .user_share_set = sq_user_share_set,
    .user_admin_get = sq_user_admin_get,
    .collection_count = sq_collection_count,
    .user_admin_set = sq_user_admin_set,
    .state_get = sq_state_get,
    .state_set = sq_state_set,
    .collection_tlp_get = sq_collection_tlp_get,
    .mark_put = sq_mark_put,
    .mark_get = sq_mark_get,
    .mark_list = sq_mark_list,
    .collection_tlp_set = sq_collection_tlp_set,
};
