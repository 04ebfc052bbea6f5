"""Arrays of another type through NumPy's protocols (s2sgrad/arrays.py).

``Wrapped`` is an eager array type that implements only
``__array_function__`` and ``__array_ufunc__`` (by unwrapping, calling NumPy,
wrapping the result), refuses every conversion to NumPy (as CuPy does) and
has no ``out=`` buffers: the generated code and the runtime helpers must run
on it through dispatch alone, and results must keep its kind.
"""
import numpy as np
import pytest
from numpy.lib.mixins import NDArrayOperatorsMixin

from s2sgrad import arrays, grad, jvp, value_and_grad, vjp


def _unwrap(x):
    if isinstance(x, Wrapped):
        return x.a
    if isinstance(x, (list, tuple)):
        return type(x)(_unwrap(v) for v in x)
    if isinstance(x, dict):
        return {k: _unwrap(v) for k, v in x.items()}
    return x


def _wrap(x):
    if isinstance(x, np.ndarray):
        return Wrapped(x)
    if isinstance(x, (list, tuple)):
        return type(x)(_wrap(v) for v in x)
    return x


class Wrapped(NDArrayOperatorsMixin):
    conversions = 0

    def __init__(self, a):
        self.a = np.asarray(a)

    shape = property(lambda self: self.a.shape)
    dtype = property(lambda self: self.a.dtype)
    ndim = property(lambda self: self.a.ndim)
    size = property(lambda self: self.a.size)
    T = property(lambda self: Wrapped(self.a.T))

    def __array__(self, *args, **kwargs):
        Wrapped.conversions += 1
        raise TypeError("implicit conversion of a Wrapped array to NumPy")

    def get(self):                    # the explicit way, as CuPy's .get()
        return self.a.copy()

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if "out" in kwargs:
            return NotImplemented     # no buffers to write into
        return _wrap(getattr(ufunc, method)(*_unwrap(inputs), **_unwrap(kwargs)))

    def __array_function__(self, func, types, args, kwargs):
        return _wrap(func(*_unwrap(args), **_unwrap(kwargs)))

    def __getitem__(self, idx):
        return _wrap(self.a[_unwrap(idx)])

    def __setitem__(self, idx, v):
        self.a[_unwrap(idx)] = _unwrap(v)

    def __len__(self):
        return len(self.a)

    def __bool__(self):
        return bool(self.a)

    def __float__(self):
        return float(self.a)

    def __getattr__(self, name):       # methods: sum, mean, reshape, astype, copy, ...
        attr = getattr(self.a, name)
        if not callable(attr):
            return _wrap(attr)
        return lambda *args, **kw: _wrap(attr(*_unwrap(args), **_unwrap(kw)))


def logistic(w, X, y):
    margin = y * (X @ w)
    return np.mean(np.log1p(np.exp(-margin))) + 0.01 * np.sum(w ** 2)


def mlp(W1, b1, X, y):
    h = np.tanh(X @ W1 + b1)
    if np.sum(h) > 0:                           # a branch on a reduced value
        h = h * 1.5
    for _ in range(2):
        h = np.sin(h)
    return np.mean((np.sum(h, axis=1) - y) ** 2) + np.var(h[:, :2])


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 4))
    return rng, X, np.sign(X @ rng.normal(size=4))


def test_is_duck(data):
    rng, X, y = data
    assert arrays.is_duck(Wrapped(X)) and not arrays.is_duck(X)
    assert not arrays.is_duck(np.float64(1.0)) and not arrays.is_duck(1.0)
    assert not arrays.is_lazy(Wrapped(X))


@pytest.mark.parametrize("mode", ["first", "never"])
def test_wrapped_data_and_arguments(data, mode, monkeypatch):
    from s2sgrad import api
    monkeypatch.setattr(api, "SPECIALIZE", mode)
    rng, X, y = data
    w = rng.normal(size=4)
    Wrapped.conversions = 0
    vg = value_and_grad(logistic, wrt=(0, 1))
    for _ in range(2):
        v, (dw, dX) = vg(w, Wrapped(X), Wrapped(y))
        v0, (dw0, dX0) = value_and_grad(logistic, wrt=(0, 1))(w, X, y)
        assert type(dw) is np.ndarray and isinstance(dX, Wrapped)   # the kind of the argument
        assert dX.shape == X.shape and dX.dtype == X.dtype
        np.testing.assert_allclose(float(v), v0, rtol=1e-12)
        np.testing.assert_allclose(dw, dw0, rtol=1e-12)
        np.testing.assert_allclose(dX.a, dX0, rtol=1e-12, atol=1e-15)
    assert "out=" not in vg.source
    assert Wrapped.conversions == 0


def test_wrapped_mlp_with_branch_and_loop(data):
    rng, X, y = data
    W1, b1 = rng.normal(size=(4, 3)), rng.normal(size=3)
    Wrapped.conversions = 0
    g = grad(mlp, wrt=(0, 1, 2))(W1, b1, Wrapped(X), y)
    g0 = grad(mlp, wrt=(0, 1, 2))(W1, b1, X, y)
    assert type(g[0]) is np.ndarray and isinstance(g[2], Wrapped)
    for a, b in zip(g, g0):
        np.testing.assert_allclose(a.a if isinstance(a, Wrapped) else a, b, rtol=1e-11)
    assert Wrapped.conversions == 0


def test_wrapped_vjp_jvp(data):
    rng, X, y = data
    w = rng.normal(size=4)
    out, pb = vjp(lambda w, X: np.tanh(X @ w), wrt=1)(w, Wrapped(X))
    ct = rng.normal(size=50)
    gX = pb(ct)
    out0, pb0 = vjp(lambda w, X: np.tanh(X @ w), wrt=1)(w, X)
    assert isinstance(gX, Wrapped)
    np.testing.assert_allclose(gX.a, pb0(ct), rtol=1e-12)
    v = rng.normal(size=4)
    val, tan = jvp(logistic)((w, Wrapped(X), Wrapped(y)), (v,))
    val0, tan0 = jvp(logistic)((w, X, y), (v,))
    np.testing.assert_allclose(float(tan), tan0, rtol=1e-12)


def test_wrapped_scatter_refused_only_for_repeats(data):
    rng, X, y = data
    w = rng.normal(size=4)

    def rows(w, X, idx):
        return np.sum((X[idx] @ w) ** 2)

    g = grad(rows, wrt=1)(w, Wrapped(X), np.array([4, 0, 9]))
    np.testing.assert_allclose(g.a, grad(rows, wrt=1)(w, X, np.array([4, 0, 9])))
    from s2sgrad.errors import S2SGradError
    with pytest.raises(S2SGradError, match=r"test_arrays.py:\d+: .*np.add.at"):
        grad(rows, wrt=1)(w, Wrapped(X), np.array([4, 0, 4]))
