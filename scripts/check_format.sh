#!/usr/bin/env bash
# check_format.sh — checks C files against the pinned .clang-format without changing them.
#   check_format.sh               lines changed since FORMAT_BASE (what CI runs: `make format-check`)
#   check_format.sh --fix         formats those lines in the working tree (`make format`)
#   check_format.sh --all [FILE…] whole files: every tracked *.c/*.h outside third_party/, or FILEs
# Prints a unified diff of what clang-format would change and exits 1 if anything would.
# Why changed lines only: formatting the whole tree at once touches ~1,400 lines across every
# module while others work on them; instead every line written or changed after FORMAT_BASE
# must be formatted, and older code is formatted when it is next touched.
# CLANG_FORMAT names the binary (default clang-format; the style is pinned for clang-format 14,
# Debian 12's); FORMAT_BASE may be overridden (any commit the history contains).
set -euo pipefail
cd "$(dirname "$0")/.."
FORMAT_BASE=${FORMAT_BASE:-2ac451de7727f0dc28844d471f44d599a0f3fa0c}
cf=${CLANG_FORMAT:-clang-format}
command -v "$cf" >/dev/null || { echo "check_format: '$cf' not found (apt install clang-format)" >&2; exit 2; }
mode=changed
case "${1:-}" in
    --fix) mode=fix; shift ;;
    --all) mode=all; shift ;;
esac
if [ "$mode" = all ]; then
    if [ $# -eq 0 ]; then
        mapfile -t files < <(git ls-files '*.c' '*.h' | grep -v '^third_party/')
    else
        files=("$@")
    fi
    bad=0
    for f in "${files[@]}"; do
        if ! out=$("$cf" --style=file "$f" | diff -u --label "$f" --label "$f (clang-format)" "$f" -); then
            printf '%s\n' "$out"
            bad=$((bad + 1))
        fi
    done
    echo "check_format: ${#files[@]} files, $bad would change" >&2
    [ "$bad" -eq 0 ]
    exit
fi
git rev-parse -q --verify "$FORMAT_BASE^{commit}" >/dev/null ||
    { echo "check_format: base commit '$FORMAT_BASE' is not in this history (set FORMAT_BASE)" >&2; exit 2; }
# Tracked and new (untracked, not ignored) C files outside third_party/: the lines they add
# or change since the base are checked, in the working tree.
mapfile -t files < <({ git diff --name-only "$FORMAT_BASE" -- '*.c' '*.h'
                       git ls-files --others --exclude-standard -- '*.c' '*.h'; } |
                     grep -v '^third_party/' | sort -u | while read -r f; do [ -f "$f" ] && echo "$f"; done)
[ ${#files[@]} -eq 0 ] && { echo "check_format: no C file changed since $FORMAT_BASE" >&2; exit 0; }
gcf=(git -c core.quotepath=off clang-format --binary "$(command -v "$cf")" --style file "$FORMAT_BASE")
if [ "$mode" = fix ]; then
    "${gcf[@]}" -- "${files[@]}" || true
    exit 0
fi
out=$("${gcf[@]}" --diff -- "${files[@]}" 2>&1) || true
case "$out" in
    "" | "no modified files to format" | "clang-format did not modify any files")
        echo "check_format: ${#files[@]} files changed since ${FORMAT_BASE:0:12}, their changed lines are formatted" >&2
        exit 0 ;;
esac
printf '%s\n' "$out"
echo "check_format: lines changed since ${FORMAT_BASE:0:12} are not formatted (scripts/check_format.sh --fix formats them)" >&2
exit 1
