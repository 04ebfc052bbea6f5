"""Complex numbers: ``conj``, ``real``, ``imag``, ``angle`` (and the ``.real``,
``.imag`` attributes, ``.conj()``/``.conjugate()`` methods), plus the two
helpers rules use to stay right for complex values.

The convention is JAX's (and autograd's): a complex value ``z = x + iy`` is
a pair of reals, and its cotangent is the complex number
``dL/dx - i dL/dy`` -- the *transpose*, not the conjugate transpose, of the
derivative.  So:

* a holomorphic function's rules need no conjugates: the cotangent of
  ``f(z)`` is ``g * f'(z)``, which is what ``def_elementwise`` already
  emits for ``exp``, ``log``, ``multiply``, ``power``, ``sqrt``, ... ;
* ``grad`` of a real-valued ``f`` at a complex ``z`` returns
  ``df/dx - i df/dy``, the conjugate of the steepest-ascent direction
  (``grad(lambda z: abs(z) ** 2)(z) == 2 * conj(z)``);
* the non-holomorphic primitives (``abs``, ``conj``, ``real``, ``imag``,
  ``angle``, ``norm``) have explicit rules, below and in ``elementwise.py``;
* a real value's cotangent is real: a function from complex to real
  (``abs``, ``real``, ``imag``, ``angle``) takes the real part of the
  cotangent it receives (``real_if_complex``), and a real argument's
  gradient is the real part of what reaches it (``api._fix_grad``).

Paired with tangents by ``<a, b> = Re(sum(a * b))``, the cotangent and the
tangent satisfy the dot-product identity; ``check_grads`` checks complex
arguments in a real and an imaginary direction.

Conventions at singular points: ``angle`` has derivative 0 at ``z == 0``
(it is undefined there); ``abs`` at 0 has derivative 0, as for reals.
"""
from __future__ import annotations

import numpy as np

from .. import runtime
from .core import SCALAR, defattr, defmethod, defprim, shape_elementwise, shape_of

# ---------------------------------------------------------------- helpers rules emit

# real_if_complex(g): linear (over the reals), its own adjoint.
defprim("real_if_complex", runtime.real_if_complex, sig="x, /", pyname="real_if_complex",
        vjp=lambda em, h, out, x: [em.real_if_complex(h)],
        jvp=lambda em, dots, out, x: em.real_if_complex(dots[0]),
        shape=shape_elementwise, linear=True,
        doc="runtime helper: the real part of a complex value, a real value itself.")
# conj_if_complex(x): conjugation is its own adjoint under <a, b> = Re(sum(a * b)).
defprim("conj_if_complex", runtime.conj_if_complex, sig="x, /", pyname="conj_if_complex",
        vjp=lambda em, h, out, x: [em.conj_if_complex(h)],
        jvp=lambda em, dots, out, x: em.conj_if_complex(dots[0]),
        shape=shape_elementwise, linear=True,
        doc="runtime helper: the conjugate of a complex value, a real value itself.")


# csign(x) = d|x|/dx: sign(x) for real x, conj(z) / |z| for complex z (0 at 0);
# abs's rules use it.  With u = conj(csign(z)) = z / |z|, its derivative is
#   J(t) = conj(t - u Re(conj(u) t)) / |z|,
# self-adjoint under <a, b> = Re(sum(a * b)).  Written so that for a real x it
# is exactly 0 (u = +-1: t - u (u t) == t - t), and 0 at x == 0 (times |csign|),
# so abs's second derivative is 0 for reals, as sign is piecewise constant.


def _csign_tangent(em, t, out, x):
    rho = em.real(em.multiply(out, t))
    w = em.subtract(t, em.multiply(em.conj_if_complex(out), rho))
    r = em.absolute(x)
    # at a complex 0 this 0 is no derivative (|z| is a 2-norm there, and
    # |z| ** 2's Hessian would come out 0): refused if t moves that 0
    return em.call("csign_tangent_checked", em.divide(
        em.multiply(em.conj_if_complex(w), em.absolute(out)), em.where(em.equal(r, 0), 1, r)),
        t, x)


# csign_tangent_checked(v, t, x) = v (refusing a t that moves a complex 0 of x)
defprim("csign_tangent_checked", runtime.csign_tangent_checked, sig="v, t, x, /",
        pyname="csign_tangent_checked",
        vjp=lambda em, h, out, v, t, x: [em.call("csign_tangent_checked", h, t, x), None, None],
        jvp=lambda em, dots, out, v, t, x: (
            None if dots[0] is None else em.call("csign_tangent_checked", dots[0], t, x)),
        shape=lambda args, kwargs: shape_of(args[0]),
        doc="runtime helper: v, refused where a complex x is 0 and t is not (a second "
            "derivative of abs at a complex 0).")


defprim("csign", runtime.csign, sig="x, /", pyname="csign",
        vjp=lambda em, g, out, x: [_csign_tangent(em, g, out, x)],
        jvp=lambda em, dots, out, x: _csign_tangent(em, dots[0], out, x),
        shape=shape_elementwise,
        doc="runtime helper: d|x|/dx -- sign(x) for real x, conj(z) / |z| for complex z.")


# require_real(x, what): x, checked at run time to be real (the decompositions'
# rules are written for real matrices).  The identity for derivatives.
defprim("require_real", runtime.require_real, sig="x, /, what=''", pyname="require_real",
        vjp=lambda em, h, out, x, **kw: [h], jvp=lambda em, dots, out, x, **kw: dots[0],
        shape=lambda args, kwargs: shape_of(args[0]), linear=True,
        doc="runtime helper: x, refused if complex (rules for real matrices).")


# check_real(x, what): nothing, or a run-time refusal of a complex x.  Kept by
# dead-code elimination (an effect), dropped by shape specialisation for real
# dtypes; reverse.guard_real_only emits it for the differentiated operands of a
# ``real_only`` primitive (np.sign), whose derivative 0 is right for reals only.
CHECK_REAL = defprim("check_real", runtime.check_real, sig="x, /, what=''",
                     pyname="check_real", nondiff=True, nouts=0,
                     shape=lambda args, kwargs: None,
                     doc="runtime helper: refuses a complex x (whose derivative would be "
                         "taken as 0).")
CHECK_REAL.effect = True


# ---------------------------------------------------------------- conj, real, imag

CONJ = defprim("conjugate", np.conjugate, sig="x, /",
               vjp=lambda em, g, out, x: [em.conjugate(g)],
               jvp=lambda em, dots, out, x: em.conjugate(dots[0]),
               shape=shape_elementwise, linear=True,
               doc="np.conj / np.conjugate / x.conj(): the cotangent is conj(g).")
defmethod("conj", CONJ)
defmethod("conjugate", CONJ)

# real(z): the cotangent of a complex z is the (real) g itself, i.e. g + 0i.
REAL = defprim("real", np.real, sig="x, /",
               vjp=lambda em, g, out, x: [em.real_if_complex(g)],
               jvp=lambda em, dots, out, x: em.real(dots[0]),
               shape=lambda args, kwargs: shape_of(args[0]), linear=True,
               doc="np.real / x.real: the cotangent is g (as a complex number g + 0i).")
defattr("real", REAL)


# imag(z) = Re(-i z): the cotangent is -i g.  (For a real x, imag(x) is 0 and
# -i g is purely imaginary: its real part, the real x's gradient, is 0.)
IMAG = defprim("imag", np.imag, sig="x, /",
               vjp=lambda em, g, out, x: [em.multiply(em.real_if_complex(g), -1j)],
               jvp=lambda em, dots, out, x: em.imag(dots[0]),
               shape=lambda args, kwargs: shape_of(args[0]), linear=True,
               doc="np.imag / x.imag: the cotangent is -1j * g.")
defattr("imag", IMAG)


# real_if_close(a, tol): the real part where every imaginary part is within tol
# machine epsilons of 0, else a itself -- decided by NumPy at run time.  The
# tangent is the real part of da exactly when the result is real; the cotangent
# g (real then) is a's cotangent as is (g + 0i).
defprim("real_like", runtime.real_like, sig="t, like, /", pyname="real_like",
        vjp=lambda em, h, out, t, like: [h, None],
        jvp=lambda em, dots, out, t, like: (
            None if dots[0] is None else em.real_like(dots[0], like)),
        shape=lambda args, kwargs: shape_of(args[0]), linear=True,
        doc="runtime helper: the real part of t where like is real (np.real_if_close's "
            "tangent).")
# grad_like(g, x): a gradient given its argument's kind (real part, dtype):
# linear over the reals in g; x only supplies the kind.  The cotangent of g is
# h itself (as for real_like; a dtype cast transposes to the identity).
defprim("grad_like", runtime.grad_like, sig="g, x, /", pyname="grad_like",
        vjp=lambda em, h, out, g, x: [h, None],
        jvp=lambda em, dots, out, g, x: (
            None if dots[0] is None else em.grad_like(dots[0], x)),
        shape=lambda args, kwargs: shape_of(args[0]), linear=True,
        doc="runtime helper: a nested gradient in its argument's kind (real part where "
            "the argument is real, its dtype).")
defprim("real_if_close", np.real_if_close, sig="a, /, tol=100",
        vjp=lambda em, g, out, a, tol=None: [g],
        jvp=lambda em, dots, out, a, tol=None: em.real_like(dots[0], out),
        shape=lambda args, kwargs: shape_of(args[0]),
        doc="np.real_if_close: the real part when NumPy drops the imaginary part, a itself "
            "otherwise.")


# ---------------------------------------------------------------- angle
#
# angle(z) = atan2(y, x): d angle = (x dy - y dx) / |z|^2 = Im(conj(z) dz) / |z|^2,
# so the cotangent is -i g conj(z) / |z|^2.  At z == 0 (undefined) both rules
# give 0: |z|^2 is replaced by 1 there, and conj(z) is 0.  For a real x the
# derivative is 0 (angle is 0 or pi): the tangent Im(x dx) is 0, the cotangent
# purely imaginary.


def _angle_scale(em, x, deg):
    r2 = em.real(em.multiply(x, em.conj_if_complex(x)))
    safe = em.where(em.equal(r2, 0), 1, r2)
    scale = (180.0 / np.pi) if _deg(deg) else 1
    return em.divide(scale, safe)


def _deg(deg):
    return deg is not None and bool(getattr(deg, "value", deg))


def _angle_vjp(em, g, out, x, deg=None):
    w = em.multiply(em.multiply(em.real_if_complex(g), _angle_scale(em, x, deg)), -1j)
    return [em.unbroadcast(em.multiply(w, em.conj_if_complex(x)), x)]


def _angle_jvp(em, dots, out, x, deg=None):
    (dx,) = dots
    t = em.imag(em.multiply(em.conj_if_complex(x), dx))
    return em.multiply(t, _angle_scale(em, x, deg))


defprim("angle", np.angle, sig="z, /, deg=False", vjp=_angle_vjp, jvp=_angle_jvp,
        shape=lambda args, kwargs: shape_of(args[0]),
        doc="np.angle(z, deg): d angle = Im(conj(z) dz) / |z|^2 (0 at z == 0).")


# ---------------------------------------------------------------- data

for _name in ("iscomplex", "isreal"):
    defprim(_name, getattr(np, _name), sig="x, /", nondiff=True,
            shape=lambda args, kwargs: shape_of(args[0]))
for _name in ("iscomplexobj", "isrealobj"):
    defprim(_name, getattr(np, _name), sig="x, /", nondiff=True,
            shape=lambda args, kwargs: SCALAR)
