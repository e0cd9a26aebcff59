"""Noise-contrastive estimation, objective plus gradient: our kernel against its matrix products alone (the floor)
and against the NumPy reference of the same math (ebm_literate.nce._nce_reference), in one run.

    python benchmarks/nce.py [--quick] [--blas-threads K]

For an RBM the NCE objective and gradient (eqs. eq-nce-objective, eq-nce-grad) cost two matrix products on the stacked
data and noise, V W (hidden pre-activations) and V' P (weight gradient), plus one softplus and one sigmoid per
(sample, hidden unit), which the Numba kernel computes in SIMD loops. The table prints, for each case, the warm time
(best of several calls) of

  - ours:   NCE._value_and_grad, the path L-BFGS and the training loop take: stacking the batch and the noise, the
            noise's log-probabilities of the batch, the products and the kernel;
  - floor:  the two matrix products alone, V @ W and V.T @ P, on the same stacked matrix (P = V @ W stands in
            for the weighted probabilities, which have its shape);
  - numpy:  the NumPy reference, eqs. (eq-nce-objective) and (eq-nce-grad) written with NumPy and the shared
            weighted-moments helper (given the noise log-probabilities);

and the ratios ours / floor (target <= 1.3 for the 784-500 RBM with nu = 1 and batches of 100) and numpy / ours.
For the Boltzmann machine the work is two matrix products and a pass over the local fields, written in NumPy, and
its row shows how close that is to its products. The Gaussian-Bernoulli RBM (784-500, Gaussian noise, nu = 1, batch
100) takes the RBM's kernel after the products (V / sigma) W; ICA with Laplacian sources (4 dimensions, 16,000 data
and noise samples each, Gaussian noise with the data's mean and covariance, the case of the chapter's experiment)
takes a one-pass kernel over the rows, whose floor is the two small products V B' and S' V.

By default BLAS runs on one thread (threadpoolctl) for every column, so that the comparison measures the work and
not the scheduling; pass --blas-threads 0 to leave the thread counts alone. Timings on a shared machine are noisy:
each entry is the minimum over repeats, the least disturbed call, and the three columns take turns within each
repeat so that a change of load affects them alike.
"""
import argparse
import os
import tempfile
import time

os.environ.setdefault("NUMBA_CACHE_DIR", tempfile.mkdtemp(prefix="ebm_nce_bench_"))   # first calls compile

import numpy as np
from threadpoolctl import threadpool_limits

from ebm_literate import exact
from ebm_literate.gradient import flatten_params
from ebm_literate.models import BM, RBM, GaussianRBM, LaplaceICA, _free_energy
from ebm_literate.nce import NCE, BernoulliNoise, GaussianNoise, _nce_reference, normalized


def best_of(functions, repeats):
    """Minimum wall time of each function over `repeats` rounds, the functions taking turns within each round so
    that a change in the machine's load affects all of them alike; and each function's last result"""
    best, out = [np.inf] * len(functions), [None] * len(functions)
    for _ in range(repeats):
        for i, f in enumerate(functions):
            t = time.perf_counter()
            out[i] = f()
            best[i] = min(best[i], time.perf_counter() - t)
    return best, out


def case(kind, n, n_h, m, nu, repeats, rng):
    "One row of the table: (name, ours, floor, numpy, largest relative difference)"
    if kind == "RBM":
        model = RBM(rng.normal(0, 0.05, (n, n_h)), rng.normal(-1, 0.5, n), rng.normal(0, 0.5, n_h))
    elif kind == "GB-RBM":
        model = GaussianRBM(rng.normal(0, 0.05, (n, n_h)), rng.normal(0, 1, n), rng.normal(0, 0.5, n_h), np.ones(n))
    elif kind == "ICA":
        model = LaplaceICA(rng.normal(size=(n, n)))
    else:
        A = np.triu(rng.normal(0, 0.05, (n, n)), 1)
        model = BM(A + A.T, rng.normal(-1, 0.5, n))
    if kind in ("RBM", "BM"):
        X = (rng.random((m, n)) < 0.15).astype(float)         # digit-like: mostly zeros
        noise = BernoulliNoise.from_data(X)
    elif kind == "GB-RBM":                                    # standardized real pixels
        X = rng.normal(size=(m, n))
        noise = GaussianNoise(X.mean(axis=0), np.eye(n))
    else:
        X = exact.sample(model, m, rng)
        noise = GaussianNoise.from_data(X)
    c = np.mean(noise.log_prob(X) + _free_energy(model, X))   # the classifier's logits centred on the data
    params = normalized(model, c)
    nce = NCE(noise, nu=nu)
    nce._value_and_grad(params, X)                              # compile, draw the fixed noise
    Y, lp_y = nce._fixed_noise(m)
    V = np.concatenate([X, Y])
    floor = (lambda: (V @ params.B.T).T @ V) if kind == "ICA" else (lambda: V.T @ (V @ params.W))
    (ours, floor, numpy), (got, _, ref) = best_of(
        [lambda: nce._value_and_grad(params, X), floor,
         lambda: _nce_reference(params, X, Y, noise.log_prob(X), lp_y)], repeats)
    g1, g2 = flatten_params(got.grads), flatten_params(ref[1])
    diff = max(abs(got.value - ref[0]) / abs(ref[0]), np.abs(g1 - g2).max() / np.abs(g2).max())
    name = f"{kind} {n}" + (f"-{n_h}" if n_h else "")
    return name, m, nu, ours, floor, numpy, diff


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer cases and repeats")
    ap.add_argument("--blas-threads", type=int, default=1, help="BLAS threads (0: leave as is)")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    cases = [("RBM", 784, 500, 100, 1.0), ("RBM", 784, 500, 100, 4.0), ("RBM", 784, 20, 100, 1.0),
             ("RBM", 64, 16, 1437, 1.0), ("BM", 784, None, 100, 1.0), ("GB-RBM", 784, 500, 100, 1.0),
             ("ICA", 4, None, 16000, 1.0)]
    if args.quick:
        cases = cases[:1] + cases[2:3] + cases[4:]
    repeats = 5 if args.quick else 20
    limit = threadpool_limits(args.blas_threads) if args.blas_threads > 0 else None
    try:
        print(f"BLAS threads: {'as configured' if limit is None else args.blas_threads}; "
              f"best of {repeats} calls; timings on a shared machine are noisy\n")
        print(f"{'model':>12} {'batch':>6} {'nu':>4} {'ours (ms)':>10} {'floor (ms)':>11} {'numpy (ms)':>11} "
              f"{'ours/floor':>11} {'numpy/ours':>11} {'max rel diff':>13}")
        for kind, n, n_h, m, nu in cases:
            name, m, nu, ours, floor, numpy, diff = case(kind, n, n_h, m, nu, repeats, rng)
            print(f"{name:>12} {m:>6} {nu:>4g} {1e3 * ours:10.2f} {1e3 * floor:11.2f} {1e3 * numpy:11.2f} "
                  f"{ours / floor:10.2f}x {numpy / ours:10.2f}x {diff:13.1e}")
    finally:
        if limit is not None:
            limit.restore_original_limits()
    print("\n(floor: the two matrix products V @ W and V.T @ P alone, for ICA V @ B' and S' @ V; target ours/floor "
          "<= 1.3 for the 784-500 RBM, nu = 1, batch 100)")


if __name__ == "__main__":
    main()
