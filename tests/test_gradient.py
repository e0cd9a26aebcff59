"""Tests for ebm_literate.gradient: phases against enumeration and finite differences, sampling estimators, errors."""
import numba
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from ebm_literate.exact import binary_states, log_likelihood, log_partition, log_probs, sample
from ebm_literate.gradient import (ExactML, GibbsPhase, PhaseEstimate, exact_gradient, negative_phase_exact,
                                   negative_phase_gibbs, negative_phase_samples, positive_phase)
from ebm_literate.models import BM, RBM, energy, logsumexp, sigmoid


def random_bm(n, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    A = np.triu(rng.normal(0, scale, (n, n)), 1)
    return BM(A + A.T, rng.normal(0, 0.5, n))


def random_rbm(nv, nh, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    return RBM(rng.normal(0, scale, (nv, nh)), rng.normal(0, 0.5, nv), rng.normal(0, 0.5, nh))


def random_data(n_rows, n, seed, p=0.4):
    return (np.random.default_rng(seed).random((n_rows, n)) < p).astype(float)


def finite_difference(func, params, eps=1e-5):
    out = [np.zeros_like(a) for a in params]
    for k, (f, arr) in enumerate(zip(params._fields, params)):
        if isinstance(params, BM) and f == "W":
            idxs = list(zip(*np.triu_indices(arr.shape[0], 1)))
        else:
            idxs = list(np.ndindex(arr.shape))
        for idx in idxs:
            d = np.zeros_like(arr); d[idx] = 1.0
            if isinstance(params, BM) and f == "W": d[idx[::-1]] = 1.0
            g = (func(params._replace(**{f: arr + eps * d})) - func(params._replace(**{f: arr - eps * d}))) / (2 * eps)
            out[k][idx] = g
            if isinstance(params, BM) and f == "W": out[k][idx[::-1]] = g
    return type(params)(*out)


def max_rel_error(a, b):
    return max(np.max(np.abs(x - y)) for x, y in zip(a, b)) / max(np.max(np.abs(y)) for y in b)


def flat(p):
    return np.concatenate([np.ravel(a) for a in p])


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 10_000), kind=st.sampled_from(["bm", "rbm"]), scale=st.sampled_from([0.1, 1.0, 2.0]))
def test_exact_gradient_matches_finite_differences(seed, kind, scale):
    params = random_bm(5, seed, scale) if kind == "bm" else random_rbm(4, 3, seed, scale)
    X = random_data(25, 5 if kind == "bm" else 4, seed + 1)
    g = exact_gradient(params, X)
    assert max_rel_error(g, finite_difference(lambda p: log_likelihood(p, X), params)) <= 1e-6
    assert max_rel_error(negative_phase_exact(params), finite_difference(log_partition, params)) <= 1e-6


@pytest.mark.parametrize("kind", ["bm", "rbm"])
def test_negative_phase_exact_matches_enumeration(kind):
    if kind == "bm":
        params = random_bm(6, 0)
        states, logp = log_probs(params)
        p = np.exp(logp)
        W = states.T @ (states * p[:, None]); np.fill_diagonal(W, 0)
        ref = BM(W, p @ states)
    else:
        params = random_rbm(4, 3, 0)
        V, H = binary_states(0, 16, 4), binary_states(0, 8, 3)
        VV, HH = np.repeat(V, 8, axis=0), np.tile(H, (16, 1))
        logw = -energy(params, VV, HH)
        p = np.exp(logw - logsumexp(logw))
        ref = RBM(VV.T @ (HH * p[:, None]), p @ VV, p @ HH)
    for a, b in zip(negative_phase_exact(params), ref):
        np.testing.assert_allclose(a, b, atol=1e-13)


def test_positive_phase_rbm_is_posterior_average():
    params = random_rbm(5, 3, 2)
    X = random_data(30, 5, 3)
    H = binary_states(0, 8, 3)
    Eh = []
    for v in X:
        logw = -energy(params, np.repeat(v[None], 8, 0), H)
        Eh.append(np.exp(logw - logsumexp(logw)) @ H)
    Eh = np.array(Eh)
    pos = positive_phase(params, X)
    np.testing.assert_allclose(pos.W, X.T @ Eh / len(X), rtol=1e-12)
    np.testing.assert_allclose(pos.b, X.mean(0), rtol=1e-15)
    np.testing.assert_allclose(pos.c, Eh.mean(0), rtol=1e-12)


def test_gradient_types_and_bm_convention():
    g = exact_gradient(random_bm(5, 1), random_data(10, 5, 1))
    assert type(g) is BM and np.array_equal(g.W, g.W.T) and np.all(np.diag(g.W) == 0)
    assert type(exact_gradient(random_rbm(4, 2, 1), random_data(10, 4, 1))) is RBM


def test_rbm_with_zero_weights_gradient_closed_form():
    X = random_data(50, 6, 4)
    b = np.random.default_rng(5).normal(0, 1, 6)
    g = exact_gradient(RBM(np.zeros((6, 3)), b, np.zeros(3)), X)
    np.testing.assert_allclose(g.b, X.mean(0) - sigmoid(b), atol=1e-13)
    np.testing.assert_allclose(g.c, 0.0, atol=1e-13)
    np.testing.assert_allclose(g.W, 0.5 * (X.mean(0) - sigmoid(b))[:, None] * np.ones(3), atol=1e-13)


@pytest.mark.parametrize("hidden", [False, True])
def test_negative_phase_samples_stderr_is_sample_std(hidden):
    params = random_rbm(5, 3, 6)
    V, H = sample(params, 500, rng=1, return_hidden=True)
    est = negative_phase_samples(params, V, H if hidden else None)
    assert isinstance(est, PhaseEstimate) and est.n == 500 and type(est.mean) is RBM and type(est.stderr) is RBM
    Hq = H if hidden else sigmoid(V @ params.W + params.c)
    per = [(V[:, :, None] * Hq[:, None, :]), V, Hq]
    for m, s, x in zip(est.mean, est.stderr, per):
        np.testing.assert_allclose(m, x.mean(0), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(s, x.std(0, ddof=1) / np.sqrt(len(V)), rtol=1e-9, atol=1e-15)
    bm = random_bm(5, 7)
    X = sample(bm, 400, rng=2)
    e = negative_phase_samples(bm, X)
    XX = X[:, :, None] * X[:, None, :]
    sW = XX.std(0, ddof=1) / np.sqrt(len(X)); np.fill_diagonal(sW, 0)
    np.testing.assert_allclose(e.stderr.W, sW, rtol=1e-9, atol=1e-15)
    assert isinstance(e, PhaseEstimate) and e.n == 400


@pytest.mark.parametrize("kind", ["bm", "rbm"])
def test_sample_negative_phase_is_unbiased(kind):
    params = random_bm(6, 8) if kind == "bm" else random_rbm(6, 3, 8)
    R, N = 2000, 8
    V = sample(params, R * N, rng=3).reshape(R, N, 6)
    ests = [negative_phase_samples(params, V[r]) for r in range(R)]
    est = np.array([flat(e.mean) for e in ests])
    truth = flat(negative_phase_exact(params))
    sd = est.std(0, ddof=1)
    keep = sd > 0                                      # the BM's zero diagonal has no variance
    z = (est.mean(0)[keep] - truth[keep]) / (sd[keep] / np.sqrt(R))
    assert np.all(np.abs(z) <= 4)
    np.testing.assert_array_equal(est.mean(0)[~keep], truth[~keep])
    # calibrated error bars: E[stderr^2] = E[(estimate - truth)^2] for an unbiased estimate
    calib = (np.array([flat(e.stderr) for e in ests]) ** 2 - (est - truth) ** 2)[:, keep]
    assert np.all(np.abs(calib.mean(0)) <= 4 * calib.std(0, ddof=1) / np.sqrt(R))


@pytest.mark.parametrize("kind", ["bm", "rbm"])
def test_long_gibbs_chains_agree_with_exact(kind):
    params = random_bm(6, 9, 0.7) if kind == "bm" else random_rbm(6, 3, 9)
    v0 = random_data(10000, 6, 10, p=0.5)
    res = negative_phase_gibbs(params, v0, k=60, rng=11)
    assert isinstance(res, GibbsPhase) and res.v.shape == v0.shape and res.n == 10000
    assert type(res.mean) is type(params) and type(res.stderr) is type(params)
    for a, b, s in zip(res.mean, negative_phase_exact(params), res.stderr):
        assert np.all(np.abs(a - b) <= 4 * s + 1e-15)
    # mean and stderr are those of the final states as independent samples (RBM: Rao-Blackwellized over h)
    ref = negative_phase_samples(params, res.v)
    for a, b in zip(res.mean + res.stderr, ref.mean + ref.stderr):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("kind", ["bm", "rbm"])
def test_gibbs_phase_same_for_any_thread_count(kind):
    params = random_bm(6, 12) if kind == "bm" else random_rbm(6, 3, 12)
    v0 = random_data(257, 6, 13, p=0.5)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        a = negative_phase_gibbs(params, v0, k=5, rng=14)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        b = negative_phase_gibbs(params, v0, k=5, rng=14)
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(a.v, b.v) and all(np.array_equal(x, y) for x, y in zip(a.mean + a.stderr, b.mean + b.stderr))
    assert np.array_equal(v0, random_data(257, 6, 13, p=0.5))     # input not modified


def test_exact_ml_principle_contract_and_monotone_ascent():
    bm = random_bm(6, 15, 0.3)
    X = sample(random_bm(6, 16, 1.0), 300, rng=4)
    ml = ExactML()
    g, state = ml.grad(bm, X, None, np.random.default_rng(0))
    assert state is None and all(np.array_equal(a, b) for a, b in zip(g, exact_gradient(bm, X)))
    assert ml.objective(bm, X) == log_likelihood(bm, X)
    lam = (6 + 15) / 4                                 # bound on the curvature, m / 4
    p, prev = bm, ml.objective(bm, X)
    for _ in range(30):
        g, _ = ml.grad(p, X)
        p = BM(p.W + g.W / lam, p.b + g.b / lam)
        cur = ml.objective(p, X)
        assert cur > prev
        prev = cur


@pytest.mark.parametrize("call, err, match", [
    (lambda: positive_phase(random_rbm(4, 2, 0), np.zeros((3, 5))), ValueError, "batch"),
    (lambda: positive_phase(random_bm(4, 0), np.full((3, 4), 0.5)), ValueError, "binary"),
    (lambda: positive_phase(random_bm(4, 0), np.zeros((0, 4))), ValueError, "at least one"),
    (lambda: positive_phase("model", np.zeros((3, 4))), TypeError, "params"),
    (lambda: negative_phase_samples(random_rbm(4, 2, 0), np.zeros((3, 4)), np.zeros((3, 3))), ValueError, "hidden"),
    (lambda: negative_phase_samples(random_rbm(4, 2, 0), np.zeros((3, 4)), np.full((3, 2), -0.1)), ValueError, r"\[0, 1\]"),
    (lambda: negative_phase_samples(random_bm(4, 0), np.zeros((3, 4)), np.zeros((3, 2))), TypeError, "hidden"),
    (lambda: negative_phase_samples(random_bm(4, 0), np.zeros((3, 4)) + np.nan), ValueError, "finite"),
    (lambda: negative_phase_samples(random_bm(4, 0), np.zeros((1, 4))), ValueError, "v_samples must have at least 2 rows"),
    (lambda: negative_phase_gibbs(random_rbm(4, 2, 0), np.zeros((3, 4)), -1), ValueError, "k must"),
    (lambda: negative_phase_gibbs(random_rbm(4, 2, 0), np.zeros((3, 4)), 1.5), TypeError, "k must"),
    (lambda: exact_gradient(random_rbm(4, 2, 0), np.zeros(4)), ValueError, "data must be 2-dimensional"),
    # every message names the argument of the function called, not that of a helper
    (lambda: exact_gradient(random_rbm(4, 2, 0), np.zeros((3, 5))), ValueError, "^data must have 4 columns"),
    (lambda: exact_gradient(random_bm(4, 0), np.full((3, 4), 0.5)), ValueError, "^data must be binary"),
    (lambda: ExactML().grad(random_rbm(4, 2, 0), np.zeros((3, 5))), ValueError, "^batch must have 4 columns"),
    (lambda: ExactML().grad(random_bm(4, 0), np.zeros((0, 4))), ValueError, "^batch must hold at least one"),
    (lambda: ExactML().objective(random_rbm(4, 2, 0), np.zeros((3, 5))), ValueError, "^batch must have 4 columns"),
    (lambda: ExactML().objective(random_bm(4, 0), np.full((3, 4), 2.0)), ValueError, "^batch must be binary"),
    (lambda: negative_phase_gibbs(random_rbm(4, 2, 0), np.zeros((3, 5)), 1), ValueError, "^v0 must have 4 columns"),
    (lambda: negative_phase_gibbs(random_bm(4, 0), np.full((3, 4), 0.5), 1), ValueError, "^v0 must be binary"),
    (lambda: negative_phase_gibbs(random_bm(4, 0), np.zeros(4), 1), ValueError, "^v0 must be 2-dimensional"),
    (lambda: negative_phase_gibbs(random_bm(4, 0), np.zeros((1, 4)), 1), ValueError, "^v0 must have at least 2 rows"),
    (lambda: negative_phase_gibbs("model", np.zeros((3, 4)), 1), TypeError, "^params"),
])
def test_bad_input(call, err, match):
    with pytest.raises(err, match=match):
        call()


BIG_BM = BM(np.zeros((30, 30)), np.zeros(30))
BIG_RBM = RBM(np.zeros((40, 30)), np.zeros(40), np.zeros(30))


@pytest.mark.parametrize("call, states", [
    (lambda: exact_gradient(BIG_BM, np.zeros((2, 30))), "2^30"),
    (lambda: exact_gradient(BIG_RBM, np.zeros((2, 40))), "2^30"),
    (lambda: ExactML().grad(BIG_BM, np.zeros((2, 30))), "2^30"),
    (lambda: ExactML().grad(BIG_RBM, np.zeros((2, 40))), "2^30"),
    (lambda: negative_phase_exact(BIG_RBM), "2^30"),
])
def test_too_large_to_enumerate_points_to_sampled_negative_phase(call, states):
    with pytest.raises(ValueError) as e:
        call()
    msg = str(e.value)
    assert states in msg and "enumeration" in msg
    for part in ("contrastive divergence", "stochastic maximum likelihood", "18.2", "ebm_literate.cd", "ebm_literate.sml"):
        assert part in msg
    assert isinstance(e.value.__cause__, ValueError)       # the enumeration's own limit is kept as the cause


def test_too_large_objective_points_to_sampling_and_ais():
    with pytest.raises(ValueError, match="ExactML.objective") as e:
        ExactML().objective(BIG_RBM, np.zeros((2, 40)))
    assert "18.2" in str(e.value) and "annealed importance sampling" in str(e.value)
