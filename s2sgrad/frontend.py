"""Source retrieval and name resolution.

``parse_function(fn)`` finds ``fn``'s source with :mod:`inspect`, parses it,
and returns a :class:`Source` holding the ``FunctionDef``/``Lambda`` node with
line numbers that are true lines of the user's file, so every error and
every comment in generated code points at the right place.

``Resolver`` answers what a free name means inside ``fn``: a closure cell, a
global of ``fn``'s module, or a builtin.  Modules, functions, classes and
dtypes are resolved at compile time; data (numbers, arrays) is read live when
the generated code runs.
"""
from __future__ import annotations

import ast
import builtins
import inspect
import textwrap
import types
from dataclasses import dataclass, field

from .errors import SourceNotFoundError, UnsupportedSyntaxError


@dataclass
class Source:
    fn: object
    node: ast.AST               # FunctionDef | Lambda
    filename: str
    lines: dict = field(default_factory=dict)   # absolute lineno -> text

    def line_text(self, lineno):
        return self.lines.get(lineno, "").strip()

    def error(self, cls, message, node, construct=None):
        lineno = getattr(node, "lineno", None)
        return cls(message, filename=self.filename, lineno=lineno,
                   col=getattr(node, "col_offset", None), construct=construct)


_cache: dict = {}


def parse_function(fn, generator=False) -> Source:
    """The parsed source of ``fn``.  ``generator``: a generator function is
    accepted, its body rewritten to return the list of what it yields
    (helpers iterated by a ``for`` loop: ``for W, b in layers(params):``)."""
    code = getattr(fn, "__code__", None)
    if code is None:
        raise TypeError(f"s2sgrad can only differentiate Python functions, got {fn!r}")
    if generator is True and code.co_flags & inspect.CO_GENERATOR:
        key = (code, "yielded")
        if key not in _cache:
            from .lower.syntax import generator_as_list
            src = parse_function(fn, generator="parse")
            _cache[key] = Source(fn, generator_as_list(src.node), src.filename, src.lines)
        src = _cache[key]
        return Source(fn, src.node, src.filename, src.lines)
    key = code
    if key in _cache and generator != "parse":
        src = _cache[key]
        return Source(fn, src.node, src.filename, src.lines)
    filename = code.co_filename
    name = getattr(fn, "__name__", "<function>")
    if code.co_flags & (inspect.CO_GENERATOR | inspect.CO_ITERABLE_COROUTINE) and \
            generator != "parse":
        raise UnsupportedSyntaxError(
            f"cannot differentiate generator function '{name}'; return an array instead of "
            f"yielding values", filename=filename, lineno=code.co_firstlineno, construct="generator")
    if code.co_flags & (inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR):
        raise UnsupportedSyntaxError(
            f"cannot differentiate async function '{name}'; make it a plain 'def'",
            filename=filename, lineno=code.co_firstlineno, construct="async def")
    try:
        lines, start = inspect.getsourcelines(fn)
    except (OSError, TypeError) as exc:
        raise SourceNotFoundError(
            f"cannot find the source code of '{name}' ({exc}). s2sgrad reads a function's "
            f"source to differentiate it: define it in a .py file or a notebook cell (not with "
            f"exec() or in the plain interactive prompt), or register source text with "
            f"linecache under its code's file name", filename=filename,
            lineno=code.co_firstlineno) from None
    start = max(start, 1)
    text = textwrap.dedent("".join(lines))
    tree = _parse_fragment(text, filename, start)
    ast.increment_lineno(tree, start - 1)
    abs_lines = {start + i: ln.rstrip("\n") for i, ln in enumerate(lines)}
    node = _find_node(tree, fn, code, filename)
    src = Source(fn, node, filename, abs_lines)
    if generator != "parse":
        _cache[key] = src
    return src


def _parse_fragment(text, filename, start):
    """Parse a function's source; a lambda's line may be a fragment of a larger
    expression, so retry on shrinking/wrapped variants before giving up."""
    attempts = [text, "(" + text.strip() + ")"]
    stripped = text.strip()
    # "f = grad(lambda x: x ** 2)" style fragments: trim trailing junk.
    for cut in range(len(stripped), 0, -1):
        if stripped[cut - 1] in ")],":
            attempts.append(stripped[:cut - 1])
    for t in attempts:
        try:
            return ast.parse(t)
        except SyntaxError:
            continue
    raise SourceNotFoundError("cannot parse the source of the function defined here; "
                              "define it with 'def' on lines of its own", filename=filename,
                              lineno=start)


def _find_node(tree, fn, code, filename):
    name = fn.__name__
    want_args = list(code.co_varnames[:code.co_argcount + code.co_kwonlyargcount])
    if name != "<lambda>":
        cands = [n for n in ast.walk(tree)
                 if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name]
    else:
        cands = [n for n in ast.walk(tree) if isinstance(n, ast.Lambda)
                 and [a.arg for a in n.args.posonlyargs + n.args.args + n.args.kwonlyargs]
                 == want_args]
    cands = [n for n in cands if n.lineno == code.co_firstlineno] or cands
    if not cands:
        raise SourceNotFoundError(f"cannot locate the definition of '{name}' in its source",
                                  filename=filename, lineno=code.co_firstlineno)
    if len(cands) > 1 and name == "<lambda>":
        raise SourceNotFoundError(
            "several lambdas with the same arguments on one line; s2sgrad cannot tell which "
            "to differentiate: give the function a name with 'def'", filename=filename,
            lineno=code.co_firstlineno)
    return cands[0]


_MISSING = object()


class Resolver:
    """Looks up free names of a function: closure cells, globals, builtins."""

    def __init__(self, fn):
        self.fn = fn
        self.globals = fn.__globals__
        code = fn.__code__
        cells = fn.__closure__ or ()
        self.cells = dict(zip(code.co_freevars, cells))

    def lookup(self, name):
        """Return ('cell', cell) | ('global', value) | ('builtin', value) | None."""
        if name in self.cells:
            cell = self.cells[name]
            try:
                cell.cell_contents
            except ValueError:
                return None
            return ("cell", cell)
        if name in self.globals:
            return ("global", self.globals[name])
        b = self.globals.get("__builtins__", builtins)
        if isinstance(b, types.ModuleType):
            b = b.__dict__
        if name in b:
            return ("builtin", b[name])
        return None
