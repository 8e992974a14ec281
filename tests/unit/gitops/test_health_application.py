"""The application's health from its resources, as Argo CD v3.6 aggregates it (controller/health.go
setApplicationHealth and formatHealthCauses, and its tests in controller/health_test.go)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from rollouts.api.application import HealthStatusCode as H
from rollouts.gitops.health import Health
from rollouts.gitops.health.application import application_health
from rollouts.gitops.tracking import ResourceKey


@dataclass
class Res:
    key: ResourceKey
    desired: dict[str, Any] | None
    live: dict[str, Any] | None
    health: Health | None


def res(name: str, health: H | None, *, kind: str = "Deployment", group: str = "apps", live: bool = True,
        desired: bool = True, annotations: dict[str, str] | None = None) -> Res:
    obj: dict[str, Any] = {"apiVersion": f"{group}/v1" if group else "v1", "kind": kind,
                           "metadata": {"name": name, "namespace": "ns", "annotations": annotations or {}}}
    return Res(ResourceKey(group, kind, "ns", name), obj if desired else None, obj if live else None,
               Health(health) if health else None)


CASES = [
    pytest.param([], Health(H.HEALTHY), id="no-resources-healthy"),
    pytest.param([res("a", H.HEALTHY), res("b", H.DEGRADED), res("c", H.PROGRESSING)],
                 Health(H.DEGRADED, "Caused by apps/Deployment:ns/b"), id="worst-with-its-cause"),
    pytest.param([res("a", H.DEGRADED), res("b", H.DEGRADED)],
                 Health(H.DEGRADED, "Caused by apps/Deployment:ns/a, apps/Deployment:ns/b"), id="equal-causes"),
    pytest.param([res(n, H.PROGRESSING) for n in "abcde"],
                 Health(H.PROGRESSING, "Caused by apps/Deployment:ns/a, apps/Deployment:ns/b, apps/Deployment:ns/c "
                                       "and 2 more"), id="at-most-three-causes"),
    pytest.param([res("cm", None, kind="ConfigMap", group="")], Health(H.HEALTHY), id="no-health-check"),
    pytest.param([res("a", H.HEALTHY), res("b", None, live=False)], Health(H.HEALTHY),
                 id="missing-does-not-degrade"),
    pytest.param([res("a", None, live=False), res("b", None, live=False)], Health(H.MISSING),
                 id="nothing-exists-is-missing"),
    pytest.param([res("a", H.DEGRADED, annotations={"argocd.argoproj.io/ignore-healthcheck": "true"})],
                 Health(H.HEALTHY), id="ignore-healthcheck"),
    pytest.param([res("old", H.DEGRADED, desired=False)], Health(H.DEGRADED, "Caused by apps/Deployment:ns/old"),
                 id="awaiting-prune-still-counts"),
    pytest.param([res("h", H.DEGRADED, annotations={"argocd.argoproj.io/hook": "PostSync"})], Health(H.HEALTHY),
                 id="hooks-do-not-count"),
    pytest.param([res("child", H.UNKNOWN, kind="Application", group="argoproj.io"), res("a", H.HEALTHY)],
                 Health(H.HEALTHY), id="unknown-child-application-ignored"),
    pytest.param([res("svc", H.PROGRESSING, kind="Service", group="")],
                 Health(H.PROGRESSING, "Caused by Service:ns/svc"), id="core-kind-cause"),
]


@pytest.mark.parametrize(("resources", "expected"), CASES)
def test_application_health(resources: list[Res], expected: Health) -> None:
    assert application_health(resources) == expected
