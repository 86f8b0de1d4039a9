/* libFuzzer target: what limits and metrics read from files the kernel or
 * an earlier fpmctl wrote: mountinfo and cgroup.controllers
 * (wlf_cgroup_detect), the counters file (wlf_counters_parse), cpu= text
 * (wlf_cpu_parse), cgroup stat files (wlf_cgroup_stat_value). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wlf_cgroup.h"
#include "wlf_metrics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), *split;
    wlf_cg_layout lo;
    wlf_cg_write w[WLF_CG_MAX_WRITES];
    wlf_limits l = { 150, 1LL << 30, 64, 500 };
    wlf_counters c, d;
    long long pct;
    wlf_err err;
    char *again;

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    /* before a NUL byte: mountinfo; after it: cgroup.controllers */
    split = memchr(data, '\0', size) ? text + strlen(text) + 1 : NULL;
    wlf_cgroup_detect(text, split, &lo);
    if (lo.mode != WLF_CG_NONE && wlf_cgroup_plan(&lo, &l, w,
                                                  WLF_CG_MAX_WRITES) == 0)
        abort();
    (void)wlf_cgroup_stat_value(text, "usage_usec");
    if (wlf_counters_parse(text, &c) == 0) {
        /* what parses renders and parses back the same */
        if ((again = wlf_counters_render(&c)) == NULL)
            abort();
        if (wlf_counters_parse(again, &d) != 0 ||
            memcmp(&c.total, &d.total, sizeof(c.total)) != 0 ||
            c.n_retired != d.n_retired)
            abort();
        free(again);
    }
    if (size < 32 && wlf_cpu_parse(text, &pct, &err) == 0 &&
        (pct < 0 || pct > 100000))
        abort();
    free(text);
    return 0;
}
