"""Lowering: Python AST -> SSA IR (a package: one module per concern, see
:mod:`s2sgrad.lower.lowerer` for the map).

Expects: a parsed function (:mod:`s2sgrad.frontend`) and, for each parameter,
either a leaf or the structure (:class:`~s2sgrad.pytree.TreeDef`) of the
container passed for it.

Guarantees: a :class:`~s2sgrad.ir.Func` in SSA form with one primitive per
equation, every equation carrying the user's source location; or an
:class:`~s2sgrad.errors.S2SGradError` naming the user's file, line and
construct.  Nothing unknown is let through: an unknown callable, an
unresolvable name or an unsupported statement is an error here, never a
wrong number later.

Values during lowering are either runtime values (IR atoms: ``Var`` or
``Const``) or compile-time values: ``Static`` (a module, function, class,
dtype), ``Seq`` (a tuple/list literal whose elements are values) and
``DictVal``.  Compile-time containers disappear: ``params["W"]`` on a dict
argument is resolved while lowering, and ``np.stack([a, b])`` passes ``a``
and ``b`` as operands of one equation.

Arrays are values in the IR, but NumPy's are objects: ``b = a``, a view
``v = a[1:]`` or ``row = a[0]``, ``d["W"]`` and the rows a ``for`` loop walks
all name the same memory.  Every view a step makes (basic indexing, axis
permutations, reshapes, expand/squeeze) is recorded in the alias model
(:mod:`s2sgrad.alias`, ``Lowerer.alias``); a write (``y[i] = v``, ``y += v``
on an array, ``np.add.at``) gives ``y`` a new version and
:meth:`Lowerer.write_back` gives it to every other name of the same array,
writes the view back into its base (``a_1 = setitem(a, v_1, 1:)``) and
re-reads the views of it that are still read later.  A loop whose body
changes a name only that way is lowered again carrying that name.
"""
from .function import lower_function
from .lowerer import Lowerer
from .values import DictVal, IterVal, LocalFunction, Seq, Static, is_static_object

__all__ = ["lower_function", "Lowerer", "DictVal", "IterVal", "LocalFunction", "Seq", "Static",
           "is_static_object"]
