"""Random draws: data, drawn once.

A draw is an equation like any other, ``eps = Generator.normal(rng; size=n)``,
whose first operand is the generator object (a parameter of the function,
a global or closed-over generator read live, one created inside with
``np.random.default_rng(seed)``, or NumPy's hidden global ``RandomState``
behind the legacy ``np.random.normal``).  It prints the way the user wrote
it (``rng.normal(size=n)``, ``np.random.randn(3)``) and draws from the
user's own generator object at run time, so its state advances exactly as
in one call of the function.

Every primitive here carries ``effect = "random"``: the passes treat it as
an effect (:mod:`s2sgrad.optimize` never merges two draws, never drops an
unused one, never moves one; forward mode keeps it in the primal sweep;
passes that evaluate the program again or abstractly -- the shape
specialiser, ``hessian``/``jacobian``'s linear parts, ``check_grads`` --
replay recorded draws or draw from a throwaway copy, see
:mod:`s2sgrad.draws`).  Nothing is special-cased by name.

Derivatives: a draw's value is data (derivative zero with respect to the
generator), and so are all its parameters, except the location and scale
of the two location-scale draws, which follow the *pathwise*
(reparameterisation) derivative: NumPy computes ``normal(loc, scale)`` as
``loc + scale * z`` and ``uniform(low, high)`` as ``low + (high - low) * u``
from a standard draw ``z``/``u`` that does not depend on the parameters, so
``d out / d loc = 1``, ``d out / d scale = (out - loc) / scale`` (NaN where
``scale == 0``), ``d out / d low = (high - out) / (high - low)``, ``d out /
d high = (out - low) / (high - low)``.  A differentiated value reaching any
other parameter (``rng.choice(x)``, ``rng.permutation(x)``,
``rng.gamma(shape)``) is refused at the user's line: those draws are not
differentiable functions of their parameters.
"""
from __future__ import annotations

import ast
import inspect

import numpy as np

from ..ir import Const, Var
from .core import ShapeToken, defprim, register_object, shape_fresh, shape_of
from .printing import call, dotted

# Shape tokens of Vars that hold a generator object at run time.
GENERATOR = ShapeToken("Generator")
RANDOM_STATE = ShapeToken("RandomState")
TOKENS = {"Generator": GENERATOR, "RandomState": RANDOM_STATE}
_KIND_OF_TOKEN = {id(GENERATOR): "Generator", id(RANDOM_STATE): "RandomState"}

# NumPy's hidden global RandomState, behind np.random.normal & co.
LEGACY = np.random.mtrand._rand


def rng_kind(obj):
    """``"Generator"``, ``"RandomState"`` or None."""
    if isinstance(obj, np.random.Generator):
        return "Generator"
    if isinstance(obj, np.random.RandomState):
        return "RandomState"
    return None


def token_kind(a):
    """The generator kind a lowering value holds (a Var with a generator
    token, or a constant generator), or None."""
    if isinstance(a, Var):
        return _KIND_OF_TOKEN.get(id(shape_of(a)))
    if isinstance(a, Const):
        return rng_kind(a.value)
    return None


# ---------------------------------------------------------------- printing


def _method_printer(method):
    def printer(args, kwargs, eqn):
        gen = eqn.args[0]
        if isinstance(gen, Const) and gen.value is LEGACY:
            return call(f"np.random.{method}", args[1:], kwargs)    # np.random.randn(3)
        return ast.Call(func=ast.Attribute(value=args[0], attr=method, ctx=ast.Load()),
                        args=list(args[1:]),
                        keywords=[ast.keyword(arg=k, value=v) for k, v in kwargs.items()])
    return printer


def _method_impl(method):
    def draw(gen, *args, **kwargs):
        return getattr(gen, method)(*args, **kwargs)
    draw.__name__ = f"draw_{method}"
    return draw


# ---------------------------------------------------------------- pathwise rules


def _ct(em, g, a, value):
    """The cotangent ``g * value`` of operand ``a`` (None for constants)."""
    if not isinstance(a, Var):
        return None
    return em.unbroadcast(g if value is None else em.multiply(g, value), a)


def _tan(em, d, value, out):
    if d is None:
        return None
    return em.broadcast_like(d if value is None else em.multiply(d, value), out)


def _z(em, out, loc, scale):
    """The standard draw behind ``out = loc + scale * z``."""
    return em.divide(em.subtract(out, loc), scale)


def _normal_vjp(em, g, out, gen, loc=0.0, scale=1.0, size=None):
    cts = [None, _ct(em, g, loc, None)]
    if isinstance(scale, Var):
        cts.append(_ct(em, g, scale, _z(em, out, loc, scale)))
    else:
        cts.append(None)
    return cts


def _normal_jvp(em, dots, out, gen, loc=0.0, scale=1.0, size=None):
    dots = list(dots) + [None] * (3 - len(dots))
    t = _tan(em, dots[1], None, out)
    if dots[2] is not None:
        t = em.add_ct(t, _tan(em, dots[2], _z(em, out, loc, scale), out))
    return t


def _uniform_parts(em, out, low, high):
    width = em.subtract(high, low)
    return em.divide(em.subtract(high, out), width), em.divide(em.subtract(out, low), width)


def _uniform_vjp(em, g, out, gen, low=0.0, high=1.0, size=None):
    if not isinstance(low, Var) and not isinstance(high, Var):
        return [None, None, None]
    d_low, d_high = _uniform_parts(em, out, low, high)
    return [None, _ct(em, g, low, d_low), _ct(em, g, high, d_high)]


def _uniform_jvp(em, dots, out, gen, low=0.0, high=1.0, size=None):
    dots = list(dots) + [None] * (3 - len(dots))
    d_low, d_high = _uniform_parts(em, out, low, high)
    return em.add_ct(_tan(em, dots[1], d_low, out), _tan(em, dots[2], d_high, out))


# method -> (names of the leading parameters that are differentiable, vjp, jvp)
_PATHWISE = {
    "normal": (("loc", "scale"), _normal_vjp, _normal_jvp),
    "uniform": (("low", "high"), _uniform_vjp, _uniform_jvp),
}

_GENERATOR_METHODS = (
    "normal", "standard_normal", "uniform", "random", "integers", "choice", "permutation",
    "permuted", "binomial", "poisson", "exponential", "standard_exponential", "gamma",
    "standard_gamma", "beta", "dirichlet", "multivariate_normal", "multinomial", "laplace",
    "logistic", "gumbel", "lognormal", "standard_t", "chisquare", "geometric",
    "standard_cauchy", "negative_binomial", "rayleigh", "weibull", "pareto", "vonmises",
    "wald", "triangular", "hypergeometric", "f", "noncentral_chisquare", "power",
    "logseries", "zipf", "bytes")
_RANDOM_STATE_METHODS = (
    "randn", "rand", "randint", "random_sample", "random", "ranf", "sample",
    "standard_normal", "normal", "uniform", "choice", "permutation", "binomial", "poisson",
    "exponential", "standard_exponential", "gamma", "standard_gamma", "beta", "dirichlet",
    "multivariate_normal", "multinomial", "laplace", "logistic", "gumbel", "lognormal",
    "standard_t", "chisquare", "geometric", "standard_cauchy", "negative_binomial",
    "rayleigh", "weibull", "pareto", "vonmises", "wald", "triangular", "hypergeometric",
    "f", "noncentral_chisquare", "power", "logseries", "zipf", "random_integers", "seed")

_SAMPLES = {"Generator": np.random.default_rng(0), "RandomState": np.random.RandomState(0)}

#: (kind, method name) -> primitive
METHODS: dict = {}
#: id(np.random.<fn>) -> (fn, primitive): the legacy functions, methods of LEGACY
LEGACY_FUNCTIONS: dict = {}
#: methods that write into their argument: the advice given instead
IN_PLACE = {"shuffle": "x = rng.permutation(x)"}


def _signature(kind, method):
    """The method's own signature with the generator as a first, positional
    operand; the pathwise-differentiable parameters positional too (only
    positional operands are differentiated)."""
    P = inspect.Parameter
    try:
        sig = inspect.signature(getattr(_SAMPLES[kind], method))
    except (TypeError, ValueError):
        sig = inspect.Signature([P("args", P.VAR_POSITIONAL), P("kwargs", P.VAR_KEYWORD)])
    diff = _PATHWISE.get(method, ((),))[0]
    params = [P("gen", P.POSITIONAL_ONLY)]
    for p in sig.parameters.values():
        if p.name in diff:
            p = p.replace(kind=P.POSITIONAL_ONLY)
        elif p.kind == P.POSITIONAL_ONLY:
            p = p.replace(kind=P.POSITIONAL_OR_KEYWORD)
        if p.name in ("out",):
            continue          # writing into a caller's buffer is not supported
        params.append(p)
    return inspect.Signature(params)


def _define(kind, method):
    if not hasattr(_SAMPLES[kind], method):
        return None          # not in this NumPy version
    pathwise = _PATHWISE.get(method)
    rules = dict(vjp=pathwise[1], jvp=pathwise[2]) if pathwise else dict(opaque=True)
    prim = defprim(f"{kind}.{method}", _method_impl(method), sig=_signature(kind, method),
                   pyname=f"{kind}.{method}", printer=_method_printer(method),
                   shape=shape_fresh,
                   doc=f"{kind}.{method}: a random draw (data; drawn once per call)", **rules)
    prim.effect = "random"
    METHODS[(kind, method)] = prim
    return prim


for _m in _GENERATOR_METHODS:
    _define("Generator", _m)
for _m in _RANDOM_STATE_METHODS:
    _p = _define("RandomState", _m)
    _fn = getattr(np.random, _m, None)
    if _p is not None and _fn is not None and getattr(_fn, "__self__", None) is LEGACY:
        LEGACY_FUNCTIONS[id(_fn)] = (_fn, _p)
        # np.random.normal resolves to RandomState.normal (lowering passes NumPy's
        # global RandomState as its generator operand: s2sgrad/lower/calls.py)
        register_object(_fn, _p)


# ---------------------------------------------------------------- generators made inside


def _constructor_printer(pyname):
    def printer(args, kwargs, eqn):
        return call(pyname, args, kwargs)
    return printer


DEFAULT_RNG = defprim("default_rng", np.random.default_rng, sig="seed=None, /",
                      opaque=True, pyname="np.random.default_rng",
                      shape=lambda args, kwargs: GENERATOR,
                      doc="np.random.default_rng(seed): a new Generator (never merged with "
                          "another: two generators, two streams)")
DEFAULT_RNG.effect = "random"
NEW_RANDOM_STATE = defprim("RandomState", np.random.RandomState, sig="seed=None, /",
                           opaque=True, pyname="np.random.RandomState",
                           shape=lambda args, kwargs: RANDOM_STATE,
                           doc="np.random.RandomState(seed): a new legacy generator")
NEW_RANDOM_STATE.effect = "random"


def legacy_constant():
    """The operand standing for NumPy's global RandomState."""
    return Const(LEGACY)


def positional(prim, args, kwargs):
    """Move keyword arguments of ``prim``'s positional-only parameters into
    their positions (``rng.normal(loc=mu, scale=s)``), filling skipped ones
    with their defaults, so they are differentiated operands."""
    params = [p for p in prim.signature.parameters.values()
              if p.kind == p.POSITIONAL_ONLY]
    if not any(p.name in kwargs for p in params):
        return list(args), dict(kwargs)
    args, kwargs = list(args), dict(kwargs)
    for i, p in enumerate(params):
        if p.name not in kwargs:
            continue
        while len(args) < i:
            q = params[len(args)]
            if q.default is inspect.Parameter.empty:
                raise TypeError(f"missing argument {q.name!r}")
            args.append(Const(q.default))
        if len(args) > i:
            raise TypeError(f"got multiple values for argument {p.name!r}")
        args.append(kwargs.pop(p.name))
    return args, kwargs


__all__ = ["GENERATOR", "RANDOM_STATE", "TOKENS", "LEGACY", "METHODS", "LEGACY_FUNCTIONS",
           "IN_PLACE", "rng_kind", "token_kind", "legacy_constant", "positional", "dotted"]


# ---------------------------------------------------------------- recorded draws
#
# Where a linear part must re-run the primal equations (s2sgrad.draws), the
# primal part records each draw in a list and the linear part replays them:
#     _draws = []  ...  eps = rng.normal(size=n); _draws.append(eps)
#     _draws_it = iter(_draws)  ...  eps = next(_draws_it)


def _record_stmt(cg, e, indent):
    from ..codegen import _to_source
    vals = [_to_source(cg.atom(a)) for a in e.args[1:]]
    return [f"{indent}{_to_source(cg.atom(e.args[0]))}.append({vals[0]})"]


# (no impl object: `list`, `iter` and `next` in user code keep their meaning)
NEW_TAPE = defprim("new_tape", None, sig="", opaque=True, printer=lambda a, k, e: ast.List(
    elts=[], ctx=ast.Load()), shape=shape_fresh, doc="a list of recorded draws")
NEW_TAPE.effect = "record"
TAPE_RECORD = defprim("tape_record", None, sig="tape, value, /", opaque=True, nouts=0,
                      shape=shape_fresh, doc="record a draw")
TAPE_RECORD.codegen_stmt = _record_stmt
TAPE_RECORD.effect = "record"
TAPE_REPLAY = defprim("tape_replay", None, sig="tape, /", opaque=True, pyname="iter",
                      shape=shape_fresh, doc="start replaying recorded draws")
TAPE_REPLAY.effect = "replay"
TAPE_NEXT = defprim("tape_next", None, sig="it, /", opaque=True, pyname="next",
                    shape=shape_fresh, doc="the next recorded draw")
TAPE_NEXT.effect = "replay"
