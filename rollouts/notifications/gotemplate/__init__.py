"""Go's text/template with sprig, as Argo's notifications engine renders notification templates.

    tmpl = parse("rollout-aborted", "Rollout {{.rollout.metadata.name}} has been aborted.")
    tmpl.execute({"rollout": rollout_as_go_values})

Parsing checks what Go checks (syntax, defined functions, declared variables) and rejects, by name and
position, what this engine does not implement (``Unsupported``). Execution follows exec.go over the value
model in ``values`` (use ``values.from_json`` to turn a Kubernetes object into what Go would see).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rollouts.notifications.gotemplate.builtins import BUILTINS
from rollouts.notifications.gotemplate.errors import ExecError, ParseError, TemplateError, Unsupported
from rollouts.notifications.gotemplate.execute import State
from rollouts.notifications.gotemplate.functions import Func
from rollouts.notifications.gotemplate.nodes import ListNode
from rollouts.notifications.gotemplate.parser import Parser
from rollouts.notifications.gotemplate.sprig import SPRIG, UNSUPPORTED

FUNCS: dict[str, Func] = {**BUILTINS, **SPRIG}
"""What templates can call: Go's built-ins overridden by sprig (sprig's ``slice`` replaces Go's)."""


def _unsupported(name: str) -> str | None:
    if name in UNSUPPORTED:
        return f"function {name!r} (sprig) is not supported by this controller's template engine"
    return None


@dataclass(frozen=True)
class Template:
    name: str
    text: str
    root: ListNode

    def execute(self, data: Mapping[str, Any]) -> str:
        state = State(self.name, self.text, FUNCS, dict(data))
        state.walk(state.vars[0][1], self.root)
        return "".join(state.out)


def parse(name: str, text: str) -> Template:
    parser = Parser(name, text, has_function=lambda n: n in FUNCS, unsupported_function=_unsupported)
    return Template(name, text, parser.parse())


def render(name: str, text: str, data: Mapping[str, Any]) -> str:
    return parse(name, text).execute(data)


__all__ = ["ExecError", "ParseError", "Template", "TemplateError", "Unsupported", "parse", "render"]
