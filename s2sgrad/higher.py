"""Forward mode and higher-order derivatives: ``jvp``, ``hvp``, ``hessian``, ``jacobian``.

Conventions follow :mod:`s2sgrad.api`: ``wrt`` is a position, a parameter
name or a tuple of them; differentiated arguments may be floats, float
arrays or containers of them (pytrees); compiled code is cached per argument
structure and shown by ``.source``.

* ``jvp(f, wrt)`` compiles the tangent program (forward mode,
  :mod:`s2sgrad.forward`): ``f_jvp(primals, tangents)`` returns
  ``(out, out_dot)``.
* ``hvp(f, wrt)`` is forward-over-reverse: the tangent program of the
  *gradient* program, ``H v`` in a small constant multiple of the cost of a
  gradient, without forming ``H``.
* ``hessian`` and ``jacobian`` evaluate the primal part once
  (:func:`s2sgrad.forward.linearize` / :func:`s2sgrad.reverse.split_vjp`) and
  then push the basis vectors through the compiled linear part: all of them
  at once through its *batched* version (:mod:`s2sgrad.batching`: the
  identity matrix as one seed with a leading batch axis, cut into
  cache-sized chunks; one chunk holding the whole basis of a 1-D argument
  runs code specialised to identity seeds, see :class:`_Specialising`), or,
  where the linear part has no batch rule (Python lists built at run time,
  ...), one basis vector per call (``BATCHED = False`` forces that).

Everything is composable with :mod:`s2sgrad.api`: ``jvp(grad(f))``,
``grad(jvp(f), has_aux=True)``, ``vjp(jvp(f))``, ``hessian(grad(f))`` ... all
differentiate the inner transformation's IR.
"""
from __future__ import annotations

import inspect
import numbers

import numpy as np

from . import draws
from . import api, arrays, basis, batching, forward, pytree
from .api import (InputError, _describe_signature, _fix_grad, _pick, _run, _specialize,
                  _split_aux, _Transformed, _unalias, detach_shifts, generate, grad_func,
                  optimize, split_vjp, user_errors)
from .errors import OutputError
from .export_runtime import like_output
from .forward import select_results
from .ir import Func, iter_eqns, verify
from .specialize import signature as _signature
from .verbose import compiling, traced

# The passes of forward mode, timed under verbose compiles (s2sgrad.verbose);
# api's wrappers of the shared ones are imported above.
jvp_func = traced("forward", forward.jvp_func)
linearize = traced("linearize", forward.linearize)
batch_func = traced("batching", batching.batch_func)

__all__ = ["jvp", "hvp", "hessp", "hessian", "jacobian", "JVPFunction", "HVPFunction",
           "HessPFunction", "HessianFunction", "JacobianFunction"]


# ---------------------------------------------------------------- helpers


def _as_tangent(t, x, what):
    """``t`` converted to the type/dtype of the primal leaf ``x`` (shapes must match)."""
    if np.shape(t) != np.shape(x):
        raise ValueError(f"{what} has shape {np.shape(t)} but the argument has shape "
                         f"{np.shape(x)}")
    if isinstance(x, (float, complex)) and not isinstance(x, np.inexact):
        return type(x)(np.asarray(t).reshape(()))
    if isinstance(x, np.inexact):
        return type(x)(np.asarray(t).reshape(()))
    if arrays.is_duck(t):        # a dask/CuPy tangent keeps its kind (never computed here)
        dtype = np.result_type(x)
        return t if t.dtype == dtype else t.astype(dtype)
    return np.asarray(t, dtype=np.result_type(x))


def _tangent_leaves(tangent, value, name):
    """Flatten the tangent of argument ``name`` (structured like ``value``)."""
    tl, ttd = pytree.flatten(tangent)
    vl, vtd = pytree.flatten(value)
    if ttd != vtd:
        raise ValueError(f"the tangent for '{name}' must have the same structure as the "
                         f"argument ({_describe_td(vtd)}), got {_describe_td(ttd)}")
    return [_as_tangent(t, x, f"the tangent for '{name}'") for t, x in zip(tl, vl)]


def _describe_td(td):
    if td.kind == "leaf":
        return "an array"
    return f"a {td.kind} of {td.num_leaves} leaves"


# an output tangent given its output's type, shape and dtype, never aliasing
# an input (one function with the exported modules' copy)
_fix_out_tangent = like_output


def _check_scalar_output(self, primal, what):
    out_tree = primal.info["out_tree"]
    if out_tree.kind != "leaf":
        raise OutputError(f"'{self.fn.__name__}' returns a {out_tree.kind}; {what} needs a "
                          f"scalar output (use jacobian for non-scalar outputs)",
                          filename=primal.filename)
    self._check_output_leaf(primal.results[0], primal)


def _wrt_leaves(self, specs):
    ranges = self._param_leaf_ranges(specs)
    return [i for w in self.wrt for i in range(*ranges[w])]


def _wrt_tree(self, specs, bound):
    """The structure of the ``wrt`` argument(s) as the call returns it."""
    trees = []
    for w in self.wrt:
        name = bound[w][0]
        kind, td = specs[name]
        trees.append(td if kind == "tree" else pytree.LEAF)
    return trees[0] if self._single else pytree.TreeDef("tuple", tuple(trees))


def _gen(func, globals_):
    func = optimize(verify(func))
    verify(func)
    return generate(func, globals_)


# ---------------------------------------------------------------- jvp


class JVPFunction(_Transformed):
    """``jvp(f)``: calling ``f_jvp(primals, tangents, **kwargs)`` returns
    ``(out, out_dot)``, the value of ``f(*primals, **kwargs)`` and its
    directional derivative along ``tangents`` (one per ``wrt`` argument)."""

    composable = True
    kind_name = "jvp"
    _forward_over = True

    def __init__(self, fn, wrt=0, has_aux=False, verbose=False):
        super().__init__(fn, wrt=wrt, has_aux=has_aux, verbose=verbose)
        P = inspect.Parameter
        # The signature of the call (what an outer transformation binds).
        self.__signature__ = inspect.Signature([
            P("primals", P.POSITIONAL_OR_KEYWORD), P("tangents", P.POSITIONAL_OR_KEYWORD),
            P("kwargs", P.VAR_KEYWORD)])

    # ---- argument structure: the call's (primals, tangents, kwargs) in terms
    # of f's parameters; leaves are [primal-supplied f leaves, tangent leaves,
    # the other f leaves], so the ranges of `primals` and `tangents` are contiguous.

    def _unpack(self, bound):
        vals = dict(bound)
        primals, tangents = vals["primals"], vals["tangents"]
        kwargs = vals.get("kwargs") or {}
        if not isinstance(primals, (tuple, list)):
            raise TypeError(f"jvp of '{self.fn.__name__}': primals must be a tuple of its "
                            f"positional arguments, got {type(primals).__name__}")
        if not isinstance(tangents, (tuple, list)) or len(tangents) != len(self.wrt):
            raise TypeError(f"jvp of '{self.fn.__name__}': tangents must be a tuple with one "
                            f"tangent per differentiated argument ({len(self.wrt)}), got "
                            f"{type(tangents).__name__}"
                            + (f" of length {len(tangents)}"
                               if isinstance(tangents, (tuple, list)) else ""))
        f_bound = self._bind(tuple(primals), kwargs)
        nsupplied = len(self._sig.bind_partial(*primals).arguments)
        return primals, tangents, f_bound, nsupplied

    def _validate(self, bound):
        primals, tangents, f_bound, _ = self._unpack(bound)
        _Transformed._validate(self, f_bound)
        for w, t in zip(self.wrt, tangents):
            name, value = f_bound[w]
            _tangent_leaves(t, value, name)

    def _specs(self, bound, extra_trees=()):
        primals, tangents, f_bound, m = self._unpack(bound)
        f_trees = set(range(m)) if 0 in extra_trees else set()
        f_specs = _Transformed._specs(self, f_bound, f_trees)
        return {"primals": ("tree", pytree.flatten(tuple(primals))[1]),
                "tangents": ("tree", pytree.flatten(tuple(tangents))[1]),
                "kwargs": ("leaf", None),
                "__jvp__": ("jvp", (tuple(f_specs.items()), m))}

    def _split(self, specs):
        f_specs = dict(specs["__jvp__"][1][0])
        m = specs["__jvp__"][1][1]
        ranges = _Transformed._param_leaf_ranges(self, f_specs)
        split = ranges[m - 1][1] if m else 0
        ntan = sum(ranges[w][1] - ranges[w][0] for w in self.wrt)
        return f_specs, split, ntan, ranges

    def _leaves(self, bound, specs):
        primals, tangents, f_bound, _ = self._unpack(bound)
        f_specs, split, _, _ = self._split(specs)
        f_leaves = _Transformed._leaves(self, f_bound, f_specs)
        t_leaves = []
        for w, t in zip(self.wrt, tangents):
            name, value = f_bound[w]
            t_leaves += _tangent_leaves(t, value, name)
        return f_leaves[:split] + t_leaves + f_leaves[split:]

    def _param_leaf_ranges(self, specs):
        f_specs, split, ntan, ranges = self._split(specs)
        total = ranges[-1][1] if ranges else 0
        return [(0, split), (split, split + ntan), (split + ntan, total + ntan)]

    def _default_specs(self):
        f_specs = _Transformed._default_specs(self)
        m = sum(1 for p in self._sig.parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))
        return {"primals": ("tree", None), "tangents": ("tree", None), "kwargs": ("leaf", None),
                "__jvp__": ("jvp", (tuple(f_specs.items()), m))}

    def _compile(self, specs):
        from .forward import CheckpointTangentError
        f_specs, split, ntan, ranges = self._split(specs)
        primal = self._primal(f_specs)
        wrt_leaves = [i for w in self.wrt for i in range(*ranges[w])]
        out_tree, aux_tree = _split_aux(self, primal)
        nres, nout = len(primal.results), out_tree.num_leaves
        try:
            jf = jvp_func(primal, wrt_leaves, name=f"{primal.name}_jvp")
        except CheckpointTangentError:
            # an inner gradient's checkpoint tape carried by a loop: its
            # uncheckpointed version instead
            self._forward_over = False
            try:
                primal = self._primal(f_specs)
            finally:
                del self._forward_over
            jf = jvp_func(primal, wrt_leaves, name=f"{primal.name}_jvp")
        if aux_tree is not None:       # no tangents for the aux outputs
            jf = select_results(jf, list(range(nres)) + list(range(nres, nres + nout)))
        jf = optimize(verify(jf))
        n = len(primal.params)
        params = jf.params[:split] + jf.params[n:] + jf.params[split:n]
        jf = Func(jf.name, params, jf.body, jf.results, jf.filename, jf.info)
        c = generate(verify(jf), self._globals())
        c.nres = nres            # results: the values (outputs, then aux), the tangents
        c.nout = nout
        c.out_tree = out_tree
        c.aux_tree = aux_tree
        return c

    def ir_for(self, specs):
        c = self._compiled(specs)
        f = c.func
        info = {k: v for k, v in f.info.items() if k not in ("globals", "tuple_result")}
        values, dots = list(f.results[:c.nres]), list(f.results[c.nres:])
        if c.aux_tree is None:
            info["out_tree"] = pytree.TreeDef("tuple", (c.out_tree, c.out_tree))
            results = values + dots
        else:                    # (out, out_dot, aux), as the call returns them
            info["out_tree"] = pytree.TreeDef("tuple", (c.out_tree, c.out_tree, c.aux_tree))
            results = values[:c.nout] + dots + values[c.nout:]
        info["guards"] = c.guard_items
        return Func(f.name, list(f.params), f.body, results, f.filename, info)

    @user_errors
    def __call__(self, primals, tangents, /, **kwargs):
        bound = [("primals", primals), ("tangents", tangents), ("kwargs", kwargs)]
        self._validate(bound)
        specs = self._specs(bound)
        c = self._compiled(specs)
        leaves = self._leaves(bound, specs)
        sc = self._last_run = _pick(c, leaves, self._globals())   # shape-specialised
        res = _run(sc, leaves)
        # dask values: the outputs and their tangents computed in one dask.compute
        res = arrays.compute(list(res))
        values, dots = list(res[:c.nres]), list(res[c.nres:])
        outs = values[:c.nout]
        dots = [_fix_out_tangent(d, o, leaves) for d, o in zip(dots, outs)]
        out, out_dot = pytree.unflatten(c.out_tree, outs), pytree.unflatten(c.out_tree, dots)
        if c.aux_tree is not None:
            return out, out_dot, pytree.unflatten(c.aux_tree, values[c.nout:])
        return out, out_dot


def jvp(fun=None, *, wrt=0, has_aux=False, verbose=False):
    """Compile a Jacobian-vector product (forward mode).

    ``f_jvp = jvp(f, wrt=0)``; ``f_jvp(primals, tangents, **kwargs)`` with
    ``primals`` the tuple of positional arguments and ``tangents`` a tuple
    with one tangent per ``wrt`` argument (shaped/structured like it) returns
    ``(f(*primals, **kwargs), J @ tangent)``, the second with the output's
    structure.  ``f_jvp.source`` is the generated tangent code (the tangent
    of ``x`` is ``x_dot``).  With ``has_aux=True`` ``f`` returns ``(out,
    aux)`` and the call returns ``(out, out_dot, aux)`` (``aux`` is not
    differentiated).
    """
    if fun is None:
        return lambda f: JVPFunction(f, wrt=wrt, has_aux=has_aux, verbose=verbose)
    return JVPFunction(fun, wrt=wrt, has_aux=has_aux, verbose=verbose)


# ---------------------------------------------------------------- hvp



def _grad_jvp(tf, specs, what):
    """Forward-over-reverse: the gradient IR of ``tf``'s function (without the
    hoisting pass: it is differentiated again) and its jvp.  Returns
    ``(grad Func, jvp Func, wrt leaves)``."""
    primal = tf._primal(specs)
    _check_scalar_output(tf, primal, what)
    primal = detach_shifts(primal)          # exact at every order (s2sgrad.invariance)
    wrt_leaves = _wrt_leaves(tf, specs)
    # (loops marked in the source and @checkpoint helpers stay checkpointed:
    # forward mode differentiates the checkpoint drivers, s2sgrad.forward)
    from .forward import CheckpointTangentError
    for remat in (True, False):
        g = optimize(verify(grad_func(primal, wrt_leaves, [0], keep_values=False, hoist=False,
                                      name=f"{primal.name}_grad", remat=remat,
                                      checkpoint=tf.checkpoint if remat else None)))
        try:
            jf = jvp_func(g, wrt_leaves, name=f"{primal.name}_{what}_jvp")
        except CheckpointTangentError:
            continue            # (a tape carried by a loop: uncheckpointed instead)
        return g, jf, wrt_leaves
    raise AssertionError("unreachable")

class HVPFunction(_Transformed):
    """``hvp(f)``: ``f_hvp(args, v, **kwargs)`` returns the Hessian of ``f``
    (with respect to ``wrt``) applied to ``v``, structured like the ``wrt``
    argument(s)."""

    kind_name = "hvp"

    def _compile(self, specs):
        g, jf, wrt_leaves = _grad_jvp(self, specs, "hvp")
        ng = len(g.results)
        jf = select_results(jf, range(ng, 2 * ng), tuple_result=ng != 1)
        c = _gen(jf, self._globals())
        c.wrt_leaves = wrt_leaves
        return c

    @user_errors
    def __call__(self, args, v, /, **kwargs):
        if not isinstance(args, (tuple, list)):
            raise TypeError(f"hvp of '{self.fn.__name__}': call it as f_hvp(args, v) with args "
                            f"a tuple of positional arguments")
        bound = self._bind(tuple(args), kwargs)
        self._validate(bound)
        vs = (v,) if self._single else v
        if not isinstance(vs, (tuple, list)) or len(vs) != len(self.wrt):
            raise TypeError(f"hvp of '{self.fn.__name__}': v must be a tuple with one vector "
                            f"per differentiated argument ({len(self.wrt)})")
        specs = self._specs(bound)
        c = self._compiled(specs)
        leaves = self._leaves(bound, specs)
        t_leaves = []
        for w, t in zip(self.wrt, vs):
            name, value = bound[w]
            t_leaves += _tangent_leaves(t, value, name)
        sc = self._last_run = _pick(c, leaves + t_leaves, self._globals())
        res = sc.fn(*leaves, *t_leaves)
        if not c.func.info.get("tuple_result"):
            res = (res,)
        # (never the caller's v itself: the Hessian of sum(x ** 2) / 2 is I)
        hv = _unalias([_fix_grad(h, leaves[i], leaves) for h, i in zip(res, c.wrt_leaves)],
                      t_leaves)
        return pytree.unflatten(_wrt_tree(self, specs, bound), hv)


def hvp(fun=None, *, wrt=0, checkpoint=None, verbose=False):
    """Compile a Hessian-vector product by forward-over-reverse.

    ``hvp(f, wrt=0)(args, v)`` returns ``H(args) @ v`` where ``H`` is the
    Hessian of the scalar ``f`` with respect to the ``wrt`` argument(s) and
    ``v`` is shaped like it (a tuple of such for a tuple ``wrt``).  The
    Hessian is never formed: the cost is a small multiple of one gradient.
    ``checkpoint`` checkpoints the gradient's loops as ``grad``'s does (the
    forward sweep over it keeps the schedule).
    """
    if fun is None:
        return lambda f: _with_schedule(HVPFunction(f, wrt=wrt, verbose=verbose), checkpoint)
    return _with_schedule(HVPFunction(fun, wrt=wrt, verbose=verbose), checkpoint)


def _with_schedule(t, checkpoint):
    """``t`` with its ``checkpoint=`` option (s2sgrad.schedules) set."""
    from .schedules import as_schedule
    t.checkpoint = as_schedule(checkpoint)
    return t


class HessPFunction(HVPFunction):
    """``hessp(f)``: ``f_hessp(x, p, *args)`` returns ``H(x) p``, SciPy's
    ``hessp`` signature (``scipy.optimize.minimize(f, x0, args=args,
    jac=..., hessp=hessp(f), method="trust-ncg")``)."""

    kind_name = "hessp"

    def __call__(self, x, p, *args, **kwargs):
        return HVPFunction.__call__(self, (x,) + args, p, **kwargs)


def hessp(fun=None, *, verbose=False):
    """Compile a Hessian-vector product with SciPy's ``hessp`` signature:
    ``hessp(f)(x, p, *args)`` is ``H p``, the Hessian of the scalar ``f`` with
    respect to its first argument ``x`` at ``(x, *args)`` applied to ``p``
    (shaped like ``x``).  The same code as ``hvp(f)((x, *args), p)``."""
    if fun is None:
        return lambda f: HessPFunction(f, wrt=0, verbose=verbose)
    return HessPFunction(fun, wrt=0, verbose=verbose)


# ---------------------------------------------------------------- jacobian / hessian


def _assemble(out_tree, in_tree, out_leaves, in_leaves, blocks):
    """Nest blocks[a][b] (row leaf a, column leaf b) as out_tree of in_tree."""
    rows = []
    for a, o in enumerate(out_leaves):
        rows.append(pytree.unflatten(in_tree, [basis.block_value(blocks[a][b], o, x)
                                               for b, x in enumerate(in_leaves)]))
    return pytree.unflatten(out_tree, rows)


class _BasisBase(_Transformed):
    """Shared by ``hessian`` and ``jacobian``: caching per (mode, specs)."""

    def _compiled_mode(self, mode, specs):
        key = (mode, tuple(specs.items()))
        c = self._cache.get(key)
        if c is None or not (c.guard is None or c.guard()):     # (_cached's first test)
            what = self._what(specs) + (f" ({mode} mode)" if self.kind_name == "jacobian"
                                        else "")
            c = self._cached(self._cache, key, lambda: self._compile_mode(mode, specs), specs,
                             what)
        self._last = c
        return c

    def _compiled(self, specs):       # for .source / .ir before any call
        return self._compiled_mode(self._default_mode, specs)

    def _prepare(self, args, kwargs):
        bound = self._bind(args, kwargs)
        self._validate(bound)
        specs = self._specs(bound)
        leaves = self._leaves(bound, specs)
        for i in _wrt_leaves(self, specs):
            if np.iscomplexobj(leaves[i]):
                # a basis of real unit tangents would miss the imaginary directions
                raise InputError(f"{type(self).__name__[:-8].lower()} with respect to a "
                                 f"complex argument is not supported; pass its real and "
                                 f"imaginary parts as separate real arguments (grad, vjp and "
                                 f"jvp accept complex arguments)")
        return bound, specs, leaves

    def _forward_blocks(self, c, xs, outs_like, residuals):
        """Columns by pushing basis tangents through the linear part: block
        [a][b] is (size of row leaf a, size of column leaf b)."""
        batched = c.tangent_batched if BATCHED else None
        blocks, self.last_path, error = basis.forward_blocks(
            c.tangent.fn, xs, outs_like, residuals, self._specialising(batched),
            **self._batch_sizes(batched))
        if error is not None:
            self.batch_error = error
        return blocks

    def _reverse_blocks(self, c, leaves, outs, residuals):
        xs = [leaves[i] for i in c.wrt_leaves]
        batched = c.backward_batched if BATCHED else None
        blocks, self.last_path, error = basis.reverse_blocks(
            c.backward.fn, xs, outs, residuals, self._specialising(batched),
            **self._batch_sizes(batched))
        if error is not None:
            self.batch_error = error
        return blocks

    def _specialising(self, batched):
        """The batched linear part as a callable that runs code specialised to
        each chunk's shapes (buffers reused in place)."""
        if batched is None:
            return None
        return _Specialising(batched, self._globals())

    @staticmethod
    def _batch_sizes(batched):
        return dict(hints=batched.func.info.get("batch_size_hints", ()) if batched else (),
                    cache_elements=BATCH_CACHE_ELEMENTS, min_chunk=BATCH_MIN_CHUNK,
                    max_elements=BATCH_ELEMENTS)


class _Specialising:
    """Calls the batched linear part ``batched`` through the code specialised
    to the call's shapes (:func:`s2sgrad.api._pick`).  ``identity``
    (:func:`s2sgrad.basis.batched_blocks` calls it when the chunk's seeds are
    the whole identity matrix: one basis vector per element of a 1-D leaf)
    runs code specialised knowing that too -- products by the seeds are
    dropped (:func:`s2sgrad.specialize._identity_products`).  It is offered
    (``identity`` not None) only when the batched code multiplies a seed by a
    matrix, where the knowledge saves a product per chunk."""

    def __init__(self, batched, globals_):
        self.batched, self.globals_ = batched, globals_
        self.identity = self._identity if _seed_products(batched.func) else None

    def __call__(self, *args):
        return _pick(self.batched, list(args), self.globals_).fn(*args)

    def _identity(self, *args):
        c = self.batched
        leaves = list(args)
        key = _signature(leaves)
        table = c.__dict__.setdefault("identity_spec", {})
        sc = table.get(key) if key is not None else None
        if sc is None and key is not None and ENABLE_IDENTITY_SEEDS:
            try:
                with compiling(f"{c.func.name}, specialised to "
                               f"{_describe_signature(key)} with identity seeds",
                               c.__dict__.get("verbose", False)):
                    f = _specialize(c.func, leaves, identity=(len(leaves) - 1,))
                    if f is not None:
                        sc = generate(verify(f), self.globals_)
            except Exception:
                # an optimisation: the code specialised without it is right
                if api.STRICT_SPECIALIZE:
                    raise
            if sc is None:
                sc = _pick(c, leaves, self.globals_)
            table[key] = sc
        if sc is None:
            sc = _pick(c, leaves, self.globals_)
        return sc.fn(*args)


def _seed_products(func) -> bool:
    """Whether the batched ``func`` multiplies its last parameter (the seeds)
    by a matrix (a batched matrix product or its adjoint reading it)."""
    seed = func.params[-1] if func.params else None
    return seed is not None and any(
        e.prim.name == "batch_helper" and e.params.get("fn") in _PRODUCTS and
        any(a is seed for a in e.args) for e in iter_eqns(func.body))


_PRODUCTS = ("matmul", "matmul_vjp_a", "matmul_vjp_b")


#: Whether batched Hessians/Jacobians specialise their code to identity seeds
#: (see :class:`_Specialising`; False: never, e.g. to compare).
ENABLE_IDENTITY_SEEDS = True

#: Whether ``hessian``/``jacobian`` use the batched linear part (set False to
#: force the per-basis-vector loop, e.g. to compare the two).
BATCHED = True
#: Chunk sizes of the batched linear part (see :mod:`s2sgrad.basis`).
BATCH_CACHE_ELEMENTS = basis.BATCH_CACHE_ELEMENTS
BATCH_MIN_CHUNK = basis.BATCH_MIN_CHUNK
BATCH_ELEMENTS = basis.BATCH_ELEMENTS


def _gen_batched(linear, nbatched, globals_):
    """The batched version of the compiled linear part ``linear`` (its last
    ``nbatched`` parameters get a batch axis), compiled; or None."""
    f = linear.func
    n = len(f.params)
    try:
        bf = batch_func(f, range(n - nbatched, n), name=f"{f.name}_batched")
        if bf is None:
            return None
        from .optimize import dce
        return generate(verify(dce(bf)), globals_)
    except Exception:           # noqa: BLE001 -- no batched code: the loop is used
        return None


class HessianFunction(_BasisBase):
    """``hessian(f)``: calling it returns the Hessian of the scalar ``f`` with
    respect to ``wrt``, shaped ``x.shape + x.shape`` (nested for tuples and
    containers: ``H[i][j]`` is ``x_i.shape + x_j.shape``)."""

    _default_mode = "fwd"
    kind_name = "hessian"

    def _compile_mode(self, mode, specs):
        g, jf, wrt_leaves = _grad_jvp(self, specs, "hessian")
        ng = len(g.results)
        jf = optimize(verify(select_results(jf, range(ng, 2 * ng))))
        p, t, _ = linearize(jf, len(g.params), 0)
        cp = _gen(p, self._globals())
        ct = _gen(t, self._globals())
        cp.tangent = ct
        cp.tangent_batched = _gen_batched(ct, len(wrt_leaves), self._globals())
        cp.wrt_leaves = wrt_leaves
        cp.source = cp.source + "\n\n" + ct.source
        if cp.tangent_batched is not None:
            cp.source += "\n\n" + cp.tangent_batched.source
        return cp

    @user_errors
    def __call__(self, *args, **kwargs):
        bound, specs, leaves = self._prepare(args, kwargs)
        c = self._compiled_mode("fwd", specs)
        residuals = c.fn(*leaves)
        if not isinstance(residuals, tuple):
            residuals = (residuals,)
        xs = [leaves[i] for i in c.wrt_leaves]
        # the rows are the gradient's leaves, shaped like the wrt leaves
        blocks = self._forward_blocks(c, xs, xs, residuals)
        tree = _wrt_tree(self, specs, bound)
        return _assemble(tree, tree, xs, xs, blocks)


def hessian(fun=None, *, wrt=0, checkpoint=None, verbose=False):
    """Compile the Hessian of a scalar function.

    ``hessian(f, wrt=0)(*args)`` has shape ``x.shape + x.shape``.  The
    gradient program's tangent (forward-over-reverse) is linearised: its
    primal part runs once, then its linear part (a Hessian-vector product
    given the primal values) runs once on a *batch* of seeds, the identity
    matrix with a leading batch axis, giving all Hessian columns in one call
    of vectorised NumPy code (``f_hess.source`` shows it as
    ``<name>_tangent_batched``; the batch is cut into chunks so intermediates
    stay small).  The cost is that of ``n`` Hessian-vector products without
    their ``n`` Python-level calls (loops and branches are batched too; a
    linear part without a batched version, e.g. one that builds Python lists,
    is called once per element of ``x`` instead).  A tuple
    ``wrt`` gives nested tuples of blocks ``H[i][j]``
    (``x_i.shape + x_j.shape``).  ``checkpoint`` checkpoints the gradient's
    loops as ``grad``'s does (the forward sweep over it keeps the schedule).
    """
    if fun is None:
        return lambda f: _with_schedule(HessianFunction(f, wrt=wrt, verbose=verbose), checkpoint)
    return _with_schedule(HessianFunction(fun, wrt=wrt, verbose=verbose), checkpoint)


class JacobianFunction(_BasisBase):
    """``jacobian(f)``: calling it returns ``d out / d x`` shaped
    ``out.shape + x.shape`` (nested: output structure of wrt structure)."""

    kind_name = "jacobian"

    def __init__(self, fn, wrt=0, mode="auto", verbose=False):
        if mode not in ("auto", "forward", "reverse", "fwd", "rev"):
            raise ValueError(f"jacobian mode must be 'auto', 'forward' or 'reverse', got "
                             f"{mode!r}")
        super().__init__(fn, wrt=wrt, verbose=verbose)
        self.mode = {"fwd": "forward", "rev": "reverse"}.get(mode, mode)
        self._default_mode = "reverse" if self.mode == "reverse" else "forward"
        self._out_sizes: dict = {}

    def _over(self, mode, specs):
        """The primal IR, made for ``mode``: an inner gradient's checkpointed
        loops stay checkpointed (forward mode differentiates the drivers;
        reverse mode makes a checkpointed inner gradient one marker call
        whose reverse rule is a checkpointed hvp, s2sgrad.gradcall)."""
        flag = "_forward_over" if mode == "forward" else "_reverse_over"
        setattr(self, flag, True)
        try:
            return self._primal(specs)
        finally:
            delattr(self, flag)

    def _compile_mode(self, mode, specs):
        primal = self._over(mode, specs)
        wrt_leaves = _wrt_leaves(self, specs)
        nres = len(primal.results)
        out_tree = primal.info["out_tree"]
        if mode == "forward":
            from .forward import CheckpointTangentError
            try:
                jf = jvp_func(primal, wrt_leaves, name=f"{primal.name}_jvp")
            except CheckpointTangentError:
                # an inner gradient's checkpoint tape carried by a loop: its
                # uncheckpointed version instead
                primal = self._primal(specs)
                jf = jvp_func(primal, wrt_leaves, name=f"{primal.name}_jvp")
            jf = optimize(verify(jf))
            p, t, _ = linearize(jf, len(primal.params), nres)
            cp = _gen(p, self._globals())
            ct = _gen(t, self._globals())
            cp.tangent = ct
            cp.tangent_batched = _gen_batched(ct, len(wrt_leaves), self._globals())
            cp.source = cp.source + "\n\n" + ct.source
            if cp.tangent_batched is not None:
                cp.source += "\n\n" + cp.tangent_batched.source
        else:
            # (remat: marked loops and a checkpointed inner gradient's rule
            # stay checkpointed; a tape is a residual the pullback only reads)
            g = grad_func(primal, wrt_leaves, list(range(nres)), keep_values=True,
                          cotangent_params=True, name=f"{primal.name}_vjp", remat=True,
                          checkpoint=self.checkpoint)
            g = optimize(verify(g))
            fwd, bwd = split_vjp(g, nprimal=len(primal.params), nout=nres)
            cp = _gen(fwd, self._globals())
            cb = _gen(bwd, self._globals())
            cp.backward = cb
            cp.backward_batched = _gen_batched(cb, nres, self._globals())
            cp.source = cp.source + "\n\n" + cb.source
            if cp.backward_batched is not None:
                cp.source += "\n\n" + cp.backward_batched.source
        cp.wrt_leaves = wrt_leaves
        cp.nres = nres
        cp.out_tree = out_tree
        return cp

    @user_errors
    def __call__(self, *args, **kwargs):
        bound, specs, leaves = self._prepare(args, kwargs)
        xs_size = sum(int(np.size(leaves[i])) for i in _wrt_leaves(self, specs))
        mode = self.mode
        if mode == "auto":
            key = (tuple(specs.items()), tuple(np.shape(x) for x in leaves
                                               if isinstance(x, (np.ndarray, numbers.Number))))
            m = self._out_sizes.get(key)
            if m is None and self._forward_refused(specs):
                m = self._out_sizes[key] = -1     # a custom rule refuses forward mode
            if m is None:
                c = self._compiled_mode("forward", specs)
                # the generators are put back if reverse mode runs the primal again
                keep = draws.preserved(draws.generators(c.func, leaves))
                with keep:
                    res = c.fn(*leaves)
                    outs = list(res[:c.nres])
                    m = sum(int(np.size(o)) for o in outs)
                    self._out_sizes[key] = m
                    if xs_size <= m:
                        keep.gens = []         # the draws of this run are the call's
                if xs_size <= m:
                    xs = [leaves[i] for i in c.wrt_leaves]
                    return self._finish(c, bound, specs, leaves, outs,
                                        self._forward_blocks(c, xs, outs, res[c.nres:]))
            mode = "forward" if xs_size <= m else "reverse"
        c = self._compiled_mode(mode, specs)
        res = c.fn(*leaves)
        if not isinstance(res, tuple):
            res = (res,)
        outs, residuals = list(res[:c.nres]), res[c.nres:]
        if mode == "forward":
            xs = [leaves[i] for i in c.wrt_leaves]
            blocks = self._forward_blocks(c, xs, outs, residuals)
        else:
            blocks = self._reverse_blocks(c, leaves, outs, residuals)
        return self._finish(c, bound, specs, leaves, outs, blocks)

    def _forward_refused(self, specs):
        """Whether forward mode is refused for these specs by a custom rule that has
        no forward form (s2sgrad.custom: a reverse rule that is not linear in its
        cotangent, like clip_gradient's); "auto" then uses reverse mode."""
        from .custom import RuleError
        try:
            self._compiled_mode("forward", specs)
        except RuleError:
            return True
        return False

    def _finish(self, c, bound, specs, leaves, outs, blocks):
        xs = [leaves[i] for i in c.wrt_leaves]
        return _assemble(c.out_tree, _wrt_tree(self, specs, bound), outs, xs, blocks)


def jacobian(fun=None, *, wrt=0, mode="auto", checkpoint=None, verbose=False):
    """Compile the Jacobian of a function with array (or pytree) outputs.

    ``jacobian(f, wrt=0)(*args)`` has shape ``out.shape + x.shape``.
    ``mode="forward"`` builds it from the columns ``J e_k`` given by the
    compiled tangent program, ``"reverse"`` from the rows ``e_k^T J`` given by
    the compiled pullback (its loops checkpointed by ``checkpoint`` as
    ``vjp``'s are; forward mode stores nothing), ``"auto"`` picks whichever
    needs fewer basis vectors.  The primal part runs once per call either way; the linear part
    runs once on a batch of all basis vectors (vectorised code shown in
    ``.source`` as ``<name>_tangent_batched`` / ``<name>_bwd_batched``,
    chunked to keep intermediates small), or once per basis vector where it
    has no batched version.  Pytree outputs/arguments give nested results: the
    output's structure, each leaf holding the ``wrt`` structure of blocks.
    """
    if fun is None:
        return lambda f: _with_schedule(JacobianFunction(f, wrt=wrt, mode=mode,
                                                         verbose=verbose), checkpoint)
    return _with_schedule(JacobianFunction(fun, wrt=wrt, mode=mode, verbose=verbose),
                          checkpoint)
