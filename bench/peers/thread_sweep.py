#!/usr/bin/python3
"""Measures every peer under each split of a 2-thread budget between the
torch (ATen/OpenMP) pool and the OpenBLAS pool, to choose each peer's
FASTEST table.  Writes bench/results/peer_threads.json and prints a table.

  /usr/bin/python3 bench/peers/thread_sweep.py [--repeats R]

Configurations: torch 1 + BLAS 1, torch 1 + BLAS 2, torch 2 + BLAS 1,
torch 2 + BLAS 2.  Each is run R times (default 2, interleaved so that a
burst of load from other processes hits every configuration alike) and
the smallest median epoch time is kept.
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
CONFIGS = [(1, 1), (1, 2), (2, 1), (2, 2)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--only", default=None)
    a = ap.parse_args()
    res = {}
    for name, args in CASES:
        if a.only and name not in a.only.split(","):
            continue
        for rep in range(a.repeats):
            for tt, bt in CONFIGS:
                argv = [PY, os.path.join(HERE, args[0])] + args[1:] + [
                    "--threads", "2", "--torch-threads", str(tt), "--blas-threads", str(bt)]
                r = subprocess.run(argv, capture_output=True, text=True)
                try:
                    es = json.loads(r.stdout.strip().splitlines()[-1])["epoch_seconds"]
                except (ValueError, IndexError, KeyError):
                    es = None
                k = "torch%d+blas%d" % (tt, bt)
                cur = res.setdefault(name, {}).get(k)
                if es is not None and (cur is None or es < cur):
                    res[name][k] = es
                print("%-14s %-13s %s" % (name, k, "%.4f s" % es if es else "failed"),
                      file=sys.stderr, flush=True)
    out = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
           "budget": 2, "repeats": a.repeats, "epoch_seconds": res,
           "fastest": {n: min(v, key=v.get) for n, v in res.items() if v}}
    path = os.path.join(REPO, "bench", "results", "peer_threads.json")
    if a.only and os.path.exists(path):
        with open(path) as f:
            old = json.load(f)
        old["epoch_seconds"].update(out["epoch_seconds"])
        old["fastest"].update(out["fastest"])
        old["date"] = out["date"]
        out = old
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    for n, v in res.items():
        print("%-14s " % n + "  ".join("%s %.4f" % (k, s) for k, s in sorted(v.items()))
              + "  -> fastest " + out["fastest"].get(n, "?"))


if __name__ == "__main__":
    main()
