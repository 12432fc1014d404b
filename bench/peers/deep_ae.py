#!/usr/bin/python3
"""PyTorch peer: user-based deep autoencoder in the style of Kuchaiev &
Ginsburg 2017 (../shared/papers/deep-autoencoder-netflix.txt), dense, as
NVIDIA's DeepRecommender writes it.

Model: input x_u = user u's training ratings over all items (0 where
unobserved); encoder layers 128-256-256 (--layers), mirrored decoder
256-128-n_items; SELU after every layer except the output (identity);
optional dropout on the code (--dropout, default 0).  Xavier-uniform
weights, zero biases.  Loss: masked MSE = sum over observed entries of the
batch of (x - out)^2 / number of observed entries (DeepRecommender's
MSEloss).  Momentum SGD lr 0.005, momentum 0.9, mini-batches of 32 users.
Protocol: ML-100K random 90/10 split with 10 % of train as validation
(with --split FILE: bench_deep_ae's split, so both train on the same
ratings; the harness passes it); prediction of (u, i) = output i for
input x_u (clipped to [1, 5]; unseen users/items predict 3); test RMSE at
the best validation epoch.
Threads: budget 1 -> torch 1 + OpenBLAS 1 (its "Haswell" kernels);
budget 2 -> torch 1 + OpenBLAS 2 (the work is 32-row GEMMs in OpenBLAS;
measured by thread_sweep.py, see docs/PERFORMANCE.md).
"""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

FASTEST = {1: (1, 1, "Haswell"), 2: (1, 2, "auto")}  # thread_sweep.py, 2026-11-25


def extra(p):
    p.add_argument("--layers", default="128,256,256")
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--lr", type=float, default=0.005)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--batch", type=int, default=32)


def main():
    a = common.parse_args(__doc__.splitlines()[0], FASTEST, extra, default_epochs=100)
    torch = common.import_torch(a)
    import numpy as np
    sp = common.rating_split(a, "deep_ae")
    nu, ni = sp["n_users"], sp["n_items"]
    u, i, r = sp["train"]
    X = torch.zeros(nu, ni)
    X[torch.from_numpy(u), torch.from_numpy(i)] = torch.from_numpy(r)

    enc_sizes = [ni] + [int(x) for x in a.layers.split(",")]
    dec_sizes = list(reversed(enc_sizes))
    mods = []
    for k in range(1, len(enc_sizes)):
        mods += [torch.nn.Linear(enc_sizes[k - 1], enc_sizes[k]), torch.nn.SELU()]
    if a.dropout > 0:
        mods.append(torch.nn.Dropout(a.dropout))
    for k in range(1, len(dec_sizes)):
        mods.append(torch.nn.Linear(dec_sizes[k - 1], dec_sizes[k]))
        if k < len(dec_sizes) - 1:
            mods.append(torch.nn.SELU())
    net = torch.nn.Sequential(*mods)
    for m in net:
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.xavier_uniform_(m.weight)
            torch.nn.init.zeros_(m.bias)
    opt = torch.optim.SGD(net.parameters(), lr=a.lr, momentum=a.momentum)

    def rmse(part):
        uu, ii, rr = sp[part]
        net.eval()
        with torch.no_grad():
            out = net(X)
        net.train()
        pred = np.full(len(rr), 3.0, dtype=np.float32)
        ok = (uu >= 0) & (ii >= 0)
        pred[ok] = out[torch.from_numpy(uu[ok]), torch.from_numpy(ii[ok])].numpy()
        pred = np.clip(pred, 1.0, 5.0)
        return float(np.sqrt(np.mean((pred - rr) ** 2)))

    g = torch.Generator().manual_seed(a.seed)
    timer = common.Timer()
    best = (float("inf"), 0, float("nan"))
    for ep in range(1, a.epochs + 1):
        with timer:
            perm = torch.randperm(nu, generator=g)
            for s in range(0, nu, a.batch):
                x = X[perm[s:s + a.batch]]
                m = (x != 0).float()
                out = net(x)
                loss = ((out - x) * m).pow(2).sum() / m.sum().clamp(min=1.0)
                opt.zero_grad()
                loss.backward()
                opt.step()
        v = rmse("valid")
        if v < best[0]:
            best = (v, ep, rmse("test"))
        if ep % 20 == 0 or ep == 1:
            common.log("deep_ae epoch %d loss %.4f valid %.4f (%.3fs)"
                       % (ep, float(loss), v, timer.t[-1]))
    line = common.base_line(a, "deep_ae", "ml-100k")
    line.update({"epochs": a.epochs, "layers": a.layers, "dropout": a.dropout,
                 "lr": a.lr, "momentum": a.momentum, "batch": a.batch,
                 "epoch_seconds": timer.mean(), "rmse": best[2], "valid_rmse": best[0],
                 "best_epoch": best[1],
                 "note": "dense user-based AE; epoch_seconds = training only, median excl. epoch 1"})
    common.emit(line)


if __name__ == "__main__":
    main()
