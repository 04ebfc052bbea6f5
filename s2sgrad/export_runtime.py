"""What an exported module's public functions do around the generated code.

:mod:`s2sgrad.export` writes a generated gradient as a module that needs only
NumPy; its public functions (``loss_grad``, ``loss_vjp``, ...) take the
arguments the in-process transformation takes, check that they have the
structure the code was compiled for, flatten containers into the leaves the
generated code takes, pick the shape-specialised code when the call's
shapes, dtypes and types match it exactly, and give the results the types,
dtypes and containers the in-process call returns.  These helpers do that;
the exporter copies the ones a module uses (with :mod:`s2sgrad.runtime`'s and
:mod:`s2sgrad.basis`'s), so they are NumPy only and import nothing of
s2sgrad.  They mirror ``api._fix_grad``, ``api._unalias``,
``higher._fix_out_tangent``, ``higher._as_tangent`` and ``pytree``;
``tests/test_export.py`` compares every exported result with the in-process
one.

Containers are described by literals ("structures"): ``None`` for a leaf (an
array or a scalar), ``("tuple", children)``, ``("list", children)``,
``("dict", keys, children)`` and ``("namedtuple", class name, fields,
children)``.
"""
import numpy as np

from .basis import block_value  # noqa: F401  (used by assemble; copied with it)


def structure(x, leaves):
    """The structure of ``x``; its leaves are appended to ``leaves``."""
    if isinstance(x, dict):
        return ("dict", tuple(x), tuple(structure(x[k], leaves) for k in x))
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return ("namedtuple", type(x).__name__, tuple(x._fields),
                tuple(structure(v, leaves) for v in x))
    if isinstance(x, tuple):
        return ("tuple", tuple(structure(v, leaves) for v in x))
    if isinstance(x, list):
        return ("list", tuple(structure(v, leaves) for v in x))
    leaves.append(x)
    return None


def rebuild(struct, leaves, like=None):
    """The container ``struct`` holding ``leaves`` (an iterator); a
    namedtuple takes the class of the corresponding part of ``like``."""
    if struct is None:
        return next(leaves)
    kind, children = struct[0], struct[-1]
    if kind == "dict":
        return {k: rebuild(c, leaves, None if like is None else like[k])
                for k, c in zip(struct[1], children)}
    parts = [rebuild(c, leaves, None if like is None else like[i])
             for i, c in enumerate(children)]
    if kind == "namedtuple":
        return type(like)(*parts)
    return parts if kind == "list" else tuple(parts)


def argument_leaves(x, struct, name):
    """The leaves of argument ``name``, checked to have the structure the
    code was compiled for."""
    leaves = []
    got = structure(x, leaves)
    if got != struct:
        raise TypeError(f"'{name}' must be {describe(struct)} (the structure this module was "
                        f"exported for), got {describe(got)}; export again with an example "
                        f"of the new structure")
    return leaves


def describe(struct):
    if struct is None:
        return "an array or a number"
    if struct[0] == "dict":
        return f"a dict with keys {list(struct[1])}"
    if struct[0] == "namedtuple":
        return f"a {struct[1]} namedtuple"
    return f"a {struct[0]} of {len(struct[-1])} items"


def check_static(x, value, name):
    """``name`` was a compile-time constant (a Python int or bool) in the
    exported code: only that value is accepted."""
    if type(x) is not type(value) or x != value:
        raise TypeError(f"this module was exported for {name}={value!r} (a compile-time "
                        f"constant of the code); got {x!r}: export again with that value")


def check_none(x, name):
    if x is not None:
        raise TypeError(f"this module was exported for {name}=None; got a value: export "
                        f"again with an example that passes it")


def check_given(x, name):
    if x is None:
        raise TypeError(f"this module was exported for a value of '{name}', got None: export "
                        f"again with {name}=None in the example")


def check_differentiable(x, name):
    """Only float arrays and floats are differentiated."""
    if isinstance(x, (float, np.floating)) and not isinstance(x, bool):
        return
    if isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.floating):
        return
    raise TypeError(f"cannot differentiate with respect to '{name}': expected a float or a "
                    f"float array, got {type(x).__name__}"
                    + (f" of dtype {x.dtype}" if isinstance(x, np.ndarray) else ""))


def signature(leaves):
    """Per leaf (shape, dtype, type) or the Python scalar type: the code
    specialised to a signature runs only for calls that match it exactly."""
    key = []
    for a in leaves:
        t = type(a)
        if t is np.ndarray or isinstance(a, np.generic):
            key.append((a.shape, a.dtype, t))
        elif t in (float, int, bool):
            key.append(t)
        elif t is type and issubclass(a, np.generic):
            key.append(("dtype", a))    # a dtype computed in one part, read in another
        else:
            return None
    return tuple(key)


def like_argument(g, x, inputs):
    """A gradient given its argument's type, shape and dtype; never aliasing
    an input."""
    if isinstance(x, float) and not isinstance(x, np.floating):
        return float(np.asarray(g).reshape(()))
    if isinstance(x, np.floating):
        return type(x)(np.asarray(g).reshape(()))
    g = np.asarray(g)
    if g.dtype != x.dtype:
        g = g.astype(x.dtype)
    if g.shape != x.shape:
        if g.size != x.size:
            raise ValueError(f"gradient of shape {g.shape} for an argument of shape {x.shape}")
        g = g.reshape(x.shape)
    if not g.flags.writeable or any(g is a for a in inputs) or g.base is not None and any(
            isinstance(a, np.ndarray) and np.may_share_memory(g, a) for a in inputs):
        g = g.copy()
    return g


def unalias(grads):
    """Copies of gradients that share memory with an earlier one."""
    grads = list(grads)
    arrays = []
    for k, g in enumerate(grads):
        if type(g) is not np.ndarray:
            continue
        if any(g is h or np.may_share_memory(g, h) for h in arrays):
            g = grads[k] = g.copy()
        arrays.append(g)
    return grads


def like_output(d, o, inputs):
    """An output tangent given its output's type, shape and dtype."""
    if isinstance(o, (bool, np.bool_)):
        return d
    if np.iscomplexobj(d) and not np.iscomplexobj(o):
        d = np.real(d)          # a real output's tangent is real
    if isinstance(o, (float, complex, np.inexact)):
        return type(o)(np.asarray(d).reshape(()))
    if isinstance(o, np.ndarray) and np.issubdtype(o.dtype, np.inexact):
        d = np.asarray(d)
        if d.dtype != o.dtype:
            d = d.astype(o.dtype)
        if d.shape != o.shape:
            d = np.broadcast_to(d, o.shape)
        if not d.flags.writeable or any(isinstance(a, np.ndarray) and np.may_share_memory(d, a)
                                        for a in inputs):
            d = d.copy()
    return d


def as_tangent(t, x, what):
    """``t`` converted to the type and dtype of the primal leaf ``x``."""
    if np.shape(t) != np.shape(x):
        raise ValueError(f"{what} has shape {np.shape(t)} but the argument has shape "
                         f"{np.shape(x)}")
    if isinstance(x, float) and not isinstance(x, np.floating):
        return float(np.asarray(t).reshape(()))
    if isinstance(x, np.floating):
        return type(x)(np.asarray(t).reshape(()))
    return np.asarray(t, dtype=np.result_type(x))


def tangent_leaves(t, x, name, what="tangent"):
    """The leaves of the tangent of argument ``name`` (value ``x``), which
    must have the structure of ``x``."""
    xs, ts = [], []
    sx, st = structure(x, xs), structure(t, ts)
    if sx != st:
        raise ValueError(f"the {what} for '{name}' must have the structure of the argument "
                         f"({describe(sx)}), got {describe(st)}")
    return [as_tangent(a, b, f"the {what} for '{name}'") for a, b in zip(ts, xs)]


def cotangent_leaves(ct, outs, struct, name):
    """The leaves of a pullback's cotangent, shaped like the outputs ``outs``."""
    cts = []
    if structure(ct, cts) != struct:
        raise ValueError(f"pullback of '{name}' expects a cotangent with the structure of its "
                         f"output")
    for c, o in zip(cts, outs):
        if np.shape(c) != np.shape(o):
            raise ValueError(f"cotangent has shape {np.shape(c)} but the output has shape "
                             f"{np.shape(o)}")
    return [np.asarray(c, dtype=np.result_type(o)) for c, o in zip(cts, outs)]


def assemble(out_struct, in_struct, out_leaves, in_leaves, blocks, like=None):
    """Nest Jacobian blocks ``[a][b]`` (output leaf a, input leaf b) as the
    output structure of input structures (``like``: the input, for
    namedtuple classes)."""
    rows = [rebuild(in_struct, iter([block_value(blocks[a][b], o, x)
                                     for b, x in enumerate(in_leaves)]), like)
            for a, o in enumerate(out_leaves)]
    return rebuild(out_struct, iter(rows))


def flat_arguments(arguments, values):
    """The leaves the generated code takes, from a call's arguments, checked
    against the structure the code was compiled for.  ``arguments``: per
    parameter ``(name, kind, differentiated)``, ``kind`` one of "leaf",
    "none", ``("static", value)``, ``("tree", structure)``."""
    leaves = []
    for (name, kind, diff), x in zip(arguments, values):
        if kind == "none":
            check_none(x, name)
            got = [x]
        elif kind[0] == "static":
            check_static(x, kind[1], name)
            got = [x]
        elif kind[0] == "tree":
            got = argument_leaves(x, kind[1], name)
        else:
            check_given(x, name)
            got = [x]
        if diff:
            for leaf in got:
                check_differentiable(leaf, name)
        leaves += got
    return leaves


def count_leaves(struct):
    return 1 if struct is None else sum(count_leaves(c) for c in struct[-1])


def regroup(grads, arguments, wrt, values):
    """Per-leaf gradients -> one per differentiated argument (positions
    ``wrt``), with the argument's container structure."""
    out, k = [], 0
    for w in wrt:
        kind = arguments[w][1]
        if kind != "none" and kind[0] == "tree":
            n = count_leaves(kind[1])
            out.append(rebuild(kind[1], iter(grads[k:k + n]), values[w]))
            k += n
        else:
            out.append(grads[k])
            k += 1
    return out
