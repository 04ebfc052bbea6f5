"""scipy.linalg under NumPy's rules (eigvalsh, svd, svdvals, qr, pinv, norm,
lstsq, lu) and block_diag, toeplitz: specs and values against SciPy."""
import numpy as np
import pytest

sl = pytest.importorskip("scipy.linalg")

import s2sgrad  # noqa: E402
import s2sgrad.runtime as rt  # noqa: E402
from s2sgrad.primitives import core  # noqa: E402

from .spec import Spec, check_spec, normal  # noqa: E402

core.load_optional_rules()      # register the rules (test_coverage needs them)

N4 = normal(4, 4)
S4 = N4 + N4.T
B43 = normal(4, 3)
W4 = normal(4, 4)
W43 = normal(4, 3)
W78 = normal(7, 8)


def _lu_loss(a):
    p, l, u = sl.lu(a)
    return np.sum(l * W4) + np.sum(u ** 2) + np.sum(p * a)


SPECS = [
    Spec("scipy_eigvalsh", lambda a: np.sum(sl.eigvalsh(a) ** 3), (S4,)),
    Spec("scipy_eigvalsh", lambda a: np.sum(sl.eigvalsh(a, lower=False) * np.arange(4.0)),
         (S4 + 0.1 * N4,), id="scipy_eigvalsh-upper"),
    Spec("scipy_svd", lambda a: np.sum(np.abs(sl.svd(a, full_matrices=False)[0]) * W43)
         + np.sum(sl.svd(a)[1] ** 2), (B43,)),
    Spec("scipy_svdvals", lambda a: np.sum(sl.svdvals(a) * np.arange(1.0, 4.0)), (B43,)),
    Spec("scipy_qr", lambda a: np.sum(sl.qr(a, mode="economic")[1] ** 2 * np.arange(3.0))
         + np.sum(sl.qr(a)[0][:, :3] * sl.qr(a)[0][:, :3] * W43), (B43,)),
    Spec("scipy_pinv", lambda a: np.sum(sl.pinv(a) * W43.T), (B43,)),
    Spec("scipy_norm", lambda a: sl.norm(a) + np.sum(sl.norm(a, 3, axis=0, keepdims=True)),
         (B43,)),
    Spec("scipy_lstsq", lambda a, b: np.sum(sl.lstsq(a, b)[0] ** 2), (B43, normal(4)),
         wrt=(0, 1)),
    # residues: a scalar for a 1-d b (SciPy's shape; NumPy's is (1,))
    Spec("scipy_lstsq", lambda a, b: sl.lstsq(a, b)[1] * 2.0, (B43, normal(4)), wrt=(0, 1),
         id="scipy_lstsq-residues-1d"),
    Spec("scipy_lstsq", lambda a, b: np.sum(sl.lstsq(a, b)[1] * W4[0, :2]), (B43, normal(4, 2)),
         wrt=(0, 1), id="scipy_lstsq-residues-2d"),
    Spec("scipy_lstsq_residues", lambda r: rt.scipy_lstsq_residues(r, W4[0]) ** 2, (normal(1),)),
    Spec("scipy_lstsq_residues", lambda r: np.sum(rt.scipy_lstsq_residues(r, W4) ** 2),
         (normal(4),), id="scipy_lstsq_residues-2d"),
    Spec("scipy_lu", _lu_loss, (N4 + 3 * np.eye(4),)),
    Spec("scipy_lu", lambda a: np.sum(sl.lu(a, permute_l=True)[0] * W4), (N4 + 3 * np.eye(4),),
         id="scipy_lu-permute_l"),
    Spec("block_diag", lambda a, b, c: np.sum(sl.block_diag(a, b, c) ** 2 * W78),
         (normal(2, 3), B43, normal(2)), wrt=(0, 1, 2)),
    Spec("block_diag", lambda a: np.sum(sl.block_diag(a, 2.0 * a, a) * W4[:3, :3]),
         (normal(1, 1),), id="block_diag-repeated"),
    Spec("unblock_diag", lambda g: np.sum(rt.unblock_diag(g, B43, W4[0])[1] ** 2)
         + np.sum(rt.unblock_diag(g, B43, W4[0])[0] ** 3), (normal(5, 7),)),
    Spec("toeplitz", lambda c: np.sum(sl.toeplitz(c) * W4), (normal(4),)),
    Spec("toeplitz", lambda c, r: np.sum(sl.toeplitz(c, r) * W43), (normal(4), normal(3)),
         wrt=(0, 1), id="toeplitz-c-r"),
    Spec("scipy_expm_frechet", lambda a, e: np.sum(sl.expm_frechet(a, e)[1] * W4)
         + np.sum(sl.expm_frechet(a, e)[0] ** 2), (0.3 * N4, normal(4, 4)), wrt=(0, 1)),
    Spec("scipy_expm_frechet",
         lambda a: np.sum(sl.expm_frechet(a, W4, compute_expm=False) ** 2), (0.3 * N4,),
         id="scipy_expm_frechet-L-only"),
    Spec("scipy_polar", lambda a: np.sum(sl.polar(a)[0] * W4) + np.sum(sl.polar(a)[1] ** 2),
         (N4 + 3 * np.eye(4),)),
    Spec("scipy_polar", lambda a: np.sum(sl.polar(a, side="left")[1] * W4), (N4 + 3 * np.eye(4),),
         id="scipy_polar-left"),
    Spec("untoeplitz", lambda g: np.sum(rt.untoeplitz(g, W4[0]) ** 2), (normal(4, 4),)),
    Spec("untoeplitz_cr", lambda g: np.sum(rt.untoeplitz_cr(g, W4[0], W43[0])[0] ** 2)
         + np.sum(rt.untoeplitz_cr(g, W4[0], W43[0])[1] ** 3), (normal(4, 3),)),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_spec(spec):
    check_spec(spec)


def _v_eigvalsh(x):
    return sl.eigvalsh(x + x.T)


def _v_svd(x):
    return sl.svd(x)[1]


def _v_svdvals(x):
    return sl.svdvals(x)


def _v_pinv(x):
    return sl.pinv(x)


def _v_qr(x):
    return np.abs(sl.qr(x)[1])


def _v_norm(x):
    return sl.norm(x, 1, axis=0)


def _v_lu(x):
    p, l, u = sl.lu(x)
    return np.concatenate([p, l, u])


def _v_block_diag(x):
    return sl.block_diag(x, x[:2])


def _v_expm_frechet(x):
    return np.concatenate(sl.expm_frechet(0.3 * x, x.T))


def _v_polar(x):
    return np.concatenate(sl.polar(x) + sl.polar(x, "left"))


def _v_toeplitz(x):
    return sl.toeplitz(x[0], x[1])


def test_values_match_scipy():
    a = N4 + 3 * np.eye(4)
    for fn, x in [(_v_eigvalsh, a), (_v_svd, B43), (_v_svdvals, B43), (_v_qr, B43),
                  (_v_pinv, B43), (_v_norm, B43), (_v_lu, a), (_v_block_diag, B43),
                  (_v_toeplitz, a), (_v_expm_frechet, a), (_v_polar, a)]:
        out, _ = s2sgrad.vjp(fn)(x)
        np.testing.assert_allclose(out, fn(x), rtol=1e-10, atol=1e-12)


def test_lstsq_residues_have_scipys_shape():
    # a 1-d b: SciPy's residual is a scalar; the composite returned NumPy's shape (1,)
    for b in (normal(4), normal(4, 2)):
        out, _ = s2sgrad.vjp(lambda a, b: sl.lstsq(a, b)[1], wrt=(0, 1))(B43, b)
        ref = sl.lstsq(B43, b)[1]
        assert np.shape(out) == np.shape(ref)
        np.testing.assert_allclose(out, ref, rtol=1e-10)
    wide = normal(3, 4)           # no residual: an empty array in both
    out, _ = s2sgrad.vjp(lambda a, b: sl.lstsq(a, b)[1], wrt=(0, 1))(wide, normal(3))
    assert np.shape(out) == np.shape(sl.lstsq(wide, normal(3))[1])


def test_refusals_name_the_option():
    with pytest.raises(s2sgrad.S2SGradError, match="pivoting"):
        s2sgrad.grad(lambda a: np.sum(sl.qr(a, pivoting=True)[1]))(B43)
    with pytest.raises(s2sgrad.S2SGradError, match="subset_by"):
        s2sgrad.grad(lambda a: np.sum(sl.eigvalsh(a, subset_by_index=[0, 1])))(S4)
    with pytest.raises(s2sgrad.S2SGradError, match="p_indices"):
        s2sgrad.grad(lambda a: np.sum(sl.lu(a, p_indices=True)[1]))(N4)
