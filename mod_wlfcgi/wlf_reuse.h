/*
 * wlf_reuse.h - how many persistent FastCGI connections an account's proxy
 * workers may keep, so that connection reuse never pins more FPM workers
 * than the account has.
 *
 * A kept-alive FastCGI connection occupies one FPM worker process for as
 * long as it is open, idle or not. Each httpd child process has its own
 * connection pool per proxy worker, holding at most `hmax` connections
 * (prefork: exactly one). At most `processes` httpd children exist at any
 * time (ServerLimit: the scoreboard has no more slots, graceful restarts
 * included). So the connections to one FPM instance never exceed
 *
 *     processes * hmax  <=  max_children - WLF_REUSE_SPARE
 *
 * and one FPM worker always stays free for pings, status queries and other
 * clients. When not even hmax = 1 fits, reuse is off for the account and
 * every request closes its connection (FPM then queues as usual).
 *
 * FPM must not run pm = ondemand for such an account. ondemand forks a
 * worker only when a connection arrives and no worker is idle at that
 * instant; two connections arriving together while one worker is idle get
 * one worker between them, and the other waits in the listen queue until
 * another connection arrives or a worker is freed. Kept-alive connections
 * free no worker and open no new connections, so that wait had no bound
 * (measured: 3 to 13 s). With pm = static every worker exists from the
 * start, so with at least one never held by httpd a free worker always
 * takes a new connection. The plan therefore
 * takes the account's pm setting (wlf_config: ondemand or static; fpmctl
 * renders it into the instance) and enables reuse only for static.
 *
 * An idle kept-alive connection is, for FPM, a request that is "reading
 * headers": request_terminate_timeout runs from the moment the worker
 * started waiting on it, and kills the worker when it expires. httpd must
 * never send a request on a connection that old, so idle connections are
 * dropped after `ttl` seconds, below the shortest request_terminate_timeout
 * fpmctl can set (max_execution_time), and never more than
 * WLF_REUSE_TTL_MAX. The short cap also bounds how long an old instance
 * keeps workers busy after fpmctl switched to the new slot: idle
 * connections to the old slot are closed once they are older than ttl.
 */
#ifndef WLF_REUSE_H
#define WLF_REUSE_H

#include <stddef.h>

#define WLF_REUSE_SPARE   1   /* FPM workers never held by httpd */
#define WLF_REUSE_TTL_MAX 2   /* seconds an idle connection is kept */

typedef struct {
    int enabled;
    int hmax;           /* connections per httpd process and worker */
    int ttl;            /* seconds an idle connection may be reused */
    long long pinned;   /* worst case: processes * per-process connections */
    char why[160];      /* one line for the log and the status page */
} wlf_reuse_plan;

/*
 * threads: AP_MPMQ_MAX_THREADS (1 for prefork); processes:
 * AP_MPMQ_HARD_LIMIT_DAEMONS; max_children and max_execution_time: the
 * account's effective settings; fpm_pm: its effective pm setting
 * ("static" or "ondemand").
 */
void wlf_reuse_plan_for(long long max_children, long long max_execution_time,
                        int threads, int processes, const char *fpm_pm,
                        wlf_reuse_plan *plan);

/*
 * Workers php-fpm recycles (pm.max_requests > 0) close their connection
 * when they exit, and httpd could send the next request on it before it
 * noticed: reuse is off for such an account. Call after
 * wlf_reuse_plan_for().
 */
void wlf_reuse_check_recycling(long long max_requests, wlf_reuse_plan *plan);

#endif
