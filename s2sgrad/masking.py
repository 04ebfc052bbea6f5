"""Sink the masks of structurally-zero cotangents to where they leave an
elementwise chain (the "double-where" NaN).

The problem.  ``np.where(x > 0, np.sqrt(x), 0.0)``'s adjoint routes the
cotangent to ``sqrt(x)`` as ``m = where(c, g, 0)`` and then multiplies it by
sqrt's partial ``0.5 / sqrt(x)``: at ``x <= 0`` that partial is inf or NaN and
``0 * inf`` is NaN, although the branch that holds there (0.0) has derivative
0.  The same happens to entropy terms (``where(p > 0, p * log(p), 0)``), masked
losses over data with NaNs (``sum(where(valid, (X @ w - y) ** 2, 0))``),
``nansum(a * y)`` with NaNs in ``a``, ``1 / d`` under ``d > 0``, and so on.
JAX and autograd give NaN there too.

The pass.  Adjoint code is linear in the cotangent, and an elementwise
operation treats each position on its own.  So for an operation ``u = op(m,
...)`` of the adjoint code that is elementwise and gives 0 at a position where
``m`` is 0 (and its other operands are finite), ``op(where(c, g, 0), ...)``
and ``where(c, op(g, ...), 0)`` agree wherever ``c`` holds, bit for bit (the
same operation on the same numbers), and where ``c`` does not hold the
second is 0 instead of ``0 * partial`` -- 0, -0, or NaN when the partial is
not finite.  Repeating this moves the mask down the chain to the first
operation that is not such a step (a reduction, a matmul, a gather or
scatter, an addition of an unmasked cotangent, a read from another block, a
result): there the cotangent leaves the positionwise chain and the masked
positions already hold exact zeros.  Broadcasting operands are fine:
NumPy's broadcast lines up ``c``, ``g`` and the other operands the same way
in both spellings, and the result has the same shape.

Steps (``m = where(c, g, 0)`` or ``where(c, 0, g)``, ``0`` a constant zero):

- ``multiply`` with ``m`` as any operand; ``divide`` with ``m`` the numerator
  only; ``negative``, ``positive``, ``conjugate``, ``real``, ``imag``;
- ``add``/``subtract`` of two masks with the same condition (the same Var)
  and the same zero branch: ``where(c, g1 + g2, 0)``, one mask for the sum
  (the two terms of a product rule, ``x * log(x)``, meet again here);
- ``where`` with the same mask again (the same condition, or its
  ``logical_not`` with the other branch): dropped, one mask is enough;
- ``s = unbroadcast(m, x)`` (shapes not known equal when compiling, or a
  mask with more dimensions than the branch) followed by a product or a
  quotient: ``m`` stays, and ``s`` is masked again with the positions of x
  that receive at least one kept position (``_through_unbroadcast``).
  Specialisation drops the unbroadcasts where the shapes are equal, and the
  two masks merge by the step above.

Another ``where`` (another condition), a reduction, matmul, reshape or
index, an addition of an unmasked cotangent, a read from another block or a
result ends the chain.

A mask with several such uses is sunk into each (one ``where`` per use; the
chains usually meet again at an addition, where they merge).  A mask with a
use that is not a step keeps its ``where`` for that use.

Only derived code is rewritten: masks whose location is of kind
``"adjoint"`` (:meth:`s2sgrad.reverse.Reverser._adjoint_loc`) or
``"tangent"`` (forward mode: ``clip``'s or a user's ``where``'s tangent
``where(c, t, 0)`` then multiplied by ``arcsin``'s infinite partial at 1,
``np.arcsin(np.clip(x, -1, 1))``), moved through adjoint or tangent code;
the primal computation keeps NumPy's values (a user's ``where(c, x, 0) *
inf`` is NaN where ``c`` is false, as NumPy says; its tangent there is then
0, the derivative of a NaN value).  Tangents are linear in the seed as
cotangents are, so the same steps hold (ports12: forward mode gave NaN
where reverse mode gave the 0 of a saturated clip).

Cost: the same number of passes as before for a chain (one ``where`` either
way, and ``where(c, 1.0, 0.0) * p`` becomes ``where(c, p, 0.0)``: one pass
less); one extra ``where`` per extra branch of the chain that does not meet
again; past a broadcast sum, a count of the mask's kept positions and a
``where`` on the summed side (none in specialised code of equal shapes).
Code without a masking ``where`` in its adjoint is returned as it is.
Rounding: kept positions see the same operations, but a later pass may
place a scalar factor differently (the peephole moved ``2 * ...`` of
``(X @ w - y) ** 2``'s derivative past the matmul; the mask now stops it
there): differences of a rounding at most, none for powers of two.

Second order: the gradient's own adjoint code is again masked and sunk when
it is differentiated (this pass runs at the end of every
:func:`s2sgrad.reverse.grad_func`); forward mode differentiates ``where``
by selecting tangents, so the sunk mask also selects them.
"""
from __future__ import annotations

import cmath

from .ir import Block, Const, Eqn, Func, Var, iter_eqns, readers
from .primitives import core as P

_UNARY = ("negative", "positive", "conjugate", "real", "imag")
_SCALING = ("multiply", "divide")


def _zero(a) -> bool:
    return (isinstance(a, Const) and type(a.value) in (int, float) and a.value == 0)


def _adjoint(e) -> bool:
    return e.loc is not None and e.loc.kind == "adjoint"


def _derived(e) -> bool:
    # adjoint code, or the tangent of adjoint code (forward over reverse:
    # the only tangent code that reads an adjoint value)
    return e.loc is not None and e.loc.kind in ("adjoint", "tangent")


def _mask(e, where_prim):
    """``(c, g, slot, zero)`` if ``e`` is ``where(c, g, 0)`` (slot 1) or
    ``where(c, 0, g)`` (slot 2), else None."""
    if e.prim is not where_prim or len(e.args) != 3 or e.kwargs or e.params:
        return None
    c, x, y = e.args
    if _zero(y) and not _zero(x) and _value(x):
        return c, x, 1, y
    if _zero(x) and not _zero(y) and _value(y):
        return c, y, 2, x
    return None


def _value(a) -> bool:
    # a cotangent: a Var, or a finite float/complex constant (a folded seed;
    # a rule's where(ok, 0.0, nan) makes NaNs on purpose)
    return isinstance(a, Var) or (isinstance(a, Const) and type(a.value) in (float, complex)
                                  and cmath.isfinite(a.value))


def sink_masks(func: Func) -> Func:
    """Move each masking ``where`` of the adjoint code past the elementwise
    steps that follow it (module docstring).  Rewrites ``func``'s blocks in
    place and returns it."""
    where_prim = P.REGISTRY["where"]
    if not any(e.prim is where_prim for e in iter_eqns(func.body)):
        return func
    uses = readers(func)
    _Sinker(where_prim, uses).run(func.body)
    return func


class _Sinker:
    def __init__(self, where_prim, uses):
        self.where = where_prim
        self.uses = uses

    def run(self, block: Block):
        for e in block.eqns:
            for b in e.blocks():
                self.run(b)
        if not any(e.prim is self.where for e in block.eqns):
            return
        self.local = {id(e) for e in block.eqns}     # this block's equations
        self.defs = {o: e for e in block.eqns for o in e.outs}
        self.dead: set = set()
        self.replaced: dict = {}                     # id(eqn) -> its replacement
        self.made: set = set()                       # ids of the moved masks
        self.kept: set = set()                       # unbroadcasts already masked again
        work = [e for e in block.eqns if self._sinkable(e) is not None]
        work.reverse()
        while work:
            e = work.pop()
            if id(e) in self.dead or id(e) in self.replaced:
                continue
            mk = self._sinkable(e)
            if mk is None:
                continue
            m = e.outs[0]
            for u in list(self.uses.get(m, ())):
                if u is None or id(u) not in self.local or id(u) in self.dead \
                        or id(u) in self.replaced:
                    continue
                new = self._step(u, m, mk)
                if new is None:
                    continue
                self.replaced[id(u)] = new
                # the moved mask, and any mask now read by the new step
                work.append(new[-1])
                for a in (a for ne in new for a in ne.atoms() if a is not m):
                    d = self.defs.get(a) if isinstance(a, Var) else None
                    if d is not None and self._sinkable(d) is not None:
                        work.append(d)
            if not self.uses.get(m):
                self.dead.add(id(e))
                self._unuse(e)
        out = []
        self._expand(block.eqns, out)
        block.eqns[:] = out

    def _sinkable(self, e):
        """``_mask(e)`` for a mask of a cotangent: one the adjoint code makes
        (a user's ``where`` in the primal code or its tangent is not one), or
        one this pass moved."""
        if not (_derived(e) or id(e) in self.made):
            return None
        return _mask(e, self.where)

    def _expand(self, eqns, out):
        for e in eqns:
            if id(e) in self.dead:
                continue
            new = self.replaced.get(id(e))
            if new is None:
                out.append(e)
            else:
                self._expand(new, out)

    def _unuse(self, e):
        for a in e.atoms():
            if isinstance(a, Var) and a in self.uses:
                self.uses[a][:] = [x for x in self.uses[a] if x is not e]

    def _step(self, u, m, mk):
        """The equations replacing ``u`` (a use of mask ``m``) with the mask
        moved below it, or None if ``u`` is not a step."""
        c, g, slot, zero = mk
        if len(u.outs) != 1 or u.kwargs or u.params or not _derived(u) or id(u) in self.kept:
            return None
        name = u.prim.name
        args = list(u.args)
        others = {}              # other masks of the same condition, merged
        if name == "multiply" and len(args) == 2:
            pass
        elif name == "divide" and len(args) == 2:
            if args[0] is not m or args[1] is m:
                return None
        elif name in _UNARY and len(args) == 1:
            pass
        elif name in ("add", "subtract") and len(args) == 2:
            for a in args:
                if a is m:
                    continue
                d = self.defs.get(a) if isinstance(a, Var) else None
                mk2 = self._sinkable(d) if d is not None and id(d) not in self.dead else None
                if mk2 is None or mk2[0] is not c or mk2[2] != slot:
                    return None
                others[a] = (d, mk2[1])
        elif name == "where" and len(args) == 3:
            # the same mask again (a mask the unbroadcast step below copied,
            # once the shapes showed the unbroadcast was none): one is enough
            pos = 1 if args[1] is m and _zero(args[2]) else \
                2 if args[2] is m and _zero(args[1]) else 0
            k = args[0]
            d = self.defs.get(k) if isinstance(k, Var) else None
            same = pos and (k is c and pos == slot or
                            pos != slot and d is not None and d.prim.name == "logical_not"
                            and d.args[0] is c and len(d.args) == 1 and not d.kwargs)
            if not same:
                return None
            wargs = (c, g, zero) if slot == 1 else (c, zero, g)
            return self._commit(u, [Eqn(self.where, wargs, {}, u.outs, {}, u.loc)], {})
        elif name == "unbroadcast" and len(args) == 2 and args[0] is m and isinstance(c, Var):
            # (only where a product or quotient follows: a sum that is the
            # gradient itself, or goes on into a matmul, needs no mask)
            if not any(e is not None and e.prim.name in _SCALING for e in
                       self.uses.get(u.outs[0], ())):
                return None
            return self._through_unbroadcast(u, m, c, slot, zero)
        else:
            return None
        new_args = [g if a is m else others[a][1] if a in others else a for a in args]
        scratch = Block()
        val = P.Emitter(scratch, loc=u.loc).call(u.prim, *new_args)
        w = Eqn(self.where, (c, val, zero) if slot == 1 else (c, zero, val), {}, u.outs, {},
                u.loc)
        return self._commit(u, [*scratch.eqns, w], others)

    def _through_unbroadcast(self, u, m, c, slot, zero):
        """``s = unbroadcast(m, x)``, a sum of the mask's positions down to
        x's shape (or nothing, when the shapes turn out equal): ``s`` is 0
        wherever every position summed into it is masked, so it is masked
        again with the positions of x that receive a kept one,
        ``unbroadcast(broadcast_like(c, m), x)`` (a count: nonzero is kept;
        ``not c`` for ``where(c, 0, g)``).  ``m``'s own where stays (the sum
        needs it).  Where the shapes turn out equal, specialisation drops
        both unbroadcasts and the two masks merge again (the where step).""" 
        x = u.args[1]
        scratch = Block()
        em = P.Emitter(scratch, loc=u.loc)
        kept = c if slot == 1 else em.call("logical_not", c)
        keep = em.call("unbroadcast", em.call("broadcast_like", kept, m), x)
        s = Var(u.outs[0].hint)
        s.shape = u.outs[0].shape
        again = Eqn(u.prim, u.args, {}, (s,), {}, u.loc)
        self.kept.add(id(again))
        w = Eqn(self.where, (keep, s, zero), {}, u.outs, {}, u.loc)
        return self._commit(u, [*scratch.eqns, again, w], {})

    def _commit(self, u, new, others):
        """Record ``new`` as ``u``'s replacement (uses, definitions); drop
        merged masks nothing reads any more."""
        self.made.add(id(new[-1]))
        self._unuse(u)
        for ne in new:
            self.local.add(id(ne))
            for o in ne.outs:
                self.defs[o] = ne
            for a in ne.atoms():
                if isinstance(a, Var):
                    self.uses.setdefault(a, []).append(ne)
        for a, (d, _) in others.items():
            if not self.uses.get(a):
                self.dead.add(id(d))
                self._unuse(d)
        return new
