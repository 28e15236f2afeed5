/* SPDX-License-Identifier: Apache-2.0 */
/* `cairn serve`: run the TAXII 2.1 server on the store of a data directory. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "cairn/analysis.h"
#include "cairn/cairn.h"
#include "cairn/export.h"
#include "cairn/server.h"
#include "cli.h"

enum {
    OPT_DATA,
    OPT_LISTEN,
    OPT_CONFIG,
    OPT_TLS_CERT,
    OPT_TLS_KEY,
    OPT_INSECURE,
    OPT_LOG,
    OPT_THREADS,
    OPT_PORT_FILE,
};

/* Indexed by the enum above. */
static const struct cli_option options[] = {
    [OPT_DATA] = CLI_DATA_OPTION,
    [OPT_LISTEN] = {'l', "listen", "ADDR:PORT",
                    "Address and port to listen on, such as 127.0.0.1:6543 "
                    "(the default) or [::1]:6543; port 0 picks a free "
                    "one."},
    [OPT_CONFIG] = {'c', "config", "FILE",
                    "Read settings from this INI file; options given on "
                    "the command line win over it."},
    [OPT_TLS_CERT] = {0, "tls-cert", "FILE",
                      "Serve HTTPS with this PEM certificate (chain); needs "
                      "--tls-key."},
    [OPT_TLS_KEY] = {0, "tls-key", "FILE",
                     "The PEM private key of --tls-cert."},
    [OPT_INSECURE] = {0, "insecure", NULL,
                      "Allow plain HTTP on an address other than loopback "
                      "(for a server behind a TLS proxy)."},
    [OPT_LOG] = {0, "log", "FILE",
                 "Append the access log to FILE instead of standard error; "
                 "SIGHUP reopens it."},
    [OPT_THREADS] = {0, "threads", "N",
                     "Threads answering requests (default: twice the "
                     "processors, 4 to 64)."},
    [OPT_PORT_FILE] = {0, "port-file", "FILE",
                       "Once listening, write the port to FILE (for scripts "
                       "and tests that listen on port 0)."},
    {0, NULL, NULL, NULL},
};

static int run(int argc, char **argv);

const struct cli_command cli_cmd_serve = {
    .name = "serve",
    .synopsis = "[--data DIR] [--listen ADDR:PORT] [--config FILE] "
                "[--tls-cert FILE --tls-key FILE] [--insecure] [--log FILE] "
                "[--threads N] [--port-file FILE]",
    .summary = "Serve the store over TAXII 2.1.",
    .description =
        "Runs a TAXII 2.1 server over the store of the data directory; "
        "discovery is at /taxii2/. The first start creates the directory, "
        "the store, an API root and a default collection, and prints the "
        "URLs and how to let a user in. Clients authenticate with HTTP "
        "Basic (users made with 'cairn user add') or a bearer token "
        "('cairn token new'), and see only the collections they were "
        "granted ('cairn grant').\n\n"
        "By default the server listens on 127.0.0.1:6543 only. With "
        "--tls-cert and --tls-key it speaks HTTPS. It refuses an address "
        "other than loopback without TLS unless --insecure is given.\n\n"
        "Each request is one line of the access log: time, client address, "
        "user, method and path, status, body bytes and milliseconds. "
        "SIGTERM or SIGINT stop the server: it stops accepting, finishes "
        "the requests in flight and the writes it acknowledged, and exits "
        "0. SIGHUP reopens the log file. The configuration file is "
        "described in docs/server.md.\n\n"
        "Limits against clients that hold the server up (keys of the "
        "[server] section): connection_limit (open connections, default "
        "4096; the open-files limit is raised to allow them), "
        "per_address_limit (connections from one address, default 64; 0 "
        "for none, behind a proxy), header_timeout (seconds to send a "
        "request's line and headers, default 30), body_timeout (seconds to "
        "send its body, default 300) and body_budget (bytes of request "
        "bodies held at once, default 4 x max_content_length and at least "
        "256M; past it a POST gets 503). Passwords are checked on threads "
        "of their own; wrong ones are throttled per address and per user "
        "(429), and only a POST to an objects endpoint by a user who may "
        "write there has its body read.\n\n"
        "The [peer NAME] sections of the configuration file (see 'cairn "
        "sync' and docs/federation.md) are run on their schedule: each "
        "peer's pulls and pushes once at start, then every 'interval' "
        "seconds, on a thread of their own; each run is logged. A stop "
        "interrupts a run in progress, which resumes where it stopped at "
        "the next start.\n\n"
        "With a [hunt] section (indicators = the collections to hunt, "
        "sightings = where sightings go, org = this node's name) the "
        "server runs the response loop (docs/response.md): indicators that "
        "arrive in those collections by any path are retro-hunted over "
        "the node's archive ('cairn archive') within a second or so, the "
        "logs named by 'watch' lines of an [archive] section (with keep "
        "and max_size) are archived and every new event hunted as it "
        "arrives, each indicator gets one sighting per organisation, "
        "stored as a new version when its count or times change, and the "
        "peers' push flows run as soon as sightings are stored.\n\n"
        "The [export NAME] sections (see 'cairn export' and "
        "docs/export.md: format, collection, type, path, state, source, "
        "zone, min_score, warninglists, include_warninglisted; the "
        "[analysis] warninglists apply unless a section names its own) "
        "are written at start and rewritten atomically within a "
        "second of a change to their collections; each is also served at "
        "/export/NAME to users who may read all its collections, with an "
        "ETag (If-None-Match is answered 304).\n\n"
        "[analysis] default_confidence, source_confidence (IDENTITY N, "
        "...) and decay (TYPE DAYS SPEED, ...) set how the lookup and "
        "sightings endpoints score indicators (docs/analysis.md).\n\n"
        "The web console is served under /ui/ on the same address and "
        "TLS: analysts log in there with their user name and password "
        "(docs/console.md). '[console] enabled = no' in the configuration "
        "file switches it off.\n\n"
        "With --data postgresql://... (or [store] url in the configuration "
        "file) the store is a PostgreSQL database that several 'cairn serve' "
        "nodes may share; each peer is then run by one node at a time. The "
        "URL's password is never printed. See docs/postgres.md.",
    .options = options,
    .exit_status = "0 Stopped by SIGTERM or SIGINT after a clean shutdown.\n"
                   "2 Usage error, a configuration file with a mistake, an "
                   "address that cannot be listened on, a store that cannot "
                   "be opened, or an internal error.",
    .examples = "$ cairn serve\n"
                "$ cairn serve --data /var/lib/cairn --listen [::1]:6543\n"
                "$ cairn serve --listen 0.0.0.0:443 --tls-cert cert.pem "
                "--tls-key key.pem\n"
                "$ cairn serve --config /etc/cairn/cairn.ini",
    .run = run,
};

struct settings {
    const char *data;
    const char *listen;
    const char *tls_cert;
    const char *tls_key;
    bool insecure;
    const char *log;
    unsigned threads;
    const char *port_file;
};

/* The API root to advertise and its first collection, for the banner. */
struct bootstrap_info {
    char root[CAIRN_STORE_NAME_MAX + 1];
    char collection[CAIRN_UUID_STRLEN];
    char title[128];
};

static int read_bootstrap(const struct cli_command *cmd,
                          struct cairn_store *store, const char *wanted_root,
                          struct bootstrap_info *info)
{
    struct cairn_store_api_root *roots = NULL;
    struct cairn_store_collection *cols = NULL;
    size_t n_roots = 0;
    size_t n_cols = 0;
    int rc = -1;

    memset(info, 0, sizeof *info);
    int err = cairn_store_api_root_list(store, &roots, &n_roots);
    if (err < 0) {
        cli_error(cmd, "reading the API roots: %s", cairn_strerror(err));
        goto out;
    }
    if (wanted_root != NULL) {
        size_t i = 0;
        while (i < n_roots && strcmp(roots[i].name, wanted_root) != 0)
            i++;
        if (i == n_roots) {
            cli_error(cmd,
                      "default_api_root '%s' is not an API root of "
                      "the store",
                      wanted_root);
            goto out;
        }
    }
    if (n_roots == 0) {
        rc = 0; /* nothing to advertise; discovery lists no root */
        goto out;
    }
    const char *root = wanted_root != NULL ? wanted_root : roots[0].name;
    snprintf(info->root, sizeof info->root, "%s", root);
    err = cairn_store_collection_list(store, root, &cols, &n_cols);
    if (err < 0) {
        cli_error(cmd, "reading the collections: %s", cairn_strerror(err));
        goto out;
    }
    if (n_cols > 0) {
        snprintf(info->collection, sizeof info->collection, "%s", cols[0].id);
        snprintf(info->title, sizeof info->title, "%s",
                 cols[0].title != NULL ? cols[0].title : "");
    }
    rc = 0;
out:
    cairn_store_collection_list_free(cols, n_cols);
    cairn_store_api_root_list_free(roots, n_roots);
    return rc;
}

/* Write the port to `path` whole or not at all: tests poll for it. */
static int write_port_file(const struct cli_command *cmd, const char *path,
                           unsigned port)
{
    char tmp[PATH_MAX];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        cli_error(cmd, "--port-file %s: path too long", path);
        return -1;
    }
    FILE *f = fopen(tmp, "we");
    if (f == NULL) {
        cli_error(cmd, "--port-file %s: %s", tmp, strerror(errno));
        return -1;
    }
    fprintf(f, "%u\n", port);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        cli_error(cmd, "--port-file %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

static void print_banner(const struct cairn_server *srv, const char *data_flag,
                         const char *db_dir, const struct bootstrap_info *info)
{
    const char *url = cairn_server_url(srv);
    char data_arg[PATH_MAX + 16] = "";

    char shown[PATH_MAX];

    if (cairn_store_url_is_postgres(db_dir)) {
        /* Never the password; the user puts it back in --data. */
        if (cairn_store_url_redact(db_dir, shown, sizeof shown) < 0)
            snprintf(shown, sizeof shown, "a PostgreSQL store");
        snprintf(data_arg, sizeof data_arg, " --data '%s'", shown);
        fprintf(stderr, "cairn serve: serving %s on %s\n", shown, url);
    } else {
        if (data_flag != NULL)
            snprintf(data_arg, sizeof data_arg, " --data %s", data_flag);
        fprintf(stderr, "cairn serve: serving %s/cairn.db on %s\n", db_dir,
                url);
    }
    fprintf(stderr, "  discovery:   %s/taxii2/\n", url);
    if (info->root[0] != '\0')
        fprintf(stderr, "  API root:    %s/%s/\n", url, info->root);
    if (info->collection[0] != '\0') {
        fprintf(stderr, "  collection:  %s (%s)\n", info->collection,
                info->title);
        fprintf(stderr,
                "To let someone in, create a user (the password is read "
                "from standard input)\nand grant it the collection:\n"
                "  cairn user add NAME%s\n"
                "  cairn grant NAME %s --read --write%s\n",
                data_arg, info->collection, data_arg);
    }
    fflush(stderr);
}

/* ---- the peers' schedule ------------------------------------------------ */

/*
 * Each peer runs on a thread of its own, so that a peer that is slow or
 * hostile (bounded anyway by its runs' deadline) holds up no other.
 */
struct schedule;

struct peer_worker {
    struct schedule *sc;
    size_t index;
    pthread_t thread;
    bool started;
    bool kick; /* guarded by sc->lock: run the pushes now */
    /* The peer with its push flows only, for a kick. */
    struct cairn_peer pushes;
};

struct schedule {
    const struct cairn_peers *peers;
    struct cairn_server *srv; /* told each run's outcome, for the console */
    const char *store_url;
    const char *data_dir;
    struct peer_worker *workers;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* on the monotonic clock */
    bool stop;           /* guarded by lock */
    atomic_bool cancel;  /* read by the client during transfers and waits */
};

static bool schedule_cancelled(void *ud)
{
    struct schedule *sc = ud;
    return atomic_load(&sc->cancel);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Run one peer at once, then again `interval` seconds after its last run
 * ended, until told to stop. The thread has its own store handle, as
 * handles are not shared between threads.
 */
static void *peer_main(void *arg)
{
    struct peer_worker *w = arg;
    struct schedule *sc = w->sc;
    const struct cairn_peer *peer = &sc->peers->peers[w->index];
    struct cairn_store *store = NULL;
    struct cairn_taxii_client_opts base = {
        .cancelled = schedule_cancelled,
        .cancel_ud = sc,
    };

    int rc = cairn_store_open(sc->store_url, NULL, &store);
    if (rc < 0) {
        cairn_log(CAIRN_LOG_ERROR, "peer %s: no scheduled runs: %s", peer->name,
                  cairn_strerror(rc));
        return NULL;
    }
    /* Nodes sharing a PostgreSQL store: one of them runs each peer. */
    bool shared = cairn_store_url_is_postgres(sc->store_url);
    char lock_name[CAIRN_STORE_NAME_MAX + 16];
    snprintf(lock_name, sizeof lock_name, "peer:%s", peer->name);
    bool held = false;
    bool kicked = false;
    int64_t due = 0;
    pthread_mutex_lock(&sc->lock);
    while (!sc->stop) {
        pthread_mutex_unlock(&sc->lock);
        bool mine = true;
        if (shared && cairn_store_lock_try(store, lock_name, &mine) < 0)
            mine = false; /* the database is away: nobody runs it now */
        if (mine != held)
            cairn_log(CAIRN_LOG_INFO, "peer %s: %s", peer->name,
                      mine ? "this node runs it"
                           : "another node runs it, or the database is "
                             "away");
        held = mine;
        if (mine) {
            /* A kick (new sightings stored) runs the pushes alone; the
             * schedule stays as it was. */
            struct cairn_sync_result res = {0};
            int prc = cairn_sync_run_peer(kicked ? &w->pushes : peer, store,
                                          sc->data_dir, &base, &res);
            cairn_server_peer_ran(sc->srv, peer->name, prc,
                                  res.error[0] ? res.error
                                               : cairn_strerror(prc));
        }
        if (!kicked)
            due = mono_ms() + (int64_t)peer->interval * 1000;
        pthread_mutex_lock(&sc->lock);
        kicked = false;
        while (!sc->stop && !w->kick && mono_ms() < due) {
            struct timespec ts = {.tv_sec = (time_t)(due / 1000),
                                  .tv_nsec = (long)(due % 1000) * 1000000};
            pthread_cond_timedwait(&sc->wake, &sc->lock, &ts);
        }
        if (w->kick && mono_ms() < due) {
            kicked = true;
        }
        w->kick = false;
    }
    pthread_mutex_unlock(&sc->lock);
    cairn_store_close(store);
    return NULL;
}

/* The response loop stored sightings: the peers that take pushes run them. */
static void schedule_kick(size_t n, void *ud)
{
    struct schedule *sc = ud;

    (void)n;
    if (!sc->started)
        return;
    pthread_mutex_lock(&sc->lock);
    for (size_t i = 0; i < sc->peers->n; i++)
        if (sc->workers[i].pushes.n_flows > 0)
            sc->workers[i].kick = true;
    pthread_cond_broadcast(&sc->wake);
    pthread_mutex_unlock(&sc->lock);
}

static void workers_free(struct schedule *sc)
{
    for (size_t i = 0; sc->workers != NULL && i < sc->peers->n; i++)
        cairn_free(sc->workers[i].pushes.flows);
    cairn_free(sc->workers);
    sc->workers = NULL;
}

static void schedule_join(struct schedule *sc)
{
    for (size_t i = 0; i < sc->peers->n; i++) {
        if (sc->workers[i].started)
            pthread_join(sc->workers[i].thread, NULL);
        sc->workers[i].started = false;
    }
}

static int schedule_start(struct schedule *sc)
{
    pthread_condattr_t attr;

    if (sc->peers->n == 0)
        return 0;
    sc->workers = cairn_calloc(sc->peers->n, sizeof *sc->workers);
    if (sc->workers == NULL)
        return -1;
    if (pthread_mutex_init(&sc->lock, NULL) != 0) {
        workers_free(sc);
        return -1;
    }
    if (pthread_condattr_init(&attr) != 0 ||
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&sc->wake, &attr) != 0) {
        pthread_mutex_destroy(&sc->lock);
        workers_free(sc);
        return -1;
    }
    pthread_condattr_destroy(&attr);
    atomic_init(&sc->cancel, false);
    sc->stop = false;
    for (size_t i = 0; i < sc->peers->n; i++) {
        const struct cairn_peer *peer = &sc->peers->peers[i];
        sc->workers[i] = (struct peer_worker){.sc = sc, .index = i};
        sc->workers[i].pushes = *peer;
        sc->workers[i].pushes.flows = NULL;
        sc->workers[i].pushes.n_flows = 0;
        for (size_t f = 0; f < peer->n_flows; f++) {
            if (!peer->flows[f].push)
                continue;
            /* Push flows first in the list, so that a prefix holds them. */
            if (sc->workers[i].pushes.flows == NULL)
                sc->workers[i].pushes.flows = cairn_calloc(
                    peer->n_flows, sizeof *sc->workers[i].pushes.flows);
            if (sc->workers[i].pushes.flows == NULL)
                break;
            sc->workers[i].pushes.flows[sc->workers[i].pushes.n_flows++] =
                peer->flows[f];
        }
        if (pthread_create(&sc->workers[i].thread, NULL, peer_main,
                           &sc->workers[i]) != 0) {
            pthread_mutex_lock(&sc->lock);
            sc->stop = true;
            pthread_cond_broadcast(&sc->wake);
            pthread_mutex_unlock(&sc->lock);
            atomic_store(&sc->cancel, true);
            schedule_join(sc);
            pthread_cond_destroy(&sc->wake);
            pthread_mutex_destroy(&sc->lock);
            workers_free(sc);
            return -1;
        }
        sc->workers[i].started = true;
    }
    sc->started = true;
    return 0;
}

/* Interrupt the runs in progress and wait for the threads. */
static void schedule_stop(struct schedule *sc)
{
    if (!sc->started)
        return;
    atomic_store(&sc->cancel, true);
    pthread_mutex_lock(&sc->lock);
    sc->stop = true;
    pthread_cond_broadcast(&sc->wake);
    pthread_mutex_unlock(&sc->lock);
    schedule_join(sc);
    pthread_cond_destroy(&sc->wake);
    pthread_mutex_destroy(&sc->lock);
    workers_free(sc);
    sc->started = false;
}

static int parse_threads(const char *text, unsigned *out)
{
    char *end = NULL;

    if (text[0] < '0' || text[0] > '9')
        return -1;
    errno = 0;
    long n = strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || n < 1 || n > 1024)
        return -1;
    *out = (unsigned)n;
    return 0;
}

static int run(int argc, char **argv)
{
    const struct cli_command *cmd = &cli_cmd_serve;
    struct settings set = {0};
    struct cairn_server_ini ini;
    struct cairn_diag diag;
    struct cairn_store *store = NULL;
    struct cairn_server *srv = NULL;
    struct cairn_warninglists *wl = NULL;
    struct cairn_score_opts score = {0};
    struct bootstrap_info info;
    struct cairn_peers peers = {0};
    struct cairn_export_defs xdefs = {0};
    struct cairn_export_service *xsvc = NULL;
    struct cairn_sign_key *signer = NULL;
    struct schedule sched = {0};
    struct cairn_loop *loop = NULL;
    const char *config = NULL;
    const char *arg;
    int status = CLI_EXIT_ERROR;
    int opt;

    memset(&ini, 0, sizeof ini);
    ini.console_enabled = -1;
    cairn_diag_clear(&diag);
    while ((opt = cli_getopt(cmd, argc, argv, &arg)) >= 0) {
        switch (opt) {
        case OPT_DATA:
            set.data = arg;
            break;
        case OPT_LISTEN:
            set.listen = arg;
            break;
        case OPT_CONFIG:
            config = arg;
            break;
        case OPT_TLS_CERT:
            set.tls_cert = arg;
            break;
        case OPT_TLS_KEY:
            set.tls_key = arg;
            break;
        case OPT_INSECURE:
            set.insecure = true;
            break;
        case OPT_LOG:
            set.log = arg;
            break;
        case OPT_THREADS:
            if (parse_threads(arg, &set.threads) < 0) {
                cli_error(cmd,
                          "--threads: '%s' is not a number from 1 to "
                          "1024",
                          arg);
                return CLI_EXIT_ERROR;
            }
            break;
        case OPT_PORT_FILE:
            set.port_file = arg;
            break;
        }
    }
    if (opt == -2)
        return CLI_EXIT_ERROR;
    if (optind < argc) {
        cli_error(cmd, "unexpected argument '%s'; see 'cairn serve --help'",
                  argv[optind]);
        return CLI_EXIT_ERROR;
    }
    if ((set.tls_cert == NULL) != (set.tls_key == NULL)) {
        cli_error(cmd, "--tls-cert and --tls-key go together");
        return CLI_EXIT_ERROR;
    }

    /* The file fills in what the command line left out. */
    if (config != NULL) {
        int rc = cairn_server_ini_load(config, &ini, &diag);
        if (rc != 0) {
            if (diag.line > 0)
                cli_error(cmd, "%s:%u: %s", diag.file, diag.line, diag.message);
            else
                cli_error(cmd, "%s: %s", config, diag.message);
            goto out;
        }
        if (set.data == NULL)
            set.data = ini.store_url != NULL ? ini.store_url : ini.data;
        if (cli_warninglists_load(cmd, ini.warninglists, &wl) < 0)
            goto out;
        cairn_ingest_set_default_warninglists(wl);
        /* checked when the configuration was read */
        if (cairn_score_opts_parse(&score, ini.source_confidence, ini.decay,
                                   NULL, 0) < 0)
            goto out;
        score.warninglists = wl;
        score.default_confidence = ini.default_confidence;
        if (set.listen == NULL)
            set.listen = ini.listen;
        if (set.tls_cert == NULL) {
            set.tls_cert = ini.tls_cert;
            set.tls_key = ini.tls_key;
        }
        if (!set.insecure)
            set.insecure = ini.insecure == 1;
        if (set.log == NULL)
            set.log = ini.log;
        if (set.threads == 0)
            set.threads = ini.threads;
        rc = cairn_peers_load(config, &peers, &diag);
        if (rc == 0)
            rc = cairn_export_defs_load(config, &xdefs, &diag);
        if (rc != 0) {
            if (diag.line > 0)
                cli_error(cmd, "%s:%u: %s", diag.file, diag.line, diag.message);
            else
                cli_error(cmd, "%s: %s", config, diag.message);
            goto out;
        }
    }

    char dirbuf[PATH_MAX];
    const char *dir = set.data;
    if (dir == NULL)
        dir = cli_data_dir_default(dirbuf, sizeof dirbuf);
    if (peers.sign != NULL) {
        int src = cairn_peers_signer(&peers, dir, &signer, &diag);
        if (src < 0) {
            char line[1400];
            if (cairn_diag_format(&diag, line, sizeof line) >= 0)
                cli_error(cmd, "[server] sign: %s", line);
            goto out;
        }
    }
    if (cli_store_open(cmd, set.data, true, &store) < 0)
        goto out;
    if (read_bootstrap(cmd, store, ini.default_api_root, &info) < 0)
        goto out;
    cairn_store_close(store);
    store = NULL;

    char url[PATH_MAX + 16];
    int n = cairn_store_url_is_postgres(dir)
                ? snprintf(url, sizeof url, "%s", dir)
                : snprintf(url, sizeof url, "sqlite:%s/cairn.db", dir);
    if (n < 0 || (size_t)n >= sizeof url) {
        cli_error(cmd, "%s: path too long", dir);
        goto out;
    }

    /*
     * Signals are taken synchronously by this thread with sigwait; every
     * thread the server starts inherits the blocked mask.
     */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* Local files (the archive, the response loop's state, the peers'
     * progress) stay in a directory, with a PostgreSQL store too
     * (docs/postgres.md): the default data directory then. */
    char localbuf[PATH_MAX];
    const char *local = dir != NULL && cairn_store_url_is_postgres(dir)
                            ? cli_data_dir_default(localbuf, sizeof localbuf)
                            : dir;
    /* The archive the dashboard shows: [archive] dir, else DATA/archive. */
    char archbuf[PATH_MAX] = "";
    if (ini.archive_dir != NULL)
        snprintf(archbuf, sizeof archbuf, "%s", ini.archive_dir);
    else if (local != NULL)
        snprintf(archbuf, sizeof archbuf, "%s/archive", local);

    struct cairn_server_config sc = {
        .listen = set.listen,
        .store_url = url,
        .tls_cert = set.tls_cert,
        .tls_key = set.tls_key,
        .insecure = set.insecure,
        .log_path = set.log,
        .threads = set.threads,
        .public_url = ini.public_url,
        .connection_limit = ini.connection_limit,
        .per_address_limit = ini.per_address_limit,
        .header_timeout = ini.header_timeout,
        .body_timeout = ini.body_timeout,
        .body_budget = ini.body_budget,
        .console_off = ini.console_enabled == 0,
        .console = {.peers = &peers,
                    .archive_dir = archbuf[0] ? archbuf : NULL},
        .taxii =
            {
                .title = ini.title,
                .description = ini.description,
                .contact = ini.contact,
                .default_api_root = info.root[0] ? info.root : NULL,
                .max_content_length = ini.max_content_length,
                .page_bytes = ini.page_bytes,
                .credential_cache_seconds = ini.credential_cache_seconds,
                .signing = &peers,
                .signer = signer,
                .score = &score,
            },
    };
    if (xdefs.n > 0) {
        /* the first rewrite of each export before the first request */
        xdefs.warninglists = wl; /* [analysis] warninglists by default */
        int xrc = cairn_export_service_new(url, NULL, &xdefs, 0, &xsvc, &diag);
        if (xrc != 0) {
            cli_error(cmd, "%s",
                      diag.message[0] ? diag.message : cairn_strerror(xrc));
            goto out;
        }
        sc.exports = xsvc;
    }
    int rc = cairn_server_new(&sc, &srv, &diag);
    if (rc != 0) {
        cli_error(cmd, "%s",
                  diag.message[0] ? diag.message : cairn_strerror(rc));
        goto out;
    }
    sched.peers = &peers;
    sched.srv = srv;
    sched.store_url = url;
    /* The peers' progress stays in a local directory (docs/postgres.md). */
    sched.data_dir = local;
    if (sched.data_dir == NULL && peers.n > 0) {
        cli_error(cmd, "no directory for the peers' progress: set "
                       "CAIRN_DATA_DIR or HOME");
        goto out;
    }
    if (schedule_start(&sched) < 0) {
        cli_error(cmd, "cannot start the peers' schedule");
        goto out;
    }
    if (peers.n > 0)
        cairn_log(CAIRN_LOG_INFO, "running %zu peer%s on their schedule",
                  peers.n, peers.n == 1 ? "" : "s");
    if (ini.n_hunt_indicators > 0 || ini.n_archive_watch > 0) {
        /* The loop's state and the archive stay in a local directory,
         * as the peers' progress does, with a PostgreSQL store too. */
        if (sched.data_dir == NULL) {
            cli_error(cmd, "no directory for the response loop's state: "
                           "set CAIRN_DATA_DIR or HOME");
            goto out;
        }
        struct cairn_loop_opts lo = {
            .store_url = url,
            .data_dir = sched.data_dir,
            .indicators = (const char *const *)ini.hunt_indicators,
            .n_indicators = ini.n_hunt_indicators,
            .sightings = ini.hunt_sightings,
            .org = ini.hunt_org,
            .archive_dir = ini.archive_dir,
            .watch = (const char *const *)ini.archive_watch,
            .n_watch = ini.n_archive_watch,
            .keep_seconds = ini.archive_keep,
            .max_size = ini.archive_max_size,
            .threads = 2,
            .on_stored = schedule_kick,
            .ud = &sched,
            .signer = signer,
        };
        cairn_diag_clear(&diag);
        rc = cairn_loop_start(&lo, &loop, &diag);
        if (rc < 0) {
            cli_error(cmd, "%s: %s", config,
                      diag.message[0] ? diag.message : cairn_strerror(rc));
            goto out;
        }
        cairn_log(CAIRN_LOG_INFO,
                  "response loop: hunting %zu collection%s, watching %zu "
                  "log%s",
                  ini.n_hunt_indicators,
                  ini.n_hunt_indicators == 1 ? "" : "s", ini.n_archive_watch,
                  ini.n_archive_watch == 1 ? "" : "s");
    }
    /* Only now is every part of the configuration known to work: a
     * mistake found above exits before the banner and the port file. */
    if (set.port_file != NULL &&
        write_port_file(cmd, set.port_file, cairn_server_port(srv)) < 0)
        goto out;
    print_banner(srv, set.data, dir, &info);

    for (;;) {
        int sig = 0;
        if (sigwait(&sigs, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            if (cairn_server_reopen_log(srv) == 0 && set.log != NULL)
                cairn_log(CAIRN_LOG_INFO, "reopened the log %s", set.log);
            continue;
        }
        cairn_log(CAIRN_LOG_INFO, "%s: finishing the requests in flight",
                  sig == SIGTERM ? "SIGTERM" : "SIGINT");
        break;
    }
    cairn_loop_stop(loop);
    loop = NULL;
    schedule_stop(&sched);
    cairn_server_free(srv);
    srv = NULL;
    cairn_export_service_free(xsvc);
    xsvc = NULL;
    cairn_log(CAIRN_LOG_INFO, "stopped");
    status = CLI_EXIT_OK;
out:
    cairn_loop_stop(loop);
    schedule_stop(&sched);
    cairn_server_free(srv);
    cairn_store_close(store);
    cairn_export_service_free(xsvc);
    cairn_export_defs_release(&xdefs);
    cairn_peers_release(&peers);
    cairn_sign_key_free(signer);
    cairn_server_ini_release(&ini);
    cairn_ingest_set_default_warninglists(NULL);
    cairn_warninglists_free(wl);
    cairn_score_opts_clear(&score);
    return status;
}
