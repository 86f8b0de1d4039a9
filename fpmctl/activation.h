/*
 * activation.h - what on-demand accounts need beyond the two slots: the
 * listening sockets that exist while no php-fpm runs, how php-fpm inherits
 * them, the "stopped" marker, and the control connection to `fpmctl serve`.
 *
 * An on-demand account's slot socket (<sockets>/NAME.a.sock) is bound by
 * fpmctl, not by php-fpm: owner root, group httpd_group, mode 0660. Whoever
 * holds it (`fpmctl serve`, or systemd's socket unit) hands it to the
 * master through FPM_SOCKETS ("key=fd"), and the pool's `listen` line says
 * that same key. The key is deliberately *not* the socket's path
 * (<sockets>/NAME.a.fd, which never exists): php-fpm unlinks its listen
 * path when the master exits, and the socket must outlive the master so
 * that the next connection finds it and starts the next master.
 *
 * The control connection: `fpmctl serve` listens on <sockets>/.serve.ctl
 * (root only, 0600). Commands (one line each; replies "ok ..." or
 * "error ..."):
 *   lock NAME          serve leaves NAME alone (no start, no idle stop)
 *                      until `unlock NAME` or the connection closes; the
 *                      reply names NAME's state "ok STATE SLOT PID"
 *   unlock NAME        serve re-reads NAME from disk and arms it (not
 *                      when stopped or suspended: then it holds nothing)
 *   adopt NAME SLOT PID  + the slot's listening socket (SCM_RIGHTS): a
 *                      change started this master on that socket
 *   release NAME       close NAME's sockets (it stops being on-demand)
 *   state NAME         "ok STATE SLOT PID IDLE_MS"
 *   list               "ok N" and N lines "NAME STATE SLOT PID IDLE_MS"
 */
#ifndef FPM_ACTIVATION_H
#define FPM_ACTIVATION_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "fpmctl.h"
#include "instance.h"

/* listen(2) backlog of an on-demand socket: php-fpm's own default */
#define FPM_LISTEN_BACKLOG 511

/* Does this account start on demand (else always)? */
int fpm_is_on_demand(const wlf_config *cfg, const wlf_account *acct);
/* Its effective idle_stop in ms (0: never stopped for idleness). */
long long fpm_idle_stop_ms(const wlf_config *cfg, const wlf_account *acct);

/* <sockets>/NAME.SLOT.fd: the key of the inherited socket (see above) */
const char *fpm_inherit_key(const wlf_config *cfg, const char *name,
                            char slot, char *buf, size_t len);
/* "FPM_SOCKETS=<key>=<fd>" */
const char *fpm_inherit_env(const wlf_config *cfg, const char *name,
                            char slot, int fd, char *buf, size_t len);

/*
 * Bind a listening socket at `path` for an on-demand account: root,
 * httpd_group, 0660, so that only httpd and root can connect (never the
 * account's own PHP). It is created 0600 and then given its group and
 * mode: nobody ever sees it with more rights than that.
 * A socket file nobody listens on is replaced; one that accepts is
 * refused (someone else serves it). Returns the fd (close-on-exec); *file
 * (may be NULL) gets the socket file's stat.
 */
int fpm_listen_socket(const wlf_config *cfg, const char *path,
                      struct stat *file, wlf_err *err);

/* Is the file at `path` still the one `file` describes (the socket file
 * fpm_listen_socket() made, not one unlinked and replaced since)? */
int fpm_same_file(const char *path, const struct stat *file);

/* The marker of an explicitly stopped on-demand account:
 * <sockets>/NAME.stopped. Requests do not start it. */
const char *fpm_stopped_path(const wlf_config *cfg, const char *name,
                             char *buf, size_t len);
int fpm_is_stopped(const wlf_config *cfg, const char *name);
int fpm_set_stopped(const wlf_config *cfg, const char *name, int stopped,
                    wlf_err *err);

/* ---- the control connection to `fpmctl serve` ---- */

/* <sockets>/.serve.ctl */
const char *fpm_serve_ctl_path(const wlf_config *cfg, char *buf, size_t len);

/* Connect to a running `fpmctl serve` once per fpmctl run (cached in ctx);
 * -1 when none runs. */
int fpm_serve_conn(fpm_ctx *ctx);

/*
 * Send one command line (and `pass_fd` if >= 0) and read the one-line
 * reply into reply (without "\n"). Returns 0 for "ok ...", -1 with err set
 * for "error ..." or a broken connection.
 */
int fpm_serve_call(int fd, const char *cmd, int pass_fd, char *reply,
                   size_t len, wlf_err *err);

/* The state of one account as serve sees it. */
typedef struct {
    char name[WLF_NAME_MAX + 1];
    char state[16];             /* idle, starting, running, stopping,
                                   stopped, failed, waiting */
    char slot;                  /* 0 if none */
    pid_t pid;
    long long idle_ms;          /* since its last request; -1 unknown */
} fpm_serve_state;

/* `list`: every account serve manages, sorted by name (malloc'd). */
int fpm_serve_list(int fd, fpm_serve_state **out, size_t *n, wlf_err *err);
const fpm_serve_state *fpm_serve_find(const fpm_serve_state *v, size_t n,
                                      const char *name);
/* `state NAME` */
int fpm_serve_query(int fd, const char *name, fpm_serve_state *st,
                    wlf_err *err);

/*
 * Correct what fpm_instance_probe() found (pid files, /proc) for an
 * on-demand account: no master but its socket held (by serve: `st`) is
 * idle; a master serve is starting is starting; stopped by fpmctl stop,
 * or with no serve to hold the socket, is stopped (p->error says why).
 * serve_runs: whether fpmctl serve answered at all.
 */
void fpm_probe_on_demand(const wlf_config *cfg, const char *name,
                         const fpm_serve_state *st, int serve_runs,
                         fpm_probe *p);

/* Parse "NAME STATE SLOT PID IDLE_MS" (list lines, state replies). */
int fpm_serve_parse_state(const char *line, fpm_serve_state *st);

/*
 * Hold an account against serve for a change: `lock NAME`. Returns 1 if
 * serve runs and the account is now held, 0 if no serve runs, -1 on error.
 * fpm_serve_unlock() lets serve pick it up again (re-read from disk).
 */
int fpm_serve_lock(fpm_ctx *ctx, const char *name, wlf_err *err);
void fpm_serve_unlock(fpm_ctx *ctx, const char *name);

#endif
