"""Pseudolikelihood: kernels against the NumPy references and exact enumeration, gradients, principles, bad input."""
import numba
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from ebm_literate import exact
from ebm_literate.gradient import exact_gradient, flatten_params, unflatten_params
from ebm_literate.models import BM, RBM, init_bm
from ebm_literate.pseudolikelihood import (
    GeneralizedPseudoLikelihood, PseudoLikelihood, _SAFE, _check_blocks, _choose_bits, _gpl, _gpl_reference,
    _log_conditionals_reference, _pl_reference, contiguous_blocks, generalized_pseudolikelihood, generalized_pseudolikelihood_and_grad,
    log_conditionals, pseudolikelihood, pseudolikelihood_and_grad)
from ebm_literate.training import fit_lbfgs


def random_bm(n, scale, rng):
    A = np.triu(rng.normal(0, scale, (n, n)), 1)
    return BM(A + A.T, rng.normal(0, scale, n))


def random_rbm(n_v, n_h, scale, rng):
    return RBM(rng.normal(0, scale, (n_v, n_h)), rng.normal(0, scale, n_v), rng.normal(0, scale, n_h))


def random_model(kind, n, n_h, scale, seed):
    rng = np.random.default_rng(seed)
    return random_bm(n, scale, rng) if kind == "bm" else random_rbm(n, n_h, scale, rng)


def random_data(m, n, seed, p=0.5):
    return (np.random.default_rng(seed).random((m, n)) < p).astype(float)


models = st.tuples(st.sampled_from(["bm", "rbm"]), st.integers(1, 9), st.integers(1, 6),
                   st.sampled_from([0.01, 0.5, 2.0, 8.0]), st.integers(0, 2**31 - 1))


# ---- kernels against the NumPy references and the exact joint distribution ----------------------------------

@settings(max_examples=40)
@given(models, st.integers(1, 30))
def test_kernel_matches_reference(model, m):
    kind, n, n_h, scale, seed = model
    params = random_model(kind, n, n_h, scale, seed)
    X = random_data(m, n, seed + 1)
    np.testing.assert_allclose(log_conditionals(params, X), _log_conditionals_reference(params, X),
                               rtol=1e-11, atol=1e-11)
    value, grads = pseudolikelihood_and_grad(params, X)
    ref_value, ref_grads = _pl_reference(params, X)
    assert abs(value - _log_conditionals_reference(params, X).sum(axis=1).mean()) <= 1e-10 * max(1.0, abs(value))
    assert abs(value - ref_value) <= 1e-10 * max(1.0, abs(value))
    for g, r in zip(grads, ref_grads):
        np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-12)


@settings(max_examples=25)
@given(models)
def test_conditionals_match_exact_joint(model):
    kind, n, n_h, scale, seed = model
    params = random_model(kind, n, n_h, scale, seed)
    states, logp = exact.log_probs(params)
    flipped = np.arange(len(states))[:, None] ^ (1 << np.arange(n - 1, -1, -1))[None, :]
    brute = logp[:, None] - np.logaddexp(logp[:, None], logp[flipped])
    np.testing.assert_allclose(log_conditionals(params, states), brute, rtol=1e-9, atol=1e-10)


def test_rbm_fallback_path_for_huge_weights():
    rng = np.random.default_rng(0)
    params = random_rbm(12, 3, 400.0, rng)
    sums = np.abs(params.b) + np.abs(params.W).sum(axis=1)
    assert np.any(sums > _SAFE) and np.any(sums < _SAFE)
    X = random_data(40, 12, 1)
    np.testing.assert_allclose(log_conditionals(params, X), _log_conditionals_reference(params, X), rtol=1e-9, atol=1e-9)
    for g, r in zip(pseudolikelihood_and_grad(params, X).grads, _pl_reference(params, X)[1]):
        np.testing.assert_allclose(g, r, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("kind", ["bm", "rbm"])
def test_gradient_finite_differences(kind):
    params = random_model(kind, 7, 4, 1.0, 3)
    X = random_data(25, 7, 4)
    theta, g = flatten_params(params), flatten_params(pseudolikelihood_and_grad(params, X).grads)
    eps = 1e-6
    for k in range(theta.size):
        e = np.zeros(theta.size); e[k] = eps
        fd = (pseudolikelihood(unflatten_params(theta + e, params), X)
              - pseudolikelihood(unflatten_params(theta - e, params), X)) / (2 * eps)
        assert abs(fd - g[k]) < 1e-7


def test_bm_gradient_convention():
    params = random_model("bm", 6, 0, 1.0, 5)
    g = pseudolikelihood_and_grad(params, random_data(20, 6, 6)).grads
    assert np.array_equal(g.W, g.W.T) and np.all(np.diag(g.W) == 0)


# ---- the random-subset estimator ---------------------------------------------------------------------------

@settings(max_examples=20)
@given(models, st.integers(1, 8), st.integers(1, 9))
def test_subset_matches_reference_on_chosen_bits(model, m, k):
    kind, n, n_h, scale, seed = model
    k = min(k, n)
    params = random_model(kind, n, n_h, scale, seed)
    X = random_data(m, n, seed + 2)
    vg = pseudolikelihood_and_grad(params, X, n_bits=k, rng=seed)
    idx, factor = _choose_bits(m, n, k, seed)                        # the same draw
    idx = np.broadcast_to(idx, (m, idx.shape[1]))
    ref = _log_conditionals_reference(params, X)
    assert abs(vg.value - factor * np.mean([ref[r, idx[r]].sum() for r in range(m)])) < 1e-10 * max(1, abs(vg.value))
    # gradient: mean over rows of factor * sum over the chosen bits, each bit a singleton block
    parts = [_gpl(params, X[r:r + 1], [np.array([i]) for i in idx[r]]).grads for r in range(m)]
    for name, g in zip(params._fields, vg.grads):
        ref_g = factor * np.mean([getattr(p, name) for p in parts], axis=0)
        np.testing.assert_allclose(g, ref_g, rtol=1e-10, atol=1e-12)


def test_subset_distinct_bits_and_every_bit_exact():
    idx, factor = _choose_bits(50, 9, 4, 0)
    assert idx.shape == (50, 4) and factor == 9 / 4
    assert all(len(set(row)) == 4 for row in idx)
    params = random_model("rbm", 9, 3, 1.0, 0)
    X = random_data(10, 9, 1)
    assert pseudolikelihood(params, X, n_bits=9, rng=5) == pseudolikelihood(params, X)


def test_subset_unbiased():
    params = random_model("rbm", 10, 4, 1.0, 7)
    X = random_data(60, 10, 8)
    exact_vg = pseudolikelihood_and_grad(params, X)
    rng = np.random.default_rng(9)
    runs = [pseudolikelihood_and_grad(params, X, n_bits=2, rng=rng) for _ in range(1500)]
    vals = np.array([r.value for r in runs])
    grads = np.array([flatten_params(r.grads) for r in runs])
    assert abs(vals.mean() - exact_vg.value) <= 4 * vals.std(ddof=1) / np.sqrt(len(vals))
    z = (grads.mean(0) - flatten_params(exact_vg.grads)) / (grads.std(0, ddof=1) / np.sqrt(len(grads)))
    assert np.abs(z).max() <= 4.5


def test_same_seed_same_bits_any_thread_count():
    params = random_model("rbm", 16, 5, 1.0, 10)
    X = random_data(100, 16, 11)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        a = pseudolikelihood_and_grad(params, X, n_bits=3, rng=12)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        b = pseudolikelihood_and_grad(params, X, n_bits=3, rng=12)
    finally:
        numba.set_num_threads(before)
    assert a.value == b.value and all(np.array_equal(p, q) for p, q in zip(a.grads, b.grads))


def test_sklearn_score_samples():
    sk = pytest.importorskip("sklearn.neural_network")
    rng = np.random.default_rng(13)
    rbm = random_rbm(12, 5, 1.0, rng)
    V = exact.sample(rbm, 100, rng)
    skl = sk.BernoulliRBM(n_components=5, random_state=np.random.RandomState(0))
    skl.components_, skl.intercept_hidden_, skl.intercept_visible_ = rbm.W.T.copy(), rbm.c.copy(), rbm.b.copy()
    skl.n_features_in_ = 12
    ours = 12 * log_conditionals(rbm, V)
    draws = np.array([skl.score_samples(V) for _ in range(800)])
    assert np.abs(draws[:, :, None] - ours[None]).min(axis=2).max() < 1e-10
    per_call = draws.mean(axis=1)
    assert abs(per_call.mean() - pseudolikelihood(rbm, V)) <= 4 * per_call.std(ddof=1) / np.sqrt(len(per_call))


# ---- generalized pseudolikelihood ---------------------------------------------------------------------------

@settings(max_examples=15)
@given(models)
def test_gpl_extremes(model):
    kind, n, n_h, scale, seed = model
    params = random_model(kind, n, n_h, min(scale, 2.0), seed)
    X = random_data(15, n, seed + 3)
    pl = pseudolikelihood_and_grad(params, X)
    single = generalized_pseudolikelihood_and_grad(params, X, contiguous_blocks(n, 1))
    assert abs(pl.value - single.value) < 1e-10 * max(1, abs(pl.value))
    for a, b in zip(pl.grads, single.grads): np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-11)
    full = generalized_pseudolikelihood_and_grad(params, X, [np.arange(n)])
    assert abs(full.value - exact.log_likelihood(params, X)) < 1e-9 * max(1, abs(full.value))
    for a, b in zip(full.grads, exact_gradient(params, X)): np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)


def test_gpl_chunking_does_not_change_result():
    params = random_model("rbm", 8, 3, 1.0, 14)
    X = random_data(37, 8, 15)
    blocks = [np.array([0, 1, 2, 3]), np.array([4, 5, 6, 7])]
    a, b = _gpl_reference(params, X, blocks), _gpl_reference(params, X, blocks, max_rows=48)
    assert abs(a.value - b.value) < 1e-12
    for p, q in zip(a.grads, b.grads): np.testing.assert_allclose(p, q, atol=1e-13)


def relative_difference(fast, ref):
    "the larger of |value - ref value| / |ref value| and max |gradient - ref gradient| / max |ref gradient|"
    g, r = flatten_params(fast.grads), flatten_params(ref.grads)
    return max(abs(fast.value - ref.value) / abs(ref.value), np.max(np.abs(g - r)) / np.max(np.abs(r)))


@st.composite
def block_layouts(draw, n):
    "blocks covering 0..n-1: a random partition into pieces of 1..5 units, plus extra blocks that overlap it"
    perm = draw(st.permutations(range(n)))
    blocks, lo = [], 0
    while lo < n:
        size = draw(st.integers(1, 5))
        blocks.append(list(perm[lo:lo + size]))
        lo += size
    for _ in range(draw(st.integers(0, 3))):
        blocks.append(draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=min(n, 6), unique=True)))
    return blocks


@settings(max_examples=40, deadline=None)
@given(st.data(), st.integers(1, 12), st.integers(1, 7), st.sampled_from([0.01, 0.5, 2.0, 8.0, 60.0, 400.0]),
       st.integers(1, 25), st.integers(0, 2**31 - 1))
def test_gpl_kernel_matches_reference(data, n, n_h, scale, m, seed):
    params = random_model("rbm", n, n_h, scale, seed)
    X = random_data(m, n, seed + 1, p=data.draw(st.sampled_from([0.1, 0.5, 0.9])))
    blocks = _check_blocks(data.draw(block_layouts(n)), n)
    fast, ref = _gpl(params, X, blocks), _gpl_reference(params, X, blocks)
    assert relative_difference(fast, ref) < 1e-12
    assert _gpl(params, X, blocks, want_grad=False).value == fast.value


def test_gpl_kernel_huge_weights_both_paths():
    rng = np.random.default_rng(24)
    params = random_rbm(12, 3, 60.0, rng)
    sums = np.abs(params.b) + np.abs(params.W).sum(axis=1)
    blocks = _check_blocks(contiguous_blocks(12, 1) + contiguous_blocks(12, 4) + [[0, 5, 11], np.arange(12)], 12)
    safe = [sums[S].sum() + S.size * np.log(2) < _SAFE for S in blocks]
    assert any(safe) and not all(safe)                    # the product path and the softplus path both run
    X = random_data(30, 12, 25)
    assert relative_difference(_gpl(params, X, blocks), _gpl_reference(params, X, blocks)) < 1e-12
    huge = random_rbm(12, 3, 1e4, rng)                    # every block in log space, no overflow
    fast = _gpl(huge, X, blocks)
    assert np.isfinite(fast.value) and all(np.all(np.isfinite(g)) for g in fast.grads)
    assert relative_difference(fast, _gpl_reference(huge, X, blocks)) < 1e-12


@pytest.mark.parametrize("margin", [0.5, 20.0, 300.0])
def test_gpl_kernel_just_below_the_threshold(margin):
    # rows scaled so that |b_i| + sum_j |W_ij| + log 2 = _SAFE - margin: singleton blocks take the product path with
    # ratios up to e^(700 - margin), pairs the softplus path
    rng = np.random.default_rng(28)
    params = random_rbm(8, 3, 1.0, rng)
    scale = (_SAFE - margin - np.log(2)) / (np.abs(params.b) + np.abs(params.W).sum(axis=1))
    params = type(params)(params.W * scale[:, None], params.b * scale, params.c)
    blocks = _check_blocks(contiguous_blocks(8, 1) + contiguous_blocks(8, 2), 8)
    X = random_data(40, 8, 29)
    fast = _gpl(params, X, blocks)
    assert np.isfinite(fast.value) and all(np.all(np.isfinite(g)) for g in fast.grads)
    assert relative_difference(fast, _gpl_reference(params, X, blocks)) < 1e-12


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 12), st.integers(1, 7), st.sampled_from([0.01, 0.5, 2.0, 8.0, 400.0]), st.integers(0, 2**31 - 1))
def test_gpl_singletons_equal_pl_kernel(n, n_h, scale, seed):
    params = random_model("rbm", n, n_h, scale, seed)
    X = random_data(20, n, seed + 2)
    pl = pseudolikelihood_and_grad(params, X)
    gpl = generalized_pseudolikelihood_and_grad(params, X, contiguous_blocks(n, 1))
    assert relative_difference(gpl, pl) < 1e-11


def test_gpl_large_block_and_any_thread_count():
    params = random_model("rbm", 16, 5, 0.5, 26)
    X = random_data(6, 16, 27)
    blocks = _check_blocks([np.arange(16), [3, 7, 1]], 16)
    assert relative_difference(_gpl(params, X, blocks), _gpl_reference(params, X, blocks)) < 1e-12
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        a = _gpl(params, X, blocks)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        b = _gpl(params, X, blocks)
    finally:
        numba.set_num_threads(before)
    assert a.value == b.value and all(np.array_equal(p, q) for p, q in zip(a.grads, b.grads))


@pytest.mark.parametrize("kind", ["bm", "rbm"])
def test_gpl_gradient_finite_differences(kind):
    params = random_model(kind, 6, 3, 1.0, 16)
    X = random_data(20, 6, 17)
    blocks = [[0, 1, 2], [2, 3], [3, 4, 5]]
    theta = flatten_params(params)
    g = flatten_params(generalized_pseudolikelihood_and_grad(params, X, blocks).grads)
    eps = 1e-6
    for k in range(theta.size):
        e = np.zeros(theta.size); e[k] = eps
        fd = (generalized_pseudolikelihood(unflatten_params(theta + e, params), X, blocks)
              - generalized_pseudolikelihood(unflatten_params(theta - e, params), X, blocks)) / (2 * eps)
        assert abs(fd - g[k]) < 1e-7


# ---- principles and L-BFGS ------------------------------------------------------------------------------------

@pytest.mark.parametrize("principle", [PseudoLikelihood(), PseudoLikelihood(n_bits=2),
                                       GeneralizedPseudoLikelihood(contiguous_blocks(6, 2))])
@pytest.mark.parametrize("kind", ["bm", "rbm"])
def test_principle_interface(principle, kind):
    params = random_model(kind, 6, 3, 0.5, 18)
    X = random_data(12, 6, 19)
    grads, state = principle.grad(params, X, None, 20)
    assert state is None and type(grads) is type(params)
    assert principle.check_state(params, None) is None
    with pytest.raises(TypeError, match="keeps no state"):
        principle.grad(params, X, "state", 20)
    assert all(g.shape == p.shape for g, p in zip(grads, params))
    fast, _ = principle._grad(params, X, None, 20)
    assert all(np.array_equal(a, b) for a, b in zip(grads, fast))
    assert isinstance(principle.objective(params, X), float)


def test_fit_lbfgs_bm_reaches_stationary_point_with_decay():
    rng = np.random.default_rng(21)
    teacher = random_bm(6, 1.0, rng)
    X = exact.sample(teacher, 500, rng)
    lam = 0.01
    fit = fit_lbfgs(PseudoLikelihood(), init_bm(6), X, weight_decay=lam)
    assert fit.converged
    g = pseudolikelihood_and_grad(fit.params, X).grads
    np.testing.assert_allclose(g.W, lam * fit.params.W, atol=1e-6)      # stationarity of objective - lam/2 |W|^2
    np.testing.assert_allclose(g.b, 0.0, atol=1e-6)
    assert abs(fit.value - pseudolikelihood(fit.params, X)) < 1e-12


def test_fit_lbfgs_accepts_objective_and_grad_principles():
    from ebm_literate.gradient import ExactML
    rng = np.random.default_rng(22)
    X = exact.sample(random_bm(5, 1.0, rng), 300, rng)
    fit = fit_lbfgs(ExactML(), init_bm(5), X)
    assert fit.converged
    g = exact_gradient(fit.params, X)
    assert np.abs(flatten_params(g)).max() < 1e-6


@pytest.mark.parametrize("kind", ["bm", "rbm"])
def test_flatten_round_trip(kind):
    params = random_model(kind, 5, 3, 1.0, 23)
    back = unflatten_params(flatten_params(params), params)
    assert type(back) is type(params) and all(np.array_equal(a, b) for a, b in zip(back, params))
    size = 5 * 4 // 2 + 5 if kind == "bm" else 5 * 3 + 5 + 3
    assert flatten_params(params).size == size


# ---- bad input -------------------------------------------------------------------------------------------------

BM5 = random_model("bm", 5, 0, 1.0, 0)
RBM5 = random_model("rbm", 5, 3, 1.0, 0)
X5 = np.zeros((4, 5))


@pytest.mark.parametrize("call, exc, words", [
    (lambda: pseudolikelihood(BM5, X5 + 0.5), ValueError, "binary"),
    (lambda: pseudolikelihood(BM5, np.zeros(5)), ValueError, "2-dimensional"),
    (lambda: log_conditionals(RBM5, np.zeros((3, 4))), ValueError, "5 columns"),
    (lambda: pseudolikelihood(RBM5, np.zeros((0, 5))), ValueError, "at least one sample"),
    (lambda: pseudolikelihood(BM5, np.full((2, 5), np.nan)), ValueError, "finite"),
    (lambda: pseudolikelihood((1, 2), X5), TypeError, "params must be"),
    (lambda: pseudolikelihood(BM5, X5, n_bits=6), ValueError, "n_bits"),
    (lambda: pseudolikelihood_and_grad(RBM5, X5, n_bits=0), ValueError, "n_bits"),
    (lambda: pseudolikelihood_and_grad(RBM5, X5, n_bits=True), TypeError, "n_bits"),
    (lambda: PseudoLikelihood(n_bits=0), ValueError, "n_bits"),
    (lambda: PseudoLikelihood(n_bits=2.5), TypeError, "n_bits"),
    (lambda: PseudoLikelihood(n_bits=9).grad(RBM5, X5), ValueError, "n_bits"),
    (lambda: PseudoLikelihood(n_bits=9)._grad(RBM5, X5, None, 0), ValueError, "n_bits"),
    (lambda: generalized_pseudolikelihood(BM5, X5, [[0, 1], [2, 3]]), ValueError, "cover"),
    (lambda: generalized_pseudolikelihood(BM5, X5, [[0, 0, 1], [2, 3, 4]]), ValueError, "repeat"),
    (lambda: generalized_pseudolikelihood(BM5, X5, [[0, 1, 2, 3, 4, 5]]), ValueError, "from 0 to 4"),
    (lambda: generalized_pseudolikelihood(BM5, X5, [[], [0, 1, 2, 3, 4]]), ValueError, "non-empty"),
    (lambda: generalized_pseudolikelihood(BM5, X5, [[0.5, 1], [0, 1, 2, 3, 4]]), ValueError, "integer"),
    (lambda: generalized_pseudolikelihood(BM5, X5, []), ValueError, "non-empty list"),
    (lambda: generalized_pseudolikelihood(init_bm(21), np.zeros((2, 21)), [np.arange(21)]), ValueError, "smaller blocks"),
    (lambda: GeneralizedPseudoLikelihood("abc"), ValueError, "blocks"),
    (lambda: contiguous_blocks(5, 0), ValueError, "size"),
    (lambda: fit_lbfgs(PseudoLikelihood(), BM5, X5, weight_decay=-1.0), ValueError, "weight_decay"),
    (lambda: fit_lbfgs(PseudoLikelihood(), BM5, X5, max_iter=0), ValueError, "max_iter"),
    (lambda: fit_lbfgs(object(), BM5, X5), TypeError, "principle"),
    (lambda: unflatten_params(np.zeros(3), BM5), ValueError, "theta"),
])
def test_bad_input(call, exc, words):
    with pytest.raises(exc, match=words):
        call()
