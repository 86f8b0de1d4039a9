#!/bin/bash
# The wlfcgi demo: two accounts, three sites, one httpd on 127.0.0.1.
#
#   docs/demo/demo.sh start     (./build.sh demo: installs and builds first)
#   docs/demo/demo.sh stop      (./build.sh demo stop)
#   docs/demo/demo.sh status
#   docs/demo/demo.sh clean     stop, remove the accounts and DEMO_DIR
#
# Environment: DEMO_DIR (default /tmp/wlfcgi-demo; short, because unix
# socket paths must fit in 108 bytes) and PORT (default 8080). The demo
# uses PORT for its index page and PORT+1..PORT+3 for the three sites, one
# listener per site so that a browser needs no Host header tricks.
#
# Everything lives under DEMO_DIR: a wlfcgi installation made with
# `fpmctl init --prefix`, the accounts' homes and document roots, and
# httpd's configuration, pid file and logs. php-fpm instances run in
# fpmctl's direct mode; httpd runs daemonized. alice's php-fpm runs all the
# time; bob's account is on-demand: `fpmctl serve` (started here, in the
# background) holds its socket, his first request starts his php-fpm and
# BOB_IDLE_STOP seconds (default 60) without one stop it again. `stop` ends
# httpd, the instances and serve by pid. Starting again, running or not,
# is safe.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DIR=${DEMO_DIR:-/tmp/wlfcgi-demo}
PORT=${PORT:-8080}
BIG_LIMIT=1G            # WLFcgiMaxUpload of every site's /big/ location
BOB_IDLE_STOP=${BOB_IDLE_STOP:-60}  # bob's on-demand php-fpm stops after this
FPMCTL=$ROOT/build/fpmctl
MODULE=$ROOT/build/mod_wlfcgi.so
CONF=$DIR/etc/wlfcgi/wlfcgi.conf
HDIR=$DIR/httpd
HCONF=$HDIR/httpd.conf
HPID=$HDIR/httpd.pid
SPID=$DIR/serve.pid
SLOG=$DIR/serve.log
export WLFCGI_CONFIG=$CONF

# account  user           sites (each: a vhost on its own port)
ACCOUNTS=(alice bob)
declare -A USER_OF=([alice]=wlfdemo-alice [bob]=wlfdemo-bob)
SITES=(blog.alice.test shop.alice.test www.bob.test)
declare -A ACCOUNT_OF=([blog.alice.test]=alice [shop.alice.test]=alice
                       [www.bob.test]=bob)

say() { printf '%s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (it creates users and starts php-fpm as them)"
case $DIR in
    /*) ;;
    *) die "DEMO_DIR must be an absolute path" ;;
esac
if ! [[ $PORT =~ ^[0-9]+$ ]] || [ "$PORT" -lt 1 ] || [ "$PORT" -gt 65532 ]; then
    die "PORT must be a number from 1 to 65532"
fi

site_port() {          # site_port SITE -> its port
    local i
    for i in "${!SITES[@]}"; do
        if [ "${SITES[$i]}" = "$1" ]; then
            echo $((PORT + 1 + i))
            return
        fi
    done
}
stop_command() {
    if [ "$DIR" = /tmp/wlfcgi-demo ]; then
        echo "./build.sh demo stop"
    else
        echo "DEMO_DIR=$DIR ./build.sh demo stop"
    fi
}
docroot() { echo "$DIR/home/${ACCOUNT_OF[$1]}/${1%%.*}"; }

# ------------------------------------------------------------- httpd --

find_httpd() {
    APACHE=$(command -v apache2 || command -v httpd || true)
    [ -n "$APACHE" ] || die "neither apache2 nor httpd found (./build.sh deps)"
    local apxs
    apxs=$(command -v apxs || command -v apxs2 || true)
    MODDIR=
    if [ -n "$apxs" ]; then
        MODDIR=$("$apxs" -q LIBEXECDIR 2>/dev/null || true)
    fi
    if [ -z "$MODDIR" ] || [ ! -d "$MODDIR" ]; then
        for MODDIR in /usr/lib/apache2/modules /usr/lib64/httpd/modules \
                      /usr/lib/httpd/modules; do
            [ -d "$MODDIR" ] && break
        done
    fi
    [ -f "$MODDIR/mod_proxy_fcgi.so" ] || die "mod_proxy_fcgi.so not found in $MODDIR"
}

# LoadModule lines for what the demo needs and httpd has not compiled in
load_modules() {
    local builtin m
    builtin=$("$APACHE" -l)
    for m in mpm_event unixd authz_core authz_host mime dir env alias \
             proxy proxy_fcgi; do
        case $builtin in
            *"mod_$m.c"*) continue ;;
        esac
        if [ "$m" = mpm_event ]; then
            case $builtin in
                *prefork.c*|*worker.c*|*event.c*) continue ;;
            esac
        fi
        echo "LoadModule ${m}_module $MODDIR/mod_$m.so"
    done
    echo "LoadModule wlfcgi_module $MODULE"
}

httpd_running() {      # the pid in HPID is our httpd
    local pid
    pid=$(cat "$HPID" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    grep -qF -- "$HCONF" "/proc/$pid/cmdline" 2>/dev/null || return 1
    ! grep -q '^State:.*[ZX]' "/proc/$pid/status" 2>/dev/null
}

write_httpd_conf() {
    local group user site port root
    group=$(sed -n 's/^httpd_group = "\(.*\)";.*/\1/p' "$CONF")
    user=$group
    id -u "$user" >/dev/null 2>&1 || die "no user $user for httpd"
    {
        cat <<EOF
# httpd for the wlfcgi demo, written by docs/demo/demo.sh. Not a template
# for production: see docs/admin-guide.md.
ServerRoot "$HDIR"
DefaultRuntimeDir "$HDIR"
PidFile "$HPID"
ErrorLog "$HDIR/error.log"
# WLF00025 (a 413) and the start-up lines of mod_wlfcgi are at info
LogLevel warn wlfcgi:info
ServerName 127.0.0.1
User $user
Group $group
$(load_modules)
StartServers 1
ServerLimit 2
ThreadsPerChild 16
MaxRequestWorkers 32
MinSpareThreads 1
MaxSpareThreads 32
TypesConfig $( [ -f /etc/mime.types ] && echo /etc/mime.types || echo /dev/null )
AddType text/html .html
AddDefaultCharset utf-8
DirectoryIndex index.php index.html
<Directory />
    AllowOverride None
    Require all denied
</Directory>

# "demo stop" waits this long for requests in flight (graceful-stop)
GracefulShutdownTimeout 5

# The account database that fpmctl writes; every vhost below is mapped to
# the account whose domains list its ServerName.
WLFcgiConfig $CONF

# The index page; no account. The status page lists every vhost.
Listen 127.0.0.1:$PORT
<VirtualHost 127.0.0.1:$PORT>
    ServerName index.wlfdemo.test
    DocumentRoot "$DIR/htdocs"
    <Directory "$DIR/htdocs">
        Require all granted
    </Directory>
    <Location /wlfcgi-status>
        SetHandler wlfcgi-status
        Require local
    </Location>
</VirtualHost>
EOF
        for site in "${SITES[@]}"; do
            port=$(site_port "$site")
            root=$(docroot "$site")
            cat <<EOF

# account ${ACCOUNT_OF[$site]}
Listen 127.0.0.1:$port
<VirtualHost 127.0.0.1:$port>
    ServerName $site
    DocumentRoot "$root"
    <Directory "$root">
        AllowOverride All
        Require all granted
    </Directory>
    # large uploads here only; elsewhere the account's max_upload holds
    <Location /big>
        WLFcgiMaxUpload $BIG_LIMIT
    </Location>
    ErrorDocument 413 /413.html
    SetEnv WLFDEMO_SITE $site
    SetEnv WLFDEMO_BIG_LIMIT $BIG_LIMIT
</VirtualHost>
EOF
        done
    } >"$HCONF.new"
}

start_httpd() {
    mkdir -p "$HDIR"
    write_httpd_conf
    if ! "$APACHE" -t -f "$HCONF.new" >"$HDIR/configtest.log" 2>&1; then
        cat "$HDIR/configtest.log" >&2
        die "httpd rejected $HCONF.new"
    fi
    if httpd_running; then
        if cmp -s "$HCONF.new" "$HCONF"; then
            rm -f "$HCONF.new"
            say "httpd is running (pid $(cat "$HPID"))"
            return
        fi
        say "httpd configuration changed: restarting httpd"
        stop_httpd
    fi
    mv "$HCONF.new" "$HCONF"
    # daemonizes; its own output goes to a file, not to our caller's pipes
    if ! "$APACHE" -f "$HCONF" -k start </dev/null >"$HDIR/start.log" 2>&1
    then
        cat "$HDIR/start.log" >&2
        die "httpd did not start"
    fi
    local port ok i
    for ((i = 0; i < 100; i++)); do
        ok=1
        # a static file: polling must not run (and count) the PHP pages
        for port in "$PORT" $((PORT + 1)) $((PORT + 2)) $((PORT + 3)); do
            curl -s -o /dev/null --max-time 2 \
                "http://127.0.0.1:$port/413.html" || ok=0
        done
        if [ "$ok" = 1 ] && httpd_running; then
            say "started httpd (pid $(cat "$HPID")) on 127.0.0.1:$PORT-$((PORT + 3))"
            return
        fi
        sleep 0.1
    done
    tail -n 20 "$HDIR/error.log" >&2 || true
    die "httpd did not answer on ports $PORT-$((PORT + 3)) (in use?)"
}

stop_httpd() {
    local pid i
    httpd_running || return 0
    pid=$(cat "$HPID")
    # graceful-stop, as apachectl does it: httpd 2.4's event MPM can
    # crash a child when SIGTERM comes right after a request
    kill -WINCH "$pid"
    # the parent stops its children and exits; wait for all of them
    for ((i = 0; i < 200; i++)); do
        [ -z "$(pids_with "$HCONF")" ] && break
        [ "$i" = 140 ] && kill -TERM "$pid" 2>/dev/null
        sleep 0.05
    done
    if httpd_running; then
        kill -KILL "$pid"
    fi
    say "stopped httpd (pid $pid)"
}

# ---------------------------------------------------------- accounts --

ensure_user() {        # create $1 (no home, no login) unless it exists
    local i
    for ((i = 0; i < 20; i++)); do
        id -u "$1" >/dev/null 2>&1 && return 0
        if getent group "$1" >/dev/null; then
            useradd -M -g "$1" -s /usr/sbin/nologin -d /nonexistent "$1" 2>/dev/null || true
        else
            useradd -M -U -s /usr/sbin/nologin -d /nonexistent "$1" 2>/dev/null || true
        fi
        id -u "$1" >/dev/null 2>&1 && { say "created user $1"; return 0; }
        sleep 0.2      # another useradd held the lock
    done
    die "could not create user $1"
}

init_sandbox() {
    if [ -f "$CONF" ]; then
        return
    fi
    mkdir -p "$DIR"
    chmod 755 "$DIR"
    "$FPMCTL" init --prefix "$DIR" --service direct
    # Let accounts allow uploads up to BIG_LIMIT in a location: sizes the
    # timeouts (fpmctl) and keeps mod_wlfcgi from warning (WLF00005).
    sed -i "/^defaults = {/,/^};/ s/^\(  upload_ceiling = \)\"0\";/\1\"$BIG_LIMIT\";/" "$CONF"
    grep -q "upload_ceiling = \"$BIG_LIMIT\"" "$CONF" ||
        die "could not set upload_ceiling in $CONF"
}

# copy if different; scripts get an mtime in the past so that OpCache
# caches them at once (it skips files changed in the last 2 seconds)
put() {                # put SRC DEST OWNER
    if ! cmp -s "$1" "$2"; then
        install -m 0644 -o "$3" -g "$(id -gn "$3")" "$1" "$2"
        touch -d '-1 min' "$2"
    fi
}

install_sites() {
    local acct user site root grp tmp
    mkdir -p "$DIR/home" "$DIR/htdocs"
    chmod 755 "$DIR/home" "$DIR/htdocs"
    {
        printf '{"index": "http://127.0.0.1:%s/", "sites": [' "$PORT"
        local sep=
        for site in "${SITES[@]}"; do
            acct=${ACCOUNT_OF[$site]}
            printf '%s\n  {"name": "%s", "account": "%s", "user": "%s", "url": "http://127.0.0.1:%s/"}' \
                "$sep" "$site" "$acct" "${USER_OF[$acct]}" "$(site_port "$site")"
            sep=,
        done
        printf ']}\n'
    } >"$DIR/demo-sites.json"
    for acct in "${ACCOUNTS[@]}"; do
        user=${USER_OF[$acct]}
        grp=$(id -gn "$user")
        install -d -m 0755 -o "$user" -g "$grp" "$DIR/home/$acct"
        put "$HERE/lib.php" "$DIR/home/$acct/demo-lib.php" "$user"
        put "$DIR/demo-sites.json" "$DIR/home/$acct/demo-sites.json" "$user"
    done
    for site in "${SITES[@]}"; do
        acct=${ACCOUNT_OF[$site]}
        user=${USER_OF[$acct]}
        grp=$(id -gn "$user")
        root=$(docroot "$site")
        install -d -m 0755 -o "$user" -g "$grp" "$root" "$root/big"
        put "$HERE/www/index.php" "$root/index.php" "$user"
        put "$HERE/www/upload.php" "$root/upload.php" "$user"
        put "$HERE/www/big/upload.php" "$root/big/upload.php" "$user"
        tmp=$(mktemp "$DIR/.demo-tmp.XXXXXX")
        sed "s/@BIG_LIMIT@/$BIG_LIMIT/g" "$HERE/www/413.html" >"$tmp"
        put "$tmp" "$root/413.html" "$user"
        rm -f "$tmp"
    done
    # bob, the curious neighbour, tries to run his PHP as alice and to
    # lift his open_basedir; mod_wlfcgi undoes both (his page shows it)
    tmp=$(mktemp "$DIR/.demo-tmp.XXXXXX")
    cat >"$tmp" <<EOF
# What a curious customer might try in a stock SetHandler setup:
# run this site's PHP in alice's php-fpm (as her user, with her caches) ...
<FilesMatch "\\.php\$">
    SetHandler "proxy:unix:$DIR/run/wlfcgi/alice.sock|fcgi://localhost"
</FilesMatch>
# ... and override the admin's open_basedir.
SetEnv PHP_ADMIN_VALUE "open_basedir=/"
EOF
    put "$tmp" "$(docroot www.bob.test)/.htaccess" wlfdemo-bob
    rm -f "$tmp"
    write_index
}

write_index() {
    local site rows=
    for site in "${SITES[@]}"; do
        local acct=${ACCOUNT_OF[$site]} url
        url="http://127.0.0.1:$(site_port "$site")/"
        rows+="<tr><td><a href=\"$url\">$site</a></td><td>$acct</td>"
        rows+="<td>${USER_OF[$acct]}</td><td><a href=\"$url\">$url</a></td></tr>"$'\n'
    done
    cat >"$DIR/htdocs/index.html.new" <<EOF
<!doctype html>
<html lang=en><head><meta charset=utf-8><title>wlfcgi demo</title>
<style>body{font:15px/1.4 sans-serif;max-width:52em;margin:1em auto;padding:0 1em}
td,th{padding:2px 8px;text-align:left}table{border-collapse:collapse}</style>
</head><body>
<h1>wlfcgi demo</h1>
<p>Two hosting accounts, each with its own php-fpm master made by
<code>fpmctl</code>, behind one httpd with <code>mod_wlfcgi</code>:</p>
<table><tr><th>site</th><th>account</th><th>PHP runs as</th><th>URL</th></tr>
$rows</table>
<p>Open alice's two sites, then bob's. Every page shows the Unix user its
PHP runs as, a counter in APCu that both of alice's sites share, the other
account's APCu key it cannot read, the account's cache usage and two upload
forms: one with the account's limit (8M), one under <code>/big/</code>
with <code>WLFcgiMaxUpload $BIG_LIMIT</code>.</p>
<p>alice's php-fpm runs all the time. bob's account is
<em>on-demand</em>: while nobody visits his site no php-fpm of his runs
(<code>fpmctl list</code> says <code>idle</code>); the first request starts
it and is answered by it, and ${BOB_IDLE_STOP} seconds without a request
stop it again (<code>$SLOG</code> shows both).</p>
<p><a href="/wlfcgi-status">mod_wlfcgi's status page</a>
(<a href="/wlfcgi-status?json">JSON</a>): every vhost, its account, socket,
whether it answers, its upload limit.</p>
<p>Everything lives in <code>$DIR</code>: <code>build/fpmctl -c
$CONF list</code>, logs in <code>$DIR/var/log/wlfcgi</code> and
<code>$HDIR/error.log</code>. Stop with <code>$(stop_command)</code>.</p>
</body></html>
EOF
    mv "$DIR/htdocs/index.html.new" "$DIR/htdocs/index.html"
}

start_accounts() {
    local acct site args
    for acct in "${ACCOUNTS[@]}"; do
        if "$FPMCTL" -q show "$acct" >/dev/null 2>&1; then
            "$FPMCTL" start "$acct"
            continue
        fi
        args=()
        for site in "${SITES[@]}"; do
            [ "${ACCOUNT_OF[$site]}" = "$acct" ] && args+=(--domain "$site")
        done
        "$FPMCTL" add-account "$acct" --user "${USER_OF[$acct]}" \
            --home "$DIR/home/$acct" "${args[@]}"
    done
    # bob's php-fpm runs only while his sites get requests; restarted,
    # it is idle (armed) until the first one
    "$FPMCTL" set bob activation=on-demand idle_stop="$BOB_IDLE_STOP"
    "$FPMCTL" restart bob
}

# ------------------------------------------------------ fpmctl serve --

serve_running() {
    local pid
    pid=$(cat "$SPID" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    grep -qF -- "$CONF" "/proc/$pid/cmdline" 2>/dev/null || return 1
    ! grep -q '^State:.*[ZX]' "/proc/$pid/status" 2>/dev/null
}

# fpmctl serve holds the sockets of on-demand accounts (direct mode); it
# runs in the foreground, so here in the background with its own log
start_serve() {
    local i
    if serve_running; then
        say "fpmctl serve is running (pid $(cat "$SPID"))"
        return
    fi
    setsid "$FPMCTL" -c "$CONF" serve </dev/null >>"$SLOG" 2>&1 &
    echo $! >"$SPID"
    for ((i = 0; i < 100; i++)); do
        [ -S "$DIR/run/wlfcgi/.serve.ctl" ] && break
        serve_running || { cat "$SLOG" >&2; die "fpmctl serve did not start"; }
        sleep 0.05
    done
    say "started fpmctl serve (pid $(cat "$SPID")), log $SLOG"
}

stop_serve() {
    local pid i
    serve_running || return 0
    pid=$(cat "$SPID")
    # SIGTERM: it stops the masters it started (gracefully), then itself
    kill -TERM "$pid"
    for ((i = 0; i < 300; i++)); do
        serve_running || break
        sleep 0.05
    done
    serve_running && kill -KILL "$pid"
    say "stopped fpmctl serve (pid $pid)"
}

# bob's account waking up: idle, one request, running
show_wake_up() {
    local url
    url="http://127.0.0.1:$(site_port www.bob.test)/"
    say ""
    say "bob's account is on-demand. Now:"
    "$FPMCTL" list | awk 'NR == 1 || $1 == "bob"' | sed 's/^/  /'
    say "a request to www.bob.test (port $(site_port www.bob.test)) ..."
    curl -s -o /dev/null -w '  HTTP %{http_code} in %{time_total} s\n' "$url"
    "$FPMCTL" list | awk '$1 == "bob"' | sed 's/^/  /'
    grep 'bob: starting php-fpm' "$SLOG" | tail -n 1 | sed 's/^/  /'
    say "After ${BOB_IDLE_STOP} s without a request serve stops it again."
}

# pids of processes whose command line contains $1 (read without running
# any program, so no helper of this script shows up)
pids_with() {
    local f pid args
    for f in /proc/[0-9]*/cmdline; do
        pid=${f#/proc/}
        pid=${pid%/cmdline}
        { mapfile -d '' args <"$f"; } 2>/dev/null || continue
        [[ " ${args[*]} " == *"$1"* ]] && echo "$pid"
    done
    return 0
}

# what is left of the demo: httpd, php-fpm masters, fpmctl helpers (their
# command lines name DEMO_DIR; php-fpm workers end with their master)
demo_pids() { pids_with "$DIR/"; }

# --------------------------------------------------------- commands --

cmd_start() {
    if [ ! -x "$FPMCTL" ] || [ ! -f "$MODULE" ]; then
        die "build/fpmctl or build/mod_wlfcgi.so missing: run ./build.sh demo"
    fi
    find_httpd
    if command -v getenforce >/dev/null 2>&1 &&
        [ "$(getenforce 2>/dev/null)" = Enforcing ]; then
        say "note: SELinux is enforcing. The demo is not made for that: its" \
            "files under $DIR carry no httpd labels, so httpd may be denied" \
            "them (see docs/selinux.md for a real installation)." >&2
    fi
    for acct in "${ACCOUNTS[@]}"; do
        ensure_user "${USER_OF[$acct]}"
    done
    init_sandbox
    # users made elsewhere as system users (uid < 1000) are fine here
    local uid min
    min=$(sed -n 's/^min_uid = \([0-9]*\);.*/\1/p' "$CONF")
    for acct in "${ACCOUNTS[@]}"; do
        uid=$(id -u "${USER_OF[$acct]}")
        if [ "$uid" -lt "$min" ]; then
            sed -i "s/^min_uid = [0-9]*;/min_uid = 100;/" "$CONF"
            min=100
        fi
    done
    install_sites
    start_serve
    start_accounts
    start_httpd
    local site
    printf '\nwlfcgi demo is running. Open in a browser:\n\n'
    printf '  %-38s %s\n' "http://127.0.0.1:$PORT/" \
        "index: the sites and what to look at"
    for site in "${SITES[@]}"; do
        printf '  %-38s %s: account %s, PHP runs as %s\n' \
            "http://127.0.0.1:$(site_port "$site")/" "$site" \
            "${ACCOUNT_OF[$site]}" "${USER_OF[${ACCOUNT_OF[$site]}]}"
    done
    printf '  %-38s %s\n' "http://127.0.0.1:$PORT/wlfcgi-status" \
        "mod_wlfcgi's status page"
    show_wake_up
    cat <<EOF

Accounts: build/fpmctl -c $CONF list
Reload:   ${APACHE##*/} -f $HCONF -k graceful
          (httpd rereads the accounts: after fpmctl set NAME max_upload=...)
Logs:     $DIR/var/log/wlfcgi/NAME/, $HDIR/error.log, $SLOG
Stop:     $(stop_command)
EOF
}

cmd_stop() {
    local left i
    stop_httpd
    if [ -f "$CONF" ] && [ -x "$FPMCTL" ]; then
        "$FPMCTL" stop --all
    fi
    stop_serve
    for ((i = 0; i < 100; i++)); do
        left=$(demo_pids)
        [ -z "$left" ] && break
        sleep 0.1
    done
    if [ -n "$left" ]; then
        say "still running (not started by this demo's stop?):" >&2
        for i in $left; do
            printf '  %s %s\n' "$i" "$(tr '\0' ' ' <"/proc/$i/cmdline" 2>/dev/null)" >&2
        done
        exit 1
    fi
    say "demo stopped; nothing of it runs. Its files stay in $DIR"
}

cmd_status() {
    if httpd_running; then
        say "httpd: running (pid $(cat "$HPID")), listening on" \
            "$(sed -n 's/^Listen //p' "$HCONF" | tr '\n' ' ')"
    else
        say "httpd: stopped"
    fi
    if serve_running; then
        say "fpmctl serve: running (pid $(cat "$SPID")), log $SLOG"
    else
        say "fpmctl serve: stopped"
    fi
    if [ -f "$CONF" ]; then
        "$FPMCTL" list || true
    fi
}

cmd_clean() {
    cmd_stop
    local acct
    if [ -f "$CONF" ]; then
        for acct in "${ACCOUNTS[@]}"; do
            "$FPMCTL" -q show "$acct" >/dev/null 2>&1 &&
                "$FPMCTL" remove-account "$acct" --purge --yes
        done
    fi
    rm -rf "$DIR"
    say "removed $DIR (the users ${USER_OF[*]} stay)"
}

case ${1:-start} in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    clean) cmd_clean ;;
    *) die "usage: demo.sh start|stop|status|clean" ;;
esac
