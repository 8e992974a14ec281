"""Source types and renderers are chosen from registries; a shape no entry reads is refused by name.

Before, ``spec.source.chart`` (a Helm chart repository) was handed to ``git`` as if its URL were a Git
remote, and a ``plugin:`` block was rendered as a plain directory.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rollouts.api.application import ApplicationSource
from rollouts.gitops.comparison import SpecError
from rollouts.gitops.render import RenderError
from rollouts.gitops.renderers import RENDERERS, choose_renderer
from rollouts.gitops.sources import SOURCE_TYPES, Sources


def source(**fields: object) -> ApplicationSource:
    return ApplicationSource.model_validate({"repoURL": "https://git.example.com/org/app.git", **fields})


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param({"chart": "nginx", "repoURL": "https://charts.example.com", "targetRevision": "15.0.0"},
                     "spec.source.chart 'nginx': a Helm chart repository is not a supported source type yet",
                     id="helm-chart-repository"),
        pytest.param({"repoURL": "oci://registry.example.com/charts/nginx"},
                     "spec.source.repoURL 'oci://registry.example.com/charts/nginx': an OCI registry is not a "
                     "supported source type yet", id="oci-registry"),
    ],
)
def test_unsupported_source_shapes_are_refused_by_name(tmp_path: Path, fields: dict[str, object],
                                                        message: str) -> None:
    with pytest.raises(SpecError) as raised:
        Sources(tmp_path).for_source(source(**fields))
    assert str(raised.value).startswith(message)
    assert raised.value.condition.value == "InvalidSpecError"


def test_a_git_path_is_read_by_the_git_source_type(tmp_path: Path) -> None:
    assert Sources(tmp_path).for_source(source(path="apps/web")).name == "Git"
    assert list(Sources(tmp_path)) == list(SOURCE_TYPES) == ["Git"]


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
