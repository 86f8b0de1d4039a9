/* libFuzzer target: the FastCGI record parser and status page parser that
 * fpmctl status and mod_wlfcgi's status handler use (wlf_fcgi). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wlf_fcgi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wlf_fcgi_response resp;
    wlf_fcgi_record rec;
    wlf_fpm_status st;
    const char *body;
    size_t body_len, off = 0;

    /* record by record: never read past the buffer, always progress */
    while (off < size) {
        ssize_t n = wlf_fcgi_parse_record(data + off, size - off, &rec);
        if (n <= 0)
            break;
        if ((size_t)n < 8 || off + (size_t)n > size)
            abort();
        off += (size_t)n;
    }
    memset(&resp, 0, sizeof(resp));
    if (wlf_fcgi_collect(data, size, &resp) >= 0 && resp.out) {
        if (strlen(resp.out) > resp.out_len)
            abort();
        wlf_fcgi_http_status(resp.out, resp.out_len, &body, &body_len);
        if (body < resp.out || body + body_len > resp.out + resp.out_len)
            abort();
        wlf_fpm_status_parse(body, body_len, &st);
    }
    wlf_fcgi_response_free(&resp);
    wlf_fpm_status_parse((const char *)data, size, &st);
    return 0;
}
