"""Nested containers of arrays ("pytrees"): tuples, lists, dicts, namedtuples,
dataclass instances, and any type registered with :func:`register_pytree`.

``flatten`` turns a value into its leaves and a hashable :class:`TreeDef`;
``unflatten`` rebuilds the same structure from new leaves.  Gradients with
respect to a container come back as the same container.

A dataclass instance is a node whose children are its fields in order;
fields holding a Python ``int``/``bool``/``str``/``None`` are part of the
structure (static, like JAX's static fields), not leaves.  Its gradient is
an instance of the same class made without calling ``__init__`` (fields
set directly), so ``__post_init__`` does not run on gradients.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class TreeDef:
    kind: str                 # "leaf" | "tuple" | "list" | "dict" | "namedtuple" | "custom"
    children: tuple = ()
    keys: tuple = ()          # dict keys, in the container's order; (aux data,) of a custom node
    type: type | None = None  # namedtuple class, custom node class

    @property
    def num_leaves(self):
        if self.kind == "leaf":
            return 1
        return sum(c.num_leaves for c in self.children)


LEAF = TreeDef("leaf")


# type -> (flatten(x) -> (children, aux), unflatten(aux, children) -> x)
_NODES: dict = {}
_HEAPTYPE = 1 << 9          # Py_TPFLAGS_HEAPTYPE: a class made by a class statement or type()


def register_pytree(cls, flatten, unflatten):
    """Make instances of ``cls`` containers of arrays (pytree nodes), as JAX's
    ``register_pytree_node``: ``flatten(x)`` returns ``(children, aux)`` --
    the arrays (or nested containers) and hashable static data -- and
    ``unflatten(aux, children)`` rebuilds an instance.  Registered objects
    can be differentiated arguments (their gradient comes back as an
    instance), returned, built and read (attributes, methods) inside the
    differentiated function."""
    if not isinstance(cls, type):
        raise TypeError(f"register_pytree expects a class, got {cls!r}")
    if cls in _NODES:
        raise ValueError(f"{cls.__name__} is already registered as a pytree node")
    _NODES[cls] = (flatten, unflatten)
    return cls


def _static_field(v):
    """Python ints/bools/strings/None and functions are structure, not leaves."""
    if v is None or isinstance(v, (bool, int, str)) and not hasattr(v, "dtype"):
        return True
    return callable(v) and not hasattr(v, "dtype") and not is_container(v)


def _dataclass_flatten(x):
    kids, static = [], []
    for f in dataclasses.fields(x):
        v = getattr(x, f.name)
        if _static_field(v):
            static.append((f.name, v))
        else:
            kids.append((f.name, v))
    return [v for _, v in kids], (tuple(n for n, _ in kids), tuple(static))


def _dataclass_unflatten_for(cls):
    def unflatten(aux, children):
        names, static = aux
        obj = cls.__new__(cls)
        for n, v in list(zip(names, children)) + list(static):
            object.__setattr__(obj, n, v)
        return obj
    return unflatten


def node_rules(x):
    """``(flatten, unflatten)`` when ``x`` is an instance of a registered type
    or a dataclass, else None."""
    t = type(x)
    hit = _NODES.get(t)
    if hit is not None:
        return hit
    if not t.__flags__ & _HEAPTYPE:
        return None         # a built-in or C type (float, np.ndarray): never a dataclass
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return _dataclass_flatten, _dataclass_unflatten_for(t)
    return None


def is_container(x):
    return isinstance(x, (tuple, list, dict)) or node_rules(x) is not None


# the methods through which flattening (keys, items by key, iteration) and the
# user's reads (``params[k]``, ``.values()``, ``for``) reach a container's items
_READERS = {dict: ("__getitem__", "keys", "values", "items", "__iter__", "get"),
            list: ("__getitem__", "__iter__"), tuple: ("__getitem__", "__iter__")}


def overriding_reader(x, depth=0):
    """``(node, method name)`` for the first dict/list/tuple subclass in the
    container ``x`` that overrides a method reading its items (a
    ``__getitem__`` that scales what it returns): its leaves, as flattening
    reads them, are then not its entries, and a gradient with respect to
    them would not be one with respect to the container.  ``OrderedDict``,
    ``defaultdict`` and namedtuples read their items as their base does.
    None when there is no such node."""
    t = type(x)
    if depth > 64:
        return None
    if t in _READERS:
        pass
    elif isinstance(x, (dict, list, tuple)):
        base = dict if isinstance(x, dict) else list if isinstance(x, list) else tuple
        for cls in t.__mro__:
            if cls is base or cls.__module__ == "collections" and cls.__name__ in (
                    "OrderedDict", "defaultdict"):
                break
            for m in _READERS[base]:
                if m in cls.__dict__:
                    return x, m
    else:
        return None
    for v in (dict.values(x) if isinstance(x, dict) else x):
        if isinstance(v, (dict, list, tuple)):
            hit = overriding_reader(v, depth + 1)
            if hit is not None:
                return hit
    return None


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
    rules = node_rules(x)
    if rules is not None:
        children, aux = rules[0](x)
        return TreeDef("custom", tuple(_flatten(v, leaves) for v in children), (aux,),
                       type=type(x))
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
    if td.kind == "custom":
        return unflatten_node(td, kids)
    if td.kind == "list":
        return kids
    return tuple(kids)


def unflatten_node(td: TreeDef, kids):
    """An instance of a custom node's class from its children."""
    hit = _NODES.get(td.type)
    unflatten = hit[1] if hit is not None else _dataclass_unflatten_for(td.type)
    return unflatten(td.keys[0], kids)


def _custom_names(td):
    aux = td.keys[0]
    if td.type not in _NODES and isinstance(aux, tuple) and len(aux) == 2 and \
            isinstance(aux[0], tuple) and len(aux[0]) == len(td.children):
        return aux[0]                  # a dataclass: its field names
    return range(len(td.children))


def leaf_paths(td: TreeDef, prefix: str):
    """Readable names for the leaves: params["W"] -> params_W."""
    if td.kind == "leaf":
        return [prefix]
    out = []
    keys = td.keys if td.kind == "dict" else (
        td.type._fields if td.kind == "namedtuple" else
        _custom_names(td) if td.kind == "custom" else range(len(td.children)))
    for k, c in zip(keys, td.children):
        out += leaf_paths(c, f"{prefix}_{k}")
    return out
