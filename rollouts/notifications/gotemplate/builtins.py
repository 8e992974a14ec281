"""text/template's built-in functions (and, or, not, len, index, slice, print*, eq/ne/lt/le/gt/ge, call,
html, js, urlquery) with Go's argument rules and error messages."""

from __future__ import annotations

import urllib.parse
from typing import Any

from rollouts.notifications.gotemplate.functions import Func, GoError, func
from rollouts.notifications.gotemplate.gofmt import format_value, format_verb, sprint, sprintf, sprintln
from rollouts.notifications.gotemplate.values import (
    MISSING,
    BytesMap,
    GoFunc,
    Iface,
    Int64,
    StrList,
    StrMap,
    element,
    indirect,
    indirect_interface,
    kind,
    length,
    truth,
    type_name,
)
from rollouts.notifications.gotemplate.values import Kind as K


def _index_arg(index: Any, cap: int) -> int:
    if isinstance(index, int) and not isinstance(index, bool):
        x = int(index)
    elif index is MISSING:
        raise GoError("cannot index slice/array with nil")
    else:
        raise GoError(f"cannot index slice/array with type {type_name(index)}")
    if x < 0 or x > cap:
        raise GoError(f"index out of range: {x}")
    return x


@func("index", "value", variadic="value", returns="value")
def _index(item: Any, *indexes: Any) -> Any:
    item = indirect_interface(item)
    if item is MISSING:
        raise GoError("index of untyped nil")
    for index in indexes:
        index = indirect_interface(index)
        item, is_nil = indirect(item)
        if is_nil:
            raise GoError("index of nil pointer")
        if isinstance(item, (list, str, bytes)):
            size = len(item.encode()) if isinstance(item, str) else len(item)
            x = _index_arg(index, size)
            if x == size:
                raise GoError(f"reflect: {'string' if isinstance(item, str) else 'slice'} index out of range")
            if isinstance(item, str):
                item = item.encode()[x]
            elif isinstance(item, bytes):
                item = element(item, item[x])
            else:
                item = element(item, item[x])
        elif isinstance(item, dict):
            if not isinstance(index, str):
                if index is MISSING:
                    raise GoError("value is nil; should be of type string")
                raise GoError(f"value has type {type_name(index)}; should be string")
            if index in item:
                item = element(item, item[index])
            else:
                item = b"" if isinstance(item, BytesMap) else "" if isinstance(item, StrMap) else Iface(None)
        else:
            raise GoError(f"can't index item of type {type_name(item)}")
    return item


@func("slice", "value", variadic="value", returns="value")
def _slice(item: Any, *indexes: Any) -> Any:
    item = indirect_interface(item)
    if item is MISSING:
        raise GoError("slice of untyped nil")
    if len(indexes) > 3:
        raise GoError(f"too many slice indexes: {len(indexes)}")
    raw: list[Any] | bytes
    if isinstance(item, str):
        if len(indexes) == 3:
            raise GoError("cannot 3-index slice a string")
        raw = item.encode()
    elif isinstance(item, (list, bytes)):
        raw = item
    else:
        raise GoError(f"can't slice item of type {type_name(item)}")
    idx = [0, len(raw), len(raw)]
    for i, index in enumerate(indexes):
        idx[i] = _index_arg(indirect_interface(index), len(raw))
    if idx[0] > idx[1]:
        raise GoError(f"invalid slice index: {idx[0]} > {idx[1]}")
    if len(indexes) == 3 and idx[1] > idx[2]:
        raise GoError(f"invalid slice index: {idx[1]} > {idx[2]}")
    part = raw[idx[0]:idx[1]]
    if isinstance(part, bytes):
        return part.decode(errors="replace") if isinstance(item, str) else part
    return StrList(part) if isinstance(item, StrList) else part


@func("len", "value", returns="int")
def _len(item: Any) -> int:
    item, is_nil = indirect(item)
    if is_nil:
        raise GoError("len of nil pointer")
    if item is MISSING:
        raise GoError("reflect: call of reflect.Value.Type on zero Value")
    size = length(item)
    if size is None:
        raise GoError(f"len of type {type_name(item)}")
    return size


@func("not", "value", returns="bool")
def _not(arg: Any) -> bool:
    return not truth(arg)[0]


def _basic(v: Any) -> str:
    k = kind(v)
    return {K.BOOL: "bool", K.INT: "int", K.FLOAT: "float", K.STRING: "string"}.get(k, "invalid")


def _is_nil(v: Any) -> bool:
    if v is MISSING or v is None:
        return True
    if isinstance(v, Iface):
        return v.value is None
    return False


def _eq_one(a: Any, b: Any) -> bool:
    k1, k2 = _basic(a), _basic(b)
    if k1 != k2:
        if a is not MISSING and b is not MISSING:
            raise GoError(f"incompatible types for comparison: {type_name(a)} and {type_name(b)}")
        return False
    if k1 != "invalid":
        return bool(a == b) if k1 != "int" else int(a) == int(b)
    if kind(a) != kind(b) and a is not MISSING and b is not MISSING:
        raise GoError(f"non-comparable types {format_verb('s', a)}: {type_name(a)}, {type_name(b)}: {format_value(b)}")
    if _is_nil(a) or _is_nil(b):
        return _is_nil(a) == _is_nil(b)
    if isinstance(b, (list, dict, bytes, GoFunc)):
        raise GoError(f"non-comparable type {format_verb('s', b)}: {type_name(b)}")
    return bool(a == b)


@func("eq", "value", variadic="value", returns="bool")
def _eq(arg1: Any, *arg2: Any) -> bool:
    arg1 = indirect_interface(arg1)
    if not arg2:
        raise GoError("missing argument for comparison")
    return any(_eq_one(arg1, indirect_interface(a)) for a in arg2)


@func("ne", "value value", returns="bool")
def _ne(a: Any, b: Any) -> bool:
    return not _eq.impl(a, b)


def _lt(a: Any, b: Any) -> bool:
    a, b = indirect_interface(a), indirect_interface(b)
    k1, k2 = _basic(a), _basic(b)
    if k1 == "invalid" or k2 == "invalid":
        raise GoError("invalid type for comparison")
    if k1 != k2:
        raise GoError(f"incompatible types for comparison: {type_name(a)} and {type_name(b)}")
    if k1 == "bool":
        raise GoError("invalid type for comparison")
    if k1 == "string":
        return bool(a.encode() < b.encode())
    return bool(a < b)


@func("lt", "value value", returns="bool")
def _lt_f(a: Any, b: Any) -> bool:
    return _lt(a, b)


@func("le", "value value", returns="bool")
def _le(a: Any, b: Any) -> bool:
    return _lt(a, b) or bool(_eq.impl(a, b))


@func("gt", "value value", returns="bool")
def _gt(a: Any, b: Any) -> bool:
    return not (_lt(a, b) or bool(_eq.impl(a, b)))


@func("ge", "value value", returns="bool")
def _ge(a: Any, b: Any) -> bool:
    return not _lt(a, b)


def _printable(args: tuple[Any, ...]) -> str:
    """evalArgs: one string as is; otherwise Sprint, a nil argument printing as <no value>."""
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return sprint(*(_NO_VALUE if a is None else a for a in args))


class _NoValueStr(str):
    pass


_NO_VALUE = _NoValueStr("<no value>")


def _html(*args: Any) -> str:
    s = _printable(args)
    table = {"\0": "\ufffd", '"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;"}
    return "".join(table.get(c, c) for c in s)


def _js(*args: Any) -> str:
    s = _printable(args)
    out = []
    table = {"\\": "\\\\", "'": "\\'", '"': '\\"', "<": "\\u003C", ">": "\\u003E", "&": "\\u0026", "=": "\\u003D"}
    for c in s:
        if c in table:
            out.append(table[c])
        elif ord(c) < 0x20:
            out.append(f"\\u00{ord(c):02X}")
        elif ord(c) >= 0x80 and not c.isprintable():
            out.append(f"\\u{ord(c):04X}")
        else:
            out.append(c)
    return "".join(out)


def _call(name: str, fn: Any, *args: Any) -> Any:
    fn = indirect_interface(fn)
    if fn is MISSING:
        raise GoError("call of nil")
    if not isinstance(fn, GoFunc):
        raise GoError(f"non-function {name} of type {type_name(fn)}")
    fixed = len(fn.params)
    if fn.variadic is None and len(args) != fixed:
        raise GoError(f"wrong number of args for {name}: got {len(args)} want {fixed}")
    if fn.variadic is not None and len(args) < fixed:
        raise GoError(f"wrong number of args for {name}: got {len(args)} want at least {fixed}")
    argv = []
    for i, arg in enumerate(args):
        typ = fn.params[i] if i < fixed else str(fn.variadic)
        argv.append(_prepare_arg(i, indirect_interface(arg), typ))
    result = fn.impl(*argv)
    return Iface(result) if fn.returns == "any" else result


def _prepare_arg(i: int, value: Any, typ: str) -> Any:
    if value is MISSING:
        if typ in ("any",) or typ.startswith(("[]", "map[")):
            return None
        raise GoError(f"arg {i}: value is nil; should be of type {typ}")
    if typ == "any" or type_name(value) == typ:
        return value
    if typ in ("int", "int64") and isinstance(value, int) and not isinstance(value, bool):
        return Int64(value) if typ == "int64" else int(value)
    raise GoError(f"arg {i}: value has type {type_name(value)}; should be {typ}")


BUILTINS: dict[str, Func] = {
    f.name: f for f in (_index, _slice, _len, _not, _eq, _ne, _lt_f, _le, _gt, _ge)
}
BUILTINS.update({
    "and": Func("and", ("value",), lambda *a: a[-1], returns="value", variadic="value"),
    "or": Func("or", ("value",), lambda *a: a[-1], returns="value", variadic="value"),
    "call": Func("call", ("value",), _call, returns="value", variadic="value"),
    "print": Func("print", (), sprint, returns="string", variadic="any"),
    "printf": Func("printf", ("string",), sprintf, returns="string", variadic="any"),
    "println": Func("println", (), sprintln, returns="string", variadic="any"),
    "html": Func("html", (), _html, returns="string", variadic="any"),
    "js": Func("js", (), _js, returns="string", variadic="any"),
    "urlquery": Func("urlquery", (), lambda *a: urllib.parse.quote_plus(_printable(a), safe="~"),
                     returns="string", variadic="any"),
})
