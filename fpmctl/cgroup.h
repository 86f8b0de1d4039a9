/*
 * cgroup.h - putting an account's limits into force.
 *
 * direct mode: one group per account under <subtree> in every cgroup
 * hierarchy that has a controller we use (v2: one tree; v1: cpu, cpuacct,
 * memory, pids, blkio). fpmctl writes the limits there and starts every
 * master of the account inside the group (proc_run_in), so its workers
 * and whatever they fork are in it too.
 *
 * systemd mode: a slice per account (<subtree>-NAME.slice) with the limits,
 * and a drop-in per instance unit that puts it in that slice, in the unit
 * directory; then `systemctl daemon-reload`.
 *
 * What is written is computed by common/wlf_cgroup.c (pure, unit-tested).
 */
#ifndef FPM_CGROUP_H
#define FPM_CGROUP_H

#include <limits.h>
#include <sys/types.h>

#include "wlf_cgroup.h"
#include "wlf_err.h"

/* The cgroup.procs files a new master joins (NULL-terminated list). */
typedef struct {
    char files[WLF_CG_COUNT][PATH_MAX];
    const char *join[WLF_CG_COUNT + 1];
    size_t n;
} fpm_cg_join;

/* Does the account have a group (limits were set for it once)? */
int fpm_cgroup_exists(const wlf_cg_layout *lo, const char *subtree,
                      const char *name);

/*
 * Create the account's groups as needed and write `l` into them; fill
 * join (may be NULL) with their cgroup.procs files. On failure err names
 * the file and the kernel's reason.
 */
int fpm_cgroup_apply(const wlf_cg_layout *lo, const char *subtree,
                     const char *name, const wlf_limits *l,
                     fpm_cg_join *join, wlf_err *err);

/* Fill join with the cgroup.procs files of the account's existing group,
 * as it is (nothing written). Returns join->n: 0 unless the group exists
 * in every hierarchy. */
size_t fpm_cgroup_join_of(const wlf_cg_layout *lo, const char *subtree,
                          const char *name, fpm_cg_join *join);

/* Move running processes (a master and its workers) into the groups.
 * Returns how many were moved, -1 on error. */
int fpm_cgroup_move(const fpm_cg_join *join, const pid_t *pids, size_t n,
                    wlf_err *err);

/* Remove the account's (empty) groups. */
int fpm_cgroup_remove(const wlf_cg_layout *lo, const char *subtree,
                      const char *name, wlf_err *err);

/* Is pid in the account's group (checked in its first hierarchy)? */
int fpm_cgroup_holds(const fpm_cg_join *join, pid_t pid);

/* ---- systemd ---- */

/*
 * Write <unit_dir>/<slice> and the drop-ins of both slot units of each
 * instance in keys (NAME, NAME.vV: all in the account's slice). *changed
 * says whether any file changed (then the caller runs `systemctl
 * daemon-reload`); *new_dropin whether the instances were not in the
 * slice before (a running one only enters it at its next start).
 */
int fpm_slice_write(const char *unit_dir, const char *subtree,
                    const char *name, const char *const *keys, size_t n_keys,
                    const wlf_limits *l, int *changed, int *new_dropin,
                    wlf_err *err);
/* Remove the slice and the drop-ins of all the account's instances.
 * *changed as above. */
int fpm_slice_remove(const char *unit_dir, const char *subtree,
                     const char *name, int *changed, wlf_err *err);

#endif
