"""Passes of s2sgrad/optimize.py tested on IR built by hand: IR in, IR out,
``verify`` holds, and the generated code computes what the IR before did."""
import numpy as np

from s2sgrad.codegen import generate
from s2sgrad.ir import Block, Const, Eqn, Func, Var, verify
from s2sgrad.optimize import forward_invariant_carries
from s2sgrad.primitives.core import REGISTRY


def _loop_with_an_unchanged_carry():
    """x, c -> (x * c * c * c, c): a for loop carrying x and c, whose body
    hands c back unchanged; the result reads the loop's c."""
    x, c = Var("x"), Var("c")
    t, xp, cp = Var("t"), Var("x"), Var("c")
    x2 = Var("x")
    body = Block([Eqn(REGISTRY["multiply"], (xp, cp), {}, (x2,), {}, None)], [t, xp, cp],
                 [x2, cp])
    xo, co = Var("x"), Var("c")
    loop = Eqn(REGISTRY["for_loop"], (Const(range(3)), x, c), {}, (xo, co), {"body": body}, None)
    s = Var("s")
    add = Eqn(REGISTRY["add"], (xo, co), {}, (s,), {}, None)
    return Func("f", [x, c], Block([loop, add]), [s, co]), c


def test_unchanged_carry_leaves_the_loop():
    func, c = _loop_with_an_unchanged_carry()
    before = generate(func, {}).fn
    x0, c0 = np.array([1.0, 2.0]), np.array([0.5, 3.0])
    want = before(x0, c0)
    func, c = _loop_with_an_unchanged_carry()
    out = forward_invariant_carries(func)
    verify(out)
    loop = out.body.eqns[0]
    body = loop.params["body"]
    assert len(loop.args) == 2 and len(loop.outs) == 1 and len(body.params) == 2
    assert body.eqns[0].args[1] is c                     # the body reads c itself
    assert out.results[1] is c and out.body.eqns[1].args[1] is c
    got = generate(out, {}).fn(x0, c0)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


def test_changed_carries_stay():
    func, _ = _loop_with_an_unchanged_carry()
    body = func.body.eqns[0].params["body"]
    body.results = [body.results[0], body.eqns[0].outs[0]]   # c <- x * c: not invariant
    out = forward_invariant_carries(func)
    verify(out)
    assert len(out.body.eqns[0].outs) == 2
