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
# opaque handles' private fields are not ABI: suppressed (opaque.suppr)
abidiff --no-added-syms --suppressions "$(dirname "$0")/opaque.suppr" "$baseline" "$tmp"
st=$?
if [ $((st & 3)) -ne 0 ]; then echo "abi-check: abidiff failed ($st)"; exit 1; fi
# Added functions are left out (--no-added-syms), so any change reported
# here touches something that existed: a removed symbol (8) or a changed
# type, parameter or enum (4).  Both fail; a deliberate change is
# recorded as docs/ABI.md says.
if [ $((st & 12)) -ne 0 ]; then
    echo "abi-check: the ABI of existing symbols changed against $baseline (see above)."
    echo "If deliberate: docs/ABI.md (compatible -> make abi-baseline; breaking ->"
    echo "SONAME bump + new baseline)."
    exit 1
fi
# Added symbols pass the comparison above, so a leaked internal one would
# too: only public names may be exported (recnn__* are internal; GCC
# exports a target_clones ifunc whatever -fvisibility says, docs/ABI.md).
leaked=$(nm -D --defined-only "$lib" | awk '$3 ~ /^recnn__/ || ($3 !~ /^recnn_/ && $2 != "A") {print $3}')
if [ -n "$leaked" ]; then
    echo "abi-check: internal symbols exported (src/librecnn.map should hide them):"
    echo "$leaked"
    exit 1
fi
echo "abi-check: passed (no change to existing symbols; additions allowed; nothing internal exported)"
