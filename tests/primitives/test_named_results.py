"""NumPy's named-tuple results: np.linalg.svd / eigh / eig / slogdet / qr and
np.unique_all / unique_counts / unique_inverse.  Their fields are read by
name and by unpacking, differentiated (finite differences, float32, the
jvp/vjp identity through SPECS), and a result returned to the user is NumPy's
class (SVDResult, ...) with NumPy's values, from every transform."""
from collections import namedtuple

import numpy as np
import pytest

import s2sgrad

from .spec import RNG, Spec, check_spec, distinct, normal


def spd(n, *batch):
    m = RNG.standard_normal(batch + (n, n))
    return m @ np.swapaxes(m, -1, -2) + n * np.eye(n)


W43 = normal(4, 3)
W3 = normal(3)
REPEATS = np.array([[0.5, -1.25, 0.5], [2.0, -1.25, 0.75]])
Pair = namedtuple("Pair", "w b")


def _svd_fields(a):
    r = np.linalg.svd(a, full_matrices=False)
    return np.sum(r.U ** 2 * W43[:, :r.S.shape[-1]]) + np.sum(r.S * W3) + np.sum(r.Vh[0] ** 3)


def _svd_unpacked(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.sum(u[:, 0] ** 3) + np.sum(s ** 2) + np.sum(vh * W43[:3].T)


def _eig_fields(a):
    r = np.linalg.eig(a)
    return np.sum(np.real(r.eigenvalues) * W3) + np.sum(np.abs(r.eigenvectors) ** 4)


def _slogdet_fields(a):
    r = np.linalg.slogdet(a)
    return r.sign * r.logabsdet + np.sum(a * r.sign)


def _qr_fields(a):
    r = np.linalg.qr(a)
    return np.sum(r.Q ** 3) + np.sum(r.R * W43[:3])


def _unique_all(x):
    r = np.unique_all(x)
    # values are np.unique's (first occurrence); the rest is data
    return np.sum(r.values ** 3 * r.counts) + np.sum(x * r.inverse_indices) + \
        np.sum(r.values * r.indices)


def _unique_counts(x):
    vals, counts = np.unique_counts(x)
    return np.sum(np.sin(vals) * counts)


def _unique_inverse(x):
    r = np.unique_inverse(x)
    return np.sum(r.values[r.inverse_indices] ** 2) + np.sum(r.values)


SPECS = [
    Spec("svd", _svd_fields, (normal(4, 3),), id="svd-fields"),
    Spec("svd", _svd_unpacked, (normal(4, 3),), id="svd-unpacked"),
    Spec("svd", lambda a: np.sum(np.linalg.svd(a).S ** 2 * W3), (normal(2, 3, 4),),
         id="svd-S-batch"),
    Spec("eigh", lambda a: np.sum(np.linalg.eigh(a).eigenvalues * W3) +
         np.sum(np.linalg.eigh(a).eigenvectors[:, -1] ** 4), (spd(3),), id="eigh-fields"),
    Spec("eig", _eig_fields, (spd(3) + 0.2 * normal(3, 3),), id="eig-fields"),
    Spec("slogdet", _slogdet_fields, (spd(3) - 0.2 * normal(3, 3),), id="slogdet-fields"),
    Spec("slogdet", lambda a: np.sum(np.linalg.slogdet(a).logabsdet), (spd(3, 2),),
         id="slogdet-fields-batch"),
    Spec("qr", _qr_fields, (normal(4, 3),), id="qr-fields"),
    Spec("unique_all", _unique_all, (distinct(2, 3),)),
    Spec("unique_counts", _unique_counts, (distinct(5),)),
    Spec("unique_inverse", _unique_inverse, (distinct(3, 2),)),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_spec(spec):
    """float64 central differences (both modes) and float32 gradients."""
    check_spec(spec)


def _ret_svd(a):
    return np.linalg.svd(a, full_matrices=False)


def _ret_eigh(a):
    return np.linalg.eigh(a)


def _ret_eig(a):
    return np.linalg.eig(a)


def _ret_slogdet(a):
    return np.linalg.slogdet(a)


def _ret_qr(a):
    return np.linalg.qr(a)


def _ret_unique_all(a):
    return np.unique_all(a)


def _ret_unique_counts(a):
    return np.unique_counts(a)


def _ret_unique_inverse(a):
    return np.unique_inverse(a)


RETURNED = [(_ret_svd, normal(4, 3)), (_ret_eigh, spd(3)), (_ret_eig, spd(3)),
            (_ret_slogdet, spd(3)), (_ret_qr, normal(4, 3)),
            (_ret_unique_all, REPEATS), (_ret_unique_counts, REPEATS),
            (_ret_unique_inverse, REPEATS)]


def _same(got, want):
    assert type(got) is type(want), (type(got), type(want))
    assert got._fields == want._fields
    for g, w in zip(got, want):
        assert np.shape(g) == np.shape(w)
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("fn, x", RETURNED, ids=[f.__name__[5:] for f, _ in RETURNED])
def test_returned_result_is_numpys_namedtuple(fn, x):
    want = fn(x)
    value, pullback = s2sgrad.vjp(fn)(x)
    _same(value, want)
    out, tangent = s2sgrad.jvp(fn)((x,), (np.ones_like(x),))
    _same(out, want)
    assert type(tangent) is type(want)
    # the cotangent may be given as NumPy's class or as a plain tuple
    ct = tuple(np.ones(np.shape(w)) for w in want)
    g1 = pullback(type(want)(*ct))
    g2 = pullback(ct)
    np.testing.assert_allclose(g1, g2)
    assert g1.shape == x.shape


def test_has_aux_returns_numpys_namedtuple():
    def loss(a):
        r = np.linalg.eigh(a)
        return np.sum(r.eigenvalues ** 2), r

    a = spd(3)
    g, aux = s2sgrad.grad(loss, has_aux=True)(a)
    _same(aux, np.linalg.eigh(a))
    # d tr(A^2) = 2 A, through the lower triangle eigh reads (off-diagonal twice)
    np.testing.assert_allclose(g, np.tril(2 * a) + np.tril(2 * a, -1), rtol=1e-10)


def test_namedtuple_argument_is_returned_as_its_class():
    def f(p):
        return Pair(p.w * 2.0, p.b)

    def g(p):
        return p

    p = Pair(np.ones(2), np.zeros(2))
    out, _ = s2sgrad.vjp(g)(p)
    assert type(out) is Pair
    out, _ = s2sgrad.vjp(f)(p)
    assert type(out) is Pair and np.allclose(out.w, 2.0)


def test_qr_raw_mode_is_still_refused_clearly():
    def f(a):
        h, tau = np.linalg.qr(a, mode="raw")
        return np.sum(h)

    with pytest.raises(s2sgrad.S2SGradError, match="raw"):
        s2sgrad.grad(f)(normal(3, 3))
