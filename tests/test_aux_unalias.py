"""A gradient returned beside the function's own results (``has_aux``'s aux,
``value_and_grad``'s value, ``vjp``'s output) is the caller's own array:
it never shares memory with one of those results, so writing into the one
leaves the other as it was.  (The generated code may return one array for
both: ``loss = sum(a * y)`` with ``aux = a`` makes ``a`` y's gradient.)"""
import numpy as np
import pytest

from s2sgrad import grad, value_and_grad, vjp


def aux_is_a(x, y):
    a = x * 2
    return np.sum(a * y), a


def aux_dict_of_views(x, y):
    a = x * 2
    return np.sum(a * y), {"a": a, "tail": a[1:]}


def aux_view_only(x, y):
    a = x * 2.0
    return np.sum(a * y), a[1:]


def aux_reshaped(x, y):
    a = np.exp(x)
    return np.sum(a * y), (a.reshape(-1, 1), 3)


def _aux_arrays(aux):
    if isinstance(aux, dict):
        aux = list(aux.values())
    if not isinstance(aux, (list, tuple)):
        aux = [aux]
    return [a for a in aux if isinstance(a, np.ndarray)]


def _numeric_grad(f, x, y, eps=1e-6):
    g = np.zeros_like(y)
    for k in range(y.size):
        d = np.zeros_like(y)
        d.flat[k] = eps
        g.flat[k] = (f(x, y + d)[0] - f(x, y - d)[0]) / (2 * eps)
    return g


@pytest.mark.parametrize("fn", [aux_is_a, aux_dict_of_views, aux_view_only, aux_reshaped])
@pytest.mark.parametrize("dec", [grad, value_and_grad])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gradient_never_shares_memory_with_aux(fn, dec, dtype):
    x = np.linspace(-1.0, 1.0, 4).astype(dtype)
    y = np.linspace(0.5, 2.0, 4).astype(dtype)
    h = dec(fn, wrt=1, has_aux=True)
    want_loss, want_aux = fn(x.astype(np.float64), y.astype(np.float64))
    want_g = _numeric_grad(fn, x.astype(np.float64), y.astype(np.float64))
    tol = 1e-6 if dtype == np.float64 else 1e-3
    for _ in range(3):                      # first call, then the fast paths
        r = h(x, y)
        if dec is value_and_grad:
            (loss, aux), g = r
            np.testing.assert_allclose(loss, want_loss, rtol=tol)
        else:
            g, aux = r
        np.testing.assert_allclose(g, want_g, rtol=tol, atol=tol)
        arrays = _aux_arrays(aux)
        assert arrays, "the aux value holds arrays"
        for a, w in zip(arrays, _aux_arrays(want_aux)):
            np.testing.assert_allclose(a, w, rtol=tol)
            assert not np.shares_memory(g, a)
        before = [a.copy() for a in arrays]
        g[...] = 123.0                      # the caller's own array
        for a, b in zip(arrays, before):
            np.testing.assert_array_equal(a, b)


def test_value_and_grad_of_two_arguments_with_aux():
    def f(x, y):
        a = x * y
        return np.sum(a), (a, x)
    x, y = np.arange(1.0, 4.0), np.full(3, 2.0)
    (loss, (a, xx)), (gx, gy) = value_and_grad(f, wrt=(0, 1), has_aux=True)(x, y)
    assert loss == pytest.approx(12.0)
    np.testing.assert_array_equal(gx, y)
    np.testing.assert_array_equal(gy, x)
    for g in (gx, gy):
        for v in (a, xx, x, y):
            assert not np.shares_memory(g, v)


def test_vjp_gradient_does_not_share_memory_with_aux_or_output():
    def f(x, y):
        a = x * 2
        return a * y, a
    x, y = np.arange(3.0), np.ones(3)
    for _ in range(2):
        out, pullback, aux = vjp(f, wrt=1, has_aux=True)(x, y)
        np.testing.assert_array_equal(out, x * 2 * y)
        g = pullback(np.ones(3))
        np.testing.assert_array_equal(g, x * 2)
        assert not np.shares_memory(g, aux) and not np.shares_memory(g, out)
        g[...] = -1.0
        np.testing.assert_array_equal(aux, x * 2)
