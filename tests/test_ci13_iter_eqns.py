"""``ir.iter_eqns`` replaced four private copies of the same walk
(``_all_eqns`` in remat.py, reverse.py, codegen.py and draws.py; specialize.py
imported remat's).  Every call those modules make of it while compiling the
golden corpus, plus loops with random draws and a ``Budget`` checkpoint (the
callers in draws.py, remat.py and specialize.measure_budgets), is checked
against the former copy: the same equations, by identity, in the same order."""
import numpy as np
import pytest

import s2sgrad
from s2sgrad import codegen, draws, ir, remat, reverse, specialize
from tests import golden_functions as gf

CALLERS = {"remat": remat, "reverse": reverse, "codegen": codegen, "draws": draws,
           "specialize": specialize}


def former_all_eqns(block):
    """The copy each of the four modules had, letter for letter."""
    for e in block.eqns:
        yield e
        for b in e.blocks():
            yield from former_all_eqns(b)


def noisy_rnn(w, xs, rng):
    h = xs[0]
    for t in range(xs.shape[0]):
        h = np.tanh(w * h + xs[t]) + 0.3 * rng.normal(size=h.shape)
    return np.sum(h * h)


def noisy_states(w, xs, rng):
    h = xs[0]
    for t in range(xs.shape[0]):
        h = np.tanh(w * h + xs[t]) + 0.3 * rng.normal(size=h.shape)
    return h


def branchy_loop(w, xs):
    h = xs[0]
    for t in range(xs.shape[0]):
        if t % 2 == 0:
            h = np.sin(w * h) + xs[t]
        else:
            h = np.cos(h) * w
    return np.sum(h)


R = np.random.default_rng(0)


def _corpus():
    """(name, compiled function, arguments; a last argument None stands for a
    fresh random generator at each call)."""
    xs = R.standard_normal((6, 3))
    return [
        ("f_xyz", s2sgrad.grad(gf.f_xyz, wrt=(0, 1, 2)), (-2.0, 5.0, -4.0)),
        ("logistic", s2sgrad.grad(gf.logistic),
         (R.standard_normal(3), R.standard_normal((5, 3)), np.ones(5))),
        ("rnn", s2sgrad.grad(gf.rnn, wrt=(0, 1)),
         (R.standard_normal((2, 2)), R.standard_normal((2, 3)), R.standard_normal((4, 3)),
          np.zeros(2))),
        ("relu_branch", s2sgrad.grad(gf.relu_branch), (R.standard_normal(3),)),
        ("noisy_rnn_budget", s2sgrad.grad(noisy_rnn, checkpoint=s2sgrad.Budget(bytes=2000)),
         (0.7, xs, None)),
        ("noisy_rnn_sqrt", s2sgrad.grad(noisy_rnn, checkpoint="sqrt"), (0.7, xs, None)),
        ("branchy_loop", s2sgrad.grad(branchy_loop), (0.8, xs)),
        # (the generators a jacobian's draws read: draws.generators)
        ("noisy_jacobian", s2sgrad.jacobian(noisy_states), (np.full(3, 0.7), xs, None)),
    ]


@pytest.fixture
def recorder(monkeypatch):
    calls = {name: 0 for name in CALLERS}

    def make(name):
        def checked(block):
            calls[name] += 1
            got = list(ir.iter_eqns(block))
            want = list(former_all_eqns(block))
            assert len(got) == len(want) and all(a is b for a, b in zip(got, want)), \
                f"{name}: iter_eqns visits other equations than the former _all_eqns"
            return iter(got)
        return checked

    for name, mod in CALLERS.items():
        monkeypatch.setattr(mod, "iter_eqns", make(name))
    return calls


def test_iter_eqns_visits_what_each_former_copy_visited(recorder):
    for name, fn, args in _corpus():
        if args[-1] is None:                        # a fresh generator for each call
            for _ in range(2):                      # compiled, then specialised
                fn(*args[:-1], np.random.default_rng(3))
        else:
            for _ in range(2):
                fn(*args)
    for name, n in recorder.items():
        assert n > 0, f"the corpus never reached {name}'s walk: the check would be empty"


def test_generated_source_same_with_former_copy(monkeypatch):
    """Compiling with the former copy in every caller gives byte-identical
    source (polymorphic and specialised) to compiling with ``iter_eqns``."""
    def sources():
        out = []
        for name, fn, args in _corpus():
            call_args = args[:-1] + (np.random.default_rng(3),) if args[-1] is None else args
            fn(*call_args)
            fn(*call_args)
            out.append((name, getattr(fn, "_last", None) and fn._last.source, fn.source))
        return out

    now = sources()
    for mod in CALLERS.values():
        monkeypatch.setattr(mod, "iter_eqns", former_all_eqns)
    before = sources()
    assert [n for n, _, _ in now] == [n for n, _, _ in before]
    for (name, a, sa), (_, b, sb) in zip(now, before):
        assert a == b, f"{name}: polymorphic source differs"
        assert sa == sb, f"{name}: specialised source differs"
