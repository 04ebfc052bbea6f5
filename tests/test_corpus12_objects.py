"""corpus12, part 6: training state kept in objects and closures, as people
write it: an Adam optimiser state dataclass whose fields are updated each
step of a loop over mini-batches (``st.t += 1``, ``st.m = ...``), the best
of several restarts chosen by ``min(..., key=loss)``, NamedTuple layers
with ``__call__`` and a property, a running-mean tracker object with an
``add`` method called in a loop, a closure counting its calls through
``nonlocal``, ``x0, *rest = xs`` feeding an RNN, Chebyshev features on a
rescaled input, ragged graph pooling by ``np.maximum.reduceat``, and
augmented assignment of dataclass fields (in place on an array field that
another name also holds).  Checked by ``tests/corpus10_harness.check``.
"""
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pytest

from tests.corpus10_harness import run_table

R = np.random.default_rng(12070)


def rnd(*s, scale=0.5):
    return R.normal(size=s) * scale


X = rnd(8, 3, scale=1.0)
Y = X @ np.array([0.5, -1.0, 0.25])


@dataclass
class AdamState:
    m: np.ndarray
    v: np.ndarray
    t: int = 0


def adam_dataclass(w0, batches, lr=0.05):
    w = w0
    st = AdamState(np.zeros_like(w0), np.zeros_like(w0))
    for Xb, yb in batches:
        g = Xb.T @ (Xb @ w - yb) / len(yb)
        st.t += 1
        st.m = 0.9 * st.m + 0.1 * g
        st.v = 0.999 * st.v + 0.001 * g ** 2
        w = w - lr * (st.m / (1 - 0.9 ** st.t)) / (np.sqrt(st.v / (1 - 0.999 ** st.t)) + 1e-8)
    return np.mean((X @ w - Y) ** 2)

BATCHES = [(X[:4], Y[:4]), (X[4:], Y[4:]), (X[2:6], Y[2:6])]


def best_of_restarts(w0s, X, y):
    fits = []
    for w in w0s:
        for _ in range(2):
            w = w - 0.1 * X.T @ (X @ w - y) / len(y)
        fits.append(w)
    best = min(fits, key=lambda w: float(np.mean((X @ w - y) ** 2)))
    return np.mean((X @ best - y) ** 2) + 0.01 * np.sum(best ** 2)


class Layer(NamedTuple):
    W: np.ndarray
    b: np.ndarray
    def __call__(self, x):
        return np.tanh(x @ self.W + self.b)
    @property
    def n_params(self):
        return self.W.size + self.b.size


def namedtuple_call(layers, x):
    h = x
    for L in layers:
        h = L(h)
    return np.sum(h ** 2) / sum(L.n_params for L in layers)


@dataclass
class Tracker:
    total: float = 0.0
    n: int = 0
    def add(self, v):
        self.total = self.total + v
        self.n += 1


def running_mean_tracker(w, X):
    tr = Tracker()
    for i in range(3):
        tr.add(np.sum(np.tanh(X[i] * w)))
    return tr.total / tr.n


def closure_counter(w, X):
    calls = 0
    def loss(v):
        nonlocal calls
        calls += 1
        return np.sum((X @ v) ** 2)
    a = loss(w)
    b = loss(w * 0.5)
    return (a + b) / calls


def star_rows_rnn(W, xs):
    x0, *rest = xs
    h = np.tanh(x0 @ W)
    for x in rest:
        h = np.tanh(x @ W + h)
    return np.sum(h ** 2)


def cheb_features(c, x):
    xs = 2 * (x - x.min()) / (x.max() - x.min()) - 1
    return np.mean((np.polynomial.chebyshev.chebval(xs, c) - np.sin(3 * x)) ** 2)


def ragged_pool(W, H, starts):
    Z = H @ W
    return np.sum(np.maximum.reduceat(Z, starts, axis=0) ** 2) + \
        np.sum(np.add.reduceat(Z, starts, axis=0))


CASES = {
    "adam_dataclass": (adam_dataclass, (rnd(3), BATCHES), 0, {}),
    "best_of_restarts": (best_of_restarts, ([rnd(3), rnd(3), rnd(3)], X, Y), 0, {}),
    "namedtuple_call": (namedtuple_call, ([Layer(rnd(3, 4), rnd(4)), Layer(rnd(4, 2), rnd(2))],
                                          X), 0, {}),
    "tracker": (running_mean_tracker, (rnd(3), X), 0, {}),
    "closure_counter": (closure_counter, (rnd(3), X), 0, {}),
    "star_rows_rnn": (star_rows_rnn, (rnd(3, 3), X), 0, {}),
    "cheb_features": (cheb_features, (rnd(5), np.sort(R.random(10)) * 4), 0, {}),
    "ragged_pool": (ragged_pool, (rnd(3, 2), X, np.array([0, 3, 5])), (0, 1), {}),
}


@dataclass
class S2:
    m: np.ndarray
    k: float = 1.0


def aug_alias(w):
    a = w * 1.0
    st = S2(a)
    st.m += w          # in place: a sees it
    st.k *= 3.0
    b = st.m
    st.m = st.m * 2    # rebinds the field only
    return np.sum(a * w) + np.sum(b) * st.k + np.sum(st.m)


CASES["aug_alias"] = (aug_alias, (rnd(3),), 0, {})


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus12_objects(name):
    run_table(CASES, name)
