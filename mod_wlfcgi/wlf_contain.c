/*
 * wlf_contain.c - attribution, handler classes, proxy targets, owners.
 */
#include "wlf_contain.h"

#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "wlf_err.h"
#include "wlf_policy.h"
#include "wlf_validate.h"

/* ---- who decided ---- */

static int same(const char *a, const char *b)
{
    if (a == b)
        return 1;
    if (a == NULL || b == NULL)
        return 0;
    return strcmp(a, b) == 0;
}

/* A value from type checking: translate_name's (mod_alias ScriptAlias,
 * a server-context rule) or mod_mime's, where a .htaccess may have
 * configured mod_mime. */
static wlf_origin typing_origin(unsigned htaccess, const wlf_trace *t)
{
    if (t->before_core == NULL || same(t->before_core, t->translated))
        return WLF_BY_ADMIN;
    return (htaccess & WLF_HT_MIME) ? WLF_BY_CUSTOMER : WLF_BY_ADMIN;
}

wlf_origin wlf_attribute(unsigned htaccess, const wlf_trace *t)
{
    wlf_origin at_core;

    if (htaccess == 0)
        return WLF_BY_ADMIN;
    /* core's fixup replaced the value only if a SetHandler/ForceType
     * applies; the same value again is still what type checking chose */
    at_core = same(t->after_core, t->before_core) ? typing_origin(htaccess,
                                                                  t)
                                                  : t->core;
    if (same(t->final, t->after_core))
        return at_core;
    /* changed by a later fixup: mod_rewrite applies [H=]/[T=] there, of
     * server context (decided at translation, the admin's) and of
     * directory context (possibly a .htaccess) alike */
    if (t->rewrite_server && same(t->final, t->rewrite_server))
        return WLF_BY_ADMIN;
    if (t->final == NULL)
        return WLF_BY_ADMIN;
    return (htaccess & WLF_HT_REWRITE) ? WLF_BY_CUSTOMER : WLF_BY_ADMIN;
}

wlf_origin wlf_attribute_perdir_proxy(unsigned htaccess)
{
    return (htaccess & WLF_HT_REWRITE) ? WLF_BY_CUSTOMER : WLF_BY_ADMIN;
}

/* ---- handlers ---- */

const char *const wlf_content_handlers[] = {
    "default-handler",
    "none",
    "redirect-handler",             /* mod_rewrite's internal redirects */
    "type-map",                     /* mod_negotiation */
    "application/x-type-map",
    "send-as-is",                   /* mod_asis */
    "httpd/send-as-is",
    "imap-file",                    /* mod_imagemap */
    "application/x-httpd-imap",
    "server-parsed",                /* mod_include; exec is off where a
                                       .htaccess switched it on */
    "text/x-server-parsed-html",
    "text/x-server-parsed-html3",
    "httpd/unix-directory",         /* mod_dir, mod_autoindex */
    NULL
};

const char *wlf_handler_effective(const char *handler,
                                  const char *content_type, char *buf,
                                  size_t len)
{
    size_t n;

    if (handler)
        return handler;
    if (content_type == NULL || len == 0)
        return "default-handler";
    n = strcspn(content_type, ";");
    while (n > 0 && content_type[n - 1] == ' ')
        n--;
    if (n >= len)
        n = len - 1;
    memcpy(buf, content_type, n);
    buf[n] = '\0';
    return buf;
}

static int listed(const char *name, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n && list[i]; i++)
        if (strcasecmp(list[i], name) == 0)
            return 1;
    return 0;
}

/* Content types that modules take as handler names (mod_cgi's
 * application/x-httpd-cgi, mod_status's application/x-httpd-status,
 * mod_php's application/x-httpd-php, ...) */
static int magic_type(const char *name)
{
    const char *slash = strchr(name, '/');

    if (strncasecmp(name, "httpd/", 6) == 0)
        return 1;
    return strncasecmp(slash + 1, "x-httpd-", 8) == 0;
}

wlf_handler_class wlf_handler_classify(const char *name,
                                       const char *const *extra,
                                       size_t n_extra)
{
    if (name == NULL || *name == '\0')
        return WLF_HANDLER_CONTENT;
    /* mod_proxy compares case-sensitively: "PROXY:" is no proxy */
    if (strncmp(name, "proxy:", 6) == 0)
        return WLF_HANDLER_PROXY;
    if (listed(name, wlf_content_handlers, (size_t)-1) ||
        listed(name, extra, n_extra))
        return WLF_HANDLER_CONTENT;
    if (strchr(name, '/') && !magic_type(name))
        return WLF_HANDLER_CONTENT;
    return WLF_HANDLER_REFUSED;
}

/* ---- proxy targets ---- */

char *wlf_path_lexical(const char *path, char *buf, size_t len)
{
    size_t out = 0;
    const char *p = path;

    if (path == NULL || path[0] != '/') {
        if (path == NULL || strlen(path) >= len)
            return NULL;
        strcpy(buf, path);
        return buf;
    }
    if (len < 2)
        return NULL;
    while (*p) {
        const char *seg;
        size_t n;

        while (*p == '/')
            p++;
        seg = p;
        n = strcspn(seg, "/");
        p = seg + n;
        if (n == 0 || (n == 1 && seg[0] == '.'))
            continue;
        if (n == 2 && seg[0] == '.' && seg[1] == '.') {
            while (out > 0 && buf[out - 1] != '/')
                out--;
            if (out > 0)
                out--;          /* the slash before the dropped segment */
            continue;
        }
        if (out + 1 + n >= len)
            return NULL;
        buf[out++] = '/';
        memcpy(buf + out, seg, n);
        out += n;
    }
    if (out == 0)
        buf[out++] = '/';
    buf[out] = '\0';
    return buf;
}

/* "scheme://host..." -> does scheme equal `want` (case-insensitive)? */
static int scheme_is(const char *url, const char *want)
{
    size_t n = strlen(want);

    return strncasecmp(url, want, n) == 0 && url[n] == ':';
}

/* The host of "scheme://host[:port][/...]" into buf ("" if none) */
static void url_host(const char *url, char *buf, size_t len)
{
    const char *h = strstr(url, "://");
    size_t n;

    buf[0] = '\0';
    if (h == NULL || len == 0)
        return;
    h += 3;
    n = strcspn(h, "/:?#|");
    if (n >= len)
        n = len - 1;
    memcpy(buf, h, n);
    buf[n] = '\0';
}

wlf_target_class wlf_target_classify(const char *url, const char *uds,
                                     const wlf_own *own, char *account,
                                     size_t account_len)
{
    char host[256], name[WLF_NAME_MAX + 8], path[4096], norm[4096];
    const char *origin = url;
    const char *own_name = own ? own->name : NULL;

    if (account_len)
        account[0] = '\0';
    if (url == NULL)
        return WLF_TARGET_OTHER;
    if (strncasecmp(url, "unix:", 5) == 0) {
        const char *bar = strchr(url, '|');
        size_t n;

        if (bar == NULL)
            return WLF_TARGET_OTHER;
        n = (size_t)(bar - (url + 5));
        if (n >= sizeof(path))
            return WLF_TARGET_OTHER;
        memcpy(path, url + 5, n);
        path[n] = '\0';
        uds = path;
        origin = bar + 1;
    }

    /* a name lookup would find our workers whatever socket was named */
    url_host(origin, host, sizeof(host));
    if (wlf_worker_host_account(host, name, sizeof(name))) {
        if (own_name && strcmp(name, own_name) == 0)
            return scheme_is(origin, "fcgi") ? WLF_TARGET_OWN
                                             : WLF_TARGET_OTHER;
        if (account_len)
            wlf_copy(account, account_len, name);
        return WLF_TARGET_RESERVED;
    }
    if (uds == NULL)
        return WLF_TARGET_OTHER;
    if (own_name && scheme_is(origin, "fcgi"))
        for (size_t i = 0; i < own->n_sockets; i++)
            if (strcmp(uds, own->sockets[i]) == 0)
                return WLF_TARGET_OWN;
    if (own == NULL || own->socket_dir == NULL ||
        wlf_path_lexical(uds, norm, sizeof(norm)) == NULL)
        return WLF_TARGET_OTHER;
    switch (wlf_sock_classify(norm, own->socket_dir, own_name, name,
                              sizeof(name))) {
    case WLF_SOCK_OWN:
        /* another spelling of the own socket ("/./", "//"): the module
         * connects through its own worker, never to this path */
        return scheme_is(origin, "fcgi") ? WLF_TARGET_OWN
                                         : WLF_TARGET_OTHER;
    case WLF_SOCK_FOREIGN:
        if (account_len)
            wlf_copy(account, account_len, name);
        return WLF_TARGET_FOREIGN;
    case WLF_SOCK_OTHER:
        return WLF_TARGET_SOCKDIR;
    case WLF_SOCK_OUTSIDE:
    default:
        return WLF_TARGET_OTHER;
    }
}

int wlf_target_runs_files(const char *url)
{
    const char *bar;

    if (url == NULL)
        return 0;
    if (strncasecmp(url, "unix:", 5) == 0) {
        if ((bar = strchr(url, '|')) == NULL)
            return 0;
        url = bar + 1;
    }
    return scheme_is(url, "fcgi");
}

/* ---- owners ---- */

static int is_owner(uid_t uid, const wlf_owners *o)
{
    if (o->has_owner && uid == o->owner)
        return 1;
    for (size_t i = 0; i < o->n_extra; i++)
        if (uid == o->extra[i])
            return 1;
    return 0;
}

wlf_file_verdict wlf_file_owner(uid_t owner, mode_t mode,
                                const wlf_owners *o)
{
    if (is_owner(owner, o))
        return WLF_FILE_ALLOWED;
    /* root's files that every local user can read reveal nothing (the
     * distribution's icons, shared libraries of JavaScript); root's
     * others (a password file readable by httpd's group) stay closed */
    if (owner == 0 && (mode & S_IROTH))
        return WLF_FILE_IF_OPEN_WAY;
    return WLF_FILE_REFUSED;
}

int wlf_way_open(const wlf_node *dirs, size_t n, const wlf_owners *o)
{
    if (n == 0)
        return 0;
    /* from the file's own directory upwards: whatever lies inside a
     * directory of the vhost's owner is theirs to show (a placeholder
     * root put into their document root); anything else must be open
     * to everyone all the way up to "/" */
    for (size_t i = n; i-- > 0;) {
        if (!S_ISDIR(dirs[i].mode))
            return 0;
        if (is_owner(dirs[i].uid, o))
            return 1;
        if (!(dirs[i].mode & S_IXOTH))
            return 0;
    }
    return 1;
}
