/*
 * wlf_reuse.c - connection reuse sizing (the reasoning is in wlf_reuse.h).
 */
#include "wlf_reuse.h"

#include <stdio.h>
#include <string.h>

#include "wlf_err.h"

void wlf_reuse_plan_for(long long max_children, long long max_execution_time,
                        int threads, int processes, const char *fpm_pm,
                        wlf_reuse_plan *plan)
{
    long long usable = max_children - WLF_REUSE_SPARE;
    long long per_process;
    long long ttl = max_execution_time - 1;

    memset(plan, 0, sizeof(*plan));
    if (threads < 1)
        threads = 1;
    if (processes < 1)
        processes = 1;
    if (ttl > WLF_REUSE_TTL_MAX)
        ttl = WLF_REUSE_TTL_MAX;

    /* prefork: mod_proxy keeps a single connection per process */
    per_process = threads > 1 ? usable / processes : 1;
    if (per_process > threads)
        per_process = threads;

    if (fpm_pm == NULL || strcmp(fpm_pm, "static") != 0) {
        snprintf(plan->why, sizeof(plan->why), "reuse off: the account runs "
                 "pm = %s; kept-alive connections need pm = static "
                 "(fpmctl set NAME pm=static)", fpm_pm ? fpm_pm : "(unknown)");
        return;
    }
    if (ttl < 1) {
        snprintf(plan->why, sizeof(plan->why), "reuse off: "
                 "max_execution_time %lld s leaves no safe idle time",
                 max_execution_time);
        return;
    }
    if (usable < 1 || per_process < 1 ||
        (long long)processes * per_process > usable) {
        snprintf(plan->why, sizeof(plan->why), "reuse off: max_children %lld "
                 "is too small for %d httpd processes (needs at least %lld)",
                 max_children, processes,
                 (long long)processes + WLF_REUSE_SPARE);
        return;
    }
    plan->enabled = 1;
    plan->hmax = (int)per_process;
    plan->ttl = (int)ttl;
    plan->pinned = (long long)processes * per_process;
    snprintf(plan->why, sizeof(plan->why), "reuse on: %d connection%s per "
             "httpd process, at most %lld of max_children %lld, idle %d s",
             plan->hmax, plan->hmax == 1 ? "" : "s", plan->pinned,
             max_children, plan->ttl);
}

void wlf_reuse_check_recycling(long long max_requests, wlf_reuse_plan *plan)
{
    if (max_requests <= 0 || !plan->enabled)
        return;
    memset(plan, 0, sizeof(*plan));
    snprintf(plan->why, sizeof(plan->why), "reuse off: the account's "
             "workers are recycled after %lld requests (max_requests), "
             "which closes their connections", max_requests);
}
