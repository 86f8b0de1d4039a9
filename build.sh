#!/bin/bash
# wlfcgi build driver. See README.md.
#
#   ./build.sh            build build/fpmctl and build/mod_wlfcgi.so
#   ./build.sh deps       install missing build/test packages (apt-get or dnf)
#   ./build.sh test       deps + build + every test (unit, fuzz, integration)
#   ./build.sh demo [stop]  deps + build + a running demo on 127.0.0.1
#   ./build.sh rpm        deps + SRPM and binary RPMs in build/rpm/
#   ./build.sh bench      deps + build + benchmarks against stock setups
#   ./build.sh clean
set -euo pipefail

cd "$(dirname "$0")"
export LC_ALL=C.UTF-8

say() { printf '==> %s\n' "$*"; }
die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- deps --
DEB_PKGS=(
    # build
    gcc make pkg-config apache2 apache2-dev libapr1-dev libaprutil1-dev
    libconfig-dev
    # run
    php-fpm php-apcu
    # test
    libcmocka-dev clang libclang-rt-14-dev llvm python3-pytest python3-requests
    python3-h2
    curl wrk nginx man-db groff-base systemd shellcheck cppcheck procps
    valgrind python3-prometheus-client
    # package (rpm/build-rpm.sh, tests/integration/test_packaging.py)
    rpm rpmlint elfutils file bzip2 checkpolicy semodule-utils logrotate
    # real applications (tests/integration/test_apps.py): their files are
    # copied into test accounts; mariadb-server-core has the server
    # without a service; php (with php-fpm present) keeps wordpress from
    # pulling in libapache2-mod-php
    wordpress dokuwiki mariadb-server-core php
)
RPM_PKGS=(
    gcc make pkgconf-pkg-config httpd httpd-devel apr-devel apr-util-devel
    libconfig-devel php-fpm php-opcache php-pecl-apcu libcmocka-devel clang
    compiler-rt llvm python3-pytest python3-requests python3-h2 curl nginx man-db
    valgrind python3-prometheus_client
    systemd ShellCheck cppcheck procps-ng rpm-build rpmlint
    systemd-rpm-macros elfutils file bzip2 checkpolicy policycoreutils
    selinux-policy-devel logrotate
    wordpress dokuwiki mariadb-server php-mysqlnd php-gd php-xml
    php-mbstring php-intl
)

# True (and says so) when no package is missing; else dies without
# root, or says what it installs and returns false.
nothing_to_install() {
    if [ $# -eq 0 ]; then
        say "all packages present"
        return 0
    fi
    [ "$(id -u)" -eq 0 ] || die "need root to install: $*"
    say "installing: $*"
    return 1
}

deps() {
    if command -v apt-get >/dev/null 2>&1; then
        local missing=() p
        for p in "${DEB_PKGS[@]}"; do
            dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
                grep -q 'install ok installed' || missing+=("$p")
        done
        nothing_to_install "${missing[@]}" && return
        export DEBIAN_FRONTEND=noninteractive
        # dokuwiki would enable a site in the system's apache2 config
        printf '%s\n' \
            'dokuwiki dokuwiki/system/configure-webserver multiselect ' \
            'dokuwiki dokuwiki/system/restart-webserver boolean false' |
            debconf-set-selections
        apt-get update -q >/dev/null
        # services must not start from package scripts (no init here)
        apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
    elif command -v dnf >/dev/null 2>&1; then
        local missing=() p
        for p in "${RPM_PKGS[@]}"; do
            rpm -q "$p" >/dev/null 2>&1 || missing+=("$p")
        done
        nothing_to_install "${missing[@]}" && return
        # wrk and some test tools are in EPEL only; do not fail on them
        dnf install -y -q --skip-broken "${missing[@]}"
    else
        die "neither apt-get nor dnf found; install the packages listed in README.md"
    fi
}

build() {
    say "building"
    make -s -j"$(nproc)" all
    say "built build/fpmctl and build/mod_wlfcgi.so"
}

# ---------------------------------------------------------------- test --
run_tests() {
    local t0 t1
    t0=$(date +%s)
    say "unit tests"
    make -s -j"$(nproc)" unit
    say "unit tests under ASan/UBSan"
    make -s -j"$(nproc)" unit-asan
    if ls tests/fuzz/fuzz_*.c >/dev/null 2>&1; then
        say "fuzzing (${FUZZ_SECONDS:-30} s per target)"
        make -s -j"$(nproc)" fuzz
        tests/fuzz/run.sh "${FUZZ_SECONDS:-30}"
    fi
    say "static checks"
    tests/static-checks.sh
    say "integration tests (pytest-3)"
    pytest-3 -p no:cacheprovider -ra tests/integration "$@"
    t1=$(date +%s)
    say "all tests passed in $((t1 - t0)) s"
}

case "${1:-build}" in
    build|"") build ;;
    deps) deps ;;
    test) shift; deps; build; run_tests "$@" ;;
    demo)
        shift
        if [ "${1:-}" = stop ]; then
            exec docs/demo/demo.sh stop
        fi
        deps; build; exec docs/demo/demo.sh start ;;
    rpm) deps; exec rpm/build-rpm.sh ;;
    bench) shift; deps; build; exec bench/run.sh "$@" ;;
    clean) make clean ;;
    -h|--help|help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' ;;
    *) die "unknown command '$1' (try ./build.sh help)" ;;
esac
