#!/bin/bash
# Static checks run by ./build.sh test: shellcheck on every shell script,
# cppcheck on the C sources. Both are quick; failures fail the test run.
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t scripts < <(git ls-files '*.sh' 'build.sh' '.ci/run' 2>/dev/null | sort -u)
if [ ${#scripts[@]} -gt 0 ]; then
    shellcheck -x "${scripts[@]}"
    echo "shellcheck: ${#scripts[@]} scripts clean"
fi

mapfile -t csrc < <(git ls-files 'common/*.c' 'fpmctl/*.c' 'mod_wlfcgi/*.c' 2>/dev/null)
if [ ${#csrc[@]} -gt 0 ]; then
    inc=(-Icommon -Ifpmctl)
    apxs_inc=$( (command -v apxs >/dev/null && apxs -q INCLUDEDIR) || echo /usr/include/apache2)
    cppcheck --quiet --error-exitcode=1 --std=c11 --inline-suppr \
        --enable=warning,portability,performance \
        --suppress=missingIncludeSystem --suppress=unknownMacro \
        "${inc[@]}" -I"$apxs_inc" -D__GNUC__ -DLINUX -D_GNU_SOURCE "${csrc[@]}"
    echo "cppcheck: ${#csrc[@]} files clean"
fi
