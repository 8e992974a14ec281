"""The syntax tree of a condition: expr-lang's node kinds, positions, natures, and `String()`.

The checker annotates each node with its Nature (static type), the optimizer rewrites subtrees in
place (`walk` returns the replacement), and `str(node)` prints a node as expr's `ast` package does,
because one optimization (merging `all(x, p) && all(x, q)`) compares subtrees by their printed form.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from analysis.expr.lexer import is_valid_identifier

if TYPE_CHECKING:
    from analysis.expr.gotypes import GoType
    from analysis.expr.nature import Nature


class Node:
    __slots__ = ("end", "nature", "start")
    children: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        self.start = 0
        self.end = 0
        self.nature: Nature | None = None

    def at(self, start: int, end: int) -> Node:
        self.start, self.end = start, end
        return self

    @property
    def type(self) -> GoType:
        """Node.Type(): the static type, interface {} when unknown."""
        from analysis.expr import gotypes

        if self.nature is None or self.nature.type is None:
            return gotypes.ANY
        return self.nature.type

    @property
    def static_type(self) -> GoType | None:
        return None if self.nature is None else self.nature.type

    def set_type(self, typ: GoType | None) -> None:
        from analysis.expr.nature import Nature

        self.nature = Nature.of_type(typ)


class Nil(Node):
    __slots__ = ()

    def __str__(self) -> str:
        return "nil"


class Identifier(Node):
    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        super().__init__()
        self.value = value

    def __str__(self) -> str:
        return self.value


class Integer(Node):
    __slots__ = ("value",)

    def __init__(self, value: int) -> None:
        super().__init__()
        self.value = value

    def __str__(self) -> str:
        return str(self.value)


class Float(Node):
    __slots__ = ("value",)

    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def __str__(self) -> str:
        from analysis.expr.gofmt import format_float

        return format_float(self.value)


class Bool(Node):
    __slots__ = ("value",)

    def __init__(self, value: bool) -> None:
        super().__init__()
        self.value = value

    def __str__(self) -> str:
        return "true" if self.value else "false"


class String(Node):
    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        super().__init__()
        self.value = value

    def __str__(self) -> str:
        from analysis.expr.gofmt import quote

        return quote(self.value)


class Constant(Node):
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        super().__init__()
        self.value = value

    def __str__(self) -> str:
        from analysis.expr.gojson import marshal

        return "nil" if self.value is None else marshal(self.value)


_UNARY_PRECEDENCE = {"not": 50, "!": 50, "-": 90, "+": 90}
BINARY_PRECEDENCE = {
    "|": 0, "or": 10, "||": 10, "and": 15, "&&": 15, "==": 20, "!=": 20, "<": 20, ">": 20, ">=": 20, "<=": 20,
    "in": 20, "matches": 20, "contains": 20, "startsWith": 20, "endsWith": 20, "..": 25, "+": 30, "-": 30,
    "*": 60, "/": 60, "%": 60, "**": 100, "^": 100, "??": 500,
}
RIGHT_ASSOCIATIVE = frozenset({"**", "^"})
UNARY_PRECEDENCE = _UNARY_PRECEDENCE


def is_boolean_operator(op: str) -> bool:
    return op in ("and", "or", "&&", "||")


class Unary(Node):
    __slots__ = ("node", "operator")
    children = ("node",)

    def __init__(self, operator: str, node: Node) -> None:
        super().__init__()
        self.operator = operator
        self.node = node

    def __str__(self) -> str:
        op = "not " if self.operator == "not" else self.operator
        inner = self.node
        wrap = isinstance(inner, Conditional) or (
            isinstance(inner, Binary)
            and BINARY_PRECEDENCE.get(inner.operator, 0) < _UNARY_PRECEDENCE.get(self.operator, 0))
        return f"{op}({inner})" if wrap else f"{op}{inner}"


class Binary(Node):
    __slots__ = ("left", "operator", "right")
    children = ("left", "right")

    def __init__(self, operator: str, left: Node, right: Node) -> None:
        super().__init__()
        self.operator = operator
        self.left = left
        self.right = right

    def __str__(self) -> str:
        if self.operator == "..":
            return f"{self.left}..{self.right}"
        lwrap = self._wrap_left()
        rwrap = self._wrap_right()
        lhs = f"({self.left})" if lwrap else str(self.left)
        rhs = f"({self.right})" if rwrap else str(self.right)
        return f"{lhs} {self.operator} {rhs}"

    def _wrap_left(self) -> bool:
        op, left = self.operator, self.left
        prec = BINARY_PRECEDENCE.get(op, 0)
        if isinstance(left, Unary) and _UNARY_PRECEDENCE.get(left.operator, 0) < prec:
            return True
        if isinstance(left, Binary):
            lprec = BINARY_PRECEDENCE.get(left.operator, 0)
            if lprec < prec or (lprec == prec and op in RIGHT_ASSOCIATIVE) or left.operator == "??":
                return True
            if is_boolean_operator(left.operator) and op != left.operator:
                return True
        return isinstance(left, Conditional)

    def _wrap_right(self) -> bool:
        op, right = self.operator, self.right
        prec = BINARY_PRECEDENCE.get(op, 0)
        if isinstance(right, Binary):
            rprec = BINARY_PRECEDENCE.get(right.operator, 0)
            if rprec < prec or (rprec == prec and op not in RIGHT_ASSOCIATIVE):
                return True
            if is_boolean_operator(right.operator) and op != right.operator:
                return True
        return isinstance(right, Conditional)


class Chain(Node):
    __slots__ = ("node",)
    children = ("node",)

    def __init__(self, node: Node) -> None:
        super().__init__()
        self.node = node

    def __str__(self) -> str:
        return str(self.node)


class Member(Node):
    __slots__ = ("method", "node", "optional", "property")
    children = ("node", "property")

    def __init__(self, node: Node, prop: Node, *, optional: bool = False, method: bool = False) -> None:
        super().__init__()
        self.node = node
        self.property = prop
        self.optional = optional
        self.method = method

    def __str__(self) -> str:
        node = f"({self.node})" if isinstance(self.node, Binary) else str(self.node)
        prop = self.property
        named = isinstance(prop, String) and is_valid_identifier(prop.value)
        if self.optional:
            return f"{node}?.{prop.value}" if named else f"{node}?.[{prop}]"  # type: ignore[attr-defined]
        if named:
            if isinstance(self.node, Pointer):
                return f".{prop.value}"  # type: ignore[attr-defined]
            return f"{node}.{prop.value}"  # type: ignore[attr-defined]
        return f"{node}[{prop}]"


class SliceNode(Node):
    __slots__ = ("from_", "node", "to")
    children = ("node", "from_", "to")

    def __init__(self, node: Node, from_: Node | None, to: Node | None) -> None:
        super().__init__()
        self.node = node
        self.from_ = from_
        self.to = to

    def __str__(self) -> str:
        low = "" if self.from_ is None else str(self.from_)
        high = "" if self.to is None else str(self.to)
        return f"{self.node}[{low}:{high}]"


class Call(Node):
    __slots__ = ("arguments", "callee")
    children = ("callee", "arguments")

    def __init__(self, callee: Node, arguments: list[Node]) -> None:
        super().__init__()
        self.callee = callee
        self.arguments = arguments

    def __str__(self) -> str:
        return f"{self.callee}({', '.join(str(a) for a in self.arguments)})"


class Builtin(Node):
    __slots__ = ("arguments", "map", "name", "throws")
    children = ("arguments",)

    def __init__(self, name: str, arguments: list[Node], *, throws: bool = False, map_: Node | None = None) -> None:
        super().__init__()
        self.name = name
        self.arguments = arguments
        self.throws = throws
        self.map = map_

    def __str__(self) -> str:
        return f"{self.name}({', '.join(str(a) for a in self.arguments)})"


class Predicate(Node):
    __slots__ = ("node",)
    children = ("node",)

    def __init__(self, node: Node) -> None:
        super().__init__()
        self.node = node

    def __str__(self) -> str:
        return str(self.node)


class Pointer(Node):
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def __str__(self) -> str:
        return f"#{self.name}"


class Conditional(Node):
    __slots__ = ("cond", "exp1", "exp2", "ternary")
    children = ("cond", "exp1", "exp2")

    def __init__(self, cond: Node, exp1: Node, exp2: Node, *, ternary: bool) -> None:
        super().__init__()
        self.cond = cond
        self.exp1 = exp1
        self.exp2 = exp2
        self.ternary = ternary

    def __str__(self) -> str:
        if not self.ternary:
            if isinstance(self.exp2, Conditional) and not self.exp2.ternary:
                return f"if {self.cond} {{ {self.exp1} }} else {self.exp2}"
            return f"if {self.cond} {{ {self.exp1} }} else {{ {self.exp2} }}"

        def part(node: Node) -> str:
            return f"({node})" if isinstance(node, Conditional) else str(node)

        return f"{part(self.cond)} ? {part(self.exp1)} : {part(self.exp2)}"


class VariableDeclarator(Node):
    __slots__ = ("expr", "name", "value")
    children = ("value", "expr")

    def __init__(self, name: str, value: Node, expr: Node) -> None:
        super().__init__()
        self.name = name
        self.value = value
        self.expr = expr

    def __str__(self) -> str:
        return f"let {self.name} = {self.value}; {self.expr}"


class Sequence(Node):
    __slots__ = ("nodes",)
    children = ("nodes",)

    def __init__(self, nodes: list[Node]) -> None:
        super().__init__()
        self.nodes = nodes

    def __str__(self) -> str:
        return "; ".join(str(n) for n in self.nodes)


class Array(Node):
    __slots__ = ("nodes",)
    children = ("nodes",)

    def __init__(self, nodes: list[Node]) -> None:
        super().__init__()
        self.nodes = nodes

    def __str__(self) -> str:
        return "[" + ", ".join(str(n) for n in self.nodes) + "]"


class MapNode(Node):
    __slots__ = ("pairs",)
    children = ("pairs",)

    def __init__(self, pairs: list[Node]) -> None:
        super().__init__()
        self.pairs = pairs

    def __str__(self) -> str:
        return "{" + ", ".join(str(p) for p in self.pairs) + "}"


class Pair(Node):
    __slots__ = ("key", "value")
    children = ("key", "value")

    def __init__(self, key: Node, value: Node) -> None:
        super().__init__()
        self.key = key
        self.value = value

    def __str__(self) -> str:
        if isinstance(self.key, String):
            key = self.key.value if is_valid_identifier(self.key.value) else str(self.key)
            return f"{key}: {self.value}"
        return f"({self.key}): {self.value}"


Visitor = Callable[[Node], Node]


def walk(node: Node, visit: Visitor) -> Node:
    """ast.Walk: children first, then the node; `visit` returns the node or its replacement."""
    for name in node.children:
        child = getattr(node, name)
        if isinstance(child, list):
            for i, item in enumerate(child):
                child[i] = walk(item, visit)
        elif child is not None:
            setattr(node, name, walk(child, visit))
    return visit(node)


def patch(old: Node, new: Node) -> Node:
    """ast.Patch: the replacement takes the old node's location."""
    new.start, new.end = old.start, old.end
    return new


def find(node: Node, predicate: Callable[[Node], bool]) -> Node | None:
    """ast.Find: the first node (children first) for which `predicate` holds."""
    found: list[Node] = []

    def visit(n: Node) -> Node:
        if not found and predicate(n):
            found.append(n)
        return n

    walk(node, visit)
    return found[0] if found else None
