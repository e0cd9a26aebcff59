"""Tests for ebm_literate.training: argument checks, the fused update, divergence handling, batching, convergence."""
import io
import contextlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from ebm_literate.models import BM, RBM, init_bm, init_rbm
from ebm_literate.exact import log_likelihood, sample as exact_sample
from ebm_literate.gradient import ExactML, exact_gradient
from ebm_literate.training import (TrainingDiverged, TrainResult, _sgd_step, _sgd_step_reference, exact_ll,
                                   linear_schedule, objective_monitor, train)

RNG = np.random.default_rng(0)
X = (RNG.random((60, 6)) < 0.4).astype(float)
RBM0 = init_rbm(6, 3, rng=1, scale=0.1, data=X)


class Zero:
    "A principle that returns zero gradients and records the batches it saw"
    def grad(self, params, batch, state, rng):
        return type(params)(*(np.zeros_like(f) for f in params)), (state or []) + [batch]


class Constant:
    "A principle that returns a fixed gradient"
    def __init__(self, g): self.g = g
    def grad(self, params, batch, state, rng): return self.g, state


@pytest.mark.parametrize("kwargs, needle", [
    (dict(learning_rate=0.0), "learning_rate"),
    (dict(learning_rate=-1.0), "learning_rate"),
    (dict(learning_rate=np.inf), "learning_rate"),
    (dict(batch_size=61), "batch_size must be at most the number of samples in data (60)"),
    (dict(batch_size=0), "batch_size"),
    (dict(momentum=1.0), "momentum"),
    (dict(momentum=-0.1), "momentum"),
    (dict(weight_decay=-1e-3), "weight_decay"),
    (dict(schedule="cosine"), "schedule must be one of"),
    (dict(monitors={"epoch": len}), "reserved"),
    (dict(monitor_every=0), "monitor_every"),
])
def test_bad_arguments(kwargs, needle):
    with pytest.raises(ValueError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        train(RBM0, X, ExactML(), n_epochs=1, **kwargs)


def test_bad_data_principle_and_lengths():
    with pytest.raises(ValueError, match="binary"):
        train(RBM0, X * 0.5, ExactML(), n_epochs=1)
    with pytest.raises(ValueError, match="6 columns"):
        train(RBM0, X[:, :4], ExactML(), n_epochs=1)
    with pytest.raises(TypeError, match="grad"):
        train(RBM0, X, object(), n_epochs=1)
    with pytest.raises(ValueError, match="exactly one of n_epochs and n_steps"):
        train(RBM0, X, ExactML())
    with pytest.raises(ValueError, match="exactly one of n_epochs and n_steps"):
        train(RBM0, X, ExactML(), n_epochs=1, n_steps=3)
    with pytest.raises(TypeError, match="schedule"):
        train(RBM0, X, ExactML(), n_epochs=1, schedule=3)
    with pytest.raises(TypeError, match="params"):
        train((np.zeros(3),), X, ExactML(), n_epochs=1)
    with pytest.raises(TypeError, match="grads a RBM"):
        train(RBM0, X, Constant(BM(np.zeros((6, 6)), np.zeros(6))), n_steps=1)
    with pytest.raises(ValueError, match="grads.W of shape"):
        train(RBM0, X, Constant(RBM(np.zeros((6, 2)), np.zeros(6), np.zeros(3))), n_steps=1)


@settings(max_examples=50, deadline=None)
@given(n=st.integers(1, 40), lr=st.floats(1e-4, 10), decay=st.floats(0, 1), mom=st.sampled_from([0.0, 0.5, 0.9]),
       seed=st.integers(0, 2**31))
def test_fused_update_matches_reference(n, lr, decay, mom, seed):
    r = np.random.default_rng(seed)
    p, g, v = r.normal(size=n), r.normal(size=n), r.normal(size=n)
    ref_p, ref_v = _sgd_step_reference(p, g, v, lr, decay, mom)
    out, v2 = np.empty(n), v.copy()
    assert _sgd_step(p, g, v2, out, lr, decay, mom)
    np.testing.assert_allclose(out, ref_p, rtol=1e-13, atol=1e-13)
    if mom > 0:
        np.testing.assert_allclose(v2, ref_v, rtol=1e-13, atol=1e-13)


def test_one_update_by_hand_with_momentum_and_decay():
    g = exact_gradient(RBM0, X)
    r = train(RBM0, X, ExactML(), n_steps=2, batch_size=60, learning_rate=0.3, momentum=0.5, weight_decay=0.1, rng=0)
    # step 1: v1 = lr (g0 - wd W0); step 2: v2 = mu v1 + lr (g1 - wd W1)
    v1 = [0.3 * (gf - (0.1 * pf if name == "W" else 0)) for name, gf, pf in zip(RBM._fields, g, RBM0)]
    p1 = RBM(*(pf + vf for pf, vf in zip(RBM0, v1)))
    g1 = exact_gradient(p1, X)
    v2 = [0.5 * a + 0.3 * (gf - (0.1 * pf if name == "W" else 0)) for name, a, gf, pf in zip(RBM._fields, v1, g1, p1)]
    for a, pf, vf in zip(r.params, p1, v2):
        np.testing.assert_allclose(a, pf + vf, rtol=1e-12, atol=1e-14)
    assert isinstance(r, TrainResult)


def test_divergence_hands_back_last_finite_params():
    class Explode:
        def grad(self, params, batch, state, rng):
            n = (state or 0) + 1
            return RBM(np.full_like(params.W, 1e308 if n >= 3 else 0.0), np.zeros_like(params.b),
                       np.zeros_like(params.c)), n
    with pytest.raises(TrainingDiverged, match="update 4") as info:
        train(RBM0, X, Explode(), n_steps=10, batch_size=10, learning_rate=1.0, rng=0,
              monitors={"zero": lambda p: 0.0}, monitor_every=1)
    e = info.value
    assert e.step == 4 and e.state == 3
    assert all(np.all(np.isfinite(f)) for f in e.params)
    assert np.all(e.params.W == RBM0.W + 1e308)        # after update 3, the last finite one
    assert list(e.history["step"]) == [0, 1, 2, 3]
    assert isinstance(e, FloatingPointError)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 50), batch_size=st.integers(1, 50), epochs=st.integers(1, 3), seed=st.integers(0, 1000))
def test_every_example_once_per_epoch(n, batch_size, epochs, seed):
    if batch_size > n:
        return
    data = np.arange(n, dtype=float)[:, None] * np.ones((1, 2))
    seen = []

    class Record:
        def grad(self, params, batch, state, rng):
            seen.append(batch[:, 0].copy())
            return type(params)(*(np.zeros_like(f) for f in params)), state

    # data are not binary, so use a plain named tuple type to skip the Bernoulli check
    from typing import NamedTuple

    class P(NamedTuple):
        W: np.ndarray
        b: np.ndarray

    train(P(np.zeros((2, 1)), np.zeros(2)), data, Record(), n_epochs=epochs, batch_size=batch_size, learning_rate=0.1,
          rng=seed)
    steps = -(-n // batch_size)
    assert len(seen) == epochs * steps
    for e in range(epochs):
        chunk = seen[e * steps:(e + 1) * steps]
        assert max(len(c) for c in chunk) <= batch_size and max(len(c) for c in chunk) - min(len(c) for c in chunk) <= 1
        assert sorted(np.concatenate(chunk).astype(int)) == list(range(n))


def test_reproducible_and_input_not_modified():
    W0 = RBM0.W.copy()
    a = train(RBM0, X, ExactML(), n_epochs=3, batch_size=7, learning_rate=0.1, momentum=0.5, rng=3)
    b = train(RBM0, X, ExactML(), n_epochs=3, batch_size=7, learning_rate=0.1, momentum=0.5, rng=3)
    assert all(np.array_equal(x, y) for x, y in zip(a.params, b.params))
    assert np.array_equal(RBM0.W, W0)


def test_schedules_and_history_columns():
    r = train(RBM0, X, ExactML(), n_steps=10, batch_size=60, learning_rate=0.2, schedule="linear",
              monitors={"ll": exact_ll(X)}, monitor_every=1, rng=0)
    h = r.history
    np.testing.assert_allclose(h["learning_rate"][:10], 0.2 * (1 - np.arange(10) / 10))
    assert list(h["step"]) == list(range(11)) and h["epoch"][-1] == 10
    assert np.all(np.diff(h["seconds"]) >= 0)
    assert linear_schedule(9, 10) == pytest.approx(0.1)
    r2 = train(RBM0, X, ExactML(), n_steps=3, batch_size=60, learning_rate=0.2, rng=0)
    assert list(r2.history) == ["step", "epoch", "seconds", "learning_rate"] and r2.history["step"][-1] == 3


def test_exact_ll_monitors_share_log_z_and_are_exact(monkeypatch):
    import ebm_literate.training as training
    Y = X[:20]
    m1, m2 = exact_ll(X, Y)
    calls, real = [], training.log_partition
    monkeypatch.setattr(training, "log_partition", lambda p: calls.append(p) or real(p))
    assert m1(RBM0) == pytest.approx(log_likelihood(RBM0, X), abs=1e-12)
    assert m2(RBM0) == pytest.approx(log_likelihood(RBM0, Y), abs=1e-12)
    other = RBM0._replace(c=RBM0.c + 1.0)
    assert m1(other) == pytest.approx(log_likelihood(other, X), abs=1e-12)
    assert m2(other) == pytest.approx(log_likelihood(other, Y), abs=1e-12)
    assert len(calls) == 2                            # one enumeration per parameter set, shared by both monitors
    assert exact_ll(X)(RBM0) == pytest.approx(log_likelihood(RBM0, X), abs=1e-12)
    with pytest.raises(TypeError, match="objective"):
        objective_monitor(object(), X)
    assert objective_monitor(ExactML(), X)(RBM0) == pytest.approx(log_likelihood(RBM0, X))


def test_exact_gradient_converges_to_maximum_likelihood_bm():
    teacher = init_bm(5, rng=1, scale=1.0)._replace(b=np.random.default_rng(2).normal(0, 0.5, 5))
    data = exact_sample(teacher, 300, rng=3)
    r = train(BM(np.zeros((5, 5)), np.zeros(5)), data, ExactML(), n_steps=1500, batch_size=300,
              learning_rate=0.5, momentum=0.9, rng=0)
    g = exact_gradient(r.params, data)
    iu = np.triu_indices(5, 1)
    assert np.sqrt(np.sum(g.W[iu] ** 2) + np.sum(g.b ** 2)) < 1e-10
    assert np.array_equal(r.params.W, r.params.W.T) and np.all(np.diag(r.params.W) == 0)


def test_weight_decay_only_on_W():
    g = RBM(np.zeros((6, 3)), np.zeros(6), np.zeros(3))
    start = RBM(np.ones((6, 3)), np.ones(6), np.ones(3))
    r = train(start, X, Constant(g), n_steps=1, batch_size=60, learning_rate=0.5, weight_decay=0.2, rng=0)
    np.testing.assert_allclose(r.params.W, 0.9)
    np.testing.assert_allclose(r.params.b, 1.0) and np.testing.assert_allclose(r.params.c, 1.0)


def test_progress_bar_on_stderr():
    buf = io.StringIO()
    with contextlib.redirect_stderr(buf):
        train(RBM0, X, ExactML(), n_steps=4, batch_size=30, rng=0, progress=True, monitors={"ll": exact_ll(X)})
    out = buf.getvalue()
    assert "4/4" in out and "ll=" in out and out.endswith("\n")
