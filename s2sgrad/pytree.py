"""Nested containers of arrays ("pytrees"): tuples, lists, dicts, namedtuples.

``flatten`` turns a value into its leaves and a hashable :class:`TreeDef`;
``unflatten`` rebuilds the same structure from new leaves.  Gradients with
respect to a container come back as the same container.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TreeDef:
    kind: str                 # "leaf" | "tuple" | "list" | "dict" | "namedtuple"
    children: tuple = ()
    keys: tuple = ()          # dict keys, in the container's order
    type: type | None = None  # namedtuple class

    @property
    def num_leaves(self):
        if self.kind == "leaf":
            return 1
        return sum(c.num_leaves for c in self.children)


LEAF = TreeDef("leaf")


def is_container(x):
    return isinstance(x, (tuple, list, dict))


def flatten(x):
    leaves = []
    td = _flatten(x, leaves)
    return leaves, td


def _flatten(x, leaves):
    if isinstance(x, dict):
        keys = tuple(x.keys())
        return TreeDef("dict", tuple(_flatten(x[k], leaves) for k in keys), keys)
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return TreeDef("namedtuple", tuple(_flatten(v, leaves) for v in x), type=type(x))
    if isinstance(x, tuple):
        return TreeDef("tuple", tuple(_flatten(v, leaves) for v in x))
    if isinstance(x, list):
        return TreeDef("list", tuple(_flatten(v, leaves) for v in x))
    leaves.append(x)
    return LEAF


def unflatten(td: TreeDef, leaves):
    it = iter(leaves)
    out = _unflatten(td, it)
    return out


def _unflatten(td, it):
    if td.kind == "leaf":
        return next(it)
    kids = [_unflatten(c, it) for c in td.children]
    if td.kind == "dict":
        return dict(zip(td.keys, kids))
    if td.kind == "namedtuple":
        return td.type(*kids)
    if td.kind == "list":
        return kids
    return tuple(kids)


def leaf_paths(td: TreeDef, prefix: str):
    """Readable names for the leaves: params["W"] -> params_W."""
    if td.kind == "leaf":
        return [prefix]
    out = []
    keys = td.keys if td.kind == "dict" else (
        td.type._fields if td.kind == "namedtuple" else range(len(td.children)))
    for k, c in zip(keys, td.children):
        out += leaf_paths(c, f"{prefix}_{k}")
    return out
