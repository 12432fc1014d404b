#!/bin/sh
# bench/profile.sh — where the time goes: runs one model's training (or any
# command) under `perf record` and prints the top functions with their
# share of the samples, and the share per shared object (BLAS, the
# library's own code, libc, libgomp, kernel).  Re-runnable; used for
# docs/PERFORMANCE.md section 6.
#
#   sh bench/profile.sh MODEL            a preset (list below)
#   sh bench/profile.sh all              every preset, one after the other
#   sh bench/profile.sh -- CMD [ARGS]    any command, e.g.
#        sh bench/profile.sh -- build/bench/bench_nn --only dense
#
# Presets (ML-100K unless said; the settings are the benchmarks'):
#   autorec   I-AutoRec k=500, full-batch RProp, 40 epochs
#   deep_ae   user AE 128-256-256, SELU, momentum SGD, batch 32, 20 epochs
#   mf        biased MF, SGD, 100 factors, 100 epochs
#   neumf     NeuMF 16 / 16-8-4, 4 negatives, batch 256, Adam, 5 epochs
#   itemknn   item-item similarities + neighbour lists on ml-latest-small, 3 fits
#   ease      EASE (Gram + SPD inverse of 1682 x 1682), 5 fits
#
# Environment:
#   BUILD=build      build directory holding bench/prof_model (make bench builds it)
#   THREADS=1        thread budget (RECNN_THREADS, OMP_NUM_THREADS, OPENBLAS_NUM_THREADS)
#   TOP=15           functions listed
#   FREQ=1999        samples per second
#   CALLERS=0        1: also print the callers of the top functions (perf -g)
#   OUT=/tmp/recnn-profile   where perf.data files are kept
#   RECNN_DATA_DIR   datasets (default ../shared/datasets from the repository)
#
# Needs perf (linux-perf) and perf_event_paranoid <= 2 (user-space samples
# of one's own processes).  Samples are wall-clock (cpu-clock) samples of
# every thread of the process, so with THREADS=2 a spinning OpenMP or BLAS
# worker shows up as time in libgomp / blas_thread_server.
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
THREADS=${THREADS:-1}
TOP=${TOP:-15}
FREQ=${FREQ:-1999}
CALLERS=${CALLERS:-0}
OUT=${OUT:-/tmp/recnn-profile}
RECNN_DATA_DIR=${RECNN_DATA_DIR:-$(cd .. && pwd)/shared/datasets}
export RECNN_DATA_DIR RECNN_THREADS="$THREADS" OMP_NUM_THREADS="$THREADS" \
    OPENBLAS_NUM_THREADS="$THREADS"

if ! command -v perf >/dev/null 2>&1; then
    echo "profile: perf not found (apt-get install linux-perf)" >&2
    exit 1
fi
mkdir -p "$OUT" || exit 1
PM="$BUILD/bench/prof_model"

preset() {
    case "$1" in
    autorec) echo "autorec|variant=item hidden=500 l2=100 optimizer=rprop epochs=40 patience=0|" ;;
    deep_ae) echo "deep_ae|epochs=20 patience=0|" ;;
    mf) echo "mf|solver=sgd factors=100 epochs=100 patience=0|" ;;
    neumf) echo "neumf|factors=16 layers=16,8,4 negatives=4 batch=256 lr=0.001 epochs=5|--binary" ;;
    itemknn) echo "itemknn||--data ml-latest-small --repeat 3" ;;
    ease) echo "ease||--repeat 5" ;;
    *) return 1 ;;
    esac
}

profile() { # name, then the command
    name=$1
    shift
    data="$OUT/$name.t$THREADS.perf.data"
    echo "== profile: $name, $THREADS thread(s), $(date -u +%Y-%m-%dT%H:%M:%SZ)," \
        "commit $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- src 2>/dev/null || echo ' (src modified)')"
    echo "   load average: $(cut -d' ' -f1-3 /proc/loadavg); command: $*"
    g=""
    [ "$CALLERS" = 1 ] && g="-g"
    if ! perf record -q $g -F "$FREQ" -o "$data" -- "$@" 2>"$OUT/$name.stderr"; then
        echo "   FAILED:" && tail -5 "$OUT/$name.stderr" && return 1
    fi
    grep -v '^\[ perf' "$OUT/$name.stderr" | tail -2 | sed 's/^/   /'
    echo "   share  object / function"
    perf report -i "$data" --no-children --sort dso,sym --stdio 2>/dev/null |
        awk -v top="$TOP" '/^#/ || NF < 3 { next }
            { pct = $1; dso = $2; sub(/^[^%]*%[ \t]+[^ \t]+[ \t]+\[[^]]*\][ \t]+/, "");
              printf("   %6s  %-24s %s\n", pct, dso, $0); if (++n >= top) exit }'
    echo "   by object:"
    perf report -i "$data" --no-children --sort dso --stdio 2>/dev/null |
        awk '/^#/ || NF < 2 { next } { printf("   %6s  %s\n", $1, $2); if (++n >= 6) exit }'
    if [ "$CALLERS" = 1 ]; then
        echo "   callers (children view, top entries):"
        perf report -i "$data" --children --sort sym --stdio -G --percent-limit 5 2>/dev/null |
            grep -v '^#' | grep -v '^$' | head -60 | sed 's/^/   /'
    fi
    echo
}

if [ "${1:-}" = "--" ]; then
    shift
    [ $# -gt 0 ] || { echo "profile: -- needs a command" >&2; exit 2; }
    profile "$(basename "$1")" "$@"
    exit $?
fi
if [ ! -x "$PM" ]; then
    echo "profile: $PM not built (make BUILD=$BUILD $PM)" >&2
    exit 1
fi
names=${1:-}
[ "$names" = all ] && names="autorec deep_ae mf neumf itemknn ease"
if [ -z "$names" ]; then
    sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
rc=0
for n in $names; do
    p=$(preset "$n") || { echo "profile: unknown preset $n" >&2; rc=2; continue; }
    kind=${p%%|*}
    rest=${p#*|}
    settings=${rest%%|*}
    extra=${rest#*|}
    # shellcheck disable=SC2086
    profile "$n" "$PM" "$kind" "$settings" $extra || rc=1
done
exit $rc
