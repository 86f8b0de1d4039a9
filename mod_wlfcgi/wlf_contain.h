/*
 * wlf_contain.h - what a customer's per-directory configuration may
 * choose, without httpd: who made a handler or proxy decision, which
 * handlers a customer may pick, which proxy targets are the vhost's own
 * account, and whose files httpd may send.
 *
 * The glue (mod_wlfcgi) collects the facts at fixed points of a request
 * (after translation, before and after core's SetHandler/ForceType,
 * after every fixup) and asks these functions for the verdict.
 */
#ifndef WLF_CONTAIN_H
#define WLF_CONTAIN_H

#include <stddef.h>
#include <sys/types.h>

/* ---- who decided ---- */

typedef enum {
    WLF_BY_ADMIN = 0,       /* httpd's configuration (server, vhost, sections) */
    WLF_BY_CUSTOMER = 1     /* possibly a .htaccess file */
} wlf_origin;

/* What the .htaccess files that took part in a request configured. The
 * modules named here can choose a handler or a content type (which
 * httpd uses as the handler when there is none) from .htaccess. */
#define WLF_HT_ANY      0x01u   /* at least one .htaccess with a directive */
#define WLF_HT_MIME     0x02u   /* mod_mime: AddHandler, AddType */
#define WLF_HT_REWRITE  0x04u   /* mod_rewrite: [H=], [T=], [P] */
#define WLF_HT_OPTIONS  0x08u   /* core Options that run code (ExecCGI,
                                   Includes with exec) */
#define WLF_HT_REFUSED  0x10u   /* a module whose .htaccess use is refused
                                   (mod_lua: runs code as httpd's user) */

/*
 * A handler (or content type) as it stood at four points of a request:
 * after translate_name (only the server and vhost configuration can act
 * there), after type checking, after core's SetHandler/ForceType fixup,
 * and after every other fixup. Values are compared as strings; NULL is
 * "none set".
 */
typedef struct {
    const char *translated;
    const char *before_core;
    const char *after_core;
    const char *final;
    wlf_origin core;            /* who wrote the SetHandler/ForceType in
                                   force (ADMIN when none applies) */
    const char *rewrite_server; /* what a server/vhost-context RewriteRule
                                   [H=]/[T=] asked for, or NULL */
} wlf_trace;

/*
 * Who may have chosen t->final. `htaccess` is the WLF_HT_* set of the
 * request; 0 means no .htaccess took part, so the admin decided. A value
 * that no rule proves to be the admin's counts as the customer's.
 */
wlf_origin wlf_attribute(unsigned htaccess, const wlf_trace *t);

/* A proxy request made after translation (RewriteRule [P] in a
 * directory context): the customer's if a .htaccess configured
 * mod_rewrite. */
wlf_origin wlf_attribute_perdir_proxy(unsigned htaccess);

/* ---- handlers ---- */

typedef enum {
    WLF_HANDLER_CONTENT,    /* serves the vhost's own files */
    WLF_HANDLER_PROXY,      /* "proxy:...": see wlf_target_classify */
    WLF_HANDLER_REFUSED     /* reveals other sites, runs code as httpd's
                               user, or is unknown to us */
} wlf_handler_class;

/*
 * The name httpd dispatches on (ap_invoke_handler): the handler, else the
 * content type without parameters, else "default-handler". The result
 * points into `handler`, into `buf`, or to a constant.
 */
const char *wlf_handler_effective(const char *handler,
                                  const char *content_type, char *buf,
                                  size_t len);

/*
 * May a customer's configuration pick handler `name`? Content types
 * ("text/html") are fine unless they are one of the magic types that
 * modules take as handler names (application/x-httpd-..., httpd/...);
 * other names must be on the built-in list of content handlers or on
 * `extra` (the admin's WLFcgiAllowHandlers). Case-insensitive.
 */
wlf_handler_class wlf_handler_classify(const char *name,
                                       const char *const *extra,
                                       size_t n_extra);

/* The built-in list (NULL-terminated), for the docs and tests. */
extern const char *const wlf_content_handlers[];

/* ---- proxy targets a customer chose ---- */

typedef enum {
    WLF_TARGET_OWN,         /* the vhost's own account: its socket, spelled
                               exactly, or its wlf- worker name; fcgi */
    WLF_TARGET_FOREIGN,     /* another account's socket */
    WLF_TARGET_RESERVED,    /* another account's wlf- worker name */
    WLF_TARGET_SOCKDIR,     /* something else in the socket directory */
    WLF_TARGET_OTHER        /* TCP, http:, other sockets, garbage */
} wlf_target_class;

typedef struct {
    const char *name;               /* account, or NULL (unmapped vhost) */
    const char *const *sockets;     /* its socket paths as configured */
    size_t n_sockets;
    const char *socket_dir;         /* the socket directory as configured */
} wlf_own;

/*
 * Classify a proxy URL (what follows "proxy:": "unix:/p|fcgi://h/..." or
 * "fcgi://h/...") whose unix socket path mod_proxy already split off into
 * `uds` (NULL if none). Paths are judged as written and never looked up:
 * only an exact spelling of the account's own socket is OWN (the module
 * then connects through its own worker, whose path is fixed), and an
 * unmapped vhost has no OWN at all. For FOREIGN and RESERVED the account
 * named is copied to `account`.
 */
wlf_target_class wlf_target_classify(const char *url, const char *uds,
                                     const wlf_own *own, char *account,
                                     size_t account_len);

/*
 * Does a proxy URL (what follows "proxy:") run a file of the vhost: is
 * it FastCGI ("fcgi://...", "unix:PATH|fcgi://...")? mod_proxy_fcgi
 * hands such a server the request's file as SCRIPT_FILENAME, and a
 * php-fpm pool runs it.
 */
int wlf_target_runs_files(const char *url);

/* ---- whose files httpd sends ---- */

/* Whose files a vhost may send: its owner (a vhost with an account: the
 * account's user; one without: its document root's owner, unless that
 * is root), and the users the admin listed (WLFcgiAllowOwners). */
typedef struct {
    int has_owner;
    uid_t owner;
    const uid_t *extra;
    size_t n_extra;
} wlf_owners;

typedef enum {
    WLF_FILE_REFUSED,
    WLF_FILE_ALLOWED,
    WLF_FILE_IF_OPEN_WAY        /* root's and readable by everyone: allowed
                                   if every directory on the way to it is
                                   open to everyone too (wlf_way_open) */
} wlf_file_verdict;

/*
 * May httpd send a file or directory (owner, mode from stat) for a vhost
 * whose owners are `o`? Its owner's files and those of the listed users
 * are allowed. Root's files only when every local user could read them
 * anyway: readable by everyone, and (WLF_FILE_IF_OPEN_WAY) in
 * directories everyone can pass (a root-owned log in a customer's 0750
 * home is no one else's to read).
 */
wlf_file_verdict wlf_file_owner(uid_t owner, mode_t mode,
                                const wlf_owners *o);

/* One directory on the way to a file: its owner and mode */
typedef struct {
    uid_t uid;
    mode_t mode;
} wlf_node;

/*
 * Is the way to a root-owned file open? `dirs` are the directories from
 * "/" down to the file's own, symlinks resolved. Walking up from the
 * file, each must let every local user pass, until one that belongs to
 * the vhost's owner (or a listed user): what lies below that is theirs.
 * An empty way is not open (nothing was looked at).
 */
int wlf_way_open(const wlf_node *dirs, size_t n, const wlf_owners *o);

/* ---- paths ---- */

/*
 * `path` with "//", "/./" and "/../" removed as text (no symlink is
 * looked at), into buf. Relative paths are returned unchanged. Returns
 * buf, or NULL if it does not fit.
 */
char *wlf_path_lexical(const char *path, char *buf, size_t len);

#endif
