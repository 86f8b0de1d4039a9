/*
 * wlf_settings.c - the settings table: defaults, parsing, formatting and
 * effective values.
 */
#include "wlf_settings.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wlf_cgroup.h"
#include "wlf_size.h"
#include "wlf_validate.h"

const wlf_setting_def wlf_setting_defs[WLF_S_COUNT] = {
    [WLF_S_MAX_CHILDREN] = { "max_children", WLF_T_INT, 1, 5000, "5",
        "most PHP worker processes of the account (pm.max_children)" },
    [WLF_S_IDLE_TIMEOUT] = { "idle_timeout", WLF_T_INT, 1, 86400, "10",
        "seconds an idle worker lives (pm.process_idle_timeout)" },
    [WLF_S_PM] = { "pm", WLF_T_CHOICE, 0, 2, "ondemand",
        "ondemand (fork workers as needed), static (keep max_children; "
        "httpd reuses connections) or dynamic (keep spare workers)",
        "ondemand|static|dynamic" },
    [WLF_S_MAX_UPLOAD] = { "max_upload", WLF_T_SIZE, 1 * WLF_KIB,
        1 * WLF_TIB, "8M",
        "largest request body (post_max_size, upload_max_filesize)" },
    [WLF_S_UPLOAD_CEILING] = { "upload_ceiling", WLF_T_SIZE, 0,
        1 * WLF_TIB, "0",
        "largest body any location may allow (WLFcgiMaxUpload); sizes "
        "the request timeout; 0 = max_upload" },
    [WLF_S_MAX_EXECUTION_TIME] = { "max_execution_time", WLF_T_INT, 1, 86400,
        "30", "seconds a script may run, not counting its upload" },
    [WLF_S_OPCACHE_MEMORY] = { "opcache_memory", WLF_T_SIZE, 8 * WLF_MIB,
        16 * WLF_GIB, "128M", "OpCache shared memory of the account "
        "(opcache.memory_consumption)" },
    [WLF_S_OPCACHE_INTERNED_STRINGS] = { "opcache_interned_strings",
        WLF_T_SIZE, 1 * WLF_MIB, 1 * WLF_GIB, "8M",
        "OpCache interned strings buffer (opcache.interned_strings_buffer)" },
    [WLF_S_OPCACHE_MAX_FILES] = { "opcache_max_files", WLF_T_INT, 200,
        1000000, "10000", "scripts OpCache can hold "
        "(opcache.max_accelerated_files)" },
    [WLF_S_OPCACHE_VALIDATE_TIMESTAMPS] = { "opcache_validate_timestamps",
        WLF_T_BOOL, 0, 1, "true", "check scripts for changes "
        "(opcache.validate_timestamps)" },
    [WLF_S_OPCACHE_REVALIDATE_FREQ] = { "opcache_revalidate_freq", WLF_T_INT,
        0, 86400, "2", "seconds between those checks "
        "(opcache.revalidate_freq)" },
    [WLF_S_APCU_MEMORY] = { "apcu_memory", WLF_T_SIZE, 1 * WLF_MIB,
        16 * WLF_GIB, "32M",
        "APCu shared memory of the account (apc.shm_size)" },
    [WLF_S_PHP] = { "php", WLF_T_STRING, 0, 0, "",
        "PHP version, one of php.versions in wlfcgi.conf" },
    [WLF_S_START_SERVERS] = { "start_servers", WLF_T_INT, 0, 5000, "0",
        "workers started with pm = dynamic (pm.start_servers); 0 = "
        "halfway between the spare counts" },
    [WLF_S_MIN_SPARE_SERVERS] = { "min_spare_servers", WLF_T_INT, 1, 5000,
        "1", "idle workers pm = dynamic keeps at least "
        "(pm.min_spare_servers)" },
    [WLF_S_MAX_SPARE_SERVERS] = { "max_spare_servers", WLF_T_INT, 1, 5000,
        "3", "idle workers pm = dynamic keeps at most "
        "(pm.max_spare_servers)" },
    [WLF_S_MAX_REQUESTS] = { "max_requests", WLF_T_INT, 0, 10000000, "0",
        "requests a worker serves before it is replaced (pm.max_requests); "
        "0 = never" },
    [WLF_S_SLOWLOG_TIMEOUT] = { "slowlog_timeout", WLF_T_INT, 0, 86400, "0",
        "seconds after which a running request's PHP stack goes to the "
        "account's slow.log (request_slowlog_timeout); 0 = off" },
    [WLF_S_REQUEST_TERMINATE_TIMEOUT] = { "request_terminate_timeout",
        WLF_T_INT, 0, 86400, "0", "seconds a request may run in PHP before "
        "its worker is killed; 0 = max_execution_time + 60 (+ reading the "
        "largest body from httpd)" },
    [WLF_S_CPU] = { "cpu", WLF_T_PERCENT, 0, 100000, "0",
        "CPU time of the whole account in percent of one core (150% = one "
        "and a half cores); 0 = no limit" },
    [WLF_S_MEMORY] = { "memory", WLF_T_SIZE, 0, 16 * WLF_TIB, "0",
        "memory (RAM and swap) of the whole account, master and workers; "
        "a worker that needs more is killed; 0 = no limit" },
    [WLF_S_TASKS] = { "tasks", WLF_T_INT, 0, 4194304, "0",
        "processes and threads of the account (fork bombs stop here); "
        "0 = no limit" },
    [WLF_S_IO_WEIGHT] = { "io_weight", WLF_T_INT, 0, 10000, "0",
        "share of disk time against other accounts, 1-10000 (100 is the "
        "kernel's default); 0 = not set" },
    /* builtin "always": a wlfcgi.conf written before this setting keeps
     * its behaviour; init writes on-demand for systemd hosts */
    [WLF_S_ACTIVATION] = { "activation", WLF_T_CHOICE, 0, 1, "always",
        "always (the master runs all the time) or on-demand (its first "
        "request starts it)", "always|on-demand" },
    [WLF_S_IDLE_STOP] = { "idle_stop", WLF_T_INT, 0, 604800, "600",
        "seconds without a request after which an on-demand master is "
        "stopped (0: never)" },
};

/* Below this a memory limit leaves no room for the master itself. */
#define WLF_MEMORY_MIN (32 * WLF_MIB)

long long wlf_stream_seconds(const wlf_settings *eff)
{
    long long t = eff->num[WLF_S_REQUEST_TERMINATE_TIMEOUT] / 2;

    if (eff->num[WLF_S_REQUEST_TERMINATE_TIMEOUT] <= 0 ||
        t >= WLF_STREAM_SECONDS)
        return WLF_STREAM_SECONDS;
    return t > 0 ? t : 1;
}

long long wlf_stream_max(const wlf_settings *eff, long long upload_min_rate)
{
    return wlf_stream_seconds(eff) *
           (upload_min_rate > 0 ? upload_min_rate : 1);
}

int wlf_client_keeps_pace(long long got, long long length,
                          long long elapsed_us, long long stream_seconds)
{
    double left_us = (double)stream_seconds * 1e6 - (double)elapsed_us;

    if (got < WLF_PACE_FROM || got <= 0 || left_us <= 0)
        return 0;
    /* the rest at got/elapsed bytes per microsecond, within left_us */
    return (double)(length - got) * (double)elapsed_us <=
           (double)got * left_us;
}

const char *wlf_type_name(wlf_type type)
{
    switch (type) {
    case WLF_T_INT: return "int";
    case WLF_T_SIZE: return "size";
    case WLF_T_BOOL: return "bool";
    case WLF_T_CHOICE: return "choice";
    case WLF_T_PERCENT: return "percent";
    case WLF_T_STRING: break;
    }
    return "string";
}

int wlf_setting_find(const char *key)
{
    for (int i = 0; i < WLF_S_COUNT; i++)
        if (strcmp(wlf_setting_defs[i].key, key) == 0)
            return i;
    return -1;
}

int wlf_parse_int(const char *text, long long *out)
{
    char *end;
    long long v;

    if (text[0] == '\0' || !(text[0] == '-' || (text[0] >= '0' &&
                                                text[0] <= '9')))
        return -1;
    errno = 0;
    v = strtoll(text, &end, 10);
    if (errno || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

static int store_number(wlf_settings *s, int id, long long v, wlf_err *err)
{
    const wlf_setting_def *d = &wlf_setting_defs[id];
    char a[32], b[32];

    if (v < d->min || v > d->max) {
        if (d->type == WLF_T_SIZE)
            return wlf_fail(err, d->key, "must be between %s and %s",
                            wlf_size_format(d->min, a, sizeof(a)),
                            wlf_size_format(d->max, b, sizeof(b)));
        return wlf_fail(err, d->key, "must be between %lld and %lld",
                        d->min, d->max);
    }
    s->num[id] = v;
    s->is_set[id] = 1;
    return 0;
}

int wlf_setting_parse(wlf_settings *s, int id, const char *text, wlf_err *err)
{
    const wlf_setting_def *d = &wlf_setting_defs[id];
    long long v;

    switch (d->type) {
    case WLF_T_INT:
        if (wlf_parse_int(text, &v) < 0)
            return wlf_fail(err, d->key, "'%.40s' is not a whole number",
                            text);
        return store_number(s, id, v, err);
    case WLF_T_SIZE:
        if (text[0] == '-')
            return wlf_fail(err, d->key, "size may not be negative");
        if (wlf_size_parse(text, d->key, &v, err) < 0)
            return -1;
        if (id == WLF_S_MEMORY && v != 0 && v < WLF_MEMORY_MIN)
            return wlf_fail(err, d->key, "must be 0 (no limit) or at least "
                            "32M: the master alone needs that much");
        return store_number(s, id, v, err);
    case WLF_T_PERCENT:
        if (wlf_cpu_parse(text, &v, err) < 0)
            return -1;
        return store_number(s, id, v, err);
    case WLF_T_BOOL:
        if (!strcasecmp(text, "true") || !strcasecmp(text, "yes") ||
            !strcasecmp(text, "on") || !strcmp(text, "1"))
            v = 1;
        else if (!strcasecmp(text, "false") || !strcasecmp(text, "no") ||
                 !strcasecmp(text, "off") || !strcmp(text, "0"))
            v = 0;
        else
            return wlf_fail(err, d->key, "'%.40s' is not true or false",
                            text);
        return store_number(s, id, v, err);
    case WLF_T_CHOICE: {
        const char *c = d->choices;
        for (v = 0; *c; v++) {
            size_t n = strcspn(c, "|");
            if (strlen(text) == n && strncmp(text, c, n) == 0)
                return store_number(s, id, v, err);
            c += n + (c[n] == '|');
        }
        return wlf_fail(err, d->key, "'%.40s' is not one of %s", text,
                        d->choices);
    }
    case WLF_T_STRING: {
        char *copy;
        if (wlf_valid_php_version(text, err) < 0)
            return -1;
        if ((copy = strdup(text)) == NULL)
            return wlf_fail(err, d->key, "out of memory");
        free(s->str[id]);
        s->str[id] = copy;
        s->is_set[id] = 1;
        return 0;
    }
    }
    return wlf_fail(err, d->key, "unknown setting type");
}

const char *wlf_setting_format(const wlf_settings *s, int id, char *buf,
                               size_t len)
{
    switch (wlf_setting_defs[id].type) {
    case WLF_T_INT:
        snprintf(buf, len, "%lld", s->num[id]);
        break;
    case WLF_T_SIZE:
        wlf_size_format(s->num[id], buf, len);
        break;
    case WLF_T_BOOL:
        snprintf(buf, len, "%s", s->num[id] ? "true" : "false");
        break;
    case WLF_T_CHOICE: {
        const char *c = wlf_setting_defs[id].choices;
        for (long long i = 0; i < s->num[id] && *c; i++)
            c += strcspn(c, "|") + (c[strcspn(c, "|")] == '|');
        snprintf(buf, len, "%.*s", (int)strcspn(c, "|"), c);
        break;
    }
    case WLF_T_STRING:
        snprintf(buf, len, "%s", s->str[id] ? s->str[id] : "");
        break;
    case WLF_T_PERCENT:
        wlf_cpu_format(s->num[id], buf, len);
        break;
    }
    return buf;
}

void wlf_settings_unset(wlf_settings *s, int id)
{
    free(s->str[id]);
    s->str[id] = NULL;
    s->num[id] = 0;
    s->is_set[id] = 0;
}

void wlf_settings_free(wlf_settings *s)
{
    for (int i = 0; i < WLF_S_COUNT; i++)
        free(s->str[i]);
    memset(s, 0, sizeof(*s));
}

int wlf_settings_copy(wlf_settings *dst, const wlf_settings *src)
{
    memset(dst, 0, sizeof(*dst));
    memcpy(dst->is_set, src->is_set, sizeof(dst->is_set));
    memcpy(dst->num, src->num, sizeof(dst->num));
    for (int i = 0; i < WLF_S_COUNT; i++) {
        if (src->str[i] && (dst->str[i] = strdup(src->str[i])) == NULL) {
            wlf_settings_free(dst);
            return -1;
        }
    }
    return 0;
}

void wlf_settings_builtin(wlf_settings *s)
{
    for (int i = 0; i < WLF_S_COUNT; i++)
        if (wlf_setting_defs[i].type != WLF_T_STRING)
            wlf_setting_parse(s, i, wlf_setting_defs[i].builtin, NULL);
}

int wlf_settings_check_pm(const wlf_settings *eff, wlf_err *err)
{
    long long children = eff->num[WLF_S_MAX_CHILDREN];
    long long lo = eff->num[WLF_S_MIN_SPARE_SERVERS];
    long long hi = eff->num[WLF_S_MAX_SPARE_SERVERS];
    long long start = eff->num[WLF_S_START_SERVERS];

    if (eff->num[WLF_S_PM] != WLF_PM_DYNAMIC)
        return 0;
    if (hi > children)
        return wlf_fail(err, "max_spare_servers", "%lld is above "
                        "max_children %lld (pm = dynamic)", hi, children);
    if (lo > hi)
        return wlf_fail(err, "min_spare_servers", "%lld is above "
                        "max_spare_servers %lld (pm = dynamic)", lo, hi);
    if (start != 0 && (start < lo || start > hi))
        return wlf_fail(err, "start_servers", "%lld is not between "
                        "min_spare_servers %lld and max_spare_servers %lld "
                        "(pm = dynamic)", start, lo, hi);
    return 0;
}

int wlf_settings_effective(const wlf_settings *defaults,
                           const wlf_settings *overrides, wlf_settings *out)
{
    if (wlf_settings_copy(out, defaults) < 0)
        return -1;
    for (int i = 0; i < WLF_S_COUNT; i++) {
        if (!overrides->is_set[i])
            continue;
        out->num[i] = overrides->num[i];
        if (overrides->str[i]) {
            char *s = strdup(overrides->str[i]);
            if (s == NULL) {
                wlf_settings_free(out);
                return -1;
            }
            free(out->str[i]);
            out->str[i] = s;
        }
    }
    /* the ceiling is never below the account's own limit */
    if (out->num[WLF_S_UPLOAD_CEILING] < out->num[WLF_S_MAX_UPLOAD])
        out->num[WLF_S_UPLOAD_CEILING] = out->num[WLF_S_MAX_UPLOAD];
    return 0;
}

void wlf_settings_limits(const wlf_settings *eff, long long *cpu,
                         long long *memory, long long *tasks,
                         long long *io_weight)
{
    *cpu = eff->num[WLF_S_CPU];
    *memory = eff->num[WLF_S_MEMORY];
    *tasks = eff->num[WLF_S_TASKS];
    *io_weight = eff->num[WLF_S_IO_WEIGHT];
}
