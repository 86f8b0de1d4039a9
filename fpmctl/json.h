/*
 * json.h - a small JSON writer for `--json` output.
 *
 * Commas are placed automatically: call jw_key() before each member of an
 * object, then one value call. Strings are escaped per RFC 8259; bytes
 * >= 0x80 pass through (file and user names are the admin's UTF-8).
 */
#ifndef FPM_JSON_H
#define FPM_JSON_H

#include "wlf_buf.h"

#define JW_DEPTH 16

/*
 * The version of fpmctl's --json output, the "schema" member of every
 * object at its top (each element of list's and status's arrays, the
 * object of show and check). It goes up when a member changes meaning
 * or goes away, not when members are added. Documented in fpmctl(8).
 */
#define FPM_JSON_SCHEMA 1

typedef struct {
    wlf_buf b;
    int depth;
    int count[JW_DEPTH];    /* values written at each level */
    int after_key;
} jw;

void jw_obj(jw *w);
void jw_obj_end(jw *w);
void jw_arr(jw *w);
void jw_arr_end(jw *w);
void jw_key(jw *w, const char *key);
void jw_str(jw *w, const char *s);      /* NULL writes null */
void jw_int(jw *w, long long v);
void jw_double(jw *w, double v);   /* six decimals */
void jw_bool(jw *w, int v);
void jw_null(jw *w);
/* key + value shorthands */
void jw_kstr(jw *w, const char *key, const char *s);
void jw_kint(jw *w, const char *key, long long v);
void jw_kbool(jw *w, const char *key, int v);
/* The document with a final newline (malloc'd), or NULL on OOM. */
char *jw_finish(jw *w);

#endif
