"""Continuous models: energies, scores and gradients, exact log Z and samples, Gibbs/Langevin/HMC samplers, data."""
import itertools
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import integrate, stats

from ebm_literate import mcmc
from ebm_literate.data import (GaussianMixture, load_digits_continuous, mixture_log_prob, mixture_sample,
                               mixture_score, ring_of_gaussians, standardize, teacher_samples, two_moons)
from ebm_literate.exact import (hidden_marginal, log_likelihood, log_partition, sample,
                                _gbrbm_log_partition_reference)
from ebm_literate.mcmc import (_fill_uniform, _gbrbm_gibbs_numpy, _rbm_grid, gaussian_rbm_gibbs, hmc, langevin,
                               rng_states)
from ebm_literate.models import (ICA, RBM, Gaussian, GaussianRBM, LaplaceICA, check_data, check_param_tuple,
                                 check_params, energy, free_energy, free_energy_and_grad, hidden_probs,
                                 init_gaussian_rbm, log_unnormalized, log_unnormalized_grad, logsumexp, n_visible,
                                 score, softplus, source_log_prob, source_score, source_score_derivative,
                                 visible_mean, CONTINUOUS_MODELS, MODELS)


def _gbrbm(n_v, n_h, scale, seed):
    r = np.random.default_rng(seed)
    return GaussianRBM(r.normal(0, scale, (n_v, n_h)), r.normal(0, 1, n_v), r.normal(0, 1, n_h),
                       r.uniform(0.5, 2.0, n_v))


def _gaussian(n, seed):
    r = np.random.default_rng(seed)
    L = r.normal(0, 1, (n, n))
    return Gaussian(r.normal(0, 1, n), L @ L.T + np.eye(n))


def _models(n, seed):
    r = np.random.default_rng(seed)
    return [_gaussian(n, seed), _gbrbm(n, 3, 1.0, seed), ICA(r.normal(0, 1, (n, n))),
            LaplaceICA(r.normal(0, 1, (n, n)))]


def _states(n):
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)))


def _chi_square_p(counts, expected, min_expected=5.0):
    "Pearson's test with the cells expected fewer than `min_expected` times pooled into one"
    small = expected < min_expected
    counts = np.append(counts[~small], counts[small].sum())
    expected = np.append(expected[~small], expected[small].sum())
    return stats.chisquare(counts, expected).pvalue


def _numerical_score(params, x, eps=1e-5):
    out = np.empty_like(x)
    for k in range(x.shape[1]):
        e = np.zeros(x.shape[1]); e[k] = eps
        out[:, k] = (log_unnormalized(params, x + e) - log_unnormalized(params, x - e)) / (2 * eps)
    return out


# ---------------------------------------------------------------- models

@settings(max_examples=25)
@given(st.integers(1, 4), st.integers(1, 4), st.floats(0.01, 20), st.integers(0, 2**31))
def test_gbrbm_free_energy_sums_out_hidden(n_v, n_h, scale, seed):
    gb = _gbrbm(n_v, n_h, scale, seed)
    V = np.random.default_rng(seed + 1).normal(0, 3, (6, n_v))
    H = _states(n_h)
    brute = [logsumexp(-energy(gb, np.repeat(v[None], len(H), 0), H)) for v in V]
    np.testing.assert_allclose(-free_energy(gb, V), brute, rtol=1e-12, atol=1e-10)
    joint = np.array([-energy(gb, np.repeat(v[None], len(H), 0), H) for v in V])
    p_h = np.exp(joint - logsumexp(joint, axis=1)[:, None])
    np.testing.assert_allclose(hidden_probs(gb, V), p_h @ H, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("seed", range(4))
def test_scores_match_finite_differences(seed):
    x = np.random.default_rng(seed).normal(0, 1.5, (50, 3))
    for model in _models(3, seed):
        xs = x[np.all(np.abs(x @ model.B.T) > 1e-3, 1)] if isinstance(model, LaplaceICA) else x
        np.testing.assert_allclose(score(model, xs), _numerical_score(model, xs), rtol=1e-6, atol=1e-7)
        F, g = free_energy_and_grad(model, xs)
        np.testing.assert_allclose(F, free_energy(model, xs), rtol=1e-14, atol=1e-14)
        np.testing.assert_allclose(g, -score(model, xs), rtol=1e-13, atol=1e-13)


def test_param_gradients_match_finite_differences():
    x = np.random.default_rng(7).normal(0, 1.5, (20, 3))
    w = np.random.default_rng(8).uniform(0, 1, 20)
    for model in _models(3, 5):
        xs = x[np.all(np.abs(x @ model.B.T) > 1e-3, 1)] if isinstance(model, LaplaceICA) else x
        g = log_unnormalized_grad(model, xs, w[:len(xs)])
        assert type(g) is type(model)
        for k, (name, f) in enumerate(zip(model._fields, model)):
            if name == "sigma":
                assert not np.any(g.sigma)
                continue
            for idx in itertools.islice(np.ndindex(f.shape), 6):
                up, down = f.copy(), f.copy(); up[idx] += 1e-6; down[idx] -= 1e-6
                val = lambda ff: w[:len(xs)] @ log_unnormalized(model._replace(**{name: ff}), xs)
                assert g[k][idx] == pytest.approx((val(up) - val(down)) / 2e-6, rel=1e-5, abs=1e-6)
    # default weights: the mean over rows
    gb = _gbrbm(3, 2, 1.0, 1)
    a, b = log_unnormalized_grad(gb, x), log_unnormalized_grad(gb, x, np.full(20, 1 / 20))
    assert all(np.allclose(p, q, rtol=1e-14) for p, q in zip(a, b))


def test_gaussian_uses_the_symmetric_part_of_M():
    g = _gaussian(4, 3)
    K = np.triu(np.ones((4, 4)), 1); K = K - K.T
    x = np.random.default_rng(0).normal(size=(5, 4))
    g2 = g._replace(M=g.M + K)
    np.testing.assert_allclose(free_energy(g2, x), free_energy(g, x), rtol=1e-13)
    np.testing.assert_allclose(score(g2, x), score(g, x), rtol=1e-13)
    assert log_partition(g2) == pytest.approx(log_partition(g), rel=1e-13)


def test_sources_are_unit_variance_densities():
    for kind, law in ((ICA, stats.hypsecant(scale=2 / np.pi)), (LaplaceICA, stats.laplace(scale=2**-0.5))):
        m = kind(np.eye(1))
        s = np.linspace(-50, 50, 2001)
        np.testing.assert_allclose(source_log_prob(m, s), law.logpdf(s), rtol=1e-13, atol=1e-13)
        assert source_log_prob(m, 0.3).shape == ()
        var = integrate.quad(lambda t: t * t * np.exp(source_log_prob(m, t)), -60, 60, points=[0.0])[0]
        assert var == pytest.approx(1.0, abs=1e-9)
    ica = ICA(np.eye(1))
    s = np.linspace(-8, 8, 161)
    np.testing.assert_allclose(source_score_derivative(ica, s),
                               (source_score(ica, s + 1e-6) - source_score(ica, s - 1e-6)) / 2e-6, atol=1e-7)
    assert np.all(np.isfinite(source_score_derivative(ica, np.array([-1e6, 1e6]))))
    assert np.all(np.isfinite(source_log_prob(ica, np.array([-1e300, 1e300]))))


def test_visible_mean_and_init():
    gb = _gbrbm(4, 3, 1.0, 0)
    H = _states(3)
    np.testing.assert_allclose(visible_mean(gb, H), gb.b + gb.sigma * (H @ gb.W.T), rtol=1e-14)
    rbm = RBM(gb.W, gb.b, gb.c)
    assert np.all((visible_mean(rbm, H) > 0) & (visible_mean(rbm, H) < 1))
    g = init_gaussian_rbm(4, 3, rng=0, data=np.arange(8.0).reshape(2, 4), sigma=[1.0, 2.0, 3.0, 4.0])
    assert np.array_equal(g.b, [2.0, 3.0, 4.0, 5.0]) and np.array_equal(g.sigma, [1, 2, 3, 4])
    assert np.array_equal(init_gaussian_rbm(4, 3, rng=0).W, g.W)


def test_shared_checks_know_every_model():
    for model in _models(3, 0):
        assert n_visible(model) == 3
        assert type(check_params(model, MODELS)) is type(model)
        assert type(check_param_tuple(model)) is type(model)
        assert check_data(model, np.zeros((2, 3))).shape == (2, 3)
        with pytest.raises(TypeError, match="params must be BM or RBM"):
            check_params(model)            # the default is a binary model, so binary-only code refuses these
    assert CONTINUOUS_MODELS == (Gaussian, GaussianRBM, ICA, LaplaceICA)


G2 = _gaussian(2, 0)
GB = _gbrbm(3, 2, 1.0, 0)


@pytest.mark.parametrize("call, exc, match", [
    (lambda: free_energy(Gaussian(np.zeros(2), -np.eye(2)), np.zeros((1, 2))), ValueError, "params.M must be positive definite"),
    (lambda: free_energy(Gaussian(np.zeros(2), np.zeros((2, 3))), np.zeros((1, 2))), ValueError, r"params.M must have shape \(2, 2\)"),
    (lambda: free_energy(Gaussian(np.zeros(0), np.zeros((0, 0))), np.zeros((1, 0))), ValueError, "at least one component"),
    (lambda: score(Gaussian(np.zeros(2), np.array([[1.0, np.nan], [0.0, 1.0]])), np.zeros((1, 2))), ValueError, "params.M must be finite"),
    (lambda: score(GB._replace(sigma=np.array([1.0, 0.0, 1.0])), np.zeros((1, 3))), ValueError, "params.sigma must be positive"),
    (lambda: score(GB._replace(sigma=np.array([1.0, -2.0, 1.0])), np.zeros((1, 3))), ValueError, "params.sigma must be positive"),
    (lambda: score(GB._replace(sigma=np.array([1.0, np.nan, 1.0])), np.zeros((1, 3))), ValueError, "params.sigma must be finite"),
    (lambda: score(GB._replace(sigma=np.ones(2)), np.zeros((1, 3))), ValueError, "params.sigma must have shape"),
    (lambda: score(GB._replace(W=np.zeros((3, 5))), np.zeros((1, 3))), ValueError, "params.W must have shape"),
    (lambda: score(ICA(np.ones((2, 2))), np.zeros((1, 2))), ValueError, "params.B must be non-singular"),
    (lambda: score(LaplaceICA(np.zeros((2, 3))), np.zeros((1, 2))), ValueError, "square matrix"),
    (lambda: score(ICA(np.eye(2)), np.array([[0.0, np.inf]])), ValueError, "x must be finite"),
    (lambda: score(ICA(np.eye(2)), np.zeros(2)), ValueError, "x must be 2-dimensional"),
    (lambda: score(ICA(np.eye(2)), np.zeros((0, 2))), ValueError, "at least one sample"),
    (lambda: score(ICA(np.eye(2)), np.zeros((1, 3))), ValueError, "2 columns"),
    (lambda: score(ICA(np.eye(2)), [["a", "b"]]), TypeError, "x must be a real numeric array"),
    (lambda: score(RBM(np.zeros((2, 2)), np.zeros(2), np.zeros(2)), np.zeros((1, 2))), TypeError, "params must be Gaussian"),
    (lambda: energy(GB, np.zeros((1, 3))), TypeError, "h is required"),
    (lambda: energy(GB, np.zeros((1, 3)), np.full((1, 2), 0.5)), ValueError, "h must be binary"),
    (lambda: energy(G2, np.zeros((1, 2)), np.zeros((1, 2))), TypeError, "h must be None"),
    (lambda: hidden_probs(G2, np.zeros((1, 2))), TypeError, "params must be RBM or GaussianRBM"),
    (lambda: visible_mean(GB, np.full((1, 2), 0.3)), ValueError, "h must be binary"),
    (lambda: source_score_derivative(LaplaceICA(np.eye(2)), 0.0), TypeError, "smooth source density"),
    (lambda: source_log_prob(G2, 0.0), TypeError, "params must be ICA or LaplaceICA"),
    (lambda: log_unnormalized_grad(GB, np.zeros((2, 3)), np.ones(3)), ValueError, "weights must have one entry per row"),
    (lambda: init_gaussian_rbm(3, 2, sigma=0.0), ValueError, "sigma must be positive"),
    (lambda: init_gaussian_rbm(3, 2, sigma=[1.0, 2.0]), ValueError, "could not be broadcast|sigma"),
    (lambda: init_gaussian_rbm(3, 2, data=np.zeros((4, 2))), ValueError, "3 columns"),
    (lambda: init_gaussian_rbm(0, 2), ValueError, "n_visible must be an integer >= 1"),
])
def test_models_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ---------------------------------------------------------------- exact

@settings(max_examples=15)
@given(st.integers(1, 6), st.integers(1, 10), st.floats(0.01, 5.0), st.integers(0, 2**31))
def test_gbrbm_log_partition_matches_reference(n_v, n_h, scale, seed):
    gb = _gbrbm(n_v, n_h, scale, seed)
    ref = _gbrbm_log_partition_reference(gb)
    assert log_partition(gb) == pytest.approx(ref, rel=1e-11, abs=1e-11)


def test_log_partition_against_quadrature_1d():
    for model in (_gaussian(1, 0), _gbrbm(1, 3, 1.5, 1), ICA(np.array([[0.7]])), LaplaceICA(np.array([[1.3]]))):
        params = check_params(model, CONTINUOUS_MODELS)
        p = lambda t: np.exp(log_unnormalized(params, np.array([[t]]))[0] - log_partition(params))
        total = integrate.quad(p, -np.inf, 0, epsrel=1e-12)[0] + integrate.quad(p, 0, np.inf, epsrel=1e-12)[0]
        assert total == pytest.approx(1.0, abs=1e-11)


def test_gbrbm_identities():
    gb = _gbrbm(4, 3, 0.8, 2)
    flat = gb._replace(W=np.zeros((4, 3)))
    gauss = Gaussian(gb.b, np.diag(gb.sigma**-2.0))
    assert log_partition(flat) == pytest.approx(log_partition(gauss) + softplus(gb.c).sum(), rel=1e-13)
    H = _states(3)
    log_w = np.array([h @ gb.c + (gb.b / gb.sigma) @ gb.W @ h + 0.5 * np.sum((gb.W @ h) ** 2) for h in H])
    log_w -= logsumexp(log_w)
    x = np.random.default_rng(0).normal(0, 2, (10, 4))
    comp = np.array([stats.multivariate_normal(gb.b + gb.sigma * (gb.W @ h), np.diag(gb.sigma**2)).logpdf(x)
                     for h in H])
    exact = [log_likelihood(gb, xi[None]) for xi in x]
    np.testing.assert_allclose(exact, logsumexp(log_w[:, None] + comp, axis=0), rtol=1e-12)
    bm, offset = hidden_marginal(gb)
    assert log_partition(gb) == pytest.approx(log_partition(bm) + offset, rel=1e-14)


def test_exact_log_likelihood_gaussian_equals_scipy():
    g = _gaussian(3, 4)
    x = np.random.default_rng(1).normal(size=(8, 3))
    assert log_likelihood(g, x) == pytest.approx(
        stats.multivariate_normal(g.mu, np.linalg.inv(g.M)).logpdf(x).mean(), rel=1e-12)
    ica = ICA(np.random.default_rng(2).normal(size=(3, 3)))
    law = stats.hypsecant(scale=2 / np.pi)
    assert log_likelihood(ica, x) == pytest.approx(
        np.mean(law.logpdf(x @ ica.B.T).sum(1)) + np.linalg.slogdet(ica.B)[1], rel=1e-12)


def test_exact_samples_goodness_of_fit():
    g = _gaussian(3, 5)
    d = sample(g, 5000, rng=0) - g.mu
    assert stats.kstest(np.einsum("si,ij,sj->s", d, g.M, d), stats.chi2(3).cdf).pvalue > 0.01
    B = np.random.default_rng(1).normal(size=(3, 3))
    for kind, law in ((ICA, stats.hypsecant(scale=2 / np.pi)), (LaplaceICA, stats.laplace(scale=2**-0.5))):
        s = sample(kind(B), 5000, rng=2) @ B.T
        assert min(stats.kstest(s[:, i], law.cdf).pvalue for i in range(3)) > 0.01
    gb = _gbrbm(3, 4, 0.8, 3)
    V, H = sample(gb, 5000, rng=4, return_hidden=True)
    bm, _ = hidden_marginal(gb)
    log_p = -free_energy(bm, _states(4)); log_p -= logsumexp(log_p)
    counts = np.bincount((H @ 2 ** np.arange(3, -1, -1)).astype(int), minlength=16)
    assert _chi_square_p(counts, 5000 * np.exp(log_p)) > 0.01
    z = (V - visible_mean(gb, H)) / gb.sigma              # given h, v is normal
    assert stats.kstest(z.ravel(), stats.norm.cdf).pvalue > 0.01
    assert np.array_equal(sample(gb, 5, rng=9), sample(gb, 5, rng=9))


@pytest.mark.parametrize("call, exc, match", [
    (lambda: log_partition(_gbrbm(3, 28, 0.1, 0)), ValueError, "2\\^28"),
    (lambda: log_partition(GB, max_states=2), ValueError, "max_states = 2"),
    (lambda: log_partition(GB, max_states=0), ValueError, "max_states must be an integer"),
    (lambda: sample(_gbrbm(2, 21, 0.1, 0), 3), ValueError, "2\\^21"),
    (lambda: sample(G2, 0), ValueError, "n must be an integer >= 1"),
    (lambda: sample(G2, 2.0), TypeError, "n must be an integer"),
    (lambda: sample(ICA(np.eye(2)), 3, return_hidden=True), TypeError, "return_hidden applies to a GaussianRBM"),
    (lambda: log_likelihood(GB, np.full((1, 3), np.nan)), ValueError, "data must be finite"),
    (lambda: log_likelihood(GB, np.zeros((1, 4))), ValueError, "3 columns"),
    (lambda: log_partition(ICA(np.zeros((2, 2)))), ValueError, "params.B must be non-singular"),
])
def test_exact_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ---------------------------------------------------------------- Gibbs for the Gaussian-Bernoulli RBM

def _uniforms_of(states):
    st_ = states.copy()
    def uniforms(m):
        out = np.empty((st_.shape[0], m))
        _fill_uniform(st_, out)
        return out
    return uniforms


@pytest.mark.parametrize("n_v, n_h, n_chains, k", [(7, 5, 40, 3), (6, 4, 16, 1), (1, 1, 3, 2), (20, 9, 33, 0),
                                                     (64, 20, 50, 5), (301, 120, 64, 2)])
def test_gbrbm_gibbs_kernel_equals_reference(n_v, n_h, n_chains, k):
    if n_v == 301:                                          # both products in two tiles, the visible one's second odd
        assert list(_rbm_grid(n_chains, n_v, n_h)[:4]) == [1, 2, 1, 2]
    gb = _gbrbm(n_v, n_h, 0.5 if n_v < 100 else 0.1, n_v)
    v0 = np.random.default_rng(1).normal(0, 2, (n_chains, n_v))
    ref = _gbrbm_gibbs_numpy(gb, v0, k, _uniforms_of(rng_states(11, n_chains)))
    got = gaussian_rbm_gibbs(gb, v0, k, rng=11)
    assert np.array_equal(got.h, ref.h)
    np.testing.assert_allclose(got.v, ref.v, rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(got.hidden_probs, ref.hidden_probs, rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("n_v, n_h, n_chains", [(30, 12, 53), (301, 120, 64)])
def test_gbrbm_gibbs_serial_and_parallel_paths_agree(monkeypatch, n_v, n_h, n_chains):
    gb = _gbrbm(n_v, n_h, 0.3 if n_v < 100 else 0.1, 0)
    v0 = np.random.default_rng(2).normal(size=(n_chains, n_v))
    out = {}
    for name, limit in (("serial", 2**62), ("parallel", 0)):
        monkeypatch.setattr(mcmc, "PARALLEL_MIN_WORK", limit)
        out[name] = gaussian_rbm_gibbs(gb, v0, 4, rng=3)
    assert all(np.array_equal(a, b) for a, b in zip(out["serial"], out["parallel"]))


def test_gbrbm_gibbs_identical_for_1_2_16_threads():
    script = textwrap.dedent("""
        import numpy as np, sys
        from ebm_literate.mcmc import gaussian_rbm_gibbs
        from ebm_literate.models import GaussianRBM
        r = np.random.default_rng(0)                     # 3 tiles per product: 3 row blocks, then 3 unit blocks
        gb = GaussianRBM(r.normal(0, 0.1, (301, 100)), r.normal(size=301), r.normal(size=100), r.uniform(0.5, 2, 301))
        res = gaussian_rbm_gibbs(gb, r.normal(size=(128, 301)), 5, rng=7)
        sys.stdout.write(np.concatenate([res.v.ravel(), res.h.ravel(), res.hidden_probs.ravel()]).tobytes().hex())
    """)
    outs = []
    for n in (1, 2, 16):
        env = dict(os.environ, NUMBA_NUM_THREADS=str(n))
        outs.append(subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                                   check=True, timeout=300).stdout)
    assert outs[0] and outs[0] == outs[1] == outs[2]


def test_gbrbm_gibbs_reaches_exact_distribution_and_leaves_input():
    gb = _gbrbm(3, 4, 0.8, 3)
    v0 = np.full((5000, 3), 4.0); v_copy = v0.copy()
    res = gaussian_rbm_gibbs(gb, v0, 400, rng=1)           # this model mixes slowly: 25 sweeps are not enough
    assert np.array_equal(v0, v_copy)
    bm, _ = hidden_marginal(gb)
    log_p = -free_energy(bm, _states(4)); log_p -= logsumexp(log_p)
    counts = np.bincount((res.h @ 2 ** np.arange(3, -1, -1)).astype(int), minlength=16)
    assert _chi_square_p(counts, 5000 * np.exp(log_p)) > 0.01
    r0 = gaussian_rbm_gibbs(gb, v0[:4], 0, rng=0)
    assert np.array_equal(r0.v, v0[:4])
    np.testing.assert_allclose(r0.hidden_probs, hidden_probs(gb, v0[:4]), rtol=1e-13)


@pytest.mark.parametrize("call, exc, match", [
    (lambda: gaussian_rbm_gibbs(GB, np.zeros((2, 4)), 1), ValueError, "3 columns"),
    (lambda: gaussian_rbm_gibbs(GB, np.full((2, 3), np.inf), 1), ValueError, "v must be finite"),
    (lambda: gaussian_rbm_gibbs(GB, np.zeros((2, 3)), -1), ValueError, "k must be an integer >= 0"),
    (lambda: gaussian_rbm_gibbs(GB, np.zeros((2, 3)), True), TypeError, "k must be an integer"),
    (lambda: gaussian_rbm_gibbs(GB, np.zeros((2, 3)), 1, rng="x"), TypeError, "rng must be"),
    (lambda: gaussian_rbm_gibbs(RBM(GB.W, GB.b, GB.c), np.zeros((2, 3)), 1), TypeError, "params must be GaussianRBM"),
    (lambda: gaussian_rbm_gibbs(GB._replace(sigma=-GB.sigma), np.zeros((2, 3)), 1), ValueError, "params.sigma"),
])
def test_gbrbm_gibbs_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ---------------------------------------------------------------- Langevin and HMC

def test_mala_is_hmc_with_one_leapfrog_step():
    x0 = np.random.default_rng(0).normal(0, 3, (300, 2))
    for target in (G2, GB, ICA(np.array([[1.0, 0.3], [0.2, 1.0]]))):
        x = x0 if n_visible(target) == 2 else np.random.default_rng(0).normal(0, 3, (300, 3))
        a, b = langevin(target, x, 20, 0.5, rng=4), hmc(target, x, 20, 0.5, n_leapfrog=1, rng=4)
        np.testing.assert_allclose(a.x, b.x, rtol=1e-11, atol=1e-11)
        assert np.array_equal(a.accept_rate, b.accept_rate)


def test_samplers_fit_a_gaussian_and_ula_is_biased_as_predicted():
    g = Gaussian(np.array([1.0, -1.0]), np.linalg.inv([[1.0, 0.8], [0.8, 2.0]]))
    x0 = np.random.default_rng(1).normal(0, 3, (3000, 2))
    for run in (langevin(g, x0, 150, 0.8, rng=2), hmc(g, x0, 40, 0.3, n_leapfrog=10, rng=3)):
        d = run.x - g.mu
        assert stats.kstest(np.einsum("si,ij,sj->s", d, g.M, d), stats.chi2(2).cdf).pvalue > 0.01
    ula = langevin(g, x0, 150, 0.8, rng=4, adjust=False)
    lam, vecs = np.linalg.eigh(g.M)
    predicted = 1 / (lam * (1 - 0.64 * lam / 4))
    measured = np.var((ula.x - g.mu) @ vecs, axis=0)
    assert np.all(np.abs(measured - predicted) < 4 * predicted * np.sqrt(2 / 2999))


def test_samplers_accept_any_energy_function():
    mix = GaussianMixture(np.array([0.6, 0.4]), np.array([[-1.5, 0.0], [1.5, 0.5]]),
                          np.array([np.eye(2) * 0.5, np.eye(2) * 0.4]))
    f = lambda x: (-mixture_log_prob(mix, x), -mixture_score(mix, x))
    run = hmc(f, np.random.default_rng(5).normal(0, 2, (3000, 2)), 100, 0.3, n_leapfrog=8, rng=6)
    cdf = lambda t: sum(w * stats.norm.cdf(t, m[0], np.sqrt(C[0, 0])) for w, m, C in zip(*mix))
    assert stats.kstest(run.x[:, 0], cdf).pvalue > 0.01


def test_sampler_results_trace_and_edge_cases():
    x = np.random.default_rng(0).normal(size=(6, 2)); x_copy = x.copy()
    r = hmc(G2, x, 9, 0.2, rng=1, thin=3)
    assert np.array_equal(x, x_copy) and r.trace.shape == (3, 6, 2) and np.array_equal(r.trace[-1], r.x)
    np.testing.assert_allclose(r.energy, free_energy(G2, r.x), rtol=1e-13)
    assert langevin(G2, x, 3, 0.2, rng=1).trace is None
    assert np.isnan(langevin(G2, x, 0, 0.2).accept_rate).all()
    assert np.all(langevin(G2, x, 4, 0.2, rng=0, adjust=False).accept_rate == 1.0)
    assert np.array_equal(langevin(G2, x, 5, 0.3, rng=7).x, langevin(G2, x, 5, 0.3, rng=7).x)
    cliff = lambda y: (np.where(y[:, 0] > 0.5, np.inf, 0.5 * np.sum(y**2, 1)), y)
    assert np.all(hmc(cliff, np.zeros((40, 2)), 10, 0.5, rng=2).x[:, 0] <= 0.5)
    assert np.all(langevin(cliff, np.zeros((40, 2)), 10, 0.5, rng=2).x[:, 0] <= 0.5)


@pytest.mark.parametrize("call, exc, match", [
    (lambda: langevin("model", np.zeros((2, 2)), 1, 0.1), TypeError, "target must be a continuous model"),
    (lambda: langevin(RBM(np.zeros((2, 2)), np.zeros(2), np.zeros(2)), np.zeros((2, 2)), 1, 0.1), TypeError,
     "params must be Gaussian"),
    (lambda: langevin(lambda x: (x[:, 0], x[:, :1]), np.zeros((2, 2)), 1, 0.1), ValueError, "target must return"),
    (lambda: hmc(lambda x: (x, x), np.zeros((2, 2)), 1, 0.1), ValueError, "target must return"),
    (lambda: langevin(G2, np.zeros((2, 3)), 1, 0.1), ValueError, "2 columns"),
    (lambda: hmc(lambda x: (x.sum(1), x), np.full((2, 2), np.nan), 1, 0.1), ValueError, "x must be finite"),
    (lambda: hmc(lambda x: (x.sum(1), x), np.zeros((0, 2)), 1, 0.1), ValueError, "at least one chain"),
    (lambda: hmc(lambda x: (np.full(len(x), np.nan), x), np.zeros((2, 2)), 1, 0.1), ValueError, "finite energy"),
    (lambda: hmc(G2, np.zeros((2, 2)), 1, -0.1), ValueError, "step_size"),
    (lambda: hmc(G2, np.zeros((2, 2)), 1, np.inf), ValueError, "step_size"),
    (lambda: hmc(G2, np.zeros((2, 2)), -1, 0.1), ValueError, "n_steps"),
    (lambda: hmc(G2, np.zeros((2, 2)), 1, 0.1, n_leapfrog=0), ValueError, "n_leapfrog"),
    (lambda: hmc(G2, np.zeros((2, 2)), 1, 0.1, thin=0), ValueError, "thin"),
    (lambda: langevin(G2, np.zeros((2, 2)), 1, 0.1, adjust="no"), TypeError, "adjust must be True or False"),
    (lambda: langevin(G2, np.ones((2, 2)), 300, 10.0, adjust=False), ValueError, "diverged.*step_size = 10.0"),
])
def test_sampler_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ---------------------------------------------------------------- data

def test_continuous_data():
    X = load_digits_continuous()
    assert X.shape == (1797, 64) and X.min() >= 0 and X.max() < 1
    assert np.array_equal(load_digits_continuous(rng=0), X) and not np.array_equal(load_digits_continuous(rng=1), X)
    s = standardize(X)
    np.testing.assert_allclose(s.z.std(0), 1, rtol=1e-12)
    assert s.log_jacobian == pytest.approx(-np.log(s.std).sum())
    with pytest.raises(ValueError, match="std must be positive"):
        standardize(np.ones((4, 2)))
    ring = ring_of_gaussians(6, 2.0, 0.3)
    x = mixture_sample(ring, 2000, rng=0)
    assert x.shape == (2000, 2) and np.allclose(np.linalg.norm(ring.means, axis=1), 2.0)
    p = sum(w * stats.multivariate_normal(m, C).pdf(x[:50]) for w, m, C in zip(*ring))
    np.testing.assert_allclose(mixture_log_prob(ring, x[:50]), np.log(p), rtol=1e-12)
    e = np.array([1e-6, 0.0])
    fd = (mixture_log_prob(ring, x[:50] + e) - mixture_log_prob(ring, x[:50] - e)) / 2e-6
    np.testing.assert_allclose(mixture_score(ring, x[:50])[:, 0], fd, rtol=1e-6, atol=1e-8)
    assert two_moons(100, rng=0).shape == (100, 2)
    assert np.array_equal(teacher_samples(GB, 7, rng=3), sample(GB, 7, rng=3))           # continuous teachers too
    with pytest.raises(ValueError, match="mix.weights"):
        mixture_log_prob(ring._replace(weights=np.ones(6)), x)
