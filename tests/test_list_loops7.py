"""Loops that build lists (``hs.append(h)`` then ``np.stack(hs)``, a losses
list then ``sum(losses)``): values against plain NumPy, gradients against
central differences, float32, second calls with other shapes, jvp, and the
aliasing cases that must keep the general list code.  The generated code of
the common spellings is checked for what the list machinery promises
(appends in place, the stacked array a view of the state tape, the
cotangent read by index, the reversed loop specialised)."""
import numpy as np
import pytest

import s2sgrad
from s2sgrad import grad, jvp, value_and_grad


def fd(f, args, i, eps=1e-6):
    x = np.array(args[i], dtype=np.float64)
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += eps
        xm[idx] -= eps
        a = list(args)
        a[i] = xp
        fp = f(*a)
        a[i] = xm
        fm = f(*a)
        g[idx] = (fp - fm) / (2 * eps)
    return g


def data(T=6, H=4, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    W = (0.5 * rng.standard_normal((H, H))).astype(dtype)
    xs = rng.standard_normal((T, H)).astype(dtype)
    h0 = (0.3 * rng.standard_normal(H)).astype(dtype)
    return W, xs, h0


# ------------------------------------------------------------------ programs

def rnn_stack(W, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    H = np.stack(hs)
    return np.sum(H ** 2)


def rnn_array(W, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    return np.sum(np.array(hs) * xs)


def rnn_vstack(W, xs, h0):
    h = h0
    hs = []
    for t in range(len(xs)):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    return np.sum(np.vstack(hs) ** 3)


def rnn_sum_list(W, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    return np.sum(sum(hs) ** 2)


def rnn_last(W, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    return np.sum(hs[-1] * hs[0])


def losses_sum(W, xs, h0):
    h = h0
    losses = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        losses.append(np.sum((h - 0.1) ** 2))
    return sum(losses)


def losses_mean(W, xs, h0):
    h = h0
    losses = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        losses.append(np.sum(h * xs[t]))
    return np.mean(losses)


def losses_array_sum(W, xs, h0):
    h = h0
    losses = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        losses.append(np.sum(h ** 2))
    return np.sum(np.array(losses))


def two_lists(W, xs, h0):
    h = h0
    hs = []
    gs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
        gs.append(np.sin(h) * xs[t])
    return np.sum(np.stack(hs) * np.stack(gs)) + np.sum(np.stack(gs))


def two_appends_per_step(W, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
        hs.append(2.0 * h)
    return np.sum(np.stack(hs) ** 2)


def conditional_append(W, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        if t % 2 == 0:
            hs.append(h)
    return np.sum(np.stack(hs) ** 2)


def while_append(W, xs, h0):
    h = h0
    hs = []
    t = 0
    while t < xs.shape[0]:
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
        t = t + 1
    return np.sum(np.stack(hs) ** 2)


def nonempty_start(W, xs, h0):
    h = h0
    hs = [h0]
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    return np.sum(np.stack(hs) ** 2)


def stack_axis1(W, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    return np.sum(np.stack(hs, axis=1) * xs.T)


def _push(hs, h):
    hs.append(h)


def list_to_helper(W, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        _push(hs, h)
    return np.sum(np.stack(hs) ** 2)


def aliased_and_mutated(W, xs, h0):
    h = h0
    hs = []
    other = hs
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
        other.append(0.5 * h)
    return np.sum(np.stack(hs) ** 2) + np.sum(np.stack(other))


def read_inside(W, xs, h0):
    h = h0
    hs = []
    acc = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
        acc = acc + np.sum(hs[-1] * hs[0])
    return acc + np.sum(np.stack(hs))


def stack_used_twice(W, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    H = np.stack(hs)
    H2 = np.stack(hs)
    return np.sum(H ** 2) + np.sum(H2 * xs)


PROGRAMS = [rnn_stack, rnn_array, rnn_vstack, rnn_sum_list, rnn_last, losses_sum,
            losses_mean, losses_array_sum, two_lists, two_appends_per_step,
            conditional_append, while_append, nonempty_start, stack_axis1,
            list_to_helper, aliased_and_mutated, read_inside, stack_used_twice]


@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
def test_value_and_gradient(f):
    args = data()
    vg = value_and_grad(f, wrt=(0, 1, 2))
    v, gs = vg(*args)
    assert np.allclose(v, f(*args), rtol=1e-12, atol=1e-12)
    for i, g in enumerate(gs):
        assert np.allclose(g, fd(f, args, i), rtol=1e-6, atol=1e-7), (f.__name__, i)
    # second call with other shapes (the specialisation's guards)
    args2 = data(T=9, H=3, seed=1)
    v2, gs2 = vg(*args2)
    assert np.allclose(v2, f(*args2), rtol=1e-12, atol=1e-12)
    for i, g in enumerate(gs2):
        assert g.shape == args2[i].shape
        assert np.allclose(g, fd(f, args2, i), rtol=1e-6, atol=1e-7), (f.__name__, i)
    # and the first shapes again (the cached specialisation)
    v3, gs3 = vg(*args)
    assert np.allclose(v3, v)
    for a, b in zip(gs3, gs):
        assert np.allclose(a, b)


@pytest.mark.parametrize("f", [rnn_stack, losses_sum, two_lists, rnn_last, while_append],
                         ids=lambda f: f.__name__)
def test_float32(f):
    args = data(dtype=np.float32)
    g = grad(f, wrt=0)(*args)
    assert g.dtype == np.float32
    ref = fd(f, [a.astype(np.float64) for a in args], 0)
    assert np.allclose(g, ref, rtol=2e-3, atol=2e-4)


@pytest.mark.parametrize("f", [rnn_stack, losses_mean, two_lists],
                         ids=lambda f: f.__name__)
def test_jvp(f):
    args = data()
    v = np.random.default_rng(3).standard_normal(args[0].shape)
    out, tan = jvp(f, wrt=0)(args, (v,))
    assert np.allclose(out, f(*args))
    assert np.allclose(tan, np.sum(fd(f, args, 0) * v), rtol=1e-6, atol=1e-7)


def test_single_step_and_long_sequence():
    for T in (1, 40):
        args = data(T=T, H=3)
        g = grad(rnn_stack, wrt=0)(*args)
        assert np.allclose(g, fd(rnn_stack, args, 0), rtol=1e-6, atol=1e-7)


def test_list_returned_as_aux_keeps_its_elements():
    # the list escapes (returned): it must hold every state, not a view that
    # later code could change
    def f(W, xs, h0):
        h = h0
        hs = []
        for t in range(xs.shape[0]):
            h = np.tanh(W @ h + xs[t])
            hs.append(h)
        return np.sum(np.stack(hs) ** 2), hs
    args = data()
    (val, hs), g = value_and_grad(f, has_aux=True)(*args)
    ref_val, ref_hs = f(*args)
    assert np.allclose(val, ref_val)
    assert len(hs) == len(ref_hs)
    for a, b in zip(hs, ref_hs):
        assert np.allclose(a, b)
    assert np.allclose(g, fd(lambda *a: f(*a)[0], args, 0), rtol=1e-6, atol=1e-7)


def test_append_in_place_not_copied():
    # the generic code too: hs.append(h), never hs = hs + [h]
    for f in (rnn_stack, losses_sum, while_append, two_lists):
        gf = grad(f)
        src = gf.generic_source
        assert " + [" not in src, f.__name__
        gf(*data())
        assert " + [" not in gf.source, f.__name__


def test_generated_code_reads_arrays():
    g = grad(rnn_stack)
    g(*data(T=50, H=16))
    src = g.source
    # the stacked states are rows of the state tape; the cotangent is read by
    # index; the reversed loop is specialised
    src = "\n".join(l for l in src.splitlines() if not l.strip().startswith("#"))
    assert "np.stack(hs" not in src and "hs.append" not in src
    assert "unstack" not in src and ".pop()" not in src
    assert "unbroadcast" not in src and "matmul_vjp" not in src
    assert "_terms" not in src and "unzip" not in src and "stack_steps" not in src
    assert ".copy(" not in src


def test_losses_list_specialised():
    g = grad(losses_sum)
    g(*data(T=50, H=16))
    src = g.source
    assert "unbroadcast" not in src and "matmul_vjp" not in src
    assert " + [" not in src
    # the gradient alone does not compute the losses (their sum's adjoint
    # reads them only for their shape: a broadcast of the seed, perf-loops9)
    assert "losses = np.empty" not in src and ".sum()" not in src and ".pop()" not in src
    # with the value: the losses go into an array of their own
    vg = value_and_grad(losses_sum)
    args = data(T=50, H=16)
    vg(*args)
    v, gr = vg(*args)
    assert "losses = np.empty((50,)" in vg.source and ".pop()" not in vg.source
    assert np.allclose(v, losses_sum(*args), rtol=1e-12)
    assert np.allclose(gr, g(*args), rtol=1e-12, atol=1e-14)


def test_shape_changing_elements_fall_back():
    # elements of different shapes: np.concatenate of a growing list; no
    # shape fact may be assumed (the general path), and the numbers are right
    def f(x):
        parts = []
        y = x
        for t in range(3):
            y = np.concatenate([y, np.sin(y[:1])])
            parts.append(y)
        return np.sum(np.concatenate(parts) ** 2)
    x = np.array([0.3, -0.7])
    vg = value_and_grad(f)
    v, g = vg(x)
    assert np.allclose(v, f(x))
    assert np.allclose(g, fd(f, [x], 0), rtol=1e-6, atol=1e-7)


def test_conditional_append_depends_on_data():
    def f(W, xs, h0):
        h = h0
        hs = [h0]
        for t in range(xs.shape[0]):
            h = np.tanh(W @ h + xs[t])
            if np.sum(h) > 0:
                hs.append(h)
        return np.sum(np.stack(hs) ** 2)
    for seed in range(3):
        args = data(seed=seed)
        v, g = value_and_grad(f)(*args)
        assert np.allclose(v, f(*args))
        assert np.allclose(g, fd(f, args, 0), rtol=1e-6, atol=1e-7)


def test_conditional_append_in_place():
    g = grad(conditional_append)
    g(*data())
    assert " + [" not in g.source and "[:-1]" not in g.source


def _grow(hs, h):
    hs.append(h)
    return None


def test_helper_appends_to_the_callers_list():
    # the helper's append grows the caller's list (the same object): before,
    # the caller kept the empty list and sum(hs) was silently 0
    def f(W, xs, h0):
        h = h0
        hs = []
        for t in range(xs.shape[0]):
            h = np.tanh(W @ h + xs[t])
            _grow(hs, h)
        return np.sum(sum(hs) ** 2)

    def g_(x):
        hs = [x]
        _grow(hs, 2.0 * x)
        return np.sum(np.stack(hs) ** 2)
    args = data()
    v, g = value_and_grad(f)(*args)
    assert np.allclose(v, f(*args))
    assert np.allclose(g, fd(f, args, 0), rtol=1e-6, atol=1e-7)
    x = np.array([0.5, -1.5])
    v, g = value_and_grad(g_)(x)
    assert np.allclose(v, g_(x))
    assert np.allclose(g, fd(g_, [x], 0), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("spell", ["b = hs", "b = hs.copy()", "b = [h for h in hs]"])
def test_second_name_after_the_loop(spell):
    # b = hs is the same list (sees the later append); a copy is not
    src = f'''
def f(x):
    hs = []
    for t in range(3):
        hs.append(x * t)
    {spell}
    hs.append(x * 10.0)
    return np.sum(np.stack(b) ** 2) + 0.001 * np.sum(np.stack(hs))
'''
    ns = {"np": np}
    import linecache
    import pathlib
    import tempfile
    path = pathlib.Path(tempfile.mkdtemp()) / "second_name.py"
    path.write_text("import numpy as np\n" + src)
    code = compile(path.read_text(), str(path), "exec")
    exec(code, ns)
    linecache.checkcache(str(path))
    f = ns["f"]
    x = np.array([1.0, -2.0])
    v, g = value_and_grad(f)(x)
    assert np.allclose(v, f(x))
    assert np.allclose(g, fd(f, [x], 0), rtol=1e-6, atol=1e-7)


def test_literal_bound_to_two_names_then_loop():
    def f(x):
        hs = []
        other = hs
        for t in range(3):
            hs.append(x * t)
            other.append(0.5 * x)
        return np.sum(np.stack(hs) ** 2) + np.sum(np.stack(other) * x)
    x = np.array([1.0, 2.0])
    v, g = value_and_grad(f)(x)
    assert np.allclose(v, f(x))
    assert np.allclose(g, fd(f, [x], 0), rtol=1e-6, atol=1e-7)


def test_two_lists_read_by_index():
    g = grad(two_lists)
    g(*data(T=20, H=5))
    src = "\n".join(l for l in g.source.splitlines() if not l.strip().startswith("#"))
    assert ".pop()" not in src and "unstack" not in src and ".append(" not in src


def _snapshot(x):
    hs = []
    snapshot = hs
    for t in range(3):
        hs.append(x * t)
    return np.sum(sum(snapshot) ** 2)


def _held_by_container(x):
    hs = [x]
    rows = [hs, hs]
    for t in range(2):
        hs.append(x * (t + 2))
    return np.sum(np.stack(rows[0]) ** 2) + np.sum(np.stack(rows[1]))


def _second_name_after(x):
    a = []
    b = []
    for t in range(3):
        a.append(x * t)
        b.append(x + t)
    c = a
    c.append(x)
    return np.sum(np.stack(a)) + np.sum(np.stack(b) * 2) + 0.5 * np.sum(np.stack(c) ** 2)


@pytest.mark.parametrize("f", [_snapshot, _held_by_container, _second_name_after],
                         ids=lambda f: f.__name__)
def test_one_list_object_many_references(f):
    # every name and container holding the list sees its appends (Python's
    # semantics; these were silently the list before the appends)
    for x in (np.array([1.0, 2.0]), np.array([0.3, -1.1, 2.5])):
        v, g = value_and_grad(f)(x)
        assert np.allclose(v, f(x))
        assert np.allclose(g, fd(f, [x], 0), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("f", [rnn_stack, losses_sum, two_lists], ids=lambda f: f.__name__)
def test_second_order(f):
    from s2sgrad import hvp
    W, xs, h0 = data(T=4, H=3)
    v = np.random.default_rng(1).standard_normal(W.shape)
    gf = grad(f)
    eps = 1e-5
    ref = (gf(W + eps * v, xs, h0) - gf(W - eps * v, xs, h0)) / (2 * eps)
    assert np.allclose(hvp(f)((W, xs, h0), v), ref, rtol=1e-5, atol=1e-7)
    gg = grad(lambda W, xs, h0: np.sum(grad(f)(W, xs, h0) ** 2))
    ref2 = fd(lambda W, xs, h0: np.sum(gf(W, xs, h0) ** 2), [W, xs, h0], 0)
    assert np.allclose(gg(W, xs, h0), ref2, rtol=1e-5, atol=1e-6)
