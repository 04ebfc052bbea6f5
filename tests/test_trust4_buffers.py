"""Memory the compiled code shares or reuses (trust4): the same array
returned twice, aux outputs that alias inputs, locals or each other,
gradients of arguments that are one array, results kept by the caller
across calls, temporaries reused in loops, in-place chains that buffer
reuse could merge.  Values are compared with plain NumPy, gradients with
central finite differences (tests/trust4_harness.py)."""
import numpy as np
import pytest

from s2sgrad import grad, hessian, jvp, value_and_grad, vjp
from tests.trust4_harness import agree

R = np.random.default_rng(11)
X = R.normal(size=5)
M = R.normal(size=(3, 4))


# ---------------------------------------------------------------- aux outputs

def aux_same_twice(x):
    y = np.tanh(x)
    return np.sum(y ** 2), (y, y)


def aux_is_argument(x):
    return np.sum(x ** 2), x


def aux_is_view_of_argument(x):
    return np.sum(x ** 2), x[1:3]


def aux_written_after(x):
    h = x * 2.0
    aux = h
    h += 1.0                     # aux is h: NumPy's aux sees the write
    return np.sum(h * x), aux


def aux_view_written_after(x):
    h = np.exp(x)
    aux = h[:2]
    h[0] = 0.0
    return np.sum(h), aux


def aux_dict_of_intermediates(x):
    a = x ** 2
    b = a * 3.0
    a *= 0.5
    return np.sum(a + b), {"a": a, "b": b, "again": a}


AUX = [aux_same_twice, aux_is_argument, aux_is_view_of_argument, aux_written_after,
       aux_view_written_after, aux_dict_of_intermediates]


def _flat(t):
    if isinstance(t, dict):
        return [a for k in sorted(t) for a in _flat(t[k])]
    if isinstance(t, (tuple, list)):
        return [a for i in t for a in _flat(i)]
    return [t]


@pytest.mark.parametrize("f", AUX, ids=lambda f: f.__name__)
def test_aux_outputs(f):
    x = X.copy()
    want_v, want_aux = f(X.copy())
    vg = value_and_grad(f, has_aux=True)
    for _ in range(2):
        (v, aux), g = vg(x)
        assert np.array_equal(x, X)
        np.testing.assert_allclose(v, want_v, rtol=1e-13)
        for a, b in zip(_flat(aux), _flat(want_aux)):
            np.testing.assert_allclose(a, b, rtol=1e-13)
        agree(lambda z: f(z)[0], x)
        # the caller changes what it got: the other results stay
        keep = [np.array(a, copy=True) for a in _flat(aux)]
        g_keep = g.copy()
        g[...] = 123.0
        for a, k in zip(_flat(aux), keep):
            np.testing.assert_array_equal(a, k)
        # an aux that is the argument or a view of it shares its memory, as
        # NumPy's does (f returns x itself); the others are the function's own
        np_aux = f(x)[1]
        for a, b in zip(_flat(aux), _flat(np_aux)):
            assert np.shares_memory(a, x) == np.shares_memory(b, x)
        for a in _flat(aux):
            if isinstance(a, np.ndarray) and a.flags.writeable and not np.shares_memory(a, x):
                a[...] = -7.0
        np.testing.assert_array_equal(x, X)
        (v2, aux2), g2 = vg(x)
        np.testing.assert_allclose(g2, g_keep, rtol=1e-13)


# ---------------------------------------------------------------- results kept by the caller

def loss(w, x):
    h = np.tanh(x @ w)
    return np.sum(h ** 2) + 0.1 * np.sum(w ** 2)


W = R.normal(size=(4, 3))


def test_gradients_kept_across_calls():
    g = grad(loss)
    vg = value_and_grad(loss)
    first = g(W, M)
    first_copy = first.copy()
    second = g(W * 2.0, M)
    v3, third = vg(W - 1.0, M)
    np.testing.assert_array_equal(first, first_copy)
    assert not np.shares_memory(first, second) and not np.shares_memory(second, third)
    agree(loss, W, M)


def test_vjp_pullback_results_kept():
    def f(w):
        return np.sin(w) * w
    out, pb = vjp(f)(X)
    a = pb(np.ones(5))
    a_copy = np.array(a[0] if isinstance(a, tuple) else a, copy=True)
    b = pb(np.arange(5.0))
    np.testing.assert_array_equal(a[0] if isinstance(a, tuple) else a, a_copy)
    expected = (np.cos(X) * X + np.sin(X)) * np.arange(5.0)
    np.testing.assert_allclose(b[0] if isinstance(b, tuple) else b, expected, rtol=1e-12)
    out_copy = out.copy()
    pb(np.ones(5) * 3)
    np.testing.assert_array_equal(out, out_copy)


def test_hessian_and_jvp_results_kept():
    def f(x):
        return np.sum(np.exp(x) * x ** 2)
    h = hessian(f)
    h1 = h(X)
    h1c = h1.copy()
    h(X * 2)
    np.testing.assert_array_equal(h1, h1c)
    j = jvp(f)
    v1, d1 = j((X,), (np.ones(5),))
    d1c = np.array(d1, copy=True)
    j((X * 3,), (np.arange(5.0),))
    np.testing.assert_array_equal(d1, d1c)


# ---------------------------------------------------------------- one array, two arguments

def two_args(a, b):
    return np.sum(a * b ** 2) + np.sum(np.sin(a) * b)


def two_args_writes_local(a, b):
    c = a * 1.0
    c += b
    d = b * 1.0
    d *= c
    return np.sum(c * d)


@pytest.mark.parametrize("f", [two_args, two_args_writes_local])
def test_same_array_as_two_arguments(f):
    x = X.copy()
    (ga, gb) = grad(f, wrt=(0, 1))(x, x)
    agree(f, x, x.copy(), wrt=(0, 1))
    agree(lambda z: f(z, z), x)
    np.testing.assert_allclose(ga + gb, grad(lambda z: f(z, z))(x), rtol=1e-12)
    assert not np.shares_memory(ga, gb)
    np.testing.assert_array_equal(x, X)


def test_same_array_in_a_dict_and_a_list():
    def f(p):
        return np.sum(p["a"] * p["b"]) + np.sum(p["a"] ** 3)
    w = X.copy()
    g = grad(f)({"a": w, "b": w})
    np.testing.assert_allclose(g["a"], w + 3 * w ** 2, rtol=1e-12)
    np.testing.assert_allclose(g["b"], w, rtol=1e-12)
    assert not np.shares_memory(g["a"], g["b"])

    def h(ws):
        return np.sum(ws[0] * np.exp(ws[1]))
    gl = grad(h)([w, w])
    np.testing.assert_allclose(gl[0], np.exp(w), rtol=1e-12)
    np.testing.assert_allclose(gl[1], w * np.exp(w), rtol=1e-12)
    assert not np.shares_memory(gl[0], gl[1])


# ---------------------------------------------------------------- in-place chains

def chain_inplace_reads_old(x):
    a = np.exp(x)
    b = a * 2.0
    a += 1.0
    c = b * a
    a *= c
    return np.sum(a + b + c)


def chain_reuse_names(x):
    t = x * 2.0
    u = t + 1.0
    t = np.sin(u)          # the old t's buffer may be reused; u still read
    u *= t
    t = t * u
    return np.sum(t * u)


def chain_accumulate_into_zeros(x):
    acc = np.zeros_like(x)
    for k in range(4):
        tmp = np.cos(x * k)
        acc += tmp * tmp
        tmp *= 2.0         # written after being added: acc keeps the old value
    return np.sum(acc * x)


def loop_buffer_copied_out(x):
    buf = np.zeros(5)
    rows = []
    for i in range(3):
        buf[:] = x * (i + 1.0)
        buf[i] = x[i] ** 2
        rows.append(buf.copy())
    return np.sum(np.stack(rows) * np.arange(15.0).reshape(3, 5))


def loop_temp_rebound(x):
    h = x
    keep = []
    for i in range(3):
        z = h * 2.0
        h = np.tanh(z)
        keep.append(z)
        z += 1.0          # z is the array in keep
    return np.sum(np.stack(keep) ** 2) + np.sum(h)


def swap_buffers(x):
    a = x * 1.0
    b = np.zeros_like(x)
    for _ in range(4):
        b[:] = 0.5 * a + np.roll(a, 1) * 0.25
        a, b = b, a
    return np.sum(a ** 2 * x)


def output_alias_of_intermediate(x):
    y = x ** 2
    z = y.reshape(5)       # a view
    z += 1.0
    return np.sum(y * z)


def same_allocation_read_twice(x):
    z = np.zeros(5)
    a = z
    b = z
    a[0] = x[0]
    b[1] = x[1] * a[0]
    return np.sum(z * x) + np.sum(a) * np.sum(b)


def two_allocations_not_merged(x):
    a = np.zeros(5)
    b = np.zeros(5)
    a[:] = x
    b[1:] = x[:-1] ** 2
    a += b
    return np.sum(a * b)


def empty_filled(x):
    e = np.empty(5)
    e[:] = x * 3.0
    f = np.empty_like(e)
    f[...] = e[::-1]
    return np.sum(e * f)


def copy_then_write_both(x):
    a = x * 1.0
    b = a.copy()
    a[0] = 10.0
    b[-1] = -10.0
    return np.sum(a * b * x)


def concat_of_written(x):
    a = x[:3] * 1.0
    c = np.concatenate([a, a])
    a[0] = 4.0
    return np.sum(c * x[0]) + np.sum(a)


def stack_of_views_then_write(x):
    y = x * 1.0
    s = np.stack([y[:2], y[1:3]])
    y[1] = 0.0
    return np.sum(s ** 2) + np.sum(y * x)


def dot_into_preallocated(m):
    out = np.empty((3, 3))
    out[:] = m @ m.T
    out += np.eye(3)
    return np.sum(np.log(np.abs(out) + 1.0))


PROGRAMS = [
    (chain_inplace_reads_old, (X,)), (chain_reuse_names, (X,)),
    (chain_accumulate_into_zeros, (X,)), (loop_buffer_copied_out, (X,)),
    (swap_buffers, (X,)), (output_alias_of_intermediate, (X,)),
    (same_allocation_read_twice, (X,)), (two_allocations_not_merged, (X,)),
    (empty_filled, (X,)), (copy_then_write_both, (X,)), (concat_of_written, (X,)),
    (stack_of_views_then_write, (X,)), (dot_into_preallocated, (M,)),
]


@pytest.mark.parametrize("f,args", PROGRAMS, ids=[p[0].__name__ for p in PROGRAMS])
def test_buffer_program(f, args):
    agree(f, *args, hess=f in (chain_inplace_reads_old, swap_buffers, two_allocations_not_merged))


def test_array_kept_in_a_list_then_written_in_the_loop_is_refused():
    from tests.trust4_harness import refuses
    refuses(loop_temp_rebound, X, match="append a copy")
