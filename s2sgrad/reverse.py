"""Reverse mode: a Func -> its adjoint Func.

Expects: a verified Func (SSA, one primitive per equation).

Guarantees: a Func whose body is the forward sweep followed by the backward
sweep, in which

* only *active* values get adjoints: values that depend on a differentiated
  input (varied) and that the output depends on (useful);
* every adjoint is built by the primitives' vjp rules through the emitter,
  so the backward sweep is ordinary IR (printable, optimisable,
  differentiable again);
* the first contribution to an adjoint is bound directly and later ones
  are added ("gradients add at branches"), so a value used k times
  receives k contributions;
* a differentiated value reaching an operand that has no derivative rule
  raises :class:`~s2sgrad.errors.NonDifferentiableError` at the user's line.

Adjoint names follow the primal's: the cotangent of ``w`` is ``w_bar``.
"""
from __future__ import annotations

import dataclasses

from .errors import NonDifferentiableError
from .ir import Block, Const, Eqn, Func, Var, iter_eqns
from .primitives import core as P
from .primitives.core import SCALAR, Emitter


def activity(func: Func, wrt: list[Var], outputs: list) -> set:
    """Vars that depend on ``wrt`` and influence ``outputs``."""
    varied = set(wrt)
    for e in func.body.eqns:
        if e.prim.nondiff:
            continue
        if any(isinstance(a, Var) and a in varied for a in e.atoms()):
            varied.update(e.outs)
    useful = {o for o in outputs if isinstance(o, Var)}
    for e in reversed(func.body.eqns):
        if any(o in useful for o in e.outs):
            useful.update(a for a in e.atoms() if isinstance(a, Var))
    return varied & useful


def name_derivative(d: Var, primal: Var, suffix: str) -> Var:
    """Name ``d`` after ``primal``: ``w`` -> ``w_bar`` (resolved by codegen, so
    temporaries get ``_t3_bar``)."""
    d.hint = suffix
    d.bar_of = primal
    return d


def _err(eqn, msg):
    loc = eqn.loc
    return NonDifferentiableError(msg, filename=loc.filename if loc else None,
                                  lineno=loc.lineno if loc else None,
                                  construct=eqn.prim.name)


class Adjoints:
    """The map from primal Vars to their accumulated cotangents."""

    def __init__(self, em: Emitter):
        self.em = em
        self.bar: dict = {}

    def get(self, v):
        return self.bar.get(v)

    def add(self, v, ct, fresh: set):
        if ct is None:
            return
        prev = self.bar.get(v)
        if prev is None:
            if isinstance(ct, Var) and ct in fresh and ct.hint == self.em.hint:
                name_derivative(ct, v, "_bar")
            self.bar[v] = ct
        else:
            self.bar[v] = name_derivative(self.em.call("add", prev, ct), v, "_bar")


def backward_block(func: Func, active: set, seeds: dict, em: Emitter) -> Adjoints:
    """Emit the backward sweep of ``func.body`` into ``em``; return the adjoints."""
    adj = Adjoints(em)
    for v, s in seeds.items():
        adj.add(v, s, set())
    for eqn in reversed(func.body.eqns):
        if not any(o in adj.bar for o in eqn.outs):
            continue
        prim = eqn.prim
        if prim.nondiff:
            continue
        if prim.opaque or prim.vjp is None:
            raise _err(eqn, f"'{prim.pyname}' has no derivative rule, but a differentiated "
                            f"value flows into it; compute it from non-differentiated inputs "
                            f"only, or use a supported operation")
        for k, a in eqn.kwargs.items():
            if isinstance(a, Var) and a in active:
                raise _err(eqn, f"cannot differentiate with respect to the '{k}' argument of "
                                f"{prim.pyname}; pass a constant there")
        em.loc = dataclasses.replace(eqn.loc, kind="adjoint") if eqn.loc else None
        gs = tuple(adj.get(o) for o in eqn.outs)
        g = gs[0] if len(gs) == 1 else gs
        start = len(em.block.eqns)
        if prim.eqn_rule:
            cts = prim.vjp(em, eqn, g)
        else:
            out = eqn.outs[0] if len(eqn.outs) == 1 else eqn.outs
            cts = prim.vjp(em, g, out, *eqn.args, **eqn.kwargs)
        fresh = {o for e in em.block.eqns[start:] for o in e.outs}
        for a, ct in zip(eqn.args, cts):
            if isinstance(a, Var) and a in active:
                adj.add(a, ct, fresh)
    return adj


def seed_for(em: Emitter, out):
    """The cotangent 1 for a scalar output: a literal when the output is known
    to be 0-d, else ``np.ones_like(out)`` (a size-1 array keeps its shape)."""
    if P.shape_of(out) is SCALAR:
        return Const(1.0)
    return em.call("scalar_seed", out, _hint="seed")


def grad_func(func: Func, wrt: list[int], seed_results: list[int], *, keep_values: bool,
              name: str | None = None, cotangent_params: bool = False) -> Func:
    """The gradient of ``func``.

    ``wrt``: indices of the parameters to differentiate.  ``seed_results``:
    indices of the results seeded with 1 (``grad``) or, with
    ``cotangent_params``, with new parameters ``<name>_bar`` (``vjp``).
    Results: ``func``'s results if ``keep_values``, then one adjoint per
    ``wrt`` parameter.
    """
    wrt_vars = [func.params[i] for i in wrt]
    seeded = [func.results[i] for i in seed_results]
    active = activity(func, wrt_vars, seeded)
    body = Block(list(func.body.eqns))
    em = Emitter(body, hint="t")
    params = list(func.params)
    seeds = {}
    for r in seeded:
        if cotangent_params:
            p = Var(f"{r.hint}_bar" if isinstance(r, Var) else "out_bar")
            params.append(p)
            if isinstance(r, Var) and r in active:
                seeds[r] = p
        elif isinstance(r, Var) and r in active:
            em.loc = None
            seeds[r] = seed_for(em, r)
    adj = backward_block(Func(func.name, func.params, func.body, func.results), active,
                         seeds, em)
    grads = []
    em.loc = None
    for v in wrt_vars:
        g = adj.get(v)
        if g is None:
            g = name_derivative(em.call("zeros_like", v), v, "_bar")
        grads.append(g)
    results = (list(func.results) if keep_values else []) + grads
    info = dict(func.info)
    info.update(kind="grad", wrt=list(wrt), nparams_primal=len(func.params))
    return Func(name or f"{func.name}_grad", params, body, results, func.filename, info)


def split_vjp(g: Func, nprimal: int, nout: int):
    """Split a gradient Func with cotangent parameters into a forward Func
    (primal inputs -> outputs + residuals) and a backward Func (residuals +
    cotangents -> input cotangents), so a pullback reuses forward values.

    Equations that depend on a cotangent parameter go backward; all others
    stay forward.  Residuals are the forward values the backward part reads.
    """
    cts = set(g.params[nprimal:nprimal + nout])
    back = set(cts)
    fwd_eqns, bwd_eqns = [], []
    for e in g.body.eqns:
        if any(isinstance(a, Var) and a in back for a in e.atoms()):
            bwd_eqns.append(e)
            back.update(e.outs)
        else:
            fwd_eqns.append(e)
    bwd_defined = {o for e in bwd_eqns for o in e.outs} | cts
    grads = g.results[nout:]
    residuals, seen = [], set()
    for a in [a for e in bwd_eqns for a in e.atoms()] + list(grads):
        if isinstance(a, Var) and a not in bwd_defined and a not in seen:
            seen.add(a)
            residuals.append(a)
    primal_params = g.params[:nprimal]
    fwd = Func(g.name.replace("_vjp", "_fwd"), primal_params, Block(fwd_eqns),
               list(g.results[:nout]) + residuals, g.filename, dict(g.info, tuple_result=True))
    bwd = Func(g.name.replace("_vjp", "_bwd"), residuals + list(g.params[nprimal:]),
               Block(bwd_eqns), list(grads), g.filename, dict(g.info, tuple_result=True))
    return fwd, bwd
