"""Regression tests for what trust11 found or made exact; each fails on
709bcd7 (refused there, or a wrong number)."""
import dataclasses

import numpy as np
import pytest

import s2sgrad
from s2sgrad import runtime


def _fd(f, args, i, eps=1e-6):
    a = [np.array(v, dtype=float) if isinstance(v, np.ndarray) else v for v in args]
    x = a[i]
    g = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        hi, lo = [v.copy(order='K') if isinstance(v, np.ndarray) else v for v in a], \
            [v.copy(order='K') if isinstance(v, np.ndarray) else v for v in a]
        hi[i][k] += eps
        lo[i][k] -= eps
        g[k] = (f(*hi) - f(*lo)) / (2 * eps)
    return g


def _check(f, args, wrt, rtol=1e-6, atol=1e-8):
    kept = [a.copy(order='K') if isinstance(a, np.ndarray) else a for a in args]
    want = f(*[a.copy(order='K') if isinstance(a, np.ndarray) else a for a in args])
    v, g = s2sgrad.value_and_grad(f, wrt=wrt)(*args)
    np.testing.assert_allclose(v, want, rtol=1e-12, atol=1e-12)
    for w, gw in zip(wrt, g):
        np.testing.assert_allclose(gw, _fd(f, args, w), rtol=rtol, atol=atol)
    for a, k in zip(args, kept):
        np.testing.assert_array_equal(a, k)       # the caller's data unchanged


# ---------------------------------------------------------------- loop carries' layouts
# A loop carry written through a view of a transpose (B = A.T; B[1] -= x)
# is, in the generated code, a transpose of a C-ordered copy, where NumPy's
# array keeps its memory and its strides; the next step's reshape is a view
# or a copy by those strides.  On 709bcd7 such a carry was refused at run
# time (runtime.layout_checked: "another memory layout in NumPy") although
# about half of those programs were right; now the carry is copied into an
# array with NumPy's strides at the end of each step and going in, so the
# reshape decides as NumPy does.

# (trust10's two programs, refused there on 709bcd7, exact now)
from tests.test_trust10_fixes import carry_reversed_reshaped, carry_transposed_written  # noqa: E402


def carry_fortran_written_through_transpose(x, W, n):
    # (probe seed 9 of the loop-layout probe)
    A = np.asfortranarray(W * 1.0)
    s = 0.0
    for t in range(n):
        A.T[...] = A * 0.5
        u = A.reshape(-1)
        u[::2] *= 1.5 + x[0]
        s = s + np.sum(A.reshape(9)[:4] * A[0, 0])
    return s + np.sum(A * np.sin(W)) + np.sum(A ** 2) * 0.3 + np.sum(A[0] * x)


def carry_reversed_rows_ravel(x, W, n):
    A = W * 1.0
    for t in range(n):
        B = A[::-1, ::-1]
        B[0] = x * 2.0
        A = A.T
        u = A.ravel()
        u[1:4] *= 0.5
    return np.sum(A * np.cos(W)) + np.sum(A[0] * x)


def carry_layout_while(x, W, n):
    A = W.T.copy()
    t = 0
    while t < n:
        A = A.T
        u = A.reshape(-1)
        u += 0.1 * x[t % 3]
        B = A.T
        B[1] -= x
        t += 1
    return np.sum(A * np.sin(W))


def carry_layout_break(x, W, n):
    A = W.copy()
    for t in range(n):
        A = A[::-1]
        u = A.reshape(-1)
        u += 0.1
        if t == 2:
            break
        u = A.reshape(3, 3, order='F')
        u[0] *= 2.0 + x[0]
    return np.sum(A * np.sin(W)) + np.sum(A[0] * x)


LAYOUT_LOOPS = [carry_transposed_written, carry_reversed_reshaped,
                carry_fortran_written_through_transpose, carry_reversed_rows_ravel,
                carry_layout_while, carry_layout_break]


@pytest.mark.parametrize("f", LAYOUT_LOOPS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("n", [0, 1, 2, 3, 4])
def test_loop_carry_with_another_layout_is_exact(f, n):
    rng = np.random.default_rng(11 + n)
    x, W = rng.normal(size=3), rng.normal(size=(3, 3))
    _check(lambda x, W: f(x, W, n), (x, W), (0, 1))


@pytest.mark.parametrize("f", LAYOUT_LOOPS, ids=lambda f: f.__name__)
def test_loop_carry_layout_fortran_and_float32_arguments(f):
    rng = np.random.default_rng(5)
    x, W = rng.normal(size=3), np.asfortranarray(rng.normal(size=(3, 3)))
    _check(lambda x, W: f(x, W, 3), (x, W), (0, 1))
    x32, W32 = x.astype(np.float32), W.astype(np.float32)
    v, (gx, gW) = s2sgrad.value_and_grad(lambda x, W: f(x, W, 2), wrt=(0, 1))(x32, W32)
    want = f(x32.copy(), W32.copy(order='K'), 2)
    assert np.asarray(v).dtype == np.asarray(want).dtype
    np.testing.assert_allclose(v, want, rtol=1e-5)
    np.testing.assert_allclose(gW, _fd(lambda x, W: f(x, W, 2), (x, W), 1), rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize("f", LAYOUT_LOOPS, ids=lambda f: f.__name__)
def test_loop_carry_layout_forward_and_second_order(f):
    rng = np.random.default_rng(2)
    x, W = rng.normal(size=3), rng.normal(size=(3, 3))

    def fx(x):
        return f(x, W, 3)
    g = s2sgrad.grad(fx)
    H = s2sgrad.hessian(fx)(x)
    Hfd = np.array([(g(x + 1e-5 * u) - g(x - 1e-5 * u)) / 2e-5 for u in np.eye(3)])
    np.testing.assert_allclose(H, Hfd, atol=1e-6)
    v, t = s2sgrad.jvp(fx)((x,), (np.array([1.0, -2.0, 0.5]),))
    d = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(t, (fx(x + 1e-6 * d) - fx(x - 1e-6 * d)) / 2e-6, atol=1e-6)


def test_layout_copy_has_numpy_strides():
    v = np.arange(12.0).reshape(3, 4)
    for w in (np.asfortranarray(v), v[::-1], v[:, ::-1], v.T.copy().T, np.ones((6, 8))[::2, ::2]):
        out = runtime.layout_checked(v, w, what="a loop")
        assert out.strides == w.strides and not np.may_share_memory(out, v) and \
            not np.may_share_memory(out, w)
        np.testing.assert_array_equal(out, v)
        # (the point: a reshape is a view or a copy as NumPy's would be)
        assert np.may_share_memory(out.reshape(-1), out) == np.may_share_memory(w.reshape(-1), w)
    assert runtime.layout_checked(v, v.copy()) is v
    # strides that cannot hold distinct values, or another item size: refused
    w0 = np.lib.stride_tricks.as_strided(v, shape=(3, 4), strides=(8, 8))
    with pytest.raises(ValueError, match="another memory layout"):
        runtime.layout_checked(v, w0, what="a loop")
    with pytest.raises(ValueError, match="another memory layout"):
        runtime.layout_checked(v, np.asfortranarray(v, dtype=np.float32), what="a loop")


# ---------------------------------------------------------------- object and string dtypes
# A differentiated value converted to an object (or string) array lost its
# derivative silently on 709bcd7, as a cast to int does: o = np.array([x[0],
# 1.0], dtype=object); o[0] * 2.0 + o[1] had gradient [0, 0, 0] for [2, 0, 0]
# (trust11 harness, dtypes family, seed 24).  An object array holds the
# values themselves, so the derivative is not zero: now refused naming the
# line, in every spelling of the conversion.

def obj_array_of_items(x):
    o = np.array([x[0], 1.0], dtype=object)
    return o[0] * 2.0 + o[1]


def obj_asarray(x):
    o = np.asarray(x, dtype=object)
    return np.sum(o * 2.0)


def obj_astype(x):
    return np.sum(x.astype(object) * 2.0)


def obj_array_letter(x):
    o = np.array(x, dtype='O')
    return o[1] * 3.0


def str_round_trip(x):
    return np.sum(x.astype(str).astype(float))


@pytest.mark.parametrize("f", [obj_array_of_items, obj_asarray, obj_astype, obj_array_letter,
                               str_round_trip], ids=lambda f: f.__name__)
def test_differentiated_value_to_object_or_string_dtype_refused(f):
    x = np.array([0.3, 0.5, 0.7])
    with pytest.raises(s2sgrad.S2SGradError, match="converted to dtype") as exc:
        s2sgrad.value_and_grad(f)(x)
    assert "test_trust11_fixes.py" in str(exc.value)


def test_object_dtype_chosen_at_call_refused():
    def f(x, dt):
        return np.sum(x.astype(dt) * 2.0)
    x = np.array([0.3, 0.5, 0.7])
    with pytest.raises((s2sgrad.S2SGradError, ValueError), match="converted to dtype"):
        s2sgrad.value_and_grad(f)(x, object)
    v, g = s2sgrad.value_and_grad(f)(x, np.float32)
    assert v == f(x, np.float32) and np.array_equal(g, [2.0, 2.0, 2.0])


def test_object_array_of_data_times_parameter_still_exact():
    # an object array that is data: no refusal, the gradient as NumPy's values
    def f(x):
        o = np.array([1.0, 2.0, 3.0], dtype=object)
        return np.sum(o * x) + np.sum(x.astype(int) * x)
    _check(f, (np.array([0.3, 1.5, -0.7]),), (0,))


# ---------------------------------------------------------------- writes into a dataclass's arrays
# An array held by a dataclass instance built in the function (a pytree
# object: s2sgrad.lower.values.TreeObj) did not see writes into it: m.W[0] =
# x, or through another name (A = m.W; A[0] = x), another reference to the
# object, a method (self.W[0] += v), a helper, a branch or a loop; later
# reads of m.W gave the old array.  On 709bcd7 `m = Aff(W.copy()); m.W[0] =
# x; np.sum(m(x))` gave 1.08 for NumPy's 1.14 (trust11 harness, classes
# family).  Writes now replace the object's leaves as they replace a list's
# or a dict's items (lower/aliasing._atoms_in/_replace_atoms, the branch
# merge and the loop's held carries in lower/control.py).

@dataclasses.dataclass
class Aff:
    W: np.ndarray
    b: float = 0.1

    def __call__(self, v):
        return np.tanh(self.W @ v + self.b)

    def bump(self, v):
        self.W[0] += v
        return self


def dc_write_attribute_item(x, W):
    m = Aff(W.copy())
    m.W[0] = x
    return np.sum(m(x))


def dc_write_in_method(x, W):
    m = Aff(W * 1.0)
    m.bump(x)
    return np.sum(m(x)) + np.sum(m.W ** 2)


def _dc_helper(m, v):
    m.W[1] = v * 2.0


def dc_write_in_helper(x, W):
    m = Aff(W.copy())
    _dc_helper(m, x)
    return np.sum(m(x))


def dc_write_through_view_of_base(x, W):
    A = W * 1.0
    m = Aff(A[1:])
    m.W[0] = x
    return np.sum(A ** 2) + np.sum(m.W)


def dc_write_through_other_object(x, W):
    m = Aff(W * 1.0)
    k = Aff(m.W)
    k.W[2] = x
    n = m
    n.W[1] += x
    return np.sum(m.W * W)


def dc_write_in_branch(x, W):
    m = Aff(W * 1.0)
    if x[0] > 0:
        m.W[0] = x
    else:
        m.W[1] = x * 2.0
    return np.sum(m.W ** 2)


def dc_write_name_in_loop(x, W, n=2):
    m = Aff(W * 1.0)
    A = m.W
    for t in range(n):
        A[1] += x
    return np.sum(m.W ** 2)


def dc_in_list(x, W):
    ms = [Aff(W * 1.0), Aff(W * 2.0)]
    ms[1].W[0] = x
    return np.sum(ms[1].W ** 2) + np.sum(ms[0].W)


@dataclasses.dataclass
class _WithList:
    W: np.ndarray
    bs: list


def dc_list_field_written(x, W):
    m = _WithList(W * 1.0, [x * 1.0, x * 2.0])
    b = m.bs[0]
    b += W[1]
    m.bs[1][0] = W[0, 0]
    return np.sum(m.bs[0] ** 2) + np.sum(m.bs[1] * m.W[2])


DC_WRITES = [dc_list_field_written, dc_write_attribute_item, dc_write_in_method, dc_write_in_helper,
             dc_write_through_view_of_base, dc_write_through_other_object, dc_write_in_branch,
             dc_write_name_in_loop, dc_in_list]


@pytest.mark.parametrize("f", DC_WRITES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("shift", [1.0, -1.0])
def test_write_into_dataclass_array_is_seen(f, shift):
    rng = np.random.default_rng(7)
    x, W = rng.normal(size=3) + shift, rng.normal(size=(3, 3))
    _check(f, (x, W), (0, 1))


def test_write_into_dataclass_array_float32_and_fortran():
    rng = np.random.default_rng(8)
    x, W = rng.normal(size=3), np.asfortranarray(rng.normal(size=(3, 3)))
    _check(dc_write_through_other_object, (x, W), (0, 1))
    x32, W32 = x.astype(np.float32), W.astype(np.float32)
    v, (gx, gW) = s2sgrad.value_and_grad(dc_write_attribute_item, wrt=(0, 1))(x32, W32)
    want = dc_write_attribute_item(x32.copy(), W32.copy())
    assert np.asarray(v).dtype == np.asarray(want).dtype
    np.testing.assert_allclose(v, want, rtol=1e-5)
    np.testing.assert_allclose(gx, _fd(dc_write_attribute_item, (x, W), 0), rtol=1e-3, atol=1e-4)


def test_dataclass_changed_in_runtime_loop_refused():
    # (the object itself in a loop that runs at run time: refused, not wrong)
    def f(x, W, n):
        m = Aff(W * 1.0)
        for t in range(n):
            m.W[t % 3] *= x[t % 3]
        return np.sum(m.W)
    with pytest.raises(s2sgrad.S2SGradError, match="changed in this loop"):
        s2sgrad.value_and_grad(f)(np.ones(3), np.eye(3), 3)


# ---------------------------------------------------------------- integer dtype= options
# np.sum(x, dtype=int) (and mean, prod, cumsum, cumprod, nansum, trace,
# np.add.reduce/accumulate ...) casts the operand to integers first, so the
# result is piecewise constant; on 709bcd7 the derivative passed as if the
# dtype were float: np.sum(np.cumsum(3 x, dtype=int)) had gradient [9, 6, 3]
# for [0, 0, 0] (found probing the dtypes family's neighbours).  Now every
# primitive with a dtype option gives derivative 0 for an int/bool dtype
# (primitives.core.defprim wraps the rules) and refuses an object dtype.

X3 = np.array([0.7, 1.6, -2.3])
INT_DTYPE = {
    "sum": lambda x: np.sum(x * 3.0, dtype=int) * 1.0 + np.sum(x ** 2),
    "sum_method": lambda x: (x * 3.0).sum(dtype=np.int32) + np.sum(x ** 2),
    "mean": lambda x: np.mean(x * 3.0, dtype=int) + np.sum(x ** 2),
    "mean_bool": lambda x: np.mean(x * 3.0, dtype=bool) * 1.0 + np.sum(x ** 2),
    "prod": lambda x: np.prod(x * 3.0, dtype=int) * 1.0 + np.sum(x ** 2),
    "cumsum": lambda x: np.sum(np.cumsum(x, dtype=int) * x),
    "cumsum_only": lambda x: np.sum(np.cumsum(x * 3.0, dtype=int)) + np.sum(np.sin(x)),
    "cumprod": lambda x: np.sum(np.cumprod(x * 3.0, dtype=int)) * 1.0 + np.sum(x ** 2),
    "nansum": lambda x: np.nansum(x * 3.0, dtype=int) * 1.0 + np.sum(x ** 2),
    "trace": lambda x: np.trace(np.outer(x, x) * 3, dtype=int) * 1.0 + np.sum(x ** 2),
    "add_reduce": lambda x: np.add.reduce(x * 3.0, dtype=int) * 1.0 + np.sum(x ** 2),
    "add_accumulate": lambda x: np.sum(np.add.accumulate(x * 3.0, dtype=int)) * 1.0 + x[0],
}


@pytest.mark.parametrize("name", list(INT_DTYPE))
def test_integer_dtype_option_has_derivative_zero(name):
    _check(INT_DTYPE[name], (X3.copy(),), (0,))


def test_integer_dtype_option_forward_and_second_order():
    f = INT_DTYPE["cumsum"]
    np.testing.assert_allclose(s2sgrad.hessian(f)(X3), np.zeros((3, 3)), atol=1e-12)
    v, t = s2sgrad.jvp(f)((X3,), (np.array([1.0, 2.0, 3.0]),))
    c = np.cumsum(X3, dtype=int)
    assert v == f(X3) and np.isclose(t, c @ [1.0, 2.0, 3.0])


def test_float_dtype_option_still_passes_the_derivative():
    f = lambda x: np.sum(np.cumsum(x, dtype=np.float64) * x) + np.mean(x ** 2, dtype=float)
    _check(f, (X3.copy(),), (0,))
    v, g = s2sgrad.value_and_grad(lambda x: np.sum(x ** 2, dtype=np.float32))(X3)
    assert np.asarray(v).dtype == np.float32 and np.allclose(g, 2 * X3, rtol=1e-6)


def test_object_dtype_option_refused():
    with pytest.raises(s2sgrad.S2SGradError, match="dtype object"):
        s2sgrad.value_and_grad(lambda x: np.sum(x, dtype=object) * 1.0)(X3)


# ---------------------------------------------------------------- lazy iterators
# Python runs a generator (and zip/map/enumerate/... iterators) when it is
# consumed; s2sgrad evaluates it where it is written.  On 709bcd7 only a
# generator *expression* consumed after a write was refused: a generator
# function's iterator (g = gen_rows(A); A[1] = x; sum(g): 2.04 for NumPy's
# 9.49, gradient 0), zip/enumerate of an array written before the loop
# (5.31 vs -0.32), and a generator expression whose body reads a name
# rebound before it is consumed (x = x * 10: 0.46 vs 4.6) gave wrong
# numbers.  Now each is refused naming the line (lower/syntax.late_generators,
# statements.lazy_iterator_call); consumed before any write, they work.

def _gen_rows(A):
    for i in range(A.shape[0]):
        yield A[i] * 1.0


def _gen_scaled(A, c):
    for r in A:
        yield r * c


def lazy_genfn_then_write(x, W):
    A = W * 1.0
    g = _gen_rows(A)
    A[1] = x
    return sum(np.sum(v ** 2) for v in g)


def lazy_zip_then_write(x, W):
    A = W * 1.0
    z = zip(x, A)
    A[0] = x
    return sum(a * np.sum(r ** 2) for a, r in z)


def lazy_enumerate_then_inplace(x, W):
    A = W * 1.0
    e = enumerate(A)
    A *= 2.0
    return sum(i * np.sum(r * x) for i, r in e)


def lazy_genfn_args_then_write(x, W):
    A = W * 1.0
    g = _gen_scaled(A, 2.0)
    A[0] *= 3.0
    return sum(np.sum(v * x) for v in g)


def lazy_genexp_name_rebound(x, W):
    A = W * 1.0
    g = (np.sum(r * x) for r in A)
    x = x * 10.0
    return sum(g)


def lazy_map_then_write(x, W):
    A = W * 1.0
    m = map(lambda r: r * 2.0, A)
    A[2] = x
    return sum(np.sum(v ** 2) for v in m)


def _local_generator_then_write(x, W):
    def rows(A):
        for r in A:
            yield r + 0.0
    A = W * 1.0
    g = rows(A)
    A[2] = x
    return sum(np.sum(v * x) for v in g)


LAZY_LATE = [lazy_genfn_then_write, lazy_zip_then_write, lazy_enumerate_then_inplace,
             lazy_genfn_args_then_write, lazy_genexp_name_rebound, lazy_map_then_write,
             _local_generator_then_write]


@pytest.mark.parametrize("f", LAZY_LATE, ids=lambda f: f.__name__)
def test_lazy_iterator_consumed_after_a_write_refused(f):
    x, W = np.array([0.7, 1.6, -2.3]), np.arange(9.0).reshape(3, 3) / 10
    with pytest.raises(s2sgrad.S2SGradError, match="consumed after the write") as exc:
        s2sgrad.value_and_grad(f, wrt=(0, 1))(x, W)
    assert "test_trust11_fixes.py" in str(exc.value)


def lazy_consumed_first(x, W):
    A = W * 1.0
    g = _gen_rows(A)
    z = zip(x, A)
    s = sum(np.sum(v ** 2) for v in g) + sum(a * np.sum(r) for a, r in z)
    A[1] = x
    e = enumerate(A)
    g2 = (r * x for r in A)
    A2 = A * 3.0                       # (the first iterable is read where it is written)
    return s + sum(i * np.sum(r) for i, r in e) + sum(np.sum(v) for v in g2) + np.sum(A2)


def not_lazy_call_then_write(x, W):
    A = np.zeros(3)
    A[0] = x[1]
    B = np.outer(x, x)
    B[1] *= 2.0
    return np.sum(A * x) + np.sum(B * W)


@pytest.mark.parametrize("f", [lazy_consumed_first, not_lazy_call_then_write],
                         ids=lambda f: f.__name__)
def test_lazy_iterator_consumed_before_writes_is_exact(f):
    rng = np.random.default_rng(12)
    _check(f, (rng.normal(size=3), rng.normal(size=(3, 3))), (0, 1))


# ---------------------------------------------------------------- list literals under `%`
# np.interp(x, [..], fp, period=p), np.choose([..], [x, y], mode='wrap') and
# np.put(x, [..], v, mode='wrap') crashed on 709bcd7 with "TypeError:
# unsupported operand type(s) for %: 'list' and 'float'" (no user line):
# their rules take a remainder of the list literal, printed as `%`.  The
# literal is now an array there.

def interp_period_list(x, y):
    return np.sum(np.interp(x, [0.0, 1.0, 2.0], y[:3], period=2.5) * y[3])


def choose_wrap_list(x, y):
    return np.sum(np.choose([0, 3, 1, 2], [x, y], mode="wrap") * x)


def put_wrap_list(x, y):
    x = x.copy()
    np.put(x, [5, -7], y[:2], mode="wrap")
    return np.sum(x ** 2 * np.arange(1.0, 5.0))


@pytest.mark.parametrize("f", [interp_period_list, choose_wrap_list, put_wrap_list],
                         ids=lambda f: f.__name__)
def test_list_literal_under_remainder(f):
    x, y = np.array([0.7, 1.6, -2.3, 0.4]), np.array([0.3, -0.2, 0.5, 1.1])
    _check(f, (x, y), (0, 1))


# ---------------------------------------------------------------- fmax/fmin next to a NaN
# np.fmin(x, c) where c is NaN returns x, but x got derivative 0 there on
# 709bcd7 (gradient [0, 0, 3] for [1, 0, 3]; np.fmin(c, x) was right): the
# rule gave the win to the NaN operand.  Found checking the README's
# conventions (trust11).

C_NAN = np.array([np.nan, 0.0, 5.0])
FMAXMIN = {
    "fmin": lambda x: np.sum(np.fmin(x, C_NAN) * np.array([1.0, 2.0, 3.0])),
    "fmax": lambda x: np.sum(np.fmax(x, C_NAN) * np.array([1.0, 2.0, 3.0])),
    "fmin_rev": lambda x: np.sum(np.fmin(C_NAN, x) * np.array([1.0, 2.0, 3.0])),
    "fmax_two_params": lambda x: np.sum(np.fmax(x[:2], np.where(x[2] > 0, np.nan, x[2]) + 0 * x[:2])),
    "fmax_ties": lambda x: np.sum(np.fmax(x, np.array([1.0, np.nan, 2.0]))),
}


@pytest.mark.parametrize("name", list(FMAXMIN))
def test_fmax_fmin_next_to_nan(name):
    f = FMAXMIN[name]
    x = np.array([1.0, 2.0, 3.0])
    _check(f, (x,), (0,))
    v, t = s2sgrad.jvp(f)((x,), (np.array([1.0, -1.0, 0.5]),))
    d = np.array([1.0, -1.0, 0.5])
    assert np.isclose(t, (f(x + 1e-6 * d) - f(x - 1e-6 * d)) / 2e-6, atol=1e-6)
