from __future__ import annotations

import os
from pathlib import Path

import pytest

from rollouts.api.application import ApplicationSource, KustomizeSource
from rollouts.gitops.render import ClusterCapabilities, RenderError, expand_braces, kustomize_overlay
from rollouts.gitops.renderers import ManifestCache, render_source


def cm(name: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: v\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    app = tmp_path / "apps" / "web"
    (app / "sub").mkdir(parents=True)
    (app / "a.yaml").write_text(cm("a") + "---\n" + cm("a2"))
    (app / "b.json").write_text('{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}}')
    (app / "sub" / "c.yml").write_text(cm("c"))
    (app / "README.md").write_text("not yaml: [")
    (app / ".hidden.yaml").write_text(cm("hidden"))
    return tmp_path


def names(rendered: tuple[dict[str, object], ...]) -> list[str]:
    return [str(m["metadata"]["name"]) for m in rendered]  # type: ignore[index]


@pytest.mark.parametrize(
    ("directory", "expected"),
    [
        pytest.param(None, ["a", "a2", "b"], id="flat"),
        pytest.param({"recurse": True}, ["a", "a2", "b", "c"], id="recurse"),
        pytest.param({"recurse": True, "include": "*.yml"}, ["c"], id="include"),
        pytest.param({"recurse": True, "exclude": "{a.yaml,sub/*}"}, ["b"], id="exclude-braces"),
    ],
)
async def test_directory(tree: Path, directory: dict[str, object] | None, expected: list[str]) -> None:
    source = ApplicationSource.model_validate({"repoURL": "x", "path": "apps/web", "directory": directory})
    rendered = await render_source(tree, source, commit="c1", release="r", namespace="ns")
    assert rendered.source_type == "Directory"
    assert names(rendered.manifests) == expected


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("kind: [", "bad.yaml: invalid YAML", id="yaml-syntax"),
        pytest.param("- 1\n- 2\n", "bad.yaml (document 1): expected a Kubernetes object", id="not-a-mapping"),
        pytest.param("apiVersion: v1\nmetadata:\n  name: x\n", "bad.yaml (document 1): object is missing kind",
                     id="no-kind"),
        pytest.param(cm("ok") + "---\napiVersion: v1\nkind: ConfigMap\n",
                     "bad.yaml (document 2): object is missing metadata.name", id="no-name"),
    ],
)
async def test_invalid_manifest_names_the_file(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "bad.yaml").write_text(content)
    source = ApplicationSource(repo_url="x", path=".")
    with pytest.raises(RenderError, match=message.replace("(", r"\(").replace(")", r"\)")):
        await render_source(tmp_path, source, commit="c", release="r", namespace="ns")


async def test_missing_path_and_escaping_path(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="app path does not exist: 'nope'"):
        await render_source(tmp_path, ApplicationSource(repo_url="x", path="nope"), commit="c", release="r",
                            namespace="n")
    with pytest.raises(RenderError, match="outside the repository"):
        await render_source(tmp_path / "x", ApplicationSource(repo_url="x", path="../"), commit="c", release="r",
                            namespace="n")


async def test_cache_by_commit_and_settings(tree: Path) -> None:
    cache = ManifestCache()
    source = ApplicationSource(repo_url="x", path="apps/web")
    first = await render_source(tree, source, commit="c1", release="r", namespace="ns", cache=cache)
    (tree / "apps" / "web" / "a.yaml").write_text(cm("changed"))
    assert await render_source(tree, source, commit="c1", release="r", namespace="ns", cache=cache) is first
    other = await render_source(tree, source, commit="c2", release="r", namespace="ns", cache=cache)
    assert "changed" in names(other.manifests)


# The testbed's kustomize (tests/conftest.py puts it in ROLLOUTS_KUSTOMIZE_PATH): never skipped.


async def test_kustomize_detected_and_settings_applied(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    (base / "cm.yaml").write_text(cm("settings"))
    (base / "kustomization.yaml").write_text("resources:\n- cm.yaml\ncommonLabels:\n  team: a\n")
    plain = await render_source(tmp_path, ApplicationSource(repo_url="x", path="base"), commit="c", release="r",
                                namespace="n")
    assert plain.source_type == "Kustomize"
    assert plain.manifests[0]["metadata"]["labels"] == {"team": "a"}
    tuned = ApplicationSource.model_validate({"repoURL": "x", "path": "base",
                                              "kustomize": {"namePrefix": "dev-", "commonLabels": {"env": "dev"}}})
    rendered = await render_source(tmp_path, tuned, commit="c", release="r", namespace="n")
    assert rendered.manifests[0]["metadata"]["name"] == "dev-settings"
    assert rendered.manifests[0]["metadata"]["labels"] == {"team": "a", "env": "dev"}
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".rollouts-kustomize-")]


async def test_kustomize_error_carries_the_tool_message(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources:\n- missing.yaml\n")
    with pytest.raises(RenderError, match=r"kustomize build failed: .*missing\.yaml"):
        await render_source(tmp_path, ApplicationSource(repo_url="x", path="."), commit="c", release="r",
                            namespace="n")


async def test_helm_without_binary_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLLOUTS_HELM_PATH", str(tmp_path / "no-helm-here"))
    (tmp_path / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 0.1.0\n")
    with pytest.raises(RenderError, match="helm is not installed"):
        await render_source(tmp_path, ApplicationSource(repo_url="x", path="."), commit="c", release="r",
                            namespace="n")


def test_brace_expansion() -> None:
    assert expand_braces("{a,b}-{1,2}.yaml") == ["a-1.yaml", "a-2.yaml", "b-1.yaml", "b-2.yaml"]


@pytest.mark.parametrize(
    ("image", "entry"),
    [
        ("nginx:1.25", {"name": "nginx", "newTag": "1.25"}),
        ("nginx=ghcr.io/x/nginx:2", {"name": "nginx", "newName": "ghcr.io/x/nginx", "newTag": "2"}),
        ("app=registry:5000/app@sha256:ab", {"name": "app", "newName": "registry:5000/app", "digest": "sha256:ab"}),
    ],
)
def test_kustomize_image_syntax(image: str, entry: dict[str, str]) -> None:

    assert kustomize_overlay("../app", KustomizeSource(images=[image]))["images"] == [entry]


def test_kustomize_overlay_components_patches_and_replicas(tmp_path: Path) -> None:
    (tmp_path / "components" / "flag").mkdir(parents=True)
    (tmp_path / "patch.yaml").write_text("kind: Deployment\nmetadata:\n  name: web\n")
    settings = KustomizeSource.model_validate({
        "components": ["components/flag", "components/gone"], "ignoreMissingComponents": True,
        "patches": [{"path": "patch.yaml"}, {"patch": "[]", "target": {"kind": "ConfigMap", "labelSelector": "a=b"}}],
        "replicas": [{"name": "web", "count": "3"}]})
    overlay = kustomize_overlay("../app", settings, tmp_path)
    assert overlay["components"] == ["../app/components/flag"]
    assert overlay["patches"] == [{"patch": "kind: Deployment\nmetadata:\n  name: web\n"},
                                  {"patch": "[]", "target": {"kind": "ConfigMap", "labelSelector": "a=b"}}]
    assert overlay["replicas"] == [{"name": "web", "count": 3}]
    with pytest.raises(RenderError, match="component 'components/gone' does not exist"):
        kustomize_overlay("../app", KustomizeSource(components=["components/gone"]), tmp_path)
    with pytest.raises(RenderError, match=r"patch file 'nope\.yaml' does not exist"):
        kustomize_overlay("../app", KustomizeSource.model_validate({"patches": [{"path": "nope.yaml"}]}), tmp_path)


async def test_helm_is_told_the_cluster_and_the_source_overrides_it(tmp_path: Path) -> None:
    (tmp_path / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 0.1.0\n")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caps\ndata:\n"
        "  kube: {{ .Capabilities.KubeVersion.Version | quote }}\n"
        "  widget: {{ .Capabilities.APIVersions.Has \"example.com/v1/Widget\" | quote }}\n")
    cluster = ClusterCapabilities("v1.33.2", ("v1", "example.com/v1", "example.com/v1/Widget"))
    source = ApplicationSource(repo_url="x", path=".")
    told = await render_source(tmp_path, source, commit="c", release="r", namespace="n", cluster=cluster)
    assert told.manifests[0]["data"] == {"kube": "v1.33.2", "widget": "true"}
    pinned = ApplicationSource.model_validate({"repoURL": "x", "path": ".",
                                               "helm": {"kubeVersion": "1.30.0", "apiVersions": ["v1"]}})
    overridden = await render_source(tmp_path, pinned, commit="c", release="r", namespace="n", cluster=cluster)
    assert overridden.manifests[0]["data"] == {"kube": "v1.30.0", "widget": "false"}
