"""Compile reports (s2sgrad/verbose.py): ``verbose=True`` prints each pass's
time and IR; a slow compile says what it is doing."""
import time
import threading

import numpy as np

import s2sgrad
from s2sgrad import api, verbose


def f(x, y, z):
    q = x + y
    return q * z


def test_verbose_prints_every_pass_with_its_ir(capsys):
    g = s2sgrad.grad(f, wrt=(0, 1, 2), verbose=True)
    assert g(-2.0, 5.0, -4.0) == (-4.0, -4.0, 3.0)
    err = capsys.readouterr().err
    assert "compiling grad of 'f' (test_verbose.py:" in err
    passes = [ln.split()[1] for ln in err.splitlines() if ln.startswith("s2sgrad:   ")]
    assert passes[:4] == ["lower", "invariance", "reverse", "optimize"]
    assert "specialize" in passes and "codegen" in passes
    assert "= add(x." in err and "= multiply(" in err            # the IR listing
    assert "def f_grad(x, y, z):" in err                              # the generated source
    assert " ms" in err and "compiled grad of 'f'" in err
    # compiled: a second call reports nothing
    g(-2.0, 5.0, -4.0)
    assert capsys.readouterr().err == ""


def test_quiet_by_default(capsys):
    s2sgrad.hessian(lambda x: np.sum(x ** 3))(np.ones(2))
    assert capsys.readouterr().err == ""


def test_every_transformation_accepts_verbose(capsys):
    x = np.linspace(0.1, 1, 3)
    loss = lambda x: np.sum(np.sin(x) ** 2)           # noqa: E731
    s2sgrad.value_and_grad(loss, verbose=True)(x)
    s2sgrad.vjp(lambda x: np.sin(x), verbose=True)(x)[1](x)
    s2sgrad.jvp(loss, verbose=True)((x,), (x,))
    s2sgrad.hvp(loss, verbose=True)((x,), x)
    s2sgrad.hessp(loss, verbose=True)(x, x)
    s2sgrad.hessian(loss, verbose=True)(x)
    s2sgrad.jacobian(lambda x: np.sin(x), verbose=True)(x)
    err = capsys.readouterr().err
    for kind in ("value_and_grad", "vjp", "jvp", "hvp", "hessp", "hessian", "jacobian"):
        assert f"compiling {kind} of " in err, kind
    for p in ("forward", "split_vjp", "linearize", "batching"):
        assert f"s2sgrad:   {p} " in err, p


def test_environment_variable_turns_it_on(capsys, monkeypatch):
    monkeypatch.setattr(verbose, "ENV_VERBOSE", True)
    s2sgrad.grad(lambda x: np.sum(x * x))(np.ones(2))
    assert "s2sgrad:   reverse" in capsys.readouterr().err


def test_slow_compile_says_what_it_is_doing(capsys, monkeypatch):
    monkeypatch.setattr(verbose, "SLOW_SECONDS", 0.05)

    def slow_optimize(func):
        time.sleep(0.3)
        return func
    monkeypatch.setattr(api, "optimize", verbose.traced("optimize", slow_optimize))
    g = s2sgrad.grad(f)
    assert g(1.0, 2.0, 3.0) == 3.0
    err = capsys.readouterr().err
    assert "compiling grad of 'f'" in err and "is taking a while" in err
    assert "now: optimize" in err
    assert "compiled grad of 'f'" in err


def test_one_watcher_thread_for_every_compile(capsys, monkeypatch):
    """The slow-compile report comes from one thread for the process (a timer
    thread per compile cost ~1 ms of a small compile): it reports each slow
    compile in turn, stays silent for fast ones, and is not restarted."""
    monkeypatch.setattr(verbose, "SLOW_SECONDS", 0.05)

    def slow_optimize(func):
        time.sleep(0.3)
        return func
    s2sgrad.grad(lambda x: np.sum(x * x))(np.ones(2))                 # a fast compile
    assert "taking a while" not in capsys.readouterr().err
    threads = [t for t in threading.enumerate() if t.name == "s2sgrad-slow-compile"]
    assert len(threads) == 1
    monkeypatch.setattr(api, "optimize", verbose.traced("optimize", slow_optimize))

    def f1(x):
        return np.sum(np.sin(x))

    def f2(x):
        return np.sum(np.cos(x))
    for fn in (f1, f2):
        s2sgrad.grad(fn)(np.ones(3))
        err = capsys.readouterr().err
        assert f"compiling grad of '{fn.__name__}'" in err and "now: optimize" in err, err
    assert [t for t in threading.enumerate() if t.name == "s2sgrad-slow-compile"] == threads
