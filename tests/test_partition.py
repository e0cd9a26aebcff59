"""Tests for ebm_literate.partition: bad inputs, kernels against their NumPy references, and estimates against
exact enumeration. Stochastic checks use fixed seeds and judge estimates by their own error bars."""
import numba
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st, HealthCheck

from ebm_literate import exact
from ebm_literate.mcmc import rng_states, _fill_uniform, _taylor_exp
from ebm_literate.models import RBM, init_bm, logsumexp
from ebm_literate.partition import (
    LogZEstimate, ais, reverse_ais, importance_sampling, bridge_sampling, log_likelihood_estimate,
    raise_log_likelihood, base_rate_logits, check_betas, linear_betas, piecewise_betas, salakhutdinov_murray_betas,
    adaptive_betas, _rbm_ais_numpy, _rbm_ais_kernel, _bm_ais_numpy, _bm_ais_kernel, _row_reduce,
    _weight_stats)


def random_rbm(n_v, n_h, scale=1.0, seed=0):
    rng = np.random.default_rng(seed)
    return RBM(rng.normal(0, scale, (n_v, n_h)), rng.normal(0, 1, n_v), rng.normal(0, 1, n_h))


def random_bm(n, scale=1.0, seed=0):
    return init_bm(n, seed, scale=scale)._replace(b=np.random.default_rng(seed + 1).normal(0, 1, n))


def stream(states):
    def uniforms(m):
        out = np.empty((states.shape[0], m))
        _fill_uniform(states, out)
        return out
    return uniforms


TINY = random_rbm(5, 3, scale=2.0, seed=0)


# ------------------------------------------------------------------ bad inputs
@pytest.mark.parametrize("call, match", [
    (lambda: ais(TINY, 1), "n_chains"),
    (lambda: ais(TINY, 2.5), "n_chains"),
    (lambda: ais(TINY, True), "n_chains"),
    (lambda: ais(TINY, 10, [0.0, 0.5, 0.5, 1.0]), "rise strictly"),
    (lambda: ais(TINY, 10, [0.0, 0.7, 0.3, 1.0]), "rise strictly"),
    (lambda: ais(TINY, 10, [0.2, 1.0]), "start at 0"),
    (lambda: ais(TINY, 10, [0.0, 0.9]), "end at 1"),
    (lambda: ais(TINY, 10, [0.0]), "at least two"),
    (lambda: ais(TINY, 10, [[0.0, 1.0]]), "1-dimensional"),
    (lambda: ais(TINY, 10, [0.0, np.inf, 1.0]), "finite"),
    (lambda: ais(TINY, 10, "linear"), "numeric"),
    (lambda: ais(TINY, 10, None, 0, np.zeros(4)), "base"),
    (lambda: ais(TINY, 10, None, 0, np.full(5, np.nan)), "base"),
    (lambda: ais(TINY._replace(W=np.ones((4, 3))), 10), "params.W"),
    (lambda: ais("model", 10), "params"),
    (lambda: reverse_ais(TINY, np.full((3, 5), 0.5)), "binary"),
    (lambda: reverse_ais(TINY, np.zeros((3, 6))), "5 columns"),
    (lambda: reverse_ais(TINY, np.zeros((1, 5))), "at least two"),
    (lambda: reverse_ais(TINY, np.zeros(5)), "2-dimensional"),
    (lambda: importance_sampling(TINY, 1), "n_samples"),
    (lambda: importance_sampling(TINY, 100, base=np.zeros(3)), "base"),
    (lambda: bridge_sampling([1.0], [1.0, 2.0]), "log_ratio_0"),
    (lambda: bridge_sampling([1.0, 2.0], [np.nan, 2.0]), "log_ratio_1"),
    (lambda: log_likelihood_estimate(TINY, np.zeros((2, 5)), "x"), "log_z"),
    (lambda: log_likelihood_estimate(TINY, np.zeros((2, 4)), 1.0), "5 columns"),
    (lambda: raise_log_likelihood(TINY, np.zeros((1, 5)), linear_betas(3)), "at least two"),
    (lambda: piecewise_betas((0, 0.5, 1), (10,)), "one count per piece"),
    (lambda: piecewise_betas((0, 0.5, 1), (10, 0)), "steps"),
    (lambda: linear_betas(0), "n_steps"),
    (lambda: salakhutdinov_murray_betas(2), "n_steps"),
    (lambda: adaptive_betas(TINY, 10, n_chains=1), "n_chains"),
    (lambda: base_rate_logits(np.array([[0.0, 2.0]])), "binary"),
])
def test_bad_inputs_are_refused(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


# ------------------------------------------------------------------ schedules
def test_salakhutdinov_murray_schedule_is_the_published_one():
    b = salakhutdinov_murray_betas()
    d = np.diff(b)
    assert len(b) == 14501 and b[0] == 0 and b[-1] == 1
    np.testing.assert_allclose(d[:500], 1e-3, rtol=1e-9)
    np.testing.assert_allclose(d[500:4500], 1e-4, rtol=1e-7)
    np.testing.assert_allclose(d[4500:], 1e-5, rtol=1e-6)
    assert np.array_equal(check_betas(b), b)


@given(st.integers(3, 3000))
def test_scaled_schedules_rise_from_0_to_1(n):
    for b in (salakhutdinov_murray_betas(n), linear_betas(n)):
        assert len(b) == n + 1 and b[0] == 0.0 and b[-1] == 1.0 and np.all(np.diff(b) > 0)


def test_adaptive_schedule_is_valid_and_seeded():
    a = adaptive_betas(TINY, 40, rng=3, n_chains=20, pilot=linear_betas(50))
    b = adaptive_betas(TINY, 40, rng=3, n_chains=20, pilot=linear_betas(50))
    assert np.array_equal(a, b) and len(a) == 41
    check_betas(a)
    bm = adaptive_betas(random_bm(6), 30, rng=0, n_chains=10, pilot=linear_betas(40), rounds=1)
    check_betas(bm)


# ------------------------------------------------------------------ kernels against references
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n_v=st.integers(1, 20), n_h=st.integers(1, 40), n_c=st.sampled_from([2, 5, 70]), K=st.integers(1, 12),
       scale=st.sampled_from([0.01, 0.3, 2.0]), backwards=st.booleans(), seed=st.integers(0, 2**31))
def test_rbm_kernel_matches_reference(n_v, n_h, n_c, K, scale, backwards, seed):
    rng = np.random.default_rng(seed)
    W, b, c = rng.normal(0, scale, (n_v, n_h)), rng.normal(0, 1, n_v), rng.normal(0, 1, n_h)
    base = rng.normal(0, 1, n_v)
    betas = np.sort(np.concatenate([[0.0, 1.0], rng.random(K - 1)]))
    if backwards: betas = betas[::-1].copy()
    v0 = (rng.random((n_c, n_v)) < 0.5).astype(float)
    states = rng_states(seed, n_c)
    lw_ref, v_ref = _rbm_ais_numpy(RBM(W, b, c), betas, base, stream(states.copy()), v0)
    v = v0.copy()
    lw = _rbm_ais_kernel(W, b, c, base, betas, v, states)
    assert np.array_equal(v, v_ref)
    np.testing.assert_allclose(lw, lw_ref, rtol=0, atol=1e-10)


@pytest.mark.parametrize("backward", [False, True])
@pytest.mark.parametrize("n, n_c", [(1, 3), (7, 40), (16, 5)])
def test_bm_kernel_matches_reference(n, n_c, backward):
    bm = random_bm(n, scale=1.5, seed=n)
    rng = np.random.default_rng(n)
    base = rng.normal(0, 1, n)
    x0 = (rng.random((n_c, n)) < 0.5).astype(float)
    states = rng_states(1, n_c)
    betas = linear_betas(15)
    lw_ref, x_ref = _bm_ais_numpy(bm.W, bm.b, base, betas, x0, stream(states.copy()), backward)
    x = x0.copy()
    lw = _bm_ais_kernel(bm.W, bm.b, base, betas, x, states, backward=backward)
    assert np.array_equal(x, x_ref)
    np.testing.assert_allclose(lw, lw_ref, rtol=0, atol=1e-11)


def test_helpers_match_numpy():
    y = np.linspace(-1 / 16, 1 / 16, 2001)
    np.testing.assert_allclose([_taylor_exp(t, 9) for t in y], np.exp(y), rtol=3e-16, atol=0)
    rng = np.random.default_rng(0)
    for n in (1, 7, 511, 512, 513, 1600):
        v, db, lin = (rng.random(n) < 0.5).astype(float), rng.normal(size=n), rng.random(n)
        num, den = 1 + rng.random(n), 1 + rng.random(n)
        s, lq = _row_reduce(v, db, lin, num, den)
        assert abs(s - (v @ db + lin.sum())) < 1e-12 * (1 + np.abs(v * db).sum() + lin.sum())
        assert abs(lq - (np.log(num).sum() - np.log(den).sum())) < 1e-12 * n


def test_tiles_depend_only_on_the_shapes():
    from ebm_literate.mcmc import MIN_BLOCKS, _rbm_grid
    g = _rbm_grid(100, 784, 500)                      # 100 chains of a 784-500 RBM: 16 tiles per product
    assert g[0] * g[1] >= MIN_BLOCKS and g[2] * g[3] >= MIN_BLOCKS and g[4] >= MIN_BLOCKS
    assert list(_rbm_grid(3, 5, 4)) == [1, 1, 1, 1, 3, 1, 1]    # a tiny problem is one tile


# ------------------------------------------------------------------ reproducibility
def test_same_seed_same_numbers_whatever_the_threads():
    rbm = random_rbm(100, 50, scale=0.2, seed=1)
    bm = random_bm(10, seed=2)
    runs = []
    for n_threads in (1, numba.config.NUMBA_NUM_THREADS):
        numba.set_num_threads(n_threads)
        runs.append([ais(rbm, 200, linear_betas(10), rng=5).log_weights,
                     ais(bm, 200, linear_betas(10), rng=5).log_weights,
                     reverse_ais(rbm, np.zeros((130, 100)), linear_betas(10), rng=5).log_weights])
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    for a, b in zip(*runs):
        assert np.array_equal(a, b)
    assert not np.array_equal(ais(rbm, 200, linear_betas(10), rng=6).log_weights, runs[0][0])


def test_inputs_are_not_modified():
    v = np.zeros((4, 5))
    base = np.zeros(5)
    reverse_ais(TINY, v, linear_betas(3), rng=0, base=base)
    assert np.all(v == 0) and np.all(base == 0)


# ------------------------------------------------------------------ estimates against exact enumeration
def _mean_ratio(log_w, shift):
    r = np.exp(log_w + shift)
    return r.mean(), r.std() / np.sqrt(r.size)


@pytest.mark.parametrize("model", [TINY, random_rbm(4, 6, 1.5, 3), random_bm(8, 1.0, 4)], ids=["rbm53", "rbm46", "bm8"])
def test_weights_are_unbiased_and_logs_bracket(model):
    lz = exact.log_partition(model)
    fwd = ais(model, 40_000, linear_betas(4), rng=1)
    m, se = _mean_ratio(fwd.log_weights, fwd.log_z_base - lz)
    assert abs(m - 1) < 4 * se
    rev = reverse_ais(model, exact.sample(model, 40_000, rng=2), linear_betas(4), rng=3)
    m, se = _mean_ratio(rev.log_weights, lz - rev.log_z_base)
    assert abs(m - 1) < 4 * se
    f = fwd.log_z_base + logsumexp(fwd.log_weights.reshape(-1, 5), axis=1) - np.log(5) - lz
    r = rev.log_z_base - (logsumexp(rev.log_weights.reshape(-1, 5), axis=1) - np.log(5)) - lz
    assert f.mean() < -4 * f.std() / np.sqrt(f.size)
    assert r.mean() > 4 * r.std() / np.sqrt(r.size)


def test_long_runs_land_within_their_error_bars():
    for model in (random_rbm(10, 8, 1.0, 5), random_bm(10, 0.8, 6)):
        lz = exact.log_partition(model)
        e = ais(model, 500, linear_betas(200), rng=7)
        assert abs(e.log_z - lz) < 4 * e.stderr and e.ess > 250
        assert isinstance(e, LogZEstimate) and e.samples.shape == (500, 10) and not e.reverse


def test_importance_sampling_is_unbiased():
    lz = exact.log_partition(TINY)
    e = importance_sampling(TINY, 200_000, rng=0, chunk=1000)
    m, se = _mean_ratio(e.log_weights, e.log_z_base - lz)
    assert abs(m - 1) < 4 * se and e.samples is None


def test_weight_stats():
    lm, se, ess = _weight_stats(np.full(10, 3.0))
    assert lm == pytest.approx(3.0) and se == 0 and ess == pytest.approx(10)
    lm, se, ess = _weight_stats(np.array([0.0, -1e4, -1e4]))
    assert lm == pytest.approx(-np.log(3)) and ess == pytest.approx(1)


# ------------------------------------------------------------------ bridge sampling
@given(st.lists(st.floats(-20, 20), min_size=2, max_size=30), st.lists(st.floats(-20, 20), min_size=2, max_size=30))
@settings(max_examples=50, deadline=None)
def test_bridge_is_antisymmetric(l0, l1):
    a = bridge_sampling(l0, l1)
    b = bridge_sampling(-np.array(l1), -np.array(l0))
    assert a.log_ratio == pytest.approx(-b.log_ratio, abs=1e-9)


@given(st.floats(-50, 50), st.integers(2, 20), st.integers(2, 20))
def test_bridge_is_exact_for_a_constant_ratio(c, n0, n1):
    assert bridge_sampling(np.full(n0, c), np.full(n1, c)).log_ratio == pytest.approx(c, abs=1e-9)


def test_bridge_between_two_rbms():
    r0, r1 = random_rbm(8, 5, 1.0, 10), random_rbm(8, 5, 1.0, 11)
    truth = exact.log_partition(r1) - exact.log_partition(r0)
    from ebm_literate.models import _free_energy
    x0, x1 = exact.sample(r0, 4000, rng=1), exact.sample(r1, 4000, rng=2)
    e = bridge_sampling(_free_energy(r0, x0) - _free_energy(r1, x0), _free_energy(r0, x1) - _free_energy(r1, x1))
    assert abs(e.log_ratio - truth) < 4 * e.stderr and e.stderr < 0.1


# ------------------------------------------------------------------ log-likelihood estimates
def test_log_likelihood_estimates():
    data = exact.sample(TINY, 300, rng=1)
    lz = exact.log_partition(TINY)
    exact_ll = exact.log_likelihood(TINY, data, lz)
    assert log_likelihood_estimate(TINY, data, lz).mean == pytest.approx(exact_ll, abs=1e-12)
    e = ais(TINY, 2000, linear_betas(50), rng=0)
    est = log_likelihood_estimate(TINY, data, e)
    assert est.mean == pytest.approx(exact_ll + lz - e.log_z, abs=1e-12) and est.stderr == e.stderr and est.n == 300
    r = raise_log_likelihood(TINY, data, linear_betas(50), rng=1)
    rev = reverse_ais(TINY, data, linear_betas(50), rng=1)
    from ebm_literate.models import _free_energy
    assert r.mean == pytest.approx(np.mean(-_free_energy(TINY, data) + rev.log_weights - rev.log_z_base), abs=1e-12)
    assert r.mean < exact_ll + 4 * r.stderr


def test_progress_bar_gives_the_same_numbers(capsys):
    rbm, bm = random_rbm(30, 20, 0.5, 8), random_bm(9, 1.0, 9)
    for model in (rbm, bm):
        a = ais(model, 70, linear_betas(450), rng=4, progress=True)
        b = ais(model, 70, linear_betas(450), rng=4)
        assert np.array_equal(a.log_weights, b.log_weights) and np.array_equal(a.samples, b.samples)
        r1 = reverse_ais(model, np.ones((70, model.b.shape[0])), linear_betas(250), rng=4, progress=True)
        r2 = reverse_ais(model, np.ones((70, model.b.shape[0])), linear_betas(250), rng=4)
        assert np.array_equal(r1.log_weights, r2.log_weights)
    assert "AIS" in capsys.readouterr().err
