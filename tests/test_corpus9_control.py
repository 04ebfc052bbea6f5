"""corpus9, part 10: control flow and Python forms in losses -- an early
``return`` inside a loop, ``warnings.catch_warnings``, branches and trip
counts on shapes, ``print`` of arrays, a ``while`` on data with a counter,
nested ``def``s, an array default argument, rebinding a parameter, slice
updates with ``+=``/``*=``/``-=``, comprehensions with ``if``, dict
comprehensions -- and the refusals met (``try``, starred unpacking of an
array, an f-string of a loop counter), each naming the user's line.
"""
import warnings

import numpy as np
import pytest

from s2sgrad import S2SGradError, grad
from tests.corpus9_harness import run_case

R = np.random.default_rng(11)


def rnd(*s, scale=0.5):
    return R.normal(size=s) * scale


X = rnd(6, 3, scale=1.0)
Y = rnd(6, scale=1.0)


def early_return(x, thresh=2.0):
    total = 0.0
    for i in range(len(x)):
        total = total + x[i] ** 2
        if total > thresh:
            return total * 2.0
    return total


def with_warnings(x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = np.sqrt(np.abs(x))
    return np.sum(y)


def shape_branch(x):
    if x.shape[0] > 5:
        return np.sum(x[:5] ** 2)
    return np.sum(x ** 3)


def half_loop(x):
    s = 0.0
    for i in range(x.shape[0] // 2):
        s += x[2 * i] * x[2 * i + 1]
    return s


def print_arrays(x):
    y = np.tanh(x)
    print("y", y, y.shape)
    return np.sum(y)


def while_data(x):
    y = x.copy()
    n = 0
    while np.max(np.abs(y)) > 0.1 and n < 20:
        y = y * 0.5
        n += 1
    return np.sum(y ** 2) + n


def nested_defs(w, X):
    def layer(h, scale):
        def act(z):
            return np.tanh(z) * scale
        return act(h @ w)
    return np.sum(layer(X, 2.0) ** 2)


def default_array_arg(x, W=np.eye(3)):
    return np.sum((W @ x) ** 2)


def reassign_param(x):
    x = x * 2
    x = np.sin(x)
    x += 1.0
    return np.sum(x)


def augmented_slices(x):
    y = np.zeros((3, 4))
    y[:, 1:3] += x[:, None]
    y[0] *= 2
    y[1:, ::2] -= x[1:, None] ** 2
    return np.sum(y ** 2)


def comprehension_if(ws, X):
    return sum(np.sum(X @ w) for w in ws if w.shape[0] == 3)


def dict_comprehension(params):
    sq = {k: v ** 2 for k, v in params.items()}
    return sum(np.sum(v) for v in sq.values())


CASES = [
    (early_return, (rnd(5, scale=1.0),), 0, {}),
    (with_warnings, (rnd(3),), 0, {}),
    (shape_branch, (rnd(7),), 0, {}),
    (shape_branch, (rnd(3),), 0, {}),
    (half_loop, (rnd(7),), 0, {}),
    (print_arrays, (rnd(3),), 0, {}),
    (while_data, (rnd(3, scale=2.0),), 0, {}),
    (nested_defs, (rnd(3, 2), X), 0, {}),
    (default_array_arg, (rnd(3),), 0, {}),
    (reassign_param, (rnd(3),), 0, {}),
    (augmented_slices, (rnd(3),), 0, {}),
    (comprehension_if, ([rnd(3), rnd(3)], X), 0, {}),
    (dict_comprehension, ({"a": rnd(2), "b": rnd(3)},), 0, {}),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0].__name__ + str(i) for i, c in enumerate(CASES)])
def test_corpus9_control(case):
    f, args, wrt, kwargs = case
    run_case(f, args, wrt, kwargs)


def try_except(x):
    try:
        y = np.log(x)
    except FloatingPointError:
        y = x
    return np.sum(y)


def str_format_key(params, n_layers=2):
    h = 0.0
    for i in range(n_layers):
        h = h + np.sum(params[f"W{i}"] ** 2)
    return h


def unpack_star(x):
    first, *rest = x
    a, *b, c = [x[0], x[1], x[2], x[3]]
    return first * np.sum(np.array(rest)) + a * c + sum(b)


REFUSALS = {
    # a try statement (JAX and autograd run it as Python)
    "try": (try_except, (np.abs(rnd(3)) + 0.1,), r"test_corpus9_control.py:\d+: cannot "
                                                   r"differentiate through 'try' statements"),
    # a dict key built from the counter of a loop kept as a loop
    "fstring_counter": (str_format_key, ({"W0": rnd(2), "W1": rnd(3)},),
                        r"test_corpus9_control.py:\d+: the f-string"),
}


def test_starred_unpacking_of_an_array():
    # first, *rest = x of an array: refused until corpus12 (its length is
    # checked when the code runs)
    run_case(unpack_star, (rnd(4),), 0, {})


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_refusals_name_the_line(name):
    f, args, pattern = REFUSALS[name]
    with pytest.raises(S2SGradError, match=pattern):
        grad(f)(*args)
