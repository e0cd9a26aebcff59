"""Exact log Z of Bernoulli RBMs with N(0, 0.1^2) weights: the Gray-code Numba kernel against a chunked NumPy
implementation of the same math (ebm_literate.exact.log_partition_reference), in one run.

    python benchmarks/exact_logz.py

Prints compile time, warm times (best of several runs) and the ratio.
"""
import os
import time

import numba
import numpy as np

from ebm_literate.exact import log_partition, log_partition_reference
from ebm_literate.models import RBM


def best_of(f, repeat):
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        value = f()
        best = min(best, time.perf_counter() - t)
    return best, value


def main():
    rng = np.random.default_rng(0)
    t = time.perf_counter()
    log_partition(RBM(rng.normal(0, 0.1, (8, 4)), np.zeros(8), np.zeros(4)))
    compile_s = time.perf_counter() - t
    print(f"numba {numba.__version__}, {numba.get_num_threads()} threads, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"compile (or load from cache) + first call: {compile_s:.2f} s\n")
    print(f"{'model':>8} {'states':>8} {'ours (s)':>9} {'numpy (s)':>10} {'speed-up':>9} {'|diff|':>9} {'target':>8}")
    for n_v, n_h, target, repeat in ((64, 20, 0.4, 5), (784, 20, 5.0, 3)):
        rbm = RBM(rng.normal(0, 0.1, (n_v, n_h)), rng.normal(0, 0.1, n_v), rng.normal(0, 0.1, n_h))
        ours, z_ours = best_of(lambda: log_partition(rbm), repeat)
        ref, z_ref = best_of(lambda: log_partition_reference(rbm), 1)
        print(f"{n_v:>4}x{n_h:<3} {2**n_h:>8} {ours:9.3f} {ref:10.2f} {ref / ours:8.1f}x {abs(z_ours - z_ref):9.1e} "
              f"{'<= ' + str(target):>8}")


if __name__ == "__main__":
    main()
