"""Shared plumbing for the PyTorch peers (bench/peers/*.py).

Run with Debian's /usr/bin/python3 (python3-torch 1.13, CPU).  Every peer:

  --threads N        the thread budget of the run (the C side gets the same)
  --torch-threads T  override: torch.set_num_threads(T)
  --blas-threads B   override: OpenBLAS threads (OPENBLAS_NUM_THREADS, set
                     before torch is imported, so OpenBLAS reads it at load)
  --blas-core C      override: OpenBLAS's kernel set, "auto" (the one it
                     detects) or a name for OPENBLAS_CORETYPE ("Haswell")
  --epochs E --seed S --data DIR (default ${RECNN_DATA_DIR:-../shared/datasets}
                     relative to the repository root)
  --split FILE       optional: use this split instead of drawing one
                     (lines "user<TAB>item<TAB>rating<TAB>part", part in
                     train/valid/test), so a C bench and a peer can share
                     the very same draw.

Threading: torch (ATen, OpenMP) and OpenBLAS (pthreads in Debian) are two
separate pools.  With a budget of N threads each peer uses the split of N
between the two, and the OpenBLAS kernel set, that were fastest on this
machine (measured by thread_sweep.py, see docs/PERFORMANCE.md); the choice
is printed in every JSON line as "torch_threads", "blas_threads" and
"blas_core".  (On this Zen 4 OpenBLAS 0.3.21 detects "Cooperlake" and
runs AVX-512 kernels; its AVX2 "Haswell" kernels are faster here.)

stdout carries only JSON lines; progress goes to stderr.
"""

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def parse_args(description, fastest, extra=None, default_epochs=20):
    """fastest: {budget: (torch_threads, blas_threads[, blas_core])}, or a
    function of the parsed arguments returning one (a script whose
    variants differ); budgets not listed use (1, N) and the detected
    kernels."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--threads", type=int, default=int(os.environ.get("RECNN_THREADS", "1")))
    p.add_argument("--torch-threads", type=int, default=0)
    p.add_argument("--blas-threads", type=int, default=0)
    p.add_argument("--blas-core", default=None)
    p.add_argument("--epochs", type=int, default=default_epochs)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--data", default=None)
    p.add_argument("--split", default=None)
    if extra:
        extra(p)
    a = p.parse_args()
    if callable(fastest):
        fastest = fastest(a)
    best = fastest.get(a.threads, (1, a.threads))
    tt, bt = best[0], best[1]
    core = best[2] if len(best) > 2 else "auto"
    if a.blas_core:
        core = a.blas_core
    a.blas_core = core
    if a.torch_threads > 0:
        tt = a.torch_threads
    if a.blas_threads > 0:
        bt = a.blas_threads
    a.torch_threads, a.blas_threads = tt, bt
    if a.data is None:
        a.data = os.environ.get("RECNN_DATA_DIR", os.path.join(REPO, "..", "shared", "datasets"))
    return a


def import_torch(a):
    """Sets the thread split and the kernel set, then imports torch
    (OpenBLAS reads OPENBLAS_NUM_THREADS and OPENBLAS_CORETYPE when the
    library is loaded)."""
    os.environ["OPENBLAS_NUM_THREADS"] = str(a.blas_threads)
    if a.blas_core == "auto":
        os.environ.pop("OPENBLAS_CORETYPE", None)
    else:
        os.environ["OPENBLAS_CORETYPE"] = a.blas_core
    os.environ["OMP_NUM_THREADS"] = str(a.torch_threads)
    import torch
    torch.set_num_threads(a.torch_threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.manual_seed(a.seed)
    return torch


def emit(obj):
    sys.stdout.write(json.dumps(obj, sort_keys=False) + "\n")
    sys.stdout.flush()


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def base_line(a, model, data, variant=""):
    return {"peer": "pytorch", "bench": "peer_" + model, "model": model, "data": data,
            "variant": variant, "threads": a.threads, "torch_threads": a.torch_threads,
            "blas_threads": a.blas_threads, "blas_core": a.blas_core, "seed": a.seed}


def skip(a, model, data, why):
    d = base_line(a, model, data)
    d["skip"] = why
    emit(d)
    sys.exit(0)


def load_ml100k(a, model):
    """Returns numpy arrays user, item, rating (float32), ts (int64) with the
    file's external ids, or prints a skip line and exits."""
    import numpy as np
    path = os.path.join(a.data, "ml-100k", "u.data")
    if not os.path.exists(path):
        skip(a, model, "ml-100k", "ml-100k not found at %s (set RECNN_DATA_DIR)" % path)
    raw = np.loadtxt(path, dtype=np.int64, delimiter="\t")
    return raw[:, 0], raw[:, 1], raw[:, 2].astype(np.float32), raw[:, 3]


def random_split(n, seed, test_frac=0.1, valid_frac=0.1):
    """Random test_frac of the ratings for test, then valid_frac of the rest
    for validation.  Returns index arrays (train, valid, test)."""
    import numpy as np
    rs = np.random.RandomState(seed)
    perm = rs.permutation(n)
    n_test = int(round(n * test_frac))
    test, rest = perm[:n_test], perm[n_test:]
    n_valid = int(round(len(rest) * valid_frac))
    valid, train = rest[:n_valid], rest[n_valid:]
    return np.sort(train), np.sort(valid), np.sort(test)


def read_split(path):
    """A split file written by a C bench: returns (user, item, rating, part)
    with part 0 = train, 1 = valid, 2 = test."""
    import numpy as np
    us, its, rs, ps = [], [], [], []
    code = {"train": 0, "valid": 1, "test": 2}
    with open(path) as f:
        for line in f:
            t = line.split()
            if len(t) < 4:
                continue
            us.append(int(t[0]))
            its.append(int(t[1]))
            rs.append(float(t[2]))
            ps.append(code[t[3]])
    return (np.array(us, dtype=np.int64), np.array(its, dtype=np.int64),
            np.array(rs, dtype=np.float32), np.array(ps, dtype=np.int64))


def rating_split(a, model):
    """ML-100K 90/10 random split with 10 % of train held out for validation
    (or --split).  Returns dict with dense indices: n_users, n_items, and
    for part in train/valid/test: (u, i, r) arrays.  Index space = users and
    items of the TRAINING part; valid/test entries whose user or item is not
    in train keep index -1 (predicted as the default rating 3)."""
    import numpy as np
    if a.split:
        u, i, r, part = read_split(a.split)
        tr, va, te = (np.nonzero(part == k)[0] for k in (0, 1, 2))
    else:
        u, i, r, _ = load_ml100k(a, model)
        tr, va, te = random_split(len(r), a.seed)
    users = np.unique(u[tr])
    items = np.unique(i[tr])
    umap = {int(x): k for k, x in enumerate(users)}
    imap = {int(x): k for k, x in enumerate(items)}

    def idx(sel):
        uu = np.array([umap.get(int(x), -1) for x in u[sel]], dtype=np.int64)
        ii = np.array([imap.get(int(x), -1) for x in i[sel]], dtype=np.int64)
        return uu, ii, r[sel].astype(np.float32)

    return {"n_users": len(users), "n_items": len(items),
            "train": idx(tr), "valid": idx(va), "test": idx(te)}


class Timer:
    def __init__(self):
        self.t = []

    def __enter__(self):
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.t.append(time.perf_counter() - self.t0)

    def mean(self):
        """Median epoch time, excluding the first (warm-up) when there are
        at least 3 epochs.  The median, not the mean: these machines are
        shared, and one epoch preempted by another process should not move
        the figure."""
        t = sorted(self.t[1:] if len(self.t) >= 3 else self.t)
        if not t:
            return float("nan")
        m = len(t) // 2
        return t[m] if len(t) % 2 else (t[m - 1] + t[m]) / 2
