"""Logistic regression on the Wisconsin breast-cancer data, trained with s2sgrad.

The loss is written as plain NumPy -- the mean logistic loss plus an L2
penalty -- and ``s2sgrad.grad`` turns it into a gradient function by
generating Python source for the adjoint.  Training is plain gradient
descent on that generated gradient.

Data: examples/data/breast_cancer.csv, the UCI "Breast Cancer Wisconsin
(Diagnostic)" table (569 tumours, 30 features) as shipped with
scikit-learn; see examples/data/README.md for provenance and licence.

Run:  python examples/logistic_regression.py
"""
import os
import time

import numpy as np

import s2sgrad

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "breast_cancer.csv")


def load_breast_cancer(path=DATA):
    """Features X (569 x 30) and labels y in {-1, +1} (+1 = benign, -1 = malignant).

    The file's first line is scikit-learn's header: n_samples, n_features,
    then the class names in label order (0 = malignant, 1 = benign).
    """
    with open(path) as fh:
        header = fh.readline().strip().split(",")
    n_samples, n_features = int(header[0]), int(header[1])
    table = np.loadtxt(path, delimiter=",", skiprows=1)
    assert table.shape == (n_samples, n_features + 1), table.shape
    X = table[:, :n_features]
    y = np.where(table[:, n_features] == 1, 1.0, -1.0)
    return X, y, header[2:]


def loss(w, b, X, y, lam):
    """Mean logistic loss  log(1 + exp(-y (X w + b)))  plus  lam/2 |w|^2.

    np.logaddexp(0, -m) is log(1 + exp(-m)) without overflow for large |m|.
    """
    margin = y * (X @ w + b)
    return np.mean(np.logaddexp(0.0, -margin)) + 0.5 * lam * np.sum(w * w)


loss_grad = s2sgrad.value_and_grad(loss, wrt=("w", "b"))   # -> (loss, (dw, db))


def hand_gradient(w, b, X, y, lam):
    """The same gradient derived by hand, to check the generated one."""
    margin = y * (X @ w + b)
    r = -y / (1.0 + np.exp(margin)) / len(y)        # d loss / d (X w + b)
    return X.T @ r + lam * w, np.sum(r)


def accuracy(w, b, X, y):
    predicted = np.where(X @ w + b >= 0.0, 1.0, -1.0)
    return float(np.mean(predicted == y))


def main(steps=500, lr=0.5, lam=1e-3, print_every=50):
    X, y, classes = load_breast_cancer()
    print(f"breast cancer data: {X.shape[0]} samples, {X.shape[1]} features, "
          f"{int(np.sum(y < 0))} {classes[0]} / {int(np.sum(y > 0))} {classes[1]}")

    # a fixed random 80/20 split; standardize with the training statistics
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(y))
    n_train = int(0.8 * len(y))
    tr, te = perm[:n_train], perm[n_train:]
    mu, sd = X[tr].mean(axis=0), X[tr].std(axis=0)
    Xtr, Xte = (X[tr] - mu) / sd, (X[te] - mu) / sd
    ytr, yte = y[tr], y[te]

    w, b = np.zeros(X.shape[1]), 0.0
    losses = []
    t0 = time.perf_counter()
    for step in range(steps + 1):
        value, (dw, db) = loss_grad(w, b, Xtr, ytr, lam)
        losses.append(value)
        if step % print_every == 0:
            print(f"step {step:4d}   loss {value:.5f}   train accuracy {accuracy(w, b, Xtr, ytr):.4f}")
        if step < steps:
            w = w - lr * dw
            b = b - lr * db
    elapsed = time.perf_counter() - t0

    train_acc, test_acc = accuracy(w, b, Xtr, ytr), accuracy(w, b, Xte, yte)
    print(f"\n{steps} gradient steps in {elapsed:.2f} s")
    print(f"final loss {losses[-1]:.5f}; training accuracy {train_acc:.4f} "
          f"({len(ytr)} samples), held-out accuracy {test_acc:.4f} ({len(yte)} samples)")

    print("\ngenerated gradient source (loss_grad.source):")
    print(loss_grad.source)

    # -- checks: the run is a test -------------------------------------------------
    dw, db = loss_grad(w, b, Xtr, ytr, lam)[1]
    hw, hb = hand_gradient(w, b, Xtr, ytr, lam)
    assert np.allclose(dw, hw, rtol=1e-10, atol=1e-14) and np.isclose(db, hb, rtol=1e-10, atol=1e-14)
    assert isinstance(db, float) and dw.shape == w.shape
    s2sgrad.check_grads(loss, (w, b, Xtr, ytr, lam), wrt=(0, 1))
    assert np.isclose(losses[0], np.log(2.0), rtol=1e-12, atol=0)  # w = 0, b = 0: log(1 + e^0)
    assert all(b_ <= a_ + 1e-12 for a_, b_ in zip(losses, losses[1:])), "loss went up"
    assert losses[-1] < 0.1, losses[-1]
    assert train_acc > 0.95, train_acc
    assert test_acc > 0.93, test_acc
    print("OK")


if __name__ == "__main__":
    main()
