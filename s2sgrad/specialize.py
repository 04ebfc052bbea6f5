"""Shape specialisation: the same gradient, compiled for known argument shapes.

The generated code of :mod:`s2sgrad.codegen` is shape-polymorphic: one
function serves every argument shape, so a few operations decide at run
time what to do (``unbroadcast`` checks which axes were broadcast,
``matmul_vjp_b`` checks operand ranks, ``np.size`` is called to scale a
mean's adjoint).  :func:`specialize` rewrites that IR for one argument
signature (the shapes, dtypes and types of the call's leaves; see
``api._pick`` for when), so that

* ``unbroadcast(g, x)`` disappears where ``g`` already has ``x``'s shape and
  becomes one ``g.sum(axis=...)`` with constant axes where it does not;
* ``unreduce``/``broadcast_like`` become a constant ``reshape`` (to put the
  reduced axes back) and NumPy's own broadcasting in the consuming
  operation (no ``np.broadcast_to`` at all where the other operand already
  has the full shape);
* ``matmul_vjp_a``/``matmul_vjp_b`` become ``g @ b.T`` / ``a.T @ g`` /
  ``np.outer`` / ``g * a`` for the ranks at hand;
* ``np.shape``/``np.size``/``np.ndim``/``len`` of arrays, and anything
  computed from them and constants, become constants; constant scalings
  merge where that is exact; the gradient's seed is ``np.ones`` of a known
  shape;
* operands read only for their shape point at the earliest value of that
  shape and dtype, so nothing is computed just to be a shape;
* reductions of arrays print as methods, ``sigmoid`` as in-place ufunc
  steps, ``stop_gradient`` as nothing;
* a list of arrays (a list argument's leaves, ``[a, b]`` in the function)
  has a known length and known elements, so ``Ws[i]`` with a run-time index
  is known when all elements agree in shape and dtype; the adjoint of
  ``Ws[i]`` added into per-element accumulators becomes
  ``if i % n == k: Ws_k_bar += g`` (:func:`accumulate_lists_in_place`), the
  accumulators allocated when first written;
* the adjoint of stacked layers ``Ws[i]`` in a backward loop that frees
  what it stored is kept as rows and added after the loop
  (:func:`defer_row_accumulation`), not into a whole ``Ws_bar`` held from
  the loop's first step;
* values that were saved for the reverse sweep only for their shape, or
  twice, are no longer saved (:func:`s2sgrad.optimize.prune_stacks`);
* every value's example goes to code generation (``info["examples"]``),
  which writes dead same-shape temporaries in place
  (``codegen.CodeGen._decide_ufunc_out``) and deletes large dead arrays
  after their last use (:mod:`s2sgrad.liveness`).

Soundness.  Shapes are found by *abstract evaluation*: every equation runs
once on example values (zeros/ones) of the argument shapes and dtypes, and
its result's shape and dtype are recorded.  This is exact only for
operations whose result shape and dtype depend on the operands' shapes and
dtypes, never on their values; so a value is "known" only if

* every operand is known, and
* every Python (non-array) operand that can influence a shape -- a
  ``reshape`` target, a slice bound, a ``range`` length -- is *static*: a
  constant, or computed from shapes and constants only, and
* it is not produced by an operation with a data-dependent shape
  (boolean-mask indexing), a global read at run time, a list other
  than ``[a, b, ...]`` of known values (:class:`_ListExample`), or an
  operation that failed on the examples.

Branches join: a value assigned in an ``if`` is known only if both branches
agree.  Loops iterate to a fixpoint: a loop-carried value is known only if
every iteration preserves its shape and dtype.  Everything else is left as
in the polymorphic code, so a specialisation is never less correct than the
general version; it is compiled per argument *signature* (shapes, dtypes and
Python types of every leaf) and used only for calls that match it exactly.

Other array types (:mod:`s2sgrad.arrays`: dask, CuPy, ... through NumPy's
dispatch protocols).  A leaf of such a type with a known shape is in the
signature by its shape, dtype and type (a dask array's chunks are not); its
example is a NumPy array of that shape and dtype, which is exact for shapes
and dtypes because the type follows NumPy's rules for them.  A leaf whose
shape is not known (a dask array with unknown chunk sizes) has no
signature: the call runs the polymorphic code.  The values that may be of
such a type at run time (:func:`foreign_values`: anything computed from
one) are listed in ``info["foreign"]``: code generation never writes them
in place (``out=``), and they are never returned without the API's checks.
"""
from __future__ import annotations

import ast
import operator
import threading
import warnings

import numpy as np

from . import arrays
from .arrays import is_duck, known_shape
from .ir import Block, Const, Eqn, Func, Var, iter_eqns
from .primitives.control import loop_offset
from .primitives.core import (REGISTRY, SHAPE_ONLY_OPERANDS, Emitter, shape_elementwise,
                              shape_only)
from .primitives.indexing import Slot
from .primitives.random import rng_kind, token_kind

UNKNOWN = object()


# reductions of a short last axis written as column operations (_column_reduce):
# the most columns for each
_COLUMN_LIMIT = {"sum": 7, "max": 16, "min": 16}
_FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


def _columns_apply(name, xv, axis) -> bool:
    """Whether ``name`` (sum, max, min) of ``xv`` over ``axis`` is written
    as column operations (:func:`_column_reduce`)."""
    if type(xv) is not np.ndarray or xv.ndim < 2 or xv.dtype not in _FLOAT_DTYPES or \
            type(axis) is not int or axis not in (-1, xv.ndim - 1):
        return False
    k = xv.shape[-1]
    return 2 <= k <= _COLUMN_LIMIT[name] and xv.size // k >= 16 * k


def _column_reduce(em, name, x, xv, shape=None):
    """``x.sum(axis=-1)`` / ``max`` / ``min`` of a short last axis (k
    columns) of a NumPy float array with many rows, as k - 1 elementwise
    ufunc calls on the columns (``np.maximum(Z[:, 0], Z[:, 1])``, then in
    place), reshaped to ``shape`` (keepdims) when given.  NumPy's reduction
    calls its inner loop once per row (30-60 ns each: 4 us for the max of a
    (64, 3) array, 4 ms for (100000, 3)); the columns take k calls.  Same
    result bit for bit: max/min are exact (NaN propagates in both; of a tie
    of 0.0 and -0.0 both keep the later one), and for k < 8 NumPy sums a
    row left to right, as the columns do (so ``sum`` only for k <= 7;
    tests/test_small_sizes.py checks both against NumPy).  Only where it is
    faster (:func:`_columns_apply`: at least 16 k rows).  The one
    difference: a row of negative zeros sums to -0.0 here, to 0.0 in NumPy
    (which adds the row to 0.0)."""
    ufunc = {"sum": "add", "max": "maximum", "min": "minimum"}[name]
    lead = (slice(None),) * (xv.ndim - 1)

    def column(j):
        # Z[:, j]: a 1-d strided view (NumPy's fast loops; a (n, 1) column
        # Z[:, j:j + 1] goes through its general iterator, 3x slower at 64
        # rows), printed at its use (codegen: CodeGen._inline), read at once
        return em.call("getitem", x, _params={"index": lead + (j,), "column": True})
    acc = em.call(ufunc, column(0), column(1))
    for j in range(2, xv.shape[-1]):
        acc = em.call(ufunc, acc, column(j))
    if shape is None:
        return acc
    return em.call("reshape", acc, shape, _params={"spelling": ("method", "reshape")})


# the seed of a 0-d loss as a NumPy scalar (tests turn it off to compare)
_SCALAR_SEED = True


def _is_scalar_seed(e) -> bool:
    """Is ``e`` ``np.float64(1.0)`` (any float type): the scalar seed below,
    whose example abstract evaluation computes (casts of other values stay
    unknown, as before)."""
    a = e.args
    return len(a) == 1 and type(a[0]) is Const and type(a[0].value) is float and \
        a[0].value == 1.0 and type(e.kwargs.get("dtype")) is Const and \
        e.kwargs["dtype"].value in (np.float16, np.float32, np.float64, np.longdouble)


def _scalar_cast(x, dtype):
    return dtype(x)


class _Stack:
    """Abstract contents of a stack: the join of everything pushed on it."""

    def __init__(self):
        self.items = None         # list of example values, or UNKNOWN
        self.read = False         # popped before the last push changed it


# Examples with more elements than this are kept as zero-stride views of one
# element, so the analysis holds O(1) memory per value (the evaluation of one
# step still allocates its result once).
_COMPACT = 4096


def _compact(shape, dtype):
    one = np.zeros((), dtype) if dtype.kind in "iubmMOSUV" else np.ones((), dtype)
    return np.broadcast_to(one, shape)


def example_of(value):
    """An example value with ``value``'s type, shape and dtype (never aliasing it)."""
    t = type(value)
    if t is np.ndarray:
        if value.size > _COMPACT:
            return _compact(value.shape, value.dtype)
        if value.dtype.kind in "iub":
            return np.zeros(value.shape, value.dtype)
        return np.ones(value.shape, value.dtype)
    if t is float:
        return 1.0
    if value is None:
        return None
    if t is bool:
        return False
    if t is int:
        return 0
    if isinstance(value, np.generic):
        return value.dtype.type(0 if value.dtype.kind in "iub" else 1)
    if t is dict:
        return _settings_example(value, 0)
    if rng_kind(value) is not None:
        return _throwaway(rng_kind(value))     # never the user's generator
    if is_duck(value) and known_shape(value) and isinstance(value.dtype, np.dtype):
        # dask, CuPy, ...: a NumPy example of the same shape and dtype
        shape = tuple(int(n) for n in value.shape)
        if value.dtype.kind in "iub":
            return np.zeros(shape, value.dtype)
        return _compact(shape, value.dtype)
    return UNKNOWN


# how deep in a settings dict the dicts get examples (s2sgrad.api._items_key
# keys them to the same depth)
SETTINGS_DEPTH = 4


def _settings_example(value, depth):
    """A settings dict passed as data (s2sgrad.api keys it with its keys and
    its scalar items' types, a dict in it likewise to SETTINGS_DEPTH):
    examples of its Python and NumPy scalars and of its dicts, UNKNOWN for
    anything else (an array read from it is never known)."""
    return {k: example_of(v) if v is None or type(v) in (float, int, bool) or
            isinstance(v, np.generic) else
            _settings_example(v, depth + 1) if type(v) is dict and depth < SETTINGS_DEPTH else
            UNKNOWN for k, v in value.items()}


def _throwaway(kind):
    return np.random.default_rng(0) if kind == "Generator" else np.random.RandomState(0)


def signature(leaves):
    """The specialisation key of a call: per leaf (shape, dtype) or the scalar type.
    ``None`` if some leaf is of a kind that is not specialised."""
    key = []
    for a in leaves:
        t = type(a)
        if t is np.ndarray or isinstance(a, np.generic):
            key.append((a.shape, a.dtype, t))
        elif t in (float, int, bool):
            key.append(t)
        elif a is None:               # a compile-time constant: never read as a value
            key.append(None)
        elif t is type and issubclass(a, np.generic):
            # a dtype computed in one part of a split function (a pullback's
            # forward) and read in the other: by its value
            key.append(("dtype", a))
        elif rng_kind(a) is not None:
            key.append(t)                     # a random generator: by its type
        elif is_duck(a) and known_shape(a):
            # dask, CuPy, ...: chunk structure is not part of the key (the
            # code does not depend on it); the type is (no buffer reuse)
            key.append((a.shape, a.dtype, t))
        else:
            return None
    return tuple(key)


def foreign_values(func: Func, leaves) -> frozenset:
    """The values of ``func`` that may be arrays of another type than NumPy's
    (:func:`s2sgrad.arrays.is_duck`) when it is called with ``leaves``:
    the duck-array parameters and everything computed from them (the result
    of a NumPy function or ufunc with a dask operand is a dask array).  An
    over-approximation: a region's parameters count as foreign when anything
    flowing into them does."""
    foreign = {p for p, x in zip(func.params, leaves) if is_duck(x)}
    if not foreign:
        return frozenset()

    def mark(vs):
        n = len(foreign)
        foreign.update(v for v in vs if isinstance(v, Var))
        return len(foreign) != n

    def any_foreign(vs):
        return any(isinstance(v, Var) and v in foreign for v in vs)

    def walk(block) -> bool:
        changed = False
        for e in block.eqns:
            name = e.prim.name
            for b in e.blocks():
                changed |= walk(b)
            if name == "cond":
                for i, o in enumerate(e.outs):
                    if any_foreign([e.params["then"].results[i], e.params["else"].results[i]]):
                        changed |= mark([o])
                if any_foreign(e.atoms()):
                    for b in e.blocks():
                        changed |= mark(b.params)
            elif name in ("for_loop", "while_loop"):
                off = loop_offset(e)
                body = e.params["body"]
                cond = e.params.get("cond")
                if off and any_foreign(e.args[:off]):
                    changed |= mark(body.params[:off])
                for i, o in enumerate(e.outs):
                    if any_foreign([e.args[off + i], body.results[i], o,
                                    body.params[off + i]]):
                        changed |= mark([o, body.params[off + i]] +
                                        ([cond.params[i]] if cond is not None else []))
            elif e.blocks():
                used = set(e.atoms())
                for b in e.blocks():
                    used |= _block_uses(b)
                if any_foreign(used):
                    changed |= mark(e.outs)
                    for b in e.blocks():
                        changed |= mark(b.params)
            elif any_foreign(e.atoms()):
                changed |= mark(e.outs)
                if not e.outs or getattr(e.prim, "effect", False):
                    changed |= mark(e.args)       # push(stack, v): the stack holds v
        return changed

    while walk(func.body):
        pass
    del walk  # (breaks the recursive closure's reference cycle)
    return frozenset(foreign)


# Helpers whose derivative is written with NumPy-only operations (writes
# through a permutation): refused at compile time for other array types.
_NUMPY_ONLY_HELPERS = {"unsort": "np.sort", "sort_like": "np.sort"}


def for_kinds(func: Func, leaves, foreign=None) -> Func:
    """``func`` made ready for the array types of ``leaves`` (dask, CuPy, ...;
    see :mod:`s2sgrad.arrays`): ``np.size`` of a value that may be such an
    array becomes the runtime's ``size_of`` (dask has no ``np.size``; its
    fallback would compute the array), and every call that the type does not
    implement is refused with the user's file and line (dask would convert
    the array to NumPy, i.e. compute it, instead).  ``func`` itself when no
    leaf is such an array."""
    from .errors import S2SGradError
    if foreign is None:
        foreign = foreign_values(func, leaves)
    if not foreign:
        return func
    kind = next(x for x in leaves if is_duck(x))
    size_of = REGISTRY["size_of"]

    def check(e):
        name = e.prim.name
        what = _NUMPY_ONLY_HELPERS.get(name)
        spelling = e.params.get("spelling") or ("func",)
        if what is None and spelling[0] not in ("method", "attr") and \
                e.prim.pyname.startswith("np.") and not e.blocks():
            fn = np
            for part in e.prim.pyname.split(".")[1:]:
                fn = getattr(fn, part, None)
            if fn is not None and not arrays.implements(kind, fn):
                what = e.prim.pyname
        if what is not None:
            loc = e.loc
            raise S2SGradError(
                f"{what} is not implemented for arrays of type {arrays.kind_name(kind)}"
                f"{' (in the derivative of this line)' if loc is not None and loc.kind else ''}"
                f"; s2sgrad does not convert them to NumPy (that would compute them); "
                f"compute this value outside the differentiated function, or pass NumPy arrays",
                filename=loc.filename if loc is not None else func.filename,
                lineno=loc.lineno if loc is not None else None)

    def rewrite(block):
        eqns = []
        for e in block.eqns:
            touched = any(isinstance(a, Var) and a in foreign for a in e.atoms())
            params = {k: (rewrite(v) if isinstance(v, Block) else v) for k, v in e.params.items()}
            if touched and e.prim.name == "size":
                e = Eqn(size_of, e.args, e.kwargs, e.outs, {}, e.loc)
            else:
                if touched:
                    check(e)
                e = Eqn(e.prim, e.args, e.kwargs, e.outs, params, e.loc)
            eqns.append(e)
        return Block(eqns, block.params, block.results)
    body = rewrite(func.body)
    del rewrite  # (breaks the recursive closure's reference cycle)
    return Func(func.name, func.params, body, func.results, func.filename,
                dict(func.info, foreign=foreign))


def _block_uses(block) -> set:
    used = set(block.results)
    for e in block.eqns:
        used |= set(e.atoms())
        for b in e.blocks():
            used |= _block_uses(b)
    return used


class Mixed:
    """An abstract value that is one of a few 0-d scalar kinds at run time: a
    Python float, a NumPy scalar or a 0-d array (``alts``, their examples).
    A loss accumulated in a loop from ``0.0`` is a Python float before the
    first iteration and a ``np.float64`` after it; joining the two to
    UNKNOWN made everything its derivative touches unknown (every step of an
    RNN with a summed loss kept its run-time ``unbroadcast`` and
    ``matmul_vjp``).  An operation with a ``Mixed`` operand is evaluated for
    every alternative (every combination, for several) and its result is
    known when all agree -- ``np.ones_like(loss)`` is a 0-d float64 array
    for each -- and ``Mixed`` again when they are different 0-d scalars.
    Rewrites never rely on a ``Mixed`` value's type (it is UNKNOWN to them),
    only on its shape ``()``."""
    __slots__ = ("alts",)

    def __init__(self, alts):
        self.alts = tuple(alts)


_MAX_ALTS = 3


def _scalarish(v) -> bool:
    """A 0-d value of one of the kinds a ``Mixed`` joins."""
    if isinstance(v, np.ndarray):
        return v.shape == ()
    return isinstance(v, (bool, int, float, complex, np.generic))


def _alts(v):
    return v.alts if isinstance(v, Mixed) else (v,)


def _same(a, b) -> bool:
    """Do two example values have the same type, shape and dtype?"""
    if a is UNKNOWN or b is UNKNOWN:
        return False
    if type(a) is not type(b):
        return False
    if type(a) is Mixed:
        return len(a.alts) == len(b.alts) and \
            all(any(_same(x, y) for y in b.alts) for x in a.alts)
    if isinstance(a, (np.ndarray, np.generic)):
        return a.shape == b.shape and a.dtype == b.dtype
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if type(a) is _TapeExample or type(a) is _ListExample or type(a) is _ListOf:
        return a.same(b)
    return isinstance(a, (int, float, bool, complex, type(None), str, np.dtype, range, slice))


class _TapeExample:
    """The example of a checkpointed loop's tape (s2sgrad.remat): the loop's
    iterable and its state's examples, for the step function that reads it
    -- carried through the stacks of an enclosing loop like any value (a
    ``@s2sgrad.checkpoint`` helper called in a loop)."""

    __slots__ = ("it", "state", "var")

    def __init__(self, it, state, var=None):
        self.it, self.state, self.var = it, list(state), var   # var: the forward's tape

    def same(self, other):
        return _same(self.it, other.it) and len(self.state) == len(other.state) and \
            all(_same(x, y) or (x is UNKNOWN and y is UNKNOWN)
                for x, y in zip(self.state, other.state))


class _ListExample:
    """The example of a list built from known values (``list_build``: a
    list argument's leaves, ``[a, b]`` in the function): its length is exact
    (fixed by the signature or the source) and so is each element's example.
    ``xs[k]`` with a static ``k`` is element ``k``'s example; with a run-time
    index (``W1s[i]`` in ``for i in range(len(W1s))``) it is known when every
    element has the same type, shape and dtype.  Only ``list_build`` makes
    one, and only ``list_get``, ``len``, the stacks and loop joins read one:
    every other operation that receives it gives UNKNOWN, as before."""

    __slots__ = ("items",)

    def __init__(self, items):
        self.items = list(items)

    def same(self, other):
        return len(self.items) == len(other.items) and \
            all(_same(x, y) for x, y in zip(self.items, other.items))

    def element(self, k=None):
        """Element ``k``'s example (``k`` None: any element, known if all agree)."""
        if k is not None:
            return self.items[k] if -len(self.items) <= k < len(self.items) else UNKNOWN
        if not self.items:
            return UNKNOWN
        first = self.items[0]
        return first if all(_same(first, x) for x in self.items[1:]) else UNKNOWN


class _ListOf:
    """The example of a runtime list whose elements all have one example
    ``elem`` (type, shape and dtype) and whose length is ``n`` (None: not
    known here -- inside the loop that grows it).  Made by ``list_append``
    of a matching element (``hs.append(h)`` in a loop: the length after a
    loop over a range known on entry is the length before plus the trip
    count, see :meth:`_Infer.loop`), ``unstack`` and ``list_pop``; read by
    ``list_get``, ``len``, ``list_pop`` and ``stack_list``/``concat_list``
    (``np.stack(hs)`` is then an array of a known shape, and so is its
    cotangent's ``unstack`` and every ``hs_bar.pop()``: the shapes carried
    through the reversed loop stay specialised)."""

    __slots__ = ("elem", "n")

    def __init__(self, elem, n):
        self.elem, self.n = elem, n

    def same(self, other):
        return self.n == other.n and _same(self.elem, other.elem)


def _as_list_of(v):
    """``v`` as a :class:`_ListOf` (a uniform ``_ListExample`` too), or None;
    an empty ``_ListExample`` gives ``_ListOf(None, 0)`` (any element)."""
    if type(v) is _ListOf:
        return v
    if type(v) is _ListExample:
        if not v.items:
            return _ListOf(None, 0)
        first = v.items[0]
        if all(_same(first, x) for x in v.items[1:]) and first is not UNKNOWN:
            return _ListOf(first, len(v.items))
    return None


def _join_lists(a, b):
    la, lb = _as_list_of(a), _as_list_of(b)
    if la is None or lb is None:
        return UNKNOWN
    if la.n == 0 and la.elem is None:
        la, lb = lb, la
    if lb.n == 0 and lb.elem is None:
        return _ListOf(la.elem, la.n if la.n == 0 else None)
    if not _same(la.elem, lb.elem):
        return UNKNOWN
    return _ListOf(la.elem, la.n if la.n == lb.n else None)


def _join(a, b):
    if type(a) is _TapeExample and type(b) is _TapeExample:
        return a if a.same(b) else UNKNOWN
    if (type(a) is _ListOf or type(b) is _ListOf) and not _same(a, b):
        return _join_lists(a, b)
    if _same(a, b):
        return a
    if a is UNKNOWN or b is UNKNOWN:
        return UNKNOWN
    alts = []
    for x in _alts(a) + _alts(b):
        if not _scalarish(x):
            return UNKNOWN
        if not any(_same(x, y) for y in alts):
            alts.append(x)
    if len(alts) == 1:
        return alts[0]
    return Mixed(alts) if len(alts) <= _MAX_ALTS else UNKNOWN


def _uniform_elem_ok(x) -> bool:
    """An element whose example fixes its type, shape and dtype."""
    return x is not UNKNOWN and type(x) is not Mixed and \
        isinstance(x, (np.ndarray, np.generic, float, int, complex)) and not isinstance(x, bool)


def _list_op_applies(name, vals) -> bool:
    if name == "unstack":
        return type(vals[0]) is np.ndarray
    return _as_list_of(vals[0]) is not None


def xs_n_known(xs) -> bool:
    return type(xs) is _ListOf and xs.n is not None


def _stacked_example(name, xs, kw):
    """The example of ``np.stack``/``np.array``/``np.concatenate``/... of
    ``xs.n`` elements like ``xs.elem``: evaluated on one and on two of them,
    the length along the joined axis grows linearly with the count."""
    e = np.asarray(xs.elem)
    one_two = []
    for k in (1, 2):
        items = [e] * k
        if name == "stack_list":
            r = np.stack(items, axis=kw.get("axis", 0)) if kw.get("axis", 0) is not None \
                else np.array(items)
        else:
            how = kw.get("how", "concatenate")
            r = np.concatenate(items, axis=kw.get("axis", 0)) if how == "concatenate" \
                else getattr(np, how)(items)
        one_two.append(r)
    a, b = one_two
    if a.ndim != b.ndim or a.dtype != b.dtype:
        return UNKNOWN
    shape = tuple(x + (xs.n - 1) * (y - x) for x, y in zip(a.shape, b.shape))
    return example_of(np.broadcast_to(np.zeros((), a.dtype), shape).copy()) \
        if int(np.prod(shape)) <= _COMPACT else _compact(shape, a.dtype)


def _all_known(vals) -> bool:
    """No operand is UNKNOWN, a stack or a list's examples."""
    for v in vals:
        if v is UNKNOWN or isinstance(v, (_Stack, _ListExample, _ListOf)):
            return False
    return True


def _any_mixed(vals) -> bool:
    for v in vals:
        if type(v) is Mixed:
            return True
    return False


def _is_pyscalar(v) -> bool:
    return not isinstance(v, (np.ndarray, np.generic))


# Primitives whose result shape/dtype is a function of operand shapes/dtypes
# (and of static options).  Anything not listed is not evaluated.
_SAFE = {
    # reductions and scans
    "sum", "mean", "prod", "max", "min", "var", "std", "cumsum", "reverse_cumsum",
    "argmax", "argmin", "sort", "argsort", "sort_like", "unsort", "norm", "vector_norm_arg",
    "trace", "trace_vjp",
    # linear algebra
    "matmul", "dot", "inner", "outer", "tensordot", "einsum", "matmul_vjp_a", "matmul_vjp_b",
    "dot_vjp_a", "dot_vjp_b", "inner_vjp_a", "inner_vjp_b", "outer_vjp_a", "outer_vjp_b",
    "tensordot_vjp_a", "tensordot_vjp_b", "inv", "solve", "det", "slogdet", "diag",
    "diag_vjp", "rhs_as_matrix", "rhs_from_matrix",
    # shape ops
    "transpose", "swapaxes", "moveaxis", "reshape", "ravel", "squeeze", "expand_dims",
    "broadcast_to", "concatenate", "stack", "hstack", "vstack", "split", "unconcatenate",
    "unhstack", "unvstack", "unstack",
    # adjoint helpers
    "unbroadcast", "broadcast_like", "unreduce", "cast_derivative", "scalar_seed",
    "in_place_result",
    # creation (shape from static operands)
    "zeros", "ones", "full", "empty", "eye", "identity", "arange", "zeros_like",
    "ones_like", "full_like", "copy", "asarray", "array", "astype",
    # structure
    "shape", "ndim", "size", "len", "result_type", "float", "make_tuple", "stop_gradient",
    "range", "py_min",
}
# NumPy's assembly, statistics and product functions (primitives/assembly.py,
# primitives/statistics.py) and their adjoint helpers: result shapes follow
# from operand shapes and static options as well (not listed: results whose
# shape depends on values, as np.nonzero's, np.unique's or np.bincount's).
_SAFE |= {
    "atleast_1d", "atleast_2d", "atleast_3d", "column_stack", "dstack", "uncolumn_stack",
    "undstack", "append", "array_split", "hsplit", "vsplit", "dsplit", "repeat", "unrepeat",
    "tile", "untile", "pad", "unpad", "pad_constant_adjoint", "roll", "rollaxis", "unrollaxis",
    "flip", "fliplr", "flipud", "rot90", "tril", "triu", "diagonal", "undiagonal", "take",
    "untake", "take_along_axis", "untake_along_axis", "delete", "undelete", "insert",
    "uninsert", "partition", "partition_like", "unpartition", "meshgrid", "broadcast_arrays",
    "linspace", "unlinspace",
    "cumprod", "diff", "diff_adjoint", "gradient", "gradient_adjoint",
    "trapezoid", "trapezoid_ends", "trapezoid_weights", "trapezoid_weights_adjoint",
    "average", "average_weights", "average_weights_adjoint", "ptp", "quantile", "percentile",
    "median", "nanquantile", "nanpercentile", "nanmedian", "quantile_tangent",
    "quantile_adjoint", "cov", "cov_rows", "cov_rows_adjoint", "corrcoef", "nansum",
    "nanmean", "nanmax", "nanmin", "nanvar", "nanstd", "nanprod", "nancumsum", "nancumprod",
    "kron", "kron_vjp_a", "kron_vjp_b", "vdot", "flat_dot", "flat_dot_vjp_a", "flat_dot_vjp_b", "cross",
    "cross_vjp_a", "cross_vjp_b", "convolve", "convolve_vjp_a", "convolve_vjp_b", "correlate",
    "correlate_vjp_a", "correlate_vjp_b", "same_kind_checked", "out_checked",
    "prod_others", "prod_pairs", "cumprod_vjp_core", "cumprod_jvp_core",
    "norm_scale", "norm_scale_checked", "csign_tangent_checked",
}
# Every positional operand is data (its values never shape the result).
_DATA_PRIMS = {
    "sum", "mean", "prod", "max", "min", "var", "std", "cumsum", "reverse_cumsum",
    "argmax", "argmin", "sort", "argsort", "sort_like", "unsort", "norm", "vector_norm_arg",
    "matmul", "dot", "inner", "outer", "matmul_vjp_a", "matmul_vjp_b", "dot_vjp_a",
    "dot_vjp_b", "inner_vjp_a", "inner_vjp_b", "outer_vjp_a", "outer_vjp_b", "inv", "solve",
    "det", "slogdet", "rhs_as_matrix", "rhs_from_matrix", "concatenate", "stack", "hstack",
    "vstack", "unbroadcast", "broadcast_like", "unreduce", "scalar_seed", "zeros_like",
    "ones_like", "copy", "asarray", "array", "astype", "shape", "ndim", "size", "len",
    "result_type", "float", "make_tuple", "stop_gradient", "unconcatenate", "unhstack",
    "unvstack", "full_like", "in_place_result", "prod_others", "prod_pairs",
    "cumprod_vjp_core", "cumprod_jvp_core", "norm_scale", "norm_scale_checked",
    "csign_tangent_checked",
}
# Linear algebra, FFT and complex numbers (primitives/decompositions.py, fft.py,
# complex.py, scipy_linalg.py).  Not eig/eigvals (their dtype depends on the
# values: real when every eigenvalue is) nor lstsq (its residuals' shape does).
_SAFE |= {
    "fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2", "fftn",
    "ifftn", "rfftn", "irfftn", "fft_vjp", "fftshift", "ifftshift", "fftfreq", "rfftfreq",
    "real", "imag", "angle", "require_real", "cholesky", "eigh", "eigvalsh", "svd", "qr", "pinv",
    "tril_part", "resize_axis", "lstsq_res_ct", "lstsq_res_t", "solve_triangular",
    "scipy_cholesky", "cho_factor_c", "cho_solve", "lu_factor", "lu_solve", "apply_pivots",
    "unapply_pivots", "expm", "frechet_block", "top_right", "diag_blocks_sum", "scipy_solve",
    "scipy_inv", "scipy_det", "scipy_eigh",
}
# Custom rules (s2sgrad.custom): a marker is the identity on the value it marks;
# the check of a rule's result raises unless the shapes and dtypes agree.
_SAFE |= {"custom_rule", "check_rule_output"}
_DATA_PRIMS |= {"custom_rule", "check_rule_output"}
_DATA_PRIMS |= {
    "fft_vjp", "real", "imag", "angle", "require_real", "resize_axis", "lstsq_res_ct",
    "lstsq_res_t", "solve_triangular", "cho_solve", "lu_solve", "apply_pivots",
    "unapply_pivots", "frechet_block", "scipy_solve",
}
# The first operand is a shape or a length.
_CREATION = {"zeros", "ones", "full", "empty", "eye", "identity", "arange", "range",
             "fftfreq", "rfftfreq"}
# Helpers of batched code (batch_runtime) whose result shape is a function of
# their operands' shapes and static flags.
_BATCH_SAFE = {"lift", "expand", "first", "all_axes", "unbroadcast", "broadcast_like",
               "unreduce", "transpose", "matmul", "matmul_vjp_a", "matmul_vjp_b", "dot",
               "inner", "outer", "astype", "cumsum", "reverse_cumsum"}
# Results that are exact (static) values whenever the operand's shape is known.
_SHAPE_VALUES = {"shape", "ndim", "size", "len", "result_type"}
# Python operands of these never influence a result shape (x * n, x[i]).
_VALUE_FREE = {"getitem", "index_add", "setitem", "where", "clip", "range"}


def _as_lazy(values):
    """Large examples as lazy dask arrays of their shape and dtype (never
    computed): see ``_Infer.lazy``."""
    if not any(type(v) is np.ndarray and v.size > _COMPACT for v in values):
        return values
    import dask.array as da
    return [da.empty(v.shape, dtype=v.dtype, chunks=v.shape)
            if type(v) is np.ndarray and v.size > _COMPACT else v for v in values]


def _large_shape(s) -> bool:
    try:
        return int(np.prod(s)) > _COMPACT
    except (TypeError, ValueError):
        return False


_LIKE: list = []


def _lazy_like():
    """A 0-d lazy dask array (``like=`` of creation functions; never computed)."""
    if not _LIKE:
        import dask.array as da
        _LIKE.append(da.empty((), dtype=float))
    return _LIKE[0]


def _from_lazy(r):
    """A lazy result back as a compact NumPy example (UNKNOWN if its shape is)."""
    if isinstance(r, (tuple, list)):
        return type(r)(_from_lazy(x) for x in r)
    if arrays.is_lazy(r):
        return _compact(tuple(int(n) for n in r.shape), r.dtype) if known_shape(r) \
            else UNKNOWN
    return r


class _Infer:
    # With dask leaves, steps on large examples are evaluated on lazy dask
    # arrays of the examples' shapes and dtypes: dask derives the result's
    # shape and dtype without allocating it, so the analysis of a call on
    # 20 M rows holds no 20 M-row array in the client (with NumPy leaves the
    # data is in memory anyway, and one step at a time is allocated).  dask's
    # shapes and dtypes are also the ones the dask run will see.
    lazy = False

    def __init__(self):
        self.ex: dict = {}            # Var -> example value or UNKNOWN
        self.static: set = set()      # Vars whose example *is* the value
        self.stacks: list = []        # (stack Var, _Stack)
        self.dirty = False
        self.seed_stacks: dict = {}
        # While a loop's body is evaluated again (the fixpoint's second and
        # later rounds): the Vars whose example or static flag changed since
        # that started (see :meth:`loop`); None otherwise.
        self.changed: set | None = None
        # predicate Var -> {output Var of an ``if`` on it: ((then example,
        # static), (else example, static))} where the join lost a fact (:meth:`cond`)
        self.by_pred: dict = {}

    # -- atoms
    def val(self, a):
        if isinstance(a, Const):
            return a.value
        return self.ex.get(a, UNKNOWN)

    def is_static(self, a) -> bool:
        return isinstance(a, Const) or a in self.static

    def set(self, v, value, static=False):
        if type(value) is np.ndarray and value.size > _COMPACT and not static:
            value = _compact(value.shape, value.dtype)
        changed = self.changed
        if changed is not None and (
                self.ex.get(v, _NOT_SET) is not value or
                (v in self.static) != (static and value is not UNKNOWN)):
            changed.add(v)
        self.ex[v] = value
        if static and value is not UNKNOWN:
            self.static.add(v)
        else:
            self.static.discard(v)

    # -- blocks
    def block(self, block: Block):
        for e in block.eqns:
            self.eqn(e)
        return [self.val(r) for r in block.results]

    def eqn(self, e: Eqn):
        name = e.prim.name
        if name not in _INFER_OWN:
            if self.changed is not None and self._same_again(e):
                return
            self.simple(e)      # (the operations below have their own evaluation)
            return
        if name == "cond":
            self.cond(e)
        elif name in ("for_loop", "while_loop"):
            self.loop(e)
        elif name == "checkpoint_forward":
            self.checkpoint_forward(e)
        elif name == "checkpoint_backward":
            self.checkpoint_backward(e)
        elif name == "new_stack":
            s = _Stack()
            s.items = self.seed_stacks.get(e.outs[0])   # what an earlier pass saw pushed
            self.stacks.append((e.outs[0], s))
            self.set(e.outs[0], s)
        elif name in ("list_get", "list_index_add", "len", "list_append", "list_pop",
                      "unstack", "stack_list", "concat_list", "list_add", "unconcat_list",
                      "list_zeros") and \
                type(self.val(e.args[1 if name in ("list_index_add", "unconcat_list")
                                       else 0])) is _ListOf or \
                name in ("list_append", "unstack", "stack_list", "list_pop") and \
                _list_op_applies(name, [self.val(a) for a in e.args]):
            self.uniform_list_op(e)
        elif name in ("list_build", "list_get", "list_index_add", "len") and (
                name != "len" or type(self.val(e.args[0])) is _ListExample):
            self.list_op(e)
        elif name == "copy_stack":
            self.set(e.outs[0], self.val(e.args[0]))
        elif name == "push":
            s = self.val(e.args[0])
            items = [self.val(a) for a in e.args[1:]]
            if not isinstance(s, _Stack):
                return
            if s.items is None:
                s.items = items
            else:
                new = [_join(x, y) for x, y in zip(s.items, items)] \
                    if len(s.items) == len(items) else [UNKNOWN] * len(s.items)
                if s.read and not all(_same(x, y) for x, y in zip(new, s.items)):
                    self.dirty = True
                s.items = new
        elif name == "pop":
            s = self.val(e.args[0])
            if isinstance(s, _Stack) and s.items is not None and len(s.items) == len(e.outs):
                s.read = True
                for o, x in zip(e.outs, s.items):
                    self.set(o, x)
            else:
                for o in e.outs:
                    self.set(o, UNKNOWN)
        else:
            self.simple(e)

    def _same_again(self, e) -> bool:
        """In a loop body evaluated again (``self.changed`` is not None):
        does ``e`` (an operation :meth:`simple` evaluates) give what it gave
        the last time?  It does when it was evaluated (its results have
        examples) and none of its operands' examples or static flags changed
        since: :meth:`simple` reads nothing else (the operands' examples and
        whether they are static, the equation's own parameters) and NumPy
        evaluates the same operands to the same result.  Not a random draw
        (a throwaway generator gives other numbers each time)."""
        changed = self.changed
        for a in e.args:
            if type(a) is Var and a in changed:
                return False
        if e.kwargs:
            for a in e.kwargs.values():
                if type(a) is Var and a in changed:
                    return False
        ex = self.ex
        for o in e.outs:
            if o not in ex:
                return False
        return getattr(e.prim, "effect", None) != "random"

    def list_op(self, e):
        """``[a, b, ...]``, ``xs[k]`` and ``len(xs)`` of lists built from
        known values (:class:`_ListExample`)."""
        name = e.prim.name
        vals = [self.val(a) for a in e.args]
        if name == "list_build":
            ok = not e.kwargs and all(v is not UNKNOWN and not isinstance(v, _Stack)
                                      for v in vals)
            self.set(e.outs[0], _ListExample(vals) if ok else UNKNOWN)
            return
        xs = vals[1] if name == "list_index_add" else vals[0]
        if type(xs) is not _ListExample or e.kwargs:
            self.set(e.outs[0], UNKNOWN)
        elif name == "len":
            self.set(e.outs[0], len(xs.items), static=True)
        elif name == "list_index_add":
            # zeros like each element, ``g`` added at the index: an element is
            # known if it is the same with and without ``g`` added
            g, k = vals[0], vals[2]
            static = self.is_static(e.args[2]) and type(k) is int
            if not _arr(g) or any(not _arr(x) for x in xs.items) or \
                    (static and not -len(xs.items) <= k < len(xs.items)):
                self.set(e.outs[0], UNKNOWN)
                return
            items = []
            for j, x in enumerate(xs.items):
                dt = np.result_type(x, g)
                zero = example_of(np.broadcast_to(np.zeros((), dt), np.shape(x)))
                try:
                    shape = np.broadcast_shapes(np.shape(x), np.shape(g))
                except ValueError:
                    shape = None
                added = UNKNOWN if shape is None else \
                    example_of(np.broadcast_to(np.zeros((), dt), shape))
                if static:
                    items.append(added if j == k % len(xs.items) else zero)
                else:
                    items.append(_join(zero, added))
            self.set(e.outs[0], _ListExample(items))
        else:
            k = vals[1]
            static = self.is_static(e.args[1]) and type(k) is int
            self.set(e.outs[0], xs.element(k if static else None))

    def uniform_list_op(self, e):
        """The operations on a :class:`_ListOf` (see there); anything they
        cannot say gives UNKNOWN, as before."""
        name = e.prim.name
        vals = [self.val(a) for a in e.args]
        kw = {k: (a.value if isinstance(a, Const) else UNKNOWN) for k, a in e.kwargs.items()}
        unknown = [UNKNOWN] * len(e.outs)
        out = unknown
        if name == "list_append":
            xs, x = _as_list_of(vals[0]), vals[1]
            if xs is not None and _uniform_elem_ok(x) and (
                    xs.elem is None or _same(xs.elem, x)):
                out = [_ListOf(x, None if xs.n is None else xs.n + 1)]
        elif name == "list_pop":
            xs = _as_list_of(vals[0])
            if xs is not None and xs.elem is not None and xs.n != 0:
                out = [_ListOf(xs.elem, None if xs.n is None else xs.n - 1), xs.elem]
        elif name == "unstack":
            g, axis = vals[0], kw.get("axis", 0)
            if type(g) is np.ndarray and type(axis) is int and -g.ndim <= axis < g.ndim \
                    and g.shape[axis] > 0:
                # (runtime.unstack's elements are g's sub-arrays as indexing
                # gives them: a NumPy scalar of a 1-d g, never the (1,)-shaped
                # array np.ascontiguousarray would make of it)
                elem = example_of(np.moveaxis(g, axis, 0)[0])
                out = [_ListOf(elem, g.shape[axis])]
        elif name in ("stack_list", "concat_list"):
            xs = _as_list_of(vals[0])
            if xs is not None and xs.elem is not None and xs.n and \
                    isinstance(xs.elem, (np.ndarray, np.generic, float, int)) and \
                    not isinstance(xs.elem, bool) and all(v is not UNKNOWN for v in kw.values()):
                out = [_stacked_example(name, xs, kw)]
        elif name == "list_get":
            xs, k = vals[0], vals[1]
            static = self.is_static(e.args[1]) and type(k) is int
            if not e.kwargs and not (static and xs.n is not None and not -xs.n <= k < xs.n):
                out = [xs.elem if xs.elem is not None else UNKNOWN]
        elif name == "len":
            if xs_n_known(vals[0]):
                self.set(e.outs[0], vals[0].n, static=True)
                return
        elif name == "list_add":
            if _same(vals[0], vals[1]):
                out = [vals[0]]
        elif name == "list_zeros":
            # float64 zeros shaped like each element (runtime.list_zeros)
            xs = vals[0]
            if type(xs.elem) is np.ndarray and not e.kwargs:
                out = [_ListOf(example_of(np.zeros(xs.elem.shape, float)), xs.n)]
        elif name == "unconcat_list":
            # the cotangent of np.concatenate/np.vstack/... of xs split back
            # into pieces shaped like xs's elements, in the cotangent's dtype
            g, xs = vals[0], vals[1]
            if type(g) is np.ndarray and _arr(xs.elem) and xs.n and \
                    g.dtype == np.asarray(xs.elem).dtype and \
                    _same(_stacked_example("concat_list", xs, kw), g):
                out = [xs]
        elif name == "list_index_add":
            g, xs = vals[0], vals[1]
            if _arr(g) and _arr(xs.elem) and not e.kwargs:
                dt = np.result_type(xs.elem, g)
                try:
                    shape = np.broadcast_shapes(np.shape(xs.elem), np.shape(g))
                except ValueError:
                    shape = None
                if shape == np.shape(xs.elem) and dt == xs.elem.dtype:
                    out = [xs]
        for o, v in zip(e.outs, out):
            self.set(o, v)

    def cond(self, e):
        """The outputs of ``if p: ... else: ...``: the join of the branches'
        results.  Two facts keep what the join would lose:

        * ``p`` static (its example is its value in every call of this
          signature: ``cfg["clip"] is not None`` of a settings dict keyed
          with ``clip`` None, see :meth:`simple`): only the branch taken is
          evaluated, and the outputs are its results (static where they are).
          The other branch's values keep no example (UNKNOWN: no rewrite).
        * ``p`` the predicate of an earlier ``if`` (the reverse sweep's
          ``if p:`` of the forward's, the same SSA value, so the same truth
          value when it runs): each branch is evaluated with the earlier
          one's outputs as that branch left them (a residual ``_t0 =
          cfg["n"]`` is an int in ``then``, not the join of an int and
          None) -- :attr:`by_pred`."""
        p = e.args[0]
        pv = self.val(p)
        if self.is_static(p) and (pv is None or type(pv) in (bool, int, np.bool_)):
            block = e.params["then" if pv else "else"]
            self.block(block)
            for o, r in zip(e.outs, block.results):
                self.set(o, self.val(r), static=self.is_static(r))
            self.by_pred.pop(p, None)
            return
        alts = self.by_pred.get(p) if type(p) is Var else None
        then = self._branch(e.params["then"], alts, 0)
        other = self._branch(e.params["else"], alts, 1)
        lost = {}
        for o, (a, sa), (b, sb) in zip(e.outs, then, other):
            j = _join(a, b)
            self.set(o, j)
            if sa or sb or not (_same(j, a) and _same(j, b)):
                lost[o] = ((a, sa), (b, sb))
        if type(p) is Var:
            # (a loop body evaluated again replaces what its last round saw)
            if alts:
                lost = {**{o: v for o, v in alts.items() if o not in e.outs}, **lost}
            if lost:
                self.by_pred[p] = lost
            else:
                self.by_pred.pop(p, None)

    def _branch(self, block, alts, k):
        """``block``'s results as (example, static) pairs, evaluated with the
        values of ``alts`` (:attr:`by_pred`: the outputs of an earlier ``if``
        of the same predicate) as its branch ``k`` (0: then, 1: else) left them."""
        saved = []
        if alts:
            for v, pair in alts.items():
                saved.append((v, self.ex.get(v, _NOT_SET), v in self.static))
                self.set(v, pair[k][0], pair[k][1])
        try:
            self.block(block)
            return [(self.val(r), self.is_static(r)) for r in block.results]
        finally:
            for v, old, st in saved:
                if old is _NOT_SET:
                    self.ex.pop(v, None)
                    self.static.discard(v)
                else:
                    self.set(v, old, st)
                if self.changed is not None:
                    self.changed.add(v)

    def loop(self, e):
        body = e.params["body"]
        off = loop_offset(e)
        carries = [self.val(a) for a in e.args[off:]]
        index = UNKNOWN
        if off:
            it = self.val(e.args[0])
            index = 0 if isinstance(it, range) else UNKNOWN
            if isinstance(it, range) and len(it) == 1 and \
                    (not isinstance(e.args[0], Var) or e.args[0] in self.static):
                # one iteration (a @checkpoint helper run inside a checkpointed
                # loop's segment): the outputs are the body's results, not
                # joined with the initial values (``h_2 = None`` before it)
                for p, c in zip(body.params[off:], carries):
                    self.set(p, c)
                self.set(body.params[0], index)
                for o, r in zip(e.outs, self.block(body)):
                    self.set(o, r)
                return
        results = None
        # From the second round on, an operation whose operands are as they
        # were the last time is not evaluated again (_same_again): the Vars
        # changed since the second round began are noted (by set), in the
        # outermost loop evaluated again, for every loop inside it too.
        outer_changed = self.changed
        try:
            results, carries = self._fixpoint(e, body, off, carries, index, outer_changed)
        finally:
            self.changed = outer_changed
        if off and results is not None and e.params.get("break_at") is None and \
                isinstance(it, range) and len(it) > 0 and self.is_static(e.args[0]):
            # a loop that certainly runs (a constant, non-empty range, no
            # break): its outputs are what the body computes from the
            # carries, not also their values before it (0.0 -> np.float64)
            carries = results
            carries = self._grown_lists(e, body, off, len(it), carries)
        for o, c in zip(e.outs, carries):
            self.set(o, c)

    def _fixpoint(self, e, body, off, carries, index, outer_changed):
        """(the body's results, the carries' examples) of :meth:`loop`'s
        fixpoint rounds."""
        results = None
        for round_ in range(8):
            if round_ == 1 and outer_changed is None:
                self.changed = set()
            for p, c in zip(body.params[off:], carries):
                self.set(p, c)
            if off:
                self.set(body.params[0], index)
            cond = e.params.get("cond")
            if cond is not None:
                for p, c in zip(cond.params, carries):
                    self.set(p, c)
                self.block(cond)
            results = self.block(body)
            new = [_join(c, r) for c, r in zip(carries, results)]
            if all(_same(a, b) or (a is UNKNOWN and b is UNKNOWN) for a, b in zip(new, carries)):
                break
            carries = new
        else:                               # pragma: no cover - joins reach UNKNOWN fast
            carries = [UNKNOWN] * len(carries)
            for p in body.params:
                self.set(p, UNKNOWN)
            results = None
            self.block(body)
        return results, carries

    def _grown_lists(self, e, body, off, trips, carries):
        """A list carry that every iteration grows by the same number of
        unconditional appends (the body's result is ``list_append`` of
        ``list_append`` ... of the body's parameter, at the body's top level)
        has, after ``trips`` iterations, its initial length plus that many
        elements per iteration (``hs = []; for t in range(T): hs.append(h)``
        is T long)."""
        defs = {o: q for q in body.eqns for o in q.outs}
        out = list(carries)
        for k, c in enumerate(carries):
            if type(c) is not _ListOf or c.n is not None:
                continue
            init = _as_list_of(self.val(e.args[off + k]))
            if init is None or init.n is None:
                continue
            v, count = body.results[k], 0
            while isinstance(v, Var) and v in defs and defs[v].prim.name == "list_append" \
                    and count <= len(body.eqns):
                v, count = defs[v].args[0], count + 1
            if v is body.params[off + k] and count:
                out[k] = _ListOf(c.elem, init.n + count * trips)
        return out

    def checkpoint_forward(self, e):
        """A checkpointed loop (s2sgrad.remat): its segment function runs the
        loop from the initial state; the tape remembers the state's examples
        for the step function."""
        seg = e.params["segment"]
        it = self.val(e.args[0])
        self.set(seg.params[0], it[:0] if isinstance(it, range) else UNKNOWN,
                 static=False)
        for p, a in zip(seg.params[1:], e.args[1:]):
            self.set(p, self.val(a))
        results = self.block(seg)
        for o, r in zip(e.outs, results):
            self.set(o, r)
        if e.params.get("straight"):
            # a helper's segment runs once, from the state it was given
            state = [self.val(p) for p in seg.params[1:]]
        else:
            loop = seg.eqns[-1]
            state = [self.val(p) for p in loop.params["body"].params[loop_offset(loop):]]
        self.set(e.outs[-1], _TapeExample(it, state, e.outs[-1]))

    def checkpoint_backward(self, e):
        step = e.params["step"]
        tape = self.val(e.args[0])
        it, state = (tape.it, tape.state) if type(tape) is _TapeExample else (UNKNOWN, None)
        n = e.params["nbars"] + e.params["naccs"] + e.params.get("nsaved", 0)
        if state is None:
            state = [UNKNOWN] * (len(step.params) - 1 - n)
        self.set(step.params[0], it[:0] if isinstance(it, range) else UNKNOWN)
        vals = state + [self.val(a) for a in e.args[1:1 + n]]
        for p, v in zip(step.params[1:], vals):
            self.set(p, v)
        results = self.block(step)
        nb, na = e.params["nbars"], e.params["naccs"]
        for k, (o, r) in enumerate(zip(e.outs, results)):
            # an accumulator's example joins what came in with what came out
            self.set(o, _join(self.val(e.args[1 + k]), r) if nb <= k < nb + na else r)

    def simple(self, e):
        name = e.prim.name
        ex = self.ex
        if name == "is_none" or name == "is_not_none":
            # (no impl: known of a static operand, whose example is its value
            # -- a settings dict's item keyed as None, see below -- and of an
            # operand whose example is a number or an array: a value of that
            # type, never None -- a settings dict's item keyed as a float)
            a = e.args[0]
            v = self.val(a)
            static = self.is_static(a) or \
                isinstance(v, (bool, int, float, complex, np.generic, np.ndarray))
            self.set(e.outs[0], ((v is None) == (name == "is_none")) if static else UNKNOWN,
                     static)
            return
        args = [a.value if type(a) is Const else ex.get(a, UNKNOWN) for a in e.args]
        kwargs = {k: self.val(v) for k, v in e.kwargs.items()} if e.kwargs else {}
        draw = getattr(e.prim, "effect", None) == "random"
        if draw:
            # A draw's shape and dtype never depend on the generator's state:
            # evaluate it on a throwaway generator of the same kind, never the
            # user's (whose state must advance only as in one call).
            kind = token_kind(e.outs[0]) if not e.args else token_kind(e.args[0])
            if kind is None:
                for o in e.outs:
                    self.set(o, UNKNOWN)
                return
            if not e.args:                    # np.random.default_rng(seed) and co.
                self.set(e.outs[0], _throwaway(kind))
                return
            args[0] = _throwaway(kind)
        outs = e.outs
        elementwise = e.prim.shape is shape_elementwise
        impl = e.prim.impl
        if name == "batch_helper" and e.params.get("fn") in _BATCH_SAFE and \
                "index" not in e.params:
            # a rank-dependent helper of batched code (s2sgrad.batch_runtime)
            from . import batch_runtime
            impl = getattr(batch_runtime, e.params["fn"])
        elif name in ("py_min", "py_max"):
            # zip's trip count (the builtins are no primitive's impl: a
            # user's min() is not this primitive)
            impl = min if name == "py_min" else max
        elif name == "scalar_cast" and _is_scalar_seed(e):
            impl = _scalar_cast      # (no impl: the dtype is the callable)
        safe = name in _SAFE or e.prim.shape_safe or draw
        ok = (safe or elementwise or name in _VALUE_FREE or impl is not e.prim.impl) \
            and _all_known(args) and \
            not any(v is UNKNOWN for v in kwargs.values()) and impl is not None
        if ok and not elementwise and name not in _VALUE_FREE:
            # Python and integer operands may carry a shape (reshape targets,
            # lengths, split points): they must be static.  The data operands
            # (every positional one of a reduction or a product, the first of
            # a shape operation) cannot.
            first = 0 if name in _CREATION else 1
            data = len(args) if name in _DATA_PRIMS or e.prim.shape_safe else first
            ok = all(self.is_static(a) for a, v in zip(e.args[data:], args[data:])
                     if _shapeish(v)) and \
                all(self.is_static(a) for a, v in zip(e.kwargs.values(), kwargs.values())
                    if _shapeish(v))
        if ok and name in ("getitem", "index_add", "setitem"):
            ok = self._index_ok(e, args)
        if ok and name in ("where", "clip"):
            ok = all(not _is_pyscalar(v) or isinstance(v, (int, float, bool)) for v in args)
        if not ok:
            for o in outs:
                self.set(o, UNKNOWN)
            return
        if self.lazy and name not in _SHAPE_VALUES and \
                (not (getattr(impl, "__module__", None) or "").startswith("numpy") or
                 arrays.implements(_lazy_like(), impl)):
            # (np.size and co. read only the example's shape; on a dask array
            # np.size would compute it)
            args, kwargs = _as_lazy(args), dict(zip(kwargs, _as_lazy(list(kwargs.values()))))
            if name in ("zeros", "ones", "full", "empty", "arange") and args and \
                    _large_shape(args[0]):
                kwargs = dict(kwargs, like=_lazy_like())      # np.full(S, v, like=dask)
        try:
            if _any_mixed(args) or (kwargs and _any_mixed(kwargs.values())):
                res = self._evaluate_mixed(e, impl, args, kwargs)
            else:
                res = _evaluate(e, impl, args, kwargs)
        except Exception:
            for o in outs:
                self.set(o, UNKNOWN)
            return
        if self.lazy:
            res = _from_lazy(res)
        static = not draw and (
            (name in _SHAPE_VALUES and (_arr(args[0]) or self.is_static(e.args[0]))) or (
                (_is_pyscalar(res) or type(res) is range) and
                all(self.is_static(a) for a in e.atoms())) or
            # an item of a settings dict that its key has as None (example_of,
            # api._data_key; the fast path tests ``is None``): it is None
            (res is None and name == "getitem" and type(args[0]) is dict))
        if len(outs) == 1:
            if type(res) is dict and name == "getitem" and type(args[0]) is dict:
                # a settings dict's nested dict: its example (_settings_example)
                self.set(outs[0], res, static)
                return
            self.set(outs[0], _normalize(res), static)
        else:
            res = tuple(res) if isinstance(res, (tuple, list)) else None
            if res is None or len(res) != len(outs):
                for o in outs:
                    self.set(o, UNKNOWN)
                return
            for o, r in zip(outs, res):
                self.set(o, _normalize(r), static)

    def _evaluate_mixed(self, e, impl, args, kwargs):
        """``e`` evaluated for every combination of its ``Mixed`` operands'
        alternatives (at most 8), the results joined (see :class:`Mixed`)."""
        import itertools
        vals = list(args) + list(kwargs.values())
        combos = list(itertools.islice(itertools.product(*[_alts(v) for v in vals]), 9))
        if len(combos) > 8:
            raise ValueError("too many alternatives")
        res = None
        for k, combo in enumerate(combos):
            r = _evaluate(e, impl, combo[:len(args)], dict(zip(kwargs, combo[len(args):])))
            if isinstance(r, (tuple, list)):
                raise ValueError("several results")
            r = _normalize(r)
            res = r if k == 0 else _join(res, r)
            if res is UNKNOWN:
                raise ValueError("alternatives disagree")
        return res

    def _index_ok(self, e, args):
        """Indexing has a data-independent shape unless a boolean mask or a
        computed slice bound is involved."""
        parts = e.args[2:] if e.prim.name in ("index_add", "setitem") else e.args[1:]
        pvals = args[2:] if e.prim.name in ("index_add", "setitem") else args[1:]
        in_slice = set()

        def walk(t, sl):
            if isinstance(t, Slot):
                if sl:
                    in_slice.add(t.k)
            elif isinstance(t, slice):
                for x in (t.start, t.stop, t.step):
                    walk(x, True)
            elif isinstance(t, tuple):
                for x in t:
                    walk(x, sl)
        walk(e.params.get("index"), False)
        del walk  # (breaks the recursive closure's reference cycle)
        for k, (a, v) in enumerate(zip(parts, pvals)):
            if isinstance(v, (np.ndarray, np.generic)) and v.dtype.kind == "b":
                return False
            if isinstance(v, (bool, list, tuple)):
                return False
            if k in in_slice and not self.is_static(a):
                return False
        return True


class _Quiet:
    """Warnings and NumPy floating-point errors of example evaluations
    ignored: entered once around a whole specialisation (a ``catch_warnings``
    and an ``errstate`` cost some 15 us, once per evaluated equation they were
    a twentieth of the compile time), and by each evaluation outside one.
    The depth is per thread (``np.errstate`` is)."""
    _local = threading.local()

    @classmethod
    def on(cls) -> bool:
        return getattr(cls._local, "depth", 0) > 0

    def __enter__(self):
        depth = getattr(self._local, "depth", 0)
        self._cm = ()
        if depth == 0:
            self._cm = (warnings.catch_warnings(), np.errstate(all="ignore"))
            for cm in self._cm:
                cm.__enter__()
            warnings.simplefilter("ignore")
        self._local.depth = depth + 1
        return self

    def __exit__(self, *exc):
        self._local.depth -= 1
        for cm in reversed(self._cm):
            cm.__exit__(*exc)
        return False


def _evaluate(e, impl, args, kwargs):
    """Run ``e``'s NumPy implementation on example operands."""
    if _Quiet.on():
        return _evaluate_here(e, impl, args, kwargs)
    with _Quiet():
        return _evaluate_here(e, impl, args, kwargs)


def _evaluate_here(e, impl, args, kwargs):
    if _operator_printed(e):
        return _eval_operator(e, args, kwargs)
    if e.prim.seq_arg:              # np.stack([a, b]): operands are the list
        return impl(list(args), **kwargs)
    if e.prim.eqn_rule:
        return impl(*args, **kwargs, **{k: v for k, v in e.params.items() if k == "index"})
    return impl(*args, **kwargs)


def _operator_printed(e) -> bool:
    p = e.prim.printer
    return getattr(p, "operator", False) and e.params.get("spelling") != ("func",)


_OP_CODE: dict = {}


# the operations _Infer.eqn evaluates otherwise than by _Infer.simple, and
# those _Rewriter.eqn rewrites by name after its general rewrites
# (tests/test_compile10.py checks them against the names the methods compare)
_NOT_SET = object()       # (a Var without an example: _Infer.set)
_INFER_OWN = frozenset({
    "cond", "for_loop", "while_loop", "checkpoint_forward", "checkpoint_backward",
    "new_stack", "copy_stack", "push", "pop", "list_get", "list_index_add", "len",
    "list_append", "list_pop", "unstack", "stack_list", "concat_list", "list_add",
    "unconcat_list", "list_zeros", "list_build"})
_REWRITTEN = frozenset({
    "batch_helper", "multiply", "unbroadcast", "unreduce", "broadcast_like", "matmul_vjp_a",
    "matmul_vjp_b", "dot_vjp_a", "dot_vjp_b", "sum", "mean", "max", "min", "prod",
    "real_if_complex", "conj_if_complex", "require_real", "grad_like", "csign",
    "check_rule_output", "stop_gradient", "scalar_seed", "sigmoid", "norm_scale",
    "sigmoid_link", "softmax_link"})


def _eval_operator(e, args, kwargs):
    """Evaluate an equation printed as a Python operator (``a / b``) with
    Python's semantics, as the generated code will: ``1.0 / 64`` is a Python
    float there (a weak scalar for NumPy's type promotion), not the
    ``np.float64`` that ``np.divide`` would give."""
    code = _OP_CODE.get((e.prim.name, len(args)))
    if code is None:
        code = _OP_CODE[(e.prim.name, len(args))] = _operator_code(e, len(args))
    if kwargs:
        raise ValueError("operator with options")
    if type(code) is not _CodeType:
        return code(*args)      # (the operator's function: the same call as the operator)
    return eval(code, _EVAL_GLOBALS, {f"_a{i}": a for i, a in enumerate(args)})


def _operator_code(e, n):
    """What :func:`_eval_operator` runs for ``e``'s printed operator on ``n``
    operands: the function of the :mod:`operator` module the printed
    expression is (``_a0 * _a1`` is ``operator.mul(_a0, _a1)``: the same
    number protocol call), else the compiled expression."""
    names = [ast.Name(id=f"_a{i}", ctx=ast.Load()) for i in range(n)]
    node = e.prim.printer(names, {}, e)

    def arg(x, i):
        return type(x) is ast.Name and x.id == f"_a{i}"
    if type(node) is ast.BinOp and n == 2 and arg(node.left, 0) and arg(node.right, 1):
        fn = _BINOPS.get(type(node.op))
        if fn is not None:
            return getattr(operator, fn)
    if type(node) is ast.UnaryOp and n == 1 and arg(node.operand, 0):
        fn = _UNARYOPS.get(type(node.op))
        if fn is not None:
            return getattr(operator, fn)
    if type(node) is ast.Compare and n == 2 and arg(node.left, 0) and len(node.ops) == 1 and \
            len(node.comparators) == 1 and arg(node.comparators[0], 1):
        fn = _COMPARES.get(type(node.ops[0]))
        if fn is not None:
            return getattr(operator, fn)
    return compile(ast.fix_missing_locations(ast.Expression(body=node)), "<s2sgrad example>",
                   "eval")


_CodeType = type(compile("0", "<s2sgrad>", "eval"))
_BINOPS = {
    getattr(ast, k): v for k, v in (
        ("Add", "add"), ("Sub", "sub"), ("Mult", "mul"), ("Div", "truediv"),
        ("FloorDiv", "floordiv"), ("Mod", "mod"), ("Pow", "pow"), ("MatMult", "matmul"),
        ("BitAnd", "and_"), ("BitOr", "or_"), ("BitXor", "xor"), ("LShift", "lshift"),
        ("RShift", "rshift"))}
_UNARYOPS = {getattr(ast, k): v for k, v in (
    ("USub", "neg"), ("UAdd", "pos"), ("Invert", "invert"), ("Not", "not_"))}
_COMPARES = {getattr(ast, k): v for k, v in (
    ("Lt", "lt"), ("LtE", "le"), ("Gt", "gt"), ("GtE", "ge"), ("Eq", "eq"), ("NotEq", "ne"))}


_EVAL_GLOBALS = {"np": np}


def _shapeish(v) -> bool:
    """Could this operand's value determine a result shape?"""
    if isinstance(v, (np.ndarray, np.generic)):
        return v.dtype.kind in "iub"
    return True


def _normalize(r):
    if type(r) is Mixed:
        return r
    if isinstance(r, (np.ndarray, np.generic, int, float, bool, tuple, range, np.dtype,
                      type(None))):
        if isinstance(r, tuple) and not all(
                isinstance(x, (int, np.integer, np.ndarray, np.generic, float)) for x in r):
            return UNKNOWN
        return r
    return UNKNOWN


def infer(func: Func, leaves) -> _Infer | None:
    """Abstract evaluation of ``func`` on examples of ``leaves`` (see the module doc)."""
    seed: dict = {}
    for _ in range(4):
        inf = _Infer()
        inf.lazy = any(arrays.is_lazy(x) for x in leaves)
        # a pop may come before a push that widens the stack's contents (a
        # stack filled in a later sweep): start again from what was pushed
        inf.seed_stacks = seed
        for p, x in zip(func.params, leaves):
            inf.set(p, example_of(x))
        inf.block(func.body)
        if not inf.dirty:
            return inf
        seed = {v: s.items for v, s in inf.stacks}
    return None


# ---------------------------------------------------------------- rewriting


def _shape(v):
    return np.shape(v)


def _grad_like_identity(g, x) -> bool:
    """Whether ``runtime.grad_like(g, x)`` returns ``g`` itself for values of
    these kinds (dtypes): ``g`` not complex unless ``x`` is, and no dtype cast."""
    if np.iscomplexobj(g) and not np.iscomplexobj(x):
        return False
    xd = getattr(x, "dtype", None)
    return not (xd is not None and xd.kind in "fc" and isinstance(g, (np.ndarray, np.generic))
                and g.dtype.kind in "fc" and g.dtype != xd)


def _arr(v) -> bool:
    return isinstance(v, (np.ndarray, np.generic))


class _Rewriter:
    def __init__(self, inf: _Infer, foreign=frozenset()):
        self.inf = inf
        self.foreign = set(foreign)   # values that may be duck arrays (see foreign_values)
        self.subst: dict = {}
        # broadcast value -> an atom that NumPy broadcasting expands to it
        self.lazy: dict = {}
        self.defs: dict = {}          # Var -> its (rewritten) equation
        self.witnesses: dict = {}     # (shape, dtype) -> earliest such top-level value
        # the program tests memory identity at run time (s2sgrad.alias: whether
        # a reshape made a view): then a copy such as ``w * 1.0`` stays a copy
        self.keep_copies = False
        # the program tests at run time whether a reshape is a view (the
        # only way it observes memory order: order='A'/'K', .strides and
        # .flags are refused), so x op= v keeps x's order (in_place_result)
        self.layout_observed = False

    def _layout_follows(self, new, cur) -> bool:
        """Whether ``new`` (x op v for x op= v) is in ``cur``'s memory order
        whatever the layouts: a ufunc of ``cur`` and operands with at most
        one axis longer than 1 (numbers, broadcast rows or columns), which
        NumPy allocates in ``cur``'s order.  (``x += C`` of another full
        array: the order of both, known at run time only.)"""
        d = self.defs.get(new)
        if d is None or not isinstance(d.prim.impl, np.ufunc) or d.kwargs or d.params or \
                not any(a is cur for a in d.args):
            return False
        for a in d.args:
            if a is cur:
                continue
            v = a.value if isinstance(a, Const) else self.val(a)
            if v is UNKNOWN or v is None or sum(n > 1 for n in np.shape(v)) > 1:
                return False
        return True

    def atom(self, a):
        while isinstance(a, Var) and a in self.subst:
            a = self.subst[a]
        return a

    def val(self, a):
        v = self.inf.val(a)
        return UNKNOWN if type(v) is Mixed else v     # (its type is not known)

    def block(self, block: Block, top=False) -> Block:
        out = []
        subst = self.subst
        for e in block.eqns:
            if e.prim.name == "cond" and self._taken(e) is not None:
                # an ``if`` whose predicate is static (_Infer.cond): the branch
                # taken in every call of this signature, in place of the ``if``
                taken = self.block(e.params[self._taken(e)], top=top)
                out += taken.eqns
                for o, r in zip(e.outs, taken.results):
                    self.subst[o] = r
                continue
            args = tuple([self.atom(a) for a in e.args]) if subst else e.args
            if e.prim.name in SHAPE_ONLY_OPERANDS:
                args = tuple(self.witness_for(a) if shape_only(e.prim.name, i) else a
                             for i, a in enumerate(args))
            e = Eqn(e.prim, args,
                    {k: self.atom(v) for k, v in e.kwargs.items()} if e.kwargs else {}, e.outs,
                    {k: (self.block(v) if isinstance(v, Block) else v)
                     for k, v in e.params.items()} if e.params else {}, e.loc)
            new = self.eqn(e)
            if new is None:
                new = [e]
            out += new
            for x in new:
                for o in x.outs:
                    self.defs[o] = x
                    if top:
                        self.note_witness(o)
        return Block(out, list(block.params), [self.atom(r) for r in block.results])

    def _taken(self, e):
        """"then" or "else": the branch of the ``if`` ``e`` whose predicate is
        static (the same test as :meth:`_Infer.cond`); None otherwise."""
        p = e.args[0]
        pv = self.inf.val(p)
        if not self.inf.is_static(p) or not (pv is None or type(pv) in (bool, int, np.bool_)):
            return None
        return "then" if pv else "else"

    def note_witness(self, v):
        x = self.val(v)
        if type(x) is np.ndarray:
            self.witnesses.setdefault((x.shape, x.dtype, v in self.foreign), v)

    def witness_for(self, a):
        """The earliest value of the function body (visible everywhere after
        it) with ``a``'s shape and dtype: an operand read only for its shape
        then does not keep its own computation alive (``logp`` computed only
        to shape the scatter-add of ``logp[rows, labels]``'s adjoint)."""
        x = self.val(a)
        if type(x) is not np.ndarray:
            return a
        # (of the same kind: a NumPy value never stands for a dask one)
        return self.witnesses.get((x.shape, x.dtype, a in self.foreign), a)

    def emit(self, e, build):
        """Run ``build(em)`` -> Atom for e's single output; return the equations."""
        em = Emitter(Block(), loc=e.loc, hint=e.outs[0].hint)
        res = build(em)
        if res is None:
            return None
        eqns = em.block.eqns
        res = self.atom(res)
        if isinstance(res, Var) and eqns and eqns[-1].outs == (res,):
            # let the last equation define the original output (keeps names)
            last = eqns[-1]
            eqns[-1] = Eqn(last.prim, last.args, last.kwargs, e.outs, last.params, last.loc)
        else:
            self.subst[e.outs[0]] = res
        for x in eqns:                 # examples for the new values
            self.inf.simple(x)
            if any(isinstance(a, Var) and a in self.foreign for a in x.atoms()):
                self.foreign.update(x.outs)
        if e.outs[0] in self.foreign:
            self.foreign.update(o for x in eqns for o in x.outs)
        return eqns

    def eqn(self, e):
        name = e.prim.name
        if name == "check_real" and self.val(e.args[0]) is not UNKNOWN and \
                not np.iscomplexobj(self.val(e.args[0])):
            return []                  # a real value: nothing to refuse
        if name == "check_float_output" and self.val(e.args[0]) is not UNKNOWN and \
                np.asarray(self.val(e.args[0])).dtype.kind in "fc":
            return []                  # a float output: nothing to refuse
        if name == "check_unpack_length" and self.val(e.args[0]) is not UNKNOWN and \
                _unpack_fits(self.val(e.args[0]), e.kwargs):
            return []                  # a known length that fits the names
        if e.blocks() or len(e.outs) != 1:
            return None
        if e.prim.simplify is not None and not e.params and \
                any(isinstance(a, Const) for a in e.args):
            folded = e.prim.simplify(e.args, e.kwargs)     # e.g. -1.0 / 64 once size is known
            if folded is not None:
                self.subst[e.outs[0]] = folded
                return []
        out = self.val(e.outs[0])
        if name == "unbroadcast" and type(self.inf.val(e.args[0])) is Mixed and \
                np.shape(self.val(e.args[1])) == () and self.val(e.args[1]) is not UNKNOWN:
            self.subst[e.outs[0]] = e.args[0]       # a 0-d value onto a 0-d one: itself
            return []
        if name == "same_kind_checked":
            # np.copyto(y, v) / out=y: the cast is allowed once the dtypes are known
            src, dst = (self.val(a) for a in e.args)
            if src is not UNKNOWN and dst is not UNKNOWN and isinstance(dst, np.ndarray) and \
                    isinstance(src, (np.ndarray, np.generic)) and \
                    np.can_cast(src.dtype, dst.dtype, "same_kind"):
                self.subst[e.outs[0]] = e.args[0]
                return []
        if name == "out_checked":
            # f(..., out=y): the result already has y's shape and dtype
            value, dst = (self.val(a) for a in e.args)
            if isinstance(dst, np.ndarray) and isinstance(value, (np.ndarray, np.generic)) and \
                    np.shape(value) == dst.shape and value.dtype == dst.dtype:
                self.subst[e.outs[0]] = e.args[0]
                return []
        if name == "in_place_result":
            # x op= v: new already has x's dtype and shape, or x is no array
            # (and, for the primal write where the program observes memory
            # order, x has at most one axis longer than 1 -- every compact
            # order of it is the same -- or new's order follows from its
            # operands: the run-time helper keeps x's order otherwise, a
            # layout being no shape fact)
            new, cur = (self.val(a) for a in e.args)
            lay = e.kwargs.get("layout")
            if isinstance(lay, Const) and lay.value and self.layout_observed and \
                    isinstance(cur, np.ndarray) and sum(d > 1 for d in cur.shape) > 1 and \
                    not self._layout_follows(*e.args):
                return None
            if cur is not UNKNOWN and new is not UNKNOWN and (
                    not isinstance(cur, np.ndarray) or
                    (np.shape(new) == cur.shape and getattr(new, "dtype", None) == cur.dtype)):
                self.subst[e.outs[0]] = e.args[0]
                return []
            if isinstance(cur, np.ndarray) and isinstance(new, (np.ndarray, np.generic)) and \
                    np.shape(new) == cur.shape and np.can_cast(new.dtype, cur.dtype, "same_kind"):
                dt = Const(cur.dtype.type)
                return self.emit(e, lambda em: em.astype(e.args[0], dtype=dt))
        if name == "cast_derivative":
            # a derivative through a conversion to a float dtype, already in
            # the target dtype (and real where the target is): itself
            t = self.val(e.args[0])
            dtype, to = (self.val(e.kwargs[k]) for k in ("dtype", "to"))
            try:
                same = t is not UNKNOWN and np.issubdtype(np.dtype(dtype), np.inexact) and \
                    isinstance(t, (np.ndarray, np.generic)) and t.dtype == np.dtype(to)
            except TypeError:
                same = False
            if same:
                self.subst[e.outs[0]] = e.args[0]
                return []
        if out is UNKNOWN:
            return None
        if e.outs[0] in self.inf.static and _printable(out) and \
                not getattr(e.prim, "effect", False):
            # len(x), x.shape[0], 1 / n, np.result_type(x) (as np.float64)
            self.subst[e.outs[0]] = Const(out.type if isinstance(out, np.dtype) else out)
            return []
        if name == "index_add" and len(e.args) == 2 and not e.kwargs:
            done = self.index_add_newaxes(e, out)
            if done is not None:
                return done
        if name not in _REWRITTEN and name not in _COLUMN_LIMIT:
            return None         # (none of the rewrites below is of this operation)
        if name == "batch_helper" and "index" not in e.params:
            done = self.batch_helper(e, out)
            if done is not None:
                return done
        if name == "multiply" and not e.params:
            done = self.unit(e, out)
            return done if done is not None else self.scale_chain(e, out)
        if name == "unbroadcast":
            return self.unbroadcast(e, out)
        if name in ("unreduce", "broadcast_like"):
            return self.unreduce(e, out)
        if name in ("matmul_vjp_a", "matmul_vjp_b", "dot_vjp_a", "dot_vjp_b"):
            return self.matmul_vjp(e, out)
        if name in _COLUMN_LIMIT and len(e.args) == 1:
            done = self.columns(e, out)
            if done is not None:
                return done
        if name in ("sum", "mean", "max", "min", "prod") and \
                e.params.get("spelling", ("func",)) == ("func",) and \
                type(self.val(e.args[0])) is np.ndarray and len(e.args) == 1:
            # x.sum(axis=1) skips np.sum's Python-level dispatch (a few us per
            # call at small sizes); same ufunc reduction, same result
            return [Eqn(e.prim, e.args, e.kwargs, e.outs,
                        dict(e.params, spelling=("method", name)), e.loc)]
        if name in ("real_if_complex", "conj_if_complex", "require_real") and \
                self.val(e.args[0]) is not UNKNOWN and not np.iscomplexobj(self.val(e.args[0])):
            # the identity on real values (the complex-number rules' helpers)
            self.subst[e.outs[0]] = e.args[0]
            return []
        if name == "grad_like" and self.val(e.args[0]) is not UNKNOWN and \
                self.val(e.args[1]) is not UNKNOWN and \
                _grad_like_identity(self.val(e.args[0]), self.val(e.args[1])):
            # a real gradient of the argument's dtype: grad_like is the identity
            self.subst[e.outs[0]] = e.args[0]
            return []
        if name == "csign" and self.val(e.args[0]) is not UNKNOWN and \
                not np.iscomplexobj(self.val(e.args[0])):
            return self.emit(e, lambda em: em.sign(e.args[0]))
        if name == "check_rule_output":
            # a user rule's derivative, checked: the check passed on examples of
            # these very shapes and dtypes (its result is known), so it always will
            self.subst[e.outs[0]] = e.args[0]
            return []
        if name == "norm_scale" and len(e.args) >= 2:
            # x * s at run time (runtime.norm_scale); only its derivative checks a
            # zero norm, and specialised code is never differentiated again
            x, s = e.args[0], e.args[1]
            return self.emit(e, lambda em: em.multiply(x, s))
        if name in ("stop_gradient", "sigmoid_link", "softmax_link"):
            # the identity at run time; specialised code is never differentiated again
            self.subst[e.outs[0]] = e.args[0]
            return []
        if name == "scalar_seed" and type(out) is np.ndarray and out.dtype.kind == "f" and \
                out.shape == () and _SCALAR_SEED:
            # the seed 1 of a 0-d loss as a NumPy scalar of its dtype: every ufunc
            # gives a 0-d array and the scalar the same result (NEP 50 promotes
            # both alike; a ufunc's 0-d result is a scalar either way), and the
            # scalar arithmetic of the seed's first adjoints (``seed * lam``,
            # ``seed / n``) is NumPy's scalar fast path, not a ufunc call
            return self.emit(e, lambda em: em.call("scalar_cast", Const(1.0),
                                                   dtype=Const(out.dtype.type)))
        if name == "scalar_seed" and type(out) is np.ndarray and out.dtype.kind == "f":
            # the seed 1 of a gradient, without computing the loss it is shaped like
            return self.emit(e, lambda em: em.call("ones", Const(out.shape),
                                                   dtype=Const(out.dtype.type)))
        if name == "sigmoid" and _arr(out) and isinstance(out, np.ndarray):
            # (1 + tanh(z / 2)) * 0.5 -- bit for bit the helper's 0.5 + 0.5 tanh(z / 2)
            # (scaling by 0.5 is exact) -- as ufunc steps that code generation
            # runs in one buffer, and whose final * 0.5 merges with a constant
            # factor that follows (the 1 / n of a mean)
            z = e.args[0]
            return self.emit(e, lambda em: em.multiply(em.add(em.tanh(em.multiply(z, 0.5)),
                                                              1.0), 0.5))
        return None

    def batch_helper(self, e, out):
        """A rank-dependent helper of batched code (s2sgrad.batch_runtime) for
        the ranks at hand: the identity where it returns its operand
        (``lift``, ``broadcast_like``, ``unbroadcast`` of a value already of
        the result's shape), one matrix product for the 2-d/1-d forms of
        ``matmul``/``matmul_vjp_b``."""
        fn = e.params.get("fn")
        vals = [self.val(a) for a in e.args]
        if not _arr(out) or any(v is UNKNOWN for v in vals):
            return None
        if fn in ("lift", "broadcast_like", "unbroadcast"):
            x = vals[0]
            if type(x) is type(out) is np.ndarray and x.shape == out.shape and \
                    x.dtype == out.dtype:
                self.subst[e.outs[0]] = e.args[0]
                return []
            return None
        if fn == "matmul" and len(vals) == 4:
            a, b, ab, bb = vals
            if not (_arr(a) and _arr(b)):
                return None
            if bb is True and ab is False and b.ndim == 2 and a.ndim == 2:
                # a vector per batch element against a matrix: (B, k) @ a.T
                return self.emit(e, lambda em: em.matmul(e.args[1], _T(em, e.args[0])))
            if ab is True and bb is False and a.ndim == 2 and b.ndim in (1, 2):
                return self.emit(e, lambda em: em.matmul(e.args[0], e.args[1]))
            return None
        if fn == "matmul_vjp_b" and len(vals) == 5:
            g, a, b, gb, ab = vals
            if gb is True and ab is False and _arr(g) and _arr(a) and _arr(b) and \
                    a.ndim == 2 and b.ndim == 1 and g.ndim == 2:
                return self.emit(e, lambda em: em.matmul(e.args[0], e.args[1]))  # g @ a
            return None
        return None

    def unit(self, e, out):
        """``1.0 * w`` -> ``w`` where ``w`` already has the result's type,
        shape and dtype (a seed of one multiplied in)."""
        if self.keep_copies:
            return None
        for i, a in enumerate(e.args):
            if _num_const(a) and a.value == 1:
                w = e.args[1 - i]
                wv = self.val(w)
                if type(wv) is type(out) and np.shape(wv) == np.shape(out) and \
                        np.result_type(wv) == np.result_type(out):
                    self.subst[e.outs[0]] = w
                    return []
        return None

    def scale_chain(self, e, out):
        """``a * (b * w)`` -> ``(a * b) * w`` when ``a`` or ``b`` is a power of
        two (then both round identically), and ``1.0 * w`` -> ``w`` for a
        float array ``w`` of the result's dtype: ``0.5 * (2 * r)``, the
        adjoint of ``0.5 * sum(r ** 2)``, is just ``r``."""
        k = [i for i, a in enumerate(e.args) if _num_const(a)]
        if len(k) != 1 or self.keep_copies:
            return None
        a, v = e.args[k[0]], e.args[1 - k[0]]
        d = self.defs.get(v)
        if d is None or d.prim.name != "multiply" or d.params:
            return None
        j = [i for i, x in enumerate(d.args) if _num_const(x)]
        if len(j) != 1:
            return None
        b, w = d.args[j[0]], d.args[1 - j[0]]
        if not (_pow2(a.value) or _pow2(b.value)):
            return None
        c = a.value * b.value
        wv = self.val(w)
        if c == 1 and _arr(wv) and wv.dtype.kind == "f" and _arr(out) and \
                wv.dtype == out.dtype and np.shape(wv) == np.shape(out):
            self.subst[e.outs[0]] = w
            return []
        return [Eqn(e.prim, (Const(c), w), {}, e.outs, {}, e.loc)]

    def columns(self, e, out):
        """``x.sum(axis=-1)`` / ``max`` / ``min`` of a short last axis as
        column operations (:func:`_column_reduce`), where that applies."""
        x = e.args[0]
        xv = self.val(x)
        if set(e.kwargs) - {"axis", "keepdims"} or \
                any(not isinstance(v, Const) for v in e.kwargs.values()):
            return None
        axis = e.kwargs["axis"].value if "axis" in e.kwargs else None
        keep = e.kwargs["keepdims"].value if "keepdims" in e.kwargs else False
        if type(out) is not np.ndarray or not (keep is None or type(keep) is bool) or \
                not _columns_apply(e.prim.name, xv, axis) or x in self.foreign:
            return None
        return self.emit(e, lambda em: _column_reduce(em, e.prim.name, x, xv, out.shape
                                                      if keep else None))

    def unbroadcast(self, e, out):
        g, x = e.args
        gv, xv = self.val(g), self.val(x)
        if gv is UNKNOWN or xv is UNKNOWN:
            return None
        gs, xs = _shape(gv), _shape(xv)
        if gs == xs:
            self.subst[e.outs[0]] = g
            return []
        if not _arr(gv) or len(gs) < len(xs):
            return None
        lead = len(gs) - len(xs)
        ones = tuple(i + lead for i, n in enumerate(xs) if n == 1 and gs[i + lead] != 1)
        axes = tuple(range(lead)) + ones

        method = {"spelling": ("method", "sum")} if type(gv) is np.ndarray else None

        def build(em):
            axis = axes[0] if len(axes) == 1 else axes
            if axes == (len(gs) - 1,) and _columns_apply("sum", gv, axis) and \
                    g not in self.foreign:
                return _column_reduce(em, "sum", g, gv, xs)
            if not ones:
                return em.call("sum", g, axis=axis, _params=method)
            s = em.call("sum", g, axis=axis, keepdims=True, _params=method)
            return em.reshape(s, xs) if lead else s
        return self.emit(e, build)

    def unreduce(self, e, out):
        """``unreduce(g, x, axis)`` / ``broadcast_like(g, x)``: identity where
        ``g`` already has x's shape; otherwise a constant reshape plus
        ``np.broadcast_to``, and ``g`` (reshaped) is remembered as the
        broadcast's *base* so that consumers can broadcast implicitly
        (:func:`_elide_broadcasts`)."""
        g, x = e.args[:2]
        gv, xv = self.val(g), self.val(x)
        if gv is UNKNOWN or xv is UNKNOWN or not _arr(out):
            return None
        xs = _shape(xv)
        if _arr(gv) and _shape(gv) == xs and gv.dtype == out.dtype:
            self.subst[e.outs[0]] = g
            return []
        base = self.lazy.get(g, g)
        if np.shape(self.val(base)) == ():
            self.lazy[e.outs[0]] = base          # a scalar broadcasts to anything
            if isinstance(g, Const) and type(g.value) in (int, float) and \
                    out.dtype.kind == "f" and out.shape == xs:
                # materialised only if some use needs it: np.full, not a helper
                return self.emit(e, lambda em: em.call("full", Const(xs), g,
                                                       dtype=Const(out.dtype.type)))
            if base is g and _arr(gv) and gv.dtype == out.dtype and out.shape == xs:
                # a 0-d array of the dtype (a seed): a read-only view of it
                # of the constant shape, where the helper read ``x`` for its
                # shape alone and kept ``x``'s computation alive (the values
                # a generator expression's sum adds, in a gradient-only call)
                return self.emit(e, lambda em: em.broadcast_to(g, xs))
            return None
        if not _arr(gv) or gv.dtype != out.dtype:
            return None
        axis = self.val(e.kwargs["axis"]) if "axis" in e.kwargs else None
        keep = self.val(e.kwargs["keepdims"]) if "keepdims" in e.kwargs else False
        kshape = _shape(gv)
        if e.prim.name == "unreduce" and axis is not None and not keep:
            axes = axis if isinstance(axis, tuple) else (axis,)
            axes = sorted(a % len(xs) for a in axes)
            kshape = tuple(1 if i in axes else n for i, n in enumerate(xs))
            if int(np.prod(kshape)) != int(np.size(gv)):
                return None
        holder = {}

        def build(em):
            v = g
            if kshape != _shape(gv):
                # (x.reshape: np.reshape's Python-level dispatch calls this method)
                v = em.call("reshape", v, kshape, _params={"spelling": ("method", "reshape")}) \
                    if type(gv) is np.ndarray else em.reshape(v, kshape)
            holder["base"] = v
            return em.broadcast_to(v, xs)
        eqns = self.emit(e, build)
        if eqns is not None:
            self.lazy[e.outs[0]] = holder["base"]
        return eqns

    def index_add_newaxes(self, e, out):
        """(perf-rows15) ``index_add(g, x, np.s_[:, None])``, the adjoint of
        ``x[:, None]`` (an index of full slices and new axes only), with g
        exactly the shape ``x[idx]`` has and out's dtype: zeros of x's shape
        with every element assigned from g -- g's own numbers, reshaped
        (``g.reshape(x.shape)``: the same bits, no zeros, no assignment)."""
        idx = e.params.get("index", ())
        idx = (None,) if idx is None else idx
        g, x = e.args
        if type(idx) is not tuple or None not in idx or \
                any(t is not None and not (type(t) is slice and t == slice(None)) for t in idx):
            return None
        gv = self.val(g)
        if type(gv) is not np.ndarray or type(out) is not np.ndarray or \
                gv.dtype != out.dtype or any(a in self.foreign for a in (g, x)):
            return None
        dims, k, shape = out.shape, 0, []
        for t in idx:
            if t is None:
                shape.append(1)
            elif k < len(dims):
                shape.append(dims[k])
                k += 1
            else:
                return None
        if tuple(shape) + dims[k:] != gv.shape:
            return None
        return self.emit(e, lambda em: em.call("reshape", g, out.shape,
                                              _params={"spelling": ("method", "reshape")}))

    def matmul_vjp(self, e, out):
        g, a, b = e.args
        gv, av, bv = self.val(g), self.val(a), self.val(b)
        if not (_arr(gv) and _arr(av) and _arr(bv)):
            return None
        an, bn, gn = np.ndim(av), np.ndim(bv), np.ndim(gv)
        if e.prim.name.startswith("dot") and not (1 <= an <= 2 and 1 <= bn <= 2):
            return None     # (np.dot of operands of one or two dimensions is a @ b)
        want_a = e.prim.name.endswith("_a")

        def build(em):
            if want_a:
                if an == 2 and bn == 2 and gn == 2:
                    return em.matmul(g, _T(em, b))
                if an == 2 and bn == 1 and gn == 1:
                    return em.outer(g, b)
                if an == 1 and bn == 2 and gn == 1:
                    return em.matmul(b, g)
                if an == 1 and bn == 1:
                    return em.multiply(g, b)
                return None
            if an == 2 and gn == bn == 1 and np.result_type(av, gv) in _FLOAT_DTYPES:
                # g @ a, not a.T @ g: the same BLAS call (gemv of a, transposed,
                # so the same numbers), without making the view a.T (0.1 us)
                return em.matmul(g, a)
            if an == 2 and gn == bn and bn in (1, 2):
                return em.matmul(_T(em, a), g)
            if an == 1 and bn == 2 and gn == 1:
                return em.outer(a, g)
            if an == 1 and bn == 1:
                return em.multiply(g, a)
            return None
        return self.emit(e, build)


def _printable(v) -> bool:
    """A static value that prints as a Python literal (or ``np.float64``)."""
    if isinstance(v, np.dtype):
        return v.isnative and getattr(np, v.name, None) is v.type
    if isinstance(v, bool) or type(v) is int:
        return True
    if type(v) is float:
        return np.isfinite(v)
    return type(v) is tuple and all(type(x) is int for x in v)


def _num_const(a) -> bool:
    return isinstance(a, Const) and type(a.value) in (int, float)


def _pow2(v) -> bool:
    if v == 0 or not np.isfinite(v):
        return False
    m, _ = np.frexp(abs(v))
    return m == 0.5


def _T(em, a):
    """``a.T`` (printed as the attribute, inside its single use)."""
    return em.call("transpose", a, _params={"spelling": ("attr", "T")},
                   _hint=(a.hint if isinstance(a, Var) else "") + "T")


# ---------------------------------------------------------------- implicit broadcasting

def _elide_broadcasts(func: Func, inf: _Infer, lazy: dict) -> Func:
    """Replace a broadcast value ``t`` (``np.broadcast_to(v, S)``, an
    ``unreduce`` of a scalar, ...) by its base ``v`` in every elementwise
    operation (or ``where``) whose result keeps its shape and dtype that way:
    NumPy's broadcasting then does the work without materialising ``t``; DCE
    drops ``t`` once nothing else reads it."""
    if not lazy:
        return func         # (no broadcast value: nothing to replace)

    def rewrite(block):
        eqns = []
        for e in block.eqns:
            args = e.args
            if (e.prim.shape is shape_elementwise or e.prim.name == "where") and \
                    not e.blocks():
                new = list(args)
                for i, a in enumerate(args):
                    if isinstance(a, Var) and a in lazy and _keeps(e, i, lazy[a], inf):
                        new[i] = lazy[a]
                        break                      # one operand at a time
                args = tuple(new)
            if not e.blocks() and all(x is y for x, y in zip(args, e.args)):
                eqns.append(e)      # (the rewriter's own copy, read by nothing else)
                continue
            params = {k: (rewrite(v) if isinstance(v, Block) else v) for k, v in e.params.items()}
            eqns.append(Eqn(e.prim, args, e.kwargs, e.outs, params, e.loc))
        return Block(eqns, block.params, block.results)
    body = rewrite(func.body)
    del rewrite  # (breaks the recursive closure's reference cycle)
    return Func(func.name, func.params, body, func.results, func.filename,
                func.info)


def _keeps(u, i, v, inf) -> bool:
    """Does elementwise ``u`` give the same shape and dtype with ``v`` (the
    base of its broadcast operand ``i``) in place of that operand?"""
    out = inf.val(u.outs[0])
    if not _arr(out):
        return False
    vals = [inf.val(a) for a in u.args]
    vals[i] = inf.val(v)
    if any(x is UNKNOWN or type(x) is Mixed for x in vals):
        return False
    if inf.lazy:
        vals = _as_lazy(vals)
    try:
        with _Quiet():      # (inside specialize's own: nothing to enter again)
            res = _eval_operator(u, vals, {}) if _operator_printed(u) else \
                u.prim.impl(*vals)
    except Exception:
        return False
    if inf.lazy:
        res = _from_lazy(res)
    return _arr(res) and res.shape == out.shape and res.dtype == out.dtype


# ---------------------------------------------------------------- results


def direct_results(func: Func, leaves, wrt_leaves) -> bool:
    """Whether every gradient result of specialised ``func`` is certainly a
    fresh array of its argument's shape and dtype, distinct from the others
    -- then the API returns them as they are, without checks or copies."""
    flags = direct_flags(func, leaves, wrt_leaves)
    return flags is not None and all(flags[0])


def direct_flags(func: Func, leaves, wrt_leaves):
    """Per gradient result of specialised ``func``: (whether it is certainly
    a fresh array of its argument's shape and dtype, returned as it is;
    whether it is certainly a 0-d value of its Python-scalar argument's
    dtype, returned as ``float(g)``).  None when two results may be the same
    object or the function may compute with other array types."""
    from .alias import fresh_result
    examples = func.info.get("examples", {})
    if func.info.get("foreign"):
        return None           # duck arrays: results go through the API's checks
    defs = {o: e for e in func.body.eqns for o in e.outs}
    grads = func.results[len(func.results) - len(wrt_leaves):]
    if len({id(r) for r in grads}) != len(grads) or \
            any(r in func.results[:len(func.results) - len(wrt_leaves)] for r in grads):
        return None
    # a value returned beside the gradients (has_aux's aux) that is not new
    # memory may be a view of a gradient (aux = t[1:] where t is y's
    # gradient): no gradient is then returned as it is
    params = set(func.params)     # (an argument returned as aux is no gradient's view)
    values_fresh = all(not isinstance(v, Var) or v in params or v in examples and not
                       isinstance(examples[v], np.ndarray) or
                       (v in defs and fresh_result(defs[v]))
                       for v in func.results[:len(func.results) - len(wrt_leaves)])
    fresh, scalar = [], []
    reads = None
    for r, i in zip(grads, wrt_leaves):
        x, v = leaves[i], examples.get(r, UNKNOWN) if isinstance(r, Var) else UNKNOWN
        e = defs.get(r)
        if e is not None and e.prim.name == "transpose" and not fresh_result(e):
            # (perf-rows15) the transpose of new memory nothing else reads
            # (``K_bar = np.transpose(Q.T @ S)``): its base is the caller's alone
            if reads is None:
                reads = _read_counts(func)
            b = e.args[0] if len(e.args) == 1 else None
            if isinstance(b, Var) and b in defs and fresh_result(defs[b]) and \
                    reads.get(b) == 1 and b not in func.results:
                e = defs[b]
        fresh.append(values_fresh and isinstance(r, Var) and e is not None and fresh_result(e) and
                     type(x) is np.ndarray and type(v) is np.ndarray and
                     v.shape == x.shape and v.dtype == x.dtype)
        scalar.append(type(x) in (float, complex) and isinstance(v, (np.ndarray, np.generic))
                      and v.shape == () and v.dtype == np.result_type(x))
    return fresh, scalar


def _read_counts(func: Func) -> dict:
    """How many times each Var is read (equations' operands, blocks' and the
    function's results)."""
    n: dict = {}
    for e in iter_eqns(func.body):
        for a in e.atoms():
            if isinstance(a, Var):
                n[a] = n.get(a, 0) + 1
        for b in e.blocks():
            for a in b.results:
                if isinstance(a, Var):
                    n[a] = n.get(a, 0) + 1
    for a in func.results:
        if isinstance(a, Var):
            n[a] = n.get(a, 0) + 1
    return n


# ---------------------------------------------------------------- accumulation


def accumulate_in_place(func: Func, inf, foreign=frozenset()) -> Func:
    """``t = index_add(g, x, idx); acc2 = acc + t`` (the adjoint of ``x[idx]``
    added to an accumulated adjoint of ``x``: a layer's weights ``Ws[i]`` in
    a loop) becomes ``acc2 = index_accumulate(acc, g, x, idx)``, printed
    ``acc[idx] += g``: where ``acc`` has ``x``'s shape and the sum's dtype,
    the same numbers without a zero array and a sum as large as ``x`` per
    step.  Rewrites ``func`` in place (``t`` must have no other reader;
    values that may be dask/CuPy arrays, ``foreign``, are left alone)."""
    from .primitives.mutation import may_repeat
    readers: dict = {}
    defs: dict = {}            # (index arrays' producers: distinct_index's proofs)

    def count(block):
        for e in block.eqns:
            for a in e.atoms():
                if isinstance(a, Var):
                    readers[a] = readers.get(a, 0) + 1
            for b in e.blocks():
                count(b)
        for r in block.results:
            if isinstance(r, Var):
                readers[r] = readers.get(r, 0) + 1
    count(func.body)
    del count  # (breaks the recursive closure's reference cycle)
    for e in iter_eqns(func.body):
        for o in e.outs:
            defs[o] = e
    for r in func.results:
        if isinstance(r, Var):
            readers[r] = readers.get(r, 0) + 1
    acc_prim = REGISTRY["index_accumulate"]

    def arr(v):
        x = inf.val(v) if isinstance(v, Var) else UNKNOWN
        return x if type(x) is np.ndarray else None

    def block(b):
        made = {}
        for k, e in enumerate(b.eqns):
            for sub in e.blocks():
                block(sub)
            if e.prim.name == "index_add" and len(e.outs) == 1 and readers.get(e.outs[0]) == 1:
                made[e.outs[0]] = k
                continue
            if e.prim.name != "add" or len(e.args) != 2 or e.kwargs:
                continue
            for t, acc in ((e.args[1], e.args[0]), (e.args[0], e.args[1])):
                if t not in made or not isinstance(acc, Var) or \
                        any(v in foreign for v in (acc, t, e.outs[0])):
                    continue
                ia = b.eqns[made[t]]
                g, x, *parts = ia.args
                a, xv, out = arr(acc), arr(x), arr(e.outs[0])
                if a is None or xv is None or out is None or a.shape != xv.shape or \
                        out.shape != a.shape or out.dtype != a.dtype:
                    continue
                repeat = may_repeat(ia.params["index"], parts) and \
                    not distinct_index(ia.params["index"], parts, defs, inf)
                scalar = None if repeat else _broadcast_scalar(g, defs, inf, readers, a.dtype)
                b.eqns[k] = Eqn(acc_prim, (acc, g if scalar is None else scalar[0], x) +
                                tuple(parts), {}, e.outs,
                                {"index": ia.params["index"], "repeat": repeat,
                                 **({"negate": True} if scalar and scalar[1] else {})}, e.loc)
                b.eqns[made.pop(t)] = None
                for dead in scalar[2] if scalar else ():
                    b.eqns = [None if x_ is dead else x_ for x_ in b.eqns]
                break
        b.eqns = [e for e in b.eqns if e is not None]
    block(func.body)
    del block  # (breaks the recursive closure's reference cycle)
    return func


def _broadcast_scalar(g, defs, inf, readers, dtype):
    """(s, negated, equations left dead) when ``g`` is ``np.broadcast_to(s,
    shape)`` or its negation, ``s`` a 0-d NumPy array or scalar (the seed of
    a mean's adjoint): ``acc[idx] += g`` is then ``acc[idx] += s`` (or ``-= s``), the
    same additions -- NumPy broadcasts ``s`` over the selected elements, and
    a 0-d array takes part in type promotion as the broadcast array does --
    without the broadcast and the negated full-size copy.  Also ``np.full(shape,
    v, dtype=dtype)`` of a Python number ``v`` (the folded seed), ``dtype``
    the accumulator's: ``acc[idx] += v`` converts ``v`` to that dtype first,
    as ``np.full`` did.  Else None."""
    chain = []
    e = defs.get(g)
    neg = e is not None and e.prim.name == "negative" and len(e.args) == 1 and not e.kwargs
    if neg:
        chain.append(e)
        e = defs.get(e.args[0])
    if e is not None and e.prim.name == "full" and len(e.args) == 2 and \
            isinstance(e.args[1], Const) and type(e.args[1].value) in (int, float) and \
            set(e.kwargs) == {"dtype"} and isinstance(e.kwargs["dtype"], Const):
        try:
            same = np.dtype(e.kwargs["dtype"].value) == dtype
        except TypeError:
            same = False
        if not same:
            return None
        s = e.args[1]
    elif e is None or e.prim.name != "broadcast_to" or e.kwargs or not e.args or \
            not isinstance(e.args[0], Var):
        return None
    else:
        s = e.args[0]
        sv = inf.val(s)
        if not (type(sv) is np.ndarray and sv.ndim == 0 or isinstance(sv, np.number)):
            return None     # (a Python scalar would take part in promotion as a weak type)
    chain.append(e)
    # (left dead where the index_add was g's one reader, and the negation
    # the broadcast's)
    dead = []
    if readers.get(g) == 1:
        dead.append(chain[0])
        if neg and readers.get(e.outs[0]) == 1:
            dead.append(e)
    return s, neg, dead


def defer_row_accumulation(func: Func, inf, foreign=frozenset()) -> Func:
    """A loop's ``acc[i] += g`` (``index_accumulate``, the adjoint of stacked
    layer weights ``Ws[i]``) into zeros like ``Ws`` made just before the loop
    becomes ``rows.append((i, g))`` and, after the loop, ``acc =
    add_rows(rows, Ws)``: zeros plus the rows in the order they were
    appended, so the same numbers.  Done where the loop frees stored values
    as it runs (its body pops per-step arrays at least as large as the rows
    it appends) and runs over a range no longer than ``Ws`` has rows (so the
    rows never hold more than ``Ws_bar`` would): the backward sweep over
    stacked layers then holds the rows done so far, not the whole weight
    gradient, while every layer's stored activations are still alive.  The
    index must be one scalar (``Ws[i]``) that cannot repeat within a step.
    Rewrites ``func`` in place (``foreign`` values are left alone)."""
    readers = _readers(func)
    append, add_rows, row_list = (REGISTRY[n] for n in ("rows_append", "add_rows", "row_list"))

    def arr(v):
        x = inf.val(v) if isinstance(v, Var) else UNKNOWN
        return x if type(x) is np.ndarray else None

    def candidates(b, e):
        """[(carry position, accumulation, zeros equation)] of loop ``e``."""
        body, off = e.params["body"], loop_offset(e)
        it = inf.val(e.args[0]) if off else None
        if not isinstance(it, range) or e.params.get("break_at") is not None:
            return []
        out = []
        for j, (p, r) in enumerate(zip(body.params[off:], body.results)):
            a = readers.get(p, ())
            if len(a) != 1 or a[0] is None or a[0].prim.name != "index_accumulate":
                continue
            a = a[0]
            if a.args[0] is not p or a.outs[0] is not r or readers.get(r) != [None] or \
                    not any(x is a for x in body.eqns) or a.params.get("repeat") or \
                    type(a.params["index"]) is not Slot or len(a.args) != 4:
                continue
            g, x, part = a.args[1], a.args[2], a.args[3]
            gv, xv = arr(g), arr(x)
            iv = inf.val(part) if isinstance(part, Var) else getattr(part, "value", None)
            if gv is None or xv is None or xv.ndim == 0 or len(it) > xv.shape[0] or \
                    not isinstance(iv, (int, np.integer)) or isinstance(iv, bool):
                continue
            init, o = e.args[off + j], e.outs[j]
            z = [d for d in b.eqns if init in d.outs] if isinstance(init, Var) else []
            if len(z) != 1 or z[0].prim.name != "zeros_like" or z[0].kwargs or \
                    len(z[0].args) != 1 or readers.get(init) != [e] or \
                    any(v in foreign for v in (init, o, p, r, g)):
                continue
            outs = readers.get(o, ())
            here = {id(d) for d in b.eqns}
            if any(d is not None and id(d) not in here for d in outs) or \
                    (None in outs and o not in b.results and
                     not (b is func.body and o in func.results)):
                continue
            out.append((j, a, z[0], gv.nbytes))
        if not out:
            return []
        # the loop frees at least what it appends: stored per-step arrays
        freed = sum(v.nbytes for d in body.eqns if d.prim.name in ("pop", "list_pop")
                    for v in map(arr, d.outs) if v is not None)
        return out if freed >= sum(n for *_, n in out) else []

    def rows_var(v):
        w = Var(v.hint + "_rows")
        w.bar_of = v.bar_of
        return w

    def block(b):
        for e in list(b.eqns):
            for sub in e.blocks():
                block(sub)
            if e.prim.name != "for_loop":
                continue
            found = candidates(b, e)
            if not found:
                continue
            body, off = e.params["body"], loop_offset(e)
            args, outs, after = list(e.args), list(e.outs), []
            for j, a, z, _ in found:
                init, o = args[off + j], outs[j]
                r0, p, r, o2 = rows_var(init), rows_var(o), rows_var(o), rows_var(o)
                k = next(n for n, d in enumerate(b.eqns) if d is z)
                b.eqns[k] = Eqn(row_list, z.args, {}, (r0,), {}, z.loc)
                args[off + j], outs[j] = r0, o2
                body.params[off + j], body.results[j] = p, r
                k = next(n for n, d in enumerate(body.eqns) if d is a)
                body.eqns[k] = Eqn(append, (p, a.args[1], a.args[3]), {}, (r,), {}, a.loc)
                after.append(Eqn(add_rows, (o2, z.args[0]), {}, (o,), {}, e.loc))
            k = next(n for n, d in enumerate(b.eqns) if d is e)
            b.eqns[k:k + 1] = [Eqn(e.prim, tuple(args), e.kwargs, tuple(outs), e.params,
                                   e.loc)] + after
    block(func.body)
    del block  # (breaks the recursive closure's reference cycle)
    return func


def _readers(func: Func) -> dict:
    """{var: [equations reading it, ``None`` for each block or function
    result it is]} over ``func`` and every nested block."""
    readers: dict = {}

    def count(block):
        for e in block.eqns:
            for a in e.atoms():
                if isinstance(a, Var):
                    readers.setdefault(a, []).append(e)
            for b in e.blocks():
                count(b)
        for r in block.results:
            if isinstance(r, Var):
                readers.setdefault(r, []).append(None)
    count(func.body)
    del count  # (breaks the recursive closure's reference cycle)
    for r in func.results:
        if isinstance(r, Var):
            readers.setdefault(r, []).append(None)
    return readers


def accumulate_lists_in_place(func: Func, inf, foreign=frozenset()) -> Func:
    """``ts = list_index_add(g, xs, i)`` read only as ``t_k = ts[k]``, each
    added to an accumulated adjoint ``acc_k`` (the adjoint of ``xs[i]`` for a
    list ``xs`` of layer weights, read by the loop index) becomes one
    ``acc2_k = list_accumulate(acc_k, g, i)`` per element, printed
    ``if i % n == k: acc_k += g``: where every ``acc_k`` has ``g``'s shape and
    the sum's dtype, the same numbers without ``n`` zero arrays and ``n``
    whole sums per step.  Rewrites ``func`` in place (values that may be
    dask/CuPy arrays, ``foreign``, are left alone)."""
    readers = _readers(func)
    prim = REGISTRY["list_accumulate"]
    picked: set = set()

    def arr(v):
        x = inf.val(v) if isinstance(v, Var) else UNKNOWN
        return x if type(x) is np.ndarray else None

    def plan(b, e):
        """{position of an add in b: its replacement}, or None."""
        g, xs, i = e.args
        n = inf.val(xs)
        gv = arr(g)
        if type(n) is not _ListExample or gv is None or e.outs[0] in foreign or g in foreign:
            return None
        n = len(n.items)
        pos = {id(x): k for k, x in enumerate(b.eqns)}
        out = {}
        for get in readers.get(e.outs[0], ()):
            if get is None or get.prim.name != "list_get" or id(get) not in pos or \
                    not isinstance(get.args[1], Const) or type(get.args[1].value) is not int:
                return None
            t, at = get.outs[0], get.args[1].value % n
            adds = readers.get(t, ())
            if len(adds) != 1 or adds[0] is None or adds[0].prim.name != "add" or \
                    id(adds[0]) not in pos or len(adds[0].args) != 2 or adds[0].kwargs:
                return None
            add = adds[0]
            acc = add.args[0] if add.args[1] is t else add.args[1]
            a, o = arr(acc), arr(add.outs[0])
            if acc is t or acc in picked or a is None or o is None or a.shape != gv.shape or \
                    o.shape != a.shape or o.dtype != a.dtype or \
                    np.result_type(a, gv) != a.dtype or \
                    any(v in foreign for v in (acc, t, add.outs[0])):
                return None
            out[pos[id(get)]] = None
            out[pos[id(add)]] = Eqn(prim, (acc, g, i), {}, add.outs, {"at": at, "n": n},
                                    add.loc)
        return out

    def block(b):
        for e in b.eqns:
            for sub in e.blocks():
                block(sub)
        changes = {}
        # elements of list adjoints: never an accumulator (``a + b`` of two of
        # them, from two lists: each is rewritten away by its own list)
        made = {e.outs[0] for e in b.eqns if e.prim.name == "list_index_add" and e.outs}
        picked.clear()
        picked.update(e.outs[0] for e in b.eqns if e.prim.name == "list_get" and
                      e.args and e.args[0] in made)
        for k, e in enumerate(b.eqns):
            if e.prim.name == "list_index_add" and len(e.outs) == 1 and not e.kwargs:
                p = plan(b, e)
                if p:
                    changes.update(p)
                    changes[k] = None
        if changes:
            b.eqns = [changes.get(k, e) if k in changes else e for k, e in enumerate(b.eqns)]
            b.eqns = [e for e in b.eqns if e is not None]
            count_again()
        lazy(b)

    def count_again():
        readers.clear()
        readers.update(_readers(func))

    def lazy(b):
        """Accumulators of loops in ``b`` that start as zeros made just before
        the loop and are touched in it only by ``list_accumulate``: None
        until first written, zeros after the loop if never written."""
        top = b is func.body
        # (the ids of the block's equations, per loop: made again only when
        # the previous loop's accumulators changed them)
        here, stale = None, True
        for k, e in enumerate(list(b.eqns)):
            if e.prim.name != "for_loop":
                continue
            body, off = e.params["body"], loop_offset(e)
            if stale:
                here, stale = {id(x) for x in b.eqns}, False
            for j, (p, r) in enumerate(zip(body.params[off:], body.results)):
                acc_eqns = readers.get(p, ())
                if len(acc_eqns) != 1 or acc_eqns[0] is None or \
                        acc_eqns[0].prim is not prim or acc_eqns[0].args[0] is not p or \
                        acc_eqns[0].outs[0] is not r or readers.get(r) != [None] or \
                        "dtype" in acc_eqns[0].params or acc_eqns[0] not in body.eqns:
                    continue
                init, out = e.args[off + j], e.outs[j]
                d = [x for x in b.eqns if init in x.outs] if isinstance(init, Var) else []
                if len(d) != 1 or d[0].prim.name != "zeros_like" or d[0].kwargs or \
                        len(d[0].args) != 1 or readers.get(init) != [e] or \
                        any(v in foreign for v in (init, out, p, r)):
                    continue
                outs = readers.get(out, ())
                if any(x is not None and id(x) not in here for x in outs) or \
                        (None in outs and out not in b.results and
                         not (top and out in func.results)):
                    continue
                ex = arr(r)
                if ex is None:
                    continue
                a = acc_eqns[0]
                i = body.eqns.index(a)
                body.eqns[i] = Eqn(prim, a.args, a.kwargs, a.outs,
                                   dict(a.params, dtype=ex.dtype.name), a.loc)
                z = d[0]
                b.eqns[b.eqns.index(z)] = Eqn(REGISTRY["lazy_zeros"], z.args, {}, z.outs,
                                              {}, z.loc)
                done = Var(out.hint, shape=out.shape)
                done.bar_of = out.bar_of
                inf.ex[done] = inf.ex.get(out, UNKNOWN)
                for v in (init, p, r, out):        # (None at run time: no buffer to reuse)
                    inf.ex.pop(v, None)
                fin = Eqn(REGISTRY["zeros_or"], (out, z.args[0]), {}, (done,), {}, e.loc)
                at = b.eqns.index(e) + 1
                for m in range(at, len(b.eqns)):
                    x = b.eqns[m]
                    if out in x.atoms():
                        b.eqns[m] = Eqn(x.prim, tuple(done if v is out else v for v in x.args),
                                        {kk: (done if v is out else v)
                                         for kk, v in x.kwargs.items()},
                                        x.outs, x.params, x.loc)
                b.eqns.insert(at, fin)
                b.results = [done if v is out else v for v in b.results]
                if top:
                    func.results = [done if v is out else v for v in func.results]
                count_again()
                stale = True
    block(func.body)
    return func


def measure_budgets(func: Func, inf) -> Func:
    """Give each ``Budget`` schedule the bytes one recorded step of its loop
    stores: the examples' sizes of the values its (specialised) step
    function stores per step (:func:`s2sgrad.remat.record_parts`), so the
    schedule chosen for a budget fits whatever the loop body keeps.
    Rewrites ``func`` in place."""
    from .remat import record_parts
    records = {}
    for e in iter_eqns(func.body):
        tape = inf.val(e.args[0]) if e.prim.name == "checkpoint_backward" else None
        if type(tape) is not _TapeExample:
            continue
        parts = [(inf.val(v), m) for v, m in record_parts(e.params["step"])]
        if all(_arr(x) for x, _ in parts):
            records[tape.var] = sum(int(np.asarray(x).nbytes) * m for x, m in parts)
    for e in iter_eqns(func.body):
        sched = e.params.get("schedule") if e.prim.name == "checkpoint_forward" else None
        if type(sched).__name__ == "Budget" and e.outs[-1] in records:
            e.params["schedule"] = type(sched)(sched.bytes, record=records[e.outs[-1]])
    return func


# ---------------------------------------------------------------- entry point


def specialize(func: Func, leaves, identity=()) -> Func | None:
    """``func`` rewritten for arguments shaped like ``leaves`` (None if nothing
    is gained or the analysis gives up).  ``identity``: positions of
    parameters the caller promises hold identity matrices (the basis seeds
    of a batched Jacobian, :mod:`s2sgrad.basis`; see :func:`_identity_products`)."""
    with _Quiet():
        return _specialize(func, leaves, identity)


def _specialize(func: Func, leaves, identity=()) -> Func | None:
    from .optimize import cse, dce, forward_invariant_carries, hoist_invariants, prune_stacks
    from .masking import sink_masks
    inf = infer(func, leaves)
    if inf is None:
        return None
    rw = _Rewriter(inf, foreign_values(func, leaves))
    # (the operations the function has: passes that rewrite only one kind
    # of operation are skipped where there is none -- no walks for nothing)
    names = {e.prim.name for e in iter_eqns(func.body)}
    rw.keep_copies = "may_share_memory" in names
    rw.layout_observed = rw.keep_copies or "layout_checked" in names
    for p in func.params:
        rw.note_witness(p)
    body = rw.block(func.body, top=True)
    results = [rw.atom(r) for r in func.results]
    f = Func(func.name, func.params, body, results, func.filename, func.info)
    if identity:
        f = _identity_products(f, inf, [func.params[i] for i in identity])
    # (masks of cotangents move on past the unbroadcasts the shapes dropped:
    # s2sgrad.masking)
    f = forward_invariant_carries(sink_masks(_elide_broadcasts(f, inf, rw.lazy)))
    # (twice: a value the first round leaves with one use joins a chain;
    # a round that rewrote nothing leaves nothing for DCE, which is idempotent;
    # the second round revisits only the chains the first one changed: memo)
    memo: dict = {}
    f = scale_chains(dce(f), inf, rw.keep_copies, memo)
    if f.info.get("peephole_changed"):
        f = scale_chains(dce(f), inf, rw.keep_copies, memo, last=True)
        if f.info.get("peephole_changed"):
            f = dce(f)
    f = prune_stacks(f)
    # (checkpoint budgets measure the values a step pushes: before they go
    # into preallocated tapes, which store the same rows)
    if _has_any(names, "checkpoint_backward"):      # (no pass before adds one)
        measure_budgets(f, inf)
    if not rw.keep_copies:      # (a tape's row is a view where the program had its own array)
        f = preallocate(f, inf)
        f = list_arrays(f, inf)
    f = dce(cse(hoist_invariants(f)))
    names = {e.prim.name for e in iter_eqns(f.body)}
    # (accumulate_in_place rewrites the adds of index_add results into the
    # index_accumulate that defer_row_accumulation looks for; neither makes
    # the list operations accumulate_lists_in_place looks for)
    if _has_any(names, "index_add", "index_accumulate"):
        if _has_any(names, "index_add"):     # (it rewrites only sums of index_add results)
            accumulate_in_place(f, inf, rw.foreign)
        defer_row_accumulation(f, inf, rw.foreign)
    if _has_any(names, "list_index_add", "list_accumulate"):
        accumulate_lists_in_place(f, inf, rw.foreign)
    if not rw.keep_copies and _has_any(names, "index_add", "index_accumulate") and \
            vectorise_maps(f, inf, again=True):
        f = dce(f)          # (map loops whose accumulations the passes above made)
    if not rw.keep_copies and "matmul" in names:
        # (a large value's last product before the next large allocation:
        # s2sgrad.release)
        f = release_early(f, inf.ex)
    # every value's example: code generation reuses dead buffers of equal
    # shape and dtype (codegen.CodeGen._decide_ufunc_out)
    f.info = dict(f.info, examples=inf.ex)
    return for_kinds(f, leaves)


def _has_any(names, *prims) -> bool:
    """Has a function whose equations' primitives are ``names`` one of
    ``prims`` (the operations a pass rewrites: without them it is skipped)?"""
    return any(p in names for p in prims)


def _identity_products(f: Func, inf, eyes) -> Func:
    """``f`` with its matrix products by an identity matrix (a parameter in
    ``eyes``, which the caller promises holds ``np.eye(m)``) replaced by the
    other factor: ``E @ B`` and ``B @ E`` are ``B`` when the product has
    ``B``'s shape and dtype.  For finite ``B`` that is the same value bit for
    bit (``1 * b + 0 * c + ...`` is exactly ``b``); where ``B`` holds an
    infinity or a NaN the product would spread NaN over the row or column
    (``0 * inf``), the replacement keeps ``B``'s value -- the exact
    derivative.  A batched Hessian's first product, ``E @ X.T`` (the seeds'
    images under the data), goes: one matrix product of the data per
    chunk instead of two."""
    from .ir import rename_reads
    eyes = [v for v in eyes if _is_eye_example(inf.ex.get(v))]
    if not eyes:
        return f
    subst: dict = {}
    for e in iter_eqns(f.body):
        if e.prim.name != "matmul" or len(e.args) != 2 or e.kwargs or len(e.outs) != 1:
            continue
        a, b = e.args
        other = b if any(a is v for v in eyes) else a if any(b is v for v in eyes) else None
        if not isinstance(other, Var):
            continue
        out, ox = inf.ex.get(e.outs[0]), inf.ex.get(other)
        if type(out) is np.ndarray and type(ox) is np.ndarray and out.shape == ox.shape and \
                out.dtype == ox.dtype:
            subst[e.outs[0]] = subst.get(other, other)
    if subst:
        rename_reads(f.body, subst)
        f.results = [subst.get(r, r) if isinstance(r, Var) else r for r in f.results]
    return f


def _is_eye_example(x) -> bool:
    return type(x) is np.ndarray and x.ndim == 2 and x.shape[0] == x.shape[1] and \
        x.dtype.kind == "f"


# the registry is imported for its side effect of defining every primitive
assert REGISTRY
# the passes _specialize runs: imported with this module, not by the first
# call (uncompiled sources -- no bytecode cache -- cost ~10 ms there).
# (Here, at the end: tapes imports names of this module.)
from .peephole import scale_chains  # noqa: E402
from .release import release_early  # noqa: E402
from .tapes import preallocate  # noqa: E402
from .list_arrays import list_arrays, vectorise_maps  # noqa: E402
from .distinct import distinct_index  # noqa: E402  (accumulate_in_place's; with the module, not at the first call)


def _unpack_fits(value, kwargs):
    """``check_unpack_length``'s test on a value of known shape (an array's
    first axis; a known list's length)."""
    n, star = kwargs.get("n"), kwargs.get("star")
    if not (isinstance(n, Const) and isinstance(n.value, int)):
        return False
    star = isinstance(star, Const) and star.value is True
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return False
        length = value.shape[0]
    else:
        return False
    return length == n.value or (star and length >= n.value)
