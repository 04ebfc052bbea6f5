"""Differential checks for what trust4..12 did not generate (trust13; not a
test module).

Five families of random programs (``seed % 5``), each a module whose
``f(x, W, ...)`` writes in place into its arguments, their views and its
own temporaries:

* ``dataflow``: Python control flow decided by data (``if float(x.sum()) >
  0``, ``bool(np.any(...))``, ``while`` loops with tolerances, a name bound
  to one view or another by a conditional expression) mixed with in-place
  writes through views; checked at several points, which take different
  branches.
* ``hloops``: loops carrying a view of ``W`` rebound and written through
  (``A = A.T``, ``A = A[::-1]``, ``A[0] *= ...``), with the trip count a
  Python int or a NumPy int, a data-dependent ``break``; second order:
  ``hessian``, ``jacobian(grad(f))`` in forward and reverse mode, ``hvp``,
  ``jvp(grad(f))`` against central differences of the (checked) gradient.
* ``outviews``: ``out=`` of ufuncs and reductions into views and slices
  (overlapping their inputs too), ``np.add.at``/``subtract.at``,
  ``np.put``/``np.place``/``np.putmask``/``np.copyto(where=)`` on views,
  integer index writes with repeated indices (``W[[0, 0]] += v``: once)
  and boolean-mask writes.
* ``cells``: nested functions and lambdas capturing arrays that are written
  later, closures writing into captured arrays, lists/dicts/tuples/a
  dataclass holding views written through; a module global array read by
  ``f`` written in place and rebound between calls (the compiled function
  must read it as it is at each call).
* ``dtypes``: float32 arrays with Python floats, NumPy scalars and 0-d
  arrays (NEP 50 promotion), 0-d views (``W[1, 1, ...]``) against NumPy
  scalars (``W[1, 1]``) written in place, int arrays, and a second program
  of edge values (0, -0.0, inf, nan at kinks of ``abs``/``maximum``/
  ``fmax``/``clip``/``where``/``sign``/``sqrt``): the value must equal
  NumPy's bit for bit (NaN where NumPy's is, the sign of a zero) and have
  its dtype.

Every call's value is compared with plain NumPy (the user's function run on
copies, tests/trust12_harness.fresh), its gradient with central differences
at two steps (where they disagree the point is not smooth: 'invalid'), and
the caller's arguments must be unchanged.  A program s2sgrad refuses (an
:class:`S2SGradError`, or a run-time ``ValueError('s2sgrad: ...')``) counts
as 'refused' (``-v`` prints why); a refusal must name the program's file
and line.  One NumPy rejects (or that warns) is 'invalid'.  A wrong number
is a :class:`Failure`.

    PYTHONPATH=. nice -n 10 python -m tests.trust13_harness 0 500 [-v]
    PYTHONPATH=. python -m tests.trust13_harness show SEED
"""
from __future__ import annotations

import copy
import linecache
import random
import sys
import types
import warnings

import numpy as np

import s2sgrad
from tests.trust12_harness import (Failure, Invalid, _is_refusal, _numpy, _unchanged, close,
                                   differences, fresh, value_close)
from s2sgrad.errors import S2SGradError

FAMILIES = ("dataflow", "hloops", "outviews", "cells", "dtypes")


# ------------------------------------------------------------------ fragments
# (x: (3,) float64, W: (3, 3) float64, s: a running float)

_DATAFLOW = [
    "if float(x.sum()) > 0:\n    W[0] += x\nelse:\n    W[:, 0] -= x",
    "k = 0\nwhile float(np.abs(x).max()) > 0.3 and k < 5:\n    x = x * 0.7\n    k += 1",
    "r = W[1]\nif np.sum(r) > 0.0:\n    r *= 1.5\ns = s + np.sum(r * x)",
    "v = W.T[::-1]\nif bool(np.any(x > 0.5)):\n    v[0] = x\nelse:\n    v[1] += 0.5 * x",
    "err = 1.0\nz = x * 1.0\nit = 0\nwhile err > 1e-3 and it < 20:\n"
    "    zn = 0.5 * (z + np.cos(z) * 0.5)\n    err = float(np.max(np.abs(zn - z)))\n"
    "    z = zn\n    it += 1\ns = s + np.sum(z * W[0])",
    "for t in range(3):\n    if W[t, t] > 0:\n        W[t] *= 0.9\n    else:\n"
    "        W[t, ::-1] += x * 0.1",
    "u = W.reshape(9)\nif float(u[4]) < 0:\n    u[4] = -u[4]\nelse:\n    u[::4] *= 1.1",
    "A = W if float(x[0]) > 0 else W.T\nA[1] += x",
    "A = W[0] if np.sum(W[0]) > np.sum(W[1]) else W[1]\nA *= np.cos(x)",
    "x = x.copy()\nif np.sum(x) < 0:\n    x[::-1] = x\ns = s + np.sum(x * W[2])",
    "m = float(np.max(x))\ny = x * 1.0\nif m > 0.2:\n    y[x > 0.2 * m] *= 2.0\n"
    "s = s + np.sum(y ** 2 * W[1])",
    "tol = 1e-2\ny = W[2] * 1.0\nwhile float(np.linalg.norm(y)) > tol:\n    y *= 0.5\n"
    "    W[2] -= 0.1 * y\n    if np.sum(y) > 10.0:\n        break",
    "if x[1] > x[2]:\n    x = x[::-1]\nx[0] = x[0] * W[0, 0]",
    "c = 0.0\nfor i in range(3):\n    if float(x[i]) > c:\n        c = float(x[i])\n"
    "W[1, 1] = W[1, 1] + c\ns = s + c",
    "sgn = 1.0 if np.sum(W) > 0 else -1.0\nW *= sgn\ns = s + sgn * np.sum(x * x)",
    "A = W[::-1] if x[1] > 0 else W[:, ::-1]\nnp.multiply(A, 1.1, out=A)",
    "A = W.T if float(np.sum(x)) > 0 else W\nB = A[1:]\nB[0] += x\ns = s + np.sum(A * A)",
    "A = W[0] if x[0] > 0 else W[2]\nu = A.reshape(3, 1)\nu[1] = 2.0 * x[1]",
    "A = W if x[0] > 0 else W[::-1]\nfor t in range(2):\n    A[t] *= 0.5 + x",
    "A = W[1] if x[0] > 0 else W.T[1]\nW[1, 1] = 3.0 * x[2]\ns = s + np.sum(A * x)",
    "if x[0] > 0:\n    A = W[0]\n    B = W[1]\nelse:\n    A = W[1]\n    B = W[0]\nA += x\nB *= 2.0",
    "A = W[0] if x[0] > 0 else W[0, ::-1]\nA[:] = np.sort(A)",
    "A = W[2] if x[2] > 0 else W[:, 2]\nA[...] = np.cumsum(A * x)\ns = s + np.sum(A)",
]

_RETURN = "return s + np.sum(np.sin(W) * W) + np.sum(x ** 2 * np.cos(x)) + np.sum(W @ x) * 0.3"

_HLOOP_INIT = ["A = W", "A = W[::-1]", "A = W.T", "A = W * 1.0", "A = W[:, ::-1]"]
_HLOOP_BODY = [
    "A = A.T", "A = A[::-1]", "A = A[:, ::-1]",
    "A[0] *= 1.0 + 0.3 * np.sin(x)", "A[:, 1] = np.tanh(A[:, 1] + x)",
    "A += 0.1 * np.outer(x, x)", "u = A.ravel()\nu[::4] *= 0.9",
    "B = A.T\nB[2] -= 0.2 * x * x", "np.multiply(A, 0.9, out=A)",
    "s = s + np.sum(A[1] * np.cos(x))", "A = A * 1.0\nA[1] = A[1] * x",
    "if np.sum(A) > 2.5:\n    break", "A[::2] += 0.05 * np.exp(x)",
]
_HRETURN = "return s + np.sum(A * np.sin(W)) + np.sum(A ** 2) * 0.3 + np.sum(A[0] * x * x)"

_OUTVIEWS = [
    "np.add(x, W[0], out=W[1])",
    "np.multiply(W[:, 0], x, out=W[:, 2])",
    "np.sum(W, axis=0, out=W[2])",
    "np.cumsum(x, out=W[0])",
    "np.sin(W[::-1, 0], out=W[:, 1])",
    "np.add.at(W, ([0, 0, 2], [1, 1, 0]), x)",
    "np.add.at(W[1:], [0, 0, 1], x)",
    "np.put(W[0], [0, 2, 0], x)",
    "np.place(W[2], W[2] > 0, x[:1] * 2.0)",
    "np.putmask(W.T[0], W.T[0] < 0, x)",
    "np.copyto(W[1], x * 2.0, where=x > 0)",
    "W[[0, 0, 2]] += x",
    "W[[1, 1], [0, 0]] = x[:2]",
    "W[W > 0.3] *= 0.5",
    "x[[2, 0, 2]] -= W[0]",
    "np.subtract.at(x, [1, 1, 1], W[2])",
    "v = W[:, ::2]\nnp.multiply(v, 1.5, out=v)",
    "np.matmul(W, x, out=W[2])",
    "np.negative(x[::-1], out=x)",
    "np.add(x[:-1], x[1:], out=x[1:])",
    "np.mean(W, axis=1, out=x)",
    "np.tanh(W.T, out=W)",
    "y = np.empty(3)\nnp.multiply(x, W[1], out=y)\ns = s + np.sum(y * y)",
    "np.maximum(W[0], x * 0.5, out=W[0])",
    "np.copyto(W.T[::-1], W * 0.5)",
    "idx = np.array([2, 2, 1])\nW[idx, idx] *= np.exp(x)",
    "np.multiply.at(x, [0, 0], 1.5)",
    "np.prod(W, axis=1, out=x)",
    "np.clip(W, -0.3, 0.3, out=W)",
    "np.divide(W, 2.0, out=W, where=W > 0)",
    "np.sum(W, axis=1, keepdims=True, out=W[:, :1])",
    "W[..., None][1, :, 0] = x",
    "W[None, ::-1][0, 0] += x",
    "x[...] = x[::-1] * W[1]",
    "W[:, [2, 0]] = W[:, [0, 2]]",
    "W[[0, 2]] = W[[2, 0]] * 0.5",
    "W.flat[[0, 4, 8]] = x",
    "np.put(W, [1, 1, 5], x, mode='clip')",
    "np.add(W, W.T, out=W)",
    "np.cumprod(W[0], out=W[1])",
    "np.exp(W.ravel()[::2] * 0.1, out=W.ravel()[1::2][:4].copy())\ns = s + np.sum(W)",
    "v = W.diagonal()\ns = s + np.sum(v * x)\nW[1, 1] = 2.0\ns = s + np.sum(v)",
    "np.fill_diagonal(W, x)",
    "W[1:, 1:] = W[:-1, :-1]",
    "x[1:] = x[:-1]",
]

_CELLS = [
    "def g(v):\n    return np.sum(v * W)\nW[0] += x\ns = s + g(x)",
    "def scale(c):\n    W[1] *= c\nscale(1.5)\nscale(float(x[0]) * 0.5 + 1.0)",
    "fs = [lambda v, k=k: np.sum(W[k] * v) for k in range(3)]\nW[2] = x\n"
    "s = s + sum(f_(x) for f_ in fs)",
    "L = [W[0], W[1:]]\nL[0] += x\nL[1][:, 0] *= 2.0",
    "d = {'a': W.T, 'b': x}\nd['a'][0] += d['b']\ns = s + np.sum(d['a'] ** 2)",
    "t = (W[::2], x)\nt[0][1] -= t[1]",
    "bx = Box(W[1], x[::-1])\nbx.a += bx.b\ns = s + np.sum(bx.a * bx.b)",
    "acc = []\nfor r in W:\n    acc.append(r)\nacc[0][...] = x\nacc[2] *= 0.5",
    "h = lambda: np.sum(W * W)\nW *= 0.5\ns = s + h()",
    "def inner():\n    nonlocal s\n    s = s + np.sum(W[0] * x)\nW[0] = np.sin(x)\ninner()",
    "s = s + np.sum(G * x)\nG2 = G * 1.0\nG2[0] += x[1]\ns = s + np.sum(G2 ** 2)",
    "def mk(a):\n    def read():\n        return np.sum(a * x)\n    return read\nrd = mk(W[2])\n"
    "W[2] *= 1.5\ns = s + rd()",
    "d = dict(w=W)\nd['w'] = d['w'][::-1]\nd['w'][0] = x",
    "ps = [x, W[0]]\nfor p in ps:\n    p *= 1.1\ns = s + np.sum(ps[0] * ps[1])",
    "def upd(M, v):\n    M[...] = M * 0.5 + np.outer(v, v)\n    return M\nR = upd(W, x)\nR[0] += 1.0",
    "bx = Box(W, x)\nbx.a = bx.a.T\nbx.a[0] *= 2.0\ns = s + np.sum(bx.a * W)",
    "def mk(a):\n    return [lambda: np.sum(a[0] * x), lambda: np.sum(a[1] ** 2)]\n"
    "fs = mk(W[::-1])\nW[2] += x\ns = s + fs[0]() + fs[1]()",
    "def pair(a):\n    def get():\n        return a\n    def put(v):\n        a[...] = v\n"
    "    return get, put\ngt, pt = pair(W[1])\npt(x * 2.0)\ns = s + np.sum(gt() * x)\n"
    "W[1] *= 0.5\ns = s + np.sum(gt())",
    "def mk(a):\n    return lambda v: np.sum(a * v)\nrd = mk(W.T)\nW[0] = x\n"
    "s = s + rd(W)",
    "cache = {}\ndef get(k):\n    if k not in cache:\n        cache[k] = W[k]\n"
    "    return cache[k]\nget(0)[1] = x[0]\nW[0] *= 2.0\ns = s + np.sum(get(0) * x)",
    "def acc(v, out):\n    out += v\n    return out\nr = acc(x, W[2])\nr *= 0.5",
    "st = [W[0] * 1.0]\ndef push():\n    st.append(st[-1] * x)\npush()\npush()\n"
    "s = s + np.sum(st[-1])",
]

_DTYPES = [
    "y = x32 * 0.1 + 1e-3\ns = s + np.sum(y * x32)",
    "y = x32 * np.float64(0.1)\ns = s + np.sum(y)",
    "y = x32 + np.array(0.5)\ns = s + np.sum(y * y)",
    "c = np.array(0.5)\nc += x[0]\ns = s + c * np.sum(x)",
    "c = np.float64(0.5)\nc += x[0]\ns = s + c * np.sum(x)",
    "c = W[1, 1, ...]\nc += x[0]",
    "c = W[1, 1]\nc += x[0]\ns = s + c * 0.5",
    "c = W[0:1, 0]\nc *= 2.0",
    "z = np.zeros(3, dtype=np.int64)\nz[0] = 2\ns = s + np.sum(x * z)",
    "z = np.arange(3)\ny = x ** z\ns = s + np.sum(y)",
    "b = x > 0\ns = s + np.sum(x * b) + np.sum(b)",
    "y = x32.astype(np.float64)\ny[0] += W[0, 0]\ns = s + np.sum(y * x)",
    "q = np.float32(2.0) * x\ns = s + np.sum(q)",
    "y = np.zeros(3, dtype=np.float32)\ny += x\ns = s + np.sum(y * 0.5)",
    "y = np.zeros(3, dtype=np.float32)\ny[:] = x * 2.0\ns = s + np.sum(y)",
    "h16 = np.float16(1.5) * np.float16(2.0)\ns = s + h16 * np.sum(x)",
    "e = np.array([1, 2, 3])\ne = e * 0.5\ne[0] = x[1]\ns = s + np.sum(e * x)",
    "c = np.array(1.5)\nc *= np.sum(W[0])\nW[0, 0] = c",
]

_EDGE_ATOMS = [
    "np.abs(x)", "np.maximum(x, 0.0)", "np.minimum(x, -0.0)", "np.fmax(x, 0.5)",
    "np.fmin(x, -0.5)", "np.clip(x, -1.0, 1.0)", "np.where(x > 0, x, 0.0)", "np.sign(x)",
    "np.sqrt(np.abs(x))", "np.maximum(x, x[::-1])", "np.copysign(1.0, x)", "x * 0.0",
    "np.abs(x) * x", "np.negative(x)", "np.minimum(np.maximum(x, -2.0), 2.0)",
    "np.where(x >= 0, x * 2.0, -x)", "np.exp(-np.abs(x))", "np.tanh(x)", "x - x",
    "np.nan_to_num(x, nan=0.0, posinf=1.0, neginf=-1.0)", "np.hypot(x, 0.0)",
]
_EDGE_VALUES = (0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 2.0)


def _body(lines):
    return "".join("    " + ln + "\n" for chunk in lines for ln in chunk.split("\n"))


def _loop_body(lines):
    return "".join("        " + ln + "\n" for chunk in lines for ln in chunk.split("\n"))


_HEADER = ("import dataclasses\nimport numpy as np\nimport s2sgrad\n\n\n"
           "@dataclasses.dataclass\nclass Box:\n    a: np.ndarray\n    b: np.ndarray\n\n\n"
           "G = np.array([0.5, -0.25, 1.0])\n\n\n")


def program(seed):
    """(family, source, options)."""
    r = random.Random(seed)
    fam = FAMILIES[seed % len(FAMILIES)]
    opts = {}
    if fam == "dataflow":
        lines = ["s = 0.0"] + [r.choice(_DATAFLOW) for _ in range(r.randint(2, 4))]
        src = "def f(x, W):\n" + _body(lines + [_RETURN])
    elif fam == "hloops":
        body = [r.choice(_HLOOP_BODY) for _ in range(r.randint(2, 4))]
        if not any(b.startswith("A = A") for b in body):
            body.insert(r.randint(0, len(body)), r.choice(_HLOOP_BODY[:3]))
        src = ("def f(x, W, n):\n    s = 0.0\n    " + r.choice(_HLOOP_INIT) +
               "\n    for t in range(n):\n" + _loop_body(body) + "    " + _HRETURN + "\n")
        opts["n"] = r.choice([2, 3, "np.int64(2)", "np.int64(3)", 0])
    elif fam == "outviews":
        lines = ["s = 0.0"] + [r.choice(_OUTVIEWS) for _ in range(r.randint(2, 4))]
        src = "def f(x, W):\n" + _body(lines + [_RETURN])
    elif fam == "cells":
        lines = ["s = 0.0"] + [r.choice(_CELLS) for _ in range(r.randint(1, 3))]
        src = "def f(x, W):\n" + _body(lines + [_RETURN + " + np.sum(G * W[1])"])
    else:
        if r.random() < 0.6:
            lines = ["s = 0.0", "x32 = x.astype(np.float32)"] + \
                [r.choice(_DTYPES) for _ in range(r.randint(2, 4))]
            src = "def f(x, W):\n" + _body(lines + [_RETURN])
        else:
            atoms = [r.choice(_EDGE_ATOMS) for _ in range(r.randint(2, 4))]
            coefs = [r.choice(["1.0", "0.5", "-2.0", "3"]) for _ in atoms]
            ret = " + ".join(f"{c} * np.sum({a})" for c, a in zip(coefs, atoms))
            write = r.choice(["", "x = x.copy()\n    x[::2] *= -1.0\n    ",
                              "np.negative(x[1:2], out=x[1:2])\n    "])
            src = f"def f(x, W):\n    {write}return {ret} + np.sum(W * 0.0)\n"
            opts["edge"] = [r.choice(_EDGE_VALUES) for _ in range(3)]
    return fam, src, opts


_loaded = [0]


def load(src):
    _loaded[0] += 1
    filename = f"<trust13 program {_loaded[0]}>"
    full = _HEADER + src
    linecache.cache[filename] = (len(full), None, full.splitlines(True), filename)
    mod = types.ModuleType(f"trust13_{_loaded[0]}")
    mod.__file__ = filename
    sys.modules[mod.__name__] = mod
    exec(compile(full, filename, "exec"), mod.__dict__)
    return mod.__dict__, filename


def _refusal(exc, filename, verbose):
    """A refusal must name the program's line (the program's file)."""
    msg = str(exc)
    if isinstance(exc, S2SGradError) and "<trust13" not in msg and filename not in msg:
        if type(exc).__name__ not in ("InputError", "SharedArgumentsError", "DataRefusedError",
                                      "OutputTypeError", "OutputError"):
            raise Failure(f"refusal without the program's line: {msg[:300]}")
    if verbose:
        print("  refused:", msg[:300])
    return "refused"


def _point(seed, k=0):
    rng = np.random.default_rng(seed * 7 + k)
    return rng.normal(size=3) * 0.6, rng.normal(size=(3, 3)) * 0.4


def _first(f, args, what, wrts=(0, 1), vg=None, ref=None):
    """value_and_grad at args against NumPy and differences (of ``ref``,
    the program with its float32 intermediates float64, if given: those of a
    float32 computation are rounding noise)."""
    kept = copy.deepcopy(args)
    want = _numpy(f, args)
    fd = differences(ref or f, args, wrts)
    tol = 1e-5 if ref is None else 2e-4
    got, grads = (vg or s2sgrad.value_and_grad(f, wrt=wrts))(*args)
    _unchanged(args, kept, what)
    value_close(got, want, what)
    for i, g in zip(wrts, grads):
        if np.shape(g) != np.shape(args[i]):
            raise Failure(f"{what}: gradient {i} has shape {np.shape(g)}, argument "
                          f"{np.shape(args[i])}")
        close(g, fd[i], f"{what}: gradient in argument {i}", rtol=tol, atol=tol / 10)
    return want, grads


def _points_first(f, seed, kinds=("C", "F", "C", "rev"), ref=None):
    """_first at several points (other branches) and layouts of W, through
    one compiled value_and_grad; 'ok' if any point was smooth."""
    vg = s2sgrad.value_and_grad(f, wrt=(0, 1))
    ok = False
    for k, kind in enumerate(kinds):
        x, W = _point(seed, k)
        if kind == "F":
            W = np.asfortranarray(W)
        elif kind == "rev":
            W = W[::-1]
        if k == 2:
            x, W = -x, -W
        try:
            _first(f, (x, W), f"point {k} ({kind})", vg=vg, ref=ref)
            ok = True
        except Invalid:
            continue
    if not ok:
        raise Invalid
    return "ok"


def _hloops(ns, seed, opts):
    f = ns["f"]
    n = eval(str(opts["n"]), {"np": np})
    x, W = _point(seed)
    args = (x, W, n)
    _, (gx, gW) = _first(f, args, f"n={n!r}")
    g = s2sgrad.grad(f)

    def g_np(x_, W_, n_):
        return g(x_, W_, n_)
    Hfd = differences(g_np, args, (0,))[0]
    close(s2sgrad.hessian(f)(*args), Hfd, "hessian", rtol=1e-5, atol=1e-6)
    for mode in ("forward", "reverse"):
        J = s2sgrad.jacobian(s2sgrad.grad(f), mode=mode)(*args)
        close(J, Hfd, f"jacobian(grad(f), mode={mode!r})", rtol=1e-5, atol=1e-6)
    v = np.random.default_rng(seed + 1).normal(size=3)
    close(s2sgrad.hvp(f)(args, v), Hfd @ v, "hvp", rtol=1e-5, atol=1e-6)
    _, tg = s2sgrad.jvp(s2sgrad.grad(f))(args, (v,))
    close(tg, Hfd @ v, "jvp(grad(f))", rtol=1e-5, atol=1e-6)
    # the other trip counts through the same compiled function
    vg = s2sgrad.value_and_grad(f, wrt=(0, 1))
    for k, m in enumerate((0, 1, 3, np.int64(1), np.int64(4))):
        try:
            _first(f, _point(seed, k + 1) + (m,), f"n={m!r}", vg=vg)
        except Invalid:
            pass
    return "ok"


def _cells(ns, seed):
    f = ns["f"]
    res = _points_first(f, seed, kinds=("C", "F"))
    # the module global read by f, written in place and then rebound
    vg = s2sgrad.value_and_grad(f, wrt=(0, 1))
    G = ns["G"]
    G *= -1.5
    _first(f, _point(seed, 5), "after G was written in place", vg=vg)
    ns["G"] = np.array([2.0, 0.5, -1.0])
    _first(f, _point(seed, 6), "after G was rebound", vg=vg)
    return res


def _same_bits(got, want, what):
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape or got.dtype != want.dtype:
        raise Failure(f"{what}: {got!r} ({got.dtype}) vs NumPy {want!r} ({want.dtype})")
    nan = np.isnan(got) & np.isnan(want)
    same = (got == want) | nan
    # (the sign of a zero is NumPy's; a NaN's sign bit is not a number)
    if not np.all(same) or not np.array_equal(np.signbit(got) & ~nan, np.signbit(want) & ~nan):
        raise Failure(f"{what}: value {got!r} vs NumPy {want!r}")


def _edge(ns, seed, opts):
    f = ns["f"]
    x = np.array(opts["edge"], dtype=np.float64)
    W = np.ones((3, 3)) * 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = f(fresh(x), fresh(W))
        kept = x.copy()
        got = s2sgrad.value_and_grad(f)(x, W)[0]
        if not np.array_equal(x, kept, equal_nan=True):
            raise Failure("edge values: an argument was modified")
        _same_bits(got, want, f"edge values {opts['edge']}")
        # float32 in: the value's dtype and bits are NumPy's
        x32 = x.astype(np.float32)
        _same_bits(s2sgrad.value_and_grad(f)(x32, W)[0], f(x32.copy(), W.copy()),
                   f"edge values {opts['edge']} (float32)")
    # and at a smooth point the gradient
    return _points_first(f, seed, kinds=("C",))


def check_source(fam, src, opts, seed, verbose=False):
    """'ok', 'refused', 'invalid' or raises Failure."""
    filename = None
    try:
        ns, filename = load(src)
        if fam == "hloops":
            return _hloops(ns, seed, opts)
        if fam == "cells":
            return _cells(ns, seed)
        if fam == "dtypes" and "edge" in opts:
            return _edge(ns, seed, opts)
        ref = None
        if fam == "dtypes" and "float32" in src:
            ref = load(src.replace("np.float32", "np.float64"))[0]["f"]
        return _points_first(ns["f"], seed, ref=ref)
    except Invalid:
        return "invalid"
    except Failure:
        raise
    except Exception as exc:            # noqa: BLE001
        if _is_refusal(exc):
            return _refusal(exc, filename or "<trust13", verbose)
        raise Failure(f"crash: {type(exc).__name__}: {exc}"[:600]) from exc


def check(seed, verbose=False):
    fam, src, opts = program(seed)
    return check_source(fam, src, opts, seed, verbose)


def run(lo, hi, verbose=False):
    counts, fails = {}, []
    for s in range(lo, hi):
        try:
            res = check(s, verbose)
        except Failure as exc:
            res = "fail"
            fails.append(s)
            print(f"{s} ({program(s)[0]}): {str(exc)[:600]}", flush=True)
        if verbose:
            print(s, program(s)[0], res, flush=True)
        counts[res] = counts.get(res, 0) + 1
        if (s - lo + 1) % 100 == 0:
            print(s + 1, counts, flush=True)
    return counts, fails


if __name__ == "__main__":
    if sys.argv[1] == "show":
        for a in sys.argv[2:]:
            fam, src, opts = program(int(a))
            print(f"# seed {a}: {fam} {opts}\n{src}")
    else:
        counts, fails = run(int(sys.argv[1]), int(sys.argv[2]), verbose="-v" in sys.argv)
        print(counts)
        print("failing seeds:", fails)
