/*
 * wlf_metrics.h - every account's numbers in one OpenMetrics exposition,
 * for `fpmctl status --openmetrics` and mod_wlfcgi's status handler
 * (`?openmetrics`). Both build it with the functions below.
 *
 * Counters stay monotonic across reloads: each slot's php-fpm master
 * counts from zero, so when fpmctl retires a master (the quit after a slot
 * switch, a stop) it first adds that master's final counts to the
 * account's counters file, <state>/metrics/NAME.counters, and records
 * which master it retired. A scrape adds the counters file to the counts
 * of every running master not recorded there. The file is read after the
 * masters were asked, so a master retired in between is counted once
 * (by the file) and never dropped. A master that dies without fpmctl
 * (killed, crashed) loses the counts since its start: Prometheus sees a
 * counter reset, which rate() handles. A running master that does not
 * answer (all its workers busy) and was not retired makes the account's
 * counters absent from that scrape: a gap, never a lower value.
 */
#ifndef WLF_METRICS_H
#define WLF_METRICS_H

#include <stddef.h>

#include "wlf_cgroup.h"
#include "wlf_config.h"
#include "wlf_fcgi.h"
#include "wlf_validate.h"

typedef enum {
    WLF_ACCT_RUNNING,
    WLF_ACCT_IDLE,          /* on-demand: stopped, starts on a connection */
    WLF_ACCT_STOPPED,
    WLF_ACCT_SUSPENDED,
    WLF_ACCT_STATE_COUNT
} wlf_acct_state;

const char *wlf_acct_state_name(wlf_acct_state s);

/* The counters php-fpm keeps per master. */
typedef struct {
    long long requests;             /* status page: "accepted conn" */
    long long slow_requests;
    long long max_children_reached;
} wlf_fpm_counts;

/* What the counters file holds. */
#define WLF_RETIRED_KEEP 4
typedef struct {
    wlf_fpm_counts total;           /* sum over retired masters */
    struct {
        long long pid;
        long long started;          /* unix time the master started */
    } retired[WLF_RETIRED_KEEP];    /* the latest ones, newest first */
    size_t n_retired;
} wlf_counters;

/* Parse / render the counters file. Parse returns -1 on garbage (the
 * caller then starts from zero). Pure. */
int wlf_counters_parse(const char *text, wlf_counters *c);
char *wlf_counters_render(const wlf_counters *c);
/* Was the master (pid, started) retired already? Start times may differ
 * by a second (they are derived from "start since"). */
int wlf_counters_retired(const wlf_counters *c, long long pid,
                         long long started);
/* Add a master's final counts and remember it. */
void wlf_counters_retire(wlf_counters *c, long long pid, long long started,
                         const wlf_fpm_counts *final);

/* One account in the exposition. */
typedef struct {
    char name[WLF_NAME_MAX + 1];
    wlf_acct_state state;
    int up;                         /* the live master answered */
    int counts_known;               /* every running master answered: else
                                       the counters are left out of the
                                       exposition, never shown too low */
    wlf_fpm_counts counts;          /* retired + running masters */
    long long listen_queue;         /* -1: unknown (not running) */
    long long listen_queue_len;
    long long active, idle, total;  /* workers */
    long long max_children;
    long long start_time;           /* unix time of the live master, -1 */
    int have_usage;                 /* the account has a cgroup */
    wlf_cg_usage usage;
    wlf_limits limits;
} wlf_acct_metrics;

/* Fill counts and gauges from the masters (status pages, each with its
 * pid and start time) and the counters file. Pure. */
typedef struct {
    long long pid;
    long long started;
    int live;                       /* the slot NAME.sock points at */
    wlf_fpm_status status;
} wlf_master_seen;

void wlf_metrics_fold(wlf_acct_metrics *m, const wlf_master_seen *masters,
                      size_t n, const wlf_counters *retired);

/* The whole exposition, ending in "# EOF\n" (malloc'd). Pure. */
char *wlf_metrics_render(const wlf_acct_metrics *accts, size_t n);

/* ---- reading (files, sockets, /sys: not pure) ---- */

/* <state_dir>/metrics/NAME.counters */
const char *wlf_counters_path(const char *state_dir, const char *name,
                              char *buf, size_t len);
/* Read it; a missing or broken file gives zeros. */
void wlf_counters_read(const char *path, wlf_counters *c);

/*
 * Ask both slots' masters of each of the account's instances (keys: NAME,
 * then NAME.vVERSION of its other PHP versions; status page over their
 * own sockets, timeout_ms each), then read the counters file, and fold.
 * Up and start time are those of the first key's live master. The caller
 * fills name, state, max_children and limits, and the usage.
 */
void wlf_metrics_gather(const char *socket_dir, const char *state_dir,
                        const char *name, const char *const *keys,
                        size_t n_keys, int timeout_ms, wlf_acct_metrics *m);

/* Usage of the account's cgroup: its own group (direct mode) or its slice
 * (systemd mode). 0, or -1 when it has none. */
int wlf_metrics_usage(int systemd, const char *subtree,
                      const wlf_cg_layout *lo, const char *name,
                      wlf_cg_usage *u);

/* Everything about one account: settings, masters, counters file, usage.
 * State is suspended (wlf_account_is_suspended(), or its NAME.sock link
 * says so), running or stopped; the caller may refine it (idle). */
void wlf_metrics_account(const wlf_config *cfg, const wlf_account *acct,
                         const wlf_cg_layout *lo, int timeout_ms,
                         wlf_acct_metrics *m);

/* The exposition of every account of `list` (only: just that one, for a
 * customer's own view), malloc'd. */
char *wlf_metrics_page(const wlf_config *cfg, const wlf_account_list *list,
                       const char *only, int timeout_ms);

/* The content type Prometheus asks for and gets. */
#define WLF_OPENMETRICS_TYPE \
    "application/openmetrics-text; version=1.0.0; charset=utf-8"

#endif
