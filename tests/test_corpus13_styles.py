"""corpus13, part 4: the same kind of objectives in the styles people
write them: a model class with ``__call__``, a property and a ``loss``
method; a frozen dataclass of hyper-parameters; closures from a factory;
``functools.partial`` and ``functools.reduce`` over layers;
``itertools.accumulate``, ``itertools.product`` and ``itertools.pairwise``;
early returns; a ``while`` loop stopped by a tolerance; ``*args`` and
``**kwargs`` helpers; comprehensions, ``enumerate``, ``zip``, ``reversed``;
type hints; ``assert`` shape checks; ``np.newaxis`` / ``None`` indexing;
``einsum`` in many spellings; ``@`` beside ``np.dot`` and ``np.matmul``;
``x.T``; ``.sum(axis=-1, keepdims=True)``.  Checked by
``tests/corpus10_harness.check``.
"""
import functools
import itertools
import operator
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import pytest

from tests.corpus10_harness import run_table

R = np.random.default_rng(13040)


def rnd(*shape, scale=0.5):
    return R.normal(size=shape) * scale


X = rnd(8, 3, scale=1.0)
Y = np.tanh(X @ np.array([0.7, -0.4, 0.2]))


# ---------------------------------------------------------------- classes

class MLP:
    def __init__(self, sizes: Sequence[int], activation=np.tanh):
        self.sizes = list(sizes)
        self.activation = activation

    @property
    def n_layers(self) -> int:
        return len(self.sizes) - 1

    def __call__(self, params: List[Tuple[np.ndarray, np.ndarray]], x: np.ndarray) -> np.ndarray:
        h = x
        for i, (W, b) in enumerate(params):
            h = h @ W + b
            if i < self.n_layers - 1:
                h = self.activation(h)
        return h

    def loss(self, params, x, y):
        pred = self(params, x)[:, 0]
        return np.mean((pred - y) ** 2)


NET = MLP([3, 4, 1])


def mlp_loss(params, x, y):
    return NET.loss(params, x, y)


@dataclass(frozen=True)
class Hyper:
    lr: float = 0.1
    l2: float = 1e-2
    steps: int = 3


def train_then_eval(w0, x, y, hp: Hyper = Hyper()):
    w = w0
    for _ in range(hp.steps):
        g = 2 * x.T @ (x @ w - y) / len(y) + 2 * hp.l2 * w
        w = w - hp.lr * g
    return np.mean((x @ w - y) ** 2)


def make_loss(kind: str, delta: float = 1.0):
    def huber(r):
        a = np.abs(r)
        return np.where(a <= delta, 0.5 * r ** 2, delta * (a - 0.5 * delta))

    def squared(r):
        return 0.5 * r ** 2

    fn = huber if kind == "huber" else squared

    def loss(w, x, y):
        return np.mean(fn(x @ w - y))
    return loss


HUBER = make_loss("huber", 0.3)


# ---------------------------------------------------------------- functools / itertools

def dense(h, W, b, act=np.tanh):
    return act(h @ W + b)


def reduce_layers(params, x):
    layers = [functools.partial(dense, W=W, b=b) for W, b in params]
    out = functools.reduce(lambda h, layer: layer(h), layers, x)
    return np.sum(out ** 2)


def product_of_factors(ws):
    return functools.reduce(operator.mul, [np.tanh(w) + 1.5 for w in ws]).sum()


def cumulative_returns(r: List[float]):
    wealth = list(itertools.accumulate([1.0 + x for x in r], operator.mul))
    peaks = list(itertools.accumulate(wealth, max))
    dd = [1 - w / p for w, p in zip(wealth, peaks)]
    return wealth[-1] - 0.5 * sum(dd)


def grid_energy(theta, coords):
    E = 0.0
    for (i, a), (j, b) in itertools.product(enumerate(coords), repeat=2):
        if i < j:
            E = E + np.exp(-np.sum((theta[i] * a - theta[j] * b) ** 2))
    return E


def path_length(pts):
    return sum(np.linalg.norm(b - a) for a, b in itertools.pairwise(pts))


# ---------------------------------------------------------------- control styles

def piecewise_early_return(w, x, clip=None):
    z = x @ w
    if clip is None:
        return np.mean(z ** 2)
    z = np.clip(z, -clip, clip)
    if clip > 10:
        return np.mean(z ** 2)
    return np.mean(np.abs(z) ** 1.5)


def newton_sqrt_while(a, tol=1e-10):
    x = np.ones_like(a)
    it = 0
    while np.max(np.abs(x * x - a)) > tol and it < 50:
        x = 0.5 * (x + a / x)
        it += 1
    return np.sum(x)


def fixed_point(w, x, tol=1e-9, max_iter=100):
    h = np.zeros(x.shape[0])
    for _ in range(max_iter):
        h_new = np.tanh(x @ w + 0.5 * h)
        if np.linalg.norm(h_new - h) < tol:
            h = h_new
            break
        h = h_new
    return np.sum(h)


def weighted_sum(*terms, weights=None, **penalties):
    if weights is None:
        weights = [1.0] * len(terms)
    total = sum(w * t for w, t in zip(weights, terms))
    for name, (coef, value) in sorted(penalties.items()):
        total = total + coef * value
    return total


def multi_objective(w, x, y):
    r = x @ w - y
    return weighted_sum(np.mean(r ** 2), np.mean(np.abs(r)), weights=[1.0, 0.5],
                        l2=(0.01, w @ w), l1=(0.001, np.abs(w).sum()))


def typed_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray,
                    mask: Optional[np.ndarray] = None) -> float:
    assert q.shape[-1] == k.shape[-1], "q and k width"
    assert q.ndim == 2
    scores: np.ndarray = q @ k.T / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -1e9)
    scores = scores - scores.max(axis=-1, keepdims=True)
    w = np.exp(scores)
    w /= w.sum(axis=-1, keepdims=True)
    return np.sum((w @ v) ** 2)


def einsum_spellings(A, B, x):
    a = np.einsum("ij,jk->ik", A, B)
    b = np.einsum("ij,ij->", A, A)
    c = np.einsum("ii", B[:, :3] @ A)
    d = np.einsum("i,i", x, x)
    e = np.einsum("...j,j->...", A, x)
    f = np.einsum(A, [0, 1], x, [1], [0])
    g = np.einsum("ij->ji", a).sum()
    return np.sum(a) + b + c + d + np.sum(e * f) + g


def matmul_spellings(W, x):
    h1 = x @ W
    h2 = np.dot(x, W)
    h3 = np.matmul(x, W)
    h4 = (W.T @ x.T).T
    h5 = x.dot(W)
    return np.sum(h1 * h2) + np.sum(h3 - h4) + np.sum(h5 ** 2) + np.sum(
        np.tensordot(x, W, axes=1))


def newaxis_styles(mu, x):
    d1 = x[:, np.newaxis, :] - mu[np.newaxis, :, :]
    d2 = x[:, None] - mu[None]
    d3 = np.expand_dims(x, 1) - np.expand_dims(mu, 0)
    return (np.sum(d1 ** 2) + np.sum(np.abs(d2 - d3)) + (d2 ** 2).sum(axis=-1, keepdims=True)
            .min(axis=1).sum())


def comprehension_styles(ws, x):
    outs = [np.tanh(x @ w) for w in ws]
    sq = {i: np.sum(o ** 2) for i, o in enumerate(outs)}
    gen = sum(v for k, v in sq.items() if k != 1)
    pairs = [np.dot(a, b) for a, b in zip(outs, outs[1:])]
    rev = [o.mean() * (k + 1) for k, o in enumerate(reversed(outs))]
    return gen + sum(pairs) + sum(rev) + max(sq.values())


def dict_params_loss(params: Dict[str, np.ndarray], x, y):
    h = np.maximum(x @ params["W1"] + params["b1"], 0)
    logits = h @ params["W2"] + params["b2"]
    loss = np.mean((logits[:, 0] - y) ** 2)
    reg = sum(np.sum(v ** 2) for k, v in params.items() if k.startswith("W"))
    return loss + 1e-3 * reg


WS = [rnd(3), rnd(3), rnd(3)]
PARAMS = [(rnd(3, 4), rnd(4)), (rnd(4, 1), rnd(1))]
PTS = rnd(5, 2, scale=1.0)
DPAR = {"W1": rnd(3, 4), "b1": rnd(4), "W2": rnd(4, 1), "b2": rnd(1)}

CASES = {
    "mlp_class": (mlp_loss, (PARAMS, X, Y), 0, {}),
    "mlp_class_x": (mlp_loss, (PARAMS, X, Y), 1, {}),
    "dataclass_hyper": (train_then_eval, (rnd(3), X, Y), 0, {"hp": Hyper(lr=0.2, steps=4)}),
    "closure_huber": (HUBER, (rnd(3), X, Y), 0, {}),
    "closure_squared": (make_loss("squared"), (rnd(3), X, Y), 0, {}, {"order2": True}),
    "reduce_partial": (reduce_layers, ([(rnd(3, 3), rnd(3)), (rnd(3, 2), rnd(2))], X), (0, 1),
                       {}),
    "reduce_mul": (product_of_factors, (WS,), 0, {}),
    "accumulate": (cumulative_returns, (list(rnd(6, scale=0.05)),), 0, {}),
    "product": (grid_energy, (rnd(3) + 1.0, [rnd(2), rnd(2), rnd(2)]), (0, 1), {}),
    "pairwise": (path_length, (PTS,), 0, {}),
    "early_return_none": (piecewise_early_return, (rnd(3), X), 0, {}),
    "early_return_clip": (piecewise_early_return, (rnd(3), X), 0, {"clip": 0.5}),
    "early_return_big": (piecewise_early_return, (rnd(3), X), 0, {"clip": 20.0}),
    "newton_while": (newton_sqrt_while, (R.random(4) + 0.5,), 0, {}),
    "fixed_point": (fixed_point, (rnd(3), X), 0, {}),
    "args_kwargs": (multi_objective, (rnd(3), X, Y), 0, {}),
    "typed_attention": (typed_attention, (rnd(4, 3), rnd(5, 3), rnd(5, 2)), (0, 1, 2), {}),
    "typed_attention_mask": (typed_attention, (rnd(4, 3), rnd(5, 3), rnd(5, 2)), 0,
                             {"mask": R.random((4, 5)) < 0.7}),
    "einsum": (einsum_spellings, (rnd(3, 3), rnd(3, 4), rnd(3)), (0, 1, 2), {}),
    "matmul": (matmul_spellings, (rnd(3, 2), rnd(4, 3)), (0, 1), {}, {"order2": True}),
    "newaxis": (newaxis_styles, (rnd(3, 2), rnd(4, 2)), (0, 1), {}),
    "comprehensions": (comprehension_styles, (WS, X), 0, {}),
    "dict_params": (dict_params_loss, (DPAR, X, Y), 0, {}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus13_styles(name):
    run_table(CASES, name)
