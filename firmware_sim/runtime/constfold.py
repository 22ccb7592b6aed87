"""MicroPython's ``const()``: the parser folds ``NAME = const(expr)`` and puts the value in place of the
name everywhere after it in the file (``py/parse.c``, ``MICROPY_COMP_CONST``, on in Pycom 1.20).

What MicroPython 1.11's parser does, and so what this does to a board file before CPython compiles it:

* A statement ``NAME = const(expr)``, at any depth (a class body too), whose ``expr`` folds to an
  integer (literals, earlier constants, ``+ - * // % << >> & | ^ **`` and unary ``- + ~``): ``NAME``
  becomes a constant of the file. The statement stays as ``NAME = value`` (so a class still gets its
  attribute), except for a name starting with ``_``, whose statement goes away.
* From there on, every standalone use of ``NAME`` in the file (an expression's identifier, in any
  function, method or class, even one shadowing it) is the value. Attribute names (``self.NAME``),
  parameters and keywords are not identifiers of that kind and stay.

So Pycom's libraries, which define ``I2C_SLAVE_ADDR = const(8)`` in a class and use the bare
``I2C_SLAVE_ADDR`` in its methods, run as on the board, where a CPython reading would raise
``NameError``. A ``const()`` the parser does not fold (not of that form) is a call at run time, of the
``micropython.const`` a script imported, or a ``NameError`` as on the board.
"""

from __future__ import annotations

import ast
import operator
import types
import warnings
from collections.abc import Callable
from typing import Any

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.LShift: operator.lshift,
    ast.RShift: operator.rshift,
    ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_,
    ast.BitXor: operator.xor,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Invert: operator.invert,
}


def _integer(node: ast.expr) -> int | None:
    """The integer ``node`` folds to, or None."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        value = _integer(node.operand)
        return None if value is None else _UNARY[type(node.op)](value)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _integer(node.left), _integer(node.right)
        if left is None or right is None:
            return None
        try:
            result = _BINARY[type(node.op)](left, right)
        except (ArithmeticError, ValueError):
            return None
        return result if type(result) is int else None
    return None


def _const_call(node: ast.AST) -> ast.expr | None:
    """The argument of ``const(arg)``, or None when ``node`` is not such a call."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "const"
        and len(node.args) == 1
        and not node.keywords
        and not isinstance(node.args[0], ast.Starred)
    ):
        return node.args[0]
    return None


class _Folder(ast.NodeTransformer):
    """One pass in source order: constants are known from their statement on."""

    def __init__(self) -> None:
        self.consts: dict[str, int] = {}

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if isinstance(node.ctx, ast.Load) and node.id in self.consts:
            return ast.copy_location(ast.Constant(self.consts[node.id]), node)
        return node

    def visit_Assign(self, node: ast.Assign) -> ast.AST | None:
        argument = _const_call(node.value)
        target = node.targets[0] if len(node.targets) == 1 else None
        if argument is None or not isinstance(target, ast.Name):
            return self.generic_visit(node)
        value = _integer(self.visit(argument))
        if value is None:
            return self.generic_visit(node)
        self.consts[target.id] = value
        if target.id.startswith("_"):
            return None
        node.value = ast.copy_location(ast.Constant(value), node.value)
        return node

    def generic_visit(self, node: ast.AST) -> ast.AST:
        node = super().generic_visit(node)
        body = getattr(node, "body", None)  # a block emptied by a removed `_X = const(...)`
        if isinstance(body, list) and not body and hasattr(node, "lineno"):
            body.append(ast.copy_location(ast.Pass(), node))
        return node


def fold(source: bytes, filename: str) -> bytes | ast.Module:
    """``source`` with MicroPython's constants folded (an AST to compile), or ``source`` itself when it
    has no ``const``."""
    if b"const" not in source:
        return source
    tree = ast.parse(source, filename)
    folder = _Folder()
    folder.visit(tree)  # the module node itself stays; its statements change in place
    if not folder.consts:
        return source
    return ast.fix_missing_locations(tree)


def compile_board(source: bytes, filename: str) -> types.CodeType:
    """Compile a board file's (CPython-ready) ``source`` with its constants folded. CPython's
    ``SyntaxWarning``s stay silent: MicroPython's compiler warns about nothing (``x is 1``, which a
    folded constant may produce, is a plain comparison on the board)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        return compile(fold(source, filename), filename, "exec", dont_inherit=True)
