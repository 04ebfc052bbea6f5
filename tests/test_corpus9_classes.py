"""corpus9, part 8: models written as classes and configuration objects --
a base class with a property, a staticmethod overridden by a subclass, a
classmethod, a penalty method over ``params.values()``; a frozen dataclass
configuration as a default argument; ``**opts`` read with ``.get(k,
default)``; norms by ``ord``; more scipy.special and scipy.stats; chained
comparisons, ``enumerate(start=)``, the inverse and slogdet of a structured
matrix, einsum traces, masking with ``-inf``; ``super().loss(...)``.  And
the refusal met: the walrus operator.
"""
import dataclasses

import numpy as np
import pytest
import scipy.special as sps
import scipy.stats

from s2sgrad import S2SGradError, grad
from tests.corpus9_harness import run_case

R = np.random.default_rng(5)


def rnd(*s, scale=0.5):
    return R.normal(size=s) * scale


X = rnd(6, 3, scale=1.0)
Y = rnd(6, scale=1.0)


@dataclasses.dataclass(frozen=True)
class Config:
    hidden: int = 4
    l2: float = 0.01
    act: str = "tanh"


CFG = Config()


class Base:
    def __init__(self, cfg):
        self.cfg = cfg

    @property
    def l2(self):
        return self.cfg.l2

    @staticmethod
    def act(z):
        return np.tanh(z)

    @classmethod
    def name(cls):
        return cls.__name__

    def penalty(self, params):
        scale = 1.0 if self.name() == "Base" else 1.5
        return scale * self.l2 * sum(np.sum(p ** 2) for p in params.values())

    def loss(self, params, X, y):
        h = self.act(X @ params["W"])
        return np.mean((h @ params["v"] - y) ** 2) + self.penalty(params)


class Child(Base):
    @staticmethod
    def act(z):
        return np.logaddexp(0.0, z)


class ByName(Base):
    def loss(self, params, X, y):
        return Base.loss(self, params, X, y) * 2.0


class WithSuper(Base):
    def loss(self, params, X, y):
        return super().loss(params, X, y) * 2.0


def flat_penalty(params, X, y):
    flat = np.concatenate([p.ravel() for p in params.values()])
    return np.sum((np.tanh(X @ params["W"]) @ params["v"] - y) ** 2) + 0.1 * flat @ flat


def cfg_loss(W, X, cfg=CFG):
    h = np.tanh(X @ W) if cfg.act == "tanh" else np.maximum(X @ W, 0)
    return np.sum(h ** 2) + cfg.l2 * np.sum(W ** 2)


def norms(W):
    return (np.linalg.norm(W, ord=2) + np.linalg.norm(W, "nuc") + np.linalg.norm(W, np.inf)
            + np.linalg.norm(W, 1))


def special_fns(a, b):
    return np.sum(sps.digamma(a) + sps.betaln(a, b) + sps.log_ndtr(b) + sps.erf(b)
                  + sps.polygamma(1, a)
                  + sps.xlog1py(a, b ** 2) + sps.logit(sps.expit(b)) + sps.gammaincc(a, np.abs(b)))


def dirichlet_nll(log_alpha, P):
    alpha = np.exp(log_alpha)
    return -np.sum(scipy.stats.dirichlet.logpdf(P.T, alpha))


def lognormal_t(params, y):
    mu, log_s, log_df = params
    return (-np.sum(scipy.stats.lognorm.logpdf(y, np.exp(log_s), scale=np.exp(mu)))
            - np.sum(scipy.stats.t.logpdf(np.log(y), np.exp(log_df), loc=mu)))


def kwargs_helper(W, X, **opts):
    scale = opts.get("scale", 1.0)
    shift = opts.get("shift", 0.0)
    return np.sum(np.tanh(X @ W * scale + shift) ** 2)


def default_mutable(W, X, layers=(2, 3)):
    out = 0.0
    for n in layers:
        out = out + np.sum(np.tanh(X @ W[:, :n]))
    return out


def chained_comparisons(x, lo=-1.0, hi=1.0):
    total = 0.0
    for xi in x:
        if lo < xi < hi:
            total += xi ** 2
        else:
            total += np.abs(xi)
    return total


def enumerate_start(ws, X):
    out = 0.0
    for k, w in enumerate(ws, start=1):
        out = out + k * np.sum(np.sin(X @ w))
    return out


def zip_strict_lists(ws, bs, X):
    return sum(np.sum(np.tanh(X @ w + b)) for w, b in zip(ws, bs))


def fstring_assert(x):
    assert x.ndim == 1, f"{x.shape}"
    return np.sum(x)


def matrix_inverse_lemma(U, d):
    D = np.diag(np.exp(d))
    A = D + U @ U.T
    return np.trace(np.linalg.inv(A)) + np.linalg.slogdet(A)[1]


def einsum_trace(A, B):
    return (np.einsum("ii", A @ B) + np.einsum("ij,ji->", A, B)
            + np.einsum("i,i->", np.diag(A), np.diag(B)))


def max_pool_strided(x):
    return np.sum(x.reshape(-1, 2).max(axis=1) ** 2) + np.sum(x[::2] * x[1::2])


def masked_softmax_allneg(s, mask):
    s = np.where(mask, s, -np.inf)
    m = np.max(s, axis=-1, keepdims=True)
    e = np.exp(s - m)
    return np.sum(np.log(e.sum(-1)) + m[..., 0])


def walrus(x):
    if (n := np.sum(x ** 2)) > 1.0:
        return n
    return np.sqrt(n + 1.0)


M2 = np.array([[True, False, True], [True, True, False]])
CASES = [
    (Base(CFG).loss, ({"W": rnd(3, 4), "v": rnd(4)}, X, Y), 0, {}),
    (Child(CFG).loss, ({"W": rnd(3, 4), "v": rnd(4)}, X, Y), 0, {}),
    (WithSuper(CFG).loss, ({"W": rnd(3, 4), "v": rnd(4)}, X, Y), 0, {}),
    (ByName(CFG).loss, ({"W": rnd(3, 4), "v": rnd(4)}, X, Y), 0, {}),
    (flat_penalty, ({"W": rnd(3, 4), "v": rnd(4)}, X, Y), 0, {}),
    (cfg_loss, (rnd(3, 2), X), 0, {}),
    (cfg_loss, (rnd(3, 2), X), 0, {"cfg": Config(act="relu", l2=0.5)}),
    (norms, (rnd(3, 4),), 0, {}),
    (special_fns, (np.abs(rnd(3)) + 1.0, rnd(3)), (0, 1), {}),
    (dirichlet_nll, (rnd(3), R.dirichlet(np.ones(3), size=4)), 0, {}),
    (lognormal_t, ((0.1, -0.3, 1.0), np.exp(rnd(5))), 0, {}),
    (kwargs_helper, (rnd(3, 2), X), 0, {"scale": 2.0}),
    (default_mutable, (rnd(3, 3), X), 0, {}),
    (chained_comparisons, (rnd(6, scale=1.5),), 0, {}),
    (enumerate_start, ([rnd(3), rnd(3)], X), 0, {}),
    (zip_strict_lists, ([rnd(3, 2), rnd(3, 2)], [rnd(2), rnd(2)], X), (0, 1), {}),
    (fstring_assert, (rnd(3),), 0, {}),
    (matrix_inverse_lemma, (rnd(3, 2), rnd(3)), (0, 1), {}),
    (einsum_trace, (rnd(3, 3), rnd(3, 3)), (0, 1), {}),
    (max_pool_strided, (rnd(8),), 0, {}),
    (masked_softmax_allneg, (rnd(2, 3), M2), 0, {}),
    (walrus, (rnd(3),), 0, {}),        # (a refusal until corpus12)
]


@pytest.mark.parametrize("case", CASES, ids=[getattr(c[0], "__qualname__", "?") + str(i)
                                             for i, c in enumerate(CASES)])
def test_corpus9_classes(case):
    f, args, wrt, kwargs = case
    run_case(f, args, wrt, kwargs)


REFUSALS = {
    # (walrus: supported since corpus12, in CASES)
}


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_refusals_name_the_line(name):
    f, args, pattern = REFUSALS[name]
    with pytest.raises(S2SGradError, match=pattern):
        grad(f)(*args)
