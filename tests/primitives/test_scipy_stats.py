"""scipy.stats (s2sgrad/primitives/scipy_stats.py): specs in x, loc, scale and
shape parameters, values against SciPy on a grid that includes the support's
edges, invalid parameters, infinities and NaN, and the ways users spell calls."""
import itertools
import warnings

import numpy as np
import pytest

import s2sgrad

st = pytest.importorskip("scipy.stats")
import s2sgrad.primitives.scipy_stats  # noqa: E402,F401  (registered for test_coverage)
from s2sgrad.primitives import core  # noqa: E402

from .spec import RNG, Spec, check_spec, normal, pos  # noqa: E402


def interval(lo, hi, *shape):
    return RNG.uniform(lo, hi, size=shape)


def _loc_scale(dist, method, x, shapes=(), loc_scale=True):
    fn = getattr(getattr(st, dist), method)
    n = len(shapes)
    if n == 0:
        def f(x, loc, scale):
            return np.sum(fn(x, loc, scale))
    elif n == 1:
        def f(x, a, loc, scale):
            return np.sum(fn(x, a, loc=loc, scale=scale))
    else:
        def f(x, a, b, loc, scale):
            return np.sum(fn(x, a, b, loc, scale=scale))
    args = (x,) + tuple(shapes) + (normal(3, 1) * 0.1, pos(1, 4) + 0.5)
    return f, args


def _specs():
    out = []
    cont = {
        "norm": ((), normal(3, 4), ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")),
        "t": ((pos(4) + 2.0,), normal(3, 4), ("logpdf", "pdf")),
        "gamma": ((pos(4) + 1.5,), pos(3, 4) + 1.0, ("logpdf", "pdf")),
        "beta": ((pos(4) + 1.0, pos(4) + 1.0), interval(0.3, 0.7, 3, 4), ("logpdf", "pdf")),
        "expon": ((), pos(3, 4) + 1.0, ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")),
        "laplace": ((), normal(3, 4) + 0.1, ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")),
        "cauchy": ((), normal(3, 4) * 3, ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")),
        "logistic": ((), normal(3, 4) * 2, ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")),
        "halfnorm": ((), pos(3, 4) + 1.0, ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")),
        "lognorm": ((pos(4),), pos(3, 4) + 1.0, ("logpdf", "pdf", "cdf", "logcdf", "sf",
                                                  "logsf")),
        "pareto": ((pos(4) + 1.0,), pos(3, 4) + 3.0, ("logpdf", "pdf", "cdf", "logcdf", "sf",
                                                       "logsf")),
        "weibull_min": ((pos(4) + 0.5,), pos(3, 4) + 1.0, ("logpdf", "pdf", "cdf", "logcdf", "sf",
                                                            "logsf")),
        "chi2": ((pos(4) + 2.0,), pos(3, 4) + 1.0, ("logpdf", "pdf")),
    }
    for dist, (shapes, x, methods) in cont.items():
        for m in methods:
            f, args = _loc_scale(dist, m, x, shapes)
            out.append(Spec(f"scipy.stats.{dist}.{m}", f, args,
                            wrt=tuple(range(len(args)))))
    # distribution functions whose shape parameters are data
    for dist, shapes, x in [("t", (4.0,), normal(3, 4)), ("gamma", (2.5,), pos(3, 4)),
                            ("chi2", (3.0,), pos(3, 4) + 1.0),
                            ("beta", (2.0, 3.0), interval(0.2, 0.8, 3, 4))]:
        for m in ("cdf", "logcdf", "sf", "logsf"):
            f, args = _loc_scale(dist, m, x, shapes)
            k = len(shapes)
            out.append(Spec(f"scipy.stats.{dist}.{m}", f, args,
                            wrt=(0,) + tuple(range(1 + k, 3 + k))))
    # uniform: x well inside [loc, loc + scale]
    for m in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"):
        f, _ = _loc_scale("uniform", m, None)
        out.append(Spec(f"scipy.stats.uniform.{m}", f,
                        (interval(0.4, 1.6, 3, 4), interval(-0.2, 0.2, 3, 1),
                         interval(2.0, 2.5, 1, 4)), wrt=(0, 1, 2)))
    for dist in ("norm", "expon", "laplace", "logistic", "uniform", "halfnorm"):
        for m in ("ppf", "isf"):
            f, args = _loc_scale(dist, m, interval(0.1, 0.9, 3, 4))
            out.append(Spec(f"scipy.stats.{dist}.{m}", f, args, wrt=(0, 1, 2)))
    for dist in ("lognorm", "pareto", "weibull_min"):
        for m in ("ppf", "isf"):
            f, args = _loc_scale(dist, m, interval(0.1, 0.9, 3, 4), (pos(4) + 1.0,))
            out.append(Spec(f"scipy.stats.{dist}.{m}", f, args, wrt=(0, 1, 2, 3)))
    return out


def _poisson_logpmf(k, mu):
    return np.sum(st.poisson.logpmf(k, mu))


def _poisson_pmf(k, mu):
    return np.sum(st.poisson.pmf(k, mu) + st.poisson.pmf(k, mu=mu, loc=1.0))


def _poisson_cdfs(k, mu):
    return np.sum(st.poisson.cdf(k, mu) + st.poisson.sf(k, mu) ** 2 + st.poisson.logcdf(k, mu)
                  + st.poisson.logsf(k, mu))


def _binom_all(k, p):
    b = st.binom
    return np.sum(b.logpmf(k, 5, p) + b.pmf(k, 5.0, p) + b.cdf(k, 5, p) * 2 + b.sf(k, n=5, p=p))


def _bernoulli_all(k, p):
    b = st.bernoulli
    return np.sum(b.logpmf(k, p) + b.pmf(k, p) + b.cdf(k, p) * 2 + b.sf(k, p) ** 2)


def _geom_all(k, p):
    g = st.geom
    return np.sum(g.logpmf(k, p) + g.pmf(k, p) + g.cdf(k, p) * 2 + g.sf(k, p) ** 2
                  + g.logcdf(k, p) + g.logsf(k, p))


def _on_simplex(u):
    # finite differences must stay on the simplex (SciPy checks it)
    e = np.exp(u)
    return e / np.sum(e, axis=0)


def _dirichlet(u, alpha):
    x = _on_simplex(u)
    return st.dirichlet.logpdf(x, alpha) + st.dirichlet.pdf(x, alpha)


def _dirichlet_points(u, alpha):
    return np.sum(st.dirichlet.logpdf(_on_simplex(u), alpha))


def _mvn(x, mean, A):
    cov = A @ A.T + np.eye(3)            # symmetric: SciPy reads one triangle
    return np.sum(st.multivariate_normal.logpdf(x, mean, cov))


def _mvn_pdf(x, mean, A):
    cov = A @ A.T + np.eye(3)
    return st.multivariate_normal.pdf(x, mean=mean, cov=cov) * 10.0


def _mvn_diag(x, mean, var):
    return np.sum(st.multivariate_normal.logpdf(x, mean, var))


def _mvn_entropy(mean, A):
    cov = A @ A.T + np.eye(3)
    return st.multivariate_normal.entropy(mean, cov) + st.multivariate_normal.entropy(cov=cov * 2)


def _mvn_entropy_diag(var):
    return st.multivariate_normal.entropy(np.zeros(3), var)


def _mvn_scalar(x, var):
    return np.sum(st.multivariate_normal.logpdf(x, np.zeros(3), var))


_K = np.array([0.0, 1.0, 3.0, 2.0])
_SIMPLEX = np.array([0.2, 0.3, 0.5])
_SIMPLEX_N = np.array([[0.2, 0.1], [0.3, 0.6], [0.5, 0.3]])

SPECS = _specs() + [
    Spec("scipy.stats.poisson.logpmf", _poisson_logpmf, (_K, pos(4) + 1.0), wrt=1),
    Spec("scipy.stats.poisson.pmf", _poisson_pmf, (_K + 1.0, pos(4) + 1.0), wrt=1),
    Spec(("scipy.stats.poisson.cdf", "scipy.stats.poisson.sf", "scipy.stats.poisson.logcdf",
          "scipy.stats.poisson.logsf"), _poisson_cdfs, (_K + 0.5, pos(4) + 1.0), wrt=1),
    Spec(("scipy.stats.binom.logpmf", "scipy.stats.binom.pmf", "scipy.stats.binom.cdf",
          "scipy.stats.binom.sf"), _binom_all, (_K, interval(0.2, 0.8, 4)), wrt=1),
    Spec(("scipy.stats.bernoulli.logpmf", "scipy.stats.bernoulli.pmf",
          "scipy.stats.bernoulli.cdf", "scipy.stats.bernoulli.sf"), _bernoulli_all,
         (np.array([0.0, 1.0, 1.0, 0.0]), interval(0.2, 0.8, 4)), wrt=1),
    Spec(("scipy.stats.geom.logpmf", "scipy.stats.geom.pmf", "scipy.stats.geom.cdf",
          "scipy.stats.geom.sf", "scipy.stats.geom.logcdf", "scipy.stats.geom.logsf"),
         _geom_all, (_K + 1.0, interval(0.2, 0.8, 4)), wrt=1),
    Spec(("scipy.stats.dirichlet.logpdf", "scipy.stats.dirichlet.pdf"), _dirichlet,
         (normal(3), pos(3) + 1.0), wrt=(0, 1)),
    Spec("scipy.stats.dirichlet.logpdf", _dirichlet_points, (normal(3, 2), pos(3) + 1.0),
         wrt=(0, 1), id="dirichlet-points"),
    Spec("scipy.stats.multivariate_normal.logpdf", _mvn,
         (normal(5, 3), normal(3), normal(3, 3)), wrt=(0, 1, 2)),
    Spec("scipy.stats.multivariate_normal.pdf", _mvn_pdf, (normal(3), normal(3), normal(3, 3)),
         wrt=(0, 1, 2)),
    Spec("scipy.stats.multivariate_normal.logpdf", _mvn_diag,
         (normal(2, 4, 3), normal(3), pos(3)), wrt=(0, 1, 2), id="mvn-diagonal"),
    Spec("scipy.stats.multivariate_normal.logpdf", _mvn_scalar, (normal(4, 3), 1.7),
         wrt=(0, 1), id="mvn-scalar"),
    Spec("scipy.stats.multivariate_normal.entropy", _mvn_entropy, (normal(3), normal(3, 3)),
         wrt=(0, 1)),
    Spec("scipy.stats.multivariate_normal.entropy", _mvn_entropy_diag, (pos(3),),
         id="mvn-entropy-diagonal"),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_scipy_stats(spec):
    check_spec(spec)


# ------------------------------------------------------------ values against SciPy

_X = np.array([-3.0, -1.0, -0.0, 0.0, 0.3, 0.5, 1.0, 2.5, 40.0, np.inf, -np.inf, np.nan])
_Q = np.array([-0.1, 0.0, 0.2, 0.5, 0.9, 1.0, 1.1, np.nan])
_GRID = {"norm": [], "t": [[0.5, 3.0, -1.0]], "gamma": [[0.5, 1.0, 2.5, -1.0]],
         "beta": [[0.5, 1.0, 2.0], [1.0, 3.0, -1.0]], "expon": [], "laplace": [],
         "cauchy": [], "logistic": [], "uniform": [], "halfnorm": [],
         "lognorm": [[0.5, 1.0, -1.0]], "pareto": [[0.5, 2.0, -1.0]],
         "weibull_min": [[0.5, 1.0, 2.0, -1.0]], "chi2": [[0.5, 1.0, 3.0, -1.0]]}


def _method(dist, m, nshape):
    fn = getattr(getattr(st, dist), m)
    if nshape == 0:
        def f(x, loc, scale):
            return fn(x, loc, scale)
    elif nshape == 1:
        def f(x, a, loc, scale):
            return fn(x, a, loc, scale)
    else:
        def f(x, a, b, loc, scale):
            return fn(x, a, b, loc, scale)
    return f


_CASES = [(d, m) for d in _GRID for m in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf",
                                          "ppf", "isf")
          if f"scipy.stats.{d}.{m}" in core.REGISTRY]


@pytest.mark.parametrize("dist, method", _CASES, ids=[f"{d}.{m}" for d, m in _CASES])
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-6)])
def test_values_match_scipy_everywhere(dist, method, dtype, rtol):
    """Edges of the support, scale <= 0, bad shape parameters, +-inf, NaN:
    the same numbers (to 1e-12; float32 operands to float32 rounding) and
    dtype (float64) as SciPy."""
    shapes = _GRID[dist]
    f = _method(dist, method, len(shapes))
    fv = s2sgrad.vjp(f, wrt=0)
    x = (_Q if method in ("ppf", "isf") else _X).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for sh in itertools.product(*shapes):
            for loc, scale in [(0.0, 1.0), (0.5, 2.0), (0.0, -1.0), (0.0, 0.0)]:
                args = (x,) + tuple(dtype(s) for s in sh) + (dtype(loc), dtype(scale))
                want = f(*args)
                got = fv(*args)[0]
                np.testing.assert_allclose(got, want, rtol=rtol, atol=0,
                                           err_msg=f"{dist}.{method}{sh} loc={loc} scale={scale}")
                assert got.dtype == want.dtype


_DISCRETE = {"poisson": [[0.0, 0.7, 4.0, -1.0]],
             "binom": [[0.0, 3.0, 5.0, 2.5, -1.0], [0.0, 0.3, 1.0, 1.5]],
             "bernoulli": [[0.0, 0.3, 1.0, 1.5, -0.1]], "geom": [[0.3, 1.0, 0.0, 1.5]]}
_DCASES = [(d, m) for d in _DISCRETE for m in ("logpmf", "pmf", "cdf", "sf", "logcdf", "logsf")
           if f"scipy.stats.{d}.{m}" in core.REGISTRY]


def _discrete_method(dist, m, nshape):
    fn = getattr(getattr(st, dist), m)
    if nshape == 1:
        def f(k, a, loc):
            return fn(k, a, loc)
    else:
        def f(k, a, b, loc):
            return fn(k, a, b, loc)
    return f


@pytest.mark.parametrize("dist, method", _DCASES, ids=[f"{d}.{m}" for d, m in _DCASES])
def test_discrete_values_match_scipy(dist, method):
    """Off the integers, outside the support, bad parameters, NaN.  (Not
    k = inf with a bad parameter, where SciPy's logcdf gives 0.)"""
    k = np.array([-1.0, 0.0, 1.0, 2.5, 3.0, 5.0, 10.0, np.nan])
    grid = _DISCRETE[dist]
    f = _discrete_method(dist, method, len(grid))
    fv = s2sgrad.vjp(f, wrt=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for sh in itertools.product(*grid):
            for loc in (0.0, 1.0):
                args = (k,) + tuple(np.float64(v) for v in sh) + (np.float64(loc),)
                want = f(*args)
                got = fv(*args)[0]
                np.testing.assert_allclose(got, want, rtol=1e-12, atol=0,
                                           err_msg=f"{dist}.{method}{sh} loc={loc}")
                assert got.dtype == want.dtype


def _mvn_value(x, mean, cov):
    return st.multivariate_normal.logpdf(x, mean, cov), st.multivariate_normal.pdf(x, mean, cov)


def _mvn_nomean(x, cov):
    return st.multivariate_normal.logpdf(x, cov=cov)


@pytest.mark.parametrize("xshape, mshape, cshape", [
    ((3,), (3,), (3, 3)), ((5, 3), (3,), (3, 3)), ((1, 3), (3,), (3, 3)),
    ((2, 4, 3), (3,), (3, 3)), ((5, 3), (3,), (3,)), ((5, 3), (3,), ()),
    ((6,), (1,), (1, 1)), ((6,), (), ()), ((6, 1), (1,), (1,))])
def test_multivariate_normal_shapes_match_scipy(xshape, mshape, cshape):
    A = normal(3, 3)
    d = mshape[0] if mshape else 1
    full = (A @ A.T + np.eye(3))[:d, :d]
    cov = full if len(cshape) == 2 else (np.diag(full) if len(cshape) == 1 else 1.7)
    x, mean = normal(*xshape), normal(*mshape) if mshape else 0.3
    got, _ = s2sgrad.vjp(_mvn_value, wrt=0)(x, mean, cov)
    for g, w in zip(got, _mvn_value(x, mean, cov)):
        np.testing.assert_allclose(g, w, rtol=1e-12)
        assert np.shape(g) == np.shape(w)
    if mshape == (3,) and cshape == (3, 3):
        got, _ = s2sgrad.vjp(_mvn_nomean, wrt=0)(x, cov)
        np.testing.assert_allclose(got, _mvn_nomean(x, cov), rtol=1e-12)


def _dirichlet_value(x, alpha):
    return st.dirichlet.logpdf(x, alpha), st.dirichlet.pdf(x, alpha)


def test_dirichlet_values_and_float32_match_scipy():
    for x, alpha in [(_SIMPLEX, pos(3) + 0.5), (_SIMPLEX_N, pos(3) + 0.5)]:
        for dt in (np.float64, np.float32):
            got, _ = s2sgrad.vjp(_dirichlet_value, wrt=1)(x.astype(dt), alpha.astype(dt))
            for g, w in zip(got, _dirichlet_value(x.astype(dt), alpha.astype(dt))):
                np.testing.assert_allclose(g, w, rtol=1e-6 if dt == np.float32 else 1e-12)
                assert np.result_type(g) == np.result_type(w)


# ------------------------------------------------------------ spellings and dtypes

from scipy.stats import norm as _norm  # noqa: E402
from scipy import stats as _stats  # noqa: E402


def _spelled(x, mu, s):
    a = _norm.logpdf(x, mu, s)
    b = _stats.norm.logpdf(x, loc=mu, scale=s)
    c = st.norm.logpdf(x=x, scale=s, loc=mu)
    return np.sum(a + b + c)


def test_every_spelling_resolves():
    x, mu, s = normal(4), 0.3, 1.7
    v, g = s2sgrad.value_and_grad(_spelled, wrt=(0, 1, 2))(x, mu, s)
    np.testing.assert_allclose(v, _spelled(x, mu, s), rtol=1e-14)
    z = (x - mu) / s
    np.testing.assert_allclose(g[0], -3 * z / s, rtol=1e-12)
    np.testing.assert_allclose(g[1], np.sum(3 * z / s), rtol=1e-12)
    np.testing.assert_allclose(g[2], np.sum(3 * (z * z - 1) / s), rtol=1e-12)


def _norm_float32(x, mu):
    return np.sum(st.norm.logpdf(x, mu, 2.0))


def test_float32_values_are_float64_as_scipy_gradients_float32():
    x, mu = normal(4).astype(np.float32), np.float32(0.5)
    v, (gx, gm) = s2sgrad.value_and_grad(_norm_float32, wrt=(0, 1))(x, mu)
    assert v.dtype == np.float64 and v == _norm_float32(x, mu)
    assert gx.dtype == np.float32 and gm.dtype == np.float32


def _laplace_kink(x):
    return np.sum(st.laplace.logpdf(x, 0.0, 1.0))


def test_laplace_kink_and_normal_hessian():
    assert s2sgrad.grad(_laplace_kink)(np.array([0.0, 1.0]))[0] == 0.0
    h = s2sgrad.hessian(_norm_scale)(np.array([0.3, 1.2]))
    # d2/ds2 of -z^2/2 - log s, z = x / s: -3 x^2 / s^4 + 1 / s^2
    x = 2.0 - 0.3
    np.testing.assert_allclose(h[1, 1], -3 * x ** 2 / 1.2 ** 4 + 1 / 1.2 ** 2, rtol=1e-12)
    np.testing.assert_allclose(h[0, 0], -1 / 1.2 ** 2, rtol=1e-12)


def _norm_scale(p):
    return st.norm.logpdf(2.0, p[0], p[1])


def _nbinom_cdf_in_n(k, n):      # (gamma.cdf in a: differentiated since session 21)
    return np.sum(st.nbinom.cdf(k, n, 0.4))


def _mvn_singular(x, mean, cov):
    return st.multivariate_normal.logpdf(x, mean, cov, allow_singular=True)


def test_unsupported_forms_are_refused():
    with pytest.raises(s2sgrad.S2SGradError, match="'a' argument"):
        s2sgrad.grad(_nbinom_cdf_in_n, wrt=1)(np.array([1.0, 2.0, 4.0]), 3.0)
    with pytest.raises(s2sgrad.S2SGradError, match="allow_singular"):
        s2sgrad.grad(_mvn_singular)(normal(3), normal(3), np.eye(3))


def _frozen(x):
    return np.sum(st.norm(0.0, 1.0).logpdf(x))


def _median(x):
    return np.sum(st.norm.median(x))       # (norm.entropy has a rule since session 20)


def test_refusals_name_the_distribution_and_what_is_supported():
    # a frozen distribution built inside is its unfrozen methods (session 22)
    x = normal(3)
    np.testing.assert_allclose(s2sgrad.grad(_frozen)(x), -x, rtol=1e-12)
    with pytest.raises(s2sgrad.S2SGradError, match=r"'scipy.stats.norm.median' has no "
                                                   r"derivative rule.*logpdf pdf cdf"):
        s2sgrad.grad(_median)(pos(3))


def _outside(x, loc):
    return np.sum(st.beta.sf(x, 2.0, 3.0, loc) + st.gamma.logpdf(x, 2.5, loc)
                  + st.gamma.cdf(x, 2.5, loc) + st.lognorm.cdf(x, 0.7, loc))


def _above(x, k, p):
    return np.sum(st.beta.cdf(x, 2.0, 3.0) + st.binom.cdf(k, 4, p) + st.binom.logpmf(k, 4, p))


def test_gradient_is_zero_outside_the_support():
    # the values are constants there, and the formulas evaluated there would be NaN
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        gx, gl = s2sgrad.grad(_outside, wrt=(0, 1))(np.array([-2.0, 0.2]), np.array([0.5, 0.5]))
        np.testing.assert_array_equal(gx, [0.0, 0.0])
        np.testing.assert_array_equal(gl, [0.0, 0.0])
        # beyond the upper end: beta above 1, binom's k above n
        gx, gp = s2sgrad.grad(_above, wrt=(0, 2))(np.array([1.5, 3.0]), np.array([7.0, 9.0]), 0.3)
        np.testing.assert_array_equal(gx, [0.0, 0.0])
        assert gp == 0.0
