"""Reads what the plugin shows: a Rollout and the ReplicaSets, Pods and AnalysisRuns around it.

A Rollout that is not in the asked namespace is the most common operator mistake, so a miss is
followed by one cluster-wide lookup by name (`fieldSelector=metadata.name=`) and the error says
where the rollout does live ("found in namespace(s): shop; use -n").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rollouts.cli.errors import CliError, Target, explain

if TYPE_CHECKING:
    from rollouts.kube.client import KubeClient

Obj = dict[str, Any]


@dataclass(frozen=True)
class RolloutState:
    rollout: Obj
    replicasets: list[Obj]
    pods: list[Obj]
    analysisruns: list[Obj]
    experiments: list[Obj]


def selector_of(rollout: Mapping[str, Any]) -> str | None:
    """spec.selector.matchLabels as a label selector string ("app=web"), None when absent."""
    labels = ((rollout.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or None


async def _namespaces_with(client: KubeClient, name: str) -> list[str]:
    from rollouts.kube.errors import ApiError
    from rollouts.kube.resources import ROLLOUT

    try:
        items, _ = await client.list(ROLLOUT, None, field_selector=f"metadata.name={name}")
    except ApiError:
        return []  # no cluster-wide read permission: the plain "not found" will do
    return sorted(str((o.get("metadata") or {}).get("namespace")) for o in items)


async def get_rollout(client: KubeClient, name: str, namespace: str, *, verb: str = "get") -> Obj:
    from rollouts.kube.errors import NotFound
    from rollouts.kube.resources import ROLLOUT

    try:
        return await client.get(ROLLOUT, name, namespace)
    except NotFound as exc:
        error = explain(exc, Target(verb, "rollout", name, namespace))
        if error.args[0] == Target(verb, "rollout", name, namespace).not_found():
            elsewhere = [ns for ns in await _namespaces_with(client, name) if ns != namespace]
            if elsewhere:
                raise CliError(f"{error.args[0]} (found in namespace(s): {', '.join(elsewhere)}; use -n)") from exc
        raise error from exc
    except Exception as exc:
        raise explain(exc, Target(verb, "rollout", name, namespace)) from exc


def kinds() -> dict[str, Any]:
    """The kinds the plugin reads, by plural (built on first use: the client library loads lazily)."""
    from rollouts.kube import resources

    return {"replicasets": resources.REPLICASET, "pods": resources.POD, "analysisruns": resources.ANALYSISRUN,
            "rollouts": resources.ROLLOUT, "experiments": resources.EXPERIMENT,
            "analysistemplates": resources.ANALYSISTEMPLATE,
            "clusteranalysistemplates": resources.CLUSTERANALYSISTEMPLATE}


async def list_kind(client: KubeClient, kind_name: str, namespace: str | None,
                    label_selector: str | None = None, *, optional: bool = False,
                    field_selector: str | None = None) -> list[Obj]:
    """All objects of a kind; with `optional`, a kind the server does not serve (its CRD is not
    installed) reads as none instead of failing the whole view."""
    from rollouts.kube.errors import NotFound

    kind = kinds()[kind_name]
    try:
        items, _ = await client.list(kind, namespace, label_selector=label_selector, field_selector=field_selector)
    except NotFound as exc:
        if optional:
            return []
        raise explain(exc, Target("list", kind_name, None, namespace)) from exc
    except Exception as exc:
        raise explain(exc, Target("list", kind_name, None, namespace)) from exc
    return items


async def is_served(client: KubeClient, kind_name: str, namespace: str) -> bool:
    """Does the API server serve this kind (is its CRD installed)?"""
    from rollouts.kube.errors import NotFound

    kind = kinds()[kind_name]
    try:
        await client.list(kind, namespace, limit=1)
    except NotFound:
        return False
    return True


async def rollout_state(client: KubeClient, name: str, namespace: str) -> RolloutState:
    """The Rollout and every ReplicaSet, Pod, AnalysisRun and Experiment of its namespace (ownership picks
    its own, as in Argo's plugin: an Experiment's pods need not match the Rollout's selector)."""
    import asyncio

    rollout = await get_rollout(client, name, namespace)
    replicasets, pods, analysisruns, experiments = await asyncio.gather(
        list_kind(client, "replicasets", namespace), list_kind(client, "pods", namespace),
        list_kind(client, "analysisruns", namespace, optional=True),
        list_kind(client, "experiments", namespace, optional=True))
    return RolloutState(rollout, replicasets, pods, analysisruns, experiments)
