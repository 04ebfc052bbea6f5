"""scipy.special expn, spence, hyp1f1, hyp2f1, factorial, comb
(s2sgrad/primitives/scipy_special.py): specs, values against SciPy."""
import numpy as np
import pytest

sc = pytest.importorskip("scipy.special")
import s2sgrad  # noqa: E402
import s2sgrad.primitives.scipy_special  # noqa: E402,F401  (registered for test_coverage)

from .spec import RNG, Spec, check_spec, pos  # noqa: E402


def interval(lo, hi, *shape):
    return RNG.uniform(lo, hi, size=shape)


SPECS = [
    Spec(("expn", "scipy.special.expn"),
         lambda x: np.sum(sc.expn(3, x) + sc.expn(1, x) * sc.expn(0, x)), (pos(4),)),
    Spec(("expn", "scipy.special.expn"),
         lambda x: np.sum(sc.expn(np.array([[0], [2]]), x) ** 2), (pos(3),), id="expn-broadcast"),
    Spec("spence", lambda x: np.sum(sc.spence(x) * x), (pos(2, 3, hi=3.0),)),
    Spec(("hyp1f1", "scipy.special.hyp1f1"), lambda x: np.sum(sc.hyp1f1(1.5, 2.5, x)),
         (interval(-2.0, 2.0, 4),)),
    Spec(("hyp2f1", "scipy.special.hyp2f1"), lambda z: np.sum(sc.hyp2f1(0.5, 1.5, 2.5, z) ** 2),
         (interval(-0.8, 0.8, 4),)),
    Spec("scipy.special.factorial", lambda n: np.sum(sc.factorial(n) * n), (pos(4, hi=4.0),)),
    Spec("scipy.special.comb", lambda n, k: np.sum(sc.comb(n, k)), (pos(4) + 4.0, pos(4)),
         wrt=(0, 1)),
    Spec("scipy.special.comb", lambda n, k: np.sum(sc.comb(n, k, repetition=True)),
         (pos(4) + 2.0, pos(4)), wrt=(0, 1), id="comb-repetition"),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_spec(spec):
    check_spec(spec)


def _values(x):
    return (sc.expn(2, x), sc.spence(x), sc.hyp1f1(0.5, 1.5, x), sc.hyp2f1(0.5, 1.0, 2.0, -x),
            sc.factorial(x - 1.5), sc.comb(x, 1.5), sc.comb(3.0, x))


def test_values_match_scipy_including_edges():
    x = np.array([0.0, 0.5, 1.0, 2.5, 4.0])
    with np.errstate(all="ignore"):
        out, _ = s2sgrad.vjp(_values)(x)
        ref = _values(x)
    for a, b in zip(out, ref):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_spence_derivative_at_one_and_expn_zero():
    g = s2sgrad.grad(lambda x: np.sum(sc.spence(x)))(np.array([1.0, 0.5]))
    np.testing.assert_allclose(g, [-1.0, np.log(0.5) / 0.5], rtol=1e-12)
    x = np.array([0.7, 2.0])
    g0 = s2sgrad.grad(lambda x: np.sum(sc.expn(0, x)))(x)
    np.testing.assert_allclose(g0, -np.exp(-x) / x * (1 + 1 / x), rtol=1e-12)


def test_data_arguments_are_refused():
    with pytest.raises(s2sgrad.S2SGradError):
        s2sgrad.grad(lambda a: np.sum(sc.hyp1f1(a, 2.0, 0.5)))(1.5)
    with pytest.raises(s2sgrad.S2SGradError, match="exact"):
        s2sgrad.grad(lambda n: np.sum(sc.factorial(n, exact=True)))(np.array([3.0]))
