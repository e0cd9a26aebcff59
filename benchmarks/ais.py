"""Time forward AIS on a 784-500 RBM (Salakhutdinov & Murray protocol: 100 chains, 14,500 steps) against
(a) its matrix products alone and (b) a NumPy implementation of the same loop, in one run.

    python benchmarks/ais.py [--steps 14500] [--chains 100] [--numpy-steps N]

The RBM has MNIST-like biases (visible biases at the log-odds of the MNIST-5k pixel frequencies) and N(0, 0.05^2)
weights; the cost does not depend on the values of the weights. Times are warm (compilation is timed separately).
The machine load (uptime) is printed next to the figures: the runs share the cores with anything else running.
"""
import argparse, os, subprocess, time

import numpy as np
from numba import get_num_threads, int64, njit, prange

from ebm_literate.data import load_mnist5k_binary
from ebm_literate.models import RBM, sigmoid
from ebm_literate.mcmc import _gemm, _rbm_grid, _single_threaded_blas, _tile_bounds
from ebm_literate.partition import ais, base_rate_logits, salakhutdinov_murray_betas, _rbm_ais_numpy


@njit(cache=True, parallel=True)
def _product_tiles(x, W, transpose, out, n_rb, n_ub):
    "out <- x @ W (x @ W' if transpose), tile by tile as the kernel cuts it, in parallel"
    for q in prange(n_rb * n_ub):
        r0, r1, j0, j1 = _tile_bounds(int64(q), out.shape[0], out.shape[1], n_rb, n_ub)
        if transpose:
            _gemm(x[r0:r1], W[j0:j1].T, out[r0:r1, j0:j1])
        else:
            _gemm(x[r0:r1], W[:, j0:j1], out[r0:r1, j0:j1])


@njit(cache=True)
def _products_tiles(W, v, h, K, grid):
    "the kernel's products alone: per step the two products in the kernel's tiles, one parallel pass each"
    X, Y = np.empty((v.shape[0], W.shape[1])), np.empty((v.shape[0], W.shape[0]))
    for k in range(1, K + 1):
        _product_tiles(v, W, False, X, grid[0], grid[1])
        if k < K:
            _product_tiles(h, W, True, Y, grid[2], grid[3])


def products_numpy(W, v, h, K):
    "the two whole-batch products per step with NumPy (BLAS threads as configured)"
    X, Y, WT = np.empty((v.shape[0], W.shape[1])), np.empty(v.shape), W.T
    for k in range(1, K + 1):
        np.matmul(v, W, out=X)
        if k < K:
            np.matmul(h, WT, out=Y)


def timed(f, *args):
    t = time.perf_counter()
    out = f(*args)
    return time.perf_counter() - t, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=14500)
    ap.add_argument("--chains", type=int, default=100)
    ap.add_argument("--numpy-steps", type=int, default=None, help="steps for the NumPy loop (default: all)")
    args = ap.parse_args()
    K, C = args.steps, args.chains
    rng = np.random.default_rng(0)
    data = load_mnist5k_binary()
    base = base_rate_logits(data)
    rbm = RBM(rng.normal(0, 0.05, (784, 500)), base.copy(), np.zeros(500))
    betas = salakhutdinov_murray_betas(K)
    v = (rng.random((C, 784)) < sigmoid(base)).astype(float)
    h = (rng.random((C, 500)) < 0.5).astype(float)

    print(f"load before: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    print(f"Numba threads {get_num_threads()}, OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    t_compile, _ = timed(ais, rbm, C, salakhutdinov_murray_betas(3), 0, base)
    grid = _rbm_grid(C, 784, 500)
    with _single_threaded_blas():
        _products_tiles(rbm.W, v, h, 2, grid)
    print(f"first call (compilation or cache load): {t_compile:.2f} s")

    t_ais, est = timed(ais, rbm, C, betas, 1, base)
    with _single_threaded_blas():
        t_blk, _ = timed(_products_tiles, rbm.W, v, h, K, grid)
    t_np_prod, _ = timed(products_numpy, rbm.W, v, h, K)
    Kn = K if args.numpy_steps is None else args.numpy_steps
    nb = salakhutdinov_murray_betas(Kn) if Kn != K else betas
    gen = np.random.default_rng(2)
    t_np, _ = timed(_rbm_ais_numpy, rbm, nb, base, lambda m: gen.random((C, m)), v.copy())
    t_np_full = t_np * K / Kn

    flops = 2 * 2 * C * 784 * 500 * K
    print(f"\nforward AIS, 784-500 RBM, {C} chains, {K} steps (log Z = {est.log_z:.2f} ± {est.stderr:.2f})")
    print(f"  ebm_literate.partition.ais        {t_ais:8.2f} s")
    print(f"  its products alone (same tiles)    {t_blk:8.2f} s   ratio {t_ais / t_blk:5.2f}")
    print(f"  products as two NumPy calls/step   {t_np_prod:8.2f} s   ratio {t_ais / t_np_prod:5.2f}"
          f"   ({flops / t_np_prod / 1e9:.1f} GFLOP/s)")
    print(f"  NumPy loop (_rbm_ais_numpy)        {t_np_full:8.2f} s   ratio {t_ais / t_np_full:5.2f}"
          + ("" if Kn == K else f"   (timed on {Kn} steps, scaled)"))
    print(f"load after:  {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")


if __name__ == "__main__":
    main()
