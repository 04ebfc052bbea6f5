"""NumPy's aliasing, modelled explicitly: which array values share memory,
and through which view transform.

NumPy arrays are mutable and share memory: ``v = y[2:]`` is a view, so
``v *= 2`` changes ``y``, and ``y[0] = 5`` changes what ``v`` reads if the
element is in ``v``.  The IR is functional (every write makes a new SSA
version), so lowering needs to know, for each array value, which other
values it may share memory with; later passes need to know it again to
write in place safely.  This module is that one analysis.

**Views** (:class:`View`): one step from a base array to an array that
shares its memory, with the two operations the write algorithm needs --
``read`` (the view of a new version of the base) and ``write`` (the base
with the view's elements replaced):

==========================  ================================================
:class:`Index`              basic indexing ``y[2:]``, ``y[0]``, ``y[i, :]``,
                            ``y[...]``, ``y[None]`` (``setitem`` writes back)
:class:`Permute`            ``.T``, ``np.transpose``, ``np.swapaxes``,
                            ``np.moveaxis`` (the inverse permutation writes back)
:class:`Reshape`            ``reshape``/``ravel`` (a view only when NumPy can
                            make one: decided at run time unless the base is
                            known to be C-contiguous), ``np.expand_dims`` and
                            ``np.squeeze`` (always views)
:class:`ReadOnly`           ``np.broadcast_to``: NumPy refuses writes through it
==========================  ================================================

``b = a``, ``np.asarray(a)`` and ``a.view()`` name the *same* array: lowering
binds the same SSA value, so they need no record here.

**The write rule** (:meth:`AliasModel.write`, used by lowering): a write into
any member of an alias set gives the written value a new version, which is
written up the chain of bases (each base becomes a functional update of its
old version), and every live view of the root is then re-derived from the
root's new version.  Value, gradient and tangent follow from the functional
IR: they are NumPy's.  Where the view relation is known only at run time
(a reshape of an array whose strides are unknown), propagation through that
edge is a ``cond`` on ``np.may_share_memory`` of the two arrays, computed
where the reshape happened.

**Allocations have identity**: a primitive with ``alloc=True`` in the table
(``np.zeros``, ``np.empty``, ``x.copy()``, ``np.array``, ``[]`` ...) makes a
new array every time it runs, so common-subexpression elimination never
merges two of them (see :func:`s2sgrad.optimize.cse`).

**Over the IR** (:class:`IRAliases`, used by code generation): after
lowering the IR is functional, but the generated code writes in place
(``y[idx] = v``) and reuses buffers (``np.exp(t, out=t)``) where that is
safe.  ``IRAliases`` groups the values that may share memory at run time
(an equation's output with the operands it may be a view of, loop and branch
values with what flows into them) and says which are fresh allocations of
the function; codegen writes in place only into a fresh array none of whose
aliases is read later.
"""
from __future__ import annotations

from .ir import Const, Eqn, Var
from .primitives import core as P


# ---------------------------------------------------------------- view transforms


class View:
    """One view step.  ``readonly``: NumPy refuses writes through the view."""
    readonly = False
    # A Var: at run time, whether this really is a view (else a copy); None:
    # always a view.
    shares = None

    def read(self, em, base, old_view):
        raise NotImplementedError

    def write(self, em, base, value):
        raise NotImplementedError

    def key(self):
        """Equal keys: the same transform (used to check loop invariance)."""
        raise NotImplementedError


class Index(View):
    """``base[template]`` with basic indexing."""
    __slots__ = ("template", "parts")

    def __init__(self, template, parts):
        self.template = template
        self.parts = list(parts)

    def read(self, em, base, old_view):
        return em.call(P.get("getitem"), base, *self.parts, _params={"index": self.template})

    def write(self, em, base, value):
        return em.call(P.get("setitem"), base, value, *self.parts,
                       _params={"index": self.template})

    def ints_only(self):
        """``a[0]``, ``a[i, 2]``: a view of a row when ``a`` has more
        dimensions, else a scalar (a copy): known at run time only."""
        items = self.template if isinstance(self.template, tuple) else (self.template,)
        return not any(it is None or it is Ellipsis or isinstance(it, slice) for it in items)

    def key(self):
        return ("index", repr(self.template), tuple(
            ("v", p.id) if isinstance(p, Var) else ("c",) + p.key() for p in self.parts))


class Permute(View):
    """An axis permutation: ``read`` applies ``prim(**kw)``, ``write`` its
    inverse ``inv_prim(**inv_kw)``."""
    __slots__ = ("prim", "kw", "inv_prim", "inv_kw")

    def __init__(self, prim, kw, inv_prim, inv_kw):
        self.prim, self.kw, self.inv_prim, self.inv_kw = prim, kw, inv_prim, inv_kw

    def read(self, em, base, old_view):
        return em.call(P.get(self.prim), base, **self.kw)

    def write(self, em, base, value):
        return em.call(P.get(self.inv_prim), value, **self.inv_kw)

    def key(self):
        return ("permute", self.prim, tuple(sorted((k, repr(v)) for k, v in self.kw.items())))


class Reshape(View):
    """A change of shape over the same memory (reshape, ravel, expand_dims,
    squeeze).  ``shares``: None when NumPy always returns a view, else the Var
    holding ``np.may_share_memory(view, base)`` taken where the view was made."""
    __slots__ = ("shares", "tag", "order")

    def __init__(self, shares=None, tag="reshape", order=None):
        self.shares = shares
        self.tag = tag
        self.order = order      # None (C) or "F": read and written in that order

    def _kw(self):
        return {} if self.order is None else {"order": Const(self.order)}

    def read(self, em, base, old_view):
        return em.call(P.get("reshape"), base, em.call(P.get("shape"), old_view), **self._kw())

    def write(self, em, base, value):
        return em.call(P.get("reshape"), value, em.call(P.get("shape"), base), **self._kw())

    def key(self):
        return ("reshape", self.tag, self.order)


class Same(View):
    """``np.asarray(a, dtype)``: ``a`` itself when it already has the dtype
    (``shares`` is true at run time), else a converted copy."""
    __slots__ = ("shares",)

    def __init__(self, shares):
        self.shares = shares

    def read(self, em, base, old_view):
        return base

    def write(self, em, base, value):
        return value

    def key(self):
        return ("same",)


class ReadOnly(View):
    """``np.broadcast_to``: a read-only view (NumPy raises on a write).  With
    ``numpy_refuses=False``: a view whose writes s2sgrad does not follow
    (``np.real``/``np.imag`` of a complex array), refused all the same."""
    readonly = True
    __slots__ = ("what", "numpy_refuses", "rederive", "shares")

    def __init__(self, what, numpy_refuses=True, rederive=None, shares=None):
        self.what = what
        self.numpy_refuses = numpy_refuses
        # a Var: whether NumPy's result is a view at run time (np.diag(v): of
        # a 2-d v; a new matrix from a 1-d v), else always a view
        self.shares = shares
        # rederive(em, base) -> the view of the base's new version (the
        # NumPy call again), so a write into the base is seen through it
        self.rederive = rederive

    def read(self, em, base, old_view):
        if self.rederive is None:
            raise UnknownAlias(base, old_view)
        return self.rederive(em, base)

    def write(self, em, base, value):
        raise AssertionError("a read-only view is not written")

    def key(self):
        return ("readonly", self.what)


class Choice(View):
    """One of two chains of views of the same array, chosen at run time by
    ``pred`` (``A = W[0] if c else W.T[1]``, made by a branch): read and
    written through the chain of the side taken (a ``cond`` whose branches
    hold each chain's reads or functional writes).  ``chains``: two lists of
    :class:`Index` (constant parts) and :class:`Permute` steps, outermost
    first."""
    __slots__ = ("pred", "chains", "checks")

    def __init__(self, pred, chains, checks):
        self.pred = pred
        self.chains = chains
        # per chain, the steps (a[0]) that are a view of a row only when
        # their base has more dimensions (else a scalar, a copy)
        self.checks = checks

    @staticmethod
    def _select(em, pred, a, b):
        from .ir import Block
        out = Var(getattr(a, "hint", ""), shape=P.shape_of(a) if P.shape_of(a) is P.shape_of(b)
                  else P.fresh_shape())
        em.block.eqns.append(Eqn(P.get("cond"), (pred,), {}, (out,),
                                 {"then": Block([], [], [a]), "else": Block([], [], [b])},
                                 getattr(em, "loc", None)))
        return out

    def _arrays(self, em, base, k):
        """Whether the checked steps of chain ``k`` are views (a Var), or None."""
        flag = None
        cur = base
        for i, view in enumerate(self.chains[k]):
            cur = view.read(em, cur, None)
            if i in self.checks[k]:
                f = em.call(P.get("is_array"), cur)
                flag = f if flag is None else em.call(P.get("logical_and"), flag, f)
        return flag

    def _cond(self, em, fns):
        from .ir import Block
        saved = em.block
        blocks, results = [], []
        try:
            for fn in fns:
                em.block = Block()
                results.append(fn())
                blocks.append(em.block)
        finally:
            em.block = saved
        s0, s1 = (P.shape_of(r) for r in results)
        out = Var(getattr(results[0], "hint", ""), shape=s0 if s0 is s1 else P.fresh_shape())
        em.block.eqns.append(Eqn(P.get("cond"), (self.pred,), {}, (out,),
                                 {"then": Block(blocks[0].eqns, [], [results[0]]),
                                  "else": Block(blocks[1].eqns, [], [results[1]])},
                                 getattr(em, "loc", None)))
        return out

    @staticmethod
    def _read(em, base, chain):
        for view in chain:
            base = view.read(em, base, None)
        return base

    @staticmethod
    def _write(em, base, chain, value):
        bases = [base]
        for view in chain[:-1]:
            bases.append(view.read(em, bases[-1], None))
        for view, b in zip(reversed(chain), reversed(bases)):
            value = view.write(em, b, value)
        return value

    def read(self, em, base, old_view):
        def side(k):
            new = self._read(em, base, self.chains[k])
            flag = self._arrays(em, base, k) if self.checks[k] else None
            # (a scalar copy, a[0] of a 1-d a, keeps its value)
            return new if flag is None else self._select(em, flag, new, old_view)
        return self._cond(em, [lambda k=k: side(k) for k in (0, 1)])

    def write(self, em, base, value):
        def side(k):
            new = self._write(em, base, self.chains[k], value)
            flag = self._arrays(em, base, k) if self.checks[k] else None
            return new if flag is None else self._select(em, flag, new, base)
        return self._cond(em, [lambda k=k: side(k) for k in (0, 1)])

    def key(self):
        return ("choice", id(self))


def _const_ndim(shape):
    if isinstance(shape, Const):
        v = shape.value
        if isinstance(v, int) and not isinstance(v, bool):
            return 1
        if isinstance(v, tuple) and all(isinstance(d, int) for d in v):
            return len(v)
    return None


class UnknownAlias(Exception):
    """A write whose effect on other live values the model cannot follow
    (lowering turns it into a refusal naming the user's line)."""

    def __init__(self, written, other):
        super().__init__(written, other)
        self.written = written
        self.other = other


# Primitives whose result is always an array (never a Python or NumPy scalar).
_ARRAYS = {"zeros", "ones", "empty", "empty_like", "full", "eye", "identity", "arange",
           "zeros_like",
           "ones_like", "full_like", "copy", "array", "stack", "concatenate", "hstack",
           "vstack"}

# Primitives whose result is C-contiguous (so a reshape of it is a view).
_CONTIGUOUS = {"zeros", "ones", "empty", "full", "eye", "identity", "arange", "list_zeros"}


_LINK, _INHERIT = "link", "inherit"     # (AliasModel's recorded calls)


class AliasModel:
    """The view graph built while lowering: for every array value that is a
    view, its base and the :class:`View` step.  Values are SSA Vars; a write
    gives new Vars, recorded with the same relations (:meth:`write`)."""

    def __init__(self):
        self.view_of: dict = {}        # Var -> (base Var, View)
        self.children: dict = {}       # base Var -> [Vars that are views of it]
        self.contiguous: set = set()   # Vars known to be C-contiguous
        self.arrays: set = set()       # Vars known to be arrays (not scalars)
        self.ndim: dict = {}           # Var -> number of dimensions, where known
        # Vars that may share memory in a way not known at compile time (one
        # branch's array or the other's; an array and the run-time list
        # holding it; a view made with a loop's index, after the loop)
        # (kept as the calls that make it, replayed in order when it is read:
        # each version a loop's carry makes inherits the relations of the
        # one before, so building it is quadratic in the number of loops --
        # a cost only a write, which reads it, needs to pay)
        self._unknown: dict = {}
        self._unknown_ops: list = []
        self.touched: set = set()      # Vars that a write gave a new version
        self.newer: dict = {}          # Var -> the version a write gave it
        self.older: dict = {}          # Var -> the version a write made it from
        # Var -> (pred, cur): made by ``x -= v`` from ``cur``, which may be an
        # array (written in place: the memory is cur's) or a number (a new
        # value), as ``pred`` (is_array(cur)) says at run time
        self.older_if_array: dict = {}
        # the arrays read out of lists built at run time (r = rows[1], a pop,
        # a loop over the list; lowering's own set): one may be any item's
        # memory (a view of y appended to it) after the list itself is dead
        self.list_items: set = set()

    # ------------------------------------------------------------ facts

    def index_ndim(self, base, template):
        """The number of dimensions of ``base[template]`` (basic indexing),
        or None when ``base``'s is not known."""
        nd = self.ndim.get(base)
        if nd is None:
            return None
        items = template if isinstance(template, tuple) else (template,)
        return nd - sum(1 for it in items if not (it is None or it is Ellipsis or
                                                   isinstance(it, slice))) \
            + sum(1 for it in items if it is None)

    def add_view(self, v, base, view):
        if v is base:
            return
        if isinstance(view, Index):
            nd = self.index_ndim(base, view.template)
            if nd is not None:
                self.ndim[v] = nd
                if nd > 0:
                    self.arrays.add(v)
        elif isinstance(view, Permute) and base in self.ndim:
            self.ndim[v] = self.ndim[base]
        if base in self.arrays and not (isinstance(view, Index) and view.ints_only()) and \
                not isinstance(view, Same):
            self.arrays.add(v)
        self.view_of[v] = (base, view)
        self.children.setdefault(base, []).append(v)

    @property
    def unknown(self) -> dict:
        """Var -> the Vars it may share memory with, in a way not known at
        compile time (``link_unknown``, ``inherit_unknown``), in order."""
        ops = self._unknown_ops
        if ops:
            self._unknown_ops = []
            for op, a, b in ops:
                if op is _LINK:
                    self._link_unknown(a, b)
                else:
                    for c in list(self._unknown.get(b, ())):
                        self._link_unknown(a, c)
        return self._unknown

    def link_unknown(self, a, b):
        """``a`` and ``b`` may share memory, through a relation not known at
        compile time: a write into either is refused while the other is live.
        (Recorded; made when :attr:`unknown` is read.)"""
        self._unknown_ops.append((_LINK, a, b))

    def _link_unknown(self, a, b):
        if a is b or not (isinstance(a, Var) and isinstance(b, Var)):
            return
        self._unknown.setdefault(a, []).append(b)
        self._unknown.setdefault(b, []).append(a)

    def forget_unknown(self, a, others):
        """``a`` and each of ``others`` no longer share memory in a way not
        known at compile time (their relation was found: a :class:`Choice`)."""
        unknown = self.unknown
        for b in others:
            for x, y in ((a, b), (b, a)):
                if x in unknown:
                    unknown[x] = [z for z in unknown[x] if z is not y]

    def inherit_unknown(self, new, old):
        """``new`` (a new version of a list) holds what ``old`` held (at
        this call: the replay is in the calls' order)."""
        self._unknown_ops.append((_INHERIT, new, old))

    def note_result(self, prim_name, out, operand=None, kw=None):
        """Record what an equation's result is known to be: C-contiguous, an
        array, its number of dimensions."""
        if prim_name in _CONTIGUOUS or (prim_name == "reshape" and operand in self.contiguous):
            self.contiguous.add(out)
        if prim_name in _ARRAYS:
            self.arrays.add(out)
        if prim_name in ("asarray", "asanyarray", "ascontiguousarray", "asfortranarray") and \
                isinstance(operand, Const):
            self.arrays.add(out)        # np.asarray(2.0): a new (0-d) array
        nd = None
        if prim_name in ("zeros", "ones", "empty", "full"):
            nd = _const_ndim(operand)
        elif prim_name == "reshape" and kw:
            nd = _const_ndim(kw.get("shape"))
        elif prim_name in ("copy", "zeros_like", "ones_like", "empty_like", "full_like",
                           "transpose",
                           "swapaxes", "moveaxis"):
            nd = self.ndim.get(operand)
        if nd is not None:
            self.ndim[out] = nd
            if nd > 0:
                self.arrays.add(out)

    def array_of(self, v):
        """``x`` for ``x += v`` on a value not known to be an array: the name
        holds a :class:`Same` view of the array the others see; the array."""
        seen = set()
        while v in self.view_of and v not in seen:
            seen.add(v)
            base, view = self.view_of[v]
            if not isinstance(view, Same):
                break
            v = base
        return v

    def known_array(self, v) -> bool:
        """Whether ``v`` is an array (not a Python or NumPy scalar) whatever
        the arguments: an allocation, a new version of one, a basic-index view
        with a slice (a row ``a[0]`` may be a scalar), a transposed or
        reshaped array, or an array others are views of."""
        if v in self.arrays or self.has_views(v) or self.ndim.get(v, 0) > 0:
            return True
        rec = self.view_of.get(v)
        if rec is None:
            return False
        view = rec[1]
        return not isinstance(view, (Same, ReadOnly)) and \
            not (isinstance(view, Index) and view.ints_only())

    def latest(self, v):
        """The last version writes gave ``v`` (``v`` itself if none)."""
        seen = set()
        while v in self.newer and v not in seen:
            seen.add(v)
            v = self.newer[v]
        return v

    def first_version(self, v):
        """The value ``v`` is a version of, before any write (``v`` itself if
        none): in NumPy the same array, with the same strides."""
        seen = set()
        while v in self.older and v not in seen:
            seen.add(v)
            v = self.older[v]
        return v

    def base_of(self, v):
        rec = self.view_of.get(v)
        return None if rec is None else rec[0]

    def root(self, v):
        """The array ``v`` is (transitively) a view of, or ``v``."""
        seen = set()
        while v in self.view_of and v not in seen:
            seen.add(v)
            v = self.view_of[v][0]
        return v

    def is_view(self, v) -> bool:
        return v in self.view_of

    def has_views(self, v) -> bool:
        return bool(self.children.get(v))

    def readonly_path(self, v):
        """The read-only :class:`View` on ``v``'s chain of bases, else None."""
        seen = set()
        while v in self.view_of and v not in seen:
            seen.add(v)
            base, view = self.view_of[v]
            if view.readonly:
                return view
            v = base
        return None

    def descendants(self, v):
        """All views of ``v``, transitively, parents before children."""
        out, todo, seen = [], list(self.children.get(v, ())), set()
        while todo:
            c = todo.pop(0)
            if c in seen:
                continue
            seen.add(c)
            out.append(c)
            todo += self.children.get(c, ())
        return out

    # ------------------------------------------------------------ the write rule

    def write(self, em, old, new, live, emit_cond):
        """``old`` (an array value) was written into, giving ``new``.  Returns
        ``[(old Var, new Var), ...]``: the new version of every value that
        shares memory with ``old`` and may still be read.

        ``live(v)``: whether ``v`` may still be read (views that are dead are
        not re-derived).  ``emit_cond(pred, then_value, else_value)`` emits a
        runtime choice (a ``cond``) and returns its output.
        """
        # (a runtime list's slot rebound, xs[i] = v, writes no array: only
        # another list that may be the same object matters)
        self._check_unknown(old, live, lists_only=_is_runtime_list(old))
        repl = [(old, new)]
        done = {old}
        # 1. up the chain of bases: each base becomes a functional update
        cur_old, cur_new = old, new
        while cur_old in self.view_of:
            base, view = self.view_of[cur_old]
            if base in done:
                break
            self._check_unknown(base, live)
            nb = view.write(em, base, cur_new)
            if view.shares is not None:
                nb = emit_cond(view.shares, nb, base)
            elif isinstance(view, Index) and view.ints_only() and not self.known_array(cur_old):
                # a[0] is a view of a row when it is an array, else a copy
                nb = emit_cond(em.call(P.get("is_array"), cur_old), nb, base)
            nb.hint = base.hint
            self.add_view(cur_new, nb, view)
            repl.append((base, nb))
            done.add(base)
            cur_old, cur_new = base, nb
        # 2. down from every written value: re-derive the live views
        new_of = dict(repl)
        todo = [o for o, _ in repl]
        while todo:
            o = todo.pop(0)
            n = new_of[o]
            for c in list(self.children.get(o, ())):
                if c in done:
                    continue
                if not (live(c) or self._live_below(c, live)):
                    # a view no name holds may still be held by a runtime
                    # list (``hs.append(h[::-1])``; then ``h += 1``): the
                    # write changes what the list holds
                    for d in [c] + self.descendants(c):
                        self._check_unknown(d, live, lists_only=True)
                    continue
                done.add(c)
                self._check_unknown(c, live)
                view = self.view_of[c][1]
                nc = view.read(em, n, c)
                if isinstance(view, Index) and view.ints_only() and not self.known_array(c):
                    # a[0] of a 1-d array is a scalar, a copy of the element
                    nc = emit_cond(em.call(P.get("is_array"), c), nc, c)
                elif view.shares is not None:
                    nc = emit_cond(view.shares, nc, c)
                nc.hint = c.hint
                self.add_view(nc, n, view)
                new_of[c] = nc
                repl.append((c, nc))
                todo.append(c)
        self.touched.update(o for o, _ in repl)
        self.newer.update(repl)
        for o, n in repl:
            self.older.setdefault(n, o)
        for o, n in repl:
            if o in self.arrays:
                self.arrays.add(n)       # a new version of an array is an array
            if o in self.ndim:
                self.ndim.setdefault(n, self.ndim[o])
        return repl

    def _check_unknown(self, v, live, lists_only=False):
        unknown = self.unknown
        for b in unknown.get(v, ()):
            if lists_only and not _is_runtime_list(b):
                continue
            if live(b) or self._live_below(b, live):
                raise UnknownAlias(v, b)
            if _is_runtime_list(b):
                self._check_read_from(v, b, live)
            if lists_only or _is_runtime_list(b):
                continue
            # b (or a view of it) dead, but held by a runtime list that is
            # live (``hs = [x]; h = x[::-1]``, a loop that may rebind h, then
            # ``h += 0.1``: a write into x, which hs holds)
            for d in [b] + self.descendants(b):
                for c in unknown.get(d, ()):
                    if c is not v and _is_runtime_list(c) and (live(c) or self._live_below(c, live)):
                        raise UnknownAlias(v, c)
                    if c is not v and _is_runtime_list(c):
                        self._check_read_from(v, c, live)

    def _check_read_from(self, v, lst, live):
        """An array read out of a run-time list (which one is not kept
        through loops and branches: any) while ``lst`` may hold ``v`` or a
        view of it: if it may still be read, a write into ``v`` may change
        it."""
        for item in sorted(self.list_items, key=lambda x: x.id):    # (the first, named)
            if item is not v and (live(item) or self._live_below(item, live)):
                raise UnknownAlias(v, item)

    def _live_below(self, v, live):
        return any(live(d) for d in self.descendants(v))


# ---------------------------------------------------------------- over the IR
#
# After lowering the IR is functional; code generation may still write in
# place (``y[idx] = v`` for ``setitem``) and reuse buffers (``np.exp(t,
# out=t)``).  These facts say when that is safe.

# The result shares memory with these operand positions (None: any operand,
# or a reference to it is kept: containers, stacks).
VIEW_OPERANDS = {
    "getitem": (0,), "reshape": (0,), "ravel": (0,), "transpose": (0,), "swapaxes": (0,),
    "moveaxis": (0,), "squeeze": (0,), "expand_dims": (0,), "broadcast_to": (0,),
    "broadcast_like": (0,), "unbroadcast": (0,), "unreduce": (0,), "asarray": (0,),
    "asanyarray": (0,), "ascontiguousarray": (0,), "asfortranarray": (0,),
    "diagonal": (0,), "float": (0,), "stop_gradient": (0,), "sigmoid_link": (0,), "softmax_link": (0,),
    "list_get": (0,),
    "atleast_1d": (0,), "atleast_2d": (0,), "atleast_3d": (0,), "einsum": None,
    "list_build": None, "list_append": None, "make_tuple": None, "make_list": None,
    "push": None, "rows_append": None, "load_global": None, "load_cell": None, "load_object": None,
    "load_attr": None, "load_item": None,
}
# Helpers that return their first operand itself in some cases (a real value
# through real_if_complex/conj_if_complex/require_real/real_like/grad_like, x op= v's
# value already in x's dtype through in_place_result, a cotangent already of
# the shape through fit_shape): their result may be that operand, so it is
# a view of it and never memory of the function's own.
_MAY_BE_OPERAND = ("real_if_complex", "conj_if_complex", "require_real", "real_like", "grad_like",
                   "in_place_result", "fit_shape", "r_item", "c_item", "axes_kept",
                   "gufunc_assemble", "require_nonzero", "require_nonsingular",
                   "csign_tangent_checked", "ties_halved")
VIEW_OPERANDS.update((name, (0,)) for name in _MAY_BE_OPERAND)

# Results that are new memory although the primitive is not an allocation.
_FRESH_OPS = {"matmul", "dot", "outer", "inner", "tensordot", "sum", "mean", "prod", "max",
              "min", "where", "clip", "sigmoid", "index_add", "cumsum",
              # assembly/statistics functions and adjoint helpers that always
              # return a new array (primitives/assembly.py, statistics.py)
              "cumprod", "repeat", "take", "pad", "roll", "tril", "triu", "kron", "convolve",
              "correlate", "unrepeat", "untile", "untake", "untake_along_axis", "undelete",
              "undiagonal", "unpartition", "diff_adjoint", "gradient_adjoint",
              "quantile_adjoint", "add_rows", "prod_others", "prod_pairs",
              "cumprod_vjp_core", "cumprod_jvp_core", "norm_scale",
              "norm_scale_checked", "logaddexp_gap", "logaddexp_gap_slope",
              # (perf-rows15) a correlation's result, or its view (runtime_numpy)
              "convolve_vjp_a", "convolve_vjp_b", "correlate_vjp_a", "correlate_vjp_b"}


def is_alloc(e: Eqn) -> bool:
    """An allocation: a new array (or list) every time it runs, never merged
    with another (``alloc=True`` in the table)."""
    return bool(getattr(e.prim, "alloc", False))


def fresh_result(e: Eqn) -> bool:
    """Whether ``e``'s result is new memory no other value shares: an
    allocation, a NumPy ufunc, a reduction or product, a copying read."""
    import numpy as np
    p = e.prim
    if is_alloc(e):
        return True
    if _cast_may_share(e):
        return False
    if p.name == "getitem":
        return bool(e.params.get("copy"))
    return isinstance(p.impl, np.ufunc) or p.name in _FRESH_OPS


# The function owns the result's memory (it may share it with another value
# the function owns: a setitem written in place, an elementwise result).
_OWNED_OPS = {"stack", "concatenate", "hstack", "vstack", "astype", "matmul_vjp_a",
              "matmul_vjp_b", "inv", "solve", "linalg.inv", "linalg.solve", "tensordot",
              "scalar_seed", "unstack", "setitem", "list_append", "list_pop",
              "list_index_add", "list_add", "index_accumulate", "list_accumulate", "lazy_zeros", "zeros_or"}

# Results read for metadata only, or computed without keeping the operand.
_DROPS = {"shape", "size", "ndim", "len", "result_type", "var", "std", "argmax", "argmin",
          "logaddexp"}


def _cast_may_share(e: Eqn) -> bool:
    """``astype`` printed as ``np.asarray(x, dtype=...)`` (all but the user's
    ``x.astype(...)``, see primitives/shape_ops.py) is ``x`` itself when ``x``
    already has the dtype."""
    spelling = e.params.get("spelling")
    return e.prim.name == "astype" and not (spelling and spelling[0] == "method")


def owned_result(e: Eqn) -> bool:
    """Whether the function owns ``e``'s result memory (may write into it):
    fresh memory, an elementwise result, a new version of an owned array."""
    if _cast_may_share(e) or e.prim.name in _MAY_BE_OPERAND:
        return False
    return fresh_result(e) or e.prim.name in _OWNED_OPS or \
        getattr(e.prim, "shape", None) is P.shape_elementwise


def drops_references(e: Eqn) -> bool:
    """Whether ``e`` keeps no reference to (or view of) its operands."""
    import numpy as np
    return not e.blocks() and not _cast_may_share(e) and (isinstance(e.prim.impl, np.ufunc) or
                               e.prim.name in _FRESH_OPS or e.prim.name in _DROPS)


def may_view(user: Eqn, a) -> bool:
    """Whether the result of ``user`` may share memory with (or keep a
    reference to) its operand ``a``."""
    name = user.prim.name
    if name == "getitem" and user.params.get("copy"):
        return False
    if user.blocks() or getattr(user.prim, "effect", False):
        return True
    pos = VIEW_OPERANDS.get(name, ())
    if _cast_may_share(user):
        pos = (0,)
    if pos is None:
        return any(x is a for x in user.atoms())
    return any(i < len(user.args) and user.args[i] is a for i in pos)


def retains(user: Eqn) -> bool:
    """Whether ``user`` may keep a reference beyond its result (a region, a
    stack push, a container): its operands' memory must not change later."""
    return bool(user.blocks()) or getattr(user.prim, "effect", False) or \
        VIEW_OPERANDS.get(user.prim.name, ()) is None


def views_read_after(v, use_sites, pos, limit, _seen=None):
    """Whether ``v`` or a view derived from it (transitively) is read after
    position ``limit`` (or kept by a region/container/return): then writing
    ``v`` in place at ``limit`` would be seen by that read.  ``use_sites``:
    Var -> [(position, using Eqn or None for a result)]."""
    _seen = _seen if _seen is not None else set()
    if v in _seen:
        return False
    _seen.add(v)
    for p_, user in use_sites.get(v, ()):
        if user is not None and not user.blocks() and all(
                P.shape_only(user.prim.name, i) for i, x in enumerate(user.args) if x is v) \
                and all(x is not v for x in user.kwargs.values()):
            continue        # reads only the shape, which a write in place keeps
        if user is None or p_ > limit:
            return True
        if may_view(user, v):
            if retains(user):
                return True
            for o in user.outs:
                if views_read_after(o, use_sites, pos, limit, _seen):
                    return True
    return False


class IRAliases:
    """Which values of a lowered (functional) Func may share memory when the
    generated code runs: a view with its base (:data:`VIEW_OPERANDS`), a
    container with what it holds, a loop's initial value, body parameter,
    body result and output, a branch's results and the ``cond``'s output.
    Code generation adds ``setitem`` results it writes in place
    (:meth:`union`).  ``members(v)``: the values in ``v``'s class, in
    definition order (deterministic)."""

    def __init__(self, func):
        self.parent: dict = {}
        self.order: list = []           # every Var seen, in program order
        self.index: dict = {}           # Var -> its position in order
        self._groups = None             # root -> its class in order (made by members)
        self._unsorted: set = set()     # roots whose class is merged but not yet in order
        for p_ in func.params:
            self._see(p_)
        self._walk(func.body)

    def _see(self, v):
        if isinstance(v, Var) and v not in self.parent:
            self.parent[v] = v
            self.index[v] = len(self.order)
            self.order.append(v)
            if self._groups is not None:
                self._groups[v] = [v]

    def find(self, v):
        root = v
        while self.parent.get(root, root) is not root:
            root = self.parent[root]
        while v is not root:
            nxt = self.parent[v]
            self.parent[v] = root
            v = nxt
        return root

    def union(self, a, b):
        if not (isinstance(a, Var) and isinstance(b, Var)):
            return
        self._see(a)
        self._see(b)
        ra, rb = self.find(a), self.find(b)
        if ra is not rb:
            self.parent[rb] = ra
            if self._groups is not None:
                # (merged in place, put in order when next asked for: code
                # generation unites a value per write it makes in place, and
                # rebuilding -- or re-sorting -- a class after each was
                # quadratic in the function's length)
                big, small = self._groups[ra], self._groups.pop(rb)
                if len(big) < len(small):
                    big, small = small, big
                big.extend(small)
                self._groups[ra] = big
                self._unsorted.discard(rb)
                self._unsorted.add(ra)

    def members(self, v):
        if not isinstance(v, Var) or v not in self.parent:
            return [v] if isinstance(v, Var) else []
        if self._groups is None:
            self._groups = {}
            for u in self.order:
                self._groups.setdefault(self.find(u), []).append(u)
        root = self.find(v)
        group = self._groups[root]
        if root in self._unsorted:
            self._unsorted.discard(root)
            group.sort(key=self.index.__getitem__)
        return group

    def _walk(self, block):
        from .primitives.control import loop_offset
        for p_ in block.params:
            self._see(p_)
        for e in block.eqns:
            for b in e.blocks():
                self._walk(b)
            for o in e.outs:
                self._see(o)
            name = e.prim.name
            if name == "cond":
                for i, o in enumerate(e.outs):
                    for b in (e.params["then"], e.params["else"]):
                        self.union(o, b.results[i])
            elif name in ("for_loop", "while_loop"):
                off = loop_offset(e)
                body = e.params["body"]
                for i, o in enumerate(e.outs):
                    for v in (e.args[off + i], body.params[off + i], body.results[i]):
                        self.union(o, v)
                    if "cond" in e.params:
                        self.union(o, e.params["cond"].params[i])
            elif not fresh_result(e):
                for o in e.outs:
                    for a in e.atoms():
                        if isinstance(a, Var) and may_view(e, a):
                            self.union(o, a)


def _is_runtime_list(v) -> bool:
    from .primitives.core import shape_of
    from .primitives.lists import LIST
    return shape_of(v) is LIST
