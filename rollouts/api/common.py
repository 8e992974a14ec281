"""Building blocks shared by every API model: durations, int-or-percent values, metadata, the base config.

Why this module exists: Argo Rollouts manifests are Go structs serialised to YAML, and a few Go/Kubernetes
conventions leak into the contract. We reproduce them exactly rather than approximately:

- durations are Go ``time.ParseDuration`` strings ("1h30m", "300ms"); pydantic's own timedelta parsing is
  looser (ISO 8601, bare floats) than the contract, so the parser here is hand-written and strict;
- ``intstr.IntOrString`` fields (maxSurge, maxUnavailable, pause duration) take ``3`` or ``"25%"`` and
  percentages are scaled with Kubernetes' rounding rules;
- ``metav1.Time`` is serialised as RFC 3339 in UTC with second precision ("2024-01-02T03:04:05Z");
- the stored object must stay as the user wrote it: models know their defaults, but fields the user did not
  set are never written back (see ``ApiModel``).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Final

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    WithJsonSchema,
    model_serializer,
)
from pydantic.alias_generators import to_camel

# --------------------------------------------------------------------------------------------------
# Base model
# --------------------------------------------------------------------------------------------------


class ApiModel(BaseModel):
    """Base of every CRD model: camelCase aliases, immutable, tolerant of fields it does not know.

    Unknown fields are *kept* (``extra="allow"``) rather than dropped: a newer Argo field never breaks
    parsing, a parse -> dump round trip preserves the manifest, and validation can still see an unknown key
    (for example an unknown step kind) through ``model_extra``.

    Serialisation omits every field the user did not set, even when the model has a default for it, so that
    ``model_dump(by_alias=True, exclude_none=True)`` of a parsed manifest gives the manifest back and the
    controller never writes defaults into a stored object. Readers still see the default
    (``spec.revision_history_limit == 10``).
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="allow",
        frozen=True,
        use_enum_values=False,
    )

    @model_serializer(mode="wrap")
    def _omit_unset_defaults(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> Any:
        data = handler(self)
        if not isinstance(data, dict):
            return data
        fields = type(self).model_fields
        unset = fields.keys() - self.model_fields_set
        if unset:
            by_alias = bool(info.by_alias)
            for name in unset:
                data.pop((fields[name].alias or name) if by_alias else name, None)
        return data


# --------------------------------------------------------------------------------------------------
# Go-style durations
# --------------------------------------------------------------------------------------------------

_NANOS_PER_UNIT: Final[dict[str, int]] = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,  # U+00B5 micro sign, accepted by Go
    "\u03bcs": 1_000,  # U+03BC Greek mu, accepted by Go
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 3600 * 1_000_000_000,
}
_MAX_INT64: Final = (1 << 63) - 1


def duration_nanoseconds(text: str) -> int:
    """Parse a Go duration string into integer nanoseconds, with Go's exact grammar.

    A duration is an optional sign then one or more ``<decimal><unit>`` parts, units ns, us (µs), ms, s, m, h:
    "1h30m" -> 5_400_000_000_000, "1.5h" -> 5_400_000_000_000, ".5s" -> 500_000_000, "0" -> 0.
    A unit is required on every part except for the lone "0". Raises ``ValueError`` naming the problem.
    """
    if not isinstance(text, str):
        raise ValueError(f"duration must be a string, got {type(text).__name__}")
    original = text
    if text == "":
        raise ValueError('invalid duration "": empty string (expected e.g. "30s", "5m", "1h30m")')
    negative = False
    if text[0] in "+-":
        negative = text[0] == "-"
        text = text[1:]
    if text == "0":
        return 0
    if text == "":
        raise ValueError(f'invalid duration "{original}": a sign must be followed by a number and a unit')
    total = 0
    while text:
        part, text = _duration_part(text, original)
        total += part
        if total > _MAX_INT64 + (1 if negative else 0):
            raise ValueError(f'invalid duration "{original}": out of range (over about 292 years)')
    return -total if negative else total


def _digits(text: str) -> tuple[str, str]:
    """The leading ASCII digits of ``text`` and the rest."""
    i = 0
    while i < len(text) and text[i].isascii() and text[i].isdigit():
        i += 1
    return text[:i], text[i:]


def _duration_part(text: str, original: str) -> tuple[int, str]:
    """One ``<decimal><unit>`` part at the start of ``text``, in nanoseconds, and the rest of the text."""
    int_digits, text = _digits(text)
    frac_digits = ""
    if text.startswith("."):
        frac_digits, text = _digits(text[1:])
        if not int_digits and not frac_digits:
            raise ValueError(f'invalid duration "{original}": "." must be next to digits')
    if not int_digits and not frac_digits:
        raise ValueError(f'invalid duration "{original}": expected a number before "{text}"')
    k = 0  # like Go, the unit is everything up to the next digit or "."
    while k < len(text) and text[k] != "." and not (text[k].isascii() and text[k].isdigit()):
        k += 1
    unit, text = text[:k], text[k:]
    if unit == "":
        raise ValueError(
            f'invalid duration "{original}": missing unit after "{int_digits}'
            f'{"." + frac_digits if frac_digits else ""}" (use one of ns, us, ms, s, m, h)'
        )
    scale = _NANOS_PER_UNIT.get(unit)
    if scale is None:
        raise ValueError(f'invalid duration "{original}": unknown unit "{unit}" (use one of ns, us, ms, s, m, h)')
    part = int(int_digits or "0") * scale
    if frac_digits:
        # exact rational arithmetic, truncated toward zero like Go
        part += int(frac_digits) * scale // (10 ** len(frac_digits))
    return part, text


def parse_duration(value: int | str) -> float:
    """Seconds in a duration written as an int (seconds) or a Go duration string.

    ``parse_duration("1h30m") == 5400.0``, ``parse_duration("300ms") == 0.3``, ``parse_duration(45) == 45.0``.
    A string of bare digits means seconds too ("30" -> 30.0), as Argo reads a pause duration without a unit.
    Negative durations are rejected: nothing in the Rollout contract waits for a negative time.
    Raises ``ValueError`` with a message that quotes the input.
    """
    if isinstance(value, bool):
        raise ValueError(f"invalid duration {value!r}: expected a number of seconds or a string like 30s")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"invalid duration {value}: must not be negative")
        return float(value)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return float(int(value))
    nanos = duration_nanoseconds(value)
    if nanos < 0:
        raise ValueError(f'invalid duration "{value}": must not be negative')
    return nanos / 1_000_000_000


def format_duration(seconds: float) -> str:
    """Format seconds as Go's ``Duration.String()`` does: 5400 -> "1h30m0s", 0.3 -> "300ms", 0 -> "0s".

    Inverse of ``parse_duration`` for any value with nanosecond resolution.
    """
    nanos = round(seconds * 1_000_000_000)
    return format_duration_nanoseconds(nanos)


def format_duration_nanoseconds(nanos: int) -> str:
    """Go's ``Duration.String()`` for an integer number of nanoseconds (see ``format_duration``)."""
    if nanos == 0:
        return "0s"
    sign = "-" if nanos < 0 else ""
    n = abs(nanos)
    if n < 1_000_000_000:
        for unit, scale in (("ms", 1_000_000), ("\u00b5s", 1_000), ("ns", 1)):
            if n >= scale:
                return sign + _decimal(n, scale) + unit
    hours, rest = divmod(n, 3600 * 1_000_000_000)
    minutes, rest = divmod(rest, 60 * 1_000_000_000)
    out = sign
    if hours:
        out += f"{hours}h"
    if hours or minutes:
        out += f"{minutes}m"
    return out + _decimal(rest, 1_000_000_000) + "s"


def _decimal(n: int, scale: int) -> str:
    whole, frac = divmod(n, scale)
    if frac == 0:
        return str(whole)
    digits = str(frac).rjust(len(str(scale)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}"


# --------------------------------------------------------------------------------------------------
# IntOrString and percentages
# --------------------------------------------------------------------------------------------------

IntOrString = Annotated[
    int | str,
    # "smart" unions keep the type the user wrote: 10 stays 10 and "10" stays "10" (a round trip must not
    # turn a pause of "10" into 10, nor maxSurge "3" into 3).
    Field(union_mode="smart"),
    WithJsonSchema({"x-kubernetes-int-or-string": True}),
]
"""Kubernetes ``intstr.IntOrString``: ``3`` or ``"25%"`` (or, for durations, ``"30s"``).

The JSON schema is the Kubernetes marker itself so that crdgen emits a structural int-or-string field.
"""

_PERCENT = re.compile(r"^(-?\d+)%$")


def resolve_int_or_percent(value: int | str, total: int, *, round_up: bool) -> int:
    """Scale an int-or-percent against ``total`` as Kubernetes' ``GetScaledValueFromIntOrPercent`` does.

    Ints are returned as they are; "P%" becomes ``P * total / 100`` rounded up (``round_up=True``, used for
    maxSurge) or down (used for maxUnavailable). Examples: ("25%", 10, up) -> 3, ("25%", 10, down) -> 2,
    (1, 10, _) -> 1. A string that is not a percentage raises ``ValueError``.
    """
    if isinstance(value, bool):
        raise ValueError(f"invalid int-or-percent {value!r}: expected an integer or a percentage like '25%'")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        match = _PERCENT.match(value.strip())
        if match is None:
            raise ValueError(f"invalid int-or-percent {value!r}: a string must be a percentage like '25%'")
        scaled = int(match.group(1)) * total / 100
        return math.ceil(scaled) if round_up else math.floor(scaled)
    raise ValueError(f"invalid int-or-percent {value!r}: expected an integer or a percentage like '25%'")


def is_percent(value: int | str) -> bool:
    """True when the int-or-string value is a percentage string such as "25%"."""
    return isinstance(value, str) and _PERCENT.match(value.strip()) is not None


# --------------------------------------------------------------------------------------------------
# Kubernetes time
# --------------------------------------------------------------------------------------------------


def format_time(value: datetime) -> str:
    """Format a timestamp as ``metav1.Time`` does: UTC, second precision, "Z" suffix."""
    if value.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no time zone; use an aware datetime (UTC)")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 timestamp as Kubernetes writes it ("2024-01-02T03:04:05Z") into an aware datetime."""
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"invalid timestamp {text!r}: expected RFC 3339 like 2024-01-02T03:04:05Z") from exc
    if parsed.tzinfo is None:
        raise ValueError(f"invalid timestamp {text!r}: a time zone (e.g. Z) is required")
    return parsed


Time = Annotated[
    AwareDatetime,
    PlainSerializer(format_time, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""``metav1.Time``: an aware datetime in Python, "2024-01-02T03:04:05Z" on the wire."""


# --------------------------------------------------------------------------------------------------
# Metadata
# --------------------------------------------------------------------------------------------------


class OwnerReference(ApiModel):
    api_version: str
    kind: str
    name: str
    uid: str
    controller: bool | None = None
    block_owner_deletion: bool | None = None


class ObjectMeta(ApiModel):
    """The parts of ``metav1.ObjectMeta`` the controller reads; every other key (managedFields, finalizers,
    generateName, ...) is kept as an extra so a dump gives the raw metadata back."""

    name: str | None = None
    namespace: str | None = None
    uid: str | None = None
    generation: int | None = None
    resource_version: str | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    creation_timestamp: Time | None = None
    deletion_timestamp: Time | None = None
    owner_references: list[OwnerReference] | None = None
    finalizers: list[str] | None = None

    def label(self, key: str) -> str | None:
        return (self.labels or {}).get(key)

    def annotation(self, key: str) -> str | None:
        return (self.annotations or {}).get(key)


class LabelSelectorOperator(StrEnum):
    IN = "In"
    NOT_IN = "NotIn"
    EXISTS = "Exists"
    DOES_NOT_EXIST = "DoesNotExist"


class LabelSelectorRequirement(ApiModel):
    key: str
    operator: LabelSelectorOperator
    values: list[str] | None = None

    def matches(self, labels: dict[str, str]) -> bool:
        values = self.values or []
        if self.operator is LabelSelectorOperator.IN:
            return self.key in labels and labels[self.key] in values
        if self.operator is LabelSelectorOperator.NOT_IN:
            return self.key not in labels or labels[self.key] not in values
        if self.operator is LabelSelectorOperator.EXISTS:
            return self.key in labels
        return self.key not in labels


class LabelSelector(ApiModel):
    """``metav1.LabelSelector``. An empty selector selects everything (which a Rollout forbids)."""

    match_labels: dict[str, str] | None = None
    match_expressions: list[LabelSelectorRequirement] | None = None

    def is_empty(self) -> bool:
        return not self.match_labels and not self.match_expressions

    def matches(self, labels: dict[str, str]) -> bool:
        """Whether ``labels`` are selected: all matchLabels equal and all expressions hold."""
        for key, value in (self.match_labels or {}).items():
            if labels.get(key) != value:
                return False
        return all(req.matches(labels) for req in self.match_expressions or [])


class ConditionStatus(StrEnum):
    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class AnalysisPhase(StrEnum):
    """Phase of an AnalysisRun or of one of its metrics, as Argo names it. Shared by Rollout status
    (``currentStepAnalysisRunStatus.status``) and the analysis API."""

    PENDING = "Pending"
    RUNNING = "Running"
    SUCCESSFUL = "Successful"
    FAILED = "Failed"
    ERROR = "Error"
    INCONCLUSIVE = "Inconclusive"

    def is_completed(self) -> bool:
        return self in (AnalysisPhase.SUCCESSFUL, AnalysisPhase.FAILED, AnalysisPhase.ERROR, AnalysisPhase.INCONCLUSIVE)


OpenDict = Annotated[
    dict[str, Any],
    WithJsonSchema({"type": "object", "x-kubernetes-preserve-unknown-fields": True}),
]
"""An object whose schema we do not own (pod template, provider configs): kept verbatim; crdgen emits
``type: object`` with ``x-kubernetes-preserve-unknown-fields: true``."""
