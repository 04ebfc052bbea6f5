"""The data functions (any, all, searchsorted, digitize, nonzero and
one-argument where, flatnonzero, argwhere, unique, isclose, allclose,
array_equal, array_equiv, count_nonzero, argpartition, lexsort,
nanargmax/nanargmin, isin): derivative zero, never refused, usable as
indices; and the differentiable parts of bincount and histogram."""
import numpy as np
import pytest

import s2sgrad
from s2sgrad.primitives.core import REGISTRY

from s2sgrad import runtime as rt

from .spec import Spec, check_spec, distinct, normal, pos
from .test_runtime_prims import check_hvp

W4 = normal(4)
W6 = normal(6)
IDX = np.array([0, 2, 2, 5, 1, 2])
EDGES = np.array([-2.0, -0.5, 0.0, 0.7, 2.5])


REPEATS = np.array([[0.5, -1.25, 0.5], [2.0, -1.25, 0.75]])     # 4 unique values


def _wsum(y, seed=0):
    w = np.cos(np.arange(np.size(y)) * 0.7 + seed).reshape(np.shape(y))
    return np.sum(w * y)


SPECS = [
    Spec("bincount", lambda w: _wsum(np.bincount(IDX, weights=w) ** 2), (normal(6),)),
    Spec("bincount", lambda w: _wsum(np.bincount(IDX, w, minlength=8) ** 2), (normal(6),),
         id="bincount-minlength"),
    Spec("histogram", lambda w: _wsum(np.histogram(W6, bins=EDGES, weights=w)[0] ** 2),
         (pos(6),)),
    Spec("histogram", lambda w: _wsum(np.histogram(W6, 3, range=(-1.0, 1.0), weights=w,
                                                   density=True)[0] ** 2),
         (pos(6),), id="histogram-density-weights"),
    Spec("histogram", lambda a: _wsum(np.histogram(a, bins=4)[1] ** 2), (distinct(6),),
         id="histogram-data-edges"),
    Spec("histogram", lambda a, w: _wsum(np.histogram(a, 3, weights=w, density=True)[0]),
         (distinct(6), pos(6)), wrt=(0, 1), id="histogram-data-edges-density"),
    Spec("histogram", lambda a: _wsum(np.histogram(a, bins="auto", density=True)[0]),
         (distinct(6),), id="histogram-rule-name"),
    # np.unique's values (the JAX port found them given derivative 0)
    # (distinct values: a repeat splits under any perturbation; tested exactly below)
    Spec("unique", lambda x: _wsum(np.unique(x) ** 2), (distinct(2, 3),)),
    Spec("unique", lambda x: _wsum(np.unique(x, return_counts=True)[0] ** 3) +
         np.sum(x * np.unique(x, return_inverse=True)[1]), (distinct(2, 3),), id="unique-tuple"),
    Spec("unique_tangent", lambda t: _wsum(rt.unique_tangent(t, REPEATS) ** 2), (normal(2, 3),)),
    Spec("unique_adjoint", lambda g: _wsum(rt.unique_adjoint(g, REPEATS) ** 2), (normal(4),)),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_data_spec(spec):
    check_spec(spec)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_data_spec_hvp(spec):
    check_hvp(spec)


# ---------------------------------------------------------------- data: zero, never refused


def _uses_of_data(x):
    """Every data function applied to a differentiated value, its results used."""
    m = x > 0
    s = np.sort(x)
    total = np.sum(x * np.any(m)) + np.sum(x * np.all(m, axis=0)) + np.sum(x * m.any())
    total = total + np.sum(x * np.searchsorted(s[0], x[0])[None, :])
    total = total + np.sum(x[0] * np.digitize(x[0], [-0.5, 0.5]))
    total = total + np.sum(x * np.isclose(x, 0.1)) + np.allclose(x, x) * np.sum(x)
    total = total + np.array_equal(x, x) * x[0, 0] + np.array_equiv(x, x[0]) * x[0, 1]
    total = total + np.count_nonzero(m) * x[1, 1] + np.sum(np.count_nonzero(m, axis=1) * x[:, 0])
    total = total + np.sum(x[np.nonzero(m)]) + np.sum(x[np.where(m)] ** 2)
    rows, cols = np.nonzero(m)
    total = total + np.sum(x[rows, cols] * 3.0) + np.sum(x.ravel()[np.flatnonzero(m)])
    total = total + np.sum(x[np.argwhere(m)[:, 0], np.argwhere(m)[:, 1]])
    u = np.unique(np.round(x))
    vals, inv, counts = np.unique(np.round(x[0]), return_inverse=True, return_counts=True)
    total = total + np.sum(u) * x[0, 0] + np.sum(x[0] * inv) + np.sum(counts) * x[1, 0]
    total = total + np.sum(x[0][np.argpartition(x[0], 1)[:2]])
    total = total + np.sum(x[0][np.lexsort((x[1], x[0]))] * W4)
    total = total + np.sum(x[0][np.lexsort(x[:2])] * W4)
    total = total + x[0, np.nanargmax(x[0])] + x[1, np.nanargmin(x[1])]
    total = total + np.sum(x * np.isin(np.round(x), [0.0, 1.0]))
    total = total + np.sum(x * x.nonzero()[0].size) + x[0, x[0].searchsorted(0.0) % 4]
    total = total + np.sum(x[0][x[0].argpartition(2)] * W4)
    return total


def _index_constructors(x):
    n = x.shape[0]
    total = np.sum(x[np.triu_indices(n, 1)] ** 2) + np.sum(x[np.tril_indices(n)])
    i, j = np.triu_indices_from(x, k=1)
    total = total + np.sum(x[i, j] * x[j, i]) + np.sum(x[np.tril_indices_from(x, -1)])
    total = total + np.sum(x[np.diag_indices(n)] * 3.0) + np.sum(x[np.diag_indices_from(x)])
    total = total + np.sum(x * np.tri(n)) + np.sum(x * np.indices((n, n))[0])
    r, c = np.unravel_index(np.argmax(x), x.shape)
    total = total + x[r, c] + x.ravel()[np.ravel_multi_index((np.array([1, 2]),
                                                               np.array([0, 1])), x.shape)].sum()
    return total


def test_index_constructors_are_data_and_index():
    x = distinct(3, 3)
    s2sgrad.check_grads(_index_constructors, (x,), modes=("rev", "fwd"))
    assert s2sgrad.value_and_grad(_index_constructors)(x)[0] == _index_constructors(x)


def test_data_functions_cut_the_derivative_and_index():
    x = distinct(3, 4) - 5.0
    s2sgrad.check_grads(_uses_of_data, (x,), modes=("rev", "fwd"))
    out = s2sgrad.value_and_grad(_uses_of_data)(x)[0]
    assert out == _uses_of_data(x)


def test_data_functions_are_nondiff_entries():
    for name in ("any", "all", "searchsorted", "digitize", "nonzero", "flatnonzero", "argwhere",
                 "isclose", "allclose", "array_equal", "array_equiv", "count_nonzero",
                 "argpartition", "lexsort", "nanargmax", "nanargmin", "isin", "tri",
                 "tril_indices", "triu_indices", "diag_indices", "indices", "unravel_index"):
        assert REGISTRY[name].nondiff, name


def test_unique_values_go_to_the_first_occurrence_and_arange_refuses():
    x = np.array([3.0, 1.0, 3.0, 2.0])
    np.testing.assert_array_equal(s2sgrad.grad(lambda x: np.sum(np.unique(x) * [1., 10., 100.]))(x),
                                  [100.0, 1.0, 0.0, 10.0])
    # np.arange(x, ...) moves with a float start: refused, never derivative 0
    with pytest.raises(s2sgrad.NonDifferentiableError, match="np.arange|arange"):
        s2sgrad.grad(lambda a: np.sum(np.arange(a, 5.0)))(1.25)
    with pytest.raises(s2sgrad.NonDifferentiableError, match="argument 2 of np.gradient"):
        s2sgrad.grad(lambda h: np.sum(np.gradient(W6, h) ** 2))(0.5)
    # data uses stay free
    g = s2sgrad.grad(lambda x: np.sum(x * np.arange(len(x))))(x)
    np.testing.assert_array_equal(g, [0.0, 1.0, 2.0, 3.0])


def test_nonzero_of_a_gradient_value():
    # results of a derivative used as data inside another derivative
    def f(x):
        g = s2sgrad.stop_gradient(x) ** 2
        idx = np.flatnonzero(g > 1.0)
        return np.sum(x[idx] ** 2) + np.sum(np.where(x > 0, x, 0.0))
    x = np.array([-2.0, 0.5, 1.5, -0.2])
    np.testing.assert_allclose(s2sgrad.grad(f)(x), [-4.0, 1.0, 4.0, 0.0])


def test_bincount_weights_cotangent_is_a_gather():
    g = s2sgrad.grad(lambda w: np.sum(np.bincount(IDX, w) * np.arange(6.0)))(np.ones(6))
    np.testing.assert_array_equal(g, IDX.astype(float))


def test_histogram_exact():
    a = np.array([0.0, 1.0, 1.5, 4.0])
    # weighted counts with explicit edges: each weight's cotangent is its bin's
    g = s2sgrad.grad(lambda w: np.sum(np.histogram(a, bins=[0.0, 1.0, 2.0, 3.0], weights=w)[0]
                                      * np.array([1.0, 10.0, 100.0])))(np.ones(4))
    np.testing.assert_array_equal(g, [1.0, 10.0, 10.0, 0.0])
    # edges from the data: (1 - t) min + t max
    g = s2sgrad.grad(lambda a: np.sum(np.histogram(a, bins=2)[1]))(a)
    np.testing.assert_allclose(g, [1.5, 0.0, 0.0, 1.5])
    # counts alone are piecewise constant
    g = s2sgrad.grad(lambda a: np.sum(np.histogram(a, bins=2)[0] * 1.0))(a)
    np.testing.assert_array_equal(g, np.zeros(4))


def test_histogram_with_edges_known_only_at_run_time():
    a = np.array([0.0, 1.0, 1.5, 4.0])

    def f(a, bins):
        return np.sum(np.histogram(a, bins=bins)[1])
    g = s2sgrad.grad(f)
    np.testing.assert_allclose(g(a, np.int64(2)), [1.5, 0.0, 0.0, 1.5])
    np.testing.assert_array_equal(g(a, np.array([0.0, 2.0, 5.0])), np.zeros(4))
