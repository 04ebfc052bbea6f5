"""User programs that once gave a wrong number (found by trust3's scratch
programs): state carried between calls (a rebound ``f.__defaults__``),
view-or-copy results (``x.astype(dtype, copy=False)``), ...

Each test compares the value with plain NumPy and the gradient with finite
differences (``check_grads``)."""
import itertools

import numpy as np
import pytest

import s2sgrad
from tests.test_guards import module as guard_module
from s2sgrad import check_grads, grad, jvp, value_and_grad

_count = itertools.count()


def module(tmp_path, text):
    """Write ``text`` as a module file and import it (a fresh module each time)."""
    return guard_module(tmp_path, text, name=f"s2sg_state_mod_{next(_count)}")


def agrees(f, *args, wrt=0):
    """value_and_grad(f) matches f's value and finite differences (of f as it
    is now, defaults included)."""
    v, g = value_and_grad(f, wrt=wrt)(*args)
    np.testing.assert_allclose(v, f(*args), rtol=1e-12)
    check_grads(f, args, wrt=wrt, modes=("rev", "fwd"))
    return g


X = np.array([0.3, -0.7, 1.1])


def test_rebound_defaults_are_read(tmp_path):
    # Python reads f.__defaults__ at each call; the fast runner had the
    # first call's defaults baked into its signature: 2*d*x*s with the old d
    m = module(tmp_path, """
        import numpy as np
        def f(x, d=np.array([1.0, 2.0, 3.0]), s=2.0):
            return np.sum(d * x ** 2) * s
        """)
    g, vg = grad(m.f), value_and_grad(m.f)
    for _ in range(2):
        np.testing.assert_allclose(g(X), 2 * X * np.array([1.0, 2.0, 3.0]) * 2.0)
        vg(X)
    m.f.__defaults__ = (np.array([0.0, 1.0, 1.0]), 1.0)
    for _ in range(2):                       # the hot runner, then the general path
        np.testing.assert_allclose(g(X), 2 * X * np.array([0.0, 1.0, 1.0]))
        np.testing.assert_allclose(vg(X)[0], m.f(X))
        np.testing.assert_allclose(g(X, s=3.0), 2 * X * np.array([0.0, 1.0, 1.0]) * 3.0)
        np.testing.assert_allclose(g(X, np.ones(3), 3.0), 2 * X * 3.0)
    agrees(m.f, X)
    m.f.__defaults__ = (1.0,)                # d has no default any more: as Python
    with pytest.raises(TypeError, match="'d'"):
        g(X)
    np.testing.assert_allclose(g(X, np.ones(3)), 2 * X)
    np.testing.assert_allclose(g(x=X, d=np.ones(3)), 2 * X)
    # a default mutated in place is read live as before
    m.f.__defaults__ = (np.array([1.0, 1.0, 1.0]), 1.0)
    g(X)
    m.f.__defaults__[0][0] = 5.0
    np.testing.assert_allclose(g(X), 2 * X * np.array([5.0, 1.0, 1.0]))


def test_astype_copy_false_is_a_view_when_the_dtype_is_the_same(tmp_path):
    # y.astype(np.float64, copy=False) of a float64 y is y itself: the write
    # through z is a write into y (NumPy 3.7; s2sgrad gave 2.89, the copy's)
    m = module(tmp_path, """
        import numpy as np
        def f(x):
            y = x * 1.0
            z = y.astype(np.float64, copy=False)
            z[0] = 3.0
            return np.sum(y * x)
        def g(x):
            y = x * 1.0
            z = y.astype(np.float32, copy=False)      # a converted copy
            z[0] = 3.0
            return np.sum(y * x) + np.sum(z)
        def h(x):
            y = x * 1.0
            z = y.astype(np.float64, copy=True)
            z[0] = 3.0
            return np.sum(y * x) + np.sum(z * x)
        """)
    x = np.array([0.3, -0.7, 1.1, 0.5])
    for f in (m.f, m.h):
        agrees(f, x)
    v, gg = value_and_grad(m.g)(x)          # (float32 rounding: no finite differences)
    np.testing.assert_allclose(v, m.g(x.copy()), rtol=1e-7)
    np.testing.assert_allclose(gg, 2 * x + [0.0, 1.0, 1.0, 1.0], rtol=1e-7)
    np.testing.assert_allclose(grad(m.f)(x), [3.0, -1.4, 2.2, 1.0])
    # float32 arguments: float64 is a conversion, so a copy (NumPy's answer)
    x32 = x.astype(np.float32)
    v, g32 = value_and_grad(m.f)(x32)
    np.testing.assert_allclose(v, m.f(x32.copy()), rtol=1e-6)
    np.testing.assert_allclose(g32, 2 * x32, rtol=1e-6)


LIST_SRC = """
import numpy as np

def rows_of_one_buffer(x):
    rows = []
    a = np.zeros(3)
    for i in range(3):
        a[i] = x[i] ** 2
        rows.append(a)
    return np.sum(np.array(rows) * x)

def appended_then_augmented(x):
    a = x * 1.0
    out = []
    for i in range(3):
        a += x
        out.append(a)
    return np.sum(np.stack(out) ** 2)

def view_appended(x):
    a = x * 1.0
    out = []
    for i in range(3):
        out.append(a[1:])
        a += x
    return np.sum(np.stack(out) ** 2)

def while_loop(x):
    a = x * 1.0
    out = []
    i = 0
    while i < 3:
        a *= 2.0
        out.append(a)
        i += 1
    return np.sum(np.stack(out) * x)

def row_grown_later(x):
    rows = []
    for i in range(3):
        row = []
        rows.append(row)
        for j in range(3):
            row.append(x[j] * i)
    return np.sum(np.array(rows) * x)

def fresh_each_iteration(x):
    rows = []
    for i in range(2):
        for j in range(3):
            a = np.zeros(3)
            a[j] = x[j] * i
            rows.append(a)
    return np.sum(np.array(rows) * x)

def rebound_first(x):
    hs = []
    h = x
    for i in range(3):
        h = np.tanh(h) * 2
        h += x
        hs.append(h)
    return np.sum(np.stack(hs))

def element_of_a_buffer(x):
    st = np.zeros(3)
    out = []
    for t in range(3):
        st[0] = st[0] + x[t]
        out.append(st[0])
    return sum(out) * x[1]

def copies(x):
    out = []
    a = x * 1.0
    for i in range(3):
        out.append(a.copy())
        a[i] = 0.0
    return np.sum(np.stack(out) * x)

def numbers(x):
    s = 0.0
    acc = []
    for i in range(3):
        s += x[i]
        acc.append(s)
    return np.sum(np.array(acc) ** 2)
"""


@pytest.mark.parametrize("name", ["rows_of_one_buffer", "appended_then_augmented",
                                  "view_appended", "while_loop", "row_grown_later"])
def test_array_in_a_list_then_written_in_the_loop_is_refused(tmp_path, name):
    # NumPy's list holds the one array several times, each entry its last
    # value; the loop's carries held the values at the appends (27.26 vs
    # NumPy's 45.12 for appended_then_augmented, -0.389 vs -0.3 for
    # rows_of_one_buffer)
    m = module(tmp_path, LIST_SRC)
    with pytest.raises(s2sgrad.S2SGradError, match="in place while a list still holds it"):
        grad(getattr(m, name))(X)


@pytest.mark.parametrize("name", ["fresh_each_iteration", "rebound_first",
                                  "element_of_a_buffer", "copies", "numbers"])
def test_arrays_in_a_list_not_written_later_still_work(tmp_path, name):
    m = module(tmp_path, LIST_SRC)
    agrees(getattr(m, name), X.copy())


CONTAINERS_SRC = """
import numpy as np

def add(lst, v):
    lst.append(v)

def row_in_rows(x):
    row = []
    rows = [row]
    row.append(x[0] * 2)
    row.append(x[1])
    return np.sum(np.array(rows) ** 2)

def item_set_after(x):
    row = [x[0]]
    rows = []
    rows.append(row)
    row[0] = x[1] * 3
    return np.sum(np.array(rows) ** 2)

def dict_in_dict(x):
    d = {}
    hold = {"d": d}
    d["a"] = x * 2
    return np.sum(hold["d"]["a"] ** 2)

def two_names(x):
    a = [x[0]]
    b = a
    b += [x[1]]
    return np.sum(np.array(a) ** 2)

def helper_appends(x):
    acc = []
    add(acc, x[0] ** 2)
    add(acc, x[1])
    return sum(acc)

def copies_do_not_change(x):
    a = [x[0]]
    b = list(a)
    b.append(x[1])
    c = a[:]
    c.append(x[2])
    return np.sum(np.array(a) ** 2) + len(b) * x[2] + len(c)

def popped_through_another_name(x):
    a = [x[0], x[1]]
    b = a
    p = a.pop()
    return np.sum(np.array(b) ** 2) + p
"""


@pytest.mark.parametrize("name", ["row_in_rows", "item_set_after", "dict_in_dict", "two_names",
                                  "helper_appends", "copies_do_not_change",
                                  "popped_through_another_name"])
def test_a_list_changed_in_place_is_seen_by_its_other_holders(tmp_path, name):
    # rows = [row]; row.append(v): rows[0] is row, grown (s2sgrad gave 0.0
    # vs Python's 0.85 for row_in_rows, 0.09 vs 4.41 for item_set_after)
    m = module(tmp_path, CONTAINERS_SRC)
    agrees(getattr(m, name), X.copy())


@pytest.mark.parametrize("kind", ["matrix", "masked"])
@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_matrix_and_masked_arguments_are_refused(tmp_path, kind):
    # np.matrix: x ** 2 is a matrix power in the generated code (NumPy's value)
    # but the rules are elementwise; a masked sum skips an element whose
    # gradient came out 1.0
    m = module(tmp_path, """
        import numpy as np
        def f(x):
            return np.sum(np.sin(x) * x ** 2)
        def g(x, y):
            return np.sum(np.sin(x)) * np.sum(y["a"])
        """)
    arg = np.matrix([[1.0, 2.0], [3.0, 4.0]]) if kind == "matrix" else \
        np.ma.masked_array([1.0, 2.0, 3.0], mask=[0, 1, 0])
    with pytest.raises(s2sgrad.S2SGradError, match="np.matrix|masked array"):
        grad(m.f)(arg)
    with pytest.raises(s2sgrad.S2SGradError, match="np.matrix|masked array"):
        grad(m.g)(np.ones(2), {"a": arg})


def test_a_value_written_into_an_integer_array_has_no_derivative(tmp_path):
    # y = np.arange(3); y[1] = 5 * x[1] truncates to an int: the derivative
    # through the write is zero (s2sgrad gave -6.5 = y[1] + 5 * x[1] for
    # d/dx1, NumPy's function has -3.0)
    m = module(tmp_path, """
        import numpy as np
        def f(x):
            y = np.arange(3)
            y[1] = x[1] * 5
            return np.sum(y * x)
        def g(x):
            a = np.zeros(3, dtype=bool)
            a[0] = x[0]
            b = np.zeros(3, dtype=np.int64)
            b[1:] = x[1:] * 10
            return np.sum(np.where(a, x, 2 * x)) + np.sum(b * x)
        def h(x):
            y = np.zeros(3)
            y[0] = x[0] ** 2            # a float array: the derivative passes
            y[1:] += x[1:] * 2
            return np.sum(y * x)
        """)
    x = np.array([0.3, -0.7, 0.6])
    np.testing.assert_allclose(grad(m.f)(x), [0.0, -3.0, 2.0])
    np.testing.assert_allclose(grad(m.g)(x), [1.0, 2.0 - 7.0, 2.0 + 6.0])
    for f in (m.f, m.g, m.h):
        v, g = value_and_grad(f)(x)
        np.testing.assert_allclose(v, f(x.copy()), rtol=1e-12)
        out, t = jvp(f)((x,), (np.ones(3),))
        np.testing.assert_allclose(t, np.sum(g), rtol=1e-12)
    agrees(m.h, x)


@pytest.mark.parametrize("mode", ["never", "always"])
def test_writes_into_0d_cotangents_without_specialisation(tmp_path, monkeypatch, mode):
    """Generic code (not specialised to example values) wrote in place into
    the cotangent of a 0-d array, which a ufunc of 0-d arrays may give as a
    NumPy scalar (TypeError: no item assignment); it is made a 0-d array
    first (the same array when it already is one)."""
    from s2sgrad import api
    monkeypatch.setattr(api, "SPECIALIZE", mode)
    m = module(tmp_path, """
        import numpy as np
        def f(x):
            y = np.zeros(())
            y[()] = x ** 2
            y[...] += x
            return y * 2
        """)
    for x in (1.5, np.float64(-0.4), np.array(0.7)):
        v, g = value_and_grad(m.f)(x)
        np.testing.assert_allclose(v, m.f(x), rtol=1e-12)
        np.testing.assert_allclose(g, 2 * (2 * x + 1), rtol=1e-12)
        out, t = jvp(m.f)((x,), (1.0,))
        np.testing.assert_allclose(t, 2 * (2 * x + 1), rtol=1e-12)
