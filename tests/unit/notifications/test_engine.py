"""The pure notification engine: ConfigMap parsing, subscriptions, triggers, state, what to send."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from rollouts.notifications.config import parse_config
from rollouts.notifications.plan import application_sends, destinations, rollout_event_sends
from rollouts.notifications.state import NotifiedState, state_key
from rollouts.notifications.subscriptions import (
    NOTIFIED_ANNOTATION,
    Destination,
    annotation_destinations,
    parse_selector,
)
from rollouts.notifications.triggers import EMPTY_CONDITION, ConditionError, condition_hash, trigger_for_reason
from tests.unit.notifications.objects import APPLICATION, ROLLOUT

CATALOG = {
    "trigger.on-rollout-aborted": "- send: [rollout-aborted]",
    "trigger.on-rollout-completed": "- send: [rollout-completed]",
    "template.rollout-aborted": "message: Rollout {{.rollout.metadata.name}} has been aborted.",
    "template.rollout-completed": "message: done",
    "service.slack": "token: $slack-token",
}


@pytest.mark.parametrize("reason,trigger", [
    ("RolloutAborted", "on-rollout-aborted"), ("RolloutStepCompleted", "on-rollout-step-completed"),
    ("AnalysisRunFailed", "on-analysis-run-failed"), ("ScalingReplicaSet", "on-scaling-replica-set"),
    ("RolloutUpdated", "on-rollout-updated"), ("SwitchService", "on-switch-service"),
])
def test_event_reasons_name_triggers_as_argo_rollouts_does(reason: str, trigger: str) -> None:
    assert trigger_for_reason(reason) == trigger


def test_condition_keys_are_the_engines() -> None:
    # sha1("") = da39a3ee..., base64url without padding; the engine's hash() of an empty condition.
    assert EMPTY_CONDITION == "2jmj7l5rSw0yVb_vlWAYkK_YBwk"  # base64 "2jmj7l5rSw0yVb/vlWAYkK/YBwk="
    assert condition_hash("app.status.sync.status == 'Unknown'") != EMPTY_CONDITION


def test_config_substitutes_secrets_and_reports_each_bad_key_without_dropping_the_rest() -> None:
    cfg = parse_config({
        **CATALOG,
        "service.webhook.github": "url: https://api.github.com\nheaders:\n- name: Authorization\n"
                                  "  value: token $github-token",
        "template.broken": "message: '{{.rollout.metadata.name'",
        "trigger.on-typo": "- send: [nope]",
        "service.bad.key.here": "{}",
        "subscriptions": "- recipients: [slack:deploys]\n  selector: env in (prod",
        "defaultTriggers": "[on-rollout-aborted]",
        "defaultTriggers.slack": "[on-rollout-completed]",
        "context": "argocdUrl: https://argocd.example.com",
    }, {"slack-token": b"xoxb-1"})
    assert cfg.services["slack"].options == {"token": "xoxb-1"}
    assert cfg.services["github"].options["headers"][0]["value"] == "token $github-token"
    assert cfg.services["github"].type == "webhook"
    problems = "\n".join(cfg.problems)
    assert "references $github-token, but the notification Secret has no key 'github-token'" in problems
    assert "template broken: message: template: broken:1: unclosed action" in problems
    assert "trigger.on-typo[0] sends template 'nope', which is not defined" in problems
    assert "invalid service key; expected 'service.<type>(.<name>)' but got 'service.bad.key.here'" in problems
    assert "subscriptions[0].selector" in problems
    assert set(cfg.templates) == {"rollout-aborted", "rollout-completed"}
    assert cfg.default_triggers == ("on-rollout-aborted",)
    assert cfg.service_default_triggers == {"slack": ("on-rollout-completed",)}
    assert cfg.context == {"argocdUrl": "https://argocd.example.com"}


def test_annotation_subscriptions_with_recipients_defaults_and_the_yaml_form() -> None:
    annotations = {
        "notifications.argoproj.io/subscribe.on-rollout-aborted.slack": "deploys; oncall ;",
        "notifications.argoproj.io/subscribe.on-rollout-aborted.webhook": "",
        "notifications.argoproj.io/subscribe.slack": "general",
        "notifications.argoproj.io/subscriptions": "- trigger: [on-sync-failed]\n  destinations:\n"
                                                   "  - service: email\n    recipients: [a@example.com]",
        "unrelated": "x",
    }
    dests = annotation_destinations(annotations, ["on-rollout-completed"], {"slack": ["on-rollout-updated"]})
    assert dests["on-rollout-aborted"] == [Destination("slack", "deploys"), Destination("slack", "oncall"),
                                           Destination("webhook", "")]
    assert dests["on-rollout-updated"] == [Destination("slack", "general")]
    assert dests["on-sync-failed"] == [Destination("email", "a@example.com")]
    assert "on-rollout-completed" not in dests


@pytest.mark.parametrize("selector,labels,matches", [
    ("", {}, True), ("env=prod", {"env": "prod"}, True), ("env==prod", {"env": "dev"}, False),
    ("env!=prod", {}, True), ("team in (a, b),env", {"team": "b", "env": "x"}, True),
    ("team notin (a,b)", {"team": "a"}, False), ("!canary", {"canary": "1"}, False), ("canary", {}, False),
])
def test_label_selectors_of_default_subscriptions(selector: str, labels: dict[str, str], matches: bool) -> None:
    assert all(r.matches(labels) for r in parse_selector(selector)) is matches


def test_default_subscriptions_by_selector_merge_with_annotations_without_duplicates() -> None:
    cfg = parse_config({**CATALOG, "subscriptions": "- recipients: [slack:deploys, 'webhook']\n"
                        "  triggers: [on-rollout-aborted]\n  selector: team=payments\n"
                        "- recipients: [slack:other]\n  selector: team=search"})
    dests = destinations(cfg, ROLLOUT)
    assert dests["on-rollout-aborted"] == [Destination("slack", "deploys"), Destination("webhook", "")]


class FakeEvaluator:
    """A table from expression to value: the plan's logic is tested apart from the expression language."""

    def __init__(self, table: dict[str, Any]) -> None:
        self.table = table

    def evaluate(self, source: str, env: Any) -> Any:
        if source not in self.table:
            raise ConditionError(f"unknown name in {source!r}")
        return self.table[source]

    def describe(self, value: Any) -> str:
        return str(value)


def test_rollout_event_sends_each_destination_once_per_event() -> None:
    cfg = parse_config(CATALOG)
    state = NotifiedState()
    sends, errors = rollout_event_sends(cfg, ROLLOUT, reason="RolloutAborted", event="checkout.17a", env={},
                                        evaluator=None, state=state)
    assert errors == [] and [(s.trigger, s.dest, s.templates) for s in sends] == [
        ("on-rollout-aborted", Destination("slack", "deploys"), ("rollout-aborted",))]
    assert sends[0].key == f"checkout.17a:on-rollout-aborted:[0].{EMPTY_CONDITION}:slack:deploys"
    state[sends[0].key] = 1
    again, _ = rollout_event_sends(cfg, ROLLOUT, reason="RolloutAborted", event="checkout.17a", env={},
                                   evaluator=None, state=state)
    assert again == [], "an event already recorded is not sent again (a restart re-reads the annotation)"
    other, _ = rollout_event_sends(cfg, ROLLOUT, reason="RolloutAborted", event="checkout.17b", env={},
                                   evaluator=None, state=state)
    assert len(other) == 1, "a second abort (another event) is a second notification"
    none, _ = rollout_event_sends(cfg, ROLLOUT, reason="RolloutCompleted", event="e", env={}, evaluator=None,
                                  state=state)
    assert none == [], "no subscription to on-rollout-completed"


def test_rollout_trigger_with_a_condition_sends_only_when_true() -> None:
    cfg = parse_config({**CATALOG, "trigger.on-rollout-aborted": "- when: rollout.spec.replicas > 3\n"
                        "  send: [rollout-aborted]"})
    yes, _ = rollout_event_sends(cfg, ROLLOUT, reason="RolloutAborted", event="e", env={},
                                 evaluator=FakeEvaluator({"rollout.spec.replicas > 3": True}), state=NotifiedState())
    no, errors = rollout_event_sends(cfg, ROLLOUT, reason="RolloutAborted", event="e", env={},
                                     evaluator=FakeEvaluator({}), state=NotifiedState())
    assert len(yes) == 1 and no == [] and "unknown name" in errors[0]


APP_CONFIG = {
    "trigger.on-health-degraded": "- when: app.status.health.status == 'Degraded'\n"
                                  "  oncePer: app.status.operationState?.syncResult?.revision\n"
                                  "  send: [app-health-degraded]",
    "trigger.on-sync-status-unknown": "- when: app.status.sync.status == 'Unknown'\n  send: [unknown]",
    "template.app-health-degraded": "message: degraded",
    "template.unknown": "message: unknown",
}


def _app(**annotations: str) -> dict[str, Any]:
    app = copy.deepcopy(APPLICATION)
    app["metadata"]["annotations"] = annotations
    return app


def test_application_conditions_fire_once_until_they_turn_false_or_once_per_value() -> None:
    cfg = parse_config(APP_CONFIG)
    app = _app(**{"notifications.argoproj.io/subscribe.on-health-degraded.slack": "ops",
                  "notifications.argoproj.io/subscribe.on-sync-status-unknown.slack": "ops"})
    degraded = FakeEvaluator({"app.status.health.status == 'Degraded'": True,
                              "app.status.operationState?.syncResult?.revision": "abc123",
                              "app.status.sync.status == 'Unknown'": True})
    sends, state, errors = application_sends(cfg, app, env={}, evaluator=degraded, state=NotifiedState(), now=100)
    assert errors == [] and sorted(s.trigger for s in sends) == ["on-health-degraded", "on-sync-status-unknown"]
    for s in sends:
        state.set_notified(s.key, True, now=100)
    again, state2, _ = application_sends(cfg, app, env={}, evaluator=degraded, state=state, now=101)
    assert again == [] and state2 == state
    healthy = FakeEvaluator({"app.status.health.status == 'Degraded'": False,
                             "app.status.sync.status == 'Unknown'": False})
    _, cleared, _ = application_sends(cfg, app, env={}, evaluator=healthy, state=state, now=102)
    assert [k for k in cleared if "sync-status-unknown" in k] == [], "a false condition re-arms"
    assert [k for k in cleared if k.startswith("abc123:")], "oncePer keys survive the condition turning false"
    back, _, _ = application_sends(cfg, app, env={}, evaluator=degraded, state=cleared, now=103)
    assert [s.trigger for s in back] == ["on-sync-status-unknown"], "degraded again at the same revision: not again"


def test_notified_state_round_trips_the_annotation_and_keeps_the_newest_100() -> None:
    state = NotifiedState({f"k{i:03d}": 1000 + i for i in range(105)})
    value = state.annotation_value()
    assert value is not None
    kept = json.loads(value)
    assert len(kept) == 100 and "k000" not in kept and "k104" in kept and list(kept) == sorted(kept)
    again = NotifiedState.from_annotations({NOTIFIED_ANNOTATION: value})
    assert again == kept
    assert NotifiedState.from_annotations({NOTIFIED_ANNOTATION: "not json"}) == {}
    assert NotifiedState().annotation_value() is None
    assert state_key("t", "[0].x", Destination("slack", "c"), once_per="rev") == "rev:t:[0].x:slack:c"
