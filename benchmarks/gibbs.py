"""Gibbs sampling kernels against NumPy references and against the RBM sweep's own matrix products.

  python benchmarks/gibbs.py [--quick]

RBM: block Gibbs on a 784-500 RBM with 100 chains. Reports the warm time per sweep of `rbm_gibbs`, of the
two matrix products of a sweep alone (np.matmul into preallocated outputs, the floor for any implementation
that uses BLAS), and of the NumPy reference `_rbm_gibbs_numpy` fed by `Generator.random`.
BM: sequential-scan single-site Gibbs, site updates per second of `bm_gibbs` and of `_bm_gibbs_numpy`.
Compile time is measured separately, in a fresh Numba cache directory.
On a machine shared with other jobs, two-thread BLAS and Numba timings are dominated by contention; run also
with OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1 for single-core ratios that load disturbs much less.
"""
import os
import sys
import tempfile
import time

os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="ebm_gibbs_bench_")   # first calls compile

import numba
import numpy as np

from ebm_literate.mcmc import _bm_gibbs_numpy, _rbm_gibbs_numpy, bm_gibbs, rbm_gibbs
from ebm_literate.models import BM, RBM


def best_of(f, repeats):
    "minimum wall time of `repeats` calls (the least disturbed by other processes)"
    times = []
    for _ in range(repeats):
        t = time.perf_counter(); f(); times.append(time.perf_counter() - t)
    return min(times)


def numpy_uniforms(rng, n_chains):
    return lambda m: rng.random((n_chains, m))


def main(quick=False):
    rows = []
    rng = np.random.default_rng(0)
    repeats = 3 if quick else 7

    # --- RBM 784-500, 100 chains
    n_v, n_h, n_c = 784, 500, 100
    k = 10 if quick else 20
    rbm = RBM(rng.normal(0, 0.05, (n_v, n_h)), rng.normal(-1, 0.5, n_v), rng.normal(-0.5, 0.5, n_h))
    v0 = (rng.random((n_c, n_v)) < 0.2).astype(float)
    t = time.perf_counter(); rbm_gibbs(rbm, v0, 1, rng=0); compile_rbm = time.perf_counter() - t
    ours = best_of(lambda: rbm_gibbs(rbm, v0, k, rng=1), repeats) / k
    h = (rng.random((n_c, n_h)) < 0.5).astype(float)
    A, B = np.empty((n_c, n_h)), np.empty((n_c, n_v))
    def products():
        for _ in range(k):
            np.matmul(v0, rbm.W, out=A); np.matmul(h, rbm.W.T, out=B)
    products()
    mm = best_of(products, repeats) / k
    ref = best_of(lambda: _rbm_gibbs_numpy(*rbm, v0, k, 1.0, numpy_uniforms(np.random.default_rng(2), n_c)),
                  repeats) / k
    rows.append(("RBM 784-500, 100 chains: sweep", f"{ours * 1e3:.3f} ms", f"{compile_rbm:.1f} s"))
    rows.append(("  its two matrix products alone", f"{mm * 1e3:.3f} ms", ""))
    rows.append(("  NumPy reference sweep", f"{ref * 1e3:.3f} ms", ""))
    ratios = [("RBM sweep / its two products (target <= 1.3)", ours / mm),
              ("RBM NumPy reference / ours", ref / ours)]

    # --- BM sweeps
    compile_bm = None
    for n, n_c, k in ((20, 100, 400), (20, 10, 2000), (100, 100, 40), (784, 100, 4)):
        A_ = np.triu(rng.normal(0, 1.0 / np.sqrt(n), (n, n)), 1)
        bm = BM(A_ + A_.T, rng.normal(0, 0.5, n))
        x0 = (rng.random((n_c, n)) < 0.5).astype(float)
        if compile_bm is None:
            t = time.perf_counter(); bm_gibbs(bm, x0, 1, rng=0); compile_bm = time.perf_counter() - t
        bm_gibbs(bm, x0, 1, rng=0)
        kk = k if not quick else max(1, k // 4)
        ours = best_of(lambda: bm_gibbs(bm, x0, kk, rng=1), repeats)
        k_ref = max(1, kk // 10)
        ref = best_of(lambda: _bm_gibbs_numpy(*bm, x0, k_ref, 1.0, numpy_uniforms(np.random.default_rng(2), n_c)),
                      max(1, repeats // 2)) / k_ref * kk
        updates = n_c * n * kk
        rows.append((f"BM n={n}, {n_c} chains: site updates/s", f"{updates / ours:.3g}",
                     f"{compile_bm:.1f} s" if len(ratios) == 2 else ""))
        rows.append(("  NumPy reference", f"{updates / ref:.3g}", ""))
        ratios.append((f"BM n={n}, {n_c} chains: NumPy reference / ours (target >= 20)", ref / ours))

    print(f"numba {numba.__version__}, threading layer {numba.threading_layer()}, {numba.get_num_threads()} threads; "
          f"load average {os.getloadavg()[0]:.2f} (1 min)")
    w = max(len(r[0]) for r in rows)
    print(f"{'':{w}}  {'warm':>12}  {'compile':>8}")
    for name, warm, comp in rows:
        print(f"{name:{w}}  {warm:>12}  {comp:>8}")
    print()
    for name, r in ratios:
        print(f"{name:{max(len(n) for n, _ in ratios)}}  {r:6.2f}")


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
