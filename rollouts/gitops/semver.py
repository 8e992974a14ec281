"""Semantic versions and constraints as Helm and Argo CD read them (Masterminds/semver v3.4, Argo CD v3.6).

Why this module exists: a Helm source's ``targetRevision`` is a chart version ("1.2.3") or a constraint
("^1.2", ">=1.0 <2.0", "1.2.x", "~1.2 || 2.*") that Argo CD resolves to the highest version of the chart
repository's index that satisfies it (``util/versions.MaxVersion``). Masterminds' dialect is looser than the
semver spec and than the Python ``packaging`` rules ("v1.2" is a version, "1.2" means "1.2.x" for ``~`` but
"1.2.0" for ``>``, a constraint without a prerelease never matches a prerelease), so it is written out here,
rule by rule, and checked against the Go library in ``tests/unit/gitops/test_semver.py``.

Worked examples (index 1.0.0, 1.2.0, 1.2.5, 1.3.0-rc.1, 2.0.0):
``^1.2`` -> 1.2.5; ``~1.2.0`` -> 1.2.5; ``>=1.0 <2.0`` -> 1.2.5; ``1.3.0-rc.1`` -> 1.3.0-rc.1 (a pin);
``>=1.3.0-0`` -> 2.0.0; ``*`` -> 2.0.0; ``3.x`` -> "version matching constraint not found in 5 tags".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import total_ordering

_LOOSE = re.compile(r"^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?"
                    r"(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?\Z")
_CV = (r"v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?"
       r"(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?")
_OPS = r"=||!=|>|<|>=|=>|<=|=<|~|~>|\^"
_ONE = re.compile(rf"^\s*({_OPS})\s*({_CV})\s*\Z")
_RANGE = re.compile(rf"\s*({_CV})\s+-\s+({_CV})\s*")
_FIND = re.compile(rf"({_OPS})\s*({_CV})")
_VALID = re.compile(rf"^(\s*({_OPS})\s*({_CV})\s*)((?:\s+|,\s*)({_OPS})\s*({_CV})\s*)*\Z")
_NUM = set("0123456789")
_ALLOWED = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789")
_MAX_UINT64 = 2**64 - 1


class SemverError(ValueError):
    """Not a version, or not a constraint; the message is Masterminds' (what Argo CD shows)."""


def _valid_prerelease(pre: str) -> bool:
    for part in pre.split("."):
        if not part or not set(part) <= _ALLOWED:
            return False
        if set(part) <= _NUM and len(part) > 1 and part[0] == "0":
            return False
    return True


def _compare_pre_part(a: str, b: str) -> int:
    if a == b:
        return 0
    if a == "":
        return -1
    if b == "":
        return 1
    a_num, b_num = a.isdigit(), b.isdigit()
    if a_num and b_num:
        return 1 if int(a) > int(b) else -1
    if not a_num and not b_num:
        return 1 if a > b else -1
    return -1 if a_num else 1  # a number sorts before a string


def _compare_prerelease(a: str, b: str) -> int:
    left, right = a.split("."), b.split(".")
    for index in range(max(len(left), len(right))):
        d = _compare_pre_part(left[index] if index < len(left) else "", right[index] if index < len(right) else "")
        if d:
            return d
    return 0


@total_ordering
@dataclass(frozen=True, slots=True, eq=False)
class Version:
    """A version as Masterminds' coercing ``NewVersion`` reads it ("v1.2" is 1.2.0; build metadata ignored
    when comparing)."""

    major: int
    minor: int
    patch: int
    pre: str = ""
    original: str = ""

    @classmethod
    def parse(cls, text: str) -> Version:
        m = _LOOSE.match(text)
        if m is None:
            raise SemverError("invalid semantic version")
        numbers = [int(g.lstrip(".")) if g else 0 for g in (m.group(1), m.group(2), m.group(3))]
        if any(n > _MAX_UINT64 for n in numbers):
            raise SemverError("error parsing version segment")
        pre, meta = m.group(5) or "", m.group(8) or ""
        if pre and not _valid_prerelease(pre):
            raise SemverError("invalid prerelease string")
        if meta and not all(part and set(part) <= _ALLOWED for part in meta.split(".")):
            raise SemverError("invalid metadata string")
        return cls(numbers[0], numbers[1], numbers[2], pre, text)

    def compare(self, other: Version) -> int:
        for a, b in ((self.major, other.major), (self.minor, other.minor), (self.patch, other.patch)):
            if a != b:
                return -1 if a < b else 1
        if self.pre == other.pre:
            return 0
        if not self.pre:
            return 1
        if not other.pre:
            return -1
        return _compare_prerelease(self.pre, other.pre)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self.compare(other) == 0

    def __lt__(self, other: Version) -> bool:
        return self.compare(other) < 0

    def __hash__(self) -> int:
        return hash((self.major, self.minor, self.patch, self.pre))


def is_version(text: str) -> bool:
    """Argo CD's ``versions.IsVersion``: a pin, not a constraint ("1.2", "v1.2.3-rc.1")."""
    try:
        Version.parse(text)
    except SemverError:
        return False
    return True


def _is_x(part: str) -> bool:
    return part in ("x", "X", "*")


@dataclass(frozen=True, slots=True)
class _Bound:
    op: str
    con: Version
    orig: str
    dirty: bool = False
    minor_dirty: bool = False
    patch_dirty: bool = False

    def check(self, v: Version, include_pre: bool) -> bool:
        if v.pre and not include_pre:
            return False
        return _CHECKS[self.op](v, self)


def _parse_bound(text: str) -> _Bound:
    m = _ONE.match(text)
    if m is None:
        raise SemverError(f"improper constraint: {text}")
    op, orig = m.group(1), m.group(2)
    major, minor, patch, pre_part = m.group(3), m.group(4) or "", m.group(5) or "", m.group(6) or ""
    dirty = minor_dirty = patch_dirty = False
    version = orig
    if _is_x(major):
        version, dirty = f"0.0.0{pre_part}", True
    elif _is_x(minor.lstrip(".")) or not minor:
        version, dirty, minor_dirty = f"{major}.0.0{pre_part}", True, True
    elif _is_x(patch.lstrip(".")) or not patch:
        version, dirty, patch_dirty = f"{major}{minor}.0{pre_part}", True, True
    try:
        con = Version.parse(version)
    except SemverError:
        raise SemverError("constraint parser error") from None
    return _Bound(op, con, orig, dirty, minor_dirty, patch_dirty)


def _not_equal(v: Version, c: _Bound) -> bool:
    if c.dirty:
        if c.con.major != v.major:
            return True
        if c.con.minor != v.minor and not c.minor_dirty:
            return True
        if c.minor_dirty:
            return False
        if c.con.patch != v.patch and not c.patch_dirty:
            return True
        if c.patch_dirty:
            return bool(v.pre or c.con.pre) and _compare_prerelease(v.pre, c.con.pre) != 0
    return v != c.con


def _greater(v: Version, c: _Bound) -> bool:
    if not c.dirty:
        return v.compare(c.con) == 1
    if v.major != c.con.major:
        return v.major > c.con.major
    if c.minor_dirty:
        return False
    if c.patch_dirty:
        return v.minor > c.con.minor
    return v.compare(c.con) == 1


def _less_equal(v: Version, c: _Bound) -> bool:
    if not c.dirty:
        return v.compare(c.con) <= 0
    if v.major > c.con.major:
        return False
    return not (v.major == c.con.major and v.minor > c.con.minor and not c.minor_dirty)


def _tilde(v: Version, c: _Bound) -> bool:
    if v < c.con:
        return False
    if c.con.major == 0 and c.con.minor == 0 and c.con.patch == 0 and not c.minor_dirty and not c.patch_dirty:
        return True
    if v.major != c.con.major:
        return False
    return not (v.minor != c.con.minor and not c.minor_dirty)


def _tilde_or_equal(v: Version, c: _Bound) -> bool:
    return _tilde(v, c) if c.dirty else v == c.con


def _caret(v: Version, c: _Bound) -> bool:
    if v < c.con:
        return False
    if c.con.major > 0 or c.minor_dirty:
        return v.major == c.con.major
    if v.major > 0:
        return False
    if c.con.minor > 0 or c.patch_dirty:
        return v.minor == c.con.minor
    if v.minor > 0:
        return False
    return c.con.patch == v.patch


_CHECKS: dict[str, Callable[[Version, _Bound], bool]] = {
    "": _tilde_or_equal, "=": _tilde_or_equal, "!=": _not_equal, ">": _greater,
    "<": lambda v, c: v.compare(c.con) < 0, ">=": lambda v, c: v.compare(c.con) >= 0,
    "=>": lambda v, c: v.compare(c.con) >= 0, "<=": _less_equal, "=<": _less_equal,
    "~": _tilde, "~>": _tilde, "^": _caret,
}


@dataclass(frozen=True, slots=True)
class Constraint:
    """``a b, c || d``: any alternative (``||``) whose every bound (space or comma) holds. An alternative
    that names a prerelease also admits prereleases; otherwise they never match."""

    alternatives: tuple[tuple[tuple[_Bound, ...], bool], ...]

    @classmethod
    def parse(cls, text: str) -> Constraint:
        for m in _RANGE.finditer(text):
            text = text.replace(m.group(0), f">= {m.group(1)}, <= {m.group(11)} ", 1)
        alternatives = []
        for alternative in text.split("||"):
            if not _VALID.match(alternative):
                raise SemverError(f"improper constraint: {alternative}")
            found = [m.group(0) for m in _FIND.finditer(alternative)] or [alternative]
            bounds = tuple(_parse_bound(b) for b in found)
            alternatives.append((bounds, any(b.con.pre for b in bounds)))
        return cls(tuple(alternatives))

    def allows(self, version: Version) -> bool:
        return any(all(b.check(version, has_pre) for b in bounds) for bounds, has_pre in self.alternatives)


def max_version(revision: str, tags: Iterable[str]) -> str:
    """Argo CD's ``versions.MaxVersion`` (no tag prefix): a version is returned as written (a pin, checked
    later against the repository); a constraint picks the highest tag it allows; anything else must equal a
    tag. Raises SemverError with Argo CD's message."""
    tags = list(tags)
    if is_version(revision):
        return revision
    try:
        constraint = Constraint.parse(revision)
    except SemverError as exc:
        if revision in tags:
            return revision
        raise SemverError(f"failed to determine semver constraint: {exc}") from None
    best: Version | None = None
    for tag in tags:
        try:
            candidate = Version.parse(tag)
        except SemverError:
            continue
        if constraint.allows(candidate) and (best is None or candidate > best):
            best = candidate
    if best is None:
        raise SemverError(f"version matching constraint not found in {len(tags)} tags")
    return best.original
