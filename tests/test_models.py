import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from ebm_literate.models import (BM, RBM, check_binary, check_params, conditional_probs, energy, free_energy,
                                 hidden_probs, init_bm, init_rbm, log_sigmoid, logsumexp, sigmoid, softplus,
                                 softplus_scalar, sigmoid_scalar, visible_probs)


def _states(n):
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)))


@given(st.floats(-1000, 1000))
def test_softplus_matches_log1p_exp_and_scalar(a):
    assert softplus(a) == pytest.approx(np.logaddexp(0.0, a), rel=1e-14, abs=1e-300)
    assert softplus_scalar(a) == pytest.approx(float(softplus(a)), rel=1e-15, abs=0)
    assert sigmoid_scalar(a) == pytest.approx(float(sigmoid(a)), rel=1e-15, abs=0)
    assert log_sigmoid(a) == pytest.approx(-np.logaddexp(0.0, -a), rel=1e-14, abs=1e-300)


@given(st.lists(st.floats(-1000, 1000), min_size=1, max_size=20))
def test_logsumexp_matches_numpy_logaddexp_reduce(values):
    assert logsumexp(values) == pytest.approx(np.logaddexp.reduce(values), rel=1e-13, abs=1e-13)


def test_logsumexp_axis():
    a = np.array([[1000.0, -np.inf], [0.0, 0.0]])
    np.testing.assert_array_equal(logsumexp(a, axis=1), [1000.0, np.log(2)])


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5), st.integers(1, 4), st.floats(0.01, 40), st.integers(0, 2**31))
def test_free_energy_sums_out_hidden(n_v, n_h, scale, seed):
    rng = np.random.default_rng(seed)
    rbm = RBM(rng.normal(0, scale, (n_v, n_h)), rng.normal(0, scale, n_v), rng.normal(0, scale, n_h))
    V, H = _states(n_v), _states(n_h)
    brute = [logsumexp(-energy(rbm, np.repeat(v[None], len(H), 0), H)) for v in V]
    np.testing.assert_allclose(-free_energy(rbm, V), brute, rtol=1e-12, atol=1e-10)


def test_conditionals_shapes_and_values():
    rbm = init_rbm(5, 3, rng=0, scale=1.0)
    v = _states(5)
    assert hidden_probs(rbm, v).shape == (32, 3)
    assert visible_probs(rbm, _states(3)).shape == (8, 5)
    bm = init_bm(4, rng=0, scale=1.0)
    p = conditional_probs(bm, _states(4))
    assert p.shape == (16, 4) and np.all((p > 0) & (p < 1))


def test_init_is_seeded():
    a, b = init_rbm(6, 4, rng=5), init_rbm(6, 4, rng=5)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(init_rbm(6, 4, rng=6).W, a.W)


@pytest.mark.parametrize("bad, match", [
    (lambda bm: BM(bm.W[:, :3], bm.b), r"params.W must have shape \(4, 4\)"),
    (lambda bm: BM(bm.W + np.eye(4), bm.b), "zero diagonal"),
    (lambda bm: BM(bm.W + np.triu(np.ones((4, 4)), 1), bm.b), "symmetric"),
    (lambda bm: BM(bm.W, np.full(4, np.inf)), "params.b must be finite"),
    (lambda bm: BM(bm.W, np.zeros((4, 1))), "params.b must be 1-dimensional"),
])
def test_bad_bm_params(bad, match):
    with pytest.raises(ValueError, match=match):
        check_params(bad(init_bm(4, rng=0, scale=1.0)))


def test_bad_rbm_params_and_types():
    rbm = init_rbm(5, 3, rng=0)
    with pytest.raises(ValueError, match=r"params.W must have shape \(n_visible, n_hidden\) = \(5, 3\)"):
        check_params(rbm._replace(W=rbm.W.T))
    with pytest.raises(ValueError, match="params.c must be finite"):
        check_params(rbm._replace(c=np.array([0.0, np.nan, 0.0])))
    with pytest.raises(TypeError, match="params must be BM or RBM, got tuple"):
        check_params((rbm.W, rbm.b))
    with pytest.raises(TypeError, match="params must be BM, got RBM"):
        conditional_probs(rbm, np.zeros((1, 5)))
    with pytest.raises(TypeError, match="params.W must be a real numeric array"):
        check_params(rbm._replace(W="weights"))


@pytest.mark.parametrize("x, match", [
    (np.full((2, 5), 0.5), "must be binary"),
    (np.zeros(5), "must be 2-dimensional"),
    (np.zeros((2, 4)), "must have 5 columns"),
    (np.zeros((0, 5)), "at least one sample"),
    (np.array([[0, 1, np.nan, 0, 1.0]]), "must be finite"),
])
def test_bad_data(x, match):
    with pytest.raises(ValueError, match=match):
        free_energy(init_rbm(5, 3, rng=0), x)


def test_check_binary_returns_float64_contiguous():
    x = check_binary(np.asfortranarray(np.ones((3, 2), dtype=bool)), "x")
    assert x.dtype == np.float64 and x.flags.c_contiguous


def test_energy_needs_hidden_for_rbm():
    with pytest.raises(TypeError, match="h is required"):
        energy(init_rbm(3, 2, rng=0), np.zeros((1, 3)))
    with pytest.raises(ValueError, match="same number of rows"):
        energy(init_rbm(3, 2, rng=0), np.zeros((2, 3)), np.zeros((1, 2)))


def test_initialiser_errors():
    with pytest.raises(ValueError, match="n_visible must be an integer >= 1"):
        init_rbm(0, 3)
    with pytest.raises(ValueError, match="scale must be a finite number >= 0"):
        init_bm(3, scale=-1.0)


@pytest.mark.parametrize("x, match", [
    (np.array([[1 + 1j, 0]]), "real numeric array"),
    ([["1", "0"]], "real numeric array"),
    ("01", "real numeric array"),
    (None, "real numeric array"),
])
def test_non_numeric_data_is_a_type_error(x, match):
    with pytest.raises(TypeError, match=match):
        free_energy(init_bm(2, rng=0), x)
