"""NumPy's aliasing semantics (s2sgrad.alias): writes through views, names of
one array, 0-d arrays, views in containers, loops and helpers, reshapes
decided at run time, read-only views refused; allocations with identity.

Every program is checked against NumPy itself: the value against calling
the function, the gradient against central differences (on copies: the
functions write into their arrays), the tangent against ``<grad, v>``, and
float32 in -> float32 out.  The last part tests the alias module alone (IR in,
facts out)."""
from __future__ import annotations

import numpy as np
import pytest

import s2sgrad as sg
from s2sgrad import alias
from s2sgrad.errors import S2SGradError
from s2sgrad.ir import Block, Const, Var
from s2sgrad.primitives import core as P
from s2sgrad.primitives.core import Emitter

X = np.array([0.5, -1.3, 2.0, 0.7])


# ---------------------------------------------------------------- programs

def view_then_base_write(x):
    y = x.copy()
    v = y[2:]
    y[0] = 5.0
    v *= 2.0
    return np.sum(y ** 2)


def two_views_in_turn(x):
    y = x.copy()
    a = y[0:2]
    b = y[2:4]
    a *= 2.0
    b *= 2.0
    return np.sum(y ** 2)


def tuple_of_views_loop(x):
    y = x.copy()
    for row in (y[0:2], y[2:4]):
        row *= 2.0
    return np.sum(y ** 2)


def tuple_of_views_nested_loop(x):
    y = x.copy()
    for row in (y[0:2], y[2:4]):
        for j in range(2):
            row[j] = row[j] * x[j]
    return np.sum(y ** 2)


def reshape_view(x):
    y = x.copy()
    r = y.reshape(2, 2)
    r[0, 0] = 0.5
    return np.sum(y * y[0])


def ravel_view_of_zeros(x):
    y = np.zeros(4)
    r = y.ravel()
    r += x
    return np.sum(y ** 2)


def zero_d_alias(x):
    s = np.zeros(())
    t = s
    t += x[0]
    return s * x[1]


def transpose_view(x):
    y = x.copy().reshape(2, 2)
    t = y.T
    t[0, 1] = 7.0 * x[1]
    return np.sum(y ** 2)


def swapaxes_view(x):
    y = x.copy().reshape(2, 2)
    t = np.swapaxes(y, 0, 1)
    t[0] *= 3.0
    return np.sum(y ** 2 * x[0])


def moveaxis_view(x):
    y = x.copy()
    t = np.moveaxis(y.reshape(2, 2), 0, 1)
    t[1] = 0.0
    return np.sum(y ** 2)


def dict_of_views(x):
    y = x.copy()
    d = {"a": y[1:3]}
    d["a"] *= 3.0
    return np.sum(y ** 2)


def tuple_item_view(x):
    y = x.copy()
    t = (y[0:2], y[2:])
    w = t[1]
    w[0] = 9.0 * x[0]
    return np.sum(y ** 2)


def _scale_into(v, c):
    v *= c
    v[0] += 1.0


def view_to_helper(x):
    y = x.copy()
    _scale_into(y[1:], x[2])
    return np.sum(y ** 2)


def view_before_loop(x):
    y = x.copy()
    v = y[1:3]
    for i in range(3):
        v *= x[0]
    return np.sum(y ** 2)


def ellipsis_and_full_slice(x):
    y = x.copy()
    v = y[...]
    v *= 2.0
    w = y[:]
    w[0] = 1.0
    return np.sum(y ** 2)


def asarray_is_the_array(x):
    y = x.copy()
    v = np.asarray(y)
    v *= 2.0
    return np.sum(y ** 2)


def view_method(x):
    y = x.copy()
    v = y.view()
    v[0] = 3.0 * x[3]
    return np.sum(y ** 2)


def expand_dims_view(x):
    y = x.copy()
    e = np.expand_dims(y, 0)
    e[0, 1] = 3.0
    return np.sum(y ** 2)


def squeeze_view(x):
    y = x.copy().reshape(2, 2)
    q = np.squeeze(y[0:1])
    q[0] = 3.0
    return np.sum(y ** 2)


def repeated_writes_through_view(x):
    y = x.copy()
    v = y[1:3]
    v *= 2.0
    v *= 3.0
    v += x[0]
    return np.sum(y ** 2)


def row_of_vector_is_a_copy(x):
    r = x[0]
    r += 1.0
    return np.sum(x) * r


def names_and_views_mixed(x):
    y = x.copy()
    b = y
    v = b[1:]
    b *= 2.0
    v[0] = 1.0
    y += 1.0
    return np.sum(y ** 2) + np.sum(v * b[1:])


def row_view_of_matrix(x):
    y = x.copy().reshape(2, 2)
    r = y[1]
    r *= x[0]
    y[1, 0] = 0.25
    return np.sum(y ** 2) + np.sum(r)


def two_zeros_not_merged(c):
    a = np.zeros(3)
    for i in range(1):
        for j in range(3):
            a[j] = 5.0
    b = np.zeros(3)
    b += c
    return np.sum(b ** 2) + np.sum(a)


def buffer_in_loop_filled_by_nested_loop(x):
    out = 0.0
    for k in range(1):
        buf = np.zeros((2, 2))
        for i in range(2):
            for j in range(2):
                buf[i, j] = x[0]
        out = out + np.sum(buf) * 2.0
    return out


def allocations_of_every_kind(x):
    a = np.ones(2)
    b = np.ones(2)
    c = np.full(2, 1.0)
    d = np.full(2, 1.0)
    e = x[:2].copy()
    g = x[:2].copy()
    a[0] = x[0]
    c[1] = x[1]
    e *= 3.0
    return np.sum(a * b) + np.sum(c * d) + np.sum(e * g)


def reshape_of_argument(x):
    # a view of x when x is contiguous, a copy otherwise: decided at run time
    r = x.reshape(-1)
    r[0] = 3.0 * r[1]
    return np.sum(x ** 2) + np.sum(r)


def _scale_twice(v, c):
    v *= c
    v[...] += 0.125


def _scale_scalar_twice(v, c):
    v *= c
    v *= 2.0
    return v


def helper_writes_twice_into_result_of_arithmetic(x):
    # y's array-ness is decided at run time (an operation's result); the
    # helper's two writes reach y, and so do the caller's
    y = np.full((4,), 0.5) + x.mean()
    w = y.view()
    _scale_twice(w, 0.5 + 0.5 * np.tanh(x[:1]))
    y += np.sin(x[0])
    return np.sum(w * w) + np.sum(y)


def helper_writes_twice_into_scalar(x):
    # on a scalar the helper's writes rebind its own name only
    s = x[0] * 2.0
    r = _scale_scalar_twice(s, x[1])
    return s * r + x[2]


def view_before_loop_read_after_it(x):
    # a row taken before a loop that scales its base in place, read after
    # it; the reversed loop's in-place cotangent write must not be clobbered
    # by the carry's rebinding (codegen naming)
    a = np.sin(x[0]) * np.ones(x.shape[0])
    y = np.outer(x, x) * 1.0
    w = y[0]
    for i in range(3):
        y *= a
    return np.sum(w) + x[1]


def swap_rows_through_views(x):
    # y[0], y[1] = y[1], y[0] on a matrix: the right side is two views, and
    # the first write changes the second (NumPy leaves both rows equal)
    y = np.outer(x[:2], x)
    y[0], y[1] = y[1], y[0]
    return np.sum(y * np.arange(8.0).reshape(2, 4))


def unpack_into_slices_in_loop(x):
    y = x.copy()
    for i in range(2):
        y[:2], y[2:] = y[2:] * 2.0, y[:2]
    return np.sum(y * np.arange(4.0) * x)


def chained_targets_through_a_view(x):
    # y[:2] = v = y[2:]: v is bound after the write through y[:2]
    y = x.copy()
    y[2:] = y[:2] = y[1:3]
    v = w = y[1:]
    v *= x[1:]
    return np.sum(y * np.arange(4.0) * x) + np.sum(w)


def starred_unpack_through_views(x):
    y = x.copy()
    y[:2], *r = y[2:], y[:2]
    return np.sum(np.concatenate(r) * x[:2]) + np.sum(y * x)


def zero_d_view_by_ellipsis(x):
    # y[1, 1, ...] is a 0-d view (y[1, 1] is a copy): it sees the write,
    # and a write through it reaches y (y's ndim known: a reshape's copy)
    y = x.reshape(2, 2).copy()
    e = y[1, 1, ...]
    y[1, 1] = x[0] ** 2
    e *= x[1]
    return np.sum(y * y) + e


def fortran_order_reshape_view(x):
    # y.T.reshape(4, order="F") of a C array is a view read and written in
    # Fortran order
    y = np.outer(x[:2], x[2:])
    r = y.T.reshape(4, order="F")
    r[1] = x[3] ** 2
    y[0, 0] = x[1]
    return np.sum(y * np.arange(4.0).reshape(2, 2)) + np.sum(r * x)


def fortran_order_reshape_copy(x):
    # ... and of y itself a copy
    y = np.outer(x[:2], x[2:])
    r = np.ravel(y, order="F")
    r[1] = 5.0
    return np.sum(y * np.arange(4.0).reshape(2, 2)) + np.sum(r * x)


def loop_over_columns_written(x):
    # for c in y.T: the iterated array is a view no name holds; a write
    # through an item reaches y, and later items are read from y's new version
    y = np.outer(x, x[:3])
    for c in y.T:
        c *= c[0]
    return np.sum(y * np.arange(12.0).reshape(4, 3))


def loop_over_slice_written(x):
    y = np.outer(x[:3], x)
    for r in y[:0:-1]:
        r[1] = r[0] * x[2]
    return np.sum(y * np.arange(12.0).reshape(3, 4))


def container_holds_array_written_in_loop(x):
    # accs[0] is z: the writes in the loop are seen through the list, in
    # the loop and after it
    z = np.zeros(2)
    accs = [z, {"w": z}]
    t = 0.0
    for i in range(2):
        z += x[2 * i:2 * i + 2]
        t = t + np.sum(accs[1]["w"] * x[:2])
    return np.sum(accs[0] * accs[0]) + t


def container_holds_views_written_in_while(x):
    y = np.zeros(4)
    accs = (y[:2], y[2:])
    i = 0
    while i < 2:
        y += x * (i + 1.0)
        i += 1
    return np.sum(accs[0] ** 2) + np.sum(accs[1] * x[:2])


CASES = [view_then_base_write, two_views_in_turn, tuple_of_views_loop,
         tuple_of_views_nested_loop, reshape_view, ravel_view_of_zeros, zero_d_alias,
         transpose_view, swapaxes_view, moveaxis_view, dict_of_views, tuple_item_view,
         view_to_helper, view_before_loop, ellipsis_and_full_slice, asarray_is_the_array,
         view_method, expand_dims_view, squeeze_view, repeated_writes_through_view,
         row_of_vector_is_a_copy, names_and_views_mixed, row_view_of_matrix,
         two_zeros_not_merged, buffer_in_loop_filled_by_nested_loop,
         allocations_of_every_kind, helper_writes_twice_into_result_of_arithmetic,
         helper_writes_twice_into_scalar, view_before_loop_read_after_it,
         swap_rows_through_views, unpack_into_slices_in_loop, chained_targets_through_a_view,
         starred_unpack_through_views, zero_d_view_by_ellipsis, fortran_order_reshape_view,
         fortran_order_reshape_copy, loop_over_columns_written, loop_over_slice_written,
         container_holds_array_written_in_loop, container_holds_views_written_in_while]


def _fd(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        g[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


def _check(f, x):
    want = f(x.copy())
    val, g = sg.value_and_grad(f)(x.copy())
    np.testing.assert_allclose(val, want, rtol=1e-12, atol=1e-12)
    gfd = _fd(f, x.copy())
    np.testing.assert_allclose(g, gfd, rtol=1e-6, atol=1e-6)
    v = np.linspace(0.3, 1.1, x.size).reshape(x.shape)
    out, t = sg.jvp(f)((x.copy(),), (v,))
    np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(t, np.sum(gfd * v), rtol=1e-6, atol=1e-6)
    x32 = x.astype(np.float32)
    val32, g32 = sg.value_and_grad(f)(x32)
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, g, rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize("f", CASES, ids=lambda f: f.__name__)
def test_numpy_aliasing(f):
    x = np.array([1.5, 2.0, 3.0]) if f is two_zeros_not_merged else X
    _check(f, x)


def test_nothing_of_the_callers_is_modified():
    x = X.copy()
    sg.grad(view_to_helper)(x)
    sg.grad(reshape_of_argument)(x)
    np.testing.assert_array_equal(x, X)


@pytest.mark.parametrize("layout", ["C", "F"])
def test_reshape_of_argument_decided_at_run_time(layout):
    x = np.arange(1.0, 7.0).reshape(2, 3)
    x = np.asfortranarray(x) if layout == "F" else x
    want = reshape_of_argument(x.copy(order="A"))
    val, g = sg.value_and_grad(reshape_of_argument)(x)
    np.testing.assert_allclose(val, want)
    np.testing.assert_allclose(g, _fd(lambda a: reshape_of_argument(
        np.asfortranarray(a) if layout == "F" else np.ascontiguousarray(a)), x.copy()),
        rtol=1e-6, atol=1e-6)
    src = sg.value_and_grad(reshape_of_argument).source
    assert "may_share_memory(" in src


def test_hessian_through_views():
    for f in (view_then_base_write, view_before_loop, swapaxes_view):
        H = sg.hessian(f)(X.copy())
        eps = 1e-5
        Hfd = np.array([(sg.grad(f)(X + eps * e) - sg.grad(f)(X - eps * e)) / (2 * eps)
                        for e in np.eye(4)])
        np.testing.assert_allclose(H, Hfd, atol=1e-5)


# ---------------------------------------------------------------- refused

def write_into_broadcast(x):
    y = x.copy()
    b = np.broadcast_to(y, (2, 4))
    b[0, 0] = 1.0
    return np.sum(y)


def views_in_runtime_list(x):
    y = x.copy()
    vs = []
    for i in range(2):
        vs.append(y[2 * i:2 * i + 2])
    for v in vs:
        v *= 2.0
    return np.sum(y ** 2)


def view_chosen_by_branch(x):
    y = x.copy()
    v = y[0:2] if x[0] > 0 else y[2:4]
    v *= 2.0
    return np.sum(y ** 2)


def view_chosen_from_two_arrays(x):
    # (one array's view or the other's; views of ONE array chosen by a
    # branch, view_chosen_by_branch, are exact since trust13)
    y = x.copy()
    z = x * 2.0
    v = y[0:2] if x[0] > 0 else z[2:4]
    v *= 2.0
    return np.sum(y ** 2) + np.sum(z)


def view_made_in_loop(x):
    y = x.copy()
    for i in range(3):
        v = y[i:i + 1]
    v *= 2.0
    return np.sum(y ** 2)


def array_in_list_then_written(x):
    y = x.copy()
    xs = []
    for i in range(2):
        xs.append(y)
    y[0] = 3.0
    return np.sum(np.stack(xs))


def reshape_in_layout_order(x):
    y = np.outer(x[:2], x[2:]).T
    return np.sum(y.reshape(4, order="A") * x)


def unknown_array_updated_in_loop(x):
    z = x[:2] * 1.0            # an array here, a number for a scalar x[:2]
    w = z
    for i in range(2):
        z += x[2 * i:2 * i + 2]
    return np.sum(w ** 2)


@pytest.mark.parametrize("f, words", [
    (unknown_array_updated_in_loop, "known only at run time"),
    (reshape_in_layout_order, "order='A'"),
    (write_into_broadcast, "read-only view"),
    (views_in_runtime_list, "list built at run time"),
    (view_chosen_from_two_arrays, "known only at run time"),
    (view_made_in_loop, "known only at run time"),
    (array_in_list_then_written, "known only at run time"),
], ids=lambda v: getattr(v, "__name__", ""))
def test_refused_with_file_and_line(f, words):
    with pytest.raises(S2SGradError) as info:
        sg.grad(f)(X.copy())
    msg = str(info.value)
    assert words in msg
    assert f"test_aliasing.py:{f.__code__.co_firstlineno}" not in msg   # the statement's line
    assert "test_aliasing.py:" in msg


def writes_second_argument(a, b):
    b *= 2.0
    return np.sum(a * a) + np.sum(b)


def writes_list_item_in_loop(ps, s):
    b = ps[1]
    for i in range(2):
        b[i] = b[i] * s
    return np.sum(ps[0] ** 2)


@pytest.mark.parametrize("f, make", [
    (writes_second_argument, lambda x: (x, x[:2])),
    (writes_second_argument, lambda x: (x, x)),
    (writes_second_argument, lambda x: (x[1:], x[:2])),
    (writes_list_item_in_loop, lambda x: ([x, x[1:]], 3.0)),
    (writes_list_item_in_loop, lambda x: ([x, x], 3.0)),
], ids=["view", "same", "overlap", "list-view", "list-same"])
def test_arguments_sharing_memory_with_a_written_one_are_refused(f, make):
    # NumPy changes the other argument too; the compiled code works on a
    # copy and would read the other one unchanged: refused at run time
    x = X.copy()
    for t in (sg.value_and_grad(f), sg.grad(f), lambda *a: sg.vjp(f)(*a)[1](1.0),
              lambda *a: sg.jvp(f, wrt=0)(a, (np.ones_like(a[0]) if isinstance(a[0], np.ndarray)
                                               else [np.ones_like(v) for v in a[0]],))):
        with pytest.raises(sg.SharedArgumentsError) as info:
            t(*make(x))
        assert f"test_aliasing.py:{f.__code__.co_firstlineno + 1}" in str(info.value) or \
            f"test_aliasing.py:{f.__code__.co_firstlineno + 3}" in str(info.value)
        assert "shares memory" in str(info.value)
    np.testing.assert_array_equal(x, X)


G_READ = np.arange(4.0)
CFG_READ = {"w": np.ones(4)}


def writes_argument_reads_global(x):
    x *= 2.0
    return np.sum(G_READ * x) + np.sum(CFG_READ["w"])


def test_an_argument_that_is_a_global_read_live_and_written_is_refused():
    # f(G_READ): NumPy doubles the global too, the compiled code reads it unchanged
    with pytest.raises(sg.SharedArgumentsError, match="the global 'G_READ'"):
        sg.value_and_grad(writes_argument_reads_global)(G_READ)
    with pytest.raises(sg.SharedArgumentsError, match="CFG_READ"):
        sg.value_and_grad(writes_argument_reads_global)(CFG_READ["w"][::-1])
    np.testing.assert_array_equal(G_READ, np.arange(4.0))
    np.testing.assert_array_equal(CFG_READ["w"], np.ones(4))
    x = X.copy()
    val, g = sg.value_and_grad(writes_argument_reads_global)(x)
    assert val == writes_argument_reads_global(X.copy())
    np.testing.assert_allclose(g, 2 * G_READ)


def test_arguments_not_sharing_memory_run():
    x = X.copy()
    for args in ((x, x.copy()), (x[::2], x[1::2])):     # distinct, interleaved
        a = tuple(v.copy() for v in args)
        val, g = sg.value_and_grad(writes_second_argument)(*args)
        assert val == writes_second_argument(*a)
        np.testing.assert_allclose(g, 2 * args[0])
    # the check is made where an argument is written and another is data only
    g = sg.grad(writes_second_argument)
    g(x, x.copy())
    assert "check_unshared(b, a, " in g.source
    for f, args in ((two_args_no_write, (x, x)), (view_to_helper, (x.copy(),))):
        g = sg.grad(f)
        g(*args)
        assert "check_unshared" not in g.source


def two_args_no_write(a, b):
    y = a.copy()
    y[0] = 2.0
    return np.sum(y * b)


# ---------------------------------------------------------------- readable code

def aug_write(x):
    y = x.copy()
    y[2:] *= 2.0
    return np.sum(y ** 2)


def test_proven_safe_write_prints_in_place():
    src = sg.value_and_grad(aug_write).source
    assert "y[2:] *= 2.0" in src
    assert "y = x.copy()" in src
    src = sg.value_and_grad(view_then_base_write).source
    assert "y[0] = 5.0" in src and "y[2:] = " in src and ".copy()" in src


def test_allocations_are_not_merged():
    from s2sgrad.optimize import cse
    from s2sgrad.lower import lower_function
    func = cse(lower_function(allocations_of_every_kind, {"x": ("leaf", None)}))
    names = [e.prim.name for e in func.body.eqns]
    assert names.count("ones") == 2 and names.count("full") == 2 and names.count("copy") == 2


# ---------------------------------------------------------------- the model alone

def _em():
    return Emitter(Block(), derivative=False)


def test_write_through_view_updates_base_and_sibling_views():
    em = _em()
    model = alias.AliasModel()
    y = Var("y")
    v = em.call(P.get("getitem"), y, _params={"index": slice(2, None)})
    w = em.call(P.get("getitem"), y, _params={"index": slice(0, 3)})
    model.add_view(v, y, alias.Index(slice(2, None), []))
    model.add_view(w, y, alias.Index(slice(0, 3), []))
    v2 = Var("v")
    repl = dict(model.write(em, v, v2, live=lambda a: a is w, emit_cond=None))
    # the base is a functional update, the live sibling is re-read from it
    assert repl[v] is v2
    y2 = repl[y]
    upd = em.block.eqns[-2]
    assert upd.prim.name == "setitem" and upd.args[:2] == (y, v2) and upd.outs == (y2,)
    w2 = repl[w]
    reread = em.block.eqns[-1]
    assert reread.prim.name == "getitem" and reread.args[0] is y2 and reread.outs == (w2,)
    assert model.base_of(w2) is y2 and model.base_of(v2) is y2


def test_dead_views_are_not_rederived():
    em = _em()
    model = alias.AliasModel()
    y, v, w = Var("y"), Var("v"), Var("w")
    model.add_view(v, y, alias.Index(0, []))
    model.add_view(w, y, alias.Index(1, []))
    repl = dict(model.write(em, y, Var("y"), live=lambda a: False, emit_cond=None))
    assert set(repl) == {y}


def test_run_time_relation_becomes_a_choice():
    em = _em()
    model = alias.AliasModel()
    x, r, shares = Var("x"), Var("r"), Var("shares")
    model.add_view(r, x, alias.Reshape(shares))
    chosen = []

    def cond(pred, a, b):
        chosen.append((pred, a, b, Var("choice")))
        return chosen[-1][3]
    repl = dict(model.write(em, r, Var("r"), live=lambda a: True, emit_cond=cond))
    # x is the reshaped r written back when r is a view of x, else x itself
    assert chosen and chosen[0][0] is shares and chosen[0][2] is x
    assert repl[x] is chosen[0][3]


def test_unknown_relation_refuses_a_write_while_the_other_is_live():
    model = alias.AliasModel()
    a, b = Var("a"), Var("b")
    model.link_unknown(a, b)
    with pytest.raises(alias.UnknownAlias):
        model.write(_em(), a, Var("a"), live=lambda v: v is b, emit_cond=None)
    model.write(_em(), a, Var("a"), live=lambda v: False, emit_cond=None)


def test_read_only_and_known_arrays():
    model = alias.AliasModel()
    y, b, r = Var("y"), Var("b"), Var("r")
    model.note_result("zeros", y)
    model.add_view(b, y, alias.ReadOnly("np.broadcast_to"))
    model.add_view(r, y, alias.Index(0, []))
    assert model.known_array(y) and model.known_array(b) and not model.known_array(r)
    assert model.readonly_path(b).what == "np.broadcast_to"
    assert model.readonly_path(r) is None
    assert y in model.contiguous


def test_ir_facts_allocations_and_views():
    em = _em()
    x = Var("x")
    z1 = em.call(P.get("zeros"), 3)
    v = em.call(P.get("getitem"), z1, _params={"index": slice(1, None)})
    s = em.call(P.get("sin"), v)
    eq = {o: e for e in em.block.eqns for o in e.outs}
    assert alias.is_alloc(eq[z1]) and alias.fresh_result(eq[z1])
    assert not alias.is_alloc(eq[s]) and alias.fresh_result(eq[s])
    assert not alias.fresh_result(eq[v]) and alias.may_view(eq[v], z1)
    assert not alias.may_view(eq[s], v)
    # z1 written in place at position 1 (after the view is read at 1, not later)
    use_sites = {z1: [(0, eq[v])], v: [(1, eq[s])]}
    assert not alias.views_read_after(z1, use_sites, None, 1)
    assert alias.views_read_after(z1, use_sites, None, 0)
    assert not alias.views_read_after(x, {}, None, 0)


def test_a_cast_printed_as_asarray_may_be_its_operand():
    # astype emitted by a rule prints as np.asarray(g, dtype=...): g itself
    # when g has the dtype -- not memory the function may write into (the
    # adjoint of x.astype(np.float64) + x[0] wrote into a read-only
    # broadcast); the user's x.astype(...) always copies
    em = _em()
    g = Var("g")
    c = em.call(P.get("astype"), g, dtype=Const(np.float64))
    m = em.call(P.get("astype"), g, dtype=Const(np.float64), _params={"spelling": ("method", "astype")})
    eq = {o: e for e in em.block.eqns for o in e.outs}
    assert alias.may_view(eq[c], g) and not alias.owned_result(eq[c])
    assert not alias.may_view(eq[m], g) and alias.owned_result(eq[m])
    for x in (X.copy(), X.astype(np.float32)):
        val, grad = sg.value_and_grad(cast_then_element)(x)
        assert val == cast_then_element(x.copy())
        np.testing.assert_allclose(grad, [2.0, 1.0, 1.0, 1.0])
        assert grad.dtype == x.dtype


@pytest.mark.parametrize("name, args", [
    ("real_if_complex", 1), ("conj_if_complex", 1), ("require_real", 1), ("in_place_result", 2),
    ("fit_shape", 2)])
def test_helpers_returning_their_operand_are_views_of_it(name, args):
    # on a real value (or one already of the dtype/shape) these return the
    # operand itself: a write in place into the result would change it
    em = _em()
    g, h = Var("g"), Var("h")
    out = em.call(P.get(name), *(g, h)[:args])
    e = em.block.eqns[-1]
    assert e.outs[0] is out
    assert alias.may_view(e, g) and not alias.owned_result(e)


def cast_then_element(x):
    return np.sum(x.astype(np.float64)) + x[0]


def row_or_element_written_twice(x):
    # x[0] is a view of a row of a matrix, a copy of an element of a vector
    r = x[0]
    s = r
    r += 1.0
    r *= 2.0
    return np.sum(s * r) + np.sum(x ** 2)


def helper_writes_twice(x):
    y = x * 1.0
    _scale_into(y[1], x[0, 0])
    return np.sum(y ** 2)


@pytest.mark.parametrize("x", [np.array([0.5, -1.3, 2.0]),
                               np.array([[0.5, -1.3], [2.0, 0.7]])], ids=["vector", "matrix"])
def test_row_or_element_decided_at_run_time(x):
    _check(row_or_element_written_twice, x)


def test_helper_writing_twice_into_a_row():
    _check(helper_writes_twice, np.array([[0.5, -1.3], [2.0, 0.7]]))


def vector_through_expand_dims_write(x):
    y5 = np.array(x * 2.0)
    w6 = np.expand_dims(y5, 0)
    v8 = y5 * 1.0
    w6[0] = np.sin(v8)
    y15 = v8 * 1.0
    y15[np.array([1, 1, -1])] += np.minimum(y5[1:2], 0.5)
    return y15 * 2.0


def test_vjp_of_a_view_write_keeps_the_forward_half_forward():
    """A shape read the write-back of a reshape view emits stays in the
    forward half of a vjp (it was pointed at the cotangent input)."""
    x = np.array([0.3, -0.5, 0.8])
    out, pullback = sg.vjp(vector_through_expand_dims_write)(x.copy())
    np.testing.assert_allclose(out, vector_through_expand_dims_write(x.copy()))
    u = np.array([0.7, -1.1, 0.4])
    J = np.array([_fd(lambda a: vector_through_expand_dims_write(a)[i], x.copy())
                  for i in range(3)])
    np.testing.assert_allclose(pullback(u), u @ J, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(sg.jacobian(vector_through_expand_dims_write, mode="reverse")(x),
                               J, rtol=1e-6, atol=1e-6)


def ravel_of_copy_of_reversed(x):
    y1 = x[::-1] * 1.0           # a new C-contiguous array: its ravel is a view
    w2 = y1.T
    w3 = y1.ravel()
    w2[0] = np.sin(x[:, 0])
    return np.sum(w3 ** 2)


def test_shape_specialisation_keeps_a_copy_whose_memory_is_tested():
    """``y1 = v * 1.0`` is a copy; shape specialisation must not replace it
    by ``v`` (a reversed view, whose ravel would be a copy) when the program
    tests at run time whether a ravel is a view."""
    x = np.array([[0.5, -1.3], [2.0, 0.7], [0.1, 0.4]])
    g = sg.value_and_grad(ravel_of_copy_of_reversed)
    for _ in range(2):                  # generic, then specialised
        val, gr = g(x.copy())
        np.testing.assert_allclose(val, ravel_of_copy_of_reversed(x.copy()))
        np.testing.assert_allclose(gr, _fd(ravel_of_copy_of_reversed, x.copy()), atol=1e-6)


# Every NumPy function that returns a view of its operand: a write through the
# view and a write into the base while the view is read later must match
# NumPy, or be refused -- never a silently different value.
VIEW_MAKERS = {
    "flip": "np.flip(y)", "flip_axis": "np.flip(y, axis=1)", "fliplr": "np.fliplr(y)",
    "flipud": "np.flipud(y)", "rot90": "np.rot90(y)", "rot90_k": "np.rot90(y, k=3)",
    "atleast_1d": "np.atleast_1d(y)", "atleast_2d": "np.atleast_2d(y)",
    "atleast_3d": "np.atleast_3d(y)", "hsplit": "np.hsplit(y, 2)[0]",
    "array_split": "np.array_split(y, 2)[1]", "split": "np.split(y, 2, axis=1)[1]",
    "vsplit": "np.vsplit(y, 2)[1]", "rollaxis": "np.rollaxis(y, 1)",
    "meshgrid": "np.meshgrid(y[0], y[1], copy=False)[0]",
    "meshgrid_copy": "np.meshgrid(y[0], y[1])[1]",
    "broadcast_arrays": "np.broadcast_arrays(y, y[0])[0]",
    "broadcast_to": "np.broadcast_to(y, (3, 2, 2))", "swapaxes": "y.swapaxes(0, 1)",
    "T": "y.T", "transpose": "np.transpose(y)", "diagonal": "np.diagonal(y)",
    "squeeze": "np.squeeze(y[None])", "expand_dims": "np.expand_dims(y, 0)",
    "reshape": "y.reshape(-1)", "ravel": "np.ravel(y)", "moveaxis": "np.moveaxis(y, 0, 1)",
    "real": "np.real(y)", "asarray": "np.asarray(y)", "view": "y.view()",
    "slice": "y[:, 1:]", "take_copy": "np.take(y, [0], axis=0)",
}


def _view_programs(expr):
    through = ("def f(x):\n    y = x * 1.0\n    v = " + expr + "\n"
               "    v[0] = 3.0 * v[0] + x[0, 1]\n"
               "    return np.sum(y ** 2) + np.sum(v * v)\n")
    into_base = ("def f(x):\n    y = x * 1.0\n    v = " + expr + "\n"
                 "    y[0] = 2.0 * y[1] * x[0, 0]\n"
                 "    return np.sum(v ** 2) + np.sum(y)\n")
    return {"through": through, "into_base": into_base}


@pytest.mark.parametrize("direction", ["through", "into_base"])
@pytest.mark.parametrize("name", sorted(VIEW_MAKERS))
def test_numpy_view_functions_are_followed_or_refused(name, direction, tmp_path):
    import importlib.util
    import warnings
    src = "import numpy as np\n\n" + _view_programs(VIEW_MAKERS[name])[direction]
    path = tmp_path / f"view_{name}_{direction}.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    x = np.array([[1.5, -0.5], [0.75, 2.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            want = mod.f(x.copy())
        except ValueError:                 # NumPy refuses (a read-only view)
            with pytest.raises(S2SGradError):
                sg.value_and_grad(mod.f)(x.copy())
            return
        try:
            val, g = sg.value_and_grad(mod.f)(x.copy())
        except S2SGradError as exc:
            assert "view" in str(exc) and str(path) in str(exc)
            return
    np.testing.assert_allclose(val, want, rtol=1e-12)
    np.testing.assert_allclose(g, _fd(mod.f, x.copy()), rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------- x op= v keeps x's dtype
#
# On an array NumPy writes x op v into x: x's dtype (cast under 'same_kind')
# and shape; on a scalar x is rebound to the promoted result.  (The fuzzer
# found y32 += np.float64(...) computed in float64: a silently different value.)

def _aug_f32_array_f64_scalar(x, s):
    y = x.astype(np.float32)
    y += s                                   # float32, as NumPy
    y *= np.float64(1.1)
    return np.sum(y.astype(np.float64) * x)


def _aug_f32_array_f64_array(x, s):
    y = (x * 0.5).astype(np.float32)
    y += x * s                               # float64 operand: the result stays float32
    return np.sum(y * x)


def _aug_zero_d_f32(x, s):
    y = np.array(1.5, dtype=np.float32)
    y += s * x[0]
    return x[1] * y


def _aug_numpy_scalar_promotes(x, s):
    t = np.float32(1.5)
    t += s * x[0]                            # a NumPy scalar: rebound, float64
    return x[1] * t


def _aug_dict_item(x, s):
    d = {"a": x.astype(np.float32)}
    d["a"] *= s
    return np.sum(d["a"] * x)


def _aug_argument(x, s):
    x = x + 0.0
    x += s
    return np.sum(x * x)


AUG_CASES = [_aug_f32_array_f64_scalar, _aug_f32_array_f64_array, _aug_zero_d_f32,
             _aug_numpy_scalar_promotes, _aug_dict_item, _aug_argument]


@pytest.mark.parametrize("f", AUG_CASES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("s", [np.float64(0.3), 0.3], ids=["np.float64", "float"])
def test_augmented_assignment_keeps_the_arrays_dtype(f, s):
    x = np.array([0.5, -1.3, 2.0, 0.7])
    want = f(x.copy(), s)
    val, g = sg.value_and_grad(f)(x.copy(), s)
    assert val == want                       # the same roundings as NumPy's
    assert np.asarray(val).dtype == np.asarray(want).dtype
    out, _ = sg.jvp(f)((x.copy(), s), (np.ones_like(x),))
    assert out == want
    # the derivative of the float32 steps, against differences of float32 steps
    gfd = _fd(lambda a: f(a, s), x.copy(), eps=1e-3) if "32" in f.__name__ or \
        "dict" in f.__name__ else _fd(lambda a: f(a, s), x.copy())
    np.testing.assert_allclose(g, gfd, rtol=2e-3, atol=2e-3)


def _aug_int_by_float(x):
    k = np.arange(4)
    k += 0.5 * x                       # NumPy: cannot cast float64 to int64 in place
    return np.sum(k * x)


def _aug_grows_shape(x):
    y = x[:1] * 1.0
    y += x                             # NumPy: non-broadcastable output operand
    return np.sum(y)


@pytest.mark.parametrize("f, exc", [(_aug_int_by_float, TypeError),
                                    (_aug_grows_shape, ValueError)])
def test_augmented_assignment_errors_as_numpy(f, exc):
    # (the value is computed: a gradient alone may not compute x op v at all)
    with pytest.raises(exc):
        f(X.copy())
    with pytest.raises(exc):
        sg.value_and_grad(f)(X.copy())
