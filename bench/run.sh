#!/bin/sh
# bench/run.sh [scale] — runs every benchmark and the PyTorch peers, writes
# bench/results/*.json and regenerates docs/BENCHMARKS.md.
#
# Called by `make bench` (after building lib and every bench/*.c into
# $BUILD/bench/) and `make bench-scale` (`scale`: Netflix-size runs, C only,
# at the largest thread count).  Method: docs/PERFORMANCE.md.
#
# Environment:
#   BUILD=build            build directory holding bench/<name> binaries
#   RECNN_DATA_DIR=...     datasets (default ../shared/datasets from the repo)
#   BENCH_THREADS=1,2      thread counts (default 1, 2, 4, ... up to the cores)
#   BENCH_SEED=42          seed given to every program (--seed)
#   BENCH_ONLY=a,b         only these benches/peers ("peers" = all peers)
#   BENCH_NO_PEERS=1       skip the PyTorch peers
#   BENCH_TIMEOUT=seconds  per program run (default 1200; scale 7200)
#   OMP_WAIT_POLICY=passive  passed through and recorded (advised on a shared
#                          machine: docs/PERFORMANCE.md §2)
set -u
cd "$(dirname "$0")/.." || exit 1

PY=/usr/bin/python3
MODE=normal
[ "${1:-}" = scale ] && MODE=scale

if [ ! -x "$PY" ]; then
    echo "bench: $PY not found; it is needed for the harness (standard library only)." >&2
    exit 1
fi

# The peers need Debian's python3-torch.  Install it when missing (as root),
# otherwise say why the peers are skipped.
NO_PEERS=""
if [ -n "${BENCH_NO_PEERS:-}" ]; then
    NO_PEERS="BENCH_NO_PEERS is set"
elif [ "$MODE" = normal ] && ! "$PY" -c "import torch" >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "bench: installing python3-torch for the peers (apt-get) ..." >&2
        if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch; } >&2; then
            echo "bench: apt-get could not install python3-torch" >&2
        fi
    fi
    if ! "$PY" -c "import torch" >/dev/null 2>&1; then
        NO_PEERS="python3-torch is not installed and could not be installed (run as root: apt-get install python3-torch)"
        echo "bench: PEERS SKIPPED: $NO_PEERS" >&2
    fi
fi

set -- --build "${BUILD:-build}" --seed "${BENCH_SEED:-42}"
[ "$MODE" = scale ] && set -- "$@" --scale
[ -n "${BENCH_THREADS:-}" ] && set -- "$@" --threads-list "$BENCH_THREADS"
[ -n "${BENCH_ONLY:-}" ] && set -- "$@" --only "$BENCH_ONLY"
[ -n "${BENCH_TIMEOUT:-}" ] && set -- "$@" --timeout "$BENCH_TIMEOUT"
[ -n "$NO_PEERS" ] && set -- "$@" --no-peers "$NO_PEERS"

"$PY" bench/harness.py "$@" || exit 1
"$PY" bench/report.py || exit 1
echo "bench: results in bench/results/, tables in docs/BENCHMARKS.md" >&2
