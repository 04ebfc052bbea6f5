"""Differential fuzzing of what compiled code assumes about the world outside
its arguments: random programs of the fuzzer (``tests/test_fuzz.py``) are
wrapped in a function that reads globals -- a flag, a string, a callable, a
helper function, a config dict (callable, int, float entries), a float read
live -- and takes a static argument of mixed types (``True``, ``1``,
``False``, ``0``, ``2``).  One ``value_and_grad`` object is called after a
random sequence of changes to those globals and arguments; each call's
value must equal the plain function's and its gradient central differences.

    python -m tests.test_fuzz_globals 0 200     # more seeds from the command line
"""
from __future__ import annotations

import random
import sys
import warnings

import numpy as np
import pytest

import s2sgrad
from tests import test_fuzz as tf

WRAPPER = '''

FLAG = True
MODE = "sum"
ACT = np.tanh
SCALE = 1.5
CFG = {{"act": np.sin, "k": 2, "w": 0.5}}


def helper_a(z):
    return ACT(z) * SCALE


def helper_b(z):
    return np.cos(z) * 0.5


HELPER = helper_a


def g({params}, flag):
    r = f({params})
    if FLAG:
        r = r + np.sum(HELPER({x}))
    if flag is True:
        r = r * CFG["w"]
    elif flag == 2:
        r = r + np.sum(CFG["act"]({x}))
    for _ in range(CFG["k"]):
        r = r * 0.9 + np.sum({x} * SCALE) * 0.1
    if MODE == "sum":
        r = r + np.sum({x} ** 2)
    else:
        r = r + np.mean({x} ** 2)
    return r
'''

CHANGES = [
    ("FLAG", [True, False]),
    ("MODE", ["sum", "mean"]),
    ("ACT", [np.tanh, np.sin, np.arctan]),
    ("SCALE", [1.5, -0.5, 2.0]),
    ("HELPER", ["helper_a", "helper_b"]),
    ("CFG.act", [np.sin, np.tanh, np.exp]),
    ("CFG.k", [0, 1, 2, 3]),
    ("CFG.w", [0.5, 1.25]),
]
FLAGS = [True, 1, False, 0, 2]


def build(seed):
    """(g, args, position of x) or None when the program has no float64 array argument."""
    src, specs, _ = tf.generate(seed)
    names = [s[0] for s in specs if s[1] != "default"]
    pos = next((i for i, s in enumerate(specs) if s[1] == "f64" and s[2]), None)
    if pos is None:
        return None
    g = tf.load(src + WRAPPER.format(params=", ".join(names), x=names[pos]), name="g")
    return g, tf.make_args(specs, seed), pos


def _fd(g, args, pos, eps=1e-6):
    x = args[pos]
    out = np.zeros_like(x)
    for k in range(x.size):
        e = np.zeros_like(x)
        e.flat[k] = eps
        hi = list(args)
        lo = list(args)
        hi[pos], lo[pos] = x + e, x - e
        d = np.asarray(g(*hi) - g(*lo), dtype=np.float64)
        if d.size != 1:
            raise ValueError(f"g returned {d.size} values")
        out.flat[k] = d.reshape(-1)[0] / (2 * eps)
    return out


def _fd_at_two_steps(g, args, pos):
    a, b = _fd(g, args, pos, 1e-6), _fd(g, args, pos, 1e-5)
    if not np.allclose(a, b, rtol=1e-4, atol=1e-6):
        return None              # not smooth within the step (a kink, a branch on data)
    return a


def run(seed, steps=6):
    built = build(seed)
    if built is None:
        return "invalid"
    g, args, pos = built
    ns = g.__globals__
    r = random.Random(seed)
    vg = s2sgrad.value_and_grad(g, wrt=pos)
    checked = 0
    for step in range(steps):
        if step:
            name, values = r.choice(CHANGES)
            value = r.choice(values)
            if name.startswith("CFG."):
                ns["CFG"][name[4:]] = value
            elif name == "HELPER":
                ns["HELPER"] = ns[value]
            else:
                ns[name] = value
        flag = r.choice(FLAGS)
        call = list(args) + [flag]
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                expect = g(*tf.copy.deepcopy(call))
            except Exception:               # noqa: BLE001 -- NumPy error: not a test
                return "invalid"
            if not np.isfinite(expect):
                return "invalid"
            value, grad = vg(*call)
            fd = _fd_at_two_steps(g, call, pos)
        state = {k: ns[k] for k in ("FLAG", "MODE", "ACT", "SCALE", "HELPER")}
        state["CFG"] = dict(ns["CFG"])
        # float32 arguments: a float32 reduction's rounding depends on the
        # memory layout of its operand (an in-place product keeps its
        # operand's), so the value is NumPy's to float32 rounding only
        rtol = 1e-6 if any(np.asarray(a).dtype == np.float32 for a in args) else 1e-9
        assert np.allclose(value, expect, rtol=rtol, atol=1e-12), \
            f"seed {seed} step {step}: value {value} != {expect} (flag={flag!r}, {state})"
        if fd is not None:
            assert np.allclose(grad, fd, rtol=1e-4, atol=1e-6), \
                f"seed {seed} step {step}: gradient {grad} != {fd} (flag={flag!r}, {state})"
            checked += 1
    return "ok" if checked else "invalid"


SEEDS = range(20241101, 20241121)


@pytest.mark.parametrize("seed", SEEDS)
def test_globals_change_between_calls(seed):
    run(seed)


def test_most_programs_are_checked():
    assert sum(run(s, steps=2) == "ok" for s in SEEDS[:10]) >= 5


if __name__ == "__main__":
    start, stop = (int(a) for a in sys.argv[1:3])
    counts: dict = {}
    for seed in range(start, stop):
        try:
            res = run(seed, steps=10)
        except AssertionError as exc:
            res = "fail"
            print(exc)
        except Exception as exc:            # noqa: BLE001 -- reported, not hidden
            res = "error"
            print(f"seed {seed}: {type(exc).__name__}: {exc}")
        counts[res] = counts.get(res, 0) + 1
    print(counts)
