"""Code generation: IR -> Python AST -> source text (astor or ast.unparse) -> function.

Expects: a verified, optimised Func.

Guarantees:

* one statement per primitive, named after the user's variables (SSA
  versions ``h``, ``h_1``; temporaries ``_t0``; cotangents ``w_bar``), with a
  comment before each group of statements naming the user's source line it
  came from;
* deterministic: the same Func prints to byte-identical source;
* the source is registered in :mod:`linecache` under a pseudo file name, so
  tracebacks and ``pdb`` show generated lines;
* the compiled function sees the user's module globals live (a global
  changed after decoration is read when the gradient runs) and binds
  ``np`` and the few :mod:`s2sgrad.runtime` helpers it uses privately.
"""
from __future__ import annotations

import ast
import bisect
import copy
import importlib
import itertools
import keyword
import linecache
import math
import os
import re
import sys
import warnings
import weakref

import numpy as np

from . import runtime
from .alias import (IRAliases, drops_references, fresh_result, may_view, owned_result, retains,
                    views_read_after)
from .ir import Block, Const, Eqn, Func, Var, iter_eqns
from .liveness import delete_dead
from .primitives import printing
from .primitives.control import loop_offset
from .primitives.core import PRINT_MODULES
from .optimize import erase_rule_markers

_RUNTIME_NAMES = set(runtime.__all__)
_counter = itertools.count()


# ---------------------------------------------------------------- printing source
#
# Three printers give byte-identical text: astor (the printer s2sgrad was
# written with; used where it works, Python < 3.14), the standard library's
# ``ast.unparse`` (Python 3.14 removed ``ast`` classes astor still refers
# to), and :func:`_fast`, a direct printer of the nodes generated code is
# made of (names, constants, calls, operators, subscripts), which follows
# ``ast.unparse``'s rules and is what runs by default: astor builds a
# printer object per statement (a tenth of the compile time of a
# 1,000-statement function, and garbage for the collector).  A node it does
# not know falls back to astor (or ``ast.unparse``).  astor and
# ``ast.unparse`` agree on every expression s2sgrad generates once astor's
# line wrapping is off and the two places where they differ are printed
# here: a tuple after ``return`` and on either side of ``=`` (astor drops
# the parentheses, ``ast.unparse`` keeps them; we drop them), and a negative
# number as an exponent (``x ** -0.5``: astor's spelling).  ``PRINTER`` picks
# one ("fast", "astor" or "unparse"; ``S2SGRAD_PRINTER`` overrides the
# default); "check" prints with all three and raises if they differ
# (tests/test_codegen.py runs the golden functions and fuzzed programs that
# way).

try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import astor
except ImportError:          # Python 3.14+: astor is not a dependency there
    astor = None

_SLOW_PRINTER = "astor" if astor is not None and sys.version_info < (3, 14) else "unparse"
PRINTER = os.environ.get("S2SGRAD_PRINTER", "fast")
if PRINTER not in ("fast", "astor", "unparse", "check"):
    raise ValueError(f"S2SGRAD_PRINTER must be 'fast', 'astor', 'unparse' or 'check', "
                     f"got {PRINTER!r}")


def _astor_expr(node) -> str:
    if isinstance(node, ast.expr) and not isinstance(node, ast.Tuple):
        # astor puts a lone expression in parentheses ("(a + b)"); as the
        # right-hand side of an assignment it does not
        return _astor(ast.Assign(targets=[ast.Name(id="_", ctx=ast.Store())], value=node))[4:]
    return _astor(node)


def _astor(node) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return astor.to_source(node, pretty_source="".join).rstrip("\n")


def _unparse_expr(node) -> str:
    if any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow) and _negative_number(n.right)
           for n in ast.walk(node)):
        # ``x ** -0.5`` as astor prints it (ast.unparse writes ``x ** (-0.5)``)
        node = _NegativeExponents().visit(copy.deepcopy(node))
    return ast.unparse(ast.fix_missing_locations(node))


def _negative_number(n) -> bool:
    return isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub) and \
        isinstance(n.operand, ast.Constant) and type(n.operand.value) in (int, float)


class _NegativeExponents(ast.NodeTransformer):
    def visit_BinOp(self, n):
        self.generic_visit(n)
        if isinstance(n.op, ast.Pow) and _negative_number(n.right):
            n.right = ast.Constant(value=-n.right.operand.value)
        return n


def _print_node(node, printer) -> str:
    if isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple) and node.value.elts:
        return "return " + _print_tuple(node.value.elts, printer)
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target, value = node.targets[0], node.value
        if _bare_tuple(target) or _bare_tuple(value):
            return (_print_tuple(target.elts, printer) if _bare_tuple(target) else
                    printer(target)) + " = " + \
                (_print_tuple(value.elts, printer) if _bare_tuple(value) else printer(value))
    return printer(node)


def _bare_tuple(node) -> bool:
    return isinstance(node, ast.Tuple) and bool(node.elts)


def _print_tuple(elts, printer) -> str:
    parts = [printer(e) for e in elts]
    return ", ".join(parts) + ("," if len(parts) == 1 else "")


def _to_source(node) -> str:
    """``node`` (a statement or an expression) as one line of Python source."""
    printer = PRINTER
    if printer == "fast":
        try:
            return _print_node(node, _fast)
        except _NotFast:
            printer = _SLOW_PRINTER
    if printer == "unparse" or astor is None:
        return _print_node(node, _unparse_expr)
    if printer == "check":
        a, b = _print_node(node, _astor_expr), _print_node(node, _unparse_expr)
        if a != b:
            raise AssertionError(f"astor and ast.unparse print differently:\n{a}\n{b}")
        try:
            c = _print_node(node, _fast)
        except _NotFast:
            return a
        if a != c:
            raise AssertionError(f"astor and the fast printer print differently:\n{a}\n{c}")
        return a
    try:
        return _print_node(node, _astor_expr)
    except Exception:      # noqa: BLE001 -- astor on a Python it does not know
        return _print_node(node, _unparse_expr)


# ---- the fast printer: ast.unparse's precedence rules for the nodes it knows

class _NotFast(Exception):
    """A node the fast printer does not print (the slow printer does)."""


# ast._Precedence's values
_P_TUPLE, _P_YIELD, _P_TEST, _P_OR, _P_AND, _P_NOT, _P_CMP = 2, 3, 4, 5, 6, 7, 8
_P_FACTOR, _P_POWER, _P_ATOM = 15, 16, 18
_BINOPS = {ast.Add: ("+", 13), ast.Sub: ("-", 13), ast.Mult: ("*", 14),
           ast.MatMult: ("@", 14), ast.Div: ("/", 14), ast.Mod: ("%", 14),
           ast.FloorDiv: ("//", 14), ast.LShift: ("<<", 12), ast.RShift: (">>", 12),
           ast.BitOr: ("|", 9), ast.BitXor: ("^", 10), ast.BitAnd: ("&", 11),
           ast.Pow: ("**", _P_POWER)}
_UNARY = {ast.USub: "-", ast.UAdd: "+", ast.Invert: "~"}
_CMPOPS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
           ast.GtE: ">=", ast.Is: "is", ast.IsNot: "is not", ast.In: "in",
           ast.NotIn: "not in"}


def _fast(node) -> str:
    """``node`` printed as ``ast.unparse`` prints it (statements: the
    assignments, expression statements and returns of generated code);
    raises :class:`_NotFast` for anything else."""
    t = type(node)
    if t is ast.Assign:
        if len(node.targets) != 1:
            raise _NotFast
        return _fx(node.targets[0], _P_TUPLE) + " = " + _fx(node.value, _P_TEST)
    if t is ast.AugAssign:
        op = _BINOPS.get(type(node.op))
        if op is None:
            raise _NotFast
        return _fx(node.target, _P_TEST) + " " + op[0] + "= " + _fx(node.value, _P_TEST)
    if t is ast.Expr:
        return _fx(node.value, _P_YIELD)
    if t is ast.Return:
        return "return" if node.value is None else "return " + _fx(node.value, _P_TEST)
    if isinstance(node, ast.expr):
        return _fx(node, _P_TEST)
    raise _NotFast


def _fconst(v) -> str:
    t = type(v)
    if t is int or t is bool or v is None:
        return repr(v)
    if t is float:
        if v != v or v in (math.inf, -math.inf):
            raise _NotFast
        return repr(v)
    if t is str and v.isascii() and v.isprintable() and "'" not in v and '"' not in v \
            and "\\" not in v:
        return "'" + v + "'"
    if v is Ellipsis:
        return "..."
    raise _NotFast


def _fitems(elts) -> str:
    if len(elts) == 1:
        return _fx(elts[0], _P_TEST) + ","
    return ", ".join([_fx(e, _P_TEST) for e in elts])


def _fx(node, prec) -> str:
    """An expression node printed where the context has precedence ``prec``."""
    t = type(node)
    if t is ast.Name:
        return node.id
    if t is ast.Constant:
        if getattr(node, "kind", None) is not None:
            raise _NotFast
        return _fconst(node.value)
    if t is ast.Attribute:
        if type(node.value) is ast.Constant:
            raise _NotFast          # (3 .real)
        return _fx(node.value, _P_ATOM) + "." + node.attr
    if t is ast.Call:
        parts = []
        for a in node.args:
            if type(a) is ast.Starred:
                raise _NotFast
            parts.append(_fx(a, _P_TEST))
        for k in node.keywords:
            if k.arg is None:
                raise _NotFast
            parts.append(k.arg + "=" + _fx(k.value, _P_TEST))
        return _fx(node.func, _P_ATOM) + "(" + ", ".join(parts) + ")"
    if t is ast.BinOp:
        op = _BINOPS.get(type(node.op))
        if op is None:
            raise _NotFast
        sym, p = op
        if sym == "**":
            left = _fx(node.left, p + 1)
            r = node.right
            if _negative_number(r):      # x ** -0.5, as astor writes it
                right = _fconst(-r.operand.value)
            else:
                right = _fx(r, p)
        else:
            left, right = _fx(node.left, p), _fx(node.right, p + 1)
        text = left + " " + sym + " " + right
        return "(" + text + ")" if prec > p else text
    if t is ast.UnaryOp:
        op = type(node.op)
        if op is ast.Not:
            text = "not " + _fx(node.operand, _P_NOT)
            return "(" + text + ")" if prec > _P_NOT else text
        sym = _UNARY.get(op)
        if sym is None:
            raise _NotFast
        text = sym + _fx(node.operand, _P_FACTOR)
        return "(" + text + ")" if prec > _P_FACTOR else text
    if t is ast.Subscript:
        sl = node.slice
        inner = _fitems(sl.elts) if type(sl) is ast.Tuple and sl.elts else _fx(sl, _P_TEST)
        return _fx(node.value, _P_ATOM) + "[" + inner + "]"
    if t is ast.Slice:
        text = (_fx(node.lower, _P_TEST) if node.lower else "") + ":" + \
            (_fx(node.upper, _P_TEST) if node.upper else "")
        if node.step:
            text += ":" + _fx(node.step, _P_TEST)
        return text
    if t is ast.Tuple:
        if not node.elts or prec > _P_TUPLE:
            return "(" + _fitems(node.elts) + ")" if node.elts else "()"
        return _fitems(node.elts)
    if t is ast.List:
        return "[" + ", ".join([_fx(e, _P_TEST) for e in node.elts]) + "]"
    if t is ast.Compare:
        text = _fx(node.left, _P_CMP + 1)
        for o, c in zip(node.ops, node.comparators):
            text += " " + _CMPOPS[type(o)] + " " + _fx(c, _P_CMP + 1)
        return "(" + text + ")" if prec > _P_CMP else text
    if t is ast.BoolOp:
        sym, p = ("and", _P_AND) if type(node.op) is ast.And else ("or", _P_OR)
        parts, q = [], p
        for v in node.values:
            q = q + 1
            parts.append(_fx(v, q))
        text = (" " + sym + " ").join(parts)
        return "(" + text + ")" if prec > p else text
    if t is ast.IfExp:
        text = _fx(node.body, _P_TEST + 1) + " if " + _fx(node.test, _P_TEST + 1) + \
            " else " + _fx(node.orelse, _P_TEST)
        return "(" + text + ")" if prec > _P_TEST else text
    raise _NotFast


class _Names(dict):
    """Var -> its Python name, and the reverse (``holders``: name -> the Vars
    printed under it, an ordered set), kept by every write; ``log``: name ->
    every Var ever given it, in turn (append-only: CodeGen._rebound_between
    indexes it as it grows)."""

    def __init__(self):
        super().__init__()
        self.holders: dict = {}
        self.log: dict = {}

    def __setitem__(self, v, name):
        old = self.get(v)
        if old is not None:
            del self.holders[old][v]
        dict.__setitem__(self, v, name)
        self.holders.setdefault(name, {})[v] = None
        self.log.setdefault(name, []).append(v)

    def setdefault(self, v, name):
        if v not in self:
            self[v] = name
        return self[v]


class Namer:
    """Deterministic Python names for Vars."""

    def __init__(self, reserved):
        self.taken = set(reserved) | set(keyword.kwlist) | {"np"} | set(PRINT_MODULES)
        self.names: dict = _Names()
        self.temps = itertools.count()
        # hint -> the suffix to try first: every smaller one was taken when
        # it was last asked for, and names are never given back (h, h_1,
        # ..., h_999 cost one probe each, not a thousand)
        self._next_suffix: dict = {}

    def name(self, v: Var) -> str:
        n = self.names.get(v)
        if n is None:
            if v.bar_of is not None:
                n = self._fresh(self.name(v.bar_of) + v.hint, temp_ok=False)
            else:
                n = self._fresh(v.hint)
            self.names[v] = n
        return n

    def _fresh(self, hint, temp_ok=True):
        if temp_ok and (not hint or not hint.isidentifier()):
            while True:
                n = f"_t{next(self.temps)}"
                if n not in self.taken:
                    break
        else:
            n = hint
            if n in self.taken:
                k = self._next_suffix.get(hint, 1)
                n = f"{hint}_{k}"
                while n in self.taken:
                    k += 1
                    n = f"{hint}_{k}"
                self._next_suffix[hint] = k + 1
        self.taken.add(n)
        return n


def _exclusive(u, e) -> bool:
    """Two ``list_accumulate`` of one step into different elements (at most
    one of them runs: ``if i % n == k``)."""
    return u is not None and u.prim.name == e.prim.name == "list_accumulate" and \
        u.args[1:] == e.args[1:] and u.params["n"] == e.params["n"] and \
        u.params["at"] != e.params["at"]


# a dead array at least this large gets a ``del`` after its last use
DEL_BYTES = 1 << 18


class CodeGen:
    """Prints one Func.  ``consts``: the list of non-literal constants
    ``(name, value)`` to extend (shared by the functions of one exported
    module, so their names are unique there); ``free_names``: for an
    exported module (:mod:`s2sgrad.export`), the module-level name under
    which each global and closure variable the code reads is written,
    keyed by :func:`free_key` (``None``: read them from the user's module
    and cells, in process)."""

    def __init__(self, func: Func, namer: "Namer | None" = None, consts: "list | None" = None,
                 free_names: "dict | None" = None):
        self.func = func
        self.src_globals = func.info.get("globals")
        self.consts: list = [] if consts is None else consts   # (name, value): factory arguments
        self.free_names = free_names
        self.helpers: set = set()
        self.modules: set = set()       # PRINT_MODULES names the code uses
        reserved = set(_RUNTIME_NAMES) | set(func.info.get("reserved_names", ()))
        # (every equation, nested ones after their region's: one walk for the
        # passes below, which change no block)
        all_eqns = list(iter_eqns(func.body))
        for e in all_eqns:
            if e.prim.name in ("load_global", "load_cell"):
                reserved.add(e.params["name"])
        if free_names:
            reserved |= set(free_names.values())
        if namer is not None:           # share names with a sibling function (vjp halves)
            namer.taken |= reserved
            self.namer = namer
        else:
            self.namer = Namer(reserved)
        self.comment_locs: dict = {}    # comment text -> the user's Loc (the source map)
        self.inlined: dict = {}
        self._index_program(func)
        # reads of each value (operands, region and function results): the
        # use sites' count (a walk of its own counted them before)
        self.uses: dict = {v: len(sites) for v, sites in self.use_sites.items()}
        for p_ in func.params:          # the signature keeps the user's names
            self.namer.name(p_)
        self.aliases = IRAliases(func)  # which values may share memory (s2sgrad.alias)
        self.inplace: set = set()       # setitem equations written in place
        self.force_copy: set = set()    # loop carries copied once on entry
        self._shared_results: set = set()   # body results given their carry's name
        self._coalesce_block(func.body)
        self._unshare_clobbering(func.body)
        self.ufunc_out: dict = {}       # eqn -> operand position written in place
        examples = func.info.get("examples")
        # number operands printed as 0-d arrays (zero_d): specialised code run
        # in process (an exported module keeps its literals)
        self._zero_d_ok = examples is not None and free_names is None
        self._zero_d_names: dict = {}
        self._foreign = func.info.get("foreign", frozenset())
        if examples is not None:
            self._buffer_of: dict = {}  # value -> the value whose buffer it reuses
            # (the program tests at run time whether a reshape is a view, which
            # depends on memory order: see _decide_ufunc_out)
            self._layout_observed = any(e.prim.name in ("may_share_memory", "layout_checked")
                                        for e in all_eqns)
            for e in all_eqns:
                self._decide_ufunc_out(e, examples)
            self._name_buffers()
        self.augmented: dict = {}       # setitem eqn -> the update eqn it prints as y[i] op= v
        self.folded: set = set()        # eqns printed inside an augmented write
        for e in all_eqns:
            if e in self.inplace and e.prim.name == "setitem":
                self._fold_augmented(e)
        self.row_out: dict = {}         # ufunc eqn -> the setitem whose row it computes into
        if examples is not None:
            for e in all_eqns:
                if e in self.inplace and e.prim.name == "setitem" and e not in self.augmented:
                    self._decide_row_write(e, examples)

    # ------------------------------------------------------------ in-place updates
    #
    # setitem is functional in the IR.  It is printed in place (y[idx] = v)
    # only when the old y is an array this function allocated and nothing
    # reads it afterwards or holds a view of it; otherwise y is copied first.

    def _index_program(self, func):
        self.pos, self.defs, self.use_sites = {}, {}, {}
        counter = itertools.count()

        def use(a, pos, user):
            if isinstance(a, Var):
                self.use_sites.setdefault(a, []).append((pos, user))

        self.block_of = {}

        self.def_pos = {}

        self.block_span, self.block_region = {}, {}

        def walk(block, region):
            start = next(counter)
            self.block_region[id(block)] = region
            for p in block.params:
                self.defs[p] = ("param", region, block)
                self.def_pos[p] = start
            for e in block.eqns:
                pos = next(counter)
                self.pos[e] = pos
                self.block_of[e] = block
                for a in e.atoms():
                    use(a, pos, e)
                for o in e.outs:
                    self.defs[o] = ("eqn", e, block)
                for b in e.blocks():
                    walk(b, e)
                done = next(counter) if e.blocks() else pos
                for o in e.outs:
                    self.def_pos[o] = done      # a region's outputs exist after it
            end = next(counter)
            self.block_span[id(block)] = (start, end)
            for r in block.results:
                use(r, end, None)

        walk(func.body, None)
        del walk        # (a recursive closure is a reference cycle: its cells stay alive)
        end = next(counter)
        for r in func.results:
            use(r, end, None)

    def owned(self, v, _seen=None):
        """Whether v is an array the generated function allocated itself."""
        _seen = _seen or set()
        if v in _seen:
            return True
        _seen = _seen | {v}
        d = self.defs.get(v)
        if d is None:
            return False                      # a function parameter: the caller's
        if d[0] == "param":
            region = d[1]
            if region is not None and region.prim.name == "checkpoint_backward":
                return self._step_acc_owned(region, d[2], v, _seen)
            body = region.params.get("body") if region is not None else None
            if body is None or d[2] is not body:
                return False
            off = loop_offset(region)
            k = body.params.index(v) - off
            return k >= 0 and self.owned(body.results[k], _seen)
        e = d[1]
        name = e.prim.name
        if name == "checkpoint_backward":
            return self._step_out_owned(e, v, _seen)
        if name in ("cond",):
            i = e.outs.index(v)
            return all(self.owned(b.results[i], _seen) for b in (e.params["then"], e.params["else"]))
        if name in ("for_loop", "while_loop"):
            i = e.outs.index(v)
            off = loop_offset(e)
            return self.owned(e.params["body"].results[i], _seen) and \
                self.owned(e.args[off + i], _seen)
        return owned_result(e)

    def adoptable(self, v, e):
        """Whether ``e``, ``v``'s only reader, may keep ``v``'s buffer as its
        own (an accumulator that starts as the first value added into it,
        ``list_accumulate``): ``v`` is new memory no other value shares --
        a fresh result, or what a checkpointed helper's step function
        returns as a fresh result of its own -- and nothing else reads it
        (but the other elements' ``list_accumulate`` of the same step, of
        which only one runs)."""
        users = [u for _, u in self.use_sites.get(v, ())]
        if not isinstance(v, Var) or e not in users or any(
                u is not e and not _exclusive(u, e) for u in users):
            return False
        d = self.defs.get(v)
        if d is None or d[0] != "eqn":
            return False
        if d[1].prim.name == "checkpoint_backward" and d[1].params.get("straight"):
            step = d[1].params["step"]
            k = d[1].outs.index(v)
            res = step.results[k] if k < len(step.results) else None
            d = self.defs.get(res) if isinstance(res, Var) else None
            if d is None or d[0] != "eqn" or d[2] is not step or \
                    sum(1 for r in step.results if r is res) != 1:
                return False
        return fresh_result(d[1])

    def _step_acc_owned(self, e, step, v, _seen):
        """A checkpointed loop's step function (s2sgrad.remat) owns its
        accumulator parameter when the array passed in is one this function
        allocated and reads nowhere else, and the step returns an owned
        array for it: the driver (schedules.checkpoint_backward) only hands
        each step's accumulators to the next, so the steps may add into
        them in place (no whole-array copy per step).  The same holds for
        a cotangent parameter (the cotangent of the state after the
        steps): the driver hands it to one step only, so the step may
        write the cotangent it returns into its buffer (``g += W.T @ d``
        for a residual block: the cotangents of a chain of checkpointed
        helpers are then one buffer, as in the plain reversal)."""
        if step is not e.params.get("step"):
            return False
        nb, na, ns = e.params["nbars"], e.params["naccs"], e.params.get("nsaved", 0)
        i = step.params.index(v)
        k = i - (len(step.params) - ns - na)
        if 0 <= k < na:
            init = e.args[1 + nb + k]
            res = step.results[nb + k]
        else:
            k = i - (len(step.params) - ns - na - nb)
            if not 0 <= k < nb:
                return False
            init = e.args[1 + k]
            res = step.results[k]
            if not e.params.get("straight") and not (isinstance(res, Var) and self.owned(
                    res, _seen)):
                return False           # (a loop's step returns it: it must be owned)
        return isinstance(init, Var) and len(self.use_sites.get(init, ())) == 1 and \
            self.owned(init, _seen) and self._entry_owned(init, _seen) and \
            (not isinstance(res, Var) or self.owned(res, _seen))

    def _entry_owned(self, v, _seen):
        """For a loop's carry ``v``: whether the value the loop starts from
        is owned too (:meth:`owned` answers for the carry in the body from
        what the body returns, as a write into the carry copies the loop's
        initial value on entry; a step function writing into its parameter
        does not: the first step would write into the caller's cotangent)."""
        d = self.defs.get(v)
        if d is None or d[0] != "param" or d[1] is None:
            return True
        region = d[1]
        body = region.params.get("body")
        if body is None or d[2] is not body:
            return True
        off = loop_offset(region)
        k = body.params.index(v) - off
        if k < 0:
            return True
        init = region.args[off + k]
        return not isinstance(init, Var) or (self.owned(init, _seen) and
                                             self._entry_owned(init, _seen))

    def _step_out_owned(self, e, v, _seen):
        """An output of a checkpointed loop's backward sweep is owned when
        the step function returns an owned array for it, and -- for a loop,
        whose driver returns the cotangents and accumulators passed in when
        the loop ran no iteration -- the value passed in for it is owned
        and read nowhere else too."""
        step = e.params["step"]
        k = e.outs.index(v)
        res = step.results[k] if k < len(step.results) else None
        if not isinstance(res, Var) or not self.owned(res, _seen):
            return False
        if e.params.get("straight"):
            return True                # a helper's step runs exactly once
        nb, na = e.params["nbars"], e.params["naccs"]
        if k >= nb + na:
            return False
        init = e.args[1 + k]
        return isinstance(init, Var) and len(self.use_sites.get(init, ())) == 1 and \
            self.owned(init, _seen)

    def _decide_inplace(self, e):
        """Print ``setitem`` as ``y[idx] = v``: safe when nothing reads the old
        ``y`` or a view of it afterwards (the alias model's
        :func:`~s2sgrad.alias.views_read_after`) and ``y``'s memory is the
        function's own (:meth:`_writable`)."""
        y, out = e.args[0], e.outs[0]
        if not isinstance(y, Var):
            return
        here = self.pos[e]
        chain = self._carry_chain(y) + self._inits_written_through(y)
        # y and every value that may share its memory (a view of it, a loop
        # carry it came from, an array it is a view of) and exists here: none
        # may be read after this write (the loop inits on y's carry chain are
        # copied on entry where needed, see _writable)
        if self._read_after(y, out, chain, here):
            return
        if not self._writable(y) or self._kept_into_next_step(y, here):
            return
        n = self.namer.name(y)
        if out in self.namer.names and self.namer.names[out] != n:
            return
        self._take_name(e, n, y, out, here)

    def _kept_into_next_step(self, y, here) -> bool:
        """``y`` a loop body's parameter: whether a value of its alias class
        made at or after ``here`` in the body (the written array itself,
        passed on as the carry through a branch: ``if c: s += W @ y`` else
        ``y = y - 0.1``) is kept by a stack push or a container -- the next
        step's write in place into the carry would change what was kept."""
        d = self.defs.get(y)
        if d is None or d[0] != "param" or d[1] is None or \
                d[1].params.get("body") is not d[2]:
            return False
        span = self.block_span.get(id(d[2]))
        if span is None:
            return False
        for m in self.aliases.members(y):
            p_ = self.def_pos.get(m, -1)
            if p_ < here or p_ > span[1]:
                continue
            for _, user in self.use_sites.get(m, ()):
                if user is not None and not user.blocks() and retains(user):
                    return True
        return False

    def _take_name(self, e, n, y, out, here):
        """Print ``e`` in place (its output ``out`` under ``y``'s name ``n``)
        unless that name is rebound between ``here`` and the last read of
        ``out`` (a loop carry's result takes the body parameter's name): the
        written value may not be read after that."""
        last = max((p for p, u in self.use_sites.get(out, ()) if u is not None), default=-1)
        if self._rebound_between(n, y, out, here, last):
            return
        self.namer.names[out] = n
        self.inplace.add(e)
        self._unite(out, y)

    def _decide_list_inplace(self, e):
        """Print ``list_append``/``list_pop`` as ``xs.append(v)`` /
        ``v = xs.pop()`` (O(1)) instead of ``xs = xs + [v]`` (a copy of the
        whole list: quadratic in a loop).  What the mutation changes is the
        list *object*, not the arrays it holds, so the question is not
        :meth:`_decide_inplace`'s (whether memory shared with the list's
        elements is read later: the element ``h`` appended is read after the
        append in every RNN) but whether any value that may be that same list
        object -- the members of ``xs``'s alias class that are runtime lists
        (its versions, loop carries and branch results; a list holding it) --
        is read after this point, or is kept anywhere a later read could see
        it (a stack push, a container, a region result, the return).  Any
        such use, or a list member that is not plainly one of those, keeps
        the copying form."""
        from .primitives.lists import LIST
        from .primitives.core import shape_of
        y, out = e.args[0], e.outs[0]
        if not isinstance(y, Var) or shape_of(y) is not LIST:
            return
        here = self.pos[e]
        if y in self.func.params or any(y is r for r in self.func.results):
            return
        chain = self._carry_chain(y) + self._inits_written_through(y)
        for m in self.aliases.members(y):
            if m is out or self.def_pos.get(m, -1) > here:
                continue
            if shape_of(m) is not LIST:
                continue        # an element (or a view of one): not the list object
            for p_, user in self.use_sites.get(m, ()):
                if user is e:
                    continue
                if user is None:
                    # a block's result: only the carry chain's own results
                    # (the next iteration's list, the loop's output), which
                    # are this list's later versions, or the other branch's
                    # of an ``if`` this append is in (``if c: hs.append(h)``,
                    # the else branch passes hs on: never both in one run)
                    if m in chain and m is not y or self._other_branch(e, p_):
                        continue
                    return
                if p_ > here:
                    return
                name = user.prim.name
                if name in ("for_loop", "while_loop") and m in chain:
                    continue     # the initial value of the carry written here
                if name in ("list_append", "list_pop") and user.args[0] is m and \
                        all(a is not m for a in user.args[1:]):
                    continue     # an earlier version (grown in place, or copied then)
                if retains(user):
                    return       # kept by a container/stack/region
        if not self._writable(y):
            return
        n = self.namer.name(y)
        if out in self.namer.names and self.namer.names[out] != n:
            # (a branch's result, named as the if's output: grown in place
            # under the old name, then bound to its own -- one object)
            self.inplace.add(e)
            self._unite(out, y)
            return
        self._take_name(e, n, y, out, here)

    def _other_branch(self, e, p_) -> bool:
        """Whether position ``p_`` is the end of a branch of a ``cond`` whose
        other branch holds ``e`` (at any depth): the two never both run."""
        block = self.block_of.get(e)
        while block is not None:
            region = self.block_region.get(id(block))
            if region is None:
                return False
            if region.prim.name == "cond":
                then, other = region.params["then"], region.params["else"]
                mine = then if block is then else other if block is other else None
                if mine is not None:
                    sib = other if mine is then else then
                    span = self.block_span.get(id(sib))
                    if span is not None and p_ == span[1]:
                        return True
            block = self.block_of.get(region)
        return False

    def _inits_written_through(self, y):
        """When ``y`` is the result of writes made in place into a loop carry
        (``x_bar[t] += g1`` then ``x_bar[t] += g2`` in one step), the loop
        inits on that carry's chain: ``y`` is the carry's memory, which the
        loop owns as it does for the carry itself (its own copy, made on
        entry where an init is read elsewhere: :meth:`_writable`), so the
        inits are no more a reason to copy for the second write than for the
        first (which copied ``x_bar`` whole once per step).  The carry
        itself and the versions between stay checked (:meth:`_read_after`).
        (The walk back is memoised: ``inplace`` only grows and definitions do
        not change, so where an earlier walk from a version stopped, a walk
        through it resumes; a walk per write was quadratic in the number of
        accumulations into one gradient in a loop body.)"""
        memo = self.__dict__.setdefault("_written_back", {})
        start = y
        seen = 0
        while seen < 10_000:
            hit = memo.get(y)
            if hit is not None and seen + hit[1] <= 10_000:
                y, n = hit
                seen += n
                continue
            d = self.defs.get(y)
            if d is None or d[0] != "eqn" or d[1] not in self.inplace or \
                    not isinstance(d[1].args[0], Var):
                break
            y = d[1].args[0]
            seen += 1
        if seen:
            memo[start] = (y, seen)
        return self._carry_chain(y)[1:] if seen else []

    def _rebound_between(self, n, y, out, lo, hi) -> bool:
        """Whether a value other than ``y`` and ``out`` printed as ``n`` is
        defined strictly between positions ``lo`` and ``hi``.  The values
        given ``n`` are kept sorted by definition position as they come
        (an accumulator's versions all print as one name: a scan of them
        per write was quadratic); one that no longer holds ``n`` is passed
        over."""
        names = self.namer.names
        log = names.log.get(n, ())
        index = self.__dict__.setdefault("_holder_pos", {})
        entry = index.get(n)
        if entry is None:
            entry = index[n] = [0, []]     # how much of the log is indexed, (pos, seq)
        keys = entry[1]
        for seq in range(entry[0], len(log)):
            bisect.insort(keys, (self.def_pos.get(log[seq], -1), seq))
        entry[0] = len(log)
        i = bisect.bisect_right(keys, (lo, math.inf))
        while i < len(keys) and keys[i][0] < hi:
            w = log[keys[i][1]]
            if w is not y and w is not out and names.get(w) == n:
                return True
            i += 1
        return False

    def _read_after(self, y, out, chain, here) -> bool:
        """Whether a member of ``y``'s alias class that exists at ``here``
        (but ``out`` and the loop inits on ``y``'s carry ``chain``), or a
        view of it, is read after ``here``.

        Each class keeps the members not yet known to be read for the last
        time (``_pending``): the writes are decided in program order
        (``_coalesce_block``), so a member whose reads all come before one
        write's position is read by nothing after any later write either,
        and is dropped for good -- a weight gradient accumulated N times in
        a loop body looks at each of its versions once, not once per later
        accumulation (quadratic).  Members defined after ``here``, ``out``
        and the chain stay for the next writes."""
        pending = self.__dict__.setdefault("_pending", {})
        root = self.aliases.find(y) if y in self.aliases.parent else y
        cands = pending.get(root)
        if cands is None:
            cands = list(self.aliases.members(y))
        keep = []
        for i, m in enumerate(cands):
            if m is out or m in chain and m is not y or self.def_pos.get(m, -1) > here:
                keep.append(m)
                continue
            try:
                late = self._view_reach(m) > here   # (views_read_after(m, ..., here))
            except _CyclicViews:
                self._reach = {}
                late = views_read_after(m, self.use_sites, self.pos, here)
            if late:
                keep += cands[i:]
                pending[root] = keep
                return True
        pending[root] = keep
        return False

    def _unite(self, out, y):
        """``aliases.union(out, y)``, the two classes' pending members
        (:meth:`_read_after`) merged under the new root."""
        al = self.aliases
        pending = self.__dict__.setdefault("_pending", {})
        ro = al.find(out) if out in al.parent else out
        ry = al.find(y) if y in al.parent else y
        if ro is ry:
            return
        po = pending.pop(ro, None)
        py = pending.pop(ry, None)
        if po is None and py is None:
            al.union(out, y)    # (neither asked about yet: made from members when asked)
            return
        if po is None:
            po = list(al.members(out))
        if py is None:
            py = list(al.members(y))
        al.union(out, y)
        pending[al.find(y)] = py + po

    def _view_reach(self, v) -> float:
        """The last position where ``v`` or a view derived from it
        (transitively) is read, ``inf`` where a region, a container or a
        return keeps it: :func:`~s2sgrad.alias.views_read_after` at a limit
        is ``_view_reach(v) > limit``.  Memoised per value (every in-place
        accumulation into a weight gradient followed the reads of all its
        earlier versions again: quadratic in a loop body's length).  The
        views of a value are defined after it (SSA), so the search has no
        cycles; were there one, the exact search is used instead."""
        memo = self.__dict__.setdefault("_reach", {})
        r = memo.get(v)
        if r is not None:
            if r is _IN_PROGRESS:
                raise _CyclicViews
            return r
        memo[v] = _IN_PROGRESS
        r = -1
        for p_, user in self.use_sites.get(v, ()):
            if user is not None and not user.blocks() and all(
                    shape_only(user.prim.name, i) for i, x in enumerate(user.args) if x is v) \
                    and all(x is not v for x in user.kwargs.values()):
                continue        # reads only the shape, which a write in place keeps
            if user is None:
                r = math.inf
                break
            r = max(r, p_)
            if may_view(user, v):
                if retains(user):
                    r = math.inf
                    break
                for o in user.outs:
                    r = max(r, self._view_reach(o))
        memo[v] = r
        return r

    def _carry_chain(self, y):
        """``y``, and if it is a loop carry its initial value, and so on out
        through the enclosing loops.

        When an initial value is an earlier loop's output (loops in sequence
        hand a cotangent from one to the next, ``xs_bar`` of three loops over
        the rows of ``xs``), the chain goes on through that loop -- its
        body's result, then its own initial value -- as long as that initial
        value is read by the loop alone: the earlier loop's versions of the
        carry are then read by nothing after it but through the output
        (positions inside it come before any use of its output), so writing
        the later loop's carry in place is as safe as writing the earlier
        one's (without, each step of the later loop copied the whole
        array)."""
        chain = [y]
        while True:
            d = self.defs.get(chain[-1])
            if d is not None and d[0] == "eqn" and d[1].prim.name in ("for_loop", "while_loop"):
                loop = d[1]
                k = list(loop.outs).index(chain[-1])
                init = loop.args[loop_offset(loop) + k]
                res = loop.params["body"].results[k]
                if not isinstance(init, Var) or init in chain or \
                        len(self.use_sites.get(init, ())) != 1 or not isinstance(res, Var):
                    return chain
                chain += [res, init]
                continue
            if d is None or d[0] != "param" or d[1] is None:
                return chain
            region = d[1]
            body = region.params.get("body")
            if body is not d[2]:
                return chain
            k = body.params.index(chain[-1]) - loop_offset(region)
            if k < 0:
                return chain
            init = region.args[loop_offset(region) + k]
            if not isinstance(init, Var) or init in chain:
                return chain
            chain.append(init)

    def _writable(self, y, _seen=None):
        """Whether the generated code may write into ``y``'s memory: an array
        it allocated, or a loop carry whose every version is one (the loop
        works on its own copy, made once on entry, when the initial value is
        not writable or is read elsewhere -- through every enclosing loop)."""
        _seen = _seen or set()
        if y in _seen:
            return False
        _seen.add(y)
        d = self.defs.get(y)
        if d is not None and d[0] == "param" and d[1] is not None:
            region = d[1]
            if region.prim.name == "checkpoint_backward":
                return self.owned(y)
            body = region.params.get("body")
            if body is not d[2]:
                return False
            off = loop_offset(region)
            k = body.params.index(y) - off
            if k < 0 or not self.owned(body.results[k]):
                return False
            init = region.args[off + k]
            if len(self.use_sites.get(init, ())) > 1 or not isinstance(init, Var) or \
                    not self._writable(init, _seen):
                self.force_copy.add(y)     # the loop works on its own copy
            return True
        return self.owned(y)

    def _fold_augmented(self, e):
        """``t = y[i]; u = t * v; y[i] = u`` (from the user's ``y[i] *= v``),
        written in place, prints as ``y[i] *= v``: NumPy updates the view in
        place, which is the same write."""
        y, u, parts = e.args[0], e.args[1], e.args[2:]
        block = self.block_of.get(e)
        d = self.defs.get(u)
        if not isinstance(u, Var) or d is None or d[0] != "eqn" or d[2] is not block:
            return
        b = d[1]
        if b.prim.name not in _AUGMENTED or not b.params.get("augmented") or b.kwargs or \
                len(b.args) != 2 or b in self.ufunc_out or self.uses.get(u, 0) != 1:
            return
        t = b.args[0]
        dt = self.defs.get(t)
        if not isinstance(t, Var) or dt is None or dt[0] != "eqn" or dt[2] is not block:
            return
        g = dt[1]
        if g.prim.name != "getitem" or g.params.get("copy") or g.args[0] is not y or \
                repr(g.params.get("index")) != repr(e.params.get("index")) or \
                len(g.args) - 1 != len(parts) or \
                any(a is not p_ for a, p_ in zip(g.args[1:], parts)) or \
                self.uses.get(t, 0) != 1 or g in self.ufunc_out:
            return
        self.augmented[e] = b
        self.folded.update((g, b))

    # ------------------------------------------------------------ buffer reuse
    #
    # In code specialised to known shapes and dtypes (s2sgrad.specialize puts
    # every value's example in func.info["examples"]), an elementwise NumPy
    # ufunc whose result has the shape and dtype of an operand that dies
    # here writes into that operand's buffer (``t *= g`` or
    # ``np.exp(t, out=t)``) instead of allocating: at large sizes a fresh
    # temporary costs page faults as well as memory traffic.  The operand
    # must be a fresh array this function computed in the same block, read
    # afterwards by nothing, and never read by anything that may keep a
    # reference or a view of it (a stack push, a reshape, a return).  Values
    # that may be arrays of another type at run time (dask, CuPy: listed in
    # func.info["foreign"]) are never written in place.

    def _decide_ufunc_out(self, e, examples):
        impl = e.prim.impl
        if not isinstance(impl, np.ufunc) or impl.nout != 1 or e.kwargs or \
                len(e.outs) != 1 or e.blocks() or e.prim.name not in _UFUNC_PRINTABLE or \
                e.prim.name in _SLOW_IN_PLACE:
            return
        out = examples.get(e.outs[0])
        # (a body result already named as its loop carry -- ``acc = acc + p``,
        # s2sgrad.tapes' per-step accumulations -- may take only that carry's
        # buffer, which has its name: ``acc += p``)
        carry_name = self.namer.names.get(e.outs[0]) if e.outs[0] in self._shared_results \
            else None
        if type(out) is not np.ndarray or e.outs[0] in self.namer.names and carry_name is None:
            return
        if e.outs[0] in self._foreign:
            # may be a dask/CuPy/... array at run time (specialize.foreign_values):
            # no out= (dask arrays have no buffers to write into)
            return
        candidates = []
        for i, a in enumerate(e.args):
            if not isinstance(a, Var):
                continue
            av = examples.get(a)
            if type(av) is not np.ndarray or av.shape != out.shape or av.dtype != out.dtype:
                continue
            if self._layout_observed and not _layout_follows(e, i, examples, out):
                continue
            d = self.defs.get(a)
            if d is None or d[2] is not self.block_of[e]:
                continue
            if carry_name is not None and (d[0] != "param" or
                                           self.namer.names.get(a) != carry_name):
                continue
            if d[0] == "param":
                region = d[1]
                if region is not None and region.prim.name == "for_loop" and \
                        self._carry_buffer_free(a, region, d[2], e):
                    # a reversed loop's carried cotangent, dead after its
                    # last read (``dh += E[t]``, hand-written BPTT's): taken
                    # after a fresh operand (whose buffer may then be
                    # computed in a tape's row, _decide_row_write)
                    candidates.append((i, a))
                    continue
                # a step function's cotangent or accumulator it owns (see
                # _step_acc_owned): written into before any fresh operand,
                # so the caller's buffer carries on and the fresh one dies
                if region is None or region.prim.name != "checkpoint_backward" or \
                        not self.owned(a) or not self._dead_at(a, e):
                    continue
                candidates.insert(0, (i, a))
                continue
            if d[0] != "eqn" or not fresh_result(d[1]):
                continue
            if not self._dead_at(a, e):
                continue
            candidates.append((i, a))
        if candidates:
            # (an operand living in a loop carry's buffer last: the result
            # then lives in a buffer allocated in this step, which a tape's
            # row can take -- ``_t1 *= dh`` where ``dh *= _t1`` would leave
            # the step's cotangent in the carry and copy it into the row)
            i, a = min(candidates, key=lambda c: self._in_carry_buffer(c[1]))
            self._buffer_of[e.outs[0]] = a
            self.ufunc_out[e] = i

    def _carry_name_clash(self, p, members) -> bool:
        """Values living in the buffer of the loop carry ``p`` print under
        ``p``'s name, which the step's result for the carry takes when it is
        defined (phi naming): one read after that definition would read the
        next step's value.  Then the reuse is undone for the whole group
        (each member allocates as before: always correct)."""
        d = self.defs[p]
        loop, body = d[1], d[2]
        res = body.results[body.params.index(p) - loop_offset(loop)]
        at = self.def_pos.get(res, -1)
        if not any(m is not res and any(q > at for q, _ in self.use_sites.get(m, ()))
                   for m in members):
            return False
        for m in members:
            del self._buffer_of[m]
            dm = self.defs.get(m)
            if dm is not None and dm[0] == "eqn":
                self.ufunc_out.pop(dm[1], None)
        return True

    def _in_carry_buffer(self, a) -> bool:
        """Whether ``a`` lives in a ``for`` loop carry's buffer (reused by an
        earlier ufunc of the step, :meth:`_carry_buffer_free`)."""
        root = self._root_buffer(a)
        d = self.defs.get(root)
        return d is not None and d[0] == "param" and d[1] is not None and \
            d[1].prim.name == "for_loop"

    def _carry_buffer_free(self, p, loop, body, e) -> bool:
        """Whether the ufunc ``e`` may write into the buffer of ``p``, a
        carry of the ``for`` loop ``loop`` read by ``e`` for the last time in
        the step (``h_bar += E[t]`` instead of a fresh ``h_bar + E[t]`` per
        step).  Proof obligations: every array ``p`` holds is one this
        function allocated and nothing else references --

        * in the first step, the initial value: a fresh result of this
          function (:func:`~s2sgrad.alias.fresh_result`) that the loop alone
          reads;
        * in later steps, the body's result for the carry: a fresh result
          of an equation of the body, read there only by operations that keep
          no reference to it (no stack, tape, container or view keeps it);

        and in the step nothing reads ``p`` (or a view of it) after ``e``
        (:meth:`_dead_at`), nor returns it as the next carry."""
        off = loop_offset(loop)
        if loop.params.get("break_at") is not None or p not in body.params[off:]:
            return False
        k = body.params.index(p) - off
        init, res = loop.args[off + k], body.results[k]
        if not isinstance(init, Var) or not isinstance(res, Var) or res is p or \
                len(self.use_sites.get(init, ())) != 1 or \
                any(v in self._foreign for v in (init, res, p)):
            return False
        for v in (init, res):
            d = self.defs.get(v)
            if d is None or d[0] != "eqn" or not fresh_result(d[1]):
                return False
        if self.defs[res][2] is not body:
            return False
        for _, u in self.use_sites.get(res, ()):
            if u is None:
                continue          # (the next step's carry, the loop's output)
            if not (drops_references(u) or _shape_only(u, res)):
                return False
        if sum(1 for _, u in self.use_sites.get(res, ()) if u is None) != 1:
            return False
        return self._dead_at(p, e)

    def _dead_at(self, a, e, depth=0):
        """Whether nothing reads ``a``'s buffer after ``e`` (and nothing may
        keep it): every other reader comes before ``e`` and keeps no
        reference -- or is a view (``a.T``) whose own readers are all such,
        as a transposed operand of a product is."""
        for pos, user in self.use_sites.get(a, ()):
            if user is e or (user is not None and _shape_only(user, a)):
                continue
            if user is None or pos > self.pos[e]:
                return False
            if drops_references(user):
                continue
            if depth < 3 and (user.prim.name in _VIEWS or _column(user)) and \
                    len(user.outs) == 1 and \
                    self._dead_at(user.outs[0], e, depth + 1):
                continue
            return False
        return True

    def _name_buffers(self):
        """One name per reused buffer: the name it already has, else the
        user's name of a value it holds (``H = X @ W1; H += b1;
        np.tanh(H, out=H)``), else a cotangent's or a temporary's."""
        groups: dict = {}
        for v in self._buffer_of:
            root = v
            while root in self._buffer_of:
                root = self._buffer_of[root]
            groups.setdefault(root, []).append(v)
        for root in [r for r in groups if self._in_carry_buffer(r)]:
            if self._carry_name_clash(root, groups[root]):
                del groups[root]

        results = {r for r in self.func.results if isinstance(r, Var)}

        def rank(v):
            if v in results:         # the name the function returns it under
                return -1
            if v.bar_of is None and v.hint:
                return 0
            return 1 if v.bar_of is not None else 2
        for root, members in groups.items():
            chain = [root] + sorted(members, key=lambda v: v.id)
            if root in self.namer.names:
                name = self.namer.names[root]
            else:
                name = self.namer.name(min(chain, key=lambda v: (rank(v), v.id)))
            for v in chain:
                self.namer.names[v] = name

    # ------------------------------------------------------------ rows computed in place
    #
    # ``v = f(a, b); T[k] = v`` with the write made in place (a tape filled
    # row by row, s2sgrad.tapes): the elementwise ufunc that allocates v's
    # buffer writes into the row instead, ``v = np.f(a, b, out=T[k])``, and
    # the copy ``T[k] = v`` goes -- as a hand-written BPTT computes
    # ``np.tanh(a, out=H[t + 1])``.  Every value that lives in that buffer
    # (v and the in-place steps before it, ``v *= g``) is read only between
    # the ufunc and the write, by operations that keep no reference to it;
    # nothing else reads the tape in between.  (NumPy's ufuncs handle
    # operands that overlap the output.)  The row then holds what the copy
    # would have put there, bit for bit.

    def _decide_row_write(self, s, examples):
        from .primitives.indexing import Slot
        y, v = s.args[0], s.args[1]
        if len(s.args) != 3 or not isinstance(v, Var) or not isinstance(y, Var) or \
                s.params.get("index") not in (Slot(0), (Slot(0),)):
            return
        k = s.args[2]
        # (the row's index is computed before the ufunc: a parameter, or an
        # equation of this block before it -- ``t + 1`` -- see below)
        k_eqn = isinstance(k, Var) and (self.defs.get(k) or ("eqn",))[0] != "param" and \
            k not in self.func.params
        if k_eqn and (self.defs.get(k) is None or self.defs[k][2] is not self.block_of[s]):
            return
        yx, vx = examples.get(y), examples.get(v)
        if type(yx) is not np.ndarray or type(vx) is not np.ndarray or \
                yx.shape[1:] != vx.shape or yx.dtype != vx.dtype or \
                y in self._foreign or v in self._foreign:
            return
        if self._layout_observed and sum(d > 1 for d in vx.shape) > 1:
            return      # (a row of the tape is C-ordered: see _layout_follows)
        if self.namer.names.get(s.outs[0]) != self.namer.name(y) or \
                v in self._buffer_groups()[1]:
            return      # (a later value reuses v's buffer)
        root = self._root_buffer(v)
        d = self.defs.get(root)
        if d is None or d[0] != "eqn" or d[2] is not self.block_of[s]:
            return
        r = d[1]
        rx = examples.get(root)
        if r in self.ufunc_out or r in self.row_out or not _row_printable(r) or \
                type(rx) is not np.ndarray or rx.shape != vx.shape or rx.dtype != vx.dtype:
            return
        start, end = self.pos[r], self.pos[s]
        if self.def_pos.get(y, -1) >= start or k_eqn and self.def_pos.get(k, end) >= start:
            return
        for m in self.aliases.members(y):
            if any(u is not s and start < p_ < end for p_, u in self.use_sites.get(m, ())):
                return
        members = self._buffer_groups()[0].get(root, []) + [root]
        for m in members:
            for p_, u in self.use_sites.get(m, ()):
                if u is s:
                    continue
                if u is None and m is v and p_ > end and self._row_is_state(s, v, examples):
                    continue
                if u is None or not start <= p_ <= end or \
                        not (drops_references(u) or _shape_only(u, m)):
                    return
        self.row_out[r] = s
        self.folded.add(s)              # (printed by r: the value is computed in the row)

    def _row_is_state(self, s, v, examples) -> bool:
        """Whether ``v``, written into a row by ``s``, may live in that row
        while it is also the state a ``for`` loop carries (``h = np.tanh(a,
        out=H[t + 1])``, as a hand-written BPTT computes it): the row is then
        the next step's state and, after the last step, the loop's output.
        Safe when that row is never written again while they live and they
        are never written through: the loop runs over a ``range`` (distinct
        indices), the row is the loop index (plus a constant), the tape is
        a carry of the same loop written by ``s`` alone and read after the
        loop only by reads; the state parameter and the loop's output are
        read only by operations that keep no reference to them (so nothing
        writes into them in place, returns them or keeps a view)."""
        block = self.block_of[s]
        if not block.params or sum(r is v for r in block.results) != 1:
            return False
        d = self.defs.get(block.params[0])
        loop = d[1] if d is not None and d[0] == "param" else None
        if loop is None or loop.prim.name != "for_loop" or loop.params.get("body") is not block:
            return False
        steps = self._static_range(loop.args[0])
        if steps is None:
            return False
        off = loop_offset(loop)
        y, k = s.args[0], s.args[2]
        index = block.params[0]
        shift = 0
        if k is not index:
            dk = self.defs.get(k)
            e = dk[1] if dk is not None and dk[0] == "eqn" else None
            if e is None or e.prim.name != "add" or e.args[0] is not index or \
                    not isinstance(e.args[1], Const) or type(e.args[1].value) is not int:
                return False
            shift = e.args[1].value
        if len(steps) and min(steps) + shift < 0:
            return False        # (a negative index may name a row another one names)
        if y not in block.params[off:] or \
                [u for _, u in self.use_sites.get(y, ())] != [s]:
            return False
        j = block.params.index(y) - off
        if block.results[j] is not s.outs[0] or \
                sum(r is s.outs[0] for r in block.results) != 1 or \
                any(u is None or u.prim.name != "getitem" and not drops_references(u)
                    for _, u in self.use_sites.get(loop.outs[j], ())):
            return False
        i = block.results.index(v)
        if block.params[off + i] in self._buffer_groups()[1]:
            return False        # (a ufunc of the step writes into the state's buffer)
        for w in (block.params[off + i], loop.outs[i]):
            if any(u is None or not (drops_references(u) or _shape_only(u, w))
                   for _, u in self.use_sites.get(w, ())):
                return False
        return True

    def _static_range(self, a):
        """The ``range`` a loop runs over when it is known here (a constant,
        or ``range`` of integer constants), else None."""
        if isinstance(a, Const):
            return a.value if type(a.value) is range else None
        d = self.defs.get(a)
        if d is None or d[0] != "eqn" or d[1].prim.name != "range" or d[1].kwargs or \
                not all(isinstance(x, Const) and type(x.value) is int for x in d[1].args):
            return None
        try:
            return range(*(x.value for x in d[1].args))
        except (TypeError, ValueError):
            return None

    def _buffer_groups(self):
        """(root buffer -> the values reusing it, the set of values whose
        buffer is reused), made once: ``_buffer_of`` is complete before rows
        are decided (a scan per row write was quadratic in a loop body)."""
        g = self.__dict__.get("_groups")
        if g is None:
            by_root: dict = {}
            for m in self._buffer_of:
                by_root.setdefault(self._root_buffer(m), []).append(m)
            g = self._groups = (by_root, set(self._buffer_of.values()))
        return g

    def _root_buffer(self, v):
        while v in self._buffer_of:
            v = self._buffer_of[v]
        return v

    def _row_stmt(self, e, indent):
        from .primitives.indexing import template_to_ast
        s = self.row_out[e]
        row = ast.Subscript(value=ast.Name(id=self.namer.name(s.args[0]), ctx=ast.Load()),
                            slice=template_to_ast(s.params["index"],
                                                  [self.atom(p) for p in s.args[2:]]),
                            ctx=ast.Load())
        call = ast.Call(func=ast.Attribute(value=ast.Name(id="np", ctx=ast.Load()),
                                           attr=e.prim.impl.__name__, ctx=ast.Load()),
                        args=self.operands(e),
                        keywords=[ast.keyword(arg="out", value=row)])
        return self.assign(e.outs, call, indent)

    def _ufunc_stmt(self, e, i, indent):
        args = self.operands(e)
        target = self.namer.name(e.outs[0])
        aug = _AUGMENTED.get(e.prim.name)
        if aug is not None and len(args) == 2 and e.params.get("spelling") != ("func",) and \
                (i == 0 or e.prim.name in ("add", "multiply")):     # (these commute exactly)
            node = ast.AugAssign(target=ast.Name(id=target, ctx=ast.Store()), op=aug(),
                                 value=args[1 - i])
        else:
            call = ast.Call(func=ast.Attribute(value=ast.Name(id="np", ctx=ast.Load()),
                                               attr=e.prim.impl.__name__, ctx=ast.Load()),
                            args=args, keywords=[ast.keyword(
                                arg="out", value=ast.Name(id=target, ctx=ast.Load()))])
            node = ast.Expr(value=call)
        return [indent + _to_source(node)]

    # ------------------------------------------------------------ phi naming
    #
    # A loop carry's initial value, the body's parameter and result, and the
    # loop's output are one Python variable; so are a cond's branch results
    # and its output.  Share the name wherever that is safe, so the common
    # case needs no copies (``h = np.tanh(W @ h)`` inside the loop).

    def _coalesce_block(self, block, local=None):
        # local: the Vars defined afresh in each step of the innermost loop
        # around ``block`` (its body's parameters and equations, nested
        # branches' too); None outside every loop
        if local is not None:
            local = local | {o for e in block.eqns for o in e.outs}
        for e in block.eqns:
            name = e.prim.name
            if name in ("list_append", "list_pop"):
                self._decide_list_inplace(e)
            elif name in ("setitem", "index_accumulate", "list_accumulate"):
                self._decide_inplace(e)
            if name == "cond":
                for i, o in enumerate(e.outs):
                    # only a name made for this output can be shared: a name an
                    # enclosing loop gave it may still hold a live value
                    fresh = o not in self.namer.names
                    n = self.namer.name(o)
                    if not fresh:
                        continue
                    for b in (e.params["then"], e.params["else"]):
                        self._try_share(b, b.results[i], n, param=None)
            elif name in ("for_loop", "while_loop"):
                body = e.params["body"]
                off = loop_offset(e)
                inits = e.args[off:]
                # (the body's results, for _try_share: a scan of them per carry
                # was quadratic in the number of carries)
                result_ids = {id(r) for r in body.results}
                for i, o in enumerate(e.outs):
                    init, param, res = inits[i], body.params[off + i], body.results[i]
                    fresh = o not in self.namer.names
                    # (the initial value takes the carry's name only where
                    # it is made again before each run of this loop: one
                    # made before an enclosing loop starts every run of
                    # this one, and writing the carry would change it)
                    if fresh and isinstance(init, Var) and self.uses.get(init, 0) == 1 \
                            and init not in self.namer.names and init not in self.func.params \
                            and (local is None or init in local):
                        n = self.namer.name(o)
                        self.namer.names[init] = n
                    else:
                        n = self.namer.name(o)
                    self.namer.names.setdefault(param, n)
                    if "cond" in e.params:
                        self.namer.names.setdefault(e.params["cond"].params[i], n)
                    self._try_share(body, res, n, param=param, result_ids=result_ids)
            for b in e.blocks():
                self._coalesce_block(b, set(b.params) if name in ("for_loop", "while_loop")
                                     else local)

    def _try_share(self, block, res, n, param, result_ids=None):
        if not isinstance(res, Var) or res in self.namer.names:
            return
        where, last_read = self._block_index(block)
        k = where.get(res)
        if k is not None:
            e = block.eqns[k]
            if param is not None and last_read.get(param, -1) > k:
                return
            if param is not None and (id(param) in result_ids if result_ids is not None
                                      else any(r is param for r in block.results)):
                return       # another carry's next value is param's current one (a swap)
            if param is not None and e.blocks() and param in _uses_in(e):
                return       # a branch/loop defining res may still read param inside
            if param is not None and len(e.outs) > 1:
                return
            self.namer.names[res] = n
            if param is not None:
                self._shared_results.add(res)

    def _unshare_clobbering(self, block):
        """The carries' next values are copied at the end of a loop body, all
        at once (``_copy_results``).  A carry's result given the carry's own
        name (``_try_share``) is written where it is computed, in the body: if
        another carry's next value lives under that name and was computed
        before (an in-place write into the carry, taken as the other carry's
        next value by ``a, b = b, a``-style code), that write would clobber it
        before the copy reads it.  Such a result gets a name of its own."""
        for e in block.eqns:
            for b in e.blocks():
                self._unshare_clobbering(b)
            if e.prim.name not in ("for_loop", "while_loop"):
                continue
            body = e.params["body"]
            off = loop_offset(e)
            carries = body.params[off:]
            where, _ = self._block_index(body)
            for j, res_j in enumerate(body.results):
                if not isinstance(res_j, Var) or res_j not in self.namer.names:
                    continue
                name_j = self.namer.names[res_j]
                if name_j == self.namer.names.get(carries[j]):
                    continue                 # no copy for carry j
                k_j = where.get(res_j, -1)
                for i, res_i in enumerate(body.results):
                    if i == j or res_i not in self._shared_results or \
                            self.namer.names.get(res_i) != name_j:
                        continue
                    if where.get(res_i, -1) > k_j:
                        del self.namer.names[res_i]
                        self._shared_results.discard(res_i)

    def _block_index(self, block):
        """(Var -> the position of the equation of ``block`` defining it,
        Var -> the last position reading it, nested blocks included): once
        per block, not a scan of the block per loop carry."""
        cache = self.__dict__.setdefault("_block_indexes", {})
        hit = cache.get(id(block))
        if hit is not None and hit[0] is block:
            return hit[1]
        where, last_read = {}, {}
        for k, e in enumerate(block.eqns):
            for o in e.outs:
                where.setdefault(o, k)
            for v in _uses_in(e):
                last_read[v] = k
        cache[id(block)] = (block, (where, last_read))
        return where, last_read

    # ------------------------------------------------------------ analysis

    # ------------------------------------------------------------ atoms

    def atom(self, a) -> ast.expr:
        if isinstance(a, Var):
            if a in self.inlined:
                return self.inlined[a]
            return ast.Name(id=self.namer.name(a), ctx=ast.Load())
        return self.const(a.value)

    def operands(self, e) -> list:
        """``e``'s operands, printed; a Python number operand of an
        arithmetic ufunc whose other operand is known (specialised code) to
        be a NumPy array of that dtype prints as a 0-d array constant of the
        dtype (:meth:`zero_d`)."""
        args = [self.atom(a) for a in e.args]
        if len(e.args) == 2 and e.prim.name in _ZERO_D_UFUNCS and not e.kwargs and \
                self._zero_d_ok:
            for i, a in enumerate(e.args):
                if isinstance(a, Const) and isinstance(e.args[1 - i], Var):
                    node = self.zero_d(a.value, e.args[1 - i], e)
                    if node is not None:
                        args[i] = node
        return args

    def zero_d(self, v, other, e):
        """The constant ``v`` as a 0-d array of ``other``'s dtype, where that
        changes nothing but speed: a ufunc converts a Python float operand
        to an array on every call (about 0.25 us of a 0.5 us call on a small
        array), a 0-d array it takes as it is.  Same result: NumPy (NEP 50)
        casts a Python scalar to the array operand's dtype, which is the 0-d
        array's dtype, and the value is exactly representable in it (so
        float32 gets 1.0, 0.5, 2.0, not 0.1).  Only where ``other`` is known
        to be a NumPy float array (ndim >= 1, not a foreign array type) of
        the result's dtype; the 0-d array is only ever read (an operand,
        never an ``out=`` or a result).  None where this does not apply."""
        examples = self.func.info["examples"]
        ex, out = examples.get(other), examples.get(e.outs[0]) if len(e.outs) == 1 else None
        if type(v) not in (float, int) or type(ex) is not np.ndarray or ex.ndim == 0 or \
                ex.dtype not in _ZERO_D_DTYPES or type(out) is not np.ndarray or \
                out.dtype != ex.dtype or other in self._foreign or e.outs[0] in self._foreign:
            return None
        # (the outcome depends only on the key: looked up first, refusals too)
        key = (ex.dtype.str, type(v), v, math.copysign(1.0, v) if type(v) is float else 1)
        hit = self._zero_d_names.get(key, False)
        if hit is None:
            return None
        if hit is False:
            try:
                c = np.array(v, dtype=ex.dtype)
            except OverflowError:
                c = None
            if c is None or not (c == v):        # (nan, or not exact in float32)
                self._zero_d_names[key] = None
                return None
            c.flags.writeable = False            # shared by every call: never written
            # named after the value (-0.5 -> _m0_5), readable where it is used
            text = repr(v).replace("-", "m").replace(".", "_").replace("+", "")
            hit = "_" + text + ("" if ex.dtype == np.float64 else "_" + ex.dtype.name)
            while hit in self.namer.taken or any(n == hit for n, _ in self.consts):
                hit += "_"
            self.namer.taken.add(hit)
            self.consts.append((hit, c))
            self._zero_d_names[key] = hit
        return ast.Name(id=hit, ctx=ast.Load())

    def const(self, v, hint=None) -> ast.expr:
        if v is None or isinstance(v, (bool, str)) or v is Ellipsis:
            return ast.Constant(value=v)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if isinstance(v, float) and math.isinf(v):
                node = printing.dotted("np.inf")
                return ast.UnaryOp(op=ast.USub(), operand=node) if v < 0 else node
            if isinstance(v, float) and math.isnan(v):
                return printing.dotted("np.nan")
            if v < 0:
                return ast.UnaryOp(op=ast.USub(), operand=ast.Constant(value=-v))
            return ast.Constant(value=v)
        if isinstance(v, tuple) and all(_literal(x) for x in v):
            return ast.Tuple(elts=[self.const(x) for x in v], ctx=ast.Load())
        if isinstance(v, list) and all(_literal(x) for x in v):
            return ast.List(elts=[self.const(x) for x in v], ctx=ast.Load())
        if isinstance(v, slice):
            return ast.Call(func=ast.Name(id="slice", ctx=ast.Load()),
                            args=[self.const(v.start), self.const(v.stop), self.const(v.step)],
                            keywords=[])
        if isinstance(v, range):
            return ast.Call(func=ast.Name(id="range", ctx=ast.Load()),
                            args=[self.const(v.start), self.const(v.stop), self.const(v.step)],
                            keywords=[])
        if any(v is t for t in (float, int, bool, complex)):   # (np.dtype(float) == float)
            return ast.Name(id=v.__name__, ctx=ast.Load())
        np_name = _numpy_name(v)
        if np_name:
            return printing.dotted(np_name)
        for name, val in self.consts:
            if val is v:
                return ast.Name(id=name, ctx=ast.Load())
        if hint is not None and hint.isidentifier():
            # a held object with a name of its own (a bound method's self)
            name = self.namer._fresh(hint, temp_ok=False)
            self.consts.append((name, v))
            return ast.Name(id=name, ctx=ast.Load())
        name = f"_c{len(self.consts)}"
        self.consts.append((name, v))
        return ast.Name(id=name, ctx=ast.Load())

    # ------------------------------------------------------------ equations

    def expr(self, e: Eqn) -> ast.expr:
        p = e.prim
        if self.free_names is not None and p.name in ("load_global", "load_cell"):
            return ast.Name(id=self.free_names[free_key(e)], ctx=ast.Load())
        if p.name == "load_global":
            g = e.params["globals"]
            if g is self.src_globals:
                return ast.Name(id=e.params["name"], ctx=ast.Load())
            return ast.Subscript(value=self.const(g), slice=ast.Constant(value=e.params["name"]),
                                 ctx=ast.Load())
        if p.name == "load_cell":
            return ast.Attribute(value=self.const(e.params["cell"]), attr="cell_contents",
                                 ctx=ast.Load())
        if p.name == "load_object":
            return self.const(e.params["obj"], hint=e.params["name"])
        if p.name == "load_attr":
            return ast.Attribute(value=self.atom(e.args[0]), attr=e.params["attr"],
                                 ctx=ast.Load())
        if p.name == "load_item":
            return ast.Subscript(value=self.atom(e.args[0]), slice=self.const(e.params["key"]),
                                 ctx=ast.Load())
        if p.pyname.split(".")[0] in _RUNTIME_NAMES:
            self.helpers.add(p.pyname.split(".")[0])
        args = self.operands(e)
        kwargs = {k: self.atom(v) for k, v in e.kwargs.items()}
        if p.callee is not None:        # a callable given rules by s2sgrad.defrule
            return printing.call(self.callee_name(p, e), args, kwargs)
        node = printing.get_printer(p)(args, kwargs, e)
        for n in _names(node):
            if n in _RUNTIME_NAMES:
                self.helpers.add(n)
            elif n in PRINT_MODULES:
                self.modules.add(n)
        return node

    def callee_name(self, prim, e) -> str:
        """The name the generated function binds ``prim.callee`` under (as the
        user's code spelled it, else its ``pyname``; unique in this function):
        a constant of the factory."""
        for name, val in self.consts:
            if val is prim.callee:
                return name
        spelling = e.params.get("spelling") or ()
        name = spelling[1] if spelling[:1] == ("call",) else prim.pyname
        while name in self.namer.taken or any(n == name for n, _ in self.consts):
            name += "_"
        self.namer.taken.add(name)
        self.consts.append((name, prim.callee))
        return name

    def block_lines(self, block: Block, indent: str) -> list[str]:
        lines: list[str] = []
        last_key = None
        for e in block.eqns:
            if e in self.folded:
                continue
            if self._inline(e):
                self.inlined[e.outs[0]] = self.expr(e)
                continue
            key = (e.loc.filename, e.loc.lineno, e.loc.kind) if e.loc else None
            if key != last_key and e.loc is not None:
                comment = self._comment(e.loc)
                self.comment_locs.setdefault(comment, e.loc)
                lines.append(indent + comment)
            last_key = key
            lines += self.stmt(e, indent)
        return lines

    def _inline(self, e):
        if e.params.get("spelling") == ("attr", "T") and len(e.outs) == 1 and \
                e in self.block_of:
            # x.T read once, in the same block: written at its use (X.T @ g)
            sites = self.use_sites.get(e.outs[0], ())
            return len(sites) == 1 and sites[0][1] is not None and \
                self.block_of.get(sites[0][1]) is self.block_of[e] and \
                not self._operand_renewed_before(e, sites[0][1])
        if e.params.get("inline") and len(e.outs) == 1 and e in self.block_of:
            # marked by the pass that made it (a tape's row index ``t + 1``, a
            # view of a row nothing writes while it is live, s2sgrad.tapes),
            # which guarantees that no statement between the definition and
            # the use rebinds an operand's name (a loop index, never a
            # counter carry): written at its one use in the same block
            sites = self.use_sites.get(e.outs[0], ())
            return len(sites) == 1 and sites[0][1] is not None and \
                self.block_of.get(sites[0][1]) is self.block_of[e]
        if _column(e) and e in self.block_of:
            # a column of a reduction written as column operations
            # (specialize._column_reduce): at its one use, just after it
            sites = self.use_sites.get(e.outs[0], ())
            return len(sites) == 1 and sites[0][1] is not None and \
                self.block_of.get(sites[0][1]) is self.block_of[e]
        if not e.prim.inline or len(e.outs) != 1:
            return False
        if e.prim.name in _LOADS:
            return True
        return self.uses.get(e.outs[0], 0) <= 1

    def _operand_renewed_before(self, e, user):
        """Does a statement between ``e`` and its use ``user`` (one block)
        make a value named like ``e``'s operand (a new version of it, which
        the generated code may bind to the same name: ``A = A.copy();
        A[:, 0] = v``)?  Then ``A.T`` is not written at its use, which would
        read the new ``A`` (a loop's tape of ``A.T`` saved the array after
        the write: trust9 harness seed 5003)."""
        base = e.args[0] if e.args else None
        if not isinstance(base, Var):
            return False
        eqns = self.block_of[e].eqns
        try:
            i, j = eqns.index(e), eqns.index(user)
        except ValueError:
            return True
        return any(o.hint == base.hint for d in eqns[i + 1:j] for o in d.outs
                   if isinstance(o, Var))

    def _comment(self, loc):
        where = f"{os.path.basename(loc.filename)}:{loc.lineno}"
        text = loc.text if len(loc.text) <= 70 else loc.text[:67] + "..."
        if loc.kind == "adjoint":
            return f"# adjoint of {where}: {text}"
        if loc.kind == "tangent":
            return f"# tangent of {where}: {text}"
        return f"# {where}: {text}"

    def stmt(self, e: Eqn, indent: str) -> list[str]:
        if e in self.row_out:
            return self._row_stmt(e, indent)
        if e in self.ufunc_out:
            return self._ufunc_stmt(e, self.ufunc_out[e], indent)
        handler = getattr(e.prim, "codegen_stmt", None)
        if handler is not None:
            return handler(self, e, indent)
        value = self.expr(e)
        if not e.outs:
            return [indent + _to_source(ast.Expr(value=value))]
        return self.assign(e.outs, value, indent)

    def assign(self, outs, value, indent: str) -> list[str]:
        """``outs = value`` (a tuple target for several outputs), printed."""
        if len(outs) == 1:
            target = ast.Name(id=self.namer.name(outs[0]), ctx=ast.Store())
        else:
            target = ast.Tuple(elts=[ast.Name(id=self.namer.name(o), ctx=ast.Store())
                                     for o in outs], ctx=ast.Store())
        text = _to_source(ast.Assign(targets=[target], value=value))
        return [indent + ln for ln in text.split("\n")]

    # ------------------------------------------------------------ function

    def function(self) -> str:
        f = self.func
        params = [self.namer.name(p) for p in f.params]
        body = self.block_lines(f.body, "    ")
        res = [self.atom(r) for r in f.results]
        if len(res) == 1 and not f.info.get("tuple_result"):
            ret = _to_source(ast.Return(value=res[0]))
        else:
            ret = _to_source(ast.Return(value=ast.Tuple(elts=res, ctx=ast.Load())))
        doc = f.info.get("docstring")
        lines = [f"def {f.name}({', '.join(params)}):"]
        if doc:
            lines.append(f'    """{doc}"""')
        lines += body
        lines.append("    " + ret)
        source = "\n".join(lines) + "\n"
        examples = f.info.get("examples")
        if examples is not None and any(
                type(x) is np.ndarray and x.nbytes >= DEL_BYTES for x in examples.values()):
            # specialised code: ``del`` large arrays after their last use
            source = delete_dead(source, self._deletable)
        return source

    def _deletable(self, name) -> bool:
        """Whether a name holds a large array this function allocated (its
        shapes known: specialised code; not an argument, nor a value the
        alias model finds may be a view of one) or a checkpoint tape, worth
        a ``del`` after its last use (:mod:`s2sgrad.liveness` decides where
        that is safe)."""
        examples = self.func.info["examples"]
        big = False
        for v in self.namer.names.holders.get(name, ()):
            if v in self.func.params or v in self._foreign:
                return False
            d = self.defs.get(v)
            made = d[1].prim.name if d is not None and d[0] == "eqn" else None
            if made == "checkpoint_forward" and v is d[1].outs[-1]:
                big = True          # a checkpoint tape: it holds the snapshots
                continue
            x = examples.get(v)
            if type(x) is np.ndarray and x.nbytes >= DEL_BYTES and (
                    self.owned(v) or made in ("checkpoint_forward", "checkpoint_backward")):
                big = True
        return big


_IN_PROGRESS = object()


class _CyclicViews(Exception):
    """A value reached again through its own views (never in SSA form)."""


# reads of the world outside the function: printed where used (read live)
_LOADS = {"load_global", "load_cell", "load_object", "load_attr", "load_item"}
from .primitives.core import shape_only  # noqa: E402


_AUGMENTED = {"add": ast.Add, "subtract": ast.Sub, "multiply": ast.Mult, "divide": ast.Div,
              "power": ast.Pow}
# ufunc primitives printed as NumPy's ufunc of the same name (np.<name>)
_UFUNC_PRINTABLE = {
    "add", "subtract", "multiply", "divide", "power", "negative", "exp", "expm1", "exp2",
    "log", "log1p", "log2", "log10", "sqrt", "square", "cbrt", "sin", "cos", "tan", "arcsin",
    "arccos", "arctan", "sinh", "cosh", "tanh", "absolute", "maximum", "minimum", "arctan2",
    "logaddexp", "reciprocal", "fmax", "fmin", "sign", "floor", "ceil", "rint", "trunc",
    "heaviside",
}


def _layout_follows(e, i, examples, out) -> bool:
    """Whether the ufunc ``e`` computed into operand ``i``'s buffer has the
    memory order NumPy's own result would have: NumPy allocates in the order
    of all its operands ('K'), the buffer keeps operand ``i``'s.  Known where
    the result has at most one axis longer than 1 (every compact order is the
    same) or every other operand has at most one (a number, a broadcast row
    or column: NumPy follows the full operand).  Matters only where the
    program observes memory order (a reshape decided at run time to be a view
    or a copy); a layout is no shape fact, so nothing else is assumed."""
    def one_axis(v):
        return sum(d > 1 for d in np.shape(v)) <= 1
    if one_axis(out):
        return True
    for j, a in enumerate(e.args):
        if j == i:
            continue
        v = a.value if isinstance(a, Const) else examples.get(a)
        if v is None or not one_axis(v):
            return False
    return True


# ufuncs whose NumPy loop is not vectorised when the output is the input
# (np.sign(x, out=x): 15 ms against 1.8 ms for a new array of 2.5M float64):
# never written into an operand's buffer
_SLOW_IN_PLACE = {"sign"}

# arithmetic ufuncs whose number operand prints as a 0-d array (CodeGen.zero_d)
_ZERO_D_UFUNCS = {"add", "subtract", "multiply", "divide", "maximum", "minimum", "fmax", "fmin",
                  "logaddexp", "logaddexp2", "heaviside"}
_ZERO_D_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))

# a view of its first operand and nothing else (its readers are followed)
_VIEWS = {"transpose"}


def _column(e) -> bool:
    """A column read by a reduction written as column operations (a view)."""
    return e.prim.name == "getitem" and bool(e.params.get("column")) and len(e.args) == 1


def _row_printable(e) -> bool:
    """An elementwise NumPy ufunc printed as ``np.<name>(..., out=...)``, or a
    matrix product ``np.matmul(a, b, out=T[k])`` (the gate pre-activation
    ``x @ Wz`` of a recurrent step, which the step goes on in place: the same
    product into the row instead of a new array copied there later; the
    caller checks the row has the product's shape and dtype)."""
    impl = e.prim.impl
    return isinstance(impl, np.ufunc) and impl.nout == 1 and not e.kwargs and \
        len(e.outs) == 1 and not e.blocks() and (
            e.prim.name in _UFUNC_PRINTABLE or
            e.prim.name == "matmul" and impl is np.matmul and len(e.args) == 2)


def _shape_only(user, a) -> bool:
    """Does ``user`` read ``a`` only for its shape and dtype (which writing a
    same-shape, same-dtype result into ``a`` in place does not change)?"""
    return not user.blocks() and \
        all(shape_only(user.prim.name, i) for i, x in enumerate(user.args) if x is a) and \
        all(v is not a for v in user.kwargs.values())


def _names(node) -> list:
    """The identifiers of the Name nodes in ``node`` (``ast.walk``'s, faster
    for the nodes printers build)."""
    out, todo = [], [node]
    while todo:
        n = todo.pop()
        t = type(n)
        if t is ast.Name:
            out.append(n.id)
        elif t is ast.Attribute:
            todo.append(n.value)
        elif t is ast.Call:
            todo.append(n.func)
            todo += n.args
            todo += [k.value for k in n.keywords]
        elif t is ast.BinOp:
            todo.append(n.left)
            todo.append(n.right)
        elif t is ast.UnaryOp:
            todo.append(n.operand)
        elif t is ast.Subscript:
            todo.append(n.value)
            todo.append(n.slice)
        elif t is ast.Tuple or t is ast.List:
            todo += n.elts
        elif t is not ast.Constant:
            todo += ast.iter_child_nodes(n)
    return out


def _uses_in(e):
    used = {a for a in e.atoms() if isinstance(a, Var)}
    for b in e.blocks():
        for e2 in b.eqns:
            used |= _uses_in(e2)
        used |= {r for r in b.results if isinstance(r, Var)}
    return used


def _literal(x):
    return x is None or isinstance(x, (bool, int, float, str)) or (
        isinstance(x, tuple) and all(_literal(y) for y in x))


def _numpy_name(v):
    """'np.float32' for NumPy types/dtypes/ufuncs that NumPy exposes by name."""
    try:
        if v is np.random.mtrand._rand:          # the RandomState behind np.random.normal
            return "np.random.mtrand._rand"
        if isinstance(v, np.dtype):
            name = v.name
            if getattr(np, name, None) is v.type:
                return f"np.{name}"
            return None
        name = getattr(v, "__name__", None)
        if name and getattr(np, name, None) is v:
            return f"np.{name}"
    except Exception:  # pragma: no cover
        return None
    return None


# pseudo file name of generated code -> {line number: the user's Loc it came from}
# (s2sgrad.api.explain uses it to point an exception raised in generated code
# at the user's statement)
SOURCE_MAPS: dict = {}


def _forget_source(filename):
    linecache.cache.pop(filename, None)
    SOURCE_MAPS.pop(filename, None)


def tie_source(code, filename):
    """The linecache entry and source map of generated code last as long
    as ``code``, the code object that runs it (held by its function, and by
    any frame or traceback running it): a process that compiles and drops
    transformations does not keep every source it generated."""
    weakref.finalize(code, _forget_source, filename).atexit = False


def _source_map(text, comment_locs):
    out, loc = {}, None
    for i, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("#"):
            loc = comment_locs.get(stripped, loc)
        elif loc is not None:
            out[i] = loc
    return out


class Compiled:
    """A generated function: its source, the callable, and the pseudo file name."""

    guard = None            # what the API checks before running it (s2sgrad.guards)

    def __init__(self, source, fn, filename, func):
        self.source = source
        self.fn = fn
        self.filename = filename
        self.func = func


def free_key(e: Eqn):
    """What a ``load_global``/``load_cell`` equation reads (for ``free_names``)."""
    if e.prim.name == "load_cell":
        return ("cell", id(e.params["cell"]))
    return ("global", e.params["name"], id(e.params["globals"]))


def print_function(func: Func, globals_dict: dict, namer: "Namer | None" = None,
                   **options) -> CodeGen:
    """Print ``func`` (``CodeGen.source`` holds the text; ``options`` as for
    :class:`CodeGen`).  Pass the ``namer`` of a sibling (``Compiled.namer``)
    so values the two share print with the same names."""
    func.info["globals"] = globals_dict
    func.name = re.sub(r"\W", "", func.name) or "f"      # "<lambda>_grad" -> "lambda_grad"
    cg = CodeGen(erase_rule_markers(func), namer, **options)
    cg.source = cg.function()
    return cg


def generate(func: Func, globals_dict: dict, namer: "Namer | None" = None) -> Compiled:
    """Compile ``func``.  Pass the ``namer`` of a sibling (``Compiled.namer``)
    so values the two share print with the same names."""
    cg = print_function(func, globals_dict, namer)
    source = cg.source
    helpers = sorted(cg.helpers)
    modules = sorted(cg.modules)
    factory_params = ["np"] + modules + helpers + [n for n, _ in cg.consts]
    factory = (f"def _s2sgrad_factory({', '.join(factory_params)}):\n"
               + "".join("    " + ln + "\n" for ln in source.splitlines())
               + f"    return {func.name}\n")
    filename = f"<s2sgrad {func.name} #{next(_counter)}>"
    linecache.cache[filename] = (len(factory), None, factory.splitlines(True), filename)
    SOURCE_MAPS[filename] = _source_map(factory, cg.comment_locs)
    code = compile(factory, filename, "exec")
    ns: dict = {}
    exec(code, globals_dict, ns)
    values = [np] + [importlib.import_module(PRINT_MODULES[m]) for m in modules] + \
        [getattr(runtime, h) for h in helpers] + [v for _, v in cg.consts]
    fn = ns["_s2sgrad_factory"](*values)
    tie_source(fn.__code__, filename)
    c = Compiled(source, fn, filename, func)
    c.namer = cg.namer
    return c
