"""corpus12, part 5: Python idioms inside realistic small programs: dict
comprehensions of parameter updates, ``{**params, "b": ...}`` and ``d |=
{...}``, tuple swaps of arrays, chained comparisons on data, the walrus
operator in a comprehension and in an ``if``, list ``insert``/``pop``/
``extend``/slices of a list of layers, ``hs[-1] += v`` on a list, ``sum(...,
start=...)``, ``zip(*pairs)``, ``enumerate(..., start=1)``, backward
``range`` loops writing into a copy, overlapping in-place updates
(``y[1:] -= y[:-1]``, ``B += B.T``: NumPy copies the overlapping operand),
chained assignment ``a = b = np.zeros(3)``, ``while ... else``, branches on
``ndim``/``len(x.shape)``, ``float()``/``.item()`` of data, ``np.vectorize``
of a lambda, an ``@functools.lru_cache`` helper, ``np.array`` of a list of
scalars, conditional expressions on data in a comprehension, ``math.fsum``,
``continue``, nested comprehensions, ``collections.defaultdict`` grouping,
string keys sorted and tested with ``startswith``.  Checked by
``tests/corpus10_harness.check``; the refusals met are listed with the
line they name.
"""
import collections
import functools
import math

import numpy as np
import pytest

from tests.corpus10_harness import run_table

R = np.random.default_rng(12060)
def rnd(*s, scale=0.5): return R.normal(size=s) * scale
X = rnd(6, 3, scale=1.0); Y = rnd(6, scale=1.0)

def sgd_dict_comp(params, X, y, lr=0.1, steps=3):
    for _ in range(steps):
        r = X @ params["w"] + params["b"] - y
        grads = {"w": X.T @ r / len(y), "b": np.mean(r)}
        params = {k: v - lr * grads[k] for k, v in params.items()}
    return np.mean((X @ params["w"] + params["b"] - y) ** 2)

def dict_merge(params, X, y):
    p = {**params, "b": params["b"] * 2.0}
    p |= {"w": p["w"] * 0.5}
    return np.sum((X @ p["w"] + p["b"] - y) ** 2) + params["b"]

def swap_arrays(w, X):
    a, b = w, X[0]
    for _ in range(3):
        a, b = b * 0.5, a + b
    return np.sum(a * b)

def chained_cmp(w, x):
    s = 0.0
    for v in x:
        if -0.5 < v < 0.5:
            s = s + w[0] * v
        elif v >= 0.5:
            s = s + w[1] * v ** 2
        else:
            s = s - w[2]
    return s

def walrus_comp(w, X):
    outs = [z for row in X if (z := np.tanh(row @ w)) > -0.5]
    return sum(outs) if outs else 0.0

def list_ops(ws, x):
    layers = list(ws)
    layers.insert(0, np.eye(3))
    first = layers.pop(0)
    layers.extend([first * 0.5])
    h = x
    for W in layers[::-1]:
        h = np.tanh(h @ W)
    rest = layers[1:]
    return np.sum(h) + sum(np.sum(W ** 2) for W in rest)

def list_item_aug(w, X):
    hs = [np.zeros(3)]
    for row in X:
        hs.append(hs[-1] * 0.5 + row * w)
    hs[-1] += w
    hs[0] -= 1.0
    return np.sum(np.stack(hs) ** 2)

def sum_start(ws, x):
    return np.sum(sum((np.tanh(x @ W) for W in ws), start=np.zeros(x.shape[0])) ** 2)

def zip_star(w, X):
    pairs = [(row @ w, np.sum(row)) for row in X]
    preds, tots = zip(*pairs)
    return np.sum(np.array(preds) * np.array(tots))

def enumerate_start(w, X):
    s = 0.0
    for t, row in enumerate(X, start=1):
        s = s + np.sum(row * w) / t
    return s

def backward_range(w, x):
    y = x.copy()
    for i in range(len(y) - 1, 0, -1):
        y[i] = y[i] - w * y[i - 1]
    return np.sum(y ** 2)

def overlap_inplace(x):
    y = x * 1.0
    y[1:] -= y[:-1]
    return np.sum(y ** 3)

def overlap_transpose(A):
    B = A * 1.0
    B += B.T
    return np.sum(np.sin(B) * np.arange(B.size).reshape(B.shape))

def chained_assign(w):
    a = b = np.zeros(3)
    a[0] = w[0]
    b[1] = w[1] * 2
    return np.sum(a * w) + np.sum(b)

def while_else(w, tol=1e-3):
    x = 1.0
    k = 0
    while k < 20:
        x_new = 0.5 * (x + w / x)
        k += 1
        if abs(x_new - x) < tol:
            x = x_new
            break
        x = x_new
    else:
        x = -1.0
    return x ** 3

def isinstance_branch(x, s):
    if isinstance(s, float):
        return np.sum(x * s)
    return np.sum(x * np.asarray(s))

def ndim_branch(x):
    if x.ndim == 1:
        x = x[None, :]
    if len(x.shape) == 2 and x.shape[0] > 1:
        return np.sum(x[1:] * x[:-1])
    return np.sum(x ** 2)

def star_call(x):
    shape = x.shape
    y = x.reshape(-1, *shape[2:])
    z = np.stack([*y, *(y * 2)])
    return np.sum(z ** 2 * np.arange(z.size).reshape(z.shape))

def item_and_float(w, x):
    scale = float(np.max(np.abs(x)))
    t = x.max().item()
    return np.sum(w * x) / scale + t * w[0]

def vectorize_user(w, x):
    f = np.vectorize(lambda a: a * 2.0 if a > 0 else -a)
    return np.sum(f(x) * w)

def lru_helper(w, x):
    return np.sum(_cached_basis(3) @ w * x[:3])

@functools.lru_cache(maxsize=None)
def _cached_basis(n):
    return np.eye(n) * 2.0

def mutable_default(w, x, acc=[]):
    acc = list(acc)
    acc.append(np.sum(w * x))
    return sum(acc)

def np_array_of_scalars(w, X):
    vals = []
    for row in X:
        vals.append(row @ w)
    v = np.array(vals)
    return np.sum(np.exp(v - v.max()))

def cond_expr_data(w, x):
    return np.sum([(a * b if a > b else a - b) for a, b in zip(w, x)])

def math_fsum(w):
    return math.fsum([1.0, 2.0]) * np.sum(w ** 2) + math.prod([2, 3]) * w[0]

def generator_send(w, x):
    total = 0.0
    for k, v in enumerate(x):
        if k % 2:
            continue
        total += v * w[k % len(w)]
    return total

def nested_comp(W, x):
    M = np.array([[W[i, j] * x[j] for j in range(W.shape[1])] for i in range(W.shape[0])])
    return np.sum(np.tanh(M))

def dict_defaultdict(w, X, labels):
    groups = collections.defaultdict(list)
    for row, l in zip(X, labels):
        groups[int(l)].append(row @ w)
    return sum(np.mean(np.array(v)) ** 2 for v in groups.values())

def string_keys_loop(p, x):
    out = 0.0
    for name in sorted(p):
        if name.startswith("w"):
            out = out + np.sum(p[name] * x)
        else:
            out = out + p[name] ** 2
    return out

CASES = {
    "dict_merge": (dict_merge, ({"w": rnd(3), "b": 0.1}, X, Y), 0, {}),
    "swap_arrays": (swap_arrays, (rnd(3), X), 0, {}),
    "chained_cmp": (chained_cmp, (rnd(3), rnd(8, scale=1.0)), 0, {}),
    "walrus_comp": (walrus_comp, (rnd(3), X), 0, {}),
    "list_ops": (list_ops, ([rnd(3, 3), rnd(3, 3)], X), 0, {}),
    "list_item_aug": (list_item_aug, (rnd(3), X), 0, {}),
    "sum_start": (sum_start, ([rnd(3), rnd(3)], X), 0, {}),
    "enumerate_start": (enumerate_start, (rnd(3), X), 0, {}),
    "backward_range": (backward_range, (0.3, rnd(6, scale=1.0)), (0, 1), {}),
    "overlap_inplace": (overlap_inplace, (rnd(6, scale=1.0),), 0, {}),
    "overlap_transpose": (overlap_transpose, (rnd(3, 3, scale=1.0),), 0, {}),
    "chained_assign": (chained_assign, (rnd(3),), 0, {}),
    "while_else": (while_else, (2.0,), 0, {}),
    "ndim_branch": (ndim_branch, (rnd(4, 3),), 0, {}),
    "ndim_branch_1d": (ndim_branch, (rnd(4),), 0, {}),
    "item_and_float": (item_and_float, (rnd(3), rnd(3)), 0, {}),
    "vectorize_user": (vectorize_user, (rnd(4), rnd(4, scale=1.0)), 0, {}),
    "lru_helper": (lru_helper, (rnd(3), rnd(3)), 0, {}),
    "np_array_of_scalars": (np_array_of_scalars, (rnd(3), X), 0, {}),
    "cond_expr_data": (cond_expr_data, (rnd(4), rnd(4)), 0, {}),
    "generator_continue": (generator_send, (rnd(3), rnd(7)), 0, {}),
    "nested_comp": (nested_comp, (rnd(2, 3), rnd(3)), 0, {}),
    "string_keys_loop": (string_keys_loop, ({"w1": rnd(3), "b": 0.3, "w0": rnd(3)}, rnd(3)), 0, {}),
    # refused on 7ed9f94, supported since corpus13 (runtime isinstance, math.prod)
    "isinstance_array": (isinstance_branch, (rnd(3), rnd(3)), 0, {}),
    "isinstance_float": (isinstance_branch, (rnd(3), 0.5), (0, 1), {}),
    "math_fsum": (math_fsum, (rnd(3),), 0, {}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus12_idioms(name):
    run_table(CASES, name)


# refusals met by the corpus (intended for now): each names the user's line
REFUSALS = {
    # a defaultdict made in the function, read at keys known only at run time
    # (keys known while compiling are supported since corpus13)
    "defaultdict": (dict_defaultdict, (rnd(3), X, np.array([0, 1, 0, 2, 1, 0])),
        r"test_corpus12_idioms.py:\d+: a collections.defaultdict read at the key int\(l\)"),
    # list() of a list default parameter (read live, as data)
    "mutable_default": (mutable_default, (rnd(3), rnd(3)),
        r"test_corpus12_idioms.py:\d+: .*list\(\) of a computed value"),
    # a dict of parameters rebound in a loop that stays a loop (the message
    # says how to keep the values)
    "sgd_dict_comp": (sgd_dict_comp, ({"w": rnd(3), "b": 0.1}, X, Y),
        r"test_corpus12_idioms.py:\d+: .*the dict 'params' is changed in this loop"),
    # '*' of a shape slice known only at run time
    "star_call": (star_call, (rnd(2, 2, 3),),
        r"test_corpus12_idioms.py:\d+: .*'\*' unpacking of a computed value"),
    # a list built at run time of tuples of differentiated values (the zip(*pairs)
    # after it is supported since corpus13, for tuples of data)
    "zip_star": (zip_star, (rnd(3), X),
        r"test_corpus12_idioms.py:\d+: 'a tuple built from computed values' has no "
        r"derivative rule"),
}


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_refusals_name_the_line(name):
    from s2sgrad import grad
    from s2sgrad.errors import S2SGradError
    f, args, pattern = REFUSALS[name]
    with pytest.raises(S2SGradError, match=pattern):
        grad(f)(*args)
