/* SPDX-License-Identifier: Apache-2.0 */
/* Pages a TAXII collection out over one keep-alive connection, and times it. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cairn/cairn.h"

/*
 * Usage: bench_pager PORT PATH BASIC_AUTH LIMIT
 * GETs http://127.0.0.1:PORT/PATH?limit=LIMIT, then follows "next" until
 * "more" is false; prints pages, objects (counted by "type" members at the
 * start of an object) and seconds. A process per page (curl) would time
 * process start-up rather than the server.
 */

#define RESP_MAX ((size_t)256 << 20)

static int send_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* "HTTP/1.1 200 OK" -> 200 */
static int parse_status(const char *s)
{
    const char *sp = strchr(s, ' ');
    return sp != NULL ? (int)strtol(sp + 1, NULL, 10) : 0;
}

/* One response into `b`; returns the body offset, or -1. */
static long read_response(int fd, struct cairn_buf *b, int *status)
{
    char chunk[65536];
    long body = -1;
    size_t want = 0;

    cairn_buf_reset(b);
    for (;;) {
        if (body < 0) {
            char *end = strstr(b->data ? b->data : "", "\r\n\r\n");
            if (end != NULL) {
                body = end + 4 - b->data;
                *status = parse_status(b->data);
                const char *cl = strcasestr(b->data, "\r\nContent-Length:");
                if (cl == NULL || cl > end)
                    return -1;
                want = (size_t)body + strtoul(cl + 17, NULL, 10);
            }
        }
        if (body >= 0 && b->len >= want)
            return body;
        ssize_t n = recv(fd, chunk, sizeof chunk, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || cairn_buf_append(b, chunk, (size_t)n) != 0)
            return -1;
    }
}

static double now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static size_t count(const char *s, const char *needle)
{
    size_t n = 0;
    size_t len = strlen(needle);

    while ((s = strstr(s, needle)) != NULL) {
        n++;
        s += len;
    }
    return n;
}

int main(int argc, char **argv)
{
    struct cairn_buf b;
    char req[4096];
    char next[128] = "";
    size_t pages = 0, objects = 0;
    int one = 1;
    int status = 0;

    if (argc != 5) {
        fprintf(stderr, "usage: bench_pager PORT PATH BASIC_AUTH LIMIT\n");
        return 2;
    }
    cairn_alloc_init();
    cairn_buf_init(&b, RESP_MAX);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port =
                                 htons((uint16_t)strtol(argv[1], NULL, 10))};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        perror("connect");
        return 1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    double t0 = now();
    for (;;) {
        int n =
            snprintf(req, sizeof req,
                     "GET %s?limit=%s%s%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Authorization: Basic %s\r\n"
                     "Accept: application/taxii+json;version=2.1\r\n\r\n",
                     argv[2], argv[4], next[0] ? "&next=" : "", next, argv[3]);
        if (n < 0 || (size_t)n >= sizeof req || send_all(fd, req, (size_t)n))
            return 1;
        long body = read_response(fd, &b, &status);
        if (body < 0 || status != 200) {
            fprintf(stderr, "page %zu: status %d\n", pages + 1, status);
            return 1;
        }
        pages++;
        objects += count(b.data + body, "{\"type\":");
        const char *nx = strstr(b.data + body, "\"next\":\"");
        if (nx == NULL || strstr(b.data + body, "\"more\":true") == NULL)
            break;
        nx += 8;
        size_t len = strcspn(nx, "\"");
        if (len >= sizeof next)
            return 1;
        memcpy(next, nx, len);
        next[len] = '\0';
    }
    printf("%zu %zu %.3f\n", pages, objects, now() - t0);
    close(fd);
    cairn_buf_release(&b);
    return 0;
}
