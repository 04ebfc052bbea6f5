"""Functions whose generated source is pinned by tests/test_golden.py.
Editing this file moves line numbers: regenerate with S2SGRAD_UPDATE_GOLDEN=1."""
import numpy as np


def f_xyz(x, y, z):
    q = x + y
    return q * z


def logistic(w, X, y):
    margin = y * (X @ w)
    return np.mean(np.log1p(np.exp(-margin)))


def rnn(Wh, Wx, xs, h):
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + Wx @ xs[t])
    return np.sum(h)


def relu_branch(x):
    if np.sum(x) > 0:
        y = x * 2.0
    else:
        y = np.exp(x)
    return np.sum(y * x)
