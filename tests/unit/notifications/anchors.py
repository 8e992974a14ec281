"""The anchors' notification catalogs and docs, read from their modules (not copied into the project).

* Argo Rollouts v1.10.2: ``manifests/notifications-install.yaml`` (the built-in triggers and templates),
  ``docs/features/notifications.md`` and ``docs/generated/notification-services/*.md``;
* the notifications engine at the version Argo Rollouts pins: ``docs/**/*.md``;
* Argo CD v3.4.0: ``notifications_catalog/install.yaml`` and ``docs/operator-manual/notifications/**/*.md``.

``catalog_templates`` yields every template string found (``template.<name>`` entries of ConfigMaps in those
files, walked down to each string field that contains an action), with the file it came from.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.support.oracles import module_dir

ROLLOUTS = ("github.com/argoproj/argo-rollouts", "v1.10.2")
ENGINE = ("github.com/argoproj/notifications-engine", "v0.5.1-0.20260503100631-0cff13b8a717")
ARGOCD = ("github.com/argoproj/argo-cd/v3", "v3.4.0")


@dataclass(frozen=True)
class CatalogTemplate:
    source: str
    name: str
    field: str
    text: str
    kind: str  # "rollout" or "app": which object the template expects


def _yaml_docs(path: Path) -> Iterator[Any]:
    text = path.read_text(errors="replace")
    chunks = re.findall(r"```ya?ml\n(.*?)```", text, re.S) if path.suffix == ".md" else [text]
    for chunk in chunks:
        try:
            yield from yaml.safe_load_all(chunk)
        except yaml.YAMLError:
            continue


def _strings(value: Any, prefix: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        if "{{" in value:
            yield prefix, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{prefix}[{i}]")


def _templates_in(path: Path, root: Path, kind: str) -> Iterator[CatalogTemplate]:
    for doc in _yaml_docs(path):
        data = doc.get("data") if isinstance(doc, dict) and isinstance(doc.get("data"), dict) else doc
        if not isinstance(data, dict):
            continue
        for key, raw in data.items():
            if not (isinstance(key, str) and key.startswith("template.") and isinstance(raw, str)):
                continue
            try:
                body = yaml.safe_load(raw)
            except yaml.YAMLError:
                continue
            for field, text in _strings(body, ""):
                expects = "rollout" if ".rollout" in text else "app" if ".app" in text else kind
                yield CatalogTemplate(str(path.relative_to(root)), key[len("template."):], field, text, expects)


def catalog_templates() -> list[CatalogTemplate]:
    found: list[CatalogTemplate] = []
    ro = module_dir(*ROLLOUTS)
    for path in [ro / "manifests" / "notifications-install.yaml", ro / "docs" / "features" / "notifications.md",
                 *sorted((ro / "docs" / "generated" / "notification-services").glob("*.md"))]:
        found += _templates_in(path, ro, "rollout")
    engine = module_dir(*ENGINE)
    for path in sorted((engine / "docs").rglob("*.md")):
        found += _templates_in(path, engine, "app")
    cd = module_dir(*ARGOCD)
    for path in [cd / "notifications_catalog" / "install.yaml",
                 *sorted((cd / "docs" / "operator-manual" / "notifications").rglob("*.md"))]:
        found += _templates_in(path, cd, "app")
    unique: dict[str, CatalogTemplate] = {}
    for t in found:
        unique.setdefault(t.text, t)
    return list(unique.values())
