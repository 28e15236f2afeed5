/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Raw-socket HTTP on loopback, for the server's hardening tests and
 * bench/attack.sh: one exchange from standard input, slow clients, and
 * wrong-password floods while a token client measures its latency.
 *
 *   http_attack raw PORT              send stdin, print the answer
 *   http_attack slow PORT N SECS TOKEN
 *   http_attack flood PORT N SECS TOKEN USER same|distinct
 *   http_attack hold PORT N           open N connections, print how many
 *                                     the server closed at once
 *
 * slow and flood print key=value lines: the token client's p50 and p99
 * idle and under attack (ms), their ratio, its failures, and what the
 * attack saw.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 4096
#define SAMPLES   100000

static int port;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int dial(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port)};
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static bool send_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        len -= (size_t)w;
    }
    return true;
}

/* Wait up to `ms` for fd to be readable; false on timeout. */
static bool wait_in(int fd, int ms)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int r;
    do {
        r = poll(&pfd, 1, ms);
    } while (r < 0 && errno == EINTR);
    return r > 0;
}

/*
 * Read one response (headers and a Content-Length body) within `ms`;
 * the status, or -1.
 */
static int read_response(int fd, int ms)
{
    char buf[65536];
    size_t have = 0;
    double t0 = now_ms();
    for (;;) {
        buf[have] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end != NULL) {
            const char *cl = strcasestr(buf, "\r\nContent-Length:");
            size_t body = cl != NULL && cl < end
                              ? (size_t)strtoul(cl + 17, NULL, 10)
                              : 0;
            size_t need = (size_t)(end + 4 - buf) + body;
            if (have >= need) {
                int status = -1;
                if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
                    return -1;
                return status;
            }
        }
        int left = ms - (int)(now_ms() - t0);
        if (left <= 0 || have + 1 >= sizeof buf || !wait_in(fd, left))
            return -1;
        ssize_t r = recv(fd, buf + have, sizeof buf - 1 - have, 0);
        if (r <= 0)
            return -1;
        have += (size_t)r;
    }
}

/* ---- the token client ------------------------------------------------- */

static char token_req[512];

struct lat {
    double v[SAMPLES];
    size_t n;
    unsigned fails;
};

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(struct lat *l, double p)
{
    if (l->n == 0)
        return 0;
    qsort(l->v, l->n, sizeof l->v[0], cmp_d);
    size_t i = (size_t)(p * (double)(l->n - 1) + 0.5);
    return l->v[i];
}

/* Requests one after the other for `secs` (at least `min` of them). */
static void measure(struct lat *l, double secs, size_t min)
{
    int fd = -1;
    double until = now_ms() + secs * 1e3;
    l->n = 0;
    l->fails = 0;
    while ((now_ms() < until || l->n < min) && l->n < SAMPLES) {
        double t0 = now_ms();
        if (fd < 0)
            fd = dial();
        int st = -1;
        if (fd >= 0 && send_all(fd, token_req, strlen(token_req)))
            st = read_response(fd, 30000);
        if (st != 200) {
            /* A closed keep-alive connection is retried once. */
            if (fd >= 0)
                close(fd);
            fd = dial();
            if (fd >= 0 && send_all(fd, token_req, strlen(token_req)))
                st = read_response(fd, 30000);
        }
        if (st != 200) {
            l->fails++;
            if (fd >= 0)
                close(fd);
            fd = -1;
        }
        l->v[l->n++] = now_ms() - t0;
        struct timespec nap = {0, 2 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    if (fd >= 0)
        close(fd);
}

/* ---- attacks ------------------------------------------------------------ */

static atomic_bool stop;
static int n_attack;
static double attack_secs;
static const char *flood_user;
static bool flood_distinct;
static atomic_ulong answers, closed, refused_at_connect, slow_open;

/*
 * The attack runs on the same few cores as the server and the client it
 * measures; at the lowest priority, it takes what they leave, as an
 * attacker on another machine would.
 */
static void attacker_nice(void)
{
    (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
}

static void *slow_run(void *arg)
{
    static int fds[MAX_CONNS];
    static size_t sent[MAX_CONNS];
    static const char req[] = "GET /taxii2/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    (void)arg;
    attacker_nice();
    for (int i = 0; i < n_attack; i++) {
        fds[i] = dial();
        sent[i] = 0;
        if (fds[i] < 0)
            atomic_fetch_add(&refused_at_connect, 1);
    }
    atomic_store(&slow_open, 1);
    while (!atomic_load(&stop)) {
        /* One byte per connection every 500 ms: never idle for long. */
        for (int i = 0; i < n_attack; i++) {
            if (fds[i] < 0)
                continue;
            char ch = req[sent[i] % (sizeof req - 1)];
            if (sent[i] >= sizeof req - 1)
                ch = 'a';
            if (send(fds[i], &ch, 1, MSG_NOSIGNAL) != 1 ||
                (wait_in(fds[i], 0) &&
                 recv(fds[i], &ch, 1, MSG_DONTWAIT) <= 0)) {
                close(fds[i]);
                fds[i] = -1;
                atomic_fetch_add(&closed, 1);
                continue;
            }
            sent[i]++;
        }
        struct timespec nap = {0, 500 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    for (int i = 0; i < n_attack; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    return NULL;
}

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void b64(const char *in, char *out)
{
    size_t len = strlen(in), o = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned char)in[i] << 16;
        if (i + 1 < len)
            v |= (unsigned char)in[i + 1] << 8;
        if (i + 2 < len)
            v |= (unsigned char)in[i + 2];
        out[o++] = b64chars[v >> 18 & 63];
        out[o++] = b64chars[v >> 12 & 63];
        out[o++] = i + 1 < len ? b64chars[v >> 6 & 63] : '=';
        out[o++] = i + 2 < len ? b64chars[v & 63] : '=';
    }
    out[o] = '\0';
}

static void *flood_run(void *arg)
{
    int id = (int)(intptr_t)arg;
    unsigned long k = 0;
    int fd = -1;
    attacker_nice();
    while (!atomic_load(&stop)) {
        char plain[128], enc[200], req[512];
        if (flood_distinct)
            snprintf(plain, sizeof plain, "%s:wrong-%d-%lu", flood_user, id,
                     k++);
        else
            snprintf(plain, sizeof plain, "%s:wrong", flood_user);
        b64(plain, enc);
        snprintf(req, sizeof req,
                 "GET /taxii2/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 "Authorization: Basic %s\r\n\r\n",
                 enc);
        if (fd < 0)
            fd = dial();
        if (fd < 0 || !send_all(fd, req, strlen(req)) ||
            read_response(fd, 5000) < 0) {
            if (fd >= 0)
                close(fd);
            fd = -1;
            struct timespec nap = {0, 10 * 1000 * 1000};
            nanosleep(&nap, NULL);
            continue;
        }
        atomic_fetch_add(&answers, 1);
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

static int attack(bool slow, const char *token)
{
    static struct lat idle, busy;
    pthread_t th[MAX_CONNS];
    int n_th = 0;

    snprintf(token_req, sizeof token_req,
             "GET /taxii2/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             "Authorization: Bearer %s\r\nAccept: application/taxii+json;"
             "version=2.1\r\n\r\n",
             token);
    measure(&idle, attack_secs / 2, 50);
    if (slow) {
        pthread_create(&th[n_th++], NULL, slow_run, NULL);
    } else {
        for (int i = 0; i < n_attack && n_th < MAX_CONNS; i++)
            pthread_create(&th[n_th++], NULL, flood_run, (void *)(intptr_t)i);
    }
    /* Measure once the attack has taken hold (within 60 s). */
    double give_up = now_ms() + 60000;
    while (now_ms() < give_up &&
           (slow ? atomic_load(&slow_open) == 0
                 : atomic_load(&answers) < (unsigned long)n_attack)) {
        struct timespec nap = {0, 20 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    struct timespec nap = {0, 500 * 1000 * 1000};
    nanosleep(&nap, NULL);
    measure(&busy, attack_secs, 50);
    /* Slow clients: give the server's deadline its time (at most 30 s). */
    give_up = now_ms() + 30000;
    while (slow && now_ms() < give_up &&
           atomic_load(&closed) + atomic_load(&refused_at_connect) <
               (unsigned long)n_attack) {
        struct timespec nap2 = {0, 100 * 1000 * 1000};
        nanosleep(&nap2, NULL);
    }
    atomic_store(&stop, true);
    for (int i = 0; i < n_th; i++)
        pthread_join(th[i], NULL);
    double ip50 = pct(&idle, 0.5), ip99 = pct(&idle, 0.99);
    double bp50 = pct(&busy, 0.5), bp99 = pct(&busy, 0.99);
    printf("idle_n=%zu\nidle_p50_ms=%.2f\nidle_p99_ms=%.2f\n", idle.n, ip50,
           ip99);
    printf("attack_n=%zu\nattack_p50_ms=%.2f\nattack_p99_ms=%.2f\n", busy.n,
           bp50, bp99);
    printf("p99_ratio=%.2f\n", ip99 > 0 ? bp99 / ip99 : 0.0);
    printf("fails=%u\n", idle.fails + busy.fails);
    printf("attack_answers=%lu\nattack_closed=%lu\nattack_refused=%lu\n",
           atomic_load(&answers), atomic_load(&closed),
           atomic_load(&refused_at_connect));
    return 0;
}

/* Send standard input, print what comes back until the server closes. */
static int raw(void)
{
    static char in[1 << 20];
    size_t len = fread(in, 1, sizeof in, stdin);
    int fd = dial();
    if (fd < 0) {
        fprintf(stderr, "http_attack: cannot connect\n");
        return 2;
    }
    (void)send_all(fd, in, len);
    char buf[4096];
    double until = now_ms() + 20000;
    while (now_ms() < until && wait_in(fd, (int)(until - now_ms()))) {
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r <= 0)
            break;
        fwrite(buf, 1, (size_t)r, stdout);
    }
    close(fd);
    return 0;
}

/* Open n connections; report how many were closed within a second. */
static int hold(int n)
{
    static int fds[MAX_CONNS];
    int open_n = 0, shut = 0;
    for (int i = 0; i < n && i < MAX_CONNS; i++)
        if ((fds[open_n] = dial()) >= 0)
            open_n++;
    double until = now_ms() + 1000;
    for (int i = 0; i < open_n; i++) {
        int left = (int)(until - now_ms());
        char ch;
        if (wait_in(fds[i], left > 0 ? left : 0) &&
            recv(fds[i], &ch, 1, MSG_DONTWAIT) <= 0)
            shut++;
    }
    printf("opened=%d\nclosed=%d\n", open_n, shut);
    for (int i = 0; i < open_n; i++)
        close(fds[i]);
    return 0;
}

int main(int argc, char **argv)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (argc >= 3)
        port = (int)strtol(argv[2], NULL, 10);
    if (argc == 3 && strcmp(argv[1], "raw") == 0)
        return raw();
    if (argc == 4 && strcmp(argv[1], "hold") == 0)
        return hold((int)strtol(argv[3], NULL, 10));
    if (argc >= 6) {
        n_attack = (int)strtol(argv[3], NULL, 10);
        if (n_attack < 1 || n_attack > MAX_CONNS)
            n_attack = 1;
        attack_secs = strtod(argv[4], NULL);
        if (strcmp(argv[1], "slow") == 0 && argc == 6)
            return attack(true, argv[5]);
        if (strcmp(argv[1], "flood") == 0 && argc == 8) {
            flood_user = argv[6];
            flood_distinct = strcmp(argv[7], "distinct") == 0;
            return attack(false, argv[5]);
        }
    }
    fprintf(stderr, "usage: http_attack raw PORT | hold PORT N |\n"
                    "  slow PORT N SECS TOKEN |\n"
                    "  flood PORT N SECS TOKEN USER same|distinct\n");
    return 2;
}
