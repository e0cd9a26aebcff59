"""Score matching, denoising and sliced score matching, and exact maximum likelihood for the continuous models:
kernels against references, losses against brute force, gradients against finite differences, directions, the
principles in the training loop and L-BFGS, continuous model expectations, bad input."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ebm_literate import exact
from ebm_literate.gradient import flatten_params, unflatten_params
from ebm_literate.models import BM, Gaussian, GaussianRBM, ICA, LaplaceICA, RBM, score
from ebm_literate.score_matching import (ContinuousExactML, DenoisingScoreMatching, ScoreMatching,
                                         SlicedScoreMatching, score_matching_loss, score_matching_loss_and_grad,
                                         _dsm_reference, _gaussian_sm_closed, _gbrbm_fast, _ica_fast,
                                         _sm_reference, _ssm_reference)
from ebm_literate.training import fit_lbfgs, train


def gaussian(n, rng):
    L = rng.normal(0, 0.7, (n, n))
    return Gaussian(rng.normal(0, 1, n), L @ L.T + np.eye(n))


def gbrbm(n_v, n_h, rng, scale=1.0):
    return GaussianRBM(rng.normal(0, scale, (n_v, n_h)), rng.normal(0, 1, n_v), rng.normal(0, 1, n_h),
                       rng.uniform(0.5, 1.5, n_v))


def ica(n, rng):
    return ICA(rng.normal(0, 1, (n, n)) + 2 * np.eye(n))


def models(n, rng):
    return [gaussian(n, rng), gbrbm(n, 3, rng), ica(n, rng)]


def max_rel(a, b):
    "largest difference of two (value, gradient) pairs, relative to the second's size"
    (va, ga), (vb, gb) = a, b
    scale = max(np.abs(f).max() for f in gb if f.size and np.abs(f).max() > 0)
    return max(abs(va - vb) / max(1.0, abs(vb)), *(np.abs(f - g).max() / scale for f, g in zip(ga, gb)))


def numerical_gradient(loss, params, eps=1e-6):
    out = []
    for name, field in zip(params._fields, params):
        g = np.zeros_like(field)
        for idx in np.ndindex(field.shape if name != "sigma" else (0,)):
            up, down = field.copy(), field.copy()
            up[idx] += eps
            down[idx] -= eps
            g[idx] = (loss(params._replace(**{name: up})) - loss(params._replace(**{name: down}))) / (2 * eps)
        out.append(g)
    return type(params)(*out)


def numerical_trace(params, X, h=1e-4):
    E = h * np.eye(X.shape[1])
    return sum((score(params, X + E[i])[:, i] - score(params, X - E[i])[:, i]) / (2 * h) for i in range(X.shape[1]))


@given(st.integers(0, 2**31 - 1), st.integers(1, 6), st.integers(1, 30))
def test_kernels_equal_references(seed, n, m):
    rng = np.random.default_rng(seed)
    X = rng.normal(0, 2, (m, n))
    g, gb, ic = gaussian(n, rng), gbrbm(n, int(rng.integers(1, 6)), rng, 2.0), ica(n, rng)
    assert max_rel(_gaussian_sm_closed(g, X), _sm_reference(g, X)) < 1e-11
    assert max_rel(_gbrbm_fast(gb, X), _sm_reference(gb, X)) < 1e-11
    assert max_rel(_ica_fast(ic, X), _sm_reference(ic, X)) < 1e-11
    noise, tau = rng.standard_normal(X.shape), float(rng.uniform(0.05, 2))
    assert max_rel(_gbrbm_fast(gb, X, noise, tau), _dsm_reference(gb, X, noise, tau)) < 1e-11


def test_large_gbrbm_kernel_equals_reference():
    rng = np.random.default_rng(1)
    params, X = gbrbm(100, 60, rng, 0.3), rng.normal(0, 1, (150, 100))
    assert max_rel(_gbrbm_fast(params, X), _sm_reference(params, X)) < 1e-12
    noise = rng.standard_normal(X.shape)
    assert max_rel(_gbrbm_fast(params, X, noise, 0.2), _dsm_reference(params, X, noise, 0.2)) < 1e-12


@pytest.mark.parametrize("k", range(3))
def test_loss_is_brute_force_and_gradients_are_finite_differences(k):
    rng = np.random.default_rng(10 + k)
    params, X = models(4, rng)[k], rng.normal(0, 1.5, (25, 4))
    brute = np.mean(numerical_trace(params, X) + 0.5 * np.sum(score(params, X) ** 2, axis=1))
    assert abs(score_matching_loss(params, X) - brute) < 1e-6 * max(1, abs(brute))
    noise, U = rng.standard_normal(X.shape), rng.standard_normal(X.shape)
    losses = [lambda p: score_matching_loss_and_grad(p, X), lambda p: _dsm_reference(p, X, noise, 0.4),
              lambda p: _ssm_reference(p, X, U, True), lambda p: _ssm_reference(p, X, U, False)]
    for f in losses:
        num = numerical_gradient(lambda p: f(p)[0], params)
        scale = max(np.abs(x).max() for x in num)
        assert max(np.abs(a - b).max() for a, b in zip(f(params)[1], num)) < 1e-7 * scale


def test_sliced_over_all_signs_is_score_matching():
    rng = np.random.default_rng(3)
    signs = 2 * exact.binary_states(0, 16, 4) - 1
    X = rng.normal(0, 1, (7, 4))
    for params in models(4, rng):
        for vr in (True, False):
            sliced = _ssm_reference(params, np.repeat(X, 16, axis=0), np.tile(signs, (7, 1)), vr)
            assert max_rel(sliced, _sm_reference(params, X)) < 1e-12


def test_gaussian_score_matching_is_maximum_likelihood():
    rng = np.random.default_rng(4)
    X = exact.sample(gaussian(3, rng), 1000, rng)
    fit = fit_lbfgs(ScoreMatching(), Gaussian(np.zeros(3), np.eye(3)), X, gtol=1e-12)
    ml = fit_lbfgs(ContinuousExactML(), Gaussian(np.zeros(3), np.eye(3)), X, gtol=1e-12)
    S_inv = np.linalg.inv(np.cov(X, rowvar=False, bias=True))
    for f in (fit, ml):
        assert f.converged
        assert np.abs(f.params.mu - X.mean(axis=0)).max() < 1e-6
        assert np.abs(f.params.M - S_inv).max() < 1e-6 * np.abs(S_inv).max()


def test_dsm_gaussian_learns_the_smoothed_precision():
    rng = np.random.default_rng(5)
    x = 1.2 * rng.standard_normal((20000, 1))
    tau = 0.8
    fit = fit_lbfgs(DenoisingScoreMatching(tau, n_noise=4, seed=1), Gaussian(np.zeros(1), np.eye(1)), x)
    assert abs(fit.params.M[0, 0] * (x.var() + tau**2) - 1) < 0.02   # about 6 standard errors of eq. eq-dsm-se
    assert fit.params.M[0, 0] * x.var() < 0.7                        # far from the data's own precision


@pytest.mark.parametrize("principle", [ScoreMatching(), DenoisingScoreMatching(0.5, 2), SlicedScoreMatching(2),
                                       ContinuousExactML()], ids=repr)
def test_direction_on_a_quadratic_energy(principle):
    "a small step lowers the loss and moves the precision towards S^-1 from below (mu at the mean)"
    rng = np.random.default_rng(6)
    X = exact.sample(gaussian(3, rng), 400, rng)
    S = np.cov(X, rowvar=False, bias=True)
    start = Gaussian(X.mean(axis=0), 0.1 * np.linalg.inv(S))
    value, grads = principle.value_and_grad(start, X)
    step = 1e-3 * flatten_params(grads) / np.abs(flatten_params(grads)).max()
    moved = unflatten_params(flatten_params(start) + step, start)
    assert principle.objective(moved, X) > value
    assert np.sum((moved.M - start.M) * (np.linalg.inv(S) - start.M)) > 0
    assert np.trace(grads.M) > 0                                       # the precision grows


def test_principles_in_the_training_loop_and_lbfgs():
    rng = np.random.default_rng(7)
    teacher = gbrbm(4, 2, rng)
    X = exact.sample(teacher, 500, rng)
    for principle in (ScoreMatching(), DenoisingScoreMatching(0.3), SlicedScoreMatching(), ContinuousExactML()):
        res = train(teacher, X, principle, n_epochs=2, batch_size=50, learning_rate=1e-3, rng=0)
        assert np.array_equal(res.params.sigma, teacher.sigma) and res.state is None
        fit = fit_lbfgs(principle, teacher, X, max_iter=50)
        assert np.array_equal(fit.params.sigma, teacher.sigma)
        assert fit.value >= principle.objective(teacher, X)


def test_fixed_and_fresh_draws():
    rng = np.random.default_rng(8)
    params, X = gbrbm(3, 2, rng), rng.normal(0, 1, (20, 3))
    for principle in (DenoisingScoreMatching(0.3, 3), SlicedScoreMatching(3, "gaussian")):
        vg = principle.value_and_grad(params, X)
        assert principle.objective(params, X) == vg.value
        g_none = principle.grad(params, X)[0]
        assert all(np.array_equal(a, -b) for a, b in zip(g_none, _negate(vg.grads)))
        g1, g2 = principle.grad(params, X, rng=3)[0], principle.grad(params, X, rng=3)[0]
        assert all(np.array_equal(a, b) for a, b in zip(g1, g2)) and not np.array_equal(g1.W, g_none.W)


def _negate(g):
    return type(g)(*(-f for f in g))


def test_continuous_expectations_are_grad_log_z():
    rng = np.random.default_rng(9)
    for params in (gaussian(3, rng), gbrbm(3, 4, rng), ica(3, rng), LaplaceICA(ica(3, rng).B)):
        num = numerical_gradient(exact.log_partition, params)
        assert max(np.abs(a - b).max() for a, b in zip(exact.expectations(params), num)) < 1e-7


def test_flatten_params_takes_gradients_of_continuous_models():
    rng = np.random.default_rng(11)
    params = gbrbm(3, 2, rng)
    grads = ScoreMatching().value_and_grad(params, rng.normal(0, 1, (5, 3))).grads   # zero sigma field
    back = unflatten_params(flatten_params(grads), params)
    assert all(np.array_equal(a, b) for a, b in zip(back, grads))
    g = Gaussian(np.zeros(2), -np.eye(2))                                            # not a valid model
    assert np.array_equal(flatten_params(g), np.concatenate([np.zeros(2), -np.eye(2).ravel()]))
    with pytest.raises(TypeError, match="NamedTuple"):
        flatten_params((1.0, 2.0))
    with pytest.raises(ValueError, match="finite"):
        flatten_params(g._replace(mu=np.array([np.nan, 0.0])))


def test_gaussian_ml_backs_off_where_there_is_no_normalizer():
    X = np.random.default_rng(12).normal(0, 1, (10, 2))
    loss, grads = ContinuousExactML()._loss_and_grad(Gaussian(np.zeros(2), -np.eye(2)), X, None)
    assert loss == np.inf and not np.any(flatten_params(grads))


@pytest.mark.parametrize("call, match", [
    (lambda: score_matching_loss(LaplaceICA(np.eye(2)), np.ones((3, 2))), "smooth model"),
    (lambda: ScoreMatching().grad(LaplaceICA(np.eye(2)), np.ones((3, 2))), "smooth model"),
    (lambda: score_matching_loss(RBM(np.zeros((2, 1)), np.zeros(2), np.zeros(1)), np.ones((3, 2))), "params must be"),
    (lambda: score_matching_loss(BM(np.zeros((2, 2)), np.zeros(2)), np.ones((3, 2))), "params must be"),
    (lambda: score_matching_loss(Gaussian(np.zeros(2), np.eye(2)), np.ones((3, 3))), "2 columns"),
    (lambda: score_matching_loss(Gaussian(np.zeros(2), np.eye(2)), np.ones(2)), "2-dimensional"),
    (lambda: score_matching_loss(Gaussian(np.zeros(2), np.eye(2)), np.full((1, 2), np.inf)), "finite"),
    (lambda: ScoreMatching().value_and_grad(Gaussian(np.zeros(2), -np.eye(2)), np.ones((3, 2))), "positive definite"),
    (lambda: ScoreMatching().grad(Gaussian(np.zeros(2), np.eye(2)), np.ones((3, 2)), state=0), "state must be None"),
    (lambda: ScoreMatching().check_state(Gaussian(np.zeros(2), np.eye(2)), []), "state must be None"),
    (lambda: DenoisingScoreMatching(0.1).grad(Gaussian(np.zeros(2), np.eye(2)), np.ones((3, 2)), rng=1.5), "rng"),
    (lambda: DenoisingScoreMatching(-1.0), "noise_sd"),
    (lambda: DenoisingScoreMatching(np.nan), "noise_sd"),
    (lambda: DenoisingScoreMatching(0.1, n_noise=0), "n_noise"),
    (lambda: DenoisingScoreMatching(0.1, n_noise=True), "n_noise"),
    (lambda: DenoisingScoreMatching(0.1, seed=-2), "seed"),
    (lambda: SlicedScoreMatching(0), "n_projections"),
    (lambda: SlicedScoreMatching(projection="sphere"), "projection"),
    (lambda: SlicedScoreMatching(variance_reduction=1), "variance_reduction"),
    (lambda: ContinuousExactML().grad(BM(np.zeros((2, 2)), np.zeros(2)), np.ones((3, 2))), "params must be"),
    (lambda: ContinuousExactML().value_and_grad(GaussianRBM(np.zeros((2, 30)), np.zeros(2), np.zeros(30),
                                                            np.ones(2)), np.ones((3, 2))), "hidden states"),
])
def test_bad_input(call, match):
    with pytest.raises((TypeError, ValueError), match=match):
        call()


def test_same_results_for_any_number_of_threads():
    "the kernels' loops are serial and BLAS is held at one thread: bitwise equal for 1, 2 and 16 Numba threads"
    script = textwrap.dedent("""
        import numpy as np
        from threadpoolctl import threadpool_limits
        from ebm_literate.models import GaussianRBM
        from ebm_literate.score_matching import DenoisingScoreMatching, ScoreMatching
        from ebm_literate.gradient import flatten_params
        rng = np.random.default_rng(0)
        params = GaussianRBM(rng.normal(0, 0.3, (50, 20)), rng.normal(0, 1, 50), rng.normal(0, 1, 20), np.ones(50))
        X = rng.normal(0, 1, (64, 50))
        with threadpool_limits(1):
            for principle in (ScoreMatching(), DenoisingScoreMatching(0.3, 2)):
                v, g = principle.value_and_grad(params, X)
                print(v.hex(), flatten_params(g).tobytes().hex()[:4000])
    """)
    outs = []
    for n in (1, 2, 16):
        env = dict(os.environ, NUMBA_NUM_THREADS=str(n))
        outs.append(subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                                   check=True, timeout=300).stdout)
    assert outs[0] and outs[0] == outs[1] == outs[2]
