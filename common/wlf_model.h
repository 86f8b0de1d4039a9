/*
 * wlf_model.h - the account database in memory: the global configuration
 * (wlfcgi.conf) and the accounts (accounts.d/NAME.conf), what each holds,
 * how they are copied, changed and checked, and how an account is found
 * by name, domain or host name.
 *
 * Nothing here reads or writes a file: wlf_load.h fills these structures
 * from libconfig files, fpmctl's confwrite.h renders them back.
 */
#ifndef WLF_MODEL_H
#define WLF_MODEL_H

#include <stddef.h>

#include "wlf_err.h"
#include "wlf_settings.h"
#include "wlf_validate.h"

/* ---- global configuration ---- */

typedef enum { WLF_SERVICE_DIRECT, WLF_SERVICE_SYSTEMD } wlf_service;

/* "direct" or "systemd", as in wlfcgi.conf and `init --service`. */
const char *wlf_service_name(wlf_service service);
/* The mode a name means; -1 if it is neither. */
int wlf_service_parse(const char *name, wlf_service *service);

/* php.versions holds at most this many; an account runs at most one
 * instance per version */
#define WLF_MAX_PHP_VERSIONS 32
#define WLF_MAX_INSTANCES (WLF_MAX_PHP_VERSIONS + 1)

typedef struct {
    char *version;          /* "8.2" */
    char *fpm;              /* absolute path of the php-fpm binary */
    char *cli;              /* the CLI of the same version (fpmctl php) */
} wlf_php_version;

typedef struct {
    char *file;             /* the file it was loaded from */
    wlf_service service;
    char *httpd_group;
    long long min_uid;
    long long lock_timeout;     /* seconds a writer waits for the lock */
    long long start_timeout;    /* seconds an instance has to answer a ping */
    long long drain_time;       /* ms an old instance keeps serving after a
                                   switch before it is told to quit */
    long long upload_min_rate;  /* bytes/s a client uploads at least */
    long long max_running;      /* on-demand masters at once; 0: no cap */
    char *accounts_dir;
    char *socket_dir;
    char *state_dir;
    char *log_dir;
    char *unit_dir;             /* systemd mode: generated slices, drop-ins */
    char *cgroup_subtree;       /* group of the account groups / slices */
    char *php_default;
    wlf_php_version *php_versions;
    size_t n_php_versions;
    char **php_admin_allowed;
    size_t n_php_admin_allowed;
    char **php_value_allowed;   /* keys `set NAME php_value.KEY=` takes */
    size_t n_php_value_allowed;
    char **extensions_allowed;  /* "redis", "zend:xdebug": in load order */
    size_t n_extensions_allowed;
    wlf_settings defaults;      /* every setting set (builtin if not given) */
} wlf_config;

/* An empty configuration with the builtin values of everything that has
 * one (service, timeouts, defaults); no paths, no PHP versions. */
void wlf_config_builtin(wlf_config *cfg);
/* Fill unit_dir (<prefix>/etc/systemd/system) and cgroup_subtree
 * ("wlfcgi") where they are unset. -1: out of memory. */
int wlf_config_builtin_limits(wlf_config *cfg, const char *prefix);
void wlf_config_free(wlf_config *cfg);

/* Fill cfg with the builtin defaults and production paths under `prefix`
 * ("" for none), and the php-fpm binaries found on this machine. Used by
 * `fpmctl init`. */
int wlf_config_init_defaults(wlf_config *cfg, const char *prefix,
                             wlf_service service, const char *httpd_group,
                             wlf_err *err);

/* Add a PHP version (validated; `where` names the source in messages). */
int wlf_config_add_php(wlf_config *cfg, const char *version, const char *fpm,
                       const char *where, wlf_err *err);
const wlf_php_version *wlf_config_php(const wlf_config *cfg,
                                      const char *version);
/* Set the CLI binary of a version (php.versions[].cli); without it
 * wlf_config_add_php() puts the one next to php-fpm: .../sbin/php-fpmX.Y
 * -> .../bin/phpX.Y. */
int wlf_config_set_php_cli(wlf_config *cfg, const char *version,
                           const char *cli, wlf_err *err);

/* php_admin_allowed: the builtin list (when wlfcgi.conf has none), one
 * more key, and the lookup. */
int wlf_config_allow_builtin_php_admin(wlf_config *cfg, wlf_err *err);
int wlf_config_allow_php_admin(wlf_config *cfg, const char *key,
                               wlf_err *err);
int wlf_config_php_admin_allowed(const wlf_config *cfg, const char *key);
/* php_value_allowed: the same builtin list when wlfcgi.conf has none */
int wlf_config_allow_php_value(wlf_config *cfg, const char *key,
                               wlf_err *err);
int wlf_config_allow_builtin_php_value(wlf_config *cfg, wlf_err *err);
int wlf_config_php_value_allowed(const wlf_config *cfg, const char *key);
/* extensions_allowed: "NAME" (extension=NAME) or "zend:NAME"
 * (zend_extension=NAME). The entry of extension NAME, or NULL. */
int wlf_config_allow_extension(wlf_config *cfg, const char *entry,
                               wlf_err *err);
const char *wlf_config_extension(const wlf_config *cfg, const char *name);

/*
 * ini settings that cannot be given to one account the ordinary way, for
 * `set` and `check` to refuse with the reason: what wlfcgi manages itself
 * (upload limits, its directories, cache sizes, extensions), with the
 * setting to use instead. NULL for a key that may be set.
 */
const char *wlf_ini_key_managed(const char *key);
/*
 * ini settings PHP reads once, when the account's master starts (shared
 * memory, preloading, JIT buffer): a php_admin value for them would be
 * taken and ignored by the workers, so fpmctl writes them into the
 * instance's own ini file instead, which the master reads.
 */
int wlf_ini_key_startup(const char *key);

/* ---- accounts ---- */

typedef struct {
    char *key;
    char *value;
} wlf_php_admin;

/* A domain of the account with a PHP version of its own (php@DOMAIN). */
typedef struct {
    char *domain;           /* one of the account's domains, as listed */
    char *php;              /* a version of php.versions */
} wlf_domain_php;

typedef struct {
    char name[WLF_NAME_MAX + 1];
    char *user;
    char *group;
    char *home;             /* base of open_basedir; the user's home */
    char **domains;
    size_t n_domains;
    wlf_settings settings;  /* overrides only; unset = global default */
    wlf_php_admin *php_admin;
    size_t n_php_admin;
    wlf_domain_php *domain_php;
    size_t n_domain_php;
    wlf_php_admin *php_value;   /* php_value[KEY]: defaults the customer's
                                   .user.ini may still change */
    size_t n_php_value;
    wlf_php_admin *env;         /* env[NAME] of the pool and of fpmctl php */
    size_t n_env;
    char **extensions;          /* names from extensions_allowed */
    size_t n_extensions;
    char **script_exts;         /* what php-fpm runs (".php"); none set:
                                   wlf_account_script_exts() */
    size_t n_script_exts;
    /* `fpmctl suspend`: no PHP runs, the sites answer with the suspended
     * page. Read it with wlf_account_is_suspended(). */
    int suspended;
    char *suspended_since;  /* when, ISO 8601 UTC ("2025-01-31T12:00:00Z") */
    char *suspended_reason; /* the admin's note; "" when none was given */
} wlf_account;

/* Longest suspension reason (bytes) */
#define WLF_REASON_MAX 200

void wlf_account_init(wlf_account *acct);
void wlf_account_free(wlf_account *acct);
int wlf_account_copy(wlf_account *dst, const wlf_account *src);

int wlf_account_add_domain(wlf_account *acct, const char *domain,
                           wlf_err *err);
int wlf_account_set_php_admin(wlf_account *acct, const char *key,
                              const char *value);  /* value NULL: remove */
int wlf_account_set_php_value(wlf_account *acct, const char *key,
                              const char *value);  /* value NULL: remove */
int wlf_account_set_env(wlf_account *acct, const char *name,
                        const char *value);        /* value NULL: remove */
/* The file name extensions the account's php-fpm runs (its
 * security.limit_extensions, and what mod_wlfcgi routes to it unless a
 * vhost says WLFcgiExtensions): script_extensions, else ".php". */
const char *const *wlf_account_script_exts(const wlf_account *acct,
                                           size_t *n);
/* Add one (".phtml": a dot and 1-15 of a-z, 0-9, '_', '-') */
int wlf_account_add_script_ext(wlf_account *acct, const char *ext,
                               wlf_err *err);

/* The value of KEY in a list of pairs, or NULL */
const char *wlf_pairs_get(const wlf_php_admin *v, size_t n, const char *key);

/* Is the account suspended? The one answer for fpmctl, the module and
 * the metrics: suspended accounts run no PHP and start on no request. */
int wlf_account_is_suspended(const wlf_account *acct);
/* Mark acct suspended since `since` for `reason` (validated), or lift
 * it. -1 with err when a value is invalid or memory runs out. */
int wlf_account_suspend(wlf_account *acct, const char *since,
                        const char *reason, wlf_err *err);
void wlf_account_resume(wlf_account *acct);

/* Pin `domain` (lower-cased here) to PHP version `php`; php NULL removes
 * the pin. Nothing is checked (wlf_account_check() does). -1: out of
 * memory, nothing changed. */
int wlf_account_set_domain_php(wlf_account *acct, const char *domain,
                               const char *php);
/* The version pinned for domain entry `domain`, or NULL. */
const char *wlf_account_domain_php(const wlf_account *acct,
                                   const char *domain);
/* Drop the pins of domains the account no longer lists (after a change
 * of its domains); returns how many went. */
size_t wlf_account_prune_domain_php(wlf_account *acct);
/* The account's own PHP version: its `php`, else php.default. */
const char *wlf_account_php(const wlf_config *cfg, const wlf_account *acct);
/* The index of the domain entry that maps host name `host` (exact over
 * wildcard, the longest wildcard first, as wlf_accounts_match_host()),
 * or -1. */
int wlf_account_domain_for_host(const wlf_account *acct, const char *host);

/*
 * The PHP instances an account runs: one per version in use. [0] is the
 * primary (the account's own version, keyed NAME); then every other
 * version a domain is pinned to, in the order of php.versions, keyed
 * NAME.vVERSION. `out` holds room for WLF_MAX_INSTANCES entries;
 * versions point into cfg. Returns the count (at least 1).
 */
typedef struct {
    const char *version;
    char key[WLF_NAME_MAX + 3 + WLF_VERSION_MAX];
    int primary;
} wlf_instance;

size_t wlf_account_instances(const wlf_config *cfg, const wlf_account *acct,
                             wlf_instance *out);
/* The instance that serves domain entry `domain` (the primary when it
 * has no pin, or its pin is the account's version). */
const wlf_instance *wlf_instance_for_domain(const wlf_config *cfg,
                                            const wlf_account *acct,
                                            const wlf_instance *inst,
                                            size_t n, const char *domain);

/* An account's home as a path: absolute, not "/", no ':' (which would
 * add an open_basedir entry). Whether it exists is fpmctl's business. */
int wlf_valid_home(const char *home, wlf_err *err);

/* Re-validate an account in memory (after `set`) against cfg. */
int wlf_account_check(const wlf_config *cfg, const wlf_account *acct,
                      wlf_err *err);

/* Effective settings: account overrides on top of cfg->defaults. */
int wlf_account_effective(const wlf_config *cfg, const wlf_account *acct,
                          wlf_settings *out);

/* ---- the list of all accounts (wlf_accounts_load() fills it) ---- */

typedef struct {
    char name[WLF_NAME_MAX + 1];    /* the file's NAME (NAME.conf) */
    char *file;
    char *msg;
} wlf_load_error;

typedef struct {
    wlf_account *items;         /* the accounts in force, sorted by name */
    size_t n;
    /* Valid accounts left out because a domain of theirs belongs to an
     * earlier account (by name order); each also has an entry in errors. */
    wlf_account *skipped;
    size_t n_skipped;
    wlf_load_error *errors;     /* files that could not be loaded or were
                                   skipped, and why */
    size_t n_errors;
    /* lookups by name and domain without a scan (the loader keeps it; a
     * list built otherwise has none and is scanned) */
    struct wlf_account_index *index;
} wlf_account_list;

void wlf_account_list_free(wlf_account_list *list);
/* For the loader: list->items[list->n - 1] was just appended. -1: out
 * of memory (the index is then dropped; lookups scan). */
int wlf_account_index_add(wlf_account_list *list);
const wlf_account *wlf_accounts_find(const wlf_account_list *list,
                                     const char *name);
/* The account that owns `domain` (exact string after lower-casing). */
const wlf_account *wlf_accounts_find_domain(const wlf_account_list *list,
                                            const char *domain);
/* The account whose domains match host name `host` (wildcards allowed);
 * NULL if none. Exact matches win over wildcards. */
const wlf_account *wlf_accounts_match_host(const wlf_account_list *list,
                                           const char *host);

/*
 * Every exact domain of one account that a wildcard of another account
 * also matches ("foo.shop.example" of b inside "*.shop.example" of a):
 * fn(owner, domain, wild_owner, wildcard, arg) for each, in list order.
 * The exact name wins (wlf_accounts_match_host), but httpd hands a
 * request to the first vhost whose name matches, so the vhost order
 * must agree. `changed` (may be NULL) stands in for the list's account
 * of its name, or is added: what a change would make.
 */
typedef void (*wlf_shadow_fn)(const wlf_account *owner, const char *domain,
                              const wlf_account *wild_owner,
                              const char *wildcard, void *arg);
void wlf_accounts_shadowed(const wlf_account_list *list,
                           const wlf_account *changed, wlf_shadow_fn fn,
                           void *arg);

/* ---- lists of strings ---- */

/* Append a copy of s to *v; -1 (nothing changed) when out of memory. */
int wlf_strlist_push(char ***v, size_t *n, const char *s);
void wlf_strlist_free(char **v, size_t n);
/* Copies of a and b, both or neither: -1 (nothing kept) when out of
 * memory. */
int wlf_strdup_pair(const char *a, const char *b, char **ca, char **cb);

#endif
