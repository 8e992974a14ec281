"""Multi-source Applications as Argo CD 2.6+ runs them: a chart from a Helm chart repository whose value file
comes from a Git repository (``ref: values`` + ``$values/...``), and plain manifests from a path of that same
repository; status ``sync.revisions``, ``comparedTo.sources``, ``sourceTypes``, history and syncResult with
``revisions``/``sources``; the plugin shows them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from rollouts.cli import app as app_cli
from rollouts.gitops.reconciler import ApplicationReconciler
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import NotFound
from rollouts.kube.resources import APPLICATION, CONFIGMAP
from tests.integration.gitops.chart_server import ChartRepository, serve_charts
from tests.integration.gitops.conftest import app_probe, cm, status_of
from tests.support.wait import eventually
from tests.unit.gitops.gitrepo import GitRepo

pytestmark = pytest.mark.integration


@pytest.fixture
async def charts(tmp_path: Path) -> AsyncIterator[ChartRepository]:
    async with serve_charts(ChartRepository(tmp_path / "charts")) as repository:
        yield repository


def synced_to(revisions: list[str]) -> Any:
    def check(app: dict[str, Any]) -> bool:
        st = status_of(app)
        return ((st.get("sync") or {}).get("status") == "Synced" and st["sync"].get("revisions") == revisions
                and (st.get("operationState") or {}).get("phase") in (None, "Succeeded")
                and app.get("operation") is None)
    return check


async def get_or_none(kube: KubeClient, name: str, namespace: str) -> dict[str, Any] | None:
    try:
        return await kube.get(CONFIGMAP, name, namespace)
    except NotFound:
        return None


async def test_chart_with_values_from_git_and_a_git_path(
        kube: KubeClient, namespace: str, gitops: ApplicationReconciler, charts: ChartRepository, repo: GitRepo,
        capsys: pytest.CaptureFixture[str]) -> None:
    charts.publish("1.1.0", color="blue", extra=True)
    repo.write("envs/prod.yaml", {"color": "green"})
    repo.write("manifests/side.yaml", cm("side"))
    first = repo.commit()
    sources = [
        {"repoURL": charts.url, "chart": "web", "targetRevision": "^1.0",
         "helm": {"valueFiles": ["$values/envs/prod.yaml"]}},
        {"repoURL": repo.url, "targetRevision": "HEAD", "ref": "values"},
        {"repoURL": repo.url, "targetRevision": "HEAD", "path": "manifests"},
    ]
    await kube.create(APPLICATION, {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "multi"},
        "spec": {"project": "default", "sources": sources,
                 "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
                 "syncPolicy": {"automated": {"prune": True}}}}, namespace)
    probe = app_probe(kube, "multi", namespace)
    app = await eventually(probe, synced_to(["1.1.0", first, first]), timeout=90,
                           expected="Synced at chart 1.1.0 and the Git commit, per source")
    st = status_of(app)
    # As Argo CD writes a multi-source status: no sync.revision, comparedTo.sources, sourceTypes per source
    # ("" for the ref-only source).
    assert "revision" not in st["sync"] and st["sync"]["comparedTo"]["sources"] == sources
    assert st["sourceTypes"] == ["Helm", "", "Directory"] and "sourceType" not in st
    result = st["operationState"]["syncResult"]
    assert (result["revision"], result["revisions"], result["sources"]) == ("", ["1.1.0", first, first], sources)
    (entry,) = st["history"]
    assert (entry["revisions"], entry["sources"]) == (["1.1.0", first, first], sources) and "revision" not in entry
    # The value file came from the other repository; the path's manifests are there too.
    assert (await kube.get(CONFIGMAP, "multi-config", namespace))["data"] == {"color": "green", "chart": "1.1.0"}
    assert await get_or_none(kube, "side", namespace) is not None

    # A commit to the values repository re-renders the chart; what left the path is pruned.
    repo.write("envs/prod.yaml", {"color": "purple"})
    repo.remove("manifests/side.yaml")
    repo.write("manifests/other.yaml", cm("other"))
    second = repo.commit()
    await eventually(probe, synced_to(["1.1.0", second, second]), timeout=90, expected="Synced at the new commit")
    assert (await kube.get(CONFIGMAP, "multi-config", namespace))["data"]["color"] == "purple"
    await eventually(lambda: get_or_none(kube, "side", namespace), lambda o: o is None, timeout=60,
                     expected="side pruned once it left the path")

    # The plugin shows every source (Argo CD's "Sources:" block) and the history per source.
    assert await app_cli.main(["get", "multi", "-n", namespace], client=kube) == 0
    lines = [" ".join(line.split()) for line in capsys.readouterr().out.splitlines()]
    assert "Sources:" in lines and sum(line.startswith("- Repo:") for line in lines) == 3, lines
    assert {"Ref: values", "Helm Values: $values/envs/prod.yaml", f"Revision: {second}", "Chart: web",
            "Revision: 1.1.0", "Sync Status: Synced to ^1.0", f"Sync Revision: 1.1.0, {second}, {second}"} <= set(lines)
    assert await app_cli.main(["history", "multi", "-n", namespace], client=kube) == 0
    out = capsys.readouterr().out
    assert f"SOURCE  {charts.url}" in out and f"SOURCE  {repo.url}" in out and f"HEAD ({second[:7]})" in out, out

    # A value file naming a ref no source has: Argo CD's message, nothing pruned.
    broken = [{**sources[0], "helm": {"valueFiles": ["$nope/envs/prod.yaml"]}}, *sources[1:]]
    await kube.patch(APPLICATION, "multi", {"spec": {"sources": broken}}, namespace)

    def refused(obj: dict[str, Any]) -> bool:
        return any('source referenced "$nope", which is not one of the available sources ($values)'
                   in c.get("message", "") for c in status_of(obj).get("conditions") or [])
    await eventually(probe, refused, timeout=60, expected="a ComparisonError naming $nope")
    assert await get_or_none(kube, "other", namespace) is not None


async def test_a_resource_from_two_sources_is_applied_once_the_last_with_a_warning(
        kube: KubeClient, namespace: str, gitops: ApplicationReconciler, repo: GitRepo) -> None:
    # Argo CD (controller/state.go): duplicates among the target objects keep the last one and raise
    # RepeatedResourceWarning "Resource <group>/<kind>/<namespace>/<name> appeared N times among application resources."
    repo.write("base/shared.yaml", cm("shared", "from-base"))
    repo.write("overlay/shared.yaml", cm("shared", "from-overlay"))
    sha = repo.commit()
    await kube.create(APPLICATION, {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "twice"},
        "spec": {"project": "default", "sources": [{"repoURL": repo.url, "path": "base"},
                                                   {"repoURL": repo.url, "path": "overlay"}],
                 "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
                 "syncPolicy": {"automated": {}}}}, namespace)
    app = await eventually(app_probe(kube, "twice", namespace), synced_to([sha, sha]), timeout=90, expected="Synced")
    assert (await kube.get(CONFIGMAP, "shared", namespace))["data"] == {"key": "from-overlay"}
    assert {"type": "RepeatedResourceWarning",
            "message": f"Resource /ConfigMap/{namespace}/shared appeared 2 times among application resources."} in [
        {k: c[k] for k in ("type", "message")} for c in status_of(app).get("conditions") or []]
