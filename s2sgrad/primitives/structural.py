"""Structural primitives: tuples/lists built at run time, reads of globals and
closure cells, Python scalar conversions, and array metadata (.shape, ...).
"""
from __future__ import annotations

import ast

import numpy as np

from .. import runtime
from ..errors import S2SGradError

from .core import defattr, defprim, shape_fresh, shape_of, SCALAR


def _tuple_printer(args, kwargs, eqn):
    return ast.Tuple(elts=list(args), ctx=ast.Load())


def _list_printer(args, kwargs, eqn):
    return ast.List(elts=list(args), ctx=ast.Load())


# Built for shapes and index lists.  A differentiated value flowing into one
# of these (other than through a primitive that takes a sequence, like
# np.stack) is refused at compile time rather than given a zero derivative.
defprim("make_tuple", lambda *xs: tuple(xs), sig="*xs", opaque=True, printer=_tuple_printer,
        pyname="a tuple built from computed values",
        shape=shape_fresh, inline=True)
defprim("make_list", lambda *xs: list(xs), sig="*xs", opaque=True, alloc=True, printer=_list_printer,
        pyname="a list built from computed values",
        shape=shape_fresh, inline=True)

# Reads of data the function does not receive as arguments.  Printed as the
# bare name (globals are looked up live in the user's module).
defprim("load_global", None, sig="", nondiff=True, inline=True, shape=shape_fresh)
defprim("load_cell", None, sig="", nondiff=True, inline=True, shape=shape_fresh)
# A fixed object the generated code holds (a bound method's self), and
# attributes / entries read through it or through a global (self.W,
# CONFIG["lr"]): printed where used, so they are read when the code runs.
defprim("load_object", None, sig="", nondiff=True, inline=True, shape=shape_fresh)
defprim("load_attr", None, sig="obj, /", nondiff=True, inline=True, shape=shape_fresh)
defprim("load_item", None, sig="obj, /", nondiff=True, inline=True, shape=shape_fresh)

# Metadata: never differentiated.
SHAPE = defprim("shape", np.shape, sig="a, /", nondiff=True, shape=shape_fresh, inline=True)

# Aliasing facts decided at run time (s2sgrad.alias): whether ``x += v`` is in
# place (an array) or a rebinding (a scalar); whether a reshape made a view.
defprim("is_array", runtime.is_array, sig="x, /", nondiff=True, pyname="is_array",
        shape=lambda a, k: SCALAR, inline=True)
defprim("may_share_memory", runtime.may_share_memory, sig="a, b, /", nondiff=True,
        pyname="may_share_memory", shape=lambda a, k: SCALAR)
NDIM = defprim("ndim", np.ndim, sig="a, /", nondiff=True, shape=lambda a, k: SCALAR, inline=True)
SIZE = defprim("size", np.size, sig="a, /, axis=None", nondiff=True, shape=lambda a, k: SCALAR,
               inline=True)
DTYPE = defprim("result_type", np.result_type, sig="*arrays_and_dtypes", nondiff=True,
                shape=shape_fresh, inline=True)
defprim("len", len, sig="a, /", nondiff=True, pyname="len", shape=lambda a, k: SCALAR,
        inline=True)
# opts.get("scale", 1.0) of a dict passed as data (**opts): read when the code
# runs, as opts["scale"] is (printed as the method call)
defprim("dict_get", dict.get, sig="d, key, default=None, /", nondiff=True, pyname="dict.get",
        shape=shape_fresh)
# layout_checked(v, w, what=...) = v, copied to w's strides where they differ
# (a loop carry written through a view: s2sgrad.lower.aliasing.numpy_memory)
defprim("layout_checked", runtime.layout_checked, sig="v, w, /, what=''",
        pyname="layout_checked",
        vjp=lambda em, g, out, v, w, what=None: [g, None],
        jvp=lambda em, dots, out, v, w, what=None: dots[0],
        shape=lambda args, kwargs: shape_of(args[0]),
        doc="runtime helper: v, copied to w's strides where they differ (a loop carry's "
            "layout in NumPy).")
# for k in opts (a dict passed as data): its keys, read when the code runs
defprim("dict_keys", runtime.dict_keys, sig="d, /", nondiff=True, pyname="dict_keys",
        shape=shape_fresh)


def _is_none_printer(args, kwargs, eqn):
    return ast.Compare(left=args[0], ops=[ast.IsNot() if eqn.prim.name == "is_not_none" else
                                          ast.Is()], comparators=[ast.Constant(None)])


# ``v is None`` / ``v is not None`` of a value that may hold any Python object
# when the code runs (an item of a container passed as data: a settings dict
# with ``"clip": None``), tested then.  No impl: folded while specialising
# only where the operand is static (specialize._Infer.simple: a settings
# dict's item that the specialisation key has as None); an example alone
# says nothing about None.
for _name in ("is_none", "is_not_none"):
    defprim(_name, None, sig="x, /", nondiff=True, shape=lambda a, k: SCALAR,
            printer=_is_none_printer, inline=True)

defattr("shape", SHAPE)
defattr("ndim", NDIM)
defattr("size", SIZE)
defattr("dtype", DTYPE)


# float(x): a Python float from a size-1 array or scalar.  Identity for derivatives.
defprim("float", float, sig="x, /", pyname="float",
        vjp=lambda em, g, out, x: [em.unbroadcast(g, x)],
        jvp=lambda em, dots, out, x: em.call("float", dots[0]),
        shape=lambda a, k: SCALAR)


# int(x) / bool(x) of a computed value (n = int(np.floor(s)), if bool(np.all(x > 0))):
# a Python number known when the code runs; piecewise constant, so data with
# derivative zero, as autograd treats them (JAX refuses them inside jit only).
defprim("int", int, sig="x, /", nondiff=True, pyname="int", shape=lambda a, k: SCALAR)
defprim("bool", bool, sig="x, /", nondiff=True, pyname="bool", shape=lambda a, k: SCALAR)


# complex(re, im) of computed values: re + 1j im, a Python complex (linear
# over the reals).  Cotangents (JAX's convention, primitives/complex.py): re's
# is g, im's is 1j g, each a real number when its operand is real.
def _complex_vjp(em, g, out, real, imag=None):
    cts = [em.call("cast_derivative", g, dtype=complex, to=em.result_type(real))]
    if imag is not None:
        cts.append(em.call("cast_derivative", em.multiply(g, 1j), dtype=complex,
                           to=em.result_type(imag)))
    return cts


def _complex_jvp(em, dots, out, real, imag=None):
    if all(d is None for d in dots):
        return None
    dr = dots[0] if dots[0] is not None else 0.0
    if imag is None:
        return em.call("complex", dr)
    return em.call("complex", dr, dots[1] if dots[1] is not None else 0.0)


defprim("complex", complex, sig="real, imag=None, /", pyname="complex",
        vjp=_complex_vjp, jvp=_complex_jvp, shape=lambda a, k: SCALAR,
        doc="complex(re, im): re + 1j im, a Python complex.")


def _cast_printer(args, kwargs, eqn):
    return ast.Call(func=kwargs["dtype"], args=[args[0]], keywords=[])


# np.float32(x) and friends: a cast; derivative passes through for float targets.
defprim("scalar_cast", None, sig="x, /, dtype", printer=_cast_printer,
        vjp=lambda em, g, out, x, dtype: [g if _is_float(dtype) else None],
        jvp=lambda em, dots, out, x, dtype: (em.call("scalar_cast", dots[0], dtype=dtype)
                                             if _is_float(dtype) else None),
        shape=lambda a, k: shape_of(a[0]))


def _is_float(dtype_atom):
    v = getattr(dtype_atom, "value", None)
    try:
        return runtime.casts_derivative(v)
    except TypeError:
        return False
    except ValueError as exc:
        raise S2SGradError(str(exc), construct="conversion to a non-numeric dtype") from None


# stop_gradient(x): the value, with derivative zero.
from .. import runtime as _rt  # noqa: E402
defprim("stop_gradient", _rt.stop_gradient, sig="x, /", nondiff=True, pyname="stop_gradient",
        shape=lambda a, k: shape_of(a[0]))
