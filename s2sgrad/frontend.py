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

import __future__
import ast
import builtins
import copy
import dis
import inspect
import linecache
import textwrap
import types
from dataclasses import dataclass, field

from .errors import SourceNotFoundError, UnsupportedSyntaxError
from .verbose import paused_gc


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


# (id(code), file name) -> (code, Source).  Keyed by the code object's
# identity and file: code objects compare equal across files with the same
# text, and one file's source must never serve another's function.  The
# entry holds the code object, so its id is not reused while cached.
_cache: dict = {}


def parse_function(fn, generator=False) -> Source:
    """The parsed source of ``fn``, verified to be the source of the code that
    runs (:func:`_verify`): a file edited on disk after the function was
    defined is refused, never differentiated in place of the running code.
    ``generator``: a generator function is accepted, its body rewritten to
    return the list of what it yields (helpers iterated by a ``for`` loop:
    ``for W, b in layers(params):``).  (Without cyclic garbage collection,
    as compiling: the syntax tree is tens of thousands of objects that stay
    alive -- s2sgrad.verbose.paused_gc.)"""
    code = getattr(fn, "__code__", None)
    if code is not None:
        key = (id(code), code.co_filename)
        hit = _cache.get(key)
        if hit is not None and hit[0] is code and generator is False:
            src = hit[1]            # (the common case: read before, no pause)
            return Source(fn, src.node, src.filename, src.lines)
    with paused_gc():
        return _parse_function(fn, generator)


def _parse_function(fn, generator=False) -> Source:
    code = getattr(fn, "__code__", None)
    if code is None:
        raise TypeError(f"s2sgrad can only differentiate Python functions, got {fn!r}")
    if generator is True and code.co_flags & inspect.CO_GENERATOR:
        key = (id(code), code.co_filename, "yielded")
        hit = _cache.get(key)
        if hit is None or hit[0] is not code:
            from .lower.syntax import generator_as_list
            src = parse_function(fn, generator="parse")
            hit = _cache[key] = (code, Source(fn, generator_as_list(src.node), src.filename,
                                              src.lines))
        src = hit[1]
        return Source(fn, src.node, src.filename, src.lines)
    key = (id(code), code.co_filename)
    hit = _cache.get(key)
    if hit is not None and hit[0] is code and generator != "parse":
        src = hit[1]
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
    # a wrapper made by functools.wraps carries the wrapped function's names
    # and __wrapped__ (which inspect follows): its source is read by its code
    fn_named = fn
    if "__wrapped__" in getattr(fn, "__dict__", {}):
        fn = _as_its_code(fn, code)
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
    abs_lines = {start + i: ln.rstrip("\n") for i, ln in enumerate(lines)}
    try:
        text = textwrap.dedent("".join(lines))
        tree = _parse_fragment(text, filename, start)
        ast.increment_lineno(tree, start - 1)
        node = _find_node(tree, fn, code, filename)
        _verify(fn, code, node, filename)
    except SourceNotFoundError:
        # a lambda whose line is part of a statement spanning lines, or one of
        # several lambdas on it: found in the whole file
        node = _module_lambda(code, filename) if name == "<lambda>" else None
        if node is None:
            raise
        _verify(fn, code, node, filename)
    src = Source(fn_named, node, filename, abs_lines)
    if generator != "parse":
        _cache[key] = (code, src)
    return src


def _as_its_code(fn, code):
    """A function object for reading ``fn``'s source: its code, globals,
    defaults and closure, with the names of its code (not those
    ``functools.wraps`` copied from the wrapped function)."""
    view = types.FunctionType(code, fn.__globals__, code.co_name, fn.__defaults__,
                              fn.__closure__)
    view.__kwdefaults__ = fn.__kwdefaults__
    view.__qualname__ = getattr(code, "co_qualname", fn.__qualname__)
    return view


# ---------------------------------------------------------------- the source is the running code

_FUTURE_FLAGS = 0
for _f in __future__.all_feature_names:
    _FUTURE_FLAGS |= getattr(__future__, _f).compiler_flag


def _verify(fn, code, node, filename):
    """Refuse unless ``node`` compiles to ``code``: the source read from disk
    (or linecache) is the source of the function that runs.  The node is
    compiled inside synthetic scopes rebuilt from ``fn.__qualname__`` (the
    enclosing classes, for name mangling and ``super()``; an enclosing
    function binding the closure's free variables), so the compiled code
    object matches the real one exactly when the text is the same."""
    try:
        compiled = _compile_like(node, code, fn, filename)
    except SyntaxError:
        compiled = None
    if compiled is not None and _same_code(compiled, code):
        return
    if "@py_builtins" in (getattr(fn, "__globals__", None) or {}):
        # a module pytest imported (a test file, conftest): its assert
        # statements were rewritten before compiling, so the same rewriting
        # is applied to the source read here before comparing
        try:
            compiled = _compile_like(copy.deepcopy(node), code, fn, filename,
                                     pytest_rewrite=True)
        except Exception:      # pytest's rewriter missing or changed: not verified
            compiled = None
        if compiled is not None and _same_code(compiled, code):
            return
    name = getattr(fn, "__name__", "<function>")
    raise SourceNotFoundError(
        f"the source of '{name}' in {filename} no longer matches the code that runs (the file "
        f"was changed after the function was defined?); s2sgrad differentiates the running "
        f"function only: reload the module (importlib.reload) or re-run its definition",
        filename=filename, lineno=code.co_firstlineno)


# Python 3.12+ nodes have type parameters (older ones must not be given any)
_TYPE_PARAMS = {"type_params": []} if "type_params" in ast.ClassDef._fields else {}


def _compile_like(node, code, fn, filename, pytest_rewrite=False):
    body = node if not isinstance(node, ast.Lambda) else ast.Expr(value=node)
    scopes = [p for p in getattr(fn, "__qualname__", "").split(".")[:-1]]
    # from the inside out: "<locals>" marks a function scope, other names classes
    stmt = body
    k = len(scopes) - 1
    while k >= 0:
        part = scopes[k]
        if part == "<locals>":
            k -= 2                      # the function owning these locals
            continue
        stmt = ast.ClassDef(name=part, bases=[], keywords=[], body=[stmt], decorator_list=[],
                            **_TYPE_PARAMS)
        k -= 1
    free = [n for n in code.co_freevars if n != "__class__"]
    if free:
        assigns = [ast.Assign(targets=[ast.Name(id=n, ctx=ast.Store())],
                              value=ast.Constant(value=None)) for n in free]
        stmt = ast.FunctionDef(name="__s2sgrad_scope__", args=ast.arguments(
            posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
            defaults=[]), body=assigns + [stmt], decorator_list=[], returns=None,
            **_TYPE_PARAMS)
    # Python 3.11 loads a method of a module-level name bound by an import
    # (``np.sum(x)``) as an attribute, of any other name with LOAD_METHOD:
    # the names of modules the function reads are imported here as in its
    # module, so the compiled code is usually equal to the running code, the
    # comparison that needs no disassembly (_same_code: its fingerprints do
    # not tell the two loads apart, so a name guessed wrong changes nothing
    # but the time; 0.2 s of a 1,000-line function)
    imports = [ast.Import(names=[ast.alias(name="sys", asname=n)])
               for n in _module_globals(fn, code)]
    mod = ast.Module(body=imports + [stmt], type_ignores=[])
    _fill_locations(mod, node.lineno, parsed=node)
    if pytest_rewrite:
        from _pytest.assertion.rewrite import rewrite_asserts
        text = "".join(linecache.getlines(filename))
        rewrite_asserts(mod, text.encode("utf-8"), filename)
    top = compile(mod, filename, "exec", flags=code.co_flags & _FUTURE_FLAGS,
                  dont_inherit=True)
    return _find_code(top, code.co_name, code.co_firstlineno)


def _module_globals(fn, code):
    """The global names ``code`` (nested code included) reads that hold
    modules, in order of first use."""
    g = getattr(fn, "__globals__", None)
    if not isinstance(g, dict):
        return []
    out: dict = {}
    todo = [code]
    while todo:
        co = todo.pop()
        for n in co.co_names:
            if n not in out and isinstance(g.get(n), types.ModuleType):
                out[n] = None
        todo.extend(c for c in co.co_consts if isinstance(c, types.CodeType))
    return list(out)


def _fill_locations(tree, lineno, parsed=None):
    """Locations for the nodes made here (the synthetic scopes); the nodes
    under ``parsed``, which the parser made, have theirs and are not walked."""
    todo = [tree]
    while todo:
        n = todo.pop()
        if n is parsed:
            continue
        if "lineno" in n._attributes and not hasattr(n, "lineno"):
            n.lineno = n.end_lineno = lineno
            n.col_offset = n.end_col_offset = 0
        todo.extend(ast.iter_child_nodes(n))


def _find_code(co, name, firstlineno):
    for c in co.co_consts:
        if isinstance(c, types.CodeType):
            if c.co_name == name and c.co_firstlineno == firstlineno:
                return c
            found = _find_code(c, name, firstlineno)
            if found is not None:
                return found
    return None


def _same_code(a, b):
    """The same instructions (modulo how the compiler chose to load a name or
    a method, which depends on the enclosing module's symbol table), names,
    constants (nested code objects alike) and line numbers.  (Code objects
    equal as Python compares them -- bytecode, constants by type and value,
    nested code alike, names, line table, first line -- have the same
    fingerprint: the common case, decided without disassembling both.)"""
    if a == b:
        return True
    return a.co_firstlineno == b.co_firstlineno and a.co_varnames == b.co_varnames and \
        _fingerprint(a) == _fingerprint(b)


# instructions that set up frames, cells and call conventions: they differ
# with the enclosing scopes, not with the function's text
_SKIP_OPS = {"RESUME", "NOP", "CACHE", "EXTENDED_ARG", "COPY_FREE_VARS", "MAKE_CELL",
             "PUSH_NULL", "PRECALL"}
_SAME_OPS = {"LOAD_METHOD": "LOAD_ATTR", "LOAD_GLOBAL": "LOAD_VAR", "LOAD_DEREF": "LOAD_VAR",
             "LOAD_NAME": "LOAD_VAR", "LOAD_CLASSDEREF": "LOAD_VAR", "CALL_METHOD": "CALL",
             "CALL_FUNCTION": "CALL"}


def _fingerprint(co, depth=0):
    out = []
    line = co.co_firstlineno
    instructions = list(dis.get_instructions(co))
    for k, ins in enumerate(instructions):
        if ins.opname == "LOAD_CONST" and isinstance(ins.argval, str) and \
                k + 1 < len(instructions) and instructions[k + 1].opname == "MAKE_FUNCTION":
            continue    # Python 3.10: a nested function's qualified name, which names
            #             the enclosing functions the synthetic scopes leave out
        pos = getattr(ins, "positions", None)
        if pos is not None and pos.lineno is not None:
            line = pos.lineno
        elif getattr(ins, "starts_line", None) not in (None, False, True):
            line = ins.starts_line
        op = ins.opname
        if op in _SKIP_OPS:
            continue
        op = _SAME_OPS.get(op, op)
        arg = ins.argval
        if isinstance(arg, types.CodeType):
            arg = _fingerprint(arg, depth + 1) if depth < 50 else None
        elif ins.opcode in dis.hasjrel or ins.opcode in dis.hasjabs:
            arg = None
        else:
            arg = (type(arg).__name__, repr(arg))
        out.append((op, arg, line))
    return out


def _parse_fragment(text, filename, start):
    """Parse a function's source; a lambda's line may be a fragment of a larger
    expression, so retry on shrinking/wrapped variants before giving up."""
    for t in _attempts(text):
        try:
            return ast.parse(t)
        except SyntaxError:
            continue
    raise SourceNotFoundError("cannot parse the source of the function defined here; "
                              "define it with 'def' on lines of its own", filename=filename,
                              lineno=start)


def _attempts(text):
    """The texts :func:`_parse_fragment` tries, in order (made one at a time:
    a list of them all copies the text once per closing bracket or comma --
    quadratic in the function's length, ~0.2 s at 1,000 lines)."""
    yield text
    stripped = text.strip()
    yield "(" + stripped + ")"
    # "f = grad(lambda x: x ** 2)" style fragments: trim trailing junk.
    for cut in range(len(stripped), 0, -1):
        if stripped[cut - 1] in ")],":
            yield stripped[:cut - 1]


def _module_lambda(code, filename):
    """A lambda's node, found in its whole file: a lambda's line may be part of
    a statement spanning lines (a dict of lambdas), and several lambdas with
    the same parameters may share it -- the one whose columns hold the
    columns of ``code``'s instructions is it.  None when the file does not
    parse or the lambda is not found (the fragment is parsed instead)."""
    text = "".join(linecache.getlines(filename))
    if not text:
        return None
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    want = list(code.co_varnames[:code.co_argcount + code.co_kwonlyargcount])
    line = code.co_firstlineno
    cands = [n for n in ast.walk(tree) if isinstance(n, ast.Lambda) and n.lineno == line and
             [a.arg for a in n.args.posonlyargs + n.args.args + n.args.kwonlyargs] == want]
    if len(cands) > 1 and hasattr(code, "co_positions"):
        cols = [(ln, c, ec) for ln, _, c, ec in code.co_positions()
                if ln is not None and c is not None and ec is not None and ec > c]

        def holds(n):
            return all((n.lineno, n.col_offset) <= (ln, c) and
                       (ln, ec) <= (n.end_lineno, n.end_col_offset) for ln, c, ec in cols)
        inner = [n for n in cands if holds(n)]
        # the innermost lambda holding them all (an enclosing one holds them too)
        cands = sorted(inner, key=lambda n: (n.col_offset, -n.end_col_offset))[-1:] \
            if cols else cands
    return cands[0] if len(cands) == 1 else None


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
