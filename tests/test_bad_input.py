"""Bad input, function by function, for every module: each kind (a wrong type, a bool where a number belongs, NaN or
infinity, a wrong shape or size, empty input, a value out of range, non-binary data for a Bernoulli model, a state from
another model) raises a ValueError or TypeError whose message names the argument and says what came; and a call that
fails leaves its inputs as they were."""
import copy
from typing import NamedTuple

import numpy as np
import pytest

from ebm_literate import cd, data, exact, gradient, mcmc, models, partition, pseudolikelihood, sml, training
from ebm_literate.models import BM

RNG = np.random.default_rng(0)
R = models.init_rbm(6, 4, rng=0, scale=0.5)                      # RBM 6-4
B = models.init_bm(6, rng=1, scale=0.5)                          # BM 6
R9 = models.init_rbm(9, 4, rng=2)                                # a model of another size
X = (RNG.random((10, 6)) < 0.5).astype(float)                    # binary data for both
X9 = (RNG.random((10, 9)) < 0.5).astype(float)
HALF = np.full((3, 6), 0.5)                                      # not binary
NAN = np.where(np.eye(3, 6) == 1, np.nan, 0.0)
INF = np.where(np.eye(3, 6) == 1, np.inf, 0.0)
EMPTY = np.zeros((0, 6))
RAGGED = [[0.0, 1.0], [1.0]]
STRINGS = [["0", "1", "0", "1", "0", "1"]]
ST = sml.PCD(1).grad(R, X, rng=0)[1]                             # Chains of R (10 chains)
STB = sml.PCD(1).grad(B, X, rng=0)[1]                            # Chains of B
ST9 = sml.PCD(1).grad(R9, X9, rng=0)[1]                          # Chains of another model
FST = sml.FastPCD(0.1).grad(R, X, rng=0)[1]                      # FastChains of R
T4 = mcmc.transition_matrix(models.init_bm(2, rng=0, scale=1.0))
P4, F4 = np.exp(exact.log_probs(models.init_bm(2, rng=0, scale=1.0))[1]), np.arange(4.0)
TRACE = RNG.normal(size=(50, 3))
BETAS = partition.linear_betas(5)
EST = partition.ais(R, 5, BETAS, rng=0)


class Other(NamedTuple):
    "a model type the package does not know"
    a: np.ndarray


def chains(**kw):
    return ST._replace(**kw)


def fast(**kw):
    return FST._replace(**kw)


CASES = {  # module -> [(call, args, kwargs, exception, argument named in the message)]
    "models": [
        (models.softplus, ("1.0",), {}, TypeError, "a"),
        (models.sigmoid, (RAGGED,), {}, TypeError, "a"),
        (models.log_sigmoid, (None,), {}, TypeError, "a"),
        (models.logsumexp, (STRINGS,), {}, TypeError, "a"),
        (models.n_visible, ("model",), {}, TypeError, "params"),
        (models.energy, (B, HALF), {}, ValueError, "x"),
        (models.energy, (R, X), {}, TypeError, "h"),
        (models.energy, (R, X, np.zeros((10, 3))), {}, ValueError, "h"),
        (models.energy, (B, X, X), {}, TypeError, "h"),
        (models.free_energy, ("rbm", X), {}, TypeError, "params"),
        (models.free_energy, (R, X[:, :5]), {}, ValueError, "x"),
        (models.free_energy, (R, NAN), {}, ValueError, "x"),
        (models.free_energy, (R, INF), {}, ValueError, "x"),
        (models.free_energy, (R, EMPTY), {}, ValueError, "x"),
        (models.free_energy, (R, X[0]), {}, ValueError, "x"),
        (models.free_energy, (R, RAGGED), {}, TypeError, "x"),
        (models.free_energy, (R, STRINGS), {}, TypeError, "x"),
        (models.free_energy, (R, X.astype(complex)), {}, TypeError, "x"),
        (models.free_energy, (R._replace(W=R.W[:, :3]), X), {}, ValueError, "params.W"),
        (models.free_energy, (R._replace(c=np.array([0.0, np.nan, 0.0, 0.0])), X), {}, ValueError, "params.c"),
        (models.free_energy, (B._replace(W=B.W + np.eye(6)), X), {}, ValueError, "params.W"),
        (models.free_energy, (B._replace(W=np.triu(B.W + 1, 1)), X), {}, ValueError, "params.W"),
        (models.free_energy, (BM(np.zeros((0, 0)), np.zeros(0)), EMPTY[:, :0]), {}, ValueError, "params.b"),
        (models.log_unnormalized, (R, HALF), {}, ValueError, "x"),
        (models.hidden_probs, (B, X), {}, TypeError, "params"),
        (models.hidden_probs, (R, X9), {}, ValueError, "v"),
        (models.visible_probs, (R, X), {}, ValueError, "h"),
        (models.conditional_probs, (R, X), {}, TypeError, "params"),
        (models.conditional_probs, (B, HALF), {}, ValueError, "x"),
        (models.init_rbm, (True, 4), {}, TypeError, "n_visible"),
        (models.init_rbm, (6, 0), {}, ValueError, "n_hidden"),
        (models.init_rbm, (6, 4.0), {}, TypeError, "n_hidden"),
        (models.init_rbm, (6, 4), dict(scale=np.inf), ValueError, "scale"),
        (models.init_rbm, (6, 4), dict(scale="0.1"), TypeError, "scale"),
        (models.init_rbm, (6, 4), dict(scale=-1.0), ValueError, "scale"),
        (models.init_rbm, (6, 4), dict(rng="seed"), TypeError, "rng"),
        (models.init_rbm, (6, 4), dict(data=HALF), ValueError, "data"),
        (models.init_rbm, (6, 4), dict(data=X9), ValueError, "data"),
        (models.init_bm, (0,), {}, ValueError, "n"),
        (models.init_bm, (6,), dict(scale=np.nan), ValueError, "scale"),
        (models.init_bm, (6,), dict(scale=True), TypeError, "scale"),
        (models.init_bm, (6,), dict(rng=1.5), TypeError, "rng"),
        (models.as_float_array, (RAGGED, "y"), {}, TypeError, "y"),
        (models.as_float_array, (np.zeros(3), "y"), dict(ndim=2), ValueError, "y"),
        (models.check_binary, (HALF, "batch"), {}, ValueError, "batch"),
        (models.check_binary, (np.zeros((2, 3, 4)), "batch"), {}, ValueError, "batch"),
        (models.check_params, (R,), dict(kind=BM), TypeError, "params"),
        (models.check_param_tuple, ((1, 2),), {}, TypeError, "params"),
        (models.check_param_tuple, (Other(np.array([np.inf])),), {}, ValueError, "params.a"),
        (models.check_data, (Other(np.zeros(2)), np.zeros(3)), {}, ValueError, "x"),
        (models.check_data, (Other(np.zeros(2)), np.zeros((0, 3))), {}, ValueError, "x"),
        (models.check_int, (True, "k"), {}, TypeError, "k"),
        (models.check_int, (3, "k"), dict(maximum=2), ValueError, "k"),
        (models.check_real, ("1", "x"), {}, TypeError, "x"),
        (models.check_real, (np.nan, "x"), {}, ValueError, "x"),
        (models.check_bool, ("no", "progress"), {}, TypeError, "progress"),
        (models.check_rng, ("seed",), {}, TypeError, "rng"),
        (models.check_rng, (-1,), {}, TypeError, "rng"),
    ],
    "exact": [
        (exact.binary_states, (0, 5, 2), {}, ValueError, "stop"),
        (exact.binary_states, (-1, 2, 2), {}, ValueError, "start"),
        (exact.binary_states, (0, 2, 63), {}, ValueError, "m"),
        (exact.binary_states, (0, 2.0, 2), {}, TypeError, "stop"),
        (exact.log_partition, ("bm",), {}, TypeError, "params"),
        (exact.log_partition, (models.init_bm(40),), {}, ValueError, "max_states"),
        (exact.log_partition, (B,), dict(max_states=0), ValueError, "max_states"),
        (exact.log_partition, (B,), dict(max_states=2.0**20), TypeError, "max_states"),
        (exact.log_partition, (B,), dict(max_states=2**70), ValueError, "max_states"),
        (exact.log_partition_reference, (B,), dict(block=0), ValueError, "block"),
        (exact.log_likelihood, (R, X), dict(log_z=np.nan), ValueError, "log_z"),
        (exact.log_likelihood, (R, X), dict(log_z="1"), TypeError, "log_z"),
        (exact.log_likelihood, (R, HALF), {}, ValueError, "data"),
        (exact.log_likelihood, (R, EMPTY), {}, ValueError, "data"),
        (exact.log_probs, (models.init_bm(21),), {}, ValueError, "log_probs"),
        (exact.log_probs, (X,), {}, TypeError, "params"),
        (exact.expectations, (models.init_bm(40),), {}, ValueError, "max_states"),
        (exact.sample, (R, 0), {}, ValueError, "n"),
        (exact.sample, (R, True), {}, TypeError, "n"),
        (exact.sample, (R, 5), dict(rng="seed"), TypeError, "rng"),
        (exact.sample, (R, 5), dict(return_hidden="no"), TypeError, "return_hidden"),
        (exact.sample, (B, 5), dict(return_hidden=True), TypeError, "return_hidden"),
    ],
    "mcmc": [
        (mcmc.rng_states, (0, -1), {}, ValueError, "n_chains"),
        (mcmc.rng_states, (0, 2.0), {}, TypeError, "n_chains"),
        (mcmc.rng_states, ("seed", 2), {}, TypeError, "rng"),
        (mcmc.check_rng_states, (ST.rng_states[:, :3].copy(),), {}, ValueError, "rng_states"),
        (mcmc.check_rng_states, (ST.rng_states.astype(np.int64),), {}, TypeError, "rng_states"),
        (mcmc.check_rng_states, (ST.rng_states, 9), {}, ValueError, "rng_states"),
        (mcmc.check_rng_states, (np.zeros((2, 4), dtype=np.uint64),), {}, ValueError, "rng_states"),
        (mcmc.check_rng_states, (ST.rng_states.tolist(),), {}, TypeError, "rng_states"),
        (mcmc.rbm_gibbs, (R, X, 1), dict(beta=np.inf), ValueError, "beta"),
        (mcmc.rbm_gibbs, (R, X, 1), dict(beta="1"), TypeError, "beta"),
        (mcmc.rbm_gibbs, (R, X, 1), dict(beta=-0.5), ValueError, "beta"),
        (mcmc.rbm_gibbs, (R, X, -1), {}, ValueError, "k"),
        (mcmc.rbm_gibbs, (R, X, True), {}, TypeError, "k"),
        (mcmc.rbm_gibbs, (R, HALF, 1), {}, ValueError, "v"),
        (mcmc.rbm_gibbs, (R, X9, 1), {}, ValueError, "v"),
        (mcmc.rbm_gibbs, (R, EMPTY, 1), {}, ValueError, "v"),
        (mcmc.rbm_gibbs, (B, X, 1), {}, TypeError, "params"),
        (mcmc.rbm_gibbs, (R, X, 1), dict(rng="seed"), TypeError, "rng"),
        (mcmc.bm_gibbs, (B, NAN, 1), {}, ValueError, "x"),
        (mcmc.bm_gibbs, (B, X, 1.0), {}, TypeError, "k"),
        (mcmc.bm_gibbs, (B, X, 1), dict(return_probs="no"), TypeError, "return_probs"),
        (mcmc.bm_gibbs, (R, X, 1), {}, TypeError, "params"),
        (mcmc.gibbs_chain, (B, X, 0), {}, ValueError, "n_samples"),
        (mcmc.gibbs_chain, (R, X, 2), dict(thin=0), ValueError, "thin"),
        (mcmc.gibbs_chain, (R, X, 2), dict(beta=np.nan), ValueError, "beta"),
        (mcmc.gibbs_chain, (R, HALF, 2), {}, ValueError, "x"),
        (mcmc.transition_matrix, (models.init_bm(13),), {}, ValueError, "MAX_TRANSITION_STATES"),
        (mcmc.transition_matrix, (B,), dict(beta=-1), ValueError, "beta"),
        (mcmc.exact_autocorrelation, (T4, P4[:3], F4, 5), {}, ValueError, "p"),
        (mcmc.exact_autocorrelation, (T4, P4, F4[:2], 5), {}, ValueError, "f"),
        (mcmc.exact_autocorrelation, (T4[:3], P4, F4, 5), {}, ValueError, "T"),
        (mcmc.exact_autocorrelation, (2 * T4, P4, F4, 5), {}, ValueError, "T"),
        (mcmc.exact_autocorrelation, (T4, P4, F4, -1), {}, ValueError, "max_lag"),
        (mcmc.exact_autocorrelation, (T4, P4, F4, 2.0), {}, TypeError, "max_lag"),
        (mcmc.exact_autocorrelation, (T4, P4, np.ones(4), 3), {}, ValueError, "f"),
        (mcmc.exact_autocorr_time, (T4, 2 * P4, F4), {}, ValueError, "p"),
        (mcmc.exact_autocorr_time, (T4, P4, np.full(4, np.nan)), {}, ValueError, "f"),
        (mcmc.autocorrelation, (np.ones(3),), {}, ValueError, "x"),
        (mcmc.autocorrelation, (np.array([1.0, np.nan, 2.0, 3.0, 4.0]),), {}, ValueError, "x"),
        (mcmc.autocorrelation, (TRACE,), dict(max_lag=-1), ValueError, "max_lag"),
        (mcmc.autocorrelation, (np.zeros((10, 0)),), {}, ValueError, "x"),
        (mcmc.integrated_autocorr_time, ("abc",), {}, TypeError, "x"),
        (mcmc.effective_sample_size, (np.ones(3),), {}, ValueError, "x"),
        (mcmc.effective_sample_size, (RAGGED,), {}, TypeError, "x"),
        (mcmc.chain_mean, (np.full((10, 2), np.inf),), {}, ValueError, "x"),
    ],
    "gradient": [
        (gradient.positive_phase, (R, HALF), {}, ValueError, "batch"),
        (gradient.positive_phase, (X, R), {}, TypeError, "params"),
        (gradient.negative_phase_exact, (models.init_rbm(40, 40),), {}, ValueError, "negative_phase_exact"),
        (gradient.negative_phase_samples, (R, X[:1]), {}, ValueError, "v_samples"),
        (gradient.negative_phase_samples, (R, X), dict(hidden=np.full((10, 4), 2.0)), ValueError, "hidden"),
        (gradient.negative_phase_samples, (R, X), dict(hidden=np.zeros((10, 3))), ValueError, "hidden"),
        (gradient.negative_phase_samples, (B, X), dict(hidden=np.zeros((10, 3))), TypeError, "hidden"),
        (gradient.negative_phase_gibbs, (R, X, -1), {}, ValueError, "k"),
        (gradient.negative_phase_gibbs, (R, X, 1), dict(rng="seed"), TypeError, "rng"),
        (gradient.negative_phase_gibbs, (B, HALF, 1), {}, ValueError, "v0"),
        (gradient.exact_gradient, (R, X9), {}, ValueError, "data"),
        (gradient.exact_gradient, (models.init_bm(40), np.zeros((2, 40))), {}, ValueError, "exact_gradient"),
        (gradient.ExactML().grad, (R, X), dict(state=ST), TypeError, "state"),
        (gradient.ExactML().grad, (R, X), dict(rng="seed"), TypeError, "rng"),
        (gradient.ExactML().grad, (R, HALF), {}, ValueError, "batch"),
        (gradient.ExactML().check_state, (R, "state"), {}, TypeError, "state"),
        (gradient.ExactML().objective, (R, X9), {}, ValueError, "batch"),
        (gradient.flatten_params, (np.zeros(3),), {}, TypeError, "params"),
        (gradient.flatten_params, (R._replace(b=np.full(6, np.nan)),), {}, ValueError, "params.b"),
        (gradient.unflatten_params, (np.zeros(5), R), {}, ValueError, "theta"),
        (gradient.unflatten_params, (np.full(34, np.inf), R), {}, ValueError, "theta"),
        (gradient.unflatten_params, (np.zeros(34), "R"), {}, TypeError, "like"),
    ],
    "training": [
        (training.train, (R, X, object()), dict(batch_size=5, n_epochs=1), TypeError, "principle"),
        (training.train, (R, X, gradient.ExactML()), dict(batch_size=5), ValueError, "n_epochs"),
        (training.train, (R, X, gradient.ExactML()), dict(batch_size=5, n_epochs=1, n_steps=2), ValueError, "n_steps"),
        (training.train, (R, X, gradient.ExactML()), dict(batch_size=5, n_epochs=0), ValueError, "n_epochs"),
        (training.train, (R, X, gradient.ExactML()), dict(batch_size=5, n_steps=2.0), TypeError, "n_steps"),
        (training.train, (R, HALF, gradient.ExactML()), dict(batch_size=5, n_epochs=1), ValueError, "data"),
        (training.train, (R, X9, gradient.ExactML()), dict(batch_size=5, n_epochs=1), ValueError, "data"),
        (training.train, (R, RAGGED, gradient.ExactML()), dict(batch_size=5, n_epochs=1), TypeError, "data"),
        (training.train, (R, STRINGS, gradient.ExactML()), dict(batch_size=5, n_epochs=1), TypeError, "data"),
        (training.train, ("R", X, gradient.ExactML()), dict(batch_size=5, n_epochs=1), TypeError, "params"),
        (training.train, (R, X, gradient.ExactML()), dict(n_epochs=1, batch_size=11), ValueError, "batch_size"),
        (training.train, (R, X, gradient.ExactML()), dict(n_epochs=1, batch_size=True), TypeError, "batch_size"),
        (training.train, (R, X, gradient.ExactML()), dict(batch_size=5, n_epochs=1, learning_rate=np.nan), ValueError,
         "learning_rate"),
        (training.train, (R, X, gradient.ExactML()), dict(batch_size=5, n_epochs=1, learning_rate=0.0), ValueError,
         "learning_rate"),
        (training.train, (R, X, gradient.ExactML()), dict(batch_size=5, n_epochs=1, momentum=1.0), ValueError, "momentum"),
        (training.train, (R, X, gradient.ExactML()), dict(batch_size=5, n_epochs=1, momentum=True), TypeError, "momentum"),
        (training.train, (R, X, gradient.ExactML()), dict(batch_size=5, n_epochs=1, weight_decay=True), TypeError, "weight_decay"),
        (training.train, (R, X, gradient.ExactML()), dict(batch_size=5, n_epochs=1, weight_decay=-1.0), ValueError, "weight_decay"),
        (training.train, (R, X, gradient.ExactML()), dict(batch_size=5, n_epochs=1, schedule="cosine"), ValueError, "schedule"),
        (training.train, (R, X, gradient.ExactML()), dict(batch_size=5, n_epochs=1, schedule=3), TypeError, "schedule"),
        (training.train, (R, X, gradient.ExactML()), dict(batch_size=5, n_epochs=1, schedule=lambda s, n: np.nan), ValueError,
         "schedule"),
        (training.train, (R, X, gradient.ExactML()), dict(batch_size=5, n_epochs=1, monitors=[len]), TypeError, "monitors"),
        (training.train, (R, X, gradient.ExactML()), dict(batch_size=5, n_epochs=1, monitors={"ll": 3}), TypeError, "monitors"),
        (training.train, (R, X, gradient.ExactML()), dict(batch_size=5, n_epochs=1, monitors={"step": len}), ValueError, "step"),
        (training.train, (R, X, gradient.ExactML()), dict(batch_size=5, n_epochs=1, monitor_every=0), ValueError, "monitor_every"),
        (training.train, (R, X, gradient.ExactML()), dict(batch_size=5, n_epochs=1, rng="seed"), TypeError, "rng"),
        (training.train, (R, X, gradient.ExactML()), dict(batch_size=5, n_epochs=1, progress="no"), TypeError, "progress"),
        (training.train, (R, X, gradient.ExactML()), dict(batch_size=5, n_epochs=1, state="chains"), TypeError, "state"),
        (training.train, (R, X, sml.PCD(1)), dict(batch_size=5, n_epochs=1, state="chains"), TypeError, "state"),
        (training.train, (R, X, sml.PCD(1)), dict(batch_size=5, n_epochs=1, state=ST9), ValueError, "state.v"),
        (training.train, (R, X, sml.PCD(1)), dict(batch_size=5, n_epochs=1, state=STB), ValueError, "state.h"),
        (training.train, (R, X, sml.FastPCD(0.1)), dict(batch_size=5, n_epochs=1, state=ST), TypeError, "state"),
        (training.fit_lbfgs, (pseudolikelihood.PseudoLikelihood(), R, X), dict(weight_decay=True), TypeError,
         "weight_decay"),
        (training.fit_lbfgs, (pseudolikelihood.PseudoLikelihood(), R, X), dict(max_iter=0), ValueError, "max_iter"),
        (training.fit_lbfgs, (pseudolikelihood.PseudoLikelihood(), R, X), dict(gtol=np.inf), ValueError, "gtol"),
        (training.fit_lbfgs, (pseudolikelihood.PseudoLikelihood(), R, HALF), {}, ValueError, "data"),
        (training.fit_lbfgs, (object(), R, X), {}, TypeError, "principle"),
        (training.exact_ll, (RAGGED,), {}, TypeError, "data"),
        (training.exact_ll, (X, np.zeros(3)), {}, ValueError, "datasets[1]"),
        (training.exact_ll, (), {}, TypeError, "data set"),
        (training.objective_monitor, (object(), X), {}, TypeError, "objective"),
        (training.objective_monitor, (gradient.ExactML(), np.full((2, 6), np.nan)), {}, ValueError, "data"),
        (training.linear_schedule, (3, 3), {}, ValueError, "step"),
        (training.linear_schedule, (0, 0), {}, ValueError, "n_steps"),
        (training.constant_schedule, (0.5, 3), {}, TypeError, "step"),
    ],
    "cd": [
        (cd.CD, (0,), {}, ValueError, "k"),
        (cd.CD, (1.5,), {}, TypeError, "k"),
        (cd.CD, (True,), {}, TypeError, "k"),
        (cd.CD(1).grad, (R, HALF), {}, ValueError, "batch"),
        (cd.CD(1).grad, (R, X9), {}, ValueError, "batch"),
        (cd.CD(1).grad, (R, EMPTY), {}, ValueError, "batch"),
        (cd.CD(1).grad, ("rbm", X), {}, TypeError, "params"),
        (cd.CD(1).grad, (R, X), dict(rng="seed"), TypeError, "rng"),
        (cd.CD(1).grad, (R, X), dict(state=ST), TypeError, "state"),
        (cd.CD(1).check_state, (R, ST), {}, TypeError, "state"),
        (cd.chain_distributions, (R, X, [3, 1]), {}, ValueError, "ks"),
        (cd.chain_distributions, (R, X, []), {}, ValueError, "ks"),
        (cd.chain_distributions, (R, X, [1.5]), {}, TypeError, "ks[0]"),
        (cd.chain_distributions, (R, X, [-1]), {}, ValueError, "ks[0]"),
        (cd.chain_distributions, (R, HALF, [1]), {}, ValueError, "data"),
        (cd.chain_distributions, (models.init_rbm(13, 2), np.zeros((2, 13)), [1]), {}, ValueError,
         "MAX_TRANSITION_STATES"),
        (cd.expected_cd_gradient, (R, X, -1), {}, ValueError, "k"),
        (cd.expected_cd_gradient, (R, X, "1"), {}, TypeError, "k"),
        (cd.expected_cd_gradient, (B, X9, 1), {}, ValueError, "data"),
    ],
    "sml": [
        (sml.PCD, (0,), {}, ValueError, "k"),
        (sml.PCD, (1,), dict(n_chains=0), ValueError, "n_chains"),
        (sml.PCD, (1,), dict(n_chains=2.5), TypeError, "n_chains"),
        (sml.PCD(1).grad, (R, X), dict(state=(1, 2)), TypeError, "state"),
        (sml.PCD(1).grad, (R, X), dict(state=ST9), ValueError, "state.v"),
        (sml.PCD(1).grad, (models.init_rbm(6, 5), X), dict(state=ST), ValueError, "state.h"),
        (sml.PCD(1).grad, (R, X), dict(state=STB), ValueError, "state.h"),
        (sml.PCD(1).grad, (B, X), dict(state=ST), ValueError, "state.h"),
        (sml.PCD(1).grad, (R, X), dict(state=chains(rng_states=ST.rng_states[:, :3].copy())), ValueError,
         "state.rng_states"),
        (sml.PCD(1).grad, (R, X), dict(state=chains(rng_states=ST.rng_states[:4].copy())), ValueError,
         "state.rng_states"),
        (sml.PCD(1).grad, (R, X), dict(state=chains(rng_states=ST.rng_states.astype(float))), TypeError,
         "state.rng_states"),
        (sml.PCD(1).grad, (R, X), dict(state=chains(rng_states=np.zeros((10, 4), dtype=np.uint64))), ValueError,
         "state.rng_states"),
        (sml.PCD(1).grad, (R, X), dict(state=chains(v=ST.v * 0.5)), ValueError, "state.v"),
        (sml.PCD(1).grad, (R, X), dict(state=chains(v=np.where(ST.v > 0, np.nan, 0.0))), ValueError, "state.v"),
        (sml.PCD(1).grad, (R, X), dict(state=chains(h=ST.h[:5])), ValueError, "state.h"),
        (sml.PCD(1).grad, (R, X), dict(state=chains(h=ST.h + 0.5)), ValueError, "state.h"),
        (sml.PCD(1).grad, (R, X), dict(state=chains(h=None)), ValueError, "state.h"),
        (sml.PCD(1).grad, (R, X), dict(state=chains(v=np.zeros((0, 6)))), ValueError, "state.v"),
        (sml.PCD(1, n_chains=5).grad, (R, X), dict(state=ST), ValueError, "n_chains"),
        (sml.PCD(1).grad, (R, HALF), {}, ValueError, "batch"),
        (sml.PCD(1).grad, (R, X), dict(rng=True), TypeError, "rng"),
        (sml.PCD(1).check_state, (R9, ST), {}, ValueError, "state.v"),
        (sml.FastPCD, (-0.1,), {}, ValueError, "fast_learning_rate"),
        (sml.FastPCD, (True,), {}, TypeError, "fast_learning_rate"),
        (sml.FastPCD, (0.1,), dict(fast_decay=1.0), ValueError, "fast_decay"),
        (sml.FastPCD, (0.1,), dict(fast_decay=np.nan), ValueError, "fast_decay"),
        (sml.FastPCD, (0.1,), dict(k=0), ValueError, "k"),
        (sml.FastPCD(0.1).grad, (R, X), dict(state=ST), TypeError, "FastChains"),
        (sml.FastPCD(0.1).grad, (R, X), dict(state=fast(fast=B)), TypeError, "state.fast"),
        (sml.FastPCD(0.1).grad, (R, X), dict(state=fast(fast=R9)), ValueError, "state.fast"),
        (sml.FastPCD(0.1).grad, (R, X), dict(state=fast(fast=R._replace(c=np.full(4, np.inf)))), ValueError,
         "state.fast.c"),
        (sml.FastPCD(0.1).grad, (R, X), dict(state=fast(chains=ST9)), ValueError, "state.chains.v"),
        (sml.FastPCD(0.1).grad, (R, X), dict(state=fast(chains=chains(rng_states=ST.rng_states[:, :2].copy()))),
         ValueError, "state.chains.rng_states"),
        (sml.FastPCD(0.1).check_state, (R, "state"), {}, TypeError, "state"),
    ],
    "pseudolikelihood": [
        (pseudolikelihood.log_conditionals, (R, HALF), {}, ValueError, "x"),
        (pseudolikelihood.log_conditionals, ("bm", X), {}, TypeError, "params"),
        (pseudolikelihood.pseudolikelihood, (B, X), dict(n_bits=7), ValueError, "n_bits"),
        (pseudolikelihood.pseudolikelihood, (B, X), dict(n_bits=0), ValueError, "n_bits"),
        (pseudolikelihood.pseudolikelihood, (B, X), dict(n_bits=True), TypeError, "n_bits"),
        (pseudolikelihood.pseudolikelihood, (B, X), dict(n_bits=2, rng="seed"), TypeError, "rng"),
        (pseudolikelihood.pseudolikelihood, (B, NAN), {}, ValueError, "x"),
        (pseudolikelihood.pseudolikelihood_and_grad, (R, X9), {}, ValueError, "x"),
        (pseudolikelihood.pseudolikelihood_and_grad, (R, EMPTY), {}, ValueError, "x"),
        (pseudolikelihood.contiguous_blocks, (0, 2), {}, ValueError, "n"),
        (pseudolikelihood.contiguous_blocks, (6, 2.0), {}, TypeError, "size"),
        (pseudolikelihood.generalized_pseudolikelihood, (R, X, [[0, 1], [2]]), {}, ValueError, "blocks"),
        (pseudolikelihood.generalized_pseudolikelihood, (R, X, [[0, 1, 2], [3, 4, 6]]), {}, ValueError, "blocks[1]"),
        (pseudolikelihood.generalized_pseudolikelihood, (R, X, [[0, 0], [1, 2, 3, 4, 5]]), {}, ValueError,
         "blocks[0]"),
        (pseudolikelihood.generalized_pseudolikelihood, (R, X, [[0, 1.5]]), {}, ValueError, "blocks[0]"),
        (pseudolikelihood.generalized_pseudolikelihood, (R, X, [[0, [1]], [2]]), {}, ValueError, "blocks[0]"),
        (pseudolikelihood.generalized_pseudolikelihood, (R, X, "0123"), {}, ValueError, "blocks"),
        (pseudolikelihood.generalized_pseudolikelihood, (R, X, []), {}, ValueError, "blocks"),
        (pseudolikelihood.generalized_pseudolikelihood_and_grad, (R, HALF, [[0, 1, 2, 3, 4, 5]]), {}, ValueError,
         "x"),
        (pseudolikelihood.PseudoLikelihood, (0,), {}, ValueError, "n_bits"),
        (pseudolikelihood.PseudoLikelihood, (2.5,), {}, TypeError, "n_bits"),
        (pseudolikelihood.PseudoLikelihood(n_bits=9).grad, (R, X), {}, ValueError, "n_bits"),
        (pseudolikelihood.PseudoLikelihood(n_bits=9).check_state, (R, None), {}, ValueError, "n_bits"),
        (pseudolikelihood.PseudoLikelihood().grad, (R, X), dict(state=ST), TypeError, "state"),
        (pseudolikelihood.PseudoLikelihood().value_and_grad, (R, HALF), {}, ValueError, "batch"),
        (pseudolikelihood.PseudoLikelihood().objective, (R, X9), {}, ValueError, "x"),
        (pseudolikelihood.GeneralizedPseudoLikelihood, ([[0], ["a"]],), {}, ValueError, "blocks[1]"),
        (pseudolikelihood.GeneralizedPseudoLikelihood, (5,), {}, ValueError, "blocks"),
        (pseudolikelihood.GeneralizedPseudoLikelihood([[0, 1, 2]]).grad, (R, X), {}, ValueError, "blocks"),
        (pseudolikelihood.GeneralizedPseudoLikelihood([[0, 1, 2], [3, 4, 5]]).check_state, (R9, None), {},
         ValueError, "blocks"),
        (pseudolikelihood.GeneralizedPseudoLikelihood([[0, 1, 2], [3, 4, 5]]).grad, (R, X), dict(state=ST),
         TypeError, "state"),
    ],
    "partition": [
        (partition.base_rate_logits, (X,), dict(eps=0.7), ValueError, "eps"),
        (partition.base_rate_logits, (X,), dict(eps=-0.1), ValueError, "eps"),
        (partition.base_rate_logits, (X,), dict(eps=0.0), ValueError, "eps"),
        (partition.base_rate_logits, (X,), dict(eps="0.1"), TypeError, "eps"),
        (partition.base_rate_logits, (HALF,), {}, ValueError, "data"),
        (partition.base_rate_logits, (EMPTY,), {}, ValueError, "data"),
        (partition.importance_sampling, (R, 1), {}, ValueError, "n_samples"),
        (partition.importance_sampling, (R, 10), dict(base=np.zeros(5)), ValueError, "base"),
        (partition.importance_sampling, (R, 10), dict(base=np.full(6, np.nan)), ValueError, "base"),
        (partition.importance_sampling, (R, 10), dict(chunk=0), ValueError, "chunk"),
        (partition.importance_sampling, (R, 10), dict(rng="seed"), TypeError, "rng"),
        (partition.check_betas, ([0.0, 0.5, 0.4, 1.0],), {}, ValueError, "betas"),
        (partition.check_betas, ([0.1, 1.0],), {}, ValueError, "betas"),
        (partition.check_betas, ([0.0, np.nan, 1.0],), {}, ValueError, "betas"),
        (partition.check_betas, ([1.0],), {}, ValueError, "betas"),
        (partition.check_betas, ("0 1",), {}, TypeError, "betas"),
        (partition.linear_betas, (0,), {}, ValueError, "n_steps"),
        (partition.linear_betas, (2.0,), {}, TypeError, "n_steps"),
        (partition.piecewise_betas, ((0.0, 0.5, 1.0), (2,)), {}, ValueError, "steps"),
        (partition.piecewise_betas, ((0.0, 0.5, 1.0), 2), {}, TypeError, "steps"),
        (partition.piecewise_betas, ((0.0, 0.5, 1.0), (2, 0)), {}, ValueError, "steps[1]"),
        (partition.piecewise_betas, ((0.0, 0.7, 0.5, 1.0), (2, 2, 2)), {}, ValueError, "betas"),
        (partition.salakhutdinov_murray_betas, (2,), {}, ValueError, "n_steps"),
        (partition.ais, (R, 1), {}, ValueError, "n_chains"),
        (partition.ais, (R, 5), dict(betas=[0.0, 0.3]), ValueError, "betas"),
        (partition.ais, (R, 5), dict(betas=BETAS, base=np.zeros(4)), ValueError, "base"),
        (partition.ais, (R, 5), dict(betas=BETAS, progress="no"), TypeError, "progress"),
        (partition.ais, (R, 5), dict(betas=BETAS, rng=1.5), TypeError, "rng"),
        (partition.ais, (X, 5), {}, TypeError, "params"),
        (partition.reverse_ais, (R, X[:1]), dict(betas=BETAS), ValueError, "v"),
        (partition.reverse_ais, (R, HALF), dict(betas=BETAS), ValueError, "v"),
        (partition.reverse_ais, (R, X9), dict(betas=BETAS), ValueError, "v"),
        (partition.reverse_ais, (R, X), dict(betas=BETAS, progress=1), TypeError, "progress"),
        (partition.bridge_sampling, (np.zeros(1), np.zeros(3)), {}, ValueError, "log_ratio_0"),
        (partition.bridge_sampling, (np.zeros(3), np.array([0.0, np.inf])), {}, ValueError, "log_ratio_1"),
        (partition.bridge_sampling, (np.zeros((3, 2)), np.zeros(3)), {}, ValueError, "log_ratio_0"),
        (partition.log_likelihood_estimate, (R, X, "1.0"), {}, TypeError, "log_z"),
        (partition.log_likelihood_estimate, (R, X, np.nan), {}, ValueError, "log_z"),
        (partition.log_likelihood_estimate, (R, X, EST._replace(stderr=np.nan)), {}, ValueError, "log_z.stderr"),
        (partition.log_likelihood_estimate, (R, HALF, 1.0), {}, ValueError, "data"),
        (partition.raise_log_likelihood, (R, X9), dict(betas=BETAS), ValueError, "data"),
        (partition.raise_log_likelihood, (R, X), dict(betas=BETAS, base=np.zeros(2)), ValueError, "base"),
        (partition.adaptive_betas, (R, 0), {}, ValueError, "n_steps"),
        (partition.adaptive_betas, (R, 10), dict(n_chains=1), ValueError, "n_chains"),
        (partition.adaptive_betas, (R, 10), dict(rounds=0), ValueError, "rounds"),
        (partition.adaptive_betas, (R, 10), dict(pilot=[0.0, 2.0]), ValueError, "betas"),
        (partition.adaptive_betas, (R, 10), dict(rng="seed"), TypeError, "rng"),
    ],
    "data": [
        (data.load_digits_binary, (16,), {}, ValueError, "threshold"),
        (data.load_digits_binary, (np.nan,), {}, ValueError, "threshold"),
        (data.load_digits_binary, (True,), {}, TypeError, "threshold"),
        (data.load_digits_binary, (), dict(return_labels="yes"), TypeError, "return_labels"),
        (data.load_mnist5k_binary, (-1,), {}, ValueError, "threshold"),
        (data.load_mnist5k_binary, ("127",), {}, TypeError, "threshold"),
        (data.show_images, (np.zeros((3, 4)),), dict(n_cols=0), ValueError, "n_cols"),
        (data.show_images, (np.zeros((3, 4)),), dict(n_cols=2.0), TypeError, "n_cols"),
        (data.show_images, (np.zeros((3, 5)),), {}, ValueError, "shape"),
        (data.show_images, (np.zeros((3, 4)),), dict(shape=(3, 2)), ValueError, "shape"),
        (data.show_images, (np.zeros((3, 4)),), dict(shape=4), TypeError, "shape"),
        (data.show_images, (np.zeros((3, 4)),), dict(shape=(2.0, 2)), TypeError, "shape[0]"),
        (data.show_images, (np.full((3, 4), 2.0),), {}, ValueError, "X"),
        (data.show_images, (np.full((3, 4), np.nan),), {}, ValueError, "X"),
        (data.show_images, (np.zeros((0, 4)),), {}, ValueError, "X"),
        (data.show_images, (np.zeros(4),), {}, ValueError, "X"),
        (data.show_images, (np.zeros((3, 4)),), dict(titles=["a"]), ValueError, "titles"),
        (data.show_images, (np.zeros((3, 4)),), dict(titles="abc"), TypeError, "titles"),
        (data.show_images, (np.zeros((3, 4)),), dict(size=0), ValueError, "size"),
        (data.show_images, (np.zeros((3, 4)),), dict(ax_title=3), TypeError, "ax_title"),
        (data.train_test_split, (np.zeros((10, 3)), 1.0), {}, ValueError, "test_fraction"),
        (data.train_test_split, (np.zeros((10, 3)), "0.5"), {}, TypeError, "test_fraction"),
        (data.train_test_split, (np.zeros((1, 3)), 0.5), {}, ValueError, "X"),
        (data.train_test_split, (np.zeros((10, 3)), 0.5), dict(y=np.zeros(4)), ValueError, "y"),
        (data.train_test_split, (np.zeros((10, 3)), 0.5), dict(rng="seed"), TypeError, "rng"),
        (data.train_test_split, (RAGGED, 0.5), {}, TypeError, "X"),
        (data.bars_and_stripes, (0,), {}, ValueError, "side"),
        (data.bars_and_stripes, (13,), {}, ValueError, "side"),
        (data.bars_and_stripes, (True,), {}, TypeError, "side"),
        (data.bars_and_stripes, (4,), dict(n=0), ValueError, "n"),
        (data.bars_and_stripes, (4,), dict(n=3, rng="seed"), TypeError, "rng"),
        (data.four_modes, (0,), {}, ValueError, "n"),
        (data.four_modes, (5, 1.5), {}, ValueError, "flip_prob"),
        (data.four_modes, (5, None), {}, TypeError, "flip_prob"),
        (data.four_modes, (5,), dict(return_modes="no"), TypeError, "return_modes"),
        (data.four_modes_log_prob, (np.zeros((3, 15)),), {}, ValueError, "x"),
        (data.four_modes_log_prob, (np.full((3, 16), 0.5),), {}, ValueError, "x"),
        (data.four_modes_log_prob, (np.zeros((3, 16)),), dict(flip_prob=np.nan), ValueError, "flip_prob"),
        (data.four_modes_entropy, (-0.1,), {}, ValueError, "flip_prob"),
        (data.teacher_samples, (np.zeros(3), 5), {}, TypeError, "params"),
        (data.teacher_samples, (B, 0), {}, ValueError, "n"),
        (data.teacher_samples, (B, 5), dict(rng="seed"), TypeError, "rng"),
    ],
}

ALL = [(module, *case) for module, cases in CASES.items() for case in cases]


def _name(call):
    return getattr(call, "__qualname__", repr(call))


def _same(a, b):
    "a and b equal in value, field by field (NaN equal to NaN)"
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape and \
            np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float) and np.isnan(a):
        return isinstance(b, float) and np.isnan(b)
    if isinstance(a, (int, float, str, bytes, type(None))):
        return a == b
    return True                                       # principles, functions, objects: no arrays of ours inside


@pytest.mark.parametrize("module, call, args, kwargs, exc, name", ALL,
                         ids=[f"{m}.{_name(c)}[{i}]" for i, (m, c, *_ ) in enumerate(ALL)])
def test_bad_input_is_refused_by_name_and_leaves_the_inputs_unchanged(module, call, args, kwargs, exc, name):
    before = copy.deepcopy((args, kwargs))
    with pytest.raises(exc) as info:
        call(*args, **kwargs)
    message = str(info.value)
    assert name in message, f"{_name(call)}: the message does not name {name!r}: {message}"
    assert _same((args, kwargs), before), f"{_name(call)} changed its inputs before failing"


def test_every_public_function_is_covered():
    "every public function of every module has at least one case above"
    modules = {m.__name__.split(".")[-1]: m for m in (models, exact, mcmc, gradient, training, cd, sml,
                                                      pseudolikelihood, partition, data)}
    covered = {(m, _name(c).split(".")[0]) for m, c, *_ in ALL}
    missing = []
    for name, module in modules.items():
        for fn in module.__all__:
            obj = getattr(module, fn)
            if not callable(obj) or isinstance(obj, type) and issubclass(obj, (tuple, BaseException)):
                continue                              # constants and result types
            if fn in ("softplus_scalar", "sigmoid_scalar"):
                continue                              # compiled scalar helpers for the kernels
            if (name, fn) not in covered:
                missing.append(f"{name}.{fn}")
    assert not missing, f"public functions without a bad-input case: {missing}"


def test_counts_per_module():
    "at least a dozen cases for each module's functions"
    for module, cases in CASES.items():
        assert len(cases) >= 12, module
