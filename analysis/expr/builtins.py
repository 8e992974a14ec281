"""The table of expr-lang v1.17's builtins: each one's Go signatures (for the type checker), its
compile-time validation (with expr's messages) and its implementation.

A builtin is checked either against its `types` (overloads, tried in order, as expr does) or by its
`validate` function, which sees the static argument types (None when unknown). `fast` builtins take one
argument; `func` ones any number; `safe` ones also report memory to expr's budget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from analysis.expr import builtins_arrays as arrays
from analysis.expr import builtins_data as data
from analysis.expr import builtins_numbers as numbers
from analysis.expr import builtins_text as text
from analysis.expr import gotypes as t
from analysis.expr.gotypes import GoType, Kind
from analysis.expr.values import Value


class ValidationError(Exception):
    """A builtin's compile-time rejection; the text is expr's."""


Validator = Callable[[list[GoType | None]], GoType | None]


@dataclass(frozen=True, eq=False)
class Function:
    name: str
    fast: Callable[[Value], Value] | None = None
    func: Callable[..., Value] | None = None
    safe: Callable[..., tuple[Value, int]] | None = None
    types: tuple[GoType, ...] = ()
    validate: Validator | None = None
    deref: Callable[[int, GoType], bool] | None = None
    predicate: bool = False
    cost: Callable[..., int] | None = field(default=None)  # memory to charge before a `safe` call runs

    @property
    def type(self) -> GoType:
        if self.types:
            return self.types[0]
        return t.func_of((t.ANY_SLICE,), (t.ANY, t.ERROR), variadic=True)


def _f(*params: GoType, out: GoType, variadic: bool = False) -> GoType:
    return t.func_of(tuple(params), (out,), variadic=variadic)


ANY, BOOL, INT, FLOAT, STRING = t.ANY, t.BOOL, t.INT, t.FLOAT64, t.STRING
_NUMERIC_KINDS = frozenset({Kind.FLOAT32, Kind.FLOAT64, *t.INTEGER_KINDS})


def _kind(typ: GoType | None) -> Kind:
    if typ is None:
        return Kind.INVALID
    while typ.kind == Kind.PTR and typ.elem is not None:
        typ = typ.elem
    return typ.kind


def _shown(typ: GoType | None) -> str:
    """A reflect.Type formatted with %s, as expr's validators format it (a nil Type prints "%!s(<nil>)")."""
    return "%!s(<nil>)" if typ is None else typ.string()


def _arity(args: list[GoType | None], expected: int) -> None:
    if len(args) != expected:
        raise ValidationError(f"invalid number of arguments (expected {expected}, got {len(args)})")


def _validate_kinds(name: str, kinds: frozenset[Kind], result: Callable[[GoType | None], GoType | None],
                    message: str = "invalid argument for {name} (type {type})") -> Validator:
    def validate(args: list[GoType | None]) -> GoType | None:
        _arity(args, 1)
        if _kind(args[0]) in kinds or _kind(args[0]) == Kind.INTERFACE:
            return result(args[0])
        raise ValidationError(message.format(name=name, type=_shown(args[0])))

    return validate


_LEN_KINDS = frozenset({Kind.ARRAY, Kind.MAP, Kind.SLICE, Kind.STRING})
_SEQ_KINDS = frozenset({Kind.SLICE, Kind.ARRAY})


def _validate_conversion(name: str, out: GoType) -> Validator:
    return _validate_kinds(name, _NUMERIC_KINDS | {Kind.STRING}, lambda _: out)


def _validate_aggregate(name: str) -> Validator:
    def validate(args: list[GoType | None]) -> GoType | None:
        if not args:
            raise ValidationError(f"not enough arguments to call {name}")
        for arg in args:
            kind = _kind(arg)
            if kind in (Kind.INTERFACE, Kind.ARRAY, Kind.SLICE):
                return ANY
            if kind not in _NUMERIC_KINDS:
                raise ValidationError(f"invalid argument for {name} (type {_shown(arg)})")
        return args[0]

    return validate


def _validate_first_last(what: str) -> Validator:
    def validate(args: list[GoType | None]) -> GoType | None:
        _arity(args, 1)
        kind = _kind(args[0])
        if kind == Kind.INTERFACE:
            return ANY
        if kind in _SEQ_KINDS:
            assert args[0] is not None
            return args[0].elem
        raise ValidationError(f"cannot get {what} element from {_shown(args[0])}")

    return validate


def _validate_take(args: list[GoType | None]) -> GoType | None:
    _arity(args, 2)
    if _kind(args[0]) not in (Kind.INTERFACE, Kind.SLICE, Kind.ARRAY):
        raise ValidationError(f"cannot take from {_shown(args[0])}")
    if _kind(args[1]) not in (Kind.INTERFACE, Kind.INT, Kind.INT8, Kind.INT16, Kind.INT32, Kind.INT64):
        raise ValidationError(f"cannot take {_shown(args[1])} elements")
    return args[0]


def _validate_map(message: str, out: GoType) -> Validator:
    def validate(args: list[GoType | None]) -> GoType | None:
        _arity(args, 1)
        if _kind(args[0]) in (Kind.INTERFACE, Kind.MAP):
            return out
        raise ValidationError(message.format(type=_shown(args[0])))

    return validate


def _validate_sequence(message: str, out: GoType) -> Validator:
    def validate(args: list[GoType | None]) -> GoType | None:
        _arity(args, 1)
        if _kind(args[0]) in (Kind.INTERFACE, Kind.SLICE, Kind.ARRAY):
            return out
        raise ValidationError(message.format(type=_shown(args[0])))

    return validate


def _validate_concat(args: list[GoType | None]) -> GoType | None:
    if not args:
        raise ValidationError("invalid number of arguments (expected at least 1, got 0)")
    for arg in args:
        if _kind(arg) not in (Kind.INTERFACE, Kind.SLICE, Kind.ARRAY):
            raise ValidationError(f"cannot concat {_shown(arg)}")
    return t.ANY_SLICE


def _validate_now(args: list[GoType | None]) -> GoType | None:
    if not args:
        return t.TIME
    if len(args) == 1 and args[0] is not None and args[0].assignable_to(t.LOCATION_PTR):
        return t.TIME
    raise ValidationError(f"invalid number of arguments (expected 0, got {len(args)})")


def _validate_date(args: list[GoType | None]) -> GoType | None:
    if not args:
        raise ValidationError(f"invalid number of arguments (expected at least 1, got {len(args)})")
    if args[0] is not None and args[0].assignable_to(t.LOCATION_PTR):
        args = args[1:]
    if len(args) > 3:
        raise ValidationError(f"invalid number of arguments (expected at most 3, got {len(args)})")
    return t.TIME


def _validate_len(args: list[GoType | None]) -> GoType | None:
    _arity(args, 1)
    if _kind(args[0]) in _LEN_KINDS | {Kind.INTERFACE}:
        return INT
    raise ValidationError(f"invalid argument for len (type {_shown(args[0])})")


def _predicate(name: str, signature: GoType) -> Function:
    return Function(name, types=(signature,), predicate=True)


_PRED_BOOL = t.func_of((ANY,), (BOOL,))
_PRED_ANY = t.func_of((ANY,), (ANY,))

BUILTINS: tuple[Function, ...] = (
    _predicate("all", _f(t.ANY_SLICE, _PRED_BOOL, out=BOOL)),
    _predicate("none", _f(t.ANY_SLICE, _PRED_BOOL, out=BOOL)),
    _predicate("any", _f(t.ANY_SLICE, _PRED_BOOL, out=BOOL)),
    _predicate("one", _f(t.ANY_SLICE, _PRED_BOOL, out=BOOL)),
    _predicate("filter", _f(t.ANY_SLICE, _PRED_BOOL, out=t.ANY_SLICE)),
    _predicate("map", _f(t.ANY_SLICE, _PRED_ANY, out=t.ANY_SLICE)),
    _predicate("find", _f(t.ANY_SLICE, _PRED_BOOL, out=ANY)),
    _predicate("findIndex", _f(t.ANY_SLICE, _PRED_BOOL, out=INT)),
    _predicate("findLast", _f(t.ANY_SLICE, _PRED_BOOL, out=ANY)),
    _predicate("findLastIndex", _f(t.ANY_SLICE, _PRED_BOOL, out=INT)),
    _predicate("count", _f(t.ANY_SLICE, _PRED_BOOL, out=INT)),
    _predicate("sum", _f(t.ANY_SLICE, _PRED_BOOL, out=INT)),
    _predicate("groupBy", _f(t.ANY_SLICE, _PRED_ANY, out=t.GROUP_BY_MAP)),
    _predicate("sortBy", _f(t.ANY_SLICE, _PRED_BOOL, STRING, out=t.ANY_SLICE)),
    _predicate("reduce", _f(t.ANY_SLICE, t.func_of((ANY, ANY), (ANY,)), ANY, out=ANY)),
    Function("len", fast=numbers.builtin_len, validate=_validate_len),
    Function("type", fast=numbers.builtin_type, types=(_f(ANY, out=STRING),)),
    Function("abs", fast=numbers.builtin_abs, validate=_validate_kinds("abs", _NUMERIC_KINDS, lambda a: a)),
    Function("ceil", fast=numbers.builtin_ceil,  # type: ignore[arg-type]
             validate=_validate_kinds("ceil", _NUMERIC_KINDS, lambda _: FLOAT)),
    Function("floor", fast=numbers.builtin_floor,  # type: ignore[arg-type]
             validate=_validate_kinds("floor", _NUMERIC_KINDS, lambda _: FLOAT)),
    Function("round", fast=numbers.builtin_round,  # type: ignore[arg-type]
             validate=_validate_kinds("round", _NUMERIC_KINDS, lambda _: FLOAT)),
    Function("int", fast=numbers.builtin_int, validate=_validate_conversion("int", INT)),
    Function("float", fast=numbers.builtin_float, validate=_validate_conversion("float", FLOAT)),
    Function("string", fast=numbers.builtin_string, types=(_f(ANY, out=STRING),)),
    Function("trim", func=text.builtin_trim, types=(_f(STRING, out=STRING), _f(STRING, STRING, out=STRING))),
    Function("trimPrefix", func=text.builtin_trim_prefix,
             types=(_f(STRING, STRING, out=STRING), _f(STRING, out=STRING))),
    Function("trimSuffix", func=text.builtin_trim_suffix,
             types=(_f(STRING, STRING, out=STRING), _f(STRING, out=STRING))),
    Function("upper", fast=text.builtin_upper, types=(_f(STRING, out=STRING),)),
    Function("lower", fast=text.builtin_lower, types=(_f(STRING, out=STRING),)),
    Function("split", func=text.builtin_split,  # type: ignore[arg-type]
             types=(_f(STRING, STRING, out=t.STRING_SLICE), _f(STRING, STRING, INT, out=t.STRING_SLICE))),
    Function("splitAfter", func=text.builtin_split_after,  # type: ignore[arg-type]
             types=(_f(STRING, STRING, out=t.STRING_SLICE), _f(STRING, STRING, INT, out=t.STRING_SLICE))),
    Function("replace", func=text.builtin_replace,
             types=(_f(STRING, STRING, STRING, INT, out=STRING), _f(STRING, STRING, STRING, out=STRING))),
    Function("repeat", safe=lambda *a: (text.builtin_repeat(*a), 0), cost=text.repeat_cost,
             types=(_f(STRING, INT, out=STRING),)),
    Function("join", func=text.builtin_join,
             types=(_f(t.STRING_SLICE, STRING, out=STRING), _f(t.ANY_SLICE, STRING, out=STRING),
                    _f(t.ANY_SLICE, out=STRING), _f(t.STRING_SLICE, STRING, out=STRING),
                    _f(t.STRING_SLICE, out=STRING))),
    Function("indexOf", func=text.builtin_index_of, types=(_f(STRING, STRING, out=INT),)),
    Function("lastIndexOf", func=text.builtin_last_index_of, types=(_f(STRING, STRING, out=INT),)),
    Function("hasPrefix", func=text.builtin_has_prefix, types=(_f(STRING, STRING, out=BOOL),)),
    Function("hasSuffix", func=text.builtin_has_suffix, types=(_f(STRING, STRING, out=BOOL),)),
    Function("max", func=numbers.builtin_max, validate=_validate_aggregate("max")),
    Function("min", func=numbers.builtin_min, validate=_validate_aggregate("min")),
    Function("mean", func=numbers.builtin_mean, validate=_validate_aggregate("mean")),
    Function("median", func=numbers.builtin_median, validate=_validate_aggregate("median")),
    Function("toJSON", func=data.builtin_to_json, types=(_f(ANY, out=STRING),)),
    Function("fromJSON", func=data.builtin_from_json, types=(_f(STRING, out=ANY),)),
    Function("toBase64", func=data.builtin_to_base64, types=(_f(STRING, out=STRING),)),
    Function("fromBase64", func=data.builtin_from_base64, types=(_f(STRING, out=STRING),)),
    Function("now", func=data.builtin_now, validate=_validate_now, deref=lambda i, a: False),
    Function("duration", func=data.builtin_duration,
             types=(t.func_of((STRING,), (t.DURATION, t.ERROR)),)),
    Function("date", func=data.builtin_date, validate=_validate_date,
             deref=lambda i, a: not a.assignable_to(t.LOCATION_PTR)),
    Function("timezone", func=data.builtin_timezone, types=(t.func_of((STRING,), (t.LOCATION_PTR, t.ERROR)),)),
    Function("first", func=arrays.builtin_first, validate=_validate_first_last("first")),
    Function("last", func=arrays.builtin_last, validate=_validate_first_last("last")),
    Function("get", func=arrays.builtin_get),
    Function("take", func=arrays.builtin_take, validate=_validate_take),
    Function("keys", func=arrays.builtin_keys, validate=_validate_map("cannot get keys from {type}", t.ANY_SLICE)),
    Function("values", func=arrays.builtin_values,
             validate=_validate_map("cannot get values from {type}", t.ANY_SLICE)),
    Function("toPairs", func=arrays.builtin_to_pairs,
             validate=_validate_map("cannot transform {type} to pairs", t.ANY_SLICE)),
    Function("fromPairs", func=arrays.builtin_from_pairs,
             validate=_validate_sequence("cannot transform {type} from pairs", t.ANY_ANY_MAP)),
    Function("reverse", safe=arrays.builtin_reverse, validate=_validate_sequence("cannot reverse {type}", t.ANY_SLICE)),
    Function("uniq", func=arrays.builtin_uniq, validate=_validate_sequence("cannot uniq {type}", t.ANY_SLICE)),
    Function("concat", safe=arrays.builtin_concat, validate=_validate_concat),
    Function("flatten", safe=arrays.builtin_flatten, validate=_validate_sequence("cannot flatten {type}", t.ANY_SLICE)),
    Function("sort", safe=arrays.builtin_sort,
             types=(_f(t.ANY_SLICE, STRING, out=t.ANY_SLICE), _f(t.INT_SLICE, STRING, out=t.ANY_SLICE),
                    _f(t.FLOAT64_SLICE, STRING, out=t.ANY_SLICE), _f(t.STRING_SLICE, STRING, out=t.ANY_SLICE),
                    _f(t.ANY_SLICE, out=t.ANY_SLICE), _f(t.FLOAT64_SLICE, out=t.ANY_SLICE),
                    _f(t.STRING_SLICE, out=t.ANY_SLICE), _f(t.INT_SLICE, out=t.ANY_SLICE))),
    *(Function(name, func=numbers.bit_function(name), types=(_f(INT, INT, out=INT),))  # type: ignore[arg-type]
      for name in ("bitand", "bitor", "bitxor", "bitnand", "bitshl", "bitshr", "bitushr")),
    Function("bitnot", func=numbers.builtin_bitnot, types=(_f(INT, out=INT),)),
)

BY_NAME: dict[str, Function] = {f.name: f for f in BUILTINS}
NAMES: frozenset[str] = frozenset(BY_NAME)
