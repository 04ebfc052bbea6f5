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
(``a + (-b) = a - b``), or ride on the constant.  ``a + a`` is ``2 a``.  A
full-size factor of every term of a sum is multiplied in once, after the
sum of the rest (``a t + b t = (a + b) t``); one of only some of the terms,
once for those (``a t + b t + c = (a + b) t + c``: the elementwise chain
``exp(-x^2) sin x + x^2 / 2``, whose adjoint is ``e cos x + x - 2 x sin x
e``, takes the hand-written gradient's ten full-size passes, not eleven).  So
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
last place of the exact product; sums keep their order).  Taking a factor
out of terms of a sum (``(a + b) t`` for ``a t + b t``) rounds the sum
before the product instead of after: the same few units in the last place
of each term, larger relative to the result only where the terms cancel
(as reassociating the sum would).

Cost.  Most chains tried are refused (the rebuilt chain would be no
cheaper).  :func:`_fewest_eqns` and :meth:`_Chains._least_size` bound the
cost of a rebuilt chain from below without building it, so such a chain is
refused before it is rebuilt (the same outcome: the generated code of the
test suite is byte-identical with and without the bound; a test checks the
bound against what rebuilding emits).
"""
from __future__ import annotations

import math

import numpy as np

from .ir import Block, Const, Eqn, Func, Var
from .primitives.core import REGISTRY

_LINEAR = {"multiply", "divide", "negative", "matmul", "sum", "mean", "add", "subtract"}
# The cost of an equation besides its elements, in elements: NumPy's
# per-call overhead (about a microsecond) is about the time of a few hundred
# elementwise operations.
_EQN_COST = 512
# the operations _Chains._scaled_ones recognises
_SEED_MAKERS = frozenset({"ones", "full", "negative", "multiply", "divide", "scalar_cast"})
_MAX_NODES = 64


def scale_chains(func: Func, inf, keep_copies: bool = False, memo: dict | None = None,
                 last: bool = False) -> Func:
    """``func`` with the constant factors of its linear chains gathered (see
    the module doc).  Rewrites blocks in place and returns ``func``;
    ``func.info["peephole_changed"]`` tells whether anything was rewritten.

    ``keep_copies``: the program tests memory identity at run time
    (``may_share_memory``, see s2sgrad.alias); then nothing is rewritten: a
    chain may fold to one of its operands (``v * 1.0`` -> ``v``, a view where
    the program had a copy) or put its factors in another order (another
    memory layout of the result), and either changes what the test sees.

    ``memo``: a dict shared by the rounds of this pass over one function
    (specialize runs it again on the result): a chain whose rewrite was
    refused in an earlier round is not looked at again while everything its
    refusal depended on is unchanged (see :meth:`_Chains.unchanged`), so a
    second round costs only the chains the first one changed.  ``last``: no
    round follows (what rewrites read is not recorded)."""
    if keep_copies:
        func.info = dict(func.info, peephole_changed=False)
        return func
    uses = _uses(func)
    if _sum_factors(func.body, inf, uses):
        uses = _uses(func)
    subst: dict = {}
    chains = _Chains(inf, uses, subst, memo)
    chains.remember = not last
    chains.block(func.body)
    if subst:
        _rename(func.body, subst)
        func.results = [_follow(subst, r) for r in func.results]
    func.info = dict(func.info, peephole_changed=chains.changed)
    return func


def _sum_factors(block, inf, uses) -> bool:
    """``np.sum(a * v, axis)`` as ``np.sum(a, axis) * v`` where ``v`` is
    constant along the summed axes (it has no dimension there: a weight per
    column summed over rows, ``sum(L * w, axis=0)`` with ``w`` of shape
    (k,)): one product of the sum's size instead of a full-size one, and a
    sum of ``a`` the program may make anyway (CSE then shares it: the
    Gaussian mixture's adjoint sums its responsibilities once).  As with the
    constant factors this pass moves, ``v`` multiplies the sum instead of
    each term: for each result the two differ by at most ``2 gamma_n |v|
    sum_i |a_i|`` (``gamma_n = n u / (1 - n u)``, n terms, u the unit
    roundoff), the bound of either evaluation's own rounding.  Only where
    ``a`` has the product's shape and dtype (``v`` neither broadcasts ``a``
    nor promotes it), for floating dtypes, ``a * v`` used by the sum alone,
    and shapes known.  Returns whether anything was rewritten."""
    changed = False
    # (each product's equation by its result: a scan of the equations before
    # each sum was quadratic in the block's length; made at the block's
    # first sum, before any rewrite of the block -- most blocks have none)
    made = None
    for i in range(len(block.eqns) - 1, -1, -1):
        e = block.eqns[i]
        for b in e.blocks():
            changed |= _sum_factors(b, inf, uses)
        if e.prim.name != "sum" or len(e.args) != 1 or set(e.kwargs) - {"axis", "keepdims"}:
            continue
        if made is None:
            made = {x.outs[0]: x for x in block.eqns if x.outs}
        p = e.args[0]
        if type(p) is not Var or len(uses.get(p, ())) != 1:
            continue
        kw = {k: (a.value if isinstance(a, Const) else a) for k, a in e.kwargs.items()}
        axis, keep = kw.get("axis"), kw.get("keepdims", False)
        if type(keep) is not bool or axis is None or type(axis) not in (int, tuple) or \
                type(axis) is tuple and not all(type(a) is int for a in axis):
            continue
        m = made.get(p)
        if m is None or m.prim.name != "multiply" or len(m.args) != 2 or m.kwargs:
            continue
        P, S = inf.ex.get(p), inf.ex.get(e.outs[0])
        if type(P) is not np.ndarray or type(S) is not np.ndarray or P.dtype.kind not in "fc":
            continue
        axes = tuple(a % P.ndim for a in (axis if type(axis) is tuple else (axis,))) \
            if all(-P.ndim <= a < P.ndim for a in (axis if type(axis) is tuple else (axis,))) \
            else None
        if not axes:
            continue
        for j in (0, 1):
            a, v = m.args[j], m.args[1 - j]
            A, V = inf.ex.get(a) if type(a) is Var else None, \
                inf.ex.get(v) if type(v) is Var else None
            if type(A) is not np.ndarray or type(V) is not np.ndarray or \
                    A.shape != P.shape or A.dtype != P.dtype or V.size >= P.size or \
                    any(ax >= P.ndim - V.ndim for ax in axes):
                continue
            s0 = Var(p.hint)
            red = Eqn(e.prim, (a,), dict(e.kwargs), (s0,), dict(e.params), e.loc)
            R = np.sum(A, axis=axes, keepdims=keep)
            if np.broadcast_shapes(R.shape, V.shape) != S.shape or \
                    np.result_type(R.dtype, V.dtype) != S.dtype:
                continue
            inf.ex[s0] = _compact_like(R)
            block.eqns[i:i + 1] = [red, Eqn(REGISTRY["multiply"], (s0, v), {}, e.outs,
                                             {}, e.loc)]
            block.eqns.remove(m)
            changed = True
            break
    return changed


def _compact_like(x):
    return np.broadcast_to(np.ones((), x.dtype), x.shape)


def _uses(func):
    """Var -> list of equations reading it (anywhere), and region results
    (None).  (Shared with :mod:`s2sgrad.tapes`.)"""
    uses: dict = {}

    def walk(block):
        for e in block.eqns:
            for a in (e.args + tuple(e.kwargs.values()) if e.kwargs else e.args):
                if type(a) is Var:
                    us = uses.get(a)
                    if us is None:
                        uses[a] = [e]
                    else:
                        us.append(e)
            if not e.params:
                continue
            for b in e.blocks():
                walk(b)
                for r in b.results:
                    if isinstance(r, Var):
                        uses.setdefault(r, []).append(None)
    walk(func.body)
    del walk        # (a recursive closure is a reference cycle: its cells stay alive)
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


def _broadcast(*shapes):
    """``np.broadcast_shapes`` for tuples of ints (ValueError where they do
    not broadcast), without its arrays: this pass asks it thousands of times."""
    if not shapes:
        return ()
    first = shapes[0]
    if all(s == first for s in shapes):
        return tuple(first)
    out = [1] * max(len(s) for s in shapes)
    for s in shapes:
        off = len(out) - len(s)
        for i, d in enumerate(s):
            o = out[off + i]
            if d != o and d != 1:
                if o != 1:
                    raise ValueError(f"shapes {shapes} do not broadcast")
                out[off + i] = d
    return tuple(out)


# the operations whose results :meth:`_Chains.leaf` looks into
_LEAF_KINDS = frozenset({"full", "ones", "negative", "multiply", "divide", "scalar_cast"})


def _same_atoms(a, b) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b))


def _operands(e):
    return e.args + tuple(e.kwargs.values()) if e.kwargs else e.args


def _is_seed_scalar(e, x) -> bool:
    """Is ``e`` the scalar seed ``np.float64(1.0)`` (a NumPy float scalar of
    the loss's dtype, see specialize), whose example is ``x``?  It stands for
    a 0-d array of ones: as a factor of a product it is dropped where the
    product's result keeps its type and dtype (checked on the examples)."""
    return e.prim.name == "scalar_cast" and isinstance(x, np.floating) and \
        len(e.args) == 1 and isinstance(e.args[0], Const) and type(e.args[0].value) is float \
        and e.args[0].value == 1.0


def _number(a):
    # (a Python int of any size: np.isfinite(2 ** 64) raises)
    return isinstance(a, Const) and (type(a.value) is int or
                                     (type(a.value) is float and math.isfinite(a.value)))


class _Bail(Exception):
    """A chain this pass does not rewrite."""


class _Chains:
    def __init__(self, inf, uses, subst, memo=None):
        self.inf = inf
        self.ex = inf.ex            # (the examples: read directly, thousands of times)
        # id(root equation) -> (the equation, what its refused rewrite read)
        self.memo = memo if memo is not None else {}
        self.reads: list = []
        self.remember = True
        self.uses = uses
        self.subst = subst
        self.changed = False
        self._internal_cache: dict = {}
        self.outer: dict = {}         # arrays of ones/full of the enclosing blocks

    def val(self, a):
        if type(a) is Const:
            return a.value
        return self.ex.get(a)

    def size(self, a) -> int:
        v = a.value if type(a) is Const else self.ex.get(a)
        return v.size if isinstance(v, (np.ndarray, np.generic)) else 1

    # ------------------------------------------------------------ blocks

    def block(self, block: Block):
        outer = self.outer
        # a seed of ones made before a loop (or a number times it) is a
        # constant factor in the loop's body too
        self.outer = dict(outer)
        for e in block.eqns:
            k = self._scaled_ones(e, self.outer)
            if k is not None:
                self.outer[e.outs[0]] = k
        for e in block.eqns:
            for b in (e.blocks() if e.params else ()):
                self.block(b)
        self.outer = outer
        self.defs = {o: e for e in block.eqns for o in e.outs}
        self.block_eqns = set(map(id, block.eqns))
        self._internal_cache = {}
        out = []
        subst = self.subst
        for e in block.eqns:
            if subst and any(type(a) is Var and a in subst for a in e.args):
                e.args = tuple(_follow(subst, a) for a in e.args)
            new = None
            if e.prim.name in _LINEAR and len(e.outs) == 1 and not e.blocks() and \
                    self._is_root(e.outs[0]):
                if not self.unchanged(e) and not self._one_step(e):
                    self.reads = []
                    try:
                        new = self.rewrite(e)
                    except _Bail:
                        new = None
                        if self.remember:
                            self.memo[id(e)] = (e, self.reads)
            out += new if new is not None else [e]
        block.eqns[:] = out

    def unchanged(self, e) -> bool:
        """Was ``e``'s rewrite refused in an earlier round, reading what it
        would read now?  (Values and shapes do not change between rounds;
        uses, definitions and operands do.)  What a rewrite reads about a
        value ``v`` (recorded by :meth:`pull`): whether it is internal to a
        chain; the seed of ones it stands for before a loop (no definition
        here); its definition and that definition's operands where the chain
        goes through it (``whole``), else what :meth:`leaf` looks at -- the
        kind of operation, and the operands of the kinds it folds.  (A leaf
        computed by a chain the round rewrote has a new equation, usually of
        a kind a leaf does not fold: the chains reading it are not looked at
        again for that alone.)"""
        hit = self.memo.get(id(e))
        if hit is None or hit[0] is not e:
            return False
        for v, whole, d0, ops, internal, outer in hit[1]:
            d = self.defs.get(v)
            if d0 is None:
                if d is not None or self.outer.get(v) != outer:
                    return False
                continue
            if d is None or internal is not None and self._internal(v) != internal:
                return False
            if whole or d.prim.name in _LEAF_KINDS or d0.prim.name in _LEAF_KINDS:
                if (d is not d0 if whole else d.prim.name != d0.prim.name or
                        len(d.outs) != len(d0.outs) or bool(d.params) != bool(d0.params)) or \
                        not _same_atoms(_operands(d), ops):
                    return False
        return True

    # the chain roots :meth:`_one_step` decides: a single operation of plain
    # leaves pulls to k == 1 and a node no rebuilding makes cheaper
    _ONE_STEP = {"add": 2, "subtract": 2, "multiply": 2, "matmul": 2, "sum": 1, "mean": 1}

    def _one_step(self, e) -> bool:
        """Would :meth:`rewrite` refuse ``e`` for lack of anything to do,
        decided without pulling its chain?  True when ``e`` is an addition,
        subtraction, product, matrix product or reduction of distinct Vars
        each of which is a leaf :meth:`leaf` keeps as it is: not internal
        to a chain, not computed by an operation it folds or absorbs
        (``_LEAF_KINDS``), not a seed of ones made before a loop.  Pulling
        such a chain gives ``k == 1`` and a sum of two terms with no factor
        in common, a product of two factors, a matrix product or a reduction
        of leaves: not reorganisable, no fewer equations, nothing absorbed
        -- the refusal at the top of :meth:`rewrite`'s loop.  (Most chain
        roots are such: 2,000 of an RNN's 3,000 at 1,000 statements; a test
        checks the decision against the rewrite on the test programs.)"""
        a = e.args
        if len(a) != self._ONE_STEP.get(e.prim.name, 0) or (len(a) == 2 and a[0] is a[1]):
            return False
        defs = self.defs
        for v in a:
            if type(v) is not Var:
                return False
            d = defs.get(v)
            if d is None:
                if v in self.outer:
                    return False
            elif d.prim.name in _LEAF_KINDS or self._internal(v):
                return False
        return True

    def _linear_use(self, e, v) -> bool:
        """Does equation ``e`` read ``v`` only where it is linear in it?"""
        name = e.prim.name
        if name not in _LINEAR or len(e.outs) != 1 or e.params and e.blocks():
            return False
        if e.kwargs and any(x is v for x in e.kwargs.values()):
            return False
        a = e.args
        if name in ("sum", "mean"):         # (read as the first operand only)
            # (initial= adds a constant: sum(k x, initial=c) != k sum(x, initial=c))
            return bool(a) and a[0] is v and all(x is not v for x in a[1:]) and \
                "dtype" not in e.kwargs and "initial" not in e.kwargs
        for x in a:
            if x is v:
                return True
        return False

    def _internal(self, v) -> bool:
        """``v`` is computed in this block and read once, by a linear chain
        equation of this block (which may read it twice: ``a + a``).
        (Cached per block: rewrites add uses only to their chains' leaves.)"""
        hit = self._internal_cache.get(v)
        if hit is None:
            hit = self._internal_cache[v] = self._internal_uncached(v)
        return hit

    def _internal_uncached(self, v) -> bool:
        if v not in self.defs:
            return False
        us = self.uses.get(v)
        if not us:
            return False
        first = us[0]
        if first is None:
            return False
        for u in us:                # (one reader, maybe reading twice; None: a result)
            if u is not first:
                return False
        return id(first) in self.block_eqns and self._linear_use(first, v)

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
        if e is None:
            leafy, internal = True, None
        elif v is count[1]:
            leafy, internal = False, None           # (the root: not internal)
        else:
            internal = self._internal(v)
            leafy = not internal
        if self.remember:       # (what the outcome depends on: see unchanged)
            self.reads.append((v, not leafy, e, _operands(e) if e is not None else None,
                               internal, self.outer.get(v) if e is None else None))
        if leafy:
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
        """(k, node) of a chain equation; nodes are n-ary: ('prod', factors,
        denominators, eqn), ('sum', [(k_i, node_i)], eqn), ('matmul', a, b,
        eqn), ('red', a, eqn), and the leaves ('var', V), ('ones', V)."""
        name = e.prim.name
        a = e.args
        if name == "negative":
            k, n = self.pull(a[0], absorb, count)
            return -k, n
        if name == "multiply":
            (ka, na), (kb, nb) = self.pull(a[0], absorb, count), self.pull(a[1], absorb, count)
            return ka * kb, _prod([na, nb], [], e)
        if name == "divide":
            (ka, na), (kb, nb) = self.pull(a[0], absorb, count), self.pull(a[1], absorb, count)
            if kb == 0 or (nb is not None and nb[0] == "ones"):
                raise _Bail
            return ka / kb, _prod([na], [nb], e)
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
            terms = _terms(ka, na) + _terms(kb, nb)
            g = abs(terms[0][0])
            if g == 0 or any(abs(t[0]) != g for t in terms):
                g = 1.0
            terms = [(t[0] / g, t[1]) for t in terms]
            # a full-size factor of every term goes out of the sum
            # (a t + b t = (a + b) t), so that it meets the sum's other factors
            full = self.size(e.outs[0])
            for x in _common_factors(terms):
                if self.size(x) >= full:
                    rest = [(ki, _without(n, x)) for ki, n in terms]
                    if all(self.node_size(r) < full for _, r in rest) and \
                            self.sums_alike([r for _, r in rest], e):
                        return g, _prod([("var", x), ("sum", rest, e)], [], e)
                    break
            return g, ("sum", terms, e)
        raise _Bail

    def _scaled_ones(self, e, known):
        """(k, base) when ``e``'s float array result is ``k`` times the
        array of ones (or ``full``) ``base``: ``ones``/``full`` itself, or
        a number times, over or the negation of such a value in ``known``."""
        if e.prim.name not in _SEED_MAKERS or len(e.outs) != 1 or e.params or \
                e.kwargs.keys() - {"dtype"} or e.blocks():
            return None
        if e.prim.name not in ("ones", "full", "scalar_cast") and \
                not any(isinstance(a, Var) and a in known for a in e.args):
            return None         # (not a scaled seed: the common case, decided cheaply)
        x = self.val(e.outs[0])
        if not isinstance(x, (np.ndarray, np.floating)) or x.dtype.kind != "f":
            return None         # (a 0-d seed over a number is a NumPy scalar)
        name, a = e.prim.name, e.args
        if name == "ones" and not e.kwargs.keys() - {"dtype"}:
            return 1.0, e.outs[0]
        if name == "full" and len(a) > 1 and _number(a[1]):
            return float(a[1].value), e.outs[0]
        if name == "scalar_cast":
            # the seed of a 0-d loss, np.float64(1.0) (specialize)
            return (1.0, e.outs[0]) if _is_seed_scalar(e, x) else None
        if e.kwargs:
            return None
        if name == "negative" and len(a) == 1 and a[0] in known:
            k, base = known[a[0]]
            return -k, base
        if name == "multiply" and len(a) == 2:
            for i in (0, 1):
                if _number(a[i]) and isinstance(a[1 - i], Var) and a[1 - i] in known:
                    k, base = known[a[1 - i]]
                    return k * float(a[i].value), base
        if name == "divide" and len(a) == 2 and _number(a[1]) and a[1].value != 0 and \
                isinstance(a[0], Var) and a[0] in known:
            k, base = known[a[0]]
            return k / float(a[1].value), base
        return None

    def leaf(self, v, absorb):
        e = self.defs.get(v)
        x = self.val(v)
        if e is None and v in self.outer:
            # made before the loop: a constant times a seed of ones
            k, base = self.outer[v]
            if np.shape(self.val(base)) == np.shape(x) and \
                    np.result_type(self.val(base)) == np.result_type(x):
                return k, ("ones", base)
        if e is not None and len(e.outs) == 1 and not e.params:
            name = e.prim.name
            if name in ("full", "ones") and type(x) is np.ndarray and x.dtype.kind == "f":
                c = 1.0 if name == "ones" else e.args[1] if len(e.args) > 1 else None
                if name == "ones" or _number(c):
                    return (1.0 if name == "ones" else float(c.value)), ("ones", v)
            if name == "scalar_cast" and _is_seed_scalar(e, x):
                return 1.0, ("ones", v)
            if type(x) is np.ndarray and name in ("negative", "multiply", "divide"):
                r = self._absorbed(e, v)
                if r is not None:
                    # (only a leaf the absorbing version takes apart makes
                    # its pull differ from this one: see rewrite)
                    self.absorbable = True
                    if absorb:
                        return r
        return 1.0, ("var", v)

    def _absorbed(self, e, v):
        """(k, ('var', a)) when ``v``, computed by ``e``, is ``k * a`` for a
        number ``k`` and an array ``a`` of ``v``'s kind (a negation, a
        product by a number, a quotient by a nonzero one); else None."""
        name, a = e.prim.name, e.args
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
        return None

    def _same_kind(self, a, b) -> bool:
        x, y = self.val(a), self.val(b)
        return type(x) is type(y) is np.ndarray and x.shape == y.shape and x.dtype == y.dtype

    # ------------------------------------------------------------ rebuilding

    def rewrite(self, root_eqn):
        root = root_eqn.outs[0]
        self._root = root_eqn
        self._node_shapes: dict = {}
        old = self.val(root)
        if not isinstance(old, (np.ndarray, np.generic)):
            raise _Bail
        best = first = None
        self.absorbable = False
        for absorb in (False, True):
            if absorb and not self.absorbable:
                break
            count = [0, root, []]
            k, node = self.pull(root, absorb, count)
            if node is None:
                raise _Bail
            if k == 1.0 and not _reorganisable(node) and _min_eqns(node) >= len(count[2]):
                if not self.absorbable:
                    raise _Bail             # no constant, nothing to fold or regroup
                continue        # (this version is the chain as it is; see above)
            old_cost = sum(self.size(e.outs[0]) + _EQN_COST for e in count[2])
            try:
                bound = _fewest_eqns(node, k, self) * (_EQN_COST + self._least_size(node))
            except _Bail:
                continue        # (the rebuilding would meet the same shapes and bail)
            if bound >= old_cost or (best is not None and bound > best[2]):
                continue        # (it cannot get cheaper, than the chain or the version
                #                  already rebuilt: not worth rebuilding to see)
            if first is not None and first[0] == k and _same_node(first[1], node):
                # the absorbing version pulled the same chain: its rebuilding
                # is the one made (the same equations), only what it replaces
                # differs (ties go to the absorbing version, as below)
                if best is not None and best[0] is first[2]:
                    best = best[:3] + (old_cost,)
                continue
            try:
                eqns, res, cost = self.emit(k, node, root_eqn)
            except _Bail:
                first = (k, node, None)
                continue
            first = (k, node, eqns)
            if best is None or cost <= best[2]:     # (ties: the absorbing version, whose
                best = (eqns, res, cost, old_cost)  # scaled operands may then die)
        if best is None:
            raise _Bail
        eqns, res, cost, old_cost = best
        if cost >= old_cost:
            raise _Bail
        # the rebuilt chain must give a value of the same kind
        try:
            for x in eqns:
                self.inf.simple(x)
        except Exception:                       # noqa: BLE001
            raise _Bail from None
        new = self.val(res)
        if type(new) is not type(old) or np.shape(new) != np.shape(old) or \
                np.result_type(new) != np.result_type(old):
            raise _Bail
        # ... and every operation computes in the dtype of the one it stands
        # for: a sum of terms whose factor of ones (a seed) was dropped, or
        # the small factors multiplied first, would otherwise add uint8
        # cotangents in uint8 (200 + 100 wraps to 44) or multiply int8 masks
        # in int8, even when the result's dtype comes out right
        like_of = self.__dict__.get("_like_of", {})
        for x in eqns:
            le = like_of.get(x.outs[0])
            was = None if le is None else self.val(le.outs[0])
            now = self.val(x.outs[0])
            if not isinstance(was, (np.ndarray, np.generic)):
                continue
            if isinstance(now, (bool, int, float, complex)):
                # a Python number is weak (NumPy 2): only its kind counts
                rank = {"b": 0, "i": 1, "u": 1, "f": 2, "c": 3}
                kind = "b" if isinstance(now, bool) else "i" if isinstance(now, int) else \
                    "f" if isinstance(now, float) else "c"
                if rank[kind] > rank.get(was.dtype.kind, 3):
                    raise _Bail
            elif not isinstance(now, (np.ndarray, np.generic)) or now.dtype != was.dtype:
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
        self.changed = True
        return eqns

    def emit(self, k, node, root_eqn):
        """Equations computing ``k * node``, the result atom and their cost."""
        eqns: list = []
        res = self.build(node, eqns, k)
        cost = sum(self.size_of_new(x, eqns) + _EQN_COST for x in eqns)
        return eqns, res, cost

    def size_of_new(self, x, eqns):
        return math.prod(self.shape_of(x.outs[0]))

    _shapes: dict = {}

    def shape_of(self, v):
        s = self._shapes.get(v)
        return s if s is not None else np.shape(self.val(v))

    def node_size(self, node) -> int:
        return math.prod(self.node_shape(node))

    def node_shape(self, node):
        """The shape of a node's value (a product's: its factors' broadcast)."""
        if node is None:
            return ()
        kind = node[0]
        if kind in ("var", "ones"):
            return np.shape(self.val(node[1]))
        if kind in ("prod", "sum"):
            # (memoised per rewrite: the rebuilding asks about every level of
            # a nested product; the node is kept with its shape, so its id is
            # not reused while the memo lives)
            hit = self._node_shapes.get(id(node))
            if hit is not None:
                return hit[1]
            try:
                if kind == "prod":
                    shape = _broadcast(*[self.node_shape(n) for n in node[1] + node[2]])
                else:
                    shape = _broadcast(*[self.node_shape(n) for _, n in node[1]])
            except ValueError:
                raise _Bail from None
            self._node_shapes[id(node)] = (node, shape)
            return shape
        return np.shape(self.val(node[-1].outs[0]))

    def _least_size(self, node) -> int:
        """The fewest elements an equation rebuilding ``node`` writes: each
        writes a broadcast of leaves or the result of a matrix product or
        reduction (as big as the one it replaces)."""
        if node is None or node[0] == "ones":
            return 1 << 62
        kind = node[0]
        if kind == "var":
            return self.size(node[1])
        if kind == "prod":
            return min([self._least_size(m) for m in node[1] + node[2]] + [1 << 62])
        if kind == "sum":
            return min([self._least_size(m) for _, m in node[1]] + [1 << 62])
        own = self.size(node[-1].outs[0])
        return min([own] + [self._least_size(m) for m in node[1:-1]])

    def min_place(self, node) -> int:
        """The fewest elements a constant factor of ``node`` can be applied to."""
        kind = node[0]
        if kind == "var":
            return self.size(node[1])
        if kind == "ones":
            return 1 << 62
        own = self.node_size(node)
        if kind == "matmul":
            return min(own, self.min_place(node[1]), self.min_place(node[2]))
        if kind == "red":
            return min(own, self.min_place(node[1]))
        if kind == "prod":
            return min([own] + [self.min_place(f) for f in node[1]])
        return own

    def scale(self, eqns, out, k, near):
        """``k * out`` (nothing for 1, a negation for -1)."""
        if k == 1.0:
            return out
        if k == -1.0:
            return self._new(eqns, "negative", (out,), near)
        return self._new(eqns, "multiply", (Const(k), out), near)

    def build(self, node, eqns, k=1.0):
        """Emit ``k * node``; returns its atom (raises _Bail where the chain
        cannot be rebuilt)."""
        kind = node[0]
        if kind == "var":
            return self.scale(eqns, node[1], k, self.defs.get(node[1]) or self._root)
        if kind == "ones":
            raise _Bail
        if kind == "prod":
            return self.build_prod(node, eqns, k)
        if kind == "sum":
            return self.build_sum(node, eqns, k)
        e = node[-1]
        if kind == "matmul":
            a, b = node[1], node[2]
            # the constant goes to the smallest of the two factors or the product
            sizes = [self.min_place(a), self.min_place(b), self.size(e.outs[0])]
            where = sizes.index(min(sizes)) if k != 1.0 else -1
            ra = self.build(a, eqns, k if where == 0 else 1.0)
            rb = self.build(b, eqns, k if where == 1 else 1.0)
            out = self._new(eqns, "matmul", (ra, rb), e, like=e)
            return self.scale(eqns, out, k, e) if where == 2 else out
        if kind == "red":
            a = node[1]
            inside = k != 1.0 and self.min_place(a) < self.size(e.outs[0])
            ra = self.build(a, eqns, k if inside else 1.0)
            out = self._new(eqns, e.prim.name, (ra,), e, like=e)
            return out if inside else self.scale(eqns, out, k, e)
        raise _Bail                                     # pragma: no cover

    def build_prod(self, node, eqns, k):
        """A product of factors over a product of denominators: the small
        ones (fewer elements than the result) multiplied together first,
        with the constant, then applied to the full-size ones."""
        _, factors, dens, had_ones, e = node
        full = self.size(e.outs[0])
        small_f = sorted([f for f in factors if self.node_size(f) < full], key=self.node_size)
        big_f = [f for f in factors if self.node_size(f) >= full]
        small_d = sorted([d for d in dens if self.node_size(d) < full], key=self.node_size)
        big_d = [d for d in dens if self.node_size(d) >= full]
        small = None
        for f in small_f:
            r = self.build(f, eqns)
            small = r if small is None else self._new(eqns, "multiply", (small, r), e)
        for d in small_d:
            r = self.build(d, eqns)
            if small is None:
                small = self._new(eqns, "divide", (Const(k), r), e)
                k = 1.0
            else:
                small = self._new(eqns, "divide", (small, r), e)
        if small is not None:
            small = self.scale(eqns, small, k, e)
            k = 1.0
        out = None
        if k != 1.0 and big_f:
            # the constant goes where the fewest elements take it: inside one
            # of the factors (w of X @ w) or on the product
            best = min(range(len(big_f)), key=lambda i: self.min_place(big_f[i]))
            if self.min_place(big_f[best]) < full:
                big_f = [big_f[best]] + big_f[:best] + big_f[best + 1:]
            else:
                big_f, late = list(big_f), k
        late = k if k != 1.0 and big_f and self.min_place(big_f[0]) >= full else 1.0
        if late != 1.0:
            k = 1.0
        for f in big_f:
            r = self.build(f, eqns, k)
            k = 1.0
            out = r if out is None else self._new(eqns, "multiply", (out, r), e)
        if small is not None:
            out = small if out is None else self._new(eqns, "multiply", (out, small), e)
        for d in big_d:
            r = self.build(d, eqns)
            if out is None:
                out = self._new(eqns, "divide", (Const(k), r), e)
                k = 1.0
            else:
                out = self._new(eqns, "divide", (out, r), e)
        if out is None:
            raise _Bail
        out = self.scale(eqns, out, k * late, e)
        if had_ones and self.shape_of(out) != np.shape(self.val(e.outs[0])):
            raise _Bail                 # a factor of ones gave the shape
        return out

    def build_sum(self, node, eqns, k):
        """A signed sum of terms; a full-size factor common to every term is
        multiplied in once, after the sum of the rest (a t + b t = (a + b) t)."""
        _, terms, e = node
        full = self.size(e.outs[0])
        common = None
        for x in _common_factors(terms):
            if self.size(x) >= full:
                common = x
                break
        if common is not None:
            rest = [(ki, _without(n, common)) for ki, n in terms]
            if all(r is None or self.node_size(r) < full for _, r in rest) and \
                    self.sums_alike([r for _, r in rest], e):
                inner = self.build_terms(rest, eqns, e, k)
                return self._new(eqns, "multiply", (common, inner), e)
        if common is None:
            # a full-size factor of some of the terms goes out of their
            # sum: a t + b t + c = (a + b) t + c, one multiply by t instead
            # of one per term (rounds differently: see the module doc)
            for x, idx in _shared_factors(terms):
                if self.size(x) < full:
                    continue
                rest = [(terms[i][0], _without(terms[i][1], x)) for i in idx]
                if any(r is None for _, r in rest) or \
                        not self.sums_alike([r for _, r in rest], e):
                    continue
                grouped = (1.0, ("prod", [("var", x), ("sum", rest, e)], [], False, e))
                terms = [grouped if i == idx[0] else t for i, t in enumerate(terms)
                         if i == idx[0] or i not in idx]
                break
        return self.build_terms(terms, eqns, e, k)

    def sums_alike(self, nodes, e):
        """Whether the cofactors of a shared factor (a, b of a t + b t) add
        in the sum's own floating dtype, so that (a + b) t is a t + b t up
        to rounding: not when a leaf is bool (True + True is True), an
        integer (int8 100 + 100 wraps), or a narrower float (float32 a + b
        rounds to float32 before meeting a float64 t).  A proof from the
        dtypes of the leaves: every operation of such a node keeps it."""
        out = self.val(e.outs[0])
        if not isinstance(out, (np.ndarray, np.generic)):
            return False
        dtype = out.dtype
        if dtype.kind not in "fc":
            return False
        todo = [n for n in nodes if n is not None]
        while todo:
            n = todo.pop()
            kind = n[0]
            if kind == "prod":
                todo += [m for m in n[1] + n[2] if m is not None]
                continue
            if kind == "sum":
                todo += [m for _, m in n[1] if m is not None]
                continue
            if kind == "scaled":
                todo.append(n[2])
                continue
            v = self.val(n[1]) if kind in ("var", "ones") else self.val(n[-1].outs[0])
            if not isinstance(v, (np.ndarray, np.generic, float)) or \
                    np.result_type(v) != dtype:
                return False
        return True

    def build_terms(self, terms, eqns, e, k):
        # sums keep their order (reordering rounds differently: 1e16 * s +
        # -1.0 * (1e16 * s) + t is t, but (1e16 * s + t) - 1e16 * s is 0);
        # only -a + b is written b - a (two terms commute exactly)
        if len(terms) > 1 and terms[0][0] * k < 0 and not terms[1][0] * k < 0:
            terms = [terms[1], terms[0]] + list(terms[2:])
        if k != 1.0:
            # the constant on every term (where each takes it cheapest) or
            # once on the sum
            spread = sum(self.min_place(n) + _EQN_COST for _, n in terms if n is not None)
            if spread >= self.size(e.outs[0]) + _EQN_COST:
                return self.scale(eqns, self.build_terms(terms, eqns, e, 1.0), k, e)
        out, neg = None, False
        for ki, n in terms:
            c = ki * k
            if n is None:
                r, sign = Const(abs(c)), c < 0
            else:
                r, sign = self.build(n, eqns, abs(c)), c < 0
            if out is None:
                out, neg = r, sign
            elif sign == neg:
                out = self._new(eqns, "add", (out, r), e)
            else:
                out = self._new(eqns, "subtract", (out, r), e)
        if isinstance(out, Const):
            raise _Bail
        return self._new(eqns, "negative", (out,), e) if neg else out

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
            self._like_of = {}
        self._like_of[v] = like_eqn
        # the shape without evaluating (the chain may be discarded): NumPy's
        # broadcasting, or the operation it replaces
        if prim in ("matmul", "sum", "mean"):
            self._shapes[v] = np.shape(self.val(like_eqn.outs[0]))
        else:
            try:
                self._shapes[v] = _broadcast(
                    *[self.shape_of(a) if isinstance(a, Var) else () for a in args])
            except ValueError:
                raise _Bail from None
        return v


def _prod(factors, dens, e):
    """A product node: flattens nested products, drops constants (None).
    Whether a factor of ones was dropped (it may have given the product its
    shape: ``v * ones((2, 2))`` of a (2, 1) ``v``) survives the flattening,
    so the rebuilt chain is checked against the product's shape."""
    fs, ds, had = [], [], False
    for n in factors:
        if n is None:
            continue
        if n[0] == "prod":
            fs += n[1]
            ds += n[2]
            had = had or n[3]
        else:
            fs.append(n)
    for n in dens:
        if n is None:
            continue
        if n[0] == "prod":
            ds += n[1]
            fs += n[2]
            had = had or n[3]
        else:
            ds.append(n)
    ones = [f for f in fs if f[0] == "ones"]
    fs = [f for f in fs if f[0] != "ones"]
    had = had or bool(ones)
    if not ds and len(fs) == 1 and not had:
        return fs[0]
    if not fs and not ds:
        return ones[0] if ones else None
    return ("prod", fs, ds, had, e)


def _terms(k, node):
    if node[0] == "sum":
        return [(k * ki, n) for ki, n in node[1]]
    return [(k, node)]


def _factor_vars(node):
    if node is None:
        return []
    if node[0] == "var":
        return [node[1]]
    if node[0] == "prod":
        return [f[1] for f in node[1] if f[0] == "var"]
    return []


# (the factors below are compared by identity, through their ids: scans of
# lists were quadratic in a sum's terms.  Measured, session 24: a straight
# 1,000-statement function's peephole 146 -> 142 ms CPU; cProfile, whose
# per-generator cost inflates such scans, had shown 0.4 s -> 0.06 s)


def _common_factors(terms):
    """Vars that are a factor of every term (in the first term's order)."""
    if len(terms) < 2:
        return []
    first = _factor_vars(terms[0][1])
    common = {id(x) for x in first}
    for _, n in terms[1:]:
        if not common:
            return []
        common.intersection_update([id(y) for y in _factor_vars(n)])
    return [x for x in first if id(x) in common]


def _shared_factors(terms):
    """(x, indices): each Var that is a factor of two or more of the terms,
    not of all of them, with the terms it is a factor of (in order of first
    appearance)."""
    where: dict = {}                # id(x) -> (x, the terms it is a factor of)
    for i, t in enumerate(terms):
        for x in _factor_vars(t[1]):
            hit = where.get(id(x))
            if hit is None:
                where[id(x)] = (x, [i])
            elif hit[1][-1] != i:
                hit[1].append(i)
    n = len(terms)
    return [(x, idx) for x, idx in where.values() if 1 < len(idx) < n]


def _repeated_factor(terms) -> bool:
    """``bool(_common_factors(terms)) or bool(_shared_factors(terms))``: is
    a Var a factor of two or more of the terms?"""
    seen: set = set()
    for _, n in terms:
        ids = {id(x) for x in _factor_vars(n)}
        if not seen.isdisjoint(ids):
            return True
        seen |= ids
    return False


def _without(node, x):
    """``node`` divided by its factor ``x`` (None: the constant 1)."""
    if node[0] == "var":
        return None
    fs = list(node[1])
    for i, f in enumerate(fs):
        if f[0] == "var" and f[1] is x:
            del fs[i]
            break
    if not fs and not node[2]:
        return None
    if len(fs) == 1 and not node[2]:
        return fs[0]
    return ("prod", fs, list(node[2]), node[3], node[4])


def _min_eqns(node) -> int:
    """The fewest equations a rebuilt ``node`` takes (without its constant)."""
    if node is None or node[0] in ("var", "ones"):
        return 0
    kind = node[0]
    if kind == "prod":
        kids = node[1] + node[2]
        return max(len(kids) - 1, 1) + sum(_min_eqns(n) for n in kids)
    if kind == "sum":
        return len(node[1]) - 1 + sum(_min_eqns(n) for _, n in node[1])
    if kind == "matmul":
        return 1 + _min_eqns(node[1]) + _min_eqns(node[2])
    return 1 + _min_eqns(node[1])                        # red


def _fewest_eqns(node, k=1.0, chains=None) -> int:
    """A lower bound on the equations :meth:`_Chains.build` emits for ``k *
    node``: a product of ``f`` factors over ``d`` denominators takes ``f -
    1`` multiplies and ``d`` divisions; a sum of ``t`` terms ``t - 1``
    additions, or, when a factor common to every term goes out of the sum,
    one multiply for the ``t`` factors taken out of its terms; a matrix
    product or a reduction one; a constant other than 1 one multiply (or
    negation), unless a term of a sum or a division can take it.  (Used
    with :meth:`_Chains._least_size` to refuse, without rebuilding it, a
    chain that cannot get cheaper.)

    ``chains`` (the :class:`_Chains` rewriting, for the examples' sizes)
    makes the bound follow two choices of the rebuilding that depend on
    sizes: a factor common to every term of a sum goes out of it only when
    it is full-size and every cofactor is smaller (else the sum takes its
    ``t - 1`` additions; a factor shared by some terms is assumed to go
    out); and a product whose denominators are all smaller than the result
    while none of its factors is, but which has a full-size factor, takes
    one more operation (``1 / d`` first, then its product with the rest).
    A node whose sizes do not broadcast raises :class:`_Bail`, as the
    rebuilding would."""
    if node is None or node[0] == "ones":
        return 0
    kind = node[0]
    if kind == "var":
        return 0 if k == 1.0 else 1
    if kind == "sum":
        terms = node[1]
        n = sum(_fewest_eqns(m, abs(ki * k), chains) for ki, m in terms) + \
            (0 if _sum_may_factor(terms, node[2], chains) else len(terms) - 1)
        return n if k == 1.0 else min(n, 1 + _fewest_eqns(node, 1.0, chains))
    if kind == "prod":
        n = max(len(node[1]) - 1, 0) + len(node[2]) + \
            sum(_fewest_eqns(m, 1.0, chains) for m in node[1] + node[2])
        if chains is not None and node[2] and node[1]:
            full = chains.size(node[4].outs[0])
            if all(chains.node_size(f) >= full for f in node[1]) and \
                    all(chains.node_size(d) < full for d in node[2]):
                n += 1
    elif kind == "matmul":
        n = 1 + _fewest_eqns(node[1], 1.0, chains) + _fewest_eqns(node[2], 1.0, chains)
    else:                                                # red
        n = 1 + _fewest_eqns(node[1], 1.0, chains)
    return n + (k != 1.0 and not _takes_constant(node))


def _sum_may_factor(terms, e, chains) -> bool:
    """May :meth:`_Chains.build_sum` take a factor out of ``terms`` (a
    superset of when it does: dtypes are not looked at)?"""
    common = _common_factors(terms)
    if chains is None:
        return bool(common or _shared_factors(terms))
    full = chains.size(e.outs[0])
    for x in common:
        if chains.size(x) >= full:
            rest = [_without(n, x) for _, n in terms]
            return all(r is None or chains.node_size(r) < full for r in rest)
    return any(chains.size(x) >= full for x, _ in _shared_factors(terms))


def _same_node(a, b) -> bool:
    """Are two chain nodes the same tree (the same leaves, equations and
    constants)?"""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same_node(x, y) for x, y in zip(a, b))
    if isinstance(a, (bool, int, float, str)):
        return a == b
    return False


def _takes_constant(node) -> bool:
    """Has ``node`` a sum or a division, where a constant may go free?"""
    if node is None or node[0] in ("var", "ones"):
        return False
    kind = node[0]
    if kind == "sum":
        return True
    if kind == "prod":
        return bool(node[2]) or any(_takes_constant(m) for m in node[1])
    if kind == "matmul":
        return _takes_constant(node[1]) or _takes_constant(node[2])
    return _takes_constant(node[1])


def _reorganisable(node) -> bool:
    """Could regrouping ``node`` save work (a product of three or more, a
    quotient, a sum with a common factor, a factor of ones, a term with a
    constant)?"""
    if node is None or node[0] == "var":
        return False
    kind = node[0]
    if kind == "ones":
        return True
    if kind == "prod":
        return len(node[1]) + len(node[2]) > 2 or bool(node[2]) or node[3] or \
            any(_reorganisable(n) for n in node[1] + node[2])
    if kind == "sum":
        return any(abs(ki) != 1.0 or _reorganisable(n) for ki, n in node[1]) or \
            _repeated_factor(node[1])
    if kind == "matmul":
        return _reorganisable(node[1]) or _reorganisable(node[2])
    return _reorganisable(node[1])
