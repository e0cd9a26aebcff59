"""How the kernels scale with threads, each timed against the same work's matrix products alone, in one run.

    python benchmarks/scaling.py [--quick] [--threads 1,2,4] [--repeats N] [--compare PATH]

For 1, 2, 4, 8 and 16 threads (up to what the machine has, or the list given), each in a fresh process with
NUMBA_NUM_THREADS and the BLAS threads set to that number:

  exact log Z   784x20 RBM, enumerating the 2^20 hidden states (a Gray-code kernel: no matrix products)
  Gibbs sweep   784-500 RBM, 100 chains (time per sweep of rbm_gibbs)
  PCD-1 epoch   784-500 RBM on MNIST-5k, batch 100, 100 persistent chains (train with PCD(1)); and scikit-learn's
                BernoulliRBM epoch (also PCD-1, batch 100) with the same number of BLAS threads
  AIS           784-500 RBM, 100 chains, 14,500 temperatures (1,000 with --quick)

Each row prints the time, the speed-up over one thread, and the ratio to the work's matrix products alone, done by
NumPy with the same number of BLAS threads on whole matrices: two products per sweep or AIS step, five per PCD-1
update (positive phase, the chains' two, the weight gradient as one stacked product). The floor has no sampling, no
exponentials and no generators; a ratio near 1 means that the rest of the work is nearly free. Times are the best of
`--repeats` runs; on a machine shared with other work they stay noisy, so read the ratios, measured side by side.

With --compare PATH, each child also imports the package of another checkout (PATH/ebm_literate, copied under another
name) and times it in the same process, interleaved with this one, repeat by repeat, so that before and after meet the
same load; the last table gives this checkout's time over the other's. The tiles of this checkout are printed first.
"""
import argparse
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = [("logz", "exact log Z 784x20", None), ("sweep", "Gibbs sweep 784-500 x 100", "sweep_floor"),
        ("pcd", "PCD-1 epoch 784-500, MNIST-5k", "pcd_floor"), ("ais", "AIS 784-500 x 100", "ais_floor")]


def workloads(pkg, quick):
    "name -> function running the work once, with the package `pkg` (ebm_literate or the compared copy)"
    import numpy as np
    P, S, T, M, E, Mo, D = (importlib.import_module(f"{pkg}.{m}") for m in
                            ("partition", "sml", "training", "mcmc", "exact", "models", "data"))
    rng = np.random.default_rng(0)
    X = D.load_mnist5k_binary()
    base = P.base_rate_logits(X)
    rbm = Mo.RBM(rng.normal(0, 0.05, (784, 500)), base.copy(), np.zeros(500))
    v = (rng.random((100, 784)) < 0.2).astype(float)
    small = Mo.init_rbm(784, 20, rng=1, scale=0.1)
    k = 10 if quick else 20
    data = X[:1000] if quick else X
    start = Mo.init_rbm(784, 500, rng=0, scale=0.01, data=data)
    state = T.train(start, data, S.PCD(1, n_chains=100), n_steps=2, batch_size=100, learning_rate=0.01, rng=0).state
    betas = P.salakhutdinov_murray_betas(1000 if quick else 14500)
    work = {"logz": lambda: E.log_partition(small),
            "sweep": lambda: M.rbm_gibbs(rbm, v, k, rng=1),
            "pcd": lambda: T.train(start, data, S.PCD(1, n_chains=100), n_epochs=1, batch_size=100,
                                   learning_rate=0.01, rng=0, state=state),
            "ais": lambda: P.ais(rbm, 100, betas, rng=1, base=base)}
    scale = {"logz": 1.0, "sweep": 1.0 / k, "pcd": len(X) / len(data), "ais": 1.0}
    for name, f in work.items():                       # compile or load from the cache, warm the workspaces
        f() if name != "ais" else P.ais(rbm, 100, P.linear_betas(3), rng=1, base=base)
    return work, scale


def floors(quick):
    "name -> function timing the same work's matrix products alone (NumPy, whole matrices), and their scales"
    import numpy as np
    rng = np.random.default_rng(0)
    W = rng.normal(0, 0.05, (784, 500))
    v, h = (rng.random((100, 784)) < 0.2).astype(float), (rng.random((100, 500)) < 0.5).astype(float)
    A, B = np.empty((100, 500)), np.empty((100, 784))
    V2, P2 = np.vstack([v] * 2), np.full((200, 500), 0.5)
    k, steps = (10 if quick else 20), 500
    n_batches = 10 if quick else 50
    K = 1000 if quick else 14500

    def products(n):
        for _ in range(n):
            np.matmul(v, W, out=A); np.matmul(h, W.T, out=B)

    def pcd_products():
        for _ in range(n_batches):
            np.matmul(v, W, out=A)                     # positive phase
            np.matmul(h, W.T, out=B)                   # v ~ p(v | h)
            np.matmul(v, W, out=A)                     # p(h | v')
            V2.T @ P2                                  # weight gradient, positive and negative rows stacked
    from ebm_literate.mcmc import _rbm_grid
    g = _rbm_grid(100, 784, 500)
    tiles_h = [(r, u) for r in np.array_split(np.arange(100), g[0]) for u in np.array_split(np.arange(500), g[1])]
    tiles_v = [(r, u) for r in np.array_split(np.arange(100), g[2]) for u in np.array_split(np.arange(784), g[3])]
    tiles_h = [(slice(r[0], r[-1] + 1), slice(u[0], u[-1] + 1)) for r, u in tiles_h]
    tiles_v = [(slice(r[0], r[-1] + 1), slice(u[0], u[-1] + 1)) for r, u in tiles_v]

    def tiled_products(n):
        "the same two products cut into the kernel's tiles, one BLAS call per tile (what the fixed tiles cost)"
        for _ in range(n):
            for r, u in tiles_h:
                A[r, u] = v[r] @ W[:, u]
            for r, u in tiles_v:
                B[r, u] = h[r] @ W[u].T
    work = {"sweep_floor": lambda: products(k), "ais_floor": lambda: products(steps), "pcd_floor": pcd_products,
            "sweep_tiled_floor": lambda: tiled_products(k)}
    scale = {"sweep_floor": 1.0 / k, "ais_floor": K / steps, "pcd_floor": 50 / n_batches, "sweep_tiled_floor": 1.0 / k}
    return work, scale


def child(quick, repeats, compare):
    "One process, one thread count: every workload, its floor and scikit-learn's epoch; a JSON line"
    import numba
    import numpy as np
    from threadpoolctl import threadpool_limits
    from sklearn.neural_network import BernoulliRBM

    threads = numba.config.NUMBA_NUM_THREADS
    pkgs = ["ebm_literate"]
    if compare:
        tmp = Path(tempfile.mkdtemp(prefix="ebm_compare_"))
        shutil.copytree(Path(compare) / "ebm_literate", tmp / "ebm_compare",
                        ignore=shutil.ignore_patterns("__pycache__"))
        sys.path.insert(0, str(tmp))
        pkgs.append("ebm_compare")
    runs = {p: workloads(p, quick) for p in pkgs}
    floor, floor_scale = floors(quick)
    X = importlib.import_module("ebm_literate.data").load_mnist5k_binary()
    data = X[:1000] if quick else X
    sk = BernoulliRBM(n_components=500, learning_rate=0.01, batch_size=100, n_iter=1, random_state=0)
    best = {}

    def timed(key, f, s):
        t = time.perf_counter(); f(); dt = (time.perf_counter() - t) * s
        best[key] = min(best.get(key, np.inf), dt)

    for r in range(repeats):                            # interleaved, so that load from elsewhere hits all alike
        for name, _, _ in WORK:
            if name == "ais" and not quick and r > 0:
                continue                                 # the full AIS run is long: once
            for p in pkgs:
                work, scale = runs[p]
                timed(f"{p}:{name}", work[name], scale[name])
        with threadpool_limits(threads, user_api="blas"):
            for name, f in floor.items():
                timed(name, f, floor_scale[name])
            timed("sklearn", lambda: sk.fit(data), len(X) / len(data))
    print(json.dumps({"threads": threads, **best}))


def tile_counts():
    "the tiles this checkout cuts the work into, for the report"
    from ebm_literate.mcmc import _rbm_grid, _tiles
    g = _rbm_grid(100, 784, 500)
    pcd = _tiles(784, 200, 500)
    return (f"Gibbs sweep and AIS, 100 chains of 784-500: hidden product {g[0]}x{g[1]} = {g[0] * g[1]} tiles (chain "
            f"blocks x unit blocks), visible product {g[2]}x{g[3]} = {g[2] * g[3]}, {g[4]} blocks of generators; PCD "
            f"weight gradient (784 x 200 rows x 500): {pcd[0]}x{pcd[1]} = {pcd[0] * pcd[1]} tiles; exact log Z "
            f"784x20: 256 blocks of the 2^20 hidden states")


def run_child(threads, quick, repeats, compare):
    env = dict(os.environ, NUMBA_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    env["PYTHONPATH"] = str(HERE.parent) + os.pathsep + env.get("PYTHONPATH", "")
    args = [sys.executable, str(Path(__file__).resolve()), "--child", "--repeats", str(repeats)]
    if quick: args.append("--quick")
    if compare: args += ["--compare", str(Path(compare).resolve())]
    run = subprocess.run(args, env=env, capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(run.stderr[-3000:])
    return json.loads(run.stdout.strip().splitlines()[-1])


def table(results, pkg, label):
    one = results[min(results)]
    print(f"\n{label}")
    print(f"{'work':31s} {'threads':>7s} {'time (s)':>10s} {'speed-up':>8s} {'floor (s)':>10s} {'/ floor':>7s}"
          f" {'sklearn (s)':>11s} {'/ sklearn':>9s}")
    for name, title, floor in WORK:
        key = f"{pkg}:{name}"
        for t in sorted(results):
            r = results[t]
            fl = f"{r[floor]:10.4f} {r[key] / r[floor]:7.2f}" if floor else f"{'-':>10s} {'-':>7s}"
            sk = f"{r['sklearn']:11.4f} {r[key] / r['sklearn']:9.2f}" if name == "pcd" else ""
            print(f"{title:31s} {t:7d} {r[key]:10.4f} {one[key] / r[key]:8.2f} {fl} {sk}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", default=None, help="comma-separated thread counts (default 1, 2, 4, 8, 16 up to "
                                                    "the number of cores)")
    ap.add_argument("--compare", default=None, help="another checkout of ebm_literate, timed side by side")
    args = ap.parse_args()
    if args.child:
        return child(args.quick, args.repeats, args.compare)
    cores = os.cpu_count() or 1
    threads = ([int(t) for t in args.threads.split(",")] if args.threads
               else [t for t in (1, 2, 4, 8, 16) if t <= cores])
    sys.path.insert(0, str(HERE.parent))
    print(f"{cores} cores; load average {os.getloadavg()[0]:.2f} (1 min) at the start; "
          f"{'quick run' if args.quick else 'full run'}, best of {args.repeats}")
    print("tiles of this checkout:", tile_counts())
    results = {t: run_child(t, args.quick, args.repeats, args.compare) for t in threads}
    table(results, "ebm_literate", f"this checkout ({HERE.parent})")
    if args.compare:
        table(results, "ebm_compare", f"compared checkout ({args.compare}), in the same processes")
        print("\nthis checkout's time / compared checkout's time (below 1: faster now)")
        for name, title, _ in WORK:
            ratios = [results[t][f"ebm_literate:{name}"] / results[t][f"ebm_compare:{name}"] for t in threads]
            print(f"  {title:31s} " + "  ".join(f"{t} threads: {r:.2f}" for t, r in zip(threads, ratios)))
    print("\nthe sweep against its products cut into the same tiles (the floor under the rule that the tiles depend on"
          "\nthe shapes only, never on the thread count), and what the tiles cost the products themselves:")
    for t in threads:
        r = results[t]
        print(f"  {t:2d} threads: sweep / tiled products {r['ebm_literate:sweep'] / r['sweep_tiled_floor']:.2f}, "
              f"tiled / whole products {r['sweep_tiled_floor'] / r['sweep_floor']:.2f}")
    print(f"\nload average {os.getloadavg()[0]:.2f} (1 min) at the end")


if __name__ == "__main__":
    main()
