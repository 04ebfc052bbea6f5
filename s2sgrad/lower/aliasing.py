"""NumPy's aliasing during lowering: ``b = a``, a view ``v = a[1:]``, a row
``a[0]``, ``a.T``, ``a.reshape(...)`` and a dict entry all name the same
memory.  The model itself (view transforms, the write rule) is
:mod:`s2sgrad.alias`; this mixin connects it to the environment of names:

* every view a lowering step makes is recorded (:meth:`record_view`);
* a write (``y[i] = v``, ``v *= 2`` on an array, ``np.add.at``) gives the
  written array a new version, and :meth:`write_back` gives the new versions
  of every array sharing its memory (its bases, their live views) to every
  name, container item and loop item that holds them;
* what the model cannot follow is refused with the user's file and line:
  writes through a read-only view (``np.broadcast_to``, as NumPy raises)
  and writes into an array taken from a list built at run time.
"""
from __future__ import annotations

import ast

from ..alias import Index, Permute, ReadOnly, Reshape, Same, UnknownAlias
from ..errors import S2SGradError
from ..ir import Block, Const, Eqn, Var
from ..primitives import core as P
from .syntax import function_reads_of, rebinds_plainly
from .values import DictVal, Seq, TreeObj, replace_within


def transpose_view(axes):
    if axes is None:
        return Permute("transpose", {}, "transpose", {})
    inv = tuple(sorted(range(len(axes)), key=lambda i: axes[i]))
    return Permute("transpose", {"axes": Const(tuple(axes))},
                   "transpose", {"axes": Const(inv)})


def _atoms_in(v):
    if isinstance(v, Seq):
        for i in v.items:
            yield from _atoms_in(i)
    elif isinstance(v, DictVal):
        for i in v.items.values():
            yield from _atoms_in(i)
    elif isinstance(v, TreeObj):
        # (a dataclass's array leaves: a write into one is seen through it)
        for i in v.values.values():
            yield from _atoms_in(i)
    elif isinstance(v, Var):
        yield v


def _replace_object(v, old, new, memo=None):
    """``v`` with the container ``old`` (by identity) replaced by ``new``."""
    return replace_within(v, lambda x: x is old, new, memo)


def _replace_atoms(v, new_of, memo=None):
    """``v`` with every Var in ``new_of`` replaced (containers rebuilt; ``v``
    itself when it holds none of them).  ``memo`` (shared by the calls over
    every name of the environments): a container two names hold is rebuilt
    once, so they still hold one object (``e = d``: a later ``d[k] = v``
    must reach ``e``)."""
    if isinstance(v, Var):
        return new_of.get(v, v)
    if memo is not None and isinstance(v, (Seq, DictVal, TreeObj)) and id(v) in memo:
        return memo[id(v)][1]
    out = v
    if isinstance(v, Seq):
        items = [_replace_atoms(i, new_of, memo) for i in v.items]
        if any(a is not b for a, b in zip(items, v.items)):
            out = Seq(v.kind, items, v.fields, v.ntype)
    elif isinstance(v, DictVal):
        items = {k: _replace_atoms(i, new_of, memo) for k, i in v.items.items()}
        if any(items[k] is not v.items[k] for k in items):
            out = DictVal(items, v.default)
    elif isinstance(v, TreeObj):
        values = {k: _replace_atoms(i, new_of, memo) for k, i in v.values.items()}
        if any(values[k] is not v.values[k] for k in values):
            out = TreeObj(v.obj, values)
    if memo is not None and isinstance(v, (Seq, DictVal, TreeObj)):
        memo[id(v)] = (v, out)
    return out


# Keys of the environment that hold values lowering still reads although no
# user name does (the items of a loop over a tuple of views being unrolled).
LIVE_PREFIX = "$live"


# Primitives whose NumPy result is a view of their first operand that the
# model above does not write through: True where NumPy itself refuses the
# write (a read-only view), False where s2sgrad refuses it.
NUMPY_VIEWS = {"broadcast_to": True, "diagonal": True, "real": False, "imag": False,
               "flip": False, "rot90": False, "rollaxis": False,
               "sliding_window_view": True, "trim_zeros": False, "la_diagonal": True}
# ... and those whose several results are views: of the first operand
# ("first") or result i of operand i ("each").
PIECE_VIEWS = {"split": "first", "array_split": "first", "hsplit": "first", "vsplit": "first",
               "dsplit": "first", "broadcast_arrays": "each", "meshgrid": "each"}


# Primitives whose result is their operand itself when a count is 0 (the
# option naming it).
_COUNT_ZERO_IS_OPERAND = {"diff": "n", "polyder": "m", "polyint": "m"}


def _einsum_is_view(subscripts, operands):
    """Whether ``np.einsum(subscripts, *operands)`` returns a view of its one
    operand (NumPy: one operand, no output given, no label summed)."""
    if len(operands) != 1 or not isinstance(operands[0], Var) or \
            P.shape_of(operands[0]) is P.SCALAR or not isinstance(subscripts, Const) or \
            not isinstance(subscripts.value, str):
        return False
    spec = subscripts.value.replace(" ", "").replace("...", "")
    if "," in spec:
        return False
    if "->" in spec:
        ins, outs = spec.split("->")
        return set(ins) <= set(outs)
    return len(set(spec)) == len(spec)      # implicit: a repeated label is summed


def _consts(kw):
    return all(isinstance(v, Const) for v in kw.values())


def _rederive(prim_name, args, kw, base_pos, index):
    """The view again, on a new version of the operand at ``base_pos``."""
    def rederive(em, base):
        a = list(args)
        a[base_pos] = base
        prim = P.get(prim_name)
        # (a composite, np.lib.stride_tricks.sliding_window_view: expanded again)
        out = prim.expand(em, *a, **kw) if prim.expand is not None else em.call(prim, *a, **kw)
        return out[index] if index is not None else out
    return rederive


def _hidden(name):
    """Lowering's own bookkeeping (flags), not a value a program may read."""
    return name.startswith("$") and not name.startswith(LIVE_PREFIX)


class AliasingMixin:
    # ------------------------------------------------------------ recording views

    def add_view(self, v, base, template, parts):
        """``v = base[template]`` with basic indexing (a view)."""
        self.top.alias.add_view(v, base, Index(template, parts))

    def _shares(self, prim_name, out, operand, kw, rest=()):
        """Whether ``out`` (``prim_name`` of ``operand``: a reshape, ravel or
        conversion) is a view of ``operand``: NumPy decides from the strides
        at run time.  When ``operand`` is a version a write gave an earlier
        value (``x *= 2``, ``x[0] = v``, a write through a view), NumPy's
        array is still that value's memory, with its strides, where the IR's
        version is a new array of its own (C-ordered): the test is made on
        the first version (an F-ordered, strided or reversed argument)."""
        first = self.numpy_memory(operand)
        if first is None:
            return self.em.call(P.get("may_share_memory"), out, operand)
        probe = self.em.call(P.get(prim_name), first, *rest, **kw)
        return self.em.call(P.get("may_share_memory"), probe, first)

    def numpy_memory(self, operand):
        """An array with the strides NumPy's ``operand`` has, or None when the
        IR's ``operand`` has them.  A version a write made (``x *= 2``, a
        write through a view) is a new array of the IR's own (C-ordered),
        where NumPy's is still the first version's memory: walked back
        through first versions and views (A = A.T after A.T[...] = v; a
        reshape decided at run time is the same reshape of the first
        version, NumPy's view or copy) to an array that is its own memory,
        and the views applied again to it.  The walk stops at another view
        decided at run time or a read-only one (A = np.asfortranarray(W)),
        whose first version has NumPy's strides."""
        model = self.top.alias
        roots = self.top.__dict__.setdefault("layout_roots", [])
        path, v, moved = [], operand, False
        for _ in range(64):
            f = model.first_version(v)
            if f is not v:
                v, moved = f, True
            if v not in model.view_of:
                break
            base, view = model.view_of[v]
            if isinstance(view, ReadOnly) or view.shares is not None and not (
                    isinstance(view, Reshape) and view.tag in ("reshape", "ravel")):
                break
            path.append((view, v))
            v = base
        roots.append(v)      # (a loop carry here: checked at the end of the step)
        entry = model.older_if_array.get(v)
        if entry is not None:
            # x -= v on a value that is an array or a number at run time: the
            # memory is the first value's when it was an array (in place),
            # else the new value's own
            pred, cur = entry
            inner = self.numpy_memory(cur)
            first = self.choose(pred, cur if inner is None else inner, v)
        elif not moved:
            return None
        else:
            first = v
        for view, old in reversed(path):
            first = view.read(self.em, first, old)
        return first

    def record_view(self, prim_name, out, operand, kw, node, spelling=None, rest=()):
        """Record ``out`` (the result of ``prim_name`` on ``operand``) as a view
        when NumPy returns one."""
        model = self.top.alias
        model.note_result(prim_name, out, operand, kw)
        if prim_name == "einsum" and isinstance(out, Var) and _einsum_is_view(operand, rest):
            # np.einsum('ii->i', y), np.einsum('ij->ji', y): one operand and no
            # label summed, NumPy returns a (writable) view of it; a write into
            # y is seen through it, a write through it is refused
            model.add_view(out, rest[0], ReadOnly(
                "np.einsum", numpy_refuses=False,
                rederive=_rederive("einsum", [operand] + list(rest), kw, 1, None)))
            return
        if not isinstance(out, Var) or not isinstance(operand, Var) or out is operand:
            return
        if P.shape_of(operand) is P.SCALAR:
            return
        if prim_name == "transpose":
            axes = kw.get("axes", Const(None))
            if isinstance(axes, Const) and (axes.value is None or isinstance(axes.value, tuple)):
                model.add_view(out, operand, transpose_view(axes.value))
            else:
                self.top.alias.add_view(out, operand, ReadOnly("np.transpose with computed axes"))
        elif prim_name == "swapaxes":
            k = {"axis1": kw["axis1"], "axis2": kw["axis2"]}
            model.add_view(out, operand, Permute("swapaxes", k, "swapaxes", k))
        elif prim_name == "moveaxis":
            model.add_view(out, operand, Permute(
                "moveaxis", {"source": kw["source"], "destination": kw["destination"]},
                "moveaxis", {"source": kw["destination"], "destination": kw["source"]}))
        elif prim_name in ("expand_dims", "squeeze", "atleast_1d", "atleast_2d", "atleast_3d"):
            # a view of an array; of a NumPy scalar (y[0] of a 1-d y) a new
            # array: known at run time
            shares = None if model.known_array(operand) else \
                self.em.call(P.get("may_share_memory"), out, operand)
            model.add_view(out, operand, Reshape(shares, prim_name))
        elif prim_name in ("reshape", "ravel"):
            if spelling == ("method", "flatten"):
                return                                  # always a copy
            order = kw.get("order", Const(None))
            order = order.value if isinstance(order, Const) else order
            if order == "F":
                # a view when the operand's memory is in Fortran order (y.T of
                # a C array): known at run time; read and written in F order
                shares = self._shares(prim_name, out, operand, kw, rest)
                model.add_view(out, operand, Reshape(shares, prim_name, order="F"))
            elif operand in model.contiguous and order in (None, "C"):
                model.add_view(out, operand, Reshape(None, prim_name))
            else:
                # a view when NumPy can make one from the strides: known at
                # run time (np.may_share_memory right after the reshape)
                shares = self._shares(prim_name, out, operand, kw, rest)
                model.add_view(out, operand, Reshape(shares, prim_name))
        elif prim_name in _COUNT_ZERO_IS_OPERAND:
            # np.diff(a, n=0), np.polyder(p, 0), np.polyint(p, 0): a itself
            c = kw.get(_COUNT_ZERO_IS_OPERAND[prim_name])
            if c is None or (isinstance(c, Const) and c.value is not None and c.value != 0):
                return
            shares = None if isinstance(c, Const) and c.value == 0 else \
                self.em.call(P.get("may_share_memory"), out, operand)
            model.add_view(out, operand, Same(shares))
        elif prim_name == "stop_gradient":
            # s2sgrad.stop_gradient(y) is y itself when the function runs as
            # Python: a write into y is seen through it (with no derivative);
            # a write through it is refused
            model.add_view(out, operand, ReadOnly(
                "s2sgrad.stop_gradient", numpy_refuses=False,
                rederive=_rederive(prim_name, [operand], kw, 0, None)))
        elif prim_name == "conj_if_complex" and spelling is None:
            # x.conj() (lowered so): x itself when real, decided at run time
            shares = self.em.call(P.get("may_share_memory"), out, operand)
            model.add_view(out, operand, Same(shares))
        elif prim_name == "real_if_close":
            # a itself (or a.real, a view) when NumPy keeps it, else a copy
            shares = self.em.call(P.get("may_share_memory"), out, operand)
            model.add_view(out, operand, ReadOnly(
                "np.real_if_close", numpy_refuses=False, shares=shares,
                rederive=_rederive(prim_name, [operand] + list(rest), kw, 0, None)))
        elif prim_name in ("asarray", "asanyarray"):
            shares = self._shares(prim_name, out, operand, kw, rest)
            model.add_view(out, operand, Same(shares))
        elif prim_name in ("ascontiguousarray", "asfortranarray"):
            # x itself when already in that order (a 0-d x: a (1,) view of it),
            # else a copy: decided at run time
            shares = self._shares(prim_name, out, operand, kw, rest)
            model.add_view(out, operand, Reshape(shares, prim_name))
        elif prim_name in ("fliplr", "flipud") or (prim_name == "flip" and _consts(kw)):
            model.add_view(out, operand, Permute(prim_name, dict(kw), prim_name, dict(kw)))
        elif prim_name == "rot90" and _consts(kw):
            k = kw.get("k", Const(1)).value
            inv = dict(kw, k=Const(-(1 if k is None else k)))
            model.add_view(out, operand, Permute("rot90", dict(kw), "rot90", inv))
        elif prim_name == "matrix_transpose":
            # x.mT, np.matrix_transpose: a view with the last two axes swapped
            model.add_view(out, operand, Permute("matrix_transpose", {}, "matrix_transpose", {}))
        elif prim_name == "diag":
            # np.diag(v): a read-only view of a 2-d v's diagonal, a new matrix
            # built from a 1-d v (which one: known at run time)
            shares = self.em.call(P.get("may_share_memory"), out, operand)
            model.add_view(out, operand, ReadOnly(
                "np.diag", rederive=_rederive(prim_name, [operand] + list(rest), kw, 0, None),
                shares=shares))
        elif prim_name in NUMPY_VIEWS:
            # NumPy returns a view (read-only, or one s2sgrad does not write
            # through): a write into the base is seen by recomputing it
            model.add_view(out, operand, ReadOnly(
                f"np.{prim_name}", numpy_refuses=NUMPY_VIEWS[prim_name],
                rederive=_rederive(prim_name, [operand] + list(rest), kw, 0, None)))

    def record_views_of_pieces(self, prim_name, outs, pos, kw):
        """``a, b = np.split(y, 2)``, ``np.broadcast_arrays(x, y)``,
        ``np.meshgrid(x, y, copy=False)``: NumPy's pieces are views of the
        operands (of the first, or piece i of operand i); a write into the
        operand is seen by recomputing them, a write through a piece is
        refused."""
        if prim_name not in PIECE_VIEWS:
            return
        if prim_name == "meshgrid" and not (isinstance(kw.get("copy"), Const) and
                                            kw["copy"].value is False):
            return                                      # copies (the default)
        model = self.top.alias
        for i, o in enumerate(outs):
            j = i if PIECE_VIEWS[prim_name] == "each" else 0
            if j < len(pos) and isinstance(o, Var) and isinstance(pos[j], Var) and \
                    P.shape_of(pos[j]) is not P.SCALAR:
                model.add_view(o, pos[j], ReadOnly(
                    f"np.{prim_name}", numpy_refuses=False,
                    rederive=_rederive(prim_name, list(pos), kw, j, i)))

    # ------------------------------------------------------------ liveness

    def envs(self):
        """The environments whose names may refer to this scope's arrays: this
        one and those of the calls being inlined."""
        lw = self
        chain = []
        while lw is not None:
            chain.append(lw)
            yield lw.env
            lw = lw.caller
        yield from (lw.env for lw in self.closure_scopes(chain))

    def closure_scopes(self, chain):
        """The scopes of inlined calls, returned from (not in ``chain``), in
        which a nested function was made: a closure returned from a helper
        (``def mk(a): return lambda: np.sum(a * x)``) reads its names when it
        is called, so a write into their arrays must reach them (see
        :meth:`note_closure_scope`)."""
        return [lw for lw in self.top.__dict__.get("closure_scope_list", ())
                if not any(lw is c for c in chain)]

    def note_closure_scope(self):
        """A nested function was made in this scope (calls.py)."""
        if self is not self.top:
            scopes = self.top.__dict__.setdefault("closure_scope_list", [])
            if not any(lw is self for lw in scopes):
                scopes.append(self)

    def live_atoms(self):
        """The Vars bound to names that may still be read: loaded at or after
        the current line, or anywhere when inside a loop (a view that is never
        read again need not see later writes)."""
        out = set()
        lw = self
        chain = []
        while lw is not None:
            last = lw.last_loads()
            line = lw.loc.lineno if lw.loc is not None else 0
            in_loop = lw.loop_depth > 0 or lw.enclosing_loop()
            for k, v in lw.env.items():
                if k.startswith("$") and not k.startswith(LIVE_PREFIX):
                    continue
                if not k.startswith("$") and not in_loop and last.get(k, -1) < line:
                    continue
                out.update(_atoms_in(v))
            chain.append(lw)
            lw = lw.caller
        for lw in self.closure_scopes(chain):
            # (a closure may be called at any later line)
            for k, v in lw.env.items():
                if not k.startswith("$") or k.startswith(LIVE_PREFIX):
                    out.update(_atoms_in(v))
        return out

    def enclosing_loop(self):
        lw = self.caller
        while lw is not None:
            if lw.loop_depth > 0:
                return True
            lw = lw.caller
        return False

    def last_loads(self):
        """name -> the last line that reads it (``x += v`` reads ``x``): one
        walk of the function, kept on the top lowerer
        (:func:`~s2sgrad.lower.syntax.function_reads`)."""
        return function_reads_of(self.top, self.src.node)[2]

    # ------------------------------------------------------------ writes

    def aliased(self, v, name):
        """Whether the array ``v`` (bound to ``name``) is also reachable
        another way: another name, a container, a view of it, or it is a view."""
        model = self.top.alias
        if model.is_view(v) or model.has_views(v) or v in model.unknown:
            return True
        for env in self.envs():
            for k, val in env.items():
                if k == name and env is self.env:
                    continue
                if any(a is v for a in _atoms_in(val)):
                    return True
        return False

    def check_writable(self, v, node):
        """Refuse a write NumPy refuses (a read-only view) or that s2sgrad
        cannot follow (an array taken out of a list built at run time)."""
        model = self.top.alias
        if isinstance(v, Var) and node is not None and P.shape_of(v) is not P.SCALAR:
            # (an argument's memory written: see lower.function.check_unshared_arguments)
            self.top.written.append((v, f"{self.src.filename}:{node.lineno}"))
        ro = model.readonly_path(v) if isinstance(v, Var) else None
        if ro is not None and ro.shares is not None and ro.numpy_refuses:
            # a view only at run time (np.diag of a 2-d array, where NumPy
            # refuses the write): written, it is a new array of its own
            w = v
            while model.view_of[w][1] is not ro:
                w = model.view_of[w][0]
            base = model.view_of.pop(w)[0]
            model.children[base] = [c for c in model.children.get(base, ()) if c is not w]
            ro = model.readonly_path(v)
        if ro is not None and not ro.numpy_refuses:
            raise self.error(node, f"writing through the result of {ro.what} (a view of part "
                                   f"of the array) is not supported; write into the array "
                                   f"itself, or into a copy (.copy())", cls=S2SGradError,
                             construct=f"write through {ro.what}")
        if ro is not None:
            raise self.error(node, f"writing into a read-only view ({ro.what} returns one; "
                                   f"NumPy raises 'assignment destination is read-only'); "
                                   f"write into a copy (.copy()) instead", cls=S2SGradError,
                             construct="write into a read-only view")
        if isinstance(v, Var) and self.a_default_value(v):
            raise self.error(node, "this writes into the default value of a nested "
                                   "function's parameter (or memory it shares): Python "
                                   "evaluates it once, where the 'def' runs, so every later "
                                   "call sees the change; pass the array explicitly, or "
                                   "copy it first (c = c.copy())", cls=S2SGradError,
                             construct="write into a parameter's default value")
        if isinstance(v, Var) and self.from_list_item(v):
            raise self.error(node, "writing into an array taken from a list built at run "
                                   "time is not supported (s2sgrad cannot tell which other "
                                   "arrays share its memory); write into the array by its "
                                   "own name, or compute a new value and store it back "
                                   "(xs[i] = new)", cls=S2SGradError,
                             construct="write through a list item")

    def a_default_value(self, v):
        """Whether ``v`` (or an array it is a view of) is the default value
        of a parameter of a nested function that may be called again."""
        from .values import LocalFunction
        made = [d for env in self.envs() for f in env.values()
                if isinstance(f, LocalFunction) for d in f.defaults
                if isinstance(d, (Var, Seq, DictVal))]
        defaults = {id(d) for d in made}
        if not defaults:
            return False
        model, seen = self.top.alias, set()
        while v not in seen:
            if id(v) in defaults:
                return True
            seen.add(v)
            rec = model.view_of.get(v)
            if rec is None:
                break
            v = rec[0]
        # a write into the array a default is a view of (lambda r=W[0]: ...
        # then W *= 2): the default sees it too; its value, kept where the
        # def ran, would not
        def memory(a):
            return model.first_version(model.root(model.first_version(a)))
        written = memory(v)
        return any(memory(a) is written for d in made for a in _atoms_in(d))

    def from_list_item(self, v):
        """Whether ``v`` is an array read out of a list built at run time, or
        a view of one (``hs[-1][:2]``, ``hs[-1].T``, a reshape): a write
        through it changes what the list holds."""
        model, items, seen = self.top.alias, self.top.list_items, set()
        while v not in seen:
            if v in items:
                return True
            seen.add(v)
            rec = model.view_of.get(v)
            if rec is None:
                return False
            v = rec[0]
        return False

    # ------------------------------------------------------------ lists owning their arrays

    def own_lists(self):
        """Runtime list version -> the loop carries its ownership was assumed
        for: a list every entry of which is an array the list alone holds
        (each stored as the fresh result of a NumPy operation, no name,
        view, container or other entry holding it), so ``hs[i] op= v``,
        which writes into the entry, is ``hs[i] = hs[i] op v``."""
        top = self.top
        if not hasattr(top, "_own_lists"):
            top._own_lists = {}
            top._own_relied = {}        # loop carry -> the op= that relied on it
        return top._own_lists

    def _defining_eqn(self, v, window=64):
        """The equation of the current block that made ``v``, looked for
        among its last ``window`` (a value stored is made by the statement
        storing it; further back, or elsewhere, it is not known: None)."""
        eqns = self.em.block.eqns
        for e in reversed(eqns[-window:]):
            if any(o is v for o in e.outs):
                return e
        return None

    def fresh_entry(self, v, out, container=None):
        """Whether ``v``, being stored into a runtime list, is an array
        nothing else holds: a number, or the result of an allocation, a
        ufunc or a reduction emitted in this block (``x op= v``'s value
        through ``in_place_result`` included) that no name, container
        (``container`` apart: the literal being made a runtime list) or
        view holds, in no run-time relation but to the list ``out``."""
        from ..alias import fresh_result
        if isinstance(v, Const):
            return isinstance(v.value, (bool, int, float, complex)) or v.value is None
        if not isinstance(v, Var):
            return False
        model = self.top.alias
        e = self._defining_eqn(v)
        while e is not None and e.prim.name == "in_place_result" and isinstance(e.args[0], Var):
            e = self._defining_eqn(e.args[0])
        if e is None or not fresh_result(e) or e.blocks():
            return False
        if model.is_view(v) or model.has_views(v) or v in self.top.list_items or \
                any(b is not out for b in model.unknown.get(v, ())):
            return False

        def held(val):
            if val is container:
                return False
            if isinstance(val, Seq):
                return any(held(i) for i in val.items)
            if isinstance(val, DictVal):
                return any(held(i) for i in val.items.values())
            return val is v
        return not any(held(val) for env in self.envs() for val in env.values())

    def note_list_store(self, out, base, items, container=None):
        """``out`` is the runtime list ``base`` (None: a new list) with
        ``items`` stored: it owns its arrays when ``base`` did and every item
        is a fresh entry (and no two are one)."""
        own = self.own_lists()
        deps = frozenset() if base is None else own.get(base)
        vs = [i for i in items if isinstance(i, Var)]
        if deps is not None and len(set(vs)) == len(vs) and \
                all(self.fresh_entry(i, out, container) for i in items):
            own[out] = deps

    def list_owns_entries(self, base, cur, node):
        """Whether ``base[i] op= v`` (``cur``: the entry read) may be lowered
        as ``base[i] = base[i] op v``: ``base`` owns its arrays and no array
        read out of a runtime list (or a view of one) is held by a name,
        a container or a run-time relation that may still be read.  Records
        the loop carries the answer assumed (checked after the loop)."""
        deps = self.own_lists().get(base)
        if deps is None:
            return False
        model = self.top.alias
        live = self.live_atoms()
        unknown = model.unknown
        for item in self.top.list_items:
            if item is cur:
                continue
            if item in live or model.has_views(item) or unknown.get(item):
                return False
        for p_ in deps:
            self.top._own_relied.setdefault(p_, node)
        return True

    def refuse_carry_written_while_listed(self, names, params, results, node):
        """After a loop's body: a carry written in place in the body (``y *=
        c``, through a helper's parameter or a view as well) whose array at
        the end of an iteration is held by a list the loop carries
        (``hs.append(y)``): the next iteration's write changes that entry,
        which NumPy's list sees.  (The syntactic check of
        ``refuse_kept_then_written`` sees the writes spelled in the body
        only.)"""
        from ..primitives.lists import LIST
        lists = [r for r in results if isinstance(r, Var) and P.shape_of(r) is LIST]
        if not lists:
            return
        model = self.top.alias
        unknown = model.unknown
        for n, p_, r in zip(names, params, results):
            if _hidden(n) or not isinstance(r, Var) or P.shape_of(r) is LIST or \
                    p_ not in model.touched:
                continue
            if any(any(b is r for b in unknown.get(lst, ())) for lst in lists):
                raise self.error(node, f"'{n}' is written in place in this loop, and the "
                                       f"array it holds at the end of an iteration is put "
                                       f"into a list the loop keeps: the next iteration's "
                                       f"write changes that entry (NumPy's list sees it), "
                                       f"which s2sgrad does not follow in a loop; append a "
                                       f"copy ({n}.copy()), or write {n} = {n} * ... for a "
                                       f"new array", cls=S2SGradError,
                                 construct="write into an array held by a list")

    def own_lists_into_loop(self, params, inits):
        own = self.own_lists()
        for p_, a in zip(params, inits):
            if isinstance(a, Var) and a in own:
                own[p_] = own[a] | {p_}

    def own_lists_after_loop(self, params, inits, results, outs):
        """After a loop's body: a carry assumed to own its arrays does when
        the body's result for it does (given the carries assumed); an op=
        that relied on one that does not, or on a loop in which another
        carry may hold an entry from one iteration to the next, is
        refused."""
        own = self.own_lists()
        mine = {p_ for p_ in params if p_ in own}
        ok = set(mine)
        changed = True
        while changed:
            changed = False
            for p_, r in zip(params, results):
                if p_ in ok and not (isinstance(r, Var) and r in own and
                                     own[r] & mine <= ok):
                    ok.discard(p_)
                    changed = True
        held = any(isinstance(r, Var) and self.from_list_item(r) for r in results)
        relied = self.top._own_relied
        from .statements import _AUG_SYMBOL
        for p_ in sorted(mine, key=lambda v: v.id):
            if p_ in relied and (p_ not in ok or held):
                node = relied[p_]
                t = ast.unparse(node.target)
                raise self.error(node, f"'{ast.unparse(node)}' writes in place into an array "
                                       f"the list holds, and in this loop another name or "
                                       f"entry may come to share it (an array stored that "
                                       f"is not a new result, or one kept from the list "
                                       f"across iterations); write {t} = {t} "
                                       f"{_AUG_SYMBOL.get(type(node.op), 'op')} ... to store "
                                       f"a new array", cls=S2SGradError,
                                 construct="augmented assignment into a list item")
        for p_, a, o in zip(params, inits, outs):
            if p_ in ok:
                r = results[params.index(p_)]
                own[o] = (own[a] | own[r]) - mine

    def in_place_update(self, cur, new, name, node):
        """``x += v`` on a value that may be an array: in place when it is one
        (the other names and views of the array see the change), a rebinding
        of ``x`` alone on a Python or NumPy scalar.  Which one is known at run
        time only (0-d arrays are arrays): ``is_array`` decides.  Returns the
        value ``name`` is bound to afterwards (``new`` either way; the other
        names see ``new`` or keep ``cur``)."""
        self.check_writable(cur, node)
        model = self.top.alias
        # (a number is rebound; a 0-d array, np.array(3.0), is written in place)
        if (P.shape_of(cur) is P.SCALAR and not model.known_array(cur)) or \
                not self.aliased(cur, name):
            if model.known_array(cur):
                model.arrays.add(new)       # in place: still the same array
                if cur in model.ndim:
                    model.ndim[new] = model.ndim[cur]
            if new is not cur:
                model.older.setdefault(new, cur)    # (an array: its memory, its strides)
            return new
        if model.known_array(cur):
            model.arrays.add(new)
            if cur in model.ndim:
                model.ndim[new] = model.ndim[cur]
            self.write_back(cur, new)
            return new
        pred = self.apply(P.get("is_array"), [cur], {}, node)
        out = self.choose(pred, new, cur, name)
        self.write_back(cur, out)
        model.older_if_array.setdefault(new, (pred, cur))    # (numpy_memory)
        # name holds new either way; other names of cur hold out (new when cur
        # is an array).  A row a[0] is a view of a when it is an array, so new
        # is then that view too: a write through either reaches a and is
        # re-read by the other (on a scalar, neither is written back).  Two
        # names of one array otherwise: a later write through one of them
        # while the other may still be read is refused (which array it
        # reaches is a run-time fact)
        rec = model.view_of.get(out)
        if rec is not None and isinstance(rec[1], Index) and rec[1].ints_only():
            model.add_view(new, rec[0], rec[1])
        elif rec is not None:
            model.add_view(new, rec[0], rec[1])
            model.link_unknown(new, out)
        else:
            # new is out itself when cur is an array (and a scalar, which no
            # write can reach, when it is not): a write through either name
            # reaches the other under the same run-time test
            model.add_view(new, out, Same(pred))
        model.inherit_unknown(new, out)
        return new

    def choose(self, pred, then_value, else_value, hint=""):
        """A runtime choice between two values (a ``cond`` equation)."""
        out = Var(hint or getattr(then_value, "hint", ""),
                  shape=P.shape_of(then_value) if P.shape_of(then_value) is
                  P.shape_of(else_value) else P.fresh_shape())
        self.em.block.eqns.append(Eqn(P.get("cond"), (pred,), {}, (out,),
                                      {"then": Block([], [], [then_value]),
                                       "else": Block([], [], [else_value])}, self.loc))
        return out

    def ambiguous_lists(self):
        """List literals that are one of two list objects chosen at run time."""
        top = self.top
        if not hasattr(top, "_ambiguous_lists"):
            top._ambiguous_lists = []
        return top._ambiguous_lists

    def rebind_container(self, name, old, new):
        """The list or dict literal ``old`` bound to ``name`` was changed in
        place (``xs.append(v)``, ``xs[0] = v``, ``xs += [v]``, ``d[k] = v``),
        giving ``new``: as in Python, every name and container holding the
        same object sees the change (``rows = [row]; row.append(v)`` grows
        ``rows[0]``)."""
        if self.a_default_value(old):
            where = ast.Pass(lineno=self.loc.lineno, col_offset=self.loc.col) if self.loc \
                else None
            raise self.error(where, f"this changes '{name}', the default value of a nested "
                                    f"function's parameter: Python evaluates it once, where "
                                    f"the 'def' runs, so every later call sees the change; "
                                    f"pass the list or dict explicitly, or default to None "
                                    f"and make a new one in the function", cls=S2SGradError,
                             construct="change of a parameter's default value")
        if any(old is x for x in self.ambiguous_lists()):
            where = ast.Pass(lineno=self.loc.lineno, col_offset=self.loc.col) if self.loc \
                else None
            raise self.error(where, f"this changes '{name}', one of several lists chosen at "
                                    f"run time (which list object changes is known only "
                                    f"then); change each list by its own name in the "
                                    f"branches", cls=S2SGradError,
                             construct="change of a list chosen at run time")
        self.env[name] = new
        if old is new:
            return
        memo = {}
        for env in self.envs():
            for k, v in list(env.items()):
                r = _replace_object(v, old, new, memo)
                if r is not v:
                    env[k] = r

    def write_back(self, old, new):
        """The array ``old`` was written into, giving ``new``: NumPy changes it
        in place, so every name bound to it sees the new version, so does the
        array it is a view of (``v = a[:2]; v[0] = 1`` changes ``a``), and so
        do the views of that array that names hold (``a[0] = 1`` changes
        ``v``).  See :meth:`s2sgrad.alias.AliasModel.write`."""
        if not isinstance(old, Var) or old is new:
            return
        self.top.__dict__.setdefault("written_in_place", set()).add(old)
        bound = self.live_atoms()
        block = self.em.block
        first = len(block.eqns)
        try:
            repl = self.top.alias.write(self.em, old, new, lambda v: v in bound,
                                        lambda p, a, b: self.choose(p, a, b))
        except UnknownAlias as exc:
            raise self.alias_refusal(exc) from None
        if self.em.block is block:
            for e in block.eqns[first:]:
                if e.prim.name == "setitem":
                    self.note_container_write(e)
        new_of = dict(repl)
        memo = {}
        for env in self.envs():
            for k, v in list(env.items()):
                r = _replace_atoms(v, new_of, memo)
                if r is not v:
                    env[k] = r
        # loops being lowered read their arrays' current versions
        for o, n in repl:
            for lw in self._lowerers():
                if id(o) in lw.iter_alias or any(v is o for v in lw.iter_alias.values()):
                    for key, val in list(lw.iter_alias.items()):
                        if val is o:
                            lw.iter_alias[key] = n

    def note_container_write(self, e):
        """A setitem into a value that may be a list, dict or tuple when the
        code runs (data, an item of data, a version of one): its copy is
        printed ``y.copy()`` (a container's has no memory order), and its
        result may again be a container."""
        t = self.top.arg_types.get(e.args[0])
        if t is not None and issubclass(t, (list, tuple, dict)):
            e.params["plain_copy"] = True
            self.top.seq_items.add(e.outs[0])
        elif e.args[0] in self.top.seq_items:
            e.params["plain_copy"] = "maybe"        # an array or a container
            self.top.seq_items.add(e.outs[0])

    # ------------------------------------------------------------ loops

    def carry_views(self, names, inits, params, body, rb=None):
        """Before a loop body is lowered: a carried view (``v = y[1:]`` before
        the loop) is a view of its base's carry; views of a carried array that
        are held outside the carries are re-derived when it is written (which
        makes them carries on the next lowering of the loop).  Returns the
        assumed relations ``[(name, param, base param, View)]``.  ``rb``: the
        body's :class:`~s2sgrad.lower.syntax.Rebindings`, if made."""
        model = self.top.alias
        param_of = {}
        for n, a, p_ in zip(names, inits, params):
            if isinstance(a, Var) and not _hidden(n):
                param_of.setdefault(a, p_)
        for n, a, p_ in zip(names, inits, params):
            if isinstance(a, Var) and not _hidden(n):
                param_of.setdefault(model.array_of(a), p_)
        assumed = []
        for n, a, p_ in zip(names, inits, params):
            if not isinstance(a, Var) or _hidden(n):
                continue
            model.inherit_unknown(p_, a)
            if self.from_list_item(a):
                self.top.list_items.add(p_)     # (h = hs[-1] before the loop)
            outside = self.external_origin(a)
            if outside is not None:
                # h = G (a global) before the loop: on the first iteration a
                # write through h writes into G (refused, as outside a loop)
                self.top.external[id(p_)] = outside
            plain = rb.rebinds_plainly(n) if rb is not None else rebinds_plainly(body, n)
            if plain and (model.is_view(a) or model.has_views(a)) and \
                    self.carry_memory_private(n, a):
                # the memory of a (asfortranarray(W * 1.0) before the loop)
                # is read only through n, which the body rebinds: no program
                # can observe whether an iteration's array shares it, so the
                # carry is an array of its own (as a copy made at entry)
                continue
            if plain:
                # h = x (or y = h) before the loop, h rebound in it: on the
                # first iteration h is x's array, on the next a new one, so a
                # write through h reaches x only sometimes -- refused (as a
                # write into an array that may or may not share memory with
                # another) while x, or a view of it, may still be read
                model.link_unknown(p_, a)
                model.link_unknown(p_, model.root(a))
            if a in model.arrays and not plain:
                model.arrays.add(p_)        # x += v keeps an array an array
            if not plain:
                # written in place only: each iteration's array is a's memory,
                # with a's strides (AliasModel.first_version)
                model.older.setdefault(p_, a)
            rec = model.view_of.get(a)
            if rec is not None:
                b, view = rec
                bp = param_of.get(b) or self.iter_alias.get(id(b), b)
                model.add_view(p_, bp, view)
                assumed.append((n, p_, bp, view))
            for c in model.children.get(a, ()):
                if c not in param_of:
                    model.children.setdefault(p_, []).append(c)
        return assumed

    def carry_memory_private(self, n, a):
        """Whether no value but the carry ``n``'s initial array ``a`` reads
        the memory ``a`` is part of: its root is the fresh result of an
        operation of this block (not an argument, a global or a loop's
        value), and no name but ``n`` (a hidden name of a base apart, see
        :meth:`name_view_bases`), no container, list, nested function's
        default, loop being lowered or run-time relation holds the root or
        any view of it."""
        from ..alias import fresh_result
        model = self.top.alias
        root = model.root(a)
        e = self._defining_eqn(root, window=256)
        if e is None or not fresh_result(e) or e.blocks():
            return False
        group = [root] + model.descendants(root)
        ids = {id(m) for m in group}
        unknown = model.unknown
        for m in group:
            if m in unknown or self.external_origin(m) is not None or \
                    m in self.top.list_items or self.a_default_value(m):
                return False
        for lw in self._lowerers():
            if any(k in ids or id(v) in ids for k, v in lw.iter_alias.items()):
                return False
        for env in self.envs():
            for k, v in env.items():
                if (k == n and env is self.env) or k.startswith(f"{LIVE_PREFIX}b"):
                    continue
                if any(id(x) in ids for x in _atoms_in(v)):
                    return False
        return True

    def name_view_bases(self):
        """Before a loop: the bases of views that no name holds (``y[None]``
        in ``w = np.squeeze(y[None])``) get hidden names for the loop's
        duration, so a write in the loop carries them like any array."""
        model = self.top.alias
        atoms = [a for v in self.env.values() for a in _atoms_in(v)]   # in order
        held = set(atoms)
        keys = []
        for v in atoms:
            b = model.base_of(v)
            while b is not None and b not in held:
                held.add(b)
                self.top.hidden_count = getattr(self.top, "hidden_count", 0) + 1
                key = f"{LIVE_PREFIX}b{self.top.hidden_count}"
                self.env[key] = b
                keys.append(key)
                b = model.base_of(b)
        return keys

    def name_container_views(self):
        """Before a loop: the views held only in containers (``accs = [y[:2],
        y[2:]]``) get hidden names for the loop's duration, so a write into
        their base in the loop re-derives them as carries, and the
        containers hold the carries (see ``control._runtime_loop``)."""
        model = self.top.alias
        held = {id(v) for k, v in self.env.items() if isinstance(v, Var)}
        keys = []
        for k, v in list(self.env.items()):
            if _hidden(k) or not isinstance(v, (Seq, DictVal)):
                continue
            for a in _atoms_in(v):
                if id(a) in held or not model.is_view(a):
                    continue
                held.add(id(a))
                self.top.hidden_count = getattr(self.top, "hidden_count", 0) + 1
                key = f"{LIVE_PREFIX}c{self.top.hidden_count}"
                self.env[key] = a
                keys.append(key)
        return keys

    def check_carry_views(self, assumed, names, params, node):
        """After the body: an assumed relation must still hold for the next
        iteration (the body's result for the view is a view of its base's
        result, by the same transform) wherever the body relied on it."""
        model = self.top.alias
        kept = []
        for n, p_, bp, view in assumed:
            r = self.env.get(n, p_)
            if bp in params:
                rb = self.env.get(names[params.index(bp)], bp)
            else:
                rb = model.latest(bp)     # a base no name holds (y[None] of squeeze(y[None]))
            # x += v on a possible array: x is its array when it is one
            rec = model.view_of.get(model.array_of(r))
            holds = rec is not None and model.array_of(rec[0]) is model.array_of(rb) and \
                rec[1].key() == view.key()
            if holds or (r is p_ and rb is bp):
                kept.append((n, names[params.index(bp)] if bp in params else None, view,
                             bp, rb is not bp))
            elif p_ in model.touched:
                raise self.error(node, f"'{n}' is a view written through inside this loop and "
                                       f"rebound to another array in it: which array a write "
                                       f"reaches would change between iterations; give the "
                                       f"new array another name", cls=S2SGradError,
                                 construct="view rebound in a loop")
        return kept

    def loop_out_views(self, kept, names, results, outs, inits):
        """After the loop: its outputs keep the relations that held in every
        iteration; an output that is a view made inside the loop (``v =
        y[i:i+1]``) shares memory with the base in a way known only at run
        time (writes through either are refused while the other is live)."""
        model = self.top.alias
        out_of = dict(zip(names, outs))
        done = set()
        for n, bn, view, bp, changed in kept:
            if bn is not None:
                model.add_view(out_of[n], out_of[bn], view)
            elif not changed:
                model.add_view(out_of[n], bp, view)
            else:
                # a view of a base no name holds, written in the loop: its
                # version after the loop is not at hand
                model.link_unknown(out_of[n], model.root(bp))
            done.add(n)
        for n, a in zip(names, inits):
            # after zero iterations, or a body that does not rebind it, the
            # output is the initial array itself
            if n not in done and not _hidden(n) and isinstance(a, Var):
                model.link_unknown(out_of[n], a)
                model.inherit_unknown(out_of[n], a)     # (and what a may share)
                # (a view no name holds any more: h = A[1] rebound in the
                # loop, written after it, writes into A after zero iterations)
                if model.root(a) is not a:
                    model.link_unknown(out_of[n], model.root(a))
                outside = self.external_origin(a)
                if outside is not None:
                    self.top.external[id(out_of[n])] = outside
                # ... and a is (a view of) an array the loop carries and
                # writes (h = A[1]; for ...: A[0] += ...; h = h * 2): after
                # the loop that array is the carry's output
                ra = model.root(a)
                for m, am in zip(names, inits):
                    if ra is not a and m != n and am is ra:
                        model.link_unknown(out_of[n], out_of[m])
        for n, r in zip(names, results):
            if isinstance(r, Var) and model.known_array(r) and \
                    model.known_array(inits[names.index(n)]):
                model.arrays.add(out_of[n])
        for n, r, a in zip(names, results, inits):
            # (``for h in hs``: after the loop h is the list's last array)
            if any(isinstance(v, Var) and self.from_list_item(v) for v in (r, a)):
                self.top.list_items.add(out_of[n])
        for n, r in zip(names, results):
            model.inherit_unknown(out_of[n], r)
            # (and what its views made in the body may share: a list the
            # body appended ``h[::-1]`` to holds h's memory after the loop)
            for d in model.descendants(r):
                model.inherit_unknown(out_of[n], d)
        for n, r, a in zip(names, results, inits):
            # the output of a carry written in place only is a's array
            if isinstance(r, Var) and isinstance(a, Var) and \
                    model.first_version(r) is model.first_version(a):
                model.older.setdefault(out_of[n], a)
        res_name = {}
        for n, r in zip(names, results):
            if isinstance(r, Var):
                res_name.setdefault(r, n)
        for n, r in zip(names, results):
            if n in done or not isinstance(r, Var) or not model.is_view(r):
                continue
            root = model.root(r)
            other = out_of.get(res_name.get(root), root)
            model.link_unknown(out_of[n], other)

    def alias_refusal(self, exc):
        names = []
        other, seen = exc.other, set()
        while not names and other is not None and other not in seen:
            # (a view no name holds: the name of the array it is a view of)
            seen.add(other)
            names = [k for env in self.envs() for k, v in env.items()
                     if not k.startswith("$") and any(a is other for a in _atoms_in(v))]
            other = self.top.alias.view_of.get(other, (None,))[0]
        other = f"'{names[0]}'" if names else "another value"
        where = ast.Pass(lineno=self.loc.lineno, col_offset=self.loc.col) if self.loc else None
        return self.error(where, f"this write may or may not change {other}: the two may "
                                 f"share memory in a way known only at run time (one branch's "
                                 f"array or the other's, a list holding the array, a view "
                                 f"made in a loop with the loop's index, or a name that is "
                                 f"the other's array on a loop's first iteration and "
                                 f"rebound in the loop); copy the array "
                                 f"(.copy()) before writing into it, or write through the "
                                 f"name it was created with", cls=S2SGradError,
                          construct="write through an unknown alias")

    def _lowerers(self):
        lw = self
        while lw is not None:
            yield lw
            lw = lw.caller
