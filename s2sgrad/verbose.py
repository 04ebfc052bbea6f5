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
pass name; nothing else runs in it.)
"""
from __future__ import annotations

import functools
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
    timer = threading.Timer(SLOW_SECONDS, s.slow)
    timer.daemon = True
    timer.start()
    if s.verbose:
        s.say(f"s2sgrad: compiling {what}")
    try:
        yield s
    finally:
        timer.cancel()
        _local.session = None
        took = time.perf_counter() - s.start
        if s.verbose or s.slow_reported:
            s.say(f"s2sgrad: compiled {what} in {_ms(took)}")


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
