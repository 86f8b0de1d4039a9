/*
 * cgroup.c - cgroup groups and systemd slices of accounts.
 */
#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "wlf_validate.h"

/* The hierarchies an account's group lives in: each mount once (on v2,
 * and where v1 mounts cpu and cpuacct together, several controllers share
 * one). */
static size_t group_dirs(const wlf_cg_layout *lo, const char *subtree,
                         const char *name, char dirs[][PATH_MAX],
                         size_t cap)
{
    size_t n = 0;

    for (int c = 0; c < WLF_CG_COUNT && n < cap; c++) {
        int seen = 0;
        if (wlf_cgroup_dir(lo, (wlf_cg_ctrl)c, subtree, name, dirs[n],
                           PATH_MAX) == NULL)
            continue;
        for (size_t i = 0; i < n; i++)
            seen |= strcmp(dirs[i], dirs[n]) == 0;
        if (!seen)
            n++;
    }
    return n;
}

int fpm_cgroup_exists(const wlf_cg_layout *lo, const char *subtree,
                      const char *name)
{
    char dirs[WLF_CG_COUNT][PATH_MAX];
    size_t n = group_dirs(lo, subtree, name, dirs, WLF_CG_COUNT);
    struct stat st;

    return n > 0 && stat(dirs[0], &st) == 0 && S_ISDIR(st.st_mode);
}

size_t fpm_cgroup_join_of(const wlf_cg_layout *lo, const char *subtree,
                          const char *name, fpm_cg_join *join)
{
    char dirs[WLF_CG_COUNT][PATH_MAX];
    size_t n = group_dirs(lo, subtree, name, dirs, WLF_CG_COUNT);

    memset(join, 0, sizeof(*join));
    for (size_t i = 0; i < n; i++) {
        fs_path(join->files[join->n], PATH_MAX, "%s/cgroup.procs", dirs[i]);
        if (access(join->files[join->n], F_OK) != 0) {
            memset(join, 0, sizeof(*join));
            break;
        }
        join->join[join->n] = join->files[join->n];
        join->n++;
    }
    return join->n;
}

static int write_value(const char *dir, const char *file, const char *value,
                       int *errno_out)
{
    char path[PATH_MAX + 64];
    int fd, ok;

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    if ((fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
        *errno_out = errno;
        return -1;
    }
    ok = write(fd, value, strlen(value)) == (ssize_t)strlen(value);
    if (!ok)
        *errno_out = errno;
    close(fd);
    return ok ? 0 : -1;
}

static int make_dir(const char *path, wlf_err *err)
{
    struct stat st;

    if (mkdir(path, 0755) == 0 || errno == EEXIST) {
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            return 0;
        return wlf_fail(err, "cgroup", "%s is not a directory", path);
    }
    return wlf_fail(err, "cgroup", "cannot create %s: %s", path,
                    strerror(errno));
}

/* v2: a child gets a controller only when its parent enables it in
 * cgroup.subtree_control. */
static int v2_enable(const wlf_cg_layout *lo, const char *dir,
                     wlf_err *err)
{
    static const char *const ctrls[] = { "+cpu", "+memory", "+pids", "+io" };
    int e = 0;

    for (size_t i = 0; i < sizeof(ctrls) / sizeof(ctrls[0]); i++) {
        if (i == 3 && !lo->root[WLF_CG_IO][0])
            continue;
        if (write_value(dir, "cgroup.subtree_control", ctrls[i], &e) < 0)
            return wlf_fail(err, "cgroup", "cannot enable the %s controller "
                            "in %s/cgroup.subtree_control: %s%s", ctrls[i] + 1,
                            dir, strerror(e), e == EBUSY
                            ? " (processes sit in that group itself; cgroup "
                              "v2 enables controllers only for groups without "
                              "their own processes)" : "");
    }
    return 0;
}

/* v1 memory: the RAM+swap limit must stay >= the RAM limit at every
 * step, so the order of the two writes depends on the direction. */
static int v1_memory(const char *dir, const char *value, wlf_err *err)
{
    char memsw[PATH_MAX + 40];
    int e = 0, have_memsw;

    snprintf(memsw, sizeof(memsw), "%s/memory.memsw.limit_in_bytes", dir);
    have_memsw = access(memsw, F_OK) == 0;
    if (have_memsw && strcmp(value, "-1") == 0) {
        if (write_value(dir, "memory.memsw.limit_in_bytes", value, &e) < 0 ||
            write_value(dir, "memory.limit_in_bytes", value, &e) < 0)
            goto fail;
        return 0;
    }
    if (write_value(dir, "memory.limit_in_bytes", value, &e) == 0) {
        if (have_memsw &&
            write_value(dir, "memory.memsw.limit_in_bytes", value, &e) < 0)
            goto fail;
        return 0;
    }
    if (!have_memsw || e != EINVAL)
        goto fail;
    if (write_value(dir, "memory.memsw.limit_in_bytes", value, &e) < 0 ||
        write_value(dir, "memory.limit_in_bytes", value, &e) < 0)
        goto fail;
    return 0;
fail:
    return wlf_fail(err, "memory", "cannot set %s/memory.limit_in_bytes to "
                    "%s: %s%s", dir, value, strerror(e), e == EBUSY
                    ? " (the account uses more than that now)" : "");
}

int fpm_cgroup_apply(const wlf_cg_layout *lo, const char *subtree,
                     const char *name, const wlf_limits *l,
                     fpm_cg_join *join, wlf_err *err)
{
    wlf_cg_write w[WLF_CG_MAX_WRITES];
    char dirs[WLF_CG_COUNT][PATH_MAX], dir[PATH_MAX];
    size_t nd, nw;
    int e = 0;

    if (lo->mode == WLF_CG_NONE)
        return wlf_fail(err, "cgroup", "limits cannot be enforced here: %s",
                        lo->why);
    if (join)
        memset(join, 0, sizeof(*join));
    /* <root>/<subtree> first, then <root>/<subtree>/<name> */
    nd = group_dirs(lo, subtree, NULL, dirs, WLF_CG_COUNT);
    for (size_t i = 0; i < nd; i++) {
        if (lo->mode == WLF_CG_V2 &&
            v2_enable(lo, lo->v2_root, err) < 0)
            return -1;
        if (make_dir(dirs[i], err) < 0)
            return -1;
        if (lo->mode == WLF_CG_V2 && v2_enable(lo, dirs[i], err) < 0)
            return -1;
    }
    nd = group_dirs(lo, subtree, name, dirs, WLF_CG_COUNT);
    for (size_t i = 0; i < nd; i++) {
        if (make_dir(dirs[i], err) < 0)
            return -1;
        if (join) {
            fs_path(join->files[join->n], PATH_MAX, "%s/cgroup.procs",
                    dirs[i]);
            join->join[join->n] = join->files[join->n];
            join->n++;
        }
    }
    nw = wlf_cgroup_plan(lo, l, w, WLF_CG_MAX_WRITES);
    for (size_t i = 0; i < nw; i++) {
        if (wlf_cgroup_dir(lo, w[i].ctrl, subtree, name, dir,
                           sizeof(dir)) == NULL)
            continue;
        if (lo->mode == WLF_CG_V1 &&
            strcmp(w[i].file, "memory.limit_in_bytes") == 0) {
            if (v1_memory(dir, w[i].value, err) < 0)
                return -1;
            continue;
        }
        if (write_value(dir, w[i].file, w[i].value, &e) < 0) {
            /* a kernel without BFQ has no weight file: io_weight is then
             * not enforced, which `fpmctl check` reports */
            if (e == ENOENT && (w[i].ctrl == WLF_CG_IO))
                continue;
            return wlf_fail(err, "cgroup", "cannot write %s to %s/%s: %s",
                            w[i].value, dir, w[i].file, strerror(e));
        }
    }
    return 0;
}

int fpm_cgroup_move(const fpm_cg_join *join, const pid_t *pids, size_t n,
                    wlf_err *err)
{
    int moved = 0;

    for (size_t i = 0; i < n; i++) {
        char pid[24];
        int ok = 1;
        snprintf(pid, sizeof(pid), "%ld", (long)pids[i]);
        for (size_t j = 0; j < join->n; j++) {
            int fd = open(join->files[j], O_WRONLY | O_CLOEXEC);
            if (fd < 0)
                return wlf_fail(err, "cgroup", "cannot open %s: %s",
                                join->files[j], strerror(errno));
            /* a worker that exited meanwhile is no error (ESRCH) */
            if (write(fd, pid, strlen(pid)) < 0) {
                int e = errno;
                close(fd);
                if (e == ESRCH) {
                    ok = 0;
                    break;
                }
                return wlf_fail(err, "cgroup", "cannot move pid %s into "
                                "%s: %s", pid, join->files[j], strerror(e));
            }
            close(fd);
        }
        moved += ok;
    }
    return moved;
}

int fpm_cgroup_holds(const fpm_cg_join *join, pid_t pid)
{
    char *data;
    char key[24];
    int found = 0;

    if (join->n == 0 || fs_read_file(join->files[0], &data, NULL) < 0)
        return 0;
    snprintf(key, sizeof(key), "%ld\n", (long)pid);
    for (char *p = data; p && *p; p = strchr(p, '\n')) {
        if (*p == '\n')
            p++;
        if (strncmp(p, key, strlen(key)) == 0) {
            found = 1;
            break;
        }
    }
    free(data);
    return found;
}

int fpm_cgroup_remove(const wlf_cg_layout *lo, const char *subtree,
                      const char *name, wlf_err *err)
{
    char dirs[WLF_CG_COUNT][PATH_MAX];
    size_t nd = group_dirs(lo, subtree, name, dirs, WLF_CG_COUNT);
    int rc = 0;

    for (size_t i = 0; i < nd; i++)
        if (rmdir(dirs[i]) < 0 && errno != ENOENT)
            rc = wlf_fail(err, "cgroup", "cannot remove %s: %s", dirs[i],
                          strerror(errno));
    return rc;
}

/* ---- systemd ---- */

static int same_text(const char *path, const char *text)
{
    char *cur;
    int same;

    if (fs_read_file(path, &cur, NULL) < 0)
        return 0;
    same = strcmp(cur, text) == 0;
    free(cur);
    return same;
}

static int put_file(const char *path, const char *text, int *changed,
                    wlf_err *err)
{
    if (text == NULL)
        return wlf_fail(err, "cgroup", "out of memory");
    if (same_text(path, text))
        return 0;
    *changed = 1;
    return fs_write_atomic(path, text, strlen(text), 0644, err);
}

int fpm_slice_write(const char *unit_dir, const char *subtree,
                    const char *name, const char *const *keys, size_t n_keys,
                    const wlf_limits *l, int *changed, int *new_dropin,
                    wlf_err *err)
{
    char slice[160], path[PATH_MAX], dir[PATH_MAX];
    char *text;
    int rc;

    *changed = *new_dropin = 0;
    if (fs_ensure_dir(unit_dir, 0755, 0, 0, err) < 0)
        return -1;
    wlf_slice_name(subtree, name, slice, sizeof(slice));
    if (fs_path(path, sizeof(path), "%s/%s", unit_dir, slice) < 0)
        return wlf_fail(err, "cgroup", "unit path too long");
    text = wlf_limits_render_slice(subtree, name, l);
    rc = put_file(path, text, changed, err);
    free(text);
    if (rc < 0)
        return -1;
    /* every instance of the account (NAME, NAME.vV) in the one slice */
    for (size_t k = 0; k < n_keys * 2; k++) {
        char slot = k % 2 ? 'b' : 'a';
        if (fs_path(dir, sizeof(dir), "%s/wlfcgi-fpm@%s.%c.service.d",
                    unit_dir, keys[k / 2], slot) < 0 ||
            fs_path(path, sizeof(path), "%s/50-wlfcgi-limits.conf",
                    dir) < 0)
            return wlf_fail(err, "cgroup", "unit path too long");
        if (access(path, F_OK) != 0)
            *new_dropin = 1;
        if (fs_ensure_dir(dir, 0755, 0, 0, err) < 0)
            return -1;
        text = wlf_limits_render_dropin(subtree, name);
        rc = put_file(path, text, changed, err);
        free(text);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int fpm_slice_remove(const char *unit_dir, const char *subtree,
                     const char *name, int *changed, wlf_err *err)
{
    char slice[160], path[PATH_MAX], dir[PATH_MAX], prefix[WLF_NAME_MAX + 16];
    DIR *d;
    struct dirent *de;
    int rc = 0;

    *changed = 0;
    wlf_slice_name(subtree, name, slice, sizeof(slice));
    if (fs_path(path, sizeof(path), "%s/%s", unit_dir, slice) == 0 &&
        access(path, F_OK) == 0) {
        *changed = 1;
        rc |= fs_remove(path, err);
    }
    /* the drop-ins of every instance: wlfcgi-fpm@NAME.*.service.d ('.'
     * never occurs in a name, so no other account's match) */
    if ((d = opendir(unit_dir)) == NULL)
        return rc ? -1 : 0;
    snprintf(prefix, sizeof(prefix), "wlfcgi-fpm@%s.", name);
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (strncmp(de->d_name, prefix, strlen(prefix)) != 0 || len < 10 ||
            strcmp(de->d_name + len - 10, ".service.d") != 0)
            continue;
        if (fs_path(dir, sizeof(dir), "%s/%s", unit_dir, de->d_name) < 0 ||
            fs_path(path, sizeof(path), "%s/50-wlfcgi-limits.conf",
                    dir) < 0)
            continue;
        if (access(path, F_OK) == 0) {
            *changed = 1;
            rc |= fs_remove(path, err);
            rmdir(dir);
        }
    }
    closedir(d);
    return rc ? -1 : 0;
}
