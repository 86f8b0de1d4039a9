/*
 * wlf_settings.h - the settings that have a global default (wlfcgi.conf's
 * defaults group) and a per-account override (the account file).
 *
 * One table (wlf_setting_defs) describes them: it drives parsing,
 * validation, `fpmctl set`, `fpmctl show`, rendering and the docs. A
 * wlf_settings holds values for some or all of them; the effective values
 * of an account are its overrides on top of the global defaults.
 */
#ifndef WLF_SETTINGS_H
#define WLF_SETTINGS_H

#include <stddef.h>

#include "wlf_err.h"

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
    WLF_S_START_SERVERS,
    WLF_S_MIN_SPARE_SERVERS,
    WLF_S_MAX_SPARE_SERVERS,
    WLF_S_MAX_REQUESTS,
    WLF_S_SLOWLOG_TIMEOUT,
    WLF_S_REQUEST_TERMINATE_TIMEOUT,
    WLF_S_CPU,
    WLF_S_MEMORY,
    WLF_S_TASKS,
    WLF_S_IO_WEIGHT,
    WLF_S_ACTIVATION,
    WLF_S_IDLE_STOP,
    WLF_S_COUNT
} wlf_setting_id;

typedef enum {
    WLF_T_INT,      /* plain integer (counts, seconds) */
    WLF_T_SIZE,     /* bytes, written as "8M" */
    WLF_T_BOOL,
    WLF_T_CHOICE,   /* one word of `choices`, stored as its index */
    WLF_T_STRING,   /* only "php": a version label from php.versions */
    WLF_T_PERCENT   /* "150%" of one CPU core; 0 = no limit */
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
#define WLF_PM_DYNAMIC  2
/* values of the activation setting */
#define WLF_ACTIVATION_ALWAYS    0
#define WLF_ACTIVATION_ON_DEMAND 1

extern const wlf_setting_def wlf_setting_defs[WLF_S_COUNT];



/* The type's name as `fpmctl --list-settings` prints it ("size"). */
const char *wlf_type_name(wlf_type type);

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

/* A whole number in decimal, nothing after it. Returns 0 or -1. */
int wlf_parse_int(const char *text, long long *out);

/* Every setting but the STRING ones set to its builtin default. */
void wlf_settings_builtin(wlf_settings *s);
void wlf_settings_unset(wlf_settings *s, int id);
void wlf_settings_free(wlf_settings *s);
int wlf_settings_copy(wlf_settings *dst, const wlf_settings *src);

/*
 * Request bodies and PHP's timeouts (fpmctl sizes the timeouts, the module
 * decides per request): a body a client can send within
 * WLF_STREAM_SECONDS at upload_min_rate is streamed to PHP as it arrives;
 * a larger one is spooled by httpd (to its TMPDIR) and handed to PHP
 * once complete, so no FPM worker waits for a slow client for longer,
 * and the request timeout does not grow with the upload ceiling.
 */
#define WLF_STREAM_SECONDS 30LL
/* How long a worker may wait for a client's body: WLF_STREAM_SECONDS, or
 * half an explicit request_terminate_timeout if that is shorter. */
long long wlf_stream_seconds(const wlf_settings *eff);
/* The largest body streamed to PHP (bytes); larger ones are spooled */
long long wlf_stream_max(const wlf_settings *eff, long long upload_min_rate);
/*
 * A larger body is read into the spool until the client has shown its
 * pace: once at least WLF_PACE_FROM bytes (more than the kernels of both
 * ends buffer, so what arrived was sent at the client's own pace) came
 * in `elapsed_us`, and the rest would come at that rate within what is
 * left of `stream_seconds`, the rest is streamed after the spooled part.
 * Returns 1 to stream the rest, 0 to keep spooling. got <= length.
 */
#define WLF_PACE_FROM (16LL * 1024 * 1024)
int wlf_client_keeps_pace(long long got, long long length,
                          long long elapsed_us, long long stream_seconds);

/*
 * Do effective settings make a process manager php-fpm accepts? For pm =
 * dynamic: min_spare_servers <= max_spare_servers <= max_children, and
 * start_servers (0: php-fpm's own choice) between the two spare counts.
 * Returns 0, or -1 with err naming the setting to change.
 */
int wlf_settings_check_pm(const wlf_settings *eff, wlf_err *err);

/*
 * out = the overrides that are set, on top of defaults; the upload
 * ceiling is never below max_upload. Returns 0, or -1 (out of memory)
 * with out empty.
 */
int wlf_settings_effective(const wlf_settings *defaults,
                           const wlf_settings *overrides, wlf_settings *out);

/* The resource limits (cpu, memory, tasks, io_weight) of effective
 * settings, as wlf_cgroup.h takes them. */
void wlf_settings_limits(const wlf_settings *eff, long long *cpu,
                         long long *memory, long long *tasks,
                         long long *io_weight);

#endif
