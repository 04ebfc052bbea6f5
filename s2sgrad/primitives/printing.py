"""How primitives print as Python expressions (``ast`` nodes).

A printer is ``printer(args, kwargs, eqn) -> ast.expr`` where ``args`` and
``kwargs`` are already-printed operand expressions.  The default prints a
call of the primitive's ``pyname`` (``np.exp(x)``).  Equations lowered from a
method call or attribute the user wrote (``x.sum(axis=0)``, ``x.T``) carry
``params['spelling']`` and print the way the user spelled them.
"""
from __future__ import annotations

import ast


def dotted(name: str) -> ast.expr:
    parts = name.split(".")
    node: ast.expr = ast.Name(id=parts[0], ctx=ast.Load())
    for p in parts[1:]:
        node = ast.Attribute(value=node, attr=p, ctx=ast.Load())
    return node


def call(name: str, args, kwargs) -> ast.expr:
    return ast.Call(func=dotted(name), args=list(args),
                    keywords=[ast.keyword(arg=k, value=v) for k, v in kwargs.items()])


def default_printer(prim):
    def printer(args, kwargs, eqn):
        spelling = eqn.params.get("spelling")
        if spelling and spelling[0] == "method":
            return ast.Call(func=ast.Attribute(value=args[0], attr=spelling[1], ctx=ast.Load()),
                            args=list(args[1:]),
                            keywords=[ast.keyword(arg=k, value=v) for k, v in kwargs.items()])
        if spelling and spelling[0] == "attr":
            return ast.Attribute(value=args[0], attr=spelling[1], ctx=ast.Load())
        if prim.seq_arg:
            # the equation's operands were the elements of one list argument
            return call(prim.pyname, [ast.List(elts=list(args), ctx=ast.Load())], kwargs)
        return call(prim.pyname, args, kwargs)
    return printer


def _operator(make):
    """An operator printer; an equation the user wrote as a NumPy call
    (``params['spelling'] == ('func',)``) prints as that call instead."""
    def factory(op):
        def printer(args, kwargs, eqn):
            if eqn.params.get("spelling") == ("func",):
                return call(eqn.prim.pyname, args, kwargs)
            return make(op, args)
        printer.operator = True
        return printer
    return factory


binop = _operator(lambda op, args: ast.BinOp(left=args[0], op=op, right=args[1]))
unaryop = _operator(lambda op, args: ast.UnaryOp(op=op, operand=args[0]))
compare = _operator(lambda op, args: ast.Compare(left=args[0], ops=[op], comparators=[args[1]]))


def get_printer(prim):
    return prim.printer if prim.printer is not None else default_printer(prim)
