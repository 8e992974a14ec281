"""Secret values never reach status, events or logs, not even in part.

Values read from Secrets (`valueFrom.secretKeyRef` arguments) are substituted into metrics, so they can come
back in anything derived from a metric: a provider's error quoting a URL, a condition the parser rejects, a
measured value echoing a header. Replacing the whole value is not enough:

- text is cut (a value to 2,048 characters, a provider error to 400) and the cut can fall inside the secret,
  leaving a prefix; so everything is redacted *before* it is cut (`redact_then_cut`), and
- a piece of the secret may appear on its own (the parser's "unknown name 'S3cr3t'" for `S3cr3t-x`), or
  escaped (JSON, Python repr, URL encoding).

So `redact` replaces every run of text covered by any FRAGMENT-character window of any secret, in each of
those spellings ("S3cr3t-x9" also hides "S3cr3", "cr3t-x9", "S3cr3t%2Dx9"...), with *****; a secret shorter than
FRAGMENT is replaced where it occurs whole. Over-redaction of ordinary text that happens to share a
FRAGMENT-character window with a secret is the accepted price.

`remember` registers secrets process-wide so that the log processor (rollouts.controller.logs) and the
event recorder redact them from every line and message, whoever writes it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import quote, quote_plus

REDACTED = "*****"
FRAGMENT = 4
"""A run of this many characters of a secret, anywhere, is redacted."""
_MAX_REMEMBERED = 4096


def spellings(secret: str) -> set[str]:
    """The ways a value shows up in text: as is, JSON-escaped, repr-escaped, URL-encoded."""
    forms = {secret, json.dumps(secret)[1:-1], repr(secret)[1:-1], quote(secret, safe=""), quote(secret),
             quote_plus(secret)}
    return {f for f in forms if f}


@lru_cache(maxsize=256)
def _patterns(secrets: frozenset[str]) -> tuple[frozenset[str], tuple[str, ...]]:
    """(every FRAGMENT-character window of every spelling, the spellings shorter than FRAGMENT)."""
    windows: set[str] = set()
    short: set[str] = set()
    for secret in secrets:
        for form in spellings(secret):
            if len(form) < FRAGMENT:
                short.add(form)
            else:
                windows.update(form[i:i + FRAGMENT] for i in range(len(form) - FRAGMENT + 1))
    return frozenset(windows), tuple(sorted(short, key=len, reverse=True))


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every part of every secret replaced by *****.

    ("token=S3cr3t-x9; was S3cr3", ["S3cr3t-x9"]) -> "token=*****; was *****".
    """
    wanted = frozenset(s for s in secrets if s)
    if not wanted or not text:
        return text
    windows, short = _patterns(wanted)
    covered = bytearray(len(text))
    for i in range(len(text) - FRAGMENT + 1):
        if text[i:i + FRAGMENT] in windows:
            covered[i:i + FRAGMENT] = b"\x01" * FRAGMENT
    for form in short:
        start = text.find(form)
        while start >= 0:
            covered[start:start + len(form)] = b"\x01" * len(form)
            start = text.find(form, start + 1)
    if not any(covered):
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        if covered[i]:
            while i < len(text) and covered[i]:
                i += 1
            out.append(REDACTED)
        else:
            j = i
            while j < len(text) and not covered[j]:
                j += 1
            out.append(text[i:j])
            i = j
    return "".join(out)


def redact_then_cut(text: str, secrets: Iterable[str], limit: int, *, marker: str = "...") -> str:
    """Redact, then cut to `limit` characters (ending in `marker` when cut), so a cut never leaves a piece
    of a secret behind. Only as much of `text` as the cut can keep is scanned (a 4 MiB body is not)."""
    wanted = [s for s in secrets if s]
    if wanted:
        longest = max(len(f) for s in wanted for f in spellings(s))
        reach = limit + 2 * longest + len(marker)
        while True:
            prefix = redact(text[:reach], wanted)
            # a secret cut at `reach` may survive in the last `longest` characters: keep them past the cut
            if reach >= len(text) or len(prefix) >= limit + longest:
                text = prefix if reach >= len(text) else prefix[: limit + longest]
                break
            reach *= 2
    return text if len(text) <= limit else text[: limit - len(marker)] + marker


class _Registry:
    """The secrets this process has read, so that every log line and event can be redacted."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, None] = {}

    def remember(self, secrets: Iterable[str]) -> None:
        with self._lock:
            for secret in secrets:
                if secret:
                    self._values.pop(secret, None)
                    self._values[secret] = None
            while len(self._values) > _MAX_REMEMBERED:
                self._values.pop(next(iter(self._values)))

    def values(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._values)


_REGISTRY = _Registry()


def remember(secrets: Iterable[str]) -> None:
    """Register secret values read by this process (their redaction from logs and events)."""
    _REGISTRY.remember(secrets)


def redact_known(text: str) -> str:
    """`text` with every registered secret (and every piece of one) redacted."""
    known = _REGISTRY.values()
    return redact(text, known) if known else text


def known_secrets() -> frozenset[str]:
    return _REGISTRY.values()
