"""Shared checks of the tests/test_trust4_*.py programs (not a test module).

``agree(f, *args)`` runs ``value_and_grad(f)`` and compares the value with
plain NumPy's ``f`` (on copies of the arguments), the gradient with central
finite differences taken element by element, checks that the caller's
arguments are unchanged, calls the gradient a second time (state carried
between calls), and where asked compares forward mode (``jvp`` along a
random tangent) and ``hessian`` (finite differences of the gradient).

``refuses(f, *args, match=...)`` expects an :class:`S2SGradError` whose
message starts with this test file's ``file:line:``."""
import copy

import numpy as np
import pytest

from s2sgrad import S2SGradError, hessian, jvp, value_and_grad


def _fd(fun, args, wrt, eps):
    """Central differences of the scalar fun(*args) in args[wrt] (an array or
    a float), one element at a time, on fresh copies each evaluation."""
    x = args[wrt]
    scalar = not isinstance(x, np.ndarray)
    base = np.array(x, dtype=np.float64)
    out = np.zeros(base.shape)
    for idx in np.ndindex(base.shape):
        vals = []
        for sign in (1.0, -1.0):
            xs = base.copy()
            xs[idx] += sign * eps
            a = list(copy.deepcopy(args))
            a[wrt] = float(xs) if scalar else xs.astype(x.dtype)
            vals.append(float(np.real(fun(*a))))
        out[idx] = (vals[0] - vals[1]) / (2 * eps)
    return float(out) if scalar else out


def _same(a, b):
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(p, q) for p, q in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b or (a != a and b != b)


def agree(f, *args, wrt=0, fwd=True, hess=False, rtol=1e-6, atol=1e-7, calls=2):
    """value_and_grad(f)(*args) is NumPy's value and the finite-difference
    gradient; the caller's arguments are untouched; ``calls`` repeated
    calls give the same; optionally jvp and hessian agree too."""
    kept = copy.deepcopy(args)
    expected = f(*copy.deepcopy(args))
    vg = value_and_grad(f, wrt=wrt)
    wrts = wrt if isinstance(wrt, tuple) else (wrt,)
    fds = [_fd(f, args, w, 1e-6) for w in wrts]
    for _ in range(calls):
        v, g = vg(*args)
        for a, b in zip(args, kept):
            assert _same(a, b), "the caller's argument was modified"
        np.testing.assert_allclose(v, expected, rtol=1e-12, atol=1e-12, err_msg="value")
        if isinstance(expected, (np.ndarray, np.generic)):
            assert np.asarray(v).dtype == expected.dtype, (np.asarray(v).dtype, expected.dtype)
        gs = g if isinstance(wrt, tuple) else (g,)
        for gi, fdi in zip(gs, fds):
            np.testing.assert_allclose(gi, fdi, rtol=1e-5, atol=1e-6, err_msg="gradient")
    if fwd:
        rng = np.random.default_rng(7)
        for w, gi in zip(wrts, gs):
            t = rng.normal(size=np.shape(args[w]))
            t = float(t) if not isinstance(args[w], np.ndarray) else t.astype(args[w].dtype)
            v2, d = jvp(f, wrt=w)(tuple(args), (t,))
            np.testing.assert_allclose(v2, expected, rtol=1e-12, atol=1e-12, err_msg="jvp value")
            np.testing.assert_allclose(d, np.sum(np.asarray(gi) * t), rtol=1e-8, atol=1e-10,
                                       err_msg="jvp tangent")
    if hess:
        h = hessian(f, wrt=wrt)(*args)
        x = args[wrt]
        n = np.size(x)
        hf = np.zeros((n, n))
        for j in range(n):
            e = np.zeros(n)
            e[j] = 1e-5
            gp = vg(*_replaced(args, wrt, x + e.reshape(np.shape(x))))[1]
            gm = vg(*_replaced(args, wrt, x - e.reshape(np.shape(x))))[1]
            hf[:, j] = (np.ravel(gp) - np.ravel(gm)) / 2e-5
        np.testing.assert_allclose(np.reshape(h, (n, n)), hf, rtol=1e-5, atol=1e-6, err_msg="hessian")
    return g


def _replaced(args, i, v):
    a = list(args)
    a[i] = v
    return a


def refuses(f, *args, match=None, wrt=0):
    """grad(f) raises an S2SGradError located at a line of f's file."""
    import inspect

    with pytest.raises(S2SGradError, match=match) as info:
        value_and_grad(f, wrt=wrt)(*args)
    err = info.value
    assert err.filename is not None and err.lineno is not None, str(err)
    assert err.filename == inspect.getsourcefile(f), str(err)
    return err


class Across:
    """One ``value_and_grad``, ``grad`` and ``jvp`` object of ``f`` kept
    across changes of state (globals, attributes, cells, defaults):
    ``check(*args)`` compares them with NumPy's value and finite differences
    of ``f`` as it is now."""

    def __init__(self, f, wrt=0, fwd=True):
        from s2sgrad import grad
        self.f, self.wrt, self.fwd = f, wrt, fwd
        self.vg = value_and_grad(f, wrt=wrt)
        self.g = grad(f, wrt=wrt)
        self.jv = jvp(f, wrt=wrt) if fwd else None

    def check(self, *args):
        f = self.f
        expected = f(*copy.deepcopy(args))
        fd = _fd(f, args, self.wrt, 1e-6)
        for _ in range(2):                     # the general path, then the hot one
            v, g = self.vg(*args)
            np.testing.assert_allclose(v, expected, rtol=1e-12, atol=1e-12, err_msg="value")
            np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-6, err_msg="gradient")
            np.testing.assert_allclose(self.g(*args), fd, rtol=1e-5, atol=1e-6,
                                       err_msg="grad")
        if self.jv is not None:
            t = np.random.default_rng(3).normal(size=np.shape(args[self.wrt]))
            t = float(t) if not isinstance(args[self.wrt], np.ndarray) else t
            v2, d = self.jv(tuple(args), (t,))
            np.testing.assert_allclose(v2, expected, rtol=1e-12, atol=1e-12, err_msg="jvp value")
            np.testing.assert_allclose(d, np.sum(np.asarray(fd) * t), rtol=1e-5, atol=1e-6,
                                       err_msg="jvp tangent")
        return g
