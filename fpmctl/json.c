/*
 * json.c - JSON writer.
 */
#include "json.h"

#include <string.h>

static void before_value(jw *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->count[w->depth]++ > 0)
        sb_append(&w->b, ",", 1);
}

static void open_level(jw *w, char c)
{
    before_value(w);
    sb_append(&w->b, &c, 1);
    if (w->depth + 1 < JW_DEPTH)
        w->depth++;
    w->count[w->depth] = 0;
}

static void close_level(jw *w, char c)
{
    sb_append(&w->b, &c, 1);
    if (w->depth > 0)
        w->depth--;
}

void jw_obj(jw *w)      { open_level(w, '{'); }
void jw_obj_end(jw *w)  { close_level(w, '}'); }
void jw_arr(jw *w)      { open_level(w, '['); }
void jw_arr_end(jw *w)  { close_level(w, ']'); }

static void put_string(jw *w, const char *s)
{
    static const char hex[] = "0123456789abcdef";

    sb_append(&w->b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '"':  sb_append(&w->b, "\\\"", 2); break;
        case '\\': sb_append(&w->b, "\\\\", 2); break;
        case '\n': sb_append(&w->b, "\\n", 2); break;
        case '\r': sb_append(&w->b, "\\r", 2); break;
        case '\t': sb_append(&w->b, "\\t", 2); break;
        default:
            if (c < 0x20 || c == 0x7f) {
                char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
                sb_append(&w->b, u, 6);
            }
            else {
                sb_append(&w->b, s, 1);
            }
        }
    }
    sb_append(&w->b, "\"", 1);
}

void jw_key(jw *w, const char *key)
{
    before_value(w);
    put_string(w, key);
    sb_append(&w->b, ":", 1);
    w->after_key = 1;
}

void jw_str(jw *w, const char *s)
{
    if (s == NULL) {
        jw_null(w);
        return;
    }
    before_value(w);
    put_string(w, s);
}

void jw_int(jw *w, long long v)
{
    before_value(w);
    sb_printf(&w->b, "%lld", v);
}

void jw_double(jw *w, double v)
{
    before_value(w);
    sb_printf(&w->b, "%.6f", v);
}

void jw_bool(jw *w, int v)
{
    before_value(w);
    sb_printf(&w->b, "%s", v ? "true" : "false");
}

void jw_null(jw *w)
{
    before_value(w);
    sb_append(&w->b, "null", 4);
}

void jw_kstr(jw *w, const char *key, const char *s)
{
    jw_key(w, key);
    jw_str(w, s);
}

void jw_kint(jw *w, const char *key, long long v)
{
    jw_key(w, key);
    jw_int(w, v);
}

void jw_kbool(jw *w, const char *key, int v)
{
    jw_key(w, key);
    jw_bool(w, v);
}

char *jw_finish(jw *w)
{
    sb_append(&w->b, "\n", 1);
    return sb_finish(&w->b);
}
