/*
 * wlf_status.c - status page rendering.
 */
#include "wlf_status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wlf_buf.h"
#include "wlf_size.h"

/* A JSON string, or null */
static void put_json_string(wlf_buf *b, const char *s)
{
    if (s == NULL)
        wlf_buf_puts(b, "null");
    else
        wlf_buf_json_string(b, s);
}

static const char *answer_word(const wlf_status_entry *e)
{
    /* an idle on-demand account accepts: its first request starts it */
    if (e->answers > 0 && e->state && strcmp(e->state, "idle") == 0)
        return "idle";
    return e->answers > 0 ? "yes" : e->answers == 0 ? "NO" : "-";
}

/* "-> SOCKET", "-> (suspended)", or "-> (no live instance: why)": said
 * once */
static void put_target(wlf_buf *b, const wlf_status_entry *e)
{
    if (e->suspended) {
        wlf_buf_puts(b, " -> (suspended)");
        if (e->error)
            wlf_buf_printf(b, " (%s)", e->error);
    }
    else if (e->live) {
        wlf_buf_printf(b, " -> %s", e->live);
        if (e->error)
            wlf_buf_printf(b, " (%s)", e->error);
    }
    else if (e->error)
        wlf_buf_printf(b, " -> (no live instance: %s)", e->error);
    else
        wlf_buf_puts(b, " -> (no live instance)");
}

static void vhost_label(const wlf_status_entry *e, char *buf, size_t len)
{
    if (e->port)
        snprintf(buf, len, "%s:%u", e->vhost, e->port);
    else
        snprintf(buf, len, "%s", e->vhost);
}

static void reuse_label(const wlf_status_entry *e, char *buf, size_t len)
{
    if (e->reuse_hmax > 0)
        snprintf(buf, len, "%d", e->reuse_hmax);
    else
        snprintf(buf, len, "%s", e->account ? "off" : "-");
}

char *wlf_status_text(const wlf_status_page *page)
{
    wlf_buf b = { 0 };
    char size[32], vh[300];

    wlf_buf_printf(&b, "mod_wlfcgi %s\nconfig: %s\naccounts: %zu\n\n",
                   page->version ? page->version : "",
                   page->config ? page->config : "-", page->n_accounts);
    wlf_buf_printf(&b, "%-32s %-16s %-8s %-6s %-9s %-8s %s\n", "vhost",
                   "account", "php", "answers", "upload", "reuse",
                   "socket");
    for (size_t i = 0; i < page->n_entries; i++) {
        const wlf_status_entry *e = &page->entries[i];
        char reuse[16];
        vhost_label(e, vh, sizeof(vh));
        reuse_label(e, reuse, sizeof(reuse));
        wlf_buf_printf(&b, "%-32s %-16s %-8s %-6s %-9s %-8s %s", vh,
                       e->account ? e->account : "-",
                       e->php ? e->php : "-", answer_word(e),
                       e->account ? wlf_size_format(e->max_upload, size,
                                                    sizeof(size))
                                  : "-",
                       reuse, e->socket ? e->socket : "-");
        if (e->account)
            put_target(&b, e);
        else if (e->error)
            wlf_buf_printf(&b, " (%s)", e->error);
        wlf_buf_puts(&b, "\n");
        for (size_t a = 0; a < e->n_aliases; a++)
            wlf_buf_printf(&b, "%s%s", a ? ", " : "  alias ",
                           e->aliases[a]);
        if (e->n_aliases)
            wlf_buf_puts(&b, "\n");
    }
    return wlf_buf_finish(&b);
}

/* Text as HTML: &, <, >, " and ' escaped */
static void put_html(wlf_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': wlf_buf_puts(b, "&amp;"); break;
        case '<': wlf_buf_puts(b, "&lt;"); break;
        case '>': wlf_buf_puts(b, "&gt;"); break;
        case '"': wlf_buf_puts(b, "&quot;"); break;
        case '\'': wlf_buf_puts(b, "&#39;"); break;
        default: wlf_buf_append(b, s, 1); break;
        }
    }
}

static void html_cell(wlf_buf *b, const char *s)
{
    wlf_buf_puts(b, "<td>");
    put_html(b, s ? s : "-");
    wlf_buf_puts(b, "</td>");
}

char *wlf_status_html(const wlf_status_page *page)
{
    wlf_buf b = { 0 }, target = { 0 };
    char size[32], vh[300], reuse[16], n[32];

    wlf_buf_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
                 "<meta charset=\"utf-8\"><title>mod_wlfcgi status</title>"
                 "<style>body{font-family:sans-serif}table{border-collapse:"
                 "collapse}td,th{border:1px solid #999;padding:2px 6px;"
                 "text-align:left}.no{color:#b00;font-weight:bold}</style>"
                 "</head><body>\n<h1>mod_wlfcgi ");
    put_html(&b, page->version ? page->version : "");
    wlf_buf_puts(&b, "</h1>\n<p>config: ");
    put_html(&b, page->config ? page->config : "-");
    wlf_buf_printf(&b, "; accounts: %zu</p>\n<table>\n<tr><th>vhost</th>"
                   "<th>aliases</th><th>account</th><th>php</th>"
                   "<th>answers</th>"
                   "<th>upload</th><th>reuse</th><th>socket</th></tr>\n",
                   page->n_accounts);
    for (size_t i = 0; i < page->n_entries; i++) {
        const wlf_status_entry *e = &page->entries[i];
        char *t;
        vhost_label(e, vh, sizeof(vh));
        reuse_label(e, reuse, sizeof(reuse));
        wlf_buf_puts(&b, "<tr>");
        html_cell(&b, vh);
        wlf_buf_puts(&b, "<td>");
        for (size_t a = 0; a < e->n_aliases; a++) {
            if (a)
                wlf_buf_puts(&b, "<br>");
            put_html(&b, e->aliases[a]);
        }
        wlf_buf_puts(&b, "</td>");
        html_cell(&b, e->account);
        html_cell(&b, e->php);
        wlf_buf_printf(&b, "<td%s>%s</td>", e->answers == 0
                       ? " class=\"no\"" : "", answer_word(e));
        html_cell(&b, e->account ? wlf_size_format(e->max_upload, size,
                                                   sizeof(size)) : NULL);
        html_cell(&b, reuse);
        /* the same words as the text form */
        memset(&target, 0, sizeof(target));
        wlf_buf_puts(&target, e->socket ? e->socket : "-");
        if (e->account)
            put_target(&target, e);
        else if (e->error)
            wlf_buf_printf(&target, " (%s)", e->error);
        if ((t = wlf_buf_finish(&target)) == NULL) {
            free(wlf_buf_finish(&b));
            return NULL;
        }
        html_cell(&b, t);
        free(t);
        wlf_buf_puts(&b, "</tr>\n");
    }
    snprintf(n, sizeof(n), "%zu", page->n_entries);
    wlf_buf_puts(&b, "</table>\n<p>");
    put_html(&b, n);
    wlf_buf_puts(&b, " vhosts. Also as <a href=\"?text\">text</a> and "
                 "<a href=\"?json\">JSON</a>.</p>\n</body></html>\n");
    return wlf_buf_finish(&b);
}

static int query_is(const char *args, const char *word)
{
    size_t n = strlen(word);

    return strncmp(args, word, n) == 0 && (args[n] == '\0' ||
                                          args[n] == '&');
}

wlf_status_form wlf_status_form_of(const char *args, const char *accept)
{
    if (args && query_is(args, "json"))
        return WLF_STATUS_JSON;
    if (args && query_is(args, "openmetrics"))
        return WLF_STATUS_OPENMETRICS;
    if (args && query_is(args, "html"))
        return WLF_STATUS_HTML;
    if (args && query_is(args, "text"))
        return WLF_STATUS_TEXT;
    if (accept && strstr(accept, "text/html"))
        return WLF_STATUS_HTML;
    return WLF_STATUS_TEXT;
}

char *wlf_status_json(const wlf_status_page *page)
{
    wlf_buf b = { 0 };
    char size[32];

    wlf_buf_printf(&b, "{\"schema\":%d,\"module\":\"mod_wlfcgi\","
                   "\"version\":", WLF_STATUS_SCHEMA);
    put_json_string(&b, page->version ? page->version : "");
    wlf_buf_puts(&b, ",\"config\":");
    put_json_string(&b, page->config);
    wlf_buf_printf(&b, ",\"accounts\":%zu,\"vhosts\":[", page->n_accounts);
    for (size_t i = 0; i < page->n_entries; i++) {
        const wlf_status_entry *e = &page->entries[i];
        wlf_buf_puts(&b, i ? ",{" : "{");
        wlf_buf_puts(&b, "\"vhost\":");
        put_json_string(&b, e->vhost);
        wlf_buf_puts(&b, ",\"aliases\":[");
        for (size_t a = 0; a < e->n_aliases; a++) {
            if (a)
                wlf_buf_puts(&b, ",");
            put_json_string(&b, e->aliases[a]);
        }
        wlf_buf_printf(&b, "],\"port\":%u,\"account\":", e->port);
        put_json_string(&b, e->account);
        wlf_buf_puts(&b, ",\"socket\":");
        put_json_string(&b, e->socket);
        wlf_buf_puts(&b, ",\"live_socket\":");
        put_json_string(&b, e->live);
        wlf_buf_puts(&b, ",\"answers\":");
        if (e->answers < 0)
            wlf_buf_puts(&b, "null");
        else
            wlf_buf_puts(&b, e->answers ? "true" : "false");
        wlf_buf_puts(&b, ",\"state\":");
        put_json_string(&b, e->state);
        wlf_buf_puts(&b, ",\"error\":");
        put_json_string(&b, e->error);
        if (e->account) {
            wlf_buf_printf(&b, ",\"max_upload\":%lld,\"max_upload_text\":",
                           e->max_upload);
            put_json_string(&b, wlf_size_format(e->max_upload, size,
                                                sizeof(size)));
        }
        else {
            wlf_buf_puts(&b, ",\"max_upload\":null,\"max_upload_text\":null");
        }
        wlf_buf_printf(&b, ",\"reuse_connections\":%d,\"suspended\":%s,"
                       "\"php\":", e->reuse_hmax,
                       e->suspended ? "true" : "false");
        put_json_string(&b, e->php);
        wlf_buf_puts(&b, ",\"domain\":");
        put_json_string(&b, e->domain);
        wlf_buf_puts(&b, "}");
    }
    wlf_buf_puts(&b, "]}\n");
    return wlf_buf_finish(&b);
}
