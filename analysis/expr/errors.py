"""Errors of the condition language, carrying expr-lang's message and where in the source it arose.

Argo shows only expr's message (it unwraps `file.Error` to its `Message`), so `message` is exactly
that text. `line`/`column` (1-based, as expr counts them) let a caller say *where* without quoting the
source, which matters when the source was built from secret arguments: `at_position()` is a message with
no source text at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorKind(StrEnum):
    COMPILE = "compile"  # lexer, parser, type checker or optimizer rejected the condition
    RUN = "run"  # the program failed while running (a panic in expr's VM)
    TYPE = "type"  # it ran, but did not produce a bool
    BUDGET = "budget"  # our evaluation budget ran out (expr-lang itself has none)


@dataclass(frozen=True, slots=True)
class Location:
    start: int  # rune offset of the first character, as expr's file.Location.From
    end: int


class ExprError(Exception):
    """A condition that does not compile or fails to run."""

    def __init__(self, message: str, location: Location | None = None, kind: ErrorKind = ErrorKind.COMPILE,
                 *, source_free: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.kind = kind
        self.source_free = source_free
        self.line = 0
        self.column = 0

    def __reduce__(self) -> tuple[object, ...]:  # picklable across a process pool
        state = (self.message, self.location, self.kind)
        return (_rebuild, (state, self.source_free, self.line, self.column))

    def bind(self, source: str) -> ExprError:
        """file.Error.Bind: the 1-based line and 0-based column of `location.start` in `source`."""
        if self.location is None:
            return self
        line, column = 1, 0
        for i, ch in enumerate(source):
            if i == self.location.start:
                break
            if ch == "\n":
                line += 1
                column = 0
            else:
                column += 1
        self.line, self.column = line, column
        return self

    def at_position(self) -> str:
        """A description that quotes nothing from the condition: "syntax error at line 1, column 9"."""
        what = {ErrorKind.COMPILE: "the condition does not compile", ErrorKind.RUN: "the condition failed",
                ErrorKind.TYPE: "the condition is not a boolean", ErrorKind.BUDGET: "the condition is too costly"}
        text = self.source_free or what[self.kind]
        if self.line:
            return f"{text} (line {self.line}, column {self.column + 1})"
        return text


def _rebuild(state: tuple[str, Location | None, ErrorKind], source_free: str | None, line: int,
             column: int) -> ExprError:
    message, location, kind = state
    error = ExprError(message, location, kind, source_free=source_free)
    error.line, error.column = line, column
    return error


class BudgetExceeded(ExprError):
    def __init__(self, budget: int) -> None:
        super().__init__(f"condition exceeded its evaluation budget of {budget} steps", None, ErrorKind.BUDGET,
                         source_free=f"condition exceeded its evaluation budget of {budget} steps")
        self.budget = budget

    def __reduce__(self) -> tuple[object, ...]:
        return (BudgetExceeded, (self.budget,))
