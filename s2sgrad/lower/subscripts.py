"""``x[...]`` reads (basic indexing, integer arrays, masks, reading a
runtime list) and writes (``y[idx] = v`` as a functional update ``setitem``,
``np.add.at``/``np.subtract.at``).  A basic-index read is a NumPy view and is
recorded as such (see ``aliasing.py``)."""
from __future__ import annotations

import ast

import numpy as np

from ..alias import Index
from ..errors import S2SGradError
from ..ir import Const, Var
from ..primitives import core as P
from ..primitives.indexing import Slot
from ..primitives.lists import LIST
from .values import DictVal, ObjVal, Seq, SliceVal, Static
from .syntax import snippet
from .functional import is_unstack_call, unstack_rows


def _is_basic_index(template, parts):
    """Whether indexing with ``template`` gives a NumPy view (basic indexing:
    ints, slices, None, Ellipsis, scalar loop indices), not a copy."""
    if isinstance(template, Slot) and isinstance(parts[template.k], Const) and \
            isinstance(parts[template.k].value, str):
        return True                 # d["W"] of a dict passed as data: the same array
    items = template if isinstance(template, tuple) else (template,)
    for it in items:
        if isinstance(it, Slot):
            if P.shape_of(parts[it.k]) is not P.SCALAR:
                return False
        elif not (it is None or it is Ellipsis or isinstance(it, slice) or
                  (isinstance(it, int) and not isinstance(it, bool))):
            return False
    return True



def _may_be_basic_index(template, parts, top):
    """Whether an index :func:`_is_basic_index` does not call basic may still
    be one at run time: every item basic but for Slots holding what may be an
    integer or a key when the code runs (a NumPy integer or str argument, an
    item read out of an array or a run-time list: ``A[idx[0]]``, ``p[k]``;
    a data argument, which may be an index array as well).
    Other Slots (a mask ``y[m > 0]``, an index array) stay copies."""
    items = template if isinstance(template, tuple) else (template,)
    maybe = top.int_items
    unknown = False
    for it in items:
        if isinstance(it, Slot):
            a = parts[it.k]
            if not isinstance(a, Var) or not (
                    # (an argument passed as data: a NumPy integer or an index array)
                    (a in top.arg_types and top.arg_types[a] in (None, str)) or
                    a in maybe or a in top.list_items):
                return False
            unknown = True
        elif not (it is None or it is Ellipsis or isinstance(it, slice) or
                  (isinstance(it, int) and not isinstance(it, bool))):
            return False
    return unknown


def _is_flat(node):
    return isinstance(node, ast.Attribute) and node.attr == "flat"


_AT_UFUNCS = (np.add, np.subtract, np.multiply, np.maximum, np.minimum)


def ufunc_at_of(obj):
    """The ufunc of ``np.add.at``/``np.subtract.at``/``np.multiply.at``/
    ``np.maximum.at``/``np.minimum.at``, else None."""
    owner = getattr(obj, "__self__", None)
    if getattr(obj, "__name__", None) == "at" and any(owner is u for u in _AT_UFUNCS):
        return owner
    return None


class SubscriptsMixin:
    def expr_Subscript(self, node):
        if _is_flat(node.value):
            # y.flat[k] reads y's elements in C order: y.ravel()[k] (a copy)
            base = self.apply(P.get("ravel"), [self.expr(node.value.value)], {}, node)
            template, parts = self.index_template(node.slice)
            return self.materialize(self.em.call(P.get("getitem"), base, *parts,
                                                 _params={"index": template}), node)
        if is_unstack_call(self, node.value) and not isinstance(node.slice, (ast.Slice,
                                                                              ast.Tuple)):
            # np.unstack(x)[i]: the piece x[i] (along the axis) for an int i
            key = self.expr(node.slice)
            if isinstance(key, Const) and isinstance(key.value, (int, np.integer)) and \
                    not isinstance(key.value, bool) or \
                    isinstance(key, Var) and P.shape_of(key) is P.SCALAR:
                return self.index_value(unstack_rows(self, node.value), key, node)
        base = self.expr(node.value)
        idx_node = node.slice
        picked = self.gradient_pick(base, idx_node)
        if picked is not None:
            return picked
        if isinstance(base, (Seq, DictVal)):
            if isinstance(idx_node, ast.Slice) and isinstance(base, Seq):
                bounds = [None if b is None else self.expr(b)
                          for b in (idx_node.lower, idx_node.upper, idx_node.step)]
                if not all(b is None or (isinstance(b, Const) and isinstance(b.value, int))
                           for b in bounds):
                    raise self.unsupported(node, "slicing a list or tuple with computed bounds",
                                           "use constant bounds, or stack it into an array")
                key = Const(slice(*(None if b is None else b.value for b in bounds)))
            else:
                key = self.expr(idx_node)
            return self.container_getitem(base, key, node)
        if isinstance(base, ObjVal):
            return self.item_value(base, self.expr(idx_node), node)
        if isinstance(base, Static) and (base.obj is np.s_ or base.obj is np.index_exp):
            return self.index_expression(base.obj, idx_node, node)
        if isinstance(base, Static) and (base.obj is np.r_ or base.obj is np.c_):
            return self.axis_concatenate(base.obj is np.c_, idx_node, node)
        if isinstance(base, Static) and (base.obj is np.mgrid or base.obj is np.ogrid):
            return self.index_grid(base.obj is np.mgrid, idx_node, node)
        if isinstance(base, Static):
            raise self.unsupported(node, f"subscripting '{snippet(node.value)}'",
                                   "index an array value")
        template, parts = self.index_template(idx_node)
        return self.apply_getitem(base, template, parts, node)

    def index_expression(self, obj, idx_node, node):
        """``np.s_[...]`` / ``np.index_exp[...]`` with constant bounds: the
        index itself (a slice or a tuple), usable as ``x[idx]``."""
        def const(n):
            if isinstance(n, ast.Slice):
                bounds = [None if b is None else self.expr(b) for b in (n.lower, n.upper, n.step)]
                if not all(b is None or (isinstance(b, Const) and isinstance(b.value, int)
                                         and not isinstance(b.value, bool)) for b in bounds):
                    raise self.unsupported(node, "np.s_/np.index_exp with computed bounds",
                                           "index with the slice directly: x[i:j]")
                return slice(*(None if b is None else b.value for b in bounds))
            v = self.expr(n)
            if isinstance(v, Const) and (v.value is None or v.value is Ellipsis or
                                         (isinstance(v.value, int) and
                                          not isinstance(v.value, bool))):
                return v.value
            raise self.unsupported(node, "np.s_/np.index_exp of a computed index",
                                   "index with it directly: x[i]")
        if isinstance(idx_node, ast.Tuple):
            return Const(tuple(const(e) for e in idx_node.elts))
        v = const(idx_node)
        return Const((v,) if obj is np.index_exp else v)

    def index_grid(self, dense, idx_node, node):
        """``np.mgrid[0:3, 0:1:5j]`` / ``np.ogrid[...]`` with constant bounds
        (numbers; a complex step is a number of points): data, the same grid
        in every call."""
        name = "np.mgrid" if dense else "np.ogrid"
        elts = list(idx_node.elts) if isinstance(idx_node, ast.Tuple) else [idx_node]
        triples = []
        for e in elts:
            if not isinstance(e, ast.Slice):
                raise self.unsupported(node, f"an item of {name} that is not a slice",
                                       f"write {name}[start:stop:step, ...]")
            bounds = [None if b is None else self.expr(b) for b in (e.lower, e.upper, e.step)]
            if not all(b is None or (isinstance(b, Const) and isinstance(
                    b.value, (int, float, complex)) and not isinstance(b.value, bool))
                    for b in bounds):
                raise self.unsupported(node, f"{name} with computed bounds",
                                       "use np.meshgrid of np.arange/np.linspace")
            triples.append(tuple(None if b is None else b.value for b in bounds))
        out = self.em.call(P.get("index_grid"), kind=Const("mgrid" if dense else "ogrid"),
                           slices=Const(tuple(triples)))
        return Seq(P.get("index_grid").out_kind, out) if isinstance(out, tuple) else out

    def axis_concatenate(self, columns, idx_node, node):
        """``np.r_[a, b, 0:3]`` (``columns``: ``np.c_[...]``): a concatenation
        of the items converted as NumPy converts them (at least 1-d; for
        ``np.c_`` at least 2-d with 1-d items as columns), slices with
        constant bounds as ``np.arange`` (``start:stop:nj`` as ``np.linspace``
        is not supported), and for ``np.r_`` a leading axis string ('0',
        '-1', ...)."""
        name = "np.c_" if columns else "np.r_"
        elts = list(idx_node.elts) if isinstance(idx_node, ast.Tuple) else [idx_node]
        axis = -1 if columns else 0
        if elts and isinstance(elts[0], ast.Constant) and isinstance(elts[0].value, str):
            d = elts.pop(0).value.strip()
            try:
                axis = int(d)
            except ValueError:
                raise self.unsupported(node, f"the directive {d!r} of {name}",
                                       "use np.concatenate/np.stack with an axis") from None
            if columns:
                raise self.unsupported(node, f"a directive string in {name}",
                                       "use np.concatenate with an axis")
        items = []
        for e in elts:
            if isinstance(e, ast.Slice):
                bounds = [None if b is None else self.expr(b) for b in (e.lower, e.upper, e.step)]
                if not all(b is None or (isinstance(b, Const) and isinstance(b.value, (int, float))
                                         and not isinstance(b.value, bool)) for b in bounds):
                    raise self.unsupported(node, f"a slice with computed or complex bounds in "
                                                 f"{name}", "use np.arange or np.linspace")
                start, stop, step = (None if b is None else b.value for b in bounds)
                args = [Const(0 if start is None else start), Const(stop)]
                if step is not None:
                    args.append(Const(step))
                v = self.apply(P.get("arange"), args, {}, node)
            else:
                v = self.expr(e)
                if isinstance(v, (Seq, DictVal, Static)) and not isinstance(v, Seq):
                    raise self.unsupported(node, f"this item of {name}", "pass arrays or numbers")
            items.append(self.apply(P.get("c_item" if columns else "r_item"), [v], {}, node))
        if not items:
            raise self.unsupported(node, f"an empty {name}", "use np.array([])")
        return self.apply(P.get("concatenate"), [Seq("list", items)], {"axis": Const(axis)},
                          node)

    def index_template(self, idx_node):
        return self.index_of_value(None, idx_node)

    def index_of_value(self, value, node):
        """The index template and its runtime parts for an index given as an
        AST node (``value`` None) or as a lowered value (``operator.getitem``,
        an index held in a variable: ``idx = slice(0, 2)``, ``(i, slice(None))``)."""
        parts: list = []

        def item(n):
            if isinstance(n, ast.Slice):
                return slice(*(None if x is None else scalar(x)
                               for x in (n.lower, n.upper, n.step)))
            return scalar(n)

        def scalar(n):
            return of_value(self.expr(n), n)

        def of_value(v, n, top=False):
            if isinstance(v, Const) and (v.value is None or v.value is Ellipsis or
                                         (isinstance(v.value, int))):
                return v.value
            if isinstance(v, Const) and isinstance(v.value, slice) and all(
                    x is None or (isinstance(x, int) and not isinstance(x, bool))
                    for x in (v.value.start, v.value.stop, v.value.step)):
                return v.value                      # a slice object: slice(1, 3)
            if isinstance(v, SliceVal):
                return slice(*(None if x is None else of_value(x, n) for x in v.parts))
            if isinstance(v, Static) and v.obj is None:
                return None
            if top and isinstance(v, Seq) and v.kind == "tuple":
                return tuple(of_value(x, n) for x in v.items)
            if top and isinstance(v, Const) and isinstance(v.value, tuple):
                return tuple(of_value(Const(x), n) for x in v.value)
            parts.append(self.materialize(v, n))
            return Slot(len(parts) - 1)

        if value is not None:
            t = of_value(value, node, top=True)
        elif isinstance(node, ast.Tuple):
            t = tuple(item(e) for e in node.elts)
        elif isinstance(node, ast.Slice):
            t = item(node)
        else:
            t = of_value(self.expr(node), node, top=True)
        del item, scalar, of_value      # (recursive closures: a reference cycle otherwise)
        return t, parts

    def index_value(self, base, key, node):
        """``base[key]`` with ``key`` a lowered value (``operator.getitem``)."""
        if isinstance(base, (Seq, DictVal)):
            return self.container_getitem(base, key, node)
        template, parts = self.index_of_value(key, node)
        return self.apply_getitem(base, template, parts, node)

    def getitem(self, value, i):
        """``value[i]`` for a Python int or a computed index."""
        if isinstance(value, Var):
            # the rows of an array the loop writes into: its current version
            value = self.iter_alias.get(id(value), value)
        if isinstance(value, (Seq, DictVal)):
            return self.container_getitem(value, i if isinstance(i, (Var, Const)) else Const(i),
                                          self.node)
        if isinstance(i, int):
            return self.apply_getitem(value, i, [], self.node)
        return self.apply_getitem(value, Slot(0), [i], self.node)

    def apply_getitem(self, base, template, parts, node):
        base = self.materialize(base, node)
        if isinstance(base, Var) and P.shape_of(base) is LIST:
            if isinstance(template, Slot):
                out = self.em.call(P.get("list_get"), base, parts[template.k])
            elif isinstance(template, int):
                out = self.em.call(P.get("list_get"), base, Const(template))
            else:
                out = None
            if out is not None:
                self.top.list_items.add(out)     # may share memory with anything
                return out
            if isinstance(template, slice):
                # hs[1:-1]: a new list object holding the same items
                bounds = [Const(b) if b is None or isinstance(b, int) else
                          parts[b.k] if isinstance(b, Slot) else None
                          for b in (template.start, template.stop, template.step)]
                if all(b is not None for b in bounds):
                    out = self.em.call(P.get("list_slice"), base, *bounds)
                    self.top.alias.inherit_unknown(out, base)
                    self.list_origin()[out] = out
                    return out
            raise self.unsupported(node, "slicing a list built at run time",
                                   "stack it into an array first")
        out = self.em.call(P.get("getitem"), base, *parts, _params={"index": template})
        if Index(template, parts).ints_only() and not any(
                isinstance(p, Var) and P.shape_of(p) is not P.SCALAR for p in parts):
            # idx[0]: a number when idx is a vector (an index into another array)
            self.top.int_items.add(out)
        if self.top.may_be_sequence(base):
            self.top.seq_items.add(out)          # d["k"] of a dict passed as data: a list?
        if isinstance(base, Var) and _is_basic_index(template, parts) and not (
                self.top.alias.index_ndim(base, template) == 0 and
                Index(template, parts).ints_only()):
            # a view (an element of a vector, known 0-d, is a copy; y[1, 2, ...]
            # is a 0-d view)
            self.add_view(out, base, template, parts)
        elif isinstance(base, Var) and _may_be_basic_index(template, parts, self.top):
            # y[k] with k known only at run time: a view when k is an integer
            # (a NumPy int argument, idx[0]), a copy when it is an index array;
            # a write into either while the other is live is refused
            self.top.alias.link_unknown(out, base)
        return out

    def bind_subscript(self, target, value):
        """``y[idx] = value``: a new version of ``y`` (or of a literal list/dict)."""
        if not isinstance(target.value, ast.Name):
            return self.bind_through_expression(target, value)
        name = target.value.id
        base = self.load_name(target.value)
        if isinstance(base, (Seq, DictVal)):
            key = self.expr(target.slice)
            if not isinstance(key, Const):
                raise self.unsupported(target, "assignment into a list at a computed position",
                                       "use an array")
            if isinstance(base, DictVal):
                items = dict(base.items)
                items[key.value] = value
                self.rebind_container(name, base, DictVal(items, base.default))
            else:
                items = list(base.items)
                items[key.value] = value
                self.rebind_container(name, base, Seq(base.kind, items))
            return
        if isinstance(base, Static):
            raise self.unsupported(target, f"assignment into '{name}'", "assign into an array")
        self.refuse_external_write(base, target)
        template, parts = self.index_template(target.slice)
        base = self.materialize(base, target)
        self.check_writable(base, target)
        v = self.materialize(value, target)
        params = {"index": template}
        data_type = self.top.arg_types.get(base)
        if data_type is not None and issubclass(data_type, (tuple, str)):
            raise self.error(target, f"'{name}' is a {data_type.__name__} passed as an argument: "
                                     f"its items cannot be assigned (Python raises TypeError); "
                                     f"build a list ([v for v in {name}]) or an array first",
                             cls=S2SGradError, construct="item assignment into a tuple")
        if data_type is not None and issubclass(data_type, list):
            # L[0] = v into a list passed as (non-differentiated) data: the
            # reverse rule refuses a differentiated v (mutation.setitem_vjp)
            params["into_data"] = True
        if data_type is not None and issubclass(data_type, dict):
            params["plain_copy"] = True     # (dict.copy() takes no order)
        elif base in self.top.seq_items:
            params["plain_copy"] = "maybe"  # an array or a container
        out = self.em.call(P.get("setitem"), base, v, *parts, _params=params)
        out.hint = name
        self.list_slot_stored(base, out, v, target)
        self.env[name] = out
        self.write_back(base, out)

    def bind_through_expression(self, target, value):
        """``E[idx] = value`` with ``E`` an expression (``y.T[0] = v``,
        ``y[1:][::2] = v``, ``d["k"][0] = v``, ``y.flat[k] = v``): as NumPy,
        a write into the array ``E`` evaluates to, which reaches ``E``'s base
        when it is a view (the alias model's write rule) and is lost when it
        is a copy (``y[[0, 1]][0] = v`` leaves ``y`` as it was)."""
        inner = target.value
        flat = _is_flat(inner)
        base = self.expr(inner.value if flat else inner)
        if isinstance(base, ObjVal):
            self.refuse_external_write(base, target)
        if not isinstance(base, Var) or P.shape_of(base) is P.SCALAR:
            raise self.unsupported(target, f"assignment into '{snippet(target)}'",
                                   "bind the array to a name first (v = ...; v[i] = x), "
                                   "or index once with a tuple: y[i, j] = v")
        self.refuse_external_write(base, target)
        template, parts = self.index_template(target.slice)
        base = self.materialize(base, target)
        self.check_writable(base, target)
        v = self.materialize(value, target)
        if flat:
            # y.flat[k] = v: y's elements in C order, written back whole
            r = self.em.call(P.get("ravel"), base)
            r = self.em.call(P.get("setitem"), r, v, *parts, _params={"index": template})
            out = self.em.call(P.get("reshape"), r, self.em.call(P.get("shape"), base))
        else:
            out = self.em.call(P.get("setitem"), base, v, *parts, _params={"index": template})
            self.list_slot_stored(base, out, v, target)
        out.hint = base.hint
        self.write_back(base, out)

    def list_slot_stored(self, base, out, v, node):
        """``xs[i] = v`` on a runtime list ``base`` gave ``out``: the slot is
        rebound (no array's memory is written); the list holds ``v`` and
        what it held."""
        if not (isinstance(base, Var) and P.shape_of(base) is LIST):
            return
        self.refuse_ambiguous_list(base, node, "assign an item of")
        model = self.top.alias
        model.inherit_unknown(out, base)
        model.link_unknown(out, v)
        self.list_origin()[out] = self.list_origin().get(base, base)
        self.note_list_store(out, base, [v])

    def gradient_pick(self, base, idx_node):
        """``g[k]`` (a constant int ``k``) of ``g = np.gradient(f, ...)`` without
        ``axis=``: ``gradient_pick(f, ..., item=k)``, the derivative along axis
        k of an N-d f or element k of a 1-d f's, decided when the code runs
        (calls.apply records such results); else None."""
        hit = getattr(self, "gradient_results", {}).get(base) if isinstance(base, Var) else None
        if hit is None:
            return None
        k = idx_node
        sign = 1
        if isinstance(k, ast.UnaryOp) and isinstance(k.op, ast.USub):
            k, sign = k.operand, -1
        if not (isinstance(k, ast.Constant) and type(k.value) is int):
            return None
        pos, kw = hit
        opts = {"item": Const(sign * k.value)}
        if "edge_order" in kw:
            opts["edge_order"] = kw["edge_order"]
        return self.em.call(P.get("gradient_pick"), *pos, **opts)

    def ufunc_at(self, ufunc, node):
        """``np.add.at(y, idx, v)`` (unbuffered: repeated indices accumulate) and
        ``np.subtract.at``: a new version of the local ``y``,
        ``y + index_add(broadcast(v), y, idx)``; ``np.multiply.at``,
        ``np.maximum.at``, ``np.minimum.at``: ``ufunc_at(y, broadcast(v), idx)``."""
        name = f"np.{ufunc.__name__}.at"
        advice = f"write {name}(y, idx, v) with y a local variable, an argument or a view of one"
        if len(node.args) != 3 or node.keywords:
            raise self.unsupported(node, f"this form of '{name}'", advice)
        y = self.written_operand(node.args[0], node, advice, name)
        template, parts = self.index_template(node.args[1])
        v = self.materialize(self.expr(node.args[2]), node)
        sel = self.em.call(P.get("getitem"), y, *parts, _params={"index": template})
        vb = self.em.call(P.get("broadcast_like"), v, sel)
        if ufunc is not np.add and ufunc is not np.subtract:
            # multiply/maximum/minimum: primitives/indexing.py's ufunc_at
            out = self.em.call(P.get("ufunc_at"), y, vb, *parts,
                               _params={"index": template, "ufunc": ufunc.__name__})
            self.commit_operand_write(node.args[0], y, out)
            return Const(None)
        if ufunc is np.subtract:
            vb = self.em.call(P.get("negative"), vb)
        upd = self.em.call(P.get("index_add"), vb, y, *parts, _params={"index": template})
        out = self.em.call(P.get("add"), y, upd)
        # (NumPy adds into y: y's dtype -- a float into an int y is refused
        # at run time, as y += v is -- and y's memory order, which the sum
        # with index_add's C-ordered zeros does not keep)
        out = self.em.call(P.get("in_place_result"), out, y, layout=Const(True))
        self.commit_operand_write(node.args[0], y, out)
        return Const(None)
