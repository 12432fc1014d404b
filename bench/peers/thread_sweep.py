#!/usr/bin/python3
"""Measures every peer under each split of a thread budget between the
torch (ATen/OpenMP) pool and the OpenBLAS pool, and under each OpenBLAS
kernel set, to choose each peer's FASTEST table.  Writes
bench/results/peer_threads.json and prints a table.

  /usr/bin/python3 bench/peers/thread_sweep.py [--repeats R] [--only NAMES]

Configurations: budget 1: torch 1 + BLAS 1; budget 2: torch 1 + BLAS 1,
torch 1 + BLAS 2, torch 2 + BLAS 1, torch 2 + BLAS 2; each with the
kernels OpenBLAS detects ("auto": Cooperlake, AVX-512, on this Zen 4) and
with its AVX2 "Haswell" kernels (OPENBLAS_CORETYPE).  Each is run R times
(default 2, interleaved so that a burst of load from other processes hits
every configuration alike) and the smallest median epoch time is kept.
"""
import argparse
import datetime
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PY = "/usr/bin/python3"
CASES = [
    ("autorec-rprop", ["autorec.py", "--optim", "rprop", "--epochs", "15"]),
    ("autorec-adam", ["autorec.py", "--optim", "adam", "--epochs", "5"]),
    ("mf-ml100k", ["mf.py", "--epochs", "6"]),
    ("neumf", ["neumf.py", "--epochs", "3"]),
    ("deep_ae", ["deep_ae.py", "--epochs", "10"]),
]
CONFIGS = {1: [(1, 1)], 2: [(1, 1), (1, 2), (2, 1), (2, 2)]}
CORES = ["auto", "Haswell"]


def config_name(tt, bt, core):
    return "torch%d+blas%d" % (tt, bt) + ("" if core == "auto" else " " + core)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--only", default=None)
    ap.add_argument("--timeout", type=float, default=120,
                    help="seconds per run; a slower configuration counts as failed")
    a = ap.parse_args()
    res = {1: {}, 2: {}}  # budget -> peer -> configuration -> seconds
    for name, args in CASES:
        if a.only and name not in a.only.split(","):
            continue
        for rep in range(a.repeats):
            for budget, configs in CONFIGS.items():
                for tt, bt in configs:
                    for core in CORES:
                        argv = [PY, os.path.join(HERE, args[0])] + args[1:] + [
                            "--threads", str(budget), "--torch-threads", str(tt),
                            "--blas-threads", str(bt), "--blas-core", core]
                        try:
                            r = subprocess.run(argv, capture_output=True, text=True,
                                               timeout=a.timeout)
                            es = json.loads(r.stdout.strip().splitlines()[-1])["epoch_seconds"]
                        except (ValueError, IndexError, KeyError, subprocess.TimeoutExpired):
                            es = None  # failed, or far slower than the others
                        k = config_name(tt, bt, core)
                        cur = res[budget].setdefault(name, {}).get(k)
                        if es is not None and (cur is None or es < cur):
                            res[budget][name][k] = es
                        print("%-14s budget %d %-22s %s" % (name, budget, k,
                                                            "%.4f s" % es if es else "failed"),
                              file=sys.stderr, flush=True)
    out = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
           "repeats": a.repeats,
           "budgets": {str(b): {"epoch_seconds": v,
                                "fastest": {n: min(c, key=c.get) for n, c in v.items() if c}}
                       for b, v in res.items()}}
    path = os.path.join(REPO, "bench", "results", "peer_threads.json")
    if a.only and os.path.exists(path):
        with open(path) as f:
            old = json.load(f)
        for b, v in out["budgets"].items():
            ob = old.setdefault("budgets", {}).setdefault(b, {"epoch_seconds": {}, "fastest": {}})
            ob["epoch_seconds"].update(v["epoch_seconds"])
            ob["fastest"].update(v["fastest"])
        old["date"] = out["date"]
        out = old
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    for b, v in sorted(out["budgets"].items()):
        for n, c in sorted(v["epoch_seconds"].items()):
            print("budget %s %-14s " % (b, n) + "  ".join("%s %.4f" % kv for kv in sorted(c.items()))
                  + "  -> fastest " + v["fastest"].get(n, "?"))


if __name__ == "__main__":
    main()
