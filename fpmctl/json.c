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
        wlf_buf_append(&w->b, ",", 1);
}

static void open_level(jw *w, char c)
{
    before_value(w);
    wlf_buf_append(&w->b, &c, 1);
    if (w->depth + 1 < JW_DEPTH)
        w->depth++;
    w->count[w->depth] = 0;
}

static void close_level(jw *w, char c)
{
    wlf_buf_append(&w->b, &c, 1);
    if (w->depth > 0)
        w->depth--;
}

void jw_obj(jw *w)      { open_level(w, '{'); }
void jw_obj_end(jw *w)  { close_level(w, '}'); }
void jw_arr(jw *w)      { open_level(w, '['); }
void jw_arr_end(jw *w)  { close_level(w, ']'); }

void jw_key(jw *w, const char *key)
{
    before_value(w);
    wlf_buf_json_string(&w->b, key);
    wlf_buf_append(&w->b, ":", 1);
    w->after_key = 1;
}

void jw_str(jw *w, const char *s)
{
    if (s == NULL) {
        jw_null(w);
        return;
    }
    before_value(w);
    wlf_buf_json_string(&w->b, s);
}

void jw_int(jw *w, long long v)
{
    before_value(w);
    wlf_buf_printf(&w->b, "%lld", v);
}

void jw_double(jw *w, double v)
{
    before_value(w);
    wlf_buf_printf(&w->b, "%.6f", v);
}

void jw_bool(jw *w, int v)
{
    before_value(w);
    wlf_buf_printf(&w->b, "%s", v ? "true" : "false");
}

void jw_null(jw *w)
{
    before_value(w);
    wlf_buf_append(&w->b, "null", 4);
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
    wlf_buf_append(&w->b, "\n", 1);
    return wlf_buf_finish(&w->b);
}
