"""Integration fixtures: CRDs installed once, and a controller per test scoped to the test's namespace."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from rollouts.controller.runtime import Controller
from rollouts.kube.client import KubeClient
from tests.support.controller import controller_in_process, install_crds


@pytest.fixture(scope="session")
async def crds(kube: KubeClient) -> None:
    await install_crds(kube)


@pytest.fixture
async def controller(kubeconfig: Path, namespace: str, crds: None) -> AsyncIterator[Controller]:
    async with controller_in_process(kubeconfig, namespace=namespace, disable_applications=True) as running:
        yield running
