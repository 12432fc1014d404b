#!/usr/bin/python3
"""PyTorch peer: biased matrix factorisation trained by SGD, written the
usual PyTorch way.

Model: pred = mu + b_u + b_i + p_u . q_i (mu = training mean), 100
factors on ML-100K and 32 on the synthetic set (librecnn's MF default and
its bench_mf speed setting), init N(0, 0.05), biases 0.  Loss per
mini-batch: 1/2 sum (r - pred)^2 + reg/2 (|p_u|^2 + |q_i|^2) + reg_bias/2
(b_u^2 + b_i^2) over the batch's ratings (the per-rating regularisation of
Koren-style SGD); reg 0.1, reg_bias 0.1, lr 0.01, no decay, up to 50
epochs -- librecnn's MF defaults; plain SGD, mini-batches of 1024
shuffled ratings.  With a summed loss the
update of each touched row equals the per-rating SGD update summed over
the batch.

Formulation (--formulation; all three compute the same update):
  manual (default): no autograd: the batch's gradients written out by
          hand (e * q_i - reg * p_u, ...) and applied with index_add_ on
          the factor tables -- the fastest formulation on this machine
          (ML-100K epoch, torch 1 thread, same run: see the docs of
          bench/bench_mf.c and docs/models/mf.md);
  sparse: nn.Embedding(sparse=True) + torch.optim.SGD (autograd), so each
          step touches only the batch's rows;
  dense:  nn.Embedding (dense gradients) + torch.optim.SGD: every step
          writes the whole tables (much slower on large tables).
Data (--dataset):
  ml-100k: random 90/10 train/test, 10 % of train as validation (as the
          autorec peer); test RMSE (clipped to [1,5]) at the best
          validation epoch; unseen users/items predict mu.
  synthetic-10m: 200,000 users x 20,000 items, 10,000,000 ratings from a
          rank-10 model plus noise, rounded to 1..5; speed only
          (epoch_seconds, ratings_per_second); default 2 epochs.
Speed figures: epoch_seconds (median epoch, wall), ratings_per_second,
ratings_per_second_per_core (divided by the torch threads), and
epoch_cpu_seconds / ratings_per_cpu_second (process CPU time of the
median epoch: on a machine others load, the stable figure).
Threads: one torch thread at both budgets (FASTEST, from thread_sweep.py).
No GEMM here (the work is small ATen gather/scatter kernels): the
OpenBLAS threads and kernels do not matter (the sweep's 2-thread choice,
OpenBLAS 2 with its "Haswell" kernels, won by 3 %, within noise); a second
torch thread was 10x slower when the machine was loaded (ML-100K epoch:
torch1 0.18 s, torch2 1.8 s), because ATen's OpenMP team spins and waits
on a core another process holds, and ~5 % slower on a quiet machine.
"""
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

FASTEST = {1: (1, 1, "auto"), 2: (1, 2, "Haswell")}  # thread_sweep.py, 2026-11-25


def extra(p):
    p.add_argument("--dataset", choices=["ml-100k", "synthetic-10m"], default="ml-100k")
    p.add_argument("--factors", type=int, default=0, help="0: 100 (ml-100k) / 32 (synthetic)")
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--reg", type=float, default=0.1)
    p.add_argument("--reg-bias", type=float, default=0.1)
    p.add_argument("--init-std", type=float, default=0.05)
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--formulation", choices=["manual", "sparse", "dense"], default="manual")
    p.add_argument("--ratings", type=int, default=10_000_000)


def synthetic(seed, n_users, n_items, n):
    import numpy as np
    rs = np.random.RandomState(seed)
    P = rs.normal(0, 0.4, (n_users, 10)).astype(np.float32)
    Q = rs.normal(0, 0.4, (n_items, 10)).astype(np.float32)
    u = rs.randint(0, n_users, n, dtype=np.int64)
    i = rs.randint(0, n_items, n, dtype=np.int64)
    r = 3.5 + np.einsum("ij,ij->i", P[u], Q[i]) + rs.normal(0, 0.5, n).astype(np.float32)
    return u, i, np.clip(np.rint(r), 1, 5).astype(np.float32)


def main():
    a = common.parse_args(__doc__.splitlines()[0], FASTEST, extra, default_epochs=50)
    torch = common.import_torch(a)
    import numpy as np
    if a.dataset == "ml-100k":
        sp = common.rating_split(a, "mf")
        nu, ni = sp["n_users"], sp["n_items"]
        u, i, r = sp["train"]
    else:
        if "--epochs" not in sys.argv:
            a.epochs = 2
        t0 = time.perf_counter()
        nu, ni = 200_000, 20_000
        u, i, r = synthetic(a.seed, nu, ni, a.ratings)
        common.log("mf synthetic data: %.1fs" % (time.perf_counter() - t0))
        sp = None
    if a.factors <= 0:
        a.factors = 100 if a.dataset == "ml-100k" else 32
    mu = float(r.mean())
    sparse = a.formulation != "dense"
    P = torch.nn.Embedding(nu, a.factors, sparse=sparse)
    Q = torch.nn.Embedding(ni, a.factors, sparse=sparse)
    BU = torch.nn.Embedding(nu, 1, sparse=sparse)
    BI = torch.nn.Embedding(ni, 1, sparse=sparse)
    torch.set_grad_enabled(a.formulation != "manual")
    with torch.no_grad():
        P.weight.normal_(0, a.init_std)
        Q.weight.normal_(0, a.init_std)
        BU.weight.zero_()
        BI.weight.zero_()
    params = [P.weight, Q.weight, BU.weight, BI.weight]
    opt = torch.optim.SGD(params, lr=a.lr)
    U, I, Rt = torch.from_numpy(u), torch.from_numpy(i), torch.from_numpy(r)
    n = len(r)

    def rmse(part):
        uu, ii, rr = sp[part]
        pred = np.full(len(rr), mu, dtype=np.float32)
        ok = (uu >= 0) & (ii >= 0)
        with torch.no_grad():
            tu, ti = torch.from_numpy(uu[ok]), torch.from_numpy(ii[ok])
            pv = mu + BU.weight[tu, 0] + BI.weight[ti, 0] + (P.weight[tu] * Q.weight[ti]).sum(1)
        pred[ok] = pv.numpy()
        pred = np.clip(pred, 1.0, 5.0)
        return float(np.sqrt(np.mean((pred - rr) ** 2)))

    Pw, Qw, BUw, BIw = P.weight.data, Q.weight.data, BU.weight.data[:, 0], BI.weight.data[:, 0]

    def manual_step(bu, bi, br):
        """The same step as the autograd formulations (summed loss, so
        repeated rows add their gradients), written out by hand."""
        pu, qi, bbu, bbi = Pw[bu], Qw[bi], BUw[bu], BIw[bi]
        e = br - (mu + bbu + bbi + (pu * qi).sum(1))
        ec = e.unsqueeze(1)
        Pw.index_add_(0, bu, (ec * qi).sub_(pu, alpha=a.reg), alpha=a.lr)
        Qw.index_add_(0, bi, (ec * pu).sub_(qi, alpha=a.reg), alpha=a.lr)
        BUw.index_add_(0, bu, (e - a.reg_bias * bbu), alpha=a.lr)
        BIw.index_add_(0, bi, (e - a.reg_bias * bbi), alpha=a.lr)

    g = torch.Generator().manual_seed(a.seed)
    timer = common.Timer()
    cpu = []  # process CPU seconds per epoch (stable on a loaded machine)
    best = (float("inf"), 0, float("nan"))
    for ep in range(1, a.epochs + 1):
        c0 = time.process_time()
        with timer:
            perm = torch.randperm(n, generator=g)
            for s in range(0, n, a.batch):
                b = perm[s:s + a.batch]
                if a.formulation == "manual":
                    manual_step(U[b], I[b], Rt[b])
                    continue
                bu, bi, br = U[b], I[b], Rt[b]
                pu, qi, bbu, bbi = P(bu), Q(bi), BU(bu).squeeze(1), BI(bi).squeeze(1)
                pred = mu + bbu + bbi + (pu * qi).sum(1)
                loss = 0.5 * ((br - pred) ** 2).sum() + 0.5 * a.reg * (
                    pu.pow(2).sum() + qi.pow(2).sum()) + 0.5 * a.reg_bias * (
                    bbu.pow(2).sum() + bbi.pow(2).sum())
                opt.zero_grad()
                loss.backward()
                opt.step()
        cpu.append(time.process_time() - c0)
        if sp is not None:
            v = rmse("valid")
            if v < best[0]:
                best = (v, ep, rmse("test"))
            if ep % 10 == 0 or ep == 1:
                common.log("mf epoch %d valid %.4f (%.3fs)" % (ep, v, timer.t[-1]))
        else:
            common.log("mf synthetic epoch %d (%.2fs)" % (ep, timer.t[-1]))
    line = common.base_line(a, "mf", a.dataset, "sgd")
    es = timer.mean() if sp is not None else sum(timer.t) / len(timer.t)
    ct = sorted(cpu[1:] if len(cpu) >= 3 else cpu)
    ec = ct[len(ct) // 2] if len(ct) % 2 else (ct[len(ct) // 2 - 1] + ct[len(ct) // 2]) / 2
    line.update({"epochs": a.epochs, "factors": a.factors, "lr": a.lr, "reg": a.reg, "reg_bias": a.reg_bias,
                 "batch": a.batch, "formulation": a.formulation, "ratings": n,
                 "epoch_seconds": es, "ratings_per_second": n / es,
                 # per core: the torch threads the epochs ran on
                 "ratings_per_second_per_core": n / es / a.torch_threads,
                 "epoch_cpu_seconds": ec, "ratings_per_cpu_second": n / ec})
    if sp is not None:
        line.update({"rmse": best[2], "valid_rmse": best[0], "best_epoch": best[1]})
    if a.formulation == "manual":
        line["note"] = "hand-written gradients + index_add_ (no autograd), mini-batch %d" % a.batch
    else:
        line["note"] = ("nn.Embedding(sparse=%s) + optim.SGD, mini-batch %d" % (sparse, a.batch))
    common.emit(line)


if __name__ == "__main__":
    main()
