#!/bin/bash
# What containment costs a static file: mod_wlfcgi's owner check (what
# httpd stat'ed, then fstat of the file it opened) and its .htaccess
# attribution, against a stock httpd without the module.
#
#   bench/static.sh [SECONDS] [ROUNDS]      (default 10 s, 3 rounds)
#
# Two httpds (mpm_event, 2 x 32 threads) serve the same 2-byte and 64 KiB
# files of one account: "stock" without mod_wlfcgi, "wlfcgi" with it (the
# vhost mapped to the account). Each serves two vhosts: one with
# AllowOverride None, one with AllowOverride All and a .htaccess of the
# usual kind (mod_rewrite, mod_mime, Options). wrk -t2 -c32 runs every
# config for SECONDS, ROUNDS times interleaved; medians and ratios are
# printed. Client and servers share the machine's cores.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

SECS=${1:-10}
ROUNDS=${2:-3}

bench_init
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
bench_account bench 4
mkdir -p "$B/www/ht"
printf ok >"$B/www/small.txt"
head -c 65536 /dev/urandom >"$B/www/big.bin"
cp "$B/www/small.txt" "$B/www/big.bin" "$B/www/ht/"
cat >"$B/www/ht/.htaccess" <<'EOC'
RewriteEngine On
RewriteRule ^old$ small.txt [L]
AddType application/octet-stream .bin
Options -Indexes +FollowSymLinks
EOC
chown -R "$BENCH_USER:" "$B/www"

sites() {   # PORT: the two vhosts, the same for both httpds
    cat <<EOC
<Directory "$B/www/ht">
    AllowOverride All
</Directory>
<VirtualHost 127.0.0.1:$1>
    ServerName bench.bench
    DocumentRoot $B/www
</VirtualHost>
EOC
}

WPORT=$(free_port)
httpd_conf "$WPORT" "LoadModule rewrite_module $MODDIR/mod_rewrite.so
WLFcgiConfig $B/etc/wlfcgi/wlfcgi.conf
$(sites "$WPORT")" >"$B/httpd/httpd.conf"
httpd_start "$B/httpd/httpd.conf" "$WPORT"

# the stock httpd: the same, without mod_wlfcgi
mkdir -p "$B/stock"
SPORT=$(free_port)
httpd_conf "$SPORT" "LoadModule rewrite_module $MODDIR/mod_rewrite.so
$(sites "$SPORT")" | sed -e "s|$B/httpd|$B/stock|g" \
    -e '/^LoadModule wlfcgi_module/d' >"$B/stock/httpd.conf"
"$APACHE" -f "$B/stock/httpd.conf" -k start
PIDFILES+=("$B/stock/httpd.pid")
for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$SPORT/" && break
    sleep 0.05
done

declare -A URL
for f in small.txt big.bin ht/small.txt ht/big.bin; do
    URL[stock:$f]="http://127.0.0.1:$SPORT/$f"
    URL[wlfcgi:$f]="http://127.0.0.1:$WPORT/$f"
done
CONFIGS=()
for f in small.txt big.bin ht/small.txt ht/big.bin; do
    CONFIGS+=("stock:$f" "wlfcgi:$f")
done

for c in "${CONFIGS[@]}"; do
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: bench.bench" \
        "${URL[$c]}")
    [ "$code" = 200 ] || { echo "$c answered $code" >&2; exit 1; }
done

echo "== warm-up (2 s each)"
for c in "${CONFIGS[@]}"; do
    wrk -t2 -c32 -d2s -H "Host: bench.bench" "${URL[$c]}" >/dev/null
done

# httpd's CPU time per request (user + system, all its processes): less
# disturbed by other load on the machine than requests per second
HZ=$(getconf CLK_TCK)
declare -A PID RESULTS CPU
PID[stock]=$(cat "$B/stock/httpd.pid")
PID[wlfcgi]=$(cat "$B/httpd/httpd.pid")
for r in $(seq 1 "$ROUNDS"); do
    for c in "${CONFIGS[@]}"; do
        t0=$(cpu_ticks "${PID[${c%%:*}]}")
        out=$(wrk -t2 -c32 -d"${SECS}s" -H "Host: bench.bench" "${URL[$c]}")
        t1=$(cpu_ticks "${PID[${c%%:*}]}")
        rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
        reqs=$(awk '/requests in/ {print $1}' <<<"$out")
        errs=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out")
        us=$(awk -v t="$((t1 - t0))" -v n="$reqs" -v hz="$HZ" \
            'BEGIN {printf "%.1f", t / hz * 1e6 / n}')
        RESULTS[$c]+="$rps "
        CPU[$c]+="$us "
        printf 'round %d  %-20s %10s req/s  %6s us cpu/req %s\n' "$r" "$c" \
            "$rps" "$us" "$errs"
    done
done

echo
echo "== medians over $ROUNDS rounds of ${SECS} s (wrk -t2 -c32)"
declare -A MED MCPU
for c in "${CONFIGS[@]}"; do
    MED[$c]=$(tr ' ' '\n' <<<"${RESULTS[$c]}" | grep . | median)
    MCPU[$c]=$(tr ' ' '\n' <<<"${CPU[$c]}" | grep . | median)
    printf '%-20s %10.0f req/s   (%s)   cpu/req %s us (%s)\n' "$c" \
        "${MED[$c]}" "${RESULTS[$c]% }" "${MCPU[$c]}" "${CPU[$c]% }"
done
echo
for f in small.txt big.bin ht/small.txt ht/big.bin; do
    printf 'mod_wlfcgi / stock, %-13s: req/s %s, httpd cpu/req %s\n' "$f" \
        "$(awk -v a="${MED[wlfcgi:$f]}" -v b="${MED[stock:$f]}" \
            'BEGIN {printf "%.3f", a / b}')" \
        "$(awk -v a="${MCPU[wlfcgi:$f]}" -v b="${MCPU[stock:$f]}" \
            'BEGIN {printf "%.3f", a / b}')"
done
