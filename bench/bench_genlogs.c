/* SPDX-License-Identifier: Apache-2.0 */
/* Writes deterministic telemetry (Zeek dns.log, squid access.log) to stdout. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
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
 * the query and an IPv4/IPv6 address one of the answers; in the proxy log
 * a URL is the request, a domain the request's host and an address the
 * server. A CIDR ("a.b.c.0/24", "2a01:8000::/32") plants an address
 * inside it.
 *
 * dns.log is as rich as a resolver's: A and AAAA answers with CNAME
 * chains and up to 8 addresses, TTL vectors, long telemetry and CDN
 * names, PTR (also ip6.arpa), SRV, TXT with escaped separators, NXDOMAIN
 * and unanswered queries, clients on IPv4 and IPv6.
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

enum vtype { V_DOMAIN, V_IPV4, V_IPV6, V_CIDR4, V_CIDR6, V_URL, V_OTHER };

static enum vtype vtype_of(const char *v)
{
    if (strstr(v, "://") != NULL)
        return V_URL;
    const char *slash = strchr(v, '/');
    if (strchr(v, ':') != NULL)
        return slash != NULL ? V_CIDR6 : V_IPV6;
    size_t dots = 0, digits = 0, n = slash ? (size_t)(slash - v) : strlen(v);
    for (size_t i = 0; i < n; i++) {
        dots += v[i] == '.';
        digits += v[i] >= '0' && v[i] <= '9';
    }
    if (dots == 3 && digits + dots == n)
        return slash != NULL ? V_CIDR4 : V_IPV4;
    if (dots > 0 && strchr(v, '@') == NULL && slash == NULL)
        return V_DOMAIN;
    return V_OTHER;
}

/*
 * The address to plant for a value: an address itself, or one inside a
 * CIDR (the network address with its last bits set, inside the prefix).
 */
static void plant_addr(const char *v, enum vtype t, char *out, size_t cap)
{
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%s", v);
    char *slash = strchr(tmp, '/');
    if (slash == NULL || (t != V_CIDR4 && t != V_CIDR6)) {
        snprintf(out, cap, "%s", v);
        return;
    }
    *slash = '\0';
    unsigned prefix = (unsigned)strtoul(slash + 1, NULL, 10);
    unsigned char a[16];
    int af = t == V_CIDR4 ? AF_INET : AF_INET6;
    unsigned bits = t == V_CIDR4 ? 32 : 128;
    if (inet_pton(af, tmp, a) != 1) {
        snprintf(out, cap, "%s", tmp);
        return;
    }
    /* set the host part's last bit pattern to ...0101 where it fits */
    if (prefix < bits) {
        unsigned host = bits - prefix;
        unsigned last = bits / 8 - 1;
        unsigned char pat = host >= 8 ? 0x25 : (unsigned char)(0x25 & ((1u << host) - 1));
        a[last] |= pat;
    }
    if (inet_ntop(af, a, out, (socklen_t)cap) == NULL)
        snprintf(out, cap, "%s", tmp);
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

/* A growing string: appends never overflow (they are cut at the cap). */
struct sb {
    char *p;
    size_t len, cap;
};

static void sb_add(struct sb *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void sb_add(struct sb *b, const char *fmt, ...)
{
    if (b->len + 1 >= b->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        b->len = b->len + (size_t)n < b->cap ? b->len + (size_t)n : b->cap - 1;
}

static void rand_label(char *out, unsigned n, const char *alphabet,
                       unsigned alen)
{
    for (unsigned i = 0; i < n; i++)
        out[i] = alphabet[pick(alen)];
    out[n] = '\0';
}

/*
 * A query name as resolvers see them: plain service names, long telemetry
 * and CDN names with hex or random labels, search-domain repeats.
 */
static void dns_query_name(char *out, size_t cap)
{
    static const char hexd[] = "0123456789abcdef";
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    char a[48], b[48];
    unsigned kind = pick(20);
    const char *o = orgs[pick(N_ORGS)];
    const char *t = tlds[pick(N_TLDS)];
    if (kind < 9) {
        host(out, cap);
    } else if (kind < 12) { /* telemetry: a 32-hex label and several more */
        rand_label(a, 32, hexd, 16);
        snprintf(out, cap, "%s.%s.%s.prod.%s-telemetry.%s", a,
                 words[pick(N_WORDS)], words[pick(N_WORDS)], o, t);
    } else if (kind < 14) { /* CDN edge names */
        rand_label(a, 8 + pick(12), alnum, 36);
        snprintf(out, cap, "%s-%u.%s.edge.%s-cdn.net", a, pick(100),
                 words[pick(N_WORDS)], o);
    } else if (kind < 16) { /* search-domain suffixes tried in turn */
        snprintf(out, cap, "%s%u.corp.%s.com.corp.%s.com", words[pick(N_WORDS)],
                 pick(200), o, o);
    } else if (kind < 18) { /* service records */
        static const char *const srv[] = {"_ldap._tcp.dc._msdcs",
                                          "_kerberos._udp", "_sip._tls",
                                          "_xmpp-client._tcp", "_autodiscover._tcp"};
        snprintf(out, cap, "%s.corp.%s.%s", srv[pick(5)], o, t);
    } else { /* DGA-like or base32 labels */
        rand_label(a, 12 + pick(20), alnum, 36);
        rand_label(b, 6 + pick(10), alnum, 26);
        snprintf(out, cap, "%s.%s.%s", a, b, t);
    }
}

static void v4_ordinary(char *out, size_t cap)
{
    /* 192..223: outside the ranges of bench/hunt.sh's indicators */
    snprintf(out, cap, "%u.%u.%u.%u", 192 + pick(32), pick(256), pick(256),
             1 + pick(254));
}

static void v6_ordinary(char *out, size_t cap)
{
    static const char *const first[] = {"2001", "2600", "2606", "2620",
                                        "2400", "2404", "2a00", "2a03"};
    unsigned k = pick(4);
    /* second group below 0x8000: the indicators' groups are above */
    if (k == 0)
        snprintf(out, cap, "%s:%x::%x", first[pick(8)], pick(0x8000),
                 1 + pick(0xffff));
    else if (k == 1)
        snprintf(out, cap, "%s:%x:%x:%x::%x:%x", first[pick(8)], pick(0x8000),
                 pick(0x10000), pick(0x10000), pick(0x10000), pick(0x10000));
    else
        snprintf(out, cap, "%s:%x:%x:%x:%x:%x:%x:%x", first[pick(8)],
                 pick(0x8000), pick(0x10000), pick(0x10000), pick(0x10000),
                 pick(0x10000), pick(0x10000), 1 + pick(0xffff));
}

static void cname(char *out, size_t cap, const char *q, unsigned step)
{
    const char *o = orgs[pick(N_ORGS)];
    switch ((step + pick(4)) % 4) {
    case 0:
        snprintf(out, cap, "%.80s.edgekey.net", q);
        break;
    case 1:
        snprintf(out, cap, "%.80s-c-3.edgekey.net.globalredir.akadns.net", q);
        break;
    case 2:
        snprintf(out, cap, "e%u.dscb.akamaiedge.net", pick(20000));
        break;
    default:
        snprintf(out, cap, "%s.%s-svc.trafficmanager.net", words[pick(N_WORDS)],
                 o);
        break;
    }
}

static unsigned ttl(void)
{
    static const unsigned common[] = {5, 20, 30, 60, 60, 120, 300, 300,
                                      300, 600, 900, 3600, 3600, 86400};
    unsigned t = common[pick(sizeof common / sizeof common[0])];
    return pick(3) == 0 ? 1 + pick(t) : t; /* cached answers count down */
}

/*
 * One dns.log line into buf; returns its length. The mix: A and AAAA
 * queries with CNAME chains and several addresses, PTR, SRV, TXT,
 * NXDOMAIN and unanswered queries, some clients on IPv6.
 */
static int dns_line(char *buf, size_t cap, double ts, const char *planted,
                    enum vtype pt)
{
    char q[256], u[19], orig[64], resp[64], pa[64] = "";
    char ans_buf[1024], ttl_buf[512];
    struct sb ans = {ans_buf, 0, sizeof ans_buf};
    struct sb ttls = {ttl_buf, 0, sizeof ttl_buf};
    uid(u);
    unsigned kind = pick(100);
    bool plant_q = planted != NULL && pt == V_DOMAIN;
    bool plant_a = planted != NULL && pt != V_DOMAIN;
    if (plant_a) {
        plant_addr(planted, pt, pa, sizeof pa);
        bool v6 = pt == V_IPV6 || pt == V_CIDR6;
        kind = v6 ? 60 : 0; /* an A or AAAA query that is answered */
    }
    if (plant_q)
        snprintf(q, sizeof q, "%s", planted);
    else
        dns_query_name(q, sizeof q);
    unsigned qtype = 1, rcode = 0;
    const char *qtype_name = "A", *rcode_name = "NOERROR";
    bool no_reply = false;
    if (kind < 55 || (plant_q && kind >= 80)) { /* A */
        unsigned chain = pick(10) < 4 ? 1 + pick(3) : 0;
        unsigned n_addr = 1 + pick(pick(4) == 0 ? 8 : 3);
        for (unsigned i = 0; i < chain; i++) {
            char c[160];
            cname(c, sizeof c, q, i);
            sb_add(&ans, "%s%s", ans.len ? "," : "", c);
            sb_add(&ttls, "%s%u.000000", ttls.len ? "," : "", ttl());
        }
        unsigned at = plant_a ? pick(n_addr) : n_addr;
        for (unsigned i = 0; i < n_addr; i++) {
            char a[64];
            if (i == at)
                snprintf(a, sizeof a, "%s", pa);
            else
                v4_ordinary(a, sizeof a);
            sb_add(&ans, "%s%s", ans.len ? "," : "", a);
            sb_add(&ttls, "%s%u.000000", ttls.len ? "," : "", ttl());
        }
    } else if (kind < 75) { /* AAAA: a quarter have no IPv6 address */
        qtype = 28;
        qtype_name = "AAAA";
        unsigned chain = pick(10) < 3 ? 1 + pick(2) : 0;
        unsigned n_addr = plant_a || pick(4) != 0 ? 1 + pick(3) : 0;
        for (unsigned i = 0; i < chain && (n_addr > 0 || pick(2)); i++) {
            char c[160];
            cname(c, sizeof c, q, i);
            sb_add(&ans, "%s%s", ans.len ? "," : "", c);
            sb_add(&ttls, "%s%u.000000", ttls.len ? "," : "", ttl());
        }
        unsigned at = plant_a ? pick(n_addr) : n_addr;
        for (unsigned i = 0; i < n_addr; i++) {
            char a[64];
            if (i == at)
                snprintf(a, sizeof a, "%s", pa);
            else
                v6_ordinary(a, sizeof a);
            sb_add(&ans, "%s%s", ans.len ? "," : "", a);
            sb_add(&ttls, "%s%u.000000", ttls.len ? "," : "", ttl());
        }
    } else if (kind < 82) { /* PTR, IPv4 or IPv6 nibbles */
        qtype = 12;
        qtype_name = "PTR";
        if (pick(4) == 0) {
            static const char hexd[] = "0123456789abcdef";
            char n[80];
            for (unsigned i = 0; i < 32; i++) {
                n[2 * i] = hexd[pick(16)];
                n[2 * i + 1] = '.';
            }
            n[64] = '\0';
            snprintf(q, sizeof q, "%sip6.arpa", n);
        } else {
            snprintf(q, sizeof q, "%u.%u.%u.10.in-addr.arpa", 1 + pick(254),
                     pick(256), pick(4));
        }
        if (pick(3) != 0) {
            char h[128];
            host(h, sizeof h);
            sb_add(&ans, "%s", h);
            sb_add(&ttls, "%u.000000", ttl());
        } else {
            rcode = 3;
            rcode_name = "NXDOMAIN";
        }
    } else if (kind < 86) { /* SRV */
        qtype = 33;
        qtype_name = "SRV";
        unsigned n = 1 + pick(3);
        for (unsigned i = 0; i < n; i++) {
            sb_add(&ans, "%sdc%02u.corp.%s.com", ans.len ? "," : "", pick(20),
                   orgs[pick(N_ORGS)]);
            sb_add(&ttls, "%s600.000000", ttls.len ? "," : "");
        }
    } else if (kind < 89) { /* TXT: free text, Zeek escapes its ',' */
        qtype = 16;
        qtype_name = "TXT";
        sb_add(&ans, "TXT 52 v=spf1 include:_spf.%s.com ip4:203.0.113.0/24 "
                     "-all",
               orgs[pick(N_ORGS)]);
        sb_add(&ttls, "3600.000000");
        if (pick(2) == 0) {
            sb_add(&ans, ",TXT 44 google-site-verification=%08x\\x2c%08x",
                   (unsigned)rng(), (unsigned)rng());
            sb_add(&ttls, ",3600.000000");
        }
    } else if (kind < 96) { /* NXDOMAIN */
        rcode = 3;
        rcode_name = "NXDOMAIN";
        if (pick(2) == 0) {
            qtype = 28;
            qtype_name = "AAAA";
        }
    } else { /* no reply */
        no_reply = true;
    }
    bool v6c = pick(10) == 0;
    if (v6c) {
        snprintf(orig, sizeof orig, "fd00:10:%x::%x", pick(16),
                 1 + pick(0xffff));
        snprintf(resp, sizeof resp, "fd00:10::53");
    } else {
        snprintf(orig, sizeof orig, "10.%u.%u.%u", pick(4), pick(256),
                 1 + pick(254));
        snprintf(resp, sizeof resp, "10.0.0.%u", 2 + pick(2));
    }
    char rtt[24];
    if (no_reply)
        snprintf(rtt, sizeof rtt, "-");
    else
        snprintf(rtt, sizeof rtt, "%.6f", (double)pick(100000) / 1e6);
    bool tcp = pick(50) == 0;
    return snprintf(buf, cap,
                    "%.6f\t%s\t%s\t%u\t%s\t53\t%s\t%u\t%s\t%s\t1\tC_INTERNET\t"
                    "%u\t%s\t%s\t%s\t%s\tF\tT\t%s\t0\t%s\t%s\tF\n",
                    ts, u, orig, 1024 + pick(64000), resp, tcp ? "tcp" : "udp",
                    pick(65536), rtt, q, qtype, qtype_name,
                    no_reply ? "-" : rcode == 3 ? "3" : "0",
                    no_reply ? "-" : rcode_name,
                    no_reply ? "F" : pick(8) == 0 ? "T" : "F",
                    no_reply ? "F" : "T", ans.len ? ans_buf : "-",
                    ttls.len ? ttl_buf : "-");
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
    if (planted != NULL && pt != V_DOMAIN && pt != V_URL)
        plant_addr(planted, pt, server, sizeof server);
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
    char line[4096];
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
