"""`__complete`: what each partial command line completes to (cobra's protocol: candidates + directive).

The names callback stands in for the cluster (the integration test in tests/integration/cli/test_plugin_commands.py
reads them from the real control plane); here it records which kind was asked for with which connection flags.
"""

from __future__ import annotations

import argparse

import pytest

from rollouts.cli.completion import ERROR, NO_FILE, complete
from rollouts.cli.main import build_parser

CLUSTER = {"rollouts": ["cart", "catalog", "checkout"], "analysisruns": ["checkout-run"],
           "namespaces": ["default", "shop"], "contexts": ["kind", "prod"], "clusters": ["c1"], "users": ["admin"],
           "analysistemplates": ["error-rate"], "clusteranalysistemplates": ["global-rate"]}
ROLLOUTS = ["cart", "catalog", "checkout"]


@pytest.fixture(scope="module")
def parser() -> argparse.ArgumentParser:
    return build_parser(["__complete"], prog="kubectl rollouts")


CASES = [
    # (id, words, candidates, directive, asked: (kind, connection) or None)
    ("rollout-name", ["get", "rollout", "c"], ROLLOUTS, NO_FILE, ("rollouts", {})),
    ("rollout-prefix", ["promote", "ch"], ["checkout"], NO_FILE, ("rollouts", {})),
    ("several-names-skip-typed", ["abort", "cart", ""], ["catalog", "checkout"], NO_FILE, ("rollouts", {})),
    ("one-name-only", ["promote", "cart", ""], [], NO_FILE, None),
    ("one-name-only-undo", ["undo", "cart", ""], [], NO_FILE, None),
    ("analysisrun-names", ["terminate", "analysisrun", ""], ["checkout-run"], NO_FILE, ("analysisruns", {})),
    ("retry-several", ["retry", "rollout", "cart", ""], ["catalog", "checkout"], NO_FILE, ("rollouts", {})),
    ("set-image", ["set", "image", ""], ROLLOUTS, NO_FILE, ("rollouts", {})),
    ("namespace-flag-read", ["-n", "shop", "get", "rollout", ""], ROLLOUTS, NO_FILE,
     ("rollouts", {"namespace": "shop"})),
    ("inline-and-spaced-flags", ["--namespace=shop", "--context", "prod", "promote", ""], ROLLOUTS, NO_FILE,
     ("rollouts", {"namespace": "shop", "context": "prod"})),
    ("bool-flag-takes-no-value", ["get", "rollout", "--watch", "c"], ROLLOUTS, NO_FILE, ("rollouts", {})),
    ("namespace-value", ["get", "rollout", "-n", "s"], ["shop"], NO_FILE, ("namespaces", {})),
    ("namespace-inline-value", ["get", "rollout", "--namespace=s"], ["--namespace=shop"], NO_FILE,
     ("namespaces", {})),
    ("context-value", ["--context", "p"], ["prod"], NO_FILE, ("contexts", {})),
    ("cluster-value", ["--cluster", ""], ["c1"], NO_FILE, ("clusters", {})),
    ("user-value", ["--user", ""], ["admin"], NO_FILE, ("users", {})),
    ("template-value", ["create", "analysisrun", "--from", ""], ["error-rate"], NO_FILE,
     ("analysistemplates", {})),
    ("global-template-value", ["create", "analysisrun", "--global", "--from", ""], ["global-rate"], NO_FILE,
     ("clusteranalysistemplates", {})),
    ("template-inline-value", ["create", "analysisrun", "--from=e"], ["--from=error-rate"], NO_FILE,
     ("analysistemplates", {})),
    ("choices", ["list", "rollouts", "-o", ""], ["json", "yaml"], NO_FILE, None),
    ("file-flag-lets-shell-complete", ["lint", "-f", ""], [], 0, None),
    ("kubeconfig-is-a-file", ["--kubeconfig", ""], [], 0, None),
    ("flag-names", ["status", "x", "--wa"], ["--watch\tWatch the status of the rollout until it's done (default true)"],
     NO_FILE, None),
    ("shells", ["completion", ""], ["bash", "zsh", "fish"], NO_FILE, None),
    ("shell-prefix", ["completion", "b"], ["bash"], NO_FILE, None),
    ("lint-takes-files", ["lint", ""], [], 0, None),
    ("create-lists-subcommands", ["create", ""],
     ["analysisrun\tCreate an AnalysisRun from an AnalysisTemplate or a ClusterAnalysisTemplate"], NO_FILE, None),
    ("no-names-for-version", ["version", ""], [], NO_FILE, None),
    ("command-prefix", ["pro"], ["promote\tPromote a rollout", "proj\tManage AppProjects (Argo CD's projects)"],
     NO_FILE, None),
    ("subcommands", ["get", ""], ["rollout\tGet details about a rollout",
                                  "experiment\tGet details about an Experiment"], NO_FILE, None),
    ("after-double-dash-nothing", ["--", "get"], ["get\tGet details about rollouts"], NO_FILE, None),
    ("double-dash-positionals", ["get", "--", "x", ""], [], NO_FILE, None),
    ("lone-dash-is-a-word", ["-", ""], [], NO_FILE, None),
]


@pytest.mark.parametrize(("words", "candidates", "directive", "asked"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_complete(parser: argparse.ArgumentParser, words: list[str], candidates: list[str], directive: int,
                  asked: tuple[str, dict[str, str]] | None) -> None:
    seen: list[tuple[str, dict[str, str]]] = []

    def names(resource: str, connection: dict[str, str]) -> list[str]:
        seen.append((resource, dict(connection)))
        return CLUSTER[resource]

    assert complete(words, parser, names) == (candidates, directive)
    assert seen == ([asked] if asked else [])


def test_top_level_commands_without_hidden_ones(parser: argparse.ArgumentParser) -> None:
    found, directive = complete([], parser, None)
    commands = [line.split("\t")[0] for line in found]
    assert directive == NO_FILE
    assert {"get", "list", "promote", "status", "create", "completion", "app"} <= set(commands)
    assert not [c for c in commands if c.startswith("__")]
    assert complete([""], parser, None) == (found, directive)


@pytest.mark.parametrize("words", [["get", "rollout", ""], ["-n", ""]], ids=["names", "flag-value"])
def test_cluster_unreachable_is_an_error_directive(parser: argparse.ArgumentParser, words: list[str]) -> None:
    def down(resource: str, connection: dict[str, str]) -> list[str]:
        raise RuntimeError("connection refused")

    assert complete(words, parser, down) == ([], ERROR)


def test_without_a_cluster_reader_nothing_is_named(parser: argparse.ArgumentParser) -> None:
    assert complete(["get", "rollout", ""], parser, None) == ([], NO_FILE)
    assert complete(["-n", ""], parser, None) == ([], NO_FILE)
