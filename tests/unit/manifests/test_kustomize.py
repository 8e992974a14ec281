"""The kustomize bases and overlays (manifests/kustomize, generated) build exactly the bundles, and a platform
team's own overlay on top of them re-namespaces and re-tags everything consistently.

The server-side dry run of the built objects is tests/integration/manifests/test_install.py.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.bundles import REPO, Doc, bundle, differences, docs_of, generate, kustomize_build, tool

VARIANTS = {v.overlay: v for v in generate.VARIANTS}


@pytest.mark.parametrize("overlay", list(VARIANTS))
def test_each_overlay_builds_exactly_its_bundle(overlay: str) -> None:
    variant = VARIANTS[overlay]
    lines = differences(kustomize_build(overlay), bundle(variant.bundle))
    assert not lines, f"kustomize build overlays/{overlay} is not manifests/{variant.bundle}:\n" + "\n".join(lines)


def _build_own_overlay(own: Path, base: str, body: str) -> list[Doc]:
    # kustomize wants a relative path to a base (tests' tmp_path is inside the checkout: tests/conftest.py)
    relative = os.path.relpath(REPO / "manifests" / "kustomize" / "overlays" / base, own)
    (own / "kustomization.yaml").write_text(f"resources: [{relative}]\n{body}")
    res = subprocess.run([tool("kustomize"), "build", str(own)], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    return docs_of(res.stdout)


def test_a_cluster_wide_overlay_moves_to_another_namespace_with_another_tag(tmp_path: Path) -> None:
    repository = generate.image().rsplit(":", 1)[0]
    docs = _build_own_overlay(tmp_path, "cluster-wide", f"namespace: platform\nimages:\n- name: {repository}\n"
                                                        "  newTag: v9.9.9\n")
    assert [d["metadata"]["name"] for d in docs if d["kind"] == "Namespace"] == ["platform"]
    namespaced = [d for d in docs if d["kind"] not in generate.CLUSTER_KINDS]
    assert namespaced and all(d["metadata"]["namespace"] == "platform" for d in namespaced)
    subjects = [s for d in docs for s in d.get("subjects") or []]
    assert subjects and all(s["namespace"] == "platform" for s in subjects)
    images = {c["image"] for d in docs if d["kind"] == "Deployment" for c in d["spec"]["template"]["spec"]["containers"]}
    assert images == {f"{repository}:v9.9.9"}


def test_a_namespace_scoped_overlay_lands_in_the_teams_namespace(tmp_path: Path) -> None:
    docs = _build_own_overlay(tmp_path, "namespace-scoped", "namespace: team-a\n")
    assert not [d for d in docs if d["kind"] in generate.CLUSTER_KINDS]
    assert all(d["metadata"]["namespace"] == "team-a" for d in docs)
    bindings = [d for d in docs if d["kind"] == "RoleBinding"]
    assert {b["roleRef"]["kind"] for b in bindings} == {"Role"}
    assert all(s == {"kind": "ServiceAccount", "name": "rollouts-controller", "namespace": "team-a"}
               for b in bindings for s in b["subjects"])
    role = next(d for d in docs if d["kind"] == "Role" and d["metadata"]["name"] == "rollouts-controller")
    assert not [r for rule in role["rules"] for r in rule["resources"] if r in generate.CLUSTER_SCOPED_RESOURCES]
    env = {e["name"]: e for d in docs if d["kind"] == "Deployment" for e in d["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["ROLLOUTS_NAMESPACE"] == generate.WATCH_OWN_NAMESPACE
