/* Unit tests for resource limits (cgroup detection, the values written,
 * systemd slices) and the OpenMetrics exposition with its counters file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wlf_cgroup.h"
#include "wlf_metrics.h"

/* this machine's layout: v1 controllers, a cgroup2 mount with only
 * hugetlb to offer */
static const char *mi_v1 =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup "
    "rw,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup "
    "rw,memory\n"
    "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup "
    "rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

/* RHEL 7 style: cpu and cpuacct share a mount */
static const char *mi_v1_joint =
    "25 24 0:22 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:9 - cgroup "
    "cgroup rw,cpu,cpuacct\n"
    "26 24 0:23 / /sys/fs/cgroup/memory rw,nosuid shared:10 - cgroup cgroup "
    "rw,memory\n";

static const char *mi_v2 =
    "30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev shared:4 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";

static void test_detect(void **state)
{
    wlf_cg_layout lo;
    char d[300];
    const char *why;

    (void)state;
    wlf_cgroup_detect(mi_v1, "hugetlb\n", &lo);
    assert_int_equal(lo.mode, WLF_CG_V1);
    assert_string_equal(lo.root[WLF_CG_CPU], "/sys/fs/cgroup/cpu");
    assert_string_equal(lo.root[WLF_CG_CPUACCT], "/sys/fs/cgroup/cpuacct");
    assert_string_equal(lo.root[WLF_CG_MEMORY], "/sys/fs/cgroup/memory");
    assert_string_equal(lo.root[WLF_CG_PIDS], "/sys/fs/cgroup/pids");
    assert_string_equal(lo.root[WLF_CG_IO], "/sys/fs/cgroup/blkio");
    assert_string_equal(wlf_cgroup_dir(&lo, WLF_CG_MEMORY, "wlfcgi", "alice",
                                       d, sizeof(d)),
                        "/sys/fs/cgroup/memory/wlfcgi/alice");
    assert_int_equal(wlf_cgroup_can(&lo, "tasks", &why), 1);

    wlf_cgroup_detect(mi_v1_joint, NULL, &lo);
    assert_int_equal(lo.mode, WLF_CG_V1);
    assert_string_equal(lo.root[WLF_CG_CPU], "/sys/fs/cgroup/cpu,cpuacct");
    assert_string_equal(lo.root[WLF_CG_CPUACCT], "/sys/fs/cgroup/cpu,cpuacct");
    assert_string_equal(lo.root[WLF_CG_PIDS], "");
    assert_int_equal(wlf_cgroup_can(&lo, "tasks", &why), 0);
    assert_non_null(strstr(why, "pids"));
    assert_null(wlf_cgroup_dir(&lo, WLF_CG_PIDS, "wlfcgi", "a", d,
                               sizeof(d)));

    wlf_cgroup_detect(mi_v2, "cpuset cpu io memory hugetlb pids rdma\n", &lo);
    assert_int_equal(lo.mode, WLF_CG_V2);
    assert_string_equal(lo.root[WLF_CG_IO], "/sys/fs/cgroup");
    assert_string_equal(wlf_cgroup_dir(&lo, WLF_CG_CPU, "wlfcgi", NULL, d,
                                       sizeof(d)), "/sys/fs/cgroup/wlfcgi");

    /* v2 without the controllers delegated, and no v1: nothing works */
    wlf_cgroup_detect(mi_v2, "hugetlb\n", &lo);
    assert_int_equal(lo.mode, WLF_CG_NONE);
    assert_int_equal(wlf_cgroup_can(&lo, "cpu", &why), 0);
    assert_non_null(strstr(why, "it has: hugetlb)"));
    wlf_cgroup_detect("", NULL, &lo);
    assert_int_equal(lo.mode, WLF_CG_NONE);
    assert_non_null(strstr(lo.why, "no cgroup hierarchy"));
}

static const char *find_write(const wlf_cg_write *w, size_t n,
                              const char *file)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(w[i].file, file) == 0)
            return w[i].value;
    return NULL;
}

static void test_plan(void **state)
{
    wlf_cg_layout lo;
    wlf_cg_write w[WLF_CG_MAX_WRITES];
    wlf_limits l = { 150, 1LL << 30, 64, 2000 };
    wlf_limits none = { 0, 0, 0, 0 };
    size_t n;

    (void)state;
    wlf_cgroup_detect(mi_v1, NULL, &lo);
    n = wlf_cgroup_plan(&lo, &l, w, WLF_CG_MAX_WRITES);
    assert_int_equal(n, 5);
    assert_string_equal(find_write(w, n, "cpu.cfs_period_us"), "100000");
    assert_string_equal(find_write(w, n, "cpu.cfs_quota_us"), "150000");
    assert_string_equal(find_write(w, n, "memory.limit_in_bytes"),
                        "1073741824");
    assert_string_equal(find_write(w, n, "pids.max"), "64");
    assert_string_equal(find_write(w, n, "blkio.bfq.weight"), "1000");
    n = wlf_cgroup_plan(&lo, &none, w, WLF_CG_MAX_WRITES);
    assert_string_equal(find_write(w, n, "cpu.cfs_quota_us"), "-1");
    assert_string_equal(find_write(w, n, "memory.limit_in_bytes"), "-1");
    assert_string_equal(find_write(w, n, "pids.max"), "max");
    assert_string_equal(find_write(w, n, "blkio.bfq.weight"), "100");

    wlf_cgroup_detect(mi_v2, "cpu io memory pids", &lo);
    n = wlf_cgroup_plan(&lo, &l, w, WLF_CG_MAX_WRITES);
    assert_string_equal(find_write(w, n, "cpu.max"), "150000 100000");
    assert_string_equal(find_write(w, n, "memory.max"), "1073741824");
    assert_string_equal(find_write(w, n, "memory.swap.max"), "0");
    assert_string_equal(find_write(w, n, "pids.max"), "64");
    assert_string_equal(find_write(w, n, "io.weight"), "default 2000");
    n = wlf_cgroup_plan(&lo, &none, w, WLF_CG_MAX_WRITES);
    assert_string_equal(find_write(w, n, "cpu.max"), "max 100000");
    assert_string_equal(find_write(w, n, "memory.max"), "max");
    assert_string_equal(find_write(w, n, "memory.swap.max"), "max");

    wlf_cgroup_detect("", NULL, &lo);
    assert_int_equal(wlf_cgroup_plan(&lo, &l, w, WLF_CG_MAX_WRITES), 0);
}

static void test_cpu_text(void **state)
{
    long long v;
    wlf_err e;
    char buf[16];

    (void)state;
    assert_int_equal(wlf_cpu_parse("50%", &v, &e), 0);
    assert_int_equal(v, 50);
    assert_int_equal(wlf_cpu_parse("150", &v, &e), 0);
    assert_int_equal(v, 150);
    assert_int_equal(wlf_cpu_parse("0", &v, &e), 0);
    assert_int_equal(v, 0);
    assert_int_equal(wlf_cpu_parse("1.5", &v, &e), -1);
    assert_string_equal(e.field, "cpu");
    assert_int_equal(wlf_cpu_parse("-5%", &v, &e), -1);
    assert_int_equal(wlf_cpu_parse("50%%", &v, &e), -1);
    assert_int_equal(wlf_cpu_parse("100001%", &v, &e), -1);
    assert_int_equal(wlf_cpu_parse("", &v, &e), -1);
    assert_string_equal(wlf_cpu_format(150, buf, sizeof(buf)), "150%");
    assert_string_equal(wlf_cpu_format(0, buf, sizeof(buf)), "0");
}

static void test_slice(void **state)
{
    char buf[128], *s;
    wlf_limits l = { 50, 256LL << 20, 64, 0 };
    wlf_limits none = { 0, 0, 0, 0 };

    (void)state;
    assert_string_equal(wlf_slice_name("wlfcgi", "alice", buf, sizeof(buf)),
                        "wlfcgi-alice.slice");
    assert_string_equal(wlf_slice_name("wlfcgi", "my-site", buf, sizeof(buf)),
                        "wlfcgi-my\\x2dsite.slice");
    s = wlf_limits_render_slice("wlfcgi", "alice", &l);
    assert_non_null(strstr(s, "\n[Slice]\n"));
    assert_non_null(strstr(s, "\nCPUQuota=50%\n"));
    assert_non_null(strstr(s, "\nMemoryMax=268435456\n"));
    assert_non_null(strstr(s, "\nMemorySwapMax=0\n"));
    assert_non_null(strstr(s, "\nTasksMax=64\n"));
    assert_null(strstr(s, "IOWeight="));
    free(s);
    s = wlf_limits_render_slice("wlfcgi", "alice", &none);
    assert_non_null(strstr(s, "\nCPUQuota=\n"));
    assert_non_null(strstr(s, "\nMemoryMax=infinity\n"));
    assert_non_null(strstr(s, "\nTasksMax=infinity\n"));
    free(s);
    s = wlf_limits_render_dropin("wlfcgi", "my-site");
    assert_non_null(strstr(s, "[Service]\nSlice=wlfcgi-my\\x2dsite.slice\n"));
    free(s);
}

static void test_stat_value(void **state)
{
    (void)state;
    assert_int_equal(wlf_cgroup_stat_value("usage_usec 1234\nuser_usec 1\n",
                                           "usage_usec"), 1234);
    assert_int_equal(wlf_cgroup_stat_value("oom_kill_disable 0\nunder_oom 0"
                                           "\noom_kill 3\n", "oom_kill"), 3);
    assert_int_equal(wlf_cgroup_stat_value("a 1\n", "b"), -1);
}

static void test_counters(void **state)
{
    wlf_counters c, d;
    wlf_fpm_counts f1 = { 100, 2, 1 }, f2 = { 50, 0, 3 };
    char *t;

    (void)state;
    memset(&c, 0, sizeof(c));
    wlf_counters_retire(&c, 4242, 1000, &f1);
    wlf_counters_retire(&c, 4242, 1001, &f1);     /* the same master */
    assert_int_equal(c.total.requests, 100);
    wlf_counters_retire(&c, 5000, 2000, &f2);
    assert_int_equal(c.total.requests, 150);
    assert_int_equal(c.total.max_children_reached, 4);
    t = wlf_counters_render(&c);
    assert_int_equal(wlf_counters_parse(t, &d), 0);
    free(t);
    assert_int_equal(d.total.requests, 150);
    assert_int_equal(d.total.slow_requests, 2);
    assert_int_equal(d.n_retired, 2);
    assert_int_equal(d.retired[0].pid, 5000);
    assert_true(wlf_counters_retired(&d, 4242, 999));
    assert_false(wlf_counters_retired(&d, 4242, 1500));
    assert_int_equal(wlf_counters_parse("garbage", &d), -1);
    assert_int_equal(d.total.requests, 0);
    assert_int_equal(wlf_counters_parse("wlfcgi-counters 1\nrequests -5\n",
                                        &d), -1);
    for (int i = 0; i < 10; i++)
        wlf_counters_retire(&c, 6000 + i, 3000 + i * 10, &f2);
    assert_int_equal(c.n_retired, WLF_RETIRED_KEEP);
    assert_int_equal(c.retired[0].pid, 6009);
}

static void status(wlf_fpm_status *s, long long conn, long long active,
                   long long idle)
{
    memset(s, 0, sizeof(*s));
    s->accepted_conn = conn;
    s->active_processes = active;
    s->idle_processes = idle;
    s->total_processes = active + idle;
    s->listen_queue = 0;
    s->listen_queue_len = 511;
    s->slow_requests = 0;
    s->max_children_reached = 1;
}

/* A reload: the old master (retired meanwhile or not) and the new one. */
static void test_fold(void **state)
{
    wlf_counters ret;
    wlf_master_seen ms[2];
    wlf_acct_metrics m;
    wlf_fpm_counts final = { 100, 0, 1 };

    (void)state;
    memset(&ret, 0, sizeof(ret));
    memset(&m, 0, sizeof(m));
    memset(ms, 0, sizeof(ms));
    ms[0].pid = 10;
    ms[0].started = 1000;
    status(&ms[0].status, 100, 1, 0);
    ms[1].pid = 20;
    ms[1].started = 2000;
    ms[1].live = 1;
    status(&ms[1].status, 7, 1, 2);
    wlf_metrics_fold(&m, ms, 2, &ret);
    assert_int_equal(m.counts.requests, 107);
    assert_true(m.counts_known);
    assert_int_equal(m.total, 4);
    assert_int_equal(m.start_time, 2000);
    assert_int_equal(m.up, 1);
    /* the old master retired: the file holds its counts, it is left out */
    wlf_counters_retire(&ret, 10, 1000, &final);
    wlf_metrics_fold(&m, ms, 2, &ret);
    assert_int_equal(m.counts.requests, 107);
    wlf_metrics_fold(&m, &ms[1], 1, &ret);
    assert_int_equal(m.counts.requests, 107);
    assert_int_equal(m.counts.max_children_reached, 2);
    /* nothing running */
    wlf_metrics_fold(&m, NULL, 0, &ret);
    assert_int_equal(m.counts.requests, 100);
    assert_int_equal(m.up, 0);
    assert_int_equal(m.active, -1);
}

static void test_render(void **state)
{
    wlf_acct_metrics m[2];
    char *t;

    (void)state;
    memset(m, 0, sizeof(m));
    strcpy(m[0].name, "alice");
    m[0].state = WLF_ACCT_RUNNING;
    m[0].up = 1;
    m[0].counts.requests = 12;
    m[0].listen_queue = 0;
    m[0].active = 1;
    m[0].idle = 0;
    m[0].total = 1;
    m[0].max_children = 5;
    m[0].start_time = 1700000000;
    m[0].have_usage = 1;
    m[0].usage.cpu_usec = 1500000;
    m[0].usage.memory = 4096;
    m[0].usage.tasks = 3;
    m[0].usage.oom_kills = 0;
    m[0].limits.cpu = 50;
    m[0].limits.memory = 1LL << 30;
    m[0].counts_known = m[1].counts_known = 1;
    strcpy(m[1].name, "bob");
    m[1].state = WLF_ACCT_STOPPED;
    m[1].listen_queue = m[1].listen_queue_len = -1;
    m[1].active = m[1].idle = m[1].total = m[1].start_time = -1;
    m[1].max_children = 5;
    t = wlf_metrics_render(m, 2);
    assert_non_null(t);
    assert_non_null(strstr(t, "# TYPE wlfcgi_requests counter\n"));
    assert_non_null(strstr(t, "wlfcgi_requests_total{account=\"alice\"} 12\n"
                              "wlfcgi_requests_total{account=\"bob\"} 0\n"));
    assert_non_null(strstr(t, "wlfcgi_cpu_seconds_total{account=\"alice\"} "
                              "1.500000\n"));
    assert_non_null(strstr(t, "# UNIT wlfcgi_memory_bytes bytes\n"));
    assert_non_null(strstr(t, "wlfcgi_cpu_limit{account=\"alice\"} 0.500000"));
    assert_null(strstr(t, "wlfcgi_cpu_limit{account=\"bob\"}"));
    assert_null(strstr(t, "wlfcgi_active_workers{account=\"bob\"}"));
    assert_non_null(strstr(t, "wlfcgi_state{account=\"bob\","
                              "wlfcgi_state=\"stopped\"} 1\n"));
    assert_non_null(strstr(t, "wlfcgi_state{account=\"alice\","
                              "wlfcgi_state=\"stopped\"} 0\n"));
    assert_string_equal(t + strlen(t) - 6, "# EOF\n");
    free(t);
    /* a master that did not answer: no counter rather than a low one */
    m[0].counts_known = 0;
    m[1].counts_known = 1;
    t = wlf_metrics_render(m, 2);
    assert_null(strstr(t, "wlfcgi_requests_total{account=\"alice\"}"));
    assert_non_null(strstr(t, "wlfcgi_requests_total{account=\"bob\"} 0"));
    assert_non_null(strstr(t, "wlfcgi_memory_bytes{account=\"alice\"}"));
    free(t);
    t = wlf_metrics_render(NULL, 0);
    assert_string_equal(t + strlen(t) - 6, "# EOF\n");
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_detect),
        cmocka_unit_test(test_plan),
        cmocka_unit_test(test_cpu_text),
        cmocka_unit_test(test_slice),
        cmocka_unit_test(test_stat_value),
        cmocka_unit_test(test_counters),
        cmocka_unit_test(test_fold),
        cmocka_unit_test(test_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
