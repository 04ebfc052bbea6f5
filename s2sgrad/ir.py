"""The SSA intermediate representation.

Grammar (informal)::

    Func   := name, params: [Var], body: Block, results: [Atom]
    Block  := eqns: [Eqn]
    Eqn    := outs: [Var] = prim(args: [Atom], kwargs: {str: Atom}; params) @ loc
    Atom   := Var | Const

Every ``Var`` is defined exactly once (by a parameter of the enclosing
function, or by one equation, or as a parameter of a nested region block)
and used only after its definition.  ``prim`` is a :class:`Primitive`
object (compared by identity, never by spelling).  ``params`` holds static
information that is not a value of the program (an indexing template, the
nested blocks of a control-flow equation); ``args``/``kwargs`` hold the
values, including non-differentiable ones such as ``axis``.

Control flow is structured: an equation may carry nested :class:`Block` s in
its params (see :mod:`s2sgrad.primitives.control`), each with its own
parameters and results, which map straight back to Python ``if``/``for``.

``str(func)`` prints a readable listing; :func:`verify` checks the SSA
invariants and is run by the tests after every pass.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

_ids = itertools.count()


class Var:
    """An SSA value. Compared by identity; ``hint`` is the user-facing name stem."""

    __slots__ = ("hint", "id", "shape", "bar_of")

    def __init__(self, hint: str = "", shape: Any = None):
        self.hint = hint
        self.id = next(_ids)
        # For a cotangent/tangent: (suffix, primal Var); printed as "<primal>_bar".
        self.bar_of = None
        # Symbolic shape class (see s2sgrad.shapes): two Vars with the same
        # non-None ``shape`` token are known to have equal shapes.
        self.shape = shape

    def __repr__(self):
        return f"%{self.hint}.{self.id}"


class Const:
    """A compile-time constant: a Python scalar, None, str, tuple, slice, dtype, ..."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def key(self):
        v = self.value
        try:
            hash(v)
            return (type(v), v)
        except TypeError:
            return (type(v), id(v))

    def __eq__(self, other):
        return isinstance(other, Const) and self.key() == other.key()

    def __hash__(self):
        return hash(self.key())

    def __repr__(self):
        return repr(self.value)


Atom = Any  # Var | Const


def is_const(a, value=None) -> bool:
    if not isinstance(a, Const):
        return False
    if value is None:
        return True
    v = a.value
    return isinstance(v, (int, float, np.number)) and not isinstance(v, bool) and v == value


@dataclass(frozen=True)
class Loc:
    """Where in the user's source an equation came from."""

    filename: str
    lineno: int
    col: int = 0
    text: str = ""
    kind: str = ""      # "" for forward code, "adjoint"/"tangent" for derived code

    def __str__(self):
        return f"{self.filename}:{self.lineno}"


@dataclass(eq=False)
class Eqn:
    prim: Any
    args: tuple
    kwargs: dict
    outs: tuple
    params: dict = field(default_factory=dict)
    loc: Loc | None = None

    @property
    def out(self) -> Var:
        (o,) = self.outs
        return o

    def atoms(self):
        """All value operands (args then kwargs values).  (Callers only
        iterate over it or copy it: without keyword operands it is the
        equation's own tuple of operands, not a copy.)"""
        if self.kwargs:
            return [*self.args, *self.kwargs.values()]
        args = self.args
        return args if type(args) is tuple else list(args)

    def blocks(self):
        """Nested region blocks held in params (control flow)."""
        params = self.params
        if not params:
            return ()       # (shared: callers only iterate or test it)
        # (a loop, not a comprehension: most equations with params hold no
        # block -- a spelling, an index -- and the passes ask every
        # equation, hundreds of thousands of times for 1,000 statements)
        out = ()
        for b in params.values():
            if type(b) is Block:
                if out:
                    out.append(b)
                else:
                    out = [b]
        return out


@dataclass(eq=False)
class Block:
    """A straight-line list of equations, with optional block parameters and results."""

    eqns: list = field(default_factory=list)
    params: list = field(default_factory=list)
    results: list = field(default_factory=list)


@dataclass(eq=False)
class Func:
    name: str
    params: list            # [Var], one per flattened input leaf
    body: Block
    results: list           # [Atom]
    filename: str = "<s2sgrad>"
    # Free names (globals read live, closure cells) the body references.
    info: dict = field(default_factory=dict)

    def __str__(self):
        return format_func(self)


# ---------------------------------------------------------------- printing

def _fmt_atom(a):
    if isinstance(a, Var):
        return f"{a.hint or 't'}.{a.id}"
    return repr(a)


def _fmt_eqn(e: Eqn, indent: str) -> list[str]:
    outs = ", ".join(_fmt_atom(o) for o in e.outs) or "_"
    args = [_fmt_atom(a) for a in e.args]
    args += [f"{k}={_fmt_atom(v)}" for k, v in e.kwargs.items()]
    static = {k: v for k, v in e.params.items() if not isinstance(v, Block)}
    if static:
        args += [f"{k}:{v!r}" for k, v in static.items()]
    where = f"    # L{e.loc.lineno}" if e.loc else ""
    lines = [f"{indent}{outs} = {e.prim.name}({', '.join(args)}){where}"]
    for k, b in e.params.items():
        if isinstance(b, Block):
            ps = ", ".join(_fmt_atom(p) for p in b.params)
            lines.append(f"{indent}  {k}({ps}):")
            for sub in b.eqns:
                lines += _fmt_eqn(sub, indent + "    ")
            lines.append(f"{indent}    -> ({', '.join(_fmt_atom(r) for r in b.results)})")
    return lines


def format_func(f: Func) -> str:
    lines = [f"func {f.name}({', '.join(_fmt_atom(p) for p in f.params)}):"]
    for e in f.body.eqns:
        lines += _fmt_eqn(e, "  ")
    lines.append(f"  return ({', '.join(_fmt_atom(r) for r in f.results)})")
    return "\n".join(lines)


# ---------------------------------------------------------------- verification

class IRVerificationError(AssertionError):
    pass


def verify(f: Func) -> Func:
    """Check single assignment and define-before-use. Returns ``f``."""
    # (one pass, no closures: a recursive nested function is a reference
    # cycle that keeps what it reads alive until the garbage collector runs)
    defined: set = set()
    top = set()
    for p in f.params:
        _define(defined, p, "func param")
        top.add(p)
    _verify_block(Block(f.body.eqns, [], f.results), top, defined)
    return f


def _where(e: Eqn) -> str:
    return f"{e.prim.name} at {e.loc}"


def _define(defined: set, v, where):
    if not isinstance(v, Var):
        raise IRVerificationError(f"{where}: output {v!r} is not a Var")
    if v in defined:
        raise IRVerificationError(f"{where}: {v!r} defined twice")
    defined.add(v)


def _use(a, where, scope: set):
    if isinstance(a, Var):
        if a not in scope:
            raise IRVerificationError(f"{where}: {a!r} used before definition")
    elif not isinstance(a, Const):
        raise IRVerificationError(f"{where}: operand {a!r} is not an Atom")


def _verify_block(block: Block, scope: set, defined: set):
    """Check ``block`` with ``scope`` visible; what the block defines is
    added to ``scope`` while it is checked and taken out after (so a nested
    block costs its own definitions, not a copy of every enclosing one)."""
    local = []
    try:
        for p in block.params:
            _define(defined, p, "block param")
            scope.add(p)
            local.append(p)
        for e in block.eqns:
            for a in (*e.args, *e.kwargs.values()) if e.kwargs else e.args:
                if type(a) is not Var or a not in scope:
                    _use(a, _where(e), scope)
            if e.params:
                for b in e.blocks():
                    _verify_block(b, scope, defined)
            for o in e.outs:
                if not isinstance(o, Var) or o in defined:
                    _define(defined, o, _where(e))
                defined.add(o)
                scope.add(o)
                local.append(o)
        for r in block.results:
            if type(r) is not Var or r not in scope:
                _use(r, "block result", scope)
    finally:
        scope.difference_update(local)


def defined_vars(block: Block) -> set:
    """Vars defined anywhere in a block (params, outputs, nested regions)."""
    out = set(block.params)
    for e in block.eqns:
        out.update(e.outs)
        for b in (e.blocks() if e.params else ()):
            out |= defined_vars(b)
    return out


def iter_eqns(block: Block):
    """All equations in ``block`` and its nested regions, outer first."""
    for e in block.eqns:
        yield e
        for b in (e.blocks() if e.params else ()):
            yield from iter_eqns(b)


def readers(func) -> dict:
    """``{Var: [every equation reading it, in order, outer first; None for a
    read as a region's or the function's result]}``."""
    uses: dict = {}

    def count(block):
        for e in block.eqns:
            for a in e.atoms():
                if isinstance(a, Var):
                    uses.setdefault(a, []).append(e)
            for b in e.blocks():
                count(b)
                for r in b.results:
                    if isinstance(r, Var):
                        uses.setdefault(r, []).append(None)
    count(func.body)
    del count  # (breaks the recursive closure's reference cycle)
    for r in func.results:
        if isinstance(r, Var):
            uses.setdefault(r, []).append(None)
    return uses


def rename_reads(block: Block, subst: dict):
    """Rename the reads of ``block`` and its regions in place: every operand,
    keyword operand and result that is a key of ``subst`` becomes its value
    (blocks owned by the pass calling it)."""
    if not subst:
        return

    def sub(a):
        return subst.get(a, a) if isinstance(a, Var) else a

    def walk(b):
        # (an equation none of whose operands is renamed keeps its tuple and
        # dict: the same operands, no rebuilding -- most equations of a loop
        # body whose few carries are renamed)
        for e in b.eqns:
            if type(e.args) is not tuple:
                e.args = tuple(sub(a) for a in e.args)
            for a in e.args:
                if type(a) is Var and a in subst:
                    e.args = tuple(sub(a) for a in e.args)
                    break
            if e.kwargs:
                for v in e.kwargs.values():
                    if type(v) is Var and v in subst:
                        e.kwargs = {k: sub(v) for k, v in e.kwargs.items()}
                        break
            for nb in (e.blocks() if e.params else ()):
                walk(nb)
        b.results = [sub(r) for r in b.results]
    walk(block)
    del walk  # (breaks the recursive closure's reference cycle)
