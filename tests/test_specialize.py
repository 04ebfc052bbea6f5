"""Shape specialisation (s2sgrad/specialize.py): a repeated call signature runs
code compiled for its shapes and dtypes.  It must agree with the
shape-polymorphic code everywhere, including where shapes depend on data,
branches, loops or globals (which the analysis must leave unknown)."""
import numpy as np
import pytest

import s2sgrad
from s2sgrad import api, grad, value_and_grad
from s2sgrad.specialize import UNKNOWN, infer, signature

from tests import test_fuzz as fz


@pytest.fixture
def always(monkeypatch):
    monkeypatch.setattr(api, "SPECIALIZE", "first")


@pytest.fixture
def never(monkeypatch):
    monkeypatch.setattr(api, "SPECIALIZE", "never")


def _generic_and_special(f, args, wrt, monkeypatch):
    monkeypatch.setattr(api, "SPECIALIZE", "never")
    generic = grad(f, wrt=wrt)(*args)
    monkeypatch.setattr(api, "SPECIALIZE", "first")
    g = grad(f, wrt=wrt)
    special = g(*args)
    assert getattr(g._last_run, "generic", None) is not None, "no specialisation compiled"
    return generic, special, g


def _flat(x):
    return np.concatenate([np.ravel(np.asarray(v, dtype=np.float64))
                           for v in fz._leaves(x)] or [np.zeros(0)])


# ---------------------------------------------------------------- what it does


def logistic(w, X, y):
    return np.mean(np.logaddexp(0.0, -y * (X @ w)))


def mlp(W1, b1, W2, b2, X, Y):
    H = np.tanh(X @ W1 + b1)
    R = H @ W2 + b2 - Y
    return 0.5 * np.mean(np.sum(R * R, axis=1))


def test_specialised_source_has_no_runtime_shape_checks(always):
    rng = np.random.default_rng(0)
    X, w, y = rng.normal(size=(20, 5)), rng.normal(size=5), np.sign(rng.normal(size=20))
    g = grad(logistic)
    g(w, X, y)
    src = g.source
    for helper in ("unbroadcast", "unreduce", "matmul_vjp", "np.size"):
        assert helper not in src, src
    assert "@ X" in src and "*= _m0_025" in src       # -0.5 * (1 / n) folded into one constant
    # (a 0-d array constant: codegen.CodeGen.zero_d)
    g4 = grad(mlp, wrt=(0, 1, 2, 3))
    args = (rng.normal(size=(5, 8)), rng.normal(size=8), rng.normal(size=(8, 3)),
            rng.normal(size=3), X, rng.normal(size=(20, 3)))
    g4(*args)
    assert "sum(axis=0)" in g4.source and "unbroadcast" not in g4.source
    assert "matmul_vjp" not in g4.source


def test_second_mode_specialises_on_the_second_call_only(monkeypatch):
    monkeypatch.setattr(api, "SPECIALIZE", "second")
    rng = np.random.default_rng(1)
    X, w, y = rng.normal(size=(20, 5)), rng.normal(size=5), np.sign(rng.normal(size=20))
    g = grad(logistic)
    first = g(w, X, y)
    assert getattr(g._last_run, "generic", None) is None and "unbroadcast" in g.source
    second = g(w, X, y)
    spec = g._last_run
    assert spec.generic is g._last
    np.testing.assert_allclose(second, first, rtol=1e-13)
    g(w * 2, X, y)
    assert g._last_run is spec                         # compiled once per signature
    # another shape: the polymorphic code first, then its own specialisation
    X2, y2 = X[:7], y[:7]
    g(w, X2, y2)
    assert g._last_run is g._last
    out = g(w, X2, y2)
    assert g._last_run is not spec and g._last_run.generic is g._last
    monkeypatch.setattr(api, "SPECIALIZE", "never")
    np.testing.assert_allclose(out, grad(logistic)(w, X2, y2), rtol=1e-12)


def test_first_call_runs_specialised_code_without_printing_the_general_one(monkeypatch):
    monkeypatch.setattr(api, "SPECIALIZE", "first")
    rng = np.random.default_rng(2)
    X, w, y = rng.normal(size=(20, 5)), rng.normal(size=5), np.sign(rng.normal(size=20))
    g = grad(logistic)
    g(w, X, y)
    assert g._last_run.generic is g._last and g._last._code is None
    assert "unbroadcast" not in g.source
    assert g._last._code is None
    assert "unbroadcast" in g.generic_source           # generated when asked for
    assert g.generic_source is g._last.source


def test_number_of_specialisations_is_bounded(always, monkeypatch):
    monkeypatch.setattr(api, "MAX_SPECIALIZATIONS", 2)
    g = grad(lambda x: np.sum(np.sin(x) * x))
    for n in range(1, 6):
        x = np.linspace(0.1, 1.0, n)
        np.testing.assert_allclose(g(x), np.cos(x) * x + np.sin(x), rtol=1e-12)
    c = g._last
    assert c.spec_count == 2
    assert sum(v is not c for v in c.spec.values()) == 2


def test_signature_kinds():
    a = np.ones((2, 3), dtype=np.float32)
    assert signature([a, 1.0, np.float64(2.0)]) == (
        ((2, 3), np.dtype(np.float32), np.ndarray), float, ((), np.dtype(np.float64), np.float64))
    assert signature([[1.0]]) is None


# ---------------------------------------------------------------- soundness


def test_boolean_mask_shape_depends_on_data(monkeypatch):
    def f(x, w):
        pos = x[x > 0]                       # the length depends on the values
        return np.sum(pos * w[0]) + np.sum(pos[:, None] * w)

    w = np.array([1.5, -0.5, 2.0])
    for seed in range(4):                   # same shapes, different masks
        x = np.random.default_rng(seed).normal(size=9)
        generic, special, _ = _generic_and_special(f, (x, w), (0, 1), monkeypatch)
        for a, b in zip(generic, special):
            np.testing.assert_allclose(a, b, rtol=1e-12)


def test_branch_dependent_shapes(monkeypatch):
    def f(x):
        if np.sum(x) > 0:
            y = x[:2]
        else:
            y = x[:3]
        return np.sum(y * np.arange(1.0, 1.0 + y.shape[0]))

    for x in (np.array([1.0, 2.0, 3.0, 4.0]), np.array([-1.0, -2.0, -3.0, 4.0])):
        generic, special, g = _generic_and_special(f, (x,), 0, monkeypatch)
        np.testing.assert_allclose(special, generic, rtol=1e-13)
    # the same specialisation serves both branches
    a, b = g(np.array([1.0, 2.0, 3.0, 4.0])), g(np.array([-1.0, -2.0, -3.0, 4.0]))
    np.testing.assert_array_equal(a, [1.0, 2.0, 0.0, 0.0])
    np.testing.assert_array_equal(b, [1.0, 2.0, 3.0, 0.0])


def test_loop_carried_shape_change(monkeypatch):
    def f(x, w):
        h = x
        for _ in range(3):
            h = np.concatenate([h, x * w])
        return np.sum(h * h) + np.sum(h[:2] * w)

    x, w = np.array([0.5, -1.0]), np.array([2.0, 0.25])
    generic, special, _ = _generic_and_special(f, (x, w), (0, 1), monkeypatch)
    for a, b in zip(generic, special):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_data_dependent_loop_length_and_index(monkeypatch):
    def f(x):
        i = 0
        acc = np.zeros(2)
        while i < 3 and x[i] > 0:           # the trip count depends on data
            acc = acc + x[i:i + 2] * x[i]   # slice bounds computed in the loop
            i = i + 1
        return np.sum(acc * acc) + np.sum(x[:i + 1])

    for x in (np.array([1.0, 2.0, 3.0, -1.0, 0.5]), np.array([1.0, -2.0, -3.0, -1.0, 0.5])):
        generic, special, _ = _generic_and_special(f, (x,), 0, monkeypatch)
        np.testing.assert_allclose(special, generic, rtol=1e-12)


SCALE = np.ones((3, 2))


def uses_global(x):
    return np.sum((x @ SCALE) ** 2)


def test_globals_are_read_live_not_specialised(always):
    global SCALE
    g = grad(uses_global)
    x = np.array([[1.0, 2.0, 3.0]])
    np.testing.assert_allclose(g(x), 2 * (x @ SCALE) @ SCALE.T)
    old = SCALE
    try:
        SCALE = np.arange(12.0).reshape(3, 4) / 10      # another shape, same arguments
        np.testing.assert_allclose(g(x), 2 * (x @ SCALE) @ SCALE.T)
    finally:
        SCALE = old


def test_dtypes_and_python_scalars(always):
    def f(x, s, t):
        return np.sum(np.tanh(x * s) / t) + s * t

    x32 = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    g = value_and_grad(f, wrt=(0, 1, 2))
    for _ in range(2):
        val, (dx, ds, dt) = g(x32, 0.5, np.float32(2.0))
        assert dx.dtype == np.float32 and type(ds) is float and type(dt) is np.float32
    x64 = x32.astype(np.float64)
    _, (ex, es, et) = value_and_grad(f, wrt=(0, 1, 2))(x64, 0.5, 2.0)
    np.testing.assert_allclose(dx, ex, rtol=1e-5)
    np.testing.assert_allclose(ds, es, rtol=1e-5)
    np.testing.assert_allclose(dt, et, rtol=1e-5)


def test_shapes_found_by_abstract_evaluation():
    def f(x, W):
        h = np.tanh(x @ W)
        return np.sum(h[x[:, 0] > 0])

    x, W = np.ones((4, 3)), np.ones((3, 5))
    g = grad(f, wrt=1)
    g(x, W)
    func = g._last.func
    inf = infer(func, [x, W])
    shapes = {np.shape(v) for v in inf.ex.values() if v is not UNKNOWN
              and isinstance(v, np.ndarray)}
    assert (4, 5) in shapes and (3, 5) in shapes
    # the masked rows are not known
    masked = [e.outs[0] for e in func.body.eqns if e.prim.name == "getitem"
              and any(isinstance(a, s2sgrad.ir.Var) and np.asarray(inf.val(a)).dtype == bool
                      for a in e.args[1:])]
    assert masked and all(inf.val(v) is UNKNOWN for v in masked)


def test_env_setting_validated():
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-c", "import s2sgrad"], capture_output=True,
                       text=True, env={"S2SGRAD_SPECIALIZE": "sometimes", "PATH": ""})
    assert r.returncode != 0 and "S2SGRAD_SPECIALIZE" in r.stderr


# ---------------------------------------------------------------- differential


SEEDS = range(7000, 7150)


@pytest.mark.parametrize("seed", SEEDS)
def test_random_programs_specialised_equal_generic(seed, monkeypatch):
    """Random programs of the fuzzer (tests/test_fuzz.py): the specialised
    gradient equals the polymorphic one, at the compiling call and at a call
    with other values of the same shapes (masks, branches and loop counts
    may change)."""
    try:
        src, specs, _ = fz.generate(seed)
    except RecursionError:
        pytest.skip("generator recursion")
    f = fz.load(src)
    kinds = [k for _, k, _, _ in specs]
    wrt = tuple(i for i, k in enumerate(kinds) if k not in ("int", "idx", "default"))
    if not wrt:
        pytest.skip("nothing to differentiate")
    for k, s in enumerate((seed, seed + 100000)):
        args = fz.make_args(specs, s)
        monkeypatch.setattr(api, "SPECIALIZE", "never")
        try:
            with np.errstate(all="ignore"):
                expected = grad(f, wrt=wrt)(*args)
        except Exception:
            pytest.skip("not valid at this point")
        monkeypatch.setattr(api, "SPECIALIZE", "first")
        if k == 0:
            g = grad(f, wrt=wrt)
        with np.errstate(all="ignore"):
            got = g(*args)
        la, lb = fz._leaves(got), fz._leaves(expected)
        assert len(la) == len(lb)
        for a, b in zip(la, lb):
            assert type(a) is type(b)
            assert np.shape(a) == np.shape(b) and np.result_type(a) == np.result_type(b)
            # float32 results may differ in the last bits (sums in another order)
            f32 = np.result_type(b) == np.float32
            np.testing.assert_allclose(_flat(a), _flat(b), rtol=2e-5 if f32 else 1e-9,
                                       atol=1e-6 if f32 else 1e-12,
                                       err_msg=f"seed {seed}\n{src}\n{g.source}")


# ---------------------------------------------------------------- buffer reuse


def test_buffers_reused_in_place_like_hand_written_code(always):
    rng = np.random.default_rng(3)
    args = (rng.normal(size=(5, 8)), rng.normal(size=8), rng.normal(size=(8, 3)),
            rng.normal(size=3), rng.normal(size=(20, 5)), rng.normal(size=(20, 3)))
    g = grad(mlp, wrt=(0, 1, 2, 3))
    got = g(*args)
    src = g.source
    assert "H += b1" in src and "np.tanh(H, out=H)" in src, src
    generic_grad = grad(mlp, wrt=(0, 1, 2, 3))
    api.SPECIALIZE = "never"
    try:
        expected = generic_grad(*args)
    finally:
        api.SPECIALIZE = "first"
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_no_reuse_of_values_that_escape_or_are_viewed(always):
    def f(x):
        t = x * 2.0
        v = t.T                       # a view of t: t must not be overwritten
        u = np.exp(t)
        s = u * 3.0
        return np.sum(s * v), (t, s)  # t and s escape as aux

    x = np.array([[0.1, 0.2], [0.3, -0.4]])
    for _ in range(2):
        dx, (t, s) = grad(f, has_aux=True)(x)
        np.testing.assert_array_equal(t, 2 * x)
        np.testing.assert_allclose(s, 3 * np.exp(2 * x))
        expected = 6 * np.exp(2 * x) * (2 * x).T + (2 * 3 * np.exp(2 * x)).T
        np.testing.assert_allclose(dx, expected, rtol=1e-12)


def test_no_reuse_of_saved_loop_values(always):
    def f(x, W):
        h = x
        acc = 0.0
        for _ in range(4):
            a = W @ h
            b = a * 0.5             # a is saved for the reverse sweep?  never overwritten
            h = np.sin(b) + a
            acc = acc + np.sum(h * h)
        return acc

    rng = np.random.default_rng(4)
    x, W = rng.normal(size=3), rng.normal(size=(3, 3)) * 0.5
    got = grad(f, wrt=(0, 1))(x, W)
    s2sgrad.check_grads(f, (x, W), wrt=(0, 1))
    api.SPECIALIZE = "never"
    try:
        expected = grad(f, wrt=(0, 1))(x, W)
    finally:
        api.SPECIALIZE = "first"
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def _dot(x, y):
    return np.sum(x * y)


def test_returned_gradients_are_the_callers_own(always):
    """The specialised fast path returns results without checks only when
    they are certainly fresh arrays: d/dx sum(x * y) is y itself, and
    d/dx, d/dy of sum((x + y) * z) are one array."""
    x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    g = grad(_dot)
    for _ in range(3):
        d = g(x, y)
        assert d is not y and not np.shares_memory(d, y)
        np.testing.assert_array_equal(d, [3.0, 4.0])
        d[:] = 0.0
    assert y.tolist() == [3.0, 4.0]
    g3 = grad(lambda x, y, z: np.sum((x + y) * z), wrt=(0, 1, 2))
    for _ in range(3):
        dx, dy, dz = g3(x, y, x * 2)
        assert not np.shares_memory(dx, dy)
    f32 = np.array([1.0, 2.0], dtype=np.float32)
    for _ in range(3):
        assert g(f32, y).dtype == np.float32


def test_large_arguments_use_compact_examples(always, monkeypatch):
    """Examples of large arrays are zero-stride views (O(1) memory); the
    specialisation is the same as with full examples."""
    from s2sgrad import specialize
    rng = np.random.default_rng(5)
    args = (rng.normal(size=(30, 40)), rng.normal(size=40), rng.normal(size=(40, 3)),
            rng.normal(size=3), rng.normal(size=(500, 30)), rng.normal(size=(500, 3)))
    sources = []
    for compact in (10 ** 9, 0):
        monkeypatch.setattr(specialize, "_COMPACT", compact)
        g = grad(mlp, wrt=(0, 1, 2, 3))
        got = g(*args)
        sources.append(g.source)
    assert sources[0] == sources[1]
    monkeypatch.setattr(api, "SPECIALIZE", "never")
    for a, b in zip(got, grad(mlp, wrt=(0, 1, 2, 3))(*args)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_unusual_array_arguments(monkeypatch):
    """Non-contiguous, Fortran-ordered, read-only, 0-d and empty arguments:
    specialised and polymorphic code agree (and arguments stay untouched)."""
    def f(W, X, b):
        H = np.tanh(X @ W + b)
        return np.sum(H * H) + np.sum(b ** 2)

    rng = np.random.default_rng(6)
    base = rng.normal(size=(8, 6))
    W = np.asfortranarray(rng.normal(size=(3, 4)))
    X = base[::2, 1:4]                         # a strided view
    b = rng.normal(size=4)
    b.flags.writeable = False
    for args in ((W, X, b), (W, X[:0], b), (W[:, :1], X, np.float64(0.3)),
                 (W[:, :1], X, np.array(0.3))):
        before = [np.array(a, copy=True) for a in args]
        generic, special, _ = _generic_and_special(f, args, (0, 2), monkeypatch)
        for a, c in zip(generic, special):
            assert type(a) is type(c) and np.shape(a) == np.shape(c)
            np.testing.assert_allclose(a, c, rtol=1e-12)
        for a, c in zip(args, before):
            np.testing.assert_array_equal(a, c)


def test_a_failing_specialisation_falls_back_to_the_general_code(monkeypatch):
    def broken(func, leaves):
        raise RuntimeError("specialiser bug")

    monkeypatch.setattr(api, "_specialize", broken)
    monkeypatch.setattr(api, "STRICT_SPECIALIZE", False)
    g = grad(lambda x: np.sum(np.sin(x)))
    x = np.linspace(0, 1, 4)
    np.testing.assert_allclose(g(x), np.cos(x))
    assert g._last_run is g._last                      # the polymorphic code ran
    monkeypatch.setattr(api, "STRICT_SPECIALIZE", True)
    with pytest.raises(RuntimeError, match="specialiser bug"):
        grad(lambda x: np.sum(np.cos(x)))(x)


def _cross_entropy(W, X, labels):
    logits = X @ W
    logits = logits - logits.max(axis=1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return -np.mean(logp[np.arange(len(labels)), labels])


def test_values_read_only_for_their_shape_are_not_computed(always, monkeypatch):
    """logp is read by the adjoint of logp[rows, labels] only for its shape:
    the specialised gradient never computes the log (nor logp)."""
    rng = np.random.default_rng(7)
    W, X, labels = rng.normal(size=(4, 3)), rng.normal(size=(10, 4)), rng.integers(0, 3, 10)
    g = grad(_cross_entropy)
    got = g(W, X, labels)
    code = [ln for ln in g.source.splitlines() if not ln.strip().startswith("#")]
    assert not any("np.log(" in ln for ln in code), g.source
    monkeypatch.setattr(api, "SPECIALIZE", "never")
    np.testing.assert_allclose(got, grad(_cross_entropy)(W, X, labels), rtol=1e-12)
    s2sgrad.check_grads(_cross_entropy, (W, X, labels), wrt=0)


def _fuzz_program(seed, name="f", kinds_ok=None):
    """(function, args, wrt, source) of the fuzzer's program for ``seed``."""
    try:
        src, specs, _ = fz.generate(seed)
    except RecursionError:
        pytest.skip("generator recursion")
    if f"def {name}(" not in src:
        pytest.skip(f"no {name}")
    kinds = [k for _, k, _, _ in specs]
    wrt = tuple(i for i, k in enumerate(kinds) if (k in kinds_ok if kinds_ok else
                                                  k not in ("int", "idx", "default")))
    if not wrt:
        pytest.skip("nothing to differentiate")
    return fz.load(src, name), fz.make_args(specs, seed), wrt, src


def _same_in_both_modes(run, monkeypatch, what):
    """``run()`` with the polymorphic and with the specialised code: the same
    results (float32 to its precision), or the same refusal."""
    results = []
    for mode in ("never", "first"):
        monkeypatch.setattr(api, "SPECIALIZE", mode)
        try:
            with np.errstate(all="ignore"):
                results.append(run())
        except Exception as exc:
            results.append(type(exc))
    if isinstance(results[0], type) or isinstance(results[1], type):
        assert results[1] is results[0]
        return
    for a, b in zip(fz._leaves(results[1]), fz._leaves(results[0])):
        f32 = np.result_type(b) == np.float32
        np.testing.assert_allclose(_flat(a), _flat(b), rtol=2e-5 if f32 else 1e-9,
                                   atol=1e-6 if f32 else 1e-12, err_msg=what)


@pytest.mark.parametrize("seed", range(7200, 7240))
def test_random_programs_specialised_jvp_and_hvp_equal_generic(seed, monkeypatch):
    """jvp and hvp run specialised code too: equal to the polymorphic code."""
    f, args, wrt, src = _fuzz_program(seed, kinds_ok=("f64", "f32", "py", "np64s", "np32s"))
    rng = np.random.default_rng(seed)
    tans = tuple(np.asarray(rng.uniform(-1, 1, np.shape(args[i])), dtype=np.result_type(args[i]))
                 if np.ndim(args[i]) else type(args[i])(rng.uniform(-1, 1)) for i in wrt)

    def run():
        _, t = s2sgrad.jvp(f, wrt=wrt)(tuple(args), tans)
        return t, s2sgrad.hvp(f, wrt=wrt)(tuple(args), tans)
    _same_in_both_modes(run, monkeypatch, f"seed {seed}\n{src}")


@pytest.mark.parametrize("seed", range(7300, 7330))
def test_random_programs_specialised_vjp_equal_generic(seed, monkeypatch):
    """Both halves of vjp run specialised code: equal to the polymorphic code,
    and the pullback can be called twice."""
    f, args, wrt, src = _fuzz_program(seed, "f_vec")

    def run():
        out, pullback = s2sgrad.vjp(f, wrt=wrt)(*args)
        ct = np.cos(np.arange(np.size(out), dtype=float)).reshape(np.shape(out))
        return out, pullback(ct), pullback(2 * ct)
    _same_in_both_modes(run, monkeypatch, f"seed {seed}\n{src}")


# ---------------------------------------------------------------- scalars of several kinds


def summed_rnn(Wh, xs, h):
    loss = 0.0                                   # a Python float, np.float64 after one step
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + xs[t])
        loss = loss + np.sum(h ** 2)
    return loss


def int_accumulator(x):
    total = 0                                    # a Python int, then np.float64
    for i in range(3):
        total = total + np.sum(x * i)
    return total


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_loss_accumulated_from_a_python_scalar_is_specialised(dtype, monkeypatch):
    """A carry that is a Python float before the loop and a NumPy scalar after
    one step joins to a Mixed value (specialize.Mixed), not to UNKNOWN: the
    derivative code of the loop is specialised (no run-time shape helpers)."""
    rng = np.random.default_rng(5)
    args = (rng.normal(size=(4, 4)).astype(dtype) * 0.3, rng.normal(size=(6, 4)).astype(dtype),
            np.zeros(4, dtype))
    generic, special, g = _generic_and_special(summed_rnn, args, (0, 1), monkeypatch)
    for helper in ("unbroadcast", "matmul_vjp", "scalar_seed"):
        assert helper not in g.source, g.source
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for a, b in zip(special, generic):
        assert a.dtype == b.dtype == dtype
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    generic, special, g = _generic_and_special(int_accumulator, (np.ones(3, dtype),), 0,
                                               monkeypatch)
    np.testing.assert_allclose(special, generic)
    assert special.dtype == dtype and "scalar_seed" not in g.source


def test_mixed_join_keeps_types_apart():
    from s2sgrad.specialize import Mixed, _join, _same
    m = _join(0.0, np.float64(1.0))
    assert isinstance(m, Mixed) and len(m.alts) == 2
    assert _same(_join(m, np.float64(2.0)), m)           # already one of its kinds
    assert _join(m, np.ones(2)) is UNKNOWN                # not a 0-d value
    assert _join(np.ones(2), np.ones(2, np.float32)) is UNKNOWN
    assert _join(1.0, 2.0) == 1.0


@pytest.mark.parametrize("loss", [
    lambda x: np.sum(np.abs(x)),
    lambda x: np.linalg.norm(x) * 2.0,
    lambda x: np.std(x),
    lambda x: np.sum(np.hypot(x, 2.0 * x + 1.0)),
])
def test_norm_scale_is_a_multiply_in_specialised_code(loss):
    # norm_scale(x, s, r) is x * s at run time; only its derivative checks a
    # zero norm, and specialised code is not differentiated again: no helper
    # call is left (grad(sum(abs(x))) was ~0.7 us dearer with it)
    x = np.array([0.3, -1.2, 2.0, -0.4])
    g = s2sgrad.grad(loss)
    got = g(x)
    assert "norm_scale" not in g.source
    eps = 1e-6
    fd = np.array([(loss(x + eps * e) - loss(x - eps * e)) / (2 * eps) for e in np.eye(4)])
    np.testing.assert_allclose(got, fd, rtol=1e-6, atol=1e-8)
    x32 = x.astype(np.float32)
    assert g(x32).dtype == np.float32
    # second order still goes through the checked helper: the Hessian of
    # norm ** 2 at 0 is refused (the chain rule would give 0, not 2 I) ...
    with pytest.raises(ValueError, match="second derivative"):
        s2sgrad.hessian(lambda x: np.linalg.norm(x) ** 2)(np.zeros(3))
    # ... and is right away from 0
    np.testing.assert_allclose(s2sgrad.hessian(lambda x: np.linalg.norm(x) ** 2)(x),
                               2.0 * np.eye(4), atol=1e-12)
