"""Every Numba kernel of the package, compiled afresh with bounds checking (NUMBA_BOUNDSCHECK=1, its own cache
directory) and run by the kernel tests below in a subprocess: an index out of range fails the test instead of
reading or writing memory it should not. The runner also fails if some kernel was never compiled, so the list
keeps up with the package."""
import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).parent
KERNEL_TESTS = [
    "test_mcmc.py::test_generator_matches_python_reference",
    "test_mcmc.py::test_rbm_kernel_equals_reference",
    "test_mcmc.py::test_bm_kernel_equals_reference",
    "test_mcmc.py::test_serial_and_parallel_paths_agree",
    "test_mcmc.py::test_gibbs_chain_consistent_with_samplers",
    "test_mcmc.py::test_k_zero_and_inputs_untouched",
    "test_mcmc.py::test_vectorized_sigmoid_equals_the_stable_formula",
    "test_exact.py::test_bm_log_z_matches_definition",
    "test_exact.py::test_kernel_matches_numpy_reference",
    "test_exact.py::test_same_answer_for_any_thread_count",
    "test_exact.py::test_moments_kernel_matches_numpy_reference",
    "test_exact.py::test_moments_same_for_any_thread_count",
    "test_exact.py::test_log_marginals_kernel_matches_numpy",
    "test_training.py::test_fused_update_matches_reference",
    "test_cd_sml.py::test_chain_kernel_matches_reference",
    "test_cd_sml.py::test_stacked_statistics",
    "test_cd_sml.py::test_same_seed_same_result_any_thread_count",
    "test_pseudolikelihood.py::test_kernel_matches_reference",
    "test_pseudolikelihood.py::test_gpl_kernel_matches_reference",
    "test_pseudolikelihood.py::test_gpl_kernel_huge_weights_both_paths",
    "test_partition.py::test_rbm_kernel_matches_reference",
    "test_partition.py::test_bm_kernel_matches_reference",
    "test_partition.py::test_helpers_match_numpy",
    "test_partition.py::test_same_seed_same_numbers_whatever_the_threads",
    "test_continuous.py::test_gbrbm_gibbs_kernel_equals_reference",
    "test_continuous.py::test_gbrbm_gibbs_serial_and_parallel_paths_agree",
    "test_continuous.py::test_gbrbm_log_partition_matches_reference",
    "test_ratio_matching.py::test_kernel_matches_reference",
    "test_ratio_matching.py::test_huge_weights",
    "test_nce.py::test_kernel_matches_reference",
    "test_nce.py::test_continuous_kernels_match_reference",
    "test_score_matching.py::test_kernels_equal_references",
    "test_score_matching.py::test_large_gbrbm_kernel_equals_reference",
]


def test_every_kernel_runs_with_bounds_checking(tmp_path):
    env = dict(os.environ, NUMBA_BOUNDSCHECK="1", NUMBA_CACHE_DIR=str(tmp_path))
    run = subprocess.run([sys.executable, str(TESTS / "_run_kernel_tests.py"), *(str(TESTS / t) for t in KERNEL_TESTS)],
                         env=env, cwd=TESTS.parent, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
