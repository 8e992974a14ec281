"""The subset of sprig (v3.3.0, as the notifications engine registers it, without env/expandenv) that
notification templates use: strings, numbers, defaults, JSON, lists, dicts, dates, regexes, paths, encodings.

Every function keeps sprig's Go signature (argument conversion follows it) and sprig's quirks (``toDate``
returns the zero time on a bad input, ``b64dec`` returns the error text, ``split`` returns a map keyed
``_0``, ``_1``...). The rest of sprig is listed in ``UNSUPPORTED``: naming one fails at parse time with its
name and position, instead of "not defined".
"""

from __future__ import annotations

import base64
import hashlib
import math
import posixpath
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from rollouts.notifications.gotemplate import gojson
from rollouts.notifications.gotemplate.functions import Func, GoError, func
from rollouts.notifications.gotemplate.gofmt import format_value, go_quote
from rollouts.notifications.gotemplate.gotime import go_format, go_parse
from rollouts.notifications.gotemplate.values import (
    MISSING,
    GoFunc,
    Int64,
    IntList,
    StrList,
    StrMap,
    Uint8,
    kind,
    type_name,
)

ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)


# -- conversions (spf13/cast as sprig uses it) --------------------------------------------------------------


def strval(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bytes):
        return v.decode(errors="replace")
    return format_value(v)


def _trim_zero_decimal(s: str) -> str:
    found_zero = False
    for i in range(len(s), 0, -1):
        ch = s[i - 1]
        if ch == ".":
            if found_zero:
                return s[:i - 1]
        elif ch == "0":
            found_zero = True
        else:
            return s
    return s


def to_int64(v: Any) -> Int64:
    if isinstance(v, bool):
        return Int64(1 if v else 0)
    if isinstance(v, int):
        return Int64(v)
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return Int64(-(2**63))
        return Int64(int(v))
    if isinstance(v, str):
        from rollouts.notifications.gotemplate.parser import _parse_int

        parsed = _parse_int(_trim_zero_decimal(v))
        return Int64(parsed) if parsed is not None and -(2**63) <= parsed < 2**63 else Int64(0)
    return Int64(0)


def to_float64(v: Any) -> float:
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v) if v.strip() == v and v else 0.0
        except ValueError:
            return 0.0
    return 0.0


def empty(v: Any) -> bool:
    if v is None or v is MISSING:
        return True
    if isinstance(v, (bool, int, float)):
        return v == 0
    if isinstance(v, (str, bytes, list, dict)):
        return len(v) == 0
    return False


def _strslice(v: Any) -> list[str]:
    if isinstance(v, bytes):
        return [str(b) for b in v]
    if isinstance(v, (list, tuple)):
        return [strval(e) for e in v if e is not None]
    if v is None:
        return []
    return [strval(v)]


def _sort_alpha(v: Any) -> StrList:
    if isinstance(v, (list, bytes)):
        return StrList(sorted(_strslice(v), key=lambda s: s.encode()))
    return StrList([strval(v)])


NIL_DEREF = "runtime error: invalid memory address or nil pointer dereference"


def _as_list(v: Any, fn: str) -> list[Any]:
    if isinstance(v, bytes):
        return [Uint8(b) for b in v]
    if isinstance(v, list):
        return list(v)
    if v is None:
        raise GoError(NIL_DEREF)
    raise GoError(f"Cannot find {fn} on type {kind_of(v)}")


def go_title(s: str) -> str:
    """strings.Title: upper-case each letter that follows a separator (anything but letters, digits, _)."""
    out = []
    prev = " "
    for ch in s:
        sep = not (prev.isalnum() or prev == "_") if ord(prev) < 0x80 else prev.isspace()
        out.append(ch.upper() if sep else ch)
        prev = ch
    return "".join(out)


def kind_of(v: Any) -> str:
    if v is None:
        return "invalid"
    k = kind(v)
    return {"int": "int64" if isinstance(v, Int64) else "int"}.get(k.value, k.value)


# -- strings ------------------------------------------------------------------------------------------------

_FUNCS: list[Func] = []


def _reg(f: Func) -> Func:
    _FUNCS.append(f)
    return f


def simple(name: str, params: str, returns: str, impl: Any, variadic: str | None = None) -> None:
    _FUNCS.append(Func(name, tuple(params.split()) if params else (), impl, returns, variadic))


simple("trim", "string", "string", lambda s: s.strip(" \t\n\r\v\f\u0085\u00a0\u2028\u2029\u3000"))
simple("upper", "string", "string", str.upper)
simple("lower", "string", "string", str.lower)
simple("title", "string", "string", lambda s: go_title(s))
simple("untitle", "string", "string", lambda s: re.sub(r"(^|(?<=\s))(\w)", lambda m: m.group(0).lower(), s))
simple("repeat", "int string", "string", lambda n, s: s * n if n >= 0 else _panic("strings: negative Repeat count"))
simple("trimall", "string string", "string", lambda a, b: b.strip(a))
simple("trimAll", "string string", "string", lambda a, b: b.strip(a))
simple("trimSuffix", "string string", "string", lambda a, b: b[: -len(a)] if a and b.endswith(a) else b)
simple("trimPrefix", "string string", "string", lambda a, b: b[len(a):] if b.startswith(a) else b)
simple("nospace", "string", "string", lambda s: "".join(s.split()))
simple("contains", "string string", "bool", lambda sub, s: sub in s)
simple("hasPrefix", "string string", "bool", lambda sub, s: s.startswith(sub))
simple("hasSuffix", "string string", "bool", lambda sub, s: s.endswith(sub))
simple("quote", "", "string", lambda *a: " ".join(go_quote(strval(s)) for s in a if s is not None), "any")
simple("squote", "", "string", lambda *a: " ".join(f"'{format_value(s)}'" for s in a if s is not None), "any")
simple("cat", "", "string", lambda *a: " ".join(format_value(s) for s in a if s is not None), "any")
simple("indent", "int string", "string", lambda n, s: " " * n + s.replace("\n", "\n" + " " * n))
simple("nindent", "int string", "string", lambda n, s: "\n" + " " * n + s.replace("\n", "\n" + " " * n))
simple("replace", "string string string", "string", lambda old, new, s: _go_replace(s, old, new))
simple("plural", "string string int", "string", lambda one, many, n: one if n == 1 else many)
simple("toString", "any", "string", strval)
simple("sha1sum", "string", "string", lambda s: hashlib.sha1(s.encode()).hexdigest())
simple("sha256sum", "string", "string", lambda s: hashlib.sha256(s.encode()).hexdigest())
simple("b64enc", "string", "string", lambda s: base64.b64encode(s.encode()).decode())
simple("b32enc", "string", "string", lambda s: base64.b32encode(s.encode()).decode())
simple("atoi", "string", "int", lambda s: int(s) if re.fullmatch(r"[+-]?\d+", s) else 0)
simple("int64", "any", "int64", to_int64)
simple("int", "any", "int", lambda v: int(to_int64(v)))
simple("float64", "any", "float64", to_float64)
simple("splitList", "string string", "[]string", lambda sep, s: StrList(_go_split(s, sep)))
simple("split", "string string", "map[string]string",
       lambda sep, s: StrMap({f"_{i}": p for i, p in enumerate(_go_split(s, sep))}))
simple("splitn", "string int string", "map[string]string",
       lambda sep, n, s: StrMap({f"_{i}": p for i, p in enumerate(_go_splitn(s, sep, n))}))
simple("join", "string any", "string", lambda sep, v: sep.join(_strslice(v)))
simple("sortAlpha", "any", "[]string", _sort_alpha)
simple("toStrings", "any", "[]string", lambda v: StrList(_strslice(v)))
simple("trunc", "int string", "string", lambda c, s: _trunc(c, s))
simple("substr", "int int string", "string", lambda a, b, s: _substr(a, b, s))
simple("abbrev", "int string", "string", lambda w, s: s if w < 4 or len(s) <= w else s[: w - 3] + "...")
simple("initials", "string", "string", lambda s: "".join(w[0] for w in s.split() if w))


def _panic(message: str) -> Any:
    raise GoError(message)


def _go_replace(s: str, old: str, new: str) -> str:
    if old == "":
        return new + new.join(s) + new if s else new
    return s.replace(old, new)


def _go_split(s: str, sep: str) -> list[str]:
    if sep == "":
        return list(s)
    return s.split(sep)


def _go_splitn(s: str, sep: str, n: int) -> list[str]:
    if n == 0:
        return []
    if n < 0:
        return _go_split(s, sep)
    if sep == "":
        chars = list(s)
        return [*chars[: n - 1], "".join(chars[n - 1:])] if len(chars) > n else chars
    return s.split(sep, n - 1)


def _trunc(c: int, s: str) -> str:
    raw = s.encode()
    if c < 0 and len(raw) + c > 0:
        return raw[len(raw) + c:].decode(errors="replace")
    if c >= 0 and len(raw) > c:
        return raw[:c].decode(errors="replace")
    return s


def _substr(start: int, end: int, s: str) -> str:
    raw = s.encode()
    if start < 0:
        return raw[:end].decode(errors="replace")
    if end < 0 or end > len(raw):
        return raw[start:].decode(errors="replace")
    return raw[start:end].decode(errors="replace")


@func("b64dec", "string", returns="string")
def _b64dec(s: str) -> str:
    try:
        return base64.b64decode(s.encode(), validate=True).decode(errors="replace")
    except ValueError:
        return f"illegal base64 data at input byte {_bad_b64_offset(s)}"


def _bad_b64_offset(s: str) -> int:
    alphabet = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
    for i, ch in enumerate(s):
        if ch not in alphabet:
            return i
    return max(len(s) - len(s) % 4, 0) if len(s) % 4 else len(s)


_reg(_b64dec)


# -- numbers ------------------------------------------------------------------------------------------------

simple("add1", "any", "int64", lambda i: Int64(to_int64(i) + 1))
simple("add", "", "int64", lambda *a: Int64(sum(to_int64(x) for x in a)), "any")
simple("sub", "any any", "int64", lambda a, b: Int64(to_int64(a) - to_int64(b)))
simple("mul", "any", "int64", lambda a, *v: Int64(math.prod([to_int64(a), *(to_int64(x) for x in v)])), "any")
simple("max", "any", "int64", lambda a, *v: Int64(max([to_int64(a), *(to_int64(x) for x in v)])), "any")
simple("biggest", "any", "int64", lambda a, *v: Int64(max([to_int64(a), *(to_int64(x) for x in v)])), "any")
simple("min", "any", "int64", lambda a, *v: Int64(min([to_int64(a), *(to_int64(x) for x in v)])), "any")
simple("maxf", "any", "float64", lambda a, *v: max([to_float64(a), *(to_float64(x) for x in v)]), "any")
simple("minf", "any", "float64", lambda a, *v: min([to_float64(a), *(to_float64(x) for x in v)]), "any")
simple("floor", "any", "float64", lambda a: float(math.floor(to_float64(a))))
simple("ceil", "any", "float64", lambda a: float(math.ceil(to_float64(a))))


def _go_div(a: Any, b: Any) -> Int64:
    x, y = int(to_int64(a)), int(to_int64(b))
    if y == 0:
        raise GoError("runtime error: integer divide by zero")
    q = abs(x) // abs(y)
    return Int64(q if (x >= 0) == (y >= 0) else -q)


def _go_mod(a: Any, b: Any) -> Int64:
    x, y = int(to_int64(a)), int(to_int64(b))
    if y == 0:
        raise GoError("runtime error: integer divide by zero")
    return Int64(x - int(_go_div(x, y)) * y)


simple("div", "any any", "int64", _go_div)
simple("mod", "any any", "int64", _go_mod)


def _until_step(start: int, stop: int, step: int) -> IntList:
    if (stop < start and step >= 0) or (stop > start and step <= 0):
        return IntList()
    return IntList(range(start, stop, step))


simple("until", "int", "[]int", lambda n: _until_step(0, n, -1 if n < 0 else 1))
simple("untilStep", "int int int", "[]int", _until_step)


# -- defaults, JSON -----------------------------------------------------------------------------------------

simple("default", "any", "any", lambda d, *given: d if not given or empty(given[0]) else given[0], "any")
simple("empty", "any", "bool", empty)
simple("coalesce", "", "any", lambda *v: next((x for x in v if not empty(x)), None), "any")
simple("all", "", "bool", lambda *v: all(not empty(x) for x in v), "any")
simple("any", "", "bool", lambda *v: any(not empty(x) for x in v), "any")
simple("ternary", "any any bool", "any", lambda t, f, cond: t if cond else f)
simple("fromJson", "string", "any", lambda s: _from_json_quiet(s))
simple("mustFromJson", "string", "any", gojson.unmarshal)
simple("toJson", "any", "string", lambda v: _quiet(lambda: gojson.marshal(v)))
simple("toPrettyJson", "any", "string", lambda v: _quiet(lambda: gojson.marshal(v, indent="  ")))
simple("toRawJson", "any", "string", lambda v: gojson.marshal(v, escape_html=False))
simple("mustToJson", "any", "string", gojson.marshal)
simple("mustToPrettyJson", "any", "string", lambda v: gojson.marshal(v, indent="  "))
simple("mustToRawJson", "any", "string", lambda v: gojson.marshal(v, escape_html=False))


def _quiet(fn: Any) -> str:
    try:
        return str(fn())
    except GoError:
        return ""


def _from_json_quiet(s: str) -> Any:
    try:
        return gojson.unmarshal(s)
    except GoError:
        return None


# -- lists and dicts ----------------------------------------------------------------------------------------

simple("list", "", "[]interface {}", lambda *v: list(v), "any")
simple("tuple", "", "[]interface {}", lambda *v: list(v), "any")


def _nonempty_list(v: Any, fn: str) -> list[Any] | None:
    items = _as_list(v, fn)
    return items or None


simple("first", "any", "any", lambda v: (lambda x: x[0] if x else None)(_as_list(v, "first")))
simple("last", "any", "any", lambda v: (lambda x: x[-1] if x else None)(_as_list(v, "last")))
simple("rest", "any", "any", lambda v: (lambda x: x[1:] if x else None)(_as_list(v, "rest")))
simple("initial", "any", "any", lambda v: (lambda x: x[:-1] if x else None)(_as_list(v, "initial")))
simple("append", "any any", "[]interface {}", lambda lst, v: [*_as_list(lst, "push"), v])
simple("push", "any any", "[]interface {}", lambda lst, v: [*_as_list(lst, "push"), v])
simple("prepend", "any any", "[]interface {}", lambda lst, v: [v, *_as_list(lst, "prepend")])
simple("reverse", "any", "[]interface {}", lambda lst: list(reversed(_as_list(lst, "reverse"))))
simple("concat", "", "any", lambda *ls: [e for lst in ls for e in _as_list(lst, "concat")], "any")
simple("compact", "any", "[]interface {}", lambda lst: [e for e in _as_list(lst, "compact") if not empty(e)])
simple("has", "any any", "bool", lambda needle, hay: False if hay is None else needle in _as_list(hay, "has"))
simple("without", "any", "[]interface {}",
       lambda lst, *omit: [e for e in _as_list(lst, "without") if e not in omit], "any")


def _uniq(lst: Any) -> list[Any]:
    out: list[Any] = []
    for e in _as_list(lst, "uniq"):
        if e not in out:
            out.append(e)
    return out


simple("uniq", "any", "[]interface {}", _uniq)


@func("slice", "any", variadic="any", returns="any")
def _sprig_slice(lst: Any, *indices: Any) -> Any:
    items = _as_list(lst, "slice")
    start = int(to_int64(indices[0])) if indices else 0
    end = int(to_int64(indices[1])) if len(indices) > 1 else len(items)
    if not 0 <= start <= end <= len(items):
        raise GoError(f"runtime error: slice bounds out of range [{start}:{end}]")
    return items[start:end]


_reg(_sprig_slice)

MAP = "map[string]interface {}"


def _dict(*v: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i in range(0, len(v), 2):
        out[strval(v[i])] = v[i + 1] if i + 1 < len(v) else ""
    return out


simple("dict", "", MAP, _dict, "any")
simple("get", f"{MAP} string", "any", lambda d, k: d.get(k, ""))
simple("set", f"{MAP} string any", MAP, lambda d, k, v: (d.__setitem__(k, v), d)[1])
simple("unset", f"{MAP} string", MAP, lambda d, k: (d.pop(k, None), d)[1])
simple("hasKey", f"{MAP} string", "bool", lambda d, k: k in d)
simple("pluck", "string", "[]interface {}", lambda k, *ds: [d[k] for d in ds if k in d], MAP)
simple("keys", "", "[]string", lambda *ds: StrList(k for d in ds for k in sorted(d)), MAP)
simple("values", MAP, "[]interface {}", lambda d: [d[k] for k in sorted(d)])
simple("pick", MAP, MAP, lambda d, *ks: {k: d[k] for k in ks if k in d}, "string")
simple("omit", MAP, MAP, lambda d, *ks: {k: v for k, v in d.items() if k not in ks}, "string")


def _dig(*args: Any) -> Any:
    if len(args) < 3:
        raise GoError("dig needs at least three arguments")
    *keys, default, d = args
    cur: Any = d
    for k in keys:
        if not isinstance(cur, dict) or strval(k) not in cur:
            return default
        cur = cur[strval(k)]
    return cur


simple("dig", "", "any", _dig, "any")


# -- dates --------------------------------------------------------------------------------------------------


def _as_instant(v: Any) -> datetime:
    if isinstance(v, datetime):
        return v
    if isinstance(v, int) and not isinstance(v, bool):
        return datetime.fromtimestamp(int(v), UTC)
    return datetime.now(UTC)


def _in_zone(t: datetime, zone: str) -> datetime:
    if zone in ("UTC", "Local", ""):
        return t.astimezone(UTC)
    try:
        from zoneinfo import ZoneInfo

        return t.astimezone(ZoneInfo(zone))
    except (KeyError, ValueError, OSError):
        return t.astimezone(UTC)


simple("now", "", "time.Time", lambda: datetime.now(UTC))
simple("date", "string any", "string", lambda fmt, d: go_format(_in_zone(_as_instant(d), "Local"), fmt))
simple("dateInZone", "string any string", "string", lambda fmt, d, z: go_format(_in_zone(_as_instant(d), z), fmt))
simple("date_in_zone", "string any string", "string", lambda fmt, d, z: go_format(_in_zone(_as_instant(d), z), fmt))
simple("htmlDate", "any", "string", lambda d: go_format(_in_zone(_as_instant(d), "Local"), "2006-01-02"))
simple("htmlDateInZone", "any string", "string", lambda d, z: go_format(_in_zone(_as_instant(d), z), "2006-01-02"))
simple("unixEpoch", "time.Time", "string", lambda t: str(int(t.timestamp())))


def _to_date(layout: str, value: str) -> datetime:
    try:
        return go_parse(layout, value)
    except GoError:
        return ZERO_TIME


simple("toDate", "string string", "time.Time", _to_date)
simple("mustToDate", "string string", "time.Time", go_parse)


def go_duration(d: timedelta | int) -> str:
    """time.Duration.String() for whole nanoseconds (an int) or a timedelta."""
    ns = d if isinstance(d, int) else round(d.total_seconds() * 1e9)
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    if ns < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if ns >= size:
                return sign + _trim_float(ns / size) + unit
    hours, rem = divmod(ns, 3_600_000_000_000)
    minutes, rem = divmod(rem, 60_000_000_000)
    seconds = _trim_float(rem / 1e9)
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}s"
    if minutes:
        return f"{sign}{minutes}m{seconds}s"
    return f"{sign}{seconds}s"


def _trim_float(x: float) -> str:
    text = f"{x:.9f}".rstrip("0").rstrip(".")
    return text or "0"


def _duration(sec: Any) -> str:
    n = 0
    if isinstance(sec, str):
        n = int(sec) if re.fullmatch(r"[+-]?\d+", sec) else 0
    elif isinstance(sec, Int64):
        n = int(sec)
    return go_duration(n * 1_000_000_000)


simple("duration", "any", "string", _duration)
simple("ago", "any", "string",
       lambda d: go_duration(round((datetime.now(UTC) - _as_instant(d)).total_seconds()) * 1_000_000_000))


# -- regexes, paths, encodings, flow, reflection -------------------------------------------------------------


def _re(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise GoError(f"error parsing regexp: {exc}") from None


def _go_repl(repl: str) -> str:
    """Go's $1 / ${1} / ${name} expansion in Python's replacement syntax."""
    out = repl.replace("\\", "\\\\")
    out = re.sub(r"\$\{(\w+)\}", lambda m: f"\\g<{m.group(1)}>", out)
    return re.sub(r"\$(\w+)", lambda m: f"\\g<{m.group(1)}>", out.replace("$$", "\0")).replace("\0", "$")


simple("regexMatch", "string string", "bool", lambda p, s: _re(p).search(s) is not None)
simple("regexFind", "string string", "string", lambda p, s: (lambda m: m.group(0) if m else "")(_re(p).search(s)))
simple("regexFindAll", "string string int", "[]string",
       lambda p, s, n: StrList([m.group(0) for m in _re(p).finditer(s)][: n if n >= 0 else None]))
simple("regexReplaceAll", "string string string", "string", lambda p, s, r: _re(p).sub(_go_repl(r), s))
simple("regexReplaceAllLiteral", "string string string", "string", lambda p, s, r: _re(p).sub(lambda _: r, s))
simple("regexSplit", "string string int", "[]string",
       lambda p, s, n: StrList(_re(p).split(s, maxsplit=max(n - 1, 0)) if n != 0 else []))
simple("regexQuoteMeta", "string", "string", lambda s: re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", s))
simple("base", "string", "string", lambda p: posixpath.basename(p.rstrip("/")) or ("/" if p.startswith("/") else "."))
simple("dir", "string", "string", lambda p: posixpath.dirname(p) or ".")
simple("clean", "string", "string", lambda p: posixpath.normpath(p) if p else ".")
simple("ext", "string", "string", lambda p: posixpath.splitext(p)[1] if "." in posixpath.basename(p) else "")
simple("isAbs", "string", "bool", lambda p: p.startswith("/"))
simple("fail", "string", "string", lambda msg: _panic(msg))
simple("typeOf", "any", "string", lambda v: "<nil>" if v is None else type_name(v))
simple("kindOf", "any", "string", kind_of)
simple("kindIs", "string any", "bool", lambda k, v: kind_of(v) == k)
simple("typeIs", "string any", "bool", lambda t, v: ("<nil>" if v is None else type_name(v)) == t)
simple("deepEqual", "any any", "bool", lambda a, b: a == b and type(a) is type(b))

SPRIG: dict[str, Func] = {f.name: f for f in _FUNCS}

UNSUPPORTED = frozenset({
    "hello", "date_modify", "dateModify", "must_date_modify", "mustDateModify", "durationRound", "randAlphaNum",
    "randAlpha", "randAscii", "randNumeric", "swapcase", "shuffle", "snakecase", "camelcase", "kebabcase", "wrap",
    "wrapWith", "adler32sum", "sha512sum", "seq", "toDecimal", "randInt", "add1f", "addf", "subf", "divf", "mulf",
    "round", "abbrevboth", "mustCompact", "deepCopy", "mustDeepCopy", "typeIsLike", "getHostByName", "osBase",
    "osClean", "osDir", "osExt", "osIsAbs", "b32dec", "merge", "mergeOverwrite", "mustMerge", "mustMergeOverwrite",
    "mustAppend", "mustPush", "mustPrepend", "mustFirst", "mustRest", "mustLast", "mustInitial", "mustReverse",
    "mustUniq", "mustWithout", "mustHas", "mustSlice", "chunk", "mustChunk", "bcrypt", "htpasswd", "genPrivateKey",
    "derivePassword", "buildCustomCert", "genCA", "genCAWithKey", "genSelfSignedCert", "genSelfSignedCertWithKey",
    "genSignedCert", "genSignedCertWithKey", "encryptAES", "decryptAES", "randBytes", "uuidv4", "semver",
    "semverCompare", "mustRegexMatch", "mustRegexFindAll", "mustRegexFind", "mustRegexReplaceAll",
    "mustRegexReplaceAllLiteral", "mustRegexSplit", "urlParse", "urlJoin",
})

assert not (UNSUPPORTED & SPRIG.keys()), UNSUPPORTED & SPRIG.keys()
assert isinstance(GoFunc, type)
