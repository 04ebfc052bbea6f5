"""User programs that once gave a wrong number (found by trust3's scratch
programs): state carried between calls (a rebound ``f.__defaults__``),
view-or-copy results (``x.astype(dtype, copy=False)``), ...

Each test compares the value with plain NumPy and the gradient with finite
differences (``check_grads``)."""
import importlib.util
import itertools
import sys
import textwrap

import numpy as np
import pytest

import s2sgrad
from s2sgrad import check_grads, grad, jvp, value_and_grad

_count = itertools.count()


def module(tmp_path, text):
    """Write ``text`` as a module file and import it (a fresh module each time)."""
    name = f"s2sg_state_mod_{next(_count)}"
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(text))
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


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
