"""Differential checks aimed at session 20's risky changes (trust8; not a
test module).

Five families of random programs (``seed % 5``):

* ``cse``: straight-line code that computes the same subexpression several
  times (``np.sin(x) * W[0]`` for two names, again after a write), takes
  views of the results (``a[1:]``, ``a[::-1]``, ``a.reshape(3)``), writes
  through names, views, ``out=`` and into the argument ``x`` itself, and
  reads everything afterwards: common-subexpression elimination, dead-code
  elimination, buffer sharing and broadcast elision must see every write.
* ``lists``: a loop (``for``/``while``, trip count 0 to 4) appends states,
  views, copies of states to a list, reads it inside the loop (``hs[-1]``,
  ``hs[t - 1]``), writes into the state or the list after appending, and
  after the loop reads the list by index, by iteration, by a generator
  expression, by ``np.stack`` and ``sum``: the list rows of list_arrays.py.
* ``aux``: ``f`` returns ``(loss, aux)`` where aux is an argument, a view
  of one, an intermediate, a container of them; the loss may be linear in
  ``x`` so the gradient is an argument (``W[0]``) itself: value_and_grad,
  grad and vjp with ``has_aux``; aux must equal NumPy's, no gradient may
  share memory with aux or an argument, and writing into one returned
  array must not change another.
* ``containers``: ``f(p, x)`` with ``p`` a dict / tuple / list of float64
  and float32 arrays, 0-d arrays, Python floats and nested containers: the
  gradient has ``p``'s structure and each leaf's kind and equals central
  differences leaf by leaf.
* ``scipy``: scipy.special / stats / linalg / signal / fft functions at edge
  arguments (large and tiny magnitudes, near domain ends) summed into a
  loss.

Every program's value is compared with plain NumPy on copies of the
arguments, its gradient with central differences at two steps (a program
whose two differences disagree is not smooth there: 'invalid'), and
value_and_grad, grad (tuple ``wrt``), vjp's pullback and jvp's tangent with
each other; the caller's arguments must be unchanged.  A program s2sgrad
refuses (an :class:`S2SGradError`) counts as 'refused' (``-v`` prints why),
one NumPy rejects or that warns as 'invalid', never as a pass or a failure.

    PYTHONPATH=. nice -n 10 python -m tests.trust8_harness 0 500 [-v]
    PYTHONPATH=. python -m tests.trust8_harness show SEED
"""
from __future__ import annotations

import copy
import linecache
import random
import sys
import warnings

import numpy as np
import scipy.fft
import scipy.linalg
import scipy.signal
import scipy.special
import scipy.stats

import s2sgrad
from s2sgrad import S2SGradError

FAMILIES = ("cse", "lists", "aux", "containers", "scipy", "helpers")

# ------------------------------------------------------------------ programs

# few expressions, so the same one is written often (common subexpressions)
_EXPRS = ["np.sin(x) * W[0]", "np.tanh(W @ x)", "x * x + 1.0", "np.exp(x * 0.5)",
          "W[1] * x"]
_VIEWS = ["{n}[1:]", "{n}[::-1]", "{n}[::2]", "{n}.reshape(3)", "{n}[:]", "{n}"]


def _cse(r):
    names = ["a", "b", "c"]
    lines = [f"{n} = {r.choice(_EXPRS)}" for n in names]
    lines += ["s = 0.0", f"v = {r.choice(_VIEWS).format(n=r.choice(names))}"]
    for _ in range(r.randint(3, 9)):
        n, m = r.choice(names), r.choice(names)
        e = r.choice(_EXPRS)
        lines.append(r.choice([
            f"{n} = {e}",
            f"{n} = {m}",
            f"v = {r.choice(_VIEWS).format(n=n)}",
            "v *= 1.5",
            f"v[0] = ({e})[0]",
            "v += 0.25",
            "v[...] = np.sin(v)",
            f"{n} += {e}",
            f"{n}[1] = np.cos({m}[2])",
            f"np.multiply({n}, 0.5, out={n})",
            f"{n} = {n} * 2.0",
            "x[0] = x[1] * 2.0",
            "x *= 1.1",
            f"s = s + np.sum({n} * {m})",
            "s = s + np.sum(v ** 2)",
            f"s = s + np.sum({e})",
            f"s = s + np.sum({e} * {n})",
        ]))
    lines.append("return s + np.sum(a) + np.sum(b * c) + np.sum(v)")
    return "def f(x, W, T):\n" + "".join("    " + ln + "\n" for ln in lines)


_STEPS = ["np.tanh(W @ h + x)", "h * 0.9 + np.sin(x)", "np.sin(h) * x", "h + 0.1 * (W @ h)"]
_APPENDED = ["h", "h * 1.0", "h[::-1]", "h.copy()", "np.tanh(h)", "h[1:]"]


def _lists(r):
    lines = ["h = x * 1.0", "hs = []", "s = 0.0"]
    appended = r.choice(_APPENDED)
    if r.random() < 0.5:
        lines.append("for t in range(T):")
        pre = []
    else:
        lines += ["t = 0", "while t < T:"]
        pre = ["t += 1"]
    body = pre + [f"h = {r.choice(_STEPS)}", f"hs.append({appended})"]
    for _ in range(r.randint(0, 2)):
        body.append(r.choice([
            "s = s + np.sum(hs[-1] * x)",
            "s = s + np.sum(hs[len(hs) - 1] ** 2)",
            "if len(hs) > 1:\n            s = s + np.sum(hs[-2] * h)",
            "h *= 0.9",
            "h = h * 0.9",
            "s = s + sum(np.sum(g) for g in hs)",
        ]))
    lines += ["    " + b for b in body]
    for _ in range(r.randint(0, 2)):
        lines.append(r.choice([
            "if len(hs) > 0:\n        hs[0] = hs[0] * 2.0",
            "hs.append(x * 2.0)",
            "h *= 0.5",
            "if len(hs) > 0:\n        hs[-1] = np.sin(hs[-1])",
            "h = h + 1.0",
            "if len(hs) > 0:\n        hs[0] *= 2.0",
        ]))
    reads = ["s = s + sum(np.sum(g * x[:g.shape[0]]) for g in hs)",
             "for g in hs:\n        s = s + np.sum(np.tanh(g))",
             "if len(hs) > 0:\n        s = s + np.sum(hs[0] ** 2)",
             "if len(hs) > 0:\n        s = s + np.sum(hs[-1] * hs[0])",
             "if len(hs) > 0:\n        s = s + np.sum(np.stack(hs) ** 2)",
             "s = s + sum(np.sum(hs[i] * hs[i - 1]) for i in range(1, len(hs)))",
             "s = s + np.sum(sum(hs))",
             "for k in range(len(hs)):\n        s = s + np.sum(hs[k]) * (k + 1)",
             "s = s + sum([np.sum(g ** 2) for g in hs])"]
    for _ in range(r.randint(1, 3)):
        lines.append(r.choice(reads))
    lines.append("return s + np.sum(h ** 2)")
    return "def f(x, W, T):\n" + "".join("    " + ln + "\n" for ln in lines)


_AUX = ["x", "x[1:]", "y", "z[::-1]", "{'y': y, 'x': x}", "(z, x)", "W", "W[0]",
        "x.reshape(3, 1)", "loss", "[y, z]", "W.T", "a"]
_LOSS = ["np.sum(z ** 2) + np.sum(x)", "np.sum(x * W[0])", "np.sum(a * x)",
         "np.sum(y * x) + np.sum(W[1] * x)", "np.sum(x) * 2.0", "np.sum(z * a)"]


def _aux(r):
    lines = ["y = np.tanh(W @ x)", "z = y * x", r.choice(["a = W[0]", "a = x", "a = y",
                                                          "a = W[0] * 1.0", "a = z[::-1]"])]
    if r.random() < 0.3:
        lines.append(r.choice(["a = a * 2.0", "z = z + a"]))
    lines.append(f"loss = {r.choice(_LOSS)}")
    lines.append(f"return loss, {r.choice(_AUX)}")
    return "def f(x, W, T):\n" + "".join("    " + ln + "\n" for ln in lines)


def _container_arg(r, depth=0):
    kind = r.choice(["dict", "tuple", "list"] if depth < 1 else ["dict", "tuple"])
    n = r.randint(1, 3)
    leaves = []
    for i in range(n):
        c = r.random()
        if c < 0.15 and depth < 1:
            leaves.append(_container_arg(r, depth + 1))
        else:
            leaves.append(r.choice(["a3", "a3", "f32", "float", "zd", "a33", "npf"]))
    if kind == "dict":
        return ("dict", {f"k{i}": v for i, v in enumerate(leaves)})
    return (kind, leaves)


def _leaf_exprs(spec, path):
    kind, items = spec
    pairs = items.items() if kind == "dict" else enumerate(items)
    out = []
    for k, v in pairs:
        p = f"{path}[{k!r}]"
        if isinstance(v, tuple):
            out += _leaf_exprs(v, p)
        else:
            out.append((p, v))
    return out


def _containers(r):
    spec = _container_arg(r)
    terms = []
    for p, kind in _leaf_exprs(spec, "p"):
        if kind == "a33":
            terms.append(r.choice([f"np.sum(np.tanh({p} @ x))", f"np.sum({p} * {p}.T)"]))
        elif kind in ("a3", "f32"):
            terms.append(r.choice([f"np.sum(np.sin({p}) * x)", f"np.sum({p} ** 2) * x[0]",
                                   f"np.sum({p}[::-1] * x)"]))
        else:
            terms.append(r.choice([f"{p} * np.sum(x)", f"np.sin({p}) * x[1]",
                                   f"{p} ** 2 + x[2]"]))
    lines = ["s = 0.0"] + [f"s = s + {t}" for t in terms]
    if r.random() < 0.3:
        p0 = _leaf_exprs(spec, "p")[0][0]
        lines.append(f"s = s + np.sum({p0} * 1.0) * s")
    lines.append("return s")
    src = "def f(p, x):\n" + "".join("    " + ln + "\n" for ln in lines)
    return src, spec


# (expression, smooth for x in (-1.5, 1.5) as written) -- edge magnitudes on purpose
_SCIPY = [
    "scipy.special.gammaln(x ** 2 + 1e-3)", "scipy.special.digamma(x ** 2 + 0.05)",
    "scipy.special.xlogy(x ** 2, x ** 2 + 1e-8)", "scipy.special.xlog1py(x, x ** 2)",
    "scipy.special.logsumexp(30.0 * x)", "scipy.special.logsumexp(x, b=W[0] ** 2 + 0.1)",
    "scipy.special.softmax(50.0 * x)", "scipy.special.log_softmax(x * 40.0)",
    "scipy.special.expit(40.0 * x)", "scipy.special.log_expit(-40.0 * x)",
    "scipy.special.log_ndtr(-12.0 * x ** 2 - 1.0)", "scipy.special.log_ndtr(8.0 * x)",
    "scipy.special.ndtr(x * 5.0)", "scipy.special.erfcx(x * 20.0)",
    "scipy.special.erfc(x * 4.0)", "scipy.special.erfinv(0.999 * np.tanh(x))",
    "scipy.special.i0e(x * 30.0)", "scipy.special.i1e(x * 30.0)",
    "scipy.special.kv(1.5, x ** 2 + 0.05)", "scipy.special.kve(0.5, x ** 2 + 1e-3)",
    "scipy.special.iv(2.0, x * 3.0)", "scipy.special.jv(1.0, x * 10.0)",
    "scipy.special.gammainc(2.5, x ** 2 + 1e-4)", "scipy.special.gammaincc(0.5, x ** 2 + 0.01)",
    "scipy.special.betainc(2.0, 3.0, 0.5 + 0.49 * np.tanh(x))",
    "scipy.special.entr(x ** 2 + 1e-6)", "scipy.special.rel_entr(x ** 2 + 0.1, W[0] ** 2 + 0.1)",
    "scipy.special.kl_div(x ** 2 + 0.1, W[1] ** 2 + 0.1)", "scipy.special.softplus(x * 50.0)",
    "scipy.special.logit(0.5 + 0.499 * np.tanh(x))", "scipy.special.expm1(x * 1e-6) * 1e6",
    "scipy.special.log1p(x * 1e-9) * 1e9", "scipy.special.sinc(x * 3.0)",
    "scipy.special.huber(0.5, x)", "scipy.special.pseudo_huber(0.3, x)",
    "scipy.special.zeta(x ** 2 + 1.5, 1.0)", "scipy.special.polygamma(1, x ** 2 + 0.2)",
    "scipy.special.spence(x ** 2 + 1e-3)", "scipy.special.owens_t(x, 0.7)",
    "scipy.special.boxcox1p(x ** 2, 0.3)", "scipy.special.wrightomega(x * 3.0)",
    "scipy.special.powm1(x ** 2 + 0.5, 1.5)", "scipy.special.cbrt(x ** 2 + 0.01)",
    "scipy.stats.norm.logpdf(x, loc=W[0], scale=W[1] ** 2 + 0.1)",
    "scipy.stats.norm.logcdf(x * 10.0)", "scipy.stats.norm.logsf(x * 10.0)",
    "scipy.stats.t.logpdf(x, 3.0)", "scipy.stats.gamma.logpdf(x ** 2 + 0.1, 2.0)",
    "scipy.stats.beta.logpdf(0.5 + 0.45 * np.tanh(x), 2.0, 3.0)",
    "scipy.stats.entropy(x ** 2 + 0.1)", "scipy.stats.gmean(x ** 2 + 0.1)",
    "scipy.stats.hmean(x ** 2 + 0.1)", "scipy.stats.skew(x + W[0])",
    "scipy.stats.kurtosis(np.concatenate([x, W[0]]))", "scipy.stats.zscore(x + W[1])",
    "scipy.stats.variation(x ** 2 + 0.5)", "scipy.stats.sem(x)",
    "scipy.stats.moment(x + W[0], 3)",
    "scipy.linalg.det(W + 2.0 * np.eye(3) + np.diag(x))",
    "scipy.linalg.inv(W + 3.0 * np.eye(3) + np.outer(x, x))",
    "scipy.linalg.expm(W * x[0])", "scipy.linalg.solve(W @ W.T + np.eye(3), x)",
    "scipy.linalg.cholesky(W @ W.T + np.eye(3) + np.diag(x ** 2))",
    "scipy.linalg.solve_triangular(np.triu(W) + 3.0 * np.eye(3), x)",
    "scipy.linalg.eigvalsh(W + W.T + np.diag(x * 3.0))",
    "scipy.linalg.sqrtm(W @ W.T + np.eye(3) + np.diag(x ** 2)).real",
    "scipy.linalg.logm(W @ W.T + np.eye(3) + np.diag(x ** 2)).real",
    "scipy.linalg.norm(x * 1e-150) * 1e150", "scipy.linalg.norm(W * x, 'fro')",
    "scipy.linalg.svdvals(W + np.diag(x))", "scipy.linalg.pinv(W + np.diag(x))",
    "scipy.linalg.toeplitz(x) @ W[0]", "scipy.linalg.block_diag(W, x[None, :])",
    "scipy.signal.lfilter([1.0, 0.5], [1.0, -0.3], x)",
    "scipy.signal.convolve(x, W[0])", "scipy.signal.correlate(x, W[1], mode='same')",
    "scipy.signal.fftconvolve(x, W[0])", "scipy.signal.detrend(x + W[0])",
    "scipy.fft.fft(x).real", "np.abs(scipy.fft.rfft(x * W[0])) ** 2",
    "scipy.fft.dct(x)", "scipy.fft.ifft(x + 1j * W[0]).imag",
]


def _scipy(r):
    lines = ["s = 0.0"]
    f32 = r.random() < 0.3
    for _ in range(r.randint(1, 3)):
        # (a float32 sample: no scalings by 1e150 and the like, which
        # overflow float32)
        e = r.choice([e for e in _SCIPY if not (f32 and "1e" in e)])
        lines.append(r.choice([f"s = s + np.sum({e})", f"s = s + np.sum(({e}) * x[0])",
                               f"s = s + np.sum(({e}) ** 2)"]))
    if f32:
        # a float32 sample: SciPy keeps float32 for some (special functions,
        # the summary statistics), float64 for others (the distributions)
        lines.insert(0, "x = x.astype(np.float32)")
        lines.insert(1, "W = W.astype(np.float32)")
    lines.append("return s")
    return "def f(x, W, T):\n" + "".join("    " + ln + "\n" for ln in lines)


_HELPER_BODIES = [
    # (a loop or a branch of an inlined helper changing the caller's list/array)
    "for t in range(T):\n        lst.append(np.tanh(W @ v) * (t + 1.0))",
    "t = 0\n    while t < T:\n        lst.append(v * (t + 0.5))\n        t += 1",
    "for t in range(T):\n        y[t % 3] = y[t % 3] * 1.5 + v[t % 3]",
    "if v[0] > 0:\n        lst.append(v * 2.0)",
    "if np.sum(v) > 0:\n        y[1] = v[2] * 3.0\n    else:\n        y *= 0.5",
    "for t in range(T):\n        if v[t % 3] > 0:\n            lst.append(v * t)",
    "lst.append(y * 1.0)\n    y[0] = v[1]",
    "for t in range(T):\n        y += np.sin(v) * 0.1",
]


def _helpers(r):
    body = r.choice(_HELPER_BODIES)
    helper = f"def helper(lst, v, y, W, T):\n    {body}\n    return lst\n\n"
    lines = ["hs = []" if r.random() < 0.7 else "hs = [x * 1.0]",
             "y = x * 1.0" if r.random() < 0.7 else "y = np.zeros(3) + x"]
    for _ in range(r.randint(1, 2)):
        arg = r.choice(["x", "-x", "np.sin(x)", "W[0] * x"])
        lines.append(r.choice([f"helper(hs, {arg}, y, W, T)", f"hs = helper(hs, {arg}, y, W, T)"]))
    lines += ["s = np.sum(y ** 2)",
              r.choice(["for h in hs:\n        s = s + np.sum(h ** 2)",
                        "s = s + sum(np.sum(h * x) for h in hs)"]),
              "return s + len(hs)"]
    return helper + "def f(x, W, T):\n" + "".join("    " + ln + "\n" for ln in lines)


def program(seed):
    """(family, source, container spec or None)."""
    r = random.Random(seed)
    fam = FAMILIES[seed % len(FAMILIES)]
    if fam == "containers":
        src, spec = _containers(r)
        return fam, src, spec
    return fam, {"cse": _cse, "lists": _lists, "aux": _aux, "scipy": _scipy,
                 "helpers": _helpers}[fam](r), None


# ------------------------------------------------------------------ running

_loaded = [0]


def load(src):
    _loaded[0] += 1
    filename = f"<trust8 program {_loaded[0]}>"
    full = "import numpy as np\nimport scipy.special, scipy.stats, scipy.linalg, " \
           "scipy.signal, scipy.fft\n\n" + src
    linecache.cache[filename] = (len(full), None, full.splitlines(True), filename)
    ns = {"__name__": f"trust8_{_loaded[0]}"}
    exec(compile(full, filename, "exec"), ns)
    return ns["f"]


class Invalid(Exception):
    pass


class Failure(AssertionError):
    pass


def _leaf_value(kind, rng):
    if kind == "a3":
        return rng.normal(size=3) * 0.7
    if kind == "a33":
        return rng.normal(size=(3, 3)) * 0.5
    if kind == "f32":
        return (rng.normal(size=3) * 0.7).astype(np.float32)
    if kind == "zd":
        return np.array(rng.normal() * 0.7)
    if kind == "npf":
        return np.float64(rng.normal() * 0.7)
    return float(rng.normal() * 0.7)


def _build(spec, rng):
    kind, items = spec
    if kind == "dict":
        return {k: _build(v, rng) if isinstance(v, tuple) else _leaf_value(v, rng)
                for k, v in items.items()}
    vals = [_build(v, rng) if isinstance(v, tuple) else _leaf_value(v, rng) for v in items]
    return tuple(vals) if kind == "tuple" else vals


def _paths(v, path=()):
    if isinstance(v, dict):
        for k in v:
            yield from _paths(v[k], path + (k,))
    elif isinstance(v, (list, tuple)):
        for i, w in enumerate(v):
            yield from _paths(w, path + (i,))
    else:
        yield path


def _get(v, path):
    for k in path:
        v = v[k]
    return v


def _set(v, path, new):
    if not path:
        return new
    k = path[0]
    if isinstance(v, tuple):
        lst = list(v)
        lst[k] = _set(v[k], path[1:], new)
        return type(v)._make(lst) if hasattr(v, "_fields") else tuple(lst)
    v = copy.copy(v)
    v[k] = _set(v[k], path[1:], new)
    return v


def _loss(out):
    return out[0] if isinstance(out, tuple) else out


def _fd(f, args, wrt, eps):
    """Central differences of the (first) output in every float leaf of
    args[wrt], with the gradient's structure."""
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
                if isinstance(leaf, (np.ndarray, np.generic)) and leaf.dtype == np.float32:
                    # (differences of float32 arithmetic are noise: the
                    # float64 program's are the reference, tolerance 2e-3)
                    newleaf = xs if isinstance(leaf, np.ndarray) else np.float64(xs)
                elif isinstance(leaf, np.ndarray):
                    newleaf = xs.astype(leaf.dtype)
                elif isinstance(leaf, np.generic):
                    newleaf = type(leaf)(xs)
                else:
                    newleaf = float(xs)
                a = list(copy.deepcopy(args))
                a[wrt] = _set(a[wrt], path, newleaf)
                vals.append(float(np.real(_loss(f(*a)))))
            out[idx] = (vals[0] - vals[1]) / (2 * eps)
        grads[path] = out
    return grads


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


def _arrays(v):
    if isinstance(v, dict):
        return [a for w in v.values() for a in _arrays(w)]
    if isinstance(v, (list, tuple)):
        return [a for w in v for a in _arrays(w)]
    return [v] if isinstance(v, np.ndarray) else []


def _same(a, b):
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and \
            all(_same(p, q) for p, q in zip(a, b))
    return np.shape(a) == np.shape(b) and np.allclose(a, b, rtol=1e-9, atol=1e-11,
                                                        equal_nan=True)


def _grad_close(g, fd, x, tol, what, scale=1.0):
    # (central differences at step 1e-6 carry ~|f| * 1e-10 of rounding)
    atol = tol / 10 + 1e-9 * abs(scale)
    for path, want in fd.items():
        got = _get(g, path)
        if np.shape(got) != np.shape(want) or not np.allclose(got, want, rtol=tol, atol=atol):
            raise Failure(f"{what}: gradient at {path}: {got!r} vs differences {want!r}")


def check(seed, verbose=False):
    fam, src, spec = program(seed)
    return check_source(fam, src, spec, seed, verbose)


def check_source(fam, src, spec, seed, verbose=False):
    """'ok', 'refused', 'invalid' or raises Failure."""
    f = load(src)
    # differences of a float32 computation are noise: those of the same
    # program in float64 are the reference for its gradient
    ref = load(src.replace("    x = x.astype(np.float32)\n", "").replace(
        "    W = W.astype(np.float32)\n", "")) if "astype(np.float32)" in src else f
    rng = np.random.default_rng(seed)
    if fam == "containers":
        arg_sets = [(_build(spec, rng), rng.normal(size=3) * 0.7)]
        wrts = (0, 1)
    else:
        x = rng.normal(size=3) * 0.7
        W = rng.normal(size=(3, 3)) * 0.5
        Ts = (3, 0, 1, 2, 4) if fam in ("lists", "helpers") else (2,)
        arg_sets = [(x, W, T) for T in Ts]
        wrts = (0, 1)
    aux = fam == "aux"
    f32 = "f32" in repr(spec) or "float32" in src
    tol = 2e-3 if f32 else 1e-5
    vgs = {w: s2sgrad.value_and_grad(f, wrt=w, has_aux=aux) for w in wrts}
    gr = s2sgrad.grad(f, wrt=wrts, has_aux=aux)
    vj = s2sgrad.vjp(f, wrt=0, has_aux=aux)
    jv = s2sgrad.jvp(f, wrt=0) if not aux else None
    any_ok = False
    for args in arg_sets:
        kept = copy.deepcopy(args)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                expected = f(*copy.deepcopy(args))
                loss = _loss(expected)
                if not np.isscalar(loss) and np.shape(loss) != ():
                    return "invalid"
                if not np.isfinite(loss) or abs(loss) > 1e8:
                    return "invalid"
                fds = {w: _fd(ref, args, w, 1e-6) for w in wrts}
                fds2 = {w: _fd(ref, args, w, 1e-4) for w in wrts}
        except (ValueError, IndexError, TypeError, RuntimeWarning, FloatingPointError,
                AttributeError, NameError, UnboundLocalError, ZeroDivisionError,
                np.linalg.LinAlgError, scipy.linalg.LinAlgError, KeyError):
            return "invalid"
        for w in wrts:
            for p in fds[w]:
                if not np.allclose(fds[w][p], fds2[w][p], rtol=1e-3, atol=1e-4):
                    return "invalid"              # not smooth within the step
        try:
            results = {}
            for w in wrts:
                for _ in range(2):
                    res = vgs[w](*args)
                results[w] = res
            gres = gr(*args)
            vres = vj(*args)
            jres = None
            if jv is not None:
                t = rng.normal(size=np.shape(args[0])) if not isinstance(args[0], (
                    dict, list, tuple)) else None
                if t is not None:
                    jres = (t, jv(tuple(args), (t,)))
        except S2SGradError as exc:
            if verbose:
                print(f"  refused: {exc}"[:300])
            if any_ok:
                raise Failure(f"refused only for {args[-1]!r}: {exc}") from None
            return "refused"
        except Exception as exc:                      # noqa: BLE001
            raise Failure(f"{type(exc).__name__}: {exc}") from exc
        if not _same(args, kept):
            raise Failure("the caller's argument changed")
        targ = f"T={args[-1]!r}" if fam != "containers" else "p"
        for w in wrts:
            (v, g) = results[w]
            val, ax = (v if aux else (v, None))
            if not np.allclose(val, loss, rtol=1e-5 if f32 else 1e-10, atol=1e-10):
                raise Failure(f"{targ} wrt={w}: value {val!r} vs NumPy {loss!r}")
            if isinstance(loss, (np.ndarray, np.generic)) and \
                    np.asarray(val).dtype != np.asarray(loss).dtype:
                raise Failure(f"{targ} wrt={w}: value's dtype {np.asarray(val).dtype} vs "
                              f"NumPy's {np.asarray(loss).dtype}")
            if aux and not _same(ax, expected[1]):
                raise Failure(f"{targ} wrt={w}: aux {ax!r} vs NumPy {expected[1]!r}")
            if not _kind_ok(g, args[w]):
                raise Failure(f"{targ} wrt={w}: gradient's kind {g!r} vs argument {args[w]!r}")
            _grad_close(g, fds[w], args[w], tol, f"{targ} value_and_grad wrt={w}", loss)
            others = _arrays(args) + (_arrays(ax) if aux else [])
            for ga in _arrays(g):
                if any(np.shares_memory(ga, o) for o in others):
                    raise Failure(f"{targ} wrt={w}: the gradient shares memory with an "
                                  f"argument or aux")
        gs, gaux = (gres if aux else (gres, None))
        for w, g in zip(wrts, gs):
            _grad_close(g, fds[w], args[w], tol, f"{targ} grad wrt={wrts}", loss)
        if aux:
            if not _same(gaux, expected[1]):
                raise Failure(f"{targ} grad: aux {gaux!r} vs NumPy {expected[1]!r}")
            # writing into the returned gradient changes neither aux nor a later gradient
            before = copy.deepcopy(gaux)
            for ga in _arrays(gs):
                ga[...] = 12345.0
            if not _same(gaux, before):
                raise Failure(f"{targ} grad: writing into the gradient changed aux")
            g3 = gr(*args)[0]
            for w, g in zip(wrts, g3):
                _grad_close(g, fds[w], args[w], tol, f"{targ} grad (after writing) wrt={w}",
                            loss)
        out, pb = vres[0], vres[1]
        if not np.allclose(out, loss, rtol=1e-5 if f32 else 1e-10, atol=1e-10):
            raise Failure(f"{targ} vjp: value {out!r} vs NumPy {loss!r}")
        if aux and not _same(vres[2], expected[1]):
            raise Failure(f"{targ} vjp: aux {vres[2]!r} vs NumPy {expected[1]!r}")
        _grad_close(pb(1.0), fds[0], args[0], tol, f"{targ} vjp", loss)
        if jres is not None:
            t, (jval, jdot) = jres
            if not np.allclose(jval, loss, rtol=1e-5 if f32 else 1e-10, atol=1e-10):
                raise Failure(f"{targ} jvp: value {jval!r} vs NumPy {loss!r}")
            want = float(np.sum(fds[0][()] * t))
            if not np.allclose(jdot, want, rtol=tol * 10, atol=tol):
                raise Failure(f"{targ} jvp: tangent {jdot!r} vs differences {want!r}")
        any_ok = True
    return "ok"


def run(lo, hi, verbose=False):
    counts, fails = {}, []
    for s in range(lo, hi):
        try:
            res = check(s, verbose)
        except Failure as exc:
            res = "fail"
            fails.append(s)
            print(f"{s} ({program(s)[0]}): {str(exc)[:500]}", flush=True)
        except S2SGradError:
            res = "refused"
        counts[res] = counts.get(res, 0) + 1
        if (s - lo + 1) % 100 == 0:
            print(s + 1, counts, flush=True)
    return counts, fails


if __name__ == "__main__":
    if sys.argv[1] == "show":
        for a in sys.argv[2:]:
            fam, src, spec = program(int(a))
            print(f"# seed {a}: {fam} {spec or ''}\n{src}")
    else:
        counts, fails = run(int(sys.argv[1]), int(sys.argv[2]), verbose="-v" in sys.argv)
        print(counts)
        print("failing seeds:", fails)
