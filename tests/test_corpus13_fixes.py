"""Regression tests of corpus13's fixes; each failed on 7ed9f94.

Wrong numbers (already on 7ed9f94, found by probing the new defaultdict):

* ``e = d; e["k"] += x[0]; d["k"] *= x[1]`` (a dict or a list literal held
  by two names, an item updated by an augmented assignment, then another):
  the second name kept the item's old value -- 1.09 for Python's 0.58, and
  0.93 for 0.12 with a list.  The update of names holding the item (the
  ``is_array`` branch of ``x op= v``) rebuilt the container once per name,
  so the two names no longer held one object and the next store reached
  only one.  Containers are now rebuilt once per update (a memo shared over
  the environments' names).

Crashes without a number (a raw error from the generated code):

* ``out = [0.0] * n`` with ``n`` known only at run time (``x.shape[0]``),
  then written into (``out[i] = v``): the IR took NumPy's product of
  ``[0.0]`` and ``n`` (an array of one item) while the code printed
  Python's repeated list; the backward sweep raised NumPy's TypeError.  Now
  a list built at run time (``list_repeat``); a count that is not an int is
  refused when the code runs, naming the line.
* ``3 * [0.0]`` (the count on the left): the same.
* ``hvp(f)(args, v, v=...)`` / ``jvp(f)(primals, tangents, tangents=...)``
  of a function with a keyword argument named ``v`` (``tangents``): "got
  multiple values for argument 'v'"; the transforms' own arguments are now
  positional-only.
* ``np.lib.stride_tricks.sliding_window_view(img, kernel.shape)`` of a 2-d
  image (a window shape known only at run time): compiled for a 1-d array,
  refused when run.  Now a gather of the flat values at NumPy's own window
  positions.

Refusals closed (each named the user's line): ``isinstance`` on an argument
that is a number or an array (Python's test at run time), ``math.prod``,
``itertools.pairwise``, ``itertools.accumulate`` of a sequence known while
compiling, ``collections.defaultdict`` with keys known while compiling,
``zip(*xs)`` of a list built at run time unpacked into names, ``f(x,
*k.shape)`` into a function of fixed arity, ``raise`` in a branch taken at
run time (an option string checked against its values, a data check),
instances of a plain class of yours made in the function (a record: its
``__init__`` and methods inlined, its attributes followed, carried through
loops), a class statement inside the function (a record class), and
``sorted(d.items())`` / ``sorted(kwargs.items())`` of computed values.
"""
import collections
import itertools
import math
import operator

import numpy as np
import pytest

from s2sgrad import grad, hessian, hvp, jvp, value_and_grad
from s2sgrad.errors import S2SGradError
from tests.corpus10_harness import check

R = np.random.default_rng(13050)
X4 = R.normal(size=4)
XM = R.normal(size=(5, 3))


# ---------------------------------------------------------------- aliased containers

def dict_two_names(x):
    d = {"k": 0.0, "j": x[2]}
    e = d
    e["k"] += x[0]
    d["k"] *= x[1]
    e["j"] -= d["k"]
    return d["k"] + e["k"] + d["j"] * e["j"] + len(e)


def list_two_names(x):
    a = [x[0], 1.0]
    b = a
    b[0] += x[1]
    a[0] *= x[2]
    return a[0] + b[0] + b[1] * a[0]


def defaultdict_two_names(x):
    d = collections.defaultdict(float)
    e = d
    e["k"] += x[0]
    d["k"] *= x[1]
    return d["k"] + e["k"] + len(e)


def test_augmented_item_of_a_container_two_names_hold():
    for f in (dict_two_names, list_two_names, defaultdict_two_names):
        check(f, (X4,), order2=True)
        assert value_and_grad(f)(X4)[0] == pytest.approx(f(X4), rel=1e-12)


# ---------------------------------------------------------------- [c] * n

def squares_into_list(x):
    n = x.shape[0]
    out = [0.0] * n
    for i in range(n):
        out[i] = x[i] ** 2 * (i + 1)
    return sum(out) + out[-1] * out[0]


def count_on_the_left(x):
    out = 3 * [0.0]
    out[2] = x[0] * 2.0
    return sum(out) + len(out) * x[1]


def hidden_states_slots(W, xs):
    T = xs.shape[0]
    hs = [None] * T
    h = np.zeros(W.shape[0])
    for t in range(T):
        h = np.tanh(W @ h + xs[t])
        hs[t] = h
    return np.sum(np.stack(hs) ** 2)


def repeated_with_count(x, n):
    out = n * [1.0]
    for i in range(n):
        out[i] = out[i - 1] * np.sin(x[i]) if i else x[0]
    return sum(out)


def test_repeated_list_written_into():
    check(squares_into_list, (X4,), order2=True)
    check(count_on_the_left, (X4,))
    check(hidden_states_slots, (R.normal(size=(3, 3)) * 0.5, R.normal(size=(4, 3))), (0, 1),
          order2=True)
    check(repeated_with_count, (X4, 3))


def counts_from_lengths(x):
    a = [0.0] * len(x)
    b = (x.shape[0] - 1) * [1.0]
    for i in range(len(b)):
        a[i] = x[i] * b[i]
        b[i] = x[i + 1] ** 2
    return sum(a) * sum(b) + len(a) - len(b)


def test_repeated_list_counts():
    # a count that is a length (Python's int) repeats the list; a count that
    # may be an array keeps NumPy's product ([1.5, -0.5] * w, ports12's tests)
    check(counts_from_lengths, (X4,), order2=True)
    from s2sgrad import runtime
    assert runtime.list_repeat([0.0, 1.0], np.int64(2)) == [0.0, 1.0, 0.0, 1.0]
    for bad in (2.0, np.array(2)):
        with pytest.raises(ValueError, match=r"here.py:1: a list literal times"):
            runtime.list_repeat([0.0], bad, where="here.py:1")


# ---------------------------------------------------------------- isinstance

def scale_by(x, s):
    if isinstance(s, float):
        return np.sum(np.sin(x) * s ** 3)
    if isinstance(s, (np.ndarray, np.generic)):
        return np.sum(np.sin(x) * s) * 2.0
    return np.sum(x)


def kinds(x, s):
    k = 1.0 if isinstance(s, np.floating) else 3.0
    t = 5.0 if isinstance(x, np.ndarray) else 7.0
    return np.sum(x) * s * k * t


@pytest.mark.parametrize("s", [0.5, np.float64(0.5), np.float32(0.5), np.array(0.5),
                               np.array([0.5, 2.0, 1.0, -1.0])])
def test_isinstance_of_arguments(s):
    for f in (scale_by, kinds) if np.ndim(s) == 0 else (scale_by,):
        v, g = value_and_grad(f)(X4, s)
        assert v == pytest.approx(f(X4, s), rel=1e-12)
        # central differences in x, s keeping its type (the harness's would
        # turn a NumPy scalar into a float or a 0-d array)
        e = 1e-6
        fd = [(f(X4 + e * d, s) - f(X4 - e * d, s)) / (2 * e) for d in np.eye(4)]
        np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)
    if type(s) is float:
        # (central differences of a 0-d array argument make NumPy scalars)
        check(kinds, (X4, s), (0, 1), f32=False)
    if type(s) is float or isinstance(s, np.ndarray):
        check(scale_by, (X4, s), (0, 1) if type(s) is float or np.ndim(s) else 0, f32=False)


def test_isinstance_under_second_order():
    # hessian/hvp must not change the kind the branch sees
    expect = 6 * 0.5 * np.sum(np.sin(X4))
    assert hessian(scale_by, wrt=1)(X4, 0.5) == pytest.approx(expect, rel=1e-10)
    assert hvp(scale_by, wrt=1)((X4, 0.5), 1.0) == pytest.approx(expect, rel=1e-10)
    np.testing.assert_allclose(np.diag(hessian(scale_by)(X4, 0.5)), -np.sin(X4) * 0.125,
                               rtol=1e-10)


def ridge_penalty(w, lam):
    if isinstance(lam, (float, int)):
        return lam * np.sum(w ** 2)
    return np.sum(np.diag(lam.toarray()) * w ** 2)       # a sparse matrix of weights


def test_type_test_side_for_another_type_refuses_when_taken():
    # the side written for another type does not lower for a number; it
    # refuses (naming its line) only if the code takes it
    check(ridge_penalty, (X4, 0.3), (0, 1))
    with pytest.raises(S2SGradError, match=r"test_corpus13_fixes.py:\d+: the array method "
                                           r"'.toarray\(\)' is not supported"):
        grad(ridge_penalty)(X4, np.float32(0.3))


# ---------------------------------------------------------------- math / itertools

def prods(x):
    n = math.prod(x.shape)
    c = math.prod([2, 3], start=2)
    return np.sum(x) / n * c + math.prod([x[0], x[1], x[2]]) + math.prod(x)


def pairwise_path(pts):
    seg = sum(np.linalg.norm(b - a) for a, b in itertools.pairwise(pts))
    steps = [q - p for p, q in itertools.pairwise([pts[0], pts[2], pts[-1]])]
    return seg + np.sum(steps[0] * steps[1])


def accumulations(w):
    terms = [np.tanh(w[0]) + 1.5, w[1] ** 2 + 1.0, np.exp(w[2])]
    run = list(itertools.accumulate(terms, operator.mul))
    peak = list(itertools.accumulate(terms, max))
    tot = list(itertools.accumulate(terms, initial=0.5))
    return sum(run) + sum(peak) * tot[-1] + len(tot)


def accumulate_runtime(w):
    return sum(itertools.accumulate(w))


def test_math_prod_pairwise_accumulate():
    check(prods, (X4[:3] + 1.0,), order2=True)
    check(pairwise_path, (XM,))
    check(accumulations, (X4,), order2=True)
    with pytest.raises(S2SGradError, match=r"test_corpus13_fixes.py:\d+: "
                                           r"itertools.accumulate over a sequence built at run"):
        grad(accumulate_runtime)(X4)


# ---------------------------------------------------------------- *x.shape into a function

def patches(x, kh, kw):
    H, W = x.shape
    return np.stack([x[i:i + kh, j:j + kw].ravel() for i in range(H - kh + 1)
                     for j in range(W - kw + 1)])


def conv_by_patches(k, img):
    cols = patches(img, *k.shape)
    return np.sum(np.tanh(cols @ k.ravel()))


def local_splat(x):
    def area(h, w):
        return h * w
    return np.sum(x) * area(*x.shape)


def test_star_of_a_shape_into_fixed_arity():
    img = R.normal(size=(5, 4))
    check(conv_by_patches, (R.normal(size=(2, 3)), img), (0, 1))
    check(local_splat, (XM,))
    with pytest.raises(ValueError, match="unpack"):
        grad(local_splat)(X4)                # one value for two parameters: Python's error


# ---------------------------------------------------------------- raise

def hinge(w, X, y, loss="hinge"):
    m = 1.0 - y * (X @ w)
    if loss == "hinge":
        data = np.maximum(m, 0.0).sum()
    elif loss == "squared_hinge":
        data = np.sum(np.maximum(m, 0.0) ** 2)
    else:
        raise ValueError(f"unknown loss {loss!r}")
    return data + 0.5 * w @ w


def checked_sqrt(w):
    if np.any(w < 0):
        raise ValueError("negative weights", w.shape)
    return np.sum(np.sqrt(w))


def test_raise_in_a_branch_taken_at_run_time():
    y = np.sign(R.normal(size=5))
    check(hinge, (X4[:3], XM, y))
    check(hinge, (X4[:3], XM, y), 0, {"loss": "squared_hinge"})
    with pytest.raises(ValueError, match=r"unknown loss \{loss!r\}.*test_corpus13_fixes.py"):
        grad(hinge)(X4[:3], XM, y, loss="l1")
    w = np.abs(X4) + 0.1
    check(checked_sqrt, (w,), order2=True)
    with pytest.raises(ValueError, match="negative weights"):
        grad(checked_sqrt)(-w)


# ---------------------------------------------------------------- plain classes

class Running:
    def __init__(self, scale=1.0):
        self.total = 0.0
        self.n = 0
        self.scale = scale

    def add(self, v):
        self.total = self.total + v * self.scale
        self.n += 1

    @property
    def mean(self):
        return self.total / self.n


class Dense:
    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.width = W.shape[1]

    def __call__(self, x):
        return np.tanh(x @ self.W + self.b)


def running_mean(x):
    acc = Running(2.0)
    for i in range(3):
        acc.add(np.sum(x * i))
    return acc.mean + acc.total


def running_over_data(x, n):
    acc = Running()
    for i in range(n):
        acc.add(x[i] ** 2)
    return acc.mean


def dense_stack(W1, W2, x):
    layers = [Dense(W1, 0.1), Dense(W2, -0.2)]
    h = x
    for L in layers:
        h = L(h)
    return np.sum(h ** 2) + layers[0].width


def inner_record_class(x):
    class Point:
        """A point with a weight."""
        dim = 2

        def __init__(self, p, w=1.0):
            self.p = p
            self.w = w

        def energy(self):
            return self.w * np.sum(self.p ** 2) / self.dim

    pts = [Point(x[:2]), Point(x[2:], 0.5)]
    pts[1].w = pts[1].w * x[0]
    return sum(p.energy() for p in pts)


def inner_class_reading_a_local(x):
    scale = 2.0

    class Box:
        def get(self):
            return scale

    return np.sum(x) * Box().get()


def test_plain_class_instances_made_in_the_function():
    check(running_mean, (X4,))
    check(running_over_data, (X4, 3))
    check(dense_stack, (R.normal(size=(4, 3)), R.normal(size=(3, 2)), X4), (0, 1, 2))
    check(inner_record_class, (X4,), order2=True)
    with pytest.raises(S2SGradError, match=r"test_corpus13_fixes.py:\d+: class definitions .*"
                                           r"reads 'scale' of the enclosing function"):
        grad(inner_class_reading_a_local)(X4)


# ---------------------------------------------------------------- defaultdict

def grouped(x):
    d = collections.defaultdict(float)
    for i, k in enumerate(["a", "b", "a"]):
        d[k] += x[i]
    d.update(c=x[3])
    d["e"] += d["c"]                     # still a defaultdict after update()
    return d["a"] * d["b"] + len(d) + d["e"]


def default_factories(x):
    d = collections.defaultdict(lambda: 1.0)
    d["w"] *= x[0]
    n = d["unused"]
    lists = collections.defaultdict(list)
    lists["a"] = lists["a"] + [x[1]]
    lists["a"] += [x[2]]
    return d["w"] * n + sum(d.values()) + len(d) + sum(lists["a"]) * len(lists["b"]) + \
        len(lists)


def grouped_by_data(x, labels):
    d = collections.defaultdict(float)
    for v, l in zip(x, labels):
        d[int(l)] += v
    return d[0]


def defaultdict_data_key(x, labels):
    d = collections.defaultdict(float)
    d[int(labels[0])] += x[0]
    return d[0]


def test_defaultdict_with_constant_keys():
    check(grouped, (X4,))
    check(default_factories, (X4,))
    # keys known only at run time stay refused, naming the line
    with pytest.raises(S2SGradError, match=r"test_corpus13_fixes.py:\d+: the dict 'd' is "
                                           r"changed in this loop"):
        grad(grouped_by_data)(X4, np.array([0, 1, 0, 1]))
    with pytest.raises(S2SGradError, match=r"test_corpus13_fixes.py:\d+: a collections."
                                           r"defaultdict read at the key int\(labels\[0\]\)"):
        grad(defaultdict_data_key)(X4, np.array([0, 1, 0, 1]))


# ---------------------------------------------------------------- zip(*xs)

def unzip_runtime(x):
    rows = []
    for i in range(x.shape[0]):
        rows.append((i, 2 * i + 1))
    idx, wts = zip(*rows)
    return np.sum(x * np.array(idx)) + sum(wts) * np.sum(x ** 2) + len(idx)


def unzip_literal(x):
    a, b = zip(*[(x[0], x[1]), (x[2], x[3])])
    return a[0] * b[1] + a[1]


def unzip_wrong_count(x):
    rows = [(i, i, i) for i in range(x.shape[0])]
    a, b = zip(*rows)
    return np.sum(x) * len(a)


def test_zip_star_of_a_runtime_list():
    check(unzip_runtime, (X4,))
    check(unzip_literal, (X4,))
    with pytest.raises(ValueError, match=r"test_corpus13_fixes.py:\d+: too many values to "
                                         r"unpack \(expected 2, got 3\)"):
        grad(unzip_wrong_count)(X4)


# ---------------------------------------------------------------- sorted(d.items())

def penalties(w, **terms):
    total = 0.0
    for name, (coef, value) in sorted(terms.items()):
        total = total + coef * value
    return total


def sorted_items(w):
    d = {"b": np.sum(w ** 2), "a": np.sum(np.sin(w))}
    ordered = [v for _, v in sorted(d.items())]
    return ordered[0] * 2.0 + ordered[1]


def multi_penalty(w):
    return penalties(w, l2=(0.1, w @ w), l1=(0.01, np.abs(w).sum()))


def test_sorted_items_of_computed_values():
    check(sorted_items, (X4,))
    check(multi_penalty, (X4,))


# ---------------------------------------------------------------- windows, transforms

def windows_of_kernel_shape(kernel, img):
    win = np.lib.stride_tricks.sliding_window_view(img, kernel.shape)
    return np.sum(np.tanh(np.einsum("ijkl,kl->ij", win, kernel)))


def moving_windows(kernel, x):
    win = np.lib.stride_tricks.sliding_window_view(x, kernel.shape[0])
    return np.sum(np.tanh(win @ kernel))


def test_sliding_window_of_a_runtime_shape():
    check(windows_of_kernel_shape, (R.normal(size=(3, 2)), R.normal(size=(5, 6))), (0, 1))
    check(moving_windows, (R.normal(size=3), R.normal(size=7)), (0, 1))


def energy_with_v(x, v=None, tangents=1.0):
    kin = 0.0 if v is None else 0.5 * np.dot(v, v)
    return np.sum(x ** 3) * tangents + kin


def test_transform_arguments_do_not_take_the_users_keywords():
    d = R.normal(size=4)
    v = R.normal(size=4)
    hv = hvp(energy_with_v)((X4,), d, v=v, tangents=2.0)
    np.testing.assert_allclose(hv, 12.0 * X4 * d, rtol=1e-12)
    out, t = jvp(energy_with_v)((X4,), (d,), v=v, tangents=2.0)
    assert out == pytest.approx(energy_with_v(X4, v=v, tangents=2.0), rel=1e-12)
    assert t == pytest.approx(np.sum(6.0 * X4 ** 2 * d), rel=1e-12)


def test_exported_module_runs_the_new_helpers():
    import types

    import s2sgrad

    def body(x, kind="sum"):
        out = [0.0] * x.shape[0]
        for i in range(x.shape[0]):
            out[i] = x[i] ** 2
        if kind != "sum":
            raise ValueError("unknown kind", kind)
        return sum(out) if isinstance(kind, str) else 0.0

    src = s2sgrad.export(grad(body), example_args=(X4,))
    mod = types.ModuleType("exported_corpus13")
    exec(compile(src, "exported_corpus13.py", "exec"), mod.__dict__)
    np.testing.assert_allclose(mod.body_grad(X4), 2 * X4, rtol=1e-12)
    with pytest.raises(ValueError, match="unknown kind"):
        mod.body_grad(X4, "max")
