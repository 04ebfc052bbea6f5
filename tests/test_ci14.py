"""Session 26 (ci14): what a process that compiles and drops
transformations keeps.

* s2sgrad.verbose.paused_gc moves what a compile leaves alive to the oldest
  generation (gc.freeze/gc.unfreeze), which CPython does not count towards
  its next full collection: the garbage cycles among those objects (a
  dropped transformation, with its class of its own, compiled versions and
  their IR) were kept until the user's own objects started one -- never, in
  a process that mostly compiles (the test suite grew to 4.7 GB).  paused_gc
  now counts them and collects by CPython's rule.
* The linecache entry and source map of generated code live as long as the
  code object running it (codegen.tie_source), not for the whole process.

Values and gradients are checked against NumPy and the closed form.
"""
from __future__ import annotations

import gc
import linecache
import weakref

import numpy as np
import pytest

import s2sgrad
from s2sgrad import codegen, verbose


def _make(k):
    """A fresh function (its own code object: compiled anew) of constant ``k``."""
    ns = {"np": np}
    src = (f"def f_ci14_{k}(x, w):\n"
           f"    h = np.tanh(x * w + {k}.0)\n"
           f"    return np.sum(h * h)\n")
    name = f"<ci14 test {k}>"
    linecache.cache[name] = (len(src), None, src.splitlines(True), name)
    exec(compile(src, name, "exec"), ns)
    return ns[f"f_ci14_{k}"]


def _check(g, k, x, w):
    """The value and gradient of ``_make(k)`` against the closed form."""
    dx, dw = g(x, w)
    h = np.tanh(x * w + k)
    d = 2 * h * (1 - h * h)
    np.testing.assert_allclose(dx, d * w, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dw, d * x, rtol=1e-12, atol=1e-15)


@pytest.fixture
def small_floor(monkeypatch):
    """A full collection after ~10 small compiles' objects, not 100,000."""
    # (raising=False, .get: the tests also run, and fail, on the code before)
    monkeypatch.setattr(verbose, "PROMOTED_FLOOR", 5_000, raising=False)
    verbose.__dict__.get("_PROMOTED", {}).update(moved=0, full=-1, alive=0)
    assert gc.isenabled() and gc.get_freeze_count() == 0
    gc.collect()
    yield
    verbose.__dict__.get("_PROMOTED", {}).update(moved=0, full=-1, alive=0)


class _Node:
    pass


def test_garbage_made_while_compiling_is_collected_by_compiling(small_floor):
    """A garbage cycle among objects a compile made (as a refused compile's
    exception, its traceback and frames are) is moved to the oldest
    generation; compiling alone starts the full collection that frees it
    once what it moved exceeds the floor (at the start of the next compile)."""
    x, w = np.linspace(-1.0, 1.0, 4), np.full(4, 0.3)
    # a process with many live objects: CPython's own rule then waits for a
    # quarter of them to be promoted by its young collections
    ballast = [[] for _ in range(300_000)]
    gc.collect()
    with verbose.paused_gc():
        node = _Node()
        node.self = node
        dead = weakref.ref(node)
        del node
    gc.collect(1)
    assert dead() is not None           # (in the oldest generation)
    for k in range(60):
        g = s2sgrad.grad(_make(k), wrt=(0, 1))
        _check(g, k, x, w)
        if dead() is None:
            break
    assert dead() is None
    assert len(ballast) == 300_000


def test_collects_by_the_rule_not_at_every_compile(small_floor, monkeypatch):
    """A full collection only when the moved objects exceed the floor and a
    quarter of what the last one left: not at every compile."""
    runs = []
    real = gc.collect
    monkeypatch.setattr(verbose.gc, "collect", lambda *a: (runs.append(a), real(*a))[1])
    x, w = np.linspace(-1.0, 1.0, 3), np.full(3, -0.7)
    kept = []
    for k in range(40):
        g = s2sgrad.grad(_make(100 + k), wrt=(0, 1))
        _check(g, 100 + k, x, w)
        kept.append(g)
    full = [a for a in runs if a == ()]
    young = [a for a in runs if a == (1,)]
    # (each compile collects first: the young generations, or all when due)
    assert len(young) + len(full) >= 40
    assert 1 <= len(full) < 20
    assert verbose._PROMOTED["alive"] > 0


def test_user_disabled_collector_not_collected(small_floor):
    """A collector the user disabled is left alone: nothing is counted and
    no full collection runs."""
    x, w = np.linspace(-1.0, 1.0, 3), np.full(3, 0.2)
    before = gc.get_stats()[2]["collections"]
    gc.disable()
    try:
        for k in range(30):
            g = s2sgrad.grad(_make(200 + k), wrt=(0, 1))
            _check(g, 200 + k, x, w)
        assert gc.get_stats()[2]["collections"] == before
        assert verbose._PROMOTED["moved"] == 0
    finally:
        gc.enable()


def _generated_files(tag):
    return sorted(f for f in linecache.cache if f.startswith("<s2sgrad") and tag in f)


def test_generated_source_lives_with_its_code():
    x, w = np.linspace(-1.0, 1.0, 5), np.full(5, 1.3)
    f = _make(300)
    g = s2sgrad.grad(f, wrt=(0, 1))
    _check(g, 300, x, w)
    _check(g, 300, x, w)                # (the hot runner too)
    files = _generated_files("f_ci14_300")
    assert files
    for name in files:
        assert linecache.getlines(name) and name in codegen.SOURCE_MAPS
    # a traceback through generated code still reads its lines
    assert any("np.tanh" in ln for name in files for ln in linecache.getlines(name))
    dead = weakref.ref(g)
    del g
    gc.collect()
    assert dead() is None
    assert _generated_files("f_ci14_300") == []
    assert not any(name in codegen.SOURCE_MAPS for name in files)
    # compiling the same function again works and registers its source again
    g = s2sgrad.grad(f, wrt=(0, 1))
    _check(g, 300, x, w)
    assert _generated_files("f_ci14_300")


def test_error_inside_generated_code_points_at_the_user_line():
    """(The source map is still there while the code runs.)"""
    def f(a):
        b = np.linalg.inv(a)
        return np.sum(b)
    g = s2sgrad.grad(f)
    with pytest.raises(np.linalg.LinAlgError) as info:
        g(np.zeros((2, 2)))
    text = "".join(getattr(info.value, "__notes__", [])) + str(info.value)
    a = np.array([[2.0, 1.0], [1.0, 3.0]])
    # d sum(inv(a)) / da = -(inv(a)^T 1 1^T inv(a)^T)
    inv = np.linalg.inv(a)
    np.testing.assert_allclose(g(a), -inv.T @ np.ones((2, 2)) @ inv.T, rtol=1e-12)
    # (Python 3.11+: a note; 3.10: the message)
    assert "b = np.linalg.inv(a)" in text and "test_ci14.py:" in text, text
