"""Session 20 (cov7): what the wider, independent coverage probes
(tools/probe_table.py, run by tools/probe_coverage.py) found wrong or refused.

* wrong: scipy.stats.multivariate_normal's logpdf/pdf/entropy used the whole
  covariance matrix where SciPy reads its lower triangle (``_PSD`` calls
  ``eigh(lower=True)``): the gradient in ``cov`` was the symmetric one, not
  the derivative of SciPy's function.  Now the lower triangle is read.
* added: np.matvec / np.vecmat / np.compress / np.extract; windows, gcd,
  lcm, ix_ and scipy.stats.rankdata as data; Python's round() and divmod();
  math.floor/ceil/trunc/erf/erfc/gamma/lgamma (and math.fabs, which failed
  with an internal message); scipy.stats entropy, zscore, sem, skew,
  kurtosis, moment, variation, gmean, hmean, pmean, tmean, tvar, tstd, iqr;
  scipy.integrate.trapezoid and cumulative_trapezoid; scipy.linalg eig,
  eigvals, khatri_rao, circulant, hankel, companion,
  solve_continuous_lyapunov, cosm/sinm/coshm/sinhm/tanhm; scipy.special
  ellipk, ellipe, owens_t, ndtri_exp, gammaincinv, gammainccinv (in y),
  betaincinv (in y) and round (data).

Every spec is checked by the shared harness (central finite differences in
float64, float32 dtypes; forward mode and the dot-product identity in
test_jvp_identity.py); here also both modes, Hessian-vector products, values
against NumPy/SciPy, and the conventions finite differences cannot see.
"""
import math
import os
import subprocess
import sys

import numpy as np
import pytest

sl = pytest.importorskip("scipy.linalg")
sc = pytest.importorskip("scipy.special")
st = pytest.importorskip("scipy.stats")
si = pytest.importorskip("scipy.integrate")
sfft = pytest.importorskip("scipy.fft")
ssig = pytest.importorskip("scipy.signal")

import s2sgrad  # noqa: E402
import s2sgrad.runtime as rt  # noqa: E402
from s2sgrad.errors import S2SGradError  # noqa: E402
from s2sgrad.primitives import core  # noqa: E402

from .spec import RNG, Spec, check_spec, distinct, normal, pos, unit  # noqa: E402
from .test_runtime_prims import check_hvp  # noqa: E402

core.load_optional_rules()

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def spd(n):
    m = normal(n, n)
    return m @ m.T + n * np.eye(n)


def well(n):
    return normal(n, n) * 0.3 + 2.0 * np.eye(n)


W3 = normal(3, 3)
W34 = normal(3, 4)
W4 = normal(4)
W43 = normal(4, 3)

# ---------------------------------------------------------------- functions


def _mvn_cov(x, mean, cov):
    return np.sum(st.multivariate_normal.logpdf(x, mean, cov))


def _mvn_pdf_cov(cov, x):
    return st.multivariate_normal.pdf(x, None, cov) * 10.0


def _mvn_entropy_cov(cov):
    return st.multivariate_normal.entropy(None, cov) * 2.0


def _matvec(A, v):
    return np.sum(np.sin(np.matvec(A, v)))


def _vecmat(v, A):
    return np.sum(np.sin(np.vecmat(v, A)))


def _vecmat_complex(v, A):
    return np.real(np.sum(np.vecmat(v + 0.5j * v[::-1], A) * (1.0 - 2.0j)))


def _compress(a):
    return np.sum(np.compress(a[0] > 0, a, axis=1) ** 2) + np.sum(np.compress([1, 0, 1], a) ** 3)


def _extract(a):
    return np.sum(np.sin(np.extract(a > 0, a * 2.0)))


def _round_divmod(x, y):
    q, r = divmod(x, y)
    return np.sum(r * x) + np.sum(round(x[0, 0], 1) * x) + np.sum(q * y)


def _math_scalars(x):
    s = x[0, 0]
    return (math.erf(s) + math.erfc(x[1, 1]) * math.lgamma(x[0, 1] ** 2 + 1.0)
            + math.gamma(x[1, 0] ** 2 + 0.5) + math.fabs(x[2, 2]) * math.floor(s * 3.0)
            + math.ceil(x[2, 0]) * x[2, 1] + math.trunc(x[0, 2] * 2.0) * x[1, 2])


def _entropy(p, q):
    return (np.sum(st.entropy(p, axis=1) ** 2) + st.entropy(p[0], q[0], base=2.0)
            + np.sum(st.entropy(p, q, axis=None)))


def _moments(x):
    return (np.sum(st.skew(x, axis=1) * W34[:, 0]) + np.sum(st.kurtosis(x, axis=0) * W4)
            + np.sum(st.moment(x, 3, axis=1) ** 2) + np.sum(st.moment(x, 1, axis=1))
            + st.skew(x, axis=None, bias=False) + np.sum(st.kurtosis(x, axis=1, bias=False,
                                                                     fisher=False)))


def _spread(x):
    return (np.sum(st.zscore(x, axis=1) * W34) + np.sum(st.sem(x, axis=0) ** 2)
            + np.sum(st.tvar(x) * W4) + st.tmean(x) + np.sum(st.tstd(x, axis=1, ddof=0))
            + np.sum(st.sem(x, axis=None, ddof=0, keepdims=True) * x))


def _means(p, w):
    return (np.sum(st.gmean(p, axis=1)) + np.sum(st.hmean(p, axis=0) * W4)
            + np.sum(st.pmean(p, 2.5, axis=1, weights=w)) + st.pmean(p, 0.0, axis=None)
            + np.sum(st.gmean(p, axis=1, weights=w) ** 2) + np.sum(st.variation(p, axis=1)))


def _iqr(d):
    return np.sum(st.iqr(d, axis=1) * W34[:, 0]) + st.iqr(d, rng=(10, 80), scale="normal")


def _cumtrapz(y, x):
    return (np.sum(np.sin(si.cumulative_trapezoid(y, x))) +
            np.sum(si.cumulative_trapezoid(y, dx=0.5, axis=0, initial=0) * W34) +
            si.trapezoid(y[0], x) + np.sum(si.trapezoid(y, dx=0.3, axis=0)))


def _eig(a):
    w, v = sl.eig(a)
    return np.sum(np.real(w) * np.arange(1.0, 4.0)) + np.sum(np.abs(v) * W3) + \
        np.sum(np.imag(sl.eigvals(a)) ** 2) + np.sum(np.abs(sl.eig(a, right=False)))


def _structured(c, r, a):
    return (np.sum(np.sin(sl.circulant(c))) + np.sum(sl.hankel(c, r) * W43)
            + np.sum(sl.hankel(c) ** 2) + np.sum(np.sin(sl.companion(a)))
            + np.sum(sl.khatri_rao(W3, np.vstack([c[:3], r[:3]])) ** 2))


def _lyap(a, q):
    return np.sum(sl.solve_continuous_lyapunov(a - 4.0 * np.eye(3), q) * W3)


def _trig_m(a):
    return (np.sum(sl.cosm(a) * W3) + np.sum(np.sin(sl.sinm(a))) + np.sum(sl.coshm(a) * W3)
            + np.sum(sl.sinhm(a) ** 2) + np.sum(sl.tanhm(a) * W3.T))


def _trig_m_complex(a):
    z = a + 0.3j * W3
    return np.real(np.sum(sl.cosm(z) * (1.0 + 1.0j))) + np.imag(np.sum(sl.sinm(z)))


def _ellip(m):
    return np.sum(sc.ellipk(m) * W34) + np.sum(np.sin(sc.ellipe(m)))


def _owens_t(h, a):
    return np.sum(np.sin(sc.owens_t(h, a)))


def _inverses(y):
    return (np.sum(sc.gammaincinv(2.5, y)) + np.sum(sc.gammainccinv(0.7, y) * W34)
            + np.sum(np.sin(sc.betaincinv(2.0, 3.5, y))) + np.sum(sc.ndtri_exp(-y - 0.1)))


def _dct(x):
    return (np.sum(np.sin(sfft.dct(x))) + np.sum(sfft.dct(x, type=1, axis=0) * W34)
            + np.sum(sfft.idct(x, norm="ortho", n=6) ** 2) + np.sum(sfft.dst(x, type=3) * W34)
            + np.sum(sfft.idst(x, norm="forward", orthogonalize=True) * W34))


def _dctn(x):
    return (np.sum(np.sin(sfft.dctn(x))) + np.sum(sfft.idctn(x, norm="ortho", s=(2, 5)) ** 2)
            + np.sum(sfft.dstn(x, type=1, axes=1) * W34))


def _sfft(x):
    z = sfft.fft(x, n=6, axis=0, norm="ortho", workers=2)
    return (np.sum(np.abs(z) ** 2) + np.sum(np.real(sfft.ifft2(x)) * W34)
            + np.sum(sfft.irfft(sfft.rfft(x) * 1.5) * W34) + np.sum(np.abs(sfft.fftn(x)))
            + np.sum(sfft.fftshift(x) * W34) + np.sum(sfft.fftfreq(4) * x[0]))


def _sfft_more(x):
    return (np.sum(np.abs(sfft.fft2(x)) ** 2) + np.sum(sfft.hfft(x[0] + 0.5j * x[1]) * W4[:3].sum())
            + np.sum(np.sin(sfft.idstn(x, type=2))) + np.sum(np.real(sfft.ifft(x, axis=0)) * W34)
            + np.sum(np.abs(sfft.ifftn(x, s=(4, 4), axes=(0, 1))) ** 2) + np.sum(np.abs(sfft.ihfft(x)) ** 2)
            + np.sum(sfft.irfft2(x + 0.3j * W34) * 0.5) + np.sum(np.abs(sfft.rfft2(x)) ** 2)
            + np.sum(np.abs(sfft.rfftn(x, axes=(0,))) ** 2) + np.sum(sfft.irfftn(x + 1j * x) ** 2))


def _r2r_adjoint(g):
    return np.sum(np.sin(rt.r2r_adjoint(g, W34, "dct", 2, None, -1, None, None)))


def _detrend(x):
    return (np.sum(np.sin(ssig.detrend(x))) + np.sum(ssig.detrend(x, axis=0) * W34)
            + np.sum(ssig.detrend(x, type="constant") ** 2))


def _filters(x):
    ret = ssig.lfilter([1.0], [1.0, -0.9], x[:, ::-1], axis=1)[:, ::-1]   # discounted sums
    return (np.sum(np.sin(ret)) + np.sum(ssig.lfilter([0.5, 0.2], [2.0, -0.4], x, axis=0) * W34)
            + np.sum(ssig.sosfilt(SOS, x) ** 2)
            + np.sum(ssig.filtfilt([0.3, 0.2], [1.0, -0.3], np.tile(x, 3)) ** 2)
            + np.sum(ssig.sosfiltfilt(SOS, np.tile(x, 4), padlen=3) * np.tile(W34, 4))
            + np.sum(np.sin(ssig.savgol_filter(np.tile(x, 2), 5, 2, deriv=1, mode="nearest"))))


def _filter_adjoint(g):
    return np.sum(np.sin(rt.filter_linear_adjoint(g, W34, "savgol_filter", 0, None, None, None,
                                                  (("window_length", 3), ("polyorder", 1)))))


SOS = np.array([[0.2, 0.3, 0.1, 1.0, -0.2, 0.05]])
def _var_numpy2(x, m):
    return (np.sum(np.var(x, axis=1, correction=1) * W34[:, 0])
            + np.sum(np.std(x, axis=0, mean=m, correction=1) ** 2)
            + np.sum(np.var(x, axis=1, mean=np.mean(x, axis=1, keepdims=True)))
            + np.var(x, correction=2, where=x > -1.0))


def _banded(ab, b):
    return (np.sum(np.sin(sl.solve_banded((1, 1), ab, b)))
            + np.sum(sl.solveh_banded(_HB + 0.1 * ab[:2] ** 2, b, lower=True) * W43[:, :2])
            + np.sum(sl.solveh_banded(_HB[::-1] + 0.1 * ab[1:] ** 2, b[:, 0])))


def _matrix_more(a, q):
    return (np.sum(sl.fractional_matrix_power(a @ a.T + np.eye(3), 0.5) * W3)
            + np.sum(sl.fractional_matrix_power(a, 2) ** 2)
            + np.sum(sl.solve_discrete_lyapunov(a * 0.3, q) * W3))


_HB = np.array([[4.0, 5.0, 4.5, 6.0], [0.5, -0.3, 0.8, 0.0]])   # lower form, diagonally dominant
P34 = pos(3, 4)
Q34 = pos(3, 4)
D34 = distinct(3, 4)
G34 = RNG.uniform(0.1, 0.9, (3, 4))

SPECS = [
    Spec("scipy.stats.multivariate_normal.logpdf", _mvn_cov,
         (normal(5, 3), normal(3), spd(3)), wrt=(0, 1, 2), id="mvn-logpdf-cov-lower"),
    Spec("scipy.stats.multivariate_normal.pdf", _mvn_pdf_cov, (spd(3), normal(3) * 0.3),
         wrt=(0, 1), id="mvn-pdf-cov-lower"),
    Spec("scipy.stats.multivariate_normal.entropy", _mvn_entropy_cov, (spd(3),),
         id="mvn-entropy-cov-lower"),
    Spec("matvec", _matvec, (normal(2, 3, 4), normal(4)), wrt=(0, 1)),
    Spec("vecmat", _vecmat, (normal(3), normal(2, 3, 4)), wrt=(0, 1)),
    Spec("vecmat", _vecmat_complex, (normal(3), normal(3, 4) + 1j * normal(3, 4)), wrt=(0, 1),
         float32=False, id="vecmat-complex"),
    Spec("compress", _compress, (normal(3, 4),)),
    Spec("extract", _extract, (normal(3, 4),)),
    Spec("divmod", _round_divmod, (normal(3, 4), pos(3, 4)), wrt=(0, 1), id="builtin-divmod"),
    Spec("erf", _math_scalars, (RNG.uniform(0.1, 0.3, (3, 3)) + np.arange(9.0).reshape(3, 3) / 9,),
         float32=False, id="math-scalars"),
    Spec(("scipy.stats.entropy",), _entropy, (P34, Q34), wrt=(0, 1)),
    Spec(("scipy.stats.skew", "scipy.stats.kurtosis", "scipy.stats.moment"), _moments,
         (normal(3, 4),), id="skew-kurtosis-moment"),
    Spec(("scipy.stats.zscore", "scipy.stats.sem", "scipy.stats.tvar", "scipy.stats.tmean",
          "scipy.stats.tstd"), _spread, (normal(3, 4),), id="zscore-sem-tvar"),
    Spec(("scipy.stats.gmean", "scipy.stats.hmean", "scipy.stats.pmean",
          "scipy.stats.variation"), _means, (P34, pos(4)), wrt=(0, 1), id="means"),
    Spec("scipy.stats.iqr", _iqr, (D34,)),
    Spec(("scipy.integrate.cumulative_trapezoid",), _cumtrapz, (normal(3, 4), np.cumsum(pos(4))),
         wrt=(0, 1)),
    Spec(("scipy_eig", "scipy_eigvals"), _eig, (well(3),), float32=False),
    Spec(("scipy_circulant", "scipy_hankel", "scipy_companion", "scipy_khatri_rao"),
         _structured, (normal(4), normal(3), pos(4) + 1.0), wrt=(0, 1, 2), id="structured"),
    Spec("scipy_solve_continuous_lyapunov", _lyap, (well(3), spd(3)), wrt=(0, 1)),
    Spec(("scipy_cosm", "scipy_sinm", "scipy_coshm", "scipy_sinhm", "scipy_tanhm"), _trig_m,
         (well(3) * 0.3,), float32=False, id="trig-matrix"),
    Spec(("scipy_cosm", "scipy_sinm"), _trig_m_complex, (well(3) * 0.3,), float32=False,
         id="trig-matrix-complex"),
    Spec(("r2r", "scipy.fft.dct", "scipy.fft.idct", "scipy.fft.dst", "scipy.fft.idst"), _dct,
         (normal(3, 4),), id="dct"),
    Spec(("r2r", "scipy.fft.dctn", "scipy.fft.idctn", "scipy.fft.dstn"), _dctn,
         (normal(3, 4),), id="dctn"),
    Spec(("scipy.fft.fft", "scipy.fft.ifft2", "scipy.fft.rfft", "scipy.fft.irfft",
          "scipy.fft.fftn"), _sfft, (normal(3, 4),), id="scipy-fft"),
    Spec("r2r_adjoint", _r2r_adjoint, (normal(3, 4),)),
    Spec(("scipy.fft.fft2", "scipy.fft.hfft", "scipy.fft.idstn", "scipy.fft.ifft",
          "scipy.fft.ifftn", "scipy.fft.ihfft", "scipy.fft.irfft2", "scipy.fft.irfftn",
          "scipy.fft.rfft2", "scipy.fft.rfftn"), _sfft_more, (normal(3, 4),),
         id="scipy-fft-more"),
    Spec("scipy.signal.detrend", _detrend, (normal(3, 4),)),
    Spec(("scipy_solve_banded", "scipy_solveh_banded"), _banded,
         (normal(3, 4) * 0.3 + np.array([[0.0], [3.0], [0.0]]), normal(4, 2)), wrt=(0, 1),
         float32=False, id="banded"),
    Spec(("scipy_fractional_matrix_power", "scipy_solve_discrete_lyapunov"), _matrix_more,
         (well(3), spd(3)), wrt=(0, 1), float32=False, id="fractional-power-dlyap"),
    Spec("scipy.stats.norm.entropy", lambda s: np.sum(st.norm.entropy(1.0, s) * W4), (pos(4),)),
    Spec(("var_where", "std_where"), _var_numpy2, (normal(3, 4), normal(1, 4)), wrt=(0, 1),
         id="var-correction-mean"),
    Spec(("filter_linear", "scipy.signal.lfilter", "scipy.signal.sosfilt",
          "scipy.signal.filtfilt", "scipy.signal.sosfiltfilt", "scipy.signal.savgol_filter"),
         _filters, (normal(3, 4),), id="filters"),
    Spec("filter_linear_adjoint", _filter_adjoint, (normal(3, 4),)),
    Spec(("ellipk", "ellipe"), _ellip, (unit(3, 4) * 0.9,), float32=False),
    Spec("owens_t", _owens_t, (normal(3, 4), normal(3, 4)), wrt=(0, 1), float32=False),
    Spec(("gammaincinv", "gammainccinv", "betaincinv", "ndtri_exp",
          "scipy.special.gammaincinv", "scipy.special.gammainccinv",
          "scipy.special.betaincinv"), _inverses, (G34,), float32=False, id="inverses"),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_spec(spec):
    check_spec(spec)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_spec_both_modes(spec):
    s2sgrad.check_grads(spec.fn, spec.args, wrt=spec.wrt, modes=("rev", "fwd"))


@pytest.mark.parametrize("spec", [s for s in SPECS if s.id not in ("math-scalars",)],
                         ids=lambda s: s.id)
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


# ---------------------------------------------------------------- multivariate_normal: SciPy's triangle


def test_mvn_reads_the_lower_triangle_as_scipy():
    """A covariance whose upper triangle differs: SciPy reads the lower one;
    so do the value and the gradient (all in the lower triangle)."""
    cov = spd(3)
    cov_u = cov.copy()
    cov_u[0, 2] += 0.4                      # upper triangle only
    x, m = normal(4, 3), normal(3)
    f = lambda c: np.sum(st.multivariate_normal.logpdf(x, m, c))   # noqa: E731
    v, g = s2sgrad.value_and_grad(f)(cov_u)
    np.testing.assert_allclose(v, f(cov_u), rtol=1e-12)
    np.testing.assert_allclose(v, f(cov), rtol=1e-12)
    assert np.all(np.triu(g, 1) == 0.0)
    s2sgrad.check_grads(f, (cov_u,))


def test_mvn_symmetric_input_gives_the_symmetric_chain():
    """For cov = A A^T + I the gradient in A is the same as with the full
    symmetric rule (autograd's): both are the derivative of one function of A."""
    x, m = normal(4, 3), normal(3)

    def f(a):
        return np.sum(st.multivariate_normal.logpdf(x, m, a @ a.T + np.eye(3)))

    a = normal(3, 3)
    g = s2sgrad.grad(f)(a)
    cov = a @ a.T + np.eye(3)
    ci = np.linalg.inv(cov)
    d = x - m
    G = -0.5 * (len(x) * ci - ci @ d.T @ d @ ci)       # d/dcov of the sum, symmetric
    np.testing.assert_allclose(g, 2.0 * G @ a, rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------- data: zero gradient, NumPy's value


def _d_hamming(x):
    return np.hamming(4) * x + np.hanning(4) * x ** 2


def _d_blackman(x):
    return np.blackman(4) * x + np.bartlett(4) * x ** 2 + np.kaiser(4, 3.0) * x ** 3


def _d_gcd(x):
    return np.gcd(np.array([6, 4, 9, 2]), 4) * x + np.lcm(2, 3) * x ** 2


def _d_ix(x):
    return x[np.ix_([0, 2], [1, 3])].ravel() * 2.0


def _d_rankdata(x):
    return st.rankdata(x, axis=1) * x + st.rankdata(x).reshape(x.shape) * x ** 2


def _d_round(x):
    return round(x[0, 0]) * x + round(x[1, 1] * 0.37, 1) * x + sc.round(x * 2.9 + 0.1) * x ** 2


@pytest.mark.parametrize("make, shape", [(_d_hamming, (4,)), (_d_blackman, (3, 4)),
                                         (_d_gcd, (3, 4)), (_d_ix, (3, 4)),
                                         (_d_rankdata, (3, 4)), (_d_round, (3, 4))])
def test_data_functions_pass_through(make, shape):
    """Integer-valued or constant results: NumPy's value, derivative 0 (the
    gradient is that of the other factors only)."""
    x = np.array([[0.3, -1.2, 0.7, 1.9], [1.1, 0.4, -0.5, 0.25], [0.2, 0.9, -0.8, -2.1]])
    x = x[0] if shape == (4,) else x

    def f(a):
        return np.sum(np.sin(make(a)))

    v, g = s2sgrad.value_and_grad(f)(x)
    np.testing.assert_allclose(v, f(x), rtol=1e-13)
    s2sgrad.check_grads(f, (x,))


def test_round_is_pythons_round():
    """round() runs Python's round: halves to even and decimal digits exactly
    as Python (not np.round's scaled rounding) on Python numbers."""
    def f(x):
        return x * round(2.675, 2) + x * round(float(x) * 0.0 + 2.5)

    v, g = s2sgrad.value_and_grad(f)(1.5)
    assert v == 1.5 * round(2.675, 2) + 1.5 * 2
    assert g == round(2.675, 2) + 2


def test_math_floor_zero_gradient_and_value():
    def f(x):
        return math.floor(x[0] * 3.0) * x[1] + math.fabs(x[2]) + math.erf(x[0])

    x = np.array([0.7, -1.3, -0.4])
    v, g = s2sgrad.value_and_grad(f)(x)
    assert v == pytest.approx(f(x), rel=1e-14)
    np.testing.assert_allclose(g, [2.0 / math.sqrt(math.pi) * math.exp(-0.49), 2.0, -1.0],
                               rtol=1e-12)


# ---------------------------------------------------------------- conventions and refusals


def test_ellip_limits_at_zero():
    """The derivative quotients are 0/0 at m = 0: their limits pi/8 and -pi/8."""
    g = s2sgrad.grad(lambda m: np.sum(sc.ellipk(m) + 2.0 * sc.ellipe(m)))(np.array([0.0, 1e-3]))
    assert g[0] == pytest.approx(math.pi / 8 - 2 * math.pi / 8, rel=1e-12)
    fd = (sc.ellipk(2e-3) + 2 * sc.ellipe(2e-3) - sc.ellipk(0.0) - 2 * sc.ellipe(0.0)) / 2e-3
    assert g[1] == pytest.approx(fd, rel=1e-5)


def test_stats_entropy_float32_and_python_scalars():
    p = pos(5).astype(np.float32)
    g = s2sgrad.grad(lambda p: st.entropy(p, base=2))(p)
    assert g.dtype == np.float32 and g.shape == (5,)
    g2 = s2sgrad.grad(lambda p: st.entropy(p / 2.0, None, 2.0))(p.astype(np.float64))
    np.testing.assert_allclose(g, g2, rtol=1e-4)


@pytest.mark.parametrize("call, what", [
    (lambda x: st.skew(x, nan_policy="omit"), "nan_policy"),
    (lambda x: st.moment(x, 2.5), "order"),
    (lambda x: st.tmean(x, limits=(0, 1)), "limits"),
    (lambda x: sc.zeta(x + 2.0, 1.5), "'x' argument"),   # (gammaincinv's a: session 21)
    (lambda x: sl.eig(x, np.eye(4)), "b="),
    (lambda x: si.cumulative_trapezoid(x, np.arange(4.0), axis=0), "axis other than -1"),
    (lambda x: ssig.lfilter(x[0], [1.0], x), "'b' argument"),
    (lambda x: ssig.lfilter([1.0], [1.0, -0.5], x, zi=np.zeros(1)), "zi="),
])
def test_refusals_name_what_to_do(call, what):
    x = pos(4, 4)
    with pytest.raises(S2SGradError, match=what):
        s2sgrad.grad(lambda a: np.sum(call(a)))(x)


# ---------------------------------------------------------------- the probe survey


def test_probe_survey_has_no_wrong_number_and_matches_readme():
    """The wider probe table (tools/probe_table.py): no probe gives a wrong
    value or gradient or crashes, and the README states its counts."""
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "probe_coverage.py"),
                          "--wrong"], capture_output=True, text=True, cwd=ROOT,
                         env=dict(os.environ, PYTHONPATH=ROOT), timeout=900)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.strip().splitlines()
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    try:
        from probe_table import KNOWN_WRONG
    finally:
        sys.path.pop(0)
    bad = [ln for ln in lines if ln.startswith("crash") or
           (ln.startswith("wrong") and not any(ln[9:].startswith(k + " ") for k in KNOWN_WRONG))]
    assert not bad, "\n".join(bad)
    summary = lines[-1]
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    assert summary + "." in readme, summary
