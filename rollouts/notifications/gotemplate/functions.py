"""How a template function is described: Go parameter types, variadic element type, result type.

The executor needs the Go signature to convert arguments exactly as text/template does (a literal ``3``
passed where a ``string`` is expected is an error; a float64 field passed where ``int`` is expected is an
error; an ``interface{}`` parameter takes anything). Parameter type names are Go's (``string``, ``int``,
``int64``, ``float64``, ``bool``, ``[]string``, ``map[string]interface {}``), plus ``any`` for ``interface{}``
and ``value`` for ``reflect.Value`` (what the built-ins ``eq``, ``index``, ``len`` take).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class GoError(Exception):
    """A function's error result (or a panic), reported as ``error calling NAME: <message>``."""


@dataclass(frozen=True)
class Func:
    name: str
    params: tuple[str, ...]
    impl: Callable[..., Any]
    returns: str = "any"
    variadic: str | None = None


def func(name: str, params: str = "", *, returns: str = "any", variadic: str | None = None
         ) -> Callable[[Callable[..., Any]], Func]:
    """Decorator: ``@func("trunc", "int string", returns="string")``."""

    def wrap(impl: Callable[..., Any]) -> Func:
        return Func(name, tuple(params.split()) if params else (), impl, returns, variadic)

    return wrap
