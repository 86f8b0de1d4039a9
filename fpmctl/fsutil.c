/*
 * fsutil.c - atomic writes, safe directory handling, the writer lock.
 */
#include "fsutil.h"

#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wlf_sys.h"

int fs_path(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= len) {
        if (len)
            buf[0] = '\0';
        return -1;
    }
    return 0;
}

/* the temp file being written, for the signal handler */
static char temp_path[PATH_MAX];
static volatile sig_atomic_t temp_active;

static void on_fatal_signal(int sig)
{
    if (temp_active)
        unlink(temp_path);
    signal(sig, SIG_DFL);
    raise(sig);
}

void fs_install_signal_cleanup(void)
{
    struct sigaction sa;
    const int sigs[] = { SIGINT, SIGTERM, SIGHUP };

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &sa, NULL);
}

static void temp_register(const char *path)
{
    temp_active = 0;
    snprintf(temp_path, sizeof(temp_path), "%s", path);
    temp_active = 1;
}

static void temp_forget(void)
{
    temp_active = 0;
}

static int temp_name(const char *path, char *dir, size_t dlen, char *tmp,
                     size_t tlen)
{
    const char *base;

    if (wlf_dirname(path, dir, dlen, &base) < 0 || *base == '\0')
        return -1;
    if ((size_t)snprintf(tmp, tlen, "%s/" FPM_TEMP_PREFIX "%s.%ld", dir, base,
                         (long)getpid()) >= tlen)
        return -1;
    return 0;
}

int fs_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

int fs_write_atomic(const char *path, const char *data, size_t len,
                    mode_t mode, wlf_err *err)
{
    char dir[PATH_MAX], tmp[PATH_MAX];
    size_t off = 0;
    int fd;

    if (temp_name(path, dir, sizeof(dir), tmp, sizeof(tmp)) < 0)
        return wlf_fail(err, path, "path too long");
    unlink(tmp);    /* a leftover of an earlier process with our pid */
    temp_register(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
              mode);
    if (fd < 0) {
        temp_forget();
        return wlf_fail(err, path, "cannot create %s: %s", tmp,
                        strerror(errno));
    }
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            wlf_fail(err, path, "cannot write %s: %s", tmp, strerror(errno));
            goto fail;
        }
        off += (size_t)n;
    }
    if (fchmod(fd, mode) < 0 || fsync(fd) < 0) {
        wlf_fail(err, path, "cannot write %s: %s", tmp, strerror(errno));
        goto fail;
    }
    if (close(fd) < 0) {
        fd = -1;
        wlf_fail(err, path, "cannot write %s: %s", tmp, strerror(errno));
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) < 0) {
        wlf_fail(err, path, "cannot rename %s to %s: %s", tmp, path,
                 strerror(errno));
        goto fail;
    }
    temp_forget();
    if (fs_sync_dir(dir) < 0)
        return wlf_fail(err, path, "cannot sync %s: %s", dir,
                        strerror(errno));
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    temp_forget();
    return -1;
}

int fs_symlink_atomic(const char *target, const char *path, wlf_err *err)
{
    char dir[PATH_MAX], tmp[PATH_MAX];

    if (temp_name(path, dir, sizeof(dir), tmp, sizeof(tmp)) < 0)
        return wlf_fail(err, path, "path too long");
    unlink(tmp);
    temp_register(tmp);
    if (symlink(target, tmp) < 0) {
        temp_forget();
        return wlf_fail(err, path, "cannot create symlink %s: %s", tmp,
                        strerror(errno));
    }
    if (rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        temp_forget();
        return wlf_fail(err, path, "cannot rename %s to %s: %s", tmp, path,
                        strerror(e));
    }
    temp_forget();
    if (fs_sync_dir(dir) < 0)
        return wlf_fail(err, path, "cannot sync %s: %s", dir,
                        strerror(errno));
    return 0;
}

int fs_read_file(const char *path, char **data, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t cap = 4096, n = 0;
    char *buf;

    *data = NULL;
    if (len)
        *len = 0;
    if (fd < 0)
        return -1;
    if ((buf = malloc(cap)) == NULL) {
        close(fd);
        errno = ENOMEM;
        return -1;
    }
    for (;;) {
        ssize_t r;
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                close(fd);
                errno = ENOMEM;
                return -1;
            }
            buf = nb;
            cap *= 2;
        }
        r = read(fd, buf + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            close(fd);
            errno = e;
            return -1;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        /* a regular file (all fpmctl reads) returns less only at its
         * end: no second read to learn that (check reads three files
         * of each of 10,000 accounts) */
        if ((size_t)r < cap - (n - (size_t)r) - 1)
            break;
    }
    close(fd);
    buf[n] = '\0';
    *data = buf;
    if (len)
        *len = n;
    return 0;
}

/* Create missing ancestors of `path` (root, 0755); existing ones are left
 * as they are. */
static int make_parents(const char *path, wlf_err *err)
{
    char buf[PATH_MAX];

    if (strlen(path) >= sizeof(buf))
        return wlf_fail(err, path, "path too long");
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST) {
            int e = errno;
            *p = '/';
            return wlf_fail(err, path, "cannot create %.*s: %s",
                            (int)(p - buf), buf, strerror(e));
        }
        *p = '/';
    }
    return 0;
}

static int fix_owner_mode(int fd, const char *path, mode_t mode, uid_t uid,
                          gid_t gid, wlf_err *err)
{
    struct stat st;

    if (fstat(fd, &st) < 0)
        return wlf_fail(err, path, "cannot stat: %s", strerror(errno));
    if ((uid != (uid_t)-1 && st.st_uid != uid) ||
        (gid != (gid_t)-1 && st.st_gid != gid)) {
        if (fchown(fd, uid, gid) < 0)
            return wlf_fail(err, path, "cannot change owner: %s",
                            strerror(errno));
    }
    if ((st.st_mode & 07777) != mode && fchmod(fd, mode) < 0)
        return wlf_fail(err, path, "cannot change mode: %s", strerror(errno));
    return 0;
}

int fs_ensure_dir(const char *path, mode_t mode, uid_t uid, gid_t gid,
                  wlf_err *err)
{
    struct stat st;
    int fd, rc;

    if (lstat(path, &st) < 0) {
        if (errno != ENOENT)
            return wlf_fail(err, path, "cannot stat: %s", strerror(errno));
        if (make_parents(path, err) < 0)
            return -1;
        if (mkdir(path, mode) < 0 && errno != EEXIST)
            return wlf_fail(err, path, "cannot create: %s", strerror(errno));
    }
    fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return wlf_fail(err, path, "%s", errno == ELOOP || errno == ENOTDIR
                        ? "is not a directory (symlink or file)"
                        : strerror(errno));
    rc = fix_owner_mode(fd, path, mode, uid, gid, err);
    close(fd);
    return rc;
}

int fs_ensure_file(const char *path, mode_t mode, uid_t uid, gid_t gid,
                   wlf_err *err)
{
    struct stat st;
    int fd, rc;

    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_NONBLOCK |
              O_CLOEXEC, mode);
    if (fd < 0)
        return wlf_fail(err, path, "%s", errno == ELOOP
                        ? "is a symlink; refusing to use it"
                        : strerror(errno));
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return wlf_fail(err, path, "is not a regular file");
    }
    rc = fix_owner_mode(fd, path, mode, uid, gid, err);
    close(fd);
    return rc;
}

static int remove_at(int parent, const char *name, int depth, wlf_err *err)
{
    struct stat st;
    struct dirent *de;
    DIR *d;
    int fd;

    if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : wlf_fail(err, name, "cannot stat: %s",
                                              strerror(errno));
    if (!S_ISDIR(st.st_mode)) {
        if (unlinkat(parent, name, 0) < 0 && errno != ENOENT)
            return wlf_fail(err, name, "cannot remove: %s", strerror(errno));
        return 0;
    }
    if (depth > 64)
        return wlf_fail(err, name, "directories nested too deeply");
    fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return wlf_fail(err, name, "cannot open: %s", strerror(errno));
    if ((d = fdopendir(fd)) == NULL) {
        close(fd);
        return wlf_fail(err, name, "cannot read: %s", strerror(errno));
    }
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (remove_at(dirfd(d), de->d_name, depth + 1, err) < 0) {
            closedir(d);
            return -1;
        }
    }
    closedir(d);
    if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        return wlf_fail(err, name, "cannot remove: %s", strerror(errno));
    return 0;
}

int fs_remove_tree(const char *path, wlf_err *err)
{
    char dir[PATH_MAX];
    const char *base;
    int fd, rc;

    if (wlf_dirname(path, dir, sizeof(dir), &base) < 0 || *base == '\0' ||
        strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
        return wlf_fail(err, path, "refusing to remove this path");
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : wlf_fail(err, path, "cannot open %s: %s",
                                              dir, strerror(errno));
    rc = remove_at(fd, base, 0, err);
    close(fd);
    if (rc < 0) {
        char msg[sizeof(err->msg)];
        snprintf(msg, sizeof(msg), "%s", err->msg);
        return wlf_fail(err, path, "%s", msg);
    }
    return 0;
}

int fs_remove(const char *path, wlf_err *err)
{
    if (unlink(path) < 0 && errno != ENOENT)
        return wlf_fail(err, path, "cannot remove: %s", strerror(errno));
    return 0;
}

void fs_sweep_temps(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL)
        if (strncmp(de->d_name, FPM_TEMP_PREFIX,
                    sizeof(FPM_TEMP_PREFIX) - 1) == 0)
            unlinkat(dirfd(d), de->d_name, 0);
    closedir(d);
}

/* Another live process with the file of `st` open: one that inherited
 * a lock from the process that took it (fpmctl's drainer). 0 if none. */
static pid_t open_by_other(const struct stat *st)
{
    DIR *proc = opendir("/proc");
    struct dirent *de;
    pid_t found = 0, self = getpid();

    if (proc == NULL)
        return 0;
    while (found == 0 && (de = readdir(proc)) != NULL) {
        char path[64];
        DIR *fds;
        struct dirent *fe;
        long pid = strtol(de->d_name, NULL, 10);

        if (pid <= 0 || pid == self)
            continue;
        snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
        if ((fds = opendir(path)) == NULL)
            continue;
        while ((fe = readdir(fds)) != NULL) {
            char fdpath[64 + NAME_MAX + 2];
            struct stat fst;
            snprintf(fdpath, sizeof(fdpath), "%s/%s", path, fe->d_name);
            if (fe->d_name[0] != '.' && stat(fdpath, &fst) == 0 &&
                fst.st_dev == st->st_dev && fst.st_ino == st->st_ino) {
                found = (pid_t)pid;
                break;
            }
        }
        closedir(fds);
    }
    closedir(proc);
    return found;
}

/* Who holds the flock on `fd`'s file, from /proc/locks (or, when the
 * process that took it is gone, who has the file open); 0 if unknown. */
static pid_t lock_holder(int fd)
{
    struct stat st;
    FILE *f;
    char line[256];
    pid_t holder = 0;
    int listed = 0;

    if (fstat(fd, &st) < 0 || (f = fopen("/proc/locks", "re")) == NULL)
        return 0;
    while (fgets(line, sizeof(line), f)) {
        char type[16], adv[16], mode[16];
        long pid;
        unsigned long long ino;
        unsigned maj, min;
        if (sscanf(line, "%*d: %15s %15s %15s %ld %x:%x:%llu", type, adv,
                   mode, &pid, &maj, &min, &ino) == 7 &&
            strcmp(type, "FLOCK") == 0 && ino == (unsigned long long)st.st_ino
            && pid > 0) {
            listed = 1;
            if (kill((pid_t)pid, 0) == 0) {
                holder = (pid_t)pid;
                break;
            }
        }
    }
    fclose(f);
    if (holder == 0 && listed)
        holder = open_by_other(&st);
    return holder;
}

int fs_lock(const char *path, long long timeout_s, int *timed_out,
            wlf_err *err)
{
    long long deadline = wlf_now_ms() + timeout_s * 1000;
    unsigned int delay = 5;
    int fd;

    *timed_out = 0;
    srand((unsigned)getpid());
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return wlf_fail(err, "lock", "cannot open %s: %s", path,
                        strerror(errno));
    for (;;) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return fd;
        if (errno != EWOULDBLOCK && errno != EINTR) {
            wlf_fail(err, "lock", "cannot lock %s: %s", path,
                     strerror(errno));
            close(fd);
            return -1;
        }
        if (wlf_now_ms() >= deadline)
            break;
        /* back off a little, with jitter, so waiters do not move in step */
        usleep((delay + (unsigned)(rand() % 5)) * 1000);
        if (delay < 50)
            delay += 5;
    }
    *timed_out = 1;
    {
        char who[160];
        fs_lock_holder(fd, who, sizeof(who));
        wlf_fail(err, "lock", "%s holds %s and did not release it within "
                 "%lld s (lock_timeout in wlfcgi.conf); try again later",
                 who, path, timeout_s);
    }
    close(fd);
    return -1;
}

const char *fs_lock_holder(int fd, char *buf, size_t len)
{
    pid_t holder = lock_holder(fd);
    char cmd[120], path[64];
    size_t n = 0;
    FILE *f;

    snprintf(buf, len, "another process");
    if (holder <= 0)
        return buf;
    /* its command line, so the admin sees what it is doing */
    snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)holder);
    if ((f = fopen(path, "re")) != NULL) {
        n = fread(cmd, 1, sizeof(cmd) - 1, f);
        fclose(f);
    }
    while (n > 0 && cmd[n - 1] == '\0')
        n--;
    cmd[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (cmd[i] == '\0')
            cmd[i] = ' ';
        else if ((unsigned char)cmd[i] < 0x20)
            cmd[i] = '?';
    if (n == 0) {
        snprintf(buf, len, "pid %ld", (long)holder);
    }
    else {
        /* the program's name without its directory */
        const char *start = cmd;
        size_t word = strcspn(cmd, " ");
        for (size_t i = 0; i < word; i++)
            if (cmd[i] == '/')
                start = cmd + i + 1;
        snprintf(buf, len, "pid %ld (%s%s)", (long)holder, start,
                 n == sizeof(cmd) - 1 ? "..." : "");
    }
    return buf;
}
