"""What the rules users write (``s2sgrad.custom_vjp``, ``custom_jvp``,
``defrule``; see :mod:`s2sgrad.custom`) need from the table: a run-time check
that a derivative a user's rule computed has the shape and dtype of the
value it is the derivative of.  Shape specialisation removes it where the
shapes are known to agree (``specialize._Rewriter.eqn``)."""
from __future__ import annotations

from .. import runtime
from .core import defprim, shape_of


# check_rule_output(v, like, what): v, checked.  The identity for derivatives
# (linear in v; like only supplies a shape and dtype).  Its result has like's
# shape (the check raises otherwise), so later unbroadcasts against like vanish.
defprim("check_rule_output", runtime.check_rule_output, sig="v, like, /, what, batched=False",
        pyname="check_rule_output",
        vjp=lambda em, g, out, v, like, what, batched=False: [g, None],
        jvp=lambda em, dots, out, v, like, what, batched=False: dots[0],
        shape=lambda args, kwargs: shape_of(args[1]), linear=True)
