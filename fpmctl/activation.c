/*
 * activation.c - listening sockets of on-demand accounts, the stopped
 * marker, and the client side of the control connection to fpmctl serve.
 */
#include "activation.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fsutil.h"
#include "instance.h"
#include "proc.h"
#include "wlf_fcgi.h"
#include "wlf_sys.h"

int fpm_is_on_demand(const wlf_config *cfg, const wlf_account *acct)
{
    if (acct && acct->settings.is_set[WLF_S_ACTIVATION])
        return acct->settings.num[WLF_S_ACTIVATION] ==
               WLF_ACTIVATION_ON_DEMAND;
    return cfg->defaults.num[WLF_S_ACTIVATION] == WLF_ACTIVATION_ON_DEMAND;
}

long long fpm_idle_stop_ms(const wlf_config *cfg, const wlf_account *acct)
{
    if (acct && acct->settings.is_set[WLF_S_IDLE_STOP])
        return acct->settings.num[WLF_S_IDLE_STOP] * 1000;
    return cfg->defaults.num[WLF_S_IDLE_STOP] * 1000;
}

const char *fpm_inherit_key(const wlf_config *cfg, const char *name,
                            char slot, char *buf, size_t len)
{
    fs_path(buf, len, "%s/%s.%c.fd", cfg->socket_dir, name, slot);
    return buf;
}

const char *fpm_inherit_env(const wlf_config *cfg, const char *name,
                            char slot, int fd, char *buf, size_t len)
{
    char key[PATH_MAX];

    fs_path(buf, len, "FPM_SOCKETS=%s=%d",
            fpm_inherit_key(cfg, name, slot, key, sizeof(key)), fd);
    return buf;
}

static int fill_addr(struct sockaddr_un *sa, const char *path, wlf_err *err)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa->sun_path))
        return wlf_fail(err, "socket", "path too long: %s", path);
    memcpy(sa->sun_path, path, strlen(path));
    return 0;
}

/* httpd_group's gid, looked up once per name (serve binds thousands) */
static int httpd_gid(const wlf_config *cfg, gid_t *gid)
{
    static char name[64];
    static gid_t cached;
    struct group *gr;

    if (name[0] && strcmp(name, cfg->httpd_group) == 0) {
        *gid = cached;
        return 0;
    }
    if ((gr = getgrnam(cfg->httpd_group)) == NULL)
        return -1;
    cached = gr->gr_gid;
    wlf_copy(name, sizeof(name), cfg->httpd_group);
    *gid = cached;
    return 0;
}

int fpm_listen_socket(const wlf_config *cfg, const char *path,
                      struct stat *file, wlf_err *err)
{
    struct sockaddr_un sa;
    mode_t old_mask;
    struct stat st;
    gid_t gid;
    int fd;

    if (httpd_gid(cfg, &gid) < 0)
        return wlf_fail(err, "httpd_group", "no such group '%s'",
                        cfg->httpd_group);
    if (fill_addr(&sa, path, err) < 0)
        return -1;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return wlf_fail(err, "socket", "%s exists and is no socket",
                            path);
        if (wlf_socket_accepts(path))
            return wlf_fail(err, "socket", "%s already accepts connections "
                            "(another process listens on it)", path);
        /* a socket file nobody listens on: what a killed holder left */
        unlink(path);
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return wlf_fail(err, "socket", "socket: %s", strerror(errno));
    /* born 0600: nobody but root can connect before the chown below. It
     * is bound at its final path (not renamed into place), so that
     * /proc/net/unix names it correctly. */
    old_mask = umask(0177);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        umask(old_mask);
        wlf_fail(err, "socket", "bind %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    umask(old_mask);
    if (chown(path, 0, gid) < 0 || chmod(path, 0660) < 0 ||
        listen(fd, FPM_LISTEN_BACKLOG) < 0 ||
        (file && lstat(path, file) < 0)) {
        wlf_fail(err, "socket", "%s: %s", path, strerror(errno));
        unlink(path);
        close(fd);
        return -1;
    }
    return fd;
}

int fpm_same_file(const char *path, const struct stat *file)
{
    struct stat st;

    return lstat(path, &st) == 0 && st.st_ino == file->st_ino &&
           st.st_dev == file->st_dev;
}

const char *fpm_stopped_path(const wlf_config *cfg, const char *name,
                             char *buf, size_t len)
{
    return wlf_path_stopped(cfg, name, buf, len);
}

int fpm_is_stopped(const wlf_config *cfg, const char *name)
{
    char p[PATH_MAX];

    return access(fpm_stopped_path(cfg, name, p, sizeof(p)), F_OK) == 0;
}

int fpm_set_stopped(const wlf_config *cfg, const char *name, int stopped,
                    wlf_err *err)
{
    char p[PATH_MAX];
    static const char text[] = "stopped by fpmctl stop; fpmctl start "
                               "re-arms it\n";

    fpm_stopped_path(cfg, name, p, sizeof(p));
    if (!stopped)
        return fs_remove(p, err);
    if (access(p, F_OK) == 0)
        return 0;
    /* httpd's status page reads it: the directory is root:httpd 0750 */
    return fs_write_atomic(p, text, sizeof(text) - 1, 0644, err);
}

/* ---- control connection ---- */

const char *fpm_serve_ctl_path(const wlf_config *cfg, char *buf, size_t len)
{
    fs_path(buf, len, "%s/.serve.ctl", cfg->socket_dir);
    return buf;
}

int fpm_serve_conn(fpm_ctx *ctx)
{
    struct sockaddr_un sa;
    char path[PATH_MAX];
    int fd;

    if (ctx->serve_tried)
        return ctx->serve_fd;
    ctx->serve_tried = 1;
    ctx->serve_fd = -1;
    if (!ctx->have_cfg)
        return -1;
    fpm_serve_ctl_path(&ctx->cfg, path, sizeof(path));
    if (fill_addr(&sa, path, NULL) < 0)
        return -1;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    ctx->serve_fd = fd;
    return fd;
}

static int send_all(int fd, const char *buf, size_t len, int pass_fd)
{
    size_t off = 0;

    while (off < len) {
        struct msghdr mh;
        struct iovec iov;
        char cbuf[CMSG_SPACE(sizeof(int))];
        ssize_t n;

        memset(&mh, 0, sizeof(mh));
        iov.iov_base = (void *)(buf + off);
        iov.iov_len = len - off;
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        if (pass_fd >= 0 && off == 0) {
            struct cmsghdr *c;
            memset(cbuf, 0, sizeof(cbuf));
            mh.msg_control = cbuf;
            mh.msg_controllen = sizeof(cbuf);
            c = CMSG_FIRSTHDR(&mh);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int));
            memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
        }
        n = sendmsg(fd, &mh, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        off += (size_t)n;
    }
    return 0;
}

/* One line from fd (blocking, at most `timeout_ms` per read). */
static int read_line(int fd, char *buf, size_t len, int timeout_ms)
{
    size_t off = 0;

    while (off + 1 < len) {
        struct pollfd p = { fd, POLLIN, 0 };
        ssize_t n;
        if (poll(&p, 1, timeout_ms) <= 0)
            return -1;
        n = read(fd, buf + off, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        if (buf[off] == '\n') {
            buf[off] = '\0';
            return 0;
        }
        off++;
    }
    return -1;
}

int fpm_serve_call(int fd, const char *cmd, int pass_fd, char *reply,
                   size_t len, wlf_err *err)
{
    char line[512];
    /* serve answers control commands at once, except `lock` of an account
     * whose master is starting or stopping: that takes up to the start
     * timeout */
    const int timeout_ms = 120000;

    snprintf(line, sizeof(line), "%s\n", cmd);
    if (send_all(fd, line, strlen(line), pass_fd) < 0 ||
        read_line(fd, reply, len, timeout_ms) < 0)
        return wlf_fail(err, "serve", "fpmctl serve did not answer '%s'",
                        cmd);
    if (strncmp(reply, "ok", 2) == 0 && (reply[2] == '\0' ||
                                         reply[2] == ' ')) {
        memmove(reply, reply + (reply[2] ? 3 : 2),
                strlen(reply + (reply[2] ? 3 : 2)) + 1);
        return 0;
    }
    return wlf_fail(err, "serve", "fpmctl serve: %s",
                    strncmp(reply, "error ", 6) == 0 ? reply + 6 : reply);
}

int fpm_serve_parse_state(const char *line, fpm_serve_state *st)
{
    char name[64], state[32], slot[8];
    long pid;
    long long idle;

    memset(st, 0, sizeof(*st));
    if (sscanf(line, "%63s %31s %7s %ld %lld", name, state, slot, &pid,
               &idle) != 5)
        return -1;
    wlf_copy(st->name, sizeof(st->name), name);
    wlf_copy(st->state, sizeof(st->state), state);
    st->slot = (slot[0] == 'a' || slot[0] == 'b') ? slot[0] : 0;
    st->pid = (pid_t)pid;
    st->idle_ms = idle;
    return 0;
}

static int cmp_state(const void *a, const void *b)
{
    return strcmp(((const fpm_serve_state *)a)->name,
                  ((const fpm_serve_state *)b)->name);
}

int fpm_serve_list(int fd, fpm_serve_state **out, size_t *n, wlf_err *err)
{
    char reply[256];
    long long count;
    fpm_serve_state *v;

    *out = NULL;
    *n = 0;
    if (fpm_serve_call(fd, "list", -1, reply, sizeof(reply), err) < 0)
        return -1;
    count = atoll(reply);
    if (count < 0 || count > 10000000)
        return wlf_fail(err, "serve", "fpmctl serve: bad list reply");
    if ((v = calloc((size_t)count + 1, sizeof(*v))) == NULL)
        return wlf_fail(err, "serve", "out of memory");
    {
        /* the N lines follow the reply and nothing else: read them in
         * large pieces (10,000 accounts are half a megabyte) */
        size_t cap = 65536, len = 0, start = 0;
        char *buf = malloc(cap);
        if (buf == NULL) {
            free(v);
            return wlf_fail(err, "serve", "out of memory");
        }
        while ((long long)*n < count) {
            char *nl = memchr(buf + start, '\n', len - start);
            ssize_t got;
            if (nl) {
                *nl = '\0';
                if (fpm_serve_parse_state(buf + start, &v[*n]) < 0)
                    break;
                (*n)++;
                start = (size_t)(nl + 1 - buf);
                continue;
            }
            memmove(buf, buf + start, len - start);
            len -= start;
            start = 0;
            if (len == cap) {
                char *nb = realloc(buf, cap * 2);
                if (nb == NULL)
                    break;
                buf = nb;
                cap *= 2;
            }
            {
                struct pollfd p = { fd, POLLIN, 0 };
                if (poll(&p, 1, 10000) <= 0)
                    break;
            }
            got = read(fd, buf + len, cap - len);
            if (got < 0 && errno == EINTR)
                continue;
            if (got <= 0)
                break;
            len += (size_t)got;
        }
        free(buf);
        if ((long long)*n < count) {
            free(v);
            *n = 0;
            return wlf_fail(err, "serve", "fpmctl serve: list cut short");
        }
    }
    qsort(v, *n, sizeof(*v), cmp_state);
    *out = v;
    return 0;
}

const fpm_serve_state *fpm_serve_find(const fpm_serve_state *v, size_t n,
                                      const char *name)
{
    fpm_serve_state key;

    if (v == NULL)
        return NULL;
    memset(&key, 0, sizeof(key));
    wlf_copy(key.name, sizeof(key.name), name);
    return bsearch(&key, v, n, sizeof(*v), cmp_state);
}

int fpm_serve_query(int fd, const char *name, fpm_serve_state *st,
                    wlf_err *err)
{
    char cmd[128], reply[256], line[300];

    snprintf(cmd, sizeof(cmd), "state %s", name);
    if (fpm_serve_call(fd, cmd, -1, reply, sizeof(reply), err) < 0)
        return -1;
    snprintf(line, sizeof(line), "%s %s", name, reply);
    if (fpm_serve_parse_state(line, st) < 0)
        return wlf_fail(err, "serve", "fpmctl serve: bad state reply");
    return 0;
}

int fpm_serve_lock(fpm_ctx *ctx, const char *name, wlf_err *err)
{
    char cmd[128], reply[256];
    int fd = fpm_serve_conn(ctx);

    if (fd < 0)
        return 0;
    snprintf(cmd, sizeof(cmd), "lock %s", name);
    if (fpm_serve_call(fd, cmd, -1, reply, sizeof(reply), err) < 0)
        return -1;
    return 1;
}

void fpm_serve_unlock(fpm_ctx *ctx, const char *name)
{
    char cmd[128], reply[256];
    wlf_err err;
    int fd = fpm_serve_conn(ctx);

    if (fd < 0)
        return;
    snprintf(cmd, sizeof(cmd), "unlock %s", name);
    if (fpm_serve_call(fd, cmd, -1, reply, sizeof(reply), &err) < 0)
        fpm_info(ctx, "%s: %s", name, err.msg);
}

void fpm_probe_on_demand(const wlf_config *cfg, const char *name,
                         const fpm_serve_state *st, int serve_runs,
                         fpm_probe *p)
{
    if (p->state == FPM_RUNNING || p->state == FPM_UNRESPONSIVE) {
        if (st && strcmp(st->state, "starting") == 0)
            p->state = FPM_STARTING;
        return;
    }
    if (p->state != FPM_STOPPED)
        return;
    if (fpm_is_stopped(cfg, name))
        return;
    if (st && (strcmp(st->state, "starting") == 0 ||
               strcmp(st->state, "waiting") == 0)) {
        p->state = FPM_STARTING;
        return;
    }
    if (st && (strcmp(st->state, "idle") == 0 ||
               strcmp(st->state, "stopping") == 0 ||
               strcmp(st->state, "running") == 0)) {
        p->state = FPM_IDLE;
        if (p->slot == 0)
            p->slot = st->slot;
        return;
    }
    if (cfg->service == WLF_SERVICE_SYSTEMD && p->slot) {
        /* systemd mode: the slot's socket unit holds the socket file */
        char path[PATH_MAX];
        struct stat sst;
        wlf_path_slot_socket(cfg, name, p->slot, path, sizeof(path));
        if (lstat(path, &sst) == 0 && S_ISSOCK(sst.st_mode)) {
            p->state = FPM_IDLE;
            return;
        }
    }
    if (st && strcmp(st->state, "failed") == 0) {
        p->state = FPM_DEAD;
        snprintf(p->error, sizeof(p->error), "on-demand: its last start "
                 "failed (see its fpm.%c.log); requests get 503 for a while",
                 st->slot ? st->slot : 'a');
        return;
    }
    wlf_copy(p->error, sizeof(p->error),
             cfg->service == WLF_SERVICE_SYSTEMD
             ? "on-demand: its socket unit is not listening (fpmctl start "
               "NAME)"
             : serve_runs
             ? "on-demand: fpmctl serve does not hold its socket (fpmctl "
               "start NAME)"
             : "on-demand: fpmctl serve is not running, so nothing holds "
               "its socket");
}
