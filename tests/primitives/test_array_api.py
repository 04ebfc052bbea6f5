"""Specs for NumPy 2's array-API spellings (s2sgrad/primitives/array_api.py),
composites of their classic counterparts."""
import numpy as np
import pytest

import s2sgrad
from s2sgrad import runtime as rt

from s2sgrad.primitives.core import REGISTRY

from .spec import Spec, check_spec, distinct, normal, pos
from .test_runtime_prims import check_hvp

W4 = normal(4)
W3 = normal(3)
X35 = distinct(3, 5)


def _wsum(y, seed=0):
    w = np.cos(np.arange(np.size(y)) * 0.7 + seed).reshape(np.shape(y))
    return np.sum(w * y)


SPECS = [
    Spec("la_matmul", lambda a, b: _wsum(np.linalg.matmul(a, b) ** 2),
         (normal(2, 3, 4), normal(4, 2)), wrt=(0, 1)),
    Spec("la_tensordot", lambda a, b: _wsum(np.linalg.tensordot(a, b, axes=1) ** 2),
         (normal(3, 4), normal(4, 2)), wrt=(0, 1)),
    Spec("la_outer", lambda a, b: _wsum(np.linalg.outer(a, b) ** 2), (normal(3), normal(4)),
         wrt=(0, 1)),
    Spec("la_trace", lambda x: _wsum(np.linalg.trace(x, offset=1) ** 2), (normal(2, 3, 4),)),
    Spec("la_diagonal", lambda x: _wsum(np.linalg.diagonal(x, offset=-1) ** 2),
         (normal(2, 4, 3),)),
    Spec("la_cross", lambda a, b: _wsum(np.linalg.cross(a, b) ** 2), (normal(2, 3), normal(3)),
         wrt=(0, 1)),
    Spec("la_svdvals", lambda x: _wsum(np.linalg.svdvals(x) ** 2), (normal(2, 4, 3),)),
    Spec("la_cond", lambda x: _wsum(np.linalg.cond(x)) + np.linalg.cond(x[0], -2) +
         np.linalg.cond(x[1], "fro") + np.linalg.cond(x[0], np.inf), (normal(2, 3, 3) + 2 * np.eye(3),)),
    Spec("la_vecdot", lambda a, b: _wsum(np.linalg.vecdot(a, b, axis=0) ** 2),
         (normal(3, 4), normal(3, 1)), wrt=(0, 1)),
    Spec("vecdot", lambda a, b: _wsum(np.vecdot(a, b) ** 2), (normal(2, 4), W4), wrt=(0, 1)),
    Spec("vector_norm", lambda x: np.linalg.vector_norm(x) + _wsum(
        np.linalg.vector_norm(x, axis=-1, keepdims=True, ord=3)), (normal(2, 3),)),
    # several axes (torch's vector_norm samples: dim=(-1, 0), keepdim), p-norms nested
    Spec("vector_norm", lambda x: _wsum(np.linalg.vector_norm(x, axis=(-1, 0), ord=3)) +
         _wsum(np.linalg.vector_norm(x, axis=(0, 2), keepdims=True, ord=-2.1)) +
         np.linalg.vector_norm(x, axis=(0, 1, 2), ord=np.inf) +
         _wsum(np.linalg.vector_norm(x, axis=(1, 0)) ** 2), (normal(2, 3, 4),), id="axes"),
    Spec("matrix_norm", lambda x: _wsum(np.linalg.matrix_norm(x) ** 2) +
         _wsum(np.linalg.matrix_norm(x, ord="nuc", keepdims=True)), (normal(2, 3, 4),)),
    Spec("cumulative_sum", lambda x: _wsum(np.cumulative_sum(x, axis=1, include_initial=True)
                                           ** 2), (normal(2, 3),)),
    Spec("cumulative_prod", lambda x: _wsum(np.cumulative_prod(x, axis=0) ** 2) +
         _wsum(np.cumulative_prod(x[0], include_initial=True)), (distinct(2, 3) / 4,)),
    Spec("diagflat", lambda v: _wsum(np.diagflat(v, 1) ** 2), (normal(2, 2),)),
    Spec("vander", lambda x: _wsum(np.vander(x) ** 2) + _wsum(np.vander(x, 2, increasing=True)),
         (normal(3),), float32=False),
    Spec("polyval", lambda p, x: _wsum(np.polyval(p, x) ** 2), (normal(4), normal(2, 3)),
         wrt=(0, 1)),
    # ufunc methods
    Spec("add_reduce", lambda x: _wsum(np.add.reduce(x) ** 2) + np.add.reduce(x, axis=None),
         (normal(2, 3),)),
    Spec("multiply_reduce", lambda x: _wsum(np.multiply.reduce(x, axis=1, keepdims=True)) +
         np.multiply.reduce(x[0], initial=2.0), (normal(2, 3),)),
    Spec("maximum_reduce", lambda x: _wsum(np.maximum.reduce(x, axis=-1) ** 2), (distinct(2, 3),)),
    Spec("minimum_reduce", lambda x: _wsum(np.minimum.reduce(x) ** 2), (distinct(2, 3),)),
    Spec("add_accumulate", lambda x: _wsum(np.add.accumulate(x, axis=1) ** 2), (normal(2, 3),)),
    Spec("multiply_accumulate", lambda x: _wsum(np.multiply.accumulate(x) ** 2), (normal(2, 3),)),
    Spec("maximum_accumulate", lambda x: _wsum(np.maximum.accumulate(x, axis=1) ** 2),
         (distinct(3, 5) * np.array([1.0, -1.0, 1.0])[:, None],)),
    Spec("minimum_accumulate", lambda x: _wsum(np.minimum.accumulate(x) ** 3), (distinct(4, 2),)),
    Spec("accumulate_extreme_tangent",
         lambda t: _wsum(rt.accumulate_extreme_tangent(t, X35, axis=1) ** 2), (normal(3, 5),)),
    Spec("accumulate_extreme_adjoint",
         lambda g: _wsum(rt.accumulate_extreme_adjoint(g, X35, axis=0, minimum=True) ** 2),
         (normal(3, 5),)),
]


def test_running_extreme_ties_keep_the_first():
    x = np.array([1.0, 3.0, 2.0, 3.0, 5.0])
    g = s2sgrad.grad(lambda x: np.sum(np.maximum.accumulate(x) * np.arange(1.0, 6.0)))(x)
    np.testing.assert_array_equal(g, [1.0, 9.0, 0.0, 0.0, 5.0])


@pytest.mark.parametrize("ord", [None, 0, 0.9, 1, -2.1, np.inf, -np.inf, 3])
@pytest.mark.parametrize("axis,keepdims", [((0, 2), False), ((-1, 0), True), ((1,), False)])
def test_vector_norm_over_axes_matches_numpy(ord, axis, keepdims):
    x = normal(2, 3, 4) + 0.1
    o = 2 if ord is None else ord
    kw = {"axis": axis, "keepdims": keepdims, "ord": o}
    out, pb = s2sgrad.vjp(lambda x: np.linalg.vector_norm(x, axis=axis, keepdims=keepdims,
                                                          ord=o))(x)
    ref = np.linalg.vector_norm(x, **kw)
    assert out.shape == ref.shape
    np.testing.assert_allclose(out, ref, rtol=1e-12)
    u = normal(*ref.shape)
    v = normal(2, 3, 4)
    h = 1e-6
    fd = np.sum(u * (np.linalg.vector_norm(x + h * v, **kw) -
                     np.linalg.vector_norm(x - h * v, **kw))) / (2 * h)
    np.testing.assert_allclose(np.sum(pb(u) * v), fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_array_api(spec):
    check_spec(spec)


def test_refused_forms_name_the_problem():
    with pytest.raises(s2sgrad.S2SGradError, match="vector_norm"):
        s2sgrad.grad(lambda x: np.linalg.vector_norm(x, keepdims=True))(normal(2, 3))
    with pytest.raises(s2sgrad.S2SGradError, match="axes="):
        s2sgrad.grad(lambda x: np.sum(np.vecdot(x, x, axes=[0, 0, 0])))(normal(3))


# ---------------------------------------------------------------- ufunc.outer, more reduce/accumulate

A23 = pos(2, 3)
W114 = normal(1, 1, 4)
B4 = pos(4)
_OUTER = sorted(n[:-len("_outer")] for n, p in REGISTRY.items()
                if n.endswith("_outer") and n != "la_outer" and p.differentiable)


def _outer_spec(name):
    uf = getattr(np, name)
    if name == "ldexp":                 # (an integer exponent)
        return Spec(f"{name}_outer", lambda a: _wsum(np.ldexp.outer(a, np.array([1, -2, 3]))),
                    (A23,))
    return Spec(f"{name}_outer", lambda a, b: _wsum(uf.outer(a, b) ** 2), (A23, B4),
                wrt=(0, 1))


OUTER_SPECS = [_outer_spec(n) for n in _OUTER] + [
    Spec("multiply_outer", lambda a: _wsum(np.multiply.outer(a, 2.0) + np.add.outer(3.0, a)),
         (normal(3),), id="outer-scalars"),
    Spec("subtract_outer", lambda a: _wsum(np.subtract.outer(a, a) ** 2), (normal(4),),
         id="outer-same-operand"),
]

SPECS += OUTER_SPECS + [
    Spec("logaddexp_reduce", lambda x: _wsum(np.logaddexp.reduce(x) ** 2), (normal(3, 4),)),
    Spec("logaddexp_reduce", lambda x: _wsum(np.logaddexp.reduce(x, axis=1, keepdims=True)),
         (normal(3, 4) * 30,), id="logaddexp_reduce-axis-large"),
    Spec("logaddexp_reduce", lambda x: np.logaddexp.reduce(x, axis=None), (normal(2, 3),),
         id="logaddexp_reduce-all"),
    Spec("logaddexp2_reduce", lambda x: _wsum(np.logaddexp2.reduce(x, axis=-1)), (normal(3, 4),)),
    Spec("subtract_reduce", lambda x: _wsum(np.subtract.reduce(x, axis=1) ** 2), (normal(3, 4),)),
    Spec("subtract_reduce", lambda x: np.subtract.reduce(x) ** 2, (normal(5),),
         id="subtract_reduce-1d"),
    Spec("divide_reduce", lambda x: _wsum(np.divide.reduce(x, keepdims=True)), (pos(3, 2),)),
    Spec("subtract_accumulate", lambda x: _wsum(np.subtract.accumulate(x, axis=1) ** 2),
         (normal(2, 4),)),
    Spec("divide_accumulate", lambda x: _wsum(np.divide.accumulate(x)), (pos(4, 2),)),
    Spec("outer_lift", lambda a: _wsum(rt.outer_lift(a, B4) * W114 ** 2),
         (normal(2, 3),)),
]


UFUNC_SPECS = OUTER_SPECS + SPECS[-10:]


@pytest.mark.parametrize("spec", UFUNC_SPECS, ids=lambda s: s.id)
def test_ufunc_methods(spec):
    check_spec(spec)


@pytest.mark.parametrize("spec", UFUNC_SPECS, ids=lambda s: s.id)
def test_ufunc_methods_hvp(spec):
    check_hvp(spec)


VALUE_CASES = [
    lambda a: np.multiply.outer(a, B4),
    lambda a: np.power.outer(a, B4),
    lambda a: np.arctan2.outer(a, B4),
    lambda a: np.greater.outer(a, B4),
    lambda a: np.logaddexp.reduce(a, axis=1),
    lambda a: np.logaddexp.reduce(a * 500),
    lambda a: np.logaddexp.reduce(np.full(3, -np.inf) + a[0, 0]),
    lambda a: np.subtract.reduce(a, axis=1),
    lambda a: np.divide.reduce(a),
    lambda a: np.subtract.accumulate(a, axis=1),
    lambda a: np.divide.accumulate(a),
    lambda a: np.logical_or.reduce(a > 1.0),
    lambda a: np.logical_and.reduce(a > 1.0, 1),
]


@pytest.mark.parametrize("f", VALUE_CASES, ids=range(len(VALUE_CASES)))
def test_ufunc_methods_values_match_numpy(f):
    value, _ = s2sgrad.vjp(f)(A23)
    expected = f(A23)
    np.testing.assert_allclose(value, expected, rtol=1e-14, atol=0)
    assert np.asarray(value).dtype == expected.dtype and np.shape(value) == expected.shape


def test_ufunc_methods_without_a_rule_are_refused_by_name():
    with pytest.raises(s2sgrad.S2SGradError, match=r"numpy\.logaddexp2\.accumulate"):
        s2sgrad.grad(lambda x: np.sum(np.logaddexp2.accumulate(x)))(normal(3))
    with pytest.raises(s2sgrad.S2SGradError, match="one axis"):
        s2sgrad.grad(lambda x: np.subtract.reduce(x, axis=None))(normal(2, 3))


# ---------------------------------------------------------------- ediff1d, logspace, geomspace, resize, polyfit

XFIT = np.arange(6.0) + normal(6) * 0.1
SMALL_COMPOSITE_SPECS = [
    Spec("ediff1d", lambda x: _wsum(np.ediff1d(x, to_begin=x[0] * 2, to_end=[1.0, 2.0]) ** 2),
         (normal(2, 3),)),
    Spec("ediff1d", lambda x: _wsum(np.ediff1d(x) ** 3), (normal(5),), id="ediff1d-plain"),
    Spec("logspace", lambda a, b: _wsum(np.logspace(a, b, 4, base=2.0)), (0.3, 1.2),
         wrt=(0, 1)),
    Spec("logspace", lambda a: _wsum(np.logspace(a, a * 2, 5, endpoint=False)), (normal(2),),
         id="logspace-arrays"),
    Spec("geomspace", lambda a, b: _wsum(np.geomspace(a, b, 5)), (0.3, 4.2), wrt=(0, 1)),
    Spec("geomspace", lambda a, b: _wsum(np.geomspace(a, b, 4, endpoint=False)), (-0.3, -4.2),
         wrt=(0, 1), id="geomspace-negative"),
    Spec("resize", lambda x: _wsum(np.resize(x, (2, 5)) ** 2), (normal(3),)),
    Spec("polyfit", lambda x, y: _wsum(np.polyfit(x, y, 2)), (XFIT, normal(6)), wrt=(0, 1)),
    Spec("polyfit", lambda y: _wsum(np.polyfit(np.arange(5.0), y, 1) ** 2), (normal(5, 3),),
         id="polyfit-columns"),
]
SPECS += SMALL_COMPOSITE_SPECS


@pytest.mark.parametrize("spec", SMALL_COMPOSITE_SPECS, ids=lambda s: s.id)
def test_small_composites(spec):
    check_spec(spec)
    check_hvp(spec)


SMALL_VALUE_CASES = [
    lambda x: np.ediff1d(x, to_begin=-1.0),
    lambda x: np.logspace(x[0], x[1], 7),
    lambda x: np.geomspace(x[0] + 2.0, x[1] + 5.0, 6),
    lambda x: np.resize(x, 7),
    lambda x: np.polyfit(XFIT, x[:6], 3),
]


@pytest.mark.parametrize("f", SMALL_VALUE_CASES, ids=range(len(SMALL_VALUE_CASES)))
def test_small_composite_values_match_numpy(f):
    x = normal(8)
    value, _ = s2sgrad.vjp(f)(x)
    np.testing.assert_allclose(value, f(x), rtol=1e-12, atol=1e-13)
    assert np.shape(value) == np.shape(f(x))
