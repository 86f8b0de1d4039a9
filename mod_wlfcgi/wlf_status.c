/*
 * wlf_status.c - status page rendering.
 */
#include "wlf_status.h"

#include <stdio.h>

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

static const char *answer_word(int answers)
{
    return answers > 0 ? "yes" : answers == 0 ? "NO" : "-";
}

char *wlf_status_text(const wlf_status_page *page)
{
    wlf_buf b = { 0 };
    char size[32], vh[300];

    wlf_buf_printf(&b, "mod_wlfcgi %s\nconfig: %s\naccounts: %zu\n\n",
                   page->version ? page->version : "",
                   page->config ? page->config : "-", page->n_accounts);
    wlf_buf_printf(&b, "%-32s %-16s %-6s %-9s %-8s %s\n", "vhost",
                   "account", "answers", "upload", "reuse", "socket");
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
        wlf_buf_printf(&b, "%-32s %-16s %-6s %-9s %-8s %s", vh,
                       e->account ? e->account : "-",
                       answer_word(e->answers),
                       e->account ? wlf_size_format(e->max_upload, size,
                                                    sizeof(size))
                                  : "-",
                       reuse, e->socket ? e->socket : "-");
        if (e->account)
            wlf_buf_printf(&b, " -> %s", e->suspended ? "(suspended)"
                           : e->live ? e->live : "(no live instance)");
        if (e->error)
            wlf_buf_printf(&b, " (%s)", e->error);
        wlf_buf_puts(&b, "\n");
    }
    return wlf_buf_finish(&b);
}

char *wlf_status_json(const wlf_status_page *page)
{
    wlf_buf b = { 0 };
    char size[32];

    wlf_buf_puts(&b, "{\"module\":\"mod_wlfcgi\",\"version\":");
    put_json_string(&b, page->version ? page->version : "");
    wlf_buf_puts(&b, ",\"config\":");
    put_json_string(&b, page->config);
    wlf_buf_printf(&b, ",\"accounts\":%zu,\"vhosts\":[", page->n_accounts);
    for (size_t i = 0; i < page->n_entries; i++) {
        const wlf_status_entry *e = &page->entries[i];
        wlf_buf_puts(&b, i ? ",{" : "{");
        wlf_buf_puts(&b, "\"vhost\":");
        put_json_string(&b, e->vhost);
        wlf_buf_printf(&b, ",\"port\":%u,\"account\":", e->port);
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
        wlf_buf_printf(&b, ",\"reuse_connections\":%d,\"suspended\":%s}",
                       e->reuse_hmax, e->suspended ? "true" : "false");
    }
    wlf_buf_puts(&b, "]}\n");
    return wlf_buf_finish(&b);
}
