"""Specs for the scans, statistics and products (cumprod, diff, gradient,
trapezoid, average, ptp, quantiles, cov, corrcoef, the nan-reductions,
kron, vdot, cross, convolve, correlate), their runtime helpers and
methods, plus exact values at zeros, ties and NaNs."""
import numpy as np
import pytest

import s2sgrad
from s2sgrad import runtime as rt

from .spec import Spec, check_spec, distinct, normal, pos
from .test_runtime_prims import check_hvp

W2 = normal(2)
W3 = normal(3)
W4 = normal(4)
W5 = normal(5)
W34 = normal(3, 4)
W234 = normal(2, 3, 4)
XS5 = np.array([0.0, 0.3, 1.1, 1.5, 2.6])
XS4 = np.array([0.0, 0.5, 0.7, 1.6])
FW = np.array([1, 2, 1, 3])
AW = np.array([0.5, 1.0, 2.0, 1.5])
Q3 = np.array([0.1, 0.5, 0.93])

# zeros in some lanes: (row 0 none, row 1 one zero, row 2 two zeros)
ZEROS = normal(3, 4)
ZEROS[1, 1] = 0.0
ZEROS[2, 0] = ZEROS[2, 2] = 0.0

NANS = normal(3, 4)
NANS[0, 1] = NANS[2, 0] = NANS[2, 3] = np.nan


def _wsum(y, seed=0):
    w = np.cos(np.arange(np.size(y)) * 0.7 + seed).reshape(np.shape(y))
    return np.sum(w * y)


def _nan_distinct():
    x = distinct(3, 4)
    x[0, 1] = x[2, 0] = np.nan
    return x


SPECS = [
    # cumprod (axis None / int, zeros, method)
    Spec("cumprod", lambda x: _wsum(np.cumprod(x)), (normal(2, 3),)),
    Spec("cumprod", lambda x: _wsum(np.cumprod(x, axis=1)), (ZEROS,), id="cumprod-zeros"),
    Spec("cumprod", lambda x: _wsum(np.cumprod(x * 1.0, axis=0) ** 2), (ZEROS,),
         id="cumprod-zeros-axis0"),
    Spec("cumprod", lambda x: _wsum(x.cumprod(-1)), (normal(2, 3),), id="cumprod-method"),
    Spec("cumprod", lambda x: _wsum(np.cumprod(x)), (ZEROS,), id="cumprod-zeros-flat"),
    # diff (n, axis, prepend/append)
    Spec("diff", lambda x: _wsum(np.diff(x) ** 2), (normal(2, 5),)),
    Spec("diff", lambda x: _wsum(np.diff(x, 2, axis=0) ** 2), (normal(5, 2),), id="diff-n-axis"),
    Spec("diff", lambda x, p, e: _wsum(np.diff(x, prepend=p, append=e) ** 2),
         (normal(2, 4), normal(2, 1), normal(2, 2)), wrt=(0, 1, 2), id="diff-prepend-append"),
    Spec("diff", lambda x, p: _wsum(np.diff(x, n=3, axis=0, prepend=p) ** 2),
         (normal(4, 2), np.float64(0.4)), wrt=(0, 1), id="diff-scalar-prepend"),
    # gradient (spacing, axis, edge orders)
    Spec("gradient", lambda f: _wsum(np.gradient(f) ** 2), (normal(6),)),
    Spec("gradient", lambda f: _wsum(np.gradient(f, 0.5, edge_order=2) ** 2), (normal(5),),
         id="gradient-spacing-order2"),
    Spec("gradient", lambda f: _wsum(np.gradient(f, XS5) ** 2), (normal(5),),
         id="gradient-coordinates"),
    Spec("gradient", lambda f: _wsum(np.gradient(f, XS5, edge_order=2) ** 2), (normal(5),),
         id="gradient-coordinates-order2"),
    Spec("gradient", lambda f: _grads2(np.gradient(f, 2.0, XS4, axis=(0, 1))), (normal(3, 4),),
         id="gradient-two-axes"),
    Spec("gradient", lambda f: _wsum(np.gradient(f, axis=-1, edge_order=2) ** 2),
         (normal(2, 4),), id="gradient-axis"),
    # trapezoid (dx, x, axis)
    Spec("trapezoid", lambda y: np.trapezoid(y ** 2), (normal(5),)),
    Spec("trapezoid", lambda y, dx: _wsum(np.trapezoid(y, dx=dx, axis=0) ** 2),
         (normal(4, 3), np.float64(0.3)), wrt=(0, 1), id="trapezoid-dx"),
    Spec("trapezoid", lambda y, x: _wsum(np.trapezoid(y, x) ** 2), (normal(3, 4), normal(4)),
         wrt=(0, 1), id="trapezoid-x"),
    Spec("trapezoid", lambda y, x: _wsum(np.trapezoid(y, x=x, axis=0) ** 2),
         (normal(4, 3), normal(4, 3)), wrt=(0, 1), id="trapezoid-x-2d"),
    # average (weights, axis, returned, keepdims)
    Spec("average", lambda a: _wsum(np.average(a, axis=0) ** 2), (normal(3, 4),)),
    Spec("average", lambda a, w: _wsum(np.average(a, axis=1, weights=w) ** 2),
         (normal(3, 4), pos(4)), wrt=(0, 1), id="average-weights-1d"),
    Spec("average", lambda a, w: np.average(a, weights=w) ** 2, (normal(3, 4), pos(3, 4)),
         wrt=(0, 1), id="average-weights-full"),
    Spec("average", lambda a, w: _avg_ret(*np.average(a, 0, w, returned=True)),
         (normal(3, 4), pos(3)), wrt=(0, 1), id="average-returned"),
    Spec("average", lambda a, w: _wsum(np.average(a, axis=(0, 2), weights=w, keepdims=True)),
         (normal(2, 3, 4), pos(2, 4)), wrt=(0, 1), id="average-axes-keepdims"),
    Spec("average", lambda a, w: _wsum(np.average(a, axis=(2, 0), weights=w)),
         (normal(2, 3, 4), pos(4, 2)), wrt=(0, 1), id="average-axes-reordered"),
    # ptp
    Spec("ptp", lambda x: np.ptp(x) ** 2, (distinct(3, 4),)),
    Spec("ptp", lambda x: _wsum(np.ptp(x, axis=1, keepdims=True) ** 2), (distinct(3, 4),),
         id="ptp-axis"),
    # median, percentile, quantile (methods, q arrays, axes, keepdims)
    Spec("median", lambda x: np.median(x) ** 2, (distinct(5),)),
    Spec("median", lambda x: _wsum(np.median(x, axis=0) ** 2), (distinct(4, 3),),
         id="median-even-axis"),
    Spec("median", lambda x: _wsum(np.median(x, axis=(0, 2), keepdims=True)),
         (distinct(2, 3, 4),), id="median-tuple-keepdims"),
    Spec("quantile", lambda x: _wsum(np.quantile(x, Q3) ** 2), (distinct(7),)),
    Spec("quantile", lambda x: _wsum(np.quantile(x, 0.3, axis=1, method="hazen") ** 2),
         (distinct(3, 5),), id="quantile-hazen"),
    Spec("quantile", lambda x: _quant_methods(x), (distinct(3, 6),), id="quantile-all-methods"),
    Spec("quantile", lambda x: _wsum(np.quantile(x, [[0.2], [0.7]], axis=-1, keepdims=True)),
         (distinct(2, 5),), id="quantile-2d-q-keepdims"),
    Spec("percentile", lambda x: _wsum(np.percentile(x, [10, 55, 90], axis=0) ** 2),
         (distinct(6, 2),)),
    Spec("percentile", lambda x: np.percentile(x, 40, method="midpoint"), (distinct(6),),
         id="percentile-midpoint"),
    Spec("quantile", lambda x, q: _wsum(np.quantile(x, q, axis=1) ** 2),
         (distinct(3, 5), np.array([0.3, 0.55, 0.9])), wrt=(0, 1), id="quantile-q"),
    Spec("quantile", lambda x, q: _wsum(np.quantile(x, q, method="weibull", keepdims=True)),
         (distinct(2, 5), 0.42), wrt=(0, 1), id="quantile-q-weibull-scalar", float32=False),
    Spec("percentile", lambda x, q: _wsum(np.percentile(x, q, axis=0) ** 2),
         (distinct(5, 2), np.array([33.0, 71.0])), wrt=(0, 1), id="percentile-q"),
    Spec("nanquantile", lambda x, q: _wsum(np.nanquantile(x, q, axis=0)),
         (_nan_distinct(), np.array([0.3, 0.7])), wrt=(0, 1), id="nanquantile-q"),
    # cov, corrcoef
    Spec("cov", lambda m: _wsum(np.cov(m)), (normal(3, 5),)),
    Spec("cov", lambda m, y: _wsum(np.cov(m, y, rowvar=False, bias=True) ** 2),
         (normal(5, 2), normal(5)), wrt=(0, 1), id="cov-y-rowvar-bias"),
    Spec("cov", lambda m: np.cov(m, ddof=0) * 2.0, (normal(6),), id="cov-1d"),
    Spec("cov", lambda m: _wsum(np.cov(m, fweights=FW, aweights=AW)), (normal(2, 4),),
         id="cov-weights"),
    Spec("cov", lambda m: _wsum(np.cov(m, aweights=AW, ddof=2)), (normal(2, 4),),
         id="cov-aweights-ddof"),
    Spec("corrcoef", lambda x: _wsum(np.corrcoef(x)), (normal(3, 6),)),
    Spec("corrcoef", lambda x, y: _wsum(np.corrcoef(x, y, rowvar=False) ** 2),
         (normal(6, 2), normal(6)), wrt=(0, 1), id="corrcoef-y-rowvar"),
    # nan-ignoring reductions
    Spec("nansum", lambda x: _wsum(np.nansum(x, axis=1) ** 2), (NANS,)),
    Spec("nansum", lambda x: np.nansum(x) ** 2, (NANS,), id="nansum-all"),
    Spec("nanmean", lambda x: _wsum(np.nanmean(x, axis=0, keepdims=True) ** 2), (NANS,)),
    Spec("nanmean", lambda x: np.nanmean(x) ** 2, (NANS,), id="nanmean-all"),
    Spec("nanmax", lambda x: _wsum(np.nanmax(x, axis=1) ** 2), (_nan_distinct(),)),
    Spec("nanmin", lambda x: np.nanmin(x) ** 2, (_nan_distinct(),)),
    Spec("nanvar", lambda x: _wsum(np.nanvar(x, axis=1)), (NANS,)),
    Spec("nanvar", lambda z: np.real(np.sum(np.nanvar(z, axis=1) * (0.3 + 1.7j))),
         (NANS + 1j * normal(3, 4),), id="nanvar-complex"),
    Spec("nanstd", lambda z: np.real(np.nanstd(z) * (0.3 + 1.7j)),
         (NANS + 1j * normal(3, 4),), id="nanstd-complex"),
    Spec("nanvar", lambda x: np.nanvar(x, ddof=1), (NANS,), id="nanvar-ddof"),
    Spec("nanstd", lambda x: _wsum(np.nanstd(x, axis=0, ddof=1)), (NANS,)),
    Spec("nanprod", lambda x: _wsum(np.nanprod(x, axis=1)), (NANS,)),
    Spec("nancumsum", lambda x: _wsum(np.nancumsum(x, axis=1) ** 2), (NANS,)),
    Spec("nancumsum", lambda x: _wsum(np.nancumsum(x) ** 2), (NANS,), id="nancumsum-flat"),
    Spec("nancumprod", lambda x: _wsum(np.nancumprod(x, axis=1)), (NANS,)),
    Spec("nanmedian", lambda x: _wsum(np.nanmedian(x, axis=1) ** 2), (_nan_distinct(),)),
    Spec("nanquantile", lambda x: _wsum(np.nanquantile(x, Q3, axis=0)), (_nan_distinct(),)),
    Spec("nanpercentile", lambda x: np.nanpercentile(x, 30.0) ** 2, (_nan_distinct(),)),
    # products
    Spec("kron", lambda a, b: _wsum(np.kron(a, b) ** 2), (normal(2, 3), normal(3, 2)),
         wrt=(0, 1)),
    Spec("kron", lambda a, b: _wsum(np.kron(a, b) ** 2), (normal(3), normal(2, 2)), wrt=(0, 1),
         id="kron-ranks"),
    Spec("vdot", lambda a, b: np.vdot(a, b) ** 2, (normal(2, 3), normal(6)), wrt=(0, 1)),
    Spec("cross", lambda a, b: _wsum(np.cross(a, b) ** 2), (normal(4, 3), normal(3)),
         wrt=(0, 1)),
    Spec("cross", lambda a, b: _wsum(np.cross(a, b, axisa=0, axisb=0, axisc=0) ** 2),
         (normal(3, 2), normal(3, 2)), wrt=(0, 1), id="cross-axes"),
    Spec("cross", lambda a, b: _wsum(np.cross(a, b, axis=1) ** 2),
         (normal(2, 3, 2), normal(2, 3, 2)), wrt=(0, 1), id="cross-axis"),
    Spec("convolve", lambda a, v: _wsum(np.convolve(a, v) ** 2), (normal(5), normal(3)),
         wrt=(0, 1)),
    Spec("convolve", lambda a, v: _conv_modes(np.convolve, a, v), (normal(5), normal(4)),
         wrt=(0, 1), id="convolve-modes"),
    Spec("convolve", lambda a, v: _conv_modes(np.convolve, a, v), (normal(3), normal(6)),
         wrt=(0, 1), id="convolve-modes-long-v"),
    Spec("correlate", lambda a, v: _wsum(np.correlate(a, v) ** 2), (normal(5), normal(3)),
         wrt=(0, 1)),
    Spec("correlate", lambda a, v: _conv_modes(np.correlate, a, v), (normal(5), normal(4)),
         wrt=(0, 1), id="correlate-modes"),
    Spec("correlate", lambda a, v: _conv_modes(np.correlate, a, v), (normal(2), normal(6)),
         wrt=(0, 1), id="correlate-modes-long-v"),
]


def _grads2(gs):
    a, b = gs
    return _wsum(a ** 2) + _wsum(b ** 3, 1)


def _avg_ret(avg, scl):
    return _wsum(avg ** 2) + _wsum(scl ** 2, 1)


def _quant_methods(x):
    total = 0.0
    k = 0
    for m in ("inverted_cdf", "averaged_inverted_cdf", "closest_observation",
              "interpolated_inverted_cdf", "hazen", "weibull", "linear", "median_unbiased",
              "normal_unbiased", "lower", "higher", "midpoint", "nearest"):
        total = total + _wsum(np.quantile(x, [0.05, 0.35, 0.5, 0.8, 1.0], axis=1, method=m), k)
        k += 1
    return total


def _conv_modes(f, a, v):
    return _wsum(f(a, v, "full") ** 2) + _wsum(f(a, v, mode="same") ** 2, 1) + \
        _wsum(f(a, v, "valid") ** 2, 2)


HELPER_SPECS = [
    Spec("diff_adjoint", lambda g: _wsum(rt.diff_adjoint(g, W34, None, None, n=2, axis=1) ** 2),
         (normal(3, 2),)),
    Spec("diff_adjoint", lambda g: _wsum(rt.diff_adjoint(g, W34, W3[:, None], 1.0)[1] ** 2),
         (normal(3, 5),), id="diff_adjoint-edges"),
    Spec("gradient_adjoint", lambda g: _wsum(rt.gradient_adjoint(g, W34, XS4, axis=1) ** 2),
         (normal(3, 4),)),
    Spec("trapezoid_weights", lambda x: _wsum(rt.trapezoid_weights(x, W34) ** 2), (normal(4),)),
    Spec("trapezoid_weights_adjoint",
         lambda h: _wsum(rt.trapezoid_weights_adjoint(h, W4, W34) ** 2), (normal(1, 4),)),
    Spec("average_weights", lambda w: _wsum(rt.average_weights(w, W234, (2, 0)) ** 2),
         (normal(4, 2),)),
    Spec("average_weights_adjoint",
         lambda h: _wsum(rt.average_weights_adjoint(h, W34[:2].T, W234, (2, 0)) ** 2),
         (normal(2, 1, 4),)),
    Spec("kron_vjp_a", lambda g: _wsum(rt.kron_vjp_a(g, W2, W34) ** 2), (normal(3, 8),)),
    Spec("kron_vjp_b", lambda g: _wsum(rt.kron_vjp_b(g, W2, W34) ** 2), (normal(3, 8),)),
    Spec("flat_dot_vjp_a", lambda g: _wsum(rt.flat_dot_vjp_a(g, W34, W34) ** 2), (np.float64(0.7),)),
    Spec("flat_dot_vjp_b", lambda g: _wsum(rt.flat_dot_vjp_b(g, W34, W34) ** 2), (np.float64(0.7),)),
    Spec("cross_vjp_a", lambda g: _wsum(rt.cross_vjp_a(g, W3, W3[::-1]) ** 2), (normal(3),)),
    Spec("cross_vjp_b", lambda g: _wsum(rt.cross_vjp_b(g, W3, W3[::-1]) ** 2), (normal(3),)),
    Spec("convolve_vjp_a", lambda g: _wsum(rt.convolve_vjp_a(g, W5, W3, "same") ** 2),
         (normal(5),)),
    Spec("convolve_vjp_b", lambda g: _wsum(rt.convolve_vjp_b(g, W5, W3) ** 2), (normal(7),)),
    Spec("correlate_vjp_a", lambda g: _wsum(rt.correlate_vjp_a(g, W5, W3) ** 2), (normal(3),)),
    Spec("correlate_vjp_b", lambda g: _wsum(rt.correlate_vjp_b(g, W5, W3, "full") ** 2),
         (normal(7),)),
    Spec("cov_rows", lambda m: _wsum(rt.cov_rows(m, W3, rowvar=False) ** 2), (normal(3, 2),)),
    Spec("cov_rows_adjoint", lambda g: _wsum(rt.cov_rows_adjoint(g, W34.T, W4, False)[0] ** 2),
         (normal(4, 4),)),
    Spec("quantile_tangent",
         lambda t: _wsum(rt.quantile_tangent(t, W34, Q3, axis=1, method="weibull") ** 2),
         (normal(3, 4),)),
    Spec("quantile_adjoint", lambda g: _wsum(rt.quantile_adjoint(g, W34, 0.4, axis=0) ** 2),
         (normal(4),)),
    # differentiable in q as well (the JAX port found d/dq silently 0)
    Spec("quantile_tangent",
         lambda t, q: _wsum(rt.quantile_tangent(t, W34, q, axis=1, method="hazen") ** 2),
         (normal(3, 4), np.array([0.23, 0.61])), wrt=(0, 1), id="quantile_tangent-q"),
    Spec("quantile_tangent",
         lambda t, q: _wsum(rt.quantile_tangent(t, W34, q, axis=1, slope=True) ** 2),
         (normal(3, 4), np.array([0.23, 0.61])), wrt=(0, 1), id="quantile_tangent-slope"),
    Spec("quantile_adjoint", lambda g, q: _wsum(rt.quantile_adjoint(g, W34, q, axis=0) ** 2),
         (normal(4), 0.37), wrt=(0, 1), id="quantile_adjoint-q", float32=False),
    Spec("lead_sum", lambda x: _wsum(rt.lead_sum(x ** 2, Q3)), (normal(3, 4),)),
    Spec("lead_broadcast", lambda h: _wsum(rt.lead_broadcast(h ** 2, W34) * W34),
         (normal(3),)),
]

# where= / initial= of the existing reductions
MASK = np.array([[True, False, True, True], [False, False, True, False], [True] * 4])
SPECS += [
    Spec("sum", lambda x: _wsum(np.sum(x, axis=1, where=MASK) ** 2), (normal(3, 4),),
         id="sum-where"),
    Spec("sum", lambda x: np.sum(x ** 2, initial=3.0) + x.sum(where=MASK[0]).sum(),
         (normal(3, 4),), id="sum-initial-method-where"),
    Spec("max", lambda x: _wsum(np.max(x, axis=1, initial=0.0)), (distinct(3, 4) - 6.0,),
         id="max-initial"),
    Spec("min", lambda x: _wsum(np.min(x, axis=0, where=MASK, initial=50.0)), (distinct(3, 4),),
         id="min-where-initial"),
]
SPECS += HELPER_SPECS


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_statistics(spec):
    check_spec(spec)


# a second derivative of cumprod at a zero is refused at run time (treating
# the zero pattern as fixed, as before, gave wrong numbers: cumprod is a
# polynomial, its second derivative at a zero is the product of the others)
HVP_REFUSED = {"cumprod-zeros", "cumprod-zeros-flat", "cumprod-zeros-axis0"}


@pytest.mark.parametrize("spec", [s for s in SPECS if s.id not in HVP_REFUSED],
                         ids=lambda s: s.id)
def test_statistics_hvp(spec):
    check_hvp(spec)


@pytest.mark.parametrize("spec", [s for s in SPECS if s.id in HVP_REFUSED], ids=lambda s: s.id)
def test_statistics_hvp_refused_at_zeros(spec):
    with pytest.raises(ValueError, match="s2sgrad: a second derivative of np.cumprod"):
        check_hvp(spec)


# ---------------------------------------------------------------- exact values and conventions


def _g(f, *args, wrt=0):
    return s2sgrad.grad(f, wrt=wrt)(*args)


def test_cumprod_exact_at_zeros():
    f = lambda x: np.sum(np.cumprod(x))
    np.testing.assert_array_equal(_g(f, np.array([2.0, 0.0, 3.0, 4.0])), [1.0, 32.0, 0.0, 0.0])
    np.testing.assert_array_equal(_g(f, np.array([0.0, 5.0, 0.0])), [6.0, 0.0, 0.0])
    np.testing.assert_allclose(_g(f, np.array([2.0, 3.0, 4.0])), [16.0, 10.0, 6.0])
    # forward mode agrees at the zeros
    _, t = s2sgrad.jvp(f)((np.array([2.0, 0.0, 3.0, 4.0]),), (np.array([1.0, 1.0, 1.0, 1.0]),))
    assert t == 33.0


def test_quantile_ties_follow_the_stable_sort():
    np.testing.assert_array_equal(_g(lambda x: np.median(x), np.array([1.0, 3.0, 3.0, 0.0, 3.0])),
                                  [0.0, 1.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(_g(lambda x: np.median(x), np.array([2.0, 2.0, 1.0, 5.0])),
                                  [0.5, 0.5, 0.0, 0.0])
    # linear interpolation weights: 4 * 0.3 = 1.2 -> 0.8 on the 2nd smallest, 0.2 on the 3rd
    g = _g(lambda x: np.percentile(x, 30), np.array([4.0, 0.0, 3.0, 1.0, 2.0]))
    np.testing.assert_allclose(g, [0.0, 0.0, 0.0, 0.8, 0.2])
    g = _g(lambda x: np.quantile(x, 0.3, method="lower"), np.array([4.0, 0.0, 3.0, 1.0, 2.0]))
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0, 1.0, 0.0])


def test_nan_reductions_skip_nans_exactly():
    x = np.array([[np.nan, 2.0, 2.0], [1.0, np.nan, 3.0], [np.nan, np.nan, np.nan]])
    g = _g(lambda x: np.sum(np.nanmax(x[:2], axis=1)), x)
    np.testing.assert_array_equal(g, [[0.0, 0.5, 0.5], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    g = _g(lambda x: np.sum(np.nanmean(x[:2], axis=1)), x)
    np.testing.assert_array_equal(g, [[0.0, 0.5, 0.5], [0.5, 0.0, 0.5], [0.0, 0.0, 0.0]])
    with pytest.warns(RuntimeWarning, match="All-NaN"):       # NumPy's own warning
        g = _g(lambda x: np.nansum(np.nanmedian(x, axis=1)), x)
    np.testing.assert_array_equal(g, [[0.0, 0.5, 0.5], [0.5, 0.0, 0.5], [0.0, 0.0, 0.0]])
    g = _g(lambda x: np.nanprod(x[1]), x)
    np.testing.assert_array_equal(g, [[0.0, 0.0, 0.0], [3.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    # an all-NaN row (variance NaN, its count 0) leaves the other rows' cotangent
    # finite and NaN-free (it was NaN at every NaN entry: g / 0 times a zeroed 0)
    for red in (np.nanvar, np.nanstd):
        with pytest.warns(RuntimeWarning):
            g = _g(lambda x: np.sum(np.nan_to_num(red(x, axis=1))), x)
        assert np.all(np.isfinite(g)), (red, g)
        assert np.all(g[np.isnan(x)] == 0) and np.all(g[2] == 0)


def test_max_initial_and_sum_where_exact():
    x = np.array([1.0, 3.0, 3.0])
    np.testing.assert_array_equal(_g(lambda x: np.max(x, initial=5.0), x), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(_g(lambda x: np.max(x, initial=2.0), x), [0.0, 0.5, 0.5])
    # initial ties like an element: as np.max(np.append(x, 3.0)) (session 23)
    np.testing.assert_allclose(_g(lambda x: np.max(x, initial=3.0), x), [0.0, 1 / 3, 1 / 3],
                               rtol=1e-15)
    np.testing.assert_allclose(_g(lambda x: np.max(x, initial=3.0), x),
                               _g(lambda x: np.max(np.append(x, 3.0)), x), rtol=1e-15)
    m = np.array([True, False, True])
    np.testing.assert_array_equal(_g(lambda x: np.sum(x * 2.0, where=m), x), [2.0, 0.0, 2.0])
    np.testing.assert_array_equal(_g(lambda x: np.max(x, where=m, initial=0.0), x),
                                  [0.0, 0.0, 1.0])


def test_ptp_of_a_constant_is_flat():
    np.testing.assert_array_equal(_g(lambda x: np.ptp(x), np.full(3, 2.0)), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(_g(lambda x: np.ptp(x), np.array([1.0, 4.0, 4.0, 0.0])),
                                  [0.0, 0.5, 0.5, -1.0])


def test_cov_matches_closed_form():
    m = normal(2, 5)
    g = _g(lambda m: np.cov(m)[0, 1], m)
    c = m - m.mean(axis=1, keepdims=True)
    np.testing.assert_allclose(g, np.stack([c[1], c[0]]) / 4)
    x = normal(3, 6)
    f = lambda x: np.sum(np.corrcoef(x) * W3[:, None] * W3)
    s2sgrad.check_grads(f, (x,), modes=("rev", "fwd"))


def test_values_match_numpy():
    x = distinct(3, 5)
    f = lambda x: (np.cumprod(x, axis=1), np.diff(x, 2, prepend=1.0), np.gradient(x, axis=1),
                   np.trapezoid(x, XS5), np.average(x, 1, W5 ** 2), np.ptp(x, 0),
                   np.quantile(x, Q3, axis=1), np.cov(x), np.corrcoef(x.T), np.nanvar(x),
                   np.kron(x, W2), np.convolve(x[0], W3, "same"), np.cross(x[:, :3], W3))
    out, _ = s2sgrad.vjp(f)(x)
    for a, b in zip(out, f(x)):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)


def test_generated_code_reads_like_numpy():
    def f(x, w):
        return np.average(x, axis=0, weights=w).sum() + np.median(x) + np.sum(np.diff(x, n=2))
    src = s2sgrad.grad(f, wrt=(0, 1)).generic_source
    for piece in ("np.average(x, axis=0, weights=w)", "np.median(x)", "np.diff(x, 2)",
                  "quantile_adjoint(", "diff_adjoint(", "average_weights("):
        assert piece in src, (piece, src)


@pytest.mark.filterwarnings("ignore:Arrays of 2-dimensional vectors:DeprecationWarning")
def test_run_time_refusals_explain():
    # np.gradient(x)[k] of an N-d x reads one axis's derivative (gradient_pick,
    # session 19): no longer refused
    x = normal(3, 4)
    f = lambda x: np.sum(np.gradient(x)[0] * W3[:, None])
    s2sgrad.check_grads(f, (x,), modes=("rev", "fwd"))
    np.testing.assert_allclose(s2sgrad.vjp(f)(x)[0], f(x), rtol=1e-14)
    np.testing.assert_allclose(s2sgrad.grad(lambda x: np.sum(np.gradient(x)))(np.ones(4)),
                               [-1.5, 0.5, -0.5, 1.5])   # f1 - f0, (f2 - f0) / 2, ...
    # axis=None spelled out is checked too (it returned NumPy's tuple past the
    # one result compiled for it)
    with pytest.raises(ValueError, match="axis="):
        s2sgrad.vjp(lambda x: np.gradient(x, axis=None))(normal(3, 4))



@pytest.mark.filterwarnings("ignore::DeprecationWarning")      # NumPy 2's, for 2-vectors
def test_cross_of_2_vectors():
    # 2-vectors are 3-vectors with a zero third component (deprecated in NumPy 2,
    # still computed); the reverse rule refused them (found by the JAX port)
    a, b = normal(4, 2), normal(2)
    g = s2sgrad.grad(lambda a, b: np.sum(np.cross(a, b) * W4), wrt=(0, 1))(a, b)
    np.testing.assert_allclose(g[0], np.stack([W4 * b[1], -W4 * b[0]], axis=1), rtol=1e-12)
    np.testing.assert_allclose(g[1], [-np.sum(W4 * a[:, 1]), np.sum(W4 * a[:, 0])], rtol=1e-12)
    s2sgrad.check_grads(lambda a, c: np.sum(np.cross(a, c) ** 2), (normal(3, 2), normal(3, 3)),
                        wrt=(0, 1))


def export_loss(x, w):
    y = np.pad(x, 1, mode="edge")
    return (np.sum(np.cumprod(y, axis=1)) + np.median(x) + np.sum(np.diff(x) ** 2)
            + np.sum(np.average(x, axis=0, weights=w) ** 2))


def test_exported_module_carries_the_new_helpers(tmp_path):
    import importlib.util
    g = s2sgrad.grad(export_loss, wrt=(0, 1))
    x, w = normal(3, 4), pos(3)
    path = tmp_path / "loss_grad.py"
    s2sgrad.export(g, str(path))
    spec = importlib.util.spec_from_file_location("loss_grad", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for a, b in zip(mod.export_loss_grad(x, w), g(x, w)):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    text = path.read_text()
    for helper in ("def unpad(", "def quantile_adjoint(", "def diff_adjoint(",
                   "def average_weights("):
        assert helper in text, helper


def test_diff_adjoint_float32_strided_edge():
    # NumPy 2.4's float32 np.negative(..., out=<strided view of inner length 1>)
    # wrote its result as if ``out`` were contiguous: the float32 cotangent of a
    # 3-d np.diff(n=2) came back scrambled while float64 was right
    g = normal(2, 3, 3)
    want = rt.diff_adjoint(g, W234, None, None, n=2)
    got = rt.diff_adjoint(g.astype(np.float32), W234.astype(np.float32), None, None, n=2)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
