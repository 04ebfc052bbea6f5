"""Differential checks for what trust4..11 did not generate (trust12; not a
test module).

Seven families of random programs (``seed % 7``), each a module whose
``f(x, W, ...)`` writes in place into its arguments, their views and its
own temporaries (smooth everywhere, so derivatives of every order exist):

* ``composed``: transformations composed over in-place/view-heavy code:
  ``hessian``, ``jacobian(grad(f))`` in forward and reverse mode, ``hvp``,
  ``jvp`` of ``f`` and of ``grad(f)``, ``vjp``'s pullback called twice,
  and the Jacobian (both modes) of ``h``, the same body returning a vector;
  first derivatives against central differences of NumPy's ``f``/``h``,
  second derivatives against central differences of the (checked)
  compiled gradient.
* ``export``: :func:`s2sgrad.export` of ``value_and_grad``, ``grad``,
  ``hvp`` or ``jacobian``, the module loaded and run (the specialised code
  at the example's shapes and the polymorphic code at others: float32,
  F-ordered, a longer ``x``) against the in-process transformation and
  NumPy; the arguments must come back unmodified.
* ``buffers``: long chains of temporaries through reshapes, transposes,
  views, ``out=`` and in-place ufuncs (what buffer reuse and merged
  allocations act on); the value must equal NumPy's to rounding, the
  gradient central differences, ``grad``/``vjp`` must agree.
* ``checkpoint``: loops with ``break``/``continue`` and in-place updates
  under ``checkpoint=None``, ``"sqrt"``, ``Binomial(1..3)``, a small
  ``Budget`` and ``s2sgrad.checkpointed(range(n), snapshots=2)`` in the
  source, at trip counts 0..7: every schedule gives the same numbers.
* ``guards``: one compiled function called again and again with other
  argument kinds -- float32, int, 0-d, a Python float, a list, a tuple, an
  F-ordered or strided ``W``, a longer ``x``, keywords, ``n`` as a NumPy
  int, a flag flipped: each call right or a clear refusal
  (:class:`S2SGradError`/``InputError``).
* ``whiles``: ``while`` loops with data-dependent trip counts and
  convergence tests (Newton steps, fixed points, growth until a bound),
  with in-place updates and ``break``.
* ``custom``: ``custom_vjp``/``custom_jvp`` functions (correct rules, some
  writing in place into copies of their inputs) mixed with in-place code;
  the gradient and ``jvp`` against central differences.

Every call's value is compared with plain NumPy (the user's function run on
copies), its gradient with central differences at two steps (where they
disagree the point is not smooth: 'invalid'), and the caller's arguments
must be unchanged.  A program s2sgrad refuses (an :class:`S2SGradError`, or
a run-time ``ValueError('s2sgrad: ...')``) counts as 'refused' (``-v``
prints why); a refusal must name the program's file and line.  A wrong
number is a :class:`Failure`.

    PYTHONPATH=. nice -n 10 python -m tests.trust12_harness 0 700 [-v]
    PYTHONPATH=. python -m tests.trust12_harness show SEED
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
from s2sgrad.errors import S2SGradError

FAMILIES = ("composed", "export", "buffers", "checkpoint", "guards", "whiles", "custom")


class Failure(AssertionError):
    pass


class Invalid(Exception):
    pass


# ------------------------------------------------------------------ statements
#
# Each reads and writes only x (shape (k,), k >= 3), W (3, 3) and s (a
# float); all smooth.

_INPLACE = [
    "y = x * 1.0\ny[1:] += 0.5 * y[:-1]\ns = s + np.sum(y * np.sin(y))",
    "V = W.copy()\nV.T[0] *= np.tanh(x[:3])\ns = s + np.sum(V * W)",
    "r = W[1]\nr *= 1.1",
    "u = W.reshape(9)\nu[::2] += np.sin(x[0])",
    "np.multiply(W, 0.9, out=W)",
    "x = x * np.cos(W[0, 0])",
    "z = W @ x[:3]\nz[::-1] -= x[:3]\ns = s + np.sum(z ** 2) * 0.1",
    "s = s + np.sum(np.exp(0.3 * W) * x[:3])",
    "W = W.T",
    "x[0] = np.sum(W[2] * x[:3])",
    "q = np.outer(x[:3], x[:3])\nq += W\ns = s + np.sum(q.T * W) * 0.1",
    "t = np.tanh(W).ravel()\nt[3:6] = x[:3] ** 2\nW = t.reshape(3, 3)",
    "W[:, 1] += x[:3]",
    "x[::2] *= 1.2",
    "v = W.T[::-1]\nv[0] = np.cos(x[:3])",
    "np.add(x[:3], W[0], out=W[0])",
    "x += 0.1 * np.sum(W)",
    "d = np.diag(W).copy()\nd *= x[:3]\ns = s + np.sum(d * d)",
    "W -= 0.1 * np.outer(x[:3], np.sin(x[:3]))",
    "m = W.mean(axis=0)\nW[0] = m * x[:3]",
]

# loops with in-place updates (composed, export, guards programs)
_INPLACE_LOOPS = [
    "for t in range(3):\n    W[t] *= np.cos(x[t] * 0.5)\n    x = x + 0.1 * W[t, 0]",
    "acc = np.zeros(3)\nfor r in W:\n    acc += r * x[:3]\n    r *= 0.9\ns = s + np.sum(acc ** 2)",
    "B = W.T.copy()\nfor t in range(2):\n    B = B @ W * 0.5\n    B.T[t] += x[:3]\ns = s + np.sum(B * B) * 0.1",
    "k = 0\nwhile k < 3:\n    x[k] = x[k] * W[k, k] + 0.1\n    k += 1",
    "for t in range(4):\n    if t == 2:\n        continue\n    v = W.reshape(9)[t::3]\n    v += 0.1 * x[:3]",
    "hs = []\nh = x[:3] * 1.0\nfor t in range(3):\n    h = np.tanh(W @ h)\n    hs.append(h)\n"
    "H = np.stack(hs)\nH[1] *= 2.0\ns = s + np.sum(H * H)",
]

_RETURN_SCALAR = "return s + np.sum(np.sin(W) * W) + np.sum(x ** 2 * np.cos(x)) + np.sum(W @ x[:3]) * 0.3"
_RETURN_VECTOR = "return np.sin(W) @ x[:3] + s * x[:3] + np.tanh(W[1])"

_BUFFERS = [
    "a = np.exp(0.5 * x[:3])\nb = a.reshape(3, 1) * W\nc = b.T.copy()\nc += b\nW = np.tanh(c)",
    "e = np.sin(W)\nf_ = e.reshape(9)\ng = f_[::-1].reshape(3, 3)\ng = g * W\nW = g + e.T",
    "h = W @ W.T\nnp.multiply(h, 0.3, out=h)\nh += np.eye(3)\nW = h[::-1, ::-1] * 0.5",
    "k = x[:3] * 2.0\nl_ = k * k\nm_ = l_ + k\nnp.sqrt(m_ * m_ + 1.0, out=m_)\nx = x + np.sum(m_) * 0.1",
    "o = np.transpose(W)\np_ = o.reshape(9)\nq_ = p_ * 1.0\nq_[:3] = x[:3]\nW = q_.reshape(3, 3).T",
    "r_ = np.empty((3, 3))\nr_[...] = W\nr_ *= r_\nW = W + 0.1 * r_",
    "t_ = np.stack([x[:3], x[:3] ** 2, np.sin(x[:3])])\nt_ = t_.T @ W\nW = W + 0.05 * t_",
    "u_ = np.exp(-W * W)\nv_ = u_.sum(axis=1, keepdims=True)\nu_ /= v_\nW = W * u_",
    "w_ = np.concatenate([x[:3], W[0]])\nw_ = w_.reshape(2, 3)\nw_[1] *= w_[0]\nW[0] = w_[1]",
    "a2 = np.tanh(W)\nb2 = np.tanh(a2)\nc2 = np.tanh(b2)\nW = a2 + b2 * c2 - a2 * c2",
    "y = np.cumsum(x)\ny[1:] -= y[:-1] * 0.5\nx = y * 1.0",
    "z = np.moveaxis(W[None], 0, 2)\nz = z[..., 0]\nz += 1.0\nW = z * W",
    "s = s + np.sum(np.exp(np.log1p(W * W)).reshape(9)[2:7])",
    "n_ = np.linalg.norm(x) + 1.0\nx = x / n_",
]

# the same kind of chains on arrays of 720 kB (x (90000,), W (300, 300)):
# specialised code deletes large dead arrays (codegen.DEL_BYTES) and reuses
# their buffers; checked by directional differences
_BIG = [
    "y = x * 1.0\ny[1:] += 0.5 * y[:-1]\ns = s + np.sum(y * np.sin(y)) * 1e-3",
    "u = W.reshape(-1)\nu[::2] += np.sin(x[0])",
    "np.multiply(W, 0.9, out=W)",
    "W = W.T",
    "z = W.reshape(-1) * x\nz[::-1] -= x * 0.5\ns = s + np.sum(z ** 2) * 1e-4",
    "t = np.tanh(W).ravel()\nt[::3] = x[::3] ** 2\nW = t.reshape(W.shape)",
    "a = np.exp(0.5 * np.sin(x))\nb = a.reshape(W.shape) * W\nc = b.T.copy()\nc += b\nW = np.tanh(c)",
    "e = np.sin(W)\nf_ = e.reshape(-1)\ng = f_[::-1].reshape(W.shape)\ng = g * W\nW = g + e.T",
    "h = np.cos(W)\nnp.multiply(h, 0.3, out=h)\nh += 1.0\nW = h[::-1, ::-1] * W",
    "k = x * 2.0\nl_ = k * k\nm_ = l_ + k\nnp.sqrt(m_ * m_ + 1.0, out=m_)\nx = x + m_ * 0.01",
    "x[::2] *= 1.2",
    "x += 0.1 * np.mean(W)",
    "m = W.mean(axis=0)\nW[0] = m",
    "W[:, 1] += x[:W.shape[0]]",
    "s = s + np.sum(np.exp(0.3 * np.sin(W))) * 1e-3",
    "r_ = np.empty(W.shape)\nr_[...] = W\nr_ *= r_\nW = W + 0.1 * r_",
    "w_ = np.concatenate([x, W.reshape(-1)])\nw_ = w_.reshape(2, -1)\nw_[1] *= np.tanh(w_[0])\nx = w_[1] * 1.0",
    "q = np.tanh(x).reshape(W.shape) @ W[:, :5]\ns = s + np.sum(q * q) * 1e-4",
    "for t in range(3):\n    W[t::3] *= np.cos(x[t])\n    x = x * 0.9 + 0.01 * np.sin(W.reshape(-1))",
]
_RETURN_BIG = "return s + np.sum(np.sin(W) * W) * 1e-3 + np.sum(x ** 2 * np.cos(x)) * 1e-3"

_LOOP_BODY = [
    "A[t % 3] += 0.3 * np.sin(x[:3])",
    "if t == 2:\n    continue",
    "if np.sum(A) > 40.0:\n    break",
    "if t == 4:\n    break",
    "x = x * 0.9 + 0.1 * np.tanh(A[0] @ x[:3])",
    "A = A * 0.95 + 0.05 * np.outer(x[:3], x[:3])",
    "A.T[1] *= 1.05",
    "u = A.reshape(9)\nu[t % 9] += 0.1 * x[0]",
    "s = s + np.sum(A * A) * 0.01",
    "np.tanh(A, out=A)",
    "x[1:] += 0.2 * x[:-1]",
    "A[:, 0] = A[:, 0] * np.cos(x[:3])",
]

_WHILES = [
    ("z = x[:3] ** 2 + 1.0\ny = z * 1.0\nk = 0\nwhile np.max(np.abs(y * y - z)) > 1e-12 and k < 60:\n"
     "    y = 0.5 * (y + z / y)\n    k += 1\ns = s + np.sum(y * W[0])"),
    ("y = x[:3] * 0.5\nk = 0\nwhile True:\n    y_new = 0.5 * np.tanh(W @ y) + 0.3 * x[:3]\n"
     "    d = np.max(np.abs(y_new - y))\n    y = y_new\n    k += 1\n    if d < 1e-13 or k >= 80:\n"
     "        break\ns = s + np.sum(y * y)"),
    ("c = W * 1.0\nwhile np.sum(c * c) < 50.0:\n    c *= 1.3\n    c[0] += 0.1\ns = s + np.sum(c * x[:3])"),
    ("p = np.abs(x[:3]) + 0.5\nk = 0\nwhile k < 3 or np.sum(p) < 4.0:\n    p[k % 3] = p[k % 3] * 1.2 + 0.1\n"
     "    k += 1\n    if k > 40:\n        break\ns = s + np.sum(np.log(p) * W[1])"),
    ("q = W.copy()\nn_it = 0\nwhile n_it < 2 + int(np.sum(np.abs(W)) > 2.0):\n    q = q @ W * 0.5\n"
     "    q.T[0] += x[:3]\n    n_it += 1\ns = s + np.sum(q)"),
    ("v = x[:3] * 1.0\nr = 1.0\nwhile r > 1e-3:\n    v = v * 0.5 + 0.1 * np.sin(W[2])\n    r = r * 0.3\ns = s + np.sum(v * v)"),
]

_CUSTOM_DEFS = '''
@s2sgrad.custom_vjp
def csq(v):
    return v * v


def csq_fwd(v):
    return v * v, (v,)


def csq_bwd(res, g):
    (v,) = res
    return (2.0 * v * g,)


csq.defvjp(csq_fwd, csq_bwd)


@s2sgrad.custom_vjp
def cscale(v, M):
    out = v.copy()
    out *= 2.0
    return M @ out


def cscale_fwd(v, M):
    w = v.copy()
    w *= 2.0
    return M @ w, (w, M)


def cscale_bwd(res, g):
    w, M = res
    return (2.0 * (M.T @ g), np.outer(g, w))


cscale.defvjp(cscale_fwd, cscale_bwd)


@s2sgrad.custom_vjp
def cmul3(v):
    return 3.0 * v


def cmul3_fwd(v):
    return 3.0 * v, (v * 1.0,)


def cmul3_bwd(res, g):
    (v,) = res
    g *= 3.0            # (in place on the cotangent and a residual)
    v *= 0.0
    v += g
    return (v,)


cmul3.defvjp(cmul3_fwd, cmul3_bwd)


@s2sgrad.custom_jvp
def ctanh(v):
    return np.tanh(v)


@ctanh.defjvp
def ctanh_jvp(primals, tangents):
    (v,), (dv,) = primals, tangents
    t = np.tanh(v)
    return t, (1.0 - t * t) * dv


@s2sgrad.custom_jvp
def csoft(v):
    e = np.exp(v - np.max(v))
    e /= np.sum(e)
    return e


@csoft.defjvp
def csoft_jvp(primals, tangents):
    (v,), (dv,) = primals, tangents
    p = csoft(v)
    return p, p * (dv - np.sum(p * dv))
'''

_CUSTOM = [
    "y = csq(x[:3])\ny[0] += 1.0\ns = s + np.sum(y * W[0])",
    "x[:3] = cscale(x[:3], W)",
    "W[1] = ctanh(W[1] * x[:3])",
    "p = csoft(W @ x[:3])\np *= 2.0\ns = s + np.sum(p * np.cos(x[:3]))",
    "r = W[2]\nr[...] = csq(r) * 0.5",
    "x = x * 1.0\nx[1:] = ctanh(x[1:])",
    "z = cscale(np.sin(x[:3]), W.T)\nW[:, 0] += z * 0.1",
    "t = ctanh(W).reshape(9)\nt[::3] = csq(t[::3])\nW = t.reshape(3, 3)",
    "q = cmul3(W[0] * x[:3])\nq[1:] *= x[:2]\ns = s + np.sum(q * q)",
    "W[2] = cmul3(np.sin(W[2]))",
]


def _body(lines):
    return "".join("    " + ln + "\n" for st in lines for ln in st.split("\n"))


def program(seed):
    """(family, source, options)."""
    fam = FAMILIES[seed % len(FAMILIES)]
    r = random.Random(seed)
    if fam in ("composed", "export", "guards"):
        lines = ["s = 0.0"] + [r.choice(_INPLACE) for _ in range(r.randint(2, 5))]
        if r.random() < 0.5:
            lines.insert(r.randint(1, len(lines)), r.choice(_INPLACE_LOOPS))
        if fam == "guards" and r.random() < 0.5:
            lines.append("if flag:\n    s = s + np.sum(np.cos(x))")
        if fam == "guards" and (seed // 7) % 2:
            # the parameters in a container: P = {"W": ..., "b": ...}
            lines = ["W = P['W']", "b = P['b']"] + lines + ["s = s + np.sum(b * x[:3])"]
            src = "def f(x, P, flag=True):\n" + _body(lines) + "    " + _RETURN_SCALAR + "\n"
            return fam, src, {"tree": True}
        if fam == "guards":
            # a number passed as int, bool, float, NumPy scalar, 0-d array
            lines.insert(r.randint(1, len(lines)), r.choice(
                ["s = s + c * np.sum(x[:3] * W[0])", "x = x * c", "W[1] *= c",
                 "for t in range(2):\n    s = s + np.sum(W[t] ** 2) * c"]))
        body = _body(lines)
        src = "def f(x, W, flag=True" + (", c=0.5" if fam == "guards" else "") + "):\n" + \
            body + "    " + _RETURN_SCALAR + "\n"
        opts = {}
        if fam == "composed":
            src += "\n\ndef h(x, W):\n    flag = True\n" + body + "    " + _RETURN_VECTOR + "\n"
        if fam == "export":
            opts["kind"] = r.choice(["value_and_grad", "grad", "hvp", "jacobian", "vjp"])
        return fam, src, opts
    if fam == "buffers" and (seed // 7) % 2:
        lines = ["s = 0.0"] + [r.choice(_BIG) for _ in range(r.randint(4, 8))]
        return fam, "def f(x, W):\n" + _body(lines) + "    " + _RETURN_BIG + "\n", {"big": True}
    if fam == "buffers":
        pool = _BUFFERS + _INPLACE
        lines = ["s = 0.0"] + [r.choice(pool) for _ in range(r.randint(4, 8))]
        return fam, "def f(x, W):\n" + _body(lines) + "    " + _RETURN_SCALAR + "\n", {}
    if fam == "checkpoint":
        loop = [r.choice(_LOOP_BODY) for _ in range(r.randint(2, 5))]
        head = "for t in RANGE:\n"
        if (seed // 7) % 2:
            # a while loop (its trip count found by running it) of the same body
            head = "t = -1\nwhile t < n - 1:\n    t += 1\n"
        lines = ["s = 0.0", r.choice(["A = W * 1.0", "A = W.copy()", "A = np.tanh(W)"]),
                 head + _body(loop).rstrip("\n"),
                 "s = s + np.sum(A * np.sin(W)) + np.sum(A[1] * x[:3])"]
        src = "def f(x, W, n):\n" + _body(lines) + "    " + _RETURN_SCALAR + "\n"
        return fam, src, {}
    if fam == "whiles":
        lines = ["s = 0.0"] + [r.choice(_INPLACE) for _ in range(r.randint(0, 2))] + \
            [r.choice(_WHILES) for _ in range(r.randint(1, 2))]
        r.shuffle(lines[1:])
        return fam, "def f(x, W):\n" + _body(lines) + "    " + _RETURN_SCALAR + "\n", {}
    lines = ["s = 0.0"] + [r.choice(_CUSTOM + _INPLACE[:8]) for _ in range(r.randint(2, 5))]
    if not any(any(c in ln for c in ("csq", "cscale", "ctanh", "csoft", "cmul3"))
               for ln in lines):
        lines.append(r.choice(_CUSTOM))
    return fam, _CUSTOM_DEFS + "\n\ndef f(x, W):\n" + _body(lines) + "    " + _RETURN_SCALAR + "\n", {}


# ------------------------------------------------------------------ running

_HEADER = "import numpy as np\nimport s2sgrad\n\n"
_loaded = [0]


def load(src, tag="program"):
    _loaded[0] += 1
    filename = f"<trust12 {tag} {_loaded[0]}>"
    full = _HEADER + src
    linecache.cache[filename] = (len(full), None, full.splitlines(True), filename)
    mod = types.ModuleType(f"trust12_{_loaded[0]}")
    mod.__file__ = filename
    sys.modules[mod.__name__] = mod
    exec(compile(full, filename, "exec"), mod.__dict__)
    return mod.__dict__, filename


_NUMPY_ERRORS = (ValueError, IndexError, TypeError, RuntimeWarning, FloatingPointError,
                 ZeroDivisionError, np.linalg.LinAlgError, OverflowError, AttributeError,
                 KeyError)


def fresh(a):
    """A copy of ``a`` with its strides (an F-ordered array stays F-ordered,
    ``b[::2, ::2]`` and ``x[::-1]`` stay strided views, of new memory):
    NumPy's reshape makes a view or a copy by the strides, so a program's
    value may depend on them."""
    if isinstance(a, (list, tuple)):
        return type(a)(fresh(i) for i in a)
    if not isinstance(a, np.ndarray):
        return copy.deepcopy(a)
    if a.flags.c_contiguous or a.flags.f_contiguous or a.ndim == 0:
        return a.copy(order="K")
    strides = [abs(s) for s in a.strides]
    span = sum((n - 1) * s for n, s in zip(a.shape, strides)) + a.itemsize
    buf = np.zeros(span // a.itemsize + 1, dtype=a.dtype)
    v = np.lib.stride_tricks.as_strided(buf, a.shape, strides, writeable=True)
    v = v[tuple(slice(None, None, -1) if s < 0 else slice(None) for s in a.strides)]
    v[...] = a
    assert v.strides == a.strides
    return v


def _numpy(f, args, kwargs=None):
    """f run by NumPy on copies of the arguments (warnings are errors)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return f(*fresh(tuple(args)), **copy.deepcopy(kwargs or {}))
    except _NUMPY_ERRORS:
        raise Invalid from None


def _fd_leaf(f, args, i, eps, kwargs=None):
    """Central differences of f (scalar or array valued) in args[i]
    (shape out.shape + args[i].shape)."""
    orig = args[i]
    base = np.array(orig, dtype=np.float64)
    cols = []
    for idx in np.ndindex(base.shape):
        vals = []
        for sign in (1.0, -1.0):
            a = list(args)
            xs = base.copy()
            xs[idx] += sign * eps
            if isinstance(orig, np.ndarray):
                # the argument's dtype (float32: the function's own rounding)
                # and strides, perturbed
                new = fresh(orig)
                new[...] = xs.astype(orig.dtype) if orig.dtype.kind == "f" else xs
                xs = new if orig.dtype.kind == "f" else xs
            a[i] = xs
            vals.append(np.asarray(_numpy(f, a, kwargs), dtype=np.float64))
        cols.append((vals[0] - vals[1]) / (2 * eps))
    out = np.stack(cols, axis=-1) if cols else np.zeros(np.shape(_numpy(f, args, kwargs)) + (0,))
    return out.reshape(np.shape(cols[0] if cols else ()) + base.shape)


def differences(f, args, wrts, kwargs=None, f32=False):
    """{i: central differences} at two steps, or Invalid where they disagree
    (not smooth there) or the value is not finite."""
    v = _numpy(f, args, kwargs)
    if not np.all(np.isfinite(v)) or np.max(np.abs(v)) > 1e8:
        raise Invalid
    steps = (1e-3, 3e-3) if f32 else (1e-6, 1e-4)
    out = {}
    for i in wrts:
        a = _fd_leaf(f, args, i, steps[0], kwargs)
        b = _fd_leaf(f, args, i, steps[1], kwargs)
        if not np.allclose(a, b, rtol=1e-3 if not f32 else 1e-2, atol=1e-4 if not f32 else 1e-3):
            raise Invalid
        out[i] = a
    return out


def close(got, want, what, rtol=1e-6, atol=1e-7):
    got = np.asarray(got)
    want = np.asarray(want)
    if got.shape != want.shape or not np.allclose(got, want, rtol=rtol, atol=atol):
        raise Failure(f"{what}: {got!r} vs {want!r}")


def value_close(got, want, what, f32=False, exact=False):
    if exact:
        ok = np.array_equal(got, want)
    else:
        ok = np.allclose(got, want, rtol=1e-5 if f32 else 1e-10, atol=1e-10)
    if np.shape(got) != np.shape(want) or not ok:
        raise Failure(f"{what}: value {got!r} vs NumPy {want!r}")
    if isinstance(want, (np.ndarray, np.generic)) and \
            np.asarray(got).dtype != np.asarray(want).dtype:
        raise Failure(f"{what}: value's dtype {np.asarray(got).dtype} vs NumPy's "
                      f"{np.asarray(want).dtype}")


def _unchanged(args, kept, what):
    for a, k in zip(args, kept):
        if isinstance(k, np.ndarray) and not np.array_equal(a, k):
            raise Failure(f"{what}: an argument was modified: {a!r} (was {k!r})")


def _refusal(exc, filename, verbose):
    """A refusal must name the program's line (the program's file)."""
    msg = str(exc)
    if isinstance(exc, S2SGradError) and "<trust12" not in msg and filename not in msg:
        # refusals raised where the construct is unknown at compile time
        # (InputError, run-time data checks) need not name a line
        if type(exc).__name__ not in ("InputError", "SharedArgumentsError", "DataRefusedError",
                                      "OutputTypeError", "OutputError", "ExportError"):
            raise Failure(f"refusal without the program's line: {msg[:300]}")
    if verbose:
        print("  refused:", msg[:300])
    return "refused"


def _is_refusal(exc):
    return isinstance(exc, S2SGradError) or (
        isinstance(exc, ValueError) and str(exc).startswith("s2sgrad"))


def _point(seed, k=3, f32=False):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=k) * 0.6
    W = rng.normal(size=(3, 3)) * 0.4
    if f32:
        x = x.astype(np.float32)
    return x, W


# ------------------------------------------------------------------ families

def _check_first(vg, f, args, what, kwargs=None, f32=False, wrts=(0, 1)):
    kept = copy.deepcopy(args)
    want = _numpy(f, args, kwargs)
    fd = differences(f, args, wrts, kwargs, f32)
    got, grads = vg(*args, **(kwargs or {}))
    _unchanged(args, kept, what)
    value_close(got, want, what, f32)
    if not isinstance(grads, tuple):
        grads = (grads,)
    for i, g in zip(wrts, grads):
        if np.shape(g) != np.shape(args[i]):
            raise Failure(f"{what}: gradient {i} has shape {np.shape(g)}, argument "
                          f"{np.shape(args[i])}")
        tol = 2e-2 if f32 else 1e-5
        close(g, fd[i], f"{what}: gradient in argument {i}", rtol=tol, atol=tol / 10)
    return want, grads


def _composed(ns, seed):
    f, h = ns["f"], ns["h"]
    x, W = _point(seed)
    v = np.random.default_rng(seed + 1).normal(size=3)
    _, (gx, gW) = _check_first(s2sgrad.value_and_grad(f, wrt=(0, 1)), f, (x, W), "value_and_grad")
    g = s2sgrad.grad(f)

    def g_np(x_, W_):
        return g(x_, W_)
    # the Hessian by differences of the checked compiled gradient
    Hfd = differences(g_np, (x, W), (0,))[0]
    H = s2sgrad.hessian(f)(x, W)
    close(H, Hfd, "hessian", rtol=1e-5, atol=1e-6)
    for mode in ("forward", "reverse"):
        J = s2sgrad.jacobian(s2sgrad.grad(f), mode=mode)(x, W)
        close(J, Hfd, f"jacobian(grad(f), mode={mode!r})", rtol=1e-5, atol=1e-6)
    close(s2sgrad.hvp(f)((x, W), v), Hfd @ v, "hvp", rtol=1e-5, atol=1e-6)
    out, t = s2sgrad.jvp(f)((x, W), (v,))
    value_close(out, _numpy(f, (x, W)), "jvp's value")
    close(t, gx @ v, "jvp's tangent", rtol=1e-6, atol=1e-8)
    _, tg = s2sgrad.jvp(s2sgrad.grad(f))((x, W), (v,))
    close(tg, Hfd @ v, "jvp(grad(f))", rtol=1e-5, atol=1e-6)
    out, pb = s2sgrad.vjp(f, wrt=(0, 1))(x, W)
    value_close(out, _numpy(f, (x, W)), "vjp's value")
    for c in (1.0, -2.5):
        px, pW = pb(c)
        close(px, c * gx, f"vjp's pullback({c}) in x", rtol=1e-9, atol=1e-10)
        close(pW, c * gW, f"vjp's pullback({c}) in W", rtol=1e-9, atol=1e-10)
    Jfd = differences(h, (x, W), (0, 1))
    for mode in ("forward", "reverse"):
        Jx, JW = s2sgrad.jacobian(h, wrt=(0, 1), mode=mode)(x, W)
        close(Jx, Jfd[0], f"jacobian(h, mode={mode!r}) in x")
        close(JW, Jfd[1], f"jacobian(h, mode={mode!r}) in W")
    return "ok"


def _export(ns, seed, opts, filename):
    f = ns["f"]
    kind = opts["kind"]
    x, W = _point(seed)
    v = np.random.default_rng(seed + 1).normal(size=3)
    _numpy(f, (x, W))       # (a program NumPy refuses is invalid: export runs it)
    if kind == "value_and_grad":
        tf = s2sgrad.value_and_grad(f, wrt=(0, 1))
    elif kind == "grad":
        tf = s2sgrad.grad(f, wrt=1)
    elif kind == "hvp":
        tf = s2sgrad.hvp(f)
    elif kind == "jacobian":
        tf = s2sgrad.jacobian(s2sgrad.grad(f))
    else:
        tf = s2sgrad.vjp(f, wrt=(0, 1))

    def call_args(x_, W_):
        return ((x_, W_), v[:x_.shape[0]] if x_.shape[0] <= 3 else
                np.resize(v, x_.shape)) if kind == "hvp" else (x_, W_)
    ex_args = call_args(x, W)
    text = s2sgrad.export(tf, example_args=ex_args if kind == "hvp" else ex_args)
    mod = types.ModuleType(f"trust12_export_{_loaded[0]}")
    exec(compile(text, f"<trust12 export {_loaded[0]}>", "exec"), mod.__dict__)
    name = {"value_and_grad": "f_value_and_grad", "grad": "f_grad", "hvp": "f_hvp",
            "jacobian": "f_grad_jacobian", "vjp": "f_vjp"}[kind]
    if not hasattr(mod, name):
        cands = [k for k in vars(mod) if k.startswith("f_") and callable(getattr(mod, k))
                 and not k.endswith(("_generic", "_specialised"))]
        raise Failure(f"export: no public function {name!r} (has {cands})")
    pub = getattr(mod, name)
    rng = np.random.default_rng(seed + 7)
    points = [(x, W), (x + 0.1, W * 0.9), (x.astype(np.float32), W),
              (x, np.asfortranarray(W)), (rng.normal(size=4) * 0.6, W)]
    for i, (xp, Wp) in enumerate(points):
        try:
            _numpy(f, (xp, Wp))
        except Invalid:
            if i == 0:
                raise
            continue
        a = call_args(xp, Wp)
        kept = copy.deepcopy(a)
        try:
            want = tf(*a) if kind == "hvp" else tf(*a)
        except Exception as exc:        # noqa: BLE001
            if _is_refusal(exc):
                continue
            raise
        try:
            got = pub(*a)
        except Exception as exc:        # noqa: BLE001
            raise Failure(f"export point {i}: the exported module raised where the "
                          f"in-process one did not: {type(exc).__name__}: {exc}"[:500]) from None
        _unchanged(a if kind != "hvp" else a[0], kept if kind != "hvp" else kept[0],
                   f"export point {i}")
        if kind == "vjp":
            (vo, pb), (vo2, pb2) = want, got
            value_close(vo2, vo, f"export point {i}: vjp value", f32=xp.dtype == np.float32)
            f32 = xp.dtype == np.float32
            for c in (1.0, 0.5):
                for a1, a2 in zip(pb(c), pb2(c)):
                    close(a2, a1, f"export point {i}: pullback", rtol=1e-5 if f32 else 1e-12,
                          atol=1e-6 if f32 else 1e-13)
            want_v = vo
        else:
            w_flat = want if kind != "value_and_grad" else (want[0],) + tuple(want[1])
            g_flat = got if kind != "value_and_grad" else (got[0],) + tuple(got[1])
            if not isinstance(w_flat, tuple):
                w_flat, g_flat = (w_flat,), (g_flat,)
            if len(w_flat) != len(g_flat):
                raise Failure(f"export point {i}: {len(g_flat)} results for {len(w_flat)}")
            # (float32: the exported polymorphic code and the in-process
            # specialised code may round differently)
            f32 = xp.dtype == np.float32
            for j, (p, q) in enumerate(zip(g_flat, w_flat)):
                close(p, q, f"export point {i}: result {j} vs in process",
                      rtol=1e-5 if f32 else 1e-12, atol=1e-6 if f32 else 1e-13)
                if np.asarray(p).dtype != np.asarray(q).dtype:
                    raise Failure(f"export point {i}: result {j} dtype {np.asarray(p).dtype} "
                                  f"vs in process {np.asarray(q).dtype}")
            want_v = want[0] if kind == "value_and_grad" else None
        if want_v is not None:
            value_close(want_v, _numpy(f, (xp, Wp)), f"export point {i}: in-process value",
                        f32=xp.dtype == np.float32)
        if i == 0 and kind in ("value_and_grad", "vjp"):
            # the in-process gradient itself against central differences
            _check_first(s2sgrad.value_and_grad(f, wrt=(0, 1)), f, (xp, Wp), "value_and_grad")
    return "ok"


def _directional(f, args, grads, seed, what):
    """grads . d against central differences along random directions d (two
    steps that must agree, else 'invalid')."""
    rng = np.random.default_rng(seed)
    for i, g in enumerate(grads):
        d = rng.normal(size=np.shape(args[i]))
        fds = []
        for eps in (1e-6, 1e-4):
            vals = []
            for sign in (1.0, -1.0):
                a = list(args)
                a[i] = args[i] + sign * eps * d
                vals.append(float(_numpy(f, a)))
            fds.append((vals[0] - vals[1]) / (2 * eps))
        if abs(fds[0] - fds[1]) > 1e-4 * max(1.0, abs(fds[0])):
            raise Invalid
        got = float(np.sum(g * d))
        if abs(got - fds[0]) > 1e-6 * max(1.0, abs(fds[0])) + 1e-7 * np.sum(np.abs(g * d)):
            raise Failure(f"{what}: gradient in argument {i} along a direction: {got!r} vs "
                          f"differences {fds[0]!r}")


def _buffers_big(ns, seed):
    f = ns["f"]
    rng = np.random.default_rng(seed)
    vg = s2sgrad.value_and_grad(f, wrt=(0, 1))
    for k in range(2):
        x = rng.normal(size=90000) * 0.6
        W = rng.normal(size=(300, 300)) * 0.4
        want = _numpy(f, (x, W))
        if not np.isfinite(want):
            raise Invalid
        kept = (x.copy(), W.copy())
        v, g = vg(x, W)
        _unchanged((x, W), kept, f"call {k}")
        value_close(v, want, f"call {k}")
        _directional(f, (x, W), g, seed + k, f"call {k}")
    return "ok"


def _buffers(ns, seed):
    f = ns["f"]
    x, W = _point(seed)
    want, (gx, gW) = _check_first(s2sgrad.value_and_grad(f, wrt=(0, 1)), f, (x, W),
                                  "value_and_grad")
    g = s2sgrad.grad(f, wrt=(0, 1))(x, W)
    close(g[0], gx, "grad vs value_and_grad in x", rtol=1e-12, atol=1e-13)
    close(g[1], gW, "grad vs value_and_grad in W", rtol=1e-12, atol=1e-13)
    out, pb = s2sgrad.vjp(f, wrt=(0, 1))(x, W)
    value_close(out, want, "vjp's value")
    px, pW = pb(1.0)
    close(px, gx, "vjp vs grad in x", rtol=1e-12, atol=1e-13)
    close(pW, gW, "vjp vs grad in W", rtol=1e-12, atol=1e-13)
    # second call at another point (buffers kept between calls)
    x2, W2 = _point(seed + 1000)
    _check_first(s2sgrad.value_and_grad(f, wrt=(0, 1)), f, (x2, W2), "second point")
    return "ok"


_SCHEDULES = (None, "sqrt", "binomial1", "binomial3", "budget")


def _schedule(name):
    if name == "binomial1":
        return s2sgrad.Binomial(1)
    if name == "binomial3":
        return s2sgrad.Binomial(3)
    if name == "budget":
        return s2sgrad.Budget(bytes=600)
    return name


def _checkpoint(src, seed, verbose):
    plain, _ = load(src.replace("RANGE", "range(n)"))
    marked, _ = load(src.replace("RANGE", "s2sgrad.checkpointed(range(n), snapshots=2)"))
    f = plain["f"]
    fns = [(s, s2sgrad.value_and_grad(f, wrt=(0, 1), checkpoint=_schedule(s)))
           for s in _SCHEDULES]
    if "RANGE" in src:
        fns.append(("checkpointed()", s2sgrad.value_and_grad(marked["f"], wrt=(0, 1))))
    checked = 0
    for n in (3, 0, 1, 2, 5, 7):
        x, W = _point(seed + n)
        try:
            want = _numpy(f, (x, W, n))
            fd = differences(f, (x, W, n), (0, 1))
        except Invalid:
            continue
        ref = None
        for name, vg in fns:
            kept = copy.deepcopy((x, W))
            v, (gx, gW) = vg(x, W, n)
            _unchanged((x, W), kept, f"checkpoint={name}, n={n}")
            value_close(v, want, f"checkpoint={name}, n={n}")
            close(gx, fd[0], f"checkpoint={name}, n={n}: gradient in x", rtol=1e-5, atol=1e-6)
            close(gW, fd[1], f"checkpoint={name}, n={n}: gradient in W", rtol=1e-5, atol=1e-6)
            if ref is None:
                ref = (v, gx, gW)
            else:
                # the schedules recompute with the same primitives
                for p, q, w in zip((v, gx, gW), ref, ("value", "x", "W")):
                    close(p, q, f"checkpoint={name}, n={n}: {w} vs no checkpoint",
                          rtol=1e-12, atol=1e-14)
        if n in (3, 5):
            # second order and the pullback under each schedule
            g = s2sgrad.grad(f)
            Hv_fd = differences(lambda x_, W_: g(x_, W_, n), (x, W), (0,))[0]
            v = np.random.default_rng(seed).normal(size=3)
            for name in _SCHEDULES:
                hv = s2sgrad.hvp(f, checkpoint=_schedule(name))((x, W, n), v)
                close(hv, Hv_fd @ v, f"hvp checkpoint={name}, n={n}", rtol=1e-5, atol=1e-6)
                out, pb = s2sgrad.vjp(f, wrt=(0, 1), checkpoint=_schedule(name))(x, W, n)
                value_close(out, want, f"vjp checkpoint={name}, n={n}")
                for c in (1.0, -0.5, 1.0):
                    px, pW = pb(c)
                    close(px, c * ref[1], f"vjp checkpoint={name}, n={n}: pullback({c}) in x",
                          rtol=1e-12, atol=1e-14)
                    close(pW, c * ref[2], f"vjp checkpoint={name}, n={n}: pullback({c}) in W",
                          rtol=1e-12, atol=1e-14)
        checked += 1
    if not checked:
        raise Invalid
    return "ok"


def _leaves(P):
    return [(k, P[k]) for k in ("W", "b")]


def _tree_calls(f, seed, verbose):
    """f(x, P) with P a dict of W and b, called through one compiled object
    with other containers, leaf kinds and key orders."""
    import collections
    vg = s2sgrad.value_and_grad(f, wrt=(0, 1))
    x, W = _point(seed)
    b = np.random.default_rng(seed + 9).normal(size=3) * 0.5
    trees = [
        {"W": W, "b": b},
        {"b": b, "W": W},
        {"W": W.astype(np.float32), "b": 0.5},
        {"W": W, "b": np.float64(-0.25)},
        {"W": W, "b": b, "extra": 1.0},
        {"W": np.asfortranarray(W), "b": b[::-1]},
        collections.OrderedDict(W=W, b=b),
        {"W": W, "b": np.array(0.3)},
        {"W": W, "b": b.astype(np.float32)},
        {"W": W, "b": b},
    ]
    ok = 0
    for i, P in enumerate(trees):
        kinds = {k: v for k, v in P.items()}

        def flat(x_, W_, b_, P=P):
            Q = type(P)(P)
            Q["W"] = W_
            Q["b"] = b_
            return f(x_, Q)
        try:
            want = _numpy(f, (x, P))
            args = (x, P["W"], P["b"])
            f32 = any(np.asarray(t).dtype == np.float32 for t in args)
            fd = differences(flat, args, (0, 1, 2), None, f32)
        except Invalid:
            continue
        kept = copy.deepcopy(P)
        try:
            got, (gx, gP) = vg(x, P)
        except Exception as exc:        # noqa: BLE001
            if _is_refusal(exc):
                if verbose:
                    print(f"  tree {i} refused: {str(exc)[:200]}")
                continue
            raise Failure(f"tree {i}: {type(exc).__name__}: {exc}"[:500]) from None
        for k in P:
            if isinstance(kept[k], np.ndarray) and not np.array_equal(P[k], kept[k]):
                raise Failure(f"tree {i}: the argument's {k!r} was modified")
        value_close(got, want, f"tree {i}", f32)
        if not isinstance(gP, dict) or list(gP) != list(P):
            raise Failure(f"tree {i}: gradient {type(gP).__name__} with keys "
                          f"{list(gP) if isinstance(gP, dict) else None} for keys {list(P)}")
        tol = 2e-2 if f32 else 1e-5
        close(gx, fd[0], f"tree {i}: gradient in x", rtol=tol, atol=tol / 10)
        close(gP["W"], fd[1], f"tree {i}: gradient in P['W']", rtol=tol, atol=tol / 10)
        close(gP["b"], fd[2], f"tree {i}: gradient in P['b']", rtol=tol, atol=tol / 10)
        for k, leaf in kinds.items():
            g = gP[k]
            if isinstance(leaf, float) and not isinstance(leaf, np.generic):
                if type(g) is not float:
                    raise Failure(f"tree {i}: gradient of the Python float {k!r} is "
                                  f"{type(g).__name__}")
            elif isinstance(leaf, (np.ndarray, np.generic)) and \
                    (np.shape(g) != np.shape(leaf) or np.asarray(g).dtype != leaf.dtype):
                raise Failure(f"tree {i}: gradient of {k!r} has shape/dtype "
                              f"{np.shape(g)}/{np.asarray(g).dtype} for "
                              f"{np.shape(leaf)}/{leaf.dtype}")
        ok += 1
    if not ok:
        raise Invalid
    return "ok"


def _guards(ns, seed, verbose):
    f = ns["f"]
    if "P" in f.__code__.co_varnames[:2]:
        return _tree_calls(f, seed, verbose)
    vg = s2sgrad.value_and_grad(f, wrt=(0, 1))
    x, W = _point(seed)
    rng = np.random.default_rng(seed + 3)
    big = rng.normal(size=(5, 5)) * 0.4
    calls = [
        ((x, W), {}),
        ((x.astype(np.float32), W), {}),
        ((x, W.astype(np.float32)), {}),
        ((x, np.asfortranarray(W)), {}),
        ((x, big[::2, ::2]), {}),
        ((rng.normal(size=5) * 0.6, W), {}),
        ((list(x), W), {}),
        ((tuple(x), W), {}),
        ((x, W), {"flag": False}),
        ((x,), {"W": W}),
        ((x, W, np.bool_(False)), {}),
        ((x, W), {}),
        ((x, W), {"flag": 0.0}),
        ((x, W), {"c": 2}),
        ((x, W), {"c": 3}),
        ((x, W), {"c": True}),
        ((x, W), {"c": np.int64(2)}),
        ((x, W), {"c": np.float32(0.75)}),
        ((x, W), {"c": np.array(1.25)}),
        ((x, W), {"c": np.array([0.5])}),
        ((x, W), {"c": -1.5}),
        ((x, rng.normal(size=(3, 3)).astype(np.float32) * 0.4), {}),
        ((np.array([1, 2, -1]), W), {}),
        ((x, [list(r) for r in W]), {}),
        ((x[::-1], W.T), {}),
    ]
    ok = 0
    for i, (a, kw) in enumerate(calls):
        full = list(a) + ([kw["W"]] if "W" in kw else [])
        kw_rest = {k: v for k, v in kw.items() if k != "W"}
        f32 = any(np.asarray(t).dtype == np.float32 for t in full)
        try:
            want = _numpy(f, tuple(full), kw_rest)
            fd = differences(f, tuple(full), (0, 1), kw_rest, f32)
            if np.size(want) == 1 and np.ndim(want) > 0:
                # (an output of shape (1,), c = np.array([0.5]): its one element's gradient)
                fd = {i: d.reshape(np.shape(full[i])) for i, d in fd.items()}
        except Invalid:
            continue
        kept = copy.deepcopy(a)
        try:
            got, (gx, gW) = vg(*a, **kw)
        except Exception as exc:        # noqa: BLE001
            if _is_refusal(exc):
                if verbose:
                    print(f"  call {i} refused: {str(exc)[:200]}")
                continue
            raise Failure(f"call {i}: {type(exc).__name__}: {exc}"[:500]) from None
        _unchanged(a, kept, f"call {i}")
        value_close(got, want, f"call {i}", f32)
        tol = 2e-2 if f32 else 1e-5
        close(gx, fd[0], f"call {i}: gradient in x", rtol=tol, atol=tol / 10)
        close(gW, fd[1], f"call {i}: gradient in W", rtol=tol, atol=tol / 10)
        for g, arg in ((gx, full[0]), (gW, full[1])):
            if np.shape(g) != np.shape(arg):
                raise Failure(f"call {i}: gradient of shape {np.shape(g)} for an argument "
                              f"of shape {np.shape(arg)}")
        ok += 1
    # x a view of W's row: NumPy's writes into one change the other; the
    # value must be NumPy's (or the call refused)
    Wa = fresh(W)
    xa, kept = Wa[1], Wa.copy()
    Wr = fresh(W)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            want = f(Wr[1], Wr)
    except _NUMPY_ERRORS:
        want = None
    if want is not None and np.isfinite(want):
        try:
            got, _ = vg(xa, Wa)
        except Exception as exc:        # noqa: BLE001
            if not _is_refusal(exc):
                raise Failure(f"shared arguments: {type(exc).__name__}: {exc}"[:500]) from None
        else:
            _unchanged((Wa,), (kept,), "shared arguments")
            value_close(got, want, "shared arguments (x is W[1])")
    if not ok:
        raise Invalid
    return "ok"


def _second(f, x, W, what):
    """hessian and hvp in x against differences of the (checked) gradient."""
    g = s2sgrad.grad(f)
    Hfd = differences(lambda x_, W_: g(x_, W_), (x, W), (0,))[0]
    close(s2sgrad.hessian(f)(x, W), Hfd, f"{what}: hessian", rtol=1e-5, atol=1e-6)
    v = np.random.default_rng(5).normal(size=x.shape)
    close(s2sgrad.hvp(f)((x, W), v), Hfd @ v, f"{what}: hvp", rtol=1e-5, atol=1e-6)


def _plain(ns, seed, jvp=False):
    f = ns["f"]
    for k in range(2):
        x, W = _point(seed + 17 * k)
        _, (gx, gW) = _check_first(s2sgrad.value_and_grad(f, wrt=(0, 1)), f, (x, W),
                                   f"point {k}")
        if jvp:
            v = np.random.default_rng(seed).normal(size=3)
            V = np.random.default_rng(seed + 1).normal(size=(3, 3))
            out, t = s2sgrad.jvp(f, wrt=(0, 1))((x, W), (v, V))
            value_close(out, _numpy(f, (x, W)), f"point {k}: jvp's value")
            close(t, gx @ v + np.sum(gW * V), f"point {k}: jvp's tangent", rtol=1e-6,
                  atol=1e-8)
        if k == 0:
            _second(f, x, W, f"point {k}")
    return "ok"


def check_source(fam, src, opts, seed, verbose=False):
    """'ok', 'refused', 'invalid' or raises Failure."""
    filename = None
    try:
        if fam == "checkpoint":
            return _checkpoint(src, seed, verbose)
        ns, filename = load(src)
        if fam == "composed":
            return _composed(ns, seed)
        if fam == "export":
            return _export(ns, seed, opts, filename)
        if fam == "buffers":
            return _buffers_big(ns, seed) if opts.get("big") else _buffers(ns, seed)
        if fam == "guards":
            return _guards(ns, seed, verbose)
        return _plain(ns, seed, jvp=fam == "custom")
    except Invalid:
        return "invalid"
    except Failure:
        raise
    except Exception as exc:            # noqa: BLE001
        if _is_refusal(exc):
            return _refusal(exc, filename or "<trust12", verbose)
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
