"""structlog configuration for the controller: JSON for machines, text for people.

``--log-format json`` writes one JSON object per line with the keys Argo's controller writes (logrus'
JSON formatter): ``msg``, ``level`` (``debug``, ``info``, ``warning``, ``error``), ``time`` (RFC 3339, UTC),
plus the bound context (``namespace``, ``rollout``, ``application``, ``analysisrun``, ...), sorted. Records of
libraries that log through the standard ``logging`` module (aiohttp, the Kubernetes client) are rendered
the same way, so a log pipeline sees one format.

Every event passes `redact_secrets` last before rendering, at every level: a secret value this process has
read (analysis.redaction.remember), or any piece of one, is replaced in every field, whichever module logged
it and whatever the exception text says.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

from analysis.redaction import known_secrets, redact


def _scrub(value: Any, secrets: frozenset[str]) -> Any:
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {k: _scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v, secrets) for v in value]
    if isinstance(value, int | float | bool) or value is None:
        return value
    return redact(str(value), secrets)


def redact_secrets(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> Mapping[str, Any]:
    """structlog processor: secrets out of every field of the event."""
    secrets = known_secrets()
    if not secrets:
        return event_dict
    return {key: _scrub(value, secrets) for key, value in event_dict.items()}


SHARED: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.processors.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
]


def _renderer(fmt: str) -> list[structlog.types.Processor]:
    """Exception text formatted, secrets redacted, then rendered (JSON: Argo's key names)."""
    if fmt == "json":
        return [structlog.processors.format_exc_info, redact_secrets, structlog.processors.EventRenamer("msg"),
                structlog.processors.JSONRenderer(sort_keys=True)]
    return [structlog.processors.format_exc_info, redact_secrets, structlog.dev.ConsoleRenderer(colors=False)]


def configure_logging(*, fmt: str = "text", level: str = "info") -> None:
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *SHARED],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *_renderer(fmt)],
    ))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    structlog.configure(
        processors=[*SHARED, *_renderer(fmt)],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
