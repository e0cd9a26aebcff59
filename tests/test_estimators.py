"""The scikit-learn estimators: scikit-learn's own estimator checks, grid search over principles, agreement with the
function API for the same seed, AIS scores beyond enumeration, and bad input refused by name."""
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.utils.estimator_checks import parametrize_with_checks

from ebm_literate import exact
from ebm_literate.data import load_digits_binary, load_digits_continuous, standardize, train_test_split
from ebm_literate.estimators import BernoulliRBM, BoltzmannMachine, GaussianBernoulliRBM, make_principle
from ebm_literate.models import free_energy, init_bm, init_gaussian_rbm, init_rbm
from ebm_literate.nce import NCE, BernoulliNoise, model_part, normalized
from ebm_literate.score_matching import DenoisingScoreMatching
from ebm_literate.sml import PCD
from ebm_literate.training import TrainingDiverged, train

X = load_digits_binary()
TRAIN, TEST = train_test_split(X, 0.2, rng=0)


# scikit-learn's checks feed real-valued data (random normal, with negative values) to every estimator. A Bernoulli
# model is defined on {0, 1} only: by default ours refuse anything else with a ValueError naming X (see
# test_non_binary_data_is_refused), so that no principle ever sees data it was not derived for. With `threshold`
# set they binarize, as the checks need; the checks then run every code path of fit, partial_fit, transform,
# score_samples and sample on the binarized data. No check is expected to fail.
@parametrize_with_checks(
    [
        BernoulliRBM(n_components=3, n_iter=2, threshold=0.5),
        BernoulliRBM(n_components=3, n_iter=2, threshold=0.5, principle="pl"),
        BoltzmannMachine(n_iter=2, threshold=0.5),
        BoltzmannMachine(n_iter=2, threshold=0.5, principle="nce"),
        GaussianBernoulliRBM(n_components=3, n_iter=2),
        GaussianBernoulliRBM(n_components=3, n_iter=2, principle="dsm"),
    ]
)
def test_sklearn_checks(estimator, check):
    check(estimator)


def test_non_binary_data_is_refused():
    for est in (BernoulliRBM(4), BoltzmannMachine()):
        with pytest.raises(ValueError, match="X must be binary"):
            est.fit(np.full((5, 6), 0.5))
        est.set_params(threshold=0.5).fit(np.full((5, 6), 0.7))  # binarized: all ones
        assert est.n_features_in_ == 6


def test_grid_search_over_principles_on_digits():
    grid = GridSearchCV(BernoulliRBM(16, n_iter=5, learning_rate=0.1, random_state=0),
                        {"principle": ["cd", "pcd", "pl", "rm"]}, cv=3).fit(TRAIN)
    scores = grid.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores)) and np.all(scores < 0)
    assert grid.best_estimator_.score(TEST) == pytest.approx(
        exact.log_likelihood(grid.best_estimator_.params_, TEST))


def test_estimator_and_function_api_agree_for_the_same_seed():
    est = BernoulliRBM(16, principle="pcd", n_iter=3, learning_rate=0.1, batch_size=25, random_state=7).fit(TRAIN)
    rng = np.random.default_rng(7)
    res = train(init_rbm(64, 16, rng=rng, data=TRAIN), TRAIN, PCD(), n_epochs=3, batch_size=25,
                learning_rate=0.1, rng=rng)
    assert all(np.array_equal(a, b) for a, b in zip(res.params, est.params_))
    assert est.score_samples(TEST) == pytest.approx(-free_energy(res.params, TEST) - exact.log_partition(res.params))
    # a fully visible BM by NCE: the estimator starts c at -log Z and wraps the model as the chapter does
    est = BoltzmannMachine(principle="nce", n_iter=2, learning_rate=0.1, random_state=3).fit(TRAIN[:, :10])
    rng = np.random.default_rng(3)
    start = init_bm(10, rng=rng, data=TRAIN[:, :10])
    nce = NCE(BernoulliNoise.from_data(TRAIN[:, :10]))
    res = train(normalized(start, -exact.log_partition(start)), TRAIN[:, :10], nce, n_epochs=2,
                batch_size=20, learning_rate=0.1, rng=rng)
    assert all(np.array_equal(a, b) for a, b in zip(model_part(res.params), est.params_))
    assert est.log_norm_ == res.params.log_norm[0]
    # a Gaussian-Bernoulli RBM by denoising score matching
    Z = standardize(load_digits_continuous()).z
    est = GaussianBernoulliRBM(8, principle="dsm", n_iter=2, random_state=5).fit(Z)
    rng = np.random.default_rng(5)
    res = train(init_gaussian_rbm(64, 8, rng, data=Z), Z, DenoisingScoreMatching(0.1), n_epochs=2,
                batch_size=20, learning_rate=0.01, rng=rng)
    assert all(np.array_equal(a, b) for a, b in zip(res.params, est.params_))
    assert est.score(Z) == pytest.approx(exact.log_likelihood(res.params, Z))


def test_partial_fit_continues_the_same_run():
    a = BernoulliRBM(8, n_iter=2, learning_rate=0.1, random_state=1).fit(TRAIN)
    b = BernoulliRBM(8, learning_rate=0.1, random_state=1)
    b.partial_fit(TRAIN).partial_fit(TRAIN)
    assert all(np.array_equal(p, q) for p, q in zip(a.params_, b.params_))
    assert b.history_["epoch"][-1] == 2


def test_score_by_ais_beyond_enumeration_agrees_with_exact():
    est = BernoulliRBM(22, principle="cd", n_iter=3, learning_rate=0.1, random_state=0, ais_chains=200,
                       ais_steps=2000).fit(TRAIN)
    ll = est.score(TEST)                                   # 2^22 states: AIS
    assert est.log_z_stderr_ > 0
    exact_ll = exact.log_likelihood(est.params_, TEST)
    assert abs(ll - exact_ll) < 4 * est.log_z_stderr_ + 0.05, (ll, exact_ll, est.log_z_stderr_)


def test_samples_and_features():
    est = BernoulliRBM(16, n_iter=3, learning_rate=0.1, random_state=0).fit(TRAIN)
    S = est.sample(50, rng=0)
    assert S.shape == (50, 64) and set(np.unique(S)) <= {0.0, 1.0}
    G = est.sample(5, n_steps=10, rng=0)                  # Gibbs chains instead of exact draws
    assert G.shape == (5, 64)
    H = est.transform(TEST)
    assert H.shape == (len(TEST), 16) and H.min() >= 0 and H.max() <= 1


def test_divergence_keeps_the_last_finite_parameters():
    Z = standardize(load_digits_continuous()).z
    est = GaussianBernoulliRBM(8, principle="cd", learning_rate=1e6, random_state=0)
    with pytest.raises(TrainingDiverged):
        est.fit(Z)
    assert all(np.all(np.isfinite(p)) for p in est.params_)


@pytest.mark.parametrize("est, name", [
    (BernoulliRBM(0), "n_components"),
    (BernoulliRBM(4, n_iter=0), "n_iter"),
    (BernoulliRBM(4, learning_rate=-1.0), "learning_rate"),
    (BernoulliRBM(4, batch_size=2.5), "batch_size"),
    (BernoulliRBM(4, principle="sm"), "principle"),
    (BernoulliRBM(4, principle=42), "principle"),
    (BernoulliRBM(4, principle="cd", principle_options={"q": 1}), "principle_options"),
    (BernoulliRBM(4, principle=PCD(), principle_options={"k": 2}), "principle_options"),
    (BernoulliRBM(4, random_state="seed"), "random_state"),
    (BernoulliRBM(4, momentum=1.0), "momentum"),
    (BernoulliRBM(4, threshold="half"), "threshold"),
    (BoltzmannMachine(verbose="yes"), "verbose"),
    (BoltzmannMachine(ais_chains=1), "ais_chains"),
    (GaussianBernoulliRBM(4, principle="pl"), "principle"),
    (GaussianBernoulliRBM(4, sigma=-1.0), "sigma"),
])
def test_bad_options_are_refused_by_name(est, name):
    data = np.random.default_rng(0).normal(size=(30, 6))
    if not isinstance(est, GaussianBernoulliRBM):
        data = (data > 0).astype(float)
    with pytest.raises((ValueError, TypeError)) as info:
        est.fit(data)
    assert name in str(info.value)


def test_make_principle():
    assert repr(make_principle("cd", TRAIN, options={"k": 10})) == "CD(k=10)"
    assert make_principle("fpcd", TRAIN, learning_rate=0.2).fast_learning_rate == 0.2
    with pytest.raises(ValueError, match="kind"):
        make_principle("cd", TRAIN, kind="ternary")


def test_readme_example_runs():
    "the README's example, executed as written"
    import re
    from pathlib import Path
    text = (Path(__file__).parents[1] / "README.md").read_text()
    code = re.search(r"<!-- readme-example -->\n```python\n(.*?)```", text, re.S).group(1)
    scope = {}
    exec(code, scope)
    assert scope["features"].shape == (360, 16) and scope["samples"].shape == (10, 64)
    assert scope["rbm"].score(scope["test"]) > -21
