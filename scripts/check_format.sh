#!/usr/bin/env bash
# check_format.sh [FILE...] — checks C files against the pinned .clang-format without changing
# them: prints a unified diff per file that clang-format would change and exits 1 if any.
# No arguments: every tracked *.c and *.h outside third_party/. CLANG_FORMAT names the binary
# (default clang-format; the style is pinned for clang-format 14, Debian 12's).
set -euo pipefail
cd "$(dirname "$0")/.."
cf=${CLANG_FORMAT:-clang-format}
command -v "$cf" >/dev/null || { echo "check_format: '$cf' not found (apt install clang-format)" >&2; exit 2; }
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
