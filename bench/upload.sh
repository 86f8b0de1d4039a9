#!/bin/bash
# Large upload throughput and memory: mod_wlfcgi against the stock set-ups.
#
#   bench/upload.sh [SIZE_MIB] [ROUNDS]          (default 4096 MiB, 3 rounds)
#
# A PUT of SIZE_MIB with a Content-Length to a PHP script that streams
# php://input to a file (sink.php), sent by curl from a sparse file (zeros
# at memory speed, so the client is not the bottleneck), through:
#   wlfcgi  mod_wlfcgi, location with WLFcgiMaxUpload 5G
#   stock   the same httpd, FilesMatch SetHandler to the same FPM master
#   nginx   nginx, client_max_body_size 0, fastcgi_request_buffering off
# One php-fpm master with two pm=static pools (8 children each), as in
# bench/throughput.sh. Rounds are interleaved; for each run the wall time
# (MiB/s) and the peak RSS of the web server's processes (largest single
# process, sampled every 100 ms, and its growth over the idle value) are
# printed, then medians. PHP writes the body to disk twice (its own spool
# of php://input in upload_tmp_dir, then the sink file), the same for all.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

SIZE_MIB=${1:-4096}
ROUNDS=${2:-3}

bench_init
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
bench_account bench 8 8M 5G
# the tests' sink script: streams the body to a file, prints its size
PYTHONPATH="$ROOT_DIR/tests/integration" python3 -c \
    'import sys; from wlf.php import SINK; sys.stdout.write(SINK)' \
    >"$B/www/sink.php"
mkdir -p "$B/www/big"
cp "$B/www/sink.php" "$B/www/big/sink.php"
chown -R "$BENCH_USER:" "$B/www"

fpm_bench_and_stock 8

HPORT=$(free_port)
httpd_conf "$HPORT" "
WLFcgiConfig $B/etc/wlfcgi/wlfcgi.conf
LoadModule reqtimeout_module $MODDIR/mod_reqtimeout.so
<VirtualHost 127.0.0.1:$HPORT>
    ServerName bench.bench
    DocumentRoot $B/www
    <Location /big>
        WLFcgiMaxUpload 5G
    </Location>
</VirtualHost>
$(stock_vhost "$HPORT")" >"$B/httpd/httpd.conf"
httpd_start "$B/httpd/httpd.conf" "$HPORT"

NPORT=$(free_port)
nginx_conf "$NPORT" "    client_max_body_size 0;" "            fastcgi_pass unix:$B/stock.sock;
            fastcgi_request_buffering off;"
nginx_start "$B/nginx/nginx.conf"

BODY="$B/body.bin"
truncate -s "${SIZE_MIB}M" "$BODY"
BYTES=$((SIZE_MIB * 1024 * 1024))

declare -A URL HOSTH SERVER
URL[wlfcgi]="http://127.0.0.1:$HPORT/big/sink.php"; HOSTH[wlfcgi]=bench.bench
URL[stock]="http://127.0.0.1:$HPORT/sink.php";      HOSTH[stock]=stock.test
URL[nginx]="http://127.0.0.1:$NPORT/sink.php";      HOSTH[nginx]=localhost
SERVER[wlfcgi]=$(cat "$B/httpd/httpd.pid")
SERVER[stock]=${SERVER[wlfcgi]}
SERVER[nginx]=$(cat "$B/nginx/nginx.pid")
CONFIGS=(wlfcgi stock nginx)

# a small upload through each first: all answer with the byte count
head -c 1000 /dev/zero >"$B/small.bin"
for c in "${CONFIGS[@]}"; do
    out=$(curl -s -T "$B/small.bin" -H "Expect:" \
          -H "Host: ${HOSTH[$c]}" "${URL[$c]}")
    [ "$out" = 1000 ] || { echo "$c answered '$out'" >&2; exit 1; }
done

declare -A SPEED RSS GROW CPU
for r in $(seq 1 "$ROUNDS"); do
    for c in "${CONFIGS[@]}"; do
        idle=$(max_rss_tree "${SERVER[$c]}")
        peak=$idle
        ( while :; do max_rss_tree "${SERVER[$c]}"; sleep 0.1; done ) \
            >"$B/rss.$c" 2>/dev/null &
        sampler=$!
        c0=$(cpu_ticks "${SERVER[$c]}")
        t0=$(date +%s.%N)
        out=$(curl -s -T "$BODY" -H "Expect:" -H "Host: ${HOSTH[$c]}" \
              -w '\n%{http_code}' "${URL[$c]}")
        t1=$(date +%s.%N)
        c1=$(cpu_ticks "${SERVER[$c]}")
        kill "$sampler" 2>/dev/null || true
        wait "$sampler" 2>/dev/null || true
        p=$(sort -n "$B/rss.$c" | tail -1)
        [ -n "$p" ] && [ "$p" -gt "$peak" ] && peak=$p
        got=$(head -1 <<<"$out")
        code=$(tail -1 <<<"$out")
        if [ "$code" != 200 ] || [ "$got" != "$BYTES" ]; then
            echo "$c: status $code, PHP got $got of $BYTES bytes" >&2
            exit 1
        fi
        mibs=$(awk -v b="$BYTES" -v a="$t0" -v z="$t1" \
               'BEGIN {printf "%.1f", b / 1048576 / (z - a)}')
        SPEED[$c]+="$mibs "
        # the web server's CPU seconds per GiB moved
        cpg=$(awk -v t="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" -v b="$BYTES" \
              'BEGIN {printf "%.2f", t / hz / (b / 1073741824)}')
        CPU[$c]+="$cpg "
        RSS[$c]+="$peak "
        GROW[$c]+="$((peak - idle)) "
        printf 'round %d  %-7s %7s MiB/s  %6.1f s  server CPU %5s s/GiB  peak RSS %6d KiB (idle %d, +%d)\n' \
            "$r" "$c" "$mibs" "$(awk -v a="$t0" -v z="$t1" 'BEGIN {print z - a}')" \
            "$cpg" "$peak" "$idle" "$((peak - idle))"
    done
done

echo
echo "== medians over $ROUNDS rounds, ${SIZE_MIB} MiB PUT each"
declare -A MED
for c in "${CONFIGS[@]}"; do
    MED[$c]=$(median_of "${SPEED[$c]}")
    printf '%-7s %7.1f MiB/s  server CPU %s s/GiB  peak RSS %s KiB, growth %s KiB\n' \
        "$c" "${MED[$c]}" \
        "$(median_of "${CPU[$c]}")" \
        "$(median_of "${RSS[$c]}")" \
        "$(median_of "${GROW[$c]}")"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
echo
echo "mod_wlfcgi / nginx unbuffered : $(ratio "${MED[wlfcgi]}" "${MED[nginx]}")  (target >= 1.00)"
echo "mod_wlfcgi / stock SetHandler : $(ratio "${MED[wlfcgi]}" "${MED[stock]}")"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
