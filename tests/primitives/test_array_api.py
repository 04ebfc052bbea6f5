"""Specs for NumPy 2's array-API spellings (s2sgrad/primitives/array_api.py),
composites of their classic counterparts."""
import numpy as np
import pytest

import s2sgrad
from s2sgrad import runtime as rt

from .spec import Spec, check_spec, distinct, normal

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


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_array_api(spec):
    check_spec(spec)


def test_refused_forms_name_the_problem():
    with pytest.raises(s2sgrad.S2SGradError, match="vector_norm"):
        s2sgrad.grad(lambda x: np.linalg.vector_norm(x, axis=(0, 1)))(normal(2, 3))
    with pytest.raises(s2sgrad.S2SGradError, match="axes="):
        s2sgrad.grad(lambda x: np.sum(np.vecdot(x, x, axes=[0, 0, 0])))(normal(3))
