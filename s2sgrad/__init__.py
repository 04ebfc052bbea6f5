"""s2sgrad: source-to-source automatic differentiation for Python + NumPy.

    from s2sgrad import grad

    @grad
    def loss(w, X, y):
        return np.mean(np.log1p(np.exp(-y * (X @ w))))

    dw = loss(w, X, y)     # computed by generated code
    print(loss.source)     # the generated adjoint, as Python
"""
from . import primitives  # noqa: F401  (fills the rule table, in a fixed order)
from .api import grad, value_and_grad, vjp, InputError
from .check import check_grads
from .runtime import stop_gradient
from .schedules import Binomial, Budget, checkpoint, checkpointed
from .higher import jvp, hvp, hessp, hessian, jacobian
from .custom import custom_vjp, custom_jvp, defrule, undefrule, RuleError
from .export import export, ExportError
from .graph import graph, Graph
from .pytree import register_pytree
from .errors import (S2SGradError, UnsupportedSyntaxError, UnknownFunctionError,
                     UnresolvedNameError, SourceNotFoundError, NonDifferentiableError,
                     OutputError, OutputTypeError, SharedArgumentsError, DataRefusedError)

__version__ = "0.1.0"

__all__ = ["register_pytree", "stop_gradient", "checkpoint", "checkpointed", "Binomial", "Budget", "grad",
           "value_and_grad", "vjp", "jvp", "hvp", "hessp", "hessian", "jacobian", "check_grads",
           "export", "ExportError", "graph", "Graph",
           "custom_vjp", "custom_jvp", "defrule", "undefrule", "RuleError",
           "S2SGradError",
           "UnsupportedSyntaxError", "UnknownFunctionError", "UnresolvedNameError",
           "SourceNotFoundError", "NonDifferentiableError", "OutputError", "OutputTypeError",
           "InputError", "SharedArgumentsError", "DataRefusedError"]
