"""scipy.special (s2sgrad/primitives/scipy_special.py): specs, values against
SciPy, conventions at singular points, higher order, and SciPy staying optional."""
import os
import subprocess
import sys

import numpy as np
import pytest

import s2sgrad

sc = pytest.importorskip("scipy.special")
import s2sgrad.primitives.scipy_special  # noqa: E402,F401  (registered for test_coverage)
from s2sgrad.primitives import core  # noqa: E402

from .spec import RNG, Spec, check_spec, normal, pos, unit  # noqa: E402


def interval(lo, hi, *shape):
    return RNG.uniform(lo, hi, size=shape)


SPECS = [
    # logistic family
    Spec("expit", lambda x: np.sum(sc.expit(x) ** 2), (normal(3, 2),)),
    Spec("log_expit", lambda x: np.sum(sc.log_expit(x)), (normal(4) * 3,)),
    Spec("logit", lambda p: np.sum(sc.logit(p) ** 2), (interval(0.1, 0.9, 4),)),
    Spec("scipy.special.softplus", lambda x: np.sum(sc.softplus(x)), (normal(4) * 2,)),
    # error functions
    Spec("erf", lambda x: np.sum(sc.erf(x) * x), (normal(3, 1),)),
    Spec("erfc", lambda x: np.sum(sc.erfc(x)), (normal(4),)),
    Spec("erfi", lambda x: np.sum(sc.erfi(x)), (normal(4) * 0.5,)),
    Spec("erfinv", lambda x: np.sum(sc.erfinv(x)), (unit(4),)),
    Spec("erfcinv", lambda x: np.sum(sc.erfcinv(x)), (interval(0.1, 1.9, 4),)),
    Spec("erfcx", lambda x: np.sum(sc.erfcx(x)), (normal(4),)),
    Spec("dawsn", lambda x: np.sum(sc.dawsn(x)), (normal(4) * 2,)),
    Spec("ndtr", lambda x: np.sum(sc.ndtr(x)), (normal(4) * 2,)),
    Spec("log_ndtr", lambda x: np.sum(sc.log_ndtr(x)), (normal(4) * 3,)),
    Spec("ndtri", lambda p: np.sum(sc.ndtri(p)), (interval(0.05, 0.95, 4),)),
    # gamma family
    Spec("gamma", lambda x: np.sum(sc.gamma(x)), (pos(4, hi=3.0),)),
    Spec("rgamma", lambda x: np.sum(sc.rgamma(x)), (pos(4, hi=3.0),)),
    Spec("gammaln", lambda x: np.sum(sc.gammaln(x)), (pos(2, 3, hi=5.0),)),
    Spec("gammaln", lambda x: np.sum(sc.gammaln(x)), (interval(-2.9, -2.1, 3),),
         id="gammaln-negative"),
    Spec("loggamma", lambda x: np.sum(sc.loggamma(x)), (pos(4, hi=5.0),)),
    Spec("digamma", lambda x: np.sum(sc.digamma(x) + sc.psi(x) ** 2), (pos(4, hi=5.0),)),
    Spec(("polygamma", "scipy.special.polygamma"),
         lambda x: np.sum(sc.polygamma(2, x) + sc.polygamma(0, x)), (pos(4, hi=5.0),)),
    Spec("beta", lambda a, b: np.sum(sc.beta(a, b)), (pos(3, 1), pos(4)), wrt=(0, 1)),
    Spec("betaln", lambda a, b: np.sum(sc.betaln(a, b)), (pos(3, 1), pos(4)), wrt=(0, 1)),
    Spec("poch", lambda z, m: np.sum(sc.poch(z, m)), (pos(4), pos(4)), wrt=(0, 1)),
    Spec("binom", lambda n, k: np.sum(sc.binom(n, k)), (pos(4) + 4.0, pos(4)), wrt=(0, 1)),
    Spec(("multigammaln", "scipy.special.multigammaln"),
         lambda a: np.sum(sc.multigammaln(a, 3)), (pos(4) + 2.0,)),
    Spec(("zeta", "scipy.special.zeta"), lambda q: np.sum(sc.zeta(3.0, q)), (pos(4),)),
    # incomplete gamma / beta, distribution functions (data first argument)
    Spec(("gammainc", "scipy.special.gammainc"), lambda x: np.sum(sc.gammainc(2.5, x)),
         (pos(4),)),
    Spec(("gammaincc", "scipy.special.gammaincc"), lambda x: np.sum(sc.gammaincc(2.5, x)),
         (pos(4),)),
    Spec(("betainc", "scipy.special.betainc"), lambda x: np.sum(sc.betainc(2.0, 3.0, x)),
         (interval(0.1, 0.9, 4),)),
    Spec(("betaincc", "scipy.special.betaincc"), lambda x: np.sum(sc.betaincc(2.0, 3.0, x)),
         (interval(0.1, 0.9, 4),)),
    Spec(("pdtr", "scipy.special.pdtr"), lambda m: np.sum(sc.pdtr(3.0, m)), (pos(4),)),
    Spec(("pdtrc", "scipy.special.pdtrc"), lambda m: np.sum(sc.pdtrc(3.0, m)), (pos(4),)),
    Spec(("stdtr", "scipy.special.stdtr"), lambda t: np.sum(sc.stdtr(4.0, t)), (normal(4),)),
    Spec(("chdtr", "scipy.special.chdtr"), lambda x: np.sum(sc.chdtr(3.0, x)), (pos(4),)),
    Spec(("chdtrc", "scipy.special.chdtrc"), lambda x: np.sum(sc.chdtrc(3.0, x)), (pos(4),)),
    Spec(("boxcox", "scipy.special.boxcox"), lambda x: np.sum(sc.boxcox(x, 0.5) + sc.boxcox(x, 0.0)),
         (pos(4),)),
    Spec(("boxcox1p", "scipy.special.boxcox1p"), lambda x: np.sum(sc.boxcox1p(x, 0.5)), (pos(4),)),
    Spec(("inv_boxcox", "scipy.special.inv_boxcox"),
         lambda y: np.sum(sc.inv_boxcox(y, 0.5) + sc.inv_boxcox(y, 0.0)), (pos(4),)),
    Spec(("inv_boxcox1p", "scipy.special.inv_boxcox1p"),
         lambda y: np.sum(sc.inv_boxcox1p(y, 0.5)), (pos(4),)),
    # entropies and losses
    Spec("xlogy", lambda x, y: np.sum(sc.xlogy(x, y)), (normal(3, 1), pos(4)), wrt=(0, 1)),
    Spec("xlog1py", lambda x, y: np.sum(sc.xlog1py(x, y)), (normal(3, 1), pos(4)), wrt=(0, 1)),
    Spec("entr", lambda x: np.sum(sc.entr(x)), (pos(4),)),
    Spec("rel_entr", lambda x, y: np.sum(sc.rel_entr(x, y)), (pos(4), pos(4)), wrt=(0, 1)),
    Spec("kl_div", lambda x, y: np.sum(sc.kl_div(x, y)), (pos(4), pos(4)), wrt=(0, 1)),
    Spec("huber", lambda d, r: np.sum(sc.huber(d, r)),
         (np.array([1.0, 0.7, 1.3, 0.5]), np.array([0.3, -2.0, 2.5, -0.2])), wrt=(0, 1)),
    Spec("pseudo_huber", lambda d, r: np.sum(sc.pseudo_huber(d, r)), (pos(4), normal(4)),
         wrt=(0, 1)),
    Spec("powm1", lambda x, y: np.sum(sc.powm1(x, y)), (pos(4), normal(4)), wrt=(0, 1)),
    # Bessel and exponential integrals
    Spec("sc_i0", lambda x: np.sum(sc.i0(x)), (normal(4) * 2,)),
    Spec("i1", lambda x: np.sum(sc.i1(x)), (normal(4) * 2,)),
    Spec("i0e", lambda x: np.sum(sc.i0e(x)), (normal(4) * 2,)),
    Spec("i1e", lambda x: np.sum(sc.i1e(x)), (normal(4) * 2,)),
    Spec("j0", lambda x: np.sum(sc.j0(x)), (normal(4) * 3,)),
    Spec("j1", lambda x: np.sum(sc.j1(x)), (normal(4) * 3,)),
    Spec("y0", lambda x: np.sum(sc.y0(x)), (pos(4, hi=4.0),)),
    Spec("y1", lambda x: np.sum(sc.y1(x)), (pos(4, hi=4.0),)),
    Spec("k0", lambda x: np.sum(sc.k0(x)), (pos(4),)),
    # any order v (data), broadcast against x; the scaled forms at negative x too
    Spec(("jv", "scipy.special.jv"), lambda x: np.sum(sc.jv(np.array([[0.5], [2.0]]), x)),
         (pos(3, hi=5.0),)),
    Spec(("yv", "scipy.special.yv"), lambda x: np.sum(sc.yv(1.5, x) * sc.yv(0.0, x)),
         (pos(3, hi=4.0),)),
    Spec(("jve", "scipy.special.jve"), lambda x: np.sum(sc.jve(2.0, x)), (normal(3) * 3,)),
    Spec(("yve", "scipy.special.yve"), lambda x: np.sum(sc.yve(1.0, x)), (pos(3, hi=4.0),)),
    Spec(("iv", "scipy.special.iv"), lambda x: np.sum(sc.iv(np.array([1.0, 3.5, 2.0]), x)),
         (pos(3, hi=4.0),)),
    Spec(("ive", "scipy.special.ive"), lambda x: np.sum(sc.ive(1.0, x)), (normal(4) * 2,)),
    Spec(("kv", "scipy.special.kv"), lambda x: np.sum(sc.kv(0.5, x)), (pos(3),)),
    Spec(("kve", "scipy.special.kve"), lambda x: np.sum(sc.kve(2.0, x)), (pos(3),)),
    Spec(("yn", "scipy.special.yn"), lambda x: np.sum(sc.yn(2, x) + sc.yn(0, x)),
         (pos(3, hi=4.0),)),
    Spec("k1", lambda x: np.sum(sc.k1(x)), (pos(4),)),
    Spec("k0e", lambda x: np.sum(sc.k0e(x)), (pos(4),)),
    Spec("k1e", lambda x: np.sum(sc.k1e(x)), (pos(4),)),
    Spec("exp1", lambda x: np.sum(sc.exp1(x)), (pos(4),)),
    Spec("expi", lambda x: np.sum(sc.expi(x)), (pos(4),)),
    Spec("wrightomega", lambda x: np.sum(sc.wrightomega(x)), (normal(4),)),
    # SciPy's elementary functions
    Spec("exp10", lambda x: np.sum(sc.exp10(x)), (normal(4),)),
    Spec("sc_exp2", lambda x: np.sum(sc.exp2(x)), (normal(4),)),
    Spec("sc_expm1", lambda x: np.sum(sc.expm1(x)), (normal(4),)),
    Spec("sc_log1p", lambda x: np.sum(sc.log1p(x)), (pos(4),)),
    Spec("sc_cbrt", lambda x: np.sum(sc.cbrt(x)), (pos(4),)),
    Spec("cosm1", lambda x: np.sum(sc.cosm1(x)), (normal(4),)),
    Spec("sindg", lambda x: np.sum(sc.sindg(x)), (normal(4) * 40,)),
    Spec("cosdg", lambda x: np.sum(sc.cosdg(x)), (normal(4) * 40,)),
    Spec("tandg", lambda x: np.sum(sc.tandg(x)), (unit(4) * 60,)),
    Spec("cotdg", lambda x: np.sum(sc.cotdg(x)), (pos(4) * 30,)),
    # reductions
    Spec(("logsumexp", "scipy.special.logsumexp"),
         lambda a: np.sum(sc.logsumexp(a, axis=1) ** 2), (normal(3, 4),)),
    Spec(("logsumexp", "scipy.special.logsumexp"),
         lambda a: sc.logsumexp(a) * 2.0, (normal(3, 4),), id="logsumexp-all"),
    Spec(("logsumexp", "scipy.special.logsumexp"),
         lambda a: np.sum(sc.logsumexp(a, axis=(0, 2), keepdims=True) * np.arange(4.0)[:, None]),
         (normal(2, 4, 3),), id="logsumexp-keepdims"),
    Spec(("logsumexp", "scipy.special.logsumexp"),
         lambda a, b: np.sum(sc.logsumexp(a, axis=-1, b=b)), (normal(3, 4), pos(4)),
         wrt=(0, 1), id="logsumexp-b"),
    Spec(("logsumexp", "scipy.special.logsumexp"),
         lambda a, b: np.sum(sc.logsumexp(a, 0, b, return_sign=True)[0]),
         (normal(3, 4), normal(3, 1) + 3.0), wrt=(0, 1), id="logsumexp-sign"),
    Spec("softmax", lambda x, w: np.sum(sc.softmax(x, axis=1) * w), (normal(3, 4), normal(3, 4)),
         wrt=0),
    Spec("softmax", lambda x, w: np.sum(sc.softmax(x) * w), (normal(5), normal(5)),
         id="softmax-all"),
    Spec("log_softmax", lambda x, w: np.sum(sc.log_softmax(x, axis=0) * w),
         (normal(3, 4), normal(3, 4))),
]


# (functions an older SciPy lacks are not registered)
SPECS = [s for s in SPECS if all(p in core.REGISTRY for p in s.prims)]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_scipy_special(spec):
    check_spec(spec)


# ------------------------------------------------------------ values and dtypes

_UNARY = [("expit", normal), ("log_expit", normal), ("erf", normal), ("erfcx", normal),
          ("gammaln", lambda n: pos(n, hi=5.0)), ("digamma", lambda n: pos(n, hi=5.0)),
          ("ndtr", normal), ("log_ndtr", normal), ("i0", normal), ("i1e", normal),
          ("j1", normal), ("k1", pos), ("entr", pos), ("wrightomega", normal),
          ("cotdg", lambda n: pos(n) * 30)]


def _summed(fn):
    def f(x):
        return np.sum(fn(x))
    return f


_UNARY = [u for u in _UNARY if hasattr(sc, u[0])]


@pytest.mark.parametrize("name, draw", _UNARY, ids=[u[0] for u in _UNARY])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_values_and_dtypes_match_scipy(name, draw, dtype):
    fn = getattr(sc, name)
    x = draw(5).astype(dtype)
    v, g = s2sgrad.value_and_grad(_summed(fn))(x)
    assert v == np.sum(fn(x)) and v.dtype == np.sum(fn(x)).dtype
    assert g.dtype == dtype


def _reductions(a, b):
    return (sc.logsumexp(a, axis=1), sc.logsumexp(a, axis=0, b=b, keepdims=True),
            sc.softmax(a, axis=1), sc.log_softmax(a), sc.logsumexp(a, b=b, return_sign=True)[1],
            sc.polygamma(3, b), sc.multigammaln(b + 3.0, 4), sc.zeta(2.5, b), sc.zeta(3.0))


def test_reduction_values_match_scipy():
    a, b = normal(3, 4), pos(4)
    out, _ = s2sgrad.vjp(_reductions, wrt=(0, 1))(a, b)
    for got, want in zip(out, _reductions(a, b)):
        np.testing.assert_array_equal(got, want)
        assert np.shape(got) == np.shape(want)


# ------------------------------------------------------------ conventions


def _xlogy_sum(x, y):
    return np.sum(sc.xlogy(x, y))


def test_xlogy_at_x_zero():
    with np.errstate(divide="ignore"):
        gx, gy = s2sgrad.grad(_xlogy_sum, wrt=(0, 1))(np.array([0.0, 0.0, 2.0]),
                                                       np.array([0.0, 3.0, 0.5]))
        np.testing.assert_array_equal(gx, [-np.inf, np.log(3.0), np.log(0.5)])
    np.testing.assert_array_equal(gy, [0.0, 0.0, 4.0])


def _xlog1py_sum(x, y):
    return np.sum(sc.xlog1py(x, y) + sc.rel_entr(x, y + 1.0) + sc.kl_div(x, y + 1.0))


def test_entropies_at_x_zero():
    gy = s2sgrad.grad(_xlog1py_sum, wrt=1)(np.array([0.0, 0.0]), np.array([-1.0, 2.0]))
    # xlog1py and rel_entr: 0; kl_div(0, y) = y: 1
    np.testing.assert_array_equal(gy, [1.0, 1.0])


def _entr_sum(x):
    return np.sum(sc.entr(x))


def test_entr_at_zero_is_inf():
    with np.errstate(divide="ignore"):
        g = s2sgrad.grad(_entr_sum)(np.array([0.0, np.e]))
    assert np.isposinf(g[0]) and g[1] == -2.0


def _bessel1(x):
    return sc.i1(x) + sc.j1(x)


def test_bessel_derivatives_at_zero():
    assert s2sgrad.grad(_bessel1)(0.0) == 1.0          # i1'(0) = j1'(0) = 1/2
    # the Taylor form makes the higher derivatives exact at 0: i1''' = 3/8, j1''' = -3/8
    d3 = s2sgrad.grad(s2sgrad.grad(s2sgrad.grad(_i1)))(0.0)
    np.testing.assert_allclose(d3, 3.0 / 8.0, rtol=1e-12)
    # and continuous across the switch
    g = s2sgrad.grad(_i1)
    np.testing.assert_allclose(g(1e-4 - 1e-13), g(1e-4 + 1e-13), rtol=1e-12)


def _i1(x):
    return sc.i1(x)


def _digamma(x):
    return sc.digamma(x)


def test_higher_order_emits_polygamma():
    x = 1.7
    d = s2sgrad.grad
    np.testing.assert_allclose(d(_digamma)(x), sc.polygamma(1, x), rtol=1e-14)
    np.testing.assert_allclose(d(d(_digamma))(x), sc.polygamma(2, x), rtol=1e-14)
    np.testing.assert_allclose(d(d(d(_digamma)))(x), sc.polygamma(3, x), rtol=1e-14)
    assert "polygamma(2, x)" in d(d(_digamma)).source


def _lse_loss(a):
    return sc.logsumexp(a)


def test_logsumexp_hessian_is_softmax_jacobian():
    a = normal(4)
    s = sc.softmax(a)
    np.testing.assert_allclose(s2sgrad.hessian(_lse_loss)(a), np.diag(s) - np.outer(s, s),
                               atol=1e-14)


def _lse_masked(a):
    return np.sum(sc.logsumexp(a, axis=1))


def test_logsumexp_with_minus_inf_entries():
    a = np.array([[-np.inf, 0.0, 1.0], [-np.inf, -np.inf, -np.inf]])
    v, g = s2sgrad.value_and_grad(_lse_masked)(a)
    assert v == -np.inf
    np.testing.assert_allclose(g[0], [0.0, *sc.softmax([0.0, 1.0])])
    np.testing.assert_array_equal(g[1], [0.0, 0.0, 0.0])


def _polygamma_in_n(n, x):
    return sc.polygamma(n, x)


def _riemann(x):
    return sc.zeta(x)


def test_data_arguments_are_refused_when_differentiated():
    with pytest.raises(s2sgrad.S2SGradError, match="'n' argument"):
        s2sgrad.grad(_polygamma_in_n, wrt=0)(1.0, 2.0)
    with pytest.raises(s2sgrad.S2SGradError, match="zeta"):
        s2sgrad.grad(_riemann)(3.0)


def _mathieu(x):        # (struve, supported since session 21, was the example)
    return np.sum(sc.mathieu_a(1.0, x))


def test_unsupported_scipy_function_is_named():
    with pytest.raises(s2sgrad.S2SGradError, match="'scipy.special.mathieu_a' has no derivative"):
        s2sgrad.grad(_mathieu)(pos(3))


_SCIPY_USER = """
import numpy as np
import s2sgrad
from scipy.special import gammaln


def loss(x):
    return np.sum(gammaln(x))


g = s2sgrad.grad(loss)(np.array([1.5, 2.5]))
from scipy.special import digamma
assert np.allclose(g, digamma([1.5, 2.5])), g
assert "scipy.special.digamma" in s2sgrad.grad(loss).source
"""


def test_scipy_rules_load_when_a_program_uses_scipy(tmp_path):
    # a fresh process: the rules are not loaded until the program's SciPy call
    script = tmp_path / "user_loss.py"
    script.write_text(_SCIPY_USER)
    root = os.path.dirname(os.path.dirname(s2sgrad.__file__))
    env = dict(os.environ, PYTHONPATH=root)
    subprocess.run([sys.executable, str(script)], check=True, env=env, cwd=str(tmp_path))


def test_import_s2sgrad_does_not_import_scipy():
    code = ("import sys, numpy as np, s2sgrad\n"
            "def f(x):\n    return np.sum(np.sin(x))\n"
            "assert 'scipy' not in sys.modules, 'import'\n"
            "from s2sgrad.primitives import core\n"
            "assert core.lookup_object(np.exp) is not None\n"
            "assert core.lookup_object(f) is None\n"
            "assert 'scipy' not in sys.modules, 'lookup'\n"
            "import scipy.special\n"
            "assert core.lookup_object(scipy.special.erf) is not None\n"
            "assert 'scipy.stats' not in sys.modules\n")
    root = os.path.dirname(os.path.dirname(s2sgrad.__file__))
    env = dict(os.environ, PYTHONPATH=root)
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=root)
