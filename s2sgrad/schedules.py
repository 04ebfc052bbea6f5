"""Checkpointing schedules and the runtime drivers of a checkpointed loop.

Plain Python, no NumPy (like the stacks): generated code calls
:func:`checkpoint_forward` and :func:`checkpoint_backward` with two
functions generated from the loop body (see :mod:`s2sgrad.remat`):

``segment(steps, *state) -> state``
    runs the loop body for the iterations ``steps`` (a slice of the loop's
    iterable) from the carried ``state``, storing nothing;
``step(steps, *state, *cotangents, *accumulators) -> (*cotangents, *accumulators)``
    runs the same iterations storing what their adjoint needs, then the
    adjoint: the cotangents of the state at the start of ``steps``, and the
    accumulated adjoints of the values the body reads from outside.

The *state* (a snapshot) is the loop's carried values; what a snapshot holds
is found by the compiler.  A schedule says which states to keep during the
forward sweep and how to recompute the others in the backward sweep.

Schedules (the ``checkpoint=`` option of :func:`s2sgrad.grad`):

``"sqrt"`` (:class:`Sqrt`)
    ``m = ceil(sqrt(T))`` equally spaced snapshots; each segment of about
    ``T / m`` steps is recomputed once, with its record kept only while it
    is reversed: memory ``O(sqrt(T))`` states, one extra forward pass.
:class:`Binomial` ``(snapshots=s)``
    Griewank's binomial schedule ("revolve"): at most ``s`` states kept
    (the initial one included) and the fewest recomputed steps possible
    with ``s`` states, :func:`binomial_cost` ``(T, s) = r*T - C(s+r, s+1)``
    where ``r`` is the least integer with ``C(s+r, s) >= T``; the records of
    one step at a time.
:class:`Budget` ``(bytes=b)``
    the fastest of these that fits ``b`` bytes of snapshots and records
    (the state's size is measured when the loop starts; a recorded step is
    taken as ``RECORD_STATES`` states): ``"sqrt"`` when it fits (a longer
    segment recomputes no less and records more), else ``Binomial`` with
    as many snapshots as fit.
Loops whose trip count is known only when they end (``while``, ``break``)
use the *online* form of the same schedule: snapshots at equal distances
``d`` that double (every other snapshot dropped) whenever the slots are
full.  For ``Binomial(s)`` half of the slots (``s_on = ceil(s/2)``) take
these snapshots and the others (at least ``s - s_on``) reverse each
interval between them with the binomial schedule.  The intervals are at
most ``2d`` steps long and ``d <= max(1, 2 T / s_on)``, so a loop of ``T``
steps runs at most ``T + s_on * binomial_cost(2d, s - s_on + 1)`` forward
steps: ``O(T log T)``-like for fixed ``s`` instead of the offline
``binomial_cost(T, s)``.  ``"sqrt"`` keeps ``O(sqrt(T))`` snapshots online
(the gap doubles when the snapshots outnumber twice the gap): one extra
forward pass.
"""
from __future__ import annotations

import math
import sys
from functools import lru_cache

__all__ = ["Sqrt", "Binomial", "Budget", "Remat", "as_schedule", "binomial_cost",
           "binomial_split", "checkpoint_forward", "checkpoint_backward", "checkpointed",
           "checkpoint", "CheckpointedFunction"]


# ---------------------------------------------------------------- schedule specs


class _Spec:
    """A hashable description of a schedule (compared and printed by value)."""

    __slots__ = ()

    def _key(self):
        return tuple(getattr(self, k) for k in self.__slots__)

    def __eq__(self, other):
        return type(other) is type(self) and other._key() == self._key()

    def __hash__(self):
        return hash((type(self).__name__,) + self._key())

    def __repr__(self):
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__)
        return f"{type(self).__name__}({args})"


class Sqrt(_Spec):
    """About ``sqrt(T)`` snapshots, each segment recomputed once."""

    __slots__ = ()


class Binomial(_Spec):
    """Griewank's binomial schedule with ``snapshots`` stored states."""

    __slots__ = ("snapshots",)

    def __init__(self, snapshots=8):
        if isinstance(snapshots, bool) or not isinstance(snapshots, int) or snapshots < 1:
            raise ValueError(f"Binomial(snapshots=...) needs a positive int, got {snapshots!r}")
        self.snapshots = snapshots


class Budget(_Spec):
    """The fewest recomputations that fit ``bytes`` of stored states and records.

    ``record`` (set by the compiler, not by you): the bytes one recorded
    step of the loop stores, measured on the step function's values once
    their shapes are known (shape specialisation); ``units``: before that,
    how many values the step function stores per step (each taken as large
    as the state's mean item)."""

    __slots__ = ("bytes", "record", "units")

    def __init__(self, bytes, record=None, units=None):   # noqa: A002 (the API's keyword)
        if isinstance(bytes, bool) or not isinstance(bytes, (int, float)) or bytes <= 0:
            raise ValueError(f"Budget(bytes=...) needs a positive number, got {bytes!r}")
        self.bytes = int(bytes)
        self.record = record
        self.units = units

    def __repr__(self):
        extra = "".join(f", {k}={getattr(self, k)!r}" for k in ("record", "units")
                        if getattr(self, k) is not None)
        return f"Budget(bytes={self.bytes!r}{extra})"


class Remat(_Spec):
    """A checkpointed helper (``@s2sgrad.checkpoint``): its inputs are kept,
    its internals recomputed; ``policy="save_dots"`` keeps matrix products."""

    __slots__ = ("policy",)

    def __init__(self, policy=None):
        if policy not in (None, "save_dots", "nothing_saveable"):
            raise ValueError(f"checkpoint policy must be None or 'save_dots', got {policy!r}")
        self.policy = None if policy == "nothing_saveable" else policy


def as_schedule(spec):
    """The schedule object for a ``checkpoint=`` option (None: no checkpointing)."""
    if spec is None or spec is False:
        return None
    if isinstance(spec, str):
        if spec == "sqrt":
            return Sqrt()
        if spec == "binomial":
            return Binomial()
        raise ValueError(f"checkpoint must be None, 'sqrt', s2sgrad.Binomial(snapshots=s) or "
                         f"s2sgrad.Budget(bytes=b), got {spec!r}")
    if isinstance(spec, (Sqrt, Binomial, Budget, Remat)):
        return spec
    if isinstance(spec, bool) or spec is True:
        raise TypeError("checkpoint=True is ambiguous: pass 'sqrt' or a schedule")
    raise TypeError(f"checkpoint must be None, 'sqrt', s2sgrad.Binomial(snapshots=s) or "
                    f"s2sgrad.Budget(bytes=b), got {spec!r}")


# ---------------------------------------------------------------- the source-level marker


class checkpointed:
    """``for t in s2sgrad.checkpointed(range(T), snapshots=8):`` -- checkpoint
    this loop in the backward sweep (``snapshots=None``: the ``"sqrt"``
    schedule; ``budget=b``: a memory budget in bytes).  Run as plain Python
    it is the iterable itself."""

    __slots__ = ("iterable", "schedule")

    def __init__(self, iterable, snapshots=None, budget=None):
        self.iterable = iterable
        self.schedule = schedule_of(snapshots, budget)

    def __iter__(self):
        return iter(self.iterable)

    def __len__(self):
        return len(self.iterable)


def schedule_of(snapshots=None, budget=None):
    """The schedule of ``checkpointed(..., snapshots=, budget=)``."""
    if snapshots is not None and budget is not None:
        raise ValueError("checkpointed() takes snapshots= or budget=, not both")
    if budget is not None:
        return Budget(budget)
    if snapshots is not None:
        return Binomial(snapshots)
    return Sqrt()


class CheckpointedFunction:
    """A helper marked ``@s2sgrad.checkpoint``: called as Python, the function
    itself; called from a differentiated function, reverse mode keeps its
    inputs only and recomputes its insides in the backward sweep."""

    def __init__(self, fn, policy=None):
        import functools
        functools.update_wrapper(self, fn)
        self.policy = Remat(policy).policy

    def __call__(self, *args, **kwargs):
        return self.__wrapped__(*args, **kwargs)


def checkpoint(fun=None, *, policy=None):
    """``@s2sgrad.checkpoint``: recompute this helper's insides in the backward
    sweep instead of storing them (``jax.checkpoint``); only its inputs are
    kept.  ``policy="save_dots"`` keeps its matrix products and recomputes
    the rest (elementwise work)."""
    if fun is None:
        return lambda f: CheckpointedFunction(f, policy)
    return CheckpointedFunction(fun, policy)


# ---------------------------------------------------------------- binomial arithmetic


def _beta(s, r):
    """C(s + r, s): the most steps ``s`` snapshots reverse with ``r`` repetitions."""
    return math.comb(s + r, s)


def binomial_cost(steps, snapshots):
    """Griewank's minimal number of forward steps to reverse ``steps`` steps
    with ``snapshots`` stored states (see :func:`_binomial_cost`)."""
    if steps <= snapshots + 1:
        return max(0, steps - 1)      # every state fits: advance to each once (r = 1)
    return _binomial_cost(steps, snapshots)


@lru_cache(maxsize=4096)
def _binomial_cost(steps, snapshots):
    """Griewank's minimal number of forward steps to reverse ``steps`` steps
    with ``snapshots`` stored states (the initial one included), the
    reversal of each step (recorded then adjoined) not counted:
    ``r*l - C(s+r, s+1)`` with ``r`` the least integer with ``C(s+r, s) >= l``."""
    l, s = steps, snapshots
    if l <= 1:
        return 0
    r = 0
    while _beta(s, r) < l:
        r += 1
    return r * l - _beta(s + 1, r - 1)


def binomial_split(steps, free):
    """Where to put the next snapshot when reversing ``steps`` steps from a
    stored state with ``free`` further snapshots: the ``j`` minimising
    ``j + cost(steps - j, free) + cost(j, free + 1)`` (advance ``j`` steps,
    reverse the right part with one snapshot fewer, then the left part).
    That sum is convex in ``j`` (a sum of convex piecewise-linear
    functions), so a bisection on its slope finds the minimum."""
    l = steps
    cost = binomial_cost

    def total(j):
        return j + cost(l - j, free) + cost(j, free + 1)

    lo, hi = 1, l - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if total(mid + 1) < total(mid):
            lo = mid + 1
        else:
            hi = mid
    return lo


# ---------------------------------------------------------------- state size


def _nbytes(state):
    """Bytes held by a state (arrays, scalars, lists of them; approximate)."""
    total = 0
    for x in state:
        n = getattr(x, "nbytes", None)
        if n is not None:
            total += n
        elif isinstance(x, (list, tuple)):
            total += _nbytes(x)
        else:
            total += sys.getsizeof(x)
    return total


# ---------------------------------------------------------------- the drivers


class Tape:
    """What the forward sweep of a checkpointed loop leaves for its backward
    sweep: the iterations, the schedule and the stored states."""

    __slots__ = ("segment", "steps", "schedule", "snaps", "length", "count_at", "stats",
                 "seg_len")

    def __init__(self, segment, steps, schedule, count_at):
        self.segment = segment        # the loop's segment function (its reads bound)
        self.steps = steps            # the loop's iterable, or None (a while loop)
        self.schedule = schedule
        self.snaps = {}               # iteration number -> state before it
        self.length = None            # iterations run
        self.count_at = count_at      # where the state counts iterations (early exit)
        self.stats = {"advances": 0, "recorded": 0, "max_snaps": 0}
        self.seg_len = None

    def part(self, a, b):
        if self.steps is None:
            return range(a, b)
        return self.steps[a:b]

    def keep(self, i, state):
        self.snaps[i] = freeze(state)
        self.stats["max_snaps"] = max(self.stats["max_snaps"], len(self.snaps))

    def snapshot(self, copy):
        """This tape with ``copy`` applied to each stored state (a vjp's
        pullback: the states may hold the caller's arrays, runtime.snapshot)."""
        seg = self.segment
        if seg.__defaults__:         # its reads, bound as defaults (W=W): advancing reads them
            seg = type(seg)(seg.__code__, seg.__globals__, seg.__name__,
                            copy(seg.__defaults__), seg.__closure__)
            seg.__kwdefaults__ = self.segment.__kwdefaults__
        t = Tape(seg, self.steps, self.schedule, self.count_at)
        t.snaps = {i: copy(st) for i, st in self.snaps.items()}
        t.length, t.stats, t.seg_len = self.length, self.stats, self.seg_len
        return t


# ---------------------------------------------------------------- random generators


class GeneratorState:
    """A snapshot's record of a random generator carried by a loop (see
    :func:`s2sgrad.remat._carry_generators`): the generator and its state
    when the snapshot was taken (``bit_generator.state`` of a NumPy
    ``Generator``, ``get_state()`` of a ``RandomState`` -- NumPy's global one
    behind ``np.random.normal`` included).  :meth:`thaw` gives a throwaway
    generator of the same kind in that state: a recomputation draws from it
    the very numbers the forward sweep drew, and the user's generator is
    never touched again."""

    __slots__ = ("gen", "state")

    def __init__(self, gen):
        self.gen = gen
        self.state = gen.bit_generator.state if hasattr(gen, "bit_generator") \
            else gen.get_state()

    def thaw(self):
        import copy
        g = copy.deepcopy(self.gen)
        if hasattr(g, "bit_generator"):
            g.bit_generator.state = self.state
        else:
            g.set_state(self.state)
        return g


def _is_generator(x):
    return hasattr(x, "bit_generator") or (hasattr(x, "get_state") and hasattr(x, "set_state")
                                           and hasattr(x, "random_sample"))


def freeze(state):
    """``state`` with its generators replaced by records of their states (a
    state the driver can run from more than once)."""
    if not any(_is_generator(x) for x in state):
        return state
    return tuple(GeneratorState(x) if _is_generator(x) else x for x in state)


def thaw(state):
    """A state to run from: fresh throwaway generators for the recorded ones."""
    if not any(type(x) is GeneratorState for x in state):
        return state
    return tuple(x.thaw() if type(x) is GeneratorState else x for x in state)


def _plan(schedule, n, state):
    """Forward-sweep snapshot positions (ascending, 0 first) of a loop of
    ``n`` iterations, and the segment length of a segmented schedule."""
    if isinstance(schedule, Remat):
        return [0], n
    if isinstance(schedule, Sqrt):
        m = max(1, math.isqrt(max(n - 1, 0)) + 1)
        seg = max(1, -(-n // m))
        return list(range(0, n, seg)) or [0], seg
    # binomial: the snapshots of the first descent of the recursion
    pos, a, free = [0], 0, schedule.snapshots - 1
    while free > 0 and n - a > 1:
        a += binomial_split(n - a, free)
        pos.append(a)
        free -= 1
    return pos, None


# When nothing better is known, a recorded step is taken to hold this many
# states' worth of memory (the RNN of benchmarks/bench_checkpoint.py: its
# state, tanh's output, the adjoint and the stacked weight-gradient factors).
RECORD_STATES = 6


def record_bytes(schedule, state):
    """The bytes one recorded step stores: measured by the compiler on the
    step function's values (``Budget.record``), else its count of stored
    values (``Budget.units``) times the state's mean item, else
    ``RECORD_STATES`` states."""
    if getattr(schedule, "record", None) is not None:
        return max(1, schedule.record)
    c = max(1, _nbytes(state))
    units = getattr(schedule, "units", None)
    if units is not None:
        return max(1, units * c // max(1, len(state)))
    return RECORD_STATES * c


def _budget_schedule(budget, n, state):
    """The fastest schedule whose stored states and records fit ``budget``
    bytes: ``"sqrt"`` segments when they fit (longer segments save no
    recomputation -- every segmented schedule recomputes the loop once --
    and their larger records are slower), else the binomial schedule with
    as many snapshots as fit beside one step's record."""
    c = max(1, _nbytes(state))
    r = record_bytes(budget, state)
    m = max(1, math.isqrt(max(n - 1, 0)) + 1)
    seg = max(1, -(-n // m))
    if m * c + seg * r <= budget.bytes:
        return Sqrt()
    return Binomial(max(1, min(n, int((budget.bytes - r) // c))))


def checkpoint_forward(segment, steps, state, schedule, count_at=None):
    """Run ``for t in steps`` (``steps`` None: until the loop stops by itself;
    ``count_at``: where the state counts iterations) and keep the states
    the schedule asks for.  Returns ``(*final_state, tape)``."""
    state = tuple(state)
    if isinstance(schedule, Budget):
        n = len(steps) if steps is not None else 1 << 20
        schedule = _budget_schedule(schedule, n, state)
    tape = Tape(segment, steps, schedule, count_at)
    if steps is not None and count_at is None:
        n = len(steps)
        pos, tape.seg_len = _plan(schedule, n, state)
        for a, b in zip(pos, pos[1:] + [n]):
            tape.keep(a, state)
            if b > a:
                state = segment(tape.part(a, b), *state)
                tape.stats["advances"] += b - a
        tape.length = n
        return state + (tape,)
    return _online_forward(tape, segment, state)


def _done(tape, state, a):
    """Iterations the loop has run after a segment starting at ``a``."""
    return state[tape.count_at]


def _online_forward(tape, segment, state):
    """Snapshots at the multiples of a gap that doubles (every other snapshot
    dropped) whenever the slots are full; every interval between two kept
    states (or the end) is then at most twice the final gap."""
    sched = tape.schedule
    if isinstance(sched, Binomial):
        slots = max(1, -(-sched.snapshots // 2))
    elif isinstance(sched, Remat):
        slots = 1
    else:
        slots = None                 # sqrt: about sqrt(T) snapshots, gaps of sqrt(T)
    gap, a = 1, 0
    limit = len(tape.steps) if tape.steps is not None else None
    while True:
        if a % gap == 0:
            full = len(tape.snaps) >= slots if slots is not None else len(tape.snaps) > 2 * gap
            if full:
                tape.snaps = {i: s for i, s in tape.snaps.items() if (i // gap) % 2 == 0}
                gap *= 2
            if a % gap == 0:
                tape.keep(a, state)
        b = a + (gap - a % gap)
        if limit is not None:
            b = min(b, limit)
        state = segment(tape.part(a, b), *state)
        ran = _done(tape, state, a) - a
        tape.stats["advances"] += ran
        if ran < b - a or b == limit:
            tape.length = a + ran
            break
        a = b
    tape.seg_len = gap
    return state + (tape,)


def checkpoint_backward(tape, step, bars, accs, saved=()):
    """The backward sweep of a checkpointed loop: the cotangents of its
    initial state (``bars`` are those of its final state) and the adjoints
    accumulated in ``accs``; ``saved``: values a one-step helper kept
    (``policy="save_dots"``), passed on to its step.  The tape's stored
    states are only read, so a pullback can run more than once."""
    nb = len(bars)
    out = tuple(bars) + tuple(accs)
    segment = tape.segment
    n = tape.length
    if not n:
        return out
    snaps = dict(tape.snaps)
    stats = tape.stats
    live = [len(snaps)]             # states held right now

    c = tape.count_at

    def reverse(a, b, state, out):
        stats["recorded"] += b - a
        if c is not None:            # the step counts its own iterations (from 0)
            state = state[:c] + (0,) + state[c + 1:]
        return step(tape.part(a, b), *thaw(state), *out[:nb], *out[nb:], *saved)

    def advance(a, b, state):
        stats["advances"] += b - a
        return freeze(segment(tape.part(a, b), *thaw(state)))

    def binomial(a, b, state, free, cell):
        # reverse steps a..b-1 from the state at a, with `free` more snapshots;
        # the adjoints come in the one-element list `cell`, taken out of it so
        # that no frame of the recursion keeps an old version of them alive
        # while a deeper one runs (they were one copy of every accumulator --
        # a weight gradient and its tangent -- per level, the binomial
        # schedule's memory floor under grad-of-grad)
        out = cell.pop()
        while b - a > 1:
            if free == 0:
                for i in range(b - 1, a, -1):
                    out = reverse(i, i + 1, advance(a, i, state), out)
                break
            j = a + binomial_split(b - a, free)
            live[0] += 1
            stats["max_snaps"] = max(stats["max_snaps"], live[0])
            cell.append(out)
            out = None
            out = binomial(j, b, advance(a, j, state), free - 1, cell)
            live[0] -= 1
            b = j
        return reverse(a, a + 1, state, out)

    points = sorted(snaps) + [n]
    binom = isinstance(tape.schedule, Binomial)
    try:
        for k in range(len(points) - 2, -1, -1):
            a, b = points[k], points[k + 1]
            state = snaps.pop(a)
            if b <= a:                   # a snapshot taken as the loop stopped
                live[0] -= 1
                continue
            if binom:
                cell = [out]
                out = None
                out = binomial(a, b, state, tape.schedule.snapshots - live[0], cell)
            else:
                out = reverse(a, b, state, out)
            live[0] -= 1
        return out
    finally:
        # ``binomial`` calls itself through its closure cell: a reference
        # cycle that would keep this frame's cells (the tape, the step
        # function and the arrays it closes over) alive until the garbage
        # collector runs -- one block's input and record per helper call
        binomial = None
