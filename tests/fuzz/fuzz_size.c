/* libFuzzer target: size parsing and formatting (wlf_size). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wlf_size.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[64], buf[32];
    long long bytes, again;
    wlf_err err;

    if (size >= sizeof(text))
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (wlf_size_parse(text, "size", &bytes, &err) == 0) {
        /* whatever parses must format back to the same value */
        if (bytes < 0 || bytes > WLF_SIZE_MAX_BYTES)
            abort();
        wlf_size_format(bytes, buf, sizeof(buf));
        if (wlf_size_parse(buf, "size", &again, &err) != 0 || again != bytes)
            abort();
    }
    else if (strchr(err.msg, '\n') != NULL) {
        abort();    /* errors are one line */
    }
    return 0;
}
