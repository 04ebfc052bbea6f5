"""The primitive table and the emitter that rules use to build IR.

One :class:`Primitive` per NumPy operation holds everything about it: the
NumPy callable it stands for (identity is how user code is resolved), its
call signature (which operands are values and which are options), its
reverse rule (a vector-Jacobian product) and forward rule (a
Jacobian-vector product), a shape rule, and how it prints as Python.

Rules never compute numbers: they receive an :class:`Emitter` and build
their result from other primitives (``em.multiply(g, em.cos(x))``), so derivative
code is IR too -- it is optimised, printed, and can be differentiated again.

Rule signatures::

    vjp(em, g, out, *args, **kwargs) -> [cotangent or None for each arg]
    jvp(em, dots, out, *args, **kwargs) -> tangent of out (or a tuple for
                                              multi-output primitives)

``g``/``out`` are tuples for primitives with several outputs.  ``dots`` has
one entry per positional arg, ``None`` meaning a zero tangent.  A ``None``
cotangent means "zero": the argument does not influence the output
(integer/boolean operands, indices).  Keyword operands (``axis``,
``keepdims``, ...) are never differentiated.
"""
from __future__ import annotations

import functools
import importlib
import inspect
import sys
import types
from typing import Any, Callable

import numpy as np

from ..errors import S2SGradError
from ..ir import Block, Const, Eqn, Loc, Var, is_const

# ---------------------------------------------------------------- shapes
#
# A tiny symbolic shape analysis: every Var carries a ``shape`` token; two
# Vars with the same (non-None) token are known to have equal shapes.  The
# only use is to skip ``unbroadcast``/``broadcast_like`` where shapes are
# known equal, so it only needs to be sound, not complete.


class ShapeToken:
    __slots__ = ("note",)

    def __init__(self, note=""):
        self.note = note

    def __repr__(self):
        return f"<shape {self.note or id(self)}>"


SCALAR = ShapeToken("scalar")  # 0-d arrays and Python scalars


def shape_of(a):
    if isinstance(a, Const):
        v = a.value
        if isinstance(v, (int, float, complex, bool, np.number, np.bool_)):
            return SCALAR
        return None
    return a.shape


def same_shape(a, b) -> bool:
    s = shape_of(a)
    return s is not None and s is shape_of(b)


def elementwise_shape(args) -> Any:
    """Shape token of an elementwise result: the common token, scalars aside."""
    tokens = [shape_of(a) for a in args]
    if any(t is None for t in tokens):
        return ShapeToken()
    big = {t for t in tokens if t is not SCALAR}
    if not big:
        return SCALAR
    if len(big) == 1:
        return big.pop()
    return ShapeToken()   # unknown, but shared by everything computed elementwise from it


# ---------------------------------------------------------------- the table


class Primitive:
    """One operation: its NumPy kernel, signature, rules and printer."""

    # lower_call(lowerer, args, kwargs, node) -> value: lowers a call of the
    # object itself instead of the default binding (user rules, s2sgrad.custom:
    # a function with a custom rule inlines its forward pass and marks the
    # result; a callable given a rule by defrule binds its own signature).
    lower_call = None
    # callee: the user's object a primitive registered by ``defrule`` calls;
    # code generation binds it under the primitive's ``pyname``.
    callee = None
    # no_derivative: for an opaque primitive, why a differentiated value may not
    # flow into it and what to do instead (the refusal's message; default: a
    # generic one naming the primitive)
    no_derivative = None

    def __init__(self, name, impl, *, sig, vjp=None, jvp=None, nondiff=False,
                 pyname=None, printer=None, shape=None, nouts=1, linear=False,
                 simplify=None, doc="", eqn_rule=False, opaque=False, inline=False,
                 seq_arg=False, expand=None, canonicalize=None, out_fields=None,
                 shape_safe=False, alloc=False, out_kind="tuple", data_args=None,
                 out_type=None):
        self.name = name
        # out_type(kwargs) -> the namedtuple class NumPy returns the results in
        # for these options (SVDResult, EighResult, ...; None: a plain tuple),
        # so a result returned to the user is NumPy's; called when lowering.
        self.out_type = out_type
        # data_args(i) -> bool: positional operand i is data (its derivative is
        # not taken); a differentiated value passed there is refused (as a
        # differentiated keyword option is) instead of getting derivative 0.
        self.data_args = data_args
        # alloc: every call makes a new array (or list) -- a value with
        # identity, never merged with another by CSE (see s2sgrad.alias).
        self.alloc = alloc
        # out_kind: the container NumPy returns a multi-output primitive's
        # results in ("tuple", or "list" for np.split and its kin), so the
        # user's value is NumPy's (``pieces.append(...)`` works, pytrees match)
        self.out_kind = out_kind
        # shape_safe: the result's shape and dtype depend only on the operands'
        # shapes and dtypes and on constant options (never on operand values),
        # so shape specialisation may evaluate it on examples
        # (specialize._SAFE lists the built-in ones by name).
        self.shape_safe = shape_safe
        # expand: a composite.  Lowering calls expand(em, *args, **kwargs) with
        # the bound operands instead of emitting an equation, so the call
        # becomes the primitives the expansion emits (their rules give the
        # derivatives); such a primitive never appears in the IR.
        self.expand = expand
        # out_fields: the names of a multi-output primitive's results, as NumPy's
        # named tuple has them (np.linalg.svd(a).S, eigh(a).eigenvectors)
        self.out_fields = out_fields
        # canonicalize(args, kwargs) -> (args, kwargs): rewrites a call's
        # operands (lowering values, before they become IR atoms) into the one
        # form the rules read (np.einsum's operand/sublist form becomes its
        # subscripts form; scipy.linalg.cho_solve's (c, lower) pair, operands;
        # a differentiated keyword operand, np.average's weights=, becomes
        # positional, see signatures.call_adapter).  It may instead return
        # (other_primitive, args, kwargs) when another primitive serves that
        # form of the call (np.where(c) is np.nonzero(c)).
        self.canonicalize = canonicalize
        # opaque: no derivative rules; a differentiated value flowing in is an error.
        self.opaque = opaque
        # inline: printed inside its single consumer rather than as a statement.
        self.inline = inline
        # seq_arg: the first argument is a list/tuple of arrays (np.stack) whose
        # elements become the positional operands of the equation.
        self.seq_arg = seq_arg
        # eqn_rule: rules are called as rule(em, eqn, g_or_dots) because they
        # need the equation's static params (e.g. an index template); such
        # primitives are called at run time as impl(*args, **params).
        self.eqn_rule = eqn_rule
        self.impl = impl
        self._sig = sig                 # parsed when first needed (signature)
        self.vjp = vjp
        self.jvp = jvp
        self.nondiff = nondiff
        self.pyname = pyname or f"np.{name}"
        self.printer = printer
        self.shape = shape
        self.nouts = nouts
        self.linear = linear
        self.simplify = simplify
        self.doc = doc

    def __repr__(self):
        return f"<primitive {self.name}>"

    @property
    def differentiable(self):
        return not self.nondiff and not self.opaque

    @property
    def signature(self) -> inspect.Signature:
        """The operands' signature (parsed on first use: five hundred
        primitives' signatures were a fifth of the import time)."""
        sig = self.__dict__.get("_signature")
        if sig is None:
            sig = self._signature = _parse_sig(self._sig)
        return sig

    def result_type(self, kwargs):
        """The namedtuple class of this call's results (None: a plain tuple)."""
        return None if self.out_type is None else self.out_type(kwargs)

    def bind(self, args, kwargs):
        """Split a call's operands into (positional values, keyword options)."""
        if not kwargs:
            fast = self.__dict__.get("_positional")
            if fast is None:
                fast = self._positional = _positional_range(self.signature)
            if fast[0] <= len(args) <= fast[1]:
                # only positional-only operands given, every later parameter
                # optional: what signature.bind would sort out, in order
                return tuple(args), {}
        if kwargs:
            args, kwargs = self._keywords_as_positions(args, kwargs)
        ba = self.signature.bind(*args, **kwargs)
        pos, kw = [], {}
        for name, value in ba.arguments.items():
            p = self.signature.parameters[name]
            if p.kind == p.VAR_POSITIONAL:
                pos.extend(value)
            elif p.kind == p.POSITIONAL_ONLY:
                pos.append(value)
            elif p.kind == p.VAR_KEYWORD:
                kw.update(value)
            else:
                kw[name] = value
        return tuple(pos), kw

    def _keywords_as_positions(self, args, kwargs):
        """``np.repeat(x, repeats=2)``: an operand the rule table takes by
        position, given by keyword where the NumPy function accepts that
        (its own signature says so), is moved to its position -- when every
        position before it is filled."""
        ours = [q for q in self.signature.parameters.values() if q.kind == q.POSITIONAL_ONLY]
        if not any(q.name in kwargs for q in ours):
            return args, kwargs
        accepts = _keyword_names(self.impl)
        args, kwargs = list(args), dict(kwargs)
        for q in ours[len(args):]:
            if q.name not in kwargs or q.name not in accepts:
                break
            args.append(kwargs.pop(q.name))
        return args, kwargs

    def num_outs(self, args, kwargs):
        return self.nouts(args, kwargs) if callable(self.nouts) else self.nouts


def signature_of(fn):
    """``inspect.signature(fn)``, or for a NumPy function written in C whose
    signature Python cannot read (older NumPy: ``np.bincount`` on NumPy 2.2)
    the one its docstring starts with (``bincount(x, /, weights=None,
    minlength=0)``).  Raises ValueError when neither is there."""
    try:
        return inspect.signature(fn)
    except ValueError:
        pass
    name = getattr(fn, "__name__", None)
    for line in (getattr(fn, "__doc__", None) or "").splitlines():
        line = line.strip()
        if not line:
            continue
        if name and line.startswith(name + "(") and line.endswith(")"):
            try:
                return _parse_sig(line[len(name) + 1:-1])
            except SyntaxError:
                break
        break
    raise ValueError(f"no signature found for {fn!r}")


@functools.lru_cache(maxsize=None)
def _keyword_names_cached(impl):
    try:
        ps = signature_of(impl).parameters.values()
    except (TypeError, ValueError):
        return frozenset()
    return frozenset(q.name for q in ps if q.kind in (q.POSITIONAL_OR_KEYWORD, q.KEYWORD_ONLY))


def _keyword_names(impl):
    """The parameters ``impl`` (a NumPy/SciPy function) accepts by keyword."""
    try:
        return _keyword_names_cached(impl)
    except TypeError:                      # unhashable
        return frozenset()


def _positional_range(sig) -> tuple:
    """(fewest, most) positional operands a call may pass with no keywords
    such that ``bind`` returns them as they are: they fill positional-only
    parameters (and a ``*args`` right after them), and every other parameter
    has a default.  (1, 0): never."""
    params = list(sig.parameters.values())
    k = 0
    while k < len(params) and params[k].kind == params[k].POSITIONAL_ONLY:
        k += 1
    most = k
    if k < len(params) and params[k].kind == params[k].VAR_POSITIONAL:
        most = 1 << 30
        k += 1
    for q in params[k:]:
        if q.default is q.empty and q.kind not in (q.VAR_POSITIONAL, q.VAR_KEYWORD):
            return (1, 0)
    fewest = sum(1 for q in params[:most if most < (1 << 30) else k]
                 if q.kind == q.POSITIONAL_ONLY and q.default is q.empty)
    return (fewest, most)


def _parse_sig(sig):
    if isinstance(sig, inspect.Signature):
        return sig
    ns = {}
    exec(f"def _sig({sig}): pass", {}, ns)
    return inspect.signature(ns["_sig"])


REGISTRY: dict[str, Primitive] = {}
_BY_OBJECT: dict[int, tuple[Any, Primitive]] = {}
# method name -> (primitive, adapter(args, kwargs) -> (args, kwargs) or None)
METHODS: dict[str, tuple[Primitive, Callable | None]] = {}
# attribute name -> primitive taking the object as its only argument
ATTRIBUTES: dict[str, Primitive] = {}


@functools.lru_cache(maxsize=None)
def _result_class(fn_name, **kw):
    """The namedtuple class NumPy's ``fn_name`` returns (np.linalg.svd's
    SVDResult, ...), read off a call on a 1x1 example once (NumPy keeps these
    classes in private modules)."""
    obj = np
    for part in fn_name.split("."):
        obj = getattr(obj, part)
    out = obj(np.ones((1, 1)), **kw)
    return type(out) if hasattr(out, "_fields") else None


def numpy_result(fn_name, refuse=None):
    """An ``out_type`` for a primitive: NumPy's namedtuple class of ``fn_name``
    (``refuse(kwargs)`` true: a plain tuple for those options, qr's 'raw')."""
    def out_type(kwargs):
        if refuse is not None and refuse(kwargs):
            return None
        return _result_class(fn_name)
    return out_type


def defprim(name, impl=None, *, sig, vjp=None, jvp=None, nondiff=False, aliases=(),
            **kw) -> Primitive:
    """Register a primitive.  ``impl`` (and ``aliases``) are the Python objects
    that resolve to it in user code.  Registering a name twice is an error."""
    if name in REGISTRY:
        raise ValueError(f"primitive {name!r} registered twice")
    if not nondiff and not kw.get("opaque") and kw.get("expand") is None and \
            (vjp is None or jvp is None):
        raise ValueError(f"differentiable primitive {name!r} needs both vjp and jvp rules")
    if vjp is not None and jvp is not None and not kw.get("eqn_rule") and \
            _has_dtype_option(sig):
        vjp, jvp = _dtype_zero(vjp, "vjp"), _dtype_zero(jvp, "jvp")
    p = Primitive(name, impl, sig=sig, vjp=vjp, jvp=jvp, nondiff=nondiff, **kw)
    REGISTRY[name] = p
    for obj in ((impl,) if impl is not None else ()) + tuple(aliases):
        register_object(obj, p)
    return p


def _has_dtype_option(sig):
    return "dtype" in _parse_sig(sig).parameters


def _int_dtype(dtype):
    """True where a constant ``dtype=`` option makes the result integers or
    bools (piecewise constant: no derivative); an error for object/string
    dtypes, which hold the values themselves; False otherwise (a float
    type, None, or chosen at run time: the rule's own business)."""
    if not isinstance(dtype, Const) or dtype.value is None:
        return False
    try:
        dt = np.dtype(dtype.value)
    except TypeError:
        return False
    if dt.kind in "OSUVMm":
        raise S2SGradError(f"a differentiated value reduced or converted to dtype {dt} (an "
                           f"object, string, bytes, void or datetime array) has no derivative "
                           f"s2sgrad follows; use a float dtype")
    return not np.issubdtype(dt, np.inexact)


def _dtype_zero(rule, kind):
    """``rule``, except that a result an integer/bool ``dtype=`` option made
    (``np.sum(x, dtype=int)``, ``np.cumsum(x, dtype=int)``: NumPy casts the
    operand first) has derivative zero: every primitive with a ``dtype``
    option, so no rule has to remember it."""
    @functools.wraps(rule)
    def wrapped(em, g, out, *args, **kwargs):
        if _int_dtype(kwargs.get("dtype")):
            return [None] * len(args) if kind == "vjp" else None
        return rule(em, g, out, *args, **kwargs)
    return wrapped


def register_object(obj, prim, replace=False):
    """``obj`` resolves to ``prim`` in user code (``replace``: even if it
    resolved to another primitive: ``s2sgrad.defrule(..., override=True)``)."""
    key = id(obj)
    if key in _BY_OBJECT and _BY_OBJECT[key][1] is not prim and not replace:
        raise ValueError(f"{obj!r} already resolves to {_BY_OBJECT[key][1].name}")
    _BY_OBJECT[key] = (obj, prim)


def unregister_object(obj):
    """``obj`` resolves to nothing again (``s2sgrad.custom.undefrule``)."""
    hit = _BY_OBJECT.get(id(obj))
    if hit is not None and hit[0] is obj:
        del _BY_OBJECT[id(obj)]


def defcomposite(name, impl=None, *, sig, expand, aliases=(), methods=(), doc="") -> Primitive:
    """Register a composite: a public callable whose call lowers to other
    primitives, built by ``expand(em, *args, **kwargs)`` (see
    :attr:`Primitive.expand`).  ``methods``: ``(instance, method name)``
    pairs that resolve to it too (``scipy.stats.norm.logpdf``)."""
    p = defprim(name, impl, sig=sig, expand=expand, aliases=aliases, doc=doc)
    for inst, mname in methods:
        register_method(inst, mname, p)
    return p


# (id(instance), method name) -> (instance, primitive): bound methods are new
# objects at every attribute access, so they resolve by what they are bound to.
_BY_METHOD: dict[tuple[int, str], tuple[Any, Primitive]] = {}


def register_method(instance, method_name, prim):
    """``instance.method_name`` (a bound method) resolves to ``prim``."""
    key = (id(instance), method_name)
    if key in _BY_METHOD and _BY_METHOD[key][1] is not prim:
        raise ValueError(f"{instance!r}.{method_name} already resolves to "
                         f"{_BY_METHOD[key][1].name}")
    if not callable(getattr(instance, method_name, None)):
        raise ValueError(f"{instance!r} has no method {method_name!r}")
    _BY_METHOD[key] = (instance, prim)


def registered_methods():
    """``[(instance, method name, primitive)]`` in registration order."""
    return [(inst, name, p) for (_, name), (inst, p) in _BY_METHOD.items()]


def registered_objects():
    """``[(object, primitive)]`` in registration order."""
    return list(_BY_OBJECT.values())


# Rules for optional libraries: (the library module, the rule module).  A rule
# module is imported only once its library has been imported by the user's
# program (so ``import s2sgrad`` never imports SciPy), the first time a
# callable does not resolve (see :func:`lookup_object`).
OPTIONAL_RULES = (
    ("scipy.linalg", "s2sgrad.primitives.scipy_linalg"),
    ("scipy.special", "s2sgrad.primitives.scipy_special"),
    ("scipy.special", "s2sgrad.primitives.scipy_special_extra"),
    ("scipy.special", "s2sgrad.primitives.scipy_special_more"),
    ("scipy.stats", "s2sgrad.primitives.scipy_stats"),
    ("scipy.signal", "s2sgrad.primitives.scipy_signal"),
    ("scipy.integrate", "s2sgrad.primitives.scipy_integrate"),
    ("scipy.fft", "s2sgrad.primitives.scipy_fft"),
    ("scipy.ndimage", "s2sgrad.primitives.scipy_ndimage"),
)
_LOADED_OPTIONAL: set = set()


def load_optional_rules(force=False) -> bool:
    """Import the rule modules of the optional libraries the program has
    imported (every one with ``force``, which imports the libraries).
    Returns whether a rule module was newly loaded."""
    new = False
    for lib, rules in OPTIONAL_RULES:
        if rules in _LOADED_OPTIONAL or not (force or lib in sys.modules):
            continue
        _LOADED_OPTIONAL.add(rules)
        importlib.import_module(rules)
        new = True
    return new


class RuleCarrier:
    """Base of objects that carry their own table entry in ``.primitive``
    (functions decorated with ``s2sgrad.custom_vjp``/``custom_jvp``): found by
    :func:`lookup_object` like registered objects, without a global entry
    (functions with custom rules may be defined in a loop or a closure)."""

    primitive: Primitive


# Top-level names, besides ``np``, that printed primitives use (a rule of an
# optional library prints ``scipy.special.erf(x)``): name -> module.  The
# generated function receives each module it uses under that name.
PRINT_MODULES = {"scipy": "scipy"}


def _lookup(obj):
    hit = _BY_OBJECT.get(id(obj))
    if hit is not None and hit[0] is obj:
        return hit[1]
    if isinstance(obj, RuleCarrier):
        return obj.primitive
    if isinstance(obj, (types.MethodType, types.BuiltinMethodType)):
        # (a builtin method: np.add.reduce, bound to the ufunc np.add)
        owner = getattr(obj, "__self__", None)
        hit = _BY_METHOD.get((id(owner), getattr(obj, "__name__", None)))
        if hit is not None and hit[0] is owner:
            return hit[1]
    return None


def _public_name(obj, modules):
    """``'scipy.stats.norm'``: where a library module exposes ``obj``."""
    name = getattr(obj, "__name__", None)
    for m in modules:
        mod = sys.modules.get(m)
        if mod is None:
            continue
        if isinstance(name, str) and getattr(mod, name, None) is obj:
            return f"{m}.{name}"
        for k, v in sorted(vars(mod).items()):
            if v is obj and not k.startswith("_"):
                return f"{m}.{k}"
    return None


# (top-level package, function name) -> (public name, why it is refused and what
# to do instead): library callables refused with advice (primitives/extras.py)
EXPLAINED_REFUSALS: dict = {}


def explain_refusal(package, fname, public, message):
    EXPLAINED_REFUSALS[(package, fname)] = (public, message)


def refusal(obj):
    """``(name, message)`` for a library callable that has no rule, when the
    table can say more than "unknown" (the methods a distribution does
    support, that freezing one is not supported, advice for a callable
    refused on purpose), else None."""
    mod = getattr(obj, "__module__", None) or ""
    hit = EXPLAINED_REFUSALS.get((mod.split(".")[0], getattr(obj, "__name__", None)))
    if hit is not None and (mod.startswith("scipy.integrate") or mod.startswith("numpy") or
                            mod.startswith("scipy.linalg") or mod.startswith("scipy.stats")):
        return hit
    methods = [(n, p) for inst, n, p in registered_methods() if inst is obj or
               (isinstance(obj, types.MethodType) and inst is obj.__self__)]
    if methods:
        inst = obj.__self__ if isinstance(obj, types.MethodType) else obj
        iname = _public_name(inst, ("scipy.stats",)) or type(inst).__name__
        names = " ".join(n for n, _ in methods)
        if isinstance(obj, types.MethodType):
            return (f"{iname}.{obj.__name__}",
                    f"has no derivative rule; the methods of {iname} s2sgrad differentiates "
                    f"are: {names}")
        return (f"{iname}(...)", f"(a frozen distribution) is not supported inside a "
                                 f"differentiated function; pass the parameters to the method "
                                 f"instead, e.g. {iname}.{methods[0][0]}(x, loc, scale) "
                                 f"(supported: {names})")
    name = _public_name(obj, ("scipy.special", "scipy.stats", "scipy.linalg", "scipy.signal"))
    if name is not None:
        return (name, "has no derivative rule in s2sgrad; `python -m s2sgrad.supported` "
                      "lists what is supported, or compute this value outside the "
                      "differentiated function and pass it in")
    return None


def lookup_object(obj) -> Primitive | None:
    """The primitive ``obj`` (a function, ufunc or bound method of a
    registered instance) stands for, or None."""
    p = _lookup(obj)
    if p is None and load_optional_rules():
        p = _lookup(obj)
    return p


def defmethod(method_name, prim, adapter=None):
    if method_name in METHODS:
        raise ValueError(f"method {method_name!r} registered twice")
    METHODS[method_name] = (prim, adapter)


def defattr(attr_name, prim):
    if attr_name in ATTRIBUTES:
        raise ValueError(f"attribute {attr_name!r} registered twice")
    ATTRIBUTES[attr_name] = prim


def get(name) -> Primitive:
    return REGISTRY[name]


# ---------------------------------------------------------------- emitter


class Emitter:
    """Appends equations to a block.  ``em.exp(x)`` emits an ``exp`` equation
    and returns its output Var; ``em.call(prim, ...)`` is the general form.

    Obvious algebra is folded on the spot (``g * 1``, ``x + 0``, constant
    arithmetic) through each primitive's ``simplify`` hook, so rules can be
    written plainly and still produce clean code.
    """

    def __init__(self, block: Block | None = None, loc: Loc | None = None, hint="",
                 derivative: bool = True):
        self.block = block if block is not None else Block()
        self.loc = loc
        self.hint = hint
        # Derivative code (rules) works on floats, so x * 1.0 and x - 0.0 fold
        # there too; lowering of user code passes False (x * 1.0 may be an
        # int -> float conversion).
        self.derivative = derivative

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            prim = REGISTRY[name]
        except KeyError:
            raise AttributeError(f"no primitive named {name!r}") from None
        return lambda *a, **k: self.call(prim, *a, **k)

    def call(self, prim, *args, _hint=None, _params=None, **kwargs):
        if isinstance(prim, str):
            prim = REGISTRY[prim]
        args = tuple([a if isinstance(a, (Var, Const)) else Const(a) for a in args])
        if kwargs:
            kwargs = {k: as_atom(v) for k, v in kwargs.items() if v is not _OMIT}
        if prim.simplify is not None and not _params:
            folded = prim.simplify(args, kwargs)
            if folded is not None:
                return folded
        if self.derivative and not _params and not kwargs:
            folded = _fold_float_units(prim.name, args)
            if folded is not None:
                return folded
        n = prim.num_outs(args, kwargs)
        hint = _hint or self.hint
        # (most equations have one output: no generator for it)
        outs = (Var(hint),) if n == 1 else tuple(Var(hint) for _ in range(n))
        eqn = Eqn(prim, args, kwargs, outs, dict(_params or {}), self.loc)
        infer_shapes(eqn)
        self.block.eqns.append(eqn)
        return outs[0] if n == 1 else outs

    def emit(self, eqn: Eqn):
        infer_shapes(eqn)
        self.block.eqns.append(eqn)
        return eqn

    # Convenience forms used throughout the rules ------------------------

    def add_ct(self, a, b):
        """Sum two cotangents where ``None`` is a symbolic zero."""
        if a is None:
            return b
        if b is None:
            return a
        return self.add(a, b)

    def unbroadcast(self, g, like):
        """Sum ``g`` down to the shape of ``like`` (skipped where known equal)."""
        if g is None:
            return None
        if same_shape(g, like):
            return g
        return self.call("unbroadcast", g, like)

    def broadcast_like(self, t, like):
        """Broadcast tangent ``t`` up to the shape of ``like`` (skipped where known equal)."""
        if t is None:
            return None
        if same_shape(t, like):
            return t
        return self.call("broadcast_like", t, like)


_OMIT = object()  # kwargs with this value are dropped (optional options)


def _is_float_const(a, v):
    return isinstance(a, Const) and type(a.value) is float and a.value == v


def _fold_float_units(name, args):
    if len(args) != 2:
        return None
    a, b = args
    if name in ("add", "subtract") and _is_float_const(b, 0.0) and isinstance(a, Var):
        return a
    if name == "add" and _is_float_const(a, 0.0) and isinstance(b, Var):
        return b
    if name in ("multiply", "divide") and _is_float_const(b, 1.0) and isinstance(a, Var):
        return a
    if name == "multiply" and _is_float_const(a, 1.0) and isinstance(b, Var):
        return b
    return None


def omit():
    return _OMIT


def as_atom(a):
    if isinstance(a, (Var, Const)):
        return a
    return Const(a)


def infer_shapes(eqn: Eqn):
    p = eqn.prim
    if p.shape is None:
        return
    res = p.shape(eqn.args, eqn.kwargs)
    if not isinstance(res, tuple):
        res = (res,)
    for o, s in zip(eqn.outs, res):
        if o.shape is None:
            o.shape = s


# ---------------------------------------------------------------- rule helpers


class NeedsStatic(S2SGradError):
    """A rule needs as a constant (``const_value``) a parameter of the
    function being compiled that was passed as data: ``ord=p`` with ``p=3.0``
    a default.  The API (``_Transformed._cached``) compiles again with that
    argument static, keyed by its value, when it is a Python float or str
    that is not differentiated; else this is the refusal it says."""

    def __init__(self, message, name):
        super().__init__(message)
        self.name = name


class StaticCandidates:
    """The parameters of the functions being compiled (``id(Var) -> (Var,
    name)``) that the API may make static, and the names rules asked for
    (kept even if a caller catches the :class:`NeedsStatic`).  Filled by
    ``lower_function``, emptied when the outermost compilation ends."""
    params: dict = {}
    wanted: list = []
    depth = 0
    # what lowering assumed about objects passed as arguments: their name ->
    # {path steps: token} (s2sgrad.lower.names.arg_guard)
    arg_guards: dict = {}


def const_value(a, what="argument"):
    """The compile-time value of an operand a rule needs statically."""
    if isinstance(a, Const):
        return a.value
    message = f"{what} must be a constant known when the gradient is compiled, " \
              f"not a computed value"
    name = needs_static(a)
    if name is not None:
        raise NeedsStatic(message, name)
    raise S2SGradError(message)


def needs_static(a):
    """Note that a rule needs ``a`` as a constant: when ``a`` is a parameter
    the API may make static (see :class:`NeedsStatic`), its name is recorded
    for it (rules that refuse with a message of their own call this first).
    Returns that name, or None."""
    hit = StaticCandidates.params.get(id(a)) if isinstance(a, Var) else None
    if hit is None or hit[0] is not a:
        return None
    if hit[1] not in StaticCandidates.wanted:
        StaticCandidates.wanted.append(hit[1])
    return hit[1]


def is_zero(a):
    return is_const(a, 0)


def is_one(a):
    return is_const(a, 1)


def fresh_shape(note=""):
    return ShapeToken(note)


def shape_fresh(args, kwargs):
    return ShapeToken()


# Operands read only for their shape (and dtype), never their values, by
# primitive name: positions, or None for every operand.  Passes use it to
# point such an operand at another value of the same shape and dtype
# (optimize.share_shapes, specialize), to batch it as one element
# (batching), and to let a buffer be overwritten in place despite such a
# read (codegen).
SHAPE_ONLY_OPERANDS = {
    "unbroadcast": (1,), "broadcast_like": (1,), "fit_shape": (1,), "unreduce": (1,), "size": (0,),
    "shape": (0,), "ndim": (0,), "len": (0,), "scalar_seed": (0,), "index_add": (1,),
    "matmul_vjp_a": (1,), "matmul_vjp_b": (2,), "dot_vjp_a": (1,), "dot_vjp_b": (2,),
    "inner_vjp_a": (1,), "inner_vjp_b": (2,), "outer_vjp_a": (1,), "outer_vjp_b": (2,),
    "tensordot_vjp_a": (1,), "tensordot_vjp_b": (2,), "reverse_cumsum": (1,),
    "trace_vjp": (1,), "diag_vjp": (1,), "rhs_as_matrix": (1, 2), "rhs_from_matrix": (1, 2),
    "zeros_like": (0,), "ones_like": (0,), "full_like": (0,), "empty_like": (0,),
    "result_type": None,
    "fft_vjp": (1,), "check_rule_output": (1,),
}


def shape_only(prim_name, i) -> bool:
    """Is operand ``i`` of ``prim_name`` read only for its shape and dtype?"""
    pos = SHAPE_ONLY_OPERANDS.get(prim_name, ())
    return pos is None or i in pos


def shape_elementwise(args, kwargs):
    return elementwise_shape(args)


def shape_like_first(args, kwargs):
    return shape_of(args[0])
