"""scipy.linalg.lu / lu_factor of rectangular (m x n) matrices: A = P L U with
L m x k unit lower, U k x n upper (k = min(m, n)); the rules complete L and U
to square matrices (see primitives/scipy_linalg.py).  Values vs SciPy,
gradients vs central differences (SPECS: float64, float32, jvp/vjp identity),
second derivatives (forward over reverse)."""
import numpy as np
import pytest
import scipy.linalg

import s2sgrad

from .spec import Spec, check_spec, normal
from .test_runtime_prims import check_hvp

SHAPES = [(4, 3), (3, 4), (5, 2), (2, 5), (3, 3)]
W = {s: normal(*s) for s in SHAPES}


def _lu_all(a):
    p, l, u = scipy.linalg.lu(a)
    return np.sum(l ** 2 * 1.3) + np.sum(np.sin(u)) + np.sum(p * 0.5)


def _lu_permuted(a):
    pl, u = scipy.linalg.lu(a, permute_l=True)
    return np.sum(pl ** 3) + np.sum(np.cos(u) * 2.0)


def _lu_factor(a):
    lu, piv = scipy.linalg.lu_factor(a)
    return np.sum(np.sin(lu) * lu)


SPECS = [Spec("lu_factor", fn, (W[s],), id=f"lu-{fn.__name__[4:]}-{s[0]}x{s[1]}")
         for s in SHAPES for fn in (_lu_all, _lu_permuted, _lu_factor)]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_spec(spec):
    """float64 central differences (both modes) and float32 gradients."""
    check_spec(spec)


def _lu(a):
    return scipy.linalg.lu(a)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_values_are_scipys(shape):
    a = W[shape]
    out, pullback = s2sgrad.vjp(_lu)(a)
    for got, want in zip(out, scipy.linalg.lu(a)):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    g = pullback(tuple(np.ones_like(w) for w in out))
    assert g.shape == a.shape


@pytest.mark.parametrize("shape", [(4, 3), (3, 4)], ids=str)
def test_second_derivative(shape):
    check_hvp(Spec("lu_factor", _lu_all, (W[shape],), id="lu-hvp"))
