/*
 * wlf_validate.h - checks for everything that ends up in a file, a path or
 * a unit name. Nothing from the command line or an account file is written
 * anywhere before it passed one of these.
 */
#ifndef WLF_VALIDATE_H
#define WLF_VALIDATE_H

#include <stddef.h>

#include "wlf_err.h"

#define WLF_NAME_MAX   32    /* account names: also unit and file names */
#define WLF_DOMAIN_MAX 253
#define WLF_INI_VALUE_MAX 1024

/* ^[a-z][a-z0-9_-]{0,31}$ : safe as file name, pool name and unit instance */
int wlf_valid_account_name(const char *name, wlf_err *err);

/* A Unix user or group name as shadow-utils accepts it (no lookup). */
int wlf_valid_unix_name(const char *name, const char *field, wlf_err *err);

/*
 * A host name as used in ServerName/ServerAlias: labels of [a-z0-9-], not
 * starting or ending with '-', 1..63 bytes each, 253 in all, optionally a
 * leading "*." wildcard. Lower-case only (callers lower-case first).
 */
int wlf_valid_domain(const char *domain, wlf_err *err);

/* Lower-case a domain in place (host names are case-insensitive). */
void wlf_domain_lower(char *domain);

/* Does `host` match `pattern` (exact, or "*.example.com" wildcard)? */
int wlf_domain_matches(const char *pattern, const char *host);

/* An ini directive name: [a-z][a-z0-9_.]* up to 64 bytes. */
int wlf_valid_ini_key(const char *key, const char *field, wlf_err *err);

/*
 * An ini value that can be written inside double quotes in a php-fpm pool
 * file and php.ini: printable, no quote, backslash, '$' (variable expansion)
 * or control characters, at most WLF_INI_VALUE_MAX bytes.
 */
int wlf_valid_ini_value(const char *value, const char *field, wlf_err *err);

/* A PHP extension name as extension= takes it: [a-z0-9_]{1,64}, no
 * path, no ".so" */
int wlf_valid_extension_name(const char *name, const char *field,
                             wlf_err *err);

/* An environment variable name: [A-Za-z_][A-Za-z0-9_]{0,63} */
int wlf_valid_env_name(const char *name, const char *field, wlf_err *err);

/* A line of text for people (a reason, a date): at most `max` bytes, no
 * control characters (UTF-8 is fine). */
int wlf_valid_text(const char *text, const char *field, size_t max,
                   wlf_err *err);

/* An absolute path without "..", "//", control chars or quotes. */
int wlf_valid_abs_path(const char *path, const char *field, wlf_err *err);

/* A PHP version label such as "8.2", "8.3-zts" or "system":
 * [a-z0-9][a-z0-9._-]{0,15}, not ending in ".a" or ".b" (an instance
 * NAME.vLABEL would read as slot a or b of another one). */
#define WLF_VERSION_MAX 16
int wlf_valid_php_version(const char *version, wlf_err *err);

/* cgroup_subtree: a-z first, then a-z, 0-9, '_' (no '-': in a systemd
 * slice name it would mean another level), at most 32. */
int wlf_valid_cgroup_subtree(const char *name, wlf_err *err);

#endif
