"""corpus11: regression tests for what the corpus found on main 709bcd7, each
checked for value, gradient against central differences, a second point and
float32 (``tests/corpus10_harness``):

* **a wrong number**: a function made in a comprehension read the
  comprehension's loop variable from the enclosing function's names
  (restored after the comprehension) instead of the comprehension's own
  scope: ``k = 10; fs = [lambda z: z ** k for k in (1, 2, 3)]; fs[0](x)``
  gave sum(x**10) (1030.19) for NumPy's sum(x**3) (9.853), and without the
  outer ``k`` it was refused ("name 'k' is not defined");
* a list of closures built in a loop over ``range`` (``fs.append(lambda z,
  k=k: ...)``, or a comprehension of lambdas) was refused: the range loop
  stayed a runtime loop, whose list cannot hold functions;
* ``zip(w, [np.sin, np.cos, f])`` (a runtime sequence with a list of
  functions) was refused; it is unrolled over the functions, and a shorter
  runtime sequence is refused when the code runs (Python's zip would stop
  early);
* ``np.polynomial.polynomial.polyval(x, c)`` was refused (now a composite:
  in the coefficients and in x, 1-d and 2-d coefficients, tensor=False);
* ``itertools.product(range(n), range(m))`` was refused.
"""
import itertools

import numpy as np
import pytest
from numpy.polynomial import polynomial as Pn

from s2sgrad import DataRefusedError, grad, hvp, value_and_grad
from tests.corpus10_harness import check

R = np.random.default_rng(11060)
X = R.normal(size=5)
W = R.normal(size=3)


# ---------------------------------------------------------------- comprehension scope

def comp_shadowed(w, x):
    k = 10
    fs = [lambda z: z ** k for k in (1, 2, 3)]
    return np.sum(fs[0](x) * w[0]) + np.sum(fs[1](x) * w[1]) + k * w[2]


def comp_unbound(w, x):
    fs = [lambda z: np.sin(z * k) for k in (1.0, 2.0, 3.0)]
    return sum(wi * np.sum(f(x)) for wi, f in zip(w, fs))


def comp_nested(w, x):
    fs = [[lambda z: z * i + j for j in range(2)] for i in range(1, 3)]
    return np.sum(w[0] * fs[0][1](x) + w[1] * fs[1][0](x) ** 2)


def make_power(k):
    return lambda z: z ** k


def comp_factory(w, x):
    fs = [make_power(k) for k in (1, 2, 3)]
    return np.sum(w[0] * fs[0](x) + w[2] * fs[2](x))


@pytest.mark.parametrize("f", [comp_shadowed, comp_unbound, comp_nested, comp_factory],
                         ids=lambda f: f.__name__)
def test_comprehension_scope(f):
    x = np.abs(X) + 0.5
    check(f, (W, x), 0)
    v, _ = value_and_grad(f)(W, x)
    assert v == pytest.approx(f(W, x), rel=1e-12)


def test_comprehension_scope_value_was_wrong():
    x = np.array([0.5, 1.2, 2.0])
    w = np.array([1.0, 0.0, 0.0])
    v, g = value_and_grad(comp_shadowed)(w, x)
    # every lambda reads the comprehension's k as it ends (3), not the function's k (10)
    assert v == pytest.approx(np.sum(x ** 3), rel=1e-12)
    np.testing.assert_allclose(g, [np.sum(x ** 3), np.sum(x ** 3), 10.0], rtol=1e-12)


# ---------------------------------------------------------------- closures built in a loop

def closures_appended(w, x):
    fs = []
    for k in range(3):
        fs.append(lambda z, k=k: z ** (k + 1))
    return sum(wi * np.sum(f(x)) for wi, f in zip(w, fs))


def closures_late_binding(w, x):
    fs = []
    for k in range(1, 4):
        def f(z):
            return np.cos(k * z)      # late binding: k is 3 for every f, as in Python
        fs.append(f)
    return np.sum(w[0] * fs[0](x) + w[1] * fs[2](x))


def closures_comprehension_range(w, x):
    fs = [lambda z, k=k: np.tanh(k * z) for k in range(1, 4)]
    return np.sum(np.stack([f(x) for f in fs], axis=1) @ w)


def basis_list(w, x):
    basis = [np.ones_like, np.sin, lambda z: z ** 2]
    pred = sum(wi * phi(x) for wi, phi in zip(w, basis))
    return np.sum((pred - np.cos(x)) ** 2)


@pytest.mark.parametrize("f", [closures_appended, closures_late_binding,
                               closures_comprehension_range, basis_list],
                         ids=lambda f: f.__name__)
def test_closures_built_in_loops(f):
    check(f, (W, X), 0, order2=f is basis_list)


def test_zip_shorter_sequence_refused_at_run_time():
    with pytest.raises(DataRefusedError, match=r"test_corpus11_fixes.py:\d+: zip\(\) of a sequence "
                                         r"of 3 functions with one of 2 items"):
        grad(basis_list)(W[:2], X)


def test_zip_longer_sequence_stops_at_the_functions():
    w = np.concatenate([W, [5.0]])
    v, g = value_and_grad(basis_list)(w, X)
    assert v == pytest.approx(basis_list(w, X), rel=1e-12)
    assert g[3] == 0.0


# ---------------------------------------------------------------- np.polynomial.polynomial.polyval

def poly_fit(c, x, y):
    return np.mean((Pn.polyval(x, c) - y) ** 2)


def poly_in_x(x, c):
    return np.sum(np.sin(np.polynomial.polynomial.polyval(x, c)))


def poly_2d(c, x):
    return np.sum(Pn.polyval(x, c) ** 2) + np.sum(Pn.polyval(x, c, tensor=False) ** 2)


def test_polynomial_polyval():
    x = np.linspace(-1, 1, 6)
    check(poly_fit, (R.normal(size=4), x, np.cos(x)), 0, order2=True)
    check(poly_in_x, (x + 0.05, R.normal(size=3)), (0, 1), order2=True)
    check(poly_2d, (R.normal(size=(3, 6)), x), (0, 1))
    check(poly_fit, (R.normal(size=3), 0.4, 1.0), (0, 1))       # x a Python float
    c = np.array([1, -2, 3])                                      # integer coefficients
    v, g = value_and_grad(poly_in_x)(x, c)
    assert v == pytest.approx(poly_in_x(x, c), rel=1e-12)
    np.testing.assert_allclose(g, np.cos(Pn.polyval(x, c)) * Pn.polyval(x, Pn.polyder(c)),
                               rtol=1e-12)


# ---------------------------------------------------------------- itertools.product

def grid_product(W):
    total = 0.0
    for i, j in itertools.product(range(W.shape[0]), range(W.shape[1])):
        total = total + (i + 1) * np.sin(W[i, j]) * (j + 2)
    return total


def product_repeat(v, W):
    pairs = sum(a * b for a, b in itertools.product(v, repeat=2))
    return pairs + sum(a * b * c for (a, b), c in itertools.product(zip(W[0], W[1]), v))


def test_itertools_product():
    check(grid_product, (R.normal(size=(2, 3)),), 0)
    check(product_repeat, (R.normal(size=3), R.normal(size=(2, 2))), (0, 1))
    W2 = R.normal(size=(3, 2))
    h = hvp(grid_product)((W2,), np.ones_like(W2))
    np.testing.assert_allclose(h, -np.sin(W2) * np.outer(np.arange(1, 4), np.arange(2, 4)),
                               rtol=1e-12)


# ---------------------------------------------------------------- iterators run when consumed
# Each gave a wrong number on 709bcd7 (lowering evaluated the iterator where
# it was written, and a second pass saw the values again); now refused with
# the line.  What Python computes is shown beside each.

def gen_rebound(w, x):
    a = 2.0
    gen = (wi * x * a for wi in w)
    a = 5.0                              # NumPy: the sum uses a = 5 (was a = 2: 1.76 for 4.4)
    return np.sum(sum(gen))


def gen_twice(w, x):
    gen = (wi * x for wi in w)
    a = sum(gen)
    b = sum(gen)                         # NumPy: 0, the generator is exhausted
    return np.sum(a) + 2 * np.sum(b)


def gen_in_loop(w, x):
    gen = (wi * x for wi in w)
    t = 0.0
    for _ in range(2):
        t = t + np.sum(sum(gen))         # NumPy: the second step adds 0
    return t


def gen_max_then_sum(w, x):
    it = (wi * x for wi in w)
    m = max(np.sum(v) for v in it)
    return m + sum(np.sum(v) for v in it)


def map_rebound(w, x):
    a = 2.0
    m = map(lambda v: v * a, w)
    a = 5.0
    return np.sum(x) * sum(m)


def zip_twice(w, x):
    z = zip(w, x[1:])
    first = [a * b for a, b in z]
    second = [a + b for a, b in z]       # NumPy: empty
    return sum(first) + sum(second)


def zip_then_write(w, x):
    a = x.copy()
    z = zip(a, w)
    a[0] = 5.0                           # NumPy's zip reads a[0] = 5 when consumed
    t = 0.0
    for u, v in z:
        t = t + u * v
    return t


@pytest.mark.parametrize("f,pattern", [
    (gen_rebound, "the generator expression bound to 'gen' is consumed after the write"),
    (gen_twice, "the generator expression bound to 'gen' is consumed again"),
    (gen_in_loop, "the generator expression bound to 'gen' is consumed again"),
    (gen_max_then_sum, "the generator expression bound to 'it' is consumed again"),
    (map_rebound, r"the iterator 'map\(...\)' bound to 'm' is consumed after the write"),
    (zip_twice, r"the iterator 'zip\(...\)' bound to 'z' is consumed again"),
    (zip_then_write, r"the iterator 'zip\(...\)' bound to 'z' is consumed after the write"),
], ids=lambda v: getattr(v, "__name__", "msg"))
def test_iterators_run_when_consumed_refused(f, pattern):
    from s2sgrad.errors import S2SGradError
    with pytest.raises(S2SGradError, match=r"test_corpus11_fixes.py:\d+: " + pattern):
        value_and_grad(f)(W, X)


def gen_once(w, x):
    sq = (v ** 2 for v in w)
    return sum(sq) * np.sum(x)


def enumerate_bound(w, X2):
    out = np.zeros(len(X2))
    rows = enumerate(X2)
    for i, r in rows:
        out[i] = np.tanh(r @ w)           # a write in the loop consuming it: as Python
    return np.sum(out ** 2)


def zip_bound_once(w, x):
    pairs = zip(w, x)
    t = 0.0
    for u, v in pairs:
        t = t + u * np.sin(v)
    return t


def test_iterators_consumed_once_still_work():
    check(gen_once, (W, X), 0)
    check(enumerate_bound, (W[:2], R.normal(size=(4, 2))), 0)
    check(zip_bound_once, (W, X), (0, 1))


# ---------------------------------------------------------------- np.emath of real data

def emath_loss(x, y):
    r = np.emath.sqrt(x) - np.emath.log(y) + np.emath.log10(x) * np.emath.log2(y)
    return np.sum(r ** 2)


def test_emath_of_real_data():
    x, y = np.array([0.5, 1.2, 2.0]), np.array([1.5, 0.3, 2.5])
    check(emath_loss, (x, y), (0, 1), order2=True)
    check(emath_loss, (0.7, 1.3), (0, 1))


def test_emath_of_negative_data_refused_at_run_time():
    with pytest.raises(DataRefusedError, match=r"test_corpus11_fixes.py:\d+: np.emath.sqrt of a "
                                         r"negative real value"):
        grad(emath_loss)(np.array([0.5, -1.0, 2.0]), np.ones(3))


# ---------------------------------------------------------------- np.unstack indexed or iterated

needs_unstack = pytest.mark.skipif(getattr(np, "unstack", None) is None,
                                   reason="np.unstack is NumPy >= 2.1")


def unstack_indexed(x):
    return np.sum(np.unstack(x)[1] ** 2) + np.sum(np.unstack(x, axis=1)[-1] ** 3)


def unstack_iterated(x):
    t = 0.0
    for r in np.unstack(x, axis=1):
        t = t + np.sum(np.sin(r) * r)
    return t


def unstack_runtime_index(x):
    t = 0.0
    for i in range(x.shape[0]):
        t = t + np.sum(np.unstack(x)[i] * (i + 1)) ** 2
    return t


def unstack_piece_is_a_view(x):
    y = x.copy()
    p = np.unstack(y)[0]
    y[0, 0] = 5.0                 # p sees the write, as NumPy's piece does
    np.unstack(y)[1][:] = 0.0     # a write through a piece reaches y
    return np.sum(p ** 2) + np.sum(y ** 2)


@needs_unstack
@pytest.mark.parametrize("f", [unstack_indexed, unstack_iterated, unstack_runtime_index,
                               unstack_piece_is_a_view], ids=lambda f: f.__name__)
def test_unstack_indexed_or_iterated(f):
    check(f, (R.normal(size=(3, 2)),), 0, order2=f is unstack_indexed)


# ---------------------------------------------------------------- a global list of functions

BASIS = [np.sin, np.cos]


def global_basis(w, x):
    return np.sum(sum(wi * phi(x) for wi, phi in zip(w, BASIS)) ** 2)


def global_basis_loop(w, x):
    t = 0.0
    for i, phi in enumerate(BASIS):
        t = t + w[i] * np.sum(phi(x))
    return t


def test_global_list_of_functions():
    check(global_basis, (W[:2], X), 0)
    check(global_basis_loop, (W[:2], X), 0)


def test_global_list_of_functions_changed_between_calls():
    vg = value_and_grad(global_basis)
    w = np.array([0.3, -0.2, 0.1])
    try:
        for change in (lambda: None, lambda: BASIS.append(lambda z: z ** 2),
                       lambda: BASIS.__setitem__(0, np.tanh), lambda: BASIS.pop()):
            change()                  # an append or a replaced item compiles again
            v, g = vg(w, X)
            assert v == pytest.approx(global_basis(w, X), rel=1e-12)
            n = len(BASIS)
            np.testing.assert_allclose(g[:n], [2 * np.sum(sum(
                wi * phi(X) for wi, phi in zip(w, BASIS)) * phi(X)) for phi in BASIS],
                rtol=1e-12)
            assert np.all(g[n:] == 0)
    finally:
        BASIS[:] = [np.sin, np.cos]


# ---------------------------------------------------------------- `and` / `or` give an operand

# 709bcd7 lowered `a or b` as np.logical_or(a, b) (a boolean) for run-time
# values: `temperature or 1.0` with temperature = 0.5 gave 1.238 for NumPy's
# 2.139, `scale and scale * 2.0` was 1 or 0; and every operand was evaluated,
# so a draw in the second one happened even when the first decided.

def default_by_or(w, x, temperature=0.0):
    temperature = temperature or 1.0
    return np.sum(np.tanh(x * w[0] / temperature))


def scale_by_and(w, x, scale=0.0):
    s = scale and scale * 2.0
    return np.sum(x * w[0]) * (s or 1.0) + (w[1] or w[2])


def draw_short_circuit(w, x, rng):
    c = w[0] > 0 and rng.random() < 0.5      # NumPy draws only when w[0] > 0
    return float(c) * w[1] + rng.random() * w[2] + np.sum(x)


@pytest.mark.parametrize("t", [0.0, 0.5, -2.0])
def test_or_gives_the_deciding_operand(t):
    check(default_by_or, (W, X, t), (0, 2) if t else 0)
    v, _ = value_and_grad(default_by_or)(W, X, t)
    assert v == pytest.approx(default_by_or(W, X, t), rel=1e-12)


@pytest.mark.parametrize("s", [0.0, 3.0])
def test_and_gives_the_deciding_operand(s):
    w = np.array([0.3, 0.0, 0.7])
    for ww in (w, W):
        v, g = value_and_grad(scale_by_and, wrt=(0, 2))(ww, X, s)
        assert v == pytest.approx(scale_by_and(ww, X, s), rel=1e-12)
    check(scale_by_and, (W, X, s), 0)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_second_operand_evaluated_only_when_needed(sign):
    w = sign * W
    ref = draw_short_circuit(w, X, np.random.default_rng(0))
    v, g = value_and_grad(draw_short_circuit)(w, X, np.random.default_rng(0))
    assert v == pytest.approx(ref, rel=1e-12)
    r = np.random.default_rng(0)
    if w[0] > 0:
        r.random()
    np.testing.assert_allclose(g, [0.0, float(sign > 0 and np.random.default_rng(0).random()
                                              < 0.5), r.random()], rtol=1e-12)


# ---------------------------------------------------------------- any() / all()

def any_all_flags(w, x):
    return float(any(w > 0)) * np.sum(x * w[0]) + float(all(v > -1 for v in w)) * w[1] + \
        w[2] * float(all([w[0], 1.0])) + w[1] * float(any(x - x))


def converge_any(w, x, tol=1e-3):
    y = x.copy()
    k = 0
    while any(abs(d) > tol for d in (y[0] - 1.0, y[1] - 2.0)) and k < 50:
        y = y - 0.5 * (y - np.array([1.0, 2.0, 0.0, 0.0, 0.0])) * w[2] * 10
        k += 1
    return np.sum(y * w[0]) + k * w[1]


def test_any_all_builtins():
    for w in (W, -W, np.array([0.0, 0.5, 0.2])):
        v, _ = value_and_grad(any_all_flags)(w, X)
        assert v == pytest.approx(any_all_flags(w, X), rel=1e-12)
    check(any_all_flags, (W, X), 0)
    check(converge_any, (np.array([0.3, -0.2, 0.1]), X), 0, f32=False)
    with pytest.raises(ValueError, match="ambiguous"):          # as Python's any of rows
        grad(lambda w, M: w[0] * float(any(M)))(W, np.ones((2, 2)))


# ---------------------------------------------------------------- imports inside the function

def local_imports(c, x):
    from numpy.polynomial import polynomial as Pn
    import scipy.special as sps
    import numpy.linalg
    from math import pi
    from scipy.special import expit, logsumexp
    return np.mean(Pn.polyval(x, c) ** 2) + np.sum(sps.expit(c)) + pi * np.sum(expit(c)) + \
        logsumexp(c) + numpy.linalg.norm(c)


def test_imports_inside_the_function():
    check(local_imports, (np.array([0.5, -1.0, 0.3]), np.linspace(-1, 1, 5)), (0, 1))


def imported_act(w, x):
    from tests.corpus11_helpers import act
    return np.sum(act(x * w[0]))


def test_from_import_of_a_user_module_is_guarded():
    import tests.corpus11_helpers as helpers
    vg = value_and_grad(imported_act)
    x = np.linspace(0.1, 1.0, 5)
    original = helpers.act
    try:
        for fn in (np.tanh, np.sin):
            helpers.act = fn                  # what the import reads: compiled again
            v, g = vg(W, x)
            assert v == pytest.approx(np.sum(fn(x * W[0])), rel=1e-12)
    finally:
        helpers.act = original


# ---------------------------------------------------------------- closures in a generator expression

def closures_list_comp(x):
    return sum(np.sum(f(x)) for f in [lambda z: z * k for k in range(1, 4)])    # k = 3 in all


def closures_generator(x):
    # Python calls each lambda before the generator advances: k = 1, 2, 3
    return sum(np.sum(f(x)) for f in (lambda z: z * k for k in range(1, 4)))


def test_closures_in_comprehensions():
    x = np.array([0.5, 1.2])
    check(closures_list_comp, (x,), 0)
    v, _ = value_and_grad(closures_list_comp)(x)
    assert v == pytest.approx(9 * np.sum(x), rel=1e-12)
    from s2sgrad.errors import S2SGradError
    with pytest.raises(S2SGradError, match=r"test_corpus11_fixes.py:\d+: a function made in a "
                                           r"generator expression reads its loop variable 'k'"):
        grad(closures_generator)(x)
