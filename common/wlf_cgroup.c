/*
 * wlf_cgroup.c - where per-account limits go and what is written there.
 */
#include "wlf_cgroup.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const ctrl_names[WLF_CG_COUNT] = {
    [WLF_CG_CPU] = "cpu", [WLF_CG_CPUACCT] = "cpuacct",
    [WLF_CG_MEMORY] = "memory", [WLF_CG_PIDS] = "pids", [WLF_CG_IO] = "io",
};

const char *wlf_cg_ctrl_name(wlf_cg_ctrl c)
{
    return c < WLF_CG_COUNT ? ctrl_names[c] : "?";
}

/* Is `word` one of the comma-separated items of `list`? */
static int has_item(const char *list, size_t len, const char *word)
{
    size_t wl = strlen(word);
    const char *p = list, *end = list + len;

    while (p < end) {
        const char *c = memchr(p, ',', (size_t)(end - p));
        size_t n = c ? (size_t)(c - p) : (size_t)(end - p);
        if (n == wl && strncmp(p, word, n) == 0)
            return 1;
        p += n + 1;
    }
    return 0;
}

/* Is `word` one of the space-separated words of text? */
static int has_word(const char *text, const char *word)
{
    size_t wl = strlen(word);
    const char *p = text;

    while (p && *p) {
        size_t n;
        p += strspn(p, " \t\n");
        n = strcspn(p, " \t\n");
        if (n == wl && strncmp(p, word, n) == 0)
            return 1;
        p += n;
    }
    return 0;
}

/* Field `idx` (0-based, space separated) of a line into buf. */
static int field(const char *line, size_t llen, int idx, char *buf,
                 size_t len)
{
    const char *p = line, *end = line + llen;

    for (int i = 0; p < end; i++) {
        const char *s = memchr(p, ' ', (size_t)(end - p));
        size_t n = s ? (size_t)(s - p) : (size_t)(end - p);
        if (i == idx) {
            if (n >= len)
                return -1;
            memcpy(buf, p, n);
            buf[n] = '\0';
            return 0;
        }
        if (s == NULL)
            break;
        p = s + 1;
    }
    return -1;
}

void wlf_cgroup_detect(const char *mountinfo, const char *v2_controllers,
                       wlf_cg_layout *lo)
{
    char v1[WLF_CG_COUNT][256];
    const char *p = mountinfo;

    memset(lo, 0, sizeof(*lo));
    memset(v1, 0, sizeof(v1));
    while (p && *p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        const char *dash = NULL;
        char mnt[256], fstype[32], opts[256];

        /* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS...] - TYPE SRC
         * SUPEROPTS"; mount points with spaces are \040-escaped */
        for (const char *q = p; q + 2 < p + len; q++)
            if (q[0] == ' ' && q[1] == '-' && q[2] == ' ') {
                dash = q + 3;
                break;
            }
        if (dash && field(p, len, 4, mnt, sizeof(mnt)) == 0 &&
            field(dash, (size_t)(p + len - dash), 0, fstype,
                  sizeof(fstype)) == 0 &&
            field(dash, (size_t)(p + len - dash), 2, opts,
                  sizeof(opts)) == 0) {
            if (strcmp(fstype, "cgroup2") == 0 && lo->v2_root[0] == '\0')
                wlf_copy(lo->v2_root, sizeof(lo->v2_root), mnt);
            else if (strcmp(fstype, "cgroup") == 0) {
                size_t ol = strlen(opts);
                if (has_item(opts, ol, "cpu") && !v1[WLF_CG_CPU][0])
                    wlf_copy(v1[WLF_CG_CPU], 256, mnt);
                if (has_item(opts, ol, "cpuacct") && !v1[WLF_CG_CPUACCT][0])
                    wlf_copy(v1[WLF_CG_CPUACCT], 256, mnt);
                if (has_item(opts, ol, "memory") && !v1[WLF_CG_MEMORY][0])
                    wlf_copy(v1[WLF_CG_MEMORY], 256, mnt);
                if (has_item(opts, ol, "pids") && !v1[WLF_CG_PIDS][0])
                    wlf_copy(v1[WLF_CG_PIDS], 256, mnt);
                if (has_item(opts, ol, "blkio") && !v1[WLF_CG_IO][0])
                    wlf_copy(v1[WLF_CG_IO], 256, mnt);
            }
        }
        p = eol ? eol + 1 : NULL;
    }

    if (lo->v2_root[0] && v2_controllers &&
        has_word(v2_controllers, "cpu") && has_word(v2_controllers, "memory")
        && has_word(v2_controllers, "pids")) {
        lo->mode = WLF_CG_V2;
        for (int c = 0; c < WLF_CG_COUNT; c++)
            if (c != WLF_CG_IO || has_word(v2_controllers, "io"))
                wlf_copy(lo->root[c], sizeof(lo->root[c]), lo->v2_root);
        if (!lo->root[WLF_CG_IO][0])
            snprintf(lo->why, sizeof(lo->why), "the cgroup v2 hierarchy at "
                     "%s offers no io controller", lo->v2_root);
        return;
    }
    if (v1[WLF_CG_CPU][0] || v1[WLF_CG_MEMORY][0] || v1[WLF_CG_PIDS][0]) {
        lo->mode = WLF_CG_V1;
        memcpy(lo->root, v1, sizeof(v1));
        return;
    }
    lo->mode = WLF_CG_NONE;
    if (lo->v2_root[0]) {
        char have[64];
        wlf_copy(have, sizeof(have), v2_controllers && *v2_controllers
                                     ? v2_controllers : "none");
        have[strcspn(have, "\n")] = '\0';
        snprintf(lo->why, sizeof(lo->why), "the cgroup v2 hierarchy at %s "
                 "offers none of the cpu, memory and pids controllers "
                 "(it has: %s) and no cgroup v1 hierarchy has them",
                 lo->v2_root, have[0] ? have : "none");
    }
    else
        snprintf(lo->why, sizeof(lo->why), "no cgroup hierarchy is mounted "
                 "(neither cgroup2 nor the v1 cpu, memory and pids ones)");
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "re");
    char *buf = NULL;
    size_t n = 0, cap = 0;

    if (f == NULL)
        return NULL;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            char *nb = realloc(buf, cap = n + 8192);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, 4096, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    return buf;
}

void wlf_cgroup_detect_host(wlf_cg_layout *lo)
{
    char *mi = slurp("/proc/self/mountinfo");
    char *ctrls = NULL;
    wlf_cg_layout probe;

    /* first pass finds the cgroup2 mount, whose controllers decide */
    wlf_cgroup_detect(mi ? mi : "", NULL, &probe);
    if (probe.v2_root[0]) {
        char path[300];
        snprintf(path, sizeof(path), "%s/cgroup.controllers",
                 probe.v2_root);
        ctrls = slurp(path);
    }
    wlf_cgroup_detect(mi ? mi : "", ctrls ? ctrls : "", lo);
    free(mi);
    free(ctrls);
}

int wlf_cgroup_can(const wlf_cg_layout *lo, const char *limit,
                   const char **why)
{
    static char msg[400];
    wlf_cg_ctrl c = WLF_CG_CPU;

    if (lo->mode == WLF_CG_NONE) {
        *why = lo->why;
        return 0;
    }
    if (strcmp(limit, "memory") == 0)
        c = WLF_CG_MEMORY;
    else if (strcmp(limit, "tasks") == 0)
        c = WLF_CG_PIDS;
    else if (strcmp(limit, "io_weight") == 0)
        c = WLF_CG_IO;
    if (lo->root[c][0])
        return 1;
    snprintf(msg, sizeof(msg), "this host has no cgroup %s%s controller "
             "mounted", lo->mode == WLF_CG_V2 ? "v2 " : "v1 ",
             lo->mode == WLF_CG_V2 ? ctrl_names[c]
             : c == WLF_CG_IO ? "blkio" : c == WLF_CG_PIDS ? "pids"
             : ctrl_names[c]);
    *why = msg;
    return 0;
}

const char *wlf_cgroup_dir(const wlf_cg_layout *lo, wlf_cg_ctrl ctrl,
                           const char *subtree, const char *name, char *buf,
                           size_t len)
{
    int n;

    if (ctrl >= WLF_CG_COUNT || lo->root[ctrl][0] == '\0')
        return NULL;
    if (name)
        n = snprintf(buf, len, "%s/%s/%s", lo->root[ctrl], subtree, name);
    else
        n = snprintf(buf, len, "%s/%s", lo->root[ctrl], subtree);
    return n > 0 && (size_t)n < len ? buf : NULL;
}

/* value: "max" (or "max 100000") when v < 0, else the number (after a
 * "default " prefix for io.weight) */
static size_t add(wlf_cg_write *out, size_t n, size_t cap, wlf_cg_ctrl c,
                  const char *file, const char *prefix, long long v,
                  const char *suffix)
{
    if (n >= cap)
        return n;
    out[n].ctrl = c;
    wlf_copy(out[n].file, sizeof(out[n].file), file);
    if (v < 0)
        snprintf(out[n].value, sizeof(out[n].value), "max%s", suffix);
    else
        snprintf(out[n].value, sizeof(out[n].value), "%s%lld%s", prefix, v,
                 suffix);
    return n + 1;
}

#define CFS_PERIOD_US 100000LL

size_t wlf_cgroup_plan(const wlf_cg_layout *lo, const wlf_limits *l,
                       wlf_cg_write *out, size_t cap)
{
    size_t n = 0;
    /* the quota of one period: 100% of one core = one period */
    long long quota = l->cpu ? l->cpu * (CFS_PERIOD_US / 100) : -1;
    long long mem = l->memory ? l->memory : -1;
    long long tasks = l->tasks ? l->tasks : -1;
    long long io = l->io_weight ? l->io_weight : 100;

    if (lo->mode == WLF_CG_V2) {
        if (lo->root[WLF_CG_CPU][0])
            n = add(out, n, cap, WLF_CG_CPU, "cpu.max", "", quota, " 100000");
        if (lo->root[WLF_CG_MEMORY][0]) {
            /* RAM and swap: the limit is meant as a hard one */
            n = add(out, n, cap, WLF_CG_MEMORY, "memory.max", "", mem, "");
            n = add(out, n, cap, WLF_CG_MEMORY, "memory.swap.max", "",
                    l->memory ? 0 : -1, "");
        }
        if (lo->root[WLF_CG_PIDS][0])
            n = add(out, n, cap, WLF_CG_PIDS, "pids.max", "", tasks, "");
        if (lo->root[WLF_CG_IO][0])
            n = add(out, n, cap, WLF_CG_IO, "io.weight", "default ", io, "");
        return n;
    }
    if (lo->mode != WLF_CG_V1)
        return 0;
    if (lo->root[WLF_CG_CPU][0]) {
        n = add(out, n, cap, WLF_CG_CPU, "cpu.cfs_period_us", "",
                CFS_PERIOD_US, "");
        if (quota < 0)
            n = add(out, n, cap, WLF_CG_CPU, "cpu.cfs_quota_us", "-", 1, "");
        else
            n = add(out, n, cap, WLF_CG_CPU, "cpu.cfs_quota_us", "", quota,
                    "");
    }
    if (lo->root[WLF_CG_MEMORY][0]) {
        /* memory.memsw.limit_in_bytes (with swap accounting) is written by
         * the caller right after, in whichever order the kernel accepts */
        if (mem < 0)
            n = add(out, n, cap, WLF_CG_MEMORY, "memory.limit_in_bytes", "-",
                    1, "");
        else
            n = add(out, n, cap, WLF_CG_MEMORY, "memory.limit_in_bytes", "",
                    mem, "");
    }
    if (lo->root[WLF_CG_PIDS][0])
        n = add(out, n, cap, WLF_CG_PIDS, "pids.max", "", tasks, "");
    if (lo->root[WLF_CG_IO][0])
        /* v1 BFQ weights run 1..1000 */
        n = add(out, n, cap, WLF_CG_IO, "blkio.bfq.weight", "",
                io > 1000 ? 1000 : io, "");
    return n;
}

long long wlf_cgroup_stat_value(const char *text, const char *key)
{
    size_t kl = strlen(key);
    const char *p = text;

    while (p && *p) {
        if (strncmp(p, key, kl) == 0 && p[kl] == ' ')
            return strtoll(p + kl + 1, NULL, 10);
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return -1;
}

static long long read_number(const char *dir, const char *file)
{
    char path[600], *t;
    long long v = -1;

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    if ((t = slurp(path)) == NULL)
        return -1;
    if (strncmp(t, "max", 3) != 0 && t[0] >= '0' && t[0] <= '9')
        v = strtoll(t, NULL, 10);
    free(t);
    return v;
}

static long long read_stat(const char *dir, const char *file,
                           const char *key)
{
    char path[600], *t;
    long long v;

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    if ((t = slurp(path)) == NULL)
        return -1;
    v = wlf_cgroup_stat_value(t, key);
    free(t);
    return v;
}

int wlf_cgroup_usage(const wlf_cg_layout *lo, const char *subtree,
                     const char *name, wlf_cg_usage *u)
{
    char dir[512];
    int found = 0;

    u->cpu_usec = u->memory = u->tasks = u->memory_max = -1;
    u->oom_kills = -1;
    if (lo->mode == WLF_CG_V2) {
        if (wlf_cgroup_dir(lo, WLF_CG_CPU, subtree, name, dir,
                           sizeof(dir)) == NULL || access(dir, F_OK) != 0)
            return -1;
        u->cpu_usec = read_stat(dir, "cpu.stat", "usage_usec");
        u->memory = read_number(dir, "memory.current");
        u->memory_max = read_number(dir, "memory.max");
        u->tasks = read_number(dir, "pids.current");
        u->oom_kills = read_stat(dir, "memory.events", "oom_kill");
        return 0;
    }
    if (lo->mode != WLF_CG_V1)
        return -1;
    if (wlf_cgroup_dir(lo, WLF_CG_CPUACCT, subtree, name, dir, sizeof(dir))
        && access(dir, F_OK) == 0) {
        long long ns = read_number(dir, "cpuacct.usage");
        u->cpu_usec = ns < 0 ? -1 : ns / 1000;
        found = 1;
    }
    if (wlf_cgroup_dir(lo, WLF_CG_MEMORY, subtree, name, dir, sizeof(dir))
        && access(dir, F_OK) == 0) {
        long long max = read_number(dir, "memory.limit_in_bytes");
        u->memory = read_number(dir, "memory.usage_in_bytes");
        /* v1 says "no limit" with a huge page-rounded number */
        u->memory_max = max >= (1LL << 60) ? -1 : max;
        u->oom_kills = read_stat(dir, "memory.oom_control", "oom_kill");
        found = 1;
    }
    if (wlf_cgroup_dir(lo, WLF_CG_PIDS, subtree, name, dir, sizeof(dir))
        && access(dir, F_OK) == 0) {
        u->tasks = read_number(dir, "pids.current");
        found = 1;
    }
    return found ? 0 : -1;
}

/* ---- text forms ---- */

int wlf_cpu_parse(const char *text, long long *pct, wlf_err *err)
{
    char *end;
    long long v;

    if (text == NULL || !(text[0] >= '0' && text[0] <= '9'))
        return wlf_fail(err, "cpu", "'%.40s' is not a percentage of one "
                        "core (50%%, 150%%; 0 for no limit)", text ? text
                                                                   : "");
    errno = 0;
    v = strtoll(text, &end, 10);
    if (errno || (*end != '\0' && strcmp(end, "%") != 0))
        return wlf_fail(err, "cpu", "'%.40s' is not a percentage of one "
                        "core (50%%, 150%%; 0 for no limit)", text);
    if (v != 0 && (v < 1 || v > 100000))
        return wlf_fail(err, "cpu", "must be between 1%% and 100000%% "
                        "(0 for no limit)");
    *pct = v;
    return 0;
}

const char *wlf_cpu_format(long long pct, char *buf, size_t len)
{
    if (pct == 0)
        snprintf(buf, len, "0");
    else
        snprintf(buf, len, "%lld%%", pct);
    return buf;
}

/* ---- systemd ---- */

const char *wlf_slice_name(const char *subtree, const char *name, char *buf,
                           size_t len)
{
    size_t off = (size_t)snprintf(buf, len, "%s-", subtree);

    for (const char *p = name; *p && off + 5 < len; p++) {
        if (*p == '-') {
            memcpy(buf + off, "\\x2d", 4);
            off += 4;
        }
        else
            buf[off++] = *p;
    }
    snprintf(buf + off, len - off, ".slice");
    return buf;
}

static char *dup_printf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static char *dup_printf(const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

char *wlf_limits_render_slice(const char *subtree, const char *name,
                              const wlf_limits *l)
{
    char cpu[32], mem[32], swap[32], tasks[32], io[48];

    /* an empty CPUQuota= removes the quota */
    if (l->cpu)
        snprintf(cpu, sizeof(cpu), "%lld%%", l->cpu);
    else
        cpu[0] = '\0';
    if (l->memory) {
        snprintf(mem, sizeof(mem), "%lld", l->memory);
        snprintf(swap, sizeof(swap), "0");
    }
    else {
        snprintf(mem, sizeof(mem), "infinity");
        snprintf(swap, sizeof(swap), "infinity");
    }
    if (l->tasks)
        snprintf(tasks, sizeof(tasks), "%lld", l->tasks);
    else
        snprintf(tasks, sizeof(tasks), "infinity");
    if (l->io_weight)
        snprintf(io, sizeof(io), "IOWeight=%lld\n", l->io_weight);
    else
        io[0] = '\0';
    return dup_printf(
        "# Generated by fpmctl from the account file of %s: do not edit.\n"
        "# Change it with: fpmctl set %s cpu=... memory=... tasks=... "
        "io_weight=...\n"
        "# Every instance of the account (both slots, every PHP version)\n"
        "# runs in this slice and shares its budget.\n"
        "[Unit]\n"
        "Description=wlfcgi account %s\n"
        "\n"
        "[Slice]\n"
        "CPUAccounting=yes\n"
        "MemoryAccounting=yes\n"
        "TasksAccounting=yes\n"
        "IOAccounting=yes\n"
        "CPUQuota=%s\n"
        "MemoryMax=%s\n"
        "MemorySwapMax=%s\n"
        "TasksMax=%s\n"
        "%s",
        name, name, name, cpu, mem, swap, tasks, io);
}

char *wlf_limits_render_dropin(const char *subtree, const char *name)
{
    char slice[160];

    return dup_printf(
        "# Generated by fpmctl: the instance runs in its account's slice.\n"
        "[Service]\n"
        "Slice=%s\n",
        wlf_slice_name(subtree, name, slice, sizeof(slice)));
}
