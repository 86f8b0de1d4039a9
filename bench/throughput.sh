#!/bin/bash
# Hello-world PHP throughput: mod_wlfcgi against the stock set-ups.
#
#   bench/throughput.sh [SECONDS] [ROUNDS]      (default 10 s, 3 rounds)
#
# One php-fpm master with two identical pm=static pools of 72 children:
# "bench" in the wlfcgi socket dir (mod_wlfcgi's account) and "stock"
# outside it (what a stock SetHandler and nginx talk to; a socket in the
# socket dir is mod_wlfcgi's to police). One httpd (mpm_event, 2 x 32
# threads, MaxKeepAliveRequests 0) serves both the mod_wlfcgi vhost and the
# stock FilesMatch SetHandler vhost, and a 2-byte static file. nginx (2
# workers) uses upstream keepalive 16 with fastcgi_keep_conn. wrk -t2 -c32
# runs every config for SECONDS, ROUNDS times interleaved; medians and
# ratios are printed. Client and servers share the machine's cores.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

SECS=${1:-10}
ROUNDS=${2:-3}
CHILDREN=72

bench_init
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
bench_account bench "$CHILDREN"
echo '<?php echo "ok";' >"$B/www/hello.php"
printf ok >"$B/www/hello.txt"
chown -R "$BENCH_USER:" "$B/www"

fpm_bench_and_stock "$CHILDREN"

HPORT=$(free_port)
httpd_conf "$HPORT" "
WLFcgiConfig $B/etc/wlfcgi/wlfcgi.conf
<VirtualHost 127.0.0.1:$HPORT>
    ServerName bench.bench
    DocumentRoot $B/www
</VirtualHost>
$(stock_vhost "$HPORT")
<VirtualHost 127.0.0.1:$HPORT>
    ServerName status.test
    <Location /wlfcgi-status>
        SetHandler wlfcgi-status
    </Location>
</VirtualHost>" >"$B/httpd/httpd.conf"
httpd_start "$B/httpd/httpd.conf" "$HPORT"

NPORT=$(free_port)
nginx_conf "$NPORT" "    upstream php { server unix:$B/stock.sock; keepalive 16; }" "            fastcgi_pass php;
            fastcgi_keep_conn on;"
nginx_start "$B/nginx/nginx.conf"

declare -A URL HOSTH
URL[wlfcgi]="http://127.0.0.1:$HPORT/hello.php";  HOSTH[wlfcgi]=bench.bench
URL[stock]="http://127.0.0.1:$HPORT/hello.php";   HOSTH[stock]=stock.test
URL[nginx]="http://127.0.0.1:$NPORT/hello.php";   HOSTH[nginx]=localhost
URL[static]="http://127.0.0.1:$HPORT/hello.txt";  HOSTH[static]=bench.bench
CONFIGS=(wlfcgi stock nginx static)

# sanity: every config answers "ok", and the routed one ran in FPM
for c in "${CONFIGS[@]}"; do
    out=$(curl -s -H "Host: ${HOSTH[$c]}" "${URL[$c]}")
    [ "$out" = ok ] || { echo "$c answered '$out'" >&2; exit 1; }
done

echo "== warm-up (2 s each)"
for c in "${CONFIGS[@]}"; do
    wrk -t2 -c32 -d2s -H "Host: ${HOSTH[$c]}" "${URL[$c]}" >/dev/null
done

# FastCGI connections to the account's socket, sampled mid-run from
# /proc/net/unix (connected sockets, state 03, on the FPM side carry the
# listening path): with connection reuse the same inodes stay open
sample_conns() {
    sleep "$1"
    awk -v s="$B/run/wlfcgi/bench.a.sock" '$6 == "03" && $8 == s {print $7}' \
        /proc/net/unix | sort -u >"$2"
}

declare -A RESULTS CPU_WS CPU_PHP POOL_PAT
HZ=$(getconf CLK_TCK)
HTTPD_PID=$(cat "$B/httpd/httpd.pid")
NGINX_PID=$(cat "$B/nginx/nginx.pid")
FPM_PID=$(cat "$B/run/wlfcgi/bench.a.pid")
POOL_PAT[wlfcgi]="pool bench"
POOL_PAT[stock]="pool stock"
POOL_PAT[nginx]="pool stock"
POOL_PAT[static]="pool none"
CONN_NOTE=""
for r in $(seq 1 "$ROUNDS"); do
    for c in "${CONFIGS[@]}"; do
        if [ "$c" = wlfcgi ]; then
            sample_conns "$(awk -v s="$SECS" 'BEGIN {print s / 3}')" "$B/c1" &
            sample_conns "$(awk -v s="$SECS" 'BEGIN {print s * 2 / 3}')" "$B/c2" &
        fi
        h0=$(cpu_ticks "$HTTPD_PID"); f0=$(cpu_ticks "$FPM_PID" "${POOL_PAT[$c]}")
        n0=$(cpu_ticks "$NGINX_PID")
        out=$(wrk -t2 -c32 -d"${SECS}s" --latency -H "Host: ${HOSTH[$c]}" "${URL[$c]}")
        h1=$(cpu_ticks "$HTTPD_PID"); f1=$(cpu_ticks "$FPM_PID" "${POOL_PAT[$c]}")
        n1=$(cpu_ticks "$NGINX_PID")
        if [ "$c" = wlfcgi ]; then
            wait
            CONN_NOTE+="round $r: $(wc -l <"$B/c1") connections at 1/3, $(wc -l <"$B/c2") at 2/3, $(comm -12 "$B/c1" "$B/c2" | wc -l) the same in both"$'\n'
        fi
        rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
        errs=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out")
        p50=$(awk '$1=="50%" {print $2}' <<<"$out")
        p99=$(awk '$1=="99%" {print $2}' <<<"$out")
        RESULTS[$c]+="$rps "
        reqs=$(awk '/requests in/ {print $1}' <<<"$out")
        # CPU per request in microseconds: the web server, and the PHP pool
        [ "$c" = nginx ] && ws=$((n1 - n0)) || ws=$((h1 - h0))
        cpu_ws=$(awk -v t="$ws" -v n="$reqs" -v hz="$HZ" 'BEGIN {printf "%.0f", t / hz * 1e6 / n}')
        cpu_php=$(awk -v t="$((f1 - f0))" -v n="$reqs" -v hz="$HZ" 'BEGIN {printf "%.0f", t / hz * 1e6 / n}')
        CPU_WS[$c]+="$cpu_ws "; CPU_PHP[$c]+="$cpu_php "
        printf 'round %d  %-7s %10s req/s  p50 %-8s p99 %-8s cpu/req: server %4s us, php %4s us %s\n' \
            "$r" "$c" "$rps" "$p50" "$p99" "$cpu_ws" "$cpu_php" "$errs"
    done
done


echo
echo "== medians over $ROUNDS rounds of ${SECS} s (wrk -t2 -c32)"
declare -A MED
for c in "${CONFIGS[@]}"; do
    MED[$c]=$(median_of "${RESULTS[$c]}")
    printf '%-7s %10.0f req/s   (%s)   cpu/req server %s us, php %s us\n' \
        "$c" "${MED[$c]}" "${RESULTS[$c]% }" \
        "$(median_of "${CPU_WS[$c]}")" \
        "$(median_of "${CPU_PHP[$c]}")"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
echo
echo "mod_wlfcgi / stock SetHandler : $(ratio "${MED[wlfcgi]}" "${MED[stock]}")  (target >= 1.40)"
echo "mod_wlfcgi / nginx keepalive  : $(ratio "${MED[wlfcgi]}" "${MED[nginx]}")"
echo "mod_wlfcgi / httpd static     : $(ratio "${MED[wlfcgi]}" "${MED[static]}")"
echo "stock / nginx keepalive       : $(ratio "${MED[stock]}" "${MED[nginx]}")"
echo
echo "== FastCGI connections httpd held to the account's FPM socket (/proc/net/unix)"
printf '%s' "$CONN_NOTE"
echo "== mod_wlfcgi status page"
curl -s -H "Host: status.test" "http://127.0.0.1:$HPORT/wlfcgi-status" | grep -E '^vhost|^bench'
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
