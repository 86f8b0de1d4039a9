/*
 * wlf_log.c - what each of mod_wlfcgi's log tags means (see wlf_log.h).
 */
#include "wlf_log.h"

const wlf_log_code wlf_log_codes[] = {
    { WLFLOG_CONFIG_LOAD, "emerg",
      "the file named by WLFcgiConfig could not be loaded; httpd does "
      "not start" },
    { WLFLOG_ACCOUNT_SKIPPED, "warn",
      "an account file could not be loaded (or claims a domain another "
      "account owns) and was skipped; its vhosts are unmapped" },
    { WLFLOG_MAP_CONFLICT, "emerg",
      "two accounts claim the same vhost (by name or WLFcgiAccount); "
      "httpd does not start" },
    { WLFLOG_MAP_UNKNOWN, "emerg",
      "WLFcgiAccount names an account that does not exist (or no "
      "WLFcgiConfig is set); httpd does not start" },
    { WLFLOG_UPLOAD_CEILING, "warn",
      "a WLFcgiMaxUpload is above the account's upload_ceiling, so FPM's "
      "request timeout may cut such uploads off; raise it with fpmctl set" },
    { WLFLOG_REUSE_PLAN, "info",
      "how many FastCGI connections per httpd process the account's proxy "
      "workers keep, or why connection reuse is off for it (too few "
      "max_children, FPM pm not static, workers recycled by max_requests)" },
    { WLFLOG_WORKER_DEFINE, "emerg",
      "mod_proxy refused to define an account's proxy worker" },
    { WLFLOG_NO_PROXY_FCGI, "emerg",
      "mod_proxy_fcgi is not loaded; load it before mod_wlfcgi" },
    { WLFLOG_SOCKET_DIR, "warn",
      "the socket directory does not exist (yet); foreign-socket checks "
      "use the configured path as written" },
    { WLFLOG_VHOST_MAPPED, "debug",
      "which account a vhost was mapped to, and how" },
    { WLFLOG_NOT_CONFIGURED, "warn",
      "the module is loaded but no WLFcgiConfig is set: it does nothing "
      "(also said by apachectl -t)" },
    { WLFLOG_ACCOUNT_SETTINGS, "emerg",
      "an account's effective settings could not be worked out (out of "
      "memory); httpd does not start" },
    { WLFLOG_JANITOR_START, "error",
      "an httpd child could not start the thread that closes idle FastCGI "
      "connections; in that child they stay open until reused" },
    { WLFLOG_ACCOUNT_USER, "warn",
      "an account's Unix user does not exist (deleted after the account was "
      "added): its vhosts send no file and run no script of its own" },
    { WLFLOG_EXT_NOT_RUN, "emerg",
      "a vhost's WLFcgiExtensions lists an extension its account's php-fpm "
      "does not run (script_extensions); httpd does not start" },
    { WLFLOG_SUSPENDED_PAGE, "emerg",
      "the file named by WLFcgiSuspendedPage could not be read; httpd "
      "does not start" },
    { WLFLOG_VHOST_ORDER, "warn",
      "an account's exact domain lies inside another account's wildcard, "
      "and a vhost of the other account comes first in httpd's "
      "configuration: its requests are refused (421) until the vhost "
      "order agrees" },
    { WLFLOG_PROXY_ORDER, "emerg",
      "mod_wlfcgi was loaded before mod_proxy (or without it); httpd does "
      "not start: load mod_proxy and mod_proxy_fcgi first" },
    { WLFLOG_VHOST_VERSIONS, "warn",
      "a vhost's names belong to domains of its account with different "
      "PHP versions (php@DOMAIN); the vhost runs the version of its "
      "ServerName's domain for all of them" },
    { WLFLOG_FOREIGN_SOCKET, "error",
      "a request was bound for another account's FPM socket (403); "
      "usually a customer's SetHandler or RewriteRule" },
    { WLFLOG_FORGED_WORKER, "error",
      "a request used a wlf- worker name, a file in the socket directory "
      "that is no account socket, or a socket link that leads nowhere "
      "(403)" },
    { WLFLOG_UNMAPPED_PHP, "error",
      "a PHP file was requested in a vhost that has no account; it is "
      "refused (500) instead of being sent as source" },
    { WLFLOG_NO_LIVE_SLOT, "error",
      "the account's NAME.sock link is missing or not a slot link, so no "
      "instance is live (503)" },
    { WLFLOG_POOL_DOWN, "error",
      "the account's live FPM instance did not accept the connection "
      "(503 with Retry-After)" },
    { WLFLOG_BODY_TOO_LARGE, "info",
      "a request's Content-Length is above its upload limit (413, body "
      "not read)" },
    { WLFLOG_CHUNKED_TOO_LARGE, "info",
      "a chunked request body grew past its upload limit (413)" },
    { WLFLOG_BAD_LENGTH, "info",
      "a request's Content-Length could not be parsed (400)" },
    { WLFLOG_WORKER_GONE, "error",
      "the account's instance took the request but its worker ended it "
      "without an answer: a crash, a kill or request_terminate_timeout "
      "(503)" },
    { WLFLOG_SUSPENDED, "info",
      "a request for a suspended account's site got the suspended page "
      "(503 with Retry-After)" },
    { WLFLOG_PROXY_REFUSED, "error",
      "a proxy target that a .htaccess may have chosen is not the vhost's "
      "own account (TCP, http:, another socket, garbage; any target in a "
      "vhost without an account): 403 before mod_proxy runs" },
    { WLFLOG_HANDLER_REFUSED, "error",
      "a handler (or a content type used as one) that a .htaccess may have "
      "chosen reveals other sites or runs code as httpd's user "
      "(server-status, cgi-script, ...): 403" },
    { WLFLOG_FOREIGN_FILE, "error",
      "the file or directory a request is for (a missing file: its "
      "directory) does not belong to the vhost's owner, or is root's but "
      "not open to every local user (a customer's symlink), or a password "
      "file a .htaccess names is not such a regular file: 403, and no "
      "listing shows it" },
    { WLFLOG_FOREIGN_OPENED, "error",
      "the file httpd opened for a static response belongs to someone else, "
      "although the file checked before did not (a rename in between): "
      "nothing of it is sent" },
    { WLFLOG_HTACCESS_REFUSED, "error",
      "a .htaccess configures a module whose directives run code as httpd's "
      "user (mod_lua): every request under it gets 403" },
    { WLFLOG_OPTIONS_MASKED, "debug",
      "a .htaccess switched on Options ExecCGI or Includes with exec; they "
      "are off for the request" },
    { WLFLOG_SPOOL_FAILED, "error",
      "a request body read whole before PHP is contacted (chunked, or slow "
      "to send) could not be written to a temporary file (httpd's TMPDIR "
      "full or not writable): 500" },
    { WLFLOG_MISDIRECTED, "info",
      "a request for an account's exact domain reached a vhost of the "
      "account owning a wildcard of it (vhost order): 421" },
    { WLFLOG_FOREIGN_FASTCGI, "error",
      "the server configuration hands a file of the vhost to a FastCGI "
      "server that is not the vhost's account (a distribution's php-fpm "
      "pool for .phar or .phtml): 403" },
    { WLFLOG_EXPR_FILE, "error",
      "a .htaccess expression calls file() or filesize(), which read any "
      "file as httpd's user: httpd's own parse error names the .htaccess, "
      "500" },
};

const size_t wlf_log_codes_count =
    sizeof(wlf_log_codes) / sizeof(wlf_log_codes[0]);
