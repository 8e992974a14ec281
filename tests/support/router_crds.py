"""The routing CRDs of Traefik, APISIX and Ambassador (Emissary) for the router integration tests.

Each router writes objects of a kind the testbed does not have; the API server stores and validates them without
any data plane once the genuine CRD is installed, so the routers are tested against the real schema:

* ``TraefikService`` (traefik.io/v1alpha1) from the ``github.com/traefik/traefik/v3`` module at TRAEFIK_VERSION;
* ``ApisixRoute`` (apisix.apache.org/v2) from Argo Rollouts' own ``test/e2e/crds/apisix.yaml``;
* ``VirtualService`` and ``DestinationRule`` (networking.istio.io) from Argo's ``test/e2e/crds/istio.yaml`` (only
  these two of its dozen Istio CRDs, so the fixture stays lean);
* ``TrafficSplit`` (split.smi-spec.io) from Argo's ``test/e2e/crds/split.yaml``;
* ``Mapping`` (getambassador.io, storage version v2) from the ``github.com/emissary-ingress/emissary/v3`` module
  (manifests/emissary/emissary-crds.yaml.in, the released CRDs)
  at EMISSARY_VERSION. Its CRD converts versions through Emissary's webhook, which the testbed does not run;
  objects are read and written as v2, the storage version, so no conversion is ever asked for and the fixture
  sets the strategy to None (the schema is untouched).

Modules come through the Go module proxy like the rest of the testbed (a warm cache is offline).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import yaml

from rollouts.kube.client import KubeClient
from tests.support.argo_source import argo_rollouts_dir
from tests.support.gateway_api import install_crds, module_dir, pinned_version


def _crds(path: Path, *kinds: str) -> list[dict[str, Any]]:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d and d.get("kind") == "CustomResourceDefinition"]
    found = [d for d in docs if not kinds or d["spec"]["names"]["kind"] in kinds]
    if not found:
        raise RuntimeError(f"no CustomResourceDefinition {kinds} in {path}")
    return found


def traefik_crds() -> list[dict[str, Any]]:
    root = module_dir(pinned_version("TRAEFIK_VERSION"), "github.com/traefik/traefik/v3")
    return _crds(root / "docs" / "content" / "reference" / "dynamic-configuration" / "traefik.io_traefikservices.yaml")


def apisix_crds() -> list[dict[str, Any]]:
    return _crds(argo_rollouts_dir() / "test" / "e2e" / "crds" / "apisix.yaml", "ApisixRoute")


def istio_crds() -> list[dict[str, Any]]:
    return _crds(argo_rollouts_dir() / "test" / "e2e" / "crds" / "istio.yaml", "VirtualService", "DestinationRule")


def smi_crds() -> list[dict[str, Any]]:
    """Argo's ``split.yaml`` serves only v1alpha4, while Argo (and this controller) write v1alpha1-v1alpha3; its
    v1alpha2 and v1alpha3 schemas are there, so they are served too (conversion None: same fields)."""
    crds = _crds(argo_rollouts_dir() / "test" / "e2e" / "crds" / "split.yaml", "TrafficSplit")
    for crd in crds:
        for version in crd["spec"]["versions"]:
            version["served"] = version["served"] or version["name"] in ("v1alpha2", "v1alpha3")
    return crds


def ambassador_crds() -> list[dict[str, Any]]:
    root = module_dir(pinned_version("EMISSARY_VERSION"), "github.com/emissary-ingress/emissary/v3")
    crds = _crds(root / "manifests" / "emissary" / "emissary-crds.yaml.in", "Mapping")
    for crd in crds:
        crd["spec"]["conversion"] = {"strategy": "None"}
    return crds


async def install_router_crds(client: KubeClient, which: str) -> list[str]:
    """Install the CRDs of ``which`` ("traefik", "apisix", "ambassador", "istio", "smi"); returns their names."""
    loaders = {"traefik": traefik_crds, "apisix": apisix_crds, "ambassador": ambassador_crds, "istio": istio_crds,
               "smi": smi_crds}
    crds = await asyncio.to_thread(loaders[which])
    return await install_crds(client, crds)
