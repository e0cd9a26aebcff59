"""Ratio-matching loss plus gradient: the Numba flip kernels against the NumPy reference of the same math
(ebm_literate.ratio_matching._rm_reference) and against pseudolikelihood on the same flips, in one run.

    python benchmarks/ratio_matching.py [--quick] [--blas-threads K]

For RBMs 64-16 (1,437 examples, the digits training set), 784-100 (100 examples) and 784-500 (20 examples), and
Boltzmann machines with 64 and 784 units (--quick leaves out the 784-unit one, whose NumPy reference alone takes
about a minute), it prints the warm time (best of several calls, interleaved so that a disturbance hits all
contenders alike) of

- `ratio_matching_loss_and_grad` (every bit, exact), the public function;
- `pseudolikelihood_and_grad` on the same data, the peer on the same flips (target: ratio matching within 1.2x);
- the NumPy reference `_rm_reference`, which forms every flipped example (run on chunks of rows to bound memory);
- the floor: the two BLAS products every implementation needs, X @ W and X' @ C (for the Boltzmann machine,
  X @ W and X' @ R), with the same shapes;

the ratios, and the largest difference between the kernel's and the reference's results. Compile time is
measured separately, in a fresh Numba cache directory. The kernels are serial, so by default BLAS runs on one
thread as well (threadpoolctl); pass --blas-threads 0 to leave the thread counts alone. On a shared machine the
timings are noisy; the best of several interleaved calls is the least disturbed estimate.
"""
import argparse
import os
import tempfile
import time

os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="ebm_rm_bench_")   # first calls compile

import numba
import numpy as np

from ebm_literate.gradient import flatten_params
from ebm_literate.models import BM, RBM
from ebm_literate.pseudolikelihood import pseudolikelihood_and_grad
from ebm_literate.ratio_matching import _rm_reference, ratio_matching_loss_and_grad


def random_bm(n, scale, rng):
    A = np.triu(rng.normal(0, scale, (n, n)), 1)
    return BM(A + A.T, rng.normal(0, scale, n))


def random_rbm(n_v, n_h, scale, rng):
    return RBM(rng.normal(0, scale, (n_v, n_h)), rng.normal(-0.5, scale, n_v), rng.normal(0, scale, n_h))


def reference_in_chunks(params, X, max_elements=2**23):
    "The NumPy reference on chunks of rows, so that the (rows, n, n) array of flips stays below max_elements"
    m, n = X.shape
    step = max(1, max_elements // (n * n))
    loss, grads = 0.0, [np.zeros_like(f) for f in params]
    for lo in range(0, m, step):
        part = X[lo:lo + step]
        v, g = _rm_reference(params, part)
        loss += v * len(part)
        for acc, x in zip(grads, g):
            acc += x * len(part)
    return loss / m, type(params)(*(g / m for g in grads))


def floor(params, X):
    "The BLAS products of the dispatch: X @ W (+ c or b), and X' @ (an (m, n_h) or (m, n) matrix)"
    U = X @ params.W
    return X.T @ U


def interleaved_best(contenders, rounds):
    "Best wall time of each contender over `rounds` interleaved calls, after one warm-up call each"
    results = {name: f() for name, f in contenders.items()}
    best = {name: np.inf for name in contenders}
    for _ in range(rounds):
        for name, f in contenders.items():
            t = time.perf_counter()
            f()
            best[name] = min(best[name], time.perf_counter() - t)
    return best, results


def compile_times():
    rng = np.random.default_rng(0)
    small = (rng.random((5, 6)) < 0.5).astype(float)
    for kind, params in (("RBM", random_rbm(6, 3, 0.1, rng)), ("BM", random_bm(6, 0.1, rng))):
        t = time.perf_counter()
        ratio_matching_loss_and_grad(params, small)
        t_rm = time.perf_counter() - t
        t = time.perf_counter()
        pseudolikelihood_and_grad(params, small)
        t_pl = time.perf_counter() - t
        print(f"compile + first call, {kind}: ratio matching {t_rm:.2f} s, then pseudolikelihood {t_pl:.2f} s "
              f"(the same kernel, compiled once)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    ap.add_argument("--blas-threads", type=int, default=1, help="BLAS threads (0: leave the default)")
    args = ap.parse_args()
    if args.blas_threads > 0:
        from threadpoolctl import threadpool_limits
        threadpool_limits(args.blas_threads, user_api="blas")
    print(f"numba {numba.__version__}, {numba.get_num_threads()} threads, {os.cpu_count()} cores, "
          f"BLAS threads {args.blas_threads or 'default'}, load average {os.getloadavg()[0]:.2f}")
    print("timings on a shared machine are noisy: re-measure on a quiet one for final numbers\n")
    compile_times()
    rng = np.random.default_rng(1)
    cases = [("RBM", 64, 16, 1437), ("RBM", 784, 100, 100), ("RBM", 784, 500, 20),
             ("BM", 64, None, 1437), ("BM", 784, None, 100)]
    if args.quick: cases = cases[:4]           # the NumPy reference of BM 784 alone takes about a minute
    rounds = 3 if args.quick else 7
    print(f"\n{'model':>12} {'batch':>6} {'RM (ms)':>9} {'PL (ms)':>9} {'RM/PL':>6} {'numpy (ms)':>11} "
          f"{'numpy/RM':>9} {'floor (ms)':>11} {'RM/floor':>9} {'max |diff|':>11}")
    for kind, n, n_h, m in cases:
        params = random_rbm(n, n_h, 0.05, rng) if kind == "RBM" else random_bm(n, 0.05, rng)
        X = (rng.random((m, n)) < 0.3).astype(float)
        best, out = interleaved_best({"RM": lambda: ratio_matching_loss_and_grad(params, X),
                                      "PL": lambda: pseudolikelihood_and_grad(params, X),
                                      "floor": lambda: floor(params, X)}, rounds)
        ref_best, ref_out = interleaved_best({"numpy": lambda: reference_in_chunks(params, X)},
                                             1 if args.quick else 2)
        (v1, g1), (v2, g2) = out["RM"], ref_out["numpy"]
        diff = max(abs(v1 - v2), np.max(np.abs(flatten_params(g1) - flatten_params(g2))))
        name = f"{kind} {n}" + (f"-{n_h}" if n_h else "")
        rm, pl, ref, fl = best["RM"], best["PL"], ref_best["numpy"], best["floor"]
        print(f"{name:>12} {m:>6} {1e3 * rm:9.3f} {1e3 * pl:9.3f} {rm / pl:6.2f} {1e3 * ref:11.2f} "
              f"{ref / rm:8.1f}x {1e3 * fl:11.3f} {rm / fl:8.1f}x {diff:11.1e}")
    print("\ntarget: RM/PL <= 1.2 (ratio matching costs what pseudolikelihood costs: the same flips, one kernel)")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
