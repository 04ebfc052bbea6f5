"""corpus10, part 6: how people write the code around the math: classes with
methods and properties, configuration dataclasses (frozen and not),
``functools.partial``, stacked decorators (``functools.wraps``, caching,
timing, logging), module-level constants changed between calls, helper
modules (``scipy.special``/``math`` imported under aliases), recursion,
generators and ``yield from``, ``*args``/``**kwargs`` passed through,
keyword-only and default arguments, ``np.random.default_rng(seed)`` inside the
loss, in-place updates of locals (``+=``, ``[...] =``, ``out=``), ``print``
and ``logging`` inside the loss, ``enum`` switches, ``typing`` annotations,
``assert`` guards, ``math`` functions of Python floats, ``staticmethod`` and
``classmethod`` helpers, ``__call__`` objects, string-keyed registries.
Checked by ``tests/corpus10_harness.check``.
"""
import dataclasses
import enum
import functools
import logging
import math
import typing
from typing import NamedTuple, Optional, Sequence

import numpy as np
import pytest
import scipy.special as sp

from tests.corpus10_harness import check, run_table

R = np.random.default_rng(10060)
LOG = logging.getLogger("corpus10")


def rnd(*shape, scale=0.5):
    return R.normal(size=shape) * scale


X = rnd(6, 3, scale=1.0)
Y = rnd(6, scale=1.0)


# ---------------------------------------------------------------- classes

class Dense:
    def __init__(self, n_in, n_out, activation="tanh"):
        self.n_in, self.n_out = n_in, n_out
        self.activation = activation

    @property
    def n_params(self):
        return self.n_in * self.n_out + self.n_out

    def unpack(self, theta):
        W = theta[: self.n_in * self.n_out].reshape(self.n_in, self.n_out)
        b = theta[self.n_in * self.n_out: self.n_params]
        return W, b

    def __call__(self, theta, x):
        W, b = self.unpack(theta)
        z = x @ W + b
        return np.tanh(z) if self.activation == "tanh" else np.maximum(z, 0)


class Sequential:
    def __init__(self, *layers):
        self.layers = layers

    @property
    def sizes(self):
        return [l.n_params for l in self.layers]

    def forward(self, theta, x):
        offset = 0
        for layer in self.layers:
            x = layer(theta[offset: offset + layer.n_params], x)
            offset += layer.n_params
        return x

    def loss(self, theta, x, y):
        return np.mean((self.forward(theta, x)[:, 0] - y) ** 2)


SEQ = Sequential(Dense(3, 4), Dense(4, 1, activation="linear"))


class Regulariser:
    strength = 0.01

    @staticmethod
    def l2(w):
        return np.sum(w ** 2)

    @classmethod
    def penalty(cls, w):
        return cls.strength * cls.l2(w)


class RidgeModel(Regulariser):
    def __init__(self, X, y):
        self.X, self.y = X, y

    def objective(self, w):
        r = self.X @ w - self.y
        return 0.5 * r @ r + self.penalty(w)


class Counter:
    """An object whose attribute the loss reads (not differentiated)."""
    def __init__(self):
        self.scale = 2.0

    def loss(self, w):
        return self.scale * np.sum(np.sin(w) ** 2)


# ---------------------------------------------------------------- dataclasses and configs

@dataclasses.dataclass(frozen=True)
class TrainConfig:
    l2: float = 0.1
    activation: str = "tanh"
    n_layers: int = 2
    use_bias: bool = True


def configured_loss(w, X, y, cfg: TrainConfig):
    h = X @ w
    for _ in range(cfg.n_layers - 1):
        h = np.tanh(h) if cfg.activation == "tanh" else sp.expit(h)
    if cfg.use_bias:
        h = h + 0.1
    return np.mean((h - y) ** 2) + cfg.l2 * np.sum(w ** 2)


@dataclasses.dataclass
class Params:
    W: np.ndarray
    b: np.ndarray


class HyperParams(NamedTuple):
    lr: float
    momentum: float
    steps: int


def unrolled_momentum(w0, X, y, hp: HyperParams):
    w = w0
    v = np.zeros_like(w0)
    for _ in range(hp.steps):
        g = X.T @ (X @ w - y) / len(y)
        v = hp.momentum * v + g
        w = w - hp.lr * v
    return np.mean((X @ w - y) ** 2)


class Activation(enum.Enum):
    TANH = "tanh"
    RELU = "relu"
    SOFTPLUS = "softplus"


def act_enum(w, X, act: Activation = Activation.SOFTPLUS):
    z = X @ w
    if act is Activation.TANH:
        h = np.tanh(z)
    elif act == Activation.RELU:
        h = np.maximum(z, 0.0)
    else:
        h = np.logaddexp(0, z)
    return np.sum(h ** 2)


# ---------------------------------------------------------------- partial, decorators

def weighted_mse(w, X, y, weights, scale=1.0):
    return scale * np.sum(weights * (X @ w - y) ** 2)


PARTIAL_LOSS = functools.partial(weighted_mse, X=X, y=Y, weights=np.linspace(0.5, 1.5, 6))


def log_calls(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        LOG.debug("calling %s", fn.__name__)
        return fn(*args, **kwargs)
    return wrapper


def scaled(factor):
    def deco(fn):
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            return factor * fn(*args, **kwargs)
        return inner
    return deco


@log_calls
@scaled(0.5)
def decorated_loss(w, X, y):
    return np.sum((X @ w - y) ** 2)


def with_l2(lam):
    def deco(f):
        def g(w, *args, **kwargs):
            return f(w, *args, **kwargs) + lam * np.sum(w ** 2)
        return g
    return deco


@with_l2(0.1)
def l2_decorated(w, X, y, *, huber_delta=1.0):
    r = np.abs(X @ w - y)
    return np.sum(np.where(r < huber_delta, 0.5 * r ** 2, huber_delta * (r - 0.5 * huber_delta)))


# ---------------------------------------------------------------- module constants, helpers

TEMPERATURE = 1.0


def tempered(w, X):
    return sp.logsumexp(X @ w / TEMPERATURE)


def mathy(a, b):
    return math.exp(a) * math.sin(b) + math.log1p(a ** 2) + math.sqrt(b ** 2 + 1.0) \
        + math.pi * a * b


def numpy_scalar_mix(w, X):
    s = np.float64(0.5) * np.sum(w)
    return float(s) ** 2 + np.sum(np.cos(X @ w))


# ---------------------------------------------------------------- recursion, generators

def poly_horner(coeffs, x):
    if len(coeffs) == 1:
        return coeffs[0] * np.ones_like(x)
    return coeffs[0] + x * poly_horner(coeffs[1:], x)


def horner_loss(c, x, y):
    return np.sum((poly_horner(c, x) - y) ** 2)


def tree_sum(xs):
    if len(xs) == 1:
        return np.sum(xs[0] ** 2)
    mid = len(xs) // 2
    return tree_sum(xs[:mid]) + tree_sum(xs[mid:])


def recursive_tree(params):
    return tree_sum(params)


def fib_like(x, n):
    if n <= 1:
        return x
    return np.sin(fib_like(x, n - 1)) + 0.5 * fib_like(x, n - 2)


def fib_loss(x):
    return np.sum(fib_like(x, 4))


def batches(X, y, size):
    for i in range(0, len(y), size):
        yield X[i:i + size], y[i:i + size]


def minibatch_loss(w, X, y):
    total = 0.0
    for xb, yb in batches(X, y, 2):
        total += np.sum((xb @ w - yb) ** 2)
    return total


def layers_gen(params):
    yield from params
    yield params[0]


def gen_delegate(params, x):
    for W in layers_gen(params):
        x = np.tanh(x @ W)
    return np.sum(x)


def sum_genexp(w, X):
    return sum(np.sum(np.tanh(X[i] * w)) for i in range(X.shape[0]))


# ---------------------------------------------------------------- *args / **kwargs / keyword-only

def forward_kwargs(w, X, y, **opts):
    reg = opts.get("reg", 0.0)
    power = opts.get("power", 2)
    return np.mean(np.abs(X @ w - y) ** power) + reg * np.sum(w ** 2)


def through(f, *args, **kwargs):
    return f(*args, **kwargs)


def passes_args(w, X, y):
    return through(forward_kwargs, w, X, y, reg=0.1, power=3)


def kwonly_loss(w, *, X, y, l1=0.0, l2=0.0):
    r = X @ w - y
    return r @ r + l1 * np.sum(np.abs(w)) + l2 * w @ w


def default_array(w, X, y, weights=np.ones(6)):
    return np.sum(weights * (X @ w - y) ** 2)


def optional_mask(w, X, y, mask: Optional[np.ndarray] = None):
    r = (X @ w - y) ** 2
    if mask is not None:
        r = r * mask
    return r.sum()


def star_unpack(w, X):
    a, *rest, z = w
    return a * z + np.sum(np.array(rest) ** 2) + np.sum(X[:, 0] * a)


def shape_unpack(W, X):
    n, d = X.shape
    d2, k = W.shape
    assert d == d2, "shape mismatch"
    return np.sum((X @ W) ** 2) / (n * k)


# ---------------------------------------------------------------- rng inside, in-place, logging

def dropout_seeded(w, X, y, p=0.3, seed=0):
    rng = np.random.default_rng(seed)
    mask = rng.random(X.shape) > p
    h = (X * mask / (1 - p)) @ w
    return np.mean((h - y) ** 2)


def noisy_loss(w, X, y):
    rng = np.random.default_rng(42)
    noise = rng.normal(0, 0.1, size=y.shape)
    idx = rng.integers(0, len(y), size=4)
    return np.mean((X[idx] @ w - (y + noise)[idx]) ** 2)


def inplace_locals(w, X):
    h = X @ w
    h *= 2.0
    h += 1.0
    h[h < 0] = 0.0
    out = np.empty_like(h)
    np.multiply(h, h, out=out)
    out /= len(h)
    return out.sum()


def ellipsis_write(W, X):
    Z = np.zeros((X.shape[0], W.shape[1]))
    Z[...] = X @ W
    Z[:, 0] += 1.0
    return np.sum(np.tanh(Z))


def printing_loss(w, X, y):
    r = X @ w - y
    loss = np.mean(r ** 2)
    print("loss:", loss, "max resid:", np.max(np.abs(r)))
    print(f"w = {w}, loss = {loss:.4f}")
    LOG.info("loss %s", loss)
    return loss


def logging_loop(w, X, y, steps=3):
    for step in range(steps):
        w = w - 0.1 * X.T @ (X @ w - y) / len(y)
        logging.debug(f"step {step}: |w| = {np.linalg.norm(w):.3f}")
        if step % 2 == 0:
            print(f"iteration {step}")
    return np.sum((X @ w - y) ** 2)


# ---------------------------------------------------------------- registries, annotations

LOSSES = {
    "mse": lambda r: r ** 2,
    "mae": lambda r: np.sqrt(r ** 2 + 1e-6),
    "logcosh": lambda r: np.log(np.cosh(r)),
}


def registry_loss(w, X, y, kind="logcosh"):
    return np.mean(LOSSES[kind](X @ w - y))


def annotated(w: np.ndarray, X: np.ndarray, y: np.ndarray, alpha: float = 0.5) -> float:
    z: np.ndarray = X @ w
    total: float = 0.0
    total += float(alpha) * np.sum((z - y) ** 2)
    return total


def seq_typing(ws: Sequence[np.ndarray], X: np.ndarray) -> float:
    h = X
    for W in ws:
        h = np.tanh(h @ W)
    return np.sum(h)


# ---------------------------------------------------------------- the table

CASES = {
    "sequential_method": (SEQ.loss, (rnd(SEQ.layers[0].n_params + SEQ.layers[1].n_params),
                                     X, Y), 0, {}),
    "ridge_classmethod": (RidgeModel(X, Y).objective, (rnd(3),), 0, {}, {"order2": True}),
    "attr_scale": (Counter().loss, (rnd(3),), 0, {}),
    "dataclass_cfg": (configured_loss, (rnd(3), X, Y, TrainConfig()), 0, {}),
    "dataclass_cfg_sigmoid": (configured_loss, (rnd(3), X, Y,
                                                TrainConfig(activation="sigmoid", n_layers=3,
                                                            use_bias=False)), 0, {}),
    "namedtuple_hparams": (unrolled_momentum, (rnd(3), X, Y, HyperParams(0.1, 0.9, 4)), 0, {}),
    "enum_default": (act_enum, (rnd(3), X), 0, {}),
    "enum_tanh": (act_enum, (rnd(3), X), 0, {"act": Activation.TANH}),
    "partial_kwargs": (PARTIAL_LOSS, (rnd(3),), 0, {}),
    "stacked_decorators": (decorated_loss, (rnd(3), X, Y), 0, {}),
    "decorator_factory_kwonly": (l2_decorated, (rnd(3), X, Y), 0, {"huber_delta": 0.7}),
    "module_constant": (tempered, (rnd(3), X), 0, {}),
    "math_module": (mathy, (0.3, 0.7), (0, 1), {}, {"f32": False}),
    "numpy_scalar": (numpy_scalar_mix, (rnd(3), X), 0, {}),
    "recursion_tree": (recursive_tree, ([rnd(2), rnd(3), rnd(2), rnd(1)],), 0, {}),
    "recursion_fib": (fib_loss, (rnd(3),), 0, {}),
    "generator_batches": (minibatch_loss, (rnd(3), X, Y), 0, {}),
    "yield_from": (gen_delegate, ([rnd(3, 3), rnd(3, 3)], X), 0, {}),
    "sum_genexp": (sum_genexp, (rnd(3), X), 0, {}),
    "kwargs_get": (forward_kwargs, (rnd(3), X, Y), 0, {"reg": 0.2}),
    "args_passthrough": (passes_args, (rnd(3), X, Y), 0, {}),
    "keyword_only": (kwonly_loss, (rnd(3),), 0, {"X": X, "y": Y, "l2": 0.3}),
    "default_array": (default_array, (rnd(3), X, Y), 0, {}),
    "optional_none": (optional_mask, (rnd(3), X, Y), 0, {}),
    "optional_mask": (optional_mask, (rnd(3), X, Y), 0, {"mask": (Y > 0).astype(float)}),
    "shape_unpack_assert": (shape_unpack, (rnd(3, 2), X), 0, {}),
    "rng_dropout": (dropout_seeded, (rnd(3), X, Y), 0, {}),
    "rng_noise_idx": (noisy_loss, (rnd(3), X, Y), 0, {}),
    "inplace_locals": (inplace_locals, (rnd(3), X), 0, {}),
    "ellipsis_write": (ellipsis_write, (rnd(3, 2), X), 0, {}),
    "printing": (printing_loss, (rnd(3), X, Y), 0, {}),
    "logging_loop": (logging_loop, (rnd(3), X, Y), 0, {}),
    "registry": (registry_loss, (rnd(3), X, Y), 0, {}),
    "registry_mae": (registry_loss, (rnd(3), X, Y), 0, {"kind": "mae"}),
    "annotations": (annotated, (rnd(3), X, Y), 0, {}),
    "typing_sequence": (seq_typing, ([rnd(3, 3), rnd(3, 2)], X), 0, {}),
    # starred unpacking of an array (refused until corpus12: its length is
    # known only at run time, checked there)
    "star_unpack_array": (star_unpack, (rnd(5), X), 0, {}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus10_usage(name):
    run_table(CASES, name)


def test_module_constant_changed_between_calls():
    """TEMPERATURE read live: rebinding it changes the value and gradient of
    the same compiled function, as in NumPy."""
    global TEMPERATURE
    from s2sgrad import value_and_grad
    from tests.corpus9_harness import fd_grad
    w = rnd(3)
    vg = value_and_grad(tempered)
    saved = TEMPERATURE
    try:
        for t in (1.0, 0.25, 3.0):
            TEMPERATURE = t
            v, g = vg(w, X)
            np.testing.assert_allclose(v, tempered(w, X), rtol=1e-12)
            np.testing.assert_allclose(g, fd_grad(tempered, (w, X)), rtol=1e-5, atol=1e-7)
    finally:
        TEMPERATURE = saved


def test_class_attribute_changed_between_calls():
    from s2sgrad import grad
    w = rnd(3)
    m = RidgeModel(X, Y)
    g = grad(m.objective)
    g1 = g(w)
    saved = Regulariser.strength
    try:
        Regulariser.strength = 1.5
        g2 = g(w)
        np.testing.assert_allclose(g2 - g1, 2 * (1.5 - saved) * w, rtol=1e-10)
    finally:
        Regulariser.strength = saved


def test_object_attribute_changed_between_calls():
    from s2sgrad import value_and_grad
    c = Counter()
    w = rnd(3)
    vg = value_and_grad(c.loss)
    v1, g1 = vg(w)
    c.scale = 5.0
    v2, g2 = vg(w)
    np.testing.assert_allclose(v2, c.loss(w), rtol=1e-12)
    np.testing.assert_allclose(g2, 2.5 * g1, rtol=1e-12)


def test_dataclass_params_pytree():
    """A dataclass of arrays as the differentiated argument (registered as a
    pytree by the user, as with jax.tree_util.register_dataclass)."""
    import s2sgrad
    s2sgrad.register_pytree(Params, lambda p: ((p.W, p.b), None), lambda aux, ch: Params(*ch))
    p = Params(rnd(3, 2), rnd(2))

    def loss(p, X):
        return np.sum(np.tanh(X @ p.W + p.b) ** 2)
    g = s2sgrad.grad(loss)(p, X)
    assert isinstance(g, Params)
    from tests.corpus9_harness import fd_grad
    fdW = fd_grad(lambda W, X: loss(Params(W, p.b), X), (p.W, X))
    fdb = fd_grad(lambda b, X: loss(Params(p.W, b), X), (p.b, X))
    np.testing.assert_allclose(g.W, fdW, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(g.b, fdb, rtol=1e-5, atol=1e-8)



# refusals met by the corpus (intended): each names the user's line
REFUSALS = {
    # recursion on len() of an array: the code is shape-polymorphic, so the
    # length is known only when it runs (a Python list of coefficients, or a
    # loop, works: Horner's rule as `for c in coeffs[::-1]: acc = acc * x + c`)
    "recursion_on_array_length": (horner_loss, (rnd(4), np.linspace(-1, 1, 5), rnd(5)),
                                  r"test_corpus10_usage.py:\d+: calls nest deeper than 64 "
                                  r"levels while inlining 'poly_horner'"),
}


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_refusals_name_the_line(name):
    from s2sgrad import grad
    from s2sgrad.errors import S2SGradError
    f, args, pattern = REFUSALS[name]
    with pytest.raises(S2SGradError, match=pattern):
        grad(f)(*args)


def horner_loop(c, x, y):
    acc = np.zeros_like(x)
    for ck in c[::-1]:
        acc = acc * x + ck
    return np.sum((acc - y) ** 2)


def test_horner_as_a_loop():
    """What the recursion refusal suggests works (and agrees with NumPy)."""
    check(horner_loop, (rnd(4), np.linspace(-1, 1, 5), rnd(5)), 0)
    c, x = rnd(4), np.linspace(-1, 1, 5)
    np.testing.assert_allclose(poly_horner(c, x), np.polyval(c[::-1], x), rtol=1e-12)
