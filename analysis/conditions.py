"""Safe evaluation of Argo's successCondition / failureCondition expressions.

Argo evaluates conditions with expr-lang (a Go expression language). The subset real templates use is
small: comparisons, `&&`/`||`/`!` (and `and`/`or`/`not`), arithmetic, `in`, indexing (`result[0]`,
`result["k"]`, `result.k`), a few functions (`len`, `isNaN`, `isInf`, `isNil`, `default`, `asFloat`,
`asInt`, `abs`, `min`, `max`, `sum`, `all`/`any`/`none`/`filter`/`map`/`count` with `{# > 0}`
predicates) and the ternary `a ? b : c`. We hand-write a tokenizer and a Pratt parser instead of using
Python `eval` or a generic evaluator because a condition comes from a user object and runs inside the
controller: there is no attribute access (`.x` only reads map keys), no calls other than the fixed
table, recursion depth, literal and result sizes and exponents are bounded, and a syntax error reports
the expression and the character position so it can be shown on the AnalysisRun.

Leniency beyond expr-lang: a one-element list used where a number is expected acts as that number, so
`result < 0.01` works on a Prometheus vector of one sample as well as `result[0] < 0.01` does. This
never changes the outcome of an expression that expr-lang accepts (expr-lang would reject it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

MAX_EXPRESSION_LENGTH = 4096
MAX_STRING_LENGTH = 4096
MAX_DEPTH = 48
MAX_EXPONENT = 1024
MAX_COLLECTION = 100_000

Value = Any
"""What a condition sees and produces: None, bool, int, float, str, list or dict (JSON-like)."""


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
        if left.value not in _FUNCTIONS:
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


@lru_cache(maxsize=512)
def compile_condition(expression: str) -> Node:
    """Parse once (cached): raises ConditionError with the position of the first syntax error."""
    return _Parser(expression).parse()


def evaluate(expression: str, result: Value) -> Value:
    """Evaluate `expression` with `result` bound; any value (used by tests and `default`-style checks)."""
    node = compile_condition(expression)
    return _Evaluator(expression, result).eval(node)


def evaluate_condition(expression: str, result: Value) -> bool:
    """Evaluate a success/failure condition; it must produce a boolean."""
    value = evaluate(expression, result)
    if not isinstance(value, bool):
        raise ConditionError(expression, f"condition must be a boolean, got {_type_name(value)}")
    return value


# --- evaluation ----------------------------------------------------------------------------------


def _type_name(value: Value) -> str:
    return {type(None): "nil", bool: "bool", int: "int", float: "float", str: "string", list: "array",
            dict: "map"}.get(type(value), type(value).__name__)


def _scalar(value: Value) -> Value:
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


def _is_number(value: Value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class _Evaluator:
    def __init__(self, expression: str, result: Value) -> None:
        self.expression = expression
        self.result = result
        self.pointers: list[Value] = []

    def fail(self, node: Node, reason: str) -> ConditionError:
        return ConditionError(self.expression, reason, node.pos)

    def eval(self, node: Node) -> Value:
        kind = node.kind
        if kind == "lit":
            return node.value
        if kind == "name":
            if node.value == "result":
                return self.result
            raise self.fail(node, f"unknown name {node.value!r} (only 'result' is defined)")
        if kind == "pointer":
            if not self.pointers:
                raise self.fail(node, "'#' is only valid inside a predicate such as all(result, {# > 0})")
            return self.pointers[-1]
        if kind == "and":
            return self.truth(node.children[0]) and self.truth(node.children[1])
        if kind == "or":
            return self.truth(node.children[0]) or self.truth(node.children[1])
        if kind == "coalesce":
            left = self.eval(node.children[0])
            return self.eval(node.children[1]) if left is None else left
        if kind == "ternary":
            chosen = node.children[1] if self.truth(node.children[0]) else node.children[2]
            return self.eval(chosen)
        if kind == "unary":
            return self.unary(node)
        if kind == "binary":
            return self.binary(node, self.eval(node.children[0]), self.eval(node.children[1]))
        if kind == "index":
            return self.index(node, self.eval(node.children[0]), self.eval(node.children[1]))
        if kind == "list":
            return [self.eval(child) for child in node.children]
        if kind == "call":
            return _FUNCTIONS[node.value](self, node)
        raise self.fail(node, f"a predicate {{...}} is only valid as a function argument ({kind})")

    def truth(self, node: Node) -> bool:
        value = self.eval(node)
        if not isinstance(value, bool):
            raise self.fail(node, f"expected a boolean, got {_type_name(value)}")
        return value

    def number(self, node: Node, value: Value) -> int | float:
        value = _scalar(value)
        if not _is_number(value):
            raise self.fail(node, f"expected a number, got {_type_name(value)}")
        return value  # type: ignore[no-any-return]

    def unary(self, node: Node) -> Value:
        value = self.eval(node.children[0])
        if node.value == "!":
            if not isinstance(value, bool):
                raise self.fail(node, f"'!' needs a boolean, got {_type_name(value)}")
            return not value
        number = self.number(node, value)
        return -number if node.value == "-" else number

    def binary(self, node: Node, left: Value, right: Value) -> Value:
        op = node.value
        if op in ("==", "!="):
            numeric = _is_number(_scalar(left))
            equal = _equal(_scalar(left), _scalar(right)) if numeric else _equal(left, right)
            return equal if op == "==" else not equal
        if op in ("in", "not in"):
            return self.contains(node, left, right) == (op == "in")
        if op == "+" and isinstance(left, str) and isinstance(right, str):
            if len(left) + len(right) > MAX_STRING_LENGTH:
                raise self.fail(node, f"string longer than {MAX_STRING_LENGTH}")
            return left + right
        if op in ("<", ">", "<=", ">=") and isinstance(left, str) and isinstance(right, str):
            return _COMPARE[op](left, right)
        a, b = self.number(node, left), self.number(node, right)
        if op in _COMPARE:
            return _COMPARE[op](a, b)
        return self.arithmetic(node, op, a, b)

    def arithmetic(self, node: Node, op: str, a: int | float, b: int | float) -> Value:
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op in ("**", "^"):
            if abs(b) > MAX_EXPONENT:
                raise self.fail(node, f"exponent {b} exceeds the limit of {MAX_EXPONENT}")
            try:
                return math.pow(a, b)
            except (OverflowError, ValueError) as exc:
                raise self.fail(node, f"cannot raise {a} to {b}: {exc}") from None
        if op == "/":
            if b == 0:
                return math.copysign(math.inf, a) if a and not math.isnan(a) else math.nan
            return a / b
        if b == 0:
            raise self.fail(node, "modulo by zero")
        if isinstance(a, int) and isinstance(b, int):
            return int(math.fmod(a, b))
        return math.fmod(a, b)

    def contains(self, node: Node, item: Value, container: Value) -> bool:
        if isinstance(container, list):
            return any(_equal(item, element) for element in container)
        if isinstance(container, dict):
            return item in container if isinstance(item, str) else False
        if isinstance(container, str) and isinstance(item, str):
            return item in container
        raise self.fail(node, f"'in' needs an array, map or string on the right, got {_type_name(container)}")

    def index(self, node: Node, container: Value, key: Value) -> Value:
        if isinstance(container, dict):
            if not isinstance(key, str):
                raise self.fail(node, f"map keys are strings, got {_type_name(key)}")
            return container.get(key)
        if isinstance(container, list | str):
            if not isinstance(key, int) or isinstance(key, bool):
                raise self.fail(node, f"array index must be an integer, got {_type_name(key)}")
            size = len(container)
            position = key + size if key < 0 else key
            if not 0 <= position < size:
                raise self.fail(node, f"index {key} out of range (length {size})")
            return container[position]
        if container is None:
            raise self.fail(node, "cannot index nil (the metric returned no value)")
        raise self.fail(node, f"cannot index {_type_name(container)}")

    def collection(self, node: Node, value: Value) -> list[Value]:
        if isinstance(value, list):
            return value
        if isinstance(value, dict):
            return list(value.values())
        raise self.fail(node, f"expected an array, got {_type_name(value)}")

    def predicate(self, node: Node, item: Value) -> Value:
        self.pointers.append(item)
        try:
            return self.eval(node.children[0])
        finally:
            self.pointers.pop()


def _equal(a: Value, b: Value) -> bool:
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    if type(a) is not type(b):
        return False
    return bool(a == b)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b,
}

# --- functions -----------------------------------------------------------------------------------

_Function = Callable[[_Evaluator, Node], Value]


def _args(ev: _Evaluator, node: Node, count: int | Sequence[int]) -> list[Value]:
    allowed = (count,) if isinstance(count, int) else tuple(count)
    if len(node.children) not in allowed:
        want = " or ".join(str(c) for c in allowed)
        raise ev.fail(node, f"{node.value}() takes {want} argument(s), got {len(node.children)}")
    return [ev.eval(child) for child in node.children if child.kind != "closure"]


def _len(ev: _Evaluator, node: Node) -> Value:
    (value,) = _args(ev, node, 1)
    if isinstance(value, list | dict | str):
        return len(value)
    raise ev.fail(node, f"len() needs an array, map or string, got {_type_name(value)}")


def _is_nan(ev: _Evaluator, node: Node) -> Value:
    (value,) = _args(ev, node, 1)
    return math.isnan(ev.number(node, value))


def _is_inf(ev: _Evaluator, node: Node) -> Value:
    args = _args(ev, node, (1, 2))
    number = ev.number(node, args[0])
    sign = int(ev.number(node, args[1])) if len(args) == 2 else 0
    return math.isinf(number) and (sign == 0 or (number > 0) == (sign > 0))


def _is_nil(ev: _Evaluator, node: Node) -> Value:
    (value,) = _args(ev, node, 1)
    return value is None


def _default(ev: _Evaluator, node: Node) -> Value:
    value, fallback = _args(ev, node, 2)
    empty = value is None or (isinstance(value, list | dict | str) and len(value) == 0)
    return fallback if empty else value


def _as_float(ev: _Evaluator, node: Node) -> Value:
    (value,) = _args(ev, node, 1)
    value = _scalar(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise ev.fail(node, f"cannot convert {value[:40]!r} to a number") from None
    return float(ev.number(node, value))


def _as_int(ev: _Evaluator, node: Node) -> Value:
    number = _as_float(ev, node)
    if math.isnan(number) or math.isinf(number):
        raise ev.fail(node, f"cannot convert {number} to an integer")
    return int(number)


def _string_fn(ev: _Evaluator, node: Node) -> Value:
    (value,) = _args(ev, node, 1)
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, bool):
        return {None: "nil", True: "true", False: "false"}[value]
    return str(value)[:MAX_STRING_LENGTH]


def _abs(ev: _Evaluator, node: Node) -> Value:
    (value,) = _args(ev, node, 1)
    return abs(ev.number(node, value))


def _numbers(ev: _Evaluator, node: Node) -> list[int | float]:
    args = [ev.eval(child) for child in node.children]
    items = args[0] if len(args) == 1 and isinstance(args[0], list) else args
    if not items:
        raise ev.fail(node, f"{node.value}() of nothing")
    return [ev.number(node, item) for item in items]


def _min(ev: _Evaluator, node: Node) -> Value:
    return min(_numbers(ev, node))


def _max(ev: _Evaluator, node: Node) -> Value:
    return max(_numbers(ev, node))


def _sum(ev: _Evaluator, node: Node) -> Value:
    (value,) = _args(ev, node, 1)
    return sum(ev.number(node, item) for item in ev.collection(node, value))


def _mean(ev: _Evaluator, node: Node) -> Value:
    (value,) = _args(ev, node, 1)
    items = [ev.number(node, item) for item in ev.collection(node, value)]
    return sum(items) / len(items) if items else math.nan


def _with_predicate(kind: str) -> _Function:
    def run(ev: _Evaluator, node: Node) -> Value:
        if len(node.children) != 2 or node.children[1].kind != "closure":
            raise ev.fail(node, f"{kind}() takes an array and a predicate, e.g. {kind}(result, {{# > 0}})")
        items = ev.collection(node, ev.eval(node.children[0]))
        if len(items) > MAX_COLLECTION:
            raise ev.fail(node, f"array longer than {MAX_COLLECTION}")
        closure = node.children[1]
        if kind == "map":
            return [ev.predicate(closure, item) for item in items]
        hits = []
        for item in items:
            verdict = ev.predicate(closure, item)
            if not isinstance(verdict, bool):
                raise ev.fail(closure, f"predicate must be a boolean, got {_type_name(verdict)}")
            if verdict:
                hits.append(item)
        return {"all": len(hits) == len(items), "any": bool(hits), "none": not hits, "one": len(hits) == 1,
                "filter": hits, "count": len(hits)}[kind]

    return run


_FUNCTIONS: dict[str, _Function] = {
    "len": _len, "isNaN": _is_nan, "isInf": _is_inf, "isNil": _is_nil, "default": _default,
    "asFloat": _as_float, "float": _as_float, "asInt": _as_int, "int": _as_int, "string": _string_fn,
    "abs": _abs, "min": _min, "max": _max, "sum": _sum, "mean": _mean,
    **{name: _with_predicate(name) for name in ("all", "any", "none", "one", "filter", "map", "count")},
}
