"""Softmax (multinomial logistic) regression on Fisher's Iris data, trained with s2sgrad.

The loss is the mean cross-entropy of a linear model's softmax, written with a
numerically stable log-sum-exp (subtract the row maximum before ``exp``), plus
an L2 penalty.  The parameters are passed as a dict; s2sgrad returns the
gradient as a dict of the same shape.

Data: examples/data/iris.csv (150 flowers, 4 features, 3 species) as shipped
with scikit-learn; see examples/data/README.md for provenance and licence.

Run:  python examples/softmax_regression.py
"""
import os

import numpy as np

import s2sgrad

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "iris.csv")


def load_iris(path=DATA):
    """Features X (150 x 4), integer labels (0, 1, 2) and the class names.

    The file's first line is scikit-learn's header: n_samples, n_features,
    then the class names in label order.
    """
    with open(path) as fh:
        header = fh.readline().strip().split(",")
    n_samples, n_features = int(header[0]), int(header[1])
    table = np.loadtxt(path, delimiter=",", skiprows=1)
    assert table.shape == (n_samples, n_features + 1), table.shape
    return table[:, :n_features], table[:, n_features].astype(int), header[2:]


def log_softmax(z):
    """log softmax along the last axis, stable for large logits."""
    m = np.max(z, axis=1, keepdims=True)
    shifted = z - m
    return shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))


def loss(params, X, Y, lam):
    """Mean cross-entropy  -sum_k Y[i, k] log softmax(X W + b)[i, k]  plus  lam/2 |W|^2.

    Y is the one-hot (n x classes) label matrix.
    """
    logits = X @ params["W"] + params["b"]
    return -np.mean(np.sum(Y * log_softmax(logits), axis=1)) + 0.5 * lam * np.sum(params["W"] ** 2)


loss_grad = s2sgrad.value_and_grad(loss)         # gradient w.r.t. params (a dict)


def hand_gradient(params, X, Y, lam):
    logits = X @ params["W"] + params["b"]
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    r = (p - Y) / len(X)
    return {"W": X.T @ r + lam * params["W"], "b": r.sum(axis=0)}


def accuracy(params, X, labels):
    return float(np.mean(np.argmax(X @ params["W"] + params["b"], axis=1) == labels))


def main(steps=300, lr=0.5, lam=1e-3, print_every=30):
    X, labels, classes = load_iris()
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    k = len(classes)
    Y = np.eye(k)[labels]                        # one-hot targets
    print(f"iris data: {X.shape[0]} samples, {X.shape[1]} features, classes {classes}")

    params = {"W": np.zeros((X.shape[1], k)), "b": np.zeros(k)}
    losses = []
    for step in range(steps + 1):
        value, g = loss_grad(params, X, Y, lam)
        losses.append(value)
        if step % print_every == 0:
            print(f"step {step:4d}   loss {value:.5f}   accuracy {accuracy(params, X, labels):.4f}")
        if step < steps:
            params = {name: params[name] - lr * g[name] for name in params}

    acc = accuracy(params, X, labels)
    print(f"\nfinal loss {losses[-1]:.5f}; training accuracy {acc:.4f}")
    print("\ngenerated gradient source (loss_grad.source):")
    print(loss_grad.source)

    # -- checks ---------------------------------------------------------------------
    g = loss_grad(params, X, Y, lam)[1]
    h = hand_gradient(params, X, Y, lam)
    assert set(g) == {"W", "b"} and g["W"].shape == params["W"].shape
    assert np.allclose(g["W"], h["W"], rtol=1e-10, atol=1e-14), (g["W"], h["W"])
    assert np.allclose(g["b"], h["b"], rtol=1e-10, atol=1e-14), (g["b"], h["b"])
    s2sgrad.check_grads(loss, (params, X, Y, lam))
    assert np.isclose(losses[0], np.log(k))      # uniform prediction at W = 0
    assert all(b_ <= a_ + 1e-12 for a_, b_ in zip(losses, losses[1:])), "loss went up"
    assert acc > 0.95, acc
    print("OK")


if __name__ == "__main__":
    main()
