"""Differential checks for what trust4..9 did not generate (trust10; not a
test module).

Seven families of random programs (``seed % 7``):

* ``higher``: a smooth ``f(x, W)``; its Hessian (``hessian``), the
  Jacobian of its compiled gradient (``jacobian(grad(f))``), forward over
  reverse (``jvp(grad(f))``, ``hvp``) against central differences of the
  (checked) gradient, and the gradient of a user function that calls the
  compiled gradient (``np.sum(g(x, W) ** 2)``: reverse over reverse), with
  ``has_aux`` returning a dict/list/tuple of intermediates, ``wrt=(0, 1)``
  and ``W`` passed by keyword.
* ``kinks``: ``sum(c_i * atom_i(x))`` of abs/maximum/minimum/clip/where/
  max/min/sort/argmax/norm(1, inf)/ptp at points with exact zeros and ties;
  the value must equal NumPy's exactly and the gradient the documented
  subgradient (README "Subgradients"), computed here independently; reverse
  and forward mode must agree; a second call at a smooth point.
* ``methods``: array methods (``sum(axis=)``, ``.T``, ``reshape(-1)``,
  ``astype``, ``copy``, ``clip``, ``dot``, ``diagonal``, ``sort``, ...)
  mixed with in-place ops through the views they return.
* ``control``: ``break``/``continue``/early ``return`` in loops, ``while``
  loops with data-dependent trip counts, recursion whose depth is a Python
  int, nested helpers and closures (with defaults).
* ``dtypes``: 0-d and empty arrays, shape (1,) broadcasting, float32 with
  float64 constants, int/bool arrays with floats, NumPy scalar kinds,
  complex intermediates; the value's dtype must be NumPy's; the second call
  passes ``x`` as float32.
* ``layouts``: chains of layout changes (``.T``, ``[::-1]``,
  ``swapaxes``, ``asfortranarray``, reshapes) and writes through views and
  through reshapes that NumPy makes views or copies by the strides, with
  an F-ordered argument too (differences keep its layout).
* ``trees``: namedtuple/dict/list parameters with float32, 0-d and Python
  float leaves, a dataclass and a dict of settings passed as data (by
  keyword), aux containers; the gradient keeps the parameters' structure.

Every call's value is compared with plain NumPy (the user's function run on
copies), its gradient with central differences at two steps (where they
disagree the point is not smooth: 'invalid'), the arguments must be
unchanged, and the function is called again at another point after a
module global changed (cached fast path, guards).  A program s2sgrad refuses
(an :class:`S2SGradError`) counts as 'refused' (``-v`` prints why).

    PYTHONPATH=. nice -n 10 python -m tests.trust10_harness 0 600 [-v]
    PYTHONPATH=. python -m tests.trust10_harness show SEED
"""
from __future__ import annotations

import collections
import copy
import dataclasses
import linecache
import random
import sys
import types
import warnings

import numpy as np

import s2sgrad
from s2sgrad import S2SGradError
from tests.trust8_harness import _get, _paths, _set   # (the leaf walk of a tree of arguments)

FAMILIES = ("higher", "kinks", "methods", "control", "dtypes", "trees", "layouts")


class Failure(AssertionError):
    pass


class Invalid(Exception):
    pass


def _body(lines, indent="    "):
    return "".join(indent + ln.replace("\n", "\n" + indent) + "\n" for ln in lines)


# ------------------------------------------------------------------ higher

_SMOOTH = ["np.sum(np.tanh(W @ x) ** 2)", "np.sum(x ** 3) * G", "np.sum(np.sin(x) * W[0])",
           "np.log(1.0 + np.sum(x * x))", "np.sum(np.exp(0.3 * x) * (W @ x))",
           "x @ W @ x", "np.sum(1.0 / (1.0 + np.exp(-(W.T @ x))))", "np.prod(x + 2.0)",
           "np.sum(np.cos(W * x) ** 2)", "np.sqrt(1.0 + np.sum(W ** 2) * x[0] ** 2)",
           "np.max(W @ x + np.arange(3) * 10.0)", "np.sum(np.outer(x, x) * W)",
           "np.linalg.norm(x + 1.5)", "np.sum(x / (1.5 + np.cos(x)))"]


def _higher(r):
    terms = r.sample(_SMOOTH, r.randint(1, 3))
    lines = [f"t{i} = {t}" for i, t in enumerate(terms)]
    lines.append("loss = " + " + ".join(f"t{i}" for i in range(len(terms))))
    aux = r.choice([None, "{'t0': t0, 'x': x}", "[t0, (W @ x, x)]", "(x * 2.0, {'n': t0})"])
    lines.append(f"return loss, {aux}" if aux else "return loss")
    src = "G = 0.7\n\ndef f(x, W):\n" + _body(lines)
    src += ("\n_gf = s2sgrad.grad(f, wrt=0" + (", has_aux=True" if aux else "") + ")\n\n"
            "def f2(x, W):\n    gx = _gf(x, W)" + ("[0]" if aux else "") +
            "\n    return np.sum(gx * gx) + np.sum(gx * x)\n")
    return src, {"aux": bool(aux)}


# ------------------------------------------------------------------ kinks


def _split(mask):
    mask = np.asarray(mask, dtype=float)
    return mask / mask.sum()


def _d_max_rev(x):
    xr = x[::-1]
    a = np.where(x > xr, 1.0, np.where(x == xr, 0.5, 0.0))
    return a + (1.0 - a)[::-1]


def _first(mask):
    out = np.zeros(mask.shape)
    out[np.flatnonzero(mask)[0]] = 1.0
    return out


def _last(mask):
    out = np.zeros(mask.shape)
    out[np.flatnonzero(mask)[-1]] = 1.0
    return out


def _d_colmax(x, fn):
    X = x.reshape(2, 3)
    m = fn(X, axis=0)
    mask = (X == m).astype(float)
    return (mask / mask.sum(axis=0)).ravel()


# (expression in x, derivative of np.sum(expression) by the documented rules)
_ATOMS = [
    ("np.abs(x)", lambda x: np.sign(x)),
    ("np.maximum(x, 0.0)", lambda x: np.where(x > 0, 1.0, np.where(x == 0, 0.5, 0.0))),
    ("np.minimum(x, 0.0)", lambda x: np.where(x < 0, 1.0, np.where(x == 0, 0.5, 0.0))),
    ("np.fmax(0.0, x)", lambda x: np.where(x > 0, 1.0, np.where(x == 0, 0.5, 0.0))),
    ("np.maximum(x, x[::-1])", _d_max_rev),
    ("np.clip(x, -0.5, 0.5)", lambda x: ((x >= -0.5) & (x <= 0.5)).astype(float)),
    ("x.clip(0.0, 1.0)", lambda x: ((x >= 0.0) & (x <= 1.0)).astype(float)),
    ("np.where(x > 0, x, 0.0)", lambda x: (x > 0).astype(float)),
    ("np.where(x >= 0, x * x, -x)", lambda x: np.where(x >= 0, 2 * x, -1.0)),
    ("np.max(x)", lambda x: _split(x == x.max())),
    ("np.min(x)", lambda x: _split(x == x.min())),
    ("x.max()", lambda x: _split(x == x.max())),
    ("np.amax(np.abs(x))", lambda x: np.sign(x) * _split(np.abs(x) == np.abs(x).max())),
    ("np.sort(x)[-1]", lambda x: _last(x == x.max())),
    ("np.sort(x)[0]", lambda x: _first(x == x.min())),
    ("x[np.argmax(x)]", lambda x: _first(x == x.max())),
    ("x[np.argmin(x)]", lambda x: _first(x == x.min())),
    ("np.abs(x) ** 2", lambda x: 2 * x),
    ("np.sign(x) * x", lambda x: np.sign(x)),
    ("np.linalg.norm(x, 1)", lambda x: np.sign(x)),
    ("np.linalg.norm(x, np.inf)",
     lambda x: np.sign(x) * _split(np.abs(x) == np.abs(x).max())),
    ("np.heaviside(x, 0.5) * x", lambda x: np.heaviside(x, 0.5)),
    ("np.maximum(x, 0.0) ** 2", lambda x: 2 * np.maximum(x, 0.0)),
    ("np.ptp(x)", lambda x: _split(x == x.max()) - _split(x == x.min())),
    ("np.max(x.reshape(2, 3), axis=0)", lambda x: _d_colmax(x, np.max)),
    ("np.min(x.reshape(2, 3), axis=0)", lambda x: _d_colmax(x, np.min)),
    ("np.maximum(x, 0.0) * 2.0 - np.abs(x)",
     lambda x: 2 * np.where(x > 0, 1.0, np.where(x == 0, 0.5, 0.0)) - np.sign(x)),
    ("np.sum(np.abs(x)) * np.max(x)", None),        # product: checked by forward mode only
    ("np.where(x > 0, np.sqrt(np.abs(x)), 0.0)",
     # (at 0: 0 * sqrt's inf, NaN, as JAX/autograd/torch; not smooth there)
     lambda x: np.where(x > 0, 0.5 / np.sqrt(np.where(x > 0, x, 1.0)),
                        np.where(x == 0, np.nan, 0.0))),
    ("np.where(x == 0, 0.0, x * np.log(np.abs(x) + (x == 0)))",
     lambda x: np.where(x == 0, 0.0, np.log(np.abs(x) + (x == 0)) + 1.0)),
    ("np.maximum(np.abs(x), 0.5)",
     lambda x: np.sign(x) * np.where(np.abs(x) > 0.5, 1.0, np.where(np.abs(x) == 0.5, 0.5, 0.0))),
    ("np.minimum(x, x)", lambda x: np.ones_like(x)),
    ("np.maximum(x, x[0])", None),
    ("np.sort(np.abs(x))[-2:]", None),
    ("np.clip(x, 0.0, 0.0)", lambda x: (x == 0).astype(float)),
    ("np.abs(np.abs(x) - 0.5)", lambda x: np.sign(np.abs(x) - 0.5) * np.sign(x)),
    ("np.max(np.stack([x, -x, 0.5 * x]), axis=0)", None),
    ("np.nanmax(x)", lambda x: _split(x == x.max())),
    ("np.median(x)", None),
    ("np.where(x < 0.25, x, 0.25) * np.abs(x)", None),
    ("np.max(np.abs(x) * 2.0) + np.min(-np.abs(x))", None),
]

_KINK_VALUES = [0.0, 0.0, 0.5, -0.5, 1.0, -1.0, 0.25, 2.0]


def _kinks(r):
    atoms = r.sample(range(len(_ATOMS)), r.randint(1, 4))
    coefs = [r.choice([1.0, 2.0, -1.0, 0.5, 3.0]) for _ in atoms]
    terms = [f"{c!r} * np.sum({_ATOMS[a][0]})" for a, c in zip(atoms, coefs)]
    src = "def f(x):\n    return " + " + ".join(terms) + "\n"
    return src, {"atoms": atoms, "coefs": coefs}


# ------------------------------------------------------------------ methods

_METHOD_STMTS = [
    "s = s + A.sum(axis=0) @ v", "s = s + A.T.dot(v).sum()", "A = A.clip(-0.8, 0.8)",
    "B = A.reshape(-1)\nB[::2] *= 1.5", "A.T[0] += v", "v = A.dot(v)",
    "s = s + A.mean(axis=1, keepdims=True).sum() * v[0]", "v += A.max(axis=1)",
    "C = A.copy()\nC *= 2.0\ns = s + C.sum()", "s = s + A.trace() * v.sum()",
    "s = s + A.diagonal().dot(v)", "v = v.reshape(3, 1).ravel() * 1.1",
    "A.sort(axis=1)", "s = s + np.sum(A.cumsum(axis=0)[-1] * v)",
    "s = s + A.prod(axis=1) @ v", "A[:, ::-1] *= v", "v[...] = v.clip(-1.0, 1.0)",
    "s = s + A.std() * v.var()", "A = A.T", "A = A.T.copy()", "u = A.T[1]\nu *= 2.0",
    "u = A[1]\nu += v", "v = v.astype(np.float64) * 0.9", "s = s + v.astype(np.float32).sum()",
    "A = A.astype(np.float64, copy=False)", "s = s + A.ravel().dot(A.flatten())",
    "v.sort()", "s = s + A.swapaxes(0, 1)[0].sum()", "A = A.squeeze()",
    "np.negative(v, out=v)", "s = s + A.T.reshape(-1)[1:4].dot(v)",
    "A.T[...] = A * 0.5", "s = s + A.min(axis=0).sum()", "v = v.repeat(1)",
    "s = s + np.sum(A.take([0, 2], axis=1))", "A[A > 0.5] *= 0.5",
    "s = s + A.conj().real.sum()", "s = s + A.round(0).sum() * v.sum()",
    "v = A.T @ v", "s = s + v.cumprod()[-1]", "s = s + A.dot(A.T).trace()",
    "A += A.T", "u = A.reshape(9)\nu[3:6] = v", "s = s + A.argmax(axis=1) @ v",
]


def _methods(r):
    lines = [r.choice(["A = W * 1.0", "A = W.copy()", "A = W"]),
             r.choice(["v = x * 1.0", "v = x.copy()", "v = x"]), "s = 0.0"]
    lines += [r.choice(_METHOD_STMTS) for _ in range(r.randint(2, 7))]
    lines.append("return s + np.sum(A * A) * G + np.sum(np.sin(v) * x) + np.sum(W * A)")
    return "G = 0.7\n\ndef f(x, W, n):\n" + _body(lines) + _F2, {}


# ------------------------------------------------------------------ control

_HELPERS = """
def rec(h, d, W):
    if d == 0:
        return h
    return rec(np.tanh(W @ h) * 0.9 + h * 0.1, d - 1, W)


def rec2(h, d):
    if d <= 1:
        return h * G
    return rec2(h, d - 1) + rec2(np.sin(h), d - 2)

"""

_CONTROL = [
    "for t in range(n):\n    if np.sum(h) > 1.5:\n        break\n    h = step(h)",
    "for t in range(n):\n    if t % 2 == 1:\n        continue\n    h = h * 0.8 + np.sin(x)",
    "k = 0\nwhile np.sum(h ** 2) < 3.0 and k < 20:\n    h = h * 1.3 + 0.1\n    k += 1",
    "h = rec(h, n, W)", "h = h + rec2(x, n)",
    "for i in range(n):\n    for j in range(i + 1):\n        if j == 1:\n            break\n"
    "        h = h + W[j] * 0.1",
    "for row in W:\n    if row[0] < -0.3:\n        continue\n    s = s + np.sum(row * h)",
    "for t in range(n):\n    h = step(h)\n    if t == 1:\n        return s + np.sum(h ** 2)",
    "lst = []\nfor t in range(n + 2):\n    lst.append(h)\n    h = step(h)\n    if len(lst) > 2:\n"
    "        break\ns = s + sum(np.sum(g * x) for g in lst)",
    "for t in range(n):\n    if h[0] > 0.9:\n        h = h * 0.5\n        continue\n"
    "    h = h + 0.3\nelse:\n    s = s + 1.0",
    "h = acc(h)", "h = acc(h, k=n)", "h = scale(h)",
    "t = 0\nwhile t < n:\n    t += 1\n    if t == 2:\n        continue\n    h = step(h) * c",
    "c = c * 1.1", "s = s + np.sum(h * c)",
    "i = n\nwhile i > 0:\n    i -= 1\n    h = np.sin(h) + x * i\n    if np.max(h) > 2.0:\n"
    "        break",
    "for t in range(n):\n    s = s + np.sum(inner(h, t))",
]


def _control(r):
    lines = ["h = x * 1.0", "s = 0.0", "c = 0.9",
             "def step(z):\n    return np.tanh(W @ z + x) * c",
             "def acc(z, k=2):\n    for _ in range(k):\n        z = z * 0.9 + step(z) * 0.1\n"
             "    return z",
             "def scale(z):\n    return z * c + s"]
    if r.random() < 0.5:
        lines.append("def inner(z, t):\n    def g(u):\n        return np.sin(u) * (t + 1) + x\n"
                     "    return g(z) * c")
    else:
        lines.append("inner = lambda z, t: np.cos(z) * t + W[0]")
    lines += [r.choice(_CONTROL) for _ in range(r.randint(2, 4))]
    lines.append("return s + np.sum(h ** 2) + np.sum(h * W[1])")
    return _HELPERS + "G = 0.7\n\ndef f(x, W, n):\n" + _body(lines) + _F2, {}


# ------------------------------------------------------------------ dtypes

_DTYPE_TERMS = [
    "np.sum(x.astype(np.float32) * 2.0)", "np.sum(np.arange(3) * x)",
    "np.sum(x[np.array([True, False, True])] ** 2)", "np.sum(x[:0] * 2.0)",
    "np.sum(np.zeros((0, 3)) @ x)", "np.sum(x[np.array([], dtype=int)])",
    "np.sum(x[:1] * x)", "np.sum(W[:, :1] * x)", "np.sum(np.array(2.5) * x)",
    "np.sum(x.reshape(3, 1) * x.reshape(1, 3))",
    "np.sum(np.abs(x * (1 + 2j)) ** 2)", "np.real(np.sum(np.exp(1j * x) * W[0]))",
    "np.sum(((x + 1j * W[0]).conj() * (x - 1j)).real)", "np.sum(x * n)", "np.sum(x ** n)",
    "np.sum(x ** np.int64(2))", "np.sum(x * np.float32(0.5))",
    "np.sum(x.astype(np.float32) * np.float64(0.1))", "np.mean(x > 0) * np.sum(x)",
    "np.sum(np.where(x > 0, x, 0))", "x @ x", "np.dot(x[:1], x[:1])",
    "np.sum(x[None, :] + W)", "np.sum(np.float32(2.0) * x)", "np.sum(x * True)",
    "np.sum(np.int32(3) * x.astype(np.float32))", "x.astype(np.float32).sum() + x.sum()",
    "np.sum(np.ones(3, dtype=np.float32) * x)", "np.sum(x[..., None] * W)",
    "x[0] * x[1:2]", "np.sum(np.float64(x[0]) * x)", "float(x[0]) * np.sum(x)",
    "np.sum(x * x.astype(int))", "np.sum(np.array([1, 2, 3], dtype=np.int8) * x)",
    "np.sum(x.astype(np.complex128) ** 2).real", "np.sum(np.imag(x * 1j))",
    "np.sum(np.sqrt(x.astype(np.complex128)) ** 2).real",
    "np.sum(x.astype(np.float32) ** 2) * np.float64(2.0)",
    "np.sum(np.array(x[1]) * x[0])", "np.sum(np.empty((2, 0)).sum(axis=1) + x[:1])",
    "np.sum(x.reshape(1, 3, 1) * W[:1, :, None])", "np.sum(np.expand_dims(x, 0) @ W)",
    "np.sum(x[np.newaxis] ** 2, axis=1)[0]", "np.sum(W[np.array([0, 0, 2])] @ x)",
    "np.sum(np.bool_(True) * x)", "np.sum((x > 0.1) * x ** 2)",
    "np.sum(np.asarray([x[0], 1.0]) * 2)", "np.sum(np.array([x[0], x[2]], dtype=np.float32))",
]


def _dtypes(r):
    terms = r.sample(_DTYPE_TERMS, r.randint(1, 4))
    lines = [f"t{i} = {t}" for i, t in enumerate(terms)]
    lines.append("return " + " + ".join(f"t{i}" for i in range(len(terms))))
    return "G = 0.7\n\ndef f(x, W, n):\n" + _body(lines), {}


# ------------------------------------------------------------------ trees

_TREES_HEAD = """
P = collections.namedtuple("P", "w b")


@dataclasses.dataclass
class Cfg:
    scale: float
    k: int
    act: str


"""

_TREE_TERMS = [
    "np.sum(np.tanh(p.w @ x + p.b) * cfg.scale)", "np.sum(p.w ** 2) * opts['l2']",
    "np.sum(p.b[:cfg.k])", "np.sum(q['u'] * x) * opts['l2']", "np.sum(q['v'][0] * p.b)",
    "q['v'][1] * np.sum(x)", "np.sum((p.w * q['s']) @ x)",
    "np.sum(np.maximum(p.w @ x, 0.0) if cfg.act == 'relu' else np.tanh(p.w @ x))",
    "np.sum(p[0] * p[1][:, None])", "sum(np.sum(t ** 2) for t in p)",
    "np.sum(q['u'] * q['v'][0])", "np.sum(p.w[cfg.k - 1] * G)",
    "opts['l2'] * sum(np.sum(v ** 2) for v in q['v'][:1])",
]


def _trees(r):
    terms = r.sample(_TREE_TERMS, r.randint(1, 4))
    lines = [f"t{i} = {t}" for i, t in enumerate(terms)]
    lines.append("loss = " + " + ".join(f"t{i}" for i in range(len(terms))))
    aux = r.choice([None, "{'p': p, 't0': t0}", "[t0, p.b]", "(p, (x, t0))", "P(t0, p.b * 2.0)"])
    lines.append(f"return loss, {aux}" if aux else "return loss")
    head = "G = 0.7\n" + _TREES_HEAD
    leafs = {"u": r.choice(["a3", "f32", "zd"]), "v0": r.choice(["a3", "f32"]),
             "v1": r.choice(["float", "npf", "zd"]), "s": r.choice(["float", "zd", "a3"])}
    return head + "def f(p, q, x, cfg, opts):\n" + _body(lines), {"aux": bool(aux),
                                                                   "leafs": leafs}


_LAYOUT_STMTS = [
    "A = A.T", "A = A[::-1]", "A = A[:, ::-1]", "A = np.asfortranarray(A)",
    "A = np.ascontiguousarray(A)", "A = A.swapaxes(0, 1)", "A = A.copy()", "A = A.reshape(3, 3)",
    "A.T[...] = A * 0.5", "A.T[::2] += 0.25", "A[::-1] *= 1.1", "A[:, 1] = x", "A[0] += x",
    "u = A.reshape(9)\nu[3:6] = x", "u = A.ravel()\nu[::2] *= 1.5", "u = A.reshape(-1)\nu += 0.1",
    "u = A.T.reshape(9)\nu[0] = x[1]", "u = A.ravel(order='F')\nu[1:3] = x[:2]",
    "u = A.reshape(3, 3, order='F')\nu[0] *= 2.0", "u = A.flatten()\nu[0] = 9.0",
    "B = A.T\nB[1] -= x", "B = A[::-1, ::-1]\nB[0] = x * 2.0", "np.multiply(A, 1.5, out=A)",
    "A = np.reshape(A.T, (9,)).reshape(3, 3)", "A = A.ravel().reshape(3, 3).T",
    "v = A.reshape(9)[::3]\nv *= 3.0", "A = np.transpose(A)\nA[2] = A[0]",
    "u = np.ravel(A)\nu[4] = -1.0", "A = A.T.copy().T", "s = s + np.sum(A.reshape(9)[:4] * A[0, 0])",
    "A = np.asarray(A)\nA[1, ::2] = x[:2]", "u = A[:, :2].reshape(6)\nu[1] = 3.0",
]


def _layouts(r):
    lines = [r.choice(["A = W.copy()", "A = W * 1.0", "A = W.T.copy()",
                       "A = np.asfortranarray(W * 1.0)", "A = W"]), "s = 0.0"]
    if r.random() < 0.35:
        # the same in a loop: carries whose layout a write through a view
        # changed (checked at run time, else refused)
        loop = [r.choice(_LAYOUT_STMTS) for _ in range(r.randint(2, 4))]
        lines.append("for t in range(n):\n" + _body(loop).rstrip("\n"))
    else:
        lines += [r.choice(_LAYOUT_STMTS) for _ in range(r.randint(3, 8))]
    lines.append("return s + np.sum(A * np.sin(W)) + np.sum(A ** 2) * G + np.sum(A[0] * x)")
    return "G = 0.3\n\ndef f(x, W, n):\n" + _body(lines), {}


def program(seed):
    """(family, source, options)."""
    r = random.Random(seed)
    fam = FAMILIES[seed % len(FAMILIES)]
    src, opts = {"higher": _higher, "kinks": _kinks, "methods": _methods,
                 "control": _control, "dtypes": _dtypes, "trees": _trees,
                 "layouts": _layouts}[fam](r)
    return fam, src, opts


# ------------------------------------------------------------------ running

_loaded = [0]


def load(src):
    _loaded[0] += 1
    filename = f"<trust10 program {_loaded[0]}>"
    full = "import collections\nimport dataclasses\nimport numpy as np\nimport s2sgrad\n\n" + src
    linecache.cache[filename] = (len(full), None, full.splitlines(True), filename)
    mod = types.ModuleType(f"trust10_{_loaded[0]}")
    mod.__file__ = filename
    sys.modules[mod.__name__] = mod
    ns = mod.__dict__
    exec(compile(full, filename, "exec"), ns)
    return ns


def _loss(out, aux):
    return out[0] if aux else out


def _fd(f, args, kwargs, wrt, eps, aux, f32ref=False):
    """Central differences of the loss in every float leaf of args[wrt]."""
    base = args[wrt]
    grads = {}
    for path in _paths(base):
        leaf = _get(base, path)
        arr = np.array(leaf, dtype=np.float64)
        out = np.zeros(arr.shape)
        for idx in np.ndindex(arr.shape):
            vals = []
            for sign in (1.0, -1.0):
                xs = arr.copy()
                xs[idx] += sign * eps
                if f32ref or (isinstance(leaf, (np.ndarray, np.generic))
                              and leaf.dtype == np.float32):
                    new = xs if isinstance(leaf, np.ndarray) else np.float64(xs)
                elif isinstance(leaf, np.ndarray):
                    new = xs.astype(leaf.dtype, order="K" if leaf.ndim < 2 else
                                    "F" if leaf.flags.f_contiguous and
                                    not leaf.flags.c_contiguous else "C")
                elif isinstance(leaf, np.generic):
                    new = type(leaf)(xs)
                else:
                    new = float(xs)
                a = list(copy.deepcopy(args))
                a[wrt] = _set(a[wrt], path, new)
                vals.append(float(np.real(_loss(f(*a, **copy.deepcopy(kwargs)), aux))))
            out[idx] = (vals[0] - vals[1]) / (2 * eps)
        grads[path] = out
    return grads


def _same(a, b, exact=False):
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and \
            all(_same(a[k], b[k], exact) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and \
            type(a) is type(b) and all(_same(p, q, exact) for p, q in zip(a, b))
    if dataclasses.is_dataclass(a):
        return a == b
    if isinstance(a, str):
        return a == b
    if exact:
        return np.shape(a) == np.shape(b) and np.array_equal(a, b, equal_nan=True)
    return np.shape(a) == np.shape(b) and np.allclose(a, b, rtol=1e-9, atol=1e-11,
                                                        equal_nan=True)


def _kind_ok(g, x):
    if isinstance(x, dict):
        return isinstance(g, dict) and list(g) == list(x) and all(_kind_ok(g[k], x[k]) for k in x)
    if isinstance(x, (list, tuple)):
        return type(g) is type(x) and len(g) == len(x) and \
            all(_kind_ok(p, q) for p, q in zip(g, x))
    if isinstance(x, np.ndarray):
        return isinstance(g, np.ndarray) and g.shape == x.shape and g.dtype == x.dtype
    if isinstance(x, float) and not isinstance(x, np.generic):
        return type(g) is float
    if isinstance(x, np.generic):
        return np.asarray(g).dtype == x.dtype and np.shape(g) == ()
    return True


def _close(got, fd, tol, what, scale=1.0):
    atol = tol / 10 + 1e-9 * abs(scale)
    for path, want in fd.items():
        g = _get(got, path)
        if np.shape(g) != np.shape(want) or not np.allclose(g, want, rtol=tol, atol=atol):
            raise Failure(f"{what}: gradient at {path}: {g!r} vs differences {want!r}")


_NUMPY_ERRORS = (ValueError, IndexError, TypeError, RuntimeWarning, FloatingPointError,
                 AttributeError, NameError, UnboundLocalError, ZeroDivisionError,
                 np.linalg.LinAlgError, KeyError, RecursionError)


def _reference(f, args, kwargs, wrts, aux, f32):
    """(NumPy's output, differences per wrt) or raises Invalid."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            want = f(*copy.deepcopy(args), **copy.deepcopy(kwargs))
            loss = _loss(want, aux)
            if np.shape(loss) != () or np.iscomplexobj(loss):
                raise Invalid
            if not np.isfinite(loss) or abs(loss) > 1e8:
                raise Invalid
            steps = (1e-3, 3e-3) if f32 else (1e-6, 1e-4)
            fds = {w: _fd(f, args, kwargs, w, steps[0], aux) for w in wrts}
            fds2 = {w: _fd(f, args, kwargs, w, steps[1], aux) for w in wrts}
    except _NUMPY_ERRORS:
        raise Invalid from None
    for w in wrts:
        for p in fds[w]:
            if not np.allclose(fds[w][p], fds2[w][p], rtol=1e-3 if not f32 else 1e-2,
                               atol=1e-4 if not f32 else 1e-3):
                raise Invalid
    return want, fds


def _check_value(got, want, aux, f32, what, exact=False):
    v, w = _loss(got, aux), _loss(want, aux)
    if exact:
        if not np.array_equal(v, w):
            raise Failure(f"{what}: value {v!r} vs NumPy {w!r} (must be equal)")
    elif not np.allclose(v, w, rtol=1e-5 if f32 else 1e-10, atol=1e-10):
        raise Failure(f"{what}: value {v!r} vs NumPy {w!r}")
    if isinstance(w, (np.ndarray, np.generic)) and np.asarray(v).dtype != np.asarray(w).dtype:
        raise Failure(f"{what}: value's dtype {np.asarray(v).dtype} vs NumPy's "
                      f"{np.asarray(w).dtype}")
    if aux and not _same(got[1], want[1]):
        raise Failure(f"{what}: aux {got[1]!r} vs NumPy {want[1]!r}")


def _points(fam, seed, opts):
    """[(args, kwargs, change-of-globals or None)], the first two at
    different points, the later ones after a change."""
    rng = np.random.default_rng(seed)
    pts = []
    if fam in ("methods", "control", "dtypes", "layouts"):
        for i, n in enumerate((2, 3, 0, 1, 4)[:4 if fam == "control" else 3]):
            x = rng.normal(size=3) * 0.7
            W = rng.normal(size=(3, 3)) * 0.5
            if fam == "dtypes" and i == 2:
                x = x.astype(np.float32)
            if fam in ("layouts", "methods") and i == 2:
                W = np.asfortranarray(W)
            pts.append(((x, W, n), {}, {"G": 1.3} if i == 1 else None))
    elif fam == "higher":
        for i in range(3):
            pts.append(((rng.normal(size=3) * 0.7, rng.normal(size=(3, 3)) * 0.5), {},
                        {"G": 1.3} if i == 1 else None))
    elif fam == "trees":
        lf = opts["leafs"]

        def leaf(kind, shape=3):
            if kind == "a3":
                return rng.normal(size=shape) * 0.7
            if kind == "f32":
                return (rng.normal(size=shape) * 0.7).astype(np.float32)
            if kind == "zd":
                return np.array(rng.normal() * 0.7)
            if kind == "npf":
                return np.float64(rng.normal() * 0.7)
            return float(rng.normal() * 0.7)
        for i in range(3):
            p = ns_P(rng.normal(size=(3, 3)) * 0.5, rng.normal(size=3) * 0.5)
            q = {"u": leaf(lf["u"]), "v": [leaf(lf["v0"]), leaf(lf["v1"])], "s": leaf(lf["s"])}
            x = rng.normal(size=3) * 0.7
            cfg = ns_Cfg(0.5 + i, 1 + i % 3, "relu" if i == 1 else "tanh")
            opts_d = {"l2": 0.1 * (i + 1)}
            pts.append(((p, q, x), {"cfg": cfg, "opts": opts_d}, {"G": 1.3} if i == 1 else None))
    return pts


ns_P = collections.namedtuple("P", "w b")


@dataclasses.dataclass
class ns_Cfg:
    scale: float
    k: int
    act: str


def check(seed, verbose=False):
    fam, src, opts = program(seed)
    return check_source(fam, src, opts, seed, verbose)


def check_source(fam, src, opts, seed, verbose=False):
    """'ok', 'refused', 'invalid' or raises Failure."""
    ns = load(src)
    if fam == "kinks":
        return _check_kinks(ns, opts, seed, verbose)
    f = ns["f"]
    aux = opts.get("aux", False)
    wrts = {"higher": (0, 1), "trees": (0, 1)}.get(fam, (0, 1))
    pts = _points(fam, seed, opts)
    if fam == "trees":
        # the module's own namedtuple/dataclass (the one f's source names)
        pts = [((ns["P"](*a[0]), a[1], a[2]), {"cfg": ns["Cfg"](**dataclasses.asdict(kw["cfg"])),
                                               "opts": kw["opts"]}, ch)
               for a, kw, ch in pts]
    vg = s2sgrad.value_and_grad(f, wrt=wrts, has_aux=aux)
    for i, (args, kwargs, change) in enumerate(pts):
        if change:
            ns.update(change)
        f32 = "float32" in src or any(
            isinstance(a, (np.ndarray, np.generic)) and a.dtype == np.float32
            for w in range(len(args)) for a in [_get(args[w], p) for p in _paths(args[w])])
        try:
            want, fds = _reference(f, args, kwargs, wrts, aux, f32)
        except Invalid:
            return "invalid"
        kept = copy.deepcopy((args, kwargs))
        what = f"point {i}"
        try:
            got = vg(*args, **kwargs)
            got_again = vg(*args, **kwargs)
        except S2SGradError as exc:
            if verbose:
                print(f"  refused: {exc}"[:400])
            if i:
                raise Failure(f"refused only at point {i}: {exc}") from None
            return "refused"
        except ValueError as exc:
            if not str(exc).startswith("s2sgrad: "):
                raise Failure(f"{what}: {type(exc).__name__}: {exc}") from exc
            if verbose:                               # refused at run time
                print(f"  refused at run time: {exc}"[:400])
            return "refused"
        except Exception as exc:                      # noqa: BLE001
            raise Failure(f"{what}: {type(exc).__name__}: {exc}") from exc
        if not _same((args, kwargs), kept, exact=True):
            raise Failure(f"{what}: the caller's argument changed")
        tol = 5e-3 if f32 else 1e-5
        scale = _loss(want, aux)
        for res, tag in ((got, "first call"), (got_again, "again")):
            (val, g) = res
            _check_value(val, want, aux, f32, f"{what} {tag}")
            for w, gw in zip(wrts, g):
                if not _kind_ok(gw, args[w]):
                    raise Failure(f"{what} {tag}: gradient's kind {gw!r} vs argument {args[w]!r}")
                _close(gw, fds[w], tol, f"{what} {tag} wrt={w}", scale)
        if fam in ("higher", "methods", "control") and i == 0 and "float32" not in src:
            _check_higher(ns, args, aux, fds, verbose)
    return "ok"


def _fd_of(fun, x, eps):
    cols = []
    for j in range(x.size):
        e = np.zeros(x.size)
        e[j] = eps
        cols.append((np.asarray(fun(x + e.reshape(x.shape)))
                     - np.asarray(fun(x - e.reshape(x.shape)))).ravel() / (2 * eps))
    return np.stack(cols, axis=-1)


_F2 = ("\n_gf = s2sgrad.grad(f, wrt=0)\n\n"
       "def f2(x, W, n):\n    gx = _gf(x, W, n)\n"
       "    return np.sum(gx * gx) + np.sum(gx * x)\n")


def _check_higher(ns, args, aux, fds, verbose):
    """Second order at args: hessian, jacobian(grad), jvp(grad), hvp
    against differences of the (checked) gradient; grad of f2 (which calls
    the compiled gradient) against differences of f2."""
    f, f2 = ns["f"], ns["f2"]
    x, rest = args[0], tuple(args[1:])
    g = s2sgrad.grad(f, wrt=0, has_aux=aux)

    def gx(z):
        out = g(z, *rest)
        return out[0] if aux else out
    try:
        H_fd = _fd_of(gx, x, 1e-5)
        H_fd2 = _fd_of(gx, x, 1e-3)
    except S2SGradError:
        return
    if not np.allclose(H_fd, H_fd2, rtol=1e-3, atol=1e-4):
        return
    try:
        fh = f if not aux else ns.setdefault("_fl", lambda x, W: f(x, W)[0])
        H = s2sgrad.hessian(fh)(x, *rest)
        J = s2sgrad.jacobian(s2sgrad.grad(fh))(x, *rest)
        t = np.array([0.3, -1.1, 0.7])
        _, Ht = s2sgrad.jvp(s2sgrad.grad(fh))((x,) + rest, (t,))
        hv = s2sgrad.hvp(fh)
        Hv = hv((x,) + rest, t)
    except S2SGradError as exc:
        if verbose:
            print(f"  refused (higher): {exc}"[:400])
        return
    except Exception as exc:                          # noqa: BLE001
        raise Failure(f"higher: {type(exc).__name__}: {exc}") from exc
    for name, got, want in (("hessian", H, H_fd), ("jacobian(grad)", J, H_fd),
                            ("jvp(grad)", Ht, H_fd @ t)):
        got = np.asarray(got[1] if isinstance(got, tuple) else got)
        if got.shape != want.shape and got.size == want.size:
            got = got.reshape(want.shape)
        if not np.allclose(got, want, rtol=1e-4, atol=1e-6):
            raise Failure(f"{name}: {got!r} vs differences of the gradient {want!r}")
    Hv = np.asarray(Hv[1] if isinstance(Hv, tuple) else Hv)
    if not np.allclose(Hv.ravel(), H_fd @ t, rtol=1e-4, atol=1e-6):
        raise Failure(f"hvp: {Hv!r} vs differences {H_fd @ t!r}")
    # reverse over reverse: the gradient of a function calling the gradient
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            want2 = f2(*copy.deepcopy(args))
            d1 = _fd_of(lambda z: f2(z, *copy.deepcopy(rest)), x, 1e-5).ravel()
            d2 = _fd_of(lambda z: f2(z, *copy.deepcopy(rest)), x, 1e-3).ravel()
    except _NUMPY_ERRORS + (S2SGradError,):
        return
    if not np.allclose(d1, d2, rtol=1e-3, atol=1e-4):
        return
    kept = copy.deepcopy(args)
    try:
        v2, g2 = s2sgrad.value_and_grad(f2)(*args)
    except S2SGradError as exc:
        if verbose:
            print(f"  refused (grad of grad): {exc}"[:400])
        return
    except Exception as exc:                          # noqa: BLE001
        raise Failure(f"grad of grad: {type(exc).__name__}: {exc}") from exc
    if not _same(args, kept, exact=True):
        raise Failure("grad of grad: the caller's argument changed")
    if not np.allclose(v2, want2, rtol=1e-10, atol=1e-12):
        raise Failure(f"grad of grad: value {v2!r} vs NumPy {want2!r}")
    if not np.allclose(g2, d1, rtol=1e-4, atol=1e-6):
        raise Failure(f"grad of grad: {g2!r} vs differences {d1!r}")


def _check_kinks(ns, opts, seed, verbose):
    f = ns["f"]
    rng = np.random.default_rng(seed)
    r = random.Random(seed)
    x = np.array([r.choice(_KINK_VALUES) for _ in range(6)])
    want_grad = np.zeros(6)
    has_ref = True
    for a, c in zip(opts["atoms"], opts["coefs"]):
        d = _ATOMS[a][1]
        if d is None:
            has_ref = False
        else:
            want_grad += c * d(x)
    vg = s2sgrad.value_and_grad(f)
    jv = s2sgrad.jvp(f)
    kept = x.copy()
    warnings.simplefilter("ignore", RuntimeWarning)      # (the NaN of sqrt's kink above)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        want = f(x.copy())
    try:
        v, g = vg(x)
        jvals = [jv((x,), (np.eye(6)[j],))[1] for j in range(6)]
    except S2SGradError as exc:
        if verbose:
            print(f"  refused: {exc}"[:400])
        return "refused"
    except Exception as exc:                          # noqa: BLE001
        raise Failure(f"{type(exc).__name__}: {exc}") from exc
    if not np.array_equal(x, kept):
        raise Failure("the caller's argument changed")
    if not np.array_equal(v, want):
        raise Failure(f"x={x!r}: value {v!r} vs NumPy {want!r} (must be equal)")
    if has_ref and not np.allclose(g, want_grad, rtol=1e-12, atol=1e-12, equal_nan=True):
        raise Failure(f"x={x!r}: gradient {g!r} vs the documented subgradient {want_grad!r}")
    jvals = np.array(jvals, dtype=float)
    # (a NaN is no silent number: sqrt's 0 * inf under a where is NaN in
    # reverse mode and masked in forward mode, as JAX's; compared elsewhere)
    both = np.isfinite(jvals) & np.isfinite(g)
    if not np.allclose(jvals[both], g[both], rtol=1e-12, atol=1e-12) or \
            not np.array_equal(np.isfinite(jvals) | np.isnan(g), np.ones(6, bool)):
        raise Failure(f"x={x!r}: forward mode {np.array(jvals)!r} vs reverse {g!r}")
    # a second call at a smooth point (cached)
    x2 = rng.normal(size=6) * 0.7
    want2, fds = _reference(f, (x2,), {}, (0,), False, False)
    v2, g2 = vg(x2)
    _check_value(v2, want2, False, False, "smooth point")
    _close(g2, fds[0], 1e-5, "smooth point", want2)
    return "ok"


def run(lo, hi, verbose=False):
    counts, fails = {}, []
    for s in range(lo, hi):
        try:
            res = check(s, verbose)
        except Invalid:
            res = "invalid"
        except Failure as exc:
            res = "fail"
            fails.append(s)
            print(f"{s} ({program(s)[0]}): {str(exc)[:600]}", flush=True)
        except S2SGradError:
            res = "refused"
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
