/* SPDX-License-Identifier: Apache-2.0 */
/* Writes deterministic telemetry (Zeek dns.log, squid access.log) to stdout. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * usage: bench_genlogs dns|proxy SIZE_MB [--plant FILE --every N]
 *                      [--manifest FILE] [--seed S]
 *
 * The same arguments always give the same bytes. Ordinary lines name
 * hosts built from a word list and random labels under *.example-ish
 * second-level names, so they do not collide with real indicators. With
 * --plant, every Nth line carries the next value of FILE (one per line,
 * used round-robin; '#' lines and blanks skipped): in dns.log a domain is
 * the query and an IPv4/IPv6 address an answer; in the proxy log a URL is
 * the request, a domain the request's host and an address the server.
 * --manifest writes "LINE<TAB>VALUE" for every planted line, so a test
 * can check that each one is found and nothing else is.
 */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static unsigned pick(unsigned n)
{
    return (unsigned)(rng() % n);
}

static const char *const words[] = {
    "mail",    "www",      "api",     "cdn",      "static",    "login",
    "update",  "portal",   "shop",    "news",     "video",     "images",
    "account", "secure",   "support", "docs",     "status",    "assets",
    "media",   "search",   "maps",    "drive",    "cloud",     "edge",
    "sync",    "push",     "auth",    "metrics",  "telemetry", "store",
    "files",   "blog",     "forum",   "help",     "dev",       "test",
    "stage",   "internal", "office",  "calendar", "chat",      "meet",
    "vpn",     "proxy",    "gateway", "backup",   "wiki",      "jira",
    "git",     "registry", "ads",     "track",    "pixel",     "beacon",
    "weather", "finance",  "sports",  "travel",   "music",     "games",
};
#define N_WORDS (sizeof words / sizeof words[0])

static const char *const orgs[] = {
    "examplecorp",   "contoso",   "fabrikam",   "northwind", "adventureworks",
    "wideworld",     "tailspin",  "litware",    "proseware", "woodgrove",
    "fourthcoffee",  "alpineski", "blueyonder", "coho",      "lucernepub",
    "margiestravel", "relecloud", "trey",       "wingtip",   "humongous",
};
#define N_ORGS (sizeof orgs / sizeof orgs[0])

static const char *const tlds[] = {"com", "net",   "org", "io",
                                   "de",  "co.uk", "fr",  "info"};
#define N_TLDS (sizeof tlds / sizeof tlds[0])

static const char *const paths[] = {
    "/",
    "/index.html",
    "/api/v1/items",
    "/static/app.js",
    "/img/logo.png",
    "/login",
    "/search?q=weather",
    "/feed.xml",
    "/favicon.ico",
    "/css/site.css",
    "/download/setup.msi",
    "/v2/metrics",
};
#define N_PATHS (sizeof paths / sizeof paths[0])

/* A realistic host name: word(s), sometimes a random label, an org, a TLD. */
static int host(char *out, size_t cap)
{
    char label[16] = "";
    unsigned kind = pick(10);
    if (kind < 2) {
        static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
        unsigned n = 6 + pick(8);
        for (unsigned i = 0; i < n; i++)
            label[i] = alnum[pick(36)];
        label[n] = '\0';
    }
    const char *w = words[pick(N_WORDS)];
    const char *o = orgs[pick(N_ORGS)];
    const char *t = tlds[pick(N_TLDS)];
    if (kind < 2)
        return snprintf(out, cap, "%s.%s.%s-svc.%s", label, w, o, t);
    if (kind < 5)
        return snprintf(out, cap, "%s.%s.%s", w, o, t);
    return snprintf(out, cap, "%s%u.%s.%s", w, pick(20), o, t);
}

static void uid(char *out)
{
    static const char b62[] =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    out[0] = 'C';
    for (int i = 1; i < 18; i++)
        out[i] = b62[pick(62)];
    out[18] = '\0';
}

enum vtype { V_DOMAIN, V_IPV4, V_IPV6, V_URL, V_OTHER };

static enum vtype vtype_of(const char *v)
{
    if (strstr(v, "://") != NULL)
        return V_URL;
    if (strchr(v, ':') != NULL)
        return V_IPV6;
    size_t dots = 0, digits = 0, n = strlen(v);
    for (size_t i = 0; i < n; i++) {
        dots += v[i] == '.';
        digits += v[i] >= '0' && v[i] <= '9';
    }
    if (dots == 3 && digits + dots == n)
        return V_IPV4;
    if (dots > 0 && strchr(v, '@') == NULL && strchr(v, '/') == NULL)
        return V_DOMAIN;
    return V_OTHER;
}

struct plant {
    char **values;
    size_t n, next;
    unsigned long every;
    FILE *manifest;
};

static int load_plant(const char *path, struct plant *p)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "bench_genlogs: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[4096];
    size_t alloc = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        size_t n = strcspn(line, "\r\n");
        line[n] = '\0';
        if (n == 0 || line[0] == '#')
            continue;
        if (p->n == alloc) {
            alloc = alloc ? alloc * 2 : 64;
            char **v = realloc(p->values, alloc * sizeof *v);
            if (v == NULL) {
                fclose(f);
                return -1;
            }
            p->values = v;
        }
        p->values[p->n] = strdup(line);
        if (p->values[p->n] == NULL) {
            fclose(f);
            return -1;
        }
        p->n++;
    }
    fclose(f);
    if (p->n == 0) {
        fprintf(stderr, "bench_genlogs: %s: no values\n", path);
        return -1;
    }
    return 0;
}

/* The next planted value that fits this log, or NULL. */
static const char *next_plant(struct plant *p, bool dns, enum vtype *t)
{
    for (size_t tries = 0; tries < p->n; tries++) {
        const char *v = p->values[p->next];
        p->next = (p->next + 1) % p->n;
        *t = vtype_of(v);
        if (*t == V_OTHER || (dns && *t == V_URL))
            continue;
        return v;
    }
    return NULL;
}

static void dns_header(FILE *out)
{
    fputs("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n"
          "#unset_field\t-\n#path\tdns\n#open\t2020-12-14-00-00-00\n"
          "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\t"
          "proto\ttrans_id\trtt\tquery\tqclass\tqclass_name\tqtype\t"
          "qtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\t"
          "rejected\n"
          "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\t"
          "interval\tstring\tcount\tstring\tcount\tstring\tcount\tstring\t"
          "bool\tbool\tbool\tbool\tcount\tvector[string]\tvector[interval]\t"
          "bool\n",
          out);
}

/* One dns.log line into buf; returns its length. */
static int dns_line(char *buf, size_t cap, double ts, const char *planted,
                    enum vtype pt)
{
    char q[128], ans[160], u[19];
    uid(u);
    if (planted != NULL && pt == V_DOMAIN)
        snprintf(q, sizeof q, "%s", planted);
    else
        host(q, sizeof q);
    bool aaaa = pick(5) == 0 || (planted != NULL && pt == V_IPV6);
    if (planted != NULL && (pt == V_IPV4 || pt == V_IPV6))
        snprintf(ans, sizeof ans, "%s", planted);
    else if (aaaa)
        snprintf(ans, sizeof ans, "2001:db8:%x:%x::%x", pick(65536),
                 pick(65536), 1 + pick(65535));
    else if (pick(3) == 0)
        snprintf(ans, sizeof ans, "edge%u.cdn.%s.net,192.0.2.%u", pick(50),
                 orgs[pick(N_ORGS)], 1 + pick(254));
    else
        snprintf(ans, sizeof ans, "198.51.100.%u", 1 + pick(254));
    bool two = strchr(ans, ',') != NULL;
    return snprintf(buf, cap,
                    "%.6f\t%s\t10.%u.%u.%u\t%u\t10.0.0.2\t53\tudp\t%u\t"
                    "%.6f\t%s\t1\tC_INTERNET\t%u\t%s\t0\tNOERROR\tF\tF\tT\tT\t"
                    "0\t%s\t%s\tF\n",
                    ts, u, pick(4), pick(256), 1 + pick(254),
                    1024 + pick(64000), pick(65536), (double)pick(100000) / 1e6,
                    q, aaaa ? 28 : 1, aaaa ? "AAAA" : "A", ans,
                    two ? "300.000000,60.000000" : "3600.000000");
}

/* One squid access.log line (native format) into buf. */
static int proxy_line(char *buf, size_t cap, double ts, const char *planted,
                      enum vtype pt)
{
    char url[600], h[128], server[64];
    if (planted != NULL && pt == V_URL) {
        snprintf(url, sizeof url, "%s", planted);
    } else {
        if (planted != NULL && pt == V_DOMAIN)
            snprintf(h, sizeof h, "%s", planted);
        else
            host(h, sizeof h);
        snprintf(url, sizeof url, "http://%s%s", h, paths[pick(N_PATHS)]);
    }
    if (planted != NULL && (pt == V_IPV4 || pt == V_IPV6))
        snprintf(server, sizeof server, "%s", planted);
    else
        snprintf(server, sizeof server, "203.0.113.%u", 1 + pick(254));
    static const char *const codes[] = {"TCP_MISS/200", "TCP_HIT/200",
                                        "TCP_MISS/304", "TCP_MISS/404"};
    static const char *const types[] = {"text/html", "application/json",
                                        "image/png", "text/css"};
    return snprintf(
        buf, cap, "%.3f %6u 10.%u.%u.%u %s %u GET %s - HIER_DIRECT/%s %s\n", ts,
        pick(5000), pick(4), pick(256), 1 + pick(254), codes[pick(4)],
        200 + pick(90000), url, server, types[pick(4)]);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_genlogs dns|proxy SIZE_MB [--plant FILE --every N]"
            " [--manifest FILE] [--seed S] > out\n"
            "  dns     Zeek TSV dns.log with its #fields header\n"
            "  proxy   squid access.log (native format)\n"
            "  --plant FILE  values (one a line) planted round-robin\n"
            "  --every N     plant on every Nth line (default 1000)\n"
            "  --manifest F  write LINE<TAB>VALUE for each planted line\n");
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        usage();
        return 2;
    }
    bool dns = strcmp(argv[1], "dns") == 0;
    if (!dns && strcmp(argv[1], "proxy") != 0) {
        usage();
        return 2;
    }
    char *end;
    errno = 0;
    unsigned long long mb = strtoull(argv[2], &end, 10);
    if (errno != 0 || *end != '\0' || mb == 0 || mb > 1024 * 1024) {
        usage();
        return 2;
    }
    struct plant plant = {.every = 1000};
    const char *plant_file = NULL, *manifest = NULL;
    for (int i = 3; i < argc; i++) {
        if (i + 1 >= argc) {
            usage();
            return 2;
        }
        if (strcmp(argv[i], "--plant") == 0) {
            plant_file = argv[++i];
        } else if (strcmp(argv[i], "--every") == 0) {
            plant.every = strtoul(argv[++i], &end, 10);
            if (*end != '\0' || plant.every == 0) {
                usage();
                return 2;
            }
        } else if (strcmp(argv[i], "--manifest") == 0) {
            manifest = argv[++i];
        } else if (strcmp(argv[i], "--seed") == 0) {
            rng_state ^= strtoull(argv[++i], &end, 10);
        } else {
            usage();
            return 2;
        }
    }
    if (plant_file != NULL && load_plant(plant_file, &plant) != 0)
        return 2;
    if (manifest != NULL) {
        plant.manifest = fopen(manifest, "w");
        if (plant.manifest == NULL) {
            fprintf(stderr, "bench_genlogs: %s: %s\n", manifest,
                    strerror(errno));
            return 2;
        }
    }
    static char out_buf[1 << 20];
    setvbuf(stdout, out_buf, _IOFBF, sizeof out_buf);
    uint64_t target = (uint64_t)mb * 1024 * 1024, written = 0;
    uint64_t line_no = 0, planted_n = 0;
    if (dns) {
        dns_header(stdout);
        line_no = 8;
    }
    double ts = 1607904000.0; /* 2020-12-14T00:00:00Z */
    char line[1024];
    uint64_t data_lines = 0;
    while (written < target) {
        const char *pv = NULL;
        enum vtype pt = V_OTHER;
        data_lines++;
        if (plant.n > 0 && data_lines % plant.every == 0)
            pv = next_plant(&plant, dns, &pt);
        ts += (double)pick(2000) / 1e5;
        int n = dns ? dns_line(line, sizeof line, ts, pv, pt)
                    : proxy_line(line, sizeof line, ts, pv, pt);
        if (n <= 0 || (size_t)n >= sizeof line)
            continue;
        line_no++;
        if (pv != NULL) {
            planted_n++;
            if (plant.manifest != NULL)
                fprintf(plant.manifest, "%" PRIu64 "\t%s\n", line_no, pv);
        }
        if (fwrite(line, 1, (size_t)n, stdout) != (size_t)n) {
            fprintf(stderr, "bench_genlogs: write failed: %s\n",
                    strerror(errno));
            return 2;
        }
        written += (uint64_t)n;
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "bench_genlogs: write failed: %s\n", strerror(errno));
        return 2;
    }
    if (plant.manifest != NULL)
        fclose(plant.manifest);
    fprintf(stderr,
            "bench_genlogs: %" PRIu64 " lines, %" PRIu64 " bytes, %" PRIu64
            " planted\n",
            line_no, written, planted_n);
    for (size_t i = 0; i < plant.n; i++)
        free(plant.values[i]);
    free(plant.values);
    return 0;
}
