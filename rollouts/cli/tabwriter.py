"""Column alignment exactly as Go's `text/tabwriter` does it, so tables line up the way Argo's plugin prints them.

Argo's `get rollout` tree and `list rollouts` table are written through a tabwriter (minwidth 0, padding 2,
pad character ' ', no flags): a cell is text terminated by a tab, and the text after a line's last tab is not
part of any column. Widths are not global: a *column block* is a run of consecutive lines that all have a
cell in that column, and each block gets its own width (widest cell + padding). A line without any tab ends
every block. Those rules decide where Argo's columns fall, so the golden strings taken from Argo's tests only
match when they are reproduced, not approximated with a table library.

Widths count characters (Go counts runes), and ANSI colour sequences count zero, as in juju/ansiterm's
tabwriter that Argo uses for the coloured tree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def visible_width(text: str) -> int:
    """Characters a terminal shows: "\\x1b[32m✔\\x1b[0m" is 1 wide."""
    return len(_ANSI.sub("", text))


@dataclass(frozen=True)
class _Cell:
    text: str
    width: int


def _split(line: str) -> list[_Cell]:
    return [_Cell(part, visible_width(part)) for part in line.split("\t")]


def align(text: str, *, padding: int = 2, minwidth: int = 0) -> str:
    """`text` with its tab-separated cells padded into columns (what writing it to a Go tabwriter and
    flushing prints). Lines keep their trailing text as written; no trailing spaces are added after it."""
    out: list[str] = []
    block: list[list[_Cell]] = []
    lines = text.split("\n")
    trailing_newline = text.endswith("\n")
    if trailing_newline:
        lines = lines[:-1]
    for line in lines:
        cells = _split(line)
        block.append(cells)
        if len(cells) == 1:  # a line without a tab closes every column block: format what came so far
            out.extend(_format(block, padding=padding, minwidth=minwidth))
            block = []
    out.extend(_format(block, padding=padding, minwidth=minwidth))
    return "\n".join(out) + ("\n" if trailing_newline else "")


def _format(lines: Sequence[list[_Cell]], *, padding: int, minwidth: int) -> list[str]:
    widths: list[list[int]] = [[] for _ in lines]
    _columns(lines, 0, len(lines), [], widths, padding=padding, minwidth=minwidth)
    rendered = []
    for cells, line_widths in zip(lines, widths, strict=True):
        parts = [cell.text + " " * max(line_widths[j] - cell.width, 0) for j, cell in enumerate(cells[:-1])]
        rendered.append("".join(parts) + cells[-1].text)
    return rendered


def _columns(lines: Sequence[list[_Cell]], first: int, last: int, stack: list[int], widths: list[list[int]],
             *, padding: int, minwidth: int) -> None:
    """Go's `format`: within lines[first:last], a line without a cell in column len(stack) is printed with
    the widths found so far; each run of lines that has one is a block, sized, then formatted rightwards."""
    column = len(stack)
    this = first
    while this < last:
        if column >= len(lines[this]) - 1:
            widths[this] = stack
            this += 1
            continue
        start, width = this, minwidth
        while this < last and column < len(lines[this]) - 1:
            width = max(width, lines[this][column].width + padding)
            this += 1
        _columns(lines, start, this, [*stack, width], widths, padding=padding, minwidth=minwidth)
