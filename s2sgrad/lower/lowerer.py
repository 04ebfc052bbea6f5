"""The :class:`Lowerer`: the state shared by every part of lowering (the
source, the name resolver, the emitter, the environment of names) and the
driver that lowers a list of statements.  The work itself is in one mixin
per concern, each in the module of that name:

========================  =====================================================
``statements.py``         assignment, ``+=``, ``return``/``break``, ``with``
``expressions.py``        operators, comparisons, attributes
``containers.py``         tuple/list/dict literals, ``xs.append``, materialising
``subscripts.py``         ``x[...]`` reads and ``y[...] = v`` / ``np.add.at`` writes
``calls.py``              calls: primitives, methods, inlining user functions
``builtins.py``           ``len``, ``sum``, ``range``, ``zip``, ``math.*`` ...
``names.py``              names: locals, globals and closure cells, constants
``control.py``            ``if``, conditional expressions, loops, comprehensions
``aliasing.py``           NumPy views and names of one array: writes seen by all
``transforms.py``         ``grad(g)(x)`` and co. inside the function: nested derivatives
========================  =====================================================
"""
from __future__ import annotations

import types

from ..alias import AliasModel
from ..errors import (S2SGradError, UnsupportedSyntaxError)
from ..frontend import Resolver, Source
from ..guards import Guards, Path
from ..ir import Const, Loc, Var
from ..primitives import core as P
from ..primitives.core import Emitter
from .statements import StatementsMixin
from .expressions import ExpressionsMixin
from .containers import ContainersMixin, TreesMixin
from .subscripts import SubscriptsMixin
from .calls import CallsMixin
from .names import NamesMixin
from .control import ControlFlowMixin
from .aliasing import AliasingMixin
from .transforms import TransformsMixin
from .syntax import assigned_names


class Lowerer(StatementsMixin, ExpressionsMixin, ContainersMixin, SubscriptsMixin,
              CallsMixin, NamesMixin, ControlFlowMixin, AliasingMixin, TransformsMixin,
              TreesMixin):
    def __init__(self, src: Source, resolver: Resolver, em: Emitter, top: "Lowerer" = None,
                 depth: int = 0):
        self.src = src
        self.resolver = resolver
        self.em = em
        self._top = top       # (None for the top one itself: no reference cycle)
        self.depth = depth
        self.env: dict = {}
        self.loc: Loc | None = None
        self.node = src.node
        self.local_names = assigned_names(src.node)
        self.loop_depth = 0
        self._iter_value = None
        self.caller = None        # the lowerer whose call this one inlines
        self.iter_alias: dict = {}  # id(array iterated) -> its version in the loop body
        self._held_iterables: list = []   # hidden names of arrays iterated (control.py)
        if top is None:
            # which arrays share memory, through which view (s2sgrad.alias)
            self.alias = AliasModel()
            self.list_items: set = set()   # Vars read out of lists built at run time
            self.alias.list_items = self.list_items
            # Vars that may be an integer index at run time (idx[0], np.argmin(x))
            self.int_items: set = set()
            self.written: list = []        # [(Var written into, its line)] (check_writable)
            self.warning_filters_ok = 0   # inside `with warnings.catch_warnings():`
            self.prologue: list = []
            self.global_loads: dict = {}
            self.cell_loads: dict = {}
            self.arg_types: dict = {}     # parameter Var -> the Python type of a data argument
            self.seq_items: set = set()   # Vars read out of values that may be containers
            self.path_loads: dict = {}    # Path.key() -> the Var read live at that path
            self.external: dict = {}      # id(Var) -> description: values of the caller's
            self.guards = Guards()        # what compilation assumed (s2sgrad.guards)
            self.arg_objects: dict = {}   # id(parameter Var) -> the object passed there
            self.arg_guards: dict = {}    # its name -> {path steps: what was assumed}
            fn = src.fn
            if isinstance(fn, types.FunctionType):
                # f.__code__ = other.__code__ keeps f and changes what it computes
                self.guards.add(Path(("object", fn, fn.__name__)).attr("__code__"),
                                fn.__code__)

    @property
    def top(self) -> "Lowerer":
        """The lowerer of the function being compiled (holds what is shared:
        the alias model, the guards, the loads of globals)."""
        return self._top or self

    def may_be_sequence(self, v) -> bool:
        """Whether ``v`` may hold a Python list, tuple, dict or str when the
        code runs: a container passed as data, a value read live from outside
        the function (a global, a closed-over variable, ``CFG['k']``; rebinding
        it needs no recompilation), or an item of one of these.  For such a
        value ``np.asarray(v)`` is a conversion, not ``v`` itself (``v * 2``
        of a list repeats it)."""
        top = self.top
        return isinstance(v, Var) and (top.arg_types.get(v) is not None or
                                       id(v) in top.external or v in top.seq_items)

    def error(self, node, message, cls=UnsupportedSyntaxError, construct=None):
        return self.src.error(cls, message, node, construct)

    def unsupported(self, node, what, advice):
        return self.error(node, f"{what} is not supported; {advice}", construct=what)

    def set_loc(self, node):
        lineno = node.lineno
        end = getattr(node, "end_lineno", lineno) or lineno
        text = " ".join(self.src.line_text(i) for i in range(lineno, min(end, lineno + 2) + 1))
        self.loc = Loc(self.src.filename, lineno, node.col_offset, text.strip())
        self.em.loc = self.loc

    def lower_body(self, stmts):
        """Lower statements in order.  After a ``break``/``continue``/``return``
        that happens only on some paths, the rest is lowered under
        ``if not flag:`` (the flags are ordinary lowering-time variables)."""
        for k, s in enumerate(stmts):
            flag = self.pending_flag()
            if isinstance(flag, Const) and flag.value:
                return
            if isinstance(flag, Var):
                rest = stmts[k:]
                pred = self.apply(P.get("logical_not"), [flag], {}, s)

                typed = flag in getattr(self.top, "type_test_flags", ())

                def not_left():
                    # on this side no flag is set
                    for f in ("$ret", "$brk", "$cont"):
                        if isinstance(self.env.get(f), Var):
                            self.env[f] = Const(False)
                    if typed:       # after ``if isinstance(x, C): return ...``
                        self.lower_body_or_refuse(rest, s)
                    else:
                        self.lower_body(rest)

                self.lower_if(pred, not_left, lambda: None, s)
                return
            self.set_loc(s)
            try:
                self.stmt(s)
            except S2SGradError:
                raise
            except (TypeError, ValueError, AttributeError, IndexError, KeyError) as exc:
                raise self.error(s, f"cannot lower this statement: {exc}") from exc

    def pending_flag(self):
        """Whether control has left the current statement list (a Const or a Var)."""
        flags = [self.env[f] for f in ("$ret", "$brk", "$cont") if f in self.env]
        acc = Const(False)
        for f in flags:
            if isinstance(f, Const):
                if f.value:
                    return Const(True)
                continue
            acc = f if isinstance(acc, Const) else self.em.call(P.get("logical_or"), acc, f)
        return acc
