/*
 * cmd_serve.c - fpmctl serve: on-demand accounts in direct mode.
 *
 * serve runs in the foreground as root and holds the listening socket of
 * every on-demand account (<sockets>/NAME.a.sock or .b.sock, whichever is
 * live). A socket that becomes readable has a connection waiting: serve
 * starts the account's php-fpm master with that socket (FPM_SOCKETS, see
 * activation.h), and the master accepts the very connection that woke it.
 * serve keeps its own copy of the socket, so a master that is stopped for
 * idleness takes nothing with it: connections that arrive meanwhile wait
 * in the socket's queue and start the next master.
 *
 * Everything runs in one epoll loop: listening sockets of idle accounts,
 * a pidfd per master (exit), the status page of running masters fetched
 * without blocking (idle detection: accepted connections and active
 * processes), the control socket for fpmctl commands, and a signalfd.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "activation.h"
#include "fpmctl.h"
#include "fsutil.h"
#include "instance.h"
#include "ops.h"
#include "proc.h"
#include "render.h"
#include "resources.h"
#include "wlf_fcgi.h"
#include "wlf_sys.h"

const char cmd_serve_usage[] = "serve";
const char cmd_serve_help[] =
    "Run in the foreground (as root) and hold the sockets of the on-demand\n"
    "accounts (activation = on-demand) in direct mode. The first connection\n"
    "to an idle account starts its php-fpm master, which serves that very\n"
    "request; a master that served no request for idle_stop seconds is\n"
    "stopped again; at most max_running on-demand masters run at once (at\n"
    "the cap the least recently used idle one is stopped first; a request\n"
    "that finds no place within start_timeout gets 503 with Retry-After).\n"
    "fpmctl commands tell serve what they change. SIGTERM (or SIGINT) stops\n"
    "the masters serve manages, closes the sockets and ends serve; SIGHUP\n"
    "re-reads wlfcgi.conf and every account. Logs go to stderr.\n"
    "Without it, on-demand accounts do not answer in direct mode. In\n"
    "systemd mode the socket units (wlfcgi-fpm@NAME.SLOT.socket) hold the\n"
    "sockets and start the masters; serve (wlfcgi-serve.service) only stops\n"
    "idle ones and, over max_running, the least recently used idle ones;\n"
    "on SIGTERM it leaves them to systemd.\n";

#define MAX_EVENTS      64
#define MAX_CLIENTS     64
#define STATUS_MAX      (64 * 1024)
#define STATUS_WAIT_MS  2000
#define FAILED_RETRY_MS 5000
#define LRU_MIN_IDLE_MS 1000
#define RETRY_AFTER     "10"

typedef enum {
    EV_LISTEN, EV_MASTER, EV_STATUS, EV_CTL, EV_CLIENT, EV_SIGNAL,
    EV_INOTIFY
} ev_kind;

typedef struct {
    ev_kind kind;
    void *obj;
} ev_tag;

typedef enum {
    OD_NONE,        /* not on-demand (or unknown): nothing held */
    OD_IDLE,        /* socket held, no master: a connection starts one */
    OD_WAITING,     /* a connection waits for a place (max_running) */
    OD_STARTING,    /* master started, pid file not written yet */
    OD_RUNNING,
    OD_STOPPING,    /* told to quit; the socket waits for the next master */
    OD_STOPPED,     /* stopped by fpmctl stop: nothing held */
    OD_FAILED,      /* the last start failed: 503 until retry_at */
    OD_SUSPENDED    /* fpmctl suspend: nothing held, nothing started */
} od_state;

static const char *const state_names[] = {
    "none", "idle", "waiting", "starting", "running", "stopping", "stopped",
    "failed", "suspended"
};

struct od_acct;

typedef struct master {
    ev_tag tag;
    struct od_acct *a;
    pid_t pid;
    int pidfd;              /* -1: no pidfd, polled instead */
    int child;              /* forked by serve: reap it */
    char slot;
    long long quit_sent;    /* when serve told it to quit; 0 never */
    int escalation;         /* 0 SIGQUIT sent, 1 SIGTERM, 2 SIGKILL */
} master;

typedef struct od_acct {
    char name[WLF_NAME_MAX + 1];
    od_state state;
    char slot;                  /* live slot */
    int fd[2];                  /* listening sockets held, per slot */
    struct stat file[2];        /* their socket files */
    int watched;                /* fd[slot] is in epoll */
    long long idle_stop_ms;
    long long stop_wait_ms;     /* how long a graceful stop may take */
    wlf_limits limits;          /* cpu, memory, tasks, io_weight */
    master *m;                  /* the live master, NULL if none */
    long long t_state;          /* when the state began */
    long long last_used;        /* last time a request was seen */
    long long next_check;
    long long checked_at;       /* last status check that finished */
    long long accepted;         /* accepted conn at that check; -1 */
    long long log_from;         /* its log's size when the master started */
    long long retry_at;         /* FAILED: when to try again */
    int status_fd;              /* status fetch in progress, -1 */
    unsigned char *status_buf;
    size_t status_len;
    long long status_since;
    int lock_owner;             /* client id holding it, 0 none */
    int lock_waiter;            /* client id waiting to hold it, 0 none */
    int in_active;              /* listed in S.active */
    ev_tag t_listen, t_status;
} od_acct;

typedef struct {
    ev_tag tag;
    int fd;
    int id;
    char in[1024];
    size_t in_len;
    char *out;
    size_t out_len, out_off;
    int pending_fd;             /* fd received with a message, -1 */
    int closing;
} client;

static struct {
    fpm_ctx *ctx;
    wlf_config *cfg;
    struct stat cfg_st;
    int ep, sigfd, ctl_fd, lock_fd;
    char ctl_path[PATH_MAX];
    od_acct **accts;            /* sorted by name */
    size_t n_accts, cap_accts;
    od_acct **active;           /* accounts that need the tick */
    size_t n_active, cap_active;
    master **masters;           /* every master serve tracks */
    size_t n_masters, cap_masters;
    client *clients[MAX_CLIENTS];
    int next_client_id;
    int terminating;
    unsigned char *status_req;
    size_t status_req_len;
    ev_tag t_ctl, t_sig, t_inotify;
    long long starts, stops;
    int hold;                   /* direct mode: serve holds the sockets and
                                   starts masters; systemd mode: socket
                                   units do, serve only stops idle ones */
    int inotify_fd;
} S;

/* ------------------------------------------------------------------ */
/* logging                                                             */

static void slog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void slog(const char *fmt, ...)
{
    char stamp[32];
    time_t t = time(NULL);
    struct tm tm;
    va_list ap;

    if (S.ctx->verbosity < 0)
        return;
    localtime_r(&t, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
    fprintf(stderr, "[%s] fpmctl serve: ", stamp);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}

#define VLOG(...) do { if (S.ctx->verbosity > 0) slog(__VA_ARGS__); } \
                  while (0)

/* ------------------------------------------------------------------ */
/* accounts                                                            */

static int cmp_acct_name(const void *key, const void *elem)
{
    return strcmp((const char *)key, (*(od_acct *const *)elem)->name);
}

static od_acct *find_acct(const char *name)
{
    od_acct **p = bsearch(name, S.accts, S.n_accts, sizeof(*S.accts),
                          cmp_acct_name);

    return p ? *p : NULL;
}

static od_acct *find_or_add(const char *name)
{
    od_acct *a = find_acct(name);
    size_t lo = 0, hi = S.n_accts;

    if (a)
        return a;
    if (S.n_accts == S.cap_accts) {
        size_t ncap = S.cap_accts ? S.cap_accts * 2 : 256;
        od_acct **nv = realloc(S.accts, ncap * sizeof(*nv));
        if (nv == NULL)
            return NULL;
        S.accts = nv;
        S.cap_accts = ncap;
    }
    if ((a = calloc(1, sizeof(*a))) == NULL)
        return NULL;
    wlf_copy(a->name, sizeof(a->name), name);
    a->fd[0] = a->fd[1] = a->status_fd = -1;
    a->accepted = -1;
    a->slot = 'a';
    a->t_listen.kind = EV_LISTEN;
    a->t_listen.obj = a;
    a->t_status.kind = EV_STATUS;
    a->t_status.obj = a;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strcmp(S.accts[mid]->name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(S.accts + lo + 1, S.accts + lo,
            (S.n_accts - lo) * sizeof(*S.accts));
    S.accts[lo] = a;
    S.n_accts++;
    return a;
}

/* Accounts with something for the tick to watch: masters, waiting
 * connections, failed starts, status fetches. */
static void make_active(od_acct *a)
{
    if (a->in_active)
        return;
    if (S.n_active == S.cap_active) {
        size_t ncap = S.cap_active ? S.cap_active * 2 : 64;
        od_acct **nv = realloc(S.active, ncap * sizeof(*nv));
        if (nv == NULL)
            return;
        S.active = nv;
        S.cap_active = ncap;
    }
    S.active[S.n_active++] = a;
    a->in_active = 1;
}

static void set_state(od_acct *a, od_state st)
{
    a->state = st;
    a->t_state = wlf_now_ms();
    if (st != OD_NONE && st != OD_IDLE && st != OD_STOPPED &&
        st != OD_SUSPENDED)
        make_active(a);
}

static void slot_path(const od_acct *a, char slot, char *buf, size_t len)
{
    wlf_path_slot_socket(S.cfg, a->name, slot, buf, len);
}

/* Watch the live socket while a connection there should start a master. */
static void update_watch(od_acct *a)
{
    int fd = a->fd[a->slot - 'a'];
    int want = S.hold && !S.terminating && a->lock_owner == 0 && fd >= 0 &&
               (a->state == OD_IDLE || a->state == OD_FAILED);
    struct epoll_event ev;

    if (want == a->watched)
        return;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    ev.data.ptr = &a->t_listen;
    if (want) {
        if (epoll_ctl(S.ep, EPOLL_CTL_ADD, fd, &ev) == 0)
            a->watched = 1;
    }
    else {
        epoll_ctl(S.ep, EPOLL_CTL_DEL, fd, &ev);
        a->watched = 0;
    }
}

static void unwatch(od_acct *a)
{
    if (a->watched) {
        epoll_ctl(S.ep, EPOLL_CTL_DEL, a->fd[a->slot - 'a'], NULL);
        a->watched = 0;
    }
}

static int slot_has_master(const od_acct *a, char slot)
{
    for (size_t i = 0; i < S.n_masters; i++)
        if (S.masters[i]->a == a && S.masters[i]->slot == slot)
            return 1;
    return 0;
}

/* Close the socket held for `slot`; remove its file when it is still
 * the one we bound and no master of that slot uses it any more. */
static void drop_socket(od_acct *a, char slot)
{
    int i = slot - 'a';
    char path[PATH_MAX];

    if (a->fd[i] < 0)
        return;
    if (slot == a->slot)
        unwatch(a);
    slot_path(a, slot, path, sizeof(path));
    if (!slot_has_master(a, slot) && fpm_same_file(path, &a->file[i]))
        unlink(path);
    close(a->fd[i]);
    a->fd[i] = -1;
}

/* ------------------------------------------------------------------ */
/* masters                                                             */

static int pidfd_of(pid_t pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

static master *add_master(od_acct *a, pid_t pid, int child, char slot)
{
    master *m = calloc(1, sizeof(*m));
    struct epoll_event ev;

    if (m == NULL)
        return NULL;
    if (S.n_masters == S.cap_masters) {
        size_t ncap = S.cap_masters ? S.cap_masters * 2 : 64;
        master **nv = realloc(S.masters, ncap * sizeof(*nv));
        if (nv == NULL) {
            free(m);
            return NULL;
        }
        S.masters = nv;
        S.cap_masters = ncap;
    }
    m->tag.kind = EV_MASTER;
    m->tag.obj = m;
    m->a = a;
    m->pid = pid;
    m->child = child;
    m->slot = slot;
    m->pidfd = pidfd_of(pid);
    if (m->pidfd >= 0) {
        fcntl(m->pidfd, F_SETFD, FD_CLOEXEC);
        memset(&ev, 0, sizeof(ev));
        ev.events = EPOLLIN;
        ev.data.ptr = &m->tag;
        epoll_ctl(S.ep, EPOLL_CTL_ADD, m->pidfd, &ev);
    }
    S.masters[S.n_masters++] = m;
    make_active(a);
    return m;
}

/* The live master becomes a draining one (a change switched slots, or
 * the account is no longer on-demand): tracked until it exits. */
static void retire_master(od_acct *a)
{
    a->m = NULL;
}

static void signal_master(master *m, int sig)
{
    /* through the pidfd: never a process that reused the pid */
#ifdef SYS_pidfd_send_signal
    if (m->pidfd >= 0 &&
        syscall(SYS_pidfd_send_signal, m->pidfd, sig, NULL, 0) == 0)
        return;
    if (m->pidfd >= 0 && errno != ENOSYS)
        return;
#endif
    kill(m->pid, sig);
}

static void quit_master(master *m)
{
    if (m->quit_sent)
        return;
    signal_master(m, SIGQUIT);
    m->quit_sent = wlf_now_ms();
    m->escalation = 0;
}

static void abort_check(od_acct *a);
static void make_room(void);
static void grant_lock(od_acct *a);

/* the slot's own log (fpm.a.log, fpm.b.log) */
static void fpm_log_of(const od_acct *a, char slot, char *buf, size_t len)
{
    fpm_slot s;

    fpm_slot_init(S.cfg, a->name, slot, &s);
    wlf_copy(buf, len, s.log);
}

static void on_master_exit(master *m)
{
    od_acct *a = m->a;
    int status = 0;
    char how[64] = "exited";

    if (m->child && waitpid(m->pid, &status, WNOHANG) == m->pid) {
        if (WIFEXITED(status))
            snprintf(how, sizeof(how), "exited with status %d",
                     WEXITSTATUS(status));
        else if (WIFSIGNALED(status))
            snprintf(how, sizeof(how), "was killed by signal %d",
                     WTERMSIG(status));
    }
    if (m->pidfd >= 0) {
        epoll_ctl(S.ep, EPOLL_CTL_DEL, m->pidfd, NULL);
        close(m->pidfd);
    }
    for (size_t i = 0; i < S.n_masters; i++)
        if (S.masters[i] == m) {
            S.masters[i] = S.masters[--S.n_masters];
            break;
        }
    if (a->m == m) {
        a->m = NULL;
        abort_check(a);
        if (a->lock_owner) {
            /* a change stopped it; unlock reads the account again */
        }
        else if (a->state == OD_STOPPING || S.terminating) {
            VLOG("%s: php-fpm (pid %ld) stopped", a->name, (long)m->pid);
            set_state(a, OD_IDLE);
        }
        else if (a->state == OD_STARTING) {
            char line[PATH_MAX + 16] = "", log[PATH_MAX];
            fpm_log_of(a, m->slot, log, sizeof(log));
            if (!fpm_log_complaint(log, a->log_from, line, sizeof(line)))
                snprintf(line, sizeof(line), "see %s", log);
            slog("%s: php-fpm (pid %ld) %s while starting: %s; requests "
                 "get 503 for %d s", a->name, (long)m->pid, how, line,
                 FAILED_RETRY_MS / 1000);
            set_state(a, OD_FAILED);
            a->retry_at = wlf_now_ms() + FAILED_RETRY_MS;
        }
        else if (a->state == OD_RUNNING) {
            slog("%s: php-fpm (pid %ld) %s; the next request starts it "
                 "again", a->name, (long)m->pid, how);
            set_state(a, OD_IDLE);
        }
    }
    else {
        /* a draining master of the other slot is gone: its socket too */
        if (m->slot != a->slot && !slot_has_master(a, m->slot))
            drop_socket(a, m->slot);
        VLOG("%s: draining php-fpm (pid %ld, slot %c) %s", a->name,
             (long)m->pid, m->slot, how);
    }
    free(m);
    update_watch(a);
    grant_lock(a);
    make_room();
}

/* Start the live slot's master on the held socket. */
static void start_master(od_acct *a)
{
    char scan[PATH_MAX + 32], sockets[PATH_MAX + 64], log[PATH_MAX];
    char *envp[4];
    fpm_slot s;
    fpm_cg_join join;
    wlf_err err;
    pid_t pid;
    int out, fd = a->fd[a->slot - 'a'];

    fpm_slot_init(S.cfg, a->name, a->slot, &s);
    char *argv[] = { s.bin, (char *)"--nodaemonize", (char *)"--fpm-config",
                     s.conf, NULL };
    if (fd < 0 || access(s.conf, R_OK) != 0) {
        slog("%s: cannot start: %s", a->name, fd < 0 ? "no socket held"
             : "its live slot has no php-fpm.conf (fpmctl rebuild)");
        set_state(a, OD_FAILED);
        a->retry_at = wlf_now_ms() + FAILED_RETRY_MS;
        update_watch(a);
        return;
    }
    snprintf(scan, sizeof(scan), "PHP_INI_SCAN_DIR=:%s", s.ini_dir);
    fpm_inherit_env(S.cfg, a->name, a->slot, fd, sockets, sizeof(sockets));
    envp[0] = (char *)"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:"
                      "/usr/bin:/sbin:/bin";
    envp[1] = scan;
    envp[2] = sockets;
    envp[3] = NULL;
    fpm_log_of(a, a->slot, log, sizeof(log));
    a->log_from = fpm_file_size(log);
    /* what php-fpm says before its log is open lands in its log too */
    out = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
               0640);
    if (out < 0)
        out = open("/dev/null", O_WRONLY | O_CLOEXEC);
    /* inside the account's limits, as every master of it (resources.h) */
    if (fpm_limits_enter(S.ctx, a->name, a->name, &a->limits, &join,
                         &err) < 0)
        pid = -1;
    else
        pid = proc_spawn(argv, envp, join.n ? join.join : NULL, fd, out,
                         &err);
    if (out >= 0)
        close(out);
    if (pid < 0 || (a->m = add_master(a, pid, 1, a->slot)) == NULL) {
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
        }
        slog("%s: cannot start php-fpm: %s", a->name,
             pid < 0 ? err.msg : "out of memory");
        set_state(a, OD_FAILED);
        a->retry_at = wlf_now_ms() + FAILED_RETRY_MS;
        update_watch(a);
        return;
    }
    S.starts++;
    set_state(a, OD_STARTING);
    a->last_used = a->t_state;
    a->accepted = -1;
    a->checked_at = 0;
    a->next_check = a->t_state + 200;
    update_watch(a);
    slog("%s: starting php-fpm (pid %ld, slot %c) for a waiting request",
         a->name, (long)pid, a->slot);
}

static void stop_master(od_acct *a, const char *why)
{
    if (a->m == NULL)
        return;
    abort_check(a);
    quit_master(a->m);
    S.stops++;
    set_state(a, OD_STOPPING);
    slog("%s: stopping php-fpm (pid %ld): %s", a->name, (long)a->m->pid,
         why);
}

/* ------------------------------------------------------------------ */
/* answering instead of php-fpm: 503 when no master can take a request */

static void answer_503(od_acct *a, const char *why)
{
    static const char head[] =
        "Status: 503 Service Unavailable\r\n"
        "Retry-After: " RETRY_AFTER "\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n";
    char body[256], rec[1024];
    int fd = a->fd[a->slot - 'a'];
    size_t n = 0;

    if (fd < 0)
        return;
    snprintf(body, sizeof(body), "503 Service Unavailable: %s; please try "
             "again in " RETRY_AFTER " seconds.\n", why);
    for (int k = 0; k < 256; k++) {
        unsigned char junk[8192];
        size_t hl = strlen(head), bl = strlen(body), cl = hl + bl;
        struct pollfd pf = { fd, POLLIN, 0 };
        int c;
        /* the socket itself stays blocking (php-fpm shares it): ask first */
        if (poll(&pf, 1, 0) != 1 || !(pf.revents & POLLIN))
            break;
        c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c < 0)
            break;
        /* read what the client sent (the request); do not wait for more */
        while (read(c, junk, sizeof(junk)) > 0)
            ;
        wlf_fcgi_header((unsigned char *)rec, WLF_FCGI_STDOUT, 1,
                        (unsigned short)cl);
        memcpy(rec + 8, head, hl);
        memcpy(rec + 8 + hl, body, bl);
        wlf_fcgi_header((unsigned char *)rec + 8 + cl, WLF_FCGI_STDOUT, 1, 0);
        wlf_fcgi_header((unsigned char *)rec + 16 + cl,
                        WLF_FCGI_END_REQUEST, 1, 8);
        memset(rec + 24 + cl, 0, 8);
        if (write(c, rec, 32 + cl) < 0)
            VLOG("%s: 503 answer not sent: %s", a->name, strerror(errno));
        close(c);
        n++;
    }
    if (n)
        slog("%s: answered %zu request(s) with 503: %s", a->name, n, why);
}

/* ------------------------------------------------------------------ */
/* idle detection: the master's status page, fetched without blocking  */

static long long check_period_ms(const od_acct *a)
{
    long long p = a->idle_stop_ms / 5;

    if (p < 200)
        p = 200;
    if (p > 10000)
        p = 10000;
    return p;
}

static void abort_check(od_acct *a)
{
    if (a->status_fd < 0)
        return;
    epoll_ctl(S.ep, EPOLL_CTL_DEL, a->status_fd, NULL);
    close(a->status_fd);
    a->status_fd = -1;
    free(a->status_buf);
    a->status_buf = NULL;
    a->status_len = 0;
}

static void stop_if_idle(od_acct *a)
{
    long long now = wlf_now_ms();

    if (a->state == OD_RUNNING && a->lock_owner == 0 &&
        a->idle_stop_ms > 0 && now - a->last_used >= a->idle_stop_ms) {
        char why[64];
        snprintf(why, sizeof(why), "no request for %lld s",
                 (now - a->last_used) / 1000);
        stop_master(a, why);
    }
}

/* st NULL: no answer in time (all workers busy). */
static void finish_check(od_acct *a, const wlf_fpm_status *st)
{
    long long now = wlf_now_ms();
    /* the first check knows of the request that started the master */
    long long base = a->accepted >= 0 ? a->accepted : 1;

    abort_check(a);
    if (st == NULL || st->accepted_conn > base + 1 ||
        st->active_processes > 1)
        a->last_used = now;
    if (st)
        a->accepted = st->accepted_conn;
    a->checked_at = now;
    a->next_check = now + check_period_ms(a);
    stop_if_idle(a);
}

static void start_check(od_acct *a)
{
    struct sockaddr_un sa;
    struct epoll_event ev;
    char path[PATH_MAX];
    int fd;

    if (a->status_fd >= 0 || a->m == NULL)
        return;
    slot_path(a, a->slot, path, sizeof(path));
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa.sun_path))
        return;
    memcpy(sa.sun_path, path, strlen(path));
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        send(fd, S.status_req, S.status_req_len, MSG_NOSIGNAL) !=
            (ssize_t)S.status_req_len) {
        /* a full queue (EAGAIN) means busy; a socket that refuses takes
         * no requests either */
        int busy = errno == EAGAIN;
        close(fd);
        a->next_check = wlf_now_ms() + check_period_ms(a);
        if (busy)
            a->last_used = wlf_now_ms();
        else
            stop_if_idle(a);
        return;
    }
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.ptr = &a->t_status;
    if (epoll_ctl(S.ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        close(fd);
        return;
    }
    a->status_fd = fd;
    a->status_since = wlf_now_ms();
    a->status_len = 0;
    make_active(a);
}

static long long running_workers(const char *text, size_t len)
{
    const char *p = text, *end = text + len;
    long long n = 0;

    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        size_t l;
        if (eol == NULL)
            eol = end;
        l = (size_t)(eol - p);
        if (l > 6 && strncmp(p, "state:", 6) == 0) {
            const char *v = p + 6;
            while (v < eol && *v == ' ')
                v++;
            if ((size_t)(eol - v) >= 7 && strncmp(v, "Running", 7) == 0)
                n++;
        }
        p = eol + 1;
    }
    return n;
}

static void on_status_readable(od_acct *a)
{
    wlf_fcgi_response resp;
    ssize_t n;
    int rc;

    if (a->status_buf == NULL &&
        (a->status_buf = malloc(STATUS_MAX)) == NULL) {
        abort_check(a);
        return;
    }
    n = recv(a->status_fd, a->status_buf + a->status_len,
             STATUS_MAX - a->status_len, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n > 0)
        a->status_len += (size_t)n;
    memset(&resp, 0, sizeof(resp));
    rc = wlf_fcgi_collect(a->status_buf, a->status_len, &resp);
    if (rc == 0) {
        wlf_fpm_status st;
        const char *body;
        size_t body_len;
        int ok = resp.out && wlf_fcgi_http_status(resp.out, resp.out_len,
                                                  &body, &body_len) == 200 &&
                 wlf_fpm_status_parse(body, body_len, &st) == 0;
        /* the summary's "active processes" is refreshed once a second by
         * the master; the per-process states (?full) are the workers'
         * own: count those serving a request, ours included */
        if (ok)
            st.active_processes = running_workers(body, body_len);
        wlf_fcgi_response_free(&resp);
        finish_check(a, ok ? &st : NULL);
        make_room();
        return;
    }
    wlf_fcgi_response_free(&resp);
    if (rc < 0 || n <= 0 || a->status_len == STATUS_MAX) {
        finish_check(a, NULL);
        make_room();
    }
}

/* ------------------------------------------------------------------ */
/* the cap: max_running                                                */

static int at_cap(void)
{
    return S.cfg->max_running > 0 &&
           (long long)S.n_masters >= S.cfg->max_running;
}

/* Start waiting accounts while there is room; at the cap, stop the least
 * recently used idle masters (one whose last status check saw no request
 * since its last use); one not checked lately is checked first, and the
 * answer calls make_room() again. */
static void make_room(void)
{
    long long now = wlf_now_ms();
    size_t waiting = 0, quitting = 0, need;

    if (S.terminating)
        return;
    if (!S.hold) {
        /* systemd starts masters on its own: over the cap, stop the least
         * recently used idle ones */
        for (size_t i = 0; i < S.n_masters; i++)
            if (S.masters[i]->quit_sent || S.masters[i]->a->m != S.masters[i])
                quitting++;
        if (S.cfg->max_running <= 0 ||
            (long long)(S.n_masters - quitting) <= S.cfg->max_running)
            return;
        need = S.n_masters - quitting - (size_t)S.cfg->max_running;
        goto stop_lru;
    }
    for (;;) {
        od_acct *oldest = NULL;
        for (size_t i = 0; i < S.n_active; i++) {
            od_acct *a = S.active[i];
            if (a->state == OD_WAITING && a->lock_owner == 0 &&
                (oldest == NULL || a->t_state < oldest->t_state))
                oldest = a;
        }
        if (oldest == NULL)
            return;
        if (at_cap())
            break;
        start_master(oldest);
    }
    for (size_t i = 0; i < S.n_active; i++)
        if (S.active[i]->state == OD_WAITING)
            waiting++;
    for (size_t i = 0; i < S.n_masters; i++)
        if (S.masters[i]->quit_sent || S.masters[i]->a->m != S.masters[i])
            quitting++;
    if (waiting <= quitting)
        return;
    need = waiting - quitting;
stop_lru:
    while (need > 0) {
        od_acct *lru = NULL;
        for (size_t i = 0; i < S.n_active; i++) {
            od_acct *a = S.active[i];
            if (a->state != OD_RUNNING || a->lock_owner || a->m == NULL ||
                a->m->quit_sent || now - a->last_used < LRU_MIN_IDLE_MS ||
                a->status_fd >= 0)
                continue;
            if (lru == NULL || a->last_used < lru->last_used)
                lru = a;
        }
        if (lru == NULL)
            return;
        if (lru->checked_at > lru->last_used &&
            now - lru->checked_at < LRU_MIN_IDLE_MS)
            stop_master(lru, "least recently used; max_running reached");
        else
            start_check(lru);
        need--;
    }
}

/* ------------------------------------------------------------------ */
/* arming an account from its files                                    */

static void forget(od_acct *a, od_state st)
{
    abort_check(a);
    drop_socket(a, 'a');
    drop_socket(a, 'b');
    retire_master(a);
    set_state(a, st);
}

/* A master of the live slot that serve did not start (a change started
 * it, or an earlier serve): track it, and take a copy of its listening
 * socket (pidfd_getfd) so that the socket outlives it. */
static void adopt_running(od_acct *a, pid_t pid)
{
    char path[PATH_MAX];
    int i = a->slot - 'a';

    if (a->m && a->m->pid == pid)
        return;
    retire_master(a);
    for (size_t k = 0; k < S.n_masters; k++)
        if (S.masters[k]->pid == pid)
            a->m = S.masters[k];
    if (a->m == NULL)
        a->m = add_master(a, pid, 0, a->slot);
    set_state(a, OD_RUNNING);
    a->last_used = wlf_now_ms();
    a->accepted = -1;
    a->next_check = a->last_used + check_period_ms(a);
    slot_path(a, a->slot, path, sizeof(path));
    if (a->fd[i] >= 0 && fpm_same_file(path, &a->file[i]))
        return;
    if (a->fd[i] >= 0) {
        unwatch(a);
        close(a->fd[i]);
        a->fd[i] = -1;
    }
    if (!S.hold)
        return;     /* systemd holds the socket */
#ifdef SYS_pidfd_getfd
    if (a->m && a->m->pidfd >= 0) {
        unsigned long inodes[8];
        size_t n = proc_unix_listeners(path, inodes, 8);
        int target = n ? proc_fd_of_socket(pid, inodes, n) : -1;
        if (target >= 0) {
            int fd = (int)syscall(SYS_pidfd_getfd, a->m->pidfd, target, 0);
            if (fd >= 0) {
                fcntl(fd, F_SETFD, FD_CLOEXEC);
                a->fd[i] = fd;
                lstat(path, &a->file[i]);
                VLOG("%s: holding the socket of running php-fpm %ld",
                     a->name, (long)pid);
                return;
            }
        }
    }
#endif
    slog("%s: php-fpm %ld runs on a socket serve does not hold; once it "
         "stops, serve binds a new one", a->name, (long)pid);
}

/* systemd mode: the slot's socket unit holds the socket and starts the
 * master; serve tracks the master to stop it when idle. */
static void sync_unheld(od_acct *a, char live)
{
    fpm_slot s;
    struct stat st;
    pid_t pid;

    if (a->m && a->m->slot != live)
        retire_master(a);
    a->slot = live;
    fpm_slot_init(S.cfg, a->name, live, &s);
    if ((pid = fpm_slot_pid(&s)) != 0) {
        adopt_running(a, pid);
        return;
    }
    if (a->m == NULL)
        set_state(a, lstat(s.sock, &st) == 0 && S_ISSOCK(st.st_mode)
                         ? OD_IDLE : OD_STOPPED);
}

/* Read the account from disk and hold, arm or drop what it needs. */
static void sync_account(od_acct *a)
{
    wlf_account acct;
    wlf_err err;
    fpm_slot s;
    char path[PATH_MAX], link[PATH_MAX];
    char live;
    pid_t pid;
    int i, rc;

    rc = fpm_account_load(S.ctx, a->name, &acct, &err);
    if (rc != FPM_EXIT_OK) {
        if (rc != FPM_EXIT_NO_ACCOUNT)
            slog("%s: %s", a->name, err.msg);
        forget(a, OD_NONE);
        return;
    }
    if (!fpm_is_on_demand(S.cfg, &acct)) {
        wlf_account_free(&acct);
        forget(a, OD_NONE);
        return;
    }
    a->idle_stop_ms = fpm_idle_stop_ms(S.cfg, &acct);
    a->stop_wait_ms = fpm_stop_wait_ms(S.cfg, &acct);
    {
        wlf_settings eff;
        if (wlf_account_effective(S.cfg, &acct, &eff) == 0) {
            fpm_limits_of(&eff, &a->limits);
            wlf_settings_free(&eff);
        }
    }
    if (fpm_is_stopped(S.cfg, a->name)) {
        wlf_account_free(&acct);
        forget(a, OD_STOPPED);
        return;
    }
    /* a suspended account's sites get the suspended page from httpd;
     * nothing may start its PHP, so nothing listens for it either */
    if (wlf_account_is_suspended(&acct)) {
        wlf_account_free(&acct);
        forget(a, OD_SUSPENDED);
        return;
    }
    live = fpm_live_slot(S.cfg, a->name);
    if (live == 0)
        live = 'a';
    if (!S.hold) {
        sync_unheld(a, live);
        wlf_account_free(&acct);
        return;
    }
    if (a->m && a->m->slot != live)
        retire_master(a);
    if (a->slot != live)
        unwatch(a);
    a->slot = live;
    i = live - 'a';
    fpm_slot_init(S.cfg, a->name, live, &s);
    slot_path(a, live, path, sizeof(path));
    pid = fpm_slot_pid(&s);
    if (pid) {
        adopt_running(a, pid);
    }
    else if (a->m == NULL || a->m->slot != live) {
        if (a->fd[i] < 0 || !fpm_same_file(path, &a->file[i])) {
            if (a->fd[i] >= 0) {
                unwatch(a);
                close(a->fd[i]);
                a->fd[i] = -1;
            }
            a->fd[i] = fpm_listen_socket(S.cfg, path, &a->file[i], &err);
            if (a->fd[i] < 0) {
                slog("%s: cannot hold its socket: %s", a->name, err.msg);
                wlf_account_free(&acct);
                forget(a, OD_NONE);
                return;
            }
        }
        if (access(s.conf, F_OK) != 0) {
            fpm_rendered r;
            if (fpm_render_all(S.cfg, &acct, live, &r, &err) < 0 ||
                fpm_ensure_account_dirs(S.cfg, &acct, &err) < 0 ||
                fpm_slot_write(&s, &r, &err) < 0)
                slog("%s: cannot render its php-fpm.conf: %s", a->name,
                     err.msg);
            fpm_rendered_free(&r);
        }
        if (a->state != OD_FAILED && a->state != OD_WAITING)
            set_state(a, OD_IDLE);
    }
    /* otherwise our own master is starting and has no pid file yet */
    wlf_path_socket(S.cfg, a->name, link, sizeof(link));
    if (wlf_slot_of_link(link) != live &&
        fpm_switch_live(S.cfg, a->name, live, &err) < 0)
        slog("%s: %s", a->name, err.msg);
    /* the other slot's socket goes once no master uses it */
    if (!slot_has_master(a, fpm_other_slot(live)))
        drop_socket(a, fpm_other_slot(live));
    wlf_account_free(&acct);
    update_watch(a);
}

/* wlfcgi.conf changed since we read it: read it again. */
static void reload_config_if_changed(void)
{
    struct stat st;
    wlf_config fresh;
    wlf_err err;

    if (stat(S.ctx->config_path, &st) < 0 ||
        (st.st_mtim.tv_sec == S.cfg_st.st_mtim.tv_sec &&
         st.st_mtim.tv_nsec == S.cfg_st.st_mtim.tv_nsec &&
         st.st_ino == S.cfg_st.st_ino))
        return;
    if (wlf_config_load(S.ctx->config_path, &fresh, &err) < 0) {
        slog("%s: not re-read: %s", S.ctx->config_path, err.msg);
        return;
    }
    wlf_config_free(S.cfg);
    *S.cfg = fresh;
    S.cfg_st = st;
    slog("re-read %s (max_running %lld)", S.cfg->file, S.cfg->max_running);
}

static void sync_all(void)
{
    char **names;
    size_t n;
    wlf_err err;

    if (wlf_account_files(S.cfg, &names, &n, &err) < 0) {
        slog("%s", err.msg);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        od_acct *a = find_or_add(names[i]);
        if (a && a->lock_owner == 0)
            sync_account(a);
    }
    /* accounts whose files are gone (both lists are sorted) */
    for (size_t i = 0, k = 0; i < S.n_accts; i++) {
        od_acct *a = S.accts[i];
        int cmp = 1;
        while (k < n && (cmp = strcmp(names[k], a->name)) < 0)
            k++;
        if (cmp != 0 && a->state != OD_NONE && a->lock_owner == 0)
            forget(a, OD_NONE);
    }
    wlf_strlist_free(names, n);
}

/* ------------------------------------------------------------------ */
/* control connections                                                 */

static client *client_by_id(int id)
{
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (S.clients[i] && S.clients[i]->id == id)
            return S.clients[i];
    return NULL;
}

static void client_flush(client *c)
{
    struct epoll_event ev;

    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        if (n <= 0) {
            c->closing = 1;
            return;
        }
        c->out_off += (size_t)n;
    }
    if (c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN | (c->out_len ? EPOLLOUT : 0);
    ev.data.ptr = &c->tag;
    epoll_ctl(S.ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void client_say(client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void client_say(client *c, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    int n;
    char *nb;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    if ((nb = realloc(c->out, c->out_len + (size_t)n)) == NULL) {
        c->closing = 1;
        return;
    }
    c->out = nb;
    memcpy(c->out + c->out_len, line, (size_t)n);
    c->out_len += (size_t)n;
}

static long long idle_ms(const od_acct *a)
{
    if (a->m == NULL || a->last_used == 0)
        return -1;
    return wlf_now_ms() - a->last_used;
}

/* "STATE SLOT PID IDLE_MS", after `prefix` ("ok" or the name) */
static void say_state(client *c, const char *prefix, const od_acct *a)
{
    client_say(c, "%s %s %c %ld %lld", prefix, state_names[a->state],
               a->slot ? a->slot : '-', (long)(a->m ? a->m->pid : 0),
               idle_ms(a));
}

static void grant_lock(od_acct *a)
{
    client *c;

    if (a->lock_waiter == 0 || a->state == OD_STARTING ||
        a->state == OD_STOPPING)
        return;
    c = client_by_id(a->lock_waiter);
    a->lock_waiter = 0;
    if (c == NULL)
        return;
    a->lock_owner = c->id;
    abort_check(a);
    update_watch(a);
    say_state(c, "ok", a);
    client_flush(c);
}

static void ctl_lock(client *c, const char *name)
{
    od_acct *a = find_or_add(name);

    if (a == NULL) {
        client_say(c, "error out of memory");
        return;
    }
    if (a->lock_owner == c->id) {
        say_state(c, "ok", a);
        return;
    }
    if (a->lock_owner || (a->lock_waiter && a->lock_waiter != c->id)) {
        client_say(c, "error %s is held by another fpmctl", name);
        return;
    }
    /* a master that is starting or stopping finishes that first */
    a->lock_waiter = c->id;
    grant_lock(a);
}

static void release_locks(client *c)
{
    for (size_t i = 0; i < S.n_accts; i++) {
        od_acct *a = S.accts[i];
        if (a->lock_waiter == c->id)
            a->lock_waiter = 0;
        if (a->lock_owner == c->id) {
            a->lock_owner = 0;
            sync_account(a);
        }
    }
}

static void ctl_adopt(client *c, const char *name, const char *slot_s,
                      const char *pid_s)
{
    od_acct *a = find_acct(name);
    char slot = slot_s[0], path[PATH_MAX];
    pid_t pid = (pid_t)atol(pid_s);
    int fd = c->pending_fd;

    c->pending_fd = -1;
    if (a == NULL || a->lock_owner != c->id || (slot != 'a' && slot != 'b')
        || slot_s[1] || pid <= 1 || fd < 0) {
        if (fd >= 0)
            close(fd);
        client_say(c, "error adopt: hold the account first and pass its "
                   "socket");
        return;
    }
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    unwatch(a);
    if (a->fd[slot - 'a'] >= 0)
        close(a->fd[slot - 'a']);
    slot_path(a, slot, path, sizeof(path));
    a->fd[slot - 'a'] = fd;
    lstat(path, &a->file[slot - 'a']);
    if (a->m && a->m->pid != pid)
        retire_master(a);
    a->slot = slot;
    adopt_running(a, pid);
    client_say(c, "ok");
}

static void ctl_list(client *c)
{
    size_t n = 0;

    for (size_t i = 0; i < S.n_accts; i++)
        n += S.accts[i]->state != OD_NONE;
    client_say(c, "ok %zu", n);
    for (size_t i = 0; i < S.n_accts; i++)
        if (S.accts[i]->state != OD_NONE)
            say_state(c, S.accts[i]->name, S.accts[i]);
}

static void handle_line(client *c, char *line)
{
    char *argv[5];
    int argc = 0;
    char *save = NULL, *tok;
    wlf_err err;
    od_acct *a;

    for (tok = strtok_r(line, " ", &save); tok && argc < 5;
         tok = strtok_r(NULL, " ", &save))
        argv[argc++] = tok;
    if (argc == 1 && strcmp(argv[0], "list") == 0) {
        ctl_list(c);
        return;
    }
    if (argc == 4 && strcmp(argv[0], "adopt") == 0) {
        ctl_adopt(c, argv[1], argv[2], argv[3]);
        return;
    }
    if (argc != 2 || (strcmp(argv[0], "lock") != 0 &&
                      strcmp(argv[0], "unlock") != 0 &&
                      strcmp(argv[0], "release") != 0 &&
                      strcmp(argv[0], "state") != 0)) {
        client_say(c, "error unknown command '%.40s'", argc ? argv[0] : "");
        return;
    }
    if (wlf_valid_account_name(argv[1], &err) < 0) {
        client_say(c, "error %s", err.msg);
        return;
    }
    if (strcmp(argv[0], "lock") == 0) {
        ctl_lock(c, argv[1]);
        return;
    }
    a = find_acct(argv[1]);
    if (strcmp(argv[0], "state") == 0) {
        if (a)
            say_state(c, "ok", a);
        else
            client_say(c, "ok none - 0 -1");
        return;
    }
    if (a == NULL || a->lock_owner != c->id) {
        client_say(c, "error %s is not held by this connection", argv[1]);
        return;
    }
    if (strcmp(argv[0], "release") == 0) {
        forget(a, OD_NONE);
        client_say(c, "ok");
        return;
    }
    a->lock_owner = 0;
    reload_config_if_changed();
    sync_account(a);
    say_state(c, "ok", a);
    make_room();
}

static void close_client(client *c)
{
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (S.clients[i] == c)
            S.clients[i] = NULL;
    epoll_ctl(S.ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    if (c->pending_fd >= 0)
        close(c->pending_fd);
    release_locks(c);
    free(c->out);
    free(c);
    make_room();
}

/* Returns 0 if the client was closed (and freed). */
static int on_client(client *c, unsigned events)
{
    if (events & EPOLLOUT)
        client_flush(c);
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        struct msghdr mh;
        struct iovec iov;
        char cbuf[CMSG_SPACE(sizeof(int) * 4)];
        ssize_t n;
        char *nl;

        memset(&mh, 0, sizeof(mh));
        iov.iov_base = c->in + c->in_len;
        iov.iov_len = sizeof(c->in) - 1 - c->in_len;
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = cbuf;
        mh.msg_controllen = sizeof(cbuf);
        n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return 1;
        if (n <= 0 || iov.iov_len == 0) {
            close_client(c);
            return 0;
        }
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm;
             cm = CMSG_NXTHDR(&mh, cm)) {
            size_t nfd;
            if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                continue;
            nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t k = 0; k < nfd; k++) {
                int fd;
                memcpy(&fd, CMSG_DATA(cm) + k * sizeof(int), sizeof(int));
                if (c->pending_fd >= 0)
                    close(c->pending_fd);
                c->pending_fd = fd;
            }
        }
        c->in_len += (size_t)n;
        c->in[c->in_len] = '\0';
        while ((nl = strchr(c->in, '\n')) != NULL) {
            size_t used = (size_t)(nl + 1 - c->in);
            *nl = '\0';
            handle_line(c, c->in);
            memmove(c->in, nl + 1, c->in_len - used + 1);
            c->in_len -= used;
        }
    }
    client_flush(c);
    if (c->closing) {
        close_client(c);
        return 0;
    }
    return 1;
}

static void on_ctl(void)
{
    struct epoll_event ev;
    client *c;
    int fd, slot = -1;

    fd = accept4(S.ctl_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return;
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (S.clients[i] == NULL) {
            slot = i;
            break;
        }
    if (slot < 0 || (c = calloc(1, sizeof(*c))) == NULL) {
        close(fd);
        return;
    }
    c->tag.kind = EV_CLIENT;
    c->tag.obj = c;
    c->fd = fd;
    c->id = ++S.next_client_id;
    c->pending_fd = -1;
    S.clients[slot] = c;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    ev.data.ptr = &c->tag;
    epoll_ctl(S.ep, EPOLL_CTL_ADD, fd, &ev);
}

/* ------------------------------------------------------------------ */
/* the loop                                                            */

static void on_connection_waiting(od_acct *a)
{
    long long now = wlf_now_ms();

    if (a->lock_owner) {
        update_watch(a);
        return;
    }
    if (a->state == OD_FAILED) {
        if (now < a->retry_at) {
            answer_503(a, "PHP for this site could not be started");
            return;
        }
        set_state(a, OD_IDLE);
    }
    if (a->state != OD_IDLE) {
        update_watch(a);
        return;
    }
    if (at_cap()) {
        set_state(a, OD_WAITING);
        update_watch(a);
        VLOG("%s: a request waits: %zu masters run (max_running %lld)",
             a->name, S.n_masters, S.cfg->max_running);
        make_room();
        return;
    }
    start_master(a);
}

/* Everything time-driven. Returns how long epoll may sleep (ms). */
static long long tick(void)
{
    long long now = wlf_now_ms(), next = 1000;
    size_t k = 0;

    for (size_t i = 0; i < S.n_masters; i++) {
        master *m = S.masters[i];
        long long wait = m->a->stop_wait_ms > 0 ? m->a->stop_wait_ms : 30000;
        if (m->pidfd < 0 && !proc_alive(m->pid)) {
            on_master_exit(m);
            return 0;       /* the list changed: come back at once */
        }
        if (m->quit_sent == 0)
            continue;
        if (m->escalation == 0 && now - m->quit_sent > wait) {
            slog("%s: php-fpm %ld did not finish within %lld s; SIGTERM",
                 m->a->name, (long)m->pid, wait / 1000);
            signal_master(m, SIGTERM);
            m->escalation = 1;
        }
        else if (m->escalation == 1 && now - m->quit_sent > wait + 3000) {
            pid_t kids[512];
            size_t n = proc_children(m->pid, kids, 512);
            signal_master(m, SIGKILL);
            for (size_t j = 0; j < n; j++)
                kill(kids[j], SIGKILL);
            m->escalation = 2;
        }
        if (next > 100)
            next = 100;
    }
    for (size_t i = 0; i < S.n_active; i++) {
        od_acct *a = S.active[i];
        if (a->state == OD_STARTING && a->m) {
            fpm_slot s;
            fpm_slot_init(S.cfg, a->name, a->slot, &s);
            if (fpm_slot_pidfile(&s) == a->m->pid) {
                char line[400];
                set_state(a, OD_RUNNING);
                if (fpm_log_complaint(s.log, a->log_from, line, sizeof(line)))
                    slog("%s: php-fpm says: %s", a->name, line);
                VLOG("%s: php-fpm %ld running after %lld ms", a->name,
                     (long)a->m->pid, now - a->last_used);
                grant_lock(a);
            }
            else if (now - a->t_state > S.cfg->start_timeout * 1000) {
                slog("%s: php-fpm %ld not ready within %lld s; killing it",
                     a->name, (long)a->m->pid, S.cfg->start_timeout);
                signal_master(a->m, SIGKILL);
            }
            else if (next > 5)
                next = 5;
        }
        if (a->state == OD_RUNNING && a->lock_owner == 0) {
            if (a->status_fd >= 0 &&
                now - a->status_since > STATUS_WAIT_MS)
                finish_check(a, NULL);      /* no answer: busy */
            else if (a->status_fd < 0 && now >= a->next_check)
                start_check(a);
            if (a->status_fd < 0 && a->next_check - now < next)
                next = a->next_check - now;
        }
        if (a->state == OD_WAITING &&
            now - a->t_state > S.cfg->start_timeout * 1000) {
            answer_503(a, "the server runs as many PHP instances as it may "
                       "and all are busy");
            set_state(a, OD_IDLE);
            update_watch(a);
        }
        if (a->state == OD_FAILED && now >= a->retry_at) {
            set_state(a, OD_IDLE);
            update_watch(a);
        }
        if (a->state == OD_WAITING && next > 100)
            next = 100;
        if (a->status_fd >= 0 && next > 100)
            next = 100;
        /* keep it listed while the tick has anything to watch */
        if (a->m || a->status_fd >= 0 || a->state == OD_WAITING ||
            a->state == OD_FAILED || a->state == OD_STARTING ||
            a->state == OD_STOPPING || a->state == OD_RUNNING ||
            slot_has_master(a, 'a') || slot_has_master(a, 'b'))
            S.active[k++] = a;
        else
            a->in_active = 0;
    }
    S.n_active = k;
    make_room();
    return next < 1 ? 1 : next;
}

static int setup_ctl(wlf_err *err)
{
    struct sockaddr_un sa;
    mode_t old;
    int rc;

    fpm_serve_ctl_path(S.cfg, S.ctl_path, sizeof(S.ctl_path));
    if (wlf_socket_accepts(S.ctl_path))
        return wlf_fail(err, "serve", "another fpmctl serve answers on %s",
                        S.ctl_path);
    unlink(S.ctl_path);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (strlen(S.ctl_path) >= sizeof(sa.sun_path))
        return wlf_fail(err, "serve", "path too long: %s", S.ctl_path);
    memcpy(sa.sun_path, S.ctl_path, strlen(S.ctl_path));
    S.ctl_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (S.ctl_fd < 0)
        return wlf_fail(err, "serve", "socket: %s", strerror(errno));
    /* root only: whoever talks to serve can start and stop instances */
    old = umask(0177);
    rc = bind(S.ctl_fd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (rc < 0 || listen(S.ctl_fd, 64) < 0)
        return wlf_fail(err, "serve", "%s: %s", S.ctl_path, strerror(errno));
    return 0;
}

static void raise_fd_limit(void)
{
    struct rlimit rl;

    /* one socket per account, and then some */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void begin_shutdown(void)
{
    S.terminating = 1;
    slog("stopping: %zu php-fpm master(s) to stop", S.n_masters);
    if (S.ctl_fd >= 0) {
        epoll_ctl(S.ep, EPOLL_CTL_DEL, S.ctl_fd, NULL);
        close(S.ctl_fd);
        S.ctl_fd = -1;
        unlink(S.ctl_path);
    }
    for (size_t i = 0; i < S.n_accts; i++) {
        od_acct *a = S.accts[i];
        update_watch(a);
        abort_check(a);
        /* a connection that waits gets an answer, not a reset */
        if (a->state == OD_WAITING)
            answer_503(a, "PHP is being stopped on this server");
    }
    /* systemd mode: the masters are systemd's; serve only leaves */
    if (S.hold)
        for (size_t i = 0; i < S.n_masters; i++)
            quit_master(S.masters[i]);
}

static void finish_shutdown(void)
{
    for (size_t i = 0; i < S.n_accts; i++) {
        drop_socket(S.accts[i], 'a');
        drop_socket(S.accts[i], 'b');
    }
    slog("stopped (%lld start(s), %lld stop(s) for idleness or the cap)",
         S.starts, S.stops);
}

static void on_signals(void)
{
    struct signalfd_siginfo si;

    while (read(S.sigfd, &si, sizeof(si)) == sizeof(si)) {
        if (S.terminating)
            continue;
        if (si.ssi_signo == SIGHUP) {
            slog("SIGHUP: reading the configuration and every account");
            reload_config_if_changed();
            sync_all();
        }
        else
            begin_shutdown();
    }
}

/* systemd mode: a pid file NAME.SLOT.pid appeared: a master started. */
static void on_pid_files(void)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t n;

    while ((n = read(S.inotify_fd, buf, sizeof(buf))) > 0) {
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *e = (struct inotify_event *)p;
            size_t len = e->len ? strlen(e->name) : 0;
            p += sizeof(*e) + e->len;
            if (len > 6 && strcmp(e->name + len - 6, ".a.pid") != 0 &&
                strcmp(e->name + len - 6, ".b.pid") != 0)
                continue;
            if (len > 6 && len - 6 <= WLF_NAME_MAX) {
                char name[WLF_NAME_MAX + 1];
                od_acct *a;
                memcpy(name, e->name, len - 6);
                name[len - 6] = '\0';
                a = find_acct(name);
                if (a && a->lock_owner == 0 && a->state != OD_NONE)
                    sync_account(a);
            }
        }
    }
}

static void cleanup(void)
{
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (S.clients[i]) {
            close(S.clients[i]->fd);
            free(S.clients[i]->out);
            free(S.clients[i]);
        }
    if (S.ctl_fd >= 0) {
        close(S.ctl_fd);
        unlink(S.ctl_path);
    }
    for (size_t i = 0; i < S.n_accts; i++) {
        abort_check(S.accts[i]);
        free(S.accts[i]);
    }
    for (size_t i = 0; i < S.n_masters; i++)
        free(S.masters[i]);
    free(S.accts);
    free(S.active);
    free(S.masters);
    free(S.status_req);
    if (S.sigfd >= 0)
        close(S.sigfd);
    if (S.ep >= 0)
        close(S.ep);
    if (S.inotify_fd >= 0)
        close(S.inotify_fd);
    if (S.lock_fd >= 0)
        close(S.lock_fd);
}

static void config_dir(const char *config_path, char *dir, size_t len)
{
    const char *slash = strrchr(config_path, '/');

    if (slash == config_path)
        snprintf(dir, len, "/");
    else if (slash)
        snprintf(dir, len, "%.*s", (int)(slash - config_path), config_path);
    else
        snprintf(dir, len, ".");
}

int cmd_serve(fpm_ctx *ctx, int argc, char **argv)
{
    const char *params[] = {
        "GATEWAY_INTERFACE", "FastCGI/1.0", "REQUEST_METHOD", "GET",
        "SCRIPT_NAME", WLF_FPM_STATUS_PATH,
        "SCRIPT_FILENAME", WLF_FPM_STATUS_PATH,
        "REQUEST_URI", WLF_FPM_STATUS_PATH "?full",
        "QUERY_STRING", "full",
        "SERVER_SOFTWARE", "fpmctl-serve", "REMOTE_ADDR", "127.0.0.1",
        NULL, NULL
    };
    struct epoll_event ev, evs[MAX_EVENTS];
    sigset_t sigs;
    wlf_err err;
    char lockpath[PATH_MAX + 16], dir[PATH_MAX];
    int rc = FPM_EXIT_OK, timed_out;

    if (argc > 1)
        return fpm_usage_error(cmd_serve_usage, "unexpected argument "
                               "'%.40s'", argv[1]);
    if (ctx->dry_run)
        return fpm_usage_error(cmd_serve_usage, "--dry-run does not apply");
    if (geteuid() != 0) {
        fpm_error("serve: must run as root (it starts php-fpm masters)");
        return FPM_EXIT_FAILED;
    }
    memset(&S, 0, sizeof(S));
    S.ctx = ctx;
    S.cfg = &ctx->cfg;
    S.ctl_fd = S.sigfd = S.lock_fd = S.ep = S.inotify_fd = -1;
    S.hold = ctx->cfg.service == WLF_SERVICE_DIRECT;
    stat(ctx->config_path, &S.cfg_st);
    raise_fd_limit();
    if (wlf_fcgi_build_request(params, 0, &S.status_req,
                               &S.status_req_len) < 0)
        return FPM_EXIT_FAILED;

    /* one serve per configuration */
    config_dir(ctx->config_path, dir, sizeof(dir));
    fs_path(lockpath, sizeof(lockpath), "%s/.serve.lock", dir);
    S.lock_fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (S.lock_fd < 0 || flock(S.lock_fd, LOCK_EX | LOCK_NB) < 0) {
        fpm_error("serve: another fpmctl serve runs for %s", ctx->cfg.file);
        cleanup();
        return FPM_EXIT_FAILED;
    }
    if (fpm_ensure_base_dirs(S.cfg, 0, &err) < 0 || setup_ctl(&err) < 0) {
        rc = fpm_report(&err, FPM_EXIT_FAILED);
        cleanup();
        return rc;
    }
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    sigprocmask(SIG_BLOCK, &sigs, NULL);
    S.sigfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
    S.ep = epoll_create1(EPOLL_CLOEXEC);
    if (S.sigfd < 0 || S.ep < 0) {
        fpm_error("serve: %s", strerror(errno));
        cleanup();
        return FPM_EXIT_FAILED;
    }
    S.t_ctl.kind = EV_CTL;
    S.t_sig.kind = EV_SIGNAL;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    ev.data.ptr = &S.t_ctl;
    epoll_ctl(S.ep, EPOLL_CTL_ADD, S.ctl_fd, &ev);
    ev.data.ptr = &S.t_sig;
    epoll_ctl(S.ep, EPOLL_CTL_ADD, S.sigfd, &ev);
    if (!S.hold) {
        /* systemd starts masters: their pid files tell serve at once */
        S.t_inotify.kind = EV_INOTIFY;
        S.inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (S.inotify_fd >= 0 &&
            inotify_add_watch(S.inotify_fd, S.cfg->socket_dir,
                              IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE) >= 0) {
            ev.data.ptr = &S.t_inotify;
            epoll_ctl(S.ep, EPOLL_CTL_ADD, S.inotify_fd, &ev);
        }
    }

    /* arm every account under the writer lock: no change is half done */
    fs_path(lockpath, sizeof(lockpath), "%s/.lock", dir);
    ctx->lock_fd = fs_lock(lockpath, S.cfg->lock_timeout, &timed_out, &err);
    if (ctx->lock_fd < 0) {
        rc = fpm_report(&err, timed_out ? FPM_EXIT_LOCKED : FPM_EXIT_FAILED);
        cleanup();
        return rc;
    }
    sync_all();
    close(ctx->lock_fd);
    ctx->lock_fd = -1;
    {
        size_t idle = 0, running = 0, stopped = 0, suspended = 0;
        for (size_t i = 0; i < S.n_accts; i++) {
            idle += S.accts[i]->state == OD_IDLE;
            running += S.accts[i]->state == OD_RUNNING;
            stopped += S.accts[i]->state == OD_STOPPED;
            suspended += S.accts[i]->state == OD_SUSPENDED;
        }
        slog("ready (pid %ld): %zu on-demand account(s) idle, %zu running, "
             "%zu stopped, %zu suspended; max_running %lld", (long)getpid(),
             idle, running, stopped, suspended, S.cfg->max_running);
    }

    for (;;) {
        long long timeout = tick();
        int n;

        if (S.terminating && (S.n_masters == 0 || !S.hold))
            break;
        n = epoll_wait(S.ep, evs, MAX_EVENTS, (int)timeout);
        if (n < 0 && errno != EINTR) {
            fpm_error("serve: epoll_wait: %s", strerror(errno));
            rc = FPM_EXIT_FAILED;
            break;
        }
        /* an event may free what a later one of this batch names: those
         * stop the batch, and epoll reports the rest again */
        for (int i = 0; i < n; i++) {
            ev_tag *t = evs[i].data.ptr;
            int stop_batch = 0;
            switch (t->kind) {
            case EV_LISTEN:
                on_connection_waiting(t->obj);
                break;
            case EV_MASTER:
                on_master_exit(t->obj);
                stop_batch = 1;
                break;
            case EV_STATUS:
                on_status_readable(t->obj);
                break;
            case EV_CTL:
                on_ctl();
                break;
            case EV_CLIENT:
                stop_batch = !on_client(t->obj, evs[i].events);
                break;
            case EV_SIGNAL:
                on_signals();
                stop_batch = 1;
                break;
            case EV_INOTIFY:
                on_pid_files();
                break;
            }
            if (stop_batch)
                break;
        }
    }
    finish_shutdown();
    cleanup();
    return rc;
}
