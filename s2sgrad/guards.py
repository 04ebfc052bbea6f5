"""Guards: what a compiled version assumed about the world outside its
arguments, checked cheaply at each call.

Lowering resolves some things at compile time that the function reads from
its globals, closure cells or objects reachable from them (``self``, a
config dict, a module): which helper function a name calls, which callable
``act`` is, whether ``TRAIN`` is true, the string that picks a loss, an
int that sets a layer count.  Each such read is recorded here as a *path*
from a root (a module's globals, a closure cell, a fixed object such as a
bound method's ``self``) through attributes and dict/list items, with the
object found there:

* identity for objects (``act is np.tanh``; a helper redefined after the
  first call is a new function object);
* type and value for immutable values (``TRAIN``, ``cfg.n_layers``,
  ``CONFIG["loss"]``), so an equal int that is another object still passes.

Everything else the generated code reads from outside (arrays, floats) is
read live when it runs, not assumed (see :mod:`s2sgrad.lower.names`).

:func:`build` turns the recorded guards into one small Python function
compiled against the function's module globals, so a global name costs one
``LOAD_GLOBAL`` (with CPython's inline caches, a few nanoseconds) and an
``is``; a path that no longer resolves (a deleted global, a missing key)
makes the guard fail rather than raise.  The API checks it before running
a cached version and recompiles (or picks another cached version whose
guards hold) when it fails.
"""
from __future__ import annotations

import builtins
import keyword
import math

_MISSING = object()

# Modules whose attributes are not guarded: libraries do not rebind their
# functions (np.exp stays np.exp), and guarding every np.* read would cost
# a check per primitive per call.  Globals *naming* them (``np``) are guarded.
LIBRARY_ROOTS = frozenset({"numpy", "scipy", "math", "cmath", "builtins", "s2sgrad", "warnings",
                           "contextlib", "functools", "operator", "itertools", "collections",
                           "typing", "dask", "types"})

# immutable values compared by type and value (not identity)
_BY_VALUE = (int, float, complex, str, bytes, tuple, frozenset)


def is_library(obj) -> bool:
    """Whether attributes of ``obj`` (a module or class) are left unguarded."""
    name = getattr(obj, "__name__", None) if isinstance(obj, type(builtins)) else \
        getattr(obj, "__module__", None)
    return isinstance(name, str) and name.split(".")[0] in LIBRARY_ROOTS


class Path:
    """How to reach a value from a root: ``("global", globals_dict, name)``,
    ``("cell", cell, name)`` or ``("object", obj, name)``, then a tuple of
    steps ``("attr", name)`` / ``("item", key)``.  (Lowering also roots
    paths at an object passed as an argument, ``("arg", parameter Var,
    name)``: what is read through those is keyed with the argument, see
    ``s2sgrad.api.ObjectArg``, never guarded here.)"""
    __slots__ = ("root", "steps")

    def __init__(self, root, steps=()):
        self.root = root
        self.steps = tuple(steps)

    def attr(self, name):
        return Path(self.root, self.steps + (("attr", name),))

    def item(self, key):
        return Path(self.root, self.steps + (("item", key),))

    def len(self):
        """The length of the value here (a global list of functions)."""
        return Path(self.root, self.steps + (("len", None),))

    def key(self):
        kind, obj, name = self.root
        return (kind, id(obj), name, tuple((k, _hashable(v)) for k, v in self.steps))

    def describe(self):
        out = self.root[2]
        for kind, v in self.steps:
            out = f"len({out})" if kind == "len" else \
                out + (f".{v}" if kind == "attr" else f"[{v!r}]")
        return out


def _hashable(v):
    try:
        hash(v)
        return (type(v), v)
    except TypeError:
        return (type(v), id(v))


class Guards:
    """The guards recorded while lowering one function (in recording order,
    without duplicates)."""

    def __init__(self):
        self.items: dict = {}

    def add(self, path: Path, expected):
        k = path.key()
        if k not in self.items:
            self.items[k] = (path, expected)

    def extend(self, other):
        for k, v in (other.items.items() if isinstance(other, Guards) else other):
            self.items.setdefault(k, v)

    def __len__(self):
        return len(self.items)

    def __iter__(self):
        return iter(self.items.values())


def resolve(path, default=_MISSING):
    """The object at ``path`` now (for diagnostics; the guard function is
    what the call path runs)."""
    kind, obj, name = path.root
    try:
        if kind == "global":
            v = obj[name] if name in obj else getattr(builtins, name)
        elif kind == "cell":
            v = obj.cell_contents
        else:
            v = obj
        for step, k in path.steps:
            v = len(v) if step == "len" else getattr(v, k) if step == "attr" else v[k]
        return v
    except Exception:       # noqa: BLE001
        return default


def changed(items):
    """The paths among ``items`` whose object is not the one compiled for."""
    out = []
    for path, expected in items:
        v = resolve(path)
        same = v is expected or (by_value(expected) and same_value(v, expected))
        if not same:
            out.append(path.describe())
    return out


def by_value(v) -> bool:
    return isinstance(v, _BY_VALUE) and not isinstance(v, bool)


def same_value(v, expected) -> bool:
    """Whether ``v`` may stand for ``expected`` in code compiled for it: the
    same type and value -- element by element in a tuple (``(True, False) ==
    (1, 0)``, but ``x[TS[0]]`` of a bool adds an axis), a float's sign too
    (``-0.0 == 0.0``, but ``np.copysign`` and ``1 / z`` tell them apart), a
    NaN is a NaN; other objects by identity."""
    if v is expected:
        return True
    t = type(expected)
    if type(v) is not t:
        return False
    if t is float:
        return v == expected and math.copysign(1.0, v) == math.copysign(1.0, expected) or \
            (v != v and expected != expected)
    if t is complex:
        return same_value(v.real, expected.real) and same_value(v.imag, expected.imag)
    if isinstance(expected, tuple):
        return len(v) == len(expected) and all(same_value(a, b) for a, b in zip(v, expected))
    if isinstance(expected, frozenset):
        return len(v) == len(expected) and \
            {(type(a), a) for a in v} == {(type(b), b) for b in expected}
    if isinstance(expected, _BY_VALUE):
        return v == expected
    return False


def tests(guards, globals_dict, avoid=()):
    """The guards as one Python expression, evaluated in ``globals_dict``
    (a global is read with ``LOAD_GLOBAL``, as the user's code reads it), and
    the constants it names (``_s2g_*``, to be bound by the enclosing
    function); None when there are no guards.  A global whose name is in
    ``avoid`` (the parameters of a function the expression is placed in) is
    read from the dictionary instead.  Evaluating the expression may raise
    (a dictionary entry removed): the caller treats that as a failed guard."""
    items = list(guards)
    if not items:
        return None
    consts: dict = {}

    def const(v, stem):
        name = f"_s2g_{stem}{len(consts)}"
        consts[name] = v
        return name

    tests = []
    for path, expected in items:
        kind, obj, name = path.root
        if kind == "global":
            if obj is globals_dict and name.isidentifier() and not keyword.iskeyword(name) \
                    and not name.startswith(("_s2g_", "_s2s_")) and name not in avoid:
                expr = name                         # LOAD_GLOBAL: globals, then builtins
            elif name in obj:
                expr = f"{const(obj, 'g')}[{name!r}]"
            else:                                    # a builtin, seen from obj
                g = const(obj, "g")
                tests.append(f"{name!r} not in {g}")
                expr = f"{const(getattr(builtins, name, None), 'b')}"
        elif kind == "cell":
            expr = f"{const(obj, 'c')}.cell_contents"
        else:
            expr = const(obj, "o")
        for step, v in path.steps:
            if step == "len":
                expr = f"{const(len, 'f')}({expr})"
            elif step == "attr":
                expr = f"{expr}.{v}"
            elif isinstance(v, (str, int)) and not isinstance(v, bool):
                expr = f"{expr}[{v!r}]"
            else:
                expr = f"{expr}[{const(v, 'k')}]"
        if expected is None or isinstance(expected, bool):
            tests.append(f"{expr} is {expected!r}")
        elif by_value(expected) and type(expected) in (int, str, bytes):
            e = const(expected, "e")
            t = const(type(expected), "t")
            ty = const(type, "f")           # not the name `type`: the user's globals may have one
            tests.append(f"(({expr}) is {e} or ({ty}({expr}) is {t} and {expr} == {e}))")
        elif by_value(expected):
            # a float (its sign), a tuple (its items' types): same_value
            e = const(expected, "e")
            tests.append(f"(({expr}) is {e} or {const(same_value, 's')}({expr}, {e}))")
        else:
            tests.append(f"{expr} is {const(expected, 'e')}")
    return " and\n                ".join(tests), consts


def build(guards, globals_dict):
    """A function of no arguments returning whether every guard still holds
    (None when there are none)."""
    items = list(guards)
    found = tests(items, globals_dict)
    if found is None:
        return None
    body, consts = found
    src = (f"def _s2sgrad_guard_factory({', '.join(consts)}):\n"
           f"    def guard():\n"
           f"        try:\n"
           f"            return ({body})\n"
           f"        except Exception:\n"
           f"            return False\n"
           f"    return guard\n")
    ns: dict = {}
    exec(compile(src, "<s2sgrad guard>", "exec"), globals_dict, ns)
    fn = ns["_s2sgrad_guard_factory"](*consts.values())
    fn.source = src
    fn.guards = items
    return fn
