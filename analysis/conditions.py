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
from functools import lru_cache
from typing import Any

from analysis.condition_syntax import (
    FUNCTION_NAMES,
    MAX_STRING_LENGTH,
    ConditionError,
    Node,
    Value,
    parse,
)

__all__ = ["ConditionError", "Value", "compile_condition", "evaluate", "evaluate_condition"]

MAX_EXPONENT = 1024
MAX_COLLECTION = 100_000


@lru_cache(maxsize=512)
def compile_condition(expression: str) -> Node:
    """Parse once (cached): raises ConditionError with the position of the first syntax error."""
    return parse(expression)


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


assert set(_FUNCTIONS) == FUNCTION_NAMES, "the parser's function names and the evaluator's table must agree"
