/*
 * ptyrun.c - a child in a session of its own, on a pseudo-terminal of
 * its own when the caller has a terminal (see ptyrun.h).
 */
#include "ptyrun.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* signals arrive through a pipe, so that poll() sees them */
static int sig_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char c = (unsigned char)sig;

    if (write(sig_pipe[1], &c, 1) < 0) {
        /* the pipe is full: the loop has signals to read already */
    }
    errno = saved;
}

static const int relayed_signals[] = {
    SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGWINCH, SIGCHLD
};
#define N_RELAYED (sizeof(relayed_signals) / sizeof(relayed_signals[0]))

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Every descriptor above 2 (the lock, the config, the pseudo-terminal's
 * master) stays with fpmctl. */
static void close_above_stdio(void)
{
    int fds[1024];
    size_t n = 0;
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;

    if (d == NULL) {
        for (int fd = 3; fd < 65536; fd++)
            close(fd);
        return;
    }
    while ((de = readdir(d)) != NULL && n < sizeof(fds) / sizeof(fds[0])) {
        int fd = atoi(de->d_name);
        if (fd > 2 && fd != dirfd(d))
            fds[n++] = fd;
    }
    closedir(d);
    for (size_t i = 0; i < n; i++)
        close(fds[i]);
    if (n == sizeof(fds) / sizeof(fds[0]))
        close_above_stdio();
}

/* The child's side: a new session, its own terminal if it gets one */
static void start_child(int slave, const struct termios *tio,
                        const struct winsize *ws, int go,
                        void (*child)(void *), void *arg)
{
    sigset_t none;
    char c;

    for (int s = 1; s < NSIG; s++)
        signal(s, SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (setsid() < 0)
        _exit(126);
    if (slave >= 0) {
        /* a session leader without one may take a terminal as its
         * controlling terminal */
        if (ioctl(slave, TIOCSCTTY, 0) < 0)
            _exit(126);
        if (tio) {
            struct termios t = *tio;
            /* ^Z would stop it where the caller's shell cannot resume
             * it */
            t.c_cc[VSUSP] = _POSIX_VDISABLE;
            tcsetattr(slave, TCSANOW, &t);
        }
        if (ws)
            ioctl(slave, TIOCSWINSZ, ws);
        for (int fd = 0; fd <= 2; fd++)
            if (fd != slave && isatty(fd) && dup2(slave, fd) < 0)
                _exit(126);
        if (slave > 2)
            close(slave);
    }
    /* the parent put this process where it belongs */
    if (go >= 0 && read(go, &c, 1) != 1)
        _exit(126);
    close_above_stdio();
    child(arg);
    _exit(127);
}

/* Copy what is waiting on `from` to `to` (to < 0: drop it). -1: `from`
 * is at its end (EOF, or EIO once the pty's slave is closed). */
static int pump(int from, int to)
{
    char buf[4096];
    ssize_t n = read(from, buf, sizeof(buf));

    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (n <= 0)
        return -1;
    if (to >= 0 && write_all(to, buf, (size_t)n) < 0)
        return -1;
    return 0;
}

int fpm_run_detached(void (*child)(void *), void *arg,
                     int (*place)(pid_t, void *), void *place_arg)
{
    struct sigaction sa, old[N_RELAYED];
    struct termios tio, raw;
    struct winsize ws;
    int term = isatty(0) ? 0 : isatty(1) ? 1 : isatty(2) ? 2 : -1;
    int out = isatty(1) ? 1 : isatty(2) ? 2 : -1;
    int have_tio = 0, have_ws = 0, raw_set = 0, master = -1, slave = -1;
    int status = 0, done = 0, relay_in, saved;
    char slave_name[128], in_buf[4096];
    size_t in_len = 0, in_off = 0;
    int go[2] = { -1, -1 };
    pid_t pid;

    if (term >= 0) {
        master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
            return -1;
        /* opened here, so the master never sees a slave not yet open
         * as one closed again */
        if (grantpt(master) < 0 || unlockpt(master) < 0 ||
            ptsname_r(master, slave_name, sizeof(slave_name)) != 0 ||
            (slave = open(slave_name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
            saved = errno;
            close(master);
            errno = saved;
            return -1;
        }
        have_tio = tcgetattr(term, &tio) == 0;
        have_ws = ioctl(term, TIOCGWINSZ, &ws) == 0;
    }
    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0 ||
        (place && pipe2(go, O_CLOEXEC) < 0)) {
        saved = errno;
        if (sig_pipe[0] >= 0) {
            close(sig_pipe[0]);
            close(sig_pipe[1]);
            sig_pipe[0] = sig_pipe[1] = -1;
        }
        if (master >= 0) {
            close(master);
            close(slave);
        }
        errno = saved;
        return -1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < N_RELAYED; i++)
        sigaction(relayed_signals[i], &sa, &old[i]);

    pid = fork();
    if (pid == 0) {
        /* its own copy would keep the go pipe from ever ending */
        if (go[1] >= 0)
            close(go[1]);
        start_child(slave, have_tio ? &tio : NULL, have_ws ? &ws : NULL,
                    go[0], child, arg);
    }
    saved = errno;
    if (slave >= 0)
        close(slave);
    if (place) {
        close(go[0]);
        /* failed: the child reads no byte and ends */
        if (pid > 0 && place(pid, place_arg) == 0 &&
            write(go[1], "g", 1) != 1)
            kill(pid, SIGKILL);
        close(go[1]);
    }
    if (master >= 0)
        /* a child that reads nothing must not stop the relay of what it
         * writes: typed input waits in in_buf */
        fcntl(master, F_SETFL, O_NONBLOCK);
    if (pid > 0 && master >= 0 && term == 0 && have_tio) {
        /* keystrokes go to the child's terminal as they are: its line
         * discipline turns ^C into its SIGINT */
        raw = tio;
        cfmakeraw(&raw);
        raw_set = tcsetattr(0, TCSADRAIN, &raw) == 0;
    }
    relay_in = master >= 0 && term == 0;
    while (pid > 0 && !done) {
        struct pollfd p[3] = {
            { sig_pipe[0], POLLIN, 0 },
            { master, (short)(POLLIN | (in_len ? POLLOUT : 0)), 0 },
            { relay_in && in_len == 0 ? 0 : -1, POLLIN, 0 },
        };
        if (poll(p, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if ((p[1].revents & (POLLIN | POLLHUP | POLLERR)) &&
            pump(master, out) < 0) {
            /* the terminal's other end is closed: nothing more to show */
            close(master);
            master = -1;
            relay_in = 0;
            in_len = 0;
        }
        if (master >= 0 && (p[1].revents & POLLOUT) && in_len) {
            ssize_t n = write(master, in_buf + in_off, in_len - in_off);
            if (n > 0)
                in_off += (size_t)n;
            if (in_off == in_len)
                in_len = in_off = 0;
        }
        if (p[2].revents && master >= 0) {
            ssize_t n = read(0, in_buf, sizeof(in_buf));
            if (n > 0)
                in_len = (size_t)n;
            else if (n == 0 || (errno != EINTR && errno != EAGAIN))
                relay_in = 0;   /* our terminal hung up */
        }
        if (p[0].revents) {
            unsigned char sig;
            while (read(sig_pipe[0], &sig, 1) == 1) {
                if (sig == SIGWINCH) {
                    if (master >= 0 && ioctl(term, TIOCGWINSZ, &ws) == 0)
                        ioctl(master, TIOCSWINSZ, &ws);
                }
                else if (sig == SIGCHLD) {
                    if (waitpid(pid, &status, WNOHANG) == pid)
                        done = 1;
                }
                else {
                    kill(-pid, sig);
                }
            }
        }
    }
    if (pid > 0 && master >= 0) {
        /* what the child wrote last; a process it left behind does not
         * keep us: closing the master hangs its terminal up */
        struct pollfd p = { master, POLLIN, 0 };
        for (int i = 0; i < 256 && poll(&p, 1, 100) > 0 &&
                        pump(master, out) == 0; i++)
            ;
    }
    if (raw_set)
        tcsetattr(0, TCSADRAIN, &tio);
    if (master >= 0)
        close(master);
    for (size_t i = 0; i < N_RELAYED; i++)
        sigaction(relayed_signals[i], &old[i], NULL);
    close(sig_pipe[0]);
    close(sig_pipe[1]);
    sig_pipe[0] = sig_pipe[1] = -1;
    if (pid < 0) {
        errno = saved;
        return -1;
    }
    while (!done && waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return status;
}

int fpm_end_like(int status)
{
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        struct rlimit none = { 0, 0 };
        sigset_t set;

        /* the caller (a shell loop, cron) sees what it would see from
         * PHP itself; root's fpmctl leaves no core file */
        fflush(NULL);
        setrlimit(RLIMIT_CORE, &none);
        signal(sig, SIG_DFL);
        sigemptyset(&set);
        sigaddset(&set, sig);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        raise(sig);
        return 128 + sig;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
