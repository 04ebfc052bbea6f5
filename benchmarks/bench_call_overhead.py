"""The cost of the ``grad()`` call machinery, apart from the generated code.

For a few small losses (tiny arrays, so the generated code itself is cheap)
this times, side by side in one process,

  * call:   ``g(*args)`` -- the public call (argument checks, cache lookup,
            guards of what compilation assumed about globals, result fixing);
  * bare:   the generated function that call runs (``g._last_run.fn``), alone;

and reports ``call - bare`` in microseconds: the overhead a user pays per
call.  The losses read globals the way real code does: a plain one (only
``np``), one that calls a helper function and reads a global flag, a global
callable and a global array, and one with a dozen such globals.

Rounds interleave the two timings (each a ``timeit`` of many calls); the
table shows the median overhead and its range over the rounds, and the
overhead of the best times (``min call - min bare`` over all rounds: the
least disturbed by other processes on a shared machine), and the time of
the guard check alone (``guard us``: what this version of s2sgrad adds).

Rows for containers of parameters (a dict, a list, a nested dict) and for
mixed argument kinds measure the fast path of ``api._FastCall`` for each.
``--instructions`` counts instructions per call instead (valgrind's
callgrind, one process per case and kind): exact, and not disturbed by other
processes on a shared machine.

``--spelled`` writes every call out as a user does (``g(w, X, y=Y)``; the
generated function with its leaves written out) instead of through
``g(*args, **kwargs)``, whose argument unpacking (~1,300 instructions) is the
harness's, not s2sgrad's.

Run:  python benchmarks/bench_call_overhead.py [--rounds 15] [--only dict,list] [--spelled]
      python benchmarks/bench_call_overhead.py --instructions [--only dict]
      python benchmarks/bench_call_overhead.py --instructions --one-process  (faster)
"""
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import collections  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import timeit  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import s2sgrad  # noqa: E402

TRAIN = True
act = np.tanh
SCALE = np.array(2.0)
MODE = "mean"
DEPTH = 2


def helper(z):
    return act(z) * SCALE


def plain(w):
    return np.sum(w ** 2)


def with_globals(w):
    h = helper(w)
    if TRAIN:
        h = h * 0.5
    return np.sum(h)


def many_globals(w):
    h = w
    for _ in range(DEPTH):
        h = helper(h)
    if TRAIN and MODE == "mean":
        r = np.mean(h)
    else:
        r = np.sum(h)
    return r + np.sum(SCALE * w) + np.sum(act(w))


def two_args(w, x):
    return np.sum(act(x @ w))


def scaled(w, lam, shift=0.0):
    return lam * np.sum((w - shift) ** 2)


def mlp(params, X, y):
    h = np.tanh(X @ params["W1"] + params["b1"])
    return np.sum((h @ params["W2"] + params["b2"] - y) ** 2)


def mlp_reg(params, X, y, lam=0.1):
    h = np.tanh(X @ params["W1"] + params["b1"])
    return np.sum((h @ params["W2"] + params["b2"] - y) ** 2) + lam * params["s"] * \
        np.sum(params["W1"] ** 2)


def nested(params, X):
    h = np.tanh(X @ params["l1"]["W"] + params["l1"]["b"])
    return np.sum((h @ params["l2"]["W"] + params["l2"]["b"]) ** 2)


def layers(ws, X):
    h = X
    for w in ws:
        h = np.tanh(h @ w)
    return np.sum(h)


def pair(wb, X):
    w, b = wb
    return np.sum(np.sin(X @ w + b))


def mlp_cfg(params, X, y, cfg):
    h = np.tanh(X @ params["W1"] + params["b1"])
    r = np.sum((h @ params["W2"] + params["b2"] - y) ** 2)
    if cfg["flag"]:
        r = r * cfg["n"]
    return r


def mlp_settings(params, X, y, cfg):
    h = np.tanh(X @ params["W1"] + params["b1"])
    r = np.sum((h @ params["W2"] + params["b2"] - y) ** 2)
    if cfg["mode"] == "mean":
        r = r / y.size
    if cfg["clip"] is not None:
        r = np.minimum(r, cfg["clip"])
    return r * cfg["scale"]


def nested_cfg(params, X, cfg):
    h = np.tanh(X @ params["l1"]["W"] + params["l1"]["b"])
    r = np.sum((h @ params["l2"]["W"] + params["l2"]["b"]) ** 2)
    if cfg["loss"]["mode"] == "mean":
        r = r / X.shape[0]
    return r * cfg["loss"]["scale"] + cfg["reg"]["lam"] * np.sum(params["l1"]["W"] ** 2)


def static_args(w, n, flag):
    h = w
    for _ in range(n):
        h = np.sin(h)
    return np.sum(h * 2.0) if flag else np.sum(h)


def with_aux(w, x):
    z = np.tanh(x @ w)
    return np.sum(z ** 2), z


def affine(w, b, x):
    return np.sum(np.tanh(x @ w + b) ** 2)


Layer = collections.namedtuple("Layer", "W b")


def nt_mlp(layers, X, y):
    l1, l2 = layers
    h = np.tanh(X @ l1.W + l1.b)
    return np.sum((h @ l2.W + l2.b - y) ** 2)


_P = {"W1": np.ones((3, 4)), "b1": np.ones(4), "W2": np.ones((4, 2)), "b2": np.ones(2)}
_X, _Y = np.ones((2, 3)), np.ones((2, 2))

CASES = [
    ("plain (np only)", s2sgrad.grad(plain), (np.ones(3),), {}),
    ("helper + flag + callable", s2sgrad.grad(with_globals), (np.ones(3),), {}),
    ("a dozen globals", s2sgrad.grad(many_globals), (np.ones(3),), {}),
    ("two args, value_and_grad", s2sgrad.value_and_grad(two_args),
     (np.ones(3), np.ones((2, 3))), {}),
    # argument kinds: a Python float, a NumPy scalar, a keyword, a default
    ("float arg, default", s2sgrad.grad(scaled), (np.ones(3), 0.5), {}),
    ("np.float64 by keyword", s2sgrad.grad(scaled), (np.ones(3),),
     {"lam": np.float64(0.5), "shift": 0.1}),
    ("wrt a float", s2sgrad.grad(scaled, wrt="lam"), (np.ones(3), 0.5), {}),
    ("wrt a np.float64", s2sgrad.grad(scaled, wrt="lam"), (np.ones(3), np.float64(0.5)), {}),
    # containers of parameters: a dict (4 arrays), a list, a nested dict, a
    # dict with a Python float and one with a NumPy scalar among arguments by keyword
    ("dict of 4 params", s2sgrad.grad(mlp), (_P, _X, _Y), {}),
    ("dict, value_and_grad", s2sgrad.value_and_grad(mlp), (_P, _X, _Y), {}),
    ("list of 3 params", s2sgrad.grad(layers),
     ([np.ones((3, 4)), np.ones((4, 4)), np.ones((4, 2))], _X), {}),
    ("nested dict (2x2)", s2sgrad.grad(nested),
     ({"l1": {"W": np.ones((3, 4)), "b": np.ones(4)},
       "l2": {"W": np.ones((4, 2)), "b": np.ones(2)}}, _X), {}),
    ("dict+float leaf, keywords", s2sgrad.grad(mlp_reg), (dict(_P, s=0.5), _X),
     {"y": _Y, "lam": np.float64(0.1)}),
    ("tuple of 3 params", s2sgrad.grad(layers),
     ((np.ones((3, 4)), np.ones((4, 4)), np.ones((4, 2))), _X), {}),
    ("tuple of arrays by keyword", s2sgrad.grad(pair), (),
     {"wb": (np.ones((3, 2)), np.ones(2)), "X": _X}),
    # a dict of int/bool settings passed as data (a differentiated dict with an
    # int leaf is refused): the general path, no fast runner yet
    ("dict params + int/bool cfg", s2sgrad.grad(mlp_cfg), (_P, _X, _Y, {"flag": True, "n": 2}),
     {}),
    # what users pass beside: settings with str/None/float values, static
    # int/bool arguments, has_aux, a tuple of wrt, NumPy float32 scalars
    ("dict params + str/None/float cfg", s2sgrad.grad(mlp_settings),
     (_P, _X, _Y, {"mode": "mean", "clip": None, "scale": 0.5}), {}),
    ("value_and_grad, cfg by keyword", s2sgrad.value_and_grad(mlp_cfg), (_P, _X, _Y),
     {"cfg": {"flag": False, "n": 3}}),
    ("static int + bool args", s2sgrad.grad(static_args), (np.ones(3), 2, True), {}),
    ("int + bool by keyword", s2sgrad.grad(static_args), (np.ones(3),), {"n": 2, "flag": True}),
    ("has_aux", s2sgrad.grad(with_aux, has_aux=True), (np.ones(3), np.ones((2, 3))), {}),
    ("value_and_grad has_aux", s2sgrad.value_and_grad(with_aux, has_aux=True),
     (np.ones(3), np.ones((2, 3))), {}),
    ("wrt=(0, 1)", s2sgrad.grad(affine, wrt=(0, 1)), (np.ones(3), np.ones(1), np.ones((2, 3))), {}),
    ("wrt=(0, 1), all keywords", s2sgrad.grad(affine, wrt=(0, 1)), (),
     {"w": np.ones(3), "b": np.ones(1), "x": np.ones((2, 3))}),
    ("np.float32 scalar + array", s2sgrad.grad(scaled), (np.ones(3, np.float32), np.float32(0.5)),
     {}),
    # nested dicts read by constant keys: parameters and settings
    # namedtuples of parameters (a tuple of two layers, as the dict of 4 params)
    ("namedtuple layers (2x2)", s2sgrad.grad(nt_mlp),
     ((Layer(np.ones((3, 4)), np.ones(4)), Layer(np.ones((4, 2)), np.ones(2))), _X, _Y), {}),
    ("nested dict + nested cfg", s2sgrad.grad(nested_cfg),
     ({"l1": {"W": np.ones((3, 4)), "b": np.ones(4)},
       "l2": {"W": np.ones((4, 2)), "b": np.ones(2)}}, _X,
      {"loss": {"mode": "mean", "scale": 0.5}, "reg": {"lam": 0.1}}), {}),
]


def leaves_of(g, args, kwargs):
    """The generated code's parameters for this call (a container's leaves
    in its order, keywords in parameter order); internal API."""
    bound = g._bind(args, kwargs)
    return tuple(g._leaves(bound, g._specs(bound)))


# --spelled: calls written out as a user writes them (``g(w, X, y=Y)``, and
# the generated function with its leaves written out), not through
# ``g(*args, **kwargs)``, whose tuple and dict unpacking the harness adds
SPELLED = False


def callers(g, args, kwargs):
    """(the call, the bare generated function's call) as no-argument functions."""
    bare = g._last_run.fn
    leaves = leaves_of(g, args, kwargs)
    if not SPELLED:
        return (lambda: g(*args, **kwargs)), (lambda: bare(*leaves))
    ns = {"g": g, "bare": bare}
    ns.update({f"a{i}": a for i, a in enumerate(args)})
    ns.update({f"k_{k}": v for k, v in kwargs.items()})
    ns.update({f"l{i}": x for i, x in enumerate(leaves)})
    call = ", ".join([f"a{i}" for i in range(len(args))] + [f"{k}=k_{k}" for k in kwargs])
    return (eval(f"lambda: g({call})", ns),
            eval(f"lambda: bare({', '.join(f'l{i}' for i in range(len(leaves)))})", ns))


def measure(g, args, kwargs, number):
    g(*args, **kwargs)
    g(*args, **kwargs)
    call, bare = callers(g, args, kwargs)
    t_call = min(timeit.repeat(call, number=number, repeat=3)) / number
    t_bare = min(timeit.repeat(bare, number=number, repeat=3)) / number
    return t_call, t_bare


def count_child(index, kind, number):
    """(Run under callgrind.)  ``number`` calls of case ``index``'s ``kind``
    ("call" or "bare") inside ``functools.reduce``, the only function whose
    instructions callgrind collects (``--toggle-collect``): compiling and
    warming up are not counted."""
    import functools
    _, g, args, kwargs = CASES[index]
    g(*args, **kwargs)
    g(*args, **kwargs)
    f = callers(g, args, kwargs)[0 if kind == "call" else 1]
    functools.reduce(lambda acc, _: f(), range(number), None)


def count_children(spec, number):
    """(Run under callgrind with ``--dump-after=functools_reduce``.)  Every
    (case, kind) of ``spec`` ("3,8,16") in this one process, in order: each
    ``functools.reduce`` is one dump (compiling once per case, not once per
    kind and case)."""
    for i in [int(s) for s in spec.split(",")]:
        for kind in ("call", "bare"):
            count_child(i, kind, number)


def count_instructions_one(number, only):
    """:func:`count_instructions` in one valgrind process for all cases
    (``--one-process``): about half the time under load; a case that
    raises stops the run."""
    import glob
    import re
    import subprocess
    import tempfile
    picked = [i for i, (name, *_) in enumerate(CASES)
              if not only or any(o in name for o in only)]
    with tempfile.TemporaryDirectory() as d:
        out = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={d}/cg",
             "--toggle-collect=functools_reduce", "--dump-after=functools_reduce",
             sys.executable, os.path.abspath(__file__),
             "--children", ",".join(map(str, picked)), "--number", str(number)] +
            (["--spelled"] if SPELLED else []),
            capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"valgrind failed: {out.stderr[-2000:]}")
        dumps = sorted(glob.glob(f"{d}/cg.*"), key=lambda f: int(f.rsplit(".", 1)[1]))
        counts = []
        for f in dumps:
            m = re.search(r"^(?:summary|totals):\s*(\d+)", open(f).read(), re.M)
            counts.append(int(m.group(1)) / number if m else float("nan"))
    print(f"{'loss':28s} {'call instr':>11s} {'bare instr':>11s} {'overhead instr':>15s}")
    for k, i in enumerate(picked):
        c, b = counts[2 * k], counts[2 * k + 1]
        print(f"{CASES[i][0]:28s} {c:11.0f} {b:11.0f} {c - b:15.0f}", flush=True)


def count_instructions(number, only):
    """Instructions per call of the public call and of the generated function
    alone, counted by ``valgrind --tool=callgrind`` (exact and unaffected by
    other processes, unlike time on a shared machine)."""
    import re
    import subprocess
    print(f"{'loss':28s} {'call instr':>11s} {'bare instr':>11s} {'overhead instr':>15s}")
    for i, (name, *_) in enumerate(CASES):
        if only and not any(o in name for o in only):
            continue
        counts = []
        for kind in ("call", "bare"):
            out = subprocess.run(
                ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                 "--toggle-collect=functools_reduce", sys.executable, os.path.abspath(__file__),
                 "--child", f"{i},{kind},{number}"] + (["--spelled"] if SPELLED else []),
                capture_output=True, text=True)
            m = re.search(r"Collected : (\d+)", out.stderr)
            if out.returncode != 0:      # (the call raised: this version cannot run it)
                counts.append(float("nan"))
                continue
            if m is None:
                raise SystemExit(f"valgrind failed: {out.stderr[-2000:]}")
            counts.append(int(m.group(1)) / number)
        print(f"{name:28s} {counts[0]:11.0f} {counts[1]:11.0f} {counts[0] - counts[1]:15.0f}",
              flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--number", type=int, default=20000)
    ap.add_argument("--instructions", action="store_true",
                    help="count instructions per call with valgrind's callgrind instead of timing")
    ap.add_argument("--only", default="", help="comma-separated parts of case names")
    ap.add_argument("--one-process", action="store_true",
                    help="with --instructions: all cases in one valgrind process (faster)")
    ap.add_argument("--spelled", action="store_true",
                    help="calls written out (g(w, X, y=Y)) instead of g(*args, **kwargs)")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--children", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    global SPELLED
    SPELLED = a.spelled
    if a.children is not None:
        count_children(a.children, a.number)
        return
    if a.child is not None:
        i, kind, number = a.child.split(",")
        count_child(int(i), kind, int(number))
        return
    only = [o.strip() for o in a.only.split(",") if o.strip()]
    if a.instructions and a.one_process:
        count_instructions_one(min(a.number, 2000), only)
        return
    if a.instructions:
        count_instructions(min(a.number, 2000), only)
        return
    rows = {name: [] for name, *_ in CASES}
    calls = {name: [] for name, *_ in CASES}
    bares = {name: [] for name, *_ in CASES}
    cases = [c for c in CASES if not only or any(o in c[0] for o in only)]
    for _ in range(a.rounds):
        for name, g, args, kwargs in cases:
            t_call, t_bare = measure(g, args, kwargs, a.number)
            rows[name].append((t_call - t_bare) * 1e6)
            calls[name].append(t_call * 1e6)
            bares[name].append(t_bare * 1e6)
    print(f"{'loss':28s} {'call us':>9s} {'overhead us (median)':>21s} {'range':>15s} "
          f"{'best-time overhead':>19s} {'guard us':>9s}")
    for name, g, *_ in cases:
        ov = rows[name]
        guard = getattr(g._last, "guard", None)
        t_guard = (min(timeit.repeat(guard, number=a.number, repeat=5)) / a.number * 1e6
                   if guard is not None else 0.0)
        print(f"{name:28s} {statistics.median(calls[name]):9.2f} "
              f"{statistics.median(ov):21.3f} {min(ov):7.3f}-{max(ov):.3f} "
              f"{min(calls[name]) - min(bares[name]):19.3f} {t_guard:9.3f}")


if __name__ == "__main__":
    main()
