"""np.linalg.norm(x, ord) without axis= for ord in 1, -1, 2, -2, inf, -inf:
NumPy's meaning depends on x.ndim (a vector norm of a 1-d x, a matrix norm
of a 2-d x), which the generic code does not know, so the weight is chosen
at run time (runtime.norm_ord_weight) and its derivative (norm_ord_hvp) too.
Checked: value vs NumPy, gradients vs central differences (SPECS: float64,
float32, the jvp/vjp identity), keepdims, Python-scalar scaling, repeated
use, second derivatives, the subgradient conventions at ties and at zero."""
import numpy as np
import pytest

import s2sgrad
import s2sgrad.runtime as rt

from .spec import RNG, Spec, check_spec, normal
from .test_runtime_prims import check_hvp

ORDS = (1, -1, 2, -2, np.inf, -np.inf)


def _sv_distinct(m, n):
    """A matrix with well-separated singular values (and column/row sums)."""
    q1, _ = np.linalg.qr(RNG.standard_normal((m, m)))
    q2, _ = np.linalg.qr(RNG.standard_normal((n, n)))
    s = np.zeros((m, n))
    k = min(m, n)
    s[np.arange(k), np.arange(k)] = np.arange(k, 0, -1) * 1.5 + 0.5
    return q1 @ s @ q2 + 0.05 * RNG.standard_normal((m, n))


def _away(*shape):
    """Entries of distinct magnitudes, away from 0 (no ties, smooth norms)."""
    n = int(np.prod(shape))
    mags = RNG.permutation(n) * 0.37 + 0.5
    return (mags * RNG.choice([-1.0, 1.0], n)).reshape(shape)


M = _sv_distinct(4, 3)
V = _away(5)
Z = _away(3, 4) + 1j * _away(3, 4)
C3 = normal(3)
C34 = normal(3, 4)


def _n1(x):
    return np.linalg.norm(x, 1)


def _nm1(x):
    return np.linalg.norm(x, -1)


def _n2(x):
    return np.linalg.norm(x, 2)


def _nm2(x):
    return np.linalg.norm(x, -2)


def _ninf(x):
    return np.linalg.norm(x, np.inf)


def _nminf(x):
    return np.linalg.norm(x, -np.inf)


NORMS = {1: _n1, -1: _nm1, 2: _n2, -2: _nm2, np.inf: _ninf, -np.inf: _nminf}


def _spec(o, x, tag):
    f = NORMS[o]
    return Spec("norm", lambda x: np.sin(f(x)) * 1.5, (x,), id=f"norm-{tag}-ord={o}")


SPECS = [_spec(o, M, "matrix") for o in ORDS] + \
    [_spec(o, V, "vector") for o in ORDS] + [
    Spec("norm", lambda x: np.sum(np.linalg.norm(x, 2, keepdims=True) * x), (M,),
         id="norm-matrix-keepdims-reused"),
    Spec("norm", lambda x: np.sum(np.linalg.norm(x, -np.inf, keepdims=True) * x), (V,),
         id="norm-vector-keepdims-reused"),
    Spec("norm", lambda x: np.linalg.norm(x @ x.T, 1) + 2.0 * np.linalg.norm(x, np.inf), (M,),
         id="norm-matrix-composed"),
    Spec("norm", lambda z: np.linalg.norm(z, 2) + np.linalg.norm(z, 1), (Z,),
         id="norm-matrix-complex", float32=False),
    Spec("norm", lambda z: np.linalg.norm(z[0], -2) + np.linalg.norm(z[1], np.inf), (Z,),
         id="norm-vector-complex", float32=False),
    Spec("norm_ord_weight", lambda x: np.sum(rt.norm_ord_weight(x, np.linalg.norm(x, 2), ord=2)
                                             * C3), (_away(3),), id="norm_ord_weight-vector"),
    Spec("norm_ord_weight", lambda x: np.sum(rt.norm_ord_weight(x, np.linalg.norm(x, -2),
                                                                ord=-2) * C34.T), (M,),
         id="norm_ord_weight-matrix"),
    Spec("norm_ord_hvp", lambda t: np.sum(rt.norm_ord_hvp(t, V[:3], np.linalg.norm(V[:3], -1),
                                                          ord=-1) ** 2), (normal(3),),
         id="norm_ord_hvp-vector"),
    Spec("norm_ord_hvp", lambda t: np.sum(rt.norm_ord_hvp(t, M, np.linalg.norm(M, 2), ord=2)
                                          * C34.T), (normal(4, 3),), id="norm_ord_hvp-matrix"),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_spec(spec):
    """float64 central differences (both modes) and float32 gradients."""
    check_spec(spec)


@pytest.mark.parametrize("o", ORDS, ids=str)
@pytest.mark.parametrize("x", [M, M.T, V], ids=["4x3", "3x4", "vector"])
def test_value_gradient_and_hessian(o, x):
    f = NORMS[o]

    value, g = s2sgrad.value_and_grad(f)(x)
    assert value == np.linalg.norm(x, o)
    check_spec(Spec("norm", f, (x,), id=f"norm-{o}"))
    check_hvp(Spec("norm", f, (x,), id=f"norm-hvp-{o}"))


@pytest.mark.parametrize("o", ORDS, ids=str)
@pytest.mark.parametrize("which", ["matrix", "vector"])
def test_complex_gradient_and_hessian(o, which):
    z = Z if which == "matrix" else Z[0]
    f = NORMS[o]
    if which == "matrix" and o in (2, -2):
        check_spec(Spec("norm", f, (z,), id=f"norm-complex-{o}", float32=False))
        with pytest.raises(ValueError, match="real matrix"):
            check_hvp(Spec("norm", f, (z,), id=f"norm-complex-hvp-{o}"))
        return
    check_spec(Spec("norm", f, (z,), id=f"norm-complex-{o}", float32=False))
    check_hvp(Spec("norm", f, (z,), id=f"norm-complex-hvp-{o}"))


def test_python_scalar_and_keepdims_shapes():
    def f(x):
        return 3.0 * np.linalg.norm(x, 1, keepdims=True)

    out, pullback = s2sgrad.vjp(f)(M)
    assert out.shape == (1, 1) and np.allclose(out, 3 * np.linalg.norm(M, 1, keepdims=True))
    g = pullback(np.ones((1, 1)))
    col = np.argmax(np.abs(M).sum(axis=0))
    want = np.zeros_like(M)
    want[:, col] = 3 * np.sign(M[:, col])
    np.testing.assert_allclose(g, want)


def test_subgradients_at_ties_and_zero():
    # inf-norm of a vector with two entries tied for the largest |x|: split equally
    x = np.array([2.0, -2.0, 1.0])
    g = s2sgrad.grad(lambda x: np.linalg.norm(x, np.inf))(x)
    np.testing.assert_allclose(g, [0.5, -0.5, 0.0])
    # a matrix's 1-norm with two columns tied: split equally between them
    a = np.array([[1.0, -2.0], [2.0, 1.0]])
    g = s2sgrad.grad(lambda a: np.linalg.norm(a, 1))(a)
    np.testing.assert_allclose(g, 0.5 * np.sign(a))
    # the spectral norm of a matrix with a repeated top singular value: split
    g = s2sgrad.grad(lambda a: np.linalg.norm(a, 2))(np.eye(2) * 3.0)
    np.testing.assert_allclose(g, 0.5 * np.eye(2))
    # the 2-norm of a zero vector: 0 (a subgradient)
    g = s2sgrad.grad(lambda x: np.linalg.norm(x, 2))(np.zeros(3))
    np.testing.assert_allclose(g, np.zeros(3))


def test_spectral_hessian_at_a_repeated_singular_value_raises():
    def f(a):
        return np.linalg.norm(a, 2)

    with pytest.raises(ValueError, match="repeated"):
        s2sgrad.hessian(f)(np.eye(3))


def test_other_ords_of_a_matrix_are_numpys_error():
    def f(a):
        return np.linalg.norm(a, 3)

    with pytest.raises(ValueError):
        s2sgrad.grad(f)(M)
    g = s2sgrad.grad(f)(V)              # a vector: the 3-norm
    np.testing.assert_allclose(g, np.sign(V) * (np.abs(V) / np.linalg.norm(V, 3)) ** 2)
