/*
 * render.h - the files fpmctl derives from an account: the instance's
 * php-fpm.conf (one master, one pool) and its ini override (cache sizes).
 *
 * Pure functions: they take the loaded config and account and return text.
 * Nothing is written here, so the output is unit-tested byte for byte.
 * Every value that ends up inside quotes is checked again here, so a value
 * that slipped past validation can still not break out of its line.
 */
#ifndef FPM_RENDER_H
#define FPM_RENDER_H

#include "wlf_config.h"
#include "wlf_fcgi.h"   /* WLF_FPM_PING_PATH, WLF_FPM_STATUS_PATH */

/* Owner of every instance socket (listen.owner); its group is httpd's and
 * its mode 0660, so only root and httpd's group can connect. */
#define FPM_SOCKET_OWNER "root"

/* Seconds; see fpm_compute_timeouts(). */
typedef struct {
    long long upload_time;               /* ceil(U / upload_min_rate) */
    long long max_input_time;            /* upload_time + 60 */
    long long request_terminate_timeout; /* max_execution_time + above */
} fpm_timeouts;

/*
 * Size the timeouts so that a client uploading the largest body the
 * account may accept (U = effective upload_ceiling, never below max_upload)
 * at upload_min_rate bytes/s is not cut off, while max_execution_time still
 * bounds the script itself:
 *   max_input_time            = ceil(U / rate) + 60
 *   request_terminate_timeout = max_execution_time + ceil(U / rate) + 60
 */
void fpm_compute_timeouts(const wlf_settings *eff, long long upload_min_rate,
                          fpm_timeouts *t);

/* The rendered files of one instance slot. */
typedef struct {
    char *conf;     /* php-fpm.conf */
    char *ini;      /* ini/wlfcgi.ini */
    char *bin;      /* target of the php-fpm symlink */
} fpm_rendered;

/* php-fpm.conf for `acct` in `slot` ('a' or 'b'); malloc'd, NULL + err. */
char *fpm_render_conf(const wlf_config *cfg, const wlf_account *acct,
                      const wlf_settings *eff, char slot, wlf_err *err);

/* ini/wlfcgi.ini: OpCache and APCu sizes of the account's master. */
char *fpm_render_ini(const wlf_account *acct, const wlf_settings *eff,
                     wlf_err *err);

/* Everything of one slot. Returns 0, or -1 with err set. */
int fpm_render_all(const wlf_config *cfg, const wlf_account *acct, char slot,
                   fpm_rendered *out, wlf_err *err);
void fpm_rendered_free(fpm_rendered *r);

/*
 * Can `s` be written between double quotes in an FPM/ini file? No control
 * characters, quotes or backslashes, and '$' only as the last character
 * (Unix names such as "host$"), so neither ${VAR} nor FPM's $pool expands.
 */
int fpm_safe_quoted(const char *s);

#endif
