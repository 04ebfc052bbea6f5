"""Deterministic stratified sampling of the slow sweeps (CI time).

The default test run (the README's ``python -m pytest -q``) checks a sample
of each large sweep of generated or ported cases; the rest of the sweep is
marked ``slow`` and deselected.  ``S2SGRAD_FULL_TESTS=1 python -m pytest``
runs every case, and ``python -m pytest -m slow`` only the ones the default
run leaves out (:mod:`tests.conftest`).

A sample keeps, for every *stratum* of the sweep, at least one case in it:
a case's strata are what it exercises -- its area, every function it calls,
every literal option it passes (``np.pad|mode='reflect'``), every operator
and statement kind, its arguments' kinds (float32, complex, Python scalar).
A case named by ``always`` (the forms that found bugs) is always kept.  On
top of that, every case whose id hashes (crc32, the same in every process)
to 0 modulo ``stride`` is kept.  The choice depends only on the ids and the
strata, never on the order of collection or on the process, and
``tests/test_ci_sampling.py`` checks that each registered sample covers
every stratum of its sweep.
"""
from __future__ import annotations

import ast
import heapq
import os
import zlib

import numpy as np
import pytest

FULL = os.environ.get("S2SGRAD_FULL_TESTS", "") not in ("", "0")

# every sample made in this process: name -> Sample (for tests/test_ci_sampling.py)
REGISTRY: dict = {}


class Sample:
    """One sweep's sample: ``items``, their ``ids``, their ``strata`` (a
    frozenset per item), ``kept`` (a bool per item), and the ``stride`` and
    ``always`` it was chosen with."""

    def __init__(self, name, items, ids, strata, kept, stride, always):
        self.name, self.items, self.ids, self.strata, self.kept = name, items, ids, strata, kept
        self.stride, self.always = stride, tuple(always)

    def covered(self):
        return set().union(*(s for s, k in zip(self.strata, self.kept) if k)) \
            if any(self.kept) else set()

    def all_strata(self):
        return set().union(*self.strata) if self.strata else set()


def choose(ids, strata, *, stride, always=(), salt=""):
    """``kept``: a bool per item.  Items named by ``always`` (a substring of
    the id) and, with a ``stride``, those whose crc32 (of ``salt`` + id) is 0
    modulo ``stride``; then, while a stratum is covered by no kept item, the
    item covering the most such strata (ties: the smallest crc32, then the
    id) -- a greedy set cover, so every stratum of the sweep has a case in
    the sample."""
    h = [zlib.crc32(f"{salt}{i}".encode()) for i in ids]
    kept = [bool(stride) and h[k] % stride == 0 or any(a in ids[k] for a in always)
            for k in range(len(ids))]
    covered = set()
    for k, s in enumerate(strata):
        if kept[k]:
            covered |= s
    # (lazily: a gain only falls as the cover grows, so a stale heap entry
    # is a bound, and an entry still least once refreshed is the least)
    heap = [(-len(strata[k] - covered), h[k], ids[k], k) for k in range(len(ids))
            if not kept[k] and strata[k] - covered]
    heapq.heapify(heap)
    while heap:
        _, hk, ik, k = heapq.heappop(heap)
        gain = len(strata[k] - covered)
        if not gain:
            continue
        if heap and (-gain, hk, ik) > heap[0][:3]:
            heapq.heappush(heap, (-gain, hk, ik, k))
            continue
        kept[k] = True
        covered |= strata[k]
    return kept


def params(name, items, *, ids, strata, stride=None, always=()):
    """``pytest.param``s for every item of a sweep, the ones the sample
    leaves out marked ``slow`` (deselected by default); registers the sample
    under ``name``.  ``ids`` and ``strata`` are functions of an item."""
    items = list(items)
    id_list = [ids(x) for x in items]
    assert len(set(id_list)) == len(id_list), f"{name}: duplicate ids in the sweep"
    st = [frozenset(strata(x)) for x in items]
    kept = choose(id_list, st, stride=stride, always=always, salt=name)
    REGISTRY[name] = Sample(name, items, id_list, st, kept, stride, always)
    return [pytest.param(x, id=i, marks=() if k else (pytest.mark.slow,))
            for x, i, k in zip(items, id_list, kept)]


# ------------------------------------------------------------------ strata of source text


def _dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    else:
        parts.append("")                   # a method of an expression: ".sum"
    return ".".join(reversed(parts))


def source_strata(src):
    """What a function's source exercises: each callee (dotted name), each
    keyword passed to it (``callee|axis``), with its value when that is a
    string, a bool or None (``callee|mode='reflect'``, the options that pick
    another branch of a rule), each string positional argument
    (``callee|'ortho'``), each operator, comparison and statement kind."""
    out = set()
    try:
        tree = ast.parse(src)
    except SyntaxError:
        return {"unparsed"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            callee = _dotted(node.func)
            out.add(f"call:{callee}")
            for kw in node.keywords:
                lit = kw.value.value if isinstance(kw.value, ast.Constant) else None
                out.add(f"call:{callee}|{kw.arg}={lit!r}" if isinstance(lit, (str, bool))
                        or lit is None and isinstance(kw.value, ast.Constant)
                        else f"call:{callee}|{kw.arg}")
            for a in node.args:
                if isinstance(a, ast.Constant) and isinstance(a.value, str):
                    out.add(f"call:{callee}|{a.value!r}")
        elif isinstance(node, (ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.AugAssign)):
            out.add(f"op:{type(node.op).__name__}")
        elif isinstance(node, ast.Compare):
            out.update(f"op:{type(o).__name__}" for o in node.ops)
        elif isinstance(node, ast.stmt) and not isinstance(node, (ast.Expr, ast.Assign,
                                                                   ast.Import, ast.ImportFrom,
                                                                   ast.FunctionDef, ast.Return)):
            out.add(f"stmt:{type(node).__name__}")
        elif isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.DictComp, ast.Lambda,
                               ast.IfExp, ast.Starred, ast.Slice)):
            out.add(f"expr:{type(node).__name__}")
    return out


def value_kinds(args):
    """The kinds of a case's arguments: float32, complex, Python scalar,
    0-d, empty."""
    out = set()

    def one(v):
        if isinstance(v, (list, tuple)):
            for x in v:
                one(x)
        elif isinstance(v, dict):
            for x in v.values():
                one(x)
        elif isinstance(v, np.ndarray):
            out.add(f"dtype:{v.dtype.name}")
            if v.ndim == 0:
                out.add("shape:0-d")
            if v.size == 0:
                out.add("shape:empty")
        elif isinstance(v, (bool, int, float, complex)):
            out.add(f"python:{type(v).__name__}")
        elif isinstance(v, np.generic):
            out.add(f"numpy-scalar:{v.dtype.name}")
    one(args)
    return out


def port_strata(case):
    """A port case's strata: its area, its source's (:func:`source_strata`),
    its arguments' kinds, all within its area's kind (a custom API check is
    its own stratum: its name)."""
    out = {f"area:{case.area}"}
    if case.custom is not None:
        out.add(f"custom:{case.area}:{case.name}")
        return out
    src = case.src
    if case.func is not None:
        import inspect
        try:
            src = inspect.getsource(case.func)
        except (OSError, TypeError):
            src = ""
    out |= source_strata(src or "")
    out |= value_kinds(case.args)
    out |= {f"{case.area}|{k}" for k in value_kinds(case.args)}
    return out


def port_params(name, cases, *, stride=None, always=()):
    """:func:`params` of a port sweep (:class:`tests.ports.harness.Case`s,
    ids ``area:name``, strata :func:`port_strata`)."""
    return params(name, cases, ids=lambda c: f"{c.area}:{c.name}", strata=port_strata,
                  stride=stride, always=always)
