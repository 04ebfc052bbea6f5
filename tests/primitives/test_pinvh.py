"""scipy.linalg.pinvh: np.linalg.pinv(hermitian=True)'s rules (the lower
triangle read, as both read it), SciPy's default cutoff; values vs SciPy,
gradients vs central differences (SPECS), refused options."""
import numpy as np
import pytest
import scipy.linalg

import s2sgrad

from .spec import RNG, Spec, check_spec, normal


def sym(n):
    m = RNG.standard_normal((n, n))
    return m + m.T + 0.5 * np.eye(n)


W3 = normal(3, 3)
SPECS = [
    Spec(("scipy_pinvh", "pinv"), lambda a: np.sum(scipy.linalg.pinvh(a) * W3), (sym(3),),
         id="pinvh"),
    Spec(("scipy_pinvh", "pinv"), lambda a: np.sum(np.sin(scipy.linalg.pinvh(a, rtol=1e-10))),
         (sym(3) + 0.3 * normal(3, 3),), id="pinvh-reads-lower-rtol"),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_spec(spec):
    check_spec(spec)


def _pinvh(a):
    return scipy.linalg.pinvh(a)


def test_values_are_scipys_also_rank_deficient():
    m = normal(4, 2)
    for a in (sym(3), sym(3) + normal(3, 3), m @ m.T):
        out, _ = s2sgrad.vjp(_pinvh)(a)
        np.testing.assert_allclose(out, scipy.linalg.pinvh(a), rtol=1e-10, atol=1e-12)


def test_unsupported_options_are_refused():
    def f(a):
        return np.sum(scipy.linalg.pinvh(a, lower=False))

    with pytest.raises(s2sgrad.S2SGradError, match="lower"):
        s2sgrad.grad(f)(sym(3))
