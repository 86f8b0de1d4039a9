/*
 * mod_wlfcgi_private.h - what the module's httpd glue files share: the
 * configuration records, the state loaded at start-up, and the functions
 * one glue file calls in another.
 *
 *   mod_wlfcgi.c          module record, hooks, start-up (account loading,
 *                         vhost mapping, proxy workers, idle janitor)
 *   mod_wlfcgi_config.c   per-server and per-dir records, directives, the
 *                         effective upload limit
 *   mod_wlfcgi_request.c  routing fixup, proxy pre_request, request_status
 *   mod_wlfcgi_filters.c  request bodies: read whole (spool), gather
 *   mod_wlfcgi_status.c   the wlfcgi-status handler
 *   mod_wlfcgi_contain.c  what a .htaccess may choose (proxy targets,
 *                         handlers, Options), whose files httpd sends
 *
 * The decisions themselves live in the pure wlf_*.c files.
 */
#ifndef MOD_WLFCGI_PRIVATE_H
#define MOD_WLFCGI_PRIVATE_H

#include "httpd.h"
#include "http_config.h"
#include "apr_hash.h"
#include "apr_tables.h"
#include "mod_proxy.h"

#include <sys/types.h>

#include "wlf_config.h"
#include "wlf_contain.h"
#include "wlf_reuse.h"

extern module AP_MODULE_DECLARE_DATA wlfcgi_module;

/* What the module takes from mod_proxy, weak: loaded before mod_proxy,
 * mod_wlfcgi still loads and then says how to fix the order (WLF00018)
 * instead of failing with dlopen's "undefined symbol: proxy_module".
 * wlfcgi_proxy_loaded() says whether they are there. */
#pragma weak proxy_module
#pragma weak proxy_hook_pre_request
#pragma weak ap_proxy_define_worker_ex
#pragma weak ap_proxy_initialize_worker
int wlfcgi_proxy_loaded(void);

/* One PHP instance of an account: the primary (the account's own
 * version, keyed NAME) or one of another version a domain is pinned to
 * (keyed NAME.vVERSION). */
typedef struct {
    const char *key;
    const char *version;
    const char *link;           /* <dir>/KEY.sock -> KEY.a.sock|.b.sock */
    const char *slot_sock[2];   /* <dir>/KEY.a.sock, <dir>/KEY.b.sock */
    /* the slots' proxy workers, outside mod_proxy's lists: NULL until a
     * child first sends a request there (wlfcgi_worker_ready) */
    proxy_worker *worker[2];
    int transient;              /* made for one request: no workers */
} wlf_inst;

/* One account, resolved at start-up. */
typedef struct {
    const char *name;
    /* the primary instance's (inst[0]) */
    const char *link;           /* <dir>/NAME.sock -> NAME.a.sock|.b.sock */
    const char *slot_sock[2];   /* <dir>/NAME.a.sock, <dir>/NAME.b.sock */
    const char *handler;        /* proxy:unix:<link>|fcgi://wlf-NAME */
    /* every instance the account file names at start-up, [0] the primary
     * (the fields above are its), then those of the other configured PHP
     * versions (a domain may be pinned to one while httpd runs) */
    wlf_inst *inst;
    int n_inst;                 /* in use at start-up */
    int n_known;                /* all of them */
    long long max_upload;       /* the account's effective max_upload */
    long long upload_ceiling;   /* ... and upload_ceiling */
    long long max_children;
    long long max_execution_time;
    const char *php_admin;      /* PHP_ADMIN_VALUE for max_upload */
    const char *fpm_pm;         /* the account's pm: "ondemand", "static" */
    long long max_requests;     /* its pm.max_requests (0: never recycled) */
    long long stream_max;       /* larger bodies are spooled by httpd */
    long long stream_seconds;   /* ... unless the client keeps pace */
    wlf_reuse_plan reuse;
    int on_demand;              /* activation = on-demand */
    const char *slot_pid[2];    /* <dir>/NAME.a.pid, <dir>/NAME.b.pid */
    uid_t uid;                  /* its user's: whose files httpd may send */
} wlf_acct;

typedef struct {
    const char *config_file;        /* WLFcgiConfig (main server) */
    const char *account_name;       /* WLFcgiAccount (vhost) */
    const char *account_where;      /* "file:line" of it */
    apr_array_header_t *exts;       /* WLFcgiExtensions; NULL: inherit */
    const char *suspended_file;     /* WLFcgiSuspendedPage; NULL: inherit */
    const char *suspended_page;     /* its text, read at start-up */
    int exts_none;                  /* "WLFcgiExtensions none": hands off */
    apr_array_header_t *allow_handlers; /* WLFcgiAllowHandlers (const char *) */
    /* resolved at start-up */
    wlf_acct *acct;                 /* NULL: the vhost has no account */
    int has_owner;                  /* whose files it sends: the account's */
    uid_t owner_uid;                /* user, else its DocumentRoot's owner
                                       (not root) */
    const char *domain;             /* the account's domain entry the vhost
                                       serves (ServerName's, else the
                                       first alias's), or NULL */
    const char *route;              /* <dir>/NAME.routes/DOMAIN: the
                                       instance of a pinned domain */
    const char **ext_list;
    int n_ext;
} wlf_srv_conf;

typedef struct {
    long long max_upload;           /* WLFcgiMaxUpload, or UNSET */
    const char *php_admin;          /* PHP_ADMIN_VALUE for it */
    apr_array_header_t *allow_owners; /* WLFcgiAllowOwners (uid_t), or NULL */
} wlf_dir_conf;

/* Everything loaded from the account database for one config generation;
 * lives in pconf, so a graceful restart starts from scratch. */
typedef struct {
    wlf_config cfg;
    wlf_account_list accounts;      /* with the skipped ones and why */
    apr_hash_t *by_name;            /* NAME -> wlf_acct */
    apr_array_header_t *accts;      /* the same, as wlf_acct *, by name */
    const char *sock_dir;           /* socket dir, symlinks resolved */
    module *fcgi_module;            /* mod_proxy_fcgi */
    /* exact domains inside another account's wildcard -> their owner's
     * wlf_acct: a request for one that reached another account's vhost
     * is refused (421); NULL when there are none */
    apr_hash_t *shadowed;
    int n_conf_slots;               /* per-dir vector entries in use */
} wlf_global;

/* What the module knows about one request (r->request_config) */
typedef struct {
    /* mod_wlfcgi_request.c: the account a proxied request was sent to */
    wlf_acct *acct;
    char slot;                      /* 'a', 'b', or 0: no live slot */
    const char *link;               /* the instance link it went through */
    const char *sock;               /* the slot socket (slot != 0) */
    /* mod_wlfcgi_suspend.c: the account's link as translate_name read it
     * (wlf_link_state()), so that a PHP request reads it once */
    int link_read;
    char link_state;
    /* mod_wlfcgi_config.c, on the request the client sent (the first of
     * its chain of internal redirects and subrequests): its per-dir
     * config once complete, and its URL; the upload limit of the whole
     * chain is taken from these */
    const wlf_dir_conf *client_scope;
    const char *client_uri;
    /* mod_wlfcgi_contain.c */
    unsigned ht;                    /* WLF_HT_*: what its .htaccess files
                                       configured */
    const char *ht_dir;             /* the deepest of them */
    const char *refused_module, *refused_dir;
    int proxy_translated;           /* proxied since translation */
    int customer_proxy;             /* a .htaccess proxied it to the own
                                       account: our worker, nothing else */
    wlf_trace h, t;                 /* handler and content type */
    int by_customer;                /* a .htaccess may have chosen the
                                       handler httpd runs */
} wlf_req;

/* NULL until check_config accepted the configuration (and when no
 * WLFcgiConfig is set): every hook then declines. */
extern wlf_global *wlf_g;

/* ---- mod_wlfcgi_config.c ---- */
extern const command_rec wlfcgi_cmds[];
void *wlfcgi_create_srv_conf(apr_pool_t *p, server_rec *s);
void *wlfcgi_merge_srv_conf(apr_pool_t *p, void *basev, void *addv);
void *wlfcgi_create_dir_conf(apr_pool_t *p, char *dir);
void *wlfcgi_merge_dir_conf(apr_pool_t *p, void *basev, void *addv);
wlf_srv_conf *wlfcgi_srv_conf(server_rec *s);
/* Start recording WLFcgiMaxUpload directives for this config generation */
void wlfcgi_config_pre_config(apr_pool_t *pconf);
/* "file:line" of the first WLFcgiMaxUpload of this generation, or NULL */
const char *wlfcgi_first_upload_decl(void);
/* Warn about each WLFcgiMaxUpload above its account's upload_ceiling */
void wlfcgi_warn_upload_ceilings(apr_pool_t *p, server_rec *main_s);
/* The upload limit that holds in scope `d` for account `a`: the innermost
 * WLFcgiMaxUpload, else the account's max_upload. *php_admin (if not
 * NULL) gets the PHP_ADMIN_VALUE that tells FPM the same limit. */
long long wlfcgi_upload_limit(const wlf_dir_conf *d, const wlf_acct *a,
                              const char **php_admin);
/* post_perdir_config: remember the scope of the request the client sent */
int wlfcgi_note_client_scope(request_rec *r);
/* The upload limit for request `r` of account `a`: the limit of the URL
 * the client sent, whatever internal redirects, rewrites and subrequests
 * led to `r`. *client_uri gets that URL (for log lines). */
long long wlfcgi_request_upload_limit(request_rec *r, const wlf_acct *a,
                                      const char **php_admin,
                                      const char **client_uri);

/* ---- mod_wlfcgi_request.c ---- */
/* The instance that serves vhost c now (its route, else the primary),
 * with its live slot (0: none) and that slot's socket. A route to an
 * instance of a version httpd does not know (added to php.versions since
 * it started) gives a wlf_inst made in pool p, with `transient` set.
 * primary_known: *slot holds the primary's link state already (read
 * once per request), so it is not read again. */
wlf_inst *wlfcgi_pick_instance(apr_pool_t *p, const wlf_srv_conf *c,
                               int primary_known, char *slot,
                               const char **sock);
int wlfcgi_fixups(request_rec *r);
/* 421 for a request whose host name is another account's (exact) domain
 * that httpd gave to a vhost of the account owning a wildcard of it */
int wlfcgi_misdirected(request_rec *r);
int wlfcgi_pre_request(proxy_worker **worker, proxy_balancer **balancer,
                       request_rec *r, proxy_server_conf *conf, char **url);
int wlfcgi_request_status(int *status, request_rec *r);

/* ---- mod_wlfcgi.c ---- */
/* Slot k's worker of instance `in` of account a, defined and initialised
 * in this child (connection pool, reslist) on its first use; NULL if that
 * failed (logged). */
proxy_worker *wlfcgi_worker_ready(request_rec *r, const wlf_acct *a,
                                  wlf_inst *in, int k);

/* ---- mod_wlfcgi_filters.c ---- */
void wlfcgi_register_filters(void);
/* Read a whole body before mod_proxy_fcgi contacts FPM (one of unknown
 * length, or one a slow client may take long to send):
 * HTTP_REQUEST_ENTITY_TOO_LARGE past `limit`, the limit of `client_uri`
 * (one info line), else OK and the body is handed on from memory or a
 * temp file, with its Content-Length set. `length`: the announced
 * Content-Length, or -1; with a length, a client that keeps pace
 * (wlf_client_keeps_pace) gets the rest of its body streamed after the
 * part read so far. */
int wlfcgi_spool_body(request_rec *r, long long limit, long long length,
                      const wlf_acct *a, const char *client_uri);
/* Read large bodies in large pieces; `length` is the
 * announced Content-Length, or -1 (a spooled body has it already) */
void wlfcgi_gather_body(request_rec *r, long long length);

/* ---- mod_wlfcgi_suspend.c ---- */
/* Read every vhost's WLFcgiSuspendedPage (at start-up, in pconf) */
int wlfcgi_load_suspended_pages(apr_pool_t *pconf, server_rec *main_s);
/* translate_name: a suspended account's site answers 503 with the
 * suspended page, static files included */
int wlfcgi_suspended_check(request_rec *r);
/* The suspended answer for a request of account a */
int wlfcgi_suspended_answer(request_rec *r, const wlf_acct *a);

/* ---- mod_wlfcgi_status.c ---- */
int wlfcgi_status_handler(request_rec *r);

/* ---- mod_wlfcgi_contain.c ---- */
/* the request's record, made on first use / or NULL */
wlf_req *wlfcgi_req(request_rec *r);
wlf_req *wlfcgi_req_get(request_rec *r);
void wlfcgi_contain_post_config(apr_pool_t *pconf, server_rec *main_s);
int wlfcgi_contain_perdir(request_rec *r);
int wlfcgi_contain_before_core(request_rec *r);
int wlfcgi_contain_after_core(request_rec *r);
/* Proxy targets and handlers a .htaccess chose (403 unless allowed) */
int wlfcgi_contain_check(request_rec *r, wlf_srv_conf *c);
/* A server-config FastCGI handler for a file, other than the account */
int wlfcgi_contain_fastcgi(request_rec *r, wlf_srv_conf *c);
/* The owner of the file or directory the request is for (403) */
int wlfcgi_contain_owner(request_rec *r, wlf_srv_conf *c);
/* ... and of the directory of a main request for a missing file */
int wlfcgi_contain_parent(request_rec *r, wlf_srv_conf *c);
/* Who may have chosen the handler (or content type) httpd will run */
wlf_origin wlfcgi_handler_origin(request_rec *r);
void wlfcgi_contain_insert_filter(request_rec *r);
void wlfcgi_contain_register(void);

#endif
