#!/bin/sh
# Compares the built library's ABI with the recorded baseline.  abidiff's
# exit status is a bit field: 4 = ABI changed (compatible, e.g. symbols
# added), 8 = incompatible change.  Only 8 (and tool errors) fail.
set -u
lib=$1
baseline=$2
if ! command -v abidiff >/dev/null; then
    echo "abi-check: abidiff missing (make deps installs abigail-tools)"; exit 1
fi
if [ ! -f "$baseline" ]; then
    echo "abi-check: no baseline at $baseline (make abi-baseline records one)"; exit 1
fi
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
abidw --headers-dir include --headers-dir include/recnn --no-corpus-path \
    --out-file "$tmp" "$lib" || { echo "abi-check: abidw failed"; exit 1; }
abidiff --no-added-syms "$baseline" "$tmp"
st=$?
if [ $((st & 8)) -ne 0 ]; then
    echo "abi-check: INCOMPATIBLE change against $baseline (see above)."
    echo "A deliberate break needs a SONAME bump and a new baseline: docs/ABI.md."
    exit 1
fi
if [ $((st & 3)) -ne 0 ]; then echo "abi-check: abidiff failed ($st)"; exit 1; fi
[ $((st & 4)) -ne 0 ] && echo "abi-check: compatible changes only (additions)"
echo "abi-check: passed"
