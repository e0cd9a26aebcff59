"""The scikit-learn estimator `ebm_literate.estimators.BernoulliRBM` with principle="pcd" against scikit-learn's own
`sklearn.neural_network.BernoulliRBM` (which is PCD-1), both through their `fit`, same data and hyperparameters.

Usage: python benchmarks/estimators.py [--quick]

1. Time per epoch of a 784-500 RBM on MNIST-5k with batches of 100 (100 persistent chains for both), and the floor
   of an implementation built on dense BLAS products, as scikit-learn's is: the five matrix products of one PCD-1
   epoch alone, done by NumPy (our kernels arrange the same work in tiles and can run below it).
2. Exact test log-likelihood (by enumerating the 16 hidden units) of 64-16 RBMs on the binarized digits, trained by
   both with the same learning rate, batch size, number of epochs and chains, over several seeds (mean ± standard
   error over seeds).

Both step along the batch-mean gradient, so the same learning rate means the same step. Ours starts the visible
biases at the data's log-odds and shuffles the batches every epoch; scikit-learn starts them at zero and keeps
the batch order. Times are warm (Numba compiled or loaded first) and the best of several interleaved repeats,
since other processes may share the machine.
"""
import os
import sys
import time

import numpy as np
import sklearn
from sklearn.neural_network import BernoulliRBM as SkRBM

from ebm_literate.data import load_digits_binary, load_mnist5k_binary, train_test_split
from ebm_literate.estimators import BernoulliRBM
from ebm_literate.exact import log_likelihood
from ebm_literate.models import RBM

QUICK = "--quick" in sys.argv


def timed(f):
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


def matmul_epoch(X, W, batch_size):
    "The products of one PCD-1 epoch alone: v W, h W', v' W and the weight gradient of both phases"
    H = np.zeros((batch_size, W.shape[1]))
    for lo in range(0, len(X), batch_size):
        V = X[lo:lo + batch_size]
        P = V @ W
        Vn = H @ W.T
        Pn = Vn @ W
        V.T @ P - Vn.T @ Pn


def main():
    print(f"numpy {np.__version__}, scikit-learn {sklearn.__version__}; load average "
          f"{tuple(round(x, 1) for x in os.getloadavg())}")
    X_m = load_mnist5k_binary()
    X, = (load_digits_binary(),)
    t = timed(lambda: BernoulliRBM(4, n_iter=1, random_state=0).fit(X[:40]))
    print(f"first fit (Numba compilation or cache load): {t:.2f} s")

    repeats, epochs = (2, 1) if QUICK else (5, 3)
    ours = BernoulliRBM(500, principle="pcd", principle_options={"n_chains": 100}, n_iter=epochs,
                        learning_rate=0.01, batch_size=100, random_state=0)
    sk = SkRBM(n_components=500, learning_rate=0.01, batch_size=100, n_iter=epochs, random_state=0)
    W = np.random.default_rng(0).normal(0, 0.01, (784, 500))
    t = {"ours": [], "sk": [], "floor": []}
    for _ in range(repeats):                                  # interleaved: load from elsewhere hits all three
        t["ours"].append(timed(lambda: ours.fit(X_m)) / epochs)
        t["sk"].append(timed(lambda: sk.fit(X_m)) / epochs)
        t["floor"].append(timed(lambda: matmul_epoch(X_m, W, 100)))
    t = {k: min(v) for k, v in t.items()}
    print(f"\n== 784-500 RBM, MNIST-5k ({len(X_m)} images), batch 100, PCD-1, 100 chains: "
          f"seconds per epoch (best of {repeats}) ==")
    print(f"{'':34s} {'s/epoch':>9s} {'ratio to sklearn':>17s} {'ratio to floor':>15s}")
    for name, key in (("ebm_literate BernoulliRBM('pcd')", "ours"), ("sklearn BernoulliRBM", "sk"),
                      ("floor: the epoch's products", "floor")):
        print(f"{name:34s} {t[key]:9.3f} {t[key] / t['sk']:17.2f} {t[key] / t['floor']:15.2f}")

    seeds = range(2 if QUICK else 5)
    tr, te = train_test_split(X, 0.2, rng=0)
    lr, batch, n_iter = 0.05, 20, 10 if QUICK else 30
    ll = {"ours": [], "sk": []}
    for seed in seeds:
        o = BernoulliRBM(16, principle="pcd", principle_options={"n_chains": batch}, n_iter=n_iter,
                         learning_rate=lr, batch_size=batch, random_state=seed).fit(tr)
        ll["ours"].append(o.score(te))
        s = SkRBM(n_components=16, learning_rate=lr, batch_size=batch, n_iter=n_iter, random_state=seed).fit(tr)
        ll["sk"].append(log_likelihood(RBM(s.components_.T.copy(), s.intercept_visible_, s.intercept_hidden_), te))
    print(f"\n== 64-16 RBM, binarized digits ({len(tr)} train / {len(te)} test), PCD-1, learning rate {lr}, "
          f"batch {batch}, {n_iter} epochs, {len(seeds)} seeds: exact test log-likelihood (nats) ==")
    for name, key in (("ebm_literate BernoulliRBM('pcd')", "ours"), ("sklearn BernoulliRBM", "sk")):
        v = np.array(ll[key])
        print(f"{name:34s} {v.mean():9.3f} ± {v.std(ddof=1) / np.sqrt(len(v)):.3f}")
    d = np.array(ll["ours"]) - np.array(ll["sk"])
    print(f"{'difference, paired by seed':34s} {d.mean():+9.3f} ± {d.std(ddof=1) / np.sqrt(len(d)):.3f}")


if __name__ == "__main__":
    main()
