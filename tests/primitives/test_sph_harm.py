"""scipy.special.sph_harm_y(n, m, theta, phi): differentiable in the angles
(SciPy's own diff_n=1/2 derivatives), n and m data.  Values vs SciPy,
gradients vs central differences (SPECS: float64, float32, jvp/vjp
identity), broadcasting, a Python-scalar angle, second derivatives; a third
is refused."""
import numpy as np
import pytest
import scipy.special as sp

import s2sgrad
import s2sgrad.runtime as rt

from .spec import RNG, Spec, check_spec
from .test_runtime_prims import check_hvp

TH = RNG.uniform(0.3, 2.8, size=(2, 3))
PH = RNG.uniform(-3.0, 3.0, size=(3,))
C = RNG.standard_normal((2, 3))
Y = ("sph_harm_y", "scipy.special.sph_harm_y")     # the primitive and its public composite


def _real_imag(th, ph):
    y = sp.sph_harm_y(3, 1, th, ph)
    return np.sum(np.real(y) * C) + np.sum(np.imag(sp.sph_harm_y(2, -2, th, ph)) ** 2)


def _abs_scalar_phi(th):
    return np.sum(np.abs(sp.sph_harm_y(4, 2, th, 0.7)) ** 2 * C)


def _reused(th):
    y = sp.sph_harm_y(2, 1, th, th[0])          # theta also as the (broadcast) phi
    return np.sum(np.real(y * np.conj(y)) + np.imag(y))


SPECS = [
    Spec(Y, _real_imag, (TH, PH), wrt=(0, 1), id="sph_harm_y-real-imag"),
    Spec(Y, _abs_scalar_phi, (TH,), id="sph_harm_y-python-scalar-phi"),
    Spec(Y, _reused, (RNG.uniform(0.3, 2.8, size=(3,)),), id="sph_harm_y-reused"),
    Spec("sph_harm_y_jac", lambda th, ph: np.sum(np.real(rt.sph_harm_y_jac(th, ph, n=3, m=2))
                                                 * C[..., None]), (TH, PH), wrt=(0, 1)),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_spec(spec):
    check_spec(spec)


@pytest.mark.parametrize("spec", SPECS[:2], ids=lambda s: s.id)
def test_second_derivative(spec):
    check_hvp(spec)


def _y(th, ph):
    return sp.sph_harm_y(3, -1, th, ph)


def test_value_is_scipys():
    out, _ = s2sgrad.vjp(_y, wrt=(0, 1))(TH, PH)
    np.testing.assert_array_equal(out, _y(TH, PH))


def test_degree_and_order_are_data():
    def f(n, th):
        return np.real(sp.sph_harm_y(n, 1, th, 0.3))

    with pytest.raises(s2sgrad.S2SGradError):
        s2sgrad.grad(f)(3.0, 0.5)
