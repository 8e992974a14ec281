"""Traffic integration fixtures: the Gateway API, Traefik, APISIX, Ambassador and Istio CRDs, installed once per
session."""

from __future__ import annotations

import pytest

from rollouts.kube.client import KubeClient
from tests.support.gateway_api import install_gateway_api_crds
from tests.support.router_crds import install_router_crds


@pytest.fixture(scope="session")
async def gateway_api(kube: KubeClient) -> list[str]:
    return await install_gateway_api_crds(kube)


@pytest.fixture(scope="session")
async def traefik_crds(kube: KubeClient) -> list[str]:
    return await install_router_crds(kube, "traefik")


@pytest.fixture(scope="session")
async def apisix_crds(kube: KubeClient) -> list[str]:
    return await install_router_crds(kube, "apisix")


@pytest.fixture(scope="session")
async def ambassador_crds(kube: KubeClient) -> list[str]:
    return await install_router_crds(kube, "ambassador")


@pytest.fixture(scope="session")
async def istio_crds(kube: KubeClient) -> list[str]:
    return await install_router_crds(kube, "istio")


@pytest.fixture(scope="session")
async def smi_crds(kube: KubeClient) -> list[str]:
    return await install_router_crds(kube, "smi")
