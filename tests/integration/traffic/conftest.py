"""Traffic integration fixtures: the Gateway API CRDs, installed once per session from the pinned module."""

from __future__ import annotations

import pytest

from rollouts.kube.client import KubeClient
from tests.support.gateway_api import install_gateway_api_crds


@pytest.fixture(scope="session")
async def gateway_api(kube: KubeClient) -> list[str]:
    return await install_gateway_api_crds(kube)
