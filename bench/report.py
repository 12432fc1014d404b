#!/usr/bin/python3
"""Regenerates docs/BENCHMARKS.md from bench/results/*.json (standard
library only).  Run by bench/run.sh after the harness; can be rerun alone:

  /usr/bin/python3 bench/report.py [--results DIR] [--out FILE]
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def fmt(v, digits=4):
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v != v:
            return "nan"
        if v.is_integer() and abs(v) < 1e12:
            return str(int(v))
        if v == 0:
            return "0"
        a = abs(v)
        if a >= 1e6:
            return "%.3g" % v
        if a >= 100:
            return "%.1f" % v
        return ("%%.%dg" % digits) % v
    return str(v)


def cell(s):
    return str(s).replace("|", "\\|").replace("\n", " ")


def placement(x):
    """Where the two cores sat, from probe_xcore's readings x (before and
    after a run): "far" when a line written by the other core took >= 1.8x
    as long to read (different dies), else "near"; plus "shared core" when
    a multiply-add loop ran >= 1.5x slower with both vCPUs running it (SMT
    siblings or time slices); "?" when not probed."""
    if not x or any(v is None for v in x):
        return "?"
    # older result files hold the read ratio alone
    rs = [v["ratio"] if isinstance(v, dict) else v for v in x]
    ss = [v.get("shared") for v in x if isinstance(v, dict) and v.get("shared") is not None]
    where = ("far (%.1f×)" % max(rs)) if max(rs) >= 1.8 else "near"
    if ss and max(ss) >= 1.5:
        where += ", shared core (%.1f×)" % max(ss)
    return where


def placement_text(f):
    """placement() of our run and of the peer's, for a multi-thread figure."""
    if f.get("threads", 1) < 2:
        return "–"
    peer = f.get("peer") or {}
    return "%s / %s" % (placement(f.get("xcore")), placement(peer.get("xcore")))


def peer_config(c):
    """A peer's thread split and OpenBLAS kernel set, e.g. "torch 1 + BLAS 2, Haswell"."""
    core = c.get("blas_core")
    return "torch %s + BLAS %s%s" % (c.get("torch_threads"), c.get("blas_threads"),
                                     ", " + core if core and core != "auto" else "")


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        out.append("| " + " | ".join(cell(x) for x in r) + " |")
    return "\n".join(out) + "\n"


def load(results):
    files = {}
    if not os.path.isdir(results):
        return files
    for f in sorted(os.listdir(results)):
        if f.endswith(".json"):
            try:
                with open(os.path.join(results, f)) as fh:
                    files[f] = json.load(fh)
            except (OSError, ValueError) as e:
                files[f] = {"status": "unreadable: %s" % e}
    return files


def machine_line(m, d):
    if not m:
        return "machine: unknown"
    t = m.get("peer_torch") or {}
    s = "%s, %s cores (%s usable), %s GiB; BLAS: %s" % (
        m.get("cpu"), m.get("cores"), m.get("usable_cores"), m.get("mem_gib"), m.get("blas"))
    if t:
        s += "; peers: PyTorch %s (BLAS %s)" % (t.get("version"), t.get("blas"))
    s += "; commit %s; %s" % (d.get("commit"), d.get("date"))
    if m.get("omp_wait_policy"):
        s += "; OMP_WAIT_POLICY %s" % m["omp_wait_policy"]
    if m.get("loadavg"):
        s += "; load average at start %s (other processes share this machine)" % m["loadavg"]
    return s


def advantage_text(f):
    adv = f.get("advantage")
    if adv is None:
        return "–"
    if f["metric"].endswith("seconds"):
        return "%.2f× faster" % adv if adv >= 1 else "%.2f× slower" % (1 / adv)
    return "%.3f× %s" % (adv, "better" if adv >= 1 else "worse")


# Why a benchmark prints no checksum (shown in the determinism table).
NO_CHECKSUM = {
    "bench_sgemm": "bare BLAS timing, no model",
    "bench_nn": "layer and kernel timings, no trained model",
    "bench_scale_mf": "scale run: timing and memory only",
}

SPEED = {"gflops", "ratings_per_second", "speedup_vs_dense"}


def is_speed(metric):
    if metric.startswith("target") or "cpu" in metric:
        return False  # targets are constants; CPU time does not show scaling
    return metric.endswith("seconds") or metric in SPEED


def lower_better(metric):
    return metric.endswith("seconds")


def finite(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v \
        and v not in (float("inf"), float("-inf"))


def scaling_row(bench, k, per):
    return [bench, k[0], k[1] or "–", (k[2] or "–") + (" " + k[4] if k[4] else ""), k[3], per]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", default=os.path.join(HERE, "results"))
    ap.add_argument("--out", default=os.path.join(REPO, "docs", "BENCHMARKS.md"))
    a = ap.parse_args()
    files = load(a.results)
    benches = {k: v for k, v in files.items() if k.startswith("bench_") and not k.endswith(".scale.json")}
    scale = {k: v for k, v in files.items() if k.endswith(".scale.json")}
    peers = files.get("peers.json")
    sweep = files.get("peer_threads.json")

    o = []
    o.append("# Benchmarks\n")
    o.append("Generated by `bench/report.py` from `bench/results/*.json`; do not edit by hand.\n"
             "Rerun everything with **`make bench`** (a few minutes; `make bench-scale` for\n"
             "the Netflix-size section). Method, thread policy and the JSON convention:\n"
             "[PERFORMANCE.md](PERFORMANCE.md). Speed claims are ratios against a peer\n"
             "measured in the same run, because this machine is shared and noisy.\n")
    ref = next(iter(benches.values()), None) or peers or {}
    o.append("**Machine**: " + machine_line(ref.get("machine"), ref) + "\n")
    if ref.get("threads_list"):
        o.append("**Thread counts**: %s; seed %s.\n" % (
            ", ".join(str(t) for t in ref["threads_list"]), ref.get("seed")))

    # ---- status of every benchmark ------------------------------------------
    o.append("## Status\n")
    rows = []
    for name, d in sorted(benches.items()):
        runs = d.get("runs", [])
        rows.append([d.get("bench", name), d.get("status", "?"),
                     ", ".join("%d thr: %s s" % (r["threads"], fmt(r.get("seconds"))) for r in runs) or "–",
                     ", ".join("%s MiB" % fmt(r.get("peak_rss_mib")) for r in runs) or "–",
                     d.get("commit", "?"), d.get("date", "?")])
    if peers:
        rows.append(["PyTorch peers", peers.get("status", "?"),
                     "%d runs, %s s in all" % (len(peers.get("runs", [])),
                                               fmt(sum(r.get("seconds") or 0 for r in peers.get("runs", [])))),
                     "–", peers.get("commit", "?"), peers.get("date", "?")])
    if rows:
        o.append(table(["benchmark", "status", "wall time per run", "peak RSS", "commit", "date"], rows))
    else:
        o.append("No results yet: run `make bench`.\n")

    # ---- paired figures -----------------------------------------------------
    paired = [(d.get("bench"), f) for d in benches.values() for f in d.get("figures", [])
              if f.get("peer")]
    o.append("## librecnn against PyTorch (same run, same thread budget)\n")
    if paired:
        rows = [[b, f["model"], f["data"], f["variant"] or "–", f["metric"], f["threads"],
                 fmt(f["value"]), fmt(f["peer"]["value"]) + (
                     "" if f["peer"].get("same_run", True) else " (earlier run, %s)" % f["peer"].get("date")),
                 peer_config(f["peer"]),
                 placement_text(f), fmt(f.get("ratio")), advantage_text(f)] for b, f in paired]
        o.append(table(["bench", "model", "data", "variant", "metric", "threads", "librecnn",
                        "PyTorch", "peer threads", "cores (ours / peer)", "ratio (ours/peer)",
                        "librecnn is"], rows))
        o.append("*cores*: where the machine's two vCPUs sat during each multi-thread run,\n"
                 "from `bench/probe_xcore` run before and after it: *far* when reading 2 MiB\n"
                 "that the other core just wrote took ≥1.8× its own read (different dies),\n"
                 "else *near*; *shared core* when a multiply-add loop ran ≥1.5× slower with\n"
                 "the other vCPU running it too (SMT siblings or time slices: compute-bound\n"
                 "work such as the peers' GEMMs loses up to half its second thread). The\n"
                 "hypervisor moves the vCPUs every few seconds, and a phase can come and go\n"
                 "within one run, so a *near* run can still include slow phases. librecnn's\n"
                 "2-thread passes share rows between the cores and run ~1.6× (full-batch\n"
                 "AutoRec) to ~3.5× (mini-batch Adam) slower in the far phases; the peers'\n"
                 "dense GEMMs barely notice (PERFORMANCE.md §2). `?` = not probed.\n")
    else:
        o.append("No paired figures yet: the C model benchmarks that print figures with the\n"
                 "peers' keys (model, data, variant, metric; see PERFORMANCE.md) have not landed.\n"
                 "The peers' own figures are listed below.\n")

    # ---- alternated timing pairs --------------------------------------------
    pairs = files.get("pairs.json")
    if pairs and pairs.get("pairs"):
        o.append("## Alternated pairs (the speed targets)\n")
        o.append("The target ratios measured again: our benchmark and the peer run back to\n"
                 "back, %s rounds per thread count, each round's first side alternating, so\n"
                 "that both sides of every ratio see the same state of the machine (commit %s,\n"
                 "%s). *speed-up*: the peer's time / ours, per round.\n" % (
                     pairs.get("rounds"), pairs.get("commit"), pairs.get("date")))
        rows = []
        for p in pairs["pairs"]:
            ours = sorted(v for v in p.get("ours", []) if finite(v))
            peer = sorted(v for v in p.get("peer", []) if finite(v))
            adv = p.get("advantage") or []

            def span(v):  # v sorted
                if not v:
                    return "–"
                mid = v[len(v) // 2] if len(v) % 2 else 0.5 * (v[len(v) // 2 - 1] + v[len(v) // 2])
                return "%s (%s–%s)" % (fmt(mid), fmt(v[0]), fmt(v[-1]))
            per = []
            xs = p.get("xcore") or []
            for i, (ov, pv) in enumerate(zip(p.get("ours", []), p.get("peer", []))):
                where = " " + placement(xs[i] if i < len(xs) else None) if p["threads"] >= 2 else ""
                per.append(("%.2f" % (pv / ov) if ov and pv else "failed") + where)
            rows.append([p["name"], p["metric"], p["threads"], len(adv),
                         span(ours), span(peer),
                         ("%.2f× (%.2f–%.2f)" % (p["advantage_median"], adv[0], adv[-1]))
                         if adv else "–",
                         "; ".join(per) + ("" if not p.get("failures") else
                                           " (" + "; ".join(p["failures"]) + ")")])
        o.append(table(["pair", "metric", "threads", "rounds", "librecnn median (min–max)",
                        "PyTorch median (min–max)", "speed-up median (min–max)",
                        "each round in order: speed-up, cores"], rows))
        o.append("*cores*: the placement probe before and after each round (see above),\n"
                 "the slower reading of the two.\n")

    # ---- thread scaling -----------------------------------------------------
    o.append("## Thread scaling\n")
    rows = []
    for name, d in sorted(benches.items()):
        if name == "bench_sgemm.json":
            continue
        by = {}
        for f in d.get("figures", []):
            if not is_speed(f["metric"]):
                continue
            k = (f["model"], f["data"], f["variant"], f["metric"], f.get("shape", ""))
            by.setdefault(k, {})[f["threads"]] = f
        for k, per in by.items():
            rows.append(scaling_row(d.get("bench", name), k, per))
    if peers:
        by = {}
        for f in peers.get("figures", []):
            if f["metric"] not in ("epoch_seconds", "ratings_per_second"):
                continue
            k = (f["model"], f["data"], f["variant"], f["metric"], "")
            by.setdefault(k, {})[f["threads"]] = f
        for k, per in sorted(by.items()):
            rows.append(scaling_row("PyTorch peer", k, per))
    ths = sorted({t for r in rows for t in r[-1]})
    if rows and len(ths) > 1:
        o.append("Every speed figure at each thread count of the run, and the speed-up from\n"
                 "%d to %d threads (time ratio, or throughput ratio; > 1 = faster with more\n"
                 "threads). On a shared 2-core machine a 2-thread team waits for a core\n"
                 "whenever another process runs: read these with the load average above.\n"
                 % (ths[0], ths[-1]))
        out_rows = []
        for r in rows:
            per = r[-1]
            vals = [fmt(per[t]["value"]) if t in per else "–" for t in ths]
            sp = "–"
            if ths[0] in per and ths[-1] in per and per[ths[0]]["value"] and per[ths[-1]]["value"]:
                v1, vn = per[ths[0]]["value"], per[ths[-1]]["value"]
                s = v1 / vn if lower_better(r[4]) else vn / v1
                sp = "%.2f×" % s
            out_rows.append(r[:5] + vals + [sp])
        o.append(table(["bench", "model", "data", "variant", "metric"] +
                       ["@%d thr" % t for t in ths] + ["speed-up %d→%d" % (ths[0], ths[-1])],
                       out_rows))
    else:
        o.append("Only one thread count was measured.\n")

    # ---- determinism --------------------------------------------------------
    det = [(d.get("bench"), x) for d in benches.values() for x in d.get("determinism", [])]
    o.append("## Determinism (same seed, same threads, run twice)\n")
    if det:
        o.append("The harness reran each benchmark that printed checksums (CRC-32C of the\n"
                 "learned parameters or of the test predictions) with the same seed at the\n"
                 "largest thread count and compared them.\n")
        o.append(table(["bench", "model", "data", "variant", "threads", "checksum 1", "checksum 2",
                        "bit-identical"],
                       [[b, x["model"], x["data"], x["variant"] or "–", x["threads"], x["first"],
                         x["second"] or "–", x["bit_identical"]] for b, x in det]))
    else:
        o.append("No benchmark printed a checksum line yet.\n")
    rows = []
    for name, d in sorted(benches.items()):
        dl = d.get("determinism") or []
        if dl:
            ok = sum(1 for x in dl if x.get("bit_identical") == "yes")
            verdict = "%d of %d checksums bit-identical" % (ok, len(dl))
        elif d.get("status", "").startswith("missing"):
            verdict = "not run (%s)" % d.get("status")
        else:
            verdict = "not checked: %s" % NO_CHECKSUM.get(d.get("bench", name),
                                                         "the program printed no checksum line")
        rows.append([d.get("bench", name), verdict])
    if peers:
        rows.append(["PyTorch peers", "not checked: the peers print no checksums (PyTorch's CPU "
                     "kernels are not guaranteed bit-reproducible across runs)"])
    if rows:
        o.append("Per benchmark:\n")
        o.append(table(["bench", "same seed + same threads, run twice"], rows))

    # ---- physical limit -----------------------------------------------------
    sg = benches.get("bench_sgemm.json")
    o.append("## The physical limit: bare `cblas_sgemm`\n")
    if sg and sg.get("figures"):
        shapes = []
        by = {}
        for f in sg["figures"]:
            if f["metric"] != "gflops":
                continue
            s = f.get("shape", "?")
            if s not in shapes:
                shapes.append(s)
            by[(s, f["threads"])] = f
        ths = sorted({t for _, t in by})
        rows = []
        for s in shapes:
            row = [s, (by.get((s, ths[0])) or {}).get("context", {}).get("note", "")]
            for t in ths:
                row.append(fmt((by.get((s, t)) or {}).get("value")))
            if len(ths) > 1 and by.get((s, ths[-1])) and by.get((s, ths[0])):
                row.append("%.2f×" % (by[(s, ths[-1])]["value"] / by[(s, ths[0])]["value"]))
            rows.append(row)
        head = ["M×N×K", "used by"] + ["GFLOP/s @%d" % t for t in ths] + (
            ["speed-up %d→%d" % (ths[0], ths[-1])] if len(ths) > 1 else [])
        o.append("C(M×N) = A(M×K)·B(K×N), row-major, best of 3 timed rounds.\n")
        o.append(table(head, rows))
    else:
        o.append("bench_sgemm has not run (or failed): see Status.\n")
    fr = [(d.get("bench"), f) for d in benches.values() for f in d.get("figures", [])
          if "fraction_of_sgemm" in f]
    if fr:
        o.append("### The models' dense paths against it (target ≥ 80 % on dense layers)\n")
        o.append("Each path is timed through the library (layer API or model) and compared\n"
                 "with bare `cblas_sgemm` calls of the same shapes and transposes timed\n"
                 "alternately in the same process (\"bare sgemm\"); \"bench_sgemm\" is the\n"
                 "no-transpose figure for the shape from bench_sgemm in the same run, for\n"
                 "reference. Dense layers count forward + backward (3 GEMMs); shape =\n"
                 "M×N×K of the forward product (batch × out × in). A fraction above 100 %\n"
                 "means the library's path beats the dense product (e.g. EASE's sparse Gram).\n")
        rows = []
        for b, f in sorted(fr, key=lambda bf: (bf[1]["model"], bf[1]["variant"], bf[1]["threads"])):
            ctx = f.get("context", {})
            frac = f["fraction_of_sgemm"]
            dense_layer = "fwd+bwd" in f["variant"]
            verdict = ("yes" if frac >= 0.8 else "**no**") if dense_layer else "–"
            rows.append([f["model"], f["variant"] or "–", f.get("shape"), f["threads"],
                         fmt(f["value"]), fmt(f["sgemm_gflops"]),
                         fmt(f.get("bench_sgemm_gflops")), "%.0f %%" % (100 * frac), verdict,
                         "%.0f %%" % (100 * ctx["fraction_incl_zero_grad"])
                         if finite(ctx.get("fraction_incl_zero_grad")) else "–",
                         ctx.get("note", "").split(";")[0] if dense_layer else ctx.get("note", "")])
        o.append(table(["model", "path", "shape M×N×K", "threads", "GFLOP/s", "bare sgemm GFLOP/s",
                        "bench_sgemm GFLOP/s", "fraction", "≥ 80 %", "incl. zero_grad", "what"],
                       rows))

    # ---- every benchmark's figures -----------------------------------------
    o.append("## Every figure, per benchmark\n")
    for name, d in sorted(benches.items()):
        if name == "bench_sgemm.json":
            continue
        o.append("### %s\n" % d.get("bench", name))
        o.append("Status: %s. Runs: %s.\n" % (d.get("status", "?"), "; ".join(
            "`%s` (%s)" % (r.get("env", " ".join(r.get("argv", []))), r.get("status")) for r in d.get("runs", [])) or "none"))
        for r in d.get("runs", []):
            if r.get("stderr_tail") and not r.get("status", "").startswith("ok"):
                o.append("stderr (%d threads), last lines:\n\n```\n%s\n```\n" % (r["threads"], r["stderr_tail"]))
        figs = d.get("figures", [])
        if figs:
            rows = []
            for f in figs:
                ctx = f.get("context", {})
                extra = ", ".join("%s=%s" % (k, fmt(v)) for k, v in ctx.items()
                                  if k not in ("note", "unit", "shape") and not isinstance(v, (dict, list)))
                rows.append([f["model"], f["data"] or "–", f["variant"] or "–", f["metric"],
                             f["threads"], fmt(f["value"]), f.get("unit", ctx.get("unit", "")),
                             "%.2f×" % f["speedup_vs_1_thread"] if "speedup_vs_1_thread" in f else "–",
                             fmt(f["peer"]["value"]) if f.get("peer") else "–", advantage_text(f), extra])
            o.append(table(["model", "data", "variant", "metric", "threads", "value", "unit",
                            "speed-up vs 1 thread", "PyTorch", "librecnn is", "context"], rows))
        else:
            o.append("No figures.\n")
        for s in d.get("skips", []):
            o.append("- skipped (%s threads): %s\n" % (s.get("threads"), s.get("skip") or s.get("skipped")))
        for e in d.get("errors", []):
            o.append("- **error** (%s threads, %s): %s\n" % (e.get("threads"), e.get("bench"), e.get("error")))

    # ---- peers --------------------------------------------------------------
    o.append("## PyTorch peers (bench/peers/)\n")
    if peers:
        o.append("Status: %s.\n" % peers.get("status"))
        figs = peers.get("figures", [])
        groups = {}
        for f in figs:
            groups.setdefault((f["model"], f["data"], f["variant"], f["threads"]), {})[f["metric"]] = f
        if groups:
            mets = []
            for g in groups.values():
                for m in g:
                    if m not in mets:
                        mets.append(m)
            rows = []
            for k, g in sorted(groups.items()):
                any_f = next(iter(g.values()))
                ctx = any_f.get("context", {})
                rows.append([k[0], k[1], k[2] or "–", k[3],
                             peer_config(ctx),
                             ctx.get("epochs", "–")] + [fmt(g[m]["value"]) if m in g else "–" for m in mets])
            o.append(table(["model", "data", "variant", "threads", "thread split", "epochs"] + mets, rows))
            o.append("Commands: " + "; ".join(sorted({"`/usr/bin/python3 %s`" % f["source"].split(" --data")[0]
                                                      for f in figs})) + ".\n")
        for s in peers.get("skips", []):
            o.append("- skipped (%s threads): %s\n" % (s.get("threads"), s.get("skip")))
        for r in peers.get("runs", []):
            if not r.get("status", "").startswith("ok"):
                o.append("- **%s at %d threads: %s**\n\n```\n%s\n```\n" % (
                    r.get("peer"), r["threads"], r["status"], r.get("stderr_tail", "")))
    else:
        o.append("The peers have not run.\n")
    if sweep:
        o.append("\n### Peer configuration (%s)\n" % sweep.get("date"))
        o.append("Median epoch seconds under each split of the thread budget between torch's\n"
                 "pool and OpenBLAS's, with the kernels OpenBLAS detects and with its AVX2\n"
                 "\"Haswell\" kernels (`bench/peers/thread_sweep.py`); each peer uses its\n"
                 "fastest.\n")
        for b, v in sorted(sweep.get("budgets", {}).items()):
            times = v.get("epoch_seconds", {})
            cfgs = sorted({c for t in times.values() for c in t})
            rows = [[n] + [fmt(t.get(c)) for c in cfgs] + [v.get("fastest", {}).get(n, "?")]
                    for n, t in sorted(times.items())]
            o.append("Budget %s thread%s:\n" % (b, "" if b == "1" else "s"))
            o.append(table(["peer"] + cfgs + ["fastest"], rows))

    # ---- scale --------------------------------------------------------------
    o.append("## Scale (`make bench-scale`)\n")
    if scale:
        o.append("Netflix-size data: 480,189 users × 17,770 items, 100M ratings (the\n"
                 "library's synthetic generator; `synthetic-netflix`), at the largest thread\n"
                 "count, C only (the dense PyTorch peers cannot hold such matrices).\n")
        cols = ["load_seconds", "generate_seconds", "save_seconds", "peak_rss_mib", "data_rss_mib",
                "epoch_seconds", "ratings_per_second", "fit_seconds"]
        groups = {}
        for name, d in sorted(scale.items()):
            for f in d.get("figures", []):
                if f["metric"] in cols:
                    k = (d.get("bench", name), f["model"], f["data"], f["variant"], f["threads"])
                    groups.setdefault(k, {})[f["metric"]] = f["value"]
        if groups:
            used = [c for c in cols if any(c in g for g in groups.values())]
            dates = sorted({d.get("date", "?") for d in scale.values()})
            o.append(table(["bench", "model", "data", "variant", "threads"] + used,
                           [list(k[:3]) + [k[3] or "–", k[4]] + [fmt(g.get(c)) for c in used]
                            for k, g in sorted(groups.items())]))
            o.append("Runs: %s. Per-benchmark details follow.\n" % ", ".join(dates))
        for name, d in sorted(scale.items()):
            o.append("### %s — %s\n" % (d.get("bench", name), d.get("status")))
            o.append("Machine: %s\n" % machine_line(d.get("machine"), d))
            figs = d.get("figures", [])
            if figs:
                o.append(table(["model", "data", "variant", "metric", "threads", "value", "unit", "context"],
                               [[f["model"], f["data"], f["variant"] or "–", f["metric"], f["threads"],
                                 fmt(f["value"]), f.get("unit", ""),
                                 ", ".join("%s=%s" % (k, fmt(v)) for k, v in f.get("context", {}).items()
                                           if k not in ("note", "unit") and not isinstance(v, (dict, list)))]
                                for f in figs]))
            for r in d.get("runs", []):
                o.append("- run at %d threads: %s, %s s, peak RSS %s MiB\n" % (
                    r["threads"], r["status"], fmt(r.get("seconds")), fmt(r.get("peak_rss_mib"))))
            for s in d.get("skips", []):
                o.append("- skipped: %s\n" % (s.get("skip") or s.get("skipped")))
            for e in d.get("errors", []):
                o.append("- **error** (%s threads): %s\n" % (e.get("threads"), e.get("error")))
    else:
        o.append("Not run yet (opt-in: `make bench-scale`, takes minutes).\n")

    text = "\n".join(o)
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        f.write(text)
    print("report: wrote %s" % os.path.relpath(a.out, REPO), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
