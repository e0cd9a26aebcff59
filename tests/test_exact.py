import itertools

import numba
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from ebm_literate.exact import (_rbm_logz_blocks, _combine, _expectations_reference, _rbm_log_marginals, _layers,
                                _blockwise_log_unnorm, binary_states, expectations, log_likelihood,
                                log_partition, log_partition_reference, log_probs, sample)
from ebm_literate.models import BM, RBM, logsumexp


def _brute_log_z(params):
    if isinstance(params, BM):
        X = np.array(list(itertools.product([0.0, 1.0], repeat=len(params.b))))
        return logsumexp(0.5 * np.einsum("si,ij,sj->s", X, params.W, X) + X @ params.b)
    n_v, n_h = params.W.shape
    J = np.array(list(itertools.product([0.0, 1.0], repeat=n_v + n_h)))
    V, H = J[:, :n_v], J[:, n_v:]
    return logsumexp(np.einsum("si,ij,sj->s", V, params.W, H) + V @ params.b + H @ params.c)


def _bm(n, scale, rng):
    A = np.triu(rng.normal(0, scale, (n, n)), 1)
    return BM(A + A.T, rng.normal(0, scale, n))


def _rbm(n_v, n_h, scale, rng):
    return RBM(rng.normal(0, scale, (n_v, n_h)), rng.normal(0, scale, n_v), rng.normal(0, scale, n_h))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 11), st.floats(0.001, 60.0), st.integers(0, 2**31))
def test_bm_log_z_matches_definition(n, scale, seed):
    bm = _bm(n, scale, np.random.default_rng(seed))
    truth = _brute_log_z(bm)
    assert abs(log_partition(bm) - truth) <= 1e-12 * max(1.0, abs(truth))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 7), st.integers(1, 7), st.floats(0.001, 60.0), st.integers(0, 2**31))
def test_rbm_log_z_matches_definition(n_v, n_h, scale, seed):
    rbm = _rbm(n_v, n_h, scale, np.random.default_rng(seed))
    truth = _brute_log_z(rbm)
    assert abs(log_partition(rbm) - truth) <= 1e-12 * max(1.0, abs(truth))


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 14), st.floats(0.001, 8.0), st.integers(0, 2**31))
def test_visible_and_hidden_enumeration_agree(n, scale, seed):
    rbm = _rbm(n, n, scale, np.random.default_rng(seed))
    by_hidden = _combine(*_rbm_logz_blocks(np.ascontiguousarray(rbm.W.T), rbm.c, rbm.b, 1 << min(n, 8)))
    by_visible = _combine(*_rbm_logz_blocks(np.ascontiguousarray(rbm.W), rbm.b, rbm.c, 1 << min(n, 8)))
    assert abs(by_hidden - by_visible) <= 1e-10


@pytest.mark.parametrize("scale", [0.01, 0.5, 3.0, 30.0, 200.0])
def test_kernel_matches_numpy_reference(scale):
    rng = np.random.default_rng(int(scale * 10))
    for params in (_rbm(120, 14, scale, rng), _rbm(9, 40, scale, rng), _bm(16, scale, rng)):
        ref = log_partition_reference(params)
        assert abs(log_partition(params) - ref) <= 1e-10 * max(1.0, abs(ref))


def test_same_answer_for_any_thread_count():
    rbm = _rbm(64, 16, 0.3, np.random.default_rng(1))   # above SERIAL_MAX_UNITS: the parallel drivers run
    bm = _bm(16, 0.3, np.random.default_rng(2))
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = (log_partition(rbm), log_partition(bm))
        numba.set_num_threads(max(before, 2) if numba.config.NUMBA_NUM_THREADS >= 2 else 1)
        two = (log_partition(rbm), log_partition(bm))
    finally:
        numba.set_num_threads(before)
    assert one == two


def test_log_probs_and_likelihood():
    rbm = _rbm(8, 5, 1.0, np.random.default_rng(3))
    states, logp = log_probs(rbm)
    assert states.shape == (256, 8)
    np.testing.assert_array_equal(states[5], [0, 0, 0, 0, 0, 1, 0, 1])
    assert abs(logsumexp(logp)) < 1e-12
    assert log_likelihood(rbm, states[[1, 2, 2]]) == pytest.approx(np.mean(logp[[1, 2, 2]]), abs=1e-12)
    assert log_likelihood(rbm, states[[1]], log_z=log_partition(rbm)) == pytest.approx(logp[1], abs=1e-12)


def test_binary_states_counting_order():
    np.testing.assert_array_equal(binary_states(0, 4, 2), [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(binary_states(2, 3, 3), [[0, 1, 0]])


def test_expectations_match_sample_means():
    rbm = _rbm(7, 4, 1.0, np.random.default_rng(4))
    V, H = sample(rbm, 200_000, rng=5, return_hidden=True)
    exact = expectations(rbm)
    for got, draws in ((exact.b, V), (exact.c, H)):
        se = draws.std(0) / np.sqrt(len(draws))
        assert np.all(np.abs(draws.mean(0) - got) <= 4 * se + 1e-12)


def test_sample_is_seeded_and_checked():
    bm = _bm(5, 1.0, np.random.default_rng(6))
    np.testing.assert_array_equal(sample(bm, 10, rng=1), sample(bm, 10, rng=1))
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        sample(bm, 0)
    with pytest.raises(TypeError, match="return_hidden applies to an RBM"):
        sample(bm, 3, return_hidden=True)


def test_too_large_model_errors_with_size_and_pointer_to_ais():
    with pytest.raises(ValueError, match=r"2\^500 = 3.27e\+150 states.*annealed importance sampling"):
        log_partition(RBM(np.zeros((784, 500)), np.zeros(784), np.zeros(500)))
    with pytest.raises(ValueError, match=r"Boltzmann machine \(40 units\) would visit 2\^40"):
        log_partition(BM(np.zeros((40, 40)), np.zeros(40)))
    with pytest.raises(ValueError, match="max_states"):
        log_partition(_rbm(30, 12, 0.1, np.random.default_rng(0)), max_states=1000)
    with pytest.raises(ValueError, match="log_probs lists every state of a 30-unit layer"):
        log_probs(_rbm(30, 3, 0.1, np.random.default_rng(0)))


def test_bad_data_to_log_likelihood():
    rbm = _rbm(4, 3, 1.0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="data must be binary"):
        log_likelihood(rbm, np.full((2, 4), 0.3))
    with pytest.raises(ValueError, match="data must have 4 columns"):
        log_likelihood(rbm, np.zeros((2, 5)))


@pytest.mark.parametrize("make", [lambda r: _rbm(30, 20, 0.2, r), lambda r: _rbm(20, 30, 2.0, r), lambda r: _bm(20, 0.4, r)])
def test_refresh_periods_match_reference(make):
    params = make(np.random.default_rng(21))   # 2^20 states: blocks of 4,096, refreshed every 1,024 steps
    ref = log_partition_reference(params)
    assert abs(log_partition(params) - ref) <= 1e-10 * max(1.0, abs(ref))


def test_sample_wide_rbm_in_bounded_memory():
    rbm = _rbm(784, 12, 0.05, np.random.default_rng(22))   # hidden marginal computed in blocks
    V, H = sample(rbm, 5, rng=0, return_hidden=True)
    assert V.shape == (5, 784) and H.shape == (5, 12)


def test_expectations_error_points_to_sampling():
    with pytest.raises(ValueError, match="negative phase from samples"):
        expectations(_rbm(30, 30, 0.1, np.random.default_rng(0)))


@pytest.mark.parametrize("shape,scale", [((40, 16), 0.5), ((16, 40), 0.5), ((24, 15), 60.0), ((9, 6), 1.0)])
def test_moments_kernel_matches_numpy_reference(shape, scale):
    params = _rbm(*shape, scale, np.random.default_rng(shape[0] + int(scale)))
    for got, want in zip(expectations(params), _expectations_reference(params, log_partition(params))):
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-13)


def test_moments_same_for_any_thread_count():
    rbm = _rbm(64, 16, 0.3, np.random.default_rng(4))   # above SERIAL_MAX_UNITS: the parallel driver runs
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = expectations(rbm)
        numba.set_num_threads(max(before, 2) if numba.config.NUMBA_NUM_THREADS >= 2 else 1)
        two = expectations(rbm)
    finally:
        numba.set_num_threads(before)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("shape", [(40, 15), (15, 40), (16, 16)])
def test_log_marginals_kernel_matches_numpy(shape):
    params = _rbm(*shape, 0.7, np.random.default_rng(sum(shape)))
    m = min(shape)
    layer = "hidden" if shape[1] <= shape[0] else "visible"
    np.testing.assert_allclose(_rbm_log_marginals(*_layers(params), 1 << min(m, 6)),
                               _blockwise_log_unnorm(params, m, layer), rtol=1e-12, atol=1e-12)
    draws = sample(params, 5, rng=0)   # m > SERIAL_MAX_UNITS: drawn from the kernel's marginals
    assert draws.shape == (5, shape[0]) and set(np.unique(draws)) <= {0.0, 1.0}
