/*
 * wlf_status.c - status page rendering.
 */
#include "wlf_status.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wlf_size.h"

typedef struct {
    char *s;
    size_t len, cap;
    int oom;
} outbuf;

static void put(outbuf *b, const char *text, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap : 1024;
        char *ns;
        while (b->len + n + 1 > ncap)
            ncap *= 2;
        if ((ns = realloc(b->s, ncap)) == NULL) {
            b->oom = 1;
            return;
        }
        b->s = ns;
        b->cap = ncap;
    }
    memcpy(b->s + b->len, text, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void put_str(outbuf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void putf(outbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void putf(outbuf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = 1;
        return;
    }
    if ((size_t)n < sizeof(small)) {
        put(b, small, (size_t)n);
        return;
    }
    {
        char *big = malloc((size_t)n + 1);
        if (big == NULL) {
            b->oom = 1;
            return;
        }
        va_start(ap, fmt);
        vsnprintf(big, (size_t)n + 1, fmt, ap);
        va_end(ap);
        put(b, big, (size_t)n);
        free(big);
    }
}

static char *finish(outbuf *b)
{
    if (b->oom) {
        free(b->s);
        return NULL;
    }
    if (b->s == NULL)
        return calloc(1, 1);
    return b->s;
}

size_t wlf_json_quote(char *out, size_t cap, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;

#define EMIT(c) do { if (n + 1 < cap) out[n] = (c); n++; } while (0)
    EMIT('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':  EMIT('\\'); EMIT('"'); break;
        case '\\': EMIT('\\'); EMIT('\\'); break;
        case '\n': EMIT('\\'); EMIT('n'); break;
        case '\r': EMIT('\\'); EMIT('r'); break;
        case '\t': EMIT('\\'); EMIT('t'); break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                EMIT('\\'); EMIT('u'); EMIT('0'); EMIT('0');
                EMIT(hex[*p >> 4]); EMIT(hex[*p & 15]);
            }
            else {
                EMIT((char)*p);
            }
        }
    }
    EMIT('"');
#undef EMIT
    if (cap)
        out[n < cap ? n : cap - 1] = '\0';
    return n;
}

static void put_json_string(outbuf *b, const char *s)
{
    size_t need;
    char small[256], *big;

    if (s == NULL) {
        put_str(b, "null");
        return;
    }
    need = wlf_json_quote(small, sizeof(small), s);
    if (need < sizeof(small)) {
        put(b, small, need);
        return;
    }
    if ((big = malloc(need + 1)) == NULL) {
        b->oom = 1;
        return;
    }
    wlf_json_quote(big, need + 1, s);
    put(b, big, need);
    free(big);
}

static const char *answer_word(const wlf_status_entry *e)
{
    /* an idle on-demand account accepts: its first request starts it */
    if (e->answers > 0 && e->state && strcmp(e->state, "idle") == 0)
        return "idle";
    return e->answers > 0 ? "yes" : e->answers == 0 ? "NO" : "-";
}

char *wlf_status_text(const wlf_status_page *page)
{
    outbuf b = { 0 };
    char size[32], vh[300];

    putf(&b, "mod_wlfcgi %s\nconfig: %s\naccounts: %zu\n\n",
         page->version ? page->version : "", page->config ? page->config : "-",
         page->n_accounts);
    putf(&b, "%-32s %-16s %-6s %-9s %-8s %s\n", "vhost", "account", "answers",
         "upload", "reuse", "socket");
    for (size_t i = 0; i < page->n_entries; i++) {
        const wlf_status_entry *e = &page->entries[i];
        char reuse[16];
        if (e->port)
            snprintf(vh, sizeof(vh), "%s:%u", e->vhost, e->port);
        else
            snprintf(vh, sizeof(vh), "%s", e->vhost);
        if (e->reuse_hmax > 0)
            snprintf(reuse, sizeof(reuse), "%d", e->reuse_hmax);
        else
            snprintf(reuse, sizeof(reuse), "%s", e->account ? "off" : "-");
        putf(&b, "%-32s %-16s %-6s %-9s %-8s %s", vh,
             e->account ? e->account : "-", answer_word(e),
             e->account ? wlf_size_format(e->max_upload, size, sizeof(size))
                        : "-",
             reuse, e->socket ? e->socket : "-");
        if (e->account)
            putf(&b, " -> %s", e->live ? e->live : "(no live instance)");
        if (e->error)
            putf(&b, " (%s)", e->error);
        put_str(&b, "\n");
    }
    return finish(&b);
}

char *wlf_status_json(const wlf_status_page *page)
{
    outbuf b = { 0 };
    char size[32];

    put_str(&b, "{\"module\":\"mod_wlfcgi\",\"version\":");
    put_json_string(&b, page->version ? page->version : "");
    put_str(&b, ",\"config\":");
    put_json_string(&b, page->config);
    putf(&b, ",\"accounts\":%zu,\"vhosts\":[", page->n_accounts);
    for (size_t i = 0; i < page->n_entries; i++) {
        const wlf_status_entry *e = &page->entries[i];
        put_str(&b, i ? ",{" : "{");
        put_str(&b, "\"vhost\":");
        put_json_string(&b, e->vhost);
        putf(&b, ",\"port\":%u,\"account\":", e->port);
        put_json_string(&b, e->account);
        put_str(&b, ",\"socket\":");
        put_json_string(&b, e->socket);
        put_str(&b, ",\"live_socket\":");
        put_json_string(&b, e->live);
        put_str(&b, ",\"answers\":");
        if (e->answers < 0)
            put_str(&b, "null");
        else
            put_str(&b, e->answers ? "true" : "false");
        put_str(&b, ",\"state\":");
        put_json_string(&b, e->state);
        put_str(&b, ",\"error\":");
        put_json_string(&b, e->error);
        if (e->account) {
            putf(&b, ",\"max_upload\":%lld,\"max_upload_text\":",
                 e->max_upload);
            put_json_string(&b, wlf_size_format(e->max_upload, size,
                                                sizeof(size)));
        }
        else {
            put_str(&b, ",\"max_upload\":null,\"max_upload_text\":null");
        }
        putf(&b, ",\"reuse_connections\":%d}", e->reuse_hmax);
    }
    put_str(&b, "]}\n");
    return finish(&b);
}
