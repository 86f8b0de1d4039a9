/*
 * wlf_fcgi.h - a small FastCGI client: enough to ping a php-fpm pool and
 * read its status page over the pool's own unix socket, with no httpd and
 * no curl. Used by fpmctl (ping after start/reload, `status`) and by
 * mod_wlfcgi's status handler.
 *
 * The record parser is separate from the socket code so that it can be
 * unit-tested and fuzzed on its own.
 */
#ifndef WLF_FCGI_H
#define WLF_FCGI_H

#include <stddef.h>
#include <sys/types.h>

#include "wlf_err.h"

#define WLF_FCGI_HEADER_LEN 8
#define WLF_FCGI_VERSION_1 1

enum {
    WLF_FCGI_BEGIN_REQUEST = 1,
    WLF_FCGI_ABORT_REQUEST = 2,
    WLF_FCGI_END_REQUEST = 3,
    WLF_FCGI_PARAMS = 4,
    WLF_FCGI_STDIN = 5,
    WLF_FCGI_STDOUT = 6,
    WLF_FCGI_STDERR = 7,
    WLF_FCGI_DATA = 8,
    WLF_FCGI_GET_VALUES = 9,
    WLF_FCGI_GET_VALUES_RESULT = 10,
    WLF_FCGI_UNKNOWN_TYPE = 11
};

typedef struct {
    unsigned char version;
    unsigned char type;
    unsigned short request_id;
    unsigned short content_length;
    unsigned char padding_length;
    const unsigned char *content;   /* points into the parsed buffer */
} wlf_fcgi_record;

/*
 * Parse one record at the start of buf. Returns the bytes it occupies
 * (header + content + padding), 0 when buf holds only part of it, or -1 when
 * it is not a FastCGI version 1 record.
 */
ssize_t wlf_fcgi_parse_record(const unsigned char *buf, size_t len,
                              wlf_fcgi_record *rec);

/* Write a record header for `type` with `content_length`, no padding. */
void wlf_fcgi_header(unsigned char *out, unsigned char type,
                     unsigned short request_id,
                     unsigned short content_length);

/*
 * Append one name-value pair in FastCGI's length-prefixed encoding.
 * Returns the bytes written, or 0 when it does not fit in `cap`.
 */
size_t wlf_fcgi_encode_pair(unsigned char *out, size_t cap, const char *name,
                            const char *value);

/*
 * One whole request without a body (params: name, value, ..., NULL):
 * BEGIN_REQUEST (FCGI_KEEP_CONN when `keep`), the PARAMS in one record,
 * the empty PARAMS and STDIN that end them. *out is malloc'd.
 */
int wlf_fcgi_build_request(const char *const *params, int keep,
                           unsigned char **out, size_t *out_len);

typedef struct {
    char *out;              /* FCGI_STDOUT, NUL-terminated */
    size_t out_len;
    char *err;              /* FCGI_STDERR, NUL-terminated */
    size_t err_len;
    unsigned int app_status;
    int protocol_status;
} wlf_fcgi_response;

/*
 * Send one request (params: name, value, name, value, ..., NULL; no body)
 * to the unix socket at sock_path and collect the answer, all within
 * timeout_ms. Returns 0, or -1 with err set ("connect ...: Connection
 * refused", "timed out after 2000 ms", ...).
 */
int wlf_fcgi_request(const char *sock_path, const char *const *params,
                     int timeout_ms, wlf_fcgi_response *resp, wlf_err *err);
void wlf_fcgi_response_free(wlf_fcgi_response *resp);

/*
 * Feed a whole response stream (records) into resp: what wlf_fcgi_request
 * does after reading. Exposed for tests and fuzzing. Returns 0 once an
 * END_REQUEST was seen, 1 if the stream ended early, -1 on garbage.
 */
int wlf_fcgi_collect(const unsigned char *buf, size_t len,
                     wlf_fcgi_response *resp);

/*
 * The CGI status of a response ("Status: 404 Not Found" header, else 200)
 * and where its body starts.
 */
int wlf_fcgi_http_status(const char *out, size_t len, const char **body,
                         size_t *body_len);

/*
 * The paths fpmctl configures in every pool (ping.path, pm.status_path):
 * fpmctl pings after start/reload, mod_wlfcgi's status page pings too.
 * Only reachable over the pool's own socket, never routed from the web
 * (mod_wlfcgi routes existing script files only).
 */
#define WLF_FPM_PING_PATH   "/wlfcgi-fpm-ping"
#define WLF_FPM_STATUS_PATH "/wlfcgi-fpm-status"

/* Does a unix socket accept connections (someone listens on it)? */
int wlf_socket_accepts(const char *sock_path);

/* GET `path` (php-fpm's ping.path) and expect "pong". */
int wlf_fcgi_ping(const char *sock_path, const char *path, int timeout_ms,
                  wlf_err *err);

/*
 * Make a pool (pm = ondemand) fork up to n workers before it gets traffic:
 * n pings on n connections kept open until all were answered. Returns how
 * many workers answered (stops early, with err set, on a failure).
 */
int wlf_fcgi_warm(const char *sock_path, const char *path, int n,
                  int timeout_ms, wlf_err *err);

/* What php-fpm's status page (plain text form) reports about a pool. */
typedef struct {
    char pool[64];
    char process_manager[32];
    char start_time[64];
    long long start_since;
    long long accepted_conn;
    long long listen_queue;
    long long max_listen_queue;
    long long listen_queue_len;
    long long idle_processes;
    long long active_processes;
    long long total_processes;
    long long max_active_processes;
    long long max_children_reached;
    long long slow_requests;
} wlf_fpm_status;

/* Parse "key:   value" lines; missing numbers are -1. Returns 0 when at
 * least the pool line was found, else -1. */
int wlf_fpm_status_parse(const char *text, size_t len, wlf_fpm_status *st);

/*
 * php-fpm's "start time" ("03/Dec/2026:10:42:29 +0000", its access log
 * format) as ISO 8601 ("2026-12-03T10:42:29+00:00") into out. Returns 0,
 * or -1 (out empty) when fpm is not in that form.
 */
int wlf_fpm_time_iso8601(const char *fpm, char *out, size_t len);

/* Fetch and parse `path` (php-fpm's pm.status_path). */
int wlf_fpm_status_fetch(const char *sock_path, const char *path,
                         int timeout_ms, wlf_fpm_status *st, wlf_err *err);

#endif
