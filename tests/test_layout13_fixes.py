"""The memory layout of values computed from arrays written in place
(session 25's open class of wrong numbers, fixed in session 26 by layout13).

NumPy's written array keeps its strides, and what is computed from it
inherits its memory order (ufuncs allocate in order 'K').  A reshape or
ravel of such a value is a view or a copy depending on the strides, so a
write through it reaches the value in one layout and not in another.  The
generated code now keeps NumPy's memory order for every version a write
makes (a write's copy in order 'K'; ``x op= v`` in ``x``'s layout) and
writes into an operand's buffer (``out=``) only where the result's layout
cannot differ from NumPy's.  Each case: the value against NumPy run on
arrays with the same strides, the gradient (in the written argument too)
against central differences.  97 of these 188 cases fail on 7ed9f94
(the others, with layouts where NumPy's order is C anyway, are controls)."""
import linecache

import numpy as np
import pytest

import s2sgrad
from tests.layout13_harness import _in_layout
from tests.trust12_harness import fresh

LAYOUTS = ("C", "F", "reversed", "strided", "transposed", "both")


def _fd(f, args, i, eps=1e-6):
    base = np.array(args[i], dtype=np.float64)
    g = np.zeros(base.shape)
    for idx in np.ndindex(base.shape):
        vals = []
        for sgn in (1.0, -1.0):
            a = [fresh(v) if isinstance(v, np.ndarray) else v for v in args]
            a[i][idx] += sgn * eps
            vals.append(f(*a))
        g[idx] = (vals[0] - vals[1]) / (2 * eps)
    return g


def _check(f, args, wrt=(0, 1), rtol=1e-12, grad_tol=1e-6, **kw):
    want = f(*[fresh(a) if isinstance(a, np.ndarray) else a for a in args])
    kept = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    v, g = s2sgrad.value_and_grad(f, wrt=wrt, **kw)(*args)
    for a, k in zip(args, kept):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, k)         # the caller's arrays untouched
    np.testing.assert_allclose(v, want, rtol=rtol)
    if args[0].dtype == np.float64:
        for i, gi in zip(wrt, g if isinstance(g, tuple) else (g,)):
            np.testing.assert_allclose(gi, _fd(f, args, i), rtol=grad_tol, atol=grad_tol)
    return v


def _args(layout, shape=(3, 3), k=3, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=k).astype(dtype)
    W = _in_layout((rng.normal(size=shape) * 0.5).astype(dtype), layout)
    return x, W


# ---------------------------------------------------------------- session 25's two programs

def f_argument(x, W):
    W[0] += x
    B = W * 2.0
    u = B.reshape(9)
    u[0] += 1.0
    return np.sum(np.sin(B) * x) + np.sum(W)


def f_loop(x, W, n):
    A = W.copy()
    for t in range(n):
        A = A * 0.95
        u = A.reshape(9)
        u[t % 9] += 0.1 * x[0]
        A.T[1] *= 1.05
    return np.sum(A * np.sin(W))


def test_f_ordered_argument_written_then_reshaped():
    rng = np.random.default_rng(0)
    x, W = rng.normal(size=3), np.asfortranarray(rng.normal(size=(3, 3)))
    want = f_argument(x.copy(), W.copy(order="K"))
    v, _ = s2sgrad.value_and_grad(f_argument)(x, W)
    np.testing.assert_allclose(v, want, rtol=1e-12)       # was 0.5123 for 0.4433
    _check(f_argument, (x, W))


@pytest.mark.parametrize("checkpoint", [None, "sqrt"])
@pytest.mark.parametrize("n", [1, 2, 3])
def test_carry_written_through_transpose_then_reshaped(n, checkpoint):
    rng = np.random.default_rng(0)
    x, W = rng.normal(size=4), rng.normal(size=(3, 3))
    want = f_loop(x.copy(), W.copy(), n)
    v, _ = s2sgrad.value_and_grad(f_loop, wrt=(0, 1), checkpoint=checkpoint)(x, W, n)
    np.testing.assert_allclose(v, want, rtol=1e-12)       # n=2: was 5.5986 for 5.6032
    _check(lambda x, W: f_loop(x, W, n), (x, W), checkpoint=checkpoint)


def test_the_same_programs_are_right_where_the_layouts_agree():
    # (control: right on 7ed9f94 too)
    rng = np.random.default_rng(0)
    x, W = rng.normal(size=3), rng.normal(size=(3, 3))           # C-ordered W
    v, _ = s2sgrad.value_and_grad(f_argument)(x, W)
    np.testing.assert_allclose(v, f_argument(x.copy(), W.copy()), rtol=1e-12)
    x4 = rng.normal(size=4)
    v, _ = s2sgrad.value_and_grad(f_loop, wrt=(0, 1))(x4, W, 1)   # one step: no transpose yet
    np.testing.assert_allclose(v, f_loop(x4.copy(), W.copy(), 1), rtol=1e-12)


# ---------------------------------------------------------------- writes x results x observers

WRITES = {
    "setitem_row": "W[0] += 0.3 * x[0]",
    "setitem_value": "W[1, 2] = x[1] * 0.5",
    "transpose": "W.T[1] *= 1.05",
    "swapaxes": "np.swapaxes(W, 0, 1)[0] += 0.2 * x[2]",
    "moveaxis": "np.moveaxis(W, 0, 1)[-1] *= 0.9",
    "slice": "W[::2] += 0.1 * x[0]",
    "ellipsis": "W[..., 0] -= 0.1 * x[1]",
    "reshape_view": "v = W.reshape(-1)\n    v[1] += x[1]",
    "augmented": "W *= 0.9 + 0.1 * x[0]",
    "augmented_mixed": "W += 0.1 * C * x[2]",
    "out": "np.multiply(W, 0.95 + 0.0 * x[0], out=W)",
    "out_mixed": "np.add(W, 0.1 * C, out=W)",
    "copyto": "np.copyto(W, W * 0.9 + 0.01 * x[0])",
    "fill_ellipsis": "W[...] = np.tanh(W)",
    "add_at": "np.add.at(W, ([0, 0], [1, 1]), 0.1 * x[0])",
    "subtract_at": "np.subtract.at(W, (1, 0), 0.2 * x[1])",
    "multiply_at": "np.multiply.at(W, ([0, 1], [1, 0]), 1.1 + x[2])",
    "fancy": "W[[0, 1], [2, 0]] += 0.3 * x[2]",
    "put": "np.put(W, [0, 5], x[:2])",
    "place": "np.place(W, W > 0.2, x[0])",
}
RESULTS = {
    "unary": "B = np.sin(W)",
    "scalar": "B = W * 2.0",
    "mixed": "B = W + C",
    "mixed_reversed": "B = C * W",
    "keepdims": "B = W - np.mean(W, axis=1, keepdims=True)",
    "np_copy": "B = np.copy(W)",
}
OBSERVERS = {
    "reshape": "u = B.reshape(-1)\n    u[4] += 0.1 * x[0]",
    "ravel": "u = B.ravel()\n    u[:2] *= 1.2",
    "reshape_F": "u = B.reshape(-1, order='F')\n    u[1] -= 0.2 * x[1]",
    "ascontiguous": "u = np.ascontiguousarray(B)\n    u[0, 1] += 0.3",
    "asfortran": "u = np.asfortranarray(B)\n    u[1, 0] += 0.3",
}


def _program(write, result, observer):
    src = (f"def f(x, W, C):\n    {write}\n    {result}\n    {observer}\n"
           f"    return np.sum(np.sin(B) * B) + np.sum(W * W) * 0.5 + np.sum(x * x)\n")
    _n[0] += 1
    filename = f"<layout13 fixes {_n[0]}>"
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    ns = {"np": np}
    exec(compile(src, filename, "exec"), ns)
    return ns["f"]


_n = [0]


def _with_c(layout, c_layout="C", shape=(3, 4), dtype=np.float64):
    x, W = _args(layout, shape, dtype=dtype)
    C = _in_layout((np.random.default_rng(1).normal(size=shape) * 0.5).astype(dtype), c_layout)
    return x, W, C


@pytest.mark.parametrize("write", sorted(WRITES))
@pytest.mark.parametrize("layout", ["F", "strided", "both"])
def test_write_then_elementwise_then_reshape_written_through(write, layout):
    f = _program(WRITES[write], RESULTS["scalar"], OBSERVERS["reshape"])
    _check(f, _with_c(layout))


@pytest.mark.parametrize("result", sorted(RESULTS))
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("c_layout", ["C", "F"])
def test_results_of_each_kind(result, layout, c_layout):
    f = _program(WRITES["setitem_row"], RESULTS[result], OBSERVERS["reshape"])
    _check(f, _with_c(layout, c_layout))


@pytest.mark.parametrize("observer", sorted(OBSERVERS))
@pytest.mark.parametrize("layout", LAYOUTS)
def test_observers(observer, layout):
    f = _program(WRITES["augmented_mixed"], RESULTS["unary"], OBSERVERS[observer])
    _check(f, _with_c(layout))


@pytest.mark.parametrize("write", ["augmented_mixed", "transpose", "out_mixed"])
def test_float32(write):
    f = _program(WRITES[write], RESULTS["scalar"], OBSERVERS["ravel"])
    x, W, C = _with_c("F", dtype=np.float32)
    want = f(x.copy(), W.copy(order="K"), C.copy())
    v, (gx, gW) = s2sgrad.value_and_grad(f, wrt=(0, 1))(x, W, C)
    np.testing.assert_allclose(v, want, rtol=1e-5)
    assert gx.dtype == np.float32 and gW.dtype == np.float32
    x64, W64, C64 = (np.asarray(a, np.float64) for a in (x, W, C))
    W64 = np.asfortranarray(W64)
    np.testing.assert_allclose(gW, _fd(lambda a, b: f(a, b, C64), (x64, W64), 1),
                               rtol=2e-3, atol=2e-3)


def test_broadcast_argument_read_only():
    # a 0-stride broadcast view as the other operand (read only)
    f = _program(WRITES["augmented_mixed"], RESULTS["mixed"], OBSERVERS["reshape"])
    _check(f, _with_c("F", "broadcast"))


# ---------------------------------------------------------------- the causes, one by one

def mixed_augmented(x, W, C):
    W += C * x[0]                   # NumPy: in place, W stays F-ordered
    B = W * 2.0
    u = B.reshape(12)
    u[0] += 1.0
    return np.sum(np.sin(B) * x[1]) + np.sum(W)


def test_augmented_assignment_keeps_the_arrays_layout():
    # was -3.930 for NumPy's -3.820 (W F-ordered, C C-ordered)
    rng = np.random.default_rng(0)
    x, W, C = rng.normal(size=3), np.asfortranarray(rng.normal(size=(3, 4))), \
        rng.normal(size=(3, 4))
    v = _check(mixed_augmented, (x, W, C))
    np.testing.assert_allclose(v, -3.820297012512116, rtol=1e-12)


def buffer_of_mixed_operands(x, W, C):
    B = (W + 1.0) * C + x[0]        # NumPy: (F op C) is C-ordered
    u = B.reshape(12)
    u[0] += 1.0
    return np.sum(np.sin(B) * x[1])


def test_buffer_reuse_keeps_numpys_layout():
    # out= into the buffer of (W + 1.0) made B F-ordered: -0.0633 for -0.1878
    rng = np.random.default_rng(0)
    x, W, C = rng.normal(size=3), np.asfortranarray(rng.normal(size=(3, 4))), \
        rng.normal(size=(3, 4))
    v = _check(buffer_of_mixed_operands, (x, W, C))
    np.testing.assert_allclose(v, -0.1878023069189907, rtol=1e-12)
    # (control: buffer reuse is kept where the program observes no layout)
    src = s2sgrad.value_and_grad(lambda x, W, C: np.sum(np.sin((W + 1.0) * C + x[0])))
    src(x, W, C)
    assert "*= C" in src.source, src.source


def test_one_compiled_function_called_with_each_layout():
    g = s2sgrad.value_and_grad(mixed_augmented, wrt=(0, 1))
    rng = np.random.default_rng(3)
    x, C = rng.normal(size=3), rng.normal(size=(3, 4))
    for layout in LAYOUTS + ("F", "C"):
        W = _in_layout(rng.normal(size=(3, 4)), layout)
        v, _ = g(x, W, C)
        np.testing.assert_allclose(v, mixed_augmented(x.copy(), fresh(W), C), rtol=1e-12)


def test_in_layout_of_runtime_helper():
    from s2sgrad import runtime
    F = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    Cc = np.arange(12.0).reshape(3, 4)
    out = runtime.in_layout_of(Cc, F)
    assert out.flags.f_contiguous and not out.flags.c_contiguous
    np.testing.assert_array_equal(out, Cc)
    assert runtime.in_layout_of(Cc, Cc * 2) is Cc
    assert runtime.in_layout_of(F * 2, F) is not None and runtime.in_layout_of(F, F.T.T) is F
    row = np.arange(4.0)
    assert runtime.in_layout_of(row, row[::-1]) is row       # 1-d: every order the same
    r = runtime.in_place_result(Cc, F, layout=True)
    assert r.flags.f_contiguous and np.array_equal(r, Cc)
    assert runtime.in_place_result(Cc, F) is Cc                # (derivatives: no layout)


# ---------------------------------------------------------------- found by the audit (view or copy)

def conj_method_written(x, W):
    Z = W.conj()                    # NumPy: W itself (W is real)
    Z[0] += x[0]
    W[1] *= 2.0
    return np.sum(Z * W) + np.sum(np.sin(Z)) * x[1]


@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_conj_method_of_a_real_array_is_the_array(layout):
    # was written in place into the caller's W (fresh, as a ufunc's result)
    # and not seen through W: 13.58 for NumPy's 20.50 (in the same process,
    # NumPy's reference run on the W the compiled code had changed)
    x, W = _args(layout, (3, 4))
    _check(conj_method_written, (x, W))


def test_conj_method_of_a_complex_array_is_a_copy():
    def f(x, Wc):
        Z = Wc.conj()
        Z[0] += x[0]
        return np.sum(np.abs(Z * Wc))
    x, W = _args("C", (3, 4))
    Wc = W + 1j * W[::-1]
    kept = Wc.copy()
    v, _ = s2sgrad.value_and_grad(f)(x, Wc)
    np.testing.assert_array_equal(Wc, kept)
    np.testing.assert_allclose(v, f(x.copy(), Wc.copy()), rtol=1e-12)


def test_einsum_of_one_operand_is_a_view():
    def read_after_base_write(x, W):
        Z = np.einsum("ij->ji", W)
        W[0] += x[0]
        return np.sum(Z.T * np.sin(W))
    x, W = _args("C", (3, 4))
    _check(read_after_base_write, (x, W))

    def write_through(x, W):
        Z = np.einsum("ij->ij", W)
        u = Z.reshape(-1)
        u[1] += x[0]
        return np.sum(Z * W) + np.sum(np.sin(Z)) * x[1]
    with pytest.raises(s2sgrad.S2SGradError, match="einsum"):
        s2sgrad.value_and_grad(write_through)(x, W)     # (was 12.742 for 12.691)

    def summed(x, W):               # (control: a sum is a new array)
        Z = np.einsum("ij->i", W)
        Z[0] += x[0]
        return np.sum(Z * Z) + np.sum(W)
    _check(summed, (x, W))


def test_add_at_into_an_int_array_is_refused_not_a_float():
    def f(x):
        y = np.zeros(3, dtype=int)
        np.add.at(y, [0, 0], x[0] * 3.0)    # NumPy: 2 then 4 (each add cast to int)
        return np.sum(y * x)
    x = np.array([0.7, 0.2, 0.3])
    with pytest.raises(TypeError, match="Cannot cast"):
        s2sgrad.value_and_grad(f)(x)        # was 2.94 for NumPy's 2.8

    def g(x):                       # (control: a float array)
        y = np.zeros(3)
        np.add.at(y, [0, 0], x[0] * 3.0)
        return np.sum(y * x)
    _check(g, (x,), wrt=(0,))


def test_add_at_into_float32_keeps_float32():
    def f(x, W):
        np.add.at(W, ([0, 1], [1, 2]), x[:2])
        return np.sum(W * W)
    x = np.array([0.7, 0.2, 0.3])
    W = np.asfortranarray(np.linspace(0.1, 1.0, 12, dtype=np.float32).reshape(3, 4))
    want = f(x.copy(), W.copy(order="K"))
    v, (gx, gW) = s2sgrad.value_and_grad(f, wrt=(0, 1))(x, W)
    assert np.asarray(v).dtype == np.float32 and v == want      # (was float64)
    assert gW.dtype == np.float32


# ---------------------------------------------------------------- what the layout costs

def scaled_in_a_loop(x, W):
    for t in range(8):
        W[t] += x * 0.1
        W *= 0.99                   # a number: NumPy's result is in W's order anyway
    return np.sum(W * W)


def test_no_layout_helper_where_the_order_follows_from_the_operands():
    x, W = _args("C", (16, 16), k=16)
    g = s2sgrad.value_and_grad(scaled_in_a_loop, wrt=(0, 1))
    g(x, W)
    src = g.source
    assert "in_place_result" not in src, src
    assert src.count(".copy(order='K')") == 1, src       # once, before the loop
    for layout in ("C", "F", "strided"):
        _check(scaled_in_a_loop, _args(layout, (8, 8), k=8), grad_tol=1e-5)


def test_layout_helper_kept_for_two_full_operands():
    g = s2sgrad.value_and_grad(mixed_augmented, wrt=(0, 1))
    rng = np.random.default_rng(0)
    g(rng.normal(size=3), rng.normal(size=(3, 4)), rng.normal(size=(3, 4)))
    assert "in_place_result(" in g.source and "layout=True" in g.source, g.source


def test_exported_module_keeps_the_layout_helper():
    import types
    rng = np.random.default_rng(0)
    x, W, C = rng.normal(size=3), np.asfortranarray(rng.normal(size=(3, 4))), \
        rng.normal(size=(3, 4))
    src = s2sgrad.export(s2sgrad.value_and_grad(mixed_augmented, wrt=(0, 1)),
                         example_args=(x, W, C))
    assert "def in_layout_of" in src
    mod = types.ModuleType("layout13_exported")
    exec(compile(src, "<layout13 exported>", "exec"), mod.__dict__)
    fn = next(v for k, v in mod.__dict__.items() if k.startswith("mixed_augmented"))
    v = fn(x, W.copy(order="K"), C)[0]
    np.testing.assert_allclose(v, mixed_augmented(x.copy(), W.copy(order="K"), C), rtol=1e-12)
