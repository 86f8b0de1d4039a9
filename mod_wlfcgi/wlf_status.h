/*
 * wlf_status.h - the status page (SetHandler wlfcgi-status), rendered as
 * plain text or, with ?json, as JSON. Pure: the handler collects the
 * entries (and pings the sockets), this file only formats them.
 */
#ifndef WLF_STATUS_H
#define WLF_STATUS_H

#include <stddef.h>

typedef struct {
    const char *vhost;          /* ServerName */
    unsigned port;              /* 0: any */
    const char *account;        /* NULL: unmapped */
    const char *socket;         /* NAME.sock (the link) */
    const char *live;           /* the slot socket it points to, or NULL */
    int answers;                /* 1 yes, 0 no, -1 not asked (unmapped) */
    const char *error;          /* why it does not answer, or NULL */
    long long max_upload;       /* effective limit at the vhost level */
    int reuse_hmax;             /* 0: connection reuse off */
    int suspended;              /* the account is suspended */
} wlf_status_entry;

typedef struct {
    const char *config;         /* WLFcgiConfig file */
    const char *version;        /* module version */
    size_t n_accounts;
    const wlf_status_entry *entries;
    size_t n_entries;
} wlf_status_page;

/* Both return a malloc'd NUL-terminated string, or NULL (out of memory). */
char *wlf_status_text(const wlf_status_page *page);
char *wlf_status_json(const wlf_status_page *page);

#endif
