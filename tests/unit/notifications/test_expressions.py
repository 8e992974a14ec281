"""Argo CD's catalog triggers (read from the Argo CD module) evaluated by the project's expr-lang, as the
notifications engine compiles them (no environment: names are looked up at run time)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from rollouts.notifications.config import parse_config
from rollouts.notifications.expressions import ExprEvaluator, application_env, rollout_env
from rollouts.notifications.triggers import ConditionError, run_trigger
from tests.support.oracles import module_dir
from tests.unit.notifications.anchors import ARGOCD
from tests.unit.notifications.objects import APPLICATION, ROLLOUT


@pytest.fixture(scope="module")
def catalog() -> Any:
    data = yaml.safe_load((module_dir(*ARGOCD) / "notifications_catalog" / "install.yaml").read_text())["data"]
    config = parse_config(data)
    assert config.problems == ()
    return config


def _app(**status: Any) -> dict[str, Any]:
    app = copy.deepcopy(APPLICATION)
    app["status"].update(status)
    return app


HEALTHY_DEPLOY = {"health": {"status": "Healthy", "lastTransitionTime": "2026-03-01T09:59:00Z"}}
CASES = [
    ("on-health-degraded", APPLICATION, True, "53e28ff20cc530b9ada2173fbbd64d48338583ba"),
    ("on-health-degraded", _app(health={"status": "Healthy"}), False, ""),
    ("on-sync-succeeded", APPLICATION, True, "53e28ff20cc530b9ada2173fbbd64d48338583ba"),
    ("on-sync-succeeded", _app(operationState=None), False, ""),
    ("on-sync-failed", _app(operationState={"phase": "Failed", "syncResult": {"revision": "r2"}}), True, "r2"),
    ("on-sync-running", _app(operationState={"phase": "Running"}), True, "<nil>"),
    ("on-sync-status-unknown", _app(sync={"status": "Unknown"}), True, "53e28ff20cc530b9ada2173fbbd64d48338583ba"),
    ("on-deployed", _app(**HEALTHY_DEPLOY), True, "53e28ff20cc530b9ada2173fbbd64d48338583ba"),
    ("on-deployed", APPLICATION, False, ""),
    ("on-created", APPLICATION, True, "guestbook"),
    ("on-deleted", APPLICATION, False, ""),
]


@pytest.mark.parametrize("trigger,app,triggered,once_per", CASES,
                         ids=[f"{c[0]}-{'yes' if c[2] else 'no'}-{i}" for i, c in enumerate(CASES)])
def test_argo_cd_catalog_triggers(catalog: Any, trigger: str, app: dict[str, Any], triggered: bool,
                                  once_per: str) -> None:
    [result] = run_trigger(catalog.triggers[trigger], application_env(app, {}, {}), ExprEvaluator())
    assert (result.triggered, result.once_per, result.error) == (triggered, once_per, "")


def test_a_deleted_application_triggers_on_deleted(catalog: Any) -> None:
    app = copy.deepcopy(APPLICATION)
    app["metadata"]["deletionTimestamp"] = "2026-03-01T11:00:00Z"
    [result] = run_trigger(catalog.triggers["on-deleted"], application_env(app, {}, {}), ExprEvaluator())
    assert result.triggered and result.once_per == "guestbook"


def test_rollout_conditions_see_float64_numbers_and_time_helpers() -> None:
    ev = ExprEvaluator()
    env = rollout_env(ROLLOUT, {"token": b"abc"})
    assert ev.evaluate("rollout.spec.replicas", env) == 5.0
    assert ev.evaluate("rollout.spec.template.spec.containers[0].image == 'shop/checkout:2.1'", env) is True
    assert ev.evaluate("time.Parse(rollout.metadata.creationTimestamp).Before(time.Now())", env) is True
    assert ev.evaluate("len(secrets.token)", env) == 3


@pytest.mark.parametrize("source,message", [
    ("rollout.nope.deeper", "cannot fetch deeper from <nil>"),
    ("rollout.spec.replicas +", "unexpected token EOF"),
    ("all(1..1000000, {all(1..1000000, {# > 0})})", "memory budget exceeded"),
    ("all(1..1000, {all(1..1000, {# > 0})})", "exceeded its evaluation budget of 100000 steps"),
])
def test_bad_or_hostile_conditions_are_errors_with_exprs_message(source: str, message: str) -> None:
    with pytest.raises(ConditionError) as err:
        ExprEvaluator().evaluate(source, rollout_env(ROLLOUT, {}))
    assert message in str(err.value)
