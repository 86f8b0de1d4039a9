/*
 * wlf_config.h - the account database, shared by fpmctl and mod_wlfcgi.
 *
 * Two kinds of libconfig files:
 *   wlfcgi.conf            global: paths, service mode, PHP binaries, defaults
 *   accounts.d/NAME.conf   one per account: user, domains, overrides
 *
 * Both programs load them with the functions below and nothing else, so
 * they can never disagree about what an account is. Settings that exist both
 * as a global default and as a per-account override are described by one
 * table (wlf_setting_defs) that drives parsing, validation, `fpmctl set`,
 * `fpmctl show` and rendering.
 *
 * Only the libconfig API shared by 1.5 (Debian 12, RHEL 8) and 1.7 (RHEL 9)
 * is used. Sizes and modes are written as strings.
 */
#ifndef WLF_CONFIG_H
#define WLF_CONFIG_H

#include <stddef.h>

#include "wlf_err.h"
#include "wlf_validate.h"

/* ---- settings that have a global default and a per-account override ---- */

typedef enum {
    WLF_S_MAX_CHILDREN,
    WLF_S_IDLE_TIMEOUT,
    WLF_S_PM,
    WLF_S_MAX_UPLOAD,
    WLF_S_UPLOAD_CEILING,
    WLF_S_MAX_EXECUTION_TIME,
    WLF_S_OPCACHE_MEMORY,
    WLF_S_OPCACHE_INTERNED_STRINGS,
    WLF_S_OPCACHE_MAX_FILES,
    WLF_S_OPCACHE_VALIDATE_TIMESTAMPS,
    WLF_S_OPCACHE_REVALIDATE_FREQ,
    WLF_S_APCU_MEMORY,
    WLF_S_PHP,
    WLF_S_COUNT
} wlf_setting_id;

typedef enum {
    WLF_T_INT,      /* plain integer (counts, seconds) */
    WLF_T_SIZE,     /* bytes, written as "8M" */
    WLF_T_BOOL,
    WLF_T_CHOICE,   /* one word of `choices`, stored as its index */
    WLF_T_STRING    /* only "php": a version label from php.versions */
} wlf_type;

typedef struct {
    const char *key;        /* name in files, in `set`, in --json */
    wlf_type type;
    long long min, max;     /* inclusive bounds for INT and SIZE */
    const char *builtin;    /* default when wlfcgi.conf does not say */
    const char *doc;        /* one line for --help, docs and the man page */
    const char *choices;    /* CHOICE only: "ondemand|static" */
} wlf_setting_def;

/* values of the pm setting (index into its choices) */
#define WLF_PM_ONDEMAND 0
#define WLF_PM_STATIC   1

extern const wlf_setting_def wlf_setting_defs[WLF_S_COUNT];

typedef struct {
    unsigned char is_set[WLF_S_COUNT];
    long long num[WLF_S_COUNT];     /* INT, SIZE, BOOL (0/1), CHOICE */
    char *str[WLF_S_COUNT];         /* STRING (malloc'd) */
} wlf_settings;

/* Find a setting by key; -1 if unknown. */
int wlf_setting_find(const char *key);

/*
 * Parse `text` as the value of setting `id` into s (marks it set).
 * Returns 0, or -1 with err->field = key. Does not check that a "php"
 * version exists; wlf_account_check() does that against the config.
 */
int wlf_setting_parse(wlf_settings *s, int id, const char *text, wlf_err *err);

/* Value of setting `id` as text ("8M", "true", "30", "8.2"). */
const char *wlf_setting_format(const wlf_settings *s, int id, char *buf,
                               size_t len);

void wlf_settings_unset(wlf_settings *s, int id);
void wlf_settings_free(wlf_settings *s);
int wlf_settings_copy(wlf_settings *dst, const wlf_settings *src);

/* ---- global configuration ---- */

typedef enum { WLF_SERVICE_DIRECT, WLF_SERVICE_SYSTEMD } wlf_service;

typedef struct {
    char *version;          /* "8.2" */
    char *fpm;              /* absolute path of the php-fpm binary */
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
    char *accounts_dir;
    char *socket_dir;
    char *state_dir;
    char *log_dir;
    char *php_default;
    wlf_php_version *php_versions;
    size_t n_php_versions;
    char **php_admin_allowed;
    size_t n_php_admin_allowed;
    wlf_settings defaults;      /* every setting set (builtin if not given) */
} wlf_config;

/* Load and validate wlfcgi.conf. On error *cfg is left empty. */
int wlf_config_load(const char *path, wlf_config *cfg, wlf_err *err);
/* The same from a string (tests, fuzzing); `name` is used in messages. */
int wlf_config_load_string(const char *text, const char *name,
                           wlf_config *cfg, wlf_err *err);
void wlf_config_free(wlf_config *cfg);

/* Fill cfg with the builtin defaults and production paths under `prefix`
 * ("" for none). Used by `fpmctl init`. */
int wlf_config_init_defaults(wlf_config *cfg, const char *prefix,
                             wlf_service service, const char *httpd_group,
                             wlf_err *err);

/* Render cfg as a wlfcgi.conf file (malloc'd string). */
char *wlf_config_render(const wlf_config *cfg);

const wlf_php_version *wlf_config_php(const wlf_config *cfg,
                                      const char *version);
int wlf_config_php_admin_allowed(const wlf_config *cfg, const char *key);

/* ---- accounts ---- */

typedef struct {
    char *key;
    char *value;
} wlf_php_admin;

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
} wlf_account;

typedef struct {
    char *file;
    char *msg;
} wlf_load_error;

typedef struct {
    wlf_account *items;
    size_t n;
    wlf_load_error *errors;     /* files that could not be loaded */
    size_t n_errors;
} wlf_account_list;

/*
 * Parse one account file. The account name must match the file name
 * (NAME.conf). Everything is validated against cfg (php versions, allowed
 * php_admin keys, ranges); users are not looked up here.
 */
int wlf_account_load(const wlf_config *cfg, const char *path,
                     wlf_account *acct, wlf_err *err);
int wlf_account_load_string(const wlf_config *cfg, const char *text,
                            const char *name, wlf_account *acct,
                            wlf_err *err);

/* Re-validate an account in memory (after `set`) against cfg. */
int wlf_account_check(const wlf_config *cfg, const wlf_account *acct,
                      wlf_err *err);

/*
 * Load every accounts_dir/NAME.conf, sorted by name. Files that fail are
 * listed in list->errors and skipped; a domain claimed by two accounts is
 * reported there too (for the later one, by name order) and the later
 * account is skipped. Returns -1 only when the directory cannot be read.
 */
int wlf_accounts_load(const wlf_config *cfg, wlf_account_list *list,
                      wlf_err *err);
void wlf_account_list_free(wlf_account_list *list);
const wlf_account *wlf_accounts_find(const wlf_account_list *list,
                                     const char *name);
/* The account that owns `domain` (exact string after lower-casing). */
const wlf_account *wlf_accounts_find_domain(const wlf_account_list *list,
                                            const char *domain);
/* The account whose domains match host name `host` (wildcards allowed);
 * NULL if none. Exact matches win over wildcards. */
const wlf_account *wlf_accounts_match_host(const wlf_account_list *list,
                                           const char *host);

void wlf_account_init(wlf_account *acct);
void wlf_account_free(wlf_account *acct);
int wlf_account_copy(wlf_account *dst, const wlf_account *src);

int wlf_account_add_domain(wlf_account *acct, const char *domain,
                           wlf_err *err);
int wlf_account_set_php_admin(wlf_account *acct, const char *key,
                              const char *value);  /* value NULL: remove */

/* Render as an account file (malloc'd libconfig text). */
char *wlf_account_render(const wlf_account *acct);

/* Effective settings: account overrides on top of cfg->defaults. */
int wlf_account_effective(const wlf_config *cfg, const wlf_account *acct,
                          wlf_settings *out);

/* ---- derived paths: the one place that knows the layout ---- */

/* sun_path holds 108 bytes: DIR/NAME(32).a.sock must fit */
#define WLF_SOCKET_DIR_MAX 64

/* <socket_dir>/NAME.sock: a symlink to the live instance's socket */
const char *wlf_path_socket(const wlf_config *cfg, const char *name,
                            char *buf, size_t len);
/* <socket_dir>/NAME.<slot>.sock, slot 'a' or 'b' */
const char *wlf_path_slot_socket(const wlf_config *cfg, const char *name,
                                 char slot, char *buf, size_t len);
/* <socket_dir>/NAME.<slot>.pid */
const char *wlf_path_slot_pid(const wlf_config *cfg, const char *name,
                              char slot, char *buf, size_t len);
/* <state_dir>/fpm/NAME.<slot>: rendered php-fpm.conf, ini/, php-fpm link */
const char *wlf_path_instance_dir(const wlf_config *cfg, const char *name,
                                  char slot, char *buf, size_t len);
/* <state_dir>/accounts/NAME: tmp/, upload/, sessions/ owned by the user */
const char *wlf_path_account_dir(const wlf_config *cfg, const char *name,
                                 char *buf, size_t len);
/* <log_dir>/NAME */
const char *wlf_path_log_dir(const wlf_config *cfg, const char *name,
                             char *buf, size_t len);
/* <accounts_dir>/NAME.conf */
const char *wlf_path_account_file(const wlf_config *cfg, const char *name,
                                  char *buf, size_t len);

/*
 * Which slot a NAME.sock symlink points at: 'a', 'b', or 0 when it is
 * missing or not one of ours. This is how mod_wlfcgi picks the live
 * instance per request (one readlink, no file read).
 */
char wlf_slot_of_link(const char *link_path);

#endif
