"""An Application object read once at the boundary: the typed model, or the reason it cannot be served.

Why this module exists: a hand-written Application can be malformed (a wrong type, neither ``spec.source`` nor
``spec.sources``). That is reported on the object as an InvalidSpecError naming the field, and the reconciler
goes on with the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from rollouts.api.application import Application

_MAX_PROBLEMS = 5


def parse_application(obj: Mapping[str, Any]) -> tuple[Application | None, str]:
    """(the model, "") or (None, "invalid Application spec: <field>: <problem>; ...")."""
    try:
        return Application.model_validate(obj), ""
    except ValidationError as exc:
        problems = "; ".join(_problem(".".join(str(p) for p in e["loc"]), str(e["msg"]))
                             for e in exc.errors()[:_MAX_PROBLEMS])
        return None, f"invalid Application spec: {problems}"


def _problem(where: str, message: str) -> str:
    """"spec: Value error, spec.source or spec.sources is required" -> "spec.source or spec.sources is required"."""
    message = message.removeprefix("Value error, ")
    return message if message.startswith(where) else f"{where}: {message}"
