"""``del`` after last use in generated code (s2sgrad.liveness): where the pass
deletes and where it must not, and gradients of programs whose every dead
array is deleted against the same programs without deletions."""
import warnings

import numpy as np
import pytest

import s2sgrad
from s2sgrad import codegen, grad, value_and_grad
from s2sgrad.liveness import delete_dead

from .test_fuzz import flat, generate, load, make_args


def _dels(src):
    return [ln.strip() for ln in src.splitlines() if ln.strip().startswith("del ")]


def test_deleted_after_the_last_statement_that_touches_a_name():
    src = '''def f(a, b):
    # line 1
    x = a @ b
    y = np.tanh(x)
    if y.sum() > 0:
        z = y * 2
    w, v = y, y + 1
    for t in range(3):
        u = w * t
    # line 2
    return w + v
'''
    out = delete_dead(src, lambda n: True)
    # x after its last read; y after the tuple assignment; z (bound in one
    # branch only), the parameters and the returned values never; u (bound
    # afresh by each step before any read, touched nowhere else) in the
    # step, after its last use -- never after the loop (it may not run)
    assert _dels(out) == ["del x", "del y", "del u"], out
    lines = out.splitlines()
    assert lines[lines.index("    y = np.tanh(x)") + 1] == "    del x"
    assert "# line 2" in out and "# line 1" in out
    compile(out, "<test>", "exec")
    assert delete_dead(src, lambda n: n != "x").count("del x") == 0


def test_closures_and_local_functions():
    src = '''def f(a):
    x = a * 2
    y = a * 3
    s = a * 4
    def seg(k, s=s):
        return k + s
    def step(g):
        return g * x
    def kept(g):
        return g * y
    out = checkpoint_backward(tape, step, (a,), ())
    r = run(seg, kept)
    return out, r
'''
    out = delete_dead(src, lambda n: n in ("x", "y", "s"))
    dels = _dels(out)
    # x is read by a local function handed once to a driver that keeps no
    # reference: dead after that call; y is read by a closure that escapes
    # (run may keep it): never deleted; s went into seg's default argument,
    # and seg, whose defaults hold values, is deleted after its last use
    assert "del x" in dels and not any("y" in d.split() for d in dels), out
    assert "del s" in dels and "del seg" in dels, out
    assert out.index("del x") > out.index("out = checkpoint_backward")
    compile(out, "<test>", "exec")


def test_names_a_nested_function_declares_nonlocal_are_kept():
    src = '''def f(a):
    x = a * 2
    def g():
        nonlocal x
        x = 3
    y = x + 1
    g()
    return y
'''
    assert _dels(delete_dead(src, lambda n: True)) == []


def test_nested_function_bodies_are_planned_on_their_own():
    src = '''def f(a):
    def step(g, h):
        t = g @ h
        t2 = t + 1
        return t2 * 2
    return step(a, a)
'''
    out = delete_dead(src, lambda n: True)
    assert _dels(out) == ["del t"], out


# ---------------------------------------------------------------- generated code


def block(W1, W2, h):
    return h + np.tanh(h @ W1) @ W2


@s2sgrad.checkpoint
def block_ckpt(W1, W2, h):
    return h + np.tanh(h @ W1) @ W2


def mlp_zip(W1s, W2s, h):
    for W1, W2 in zip(W1s, W2s):
        h = block(W1, W2, h)
    return np.sum(h)


def mlp_zip_ckpt(W1s, W2s, h):
    for W1, W2 in zip(W1s, W2s):
        h = block_ckpt(W1, W2, h)
    return np.sum(h)


def _zip_args(L=4, W=6, E=10, B=8, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return ([rng.standard_normal((W, E)).astype(dtype) / 3 for _ in range(L)],
            [rng.standard_normal((E, W)).astype(dtype) / 3 for _ in range(L)],
            rng.standard_normal((B, W)).astype(dtype))


def _numpy_mlp(W1s, W2s, h):
    for W1, W2 in zip(W1s, W2s):
        h = h + np.tanh(h @ W1) @ W2
    return np.sum(h)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_unrolled_blocks_delete_their_dead_cotangents(monkeypatch, dtype):
    args = _zip_args(dtype=dtype)
    for f in (mlp_zip, mlp_zip_ckpt):
        monkeypatch.setattr(codegen, "DEL_BYTES", 1 << 62)      # no deletions
        g = value_and_grad(f, wrt=(0, 1, 2))
        for _ in range(2):                              # compiled, then specialised
            val0, ref = g(*args)
        # (a checkpoint tape, holding snapshots, is dropped whatever its size)
        assert all("_tape" in d for d in _dels(g.source)), g.source
        monkeypatch.setattr(codegen, "DEL_BYTES", 0)    # every dead array
        g = value_and_grad(f, wrt=(0, 1, 2))
        for _ in range(2):
            val, got = g(*args)
        dels = _dels(g.source)
        assert dels, g.source
        assert np.isclose(val, _numpy_mlp(*args), rtol=1e-5 if dtype == np.float32 else 1e-13)
        assert val == val0
        tol = 8 * np.finfo(dtype).eps
        for x, y in zip(flat(got), flat(ref)):
            assert abs(x - y) <= tol * (1 + abs(y))
        # never an argument (the caller's), never a returned gradient
        params = {"W1s_0", "W1s_1", "W2s_0", "h"}
        deleted = {n.strip() for d in dels for n in d[4:].split(",")}
        assert not deleted & params, dels
        ret = g.source.strip().splitlines()[-1]
        assert not any(n in ret.replace(",", " ").split() for n in deleted), ret
    # the checkpointed chain frees each block's input, tape and segment
    # function once its step has run
    assert "del block_ckpt_tape" in g.source and "del block_ckpt_segment" in g.source, g.source


def test_deletions_only_for_large_arrays_by_default():
    args = _zip_args()
    g = grad(mlp_zip, wrt=(0, 1))
    g(*args)
    g(*args)
    assert "del " not in g.source                      # 480-byte arrays: left alone
    big = _zip_args(L=2, W=128, E=256, B=512)
    g(*big)
    g(*big)
    assert "del " in g.source


def _programs(n):
    out, seed = [], 1000
    while len(out) < n:
        src, specs, _ = generate(seed)
        out.append((seed, src, specs))
        seed += 1
    return out


_deleting: list = []


@pytest.mark.parametrize("seed,src,specs", _programs(30), ids=lambda x: str(x)[:8])
def test_fuzzed_programs_with_every_dead_array_deleted(monkeypatch, seed, src, specs):
    # every dead array deleted (DEL_BYTES = 0): the same gradients as the
    # polymorphic code, which deletes nothing
    f = load(src)
    args = make_args(specs, seed)
    kinds = [k for _, k, _, _ in specs]
    wrt = tuple(i for i, k in enumerate(kinds) if k not in ("int", "idx", "default"))
    if not wrt:
        pytest.skip("nothing to differentiate")
    monkeypatch.setattr(codegen, "DEL_BYTES", 1 << 62)
    g = value_and_grad(f, wrt=wrt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            for _ in range(2):
                v0, ref = g(*args)
        except Exception as exc:     # not a program this test is about
            pytest.skip(f"no gradient: {exc}")
        monkeypatch.setattr(codegen, "DEL_BYTES", 0)
        g = value_and_grad(f, wrt=wrt)
        for _ in range(2):
            v1, got = g(*args)
    _deleting.append(bool(_dels(g.source)))
    assert flat(v1).tolist() == pytest.approx(flat(v0).tolist(), rel=1e-12, nan_ok=True)
    fx, fy = flat(got), flat(ref)
    assert np.allclose(fx, fy, rtol=1e-12, atol=1e-12 * (1 + np.max(np.abs(fy), initial=0)),
                       equal_nan=True), g.source


def test_fuzzed_programs_did_delete():
    # (runs after the fuzzed programs: most of them had something to delete)
    if len(_deleting) < 10:
        pytest.skip("run with the fuzzed programs")
    assert sum(_deleting) >= len(_deleting) // 3, _deleting
