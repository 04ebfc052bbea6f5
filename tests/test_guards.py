"""What compilation assumes about the world outside the arguments is guarded
(s2sgrad/guards.py) or read live; static argument keys include the type;
writes outside the function are refused; the source is the running code;
errors point at the user's code; bound methods; check_grads' relative step.

Each test compares the value with plain NumPy and the gradient with finite
differences (``check_grads``) after every change of the world."""
import importlib.util
import itertools
import sys
import textwrap
import traceback
import types

import numpy as np
import pytest

import s2sgrad
from s2sgrad import check_grads, grad, hessian, jvp, value_and_grad, vjp

_count = itertools.count()


def module(tmp_path, text, name=None):
    """Write ``text`` as a module file and import it (a fresh module each time)."""
    name = name or f"s2sg_guard_mod_{next(_count)}"
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(text))
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def same(g, f, *args, wrt=0):
    """value_and_grad agrees with f's value and with finite differences."""
    v, _ = value_and_grad(f, wrt=wrt)(*args)
    np.testing.assert_allclose(v, f(*args), rtol=1e-12, atol=1e-14)
    check_grads(f, args, wrt=wrt, modes=("rev", "fwd"))
    return g(*args)


X = np.array([0.3, -0.7, 1.1])

GLOBALS_SRC = """
import numpy as np
TRAIN = True
act = np.tanh
MODE = "sum"
CONFIG = {"act": np.tanh, "lr": 0.5, "depth": 2}

def helper(z):
    return z * 2.0

def helper3(z):
    return z * 3.0

def f(x):
    h = helper(x)
    if TRAIN:
        h = act(h)
    if MODE == "sum":
        return np.sum(h)
    return np.mean(h)

def g(x):
    h = x
    for _ in range(CONFIG["depth"]):
        h = CONFIG["act"](h) * CONFIG["lr"]
    return np.sum(h ** 2)
"""


def test_helper_callable_flag_and_string_changes_recompile(tmp_path):
    m = module(tmp_path, GLOBALS_SRC)
    gf = grad(m.f)
    for change in [None, ("helper", m.helper3), ("act", np.sin), ("TRAIN", False),
                   ("MODE", "mean"), ("TRAIN", True), ("act", np.tanh)]:
        if change is not None:
            setattr(m, *change)                      # e.g. helper redefined
        expect = m.f(X)
        v, _ = value_and_grad(m.f)(X)
        np.testing.assert_allclose(v, expect)
        got = gf(X)                                   # the same transformation object
        eps = 1e-6
        fd = [(m.f(X + eps * e) - m.f(X - eps * e)) / (2 * eps) for e in np.eye(3)]
        np.testing.assert_allclose(got, fd, rtol=1e-6, atol=1e-8)


def test_dict_entries_read_statically_are_guarded_and_data_is_live(tmp_path):
    m = module(tmp_path, GLOBALS_SRC)
    gg = grad(m.g)
    for change in [None, ("act", np.sin), ("lr", 0.25), ("depth", 3), ("depth", 1)]:
        if change is not None:
            m.CONFIG[change[0]] = change[1]
        same(gg, m.g, X)
        np.testing.assert_allclose(gg(X), grad(m.g)(X))
    assert "CONFIG['lr']" in gg.source           # data: read when the code runs


def test_a_flag_that_alternates_compiles_each_version_once(tmp_path):
    m = module(tmp_path, GLOBALS_SRC)
    gf = grad(m.f)
    for k in range(6):
        m.TRAIN = bool(k % 2)
        np.testing.assert_allclose(gf(X), grad(m.f)(X))
    assert len(gf._versions[(id(gf._cache), next(iter(gf._cache)))]) == 2


def test_guards_of_every_transformation(tmp_path):
    m = module(tmp_path, GLOBALS_SRC)
    fs = dict(jvp=jvp(m.f), vjp=vjp(m.f), hess=hessian(m.f))
    for act in (np.tanh, np.sin):
        m.act = act
        _, t = fs["jvp"]((X,), (np.ones(3),))
        assert t == pytest.approx(np.sum(grad(m.f)(X)))
        out, pb = fs["vjp"](X)
        assert out == pytest.approx(m.f(X))
        np.testing.assert_allclose(pb(1.0), grad(m.f)(X))
        np.testing.assert_allclose(np.diag(fs["hess"](X)), [grad(grad(lambda t: m.f(
            np.where(np.arange(3) == i, t, X))))(X[i]) for i in range(3)], rtol=1e-7)


def test_closure_cells_are_guarded(tmp_path):
    def make(act):
        flag = True

        def f(x):
            if flag:
                return np.sum(act(x))
            return np.sum(x)
        return f

    f = make(np.tanh)
    g = grad(f)
    np.testing.assert_allclose(g(X), 1 - np.tanh(X) ** 2)
    f.__closure__[0].cell_contents = np.sin             # the cell of `act`
    np.testing.assert_allclose(g(X), np.cos(X))
    f.__closure__[1].cell_contents = False              # `flag`
    np.testing.assert_allclose(g(X), np.ones(3))


# ---------------------------------------------------------------- static keys

def _branch(x, flag):
    if flag is True:
        return np.sum(x ** 2)
    if flag == 1:
        return np.sum(x ** 3)
    return np.sum(x)


def test_static_keys_include_the_type():
    g = grad(_branch)
    for flag, expect in [(True, 2 * X), (1, 3 * X ** 2), (True, 2 * X), (1, 3 * X ** 2),
                         (False, np.ones(3)), (0, np.ones(3)), (1, 3 * X ** 2)]:
        np.testing.assert_allclose(g(X, flag), expect)


def _scale(x, k):
    return np.sum(x * k) if k == 1 else np.sum(x ** 2 * k)


def test_static_ints_bools_and_numpy_ints_do_not_share_versions():
    g = grad(_scale)
    for k in (1, True, np.int64(1), 1.0, 2, np.int64(2), 1):
        v, gr = value_and_grad(_scale)(X, k)
        assert v == pytest.approx(_scale(X, k))
        np.testing.assert_allclose(g(X, k), gr)
        np.testing.assert_allclose(gr, np.ones(3) if k == 1 else 2 * X * k)


# ---------------------------------------------------------------- side effects

WRITES_SRC = """
import numpy as np
STATE = {"n": 0}
BUF = np.zeros(3)
CACHE = []

def count(x):
    STATE["n"] += 1
    return np.sum(x)

def buf(x):
    BUF[0] = 1.0
    return np.sum(x * BUF)

def alias(x):
    b = BUF
    b += x
    return np.sum(b)

def view(x):
    v = BUF[1:]
    v[0] = 2.0
    return np.sum(x)

def cache(x):
    CACHE.append(x)
    return np.sum(x)

def addat(x):
    b = BUF
    np.add.at(b, [0, 0], 1.0)
    return np.sum(x * b)
"""


@pytest.mark.parametrize("name, stmt", [
    ("count", 'STATE["n"] += 1'), ("buf", "BUF[0] = 1.0"), ("alias", "b += x"),
    ("view", "v[0] = 2.0"), ("cache", "CACHE.append(x)"), ("addat", "np.add.at(b, [0, 0], 1.0)")])
def test_writes_outside_the_function_are_refused_with_the_line(tmp_path, name, stmt):
    m = module(tmp_path, WRITES_SRC)
    line = [ln.strip() for ln in WRITES_SRC.splitlines()].index(stmt) + 1
    with pytest.raises(s2sgrad.S2SGradError, match=rf"\.py:{line}:"):
        grad(getattr(m, name))(X)
    assert m.STATE == {"n": 0} and not m.BUF.any() and m.CACHE == []


def test_attribute_assignment_is_refused():
    cfg = types.SimpleNamespace(x=1.0)

    def f(x):
        cfg.x = 2.0
        return np.sum(x)
    with pytest.raises(s2sgrad.S2SGradError, match="attribute"):
        grad(f)(X)


# ---------------------------------------------------------------- methods

class Model:
    def __init__(self):
        self.W = np.array([[1.0, 2.0, 0.0], [0.5, -1.0, 0.3], [0.2, 0.1, -0.4]])
        self.n_layers = 2
        self.act = np.tanh
        self.use_bias = True
        self.b = np.array([0.1, 0.2, 0.3])
        self.__scale = 2.0

    def layer(self, h):
        h = self.act(self.W @ h)
        if self.use_bias:
            h = h + self.b
        return h

    def loss(self, x):
        h = x
        for _ in range(self.n_layers):
            h = self.layer(h)
        return np.sum(h ** 2) * self.__scale


def test_grad_of_a_bound_method_reads_self_live_and_guards_its_configuration():
    m = Model()
    g = grad(m.loss)
    same(g, m.loss, X)
    for attr, value in [("W", m.W * 0.5), ("b", np.zeros(3)), ("n_layers", 3),
                        ("use_bias", False), ("act", np.sin), ("_Model__scale", 0.5)]:
        setattr(m, attr, value)
        eps = 1e-6
        fd = [(m.loss(X + eps * e) - m.loss(X - eps * e)) / (2 * eps) for e in np.eye(3)]
        np.testing.assert_allclose(g(X), fd, rtol=1e-6, atol=1e-8)
    assert "self.W" in g.source
    assert hessian(m.loss)(X).shape == (3, 3)


def test_method_wrt_argument_and_value():
    m = Model()
    v, gx = value_and_grad(m.loss, wrt="x")(X)
    assert v == pytest.approx(m.loss(X))
    check_grads(m.loss, (X,), modes=("rev", "fwd"))


# ---------------------------------------------------------------- the source is the running code

def test_a_file_edited_after_import_is_refused(tmp_path):
    m = module(tmp_path, "import numpy as np\ndef f(x):\n    return np.sum(x ** 2)\n",
               name="s2sg_edited")
    (tmp_path / "s2sg_edited.py").write_text(
        "import numpy as np\ndef f(x):\n    return np.sum(x ** 3)\n")
    import linecache
    linecache.checkcache()
    with pytest.raises(s2sgrad.SourceNotFoundError, match=r"s2sg_edited.py:2: .*no longer "
                                                          r"matches"):
        grad(m.f)(X)


def test_read_when_the_transformation_is_created(tmp_path):
    m = module(tmp_path, "import numpy as np\ndef f(x):\n    return np.sum(x ** 2)\n",
               name="s2sg_early")
    g = grad(m.f)                                 # reads (and checks) the source now
    (tmp_path / "s2sg_early.py").write_text("# edited\n")
    np.testing.assert_allclose(g(X), 2 * X)


def test_two_files_with_the_same_text_keep_their_own_sources(tmp_path):
    text = "import numpy as np\ndef f(x):\n    return np.sum(x ** 2)\n"
    a = module(tmp_path, text, name="s2sg_same_a")
    b = module(tmp_path, text, name="s2sg_same_b")
    assert a.f.__code__ == b.f.__code__           # Python finds them equal
    ga, gb = grad(a.f), grad(b.f)
    ga(X), gb(X)
    assert "s2sg_same_a.py:3" in ga.source and "s2sg_same_b.py:3" in gb.source


def test_closures_methods_and_lambdas_verify():
    scale = 2.0

    def inner(x):
        return np.sum(x * scale)
    lam = lambda x: np.sum(x * 3.0)       # noqa: E731
    np.testing.assert_allclose(grad(inner)(X), 2.0 * np.ones(3))
    np.testing.assert_allclose(grad(lam)(X), 3.0 * np.ones(3))
    grad(Model().loss)(X)


# ---------------------------------------------------------------- errors point at the user's code

def _log_loss(x, A):
    y = A @ x
    return np.sum(np.log(y) * y)


def test_refusal_has_no_compiler_frames():
    def f(x):
        try:
            return x
        except ValueError:
            return x
    with pytest.raises(s2sgrad.S2SGradError) as info:
        grad(f)(1.0)
    frames = traceback.extract_tb(info.value.__traceback__)
    assert len(frames) <= 2, frames
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert "test_guards.py" in str(info.value)


def test_error_in_generated_code_names_the_users_statement():
    with pytest.raises(ValueError) as info:
        grad(_log_loss)(np.ones(2), np.eye(3))
    text = "".join(traceback.format_exception(info.value))
    line = _log_loss.__code__.co_firstlineno + 1
    assert f"test_guards.py:{line}: y = A @ x" in text
    with np.errstate(all="raise"), pytest.raises(FloatingPointError) as info:
        value_and_grad(_log_loss)(np.array([1.0, -3.0]), np.eye(2))
    text = "".join(traceback.format_exception(info.value))
    assert f"test_guards.py:{line + 1}: return np.sum(np.log(y) * y)" in text
    with np.errstate(all="raise"), pytest.raises(FloatingPointError) as info:
        jvp(_log_loss)((np.array([1.0, -3.0]), np.eye(2)), (np.ones(2),))
    assert f"test_guards.py:{line + 1}" in "".join(traceback.format_exception(info.value))


# ---------------------------------------------------------------- check_grads

def test_check_grads_step_is_relative_to_the_argument():
    check_grads(lambda x: np.sum(x ** 2), (np.array([1e8, -3e7, 0.5]),), modes=("rev", "fwd"))
    check_grads(lambda x: x ** 2, (1e8,))
    from s2sgrad.check import GradientCheckError
    with pytest.raises(GradientCheckError):
        # a wrong derivative is still caught at large magnitudes
        check_grads(lambda x: np.sum(s2sgrad.stop_gradient(x) * x), (np.array([1e8, 2e8]),))


class _Fresh:
    @property
    def ns(self):                       # a new object at every read
        return types.SimpleNamespace(k=2)


_FRESH = _Fresh()


def _reads_fresh(x):
    return np.sum(x * _FRESH.ns.k)


def test_a_value_that_changes_at_every_call_warns_once_and_stays_right():
    g = grad(_reads_fresh)
    with pytest.warns(RuntimeWarning, match=r"_FRESH\.ns"):
        for _ in range(12):
            np.testing.assert_allclose(g(X), 2 * np.ones(3))
