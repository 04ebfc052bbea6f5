"""Preallocated tapes: a loop's saved values in arrays, as BPTT is written by hand.

Expects: a shape-specialised gradient Func (:func:`s2sgrad.specialize.specialize`
runs this pass after ``prune_stacks``) and the examples of its abstract
evaluation (``inf``).

Guarantees: where a ``for`` loop's trip count is known when it starts (no
``break``, the same iterable as its reversed loop), the stacks reverse mode
fills in it become arrays allocated once before the loop and written at
the iteration's position, as a careful hand-written BPTT gradient does::

    h_stack = []                          H = np.empty((50, 16))
    for t in range(50):                   for t in range(50):
        h_stack.append(h)           ->        H[t] = h
        ...                                   ...
    for t_1 in reversed(range(50)):       for t_1 in reversed(range(50)):
        h_2 = h_stack.pop()                   h_2 = H[t_1]

and the per-step factors of the weight gradients hoisted out of the
reversed loop (``_terms.append((g, h_2, x_t))``, then ``unzip`` and one
``np.stack`` per factor after the loop) are written into arrays at the same
positions, so that the stacked factors are those arrays themselves -- a
factor read from a tape is that tape, a row of a loop-invariant array read
by the loop index (``xs[t_1]``) is that array -- and nothing is copied after
the loop.  Memory: one array per saved value, where the lists held every
step's array plus, after the loop, a stacked copy of each.

Which loops: every forward loop paired with the reversed loop that pops
the stacks it pushes (reverse mode nests the pairs, F1 F2 ... B2 B1, so with
several loops over one range each reversed loop is matched through its
stacks, not as "the next loop the other way round"); a reversed loop that
pops nothing takes the nearest earlier unpaired loop.  A reversed loop
with no partner whose trip count is known when it starts -- over
``range(n)`` (a ``while`` loop's reversal, ``reversed(range(n_iter))``) or
over a constant range an outer step saved (an inner loop's) -- writes its
hoisted factors into arrays of that many rows at its index
(:meth:`_Tapes.factors_only`); its forward loop's values stay on lists.

What is converted, and why that is exact:

* a stack with exactly one push, at the top level of the forward loop's
  body, and one pop, at the top level of the reversed loop's body (so the
  k-th pop reads what the k-th last push wrote), created in the block that
  holds both loops, read by nothing else;
* only values whose example is a NumPy array of a fixed shape and dtype in
  every iteration (``T[k] = v`` copies ``v``; ``T[k].copy()`` -- ``T[k, ...]``
  for a 0-d value -- is an array of the same shape and dtype). The row is
  read as a copy so that the tape's alias class (s2sgrad.alias.IRAliases)
  stays its own and its writes are made in place. Python scalars and other
  values stay on a (smaller) list, and so do values something else keeps
  alive (an operand of an equation that retains it, a checkpointed
  segment's closure): a tape would hold a second copy of them;
* positions: the loop index itself when the loops run over a constant
  ``range(0, n)``, else an iteration counter carried by each loop.

* a loop state -- a carry saved as each step starts whose value as the
  step ends the reversed loop hands down (reverse.Reverser.backward_loop)
  -- goes into a tape of n + 1 rows when the trip count is a constant:
  row 0 the initial value, row k + 1 the value as step k ends (code
  generation computes it there, ``h = np.tanh(a, out=H[t + 1])``, see
  codegen.CodeGen._row_is_state), and the reversed loop reads row
  ``t_1 + 1`` instead of carrying the popped row down a step
  (:meth:`_Tapes._state_rows`); a weight gradient's factor that is the
  state as the step starts or ends is rows 0..n-1 or 1..n of that tape;
  a carry saved as each step starts that the reversed loop reads only as
  saved goes into such a tape too (the reversed step reads row k);
* a saved value that is one correctly rounded ufunc of other saved values
  and of loop-invariant values the reversed loop reads anyway (``k * y``)
  is recomputed by the reversed step, not stored (:meth:`_Tapes._remat`);
* an inner loop's state that the outer loop carries too, over constant
  ranges, goes into one tape of n * m + 1 rows (:meth:`_Tapes._nested_states`);
* the constant ``range(m)`` of an inner loop is made again by the reversed
  outer step, not saved on a list of n ranges (:meth:`_Tapes._range_again`);
* a hoisted factor with its weight's shape and dtype (nothing to reduce
  per step) is added up in the reversed loop (:meth:`_Tapes._accumulate`);
* a saved value computed by elementwise ufuncs from the states, rows
  ``xs[t]`` of inputs and loop-invariant values, which nothing else the
  forward step computes needs, is computed once after the forward loop
  over the stacked rows (``E = H[1:] - ys``) and read back by row
  (:meth:`_Tapes._batched`: row k of a ufunc over stacked operands is the
  ufunc over their rows k, the same operation on the same numbers).

A hoisted factor list is converted only as a whole (its factors must stay
paired); its consumers (``stack_steps``) then read the arrays.  The sums
over the steps run in another order than over the stacked lists (forward
instead of backward), which may change the last bits of a weight gradient.
"""
from __future__ import annotations

import numpy as np

from .ir import Block, Const, Eqn, Func, Var, rename_reads
from .peephole import _uses
from .primitives.control import loop_offset
from .primitives.core import REGISTRY
from .primitives.indexing import Slot
from .specialize import _T, _compact


def preallocate(func: Func, inf) -> Func:
    """``func`` with the stacks of known-length loops turned into arrays."""
    uses = _uses(func)
    t = _Tapes(inf, uses)
    t.func = func
    t.block(func.body)
    return func


def _array_example(v):
    return type(v) is np.ndarray


def drop_carry(loop, j):
    """Remove carry ``j`` (a position among the loop's arguments) from
    ``loop``: its body parameter, body result, argument and output."""
    body = loop.params["body"]
    off = loop_offset(loop)
    del body.params[j]
    del body.results[j - off]
    loop.args = loop.args[:j] + loop.args[j + 1:]
    loop.outs = loop.outs[:j - off] + loop.outs[j - off + 1:]


def _narrow_stack(block, new, fb, bb, push, pop, keep_push, keep_pop, reads):
    """After a conversion to tapes: the push/pop pair keeps only the values
    ``keep_push``/``keep_pop`` still on the stack (or goes, with the stack's
    ``new``, when none is left), and ``reads`` go where the pop was.  Returns
    the position in ``bb`` after the reads."""
    if keep_push:
        push.args = (push.args[0],) + tuple(keep_push)
        pop.outs = tuple(keep_pop)
        i = _index_of(bb.eqns, pop) + 1
    else:
        fb.eqns.remove(push)
        i = _index_of(bb.eqns, pop)
        bb.eqns.remove(pop)
        block.eqns.remove(new)
    bb.eqns[i:i] = reads
    return i + len(reads)


class _Tapes:
    def __init__(self, inf, uses):
        self.inf = inf
        self.uses = uses
        self._remat_state = None      # (_remat's tables of one pair of loop bodies)
        self.names: dict = {}         # tape -> (the value it saves, name suffix)

    def val(self, a):
        return a.value if isinstance(a, Const) else self.inf.ex.get(a)

    def block(self, block: Block):
        for e in block.eqns:
            for b in e.blocks():
                self.block(b)
        loops = [e for e in block.eqns
                 if e.prim.name == "for_loop" and e.params.get("break_at") is None]
        # A reversed loop's partner is the loop that pushed the stacks it
        # pops (over the same iterable -- the same Var, or equal constants
        # -- the other way round).  Reverse mode nests the pairs -- F1 F2
        # ... B2 B1 -- so with several loops over one range the first later
        # loop the other way round is not the partner of all but the last
        # (whose stacks then stayed lists).  A reversed loop that pops
        # nothing (it only hoists weight-gradient factors) takes the nearest
        # earlier loop not otherwise paired, the nesting's partner.  Each
        # loop is looked at once (no scan of every later loop per loop).
        pusher: dict = {}
        for k, e in enumerate(loops):
            for x in e.params["body"].eqns:
                if x.prim.name == "push":
                    pusher[x.args[0]] = k
        fwd_of: dict = {}             # reversed loop's position -> its partner's
        taken: set = set()
        later: list = []
        for k, e in enumerate(loops):
            ks = {pusher[x.args[0]] for x in e.params["body"].eqns
                  if x.prim.name == "pop" and x.args[0] in pusher}
            ks = {j for j in ks if j < k and self._paired_keys(loops[j], e)}
            if len(ks) == 1 and not ks & taken:
                fwd_of[k] = ks.pop()
                taken.add(fwd_of[k])
            elif not ks:
                later.append(k)
        for k in later:
            j = next((j for j in range(k - 1, -1, -1) if j not in taken and j not in fwd_of
                      and self._paired_keys(loops[j], loops[k])), None)
            if j is not None:
                fwd_of[k] = j
                taken.add(j)
        # the block's stacks by the equation making them, made once for its
        # pairs (a table of the whole block per pair was quadratic in the
        # number of loops; pairs only remove the new_stack of the stacks they
        # convert, which pair checks, and make none)
        self._created_in = (block, {e.outs[0]: e for e in block.eqns
                                    if e.prim.name == "new_stack"}) if fwd_of else None
        for k, j in sorted(fwd_of.items(), key=lambda kj: kj[1]):
            self.pair(block, loops[j], loops[k])
            self.nested(block, loops[j], loops[k])
        self._created_in = None
        # a reversed loop with no partner (that of a ``while`` loop, whose
        # trip count is known only when the reversal starts): its hoisted
        # weight-gradient factors still go into arrays of its length
        for k, e in enumerate(loops):
            if k not in fwd_of and e.params.get("reverse"):
                self.factors_only(block, e)

    def _paired_keys(self, fwd, bwd) -> bool:
        """Whether ``bwd`` runs over ``fwd``'s iterable the other way round."""
        a, b = self._loop_key(fwd), self._loop_key(bwd)
        return a[0] == b[0] and a[1] != b[1]

    def factors_only(self, block, bwd):
        """The hoisted factors (``_terms.append((g, h))``, unzipped and
        stacked after the loop) of a reversed loop over ``range(n)`` that no
        forward loop pairs with -- the reversal of a ``while`` loop runs
        ``reversed(range(n_iter))`` -- written into arrays of n rows at the
        loop index (``range(n)`` visits 0..n-1 once each, whatever n is at
        run time), allocated when the loop starts.  Only the factors: the
        forward loop's trip count is not known when it starts, so its
        saved values stay on lists."""
        bbody = bwd.params["body"]
        bpushes = {e.args[0]: e for e in bbody.eqns if e.prim.name == "push"}
        if not bpushes:
            return
        it = self.val(bwd.args[0])
        a = bwd.args[0]
        if not isinstance(it, range) or it.start != 0 or it.step != 1:
            return
        static = isinstance(a, Const) or a in self.inf.static
        if not static:
            d = next((e for e in block.eqns if a in e.outs), None)
            if d is not None and d.prim.name == "pop" and self._constant_range(d, a) == it:
                static = True   # (the same constant range every time: an inner loop's)
            elif d is None or d.prim.name != "range" or len(d.args) != 1 or d.kwargs:
                return          # (positions 0..n-1 only for range(n))
        created = {e.outs[0]: e for e in block.eqns if e.prim.name == "new_stack"}
        j = at_of(block, bwd)
        unzips = {e.args[0]: e for e in block.eqns[j + 1:] if e.prim.name == "unzip"}
        factors = [s_ for s_ in bpushes if s_ in unzips and s_ in created and
                   self._only_uses(s_, bpushes[s_], unzips[s_])]
        if not factors:
            return
        mid: list = []
        n = Const(len(it)) if static else self._emit(mid, "len", (a,), hint="n")
        if bbody.params[0].hint in ("", "_"):
            bbody.params[0].hint = "k"          # (the index is read now: ``steps[k] = g``)
        for s_ in factors:
            # (by_index only where the length is a constant: the rows of an
            # input stand for the stacked factor when it has n rows)
            self._convert_factors(block, bwd, created[s_], bpushes[s_], unzips[s_], n,
                                  bbody.params[0], mid, {}, static, it)
        j = at_of(block, bwd)
        block.eqns[j:j] = mid

    # ------------------------------------------------------------ inner loops

    def nested(self, block, fwd, bwd):
        """The values an inner loop saves, in a pair of loops over a constant
        ``range(0, n)``, whose inner loops run over one constant
        ``range(0, m)`` at every step: one tape of n * m rows allocated
        before the outer loop, row ``t * m + l`` written by the inner step l
        of the outer step t and read by the reversed inner step over the
        same l in the reversed outer step over the same t (the layout of a
        C-ordered ``(n, m) + shape`` array, read as ``tape[t, l]``).

        Why this is exact: the stack is pushed once per inner step (the push
        at the top level of the inner loop's body, the inner loop at the
        top level of the outer loop's body, neither loop breaks) and popped
        once per reversed inner step, created in this block and used by
        nothing else; the reversed loops run over the same ranges the other
        way round, so the pop at indices (t, l) reads what the push at
        (t, l) wrote, and (t, l) -> t * m + l is one-to-one on
        range(n) x range(m).  The ranges are constants (every step runs the
        same m indices): the inner forward loop's range is a constant or a
        static value (its example is its value) and the reversed inner
        loop's is the same one -- the same atom, or popped from a stack
        whose one push saves that constant range at the same outer step."""
        it = self.val(fwd.args[0])
        if not isinstance(it, range) or it.start != 0 or it.step != 1 or \
                not (isinstance(fwd.args[0], Const) or fwd.args[0] in self.inf.static):
            return
        fb, bb = fwd.params["body"], bwd.params["body"]
        inner_f = [e for e in fb.eqns if e.prim.name == "for_loop"
                   and e.params.get("break_at") is None]
        inner_b = [e for e in bb.eqns if e.prim.name == "for_loop"
                   and e.params.get("break_at") is None]
        if not inner_f or not inner_b:
            return
        created = {e.outs[0]: e for e in block.eqns if e.prim.name == "new_stack"}
        at = {id(e): i for i, e in enumerate(block.eqns)}
        bpops = {e.outs[i]: e for e in bb.eqns if e.prim.name == "pop"
                 for i in range(len(e.outs))}
        for fi in inner_f:
            m = self._inner_range(fi, fi.args[0], None)
            if m is None:
                continue
            pushes = {e.args[0]: e for e in fi.params["body"].eqns if e.prim.name == "push"}
            for bi in inner_b:
                if bool(bi.params.get("reverse")) == bool(fi.params.get("reverse")) or \
                        self._inner_range(bi, bi.args[0], bpops.get(bi.args[0])) != m:
                    continue
                if not (bi.args[0] is fi.args[0] or isinstance(bi.args[0], Var) and
                        self._pops_range_of(bpops.get(bi.args[0]), bi.args[0], fi.args[0])):
                    continue
                pops = {e.args[0]: e for e in bi.params["body"].eqns if e.prim.name == "pop"}
                saved = [s for s in pushes if s in pops and s in created and
                         at[id(created[s])] < at[id(fwd)] and
                         self._only_uses(s, pushes[s], pops[s])]
                self._remat_prepare(fi.params["body"], bi.params["body"])
                for s in saved:
                    self._convert_nested(block, fwd, bwd, fi, bi, created[s], pushes[s],
                                         pops[s], len(it), len(m))
                self._nested_states(block, fwd, bwd, fi, bi, created, len(it), len(m))
        for bi in inner_b:
            if isinstance(bi.args[0], Var) and bi.args[0] in bpops:
                self._range_again(block, fb, bb, bpops[bi.args[0]], bi.args[0], created)

    def _range_again(self, block, fb, bb, pop, a, created):
        """The constant ``range(m)`` an outer step saves for the reversal of
        its inner loop is made again by the reversed outer step instead of
        being pushed (a list of n range objects, alive until the reversed
        loop ends): ``range`` of integer constants is the same sequence
        whenever it is made.  Only when the stack's one push is at the top
        level of the forward body and its one pop at the top level of the
        reversed body (:meth:`_constant_range`), the stack made in this
        block for them alone."""
        d = None
        r = self._constant_range(pop, a)
        stack = pop.args[0]
        new = created.get(stack)
        pushes = [u for u in self.uses.get(stack, []) if u is not None and u.prim.name == "push"]
        if r is None or new is None or len(pushes) != 1 or \
                not self._only_uses(stack, pushes[0], pop) or \
                not any(e is pushes[0] for e in fb.eqns) or not any(e is pop for e in bb.eqns) \
                or not any(e is new for e in block.eqns):
            return
        push = pushes[0]
        k = list(pop.outs).index(a)
        v = push.args[1 + k]
        if isinstance(v, Var):
            d = self._defs().get(v)
            args = d.args
        else:
            args = tuple(Const(x) for x in (r.start, r.stop, r.step))
        keep_push = [x for i, x in enumerate(push.args[1:]) if i != k]
        keep_pop = [o for i, o in enumerate(pop.outs) if i != k]
        again = Eqn(REGISTRY["range"], tuple(args), {}, (a,), {}, pop.loc)
        _narrow_stack(block, new, fb, bb, push, pop, keep_push, keep_pop, [again])
        self.uses[stack] = [u for u in self.uses.get(stack, []) if u is not push and u is not pop]

    def _nested_states(self, block, fwd, bwd, fi, bi, created, n, m):
        """A state the inner loop ``fi`` carries, saved as each inner step
        starts, that the outer loop ``fwd`` carries too (the inner loop
        starts from the outer state and ends with the next one) -- an
        integrator's ``y``, a stacked RNN's ``h`` -- in one tape of
        n * m + 1 rows, as a hand-written BPTT stores ``H[0..T*L]``: row 0
        the initial state (written before the outer loop), row t * m + l + 1
        the state as inner step l of outer step t ends (written at the end
        of the inner step); the reversed inner step pops row t * m + l, and
        an outer stack saving the outer state as each outer step starts
        reads row t * m.

        Why this is exact: the inner loop runs m >= 1 steps at every outer
        step over a constant range (nested), so by induction the state as
        inner step (t, l) starts is row t * m + l -- for l = 0 the outer
        state as step t starts, the initial state (row 0) or the inner
        loop's output at step t - 1 (row (t - 1) * m + m), for l > 0 the
        state step (t, l - 1) ended with -- and (t, l) -> t * m + l + 1 is
        one-to-one, so every row is written once, before the reversed loops
        read it.  The stacks converted have one push at the top level of
        their forward body and one pop at the top level of the reversed
        one, are created before the loops and used by nothing else; the
        values have one fixed shape and dtype (the examples of the abstract
        evaluation's fixpoint), that of the initial state too."""
        if m < 1 or fwd.params.get("reverse") or fi.params.get("reverse"):
            return
        fb, bb = fwd.params["body"], bwd.params["body"]
        fib, bib = fi.params["body"], bi.params["body"]
        if not any(x is fi for x in fb.eqns) or not any(x is bi for x in bb.eqns):
            return
        off, offi = loop_offset(fwd), loop_offset(fi)
        ipush = {e.args[0]: e for e in fib.eqns if e.prim.name == "push"}
        ipop = {e.args[0]: e for e in bib.eqns if e.prim.name == "pop"}
        opush = {e.args[0]: e for e in fb.eqns if e.prim.name == "push"}
        opop = {e.args[0]: e for e in bb.eqns if e.prim.name == "pop"}
        for i in range(len(fib.params) - offi):
            p = fib.params[offi + i]
            q = fi.args[offi + i]
            if not isinstance(q, Var) or q not in fb.params[off:] or \
                    sum(r is fi.outs[i] for r in fb.results) != 1:
                continue
            iq = fb.params.index(q) - off
            if fb.results[iq] is not fi.outs[i]:
                continue
            ex = self.val(p)
            if not _array_example(ex) or any(
                    not _array_example(x) or x.shape != ex.shape or x.dtype != ex.dtype
                    for x in (self.val(q), self.val(fib.results[i]),
                              self.val(fwd.args[off + iq]))):
                continue
            inner = [(st, e) for st, e in ipush.items() if p in e.args[1:] and st in ipop and
                     st in created and self._only_uses(st, e, ipop[st])]
            if len(inner) != 1:
                continue
            st, push = inner[0]
            pop = ipop[st]
            if len(pop.outs) != len(push.args) - 1 or self._kept_elsewhere_in(p, push, fib):
                continue
            outer = [(so, e) for so, e in opush.items() if q in e.args[1:] and so in opop and
                     so in created and self._only_uses(so, e, opop[so]) and
                     len(opop[so].outs) == len(e.args) - 1]
            self._convert_nested_state(block, fwd, bwd, fi, bi, created, push, pop, p, q, iq,
                                       i, ex, n, m, outer, opop)
            return          # (one state per pair of inner loops: the tables changed)

    def _nested_carry(self, bwd, bi, o, q, iq, fwd, outer, opop, read, t_out, kb, ex):
        """The reversed inner loop's carry handing the state down (the state
        as inner step l ends: the state popped by step l + 1, for the last
        step the reversed outer loop's carry), read as row t * m + l + 1
        instead (reverse.Reverser.backward_loop; _state_rows for one loop),
        and the popped row then read as a view where its readers keep no
        reference.  Only when that carry starts from the reversed outer
        loop's carry of the outer state -- which starts from the forward
        loop's output for it and hands down the outer state popped as each
        outer step starts -- so that at reversed outer step t it is the
        state as outer step t ends, row t * m + m; and nothing reads the
        carry after the inner loop."""
        bb, bib = bwd.params["body"], bi.params["body"]
        offb, offB, off = loop_offset(bi), loop_offset(bwd), loop_offset(fwd)
        js = [j for j in range(offb, len(bib.params)) if bib.results[j - offb] is o]
        if len(js) != 1 or sum(r is o for r in bib.results) != 1:
            return
        j = js[0]
        c, p_end = bi.args[j], bib.params[j]
        if self.uses.get(bi.outs[j - offb]) or any(r is p_end for r in bib.results) or \
                not isinstance(c, Var) or c not in bb.params[offB:]:
            return
        jc = bb.params.index(c)
        oq = [opop[so].outs[list(e.args[1:]).index(q)] for so, e in outer]
        if len(oq) != 1 or bb.results[jc - offB] is not oq[0] or \
                bwd.args[jc] is not fwd.outs[iq] or \
                sum(r is oq[0] for r in bb.results) != 1:
            return
        k1b, row = Var("k"), Var(p_end.hint, shape=p_end.shape)
        row.bar_of = p_end.bar_of
        self.inf.ex[k1b] = 0
        self.inf.ex[row] = self.inf.ex.get(p_end, ex)
        copy = not self._read_only(p_end)
        at = _index_of(bib.eqns, read)
        bib.eqns[at:at] = [
            Eqn(REGISTRY["add"], (kb, Const(1)), {}, (k1b,), {"inline": True}, read.loc),
            Eqn(REGISTRY["getitem"], (t_out, k1b), {}, (row,),
                {"index": self._index(ex), "copy": copy}, read.loc)]
        drop_carry(bi, j)
        rename_reads(bib, {p_end: row})
        # the popped row: a view when its readers, the carry gone, keep no
        # reference to it
        us = self.uses.get(o, [])
        if sum(u is None for u in us) == 1 and \
                all(u is None or _drops(u) for u in us):
            read.params["copy"] = False

    def _kept_elsewhere_in(self, v, push, body):
        self._fwd_body = body
        return self._kept_elsewhere(v, push)

    def _convert_nested_state(self, block, fwd, bwd, fi, bi, created, push, pop, p, q, iq, i,
                              ex, n, m, outer, opop):
        fb, bb = fwd.params["body"], bwd.params["body"]
        fib, bib = fi.params["body"], bi.params["body"]
        off = loop_offset(fwd)
        loc = push.loc
        pre: list = []
        tape = self._alloc(pre, Const(n * m + 1), ex, p, "tape", fwd.loc)
        start = self._emit(pre, "setitem", (tape, fwd.args[off + iq], Const(0)),
                           params={"index": self._index(ex)}, hint=self.names[tape])
        pre[-1].loc = loc
        self.inf.ex[start] = self.inf.ex[tape]
        self.names[start] = self.names[tape]
        # the rows: t * m forward and backward; + l, + l + 1 in the inner steps
        tm_f, tm_b, kf, k1f, kb = Var("tm"), Var("tm"), Var("k"), Var("k"), Var("k")
        for x in (tm_f, tm_b, kf, k1f, kb):
            self.inf.ex[x] = 0
        fb.eqns.insert(0, Eqn(REGISTRY["multiply"], (fb.params[0], Const(m)), {}, (tm_f,), {},
                              fwd.loc))
        bb.eqns.insert(0, Eqn(REGISTRY["multiply"], (bb.params[0], Const(m)), {}, (tm_b,), {},
                              bwd.loc))
        fib.eqns.insert(0, Eqn(REGISTRY["add"], (tm_f, fib.params[0]), {}, (kf,), {}, fi.loc))
        fib.eqns.insert(1, Eqn(REGISTRY["add"], (kf, Const(1)), {}, (k1f,), {"inline": True},
                               fi.loc))
        bib.eqns.insert(0, Eqn(REGISTRY["add"], (tm_b, bib.params[0]), {}, (kb,),
                               {"inline": True}, bi.loc))
        # the tape: a carry of the outer loop, and of the inner loop, which
        # writes row t * m + l + 1 as its step ends
        t_in = Var(self.names[tape])
        self.names[t_in] = self.names[tape]
        fb.params.append(t_in)
        fwd.args = tuple(fwd.args) + (start,)
        self.inf.ex[t_in] = self.inf.ex[tape]
        inner_out = self._write(fi, t_in, k1f, fib.results[i], ex, len(fib.eqns), loc)
        fb.results.append(inner_out)
        t_out = Var(self.names[tape])
        fwd.outs = tuple(fwd.outs) + (t_out,)
        self.inf.ex[t_out] = self.inf.ex[tape]
        # the inner stack: the state popped is row t * m + l
        k_at = list(push.args[1:]).index(p)
        o = pop.outs[k_at]
        keep_push = [v for j, v in enumerate(push.args[1:]) if j != k_at]
        keep_pop = [v for j, v in enumerate(pop.outs) if j != k_at]
        read = Eqn(REGISTRY["getitem"], (t_out, kb), {}, (o,),
                   {"index": self._index(ex), "copy": not self._read_only(o)}, pop.loc)
        _narrow_stack(block, created[push.args[0]], fib, bib, push, pop, keep_push, keep_pop,
                      [read])
        self._nested_carry(bwd, bi, o, q, iq, fwd, outer, opop, read, t_out, kb, ex)
        # an outer stack saving the outer state as each outer step starts:
        # row t * m
        for so, e in outer:
            q_pop = opop[so]
            j = list(e.args[1:]).index(q)
            oq = q_pop.outs[j]
            kp = [v for jj, v in enumerate(e.args[1:]) if jj != j]
            kq = [v for jj, v in enumerate(q_pop.outs) if jj != j]
            r = Eqn(REGISTRY["getitem"], (t_out, tm_b), {}, (oq,),
                    {"index": self._index(ex), "copy": not self._read_only(oq)}, q_pop.loc)
            _narrow_stack(block, created[so], fb, bb, e, q_pop, kp, kq, [r])
        at = at_of(block, fwd)
        block.eqns[at:at] = pre

    def _inner_range(self, loop, a, pop):
        """The constant ``range(0, m)`` a loop runs over at every step of the
        loop around it, else None."""
        r = self.val(a)
        if not isinstance(r, range) or r.start != 0 or r.step != 1:
            return None
        if isinstance(a, Const) or a in self.inf.static:
            return r
        if pop is not None and self._constant_range(pop, a) == r:
            return r
        return None

    def _pops_range_of(self, pop, a, fa) -> bool:
        """Whether ``a`` is popped from a stack whose one push saves ``fa``."""
        if pop is None:
            return False
        stack = pop.args[0]
        pushes = [u for u in self.uses.get(stack, []) if u is not None and u.prim.name == "push"]
        if len(pushes) != 1 or not self._only_uses(stack, pushes[0], pop) or \
                len(pushes[0].args) != len(pop.outs) + 1:
            return False
        return pushes[0].args[1 + list(pop.outs).index(a)] is fa

    def _convert_nested(self, block, fwd, bwd, fi, bi, new, push, pop, n, m):
        fb, bb = fwd.params["body"], bwd.params["body"]
        fib, bib = fi.params["body"], bi.params["body"]
        self._fwd_body = fib
        items = [self.val(v) for v in push.args[1:]]
        keep_push, keep_pop, reads, pre = [], [], [], []
        at = _index_of(fib.eqns, push)
        index = None
        # (values computed by the inner step only: a state the inner loop
        # carries, or a value from outside it, the list shares with the
        # loop where a tape would copy it every step -- measured slower,
        # benchmarks/bench_loop_tapes.py; a state's rows computed in place
        # as _state_rows does for one loop is not done for inner loops)
        computed = {o for e in fib.eqns for o in e.outs}
        remat = False
        self._pop_body = bib
        for v, o, ex in zip(push.args[1:], pop.outs, items):
            if not _array_example(ex) or not isinstance(v, Var) or v not in computed or \
                    self._kept_elsewhere(v, push):
                keep_push.append(v)
                keep_pop.append(o)
                continue
            if self._remat(v, o, push, pop, fb, bb, keep_pop, reads):
                remat = True
                continue
            if index is None:
                # the rows: t * m + l forward, t_1 * m + l_1 backward
                tm_f, tm_b, kf, kb = Var("tm"), Var("tm"), Var("k"), Var("k")
                fb.eqns.insert(0, Eqn(REGISTRY["multiply"], (fb.params[0], Const(m)), {},
                                      (tm_f,), {}, fwd.loc))
                bb.eqns.insert(0, Eqn(REGISTRY["multiply"], (bb.params[0], Const(m)), {},
                                      (tm_b,), {}, bwd.loc))
                fib.eqns.insert(0, Eqn(REGISTRY["add"], (tm_f, fib.params[0]), {}, (kf,),
                                       {"inline": True}, fi.loc))
                at += 1
                for x in (tm_f, tm_b, kf, kb):
                    self.inf.ex[x] = 0
                index = (kf, tm_b, kb)
            kf, tm_b, kb = index
            tape = self._alloc(pre, Const(n * m), ex, v, "tape", fwd.loc)
            # the tape is a carry of both forward loops, written in the inner
            t_in = Var(self.names[tape])
            self.names[t_in] = self.names[tape]
            fb.params.append(t_in)
            fwd.args = tuple(fwd.args) + (tape,)
            self.inf.ex[t_in] = self.inf.ex[tape]
            inner_out = self._write(fi, t_in, kf, v, ex, at, push.loc)
            at += 1
            fb.results.append(inner_out)
            t_out = Var(self.names[tape])
            fwd.outs = tuple(fwd.outs) + (t_out,)
            self.inf.ex[t_out] = self.inf.ex[tape]
            reads.append(Eqn(REGISTRY["getitem"], (t_out, kb), {}, (o,),
                             {"index": self._index(ex), "copy": not self._read_only(o)},
                             pop.loc))
        if not reads and not remat:
            return
        _narrow_stack(block, new, fib, bib, push, pop, keep_push, keep_pop, reads)
        if index is None:
            return
        self.names[index[0]] = "k"
        kb_eqn = Eqn(REGISTRY["add"], (index[1], bib.params[0]), {}, (index[2],),
                     {"inline": True}, bi.loc)
        if not any(e.outs and e.outs[0] is index[2] for e in bib.eqns):
            bib.eqns.insert(0, kb_eqn)
        i = at_of(block, fwd)
        block.eqns[i:i] = pre

    def _constant_range(self, pop, a):
        """The range popped as ``a`` by ``pop`` when the stack's one push
        always pushes the same constant range -- ``range(n)`` of integer
        constants, made in an outer loop's body, saved for the reversal of
        the inner loop over it -- else None."""
        stack = pop.args[0]
        pushes = [u for u in self.uses.get(stack, []) if u is not None and u.prim.name == "push"]
        if len(pushes) != 1 or len(pushes[0].args) != len(pop.outs) + 1:
            return None
        v = pushes[0].args[1 + list(pop.outs).index(a)]
        if isinstance(v, Const):
            return v.value if type(v.value) is range else None
        d = self._defs().get(v)
        if d is None or d.prim.name != "range" or d.kwargs or \
                not all(isinstance(x, Const) and type(x.value) is int for x in d.args):
            return None
        return range(*(x.value for x in d.args))

    def _defs(self):
        got = self.__dict__.get("_def_table")
        if got is None:
            from .ir import iter_eqns
            got = self._def_table = {o: e for e in iter_eqns(self.func.body) for o in e.outs}
        return got

    @staticmethod
    def _loop_key(e):
        """A loop's iterable (the Var, or a constant's value) and direction."""
        a = e.args[0]
        return ("const", a.key()) if isinstance(a, Const) else a, bool(e.params.get("reverse"))

    # ------------------------------------------------------------ one pair

    def pair(self, block, fwd, bwd):
        fbody, bbody = fwd.params["body"], bwd.params["body"]
        pushes = {e.args[0]: e for e in fbody.eqns if e.prim.name == "push"}
        pops = {e.args[0]: e for e in bbody.eqns if e.prim.name == "pop"}
        bpushes = {e.args[0]: e for e in bbody.eqns if e.prim.name == "push"}
        if not bpushes and not any(s in pops for s in pushes):
            return          # (nothing to convert: no look at the whole block)
        eqns = block.eqns
        i_fwd, i_bwd = at_of(block, fwd), at_of(block, bwd)
        cached = self.__dict__.get("_created_in")
        made = cached[1] if cached is not None and cached[0] is block else \
            {e.outs[0]: e for e in eqns if e.prim.name == "new_stack"}

        def created_before(s, end):
            # s's new_stack, if it is in the block before position ``end``
            # (list.index: identity, as Eqn has no __eq__; at C speed)
            d = made.get(s)
            if d is None:
                return None
            try:
                eqns.index(d, 0, end)
            except ValueError:
                return None
            return d
        created = {}
        # saved values: pushed in fwd, popped in bwd
        for s in pushes:
            if s in pops:
                d = created_before(s, i_fwd)
                if d is not None:
                    created[s] = d
        saved = [s for s in pushes if s in created and self._only_uses(s, pushes[s], pops[s])]
        # hoisted factors: pushed in bwd, unzipped after it
        unzips = {e.args[0]: e for e in eqns[i_bwd + 1:] if e.prim.name == "unzip"} \
            if bpushes else {}
        for s in bpushes:
            if s in unzips and s not in created:
                d = created_before(s, len(eqns))
                if d is not None:
                    created[s] = d
        factors = [s for s in bpushes if s in unzips and s in created and
                   self._only_uses(s, bpushes[s], unzips[s])]
        if not saved and not factors:
            return
        it = self.val(fwd.args[0])
        if not isinstance(it, range):
            return
        n_static = isinstance(fwd.args[0], Const) or fwd.args[0] in self.inf.static
        by_index = n_static and it.start == 0 and it.step == 1
        pre: list = []            # equations before fwd (allocations, the length)
        mid: list = []            # equations before bwd
        n = Const(len(it)) if n_static else self._emit(pre, "len", (fwd.args[0],), hint="n")
        if by_index:
            kf, kb = fbody.params[0], bbody.params[0]
        else:
            kf, kb = self._counters(fwd, bwd, n, mid)
        tape_of: dict = {}        # popped Var -> (tape output Var)
        self._by_index = by_index
        self._states: dict = {}   # forward state (carry, or result) -> its rows
        self._remat_prepare(fbody, bbody)
        for s in saved:
            self._convert_saved(block, fwd, bwd, created[s], pushes[s], pops[s], n, kf, kb,
                                pre, tape_of, mid)
        for s in factors:
            self._convert_factors(block, bwd, created[s], bpushes[s], unzips[s], n, kb, mid,
                                  tape_of, by_index, it)
        i = at_of(block, fwd)
        block.eqns[i:i] = pre
        j = at_of(block, bwd)
        block.eqns[j:j] = mid

    def _remat_prepare(self, fbody, pbody):
        """_remat's table of the values saved in a pair of loop bodies (a
        forward body ``fbody``, the reversed body ``pbody`` popping them),
        made before any of their stacks is converted: saved Var -> (the Var
        popped for it, the pop)."""
        pops = {e.args[0]: e for e in pbody.eqns if e.prim.name == "pop"}
        pushed: dict = {}
        for e in fbody.eqns:
            if e.prim.name == "push" and e.args[0] in pops and \
                    self._only_uses(e.args[0], e, pops[e.args[0]]):
                q = pops[e.args[0]]
                if len(q.outs) == len(e.args) - 1:
                    for w, ow in zip(e.args[1:], q.outs):
                        pushed.setdefault(w, (ow, q))
        self._remat_state = (fbody, pbody, pushed, set(), set())

    def _remat(self, v, o, push, pop, fb, bb, keep_pop, reads):
        """A saved value the reversed step recomputes instead of a tape
        (a hand-written BPTT's ``c = k * Y[i]`` where it saved only ``Y``):
        ``v = f(w, c, ...)`` by one correctly rounded elementwise ufunc
        (_EXACT) of saved values ``w`` and of values from outside the forward
        loop (body ``fb``) that the reversed loop (body ``bb``) reads already
        (so none lives longer).  The reversed step then computes the popped
        ``o`` as ``f(o_w, c, ...)``: the same operation on the same numbers.

        Why ``o_w`` is ``w`` of the same step: ``w`` is pushed by ``push``
        itself or by another push at the top level of the same body, onto a
        stack that push and one pop at the top level of ``pop``'s body alone
        use; the two stacks then see the same sequence of pushes and pops,
        so their k-th pops return what one run of the step pushed.  The IR's
        values are immutable, and a row read from a tape is a copy or view
        of ``w``'s numbers, of its shape and dtype.  The equation is placed
        after both pops (rows read where a pop was go before it).  A value
        recomputed is no source of another, nor is a source recomputed.
        Returns whether ``v`` is recomputed (the equation is in place)."""
        pbody = self._pop_body
        st = self._remat_state
        if st is None or st[0] is not self._fwd_body or st[1] is not pbody:
            return False
        pushed, done, sources = st[2:5]
        if len(st) == 5:
            st += (_defined(fb), set(), {x: e for e in st[0].eqns for x in e.outs})
            for e in bb.eqns:
                _gather_reads(e, st[6])
            self._remat_state = st
        inside, read, defs = st[5:]
        d = defs.get(v)
        if v in sources or d is None or d.prim.name not in _EXACT or d.kwargs or \
                len(d.outs) != 1 or d.blocks() or set(d.params) - {"spelling"}:
            return False
        mine = list(push.args[1:])
        args, used, anchors = [], [], [pop]
        for a in d.args:
            if isinstance(a, Const):
                args.append(a)
            elif not isinstance(a, Var):
                return False
            elif a not in inside:
                if a not in read:
                    return False
                args.append(a)
            elif a in pushed and a is not v and a not in done:
                ow, q = pushed[a]
                # after the equation defining ``o_w`` in the step: its pop, or
                # the row read where its pop was (its stack converted already)
                at = next((e for e in pbody.eqns if ow in e.outs), None)
                if q is pop and mine.index(a) < mine.index(v):
                    # (converted already: its pop is kept, or a row read
                    # going where the pop is defines it)
                    if ow not in keep_pop and not any(ow in e.outs for e in reads):
                        return False
                elif q is not pop and at is None:
                    return False
                if at is not None:
                    anchors.append(at)
                args.append(ow)
                used.append(a)
            else:
                return False
        if not used:
            return False
        e = Eqn(d.prim, tuple(args), {}, (o,), dict(d.params), d.loc)
        for a in args:
            if isinstance(a, Var):
                self.uses.setdefault(a, []).append(e)
        i = max(_index_of(pbody.eqns, q) for q in anchors)
        pbody.eqns.insert(i + 1, e)
        done.add(v)
        sources.update(used)
        return True

    def _kept_elsewhere(self, v, push) -> bool:
        """Whether something besides the stack may keep ``v`` alive (a
        checkpointed step's tape, a container, another stack: an equation
        that retains its operands, s2sgrad.alias.retains): then a tape would
        hold a second copy of it, where the stack shares the one array."""
        from .alias import retains
        if any(u is not push and (u is None or retains(u)) for u in self.uses.get(v, [])):
            return True
        # read inside a region of the loop body (a checkpointed segment's
        # closure, which its tape keeps).  What the regions read is gathered
        # once per push (its values are asked about in turn; converting them
        # adds no regions to the body): one scan, not one per value
        cached = self.__dict__.get("_region_reads")
        if cached is None or cached[0] is not push or cached[1] is not self._fwd_body:
            read: set = set()
            for e in self._fwd_body.eqns:
                if e.blocks():
                    _gather_reads(e, read)
            cached = self._region_reads = (push, self._fwd_body, read)
        return v in cached[2]

    def _read_only(self, o) -> bool:
        """Whether every reader of the popped ``o`` keeps no reference to it
        (elementwise operations, products, reductions: s2sgrad.alias.
        drops_references): then its row is read as a view, which nothing
        writes and no alias class joins."""
        from .alias import drops_references
        us = self.uses.get(o, [])
        return bool(us) and all(u is not None and drops_references(u) for u in us)

    def _only_uses(self, s, *eqns) -> bool:
        us = self.uses.get(s, [])
        return len(us) == len(eqns) and all(any(u is e for e in eqns) for u in us)

    def _emit(self, out, prim, args, kwargs=None, params=None, hint=""):
        v = Var(hint)
        out.append(Eqn(REGISTRY[prim], tuple(args), dict(kwargs or {}), (v,), dict(params or {}),
                       None))
        return v

    def _counters(self, fwd, bwd, n, mid):
        """Iteration positions carried by the two loops: 0, 1, ... forward and
        n - 1, n - 2, ... backward."""
        k_in, k_out = Var("k", shape=None), Var("k")
        fb = fwd.params["body"]
        k_next = Var("k")
        fb.eqns.insert(0, Eqn(REGISTRY["add"], (k_in, Const(1)), {}, (k_next,), {}, fwd.loc))
        fb.params.append(k_in)
        fb.results.append(k_next)
        fwd.args = tuple(fwd.args) + (Const(0),)
        fwd.outs = tuple(fwd.outs) + (k_out,)
        last = self._emit(mid, "subtract", (n, Const(1)), hint="k")
        j_in, j_out, j_next = Var("k"), Var("k"), Var("k")
        bb = bwd.params["body"]
        bb.eqns.insert(0, Eqn(REGISTRY["subtract"], (j_in, Const(1)), {}, (j_next,), {},
                              bwd.loc))
        bb.params.append(j_in)
        bb.results.append(j_next)
        bwd.args = tuple(bwd.args) + (last,)
        bwd.outs = tuple(bwd.outs) + (j_out,)
        for v, x in ((k_in, 0), (k_next, 1), (j_in, 0), (j_next, 0)):
            self.inf.ex[v] = x
        return k_in, j_in

    def _alloc(self, out, n, example, of, suffix, loc):
        """``np.empty((n,) + example.shape, example.dtype)``, named after ``of``."""
        if isinstance(n, Const):
            shape_atom = Const((n.value,) + example.shape)
        else:
            shape_atom = self._emit(out, "make_tuple",
                                    (n,) + tuple(Const(d) for d in example.shape), hint="shape")
        tape = self._emit(out, "empty", (shape_atom,), {"dtype": Const(example.dtype.type)})
        out[-1].loc = loc
        if isinstance(n, Const):
            self.inf.ex[tape] = _compact((n.value,) + example.shape, example.dtype)
        # named after a user's variable (h_tape), never through another
        # value's name (naming that early would keep code generation from
        # reusing its buffer)
        stem = of.hint if of.bar_of is None and of.hint.isidentifier() and \
            not of.hint.startswith("_") else ""
        tape.hint = self.names[tape] = f"{stem}_{suffix}" if stem else suffix
        return tape

    @staticmethod
    def _index(example):
        return (Slot(0), Ellipsis) if example.ndim == 0 else Slot(0)

    def _write(self, loop, tape, k, v, example, at, loc):
        """Make ``tape`` a carry of ``loop`` written at ``k`` with ``v`` (by an
        equation inserted at position ``at`` of the body); returns the loop's
        output (the filled tape)."""
        body = loop.params["body"]
        t_in, t_next, t_out = (Var(self.names[tape]) for _ in range(3))
        body.eqns.insert(at, Eqn(REGISTRY["setitem"], (t_in, v, k), {}, (t_next,),
                                 {"index": self._index(example)}, loc))
        body.params.append(t_in)
        body.results.append(t_next)
        loop.args = tuple(loop.args) + (tape,)
        loop.outs = tuple(loop.outs) + (t_out,)
        if tape in self.inf.ex:
            for v in (t_in, t_next, t_out):
                self.inf.ex[v] = self.inf.ex[tape]
        return t_out

    def _state_carry(self, fwd, bwd, v, o, n):
        """The reversed loop's carry that hands down the state ``v`` (a
        forward carry saved at the start of each step, popped as ``o``):
        its position j when it starts from the forward loop's output for
        ``v`` and passes ``o`` on, and nothing reads it after the loop;
        else None.  (reverse.Reverser.backward_loop: a carry's value at
        the end of step t is its value at the start of step t+1.)"""
        if not isinstance(n, Const):
            return None
        fb, bb = fwd.params["body"], bwd.params["body"]
        off = loop_offset(fwd)
        if v not in fb.params[off:]:
            return None
        out = fwd.outs[fb.params.index(v) - off]
        js = [j for j in range(loop_offset(bwd), len(bb.params))
              if bb.results[j - loop_offset(bwd)] is o and bwd.args[j] is out]
        if len(js) != 1:
            return None
        j = js[0]
        if self.uses.get(bwd.outs[j - loop_offset(bwd)]) or \
                sum(r is o for r in bb.results) != 1 or \
                any(r is bb.params[j] for r in bb.results):
            return None
        return j

    def _convert_saved(self, block, fwd, bwd, new, push, pop, n, kf, kb, pre, tape_of, mid):
        self._fwd_body = fwd.params["body"]
        # (the examples of the pushed values hold in every iteration: the
        # abstract evaluation iterated the loop to a fixpoint)
        items = [self.val(v) for v in push.args[1:]]
        keep_push, keep_pop = [], []
        reads = []
        fb, bb = fwd.params["body"], bwd.params["body"]
        at = _index_of(fb.eqns, push)
        self._rows_done = []          # (eqns reading a state's rows, at the body's top)
        self._body_index = None       # (_batched's tables of the body, made once per push)
        remat = False                 # (a value recomputed in the reversed step, _remat)
        self._pop_body = bb
        for v, o, ex in zip(push.args[1:], pop.outs, items):
            if not _array_example(ex) or not isinstance(v, Var) or self._kept_elsewhere(v, push):
                keep_push.append(v)
                keep_pop.append(o)
                continue
            batched = self._batched(fwd, v, ex, n, kf, mid, push)
            scaled = None if batched is None else \
                self._scaled_rows(bb, o, ex, batched, n, kb, mid)
            if scaled is not None:
                reads.append(scaled)
                continue
            if batched is not None:
                # computed once after the loop from the states' rows (nothing
                # writes it: a view of its row is printed where it is read)
                copy = not self._read_only(o)
                reads.append(Eqn(REGISTRY["getitem"], (batched, kb), {}, (o,),
                                 {"index": self._index(ex), "copy": copy} |
                                 ({} if copy else {"inline": True}), pop.loc))
                continue
            # (a state's rows are 0..n in the order the steps run: only for a
            # loop that runs forward -- the reversed loop of a gradient that
            # is differentiated again pushes too, its steps run n-1..0)
            j = None if fwd.params.get("reverse") else self._state_carry(fwd, bwd, v, o, n)
            if j is None and not fwd.params.get("reverse") and isinstance(n, Const) and \
                    v in fb.params[loop_offset(fwd):]:
                j = -1      # (a state the reversed loop reads only as popped)
            if j is not None:
                # A loop state: one more row, the state after the last step
                # (tape[k] is the state as step k starts, k = 0..n), as a
                # hand-written BPTT stores H[0..T].  The reversed loop's
                # carry of the state as step k ends reads row k + 1 where it
                # lives instead of handing the popped row down a step.
                self._state_rows(bwd, fwd, v, o, j, n, kf, kb, ex, push.loc, pop.loc,
                                 pre, mid, tape_of)
                at += 1               # (its row index went first in the body)
                continue
            if self._remat(v, o, push, pop, fb, bb, keep_pop, reads + self._rows_done):
                remat = True
                continue
            tape = self._alloc(pre, n, ex, v, "tape", fwd.loc)
            t_out = self._write(fwd, tape, kf, v, ex, at, push.loc)
            at += 1
            # the row is read as a copy (one row per step): as a view it
            # would join the tape to the alias class (s2sgrad.alias.IRAliases:
            # one class per loop carry, per opaque call) of whatever it flows
            # into -- the reversed loop's carried state ``h_1 = h_2``, a
            # checkpointed step's operands -- which may hold the forward
            # loop's state, and the tape's writes ``T[k] = h`` could then not
            # be made in place: each would copy the whole tape
            reads.append(Eqn(REGISTRY["getitem"], (t_out, kb), {}, (o,),
                             {"index": self._index(ex), "copy": not self._read_only(o)},
                             pop.loc))
            tape_of[o] = t_out
        if not reads and not self._rows_done and not remat:
            return
        _narrow_stack(block, new, fb, bb, push, pop, keep_push, keep_pop, reads)
        bb.eqns[0:0] = self._rows_done

    def _state_rows(self, bwd, fwd, v, o, j, n, kf, kb, ex, loc, pop_loc, pre, mid, tape_of):
        """``v`` (a forward state) into a tape of n + 1 rows, the reversed
        loop's carry ``j`` of the next state replaced by a read of row k + 1.

        Why this is exact: row 0 holds the initial state (written before the
        loop), row k + 1 the state as step k ends (written at the end of the
        step), so row k is the state as step k starts and row n the loop's
        output; the reversed step k's carry is the state as step k ends --
        the forward output for k = n - 1, then the popped row k + 1
        (reverse.Reverser.backward_loop) -- which is row k + 1 either way.
        The tape is written only before the reversed loop starts, each row
        once, so its rows are read as views where every reader keeps no
        reference to them (codegen's in-place writes skip aliases defined
        after the write; tapes never join a loop carry's alias class)."""
        bb, fb = bwd.params["body"], fwd.params["body"]
        off = loop_offset(fwd)
        i = fb.params.index(v) - off
        tape = self._alloc(pre, Const(n.value + 1), ex, v, "tape", fwd.loc)
        # row 0: the initial state, before the loop; row k + 1: the state as
        # step k ends, written at the end of the step
        start = self._emit(pre, "setitem", (tape, fwd.args[off + i], Const(0)),
                           params={"index": self._index(ex)}, hint=self.names[tape])
        pre[-1].loc = loc
        self.inf.ex[start] = self.inf.ex[tape]
        self.names[start] = self.names[tape]
        k1f = Var("k")
        self.inf.ex[k1f] = 1
        # (the row index first: the step's state may be computed in its row)
        # (printed at its use -- H[t + 1] -- when the position is the loop
        # index, which no statement of the body rebinds; a counter is)
        inline = {"inline": True} if self._by_index else {}
        fb.eqns.insert(0, Eqn(REGISTRY["add"], (kf, Const(1)), {}, (k1f,), dict(inline), loc))
        full = self._write(fwd, start, k1f, fb.results[i], ex, len(fb.eqns), loc)
        self._states[v] = (full, 0)
        self._states[fb.results[i]] = (full, 1)
        # the rows of the states as the steps start (a hoisted factor's steps)
        first = Var(self.names[tape])
        mid.append(Eqn(REGISTRY["getitem"], (full,), {}, (first,),
                       {"index": slice(None, n.value, None)}, pop_loc))
        self.inf.ex[first] = _compact((n.value,) + ex.shape, ex.dtype)
        if j < 0:
            # no carry of the reversed loop hands the state down: the popped
            # row is row k, the state as step k starts (a view where its
            # readers keep no reference: the tape is not written again)
            copy = not self._read_only(o)
            self._rows_done.append(Eqn(REGISTRY["getitem"], (full, kb), {}, (o,),
                                       {"index": self._index(ex), "copy": copy}, pop_loc))
            tape_of[o] = first
            return
        state = bb.params[j]
        k1 = Var("k")
        self.inf.ex[k1] = 1
        row = Var(state.hint, shape=state.shape)
        row.bar_of = state.bar_of
        self.inf.ex[row] = self.inf.ex.get(state, ex)
        # (``H[t_1 + 1]`` printed at its use when read once: the tape is not
        # written in the reversed loop, so the view reads the same there)
        copy = not self._read_only(state)
        self._rows_done += [
            Eqn(REGISTRY["add"], (kb, Const(1)), {}, (k1,), dict(inline), pop_loc),
            Eqn(REGISTRY["getitem"], (full, k1), {}, (row,),
                {"index": self._index(ex), "copy": copy} | ({} if copy else inline), pop_loc)]
        drop_carry(bwd, j)
        rename_reads(bb, {state: row})
        # the states as the steps end, rows 1..n (a hoisted factor's steps)
        last = Var(self.names[tape])
        mid.append(Eqn(REGISTRY["getitem"], (full,), {}, (last,),
                       {"index": slice(1, n.value + 1, None)}, pop_loc))
        self.inf.ex[last] = _compact((n.value,) + ex.shape, ex.dtype)
        tape_of[row] = last
        # the popped row: read only where something else still reads it
        if any(u is not None for u in self.uses.get(o, [])):
            self._rows_done.append(Eqn(REGISTRY["getitem"], (full, kb), {}, (o,),
                                       {"index": self._index(ex), "copy": True}, pop_loc))
            tape_of[o] = first

    def _batched(self, fwd, w, ex, n, kf, mid, push):
        """A saved value computed by one elementwise ufunc from the loop's
        states and rows of its inputs, ``w = h - ys[t]``, as one operation
        over the whole loop after it, ``W = H[1:] - ys`` (hand-written BPTT's
        ``E = H[1:] - ys``): the Var of W (equations appended to ``mid``),
        else None.

        Exact: row k of a ufunc over stacked operands is the ufunc over row k
        of each (the same elementwise operation on the same numbers).  Each
        operand is a forward state whose rows are on a tape
        (:meth:`_state_rows`: the state as step k starts, row k, or ends,
        row k + 1), a row ``xs[k]`` of an array from outside the loop read by
        the loop index with exactly n rows (then ``xs`` itself), or a value
        from outside the loop (a constant); the stacked operands have the
        step's shape and dtype of ``w`` in every row, so broadcasting a value
        from outside the loop (at most the step's dimensions: the step's
        result has them) is the same per row as per step."""
        if not self._by_index or not isinstance(n, Const) or not self._states:
            return None
        fb = fwd.params["body"]
        # what the body defines and by which equation, made once per push:
        # converting its values inserts only tape writes and their carries
        # (new Vars, which no equation of the step reads), so the tables
        # still answer for every operand of the step's own equations
        if self._body_index is None:
            self._body_index = (_defined(fb) | set(fb.params),
                                {o: e for e in fb.eqns for o in e.outs})
        inside, defs = self._body_index
        eqns: list = []
        memo: dict = {}

        def stacked(a, depth=0):
            """``a`` over every step (a Var of n rows), else None."""
            if a in memo:
                return memo[a]
            ax = self.val(a)
            if not _array_example(ax) or depth > 8:
                return None
            out = None
            if a in self._states:
                full, shift = self._states[a]
                out = Var(a.hint)
                eqns.append(Eqn(REGISTRY["getitem"], (full,), {}, (out,),
                                {"index": slice(shift or None, n.value + shift, None)}, None))
            else:
                d = defs.get(a)
                if d is None or len(d.outs) != 1 or d.kwargs or d.blocks():
                    return None
                x = d.args[0] if d.args else None
                if d.prim.name == "getitem":
                    # xs[t]: a row of an array from outside the loop, n rows
                    if len(d.args) != 2 or d.args[1] is not kf or \
                            d.params.get("index") not in (Slot(0), (Slot(0),)) or \
                            not isinstance(x, Var) or x in inside or \
                            not _array_example(self.val(x)) or \
                            self.val(x).shape != (n.value,) + ax.shape or \
                            self.val(x).dtype != ax.dtype:
                        return None
                    memo[a] = x
                    return x
                if d.prim.name not in _BATCHED or set(d.params) - {"spelling"}:
                    return None
                args, rows = [], 0
                for b in d.args:
                    if isinstance(b, Const) or b not in inside:
                        bx = self.val(b)
                        if not isinstance(bx, (int, float, np.generic, np.ndarray)) or \
                                np.ndim(bx) > ax.ndim:
                            return None
                        args.append(b)
                        continue
                    bx = self.val(b)
                    if not _array_example(bx) or bx.shape != ax.shape or bx.dtype != ax.dtype:
                        return None
                    sb = stacked(b, depth + 1)
                    if sb is None:
                        return None
                    args.append(sb)
                    rows += 1
                if not rows:
                    return None         # (loop-invariant: not stacked)
                out = Var(a.hint)
                out.bar_of = a.bar_of
                eqns.append(Eqn(d.prim, tuple(args), {}, (out,), dict(d.params), d.loc))
            self.inf.ex[out] = _compact((n.value,) + ax.shape, ax.dtype)
            memo[a] = out
            return out

        if w not in defs or defs[w].prim.name == "getitem":
            del stacked
            return None                 # (a row of an input: read where it lives already)
        out = stacked(w)
        del stacked         # (a recursive closure: a reference cycle holding the tables)
        # worth it only when the step's own computation goes (nothing else
        # the forward loop computes reads it): else each value would be
        # computed twice, where saving it costs a copy of one row per step
        live = self._live(fwd, push) if out is not None else set()
        if any(a in live for a in memo if a in defs and a not in self._states and
               defs[a].prim.name != "getitem"):
            return None
        if out is None:
            return None
        for e in eqns:
            if e.loc is None:
                e.loc = defs[w].loc
        mid.extend(eqns)
        return out

    def _scaled_rows(self, bb, o, ex, batched, n, kb, mid):
        """A row ``o`` of a stacked value batched after the loop that the
        reversed step reads only to multiply it by a constant scalar (a mean's ``c * E[t]``, the
        cotangent of a per-step mean loss): the product over every row at
        once after the forward loop, ``E *= c`` (hand-written BPTT's
        ``E = (H[1:] - ys) * c``), and the step reads its row.  The step
        then adds a row to its carried cotangent, which code generation
        does in the carry's buffer (``h_bar += E[t]``), where ``c * E[t]``
        took the row of the step's tape and left the step's other factor a
        fresh temporary.  (Not for a tape the forward loop filled, whose
        value the step needed: the product would be a second array of n
        rows while the tape lives -- measured +1 tape in peak memory --
        where the batched value is fresh and scaled in place.)  Exact: the
        same multiplication of each element by the same scalar, of the same
        dtypes (the product's example has the row's shape and dtype: no
        broadcasting, no promotion by the row).
        Returns the equation reading the product's row (the multiply is
        removed from the step), else None."""
        us = self.uses.get(o, [])
        if not isinstance(n, Const) or len(us) != 1 or us[0] is None:
            return None
        u = us[0]
        if u.prim.name != "multiply" or u.kwargs or len(u.args) != 2 or len(u.outs) != 1 or \
                u.blocks() or set(u.params) - {"spelling"} or \
                not any(x is u for x in bb.eqns) or sum(a is o for a in u.args) != 1:
            return None
        c = u.args[1] if u.args[0] is o else u.args[0]
        if not isinstance(c, Const) or type(c.value) not in (float, int) or \
                type(c.value) is bool:
            return None
        ux = self.val(u.outs[0])
        if not _array_example(ux) or ux.shape != ex.shape or ux.dtype != ex.dtype:
            return None
        scaled = Var(o.hint)
        scaled.bar_of = o.bar_of
        mid.append(Eqn(u.prim, tuple(batched if a is o else a for a in u.args), {}, (scaled,),
                       dict(u.params), u.loc))
        self.inf.ex[scaled] = _compact((n.value,) + ex.shape, ex.dtype)
        copy = not self._read_only(u.outs[0])
        row = Eqn(REGISTRY["getitem"], (scaled, kb), {}, (u.outs[0],),
                  {"index": self._index(ex), "copy": copy} | ({} if copy else {"inline": True}),
                  u.loc)
        del bb.eqns[_index_of(bb.eqns, u)]
        return row

    def _live(self, fwd, push):
        """Values of the forward loop's body that something other than the
        stacks reads (the loop's outputs that are read, equations with
        effects or regions, and what they read, through the carries): the
        rest is dead once the stacks are gone (a summed loss's value in a
        gradient-only function).  ``push``: the stack being converted."""
        fb = fwd.params["body"]
        off = loop_offset(fwd)
        live = set()
        for i, r in enumerate(fb.results):
            if self.uses.get(fwd.outs[i]):
                live.add(r)
        for e in fb.eqns:
            if e is push:
                continue
            if e.prim.name in ("push", "setitem") or not e.outs or e.blocks() or \
                    getattr(e.prim, "effect", False):
                if e.prim.name != "push":
                    live.update(e.outs)
                live.update(a for a in e.atoms() if isinstance(a, Var))
        changed = True
        while changed:
            changed = False
            for e in reversed(fb.eqns):
                if any(o in live for o in e.outs):
                    for a in e.atoms():
                        if isinstance(a, Var) and a not in live:
                            live.add(a)
                            changed = True
            for i, p in enumerate(fb.params[off:]):
                r = fb.results[i]
                if p in live and isinstance(r, Var) and r not in live:
                    live.add(r)
                    changed = True
        return live

    def _convert_factors(self, block, bwd, new, push, unzip, n, kb, mid, tape_of, by_index, it):
        vals = push.args[1:]
        items = [self.val(v) for v in vals]
        if len(unzip.outs) != len(vals) or \
                not all(_array_example(x) and isinstance(v, Var) for x, v in zip(items, vals)):
            return
        bb = bwd.params["body"]
        defs = {o: e for e in bb.eqns for o in e.outs}
        if len(vals) == 1 and vals[0] not in tape_of and \
                self._accumulate(block, bwd, new, push, unzip, vals[0], items[0], defs, mid):
            return
        if isinstance(n, Const) and \
                self._accumulate_products(block, bwd, new, push, unzip, vals, items, defs, mid,
                                          tape_of, by_index, it, n.value):
            return
        stacked = []
        for v, ex in zip(vals, items):
            if v in tape_of:                              # read from a tape: that tape
                stacked.append(tape_of[v])
                continue
            d = defs.get(v)
            x = d.args[0] if d is not None and d.prim.name == "getitem" else None
            if by_index and x is not None and len(d.args) == 2 and d.args[1] is kb and \
                    d.params.get("index") in (Slot(0), (Slot(0),)) and not d.params.get("copy") and \
                    x not in _defined(bb) and _array_example(self.val(x)) and \
                    self.val(x).shape[1:] == ex.shape and self.val(x).dtype == ex.dtype:
                rows = self.val(x).shape[0]
                if rows == len(it):                       # xs[t] for every row: xs itself
                    stacked.append(x)
                    continue
            tape = self._alloc(mid, n, ex, v, "steps", bwd.loc)
            stacked.append(self._write(bwd, tape, kb, v, ex, _index_of(bb.eqns, push), push.loc))
        bb.eqns.remove(push)
        block.eqns.remove(new)
        # the unzipped lists' readers (stack_steps) read the arrays instead
        subst = dict(zip(unzip.outs, stacked))
        block.eqns.remove(unzip)
        rename_reads(block, subst)
        for e in list(block.eqns):
            if e.prim.name == "stack_steps" and e.args and \
                    any(e.args[0] is s for s in stacked):
                # stack_steps of an array is that array
                rename_reads(block, {e.outs[0]: e.args[0]})
                block.eqns.remove(e)
        for i, e in enumerate(list(block.eqns)):
            if e.prim.name in ("matmul_vjp_a_sum", "matmul_vjp_b_sum", "dot_vjp_a_sum",
                               "dot_vjp_b_sum", "unbroadcast_sum"):
                new_eqns = self._direct_sum(e)
                if new_eqns is not None:
                    k = _index_of(block.eqns, e)
                    block.eqns[k:k + 1] = new_eqns

    def _accumulate(self, block, bwd, new, push, unzip, v, ex, defs, mid) -> bool:
        """A hoisted factor summed over the steps with nothing to reduce per
        step -- ``unbroadcast_sum(stack_steps(list), x)`` where each step's
        factor has x's shape and dtype, the gradient of a weight read
        elementwise (``k * y``) -- added up in the reversed loop, as a
        hand-written gradient does (``k_bar += g``), instead of written into
        an array of n rows summed after the loop: one row of memory, not n.
        Exact up to the order of the sum (the steps' order instead of
        NumPy's pairwise sum over the stacked rows), as the module says.
        Not for a factor read from a row of an input (``xs[t]``): that
        stacked factor is the input itself, no array is made for it."""
        d = defs.get(v)
        if d is not None and d.prim.name == "getitem":
            return False
        lst = unzip.outs[0]
        us = self.uses.get(lst, [])
        if len(unzip.outs) != 1 or len(us) != 1 or us[0] is None or \
                us[0].prim.name != "stack_steps" or not any(e is us[0] for e in block.eqns):
            return False
        st = us[0]
        su = self.uses.get(st.outs[0], [])
        if len(su) != 1 or su[0] is None or su[0].prim.name != "unbroadcast_sum" or \
                su[0].args[0] is not st.outs[0] or su[0].kwargs or \
                not any(e is su[0] for e in block.eqns):
            return False
        red = su[0]
        # (its result: the steps' sum, of x's shape, in the steps' dtype)
        x = self.val(red.args[1]) if len(red.args) == 2 else None
        if not _array_example(x) or x.shape != ex.shape or x.dtype != ex.dtype:
            return False
        zero = self._emit(mid, "zeros", (Const(ex.shape),), {"dtype": Const(ex.dtype.type)},
                          hint="acc")
        mid[-1].loc = bwd.loc
        self.inf.ex[zero] = _compact(ex.shape, ex.dtype)
        bb = bwd.params["body"]
        a_in, a_next = Var(red.outs[0].hint), Var(red.outs[0].hint)
        i = _index_of(bb.eqns, push)
        bb.eqns[i] = Eqn(REGISTRY["add"], (a_in, v), {}, (a_next,), {}, push.loc)
        bb.params.append(a_in)
        bb.results.append(a_next)
        bwd.args = tuple(bwd.args) + (zero,)
        bwd.outs = tuple(bwd.outs) + (red.outs[0],)
        for w in (a_in, a_next, red.outs[0]):
            self.inf.ex[w] = self.inf.ex[zero]
        for e in (new, unzip, st, red):
            block.eqns.remove(e)
        return True

    def _accumulate_products(self, block, bwd, new, push, unzip, vals, items, defs, mid,
                             tape_of, by_index, it, n) -> bool:
        """Hoisted matrix-product factors added up in the reversed loop
        (``Wz_bar += x.T @ g``, as a hand-written BPTT gradient of a gated
        cell does) instead of written into arrays of n rows and multiplied
        once after the loop, when those arrays are large and the weights
        small beside them.  Each fresh stacked array is memory the call
        page-faults in (past glibc's mmap threshold every call gets fresh
        pages) and writes and reads once more; a step's accumulation adds
        its weight-shaped product into a buffer that stays in cache.
        Measured on the GRU row (T=50, 32x128 per step, four factor arrays
        of 1.6 MB): 1.31x hand stacked, 1.02x accumulated; on the RNN rows,
        whose one factor array meets weights 9x its row, stacking stays
        (it is also what the hand-written gradient does).  The decision
        reads shapes only (the examples), never data.

        Only when every reader of the unzipped lists is a stacked list in a
        2-d matrix product's weight gradient (``matmul_vjp_a_sum``,
        ``matmul_vjp_b_sum``, ``dot_*``) whose per-step operands are 2-d:
        per step that is one matrix product of the step's factors.  Exact up
        to the order of the sum over the steps, as the module says."""
        if not all(_array_example(x) and x.ndim == 2 for x in items):
            return False
        per_step = dict(zip(unzip.outs, vals))
        stacked = {}                                # stack_steps output -> step value
        for lst in unzip.outs:
            for u in self.uses.get(lst, []):
                if u is None or u.prim.name != "stack_steps" or len(u.args) != 1 or \
                        u.kwargs or not any(e is u for e in block.eqns):
                    return False
                stacked[u.outs[0]] = per_step[lst]
        if not stacked:
            return False
        sums = []
        for st in stacked:
            for u in self.uses.get(st, []):
                if u is None or u.prim.name not in _PRODUCT_SUMS or u.kwargs or \
                        not any(e is u for e in block.eqns):
                    return False
                if u not in sums:
                    sums.append(u)
        products = []
        for e in sums:
            a_side = e.prim.name.endswith("_a_sum")
            g, w, o = (e.args[0], e.args[1], e.args[2]) if a_side else \
                (e.args[0], e.args[2], e.args[1])
            if g not in stacked or o not in stacked or w in stacked:
                return False
            G, O, W = self.val(stacked[g]), self.val(stacked[o]), self.val(w)
            if not all(_array_example(x) and x.ndim == 2 for x in (G, O, W)):
                return False
            if a_side:      # w @ o_t: sum_t g_t @ o_t.T, g_t (m, k), o_t (j, k), w (m, j)
                ok = G.shape[1] == O.shape[1] and (G.shape[0], O.shape[0]) == W.shape
            else:           # o_t @ w: sum_t o_t.T @ g_t, o_t (k, j), g_t (k, m), w (j, m)
                ok = G.shape[0] == O.shape[0] and (O.shape[1], G.shape[1]) == W.shape
            if not ok or G.dtype.kind not in "fc" or O.dtype.kind not in "fc":
                return False
            # (the sum's result: the products', of the weight's shape)
            products.append((e, stacked[g], stacked[o], a_side,
                             _compact(W.shape, np.result_type(G.dtype, O.dtype))))
        # the cost of each choice, in elements (shapes only)
        fresh = 0
        for v, ex in zip(vals, items):
            d = defs.get(v)
            if v in tape_of or (by_index and d is not None and d.prim.name == "getitem" and
                                len(d.args) == 2 and d.args[1] is bwd.params["body"].params[0]):
                continue        # (its stacked form is a tape or an input already)
            fresh += ex.size * ex.dtype.itemsize
        weights = sum(R.size * R.dtype.itemsize for *_, R in products)
        if n * fresh < _STACK_BYTES or weights > _ACC_PER_ROW * fresh:
            return False
        from .primitives.core import Emitter
        bb = bwd.params["body"]
        at = _index_of(bb.eqns, push)
        bb.eqns.remove(push)
        for e, g, o, a_side, R in products:
            zero = self._emit(mid, "zeros", (Const(R.shape),), {"dtype": Const(R.dtype.type)},
                              hint="acc")
            mid[-1].loc = bwd.loc
            self.inf.ex[zero] = _compact(R.shape, R.dtype)
            em = Emitter(Block(), loc=push.loc)
            p = em.matmul(g, _T(em, o)) if a_side else em.matmul(_T(em, o), g)
            a_in, a_next = Var(e.outs[0].hint), Var(e.outs[0].hint)
            em.block.eqns.append(Eqn(REGISTRY["add"], (a_in, p), {}, (a_next,), {}, push.loc))
            for w in (a_in, a_next, e.outs[0]):
                self.inf.ex[w] = self.inf.ex[zero]
            for x in em.block.eqns[:-1]:
                self.inf.eqn(x)
            bb.eqns[at:at] = em.block.eqns
            at += len(em.block.eqns)
            bb.params.append(a_in)
            bb.results.append(a_next)
            bwd.args = tuple(bwd.args) + (zero,)
            bwd.outs = tuple(bwd.outs) + (e.outs[0],)
        for e in [new, unzip] + [u for u in block.eqns if u.outs and u.outs[0] in stacked] + \
                [e for e, *_ in products]:
            block.eqns.remove(e)
        return True

    def _direct_sum(self, e):
        """A hoisted weight gradient over stacked steps of known shapes as
        the one NumPy call it is: ``G.T @ B`` (vectors per step), a sum over
        the step axis (a bias)."""
        from .primitives.core import Emitter
        vals = [self.val(a) if isinstance(a, Var) else None for a in e.args]
        if any(not _array_example(v) for v in vals):
            return None
        em = Emitter(Block(), loc=e.loc)
        # (np.dot of a matrix and a vector per step is that matrix product)
        if e.prim.name in ("matmul_vjp_a_sum", "dot_vjp_a_sum"):
            G, W, B = vals
            if G.ndim == 2 and B.ndim == 2 and W.ndim == 2 and G.shape[0] == B.shape[0] and \
                    (G.shape[1], B.shape[1]) == W.shape:
                em.matmul(_T(em, e.args[0]), e.args[2])     # the last equation
            else:
                return None
        elif e.prim.name in ("matmul_vjp_b_sum", "dot_vjp_b_sum"):
            G, A, W = vals
            if G.ndim == 2 and A.ndim == 2 and W.ndim == 2 and G.shape[0] == A.shape[0] and \
                    (A.shape[1], G.shape[1]) == W.shape:
                em.matmul(_T(em, e.args[1]), e.args[0])     # the last equation
            else:
                return None
        else:
            G, x = vals
            if G.shape[1:] != x.shape or G.dtype != x.dtype:
                return None
            em.call("sum", e.args[0], axis=Const(0),
                    _params={"spelling": ("method", "sum")})
        eqns = em.block.eqns
        last = eqns[-1]
        eqns[-1] = Eqn(last.prim, last.args, last.kwargs, e.outs, last.params, last.loc)
        return eqns


# the weight gradients of matrix products over a loop's steps (_accumulate_products)
_PRODUCT_SUMS = {"matmul_vjp_a_sum", "matmul_vjp_b_sum", "dot_vjp_a_sum", "dot_vjp_b_sum"}
# stacked factor arrays smaller than this stay (heap memory, no page faults) ...
_STACK_BYTES = 1 << 20
# ... and so do those whose weights' accumulators add more than this many
# bytes per byte of a step's fresh rows (an add in cache against a fresh row
# written, page-faulted and read again)
_ACC_PER_ROW = 4

# correctly rounded elementwise ufuncs: recomputed from their operands they
# give the same bits (_Tapes._remat)
_EXACT = {"add", "subtract", "multiply", "divide", "negative", "absolute", "maximum", "minimum",
          "fmax", "fmin", "sqrt", "square"}

# elementwise ufuncs computed over a loop's stacked rows at once (_batched)
_BATCHED = {"add", "subtract", "multiply", "divide", "negative", "square", "tanh", "exp", "log",
            "sin", "cos", "abs", "absolute", "maximum", "minimum", "sqrt", "power"}


def _drops(e) -> bool:
    from .alias import drops_references
    return drops_references(e)


def at_of(block, e) -> int:
    return _index_of(block.eqns, e)


def _index_of(eqns, e) -> int:
    # (list.index compares by identity first, and Eqn has no __eq__: the
    # same answer as a scan for ``x is e``, at C speed)
    try:
        return eqns.index(e)
    except ValueError:
        raise ValueError("equation not in block") from None


def _defined(block):
    from .ir import defined_vars
    return defined_vars(block)


def _gather_reads(e, read: set):
    """Add to ``read`` every Var that ``e`` or an equation of its regions
    reads (operands, and the regions' results)."""
    read.update(a for a in e.atoms() if isinstance(a, Var))
    for b in e.blocks():
        read.update(r for r in b.results if isinstance(r, Var))
        for x in b.eqns:
            _gather_reads(x, read)
