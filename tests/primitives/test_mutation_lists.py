"""Specs for in-place updates (setitem) and runtime lists (append, pop,
stack, indexing), which appear when user code mutates arrays or grows a
list in a loop."""
import numpy as np
import pytest

import s2sgrad
from s2sgrad import runtime as rt

from .spec import Spec, check_spec, normal


def set_slice(x):
    y = np.zeros(4)
    y[1:3] = x[:2] * x[2]
    y[0] += x[1]
    return np.sum(y ** 2)


def set_zero_d(x):
    # the cotangent of y is a NumPy scalar (seed * 2 of 0-d arrays): the
    # adjoint's write into it needs an array of its own
    y = np.zeros(())
    y[()] = x ** 2
    y[...] += x
    return y * 2


def set_in_loop(x, W):
    H = np.zeros((3, x.shape[0]))
    h = x
    for t in range(3):
        h = np.tanh(W @ h)
        H[t] = h
    return np.sum(H ** 2)


def grow_and_stack(x):
    hs = []
    for i in range(3):
        hs.append(np.sin(x) * (i + 1.0))
    return np.sum(np.stack(hs) ** 2)


def read_list(x):
    parts = []
    for k in range(3):
        parts.append(x * (k + 1.0))
    tot = 0.0
    for p in parts:
        tot = tot + np.sum(np.sin(p))
    return tot


def list_used_twice(x):
    hs = []
    for i in range(2):
        hs.append(x * (i + 2.0))
    return np.sum(np.stack(hs) * np.array(hs))


def pop_runtime_list(x):
    # Python's list as a stack (Tangent's test functions): pop of a list grown in a loop
    hs = []
    for i in range(3):
        hs.append(np.sin(x) * (i + 1.0))
    last = hs.pop()
    return np.sum(last * np.stack(hs))


def pop_literal_list(x):
    stack = []
    y = x * x
    stack.append(x)
    stack.append(y)
    top = stack.pop()
    first = stack.pop(0)
    return np.sum(top * first * first)


def dict_builtin(x):
    d = dict(a=x, b=2.0 * x)
    e = dict([("c", x ** 2)], d=x)
    f = dict(d)
    return np.sum(f["a"] * f["b"] + e["c"] * e["d"])


def grow_and_concatenate(x):
    rows, blocks, flat = [], [], []
    for i in range(3):
        rows.append(np.sin(x) * (i + 1.0))            # 1-d pieces: vstack makes rows
        blocks.append(np.outer(x, x[:2]) * (i - 0.5))  # 2-d pieces: along axis 1
        flat.append(x[i:] ** 2)                        # ragged: concatenate(axis=None)
    return (np.sum(np.vstack(rows) * np.arange(3.0)[:, None]) +
            np.sum(np.cos(np.hstack(blocks))) + np.sum(np.concatenate(blocks, axis=1) ** 2) +
            np.sum(np.sin(np.concatenate(flat, axis=None))) + np.sum(np.hstack(flat) ** 3))


def split_back(g):
    parts = rt.unconcat_list(g, [np.ones((2, 3)), np.ones((1, 3))], how="vstack")
    return np.sum(np.stack([parts[0][0], parts[0][1], parts[1][0]]) ** 2)


SPECS = [
    Spec(("concat_list",), grow_and_concatenate, (normal(3),)),
    Spec(("unconcat_list",), split_back, (normal(3, 3),)),
    Spec("setitem", set_slice, (normal(3),)),
    Spec("setitem", set_zero_d, (np.array(0.7),), id="setitem-0d"),
    Spec("setitem", set_in_loop, (normal(3), normal(3, 3) * 0.5), wrt=(0, 1), id="setitem-loop"),
    Spec(("list_build", "list_append", "list_pop", "stack_list", "unstack"), grow_and_stack,
         (normal(3),)),
    Spec(("list_get", "list_index_add"), read_list, (normal(2),)),
    Spec("list_add", list_used_twice, (normal(3),)),
    Spec("list_pop", pop_runtime_list, (normal(2),), id="pop-runtime-list"),
    Spec("multiply", pop_literal_list, (normal(3),), id="pop-literal-list"),
    Spec("multiply", dict_builtin, (normal(3),), id="dict-builtin"),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_mutation_and_lists(spec):
    check_spec(spec)


def test_setitem_of_zero_d_value_and_derivatives():
    x = np.array(0.7)
    val, g = s2sgrad.value_and_grad(set_zero_d)(x)
    assert val == set_zero_d(x.copy())
    np.testing.assert_allclose(g, 2 * (2 * x + 1), rtol=1e-14)
    out, t = s2sgrad.jvp(set_zero_d)((x,), (np.array(0.5),))
    np.testing.assert_allclose(t, 0.5 * 2 * (2 * x + 1), rtol=1e-14)


def _sorted_keys(d):
    total = 0.0
    for i, k in enumerate(sorted(d)):
        total = total + np.sum(np.sin(d[k])) * (i + 1.0)
    for k in sorted(d.keys(), reverse=True):
        total = total + np.sum(np.cos(d[k]))
    return total


def test_sorted_dict_keys():
    # autograd's test_dict: iterating a dict in sorted key order
    d = {"b": normal(2), "a": normal(3)}
    g = s2sgrad.grad(_sorted_keys)(d)
    np.testing.assert_allclose(g["a"], np.cos(d["a"]) - np.sin(d["a"]), rtol=1e-14)
    np.testing.assert_allclose(g["b"], 2 * np.cos(d["b"]) - np.sin(d["b"]), rtol=1e-14)
