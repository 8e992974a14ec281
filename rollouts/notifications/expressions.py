"""Trigger conditions (``when``, ``oncePer``) in expr-lang, compiled and run as the notifications engine does.

The engine calls ``expr.Compile(when)`` with no environment, so nothing is type-checked against the object:
every name is looked up at run time in the variables (``expr.Run(program, vars)``), a missing field is nil
(``app.status.operationState != nil``) and ``?.`` guards chains. The interpreter is the project's expr-lang
(analysis/expr, the version Argo pins), with its total step budget, so a hostile condition in a ConfigMap
cannot spin the controller.

The variables are what the anchors pass: for Rollouts ``rollout`` (numbers float64, as Argo marshals the
typed object to a map), ``time`` (``Parse``, ``Now``) and ``secrets``; for Applications ``app`` (integers
int64, unstructured), ``context``, ``secrets``, ``appProject``, ``time`` (also ``Minute``, ``Hour``... and
the layouts), ``strings`` and ``repo`` (Argo CD's expression helpers).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from analysis.expr import gotypes as t
from analysis.expr.builtins import NAMES as BUILTIN_NAMES
from analysis.expr.checker import Checker
from analysis.expr.errors import ExprError
from analysis.expr.evaluator import Evaluator
from analysis.expr.gofmt import format_v
from analysis.expr.gotime import TimeError, now, parse_time
from analysis.expr.nature import Nature
from analysis.expr.optimizer import optimize
from analysis.expr.parser import parse
from analysis.expr.runtime import GoPanic
from analysis.expr.values import Func, GoInt, Slice, Value
from rollouts.notifications.services.github import full_name_by_repo_url
from rollouts.notifications.triggers import ConditionError

BUDGET = 100_000
RFC3339 = "2006-01-02T15:04:05Z07:00"


@lru_cache(maxsize=512)
def _compile(source: str) -> Any:
    tree = parse(source, builtins=BUILTIN_NAMES, env_names=frozenset())
    Checker(Nature(), source).check(tree)
    return optimize(tree, source)


def _go(value: Any, *, int64: bool) -> Value:
    """JSON-decoded data as the Go values the engine's expressions see."""
    if isinstance(value, dict):
        return {str(k): _go(v, int64=int64) for k, v in value.items()}
    if isinstance(value, list):
        return [_go(v, int64=int64) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return GoInt(value, t.INT64) if int64 else float(value)
    return value


def _parse_rfc3339(text: str) -> Value:
    try:
        return parse_time(RFC3339, text)
    except TimeError as exc:
        raise GoPanic(str(exc)) from None


def _func(name: str, params: tuple[Any, ...], result: Any, impl: Any) -> Func:
    return Func(name, t.func_of(params, (result,)), impl)


TIME = {"Parse": _func("Parse", (t.STRING,), t.TIME, _parse_rfc3339), "Now": _func("Now", (), t.TIME, now)}
DURATIONS = {name: GoInt(ns, t.DURATION) for name, ns in (
    ("Nanosecond", 1), ("Microsecond", 1_000), ("Millisecond", 1_000_000), ("Second", 1_000_000_000),
    ("Minute", 60_000_000_000), ("Hour", 3_600_000_000_000))}
LAYOUTS = {"RFC3339": RFC3339, "RFC3339Nano": "2006-01-02T15:04:05.999999999Z07:00", "Kitchen": "3:04PM",
           "RFC1123": "Mon, 02 Jan 2006 15:04:05 MST", "ANSIC": "Mon Jan _2 15:04:05 2006"}
STRINGS = {
    "ReplaceAll": _func("ReplaceAll", (t.STRING, t.STRING, t.STRING), t.STRING, lambda s, o, n: s.replace(o, n)),
    "ToUpper": _func("ToUpper", (t.STRING,), t.STRING, str.upper),
    "ToLower": _func("ToLower", (t.STRING,), t.STRING, str.lower),
}
REPO = {
    "FullNameByRepoURL": _func("FullNameByRepoURL", (t.STRING,), t.STRING, full_name_by_repo_url),
    "QueryEscape": _func("QueryEscape", (t.STRING,), t.STRING, lambda s: urllib.parse.quote_plus(s, safe="~")),
}


def _secrets(secrets: Mapping[str, bytes]) -> Value:
    return {k: Slice(t.BYTE_SLICE, [GoInt(b, t.UINT8) for b in v]) for k, v in secrets.items()}


def rollout_env(rollout: Mapping[str, Any], secrets: Mapping[str, bytes]) -> dict[str, Value]:
    return {"rollout": _go(rollout, int64=False), "time": dict(TIME), "secrets": _secrets(secrets)}


def application_env(app: Mapping[str, Any], secrets: Mapping[str, bytes], context: Mapping[str, str],
                    project: Mapping[str, Any] | None = None) -> dict[str, Value]:
    return {"app": _go(app, int64=True), "context": dict(context), "secrets": _secrets(secrets),
            "appProject": _go(dict(project or {}), int64=True), "time": {**TIME, **DURATIONS, **LAYOUTS},
            "strings": dict(STRINGS), "repo": dict(REPO)}


class ExprEvaluator:
    """The ``Evaluator`` of triggers: a value, or ConditionError with expr's message."""

    def __init__(self, budget: int = BUDGET) -> None:
        self.budget = budget

    def evaluate(self, source: str, env: Mapping[str, Any]) -> Any:
        try:
            program = _compile(source)
            return Evaluator(env=dict(env), budget=self.budget).run(program)
        except ExprError as exc:
            raise ConditionError(exc.message) from None
        except GoPanic as exc:
            raise ConditionError(exc.message) from None
        except RecursionError:
            raise ConditionError("expression nests too deeply to evaluate") from None

    @staticmethod
    def describe(value: Any) -> str:
        """fmt's %v of a value (the oncePer key)."""
        return format_v(value)
