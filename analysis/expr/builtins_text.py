"""expr's string builtins (trim*, upper, lower, split*, replace, repeat, join, indexOf, hasPrefix...),
with Go's semantics: byte offsets, Go's whitespace, rune-by-rune case mapping, SplitN's n."""

from __future__ import annotations

from analysis.expr import gotypes as t
from analysis.expr.runtime import GoPanic, as_string, to_int
from analysis.expr.strings import byte_index, byte_last_index
from analysis.expr.values import Slice, Value, type_name

_GO_SPACE = "\t\n\v\f\r \x85\xa0"


def _is_go_space(ch: str) -> bool:
    return ch in _GO_SPACE if ord(ch) < 256 else ch.isspace()


def trim_space(s: str) -> str:
    start, end = 0, len(s)
    while start < end and _is_go_space(s[start]):
        start += 1
    while end > start and _is_go_space(s[end - 1]):
        end -= 1
    return s[start:end]


def builtin_trim(*args: Value) -> Value:
    if len(args) == 1:
        return trim_space(as_string(args[0]))
    if len(args) == 2:
        cutset = as_string(args[1])
        return as_string(args[0]).strip(cutset) if cutset else as_string(args[0])
    raise GoPanic(f"invalid number of arguments for trim (expected 1 or 2, got {len(args)})")


def builtin_trim_prefix(*args: Value) -> Value:
    prefix = as_string(args[1]) if len(args) == 2 else " "
    s = as_string(args[0])
    return s[len(prefix):] if prefix and s.startswith(prefix) else s


def builtin_trim_suffix(*args: Value) -> Value:
    suffix = as_string(args[1]) if len(args) == 2 else " "
    s = as_string(args[0])
    return s[:-len(suffix)] if suffix and s.endswith(suffix) else s


def _map_runes(s: str, upper: bool) -> str:
    out = []
    for ch in s:
        mapped = ch.upper() if upper else ch.lower()
        out.append(mapped if len(mapped) == 1 else ch)
    return "".join(out)


def builtin_upper(value: Value) -> Value:
    return _map_runes(as_string(value), upper=True)


def builtin_lower(value: Value) -> Value:
    return _map_runes(as_string(value), upper=False)


def _explode(s: str, n: int) -> list[str]:
    if n < 0 or n > len(s):
        n = len(s)
    if n == 0:
        return []
    return [*list(s[:n - 1]), s[n - 1:]] if n < len(s) else list(s)


def split_n(s: str, sep: str, n: int, *, after: bool = False) -> list[str] | None:
    """strings.SplitN / SplitAfterN: None (a nil slice) for n == 0."""
    if n == 0:
        return None
    if sep == "":
        return _explode(s, n)
    if n < 0:
        n = s.count(sep) + 1
    parts: list[str] = []
    rest = s
    while len(parts) < n - 1:
        index = rest.find(sep)
        if index < 0:
            break
        cut = index + len(sep) if after else index
        parts.append(rest[:cut])
        rest = rest[index + len(sep):]
    parts.append(rest)
    return parts


def _split(name: str, *, after: bool) -> object:
    def run(*args: Value) -> Value:
        if len(args) not in (2, 3):
            raise GoPanic(f"invalid number of arguments for {name} (expected 2 or 3, got {len(args)})")
        n = to_int(args[2]) if len(args) == 3 else -1
        return Slice(t.STRING_SLICE, split_n(as_string(args[0]), as_string(args[1]), n, after=after))

    return run


builtin_split = _split("split", after=False)
builtin_split_after = _split("splitAfter", after=True)


def builtin_replace(*args: Value) -> Value:
    if len(args) == 4:
        return as_string(args[0]).replace(as_string(args[1]), as_string(args[2]), to_int(args[3]))
    if len(args) == 3:
        return as_string(args[0]).replace(as_string(args[1]), as_string(args[2]))
    raise GoPanic(f"invalid number of arguments for replace (expected 3 or 4, got {len(args)})")


REPEAT_LIMIT = 1_000_000


def repeat_cost(*args: Value) -> int:
    """The memory `repeat` reports to expr's budget: len(s) * n, checked before the string is built."""
    from analysis.expr.strings import byte_len

    s, n = as_string(args[0]), to_int(args[1])
    if n < 0:
        raise GoPanic(f"invalid argument for repeat (expected positive integer, got {n})")
    if n > REPEAT_LIMIT:
        raise GoPanic("memory budget exceeded")
    return byte_len(s) * n


def builtin_repeat(*args: Value) -> Value:
    return as_string(args[0]) * to_int(args[1])


def builtin_join(*args: Value) -> Value:
    glue = as_string(args[1]) if len(args) == 2 else ""
    value = args[0]
    if isinstance(value, Slice) and value.type == t.STRING_SLICE:
        return glue.join(value.items or [])
    if isinstance(value, list):
        return glue.join(as_string(item) for item in value)
    raise GoPanic(f"invalid argument for join (type {type_name(value)})")


def builtin_index_of(*args: Value) -> Value:
    return byte_index(as_string(args[0]), as_string(args[1]))


def builtin_last_index_of(*args: Value) -> Value:
    return byte_last_index(as_string(args[0]), as_string(args[1]))


def builtin_has_prefix(*args: Value) -> Value:
    return as_string(args[0]).startswith(as_string(args[1]))


def builtin_has_suffix(*args: Value) -> Value:
    return as_string(args[0]).endswith(as_string(args[1]))
