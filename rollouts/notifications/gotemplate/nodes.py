"""The parse tree of a Go template: the node kinds of text/template/parse, with Go's String() forms (error
messages quote them: ``executing "t" at <.rollout.foo>: ...``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False)
class TextNode:
    pos: int
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(eq=False)
class CommentNode:
    pos: int
    text: str

    def __str__(self) -> str:
        return "{{" + self.text + "}}"


@dataclass(eq=False)
class DotNode:
    pos: int

    def __str__(self) -> str:
        return "."


@dataclass(eq=False)
class NilNode:
    pos: int

    def __str__(self) -> str:
        return "nil"


@dataclass(eq=False)
class BoolNode:
    pos: int
    value: bool

    def __str__(self) -> str:
        return "true" if self.value else "false"


@dataclass(eq=False)
class NumberNode:
    pos: int
    text: str
    is_int: bool = False
    is_uint: bool = False
    is_float: bool = False
    is_complex: bool = False
    int_value: int = 0
    uint_value: int = 0
    float_value: float = 0.0

    def __str__(self) -> str:
        return self.text


@dataclass(eq=False)
class StringNode:
    pos: int
    quoted: str
    text: str

    def __str__(self) -> str:
        return self.quoted


@dataclass(eq=False)
class IdentifierNode:
    pos: int
    ident: str

    def __str__(self) -> str:
        return self.ident


@dataclass(eq=False)
class FieldNode:
    pos: int
    ident: list[str]

    def __str__(self) -> str:
        return "".join("." + i for i in self.ident)


@dataclass(eq=False)
class VariableNode:
    pos: int
    ident: list[str]

    def __str__(self) -> str:
        return ".".join(self.ident)


@dataclass(eq=False)
class ChainNode:
    pos: int
    node: Any
    field: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        base = f"({self.node})" if isinstance(self.node, PipeNode) else str(self.node)
        return base + "".join("." + f for f in self.field)


@dataclass(eq=False)
class CommandNode:
    pos: int
    args: list[Any] = field(default_factory=list)

    def __str__(self) -> str:
        return " ".join(f"({a})" if isinstance(a, PipeNode) else str(a) for a in self.args)


@dataclass(eq=False)
class PipeNode:
    pos: int
    line: int
    decl: list[VariableNode] = field(default_factory=list)
    is_assign: bool = False
    cmds: list[CommandNode] = field(default_factory=list)

    def __str__(self) -> str:
        head = ""
        if self.decl:
            head = ", ".join(str(v) for v in self.decl) + (" = " if self.is_assign else " := ")
        return head + " | ".join(str(c) for c in self.cmds)


@dataclass(eq=False)
class ActionNode:
    pos: int
    line: int
    pipe: PipeNode

    def __str__(self) -> str:
        return "{{" + str(self.pipe) + "}}"


@dataclass(eq=False)
class ListNode:
    pos: int
    nodes: list[Any] = field(default_factory=list)

    def __str__(self) -> str:
        return "".join(str(n) for n in self.nodes)


@dataclass(eq=False)
class BranchNode:
    """if / range / with."""

    kind: str
    pos: int
    line: int
    pipe: PipeNode
    list: ListNode
    else_list: ListNode | None

    def __str__(self) -> str:
        tail = "{{else}}" + str(self.else_list) if self.else_list is not None else ""
        return "{{" + self.kind + " " + str(self.pipe) + "}}" + str(self.list) + tail + "{{end}}"


@dataclass(eq=False)
class BreakNode:
    pos: int
    line: int

    def __str__(self) -> str:
        return "{{break}}"


@dataclass(eq=False)
class ContinueNode:
    pos: int
    line: int

    def __str__(self) -> str:
        return "{{continue}}"


@dataclass(eq=False)
class EndNode:
    pos: int

    def __str__(self) -> str:
        return "{{end}}"


@dataclass(eq=False)
class ElseNode:
    pos: int
    line: int

    def __str__(self) -> str:
        return "{{else}}"


Operand = (
    DotNode | NilNode | BoolNode | NumberNode | StringNode | IdentifierNode | FieldNode | VariableNode | ChainNode
    | PipeNode
)
