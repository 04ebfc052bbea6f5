"""Specs of the primitives this stop added (merge of session 23): the
logistic and softmax links (perf-loops11), the strict copies of eigh/eig/svd
that rules use to recompute factors (linalg10: reached through a second
derivative of eigvalsh/eigvals/singular values/the matrix 2-norm),
scipy.linalg.eigh_tridiagonal, np.add.reduceat and its adjoint, the
complement mask of the full QR/SVD rules (ports10), logaddexp's repaired
gap, and the layout check of a loop carry (trust10).  Each is checked against central differences in float64, in float32,
and by the forward/reverse identity (test_jvp_identity reads SPECS)."""
import numpy as np
import pytest
import scipy.linalg

import s2sgrad
from s2sgrad import runtime
from s2sgrad.runtime_linalg import complement_mask
from tests.primitives.spec import Spec, check_spec
from tests.primitives.test_statistics import _wsum

_RNG = np.random.default_rng(2323)


def normal(*shape):
    return _RNG.standard_normal(shape)


Z = normal(4, 3)
A = normal(4, 4)
SYM = A + A.T + np.diag([0.0, 3.0, 6.0, 9.0])       # well-separated eigenvalues
NS = normal(4, 4) + np.diag([1.0, 4.0, 7.0, 10.0])  # real, distinct eigenvalues
M = normal(5, 3)
D = np.array([1.0, 3.0, 5.5, 8.0])
E = np.array([0.4, -0.3, 0.5])
X = normal(7, 3)
IDX = np.array([0, 2, 5, 1])
Y = normal(4, 3)


def _sigmoid(z):
    return _wsum(1 / (1 + np.exp(-z)))


def _sigmoid_ratio(z):
    e = np.exp(z)
    return _wsum(e / (1.0 + e))


def _softmax(z):
    e = np.exp(z)
    return _wsum(e / np.sum(e, axis=1, keepdims=True))


def _eigvalsh_second(a):
    return _wsum(s2sgrad.grad(lambda b: np.sum(np.linalg.eigvalsh(b) ** 3))(a))


def _eigvals_second(a):
    return _wsum(s2sgrad.grad(lambda b: np.sum(np.real(np.linalg.eigvals(b)) ** 3))(a))


def _singular_second(m):
    return _wsum(s2sgrad.grad(lambda b: np.sum(np.linalg.svd(b, compute_uv=False) ** 3))(m))


def _tridiagonal(d, e):
    w, v = scipy.linalg.eigh_tridiagonal(d, e)
    return _wsum(w) + _wsum(v ** 2)


def _tridiagonal_values(d, e):
    return _wsum(scipy.linalg.eigh_tridiagonal(d, e, eigvals_only=True) ** 2)


def _tridiagonal_second(d, e):
    return _wsum(s2sgrad.grad(
        lambda a, b: np.sum(scipy.linalg.eigh_tridiagonal(a, b, eigvals_only=True) ** 3))(d, e))


def _reduceat(x):
    return _wsum(np.add.reduceat(x, IDX, axis=0))


def _unreduceat(g):
    return _wsum(runtime.unreduceat(g, X, IDX, axis=0))


def _complement(f):
    return _wsum(complement_mask(f, np.ones(2), axis=-1))


def _logaddexp(x, y):
    return _wsum(np.logaddexp(x, y))


def _gap(x, y):
    return _wsum(np.tanh(runtime.logaddexp_gap(x, y)))


def _layout(v, w):
    return _wsum(runtime.layout_checked(v * 2.0, w, what="a loop carry"))


SPECS = [
    Spec("sigmoid_link", _sigmoid, (Z,)),
    Spec("sigmoid_link", _sigmoid_ratio, (Z,), id="sigmoid_link-ratio"),
    Spec("softmax_link", _softmax, (Z,)),
    Spec("eigh_inner", _eigvalsh_second, (SYM,), float32=False),
    Spec("eig_inner", _eigvals_second, (NS,), float32=False),
    Spec("svd_inner", _singular_second, (M,), float32=False),
    Spec("scipy_eigh_tridiagonal", _tridiagonal, (D, E), wrt=(0, 1), float32=False),
    Spec("scipy_eigh_tridiagonal_inner", _tridiagonal_second, (D, E), wrt=(0, 1),
         float32=False),
    Spec("scipy_eigh_tridiagonal", _tridiagonal_values, (D, E), wrt=(0, 1), float32=False,
         id="scipy_eigh_tridiagonal-values"),
    Spec("add_reduceat", _reduceat, (X,)),
    Spec("unreduceat", _unreduceat, (Y,)),
    Spec("complement_mask", _complement, (normal(4, 5),)),
    Spec("logaddexp_gap", _logaddexp, (Z, Y), wrt=(0, 1)),
    Spec("layout_checked", _layout, (Z, Z), wrt=(0, 1)),
    Spec("logaddexp_gap", _gap, (Z, normal(3)), wrt=(0, 1), id="logaddexp_gap-direct"),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_spec(spec):
    check_spec(spec)


def test_layout_checked_refuses_other_strides():
    # (trust11: other strides are copied into; only overlapping ones refused)
    assert runtime.layout_checked(Z, np.asfortranarray(Z), what="a loop carry").strides == \
        np.asfortranarray(Z).strides
    with pytest.raises(ValueError, match="another memory layout"):
        runtime.layout_checked(Z, np.lib.stride_tricks.as_strided(Z, strides=(8, 8)),
                               what="a loop carry")
    assert runtime.layout_checked(Z, Z.copy()) is Z
