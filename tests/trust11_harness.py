"""Differential checks for what trust4..10 did not generate (trust11; not a
test module).

Seven families of random programs ``f(x, W, ...)`` (``seed % 7``):

* ``classes``: user classes holding parameters: ``__call__``, methods
  returning new objects, properties, ``@staticmethod``/``@classmethod``,
  ``super()`` in a subclass, a dataclass with a method, an object that
  accumulates state over one call, attributes rebound or written in
  place, bound methods and ``getattr``; an object of settings passed as
  data (third argument).
* ``iters``: generators (``yield``) and iterators consumed in loops:
  ``iter``/``next``, a generator partly consumed then summed, ``map``,
  ``zip``/``enumerate`` of rows, ``itertools`` (``islice``, ``chain``,
  ``accumulate``, ``pairwise``), Python ``sum``/``max``/``sorted`` over
  array elements, ``np.fromiter``, ``while`` with ``StopIteration``.
* ``scopes``: ``global`` and ``nonlocal`` assignments inside ``f`` and its
  helpers, closures over a loop variable (late binding) or a default,
  a closure whose cell is rebound before the call, counters made by a
  factory, recursion reading a global; between calls the module's globals
  are rebound and written in place.
* ``dtypes``: int arrays promoted, bool masks (indexing, ``where``,
  products), NumPy int/float16/float32 scalars with float64 arrays,
  float32 intermediates, ``//`` and ``mod``, uint8 wrap-around, complex
  intermediates, writes into int/float32 arrays; object arrays and
  strings (string labels as masks, ``getattr(np, 'sum')``): exact or
  refused naming the line.
* ``random``: a seeded ``np.random.Generator`` passed as data: draws added
  to parameters (reparameterisation), permutations/choices/integers as
  indices, dropout masks, draws in a loop, ``loc=``/``scale=`` given by a
  parameter, ``permutation``/``choice``/``shuffle`` of a parameter.  NumPy
  and s2sgrad get generators in the same state; the differences too.
* ``inplace``: in-place operators, ``out=`` and in-place ufuncs on the
  arguments and on views of them (``x[::2] *= 2``, ``np.exp(W[0],
  out=W[0])``, ``W += W.T``, ``x[1:] += x[:-1]``, ``np.cumsum(x, out=x)``,
  ``np.divide(..., where=)``, ``np.add.at``, ``np.put``, ``x.sort()``,
  ``np.copyto``, ``np.fill_diagonal``): the caller's arrays must come back
  unmodified, every later read must see the writes.
* ``conventions``: the README's documented conventions ("Subgradients and
  other conventions") at points with exact zeros and ties, where central
  differences equal the documented value: ``abs``/``sign``/``norm``/
  ``hypot`` at 0, two-way ties of ``maximum``/``fmax``/``max``/``ptp``/
  ``norm(inf)``, ``fmax``/``fmin`` next to a NaN, ``prod`` and ``multiply.at`` at zeros, ``x ** 0``,
  ``std`` of a constant, ``maximum.at``, duplicate-index writes, ``floor``
  and ``astype(int)`` as data.

Every call's value is compared with plain NumPy (the user's function run on
copies), its gradient with central differences at two steps (where they
disagree the point is not smooth: 'invalid'), the arguments must be
unchanged, and the function is called again at other points after module
globals changed.  A program s2sgrad refuses (an :class:`S2SGradError`, or a
run-time ``ValueError('s2sgrad: ...')``) counts as 'refused' (``-v``
prints why); a refusal must name the program's file and line.

    PYTHONPATH=. nice -n 10 python -m tests.trust11_harness 0 700 [-v]
    PYTHONPATH=. python -m tests.trust11_harness show SEED

``loops LO HI`` runs the loop-layout probe instead (``run_layout_loops``:
trust10's layouts family with the loop always taken; counts ok / refused /
invalid / wrong).
"""
from __future__ import annotations

import copy
import linecache
import random
import sys
import types

import numpy as np

import s2sgrad
from s2sgrad import S2SGradError
from tests.trust8_harness import _get, _paths
from tests.trust10_harness import (Failure, Invalid, _body, _check_value, _close,
                                   _kind_ok, _reference, _same)

FAMILIES = ("classes", "iters", "scopes", "dtypes", "random", "inplace", "conventions")

# ------------------------------------------------------------------ programs

_CLASSES = '''
@dataclasses.dataclass
class Affine:
    W: np.ndarray
    b: float = 0.1

    def __call__(self, v):
        return np.tanh(self.W @ v + self.b)

    @property
    def norm2(self):
        return np.sum(self.W ** 2)

    def scaled(self, c):
        return Affine(self.W * c, self.b)

    @staticmethod
    def act(v):
        return np.maximum(v, 0.1 * v)

    @classmethod
    def make(cls, W):
        return cls(W, 0.2)


@dataclasses.dataclass
class Deep(Affine):
    def __call__(self, v):
        return super().__call__(v) * 2.0 + self.act(v)


@dataclasses.dataclass
class Counter:
    total: float = 0.0
    n: int = 0

    def add(self, v):
        return Counter(self.total + np.sum(v), self.n + 1)

    def mean(self):
        return self.total / self.n


@dataclasses.dataclass
class Params:
    W: np.ndarray
    x: np.ndarray

    def energy(self):
        return np.sum(self.W @ self.x) ** 2 * 0.1


class Settings:
    def __init__(self, scale, k):
        self.scale = scale
        self.k = k

    def apply(self, v):
        return v * self.scale + self.k

    @property
    def half(self):
        return self.scale / 2
'''

_CLASS_STMTS = [
    "m = Affine(W)\ns = s + np.sum(m(x))",
    "m = Deep(W * 0.5)\ns = s + np.sum(m(x) * x)",
    "m = Affine.make(W)\ns = s + m.norm2 * 0.1",
    "m = Affine(W).scaled(0.5)\ns = s + np.sum(m(m(x)))",
    "c = Counter()\nc = c.add(x).add(W)\nc = c.add(x * x)\ns = s + c.mean()",
    "p = Params(W, x)\ns = s + p.energy()",
    "m = Affine(W)\nm.W = m.W * 2.0\ns = s + np.sum(m(x))",
    "m = Affine(W.copy())\nm.W[0] = x\ns = s + np.sum(m(x)) + np.sum(W)",
    "m = Affine(W)\nm.b = x\ns = s + np.sum(m(x))",
    "for mm in [Affine(W), Deep(W.T)]:\n    x = mm(x)\ns = s + np.sum(x)",
    "m = Affine(W)\ncall = m.__call__\ns = s + np.sum(call(x))",
    "m = Affine(W)\ns = s + np.sum(getattr(m, 'W') * x)",
    "s = s + np.sum(cfg.apply(x)) * cfg.half",
    "s = s + np.sum(Affine.act(x - 0.2))",
    "m = Deep(W)\ns = s + np.sum(m.act(W @ x)) + m.norm2 * cfg.k",
    "ms = [Affine(W * c) for c in (0.5, 1.0)]\ns = s + sum(np.sum(mm(x)) for mm in ms)",
    "p = Params(W, x)\np.x = p.x * 2.0\ns = s + p.energy() + np.sum(x)",
]

_ITERS = '''
def gen_rows(A):
    for i in range(A.shape[0]):
        yield A[i]


def gen_pairs(v):
    prev = v[0]
    for e in v[1:]:
        yield prev, e
        prev = e


def take(it, k):
    out = []
    for e in it:
        if len(out) == k:
            break
        out.append(e)
    return out
'''

_ITER_STMTS = [
    "for r in gen_rows(W):\n    s = s + np.sum(r * x)",
    "for a, b in gen_pairs(x):\n    s = s + a * b",
    "it = iter(W)\nr0 = next(it)\nr1 = next(it)\ns = s + np.sum(r0 * r1)",
    "s = s + sum(np.sum(r ** 2) for r in W)",
    "s = s + sum(map(lambda r: np.sum(np.sin(r)), W))",
    "for i, (r, c) in enumerate(zip(W, W.T)):\n    s = s + np.sum(r * c) * (i + 1)",
    "for v in itertools.islice(gen_rows(W), 2):\n    s = s + np.sum(v * x)",
    "for v in itertools.chain([x], list(W)):\n    s = s + np.sum(np.cos(v))",
    "for a in itertools.accumulate(x):\n    s = s + a ** 2",
    "for a, b in itertools.pairwise(W):\n    s = s + np.sum(a * b)",
    "rows = take(gen_rows(W * 2.0), 2)\ns = s + np.sum(rows[-1] * x)",
    "for r in reversed(list(gen_rows(W))):\n    x = np.tanh(r * x)",
    "for r in W[::2]:\n    s = s + np.sum(r * x)",
    "xs = [v * 2.0 for v in x]\ns = s + sum(xs)",
    "for k in range(len(x) - 1, -1, -2):\n    s = s + x[k] * W[k, k]",
    "g = (r * x for r in W)\nfirst = next(g)\ns = s + np.sum(first) + sum(np.sum(r) for r in g)",
    "it = iter(x)\nwhile True:\n    try:\n        e = next(it)\n    except StopIteration:\n"
    "        break\n    s = s + e * 2.0",
    "s = s + np.sum(np.fromiter((e * e for e in x), dtype=float))",
    "s = s + np.sum(np.array(list(map(np.sin, x))))",
    "s = s + max(x, key=abs)",
    "s = s + sorted(list(x))[1]",
    "s = s + min(np.sum(r) for r in W)",
    "s = s + sum(a * b for a, b in zip(x, W[0]))",
    "s = s + np.sum(np.stack(list(gen_rows(W)))[::-1] * W)",
    "g = gen_rows(W)\ns = s + sum(np.sum(v * x) for v in g)",
    "z = zip(x, W)\ns = s + sum(a * np.sum(r) for a, r in z)",
    "A = W * 1.0\ng = gen_rows(A)\nA[0] = x\ns = s + sum(np.sum(v ** 2) for v in g)",
    "A = W * 1.0\nz = zip(x, A)\nA *= 2.0\ns = s + sum(a * np.sum(r) for a, r in z)",
    "g = (np.sum(r * x) for r in W)\nx = x * 2.0\ns = s + sum(g)",
]

_SCOPES = '''
G = 0.3
H = np.array([0.5, -1.0, 2.0])
CACHE = None


def helper(v):
    return np.sum(v * G)


def rec(v, d):
    return v if d == 0 else rec(np.sin(v) * G, d - 1)


def set_cache(v):
    global CACHE
    CACHE = v * 2.0


def counter():
    n = 0

    def inc(v):
        nonlocal n
        n += 1
        return v * n
    return inc


def mk(a):
    def h(v):
        return v * a
    return h
'''

_SCOPE_STMTS = [
    "global CACHE\nCACHE = x * 3.0\ns = s + np.sum(CACHE * W[0])",
    "set_cache(x)\ns = s + np.sum(CACHE)",
    "def inner(v):\n    nonlocal s\n    s = s + np.sum(v * x)\ninner(W[0])\ninner(W[1])",
    "acc = [0.0]\ndef push(v):\n    acc[0] = acc[0] + np.sum(v)\nfor r in W:\n    push(r * x)\n"
    "s = s + acc[0]",
    "fs = [lambda v: v * k for k in range(1, 4)]\ns = s + sum(np.sum(fn(x)) for fn in fs)",
    "fs = [lambda v, k=k: v * k for k in range(1, 4)]\ns = s + sum(np.sum(fn(x)) for fn in fs)",
    "c = 2.0\ng = lambda v: v * c\nc = 5.0\ns = s + np.sum(g(x))",
    "h1 = mk(x)\nh2 = mk(W[1])\ns = s + np.sum(h1(W[0]) * h2(x))",
    "inc = counter()\ns = s + np.sum(inc(x)) + np.sum(inc(x) * W[2])",
    "s = s + np.sum(H * x) * G",
    "s = s + helper(x) + helper(W)",
    "s = s + np.sum(rec(x, 2))",
    "a = x\ndef get():\n    return a * 2.0\na = W[0]\ns = s + np.sum(get() * x)",
    "def outer():\n    y = x * G\n    def inner2():\n        return np.sum(y * W)\n    return inner2\n"
    "s = s + outer()()",
    "def bump(v, out=[]):\n    out.append(1)\n    return v * 1.0\ns = s + np.sum(bump(x))",
    "for k in range(2):\n    def sq(v, k=k):\n        return v ** (k + 1)\n    s = s + np.sum(sq(x))",
]

_DTYPE_STMTS = [
    "k = np.arange(3)\ns = s + np.sum(x * k)",
    "m = x > 0\ns = s + np.sum(x[m] ** 2)",
    "m = x > 0\ns = s + np.sum(np.where(m, x, 2 * x))",
    "m = W > 0\ns = s + np.sum(W * m) + np.sum(m.astype(float) @ x)",
    "i = np.argmax(x)\ns = s + W[i, i] * x[i]",
    "y = x.astype(np.float32) * 1.5\ns = s + np.sum(y)",
    "y = np.float32(2.0) * x\ns = s + np.sum(y)",
    "n = np.int64(3)\ns = s + np.sum(x ** n)",
    "s = s + np.sum(x // 1.0 + x)",
    "s = s + np.sum(np.mod(x, 0.7) * W[0])",
    "k = np.array([1, 2, 3], dtype=np.int32)\ns = s + np.sum(k / (x * x + 1.0))",
    "s = s + np.sum(np.cumsum(W, axis=0, dtype=np.float32))",
    "s = s + np.sum(np.sum(x > 0.1) * x)",
    "b = np.array([True, False, True])\ns = s + np.sum(x[b]) + np.sum(x * b)",
    "s = s + np.sum(x[np.array([2, 0, 2])] * 1.5)",
    "c = x.astype(complex) * (1 + 1j)\ns = s + np.sum(np.real(c * c.conj()))",
    "s = s + np.sum(np.float16(0.5) * x)",
    "u = np.uint8(254) + np.arange(3, dtype=np.uint8)\ns = s + np.sum(u * x)",
    "s = s + np.sum(np.true_divide(np.arange(3), 2) * x)",
    "s = s + np.sum((x * 10).astype(int) * x)",
    "z = np.zeros(3, dtype=int)\nz[0] = 5\ns = s + np.sum(z * x)",
    "y = np.zeros(3, dtype=np.float32)\ny[:] = x\ns = s + np.sum(y * x)",
    "y = np.zeros(3, dtype=int)\ny[1] = 5 * x[0]\ns = s + np.sum(y) + x[1]",
    "lab = np.array(['a', 'b', 'a'])\ns = s + np.sum(x[lab == 'a'])",
    "o = np.array([x[0], 1.0], dtype=object)\ns = s + o[0] * 2.0 + o[1]",
    "o = np.array([1.0, 2.0, 3.0], dtype=object)\ns = s + np.sum(o * x)",
    "d = {n: i for i, n in enumerate(['w', 'b'])}\ns = s + x[d['b']]",
    "s = s + np.sum(x * len('abc'))",
    "t = 'sum'\ns = s + getattr(np, t)(x * W[0])",
    "s = s + np.sum(np.char.str_len(np.array(['ab', 'c']))) * x[0]",
    "s = s + np.sum(np.bool_(True) * x) + np.sum(True * W)",
    "s = s + np.sum(np.int8(-3) * x) + np.sum(np.uint16(7) * W)",
    "e = np.empty(3, dtype=np.float32)\ne[...] = W[0]\ns = s + np.sum(e.astype(np.float64) * x)",
    "s = s + np.sum(np.cumsum(x * 3.0, dtype=int) * x)",
    "s = s + np.sum(W * 3.0, dtype=int) * 1.0 + np.sum(x ** 2)",
    "s = s + np.prod(x * 2.0, dtype=int) * x[0]",
    "s = s + np.mean(W * 3.0, axis=0, dtype=int) @ x",
]

_RANDOM_STMTS = [
    "e = rng.normal(size=3)\ns = s + np.sum((x + 0.5 * e) ** 2)",
    "e = rng.standard_normal(W.shape)\ns = s + np.sum(W * e)",
    "idx = rng.permutation(3)\ns = s + np.sum(x[idx] * W[0])",
    "idx = rng.integers(0, 3, size=4)\ns = s + np.sum(x[idx] ** 2)",
    "k = rng.choice(3)\ns = s + x[k] * 2.0",
    "u = rng.uniform(size=3)\ns = s + np.sum(np.where(u < 0.5, x, -x))",
    "b = rng.binomial(1, 0.5, size=3)\ns = s + np.sum(b * x) / 0.5",
    "for t in range(2):\n    x = x + 0.1 * rng.normal(size=3)\n    s = s + np.sum(np.tanh(x))",
    "g = rng.gamma(2.0, size=3)\ns = s + np.sum(g * np.sin(x))",
    "p = rng.random()\ns = s + p * np.sum(W)",
    "rng2 = np.random.default_rng(7)\ns = s + np.sum(rng2.normal(size=3) * x)",
    "e = rng.normal(loc=x, scale=0.1)\ns = s + np.sum(e ** 2)",
    "e = rng.normal(0.0, np.abs(x[0]) + 0.5, size=3)\ns = s + np.sum(e * W[1])",
    "s = s + np.sum(rng.permutation(x) * W[0])",
    "xs = x.copy()\nrng.shuffle(xs)\ns = s + np.sum(xs * W[0])",
    "c = rng.choice(x, size=2)\ns = s + np.sum(c ** 2)",
    "e = rng.uniform(low=x - 1.0, high=x + 1.0)\ns = s + np.sum(e * W[2])",
    "e = rng.exponential(scale=np.exp(x))\ns = s + np.sum(e)",
]

_INPLACE_STMTS = [
    "x *= 1.5", "x[0] += W[1, 1]", "v = x[::2]\nv *= 2.0", "W[:, 0] -= x",
    "np.add(x, 1.0, out=x)", "np.exp(W[0], out=W[0])", "np.multiply(W, x, out=W)",
    "np.negative(x[1:], out=x[1:])", "y = np.empty(3)\nnp.sin(x, out=y)\ns = s + np.sum(y)",
    "np.clip(x, -0.5, 0.5, out=x)", "np.cumsum(x, out=x)", "T = W.T\nT += 0.1",
    "W[...] = W @ W * 0.5", "x[:] = np.tanh(x)", "r = W.reshape(-1)\nr[::4] = 1.0",
    "np.copyto(x, W[2])", "np.put(x, [0, 2], [1.0, 2.0])", "np.fill_diagonal(W, x)",
    "x.sort()", "W.T[0] *= 3.0", "np.add.at(x, [0, 0, 2], W[0])",
    "np.divide(W, 2.0, out=W, where=W > 0)", "x += x[::-1]", "x[1:] += x[:-1]",
    "W += W.T", "s = s + np.sum(x * W)", "s = s + np.sum(W[1] ** 2)",
    "np.square(W[:, 1], out=W[:, 1])", "x **= 2", "W[W > 0.3] = 0.3",
    "np.tanh(W, out=W)\ns = s + np.sum(W)",
]

_CONV_STMTS = [
    "s = s + np.sum(np.abs(x) * W[0])",
    "s = s + np.sum(np.maximum(x, x[::-1]))",
    "s = s + np.sum(np.fmax(x, 0.7)) + np.sum(np.fmin(x, 0.0))",
    "s = s + np.max(x)",
    "s = s + np.min(W, axis=0) @ x",
    "s = s + np.prod(x)",
    "s = s + np.prod(W, axis=1) @ x",
    "s = s + np.sum(x ** 0)",
    "s = s + np.sum(np.power(0.0 * x, x * x + 2.0))",
    "s = s + np.std(W[2] * 0.0 + x[0])",
    "s = s + np.linalg.norm(x * 0.0)",
    "s = s + np.sum(np.sign(x) * x)",
    "s = s + np.sum(np.floor(x * 2.0 + 0.3) * x)",
    "y = np.ones(3)\nnp.multiply.at(y, [0, 0, 1], x)\ns = s + np.sum(y * W[0])",
    "y = np.zeros(3)\nnp.maximum.at(y, [0, 0, 2], x)\ns = s + np.sum(y)",
    "y = np.zeros(3)\ny[[0, 0, 2]] = x\ns = s + np.sum(y * W[1])",
    "s = s + np.sum(np.abs(x - 0.7))",
    "s = s + np.sum(np.hypot(x, x * 0.0))",
    "s = s + np.sum(np.maximum(W, 0.0) @ x)",
    "s = s + np.linalg.norm(x, 1) + np.linalg.norm(x, np.inf)",
    "s = s + np.ptp(x)",
    "s = s + np.sum((x * 3.0).astype(int) * W[0])",
    "s = s + np.max(W) + np.min(W)",
    "s = s + np.sum(np.max(W, axis=1) * x)",
    "s = s + np.sum(np.abs(W) ** 3)",
    "s = s + np.sum(np.fmin(x, np.array([np.nan, 0.3, 0.7])) * W[0])",
    "s = s + np.sum(np.fmax(np.array([0.7, np.nan, 0.0]), x) * W[2])",
]


# statements s2sgrad refuses by design (each refusal must name the line):
# one of them joins a program with probability 0.3, so most programs are
# checked rather than refused
def _split(pool, rare):
    return [st for i, st in enumerate(pool) if i not in rare], [pool[i] for i in rare]


_CLASS_STMTS, _CLASS_RARE = _split(_CLASS_STMTS, (1, 6, 8, 9, 10, 11, 16))
_ITER_STMTS, _ITER_RARE = _split(_ITER_STMTS, (1, 2, 4, 6, 7, 8, 9, 11, 15, 16, 17, 18, 19, 20,
                                               23, 26, 27, 28))
_SCOPE_STMTS, _SCOPE_RARE = _split(_SCOPE_STMTS, (0, 1, 2, 4, 5, 8, 14))
_DTYPE_STMTS, _DTYPE_RARE = _split(_DTYPE_STMTS, (24, 29))
_RANDOM_STMTS, _RANDOM_RARE = _split(_RANDOM_STMTS, (13, 14, 15, 17))


def _pick(r, pool, rare=(), lo=2, hi=4):
    out = [r.choice(pool) for _ in range(r.randint(lo, hi))]
    if rare and r.random() < 0.3:
        out.insert(r.randrange(len(out) + 1), r.choice(rare))
    return out


def _classes(r):
    lines = ["s = 0.0"] + _pick(r, _CLASS_STMTS, _CLASS_RARE)
    lines.append("return s + np.sum(x * W[0]) * G")
    return _CLASSES + "\nG = 0.3\n\n\ndef f(x, W, cfg):\n" + _body(lines), {"cfg": True}


def _iters(r):
    lines = ["s = 0.0"] + _pick(r, _ITER_STMTS, _ITER_RARE)
    lines.append("return s + np.sum(x * W[1]) * G")
    return _ITERS + "\nG = 0.3\n\n\ndef f(x, W):\n" + _body(lines), {}


def _scopes(r):
    lines = ["s = 0.0"] + _pick(r, _SCOPE_STMTS, _SCOPE_RARE)
    lines.append("return s + np.sum(x * H) * G")
    return _SCOPES + "\n\ndef f(x, W):\n" + _body(lines), {"scopes": True}


def _dtypes(r):
    lines = ["s = 0.0"] + _pick(r, _DTYPE_STMTS, _DTYPE_RARE)
    lines.append("return s + np.sum(np.sin(x) * W[2]) * G")
    return "G = 0.3\n\n\ndef f(x, W):\n" + _body(lines), {}


def _random(r):
    lines = ["s = 0.0"] + _pick(r, _RANDOM_STMTS, _RANDOM_RARE)
    lines.append("return s + np.sum(x * W[0]) * G")
    return "G = 0.3\n\n\ndef f(x, W, rng):\n" + _body(lines), {"rng": True}


def _inplace(r):
    lines = ["s = 0.0"] + _pick(r, _INPLACE_STMTS, lo=3, hi=7)
    lines.append("return s + np.sum(np.sin(x) * W[0]) + np.sum(W ** 2) * G")
    return "G = 0.3\n\n\ndef f(x, W):\n" + _body(lines), {}


def _conventions(r):
    lines = ["s = 0.0"] + _pick(r, _CONV_STMTS)
    lines.append("return s + np.sum(x * W[1]) * G")
    return "G = 0.3\n\n\ndef f(x, W):\n" + _body(lines), {"kinks": True}


def program(seed):
    """(family, source, options)."""
    r = random.Random(seed)
    fam = FAMILIES[seed % len(FAMILIES)]
    src, opts = {"classes": _classes, "iters": _iters, "scopes": _scopes, "dtypes": _dtypes,
                 "random": _random, "inplace": _inplace, "conventions": _conventions}[fam](r)
    return fam, src, opts


# ------------------------------------------------------------------ running

_loaded = [0]
_HEADER = "import dataclasses\nimport itertools\nimport numpy as np\nimport s2sgrad\n\n"


def load(src):
    _loaded[0] += 1
    filename = f"<trust11 program {_loaded[0]}>"
    full = _HEADER + src
    linecache.cache[filename] = (len(full), None, full.splitlines(True), filename)
    mod = types.ModuleType(f"trust11_{_loaded[0]}")
    mod.__file__ = filename
    sys.modules[mod.__name__] = mod
    ns = mod.__dict__
    exec(compile(full, filename, "exec"), ns)
    return ns


def _kink_point(rng):
    """x with an exact zero and a two-way tie; W with zeros and ties."""
    x = np.array([0.0, 0.7, 0.7])[rng.permutation(3)]
    W = rng.normal(size=(3, 3)) * 0.5
    W[0, 0] = W[2, 1] = 0.0
    W[1, 2] = W[1, 0]
    return x, W


def _points(seed, opts, ns):
    """[(make_args, change-of-globals or None)]: make_args() builds fresh
    arguments (a generator in its seeded state), the same each time."""
    rng = np.random.default_rng(seed)
    pts = []
    for i in range(3):
        if opts.get("kinks") and i < 2:
            x, W = _kink_point(rng)
        else:
            x, W = rng.normal(size=3) * 0.7, rng.normal(size=(3, 3)) * 0.5
        if i == 2 and seed % 3 == 0:
            W = np.asfortranarray(W)
        extra = ()
        if opts.get("cfg"):
            extra = (ns["Settings"](0.5 + i, 1 + i % 2),)
        if opts.get("rng"):
            extra = ("rng", seed * 10 + i)

        def make(x=x, W=W, extra=extra):
            if extra and extra[0] == "rng":
                return (x.copy(order="K"), W.copy(order="K"), np.random.default_rng(extra[1]))
            return (x.copy(order="K"), W.copy(order="K")) + tuple(copy.deepcopy(extra))
        change = None
        if i == 1:
            change = {"G": 1.3}
            if opts.get("scopes"):
                change["H"] = np.array([1.5, 0.25, -0.5])
        pts.append((make, change))
    return pts


def _unchanged(args, kept):
    for a, k in zip(args, kept):
        if isinstance(a, np.random.Generator):
            continue
        if isinstance(a, np.ndarray):
            if not (a.shape == k.shape and np.array_equal(a, k, equal_nan=True)):
                return False
        elif hasattr(a, "__dict__") and not isinstance(a, type):
            if not _same(list(vars(a).values()), list(vars(k).values()), exact=True):
                return False
    return True


def _names_line(exc):
    return "<trust11 program" in str(exc)


def check(seed, verbose=False):
    fam, src, opts = program(seed)
    return check_source(fam, src, opts, seed, verbose)


def check_source(fam, src, opts, seed, verbose=False):
    """'ok', 'refused', 'invalid' or raises Failure."""
    ns = load(src)
    f = ns["f"]
    wrts = (0, 1)
    vg = s2sgrad.value_and_grad(f, wrt=wrts)
    saved = {k: copy.deepcopy(ns[k]) for k in ("G", "H", "CACHE") if k in ns}
    for i, (make, change) in enumerate(_points(seed, opts, ns)):
        if change:
            if "H" in change and i == 1:
                ns["H"][...] = change.pop("H")          # written in place ...
            ns.update(change)                           # ... and rebound
        saved = {k: copy.deepcopy(ns[k]) for k in saved}
        f32 = "float32" in src or "float16" in src
        args = make()

        def reset():
            # (a global f assigns: each run starts from the same module)
            for k, v in saved.items():
                ns[k] = copy.deepcopy(v)

        class _Resetting:
            def __call__(self, *a, **k):
                reset()
                return f(*a, **k)
        try:
            want, fds = _reference(_Resetting(), args, {}, wrts, False, f32)
        except Invalid:
            return "invalid"
        what = f"point {i}"
        results = []
        for tag in ("first call", "again"):
            args = make()
            kept = copy.deepcopy(args)
            reset()
            try:
                results.append((vg(*args), tag))
            except S2SGradError as exc:
                if verbose:
                    print(f"  refused: {exc}"[:400])
                if i:
                    raise Failure(f"refused only at point {i}: {exc}") from None
                if not _names_line(exc):
                    raise Failure(f"refusal without the user's line: {exc}") from None
                return "refused"
            except ValueError as exc:
                if not str(exc).startswith("s2sgrad: "):
                    raise Failure(f"{what}: {type(exc).__name__}: {exc}") from exc
                if verbose:                               # refused at run time
                    print(f"  refused at run time: {exc}"[:400])
                return "refused"
            except Exception as exc:                      # noqa: BLE001
                raise Failure(f"{what}: {type(exc).__name__}: {exc}") from exc
            if not _unchanged(args, kept):
                raise Failure(f"{what}: the caller's argument changed")
        tol = 5e-3 if f32 else 1e-5
        for (val, g), tag in results:
            _check_value(val, want, False, f32, f"{what} {tag}")
            for w, gw in zip(wrts, g):
                if not _kind_ok(gw, args[w]):
                    raise Failure(f"{what} {tag}: gradient's kind {gw!r} vs argument {args[w]!r}")
                _close(gw, fds[w], tol, f"{what} {tag} wrt={w}", want)
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
        if verbose:
            print(s, program(s)[0], res, flush=True)
        counts[res] = counts.get(res, 0) + 1
        if (s - lo + 1) % 100 == 0:
            print(s + 1, counts, flush=True)
    return counts, fails


# ------------------------------------------------------------------ the loop-layout probe

def layout_loop_program(seed):
    """trust10's layouts family with the loop always taken: a carry whose
    layout writes through views change, reshaped in the next step."""
    from tests import trust10_harness as t10
    r = random.Random(seed)
    lines = [r.choice(["A = W.copy()", "A = W * 1.0", "A = W.T.copy()",
                       "A = np.asfortranarray(W * 1.0)", "A = W"]), "s = 0.0"]
    loop = [r.choice(t10._LAYOUT_STMTS) for _ in range(r.randint(2, 4))]
    lines.append("for t in range(n):\n" + _body(loop).rstrip("\n"))
    lines.append("return s + np.sum(A * np.sin(W)) + np.sum(A ** 2) * G + np.sum(A[0] * x)")
    return "G = 0.3\n\ndef f(x, W, n):\n" + _body(lines)


def run_layout_loops(lo, hi, verbose=False):
    """{'ok', 'refused', 'invalid', 'wrong'} counts of the loop-layout probe
    (trust10's checks: values, gradients at trip counts 2, 3, 0, an
    F-ordered W)."""
    from tests import trust10_harness as t10
    counts = {}
    for s in range(lo, hi):
        try:
            res = t10.check_source("layouts", layout_loop_program(s), {}, s, verbose)
        except t10.Invalid:
            res = "invalid"
        except t10.Failure as exc:
            res = "wrong"
            print(s, str(exc)[:300], flush=True)
        except S2SGradError:
            res = "refused"
        counts[res] = counts.get(res, 0) + 1
    return counts


if __name__ == "__main__":
    if sys.argv[1] == "loops":
        print(run_layout_loops(int(sys.argv[2]), int(sys.argv[3]), verbose="-v" in sys.argv))
    elif sys.argv[1] == "show":
        for a in sys.argv[2:]:
            fam, src, opts = program(int(a))
            print(f"# seed {a}: {fam} {opts}\n{src}")
    else:
        counts, fails = run(int(sys.argv[1]), int(sys.argv[2]), verbose="-v" in sys.argv)
        print(counts)
        print("failing seeds:", fails)
