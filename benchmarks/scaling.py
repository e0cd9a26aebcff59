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
exponentials and no generators; a ratio near 1 means the rest of the work is nearly free. Times are the best of
`--repeats` runs: on a machine shared with other work they are still noisy, so read the ratios, measured side by side,
rather than the absolute times.

With --compare PATH the same children also run another checkout of the package (PYTHONPATH=PATH), interleaved with
this one, so that before and after are measured under the same load. The tile counts of this checkout are printed too.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def best_of(f, repeats):
    "minimum wall time of `repeats` calls"
    times = []
    for _ in range(repeats):
        t = time.perf_counter(); f(); times.append(time.perf_counter() - t)
    return min(times)


def child(quick, repeats):
    "One process, one thread count: time every workload and its floor; print a JSON line"
    import numba
    import numpy as np
    from threadpoolctl import threadpool_limits
    from sklearn.neural_network import BernoulliRBM

    from ebm_literate.data import load_mnist5k_binary
    from ebm_literate.exact import log_partition
    from ebm_literate.models import RBM, init_rbm
    from ebm_literate.mcmc import rbm_gibbs
    from ebm_literate.partition import ais, base_rate_logits, salakhutdinov_murray_betas
    from ebm_literate.sml import PCD
    from ebm_literate.training import train

    threads = numba.config.NUMBA_NUM_THREADS
    out = {"threads": threads}
    rng = np.random.default_rng(0)
    X = load_mnist5k_binary()
    base = base_rate_logits(X)
    rbm = RBM(rng.normal(0, 0.05, (784, 500)), base.copy(), np.zeros(500))
    v = (rng.random((100, 784)) < 0.2).astype(float)
    h = (rng.random((100, 500)) < 0.5).astype(float)
    A, B = np.empty((100, 500)), np.empty((100, 784))

    def products(n):
        with threadpool_limits(threads, user_api="blas"):
            for _ in range(n):
                np.matmul(v, rbm.W, out=A); np.matmul(h, rbm.W.T, out=B)

    # exact log Z, 784 x 20
    small = init_rbm(784, 20, rng=1, scale=0.1)
    log_partition(small)
    out["logz"] = best_of(lambda: log_partition(small), repeats)

    # Gibbs sweep
    k = 10 if quick else 20
    rbm_gibbs(rbm, v, 1, rng=0)
    out["sweep"] = best_of(lambda: rbm_gibbs(rbm, v, k, rng=1), repeats) / k
    products(1)
    out["sweep_floor"] = best_of(lambda: products(k), repeats) / k

    # PCD-1 epoch
    n_rows = 1000 if quick else len(X)
    data = X[:n_rows]
    start = init_rbm(784, 500, rng=0, scale=0.01, data=data)
    state = train(start, data, PCD(1, n_chains=100), n_steps=2, batch_size=100, learning_rate=0.01, rng=0).state
    out["pcd"] = best_of(lambda: train(start, data, PCD(1, n_chains=100), n_epochs=1, batch_size=100,
                                       learning_rate=0.01, rng=0, state=state), repeats) * len(X) / n_rows
    H = np.zeros((100, 500))
    V2, P2 = np.vstack([data[:100]] * 2), np.full((200, 500), 0.5)

    def epoch_products():
        with threadpool_limits(threads, user_api="blas"):
            for lo in range(0, n_rows, 100):
                P = data[lo:lo + 100] @ start.W        # positive phase
                Vn = H @ start.W.T                     # v ~ p(v | h)
                Pn = Vn @ start.W                      # p(h | v')
                G = V2.T @ P2                          # weight gradient, positive and negative rows stacked
    epoch_products()
    out["pcd_floor"] = best_of(epoch_products, repeats) * len(X) / n_rows
    sk = BernoulliRBM(n_components=500, learning_rate=0.01, batch_size=100, n_iter=1, random_state=0)
    with threadpool_limits(threads, user_api="blas"):
        out["sklearn"] = best_of(lambda: sk.fit(data), repeats) * len(X) / n_rows

    # AIS
    K = 1000 if quick else 14500
    betas = salakhutdinov_murray_betas(K)
    ais(rbm, 100, salakhutdinov_murray_betas(3), rng=0, base=base)
    out["ais"] = best_of(lambda: ais(rbm, 100, betas, rng=1, base=base), 1 if not quick else repeats)
    m = min(K, 500)
    out["ais_floor"] = best_of(lambda: products(m), repeats) * K / m
    print(json.dumps(out))


def tile_counts():
    "the tiles this checkout cuts the work into, for the report"
    try:
        from ebm_literate.mcmc import _rbm_grid, _tiles
    except ImportError:
        return "no tiles (a checkout before them)"
    g = _rbm_grid(100, 784, 500)
    pcd = _tiles(784, 200, 500)
    return (f"Gibbs and AIS, 100 chains of 784-500: hidden product {g[0]}x{g[1]} = {g[0] * g[1]} tiles, visible "
            f"product {g[2]}x{g[3]} = {g[2] * g[3]} tiles, {g[4]} blocks of generators; PCD weight gradient "
            f"(784 x 200 rows x 500): {pcd[0]}x{pcd[1]} = {pcd[0] * pcd[1]} tiles; exact log Z 784x20: 256 blocks of "
            f"the 2^20 hidden states")


def run_child(threads, quick, repeats, pythonpath=None):
    env = dict(os.environ, NUMBA_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    if pythonpath:
        env["PYTHONPATH"] = pythonpath + os.pathsep + env.get("PYTHONPATH", "")
    args = [sys.executable, str(Path(__file__).resolve()), "--child", "--repeats", str(repeats)]
    if quick: args.append("--quick")
    run = subprocess.run(args, env=env, capture_output=True, text=True, cwd=pythonpath or HERE.parent)
    if run.returncode != 0:
        raise RuntimeError(run.stderr[-3000:])
    return json.loads(run.stdout.strip().splitlines()[-1])


def table(results, label):
    rows = [("exact log Z 784x20", "logz", None), ("Gibbs sweep 784-500 x 100", "sweep", "sweep_floor"),
            ("PCD-1 epoch 784-500, MNIST-5k", "pcd", "pcd_floor"), ("AIS 784-500 x 100", "ais", "ais_floor")]
    one = results[min(results)]
    print(f"\n{label}")
    print(f"{'work':31s} {'threads':>7s} {'time (s)':>10s} {'speed-up':>8s} {'floor (s)':>10s} {'/ floor':>7s}"
          f" {'sklearn (s)':>11s} {'/ sklearn':>9s}")
    for name, key, floor in rows:
        for t in sorted(results):
            r = results[t]
            fl = f"{r[floor]:10.4f} {r[key] / r[floor]:7.2f}" if floor else f"{'-':>10s} {'-':>7s}"
            sk = f"{r['sklearn']:11.4f} {r[key] / r['sklearn']:9.2f}" if key == "pcd" else ""
            print(f"{name:31s} {t:7d} {r[key]:10.4f} {one[key] / r[key]:8.2f} {fl} {sk}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", default=None, help="comma-separated thread counts (default 1, 2, 4, 8, 16 up to "
                                                    "the number of cores)")
    ap.add_argument("--compare", default=None, help="another checkout of ebm_literate to time side by side")
    args = ap.parse_args()
    if args.child:
        return child(args.quick, args.repeats)
    cores = os.cpu_count() or 1
    threads = ([int(t) for t in args.threads.split(",")] if args.threads
               else [t for t in (1, 2, 4, 8, 16) if t <= cores])
    sys.path.insert(0, str(HERE.parent))
    print(f"{cores} cores; load average {os.getloadavg()[0]:.2f} (1 min) at the start; "
          f"{'quick run' if args.quick else 'full run'}, best of {args.repeats}")
    print("tiles of this checkout:", tile_counts())
    ours, theirs = {}, {}
    for t in threads:
        ours[t] = run_child(t, args.quick, args.repeats)
        if args.compare:
            theirs[t] = run_child(t, args.quick, args.repeats, args.compare)
    table(ours, f"this checkout ({HERE.parent})")
    if args.compare:
        table(theirs, f"compared checkout ({args.compare})")
        print("\nthis checkout's time / compared checkout's time (below 1: faster now)")
        for key, name in (("logz", "exact log Z"), ("sweep", "Gibbs sweep"), ("pcd", "PCD-1 epoch"), ("ais", "AIS")):
            print(f"  {name:12s} " + "  ".join(f"{t} threads: {ours[t][key] / theirs[t][key]:.2f}" for t in threads))
    print(f"\nload average {os.getloadavg()[0]:.2f} (1 min) at the end")


if __name__ == "__main__":
    main()
