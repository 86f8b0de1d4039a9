/*
 * proc.c - child processes and /proc.
 */
#include "proc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wlf_sys.h"

#define OUTPUT_MAX (256 * 1024)

void proc_sleep_ms(long long ms)
{
    struct timespec ts;

    if (ms <= 0)
        return;
    ts.tv_sec = (time_t)(ms / 1000);
    ts.tv_nsec = (long)(ms % 1000) * 1000000;
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Close every descriptor above 2: a daemon must not keep fds that
 * whoever ran fpmctl happened to leave open. */
static void close_inherited(int keep)
{
    int fds[1024];
    size_t n = 0;
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;

    if (d == NULL) {
        for (int fd = 3; fd < 1024; fd++)
            if (fd != keep)
                close(fd);
        return;
    }
    while ((de = readdir(d)) != NULL && n < sizeof(fds) / sizeof(fds[0])) {
        int fd = atoi(de->d_name);
        if (fd > 2 && fd != dirfd(d) && fd != keep)
            fds[n++] = fd;
    }
    closedir(d);
    for (size_t i = 0; i < n; i++)
        close(fds[i]);
}

/* Move this (forked, not yet exec'd) process into each cgroup of `join`:
 * "0" written to cgroup.procs means the writer itself. Only
 * async-signal-safe calls here. */
static void child_join(const char *const *join)
{
    for (; join && *join; join++) {
        int fd = open(*join, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, "0", 1) != 1) {
            dprintf(2, "ERROR: cannot enter the account's cgroup %s: %s\n",
                    *join, strerror(errno));
            _exit(126);
        }
        close(fd);
    }
}

/* keep_fd >= 0: the one descriptor the program inherits (a listening
 * socket); close_others 0: the caller's other descriptors are all
 * close-on-exec and need no closing one by one. */
static void child_exec(char *const argv[], char *const envp[], int out_fd,
                       const char *const *join, int keep_fd, int close_others)
{
    sigset_t none;
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);

    /* the daemon must not share our session, signal mask or handlers */
    setsid();
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int s = 1; s < NSIG; s++)
        signal(s, SIG_DFL);
    if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out_fd, 1) < 0 ||
        dup2(out_fd, 2) < 0)
        _exit(126);
    child_join(join);
    if (close_others)
        close_inherited(keep_fd);
    if (keep_fd > 2 && fcntl(keep_fd, F_SETFD, 0) < 0)
        _exit(126);
    if (envp)
        execve(argv[0], argv, envp);
    else
        execvp(argv[0], argv);
    dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

static int append_output(proc_result *res, const char *data, size_t n)
{
    char *nb;

    if (res->len + n > OUTPUT_MAX)
        n = OUTPUT_MAX - res->len;
    if (n == 0)
        return 0;
    if ((nb = realloc(res->out, res->len + n + 1)) == NULL)
        return -1;
    memcpy(nb + res->len, data, n);
    res->len += n;
    nb[res->len] = '\0';
    res->out = nb;
    return 0;
}

int proc_run(char *const argv[], char *const envp[], int timeout_ms,
             proc_result *res, wlf_err *err)
{
    return proc_run_in(argv, envp, NULL, timeout_ms, res, err);
}

int proc_run_in(char *const argv[], char *const envp[],
                const char *const *join, int timeout_ms, proc_result *res,
                wlf_err *err)
{
    return proc_run_fd_in(argv, envp, join, -1, timeout_ms, res, err);
}

pid_t proc_spawn(char *const argv[], char *const envp[],
                 const char *const *join, int keep_fd, int out_fd,
                 wlf_err *err)
{
    pid_t pid = fork();

    if (pid < 0)
        return wlf_fail(err, argv[0], "fork: %s", strerror(errno));
    /* serve holds a socket per account, all close-on-exec: listing
     * /proc/self/fd (thousands) would only delay the start */
    if (pid == 0)
        child_exec(argv, envp, out_fd, join, keep_fd, 0);
    return pid;
}

int proc_run_fd_in(char *const argv[], char *const envp[],
                   const char *const *join, int keep_fd, int timeout_ms,
                   proc_result *res, wlf_err *err)
{
    int fds[2];
    pid_t pid;
    long long deadline = wlf_now_ms() + timeout_ms, exited_at = 0;
    int status = 0, exited = 0, eof = 0;

    memset(res, 0, sizeof(*res));
    if ((res->out = strdup("")) == NULL)
        return wlf_fail(err, argv[0], "out of memory");
    if (pipe2(fds, O_CLOEXEC) < 0) {
        proc_result_free(res);
        return wlf_fail(err, argv[0], "pipe: %s", strerror(errno));
    }
    pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        proc_result_free(res);
        return wlf_fail(err, argv[0], "fork: %s", strerror(errno));
    }
    if (pid == 0)
        child_exec(argv, envp, fds[1], join, keep_fd, 1);
    close(fds[1]);
    fcntl(fds[0], F_SETFL, O_NONBLOCK);

    while (!eof) {
        long long now = wlf_now_ms();
        struct pollfd p = { fds[0], POLLIN, 0 };
        int wait_ms;

        if (!exited) {
            pid_t r = waitpid(pid, &status, WNOHANG);
            if (r == pid) {
                exited = 1;
                exited_at = now;
            }
        }
        if (exited && now - exited_at >= 200)
            break;      /* a daemon inherited the pipe; do not wait for it */
        if (!exited && now >= deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            exited = 1;
            res->timed_out = 1;
            break;
        }
        wait_ms = exited ? 20 : 10;
        if (poll(&p, 1, wait_ms) > 0) {
            char buf[4096];
            ssize_t n = read(fds[0], buf, sizeof(buf));
            if (n > 0)
                append_output(res, buf, (size_t)n);
            else if (n == 0)
                eof = 1;
        }
    }
    close(fds[0]);
    if (!exited)
        waitpid(pid, &status, 0);
    if (WIFEXITED(status))
        res->status = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        res->status = 128 + WTERMSIG(status);
    return 0;
}

void proc_result_free(proc_result *res)
{
    free(res->out);
    memset(res, 0, sizeof(*res));
}

const char *proc_pick_line(const char *out, const char *needle, char *buf,
                           size_t len)
{
    const char *p = out, *first = NULL, *hit = NULL;
    size_t first_len = 0, hit_len = 0;

    while (p && *p) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        int blank = 1;
        for (size_t i = 0; i < n; i++)
            if (!isspace((unsigned char)p[i]))
                blank = 0;
        if (!blank) {
            if (first == NULL) {
                first = p;
                first_len = n;
            }
            if (needle && hit == NULL && memmem(p, n, needle,
                                                strlen(needle))) {
                hit = p;
                hit_len = n;
            }
        }
        p = eol ? eol + 1 : NULL;
    }
    if (hit == NULL) {
        hit = first;
        hit_len = first_len;
    }
    if (hit == NULL) {
        snprintf(buf, len, "(no output)");
        return buf;
    }
    /* drop php-fpm's "[29-Nov-2026 15:46:12] " stamp */
    if (hit[0] == '[') {
        const char *close = memchr(hit, ']', hit_len);
        if (close && close + 2 <= hit + hit_len && close[1] == ' ') {
            hit_len -= (size_t)(close + 2 - hit);
            hit = close + 2;
        }
    }
    while (hit_len && (hit[hit_len - 1] == '\r' || hit[hit_len - 1] == ' '))
        hit_len--;
    snprintf(buf, len, "%.*s", (int)hit_len, hit);
    /* one line, printable */
    for (char *c = buf; *c; c++)
        if ((unsigned char)*c < 0x20)
            *c = ' ';
    return buf;
}

static int read_stat_state(pid_t pid, char *state, pid_t *ppid)
{
    char path[64], buf[512], *rp;
    FILE *f;
    long pp;

    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    if ((f = fopen(path, "re")) == NULL)
        return -1;
    if (fgets(buf, sizeof(buf), f) == NULL) {
        fclose(f);
        return -1;
    }
    fclose(f);
    /* comm may contain spaces and parentheses: parse after the last ')' */
    if ((rp = strrchr(buf, ')')) == NULL ||
        sscanf(rp + 1, " %c %ld", state, &pp) != 2)
        return -1;
    if (ppid)
        *ppid = (pid_t)pp;
    return 0;
}

int proc_alive(pid_t pid)
{
    char state;

    if (pid <= 0)
        return 0;
    if (kill(pid, 0) < 0 && errno == ESRCH)
        return 0;
    if (read_stat_state(pid, &state, NULL) < 0)
        return 0;
    return state != 'Z' && state != 'X';
}

int proc_cmdline(pid_t pid, char *buf, size_t len)
{
    char path[64];
    int fd;
    ssize_t n;

    snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return -1;
    n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0)
        return -1;
    /* trailing NULs of a rewritten title are padding */
    while (n > 0 && buf[n - 1] == '\0')
        n--;
    for (ssize_t i = 0; i < n; i++)
        if (buf[i] == '\0')
            buf[i] = ' ';
    buf[n] = '\0';
    return 0;
}

int proc_wait_gone(pid_t pid, long long timeout_ms)
{
    long long deadline = wlf_now_ms() + timeout_ms;
    long long step = 2;

    for (;;) {
        if (!proc_alive(pid))
            return 1;
        if (wlf_now_ms() >= deadline)
            return 0;
        proc_sleep_ms(step);
        if (step < 20)
            step += 2;
    }
}

static int numeric(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

size_t proc_children(pid_t ppid, pid_t *out, size_t cap)
{
    DIR *d = opendir("/proc");
    struct dirent *de;
    size_t n = 0;

    if (d == NULL)
        return 0;
    while ((de = readdir(d)) != NULL && n < cap) {
        char state;
        pid_t pp;
        if (!numeric(de->d_name))
            continue;
        if (read_stat_state((pid_t)atol(de->d_name), &state, &pp) == 0 &&
            pp == ppid)
            out[n++] = (pid_t)atol(de->d_name);
    }
    closedir(d);
    return n;
}

/* Whether the fd `name` in /proc/<pid>/fd dir `fddir` is one of the
 * sockets with the given inodes. */
static int fd_is_socket(const char *fddir, const char *name,
                        const unsigned long *inodes, size_t n)
{
    char lp[600], target[64];
    ssize_t len;
    unsigned long ino;

    if ((size_t)snprintf(lp, sizeof(lp), "%s/%s", fddir, name) >=
        sizeof(lp))
        return 0;
    len = readlink(lp, target, sizeof(target) - 1);
    if (len <= 0)
        return 0;
    target[len] = '\0';
    if (sscanf(target, "socket:[%lu]", &ino) != 1)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (inodes[i] == ino)
            return 1;
    return 0;
}

size_t proc_socket_holders(const char *path, pid_t *out, size_t cap)
{
    unsigned long inodes[64];
    size_t n_inodes = 0, n = 0;
    char line[PATH_MAX + 128];
    FILE *f = fopen("/proc/net/unix", "re");
    DIR *d;
    struct dirent *de;

    if (f == NULL)
        return 0;
    /* Num RefCount Protocol Flags Type St Inode Path */
    while (fgets(line, sizeof(line), f) && n_inodes < 64) {
        unsigned long inode;
        char p[PATH_MAX];
        if (sscanf(line, "%*s %*s %*s %*s %*s %*s %lu %4095s", &inode, p) == 2
            && strcmp(p, path) == 0)
            inodes[n_inodes++] = inode;
    }
    fclose(f);
    if (n_inodes == 0 || (d = opendir("/proc")) == NULL)
        return 0;
    while ((de = readdir(d)) != NULL && n < cap) {
        char fddir[300];
        DIR *fds;
        struct dirent *fe;
        int found = 0;
        char cmd[64];
        if (!numeric(de->d_name) || atol(de->d_name) == (long)getpid())
            continue;
        /* only php-fpm's own processes: the socket of an on-demand
         * account is also held by fpmctl serve, which must live on */
        if (proc_cmdline((pid_t)atol(de->d_name), cmd, sizeof(cmd)) < 0 ||
            strncmp(cmd, "php-fpm", 7) != 0)
            continue;
        if ((size_t)snprintf(fddir, sizeof(fddir), "/proc/%s/fd",
                             de->d_name) >= sizeof(fddir))
            continue;
        if ((fds = opendir(fddir)) == NULL)
            continue;
        while (!found && (fe = readdir(fds)) != NULL)
            found = fd_is_socket(fddir, fe->d_name, inodes, n_inodes);
        closedir(fds);
        if (found)
            out[n++] = (pid_t)atol(de->d_name);
    }
    closedir(d);
    return n;
}

size_t proc_unix_listeners(const char *path, unsigned long *inodes,
                           size_t cap)
{
    char line[PATH_MAX + 128];
    FILE *f = fopen("/proc/net/unix", "re");
    size_t n = 0;

    if (f == NULL)
        return 0;
    /* Num RefCount Protocol Flags Type St Inode Path; Flags 00010000 is
     * __SO_ACCEPTCON: a listening socket */
    while (fgets(line, sizeof(line), f) && n < cap) {
        unsigned long inode, flags;
        char p[PATH_MAX];
        if (sscanf(line, "%*s %*s %*s %lx %*s %*s %lu %4095s", &flags,
                   &inode, p) == 3 && (flags & 0x10000) &&
            strcmp(p, path) == 0)
            inodes[n++] = inode;
    }
    fclose(f);
    return n;
}

int proc_fd_of_socket(pid_t pid, const unsigned long *inodes, size_t n)
{
    char fddir[64];
    DIR *d;
    struct dirent *de;
    int found = -1;

    snprintf(fddir, sizeof(fddir), "/proc/%ld/fd", (long)pid);
    if ((d = opendir(fddir)) == NULL)
        return -1;
    while (found < 0 && (de = readdir(d)) != NULL)
        if (numeric(de->d_name) && fd_is_socket(fddir, de->d_name, inodes, n))
            found = atoi(de->d_name);
    closedir(d);
    return found;
}
