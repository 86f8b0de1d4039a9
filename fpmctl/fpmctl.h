/*
 * fpmctl.h - what the commands of fpmctl share: the run context, exit
 * codes, the command table type and output helpers.
 *
 * Layout (like git): main.c parses the global options and dispatches
 * through one table (fpm_commands in main.c); each command or small group
 * of commands lives in its own cmd_*.c with its own usage and help text.
 * The pure parts (render.c, setkeys.c, confwrite.c, args.c, json.c) are
 * unit-tested; fsutil.c, proc.c, instance.c and ops.c are the thin layer
 * that touches files and processes.
 */
#ifndef FPMCTL_H
#define FPMCTL_H

#include <sys/types.h>

#include "wlf_config.h"

#define FPMCTL_VERSION "0.1"
#define FPM_DEFAULT_CONFIG "/etc/wlfcgi/wlfcgi.conf"

/* Exit codes, documented in fpmctl(8) and docs/internals.md */
enum {
    FPM_EXIT_OK = 0,            /* done, or nothing to do */
    FPM_EXIT_FAILED = 1,        /* the operation failed */
    FPM_EXIT_USAGE = 2,         /* usage error or invalid input */
    FPM_EXIT_NO_ACCOUNT = 3,    /* no such account */
    FPM_EXIT_LOCKED = 4         /* lock not released within lock_timeout */
};

/* An old instance to tell to quit once drain_time has passed. */
typedef struct {
    char name[WLF_NAME_MAX + 1];
    char version[WLF_VERSION_MAX + 1];  /* "": the primary instance */
    char slot;
    pid_t pid;
    long long due_ms;           /* CLOCK_MONOTONIC ms */
} fpm_pending_quit;

/* The drain lock of an account this run holds (fpm_wait_drain()). */
typedef struct {
    char name[WLF_NAME_MAX + 1];
    int fd;
} fpm_drain_lock;

typedef struct fpm_ctx {
    const char *config_path;
    int json;
    int dry_run;
    int yes;                    /* -y: no questions */
    int verbosity;              /* -1 quiet, 0 normal, 1 verbose */
    int tty;                    /* stdout is a terminal */
    wlf_config cfg;
    int have_cfg;
    int lock_fd;                /* -1 when not locked */
    fpm_pending_quit *pending;
    size_t n_pending;
    char dirty_marker[4096];    /* set by fpm_take_lock() */
    int serve_fd;               /* control connection to fpmctl serve */
    int serve_tried;            /* serve_fd is valid (-1: none runs) */
    fpm_drain_lock *drains;     /* accounts this run may change */
    size_t n_drains;
    int drain_timed_out;        /* an account's drain lock was not free */
} fpm_ctx;

typedef int (*fpm_cmd_fn)(fpm_ctx *ctx, int argc, char **argv);

/* Command flags: what main() does before calling the command. */
enum {
    CMD_NEEDS_CONFIG = 1,       /* load wlfcgi.conf first */
    CMD_NEEDS_LOCK = 2,         /* take the writer lock (not with --dry-run) */
    CMD_LOCKS_ITSELF = 4,       /* init: locks once its directory exists */
    CMD_RAW_ARGS = 8            /* global options after it are its own
                                   (php: `fpmctl php NAME -v`) */
};

typedef struct {
    const char *name;
    fpm_cmd_fn fn;
    int flags;
    const char *usage;          /* one line: "add-account NAME [--user U]..." */
    const char *help;           /* the rest of `fpmctl COMMAND --help` */
} fpm_command;

/* ---- output (out.c) ---- */

/* One line of what changed, on stdout; silent with -q. */
void fpm_say(const fpm_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A step, on stderr; only with -v. */
void fpm_info(const fpm_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* An error line on stderr: "fpmctl: ..." (never silenced). */
void fpm_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "fpmctl: field: msg" and return `code`. */
int fpm_report(const wlf_err *err, int code);
/* Print "fpmctl: msg (see fpmctl COMMAND --help)" and return 2. */
int fpm_usage_error(const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* err as text for a line that already names the account: "msg" when the
 * field is the account name itself, else "field: msg". */
const char *fpm_err_text(const wlf_err *err, const char *name, char *buf,
                         size_t len);
/* A file that did not load, as "FILE: why" (once, even when the loader's
 * message already starts with the file). Static buffer. */
const char *fpm_load_error_text(const wlf_load_error *e);
/* The same without the file: "line 5: syntax error". */
const char *fpm_load_error_why(const wlf_load_error *e);
/*
 * Before a change that stops serving sites: go ahead with -y, or when the
 * admin answers y on a terminal to "`what` `question` [y/N]". Otherwise
 * say so (on stderr, naming -y) and return the exit code: 2 when there
 * is no terminal to ask, 1 when the answer was no. FPM_EXIT_OK: go on.
 */
int fpm_confirm(const fpm_ctx *ctx, const char *name, const char *what,
                const char *question);
/* Write a whole string to stdout. */
void fpm_print(const char *s);
/* Flush stdout (before writing to stderr, or forking), remembering a
 * failed write for fpm_finish_output(). */
void fpm_flush_stdout(void);
/* At exit: flush stdout; if anything written to it was lost (a full disk,
 * a closed pipe), say so on stderr and turn a success `rc` into
 * FPM_EXIT_FAILED. Returns the exit code. */
int fpm_finish_output(int rc);

/* ---- commands (cmd_*.c) ---- */

#define FPM_DECLARE_COMMAND(fn) \
    int fn(fpm_ctx *ctx, int argc, char **argv); \
    extern const char fn##_usage[]; \
    extern const char fn##_help[]

FPM_DECLARE_COMMAND(cmd_init);
FPM_DECLARE_COMMAND(cmd_add_account);
FPM_DECLARE_COMMAND(cmd_remove_account);
FPM_DECLARE_COMMAND(cmd_list);
FPM_DECLARE_COMMAND(cmd_show);
FPM_DECLARE_COMMAND(cmd_status);
FPM_DECLARE_COMMAND(cmd_set);
FPM_DECLARE_COMMAND(cmd_start);
FPM_DECLARE_COMMAND(cmd_stop);
FPM_DECLARE_COMMAND(cmd_restart);
FPM_DECLARE_COMMAND(cmd_reload);
FPM_DECLARE_COMMAND(cmd_suspend);
FPM_DECLARE_COMMAND(cmd_resume);
FPM_DECLARE_COMMAND(cmd_php);
FPM_DECLARE_COMMAND(cmd_check);
FPM_DECLARE_COMMAND(cmd_rebuild);
FPM_DECLARE_COMMAND(cmd_serve);

#endif
