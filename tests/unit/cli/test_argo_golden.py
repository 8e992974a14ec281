# ruff: noqa: RUF001 (Argo's tree icons include the Greek letters alpha and sigma)
"""`get rollout`, `get experiment` and `list rollouts` render exactly what Argo's plugin prints for the same objects.

The objects are Argo's own test data (`pkg/kubectl-argo-rollouts/info/testdata` of the v1.10.2 module, read where
the Go module cache keeps it); the expected texts are the strings of Argo's tests, written here as data:
`pkg/kubectl-argo-rollouts/cmd/get/get_test.go` (TestGet*, TestExperimentRollout) and
`pkg/kubectl-argo-rollouts/cmd/list/list_test.go` (TestList*). As in Argo's tests, every object was created a
week ago and trailing spaces are ignored (Argo's tabwriter pads the last column, and so do we).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import pytest
import yaml

from rollouts.cli.children import experiment_info
from rollouts.cli.info import list_row, reported_phase, rollout_info
from rollouts.cli.render import Style, experiment_text, list_line, list_table, rollout_text
from rollouts.cli.tabwriter import align
from tests.support.argo_source import plugin_testdata

# Half a second past the minute: Argo's scale-down-delay test writes "in four hours" truncated to the second,
# which a moment later reads 3h59m; a fixed clock needs that half second to say the same.
NOW = datetime(2026, 1, 15, 12, 0, 0, 500000, tzinfo=UTC)
A_WEEK_AGO = (NOW - timedelta(days=7)).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")

Objects = dict[str, list[dict[str, Any]]]


@cache
def _read(directory: str) -> Objects:
    """Argo's discoverObjects: every file of the directory in name order, grouped by kind, created a week ago."""
    found: Objects = {}
    for path in sorted(plugin_testdata(directory).glob("*.yaml")):
        obj = yaml.safe_load(path.read_text())
        obj["metadata"]["creationTimestamp"] = A_WEEK_AGO
        if obj["kind"] == "AnalysisRun":
            for m in obj["status"]["metricResults"][0].get("measurements") or []:
                m["startedAt"] = m["finishedAt"] = A_WEEK_AGO
        found.setdefault(obj["kind"], []).append(obj)
    return found


def objects(directory: str) -> Objects:
    return copy.deepcopy(_read(directory))


def _delay(*, hours: int) -> Callable[[Objects], None]:
    """Argo's TestGetBlueGreenRolloutScaleDownDelay*: ReplicaSets[2] gets a scale-down deadline and loses its
    pod-template-hash label (so it is no longer the preview)."""
    def edit(objs: Objects) -> None:
        rs = objs["ReplicaSet"][2]
        deadline = (NOW + timedelta(hours=hours)).replace(microsecond=0)
        rs["metadata"]["annotations"]["scale-down-deadline"] = deadline.strftime("%Y-%m-%dT%H:%M:%SZ")
        del rs["metadata"]["labels"]["rollouts-pod-template-hash"]
    return edit


@dataclass(frozen=True)
class Case:
    test: str  # the Go test the expected text comes from
    directory: str
    rollout: int  # index into the directory's Rollouts, as the Go test picks it
    edit: Callable[[Objects], None] | None
    expected: str


def _strip(text: str) -> str:
    return "\n".join(line.rstrip(" ") for line in text.split("\n"))


CASES = [
    Case("TestGetBlueGreenRollout", "blue-green", 0, None, """\
Name:            bluegreen-demo
Namespace:       jesse-test
Status:          ॥ Paused
Message:         BlueGreenPause
Strategy:        BlueGreen
Images:          argoproj/rollouts-demo:blue (stable, active)
                 argoproj/rollouts-demo:green (preview)
Replicas:
  Desired:       3
  Current:       6
  Updated:       3
  Ready:         6
  Available:     3

NAME                                        KIND        STATUS        AGE  INFO
⟳ bluegreen-demo                            Rollout     ॥ Paused      7d
├──# revision:11
│  └──⧉ bluegreen-demo-74b948fccb           ReplicaSet  ✔ Healthy     7d   preview
│     ├──□ bluegreen-demo-74b948fccb-5jz59  Pod         ✔ Running     7d   ready:1/1
│     ├──□ bluegreen-demo-74b948fccb-mkhrl  Pod         ✔ Running     7d   ready:1/1
│     └──□ bluegreen-demo-74b948fccb-vvj2t  Pod         ✔ Running     7d   ready:1/1
├──# revision:10
│  └──⧉ bluegreen-demo-6cbccd9f99           ReplicaSet  ✔ Healthy     7d   stable,active
│     ├──□ bluegreen-demo-6cbccd9f99-gk78v  Pod         ✔ Running     7d   ready:1/1
│     ├──□ bluegreen-demo-6cbccd9f99-kxj8g  Pod         ✔ Running     7d   ready:1/1
│     └──□ bluegreen-demo-6cbccd9f99-t2d4f  Pod         ✔ Running     7d   ready:1/1
└──# revision:8
   └──⧉ bluegreen-demo-746d5fddf6           ReplicaSet  • ScaledDown  7d
"""),
    Case("TestGetBlueGreenRolloutScaleDownDelay", "blue-green", 0, _delay(hours=4), """\
Name:            bluegreen-demo
Namespace:       jesse-test
Status:          ॥ Paused
Message:         BlueGreenPause
Strategy:        BlueGreen
Images:          argoproj/rollouts-demo:blue (stable, active)
                 argoproj/rollouts-demo:green
Replicas:
  Desired:       3
  Current:       6
  Updated:       3
  Ready:         6
  Available:     3

NAME                                        KIND        STATUS        AGE  INFO
⟳ bluegreen-demo                            Rollout     ॥ Paused      7d
├──# revision:11
│  └──⧉ bluegreen-demo-74b948fccb           ReplicaSet  ✔ Healthy     7d   delay:3h59m
│     ├──□ bluegreen-demo-74b948fccb-5jz59  Pod         ✔ Running     7d   ready:1/1
│     ├──□ bluegreen-demo-74b948fccb-mkhrl  Pod         ✔ Running     7d   ready:1/1
│     └──□ bluegreen-demo-74b948fccb-vvj2t  Pod         ✔ Running     7d   ready:1/1
├──# revision:10
│  └──⧉ bluegreen-demo-6cbccd9f99           ReplicaSet  ✔ Healthy     7d   stable,active
│     ├──□ bluegreen-demo-6cbccd9f99-gk78v  Pod         ✔ Running     7d   ready:1/1
│     ├──□ bluegreen-demo-6cbccd9f99-kxj8g  Pod         ✔ Running     7d   ready:1/1
│     └──□ bluegreen-demo-6cbccd9f99-t2d4f  Pod         ✔ Running     7d   ready:1/1
└──# revision:8
   └──⧉ bluegreen-demo-746d5fddf6           ReplicaSet  • ScaledDown  7d
"""),
    Case("TestGetBlueGreenRolloutScaleDownDelayPassed", "blue-green", 0, _delay(hours=-1), """\
Name:            bluegreen-demo
Namespace:       jesse-test
Status:          ॥ Paused
Message:         BlueGreenPause
Strategy:        BlueGreen
Images:          argoproj/rollouts-demo:blue (stable, active)
                 argoproj/rollouts-demo:green
Replicas:
  Desired:       3
  Current:       6
  Updated:       3
  Ready:         6
  Available:     3

NAME                                        KIND        STATUS        AGE  INFO
⟳ bluegreen-demo                            Rollout     ॥ Paused      7d
├──# revision:11
│  └──⧉ bluegreen-demo-74b948fccb           ReplicaSet  ✔ Healthy     7d   delay:passed
│     ├──□ bluegreen-demo-74b948fccb-5jz59  Pod         ✔ Running     7d   ready:1/1
│     ├──□ bluegreen-demo-74b948fccb-mkhrl  Pod         ✔ Running     7d   ready:1/1
│     └──□ bluegreen-demo-74b948fccb-vvj2t  Pod         ✔ Running     7d   ready:1/1
├──# revision:10
│  └──⧉ bluegreen-demo-6cbccd9f99           ReplicaSet  ✔ Healthy     7d   stable,active
│     ├──□ bluegreen-demo-6cbccd9f99-gk78v  Pod         ✔ Running     7d   ready:1/1
│     ├──□ bluegreen-demo-6cbccd9f99-kxj8g  Pod         ✔ Running     7d   ready:1/1
│     └──□ bluegreen-demo-6cbccd9f99-t2d4f  Pod         ✔ Running     7d   ready:1/1
└──# revision:8
   └──⧉ bluegreen-demo-746d5fddf6           ReplicaSet  • ScaledDown  7d
"""),
    Case("TestGetCanaryRollout", "canary", 0, None, """\
Name:            canary-demo
Namespace:       jesse-test
Status:          ✖ Degraded
Message:         ProgressDeadlineExceeded: ReplicaSet "canary-demo-65fb5ffc84" has timed out progressing.
Strategy:        Canary
  Step:          0/8
  SetWeight:     20
  ActualWeight:  0
Images:          argoproj/rollouts-demo:does-not-exist (canary)
                 argoproj/rollouts-demo:green (stable)
Replicas:
  Desired:       5
  Current:       6
  Updated:       1
  Ready:         5
  Available:     5

NAME                                     KIND        STATUS              AGE  INFO
⟳ canary-demo                            Rollout     ✖ Degraded          7d
├──# revision:31
│  └──⧉ canary-demo-65fb5ffc84           ReplicaSet  ◌ Progressing       7d   canary
│     └──□ canary-demo-65fb5ffc84-9wf5r  Pod         ⚠ ImagePullBackOff  7d   ready:0/1
├──# revision:30
│  └──⧉ canary-demo-877894d5b            ReplicaSet  ✔ Healthy           7d   stable
│     ├──□ canary-demo-877894d5b-6jfpt   Pod         ✔ Running           7d   ready:1/1
│     ├──□ canary-demo-877894d5b-7jmqw   Pod         ✔ Running           7d   ready:1/1
│     ├──□ canary-demo-877894d5b-j8g2b   Pod         ✔ Running           7d   ready:1/1
│     ├──□ canary-demo-877894d5b-jw5qm   Pod         ✔ Running           7d   ready:1/1
│     └──□ canary-demo-877894d5b-kh7x4   Pod         ✔ Running           7d   ready:1/1
└──# revision:29
   └──⧉ canary-demo-859c99b45c           ReplicaSet  • ScaledDown        7d
"""),
    Case("TestGetCanaryPingPongRollout", "canary", 3, None, """\
Name:            canary-demo-pingpong
Namespace:       jesse-test
Status:          ✖ Degraded
Message:         ProgressDeadlineExceeded: ReplicaSet "canary-demo-65fb5ffc84" has timed out progressing.
Strategy:        Canary
  Step:          0/8
  SetWeight:     20
  ActualWeight:  0
Images:          argoproj/rollouts-demo:does-not-exist (canary, ping)
                 argoproj/rollouts-demo:green (stable, pong)
Replicas:
  Desired:       5
  Current:       6
  Updated:       1
  Ready:         5
  Available:     5

NAME                                     KIND        STATUS              AGE  INFO
⟳ canary-demo-pingpong                   Rollout     ✖ Degraded          7d
├──# revision:31
│  └──⧉ canary-demo-65fb5ffc84           ReplicaSet  ◌ Progressing       7d   canary,ping
│     └──□ canary-demo-65fb5ffc84-9wf5r  Pod         ⚠ ImagePullBackOff  7d   ready:0/1
├──# revision:30
│  └──⧉ canary-demo-877894d5b            ReplicaSet  ✔ Healthy           7d   stable,pong
│     ├──□ canary-demo-877894d5b-6jfpt   Pod         ✔ Running           7d   ready:1/1
│     ├──□ canary-demo-877894d5b-7jmqw   Pod         ✔ Running           7d   ready:1/1
│     ├──□ canary-demo-877894d5b-j8g2b   Pod         ✔ Running           7d   ready:1/1
│     ├──□ canary-demo-877894d5b-jw5qm   Pod         ✔ Running           7d   ready:1/1
│     └──□ canary-demo-877894d5b-kh7x4   Pod         ✔ Running           7d   ready:1/1
└──# revision:29
   └──⧉ canary-demo-859c99b45c           ReplicaSet  • ScaledDown        7d
"""),
    Case("TestExperimentRollout", "experiment-analysis", 0, None, """\
Name:            rollout-experiment-analysis
Namespace:       jesse-test
Status:          ✖ Degraded
Message:         ProgressDeadlineExceeded: ReplicaSet "rollout-experiment-analysis-6f646bf7b7" has timed out progressing.
Strategy:        Canary
  Step:          1/2
  SetWeight:     25
  ActualWeight:  25
Images:          argoproj/rollouts-demo:blue (stable)
                 argoproj/rollouts-demo:yellow (canary)
Replicas:
  Desired:       4
  Current:       4
  Updated:       1
  Ready:         4
  Available:     4

NAME                                                                           KIND         STATUS          AGE  INFO
⟳ rollout-experiment-analysis                                                  Rollout      ✖ Degraded      7d
├──# revision:2
│  ├──⧉ rollout-experiment-analysis-6f646bf7b7                                 ReplicaSet   ✔ Healthy       7d   canary
│  │  └──□ rollout-experiment-analysis-6f646bf7b7-wn5w8                        Pod          ✔ Running       7d   ready:1/1
│  ├──Σ rollout-experiment-analysis-6f646bf7b7-1-vcv27                         Experiment   ◌ Running       7d
│  │  ├──⧉ rollout-experiment-analysis-6f646bf7b7-1-vcv27-baseline-7d768b8b5f  ReplicaSet   ✔ Healthy       7d
│  │  │  └──□ rollout-experiment-analysis-6f646bf7b7-1-vcv27-baseline-7dczdst  Pod          ✔ Running       7d   ready:1/1
│  │  └──⧉ rollout-experiment-analysis-6f646bf7b7-1-vcv27-canary-7699dcf5d     ReplicaSet   ✔ Healthy       7d
│  │     └──□ rollout-experiment-analysis-6f646bf7b7-1-vcv27-canary-7699vgr24  Pod          ✔ Running       7d   ready:1/1
│  └──α rollout-experiment-analysis-random-fail-6f646bf7b7-skqcr               AnalysisRun  ? Inconclusive  7d   ✔ 4,✖ 4,? 1,⚠ 1
│     ├──⊞ rollout-experiment-analysis-random-fail-6f646bf7b7-skqcr-rzl6lt     Job          ✖ Failed        7d
│     ├──⊞ rollout-experiment-analysis-random-fail-6f646bf7b7-skqcr-r8lqpd     Job          ✔ Successful    7d
│     ├──⊞ rollout-experiment-analysis-random-fail-6f646bf7b7-skqcr-rjjsgg     Job          ✔ Successful    7d
│     ├──⊞ rollout-experiment-analysis-random-fail-6f646bf7b7-skqcr-rrnfj5     Job          ✖ Failed        7d
│     ├──⊞ rollout-experiment-analysis-random-fail-6f646bf7b7-skqcr-rx5kqk     Job          ✖ Failed        7d
│     ├──⊞ rollout-experiment-analysis-random-fail-6f646bf7b7-skqcr-rp894b     Job          ✔ Successful    7d
│     ├──⊞ rollout-experiment-analysis-random-fail-6f646bf7b7-skqcr-rmngtj     Job          ✖ Failed        7d
│     └──⊞ rollout-experiment-analysis-random-fail-6f646bf7b7-skqcr-rsxm69     Job          ✔ Successful    7d
└──# revision:1
   └──⧉ rollout-experiment-analysis-f6db98dff                                  ReplicaSet   ✔ Healthy       7d   stable
      ├──□ rollout-experiment-analysis-f6db98dff-8dmnz                         Pod          ✔ Running       7d   ready:1/1
      ├──□ rollout-experiment-analysis-f6db98dff-bb6v6                         Pod          ✔ Running       7d   ready:1/1
      └──□ rollout-experiment-analysis-f6db98dff-bq55x                         Pod          ✔ Running       7d   ready:1/1
"""),
    Case("TestGetRolloutWithExperimentJob", "experiment-step", 0, None, """\
Name:            canary-demo
Namespace:       jesse-test
Status:          ◌ Progressing
Message:         more replicas need to be updated
Strategy:        Canary
  Step:          0/1
  SetWeight:     0
  ActualWeight:  0
Images:          argoproj/rollouts-demo:blue (Σ:canary-preview)
                 argoproj/rollouts-demo:green (stable)
Replicas:
  Desired:       5
  Current:       5
  Updated:       0
  Ready:         5
  Available:     5

NAME                                                           KIND         STATUS         AGE  INFO
⟳ canary-demo                                                  Rollout      ◌ Progressing  7d
├──# revision:2
│  ├──⧉ canary-demo-645d5dbc4c                                 ReplicaSet   • ScaledDown   7d   canary
│  └──Σ canary-demo-645d5dbc4c-2-0                             Experiment   ◌ Running      7d
│     ├──⧉ canary-demo-645d5dbc4c-2-0-canary-preview           ReplicaSet   ✔ Healthy      7d
│     │  └──□ canary-demo-645d5dbc4c-2-0-canary-preview-zmmvz  Pod          ✔ Running      7d   ready:1/1
│     └──α canary-demo-645d5dbc4c-2-0-stress-test              AnalysisRun  ◌ Running      7d
│        └──⊞ 4e2d824d-01af-11ea-b38c-42010aa80083.stress.1    Job          ◌ Running      7d
└──# revision:1
   └──⧉ canary-demo-877894d5b                                  ReplicaSet   ✔ Healthy      7d   stable
      ├──□ canary-demo-877894d5b-n6xqz                         Pod          ✔ Running      7d   ready:1/1
      ├──□ canary-demo-877894d5b-nlmj9                         Pod          ✔ Running      7d   ready:1/1
      ├──□ canary-demo-877894d5b-txgs5                         Pod          ✔ Running      7d   ready:1/1
      ├──□ canary-demo-877894d5b-wfqqr                         Pod          ✔ Running      7d   ready:1/1
      └──□ canary-demo-877894d5b-zhh6x                         Pod          ✔ Running      7d   ready:1/1
"""),
    Case("TestGetInvalidRollout", "rollout-invalid", 0, None, """\
Name:            rollout-invalid
Namespace:       default
Status:          ✖ Degraded
Message:         InvalidSpec: The Rollout "rollout-invalid" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"doesnt-match"}: `selector` does not match template `labels`
Strategy:        Canary
  Step:
  SetWeight:     100
  ActualWeight:  100
Replicas:
  Desired:       1
  Current:       0
  Updated:       0
  Ready:         0
  Available:     0

NAME               KIND     STATUS      AGE  INFO
⟳ rollout-invalid  Rollout  ✖ Degraded  7d
"""),
    Case("TestGetAbortedRollout", "rollout-aborted", 0, None, """\
Name:            rollout-background-analysis
Namespace:       default
Status:          ✖ Degraded
Message:         RolloutAborted: metric "web" assessed Failed due to failed (1) > failureLimit (0)
Strategy:        Canary
  Step:          0/2
  SetWeight:     0
  ActualWeight:  0
Images:          argoproj/rollouts-demo:blue (stable)
Replicas:
  Desired:       1
  Current:       1
  Updated:       0
  Ready:         1
  Available:     1

NAME                                                     KIND         STATUS        AGE  INFO
⟳ rollout-background-analysis                            Rollout      ✖ Degraded    7d
├──# revision:2
│  ├──⧉ rollout-background-analysis-db976bc44            ReplicaSet   • ScaledDown  7d   canary
│  └──α rollout-background-analysis-db976bc44-2          AnalysisRun  ✖ Failed      7d   ✖ 1
└──# revision:1
   └──⧉ rollout-background-analysis-7d84d44bb8           ReplicaSet   ✔ Healthy     7d   stable
      └──□ rollout-background-analysis-7d84d44bb8-z5wps  Pod          ✔ Running     7d   ready:1/1
"""),
]


@pytest.mark.parametrize("case", CASES, ids=[c.test for c in CASES])
def test_get_rollout_matches_argo(case: Case) -> None:
    objs = objects(case.directory)
    if case.edit is not None:
        case.edit(objs)
    info = rollout_info(objs["Rollout"][case.rollout], objs.get("ReplicaSet", []), objs.get("Pod", []),
                        objs.get("AnalysisRun", []), objs.get("Experiment", []))
    assert _strip(rollout_text(info, NOW)) == case.expected


def test_get_experiment_matches_argo() -> None:
    """TestGetExperiment (cmd/get/get_test.go)."""
    objs = objects("experiment-analysis")
    exp = experiment_info(objs["Experiment"][0], objs["ReplicaSet"], objs["AnalysisRun"], objs["Pod"])
    assert _strip(experiment_text(exp, NOW)) == """\
Name:            rollout-experiment-analysis-6f646bf7b7-1-vcv27
Namespace:       jesse-test
Status:          ◌ Running
Images:          argoproj/rollouts-demo:blue
                 argoproj/rollouts-demo:yellow

NAME                                                                     KIND        STATUS     AGE  INFO
Σ rollout-experiment-analysis-6f646bf7b7-1-vcv27                         Experiment  ◌ Running  7d
├──⧉ rollout-experiment-analysis-6f646bf7b7-1-vcv27-baseline-7d768b8b5f  ReplicaSet  ✔ Healthy  7d
│  └──□ rollout-experiment-analysis-6f646bf7b7-1-vcv27-baseline-7dczdst  Pod         ✔ Running  7d   ready:1/1
└──⧉ rollout-experiment-analysis-6f646bf7b7-1-vcv27-canary-7699dcf5d     ReplicaSet  ✔ Healthy  7d
   └──□ rollout-experiment-analysis-6f646bf7b7-1-vcv27-canary-7699vgr24  Pod         ✔ Running  7d   ready:1/1
"""


def test_colours_are_argos_ansi_codes_and_do_not_move_columns() -> None:
    """On a terminal the tree is coloured like Argo's (green ✔ and stable, yellow canary, ...); the columns stay
    where the plain text has them because escape sequences have no width."""
    objs = objects("canary")
    info = rollout_info(objs["Rollout"][0], objs["ReplicaSet"], objs["Pod"], [], [])
    coloured = rollout_text(info, NOW, Style(color=True))
    assert "\x1b[32m✔\x1b[0m Healthy" in coloured and "\x1b[33mcanary\x1b[0m" in coloured
    plain = rollout_text(info, NOW)
    stripped = __import__("re").sub(r"\x1b\[[0-9;]*m", "", coloured)
    assert stripped == plain


# ---------------------------------------------------------------------------------------------------
# list rollouts (cmd/list/list_test.go)


def _list_rollout(name: str, canary: bool, available: int = 2) -> dict[str, Any]:
    strategy: dict[str, Any] = {"canary": {"steps": [{"setWeight": 10}, {"pause": {"duration": 60}},
                                                     {"setWeight": 20}]}} if canary else {"blueGreen": {}}
    return {"metadata": {"name": name, "namespace": "test"},
            "spec": {"replicas": 5, "strategy": strategy},
            "status": {"currentStepIndex": 1, "replicas": 4, "readyReplicas": 1, "updatedReplicas": 3,
                       "availableReplicas": available}}


def test_list_canary_rollout() -> None:
    """TestListCanaryRollout (trailing spaces included: Argo pads the last cell with %-9d)."""
    rows = [list_row(_list_rollout("can-guestbook", canary=True))]
    assert list_table(rows, all_namespaces=False, timestamp=None) == (
        "NAME           STRATEGY   STATUS        STEP  SET-WEIGHT  READY  DESIRED  UP-TO-DATE  AVAILABLE\n"
        "can-guestbook  Canary     Progressing   1/3   10          1/4    5        3           2        \n")


def test_list_blue_green_rollout() -> None:
    """TestListBlueGreenResource."""
    rows = [list_row(_list_rollout("bg-guestbook", canary=False))]
    assert list_table(rows, all_namespaces=False, timestamp=None) == (
        "NAME          STRATEGY   STATUS        STEP  SET-WEIGHT  READY  DESIRED  UP-TO-DATE  AVAILABLE\n"
        "bg-guestbook  BlueGreen  Progressing   -     -           1/4    5        3           2        \n")


def test_list_namespace_and_timestamp() -> None:
    """TestListNamespaceAndTimestamp."""
    rows = [list_row(_list_rollout("can-guestbook", canary=True))]
    text = list_table(rows, all_namespaces=True, timestamp="2026-01-15T12:00:00Z")
    assert ("TIMESTAMP             NAMESPACE  NAME           STRATEGY   STATUS        STEP  SET-WEIGHT  READY  DESIRED  "
            "UP-TO-DATE  AVAILABLE") in text
    assert "test       can-guestbook  Canary     Progressing   1/3   10          1/4    5        3           2" in text


def test_list_watch_prints_a_line_per_change() -> None:
    """TestListWithWatch: the table, then only the line that changed (can-guestbook's AVAILABLE 2 -> 3)."""
    initial = [list_row(_list_rollout("bg-guestbook", canary=False)), list_row(_list_rollout("can-guestbook", True))]
    changed = list_row(_list_rollout("can-guestbook", canary=True, available=3))
    assert changed != initial[1] and list_row(_list_rollout("can-guestbook", True)) == initial[1]
    text = list_table(initial, all_namespaces=False, timestamp=None)
    text += align(list_line(changed, all_namespaces=False, timestamp=None))
    assert text == (
        "NAME           STRATEGY   STATUS        STEP  SET-WEIGHT  READY  DESIRED  UP-TO-DATE  AVAILABLE\n"
        "bg-guestbook   BlueGreen  Progressing   -     -           1/4    5        3           2        \n"
        "can-guestbook  Canary     Progressing   1/3   10          1/4    5        3           2        \n"
        "can-guestbook  Canary     Progressing   1/3   10          1/4    5        3           3        \n")


# ---------------------------------------------------------------------------------------------------
# status (cmd/status/status_test.go)


@pytest.mark.parametrize(("directory", "phase", "message"), [
    ("blue-green", "Paused", "BlueGreenPause"),
    ("rollout-invalid", "Degraded", 'InvalidSpec: The Rollout "rollout-invalid" is invalid: '
     'spec.template.metadata.labels: Invalid value: map[string]string{"app":"doesnt-match"}: `selector` does not '
     "match template `labels`"),
    ("rollout-aborted", "Degraded", 'RolloutAborted: metric "web" assessed Failed due to failed (1) > failureLimit (0)'),
], ids=["TestStatusBlueGreenPaused", "TestStatusInvalidRollout", "TestStatusAbortedRollout"])
def test_status_phase_and_message(directory: str, phase: str, message: str) -> None:
    report = reported_phase(objects(directory)["Rollout"][0])
    assert (report.phase, report.message) == (phase, message)
