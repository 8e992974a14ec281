"""An Application object read once at the boundary: the typed model, or the reason it cannot be served.

Why this module exists: a hand-written Application can be malformed (a wrong type, a missing source) or use
a shape of Argo CD's schema this controller does not implement (``spec.sources``: multi-source). Either is
reported on the object as an InvalidSpecError naming the field, and the reconciler goes on with the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from rollouts.api.application import Application

_MAX_PROBLEMS = 5


def parse_application(obj: Mapping[str, Any]) -> tuple[Application | None, str]:
    """(the model, "") or (None, "invalid Application spec: <field>: <problem>; ...")."""
    spec = obj.get("spec")
    if isinstance(spec, Mapping) and spec.get("sources"):
        return None, ("invalid Application spec: spec.sources: multi-source applications are not supported yet "
                      "(use a single spec.source)")
    try:
        return Application.model_validate(obj), ""
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                             for e in exc.errors()[:_MAX_PROBLEMS])
        return None, f"invalid Application spec: {problems}"
