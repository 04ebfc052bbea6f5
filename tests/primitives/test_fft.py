"""np.fft against finite differences, the dot-product identity (through
test_jvp_identity.py) and exact values (Parseval, the transposes)."""
import numpy as np
import pytest

import s2sgrad
import s2sgrad.runtime as rt

from .spec import RNG, Spec, check_spec, normal
from .test_runtime_prims import check_hvp


def cnormal(*shape):
    return RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)


W8 = normal(8)
W52 = normal(5, 2)
C5 = cnormal(5)


def _sq(z):
    """A real, non-linear summary of a complex array."""
    return np.sum(np.abs(z) ** 2 * 0.5 + np.real(z) * np.imag(z))


SPECS = [
    # 1-d, every norm, n shorter and longer than the input, other axes
    Spec("fft", lambda x: _sq(np.fft.fft(x)), (normal(8),), id="fft"),
    Spec("fft", lambda z: _sq(np.fft.fft(z, n=6, norm="ortho")), (cnormal(8),),
         id="fft-crop-ortho"),
    Spec("fft", lambda x: _sq(np.fft.fft(x, 11, 0, "forward")), (normal(8, 2),),
         id="fft-pad-axis0"),
    Spec("ifft", lambda z: _sq(np.fft.ifft(z)), (cnormal(7),), id="ifft"),
    Spec("ifft", lambda z: _sq(np.fft.ifft(z, n=9, norm="forward")), (cnormal(2, 7),),
         id="ifft-pad-forward"),
    Spec("rfft", lambda x: np.sum(np.abs(np.fft.rfft(x)) ** 2), (normal(8),), id="rfft-even"),
    Spec("rfft", lambda x: _sq(np.fft.rfft(x)), (normal(7),), id="rfft-odd"),
    Spec("rfft", lambda x: _sq(np.fft.rfft(x, n=10, norm="ortho")), (normal(3, 8),),
         id="rfft-pad-ortho"),
    Spec("rfft", lambda x: _sq(np.fft.rfft(x, n=5, axis=0, norm="forward")), (normal(8, 3),),
         id="rfft-crop-axis0-forward"),
    Spec("irfft", lambda z: np.sum(np.sin(np.fft.irfft(z)) * W8), (cnormal(5),),
         id="irfft-even"),
    Spec("irfft", lambda z: np.sum(np.sin(np.fft.irfft(z, n=7))), (cnormal(5),),
         id="irfft-odd"),
    Spec("irfft", lambda z: np.sum(np.cos(np.fft.irfft(z, n=12, norm="ortho"))), (cnormal(5),),
         id="irfft-pad-ortho"),
    Spec("irfft", lambda z: np.sum(np.cos(np.fft.irfft(z, n=4, axis=0, norm="forward"))),
         (cnormal(5, 2),), id="irfft-crop-axis0-forward"),
    Spec("hfft", lambda z: np.sum(np.sin(np.fft.hfft(z))), (cnormal(5),), id="hfft"),
    Spec("hfft", lambda z: np.sum(np.sin(np.fft.hfft(z, n=7, norm="ortho"))), (cnormal(5),),
         id="hfft-odd-ortho"),
    Spec("ihfft", lambda x: _sq(np.fft.ihfft(x)), (normal(8),), id="ihfft"),
    Spec("ihfft", lambda x: _sq(np.fft.ihfft(x, n=7, norm="forward")), (normal(8),),
         id="ihfft-crop-forward"),
    # 2-d and n-d
    Spec("fft2", lambda x: _sq(np.fft.fft2(x)), (normal(4, 6),), id="fft2"),
    Spec("fft2", lambda z: _sq(np.fft.fft2(z, s=(3, 8), axes=(0, 2))), (cnormal(4, 2, 6),),
         id="fft2-s-axes"),
    Spec("ifft2", lambda z: _sq(np.fft.ifft2(z, norm="ortho")), (cnormal(3, 4),), id="ifft2"),
    Spec("rfft2", lambda x: _sq(np.fft.rfft2(x)), (normal(4, 6),), id="rfft2"),
    Spec("rfft2", lambda x: _sq(np.fft.rfft2(x, s=(5, 5), norm="forward")), (normal(2, 4, 6),),
         id="rfft2-s"),
    Spec("irfft2", lambda z: np.sum(np.sin(np.fft.irfft2(z))), (cnormal(4, 3),), id="irfft2"),
    Spec("irfft2", lambda z: np.sum(np.sin(np.fft.irfft2(z, s=(3, 5), norm="ortho"))),
         (cnormal(4, 3),), id="irfft2-s"),
    Spec("fftn", lambda x: _sq(np.fft.fftn(x)), (normal(3, 4, 2),), id="fftn"),
    Spec("fftn", lambda z: _sq(np.fft.fftn(z, s=(2, 5), axes=(2, 0))), (cnormal(3, 4, 2),),
         id="fftn-s-axes"),
    Spec("ifftn", lambda z: _sq(np.fft.ifftn(z, axes=(1,))), (cnormal(3, 4),), id="ifftn"),
    Spec("rfftn", lambda x: _sq(np.fft.rfftn(x)), (normal(3, 4, 5),), id="rfftn"),
    Spec("rfftn", lambda x: _sq(np.fft.rfftn(x, s=(3, 6), axes=(0, 2))), (normal(3, 4, 5),),
         id="rfftn-s-axes"),
    Spec("irfftn", lambda z: np.sum(np.sin(np.fft.irfftn(z))), (cnormal(3, 4, 3),),
         id="irfftn"),
    Spec("irfftn", lambda z: np.sum(np.sin(np.fft.irfftn(z, s=(5, 7), axes=(0, 1),
                                                          norm="forward"))),
         (cnormal(4, 3),), id="irfftn-s-axes"),
    # shifts, and the helper itself
    Spec("fftshift", lambda x: np.sum(np.fft.fftshift(x) * W8), (normal(8),), id="fftshift"),
    Spec("fftshift", lambda x: np.sum(np.sin(np.fft.fftshift(x, axes=0)) * W52),
         (normal(5, 2),), id="fftshift-axes"),
    Spec("ifftshift", lambda x: np.sum(np.fft.ifftshift(x) ** 2 * W8[:7]), (normal(7),),
         id="ifftshift"),
    Spec("fft_vjp", lambda g: _sq(rt.fft_vjp(g, W8, "rfft")), (cnormal(5),),
         id="fft_vjp-rfft"),
    Spec("fft_vjp", lambda g: np.sum(np.sin(rt.fft_vjp(g, C5, "irfft", s=(7,), axes=(-1,)))),
         (normal(7),), id="fft_vjp-irfft"),
    Spec("fft_vjp", lambda g: _sq(rt.fft_vjp(g, W8, "fft", s=(6,), axes=(0,))), (cnormal(6),),
         id="fft_vjp-fft"),
    Spec("fft_vjp", lambda g: _sq(rt.fft_vjp(g, C5, "ifft", norm="ortho")), (cnormal(5),),
         id="fft_vjp-ifft"),
    # a spectral loss of real inputs
    Spec(("rfft", "irfft"), lambda x: np.sum(np.fft.irfft(np.fft.rfft(x) * C5) * W8),
         (normal(8),), id="rfft-filter-irfft"),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_fft(spec):
    check_spec(spec)


@pytest.mark.parametrize("spec", SPECS[::3], ids=lambda s: s.id)
def test_fft_hvp(spec):
    check_hvp(spec)


def _power(x):
    return np.sum(np.abs(np.fft.fft(x)) ** 2)


def test_parseval_gradient_exact():
    # sum |fft(x)|^2 = n sum x^2: gradient 2 n x
    x = normal(8)
    np.testing.assert_allclose(s2sgrad.grad(_power)(x), 16 * x, rtol=1e-12)


def _rpower(x):
    return np.sum(np.abs(np.fft.rfft(x)) ** 2)


@pytest.mark.parametrize("n", [8, 7])
def test_rfft_power_gradient_exact(n):
    # the half spectrum counts each interior bin once: sum |rfft(x)|^2 =
    # (n sum x^2 + |X_0|^2 (+ |X_{n/2}|^2 for even n)) / 2
    x = normal(n)
    ones, alt = np.ones(n), (-1.0) ** np.arange(n)
    want = n * x + np.sum(x) * ones + (np.dot(alt, x) * alt if n % 2 == 0 else 0)
    np.testing.assert_allclose(s2sgrad.grad(_rpower)(x), want, rtol=1e-12)


def _fft_values(x, z):
    return (np.fft.fft(x, 5), np.fft.rfft(x, norm="ortho"), np.fft.irfft(z, 7),
            np.fft.hfft(z), np.fft.ihfft(x), np.fft.fft2(x.reshape(2, 4)),
            np.fft.rfftn(x.reshape(2, 2, 2), axes=(0, 2)), np.fft.fftshift(x),
            np.fft.fftfreq(8, 0.5) * x, np.fft.rfftfreq(7))


def test_values_match_numpy():
    x, z = normal(8), cnormal(5)
    out, _ = s2sgrad.vjp(_fft_values, wrt=(0, 1))(x, z)
    for got, want in zip(out, _fft_values(x, z)):
        np.testing.assert_allclose(got, want, rtol=1e-13)
        assert got.dtype == want.dtype


def test_hessian_of_spectral_loss():
    x = normal(6)
    h = s2sgrad.hessian(_rpower)(x)
    n, ones, alt = 6, np.ones((6, 6)), np.outer((-1.0) ** np.arange(6), (-1.0) ** np.arange(6))
    np.testing.assert_allclose(h, n * np.eye(n) + ones + alt, rtol=1e-12, atol=1e-12)


def _float32_spectrum(x):
    return np.sum(np.abs(np.fft.rfft(x)) ** 2)


def test_float32_stays_float32():
    g = s2sgrad.grad(_float32_spectrum)(normal(8).astype(np.float32))
    assert g.dtype == np.float32
