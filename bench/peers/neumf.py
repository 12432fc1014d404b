#!/usr/bin/python3
"""PyTorch peer: NeuMF (He et al., WWW 2017) the way Microsoft Recommenders
trains it on MovieLens 100K (../shared/papers/ncf-movielens.txt).

Model (Recommenders' layout): GMF embeddings of 16 factors (user, item),
element-wise product; MLP embeddings of layer_sizes[0]/2 = 8 (user, item),
concatenated (16) -> ReLU layers 8 -> 4; the GMF vector and the MLP output
concatenated (20) -> one logit -> sigmoid.  Init N(0, 0.01) embeddings,
default nn.Linear layers.  No pretraining (trained jointly from scratch).
Training: BCE, 4 negatives per positive re-sampled every epoch uniformly
among the items the user has not rated in train, shuffled mini-batches of
256, Adam lr 1e-3.
Data/protocol: ML-100K, every rating = 1; per-user chronological 75/25
split (a user's ratings sorted by timestamp, ties in file order as pandas'
stable sort keeps them; the first round(0.75 n) -> train as earlier
Recommenders releases, --split-rule floor: rank/n <= 0.75 as the current
one); test users/items absent from train removed.  Top-10 over all items the user has not rated in train, metrics
with Recommenders' definitions averaged over test users:
  p@10 = hits/10; r@10 = hits/|relevant|; hr@10 = [hits > 0];
  ndcg@10 = sum_hits 1/log2(rank+1) / sum_{j<=min(|rel|,10)} 1/log2(j+1);
  map@10 = sum_hits (hits so far / rank) / |relevant|.
Figures: epoch_seconds (training only; median excluding epoch 1) and the
metrics after the last epoch (no early stopping, as the paper's run).
Threads: budget 1 -> torch 1 + OpenBLAS 1; budget 2 -> torch 1 + OpenBLAS 1
was fastest here (batches of 256 with 16-wide layers are too small for a
second thread to pay for its synchronisation; see docs/PERFORMANCE.md).
"""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

FASTEST = {1: (1, 1, "Haswell"), 2: (1, 1, "auto")}  # thread_sweep.py, 2026-11-25


def extra(p):
    p.add_argument("--factors", type=int, default=16)
    p.add_argument("--layers", default="16,8,4")
    p.add_argument("--negatives", type=int, default=4)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--split-rule", default="round", choices=["round", "floor"],
                   help="training count per user: round(0.75 n) (default) or floor")
    p.add_argument("--adam", default="foreach", choices=["default", "foreach", "sparse"],
                   help="Adam over all parameters (default or multi-tensor foreach, "
                        "the fastest here) or lazy: SparseAdam on sparse embeddings")
    p.add_argument("--eval-every", type=int, default=0,
                   help="also print metrics every N epochs (0: only at the end)")


def chrono_split(u, i, ts, ratio=0.75, rule="round"):
    """Per user, ratings sorted by time, ties kept in file order (a stable
    sort, as pandas does); rule "round": the first round(ratio * n) (half
    to even) go to train, as earlier Recommenders releases (np.split at
    round(x * len)) and the references in ../shared/PAPERS.md; rule
    "floor": rank / n <= ratio, as the current _do_stratification."""
    import numpy as np
    order = np.lexsort((ts, u))  # by user, then time (stable)
    u, i, ts = u[order], i[order], ts[order]
    _, start, count = np.unique(u, return_index=True, return_counts=True)
    rank = np.arange(len(u)) - np.repeat(start, count) + 1
    n = np.repeat(count, count)
    if rule == "round":
        tr = rank <= np.round(ratio * n)
    else:
        tr = rank / n <= ratio
    return (u[tr], i[tr]), (u[~tr], i[~tr])


def main():
    a = common.parse_args(__doc__.splitlines()[0], FASTEST, extra, default_epochs=20)
    torch = common.import_torch(a)
    import numpy as np
    u, i, _, ts = common.load_ml100k(a, "neumf")
    (tu, ti), (eu, ei) = chrono_split(u, i, ts, rule=a.split_rule)
    users, items = np.unique(tu), np.unique(ti)
    umap = {int(x): k for k, x in enumerate(users)}
    imap = {int(x): k for k, x in enumerate(items)}
    nu, ni = len(users), len(items)
    tu = np.array([umap[int(x)] for x in tu])
    ti = np.array([imap[int(x)] for x in ti])
    keep = np.array([int(x) in umap and int(y) in imap for x, y in zip(eu, ei)], dtype=bool)
    eu = np.array([umap[int(x)] for x in eu[keep]])
    ei = np.array([imap[int(x)] for x in ei[keep]])
    rated = np.zeros((nu, ni), dtype=bool)
    rated[tu, ti] = True

    layers = [int(x) for x in a.layers.split(",")]
    torch.manual_seed(a.seed)

    class NeuMF(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.gu = torch.nn.Embedding(nu, a.factors)
            self.gi = torch.nn.Embedding(ni, a.factors)
            self.mu = torch.nn.Embedding(nu, layers[0] // 2)
            self.mi = torch.nn.Embedding(ni, layers[0] // 2)
            for e in (self.gu, self.gi, self.mu, self.mi):
                torch.nn.init.normal_(e.weight, 0, 0.01)
            mlp = []
            for k in range(1, len(layers)):
                mlp += [torch.nn.Linear(layers[k - 1], layers[k]), torch.nn.ReLU()]
            self.mlp = torch.nn.Sequential(*mlp)
            self.out = torch.nn.Linear(a.factors + layers[-1], 1)

        def forward(self, uu, ii):
            g = self.gu(uu) * self.gi(ii)
            m = self.mlp(torch.cat([self.mu(uu), self.mi(ii)], 1))
            return self.out(torch.cat([g, m], 1)).squeeze(1)

    model = NeuMF()
    if a.adam == "sparse":
        # lazy Adam, as librecnn's default: sparse embedding gradients and
        # SparseAdam (only the rows of the batch), Adam for the dense layers
        for e in (model.gu, model.gi, model.mu, model.mi):
            e.sparse = True
        emb = [p for n_, p in model.named_parameters() if n_[:2] in ("gu", "gi", "mu", "mi")]
        rest = [p for n_, p in model.named_parameters() if n_[:2] not in ("gu", "gi", "mu", "mi")]
        opts = [torch.optim.SparseAdam(emb, lr=a.lr), torch.optim.Adam(rest, lr=a.lr)]
    else:
        opts = [torch.optim.Adam(model.parameters(), lr=a.lr,
                                 foreach=True if a.adam == "foreach" else None)]
    lossf = torch.nn.BCEWithLogitsLoss()
    rs = np.random.RandomState(a.seed)
    npos = len(tu)

    def negatives():
        nu_ = np.repeat(tu, a.negatives)
        ni_ = rs.randint(0, ni, len(nu_))
        bad = rated[nu_, ni_]
        while bad.any():
            ni_[bad] = rs.randint(0, ni, int(bad.sum()))
            bad = rated[nu_, ni_]
        return nu_, ni_

    test_items = [[] for _ in range(nu)]
    for x, y in zip(eu, ei):
        test_items[x].append(y)

    def evaluate():
        model.eval()
        with torch.no_grad():
            U = torch.arange(nu).repeat_interleave(ni)
            I = torch.arange(ni).repeat(nu)
            S = torch.cat([model(U[s:s + 65536], I[s:s + 65536])
                           for s in range(0, nu * ni, 65536)]).view(nu, ni).numpy()
        model.train()
        S[rated] = -np.inf
        top = np.argsort(-S, axis=1, kind="stable")[:, :10]
        P = R = N = M = H = 0.0
        n = 0
        for x in range(nu):
            rel = set(test_items[x])
            if not rel:
                continue
            n += 1
            hits, dcg, ap = 0, 0.0, 0.0
            for rank, it in enumerate(top[x], 1):
                if int(it) in rel:
                    hits += 1
                    dcg += 1.0 / np.log2(rank + 1)
                    ap += hits / rank
            idcg = sum(1.0 / np.log2(j + 1) for j in range(1, min(len(rel), 10) + 1))
            P += hits / 10
            R += hits / len(rel)
            N += dcg / idcg
            M += ap / len(rel)
            H += hits > 0
        return {"map@10": M / n, "ndcg@10": N / n, "p@10": P / n, "r@10": R / n,
                "hr@10": H / n, "test_users": n}

    timer = common.Timer()
    for ep in range(1, a.epochs + 1):
        with timer:
            nu_, ni_ = negatives()
            U = torch.from_numpy(np.concatenate([tu, nu_]))
            I = torch.from_numpy(np.concatenate([ti, ni_]))
            Y = torch.cat([torch.ones(npos), torch.zeros(len(nu_))])
            perm = torch.from_numpy(rs.permutation(len(Y)))
            U, I, Y = U[perm], I[perm], Y[perm]
            tot = 0.0
            for s in range(0, len(Y), a.batch):
                for opt in opts:
                    opt.zero_grad(set_to_none=True)
                loss = lossf(model(U[s:s + a.batch], I[s:s + a.batch]), Y[s:s + a.batch])
                loss.backward()
                for opt in opts:
                    opt.step()
                tot += float(loss) * len(Y[s:s + a.batch])
        common.log("neumf epoch %d loss %.4f (%.2fs)" % (ep, tot / len(Y), timer.t[-1]))
        if a.eval_every and ep % a.eval_every == 0 and ep < a.epochs:
            d = common.base_line(a, "neumf", "ml-100k")
            d.update({"epoch": ep, "loss": tot / len(Y)})
            d.update(evaluate())
            d["partial"] = True
            common.emit(d)
    line = common.base_line(a, "neumf", "ml-100k")
    line.update({"epochs": a.epochs, "factors": a.factors, "layers": a.layers,
                 "negatives": a.negatives, "batch": a.batch, "lr": a.lr, "adam": a.adam,
                 "epoch_seconds": timer.mean(), "loss": tot / len(Y)})
    line.update(evaluate())
    line["note"] = "no pretraining; epoch_seconds = sampling + training, median excl. epoch 1"
    common.emit(line)


if __name__ == "__main__":
    main()
