"""corpus10: regression tests for what the corpus found (each failed on main
875ebf4 with a refusal or a crash; none gave a wrong number), and the
over-refusals left by corpus9, each checked for value, gradient against
central differences, a second point and float32 (``tests/corpus10_harness``):

* a helper whose runtime loop (over a list passed as data) first assigns a
  name read after the loop (``for W, b in params: out = ...; return out``)
  was refused "used before it is assigned": the loop's carries were found in
  the *compiled* function's source, not the helper's (control.carried_names);
* ``list(g)`` of a constant tuple (an item of a tuple of index groups) was
  refused as "a computed value";
* ``print(f"... {loss:.4f}")`` and ``logging.debug(f"step {i}")`` were
  refused (an f-string of run-time values), and ``LOG.info(...)`` inlined the
  logging module until it met a ``try``; print and logging calls are now
  output only, as print always was;
* ``hp.steps`` of a namedtuple passed as (non-differentiated) data was refused;
* ``for layer in self.layers`` with ``self.layers`` a tuple of the user's
  layer objects read the tuple as data and refused ``layer.n_params``;
* ``grad(f)`` of ``f`` decorated with ``functools.wraps`` was refused as "the
  file was changed" (inspect follows ``__wrapped__`` to another function's
  source), and so was a call of such a function inside the loss;
* ``f(w, *args, **kwargs)`` passing on data arrays received through
  ``*args``/``**kwargs`` was refused ("'*' unpacking of a computed value");
* ``for k in cfg`` over a dict passed as data crashed (KeyError 0 in the
  generated code: it iterated the dict by position).
"""
import collections
import functools
import math
import logging
import typing

import numpy as np
import pytest

from s2sgrad import grad, value_and_grad
from tests.corpus10_harness import check

R = np.random.default_rng(10070)
X = R.normal(size=(5, 3))
Y = R.normal(size=5)


def rnd(*shape, scale=0.5):
    return R.normal(size=shape) * scale


# ---------------------------------------------------------------- loop carries of a helper

def mlp_helper(params, x):
    for W, b in params:
        out = x @ W + b
        x = np.tanh(out)
    return out


def data_params_loss(x, params):
    return np.sum(mlp_helper(params, x) ** 2)


def last_counter(x, rows):
    for r in rows:
        y = x * r
    return y


def target_after_loop(x, rows):
    return np.sum(last_counter(x, rows)) + np.sum(np.sin(x))


def test_helper_loop_assigns_name_read_after_it():
    params = [(rnd(3, 4), rnd(4)), (rnd(4, 2), rnd(2))]
    check(data_params_loss, (X, params), 0)
    check(target_after_loop, (rnd(3), [1.0, 2.0, 3.0]), 0)


# ---------------------------------------------------------------- list() of a constant

GROUPS = ((0, 1), (2,))


def group_norms(w, X):
    pen = 0.0
    for g in GROUPS:
        idx = list(g)
        pen = pen + np.sqrt(len(idx)) * np.linalg.norm(w[idx])
    return pen + np.sum((X @ w) ** 2)


def test_list_of_constant_tuple():
    check(group_norms, (rnd(3), X), 0)


# ---------------------------------------------------------------- print / logging

LOG = logging.getLogger("corpus10.fixes")


def chatty(w, X, y, steps):
    for i in range(steps):
        w = w - 0.1 * X.T @ (X @ w - y)
        print(f"step {i}: loss={np.sum((X @ w - y) ** 2):.4f} w={w}")
        logging.debug(f"step {i}")
        LOG.info("step %d |w| %s", i, np.linalg.norm(w))
        LOG.debug(f"{i=} {w!r:>10}")
    loss = np.sum((X @ w - y) ** 2)
    LOG.warning("final %s", loss)
    return loss


def test_print_and_logging_with_runtime_values():
    check(chatty, (rnd(3), X, Y, 3), 0)


def test_runtime_fstring_outside_output_still_refused():
    def keyed(w, n):
        d = {}
        for i in range(n):
            d[f"h{i}"] = w * i
        return np.sum(w)
    from s2sgrad.errors import S2SGradError
    with pytest.raises(S2SGradError, match=r"test_corpus10_fixes.py:\d+"):
        grad(keyed)(rnd(3), 100)


class LoudLogger(logging.Logger):
    def info(self, msg, *args, **kwargs):      # its own info: not the library's, inlined
        return super().info(msg, *args, **kwargs)


def test_output_call_recognition():
    from s2sgrad.lower.calls import _is_output_call
    assert _is_output_call(print) and _is_output_call(logging.info)
    assert _is_output_call(LOG.debug) and _is_output_call(LOG.warning)
    assert not _is_output_call(LoudLogger("x").info)
    assert _is_output_call(LoudLogger("x").debug)
    assert not _is_output_call(np.sum)


# ---------------------------------------------------------------- namedtuple data

Hyper = collections.namedtuple("Hyper", "lr momentum steps")


class HyperT(typing.NamedTuple):
    scale: float
    shift: float = 0.5


def momentum_unrolled(w0, X, y, hp):
    w, v = w0, np.zeros_like(w0)
    for _ in range(hp.steps):
        v = hp.momentum * v + X.T @ (X @ w - y) / len(y)
        w = w - hp.lr * v
    return np.mean((X @ w - y) ** 2)


def typed_nt(w, X, cfg):
    return np.sum(np.tanh(cfg.scale * (X @ w) + cfg.shift))


class Shadowed(typing.NamedTuple):
    a: float

    @property
    def b(self):
        return 2 * self.a


def test_namedtuple_fields_of_data_argument():
    check(momentum_unrolled, (rnd(3), X, Y, Hyper(0.1, 0.9, 4)), 0)
    check(typed_nt, (rnd(3), X, HyperT(1.5)), 0)
    # the value is read when the code runs: another namedtuple, same code
    g = value_and_grad(typed_nt)
    w = rnd(3)
    for cfg in (HyperT(1.5), HyperT(0.2, -1.0)):
        v, _ = g(w, X, cfg)
        np.testing.assert_allclose(v, typed_nt(w, X, cfg), rtol=1e-12)


def test_namedtuple_field_accessor_only():
    from s2sgrad.lower.expressions import _namedtuple_field
    assert _namedtuple_field(Hyper, "steps") == 2
    assert _namedtuple_field(Shadowed, "a") == 0
    assert _namedtuple_field(Shadowed, "b") is None      # a property, not a field
    assert _namedtuple_field(tuple, "count") is None


# ---------------------------------------------------------------- a tuple of objects

class Layer:
    def __init__(self, n_in, n_out):
        self.n_in, self.n_out = n_in, n_out

    @property
    def n_params(self):
        return self.n_in * self.n_out + self.n_out

    def __call__(self, theta, x):
        W = theta[: self.n_in * self.n_out].reshape(self.n_in, self.n_out)
        return np.tanh(x @ W + theta[self.n_in * self.n_out:])


class Stack:
    def __init__(self, *layers):
        self.layers = layers

    def loss(self, theta, x):
        off = 0
        for layer in self.layers:
            x = layer(theta[off: off + layer.n_params], x)
            off += layer.n_params
        return np.sum(x ** 2)


def test_tuple_of_objects_is_structure():
    net = Stack(Layer(3, 4), Layer(4, 2))
    check(net.loss, (rnd(16 + 10), X), 0)
    # replacing the tuple (other layers) recompiles: the guard sees it
    g = grad(net.loss)
    theta = rnd(26)
    g(theta, X)
    net.layers = (Layer(3, 2),)
    theta2 = rnd(8)
    from tests.corpus9_harness import fd_grad
    np.testing.assert_allclose(g(theta2, X), fd_grad(net.loss, (theta2, X)), rtol=1e-5,
                               atol=1e-8)


# ---------------------------------------------------------------- functools.wraps

def traced(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper


def times(k):
    def deco(fn):
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            return k * fn(*args, **kwargs)
        return inner
    return deco


@traced
@times(0.5)
def wrapped_loss(w, X, y, *, l2=0.1):
    return np.sum((X @ w - y) ** 2) + l2 * w @ w


def calls_wrapped(w, X, y):
    return wrapped_loss(w, X, y, l2=0.3) + np.sum(w)


def test_functools_wraps_decorators():
    check(wrapped_loss, (rnd(3), X, Y), 0)
    check(wrapped_loss, (rnd(3), X, Y), 0, {"l2": 2.0})
    check(calls_wrapped, (rnd(3), X, Y), 0)
    # wrt by the shown (wrapped) signature's names
    g = grad(wrapped_loss, wrt="w")(rnd(3), X, Y)
    assert g.shape == (3,)


# ---------------------------------------------------------------- *args / **kwargs passed on

def with_penalty(lam):
    def deco(f):
        def g(w, *args, **kwargs):
            return f(w, *args, **kwargs) + lam * np.sum(w ** 2)
        return g
    return deco


@with_penalty(0.1)
def robust(w, X, y, *, delta=1.0):
    r = np.abs(X @ w - y)
    return np.sum(np.where(r < delta, 0.5 * r ** 2, delta * (r - 0.5 * delta)))


def forwarder(w, *args, **kwargs):
    X, y = args
    return np.sum((X @ w - y) ** 2) * kwargs["scale"] + len(args)


def test_args_kwargs_passed_on():
    check(robust, (rnd(3), X, Y), 0, {"delta": 0.7})
    check(forwarder, (rnd(3), X, Y), 0, {"scale": 0.5})


# ---------------------------------------------------------------- for k in a data dict

def for_cfg(x, cfg):
    tot = 0.0
    for k in cfg:
        tot = tot + np.sum(x * cfg[k])
    return tot


def test_for_key_in_data_dict():
    check(for_cfg, (rnd(3), {"a": 1.5, "b": rnd(3)}), 0)
    # other keys, same compiled function: the keys are read when the code runs
    g = value_and_grad(for_cfg)
    x = rnd(3)
    for cfg in ({"a": 2.0}, {"a": 1.0, "b": np.ones(3), "c": -3.0}):
        v, gr = g(x, cfg)
        np.testing.assert_allclose(v, for_cfg(x, cfg), rtol=1e-12)
        np.testing.assert_allclose(gr, sum(np.broadcast_to(c, (3,)) for c in cfg.values()),
                                   rtol=1e-12)


# ---------------------------------------------------------------- corpus9's other leftovers

def acc_slots(x):
    acc = [x * 0.0, x]
    for i in range(3):
        acc[1] = np.cos(acc[1])
        acc[0] = acc[0] + acc[1]
    return np.sum(acc[0])


def test_acc_list_slots_in_a_loop():
    check(acc_slots, (rnd(4),), 0)


def varargs_sum(*xs):
    return np.sum(xs[0] * xs[1]) + np.sum(xs[1] ** 2)


def test_varargs_wrt0_is_the_tuple():
    """The choice (documented): ``wrt`` names *parameters*, so ``wrt=0`` of
    ``f(*xs)`` is the whole tuple ``xs`` and the gradient is a tuple.  JAX's
    ``argnums=0`` and autograd's ``argnum=0`` index the *arguments passed*
    and give the first argument's gradient only; write ``f(a, b)`` or take
    ``g[0]`` for that."""
    a, b = rnd(3), rnd(3)
    g = grad(varargs_sum)(a, b)
    assert isinstance(g, tuple) and len(g) == 2
    np.testing.assert_allclose(g[0], b, rtol=1e-12)
    np.testing.assert_allclose(g[1], a + 2 * b, rtol=1e-12)


# ---------------------------------------------------------------- a carry changing shape

def layers_out(x, params):
    for W, b in params:
        out = x @ W + b
        x = np.tanh(out)
    return np.sum(out ** 2) + np.sum(x)


def test_first_bound_carry_changing_shape():
    """``out`` is first bound in a runtime loop (layers passed as data) and
    read after it, its shape (5, 4) then (5, 2): the reversed loop passed down
    a zero shaped like the later iteration's (a broadcast error in the
    generated code on main)."""
    params = [(rnd(3, 4), rnd(4)), (rnd(4, 2), rnd(2))]
    check(layers_out, (X, params), 0)
    # the same code for layers of one shape
    check(layers_out, (X, [(rnd(3, 3), rnd(3)), (rnd(3, 3), rnd(3))]), 0)


# ---------------------------------------------------------------- found by the later files

def dict_comp_filter(params, X):
    scaled = {k: 2.0 * v for k, v in params.items() if k != "skip"}
    return np.sum(np.tanh(X @ scaled["W"] + scaled["b"]) ** 2) + np.sum(params["skip"])


def test_dict_comprehension_filtering_keys():
    """``k != "skip"`` of constant keys was lowered as a run-time
    ``np.not_equal``, so the comprehension's dict met a run-time branch
    ("passing a dict to a NumPy function")."""
    check(dict_comp_filter, ({"W": rnd(3, 2), "b": rnd(2), "skip": rnd(2)}, X), 0)


def log_space_forward(logits):
    # a log-space recursion whose first states are impossible (-inf)
    alpha = np.array([0.0, -np.inf, -np.inf])
    for t in range(logits.shape[0]):
        shifted = np.concatenate([[-np.inf], alpha[:-1]])
        alpha = np.logaddexp(alpha, shifted) + logits[t]
    return sps_logsumexp(alpha)


def sps_logsumexp(a):
    m = np.max(a)
    return m + np.log(np.sum(np.exp(a - m)))


def test_logaddexp_of_two_minus_infinities():
    """logaddexp(-inf, -inf)'s partials were sigmoid(NaN): a zero cotangent
    times NaN made the whole gradient NaN (JAX gives the finite one)."""
    check(log_space_forward, (rnd(4, 3),), 0, f32=False)
    g = grad(lambda a, b: np.sum(np.logaddexp(a, b)))(np.array([-np.inf, 1.0]),
                                                       np.array([-np.inf, 1.0]))
    np.testing.assert_array_equal(g, [0.5, 0.5])
    # at finite x == y the partials stay differentiated (second order)
    from s2sgrad import hessian
    H = hessian(lambda v: np.logaddexp(v[0], v[1]))(np.array([0.7, 0.7]))
    np.testing.assert_allclose(H, [[0.25, -0.25], [-0.25, 0.25]], rtol=1e-12)
    h = hessian(lambda t: np.sum(np.logaddexp(0.0, t)))(np.zeros(3))
    np.testing.assert_allclose(h, 0.25 * np.eye(3), rtol=1e-12)


def test_logaddexp_gap_repairs_only_equal_infinities():
    """The gap x - y behind logaddexp's partials (runtime.logaddexp_gap) is
    repaired only where x == y is infinite: Python floats, 0-d values,
    broadcasting and +inf too; a NaN input stays NaN."""
    from s2sgrad import runtime
    inf = np.inf
    assert runtime.logaddexp_gap(-inf, -inf) == 0.0
    assert runtime.logaddexp_gap(np.float32(inf), np.float32(inf)).dtype == np.float32
    assert np.isnan(runtime.logaddexp_gap(np.nan, np.nan))
    d = runtime.logaddexp_gap(np.array([[-inf], [inf], [1.0]]), np.array([-inf, inf, np.nan]))
    np.testing.assert_array_equal(np.isnan(d), [[0, 0, 1], [0, 0, 1], [0, 0, 1]])
    np.testing.assert_array_equal(d[:, :2], [[0, -inf], [inf, 0], [inf, -inf]])
    assert d[0, 0] == 0 and d[1, 1] == 0
    np.testing.assert_array_equal(
        runtime.logaddexp_gap_slope(np.array([-inf, 2.0, inf]), np.array([-inf, 1.0, -inf])),
        [0.0, 1.0, 1.0])
    # through grad, with a Python float operand and +inf states
    g = grad(lambda b: np.sum(np.logaddexp(np.inf, b) * 0.0 + np.logaddexp(-np.inf, b)))(
        np.array([-np.inf, 0.5, np.inf]))
    np.testing.assert_array_equal(g[1:2], [1.0])
    assert g[0] == 0.5


def bernstein(ctrl, ts):
    n = len(ctrl) - 1
    B = np.stack([math.comb(n, k) * ts ** k * (1 - ts) ** (n - k) for k in range(n + 1)], 1)
    return np.sum((B @ ctrl) ** 2)


def test_math_comb_of_runtime_ints():
    check(bernstein, (rnd(4, 2), np.linspace(0, 1, 5)), 0)


def with_optional_fn(w, X, act=None):
    if act is None:
        act = np.tanh
    return np.sum(act(X @ w))


def test_function_argument_is_none():
    """``act is None`` of a function passed as an argument was refused as
    "'is' between computed values"."""
    check(with_optional_fn, (rnd(3), X), 0, {"act": np.sin})
    check(with_optional_fn, (rnd(3), X), 0)


def by_name(w, X, act="tanh"):
    return np.sum(getattr(np, act)(X @ w))


def filtered(ws, X):
    ws = list(filter(lambda w: w is not None, ws))
    return sum(np.sum(np.tanh(X @ w) ** 2) for w in ws)


def test_getattr_and_filter_builtins():
    """``getattr(np, act)`` with a str argument and ``filter(pred, seq)`` with
    tests known while compiling were refused as unknown functions."""
    check(by_name, (rnd(3), X), 0, {"act": "arctan"})
    check(by_name, (rnd(3), X), 0)
    check(filtered, ([rnd(3), rnd(3)], X), 0)


# ---------------------------------------------------------------- a dict carried by a runtime loop

def dict_state(x, n):
    d = {"s": x * 0.0, "p": x, "count": 0.0}
    for i in range(n):
        d["p"] = 0.999 * d["p"] + 0.001 * np.sin(d["s"])
        d["s"] = d["s"] + 0.01 * d["p"] ** 2
        d["count"] = d["count"] + 1.0
    return np.sum(d["s"]) * d["count"] / n + np.sum(d["p"])


def dict_state_while(x, tol):
    st = {"x": x, "err": 1.0}
    k = 0
    while st["err"] > tol and k < 50:
        new = np.cos(st["x"])
        st["err"] = np.max(np.abs(new - st["x"]))
        st["x"] = new
        k += 1
    return np.sum(st["x"] ** 2)


def dict_state_helper(x, xs):
    def step(state, v):
        state["h"] = np.tanh(state["h"] * 0.5 + v)
        return state

    st = {"h": x}
    for v in xs:
        st["h"] = step({"h": st["h"]}, v)["h"]
    return np.sum(st["h"])


def test_dict_carried_by_a_runtime_loop():
    """A dict of constant keys whose entries a loop run at run time rebinds
    (``d["p"] = np.sin(d["p"])``) is carried entry by entry (refused on main:
    "the dict 'd' is changed in this loop")."""
    check(dict_state, (rnd(3), 300), 0)         # (over 256 steps: a loop, not unrolled)
    check(dict_state_while, (rnd(3), 0.05), 0)
    check(dict_state_helper, (rnd(3), rnd(300, 3)), 0)


def aug_entry(x, n):
    d = {"s": x}
    for i in range(n):
        d["s"] += np.sin(x)
    return np.sum(d["s"])


def new_key(x, n):
    d = {"s": x}
    for i in range(n):
        d["t"] = d["s"] * 2
    return np.sum(d["s"])


def aliased(x, n):
    d = {"s": x}
    e = d
    for i in range(n):
        d["s"] = np.sin(d["s"])
    return np.sum(e["s"])


def nested_write(x, n):
    d = {"s": x.copy()}
    for i in range(n):
        d["s"][0] = np.sin(d["s"][1])
    return np.sum(d["s"])


@pytest.mark.parametrize("f", [aug_entry, new_key, aliased, nested_write],
                         ids=lambda f: f.__name__)
def test_dict_carry_other_changes_refused(f):
    """Only rebinding existing entries is carried; a new key, ``d[k] += v``
    (in place on the entry's array), another name for the dict, or a write
    into an entry stay refused at the loop."""
    from s2sgrad.errors import S2SGradError
    with pytest.raises(S2SGradError, match=r"test_corpus10_fixes.py:\d+: the dict '[de]' is "
                                           r"changed in this loop"):
        grad(f)(rnd(3), 300)


def test_logaddexp_with_a_finite_constant_needs_no_repair():
    """logaddexp(0.0, z) (softplus, logistic regression) can never have both
    operands infinite and equal: its partials are plain sigmoids of z (which
    the peephole folds into the product before them), no logaddexp_gap."""
    def softplus_loss(w, X):
        return np.mean(np.logaddexp(0.0, X @ w))

    X, w = rnd(6, 3), rnd(3)
    g = value_and_grad(softplus_loss)
    value, got = g(w, X)
    assert value == softplus_loss(w, X)
    want = X.T @ (1.0 / (1.0 + np.exp(-(X @ w)))) / 6
    np.testing.assert_allclose(got, want, rtol=1e-13)
    assert "logaddexp_gap" not in g.source
    # two run-time operands keep the repair
    g2 = grad(lambda a, b: np.sum(np.logaddexp(a, b)))
    g2(rnd(3), rnd(3))
    assert "logaddexp_gap" in g2.source
