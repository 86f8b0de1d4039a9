/*
 * wlf_cgroup.h - per-account resource limits through the kernel's cgroups,
 * shared by fpmctl (creates groups, writes limits, starts masters inside
 * them) and mod_wlfcgi (reads usage for the metrics).
 *
 * An account's limits are four numbers (0 = no limit): cpu in percent of
 * one core, memory in bytes (RAM and swap of the whole instance, workers
 * included), tasks (processes + threads) and io_weight (1..10000, the
 * share of disk time against other accounts).
 *
 * Where they go:
 *   cgroup v2     <unified mount>/<subtree>/<NAME>/{cpu.max, memory.max,
 *                 memory.swap.max, pids.max, io.weight}
 *   cgroup v1     <cpu mount>/<subtree>/<NAME>/cpu.cfs_quota_us, ... one
 *                 group per hierarchy (cpu, cpuacct, memory, pids, blkio)
 *   systemd       wlfcgi-NAME.slice with CPUQuota=, MemoryMax=, ...
 *                 (see wlf_limits_render_slice)
 *
 * Detection and every value written are computed by pure functions here
 * (unit-tested); the few functions that touch /proc and /sys say so.
 */
#ifndef WLF_CGROUP_H
#define WLF_CGROUP_H

#include <stddef.h>

#include "wlf_err.h"

typedef struct {
    long long cpu;          /* percent of one core; 0 = no limit */
    long long memory;       /* bytes; 0 = no limit */
    long long tasks;        /* processes + threads; 0 = no limit */
    long long io_weight;    /* 1..10000; 0 = the kernel's default */
} wlf_limits;

static inline int wlf_limits_any(const wlf_limits *l)
{
    return l->cpu || l->memory || l->tasks || l->io_weight;
}

/* Controllers wlfcgi uses. CPUACCT only exists apart on v1. */
typedef enum {
    WLF_CG_CPU,
    WLF_CG_CPUACCT,
    WLF_CG_MEMORY,
    WLF_CG_PIDS,
    WLF_CG_IO,
    WLF_CG_COUNT
} wlf_cg_ctrl;

const char *wlf_cg_ctrl_name(wlf_cg_ctrl c);   /* "cpu", ..., "io" */

typedef enum {
    WLF_CG_NONE,        /* no usable controller: limits are not enforced */
    WLF_CG_V1,
    WLF_CG_V2
} wlf_cg_mode;

typedef struct {
    wlf_cg_mode mode;
    char v2_root[256];                  /* the cgroup2 mount, or "" */
    char root[WLF_CG_COUNT][256];       /* per controller: its mount, "" if
                                           the host does not have it */
    char why[600];                      /* for mode NONE or a missing one */
} wlf_cg_layout;

/*
 * Decide where limits go from /proc/self/mountinfo and the root
 * cgroup.controllers of a cgroup2 mount (NULL when there is none). v2 is
 * used when it offers cpu, memory and pids; else the v1 hierarchies of
 * those controllers (cpu and cpuacct may share one mount). Pure.
 */
void wlf_cgroup_detect(const char *mountinfo, const char *v2_controllers,
                       wlf_cg_layout *lo);

/* The same for this host (reads /proc and /sys). */
void wlf_cgroup_detect_host(wlf_cg_layout *lo);

/* Can this limit be enforced with this layout? If not, *why says why. */
int wlf_cgroup_can(const wlf_cg_layout *lo, const char *limit,
                   const char **why);

/* <root of ctrl>/<subtree>/<name> (name NULL: the subtree itself).
 * Returns NULL when the host lacks ctrl. */
const char *wlf_cgroup_dir(const wlf_cg_layout *lo, wlf_cg_ctrl ctrl,
                           const char *subtree, const char *name, char *buf,
                           size_t len);

/* One file to write: <dir of ctrl>/<file> = value. */
typedef struct {
    wlf_cg_ctrl ctrl;
    char file[40];
    char value[32];
} wlf_cg_write;

#define WLF_CG_MAX_WRITES 8

/*
 * What to write for limits `l` (every limit, also the unlimited ones, so a
 * lowered or removed limit is undone). Controllers the host lacks are
 * skipped. Returns how many entries were stored. Pure.
 */
size_t wlf_cgroup_plan(const wlf_cg_layout *lo, const wlf_limits *l,
                       wlf_cg_write *out, size_t cap);

/* What an account's group uses now (-1: not known). */
typedef struct {
    long long cpu_usec;         /* CPU time since the group was made */
    long long memory;           /* bytes charged, page cache included */
    long long tasks;
    long long memory_max;       /* the limit in force, -1 none */
    long long oom_kills;        /* processes the limit killed, -1 unknown */
} wlf_cg_usage;

/* Read usage of the account's group (reads /sys). Returns 0 when the
 * group exists, -1 when it does not. */
int wlf_cgroup_usage(const wlf_cg_layout *lo, const char *subtree,
                     const char *name, wlf_cg_usage *u);

/* Parse a "key value" line file (cpu.stat, memory.events); -1 if absent. */
long long wlf_cgroup_stat_value(const char *text, const char *key);

/* ---- the settings' text forms ---- */

/* "150%", "150", "0" -> percent of one core (0 = no limit). */
int wlf_cpu_parse(const char *text, long long *pct, wlf_err *err);
/* 150 -> "150%", 0 -> "0" */
const char *wlf_cpu_format(long long pct, char *buf, size_t len);

/* ---- systemd ---- */

/* wlfcgi-NAME.slice with '-' in NAME escaped as \x2d, so the account is
 * a child of <subtree>.slice and nothing deeper. */
const char *wlf_slice_name(const char *subtree, const char *name, char *buf,
                           size_t len);
/* The slice unit of one account (malloc'd). */
char *wlf_limits_render_slice(const char *subtree, const char *name,
                              const wlf_limits *l);
/* The drop-in that puts one instance unit into that slice (malloc'd). */
char *wlf_limits_render_dropin(const char *subtree, const char *name);

#endif
