/*
 * fake_http.c - the scripted loopback HTTP server of the fuzz targets (see fake_http.h).
 */
#define _GNU_SOURCE
#include "fake_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX_REQUEST_HEAD 65536

struct fake_http {
    int listener;
    char url[96];
    char hostport[64];
    pthread_t thread;
    pthread_mutex_t mu;
    uint8_t *script;
    size_t script_len;
    size_t pos;      /* start of the next answer in script */
    bool used_up;    /* every answer was given */
    size_t requests; /* since the last script */
};

static const char separator[] = "\n~~~\n";

/* The next answer of the script as [*a, *a + *alen); false when the script is used up. */
static bool next_answer(fake_http *s, const uint8_t **a, size_t *alen)
{
    if (s->used_up)
        return false;
    const uint8_t *start = s->script + s->pos, *end = s->script + s->script_len;
    const uint8_t *sep = memmem(start, (size_t)(end - start), separator, sizeof separator - 1);
    *a = start;
    if (sep) {
        *alen = (size_t)(sep - start);
        s->pos = (size_t)(sep - s->script) + sizeof separator - 1;
    } else {
        *alen = (size_t)(end - start);
        s->used_up = true;
    }
    return true;
}

static void send_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        p += n;
        len -= (size_t)n;
    }
}

static bool header_is(const uint8_t *line, size_t len, const char *name)
{
    size_t n = strlen(name);
    return len > n && line[n] == ':' && strncasecmp((const char *)line, name, n) == 0;
}

/* Writes the answer a[0..alen) in HTTP form. */
static void answer(int fd, const uint8_t *a, size_t alen, bool head)
{
    const uint8_t *p = a, *end = a + alen;
    int status = 0, digits = 0;
    while (p < end && *p >= '0' && *p <= '9' && digits < 3) {
        status = status * 10 + (*p - '0');
        p++;
        digits++;
    }
    if (digits == 0)
        status = 200;
    if (status < 200)
        status = 200;
    if (status > 599)
        status = 599;
    const uint8_t *eol = memchr(p, '\n', (size_t)(end - p));
    p = eol ? eol + 1 : end;
    char *out = NULL;
    size_t outlen = 0;
    FILE *o = open_memstream(&out, &outlen);
    if (!o)
        return;
    fprintf(o, "HTTP/1.1 %d Fuzz\r\n", status);
    bool has_length = false;
    while (p < end) {
        eol = memchr(p, '\n', (size_t)(end - p));
        const uint8_t *le = eol ? eol : end;
        size_t len = (size_t)(le - p);
        if (len && p[len - 1] == '\r')
            len--;
        const uint8_t *line = p;
        p = eol ? eol + 1 : end;
        if (len == 0)
            break; /* the body follows */
        if (!memchr(line, ':', len) || header_is(line, len, "Connection") ||
            header_is(line, len, "Transfer-Encoding"))
            continue;
        if (header_is(line, len, "Content-Length"))
            has_length = true;
        fwrite(line, 1, len, o);
        fputs("\r\n", o);
    }
    size_t body_len = (size_t)(end - p);
    if (!has_length && !head)
        fprintf(o, "Content-Length: %zu\r\n", body_len);
    fputs("Connection: close\r\n\r\n", o);
    fclose(o);
    send_all(fd, out, outlen);
    free(out);
    if (!head && body_len)
        send_all(fd, p, body_len);
}

static const char script_ended[] = "500 script ended\n\n";

/* Reads one request (head and body) and answers it. */
static void serve(fake_http *s, int fd)
{
    char *head = malloc(MAX_REQUEST_HEAD + 1);
    if (!head)
        return;
    size_t len = 0;
    char *end = NULL;
    while (len < MAX_REQUEST_HEAD) {
        ssize_t n = recv(fd, head + len, MAX_REQUEST_HEAD - len, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
        head[len] = '\0';
        if ((end = memmem(head, len, "\r\n\r\n", 4)))
            break;
    }
    if (!end) {
        free(head);
        return;
    }
    bool is_head = strncmp(head, "HEAD ", 5) == 0;
    size_t body = 0, have = len - (size_t)(end + 4 - head);
    bool expect = false;
    for (char *l = strstr(head, "\r\n"); l && l < end; l = strstr(l + 2, "\r\n")) {
        if (strncasecmp(l + 2, "Content-Length:", 15) == 0)
            body = strtoull(l + 17, NULL, 10);
        if (strncasecmp(l + 2, "Expect: 100-continue", 20) == 0)
            expect = true;
    }
    free(head);
    if (expect && have < body)
        send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    char sink[65536];
    while (have < body) {
        ssize_t n = recv(fd, sink, sizeof sink, 0);
        if (n <= 0)
            return;
        have += (size_t)n;
    }
    const uint8_t *a;
    size_t alen;
    pthread_mutex_lock(&s->mu);
    s->requests++;
    bool scripted = next_answer(s, &a, &alen);
    if (!scripted) {
        a = (const uint8_t *)script_ended;
        alen = sizeof script_ended - 1;
    }
    answer(fd, a, alen, is_head);
    pthread_mutex_unlock(&s->mu);
}

static void *server_main(void *arg)
{
    fake_http *s = arg;
    for (;;) {
        int fd = accept(s->listener, NULL, NULL);
        if (fd < 0)
            continue;
        struct timeval tv = {5, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        serve(s, fd);
        shutdown(fd, SHUT_WR);
        close(fd);
    }
    return NULL;
}

fake_http *fake_http_start(void)
{
    fake_http *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    s->listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof addr;
    if (s->listener < 0 || bind(s->listener, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        listen(s->listener, 128) != 0 ||
        getsockname(s->listener, (struct sockaddr *)&addr, &alen) != 0) {
        perror("fake_http: cannot listen on 127.0.0.1");
        exit(2);
    }
    snprintf(s->hostport, sizeof s->hostport, "127.0.0.1:%d", ntohs(addr.sin_port));
    snprintf(s->url, sizeof s->url, "http://%s", s->hostport);
    pthread_mutex_init(&s->mu, NULL);
    s->used_up = true;
    if (pthread_create(&s->thread, NULL, server_main, s) != 0) {
        perror("fake_http: cannot start the server thread");
        exit(2);
    }
    return s;
}

const char *fake_http_url(const fake_http *s)
{
    return s->url;
}

const char *fake_http_hostport(const fake_http *s)
{
    return s->hostport;
}

void fake_http_script(fake_http *s, const uint8_t *data, size_t size)
{
    pthread_mutex_lock(&s->mu);
    free(s->script);
    s->script = malloc(size ? size : 1);
    if (!s->script)
        abort();
    if (size)
        memcpy(s->script, data, size);
    s->script_len = size;
    s->pos = 0;
    s->used_up = false;
    s->requests = 0;
    pthread_mutex_unlock(&s->mu);
}

size_t fake_http_requests(fake_http *s)
{
    pthread_mutex_lock(&s->mu);
    size_t n = s->requests;
    pthread_mutex_unlock(&s->mu);
    return n;
}

void fake_http_env(void)
{
    static const char *const proxies[] = {"http_proxy",  "HTTP_PROXY", "https_proxy",
                                          "HTTPS_PROXY", "all_proxy",  "ALL_PROXY"};
    for (size_t i = 0; i < sizeof proxies / sizeof proxies[0]; i++)
        unsetenv(proxies[i]);
    setenv("no_proxy", "*", 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIDFUZZ", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "fuzz-secret", 1);
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_PROFILE");
    setenv("AWS_REGION", "us-east-1", 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    setenv("CSVPIPE_AWS_MAX_ATTEMPTS", "1", 1);
    setenv("CSVPIPE_LOG", "error", 1);
}

fake_http *fake_http_start_for(const char *endpoint_var)
{
    fake_http_env();
    fake_http *s = fake_http_start();
    setenv(endpoint_var, fake_http_url(s), 1);
    return s;
}

cp_aws *fake_http_aws(fake_http *s, const uint8_t *data, size_t size, cp_error *err)
{
    fake_http_script(s, data, size);
    cp_error_clear(err);
    cp_aws *aws = NULL;
    if (cp_aws_new(&aws, err) != CP_OK)
        abort();
    return aws;
}
