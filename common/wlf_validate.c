#include "wlf_validate.h"

#include <ctype.h>
#include <string.h>

static int is_lower_alnum(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Show at most 40 printable bytes of user input in an error message. */
static const char *shown(const char *s, char *buf, size_t len)
{
    size_t i;

    for (i = 0; s[i] && i + 1 < len && i < 40; i++)
        buf[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
    buf[i] = '\0';
    return buf;
}

int wlf_valid_account_name(const char *name, wlf_err *err)
{
    char b[48];
    size_t len = name ? strlen(name) : 0;

    if (len == 0)
        return wlf_fail(err, "name", "account name is empty");
    if (len > WLF_NAME_MAX)
        return wlf_fail(err, "name", "account name '%s...' is longer than %d "
                        "characters", shown(name, b, 24), WLF_NAME_MAX);
    if (!(name[0] >= 'a' && name[0] <= 'z'))
        return wlf_fail(err, "name", "account name '%s' must start with a "
                        "lower-case letter", shown(name, b, sizeof(b)));
    for (size_t i = 1; i < len; i++) {
        if (!is_lower_alnum(name[i]) && name[i] != '-' && name[i] != '_')
            return wlf_fail(err, "name", "account name '%s' may only contain "
                            "a-z, 0-9, '-' and '_'", shown(name, b, sizeof(b)));
    }
    return 0;
}

int wlf_valid_unix_name(const char *name, const char *field, wlf_err *err)
{
    char b[48];
    size_t len = name ? strlen(name) : 0;

    if (len == 0)
        return wlf_fail(err, field, "empty name");
    if (len > 32)
        return wlf_fail(err, field, "'%s...' is longer than 32 characters",
                        shown(name, b, 24));
    if (!(isalpha((unsigned char)name[0]) || name[0] == '_'))
        return wlf_fail(err, field, "'%s' is not a valid user or group name",
                        shown(name, b, sizeof(b)));
    for (size_t i = 1; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!isalnum(c) && c != '_' && c != '-' && c != '.' &&
            !(c == '$' && i == len - 1))
            return wlf_fail(err, field, "'%s' is not a valid user or group "
                            "name", shown(name, b, sizeof(b)));
    }
    return 0;
}

void wlf_domain_lower(char *domain)
{
    for (; *domain; domain++)
        *domain = (char)tolower((unsigned char)*domain);
}

int wlf_valid_domain(const char *domain, wlf_err *err)
{
    char b[48];
    const char *p = domain;
    size_t len = domain ? strlen(domain) : 0;

    if (len == 0)
        return wlf_fail(err, "domain", "empty domain");
    if (len > WLF_DOMAIN_MAX)
        return wlf_fail(err, "domain", "domain '%s...' is longer than %d "
                        "characters", shown(domain, b, 24), WLF_DOMAIN_MAX);
    if (p[0] == '*' && p[1] == '.')
        p += 2;
    for (;;) {
        size_t label = 0;
        while (is_lower_alnum(p[label]) || p[label] == '-')
            label++;
        if (label == 0 || label > 63 || p[0] == '-' || p[label - 1] == '-')
            return wlf_fail(err, "domain", "'%s' is not a valid domain name",
                            shown(domain, b, sizeof(b)));
        p += label;
        if (*p == '\0')
            break;
        if (*p != '.')
            return wlf_fail(err, "domain", "'%s' is not a valid domain name",
                            shown(domain, b, sizeof(b)));
        p++;
    }
    return 0;
}

int wlf_domain_matches(const char *pattern, const char *host)
{
    if (pattern[0] == '*' && pattern[1] == '.') {
        size_t plen = strlen(pattern + 1), hlen = strlen(host);
        /* "*.example.com" matches "a.example.com", not "example.com" */
        return hlen > plen && strcasecmp(host + hlen - plen, pattern + 1) == 0;
    }
    return strcasecmp(pattern, host) == 0;
}

int wlf_valid_ini_key(const char *key, const char *field, wlf_err *err)
{
    char b[48];
    size_t len = key ? strlen(key) : 0;

    if (len == 0 || len > 64 || !(key[0] >= 'a' && key[0] <= 'z'))
        return wlf_fail(err, field, "'%s' is not a valid ini directive name",
                        key ? shown(key, b, sizeof(b)) : "");
    for (size_t i = 0; i < len; i++)
        if (!is_lower_alnum(key[i]) && key[i] != '_' && key[i] != '.')
            return wlf_fail(err, field, "'%s' is not a valid ini directive "
                            "name", shown(key, b, sizeof(b)));
    return 0;
}

int wlf_valid_ini_value(const char *value, const char *field, wlf_err *err)
{
    size_t len = value ? strlen(value) : 0;

    if (value == NULL)
        return wlf_fail(err, field, "missing value");
    if (len > WLF_INI_VALUE_MAX)
        return wlf_fail(err, field, "value is longer than %d characters",
                        WLF_INI_VALUE_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c == '\n' || c == '\r')
            return wlf_fail(err, field, "value contains a line break");
        if (c < 0x20 || c == 0x7f)
            return wlf_fail(err, field, "value contains a control character");
        if (c == '"' || c == '\\' || c == '$')
            return wlf_fail(err, field, "value may not contain '%c'", c);
    }
    return 0;
}

int wlf_valid_extension_name(const char *name, const char *field,
                             wlf_err *err)
{
    size_t len = name ? strlen(name) : 0;

    if (len == 0 || len > 64)
        return wlf_fail(err, field, "an extension name has 1 to 64 "
                        "characters");
    for (size_t i = 0; i < len; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') ||
              (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
            return wlf_fail(err, field, "'%.64s' is not an extension name "
                            "(a-z, 0-9, '_'; no path, no .so)", name);
    return 0;
}

int wlf_valid_env_name(const char *name, const char *field, wlf_err *err)
{
    size_t len = name ? strlen(name) : 0;

    if (len == 0 || len > 64)
        return wlf_fail(err, field, "a variable name has 1 to 64 "
                        "characters");
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              c == '_' || (i > 0 && c >= '0' && c <= '9')))
            return wlf_fail(err, field, "'%.64s' is not a variable name "
                            "(letters, digits, '_')", name);
    }
    return 0;
}

int wlf_valid_text(const char *text, const char *field, size_t max,
                   wlf_err *err)
{
    size_t len = text ? strlen(text) : 0;

    if (text == NULL)
        return wlf_fail(err, field, "missing");
    if (len > max)
        return wlf_fail(err, field, "longer than %zu characters", max);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x20 || c == 0x7f)
            return wlf_fail(err, field, "contains a line break or control "
                            "character");
    }
    return 0;
}

int wlf_valid_abs_path(const char *path, const char *field, wlf_err *err)
{
    char b[48];
    size_t len = path ? strlen(path) : 0;

    if (len == 0 || path[0] != '/')
        return wlf_fail(err, field, "'%s' is not an absolute path",
                        path ? shown(path, b, sizeof(b)) : "");
    if (len > 1024)
        return wlf_fail(err, field, "path is longer than 1024 characters");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)path[i];
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\' || c == '$' ||
            c == ';' || c == ' ')
            return wlf_fail(err, field, "path '%s' contains a character that "
                            "is not allowed", shown(path, b, sizeof(b)));
    }
    if (strstr(path, "//") || strstr(path, "/../") || strstr(path, "/./") ||
        (len >= 3 && strcmp(path + len - 3, "/..") == 0) ||
        (len >= 2 && strcmp(path + len - 2, "/.") == 0))
        return wlf_fail(err, field, "path '%s' is not in canonical form",
                        shown(path, b, sizeof(b)));
    return 0;
}

int wlf_valid_php_version(const char *version, wlf_err *err)
{
    char b[48];
    size_t len = version ? strlen(version) : 0;

    if (len == 0 || len > WLF_VERSION_MAX || !is_lower_alnum(version[0]))
        return wlf_fail(err, "php", "'%s' is not a valid PHP version label",
                        version ? shown(version, b, sizeof(b)) : "");
    for (size_t i = 0; i < len; i++)
        if (!is_lower_alnum(version[i]) && version[i] != '.' &&
            version[i] != '-' && version[i] != '_')
            return wlf_fail(err, "php", "'%s' is not a valid PHP version "
                            "label", shown(version, b, sizeof(b)));
    if (len >= 2 && version[len - 2] == '.' &&
        (version[len - 1] == 'a' || version[len - 1] == 'b'))
        return wlf_fail(err, "php", "'%s': a PHP version label may not end "
                        "in '.a' or '.b' (those name instance slots)",
                        shown(version, b, sizeof(b)));
    return 0;
}

int wlf_valid_cgroup_subtree(const char *name, wlf_err *err)
{
    size_t len = name ? strlen(name) : 0;

    if (len == 0 || len > 32 || !(name[0] >= 'a' && name[0] <= 'z'))
        return wlf_fail(err, "cgroup_subtree", "must be 1-32 characters "
                        "a-z, 0-9 or '_', starting with a letter");
    for (size_t i = 1; i < len; i++)
        if (!is_lower_alnum(name[i]) && name[i] != '_')
            return wlf_fail(err, "cgroup_subtree", "'%.40s' may only "
                            "contain a-z, 0-9 and '_'", name);
    return 0;
}
