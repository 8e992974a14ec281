"""`{{args.name}}` substitution into metrics.

Argo substitutes arguments textually into every string of a metric (query, url, headers, conditions,
count, job spec...) before the metric is used, so we do the same on the metric's JSON form and validate
the result back into a `Metric`: a count of `"{{args.count}}"` becomes `"5"` and is then read as 5.

Values that came from a Secret (`valueFrom.secretKeyRef`) may end up inside a measurement's message (a
provider error quoting a URL) or a condition; analysis.redaction removes them (and any piece of them) before
anything is written to the AnalysisRun status, an event or a log line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from rollouts.api.analysis import Argument, Metric

_PLACEHOLDER = re.compile(r"\{\{\s*args\.([A-Za-z0-9_.\-]+)\s*\}\}")


class TemplateError(ValueError):
    """An argument is missing or a substituted metric is no longer valid."""


def argument_values(args: Iterable[Argument], resolved: Mapping[str, str]) -> dict[str, str]:
    """Values of the run's arguments: an inline `value`, else what the controller read for `valueFrom`.

    `resolved` maps argument names to values read from Secrets / field paths. An argument with neither is
    left out, so a metric that uses it fails with a clear TemplateError, while unused ones are harmless.
    """
    values: dict[str, str] = {}
    for arg in args:
        if arg.value is not None:
            values[arg.name] = arg.value
        elif arg.name in resolved:
            values[arg.name] = resolved[arg.name]
    return values


def substitute(text: str, values: Mapping[str, str]) -> str:
    """Replace `{{args.name}}` in one string: ("rate{svc='{{args.svc}}'}", {"svc": "web"}) -> "rate{svc='web'}"."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise TemplateError(f"argument {name!r} is referenced but has no value")
        return values[name]

    return _PLACEHOLDER.sub(replace, text)


def _walk(value: Any, values: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return substitute(value, values)
    if isinstance(value, list):
        return [_walk(item, values) for item in value]
    if isinstance(value, dict):
        return {key: _walk(item, values) for key, item in value.items()}
    return value


def resolve_metric(metric: Metric, values: Mapping[str, str]) -> Metric:
    """The metric with every `{{args.x}}` replaced, validated again (so `count: "{{args.n}}"` -> 5)."""
    raw = metric.model_dump(by_alias=True, exclude_none=True)
    try:
        substituted = _walk(raw, values)
    except TemplateError as exc:
        raise TemplateError(f"metric {metric.name!r}: {exc}") from None
    for key in ("count", "failureLimit", "inconclusiveLimit", "consecutiveErrorLimit"):
        if isinstance(substituted.get(key), str):
            text = substituted[key].strip()
            if not text.lstrip("-").isdigit():
                raise TemplateError(f"metric {metric.name!r}: {key} {text!r} is not an integer")
            substituted[key] = int(text)
    try:
        return Metric.model_validate(substituted)
    except ValidationError as exc:
        raise TemplateError(f"metric {metric.name!r} is invalid after argument substitution: {exc}") from None
