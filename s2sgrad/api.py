"""Public API: ``grad``, ``value_and_grad``, ``vjp``, ``check_grads``.

A decorated function is compiled the first time it is called with a given
argument *structure* (which arguments are None, and the container layout of
differentiated arguments) and cached; later calls run only the generated
code.  Array shapes and dtypes are not part of that key: the IR is
shape-polymorphic.  What runs is a version of it specialised to the call's
argument shapes and dtypes (:mod:`s2sgrad.specialize`: constant shapes, no
run-time broadcasting checks, buffers reused), compiled once per shape
signature; the shape-polymorphic code is generated only when a call needs
it (a signature that cannot be specialised, or beyond
``MAX_SPECIALIZATIONS``).  ``S2SGRAD_SPECIALIZE`` chooses when to
specialise: ``first`` (default: from the first call with a signature),
``second`` (from the second) or ``never``.

Each compiled version carries the guard of what lowering assumed about the
world outside the arguments (:mod:`s2sgrad.guards`); every call checks it
(one small generated function) before running cached code, and a failed
guard selects another cached version or recompiles (:meth:`_Transformed._cached`).
Refusals are raised from the API call without the compiler's frames; an
exception raised inside generated code gets a note naming the user's
statement (:func:`explain`).
"""
from __future__ import annotations

import ast
import collections
import functools
import inspect
import itertools
import linecache
import numbers
import os
import re
import weakref

import numpy as np

from . import codegen, gradcall, invariance, lower, optimize as _optimize, pytree, reverse, specialize
from .codegen import SOURCE_MAPS, tie_source
from .errors import OutputError, S2SGradError
from .frontend import parse_function
from .custom import rule_guards as collect_rule_guards
from .guards import Guards, build as build_guard, by_value, changed, same_value, \
    tests as guard_tests
from .ir import Const, Func, Var, verify
from .schedules import as_schedule
from .specialize import direct_flags as _direct_flags, for_kinds as _for_kinds, \
    signature as _signature
from .arrays import is_duck as _is_duck
from . import arrays
from .primitives import core as P
from .primitives.random import rng_kind
from .verbose import compiling, traced

# The passes, timed (and their IR printed) when compiling verbosely (s2sgrad.verbose).
lower_function = traced("lower", lower.lower_function)
detach_shifts = traced("invariance", invariance.detach_shifts)
grad_func = traced("reverse", reverse.grad_func)
split_vjp = traced("split_vjp", reverse.split_vjp)
optimize = traced("optimize", _optimize.optimize)
_specialize = traced("specialize", specialize.specialize)
generate = traced("codegen", codegen.generate)


_LEAF_SPEC = ("leaf", None)
_VAR_KINDS = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


# When to compile shape-specialised versions (see the module docstring).
SPECIALIZE = os.environ.get("S2SGRAD_SPECIALIZE", "first")
if SPECIALIZE not in ("first", "second", "never"):
    raise ValueError(f"S2SGRAD_SPECIALIZE must be 'first', 'second' or 'never', "
                     f"got {SPECIALIZE!r}")
# At most this many specialisations per compiled function (further shapes
# run the polymorphic code: a data loader with ragged batches does not
# compile forever).
MAX_SPECIALIZATIONS = 8
# Raise errors of the specialiser instead of falling back to the polymorphic
# code (tests/conftest.py turns this on).
STRICT_SPECIALIZE = os.environ.get("S2SGRAD_STRICT_SPECIALIZE") == "1"
_SPEC_ATTRS = ("wrt_leaves", "out_tree", "ranges", "simple")


# Containers and strings passed as (non-differentiated) data: compiled for
# their type only (lowering reads their items when the code runs), and the
# specialiser's example of one is UNKNOWN (specialize.example_of), so nothing
# it proves depends on their contents: the specialisation key has their type.
_DATA_TYPES = (dict, list, tuple, str)


def _spec_key(leaves):
    """``specialize.signature(leaves)``, with a data container or string
    (exact ``dict``/``list``/``tuple``/``str``) keyed by its type: a call
    passing a settings dict is specialised to its other leaves' shapes."""
    key = _signature(leaves)
    if key is not None:
        return key
    data = [type(x) in _DATA_TYPES for x in leaves]
    if not any(data):
        return None
    key = _signature([None if d else x for d, x in zip(data, leaves)])
    if key is None:
        return None
    return tuple(_data_key(x) if d else k for d, x, k in zip(data, leaves, key))


def _data_key(x):
    """The specialisation key of a container or string passed as data: its
    type; a dict's also its keys and its scalar items' types, of which
    ``specialize.example_of`` gives the specialiser examples (a settings
    dict's ``n * loss`` keeps its shape facts)."""
    t = type(x)
    if t is not dict:
        return ("data", t)
    return ("data", t, _items_key(x, 0))


def _items_key(d, depth):
    """A settings dict's keys and its scalar items' types (None as None), a
    dict in it likewise to the depth of :func:`specialize.example_of`'s
    examples (``specialize.SETTINGS_DEPTH``), anything else ``"?"``."""
    return tuple([(k, None if v is None else type(v) if type(v) in (float, int, bool) or
                   isinstance(v, np.generic) else
                   ("dict", _items_key(v, depth + 1)) if type(v) is dict and
                   depth < specialize.SETTINGS_DEPTH else "?") for k, v in d.items()])


def _pick(c, leaves, globals_, grads=False):
    """The compiled code to run for ``leaves``: ``c`` itself or its
    specialisation to the leaves' shapes and dtypes.  ``grads``: ``c``'s last
    results are gradients of ``c.wrt_leaves`` (then the specialisation
    records whether they can be returned as they are: ``direct``)."""
    table = c.__dict__.get("spec")
    if table is None:
        table = c.spec = {}
        c.spec_seen = {}
        c.spec_count = 0
    key = _spec_key(leaves)
    hit = table.get(key)
    if hit is not None:
        return hit
    # the polymorphic code, or for dask/CuPy/... leaves its variant for their types
    general = _for_types(c, leaves, globals_)
    if key is None:
        return general
    seen = c.spec_seen[key] = c.spec_seen.get(key, 0) + 1
    if SPECIALIZE == "never" or c.spec_count >= MAX_SPECIALIZATIONS:
        if len(table) < 64:
            table[key] = general      # remembered: the fast path's key check
        return general
    if SPECIALIZE == "second" and seen < 2:
        return general
    c.spec_count += 1
    sc = general
    try:
        with compiling(f"{c.__dict__.get('what', c.func.name)}, specialised to "
                       f"{_describe_signature(key)}", c.__dict__.get("verbose", False)):
            f = _specialize(c.func, leaves)
            if f is not None:
                verify(f)
                sc = generate(f, globals_)
    except Exception:
        # Specialisation is an optimisation: the polymorphic code is correct
        # for every shape, so a failure here must never fail the user's call.
        # (The test suite sets STRICT_SPECIALIZE to see such failures.)
        if STRICT_SPECIALIZE:
            raise
        f, sc = None, general
    if f is not None:
        _copy_attrs(c, sc)
        flags = _direct_flags(f, leaves, c.wrt_leaves) if grads else None
        sc.direct = flags is not None and all(flags[0])
        sc.direct_flags = flags
    table[key] = sc
    return sc


def _copy_attrs(c, sc):
    for a in _SPEC_ATTRS:
        if hasattr(c, a):
            setattr(sc, a, getattr(c, a))
    sc.generic = c


def _for_types(c, leaves, globals_):
    """``c`` itself when every leaf is a NumPy value; for leaves of other array
    types (dask, CuPy, ...) the polymorphic code prepared for them
    (:func:`s2sgrad.specialize.for_kinds`: no ``np.size``, calls the type
    does not implement refused), compiled once per combination of types."""
    kinds = None
    for i, x in enumerate(leaves):
        if _is_duck(x):
            kinds = (kinds or ()) + ((i, type(x)),)
    if kinds is None:
        return c
    table = c.__dict__.get("kinds")
    if table is None:
        table = c.kinds = {}
    v = table.get(kinds)
    if v is None:
        f = _for_kinds(c.func, leaves)
        v = c if f is c.func else generate(verify(f), globals_)
        if v is not c:
            _copy_attrs(c, v)
        table[kinds] = v
    return v


def _run(sc, leaves):
    """``sc.fn(*leaves)``; a runtime helper's refusal of an array type gets the
    user's file and line (from the comments of the generated code)."""
    try:
        return sc.fn(*leaves)
    except arrays.ArrayKindError as exc:
        raise _located(exc, sc) from None


def _located(exc, sc):
    import linecache
    import re
    filename, lineno = None, None
    tb = exc.__traceback__
    while tb is not None:
        loc = SOURCE_MAPS.get(tb.tb_frame.f_code.co_filename, {}).get(tb.tb_lineno)
        if loc is not None:                 # the full file name (codegen's source map)
            filename, lineno = loc.filename, loc.lineno
        elif tb.tb_frame.f_code.co_filename == getattr(sc, "filename", None):
            lines = linecache.getlines(sc.filename)
            for ln in reversed(lines[:tb.tb_lineno]):
                m = re.match(r"\s*# (?:adjoint of |tangent of )?(.+?):(\d+): ", ln)
                if m:
                    filename, lineno = m.group(1), int(m.group(2))
                    break
        tb = tb.tb_next
    return S2SGradError(str(exc), filename=filename, lineno=lineno)


DEBUG = os.environ.get("S2SGRAD_DEBUG") == "1"


def _refusal(exc):
    """A refusal (S2SGradError) as the user sees it: raised from the API call
    without the compiler's frames and chained errors above it; its message
    names the user's file and line.  ``S2SGRAD_DEBUG=1`` keeps them."""
    if not DEBUG:
        exc.__cause__ = None
        exc.__context__ = None
        exc.__suppress_context__ = True
        exc.__traceback__ = None
    return exc


def explain(exc):
    """Tell the user which of *their* statements an exception raised inside
    generated code (a FloatingPointError under ``np.errstate(all="raise")``,
    a shape mismatch) comes from: the innermost generated frame's line is
    mapped back through the comments codegen wrote (``codegen.SOURCE_MAPS``)
    and added as a note (Python 3.11+) or to the message (3.10)."""
    if getattr(exc, "_s2sgrad_explained", False):
        return
    tb, where = exc.__traceback__, None
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        smap = SOURCE_MAPS.get(name)
        if smap is not None and smap.get(tb.tb_lineno) is not None:
            where = (name, tb.tb_lineno, smap[tb.tb_lineno])
        tb = tb.tb_next
    if where is None:
        return
    name, lineno, loc = where
    import linecache
    gen = linecache.getline(name, lineno).strip()
    what = {"adjoint": "the derivative (reverse mode) of ",
            "tangent": "the derivative (forward mode) of "}.get(loc.kind, "")
    note = (f"s2sgrad: raised in generated code ({name}, line {lineno}: {gen}) computing "
            f"{what}{loc.filename}:{loc.lineno}: {loc.text}")
    try:
        exc._s2sgrad_explained = True
    except Exception:                            # noqa: BLE001 -- read-only exception
        pass
    if hasattr(exc, "add_note"):
        exc.add_note(note)
    elif exc.args and isinstance(exc.args[0], str):
        exc.args = (exc.args[0] + "\n" + note,) + tuple(exc.args[1:])


def user_errors(method):
    """Wrap an API entry point: refusals trimmed (:func:`_refusal`), errors
    of generated code explained (:func:`explain`).  (``grad``'s own call
    does this inline: one call layer less on its fast path.)"""
    @functools.wraps(method)
    def call(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except S2SGradError as exc:
            raise _refusal(exc) from None
        except Exception as exc:
            explain(exc)
            raise
    return call


class _Lazy:
    """A compiled function whose shape-polymorphic Python code is generated
    on first use: most calls run a shape specialisation of ``func`` instead,
    so the general code is only printed when a call (or ``.source`` before
    any call) needs it."""

    guard = None            # set by _Transformed._cached

    def __init__(self, func, globals_):
        self.func = func
        self._globals = globals_
        self._code = None

    def _generated(self):
        if self._code is None:
            with compiling(f"{getattr(self, 'what', self.func.name)} (shape-polymorphic code)",
                           getattr(self, "verbose", False)):
                self._code = generate(self.func, self._globals)
        return self._code

    fn = property(lambda self: self._generated().fn)
    source = property(lambda self: self._generated().source)
    filename = property(lambda self: self._generated().filename)
    namer = property(lambda self: self._generated().namer)


def _describe_signature(key):
    return ", ".join(f"dtype {t[1].__name__}" if isinstance(t, tuple) and t[0] == "dtype" else
                     t[1].__name__ if isinstance(t, tuple) and t[0] == "data" else
                     f"{t[1]}{list(t[0])}" if isinstance(t, tuple) else
                     "None" if t is None else t.__name__ for t in key)


def _LEAF_TREE_FREE(specs):
    return all(v[0] != "tree" for v in specs.values())


_NO_VALUE = object()


def _follow(obj, steps):
    try:
        for kind, k in steps:
            obj = getattr(obj, k) if kind == "attr" else obj[k]
        return obj
    except Exception:       # noqa: BLE001 -- a path that no longer resolves
        return _NO_VALUE


class ObjectArg:
    """The cache key of an object of the user's class passed as an argument
    (``loss(params, model)`` calling ``model.predict``): its type, and what
    compiling assumed about it, ``checks``: for each path it read while
    compiling (``(("attr", "n_layers"),)``, ``(("attr", "predict"),
    ("attr", "__func__"))``) how it is compared -- ``"value"`` (type and
    value: an int, a str), ``"is"`` (identity: which function a method
    is), ``"type"`` (an object read through, a nested config), ``"root"``
    (a bound method's ``__self__`` is the argument itself) -- each resolved
    on each call's object.  Its arrays are read from the argument when the
    code runs, so another instance of the same class with the same
    configuration reuses the compiled code.  ``obj``: the object itself
    (not part of the key), for lowering."""
    __slots__ = ("obj", "type", "checks", "tokens")

    def __init__(self, obj, checks=()):
        self.obj = obj
        self.type = type(obj)
        self.checks = tuple(checks)
        tokens = []
        for steps, kind in self.checks:
            v = _follow(obj, steps)
            tokens.append((v is obj) if kind == "root" else (type(v), v) if kind == "value"
                          else type(v) if kind == "type" else v)
        self.tokens = tuple(tokens)

    def __eq__(self, other):
        if type(other) is not ObjectArg or other.type is not self.type or \
                other.checks != self.checks:
            return False
        for (_, kind), a, b in zip(self.checks, self.tokens, other.tokens):
            if kind == "value":
                # (a tuple's items by type too: (True, 0) is not (1, 0))
                if a[0] is not b[0] or (not same_value(b[1], a[1]) if by_value(a[1])
                                        else a[1] != b[1]):
                    return False
            elif a is not b:                # identity, a type, or a bool
                return False
        return True

    def __hash__(self):
        return hash((self.type, self.checks))

    def __repr__(self):
        return f"ObjectArg({self.type.__name__}, {len(self.checks)} assumption(s))"


def _hashable(v):
    try:
        hash(v)
        return True
    except TypeError:
        return False


def _argument_specs(specs):
    """The function's own argument specs (``jvp`` nests them in ``__jvp__``):
    ``specs`` itself, or a new dict for jvp's."""
    if "__jvp__" in specs:
        return dict(specs["__jvp__"][1][0])
    return specs


class StaticArg:
    """A static (compile-time) argument value as a cache key: equal only to
    a value of the same type (``True``, ``1`` and ``np.int64(1)`` are three
    keys, though Python finds them equal)."""
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __eq__(self, other):
        return type(other) is StaticArg and type(other.value) is type(self.value) \
            and other.value == self.value

    def __hash__(self):
        return hash((type(self.value), self.value))

    def __repr__(self):
        return f"StaticArg({self.value!r})"


def _may_be_static(value):
    """A value passed as data that compiling may ask to have as a constant
    (``NeedsStatic``): a Python float or str (``ord=p``, a mode), or a NumPy
    integer scalar (``range(n)`` of a loop that must be unrolled, see
    ``lower.control``); keyed by its type and value (:class:`StaticArg`)."""
    return type(value) in (float, str) or (isinstance(value, np.integer) and
                                           type(value).__module__ == "numpy")


class InputError(S2SGradError, TypeError):
    """An argument cannot be differentiated (integer, boolean, complex, object)."""


# ---------------------------------------------------------------- argument handling


def _normalize_wrt(fn, sig, wrt):
    params = list(sig.parameters.values())
    names = [p.name for p in params]
    single = not isinstance(wrt, (tuple, list))
    items = [wrt] if single else list(wrt)
    if not items:
        raise ValueError("wrt must name at least one argument")
    out = []
    for w in items:
        if isinstance(w, bool) or not isinstance(w, (int, str)):
            raise TypeError(f"wrt must be an argument position (int) or name (str), got {w!r}")
        if isinstance(w, int):
            if not -len(names) <= w < len(names):
                raise ValueError(f"wrt={w} is out of range: '{fn.__name__}' has "
                                 f"{len(names)} parameter(s) {names}")
            idx = w % len(names)
        else:
            if w not in names:
                raise ValueError(f"wrt={w!r}: '{fn.__name__}' has no parameter named {w!r} "
                                 f"(parameters: {names})")
            idx = names.index(w)
        if params[idx].kind == params[idx].VAR_KEYWORD:
            raise ValueError(f"cannot differentiate with respect to **{params[idx].name}")
        if idx in out:
            raise ValueError(f"wrt names parameter {names[idx]!r} twice")
        out.append(idx)
    return out, single


# ndarray subclasses whose operators mean something else (np.matrix: * and **
# are matrix products) or which skip elements (masked arrays): the generated
# code would run NumPy's meaning, the derivative rules plain arrays'
_ARRAY_SUBCLASSES = (np.matrix, np.ma.MaskedArray)


def _refuse_subclass(value, pname):
    leaves = pytree.flatten(value)[0] if isinstance(value, (list, tuple, dict)) else [value]
    bad = next(v for v in leaves if isinstance(v, _ARRAY_SUBCLASSES))
    what = "np.matrix" if isinstance(bad, np.matrix) else "a masked array (np.ma)"
    hint = ("np.asarray(x) (and use @ for matrix products)" if isinstance(bad, np.matrix)
            else "the data and the mask as two plain arrays (x.data, x.mask), and np.where "
                 "on the mask")
    raise InputError(f"the argument '{pname}' is {what}, which s2sgrad does not support "
                     f"(its operators and reductions differ from a plain ndarray's); "
                     f"pass {hint}")


def _check_diff_leaf(x, pname):
    if type(x) is np.ndarray and x.dtype.kind in "fc" or type(x) is float:
        return                  # the common cases (a float or complex array), checked cheaply
    if _is_duck(x):             # dask, CuPy, ...: by its dtype, without converting it
        kind = x.dtype.kind
        what = {"b": "it is boolean", "i": "it has an integer type", "u": "it has an integer "
                "type", "c": "complex inputs are not supported"}.get(kind)
        if what is None and kind != "f":
            what = f"dtype {x.dtype} is not a float type"
        if what is not None:
            raise InputError(f"cannot differentiate with respect to '{pname}': {what}")
        return
    if isinstance(x, (bool, np.bool_)) or (isinstance(x, np.ndarray) and x.dtype == bool):
        raise InputError(f"cannot differentiate with respect to '{pname}': it is boolean")
    if isinstance(x, numbers.Integral) or (isinstance(x, np.ndarray) and
                                          np.issubdtype(x.dtype, np.integer)):
        raise InputError(f"cannot differentiate with respect to '{pname}': it has an integer "
                         f"type; pass floats (e.g. {pname}.astype(float) or 1.0 instead of 1)")
    # complex arguments are differentiated too; their gradients are complex, in
    # JAX's convention (README, "Complex numbers")
    if isinstance(x, np.ndarray) and not np.issubdtype(x.dtype, np.inexact):
        raise InputError(f"cannot differentiate with respect to '{pname}': dtype {x.dtype} "
                         f"is not a float or complex type")
    if not isinstance(x, (float, complex, np.inexact, np.ndarray)):
        raise InputError(f"cannot differentiate with respect to '{pname}': expected a float "
                         f"or a float array, got {type(x).__name__}")


def _static_callable(value):
    """A function (or a tuple of functions) passed as an argument."""
    if isinstance(value, tuple) and value and not hasattr(value, "_fields"):
        return all(_static_callable(v) for v in value)
    return callable(value) and not isinstance(value, np.ndarray) and \
        not _is_duck(value) and pytree.node_rules(value) is None


def _plain_object(value):
    """An instance of a user class: not data s2sgrad can pass as an array."""
    return not isinstance(value, (np.ndarray, np.generic, numbers.Number, str, bytes, list,
                                  tuple, dict, type)) and not _is_duck(value) and \
        hasattr(value, "__dict__")


def _plain_params(sig):
    """(names, defaults) when every parameter is positional-or-keyword (the
    common case, bound without inspect), else None."""
    ps = list(sig.parameters.values())
    if any(p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in ps):
        return ()
    return [p.name for p in ps], [p.default for p in ps]


class _NoArg:
    """The marker a fast runner binds to a parameter not passed (see
    _FastCall.make)."""
    __slots__ = ()

    def __repr__(self):
        return "<not passed>"


_NO_ARG = _NoArg()


def _passed(values, names):
    """(args, kwargs) of the arguments of a fast runner's call that were
    passed: the leading ones by position, the rest by name."""
    args, kwargs = [], {}
    for n, v in zip(names, values):
        if v is _NO_ARG:
            continue
        if kwargs or len(args) < names.index(n):
            kwargs[n] = v
        else:
            args.append(v)
    return tuple(args), kwargs


def _defaults_of(fn):
    """The objects holding ``fn``'s defaults (compared by identity: the user
    may rebind ``f.__defaults__`` between calls)."""
    return getattr(fn, "__defaults__", None), getattr(fn, "__kwdefaults__", None)


def _fix_grad(g, x, inputs, ids=None):
    """Give a gradient its argument's type, shape and dtype; never alias inputs
    (``ids``: the ids of ``inputs``, when the caller has them)."""
    if type(g) is np.ndarray and type(x) is np.ndarray and g.dtype == x.dtype \
            and g.shape == x.shape and g.base is None and g.flags.writeable \
            and (id(g) not in ids if ids is not None else not any(g is a for a in inputs)):
        return g                     # a fresh array of the right kind: nothing to do
    if _is_duck(x):
        return _fix_duck_grad(g, x, inputs)
    if _is_duck(g):
        # the gradient of a NumPy argument computed from dask/CuPy data: a
        # NumPy result (lazy values are computed by the caller, all at once)
        if arrays.is_lazy(g):
            g = arrays.compute([g])[0]
        if _is_duck(g):
            g = arrays.to_numpy(g)
    if np.iscomplexobj(g) and not np.iscomplexobj(x):
        # a real argument's cotangent is the real part of a complex one (the
        # imaginary part pairs with no direction of a real input)
        g = np.real(g)
    if isinstance(x, (float, complex)) and not isinstance(x, np.inexact):
        return type(x)(np.asarray(g).reshape(()))
    if isinstance(x, np.inexact):
        return type(x)(np.asarray(g).reshape(()))
    g = np.asarray(g)
    if g.dtype != x.dtype:
        g = g.astype(x.dtype)
    if g.shape != x.shape:
        if g.size == x.size:
            g = g.reshape(x.shape)
        else:
            raise S2SGradError(f"internal error: gradient of shape {g.shape} for an argument "
                               f"of shape {x.shape}; please report this with the function")
    if not g.flags.writeable or not g.flags.owndata and g.base is not None and any(
            isinstance(a, np.ndarray) and np.may_share_memory(g, a) for a in inputs):
        g = g.copy()
    elif any(g is a for a in inputs):
        g = g.copy()
    return g


def _fix_duck_grad(g, x, inputs):
    """The gradient of a dask/CuPy/... argument ``x``: an array of x's kind
    (a lazy dask array stays lazy), dtype and shape, never an input itself."""
    if not _is_duck(g):
        return arrays.like(g, x)      # e.g. a zero gradient computed in NumPy
    if g.dtype != x.dtype:
        g = g.astype(x.dtype)
    if arrays.known_shape(g) and arrays.known_shape(x) and tuple(g.shape) != tuple(x.shape):
        if g.size == x.size:
            g = g.reshape(x.shape)
        elif g.ndim == 0:
            g = g + np.zeros_like(x)
        else:
            raise S2SGradError(f"internal error: gradient of shape {g.shape} for an argument "
                               f"of shape {x.shape}; please report this with the function")
    if any(g is a for a in inputs):
        g = g.copy()
    elif not arrays.is_lazy(g):
        for a in inputs:
            if type(a) is type(g):
                try:
                    shared = np.may_share_memory(g, a)
                except Exception:
                    shared = True              # cannot tell: be safe
                if shared:
                    return g.copy()
    return g


def _computed(values, grads, args):
    """``values`` (the function's results) and ``grads`` (the gradients of
    ``args``) with every lazy (dask) value computed, all in **one**
    ``dask.compute`` call -- the data is read once -- except the gradients of
    lazy arguments, which stay lazy (a result has the kind of its argument)."""
    n = len(values)
    both = list(values) + list(grads)
    if not any(arrays.is_lazy(v) for v in both):
        return values, grads
    keep = {n + k for k, x in enumerate(args) if arrays.is_lazy(x)}
    both = arrays.compute(both, keep)
    return both[:n], both[n:]


def _regroup(grads, wrt, bound, specs):
    """Per-leaf gradients -> one per ``wrt`` argument (containers rebuilt)."""
    out, k = [], 0
    for w in wrt:
        name, _ = bound[w]
        if specs[name][0] == "tree":
            td = specs[name][1]
            g = pytree.unflatten(td, grads[k:k + td.num_leaves])
            out.append(_in_call_order(g, bound[w][1], td))
            k += td.num_leaves
        else:
            out.append(grads[k])
            k += 1
    return out


def _in_call_order(g, v, td):
    """The gradient ``g`` (structure ``td``) of the call's value ``v`` with
    every dict in the call's key order: a fast runner's dict read by
    constant keys (a nested one too) may be passed in another order than
    the one compiled."""
    if td.kind != "dict" or type(v) is not dict or type(g) is not dict:
        return g
    if tuple(v) != td.keys and set(v) == set(td.keys):
        g = {key: g[key] for key in v}
    for key, ch in zip(td.keys, td.children):
        if ch.kind == "dict" and key in v:
            g[key] = _in_call_order(g[key], v[key], ch)
    return g


def _unalias(grads, values=()):
    """Copy gradients that share memory with an earlier one (``x + y`` gives
    both operands the very same cotangent array) or with one of ``values``
    (the function's results returned beside them: ``has_aux``'s aux may be
    the very array that is a gradient): each returned array is the caller's
    own."""
    if values:
        grads = _unalias_from(grads, values)
    if len(grads) < 2:
        return grads
    arrays, ids, views = [], set(), False
    for k, g in enumerate(grads):
        if type(g) is not np.ndarray:
            if _is_duck(g):          # dask/CuPy: the same object twice
                if id(g) in ids:
                    g = grads[k] = g.copy()
                ids.add(id(g))
            continue
        views = views or g.base is not None
        if id(g) in ids or views and any(np.may_share_memory(g, h) for h in arrays):
            g = grads[k] = g.copy()
        arrays.append(g)
        ids.add(id(g))
    return grads


def _unalias_from(grads, values):
    """``grads`` with a copy of each array sharing memory with an array of
    ``values`` (or being the same duck-array object as one)."""
    vals = [v for v in values if type(v) is np.ndarray or _is_duck(v)]
    if not vals:
        return grads
    grads = list(grads)
    for k, g in enumerate(grads):
        if type(g) is np.ndarray:
            if any(type(v) is np.ndarray and np.may_share_memory(g, v) for v in vals):
                grads[k] = g.copy()
        elif _is_duck(g) and any(v is g for v in vals):
            grads[k] = g.copy()
    return grads


_ND = np.ndarray
_MISS = object()       # a fast-path runner's answer for arguments of another signature


class _NotFast(Exception):
    """An argument of a kind the fast path does not key (a container, another
    array type): the call takes the slow path."""


def _arg_key(a, depth=0):
    """The fast-path key of one argument: what the compiled code depends on
    (an array's shape and dtype, a Python float's type, a static int's value;
    a container's type, keys or length and leaves, to a depth of 8)."""
    t = type(a)
    if t is _ND:
        return (a.shape, a.dtype)
    if t is float or t is complex:
        return t
    if a is None:
        return None
    if t is int or t is bool or t is str:
        # an argument: maybe a compile-time constant, its value matters; an
        # item of a container (a setting passed as data, read when the code
        # runs): its type (the runner tests the same)
        return (t, a) if not depth else t
    if isinstance(a, np.generic):
        return t                      # the type fixes shape () and the dtype
    if t is not tuple and isinstance(a, tuple) and depth < 8 and _plain_namedtuple(t):
        # a namedtuple of parameters: its class, length and leaves
        return (t, len(a), tuple([_arg_key(v, depth + 1) for v in a]))
    if (t is dict or t is list or t is tuple or t is collections.OrderedDict) and depth < 8:
        # a container of parameters: its type, keys (in order) or length, leaves
        return (t, tuple(a) if t is dict or t is collections.OrderedDict else len(a),
                tuple([_arg_key(v, depth + 1)
                       for v in (a.values() if isinstance(a, dict) else a)]))
    raise _NotFast


def _plain_namedtuple(cls):
    """Whether ``cls`` is a namedtuple class whose items are read as a
    tuple's (no ``__getitem__``, ``__iter__`` or ``__len__`` of its own or of
    a base between it and ``tuple``): what flattening and the runner's
    ``x[i]`` read are then the same items."""
    if not isinstance(cls, type) or not issubclass(cls, tuple) or cls is tuple or \
            not isinstance(getattr(cls, "_fields", None), tuple):
        return False
    for base in cls.__mro__:
        if base is tuple:
            return True
        if any(m in base.__dict__ for m in ("__getitem__", "__iter__", "__len__")):
            return False
    return False


def _namedtuple_new(cls):
    """Whether calling the namedtuple class ``cls`` with all its fields is
    ``tuple.__new__(cls, fields)``: its ``__new__`` is the one
    ``collections.namedtuple`` made (``_tuple_new(_cls, (f1, ...))``), no
    ``__init__`` and no metaclass of its own."""
    new = getattr(cls, "__new__", None)
    glob = getattr(new, "__globals__", None)
    code = getattr(new, "__code__", None)
    return type(cls) is type and cls.__init__ is object.__init__ and \
        isinstance(glob, dict) and glob.get("_tuple_new") is tuple.__new__ and \
        str(glob.get("__name__", "")).startswith("namedtuple_") and code is not None and \
        code.co_argcount == 1 + len(cls._fields) and not code.co_flags & 0x0C


def _call_key(args, kwargs):
    key = tuple([_arg_key(a) for a in args])
    if kwargs:
        key = (key, tuple(kwargs), tuple([_arg_key(a) for a in kwargs.values()]))
    return key


# Generated functions of at most this many lines are inlined into their hot
# runner (a larger one runs long enough for its frame not to matter, and
# compiling its text twice would add to the compile time).
INLINE_LINES = 60
_RUNNERS = itertools.count()
_RESERVED = ("_s2s_", "_s2g_")


def _code_names(code):
    """Every name a code object and the functions nested in it use."""
    out = set(code.co_varnames) | set(code.co_cellvars) | set(code.co_freevars) | \
        set(code.co_names)
    for k in code.co_consts:
        if isinstance(k, type(code)):
            out |= _code_names(k)
    return out


def _inlinable(sc, names, tree_too=False):
    """``(lines, local names, free values)`` when the body of ``sc``'s generated
    function can run as the statements of its hot runner: a small function
    (:data:`INLINE_LINES`) whose parameters are the runner's ``names``, with
    one ``return`` (its last line), no string spanning lines (the lines are
    re-indented), no parameter assigned or deleted (the runner passes them
    on after the body) and no name the runner uses (``_s2s_*``, ``_s2g_*``); its
    free variables (``np``, helpers, constants) are bound by the runner's
    factory to the same objects.  None otherwise."""
    fn, source = getattr(sc, "fn", None), getattr(sc, "source", None)
    code = getattr(fn, "__code__", None)
    if code is None or not isinstance(source, str) or source.count("\n") > INLINE_LINES or \
            fn.__defaults__ or fn.__kwdefaults__ or code.co_kwonlyargcount or \
            code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS | inspect.CO_GENERATOR |
                             inspect.CO_COROUTINE) or \
            code.co_varnames[:code.co_argcount] != tuple(names) or \
            code.co_argcount != len(names):
        return None
    used = _code_names(code)
    if any(n.startswith(_RESERVED) for n in used):
        return None
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef):
        return None
    node = tree.body[0]
    lines = source.splitlines()
    last = node.body[-1]
    if node.lineno != 1 or node.decorator_list or not lines[0].startswith("def ") or \
            not lines[0].endswith(":") or node.body[0].lineno < 2 or \
            not isinstance(last, ast.Return) or last.value is None or \
            last.end_lineno != len(lines) or last.lineno != last.end_lineno:
        return None
    params = set(names)
    for sub in ast.walk(node):
        if sub is not last and isinstance(sub, (ast.Return, ast.Global, ast.Nonlocal)):
            return None
        if isinstance(sub, ast.Name) and sub.id in params and not isinstance(sub.ctx, ast.Load):
            return None         # a parameter rebound or deleted: the runner reads them after
        if isinstance(sub, ast.Constant) and isinstance(sub.value, (str, bytes)) and \
                sub.lineno != sub.end_lineno:
            return None
    body = [ln[4:] if ln.startswith("    ") else ln.strip() for ln in lines[1:]]
    if any(ln and ln[:1].isspace() and not ln.startswith("    ") for ln in lines[1:] if ln.strip()):
        return None
    cells = fn.__closure__ or ()
    free = {n: cell.cell_contents for n, cell in zip(code.co_freevars, cells)}
    local = set(code.co_varnames) | set(code.co_cellvars) | set(code.co_freevars)
    return (body, local, free, node) if tree_too else (body, local, free)


def _free_renamed(inline, guard_items, globals_, taken, node=None):
    """``inline`` (:func:`_inlinable`'s answer) with each free variable of the
    generated body that is also a global the guards test by name (``np``)
    renamed ``_s2s_G<name>`` in the body's lines and in the free values: the
    runner then has no variable of that name, and the guard reads the user's
    global as the user's code does.  Only the body's ``Name`` nodes are
    renamed, at their positions in the syntax tree (an attribute ``x.np`` or
    a keyword ``f(np=...)`` is another namespace); a name that is also an
    argument, an import, a ``global`` or a definition is kept.  ``node``: the
    generated function's ``FunctionDef`` (its body's lines are ``lines``,
    one line and four columns in), else ``lines`` are parsed."""
    lines, local, free = inline
    wanted = [name for path, _ in guard_items
              for kind, obj, name in [path.root]
              if kind == "global" and obj is globals_ and name in free and name not in taken
              and name.isidentifier() and not name.startswith(_RESERVED)]
    if not wanted:
        return inline
    if node is None:
        try:
            node = ast.parse("\n".join(lines) + "\n")
        except SyntaxError:
            return inline
        drow, dcol = 0, 0
    else:
        drow, dcol = 1, 4
    at: dict = {}                  # name -> [(line, column)] of its Name nodes
    other = set()                  # names used otherwise (arguments, imports, ...)
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            at.setdefault(sub.id, []).append((sub.lineno - drow, sub.col_offset - dcol))
        elif isinstance(sub, ast.arg):
            other.add(sub.arg)
        elif isinstance(sub, ast.alias):
            other.update((sub.name, sub.asname))
        elif isinstance(sub, (ast.Global, ast.Nonlocal)):
            other.update(sub.names)
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                              ast.ExceptHandler, ast.MatchAs, ast.MatchStar)):
            if sub is not node:
                other.add(sub.name)
        elif isinstance(sub, ast.MatchMapping):
            other.add(sub.rest)
    out = list(lines)
    for name in dict.fromkeys(wanted):
        if name in other or name not in at:
            continue
        new = f"_s2s_G{name}"
        edits = sorted(at[name], reverse=True)          # right to left on each line
        trial = list(out)
        for row, col in edits:
            ln = trial[row - 1]
            c = len(ln.encode()[:col].decode(errors="replace")) if not ln.isascii() else col
            if ln[c:c + len(name)] != name:
                break
            trial[row - 1] = ln[:c] + new + ln[c + len(name):]
        else:
            out = trial
            local = (local - {name}) | {new}
            free = {(new if k == name else k): v for k, v in free.items()}
    return out, local, free


def _tuple_items(ret, last):
    """``ret`` (an expression of the generated code's result ``_s2s_r``,
    read only as ``_s2s_r[k]``) with the items of the tuple of names that
    the generated code's last line ``last`` returns put in: the runner
    returns them without building and indexing that tuple.  None otherwise."""
    try:
        node = ast.parse(last.strip()).body[0]
    except SyntaxError:
        return None
    if not isinstance(node, ast.Return) or not isinstance(node.value, ast.Tuple) or \
            not all(isinstance(e, ast.Name) for e in node.value.elts):
        return None
    names = [e.id for e in node.value.elts]
    out = re.sub(r"_s2s_r\[(\d+)\]", lambda m: names[int(m.group(1))]
                 if int(m.group(1)) < len(names) else m.group(0), ret)
    # (the checked path's fallback passes the whole result on: the same tuple)
    out = out.replace("_s2s_finish(_s2s_r, ", f"_s2s_finish(({', '.join(names)},), ")
    return out if "_s2s_r" not in out else None


class _FastCall:
    """The fast path of one argument signature: two small generated functions
    with the user's parameters (names and defaults), which check that each
    argument has the signature's kind (an array its shape and dtype, a
    static int its value) and that the guards of the compiled version hold
    (their tests inlined, read in the user's globals as the user's code reads
    them), and then return the generated code's result -- as it is where the
    specialisation proved it a fresh array of the argument's kind
    (``direct``), converted to ``float`` where the argument is one.

    ``probe`` answers ``_MISS`` for arguments of another signature (used by
    :meth:`_GradBase._call_warm`); ``hot`` is what calling the transformed
    function runs while this signature is the last one called: it is the
    ``__call__`` of the instance's own class (:meth:`_GradBase._set_hot`),
    so a call is one Python call into it and one into the generated code, and
    arguments of another signature take the general path from there.
    A small generated function's body is inlined into ``hot`` (one Python
    frame less; :func:`_inlinable`), compiled under a file name of its own
    whose lines map back to the user's statements as the generated code's do.

    A differentiated container of parameters (``loss(params, X, y)`` with
    ``params`` a dict, list or tuple -- nested, an OrderedDict -- of arrays,
    floats and NumPy scalars) is checked node by node: the exact container
    type (a subclass may override its methods: general path), a dict's keys
    in order (the gradient comes back in the call's order, as the general
    path gives it) -- or, for a dict the function reads only by constant
    keys, their number, the gradient a copy of the call's dict --, a
    sequence's length; each leaf is read once into the
    generated function's parameter of that name and tested as an argument
    is.  Nothing is cached by identity: a dict or an array changed in place
    between calls is tested again.  The gradient container is built by one
    display (``{'W1': params_W1_bar, ...}``), a fresh dict or list per call.
    A namedtuple of parameters is tested by its exact class (one whose items
    are read as a tuple's: :func:`_plain_namedtuple`) and length, its items
    read with ``tuple.__getitem__``, its gradient built by calling the class
    (as ``pytree.unflatten``).  Dataclasses, registered classes and
    namedtuples passed as data take the general path.
    Measured (``benchmarks/bench_call_overhead.py``): about 0.3 us over the
    generated function for three arrays, most of it the shape tests."""
    __slots__ = ("probe", "hot", "sc", "source")

    @classmethod
    def make(cls, t, c, sc, leaves, specs, bound):
        params = list(t._sig.parameters.values())
        ranges = c.ranges
        if len(params) != len(ranges) or list(specs) != [p.name for p in params] or \
                ranges[-1:] and ranges[-1][1] != len(leaves) or \
                any(p.kind is not p.POSITIONAL_OR_KEYWORD for p in params) or \
                not inspect.isfunction(t.fn):
            return None
        names = [p.name for p in params]
        if any(n.startswith(_RESERVED) for n in names):
            return None
        ns = {"_s2s_type": type, "_s2s_ND": _ND, "_s2s_MISS": _MISS, "_s2s_fn": sc.fn,
              "_s2s_float": float, "_s2s_complex": complex, "_s2s_Error": S2SGradError,
              "_s2s_refusal": _refusal, "_s2s_explain": explain,
              "_s2s_warm": weakref.WeakMethod(t._call_warm)}
        checks, sig = [], []
        root = t
        while root._inner is not None:
            root = root._inner
        # floats a rule needs as constants (np.linalg.norm's ord): compiled for
        # their value, so the runner checks it (see _make_static)
        statics = root.__dict__.get("_static_names", ())
        # A parameter with a default is bound to a marker: the default is
        # filled in (the parameter rebound, the call's own value kept as
        # _s2s_p<k>) only while f.__defaults__ is the
        # tuple it was read from; other calls (the user rebound the
        # defaults) take the general path with the arguments as passed.
        # Once f has defaults, every parameter is (rebinding can give more of
        # them defaults; one without must be passed, else the general path
        # raises Python's TypeError).
        values, fill = [], []          # values: the runner's name of each leaf
        passed = list(names)           # the names of the call's own arguments
        in_data = []                   # how the runner reads arrays held in data containers
        some = t._defaults[0] is not None
        # the generated function's parameter names: a container's leaves are
        # bound to them (params_W), so that its body can be inlined
        gen = getattr(getattr(sc.fn, "__code__", None), "co_varnames", ())
        taken = set(names)
        # differentiated dicts that the user's function reads only as
        # d[<constant>] (_read_by_constant_keys): what it computes does not
        # depend on the order of their keys, so the runner tests their
        # number of keys (reading every compiled key then proves the same
        # key set) and returns the gradient as a copy of the call's dict
        # with its values replaced: the call's key order, as the general
        # path gives it.  ``swap``: where that holds only while the result is
        # built by the runner (_returns), the test of the keys in order.
        # A dict nested in one of them that the function reads only as
        # d[<constant>][<constant>] (_constant_key_paths) is tested and
        # returned the same way.  bykey: name -> {key path: the runner's name
        # of the dict there}.
        bykey = {}
        ntypes = {}            # id of a namedtuple's TreeDef -> the runner's name of its class
        for k, p in enumerate(params):
            if specs[p.name][0] == "tree" and specs[p.name][1].kind == "dict" and \
                    type(bound[k][1]) is dict:
                paths = _constant_key_paths(t.fn, p.name)
                if () in paths:
                    bykey[p.name] = {(): p.name, "paths": paths}
        swap = {}
        for k, p in enumerate(params):
            n = p.name
            kind, td = specs[n]
            if kind == "tree":
                if p.default is not inspect.Parameter.empty:
                    return None
                # (a parameter not passed is bound to _s2s_NO, whose type no
                # test below accepts: the general path then raises Python's error)
                sig.append(f"{n}=_s2s_NO" if some else n)
                # a dict, list or tuple (of such) of arrays and scalars: its
                # type, keys in order and length, then each leaf as an argument
                start = len(values)
                if not cls._tree(n, bound[k][1], td, ns, checks, values,
                                 leaves[ranges[k][0]:ranges[k][1]], gen, taken, start,
                                 ntypes=ntypes,
                                 swap=swap if n in bykey else None,
                                 held=bykey.get(n)):
                    return None
                continue
            if ranges[k][1] - ranges[k][0] != 1:
                return None
            if p.default is not inspect.Parameter.empty:
                ns[f"_s2s_d{k}"] = p.default
                sig.append(f"{n}=_s2s_NO")
                # (the parameter itself rebound: the generated function's
                # parameter of that name, so that its body can be inlined)
                fill.append(f"_s2s_p{k} = {n}")
                fill.append(f"{n} = _s2s_d{k} if {n} is _s2s_NO else {n}")
                passed[k] = f"_s2s_p{k}"
            elif some:
                # not passed: _s2s_NO, which fails the type test of every leaf check
                sig.append(f"{n}=_s2s_NO")
            else:
                sig.append(n)
            j = len(values)
            values.append(n)
            if kind == "leaf" and type(leaves[j]) in (dict, list, tuple):
                # a container passed as data (a settings dict): compiled for
                # its type; tested as the general path keys it (_data)
                paths = _constant_key_paths(t.fn, p.name) if type(leaves[j]) is dict else ()
                if not cls._data(n, leaves[j], ns, checks, in_data, paths=paths):
                    return None
                continue
            check = cls._leaf(n, leaves[j], j, ns, p.name in statics, data=False)
            if check is None:
                return None
            checks.append(check)
        if some:
            ns["_s2s_user"], ns["_s2s_defs"] = t.fn, t._defaults[0]
            ns["_s2s_NO"] = _NO_ARG
            ns["_s2s_passed"] = _passed
            checks.append("_s2s_user.__defaults__ is _s2s_defs")
        pre = []               # statements building the result before its return
        ret = cls._returns(t, c, sc, leaves, specs, bykey=bykey, pre=pre, ntypes=ntypes)
        if ret is None:
            pre.clear()
            trees = any(kind == "tree" for kind, _ in specs.values())
            named = [(n, None) for n in names] if trees else None

            def finish(res, leaves, args=None, c=c, sc=sc, named=named,
                       specs=specs if trees else None):
                if c.simple:
                    return _fix_grad(res, leaves[c.wrt_leaves[0]], leaves)
                if args is not None:        # (_regroup puts a dict's keys in the call's order)
                    named = list(zip(names, args))
                return t._finish(c, res, list(leaves), named, specs, sc)
            ns["_s2s_finish"] = finish
            ret = f"_s2s_finish(_s2s_r, ({', '.join(values)}{',' if len(values) == 1 else ''}))"
            if c.simple and type(leaves[c.wrt_leaves[0]]) is _ND:
                # _fix_grad's first test inlined (no call, no generator): a
                # fresh writeable array of the argument's shape and dtype, not
                # one of the arguments, is returned as it is; anything else
                # (a view, another dtype object) goes through _s2s_finish
                x = leaves[c.wrt_leaves[0]]
                ns["_s2s_rt"] = x.dtype
                # (new memory by the alias model, as _checked's: no argument,
                # no view and writeable -- only its kind is tested, ~800
                # instructions less: `flags` builds an object per call)
                fresh = (_fresh_grads(getattr(sc, "func", None), 1, loops=True) or [False])[0]
                ret = (f"(_s2s_r if _s2s_type(_s2s_r) is _s2s_ND and _s2s_r.shape == {x.shape!r}"
                       f" and _s2s_r.dtype is _s2s_rt"
                       + ("" if fresh else
                          " and _s2s_r.base is None and _s2s_r.flags.writeable" +
                          "".join(f" and _s2s_r is not {v}"
                                  for v in _may_be(values, leaves, x) + in_data))
                       + f" else {ret})")
            else:
                # the same test for every gradient, inlined; all of them
                # fresh, distinct and of their arguments' kinds: the result
                # is assembled as with proven gradients, else _s2s_finish
                checked = cls._checked(t, c, sc, leaves, specs, values, in_data, ns,
                                       bykey=bykey if swap else (), pre=pre, ntypes=ntypes)
                if checked is not None and pre:
                    # the by-key dicts: built by statements when the test
                    # holds; _s2s_finish gets the call's arguments to give
                    # their gradients the call's key order
                    fin = ret[:-1] + f", ({', '.join(names)},))"
                    pre[:] = [f"if {checked[0]}:"] + [f"    {ln}" for ln in pre] + \
                        [f"    return {checked[1]}", f"return {fin}"]
                    ret = None
                elif checked is not None:
                    ret = f"({checked[1]} if {checked[0]} else {ret})"
        if ret is not None and "_s2s_finish" in ret:
            # (the result may come from _s2s_finish, which builds a dict in
            # the compiled key order: the keys are tested in order)
            for i, full in swap.items():
                checks[i] = full
            swap.clear()
        test = " and ".join(checks) or "True"
        inline = _inlinable(sc, values, tree_too=True)
        if inline is not None:
            # a global the guards test (``np``) that the inlined body reads as
            # the generated function's free variable of that name: renamed in
            # the body, so that the guard reads it with LOAD_GLOBAL (~280
            # instructions less than a dictionary read per name)
            inline = _free_renamed(inline[:3], getattr(c, "guard_items", ()), t._globals(),
                                   set(names) | set(values), inline[3])
        # a guard reads a global by name, unless the runner has a variable of that name
        avoid = set(names) | set(values) | (inline[1] if inline is not None else set())
        guard = guard_tests(getattr(c, "guard_items", ()), t._globals(), avoid=avoid)
        if guard is not None or swap:  # what compiling assumed outside the arguments
            tests, consts = guard if guard is not None else ("True", {})
            ns.update(consts)
            # a guard may raise (an entry of a dictionary removed), and so may
            # a key read of a dict tested by its number of keys: not met
            ok = ("        try:\n"
                  f"            _s2s_ok = {test} and ({tests})\n"
                  "        except Exception:\n"
                  "            _s2s_ok = False\n"
                  "        if _s2s_ok:\n")
        else:
            ok = f"        if {test}:\n"
        # the hot runner: errors of the generated code (and of the general
        # path it hands other signatures to) reported as the call's own
        hot_ok = "        try:\n" + "".join("    " + ln + "\n" for ln in ok.splitlines())
        call = f"_s2s_fn({', '.join(values)})"
        tail = "\n                ".join(pre + ([f"return {ret}"] if ret is not None else []))
        body = (f"return {call}" if ret == "_s2s_r" and not pre else
                f"_s2s_r = {call}\n                {tail}")
        nres = len(c.func.results)
        if inline is None and c.func.info.get("tuple_result") and \
                tail.count("_s2s_r[") > nres:
            # the generated tuple's items read many times (the run-time tests):
            # unpacked once into names (the generated code returns a tuple of
            # exactly its results)
            items = [f"_s2s_x{k}" for k in range(nres)]
            direct_ret = re.sub(r"_s2s_r\[(\d+)\]", lambda m: items[int(m.group(1))], tail)
            body = (f"_s2s_r = {call}\n                {', '.join(items)}, = _s2s_r\n"
                    f"                {direct_ret}")
        hot_body = f"                {body}\n"
        if inline is not None:          # the generated function's statements themselves
            lines, _, free = inline
            if ret != "_s2s_r" or pre:
                tail = pre + ([f"return {ret}"] if ret is not None else [])
                direct_ret = _tuple_items("\n".join(tail), lines[-1])
                if direct_ret is not None:      # return (a tuple of names): no tuple built
                    lines[-1:] = direct_ret.split("\n")
                else:
                    lines[-1] = lines[-1].replace("return ", "_s2s_r = ", 1)
                    lines.extend(tail)
            hot_body = "".join(f"                {ln}\n" for ln in lines)
            ns.update(free)
        args = f"({', '.join(passed)}{',' if len(names) == 1 else ''})"
        fallback = f"_s2s_warm()({args}, None)"
        if some:
            fallback = f"_s2s_warm()(*_s2s_passed({args}, {tuple(names)!r}))"
        pre = "".join(f"        {ln}\n" for ln in fill)
        hot_pre = "".join(f"            {ln}\n" for ln in fill)
        head = (f"def _s2s_factory({', '.join(sorted(ns))}):\n"
                f"    def _s2s_probe({', '.join(sig)}):\n"
                f"{pre}"
                f"{ok}"
                f"            {body.replace(chr(10) + '    ', chr(10))}\n"
                f"        return _s2s_MISS\n"
                f"    def _s2s_hot({', '.join(sig)}):\n"
                f"        try:\n"
                f"{hot_pre}"
                f"{hot_ok[len('        try:' + chr(10)):]}")
        src = (f"{head}"
               f"{hot_body}"
               f"            return {fallback}\n"
               f"        except _s2s_Error as _s2s_e:\n"
               f"            raise _s2s_refusal(_s2s_e) from None\n"
               f"        except Exception as _s2s_e:\n"
               f"            _s2s_explain(_s2s_e)\n"
               f"            raise\n"
               f"    return _s2s_probe, _s2s_hot\n")
        scope: dict = {}
        filename = f"<s2sgrad fast path of {t.fn.__name__}>"
        if inline is not None:
            # the inlined lines: in tracebacks, and mapped to the user's statements
            filename = f"<s2sgrad fast path of {t.fn.__name__} #{next(_RUNNERS)}>"
            linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
            first = head.count("\n") + 1            # the runner's line of the body's first
            smap = SOURCE_MAPS.get(sc.filename, {})
            SOURCE_MAPS[filename] = {first + k: smap[k + 3] for k in range(len(inline[0]))
                                     if k + 3 in smap}
        # in the user's globals: the guards' names are read as the user's code reads them
        exec(compile(src, filename, "exec"), t._globals(), scope)
        probe, hot = scope["_s2s_factory"](**ns)
        name = t.fn.__name__
        hot.__name__ = hot.__qualname__ = name    # TypeErrors of a wrong call name the user's function
        hot.__code__ = hot.__code__.replace(co_name=name)
        if inline is not None:
            tie_source(hot.__code__, filename)
        self = cls()
        self.probe, self.hot, self.sc, self.source = probe, staticmethod(hot), sc, src
        return self

    @staticmethod
    def _leaf(n, x, j, ns, static, data):
        """The test that the runner's value ``n`` has the kind of the leaf
        ``x`` (the ``j``-th) it was compiled for: an array's exact type, shape
        and dtype, a scalar's type (and value where compiled as a constant);
        None for another kind.  ``data``: a leaf of a differentiated container
        (an array or a float, never a constant)."""
        tx = type(x)
        if tx is _ND:
            ns[f"_s2s_t{j}"] = x.dtype
            return (f"_s2s_type({n}) is _s2s_ND and {n}.shape == {x.shape!r} and "
                    f"{n}.dtype is _s2s_t{j}")
        if tx in (float, complex):
            if static:
                ns[f"_s2s_v{j}"] = x
                return f"_s2s_type({n}) is _s2s_{tx.__name__} and {n} == _s2s_v{j}"
            return f"_s2s_type({n}) is _s2s_{tx.__name__}"
        if isinstance(x, np.generic) and (not data or isinstance(x, np.inexact)):
            ns[f"_s2s_k{j}"] = tx
            if static:          # a NumPy int compiled as a constant (_may_be_static)
                ns[f"_s2s_v{j}"] = x
                return f"_s2s_type({n}) is _s2s_k{j} and {n} == _s2s_v{j}"
            return f"_s2s_type({n}) is _s2s_k{j}"
        if data:
            return None
        if x is None:
            return f"{n} is None"
        if tx is str:           # a mode string: data (its type) or static (its value)
            ns[f"_s2s_v{j}"] = x
            ns["_s2s_str"] = str      # (never a global ``str`` of the user's)
            return f"_s2s_type({n}) is _s2s_str" + (f" and {n} == _s2s_v{j}" if static else "")
        if tx in (int, bool):
            ns[f"_s2s_v{j}"] = x
            ns[f"_s2s_k{j}"] = tx
            return f"_s2s_type({n}) is _s2s_k{j} and {n} == _s2s_v{j}"
        return None

    # containers whose items the runner reads with the built-in operations
    # (a subclass may override them: it takes the general path)
    _NODE_TYPES = {"dict": (dict, collections.OrderedDict), "list": (list,), "tuple": (tuple,)}

    @classmethod
    def _tree(cls, expr, value, td, ns, checks, values, leaves, gen, taken, start, first=None,
              swap=None, held=None, path=(), ntypes=None):
        """Append to ``checks`` the tests that ``value`` (read as ``expr``) has
        the structure ``td`` -- at every node the exact container type, a
        dict's keys in order, a sequence's length -- and that each leaf has
        its compiled kind (:meth:`_leaf`); each leaf is bound (``:=``) to a
        name appended to ``values``.  ``first``: how the first test reads the
        value (a nested container: bound to ``expr`` there).  False for structures the runner does
        not handle (namedtuples, dataclasses, registered classes, subclasses).
        ``swap``, ``held``: a dict read by constant keys (see make) and its
        nested dicts read so at ``held["paths"]``; ``held`` gets the runner's
        name of each such nested dict by its key ``path``."""
        if td.kind == "namedtuple":
            # its exact class, which reads its items as a tuple does (a
            # subclass or a class with its own readers: the general path);
            # the gradient is built by calling the class, as pytree.unflatten
            if type(value) is not td.type or ntypes is None or not _plain_namedtuple(td.type):
                return False
        elif td.kind not in cls._NODE_TYPES or type(value) not in cls._NODE_TYPES[td.kind]:
            return False
        m = len(checks)
        ns[f"_s2s_T{m}"] = type(value)
        if td.kind == "namedtuple":
            ns["_s2s_tnew"] = tuple.__new__
            ntypes[id(td)] = (f"_s2s_T{m}", _namedtuple_new(td.type))
        test = f"_s2s_type({first or expr}) is _s2s_T{m}"
        if td.kind == "dict":
            keys = tuple(value)
            if keys != td.keys or any(type(key) not in (str, int) for key in keys):
                return False
            ns["_s2s_tuple"] = tuple
            ns[f"_s2s_K{m}"] = keys
            checks.append(f"{test} and _s2s_tuple({expr}) == _s2s_K{m}")
            if swap is not None and (not path or type(value) is dict and
                                     path in held["paths"]):
                # (``swap``: a dict read by constant keys, see make: its
                # number of keys, each compiled key then read below)
                held[path] = expr
                ns["_s2s_len"] = len
                swap[len(checks) - 1] = checks[-1]
                checks[-1] = f"{test} and _s2s_len({expr}) == {len(keys)}"
            subs = [f"{expr}[{key!r}]" for key in keys]
            kids = [value[key] for key in keys]
            inner = [None if path is None else path + (key,) for key in keys]
        else:
            # (len as the runner's own name: never a global of the user's)
            ns["_s2s_len"] = len
            checks.append(f"{test} and _s2s_len({expr}) == {len(value)}")
            subs = [f"{expr}[{i}]" for i in range(len(value))]
            if td.kind == "namedtuple":
                # its items as the tuple holds them (what the user's ``p.W``
                # reads), even if a reader were added to the class later
                ns["_s2s_titem"] = tuple.__getitem__
                subs = [f"_s2s_titem({expr}, {i})" for i in range(len(value))]
            kids = list(value)
            inner = [None] * len(kids)      # (no key path below a sequence)
        if len(kids) != len(td.children):
            return False
        for sub, kid, ktd, kpath in zip(subs, kids, td.children, inner):
            if ktd.kind != "leaf":
                name = f"_s2s_c{len(checks)}"
                by_key = swap is not None and kpath is not None
                if not cls._tree(name, kid, ktd, ns, checks, values, leaves, gen, taken, start,
                                 ntypes=ntypes,
                                 first=f"{name} := {sub}", swap=swap if by_key else None,
                                 held=held, path=kpath):
                    return False
                continue
            j = len(values)
            if j - start >= len(leaves) or leaves[j - start] is not kid:
                return False
            name = gen[j] if j < len(gen) else ""
            if not name.isidentifier() or name in taken or name.startswith(_RESERVED):
                name = f"_s2s_l{j}"
            taken.add(name)
            values.append(name)
            check = cls._leaf(name, kid, j, ns, False, data=True)
            head = f"_s2s_type({name})"
            if check is None or not check.startswith(head):
                return False
            checks.append(f"_s2s_type({name} := {sub})" + check[len(head):])
        return True

    # the kinds of item a container passed as data may hold on the fast path
    # (anything else -- a function, an np.matrix, a duck array, an object --
    # may change how the general path compiles or refuses the call)
    _DATA_ITEMS = (float, int, bool, str, complex, _ND)

    @classmethod
    def _data(cls, expr, value, ns, checks, arrays, depth=0, first=None, paths=(), path=()):
        """Append to ``checks`` the tests that ``value`` (read as ``expr``), a
        container passed as data, has the exact type, keys in order or length,
        and at every item the exact type (a nested container: recursively, to
        a depth of 8; None: ``is None``) that it has now -- what
        :func:`_arg_key` keys, and more than the compiled code depends on
        (its type only: the items are read when the code runs, so a changed
        setting gives its new value).  The exact item types keep every
        content-dependent decision of :meth:`_Transformed._specs` (a tuple of
        functions, an ``np.matrix`` inside) on the general path.  False for
        other contents.  ``arrays``: gets the expressions of the array items
        (a gradient is never returned as one of them).  ``paths``: the key
        paths of the dicts the user's function reads only as
        ``d[<constant>]`` (:func:`_constant_key_paths`; ``path``: this one's),
        where the order of the keys changes nothing: their number is tested,
        and the items' tests read every key (a missing one raises: the
        general path), i.e. the same key set."""
        t = type(value)
        if t not in (dict, list, tuple) or depth > 8:
            return False
        m = len(checks)
        ns[f"_s2s_T{m}"] = t
        test = f"_s2s_type({first or expr}) is _s2s_T{m}"
        if t is dict:
            keys = tuple(value)
            if any(type(k) not in (str, int) for k in keys):
                return False
            if path in paths:
                ns["_s2s_len"] = len
                checks.append(f"{test} and _s2s_len({expr}) == {len(keys)}")
            else:
                ns["_s2s_tuple"] = tuple
                ns[f"_s2s_K{m}"] = keys
                checks.append(f"{test} and _s2s_tuple({expr}) == _s2s_K{m}")
            items = [(f"{expr}[{k!r}]", value[k], None if path is None else path + (k,))
                     for k in keys]
        else:
            ns["_s2s_len"] = len      # (never a global ``len`` of the user's)
            checks.append(f"{test} and _s2s_len({expr}) == {len(value)}")
            # (no key path below a sequence)
            items = [(f"{expr}[{i}]", v, None) for i, v in enumerate(value)]
        for sub, v, kpath in items:
            tv = type(v)
            if tv in (dict, list, tuple):
                name = f"_s2s_c{len(checks)}"
                if not cls._data(name, v, ns, checks, arrays, depth + 1,
                                 first=f"{name} := {sub}", paths=paths, path=kpath):
                    return False
            elif v is None:
                checks.append(f"{sub} is None")
            elif tv in cls._DATA_ITEMS or (isinstance(v, np.generic) and
                                           tv.__module__ == "numpy"):
                k = f"_s2s_D{len(checks)}"
                ns[k] = tv
                checks.append(f"_s2s_type({sub}) is {k}")
                if tv is _ND:
                    arrays.append(sub)
            else:
                return False
        return True

    @staticmethod
    def _build(td, items, ntypes=None):
        """The expression rebuilding a gradient of structure ``td`` from the
        expressions ``items`` (an iterator), as :func:`pytree.unflatten`
        (a namedtuple by its class, the runner's name ``ntypes[id(td)]``
        that :meth:`_tree` tested; :class:`_NotFast` without one)."""
        if td.kind == "leaf":
            return next(items)
        kids = [_FastCall._build(c, items, ntypes) for c in td.children]
        if td.kind == "namedtuple":
            found = (ntypes or {}).get(id(td))
            if found is None:
                raise _NotFast
            name, plain = found
            if plain:       # what the class's own __new__ does, without its Python frame
                return f"_s2s_tnew({name}, ({', '.join(kids)}{',' if len(kids) == 1 else ''}))"
            return f"{name}({', '.join(kids)})"
        if td.kind == "dict":
            return "{" + ", ".join(f"{k!r}: {v}" for k, v in zip(td.keys, kids)) + "}"
        if td.kind == "list":
            return "[" + ", ".join(kids) + "]"
        return "(" + ", ".join(kids) + ("," if len(kids) == 1 else "") + ")"

    @staticmethod
    def _groups(t, specs, items, bykey=(), pre=None, ntypes=None):
        """Per differentiated argument, the expression of its gradient (a
        container's rebuilt from its leaves' ``items``).  A dict of
        ``bykey`` (with ``pre``, a list): the statements appended to ``pre``
        build it as a copy of the call's dict with each compiled key's value
        replaced (the call's key order; see :meth:`make`)."""
        names, it = list(specs), iter(items)
        out = []
        for w in t.wrt:
            kind, td = specs[names[w]]
            if kind == "tree" and pre is not None and names[w] in bykey:
                out.append(_FastCall._copied(td, it, bykey[names[w]], (), f"_s2s_g{w}", pre,
                                             ntypes))
                continue
            out.append(_FastCall._build(td, it, ntypes) if kind == "tree" else next(it))
        return out

    @staticmethod
    def _copied(td, items, held, path, g, pre, ntypes=None):
        """The name ``g`` of a gradient dict built by the statements appended
        to ``pre``: a copy of the call's dict at ``path`` (the runner's name
        ``held[path]``) with each compiled key's value replaced -- a nested
        dict of ``held`` likewise, other values by :meth:`_build`."""
        pre.append(f"{g} = {held[path]}.copy()")
        for n, (k, ch) in enumerate(zip(td.keys, td.children)):
            if ch.kind == "dict" and path + (k,) in held:
                v = _FastCall._copied(ch, items, held, path + (k,), f"{g}_{n}", pre, ntypes)
            else:
                v = _FastCall._build(ch, items, ntypes)
            pre.append(f"{g}[{k!r}] = {v}")
        return g

    # the types of a value returned beside the gradients (value_and_grad's
    # loss) that _finish returns as it is and that share no memory
    _SCALARS = (float, complex, np.float64, np.float32, np.float16, np.longdouble,
                np.complex128, np.complex64)

    @staticmethod
    def _checked(t, c, sc, leaves, specs, values, in_data, ns, bykey=(), pre=None, ntypes=None):
        """``(test, expression)``: the user's call's result assembled from the
        generated code's as :meth:`_returns` does for proven gradients, and
        the run-time test under which that is what ``_finish`` returns -- every
        gradient (of an array argument) a fresh writeable array of its
        argument's shape and dtype (``base is None``: it owns its memory), not
        an argument, not an array held in a data container and not an earlier
        gradient (so no two share memory); ``value_and_grad``'s value a
        Python or NumPy scalar.  None where it does not apply (``has_aux``,
        scalar or duck-array arguments)."""
        wrt = c.wrt_leaves
        if t.has_aux or not wrt or any(type(leaves[i]) is not _ND for i in wrt) or \
                any(_is_duck(x) for x in leaves) or \
                any(f"_s2s_t{i}" not in ns for i in wrt):
            return None
        nvals = len(c.func.results) - len(wrt)
        expr = _FastCall._returns(t, c, sc, leaves, specs, ([True] * len(wrt), [False] * len(wrt)),
                                  bykey=bykey, pre=pre, ntypes=ntypes)
        if expr is None:
            return None
        tup = c.func.info.get("tuple_result")
        items = [f"_s2s_r[{nvals + k}]" if tup else "_s2s_r" for k in range(len(wrt))]
        fresh = _fresh_grads(getattr(sc, "func", None), len(wrt)) or [False] * len(wrt)
        grads = [leaves[i] for i in wrt]
        tests = []
        for k, (it, i) in enumerate(zip(items, wrt)):
            x = leaves[i]
            tests.append(f"_s2s_type({it}) is _s2s_ND and {it}.shape == {x.shape!r} and "
                         f"{it}.dtype is _s2s_t{i}")
            if not fresh[k]:
                # (a fresh result, by the alias model, is new memory: none of
                # these; an argument or a later gradient whose tested shape or
                # dtype differs is another object, _may_be; `is not` is
                # symmetric: each pair of gradients once)
                tests[-1] += (f" and {it}.base is None and {it}.flags.writeable"
                              + "".join(f" and {it} is not {v}"
                                        for v in _may_be(values, leaves, x) + in_data +
                                        _may_be(items[k + 1:], grads[k + 1:], x)))
        if nvals:
            ns["_s2s_scalars"] = _FastCall._SCALARS
            tests += [f"_s2s_type(_s2s_r[{k}]) in _s2s_scalars" for k in range(nvals)]
        return " and ".join(tests), expr

    @staticmethod
    def _returns(t, c, sc, leaves, specs, direct=None, bykey=(), pre=None, ntypes=None):
        """The expression (of the generated code's result ``_s2s_r``) that the
        user's call returns, when it needs no checks; else None.  ``direct``:
        the flags to assume instead of the specialisation's
        (:meth:`_checked` tests them at run time).  ``bykey``, ``pre``: see
        :meth:`_groups` (``pre`` gets the statements to run before the
        expression; left empty when None is returned)."""
        if any(_is_duck(x) for x in leaves):
            return None
        if direct is None:
            direct = sc.__dict__.get("direct_flags")
        if direct is None:
            return None
        nvals = len(c.func.results) - len(c.wrt_leaves)
        tup = c.func.info.get("tuple_result")
        if t.has_aux:
            # (loss, aux): the aux values as they are (as _finish gives them),
            # rebuilt when aux is one value or a flat tuple, list or dict of them
            aux = _flat_aux(c.out_tree, nvals)
            items = _FastCall._grad_items(c, sc, leaves, direct, nvals, tup)
            if aux is None or not tup or items is None:
                return None
            groups = _FastCall._groups(t, specs, items, bykey, pre, ntypes)
            grads = groups[0] if t._single else f"({', '.join(groups)}{',' * (len(groups) == 1)})"
            return f"((_s2s_r[0], {aux}), {grads})" if t.keep_value else f"({grads}, {aux})"
        if c.out_tree.kind != "leaf" or nvals != (1 if t.keep_value else 0):
            return None
        if not tup and nvals + len(c.wrt_leaves) != 1:
            return None
        items = _FastCall._grad_items(c, sc, leaves, direct, nvals, tup)
        if items is None:
            return None
        groups = _FastCall._groups(t, specs, items, bykey, pre, ntypes)     # (containers rebuilt)
        if t._single and t.keep_value and tup and groups[0] == "_s2s_r[1]" and \
                len(c.func.results) == 2:
            return "_s2s_r"                   # (value, gradient): the generated tuple
        if t._single:
            grads = groups[0]
        elif tup and not t.keep_value and len(groups) == len(items) and \
                all(it == f"_s2s_r[{k}]" for k, it in enumerate(groups)):
            return "_s2s_r"                   # the tuple of gradients as it is
        else:
            grads = f"({', '.join(groups)}{',' if len(groups) == 1 else ''})"
        return f"(_s2s_r[0], {grads})" if t.keep_value else grads

    @staticmethod
    def _grad_items(c, sc, leaves, direct, nvals, tup):
        """Per gradient, the expression returning it as :func:`_fix_grad`
        would (the result itself where the specialisation proved it fresh and
        of its argument's kind; a scalar argument's type of a 0-d value);
        None when one needs the checks."""
        flags, scalar = direct
        items = []
        sfunc = getattr(sc, "func", None)         # the specialised IR: its dtype facts
        examples = sfunc.info.get("examples", {}) if sfunc is not None else {}
        results = list(sfunc.results[nvals:]) if sfunc is not None else []
        for k, (ok, i) in enumerate(zip(flags, c.wrt_leaves)):
            x = leaves[i]
            r = f"_s2s_r[{nvals + k}]" if tup else "_s2s_r"
            if ok:
                items.append(r)
            elif type(x) in (float, complex) and scalar[k]:
                items.append(f"_s2s_{type(x).__name__}({r})")
            elif isinstance(x, np.inexact) and k < len(results) and \
                    _zero_d_of_kind(examples, results[k], x):
                # a NumPy scalar argument: its type of the gradient, as _fix_grad gives
                items.append(f"_s2s_k{i}({r})")
            else:
                return None
        return items


# names through which a function can reach its own parameters other than by
# name (a dict passed as data iterated through locals(): its key order matters)
_FRAME_NAMES = frozenset(("locals", "vars", "eval", "exec", "globals", "dir", "__import__"))


def _read_by_constant_keys(fn, name):
    """Whether the user's function ``fn`` uses its parameter ``name`` only as
    ``name[<str or int constant>]`` (read): never iterated, passed on, rebound
    or reached through ``locals()`` and the like, in its body or in the
    functions and lambdas defined in it -- what it computes cannot depend
    on the order of the keys of a dict passed there.  False when in doubt
    (the source cannot be read)."""
    return () in _constant_key_paths(fn, name)


def _constant_key_paths(fn, name):
    """The key paths of the dicts inside the user's parameter ``name`` that
    ``fn`` reads only by constant keys: ``()`` (the parameter itself) when
    every use of ``name`` is ``name[<str or int constant>]`` (read), as
    :func:`_read_by_constant_keys`; ``(k1, ..., kn)`` when, besides, every
    use that reads ``name[k1]...[kn]`` reads one more constant key of it
    (``params["l1"]["W"]``, never ``params["l1"]`` alone, iterated, passed
    on or written): what ``fn`` computes cannot depend on the order of the
    keys of the dict found there.  Empty when in doubt."""
    try:
        node = parse_function(fn).node
    except Exception:
        return frozenset()
    parent = {}
    for sub in ast.walk(node):
        for kid in ast.iter_child_nodes(sub):
            parent[kid] = sub
    chains = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            if sub.id == name:
                # the constant keys read from this use, outermost last
                keys, at = [], sub
                while True:
                    up = parent.get(at)
                    if not (isinstance(up, ast.Subscript) and up.value is at and
                            isinstance(up.ctx, ast.Load) and isinstance(up.slice, ast.Constant) and
                            type(up.slice.value) in (str, int)):
                        break
                    keys.append(up.slice.value)
                    at = up
                if not keys:
                    return frozenset()
                chains.append(tuple(keys))
            elif sub.id in _FRAME_NAMES:
                return frozenset()
        elif isinstance(sub, (ast.Global, ast.Nonlocal)) and name in sub.names:
            return frozenset()
        elif isinstance(sub, ast.Attribute) and sub.attr in ("f_locals", "_getframe", "f_back",
                                                             "tb_frame", "gi_frame"):
            return frozenset()
    # a prefix is by key when no use stops there (every use through it reads deeper)
    # (and so is every prefix of it: a dict used whole may be iterated, with
    # the dicts in it)
    stops = set(chains)
    prefixes = {ch[:k] for ch in chains for k in range(1, len(ch))}
    return frozenset({()} | {p for p in prefixes
                             if not any(p[:k] in stops for k in range(1, len(p) + 1))})


def _may_be(names, xs, x):
    """The names of ``names`` (runner variables holding the arrays ``xs``
    were compiled for, each tested to have exactly its array's shape and
    dtype object) that may be the same object as an array that passes the
    same tests for the array ``x``: those compiled for ``x``'s shape and
    dtype object.  An array whose tests differ (another shape, another
    dtype object: ``is``) is another object at the moment both tests hold;
    the generated code never changes an argument's shape or dtype.  Items
    of ``xs`` that are not arrays (scalars) are left out: their names never
    hold an array that passed an array test."""
    return [n for n, a in zip(names, xs) if type(a) is _ND and a.shape == x.shape and
            a.dtype is x.dtype]


def _fresh_grads(func, nwrt, loops=False):
    """Per gradient result of the generated code's IR ``func``: whether the
    alias model proves it new memory that no argument, no other result and
    no other gradient shares (the freshness half of
    ``specialize.direct_flags``, without its shape and dtype facts, which
    :meth:`_FastCall._checked` tests at run time); None when two results may
    be one object.  ``loops``: a single gradient, the only result, may also
    be a loop's carry (:func:`_fresh_carry`)."""
    from .alias import fresh_result
    if func is None or func.info.get("foreign"):
        return None
    n = len(func.results) - nwrt
    grads = func.results[n:]
    if len({id(r) for r in grads}) != len(grads) or any(r in func.results[:n] for r in grads):
        return None
    defs = {o: e for e in func.body.eqns for o in e.outs}
    if loops and nwrt == 1 and not n:
        return [isinstance(grads[0], Var) and _fresh_carry(grads[0], defs)]
    return [isinstance(r, Var) and r in defs and fresh_result(defs[r]) for r in grads]


def _fresh_carry(v, defs, depth=0):
    """Whether ``v`` is new memory by the alias model: a fresh equation's
    result (:func:`alias.fresh_result`), or the final value of a loop's carry
    whose initial value is such a value and whose next value in the body is
    the carry itself or again such a value of the body (every iteration's
    value new memory or the previous one; after no iteration, the initial
    one).  For the only result of a function (``_fresh_grads(loops=True)``):
    two carries of one loop may be one object, which no other result sees."""
    from .alias import fresh_result
    from .primitives.control import loop_offset
    e = defs.get(v)
    if e is None:
        return False
    if fresh_result(e):
        return True
    if depth >= 4 or e.prim.name not in ("for_loop", "while_loop"):
        return False
    k = next((i for i, o in enumerate(e.outs) if o is v), None)
    off = loop_offset(e)
    body = e.params.get("body")
    if k is None or body is None or off + k >= len(e.args) or k >= len(body.results) or \
            off + k >= len(body.params):
        return False
    init, nxt, carry = e.args[off + k], body.results[k], body.params[off + k]
    if not isinstance(init, Var) or not _fresh_carry(init, defs, depth + 1):
        return False
    if nxt is carry:
        return True
    inner = {o: x for x in body.eqns for o in x.outs}
    return isinstance(nxt, Var) and _fresh_carry(nxt, inner, depth + 1)


def _flat_aux(out_tree, nvals):
    """The expression rebuilding ``has_aux``'s aux value from the generated
    code's results ``_s2s_r[1:nvals]``, as ``pytree.unflatten`` does, when it
    is one value or a flat tuple, list or dict (str or int keys) of values;
    else None."""
    if out_tree.kind not in ("tuple", "list") or len(out_tree.children) != 2 or \
            out_tree.children[0].kind != "leaf":
        return None
    aux = out_tree.children[1]
    if aux.kind == "leaf":
        return "_s2s_r[1]" if nvals == 2 else None
    if aux.kind not in ("tuple", "list", "dict") or \
            any(ch.kind != "leaf" for ch in aux.children) or nvals != 1 + len(aux.children):
        return None
    vals = [f"_s2s_r[{1 + j}]" for j in range(len(aux.children))]
    if aux.kind == "dict":
        if not all(type(k) in (str, int) for k in aux.keys):
            return None
        return "{" + ", ".join(f"{k!r}: {v}" for k, v in zip(aux.keys, vals)) + "}"
    if aux.kind == "list":
        return "[" + ", ".join(vals) + "]"
    return "(" + ", ".join(vals) + ("," if len(vals) == 1 else "") + ")"


def _zero_d_of_kind(examples, r, x):
    """Whether the gradient result ``r`` of a NumPy scalar argument ``x`` is
    certainly (by the specialisation's shape and dtype facts) a 0-d NumPy
    value that ``type(x)(g)`` converts as :func:`_fix_grad` does: not complex
    for a real ``x`` (whose gradient is the real part)."""
    v = examples.get(r) if isinstance(r, Var) else None
    return isinstance(v, (np.ndarray, np.generic)) and v.shape == () and \
        (np.iscomplexobj(x) or not np.iscomplexobj(v))


_PRIMITIVE_WRAPPERS: dict = {}


def _primitive_function(fn):
    """``grad(np.sinc)``: a NumPy callable s2sgrad has a rule for, given
    itself, is differentiated as ``def sinc(x): return np.sinc(x)`` (its
    required positional operands); the wrapper's source is registered in
    linecache and kept per callable, so it compiles once."""
    if getattr(fn, "__code__", None) is not None or isinstance(fn, _Transformed):
        return fn
    hit = _PRIMITIVE_WRAPPERS.get(id(fn))
    if hit is not None and hit[0] is fn:
        return hit[1]
    from .primitives import core as P
    prim = P.lookup_object(fn)
    if prim is None or prim.nondiff:
        return fn
    params = [p.name for p in prim.signature.parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]
    name = getattr(fn, "__name__", None)
    if not params or not (isinstance(name, str) and name.isidentifier()):
        return fn
    filename = f"<s2sgrad: {name}>"
    src = f"def {name}({', '.join(params)}):\n    return _callable({', '.join(params)})\n"
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    ns = {"_callable": fn, "__name__": "s2sgrad.api"}
    exec(compile(src, filename, "exec"), ns)
    _PRIMITIVE_WRAPPERS[id(fn)] = (fn, ns[name])
    return ns[name]


_BASIS_WRAPPERS = itertools.count()


def _basis_wrapper(fn):
    """``jacobian(jacobian(f))``, ``grad(functools.partial(f, y=1))``: a
    Jacobian or Hessian transform (not composable: no IR of its own) or a
    ``functools.partial`` is differentiated as ``def jacobian_of_f(x, y):
    return _transformed(x, y)`` -- a function calling it, which lowering
    inlines as it does ``jacobian(f)(x)`` or a partial called inside a
    function.  Its parameters are ``fn``'s (defaults kept); ``fn`` itself is
    returned for a signature with ``*args``/``**kwargs`` (refused as before)."""
    from . import higher
    cls = transform_type(fn) if isinstance(fn, _Transformed) else None
    if cls in (higher.JacobianFunction, higher.HessianFunction):
        kind, inner = cls.kind_name, getattr(fn.fn, "__name__", "f")
    elif isinstance(fn, functools.partial):
        kind, inner = "partial", getattr(fn.func, "__name__", "f")
    else:
        return fn
    hit = fn.__dict__.get("_s2s_basis_wrapper")
    if hit is not None:
        return hit
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return fn
    ps = list(sig.parameters.values())
    if not ps or any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in ps):
        return fn
    ns = {"_transformed": fn, "__name__": "s2sgrad.api"}
    decl, pos, kw, star = [], [], [], False
    for k, p in enumerate(ps):
        if p.kind is p.KEYWORD_ONLY and not star:
            decl.append("*")
            star = True
        d = ""
        if p.default is not p.empty:
            ns[f"_default{k}"] = p.default
            d = f"=_default{k}"
        decl.append(p.name + d)
        (kw.append(f"{p.name}={p.name}") if p.kind is p.KEYWORD_ONLY else pos.append(p.name))
    name = f"{kind}_of_{inner if inner.isidentifier() else 'f'}"
    filename = f"<s2sgrad: {name} #{next(_BASIS_WRAPPERS)}>"
    src = f"def {name}({', '.join(decl)}):\n    return _transformed({', '.join(pos + kw)})\n"
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    exec(compile(src, filename, "exec"), ns)
    fn.__dict__["_s2s_basis_wrapper"] = ns[name]     # (kept with fn, compiled once)
    return ns[name]


def _new_of_base(cls, *args, **kwargs):
    """``type(g)(f, ...)`` of a transformation with a class of its own (see
    ``_set_hot``) makes an instance of the base class: a new transformation,
    never one sharing ``g``'s runners."""
    return cls.__mro__[1](*args, **kwargs)


def transform_type(obj):
    """The class of a transformed function (``GradFunction``, ...) -- not
    the class of its own that its hot call path gives it (``_set_hot``)."""
    t = type(obj)
    return t.__mro__[1] if "_s2s_own" in t.__dict__ else t


class _Transformed:
    """Shared machinery of the decorated forms: binding, specs, cache.

    Transformations compose: when ``fn`` is itself a transformed function
    (``grad(grad(f))``, ``jvp(grad(f))``, ...), the argument structure
    (specs, leaves) is delegated to it and its optimised IR (``ir_for``) is
    differentiated instead of lowering source.
    """

    kind = "grad"
    _fast_bind = False      # bind positional calls without inspect (set where the
                            # call's signature is the function's own)
    # Whether this transformation's result can be differentiated again
    # (it exposes its IR through ``ir_for``).
    composable = False
    # The checkpointing schedule of every loop (grad/value_and_grad/vjp's
    # ``checkpoint=``; s2sgrad.schedules).
    checkpoint = None
    # Whether this transform differentiates its inner one in forward mode
    # (jvp): an inner gradient then keeps its checkpointed loops.
    _forward_over = False
    # Whether it differentiates its inner one in reverse mode without being a
    # grad or vjp (jacobian's reverse mode): a checkpointed inner gradient is
    # then one marker call (s2sgrad.gradcall.composed_ir).
    _reverse_over = False

    def __init__(self, fn, wrt=0, has_aux=False, verbose=False):
        if not callable(fn):
            raise TypeError(f"{type(self).__name__.lower()} expects a function, got {fn!r}")
        fn = _primitive_function(fn)
        fn = _basis_wrapper(fn)
        if getattr(fn, "__code__", None) is None and \
                not isinstance(fn, (_Transformed, functools.partial, np.vectorize)) and \
                not type(fn).__module__.startswith("s2sgrad.") and \
                inspect.isfunction(getattr(type(fn), "__call__", None)):
            fn = fn.__call__     # a user's object with a __call__ method: that bound method
        if isinstance(fn, _Transformed) and not fn.composable:
            raise S2SGradError(f"cannot differentiate a {type(fn).__name__}: its result is not "
                               f"a function of arrays compiled to IR (differentiate grad, "
                               f"value_and_grad or jvp transforms, or the original function)")
        functools.update_wrapper(self, fn)
        self.fn = fn
        try:
            self._sig = inspect.signature(fn)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"cannot read the signature of {fn!r}: {exc}") from None
        self.wrt, self._single = _normalize_wrt(fn, self._sig, wrt)
        self._defaults = _defaults_of(fn)
        self.has_aux = has_aux
        self.verbose = verbose
        if not isinstance(fn, _Transformed):
            # Read (and check) the source now: what is differentiated is the
            # text as it was when the transformation was made, verified to be
            # the running code's (frontend._verify).  Errors are raised at the
            # first call, where they always were.
            try:
                parse_function(fn)
            except Exception:                   # noqa: BLE001 -- reported at the call
                pass
        self._cache: dict = {}
        self._last = None
        self._last_run = None     # what the last call ran (may be a specialisation)

    def _bind(self, args, kwargs):
        d = _defaults_of(self.fn)
        if d[0] is not self._defaults[0] or d[1] is not self._defaults[1]:
            self._defaults_changed(d)
        fast = self.__dict__.get("_fast_params") if self._fast_bind else ()
        if fast is None:
            fast = self._fast_params = _plain_params(self._sig)
        if fast and not kwargs and len(args) <= len(fast[0]):
            names, defaults = fast
            if len(args) == len(names):
                return list(zip(names, args))
            rest = defaults[len(args):]
            if all(d is not inspect.Parameter.empty for d in rest):
                return list(zip(names, list(args) + list(rest)))
        try:
            ba = self._sig.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{self.fn.__name__}(): {exc}") from None
        ba.apply_defaults()
        return list(ba.arguments.items())

    def _defaults_changed(self, d):
        """``f.__defaults__`` (or ``__kwdefaults__``) was rebound since the
        signature was read: Python calls ``f`` with the new defaults, so the
        signature is read again and the fast runners (which hold the old
        defaults) are dropped."""
        try:
            self._sig = inspect.signature(self.fn)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"cannot read the signature of {self.fn!r}: {exc}") from None
        self._defaults = d
        self.__dict__.pop("_fast_params", None)
        self.__dict__.pop("_fast", None)
        self._clear_hot()

    @property
    def _inner(self):
        """The transformed function this one transforms, if any."""
        return self.fn if isinstance(self.fn, _Transformed) else None

    def _globals(self):
        """The user function's module globals (what generated code reads live)."""
        fn = self.fn
        while isinstance(fn, _Transformed):
            fn = fn.fn
        return getattr(fn, "__globals__", {})

    def _validate(self, bound):
        """Refuse non-float values for every argument differentiated at any level."""
        for i in self.wrt:
            name, value = bound[i]
            if type(value) is np.ndarray and value.dtype.kind == "f":
                continue                 # the common case, checked cheaply
            if value is None:
                raise InputError(f"cannot differentiate with respect to '{name}': it is None")
            bad = pytree.overriding_reader(value)
            if bad is not None:
                cls = type(bad[0])
                raise InputError(
                    f"cannot differentiate with respect to '{name}': "
                    f"{'it' if bad[0] is value else 'a container inside it'} is an instance "
                    f"of {cls.__qualname__}, a subclass of {cls.__mro__[-2].__name__} that "
                    f"defines its own {bad[1]}, so the values read from it may not be its "
                    f"entries and the gradient would not be one with respect to them; pass "
                    f"a plain {cls.__mro__[-2].__name__} of the values the function reads")
            for leaf in pytree.flatten(value)[0]:
                _check_diff_leaf(leaf, name)
        if self._inner is not None:
            self._inner._validate(bound)

    def _specs(self, bound, extra_trees=()):
        """The argument structure (the cache key).  ``extra_trees``: positions an
        outer transformation differentiates (flattened into leaves too)."""
        trees = set(self.wrt) | set(extra_trees)
        if self._inner is not None:
            return self._inner._specs(bound, trees)
        self._spec_bound, self._spec_trees = bound, trees   # (for _make_static)
        statics = self.__dict__.get("_static_names", ())
        specs = {}
        for i, (name, value) in enumerate(bound):
            if type(value) is np.ndarray:
                specs[name] = _LEAF_SPEC            # the common case first
            elif value is None:
                specs[name] = ("none", None)
            elif isinstance(value, _ARRAY_SUBCLASSES) or (
                    isinstance(value, (list, tuple, dict)) and
                    any(isinstance(v, _ARRAY_SUBCLASSES) for v in pytree.flatten(value)[0])):
                _refuse_subclass(value, name)
            elif i not in trees and _static_callable(value):
                # a function passed as an argument (def f(x, reduce=np.sum)):
                # resolved while compiling, keyed by identity
                specs[name] = ("callable", value)
            elif i not in trees and rng_kind(value) is not None:
                # a random generator: passed to the generated code as it is
                # (never copied: its state advances as in a call of f)
                specs[name] = ("rng", rng_kind(value))
            elif (i in trees and pytree.is_container(value)) or \
                    pytree.node_rules(value) is not None:
                # a dataclass / registered pytree object is flattened even when not
                # differentiated (its attributes are read while compiling)
                specs[name] = ("tree", pytree.flatten(value)[1])
            elif i not in trees and name in statics and _may_be_static(value) and \
                    self._static_ok(name, value):
                # a float or str a rule needs as a constant (ord=p): static,
                # keyed by its value (learnt at the first compilation)
                specs[name] = ("static", StaticArg(value))
            elif i not in trees and type(value) in (int, bool) and self._static_ok(name, value):
                # Python ints and bools (sizes, depths, flags) are compile-time
                # constants, like JAX's static arguments: `range(n)` and
                # `if training:` resolve while compiling, and recursion on a
                # depth argument terminates.  After MAX_STATIC_VALUES distinct
                # values an argument is treated as data instead.
                specs[name] = ("static", StaticArg(value))
            elif i not in trees and type(value) in (tuple, dict) and value and \
                    self._sig.parameters[name].kind in _VAR_KINDS and \
                    all(type(v) in (np.ndarray, float, int) for v in
                        (value.values() if type(value) is dict else value)):
                # f(w, *args, **kwargs) called with data arrays and numbers:
                # *args / **kwargs are the call's own tuple and dict, their
                # length and keys known from the call (f(w, *args, **kwargs)
                # passes them on, args[1] is an item)
                specs[name] = ("tree", pytree.flatten(value)[1])
            elif i not in trees and isinstance(value, (list, tuple, dict, str)):
                # a container or string passed as data: its type is known while
                # compiling (isinstance(arg, list)); a subclass's too (an
                # OrderedDict of settings: its items are read when the code
                # runs, with its own __getitem__; it was an array leaf, whose
                # items 'is None' folded to False)
                specs[name] = ("leaf", type(value))
            elif i not in trees and _plain_object(value):
                # an object of the user's (a parameter parser, a model): read
                # through while compiling, keyed by its type and what that
                # assumed about it (ObjectArg)
                checks = self.__dict__.get("_object_checks", {}).get(name, {})
                specs[name] = ("object", ObjectArg(value, checks.items()))
            else:
                specs[name] = _LEAF_SPEC
        return specs

    MAX_STATIC_VALUES = 16

    def _static_ok(self, name, value):
        seen = self.__dict__.setdefault("_static_seen", {}).setdefault(name, set())
        key = (type(value), value)
        if key in seen or len(seen) < self.MAX_STATIC_VALUES:
            seen.add(key)
            return True
        return False

    def _leaves(self, bound, specs):
        if self._inner is not None:
            return self._inner._leaves(bound, specs)
        if _LEAF_TREE_FREE(specs):
            return [value for _, value in bound]
        leaves = []
        for name, value in bound:
            kind, _ = specs[name]
            if kind == "tree":
                leaves += pytree.flatten(value)[0]
            else:
                leaves.append(value)
        return leaves

    def _compiled(self, specs):
        key = tuple(specs.items())
        c = self._cache.get(key)
        if c is None or (c.guard is not None and not c.guard()):
            c = self._cached(self._cache, key, lambda: self._compile(specs), specs)
        self._last = c
        return c

    # At most this many compiled versions per argument structure whose
    # guards differ (a flag that alternates between two values compiles
    # twice, not at every call).
    MAX_VERSIONS = 8

    def _cached(self, cache, key, make, specs, what=None):
        """``cache[key]`` if its guards hold (:mod:`s2sgrad.guards`: what
        compiling assumed about globals, closure cells and objects reached
        from them), else an earlier version whose guards hold, else a new
        compilation (``make()``, in a compile session reporting ``what``:
        :mod:`s2sgrad.verbose`)."""
        c = cache.get(key)
        if c is not None and (c.guard is None or c.guard()):
            return c
        versions = self.__dict__.setdefault("_versions", {}).setdefault((id(cache), key), [])
        for v in versions:
            if v.guard is None or v.guard():
                cache[key] = v
                self._forget_fast_paths()
                return v
        if len(versions) >= self.MAX_VERSIONS and not self.__dict__.get("_warned_versions"):
            self._warned_versions = True
            import warnings
            moved = sorted({p for v in versions[-2:] for p in changed(v.guard_items)})
            warnings.warn(f"s2sgrad: '{getattr(self.fn, '__name__', self.fn)}' was compiled "
                          f"{len(versions) + 1} times because what it reads from outside its "
                          f"arguments keeps changing ({', '.join(moved) or 'see guards'}); "
                          f"pass such values as arguments", RuntimeWarning, stacklevel=4)
        self._compile_guards = ()
        rule_guards = Guards()      # what custom rules, lowered while differentiating, assumed
        before = tuple(specs.items())
        with compiling(what or self._what(specs), self.verbose), \
                collect_rule_guards(rule_guards):
            c = self._make_with_statics(make, specs)
        after = tuple(specs.items())
        if after != before:
            # an argument became static while compiling (ord=p): the version
            # is keyed by its value, never by the structure that had it as data
            key = after if key == before else tuple(after if k == before else k for k in key)
            versions = self._versions.setdefault((id(cache), key), [])
        self._note(c, specs)
        items = list(self._compile_guards) + list(rule_guards)
        c.guard_items = items
        c.guard = build_guard(items, self._globals())
        versions.append(c)
        if len(versions) > self.MAX_VERSIONS:
            del versions[0]
        cache[key] = c
        self._forget_fast_paths()
        return c

    def _make_with_statics(self, make, specs):
        """``make()``; when a rule needed as a constant an argument passed as
        data (``np.linalg.norm(x, ord=p)`` with ``p=3.0`` a default, a mode
        string), and that argument is a Python float or str that no level
        differentiates, ``specs`` is updated in place to make it static
        (keyed by its value, like an int: another value compiles again) and
        ``make()`` runs again.  Otherwise the rule's refusal stands."""
        cand = P.StaticCandidates
        cand.depth += 1
        try:
            while True:     # each retry makes one more argument static, or raises
                del cand.wanted[:]
                try:
                    c = make()
                    self._key_objects(specs, cand.arg_guards)
                    return c
                except S2SGradError:
                    names = [n for n in cand.wanted if n in _argument_specs(specs)]
                    if not names or not all(self._make_static(specs, n) for n in names):
                        raise
        finally:
            cand.depth -= 1
            if not cand.depth:
                cand.params.clear()
                cand.arg_guards.clear()
                del cand.wanted[:]

    def _key_objects(self, specs, assumed):
        """After compiling: the specs of objects passed as arguments include
        what lowering assumed about them (``assumed``: name -> {steps:
        token}), learnt for the next calls' keys (:class:`ObjectArg`)."""
        if not assumed:
            return
        root = self
        while root._inner is not None:
            root = root._inner
        learnt = root.__dict__.setdefault("_object_checks", {})
        arg_specs = _argument_specs(specs)
        changed = False
        for name, paths in assumed.items():
            spec = arg_specs.get(name)
            if spec is None or spec[0] != "object":
                continue
            checks = learnt.setdefault(name, {})
            for steps, token in paths.items():
                checks.setdefault(steps, token[0])
            if tuple(checks.items()) != spec[1].checks:
                arg_specs[name] = ("object", ObjectArg(spec[1].obj, checks.items()))
                changed = True
        if changed and "__jvp__" in specs:
            specs["__jvp__"] = ("jvp", (tuple(arg_specs.items()), specs["__jvp__"][1][1]))

    def _make_static(self, specs, name):
        """Make the argument ``name`` static in ``specs`` (see
        :meth:`_make_with_statics`); False when it cannot be."""
        root = self
        while root._inner is not None:
            root = root._inner
        bound = root.__dict__.get("_spec_bound")
        if bound is not None:
            names = [n for n, _ in bound]
            if name not in names or names.index(name) in root._spec_trees:
                return False
            value = bound[names.index(name)][1]
        else:                   # .source before any call: the default
            param = root._sig.parameters.get(name)
            if param is None or param.default is inspect.Parameter.empty or \
                    root._sig_index(name) in set(root.wrt):
                return False
            value = param.default
        arg_specs = _argument_specs(specs)
        if not _may_be_static(value) or arg_specs.get(name, ("",))[0] != "leaf" or \
                not root._static_ok(name, value):
            return False
        root.__dict__.setdefault("_static_names", set()).add(name)
        arg_specs[name] = ("static", StaticArg(value))
        if "__jvp__" in specs:              # jvp's specs hold f's (s2sgrad.higher)
            specs["__jvp__"] = ("jvp", (tuple(arg_specs.items()), specs["__jvp__"][1][1]))
        return True

    def _sig_index(self, name):
        return list(self._sig.parameters).index(name)

    def _clear_hot(self):
        cls = type(self)
        if "_s2s_own" in cls.__dict__ and "__call__" in cls.__dict__:
            del cls.__call__

    def _forget_fast_paths(self):
        self.__dict__.pop("_fast", None)
        self._clear_hot()

    #: How the transformation is named in messages (``grad of 'loss' ...``).
    kind_name = "grad"

    def _what(self, specs=None):
        fn = self.fn
        while isinstance(fn, _Transformed):
            fn = fn.fn
        code = getattr(fn, "__code__", None)
        where = f" ({os.path.basename(code.co_filename)}:{code.co_firstlineno})" if code else ""
        return f"{self.kind_name} of '{getattr(fn, '__name__', fn)}'{where}"

    def _note(self, c, specs):
        """Remember on a compiled function the argument structure it was
        compiled for (``s2sgrad.export`` writes the last one) and how to
        report its later passes (specialisation, code generation) when
        compiling verbosely."""
        c.specs = specs
        c.what = self._what(specs)
        c.verbose = self.verbose
        for part in ("backward", "tangent", "tangent_batched", "backward_batched"):
            sub = getattr(c, part, None)
            if sub is not None:
                sub.what, sub.verbose = c.what, c.verbose

    def _param_leaf_ranges(self, specs):
        if self._inner is not None:
            return self._inner._param_leaf_ranges(specs)
        ranges, start = [], 0
        for name, (kind, td) in specs.items():
            n = td.num_leaves if kind == "tree" else 1
            ranges.append((start, start + n))
            start += n
        return ranges

    def _primal(self, specs):
        if self._inner is not None:
            func = None
            if self._forward_over and isinstance(self._inner, _GradBase):
                func = self._inner.ir_for(specs, forward=True)    # (keeps checkpoints)
            elif (isinstance(self, (_GradBase, VJPFunction)) or self._reverse_over) and \
                    isinstance(self._inner, _GradBase):
                # reverse over a checkpointed gradient: one call whose
                # reverse rule is a checkpointed hvp (s2sgrad.gradcall)
                func = gradcall.composed_ir(self._inner, specs)
            if func is None:
                func = self._inner.ir_for(specs)
        else:
            func = lower_function(self.fn, specs)
        # what lowering assumed about the world outside the arguments: the
        # compiled version is guarded by it (see _cached)
        self._compile_guards = func.info.get("guards") or ()
        verify(func)
        return func

    def ir_for(self, specs):
        """The optimised IR of this transformed function for the argument
        structure ``specs``: one parameter per leaf (as ``_leaves``), results
        flattened with ``info["out_tree"]`` giving the call's output structure."""
        raise S2SGradError(f"a {type(self).__name__} cannot be differentiated again")

    def _default_specs(self):
        if self._inner is not None:
            return self._inner._default_specs()
        self._spec_bound = None             # (_make_static reads the defaults)
        statics = self.__dict__.get("_static_names", ())
        specs = {}
        for p in self._sig.parameters.values():
            if p.default is None:
                specs[p.name] = ("none", None)
            elif p.name in statics and _may_be_static(p.default):
                specs[p.name] = ("static", StaticArg(p.default))
            else:
                specs[p.name] = ("leaf", None)
        return specs

    @property
    def source(self) -> str:
        """The generated Python source that the last call ran (the version
        specialised to its argument shapes and dtypes), or before any call,
        the shape-polymorphic code for plain array arguments."""
        c = self._last_run or self._last or self._compiled(self._default_specs())
        return c.source

    @property
    def generic_source(self) -> str:
        """The shape-polymorphic source (for the last call's argument
        structure): the code that runs for shapes without a specialisation."""
        c = self._last or self._compiled(self._default_specs())
        return c.source

    @property
    def ir(self):
        """The optimised IR the source was generated from (printable)."""
        c = self._last_run or self._last or self._compiled(self._default_specs())
        return c.func

    def _check_output_leaf(self, out_leaf, func):
        if isinstance(out_leaf, Const) and not isinstance(out_leaf.value, numbers.Number):
            raise OutputError(f"'{self.fn.__name__}' returns {out_leaf.value!r}; "
                              f"grad needs a scalar output", filename=func.filename)


class _GradBase(_Transformed):
    _fast_bind = True
    keep_value = False
    composable = True

    def _compile(self, specs, hoist=True, remat=None):
        # a max subtracted only for stability has derivative zero: detached;
        # an inner grad() without checkpoint= of its own takes this one's
        # (s2sgrad.gradcall) unless this gradient is differentiated again
        with gradcall.outer_schedule(self.checkpoint if (hoist if remat is None else remat)
                                     else None):
            primal = detach_shifts(self._primal(specs))
        ranges = self._param_leaf_ranges(specs)
        wrt_leaves = [i for w in self.wrt for i in range(*ranges[w])]
        out_tree = primal.info["out_tree"]
        if self.has_aux:
            if out_tree.kind not in ("tuple", "list") or len(out_tree.children) != 2 \
                    or out_tree.children[0].kind != "leaf":
                raise OutputError(f"'{self.fn.__name__}' was declared has_aux=True and must "
                                  f"return a pair (loss, aux)", filename=primal.filename)
        elif out_tree.kind != "leaf":
            raise OutputError(f"'{self.fn.__name__}' returns a {out_tree.kind}; grad needs a "
                              f"scalar output (use has_aux=True for (loss, aux), or vjp for "
                              f"non-scalar outputs)", filename=primal.filename)
        self._check_output_leaf(primal.results[0], primal)
        keep = self.keep_value or self.has_aux
        # (a gradient to be differentiated again in reverse mode is not
        # checkpointed: its loops are reversed as ordinary loops, which the
        # next pass can reverse; forward mode differentiates the checkpoint
        # drivers -- s2sgrad.forward -- so for it they stay: remat=True)
        remat = hoist if remat is None else remat
        g = grad_func(primal, wrt_leaves, [0], keep_values=keep,
                      name=f"{primal.name}_grad" if not keep else
                      f"{primal.name}_value_and_grad", hoist=hoist,
                      checkpoint=self.checkpoint if remat else None, remat=remat)
        g.info["tuple_result"] = keep or len(wrt_leaves) != 1
        g = optimize(verify(g))
        verify(g)
        c = _Lazy(g, self._globals())
        c.wrt_leaves = wrt_leaves
        c.out_tree = out_tree
        c.ranges = ranges
        c.simple = (not keep and len(wrt_leaves) == 1 and self._single
                    and specs[list(specs)[self.wrt[0]]][0] != "tree")
        return c

    def ir_for(self, specs, forward=False):
        # the version to be differentiated again keeps every step's
        # accumulation in the loop (no opaque stacked products); for forward
        # mode (``forward``) its checkpointed loops stay checkpointed
        key = tuple(specs.items()) + (("__forward__", forward),)
        diff_cache = self.__dict__.setdefault("_diff_cache", {})
        c = self._cached(diff_cache, key,
                         lambda: self._compile(specs, hoist=False, remat=forward), specs)
        f = c.func
        nvals = len(f.results) - len(c.wrt_leaves)
        values, grads = list(f.results[:nvals]), list(f.results[nvals:])
        body = f.body
        if any(isinstance(g, Var) for g in grads):
            # each gradient in its argument's kind, as _fix_grad gives it at
            # the top level (the real part for a real argument reached through
            # complex values; the argument's dtype): grad_like, as a gradient
            # taken inside a function gets (lower.transforms._real_grads)
            from .ir import Block
            body = Block(list(f.body.eqns), list(f.body.params), list(f.body.results))
            em = P.Emitter(body, derivative=False)
            grads = [em.grad_like(g, f.params[leaf]) if isinstance(g, Var) else g
                     for g, leaf in zip(grads, c.wrt_leaves)]
        names = list(specs)
        trees = [specs[names[w]][1] if specs[names[w]][0] == "tree" else pytree.LEAF
                 for w in self.wrt]
        grad_tree = trees[0] if self._single else pytree.TreeDef("tuple", tuple(trees))
        results, tree = grads, grad_tree
        if self.has_aux:
            aux_tree = c.out_tree.children[1]
            if self.keep_value:
                results = values + grads
                tree = pytree.TreeDef("tuple", (c.out_tree, grad_tree))
            else:
                results = grads + values[1:]
                tree = pytree.TreeDef("tuple", (grad_tree, aux_tree))
        elif self.keep_value:
            results = values + grads
            tree = pytree.TreeDef("tuple", (c.out_tree, grad_tree))
        info = {k: v for k, v in f.info.items() if k not in ("globals", "tuple_result")}
        info["out_tree"] = tree
        info["guards"] = c.guard_items
        return Func(f.name, list(f.params), body, results, f.filename, info)

    def __call__(self, *args, **kwargs):
        # (while a signature is hot, calls go to its runner instead: _set_hot)
        try:
            return self._call_warm(args, kwargs)
        except S2SGradError as exc:      # a refusal: no compiler frames above it
            raise _refusal(exc) from None
        except Exception as exc:         # raised in generated code: say where
            explain(exc)
            raise

    def _call_warm(self, args, kwargs):
        """A signature called before, but not last: found by its key."""
        fast = self.__dict__.get("_fast")
        if fast is not None:
            try:
                hit = fast.get(_call_key(args, kwargs))
            except _NotFast:
                hit = None
            if hit is not None:
                res = hit.probe(*args, **(kwargs or {}))
                if res is not _MISS:
                    self._set_hot(hit)
                    self._last_run = hit.sc
                    return res
        return self._call(args, kwargs or {})

    def _set_hot(self, entry):
        """Make ``entry``'s runner what calling this object runs: the
        ``__call__`` of a class of this instance's own (made once, named as
        its base), so that a call skips this class's generic ``__call__``,
        its argument packing and a lookup."""
        cls = type(self)
        if "_s2s_own" not in cls.__dict__:
            cls = type(cls.__name__, (cls,), {"_s2s_own": True, "__module__": cls.__module__,
                                              "__qualname__": cls.__qualname__,
                                              "__doc__": cls.__doc__,
                                              "__new__": _new_of_base})
            self.__class__ = cls
        if cls.__dict__.get("__call__") is not entry.hot:
            cls.__call__ = entry.hot

    def __copy__(self):
        # a copy shares the compiled code but not this object's own class
        # and runners (see _set_hot); like a function, a transformation is
        # copied "deeply" the same way (its caches hold code, not data)
        base = transform_type(self)
        new = base.__new__(base)
        new.__dict__.update({k: v for k, v in self.__dict__.items() if k != "_fast"})
        return new

    def __deepcopy__(self, memo):
        return self.__copy__()

    def _call(self, args, kwargs):
        """Every call that the fast paths do not take: bind, check, compile or
        find the compiled code, run it, fix the results' kinds; then register
        the call's signature for the fast paths when the same call can skip
        all that."""
        self._clear_hot()
        bound = self._bind(args, kwargs)
        self._validate(bound)
        specs = self._specs(bound)
        c = self._compiled(specs)
        leaves = self._leaves(bound, specs)
        sc = self._last_run = _pick(c, leaves, self._globals(), grads=True)
        res = _run(sc, leaves)
        if c.simple:                  # one plain argument, gradient only
            out = _fix_grad(res, leaves[c.wrt_leaves[0]], leaves)
        else:
            out = self._finish(c, res, leaves, bound, specs, sc)
        if self._inner is None:
            self._register_fast(args, kwargs, leaves, c, sc, specs, bound)
        return out

    # At most this many signatures on the fast path (a changing int argument
    # or ever new shapes do not grow it without bound).
    MAX_FAST = 64

    def _register_fast(self, args, kwargs, leaves, c, sc, specs, bound):
        """Give the signature of this call a runner (:class:`_FastCall`) and
        make it the hot one: later calls with the same signature skip
        binding, checks and lookups."""
        fast = self.__dict__.get("_fast")
        if fast is None:
            fast = self._fast = {}
        if len(fast) >= self.MAX_FAST or "spec" not in c.__dict__ or \
                c.spec.get(_spec_key(leaves)) is not sc:
            return
        try:
            key = _call_key(args, kwargs)
        except _NotFast:
            return
        entry = fast.get(key)
        if entry is None:
            try:
                entry = _FastCall.make(self, c, sc, leaves, specs, bound)
            except _NotFast:          # (a structure the runner cannot rebuild)
                entry = None
            if entry is None:
                return
            fast[key] = entry
        self._set_hot(entry)

    def _finish(self, c, res, leaves, bound, specs, sc):
        """Assemble (value, gradient) from the generated function's results;
        ``specs`` None: every argument a plain array (no containers)."""
        if not isinstance(res, tuple) or not c.func.info.get("tuple_result"):
            res = (res,)
        nvals = len(c.func.results) - len(c.wrt_leaves)
        values, grads = res[:nvals], res[nvals:]
        if not sc.__dict__.get("direct"):
            values, grads = _computed(values, grads, [leaves[i] for i in c.wrt_leaves])
            ids = {id(a) for a in leaves}
            grads = _unalias([_fix_grad(g, leaves[i], leaves, ids)
                              for g, i in zip(grads, c.wrt_leaves)],
                             values if self.keep_value or self.has_aux else ())
        out_grads = grads if specs is None else _regroup(grads, self.wrt, bound, specs)
        gradient = out_grads[0] if self._single else tuple(out_grads)
        if not self.keep_value and not self.has_aux:
            return gradient
        value = pytree.unflatten(c.out_tree, list(values))
        if self.has_aux:
            loss, aux = value
            if self.keep_value:
                return (loss, aux), gradient
            return gradient, aux
        return value, gradient


class GradFunction(_GradBase):
    """``grad(f)``: calling it returns the gradient of ``f`` at the arguments."""
    keep_value = False
    kind_name = "grad"


class ValueAndGradFunction(_GradBase):
    """``value_and_grad(f)``: calling it returns ``(f(...), gradient)``."""
    keep_value = True
    kind_name = "value_and_grad"


def _decorator(cls, fun, wrt, has_aux, checkpoint=None, verbose=False):
    schedule = as_schedule(checkpoint)

    def make(f):
        t = cls(f, wrt=wrt, has_aux=has_aux, verbose=verbose)
        t.checkpoint = schedule
        return t
    if fun is None:
        return make
    return make(fun)


def grad(fun=None, *, wrt=0, has_aux=False, checkpoint=None, verbose=False):
    """Compile the gradient of a scalar function of NumPy arrays.

    ``grad(f)`` (or ``@grad``) differentiates with respect to the first
    argument; ``wrt`` takes a position, a parameter name, or a tuple of them
    (a tuple gives a tuple of gradients).  Each gradient has its argument's
    shape, dtype and container structure.  With ``has_aux=True`` ``f``
    returns ``(loss, aux)`` and the call returns ``(gradient, aux)``.

    ``checkpoint`` trades computation for memory in loops (see the README's
    "Memory" section): ``None`` stores every iteration's values (the
    default), ``"sqrt"`` about ``sqrt(T)`` loop states and one extra forward
    pass, ``s2sgrad.Binomial(snapshots=s)`` at most ``s`` states and the
    fewest recomputations for them, ``s2sgrad.Budget(bytes=b)`` a schedule
    chosen from a memory budget.  Loops marked in the source
    (``s2sgrad.checkpointed``) and ``@s2sgrad.checkpoint`` helpers are
    checkpointed whatever this option says.

    The result has ``.source`` (the generated Python), ``.ir`` (the SSA
    listing) and ``.__wrapped__`` (``f`` itself).  ``verbose=True`` (or the
    environment variable ``S2SGRAD_VERBOSE=1``) prints each compiler pass's
    time and resulting IR to stderr while compiling.
    """
    return _decorator(GradFunction, fun, wrt, has_aux, checkpoint, verbose)


def value_and_grad(fun=None, *, wrt=0, has_aux=False, checkpoint=None, verbose=False):
    """Like :func:`grad`, but the call returns ``(value, gradient)``; with
    ``has_aux=True`` it returns ``((value, aux), gradient)``."""
    return _decorator(ValueAndGradFunction, fun, wrt, has_aux, checkpoint, verbose)


# ---------------------------------------------------------------- vjp


class VJPFunction(_Transformed):
    _fast_bind = True
    kind_name = "vjp"
    """``vjp(f)``: calling it returns ``(out, pullback)``; ``pullback(ct)``
    returns the cotangent of the ``wrt`` argument(s)."""

    def _compile(self, specs):
        primal = self._primal(specs)
        ranges = self._param_leaf_ranges(specs)
        wrt_leaves = [i for w in self.wrt for i in range(*ranges[w])]
        out_tree, aux_tree = _split_aux(self, primal)
        nout = out_tree.num_leaves           # the outputs a cotangent is given for
        nvalues = len(primal.results)        # ... then the aux outputs, if any
        g = grad_func(primal, wrt_leaves, list(range(nout)), keep_values=True,
                      cotangent_params=True, name=f"{primal.name}_vjp",
                      checkpoint=self.checkpoint, remat=True)
        g = optimize(verify(g))
        fwd, bwd = split_vjp(g, nprimal=len(primal.params), nout=nout, nvalues=nvalues,
                             snapshot=True)
        cf = generate(optimize(verify(fwd)), self._globals())
        cb = generate(optimize(verify(bwd)), self._globals(), namer=cf.namer)
        cf.backward = cb
        cf.source = cf.source + "\n\n" + cb.source
        cf.wrt_leaves = wrt_leaves
        cf.out_tree = out_tree
        cf.aux_tree = aux_tree
        cf.nout = nout
        cf.nvalues = nvalues
        return cf

    @user_errors
    def __call__(self, *args, **kwargs):
        bound = self._bind(args, kwargs)
        self._validate(bound)
        specs = self._specs(bound)
        c = self._compiled(specs)
        leaves = self._leaves(bound, specs)
        globals_ = self._globals()
        sf = _pick(c, leaves, globals_)          # forward half, shape-specialised
        res = _run(sf, leaves)
        # the outputs (and aux) computed in one dask.compute; the residuals stay lazy
        values, residuals = arrays.compute(list(res[:c.nvalues])), res[c.nvalues:]
        outs = values[:c.nout]
        out_value = pytree.unflatten(c.out_tree, outs)
        single, wrt, fn_name = self._single, self.wrt, self.fn.__name__
        self._last_run = _Pair(sf, c.backward)

        @user_errors
        def pullback(cotangent):
            cts, td = pytree.flatten(cotangent)
            if td != c.out_tree:
                # an output list built at run time (appended to in a loop) is one
                # leaf of the output tree: its cotangent is a list of that length
                cts = _leaves_up_to(c.out_tree, cotangent)
                if cts is None or any(not isinstance(o, list) or not isinstance(ct, list) or
                                      len(o) != len(ct) for ct, o in zip(cts, outs)
                                      if isinstance(o, list) or isinstance(ct, (list, tuple))):
                    raise ValueError(f"pullback of '{fn_name}' expects a cotangent with the "
                                     f"structure of its output")
            cts = [[_one_cotangent(a, b) for a, b in zip(ct, o)] if isinstance(o, list)
                   else _one_cotangent(ct, o) for ct, o in zip(cts, outs)]
            # backward half, specialised to the residuals' and cotangents' shapes
            # (its stacks, if any, make it polymorphic: lists have no signature)
            sb = _pick(c.backward, list(residuals) + cts, globals_)
            self._last_run = _Pair(sf, sb)
            gs = _run(sb, list(residuals) + cts)
            if not isinstance(gs, tuple):
                gs = (gs,)
            _, gs = _computed((), gs, [leaves[i] for i in c.wrt_leaves])
            # (a gradient may be a residual that is also an output or aux value,
            # or the cotangent itself: the pullback of x or x.reshape(...))
            gs = _unalias([_fix_grad(g, leaves[i], leaves) for g, i in zip(gs, c.wrt_leaves)],
                          [v for v in values if not isinstance(v, list)] +
                          [v for v in cts if not isinstance(v, list)])
            out = _regroup(gs, wrt, bound, specs)
            return out[0] if single else tuple(out)

        if c.aux_tree is not None:
            aux = pytree.unflatten(c.aux_tree, values[c.nout:])
            return out_value, pullback, aux
        return out_value, pullback


def _split_aux(tf, primal):
    """(output tree, aux tree or None) of a function transformed with
    ``has_aux``: it must return a pair ``(out, aux)``."""
    out_tree = primal.info["out_tree"]
    if not tf.has_aux:
        return out_tree, None
    if out_tree.kind not in ("tuple", "list") or len(out_tree.children) != 2:
        raise OutputError(f"'{tf.fn.__name__}' was declared has_aux=True and must return a "
                          f"pair (out, aux)", filename=primal.filename)
    return out_tree.children[0], out_tree.children[1]


class _Pair:
    """The two halves of a vjp that ran, for ``.source`` / ``.ir``."""

    def __init__(self, fwd, bwd):
        self.source = fwd.source + "\n\n" + bwd.source
        self.func = fwd.func


def _leaves_up_to(td, x):
    """The subtrees of ``x`` at the leaves of ``td`` (None if ``x`` does not
    have ``td``'s containers)."""
    if td.kind == "leaf":
        return [x]
    if td.kind == "dict":
        if not isinstance(x, dict) or tuple(x) != tuple(td.keys):
            return None
        kids = [x[k] for k in td.keys]
    elif td.kind in ("list", "tuple", "namedtuple") and isinstance(x, (list, tuple)) and \
            len(x) == len(td.children):
        kids = list(x)
    else:
        return None
    out = []
    for c, k in zip(td.children, kids):
        sub = _leaves_up_to(c, k)
        if sub is None:
            return None
        out += sub
    return out


def _one_cotangent(ct, o):
    return _as_cotangent(ct, o) if np.shape(ct) == np.shape(o) else _bad_ct(ct, o)


def _as_cotangent(ct, o):
    """A cotangent with the output's dtype; a dask/CuPy cotangent keeps its kind."""
    if _is_duck(ct):
        dtype = np.result_type(o)
        return ct if ct.dtype == dtype else ct.astype(dtype)
    return np.asarray(ct, dtype=np.result_type(o))


def _bad_ct(ct, o):
    raise ValueError(f"cotangent has shape {np.shape(ct)} but the output has shape "
                     f"{np.shape(o)}")


def vjp(fun=None, *, wrt=0, has_aux=False, checkpoint=None, verbose=False):
    """Compile a vector-Jacobian product.  ``vjp(f, wrt=0)(*args)`` returns
    ``(out, pullback)``; ``pullback(ct)`` (``ct`` shaped like ``out``) returns
    ``ct^T J`` with the shape of the ``wrt`` argument(s).  The backward sweep
    reuses the forward values computed by the first call (``checkpoint`` as
    for :func:`grad`: the forward call keeps only the loops' snapshots).  With
    ``has_aux=True`` ``f`` returns ``(out, aux)`` and the call returns
    ``(out, pullback, aux)`` (``aux`` is not differentiated)."""
    return _decorator(VJPFunction, fun, wrt, has_aux, checkpoint, verbose)
