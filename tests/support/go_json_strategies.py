"""Hypothesis strategies for JSON values shaped like a Go type of the layout table (``rollouts.api.podtemplate``),
with every field kind and the awkward corners: quantities in every spelling, int-or-string, nil vs empty
slices and maps, null on value fields, pointers to bools and ints, unknown keys, strings Go escapes, integers
at and beyond their bounds, and now and then a value of the wrong JSON type (both sides must then refuse).

Feed both sides what the API server would send a client: ``gojson.go_json_value`` of the drawn value (Go's
number and string spelling, sorted keys; a lone surrogate has already become U+FFFD there), and to Python
``json.loads`` of that text.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from rollouts.api.podtemplate.layout import Map, Prim, Ptr, Slice, Special, Struct, TypeRef, layout

_AWKWARD = ["<", ">", "&", "\u2028", "\u2029", "\x00", "\x1f", "\x7f", "\t", "\n", "\b", "\f", '"', "\\", "é",
            "\U0001f600", "\ud800", "\udfff", "\u00a0", " "]
strings = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=8),
    st.lists(st.sampled_from(_AWKWARD) | st.sampled_from(["a", "web", "80", "1"]), max_size=4).map("".join),
)

_SUFFIXES = ["", "", "", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei",
             "e3", "E3", "e-3", "e+2", "e0", "E-12", "e21", "e-10", "K", "i", "kk", "e", "Mi3", "e99"]


@st.composite
def quantity_texts(draw: st.DrawFn) -> str:
    sign = draw(st.sampled_from(["", "", "", "-", "+"]))
    whole = draw(st.sampled_from(["", "0", "00", "1", "5", "10", "100", "1000", "1024", "1536", "999999",
                                  "123456789012345678", "1234567890123456789", "9223372036854775807"])
                 | st.integers(0, 10**20).map(str))
    frac = draw(st.sampled_from([None, None, "", "0", "5", "25", "000", "1234567890", "0000000001"]))
    suffix = draw(st.sampled_from(_SUFFIXES))
    text = sign + whole + ("" if frac is None else "." + frac) + suffix
    if draw(st.integers(0, 19)) == 0:
        text = draw(st.sampled_from([" ", "\t", "\u00a0", "x"])) + text
    if draw(st.integers(0, 19)) == 0:
        text += draw(st.sampled_from([" ", "\n", "\u3000", "."]))
    return text


quantities = st.one_of(
    quantity_texts(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e25, max_value=1e25),
    st.sampled_from([0.5, 0.001, 1e-7, 2.0, 1e21, 12345.678]),
)

_TIMES = ["2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z", "2024-05-01T10:00:00.123456789Z",
          "2024-05-01T12:00:00+02:00", "2024-05-01T12:00:00+02:00",
          "2024-02-30T10:00:00Z", "2024-05-01 10:00:00Z", "0001-01-01T00:00:00Z", "2024-05-01T10:00:00,5-01:30",
          "not a time"]


def _bounds(bits: int) -> st.SearchStrategy[int]:
    low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    edges = st.sampled_from([0, 1, -1, low, high, low - 1, high + 1])
    return st.one_of(edges, st.integers(-1000, 100000), st.integers(0, 100), st.integers(0, 10))


def _wrong(ref: TypeRef) -> st.SearchStrategy[Any]:
    """A JSON value of some other type than ``ref`` wants (Go refuses most; a few are legal)."""
    return st.sampled_from([True, 1, 1.5, "x", [], {}, [1], {"a": 1}])


def values(ref: TypeRef, depth: int = 0) -> st.SearchStrategy[Any]:
    """JSON values for ``ref``; sparser as ``depth`` grows so templates stay small."""
    return _value(ref, depth)


@st.composite
def _value(draw: st.DrawFn, ref: TypeRef, depth: int) -> Any:
    if depth > 1 and draw(st.integers(0, 199)) == 0:
        return draw(_wrong(ref))
    match ref:
        case Ptr(elem):
            return None if draw(st.integers(0, 4)) == 0 else draw(_value(elem, depth))
        case Slice(elem):
            choice = draw(st.integers(0, 5))
            if choice == 0:
                return None
            if choice == 1 or depth > 7:
                return []
            return draw(st.lists(_value(elem, depth + 1), min_size=1, max_size=2))
        case Map(elem):
            choice = draw(st.integers(0, 5))
            if choice == 0:
                return None
            if choice == 1:
                return {}
            keys = st.sampled_from(["app", "cpu", "memory", "a", "b/c", "é", "<x>", "Z", "\ud800"]) | strings
            return draw(st.dictionaries(keys, _value(elem, depth + 1), min_size=1, max_size=3))
        case Struct(name):
            if depth > 8:
                return {}
            struct = layout().structs[name]
            percent = 60 if depth == 0 else max(4, 30 - 5 * depth)
            out: dict[str, Any] = {}
            for field in struct.fields:
                if draw(st.integers(0, 99)) < percent:
                    out[field.name] = None if draw(st.integers(0, 24)) == 0 else draw(_value(field.type, depth + 1))
            if draw(st.integers(0, 9)) == 0:
                out[draw(st.sampled_from(["unknownField", "Name", "IMAGE", "x-extra"]))] = draw(strings)
            return out
        case Prim("string"):
            return draw(strings)
        case Prim("bool"):
            return draw(st.booleans())
        case Prim(_, bits):
            return draw(_bounds(bits))
        case Special("quantity"):
            return draw(quantities)
        case Special("intorstring"):
            return draw(st.one_of(st.integers(-5, 70000), _bounds(32), strings,
                                  st.sampled_from(["80", "http", "25%", 1.5, None])))
        case Special("time"):
            return draw(st.sampled_from(_TIMES) | st.none())
        case Special("fieldsv1") | Special("rawjson"):
            return draw(st.recursive(st.none() | st.booleans() | st.integers(-5, 5) | strings | st.floats(
                allow_nan=False, allow_infinity=False), lambda c: st.lists(c, max_size=2) | st.dictionaries(
                strings, c, max_size=2), max_leaves=4))
    raise AssertionError(f"no strategy for {ref}")


def pod_templates() -> st.SearchStrategy[Any]:
    return values(layout().roots["podTemplate"])


def canary_steps() -> st.SearchStrategy[Any]:
    return values(layout().roots["canarySteps"])


@st.composite
def respelled(draw: st.DrawFn, value: Any, ref: TypeRef) -> Any:
    """``value`` rewritten, mostly in ways semantic equality ignores (a quantity in nanounits, nil for an empty
    slice, a zero field added or dropped) and sometimes not (a string or number changed)."""
    match ref:
        case Ptr(elem):
            return value if value is None else draw(respelled(value, elem))
        case Slice(elem) | Map(elem) if not value and isinstance(value, list | dict | type(None)):
            empty: Any = [] if isinstance(ref, Slice) else {}
            return draw(st.sampled_from([None, empty]))
        case Slice(elem) if isinstance(value, list):
            return [draw(respelled(v, elem)) for v in value]
        case Map(elem) if isinstance(value, dict):
            return {k: draw(respelled(v, elem)) for k, v in value.items()}
        case Struct(name) if isinstance(value, dict):
            out = {k: v for k, v in value.items()}
            for field in layout().structs[name].fields:
                if field.name in out:
                    out[field.name] = draw(respelled(out[field.name], field.type))
                elif draw(st.integers(0, 19)) == 0 and isinstance(field.type, Prim):
                    out[field.name] = {"string": "", "bool": False}.get(field.type.kind, 0)
            return out
        case Special("quantity") if isinstance(value, str):
            from rollouts.api.podtemplate.quantity import QuantityError, parse_quantity

            try:
                nanos = parse_quantity(value.strip()).nanos
            except QuantityError:
                return value
            return draw(st.sampled_from([value, f"{nanos}n", str(nanos // 10**9) if nanos % 10**9 == 0 else value]))
        case Prim("string") if isinstance(value, str) and draw(st.integers(0, 9)) == 0:
            return value + "x"
        case Prim("int") if isinstance(value, int) and not isinstance(value, bool) and draw(st.integers(0, 9)) == 0:
            return value + 1 if value < 0 else value - 1
    return value
