"""corpus13, part 5: programs that use what corpus13 closed, in context: a
StandardScaler-style class fitted and applied inside the loss (``fit``
returns ``self``), an estimator with a ``loss=`` option and ``raise
ValueError`` for unknown ones, a Kalman filter whose state is a small class
updated in a loop, GARCH variances kept in ``[0.0] * T``, named loss terms
summed in a ``collections.defaultdict(float)``, a regulariser given as a
float or as a dict (``isinstance``), normalisation by ``math.prod`` of a
shape, a record class declared inside the function, ``zip(*rows)`` of index
rows built in a loop, a convolution over ``sliding_window_view`` with the
kernel's shape, and running products by ``itertools.accumulate``.  Checked
by ``tests/corpus10_harness.check``.
"""
import collections
import itertools
import math
import operator

import numpy as np
import pytest

from tests.corpus10_harness import run_table

R = np.random.default_rng(13060)


def rnd(*shape, scale=0.5):
    return R.normal(size=shape) * scale


X = rnd(10, 3, scale=1.0)
Y = X @ np.array([0.6, -0.3, 0.2]) + 0.1 * R.normal(size=10)


class StandardScaler:
    def __init__(self, with_mean=True, eps=1e-8):
        self.with_mean = with_mean
        self.eps = eps

    def fit(self, X):
        self.mean_ = X.mean(axis=0) if self.with_mean else np.zeros(X.shape[1])
        self.scale_ = np.sqrt(X.var(axis=0) + self.eps)
        return self

    def transform(self, X):
        return (X - self.mean_) / self.scale_


def scaled_ridge(w, X, y, alpha=0.1):
    Z = StandardScaler().fit(X).transform(X)
    r = Z @ w - y
    return r @ r / len(y) + alpha * w @ w


class LinearModel:
    def __init__(self, loss="squared", delta=1.0):
        if loss not in ("squared", "huber", "absolute"):
            raise ValueError(f"unknown loss {loss}")
        self.loss = loss
        self.delta = delta

    def objective(self, w, X, y):
        r = X @ w - y
        if self.loss == "squared":
            return np.mean(r ** 2)
        if self.loss == "huber":
            a = np.abs(r)
            return np.mean(np.where(a < self.delta, 0.5 * r ** 2,
                                    self.delta * (a - 0.5 * self.delta)))
        return np.mean(np.abs(r))


def model_objective(w, X, y, loss="squared"):
    return LinearModel(loss, delta=0.3).objective(w, X, y)


class KFState:
    def __init__(self, d):
        self.x = np.zeros(d)
        self.P = np.eye(d)
        self.ll = 0.0


def kalman_state_object(a, ys, q=0.1, r=0.3):
    F = np.array([[1.0, 1.0], [0.0, a]])
    st = KFState(2)
    for y in ys:
        st.x = F @ st.x
        st.P = F @ st.P @ F.T + q * np.eye(2)
        s = st.P[0, 0] + r
        k = st.P[:, 0] / s
        e = y - st.x[0]
        st.x = st.x + k * e
        st.P = st.P - np.outer(k, st.P[0])
        st.ll += -0.5 * (np.log(2 * np.pi * s) + e * e / s)
    return -st.ll


def garch_list(params, r):
    omega, alpha, beta = np.exp(params)
    T = len(r)
    s2 = [0.0] * T
    s2[0] = np.mean(r ** 2)
    for t in range(1, T):
        s2[t] = omega + alpha * r[t - 1] ** 2 + beta * s2[t - 1]
    s2 = np.array(s2)
    return 0.5 * np.sum(np.log(s2) + r ** 2 / s2)


def named_terms(w, X, y, reg=0.1):
    terms = collections.defaultdict(float)
    r = X @ w - y
    terms["data"] += np.mean(r ** 2)
    if isinstance(reg, float):
        terms["reg"] += reg * np.sum(w ** 2)
    elif isinstance(reg, dict):
        terms["reg"] += reg["l1"] * np.sum(np.abs(w)) + reg["l2"] * np.sum(w ** 2)
    else:
        terms["reg"] += np.sum(reg * w ** 2)        # one weight per coefficient
    terms["data"] += 0.01 * np.mean(np.abs(r))
    return sum(terms.values())


def per_pixel_mse(pred_w, img):
    pred = np.tanh(img * pred_w)
    return np.sum((pred - img) ** 2) / math.prod(img.shape)


def inline_record(w, X, y):
    class Fit:
        pass
    f = Fit()
    f.pred = X @ w
    f.resid = f.pred - y
    f.sse = np.sum(f.resid ** 2)
    return f.sse / len(y) + 0.01 * np.sum(w ** 2)


def gather_pairs(w, X):
    rows = []
    for i in range(X.shape[0] - 1):
        rows.append((i, i + 1))
    left, right = zip(*rows)
    Z = X @ w
    return np.sum((Z[list(left)] - Z[list(right)]) ** 2)


def smooth_conv(kernel, signal2d):
    win = np.lib.stride_tricks.sliding_window_view(signal2d, kernel.shape)
    out = (win * kernel).sum(axis=(-2, -1))
    return np.mean(np.log1p(out ** 2))


def compound_growth(rates):
    growth = list(itertools.accumulate([1.0 + r for r in rates], operator.mul))
    return growth[-1] - 0.1 * sum(g ** 2 for g in growth)


CASES = {
    "scaled_ridge": (scaled_ridge, (rnd(3), X, Y), 0, {}, {"order2": True}),
    "scaled_ridge_x": (scaled_ridge, (rnd(3), X, Y), 1, {}),
    "model_squared": (model_objective, (rnd(3), X, Y), 0, {}),
    "model_huber": (model_objective, (rnd(3), X, Y), 0, {"loss": "huber"}),
    "model_absolute": (model_objective, (rnd(3), X, Y), (0, 1), {"loss": "absolute"}),
    "kalman_object": (kalman_state_object, (0.9, np.cumsum(R.normal(size=6)) * 0.3), (0, 1),
                      {}),
    "garch_list": (garch_list, (np.log(np.array([0.02, 0.1, 0.8])), R.normal(size=12) * 0.1),
                   (0, 1), {}),
    "named_terms_float": (named_terms, (rnd(3), X, Y, 0.1), (0, 3), {}),
    "named_terms_array": (named_terms, (rnd(3), X, Y, R.random(3)), (0, 3), {}),
    "named_terms_dict": (named_terms, (rnd(3), X, Y), 0, {"reg": {"l2": 0.1, "l1": 0.01}}),
    "per_pixel": (per_pixel_mse, (0.7, rnd(4, 5, scale=1.0)), (0, 1), {}),
    "inline_record": (inline_record, (rnd(3), X, Y), (0, 1), {}, {"order2": True}),
    "gather_pairs": (gather_pairs, (rnd(3), X), (0, 1), {}),
    "smooth_conv": (smooth_conv, (rnd(2, 3), rnd(6, 7, scale=1.0)), (0, 1), {}),
    "compound_growth": (compound_growth, ([0.01, -0.02, 0.03, 0.015],), 0, {}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus13_objects(name):
    run_table(CASES, name)


def test_unknown_option_raises_as_python_does():
    from s2sgrad import grad
    with pytest.raises(ValueError, match="unknown loss"):
        grad(model_objective)(rnd(3), X, Y, loss="hinge")
