/* SPDX-License-Identifier: Apache-2.0 */
/* A static file server on loopback, for tests that fetch feeds over HTTP. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

/*
 * Usage: file_server DIR PORT_FILE
 * Listens on 127.0.0.1, on a port the kernel picks, which it writes to
 * PORT_FILE; then answers GET /PATH with DIR/PATH, one request per
 * connection, until killed. A path with a ".." segment, or one that names
 * no regular file, is 404; other methods are 405. *.json files are served
 * as application/json, *.html as text/html, the rest as text/plain.
 */

#define HEAD_MAX 8192

static void send_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        p += n;
        len -= (size_t)n;
    }
}

static void status_only(int fd, const char *status)
{
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %s\r\nContent-Length: 0\r\n"
                     "Connection: close\r\n\r\n",
                     status);
    send_all(fd, head, (size_t)n);
}

static void serve(int fd, const char *dir)
{
    char head[HEAD_MAX];
    size_t len = 0;

    head[0] = '\0';
    while (len < sizeof head - 1 && strstr(head, "\r\n\r\n") == NULL) {
        ssize_t n = recv(fd, head + len, sizeof head - 1 - len, 0);
        if (n <= 0)
            return;
        len += (size_t)n;
        head[len] = '\0';
    }
    char method[16], target[2048];
    if (sscanf(head, "%15s %2047s", method, target) != 2)
        return;
    if (strcmp(method, "GET") != 0) {
        status_only(fd, "405 Method Not Allowed");
        return;
    }
    char *q = strchr(target, '?');
    if (q != NULL)
        *q = '\0';
    char path[4096];
    struct stat st;
    FILE *f = NULL;
    if (target[0] != '/' || strstr(target, "/..") != NULL ||
        snprintf(path, sizeof path, "%s%s", dir, target) >= (int)sizeof path ||
        stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
        (f = fopen(path, "rb")) == NULL) {
        status_only(fd, "404 Not Found");
        return;
    }
    size_t tl = strlen(target);
    const char *type =
        tl > 5 && strcmp(target + tl - 5, ".json") == 0   ? "application/json"
        : tl > 5 && strcmp(target + tl - 5, ".html") == 0 ? "text/html"
                                                          : "text/plain";
    char hdr[256];
    int n = snprintf(hdr, sizeof hdr,
                     "HTTP/1.1 200 OK\r\nContent-Type: %s\r\n"
                     "Content-Length: %lld\r\nConnection: close\r\n\r\n",
                     type, (long long)st.st_size);
    send_all(fd, hdr, (size_t)n);
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        send_all(fd, chunk, got);
    fclose(f);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: file_server DIR PORT_FILE\n");
        return 2;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
        perror("file_server");
        return 1;
    }
    /* Written whole, then renamed: a reader never sees half a port. */
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", argv[2]);
    FILE *pf = fopen(tmp, "w");
    if (pf == NULL || fprintf(pf, "%u\n", ntohs(a.sin_port)) < 0 ||
        fclose(pf) != 0 || rename(tmp, argv[2]) != 0) {
        perror(argv[2]);
        return 1;
    }
    for (;;) {
        int c = accept(fd, NULL, NULL);
        if (c < 0) {
            /* EINTR, an aborted connection, a full descriptor table:
             * the next client may fare better. */
            if (errno != EBADF && errno != EINVAL && errno != ENOTSOCK)
                continue;
            perror("accept");
            return 1;
        }
        /* A client that sends nothing must not hold the server. */
        struct timeval tv = {5, 0};
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        serve(c, argv[1]);
        close(c);
    }
}
