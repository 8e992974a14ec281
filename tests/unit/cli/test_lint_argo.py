"""`lint -f FILE` on Argo's own lint test files (`pkg/kubectl-argo-rollouts/cmd/lint/testdata` of v1.10.2, read from
the module), with the expectations of Argo's TestLintValidRollout / TestLintInvalidRollout (cmd/lint/lint_test.go)."""

from __future__ import annotations

import io

import pytest

from rollouts.cli.errors import CliError
from rollouts.cli.lint import lint_argo_style
from tests.support.argo_source import argo_rollouts_dir


def lint_file(name: str) -> str:
    return str(argo_rollouts_dir() / "pkg" / "kubectl-argo-rollouts" / "cmd" / "lint" / "testdata" / name)


VALID = ["valid.yml", "valid.json", "valid-workload-ref.yaml", "valid-with-another-empty-object.yml",
         "valid-istio-v1alpha3.yml", "valid-istio-v1beta1.yml", "valid-blue-green.yml", "valid-ingress-smi.yml",
         "valid-ingress-smi-multi.yml", "valid-alb-canary.yml", "valid-nginx-canary.yml",
         "valid-nginx-basic-canary.yml", "valid-istio-v1beta1-mulitiple-virtualsvcs.yml",
         "valid-nginx-smi-with-vsvc.yaml"]


@pytest.mark.parametrize("name", VALID)
def test_valid_files_pass_silently(name: str) -> None:
    out = io.StringIO()
    assert lint_argo_style(lint_file(name), out=out) == 0
    assert out.getvalue() == ""


# Argo's expected errors, word for word where ours is the same check
SAME = {
    "invalid-empty-rollout-vsvc.yml": "spec.selector: Required value: Rollout has missing field '.spec.selector'",
    "invalid-service-labels.yml": 'spec.strategy.canary.canaryService: Invalid value: "istio-host-split-canary": '
                                  'Service "istio-host-split-canary" has unmatch label "app" in rollout',
    "invalid-ping-pong.yml": 'spec.strategy.canary.pingPong.pingService: Invalid value: "ping-service": Service '
                             '"ping-service" has unmatch label "app" in rollout',
    "invalid-ingress-smi-multi.yml": 'spec.strategy.canary.canaryService: Invalid value: '
                                     '"rollout-smi-experiment-canary": Service "rollout-smi-experiment-canary" has '
                                     'unmatch label "app" in rollout',
}
# Argo names the path without ".canary" (spec.strategy.maxSurge) although the field is under canary; ours names the
# field where it is. Argo reports the unknown key as a strict-decoding error; ours as the missing strategy it leaves.
DIFFERENT = {
    "invalid.yml": "spec.strategy.canary.maxSurge: Invalid value: 0: MaxSurge and MaxUnavailable both can not be zero",
    "invalid.json": "spec.strategy.canary.maxSurge: Invalid value: 0: MaxSurge and MaxUnavailable both can not be "
                    "zero",
    "invalid-multiple-docs.yml": "spec.strategy.canary.maxSurge: Invalid value: 0: MaxSurge and MaxUnavailable both "
                                 "can not be zero",
    "invalid-unknown-field.yml": "spec.strategy: Required value: Rollout has missing field '.spec.strategy.canary or "
                                 ".spec.strategy.blueGreen'",
}


@pytest.mark.parametrize(("name", "first"), [*SAME.items(), *DIFFERENT.items()], ids=[*SAME, *DIFFERENT])
def test_invalid_files_fail_with_the_first_problem_as_the_error(name: str, first: str) -> None:
    out = io.StringIO()
    with pytest.raises(CliError) as err:
        lint_argo_style(lint_file(name), out=out)
    assert str(err.value) == first
    assert out.getvalue().splitlines()[0] == first  # every problem is printed on stdout too
