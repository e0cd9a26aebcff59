import numba
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import stats

from ebm_literate import exact, mcmc
from ebm_literate.exact import binary_states
from ebm_literate.mcmc import (GibbsResult, _bm_gibbs_numpy, _fill_uniform, _rbm_gibbs_numpy, _seed_states,
                               autocorrelation, bm_gibbs, chain_mean, effective_sample_size, exact_autocorr_time,
                               exact_autocorrelation, gibbs_chain, integrated_autocorr_time, rbm_gibbs, rng_states,
                               transition_matrix)
from ebm_literate.models import BM, RBM, hidden_probs, sigmoid

M64 = (1 << 64) - 1


def _rand_bm(n, scale, rng):
    rng = np.random.default_rng(rng)
    A = np.triu(rng.normal(0, scale, (n, n)), 1)
    return BM(A + A.T, rng.normal(0, scale, n))


def _rand_rbm(n_v, n_h, scale, rng):
    rng = np.random.default_rng(rng)
    return RBM(rng.normal(0, scale, (n_v, n_h)), rng.normal(0, scale, n_v), rng.normal(0, scale, n_h))


def _binary(shape, rng):
    return (np.random.default_rng(rng).random(shape) < 0.5).astype(float)


def _uniforms_of(states):
    st_ = states.copy()
    def uniforms(m):
        out = np.empty((st_.shape[0], m)); _fill_uniform(st_, out); return out
    return uniforms


def _scaled(params, beta):
    return type(params)(*(beta * a for a in params))


def _index(X):
    return (X @ (1 << np.arange(X.shape[1] - 1, -1, -1))).astype(np.int64)


def _chi2_pvalue(samples, probs, min_expected=5.0):
    counts = np.bincount(_index(samples), minlength=len(probs)).astype(float)
    expected = probs * len(samples)
    small = expected < min_expected
    if small.any():
        counts = np.append(counts[~small], counts[small].sum()); expected = np.append(expected[~small], expected[small].sum())
    return stats.chisquare(counts, expected).pvalue


# ---------------------------------------------------------------- random numbers

def _splitmix_py(x):
    x = (x + 0x9E3779B97F4A7C15) & M64
    z = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return x, z ^ (z >> 31)


def _xoshiro_py(s):
    rotl = lambda x, k: ((x << k) | (x >> (64 - k))) & M64
    r = (rotl((s[1] * 5) & M64, 7) * 9) & M64
    t = (s[1] << 17) & M64
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 45)
    return r


@settings(max_examples=20)
@given(st.integers(0, 2**64 - 1))
def test_generator_matches_python_reference(seed):
    states = _seed_states(np.array([seed], dtype=np.uint64))
    x, s = seed, []
    for _ in range(4):
        x, w = _splitmix_py(x); s.append(w)
    assert [int(w) for w in states[0]] == s
    U = np.empty((1, 50)); _fill_uniform(states, U)
    assert all(U[0, j] == (_xoshiro_py(s) >> 11) * 2.0**-53 for j in range(50))
    assert [int(w) for w in states[0]] == s          # the state array advanced as the reference did


def test_splitmix_known_outputs():
    x, out = 0, []
    for _ in range(3):
        x, o = _splitmix_py(x); out.append(o)
    assert out == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]


def test_rng_states_seeded_and_distinct():
    a, b = rng_states(5, 100), rng_states(np.random.default_rng(5), 100)
    assert a.dtype == np.uint64 and a.shape == (100, 4) and np.array_equal(a, b)
    assert len({tuple(r) for r in a}) == 100 and not np.array_equal(a, rng_states(6, 100))
    assert rng_states(0, 0).shape == (0, 4)


def test_uniforms_moments():
    U = np.empty((8, 100_000)); _fill_uniform(rng_states(1, 8), U)
    n = U.size
    assert abs(U.mean() - 0.5) < 4 * np.sqrt(1 / 12 / n)
    assert abs(U.var() - 1 / 12) < 4 * np.sqrt(1 / 180 / n)
    assert U.min() >= 0.0 and U.max() < 1.0


# ---------------------------------------------------------------- kernels vs NumPy references

@settings(max_examples=25)
@given(st.integers(1, 9), st.integers(1, 7), st.integers(1, 40), st.integers(0, 3),
       st.sampled_from([0.0, 0.5, 1.0, 3.0]), st.floats(0.1, 4.0), st.integers(0, 2**31))
def test_rbm_kernel_equals_reference(n_v, n_h, n_c, k, beta, scale, seed):
    rbm = _rand_rbm(n_v, n_h, scale, seed)
    v = _binary((n_c, n_v), seed + 1)
    ref = _rbm_gibbs_numpy(*rbm, v, k, beta, _uniforms_of(rng_states(seed + 2, n_c)))
    got = rbm_gibbs(rbm, v, k, rng=seed + 2, beta=beta)
    assert isinstance(got, GibbsResult)
    assert np.array_equal(got.v, ref.v) and np.array_equal(got.h, ref.h)
    np.testing.assert_allclose(got.hidden_probs, ref.hidden_probs, rtol=1e-14, atol=0)


@settings(max_examples=25)
@given(st.integers(1, 12), st.integers(1, 40), st.integers(0, 3), st.sampled_from([0.0, 0.5, 1.0, 3.0]),
       st.floats(0.1, 4.0), st.integers(0, 2**31))
def test_bm_kernel_equals_reference(n, n_c, k, beta, scale, seed):
    bm = _rand_bm(n, scale, seed)
    x = _binary((n_c, n), seed + 1)
    x_ref, p_ref = _bm_gibbs_numpy(*bm, x, k, beta, _uniforms_of(rng_states(seed + 2, n_c)))
    x_got, p_got = bm_gibbs(bm, x, k, rng=seed + 2, beta=beta, return_probs=True)
    assert np.array_equal(x_got, x_ref)
    np.testing.assert_allclose(p_got, p_ref, rtol=1e-12, atol=1e-15)


def test_serial_and_parallel_paths_agree(monkeypatch):
    rbm, bm = _rand_rbm(30, 20, 1.0, 0), _rand_bm(25, 0.5, 1)
    v, x = _binary((50, 30), 2), _binary((50, 25), 3)
    out = {}
    for name, limit in (("serial", 2**62), ("parallel", 0)):
        monkeypatch.setattr(mcmc, "PARALLEL_MIN_WORK", limit)
        out[name] = (rbm_gibbs(rbm, v, 3, rng=4), bm_gibbs(bm, x, 3, rng=5))
    (r1, b1), (r2, b2) = out["serial"], out["parallel"]
    assert all(np.array_equal(a, b) for a, b in zip(r1, r2)) and np.array_equal(b1, b2)


def test_bitwise_identical_for_one_and_two_threads():
    rbm, bm = _rand_rbm(200, 120, 0.2, 0), _rand_bm(40, 0.5, 1)
    v, x = _binary((64, 200), 2), _binary((64, 40), 3)
    out = {}
    max_threads = numba.config.NUMBA_NUM_THREADS
    try:
        for n_threads in (1, min(2, max_threads)):
            numba.set_num_threads(n_threads)
            out[n_threads] = (rbm_gibbs(rbm, v, 4, rng=9), bm_gibbs(bm, x, 10, rng=9),
                              gibbs_chain(bm, x, 5, rng=9, thin=2), gibbs_chain(rbm, v, 3, rng=9))
    finally:
        numba.set_num_threads(max_threads)
    a, b = out[1], out[min(2, max_threads)]
    assert all(np.array_equal(p, q) for p, q in zip(a[0], b[0]))
    assert all(np.array_equal(p, q) for p, q in zip(a[1:], b[1:]))


def test_gibbs_chain_consistent_with_samplers():
    rbm, bm = _rand_rbm(6, 4, 1.0, 0), _rand_bm(7, 1.0, 1)
    v, x = _binary((10, 6), 2), _binary((10, 7), 3)
    tr_r, tr_b = gibbs_chain(rbm, v, 4, rng=3, thin=2), gibbs_chain(bm, x, 4, rng=3, thin=2)
    assert tr_r.shape == (4, 10, 6) and tr_b.shape == (4, 10, 7)
    assert np.array_equal(tr_r[0], rbm_gibbs(rbm, v, 2, rng=3).v)
    assert np.array_equal(tr_b[0], bm_gibbs(bm, x, 2, rng=3))


def test_k_zero_and_inputs_untouched():
    rbm, bm = _rand_rbm(6, 4, 1.0, 0), _rand_bm(6, 1.0, 1)
    v = _binary((8, 6), 2); v_copy = v.copy()
    r = rbm_gibbs(rbm, v, 0, rng=1)
    assert np.array_equal(r.v, v) and r.v is not v
    np.testing.assert_allclose(r.hidden_probs, hidden_probs(rbm, v), rtol=1e-14)
    assert set(np.unique(r.h)) <= {0.0, 1.0}
    rbm_gibbs(rbm, v, 3, rng=1); bm_gibbs(bm, v, 3, rng=1)
    assert np.array_equal(v, v_copy)
    x0, p0 = bm_gibbs(bm, v, 0, rng=1, return_probs=True)
    assert np.array_equal(x0, v)
    np.testing.assert_allclose(p0, sigmoid(v @ bm.W + bm.b), rtol=1e-14)


def test_integer_and_bool_like_inputs_accepted():
    rbm = _rand_rbm(5, 3, 1.0, 0)
    v = _binary((4, 5), 1)
    a = rbm_gibbs(rbm, v.astype(int), np.int64(2), rng=0, beta=np.float32(1.0))
    b = rbm_gibbs(rbm, v.astype(bool), 2, rng=0, beta=1)
    assert np.array_equal(a.v, b.v) and a.v.dtype == np.float64


# ---------------------------------------------------------------- bad inputs

@pytest.mark.parametrize("call, exc, words", [
    (lambda r, b: rbm_gibbs(r, np.zeros((3, 5)), 1), ValueError, "6 columns"),
    (lambda r, b: rbm_gibbs(r, np.full((3, 6), 0.5), 1), ValueError, "binary"),
    (lambda r, b: rbm_gibbs(r, np.zeros(6), 1), ValueError, "2-dimensional"),
    (lambda r, b: rbm_gibbs(r, np.full((3, 6), np.nan), 1), ValueError, "finite"),
    (lambda r, b: rbm_gibbs(r, np.zeros((0, 6)), 1), ValueError, "at least one sample"),
    (lambda r, b: rbm_gibbs(r, np.zeros((3, 6)), -1), ValueError, "k must be an integer >= 0"),
    (lambda r, b: rbm_gibbs(r, np.zeros((3, 6)), 1.0), TypeError, "k must be an integer"),
    (lambda r, b: rbm_gibbs(r, np.zeros((3, 6)), True), TypeError, "k must be an integer"),
    (lambda r, b: rbm_gibbs(r, np.zeros((3, 6)), 1, beta=np.inf), ValueError, "beta"),
    (lambda r, b: rbm_gibbs(r, np.zeros((3, 6)), 1, beta=np.nan), ValueError, "beta"),
    (lambda r, b: rbm_gibbs(r, np.zeros((3, 6)), 1, beta=-0.5), ValueError, "beta"),
    (lambda r, b: rbm_gibbs(r, np.zeros((3, 6)), 1, beta="1"), TypeError, "beta"),
    (lambda r, b: rbm_gibbs(b, np.zeros((3, 6)), 1), TypeError, "params must be RBM"),
    (lambda r, b: bm_gibbs(r, np.zeros((3, 6)), 1), TypeError, "params must be BM"),
    (lambda r, b: bm_gibbs(b, np.zeros((3, 4)), 1), ValueError, "6 columns"),
    (lambda r, b: bm_gibbs(b, np.zeros((3, 6)), -2), ValueError, "k must be"),
    (lambda r, b: bm_gibbs(b, np.zeros((3, 6)), 1, beta=float("inf")), ValueError, "beta"),
    (lambda r, b: bm_gibbs(BM(b.W + np.eye(6), b.b), np.zeros((3, 6)), 1), ValueError, "zero diagonal"),
    (lambda r, b: gibbs_chain(b, np.zeros((3, 6)), 0), ValueError, "n_samples"),
    (lambda r, b: gibbs_chain(r, np.zeros((3, 6)), 2, thin=0), ValueError, "thin"),
    (lambda r, b: rng_states(0, -1), ValueError, "n_chains"),
    (lambda r, b: transition_matrix(_rand_bm(13, 1.0, 0)), ValueError, "MAX_TRANSITION_STATES"),
    (lambda r, b: transition_matrix(b, beta=-1), ValueError, "beta"),
    (lambda r, b: effective_sample_size(np.ones(3)), ValueError, "4 steps"),
    (lambda r, b: autocorrelation(np.array([1.0, np.nan, 2.0, 3.0, 4.0])), ValueError, "finite"),
])
def test_bad_inputs(call, exc, words):
    with pytest.raises(exc, match=words):
        call(_rand_rbm(6, 4, 1.0, 0), _rand_bm(6, 1.0, 1))


# ---------------------------------------------------------------- against exact enumeration

@settings(max_examples=15)
@given(st.integers(1, 6), st.integers(1, 4), st.floats(0.1, 3.0), st.sampled_from([0.0, 0.4, 1.0, 2.0]),
       st.integers(0, 2**31))
def test_transition_matrices_leave_p_invariant(n_v, n_h, scale, beta, seed):
    for params in (_rand_bm(n_v, scale, seed), _rand_rbm(n_v, n_h, scale, seed)):
        T = transition_matrix(params, beta)
        p = np.exp(exact.log_probs(_scaled(params, beta))[1])
        np.testing.assert_allclose(T.sum(1), 1.0, rtol=1e-12)
        np.testing.assert_allclose(p @ T, p, rtol=1e-10, atol=1e-300)
        assert T.min() > 0


def test_bm_transition_matrix_is_product_of_site_kernels():
    bm = _rand_bm(5, 1.5, 0)
    S = binary_states(0, 32, 5)
    T = np.eye(32)
    for i in range(5):
        Ti = np.zeros((32, 32))
        p1 = sigmoid(S @ bm.W[:, i] + bm.b[i])
        for s in range(32):
            bit = 1 << (4 - i)
            Ti[s, s | bit], Ti[s, s & ~bit] = p1[s], 1 - p1[s]
        T = T @ Ti
    np.testing.assert_allclose(transition_matrix(bm), T, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("kind", ["bm", "rbm"])
@pytest.mark.parametrize("beta", [1.0, 0.5])
def test_k_step_distribution_matches_transition_matrix(kind, beta):
    params = _rand_bm(5, 1.0, 7) if kind == "bm" else _rand_rbm(5, 3, 1.0, 7)
    start = np.zeros((40_000, 5)); start[:, 1] = 1.0
    T = transition_matrix(params, beta)
    for k in (1, 2):
        row = np.linalg.matrix_power(T, k)[_index(start[:1])[0]]
        seed = 10 * k + (kind == "rbm") + int(4 * beta)
        X = bm_gibbs(params, start, k, rng=seed, beta=beta) if kind == "bm" else rbm_gibbs(params, start, k, rng=seed, beta=beta).v
        assert _chi2_pvalue(X, row) > 1e-3


@pytest.mark.parametrize("kind", ["bm", "rbm"])
def test_exact_samples_stay_exact(kind):
    params = _rand_bm(6, 1.5, 3) if kind == "bm" else _rand_rbm(6, 4, 1.5, 3)
    for beta, seed in ((1.0, 1), (0.3, 2)):
        target = _scaled(params, beta)
        X0 = exact.sample(target, 40_000, rng=seed)
        X = bm_gibbs(params, X0, 4, rng=seed + 10, beta=beta) if kind == "bm" else rbm_gibbs(params, X0, 4, rng=seed + 10, beta=beta).v
        assert _chi2_pvalue(X, np.exp(exact.log_probs(target)[1])) > 1e-3


def test_rbm_joint_pairs_and_moments_within_error_bars():
    rbm = _rand_rbm(6, 4, 1.0, 5)
    V0 = exact.sample(rbm, 30_000, rng=1)
    r = rbm_gibbs(rbm, V0, 2, rng=2)
    truth = exact.expectations(rbm)
    n = len(V0)
    for est, true in ((r.h.mean(0), truth.c), (r.hidden_probs.mean(0), truth.c), (r.v.mean(0), truth.b),
                      ((r.v.T @ r.h) / n, truth.W)):
        se = np.sqrt(true * (1 - true) / n)              # independent chains: binomial standard errors
        assert np.all(np.abs(est - true) <= 4 * se)


def test_beta_zero_gives_fair_coins():
    bm, rbm = _rand_bm(6, 3.0, 0), _rand_rbm(6, 4, 3.0, 0)
    x = bm_gibbs(bm, np.ones((20_000, 6)), 1, rng=1, beta=0.0)
    r = rbm_gibbs(rbm, np.ones((20_000, 6)), 1, rng=2, beta=0.0)
    for a in (x, r.v, r.h):
        assert abs(a.mean() - 0.5) < 4 * 0.5 / np.sqrt(a.size)
    assert np.all(r.hidden_probs == 0.5)


# ---------------------------------------------------------------- autocorrelation and ESS

def _ar1(a, n_steps, n_chains, seed):
    from scipy.signal import lfilter
    e = np.random.default_rng(seed).normal(size=(n_steps, n_chains))
    e[1:] *= np.sqrt(1 - a * a)
    return lfilter([1.0], [1.0, -a], e, axis=0)


@pytest.mark.parametrize("a", [0.0, 0.7, 0.95])
def test_integrated_autocorr_time_of_ar1(a):
    taus = np.array([integrated_autocorr_time(_ar1(a, 10_000, 4, s)) for s in range(16)])
    assert abs(taus.mean() - (1 + a) / (1 - a)) < 4 * taus.std(ddof=1) / 4
    ess = effective_sample_size(_ar1(a, 10_000, 4, 99))
    assert ess == pytest.approx(40_000 / integrated_autocorr_time(_ar1(a, 10_000, 4, 99)))


def test_autocorrelation_shapes_and_values():
    y = _ar1(0.6, 5000, 3, 0)
    rho = autocorrelation(y, max_lag=4)
    assert rho.shape == (5,) and rho[0] == 1.0
    assert np.all(np.abs(rho - 0.6 ** np.arange(5)) < 0.06)
    Y = np.stack([y, -y, 2 * y], axis=-1)               # several statistics at once
    assert autocorrelation(Y, 4).shape == (5, 3)
    np.testing.assert_allclose(integrated_autocorr_time(Y), integrated_autocorr_time(y), rtol=1e-10)
    assert autocorrelation(y[:, 0], 10_000).shape == (5000,)
    cm = chain_mean(Y)
    assert cm.mean.shape == (3,) and np.all(cm.stderr > 0)


def test_chain_mean_stderr_is_calibrated():
    cms = [chain_mean(_ar1(0.9, 4000, 2, s)) for s in range(40)]
    z = np.array([c.mean / c.stderr for c in cms])
    assert 1e-3 < stats.chi2.sf(np.sum(z**2), len(z)) < 1 - 1e-3


def test_constant_statistic():
    assert np.isnan(integrated_autocorr_time(np.ones((50, 2))))
    cm = chain_mean(np.ones((50, 2)))
    assert cm.mean == 1.0 and cm.stderr == 0.0


def test_exact_autocorr_time_equals_sum_of_exact_autocorrelation():
    bm = _rand_bm(5, 1.0, 2)
    T, p = transition_matrix(bm), np.exp(exact.log_probs(bm)[1])
    f = binary_states(0, 32, 5).sum(1)
    rho = exact_autocorrelation(T, p, f, 400)
    assert rho[0] == pytest.approx(1.0) and abs(rho[-1]) < 1e-12
    assert exact_autocorr_time(T, p, f) == pytest.approx(2 * rho.sum() - 1, rel=1e-10)


def test_estimated_tau_matches_exact_on_a_small_bm():
    bm = _rand_bm(6, 1.5, 4)
    T, p = transition_matrix(bm), np.exp(exact.log_probs(bm)[1])
    S = binary_states(0, 64, 6)
    f = S.sum(1)
    tau = exact_autocorr_time(T, p, f)
    trace = gibbs_chain(bm, exact.sample(bm, 32, rng=0), 3000, rng=1)
    group = np.array([integrated_autocorr_time(trace[:, g::4].sum(-1)) for g in range(4)])
    group_taus = np.array([integrated_autocorr_time(trace[:, 8 * g:8 * g + 8].sum(-1)) for g in range(4)])
    assert abs(group_taus.mean() - tau) < 4 * group_taus.std(ddof=1) / 2
    assert abs(group.mean() - tau) < 4 * group.std(ddof=1) / 2


def test_vectorized_sigmoid_equals_the_stable_formula():
    from ebm_literate.mcmc import _sigmoid_fill
    a = np.concatenate([np.linspace(-700, 700, 20001), [0.0, -0.0, 1e-300, -1e-300]])
    out = np.empty_like(a)
    _sigmoid_fill(a, out)
    np.testing.assert_allclose(out, sigmoid(a), rtol=1e-15, atol=0)     # as the Gibbs chapter shows
