"""Source types and renderers are chosen from registries; a shape no entry reads is refused by name.

Before, ``spec.source.chart`` (a Helm chart repository) was handed to ``git`` as if its URL were a Git
remote, and a ``plugin:`` block was rendered as a plain directory. Charts from HTTP(S) repositories are read
by the Helm source type now; OCI registries are refused by name.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rollouts.api.application import ApplicationSource
from rollouts.gitops.comparison import ComparisonError
from rollouts.gitops.render import RenderError
from rollouts.gitops.renderers import RENDERERS, choose_renderer, with_ref_value_files
from rollouts.gitops.sources import SOURCE_TYPES, Sources


def source(**fields: object) -> ApplicationSource:
    return ApplicationSource.model_validate({"repoURL": "https://git.example.com/org/app.git", **fields})


SUPPORTED = ("(supported: Git repositories (spec.source.path) and HTTP(S) Helm chart repositories "
             "(spec.source.chart with an http:// or https:// repoURL))")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param({"repoURL": "oci://registry.example.com/charts/nginx"},
                     "spec.source.repoURL 'oci://registry.example.com/charts/nginx': an OCI registry is not a "
                     "supported source type", id="oci-registry"),
        pytest.param({"repoURL": "oci://registry.example.com/charts", "chart": "nginx"},
                     "spec.source.repoURL 'oci://registry.example.com/charts': an OCI registry is not a "
                     "supported source type", id="oci-chart"),
        pytest.param({"repoURL": "registry.example.com:5000/charts", "chart": "nginx"},
                     "spec.source.chart 'nginx' with spec.source.repoURL 'registry.example.com:5000/charts': a Helm "
                     "OCI registry is not a supported source type", id="helm-oci-without-scheme"),
        pytest.param({"repoURL": "file:///srv/charts", "chart": "nginx"},
                     "spec.source.chart 'nginx' with spec.source.repoURL 'file:///srv/charts': a chart repository "
                     "that is not HTTP(S) is not a supported source type", id="chart-from-file-url"),
    ],
)
def test_unsupported_source_shapes_are_refused_by_name(tmp_path: Path, fields: dict[str, object],
                                                        message: str) -> None:
    with pytest.raises(ComparisonError) as raised:
        Sources(tmp_path).for_source(source(**fields))
    assert str(raised.value) == f"{message} {SUPPORTED}"
    assert raised.value.condition.value == "ComparisonError"


def test_a_chart_is_read_by_the_helm_source_type_never_by_git(tmp_path: Path) -> None:
    chart = source(repoURL="https://charts.example.com/stable", chart="nginx", targetRevision="^15")
    assert Sources(tmp_path).for_source(chart).name == "Helm"
    assert not Sources(tmp_path)["Git"].claims(chart)


def test_a_git_path_is_read_by_the_git_source_type(tmp_path: Path) -> None:
    assert Sources(tmp_path).for_source(source(path="apps/web")).name == "Git"
    assert list(Sources(tmp_path)) == list(SOURCE_TYPES) == ["Helm", "Git"]


@pytest.mark.parametrize(
    ("files", "fields", "tool"),
    [
        pytest.param({}, {}, "Directory", id="plain-files"),
        pytest.param({"kustomization.yaml": ""}, {}, "Kustomize", id="kustomization-file"),
        pytest.param({"Chart.yaml": "", "kustomization.yaml": ""}, {}, "Helm", id="chart-before-kustomization"),
        pytest.param({"Chart.yaml": ""}, {"directory": {"recurse": True}}, "Directory", id="explicit-block-wins"),
        pytest.param({}, {"kustomize": {"namePrefix": "p-"}}, "Kustomize", id="explicit-kustomize"),
    ],
)
def test_renderer_precedence_as_argo_cd(tmp_path: Path, files: dict[str, str], fields: dict[str, object],
                                        tool: str) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert choose_renderer(tmp_path, source(**fields)).name == tool


def test_a_plugin_block_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match=r"spec.source.plugin: config management plugins are not supported"):
        choose_renderer(tmp_path, source(plugin={"name": "cdk8s"}))
    assert list(RENDERERS) == ["Helm", "Kustomize", "Directory"]


def test_ref_value_files_resolve_inside_the_referenced_checkout(tmp_path: Path) -> None:
    checkout = tmp_path / "values-abc"
    (checkout / "envs").mkdir(parents=True)
    chart = source(chart="web", repoURL="https://charts.example.com",
                   helm={"valueFiles": ["values.yaml", "$values/envs/prod.yaml"], "releaseName": "r"})
    resolved = with_ref_value_files(chart, {"$values": checkout})
    assert resolved.helm is not None and resolved.helm.value_files == [
        "values.yaml", str(checkout.resolve() / "envs" / "prod.yaml")]
    assert resolved.helm.release_name == "r" and chart.helm is not None and chart.helm.value_files[1].startswith("$")


@pytest.mark.parametrize(("value_file", "refs", "message"), [
    ("$values/../../etc/passwd", {"$values": "v"}, "resolved to outside the referenced repository root"),
    ("$nope/a.yaml", {"$values": "v", "$base": "b"},
     'source referenced "$nope", which is not one of the available sources ($base, $values)'),
    ("$nope/a.yaml", {}, "source referenced \"$nope\", but no source has a 'ref' field defined"),
], ids=["traversal", "unknown-ref", "no-refs"])
def test_ref_value_file_errors_are_argo_cd_s(tmp_path: Path, value_file: str, refs: dict[str, str],
                                             message: str) -> None:
    chart = source(path="chart", helm={"valueFiles": [value_file]})
    with pytest.raises(RenderError, match=re.escape(message)):
        with_ref_value_files(chart, {k: tmp_path / v for k, v in refs.items()})


def test_a_repeated_resource_is_kept_once_the_last_one_and_counted() -> None:
    from rollouts.gitops.compare import last_of_each

    def cm(name: str, value: str) -> dict[str, object]:
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "ns"},
                "data": {"v": value}}

    hook = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"generateName": "migrate-", "namespace": "ns"}}
    kept, repeated = last_of_each([(None, cm("a", "1")), (None, hook), (None, cm("b", "1")), (None, cm("a", "2")),
                                   (None, hook), (None, cm("a", "3"))])
    assert [obj for _, obj in kept] == [hook, cm("b", "1"), hook, cm("a", "3")]
    assert {str(k): n for k, n in repeated.items()} == {"ConfigMap/ns/a": 3}
