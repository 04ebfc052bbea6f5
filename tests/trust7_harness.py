"""Differential checks at the call boundary and across calls (trust7; not a
test module).

``program(seed)`` writes a random module: globals (an array ``G``, a float
``S``, flags, a callable ``ACT``, helpers, a module object ``mod`` with
attributes, closure cells ``cw``/``cs``) and a function ``f(x, [y], [p],
[c=0.5], [k=2])`` whose statements read them, write into its arguments
(``x *= 1.5``, a view of ``x``, ``out=x``, a dict leaf) and, rarely, into a
global.  ``check(seed)`` makes a few transformations of ``f``
(``value_and_grad``, ``grad`` with a tuple ``wrt``, ``has_aux``,
``jacobian``, ``hvp``) and calls them several times; between calls it
mutates, rebinds or resizes the globals, the closure cells and
``f.__defaults__``, changes the argument kinds (ndarray C/F-order, views,
negative strides, float32, 0-d arrays, Python/NumPy scalars, lists, tuples,
dicts with float leaves, the global array itself, the same array twice, an
overlapping view of another argument, keyword or positional, defaults) and
the shapes, and writes into the gradients it got back.  Every call's value
is compared with plain NumPy (the function run on equal, freshly built
arguments, aliasing included), every gradient with central differences at
two steps (a kink skips the call), the caller's arguments and the globals
must be unchanged, no gradient may share memory with an argument or a
global, and every gradient kept from an earlier call must still hold what it
held.  A program s2sgrad refuses (an :class:`S2SGradError`) counts as
'refused' (its message is printed with ``-v``), one NumPy rejects as
'invalid'.

    PYTHONPATH=. nice -n 10 python -m tests.trust7_harness 0 500 [-v]
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
from s2sgrad import S2SGradError

# ------------------------------------------------------------------ programs

# (text, needs): needs ⊆ {"y", "p", "c", "k", "nd"} ("nd": x is an array of ndim >= 1)
READS = [
    ("r = r + np.sum(ACT(x) * G)", ()),
    ("r = r + np.sum(x * y) * S", ("y",)),
    ("r = r + np.sum(HELP(x)) * mod.K", ()),
    ("if FLAG:\n    r = r + np.sum(x ** 2)\nelse:\n    r = r + np.sum(np.sin(x))", ()),
    ('r = r + np.sum(p["w"] * x) + p["b"] * np.sum(p["sub"]["v"] ** 2)', ("p",)),
    ("r = r + np.sum(x * cw) * cs", ()),
    ("r = r + np.mean(x * mod.W)", ()),
    ("r = r + c * np.sum(np.cos(x))", ("c",)),
    ("for _ in range(k):\n    r = r * 0.9 + np.sum(x * G) * 0.1", ("k",)),
    ('if MODE == "sum":\n    r = r + np.sum(x * x)\nelse:\n    r = r + np.mean(x * x)', ()),
    ('r = r + np.sum(np.exp(p["sub"]["v"]) * G) * p["b"]', ("p",)),
    ("r = r + S * np.sum(y ** 2)", ("y",)),
    ("t = np.empty_like(x)\nnp.tanh(x, out=t)\nr = r + np.sum(t * G)", ("nd",)),
    ("z = x.copy()\nz[..., 0] = z[..., 0] * 3.0\nr = r + np.sum(z * z)", ("nd",)),
    ("r = r + np.sum(helper_a(x))", ()),
    ("r = r + np.sum(np.dot(np.ravel(x), np.ravel(x)))", ()),
    ("r = r + np.sum(G * G) * np.sum(x)", ()),
    ("r = r + np.sum(p['w'] * y) * cs", ("p", "y")),
    # linear terms: the gradient is a global, an argument or a cell as it is
    ("r = r + np.sum(x * G)", ()),
    ("r = r + np.sum(x * y)", ("y",)),
    ("r = r + np.sum(x * cw)", ()),
    ("r = r + np.sum(mod.W * x)", ()),
    ("r = r + np.sum(x + y)", ("y",)),
    ('r = r + np.sum(p["w"] + p["sub"]["v"]) + p["b"]', ("p",)),
    ('r = r + np.sum(p["w"] * x)', ("p",)),
    # globals whose shape or value decide the code
    ("r = r + np.sum(x) * H.shape[0]", ()),
    ("for i in range(len(H)):\n    r = r + H[i] * np.sum(x * x)", ()),
    ("r = r + np.sum(np.outer(H, x))", ()),
    ("r = r + np.sum(x) * H[-1]", ()),
    ("for _ in range(NG):\n    r = r * 0.9 + np.sum(x * x) * 0.1", ()),
    ("r = r + np.sum(x) * NG", ()),
    ("r = r + np.sum(x[..., :NG] ** 2)", ("nd",)),
    ("r = r + np.sum((np.abs(x) + 0.5) ** PW)", ()),
    ("for _ in range(mod.N):\n    r = r + np.sum(np.sin(x))", ()),
    ('r = r + np.sum(x * CFG["w"]) * CFG["k"]', ()),
    ('for _ in range(CFG["k"]):\n    r = r + np.sum(x ** 2) * 0.5', ()),
    ("r = r + np.sum(x) * FLAG", ()),
    ("r = r + np.sum(x * x) * TS[0] + TS[1]", ()),
]
WRITES = [
    ("x *= 1.5", ()),
    ("x[..., 0] = x[..., -1] * 2.0", ("nd",)),
    ("v = x[..., 1:]\nv *= 1.25\nv += np.sin(x[..., :-1])", ("nd",)),
    ("np.multiply(x, 0.5, out=x)", ("nd",)),
    ("y += x", ("y",)),
    ('p["w"] *= 2.0', ("p",)),
    ("x[..., 0] += np.sum(y)", ("nd", "y")),
    ("u = x.T\nu *= 0.75", ("nd",)),
    ("x += y", ("y",)),
    ('q = p["sub"]["v"]\nq[0] = q[-1] + 1.0', ("p",)),
    # whether these are views of x depends on x's layout (NumPy decides)
    ("v = x.reshape(-1)\nv[0] = v[-1] * 3.0", ("nd",)),
    ("v = np.ravel(x)\nv *= 2.0", ("nd",)),
    ('v = x.ravel(order="F")\nv[-1] = 0.5', ("nd",)),
    ("v = x.T.reshape(-1)\nv[1] = v[0] + 1.0", ("nd",)),
    ("v = np.ascontiguousarray(x)\nv[..., 0] = 2.0", ("nd",)),
    ("v = x.reshape(x.shape)\nv += 1.0", ("nd",)),
    ("v = x[..., ::-1]\nv[..., 0] = v[..., -1] * 0.5", ("nd",)),
    ('p["b"] = p["b"] * 2.0', ("p",)),
    ('p["sub"]["v"] = p["sub"]["v"] * x[..., 0].sum()', ("p", "nd")),
]
GLOBAL_WRITES = [
    ("G[0] = np.sum(x)", ()),
    ("mod.W *= 2.0", ()),
    ("cw[0] = 1.0", ()),
]

X_ARRAY_KINDS = ["C", "C", "C", "F", "f32", "strided", "neg", "readonly", "global"]
X_SCALAR_KINDS = ["0d", "float", "np64", "np32"]
X_SEQ_KINDS = ["list", "tuple"]
Y_KINDS = ["f64", "f64", "f32", "int", "same", "overlap", "F"]


def _stmts(lines, indent):
    return "".join(indent + ln + "\n" for ln in lines.split("\n"))


def program(seed):
    """(source, spec): spec says which parameters f has, what kinds its
    arguments take, which transformations to make."""
    r = random.Random(seed)
    spec = {}
    spec["ndim"] = r.choice([1, 1, 2])
    group = r.choice(["array"] * 6 + ["scalar"] * 2 + ["seq"])
    if group == "seq" and spec["ndim"] != 1:
        group = "array"
    spec["group"] = group
    spec["x_kinds"] = {"array": X_ARRAY_KINDS, "scalar": X_SCALAR_KINDS, "seq": X_SEQ_KINDS}[group]
    spec["x_kind"] = r.choice(spec["x_kinds"])
    nd = group != "scalar"
    params = ["x"]
    have = {"nd"} if nd else set()
    for name in ("y", "p"):
        if r.random() < 0.5:
            params.append(name)
            have.add(name)
    defaults = []
    spec["kwonly"] = r.random() < 0.15
    if r.random() < 0.5:
        if spec["kwonly"]:
            params.append("*")
        params.append("c=0.5")
        defaults.append(0.5)
        have.add("c")
    if r.random() < 0.35:
        params.append("k=2")
        defaults.append(2)
        have.add("k")
    spec["params"] = [q.split("=")[0] for q in params if q != "*"]
    spec["defaults"] = tuple(defaults)
    spec["y_kind"] = r.choice(Y_KINDS if nd and group == "array" else ["f64", "f32", "int"])
    body = []
    if group == "seq":
        body.append("x = np.asarray(x)")
    body.append("r = 0.0")
    reads = [t for t, need in READS if set(need) <= have]
    writes = [t for t, need in WRITES if set(need) <= have]
    for _ in range(r.randint(1, 5)):
        if writes and r.random() < 0.35:
            body.append(r.choice(writes))
        else:
            body.append(r.choice(reads))
    if r.random() < 0.04:
        body.insert(r.randrange(1, len(body) + 1), r.choice(GLOBAL_WRITES)[0])
    spec["aux"] = r.random() < 0.2
    body.append(r.choice(["return (r, (r * 2.0, np.sum(x)))", "return r, x * 1.0",
                          "return r, (np.tanh(x), r)", "return r, x", "return r, (G, x)"])
                if spec["aux"] else "return r")
    fbody = "".join(_stmts(b, "        ") for b in body)
    src = f'''import numpy as np
import types

G = np.linspace(-0.5, 0.7, 3)
S = 1.5
FLAG = True
MODE = "sum"
ACT = np.tanh
mod = types.ModuleType("trust7_mod_{seed}")
mod.K = 0.75
mod.W = np.linspace(0.2, 0.9, 3)
mod.N = 2
H = np.linspace(0.1, 0.6, 2)
NG = 2
PW = 2
CFG = {{"w": 0.5, "k": 2}}
TS = (0.5, 1.25)


def helper_a(z):
    return np.tanh(z) * S


def helper_b(z):
    return np.sin(z) * 0.5


HELP = helper_a


def make():
    cw = np.linspace(0.3, -0.4, 3)
    cs = 0.3

    def f({", ".join(params)}):
{fbody}
    def set_cs(v):
        nonlocal cs
        cs = v

    def set_cw(v):
        nonlocal cw
        cw = v

    def get_cw():
        return cw
    return f, set_cs, set_cw, get_cw


f, set_cs, set_cw, get_cw = make()
'''
    # which arguments are differentiated, and by which transformations
    wrts = [0]
    if "p" in have:
        wrts += [spec["params"].index("p"), (0, spec["params"].index("p"))]
    if "y" in have and spec["y_kind"] in ("f64", "F"):
        wrts.append((0, spec["params"].index("y")))
    spec["wrt"] = r.choice(wrts)
    kinds = ["vg", "vg", "grad"]
    if not spec["aux"]:
        kinds += ["jac"]
        if group == "array" and not spec["kwonly"]:
            kinds += ["hvp"]
    spec["transforms"] = sorted(set(r.choice(kinds) for _ in range(2)))
    return src, spec


_loaded = 0


def load(src):
    global _loaded
    _loaded += 1
    filename = f"<trust7 program {_loaded}>"
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    ns = {"__name__": f"trust7_{_loaded}"}
    exec(compile(src, filename, "exec"), ns)
    return ns


# ------------------------------------------------------------------ arguments


def _array(rng, shape, lo=-1.2, hi=1.2):
    v = rng.uniform(lo, hi, shape)
    return np.where(np.abs(v) < 0.1, v + 0.25, v)


def _x(kind, shape, rng, ns):
    if kind == "C":
        return _array(rng, shape)
    if kind == "F":
        return np.asfortranarray(_array(rng, shape))
    if kind == "f32":
        return _array(rng, shape).astype(np.float32)
    if kind == "strided":
        base = _array(rng, shape[:-1] + (2 * shape[-1],))
        return base[..., ::2]
    if kind == "neg":
        return _array(rng, shape)[..., ::-1]
    if kind == "readonly":
        a = _array(rng, shape)
        a.flags.writeable = False
        return a
    if kind == "global":
        return ns["G"]
    if kind == "0d":
        return np.array(_array(rng, ()))
    v = float(_array(rng, ()))
    if kind == "float":
        return v
    if kind == "np64":
        return np.float64(v)
    if kind == "np32":
        return np.float32(v)
    if kind == "list":
        return [float(t) for t in _array(rng, shape)]
    if kind == "tuple":
        return tuple(float(t) for t in _array(rng, shape))
    raise AssertionError(kind)


def build(spec, call, ns):
    """Fresh (args, kwargs) of one call: equal values and the same aliasing
    each time (seeded by the call's seed)."""
    rng = np.random.default_rng(call["seed"])
    n = call["n"]
    shape = (n,) if spec["ndim"] == 1 else (2, n)
    xk = call["x_kind"]
    if xk == "global" and (spec["ndim"] != 1 or np.shape(ns["G"]) != shape
                           or ns["G"].dtype != np.float64):
        xk = "C"
    if xk == "F" and spec["ndim"] == 1:
        xk = "C"
    x = _x(xk, shape, rng, ns)
    vals = {"x": x}
    yk = call["y_kind"]
    if "y" in spec["params"]:
        if yk == "same" and isinstance(x, np.ndarray) and x.ndim:
            y = x
        elif yk == "overlap" and isinstance(x, np.ndarray) and x.ndim and xk not in ("global",):
            base = _array(rng, shape[:-1] + (n + 1,)).astype(x.dtype)
            x = vals["x"] = base[..., :n]
            y = base[..., 1:]
        elif yk == "int":
            y = rng.integers(-3, 4, shape)
        elif yk == "f32":
            y = _array(rng, shape).astype(np.float32)
        elif yk == "F" and len(shape) == 2:
            y = np.asfortranarray(_array(rng, shape))
        else:
            y = _array(rng, shape)
        vals["y"] = y
    if "p" in spec["params"]:
        b = {"float": float(_array(rng, ())), "np64": np.float64(_array(rng, ())),
             "0d": np.array(_array(rng, ())), "np32": np.float32(_array(rng, ()))}[call["b_kind"]]
        items = [("w", _array(rng, (n,))), ("b", b), ("sub", {"v": _array(rng, (n,))})]
        if call.get("order"):
            items = items[::-1]
        vals["p"] = dict(items)
    if "c" in spec["params"] and call["c"] is not None:
        vals["c"] = call["c"]
    if "k" in spec["params"] and call["k"] is not None:
        vals["k"] = call["k"]
    args, kwargs = [], {}
    positional = True
    for name in spec["params"]:
        if name not in vals:
            positional = False
            continue
        if positional and name not in call["kw"]:
            args.append(vals[name])
        else:
            positional = False
            kwargs[name] = vals[name]
    return args, kwargs


def _leaf_paths(v, path=()):
    if isinstance(v, dict):
        return [q for k in v for q in _leaf_paths(v[k], path + (k,))]
    if isinstance(v, (list, tuple)):
        return [path + (i,) for i in range(len(v))]
    return [path]


def _get(v, path):
    for k in path:
        v = v[k]
    return v


def _set(v, path, new):
    """``v`` with the leaf at ``path`` replaced (containers copied shallowly)."""
    if not path:
        return new
    k = path[0]
    if isinstance(v, dict):
        out = dict(v)
        out[k] = _set(v[k], path[1:], new)
        return out
    out = list(v)
    out[k] = _set(v[k], path[1:], new)
    return type(v)(out)


def _bind(spec, args, kwargs):
    """{parameter name: (where, key)} of the passed arguments."""
    out = {}
    for i, a in enumerate(args):
        out[spec["params"][i]] = ("a", i)
    for k in kwargs:
        out[k] = ("k", k)
    return out


def _arg(args, kwargs, where):
    return args[where[1]] if where[0] == "a" else kwargs[where[1]]


def _with_arg(args, kwargs, where, value):
    args, kwargs = list(args), dict(kwargs)
    if where[0] == "a":
        args[where[1]] = value
    else:
        kwargs[where[1]] = value
    return args, kwargs


# ------------------------------------------------------------------ globals


class GlobalState:
    """Snapshots and restores what f may read outside its arguments (f run
    by NumPy may write into a global; the compiled code must refuse)."""

    def __init__(self, ns):
        self.ns = ns

    def snap(self):
        ns = self.ns
        d = {k: ns[k] for k in ("G", "S", "FLAG", "MODE", "ACT", "HELP", "helper_a")}
        d["mod"] = dict(vars(ns["mod"]))
        d["CFG"] = dict(ns["CFG"])
        for k in ("H", "NG", "PW", "TS"):
            d[k] = ns[k]
        d["cw"] = ns["get_cw"]()
        d["f_defaults"] = ns["f"].__defaults__
        d["f_kwdefaults"] = ns["f"].__kwdefaults__
        arrays = {"G": d["G"], "mod.W": d["mod"]["W"], "cw": d["cw"], "H": d["H"]}
        d["_copies"] = {k: (v, np.array(v, copy=True)) for k, v in arrays.items()
                        if isinstance(v, np.ndarray)}
        return d

    def restore(self, d):
        ns = self.ns
        for k in ("G", "S", "FLAG", "MODE", "ACT", "HELP", "helper_a"):
            ns[k] = d[k]
        vars(ns["mod"]).update(d["mod"])
        ns["CFG"].clear()
        ns["CFG"].update(d["CFG"])
        for k in ("H", "NG", "PW", "TS"):
            ns[k] = d[k]
        ns["set_cw"](d["cw"])
        ns["f"].__defaults__ = d["f_defaults"]
        ns["f"].__kwdefaults__ = d["f_kwdefaults"]
        for arr, cp in d["_copies"].values():
            if arr.flags.writeable:
                arr[...] = cp

    def changed(self, d):
        return [k for k, (arr, cp) in d["_copies"].items()
                if arr.shape != cp.shape or not np.array_equal(arr, cp)]


def mutate(r, ns, spec, n):
    """One random change to the world between calls; returns its description."""
    k = r.randrange(24)
    if k == 17:
        ns["H"] = np.linspace(0.2, -0.7, r.choice([1, 2, 3, 5]))
        return f"H = size {ns['H'].size}"
    if k == 18:
        ns["H"] *= -1.5
        return "H *= -1.5"
    if k == 19:
        ns["NG"] = r.choice([0, 1, 2, 3])
        return f"NG = {ns['NG']}"
    if k == 20:
        ns["PW"] = r.choice([2, 2.0, 3, 0.5, 1, 0, True, np.float64(1.5), np.int64(2)])
        return f"PW = {ns['PW']!r}"
    if k == 21:
        ns["mod"].N = r.choice([0, 1, 3])
        return f"mod.N = {ns['mod'].N}"
    if k == 22:
        key, v = r.choice([("w", -1.25), ("w", np.float32(2.0)), ("k", 0), ("k", 3), ("w", 2)])
        ns["CFG"][key] = v
        return f"CFG[{key!r}] = {v!r}"
    if k == 23:
        ns["TS"] = r.choice([(0.5, 1.25), (2.0, -1.0), (1, 0)])
        return f"TS = {ns['TS']}"
    G = ns["G"]
    if k == 0:
        G *= 1.3
        return "G *= 1.3"
    if k == 1:
        ns["G"] = np.linspace(0.9, -0.2, n)
        return "G = new"
    if k == 2:
        ns["G"] = G.astype(np.float32)
        return "G = float32"
    if k == 3:
        v = r.choice([0.5, 2, np.float32(1.25), np.float64(-0.75), np.array(0.4), True])
        ns["S"] = v
        return f"S = {v!r}"
    if k == 4:
        ns["FLAG"] = not ns["FLAG"]
        return f"FLAG = {ns['FLAG']}"
    if k == 5:
        ns["MODE"] = "mean" if ns["MODE"] == "sum" else "sum"
        return f"MODE = {ns['MODE']}"
    if k == 6:
        name = r.choice(["np.sin", "np.arctan", "np.tanh", "lambda z: z * z * 0.5"])
        fn = f"<trust7 act {r.random()}>"
        linecache.cache[fn] = (len(name), None, [name + "\n"], fn)
        ns["ACT"] = eval(compile(name, fn, "eval"), ns)
        return f"ACT = {name}"
    if k == 7:
        ns["HELP"] = ns["helper_b"] if ns["HELP"] is ns["helper_a"] else ns["helper_a"]
        return f"HELP = {ns['HELP'].__name__}"
    if k == 8:
        body = r.choice(["np.cos(z) * S", "z * z * 0.25", "np.tanh(z) * S"])
        src = f"def helper_a(z):\n    return {body}\n"
        fn = f"<trust7 helper {id(src)} {r.random()}>"
        linecache.cache[fn] = (len(src), None, src.splitlines(True), fn)
        exec(compile(src, fn, "exec"), ns)
        return f"helper_a = <{body}>"
    if k == 9:
        ns["mod"].K = r.choice([0.25, -1.5, 3])
        return f"mod.K = {ns['mod'].K}"
    if k == 10:
        ns["mod"].W *= 0.5
        return "mod.W *= 0.5"
    if k == 11:
        ns["mod"].W = np.linspace(-0.3, 0.8, n)
        return "mod.W = new"
    if k == 12:
        v = r.choice([0.7, -2, np.float64(0.2)])
        ns["set_cs"](v)
        return f"cs = {v!r}"
    if k == 13:
        cw = ns["get_cw"]()
        cw *= 1.1
        return "cw *= 1.1"
    if k == 14:
        ns["set_cw"](np.linspace(0.5, 0.1, n))
        return "cw = new"
    if k == 15 and ns["f"].__kwdefaults__:
        kd = dict(ns["f"].__kwdefaults__)
        kd["c"] = kd["c"] * -0.5
        ns["f"].__kwdefaults__ = kd
        return f"f.__kwdefaults__ = {kd}"
    if k == 15 and ns["f"].__defaults__:
        d = list(ns["f"].__defaults__)
        d[0] = d[0] * -0.5 if isinstance(d[0], float) else d[0] + 1
        ns["f"].__defaults__ = tuple(d)
        return f"f.__defaults__ = {tuple(d)}"
    # k == 16: G[0] written in place
    G[0] = 0.123
    return "G[0] = 0.123"


def resize(ns, n):
    """Every shape-dependent global rebound to ``n`` elements."""
    ns["G"] = np.linspace(-0.5, 0.7, n)
    ns["mod"].W = np.linspace(0.2, 0.9, n)
    ns["set_cw"](np.linspace(0.3, -0.4, n))


# ------------------------------------------------------------------ checks


class Invalid(Exception):
    pass


class Failure(AssertionError):
    pass


def _same_layout(leaf, values):
    """A float64 array of ``values`` with ``leaf``'s memory layout (its strides
    in a copy of its base, F or C order, writeable or not) but its own
    memory: whether a reshape of it is a view must not change under a finite
    difference."""
    base = leaf.base
    if base is None or not isinstance(base, np.ndarray) or base.base is not None or \
            not (base.flags.c_contiguous or base.flags.f_contiguous):
        fortran = leaf.flags.f_contiguous and not leaf.flags.c_contiguous
        out = np.empty(leaf.shape, np.float64, order="F" if fortran else "C")
    else:
        nb = np.array(base, dtype=np.float64,
                      order="F" if base.flags.f_contiguous and not base.flags.c_contiguous else "C")
        scale = 8 // leaf.itemsize
        offset = (leaf.__array_interface__["data"][0] - base.__array_interface__["data"][0]) * scale
        out = np.ndarray(leaf.shape, np.float64, buffer=nb, offset=offset,
                         strides=tuple(st * scale for st in leaf.strides))
    out[...] = values
    if not leaf.flags.writeable:
        out.flags.writeable = False
    return out


def _plain(f, spec, call, ns, gs, perturb=None):
    """f run by NumPy on fresh arguments (one leaf perturbed, as float64)."""
    args, kwargs = build(spec, call, ns)
    if perturb is not None:
        name, path, idx, eps = perturb
        where = _bind(spec, args, kwargs)[name]
        a = _arg(args, kwargs, where)
        leaf = _get(a, path)
        arr = np.array(leaf, dtype=np.float64)
        arr[idx] += eps
        new = float(arr) if not isinstance(leaf, np.ndarray) else _same_layout(leaf, arr)
        args, kwargs = _with_arg(args, kwargs, where, _set(a, path, new))
    snap = gs.snap()
    try:
        with np.errstate(all="raise"), warnings.catch_warnings():
            warnings.simplefilter("error")
            out = f(*args, **kwargs)
        out = _snapshot(out)        # (an aux may be a global restored below)
    except Exception as exc:        # noqa: BLE001 -- NumPy rejects it: not a test
        raise Invalid(f"{type(exc).__name__}: {exc}") from None
    finally:
        gs.restore(snap)
    return out


def _loss(out, spec):
    return out[0] if spec["aux"] else out


def _fd(f, spec, call, ns, gs, name, path, leaf, f32=False):
    """Central differences at two steps (None where they disagree: a kink);
    float32 values are rounded to 1e-7: larger steps."""
    shape = np.shape(leaf)
    res = []
    steps, rtol = ((1e-3, 3e-3), 1e-2) if f32 else ((1e-6, 1e-5), 1e-4)
    for eps in steps:
        g = np.zeros(shape)
        for idx in np.ndindex(shape):
            hi = _loss(_plain(f, spec, call, ns, gs, (name, path, idx, eps)), spec)
            lo = _loss(_plain(f, spec, call, ns, gs, (name, path, idx, -eps)), spec)
            g[idx] = (float(hi) - float(lo)) / (2 * eps)
        res.append(g)
    if not np.allclose(res[0], res[1], rtol=rtol, atol=1e-6):
        return None                 # not smooth within the step
    return res[0]


def _snapshot(v):
    if isinstance(v, dict):
        return {k: _snapshot(w) for k, w in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(_snapshot(w) for w in v)
    if isinstance(v, np.ndarray):
        return np.array(v, copy=True)
    return v


def _equal(a, b):
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_equal(p, q) for p, q in zip(a, b))
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and a.dtype == b.dtype and \
            np.array_equal(a, b, equal_nan=True)
    return type(a) is type(b) and (a == b or a != a and b != b)


def _arrays_in(v):
    if isinstance(v, dict):
        return [q for w in v.values() for q in _arrays_in(w)]
    if isinstance(v, (list, tuple)):
        return [q for w in v for q in _arrays_in(w)]
    return [v] if isinstance(v, np.ndarray) else []


def _is_f32(v):
    return any(np.asarray(q).dtype == np.float32 for q in _leaves(v))


def _leaves(v):
    if isinstance(v, dict):
        return [q for w in v.values() for q in _leaves(w)]
    if isinstance(v, (list, tuple)):
        return [q for w in v for q in _leaves(w)]
    return [v]


def _kind_ok(g, x, jac=False):
    """The gradient has its argument's structure and kind (a Jacobian: its
    structure and shapes, of the result's dtype)."""
    if isinstance(x, dict):
        return isinstance(g, dict) and list(g) == list(x) and \
            all(_kind_ok(g[k], x[k], jac) for k in x)
    if isinstance(x, (list, tuple)):
        return type(g) is type(x) and len(g) == len(x) and \
            all(_kind_ok(p, q, jac) for p, q in zip(g, x))
    if jac:
        return np.shape(g) == np.shape(x)
    if isinstance(x, np.ndarray):
        return isinstance(g, np.ndarray) and g.shape == x.shape and g.dtype == x.dtype
    if isinstance(x, float) and not isinstance(x, np.generic):
        return type(g) is float
    if isinstance(x, np.generic):
        return np.asarray(g).dtype == x.dtype and np.shape(g) == ()
    return True


def make_transforms(f, spec):
    wrt = spec["wrt"]
    out = {}
    for kind in spec["transforms"]:
        if kind == "vg":
            out[kind] = s2sgrad.value_and_grad(f, wrt=wrt, has_aux=spec["aux"])
        elif kind == "grad":
            out[kind] = s2sgrad.grad(f, wrt=wrt, has_aux=spec["aux"])
        elif kind == "jac":
            out[kind] = s2sgrad.jacobian(f, wrt=wrt)
        elif kind == "hvp":
            out[kind] = s2sgrad.hvp(f, wrt=0)
    return out


def _unpack(kind, res, spec):
    """(value or None, aux or None, gradient per wrt argument)."""
    wrt = spec["wrt"]
    value = aux = None
    if kind == "vg":
        value, g = res
        if spec["aux"]:
            value, aux = value
    elif kind == "grad":
        g = res
        if spec["aux"]:
            g, aux = res
    else:
        g = res
    gs = list(g) if isinstance(wrt, tuple) else [g]
    return value, aux, gs


def check(seed, calls=6, verbose=False):
    """'ok', 'refused', 'invalid' or raises Failure."""
    src, spec = program(seed)
    try:
        ns = load(src)
    except Exception as exc:                    # noqa: BLE001
        raise Failure(f"seed {seed}: the program does not load: {exc}")
    f = ns["f"]
    gs = GlobalState(ns)
    r = random.Random(seed * 7919 + 1)
    transforms = make_transforms(f, spec)
    kept = []                                  # (gradient, its snapshot, call)
    history = []
    checked = 0
    n = 3
    params = spec["params"]
    wrt = spec["wrt"]
    wrts = list(wrt) if isinstance(wrt, tuple) else [wrt]
    for step in range(calls):
        if step:
            if r.random() < 0.25:
                n = 4 if n == 3 else 3
                resize(ns, n)
                history.append(f"resize {n}")
            for _ in range(r.randint(1, 3)):
                history.append(mutate(r, ns, spec, n))
        kinds = spec["x_kinds"]
        call = {"seed": seed * 1000 + step, "n": n,
                "x_kind": spec["x_kind"] if r.random() < 0.6 else r.choice(kinds),
                "y_kind": spec["y_kind"] if r.random() < 0.7 else r.choice(["f64", "f32"]),
                "b_kind": r.choice(["float", "float", "np64", "0d", "np32"]),
                "c": r.choice([None, None, 0.25, 2, np.float32(1.5)]),
                "k": r.choice([None, 1, 3]),
                "kw": set(r.sample(params, r.randint(0, len(params)))),
                "order": r.random() < 0.2}
        if spec.get("kwonly") and "c" in params:
            call["kw"] |= {"c", "k"} & set(params)       # after '*': by keyword only
        kind = r.choice(sorted(transforms))
        if kind == "hvp" and (call["kw"] or call["c"] is None and "c" in params or
                              call["k"] is None and "k" in params):
            call["kw"] = set()
            call["c"] = 0.25
            call["k"] = 1
        history.append(f"call {step} {kind} {call['x_kind']}/{call['y_kind']}/{call['b_kind']}"
                       f" c={call['c']!r} k={call['k']!r} kw={sorted(call['kw'])}")
        where = f"seed {seed} step {step} ({'; '.join(history)})"
        try:
            expect = _plain(f, spec, call, ns, gs)
            value_expect = _loss(expect, spec)
            if not np.isfinite(value_expect).all() or np.size(value_expect) != 1:
                raise Invalid("not finite")
        except Invalid:
            return "invalid" if not checked else "ok"
        args, kwargs = build(spec, call, ns)
        before = _snapshot((args, kwargs))
        snap = gs.snap()
        tf = transforms[kind]
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if kind == "hvp":
                    xv = args[0]
                    v = np.random.default_rng(seed + step).normal(size=np.shape(xv))
                    v = np.asarray(v, dtype=np.asarray(xv).dtype)
                    if isinstance(xv, (list, tuple)):
                        v = type(xv)(float(t) for t in v)
                    elif not isinstance(xv, np.ndarray):
                        v = type(xv)(v)
                    res = tf(tuple(args), v)
                else:
                    res = tf(*args, **kwargs)
        except S2SGradError as exc:
            if verbose:
                print(f"seed {seed} refused: {type(exc).__name__}: {str(exc).splitlines()[0]}")
            return "refused" if not checked else "ok"
        except Exception as exc:               # noqa: BLE001
            raise Failure(f"{where}: {type(exc).__name__}: {exc}") from exc
        if not _equal(before, (args, kwargs)):
            raise Failure(f"{where}: the caller's arguments were changed")
        moved = gs.changed(snap)
        if moved:
            raise Failure(f"{where}: the globals {moved} were changed")
        f32 = _is_f32((args, kwargs)) or np.asarray(ns["G"]).dtype == np.float32 or \
            isinstance(ns["S"], np.float32)
        rtol = 2e-5 if f32 else 1e-9
        if kind == "hvp":
            g = res
            # H v by differences of the plain function's gradient is costly:
            # compare with differences of value_and_grad's (checked below)
            vg = s2sgrad.value_and_grad(f, wrt=0)
            xs = np.array(args[0], dtype=np.float64)
            vv = np.array(v, dtype=np.float64)
            eps = 1e-5
            lay = (lambda a: _same_layout(args[0], a)) if isinstance(args[0], np.ndarray) \
                else (lambda a: a)
            gp = np.asarray(vg(lay(xs + eps * vv), *args[1:])[1], dtype=np.float64)
            gm = np.asarray(vg(lay(xs - eps * vv), *args[1:])[1], dtype=np.float64)
            hv = (gp - gm) / (2 * eps)
            if not _kind_ok(g, args[0]):
                raise Failure(f"{where}: hvp kind {type(g)} for {type(args[0])}")
            if not np.allclose(np.asarray(g, dtype=np.float64), hv,
                               rtol=1e-3 if f32 else 1e-4, atol=1e-4):
                raise Failure(f"{where}: hvp {g} != {hv}")
            kept.append((g, _snapshot(g), step))
            checked += 1
            continue
        value, aux, grads = _unpack(kind, res, spec)
        if value is not None and not np.allclose(value, value_expect, rtol=rtol, atol=1e-12):
            raise Failure(f"{where}: value {value!r} != NumPy {value_expect!r}")
        if value is not None and isinstance(value_expect, (np.ndarray, np.generic)) and \
                np.asarray(value).dtype != value_expect.dtype:
            raise Failure(f"{where}: value dtype {np.asarray(value).dtype} != NumPy "
                          f"{value_expect.dtype}")
        if aux is not None:
            la, le = _leaves(aux), _leaves(expect[1])
            if len(la) != len(le) or not all(
                    np.shape(a) == np.shape(e) and np.allclose(a, e, rtol=rtol, atol=1e-12)
                    for a, e in zip(la, le)):
                raise Failure(f"{where}: aux {aux!r} != NumPy {expect[1]!r}")
        # no two gradients share memory, nor a gradient and an aux value (two
        # aux values may: NumPy's f may return one array twice)
        gouts, aouts = _arrays_in(grads), _arrays_in(aux)
        for i, a in enumerate(gouts):
            for b in gouts[:i] + aouts:
                if np.may_share_memory(a, b):
                    raise Failure(f"{where}: two results of one call share memory")
        bound = _bind(spec, args, kwargs)
        argarrays = _arrays_in((args, kwargs)) + \
            [a for a in (ns["G"], ns["mod"].W, ns["get_cw"]()) if isinstance(a, np.ndarray)]
        for w, g in zip(wrts, grads):
            name = params[w]
            if name not in bound:
                raise Failure(f"{where}: differentiated {name} not passed")
            xw = _arg(args, kwargs, bound[name])
            if not _kind_ok(g, xw, kind == "jac"):
                raise Failure(f"{where}: gradient of {name} is {g!r}, argument {xw!r}")
            for ga in _arrays_in(g):
                if any(np.may_share_memory(ga, a) for a in argarrays):
                    raise Failure(f"{where}: the gradient of {name} shares memory with an "
                                  f"argument or a global")
            for path in _leaf_paths(xw):
                leaf = _get(xw, path)
                try:
                    fd = _fd(f, spec, call, ns, gs, name, path, leaf, f32)
                except Invalid:
                    fd = None
                if fd is None:
                    continue
                got = np.asarray(_get(g, path), dtype=np.float64)
                tol = dict(rtol=1e-2, atol=1e-3) if f32 else dict(rtol=1e-4, atol=1e-6)
                if not np.allclose(got, fd, **tol):
                    raise Failure(f"{where}: gradient of {name}{list(path)} {got} != FD {fd}")
                checked += 1
        # the caller keeps this gradient; an earlier one must be unchanged
        for gk, snapk, stepk in kept:
            if not _equal(gk, snapk):
                raise Failure(f"{where}: the gradient returned by call {stepk} was changed")
        for g in grads:
            if r.random() < 0.3:
                for ga in _arrays_in(g):
                    if ga.flags.writeable:
                        ga *= 1000.0        # the caller writes into what it got
            kept.append((g, _snapshot(g), step))
    for gk, snapk, stepk in kept:
        if not _equal(gk, snapk):
            raise Failure(f"seed {seed} end: the gradient returned by call {stepk} was changed")
    return "ok" if checked else "invalid"


def run(start, stop, verbose=False, calls=6):
    counts: dict = {}
    fails = []
    for seed in range(start, stop):
        try:
            res = check(seed, calls=calls, verbose=verbose)
        except Failure as exc:
            res = "fail"
            fails.append(seed)
            print(str(exc)[:2000])
        counts[res] = counts.get(res, 0) + 1
    return counts, fails


if __name__ == "__main__":
    a, b = int(sys.argv[1]), int(sys.argv[2])
    counts, fails = run(a, b, verbose="-v" in sys.argv)
    print(counts)
    print("failing seeds:", fails)
