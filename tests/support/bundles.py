"""Compare rendered install objects (helm template, kustomize build) with the generated bundles, object by object.

Helm adds its own labels and the CRDs' keep annotation, and installs into a namespace it is given rather than
creating one; those are the only differences allowed, and `normalised` removes exactly them.
"""

from __future__ import annotations

import copy
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
HELM_LABELS = ("helm.sh/chart", "app.kubernetes.io/instance", "app.kubernetes.io/managed-by", "app.kubernetes.io/version")
Doc = dict[str, Any]
Key = tuple[str, str, str]


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("manifests_generate", REPO / "manifests" / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


generate = _generator()
"""manifests/generate.py: VARIANTS (bundle, kustomize overlay, chart values) and image() are read from it."""


def tool(name: str) -> str:
    """The testbed's helm or kustomize (tests/conftest.py puts them in ROLLOUTS_<NAME>_PATH)."""
    path = os.environ.get(f"ROLLOUTS_{name.upper()}_PATH") or shutil.which(name)
    assert path, f"{name} is not available: testbed/build-tools.sh builds it (ROLLOUTS_{name.upper()}_PATH)"
    return path


def docs_of(text: str) -> list[Doc]:
    return [d for d in yaml.safe_load_all(text) if d]


def bundle(name: str) -> list[Doc]:
    return docs_of((REPO / "manifests" / name).read_text())


def helm_template(*values: str, namespace: str = "rollouts", release: str = "rollouts",
                  extra: tuple[str, ...] = ()) -> list[Doc]:
    args = [tool("helm"), "template", release, str(REPO / "charts" / "rollouts"), "--namespace", namespace, *extra]
    for value in values:
        args += ["--set", value]
    res = subprocess.run(args, capture_output=True, text=True, check=False)
    assert res.returncode == 0, f"helm template {' '.join(values)} failed: {res.stderr}"
    return docs_of(res.stdout)


def kustomize_build(overlay: str) -> list[Doc]:
    path = REPO / "manifests" / "kustomize" / "overlays" / overlay
    res = subprocess.run([tool("kustomize"), "build", str(path)], capture_output=True, text=True, check=False)
    assert res.returncode == 0, f"kustomize build {overlay} failed: {res.stderr}"
    return docs_of(res.stdout)


def normalised(doc: Doc, *, namespaceless: bool = False) -> Doc:
    doc = copy.deepcopy(doc)
    meta = doc["metadata"]
    for label in HELM_LABELS:
        (meta.get("labels") or {}).pop(label, None)
    annotations = meta.get("annotations") or {}
    annotations.pop("helm.sh/resource-policy", None)
    if not annotations:
        meta.pop("annotations", None)
    if namespaceless:
        meta.pop("namespace", None)
        for subject in doc.get("subjects") or []:
            subject.pop("namespace", None)
    return doc


def by_key(docs: list[Doc], *, namespaceless: bool = False, namespaces: bool = True) -> dict[Key, Doc]:
    out: dict[Key, Doc] = {}
    for doc in docs:
        if doc["kind"] == "Namespace" and not namespaces:
            continue
        doc = normalised(doc, namespaceless=namespaceless)
        key = (doc["kind"], doc["metadata"].get("namespace", ""), doc["metadata"]["name"])
        assert key not in out, f"{key} rendered twice"
        out[key] = doc
    return out


def differences(rendered: list[Doc], expected: list[Doc], *, namespaceless: bool = False,
                namespaces: bool = True) -> list[str]:
    """What differs, object by object, as readable lines (empty when the two are the same objects).

    namespaceless: compare without namespaces (a namespace install has none; helm gives its --namespace);
    namespaces=False: leave Namespace objects out (helm installs into --namespace, the bundles create it)."""
    got = by_key(rendered, namespaceless=namespaceless, namespaces=namespaces)
    want = by_key(expected, namespaceless=namespaceless, namespaces=namespaces)
    lines = [f"missing {k}" for k in sorted(want.keys() - got.keys())]
    lines += [f"unexpected {k}" for k in sorted(got.keys() - want.keys())]
    for key in sorted(want.keys() & got.keys()):
        if got[key] != want[key]:
            lines.append(f"{key} differs:\n--- rendered\n{yaml.safe_dump(got[key], sort_keys=True)}"
                         f"--- bundle\n{yaml.safe_dump(want[key], sort_keys=True)}")
    return lines
