"""`get experiment`, `list experiments`: Argo's Experiment views.

`get experiment NAME` prints the header and tree Argo's plugin prints (rendered by cli.render, the same tree
`get rollout` shows under Σ), from the Experiment and the ReplicaSets, Pods and AnalysisRuns of its namespace
(ownership picks its own). `list experiments` prints Argo's NAME STATUS DURATION REMAINING AGE table
(list_experiments.go), durations in Kubernetes' HumanDuration.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from rollouts.cli.fetch import list_kind
from rollouts.cli.invocation import Invocation
from rollouts.cli.objects import human_duration
from rollouts.cli.tabwriter import align

Obj = dict[str, Any]


async def get_experiment(inv: Invocation) -> int:
    from rollouts.cli.children import experiment_info
    from rollouts.cli.errors import Target, explain
    from rollouts.cli.render import Style, experiment_text
    from rollouts.kube.resources import EXPERIMENT

    name, namespace = inv.args.name, inv.namespace
    async with inv.client() as client:
        try:
            exp = await client.get(EXPERIMENT, name, namespace)
        except Exception as exc:
            raise explain(exc, Target("get", "experiment", name, namespace)) from exc
        replicasets, pods, runs = await asyncio.gather(
            list_kind(client, "replicasets", namespace), list_kind(client, "pods", namespace),
            list_kind(client, "analysisruns", namespace, optional=True))
    inv.out.write(experiment_text(experiment_info(exp, replicasets, runs, pods), datetime.now(UTC),
                                  Style(inv.color)))
    inv.out.flush()
    return 0


def _remaining(exp: Obj, seconds: float, now: datetime) -> str:
    from rollouts.planning.observed import parse_timestamp

    status = exp.get("status") or {}
    phase, available = status.get("phase"), status.get("availableAt")
    if phase in ("Successful", "Failed", "Error", "Inconclusive") or not available:
        return "-"
    left = (parse_timestamp(available) - now).total_seconds() + seconds
    return human_duration(left) if left > 0 else "-"


def experiment_row(exp: Obj, now: datetime, *, all_namespaces: bool) -> list[str]:
    """One row of Argo's table: NAME STATUS DURATION REMAINING AGE (NAMESPACE first with -A)."""
    from rollouts.api.common import parse_duration
    from rollouts.planning.observed import parse_timestamp

    meta, spec = exp.get("metadata") or {}, exp.get("spec") or {}
    duration = remaining = "-"
    if spec.get("duration"):
        try:
            seconds = parse_duration(spec["duration"])
        except ValueError:
            seconds = None
        if seconds is not None:
            duration, remaining = human_duration(seconds), _remaining(exp, seconds, now)
    age = human_duration((now - parse_timestamp(meta.get("creationTimestamp"))).total_seconds())
    row = [str(meta.get("name") or ""), str((exp.get("status") or {}).get("phase") or ""), duration, remaining, age]
    return [str(meta.get("namespace") or ""), *row] if all_namespaces else row


_HEADER = ("NAME", "STATUS", "DURATION", "REMAINING", "AGE")
_WIDTHS = (10, 6, 8, 9, 3)
"""Argo's column format "%-10s\t%-6s\t%-8s\t%-9s\t%-3s" (NAMESPACE "%-9s" first with -A); the header is
written unpadded, then tabwriter aligns with padding 2."""


def experiment_table(rows: list[list[str]], *, all_namespaces: bool) -> str:
    header = ("NAMESPACE", *_HEADER) if all_namespaces else _HEADER
    widths = (9, *_WIDTHS) if all_namespaces else _WIDTHS
    lines = ["\t".join(header)] + ["\t".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
                                    for row in rows]
    return align("\n".join(lines) + "\n")


async def list_experiments(inv: Invocation) -> int:
    all_namespaces = bool(inv.args.all_namespaces)
    async with inv.client() as client:
        experiments = await list_kind(client, "experiments", None if all_namespaces else inv.namespace)
    if not experiments:
        inv.warn("No resources found.")
        return 0
    now = datetime.now(UTC)
    inv.out.write(experiment_table([experiment_row(e, now, all_namespaces=all_namespaces) for e in experiments],
                                   all_namespaces=all_namespaces))
    inv.out.flush()
    return 0


