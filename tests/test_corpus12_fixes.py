"""Regression tests of corpus12's fixes; each failed on bcc0d16.

Wrong numbers (a number where Python gives another, or raises):

* ``max([v])`` / ``min((v,))`` of a one-item list was ``np.max(v, axis=0)``
  (Python returns the item itself): 4.0 for 3.6.
* ``a, b, c, d = w`` of an array of 5 read the first 4 (Python raises
  "too many values to unpack"); the length is now checked when the code
  runs (the check is dropped by specialisation where the shape is known).
* a nested function reading its own local name before assigning it
  (``total = total + v`` without ``nonlocal``) read the enclosing
  function's ``total`` (Python raises UnboundLocalError).

Crashes without the user's line:

* ``sorted(arrays, key=...)`` of arrays of different shapes stacked them
  (NumPy's "inhomogeneous shape" error); the items are now picked by
  runtime branches.
* an object rebound to another instance of its class in one side of a
  runtime ``if`` ("'TreeObj' object has no attribute 'shape'").

Refusals closed (each named the user's line, or dataclasses.py):
``a, *rest, z = w`` of an array, ``nonlocal`` in a nested function,
``max/min(..., key=)``, a method, property or ``_replace`` of a NamedTuple
class, a dataclass field assigned in the function, ``dataclasses.replace``/
``asdict``/``astuple``, ``np.polynomial.chebyshev.chebval``/``legval``/
``hermval``/``hermeval``/``lagval`` and the ``Polynomial``/``Chebyshev``/...
classes called on x; ``{**d, k: v}``, ``d | e`` and ``d |= e`` of dicts,
``sum(..., start=...)``, ``insert``/``reverse``/``clear`` of a list, the
walrus operator, an ``@functools.lru_cache`` helper, a slice of a list
built at run time (``hs[1:-1]``: the cubic B-spline basis of corpus12's
stats part), ``np.maximum/minimum/multiply.reduceat`` (segment max/min/
product, e.g. graph-level pooling over ragged node groups),
``np.hypot.reduce``, a dataclass
instance made in the function and changed in a loop that stays a loop
(``st.t += 1; st.m = ...``: carried field by field), ``st.m += g`` on a
field (in place on the array, whose other names see it), a NamedTuple's
``__call__``.
"""
import dataclasses
import functools
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.polynomial as npp
import pytest

from s2sgrad import grad, value_and_grad
from s2sgrad.errors import S2SGradError
from tests.corpus10_harness import check

R = np.random.default_rng(12050)
W = R.normal(size=4)
X = R.normal(size=(5, 4))


# ---------------------------------------------------------------- wrong numbers

def max_of_one(w):
    return np.sum(max([w * 2.0])) + np.sum(min((w,)) ** 2)


def test_max_of_a_one_item_list_is_the_item():
    check(max_of_one, (W,))
    assert value_and_grad(max_of_one)(W)[0] == pytest.approx(max_of_one(W), rel=1e-12)


def unpack4(w):
    a, b, c, d = w
    return a * d + b * c


def unpack_rows(A):
    r0, r1 = A
    return np.sum(r0 * r1)


def test_unpacking_checks_the_length():
    check(unpack4, (W,))
    check(unpack_rows, (X[:2],))
    with pytest.raises(ValueError, match=r"test_corpus12_fixes.py:\d+: too many values to "
                                         r"unpack \(expected 4\)"):
        grad(unpack4)(np.arange(5.0))
    with pytest.raises(ValueError, match="too many values to unpack"):
        grad(unpack_rows)(X[:3])
    with pytest.raises(ValueError, match=r"not enough values to unpack \(expected 4, got 3\)"):
        grad(unpack4)(np.arange(3.0))
    # a second call of the same compiled object with another length
    g = grad(unpack4)
    g(W)
    with pytest.raises(ValueError, match="too many values"):
        g(np.arange(6.0))


def test_unpacking_check_is_dropped_where_the_shape_is_known():
    g = grad(unpack4)
    g(W)
    g(W)
    assert "check_unpack_length" not in g.source
    assert "check_unpack_length" in g.generic_source


def own_name_before_assignment(w):
    total = 1.0

    def add(v):
        total = total + v       # noqa: F823  (UnboundLocalError in Python: add's own)
        return total
    return add(w[0])


def own_name_shadows(w):
    s = 5.0

    def f(v):
        s = v * 2
        return s
    return f(w[0]) + s


def test_nested_function_own_names_are_unbound_until_assigned():
    with pytest.raises(S2SGradError, match=r"test_corpus12_fixes.py:\d+: local variable "
                                           r"'total' is used before it is assigned"):
        grad(own_name_before_assignment)(W)
    check(own_name_shadows, (W,))


# ---------------------------------------------------------------- crashes

def sorted_shapes(w):
    parts = [w[:2], w[2:], w * 0.5]
    s = sorted(parts, key=lambda p: float(np.sum(p)))
    return np.sum(s[0] ** 2) + np.sum(s[1] * 3.0) + np.sum(s[-1])


@dataclass
class Lin:
    a: np.ndarray
    b: float = 1.0


def rebound_in_branch(w):
    p = Lin(w, 1.0)
    if np.sum(w) > 0:
        p = Lin(w * 2, 3.0)
    return np.sum(p.a) * p.b


def test_sorted_by_key_items_of_different_shapes():
    check(sorted_shapes, (W,))
    check(sorted_shapes, (-W[::-1].copy(),))


def test_object_rebound_in_a_runtime_branch():
    check(rebound_in_branch, (np.abs(W),))
    check(rebound_in_branch, (-np.abs(W),))


# ---------------------------------------------------------------- starred unpacking

def star_middle(w):
    a, *rest, z = w
    return a * z + np.sum(np.stack(rest) ** 2)


def star_head(w):
    *rest, z = w
    return z * sum(rest)


def star_rows(A):
    first, *others = A
    acc = first
    for o in others:
        acc = acc * o
    return np.sum(acc) + len(others)


def star_empty_middle(w):
    a, *rest, y, z = w
    return a + y * z + len(rest)


def test_starred_unpacking_of_an_array():
    check(star_middle, (R.normal(size=5),))
    check(star_head, (W,))
    check(star_rows, (X[:3],))
    check(star_empty_middle, (W[:3],))
    with pytest.raises(ValueError, match=r"not enough values to unpack \(expected at least 3, "
                                         r"got 2\)"):
        grad(star_empty_middle)(W[:2])


# ---------------------------------------------------------------- nonlocal

def nonlocal_accumulate(w):
    total = 0.0

    def add(v):
        nonlocal total
        total = total + np.sum(v ** 2)
    add(w)
    add(w * 2)
    return total


def nonlocal_read_by_another_closure(w):
    total = 0.0

    def add(v):
        nonlocal total
        total += np.sum(v)
        return report()

    def report():
        return total * 2
    return add(w) + total


def nonlocal_in_runtime_loops(w):
    total = 0.0
    count = 0

    def add(v):
        nonlocal total, count
        total = total + v ** 2
        count += 1

    def add_all(vs):
        nonlocal total
        for v in vs:
            total = total + np.sin(v)
    for v in w:
        add(v)
    add_all(w * 2)
    return total / count


def nonlocal_in_branch(w):
    best = w[0]

    def update(v):
        nonlocal best
        if v > best:
            best = v
    for v in w:
        update(v)
    return best * 3


def nonlocal_two_levels(w):
    acc = 0.0

    def mid(v):
        def inner(u):
            nonlocal acc
            acc = acc + u
        inner(v)
        inner(v * 3)
    mid(w[0])
    mid(w[1])
    return acc


def _make_counter():
    c = 0.0

    def inc(v):
        nonlocal c
        c = c + v
        return c
    return inc


def nonlocal_after_maker_returned(w):
    inc = _make_counter()
    inc(w[0])
    return inc(w[1])


@pytest.mark.parametrize("f", [nonlocal_accumulate, nonlocal_read_by_another_closure,
                               nonlocal_in_runtime_loops, nonlocal_in_branch,
                               nonlocal_two_levels])
def test_nonlocal(f):
    check(f, (W,), f32=f is not nonlocal_in_branch)


def test_nonlocal_after_the_maker_returned_is_refused():
    with pytest.raises(S2SGradError, match=r"test_corpus12_fixes.py:\d+: calling a nested "
                                           r"function that assigns a 'nonlocal' name after"):
        grad(nonlocal_after_maker_returned)(W)


# ---------------------------------------------------------------- max/min(key=)

def max_by_key(w):
    parts = [w[:2], w[2:], w * 0.5]
    best = max(parts, key=lambda p: np.sum(p))
    return np.sum(best ** 2)


def min_by_key_scalars(w):
    cands = [w[0] * 2, w[1] - 1, w[2] ** 2]
    return min(cands, key=abs) + max(w[3], w[0], key=lambda v: -v)


def max_by_key_tuples(w):
    c = [(np.sum(w[:2]), w[:2]), (np.sum(w[2:]), w[2:])]
    score, best = max(c, key=lambda t: t[0])
    return score * np.sum(best)


def max_first_of_ties(w):
    # equal keys: Python keeps the first
    return np.sum(max([w, w * 2.0, -w], key=lambda v: 1.0) * np.arange(4.0))


@pytest.mark.parametrize("f", [max_by_key, min_by_key_scalars, max_by_key_tuples,
                               max_first_of_ties])
def test_max_min_by_key(f):
    check(f, (W,))
    check(f, (-W,))


def test_max_by_key_of_a_runtime_sequence_refused():
    with pytest.raises(S2SGradError, match=r"test_corpus12_fixes.py:\d+: max\(\.\.\., key=\.\.\.\) "
                                           r"of a sequence whose length"):
        grad(lambda w: max(w, key=abs))(W)


# ---------------------------------------------------------------- NamedTuple methods

class RNNParams(NamedTuple):
    Wx: np.ndarray
    b: np.ndarray

    @property
    def width(self):
        return self.Wx.shape[1]

    def step(self, h, x):
        return np.tanh(x @ self.Wx + h + self.b)

    @classmethod
    def zeros_like_state(cls, n):
        return np.zeros(n)

    @staticmethod
    def act(z):
        return np.sin(z)


def namedtuple_methods(p, xs):
    h = RNNParams.zeros_like_state(p.width)
    for x in xs:
        h = p.step(h, x)
    q = p._replace(b=p.b * 2.0)
    return np.sum(p.act(h) ** 2) + np.sum(q.step(h, xs[0]))


def test_namedtuple_methods_properties_replace():
    check(namedtuple_methods, (RNNParams(R.normal(size=(4, 3)) * 0.5, R.normal(size=3)), X))


# ---------------------------------------------------------------- dataclass fields

@dataclass
class Box:
    a: np.ndarray
    b: float = 1.0

    def scale(self, s):
        self.b = self.b * s
        return self


@dataclass
class Holder:
    box: Box


@dataclass(frozen=True)
class Frozen:
    a: np.ndarray


def field_assigned(w):
    p = Box(np.ones(4), 1.0)
    p.b = 2.0
    p.a = p.a * w
    q = p
    p.b = p.b + 1
    return np.sum(p.a) * p.b + q.b


def field_by_method(w):
    p = Box(w, 2.0)
    p.scale(3.0)
    return np.sum(p.a) * p.b


def field_in_branch_alias(w):
    p = Box(w, 1.0)
    q = p
    ps = [p]
    if np.sum(w) > 0:
        p.b = 3.0
    else:
        p.a = w * 2
    p.b = p.b + 5.0
    return q.b * np.sum(q.a) + p.b + ps[0].b


@pytest.mark.parametrize("f", [field_assigned, field_by_method, field_in_branch_alias])
def test_dataclass_field_assigned(f):
    check(f, (np.abs(W),))
    check(f, (-np.abs(W),))


def field_of_argument(p):
    p.b = 2.0
    return np.sum(p.a) * p.b


def field_of_held(w):
    p = Box(w, 1.0)
    m = Holder(p)
    p.b = 5.0
    return m.box.b * np.sum(w)


def field_of_frozen(w):
    p = Frozen(w)
    p.a = w * 2
    return np.sum(p.a)


def test_dataclass_field_refusals():
    with pytest.raises(S2SGradError, match=r"test_corpus12_fixes.py:\d+: assignment to the "
                                           r"field \.b of a Box passed in"):
        grad(field_of_argument)(Box(W, 1.0))
    with pytest.raises(S2SGradError, match=r"test_corpus12_fixes.py:\d+: .*that 'm' holds"):
        grad(field_of_held)(W)
    with pytest.raises(S2SGradError, match=r"test_corpus12_fixes.py:\d+: cannot assign to "
                                           r"field 'a'"):
        grad(field_of_frozen)(W)


def dc_replace(w):
    p = Box(w, 1.0)
    q = dataclasses.replace(p, b=3.0)
    return np.sum(q.a) * q.b + p.b


def dc_replace_arg(p):
    q = dataclasses.replace(p, a=p.a * 2)
    return np.sum(q.a ** 2) * q.b


def dc_asdict(w):
    p = Box(w, 2.0)
    d = dataclasses.asdict(p)
    d["a"][0] = 10.0                 # asdict copies: p.a is unchanged
    t = dataclasses.astuple(Holder(Box(w * 3, 0.5)))
    return np.sum(d["a"]) * d["b"] + np.sum(p.a) + t[0][1] * np.sum(t[0][0] ** 2)


def test_dataclasses_replace_asdict_astuple():
    check(dc_replace, (W,))
    # (a dataclass argument: the harness reads lists/dicts; closed form here)
    v, g = value_and_grad(dc_replace_arg)(Box(W.copy(), 0.5))
    assert v == pytest.approx(dc_replace_arg(Box(W.copy(), 0.5)), rel=1e-13)
    np.testing.assert_allclose(g.a, 8 * 0.5 * W, rtol=1e-13)
    assert g.b == pytest.approx(4 * np.sum(W ** 2), rel=1e-13)
    check(dc_asdict, (W,))
    with pytest.raises(S2SGradError, match=r"test_corpus12_fixes.py:\d+: dataclasses.replace: "
                                           r"Box has no field 'c'"):
        grad(lambda w: dataclasses.replace(Box(w), c=1.0).b)(W)


# ---------------------------------------------------------------- np.polynomial

XP = np.linspace(-0.9, 0.8, 6)


@pytest.mark.parametrize("f", [npp.chebyshev.chebval, npp.legendre.legval,
                               npp.hermite.hermval, npp.hermite_e.hermeval,
                               npp.laguerre.lagval], ids=lambda f: f.__name__)
def test_basis_series_values(f):
    check(lambda c, x: np.sum((f(x, c) - np.sin(3 * x)) ** 2), (W, XP), order2=True)
    check(lambda x, c: np.sum(np.tanh(f(x, c))), (XP, W), order2=True)


def series_classes(c, x):
    fit = npp.Chebyshev(c, domain=[-1.0, 1.0])
    p = npp.Polynomial(c)
    leg = npp.Legendre(c, domain=(0.0, 10.0))
    c = c * 0.0                       # the objects hold copies
    return np.mean((fit(x) - x) ** 2) + np.sum(p(x)) + np.sum(leg(5 * (x + 1)))


def test_polynomial_classes_called_on_x():
    check(series_classes, (W, XP), wrt=(0, 1))


# ---------------------------------------------------------------- idioms (corpus12 part 5)

def dict_unpack_merge(params, x):
    p = {**params, "b": params["b"] * 2.0}
    p |= {"w": p["w"] * 0.5}
    q = p | {"c": 3.0}
    return np.sum(np.tanh(x @ q["w"]) + q["b"]) * q["c"] + params["b"]


def sum_with_start(ws, x):
    return np.sum(sum((np.tanh(x @ w) for w in ws), start=np.ones(x.shape[0])) ** 2)


def list_insert_reverse_clear(ws, x):
    layers = list(ws)
    layers.insert(0, np.eye(3) * 0.5)
    layers.reverse()
    h = x
    for W in layers:
        h = np.tanh(h @ W)
    spare = [h]
    spare.clear()
    return np.sum(h) + len(spare)


def walrus(w, X):
    outs = [z for row in X if (z := np.tanh(row @ w)) > -0.5]
    if (s := np.sum(w)) > 0:
        return sum(outs) + z + s
    return sum(outs) + z - s


@functools.lru_cache(maxsize=None)
def _basis(n):
    return np.eye(n) * 2.0


def lru_cached_helper(w, x):
    return np.sum(_basis(3) @ w * x)


@pytest.mark.parametrize("f,args", [
    (dict_unpack_merge, ({"w": W[:3], "b": 0.2}, X[:, :3])),
    (sum_with_start, ([W[:3], W[1:]], X[:, :3])),
    (list_insert_reverse_clear, ([R.normal(size=(3, 3)), R.normal(size=(3, 3))], X[:, :3])),
    (walrus, (W[:3], X[:, :3])),
    (lru_cached_helper, (W[:3], X[0, :3])),
], ids=lambda a: getattr(a, "__name__", ""))
def test_idioms(f, args):
    check(f, args)
    check(f, (args[0] if not isinstance(args[0], np.ndarray) else -args[0],) + args[1:])


def runtime_list_slices(x, k):
    hs = []
    for r in x:
        hs.append(np.tanh(r))
    mid = hs[1:-1]
    tail = hs[k:]
    tail.append(x[0] * 3.0)                 # a new list: hs is unchanged
    return sum(np.sum(h ** 2) for h in mid) + np.sum(np.stack(hs[::2])) + \
        np.sum(np.stack(tail) ** 3) + len(hs[:2]) + len(hs)


def test_slice_of_a_runtime_list():
    check(runtime_list_slices, (X, 2), order2=True)
    with pytest.raises(S2SGradError, match=r"test_corpus12_fixes.py:\d+: 'a\[0\] \+= 1.0' "
                                           r"writes in place"):
        grad(_slice_item_written)(X)


def _slice_item_written(x):
    hs = [r * 2 for r in x]
    a = hs[1:]
    a[0] += 1.0                             # also hs[1] in Python: refused
    return np.sum(np.stack(hs))


def segment_pooling(H, W, starts):
    """Graph-level max pooling over nodes grouped by graph (ragged segments)."""
    Z = np.tanh(H @ W)
    pooled = np.maximum.reduceat(Z, starts, axis=0)
    low = np.minimum.reduceat(Z, starts, axis=0)
    prod = np.multiply.reduceat(Z[:, 0], starts)
    return np.sum(pooled ** 2) - np.sum(low) + np.sum(prod)


def test_segment_reduceat():
    H = R.normal(size=(7, 3))
    check(segment_pooling, (H, R.normal(size=(3, 2)), np.array([0, 3, 4])), wrt=(0, 1),
          order2=True)
    # ties: the rule of np.max on the segment (the cotangent split between equal entries)
    v, g = value_and_grad(lambda x: np.sum(np.maximum.reduceat(x, [0, 2])))(
        np.array([3.0, 3.0, 1.0, 2.0]))
    assert v == 5.0 and np.array_equal(g, [0.5, 0.5, 0.0, 1.0])
    # integer data keeps its dtype (as NumPy)
    out = value_and_grad(lambda x, i: np.sum(x) * np.maximum.reduceat(i, [0, 2])[0])(
        np.ones(2), np.array([1, 5, 2]))
    assert out[0] == 10.0


# ---------------------------------------------------------------- objects changed in loops

@dataclass
class St:
    x: np.ndarray
    k: int = 0
    tag: str = "a"
    lr: float = 0.5


def while_obj(w):
    st = St(w * 1.0)
    while st.k < 4:
        st.x = st.x - st.lr * np.sin(st.x)
        st.k += 1
        if np.sum(st.x) > 0:
            st.lr = st.lr * 0.9
    return np.sum(st.x ** 2) + st.lr


def for_obj_alias_in_body(w):
    st = St(w * 1.0)
    for v in w:
        q = st
        q.x = q.x * v
        q.k += 1
    return np.sum(st.x) * st.k


def aug_field_alias(w):
    a = w * 1.0
    st = St(a)
    st.x += w          # in place: a sees it
    st.lr *= 3.0
    b = st.x
    st.x = st.x * 2    # rebinds the field only
    return np.sum(a * w) + np.sum(b) * st.lr + np.sum(st.x)


def test_object_changed_in_a_runtime_loop():
    check(while_obj, (W,))
    check(for_obj_alias_in_body, (W,))
    check(aug_field_alias, (W,))


def obj_tag_changed(w):
    st = St(w * 1.0)
    for v in w:
        st.tag = "b"
        st.x = st.x + v
    return np.sum(st.x)


def obj_held_twice(w):
    st = St(w * 1.0)
    other = st
    for v in w:
        st.x = st.x + v
    return np.sum(other.x)


def obj_field_aliased_written(w):
    a = w * 1.0
    st = St(a)
    for v in w:
        st.x += v          # in place: a must see it
    return np.sum(a * w)


def obj_field_written(w):
    st = St(w * 1.0)
    for v in w:
        st.x += v
    return np.sum(st.x * w)


@dataclass
class Acc:
    x: np.ndarray

    def bump(self, v):
        self.x[0] += v


def obj_method_writes(w):
    st = Acc(w * 1.0)
    for v in w:
        st.bump(v)
    return np.sum(st.x * w)


@pytest.mark.parametrize("f,pattern", [
    (obj_tag_changed, "the St object 'st' is changed in this loop"),
    (obj_held_twice, "the St object 'st' is changed in this loop"),
    (obj_field_aliased_written, "the St object 'st' is changed in this loop"),
    (obj_field_written, "the St object 'st' is changed in this loop by writing in place "
                        "into its array field 'x'"),
    (obj_method_writes, "the Acc object 'st' is changed in this loop by writing in place "
                        "into its array field 'x'"),
], ids=lambda a: getattr(a, "__name__", ""))
def test_object_changed_in_a_loop_refusals(f, pattern):
    with pytest.raises(S2SGradError, match=r"test_corpus12_fixes.py:\d+: " + pattern):
        grad(f)(W)


class Layer(NamedTuple):
    W: np.ndarray
    b: np.ndarray

    def __call__(self, x):
        return np.tanh(x @ self.W + self.b)


def namedtuple_called(layers, x):
    h = x
    for L in layers:
        h = L(h)
    return np.sum(h ** 2)


def test_namedtuple_call():
    check(namedtuple_called, ([Layer(R.normal(size=(4, 3)), R.normal(size=3)),
                               Layer(R.normal(size=(3, 2)), R.normal(size=2))], X))


def hypot_norms(x, W):
    r = np.hypot.reduce(x @ W, axis=1)
    return np.sum(np.log(r)) + np.hypot.reduce(W, axis=None)


def test_hypot_reduce():
    check(hypot_norms, (X, R.normal(size=(4, 2))), wrt=(0, 1), order2=True)
    for a in (np.array([1e200, 1e200]), np.array([np.inf, np.nan]), np.array([np.nan, 1.0]),
              np.zeros(3), np.array([3.0, 4.0], np.float32)):
        v = value_and_grad(lambda x: np.hypot.reduce(x) * 1.0)(a)[0]
        want = np.hypot.reduce(a)
        assert np.asarray(v).dtype == want.dtype
        np.testing.assert_allclose(v, want, rtol=1e-15)    # (overflow, inf with NaN, NaN)
    # the origin: derivative 0, as np.hypot's
    assert np.array_equal(grad(lambda x: np.hypot.reduce(x))(np.zeros(2)), [0.0, 0.0])
