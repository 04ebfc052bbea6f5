"""Control flow, calls, closures, mutation and containers in reverse mode.

Every function is checked against central finite differences
(``check_grads``); several also against exact values.
"""
import threading

import numpy as np
import pytest

import s2sgrad
from s2sgrad import grad, value_and_grad

RNG = np.random.default_rng(7)


# ---------------------------------------------------------------- the catalogue

def piecewise(x):
    if x > 1.0:
        y = x ** 2
    elif x > -1.0:
        y = np.sin(x) * 3.0
    else:
        y = -x
    return y * x


def branch_on_data(x, w):
    if np.sum(x * w) > 0:
        z = np.tanh(x * w)
    else:
        z = x ** 2 * w
    return np.sum(z)


def assigned_in_one_branch(x):
    z = x * 2.0
    if np.mean(x) > 0:
        z = z * x
    return np.sum(z)


def cond_expr(x):
    return np.sum(x ** 2 if np.max(x) > 0.5 else np.exp(x))


def rnn(params, xs, h0):
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(params["Wx"] @ xs[t] + params["Wh"] @ h + params["b"])
    return np.sum(h ** 2)


def newton_sqrt(a):
    x = a
    while np.abs(x * x - a) > 1e-12:
        x = 0.5 * (x + a / x)
    return x


def loop_with_break(x):
    acc = 0.0
    for i in range(10):
        acc = acc + x[i % 3] * (i + 1)
        if acc > 4.0:
            break
    return acc


def loop_with_continue(x):
    t = 0.0
    for i in range(x.shape[0]):
        if i % 2 == 1:
            continue
        t = t + np.sin(x[i]) * x[i]
    return t


def nested_loops(x):
    s = 0.0
    for i in range(3):
        for j in range(i + 1):
            if x[j] > 0:
                s = s + x[i] * x[j]
            else:
                s = s - np.sin(x[j])
    return s


def early_return(x):
    for i in range(5):
        x = x * 1.3
        if np.sum(x) > 3.0:
            return np.sum(x ** 2)
    return np.sum(x)


def several_returns(x):
    if x < 0:
        return -x * 2.0
    if x < 1:
        return x ** 3
    return np.log(x) + 1.0


def iterate_rows(X, w):
    tot = 0.0
    for row in X:
        tot = tot + np.tanh(row @ w)
    return tot


def enumerate_zip(a, b):
    t = 0.0
    for i, (u, v) in enumerate(zip(a, b)):
        t = t + (i + 1) * u * v
    return t


def loop_over_tuple(x):
    tot = 0.0
    for scale in (1.0, 2.0, 3.0):
        tot = tot + np.sum(np.sin(x * scale))
    return tot


def fill_buffer(x, W):
    T = 5
    H = np.zeros((T, x.shape[0]))
    h = x
    for t in range(T):
        h = np.tanh(W @ h)
        H[t] = h
    return np.sum(H ** 2) + np.sum(H[-1])


def inplace_updates(x):
    y = np.zeros(4)
    y[1:3] = x[:2] * 2.0
    y[0] += x[2]
    y[:2] *= x[3]
    return np.sum(y * np.arange(1.0, 5.0))


def scale_columns(A, s):
    B = A * 1.0
    for k in range(A.shape[1]):
        B[:, k] *= s[k]
    return np.sum(B ** 2)


def assign_into_argument(x):
    x[0] = 5.0 * x[1]
    return np.sum(x ** 2)


def list_of_states(x, W):
    h = x
    hs = []
    for t in range(4):
        h = np.tanh(W @ h)
        hs.append(h)
    return np.sum(np.stack(hs) ** 2) + np.sum(sum(hs)) + np.sum(np.array(hs)) * 0.5


def iterate_list(x):
    parts = []
    for k in range(3):
        parts.append(x * (k + 1))
    tot = 0.0
    for p in parts:
        tot = tot + np.sum(np.sin(p))
    return tot + np.sum(parts[-1])


def mlp(params, X, y):
    h = np.tanh(X @ params["W1"] + params["b1"])
    out = h @ params["W2"] + params["b2"]
    return np.mean((out - y) ** 2)


def layers_list(layers, x):
    h = x
    for W, b in layers:
        h = np.tanh(h @ W + b)
    return np.sum(h)


_SCALE = 2.0


def _helper(z, k=3.0):
    return np.tanh(z) * k


def _tree(x, depth):
    if depth == 0:
        return np.sin(x)
    return _tree(x * 1.1, depth - 1) + _tree(x, depth - 1) * 0.5


def calls_and_closures(x, a):
    def sq(u, p=2):
        return (u * a) ** p
    g = lambda v: np.sum(sq(v)) + _SCALE
    return g(x) + np.sum(_helper(x, k=a)) + np.sum(_tree(x, 3))


def init_also_read_in_body(h):
    s = h
    for t in range(3):
        s = s * h + np.sin(h)
    return np.sum(s)


def helper_in_loop(x):
    for _ in range(3):
        x = _helper(x, k=0.9)
    return np.sum(x)


CATALOGUE = [
    (piecewise, (2.0,), 0), (piecewise, (0.3,), 0), (piecewise, (-2.0,), 0),
    (branch_on_data, (RNG.standard_normal(4), RNG.standard_normal(4)), (0, 1)),
    (branch_on_data, (-np.ones(4), np.ones(4)), (0, 1)),
    (assigned_in_one_branch, (np.array([0.5, 1.0]),), 0),
    (assigned_in_one_branch, (np.array([-0.5, -1.0]),), 0),
    (cond_expr, (np.array([0.9, 0.1]),), 0), (cond_expr, (np.array([0.2, 0.1]),), 0),
    (rnn, ({"Wx": RNG.standard_normal((4, 3)) * 0.5, "Wh": RNG.standard_normal((4, 4)) * 0.5,
            "b": RNG.standard_normal(4)}, RNG.standard_normal((6, 3)), RNG.standard_normal(4)),
     (0, 2)),
    (newton_sqrt, (2.0,), 0),
    (loop_with_break, (np.array([0.5, 0.2, 0.4]),), 0),
    (loop_with_continue, (RNG.standard_normal(5),), 0),
    (nested_loops, (RNG.standard_normal(3),), 0),
    (early_return, (np.array([0.3, 0.2]),), 0), (early_return, (np.array([0.01, 0.02]),), 0),
    (several_returns, (-1.5,), 0), (several_returns, (0.5,), 0), (several_returns, (2.5,), 0),
    (iterate_rows, (RNG.standard_normal((5, 3)), RNG.standard_normal(3)), (0, 1)),
    (enumerate_zip, (RNG.standard_normal(4), RNG.standard_normal(4)), (0, 1)),
    (loop_over_tuple, (RNG.standard_normal(3),), 0),
    (fill_buffer, (RNG.standard_normal(3), RNG.standard_normal((3, 3)) * 0.5), (0, 1)),
    (inplace_updates, (RNG.standard_normal(4),), 0),
    (scale_columns, (RNG.standard_normal((3, 4)), RNG.standard_normal(4)), (0, 1)),
    (assign_into_argument, (RNG.standard_normal(3),), 0),
    (list_of_states, (RNG.standard_normal(3), RNG.standard_normal((3, 3)) * 0.5), (0, 1)),
    (iterate_list, (RNG.standard_normal(3),), 0),
    (mlp, ({"W1": RNG.standard_normal((3, 5)), "b1": RNG.standard_normal(5),
            "W2": RNG.standard_normal((5, 2)), "b2": RNG.standard_normal(2)},
           RNG.standard_normal((7, 3)), RNG.standard_normal((7, 2))), 0),
    (layers_list, ([(RNG.standard_normal((3, 4)), RNG.standard_normal(4)),
                    (RNG.standard_normal((4, 2)), RNG.standard_normal(2))],
                   RNG.standard_normal((5, 3))), (0, 1)),
    (calls_and_closures, (RNG.standard_normal(3), 1.5), (0, 1)),
    (helper_in_loop, (RNG.standard_normal(3),), 0),
    (init_also_read_in_body, (RNG.standard_normal(3),), 0),
]


def test_power_by_loop_exact():
    def cube(h):
        s = h
        for t in range(2):
            s = s * h
        return s
    assert grad(cube)(0.7) == pytest.approx(3 * 0.49)
    assert grad(grad(cube))(0.7) == pytest.approx(6 * 0.7)


@pytest.mark.parametrize("fn,args,wrt", CATALOGUE,
                         ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CATALOGUE)])
def test_catalogue_against_finite_differences(fn, args, wrt):
    s2sgrad.check_grads(fn, args, wrt=wrt)


# ---------------------------------------------------------------- exact values

def test_piecewise_exact():
    g = grad(piecewise)
    assert g(2.0) == pytest.approx(3 * 2.0 ** 2)                       # d/dx x^3
    assert g(0.3) == pytest.approx(3 * (np.sin(0.3) + 0.3 * np.cos(0.3)))
    assert g(-2.0) == pytest.approx(2 * 2.0)                          # d/dx -x^2 at -2


def test_newton_sqrt_exact():
    assert grad(newton_sqrt)(2.0) == pytest.approx(0.5 / np.sqrt(2.0), rel=1e-9)


def test_loop_with_break_exact():
    # x = (0.5, 0.2, 0.4): acc after i=0..3 is 0.5, 0.9, 2.1, 4.1 > 4 -> break at i=3
    g = grad(loop_with_break)(np.array([0.5, 0.2, 0.4]))
    np.testing.assert_allclose(g, [1 + 4, 2, 3])


def test_dict_gradient_has_the_same_structure():
    params = CATALOGUE[9][1][0]
    g = grad(rnn)(params, CATALOGUE[9][1][1], CATALOGUE[9][1][2])
    assert set(g) == {"Wx", "Wh", "b"}
    for k in g:
        assert g[k].shape == params[k].shape


def test_list_of_tuples_gradient_structure():
    layers, x = next(c[1] for c in CATALOGUE if c[0] is layers_list)
    g = grad(layers_list)(layers, x)
    assert isinstance(g, list) and len(g) == 2
    assert all(isinstance(t, tuple) and t[0].shape == layers[i][0].shape
               for i, t in enumerate(g))


def test_caller_array_is_not_modified():
    x = np.array([1.0, 2.0, 3.0])
    before = x.copy()
    g = grad(assign_into_argument)(x)
    np.testing.assert_array_equal(x, before)
    # x[0] is overwritten: no gradient; x[1] gets 2*(5 x1)*5 + 2*x1
    np.testing.assert_allclose(g, [0.0, 50 * 2.0 + 2 * 2.0, 2 * 3.0])


def test_long_scalar_loop():
    def decay(x, n):
        s = x
        for i in range(n):
            s = s + 1e-5 * np.sin(s)
        return s
    g = grad(decay)(0.3, 100000)
    # compare with the same recurrence's derivative computed directly
    s, d = 0.3, 1.0
    for _ in range(100000):
        d = d * (1 + 1e-5 * np.cos(s))
        s = s + 1e-5 * np.sin(s)
    assert g == pytest.approx(d, rel=1e-10)


def test_generated_code_is_reentrant_across_threads():
    f = grad(rnn)
    params, xs, h0 = CATALOGUE[9][1]
    want = f(params, xs, h0)
    errors = []

    def work():
        for _ in range(20):
            got = f(params, xs, h0)
            if not all(np.allclose(got[k], want[k]) for k in want):
                errors.append("mismatch")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


# ---------------------------------------------------------------- has_aux

def loss_with_aux(w, x):
    pred = x @ w
    return np.sum(pred ** 2), {"pred": pred, "norm": np.sum(w ** 2)}


def test_has_aux_grad_and_value_and_grad():
    w, x = RNG.standard_normal(3), RNG.standard_normal((4, 3))
    g, aux = grad(loss_with_aux, has_aux=True)(w, x)
    np.testing.assert_allclose(g, 2 * x.T @ (x @ w))
    np.testing.assert_allclose(aux["pred"], x @ w)
    (val, aux2), g2 = value_and_grad(loss_with_aux, has_aux=True)(w, x)
    assert val == pytest.approx(np.sum((x @ w) ** 2))
    np.testing.assert_allclose(g2, g)
    assert aux2["norm"] == pytest.approx(np.sum(w ** 2))


# ---------------------------------------------------------------- structure kept

def _code_lines(src, start):
    return [ln.strip() for ln in src.splitlines() if ln.strip().startswith(start)]


def test_loop_stays_a_loop_and_stacks_are_local():
    f = grad(fill_buffer, wrt=(0, 1))
    f(*CATALOGUE[22][1])
    src = f.source
    loops = _code_lines(src, "for ")
    assert len(loops) == 2                               # forward loop and reversed loop
    assert "reversed(" in loops[1]
    # saved values: local lists in the polymorphic code, local preallocated
    # arrays (tapes) in the code specialised to the call's shapes
    assert ".append(" in f.generic_source and ".pop()" in f.generic_source
    assert "_tape = np.empty(" in src and ".append(" not in src
    assert "H[t] = h" in src                             # the buffer is filled in place
    assert "global" not in src


def test_branch_stays_a_branch():
    f = grad(branch_on_data)
    f(np.ones(3), np.ones(3))
    src = f.source
    assert len(_code_lines(src, "if ")) == 2 and len(_code_lines(src, "else:")) == 2


# ---------------------------------------------------------------- refusals

def uses_try(x):
    try:
        y = x * 2
    except ValueError:
        y = x
    return np.sum(y)


def uses_with(x):
    with open("/dev/null"):
        y = np.log(x)
    return np.sum(y)


def uses_global(x):
    global _COUNTER
    _COUNTER = 1
    return np.sum(x)


@pytest.mark.parametrize("fn,construct", [(uses_try, "try"), (uses_with, "with"),
                                          (uses_global, "global")])
def test_refusals_name_file_and_line(fn, construct):
    with pytest.raises(s2sgrad.S2SGradError) as info:
        grad(fn)(np.ones(2))
    msg = str(info.value)
    line = fn.__code__.co_firstlineno + 1
    assert f"test_control_flow.py:{line}:" in msg
    assert construct in msg
