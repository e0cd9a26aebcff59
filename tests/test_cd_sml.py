"""Tests for ebm_literate.cd and ebm_literate.sml: kernels vs NumPy references, expectations vs exact enumeration,
reproducibility across thread counts, state handling and bad input."""
import numba
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from ebm_literate.models import BM, RBM, init_bm, init_rbm, sigmoid
from ebm_literate.gradient import exact_gradient
from ebm_literate.mcmc import (_fill_uniform, _sigmoid_product_tolerance, bm_gibbs, chain_mean, rng_states,
                               transition_matrix)
from ebm_literate.training import train
from ebm_literate.cd import (CD, _chain_from_hidden, _chain_from_hidden_numpy, _hidden_probs_into, _rbm_stats_diff,
                             chain_distributions, expected_cd_gradient)
from ebm_literate.sml import Chains, FastPCD, PCD, _hidden_probs

RNG = np.random.default_rng(0)
X = (RNG.random((40, 7)) < 0.4).astype(float)
RBM7 = RBM(RNG.normal(0, 0.8, (7, 4)), RNG.normal(0, 0.5, 7), RNG.normal(0, 0.5, 4))
_A = np.triu(RNG.normal(0, 0.6, (7, 7)), 1)
BM7 = BM(_A + _A.T, RNG.normal(0, 0.5, 7))


def flat(g): return np.concatenate([np.ravel(f) for f in g])


def uniforms_of(states):
    st_ = states.copy()
    def uniforms(m):
        out = np.empty((st_.shape[0], m)); _fill_uniform(st_, out); return out
    return uniforms


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 30), n_v=st.integers(1, 12), n_h=st.integers(1, 12), k=st.integers(1, 4),
       scale=st.floats(0, 4), seed=st.integers(0, 2**31))
def test_chain_kernel_matches_reference(n, n_v, n_h, k, scale, seed):
    r = np.random.default_rng(seed)
    rbm = RBM(r.normal(0, scale, (n_v, n_h)), r.normal(0, scale, n_v), r.normal(0, scale, n_h))
    h0 = (r.random((n, n_h)) < 0.5).astype(float)
    states = rng_states(seed, n)
    ref_v, ref_ph, ref_h = _chain_from_hidden_numpy(*rbm, h0, k, uniforms_of(states))
    h, v, ph = h0.copy(), np.empty((n, n_v)), np.empty((n, n_h))
    _chain_from_hidden(*rbm, h, k, states, v, ph)
    assert np.array_equal(v, ref_v) and np.array_equal(h, ref_h)
    np.testing.assert_allclose(ph, ref_ph, rtol=1e-13, atol=1e-300)


def test_hidden_probs_and_samples_match_reference():
    W, c = RNG.normal(0, 7, (20, 400)), RNG.normal(0, 1, 400)     # fields of tens: exp overflows in the naive form
    v = (RNG.random((50, 20)) < 0.5).astype(float)
    states = rng_states(5, 50)
    U = uniforms_of(states)(400)
    p_ref = sigmoid(v @ W + c)
    probs, probs2, h = np.empty((50, 400)), np.empty((50, 400)), np.empty((50, 400))
    _hidden_probs_into(W, c, v, probs, 1.0, states, h)
    _hidden_probs_into(W, c, v, probs2, -0.5)
    # the kernel sums v @ W tile by tile, NumPy in one call: the probabilities agree within the bound of
    # mcmc's eq-product-tolerance (plus one rounding for the scale); the samples agree bit for bit
    tol = _sigmoid_product_tolerance(v, W, c)
    assert np.all(np.abs(probs - p_ref) <= tol + 1e-300)
    assert np.all(np.abs(probs2 + 0.5 * p_ref) <= 0.5 * tol * (1 + 2.0**-52) + 1e-300)
    assert np.array_equal(h, (U < p_ref).astype(float))
    s_ref = rng_states(5, 50)
    _fill_uniform(s_ref, np.empty((50, 400)))
    assert np.array_equal(states, s_ref)                           # each chain's generator advanced by 400 draws


def test_stacked_statistics():
    vp, vn = X[:10], X[10:35]
    pp, pn = RNG.random((10, 4)), RNG.random((25, 4))
    d = _rbm_stats_diff(vp, pp, vn, pn)
    np.testing.assert_allclose(d.W, vp.T @ pp / 10 - vn.T @ pn / 25, atol=1e-15)
    np.testing.assert_allclose(d.b, vp.mean(0) - vn.mean(0), atol=1e-15)
    np.testing.assert_allclose(d.c, pp.mean(0) - pn.mean(0), atol=1e-15)


@pytest.mark.parametrize("params", [RBM7, BM7], ids=["RBM", "BM"])
@pytest.mark.parametrize("k", [1, 3])
def test_cd_is_unbiased_for_expected_cd(params, k):
    gen = np.random.default_rng(11)
    G = np.array([flat(CD(k).grad(params, X, rng=gen)[0]) for _ in range(300)])
    exact = flat(expected_cd_gradient(params, X, k))
    se = G.std(axis=0, ddof=1) / np.sqrt(len(G))
    keep = se > 0
    z = (G.mean(axis=0)[keep] - exact[keep]) / se[keep]
    assert np.abs(z).max() < 4.5


@pytest.mark.parametrize("params", [RBM7, BM7], ids=["RBM", "BM"])
def test_expected_cd_tends_to_exact_gradient(params):
    small = type(params)(*(0.3 * f for f in params))
    np.testing.assert_allclose(flat(expected_cd_gradient(small, X, 400)), flat(exact_gradient(small, X)), atol=1e-10)
    assert np.allclose(flat(expected_cd_gradient(params, X, 0)), 0, atol=1e-15)


@pytest.mark.parametrize("params", [RBM7, BM7], ids=["RBM", "BM"])
def test_chain_distributions_match_transition_matrix(params):
    q = chain_distributions(params, X, [0, 2, 5])
    T = transition_matrix(params)
    np.testing.assert_allclose(q[1], q[0] @ T @ T, atol=1e-14)
    np.testing.assert_allclose(q[2], q[0] @ np.linalg.matrix_power(T, 5), atol=1e-14)
    idx = (X @ 2.0 ** np.arange(6, -1, -1)).astype(int)
    np.testing.assert_allclose(q[0], np.bincount(idx, minlength=128) / len(X))
    with pytest.raises(ValueError, match="non-decreasing"):
        chain_distributions(params, X, [3, 1])


def test_cd_bm_matches_bm_gibbs():
    a = bm_gibbs(BM7, X, 2, rng=np.random.default_rng(4))
    g = CD(2).grad(BM7, X, rng=np.random.default_rng(4))[0]
    W = X.T @ X / len(X) - a.T @ a / len(a)
    np.fill_diagonal(W, 0)
    np.testing.assert_allclose(g.W, W, atol=1e-15)
    np.testing.assert_allclose(g.b, X.mean(0) - a.mean(0), atol=1e-15)


@pytest.mark.parametrize("principle", [CD(2), PCD(2), FastPCD(0.1, k=2)], ids=repr)
def test_same_seed_same_result_any_thread_count(principle):
    big = init_rbm(150, 120, rng=1, scale=0.5)
    batch = (np.random.default_rng(0).random((64, 150)) < 0.3).astype(float)
    out = []
    for n_threads in sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)}):
        numba.set_num_threads(n_threads)
        s, gs = None, []
        for t in range(3):
            g, s = principle.grad(big, batch, s, rng=t)
            gs.append(flat(g))
        out.append(np.array(gs))
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    assert np.array_equal(out[0], out[-1])


@pytest.mark.parametrize("params", [RBM7, BM7], ids=["RBM", "BM"])
def test_pcd_at_fixed_parameters_samples_the_model(params):
    gen, s, G = np.random.default_rng(2), None, []
    for _ in range(2500):
        g, s = PCD(1).grad(params, X[:20], s, gen)
        G.append(flat(g))
    est = chain_mean(np.array(G)[200:, None, :])
    exact = flat(exact_gradient(params, X[:20]))
    keep = est.stderr > 0
    assert np.abs((est.mean[keep] - exact[keep]) / est.stderr[keep]).max() < 4.5


def test_pcd_state_handling():
    g, s1 = PCD(1, n_chains=5).grad(RBM7, X[:20], rng=0)
    assert isinstance(s1, Chains) and s1.v.shape == (5, 7) and s1.h.shape == (5, 4)
    h, r, v = s1.h.copy(), s1.rng_states.copy(), s1.v.copy()
    g2, s2 = PCD(1, n_chains=5).grad(RBM7, X[20:40], s1, rng=1)
    assert np.array_equal(s1.h, h) and np.array_equal(s1.rng_states, r) and np.array_equal(s1.v, v)
    assert not np.array_equal(s2.rng_states, s1.rng_states)
    # first update of PCD-k equals CD-k when the chains start at the whole batch
    g_pcd, _ = PCD(3).grad(RBM7, X, rng=np.random.default_rng(9))
    assert g_pcd.W.shape == (7, 4)


def test_fast_pcd_recursion_and_reduction_to_pcd():
    f = FastPCD(0.3, fast_decay=0.8)
    g1, s1 = f.grad(RBM7, X[:20], rng=0)
    g2, s2 = f.grad(RBM7, X[20:], s1, rng=1)
    for a, b, c in zip(s2.fast, s1.fast, g2):
        np.testing.assert_allclose(a, 0.8 * b + 0.3 * c, rtol=1e-13, atol=1e-15)
    ga, gb = np.random.default_rng(3), np.random.default_rng(3)
    sa = sb = None
    for t in range(4):
        a, sa = PCD(1).grad(RBM7, X[t * 10:(t + 1) * 10], sa, ga)
        b, sb = FastPCD(1e-300).grad(RBM7, X[t * 10:(t + 1) * 10], sb, gb)
        assert np.array_equal(sa.v, sb.chains.v)
        np.testing.assert_allclose(flat(a), flat(b), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("principle", [CD(1), PCD(1), FastPCD(0.05)], ids=repr)
@pytest.mark.parametrize("params", [init_rbm(7, 4, rng=0), init_bm(7, rng=0)], ids=["RBM", "BM"])
def test_principles_train_and_improve(principle, params):
    data = np.repeat(np.eye(7)[:3] + np.eye(7, k=1)[:3], 20, axis=0)
    r = train(params, data, principle, n_epochs=30, batch_size=10, learning_rate=0.1, rng=0)
    from ebm_literate.exact import log_likelihood
    assert log_likelihood(r.params, data) > log_likelihood(params, data) + 1.0


def test_hidden_probs_kernel():
    big = init_rbm(150, 120, rng=1, scale=0.5)
    v = (np.random.default_rng(0).random((300, 150)) < 0.5).astype(float)
    tol = _sigmoid_product_tolerance(v, big.W, big.c)           # tiles against one NumPy product
    assert np.all(np.abs(_hidden_probs(big, v) - sigmoid(v @ big.W + big.c)) <= tol + 1e-300)


def test_bad_input():
    with pytest.raises(ValueError, match="k must be"): CD(0)
    with pytest.raises(TypeError, match="k must be"): CD(1.5)
    with pytest.raises(TypeError, match="k must be"): PCD(True)
    with pytest.raises(ValueError, match="n_chains"): PCD(n_chains=-1)
    with pytest.raises(ValueError, match="fast_learning_rate"): FastPCD(-0.1)
    with pytest.raises(ValueError, match="fast_decay"): FastPCD(0.1, fast_decay=1.0)
    with pytest.raises(ValueError, match="binary"): CD(1).grad(RBM7, X + 0.5)
    with pytest.raises(ValueError, match="7 columns"): PCD(1).grad(RBM7, X[:, :3])
    with pytest.raises(TypeError, match="params"): CD(1).grad("rbm", X)
    with pytest.raises(TypeError, match="Chains"): PCD(1).grad(RBM7, X, state=(1, 2))
    _, s = PCD(1).grad(RBM7, X, rng=0)
    with pytest.raises(ValueError, match="state.h"): PCD(1).grad(init_rbm(7, 5), X, state=s)
    with pytest.raises(ValueError, match="state.v"): PCD(1).grad(init_rbm(6, 4), X[:, :6], state=s)
    with pytest.raises(TypeError, match="FastChains"): FastPCD(0.1).grad(RBM7, X, state=s)
    with pytest.raises(ValueError, match="MAX_TRANSITION_STATES"):
        expected_cd_gradient(init_rbm(13, 2), np.zeros((2, 13)), 1)
