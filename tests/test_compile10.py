"""Compile time, session 22 (issue 10): cheaper internals, the same output.

* optimize._dce_region: a round of a loop's carry fixpoint starts from the
  set the previous round left and takes the equations it kept as they are
  (rounds only add carries) -- the same equations, sets and free Vars as
  the reference (test_compile7's former algorithm).
* optimize._cse_block: operands renamed only when one is substituted; a
  Var is its own key.
* specialize._eval_operator: an operator-printed equation evaluated on its
  examples by the function of the ``operator`` module its printed
  expression is (``a * b`` is ``operator.mul(a, b)``), not ``eval``.
* codegen.CodeGen.zero_d: the decision looked up first (refusals too).
* peephole._Chains._internal_uncached: one loop over the readers.
* reverse.Reverser._adjoint_loc: one adjoint location per forward one.

Each is checked against the former code on the golden functions, the four
bench_compile shapes and fuzzed programs (byte-identical generated source),
and values and gradients against NumPy and central differences.
"""
from __future__ import annotations

import ast
import dataclasses
import math

import numpy as np
import pytest

import s2sgrad
import s2sgrad.optimize as op
import s2sgrad.peephole as pp
import s2sgrad.specialize as sp
from s2sgrad import codegen, reverse
from s2sgrad.primitives.core import REGISTRY
from tests.test_compile7 import (_bench_args, _bench_module, _ref_dce_region, _sources,
                                 _use_references)
from tests.test_list_loops7 import fd as _fd


# ---------------------------------------------------------------- the former code


def _old_eval_operator(e, args, kwargs):
    names = [ast.Name(id=f"_a{i}", ctx=ast.Load()) for i in range(len(args))]
    node = e.prim.printer(names, {}, e)
    code = compile(ast.fix_missing_locations(ast.Expression(body=node)), "<s2sgrad example>",
                   "eval")
    if kwargs:
        raise ValueError("operator with options")
    return eval(code, {"np": np}, {f"_a{i}": a for i, a in enumerate(args)})


def _old_zero_d(self, v, other, e):
    examples = self.func.info["examples"]
    ex, out = examples.get(other), examples.get(e.outs[0]) if len(e.outs) == 1 else None
    if type(v) not in (float, int) or type(ex) is not np.ndarray or ex.ndim == 0 or \
            ex.dtype not in codegen._ZERO_D_DTYPES or type(out) is not np.ndarray or \
            out.dtype != ex.dtype or other in self._foreign or e.outs[0] in self._foreign:
        return None
    try:
        c = np.array(v, dtype=ex.dtype)
    except OverflowError:
        return None
    if not (c == v):
        return None
    c.flags.writeable = False
    key = (ex.dtype.str, type(v), v, math.copysign(1.0, v) if type(v) is float else 1)
    hit = self._zero_d_names.get(key)
    if hit is None:
        text = repr(v).replace("-", "m").replace(".", "_").replace("+", "")
        hit = "_" + text + ("" if ex.dtype == np.float64 else "_" + ex.dtype.name)
        while hit in self.namer.taken or any(n == hit for n, _ in self.consts):
            hit += "_"
        self.namer.taken.add(hit)
        self.consts.append((hit, c))
        self._zero_d_names[key] = hit
    return ast.Name(id=hit, ctx=ast.Load())


def _old_internal_uncached(self, v) -> bool:
    if v not in self.defs:
        return False
    us = self.uses.get(v, [])
    if not us or any(u is None for u in us):
        return False
    first = us[0]
    return all(u is first for u in us) and id(first) in self.block_eqns and \
        self._linear_use(first, v) and v in self.defs


def _old_adjoint_loc(self, loc):
    return dataclasses.replace(loc, kind="adjoint") if loc else None


def _use_former_code(mp):
    _use_references(mp)                 # DCE and CSE as before perf-compile7
    mp.setattr(sp, "_eval_operator", _old_eval_operator)
    mp.setattr(codegen.CodeGen, "zero_d", _old_zero_d)
    mp.setattr(pp._Chains, "_internal_uncached", _old_internal_uncached)
    mp.setattr(reverse.Reverser, "_adjoint_loc", _old_adjoint_loc)


def test_sources_identical_to_the_former_code(monkeypatch, tmp_path):
    """Byte-identical generated source (polymorphic and specialised, grad and
    value_and_grad) on goldens, bench shapes and fuzzed programs."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    fast = _sources(tmp_path / "a", 60)
    with monkeypatch.context() as mp:
        _use_former_code(mp)
        slow = _sources(tmp_path / "b", 60)
    assert len(fast) > 60 and fast == slow


# ---------------------------------------------------------------- DCE's carry fixpoint


def chained_carries(x, n):
    # a needs b, b needs c, c needs nothing: three rounds of the fixpoint;
    # d is dead, e a carry nothing needs
    a, b, c, e = x, 2.0 * x, 3.0 * x, x
    for _ in range(n):
        a = a * 0.5 + np.sin(b)
        b = b * c
        c = c * 0.9 + 0.1
        d = np.cos(c)
        e = e + d
    return np.sum(a * a)


def chained_nested(x, n):
    a, b, c = x, x + 1.0, x * 0.5
    for i in range(n):
        for _ in range(2):
            a = a + np.tanh(b)
            b = b * 0.5 + c
        c = np.exp(-c) + a * 0.0 + 0.25
    return np.sum(a) + np.sum(b)


def _checked_dce_region(calls):
    fast = op._dce_region

    def both(e, live, free=None):
        live2 = set(live)
        ref = _ref_dce_region(e, live2)
        free_here: list = []
        got = fast(e, live, free_here)
        if free is not None:
            free += free_here
        calls.append(1)
        assert (got is None) == (ref is None)
        if got is None:
            return None
        assert got.args == ref.args and got.outs == ref.outs
        for k, b in got.params.items():
            if type(b) is type(ref.params[k]) and hasattr(b, "eqns"):
                rb = ref.params[k]
                assert b.params == rb.params and b.results == rb.results
                assert [(x.prim, x.args, x.outs) for x in b.eqns] == \
                    [(x.prim, x.args, x.outs) for x in rb.eqns]
            else:
                assert b == ref.params[k]
        # what the kept region reads from outside: the reference's walk of it
        reads = set().union(*free_here) if free_here else set()
        want = set().union(*[op.free_vars(b) for b in got.blocks()])
        assert reads == want
        return got
    return both


@pytest.mark.parametrize("fn", [chained_carries, chained_nested])
def test_dce_fixpoint_same_as_reference(monkeypatch, fn):
    calls: list = []
    monkeypatch.setattr(op, "_dce_region", _checked_dce_region(calls))
    x = np.linspace(0.1, 0.9, 4)
    g = s2sgrad.grad(fn)
    g(x, 3)
    monkeypatch.undo()
    assert len(calls) >= 2


def test_dce_fixpoint_on_bench_shapes(monkeypatch, tmp_path):
    calls: list = []
    monkeypatch.setattr(op, "_dce_region", _checked_dce_region(calls))
    for shape in ("loops", "rnn", "branches"):
        mod = _bench_module(tmp_path, 30, shape, prefix="pc10")
        s2sgrad.grad(mod.f, wrt=(0, 1, 2))(*_bench_args(shape))
    monkeypatch.undo()
    assert len(calls) > 10


@pytest.mark.parametrize("fn", [chained_carries, chained_nested])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_chained_carries_values_and_gradients(fn, dtype):
    x = np.linspace(0.1, 0.9, 4).astype(dtype)
    vg = s2sgrad.value_and_grad(fn)
    v, g = vg(x, 3)
    assert np.allclose(v, fn(x, 3), rtol=1e-5 if dtype == np.float32 else 1e-12)
    assert g.dtype == dtype
    want = _fd(lambda y: fn(y, 3), [x.astype(np.float64)], 0)
    tol = 2e-3 if dtype == np.float32 else 1e-6
    assert np.allclose(g, want, rtol=tol, atol=tol)


# ---------------------------------------------------------------- operators on examples


def _operator_prims():
    out = []
    for name in sorted(REGISTRY):
        p = REGISTRY[name]
        if getattr(p.printer, "operator", False):
            out.append(p)
    return out


_EXAMPLES = [np.array([1.5, -2.0, 3.0]), np.array([0.5, 4.0, -1.0], dtype=np.float32),
             np.array([3, -2, 7]), np.array([True, False, True]), np.float64(2.5),
             np.array(1.25), 2.0, 3, True, np.int8(5), np.array([[1.0, 2.0], [3.0, 4.0]])]


class _Eqn:
    def __init__(self, prim):
        self.prim = prim
        self.params = {}


def _outcome(fn, *args):
    import warnings
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = fn(*args)
    except Exception as exc:        # noqa: BLE001 (the same refusal expected)
        return ("raised", type(exc))
    return ("value", type(r), getattr(r, "dtype", None), np.shape(r),
            np.asarray(r).tobytes())


def test_operator_functions_are_the_printed_expressions():
    """For every operator-printed primitive, what _eval_operator runs gives
    the same value, type and dtype as evaluating the printed expression (or
    the same exception), on arrays and Python/NumPy scalars of each kind."""
    prims = _operator_prims()
    assert len(prims) >= 10
    fast_path = 0
    for p in prims:
        for n in (1, 2):
            e = _Eqn(p)
            try:
                code = sp._operator_code(e, n)
            except Exception:        # noqa: BLE001 (no printing for this many operands)
                continue
            if not isinstance(code, sp._CodeType):
                fast_path += 1
            operands = [(a,) for a in _EXAMPLES] if n == 1 else \
                [(a, b) for a in _EXAMPLES for b in _EXAMPLES]
            for args in operands:
                want = _outcome(lambda *a: _old_eval_operator(e, a, {}), *args)
                got = _outcome(lambda *a: sp._eval_operator(e, a, {}), *args)
                assert got == want, (p.name, args)
    assert fast_path >= 8


# ---------------------------------------------------------------- 0-d constants


def scaled(x):
    # each constant read several times: printed as a 0-d array of x's dtype
    y = 0.5 * x + 0.1 * x
    z = x * 2.0 - 0.1 * y
    return np.sum(y * z + 0.5 * z)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_zero_d_constants(dtype):
    x = np.linspace(-1.0, 1.0, 5).astype(dtype)
    vg = s2sgrad.value_and_grad(scaled)
    v, g = vg(x)
    src = vg.source                     # (the specialised code)
    assert np.allclose(v, scaled(x), rtol=1e-5 if dtype == np.float32 else 1e-12)
    assert g.dtype == dtype
    want = _fd(scaled, [x.astype(np.float64)], 0)
    tol = 2e-3 if dtype == np.float32 else 1e-6
    assert np.allclose(g, want, rtol=tol, atol=tol)
    assert ("_0_5_float32" if dtype == np.float32 else "_0_5") in src
    assert "np.inf" not in src


def test_repeated_variable_and_broadcasting():
    def f(x, b):
        y = x * x + b           # b broadcasts over the rows
        for _ in range(2):
            y = y * 0.5 + x
        return np.sum(y * y)
    x = np.arange(6.0).reshape(2, 3) / 7
    b = np.array([0.5, -0.25, 1.0])
    g = s2sgrad.grad(f, wrt=(0, 1))
    gx, gb = g(x, b)
    assert np.allclose(gx, _fd(f, [x, b], 0), rtol=1e-6, atol=1e-7)
    assert np.allclose(gb, _fd(f, [x, b], 1), rtol=1e-6, atol=1e-7)
    assert gb.shape == b.shape
    # a Python scalar argument
    assert np.allclose(s2sgrad.grad(lambda s: np.sum((s * x) ** 2))(0.3),
                       _fd(lambda s: np.sum((s * x) ** 2), [0.3], 0), rtol=1e-6)


# ---------------------------------------------------------------- dispatch by name


def _names_compared(fn, after=None):
    """The strings ``name`` is compared with in ``fn`` (``==``/``in``), and
    the names of the sets it is looked up in, from ``after``'s line on."""
    import inspect
    import textwrap
    src = textwrap.dedent(inspect.getsource(fn))
    tree = ast.parse(src)
    start = 0
    if after is not None:
        start = next(i for i, ln in enumerate(src.splitlines(), 1) if after in ln)
    out = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Compare) and isinstance(n.left, ast.Name) and \
                n.left.id == "name" and n.lineno > start:
            for c in n.comparators:
                for m in ast.walk(c):
                    if isinstance(m, ast.Constant) and isinstance(m.value, str):
                        out.add(m.value)
                    elif isinstance(m, ast.Name):
                        out.add("<" + m.id + ">")
    return out


def test_infer_dispatch_covers_its_operations():
    """_Infer.eqn sends every operation but _INFER_OWN to simple: each name
    its branches compare is in the set."""
    names = _names_compared(sp._Infer.eqn, after="if name not in _INFER_OWN")
    assert names and names <= sp._INFER_OWN, names - sp._INFER_OWN


def test_rewriter_dispatch_covers_its_operations():
    """_Rewriter.eqn leaves every operation but _REWRITTEN (and _COLUMN_LIMIT)
    after its general rewrites: each name its later branches compare is in
    the sets."""
    names = _names_compared(sp._Rewriter.eqn, after="if name not in _REWRITTEN")
    names.discard("<_REWRITTEN>")
    assert "<_COLUMN_LIMIT>" in names
    names.discard("<_COLUMN_LIMIT>")
    assert names and names <= sp._REWRITTEN, names - sp._REWRITTEN


# ---------------------------------------------------------------- the peephole's second round


def fuzzed_60(x, y):
    # the fuzzer's program 60 (tests/test_fuzz.py, session 22)
    v1 = ((np.exp(np.tanh(((y + np.zeros((3,))) @ (x * np.ones((3, 4))))))) ** 2)
    v2 = np.arctan2(np.sinh(np.tanh(v1)),
                    np.sqrt(np.square(np.squeeze(np.fmax(y, (y + np.zeros((1,)))), axis=0)) + 1.0))
    buf3 = np.zeros((1, 1, 2))
    for i4 in range(1):
        buf3[i4] += (np.logaddexp((y + np.zeros((1, 2))), (y + np.zeros((1, 2)))) +
                     (v1[i4] + np.zeros((1, 2))))
    v5 = v1.reshape((2, 2)).reshape((4,))
    return np.sum(v2 ** 2) + np.sum(buf3 ** 2) + np.sum(np.sin(v5))


def test_second_peephole_round_still_rewrites(monkeypatch):
    """The peephole's second round is not dead code: on this fuzzed program
    a value the first round leaves with one use joins a chain the second
    round rebuilds (3 of the fuzzer's first 200 programs).  (No proof that a
    second round cannot change anything exists, so it runs whenever the
    first changed something; the memo makes it cost only the chains the
    first round changed.)  Values and gradients stay right."""
    changed = []
    orig = sp.scale_chains

    def recorded(f, inf, keep=False, memo=None, last=False):
        r = orig(f, inf, keep, memo, last)
        if last:
            changed.append(bool(r.info.get("peephole_changed")))
        return r
    monkeypatch.setattr(sp, "scale_chains", recorded)
    rng = np.random.default_rng(60)
    args = [rng.uniform(-1.0, 1.0, (3, 4)), rng.uniform(-1.0, 1.0, (1,))]
    g = s2sgrad.value_and_grad(fuzzed_60, wrt=(0, 1))
    v, (gx, gy) = g(*args)
    monkeypatch.undo()
    assert True in changed
    assert np.allclose(v, fuzzed_60(*args), rtol=1e-10)
    for i, got in ((0, gx), (1, gy)):
        want = _fd(fuzzed_60, list(args), i)
        assert got.shape == args[i].shape
        assert np.allclose(got, want, rtol=1e-5, atol=1e-7), i
