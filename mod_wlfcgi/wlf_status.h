/*
 * wlf_status.h - the status page (SetHandler wlfcgi-status), rendered as
 * plain text, as HTML (?html, or a browser's Accept: text/html) or, with
 * ?json, as JSON. Pure: the handler collects the entries (and pings the
 * sockets), this file only formats them.
 */
#ifndef WLF_STATUS_H
#define WLF_STATUS_H

#include <stddef.h>

/* The version of the JSON form ("schema"): it goes up when a member
 * changes meaning or goes away, not when members are added. */
#define WLF_STATUS_SCHEMA 1

typedef struct {
    const char *vhost;          /* ServerName */
    unsigned port;              /* 0: any */
    const char *account;        /* NULL: unmapped */
    const char *socket;         /* NAME.sock (the link), or the link of
                                   the instance its domain's PHP version
                                   runs in (NAME.vVERSION.sock) */
    const char *live;           /* the slot socket it points to, or NULL */
    int answers;                /* 1 yes, 0 no, -1 not asked (unmapped) */
    const char *error;          /* why it does not answer, or NULL */
    long long max_upload;       /* effective limit at the vhost level */
    int reuse_hmax;             /* 0: connection reuse off */
    const char *state;          /* running, idle (on-demand, no master:
                                   the first request starts it), down, stopped,
                                   suspended;
                                   NULL: unmapped */
    int suspended;              /* the account is suspended */
    const char *const *aliases; /* its ServerAlias names (wildcards too) */
    size_t n_aliases;
    const char *php;            /* the PHP version it runs now, or NULL */
    const char *domain;         /* the account's domain entry it serves */
} wlf_status_entry;

typedef struct {
    const char *config;         /* WLFcgiConfig file */
    const char *version;        /* module version */
    size_t n_accounts;
    const wlf_status_entry *entries;
    size_t n_entries;
} wlf_status_page;

/* Each returns a malloc'd NUL-terminated string, or NULL (out of
 * memory). */
char *wlf_status_text(const wlf_status_page *page);
char *wlf_status_html(const wlf_status_page *page);
char *wlf_status_json(const wlf_status_page *page);

typedef enum { WLF_STATUS_TEXT, WLF_STATUS_HTML, WLF_STATUS_JSON,
               WLF_STATUS_OPENMETRICS } wlf_status_form;

/* The form a request asks for: its query ("json", "html", "text",
 * "openmetrics", each maybe followed by "&..."), else HTML when its
 * Accept header names text/html (a browser), else text. */
wlf_status_form wlf_status_form_of(const char *args, const char *accept);

#endif
