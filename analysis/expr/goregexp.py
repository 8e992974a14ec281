"""`matches`: Go's regexp (RE2 syntax, linear-time matching) through Google's RE2, with Go's error texts.

Go's regexp package is a port of RE2, so the syntax and the match/no-match answer agree, and RE2 runs in
time linear in the input: no pattern can make a condition backtrack for minutes (Python's `re` could).
RE2 words its errors differently; they are mapped onto Go's (`error parsing regexp: missing closing ):
\\`(\\``).
"""

from __future__ import annotations

from functools import lru_cache

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False

_GO_CODES = (
    ("missing ]", "missing closing ]"),
    ("missing )", "missing closing )"),
    ("unexpected )", "unexpected )"),
    ("trailing \\", "trailing backslash at end of expression"),
    ("invalid escape sequence", "invalid escape sequence"),
    ("invalid character class range", "invalid character class range"),
    ("invalid character class", "invalid character class"),
    ("bad repetition operator", "invalid nested repetition operator"),
    ("no argument for repetition operator", "missing argument to repetition operator"),
    ("missing argument to repetition operator", "missing argument to repetition operator"),
    ("invalid repetition size", "invalid repeat count"),
    ("invalid named capture group", "invalid named capture"),
    ("invalid perl operator", "invalid or unsupported Perl syntax"),
    ("invalid UTF-8", "invalid UTF-8"),
    ("pattern too large", "expression too large"),
    ("bad nesting depth", "expression nests too deeply"),
)


def _go_message(pattern: str, problem: str) -> str:
    for re2_code, go_code in _GO_CODES:
        if problem.startswith(re2_code):
            arg = problem[len(re2_code):].lstrip(":").lstrip(" ")
            if go_code == "trailing backslash at end of expression":
                arg = ""
            return f"error parsing regexp: {go_code}: `{arg}`"
    return f"error parsing regexp: {problem}"


@lru_cache(maxsize=256)
def _compile(pattern: str) -> tuple[re2._Regexp | None, str | None]:
    if "\\C" in pattern.replace("\\\\", ""):
        return None, "error parsing regexp: invalid escape sequence: `\\C`"
    try:
        return re2.compile(pattern, _OPTIONS), None
    except re2.error as exc:
        raw = exc.args[0] if exc.args else str(exc)
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        return None, _go_message(pattern, text)


def compile_error(pattern: str) -> str | None:
    """regexp.Compile's error text for `pattern`, or None when it compiles."""
    return _compile(pattern)[1]


def matches(pattern: str, text: str) -> bool:
    """regexp.MatchString(pattern, text); ValueError with Go's text for a bad pattern."""
    compiled, problem = _compile(pattern)
    if compiled is None:
        raise ValueError(problem)
    try:
        return compiled.search(text) is not None
    except UnicodeEncodeError:
        return compiled.search(text.encode("utf-8", "replace").decode("utf-8")) is not None
