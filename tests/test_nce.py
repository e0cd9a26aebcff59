"""Noise-contrastive estimation: the kernels against the NumPy reference and brute force, gradients, the population
optimum, binary and real-valued noise distributions, the principle in the training loop and L-BFGS, bad input."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import stats

from ebm_literate import exact
from ebm_literate.exact import binary_states
from ebm_literate.gradient import flatten_params, unflatten_params
from ebm_literate.models import BM, ICA, RBM, Gaussian, GaussianRBM, LaplaceICA, energy, init_bm, init_rbm
from ebm_literate.nce import (NCE, BernoulliMixtureNoise, BernoulliNoise, ContinuousModelNoise, ContinuousNoise,
                              GaussianNoise, ModelNoise, NormalizedBM, NormalizedLaplaceICA, NormalizedRBM,
                              _nce, _nce_reference, data_probability, model_part, nce_value_and_grad, normalized)
from ebm_literate.training import TrainingDiverged, fit_lbfgs, train


def random_bm(n, scale, rng):
    A = np.triu(rng.normal(0, scale, (n, n)), 1)
    return BM(A + A.T, rng.normal(0, scale, n))


def random_rbm(n_v, n_h, scale, rng):
    return RBM(rng.normal(0, scale, (n_v, n_h)), rng.normal(0, scale, n_v), rng.normal(0, scale, n_h))


def random_model(kind, n, n_h, scale, seed):
    rng = np.random.default_rng(seed)
    return random_bm(n, scale, rng) if kind == "bm" else random_rbm(n, n_h, scale, rng)


models = st.tuples(st.sampled_from(["bm", "rbm"]), st.integers(1, 9), st.integers(1, 40),
                   st.sampled_from([0.01, 0.5, 2.0, 30.0]), st.integers(0, 2**31 - 1))


def samples(n, m, k, seed):
    rng = np.random.default_rng(seed)
    noise = BernoulliNoise(rng.uniform(0.05, 0.95, n))
    return (rng.random((m, n)) < 0.4).astype(float), noise.sample(k, rng), noise


# ---- the kernel against the reference, the reference against brute force ---------------------------------------

@settings(max_examples=40)
@given(models, st.integers(1, 25), st.integers(1, 60), st.floats(-30, 30))
def test_kernel_matches_reference(model, m, k, c):
    kind, n, n_h, scale, seed = model
    params = normalized(random_model(kind, n, n_h, scale, seed), c)
    X, Y, noise = samples(n, m, k, seed + 1)
    lp_x, lp_y = noise.log_prob(X), noise.log_prob(Y)
    value, grads = _nce_reference(params, X, Y, lp_x, lp_y)
    fast = _nce(params, np.concatenate([X, Y]), m, np.concatenate([lp_x, lp_y]))
    assert abs(fast.value - value) <= 1e-11 * max(1.0, abs(value))
    for f, r in zip(fast.grads, grads):
        np.testing.assert_allclose(f, r, rtol=1e-10, atol=1e-13)
    assert _nce(params, np.concatenate([X, Y]), m, np.concatenate([lp_x, lp_y]), want_grad=False).value == fast.value


@pytest.mark.parametrize("kind", ["bm", "rbm"])
def test_reference_matches_definition(kind):
    model = random_model(kind, 5, 3, 1.0, 1)
    params, (X, Y, noise) = normalized(model, -2.5), samples(5, 30, 45, 2)
    if kind == "bm":
        p_tilde = np.exp(-energy(model, np.concatenate([X, Y])))
    else:
        H = binary_states(0, 8, 3)
        p_tilde = np.array([np.exp(-energy(model, np.repeat(u[None], 8, 0), H)).sum() for u in np.concatenate([X, Y])])
    p_m, p_n = p_tilde * np.exp(-2.5), np.exp(noise.log_prob(np.concatenate([X, Y])))
    h = p_m / (p_m + 1.5 * p_n)
    brute = (np.log(h[:30]).sum() + np.log(1 - h[30:]).sum()) / 30
    assert abs(nce_value_and_grad(params, X, Y, noise).value - brute) < 1e-12
    np.testing.assert_allclose(data_probability(params, X, noise, nu=1.5), h[:30], rtol=1e-12)


@pytest.mark.parametrize("kind", ["bm", "rbm"])
def test_gradient_finite_differences(kind):
    model = random_model(kind, 5, 3, 1.0, 3)
    params, (X, Y, noise) = normalized(model, -3.0), samples(5, 40, 60, 4)
    f = lambda p: nce_value_and_grad(p, X, Y, noise)
    theta = flatten_params(params)                       # a NormalizedBM's couplings once, as for a BM
    assert theta.size == flatten_params(model).size + 1
    at = lambda t: unflatten_params(t, params)
    fd = np.array([(f(at(theta + 1e-6 * e)).value - f(at(theta - 1e-6 * e)).value) / 2e-6 for e in np.eye(theta.size)])
    g = f(params).grads
    np.testing.assert_allclose(flatten_params(g), fd, atol=1e-8)   # per coupling, like every principle
    if kind == "bm":
        assert np.array_equal(g.W, g.W.T) and not np.diag(g.W).any()



@pytest.mark.parametrize("kind", ["bm", "rbm"])
def test_population_optimum_is_the_data_with_c_minus_log_z(kind):
    rng = np.random.default_rng(5)
    teacher = random_bm(5, 1.0, rng) if kind == "bm" else random_rbm(5, 2, 1.0, rng)
    S, log_p = exact.log_probs(teacher)
    noise, nu = BernoulliNoise(rng.uniform(0.2, 0.8, 5)), 2.0
    # rows weighted by p_d (data) and nu p_n (noise) give the population gradient: repeat each state in proportion
    params = normalized(teacher, -exact.log_partition(teacher))
    logit = exact.log_probs(teacher)[1] - noise.log_prob(S) - np.log(nu)     # log p_m - log p_n - log nu, p_m = p_d
    w = np.concatenate([np.exp(log_p) / (1 + np.exp(logit)), -nu * np.exp(noise.log_prob(S)) / (1 + np.exp(-logit))])
    assert abs(w.sum()) < 1e-14                          # dJ/dc = 0 at c = -log Z
    # and through the public function: a large sample drawn with p_d and p_n gives a gradient near zero
    X, Y = exact.sample(teacher, 200_000, rng), noise.sample(400_000, rng)
    g = nce_value_and_grad(params, X, Y, noise).grads
    assert np.abs(flatten_params(g)).max() < 0.01


# ---- noise distributions -------------------------------------------------------------------------------------

def test_noise_distributions_are_normalized_and_sample_what_they_claim():
    rng = np.random.default_rng(6)
    S = binary_states(0, 64, 6)
    X = exact.sample(random_rbm(6, 2, 1.5, rng), 2000, rng)
    for noise in (BernoulliNoise.uniform(6), BernoulliNoise.from_data(X), BernoulliMixtureNoise.fit(X, 3, rng=0),
                  ModelNoise(random_rbm(6, 2, 1.0, rng)), ModelNoise(random_bm(6, 1.0, rng))):
        p = np.exp(noise.log_prob(S))
        assert abs(p.sum() - 1) < 1e-12
        freq = np.bincount((noise.sample(100_000, rng) @ 2.0 ** np.arange(5, -1, -1)).astype(int), minlength=64) / 1e5
        assert np.max(np.abs(freq - p) / np.sqrt(p * (1 - p) / 1e5)) < 5
    wide = ModelNoise(random_rbm(4, 7, 1.0, rng))        # lists the visible layer
    assert abs(np.exp(wide.log_prob(binary_states(0, 16, 4))).sum() - 1) < 1e-12


def test_from_data_keeps_means_off_zero_and_one():
    X = np.zeros((8, 3)); X[:, 1] = 1; X[:4, 2] = 1
    p = BernoulliNoise.from_data(X).p
    np.testing.assert_allclose(p, [0.1, 0.9, 0.5])
    assert np.all(np.isfinite(BernoulliNoise.from_data(X).log_prob(1 - X)))


def test_sampling_is_reproducible_from_the_seed():
    noise = BernoulliMixtureNoise([0.3, 0.7], [[0.1, 0.9], [0.5, 0.5]])
    assert np.array_equal(noise.sample(50, 3), noise.sample(50, 3))


# ---- the principle ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["bm", "rbm"])
def test_lbfgs_converges_and_train_runs(kind):
    rng = np.random.default_rng(7)
    teacher = random_bm(6, 0.5, rng) if kind == "bm" else random_rbm(6, 2, 1.0, rng)
    X = exact.sample(teacher, 2000, rng)
    noise = BernoulliMixtureNoise([0.5, 0.5], [np.full(6, 0.5), X.mean(axis=0)])
    nce = NCE(noise, nu=2)
    start = normalized(init_bm(6, data=X) if kind == "bm" else init_rbm(6, 2, rng=0, scale=0.1, data=X))
    fit = fit_lbfgs(nce, start, X)
    assert fit.converged and type(fit.params) is type(start)
    assert np.abs(flatten_params(nce.value_and_grad(fit.params, X).grads)).max() < 1e-6
    res = train(start, X, nce, n_epochs=3, batch_size=50, learning_rate=0.1, rng=0)
    assert type(res.params) is type(start) and res.state is None
    if kind == "bm":
        assert np.array_equal(res.params.W, res.params.W.T) and not np.diag(res.params.W).any()


def test_fixed_noise_is_deterministic_and_grad_fresh():
    rng = np.random.default_rng(8)
    params = normalized(random_rbm(5, 2, 1.0, rng), -3.0)
    X = (rng.random((20, 5)) < 0.5).astype(float)
    nce = NCE(BernoulliNoise.uniform(5), nu=3, seed=4)
    a, b = nce.value_and_grad(params, X), nce.value_and_grad(params, X)
    assert a.value == b.value == nce.objective(params, X)
    assert nce._fixed_noise(20)[0].shape == (60, 5)
    g1, g2, g3 = (nce.grad(params, X, rng=r)[0] for r in (1, 1, 2))
    assert all(np.array_equal(p, q) for p, q in zip(g1, g2)) and not np.array_equal(g1.W, g3.W)


def test_diverging_training_keeps_last_good_parameters():
    rng = np.random.default_rng(9)
    params = normalized(random_rbm(5, 2, 1.0, rng))
    X = (rng.random((20, 5)) < 0.5).astype(float)
    with pytest.raises(TrainingDiverged) as e, np.errstate(over="ignore", invalid="ignore"):
        train(params, X, NCE(BernoulliNoise.uniform(5)), n_steps=50, batch_size=10, learning_rate=1e308,
              momentum=0.9, rng=0)
    assert type(e.value.params) is NormalizedRBM and all(np.all(np.isfinite(f)) for f in e.value.params)


# ---- bad input ----------------------------------------------------------------------------------------------

def test_bad_input_is_refused_with_clear_messages():
    rng = np.random.default_rng(10)
    rbm = random_rbm(4, 2, 1.0, rng)
    params, X = normalized(rbm), (rng.random((10, 4)) < 0.5).astype(float)
    noise = BernoulliNoise.uniform(4)
    nce = NCE(noise)
    with pytest.raises(TypeError, match="normalized"):
        nce.grad(rbm, X)
    with pytest.raises(TypeError, match="normalized"):
        nce.check_state(rbm, None)
    with pytest.raises(ValueError, match="log_norm must have shape"):
        nce.objective(params._replace(log_norm=np.zeros(3)), X)
    with pytest.raises(ValueError, match="log_norm must be finite"):
        nce.objective(params._replace(log_norm=np.array([np.inf])), X)
    with pytest.raises(ValueError, match="params.W"):
        nce.value_and_grad(params._replace(W=np.zeros((3, 2))), X)
    with pytest.raises(ValueError, match="symmetric"):
        NCE(noise).grad(NormalizedBM(np.triu(np.ones((4, 4)), 1), np.zeros(4), np.zeros(1)), X)
    with pytest.raises(ValueError, match="over 4 variables"):
        NCE(BernoulliNoise.uniform(5)).grad(params, X)
    with pytest.raises(ValueError, match="binary"):
        nce.grad(params, X * 0.5)
    with pytest.raises(ValueError, match="binary"):
        train(params, X * 0.5, nce, n_steps=1, batch_size=5)
    with pytest.raises(ValueError, match="probability zero to batch"):
        NCE(BernoulliNoise([0.0, 0.5, 0.5, 0.5])).grad(params, np.ones((3, 4)))
    with pytest.raises(ValueError, match="probability zero to data"):
        nce_value_and_grad(params, np.ones((3, 4)), np.zeros((3, 4)), BernoulliNoise([0.0, 0.5, 0.5, 0.5]))
    with pytest.raises(ValueError, match="noise_samples must be binary"):
        nce_value_and_grad(params, X, X * 0.5, noise)
    with pytest.raises(TypeError, match="state must be None"):
        nce.grad(params, X, state=object())
    with pytest.raises(TypeError, match="noise must be a noise distribution"):
        NCE(np.full(4, 0.5))
    for bad in (0, -1.0, np.nan, True):
        with pytest.raises((ValueError, TypeError), match="nu"):
            NCE(noise, nu=bad)
    with pytest.raises(ValueError, match="seed"):
        NCE(noise, seed=-2)
    with pytest.raises(ValueError, match="at most 20 units"):
        ModelNoise(random_rbm(30, 21, 0.1, rng))
    with pytest.raises(ValueError, match="weights"):
        BernoulliMixtureNoise([0.2, 0.2], [[0.5], [0.5]])
    with pytest.raises(ValueError, match="probs must lie"):
        BernoulliMixtureNoise([1.0], [[1.2]])
    with pytest.raises(ValueError, match="probs must have shape"):
        BernoulliMixtureNoise([0.5, 0.5], [[0.5, 0.5]])
    with pytest.raises(ValueError, match="n_components"):
        BernoulliMixtureNoise.fit(X, 11)
    with pytest.raises(TypeError, match="rng"):
        noise.sample(3, rng="a")
    with pytest.raises(ValueError, match="params.c must have"):   # the kernel's own guard, behind the checks
        _nce(params._replace(c=np.zeros(1)), np.concatenate([X, X]), 10, np.zeros(20))


# ---- continuous models -------------------------------------------------------------------------------------------

def continuous_model(kind, seed, n=3):
    rng = np.random.default_rng(seed)
    B = np.eye(n) + 0.3 * rng.normal(size=(n, n))
    if kind == "laplace":
        return LaplaceICA(B)
    if kind == "sech":
        return ICA(B)
    if kind == "gauss":
        return Gaussian(rng.normal(size=n), B @ B.T)
    return GaussianRBM(rng.normal(size=(n, 2)), rng.normal(size=n), rng.normal(size=2), rng.uniform(0.7, 1.3, n))


def continuous_density(model):
    "p~ from SciPy's densities, or a GB-RBM's sum of exp(-E(v, h)) over h"
    if isinstance(model, (ICA, LaplaceICA)):
        src = stats.hypsecant(scale=2 / np.pi) if isinstance(model, ICA) else stats.laplace(scale=2 ** -0.5)
        return lambda U: np.prod(src.pdf(U @ model.B.T), axis=1)
    if isinstance(model, Gaussian):
        return lambda U: np.exp(-0.5 * np.einsum("si,ij,sj->s", U - model.mu, model.M, U - model.mu))
    H = binary_states(0, 2 ** model.c.shape[0], model.c.shape[0])
    return lambda U: np.array([np.exp(-energy(model, np.repeat(u[None], len(H), 0), H)).sum() for u in U])


KINDS = ["laplace", "sech", "gauss", "gbrbm"]


@pytest.mark.parametrize("kind", KINDS)
def test_continuous_objective_matches_definition(kind):
    model = continuous_model(kind, 1)
    params, rng = normalized(model, -1.5), np.random.default_rng(2)
    X = exact.sample(model, 30, rng)
    noise = GaussianNoise.from_data(X)
    Y = noise.sample(45, rng)
    p_m = lambda U: continuous_density(model)(U) * np.exp(-1.5)
    p_n = stats.multivariate_normal(noise.mean, noise.cov).pdf
    h = lambda U: p_m(U) / (p_m(U) + 1.5 * p_n(U))
    brute = (np.log(h(X)).sum() + np.log(1 - h(Y)).sum()) / 30
    assert abs(nce_value_and_grad(params, X, Y, noise).value - brute) < 1e-11 * abs(brute)
    np.testing.assert_allclose(data_probability(params, X, noise, nu=1.5), h(X), rtol=1e-11)


@pytest.mark.parametrize("kind", KINDS)
def test_continuous_gradient_finite_differences(kind):
    params, rng = normalized(continuous_model(kind, 3), -2.0), np.random.default_rng(4)
    X = exact.sample(model_part(params), 40, rng)
    noise = GaussianNoise.from_data(X)
    Y = noise.sample(70, rng)
    f = lambda p: nce_value_and_grad(p, X, Y, noise)
    theta = flatten_params(params)
    at = lambda t: unflatten_params(t, params)
    fd = np.array([(f(at(theta + 1e-6 * e)).value - f(at(theta - 1e-6 * e)).value) / 2e-6 for e in np.eye(theta.size)])
    g = f(params).grads
    learned = np.ones(theta.size, dtype=bool)
    if kind == "gbrbm":                                   # sigma is fixed: its gradient is zero
        learned[unflatten_params(np.arange(theta.size, dtype=float), params).sigma.astype(int)] = False
        assert not g.sigma.any()
    np.testing.assert_allclose(flatten_params(g)[learned], fd[learned], atol=1e-7)


@settings(max_examples=30)
@given(st.sampled_from(["laplace", "gbrbm"]), st.integers(1, 6), st.integers(1, 50), st.integers(1, 80),
       st.floats(-40, 40), st.integers(0, 2**31 - 1))
def test_continuous_kernels_match_reference(kind, n, m, k, c, seed):
    params = normalized(continuous_model(kind, seed, n), c)
    rng = np.random.default_rng(seed)
    X = rng.laplace(size=(m, n)) * 3
    noise = GaussianNoise(np.zeros(n), np.eye(n) * 2.0)
    Y = noise.sample(k, rng)
    lp_x, lp_y = noise.log_prob(X), noise.log_prob(Y)
    value, grads = _nce_reference(params, X, Y, lp_x, lp_y)
    fast = _nce(params, np.concatenate([X, Y]), m, np.concatenate([lp_x, lp_y]))
    assert abs(fast.value - value) <= 1e-11 * max(1.0, abs(value))
    for f, r in zip(fast.grads, grads):
        np.testing.assert_allclose(f, r, rtol=1e-10, atol=1e-12)


def test_gaussian_noise_matches_scipy_and_its_samples():
    rng = np.random.default_rng(5)
    mean, cov = np.array([1.0, -2.0, 0.5]), np.array([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 0.5]])
    noise = GaussianNoise(mean, cov)
    U = rng.normal(size=(20, 3)) * 3
    np.testing.assert_allclose(noise.log_prob(U), stats.multivariate_normal(mean, cov).logpdf(U), rtol=1e-12)
    Y = noise.sample(200_000, rng)
    assert np.all(np.abs(Y.mean(axis=0) - mean) < 5 * np.sqrt(np.diag(cov) / 2e5))
    se = np.sqrt((cov**2 + np.outer(np.diag(cov), np.diag(cov))) / 2e5)
    assert np.all(np.abs(np.cov(Y, rowvar=False) - cov) < 5 * se)
    fitted = GaussianNoise.from_data(Y)
    np.testing.assert_allclose(fitted.cov, np.cov(Y, rowvar=False, bias=True), rtol=1e-12)
    assert np.array_equal(fitted.cov, fitted.cov.T)
    ica = ContinuousModelNoise(LaplaceICA([[1.0, 0.4], [0.2, 1.5]]))       # an ICA model as noise, normalized
    g = np.linspace(-15, 15, 1501)
    G = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    assert abs(np.exp(ica.log_prob(G)).sum() * (g[1] - g[0]) ** 2 - 1) < 1e-4


def test_nce_learns_c_for_ica_and_gbrbm_by_lbfgs():
    rng = np.random.default_rng(6)
    B_true = np.eye(3) + 0.3 * rng.normal(size=(3, 3))
    X = exact.sample(LaplaceICA(B_true), 4000, rng)
    noise = GaussianNoise.from_data(X)
    fit = fit_lbfgs(NCE(noise, nu=1), normalized(LaplaceICA(np.linalg.inv(np.linalg.cholesky(noise.cov)))), X)
    assert fit.converged
    B = fit.params.B
    assert abs(fit.params.log_norm[0] - np.linalg.slogdet(B)[1]) < 0.05      # c = -log Z(B-hat) = log|det B-hat|
    gb = continuous_model("gbrbm", 7)
    Xg = exact.sample(gb, 3000, rng)
    start = normalized(gb._replace(W=0.1 * gb.W), 0.0)
    fit = fit_lbfgs(NCE(GaussianNoise.from_data(Xg), nu=2), start, Xg)
    assert fit.converged and np.array_equal(fit.params.sigma, gb.sigma)
    assert abs(fit.params.log_norm[0] + exact.log_partition(model_part(fit.params))) < 0.1


def test_continuous_bad_input():
    rng = np.random.default_rng(8)
    ica = normalized(LaplaceICA(np.eye(3)))
    X = rng.normal(size=(10, 3))
    gauss = GaussianNoise.from_data(X)
    with pytest.raises(ValueError, match="noise must be a ContinuousNoise over 3"):
        NCE(BernoulliNoise.uniform(3)).grad(ica, X)
    with pytest.raises(ValueError, match="noise must be a ContinuousNoise over 3"):
        NCE(GaussianNoise(np.zeros(4), np.eye(4))).grad(ica, X)
    with pytest.raises(ValueError, match="noise must be a BinaryNoise"):
        NCE(gauss).grad(normalized(random_rbm(3, 2, 1.0, rng)), (X > 0) * 1.0)
    with pytest.raises(ValueError, match="batch must be finite"):
        NCE(gauss).grad(ica, np.where(X > 1, np.inf, X))
    with pytest.raises(ValueError, match="noise_samples must have 3 columns"):
        nce_value_and_grad(ica, X, X[:, :2], gauss)
    with pytest.raises(ValueError, match="non-singular"):
        NCE(gauss).value_and_grad(ica._replace(B=np.zeros((3, 3))), X)
    with pytest.raises(ValueError, match="positive definite"):
        GaussianNoise(np.zeros(2), -np.eye(2))
    with pytest.raises(ValueError, match="symmetric"):
        GaussianNoise(np.zeros(2), [[1.0, 0.2], [0.1, 1.0]])
    with pytest.raises(ValueError, match="more rows than columns"):
        GaussianNoise.from_data(X[:3])
    with pytest.raises(ValueError, match="shape"):
        gauss.log_prob(X[:, :2])
    with pytest.raises(TypeError, match="must be a model"):
        normalized((np.eye(2),))

    class PositiveNoise(ContinuousNoise):                 # zero density wherever a coordinate is negative
        n_features = 3
        def _log_prob(self, X): return np.where(X.min(axis=1) >= 0, -X.sum(axis=1), -np.inf)
        def _sample(self, n, rng): return rng.exponential(size=(n, 3))

    row = int(np.flatnonzero(X.min(axis=1) < 0)[0])
    with pytest.raises(ValueError, match=rf"probability zero to batch\[{row}\].*GaussianNoise"):
        NCE(PositiveNoise()).grad(ica, X)
    with pytest.raises(ValueError, match="probability zero to data"):
        nce_value_and_grad(ica, X, np.abs(X), PositiveNoise())
    with pytest.raises(ValueError, match="params.B must have shape"):   # the kernel's own guard
        _nce(NormalizedLaplaceICA(np.eye(2), np.zeros(1)), np.concatenate([X, X]), 10, np.zeros(20))
