/*
 * instance.h - one php-fpm master of an account in one of its two slots.
 *
 * Each account has slots 'a' and 'b' (docs/internals.md). At most one is
 * live: <socket_dir>/NAME.sock is a symlink to its socket and
 * <state>/fpm/NAME.live records it across reboots. A change starts the idle
 * slot, checks it, switches the link and tells the old master to quit, so
 * php-fpm's own reload (SIGUSR2) is never used.
 *
 * Direct mode runs php-fpm here; systemd mode asks systemctl (or the
 * program named by $WLFCGI_SYSTEMCTL) to start wlfcgi-fpm@NAME.SLOT.service.
 * Both are verified the same way: FastCGI ping on the slot's own socket.
 */
#ifndef FPM_INSTANCE_H
#define FPM_INSTANCE_H

#include <limits.h>
#include <sys/types.h>

#include "fpmctl.h"
#include "render.h"
#include "wlf_cgroup.h"
#include "wlf_fcgi.h"

/* An instance's key (wlf_paths.h): NAME, or NAME.vVERSION */
#define FPM_KEY_MAX (WLF_NAME_MAX + 2 + WLF_VERSION_MAX)

typedef struct {
    char name[WLF_NAME_MAX + 1];    /* the account */
    char version[WLF_VERSION_MAX + 1];  /* "" for the primary instance */
    char key[FPM_KEY_MAX + 1];      /* the instance: NAME or NAME.vV; the
                                       paths below say KEY as NAME */
    char slot;
    char dir[PATH_MAX];         /* <state>/fpm/NAME.SLOT */
    char conf[PATH_MAX];        /* dir/php-fpm.conf */
    char ini_dir[PATH_MAX];     /* dir/ini (PHP_INI_SCAN_DIR) */
    char ini[PATH_MAX];         /* dir/ini/wlfcgi.ini */
    char bin[PATH_MAX];         /* dir/php-fpm -> the version's binary */
    char sock[PATH_MAX];        /* <socket_dir>/NAME.SLOT.sock */
    char pidfile[PATH_MAX];     /* <socket_dir>/NAME.SLOT.pid */
    char log[PATH_MAX];         /* <log_dir>/NAME/fpm.SLOT.log (fpm.vV.SLOT.log
                                   for another PHP version): this master's
                                   own log */
    char unit[FPM_KEY_MAX + 32];    /* wlfcgi-fpm@NAME.SLOT.service */
    char socket_unit[FPM_KEY_MAX + 32];     /* ...@NAME.SLOT.socket: holds
                                               an on-demand slot's socket */
} fpm_slot;

/* A slot of the account's primary instance */
void fpm_slot_init(const wlf_config *cfg, const char *name, char slot,
                   fpm_slot *s);
/* A slot of the account's instance of `version` ("" or NULL: primary) */
void fpm_slot_init_version(const wlf_config *cfg, const char *name,
                           const char *version, char slot, fpm_slot *s);
/* Place the slot's files (php-fpm.conf, ini/, the php-fpm link) in dir
 * instead of the instance directory: `check` tests a rendering there. */
void fpm_slot_set_dir(fpm_slot *s, const char *dir);
static inline char fpm_other_slot(char slot) { return slot == 'a' ? 'b' : 'a'; }

/* What a slot directory held, to put it back after a failed change. */
typedef struct {
    char *conf, *ini, *bin;     /* NULL: did not exist */
} fpm_snapshot;

/* What the slot holds now; -1 (err set) when a file exists but cannot be
 * read: it could not be put back. */
int fpm_slot_snapshot(const fpm_slot *s, fpm_snapshot *snap, wlf_err *err);
int fpm_slot_restore(const fpm_slot *s, const fpm_snapshot *snap,
                     wlf_err *err);
void fpm_snapshot_free(fpm_snapshot *snap);

/* Do the slot's files equal the rendering? */
int fpm_slot_matches(const fpm_slot *s, const fpm_rendered *r);
/* Write the rendered files into the slot directory. */
int fpm_slot_write(const fpm_slot *s, const fpm_rendered *r, wlf_err *err);
/* Remove the slot directory. */
int fpm_slot_remove(const fpm_slot *s, wlf_err *err);

/* `php-fpm -t` with the instance's environment; err quotes php-fpm. */
int fpm_slot_test(const fpm_slot *s, wlf_err *err);

/* The slot's running master (pid file + /proc check), or 0. */
pid_t fpm_slot_pid(const fpm_slot *s);
/* The pid in the pid file, running or not; 0 if none. */
pid_t fpm_slot_pidfile(const fpm_slot *s);

/*
 * Start the slot and verify it: the master comes up, answers a FastCGI
 * ping on its own socket within start_timeout, and its workers log no
 * startup error (a php_admin value PHP rejected, ...). On failure err
 * quotes php-fpm and the caller stops the slot. inherit_fd >= 0: the
 * listening socket of an on-demand account, handed over (FPM_SOCKETS).
 */
int fpm_slot_start(const fpm_ctx *ctx, const fpm_slot *s, int inherit_fd,
                   pid_t *pid, wlf_err *err);
/* The same with the account's limits given (a change that is about to
 * write them), not read from its file. Both start the master inside the
 * account's cgroup or slice (fpm_limits_enter, resources.h). */
int fpm_slot_start_with(const fpm_ctx *ctx, const fpm_slot *s,
                        const wlf_limits *limits, int inherit_fd, pid_t *pid,
                        wlf_err *err);

/*
 * Stop the slot gracefully (SIGQUIT: requests in flight finish), wait up
 * to wait_ms, then SIGTERM and SIGKILL, also for workers left holding the
 * socket. Removes a stale pid file and socket. *was_running tells whether
 * a master was found. In systemd mode the slot's socket unit is stopped
 * too (an on-demand slot).
 */
int fpm_slot_stop(const fpm_ctx *ctx, const fpm_slot *s, long long wait_ms,
                  int *was_running, wlf_err *err);

/* systemd mode: start the slot's socket unit (an on-demand account's
 * socket, held by systemd; the first connection starts the instance). */
int fpm_slot_start_socket_unit(const fpm_ctx *ctx, const fpm_slot *s,
                               wlf_err *err);

/* Tell the master `pid` of slot s to quit, without waiting. */
void fpm_slot_quit(const fpm_ctx *ctx, const fpm_slot *s, pid_t pid);

/* The functions below take an instance KEY (NAME for the primary). */
/* The live slot of an instance: KEY.sock's target, else KEY.live; 0. */
char fpm_live_slot(const wlf_config *cfg, const char *key);
/* Point KEY.sock (and KEY.live) at `slot`. */
int fpm_switch_live(const wlf_config *cfg, const char *key, char slot,
                    wlf_err *err);
/* Point NAME.sock at "NAME.suspended" (which never exists): mod_wlfcgi
 * answers the account's sites with the suspended page from the next
 * request on, and nothing can connect through the link. NAME.live
 * stays, so resume starts from the slot that served last. */
int fpm_link_suspended(const wlf_config *cfg, const char *name,
                       wlf_err *err);
/* Remove KEY.sock (instance stopped); KEY.live stays. */
int fpm_unlink_socket(const wlf_config *cfg, const char *key, wlf_err *err);
/* <state>/fpm/KEY.live */
const char *fpm_live_path(const wlf_config *cfg, const char *key, char *buf,
                          size_t len);

typedef enum {
    FPM_STOPPED,        /* no master, no pid file */
    FPM_RUNNING,        /* master alive (and answered, when asked) */
    FPM_DEAD,           /* pid file but no master, or socket refusing */
    FPM_UNRESPONSIVE,   /* master alive, status page did not answer */
    FPM_IDLE,           /* on-demand, no master: its socket is held and
                           the first request starts one */
    FPM_STARTING,       /* on-demand: a request started the master */
    FPM_SUSPENDED       /* suspended (fpmctl suspend), no master */
} fpm_state;

const char *fpm_state_name(fpm_state st);

/* What list and status say of an account whose file does not load (no
 * instance state: its instance is not looked at). */
#define FPM_STATE_BROKEN "broken"

typedef struct {
    fpm_state state;
    char slot;                  /* live slot, 0 if none recorded */
    pid_t pid;                  /* the master (or the dead one's pid) */
    int have_status;
    wlf_fpm_status status;
    char error[600];
} fpm_probe;

/* How is the account's live instance? With ask_pool, fetch its status page
 * over FastCGI; without, only pid files and /proc are looked at. */
void fpm_instance_probe(const wlf_config *cfg, const char *name,
                        int ask_pool, fpm_probe *p);
/* The same for its instance of `version` ("" or NULL: the primary). */
void fpm_instance_probe_version(const wlf_config *cfg, const char *name,
                                const char *version, int ask_pool,
                                fpm_probe *p);

/* The versions (of php.versions) of the instances other than the primary
 * that account `name` has on disk (instance directories, live records,
 * links, sockets, pid files), whether its account file still names them
 * or not: up to `max` labels into versions[i] (WLF_VERSION_MAX + 1 each).
 * Returns the count. */
size_t fpm_instances_on_disk(const wlf_config *cfg, const char *name,
                             char (*versions)[WLF_VERSION_MAX + 1],
                             size_t max);

/*
 * Lines php-fpm logged to `log` since byte `from` that say an instance is
 * not right: FPM errors, and PHP startup messages of its workers (with
 * catch_workers_output, e.g. a php_admin value PHP refused). Returns 1 and
 * the line in msg when there is one.
 */
int fpm_log_complaint(const char *log, long long from, char *msg,
                      size_t len);
/* Size of a file, 0 if missing. */
long long fpm_file_size(const char *path);

/* The systemctl to run: $WLFCGI_SYSTEMCTL or "systemctl" from PATH. */
const char *fpm_systemctl(void);

#endif
