/*
 * wlf_metrics.c - the OpenMetrics exposition and the counters file.
 */
#include "wlf_metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_names[WLF_ACCT_STATE_COUNT] = {
    "running", "idle", "stopped", "suspended"
};

const char *wlf_acct_state_name(wlf_acct_state s)
{
    return s < WLF_ACCT_STATE_COUNT ? state_names[s] : "stopped";
}

/* ---- counters file ---- */

int wlf_counters_parse(const char *text, wlf_counters *c)
{
    const char *p = text;

    memset(c, 0, sizeof(*c));
    if (text == NULL || strncmp(text, "wlfcgi-counters 1\n", 18) != 0)
        return -1;
    p += 18;
    while (*p) {
        char key[32];
        long long a = 0, b = 0;
        int n = sscanf(p, "%31s %lld %lld", key, &a, &b);
        const char *eol = strchr(p, '\n');

        if (n < 2 || a < 0) {
            memset(c, 0, sizeof(*c));
            return -1;
        }
        if (strcmp(key, "requests") == 0)
            c->total.requests = a;
        else if (strcmp(key, "slow_requests") == 0)
            c->total.slow_requests = a;
        else if (strcmp(key, "max_children_reached") == 0)
            c->total.max_children_reached = a;
        else if (strcmp(key, "retired") == 0 && n == 3 &&
                 c->n_retired < WLF_RETIRED_KEEP) {
            c->retired[c->n_retired].pid = a;
            c->retired[c->n_retired].started = b;
            c->n_retired++;
        }
        /* unknown keys: a newer fpmctl wrote them; keep going */
        if (eol == NULL)
            break;
        p = eol + 1;
    }
    return 0;
}

char *wlf_counters_render(const wlf_counters *c)
{
    size_t cap = 256 + WLF_RETIRED_KEEP * 48, off;
    char *s = malloc(cap);

    if (s == NULL)
        return NULL;
    off = (size_t)snprintf(s, cap, "wlfcgi-counters 1\nrequests %lld\n"
                           "slow_requests %lld\nmax_children_reached %lld\n",
                           c->total.requests, c->total.slow_requests,
                           c->total.max_children_reached);
    for (size_t i = 0; i < c->n_retired && off < cap; i++)
        off += (size_t)snprintf(s + off, cap - off, "retired %lld %lld\n",
                                c->retired[i].pid, c->retired[i].started);
    return s;
}

int wlf_counters_retired(const wlf_counters *c, long long pid,
                         long long started)
{
    for (size_t i = 0; i < c->n_retired; i++) {
        long long d = c->retired[i].started - started;
        if (c->retired[i].pid == pid && d >= -2 && d <= 2)
            return 1;
    }
    return 0;
}

static long long nonneg(long long v)
{
    return v > 0 ? v : 0;
}

void wlf_counters_retire(wlf_counters *c, long long pid, long long started,
                         const wlf_fpm_counts *final)
{
    if (wlf_counters_retired(c, pid, started))
        return;
    c->total.requests += nonneg(final->requests);
    c->total.slow_requests += nonneg(final->slow_requests);
    c->total.max_children_reached += nonneg(final->max_children_reached);
    memmove(&c->retired[1], &c->retired[0],
            (WLF_RETIRED_KEEP - 1) * sizeof(c->retired[0]));
    c->retired[0].pid = pid;
    c->retired[0].started = started;
    if (c->n_retired < WLF_RETIRED_KEEP)
        c->n_retired++;
}

/* ---- folding ---- */

static long long add_known(long long a, long long b)
{
    if (b < 0)
        return a;
    return a < 0 ? b : a + b;
}

void wlf_metrics_fold(wlf_acct_metrics *m, const wlf_master_seen *masters,
                      size_t n, const wlf_counters *retired)
{
    m->counts = retired->total;
    m->counts_known = 1;
    m->listen_queue = m->listen_queue_len = -1;
    m->active = m->idle = m->total = -1;
    m->start_time = -1;
    m->up = 0;
    for (size_t i = 0; i < n; i++) {
        const wlf_master_seen *ms = &masters[i];
        const wlf_fpm_status *s = &ms->status;

        if (!wlf_counters_retired(retired, ms->pid, ms->started)) {
            m->counts.requests += nonneg(s->accepted_conn);
            m->counts.slow_requests += nonneg(s->slow_requests);
            m->counts.max_children_reached += nonneg(s->max_children_reached);
        }
        /* a draining old master still works for the account */
        m->listen_queue = add_known(m->listen_queue, s->listen_queue);
        m->active = add_known(m->active, s->active_processes);
        m->idle = add_known(m->idle, s->idle_processes);
        m->total = add_known(m->total, s->total_processes);
        if (ms->live) {
            m->up = 1;
            m->start_time = ms->started;
            m->listen_queue_len = s->listen_queue_len;
        }
    }
}

/* ---- rendering ---- */

typedef struct {
    char *s;
    size_t len, cap;
    int failed;
} mbuf;

static void put(mbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void put(mbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->failed)
        return;
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t ncap = b->cap * 2 + (size_t)n + 1;
        char *ns = realloc(b->s, ncap);
        if (ns == NULL) {
            b->failed = 1;
            return;
        }
        b->s = ns;
        b->cap = ncap;
    }
}

/* Account names are [a-z0-9_-] (wlf_valid_account_name), so a label
 * value needs no escaping; anything else is dropped, not trusted. */
static const char *label(const char *name, char *buf, size_t len)
{
    size_t o = 0;

    for (const char *p = name; *p && o + 1 < len; p++)
        if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_')
            buf[o++] = *p;
    buf[o] = '\0';
    return buf;
}

typedef struct {
    const char *name;       /* family name */
    const char *type;       /* counter, gauge */
    const char *unit;       /* "" or seconds/bytes */
    const char *help;
} family;

static void head(mbuf *b, const family *f)
{
    put(b, "# TYPE %s %s\n", f->name, f->type);
    if (f->unit[0])
        put(b, "# UNIT %s %s\n", f->name, f->unit);
    put(b, "# HELP %s %s\n", f->name, f->help);
}

/* One sample: counters get _total, values < 0 are left out. */
static void sample(mbuf *b, const family *f, const char *acct, long long v)
{
    if (v < 0)
        return;
    put(b, "%s%s{account=\"%s\"} %lld\n", f->name,
        strcmp(f->type, "counter") == 0 ? "_total" : "", acct, v);
}

static void sample_double(mbuf *b, const family *f, const char *acct,
                          double v)
{
    put(b, "%s%s{account=\"%s\"} %.6f\n", f->name,
        strcmp(f->type, "counter") == 0 ? "_total" : "", acct, v);
}

enum {
    M_REQUESTS, M_SLOW, M_MAXCHILD, M_QUEUE, M_QUEUE_LEN, M_ACTIVE, M_IDLE,
    M_WORKERS, M_MAX_CHILDREN, M_START, M_UP, M_CPU, M_MEM, M_TASKS,
    M_OOM, M_CPU_LIMIT, M_MEM_LIMIT, M_TASKS_LIMIT, M_COUNT
};

static const family fams[M_COUNT] = {
    [M_REQUESTS] = { "wlfcgi_requests", "counter", "",
        "Requests the account's php-fpm accepted (its 'accepted conn': "
        "one per FastCGI request, also on a kept-alive connection), over "
        "all its instances" },
    [M_SLOW] = { "wlfcgi_slow_requests", "counter", "",
        "Requests that ran longer than request_slowlog_timeout" },
    [M_MAXCHILD] = { "wlfcgi_max_children_reached", "counter", "",
        "Times php-fpm wanted another worker but max_children were running" },
    [M_QUEUE] = { "wlfcgi_listen_queue", "gauge", "",
        "Connections waiting for a free worker" },
    [M_QUEUE_LEN] = { "wlfcgi_listen_queue_length", "gauge", "",
        "Size of the socket's listen queue" },
    [M_ACTIVE] = { "wlfcgi_active_workers", "gauge", "",
        "Workers serving a request" },
    [M_IDLE] = { "wlfcgi_idle_workers", "gauge", "",
        "Workers waiting for a request" },
    [M_WORKERS] = { "wlfcgi_workers", "gauge", "",
        "Workers (active and idle), a draining old instance's included" },
    [M_MAX_CHILDREN] = { "wlfcgi_max_children", "gauge", "",
        "The account's max_children setting" },
    [M_START] = { "wlfcgi_start_time_seconds", "gauge", "seconds",
        "Unix time the live php-fpm master started" },
    [M_UP] = { "wlfcgi_up", "gauge", "",
        "1 when the live instance answered its status page" },
    [M_CPU] = { "wlfcgi_cpu_seconds", "counter", "seconds",
        "CPU time of the account's processes (its cgroup)" },
    [M_MEM] = { "wlfcgi_memory_bytes", "gauge", "bytes",
        "Memory charged to the account's cgroup (page cache included)" },
    [M_TASKS] = { "wlfcgi_tasks", "gauge", "",
        "Processes and threads in the account's cgroup" },
    [M_OOM] = { "wlfcgi_oom_kills", "counter", "",
        "Processes the kernel killed for the account's memory limit" },
    [M_CPU_LIMIT] = { "wlfcgi_cpu_limit", "gauge", "",
        "The cpu limit in cores (1.5 = 150%); absent: no limit" },
    [M_MEM_LIMIT] = { "wlfcgi_memory_limit_bytes", "gauge", "bytes",
        "The memory limit; absent: no limit" },
    [M_TASKS_LIMIT] = { "wlfcgi_tasks_limit", "gauge", "",
        "The tasks limit; absent: no limit" },
};

char *wlf_metrics_render(const wlf_acct_metrics *accts, size_t n)
{
    mbuf b = { NULL, 0, 0, 0 };
    char lab[WLF_NAME_MAX + 1];

    b.cap = 4096 + n * 1800;
    if ((b.s = malloc(b.cap)) == NULL)
        return NULL;
    b.s[0] = '\0';

    /* OpenMetrics: all samples of a family together, family by family */
    for (int f = 0; f < M_COUNT; f++) {
        const family *fam = &fams[f];
        head(&b, fam);
        for (size_t i = 0; i < n; i++) {
            const wlf_acct_metrics *m = &accts[i];
            const wlf_cg_usage *u = &m->usage;
            label(m->name, lab, sizeof(lab));
            switch (f) {
            /* a master that did not answer (busy, all workers taken) has
             * counts we do not know: a gap, not a counter going back */
            case M_REQUESTS:
                if (m->counts_known)
                    sample(&b, fam, lab, m->counts.requests);
                break;
            case M_SLOW:
                if (m->counts_known)
                    sample(&b, fam, lab, m->counts.slow_requests);
                break;
            case M_MAXCHILD:
                if (m->counts_known)
                    sample(&b, fam, lab, m->counts.max_children_reached);
                break;
            case M_QUEUE: sample(&b, fam, lab, m->listen_queue); break;
            case M_QUEUE_LEN: sample(&b, fam, lab, m->listen_queue_len);
                break;
            case M_ACTIVE: sample(&b, fam, lab, m->active); break;
            case M_IDLE: sample(&b, fam, lab, m->idle); break;
            case M_WORKERS: sample(&b, fam, lab, m->total); break;
            case M_MAX_CHILDREN: sample(&b, fam, lab, m->max_children); break;
            case M_START: sample(&b, fam, lab, m->start_time); break;
            case M_UP: sample(&b, fam, lab, m->up ? 1 : 0); break;
            case M_CPU:
                if (m->have_usage && u->cpu_usec >= 0)
                    sample_double(&b, fam, lab, (double)u->cpu_usec / 1e6);
                break;
            case M_MEM:
                if (m->have_usage)
                    sample(&b, fam, lab, u->memory);
                break;
            case M_TASKS:
                if (m->have_usage)
                    sample(&b, fam, lab, u->tasks);
                break;
            case M_OOM:
                if (m->have_usage)
                    sample(&b, fam, lab, u->oom_kills);
                break;
            case M_CPU_LIMIT:
                if (m->limits.cpu)
                    sample_double(&b, fam, lab, (double)m->limits.cpu / 100);
                break;
            case M_MEM_LIMIT:
                if (m->limits.memory)
                    sample(&b, fam, lab, m->limits.memory);
                break;
            case M_TASKS_LIMIT:
                if (m->limits.tasks)
                    sample(&b, fam, lab, m->limits.tasks);
                break;
            }
        }
    }
    /* the state as a StateSet: one sample per state, exactly one is 1 */
    put(&b, "# TYPE wlfcgi_state stateset\n"
        "# HELP wlfcgi_state State of the account's instance\n");
    for (size_t i = 0; i < n; i++)
        for (int s = 0; s < WLF_ACCT_STATE_COUNT; s++)
            put(&b, "wlfcgi_state{account=\"%s\",wlfcgi_state=\"%s\"} %d\n",
                label(accts[i].name, lab, sizeof(lab)), state_names[s],
                accts[i].state == (wlf_acct_state)s);
    put(&b, "# EOF\n");
    if (b.failed) {
        free(b.s);
        return NULL;
    }
    return b.s;
}
