"""The syntax half of the condition language: tokens, the Pratt parser and its limits.

Split from analysis.conditions (which evaluates) so each half stays small. Everything a hostile expression
could use to exhaust the controller is bounded here, before evaluation: expression and literal length,
nesting depth, integer literal size; a syntax error carries the 0-based character position.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_EXPRESSION_LENGTH = 4096
MAX_STRING_LENGTH = 4096
MAX_DEPTH = 48

Value = Any
"""What a condition sees and produces: None, bool, int, float, str, list or dict (JSON-like)."""

FUNCTION_NAMES = frozenset({
    "len", "isNaN", "isInf", "isNil", "default", "asFloat", "float", "asInt", "int", "string", "abs", "min",
    "max", "sum", "mean", "all", "any", "none", "one", "filter", "map", "count",
})
"""Functions a condition may call (implemented in analysis.conditions); anything else is a syntax error."""


class ConditionError(ValueError):
    """A condition could not be parsed or evaluated; `position` is a 0-based character offset."""

    def __init__(self, expression: str, reason: str, position: int | None = None) -> None:
        self.expression = expression
        self.reason = reason
        self.position = position
        where = f" at position {position}" if position is not None else ""
        super().__init__(f"invalid condition {expression!r}{where}: {reason}")


# --- tokens --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # "num", "str", "name", "op", "end"
    text: str
    pos: int
    value: Value = None


_OPERATORS = sorted(
    ["&&", "||", "==", "!=", "<=", ">=", "**", "??", "<", ">", "+", "-", "*", "/", "%", "^", "!", "(", ")",
     "[", "]", "{", "}", ",", ".", "?", ":", "#"],
    key=len, reverse=True,
)
_WORD_OPERATORS = {"and", "or", "not", "in"}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0"}


def tokenize(expression: str) -> list[Token]:
    """Split an expression into tokens; `"a" == 'b'` -> str, op, str, end."""
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise ConditionError(expression[:64] + "...", f"expression longer than {MAX_EXPRESSION_LENGTH}")
    tokens: list[Token] = []
    i, n = 0, len(expression)
    while i < n:
        c = expression[i]
        if c.isspace():
            i += 1
        elif c.isdigit() or (c == "." and i + 1 < n and expression[i + 1].isdigit()):
            i = _number(expression, i, tokens)
        elif c in "\"'`":
            i = _string(expression, i, tokens)
        elif c.isalpha() or c == "_":
            j = i
            while j < n and (expression[j].isalnum() or expression[j] == "_"):
                j += 1
            word = expression[i:j]
            tokens.append(Token("op" if word in _WORD_OPERATORS else "name", word, i))
            i = j
        else:
            for op in _OPERATORS:
                if expression.startswith(op, i):
                    tokens.append(Token("op", op, i))
                    i += len(op)
                    break
            else:
                raise ConditionError(expression, f"unexpected character {c!r}", i)
    tokens.append(Token("end", "", n))
    return tokens


def _number(expression: str, i: int, tokens: list[Token]) -> int:
    j, n = i, len(expression)
    while j < n and (expression[j].isdigit() or expression[j] in "._"):
        j += 1
    if j < n and expression[j] in "eE":
        k = j + 1
        if k < n and expression[k] in "+-":
            k += 1
        if k < n and expression[k].isdigit():
            j = k
            while j < n and expression[j].isdigit():
                j += 1
    text = expression[i:j].replace("_", "")
    if text.endswith(".") and j < n and (expression[j].isalpha() or expression[j] == "."):
        j -= 1  # `1..3` or `1.foo`: the dot belongs to the next token
        text = text[:-1]
    try:
        value: Value = float(text) if any(ch in text for ch in ".eE") else int(text)
    except ValueError:
        raise ConditionError(expression, f"malformed number {expression[i:j]!r}", i) from None
    if isinstance(value, int) and value.bit_length() > 64:
        raise ConditionError(expression, "integer literal too large", i)
    tokens.append(Token("num", expression[i:j], i, value))
    return j


def _string(expression: str, i: int, tokens: list[Token]) -> int:
    quote, j, n = expression[i], i + 1, len(expression)
    out: list[str] = []
    while j < n and expression[j] != quote:
        if expression[j] == "\\" and quote != "`":
            if j + 1 >= n:
                break
            esc = expression[j + 1]
            if esc not in _ESCAPES:
                raise ConditionError(expression, f"unknown escape \\{esc}", j)
            out.append(_ESCAPES[esc])
            j += 2
        else:
            out.append(expression[j])
            j += 1
        if len(out) > MAX_STRING_LENGTH:
            raise ConditionError(expression, f"string literal longer than {MAX_STRING_LENGTH}", i)
    if j >= n:
        raise ConditionError(expression, "unterminated string", i)
    tokens.append(Token("str", expression[i : j + 1], i, "".join(out)))
    return j + 1


# --- AST -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Node:
    kind: str  # lit, name, unary, binary, and, or, ternary, index, call, list, closure, pointer, coalesce
    pos: int
    value: Value = None
    children: tuple[Node, ...] = ()


_BINARY_POWER: dict[str, tuple[int, bool]] = {  # operator -> (binding power, right-associative)
    "??": (5, False),
    "||": (10, False), "or": (10, False),
    "&&": (15, False), "and": (15, False),
    "==": (20, False), "!=": (20, False), "<": (20, False), ">": (20, False), "<=": (20, False),
    ">=": (20, False), "in": (20, False), "not in": (20, False),
    "+": (30, False), "-": (30, False),
    "*": (60, False), "/": (60, False), "%": (60, False),
    "**": (100, True), "^": (100, True),
}
_TERNARY_POWER = 2
_UNARY_POWER = 90
_POSTFIX_POWER = 200


class _Parser:
    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.tokens = tokenize(expression)
        self.i = 0
        self.depth = 0

    def fail(self, reason: str, token: Token | None = None) -> ConditionError:
        tok = token or self.tokens[self.i]
        return ConditionError(self.expression, reason, tok.pos)

    def peek(self) -> Token:
        return self.tokens[self.i]

    def next(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def expect(self, text: str) -> Token:
        tok = self.peek()
        if tok.kind != "op" or tok.text != text:
            found = "end of expression" if tok.kind == "end" else repr(tok.text)
            raise self.fail(f"expected {text!r}, found {found}")
        return self.next()

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise self.fail("empty expression")
        node = self.expr(0)
        if self.peek().kind != "end":
            raise self.fail(f"unexpected {self.peek().text!r}")
        return node

    def _binary_op(self) -> str | None:
        tok = self.peek()
        if tok.kind != "op":
            return None
        if tok.text == "not" and self.tokens[self.i + 1].text == "in":
            return "not in"
        return tok.text if tok.text in _BINARY_POWER or tok.text in ("?", "[", ".", "(") else None

    def expr(self, min_power: int) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"expression nested deeper than {MAX_DEPTH}")
        left = self.prefix()
        while True:
            op = self._binary_op()
            if op is None:
                break
            tok = self.peek()
            if op in ("[", ".", "("):
                left = self.postfix(left)
                continue
            if op == "?":
                if min_power > _TERNARY_POWER:
                    break
                self.next()
                then = self.expr(0)
                self.expect(":")
                other = self.expr(_TERNARY_POWER)
                left = Node("ternary", tok.pos, None, (left, then, other))
                continue
            power, right_assoc = _BINARY_POWER[op]
            if power < min_power or (power == min_power and not right_assoc):
                break
            self.next()
            if op == "not in":
                self.next()
            right = self.expr(power if right_assoc else power + 1)
            kind = {"&&": "and", "and": "and", "||": "or", "or": "or", "??": "coalesce"}.get(op, "binary")
            left = Node(kind, tok.pos, op, (left, right))
        self.depth -= 1
        return left

    def postfix(self, left: Node) -> Node:
        tok = self.next()
        if tok.text == ".":
            name = self.next()
            if name.kind != "name":
                raise self.fail("expected a key name after '.'", name)
            return Node("index", tok.pos, None, (left, Node("lit", name.pos, name.text)))
        if tok.text == "[":
            index = self.expr(0)
            self.expect("]")
            return Node("index", tok.pos, None, (left, index))
        if left.kind != "name":
            raise self.fail("only built-in functions can be called", tok)
        args: list[Node] = []
        if not (self.peek().kind == "op" and self.peek().text == ")"):
            while True:
                args.append(self.closure() if self.peek().text == "{" else self.expr(0))
                if self.peek().text != ",":
                    break
                self.next()
        self.expect(")")
        if left.value not in FUNCTION_NAMES:
            raise ConditionError(self.expression, f"unknown function {left.value!r}", left.pos)
        return Node("call", left.pos, left.value, tuple(args))

    def closure(self) -> Node:
        tok = self.expect("{")
        body = self.expr(0)
        self.expect("}")
        return Node("closure", tok.pos, None, (body,))

    def prefix(self) -> Node:
        tok = self.next()
        if tok.kind in ("num", "str"):
            return Node("lit", tok.pos, tok.value)
        if tok.kind == "name":
            constants = {"true": True, "false": False, "nil": None}
            if tok.text in constants:
                return Node("lit", tok.pos, constants[tok.text])
            return Node("name", tok.pos, tok.text)
        if tok.kind == "op":
            if tok.text in ("!", "not", "-", "+"):
                operand = self.expr(_UNARY_POWER)
                return Node("unary", tok.pos, "!" if tok.text == "not" else tok.text, (operand,))
            if tok.text == "(":
                inner = self.expr(0)
                self.expect(")")
                return inner
            if tok.text == "[":
                items: list[Node] = []
                while self.peek().text != "]":
                    items.append(self.expr(0))
                    if self.peek().text != ",":
                        break
                    self.next()
                self.expect("]")
                return Node("list", tok.pos, None, tuple(items))
            if tok.text == "#":
                return Node("pointer", tok.pos)
        found = "end of expression" if tok.kind == "end" else repr(tok.text)
        raise self.fail(f"unexpected {found}", tok)


def parse(expression: str) -> Node:
    """The syntax tree of an expression; ConditionError with the position of the first syntax error."""
    return _Parser(expression).parse()
