/*
 * wlf_log.h - the registry of mod_wlfcgi's log tags.
 *
 * Every line the module writes to the error log starts with one of these
 * tags ("WLF00010: ..."), so that admins can grep for it and the docs can
 * explain it (mod_wlfcgi(8), LOG MESSAGES). Tags are never reused or
 * renumbered; a retired tag stays listed as retired. httpd's own "AH"
 * numbers are reserved for httpd's modules.
 *
 * The one-line meaning of each tag lives in wlf_log_codes[] (wlf_log.c),
 * which the unit tests and the man page check against this list.
 */
#ifndef WLF_LOG_H
#define WLF_LOG_H

#include <stddef.h>

/* ---- start-up (apachectl -t, start, graceful restart, a new child) ---- */
#define WLFLOG_CONFIG_LOAD        "WLF00001"
#define WLFLOG_ACCOUNT_SKIPPED    "WLF00002"
#define WLFLOG_MAP_CONFLICT       "WLF00003"
#define WLFLOG_MAP_UNKNOWN        "WLF00004"
#define WLFLOG_UPLOAD_CEILING     "WLF00005"
#define WLFLOG_REUSE_PLAN         "WLF00006"
#define WLFLOG_WORKER_DEFINE      "WLF00007"
#define WLFLOG_NO_PROXY_FCGI      "WLF00008"
#define WLFLOG_SOCKET_DIR         "WLF00009"
#define WLFLOG_VHOST_MAPPED       "WLF00010"
#define WLFLOG_NOT_CONFIGURED     "WLF00011"
#define WLFLOG_ACCOUNT_SETTINGS   "WLF00012"
#define WLFLOG_JANITOR_START      "WLF00013"
#define WLFLOG_ACCOUNT_USER       "WLF00014"
#define WLFLOG_EXT_NOT_RUN        "WLF00015"
#define WLFLOG_SUSPENDED_PAGE     "WLF00016"
#define WLFLOG_VHOST_ORDER        "WLF00017"
#define WLFLOG_PROXY_ORDER        "WLF00018"
#define WLFLOG_VHOST_VERSIONS     "WLF00019"
/* ---- per request ---- */
#define WLFLOG_FOREIGN_SOCKET     "WLF00020"
#define WLFLOG_FORGED_WORKER      "WLF00021"
#define WLFLOG_UNMAPPED_PHP       "WLF00022"
#define WLFLOG_NO_LIVE_SLOT       "WLF00023"
#define WLFLOG_POOL_DOWN          "WLF00024"
#define WLFLOG_BODY_TOO_LARGE     "WLF00025"
#define WLFLOG_CHUNKED_TOO_LARGE  "WLF00026"
#define WLFLOG_BAD_LENGTH         "WLF00027"
#define WLFLOG_WORKER_GONE        "WLF00028"
#define WLFLOG_SUSPENDED          "WLF00029"
#define WLFLOG_PROXY_REFUSED      "WLF00030"
#define WLFLOG_HANDLER_REFUSED    "WLF00031"
#define WLFLOG_FOREIGN_FILE       "WLF00032"
#define WLFLOG_FOREIGN_OPENED     "WLF00033"
#define WLFLOG_HTACCESS_REFUSED   "WLF00034"
#define WLFLOG_OPTIONS_MASKED     "WLF00035"
#define WLFLOG_SPOOL_FAILED       "WLF00036"
#define WLFLOG_MISDIRECTED        "WLF00037"
#define WLFLOG_FOREIGN_FASTCGI    "WLF00038"
#define WLFLOG_EXPR_FILE          "WLF00039"

typedef struct {
    const char *tag;        /* "WLF00001" */
    const char *level;      /* httpd log level it is written at */
    const char *meaning;    /* one line for the man page */
} wlf_log_code;

extern const wlf_log_code wlf_log_codes[];
extern const size_t wlf_log_codes_count;

#endif
