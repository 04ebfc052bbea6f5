"""np.empty_like, np.ascontiguousarray, np.asfortranarray, np.asanyarray:
specs, values against NumPy, and NumPy's sharing (a write through the result
reaches the operand exactly when NumPy returns the operand itself)."""
import numpy as np
import pytest

import s2sgrad

from .spec import Spec, check_spec, normal

W23 = normal(2, 3)
W3 = normal(3)


def _contig_T(x):
    return np.sum(np.ascontiguousarray(x.T) * W23.T) + np.sum(np.ascontiguousarray(x) ** 2)


def _fortran(x, y):
    # broadcasting against another operand, and x used twice
    return np.sum(np.asfortranarray(x) * y) + np.sum(np.asfortranarray(x.T * 2.0) ** 3)


def _scalar(a):
    # a Python scalar (0-d): the result has shape (1,)
    return np.sum(np.ascontiguousarray(a) * W3) + np.sum(np.asfortranarray(a * a))


def _anyarray(x, y):
    return np.sum(np.asanyarray(x) * np.asanyarray(y, dtype=np.float64) + np.asanyarray(x) ** 2)


def _empty_like(x):
    y = np.empty_like(x)
    for i in range(x.shape[0]):
        y[i] = np.sin(x[i]) * x[i]
    z = np.empty_like(x, dtype=np.float64)
    z[...] = y ** 2
    return np.sum(z + y * x)


SPECS = [
    Spec("ascontiguousarray", _contig_T, (normal(2, 3),), id="ascontiguousarray"),
    Spec(("asfortranarray", "ascontiguousarray"), _scalar, (0.7,), id="layout-python-scalar"),
    Spec("asfortranarray", _fortran, (normal(2, 3), normal(3)), wrt=(0, 1),
         id="asfortranarray-broadcast"),
    Spec("asanyarray", _anyarray, (normal(2, 3), normal(3)), wrt=(0, 1), id="asanyarray"),
    Spec(("empty_like", "setitem"), _empty_like, (normal(3, 2),), id="empty_like-buffer"),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_buffers(spec):
    check_spec(spec)


def _write_through_contiguous(x):
    y = x * 1.0
    z = np.ascontiguousarray(y)          # y itself: the write reaches y
    z[0] = 5.0 * x[1]
    return np.sum(y * x)


def _write_through_copy(x):
    y = x * 1.0
    z = np.ascontiguousarray(y.T)        # a copy: y unchanged
    z[0, 1] = 7.0 * x[1, 0]
    return np.sum(y * x) + np.sum(z * x.T)


def _write_fortran(x):
    y = x * 1.0
    z = np.asfortranarray(y)             # a C array: a copy
    z[0, 1] = 3.0 * x[0, 0]
    y[1, 1] = 2.0                        # not seen by z
    w = np.asfortranarray(y.T)           # y.T is Fortran-ordered: the same memory
    w[0, 1] = x[2, 2]                    # reaches y[1, 0]
    return np.sum(y * x) + np.sum(z * x)


def _write_anyarray(x):
    y = x * 1.0
    z = np.asanyarray(y)
    z[0] = 2.0
    u = np.asanyarray(y, dtype=np.float64)
    u[1] = 3.0 * x[1]
    return np.sum(y * x)


@pytest.mark.parametrize("fn", [_write_through_contiguous, _write_through_copy, _write_fortran,
                                _write_anyarray])
def test_writes_share_as_numpy(fn):
    x = normal(3, 3)
    v, _ = s2sgrad.value_and_grad(fn)(x)
    assert v == pytest.approx(fn(x.copy()), rel=1e-13)
    s2sgrad.check_grads(fn, (x,))
