"""Differential checks for the memory-layout class of wrong numbers (layout13;
not a test module).

NumPy's arrays keep their strides when written in place, and what is
computed from them inherits their memory order (ufuncs allocate in order
'K'), while the IR's writes are functional updates.  A reshape or ravel is
a view or a copy depending on the strides, so where the generated code's
memory order of a value differs from NumPy's, a write through the reshape
reaches the value in one and not in the other: a wrong number.  Each random
program here is

    def f(x, W, C, n):
        A = <W, W.T, W.copy(), np.copy(W), W[::-1], a view of W ...>
        B = A * 1.0
        <statements: writes into A and its views (+=, setitem, out=,
         np.copyto, through .T/swapaxes/moveaxis/slices/ellipsis/reshape),
         new values computed from A (elementwise, mixed with C, reductions
         with keepdims, copies), reshapes/ravels/asarray-likes of them
         written through, a loop over range(n) with A as its carry>
        return <a scalar reading A, B, W, x>

called with ``W`` C-ordered, F-ordered, reversed, strided or transposed and
``C`` C-ordered, F-ordered or a 0-stride broadcast view, in float64 or
float32, with ``checkpoint`` off or on.  The value is compared with NumPy
(the function run on copies with the same strides), the gradient in ``x``
and in the written ``W`` with central differences; the same compiled
function is then called with ``W`` in another layout (the code is
specialised to shapes and dtypes, not to layouts).  A program s2sgrad
refuses counts as 'refused' (the refusal must name the program's line);
one whose NumPy run raises or whose differences disagree, 'invalid'.

    PYTHONPATH=. nice -n 10 python -m tests.layout13_harness LO HI [-v]
    PYTHONPATH=. python -m tests.layout13_harness show SEED
"""
from __future__ import annotations

import copy
import linecache
import random
import sys
import types

import numpy as np

import s2sgrad
from tests.trust12_harness import (Failure, Invalid, _is_refusal, _numpy, _refusal, _unchanged,
                                   close, differences, value_close)

__all__ = ["Failure", "Invalid", "program", "check", "check_source", "run", "make_args"]

# {A}: the working array; {C}: the other argument, transposed like A;
# {V}: A or B (the value observed); {K}: an index in range(V.size)
_WRITES = [
    "A[0] += 0.3 * np.sin(x[0])",
    "A[:, 1] *= 1.05",
    "A.T[1] *= 1.05",
    "A[..., 0] -= 0.1 * x[1]",
    "np.swapaxes(A, 0, 1)[0] += 0.2 * x[2]",
    "np.moveaxis(A, 0, 1)[-1] *= 0.9",
    "A[::2] += 0.1 * x[0]",
    "A[:, ::-1][0] += 0.1 * x[1]",
    "A += 0.1 * {C}",
    "A *= 0.9 + 0.1 * x[0]",
    "A -= 0.05 * {C} * x[1]",
    "np.copyto(A, A * 0.9 + 0.01 * x[0])",
    "np.multiply(A, 0.95, out=A)",
    "np.add(A, 0.1 * {C}, out=A)",
    "A[...] = np.tanh(A)",
    "A[0, 0] = x[0] * 0.5",
    "v = A.reshape(-1)\nv[1] += x[1]",
    "v = A.ravel()\nv[::3] *= 1.1",
    "v = A.reshape(-1, order='F')\nv[2] += 0.1 * x[0]",
    "v = A[None]\nv[0, 1] += 0.2 * x[2]",
    "np.add.at(A, ([0, 0], [1, 1]), 0.1 * x[0])",
    "np.subtract.at(A, (1, 0), 0.2 * x[1])",
    "np.multiply.at(A, ([0, 1], [1, 0]), 1.1)",
    "A[[0, 1], [2, 0]] += 0.3 * x[2]",
    "np.put(A, [0, 5], x[:2] * 0.5)",
]
_VALUES = [
    "B = A * 2.0",
    "B = np.sin(A) + x[0]",
    "B = A + {C}",
    "B = {C} * A",
    "B = np.exp(0.1 * A)",
    "B = A.copy()",
    "B = np.copy(A)",
    "B = np.sum(A, axis=0, keepdims=True) * A",
    "B = A - np.mean(A, axis=1, keepdims=True)",
    "B = A[:, ::-1] * 1.0",
    "B = A.T * x[0]",
    "B = np.tanh(A) * np.cos(A)",
    "A = A * 0.95",
    "A = A.T",
    "A = np.sin(A) + A",
    "B = np.max(A, axis=1, keepdims=True) + A * x[1]",
]
_OBSERVERS = [
    "u = {V}.reshape(-1)\nu[{K}] += 0.1 * x[0]",
    "u = {V}.ravel()\nu[:2] *= 1.2",
    "u = np.reshape({V}, (-1,))\nu[0] = x[2]",
    "u = {V}.reshape(-1, order='F')\nu[1] -= 0.2 * x[1]",
    "u = np.ascontiguousarray({V})\nu[0, 0] += 0.3",
    "u = np.asfortranarray({V})\nu[0, 1] += 0.3",
    "u = {V}.reshape(-1)\nu *= 1.01\ns = s + np.sum(u * u) * 0.01",
    "u = {V}.ravel()\nu[-1] = np.sum(u) * 0.1",
]
_LOOP = [
    "A = A * 0.95",
    "u = A.reshape(-1)\nu[t % A.size] += 0.1 * x[0]",
    "A.T[1] *= 1.05",
    "A[t % A.shape[0]] += 0.2 * x[1]",
    "A += 0.05 * {C}",
    "B = A * 2.0\nv = B.ravel()\nv[t % B.size] *= 1.1\ns = s + np.sum(B * B) * 0.01",
    "np.multiply(A, 0.97, out=A)",
    "A = np.tanh(A) + 0.1 * {C}",
    "w = A.reshape(-1, order='F')\nw[t % A.size] -= 0.05",
    "s = s + np.sum(A * A) * 0.01",
]
_SETUP = ["A = W", "A = W.T", "A = W.copy()", "A = np.copy(W)", "A = W[::-1]",
          "A = W[:, ::-1]", "A = np.asfortranarray(W)", "A = W * 1.0", "A = np.swapaxes(W, 0, 1)"]
_TRANSPOSING_SETUP = {"A = W.T", "A = np.swapaxes(W, 0, 1)"}

W_LAYOUTS = ("C", "F", "reversed", "strided", "transposed", "both")
C_LAYOUTS = ("C", "F", "broadcast")
_RETURN = ("return s + np.sum(np.sin(A) * A) + np.sum(B * np.cos(B)) * 0.1 + "
           "np.sum(W * W) * 0.3 + np.sum(x * x)")


def program(seed):
    """(source, options) of the program for ``seed``."""
    rng = random.Random(seed * 7919 + 13)
    square = rng.random() < 0.3
    setup = rng.choice(_SETUP)
    flipped = setup in _TRANSPOSING_SETUP           # A is W's transpose now
    lines = [setup, "B = A * 1.0", "s = 0.0"]

    def fill(t, in_loop=False):
        nonlocal flipped
        ct = "C.T" if flipped else "C"
        src = t.replace("{C}", ct)
        if "A = A.T" in src and not square and in_loop:
            return None
        if "{V}" in src:
            v = rng.choice(["A", "B"])
            src = src.replace("{V}", v).replace("{K}", str(rng.randrange(12)))
        if src.strip() == "A = A.T":
            flipped = not flipped
        if src.startswith("B = A.T"):
            return src + "\nB = B.T * 1.0"          # (B keeps A's shape: reads below)
        return src

    for _ in range(rng.randint(3, 7)):
        pool = rng.choice((_WRITES, _VALUES, _OBSERVERS, _OBSERVERS))
        s = fill(rng.choice(pool))
        if s is not None:
            lines.append(s)
    loop = rng.random() < 0.4
    if loop:
        body = []
        if not square:
            pool = [t for t in _LOOP if "A.T" not in t or "*=" in t]
        else:
            pool = _LOOP + ["A = A.T"]
        for _ in range(rng.randint(2, 4)):
            s = fill(rng.choice(pool), in_loop=True)
            if s is not None:
                body.append(s)
        if flipped and any("A = A.T" == b for b in body):
            pass
        lines.append("for t in range(n):")
        lines += ["    " + ln for b in body for ln in b.split("\n")]
        for _ in range(rng.randint(0, 2)):
            s = fill(rng.choice(_OBSERVERS + _WRITES))
            if s is not None:
                lines.append(s)
    if any(k in ln for ln in lines for k in ("A = A.T",)) and not square:
        # a transposed A meets C only as C.T: the parity is known per line
        pass
    body = "\n".join("    " + ln for b in lines for ln in b.split("\n"))
    src = f"def f(x, W, C, n):\n{body}\n    {_RETURN}\n"
    opts = {
        "square": square,
        "W": rng.choice(W_LAYOUTS),
        "C": rng.choice(C_LAYOUTS),
        "f32": rng.random() < 0.15,
        "checkpoint": rng.choice((None, "sqrt", "binomial1")) if loop else None,
        "n": rng.choice((1, 2, 3, 5)) if loop else 0,
        "other": rng.choice(W_LAYOUTS),
    }
    return src, opts


_loaded = [0]


def load(src):
    _loaded[0] += 1
    filename = f"<layout13 program {_loaded[0]}>"
    full = "import numpy as np\n\n" + src
    linecache.cache[filename] = (len(full), None, full.splitlines(True), filename)
    mod = types.ModuleType(f"layout13_{_loaded[0]}")
    mod.__file__ = filename
    sys.modules[mod.__name__] = mod
    exec(compile(full, filename, "exec"), mod.__dict__)
    return mod.__dict__["f"], filename


def _in_layout(a, layout):
    """``a``'s values in an array of the given memory layout."""
    if layout == "C":
        return np.ascontiguousarray(a)
    if layout == "F":
        return np.asfortranarray(a)
    if layout == "reversed":
        out = np.empty_like(a, order="C")[::-1]
        out[...] = a
        return out
    if layout == "strided":
        big = np.zeros((a.shape[0], 2 * a.shape[1]), a.dtype)
        out = big[:, ::2]
        out[...] = a
        return out
    if layout == "transposed":
        out = np.empty(a.shape[::-1], a.dtype).T
        out[...] = a
        return out
    if layout == "both":
        out = np.asfortranarray(np.zeros((a.shape[0], a.shape[1] + 1), a.dtype))[::-1, 1:]
        out[...] = a
        return out
    if layout == "broadcast":
        return np.broadcast_to(a[:1], a.shape)
    raise ValueError(layout)


def make_args(seed, opts, layout=None):
    rng = np.random.default_rng(seed)
    shape = (4, 4) if opts["square"] else (3, 4)
    dt = np.float32 if opts["f32"] else np.float64
    x = (rng.normal(size=3) * 0.6).astype(dt)
    W = _in_layout((rng.normal(size=shape) * 0.4).astype(dt), layout or opts["W"])
    C = _in_layout((rng.normal(size=shape) * 0.4).astype(dt), opts["C"])
    return x, W, C, opts["n"]


def _check_call(vg, f, args, what, f32):
    kept = copy.deepcopy(args)
    want = _numpy(f, args)
    fd = differences(f, args, (0, 1), f32=f32)
    got, grads = vg(*args)
    _unchanged(args, kept, what)
    value_close(got, want, what, f32)
    for i, g in zip((0, 1), grads):
        if np.shape(g) != np.shape(args[i]):
            raise Failure(f"{what}: gradient {i} has shape {np.shape(g)}")
        tol = 2e-2 if f32 else 1e-5
        close(g, fd[i], f"{what}: gradient in argument {i}", rtol=tol, atol=tol / 10)


def check_source(src, opts, seed, verbose=False):
    f, filename = load(src)
    args = make_args(seed, opts)
    try:
        _numpy(f, args)
    except Invalid:
        return "invalid"
    kw = {} if not opts["checkpoint"] else {"checkpoint": s2sgrad.Binomial(1)} \
        if opts["checkpoint"] == "binomial1" else {"checkpoint": opts["checkpoint"]}
    try:
        vg = s2sgrad.value_and_grad(f, wrt=(0, 1), **kw)
        _check_call(vg, f, args, f"W {opts['W']}, C {opts['C']}", opts["f32"])
        # the same compiled function, W in another layout
        other = make_args(seed, opts, layout=opts["other"])
        _check_call(vg, f, other, f"then W {opts['other']}", opts["f32"])
    except Invalid:
        return "invalid"
    except Failure:
        raise
    except Exception as exc:                        # noqa: BLE001
        if _is_refusal(exc):
            return _refusal(exc, filename, verbose)
        raise Failure(f"{type(exc).__name__}: {str(exc)[:400]}") from exc
    return "ok"


def check(seed, verbose=False):
    src, opts = program(seed)
    return check_source(src, opts, seed, verbose)


def run(lo, hi, verbose=False):
    counts, fails = {}, []
    for s in range(lo, hi):
        try:
            res = check(s, verbose)
        except Failure as exc:
            res = "fail"
            fails.append(s)
            print(f"{s}: {str(exc)[:600]}", flush=True)
        if verbose:
            print(s, res, flush=True)
        counts[res] = counts.get(res, 0) + 1
        if (s - lo + 1) % 100 == 0:
            print(s + 1, counts, flush=True)
    return counts, fails


if __name__ == "__main__":
    if sys.argv[1] == "show":
        for a in sys.argv[2:]:
            src, opts = program(int(a))
            print(f"# seed {a}: {opts}\n{src}")
    else:
        counts, fails = run(int(sys.argv[1]), int(sys.argv[2]), verbose="-v" in sys.argv)
        print({k: counts.get(k, 0) for k in ("ok", "refused", "invalid", "fail")})
        print("failing seeds:", fails)
