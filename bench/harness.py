#!/usr/bin/python3
"""Runs the benchmarks and writes bench/results/*.json (standard library only).

Called by bench/run.sh (`make bench`, `make bench-scale`); see
docs/PERFORMANCE.md for the method and the JSON convention.

  harness.py [--scale] [--build DIR] [--threads-list 1,2] [--seed S]
             [--no-peers REASON] [--only NAME[,NAME]] [--results DIR]

For each bench/*.c it runs BUILD/bench/<name> with env RECNN_THREADS=N,
OMP_NUM_THREADS=N, OPENBLAS_NUM_THREADS=N, RECNN_BENCH_SEED=S and, for
--scale, RECNN_BENCH_SCALE=1 (plus the arguments --threads N --seed S
[--scale] when the program's source contains the literal "--threads"),
at every thread count, then once more at the largest count when
the program printed checksums (determinism; not in scale mode).  For each peer it runs
/usr/bin/python3 bench/peers/<peer>.py --threads N --seed S ...  Every
JSON line is kept; figures are paired with the peer's by (model, data,
variant, metric, threads).  Then the PAIRS (the speed targets) run again
as alternated timing pairs, ours and the peer back to back, PAIR_ROUNDS
times per thread count (bench/results/pairs.json; --only pairs runs just
those, --only NAME one pair and the peer of that name).  A missing, failing or timed-out program is
recorded as such in its result file, never dropped.
"""
import argparse
import datetime
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PY = "/usr/bin/python3"

# Numeric fields of a wide line that are context, not figures.
RESERVED = {"threads", "seed", "epochs", "epoch", "best_epoch", "repeat", "n", "k", "batch",
            "factors", "hidden", "negatives", "users", "items", "ratings", "torch_threads",
            "blas_threads", "lr", "l2", "reg", "momentum", "dropout", "calls", "test_users",
            "partial", "value", "status", "repeats", "reg_bias", "rank", "inits", "rmse_sd"}
# Fields that identify a figure (pairing key) or are bookkeeping.
KEYS = {"bench", "peer", "model", "data", "variant", "metric", "unit", "shape", "note",
        "checksum", "skip", "skipped", "error", "machine", "_nonfinite_as_null"}

# The environment a C bench is given (recorded in its result file).
CENV = {"RECNN_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "RECNN_BENCH_SEED",
        "RECNN_BENCH_SCALE", "RECNN_DATA_DIR", "OMP_WAIT_POLICY"}

# The peers: (name, script and arguments).  Epochs are chosen so that the
# accuracy figure is near each model's best on ML-100K and the whole set
# stays at a few minutes per thread count.
PEERS = [
    ("autorec-rprop", ["autorec.py", "--optim", "rprop", "--epochs", "100", "--inits", "5"]),
    ("autorec-adam", ["autorec.py", "--optim", "adam", "--epochs", "40"]),
    ("mf-ml100k", ["mf.py", "--dataset", "ml-100k", "--epochs", "50"]),
    ("mf-synthetic10m", ["mf.py", "--dataset", "synthetic-10m", "--epochs", "2"]),
    ("neumf", ["neumf.py", "--epochs", "20"]),
    ("deep_ae", ["deep_ae.py", "--epochs", "60"]),
]

# Alternated timing pairs: the target ratios measured again with our
# benchmark and its peer run back to back, PAIR_ROUNDS times at each
# thread count (the first of each pair alternating), so that both sides of
# every ratio see the same state of this shared machine.  A single run of
# each, minutes apart, does not: the sparse passes slow down with the
# other tenants' L3 traffic, which the compute-bound peers barely feel.
# (name, our bench and arguments, its extra environment, peer script and
# arguments, figure key): the ratio targets of the model issues (each
# >= 10x), on the main pass's protocols with fewer epochs where an epoch
# is long.
PAIRS = [
    ("autorec-rprop", ["bench_autorec", "--variant", "rprop", "--epochs", "30", "--inits", "1"],
     {}, ["autorec.py", "--optim", "rprop", "--epochs", "30", "--inits", "1"],
     ("autorec", "ml-100k", "rprop", "epoch_seconds")),
    ("mf-ml100k", ["bench_mf", "peer"], {},
     ["mf.py", "--dataset", "ml-100k", "--epochs", "50"],
     ("mf", "ml-100k", "sgd", "epoch_seconds")),
    ("neumf", ["bench_ncf"], {"RECNN_BENCH_EPOCHS": "5", "RECNN_BENCH_QUICK": "1"},
     ["neumf.py", "--epochs", "5"],
     ("neumf", "ml-100k", "", "epoch_seconds")),
]
PAIR_ROUNDS = 7


def split_args(pname, seed):
    """["--split", FILE] for the peers that train on our benchmark's own
    split (AutoRec, deep AE: bench_write_split's file, the same options and
    seed), once a benchmark has written it; [] for the others."""
    path = os.path.join(os.environ.get("TMPDIR") or "/tmp",
                        "recnn-bench-split-ml100k-seed%d.txt" % seed)
    if (pname.startswith("autorec") or pname == "deep_ae") and os.path.exists(path):
        return ["--split", path]
    return []


def lower_is_better(metric):
    m = metric.lower()
    return (m.endswith("seconds") or m.endswith("_mib") or m.endswith("loss")
            or m in {"rmse", "mae", "mse", "valid_rmse", "seconds"})


def log(msg):
    print("[bench] " + msg, file=sys.stderr, flush=True)


def run(argv, env, timeout, cwd=REPO):
    """Runs argv; returns dict(status, exit, seconds, peak_rss_mib, stdout, stderr)."""
    t0 = time.perf_counter()
    try:
        p = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, start_new_session=True)
    except OSError as e:
        return {"status": "failed (cannot start: %s)" % e, "exit": None, "seconds": 0.0,
                "peak_rss_mib": None, "stdout": "", "stderr": str(e)}
    out, err = [], []
    t_out = threading.Thread(target=lambda: out.append(p.stdout.read()))
    t_err = threading.Thread(target=lambda: err.append(p.stderr.read()))
    t_out.start()
    t_err.start()
    timed_out = []

    def kill():
        timed_out.append(True)
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass

    timer = threading.Timer(timeout, kill)
    timer.start()
    _, status, ru = os.wait4(p.pid, 0)
    timer.cancel()
    t_out.join()
    t_err.join()
    p.returncode = os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") \
        else (status >> 8)
    secs = time.perf_counter() - t0
    if timed_out:
        st = "timeout (%ds)" % timeout
    elif p.returncode != 0:
        st = "failed (exit %d)" % p.returncode
    else:
        st = "ok"
    return {"status": st, "exit": p.returncode, "seconds": round(secs, 3),
            "peak_rss_mib": round(ru.ru_maxrss / 1024.0, 1),
            "stdout": out[0].decode("utf-8", "replace") if out else "",
            "stderr": err[0].decode("utf-8", "replace") if err else ""}


def parse_lines(text):
    """JSON objects, one per line; other lines are returned as garbage."""
    objs, bad = [], []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            o = json.loads(line)
        except ValueError:
            # lenient: C's printf("%f") writes nan/inf, which JSON lacks
            try:
                o = json.loads(NONFINITE.sub(lambda m: m.group(1) + "null", line))
                if isinstance(o, dict):
                    o["_nonfinite_as_null"] = True
            except ValueError:
                o = None
        if isinstance(o, dict):
            objs.append(o)
        else:
            bad.append(line)
    return objs, bad


NONFINITE = re.compile(r'([:\[,]\s*)[-+]?(?:nan|inf(?:inity)?)\b', re.IGNORECASE)


def finite(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v \
        and v not in (float("inf"), float("-inf"))


def figures_of(obj, threads):
    """The figures of one JSON line (long or wide form)."""
    if ("skip" in obj or "skipped" in obj or "error" in obj or "checksum" in obj
            or "machine" in obj or obj.get("partial")):
        return []
    base = {"model": str(obj.get("model", obj.get("bench", ""))), "data": str(obj.get("data", "")),
            "variant": str(obj.get("variant", "") or ""),
            "threads": int(obj.get("threads", threads) or threads)}
    long_form = "metric" in obj
    # Context: in the long form every other field (numbers too: they are
    # not figures there); in the wide form only the reserved numeric ones.
    ctx = {k: v for k, v in obj.items()
           if k not in KEYS and k not in base and k != "value" and
           (long_form or k in RESERVED or not isinstance(v, (int, float)) or isinstance(v, bool))}
    for k in ("shape", "note", "unit"):
        if k in obj:
            ctx[k] = obj[k]
    figs = []
    if "metric" in obj and finite(obj.get("value")):
        f = dict(base, metric=str(obj["metric"]), value=float(obj["value"]))
        if "unit" in obj:
            f["unit"] = obj["unit"]
        if "shape" in obj:
            f["shape"] = obj["shape"]
        f["context"] = ctx
        figs.append(f)
    else:
        for k, v in obj.items():
            if k in KEYS or k in RESERVED or k in base or not finite(v):
                continue
            figs.append(dict(base, metric=k, value=float(v), context=ctx))
    return figs


def fkey(f):
    return (f["model"], f["data"], f["variant"], f["metric"], f.get("shape", ""), f["threads"])


def git_commit():
    try:
        h = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                           capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=REPO, capture_output=True, text=True).stdout.strip()
        return h + ("-dirty" if dirty else "") if h else "unknown"
    except OSError:
        return "unknown"


def machine_info(blas, torch_info):
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    mem = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    mem = round(int(line.split()[1]) / 1048576.0, 1)
    except OSError:
        pass
    try:
        load = " ".join("%.2f" % x for x in os.getloadavg())
    except OSError:
        load = None
    return {"cpu": cpu, "cores": os.cpu_count(), "usable_cores": usable, "mem_gib": mem,
            "loadavg": LOAD_AT_START or load,
            "blas": blas or "unknown (bench_sgemm not built)", "kernel": os.uname().release,
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY") or "default (unset)",
            "peer_torch": torch_info}


def torch_info():
    r = subprocess.run([PY, "-c", "import torch,re;c=torch.__config__.show();"
                        "m=re.search(r'BLAS_INFO=([^,\\n]*)',c);"
                        "print(torch.__version__, (m.group(1) if m else '?'))"],
                       capture_output=True, text=True, env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
    if r.returncode != 0:
        return None
    v = r.stdout.split()
    return {"version": v[0], "blas": v[1] if len(v) > 1 else "?"}


def run_record(name, argv, threads, r):
    objs, bad = parse_lines(r["stdout"])
    tail = "\n".join(r["stderr"].strip().splitlines()[-15:])
    rec = {"threads": threads, "argv": argv, "status": r["status"], "seconds": r["seconds"],
           "peak_rss_mib": r["peak_rss_mib"], "lines": objs}
    if bad:
        rec["non_json_stdout"] = bad[:20]
        if r["status"] == "ok":
            rec["status"] = "ok (with %d non-JSON stdout lines)" % len(bad)
    if r["status"] != "ok" or bad:
        rec["stderr_tail"] = tail
    return rec


LOAD_AT_START = None


def probe_xcore(bdir, env):
    """Core placement right now, from bench/probe_xcore: {"ratio": remote /
    own read time of a 2 MiB buffer (~1: the two cores share an L3; ~3:
    different dies), "shared": a multiply-add loop's time with the other
    core running it too / alone (~1: two physical cores; ~2: both vCPUs on
    one core)}.  None when the probe is not built or fails."""
    exe = os.path.join(bdir, "probe_xcore")
    if not os.access(exe, os.X_OK):
        return None
    r = run([exe], env, 60)
    objs, _ = parse_lines(r["stdout"])
    for o in objs:
        if o.get("probe") == "xcore" and finite(o.get("ratio")):
            return {"ratio": round(float(o["ratio"]), 2),
                    "shared": round(float(o["shared"]), 2) if finite(o.get("shared")) else None}
    return None


def run_placed(argv, env, timeout, threads, bdir, probe_env):
    """run(), with probe_xcore's readings before and after it when the run
    uses two threads or more (rec["xcore"]; None otherwise)."""
    x0 = probe_xcore(bdir, probe_env) if threads >= 2 else None
    r = run(argv, env, timeout)
    return r, ([x0, probe_xcore(bdir, probe_env)] if threads >= 2 else None)


def main():
    global LOAD_AT_START
    try:
        LOAD_AT_START = " ".join("%.2f" % x for x in os.getloadavg())
    except OSError:
        pass
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", action="store_true")
    ap.add_argument("--build", default=os.environ.get("BUILD", "build"))
    ap.add_argument("--threads-list", default=None)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--no-peers", default=None, metavar="REASON")
    ap.add_argument("--only", default=None)
    ap.add_argument("--results", default=os.path.join(HERE, "results"))
    ap.add_argument("--timeout", type=int, default=None)
    a = ap.parse_args()

    try:
        ncores = len(os.sched_getaffinity(0))
    except AttributeError:
        ncores = os.cpu_count() or 1
    if a.threads_list:
        tlist = sorted({int(x) for x in a.threads_list.split(",") if x.strip()})
    else:
        tlist, t = [1], 2
        while t <= ncores:
            tlist.append(t)
            t *= 2
        if ncores not in tlist:
            tlist.append(ncores)
    if a.scale:
        tlist = [max(tlist)]
    tmax = max(tlist)
    timeout = a.timeout or (7200 if a.scale else 1200)
    only = set(a.only.split(",")) if a.only else None
    data_dir = os.path.abspath(os.environ.get("RECNN_DATA_DIR",
                                              os.path.join(REPO, "..", "shared", "datasets")))
    os.makedirs(a.results, exist_ok=True)

    env = dict(os.environ)
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS"):
        env.pop(k, None)
    env["RECNN_DATA_DIR"] = data_dir

    def cenv(t):
        e = dict(env, RECNN_THREADS=str(t), OMP_NUM_THREADS=str(t),
                 OPENBLAS_NUM_THREADS=str(t), RECNN_BENCH_SEED=str(a.seed))
        if a.scale:
            e["RECNN_BENCH_SCALE"] = "1"
        return e

    def cargs(name, t):
        """Arguments for programs that opted in to them: a source that
        contains the literal "--threads" parses the argument convention."""
        try:
            with open(os.path.join(HERE, name + ".c")) as f:
                opted = '"--threads"' in f.read()
        except OSError:
            opted = False
        if not opted:
            return []
        return ["--threads", str(t), "--seed", str(a.seed)] + (["--scale"] if a.scale else [])

    # ---- C benchmarks -------------------------------------------------------
    sources = sorted(f[:-2] for f in os.listdir(HERE) if f.startswith("bench_") and f.endswith(".c"))
    built = set()
    bdir = os.path.join(REPO, a.build, "bench")
    if os.path.isdir(bdir):
        built = {f for f in os.listdir(bdir) if f.startswith("bench_")
                 and os.access(os.path.join(bdir, f), os.X_OK)}
    names = sorted(set(sources) | built)
    if only:
        names = [n for n in names if n in only]
    benches = {}
    blas = None
    for name in names:
        exe = os.path.join(bdir, name)
        res = {"bench": name, "source": "bench/%s.c" % name if name in sources else None,
               "binary": os.path.relpath(exe, REPO), "runs": []}
        benches[name] = res
        if name not in built:
            res["status"] = "missing: %s not built (make %s)" % (
                res["binary"], res["binary"])
            log("%s: MISSING (not built)" % name)
            continue
        for t in tlist:
            argv = [exe] + cargs(name, t)
            log("%s at %d threads ..." % (name, t))
            r, xcore = run_placed(argv, cenv(t), timeout, t, bdir, env)
            rec = run_record(name, [os.path.relpath(exe, REPO)] + argv[1:], t, r)
            if xcore:
                rec["xcore"] = xcore
            rec["env"] = " ".join("%s=%s" % kv for kv in sorted(cenv(t).items()) if kv[0] in CENV)
            res["runs"].append(rec)
            log("%s at %d threads: %s in %.1fs" % (name, t, rec["status"], r["seconds"]))
            for o in rec["lines"]:
                if isinstance(o.get("machine"), dict) and o["machine"].get("blas"):
                    blas = o["machine"]["blas"]
                elif blas is None and isinstance(o.get("blas"), str):
                    blas = o["blas"]
        # determinism: rerun at tmax when checksums were printed
        first = [r for r in res["runs"] if r["threads"] == tmax]
        sums = {}
        if first:
            for o in first[0]["lines"]:
                if "checksum" in o:
                    sums[(o.get("model", ""), o.get("data", ""), o.get("variant", ""))] = str(o["checksum"])
        if sums and a.scale:
            # a rerun would double a run of minutes; the normal run checks it
            res["determinism_note"] = "not rerun in scale mode (make bench checks determinism)"
            sums = {}
        if sums:
            log("%s: determinism rerun at %d threads ..." % (name, tmax))
            r = run([exe] + cargs(name, tmax), cenv(tmax), timeout)
            objs, _ = parse_lines(r["stdout"])
            again = {(o.get("model", ""), o.get("data", ""), o.get("variant", "")): str(o["checksum"])
                     for o in objs if "checksum" in o}
            det = []
            for k, v in sums.items():
                w = again.get(k)
                det.append({"model": k[0], "data": k[1], "variant": k[2], "threads": tmax,
                            "seed": a.seed, "first": v, "second": w,
                            "bit_identical": ("yes" if w == v else
                                              "no" if w is not None else
                                              "unknown (rerun %s)" % r["status"])})
            res["determinism"] = det
            log("%s: bit-identical: %s" % (name, ", ".join(d["bit_identical"] for d in det)))
        st = [r["status"] for r in res["runs"]]
        res["status"] = "ok" if all(s.startswith("ok") for s in st) else "; ".join(
            "%d threads: %s" % (r["threads"], r["status"]) for r in res["runs"] if not r["status"].startswith("ok"))

    # ---- peers --------------------------------------------------------------
    peers = {"bench": "peers", "runs": []}
    tinfo = None
    if a.scale:
        peers["status"] = ("skipped in scale mode: the dense PyTorch peers cannot hold "
                           "Netflix-size matrices (480,189 x 17,770 floats = 34 GB)")
    elif a.no_peers:
        peers["status"] = "skipped: " + a.no_peers
        log("peers skipped: " + a.no_peers)
    else:
        tinfo = torch_info()
        if tinfo is None:
            peers["status"] = "skipped: /usr/bin/python3 cannot import torch"
        else:
            penv = dict(env)
            for pname, pargs in PEERS:
                if only and "peers" not in only and pname not in only:
                    continue
                for t in tlist:
                    argv = [PY, os.path.join("bench", "peers", pargs[0])] + pargs[1:] + \
                        ["--threads", str(t), "--seed", str(a.seed), "--data", data_dir] + \
                        split_args(pname, a.seed)
                    log("peer %s --threads %d ..." % (pname, t))
                    r, xcore = run_placed(argv, penv, timeout, t, bdir, env)
                    rec = run_record(pname, argv, t, r)
                    if xcore:
                        rec["xcore"] = xcore
                    rec["peer"] = pname
                    peers["runs"].append(rec)
                    log("peer %s --threads %d: %s in %.1fs" % (pname, t, rec["status"], r["seconds"]))
            bad = [r for r in peers["runs"] if not r["status"].startswith("ok")]
            peers["status"] = "ok" if not bad else "; ".join(
                "%s@%d: %s" % (r["peer"], r["threads"], r["status"]) for r in bad)

    # ---- alternated timing pairs --------------------------------------------
    pairs_out = None
    if tinfo is not None and not a.scale and (only is None or "pairs" in only or
                                              any(p[0] in only for p in PAIRS)):
        pairs_out = {"bench": "pairs", "rounds": PAIR_ROUNDS, "pairs": []}
        for pname, ours, ours_env, theirs, key in PAIRS:
            if only is not None and "pairs" not in only and pname not in only:
                continue
            for t in tlist:
                rec = {"name": pname, "model": key[0], "data": key[1], "variant": key[2],
                       "metric": key[3], "threads": t, "ours": [], "peer": [], "xcore": [],
                       "ours_argv": [os.path.join(a.build, "bench", ours[0])] + ours[1:] +
                       cargs(ours[0], t),
                       "ours_env": ours_env,
                       "peer_argv": [PY, os.path.join("bench", "peers", theirs[0])] +
                       theirs[1:] + ["--threads", str(t), "--seed", str(a.seed),
                                     "--data", data_dir]}
                log("pairs %s --threads %d: %d rounds ..." % (pname, t, PAIR_ROUNDS))
                for i in range(PAIR_ROUNDS):
                    x0 = probe_xcore(bdir, env) if t >= 2 else None
                    got = {}
                    order = ("ours", "peer") if i % 2 == 0 else ("peer", "ours")
                    for side in order:
                        # the peer's split as in the main pass (our bench of
                        # the first round may have just written it)
                        if side == "peer" and "--split" not in rec["peer_argv"]:
                            rec["peer_argv"] += split_args(pname, a.seed)
                        argv = [os.path.join(REPO, rec["ours_argv"][0])] + rec["ours_argv"][1:] \
                            if side == "ours" else rec["peer_argv"]
                        r = run(argv, dict(cenv(t), **ours_env) if side == "ours" else env,
                                timeout)
                        objs, _ = parse_lines(r["stdout"])
                        # long or wide lines alike (figures_of)
                        v = next((f["value"] for o in objs for f in figures_of(o, t)
                                  if (f["model"], f["data"], f["variant"], f["metric"]) == key),
                                 None)
                        got[side] = float(v) if r["status"] == "ok" and v is not None else None
                        if got[side] is None:
                            rec.setdefault("failures", []).append(
                                "%s round %d: %s" % (side, i + 1, r["status"]))
                    rec["ours"].append(got["ours"])
                    rec["peer"].append(got["peer"])
                    if t >= 2:
                        rec["xcore"].append([x0, probe_xcore(bdir, env)])
                adv = sorted(p / o for o, p in zip(rec["ours"], rec["peer"]) if o and p)
                rec["advantage"] = adv
                if adv:
                    rec["advantage_median"] = adv[len(adv) // 2] if len(adv) % 2 else \
                        0.5 * (adv[len(adv) // 2 - 1] + adv[len(adv) // 2])
                log("pairs %s --threads %d: peer / ours %s" % (
                    pname, t, ", ".join("%.2f" % x for x in adv) or "none"))
                pairs_out["pairs"].append(rec)

    # ---- pairing and writing ------------------------------------------------
    peer_figs = {}
    for r in peers["runs"]:
        for o in r["lines"]:
            for f in figures_of(o, r["threads"]):
                f["source"] = " ".join(os.path.relpath(x, REPO) if x.startswith(REPO) else x
                                       for x in r["argv"][1:])
                f["peer_name"] = r["peer"]
                f["same_run"] = True
                if f["threads"] >= 2 and r.get("xcore"):
                    f["xcore"] = r["xcore"]
                f["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
                peer_figs[fkey(f)] = f
    peers["skips"] = [dict(o, threads=r["threads"]) for r in peers["runs"] for o in r["lines"] if "skip" in o]
    # Peers not run this time (BENCH_ONLY, no torch): their figures of the
    # last full run are kept, marked same_run = false, so that a partial run
    # neither loses them nor passes them off as measured alongside.
    rerun = {r["peer"] for r in peers["runs"]}
    old_path = os.path.join(a.results, "peers.json")
    old = None
    if not a.scale and os.path.exists(old_path):
        try:
            with open(old_path) as fh:
                old = json.load(fh)
        except (OSError, ValueError):
            old = None
    if old:
        for f in old.get("figures", []):
            if f.get("peer_name") in rerun or f.get("peer_name") is None:
                continue
            f = dict(f, same_run=False, date=f.get("date") or old.get("date"))
            k = fkey(f)
            if k not in peer_figs:
                peer_figs[k] = f
        peers["runs"] = [r for r in old.get("runs", []) if r.get("peer") not in rerun] + peers["runs"]
        for r in peers["runs"]:
            r.setdefault("lines", [])
        peers["skips"] = [s for s in old.get("skips", []) if s.get("bench", "").replace("peer_", "") not in
                          {p.split("-")[0] for p in rerun}] + peers["skips"]
    peers["figures"] = sorted(peer_figs.values(), key=fkey)

    # sgemm reference figures (for dense-path fractions)
    sgemm = {}
    for res in benches.values():
        for r in res["runs"]:
            for o in r["lines"]:
                if o.get("model") == "sgemm" and o.get("metric") == "gflops" and "shape" in o:
                    sgemm[(o["shape"], int(o.get("threads", r["threads"])))] = float(o["value"])

    common = {"commit": git_commit(),
              "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
              "machine": machine_info(blas, tinfo), "threads_list": tlist, "seed": a.seed,
              "mode": "scale" if a.scale else "normal",
              "command": "make bench-scale" if a.scale else "make bench"}
    suffix = ".scale.json" if a.scale else ".json"
    for name, res in benches.items():
        figs, bykey = [], {}
        for r in res["runs"]:
            for o in r["lines"]:
                for f in figures_of(o, r["threads"]):
                    # a figure printed by several runs (e.g. a 1-thread line
                    # also printed by the 2-thread run): the first one counts
                    if fkey(f) not in bykey:
                        if f["threads"] >= 2 and r.get("xcore"):
                            f["xcore"] = r["xcore"]
                        bykey[fkey(f)] = f
                        figs.append(f)
        for f in figs:
            lb = lower_is_better(f["metric"])
            f["better"] = "lower" if lb else "higher"
            p = peer_figs.get((f["model"], f["data"], f["variant"], f["metric"], "", f["threads"]))
            if p is not None and p["value"] != 0 and f["value"] != 0:
                f["peer"] = {"value": p["value"], "source": p["source"],
                             "same_run": p.get("same_run", True), "date": p.get("date"),
                             "torch_threads": p["context"].get("torch_threads"),
                             "blas_threads": p["context"].get("blas_threads"),
                             "blas_core": p["context"].get("blas_core"),
                             "epochs": p["context"].get("epochs"), "xcore": p.get("xcore")}
                f["ratio"] = f["value"] / p["value"]
                f["advantage"] = (p["value"] / f["value"]) if lb else (f["value"] / p["value"])
            else:
                f["peer"] = None
            if f["threads"] != 1:
                one = bykey.get(fkey(f)[:-1] + (1,))
                if one is not None and one["value"] and f["value"] and (
                        f["metric"].endswith("seconds") or f["metric"] in ("gflops", "ratings_per_second")):
                    f["speedup_vs_1_thread"] = (one["value"] / f["value"]) if lb else (f["value"] / one["value"])
            if f["metric"] == "gflops" and "shape" in f and f["model"] != "sgemm":
                # The reference: bare cblas_sgemm of the same shapes and
                # transposes timed alternately by the same program
                # ("ref_gflops"), else bench_sgemm's figure for the shape
                # (no transposes) from the same run.
                ref_in = f.get("context", {}).get("ref_gflops")
                ref = sgemm.get((f["shape"], f["threads"]))
                if ref:
                    f["bench_sgemm_gflops"] = ref
                if finite(ref_in) and ref_in > 0:
                    f["sgemm_gflops"] = float(ref_in)
                    f["fraction_of_sgemm"] = f["value"] / float(ref_in)
                    f["reference"] = "bare sgemm, same process, alternated"
                elif ref:
                    f["sgemm_gflops"] = ref
                    f["fraction_of_sgemm"] = f["value"] / ref
                    f["reference"] = "bench_sgemm, same run"
        res["figures"] = figs
        res["skips"] = [dict(o, threads=r["threads"]) for r in res["runs"] for o in r["lines"]
                        if "skip" in o or "skipped" in o]
        res["errors"] = [dict(o, threads=r["threads"]) for r in res["runs"] for o in r["lines"]
                         if "error" in o]
        out = dict(common)
        out.update(res)
        for r in out["runs"]:
            r["n_lines"] = len(r.pop("lines"))
        with open(os.path.join(a.results, name + suffix), "w") as f:
            json.dump(out, f, indent=1, sort_keys=False)
            f.write("\n")
    if only is None or "peers" in only or any(p[0] in only for p in PEERS):
        out = dict(common)
        out.update(peers)
        for r in out["runs"]:
            n = len(r.pop("lines"))
            r.setdefault("n_lines", n)
        if not a.scale:
            with open(os.path.join(a.results, "peers.json"), "w") as f:
                json.dump(out, f, indent=1)
                f.write("\n")
    if pairs_out is not None:
        out = dict(common)
        out.update(pairs_out)
        with open(os.path.join(a.results, "pairs.json"), "w") as f:
            json.dump(out, f, indent=1)
            f.write("\n")
    log("results in %s" % os.path.relpath(a.results, REPO))
    bad = [n for n, r in benches.items() if r.get("status") != "ok"]
    if bad:
        log("NOT OK: " + ", ".join("%s (%s)" % (n, benches[n]["status"]) for n in bad))
    return 0


if __name__ == "__main__":
    sys.exit(main())
