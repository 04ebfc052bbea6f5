"""Export: a compiled transformation written as a Python module that needs only NumPy.

    s2sgrad.export(grad(loss, wrt=(0, 1)), "loss_grad.py")                  # shape-polymorphic
    s2sgrad.export(value_and_grad(loss), "loss_vg.py", example_args=(w, X, y))
                                                   # ... plus code specialised to these shapes

The module holds

* a header saying what it was generated from (file, function, the
  transformation and its options, the s2sgrad version; no timestamps: the
  same input gives byte-identical output);
* the helpers the generated code calls, their source copied from
  :mod:`s2sgrad.runtime` (and ``runtime_linalg``, ``runtime_numpy``, ``schedules``,
  ``batch_runtime``, ``basis``, ``export_runtime``), only the ones used and
  what they call, with the standard-library imports they need (SciPy is
  imported only when the function itself calls it);
* the globals and closure variables the function reads, **frozen**: their
  values at export time written as constants (so are values read through
  objects the module cannot hold: a helper's float default argument, read
  live in process as ``helper.__defaults__[0]``, an attribute of a bound
  method's ``self``, ``cfg.lr`` of a global object -- the export is of their
  current values, as for globals) (small arrays as
  ``np.array([...])`` literals, exact to the last bit; an array of more than
  ``max_constant_size`` elements, or a value that has no literal, is an
  error that says to pass it as an argument instead);
* the generated code: the shape-polymorphic function(s) (``<name>_generic``,
  the code ``.generic_source`` shows) and, with ``example_args``, the code
  specialised to the examples' shapes, dtypes and types
  (``<name>_specialised``), which runs only for calls that match it
  exactly, every other call running the polymorphic code;
* the public function, named as in ``.source`` (``loss_grad``,
  ``loss_value_and_grad``, ``loss_vjp``, ``loss_jvp``, ``loss_hvp``,
  ``loss_hessp``, ``loss_hessian``, ``loss_jacobian``), called exactly as
  the in-process transformation is called and returning the same values
  (pytrees in and out, keyword arguments, the function's defaults).

The argument *structure* is fixed at export (as the in-process cache key
is): which arguments are containers and their layout, which are ``None``,
which Python ints/bools were compile-time constants (and their values).  It
comes from ``example_args`` when given, else from the transformation's last
call, else every argument is an array (or ``None`` where that is its
default).  A call with another structure is a
``TypeError`` that says so; never a wrong number.

Not exported (an :class:`ExportError` says so): functions with ``*args`` or
``**kwargs``, outputs holding namedtuples (the module could not import
their class), globals without a literal (objects, huge arrays).  Hessians
and Jacobians are exported shape-polymorphic (their batched linear part
too, unless it needs s2sgrad's primitive table: then the module builds them
one basis vector per call).
"""
from __future__ import annotations

import ast
import builtins
import inspect
import math
import os
import re

import numpy as np

from . import (basis, batch_runtime, export_runtime, runtime, runtime_linalg, runtime_numpy,
               schedules)
from .api import VJPFunction, _GradBase, _Transformed
from .codegen import free_key, print_function
from .errors import S2SGradError
from .higher import HessianFunction, HessPFunction, HVPFunction, JacobianFunction, JVPFunction
from .ir import Block, Eqn, Func, Var, iter_eqns
from .primitives import core as _P
from .specialize import specialize

__all__ = ["export", "ExportError"]

#: Arrays with more elements than this are not written into exported modules.
MAX_CONSTANT_SIZE = 10_000


class ExportError(S2SGradError, ValueError):
    """A transformation cannot be exported (what and why is in the message)."""


def export(transformed, path=None, *, example_args=None, example_kwargs=None,
           max_constant_size=MAX_CONSTANT_SIZE) -> str:
    """Write ``transformed`` (``grad(f)``, ``value_and_grad(f)``, ``vjp``,
    ``jvp``, ``hvp``, ``hessp``, ``hessian``, ``jacobian``, or compositions
    such as ``grad(grad(f))``) as a module that imports only NumPy; return
    its source (and write it to ``path`` if given).

    ``example_args`` / ``example_kwargs``: arguments as the transformation
    is called with (for ``jvp``: ``(primals, tangents)``; ``hvp``: ``(args,
    v)``).  They fix the argument structure and add code specialised to
    their shapes and dtypes.  See the module docstring for globals.
    """
    if not isinstance(transformed, _Transformed):
        raise TypeError(f"export expects a transformed function such as grad(f), got "
                        f"{transformed!r}")
    if path is not None and not isinstance(path, (str, bytes, os.PathLike)):
        # Checked before any work: a common slip is export(grad(f), x), the
        # example argument where the file name goes.
        raise TypeError(f"export's path is the file to write (a str or os.PathLike), got "
                        f"{type(path).__name__}; pass example arguments as "
                        f"example_args=(...)")
    text = _Exporter(transformed, example_args, example_kwargs, max_constant_size).module()
    if path is not None:
        with open(os.fspath(path), "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    return text


# ---------------------------------------------------------------- copying helpers' source


class _Source:
    """The top-level definitions of a helper module: each one's source text
    (with the comment lines right above it) and the module-level names it
    refers to, so the helpers a module needs are copied with everything they
    call."""

    def __init__(self, module):
        self.module = module
        self.path = f"s2sgrad/{os.path.basename(module.__file__)}"
        text = inspect.getsource(module)
        lines = text.splitlines()
        tree = ast.parse(text)
        self.defs: dict = {}        # name -> (position, source text, referenced names)
        self.imports: dict = {}     # name bound by a standard-library import -> the statement
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)) and not getattr(node, "level", 0):
                mod = node.module if isinstance(node, ast.ImportFrom) else None
                if mod in ("__future__", "numpy") or any(a.name.split(".")[0] == "numpy"
                                                         for a in node.names):
                    continue
                for a in node.names:
                    self.imports[(a.asname or a.name).split(".")[0]] = ast.unparse(node)
        for pos, node in enumerate(tree.body):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names = [node.name]
            elif isinstance(node, ast.Assign) and all(isinstance(t, ast.Name)
                                                       for t in node.targets):
                names = [t.id for t in node.targets]
                if names == ["__all__"]:
                    continue
            else:
                continue
            start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            while start > 1 and lines[start - 2].startswith("#"):
                start -= 1
            src = "\n".join(lines[start - 1:node.end_lineno])
            refs = set()
            for n in ast.walk(node):
                if isinstance(n, ast.Name):
                    refs.add(n.id)
                elif isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name):
                    refs.add(f"{n.value.id}.{n.attr}")
            for name in names:
                self.defs[name] = (pos, src, refs)


_SOURCES: dict = {}
#: The modules whose helpers exported modules copy, in the order they are written.
_HELPER_MODULES = (runtime, runtime_linalg, runtime_numpy, schedules, basis, export_runtime)


def _source(module) -> _Source:
    s = _SOURCES.get(module.__name__)
    if s is None:
        s = _SOURCES[module.__name__] = _Source(module)
    return s


def _closure(names, modules):
    """``{module: [names]}``: ``names`` and every module-level definition of
    ``modules`` they refer to, transitively (in file order)."""
    want = {m.__name__: set() for m in modules}
    todo = list(names)
    while todo:
        name = todo.pop()
        for m in modules:
            src = _source(m)
            if name in src.defs and name not in want[m.__name__]:
                want[m.__name__].add(name)
                refs = src.defs[name][2]
                todo += [r for r in refs if "." not in r]
                break
    return {m: sorted(want[m.__name__], key=lambda n: _source(m).defs[n][0]) for m in modules}


# ---------------------------------------------------------------- constants


class _Literal:
    """Python source for a value: exact, deterministic, NumPy only."""

    def __init__(self, max_size):
        self.max_size = max_size

    def __call__(self, v, what):
        if v is None or isinstance(v, (bool, str, bytes)) or v is Ellipsis:
            return repr(v)
        if isinstance(v, int):
            return repr(v)
        if isinstance(v, float):
            return _float(v)
        if isinstance(v, complex):
            return f"complex({_float(v.real)}, {_float(v.imag)})"
        if isinstance(v, np.generic) and not isinstance(v, np.void):
            return f"np.{type(v).__name__}({self._scalar(v, what)})"
        if isinstance(v, np.ndarray):
            return self._array(v, what)
        if isinstance(v, np.dtype):
            return f"np.dtype({str(v)!r})"
        if isinstance(v, type) and getattr(np, v.__name__, None) is v:
            return f"np.{v.__name__}"
        if v in (float, int, bool, complex):
            return v.__name__
        if isinstance(v, type) and getattr(builtins, v.__name__, None) is v:
            return v.__name__           # a builtin class (isinstance, raise ValueError)
        if isinstance(v, slice):
            return f"slice({self(v.start, what)}, {self(v.stop, what)}, {self(v.step, what)})"
        if isinstance(v, range):
            return f"range({v.start}, {v.stop}, {v.step})"
        if isinstance(v, tuple) and not hasattr(v, "_fields"):
            items = [self(x, what) for x in v]
            return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
        if isinstance(v, list):
            return "[" + ", ".join(self(x, what) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{self(k, what)}: {self(x, what)}" for k, x in v.items()) + "}"
        if callable(v) or inspect.ismodule(v):
            qual = getattr(v, "__qualname__", None) or (
                "" if inspect.ismodule(v) else f"{type(v).__qualname__} object")  # an instance
            name = f"{getattr(v, '__module__', None) or ''}.{qual}"
            raise ExportError(f"the generated code calls {name.strip('.') or v!r} ({what}), "
                              f"which a module that imports only NumPy cannot reach")
        raise ExportError(f"{what} is a {type(v).__name__}, which an exported module cannot "
                          f"hold (it needs only NumPy); pass it as an argument instead")

    def _scalar(self, v, what):
        if v.dtype.kind == "f" and v.dtype.itemsize <= 8:
            return _float(float(v))
        if v.dtype.kind in "iub":
            return repr(v.item())
        if v.dtype.kind == "c" and v.dtype.itemsize <= 16:
            return self(complex(v), what)
        raise ExportError(f"{what} has dtype {v.dtype}, which an exported module cannot "
                          f"write exactly; pass it as an argument instead")

    def _array(self, a, what):
        if a.size > self.max_size:
            raise ExportError(f"{what} is an array of shape {a.shape} ({a.size} elements); an "
                              f"exported module holds arrays of at most {self.max_size} "
                              f"elements (export(..., max_constant_size=...)); pass it as an "
                              f"argument of the function instead")
        if a.dtype.kind not in "fiubc" or a.dtype.kind == "f" and a.dtype.itemsize > 8:
            raise ExportError(f"{what} has dtype {a.dtype}, which an exported module cannot "
                              f"write exactly; pass it as an argument instead")
        dtype = f"np.{a.dtype.name}" if getattr(np, a.dtype.name, None) is a.dtype.type \
            else f"np.dtype({a.dtype.str!r})"
        if a.size == 0:
            return f"np.zeros({a.shape!r}, dtype={dtype})"
        body = self._nested(a.tolist(), a.dtype.kind, what)
        return f"np.array({body}, dtype={dtype})"

    def _nested(self, x, kind, what):
        if isinstance(x, list):
            return "[" + ", ".join(self._nested(y, kind, what) for y in x) + "]"
        if kind == "f":
            return _float(x)
        if kind == "c":
            return self(complex(x), what)
        return repr(x)


def _float(x: float) -> str:
    if math.isnan(x):
        return "float('nan')"
    if math.isinf(x):
        return "float('inf')" if x > 0 else "-float('inf')"
    return repr(x)        # the shortest text that reads back exactly


# ---------------------------------------------------------------- structures


def _struct(td):
    """A pytree.TreeDef as an export_runtime structure literal."""
    if td is None or td.kind == "leaf":
        return None
    kids = tuple(_struct(c) for c in td.children)
    if td.kind == "dict":
        return ("dict", tuple(td.keys), kids)
    if td.kind == "namedtuple":
        return ("namedtuple", td.type.__name__, tuple(td.type._fields), kids)
    return (td.kind, kids)


def _has_namedtuple(td):
    return td is not None and (td.kind == "namedtuple" or any(_has_namedtuple(c)
                                                               for c in td.children))


def _signature_literal(key, lit):
    """An export_runtime.signature key as source (None: not expressible)."""
    parts = []
    for k in key:
        if isinstance(k, tuple) and k[0] == "dtype":
            if getattr(np, k[1].__name__, None) is not k[1]:
                return None
            parts.append(f"('dtype', np.{k[1].__name__})")
        elif isinstance(k, tuple):
            shape, dtype, t = k
            tname = "np.ndarray" if t is np.ndarray else (
                f"np.{t.__name__}" if getattr(np, t.__name__, None) is t else None)
            if tname is None:
                return None
            parts.append(f"({shape!r}, {lit(dtype, 'a dtype')}, {tname})")
        else:
            parts.append(k.__name__)
    return _lines_literal(parts)


def _describe_key(key):
    out = []
    for k in key:
        if isinstance(k, tuple) and k[0] == "dtype":
            out.append(f"dtype {k[1].__name__}")
        elif isinstance(k, tuple):
            out.append(f"{k[1]} {k[0]}" + ("" if k[2] is np.ndarray else f" {k[2].__name__}"))
        else:
            out.append(k.__name__)
    return ", ".join(out)


_LOAD_PRIMS = ("load_global", "load_cell", "load_object", "load_attr", "load_item")
_LOAD_GLOBAL = _P.get("load_global")


def _steps_text(steps):
    return "".join(f".{k}" if kind == "attr" else f"[{k!r}]" for kind, k in steps)


def _rewrite_block(block: Block, replace: dict, extra=()) -> Block:
    """A copy of ``block`` (nested regions too) with the equations whose id
    is in ``replace`` replaced; the loads that only fed them are dropped
    (codegen prints loads where they are used, so an unused one prints
    nothing, but it would still be frozen)."""
    eqns = []
    for e in block.eqns:
        if id(e) in replace:
            eqns.append(replace[id(e)])
            continue
        if e.blocks():
            params = {k: _rewrite_block(v, replace) if isinstance(v, Block) else v
                      for k, v in e.params.items()}
            e = Eqn(e.prim, e.args, e.kwargs, e.outs, params, e.loc)
        eqns.append(e)
    used = set()

    def uses(es, results):
        for e in es:
            used.update(id(a) for a in e.atoms() if isinstance(a, Var))
            for b in e.blocks():
                uses(b.eqns, b.results)
        used.update(id(r) for r in results if isinstance(r, Var))
    while True:
        used.clear()
        uses(eqns, list(block.results) + list(extra))
        kept = [e for e in eqns if not (e.prim.name in _LOAD_PRIMS and
                                         all(id(o) not in used for o in e.outs))]
        if len(kept) == len(eqns):
            break
        eqns = kept
    return Block(eqns, list(block.params), list(block.results))


# ---------------------------------------------------------------- the exporter


class _Exporter:
    def __init__(self, tf, example_args, example_kwargs, max_size):
        self.tf = tf
        self.lit = _Literal(max_size)
        fn = tf.fn
        while isinstance(fn, _Transformed):
            fn = fn.fn
        self.user_fn = fn
        self.globals = tf._globals()
        self.example = example_args is not None or example_kwargs is not None
        self.args = tuple(example_args or ())
        self.kwargs = dict(example_kwargs or {})
        self.functions: list = []       # (name, source)
        self.consts: list = []          # (name, value) shared by the generated functions
        self.free: dict = {}            # free_key -> module-level name
        self.free_values: list = []     # (name, value, what)
        self.frozen_reads: dict = {}    # (path text, id(value)) -> {name: value read now}
        self.frozen_what: dict = {}     # id of such a dict -> the path it was read through
        self.helpers: set = set()       # runtime names the generated code calls
        self.batch_helpers: set = set()
        self.wrapper_helpers: set = set()   # export_runtime / basis names the wrapper calls
        self.notes: list = []
        self.module_names = {"np"}
        self.modules: set = set()       # PRINT_MODULES (scipy) the generated code uses
        for m in _HELPER_MODULES:
            self.module_names |= set(_source(m).defs) | set(_source(m).imports)

    # ------------------------------------------------------------ printing code

    def _prepare_free(self, funcs):
        """Module-level names for the globals and cells ``funcs`` read."""
        for f in funcs:
            for e in iter_eqns(f.body):
                if e.prim.name not in ("load_global", "load_cell"):
                    continue
                key = free_key(e)
                if key in self.free:
                    continue
                base = e.params["name"]
                name, k = base, 1
                while name in self.module_names:
                    name, k = f"{base}_{k}", k + 1
                self.module_names.add(name)
                self.free[key] = name
                if e.prim.name == "load_cell":
                    try:
                        value = e.params["cell"].cell_contents
                    except ValueError:
                        raise ExportError(f"closure variable '{base}' of "
                                          f"'{self.user_fn.__name__}' is not set") from None
                    what = f"closure variable '{base}'"
                else:
                    g = e.params["globals"]
                    if base not in g:
                        raise ExportError(f"global '{base}' read by '{self.user_fn.__name__}' "
                                          f"is not defined")
                    value = g[base]
                    what = self.frozen_what.get(id(g), f"global '{base}'")
                self.free_values.append((name, value, what))

    def _freeze_reads_through_objects(self, func: Func) -> Block:
        """``func``'s body with every live read through an object the module
        cannot hold -- ``helper.__defaults__[0]`` (a helper's float default),
        ``self.W`` of a bound method, ``cfg.lr`` of a global object -- replaced
        by a read of a frozen module-level constant holding the value read now
        (as globals are frozen).  A chain rooted at a global or closure
        variable that has a literal (a dict of numbers) is left as it is."""
        defs = {}
        for e in iter_eqns(func.body):
            if e.prim.name in _LOAD_PRIMS:
                defs[id(e.out)] = e
        if not any(e.prim.name == "load_object" for e in defs.values()) and \
                not any(e.prim.name in ("load_attr", "load_item") for e in defs.values()):
            return func.body

        def chain(e):
            out = [e]
            while e.prim.name in ("load_attr", "load_item"):
                e = defs.get(id(e.args[0])) if isinstance(e.args[0], Var) else None
                if e is None:
                    return None
                out.append(e)
            return out[::-1]

        def read(steps):
            root = steps[0]
            if root.prim.name == "load_object":
                v = root.params["obj"]
            elif root.prim.name == "load_cell":
                v = root.params["cell"].cell_contents
            else:
                v = root.params["globals"][root.params["name"]]
            for e in steps[1:]:
                v = getattr(v, e.params["attr"]) if e.prim.name == "load_attr" else \
                    v[e.params["key"]]
            return v

        def describe(steps):
            out = steps[0].params["name"]
            for e in steps[1:]:
                out += f".{e.params['attr']}" if e.prim.name == "load_attr" else \
                    f"[{e.params['key']!r}]"
            return out

        def literal_root(e):
            if e.prim.name == "load_object":
                return False
            try:
                self.lit(read([e]), "")
            except (ExportError, ValueError, KeyError):
                return False
            return True

        # loads used by something other than a further load: the leaves
        used_by_other = set()
        for e in iter_eqns(func.body):
            if e.prim.name in ("load_attr", "load_item"):
                continue
            used_by_other |= {id(a) for a in e.atoms() if isinstance(a, Var)}
            for b in e.blocks():
                used_by_other |= {id(r) for r in b.results if isinstance(r, Var)}
        used_by_other |= {id(r) for r in func.results if isinstance(r, Var)}
        used_by_other |= {id(r) for r in func.body.results if isinstance(r, Var)}
        replace = {}
        for vid, e in defs.items():
            if e.prim.name == "load_global" or e.prim.name == "load_cell" or \
                    vid not in used_by_other:
                continue
            steps = chain(e)
            if steps is None or literal_root(steps[0]):
                continue
            what = describe(steps)
            try:
                value = read(steps)
            except Exception as exc:                # noqa: BLE001
                raise ExportError(f"'{what}' read by '{self.user_fn.__name__}' cannot be "
                                  f"read ({type(exc).__name__}: {exc})") from None
            base = re.sub(r"[\W_]+", "_", what).strip("_") or "value"
            key = (what, id(value))
            if key not in self.frozen_reads:
                g = {base: value}
                self.frozen_reads[key] = g
                self.frozen_what[id(g)] = f"'{what}'"
            g = self.frozen_reads[key]
            replace[id(e)] = Eqn(_LOAD_GLOBAL, (), {}, e.outs, {"name": next(iter(g)),
                                                               "globals": g}, e.loc)
        if not replace:
            return func.body
        return _rewrite_block(func.body, replace, func.results)

    def code(self, func: Func, name: str, namer=None, *, batched=False):
        """Print ``func`` as module-level function ``name``; returns its CodeGen."""
        func = Func(func.name, func.params, self._freeze_reads_through_objects(func),
                    func.results, func.filename, func.info)
        self._prepare_free([func])
        copy = Func(name, list(func.params), func.body, list(func.results), func.filename,
                    dict(func.info))
        cg = print_function(copy, self.globals, namer, consts=self.consts, free_names=self.free)
        self.helpers |= cg.helpers
        self.modules |= cg.modules
        if batched:
            self.batch_helpers |= {e.params["fn"] for e in iter_eqns(func.body)
                                   if e.prim.name == "batch_helper"}
        self.functions.append((name, cg.source))
        self.module_names.add(name)
        return cg

    def specialised(self, func: Func, leaves, name: str):
        """Print ``func`` specialised to ``leaves``; returns the signature
        literal its calls must match, or None (not specialised)."""
        key = export_runtime.signature(leaves)
        sig = _signature_literal(key, self.lit) if key is not None else None
        if sig is None:
            self.notes.append(f"{name}: no code specialised to the example (its arguments "
                              f"are of kinds that are not specialised)")
            return None
        f = specialize(func, leaves)
        if f is None:
            self.notes.append(f"{name}: the example's shapes give no specialised code")
            return None
        self.code(f, name)
        self.spec_description = _describe_key(key)
        return sig

    # ------------------------------------------------------------ the module

    def module(self) -> str:
        tf = self.tf
        if isinstance(tf, _GradBase):
            plan = _GradPlan(self)
        elif isinstance(tf, VJPFunction):
            plan = _VJPPlan(self)
        elif isinstance(tf, JVPFunction):
            plan = _JVPPlan(self)
        elif isinstance(tf, HVPFunction):        # hessp too
            plan = _HVPPlan(self)
        elif isinstance(tf, (HessianFunction, JacobianFunction)):
            plan = _BasisPlan(self)
        else:
            raise ExportError(f"export does not know how to write a {type(tf).__name__}")
        wrapper = plan.build()
        return self._assemble(plan, wrapper)

    def _assemble(self, plan, wrapper) -> str:
        mods = _HELPER_MODULES
        needed = _closure(sorted(self.helpers | self.wrapper_helpers), mods)
        batch_runtime_names = []
        if self.batch_helpers:
            bsrc = _source(batch_runtime)
            want = _closure(sorted(self.batch_helpers), (batch_runtime,))[batch_runtime]
            batch_runtime_names = want
            rt = set()
            for n in want:
                rt |= {r.split(".", 1)[1] for r in bsrc.defs[n][2] if r.startswith("runtime.")}
            for m, names in _closure(sorted(rt), mods).items():
                needed[m] = sorted(set(needed[m]) | set(names),
                                   key=lambda n, m=m: _source(m).defs[n][0])
            self._runtime_namespace = sorted(rt)
        out = [self._header(plan), "import numpy as np"]
        # the standard-library modules the copied helpers use, and SciPy if the
        # function calls it (scipy.special ...)
        stdlib = set()
        for m in mods:
            src = _source(m)
            for n in needed[m]:
                stdlib |= {src.imports[r] for r in src.defs[n][2] if r in src.imports}
        if batch_runtime_names:
            bsrc = _source(batch_runtime)
            for n in batch_runtime_names:
                stdlib |= {bsrc.imports[r] for r in bsrc.defs[n][2] if r in bsrc.imports}
        out += sorted(stdlib)
        if self.modules:
            subs = set()
            for _, source in self.functions:
                subs |= {f"import {m}" for m in
                         re.findall(r"\b((?:" + "|".join(sorted(self.modules)) + r")\.\w+)\b",
                                    source)}
            out += sorted({f"import {m}" for m in self.modules} | subs)
        # the one public name (the copied helpers are the module's own business)
        out += ["", f"__all__ = [{plan.public!r}]", ""]
        for m in mods:
            if needed[m]:
                src = _source(m)
                out.append("")
                out.append(f"# {'-' * 40} copied from {src.path}")
                seen = set()
                for n in needed[m]:
                    text = src.defs[n][1]
                    if text not in seen:
                        seen.add(text)
                        out += ["", text, ""]
        if batch_runtime_names:
            out += self._batch_namespace(batch_runtime_names)
        if self.free_values or self.consts:
            out += ["", f"# {'-' * 40} constants"]
            if self.free_values:
                out.append("# the globals, closure variables and values read through objects "
                           "that the code reads, frozen: their values when exported")
            for name, value, what in self.free_values:
                out.append(f"{name} = {self.lit(value, what)}")
            for name, value in self.consts:
                if value is batch_runtime:
                    continue
                out.append(f"{name} = {self.lit(value, 'a constant of the generated code')}")
            out.append("")
        out += ["", f"# {'-' * 40} generated code"]
        for name, source in self.functions:
            out += ["", source.rstrip("\n"), ""]
        out += ["", f"# {'-' * 40} {plan.public}", ""]
        out.append(wrapper.rstrip("\n"))
        text = "\n".join(out)
        text = re.sub(r"\n{3,}", "\n\n\n", text).strip("\n") + "\n"
        return text

    def _batch_namespace(self, names):
        src = _source(batch_runtime)
        out = ["", f"# {'-' * 40} copied from {src.path}", "",
               "class runtime:",
               '    """The helpers above, as the batched helpers below call them."""']
        for n in self._runtime_namespace:
            out.append(f"    {n} = staticmethod({n})")
        out += ["", "", "def _batch_helpers():",
                '    """The helpers of batched code (called as batch.<name>)."""']
        for n in names:
            out += [""] + ["    " + ln if ln else "" for ln in src.defs[n][1].splitlines()]
        out += ["", "    return {" + ", ".join(f"{n!r}: {n}" for n in names) + "}", "", "",
                "batch = type('batch', (), {name: staticmethod(f) "
                "for name, f in _batch_helpers().items()})", ""]
        return out

    def _header(self, plan) -> str:
        from . import __version__
        fn = self.user_fn
        code = getattr(fn, "__code__", None)
        where = (f"{os.path.basename(code.co_filename)}, function {fn.__name__} "
                 f"(line {code.co_firstlineno})") if code else fn.__name__
        lines = [f'"""{plan.public}: {plan.summary}',
                 "",
                 f"Generated by s2sgrad {__version__} from {where}:",
                 f"    {plan.expression}",
                 f"Call it as the transformation is called: {plan.public}{plan.call}.",
                 f"Arguments: {plan.describe_arguments()}."]
        if plan.specialised:
            lines.append(f"Code specialised to {self.spec_description} runs for calls with "
                         f"exactly those shapes, dtypes and types; every other call runs the "
                         f"shape-polymorphic code.")
        if self.free_values:
            names = ", ".join(n for n, _, _ in self.free_values)
            lines.append(f"Globals and closure variables read by the function are frozen "
                         f"here, with their values at export: {names}.")
        lines += [f"Note: {n}." for n in self.notes]
        needs = "only NumPy" if not self.modules else \
            "NumPy and " + ", ".join(sorted(m.capitalize() if m != "scipy" else "SciPy"
                                            for m in self.modules)) + \
            " (the function calls it)"
        lines += ["", f"This module needs {needs}.  Export again (s2sgrad.export, or "
                  "`python -m s2sgrad export`) rather than editing the generated code.", '"""']
        return "\n".join(_wrap(ln) for ln in lines)


def _wrap(line, width=79):
    if len(line) <= width or line.startswith("    "):
        return line
    words, out, cur = line.split(" "), [], ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            out.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}" if cur else w
    out.append(cur)
    return "\n".join(out)


# ---------------------------------------------------------------- per transformation


class _Plan:
    """What one kind of transformation exports: its generated functions and
    the public function around them."""

    summary = ""
    specialised = False

    def __init__(self, ex: _Exporter):
        self.ex = ex
        self.tf = ex.tf
        self.consts: dict = {}           # module constants of the public function
        self.params = list(self.tf._sig.parameters.values())
        for p in self.params:
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise ExportError(f"'{ex.user_fn.__name__}' takes *{p.name}: exported modules "
                                  f"need a fixed list of parameters")

    def const(self, name):
        return f"_{self.public.upper()}_{name}"

    def code_choice(self, func, leaves):
        """Print ``func`` (and its specialisation to ``leaves``, if given);
        the lines choosing ``code`` for a call's ``leaves``."""
        generic = f"{_pyname(func.name)}_generic"
        self.ex.code(func, generic)
        if leaves is None:
            return [f"code = {generic}"]
        sig = self.ex.specialised(func, leaves, f"{_pyname(func.name)}_specialised")
        if sig is None:
            return [f"code = {generic}"]
        self.specialised = True
        self.consts["SIGNATURE"] = sig
        self.ex.wrapper_helpers.add("signature")
        return [f"code = {generic}",
                f"if signature(leaves) == {self.const('SIGNATURE')}:",
                f"    code = {_pyname(func.name)}_specialised"]

    def wrapper(self, public_params, call_args, impl_params, body):
        """The public function (its own parameters, a docstring) calling
        ``_<public>``, whose body is ``body``, with the plan's constants."""
        impl = f"_{self.public}"
        for name in (self.public, impl):
            if name in self.ex.module_names or name in [p.name for p in self.params]:
                raise ExportError(f"cannot export: the name '{name}' is taken (a parameter or "
                                  f"global of '{self.ex.user_fn.__name__}')")
        doc = _wrap(_doc(self), 72).split("\n")
        lines = [f"def {self.public}({public_params}):"]
        lines += [f'    """{doc[0]}'] + [f"    {d}" for d in doc[1:]] + ['    """']
        lines += [f"    return {impl}({call_args})", "", ""]
        for k, v in self.consts.items():
            lines.append(f"{self.const(k)} = {v}")
        lines += ["", "", f"def {impl}({impl_params}):"]
        for ln in body:
            lines += ["    " + part if part else "" for part in _fold(ln).split("\n")]
        return "\n".join(lines) + "\n"

    # ---- the argument structure (as the in-process cache key)

    def f_specs_and_bound(self):
        """(specs of f's parameters, bound example arguments or None)."""
        tf = self.tf
        if not self.ex.example:
            return self.default_specs(), None
        bound = tf._bind(self.ex.args, self.ex.kwargs)
        tf._validate(bound)
        return tf._specs(bound), bound

    def default_specs(self):
        """Without examples: the argument structure of the transformation's
        last call, else every argument an array (None where that is its
        default)."""
        last = getattr(self.tf._last, "specs", None)
        return last if last is not None else self.tf._default_specs()

    def arguments_literal(self, specs, wrt):
        """export_runtime's description of f's parameters for ``flat_arguments``."""
        items = []
        for i, p in enumerate(self.params):
            kind, data = specs[p.name]
            if kind == "tree":
                desc = repr(("tree", _struct(data)))
            elif kind == "static":
                desc = repr(("static", _static_value(data)))
            elif kind == "none":
                desc = repr("none")
            elif kind == "object" and data.checks:
                raise ExportError(
                    f"the code was compiled for what the {data.type.__name__} object passed "
                    f"as '{p.name}' held (its methods, ints, strings: "
                    f"{', '.join(p.name + _steps_text(s) for s, _ in data.checks)}), which an "
                    f"exported module cannot check on another object; make the object a "
                    f"global (frozen at export) or pass the arrays it holds")
            else:
                desc = repr("leaf")
            items.append(f"({p.name!r}, {desc}, {i in wrt})")
        return _lines_literal(items)

    def describe_arguments(self):
        parts, plain = [], []
        for p in self.params:
            kind, data = self.specs[p.name]
            if kind == "tree":
                parts.append(f"{p.name}: {export_runtime.describe(_struct(data))}")
            elif kind == "static":
                parts.append(f"{p.name}={_static_value(data)!r} (a compile-time constant)")
            elif kind == "none":
                parts.append(f"{p.name}=None")
            else:
                plain.append(p.name)
        if plain:
            parts.insert(0, f"{', '.join(plain)}: arrays or numbers" if len(plain) > 1 else
                         f"{plain[0]}: an array or a number")
        return "; ".join(parts)

    def signature_text(self):
        """The user's parameter list, defaults written as literals."""
        out, star, slash = [], False, False
        for p in self.params:
            if p.kind == p.POSITIONAL_ONLY:
                slash = True
            elif slash:
                out.append("/")
                slash = False
            if p.kind == p.KEYWORD_ONLY and not star:
                out.append("*")
                star = True
            text = p.name
            if p.default is not p.empty:
                text += "=" + self.ex.lit(p.default, f"the default of '{p.name}'")
            out.append(text)
        if slash:
            out.append("/")
        return ", ".join(out)

    def names_tuple(self):
        names = [p.name for p in self.params]
        return "(" + ", ".join(names) + ("," if len(names) == 1 else "") + ")"

    def bind_function(self):
        """``_<f>_arguments(<user signature>)``: the user's binding rules."""
        name = f"_{self.base}_arguments"
        self.ex.module_names.add(name)
        return name, (f"def {name}({self.signature_text()}):\n"
                      f"    return {self.names_tuple()}\n")

    def expression_text(self, kind, extra=""):
        tf = self.tf
        inner = self.ex.user_fn.__name__
        fn = tf.fn
        layers = []
        while isinstance(fn, _Transformed):
            layers.append(fn.kind_name)
            fn = fn.fn
        for k in reversed(layers):
            inner = f"{k}({inner})"
        wrt = tf.wrt[0] if tf._single else tuple(tf.wrt)
        opts = [f"wrt={wrt!r}"]
        if tf.has_aux:
            opts.append("has_aux=True")
        opts += extra
        return f"{kind}({inner}, {', '.join(opts)})"

    def wrt_tree_struct(self, specs):
        trees = []
        for w in self.tf.wrt:
            kind, td = specs[self.params[w].name]
            trees.append(_struct(td) if kind == "tree" else None)
        return trees[0] if self.tf._single else ("tuple", tuple(trees))

    def check_out_tree(self, td, what):
        if _has_namedtuple(td):
            raise ExportError(f"'{self.ex.user_fn.__name__}' returns a namedtuple in its "
                              f"{what}; an exported module cannot import its class: return a "
                              f"tuple or a dict")


def _fold(line, width=92):
    """A long statement of a public function folded after its commas (a
    hanging indent inside the first open parenthesis)."""
    if len(line) <= width or "(" not in line:
        return line
    lead = len(line) - len(line.lstrip())
    opened = line.index("(") + 1
    out, cur, depth, quote = [], "", 0, None
    for i, ch in enumerate(line):
        cur += ch
        if quote:
            quote = None if ch == quote else quote
            continue
        if ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 1 and len(cur) > width - opened - 20:
            out.append(cur)
            cur = ""
    out.append(cur)
    if len(out) == 1:
        return line
    pad = " " * opened
    return "\n".join([out[0]] + [pad + part.lstrip() for part in out[1:]]) if lead == 0 else \
        "\n".join([out[0]] + [" " * lead + pad[lead:] + part.lstrip() for part in out[1:]])


def _static_value(data):
    """The value of a static argument's spec (``api.StaticArg`` or the value)."""
    return getattr(data, "value", data)


def _strip(name, suffix):
    return name[:-len(suffix)] if name.endswith(suffix) else name


def _pyname(name):
    """A generated function's name as codegen prints it ("<lambda>_grad" -> "lambda_grad")."""
    return re.sub(r"\W", "", name) or "f"


def _lines_literal(items, indent="    "):
    """A tuple literal, one item per line when it is long."""
    one = "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if len(one) <= 80:
        return one
    return "(\n" + "".join(f"{indent}{it},\n" for it in items) + ")"


def _tuple_src(items):
    items = list(items)
    return "(" + ", ".join(str(i) for i in items) + ("," if len(items) == 1 else "") + ")"


class _GradPlan(_Plan):
    def build(self):
        ex, tf = self.ex, self.tf
        specs, bound = self.f_specs_and_bound()
        self.specs = specs
        c = tf._compiled(specs)
        func = c.func
        self.public = self.base = _pyname(func.name)
        keep, aux = tf.keep_value, tf.has_aux
        self.summary = ("the value and gradient of " if keep else "the gradient of ") + \
            ex.user_fn.__name__
        self.expression = self.expression_text("value_and_grad" if keep else "grad")
        self.call = f"({self.signature_text()})"
        if keep or aux:
            self.check_out_tree(c.out_tree, "output")
        code = self.code_choice(func, None if bound is None else tf._leaves(bound, specs))
        nvals = len(func.results) - len(c.wrt_leaves)
        ex.wrapper_helpers |= {"flat_arguments", "like_argument", "unalias", "regroup"}
        body = [f"leaves = flat_arguments({self.const('ARGUMENTS')}, args)"] + code
        body.append("results = code(*leaves)" if func.info.get("tuple_result")
                    else "results = (code(*leaves),)")
        body += [f"grads = unalias([like_argument(g, leaves[i], leaves) for g, i in "
                 f"zip(results[{nvals}:], {_tuple_src(c.wrt_leaves)})])",
                 f"grads = regroup(grads, {self.const('ARGUMENTS')}, {_tuple_src(tf.wrt)}, "
                 f"args)"]
        gradient = "grads[0]" if tf._single else "tuple(grads)"
        if not keep and not aux:
            body.append(f"return {gradient}")
        else:
            ex.wrapper_helpers.add("rebuild")
            body.append(f"value = rebuild({_struct(c.out_tree)!r}, iter(results[:{nvals}]))")
            if aux:
                body.append("loss, aux = value")
                body.append(f"return (loss, aux), {gradient}" if keep
                            else f"return {gradient}, aux")
            else:
                body.append(f"return value, {gradient}")
        self.consts["ARGUMENTS"] = self.arguments_literal(specs, tf.wrt)
        return self.wrapper(self.signature_text(), self.names_tuple(), "args", body)


class _VJPPlan(_Plan):
    def build(self):
        ex, tf = self.ex, self.tf
        specs, bound = self.f_specs_and_bound()
        self.specs = specs
        c = tf._compiled(specs)
        self.base = _strip(_pyname(c.func.name), "_fwd")
        self.public = f"{self.base}_vjp"
        self.summary = f"the vector-Jacobian product (pullback) of {ex.user_fn.__name__}"
        self.expression = self.expression_text("vjp")
        self.call = f"({self.signature_text()}) -> (out, pullback" + \
            (", aux)" if tf.has_aux else ")")
        self.check_out_tree(c.out_tree, "output")
        if c.aux_tree is not None:
            self.check_out_tree(c.aux_tree, "aux output")
        # the two halves share their names, as in .source
        fwd, bwd = c.func, c.backward.func
        cg = ex.code(fwd, f"{_pyname(fwd.name)}_generic")
        ex.code(bwd, f"{_pyname(bwd.name)}_generic", namer=cg.namer)
        fwd_code = ["fwd = " + f"{_pyname(fwd.name)}_generic"]
        bwd_code = ["bwd = " + f"{_pyname(bwd.name)}_generic"]
        if bound is not None:
            leaves = tf._leaves(bound, specs)
            sig = ex.specialised(fwd, leaves, f"{_pyname(fwd.name)}_specialised")
            if sig is not None:
                self.specialised = True
                self.consts["SIGNATURE"] = sig
                ex.wrapper_helpers.add("signature")
                fwd_code += [f"if signature(leaves) == {self.const('SIGNATURE')}:",
                             f"    fwd = {_pyname(fwd.name)}_specialised"]
                # the backward half, specialised to the example's residuals and
                # cotangents (its stacks, if any, keep it polymorphic)
                res = c.fn(*leaves)
                outs, residuals = list(res[:c.nout]), list(res[c.nvalues:])
                cts = [np.zeros(np.shape(o), dtype=np.result_type(o)) for o in outs]
                bsig = ex.specialised(bwd, residuals + cts, f"{_pyname(bwd.name)}_specialised")
                if bsig is not None:
                    self.consts["BACKWARD_SIGNATURE"] = bsig
                    bwd_code += [f"if signature(list(residuals) + cts) == "
                                 f"{self.const('BACKWARD_SIGNATURE')}:",
                                 f"    bwd = {_pyname(bwd.name)}_specialised"]
        ex.wrapper_helpers |= {"flat_arguments", "like_argument", "unalias", "regroup",
                               "rebuild", "cotangent_leaves"}
        out_struct = repr(_struct(c.out_tree))
        body = [f"leaves = flat_arguments({self.const('ARGUMENTS')}, args)"] + fwd_code + [
            "res = fwd(*leaves)",
            f"outs, residuals = list(res[:{c.nout}]), res[{c.nvalues}:]",
            "",
            "def pullback(cotangent):",
            f"    cts = cotangent_leaves(cotangent, outs, {out_struct}, "
            f"{ex.user_fn.__name__!r})"] + ["    " + ln for ln in bwd_code] + [
            "    gs = bwd(*residuals, *cts)",
            "    if not isinstance(gs, tuple):",
            "        gs = (gs,)",
            f"    gs = unalias([like_argument(g, leaves[i], leaves) for g, i in zip(gs, "
            f"{_tuple_src(c.wrt_leaves)})])",
            f"    gs = regroup(gs, {self.const('ARGUMENTS')}, {_tuple_src(tf.wrt)}, args)",
            "    return gs[0]" if tf._single else "    return tuple(gs)",
            "",
            f"out = rebuild({out_struct}, iter(outs))"]
        if c.aux_tree is not None:
            body.append(f"return out, pullback, rebuild({_struct(c.aux_tree)!r}, "
                        f"iter(res[{c.nout}:{c.nvalues}]))")
        else:
            body.append("return out, pullback")
        self.consts["ARGUMENTS"] = self.arguments_literal(specs, tf.wrt)
        return self.wrapper(self.signature_text(), self.names_tuple(), "args", body)


class _JVPPlan(_Plan):
    def build(self):
        ex, tf = self.ex, self.tf
        if ex.example:
            if len(ex.args) != 2:
                raise TypeError("example_args of a jvp are (primals, tangents); "
                                "example_kwargs its function's keyword arguments")
            bound = [("primals", ex.args[0]), ("tangents", ex.args[1]),
                     ("kwargs", ex.kwargs)]
            tf._validate(bound)
            specs = tf._specs(bound)
        else:
            bound, specs = None, self.default_specs()
        f_specs, split, ntan, ranges = tf._split(specs)
        m = specs["__jvp__"][1][1]
        self.specs = f_specs
        c = tf._compiled(specs)
        func = c.func
        self.public = self.base = _pyname(func.name)
        self.summary = f"the Jacobian-vector product (forward mode) of {ex.user_fn.__name__}"
        self.expression = self.expression_text("jvp")
        self.call = "(primals, tangents, **kwargs) -> (out, out_dot" + \
            (", aux)" if tf.has_aux else ")")
        self.check_out_tree(c.out_tree, "output")
        if c.aux_tree is not None:
            self.check_out_tree(c.aux_tree, "aux output")
        code = self.code_choice(func, None if bound is None else tf._leaves(bound, specs))
        bind_name, bind_src = self.bind_function()
        ex.wrapper_helpers |= {"flat_arguments", "tangent_leaves", "like_output", "rebuild"}
        wrt_names = [self.params[w].name for w in tf.wrt]
        body = [
            "if not isinstance(primals, (tuple, list)) or len(primals) != "
            f"{m}:",
            f"    raise TypeError('this module was exported for jvp calls with {m} primals')",
            f"if not isinstance(tangents, (tuple, list)) or len(tangents) != {len(tf.wrt)}:",
            f"    raise TypeError('tangents must be a tuple with one tangent per "
            f"differentiated argument ({len(tf.wrt)})')",
            f"args = {bind_name}(*primals, **kwargs)",
            f"f_leaves = flat_arguments({self.const('ARGUMENTS')}, args)",
            "t_leaves = []",
            f"for w, name, t in zip({_tuple_src(tf.wrt)}, {_tuple_src(map(repr, wrt_names))}, "
            f"tangents):",
            "    t_leaves += tangent_leaves(t, args[w], name)",
            f"leaves = f_leaves[:{split}] + t_leaves + f_leaves[{split}:]"] + code + [
            "res = code(*leaves)",
            f"values, dots = list(res[:{c.nres}]), list(res[{c.nres}:])",
            f"outs = values[:{c.nout}]",
            "dots = [like_output(d, o, leaves) for d, o in zip(dots, outs)]",
            f"out = rebuild({_struct(c.out_tree)!r}, iter(outs))",
            f"out_dot = rebuild({_struct(c.out_tree)!r}, iter(dots))"]
        if c.aux_tree is not None:
            body.append(f"return out, out_dot, rebuild({_struct(c.aux_tree)!r}, "
                        f"iter(values[{c.nout}:]))")
        else:
            body.append("return out, out_dot")
        self.consts["ARGUMENTS"] = self.arguments_literal(f_specs, tf.wrt)
        return bind_src + "\n\n" + self.wrapper("primals, tangents, **kwargs",
                                                  "primals, tangents, kwargs",
                                                  "primals, tangents, kwargs", body)


class _HVPPlan(_Plan):
    def build(self):
        ex, tf = self.ex, self.tf
        hessp = isinstance(tf, HessPFunction)
        bound = None
        if ex.example:
            args = list(ex.args)
            if hessp:
                f_args, v = (args[0],) + tuple(args[2:]), args[1]
            else:
                f_args, v = tuple(args[0]), args[1]
            bound = tf._bind(f_args, ex.kwargs)
            tf._validate(bound)
            specs = tf._specs(bound)
        else:
            specs = self.default_specs()
        self.specs = specs
        c = tf._compiled(specs)
        func = c.func
        self.base = _strip(_pyname(func.name), "_hvp_jvp")
        kind = "hessp" if hessp else "hvp"
        self.public = f"{self.base}_{kind}"
        self.summary = f"Hessian-vector products of {ex.user_fn.__name__}"
        self.expression = self.expression_text(kind) if not hessp else \
            f"hessp({ex.user_fn.__name__})"
        self.call = "(x, p, *args, **kwargs)" if hessp else "(args, v, **kwargs)"
        leaves_example = None
        if bound is not None:
            leaves_example = tf._leaves(bound, specs)
            vs = (v,) if tf._single else v
            for w, t in zip(tf.wrt, vs):
                name, value = bound[w]
                leaves_example = leaves_example + export_runtime.tangent_leaves(t, value, name,
                                                                                "vector")
        code = self.code_choice(func, leaves_example)
        bind_name, bind_src = self.bind_function()
        ex.wrapper_helpers |= {"flat_arguments", "tangent_leaves", "like_argument", "unalias",
                               "rebuild"}
        wrt_names = [self.params[w].name for w in tf.wrt]
        body = []
        if hessp:
            body.append(f"args = {bind_name}(x, *args, **kwargs)")
            body.append("vs = (p,)")
        else:
            body += ["if not isinstance(args, (tuple, list)):",
                     "    raise TypeError('call it as f_hvp(args, v): args a tuple of "
                     "positional arguments')",
                     f"args = {bind_name}(*args, **kwargs)",
                     "vs = (v,)" if tf._single else "vs = v",
                     f"if not isinstance(vs, (tuple, list)) or len(vs) != {len(tf.wrt)}:",
                     f"    raise TypeError('v must be a tuple with one vector per "
                     f"differentiated argument ({len(tf.wrt)})')"]
        body += [f"leaves = flat_arguments({self.const('ARGUMENTS')}, args)",
                 "t_leaves = []",
                 f"for w, name, t in zip({_tuple_src(tf.wrt)}, "
                 f"{_tuple_src(map(repr, wrt_names))}, vs):",
                 "    t_leaves += tangent_leaves(t, args[w], name, 'vector')"]
        body += [ln.replace("signature(leaves)", "signature(leaves + t_leaves)") for ln in code]
        body.append("res = code(*leaves, *t_leaves)" if func.info.get("tuple_result")
                    else "res = (code(*leaves, *t_leaves),)")
        body += [f"hv = unalias([like_argument(h, leaves[i], leaves) for h, i in zip(res, "
                 f"{_tuple_src(c.wrt_leaves)})])",
                 f"return rebuild({self.wrt_tree_struct(specs)!r}, iter(hv), "
                 f"{self.wrt_like()})"]
        self.consts["ARGUMENTS"] = self.arguments_literal(specs, tf.wrt)
        if hessp:
            return bind_src + "\n\n" + self.wrapper("x, p, *args, **kwargs",
                                                      "x, p, args, kwargs",
                                                      "x, p, args, kwargs", body)
        return bind_src + "\n\n" + self.wrapper("args, v, **kwargs", "args, v, kwargs",
                                                  "args, v, kwargs", body)

    def wrt_like(self):
        if self.tf._single:
            return f"args[{self.tf.wrt[0]}]"
        return "(" + ", ".join(f"args[{w}]" for w in self.tf.wrt) + ",)"


class _BasisPlan(_Plan):
    """hessian and jacobian: the primal part, then basis vectors through the
    linear part (batched where possible), assembled into blocks."""

    def build(self):
        ex, tf = self.ex, self.tf
        specs, bound = self.f_specs_and_bound()
        self.specs = specs
        hess = isinstance(tf, HessianFunction)
        kind = "hessian" if hess else "jacobian"
        modes = ["fwd"] if hess else (["forward", "reverse"] if tf.mode == "auto"
                                      else [tf.mode])
        compiled = {m: tf._compiled_mode(m, specs) for m in modes}
        first = compiled[modes[0]]
        name = _pyname(first.func.name)
        for suffix in ("_hessian_primal", "_primal", "_fwd"):
            if name.endswith(suffix):
                name = name[:-len(suffix)]
                break
        self.base = name
        self.public = f"{name}_{kind}"
        self.summary = f"the {'Hessian' if hess else 'Jacobian'} of {ex.user_fn.__name__}"
        extra = [] if hess or tf.mode == "auto" else [f"mode={tf.mode!r}"]
        self.expression = self.expression_text(kind, extra)
        self.call = f"({self.signature_text()})"
        if not hess:
            self.check_out_tree(first.out_tree, "output")
        ex.wrapper_helpers |= {"flat_arguments", "assemble", "forward_blocks", "reverse_blocks"}
        wrt_struct = repr(self.wrt_tree_struct(specs))
        like = self.wrt_like()
        body = [f"leaves = flat_arguments({self.const('ARGUMENTS')}, args)",
                f"xs = [leaves[i] for i in {_tuple_src(first.wrt_leaves)}]"]
        parts = {}
        for m in modes:
            c = compiled[m]
            prim = f"{_pyname(c.func.name)}_generic"
            ex.code(c.func, prim)
            lin = c.tangent if m in ("fwd", "forward") else c.backward
            linear = f"{_pyname(lin.func.name)}_generic"
            ex.code(lin.func, linear)
            bat = c.tangent_batched if m in ("fwd", "forward") else c.backward_batched
            batched = "None"
            hints = ()
            if bat is not None:
                if any(e.prim.name == "batch_helper" and e.params.get("fn", "").startswith(
                        "per_example") for e in iter_eqns(bat.func.body)):
                    ex.notes.append(f"{self.public} pushes one basis vector per call (its "
                                    f"batched code needs s2sgrad's primitive table)")
                else:
                    batched = f"{_pyname(bat.func.name)}_generic"
                    ex.code(bat.func, batched, batched=True)
                    hints = tuple(bat.func.info.get("batch_size_hints", ()))
            parts[m] = (prim, linear, batched, hints, c)
        if hess:
            prim, linear, batched, hints, c = parts["fwd"]
            body += [f"res = {prim}(*leaves)",
                     "residuals = res if isinstance(res, tuple) else (res,)",
                     f"blocks = forward_blocks({linear}, xs, xs, residuals, {batched}, "
                     f"{hints!r})[0]",
                     f"return assemble({wrt_struct}, {wrt_struct}, xs, xs, blocks, {like})"]
        else:
            nres = first.nres
            out_struct = repr(_struct(first.out_tree))
            if "forward" in parts:
                prim, linear, batched, hints, c = parts["forward"]
                fwd_lines = [f"res = {prim}(*leaves)",
                             f"outs, residuals = list(res[:{nres}]), res[{nres}:]",
                             f"blocks = forward_blocks({linear}, xs, outs, residuals, "
                             f"{batched}, {hints!r})[0]"]
            if "reverse" in parts:
                prim, linear, batched, hints, c = parts["reverse"]
                rev_lines = [f"res = {prim}(*leaves)",
                             "res = res if isinstance(res, tuple) else (res,)",
                             f"outs, residuals = list(res[:{nres}]), res[{nres}:]",
                             f"blocks = reverse_blocks({linear}, xs, outs, residuals, "
                             f"{batched}, {hints!r})[0]"]
            if modes == ["forward", "reverse"]:
                # as in process: forward mode unless the outputs are fewer
                # than the inputs (the primal part tells the output size)
                body += [f"res = {parts['forward'][0]}(*leaves)",
                         f"outs = list(res[:{nres}])",
                         "if sum(np.size(x) for x in xs) <= sum(np.size(o) for o in outs):",
                         f"    blocks = forward_blocks({parts['forward'][1]}, xs, outs, "
                         f"res[{nres}:], {parts['forward'][2]}, {parts['forward'][3]!r})[0]",
                         "else:"] + ["    " + ln for ln in rev_lines]
            elif modes == ["forward"]:
                body += fwd_lines
            else:
                body += rev_lines
            body.append(f"return assemble({out_struct}, {wrt_struct}, outs, xs, blocks, "
                        f"{like})")
        self.consts["ARGUMENTS"] = self.arguments_literal(specs, tf.wrt)
        return self.wrapper(self.signature_text(), self.names_tuple(), "args", body)

    def wrt_like(self):
        if self.tf._single:
            return f"args[{self.tf.wrt[0]}]"
        return "(" + ", ".join(f"args[{w}]" for w in self.tf.wrt) + ",)"


def _doc(plan):
    return (f"{plan.summary[0].upper()}{plan.summary[1:]}, as {plan.expression} computes it "
            f"(generated by s2sgrad; see the module docstring).")
