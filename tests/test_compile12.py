"""Compile time, session 24 (issue 10): cheaper internals, the same output.

* peephole._Chains._one_step: a chain root that is one addition,
  subtraction, product, matrix product or reduction of plain leaves is
  refused without pulling its chain (the rewrite would refuse it: nothing
  to fold, regroup or absorb).
* lower.syntax.Rebindings: one walk of a loop body also answers
  returns_or_breaks (its own walk before).
* verbose._watch: the slow-compile watcher is woken only when a new
  session is due before the time it already waits for.
* peephole._common_factors, _shared_factors and _reorganisable's test of
  a sum (_repeated_factor): sets of ids instead of scans of lists
  (quadratic in a sum's terms).

Each is checked against the former code on the golden functions, the four
bench_compile shapes and fuzzed programs (byte-identical generated source),
each shortcut's decision against what the full computation decides, and
values and gradients against NumPy and central differences.
"""
from __future__ import annotations

import ast
import pathlib
import threading
import time

import numpy as np
import pytest

import s2sgrad
from s2sgrad import peephole, verbose
from s2sgrad.lower import syntax
from tests import sampling
from tests.test_compile6 import _fuzzed_gradients
from tests.test_compile7 import _sources
from tests.test_list_loops7 import fd as _fd


# ---------------------------------------------------------------- the former code


def _counted(mp, cls, name):
    calls = [0]
    fn = getattr(cls, name)

    def run(*a, **k):
        calls[0] += 1
        return fn(*a, **k)
    mp.setattr(cls, name, run)
    return calls


def _old_common_factors(terms):
    if len(terms) < 2:
        return []
    first = peephole._factor_vars(terms[0][1])
    return [x for x in first
            if all(any(y is x for y in peephole._factor_vars(n)) for _, n in terms[1:])]


def _old_shared_factors(terms):
    seen: list = []
    for t in terms:
        for x in peephole._factor_vars(t[1]):
            if not any(y is x for y in seen):
                seen.append(x)
    out = []
    for x in seen:
        idx = [i for i, (_, n) in enumerate(terms)
               if any(y is x for y in peephole._factor_vars(n))]
        if 1 < len(idx) < len(terms):
            out.append((x, idx))
    return out


def _old_repeated_factor(terms):
    return bool(_old_common_factors(terms)) or bool(_old_shared_factors(terms))


def _use_former_code(mp):
    mp.setattr(peephole._Chains, "_one_step", lambda self, e: False)
    mp.setattr(peephole, "_common_factors", _old_common_factors)
    mp.setattr(peephole, "_shared_factors", _old_shared_factors)
    mp.setattr(peephole, "_repeated_factor", _old_repeated_factor)


def test_sources_identical_to_the_former_code(monkeypatch, tmp_path):
    """Byte-identical generated source (polymorphic and specialised, grad and
    value_and_grad) on goldens, bench shapes and fuzzed programs; the former
    code pulls more chains (the comparison is not of two equal runs)."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with monkeypatch.context() as mp:
        fast_rewrites = _counted(mp, peephole._Chains, "rewrite")
        fast = _sources(tmp_path / "a", 80)
    with monkeypatch.context() as mp:
        _use_former_code(mp)
        slow_rewrites = _counted(mp, peephole._Chains, "rewrite")
        slow = _sources(tmp_path / "b", 80)
    assert len(fast) > 80 and fast == slow
    assert slow_rewrites[0] > fast_rewrites[0] > 0


def _checked_one_step(mp, decided):
    """``_one_step`` that, where it refuses a root, runs the full rewrite on
    it too and checks that the rewrite refuses it (records each decision)."""
    one_step = peephole._Chains._one_step

    def checked(self, e):
        got = one_step(self, e)
        if got:
            self.reads = []
            try:
                self.rewrite(e)
            except peephole._Bail:
                decided.append(e.prim.name)
            else:                           # pragma: no cover (a failure)
                raise AssertionError(f"_one_step refused a chain the rewrite takes: {e}")
        return got
    mp.setattr(peephole._Chains, "_one_step", checked)


@pytest.fixture(scope="module")
def instrumented(tmp_path_factory):
    """One compile of the test programs (``_sources(..., 120)``) with both
    instruments on: every root ``_one_step`` refuses is also rewritten in
    full, which must refuse it (``decided``), and every list of terms the
    peephole factors is recorded (``seen``; the full rewrites of refused
    roots add theirs, checked all the same).  Two tests read it."""
    decided: list = []
    seen: list = []
    common = peephole._common_factors

    def recording(terms):
        seen.append(list(terms))
        return common(terms)
    with pytest.MonkeyPatch.context() as mp:
        _checked_one_step(mp, decided)
        mp.setattr(peephole, "_common_factors", recording)
        _sources(tmp_path_factory.mktemp("instrumented"), 120)
    return decided, seen


def test_one_step_refuses_only_what_the_rewrite_refuses(instrumented):
    decided, _ = instrumented
    # the decision is taken, and for each kind of root it covers
    assert len(decided) > 500
    assert {"add", "subtract", "multiply", "matmul", "sum"} <= set(decided)


def test_one_step_on_fuzzed_programs(monkeypatch):
    decided: list = []
    with monkeypatch.context() as mp:
        _checked_one_step(mp, decided)
        gs = _fuzzed_gradients(200)
    assert len(gs) > 100 and len(decided) > 100


# ---------------------------------------------------------------- the decision itself


def _roots(fn, *args):
    """(root operation, _one_step's decision) of every chain root the
    peephole looks at in ``fn``'s gradient."""
    seen = []
    one_step = peephole._Chains._one_step

    def spy(self, e):
        got = one_step(self, e)
        seen.append((e.prim.name, got))
        return got
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(peephole._Chains, "_one_step", spy)
        s2sgrad.grad(fn, wrt=tuple(range(len(args))))(*args)
    return seen


def plain_leaves(x, W, b):
    z = np.tanh(x @ W)
    u = z + b
    v = np.sin(u) * np.cos(x)
    return np.sum(v)


def scaled_leaf(x, W, b):
    # the operand of the sum is 2 * a: folded or absorbed, never one step
    a = np.tanh(x @ W)
    return np.sum(a * 2.0 + b)


def test_one_step_decisions():
    x, W, b = np.ones((4, 3)) * 0.3, np.eye(3) * 0.5, np.full(3, 0.1)
    # x @ W and z + b: operations of plain leaves, decided in one step
    plain = _roots(plain_leaves, x, W, b)
    assert ("matmul", True) in plain and ("add", True) in plain
    # sum(a * 2.0 + b): a chain with a constant factor (internal operands)
    scaled = _roots(scaled_leaf, x, W, b)
    assert ("sum", False) in scaled
    assert not any(got for name, got in scaled if name in ("sum", "multiply"))
    # a * a is one step; a + a is 2 a (pulled: it has a constant)
    rep = _roots(repeated, x, W, b)
    assert ("multiply", True) in rep
    assert not any(got for name, got in rep if name == "add")


# ---------------------------------------------------------------- a sum's factors


def _same_factors(a, b):
    return len(a) == len(b) and all(
        x is y if not isinstance(x, tuple) else x[0] is y[0] and x[1] == y[1]
        for x, y in zip(a, b))


def _check_factors(terms):
    assert _same_factors(peephole._common_factors(terms), _old_common_factors(terms))
    assert _same_factors(peephole._shared_factors(terms), _old_shared_factors(terms))
    assert peephole._repeated_factor(terms) == _old_repeated_factor(terms)


def test_factors_of_the_sums_of_the_test_programs(instrumented):
    """Every list of terms the peephole looks at (goldens, bench shapes,
    fuzzed programs): the same factors as the former scans."""
    _, seen = instrumented
    assert len(seen) > 200
    shared = 0
    for terms in seen:
        _check_factors(terms)
        shared += bool(_old_shared_factors(terms))
    assert shared > 0


def test_factors_of_made_up_sums():
    """Sums of products of a few Vars, with repeats inside a term, in every
    term, in some, none; a constant term; one term."""
    from s2sgrad.ir import Var
    rng = np.random.default_rng(24)
    vs = [Var(f"v{i}") for i in range(6)]
    seen = set()
    for _ in range(3000):
        terms = []
        for _ in range(int(rng.integers(1, 7))):
            k = int(rng.integers(0, 4))
            if k == 0 and rng.random() < 0.3:
                terms.append((1.0, None))
                continue
            fs = [("var", vs[int(i)]) for i in rng.integers(0, len(vs), size=max(k, 1))]
            terms.append((float(rng.choice([1.0, -1.0, 2.0])),
                          fs[0] if len(fs) == 1 else ("prod", fs, [], False, None)))
        _check_factors(terms)
        seen.add((bool(_old_common_factors(terms)), bool(_old_shared_factors(terms))))
    assert seen == {(False, False), (True, False), (False, True), (True, True)}


# ---------------------------------------------------------------- the loop body's one walk


def _statement_lists():
    """Every statement list (bodies, else branches) of the golden functions,
    bench shapes and fuzzed programs (test_compile8's trees) and of every
    module of the tests and the package: loops with returns and breaks at
    every depth, nested functions, lambdas and comprehensions in loops."""
    return [body for _, body in _statement_lists_named()]


def _statement_lists_named():
    """``(id, statement list)`` of :func:`_statement_lists`; the id names
    the tree (``tree<i>`` of test_compile8's, else the file), the line,
    column and field."""
    from tests.test_compile8 import TREES
    root = pathlib.Path(__file__).resolve().parent.parent
    trees = [(f"tree{i}", t) for i, t in enumerate(TREES)]
    for path in sorted(root.glob("tests/**/*.py")) + sorted(root.glob("s2sgrad/**/*.py")):
        try:
            trees.append((path.relative_to(root).as_posix(), ast.parse(path.read_text())))
        except SyntaxError:                 # pragma: no cover
            continue
    out = []
    for name, t in trees:
        for n in ast.walk(t):
            if not isinstance(n, (ast.For, ast.While, ast.If, ast.FunctionDef)):
                continue        # (the statement lists lowering walks: not modules, classes)
            for field in ("body", "orelse"):
                v = getattr(n, field, None)
                if isinstance(v, list) and v and isinstance(v[0], ast.stmt):
                    out.append((f"{name}:{n.lineno}:{n.col_offset}:{field}", v))
    return out


def _body_strata(owner_id, body):
    """A statement list's kinds: the statements at its top and nested in it,
    and where it comes from (the test trees, the package, the tests)."""
    origin = "tests" if owner_id.startswith("tests/") else owner_id.split("/")[0].split(":")[0]
    origin = "trees" if origin.startswith("tree") else origin
    kinds = {type(x).__name__ for st in body for x in ast.walk(st) if isinstance(x, ast.stmt)}
    return {f"origin:{origin}"} | {f"{origin}|stmt:{k}" for k in kinds} | \
        {f"{origin}|top:{type(st).__name__}" for st in body}


def _names_in(stmts):
    return sorted({n.id for st in stmts for n in ast.walk(st) if isinstance(n, ast.Name)})


def test_rebindings_is_the_separate_walks():
    """On every statement list of the test trees (test_compile8's), and of
    the package's and the tests' files: in the default run a sample of the
    files' lists (every kind of statement, at the top and nested, from each
    origin keeps one, and a quarter by hash: tests/sampling.py), all of them
    with S2SGRAD_FULL_TESTS=1."""
    seen = set()
    named = _statement_lists_named()
    assert len(named) > 5000
    ids = [i for i, _ in named]
    strata = [frozenset(_body_strata(i, b)) for i, b in named]
    kept = sampling.choose(ids, strata, stride=4, always=("tree",)) \
        if not sampling.FULL else [True] * len(ids)
    assert set().union(*(s for s, k in zip(strata, kept) if k)) == set().union(*strata)
    for body in [b for (_, b), k in zip(named, kept) if k]:
        rb = syntax.Rebindings(body)
        want = syntax.returns_or_breaks(body)
        assert (rb.has_return, rb.has_break) == want, ast.unparse(body[0])[:200]
        seen.add(want)
        assert rb.assigned == syntax.assigned_in(body)
        assert rb.kept_any == any(syntax._kept_in_list(st) for st in body)
        for name in _names_in(body)[:12]:
            assert rb.rebinds(name) == syntax.rebinds(body, name)
            assert rb.rebinds_plainly(name) == syntax.rebinds_plainly(body, name)
    assert seen == {(False, False), (False, True), (True, True)}


def test_rebindings_level_cases():
    cases = {
        # a return inside a nested loop leaves the loop too
        "while c:\n    if d:\n        return 2": (True, True),
        "if x:\n    for i in r:\n        return x": (True, True),
        # a break of a nested loop is that loop's; a nested function's
        # return is the function's
        "if x:\n    for i in r:\n        break": (False, False),
        "if x:\n    def g():\n        return 1": (False, False),
        "y = lambda: 1\nif x:\n    break": (False, True),
        "z = [v for v in w]\nif z:\n    return z": (True, True),
        # (as returns_or_breaks: a statement of the body is walked whatever
        # it is, so a loop or def there counts its own break or return --
        # an extra flag carried, never a missing one)
        "for i in r:\n    break\nx = 1": (False, True),
        "def g():\n    return 1": (True, True),
    }
    for src, want in cases.items():
        body = ast.parse(src).body
        rb = syntax.Rebindings(body)
        assert syntax.returns_or_breaks(body) == want, src
        assert (rb.has_return, rb.has_break) == want, src


def early_exit(x, W, b):
    # a loop with a break and a loop with a return, each with a nested loop
    h = x[0] * 1.0
    for t in range(x.shape[0]):
        for k in range(2):
            h = np.tanh(h @ W + b)
            if k > 5:
                break
        if np.sum(h) > 100.0:
            break
    acc = 0.0
    for t in range(x.shape[0]):
        acc = acc + np.sum(h * x[t])
        if t == 2:
            return acc + np.sum(h)
    return acc


# ---------------------------------------------------------------- the slow-compile watcher


class _Session:
    def __init__(self):
        self.reported = threading.Event()

    def slow(self):
        self.reported.set()


def _waiting_for_less_than(seconds, deadline):
    while not 0.0 < verbose._wake_at[0] < time.perf_counter() + seconds:
        assert time.monotonic() < deadline
        time.sleep(0.001)


def test_watcher_reports_a_session_due_before_its_wait(monkeypatch):
    """Whatever the watcher waits for -- nothing (an hour), or a session due
    later -- a session due sooner is reported on time; one that ended is
    not; and a session due after the wait is not woken for (no notify)."""
    notified = [0]
    cond = verbose._watch_cond
    real_notify = cond.notify

    def counting_notify(*a):
        notified[0] += 1
        return real_notify(*a)
    monkeypatch.setattr(cond, "notify", counting_notify)
    first = _Session()
    verbose._watch(first, 0.01)             # (starts the watcher if it is not)
    assert first.reported.wait(5)
    # nothing watched: the watcher waits an hour; a short session wakes it
    deadline = time.monotonic() + 5
    while verbose._wake_at[0] == 0.0 and time.monotonic() < deadline:
        time.sleep(0.001)
    late = _Session()
    verbose._watch(late, 30.0)              # due in 30 s: sooner than an hour
    n = notified[0]
    assert n >= 1
    _waiting_for_less_than(1000, deadline)  # (the watcher waits for ``late`` now)
    soon = _Session()
    verbose._watch(soon, 0.02)              # sooner than the 30 s it waits for
    assert notified[0] == n + 1
    assert soon.reported.wait(5)
    ended = _Session()
    verbose._watch(ended, 0.05)
    verbose._unwatch(ended)
    # the watcher now waits for ``late`` (30 s); a session due later than
    # that needs no wake-up
    _waiting_for_less_than(1000, deadline)
    n = notified[0]
    later = _Session()
    verbose._watch(later, 60.0)
    assert notified[0] == n
    time.sleep(0.1)
    assert not ended.reported.is_set() and not late.reported.is_set()
    for s in (late, later):
        verbose._unwatch(s)


# ---------------------------------------------------------------- values and gradients


def repeated(x, W, b):
    # the same value read twice (a * a: one step; a + a: 2a, pulled)
    a = np.tanh(x @ W + b)
    c = a * a + (a + a)
    return np.sum(c @ W.T) + np.mean(a - b)


def broadcast_mix(x, W, b):
    # broadcasting leaves of an addition and a product, a Python scalar
    r = np.sin(x) + b
    s = r * np.cos(b)
    t = s - np.exp(0.1 * x)
    return np.sum(t * t) + 2.0


def rnn(x, W, b):
    h = np.zeros(W.shape[0], dtype=x.dtype)
    loss = 0.0
    for t in range(x.shape[0]):
        h = np.tanh(W @ h + x[t] + b)
        loss = loss + np.sum(h ** 2)
    return loss + np.sum(h)


@pytest.mark.parametrize("fn", [plain_leaves, scaled_leaf, repeated, broadcast_mix, rnn,
                                early_exit])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_values_and_gradients(fn, dtype):
    rng = np.random.default_rng(12)
    x = rng.normal(size=(4, 3)).astype(dtype)
    W = (0.4 * rng.normal(size=(3, 3))).astype(dtype)
    b = (0.2 * rng.normal(size=3)).astype(dtype)
    vg = s2sgrad.value_and_grad(fn, wrt=(0, 1, 2))
    v, grads = vg(x, W, b)
    tol = 1e-4 if dtype == np.float32 else 1e-12
    assert np.allclose(v, fn(x, W, b), rtol=tol, atol=tol)
    args64 = [a.astype(np.float64) for a in (x, W, b)]
    gt = 3e-3 if dtype == np.float32 else 1e-6
    for i, g in enumerate(grads):
        assert g.dtype == dtype and g.shape == args64[i].shape
        assert np.allclose(g, _fd(fn, args64, i), rtol=gt, atol=gt), (fn.__name__, i)
