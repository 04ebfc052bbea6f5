"""Indexing (``getitem``) and its adjoint (``index_add``): every kind of index,
with exact accumulated values where indices repeat."""
import numpy as np
import pytest

import s2sgrad

from .spec import Spec, check_spec, normal, distinct
from .test_runtime_prims import check_hvp

W = normal(4, 5)
IDX = np.array([2, 0, 2, 3])
LABELS = np.array([1, 0, 3])


def _second_repeated(x):
    return np.sum(np.sin(x[IDX]) * np.sum(x[1:3] ** 2))


def _second_slices(x):
    return np.sum(np.sin(x[1:, ::-2]) * x[1:, ..., 0, None])


def _second_mask(x):
    return np.sum(np.sin(x[x > 0]) ** 2)


def _second_pairs(x):
    return np.sum(np.exp(x[np.arange(3), LABELS])) * np.sum(x[[0, 0], [1, 1]] ** 2)


def _gi(fn, args, id, **kw):
    return Spec("getitem", fn, args, id=f"getitem-{id}", **kw)


SPECS = [
    # basic indices
    _gi(lambda x: np.sum(np.sin(x[1])), (normal(4, 5),), "int"),
    _gi(lambda x: np.sin(x[-1, 2]), (normal(4, 5),), "int-pair-negative"),
    _gi(lambda x: np.sum(np.sin(x[1:3])), (normal(5),), "slice"),
    _gi(lambda x: np.sum(np.sin(x[::2])), (normal(7),), "step"),
    _gi(lambda x: np.sum(np.sin(x[::-1]) * np.arange(7.0)), (normal(7),), "reverse"),
    _gi(lambda x: np.sum(np.sin(x[-4:-1:2])), (normal(7),), "negative-slice-step"),
    _gi(lambda x: np.sum(np.sin(x[1:, ::-2])), (normal(4, 5),), "2d-slices"),
    _gi(lambda x: np.sum(np.sin(x[..., 1])), (normal(2, 3, 4),), "ellipsis"),
    _gi(lambda x: np.sum(np.sin(x[0, ...])), (normal(2, 3, 4),), "ellipsis-trailing"),
    _gi(lambda x: np.sum(np.sin(x[None, :, 1]) * np.arange(4.0)), (normal(4, 5),), "none"),
    _gi(lambda x: np.sum(np.sin(x[:, np.newaxis] - x[np.newaxis, :])), (normal(4),),
        "newaxis-pairwise"),
    _gi(lambda x, i: np.sin(x[i]), (normal(5), 3), "computed-int", float32=False),
    _gi(lambda x, n: np.sum(np.sin(x[1:n])), (normal(6), 4), "computed-bound"),
    # advanced indices
    _gi(lambda x: np.sum(np.sin(x[[0, 0, 1]])), (normal(4),), "list-repeated"),
    _gi(lambda x: np.sum(np.sin(x[IDX]) * np.arange(4.0)), (normal(5),), "array-repeated"),
    _gi(lambda x: np.sum(np.sin(x[IDX, 1:3])), (normal(5, 4),), "array-and-slice"),
    _gi(lambda x: np.sum(np.sin(x[:, [4, 4, 0]])), (normal(3, 5),), "second-axis-repeated"),
    _gi(lambda x: np.sum(np.sin(x[[-1, -1, 0]])), (normal(4),), "negative-repeated"),
    _gi(lambda x: np.sum(np.sin(x[np.array([[0, 1], [1, 1]])])), (normal(3),),
        "2d-index-array"),
    _gi(lambda x: np.sum(np.sin(x[np.arange(3), LABELS])), (normal(3, 4),), "arange-labels"),
    _gi(lambda x, y: np.sum(np.log(x[np.arange(x.shape[0]), y])), (normal(3, 4) ** 2 + 1,
                                                                      LABELS),
        "cross-entropy"),
    _gi(lambda x: np.sum(np.sin(x[x > 0])), (normal(6),), "mask"),
    _gi(lambda x: np.sum(np.sin(x[x[:, 0] > 0])), (normal(5, 3),), "row-mask"),
    _gi(lambda x: np.sin(x[np.argmax(x)]), (distinct(5),), "argmax"),
    _gi(lambda x: np.sum(x[np.argsort(x)] * np.arange(5.0)), (distinct(5),), "argsort"),
    # the adjoint, index_add, differentiated: specs of gradients (reverse over reverse)
    Spec("index_add", s2sgrad.grad(_second_repeated), (normal(5),), id="index_add-repeated"),
    Spec("index_add", s2sgrad.grad(_second_slices), (normal(4, 5),), id="index_add-slices"),
    Spec("index_add", s2sgrad.grad(_second_mask), (normal(6),), id="index_add-mask"),
    Spec("index_add", s2sgrad.grad(_second_pairs), (normal(3, 4),), id="index_add-pairs"),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_indexing(spec):
    check_spec(spec)


@pytest.mark.parametrize("spec", [s for s in SPECS if not isinstance(s.fn, s2sgrad.api.GradFunction)], ids=lambda s: s.id)
def test_indexing_hvp(spec):
    """Forward-over-reverse: the rules' derivative code differentiated again."""
    check_hvp(spec)


# ---------------------------------------------------------------- exact values


def grad(f, x):
    return s2sgrad.grad(f)(x)


def test_repeated_list_index_accumulates():
    g = grad(lambda x: np.sum(x[[0, 0, 1]]), np.arange(5.0))
    np.testing.assert_array_equal(g, [2.0, 1.0, 0.0, 0.0, 0.0])


def test_repeated_array_index_accumulates_weighted():
    g = grad(lambda x: np.sum(x[np.array([3, 1, 3, 3])] * np.array([1.0, 2.0, 3.0, 4.0])),
             np.zeros(5))
    np.testing.assert_array_equal(g, [0.0, 2.0, 0.0, 8.0, 0.0])


def test_repeated_negative_index_accumulates():
    g = grad(lambda x: np.sum(x[[-1, 4, 0]]), np.zeros(5))
    np.testing.assert_array_equal(g, [1.0, 0.0, 0.0, 0.0, 2.0])


def test_repeated_index_pairs_accumulate():
    g = grad(lambda x: np.sum(x[[0, 0, 1], [2, 2, 2]]), np.zeros((2, 3)))
    np.testing.assert_array_equal(g, [[0.0, 0.0, 2.0], [0.0, 0.0, 1.0]])


def test_repeated_rows_with_slice():
    g = grad(lambda x: np.sum(x[[1, 1], :2]), np.zeros((2, 3)))
    np.testing.assert_array_equal(g, [[0.0, 0.0, 0.0], [2.0, 2.0, 0.0]])


def test_cross_entropy_picks_labels():
    def nll(logits, labels):
        z = logits - np.log(np.sum(np.exp(logits), axis=1, keepdims=True))
        return -np.sum(z[np.arange(logits.shape[0]), labels])

    logits = normal(3, 4)
    g = s2sgrad.grad(nll)(logits, LABELS)
    p = np.exp(logits) / np.sum(np.exp(logits), axis=1, keepdims=True)
    onehot = np.eye(4)[LABELS]
    np.testing.assert_allclose(g, p - onehot, rtol=1e-12, atol=1e-15)


def test_mask_gradient():
    x = np.array([-1.0, 2.0, -3.0, 4.0])
    g = grad(lambda x: np.sum(x[x > 0] ** 2), x)
    np.testing.assert_array_equal(g, [0.0, 4.0, 0.0, 8.0])


def test_argmax_index_from_data():
    x = np.array([1.0, 5.0, 3.0])
    g = grad(lambda x: x[np.argmax(x)] * 2.0, x)
    np.testing.assert_array_equal(g, [0.0, 2.0, 0.0])


def test_slices_steps_and_reverse():
    g = grad(lambda x: np.sum(x[::-2] * np.array([1.0, 2.0, 3.0])), np.zeros(6))
    np.testing.assert_array_equal(g, [0.0, 3.0, 0.0, 2.0, 0.0, 1.0])
    g = grad(lambda x: np.sum(x[-3:-1]), np.zeros(5))
    np.testing.assert_array_equal(g, [0.0, 0.0, 1.0, 1.0, 0.0])


def test_ellipsis_and_newaxis():
    g = grad(lambda x: np.sum(x[..., 0, None] * np.array([1.0, 2.0])), np.zeros((2, 3)))
    np.testing.assert_array_equal(g, [[3.0, 0.0, 0.0], [3.0, 0.0, 0.0]])


def test_same_element_read_by_int_and_slice():
    g = grad(lambda x: x[1] * x[1] + np.sum(x[:2]), np.array([1.0, 3.0, 5.0]))
    np.testing.assert_array_equal(g, [1.0, 7.0, 0.0])


def test_index_add_source_uses_the_same_index():
    f = s2sgrad.grad(lambda x: np.sum(x[1:, ::2]))
    f(np.zeros((3, 4)))
    assert "index_add(" in f.source and "np.s_[1:, ::2]" in f.source, f.source
