"""`app create`'s Helm flags become the source's helm block, as argocd's do."""

from __future__ import annotations

import pytest

from rollouts.cli.app import _helm_source, parse_args
from rollouts.cli.errors import CliError


def test_values_and_parameters() -> None:
    args = parse_args(["create", "web", "--repo", "https://git.example.com/r.git", "--dest-namespace", "web",
                       "--values", "values-prod.yaml", "--values", "extra.yaml", "--helm-set", "image.tag=2.1",
                       "--helm-set-string", "replicas=3", "--release-name", "web-prod"])
    assert _helm_source(args) == {
        "valueFiles": ["values-prod.yaml", "extra.yaml"],
        "parameters": [{"name": "image.tag", "value": "2.1"},
                       {"name": "replicas", "value": "3", "forceString": True}],
        "releaseName": "web-prod"}


def test_no_helm_flags_no_helm_block() -> None:
    args = parse_args(["create", "web", "--repo", "r", "--dest-namespace", "web"])
    assert _helm_source(args) == {}


def test_a_parameter_without_a_value_is_a_usage_error() -> None:
    args = parse_args(["create", "web", "--repo", "r", "--dest-namespace", "web", "--helm-set", "image.tag"])
    with pytest.raises(CliError, match="expected NAME=VALUE") as raised:
        _helm_source(args)
    assert raised.value.exit_code == 2
