"""Bitwise reproducibility across thread counts: tests/_thread_runs.py, run in subprocesses with NUMBA_NUM_THREADS =
1, 2 and 16 (16 threads share the cores of a smaller machine), gives the same bits in every array: the tiles, the
order of every sum and the shape of every BLAS call depend on the problem only."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

SCRIPT = Path(__file__).parent / "_thread_runs.py"


def test_same_bits_for_1_2_and_16_threads(tmp_path):
    results = {}
    for n in (1, 2, 16):
        out = tmp_path / f"threads{n}.npz"
        env = dict(os.environ, NUMBA_NUM_THREADS=str(n))
        run = subprocess.run([sys.executable, str(SCRIPT), str(out)], env=env, capture_output=True, text=True,
                             timeout=900)
        assert run.returncode == 0, run.stderr[-4000:]
        with np.load(out) as f:
            results[n] = {k: f[k] for k in f.files}
    names = sorted(results[1])
    assert len(names) >= 40 and all(sorted(r) == names for r in results.values())
    differ = [f"{k} ({n} threads)" for n in (2, 16) for k in names
              if not (results[n][k].dtype == results[1][k].dtype and np.array_equal(results[n][k], results[1][k]))]
    assert not differ, f"not bit for bit the same as with one thread: {differ}"
