"""odeint's adjoint calls the right-hand side's generated vjp halves
directly (runtime_ode._direct_halves): the same gradients as through the
public API, taken where the call is plain, the public API otherwise (a
list-valued right-hand side)."""
import numpy as np
import pytest
from scipy.integrate import odeint

import s2sgrad
import s2sgrad.runtime_ode as RO

RNG = np.random.default_rng(7)
W = RNG.standard_normal((4, 4)) * 0.5
B = RNG.standard_normal(4)
Y0 = RNG.standard_normal(4)
TS = np.linspace(0.0, 2.0, 9)


def net(y, t, w, b):
    return np.tanh(w @ y + b) - 0.5 * y + 0.1 * t


def net_tfirst(t, y, w, b):
    return np.tanh(w @ y + b) - 0.5 * y


def pair(y, t, a):
    return [y[1], -a * y[0]]


def loss(w, b, y0):
    return np.sum(odeint(net, y0, TS, args=(w, b), rtol=1e-10, atol=1e-10) ** 2)


def loss_tfirst(w, b, y0):
    ys = odeint(net_tfirst, y0, TS, args=(w, b), tfirst=True, rtol=1e-10, atol=1e-10)
    return np.sum(np.sin(ys))


def loss_pair(a, y0):
    return np.sum(odeint(pair, y0, TS, args=(a,), rtol=1e-10, atol=1e-10) ** 2)


def _both(monkeypatch, fn, args, wrt):
    calls = []
    real = RO._direct_halves

    def spy(vf, call_args):
        out = real(vf, call_args)
        calls.append(out is not None)
        return out

    monkeypatch.setattr(RO, "_direct_halves", spy)
    direct = s2sgrad.grad(fn, wrt=wrt)(*args)
    monkeypatch.setattr(RO, "_direct_halves", lambda vf, call_args: None)
    public = s2sgrad.grad(fn, wrt=wrt)(*args)
    return calls, direct, public


@pytest.mark.parametrize("fn", [loss, loss_tfirst], ids=["plain", "tfirst"])
def test_direct_path_matches_public_api(monkeypatch, fn):
    calls, direct, public = _both(monkeypatch, fn, (W, B, Y0), (0, 1, 2))
    assert calls and all(calls)
    for d, p in zip(direct, public):
        assert d.shape == p.shape and d.dtype == p.dtype
        np.testing.assert_allclose(d, p, rtol=1e-12, atol=1e-14)
    s2sgrad.check_grads(fn, (W, B, Y0), wrt=(0, 1, 2), modes=("rev",), rtol=1e-5, atol=1e-7)


def test_list_valued_rhs_takes_the_public_api(monkeypatch):
    calls, direct, public = _both(monkeypatch, loss_pair, (1.3, np.array([1.0, 0.2])), (0, 1))
    assert calls and not any(calls)
    for d, p in zip(direct, public):
        np.testing.assert_allclose(d, p, rtol=1e-12)
