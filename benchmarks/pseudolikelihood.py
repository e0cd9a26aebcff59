"""Pseudolikelihood objective plus gradient: the Numba kernels against the vectorized NumPy reference of the same
math (ebm_literate.pseudolikelihood._pl_reference), in one run; and the cost of pseudolikelihood against exact
log-likelihood as the number of units grows.

    python benchmarks/pseudolikelihood.py [--quick] [--figure PATH] [--blas-threads K]

Part 1 prints, for RBMs and Boltzmann machines of several sizes, the warm time (best of several calls) of
`pseudolikelihood_and_grad` (every bit, exact) and of the NumPy reference, their ratio, and the largest difference
of the results. Compile time is measured separately, in a fresh Numba cache directory. Part 2 times one evaluation
(100 examples) of the log-pseudolikelihood with its gradient and of the exact log-likelihood (Gray-code enumeration,
ebm_literate.exact) for Boltzmann machines with n units, prints the table and saves a log-scale figure to PATH
(default: _build/benchmarks/pseudolikelihood_cost.png, which git ignores). Part 3 times generalized pseudolikelihood
with its gradient for a 784-20 RBM on 20 MNIST digits (blocks of 4 neighbouring pixels, as the comparison chapter
uses): the RBM kernel against the NumPy reference, and against the pseudolikelihood kernel on the same rows, whose
work per pixel is one flip where a block of 4 has 15 flip patterns for 4 pixels.

The kernels are serial, so by default BLAS also runs on one thread (threadpoolctl), and so does the exact
enumeration in part 2: both sides of every comparison use one core. On a shared machine a multi-threaded BLAS
spends more time waiting than multiplying on matrices of this size. Pass --blas-threads 0 to leave the thread
counts alone.
"""
import argparse
import os
import tempfile
import time

os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="ebm_pl_bench_")   # first calls compile

import numba
import numpy as np

from ebm_literate import exact
from ebm_literate.models import BM, RBM
from ebm_literate.gradient import flatten_params
from ebm_literate.pseudolikelihood import (_check_blocks, _gpl, _gpl_reference, _pl_reference, contiguous_blocks,
                                           pseudolikelihood_and_grad)


def best_of(f, repeats):
    "minimum wall time of `repeats` calls (the least disturbed by other processes) and the last result"
    best, out = np.inf, None
    for _ in range(repeats):
        t = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t)
    return best, out


def random_bm(n, scale, rng):
    A = np.triu(rng.normal(0, scale, (n, n)), 1)
    return BM(A + A.T, rng.normal(0, scale, n))


def random_rbm(n_v, n_h, scale, rng):
    return RBM(rng.normal(0, scale, (n_v, n_h)), rng.normal(-0.5, scale, n_v), rng.normal(0, scale, n_h))


def throughput(quick):
    rng = np.random.default_rng(0)
    small = (rng.random((5, 6)) < 0.5).astype(float)
    t = time.perf_counter(); pseudolikelihood_and_grad(random_rbm(6, 3, 0.1, rng), small); c_rbm = time.perf_counter() - t
    t = time.perf_counter(); pseudolikelihood_and_grad(random_bm(6, 0.1, rng), small); c_bm = time.perf_counter() - t
    print(f"compile + first call: RBM kernel {c_rbm:.2f} s, BM kernel {c_bm:.2f} s\n")
    cases = [("RBM", 64, 16, 1437), ("RBM", 784, 100, 100), ("RBM", 784, 500, 20),
             ("BM", 64, None, 1437), ("BM", 784, None, 100)]
    if quick: cases = cases[:2] + cases[3:4]
    repeats = 3 if quick else 7
    print(f"{'model':>12} {'batch':>6} {'ours (ms)':>10} {'numpy (ms)':>11} {'speed-up':>9} {'max |diff|':>11} "
          f"{'ours (Mpairs/s)':>16}")
    for kind, n, n_h, m in cases:
        params = random_rbm(n, n_h, 0.05, rng) if kind == "RBM" else random_bm(n, 0.05, rng)
        X = (rng.random((m, n)) < 0.3).astype(float)
        ours, (v1, g1) = best_of(lambda: pseudolikelihood_and_grad(params, X), repeats)
        ref, (v2, g2) = best_of(lambda: _pl_reference(params, X), max(2, repeats // 2))
        diff = max(abs(v1 - v2), np.max(np.abs(flatten_params(g1) - flatten_params(g2))))
        pairs = m * n * (n_h if kind == "RBM" else n)     # (example, bit, hidden unit or other unit) triples
        name = f"{kind} {n}" + (f"-{n_h}" if n_h else "")
        print(f"{name:>12} {m:>6} {1e3 * ours:10.3f} {1e3 * ref:11.3f} {ref / ours:8.1f}x {diff:11.1e} "
              f"{pairs / ours / 1e6:16.1f}")
    print("\n(target for the RBM kernels: >= 10x; the BM objective is two BLAS products plus an elementwise pass, "
          "so its NumPy reference is already close to the floor)")


def gpl_throughput(quick):
    from ebm_literate.data import load_mnist5k_binary
    rng = np.random.default_rng(2)
    X = load_mnist5k_binary()[:20]
    params = RBM(rng.normal(0, 0.1, (784, 20)), rng.normal(-1.0, 0.1, 784), rng.normal(0, 0.1, 20))
    blocks = _check_blocks(contiguous_blocks(784, 4), 784)
    repeats = 5 if quick else 15
    ours, got = best_of(lambda: _gpl(params, X, blocks), repeats)
    value_only, _ = best_of(lambda: _gpl(params, X, blocks, want_grad=False), repeats)
    ref, want = best_of(lambda: _gpl_reference(params, X, blocks), 2 if quick else 3)
    pl, _ = best_of(lambda: pseudolikelihood_and_grad(params, X), repeats)
    g, r = flatten_params(got.grads), flatten_params(want.grads)
    diff = max(abs(got.value - want.value) / abs(want.value), np.max(np.abs(g - r)) / np.max(np.abs(r)))
    print(f"\nGPL, RBM 784-20, 20 MNIST rows, 196 blocks of 4 pixels")
    print(f"{'ours (ms)':>10} {'value only':>11} {'numpy (ms)':>11} {'speed-up':>9} {'PL kernel (ms)':>15} "
          f"{'ours / PL':>10} {'max rel diff':>13}")
    print(f"{1e3 * ours:10.3f} {1e3 * value_only:11.3f} {1e3 * ref:11.1f} {ref / ours:8.1f}x {1e3 * pl:15.3f} "
          f"{ours / pl:10.1f} {diff:13.1e}")
    print("(a block of 4 pixels has 15 flip patterns where pseudolikelihood has 4 single flips)")


def cost_against_n(quick, figure, one_core):
    rng = np.random.default_rng(1)
    n_pl = [4, 8, 16, 32, 64, 128, 256, 512, 1024] + ([] if quick else [2048])
    n_ex = [4, 8, 12, 16, 18, 20, 22] + ([] if quick else [24])
    t_pl, t_ex = [], []
    for n in n_pl:
        params, X = random_bm(n, 0.1, rng), (rng.random((100, n)) < 0.5).astype(float)
        pseudolikelihood_and_grad(params, X)
        t_pl.append(best_of(lambda: pseudolikelihood_and_grad(params, X), 5)[0])
    threads = numba.get_num_threads()
    if one_core: numba.set_num_threads(1)     # the PL kernels are serial: compare on one core
    try:
        for n in n_ex:
            params, X = random_bm(n, 0.1, rng), (rng.random((100, n)) < 0.5).astype(float)
            exact.log_likelihood(params, X)
            t_ex.append(best_of(lambda: exact.log_likelihood(params, X), 2 if n >= 22 else 3)[0])
    finally:
        numba.set_num_threads(threads)
    print(f"\n{'units n':>8} {'PL + gradient (ms)':>19} {'exact log-likelihood (ms)':>26}")
    for n in sorted(set(n_pl) | set(n_ex)):
        a = f"{1e3 * t_pl[n_pl.index(n)]:19.3f}" if n in n_pl else " " * 19
        b = f"{1e3 * t_ex[n_ex.index(n)]:26.3f}" if n in n_ex else ""
        print(f"{n:>8} {a} {b}")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5.5, 4.3))
    ax.plot(n_pl, t_pl, "o-", label="pseudolikelihood + gradient")
    ax.plot(n_ex, t_ex, "s-", label="exact log-likelihood (Gray code)")
    ax.set(xscale="log", yscale="log", xlabel="number of units $n$ (Boltzmann machine)",
           ylabel="seconds per evaluation (100 examples)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    fig.tight_layout()
    os.makedirs(os.path.dirname(figure) or ".", exist_ok=True)
    fig.savefig(figure, dpi=120)
    print(f"figure saved to {figure}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer sizes and repetitions")
    ap.add_argument("--figure", default="_build/benchmarks/pseudolikelihood_cost.png", help="where to save the cost figure")
    ap.add_argument("--blas-threads", type=int, default=1, help="BLAS threads (0: leave the default)")
    args = ap.parse_args()
    if args.blas_threads > 0:
        from threadpoolctl import threadpool_limits
        threadpool_limits(args.blas_threads, user_api="blas")
    print(f"numba {numba.__version__}, {numba.get_num_threads()} threads, {os.cpu_count()} cores, "
          f"BLAS threads {args.blas_threads or 'default'}, load average {os.getloadavg()[0]:.2f}")
    throughput(args.quick)
    gpl_throughput(args.quick)
    cost_against_n(args.quick, args.figure, args.blas_threads == 1)
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
