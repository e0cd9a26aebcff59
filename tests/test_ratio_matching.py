"""Ratio matching: the flip kernels against the NumPy reference and exact enumeration, the identity with
pseudolikelihood, gradients, the random-subset estimate, the principle's protocol, bad input."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from ebm_literate import exact
from ebm_literate.gradient import flatten_params, unflatten_params
from ebm_literate.models import BM, init_bm
from ebm_literate.pseudolikelihood import _SAFE, log_conditionals, pseudolikelihood_and_grad
from ebm_literate.ratio_matching import (
    RatioMatching, _flip_gradient_reference, _flip_probabilities_reference, _rm_loss_reference, _rm_reference,
    flip_probabilities, ratio_matching_loss, ratio_matching_loss_and_grad)
from ebm_literate.training import fit_lbfgs, train
from test_pseudolikelihood import models, random_bm, random_data, random_model, random_rbm   # shared helpers


# ---- kernels against the NumPy reference and the exact joint distribution -----------------------------------

@settings(max_examples=40)
@given(models, st.integers(1, 30))
def test_kernel_matches_reference(model, m):
    kind, n, n_h, scale, seed = model
    params = random_model(kind, n, n_h, scale, seed)
    X = random_data(m, n, seed + 1)
    np.testing.assert_allclose(flip_probabilities(params, X), _flip_probabilities_reference(params, X),
                               rtol=1e-11, atol=1e-300)
    loss, grads = ratio_matching_loss_and_grad(params, X)
    ref_loss, ref_grads = _rm_reference(params, X)
    assert abs(loss - ref_loss) <= 1e-11 * max(1e-300, ref_loss)
    assert abs(ratio_matching_loss(params, X) - loss) <= 1e-14 * max(1e-300, loss)
    for g, r in zip(grads, ref_grads):
        np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-13)


@settings(max_examples=25)
@given(models)
def test_flip_probabilities_match_exact_joint(model):
    kind, n, n_h, scale, seed = model
    params = random_model(kind, n, n_h, scale, seed)
    states, logp = exact.log_probs(params)
    flipped = np.arange(len(states))[:, None] ^ (1 << np.arange(n - 1, -1, -1))[None, :]
    brute = np.exp(logp[flipped] - np.logaddexp(logp[:, None], logp[flipped]))
    q = flip_probabilities(params, states)
    np.testing.assert_allclose(q, brute, rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(q[flipped, np.arange(n)], 1.0 - q, rtol=1e-9, atol=1e-12)   # q_j(x^(j)) = 1 - q_j(x)
    assert np.all((q >= 0) & (q <= 1))


@pytest.mark.parametrize("kind", ["bm", "rbm"])
def test_huge_weights(kind):
    rng = np.random.default_rng(0)
    params = random_rbm(12, 3, 400.0, rng) if kind == "rbm" else random_bm(12, 400.0, rng)
    if kind == "rbm":
        sums = np.abs(params.b) + np.abs(params.W).sum(axis=1)
        assert np.any(sums > _SAFE) and np.any(sums < _SAFE)       # both paths of the RBM kernel
    X = random_data(40, 12, 1)
    loss, grads = ratio_matching_loss_and_grad(params, X)
    ref_loss, ref_grads = _rm_reference(params, X)
    assert np.isfinite(loss) and abs(loss - ref_loss) <= 1e-10 * ref_loss
    for g, r in zip(grads, ref_grads):
        np.testing.assert_allclose(g, r, rtol=1e-9, atol=1e-12)


# ---- the identity with pseudolikelihood ----------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["bm", "rbm"])
def test_same_flips_as_pseudolikelihood(kind):
    params = random_model(kind, 10, 4, 1.0, 3)
    X = random_data(30, 10, 4, 0.3)
    q = flip_probabilities(params, X)
    np.testing.assert_allclose(np.log1p(-q), log_conditionals(params, X), rtol=1e-12)
    assert abs(ratio_matching_loss(params, X) - np.sum(np.expm1(log_conditionals(params, X)) ** 2) / 30) < 1e-12
    for a, b in zip(_flip_gradient_reference(params, X, q), pseudolikelihood_and_grad(params, X).grads):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


# ---- gradients ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["bm", "rbm"])
def test_gradient_finite_differences(kind):
    params = random_model(kind, 7, 4, 1.0, 5)
    X = random_data(25, 7, 6, 0.4)
    grads = flatten_params(ratio_matching_loss_and_grad(params, X).grads)
    theta, eps = flatten_params(params), 1e-6
    fd = np.empty(theta.size)
    for k in range(theta.size):
        e = np.zeros(theta.size)
        e[k] = eps
        fd[k] = (ratio_matching_loss(unflatten_params(theta + e, params), X)
                 - ratio_matching_loss(unflatten_params(theta - e, params), X)) / (2 * eps)
    assert np.max(np.abs(fd - grads)) < 1e-8


@pytest.mark.parametrize("kind", ["bm", "rbm"])
def test_principle_direction_is_ascent(kind):
    "A small step along the principle's gradient lowers the loss by about the squared gradient norm"
    params = random_model(kind, 8, 5, 1.0, 7)
    X = random_data(50, 8, 8, 0.3)
    principle = RatioMatching()
    grads, state = principle.grad(params, X)
    assert state is None
    step = 1e-4
    moved = type(params)(*(p + step * g for p, g in zip(params, grads)))
    if kind == "bm":
        moved = BM(0.5 * (moved.W + moved.W.T), moved.b)
    change = principle.objective(moved, X) - principle.objective(params, X)
    norm2 = float(np.sum(flatten_params(grads) ** 2))
    assert change > 0 and abs(change / (step * norm2) - 1) < 0.01
    vg = principle.value_and_grad(params, X)
    assert vg.value == principle.objective(params, X) == -ratio_matching_loss(params, X)
    for a, b in zip(vg.grads, grads):
        np.testing.assert_array_equal(a, b)


# ---- the random subset -------------------------------------------------------------------------------------

def test_subset_estimate_is_reproducible_and_exact_with_every_bit():
    params = random_model("rbm", 6, 3, 1.0, 9)
    X = random_data(8, 6, 10)
    a = ratio_matching_loss_and_grad(params, X, n_bits=2, rng=3)
    b = ratio_matching_loss_and_grad(params, X, n_bits=2, rng=3)
    assert a.value == b.value and all(np.array_equal(p, q) for p, q in zip(a.grads, b.grads))
    assert ratio_matching_loss(params, X, n_bits=6, rng=1) == ratio_matching_loss(params, X)


@pytest.mark.parametrize("kind", ["bm", "rbm"])
def test_subset_estimate_is_unbiased(kind):
    params = random_model(kind, 12, 5, 1.0, 11)
    X = random_data(40, 12, 12, 0.3)
    exact_vg = ratio_matching_loss_and_grad(params, X)
    rng = np.random.default_rng(13)
    runs = [ratio_matching_loss_and_grad(params, X, n_bits=3, rng=rng) for _ in range(1000)]
    vals = np.array([r.value for r in runs])
    grads = np.array([flatten_params(r.grads) for r in runs])
    assert abs(vals.mean() - exact_vg.value) <= 4 * vals.std(ddof=1) / np.sqrt(len(vals))
    z = (grads.mean(0) - flatten_params(exact_vg.grads)) / (grads.std(0, ddof=1) / np.sqrt(len(grads)))
    assert np.abs(z).max() <= 4.5


# ---- the principle in the loop and in L-BFGS ---------------------------------------------------------------

def test_training_loop_and_lbfgs():
    rng = np.random.default_rng(14)
    X = exact.sample(random_bm(6, 1.0, rng), 500, rng)
    fit = fit_lbfgs(RatioMatching(), init_bm(6), X)
    assert fit.converged
    assert np.abs(flatten_params(ratio_matching_loss_and_grad(fit.params, X).grads)).max() < 1e-6
    res = train(init_bm(6), X, RatioMatching(n_bits=2), n_epochs=20, batch_size=20, learning_rate=1.0,
                schedule="linear", rng=0)
    assert ratio_matching_loss(res.params, X) < ratio_matching_loss(init_bm(6), X) - 0.1
    assert ratio_matching_loss(res.params, X) - (-fit.value) < 0.01


# ---- bad input ---------------------------------------------------------------------------------------------

def message(f, *args, **kwargs):
    with pytest.raises((ValueError, TypeError)) as e:
        f(*args, **kwargs)
    return str(e.value)


def test_bad_input_is_refused_with_the_argument_named():
    rbm, bm, X = random_model("rbm", 5, 3, 1.0, 0), random_model("bm", 5, 0, 1.0, 0), np.zeros((4, 5))
    assert "binary" in message(ratio_matching_loss, bm, X + 0.5)
    assert "5 columns" in message(flip_probabilities, rbm, np.zeros((3, 4)))
    assert "x must be 2-dimensional" in message(ratio_matching_loss, rbm, np.zeros(5))
    assert "finite" in message(ratio_matching_loss_and_grad, rbm, np.full((2, 5), np.nan))
    assert "n_bits" in message(ratio_matching_loss, bm, X, n_bits=6)
    assert "n_bits" in message(ratio_matching_loss_and_grad, rbm, X, n_bits=0)
    assert "n_bits" in message(ratio_matching_loss, rbm, X, n_bits=2.0)
    assert "n_bits" in message(RatioMatching, n_bits=0)
    assert "n_bits" in message(RatioMatching, n_bits=True)
    assert "n_bits" in message(RatioMatching(n_bits=9).grad, rbm, X)
    assert "rng" in message(ratio_matching_loss, rbm, X, n_bits=2, rng="seed")
    assert "params must be" in message(ratio_matching_loss, (1, 2), X)
    assert "params.W" in message(ratio_matching_loss, BM(np.ones((5, 5)), np.zeros(5)), X)
    assert "batch" in message(RatioMatching().objective, rbm, X + 2)
    assert "batch" in message(RatioMatching().value_and_grad, rbm, np.zeros((4, 6)))
    assert "state" in message(RatioMatching().check_state, rbm, object())
    assert "state" in message(RatioMatching().grad, rbm, X, state=np.zeros(3))
    assert RatioMatching().check_state(rbm, None) is None


def test_every_input_checked_before_the_kernel():
    "Integers and booleans as data are converted, never handed to the kernel as they are"
    rbm = random_model("rbm", 5, 3, 1.0, 0)
    X_int = np.array([[0, 1, 0, 1, 1], [1, 1, 0, 0, 0]])
    assert ratio_matching_loss(rbm, X_int) == ratio_matching_loss(rbm, X_int.astype(float))
    assert ratio_matching_loss(rbm, X_int.astype(bool)) == ratio_matching_loss(rbm, X_int.astype(float))
    assert abs(_rm_loss_reference(rbm, X_int.astype(float)) - ratio_matching_loss(rbm, X_int)) < 1e-12
