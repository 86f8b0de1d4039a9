#include "wlf_fcgi.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "wlf_sys.h"

#define RESPONSE_MAX (4 * 1024 * 1024)  /* a status page is a few KiB */
#define REQUEST_ID 1

ssize_t wlf_fcgi_parse_record(const unsigned char *buf, size_t len,
                              wlf_fcgi_record *rec)
{
    size_t total;

    if (len < WLF_FCGI_HEADER_LEN)
        return 0;
    if (buf[0] != WLF_FCGI_VERSION_1 || buf[1] == 0 ||
        buf[1] > WLF_FCGI_UNKNOWN_TYPE)
        return -1;
    rec->version = buf[0];
    rec->type = buf[1];
    rec->request_id = (unsigned short)((buf[2] << 8) | buf[3]);
    rec->content_length = (unsigned short)((buf[4] << 8) | buf[5]);
    rec->padding_length = buf[6];
    total = WLF_FCGI_HEADER_LEN + rec->content_length + rec->padding_length;
    if (len < total)
        return 0;
    rec->content = buf + WLF_FCGI_HEADER_LEN;
    return (ssize_t)total;
}

void wlf_fcgi_header(unsigned char *out, unsigned char type,
                     unsigned short request_id,
                     unsigned short content_length)
{
    out[0] = WLF_FCGI_VERSION_1;
    out[1] = type;
    out[2] = (unsigned char)(request_id >> 8);
    out[3] = (unsigned char)request_id;
    out[4] = (unsigned char)(content_length >> 8);
    out[5] = (unsigned char)content_length;
    out[6] = 0;
    out[7] = 0;
}

static size_t encode_len(unsigned char *out, size_t len)
{
    if (len < 128) {
        out[0] = (unsigned char)len;
        return 1;
    }
    out[0] = (unsigned char)(0x80 | ((len >> 24) & 0x7f));
    out[1] = (unsigned char)(len >> 16);
    out[2] = (unsigned char)(len >> 8);
    out[3] = (unsigned char)len;
    return 4;
}

size_t wlf_fcgi_encode_pair(unsigned char *out, size_t cap, const char *name,
                            const char *value)
{
    size_t nl = strlen(name), vl = strlen(value), n;

    if (nl > 0x7fffffff || vl > 0x7fffffff)
        return 0;
    if ((nl < 128 ? 1 : 4) + (vl < 128 ? 1 : 4) + nl + vl > cap)
        return 0;
    n = encode_len(out, nl);
    n += encode_len(out + n, vl);
    memcpy(out + n, name, nl);
    memcpy(out + n + nl, value, vl);
    return n + nl + vl;
}

static int append(char **buf, size_t *len, const unsigned char *data,
                  size_t n)
{
    char *nb;

    if (*len + n > RESPONSE_MAX)
        return -1;
    nb = realloc(*buf, *len + n + 1);
    if (nb == NULL)
        return -1;
    memcpy(nb + *len, data, n);
    *len += n;
    nb[*len] = '\0';
    *buf = nb;
    return 0;
}

int wlf_fcgi_collect(const unsigned char *buf, size_t len,
                     wlf_fcgi_response *resp)
{
    size_t off = 0;

    while (off < len) {
        wlf_fcgi_record rec;
        ssize_t n = wlf_fcgi_parse_record(buf + off, len - off, &rec);

        if (n < 0)
            return -1;
        if (n == 0)
            return 1;
        off += (size_t)n;
        if (rec.request_id != REQUEST_ID)
            continue;
        switch (rec.type) {
        case WLF_FCGI_STDOUT:
            if (append(&resp->out, &resp->out_len, rec.content,
                       rec.content_length) < 0)
                return -1;
            break;
        case WLF_FCGI_STDERR:
            if (append(&resp->err, &resp->err_len, rec.content,
                       rec.content_length) < 0)
                return -1;
            break;
        case WLF_FCGI_END_REQUEST:
            if (rec.content_length < 8)
                return -1;
            resp->app_status = ((unsigned)rec.content[0] << 24) |
                               ((unsigned)rec.content[1] << 16) |
                               ((unsigned)rec.content[2] << 8) |
                               rec.content[3];
            resp->protocol_status = rec.content[4];
            return 0;
        default:
            break;
        }
    }
    return 1;
}

void wlf_fcgi_response_free(wlf_fcgi_response *resp)
{
    free(resp->out);
    free(resp->err);
    memset(resp, 0, sizeof(*resp));
}

/* wait for fd to become ready for `events` until `deadline` */
static int wait_fd(int fd, short events, long long deadline)
{
    for (;;) {
        struct pollfd p = { fd, events, 0 };
        long long left = deadline - wlf_now_ms();
        int rc;

        if (left <= 0)
            return 0;
        rc = poll(&p, 1, (int)left);
        if (rc < 0 && errno == EINTR)
            continue;
        return rc;
    }
}

int wlf_fcgi_build_request(const char *const *params, int keep,
                           unsigned char **out, size_t *out_len)
{
    unsigned char pairs[8192], *buf;
    size_t plen = 0, len;

    for (const char *const *p = params; p[0] && p[1]; p += 2) {
        size_t n = wlf_fcgi_encode_pair(pairs + plen, sizeof(pairs) - plen,
                                        p[0], p[1]);
        if (n == 0)
            return -1;
        plen += n;
    }
    if ((buf = malloc(16 + 8 + plen + 16)) == NULL)
        return -1;
    wlf_fcgi_header(buf, WLF_FCGI_BEGIN_REQUEST, REQUEST_ID, 8);
    memset(buf + 8, 0, 8);
    buf[9] = 1;                 /* role RESPONDER */
    buf[10] = keep ? 1 : 0;     /* flags: FCGI_KEEP_CONN */
    len = 16;
    wlf_fcgi_header(buf + len, WLF_FCGI_PARAMS, REQUEST_ID,
                    (unsigned short)plen);
    memcpy(buf + len + 8, pairs, plen);
    len += 8 + plen;
    wlf_fcgi_header(buf + len, WLF_FCGI_PARAMS, REQUEST_ID, 0);
    wlf_fcgi_header(buf + len + 8, WLF_FCGI_STDIN, REQUEST_ID, 0);
    *out = buf;
    *out_len = len + 16;
    return 0;
}

/* A non-blocking socket whose first connect() to sock_path was tried:
 * the fd (*connected 1 if that succeeded), or -1 with err set. */
static int start_connect(const char *sock_path, struct sockaddr_un *sa,
                         int *connected, wlf_err *err)
{
    int fd;

    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    if (strlen(sock_path) >= sizeof(sa->sun_path))
        return wlf_fail(err, "socket", "path too long: %s", sock_path);
    memcpy(sa->sun_path, sock_path, strlen(sock_path));
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return wlf_fail(err, "socket", "socket: %s", strerror(errno));
    *connected = connect(fd, (struct sockaddr *)sa, sizeof(*sa)) == 0;
    return fd;
}

int wlf_socket_accepts(const char *sock_path)
{
    struct sockaddr_un sa;
    int connected, fd = start_connect(sock_path, &sa, &connected, NULL);
    /* EAGAIN: a full listen queue, but someone is listening */
    int ok = fd >= 0 && (connected || errno == EAGAIN);

    if (fd >= 0)
        close(fd);
    return ok;
}

/* A connected non-blocking socket to sock_path, or -1 with err set. */
static int connect_unix(const char *sock_path, long long deadline,
                        int timeout_ms, wlf_err *err)
{
    struct sockaddr_un sa;
    int connected, fd = start_connect(sock_path, &sa, &connected, err);

    if (fd < 0 || connected)
        return fd;
    /* unix sockets report a full backlog as EAGAIN: wait and retry */
    while (errno == EAGAIN || errno == EINPROGRESS || errno == EALREADY) {
        if (wait_fd(fd, POLLOUT, deadline) <= 0) {
            close(fd);
            return wlf_fail(err, "socket", "connect %s: timed out after %d "
                            "ms", sock_path, timeout_ms);
        }
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ||
            errno == EISCONN)
            return fd;
    }
    wlf_fail(err, "socket", "connect %s: %s", sock_path, strerror(errno));
    close(fd);
    return -1;
}

/* After send() (POLLOUT) or recv() (POLLIN) on fd failed: 0 when the
 * socket became ready to try again, -1 with err set when time ran out or
 * the error is a real one. */
static int retry_io(int fd, short events, long long deadline,
                    const char *sock_path, int timeout_ms, wlf_err *err)
{
    int sending = events == POLLOUT;

    if (errno != EAGAIN && errno != EINTR)
        return wlf_fail(err, "socket", "%s %s: %s",
                        sending ? "send to" : "read from", sock_path,
                        strerror(errno));
    if (wait_fd(fd, events, deadline) > 0)
        return 0;
    if (sending)
        return wlf_fail(err, "socket", "%s: timed out after %d ms sending",
                        sock_path, timeout_ms);
    return wlf_fail(err, "socket", "%s: no answer within %d ms", sock_path,
                    timeout_ms);
}

/* Send req on fd and read until END_REQUEST (the connection may stay
 * open afterwards: kept-alive requests). */
static int exchange(int fd, const char *sock_path, const unsigned char *req,
                    size_t req_len, long long deadline, int timeout_ms,
                    wlf_fcgi_response *resp, wlf_err *err)
{
    unsigned char *in = NULL;
    size_t sent = 0, in_len = 0, in_cap = 0;
    int rc = -1;

    memset(resp, 0, sizeof(*resp));
    while (sent < req_len) {
        ssize_t n = send(fd, req + sent, req_len - sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (retry_io(fd, POLLOUT, deadline, sock_path, timeout_ms,
                         err) < 0)
                goto out;
            continue;
        }
        sent += (size_t)n;
    }
    for (;;) {
        ssize_t n;
        if (in_cap - in_len < 4096) {
            size_t ncap = in_cap ? in_cap * 2 : 16384;
            unsigned char *ni;
            if (ncap > RESPONSE_MAX) {
                wlf_fail(err, "socket", "%s: response larger than %d bytes",
                         sock_path, RESPONSE_MAX);
                goto out;
            }
            if ((ni = realloc(in, ncap)) == NULL) {
                wlf_fail(err, "socket", "out of memory");
                goto out;
            }
            in = ni;
            in_cap = ncap;
        }
        n = recv(fd, in + in_len, in_cap - in_len, 0);
        if (n < 0) {
            if (retry_io(fd, POLLIN, deadline, sock_path, timeout_ms,
                         err) < 0)
                goto out;
            continue;
        }
        if (n == 0) {
            wlf_fail(err, "socket", "%s: connection closed before the end "
                     "of the response", sock_path);
            goto out;
        }
        in_len += (size_t)n;
        /* cheap enough for a few KiB: re-scan until END_REQUEST */
        wlf_fcgi_response_free(resp);
        switch (wlf_fcgi_collect(in, in_len, resp)) {
        case 0:
            rc = 0;
            goto out;
        case -1:
            wlf_fail(err, "socket", "%s: not a FastCGI response", sock_path);
            goto out;
        default:
            break;
        }
    }
out:
    if (rc < 0)
        wlf_fcgi_response_free(resp);
    free(in);
    return rc;
}

int wlf_fcgi_request(const char *sock_path, const char *const *params,
                     int timeout_ms, wlf_fcgi_response *resp, wlf_err *err)
{
    long long deadline = wlf_now_ms() + timeout_ms;
    unsigned char *req;
    size_t req_len;
    int fd, rc;

    memset(resp, 0, sizeof(*resp));
    if (wlf_fcgi_build_request(params, 0, &req, &req_len) < 0)
        return wlf_fail(err, "socket", "request parameters too large");
    if ((fd = connect_unix(sock_path, deadline, timeout_ms, err)) < 0) {
        free(req);
        return -1;
    }
    rc = exchange(fd, sock_path, req, req_len, deadline, timeout_ms, resp,
                  err);
    close(fd);
    free(req);
    return rc;
}

int wlf_fcgi_http_status(const char *out, size_t len, const char **body,
                         size_t *body_len)
{
    const char *p = out, *end = out + len;
    int status = 200;

    *body = out;
    *body_len = len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        size_t line_len;

        if (eol == NULL)
            return status;
        line_len = (size_t)(eol - p);
        if (line_len && p[line_len - 1] == '\r')
            line_len--;
        if (line_len == 0) {
            *body = eol + 1;
            *body_len = (size_t)(end - (eol + 1));
            return status;
        }
        if (line_len > 7 && strncasecmp(p, "Status:", 7) == 0) {
            int s = atoi(p + 7);
            if (s >= 100 && s <= 999)
                status = s;
        }
        p = eol + 1;
    }
    return status;
}

/* The params of a GET of php-fpm's own `path` (ping or status page). */
#define GET_PARAMS 18
static void get_params(const char *params[GET_PARAMS], const char *path,
                       const char *qs)
{
    const char *const p[GET_PARAMS] = {
        "GATEWAY_INTERFACE", "FastCGI/1.0",
        "REQUEST_METHOD", "GET",
        "SCRIPT_NAME", path,
        "SCRIPT_FILENAME", path,
        "REQUEST_URI", path,
        "QUERY_STRING", qs,
        "SERVER_SOFTWARE", "fpmctl",
        "REMOTE_ADDR", "127.0.0.1",
        NULL, NULL
    };

    memcpy(params, p, sizeof(p));
}

/* GET php-fpm's own `path`: 0 when it answers 200 with a body that
 * good() accepts; else -1, and *status is what it answered (0: nothing,
 * err says why). */
static int get_page(const char *sock_path, const char *path, int timeout_ms,
                    int (*good)(const char *body, size_t len, void *arg),
                    void *arg, int *status, wlf_err *err)
{
    const char *params[GET_PARAMS], *body;
    wlf_fcgi_response resp;
    size_t body_len;
    int ok;

    *status = 0;
    get_params(params, path, "");
    if (wlf_fcgi_request(sock_path, params, timeout_ms, &resp, err) < 0)
        return -1;
    *status = wlf_fcgi_http_status(resp.out ? resp.out : "", resp.out_len,
                                   &body, &body_len);
    ok = *status == 200 && good(body, body_len, arg);
    wlf_fcgi_response_free(&resp);
    return ok ? 0 : -1;
}

int wlf_fcgi_warm(const char *sock_path, const char *path, int n,
                  int timeout_ms, wlf_err *err)
{
    const char *params[GET_PARAMS];
    long long deadline = wlf_now_ms() + timeout_ms;
    unsigned char *req;
    size_t req_len;
    int *fds, warmed = 0;

    if (n < 1)
        return 0;
    if ((fds = calloc((size_t)n, sizeof(int))) == NULL)
        return wlf_fail(err, "socket", "out of memory");
    get_params(params, path, "");
    if (wlf_fcgi_build_request(params, 1, &req, &req_len) < 0) {
        free(fds);
        return wlf_fail(err, "socket", "request parameters too large");
    }
    /* Each answered ping keeps its worker on our open connection, so the
     * next connection finds no idle worker and FPM forks one more. */
    while (warmed < n) {
        wlf_fcgi_response resp;
        int fd = connect_unix(sock_path, deadline, timeout_ms, err);
        if (fd < 0)
            break;
        if (exchange(fd, sock_path, req, req_len, deadline, timeout_ms,
                     &resp, err) < 0) {
            close(fd);
            break;
        }
        wlf_fcgi_response_free(&resp);
        fds[warmed++] = fd;
    }
    for (int i = 0; i < warmed; i++)
        close(fds[i]);
    free(fds);
    free(req);
    return warmed;
}

static int is_pong(const char *body, size_t len, void *arg)
{
    (void)arg;
    return len >= 4 && memcmp(body, "pong", 4) == 0;
}

int wlf_fcgi_ping(const char *sock_path, const char *path, int timeout_ms,
                  wlf_err *err)
{
    int status;

    if (get_page(sock_path, path, timeout_ms, is_pong, NULL, &status,
                 err) == 0)
        return 0;
    if (status == 0)
        return -1;
    return wlf_fail(err, "socket", "%s: ping answered status %d, not pong",
                    sock_path, status);
}

static long long status_number(const char *v)
{
    char *end;
    long long n = strtoll(v, &end, 10);

    return end == v ? -1 : n;
}

int wlf_fpm_status_parse(const char *text, size_t len, wlf_fpm_status *st)
{
    static const struct {
        const char *key;
        size_t off;
    } nums[] = {
        { "start since", offsetof(wlf_fpm_status, start_since) },
        { "accepted conn", offsetof(wlf_fpm_status, accepted_conn) },
        { "listen queue", offsetof(wlf_fpm_status, listen_queue) },
        { "max listen queue", offsetof(wlf_fpm_status, max_listen_queue) },
        { "listen queue len", offsetof(wlf_fpm_status, listen_queue_len) },
        { "idle processes", offsetof(wlf_fpm_status, idle_processes) },
        { "active processes", offsetof(wlf_fpm_status, active_processes) },
        { "total processes", offsetof(wlf_fpm_status, total_processes) },
        { "max active processes",
          offsetof(wlf_fpm_status, max_active_processes) },
        { "max children reached",
          offsetof(wlf_fpm_status, max_children_reached) },
        { "slow requests", offsetof(wlf_fpm_status, slow_requests) },
    };
    const char *p = text, *end = text + len;
    int found_pool = 0;

    memset(st, 0, sizeof(*st));
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
        *(long long *)((char *)st + nums[i].off) = -1;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *colon;
        char key[64], value[128];
        size_t klen, vlen;

        if (eol == NULL)
            eol = end;
        colon = memchr(p, ':', (size_t)(eol - p));
        if (colon && colon > p && (size_t)(colon - p) < sizeof(key)) {
            const char *v = colon + 1;
            klen = (size_t)(colon - p);
            memcpy(key, p, klen);
            key[klen] = '\0';
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            vlen = (size_t)(eol - v);
            while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == ' '))
                vlen--;
            if (vlen >= sizeof(value))
                vlen = sizeof(value) - 1;
            memcpy(value, v, vlen);
            value[vlen] = '\0';
            if (strcmp(key, "pool") == 0) {
                wlf_copy(st->pool, sizeof(st->pool), value);
                found_pool = 1;
            }
            else if (strcmp(key, "process manager") == 0)
                wlf_copy(st->process_manager, sizeof(st->process_manager),
                         value);
            else if (strcmp(key, "start time") == 0)
                wlf_copy(st->start_time, sizeof(st->start_time), value);
            else
                for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
                    if (strcmp(key, nums[i].key) == 0)
                        *(long long *)((char *)st + nums[i].off) =
                            status_number(value);
        }
        p = eol + 1;
    }
    return found_pool ? 0 : -1;
}

static int is_status_page(const char *body, size_t len, void *st)
{
    return wlf_fpm_status_parse(body, len, st) == 0;
}

int wlf_fpm_status_fetch(const char *sock_path, const char *path,
                         int timeout_ms, wlf_fpm_status *st, wlf_err *err)
{
    int status;

    if (get_page(sock_path, path, timeout_ms, is_status_page, st, &status,
                 err) == 0)
        return 0;
    if (status == 0)
        return -1;
    return wlf_fail(err, "socket", "%s: status page answered %d without a "
                    "pool line", sock_path, status);
}

int wlf_fpm_time_iso8601(const char *fpm, char *out, size_t len)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    char mon[4], sign;
    int day, year, h, m, sec, off, n = 0;
    const char *found;

    if (len)
        out[0] = '\0';
    if (sscanf(fpm, "%2d/%3[A-Za-z]/%4d:%2d:%2d:%2d %c%4d%n", &day, mon,
               &year, &h, &m, &sec, &sign, &off, &n) != 8 ||
        fpm[n] != '\0' || (sign != '+' && sign != '-') ||
        (found = strstr(months, mon)) == NULL ||
        (found - months) % 3 != 0 || strlen(mon) != 3)
        return -1;
    if ((size_t)snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
                         year, (int)(found - months) / 3 + 1, day, h, m, sec,
                         sign, off / 100, off % 100) >= len) {
        if (len)
            out[0] = '\0';
        return -1;
    }
    return 0;
}
