"""Every manifest of Argo Rollouts' own repository (``examples/`` and ``test/e2e/``), as test cases.

The YAML files and the YAML embedded in the e2e Go tests (Rollouts written inline between backquotes) are
read from the module source the Go oracle pins (``github.com/argoproj/argo-rollouts@v1.10.2``). Documents
that are not YAML (Helm templates) are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

_BACKQUOTED = re.compile(r"`([^`]*)`", re.S)


@dataclass(frozen=True)
class Manifest:
    where: str  # "examples/rollout-canary.yaml#0" or "test/e2e/canary_test.go:`3`#0"
    doc: Mapping[str, Any]


def _documents(text: str) -> Iterator[Mapping[str, Any]]:
    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError:
        return
    for doc in docs:
        if isinstance(doc, Mapping) and isinstance(doc.get("kind"), str):
            yield doc


def argo_manifests(source: Path) -> list[Manifest]:
    found: list[Manifest] = []
    for top in ("examples", "test/e2e"):
        for path in sorted((source / top).rglob("*")):
            rel = path.relative_to(source).as_posix()
            if path.suffix in (".yaml", ".yml"):
                for i, doc in enumerate(_documents(path.read_text(errors="replace"))):
                    found.append(Manifest(f"{rel}#{i}", doc))
            elif path.name.endswith("_test.go"):
                for j, match in enumerate(_BACKQUOTED.finditer(path.read_text(errors="replace"))):
                    if "kind:" not in match.group(1):
                        continue
                    for i, doc in enumerate(_documents(match.group(1))):
                        found.append(Manifest(f"{rel}:`{j}`#{i}", doc))
    return found


def pod_templates(manifest: Manifest) -> Iterator[tuple[str, Any]]:
    """(where, template) for every PodTemplateSpec in a manifest: Rollouts, Deployments, Jobs, Experiment
    templates, job metrics of AnalysisTemplates / ClusterAnalysisTemplates / AnalysisRuns."""
    doc = manifest.doc
    spec = doc.get("spec") if isinstance(doc.get("spec"), Mapping) else {}
    kind = doc.get("kind")
    if kind in ("Rollout", "Deployment", "ReplicaSet", "Job", "StatefulSet", "DaemonSet") and "template" in spec:
        yield f"{manifest.where} spec.template", spec["template"]
    if kind == "Experiment":
        for i, t in enumerate(spec.get("templates") or ()):
            if isinstance(t, Mapping) and "template" in t:
                yield f"{manifest.where} spec.templates[{i}].template", t["template"]
    if kind in ("AnalysisTemplate", "ClusterAnalysisTemplate", "AnalysisRun"):
        for i, metric in enumerate(spec.get("metrics") or ()):
            job = ((metric or {}).get("provider") or {}).get("job") if isinstance(metric, Mapping) else None
            if isinstance(job, Mapping) and isinstance(job.get("spec"), Mapping) and "template" in job["spec"]:
                yield f"{manifest.where} spec.metrics[{i}].provider.job.spec.template", job["spec"]["template"]


def canary_steps(manifest: Manifest) -> Any:
    """``spec.strategy.canary.steps`` of a Rollout manifest, or None."""
    if manifest.doc.get("kind") != "Rollout":
        return None
    spec = manifest.doc.get("spec") or {}
    canary = ((spec.get("strategy") or {}) if isinstance(spec, Mapping) else {}).get("canary")
    return canary.get("steps") if isinstance(canary, Mapping) else None
