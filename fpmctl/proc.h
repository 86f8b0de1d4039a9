/*
 * proc.h - running programs (php-fpm -t, php-fpm, systemctl) and looking
 * at processes in /proc. Only pids fpmctl found in its own pid files or
 * that hold its own sockets are ever signalled.
 */
#ifndef FPM_PROC_H
#define FPM_PROC_H

#include <stddef.h>
#include <sys/types.h>

#include "wlf_err.h"

typedef struct {
    char *out;          /* stdout and stderr together, NUL-terminated */
    size_t len;
    int status;         /* exit status, or 128 + signal */
    int timed_out;      /* killed after timeout_ms */
} proc_result;

/*
 * Run argv (envp NULL: inherit fpmctl's environment and search PATH) in a
 * new session with stdin from /dev/null and output captured, for at most
 * timeout_ms. A daemon it leaves behind does not keep us waiting: once the
 * program itself exited, output is read for at most another 200 ms.
 */
int proc_run(char *const argv[], char *const envp[], int timeout_ms,
             proc_result *res, wlf_err *err);
/* The same, run inside the cgroups whose cgroup.procs files `join` lists
 * (NULL-terminated; NULL for none). A daemon it starts stays there, and
 * so do its children: the account's php-fpm master and workers. */
int proc_run_in(char *const argv[], char *const envp[],
                const char *const *join, int timeout_ms, proc_result *res,
                wlf_err *err);
void proc_result_free(proc_result *res);
/* proc_run_in(), and the program inherits keep_fd (a listening socket). */
int proc_run_fd_in(char *const argv[], char *const envp[],
                   const char *const *join, int keep_fd, int timeout_ms,
                   proc_result *res, wlf_err *err);
/* Start argv like proc_run_fd_in() does, output to out_fd, without
 * waiting: the pid, or -1 with err set. Every descriptor of the caller but
 * keep_fd and out_fd must be close-on-exec (they are not closed one by
 * one). */
pid_t proc_spawn(char *const argv[], char *const envp[],
                 const char *const *join, int keep_fd, int out_fd,
                 wlf_err *err);

/* The first line of `out` that contains `needle` (or the first non-empty
 * line), without a leading "[date time] " stamp, into buf. */
const char *proc_pick_line(const char *out, const char *needle, char *buf,
                           size_t len);

void proc_sleep_ms(long long ms);

/* Exists and is not a zombie. */
int proc_alive(pid_t pid);
/* /proc/PID/cmdline with NULs as spaces; -1 if gone. */
int proc_cmdline(pid_t pid, char *buf, size_t len);
/* Wait until pid is gone (or a zombie); 1 gone, 0 still there. */
int proc_wait_gone(pid_t pid, long long timeout_ms);
/* Direct children of ppid; returns how many were stored. */
size_t proc_children(pid_t ppid, pid_t *out, size_t cap);
/* php-fpm processes holding a unix socket bound to `path`. */
size_t proc_socket_holders(const char *path, pid_t *out, size_t cap);
/* Inodes of the listening unix sockets bound to `path` (/proc/net/unix). */
size_t proc_unix_listeners(const char *path, unsigned long *inodes,
                           size_t cap);
/* The descriptor number under which `pid` holds one of those sockets,
 * or -1. */
int proc_fd_of_socket(pid_t pid, const unsigned long *inodes, size_t n);

#endif
