#!/bin/sh
# Builds every fuzz/fuzz_*.c as a libFuzzer target (clang, ASan + UBSan)
# with the library sources compiled in, then runs each for $1 seconds
# (default 30).  `make fuzz FUZZ_SECONDS=N` calls this.  Output, corpora
# and crash artifacts go to build-fuzz/; seeds come from fuzz/corpus/<name>/.
# Exit status: non-zero when a target fails to build or finds a crash.
set -u
SECS=${1:-30}
[ -n "$SECS" ] || SECS=30
cd "$(dirname "$0")/.." || exit 1
OUT=build-fuzz
CC=${FUZZ_CC:-clang}
mkdir -p "$OUT"
PC=$(pkg-config --cflags --libs openblas lapacke)
FLAGS="-std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
 -fno-omit-frame-pointer -D_POSIX_C_SOURCE=200809L -DRECNN_BUILDING \
 -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -DRECNN_NO_CLONES -Iinclude -Isrc -fopenmp"
fail=0
# The library sources, compiled once with clang (instrumented for the
# fuzzer, not linked with its main), then linked into every target.
LIBFLAGS=$(echo "$FLAGS" | sed 's/-fsanitize=fuzzer,/-fsanitize=fuzzer-no-link,/')
mkdir -p "$OUT/obj"
OBJS=""
for c in src/*/*.c; do
    o="$OUT/obj/$(echo "$c" | tr '/' '_' | sed 's/\.c$/.o/')"
    # shellcheck disable=SC2086
    if ! $CC $LIBFLAGS -Wno-pass-failed $(pkg-config --cflags openblas lapacke) -c "$c" -o "$o"; then
        echo "fuzz: $c does not build with $CC" >&2
        exit 1
    fi
    OBJS="$OBJS $o"
done
for src in fuzz/fuzz_*.c; do
    [ -f "$src" ] || continue
    name=$(basename "$src" .c)
    echo "== build $name"
    # shellcheck disable=SC2086
    if ! $CC $FLAGS "$src" $OBJS $PC -lm -o "$OUT/$name"; then
        echo "fuzz: $name does not build" >&2
        fail=1
        continue
    fi
    corpus="$OUT/corpus/$name"
    mkdir -p "$corpus"
    if [ -d "fuzz/corpus/$name" ]; then
        cp -n fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null || true
    fi
    echo "== run $name for ${SECS}s"
    if ! OMP_NUM_THREADS=1 ASAN_OPTIONS=detect_leaks=1 "$OUT/$name" \
        -max_total_time="$SECS" -max_len=8192 -timeout=20 -rss_limit_mb=4096 \
        -artifact_prefix="$OUT/$name-" -print_final_stats=1 "$corpus" \
        > "$OUT/$name.log" 2>&1; then
        echo "fuzz: $name FAILED; see $OUT/$name.log and $OUT/$name-*" >&2
        tail -n 40 "$OUT/$name.log" >&2
        fail=1
    else
        grep -E "^stat::number_of_executed_units|^#.*DONE" "$OUT/$name.log" | tail -n 2
    fi
done
exit $fail
