"""The computation graph as a picture: ``s2sgrad.graph(f)``.

    g = s2sgrad.graph(f)                      # the primitives of f and the values between them
    g = s2sgrad.graph(f)(-2.0, 5.0, -4.0)     # ... each value and its gradient at that point
    g = s2sgrad.graph(f, args=(-2.0, 5.0, -4.0), backward=True)   # the adjoint program
    g.dot                                     # Graphviz text
    g.svg()                                   # rendered by Graphviz's `dot` program
    g.save("f.svg")                           # or "f.dot"; notebooks show g itself

A view of the IR (:mod:`s2sgrad.ir`), as the lecture notes draw circuits:
every node is one primitive (``+``, ``*``, ``exp``, ``sum``, ``@``, an
index ``·[0]``; constant operands are written into the node, ``· + 1``),
every edge one value, named as in the generated source.  The parameters
are the inputs on the left, the function's result is the output on the
right.  Loops and branches stay structured, as clusters (never unrolled):
a loop's header node receives the initial values and the values of the
next iteration (dashed edges) and gives the final ones; a branch's ``if``
node receives the condition, its two arms are sub-clusters, and an ``end
if`` node joins their results.

Called with arguments (``graph(f, args=...)`` or ``graph(f)(*args)``), every
edge outside a loop body carries its value (``q = 3``) and, when ``f`` has a
scalar output, its gradient ``∂f/∂q`` in red, as in the notes' circuit
diagrams: the derivative of the output with respect to that value, all
uses of the value included (gradients add at branches).  Inside a loop
values change per iteration, so those edges show names only; the branch
that ran is drawn solid, the other dashed.  The values come from running
generated code (the gradient program with every top-level value returned):
the same numbers ``grad(f)`` computes.  ``backward=True`` draws the adjoint
program that ``grad(f, wrt=...).generic_source`` prints, the same way
(values only: its edges are the cotangents).

Nothing here needs Graphviz except :meth:`Graph.svg` (and ``save`` of an
``.svg``/``.png``), which runs the ``dot`` program and says how to install
it when it is missing.
"""
from __future__ import annotations

import ast
import html
import os
import re
import shutil
import subprocess

import numpy as np

from . import pytree
from .api import GradFunction, _Transformed, _check_diff_leaf
from .codegen import print_function
from .errors import OutputError, S2SGradError
from .ir import Const, Func, Var
from .primitives import printing
from .primitives.control import loop_offset
from .reverse import grad_func

__all__ = ["graph", "Graph"]

_VALUE = "#1b6e2f"        # forward values: dark green
_GRAD = "#c0392b"         # gradients: red


class Graph:
    """A drawing of a function's computation graph (see the module docstring)."""

    def __init__(self, dot: str, fn, options: dict):
        self.dot = dot
        self._fn = fn
        self._options = options

    def __call__(self, *args, **kwargs) -> "Graph":
        """The same graph with every value and gradient at ``args``."""
        opts = dict(self._options, args=args, kwargs=kwargs)
        return graph(self._fn, **opts)

    def svg(self) -> str:
        """The picture as SVG text, rendered by Graphviz's ``dot`` program."""
        return self._render("svg").decode("utf-8")

    def _render(self, fmt: str) -> bytes:
        exe = shutil.which("dot")
        if exe is None:
            raise RuntimeError("rendering the graph needs Graphviz's 'dot' program, which is "
                               "not installed (apt install graphviz, brew install graphviz, "
                               "conda install graphviz); the Graphviz text is in .dot, or "
                               "save(path) with a .dot file name")
        proc = subprocess.run([exe, f"-T{fmt}"], input=self.dot.encode("utf-8"),
                              capture_output=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"dot failed: {proc.stderr.decode(errors='replace')}")
        return proc.stdout

    def save(self, path) -> None:
        """Write the graph to ``path``: Graphviz text for ``.dot``/``.gv``,
        else rendered in the format its suffix names (``.svg``, ``.png``, ...)."""
        path = os.fspath(path)
        fmt = os.path.splitext(path)[1].lstrip(".").lower() or "dot"
        if fmt in ("dot", "gv"):
            with open(path, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(self.dot)
            return
        with open(path, "wb") as fh:
            fh.write(self._render(fmt))

    def _repr_svg_(self):
        if shutil.which("dot") is None:
            return None             # notebooks fall back to the text repr
        return self.svg()

    def __repr__(self):
        return self.dot


def graph(f, *, wrt=None, args=None, kwargs=None, backward=False) -> Graph:
    """The computation graph of ``f`` (a function, or ``grad(f)`` & co.:
    then its function and ``wrt``).

    ``wrt``: the arguments whose gradients the backward program computes
    (default: with ``args``, every float argument; without, every
    argument).  ``args`` (a tuple, or a dict of keyword arguments) and
    ``kwargs``: annotate every edge with its value and gradient at these
    arguments (``graph(f)(*args, **kwargs)`` does the same).
    ``backward=True``: draw the adjoint program instead.
    """
    fn = f
    if isinstance(f, _Transformed):
        if wrt is None:
            wrt = f.wrt[0] if f._single else tuple(f.wrt)
        fn = f.fn
        if isinstance(fn, _Transformed):
            raise S2SGradError("graph draws a function or one transformation of it, not a "
                               "transformation of a transformation")
    options = dict(wrt=wrt, backward=backward)
    if isinstance(args, dict):          # graph(f, args={"x": -2.0, ...})
        args, kwargs = (), {**args, **(kwargs or {})}
    given = args is not None or kwargs is not None
    args, kwargs = tuple(args or ()), dict(kwargs or {})
    probe = GradFunction(fn, wrt=0)
    if given:
        bound = probe._bind(args, kwargs)
        if wrt is None:
            wrt = tuple(i for i, (_, v) in enumerate(bound) if _differentiable(v))
            if not wrt:
                wrt = None
        tf = GradFunction(fn, wrt=wrt if wrt is not None else 0)
        specs = tf._specs(bound)
        leaves = tf._leaves(bound, specs)
    else:
        if wrt is None:
            wrt = tuple(range(len(probe._sig.parameters))) or 0
        tf = GradFunction(fn, wrt=wrt)
        specs, leaves = tf._default_specs(), None
    return Graph(_Drawing(tf, specs, leaves, backward, given and wrt is not None).dot(), fn,
                 options)


def _differentiable(v):
    if v is None:
        return False
    try:
        for leaf in pytree.flatten(v)[0]:
            _check_diff_leaf(leaf, "")
    except Exception:              # noqa: BLE001 -- not a float argument
        return False
    return True


# ---------------------------------------------------------------- the drawing


class _Drawing:
    def __init__(self, tf, specs, leaves, backward, with_grads):
        self.tf = tf
        self.fn_name = tf.fn.__name__ if tf.fn.__name__ != "<lambda>" else "f"
        primal = tf._primal(specs)
        self.out_tree = primal.info["out_tree"]
        ranges = tf._param_leaf_ranges(specs)
        self.wrt_leaves = [i for w in tf.wrt for i in range(*ranges[w])]
        self.backward = backward
        self.note = ""
        self.values: dict = {}
        self.grads: dict = {}
        scalar = self.out_tree.kind == "leaf"
        if backward:
            if not scalar:
                raise OutputError(f"'{tf.fn.__name__}' does not return a scalar: the backward "
                                  f"program of grad needs one")
            self.func = tf._compiled(specs).func
            if leaves is not None:
                self.values = _evaluate(self.func, tf._globals(), leaves)
        else:
            self.func = primal
            if leaves is not None:
                g = None
                if with_grads and scalar:
                    try:
                        g = grad_func(primal, self.wrt_leaves, [0], keep_values=True,
                                      hoist=False)
                    except S2SGradError as exc:     # draw the values, say why no gradients
                        self.note = f"no gradients: {exc}"
                if g is not None:
                    found = _evaluate(g, tf._globals(), leaves)
                    self.values = found
                    self.grads = _adjoints(g, primal, found)
                else:
                    self.values = _evaluate(primal, tf._globals(), leaves)
        # names as the generated source prints them
        copy = Func(self.func.name, list(self.func.params), self.func.body,
                    list(self.func.results), self.func.filename, dict(self.func.info))
        self.cg = print_function(copy, tf._globals())
        self.lines: list = []
        self.edges: list = []
        self.defs: dict = {}         # Var -> its equation (operations only)
        self.ids: dict = {}          # Var -> the node that produces it
        self.count = 0
        self.taken: dict = {}        # cond eqn -> branch that ran ("then"/"else")

    # ------------------------------------------------------------ helpers

    def node_id(self):
        self.count += 1
        return f"n{self.count}"

    def name(self, v):
        return self.cg.namer.name(v)

    def edge_label(self, v, out_name=None):
        name = out_name or self.name(v)
        if v not in self.values:
            return f'"{_esc(name)}"'
        parts = [f'<font color="{_VALUE}">{html.escape(name)} = '
                 f'{_html_value(self.values[v])}</font>']
        if v in self.grads:
            parts.append(f'<font color="{_GRAD}">∂{html.escape(self.fn_name)}/∂'
                         f'{html.escape(name)} = {_html_value(self.grads[v])}</font>')
        return "<" + "<br/>".join(parts) + ">"

    def edge(self, v, dst, indent, extra="", out_name=None):
        src = self.ids.get(v)
        if src is None:
            return
        attrs = f"label={self.edge_label(v, out_name)}"
        tip = self.tooltip(v, out_name)
        if tip:
            attrs += f', tooltip="{_esc(tip)}"'
        # edges go after every node and cluster: an edge written inside a
        # cluster would pull its end nodes into that cluster
        self.edges.append(f"  {src} -> {dst} [{attrs}{extra}];")

    def tooltip(self, v, out_name=None):
        if v not in self.values:
            return ""
        name = out_name or self.name(v)
        tip = f"{name} = {_plain_value(self.values[v])}"
        if v in self.grads:
            tip += f"; d{self.fn_name}/d{name} = {_plain_value(self.grads[v])}"
        return tip

    # ------------------------------------------------------------ the graph

    def dot(self) -> str:
        f = self.func
        title = f"{self.fn_name}" + (" (backward)" if self.backward else "")
        self.lines = [f'digraph "{_esc(title)}" {{',
                      "  rankdir=LR;",
                      '  node [fontname="Helvetica", fontsize=12];',
                      '  edge [fontname="Helvetica", fontsize=10];',
                      f'  label="{_esc(self._caption())}"; labelloc=t; fontname="Helvetica";']
        for p in f.params:
            nid = self.node_id()
            self.ids[p] = nid
            self.lines.append(f'  {nid} [label="{_esc(self.name(p))}", shape=plaintext, '
                              f'fontsize=14];')
        if len(f.params) > 1:          # the inputs in one column, on the left
            self.lines.append("  { rank=source; " + " ".join(self.ids[p] for p in f.params)
                              + " }")
        self.block(f.body.eqns, "  ")
        names = pytree.leaf_paths(self.out_tree, self.fn_name) if not self.backward \
            else [self.name(r) if isinstance(r, Var) else str(r.value) for r in f.results]
        if not self.backward and len(names) > 1:
            names = [f"{self.fn_name}[{i}]" for i in range(len(names))]
        for k, r in enumerate(f.results):
            nid = self.node_id()
            self.lines.append(f'  {nid} [label="{_esc(names[k])}", shape=box, style=rounded, '
                              f'peripheries=2, fontsize=14];' if not self.backward else
                              f'  {nid} [label="{_esc(names[k])}", shape=plaintext, '
                              f'fontsize=14];')
            if isinstance(r, Var):
                self.edge(r, nid, "  ", out_name=names[k] if not self.backward else None)
        if self.values:
            legend = (f'<<font color="{_VALUE}">value</font>' +
                      (f'<br/><font color="{_GRAD}">gradient ∂{html.escape(self.fn_name)}'
                       f'/∂value</font>' if self.grads else "") + ">")
            self.lines.append(f"  legend [label={legend}, shape=note, fontsize=10];")
        self.lines += self.edges
        self.lines.append("}")
        return "\n".join(self.lines) + "\n"

    def _caption(self):
        tf = self.tf
        code = getattr(tf.fn, "__code__", None)
        where = f"{os.path.basename(code.co_filename)}:{code.co_firstlineno}" if code else ""
        what = "backward program of " if self.backward else ""
        note = f"\n{_short(self.note, 100)}" if self.note else ""
        return f"{what}{tf.fn.__name__} ({where}){note}"

    def block(self, eqns, indent):
        for e in eqns:
            if e.prim.name == "cond":
                self.cond(e, indent)
            elif e.prim.name in ("for_loop", "while_loop"):
                self.loop(e, indent)
            else:
                self.op(e, indent)

    def op(self, e, indent):
        nid = self.node_id()
        if e.prim.name in ("load_global", "load_cell"):
            kind = "global" if e.prim.name == "load_global" else "closure"
            self.lines.append(f'{indent}{nid} [label="{_esc(e.params["name"])} ({kind})", '
                              f'shape=plaintext, fontsize=14];')
        else:
            self.lines.append(f'{indent}{nid} [label="{_esc(self.op_label(e))}", '
                              f'shape={"circle" if len(self.op_label(e)) <= 3 else "ellipse"}, '
                              f'tooltip="{_esc(self.tip_line(e))}"];')
        for o in e.outs:
            self.defs[o] = e
        seen = set()
        for a in e.atoms():
            if isinstance(a, Var) and a not in seen:
                seen.add(a)
                self.edge(a, nid, indent)
        for o in e.outs:
            self.ids[o] = nid

    def tip_line(self, e):
        if e.loc is None:
            return e.prim.name
        return f"{os.path.basename(e.loc.filename)}:{e.loc.lineno}: {e.loc.text}"

    def op_label(self, e):
        """The primitive as the notes draw it: a symbol or a name; constant
        operands written in (``· + 1``, ``sum(·, axis=1)``, ``·[0]``)."""
        p = e.prim
        if p.name == "getitem" or any(isinstance(a, Const) for a in e.atoms()) or \
                e.params.get("spelling") and e.params["spelling"][0] == "attr":
            args = [ast.Name(id="·", ctx=ast.Load()) if isinstance(a, Var) else self.cg.atom(a)
                    for a in e.args]
            kwargs = {k: ast.Name(id="·", ctx=ast.Load()) if isinstance(v, Var)
                      else self.cg.atom(v) for k, v in e.kwargs.items()}
            try:
                text = ast.unparse(printing.get_printer(p)(args, kwargs, e))
            except Exception:       # noqa: BLE001 -- a printer that needs codegen state
                text = p.name
            return re.sub(r"\bnp\.", "", text)
        printer = printing.get_printer(p)
        if getattr(printer, "operator", False) and e.params.get("spelling") != ("func",):
            args = [ast.Name(id="·", ctx=ast.Load()) for _ in e.args]
            return ast.unparse(printer(args, {}, e)).replace("·", "").replace(" ", "")
        return p.name

    def cond(self, e, indent):
        then, other = e.params["then"], e.params["else"]
        cid = self.node_id()
        head, join = self.node_id(), self.node_id()
        text = self.cond_text(e)
        self.lines.append(f"{indent}subgraph cluster_{cid} {{")
        inner = indent + "  "
        self.lines.append(f'{inner}label="{_esc(_short(text))}"; style=rounded; '
                          f'color="#777777";')
        self.lines.append(f'{inner}{head} [label="if", shape=diamond];')
        self.edge(e.args[0], head, inner)
        taken = None
        pred = e.args[0]
        if isinstance(pred, Var) and pred in self.values:
            taken = "then" if bool(np.asarray(self.values[pred]).reshape(-1)[0]) else "else"
        elif isinstance(pred, Const):
            taken = "then" if pred.value else "else"
        for arm, blk in (("then", then), ("else", other)):
            sid = self.node_id()
            style = "dashed" if taken is not None and taken != arm else "solid"
            note = " (not taken)" if style == "dashed" else ""
            self.lines.append(f"{inner}subgraph cluster_{sid} {{")
            self.lines.append(f'{inner}  label="{arm}{note}"; style={style};')
            anchor = self.node_id()
            self.lines.append(f'{inner}  {anchor} [label="", shape=point];')
            self.edges.append(f"  {head} -> {anchor} [style=dotted, arrowhead=none];")
            self.block(blk.eqns, inner + "  ")
            self.lines.append(f"{inner}}}")
            for r in blk.results:
                if isinstance(r, Var):
                    self.edge(r, join, inner, ", style=dashed" if style == "dashed" else "")
        self.lines.append(f'{inner}{join} [label="end if", shape=box, style=rounded];')
        self.lines.append(f"{indent}}}")
        for o in e.outs:
            self.ids[o] = join

    def cond_text(self, e):
        """The ``if`` line of a branch: where its condition was computed."""
        pred = e.args[0]
        for loc in [self.defs[pred].loc if pred in self.defs else None, e.loc]:
            if loc is not None and loc.text.lstrip().startswith(("if ", "elif ", "while ")):
                return f"{_header(loc.text)} (line {loc.lineno})"
        return "if" + (f" (line {e.loc.lineno})" if e.loc else "")

    def loop(self, e, indent):
        body = e.params["body"]
        off = loop_offset(e)
        cid, head = self.node_id(), self.node_id()
        text = f"{_header(e.loc.text)} (line {e.loc.lineno})" if e.loc else e.prim.name
        self.lines.append(f"{indent}subgraph cluster_{cid} {{")
        inner = indent + "  "
        self.lines.append(f'{inner}label="{_esc(_short(text))}"; style=rounded; '
                          f'color="#777777";')
        if e.prim.name == "for_loop":
            label = f"for {self.name(body.params[0])}" + (" (reversed)" if e.params.get(
                "reverse") else "")
        else:
            label = "while"
        self.lines.append(f'{inner}{head} [label="{_esc(label)}", shape=box];')
        for a in e.args:
            if isinstance(a, Var):
                self.edge(a, head, inner)
        for p in body.params:
            self.ids[p] = head
        if e.prim.name == "while_loop":
            cond = e.params["cond"]
            for p in cond.params:
                self.ids[p] = head
            self.block(cond.eqns, inner)
            if isinstance(cond.results[0], Var):
                self.edge(cond.results[0], head, inner, ", style=dashed")
        self.block(body.eqns, inner)
        for r in body.results:
            if isinstance(r, Var):
                self.edge(r, head, inner, ', style=dashed, constraint=false, xlabel="next"')
        self.lines.append(f"{indent}}}")
        del off
        for o in e.outs:
            self.ids[o] = head


def _header(text):
    """``for t in range(n)`` of the one-line summary ``for t in range(n): h = ...``."""
    text = " ".join(text.split())
    return text.split(": ", 1)[0].rstrip(":")


def _short(text, n=60):
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n - 3] + "..."


def _esc(s):
    return str(s).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


# ---------------------------------------------------------------- values


def _evaluate(func, globals_, leaves):
    """Every top-level value of ``func`` at ``leaves``: ``func`` compiled with
    all of them as results, and run."""
    from .codegen import generate
    wanted = list(func.params)
    for e in func.body.eqns:
        wanted += [o for o in e.outs]
    probe = Func(f"{func.name}_values", list(func.params), func.body, wanted, func.filename,
                 {k: v for k, v in func.info.items() if k not in ("examples", "tuple_result")})
    probe.info["tuple_result"] = True
    out = generate(probe, globals_).fn(*leaves)
    return {v: x for v, x in zip(wanted, out)}


def _adjoints(g, primal, values):
    """primal Var -> its gradient: the last adjoint the backward sweep
    defines at the top level (all uses summed), or the seed for the output."""
    adj = {}
    seed = None
    for e in g.body.eqns:
        for o in e.outs:
            if o.bar_of is not None and o.hint == "_bar":
                adj[o.bar_of] = o
            if e.prim.name == "scalar_seed":
                seed = o
    out = {}
    for v, a in adj.items():
        if a in values:
            out[v] = values[a]
    r = primal.results[0] if primal.results else None
    if isinstance(r, Var) and r not in out and r in values:
        # the output's own gradient: the seed, 1 (some seeds are folded into constants)
        out[r] = values[seed] if seed is not None and seed in values else \
            np.ones_like(values[r])[()]
    wrt = [primal.params[i] for i in g.info.get("wrt", ())]
    nvals = len(primal.results)
    for p, res in zip(wrt, g.results[nvals:]):
        if isinstance(res, Var) and res in values:
            out[p] = values[res]
    return out


def _number(x):
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    return f"{float(x):.4g}"


def _plain_value(v):
    if isinstance(v, (int, float, np.number, np.bool_)) or (isinstance(v, np.ndarray)
                                                             and v.ndim == 0):
        return _number(np.asarray(v).reshape(()).item() if isinstance(v, np.ndarray) else v)
    if isinstance(v, np.ndarray) and v.dtype.kind in "fiub":
        if v.size <= 6:
            return _nested(v.tolist())
        return f"{v.dtype} array {tuple(v.shape)}"
    if isinstance(v, tuple) and len(v) <= 6 and all(isinstance(x, (int, float, np.number))
                                                   for x in v):
        return "(" + ", ".join(_number(x) for x in v) + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, range):
        return f"range({v.start}, {v.stop})" if v.step == 1 else repr(v)
    return type(v).__name__


def _nested(x):
    if isinstance(x, list):
        return "[" + ", ".join(_nested(y) for y in x) + "]"
    return _number(x)


def _html_value(v):
    if isinstance(v, np.ndarray) and v.ndim == 2 and v.size <= 6 and v.dtype.kind in "fiub":
        rows = ["[" + ", ".join(_number(x) for x in row) + "]" for row in v.tolist()]
        return "[" + "<br/>".join(html.escape(r) for r in rows) + "]"
    return html.escape(_plain_value(v))
