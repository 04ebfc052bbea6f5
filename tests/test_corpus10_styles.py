"""corpus10, part 8: more code styles around the same math: inheritance with
``super()``, alternate constructors (``classmethod``), ``__call__`` models,
dataclasses with methods and ``field(default_factory=...)``, a module-level
config dict changed between calls, ``functools.reduce`` and ``operator``,
``map``/``filter`` with lambdas, ``lambda`` defaults, nested helpers three
deep, ``global`` constants in ``np.float32``, ``SimpleNamespace`` configs,
string dispatch through ``getattr(np, name)``, ``isinstance`` checks on the
arguments, optional tuples of regularisers, returning early on an argument
flag, ``np.random.default_rng(seed)`` with ``rng.permutation`` /
``rng.choice`` inside the loss.  Checked by ``tests/corpus10_harness.check``.
"""
import dataclasses
import functools
import operator
import types

import numpy as np
import pytest
import scipy.special as sps

from tests.corpus10_harness import check, run_table

R = np.random.default_rng(10090)


def rnd(*shape, scale=0.5):
    return R.normal(size=shape) * scale


X = rnd(6, 3, scale=1.0)
Y = rnd(6, scale=1.0)


class BaseLoss:
    def __init__(self, reduction="mean"):
        self.reduction = reduction

    def reduce(self, v):
        return np.mean(v) if self.reduction == "mean" else np.sum(v)

    def __call__(self, w, X, y):
        return self.reduce(self.pointwise(X @ w, y))


class SquaredLoss(BaseLoss):
    def pointwise(self, pred, y):
        return (pred - y) ** 2


class RegularisedSquared(SquaredLoss):
    def __init__(self, lam, **kw):
        super().__init__(**kw)
        self.lam = lam

    def __call__(self, w, X, y):
        return super().__call__(w, X, y) + self.lam * np.sum(w ** 2)

    @classmethod
    def strong(cls):
        return cls(lam=1.0, reduction="sum")


@dataclasses.dataclass
class Model:
    hidden: int = 4
    scales: list = dataclasses.field(default_factory=lambda: [1.0, 0.5])

    def predict(self, params, X):
        h = np.tanh(X @ params["W"]) * self.scales[0]
        return h @ params["v"] * self.scales[1]

    def loss(self, params, X, y):
        return np.mean((self.predict(params, X) - y) ** 2)


CONFIG = {"l2": 0.1, "loss": "huber", "delta": 1.0}


def config_loss(w, X, y):
    r = X @ w - y
    if CONFIG["loss"] == "huber":
        a = np.abs(r)
        d = CONFIG["delta"]
        v = np.where(a < d, 0.5 * r ** 2, d * (a - 0.5 * d))
    else:
        v = r ** 2
    return np.sum(v) + CONFIG["l2"] * np.sum(w ** 2)


def reduce_compose(w, X):
    fs = (np.sin, np.tanh, np.cos)
    h = functools.reduce(lambda acc, f: f(acc), fs, X @ w)
    return functools.reduce(operator.add, [np.sum(h), np.sum(h ** 2), 1.0])


def map_filter(ws, X):
    ws = list(filter(lambda w: w is not None, ws))
    outs = list(map(lambda w: np.tanh(X @ w), ws))
    return sum(np.sum(o ** 2) for o in outs)


def lambda_defaults(w, X, scale=2.0):
    f = lambda z, s=scale: np.log1p(np.exp(s * z)) / s
    return np.sum(f(X @ w))


def three_deep(w, X, y):
    def outer(z):
        def middle(u):
            def inner(t):
                return np.sin(t) * t
            return inner(u) + u ** 2
        return middle(z) - 0.5 * z
    return np.mean((outer(X @ w) - y) ** 2)


EPS32 = np.float32(1e-3)


def float32_global(w, X):
    return np.sum(np.sqrt((X @ w) ** 2 + EPS32))


NS = types.SimpleNamespace(temperature=0.5, clip=3.0, use_clip=True)


def namespace_cfg(w, X):
    z = X @ w / NS.temperature
    if NS.use_clip:
        z = np.clip(z, -NS.clip, NS.clip)
    return sps.logsumexp(z)


def getattr_dispatch(w, X, act="tanh"):
    f = getattr(np, act)
    return np.sum(f(X @ w))


def isinstance_checks(w, X, reg):
    total = np.sum((X @ w) ** 2)
    if isinstance(reg, (int, float)):
        total = total + reg * np.sum(w ** 2)
    elif isinstance(reg, tuple):
        l1, l2 = reg
        total = total + l1 * np.sum(np.abs(w)) + l2 * np.sum(w ** 2)
    return total


def optional_regs(w, X, regs=()):
    loss = np.mean((X @ w) ** 2)
    for kind, lam in regs:
        if kind == "l1":
            loss = loss + lam * np.sum(np.abs(w))
        elif kind == "l2":
            loss = loss + lam * np.sum(w ** 2)
    return loss


def early_flag(w, X, y, value_only=False):
    r = X @ w - y
    if value_only:
        return np.sum(r ** 2)
    return np.sum(r ** 2) + np.sum(np.abs(r) ** 3)


def rng_permutation(w, X, y, seed=3):
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(y))
    half = len(y) // 2
    tr = perm[:half]
    return np.mean((X[tr] @ w - y[tr]) ** 2)


def rng_choice(w, X, y):
    rng = np.random.default_rng(0)
    idx = rng.choice(len(y), size=4, replace=False)
    wts = rng.uniform(0.5, 1.5, size=4)
    return np.sum(wts * (X[idx] @ w - y[idx]) ** 2)


class Scaler:
    def __init__(self, X):
        self.mu = X.mean(axis=0)
        self.sd = X.std(axis=0)

    def transform(self, X):
        return (X - self.mu) / self.sd


SCALER = Scaler(X)


def pipeline(w, X, y):
    Z = SCALER.transform(X)
    return np.mean((Z @ w - y) ** 2)


class Polynomial:
    def __init__(self, degree):
        self.degree = degree

    @staticmethod
    def features(x, degree):
        return np.stack([x ** k for k in range(degree + 1)], axis=1)

    def __call__(self, coef, x, y):
        return np.sum((self.features(x, self.degree) @ coef - y) ** 2)


CASES = {
    "super_call": (RegularisedSquared(0.1), (rnd(3), X, Y), 0, {}),
    "classmethod_ctor": (RegularisedSquared.strong(), (rnd(3), X, Y), 0, {}),
    "base_call": (SquaredLoss(reduction="sum"), (rnd(3), X, Y), 0, {}),
    "dataclass_method": (Model().loss, ({"W": rnd(3, 4), "v": rnd(4)}, X, Y), 0, {}),
    "config_dict": (config_loss, (rnd(3), X, Y), 0, {}),
    "reduce_operator": (reduce_compose, (rnd(3), X), 0, {}),
    "map_filter": (map_filter, ([rnd(3), rnd(3)], X), 0, {}),
    "lambda_defaults": (lambda_defaults, (rnd(3), X), 0, {}),
    "three_deep": (three_deep, (rnd(3), X, Y), 0, {}, {"order2": True}),
    "float32_global": (float32_global, (rnd(3), X), 0, {}),
    "namespace": (namespace_cfg, (rnd(3), X), 0, {}),
    "getattr_np": (getattr_dispatch, (rnd(3), X), 0, {"act": "arctan"}),
    "isinstance_tuple": (isinstance_checks, (rnd(3), X, (0.1, 0.2)), 0, {}),
    "optional_regs": (optional_regs, (rnd(3), X), 0, {"regs": (("l1", 0.1), ("l2", 0.3))}),
    "early_flag": (early_flag, (rnd(3), X, Y), 0, {}),
    "early_flag_true": (early_flag, (rnd(3), X, Y), 0, {"value_only": True}),
    "rng_permutation": (rng_permutation, (rnd(3), X, Y), 0, {}),
    "rng_choice": (rng_choice, (rnd(3), X, Y), 0, {}),
    "pipeline_object": (pipeline, (rnd(3), X, Y), 0, {}),
    "staticmethod_call": (Polynomial(3), (rnd(4), np.linspace(-1, 1, 6), rnd(6)), 0, {},
                          {"order2": True}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus10_styles(name):
    run_table(CASES, name)


def test_config_dict_changed_between_calls():
    from s2sgrad import value_and_grad
    from tests.corpus9_harness import fd_grad
    w = rnd(3)
    vg = value_and_grad(config_loss)
    saved = dict(CONFIG)
    try:
        for change in ({}, {"l2": 0.7}, {"loss": "mse"}, {"delta": 0.2, "loss": "huber"}):
            CONFIG.update(change)
            v, g = vg(w, X, Y)
            np.testing.assert_allclose(v, config_loss(w, X, Y), rtol=1e-12)
            np.testing.assert_allclose(g, fd_grad(config_loss, (w, X, Y)), rtol=1e-5, atol=1e-7)
    finally:
        CONFIG.clear()
        CONFIG.update(saved)


def test_namespace_changed_between_calls():
    from s2sgrad import value_and_grad
    w = rnd(3) * 4
    vg = value_and_grad(namespace_cfg)
    saved = dict(vars(NS))
    try:
        for t, clip, use in ((0.5, 3.0, True), (0.1, 0.5, True), (0.1, 0.5, False)):
            NS.temperature, NS.clip, NS.use_clip = t, clip, use
            v, _ = vg(w, X)
            np.testing.assert_allclose(v, namespace_cfg(w, X), rtol=1e-12)
    finally:
        vars(NS).update(saved)


def test_isinstance_of_a_float_argument():
    """A Python float argument is data (read when the code runs, so a new
    value needs no recompilation); ``isinstance(reg, (int, float))`` of it is
    Python's test when the code runs (refused at the line on 7ed9f94).  A
    tuple argument's type is known (the case "isinstance_tuple")."""
    check(isinstance_checks, (rnd(3), X, 0.3), (0, 2))


def test_filter_with_a_runtime_test_refused():
    from s2sgrad import grad
    from s2sgrad.errors import S2SGradError

    def f(ws, X):
        outs = [np.tanh(X @ w) for w in ws]
        return sum(np.sum(o) for o in filter(lambda o: o.shape[0] > 2, outs))
    with pytest.raises(S2SGradError, match=r"test_corpus10_styles.py:\d+: filter\(\) whose test"):
        grad(f)([rnd(3)], X)
