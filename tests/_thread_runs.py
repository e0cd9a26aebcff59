"""Seeded runs of every parallel computation of the package, saved to an .npz file: test_threads.py runs this script
with NUMBA_NUM_THREADS = 1, 2 and 16 and requires the files to agree bit for bit.

    python tests/_thread_runs.py OUT.npz"""
import sys

import numpy as np

from ebm_literate import exact
from ebm_literate.cd import CD
from ebm_literate.data import load_digits_binary, load_mnist5k_binary
from ebm_literate.mcmc import bm_gibbs, gaussian_rbm_gibbs, gibbs_chain, rbm_gibbs
from ebm_literate.models import init_bm, init_gaussian_rbm, init_rbm
from ebm_literate.partition import ais, linear_betas, reverse_ais
from ebm_literate.pseudolikelihood import PseudoLikelihood
from ebm_literate.sml import FastPCD, PCD
from ebm_literate.training import train


def flat(params):
    return np.concatenate([np.ravel(f) for f in params])


def runs():
    "name -> array, for every computation whose bits must not depend on the number of threads"
    out = {}
    digits, mnist = load_digits_binary(), load_mnist5k_binary()[:600]
    principles = {"CD-1": CD(1), "PCD-1": PCD(1), "FPCD-1": FastPCD(0.05), "PL": PseudoLikelihood()}
    # training: BM and RBM, digit- and MNIST-sized models, small and large batches
    for name, p in principles.items():
        for label, model, X, batch, steps in (
                ("rbm64-16", init_rbm(64, 16, rng=0, scale=0.3, data=digits), digits, 20, 8),
                ("rbm64-16", init_rbm(64, 16, rng=0, scale=0.3, data=digits), digits, 600, 3),
                ("bm64", init_bm(64, rng=0, scale=0.05, data=digits), digits, 20, 5),
                ("bm64", init_bm(64, rng=0, scale=0.05, data=digits), digits, 600, 2),
                ("rbm784-100", init_rbm(784, 100, rng=0, scale=0.01, data=mnist), mnist, 100, 4),
                ("rbm784-500", init_rbm(784, 500, rng=0, scale=0.01, data=mnist), mnist, 100, 2),
                ("bm784", init_bm(784, rng=0, scale=0.001, data=mnist), mnist, 100, 2)):
            if name == "PL" and label == "rbm784-500":
                continue
            r = train(model, X, p, n_steps=steps, batch_size=batch, learning_rate=0.05, rng=1)
            out[f"train {name} {label} batch {batch}"] = flat(r.params)
    g, _ = CD(1).grad(init_rbm(64, 16, rng=0, scale=0.3, data=digits), digits[:600], rng=0)
    out["CD-1 gradient 64-16, 600 rows"] = flat(g)
    # Gibbs samplers: states and probabilities
    rbm = init_rbm(784, 100, rng=3, scale=0.05, data=mnist)
    r = rbm_gibbs(rbm, mnist[:200], 3, rng=4)
    out["rbm_gibbs 784-100, 200 chains: v"], out["... h"], out["... hidden_probs"] = r
    r = rbm_gibbs(init_rbm(784, 500, rng=3, scale=0.05), mnist[:100], 2, rng=5)
    out["rbm_gibbs 784-500, 100 chains: v"], out["... 784-500 h"], out["... 784-500 hidden_probs"] = r
    bm = init_bm(64, rng=4, scale=0.3, data=digits)
    out["bm_gibbs 64, 300 chains: x"], out["bm_gibbs 64: probs"] = bm_gibbs(bm, digits[:300], 5, rng=6,
                                                                           return_probs=True)
    out["bm_gibbs 784, 40 chains"] = bm_gibbs(init_bm(784, rng=4, scale=0.01), mnist[:40], 2, rng=7)
    out["gibbs_chain bm64"] = gibbs_chain(bm, digits[:100], 4, rng=8, thin=2)
    out["gibbs_chain rbm784-100"] = gibbs_chain(rbm, mnist[:50], 3, rng=8)
    gb = init_gaussian_rbm(784, 100, rng=3, scale=0.05, data=mnist, sigma=0.5)   # both products in 14 tiles
    r = gaussian_rbm_gibbs(gb, mnist[:200], 3, rng=4)
    out["gaussian_rbm_gibbs 784-100, 200 chains: v"], out["... gb h"], out["... gb hidden_probs"] = r
    # partition functions
    big = init_rbm(784, 500, rng=5, scale=0.02, data=mnist)
    e = ais(big, 100, linear_betas(30), rng=9)
    out["ais 784-500, 100 chains: log w"], out["ais 784-500: samples"] = e.log_weights, e.samples
    out["ais bm20, 200 chains"] = ais(init_bm(20, rng=6, scale=0.5), 200, linear_betas(50), rng=9).log_weights
    out["reverse_ais 784-100"] = reverse_ais(rbm, mnist[:64], linear_betas(20), rng=10).log_weights
    out["reverse_ais bm20"] = reverse_ais(init_bm(20, rng=6, scale=0.5), np.ones((50, 20)), linear_betas(20),
                                          rng=10).log_weights
    out["log_partition rbm784-20"] = np.array([exact.log_partition(init_rbm(784, 20, rng=7, scale=0.1))])
    out["log_partition bm20"] = np.array([exact.log_partition(init_bm(20, rng=8, scale=0.5))])
    out["log_partition rbm64-12 (serial)"] = np.array([exact.log_partition(init_rbm(64, 12, rng=9, scale=0.5))])
    # exact sampling
    out["exact.sample rbm64-12"] = np.hstack(exact.sample(init_rbm(64, 12, rng=9, scale=0.5), 500, rng=11,
                                                          return_hidden=True))
    out["exact.sample bm12"] = exact.sample(init_bm(12, rng=9, scale=0.5), 500, rng=11)
    return out


if __name__ == "__main__":
    np.savez(sys.argv[1], **runs())
