/*
 * ops.h - what fpmctl does to an account as a whole: the change procedure
 * of docs/internals.md (render into the idle slot, php-fpm -t, start,
 * ping, switch, let the old instance drain), stopping, directories, and
 * the deferred quit of old instances.
 */
#ifndef FPM_OPS_H
#define FPM_OPS_H

#include <sys/types.h>

#include "fpmctl.h"
#include "render.h"
#include "instance.h"

/* Load accounts_dir/NAME.conf. Returns an exit code: 0, FPM_EXIT_USAGE
 * (invalid name), FPM_EXIT_NO_ACCOUNT, or FPM_EXIT_FAILED (the file does
 * not load); err says why. */
int fpm_account_load(const fpm_ctx *ctx, const char *name, wlf_account *acct,
                     wlf_err *err);

/* The account's user and group ids. */
int fpm_account_ids(const wlf_account *acct, uid_t *uid, gid_t *gid,
                    wlf_err *err);

/* The socket directory: root, httpd's group, no access for others. */
#define FPM_SOCKET_DIR_MODE 0750

/* gid of wlfcgi.conf's httpd_group. */
int fpm_httpd_gid(const wlf_config *cfg, gid_t *gid, wlf_err *err);

/*
 * Workers running as user:group (group NULL: the user's primary group)
 * must not be able to connect to any account's socket: the user is not
 * root, its primary group is not httpd's (httpd's own user), and neither
 * `group` nor any group initgroups() gives it is httpd's. 0, or -1 with
 * err saying which.
 */
int fpm_check_worker_identity(const wlf_config *cfg, const char *user,
                              const char *group, wlf_err *err);

/*
 * Data a removed account left under NAME (remove-account without
 * --purge): <state>/accounts/NAME and <log_dir>/NAME. Returns how many of
 * the two exist and lists them in `list` (", " between).
 */
size_t fpm_leftover_data(const wlf_config *cfg, const char *name,
                         char *list, size_t len);
/* Remove both (what remove-account --purge removes besides the rest). */
int fpm_purge_account_data(const wlf_config *cfg, const char *name,
                           wlf_err *err);

/* An account's home: a valid path (wlf_valid_home) of an existing
 * directory. */
int fpm_check_home(const char *home, wlf_err *err);

/* Create what is missing of the global directories (init fixes modes);
 * the socket directory's owner and mode are always put right. */
int fpm_ensure_base_dirs(const wlf_config *cfg, int fix, wlf_err *err);
/* <log_dir>/NAME, if missing: root-owned, so the user cannot plant
 * symlinks there. */
int fpm_ensure_log_dir(const wlf_config *cfg, const char *name,
                       wlf_err *err);
/* <state>/accounts/NAME/{tmp,upload,sessions} (the user's, 0700), and
 * <log_dir>/NAME (root:group 0750) with php-error.log (the user's, 0640),
 * fpm.a.log, fpm.b.log and slow.log (root:group 0640): the account reads
 * its logs, no other account does. */
int fpm_ensure_account_dirs(const wlf_config *cfg, const wlf_account *acct,
                            wlf_err *err);

enum {
    FPM_APPLY_WRITE_ACCOUNT = 1,    /* write the account file too */
    FPM_APPLY_START = 2,            /* start it if it is not running */
    FPM_APPLY_SWAP = 4              /* new instance even if unchanged */
};

typedef enum {
    FPM_DID_NOTHING,    /* files were already as rendered */
    FPM_DID_FILES,      /* files updated; not running, not started */
    FPM_DID_START,      /* was not running; started */
    FPM_DID_RELOAD,     /* new instance serving, old one draining */
    FPM_DID_ARMED       /* on-demand, not running: its first request
                           starts it (fpmctl serve or a socket unit) */
} fpm_did;

/* What a change did to one instance of the account. */
typedef struct {
    char version[WLF_VERSION_MAX + 1];  /* "": the primary */
    fpm_did did;
    char slot;
    pid_t pid;
} fpm_instance_result;

typedef struct {
    /* the primary instance (the account's own PHP version) */
    fpm_did did;
    char slot;          /* the live slot afterwards */
    pid_t pid;          /* its master */
    pid_t old_pid;      /* the master told to quit after drain_time */
    /* every instance the account runs, [0] the primary */
    fpm_instance_result instances[WLF_MAX_INSTANCES];
    size_t n_instances;
    /* versions whose instance no domain needs any more: retired */
    char retired[WLF_MAX_INSTANCES][WLF_VERSION_MAX + 1];
    size_t n_retired;
    int serve;          /* fpmctl serve runs (and was told) */
} fpm_apply_result;

/*
 * Make the account's derived files and instances match `acct`: one
 * instance per PHP version in use (docs/internals.md, "PHP versions per
 * domain"), the routes of its pinned domains, and the retirement of
 * instances no domain needs. On any failure before the switch, every new
 * instance is stopped, the files are put back and the old instances keep
 * serving; err quotes the cause (php-fpm's own line where it has one).
 * The primary of an on-demand account that is not running is never
 * started (FPM_APPLY_START arms it: FPM_DID_ARMED); one that runs switches
 * like any other, its new socket bound here and handed to php-fpm and to
 * fpmctl serve. The instances of other versions are not on demand: they
 * run while the account is started or armed. While it works, fpmctl serve
 * (if it runs) leaves the account alone.
 */
int fpm_account_apply(fpm_ctx *ctx, const wlf_account *acct, int flags,
                      fpm_apply_result *res, wlf_err *err);

/*
 * What `php-fpm -t` would reject in a rendering of ours, checked without
 * running it: the rendering itself refuses values that could leave their
 * quotes (and php-fpm -t accepts any php_admin value); what is left is the
 * system around it: the binary, a pool user that is not root, socket
 * paths that fit. uid/gid: the account's (fpm_account_ids()).
 */
int fpm_validate_rendering(const wlf_config *cfg, const wlf_account *acct,
                           char slot, const fpm_rendered *r, uid_t uid,
                           gid_t gid, wlf_err *err);

/* Remove the live records and instance directories of every instance of
 * the account (after fpm_account_stop()). */
int fpm_account_remove_instances(const fpm_ctx *ctx, const char *name,
                                 wlf_err *err);

/* One line per instance of another PHP version that the change started,
 * reloaded, rewrote or retired (the primary's line is the caller's). */
void fpm_say_instances(const fpm_ctx *ctx, const char *name,
                       const fpm_apply_result *res);
/* Point each running instance's link at its master again. */
int fpm_account_relink(const fpm_ctx *ctx, const wlf_account *acct,
                       wlf_err *err);

/* Do the derived files of every instance's live slot match what acct
 * renders to, with no instance left that it does not need? */
int fpm_account_up_to_date(const fpm_ctx *ctx, const wlf_account *acct);

/* How long a graceful stop may take for this account (ms). */
long long fpm_stop_wait_ms(const wlf_config *cfg, const wlf_account *acct);

/* Stop both slots of every instance of the account (those of other PHP
 * versions too) and remove their links and the routes, except NAME.sock
 * when it says the account is suspended (that stays; remove-account
 * unlinks it itself). */
int fpm_account_stop(fpm_ctx *ctx, const char *name, long long wait_ms,
                     int *was_running, wlf_err *err);

/*
 * Before this run changes account `name`'s instances: wait (up to
 * lock_timeout) until no earlier fpmctl is still letting an old instance
 * of it drain, and keep others off it until this run's own drain is
 * done. Changes of other accounts do not wait. 0, or -1 with err set
 * (ctx->drain_timed_out when it waited in vain).
 */
int fpm_wait_drain(fpm_ctx *ctx, const char *name, wlf_err *err);
/* Remove the drain lock file of a removed account. */
void fpm_drain_forget(fpm_ctx *ctx, const char *name);
/* fpm_instance_probe(), and FPM_SUSPENDED for a suspended account
 * without a master also while its link is not there (after a reboot). */
void fpm_account_probe(const wlf_config *cfg, const wlf_account *acct,
                       int ask_pool, fpm_probe *p);

/* Remember an old master to quit after drain_time (version: its
 * instance, "" or NULL for the primary). */
void fpm_queue_quit(fpm_ctx *ctx, const char *name, const char *version,
                    char slot, pid_t pid);
/* At exit: tell the queued masters to quit once drain_time has passed.
 * A child does it and keeps their accounts' drain locks meanwhile (not
 * the writer lock), so fpmctl itself returns at once and changes of
 * other accounts need not wait. Releases every drain lock of ctx. */
void fpm_run_pending(fpm_ctx *ctx);

/* Take the writer lock (<dir of wlfcgi.conf>/.lock) and sweep leftovers of
 * killed runs: a run leaves <dir>/.fpmctl-dirty while it holds the lock
 * (fpm_release_lock() removes it), so leftovers are looked for only after
 * a run that did not end. Returns 0 or an exit code (FPM_EXIT_LOCKED,
 * _FAILED). */
int fpm_take_lock(fpm_ctx *ctx, const char *config_path);
/* The command is done writing: remove the marker of fpm_take_lock(). */
void fpm_release_lock(fpm_ctx *ctx);

/*
 * The accounts a command acts on: the operands (each a valid name of an
 * existing account) or, with all set, every account file. Free *names
 * with wlf_strlist_free(). Returns an exit code; on error it has printed
 * why.
 */
int fpm_targets(const fpm_ctx *ctx, const char *const *operands, size_t n_ops,
                int all, const char *usage, char ***names, size_t *n);

/* The operands of a command that has no options of its own (at most
 * `max`; an option or one operand too many is a usage error). *ops is
 * malloc'd (free it), its strings are argv's. Returns an exit code. */
int fpm_operands(int argc, char **argv, const char *usage, size_t max,
                 const char ***ops, size_t *n);

/* fpm_targets() for a command's arguments `NAME...|--all` (--all, -a). */
int fpm_targets_from_args(const fpm_ctx *ctx, int argc, char **argv,
                          const char *usage, char ***names, size_t *n);

/* The domain index (<state>/domains, DOMAIN -> NAME symlinks): written
 * whole from `list`, and kept up to date by add-account, set and
 * remove-account (old or acct NULL: none before/after). */
int fpm_domain_index_build(const wlf_config *cfg, const wlf_account_list *l,
                           wlf_err *err);
void fpm_domain_index_update(const fpm_ctx *ctx, const wlf_account *old,
                             const wlf_account *acct);

/* Warn (stderr) about each exact domain of acct inside another account's
 * wildcard, or of another account inside acct's, that `before` (the
 * account as it was; NULL for a new one) did not already have: which
 * account it belongs to, and that httpd's vhost order must agree. */
void fpm_warn_shadowed(const fpm_ctx *ctx, const wlf_account *acct,
                       const wlf_account *before);

/* Every domain of acct is free or already acct's: invalid input if another
 * account owns one. Uses the domain index (one readlink per domain) or,
 * without one, reads every account file and writes the index. */
int fpm_check_domains(const fpm_ctx *ctx, const wlf_account *acct,
                      wlf_err *err);

#endif
