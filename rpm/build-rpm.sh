#!/bin/bash
# Build wlfcgi's SRPM and binary RPMs into build/rpm/ (./build.sh rpm).
#
# The source tarball holds the files git tracks, as they are in the working
# tree (in a clean checkout that is HEAD: git archive's content). On a
# RHEL/Fedora host this is a plain rpmbuild. On a Debian host the build
# dependencies are Debian packages that rpm's database does not know, so
# rpmbuild runs with --nodeps after checking each BuildRequires against its
# Debian equivalent, with the macros a Fedora build root would have
# (rpm/macros.debian-build) and the httpd macros pointing at Debian's apxs.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*"; }
die() { printf 'build-rpm.sh: %s\n' "$*" >&2; exit 1; }

spec=rpm/wlfcgi.spec
out=$PWD/build/rpm
topdir=$out/rpmbuild
name=$(sed -n 's/^Name:[[:space:]]*//p' "$spec")
version=$(sed -n 's/^Version:[[:space:]]*//p' "$spec")
{ [ -n "$name" ] && [ -n "$version" ]; } || die "cannot read Name/Version from $spec"
command -v rpmbuild >/dev/null || die "rpmbuild not found (install rpm / rpm-build)"
git rev-parse --is-inside-work-tree >/dev/null 2>&1 ||
    die "not a git checkout: the tarball is made from the files git tracks"
for part in fpmctl mod_wlfcgi; do
    [ -n "$(git ls-files "$part/*.c")" ] ||
        die "no $part/*.c tracked by git: nothing to package yet"
done

rm -rf "$topdir"
mkdir -p "$topdir"/{SOURCES,SPECS,BUILD,RPMS,SRPMS}
rm -f "$out"/*.rpm

# ---- Source0 ----
tarball=$topdir/SOURCES/$name-$version.tar.gz
mtime=$(git log -1 --format=%ct 2>/dev/null || date +%s)
git ls-files -z | while IFS= read -r -d '' f; do
    [ -e "$f" ] && printf '%s\0' "$f"
done | tar --null -T - --sort=name --owner=0 --group=0 --numeric-owner \
    --mtime="@$mtime" --transform "s,^,$name-$version/," -czf "$tarball"
say "source: $(basename "$tarball") ($(git ls-files | wc -l) tracked files)"

# ---- build dependencies ----
args=(--define "_topdir $topdir")
if [ -f /etc/debian_version ]; then
    # Debian: what Fedora's httpd-devel and build root would define
    apxs=$(command -v apxs || command -v apxs2 || true)
    [ -n "$apxs" ] || die "apxs not found: install apache2-dev (./build.sh deps)"
    mmn=$(sed -n 's/^#define MODULE_MAGIC_NUMBER_MAJOR[[:space:]]*\([0-9]*\).*/\1/p' \
        "$("$apxs" -q INCLUDEDIR)/ap_mmn.h")
    [ -n "$mmn" ] || die "cannot read MODULE_MAGIC_NUMBER_MAJOR from ap_mmn.h"
    # httpd-mmn as Fedora's httpd provides it, e.g. 20120211x8664
    isa=$(rpm --eval '%{__isa_name}%{__isa_bits}')
    args+=(--load rpm/macros.debian-build
           --define "_httpd_apxs $apxs" --define "_httpd_mmn $mmn$isa")
fi

# SELinux module: needs checkmodule and semodule_package
if ! command -v checkmodule >/dev/null || ! command -v semodule_package >/dev/null; then
    say "building --without selinux: checkmodule/semodule_package not found" \
        "(Debian: checkpolicy semodule-utils; Fedora: checkpolicy policycoreutils)"
    args+=(--without selinux)
fi

mapfile -t breqs < <(rpmspec -q --buildrequires "${args[@]}" "$spec" |
    sed 's/[[:space:]].*//' | sort -u)
missing=()
for r in "${breqs[@]}"; do
    rpm -q --whatprovides "$r" >/dev/null 2>&1 || missing+=("$r")
done
if [ ${#missing[@]} -gt 0 ]; then
    [ -f /etc/debian_version ] ||
        die "missing build dependencies: ${missing[*]} (dnf builddep $spec)"
    # Each BuildRequires and what stands in for it on Debian: a package
    # (checked below) or the macros file loaded above.
    declare -A debian_equiv=(
        [gcc]=gcc [make]=make [pkgconfig]=pkg-config
        [httpd-devel]=apache2-dev [apr-devel]=libapr1-dev
        [apr-util-devel]=libaprutil1-dev [libconfig-devel]=libconfig-dev
        [libcmocka-devel]=libcmocka-dev [checkpolicy]=checkpolicy
        [policycoreutils]=semodule-utils [bzip2]=bzip2
        [systemd-rpm-macros]=macros [selinux-policy-devel]=macros
    )
    say "rpmbuild --nodeps: this Debian host's RPM database knows none of the" \
        "build dependencies; their Debian equivalents:"
    for r in "${missing[@]}"; do
        deb=${debian_equiv[$r]:-}
        case $deb in
            "") die "no Debian equivalent known for BuildRequires: $r" ;;
            macros) printf '    %-22s -> rpm/macros.debian-build\n' "$r" ;;
            *)
                dpkg-query -W -f='${Status}' "$deb" 2>/dev/null |
                    grep -q 'install ok installed' ||
                    die "BuildRequires $r: Debian package $deb is not installed (./build.sh deps)"
                printf '    %-22s -> %s (installed)\n' "$r" "$deb" ;;
        esac
    done
    args+=(--nodeps)
fi

# ---- build ----
log=$out/rpmbuild.log
say "rpmbuild -ba $spec (log: build/rpm/rpmbuild.log)"
if ! rpmbuild -ba "${args[@]}" --define "_sourcedir $topdir/SOURCES" \
        "$spec" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    die "rpmbuild failed; full log in $log"
fi
cp "$topdir"/SRPMS/*.src.rpm "$topdir"/RPMS/*/*.rpm "$out"/
say "built:"
for f in "$out"/*.rpm; do
    printf '    build/rpm/%s\n' "$(basename "$f")"
done
