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

/*
 * mod_wlfcgi streams a request body to PHP only when the client can send
 * it within wlf_stream_seconds() at upload_min_rate (wlf_settings.h); a
 * larger one is spooled by httpd first and reaches the
 * worker at local speed, assumed to be at least FPM_LOCAL_RATE. So no
 * FPM worker waits for a slow client longer than that, and the request
 * timeout does not grow with the upload ceiling.
 */
#define FPM_LOCAL_RATE (64LL * 1024 * 1024)

/* Seconds; see fpm_compute_timeouts(). */
typedef struct {
    long long upload_time;      /* what a worker may wait for a client:
                                   ceil(U / upload_min_rate), at most
                                   wlf_stream_seconds() */
    long long local_read_time;  /* reading the largest body: the larger of
                                   upload_time and ceil(U / FPM_LOCAL_RATE) */
    long long max_input_time;            /* local_read_time + 60 */
    long long request_terminate_timeout; /* the setting, else
                                            max_execution_time +
                                            local_read_time + 60 */
} fpm_timeouts;

/*
 * Size the timeouts for the largest body the account may accept (U =
 * effective upload_ceiling, never below max_upload):
 *   max_input_time            = local_read_time + 60
 *   request_terminate_timeout = request_terminate_timeout if set, else
 *                               max_execution_time + local_read_time + 60
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

/* ini/wlfcgi.ini, read by the account's master: OpCache and APCu sizes,
 * the php_admin values PHP reads only at start-up (wlf_ini_key_startup),
 * and the account's extensions. */
char *fpm_render_ini(const wlf_config *cfg, const wlf_account *acct,
                     const wlf_settings *eff, wlf_err *err);

/* The same for the account's instance of `version` (NULL or "": the
 * primary, whose files are exactly those of fpm_render_conf()): its own
 * socket, pid file and fpm.vVERSION.log; the pool, its user, limits and
 * directories are the account's. */
char *fpm_render_instance_conf(const wlf_config *cfg,
                               const wlf_account *acct, const char *version,
                               const wlf_settings *eff, char slot,
                               wlf_err *err);

/* Everything of one slot. Returns 0, or -1 with err set. */
int fpm_render_all(const wlf_config *cfg, const wlf_account *acct, char slot,
                   fpm_rendered *out, wlf_err *err);
/* ... of one slot of the instance of `version` (NULL: the primary), with
 * that version's php-fpm binary. */
int fpm_render_instance(const wlf_config *cfg, const wlf_account *acct,
                        const char *version, char slot, fpm_rendered *out,
                        wlf_err *err);
void fpm_rendered_free(fpm_rendered *r);

/*
 * Can `s` be written between double quotes in an FPM/ini file? No control
 * characters, quotes or backslashes, and '$' only as the last character
 * (Unix names such as "host$"), so neither ${VAR} nor FPM's $pool expands.
 */
int fpm_safe_quoted(const char *s);

#endif
