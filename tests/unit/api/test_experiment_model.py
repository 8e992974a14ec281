"""The Experiment model against Argo's own manifests: lossless round trips, defaults and the generated CRD.

Argo's e2e suite (test/e2e/experiment*.yaml, test/e2e/functional) and examples/ are the manifests users have;
each Experiment in them must parse and dump back unchanged, and the CRD must name the fields Argo's does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from rollouts.api.analysis import AnalysisPhase
from rollouts.api.crdgen import crd_document
from rollouts.api.experiment import CRD, Experiment, TemplateStatusCode
from tests.support.argo_source import argo_rollouts_dir


def _argo_experiments() -> list[tuple[str, dict[str, Any]]]:
    root = argo_rollouts_dir()
    found = []
    for path in sorted([*root.glob("test/e2e/**/*.yaml"), *root.glob("examples/**/*.yaml")]):
        try:
            docs = list(yaml.safe_load_all(path.read_text()))
        except yaml.YAMLError:  # Argo keeps deliberately malformed files under test/e2e/expectedfailures
            continue
        found += [(f"{path.relative_to(root)}:{i}", d) for i, d in enumerate(docs)
                  if isinstance(d, dict) and d.get("kind") == "Experiment"]
    return found


def test_argo_experiments_round_trip() -> None:
    experiments = _argo_experiments()
    assert len(experiments) >= 10, f"expected Argo's Experiment manifests, found {[n for n, _ in experiments]}"
    for name, doc in experiments:
        assert Experiment.model_validate(doc).to_dict() == doc, name


def test_defaults_are_read_not_written() -> None:
    exp = Experiment.model_validate({"metadata": {"name": "e"}, "spec": {"templates": [
        {"name": "baseline", "selector": {"matchLabels": {"app": "a"}}, "template": {}}]}})
    assert exp.spec.templates[0].effective_replicas == 1
    assert exp.spec.effective_progress_deadline_seconds == 600
    assert exp.spec.effective_scale_down_delay_seconds == 30
    assert exp.to_dict()["spec"] == {"templates": [{"name": "baseline", "selector": {"matchLabels": {"app": "a"}},
                                                    "template": {}}]}


def test_status_vocabulary_is_argos() -> None:
    status = Experiment.model_validate({"status": {"phase": "Inconclusive", "templateStatuses": [
        {"name": "canary", "replicas": 1, "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1,
         "status": "Running", "podTemplateHash": "abc"}],
        "analysisRuns": [{"name": "a", "analysisRun": "e-a", "phase": "Successful"}]}}).status_or_empty
    assert status.phase is AnalysisPhase.INCONCLUSIVE
    assert status.template_statuses is not None and status.template_statuses[0].status is TemplateStatusCode.RUNNING
    assert status.analysis_runs is not None and status.analysis_runs[0].phase is AnalysisPhase.SUCCESSFUL


@pytest.mark.parametrize("field", ["templates", "duration", "progressDeadlineSeconds", "terminate", "analyses",
                                   "scaleDownDelaySeconds", "dryRun", "measurementRetention",
                                   "analysisRunMetadata"])
def test_crd_spec_has_argos_fields(field: str) -> None:
    schema = crd_document(CRD)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert field in schema["properties"]["spec"]["properties"]


def test_crd_names_and_columns_are_argos() -> None:
    argo = yaml.safe_load((argo_rollouts_dir() / "manifests" / "crds" / "experiment-crd.yaml").read_text())
    ours = crd_document(CRD)
    assert ours["spec"]["names"] == argo["spec"]["names"]
    assert ours["metadata"]["name"] == argo["metadata"]["name"] == "experiments.argoproj.io"
    columns = [(c["name"], c["jsonPath"]) for c in ours["spec"]["versions"][0]["additionalPrinterColumns"]]
    assert columns == [(c["name"], c["jsonPath"]) for c in argo["spec"]["versions"][0]["additionalPrinterColumns"]]
    assert Path(__file__).resolve().parents[3].joinpath("crds", "experiments.yaml").exists()


def test_no_status_subresource_as_argos() -> None:
    """Tools written for Argo (its plugin's `retry experiment`) write status on the object itself."""
    argo = yaml.safe_load((argo_rollouts_dir() / "manifests" / "crds" / "experiment-crd.yaml").read_text())
    assert not argo["spec"]["versions"][0].get("subresources")
    assert not crd_document(CRD)["spec"]["versions"][0].get("subresources")
