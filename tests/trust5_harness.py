"""Random loop programs aimed at session 18's loop machinery (trust5; not a
test module): preallocated tapes, zip/enumerate/reversed loops over views,
carried state aliased to an argument or a global, in-place writes into the
carried state or into a value a tape keeps, the same array appended twice,
several loops over one range, inner loops, while loops, trip counts that
change between calls.  ``program(seed)`` writes the source of ``f(x, W, T)``;
``check(seed)`` compares value_and_grad with NumPy and central differences
(tests/trust4_harness.agree, jvp too, the hessian for some seeds) at several
trip counts with one compiled function object.  A program s2sgrad refuses
(S2SGradError) or NumPy rejects counts as 'refused'/'invalid', never as a
pass or a failure.

    PYTHONPATH=. python -m tests.trust5_harness 0 300
"""
import linecache
import random
import sys
import warnings

import numpy as np

from s2sgrad import S2SGradError, grad, value_and_grad
from tests.trust4_harness import _fd

G = np.linspace(-0.4, 0.5, 3)            # a global some programs start their state from
_G0 = G.copy()

_FUNCS = ["np.tanh", "np.sin", "np.cos"]


def _expr(r, h):
    f = r.choice(_FUNCS)
    return r.choice([
        f"{f}(W @ {h}) * 0.9",
        f"{f}({h}) * x",
        f"{h} * 0.5 + {f}(x)",
        f"{f}(W @ {h} + x)",
        f"{h} * {f}({h}[0])",
    ])


def _body_stmt(r, depth):
    k = r.randrange(12)
    if k == 0:
        return [f"h = {_expr(r, 'h')}"]
    if k == 1:
        return [f"h += {_expr(r, 'h')} * 0.3"]
    if k == 2:
        return [f"h[{r.randrange(3)}] = np.sin(h[{r.randrange(3)}]) * x[{r.randrange(3)}]"]
    if k == 3:
        return [f"np.copyto(h, {_expr(r, 'h')})"]
    if k == 4:
        return ["hs.append(h)"] + (["hs.append(h)"] if r.random() < 0.4 else [])
    if k == 5:
        return [f"s = s + np.sum(h ** 2) * {r.choice(['1.0', 'x[0]', '0.5'])}"]
    if k == 6:
        return ["s += np.sum(h * x)"]
    if k == 7:
        return ["h *= 0.9"]
    if k == 8:
        return ["h = h * 1.0", "h[1] += s * 0.1"]
    if k == 9 and depth == 0:
        return [f"for j in range({r.randrange(0, 3)}):",
                f"    h = {_expr(r, 'h')}"]
    if k == 10:
        return ["A[0] += h * 0.1"]
    return ["h = np.where(h > 0, h, h * 0.5)"]


def _init(r):
    return r.choice(["h = x", "h = x * 1.0", "h = x.copy()", "h = G", "h = G * x",
                     "h = np.zeros(3)", "h = W[0]", "h = A[1]"])


def program(seed):
    r = random.Random(seed)
    lines = ["def f(x, W, T):", "    A = W * 1.0", f"    {_init(r)}", "    s = 0.0",
             "    hs = []"]
    nloops = r.choice([1, 1, 2])
    for _ in range(nloops):
        kind = r.randrange(6)
        if kind == 0:
            head = "for t in range(T):"
        elif kind == 1:
            head = "for a, b in zip(A, A[1:]):"
        elif kind == 2:
            head = "for i, a in enumerate(A[1:]):"
        elif kind == 3:
            head = "for a in reversed(A[:T]):"
        elif kind == 4:
            head = "for a, b in zip(A.T, A.T[::-1]):"
        else:
            lines += ["    t = 0"]
            head = "while t < T:"
        lines.append("    " + head)
        body = []
        for _ in range(r.randint(1, 4)):
            body += _body_stmt(r, 0)
        if kind in (1, 4):
            body.append(r.choice(["b += a * x[0]", "a *= 0.9", "s = s + np.sum(a * b)",
                                  "h = h + a * b"]))
        elif kind in (2, 3):
            body.append(r.choice(["a += h * 0.2", "h = h + a", "s = s + np.sum(a * h)"]))
        if kind == 5:
            body.append("t += 1")
        lines += ["        " + b for b in body]
    tail = ["s + np.sum(h ** 2)"]
    if r.random() < 0.5:
        tail.append("np.sum(A * W)")
    lines.append("    if len(hs) > 0:")
    lines.append("        s = s + np.sum(np.stack(hs) ** 2)")
    lines.append("    return " + " + ".join(tail))
    return "\n".join(lines) + "\n"


_loaded = [0]


def load(src):
    _loaded[0] += 1
    filename = f"<trust5 program {_loaded[0]}>"
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    ns = {"np": np, "G": G, "__name__": f"trust5_{_loaded[0]}"}
    exec(compile(src, filename, "exec"), ns)
    return ns["f"]


def check(seed):
    """'ok', 'refused', 'invalid' or ('fail', message)."""
    f = load(program(seed))
    G[...] = _G0                         # (a program NumPy ran may have written into G)

    def numpy_left_g_alone():
        if np.array_equal(G, _G0):
            return True
        G[...] = _G0
        return False                     # NumPy writes into the global G
    return check_function(f, seed, (3, 0, 1, 2, 3), numpy_left_g_alone=numpy_left_g_alone)


_INVALID = (ValueError, IndexError, TypeError, RuntimeWarning, FloatingPointError,
            AttributeError, NameError, UnboundLocalError, ZeroDivisionError)


def check_function(f, seed, Ts, f32=False, also_grad=False, numpy_left_g_alone=None):
    """Run ``f(x, W, T)`` for each trip count T with NumPy and with
    value_and_grad (wrt x and W; and grad wrt x where ``also_grad``): the
    value against NumPy, the gradient against central differences, the
    caller's arguments unchanged.  'ok', 'refused', 'invalid' (NumPy raises
    or warns, the value is not finite, f is not smooth within the
    differences' step) or ('fail', message)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=3) * 0.7
    W = rng.normal(size=(3, 3)) * 0.5
    vgs = {w: value_and_grad(f, wrt=w) for w in (0, 1)}
    gr = grad(f) if also_grad else None
    any_ok = False
    for T in Ts:
        args = (x, W, T)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                expected = f(x.copy(), W.copy(), T)
                if numpy_left_g_alone is not None and not numpy_left_g_alone():
                    return "invalid"
                if not np.isfinite(expected) or abs(expected) > 1e6:
                    return "invalid"
                fds = {w: _fd(f, args, w, 1e-6) for w in (0, 1)}
                fds2 = {w: _fd(f, args, w, 1e-4) for w in (0, 1)}
        except _INVALID:
            return "invalid"
        for w in (0, 1):
            # not smooth within the step (np.where's kink, a data-dependent
            # branch, maximum.at ties, a float32 cast): not a test
            if not np.allclose(fds[w], fds2[w], rtol=1e-3, atol=1e-4):
                return "invalid"
        for w in (0, 1):
            xc, Wc = x.copy(), W.copy()
            try:
                for _ in range(2):
                    v, g = vgs[w](x, W, T)
            except S2SGradError:
                return "refused" if not any_ok else ("fail", f"refused at T={T} only")
            except Exception as exc:                    # noqa: BLE001
                return ("fail", f"T={T} wrt={w}: {type(exc).__name__}: {exc}")
            if not (np.array_equal(x, xc) and np.array_equal(W, Wc)):
                return ("fail", f"T={T}: the caller's argument changed")
            rt = 1e-5 if f32 else 1e-10
            if not np.allclose(v, expected, rtol=rt, atol=1e-5 if f32 else 1e-12):
                return ("fail", f"T={T} wrt={w}: value {v!r} vs NumPy {expected!r}")
            gt = 1e-3 if f32 else 1e-5
            if np.shape(g) != np.shape(args[w]) or \
                    not np.allclose(g, fds[w], rtol=gt, atol=gt / 10):
                return ("fail", f"T={T} wrt={w}: gradient {g!r} vs differences {fds[w]!r}")
            if gr is not None and w == 0:
                g2 = gr(x, W, T)
                if not np.allclose(g2, fds[0], rtol=gt, atol=gt / 10):
                    return ("fail", f"T={T}: grad {g2!r} vs differences {fds[0]!r}")
            any_ok = True
    return "ok"


if __name__ == "__main__":
    lo, hi = int(sys.argv[1]), int(sys.argv[2])
    counts = {}
    for s in range(lo, hi):
        res = check(s)
        st = res if isinstance(res, str) else res[0]
        counts[st] = counts.get(st, 0) + 1
        if st == "fail":
            print(s, res[1][:400], flush=True)
    print(counts)
