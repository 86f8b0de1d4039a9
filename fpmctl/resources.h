/*
 * resources.h - an account's resource limits in force, and its counters kept
 * across instances.
 *
 * fpm_limits_enter() is THE step every start of a master goes through
 * (fpm_slot_start calls it, whoever starts the slot: a change, `start`,
 * boot, or on-demand activation): it makes the account's cgroup (direct)
 * or slice (systemd) hold the account's current limits and tells which
 * cgroups the new master must be started in.
 */
#ifndef FPM_RESOURCES_H
#define FPM_RESOURCES_H

#include "cgroup.h"
#include "fpmctl.h"

void fpm_limits_of(const wlf_settings *eff, wlf_limits *l);

/* Limits of account `name` from its file (all 0 if it does not load). */
void fpm_account_limits(const wlf_config *cfg, const char *name,
                        wlf_limits *l);

/* Before a master of account `name`'s instance `key` (NAME or NAME.vV)
 * starts: see above; all instances of an account share its limits. join->n == 0: start it
 * where fpmctl runs (no limits, or the host cannot enforce them: then a
 * warning is printed). known: the limits, when the caller has them (NULL:
 * read the account file). -1 with err when the group cannot be set up. */
int fpm_limits_enter(const fpm_ctx *ctx, const char *name, const char *key,
                     const wlf_limits *known, fpm_cg_join *join,
                     wlf_err *err);

/*
 * Before a process of the account that is not a master starts (`fpmctl
 * php`): the limits its masters have. direct mode: join (n == 0: none)
 * lists the account's group; systemd mode: slice names the account's
 * slice ("" none). An existing group or slice is used as it is; one the
 * account needs but does not have yet is made under the writer lock
 * (taken and let go here). -1 with err, or with the lock's exit code in
 * *lock_rc.
 */
int fpm_limits_for_process(fpm_ctx *ctx, const char *name,
                           fpm_cg_join *join, char *slice, size_t len,
                           int *lock_rc, wlf_err *err);

/* systemd mode: put process pid (not yet running PHP) into a scope of
 * its own, wlfcgi-php-NAME-PID.scope, in `slice`, and wait until it is
 * there. */
int fpm_scope_place(const fpm_ctx *ctx, const char *name,
                    const char *slice, pid_t pid, wlf_err *err);

/*
 * Can this host enforce `l` (direct mode: the cgroup controllers; systemd
 * mode: always, systemd does it)? 0, or -1 with err naming the limit and
 * saying why not.
 */
int fpm_limits_supported(const fpm_ctx *ctx, const wlf_limits *l,
                         wlf_err *err);

/* Put the limits into force for the running instance too (`set`): direct
 * mode writes the group and moves a running master and its workers into
 * it; systemd mode rewrites the slice and reloads systemd. */
int fpm_limits_apply_now(const fpm_ctx *ctx, const char *name,
                         const wlf_limits *l, wlf_err *err);

/* systemd mode: the instances of `name` are not in its slice yet, so the
 * running one must be replaced for new limits to reach it. */
int fpm_limits_need_new_instance(const fpm_ctx *ctx, const char *name);

/* remove-account: the group or slice goes too. */
int fpm_limits_remove(const fpm_ctx *ctx, const char *name, wlf_err *err);

/* "cgroup v1 (cpu, memory, pids...)" or why limits are not enforced;
 * returns 1 when limits can be enforced here. */
int fpm_limits_describe(const fpm_ctx *ctx, char *buf, size_t len);

/*
 * Before a master of slot (name, slot) with `pid` goes (quit after a
 * switch, stop): add its counters to the account's counters file, so the
 * account's totals do not go back. Best effort: a master that does not
 * answer within 1 s keeps its counts.
 */
void fpm_retire_counters(const wlf_config *cfg, const char *name,
                         const char *sock, pid_t pid);

#endif
