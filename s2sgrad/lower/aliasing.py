"""NumPy's aliasing during lowering: ``b = a``, a view ``v = a[1:]``, a row
``a[0]``, ``a.T`` and a dict entry all name the same memory.  Every
basic-index read and every transpose is recorded as a view of its base
(``Lowerer.views``); a write gives the array a new version, and
:meth:`write_back` gives it to every other name of the same array, writes a
view back into its base and re-reads the views of it that are still read
later."""
from __future__ import annotations

import ast

import numpy as np

from ..ir import Block, Const, Eqn, Var
from ..primitives import core as P
from .values import DictVal, Seq


class Transposed:
    """The "index" of a view ``a.T`` / ``np.transpose(a, axes)``."""
    __slots__ = ("axes",)

    def __init__(self, axes):
        self.axes = axes

    def const(self):
        return Const(self.axes)

    def inverse(self):
        return Const(None if self.axes is None else tuple(int(i) for i in np.argsort(self.axes)))


def _atoms_in(v):
    if isinstance(v, Seq):
        for i in v.items:
            yield from _atoms_in(i)
    elif isinstance(v, DictVal):
        for i in v.items.values():
            yield from _atoms_in(i)
    elif isinstance(v, Var):
        yield v


def _replace_atom(v, old, new):
    """``v`` with the Var ``old`` replaced by ``new`` (containers rebuilt;
    ``v`` itself when it does not hold ``old``)."""
    if v is old:
        return new
    if isinstance(v, Seq):
        items = [_replace_atom(i, old, new) for i in v.items]
        if any(a is not b for a, b in zip(items, v.items)):
            return Seq(v.kind, items, v.fields)
    elif isinstance(v, DictVal):
        items = {k: _replace_atom(i, old, new) for k, i in v.items.items()}
        if any(items[k] is not v.items[k] for k in items):
            return DictVal(items)
    return v

def _ints_only(template):
    """An index of integers only (``a[0]``, ``a[i, 2]``): a view of a row if
    the array has more dimensions, else a scalar copy."""
    items = template if isinstance(template, tuple) else (template,)
    return not any(it is None or it is Ellipsis or isinstance(it, slice) for it in items)


class AliasingMixin:
    def add_view(self, v, base, template, parts):
        self.top.views[v] = (base, template, parts)
        self.top.view_children.setdefault(id(base), []).append(v)

    def envs(self):
        """The environments whose names may refer to this scope's arrays: this
        one and those of the calls being inlined."""
        lw = self
        while lw is not None:
            yield lw.env
            lw = lw.caller

    def live_atoms(self):
        """ids of the Vars bound to names that may still be read: loaded at or
        after the current line, or anywhere when inside a loop (a view that is
        never read again need not see later writes)."""
        out = set()
        lw = self
        while lw is not None:
            last = lw.last_loads()
            line = lw.loc.lineno if lw.loc is not None else 0
            for k, v in lw.env.items():
                if k.startswith("$") or (lw.loop_depth == 0 and last.get(k, -1) < line):
                    continue
                for a in _atoms_in(v):
                    out.add(id(a))
            lw = lw.caller
        return out

    def last_loads(self):
        cache = self.top.__dict__.setdefault("_last_loads", {})
        key = id(self.src.node)
        if key not in cache:
            last = {}
            for n in ast.walk(self.src.node):
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
                    last[n.id] = max(last.get(n.id, -1), getattr(n, "end_lineno", n.lineno))
            cache[key] = last
        return cache[key]

    def aliased(self, v, name):
        """Whether the array ``v`` (bound to ``name``) is also reachable
        another way: another name, a container, a view of it, or it is a view."""
        if v in self.top.views:
            return True
        vs = {id(v)} | {id(w) for w in self.top.view_children.get(id(v), ())}
        for env in self.envs():
            for k, val in env.items():
                if k == name and env is self.env:
                    continue
                if any(id(a) in vs for a in _atoms_in(val)):
                    return True
        return False

    def write_back(self, old, new):
        """The array ``old`` was written into, giving ``new``: NumPy changes it
        in place, so every name bound to it sees the new version, so does the
        array it is a view of (``v = a[:2]; v[0] = 1`` changes ``a``), and so
        do the views of it that names hold (``a[0] = 1`` changes ``v``)."""
        if not isinstance(old, Var) or old is new:
            return
        views = self.top.views
        bound = self.live_atoms()
        todo = [(old, new, True)]
        done = set()
        while todo:
            o, n, up = todo.pop()
            if id(o) in done:
                continue
            done.add(id(o))
            for env in self.envs():
                for k, v in list(env.items()):
                    r = _replace_atom(v, o, n)
                    if r is not v:
                        env[k] = r
            view = views.get(o)
            if up and view is not None:
                b, t, parts = view
                if isinstance(t, Transposed):
                    # v = a.T written: a is the new v transposed back
                    nb = self.em.call(P.get("transpose"), n, axes=t.inverse())
                else:
                    nb = self.em.call(P.get("setitem"), b, n, *parts, _params={"index": t})
                nb.hint = b.hint
                self.add_view(n, nb, t, parts)
                todo.append((b, nb, True))
            for v in list(self.top.view_children.get(id(o), ())):
                if id(v) not in done and id(v) in bound:
                    _, t, parts = views[v]
                    if isinstance(t, Transposed):
                        nv = self.em.call(P.get("transpose"), n, axes=t.const())
                        nv.hint = v.hint
                        self.add_view(nv, n, t, parts)
                        todo.append((v, nv, False))
                        continue
                    nv = self.em.call(P.get("getitem"), n, *parts, _params={"index": t})
                    nv.hint = v.hint
                    if _ints_only(t):
                        # a[0] of a 1-d array is a scalar, a copy: only an array
                        # result is a view (known at run time: np.ndim)
                        nd = self.em.call(P.get("ndim"), v)
                        pred = self.em.call(P.get("greater"), nd, Const(0))
                        sel = Var(v.hint, shape=P.shape_of(v))
                        self.em.block.eqns.append(Eqn(
                            P.get("cond"), (pred,), {}, (sel,),
                            {"then": Block([], [], [nv]), "else": Block([], [], [v])},
                            self.loc))
                        nv = sel
                    self.add_view(nv, n, t, parts)
                    todo.append((v, nv, False))
