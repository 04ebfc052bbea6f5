"""Scalar factors and signs of elementwise chains, gathered and applied once.

Expects: a shape-specialised Func (:func:`s2sgrad.specialize.specialize` runs
this pass after its own rewrites, before code generation reuses buffers)
and the examples of its abstract evaluation (``inf``).

Reverse mode builds derivatives from the rules of single operations, so
their scalar constants and signs end up spread over a chain: the adjoint
of ``np.mean(-y * (X @ w))`` negates ``y``, halves, scales by ``1 / n`` and
multiplies by the negated ``y`` again; ``0.5 * sum(r ** 2)`` doubles what it
halved; ``exp(-z)``'s adjoint negates what the next rule negates back.
Each of these is a pass over a full-size array in the generated code.

This pass looks at every maximal *linear chain*: a value computed by
``multiply``, ``divide``, ``negative``, ``matmul``, ``sum``/``mean``,
``add``/``subtract`` whose intermediate results are used once, inside the
chain (in the same block).  It pulls every constant factor out of the
chain -- Python numbers, negations, ``1 / c`` of a division by a constant,
arrays of ones (the broadcast seed of a sum), and the constant of a value
``c * a`` or ``-a`` used elsewhere too -- multiplies them into one constant
``k``, rebuilds the chain without them, and applies ``k`` once, to the
smallest array of the chain it can go to (a factor of a product, the
numerator of a quotient, the result of a sum or a matrix product), or not at
all when ``k == 1``.  Signs cancel (``-(-a) = a``), meet in a subtraction
(``a + (-b) = a - b``), or ride on the constant.  ``a + a`` is ``2 a``.  So
the logistic-regression gradient scales ``w`` by ``-0.5`` (ten numbers)
instead of negating ``y`` and halving the margins, and applies ``-1 / 2n``
to the gradient, not to every sample.

A chain is rebuilt only when the estimated work (the elements written by
its operations) goes down, and only when the rebuilt chain's result has the
same type, shape and dtype as before (checked on the examples).

Exactness.  Negations, and factors that are powers of two, commute exactly
with rounding (round-to-nearest is symmetric; scaling by ``2^k`` is exact
barring overflow and underflow), so those rewrites give the same bits.
Other constants are multiplied together (``0.5 * (1 / 64)``) and applied at
another point of the chain: the result can differ from the unfolded
evaluation in the last bit or so (each version is within a few units in the
last place of the exact product; sums keep their order).
"""
from __future__ import annotations

import numpy as np

from .ir import Block, Const, Eqn, Func, Var
from .primitives.core import REGISTRY

_LINEAR = {"multiply", "divide", "negative", "matmul", "sum", "mean", "add", "subtract"}
_MAX_NODES = 64


def scale_chains(func: Func, inf) -> Func:
    """``func`` with the constant factors of its linear chains gathered (see
    the module doc).  Rewrites blocks in place and returns ``func``."""
    uses = _uses(func)
    subst: dict = {}
    _Chains(inf, uses, subst).block(func.body)
    if subst:
        _rename(func.body, subst)
        func.results = [_follow(subst, r) for r in func.results]
    return func


def _uses(func):
    uses: dict = {}

    def walk(block):
        for e in block.eqns:
            for a in e.atoms():
                if isinstance(a, Var):
                    uses.setdefault(a, []).append(e)
            for b in e.blocks():
                walk(b)
                for r in b.results:
                    if isinstance(r, Var):
                        uses.setdefault(r, []).append(None)
    walk(func.body)
    for r in func.results:
        if isinstance(r, Var):
            uses.setdefault(r, []).append(None)
    return uses


def _follow(subst, a):
    while isinstance(a, Var) and a in subst:
        a = subst[a]
    return a


def _rename(block, subst):
    for e in block.eqns:
        e.args = tuple(_follow(subst, a) for a in e.args)
        e.kwargs = {k: _follow(subst, v) for k, v in e.kwargs.items()}
        for b in e.blocks():
            _rename(b, subst)
    block.results = [_follow(subst, r) for r in block.results]


def _number(a):
    return isinstance(a, Const) and type(a.value) in (int, float) and np.isfinite(a.value)


class _Bail(Exception):
    """A chain this pass does not rewrite."""


class _Chains:
    def __init__(self, inf, uses, subst):
        self.inf = inf
        self.uses = uses
        self.subst = subst

    def val(self, a):
        if isinstance(a, Const):
            return a.value
        return self.inf.ex.get(a)

    def size(self, a) -> int:
        v = self.val(a)
        return int(np.size(v)) if isinstance(v, (np.ndarray, np.generic, int, float)) else 1

    # ------------------------------------------------------------ blocks

    def block(self, block: Block):
        for e in block.eqns:
            for b in e.blocks():
                self.block(b)
        self.defs = {o: e for e in block.eqns for o in e.outs}
        self.block_eqns = set(map(id, block.eqns))
        out = []
        for e in block.eqns:
            e.args = tuple(_follow(self.subst, a) for a in e.args)
            new = None
            if e.prim.name in _LINEAR and len(e.outs) == 1 and not e.blocks() and \
                    self._is_root(e.outs[0]):
                try:
                    new = self.rewrite(e)
                except _Bail:
                    new = None
            out += new if new is not None else [e]
        block.eqns[:] = out

    def _linear_use(self, e, v) -> bool:
        """Does equation ``e`` read ``v`` only where it is linear in it?"""
        name = e.prim.name
        if name not in _LINEAR or e.blocks() or len(e.outs) != 1:
            return False
        pos = [i for i, a in enumerate(e.args) if a is v]
        if any(x is v for x in e.kwargs.values()):
            return False
        if name in ("sum", "mean"):
            return pos == [0] and "dtype" not in e.kwargs
        return bool(pos)

    def _internal(self, v) -> bool:
        """``v`` is computed in this block and read once, by a linear chain
        equation of this block (which may read it twice: ``a + a``)."""
        us = self.uses.get(v, [])
        if not us or any(u is None for u in us):
            return False
        first = us[0]
        return all(u is first for u in us) and id(first) in self.block_eqns and \
            self._linear_use(first, v) and v in self.defs

    def _is_root(self, v) -> bool:
        return not self._internal(v)

    # ------------------------------------------------------------ pulling constants

    def pull(self, v, absorb, count):
        """(k, node): ``v == k * node``, node a scale-free expression or None
        for a constant.  Nodes: ('var', V), ('ones', V), (op, ..., eqn)."""
        count[0] += 1
        if count[0] > _MAX_NODES:
            raise _Bail
        if isinstance(v, Const):
            if _number(v):
                return float(v.value), None
            raise _Bail
        e = self.defs.get(v)
        if e is None or not (v is count[1] or self._internal(v)):
            return self.leaf(v, absorb)
        mark = len(count[2])
        try:
            k, node = self._pull_op(e, absorb, count)
        except _Bail:
            if v is count[1]:
                raise
            del count[2][mark:]             # not part of the chain: a leaf
            return self.leaf(v, absorb)
        count[2].insert(mark, e)
        return k, node

    def _pull_op(self, e, absorb, count):
        name = e.prim.name
        a = e.args
        if name == "negative":
            k, n = self.pull(a[0], absorb, count)
            return -k, n
        if name == "multiply":
            (ka, na), (kb, nb) = self.pull(a[0], absorb, count), self.pull(a[1], absorb, count)
            if na is None:
                return ka * kb, nb
            if nb is None:
                return ka * kb, na
            return ka * kb, ("mul", na, nb, e)
        if name == "divide":
            (ka, na), (kb, nb) = self.pull(a[0], absorb, count), self.pull(a[1], absorb, count)
            if kb == 0:
                raise _Bail
            if nb is None:
                return ka / kb, na
            if nb[0] == "ones":
                raise _Bail
            return ka / kb, ("div", na, nb, e)       # na None: 1 / nb
        if name == "matmul":
            (ka, na), (kb, nb) = self.pull(a[0], absorb, count), self.pull(a[1], absorb, count)
            if na is None or nb is None or na[0] == "ones" or nb[0] == "ones":
                raise _Bail
            return ka * kb, ("matmul", na, nb, e)
        if name in ("sum", "mean"):
            k, n = self.pull(a[0], absorb, count)
            if n is None or n[0] == "ones":
                raise _Bail
            return k, ("red", n, e)
        if name in ("add", "subtract"):
            if a[0] is a[1]:
                if name == "subtract":
                    raise _Bail
                k, n = self.pull(a[0], absorb, count)
                return 2.0 * k, n
            (ka, na), (kb, nb) = self.pull(a[0], absorb, count), self.pull(a[1], absorb, count)
            if name == "subtract":
                kb = -kb
            if na is None or nb is None or na[0] == "ones" or nb[0] == "ones":
                raise _Bail
            if ka == kb:
                return ka, ("add", na, nb, e)
            if ka == -kb:
                return ka, ("sub", na, nb, e)
            return 1.0, ("add", ("scaled", ka, na), ("scaled", kb, nb), e)
        raise _Bail

    def leaf(self, v, absorb):
        e = self.defs.get(v)
        x = self.val(v)
        if e is not None and len(e.outs) == 1 and not e.params:
            name = e.prim.name
            if name in ("full", "ones") and type(x) is np.ndarray and x.dtype.kind == "f":
                c = 1.0 if name == "ones" else e.args[1] if len(e.args) > 1 else None
                if name == "ones" or _number(c):
                    return (1.0 if name == "ones" else float(c.value)), ("ones", v)
            if absorb and type(x) is np.ndarray:
                a = e.args
                if name == "negative" and isinstance(a[0], Var) and self._same_kind(a[0], v):
                    return -1.0, ("var", a[0])
                if name == "multiply" and len(a) == 2:
                    for i in (0, 1):
                        if _number(a[i]) and isinstance(a[1 - i], Var) and \
                                self._same_kind(a[1 - i], v):
                            return float(a[i].value), ("var", a[1 - i])
                if name == "divide" and _number(a[1]) and a[1].value != 0 and \
                        isinstance(a[0], Var) and self._same_kind(a[0], v):
                    return 1.0 / a[1].value, ("var", a[0])
        return 1.0, ("var", v)

    def _same_kind(self, a, b) -> bool:
        x, y = self.val(a), self.val(b)
        return type(x) is type(y) is np.ndarray and x.shape == y.shape and x.dtype == y.dtype

    # ------------------------------------------------------------ rebuilding

    def rewrite(self, root_eqn):
        root = root_eqn.outs[0]
        old = self.val(root)
        if not isinstance(old, (np.ndarray, np.generic)):
            raise _Bail
        best = None
        for absorb in (False, True):
            count = [0, root, []]
            k, node = self.pull(root, absorb, count)
            if node is None:
                raise _Bail
            old_cost = sum(self.size(e.outs[0]) for e in count[2])
            try:
                eqns, res, cost = self.emit(k, node, root_eqn)
            except _Bail:
                continue
            if best is None or cost <= best[2]:     # (ties: the absorbing version, whose
                best = (eqns, res, cost, old_cost)  # scaled operands may then die)
        if best is None:
            raise _Bail
        eqns, res, cost, old_cost = best
        if cost >= old_cost:
            raise _Bail
        # the rebuilt chain must give a value of the same kind
        new = self.val(res)
        if type(new) is not type(old) or np.shape(new) != np.shape(old) or \
                np.result_type(new) != np.result_type(old):
            raise _Bail
        user_named = isinstance(res, Var) and res.bar_of is None and res.hint and \
            not (root.bar_of is None and root.hint)
        if isinstance(res, Var) and eqns and eqns[-1].outs == (res,) and not user_named:
            last = eqns[-1]
            eqns[-1] = Eqn(last.prim, last.args, last.kwargs, root_eqn.outs, last.params,
                           last.loc)
            self.inf.ex[root] = new
        else:
            self.subst[root] = res
        for x in eqns:
            for a in x.atoms():
                if isinstance(a, Var):
                    self.uses.setdefault(a, []).append(x)
        return eqns

    def emit(self, k, node, root_eqn):
        """Equations computing ``k * node``, the result atom and their cost;
        ``k`` goes to the smallest place a product lets it."""
        eqns: list = []
        target = self.place(node) if k != 1.0 else None
        res = self.build(node, eqns, root_eqn, k if k != 1.0 else None, target)
        cost = sum(self.size_of_new(x, eqns) for x in eqns)
        return eqns, res, cost

    def size_of_new(self, x, eqns):
        return int(np.prod(self.shape_of(x.outs[0]), dtype=np.int64))

    _shapes: dict = {}

    def shape_of(self, v):
        s = self._shapes.get(v)
        return s if s is not None else np.shape(self.val(v))

    def node_size(self, node) -> int:
        kind = node[0]
        if kind in ("var", "ones"):
            return self.size(node[1])
        if kind == "scaled":
            return self.node_size(node[2])
        if kind in ("matmul", "red"):
            return self.size(node[-1].outs[0])
        sizes = [self.node_size(c) for c in node[1:3] if c is not None]
        return max(sizes) if sizes else 1

    def place(self, node):
        """The node of ``node``'s product closure with the fewest elements."""
        best = (self.node_size(node), node)
        kind = node[0]
        kids = []
        if kind in ("mul", "matmul"):
            kids = [node[1], node[2]]
        elif kind == "div" and node[1] is not None:
            kids = [node[1]]
        elif kind == "red":
            kids = [node[1]]
        for c in kids:
            if c[0] == "ones":
                continue
            cand = self.place(c)
            s = self.node_size(cand)
            if s < best[0]:
                best = (s, cand)
        return best[1]

    def build(self, node, eqns, root_eqn, k, target):
        """Emit ``node`` (and ``k`` applied at ``target``); returns its atom
        (raises _Bail where the chain cannot be rebuilt)."""
        kind = node[0]
        if kind == "var":
            out = node[1]
        elif kind == "ones":
            out = node[1]
        elif kind == "scaled":
            inner_k = node[1] if node[1] != 1.0 else None
            out = self.build(node[2], eqns, root_eqn, inner_k,
                             self.place(node[2]) if inner_k is not None else None)
        elif kind == "mul":
            a, b = node[1], node[2]
            if b[0] == "div" and b[1] is None:
                a, b = b, a
            if a[0] == "div" and a[1] is None and b[0] != "ones":
                # (1 / d) * m  ->  m / d
                rb = self.build(b, eqns, root_eqn, k, target)
                rd = self.build(a[2], eqns, root_eqn, None, None)
                out = self._new(eqns, "divide", (rb, rd), node[3])
                if k is not None and a is target:
                    target = node                    # (k goes on the quotient)
            else:
                ra = None if a[0] == "ones" else self.build(a, eqns, root_eqn, k, target)
                rb = None if b[0] == "ones" else self.build(b, eqns, root_eqn, k, target)
                if ra is None and rb is None:
                    raise _Bail
                if ra is None or rb is None:
                    # (the ones only gave the shape: the other factor must have it)
                    out = ra if rb is None else rb
                    if self.shape_of(out) != np.shape(self.val(node[3].outs[0])):
                        raise _Bail
                else:
                    out = self._new(eqns, "multiply", (ra, rb), node[3])
        elif kind == "div":
            num, den = node[1], node[2]
            rd = self.build(den, eqns, root_eqn, None, None)
            if num is None:
                out = self._new(eqns, "divide", (Const(1.0), rd), node[3])
            else:
                rn = self.build(num, eqns, root_eqn, k, target)
                out = self._new(eqns, "divide", (rn, rd), node[3])
        elif kind == "matmul":
            ra = self.build(node[1], eqns, root_eqn, k, target)
            rb = self.build(node[2], eqns, root_eqn, k, target)
            out = self._new(eqns, "matmul", (ra, rb), node[3], like=node[3])
        elif kind == "red":
            ra = self.build(node[1], eqns, root_eqn, k, target)
            out = self._new(eqns, node[2].prim.name, (ra,), node[2], like=node[2])
        elif kind in ("add", "sub"):
            ra = self.build(node[1], eqns, root_eqn, None, None)
            rb = self.build(node[2], eqns, root_eqn, None, None)
            out = self._new(eqns, "add" if kind == "add" else "subtract", (ra, rb), node[3])
        else:                                   # pragma: no cover
            raise _Bail
        if k is not None and node is target:
            near = self._eqn_of(node) or root_eqn
            if k == -1.0:
                out = self._new(eqns, "negative", (out,), near)
            else:
                out = self._new(eqns, "multiply", (Const(k), out), near)
        return out

    def _eqn_of(self, node):
        """The original equation a node stands for (its name and line)."""
        if node[0] in ("var", "ones"):
            return self.defs.get(node[1])
        if node[0] == "scaled":
            return self._eqn_of(node[2])
        return node[-1]

    def _new(self, eqns, prim, args, like_eqn, like=None):
        """A new equation named and located like ``like_eqn`` (the original
        operation it replaces), with the options of ``like``."""
        o = like_eqn.outs[0]
        v = Var(o.hint)
        v.bar_of = o.bar_of
        kwargs = dict(like.kwargs) if like is not None else {}
        params = dict(like.params) if like is not None else {}
        e = Eqn(REGISTRY[prim], tuple(args), kwargs, (v,), params, like_eqn.loc)
        eqns.append(e)
        if "_shapes" not in self.__dict__:
            self._shapes = {}
        try:
            self.inf.simple(e)
            self._shapes[v] = np.shape(self.val(v))
        except Exception:                       # noqa: BLE001
            self._shapes[v] = ()
        return v
