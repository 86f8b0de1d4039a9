#!/bin/bash
# Shared set-up for the benchmarks: a temp dir in the wlfcgi layout, one
# php-fpm master, httpd with mod_wlfcgi, nginx. Every process started here
# is stopped by pid on exit; nothing is killed by name.
#
# Sourced by bench/*.sh; needs root (users, sockets owned by them).

set -euo pipefail

ROOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MODULE="$ROOT_DIR/build/mod_wlfcgi.so"
PHP_FPM=${PHP_FPM:-$(command -v php-fpm8.2 || command -v php-fpm || echo /usr/sbin/php-fpm8.2)}
APACHE=${APACHE:-$(command -v apache2 || command -v httpd)}
MODDIR=${MODDIR:-$(apxs -q LIBEXECDIR 2>/dev/null || echo /usr/lib/apache2/modules)}
NGINX=${NGINX:-$(command -v nginx)}
HTTPD_GROUP=${HTTPD_GROUP:-www-data}
BENCH_USER=wlft-bench

B=""            # the temp dir
PIDS=()         # processes we started (masters, httpd, nginx)
PIDFILES=()     # pid files of daemons we started

bench_cleanup() {
    local p f
    for f in "${PIDFILES[@]}"; do
        [ -s "$f" ] && PIDS+=("$(cat "$f")")
    done
    for p in "${PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    sleep 0.5
    for p in "${PIDS[@]}"; do
        kill -KILL "$p" 2>/dev/null || true
    done
    [ -n "$B" ] && rm -rf "$B"
}

bench_init() {
    [ "$(id -u)" -eq 0 ] || { echo "benchmarks need root" >&2; exit 1; }
    [ -f "$MODULE" ] || { echo "build first: make module" >&2; exit 1; }
    B=$(mktemp -d /tmp/wlfbXXXXXX)
    chmod 755 "$B"
    trap bench_cleanup EXIT
    id "$BENCH_USER" >/dev/null 2>&1 ||
        useradd -r -M -d /nonexistent -s /usr/sbin/nologin "$BENCH_USER"
    mkdir -p "$B/etc/wlfcgi/accounts.d" "$B/run/wlfcgi" "$B/var/lib/wlfcgi" \
             "$B/var/log/wlfcgi/bench" "$B/www" "$B/tmp" "$B/httpd" "$B/nginx"
    chown "$BENCH_USER:" "$B/var/log/wlfcgi/bench" "$B/tmp"
    chmod 755 "$B/run/wlfcgi" "$B/www"
    cat >"$B/etc/wlfcgi/wlfcgi.conf" <<EOC
service = "direct";
httpd_group = "$HTTPD_GROUP";
min_uid = 100;
paths = { accounts = "$B/etc/wlfcgi/accounts.d"; sockets = "$B/run/wlfcgi";
          state = "$B/var/lib/wlfcgi"; logs = "$B/var/log/wlfcgi"; };
php = { default = "8.2"; versions = ( { version = "8.2"; fpm = "$PHP_FPM"; } ); };
EOC
}

# bench_account NAME MAX_CHILDREN [MAX_UPLOAD [CEILING]]: the account file
# (pm = static like the pools fpm_pool writes, so httpd reuses connections)
bench_account() {
    cat >"$B/etc/wlfcgi/accounts.d/$1.conf" <<EOC
name = "$1"; user = "$BENCH_USER"; group = "$BENCH_USER"; home = "$B/www";
domains = [ "$1.bench" ];
max_children = $2;
max_upload = "${3:-8M}";
upload_ceiling = "${4:-0}";
pm = "static";
EOC
}

# fpm_start CONF: start a php-fpm master (daemonizes once its sockets are
# bound); PHP_INI_SCAN_DIR keeps the distribution's extensions
fpm_start() {
    "$PHP_FPM" --fpm-config "$1"
    PIDFILES+=("$(sed -n 's/^pid = //p' "$1")")
}

# fpm_pool NAME LISTEN CHILDREN: a pm=static pool section
fpm_pool() {
    cat <<EOC
[$1]
user = $BENCH_USER
group = $BENCH_USER
listen = $2
listen.owner = $BENCH_USER
listen.group = $HTTPD_GROUP
listen.mode = 0660
listen.backlog = 4096
pm = static
pm.max_children = $3
ping.path = /wlfcgi-fpm-ping
request_terminate_timeout = 600s
php_admin_value[upload_tmp_dir] = $B/tmp
php_admin_value[sys_temp_dir] = $B/tmp
php_admin_value[max_input_time] = -1
php_admin_value[max_execution_time] = 600
EOC
}

wait_socket() {
    local _
    for _ in $(seq 1 200); do
        [ -S "$1" ] && return 0
        sleep 0.05
    done
    echo "socket $1 did not appear" >&2
    return 1
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# httpd_conf PORT BODY: mpm_event, 2 processes x 32 threads, as measured
# in MEASUREMENTS.md
httpd_conf() {
    cat <<EOC
ServerRoot "$B/httpd"
DefaultRuntimeDir "$B/httpd"
PidFile "$B/httpd/httpd.pid"
Listen 127.0.0.1:$1
ServerName 127.0.0.1
User www-data
Group $HTTPD_GROUP
ErrorLog "$B/httpd/error.log"
LogLevel warn
LoadModule mpm_event_module $MODDIR/mod_mpm_event.so
LoadModule authz_core_module $MODDIR/mod_authz_core.so
LoadModule mime_module $MODDIR/mod_mime.so
LoadModule dir_module $MODDIR/mod_dir.so
LoadModule proxy_module $MODDIR/mod_proxy.so
LoadModule proxy_fcgi_module $MODDIR/mod_proxy_fcgi.so
LoadModule wlfcgi_module $MODULE
StartServers 2
ServerLimit 2
ThreadsPerChild 32
MaxRequestWorkers 64
MinSpareThreads 64
MaxSpareThreads 64
KeepAlive On
MaxKeepAliveRequests 0
TypesConfig /etc/mime.types
DocumentRoot "$B/www"
# no .htaccess lookups anywhere: they would cost every config the same
<Directory />
    AllowOverride None
</Directory>
<Directory "$B/www">
    AllowOverride None
    Require all granted
</Directory>
$2
EOC
}

# fpm_bench_and_stock CHILDREN: one master with two identical pm=static
# pools, "bench" as slot a of mod_wlfcgi's account and "stock" outside the
# socket dir (a socket inside it is mod_wlfcgi's to police)
fpm_bench_and_stock() {
    local conf="$B/var/lib/wlfcgi/fpm/bench.a/php-fpm.conf"
    mkdir -p "$(dirname "$conf")"
    cat >"$conf" <<EOC
[global]
pid = $B/run/wlfcgi/bench.a.pid
error_log = $B/var/log/wlfcgi/bench/fpm.log
$(fpm_pool bench "$B/run/wlfcgi/bench.a.sock" "$1")
$(fpm_pool stock "$B/stock.sock" "$1")
EOC
    fpm_start "$conf"
    wait_socket "$B/run/wlfcgi/bench.a.sock"
    wait_socket "$B/stock.sock"
    ln -s bench.a.sock "$B/run/wlfcgi/bench.sock"
}

# stock_vhost PORT: the hand-written SetHandler set-up hosters use today
# (a vhost without an account: mod_wlfcgi, loaded for the other vhosts,
# leaves its PHP alone only with WLFcgiExtensions none)
stock_vhost() {
    cat <<EOC
<VirtualHost 127.0.0.1:$1>
    ServerName stock.test
    DocumentRoot $B/www
    WLFcgiExtensions none
    <FilesMatch "\.php\$">
        SetHandler "proxy:unix:$B/stock.sock|fcgi://localhost"
    </FilesMatch>
</VirtualHost>
EOC
}

# nginx_conf PORT HTTP_EXTRA LOCATION_EXTRA: nginx (2 workers) serving
# $B/www, PHP to the stock pool; writes $B/nginx/nginx.conf
nginx_conf() {
    cat >"$B/nginx/nginx.conf" <<EOC
user www-data;
worker_processes 2;
pid $B/nginx/nginx.pid;
error_log $B/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $B/nginx/body;
    proxy_temp_path $B/nginx/proxy;
    fastcgi_temp_path $B/nginx/fastcgi;
    uwsgi_temp_path $B/nginx/uwsgi;
    scgi_temp_path $B/nginx/scgi;
$2
    server {
        listen 127.0.0.1:$1;
        root $B/www;
        location ~ \.php\$ {
$3
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
        }
    }
}
EOC
}

httpd_start() {
    "$APACHE" -f "$1" -k start
    PIDFILES+=("$B/httpd/httpd.pid")
    local _
    for _ in $(seq 1 100); do
        [ -s "$B/httpd/httpd.pid" ] && curl -s -o /dev/null "http://127.0.0.1:$2/" && return 0
        sleep 0.05
    done
    echo "httpd did not start:" >&2
    cat "$B/httpd/error.log" >&2
    return 1
}

nginx_start() {
    "$NGINX" -c "$1"
    PIDFILES+=("$B/nginx/nginx.pid")
    sleep 0.3
}

# Largest RSS (KiB) among the processes whose parent (or self) is $1
max_rss_tree() {
    local parent=$1 best=0 p r
    for p in $parent $(ps -o pid= --ppid "$parent"); do
        r=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
        [ "${r:-0}" -gt "$best" ] && best=$r
    done
    echo "$best"
}

median() {
    sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'
}

# median_of "3 1 2 ": the median of a space-separated list
median_of() {
    tr ' ' '\n' <<<"$1" | grep . | median
}

# CPU time (clock ticks, user+system) used so far by process PARENT and
# its children, or only by the children whose command line contains
# PATTERN ("pool bench")
cpu_ticks() {
    local parent=$1 pat=${2:-} total=0 p t
    local pids
    if [ -n "$pat" ]; then
        pids=$(for p in $(ps -o pid= --ppid "$parent"); do
                   grep -qF -- "$pat" "/proc/$p/cmdline" 2>/dev/null && echo "$p"
               done)
    else
        pids="$parent $(ps -o pid= --ppid "$parent")"
    fi
    for p in $pids; do
        t=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)
        total=$((total + t))
    done
    echo "$total"
}
