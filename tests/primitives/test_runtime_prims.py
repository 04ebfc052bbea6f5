"""Specs for the runtime-helper primitives (``s2sgrad.runtime``), which user
code can also call directly, plus ``sum``/``mean``/``scalar_cast``.

Besides the reverse-mode check of ``check_spec`` (forward mode is checked
for every spec by ``test_jvp_identity.py``), every spec here and in
``test_reductions.py``/``test_shape_ops.py`` is run through ``check_hvp``:
forward-over-reverse (the tangent of the generated gradient, i.e. a
Hessian-vector product) against central differences of the gradient.  That
exercises the rules of every primitive a vjp rule emits ("derivative code is
differentiable again").
"""
import inspect

import numpy as np
import pytest

import s2sgrad
from s2sgrad import runtime as rt
from s2sgrad.codegen import generate
from s2sgrad.ir import verify
from s2sgrad.lower import lower_function
from s2sgrad.optimize import optimize
from s2sgrad.reverse import grad_func

from .spec import Spec, check_spec, normal

try:
    from s2sgrad.forward import jvp_func
except ImportError:  # pragma: no cover - forward mode not present
    jvp_func = None

EPS = 1e-6


def _wrt(spec):
    return spec.wrt if isinstance(spec.wrt, tuple) else (spec.wrt,)


def _lower(spec):
    names = list(inspect.signature(spec.fn).parameters)
    return verify(lower_function(spec.fn, {n: ("leaf", None) for n in names}))


def _compile(func, spec):
    return generate(optimize(verify(func)), spec.fn.__globals__).fn


def _directions(spec, seed=0):
    """Random directions (complex ones for complex arguments)."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(np.shape(spec.args[i])) + (
        1j * rng.standard_normal(np.shape(spec.args[i])) if np.iscomplexobj(spec.args[i]) else 0)
        for i in _wrt(spec)]


def _wide(a):
    return np.asarray(a, dtype=np.complex128 if np.iscomplexobj(a) else np.float64)


def _moved(spec, vs, t):
    args = list(spec.args)
    for i, v in zip(_wrt(spec), vs):
        args[i] = _wide(args[i]) + t * v
    return args


def _close(a, b, rtol=1e-5, atol=1e-6):
    a, b = _wide(a), _wide(b)
    return a.shape == b.shape and np.allclose(a, b, rtol=rtol, atol=atol)


def check_hvp(spec: Spec):
    """Forward-over-reverse: the tangent of the generated gradient against
    central differences of the gradient."""
    if jvp_func is None:
        pytest.skip("forward mode not available")
    wrt = list(_wrt(spec))
    primal = _lower(spec)
    g = optimize(verify(grad_func(primal, wrt, [0], keep_values=False)))
    fn = _compile(jvp_func(g, wrt), spec)
    vs = _directions(spec, seed=1)
    res = fn(*spec.args, *vs)
    hvps = res[len(wrt):]
    grad = s2sgrad.grad(spec.fn, wrt=tuple(wrt))
    plus, minus = grad(*_moved(spec, vs, 1e-5)), grad(*_moved(spec, vs, -1e-5))
    for i, h, gp, gm in zip(wrt, hvps, plus, minus):
        fd = (np.asarray(gp) - np.asarray(gm)) / 2e-5
        if not np.iscomplexobj(spec.args[i]):
            h = np.real(h)    # a real argument's (co)tangent is the real part (api._fix_grad)
        h = np.broadcast_to(h, np.shape(fd))   # a zero tangent may come back as a scalar
        assert _close(h, fd, rtol=1e-4, atol=1e-5), (spec.id, h, fd)


# ---------------------------------------------------------------- specs

W34 = normal(3, 4)
W4 = normal(4)
W32 = normal(3, 2)
ONES31 = np.ones((3, 1))
ONES234 = np.ones((2, 3, 4))

SPECS = [
    Spec("unbroadcast", lambda g: np.sum(rt.unbroadcast(g, W4) * W4), (normal(3, 4),)),
    Spec("unbroadcast", lambda g: np.sum(rt.unbroadcast(g ** 2, ONES31) ** 2),
         (normal(2, 3, 4),), id="unbroadcast-keepdims-axes"),
    Spec("broadcast_like", lambda t: np.sum(rt.broadcast_like(t, W34) * W34), (normal(4),)),
    Spec("broadcast_like", lambda t: np.sum(rt.broadcast_like(t ** 2, W34) * W34),
         (normal(3, 1),), id="broadcast_like-column"),
    Spec("fit_shape", lambda g: np.sum(rt.fit_shape(g ** 2, W34) * W34), (normal(2, 1, 4),)),
    Spec("fit_shape", lambda g: np.sum(rt.fit_shape(g ** 2, ONES31) ** 2), (normal(1, 4),),
         id="fit_shape-both-ways"),
    Spec("unreduce", lambda g: np.sum(rt.unreduce(g, W34, axis=0) * W34), (normal(4),)),
    Spec("unreduce", lambda g: np.sum(rt.unreduce(g ** 2, W34, axis=-1, keepdims=True) * W34),
         (normal(3, 1),), id="unreduce-keepdims"),
    Spec("unreduce", lambda g: np.sum(rt.unreduce(g, W34) * W34), (normal(),),
         id="unreduce-all"),
    Spec("unreduce", lambda g: np.sum(rt.unreduce(g, ONES234, axis=(0, 2)) ** 3),
         (normal(3),), id="unreduce-tuple"),
    Spec("scalar_cast", lambda x: np.sum(np.float64(x) ** 2), (normal(3),)),
    # (a float32 cast would make the float64 finite differences too coarse)
    Spec("scalar_cast", lambda x: np.float64(np.sum(x ** 2)) * 2.0, (normal(3),),
         id="scalar_cast-scalar"),
    Spec("scalar_cast", lambda x: np.sum(np.int64(x * 10) * x), (normal(3),),
         id="scalar_cast-int"),
    Spec("sum", lambda x: np.sum(x ** 2), (normal(3, 4),)),
    Spec("sum", lambda x: np.sum(np.sum(x ** 2, axis=1) ** 2), (normal(3, 4),), id="sum-axis"),
    Spec("mean", lambda x: np.mean(x ** 2), (normal(3, 4),)),
    Spec("mean", lambda x: np.sum(np.mean(x ** 2, axis=0, keepdims=True) ** 2), (normal(3, 4),),
         id="mean-axis-keepdims"),
    # helpers that the shape-op and reduction rules emit
    Spec("reverse_cumsum", lambda g: np.sum(rt.reverse_cumsum(g, W34, axis=1) ** 2 * W34),
         (normal(3, 4),)),
    Spec("reverse_cumsum", lambda g: np.sum(rt.reverse_cumsum(g ** 2, W34) * W34),
         (normal(12),), id="reverse_cumsum-flat"),
    Spec("unconcatenate", lambda g: _uncat_loss(g), (normal(5, 2),)),
    Spec("unconcatenate", lambda g: np.sum(rt.unconcatenate(g, W4, W32, axis=None)[1] ** 2),
         (normal(10),), id="unconcatenate-flat"),
    Spec("unhstack", lambda g: np.sum(rt.unhstack(g, W4, W4)[1] ** 2), (normal(8),)),
    Spec("unhstack", lambda g: np.sum(rt.unhstack(g, W32, W34)[0] ** 3), (normal(3, 6),),
         id="unhstack-2d"),
    Spec("unvstack", lambda g: np.sum(rt.unvstack(g, W4, W34)[0] ** 2 * W4), (normal(4, 4),)),
    Spec("cast_derivative", lambda t: np.sum(rt.cast_derivative(t, np.float32, np.float64) ** 2),
         (normal(3),)),
    Spec("cast_derivative", lambda t, d: np.sum(rt.cast_derivative(t, d.dtype, t.dtype) ** 2),
         (normal(3), np.arange(3)), id="cast_derivative-int", float32=False),
    # x op= v: an array's dtype and shape kept (the identity when they agree),
    # a scalar rebound (tests/test_aliasing.py checks the float32 casts)
    Spec("in_place_result", lambda a: np.sum(rt.in_place_result(a * 2.0, W4) ** 2 * W4),
         (normal(4),)),
    Spec("in_place_result", lambda a: np.sum(rt.in_place_result(a ** 2, 1.5) * W4),
         (normal(4),), id="in_place_result-scalar"),
    # np.copyto(y, v) / f(..., out=y): v itself once NumPy's cast and shape
    # checks pass (tests/test_trust5_writes.py checks the errors)
    Spec("same_kind_checked", lambda a: np.sum(rt.same_kind_checked(a * 2.0, W4) ** 2 * W4),
         (normal(4),)),
    Spec("out_checked", lambda a: np.sum(rt.out_checked(np.cumsum(a), W4) ** 2 * W4),
         (normal(4),), float32=False),       # (out= of another dtype is an error)
    Spec("out_checked", lambda a: np.sum(rt.out_checked(a ** 2, W34, ufunc_like=True) * W4),
         (normal(4),), id="out_checked-broadcast"),
]


def _uncat_loss(g):
    a, b = rt.unconcatenate(g, W32, W32[:2], axis=0)
    return np.sum(a ** 2 * W32) + np.sum(b ** 3)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_runtime_prim(spec):
    check_spec(spec)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_runtime_prim_hvp(spec):
    check_hvp(spec)


def test_helpers_match_numpy():
    g = normal(3, 4)
    np.testing.assert_allclose(rt.reverse_cumsum(g, g, axis=1),
                               np.flip(np.cumsum(np.flip(g, 1), 1), 1))
    np.testing.assert_allclose(rt.reverse_cumsum(g.ravel(), g), np.cumsum(g.ravel()[::-1])[::-1]
                               .reshape(3, 4))
    a, b = rt.unconcatenate(np.concatenate([W32, W34], axis=1), W32, W34, axis=1)
    np.testing.assert_array_equal(a, W32)
    np.testing.assert_array_equal(b, W34)
    a, b = rt.unhstack(np.hstack([np.float64(2.0), W4]), np.float64(2.0), W4)
    assert np.shape(a) == () and a == 2.0
    np.testing.assert_array_equal(b, W4)
    a, b = rt.unvstack(np.vstack([W4, W34]), W4, W34)
    np.testing.assert_array_equal(a, W4)
    np.testing.assert_array_equal(b, W34)
    assert rt.cast_derivative(g, np.int32, np.float32).dtype == np.float32
    assert not rt.cast_derivative(g, "int64", np.float64).any()
    assert rt.cast_derivative(g, "float32", np.float64).dtype == np.float64
