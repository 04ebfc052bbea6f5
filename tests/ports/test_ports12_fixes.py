"""Regressions found by the ports12 cases and probes (each fails on bcc0d16).

* **A list literal with a computed item times a count computed at run time
  was NumPy's product.**  ``[v] * n`` with ``n`` known only when the code
  runs (``x.shape[0]``, ``len(xs)`` in code compiled for every shape) and
  ``v`` computed was lowered as ``np.array([v]) * n``:
  ``ys = [x[0]] * x.shape[0]`` made one element ``3 * x[0]`` instead of
  three copies of ``x[0]`` -- value and gradient silently wrong (1.95 for
  0.65) -- and so did the nested ``[[1.0] * m] * n`` (110 for 55).  Python's
  meaning depends on the run-time type of ``n`` (an int repeats the list, an
  ndarray multiplies, a float raises), so the product is now guarded
  (``runtime.not_a_count``, lowered in ``lower/expressions.binop``): an
  ndarray keeps NumPy's product, anything else is refused naming the user's
  line, with what to write instead.  A list of constants (``[2.0] * n``,
  ``(0,) * x.ndim``) is written as Python's product and stays as it was.
* **nanmedian / nanquantile / nanpercentile of a product with NaN data had
  NaN gradients** (PyTorch's test_ops_gradients samples of nanmedian and
  nanquantile, with NaNs in the data): ``nanmedian(a * y)`` with a NaN in
  ``y`` gave NaN for ``a`` at that position, where the derivative is 0 (the
  NaN is dropped whatever ``a`` is) -- ``0 * nan`` in the product's adjoint.
  where11 fixed this for nansum/nanmean/nanvar/... by an explicit NaN mask
  on the reduction's cotangent that ``masking.py`` sinks past the product;
  the quantile rules' cotangent (``quantile_adjoint``) was 0 at the NaNs
  without the mask.  It now carries it (``primitives/statistics.py``).
* **Forward mode gave NaN where reverse mode gave the 0 of a saturated clip
  or a masked branch.**  ``np.arcsin(np.clip(x, -1, 1))`` at ``x = 2``
  (JAX's checkify-style edges; clip's tangent is ``where(inside, t, 0)``,
  then multiplied by arcsin's partial, infinite at 1) and
  ``np.sqrt(np.where(x > 0, x, 0))`` at ``x < 0``: ``jvp``, ``jacobian``
  in forward mode and reverse over forward gave NaN, ``grad`` gave 0.
  where11's pass (``masking.py``) sank only adjoint code's masks; it now
  sinks tangent code's too (the same linear steps), and ``jvp_func`` runs it
  (``forward.py``).
* **``and``/``or`` of comparisons evaluated every operand.**  ``while j < 2
  and x[j] < 5.0`` (JAX's while_loop with a data-dependent exit, written as
  Python) read ``x[2]`` when ``j`` reached 2 and crashed, and so did ``if
  d != 0 and x / d > 1`` at ``d = 0`` and a dict or list item guarded by an
  index test: comparisons joined by ``and``/``or`` were lowered to
  ``logical_and``/``logical_or`` of all of them (only comparisons of calls
  were lazy).  Comparisons that index or divide are now evaluated only when
  Python would (``lower/expressions.expr_BoolOp``).

Refused before, now supported:

* ``min``/``max`` of numbers known while compiling (a static int argument
  clamped, ``fs[min(max(k, 0), 2)](x)``: JAX's ``lax.switch`` clamps its
  index so) are folded with Python's own ``min``/``max``, so the index into
  a list of functions is a constant (``lower/builtins._b_maxmin``); before,
  the index was a run-time value and the call was refused.
"""
from __future__ import annotations

import numpy as np
import pytest

import s2sgrad

pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning")]


def _fd(f, x, h=1e-6):
    g = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        e = np.zeros(x.shape)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def repeat_item(x):
    ys = [x[0]] * x.shape[0]
    return np.sum(np.array(ys) * x)


def repeat_nested(x):
    m = np.array([[1.0] * x.shape[1]] * x.shape[0])
    return np.sum(m * x ** 2)


def repeat_item_on_left(x):
    return np.sum(np.array(len(x) * [x[0], 1.0]) ** 2)


@pytest.mark.parametrize("fn", [repeat_item, repeat_nested, repeat_item_on_left])
def test_list_times_runtime_count_refused(fn):
    x = np.array([[0.5, -1.2, 2.0], [0.3, 0.1, -0.4]]) if fn is repeat_nested else \
        np.array([0.5, -1.2, 2.0])
    with pytest.raises(s2sgrad.S2SGradError) as info:
        s2sgrad.value_and_grad(fn)(x)
    msg = str(info.value)
    assert "test_ports12_fixes.py" in msg and "repeats the list" in msg and "np.full" in msg
    with pytest.raises(s2sgrad.S2SGradError, match="repeats the list"):
        s2sgrad.jvp(fn)((x,), (np.ones_like(x),))


def constant_list_repeated(x):
    idx = (0,) * x.ndim
    w = np.array([0.5] * x.shape[0])
    return x[idx] * np.sum(w[:, None] * x ** 2) + np.sum(len(x) * [1.0, 2.0])


def test_constant_list_times_runtime_count_unchanged():
    x = np.array([[0.5, -1.2, 2.0], [0.3, 0.1, -0.4]])
    v, g = s2sgrad.value_and_grad(constant_list_repeated)(x)
    assert np.isclose(v, constant_list_repeated(x))
    assert np.allclose(g, _fd(constant_list_repeated, x), rtol=1e-6, atol=1e-8)


def list_times_array(w):
    return np.sum(np.sin([1.5, -0.5] * w))


def array_times_list(w):
    return np.sum(np.exp(w * (0.25, 2.0)))


@pytest.mark.parametrize("fn", [list_times_array, array_times_list])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_list_times_array_keeps_numpy_product(fn, dtype):
    w = np.array([[0.3, -0.8], [1.1, 0.2], [-0.4, 0.9]], dtype=dtype)
    v, g = s2sgrad.value_and_grad(fn)(w)
    assert np.allclose(v, fn(w), rtol=1e-6 if dtype == np.float32 else 1e-12)
    assert g.dtype == dtype and g.shape == w.shape
    ref = _fd(fn, w.astype(np.float64))
    assert np.allclose(g, ref, rtol=1e-3 if dtype == np.float32 else 1e-6, atol=1e-6)


def test_list_times_0d_array():
    w = np.array(1.5)
    v, g = s2sgrad.value_and_grad(list_times_array)(w)
    assert np.allclose(v, list_times_array(w))
    assert np.allclose(g, np.cos(1.5 * 1.5) * 1.5 + np.cos(-0.5 * 1.5) * -0.5)


def test_list_times_python_float_raises_as_python():
    # Python raises (can't multiply sequence by non-int of type 'float'); so
    # does the compiled product of a list of constants
    with pytest.raises(TypeError):
        list_times_array(1.5)
    with pytest.raises(TypeError):
        s2sgrad.grad(list_times_array)(1.5)


def repeat_static(x):
    ys = [x[0]] * 3          # a constant count: repeated while compiling, as before
    return np.sum(np.array(ys) * x)


def test_list_times_constant_count_still_repeats():
    x = np.array([0.5, -1.2, 2.0])
    v, g = s2sgrad.value_and_grad(repeat_static)(x)
    assert np.isclose(v, repeat_static(x))
    assert np.allclose(g, _fd(repeat_static, x), atol=1e-7)


_NAN_DATA = np.array([[1, np.nan, 1, 1], [1, 1, 1, 1], [np.nan, 1, 1, 1.0]])
_A = np.array([[0.3, 1.2, -0.4, 2.2], [0.1, 0.5, -1.0, 0.7], [0.9, 0.2, -0.3, 1.5]])


def nanmedian_rows(a, y):
    return np.sum(np.nanmedian(a * y, axis=1) * np.array([1.0, 2.0, 3.0]))


def nanquantile_cols(a, y):
    return np.sum(np.nanquantile(a * y, 0.3, axis=0) ** 2)


def nanpercentile_all(a, y):
    return np.sum(np.nanpercentile(a / y, [20.0, 70.0]) * np.array([1.0, -2.0]))


def nanmedian_where_guarded(a, y):
    return np.nanmedian(np.where(a > 0, a * y, np.nan))


def _fd_a(f, a, y, h=1e-6):
    g = np.zeros(a.shape)
    for i in np.ndindex(a.shape):
        e = np.zeros(a.shape)
        e[i] = h
        g[i] = (f(a + e, y) - f(a - e, y)) / (2 * h)
    return g


@pytest.mark.parametrize("fn", [nanmedian_rows, nanquantile_cols, nanpercentile_all,
                                nanmedian_where_guarded])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_nan_quantiles_of_products_with_nan_data(fn, dtype):
    a, y = _A.astype(dtype), _NAN_DATA.astype(dtype)
    v, g = s2sgrad.value_and_grad(fn)(a, y)
    assert np.allclose(v, fn(a, y), rtol=1e-6)
    assert g.dtype == dtype and np.all(np.isfinite(g))
    ref = _fd_a(fn, _A, _NAN_DATA)
    assert np.allclose(g, ref, rtol=1e-3 if dtype == np.float32 else 1e-6, atol=1e-6)
    assert np.all(g[np.isnan(_NAN_DATA)] == 0)


@pytest.mark.parametrize("fn", [nanmedian_rows, nanquantile_cols, nanpercentile_all])
def test_nan_quantiles_forward_and_second_order(fn):
    a, y = _A, _NAN_DATA
    v = np.random.default_rng(3).standard_normal(a.shape)
    _, dot = s2sgrad.jvp(fn)((a, y), (v,))
    assert np.isclose(dot, np.sum(_fd_a(fn, a, y) * v), rtol=1e-6)
    # the Hessian-vector product: finite, 0 at the NaNs, and the differences
    # of the gradient (itself checked above)
    hv = s2sgrad.hvp(fn)((a, y), v)
    hv = np.asarray(hv[0] if isinstance(hv, tuple) else hv)
    assert np.all(np.isfinite(hv)) and np.all(hv[np.isnan(y)] == 0)
    g = s2sgrad.grad(fn)
    h = 1e-6
    ref = (g(a + h * v, y) - g(a - h * v, y)) / (2 * h)
    assert np.allclose(hv, ref, rtol=1e-6, atol=1e-7)


W4 = np.array([1.0, 2.0, 3.0, 4.0])
X4 = np.array([-1.5, 0.3, 2.0, 0.7])


def arcsin_clip(x):
    return np.arcsin(np.clip(x, -1.0, 1.0)) * W4


def arccos_clip_method(x):
    return np.arccos(x.clip(-1, 1)) * W4


def sqrt_of_where(x):
    return np.sqrt(np.where(x > 0, x, 0.0)) * W4


def _fd_jac(f, x, h=1e-6):
    return np.stack([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(x.size)], axis=1)


@pytest.mark.parametrize("fn", [arcsin_clip, arccos_clip_method, sqrt_of_where])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_forward_mode_masked_tangents_are_zero(fn, dtype):
    x = X4.astype(dtype)
    ref = _fd_jac(fn, X4)
    tol = dict(rtol=1e-3, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-6, atol=1e-8)
    v = np.array([0.3, -1.1, 0.7, 2.0], dtype=dtype)
    out, dot = s2sgrad.jvp(fn)((x,), (v,))
    assert np.allclose(out, fn(x), rtol=1e-6)
    # (W4 is float64: the output is float64 for either argument dtype, as NumPy's)
    assert dot.dtype == np.asarray(fn(x)).dtype and np.all(np.isfinite(dot))
    assert np.allclose(dot, ref @ v.astype(np.float64), **tol)
    assert dot[0] == 0 and (fn is sqrt_of_where or dot[2] == 0)
    jf = s2sgrad.jacobian(fn, mode="forward")(x)
    jr = s2sgrad.jacobian(fn, mode="reverse")(x)
    assert np.all(np.isfinite(jf)) and np.allclose(jf, jr, **tol) and np.allclose(jf, ref, **tol)


@pytest.mark.parametrize("fn", [arcsin_clip, sqrt_of_where])
def test_forward_mode_masked_tangents_second_order(fn):
    def loss(x):
        return np.sum(fn(x) ** 2)
    v = np.array([0.3, -1.1, 0.7, 2.0])
    g = s2sgrad.grad(loss)
    h = 1e-6
    ref = (g(X4 + h * v) - g(X4 - h * v)) / (2 * h)
    hv = s2sgrad.hvp(loss)((X4,), v)
    hv = np.asarray(hv[0] if isinstance(hv, tuple) else hv)
    assert np.all(np.isfinite(hv)) and np.allclose(hv, ref, rtol=1e-6, atol=1e-7)
    # reverse over forward: the gradient of the directional derivative
    def d(x, t):
        return s2sgrad.jvp(loss)((x,), (t,))[1]
    got = s2sgrad.grad(d)(X4, v)
    assert np.all(np.isfinite(got)) and np.allclose(got, ref, rtol=1e-6, atol=1e-7)


def while_index_guard(x):
    j = 0
    while j < 2 and x[j] < 5.0:
        x = x * 1.3
        j += 1
    return x


def if_index_guard(x, j):
    if j < 2 and x[j] < 5.0:
        return x * x
    return 3.0 * x


def nested_while_index_guard(x):
    i = 0
    while i < 3:
        j = 0
        while j < 2 and x[j] < 5.0:
            x = x * 1.3
            j += 1
        i += 1
    return x


def or_index_guard(x, j):
    if j >= 2 or x[j] > 0.35:
        return np.sin(x)
    return x ** 3


def division_guard(x, d):
    if d != 0 and x / d > 1.0:
        return x * x
    return 3.0 * x


def list_index_guard(x):
    xs = [x, 2.0 * x]
    i = 0
    s = x
    while i < 2 and xs[i] < 5.0:
        s = s * xs[i]
        i += 1
    return s


@pytest.mark.parametrize("fn,extra", [(while_index_guard, ()), (if_index_guard, (2,)),
                                      (if_index_guard, (1,)), (nested_while_index_guard, ()),
                                      (or_index_guard, (2,)), (or_index_guard, (0,)),
                                      (or_index_guard, (1,))])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_and_or_guarded_index_not_evaluated(fn, extra, dtype):
    x = np.array([0.3, 0.4], dtype=dtype)
    u = np.array([1.0, -2.0], dtype=dtype)
    out, pb = s2sgrad.vjp(fn)(x, *extra)
    assert np.allclose(out, fn(x, *extra), rtol=1e-6)
    g = pb(u)
    g = g[0] if isinstance(g, tuple) else g
    ref = _fd(lambda z: np.sum(u * fn(z, *extra)), x.astype(np.float64))
    assert g.dtype == dtype
    assert np.allclose(g, ref, rtol=1e-3 if dtype == np.float32 else 1e-6, atol=1e-6)
    v = np.array([0.7, 0.2], dtype=dtype)
    _, dot = s2sgrad.jvp(fn)((x, *extra), (v,))
    assert np.allclose(dot, ref_jvp(fn, x.astype(np.float64), v.astype(np.float64), extra),
                       rtol=1e-3 if dtype == np.float32 else 1e-6, atol=1e-6)


def ref_jvp(fn, x, v, extra, h=1e-6):
    return (fn(x + h * v, *extra) - fn(x - h * v, *extra)) / (2 * h)


def test_and_or_guards_second_order():
    def loss(x):
        return np.sum(nested_while_index_guard(x) ** 2) + np.sum(or_index_guard(x, 0) ** 2)
    x = np.array([0.3, 0.4])
    v = np.array([0.7, 0.2])
    g = s2sgrad.grad(loss)
    h = 1e-6
    ref = (g(x + h * v) - g(x - h * v)) / (2 * h)
    hv = s2sgrad.hvp(loss)((x,), v)
    hv = np.asarray(hv[0] if isinstance(hv, tuple) else hv)
    assert np.allclose(hv, ref, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("d", [0.0, 1.0, 2.0])
def test_division_guard_python_floats(d):
    v, g = s2sgrad.value_and_grad(division_guard)(1.5, d)
    assert v == division_guard(1.5, d)
    assert np.isclose(g, (division_guard(1.5 + 1e-6, d) - division_guard(1.5 - 1e-6, d)) / 2e-6)


def test_list_item_guard():
    v, g = s2sgrad.value_and_grad(list_index_guard)(1.3)
    assert np.isclose(v, list_index_guard(1.3))
    assert np.isclose(g, (list_index_guard(1.3 + 1e-6) - list_index_guard(1.3 - 1e-6)) / 2e-6,
                      rtol=1e-6)


def switch_clamped(x, k):
    fs = [lambda v: v * v, lambda v: np.exp(v), lambda v: -v]
    j = min(max(k, 0), 2)
    return fs[j](x)


@pytest.mark.parametrize("k", [-3, 0, 1, 2, 7])
def test_switch_index_clamped_by_builtin_min_max(k):
    x = np.array([0.3, -0.8, 1.1])
    u = np.array([1.0, 2.0, -1.0])
    out, pb = s2sgrad.vjp(switch_clamped)(x, k)
    assert np.allclose(out, switch_clamped(x, k))
    g = pb(u)
    g = g[0] if isinstance(g, tuple) else g
    assert np.allclose(g, _fd(lambda z: np.sum(u * switch_clamped(z, k)), x), rtol=1e-6,
                       atol=1e-8)


def test_min_max_of_constants_is_python():
    def f(x):
        return x * max(2, 3.5, 1) + x * min(1.5, -2) + x * max([4, 1])
    v, g = s2sgrad.value_and_grad(f)(0.7)
    assert np.isclose(v, f(0.7)) and np.isclose(g, 3.5 - 2 + 4)
