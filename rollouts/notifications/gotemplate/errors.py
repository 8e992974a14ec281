"""Errors of the template engine, worded as Go's text/template words them.

``ParseError`` and ``ExecError`` carry Go's messages (``template: NAME:LINE: ...`` and ``template: NAME:LINE:COL:
executing "NAME" at <NODE>: ...``). ``Unsupported`` is ours: a construct Go accepts that this engine does
not implement (``define``/``template``/``block``, a sprig function outside the implemented subset); it names
the construct and its position so the user knows exactly what to change.
"""

from __future__ import annotations


class TemplateError(Exception):
    """Any error of parsing or executing a template."""


class ParseError(TemplateError):
    pass


class ExecError(TemplateError):
    pass


class Unsupported(ParseError):
    pass


def location(text: str, pos: int) -> tuple[int, int]:
    """Go's line and byte column (0-based on the first line, as ErrorContext reports it) of an offset."""
    before = text[:pos]
    line = 1 + before.count("\n")
    nl = before.rfind("\n")
    col = len(before.encode()) if nl < 0 else len(before[nl + 1:].encode())
    return line, col
