"""Helpers of the NumPy functions that call the user's function
(``lower/functional.py`` lowers the calls): ``np.apply_over_axes``'s
re-inserted axis (``axes_kept``), ``np.vectorize(f, signature=...)``'s rows and
assembly (``gufunc_*``)."""
from __future__ import annotations

from .. import runtime
from .core import defprim, shape_fresh, shape_of


def _axes_kept_vjp(em, g, out, res, a, axis):
    # the result is res itself or res with one unit axis inserted
    return [em.reshape(g, em.shape(res)), None]


defprim("axes_kept", runtime.axes_kept, sig="res, a, /, axis", pyname="axes_kept",
        vjp=_axes_kept_vjp,
        jvp=lambda em, dots, out, res, a, axis: None if dots[0] is None else
        em.call("axes_kept", dots[0], a, axis=axis),
        linear=True, shape=shape_fresh,
        doc="runtime helper: np.apply_over_axes' pass result with the axis kept (the "
            "identity for derivatives, up to a unit axis).")


# np.vectorize(f, signature=...): the operands' rows (one per call of f) and
# the results put back in the loop shape (runtime.gufunc_*).
defprim("gufunc_loop_shape", runtime.gufunc_loop_shape, sig="*xs, signature",
        pyname="gufunc_loop_shape", nondiff=True, shape=shape_fresh,
        doc="runtime helper: np.vectorize(signature=)'s broadcast loop shape (data).")
defprim("gufunc_rows", runtime.gufunc_rows, sig="x, loop_shape, /, k", pyname="gufunc_rows",
        vjp=lambda em, g, out, x, loop_shape, k: [
            em.call("gufunc_rows_adjoint", g, x, loop_shape, k=k), None],
        jvp=lambda em, dots, out, x, loop_shape, k: None if dots[0] is None else
        em.call("gufunc_rows", dots[0], loop_shape, k=k),
        linear=True, alloc=True, shape=shape_fresh,
        doc="runtime helper: an operand of np.vectorize(signature=) as one row per call.")
defprim("gufunc_rows_adjoint", runtime.gufunc_rows_adjoint, sig="g, x, loop_shape, /, k",
        pyname="gufunc_rows_adjoint",
        vjp=lambda em, h, out, g, x, loop_shape, k: [
            em.call("gufunc_rows", h, loop_shape, k=k), None, None],
        jvp=lambda em, dots, out, g, x, loop_shape, k: None if dots[0] is None else
        em.call("gufunc_rows_adjoint", dots[0], x, loop_shape, k=k),
        linear=True, shape=lambda args, kwargs: shape_of(args[1]),
        doc="runtime helper: the adjoint of gufunc_rows (rows summed back to the operand).")
defprim("gufunc_assemble", runtime.gufunc_assemble, sig="stacked, loop_shape, /",
        pyname="gufunc_assemble",
        vjp=lambda em, g, out, stacked, loop_shape: [em.reshape(g, em.shape(stacked)), None],
        jvp=lambda em, dots, out, stacked, loop_shape: None if dots[0] is None else
        em.call("gufunc_assemble", dots[0], loop_shape),
        linear=True, shape=shape_fresh,
        doc="runtime helper: np.vectorize(signature=)'s stacked results in the loop shape.")
