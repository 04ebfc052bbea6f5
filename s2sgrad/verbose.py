"""What compiling does, reported: ``grad(f, verbose=True)``, ``S2SGRAD_VERBOSE=1``.

Every transformation compiles inside a :func:`compiling` session; the passes
it runs (lowering, reverse, forward, optimize, specialize, codegen, ...) are
the functions wrapped by :func:`traced`, which time them and, when the
session is verbose, print each pass's name, time and result (the IR
listing, or the generated source) to ``sys.stderr``, like Tangent's
``verbose``.  Sessions nest (``grad(grad(f))`` compiles the inner gradient
inside the outer one's session); the outermost one reports.

A compile that runs longer than :data:`SLOW_SECONDS` says what it is doing
(which function, which pass) once, verbose or not, and how long it took when
it ends, so a long pause is never silent.  (A timer thread reads the current
pass name; nothing else runs in it.  It is one thread for the process,
started by the first compile and asleep between deadlines: a timer thread
per compile cost a thread start and stop, ~1 ms of a 20 ms compile.)
"""
from __future__ import annotations

import functools
import gc
import os
import sys
import threading
import time
from contextlib import contextmanager

#: ``S2SGRAD_VERBOSE=1`` makes every transformation verbose.
ENV_VERBOSE = os.environ.get("S2SGRAD_VERBOSE", "") not in ("", "0")
#: A compile longer than this many seconds reports what it is doing.
SLOW_SECONDS = 2.0

_local = threading.local()


class _Session:
    def __init__(self, what, verbose, stream):
        self.what = what
        self.verbose = verbose
        self.stream = stream
        self.current = "starting"
        self.start = time.perf_counter()
        self.slow_reported = False
        self.lock = threading.Lock()

    def say(self, text):
        with self.lock:
            print(text, file=self.stream, flush=True)

    def slow(self):
        self.slow_reported = True
        self.say(f"s2sgrad: compiling {self.what} is taking a while "
                 f"({time.perf_counter() - self.start:.1f} s so far); now: {self.current}")


@contextmanager
def compiling(what: str, verbose: bool = False):
    """A compile session for ``what`` (e.g. "grad of 'loss' (model.py:3)")."""
    outer = getattr(_local, "session", None)
    if outer is not None:            # nested: report inside the outer session
        if outer.verbose:
            outer.say(f"s2sgrad: -- {what}")
        yield outer
        return
    s = _Session(what, verbose or ENV_VERBOSE, sys.stderr)
    _local.session = s
    _watch(s, SLOW_SECONDS)
    if s.verbose:
        s.say(f"s2sgrad: compiling {what}")
    # No cyclic garbage collection while compiling (see paused_gc).
    with paused_gc():
        try:
            yield s
        finally:
            _unwatch(s)
            _local.session = None
            took = time.perf_counter() - s.start
            if s.verbose or s.slow_reported:
                s.say(f"s2sgrad: compiled {what} in {_ms(took)}")


@contextmanager
def paused_gc():
    """No cyclic garbage collection inside: the IR, its examples and the
    generated ASTs are many small objects that stay alive, and the
    collector's passes over them cost a quarter of the compile time of a
    1,000-statement function (1.6 s -> 1.2 s measured).  Nor after: the
    objects made inside that are still alive at the end are moved to the
    oldest generation as they are (``gc.freeze`` then ``gc.unfreeze``: two
    list splices), not traversed by the young-generation collection the
    next allocation would start (~60-90 ms after compiling a 1,000-statement
    function, measured) -- what that collection would find is garbage
    cycles, and the benchmark shapes' compiles make none (tests/
    test_compile9.py checks; a cycle some other compile makes waits for the
    next full collection).  The user's young objects are collected first
    (``gc.collect(1)``: at most the two young generations, a few thousand
    objects), so none of their garbage is moved out of reach of the young
    collections.

    Left as it was: a collector the user disabled (nothing is done), one
    with frozen objects (``gc.get_freeze_count()``: unfreezing would thaw
    them; the young generations are then collected after, as before),
    thresholds and debug flags; nested uses do nothing.

    CPython starts a full collection when the objects its young collections
    moved to the oldest generation exceed a quarter of what the last full
    one left alive; the objects ``gc.unfreeze`` moves are not counted.  So
    they are counted here (:func:`_promoted`), and by the same rule the
    next compile starts with a full collection instead of the young one (a
    compile never pays for its own objects: a process compiling once, as
    the compile benchmark's, never does).  Without it, the garbage cycles
    among them (a refused compile's exception, its traceback and frames;
    cycles other compiles make) waited for a full collection the user's own
    objects start -- never, in a process that mostly compiles (the test
    suite's pytest process grew to 4.7 GB)."""
    if not gc.isenabled():
        yield
        return
    promote = gc.get_freeze_count() == 0
    if promote:
        _collect()
    gc.disable()
    try:
        yield
    finally:
        moved = -1
        if promote and gc.get_freeze_count() == 0:
            moved = gc.get_count()[0]   # (net tracked objects made inside)
            gc.freeze()
            gc.unfreeze()
        gc.enable()
        if moved > 0:
            _promoted(moved)


#: What paused_gc moved to the oldest generation since the last full
#: collection ("moved"), that collection's number ("full", CPython's
#: count) and the tracked objects the last full collection paused_gc
#: started left ("alive").  A full collection when "moved" exceeds a
#: quarter of "alive" (CPython's rule for what its young collections
#: promote), and at least PROMOTED_FLOOR objects: a small process is not
#: collected at every compile.
_PROMOTED = {"moved": 0, "full": -1, "alive": 0}
PROMOTED_FLOOR = 100_000


def _since_full():
    s = _PROMOTED
    full = gc.get_stats()[2]["collections"]
    if full != s["full"]:           # a full collection since: it saw the others
        s["moved"], s["full"] = 0, full
    return s


def _promoted(n):
    _since_full()["moved"] += n


def _collect():
    """The young generations, or all of them when what paused_gc moved
    to the oldest one is due (the collector is enabled, nothing frozen)."""
    s = _since_full()
    if s["moved"] <= max(PROMOTED_FLOOR, s["alive"] // 4):
        gc.collect(1)
        return
    gc.collect()
    gc.freeze()                     # (everything is old now: two list splices
    s["alive"] = gc.get_freeze_count()  # and a count, no list of the objects)
    gc.unfreeze()
    s["moved"], s["full"] = 0, gc.get_stats()[2]["collections"]


# the sessions being compiled, each with the time it reports at: read by
# one daemon thread for the process (_watcher), started by the first compile
_watched: dict = {}
_watch_cond = threading.Condition()
_watcher = [None]
# when the watcher's wait ends (set under the lock before it waits; 0: it is
# not waiting): a session due later needs no notify -- the watcher wakes
# first and waits again for it.  (A notify per compile woke the thread,
# which then competed for the GIL with the compile: 6 % of the wall time of
# a 25-statement RNN's compile on a loaded machine, py-spy, session 24.)
_wake_at = [0.0]


def _watch(s, seconds):
    with _watch_cond:
        at = time.perf_counter() + seconds
        _watched[id(s)] = (at, s)
        if _watcher[0] is None:
            t = threading.Thread(target=_watch_loop, name="s2sgrad-slow-compile", daemon=True)
            _watcher[0] = t
            t.start()
        elif _wake_at[0] > at:
            _watch_cond.notify()


def _unwatch(s):
    with _watch_cond:
        _watched.pop(id(s), None)


def _watch_loop():
    while True:
        with _watch_cond:
            now = time.perf_counter()
            due = [s for at, s in _watched.values() if at <= now]
            for s in due:
                del _watched[id(s)]
            if not due:
                wake = min((at for at, _ in _watched.values()), default=now + 3600)
                _wake_at[0] = wake
                _watch_cond.wait(wake - now)
                _wake_at[0] = 0.0
                continue
        for s in due:           # (outside the lock: printing may block)
            s.slow()


def _after_fork():
    # a forked child has no watcher thread: the next compile starts one
    global _watch_cond
    _watch_cond = threading.Condition()
    _watched.clear()
    _watcher[0] = None
    _wake_at[0] = 0.0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def traced(name: str, fn):
    """``fn`` (a pass) reporting its time and result in a verbose session."""
    @functools.wraps(fn)
    def run(*args, **kwargs):
        s = getattr(_local, "session", None)
        if s is None:
            return fn(*args, **kwargs)
        s.current = name
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        if s.verbose:
            s.say(f"s2sgrad:   {name:<12} {_ms(time.perf_counter() - t0):>10}\n{_show(out)}")
        return out
    return run


def _ms(seconds):
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"


def _show(out) -> str:
    """The IR listing of a pass result (a Func, a generated function, or several)."""
    if isinstance(out, (tuple, list)):
        return "\n".join(_show(o) for o in out if o is not None)
    source = getattr(out, "source", None)
    if isinstance(source, str) and hasattr(out, "fn"):
        return source.rstrip("\n")
    if out is None:
        return "(nothing)"
    return str(out)
