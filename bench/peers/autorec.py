#!/usr/bin/python3
"""PyTorch peer: dense I-AutoRec (Sedhain et al., WWW 2015), written the
usual way: the items x users rating matrix as a dense tensor, a mask of the
observed entries, two nn.Linear layers.

Model: input r_i (item i's ratings by every training user, 0 where
unobserved), h = sigmoid(V r_i + mu), out = W h + b (identity), k = 500.
Objective: sum over observed entries of (r - out)^2 + lambda/2 (|W|^2 + |V|^2),
lambda = 100 by default.
  --optim rprop : full batch, torch.optim.Rprop (defaults), one step = one epoch
  --optim adam  : mini-batches of 64 items, Adam lr 1e-3, the regulariser
                  scaled by batch/items so an epoch sums to the objective
Protocol: ML-100K, random 90/10 train/test (seed), 10 % of train held out
as validation (with --split FILE: bench_autorec's split, so both train on
the same ratings; the harness passes it); test RMSE at the epoch with the best validation RMSE
(predictions clipped to [1, 5]; users/items unseen in train predict 3).
Figures: epoch_seconds (training step(s) only, median excluding epoch 1),
rmse (test, at best validation epoch), valid_rmse, best_epoch; with
--inits N, N initialisations (seeds seed .. seed+N-1) on the same split:
the median epoch over all of them and the mean of each other figure.

Threads (measured on this machine, 2 cores, see docs/PERFORMANCE.md):
budget 1 -> torch 1 + OpenBLAS 1; budget 2 -> torch 1 + OpenBLAS 2 (the
GEMMs dominate and run in OpenBLAS; a second torch thread only adds a
second spinning pool); OpenBLAS's AVX2 "Haswell" kernels except for Adam
at budget 1 (FASTEST, from thread_sweep.py).
"""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

# thread_sweep.py, 2026-11-25: full-batch RProp's five large GEMMs run
# faster on OpenBLAS's AVX2 kernels; Adam's 64-row ones only at budget 2
FASTEST = {"rprop": {1: (1, 1, "Haswell"), 2: (1, 2, "Haswell")},
           "adam": {1: (1, 1, "auto"), 2: (1, 2, "Haswell")}}


def extra(p):
    p.add_argument("--optim", choices=["rprop", "adam"], default="rprop")
    p.add_argument("--hidden", type=int, default=500)
    p.add_argument("--l2", type=float, default=100.0)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--inits", type=int, default=1,
                   help="train this many initialisations (seeds seed, seed+1, ...) on the "
                        "same split; rmse = their mean")


def main():
    a = common.parse_args(__doc__.splitlines()[0], lambda a: FASTEST[a.optim], extra,
                          default_epochs=200)
    torch = common.import_torch(a)
    import numpy as np
    sp = common.rating_split(a, "autorec")
    nu, ni = sp["n_users"], sp["n_items"]
    u, i, r = sp["train"]
    R = torch.zeros(ni, nu)
    M = torch.zeros(ni, nu)
    R[torch.from_numpy(i), torch.from_numpy(u)] = torch.from_numpy(r)
    M[torch.from_numpy(i), torch.from_numpy(u)] = 1.0

    def run(seed):
        torch.manual_seed(seed)
        enc = torch.nn.Linear(nu, a.hidden)
        dec = torch.nn.Linear(a.hidden, nu)
        params = list(enc.parameters()) + list(dec.parameters())
        if a.optim == "rprop":
            opt = torch.optim.Rprop(params)
        else:
            opt = torch.optim.Adam(params, lr=a.lr)

        def forward(x):
            return dec(torch.sigmoid(enc(x)))

        def objective(x, m, reg_scale):
            out = forward(x)
            err = ((out - x) * m).pow(2).sum()
            reg = a.l2 / 2 * (enc.weight.pow(2).sum() + dec.weight.pow(2).sum())
            return err + reg_scale * reg

        def rmse(part):
            uu, ii, rr = sp[part]
            with torch.no_grad():
                out = forward(R)
            pred = np.full(len(rr), 3.0, dtype=np.float32)
            ok = (uu >= 0) & (ii >= 0)
            pred[ok] = out[torch.from_numpy(ii[ok]), torch.from_numpy(uu[ok])].numpy()
            pred = np.clip(pred, 1.0, 5.0)
            return float(np.sqrt(np.mean((pred - rr) ** 2)))

        timer = common.Timer()
        best = (float("inf"), 0, float("nan"))
        g = torch.Generator().manual_seed(seed)
        for ep in range(1, a.epochs + 1):
            with timer:
                if a.optim == "rprop":
                    opt.zero_grad()
                    loss = objective(R, M, 1.0)
                    loss.backward()
                    opt.step()
                else:
                    perm = torch.randperm(ni, generator=g)
                    for s in range(0, ni, a.batch):
                        b = perm[s:s + a.batch]
                        opt.zero_grad()
                        loss = objective(R[b], M[b], len(b) / ni)
                        loss.backward()
                        opt.step()
            v = rmse("valid")
            if v < best[0]:
                best = (v, ep, rmse("test"))
            if ep % 20 == 0 or ep == 1:
                common.log("autorec %s epoch %d loss %.1f valid %.4f (%.3fs)"
                           % (a.optim, ep, float(loss), v, timer.t[-1]))
        return timer, best

    runs = [run(a.seed + r) for r in range(a.inits)]
    times = sorted(t for timer, _ in runs for t in timer.t[1:])
    best = tuple(sum(b[i] for _, b in runs) / len(runs) for i in range(3))
    per = [b[2] for _, b in runs]
    sd = (sum((x - best[2]) ** 2 for x in per) / (len(per) - 1)) ** 0.5 if len(per) > 1 else 0.0
    line = common.base_line(a, "autorec", "ml-100k", a.optim)
    # the same ratings as bench_autorec when it wrote its split (--split)
    line["split"] = "bench_autorec's split file" if a.split else "numpy random split"

    line.update({"epochs": a.epochs, "hidden": a.hidden, "l2": a.l2,
                 "epoch_seconds": times[len(times) // 2] if times else float("nan"),
                 "rmse": best[2], "valid_rmse": best[0], "best_epoch": best[1],
                 "inits": a.inits, "rmse_per_init": per, "rmse_sd": sd,
                 "note": "dense I-AutoRec; epoch_seconds = training only, median excl. epoch 1"})
    if a.optim == "adam":
        line.update({"batch": a.batch, "lr": a.lr})
    common.emit(line)


if __name__ == "__main__":
    main()
