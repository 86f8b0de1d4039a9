/* libFuzzer target: mod_wlfcgi's per-request rules and parsers
 * (wlf_policy, wlf_upload, wlf_reuse, wlf_status): what they return must
 * be consistent with their input, whatever it is. The first byte picks
 * the function, the rest is its text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wlf_buf.h"
#include "wlf_policy.h"
#include "wlf_reuse.h"
#include "wlf_status.h"
#include "wlf_upload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[4100], out[64];
    wlf_err err;

    if (size < 1 || size > sizeof(text))
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';

    switch (data[0] % 6) {
    case 0: {
        /* reuse sizing from arbitrary numbers: never more than allowed */
        wlf_reuse_plan plan;
        long long mc = (long long)(unsigned char)text[0] * 40;
        int th = size > 2 ? (unsigned char)text[1] : 1;
        int procs = size > 3 ? (unsigned char)text[2] : 1;
        wlf_reuse_plan_for(mc, 30, th, procs, size > 4 && (text[3] & 1)
                           ? "static" : "ondemand", &plan);
        if (plan.enabled &&
            (long long)(procs < 1 ? 1 : procs) * plan.hmax > mc - 1)
            abort();
        break;
    }
    case 1: {
        /* "CL\0TE": Content-Length, then maybe a Transfer-Encoding */
        const char *te = strchr(text, '|');
        long long len;
        char cl[64];
        size_t n = te ? (size_t)(te - text) : strlen(text);
        if (n >= sizeof(cl))
            break;
        memcpy(cl, text, n);
        cl[n] = '\0';
        wlf_body_verdict v = wlf_body_check(cl, te ? te + 1 : NULL,
                                            8388608, &len);
        if (v == WLF_BODY_TOO_LARGE && len <= 8388608)
            abort();
        if (v == WLF_BODY_FITS && (len <= 0 || len > 8388608))
            abort();
        if (v == WLF_BODY_CHUNKED && te == NULL)
            abort();
        break;
    }
    case 2: {
        char owner[40];
        wlf_sock_class c = wlf_sock_classify(text, "/run/wlfcgi", "alice",
                                             owner, sizeof(owner));
        if (c == WLF_SOCK_OWN && strcmp(owner, "alice") != 0)
            abort();
        if ((c == WLF_SOCK_OWN || c == WLF_SOCK_FOREIGN) &&
            (strncmp(text, "/run/wlfcgi/", 12) != 0 ||
             strchr(text + 12, '/') != NULL ||
             wlf_valid_account_name(owner, &err) < 0))
            abort();
        if (c == WLF_SOCK_OUTSIDE && strncmp(text, "/run/wlfcgi/", 12) == 0)
            abort();
        break;
    }
    case 3: {
        char acct[40];
        if (wlf_worker_host_account(text, acct, sizeof(acct)) &&
            (strncasecmp(text, "wlf-", 4) != 0 || acct[0] == '\0'))
            abort();
        break;
    }
    case 4: {
        const char *exts[] = { ".php", ".phtml" };
        if (wlf_ext_valid(text, &err) == 0 &&
            (text[0] != '.' || strlen(text) < 2))
            abort();
        if (wlf_ext_match(exts, 2, text) && strlen(text) < 4)
            abort();
        break;
    }
    case 5: {
        /* JSON strings of the status page: quoted, with no raw control
         * characters or unescaped quotes */
        wlf_buf b = { 0 };
        char *q;
        size_t need;
        wlf_buf_json_string(&b, text);
        if ((q = wlf_buf_finish(&b)) == NULL)
            break;
        need = strlen(q);
        if (need < 2 || q[0] != '"' || q[need - 1] != '"')
            abort();
        for (size_t i = 1; i + 1 < need; i++) {
            if ((unsigned char)q[i] < 0x20)
                abort();
            if (q[i] == '\\')
                i++;
            else if (q[i] == '"')
                abort();
        }
        free(q);
        break;
    }
    }
    return 0;
}
