"""Creation functions and integer-valued functions used as data inside
differentiated functions, and the differentiable constructors (full, array,
asarray, copy, sort)."""
import numpy as np
import pytest

import s2sgrad
import s2sgrad.runtime as rt

from .spec import Spec, check_spec, normal, distinct
from .test_runtime_prims import check_hvp

W3 = normal(3)
W23 = normal(2, 3)
W34 = normal(3, 4)


def _uses_data(x):
    n = x.shape[0]
    z = np.zeros((n, 3)) + x[:, None]
    o = np.ones(3) * np.arange(3) + np.eye(3)[0]
    e = np.eye(n, 3, k=1) + np.identity(3)[:n] + np.full((n, 3), 0.5)
    i = np.argmax(x) + np.argmin(x, axis=0)
    r = np.round(x * 10.0) / 10.0 + np.around(x, 1) + x.round(2)
    return np.sum(z * o * e) * x[i % n] + np.sum(r * x) + np.sum(np.empty(0))


SPECS = [
    Spec("full", lambda v: np.sum(np.sin(np.full((2, 3), v)) * W23), (normal(),),
         float32=False, id="full-scalar"),
    Spec("full", lambda v: np.sum(np.sin(np.full((2, 3), v)) * W23), (normal(3),),
         id="full-broadcast"),
    Spec("full", lambda x: np.sum(np.full(x.shape, x[0]) * x), (normal(4),),
         id="full-computed-shape"),
    Spec("full_like", lambda x, v: np.sum(np.sin(np.full_like(x, v)) * x),
         (normal(2, 3), normal(3)), wrt=(0, 1)),
    Spec("array", lambda x: np.sum(np.sin(np.array([x[0] * x[1], x[2], 1.0])) * W3),
         (normal(3),), id="array-scalars"),
    Spec("array", lambda x, y: np.sum(np.sin(np.array([x, y * 2.0, x * y])) * W34[:, :3]),
         (normal(3), normal(3)), wrt=(0, 1), id="array-rows"),
    Spec("array", lambda x: np.sum(np.array((x, x), dtype=np.float64) ** 2), (normal(2),),
         id="array-tuple-dtype"),
    Spec("asarray", lambda x: np.sum(np.sin(np.asarray(x)) * W3), (normal(3),)),
    Spec("asarray", lambda x: np.sum(np.asarray(x, dtype=float) ** 2), (normal(3),),
         id="asarray-float"),
    Spec("asarray", lambda x: np.sum(np.asarray(x * 3.0, dtype=int) * x), (normal(3),),
         id="asarray-int"),
    Spec("copy", lambda x: np.sum(np.sin(np.copy(x)) * x.copy()), (normal(2, 3),)),
    Spec("sort", lambda x: np.sum(np.sort(x) * np.arange(5.0)), (distinct(5),)),
    Spec("sort", lambda x: np.sum(np.sin(np.sort(x, axis=0)) * W34), (distinct(3, 4),),
         id="sort-axis0"),
    Spec("sort", lambda x: np.sum(np.sin(np.sort(x, axis=None)) * np.arange(12.0)),
         (distinct(3, 4),), id="sort-flat"),
    Spec("unsort", lambda g, x: np.sum(np.sin(rt.unsort(g, x)) * W34), (normal(3, 4), distinct(3, 4))),
    Spec("unsort", lambda g, x: np.sum(np.sin(rt.unsort(g, x, axis=None)) * W34),
         (normal(12), distinct(3, 4)), id="unsort-flat"),
    Spec("sort_like", lambda t, x: np.sum(np.sin(rt.sort_like(t, x, axis=0)) * W34),
         (normal(3, 4), distinct(3, 4))),
    Spec(("zeros", "ones", "eye", "identity", "full", "argmax", "argmin", "round", "empty"),
         _uses_data, (distinct(2) / 7,), id="data-mix"),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_creation(spec):
    check_spec(spec)


@pytest.mark.parametrize("spec", [s for s in SPECS], ids=lambda s: s.id)
def test_creation_hvp(spec):
    """Forward-over-reverse: the rules' derivative code differentiated again."""
    check_hvp(spec)


# ---------------------------------------------------------------- exact values


def test_arange_as_weights():
    g = s2sgrad.grad(lambda x: np.sum(x * np.arange(3)))(np.ones(3))
    np.testing.assert_array_equal(g, [0.0, 1.0, 2.0])


def test_arange_start_stop_step():
    g = s2sgrad.grad(lambda x: np.sum(x * np.arange(1, 7, 2)))(np.ones(3))
    np.testing.assert_array_equal(g, [1.0, 3.0, 5.0])


def test_eye_mask():
    g = s2sgrad.grad(lambda x: np.sum(x * np.eye(3)))(normal(3, 3))
    np.testing.assert_array_equal(g, np.eye(3))


def test_zeros_with_computed_shape():
    x = normal(4)
    g = s2sgrad.grad(lambda x: np.sum((np.zeros((x.shape[0], 3)) + x[:, None]) ** 2))(x)
    np.testing.assert_allclose(g, 6.0 * x)


def test_ones_like_and_zeros_like():
    x = normal(3)
    g = s2sgrad.grad(lambda x: np.sum((np.ones_like(x) + np.zeros_like(x) + x) * x))(x)
    np.testing.assert_allclose(g, 1.0 + 2.0 * x)


def test_round_is_zero_derivative():
    x = np.array([0.26, 1.74])
    g = s2sgrad.grad(lambda x: np.sum(np.round(x, 1) + x))(x)
    np.testing.assert_array_equal(g, [1.0, 1.0])


def test_argmax_method_selects():
    x = np.array([[1.0, 9.0], [7.0, 3.0]])
    g = s2sgrad.grad(lambda x: np.sum(x[np.arange(2), x.argmax(axis=1)]))(x)
    np.testing.assert_array_equal(g, [[0.0, 1.0], [1.0, 0.0]])
    g = s2sgrad.grad(lambda x: x[x.argmin()] * 3.0)(np.array([2.0, -1.0, 5.0]))
    np.testing.assert_array_equal(g, [0.0, 3.0, 0.0])


def test_full_sums_fill_value():
    g = s2sgrad.grad(lambda v: np.sum(np.full((2, 3), v)))(1.5)
    assert g == 6.0


def test_array_of_elements():
    g = s2sgrad.grad(lambda x: np.sum(np.array([x[0], x[0] * x[1]]) * np.array([1.0, 2.0])))(
        np.array([3.0, 5.0]))
    np.testing.assert_array_equal(g, [11.0, 6.0])


def test_sort_sends_gradient_back():
    x = np.array([3.0, 1.0, 2.0])
    g = s2sgrad.grad(lambda x: np.sum(np.sort(x) * np.array([1.0, 10.0, 100.0])))(x)
    np.testing.assert_array_equal(g, [100.0, 1.0, 10.0])


def test_sort_ties_are_stable():
    g = s2sgrad.grad(lambda x: np.sum(np.sort(x) * np.array([1.0, 2.0, 3.0])))(
        np.array([1.0, 0.0, 1.0]))
    np.testing.assert_array_equal(g, [2.0, 1.0, 3.0])


def test_argsort_as_index():
    x = np.array([3.0, 1.0, 2.0])
    g = s2sgrad.grad(lambda x: np.sum(x[np.argsort(x)] * np.arange(3.0)))(x)
    np.testing.assert_array_equal(g, [2.0, 0.0, 1.0])


def test_array_of_an_array_is_a_copy():
    def f(x):
        return np.sum(np.array(x) * 2.0)
    np.testing.assert_array_equal(s2sgrad.grad(f)(normal(3)), [2.0, 2.0, 2.0])


def test_creation_prints_as_numpy():
    f = s2sgrad.grad(lambda x: np.sum(x * np.arange(3) + np.eye(3, 3, k=1)[0] * np.sort(x)))
    f(normal(3))
    assert "np.arange(3)" in f.source and "np.eye(3, M=3, k=1)" in f.source, f.source
    assert "unsort(" in f.source, f.source
