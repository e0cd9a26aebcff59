"""Exact log Z of Bernoulli RBMs with N(0, 0.1^2) weights: the Gray-code Numba kernel against a chunked NumPy
implementation of the same math (ebm_literate.exact.log_partition_reference), in one run; then the exact moments
(exact.expectations, the negative phase of exact maximum likelihood) against their NumPy reference, and the floor
under them: the log Z pass that precedes them.

    python benchmarks/exact_logz.py

Prints compile time, warm times (best of several runs) and the ratio.
"""
import os
import time

import numba
import numpy as np

from ebm_literate.exact import _expectations_reference, expectations, log_partition, log_partition_reference
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
    print(f"\nexact moments E[vh'], E[v], E[h] (includes one log Z pass)")
    print(f"{'model':>8} {'ours (s)':>9} {'numpy (s)':>10} {'speed-up':>9} {'log Z (s)':>10} {'ours/log Z':>10} "
          f"{'max rel diff':>12}")
    for n_v, n_h, repeat in ((64, 16, 5), (784, 20, 3)):
        rbm = RBM(rng.normal(0, 0.1, (n_v, n_h)), rng.normal(0, 0.1, n_v), rng.normal(0, 0.1, n_h))
        expectations(rbm)
        ours, m_ours = best_of(lambda: expectations(rbm), repeat)
        lz, log_z = best_of(lambda: log_partition(rbm), repeat)
        ref, m_ref = best_of(lambda: _expectations_reference(rbm, log_z), 1)
        diff = max(np.max(np.abs(a - b)) / np.max(np.abs(b)) for a, b in zip(m_ours, m_ref))
        print(f"{n_v:>4}x{n_h:<3} {ours:9.3f} {ref:10.2f} {ref / ours:8.1f}x {lz:10.3f} {ours / lz:10.2f} {diff:12.1e}")


if __name__ == "__main__":
    main()
