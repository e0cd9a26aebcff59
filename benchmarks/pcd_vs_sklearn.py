"""PCD-1 of ebm_literate against scikit-learn's BernoulliRBM (which is PCD-1), same data and hyperparameters.

Usage: python benchmarks/pcd_vs_sklearn.py [--quick]

1. Binarized digits (64 visible) with 16 hidden units and MNIST-5k (784 visible) with 20 hidden units:
   time per epoch and exact test log-likelihood (by enumerating the hidden layer) of both implementations,
   trained with the same number of hidden units, learning rate, batch size, number of epochs and number of
   persistent chains (= batch size, as scikit-learn uses).
2. A 784-500 RBM on MNIST-5k with batches of 100: time per epoch of both, and of the epoch's matrix products alone.
3. A 20-hidden PCD RBM on MNIST-5k trained with what our loop adds (linear learning-rate decay): exact test
   log-likelihood.

Learning-rate convention: BernoulliRBM adds learning_rate / batch_size times the *summed* statistics of a batch,
that is learning_rate times the batch-mean gradient (see `BernoulliRBM._fit`); `ebm_literate.training.train`
also steps along the batch-mean gradient, so the same number means the same step. BernoulliRBM visits the batches
in the same order every epoch and starts its chains' hidden states at zero; ours shuffles every epoch and starts
the chains at the first batch. Times are warm (a first call compiles or loads the Numba kernels; it is timed
separately), and each is the best of several repeats, since other processes may share the machine.
"""
import os
import sys
import time

import numpy as np
import sklearn
from sklearn.neural_network import BernoulliRBM

from ebm_literate.models import RBM, init_rbm
from ebm_literate.exact import log_partition, log_likelihood
from ebm_literate.training import train
from ebm_literate.sml import PCD
from ebm_literate.data import load_digits_binary, load_mnist5k_binary, train_test_split

QUICK = "--quick" in sys.argv


def sk_to_rbm(sk):
    "scikit-learn's fitted parameters as an RBM named tuple"
    return RBM(np.ascontiguousarray(sk.components_.T), sk.intercept_visible_.copy(), sk.intercept_hidden_.copy())


def exact_ll_pair(params, X_tr, X_te):
    lz = log_partition(params)
    return log_likelihood(params, X_tr, lz), log_likelihood(params, X_te, lz)


def best_of(f, repeats):
    ts = []
    for _ in range(repeats):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    return min(ts)


def compare_ll(name, X_tr, X_te, n_hidden, lr, batch_size, epochs, seeds):
    "Train both implementations with the same hyperparameters; exact train/test log-likelihood and time per epoch"
    print(f"\n== {name}: {X_tr.shape[1]}-{n_hidden} RBM, {len(X_tr)} training / {len(X_te)} test images, "
          f"learning rate {lr}, batch {batch_size}, {epochs} epochs, PCD-1 with {batch_size} chains ==")
    rows = {"scikit-learn": [], "ebm_literate (zero biases, as sklearn)": [], "ebm_literate (base-rate biases)": []}
    times = {k: [] for k in rows}
    for seed in seeds:
        sk = BernoulliRBM(n_components=n_hidden, learning_rate=lr, batch_size=batch_size, n_iter=epochs, random_state=seed)
        t = time.perf_counter(); sk.fit(X_tr); times["scikit-learn"].append((time.perf_counter() - t) / epochs)
        rows["scikit-learn"].append(exact_ll_pair(sk_to_rbm(sk), X_tr, X_te))
        for key, data in (("ebm_literate (zero biases, as sklearn)", None), ("ebm_literate (base-rate biases)", X_tr)):
            start = init_rbm(X_tr.shape[1], n_hidden, rng=seed, scale=0.01, data=data)
            t = time.perf_counter()
            r = train(start, X_tr, PCD(1, n_chains=batch_size), n_epochs=epochs, batch_size=batch_size,
                      learning_rate=lr, rng=seed)
            times[key].append((time.perf_counter() - t) / epochs)
            rows[key].append(exact_ll_pair(r.params, X_tr, X_te))
    print(f"{'implementation':40s} {'train LL':>18s} {'test LL':>18s} {'s/epoch':>9s}")
    out = {}
    for key, v in rows.items():
        v = np.array(v)
        se = v.std(axis=0, ddof=1) / np.sqrt(len(v)) if len(v) > 1 else np.zeros(2)
        out[key] = v
        print(f"{key:40s} {v[:, 0].mean():9.3f} ± {se[0]:.3f} {v[:, 1].mean():9.3f} ± {se[1]:.3f} "
              f"{np.min(times[key]):9.4f}")
    for key in list(rows)[1:]:
        d = out[key][:, 1] - out["scikit-learn"][:, 1]
        se = d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else 0.0
        print(f"test LL of {key} minus scikit-learn's, paired by seed: {d.mean():+.3f} ± {se:.3f}")
    return out


def matmul_epoch(X, W, batch_size, stacked):
    "The matrix products of one PCD-1 epoch alone: v W, h W', v' W, and the weight gradient [v; v']' [p; p']"
    H = np.zeros((batch_size, W.shape[1]))
    for lo, (V2, P2) in zip(range(0, len(X), batch_size), stacked):
        V = X[lo:lo + batch_size]
        P = V @ W                     # positive phase
        Vn = H @ W.T                  # v ~ p(v | h)
        Pn = Vn @ W                   # p(h | v')
        G = V2.T @ P2                 # weight gradient, positive and negative rows stacked


def main():
    print(f"numpy {np.__version__}, scikit-learn {sklearn.__version__}; load average {os.getloadavg()}")
    # compile / cache load
    X_d, X_m = load_digits_binary(), load_mnist5k_binary()
    t = time.perf_counter()
    train(init_rbm(64, 4, rng=0), X_d[:40], PCD(1), n_steps=2, batch_size=20, learning_rate=0.1, rng=0)
    print(f"first call (Numba compilation or cache load): {time.perf_counter() - t:.2f} s")

    print(f"\n== 784-500 RBM on MNIST-5k ({len(X_m)} images), batch 100, PCD-1 with 100 chains: time per epoch ==")
    repeats = 3 if QUICK else 5
    start = init_rbm(784, 500, rng=0, scale=0.01, data=X_m)
    state = train(start, X_m, PCD(1, n_chains=100), n_steps=2, batch_size=100, learning_rate=0.01, rng=0).state
    stacked = [(np.vstack([X_m[lo:lo + 100]] * 2), np.full((200, 500), 0.5)) for lo in range(0, len(X_m), 100)]
    sk = BernoulliRBM(n_components=500, learning_rate=0.01, batch_size=100, n_iter=2, random_state=0)
    rounds = {"ours": [], "sk": [], "mm": []}
    for _ in range(repeats):        # interleaved, so that a burst of load from elsewhere hits all of them
        rounds["ours"].append(best_of(lambda: train(start, X_m, PCD(1, n_chains=100), n_epochs=5, batch_size=100,
                                                    learning_rate=0.01, rng=0, state=state), 1) / 5)
        rounds["sk"].append(best_of(lambda: sk.fit(X_m), 1) / 2)
        rounds["mm"].append(best_of(lambda: matmul_epoch(X_m, start.W, 100, stacked), 1))
    t_ours, t_sk, t_mm = (min(rounds[k]) for k in ("ours", "sk", "mm"))
    print("per round, ours / products: " + " ".join(f"{a / b:.2f}" for a, b in zip(rounds["ours"], rounds["mm"])))
    print(f"scikit-learn BernoulliRBM        {t_sk:7.3f} s/epoch")
    print(f"ebm_literate PCD-1 (train loop)  {t_ours:7.3f} s/epoch   ratio to scikit-learn {t_ours / t_sk:.2f}")
    print(f"matrix products alone            {t_mm:7.3f} s/epoch   ours / products {t_ours / t_mm:.2f}")

    seeds = [0, 1] if QUICK else [0, 1, 2, 3, 4]
    Xd_tr, Xd_te = train_test_split(X_d, 0.2, rng=0)
    compare_ll("digits", Xd_tr, Xd_te, 16, lr=0.01, batch_size=10, epochs=30 if QUICK else 100, seeds=seeds)

    Xm_tr, Xm_te = train_test_split(X_m, 0.2, rng=0)
    compare_ll("MNIST-5k", Xm_tr, Xm_te, 20, lr=0.05, batch_size=20, epochs=10 if QUICK else 30, seeds=seeds[:3])

    print("\n== 20-hidden PCD RBM on MNIST-5k with linear learning-rate decay (what train adds) ==")
    epochs = 30 if QUICK else 200
    start = init_rbm(784, 20, rng=1, scale=0.01, data=Xm_tr)
    t = time.perf_counter()
    r = train(start, Xm_tr, PCD(1, n_chains=100), n_epochs=epochs, batch_size=20, learning_rate=0.05,
              schedule="linear", rng=2)
    tr, te = exact_ll_pair(r.params, Xm_tr, Xm_te)
    print(f"{epochs} epochs, learning rate 0.05 decaying linearly to 0, batch 20, 100 chains: "
          f"train LL {tr:.2f}, test LL {te:.2f} ({time.perf_counter() - t:.0f} s)")
    print(f"load average at the end {os.getloadavg()}")


if __name__ == "__main__":
    main()
