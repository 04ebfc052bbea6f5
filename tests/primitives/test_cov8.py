"""Session 21 (cov8): what the wider probes (tools/probe_table.py) found
refused though the derivative is well-defined, and one silently wrong
derivative.

* wrong: np.linalg.svd(full_matrices=True) and np.linalg.qr(mode='complete')
  gave the columns past min(m, n) (a null space) derivative 0.  Now exact
  for a one-dimensional complement; a larger complement (LAPACK's basis) is
  refused in reverse mode and NaN in forward mode.
* added: scipy.special gammainc/gammaincc/betainc/betaincc and the inverses
  in their parameters (quadrature helpers); fresnel, sici, shichi, wofz,
  struve, modstruve, bdtr(c), gdtr(c), smirnov(i), kolmogorov, kolmogi,
  stdtrit; scipy.stats t.ppf/isf, gamma.ppf/isf, gamma.cdf/beta.cdf in the
  shapes, trim_mean, pearsonr; scipy.linalg eigh/eigvalsh(a, b), rq, orth,
  null_space; scipy.integrate.simpson; np.choose, sort_complex,
  histogram_bin_edges, histogram2d, trim_zeros, poly, roots, interp's
  computed left/right; x.item(), x.compress(), x.itemsize, x.nbytes,
  math.fsum and math.isfinite/isnan/isinf/isclose.

Every spec is checked by the shared harness (central finite differences in
float64, float32 dtypes and shapes; forward mode and the dot-product
identity in test_jvp_identity.py); here also both modes, Hessian-vector
products, values against NumPy/SciPy, repeated calls, and what finite
differences of a spec cannot see (the complex convention, refusals).
"""
import math

import numpy as np
import pytest

sl = pytest.importorskip("scipy.linalg")
sc = pytest.importorskip("scipy.special")
st = pytest.importorskip("scipy.stats")
si = pytest.importorskip("scipy.integrate")

nd = pytest.importorskip("scipy.ndimage")

import s2sgrad  # noqa: E402
import s2sgrad.runtime as rt  # noqa: E402
from s2sgrad.primitives import core  # noqa: E402

from numpy.lib.stride_tricks import sliding_window_view as swv  # noqa: E402

from .spec import Spec, check_spec  # noqa: E402
from .test_runtime_prims import check_hvp  # noqa: E402

core.load_optional_rules()

# This module's inputs come from its own generator: drawing from spec.RNG at
# import would shift the inputs of every spec module collected after it
# (test_decompositions' eig-V-complex then lands where LAPACK's eigenvector
# normalisation switches components, a kink finite differences cannot cross).
RNG = np.random.default_rng(2108)


def normal(*shape):
    return RNG.standard_normal(shape)


def pos(*shape, lo=0.5, hi=2.0):
    return RNG.uniform(lo, hi, size=shape)


def unit(*shape):
    return RNG.uniform(-0.9, 0.9, size=shape)


def distinct(*shape):
    n = int(np.prod(shape)) if shape else 1
    return (RNG.permutation(n).astype(float) + RNG.uniform(0.1, 0.4, n)).reshape(shape)


def spd(n):
    m = normal(n, n)
    return m @ m.T + n * np.eye(n)


W3 = normal(3, 3)
W4 = normal(4)
W34 = normal(3, 4)
P34 = pos(3, 4)
Q34 = pos(3, 4)
G34 = RNG.uniform(0.15, 0.85, (3, 4))
D34 = distinct(3, 4)

# ---------------------------------------------------------------- scipy.special


def _gammainc_params(a, x):
    # a broadcast against x, a Python-scalar a, x used twice
    return np.sum(np.sin(sc.gammainc(a, x)) + sc.gammaincc(a[:1], x) ** 2
                  + sc.gammainc(2.5, x) * x)


def _betainc_params(a, b, x):
    return np.sum(np.sin(sc.betainc(a, b, x)) + sc.betaincc(a, 2.0, x) * x
                  + sc.betainc(1.5, b[0], x) ** 2)


def _inverse_params(a, b, y):
    return np.sum(sc.gammaincinv(a, y) + sc.gammainccinv(a, y) ** 2
                  + np.sin(sc.betaincinv(a, b, y)))


def _stats_shapes(a, b, g):
    return np.sum(st.gamma.cdf(a, b) + st.gamma.sf(a, b, loc=0.1)
                  + np.sin(st.beta.cdf(g, a, b)) + st.beta.sf(g, a, 2.0))


def _discrete_data(p):
    # binom/nbinom/gennorm keep their parameters as data (the _x variants)
    k = np.array([1.0, 2.0, 4.0, 3.0])
    return np.sum(st.binom.cdf(k, 6, p) + st.nbinom.sf(k, 3.0, p) + st.binom.sf(k, 5, p)
                  + st.nbinom.cdf(k, 2.0, p) + st.gennorm.cdf(p * 3.0 - 1.5, 1.5))


def _two_results(x, p):
    S, C = sc.fresnel(x)
    si_, ci = sc.sici(p)
    shi, chi = sc.shichi(p)
    return np.sum(S * C + np.sin(S) + si_ * ci + shi * chi + sc.fresnel(x)[1])


def _sinc_at_zero(x):
    # Si'(0) = 1 and Shi'(0) = 1 (the limits of sin(x)/x, sinh(x)/x)
    return np.sum(sc.sici(x)[0] + sc.shichi(x)[0] * 2.0)


def _wofz(z):
    w = sc.wofz(z)
    return np.sum(np.real(w) * np.imag(w) + np.abs(w) ** 2)


def _struve(p):
    return np.sum(sc.struve(1, p) + sc.modstruve(0.5, p) + sc.struve(0, p) ** 2
                  + sc.modstruve(2, p * 0.5))


def _cdfs(g, p):
    return np.sum(sc.bdtr(2, 5, g) * sc.bdtrc(np.array([1, 2, 3, 6]), 6, g)
                  + sc.gdtr(p, 2.0, g * 3.0) + sc.gdtrc(1.5, p, g) + sc.gdtr(p, p, p))


def _kolmogorov(g):
    return np.sum(sc.smirnov(3, g) + sc.smirnovi(4, g) + sc.kolmogorov(g + 0.5)
                  + sc.kolmogi(g))


def _t_gamma_quantiles(g, p):
    return np.sum(st.t.ppf(g, 3.0) + st.t.isf(g, 2.5, loc=1.0, scale=2.0)
                  + st.gamma.ppf(g, p) + st.gamma.isf(g, p) + sc.stdtrit(4.0, g))


def _t_quantiles(g):
    return np.sum(st.t.ppf(g, 3.0) * g + st.t.isf(g, 2.5) + sc.stdtrit(4.0, g) ** 2)


def _trim_pearson(d, v, w):
    r, p = st.pearsonr(v, w)
    return (np.sum(np.sin(st.trim_mean(d, 0.25, axis=1))) + st.trim_mean(d, 0.1, axis=None)
            + np.sin(r) + p + st.pearsonr(v, w)[0])


# ---------------------------------------------------------------- linear algebra


def _eigh_general(a, b):
    w, V = sl.eigh(a, b)
    return (np.sum(w ** 2) + np.sum(np.abs(V) * W3)
            + np.sum(sl.eigh(a, b, eigvals_only=True, lower=False) * np.arange(1.0, 4.0))
            + np.sum(sl.eigvalsh(a, b) ** 2) + np.sum(sl.eigh(a)[0]))


def _rq(a, b):
    R, Q = sl.rq(a)
    R2, Q2 = sl.rq(b, mode="economic")
    return np.sum(np.sin(R)) + np.sum(Q * W3) + np.sum(R2 ** 2) + np.sum(Q2 * W34) \
        + np.sum(sl.rq(b, mode="r"))


def _null_orth(a):
    return np.sum(np.abs(sl.null_space(a))) + np.sum(np.abs(sl.orth(a)) * W3)


def _full_factors(a, t):
    u, s, vh = np.linalg.svd(a, full_matrices=True)        # 3 x 4: one null vector
    q, r = np.linalg.qr(t, mode="complete")                 # 4 x 3: one complement column
    return (np.sum(np.abs(vh[3:])) + np.sum(u * W3) + np.sum(vh[:3] * W34)
            + np.sum(np.abs(q[:, 3])) + np.sum(q[:, :3] * W34.T) + np.sum(np.sin(r)))


# ---------------------------------------------------------------- NumPy and Python


def _item(x):
    return np.sum(x * x[0, 0].item()) + x.item(5) * 2.0 + x[1].item(2) \
        + np.sum(x.compress([True, False, True], axis=0)) + np.sum(x * (x.itemsize / 8.0)) \
        + x.nbytes / 96.0


def _choose(x, y):
    idx = np.array([[0, 1, 0, 1]] * 3)
    return np.sum(np.sin(np.choose(idx, [x, y]))) + np.sum(np.choose(np.array([0, 1, 2, 3]),
                                                                     [x, y, 1.0], mode="clip")) \
        + np.sum(np.choose(np.array([0, 4, 1, 2]), [x, y[0]], mode="wrap"))


def _sort_complex(d, x):
    return np.sum(np.real(np.sort_complex(d[0] + 1j * x[0])) * W4) \
        + np.sum(np.imag(np.sort_complex(d[1] + 1j * x[1])) * W4) \
        + np.sum(np.real(np.sort_complex(d)) * W34)


def _histograms(v, w):
    H, xe, ye = np.histogram2d(v, w, bins=2)
    return (np.sum(H * 1.0) + np.sum(np.sin(xe)) + np.sum(ye ** 2)
            + np.sum(np.sin(np.histogram_bin_edges(v, bins=3))))


def _trim_zeros(v):
    return np.sum(np.trim_zeros(np.array([0.0, 1.0, 2.0, 0.0])) * v[:2]) \
        + np.sum(np.trim_zeros(v * np.array([0.0, 1.0, 1.0, 0.0]), "b") ** 2)


def _poly_roots(v, x):
    return (np.sum(np.sin(np.poly(v)))
            + np.sum(np.real(np.roots(np.array([1.0, x[0, 0] - 3.0, 2.0, x[0, 1]]))) ** 2)
            + np.sum(np.abs(np.roots(x[1]))))


def _simpson_interp(x, u, w):
    return (np.sum(np.sin(si.simpson(x, axis=0)))
            + np.sum(si.simpson(x, x=np.array([0.0, 0.5, 1.5, 2.0])) ** 2)
            + np.sum(si.simpson(x, dx=0.3))
            + np.sum(np.sin(np.interp(u * 2.0, np.linspace(-1.0, 1.0, 4), w, left=w[1],
                                      right=w[0] * 2.0))))


def _math(x):
    scale = (2.0 if math.isclose(x[0, 0], x[0, 0]) else 1.0) * \
        (2.0 if math.isfinite(x[0, 0]) else 1.0) * \
        (3.0 if math.isnan(x[0, 1]) or math.isinf(x[0, 1]) else 1.0)
    return np.sum(math.fsum([x[0, 0], x[1, 1], 2.0 * x[0, 0]]) * x) * scale


# ---------------------------------------------------------------- widened probes (scipy.special)


def _orthopoly(u, x):
    # degree 0 included (derivative 0), a Python-scalar parameter, u used twice
    return np.sum(sc.eval_legendre(3, u) + sc.eval_chebyt(3, u) * u + sc.eval_chebyu(4, u)
                  + sc.eval_gegenbauer(3, 0.7, u) + sc.eval_jacobi(2, 0.5, 1.5, u)
                  + sc.eval_sh_legendre(2, (u + 1.0) / 2.0) + sc.eval_legendre(0, u)
                  + sc.eval_hermite(3, x) + sc.eval_hermitenorm(3, x) + sc.eval_hermite(0, x)
                  + sc.eval_laguerre(2, x) + sc.eval_genlaguerre(2, 0.5, x)
                  + sc.eval_legendre(np.array([1, 2, 3, 4]), u))


def _bessel_more(p, x):
    return np.sum(sc.exprel(x) + sc.exprel(x * 1e-4) + sc.kn(1, p)
                  + sc.kn(np.array([0, 1, 2, 3]), p)
                  + np.real(sc.lambertw(p)) + np.imag(sc.lambertw(x - 0.5))
                  + np.real(sc.hankel1(1.0, p)) * np.imag(sc.hankel2(0.5, p))
                  + sc.spherical_jn(2, p) + sc.spherical_yn(1, p) + sc.spherical_in(1, p)
                  + sc.spherical_kn(1, p) + sc.spherical_jn(1, p, derivative=True)
                  + sc.spherical_yn(2, p, True) + sc.spherical_in(0, p, derivative=True)
                  + sc.spherical_kn(2, p, derivative=True))


def _elliptic(u, g, x):
    sn, cn, dn, ph = sc.ellipj(x, 0.6)
    return np.sum(sc.ellipkinc(u, g) + sc.ellipeinc(u, g) * u + sc.ellipkm1(g)
                  + sc.ellipkinc(u, 0.0) + sc.ellipeinc(u, 0.0)
                  + sn * cn + dn + ph + sc.airy(x)[0] + sc.airy(x)[1] * sc.airy(x)[2]
                  + sc.airy(x)[3] * 0.1)


def _distributions(p, q, g):
    return np.sum(sc.voigt_profile(p - 1.0, q, p) + sc.voigt_profile(0.3, p, 0.5)
                  + sc.fdtr(p * 2.0, q * 3.0, g * 4.0) + sc.fdtrc(2.0, 3.0, p)
                  + sc.nbdtr(2, 3, g) + sc.nbdtrc(np.array([1, 2, 3, 4]), 3, g)
                  + sc.pdtri(2, g) + sc.chdtri(3.0, g))


def _windows_dists(v, x, p):
    return (np.sum(np.sin(swv(v, 2)) * np.arange(8.0).reshape(4, 2)) + np.sum(swv(x, (2, 3)) ** 2)
            + np.sum(np.sin(swv(x, 2, axis=1))) + np.sum(swv(x, 3, axis=-1) ** 3)
            + np.sum(st.f.logpdf(p, 3.0, 4.5) + st.f.pdf(p, p[0], 2.0) + st.f.cdf(p, 2.5, p)
                     + st.f.sf(p, 3.0, 4.0, loc=0.1)
                     + st.skewnorm.logpdf(x, 2.0) + st.skewnorm.pdf(x, p[0, 0], loc=0.5)
                     + st.skewnorm.logpdf(x, 0.0)))


def _map_coordinates(x, g, c):
    return (np.sum(np.sin(nd.map_coordinates(x, [g[0] * 2.0, g[1] * 3.0], order=1)))
            + np.sum(nd.map_coordinates(x, c, order=1, mode="nearest") ** 2)
            + np.sum(nd.map_coordinates(x, c * 1.3 - 0.2, order=1))
            + np.sum(nd.map_coordinates(x, c, order=1, mode="grid-constant", cval=0.5)))


SPECS = [
    Spec(("gammainc", "gammaincc", "gammainc_da", "scipy.special.gammainc",
          "scipy.special.gammaincc"), _gammainc_params, (P34, Q34), wrt=(0, 1),
         id="gammainc-in-a"),
    Spec(("betainc", "betaincc", "betainc_da", "betainc_db", "scipy.special.betainc",
          "scipy.special.betaincc"), _betainc_params, (P34, Q34, G34), wrt=(0, 1, 2),
         id="betainc-in-a-b"),
    Spec(("gammaincinv", "gammainccinv", "betaincinv"), _inverse_params, (P34, Q34, G34),
         wrt=(0, 1, 2), id="inverses-in-parameters"),
    Spec(("scipy.stats.gamma.cdf", "scipy.stats.gamma.sf", "scipy.stats.beta.cdf",
          "scipy.stats.beta.sf"), _stats_shapes, (P34, Q34, G34), wrt=(0, 1, 2),
         id="gamma-beta-shapes"),
    Spec(("betainc_x", "betaincc_x", "gammainc_x", "gammaincc_x"), _discrete_data,
         (RNG.uniform(0.2, 0.8, 4),), id="discrete-parameters-data"),
    Spec(("fresnel", "sici", "shichi"), _two_results, (normal(3, 4), P34), wrt=(0, 1)),
    Spec(("sici", "shichi"), _sinc_at_zero, (np.array([0.0, 0.5, -1.0]),), id="sinc-at-0"),
    Spec("wofz", _wofz, (normal(3, 4) + 1j * pos(3, 4),)),
    Spec(("struve", "modstruve", "scipy.special.struve", "scipy.special.modstruve"), _struve,
         (P34,)),
    Spec(("bdtr", "bdtrc", "gdtr", "gdtrc", "scipy.special.bdtr", "scipy.special.bdtrc",
          "scipy.special.gdtr", "scipy.special.gdtrc"), _cdfs, (G34, P34), wrt=(0, 1),
         id="bdtr-gdtr"),
    Spec(("smirnov", "smirnovi", "kolmogorov", "kolmogi", "scipy.special.smirnov",
          "scipy.special.smirnovi"), _kolmogorov, (G34,)),
    Spec(("stdtrit", "scipy.special.stdtrit", "scipy.stats.t.ppf", "scipy.stats.t.isf",
          "scipy.stats.gamma.ppf", "scipy.stats.gamma.isf"), _t_gamma_quantiles, (G34, P34),
         wrt=(0, 1), id="quantiles"),
    Spec(("stdtrit", "scipy.stats.t.ppf", "scipy.stats.t.isf"), _t_quantiles, (G34,),
         id="t-quantiles"),
    Spec(("scipy.stats.trim_mean", "scipy.stats.pearsonr", "require_vector"), _trim_pearson,
         (D34, normal(6), normal(6)), wrt=(0, 1, 2), id="trim-mean-pearsonr"),
    Spec(("scipy_eigh_gen", "scipy_eigh_public", "scipy_eigvalsh_public"), _eigh_general,
         (normal(3, 3), spd(3)), wrt=(0, 1), float32=False, id="eigh-generalized"),
    Spec("scipy_rq", _rq, (normal(3, 3), normal(3, 4)), wrt=(0, 1), float32=False),
    Spec(("scipy_null_space", "scipy_orth"), _null_orth, (normal(3, 4),), float32=False),
    Spec(("complement_guard", "complement_nan", "svd", "qr"), _full_factors,
         (normal(3, 4), normal(4, 3)), wrt=(0, 1), float32=False, id="full-factor-complement"),
    Spec(("item", "item_ct"), _item, (normal(3, 4),)),
    Spec("choose", _choose, (normal(3, 4), normal(3, 4)), wrt=(0, 1)),
    Spec("sort_complex", _sort_complex, (D34, normal(3, 4)), wrt=(0, 1)),
    Spec(("histogram2d", "histogram_bin_edges"), _histograms, (normal(5), normal(5)),
         wrt=(0, 1), id="histograms"),
    Spec("trim_zeros", _trim_zeros, (normal(4),)),
    Spec(("poly", "roots"), _poly_roots, (normal(4), normal(3, 4)), wrt=(0, 1),
         float32=False, id="poly-roots"),
    Spec(("simpson", "simpson_ct", "interp"), _simpson_interp, (normal(3, 4), unit(3, 4),
                                                               normal(4)),
         wrt=(0, 1, 2), id="simpson-interp-left-right"),
    Spec("math_fsum", _math, (normal(3, 4),), id="math-fsum-predicates"),
    Spec(("eval_legendre", "eval_chebyt", "eval_chebyu", "eval_gegenbauer", "eval_jacobi",
          "eval_sh_legendre", "eval_hermite", "eval_hermitenorm", "eval_laguerre",
          "eval_genlaguerre", "scipy.special.eval_legendre", "scipy.special.eval_chebyt",
          "scipy.special.eval_chebyu", "scipy.special.eval_gegenbauer",
          "scipy.special.eval_jacobi", "scipy.special.eval_sh_legendre",
          "scipy.special.eval_hermite", "scipy.special.eval_hermitenorm",
          "scipy.special.eval_laguerre", "scipy.special.eval_genlaguerre"), _orthopoly,
         (unit(3, 4), normal(3, 4)), wrt=(0, 1), id="orthogonal-polynomials"),
    Spec(("exprel", "kn", "lambertw", "hankel1", "hankel2", "spherical_jn", "spherical_yn",
          "spherical_in", "spherical_kn", "spherical_jn_d", "spherical_yn_d", "spherical_in_d",
          "spherical_kn_d", "scipy.special.kn", "scipy.special.lambertw",
          "scipy.special.hankel1", "scipy.special.hankel2", "scipy.special.spherical_jn",
          "scipy.special.spherical_yn", "scipy.special.spherical_in",
          "scipy.special.spherical_kn"), _bessel_more, (P34, normal(3, 4)), wrt=(0, 1),
         id="bessel-lambertw-exprel"),
    Spec(("ellipkinc", "ellipeinc", "ellipkm1", "ellipj_u", "scipy.special.ellipj", "airy"),
         _elliptic, (unit(3, 4), G34, normal(3, 4)), wrt=(0, 1, 2), id="elliptic-airy"),
    Spec(("voigt_profile", "fdtr", "fdtrc", "nbdtr", "nbdtrc", "pdtri", "chdtri",
          "scipy.special.fdtr", "scipy.special.fdtrc", "scipy.special.nbdtr",
          "scipy.special.nbdtrc", "scipy.special.pdtri", "scipy.special.chdtri"),
         _distributions, (P34, Q34, G34), wrt=(0, 1, 2), id="voigt-fdtr-inverses"),
    Spec(("sliding_window_view", "scipy.stats.f.logpdf", "scipy.stats.f.pdf",
          "scipy.stats.f.cdf", "scipy.stats.f.sf", "scipy.stats.skewnorm.logpdf",
          "scipy.stats.skewnorm.pdf"), _windows_dists, (normal(5), normal(3, 4), P34),
         wrt=(0, 1, 2), id="sliding-window-f-skewnorm"),
    Spec(("map_coordinates",), _map_coordinates,
         (normal(3, 4), G34, RNG.uniform(-0.5, 3.5, (2, 7))), wrt=(0, 1, 2),
         id="map-coordinates-linear"),
]

# second derivatives that are refused on purpose: in gammainc's/betainc's
# parameters (the quadrature helpers' parameters are data), poly/roots (their
# Jacobians are runtime helpers), smirnov/kolmogorov (SciPy's derivative ufuncs)
_NO_HVP = {"gammainc-in-a", "betainc-in-a-b", "inverses-in-parameters", "gamma-beta-shapes",
           "poly-roots", "quantiles", "smirnov-smirnovi-kolmogorov-kolmogi-scipy.special.smirnov-"
           "scipy.special.smirnovi", "bdtr-gdtr", "math-fsum-predicates",
           "voigt-fdtr-inverses", "sliding-window-f-skewnorm", "map-coordinates-linear"}


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_spec(spec):
    check_spec(spec)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_spec_both_modes(spec):
    s2sgrad.check_grads(spec.fn, spec.args, wrt=spec.wrt, modes=("rev", "fwd"))


@pytest.mark.parametrize("spec", [s for s in SPECS if s.id not in _NO_HVP], ids=lambda s: s.id)
def test_hvp(spec):
    check_hvp(spec)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_value_is_numpys(spec):
    value, _ = s2sgrad.vjp(spec.fn, wrt=spec.wrt)(*spec.args)
    np.testing.assert_allclose(value, spec.fn(*spec.args), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_repeated_calls_agree(spec):
    g = s2sgrad.grad(spec.fn, wrt=spec.wrt)
    a = g(*spec.args)
    b = g(*spec.args)
    for u, v in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)):
        np.testing.assert_array_equal(u, v)


# ---------------------------------------------------------------- the quadrature helpers


@pytest.mark.parametrize("a, x", [(0.05, 1e-5), (0.3, 80.0), (1.0, 3.0), (2.5, 0.2),
                                  (60.0, 50.0), (150.0, 140.0), (1000.0, 1000.0)])
def test_gammainc_da_against_mpmath(a, x):
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 40
    # d/da of the upper or the lower tail, whichever is small (no cancellation)
    if sc.gammainc(a, x) <= 0.5:
        want = float(mp.diff(lambda s: mp.gammainc(s, 0, x, regularized=True), a))
    else:
        want = -float(mp.diff(lambda s: mp.gammainc(s, x, mp.inf, regularized=True), a))
    got = float(rt.gammainc_da(a, x))
    assert abs(got - want) <= 1e-9 * abs(want) + 1e-300, (got, want)


@pytest.mark.parametrize("a, b, x", [(0.1, 0.2, 0.001), (0.7, 3.5, 0.5), (2.0, 1.0, 0.9),
                                     (9.0, 20.0, 0.1), (0.5, 0.5, 0.999)])
def test_betainc_da_db_against_mpmath(a, b, x):
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 40

    def f(s, t):
        return mp.betainc(s, t, 0, x, regularized=True)
    want_a = float(mp.diff(lambda s: f(s, b), a))
    want_b = float(mp.diff(lambda t: f(a, t), b))
    assert abs(float(rt.betainc_da(a, b, x)) - want_a) <= 1e-9 * abs(want_a) + 1e-30
    assert abs(float(rt.betainc_db(a, b, x)) - want_b) <= 1e-9 * abs(want_b) + 1e-30


def test_parameter_derivative_edges_and_dtype():
    assert rt.gammainc_da(2.0, 0.0) == 0.0 and rt.gammainc_da(2.0, np.inf) == 0.0
    assert np.isnan(rt.gammainc_da(-1.0, 2.0)) and np.isnan(rt.gammainc_da(2.0, -1.0))
    assert rt.betainc_da(2.0, 3.0, 0.0) == 0.0 and rt.betainc_db(2.0, 3.0, 1.0) == 0.0
    assert np.isnan(rt.betainc_da(2.0, 3.0, 1.5))
    out = rt.gammainc_da(np.float32(2.0), np.array([1.0, 2.0], np.float32))
    assert out.dtype == np.float32 and out.shape == (2,)


def test_gammainc_da_x_rule_by_nested_grad():
    """The helper's derivative in x (used by second derivatives: d/dx of
    dP/da) against central differences of the first derivative."""
    a0, x0 = np.array([1.3, 2.7]), np.array([0.8, 3.1])

    def da(x):
        return np.sum(s2sgrad.grad(lambda a: np.sum(sc.gammainc(a, x)))(a0))

    def db(x):
        return np.sum(s2sgrad.grad(lambda b: np.sum(sc.betainc(1.5, b, x)))(a0))
    for f, x in ((da, x0), (db, np.array([0.3, 0.6]))):
        g = s2sgrad.grad(f)(x)
        fd = np.array([(f(x + e) - f(x - e)) / 2e-6 for e in np.eye(2) * 1e-6])
        np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-8)


def test_second_derivative_in_a_is_refused():
    def f(a):
        return np.sum(s2sgrad.grad(lambda s: np.sum(sc.gammainc(s, 2.0)))(a))
    with pytest.raises(s2sgrad.S2SGradError, match="gammainc_da"):
        s2sgrad.grad(f)(np.array([1.5, 2.5]))


# ---------------------------------------------------------------- complex: JAX's convention


def test_wofz_gradient_is_the_conjugate_convention():
    """For a real loss L(z) the gradient is dL/dx - i dL/dy (JAX's and
    autograd's convention: complex.py), checked against central differences
    in the real and the imaginary direction separately."""
    z = np.array([0.3 + 0.7j, -1.1 + 0.4j, 2.0 + 1.5j])

    def loss(z):
        return np.sum(np.abs(sc.wofz(z)) ** 2)
    g = s2sgrad.grad(loss)(z)
    e = 1e-6
    dx = np.array([(loss(z + e * u) - loss(z - e * u)) / (2 * e) for u in np.eye(3)])
    dy = np.array([(loss(z + 1j * e * u) - loss(z - 1j * e * u)) / (2 * e) for u in np.eye(3)])
    np.testing.assert_allclose(g, dx - 1j * dy, rtol=1e-6, atol=1e-9)


def test_wofz_holomorphic_jvp():
    """The tangent of the holomorphic wofz is w'(z) dz = (-2 z w + 2i/sqrt(pi)) dz."""
    z = np.array([0.3 + 0.7j, -1.1 + 0.4j])
    dz = np.array([0.5 - 0.2j, 1.0 + 1.0j])
    _, t = s2sgrad.jvp(lambda z: sc.wofz(z))((z,), (dz,))
    want = (-2 * z * sc.wofz(z) + 2j / np.sqrt(np.pi)) * dz
    np.testing.assert_allclose(t, want, rtol=1e-12)


# ---------------------------------------------------------------- full SVD / complete QR


def _svd_complement_2(a):
    u, s, vh = np.linalg.svd(a, full_matrices=True)       # 2 x 4: two null vectors
    return np.sum(np.sin(vh[2:]))


def _qr_complement_2(a):
    q, r = np.linalg.qr(a, mode="complete")                 # 4 x 2: two complement columns
    return np.sum(np.sin(q))


@pytest.mark.parametrize("fn", [_svd_complement_2, _qr_complement_2])
def test_a_larger_complement_is_refused(fn):
    a = normal(2, 4) if fn is _svd_complement_2 else normal(4, 2)
    with pytest.raises(Exception, match="arbitrary basis of the complement"):
        s2sgrad.grad(fn)(a)
    # forward mode: NaN in the complement's tangent (no derivative), not a number
    _, t = s2sgrad.jvp(fn)((a,), (np.ones_like(a),))
    assert np.isnan(t)


def test_full_svd_reconstruction_is_not_refused():
    """U @ S_full @ Vh with S zero-padded: the complement's cotangent is 0,
    so nothing is refused, and the gradient is the thin one."""
    def f(a):
        u, s, vh = np.linalg.svd(a, full_matrices=True)
        S = np.zeros((2, 4))
        S[:, :2] = np.diag(s)
        return np.sum(np.sin(u @ S @ vh))
    s2sgrad.check_grads(f, (normal(2, 4),))


def test_null_vector_complex():
    """A complex matrix's null vector, through a phase-invariant function."""
    def f(a):
        return np.sum(np.abs(sl.null_space(a)) * W4[:, None])
    s2sgrad.check_grads(f, (normal(3, 4) + 1j * normal(3, 4),))


# ---------------------------------------------------------------- refusals and conventions


def test_generalized_eigh_complex_is_refused():
    a = normal(3, 3) + 1j * normal(3, 3)
    a = a + a.conj().T
    with pytest.raises(Exception, match="real matrices only"):
        s2sgrad.grad(lambda a, b: np.sum(sl.eigh(a, b, eigvals_only=True)))(a, spd(3) + 0j)


def test_histogram2d_options_refused():
    with pytest.raises(s2sgrad.S2SGradError, match="integer bins"):
        s2sgrad.grad(lambda v: np.sum(np.histogram2d(v, v, bins=2, density=True)[0] * v[0]))(
            normal(5))


def test_bdtr_edges_follow_scipy():
    """k == n: the function is 1 (derivative 0); k > n or k < 0: NaN, as SciPy's value."""
    g = s2sgrad.grad(lambda p: np.sum(sc.bdtr(np.array([6, 7, -1]), 6, p)))(
        np.array([0.3, 0.3, 0.3]))
    assert g[0] == 0.0 and np.isnan(g[1]) and np.isnan(g[2])


def test_interp_left_right_select_numpys_values():
    u = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    xp = np.linspace(-1.0, 1.0, 4)

    def f(w):
        return np.interp(u, xp, w, left=w[1] * 3.0, right=w[2])
    w = normal(4)
    value, pull = s2sgrad.vjp(f)(w)
    np.testing.assert_array_equal(value, f(w))
    g = pull(np.ones(5))
    # u[0] < xp[0] takes left = 3 w[1]; u[4] > xp[-1] takes right = w[2]; at xp[0]
    # and xp[-1] themselves the ends of fp
    np.testing.assert_allclose(g, np.array([1.0, 3.0 + 0.5, 0.5 + 1.0, 1.0]))


def test_item_of_a_larger_array_refused_as_numpy():
    with pytest.raises(Exception):
        s2sgrad.grad(lambda x: x.item() * 2.0)(normal(3))


def test_poly_of_a_matrix_refused():
    with pytest.raises(Exception, match="1-d array of roots"):
        s2sgrad.grad(lambda a: np.sum(np.poly(a)))(normal(3, 3))


@pytest.mark.parametrize("method", ["logpdf", "pdf", "cdf", "sf"])
def test_f_and_skewnorm_values_match_scipy_at_edges(method):
    x = np.array([-1.0, 0.0, 1e-300, 0.5, 2.0, np.inf, -np.inf, np.nan])
    for dist, shapes in ((st.f, [(3.0, 4.0), (1.0, 2.0), (2.0, 0.5), (-1.0, 2.0)]),
                         (st.skewnorm, [(2.0,), (0.0,), (-3.0,), (np.inf,)])):
        if f"scipy.stats.{dist.name}.{method}" not in core.REGISTRY:
            continue                    # (skewnorm's cdf/sf: not differentiated)
        meth = getattr(dist, method)
        for sh in shapes:
            for loc, scale in [(0.0, 1.0), (0.5, 2.0), (0.0, -1.0)]:
                if len(sh) == 2:
                    def f(x, a, b, loc, scale):
                        return meth(x, a, b, loc=loc, scale=scale)
                else:
                    def f(x, a, loc, scale):
                        return meth(x, a, loc=loc, scale=scale)
                args = (x,) + sh + (loc, scale)
                with np.errstate(all="ignore"):
                    got = s2sgrad.vjp(f, wrt=0)(*args)[0]
                    want = f(*args)
                np.testing.assert_allclose(got, want, rtol=1e-12, atol=0,
                                           err_msg=f"{dist.name}.{method}{sh} {loc} {scale}")


def _mode(x):
    return np.sum(st.mode(np.round(x)).mode * x)


def _zeta_in_x(x):
    return np.sum(sc.zeta(x + 2.0, 1.5))


@pytest.mark.parametrize("fn, what", [(_mode, "repeated in the data"),
                                      (_zeta_in_x, "'x' argument of scipy.special.zeta")])
def test_kept_refusals_say_why(fn, what):
    with pytest.raises(s2sgrad.S2SGradError, match=what):
        s2sgrad.grad(fn)(normal(3, 4))


def _mc_spline(x):
    return np.sum(nd.map_coordinates(x, np.array([[0.5, 1.5], [1.0, 2.5]])))


def test_map_coordinates_spline_refused():
    with pytest.raises(s2sgrad.S2SGradError, match="order=1"):
        s2sgrad.grad(_mc_spline)(normal(3, 4))


def test_mc_grad_is_the_spatial_gradient():
    # a[i, j] = 4 i + j: the gradient is (4, 1) everywhere inside
    g = rt.mc_grad(np.arange(12.0).reshape(3, 4), np.array([[0.5, 1.2], [0.5, 2.9]]))
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g, [[4.0, 4.0], [1.0, 1.0]])
