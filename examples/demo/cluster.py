"""Cluster-side setup of the demo: CRDs, clean namespaces, and where the testbed's kubectl lives.

Why it exists: a re-run must start from nothing the previous demo left, and its namespaces may hold
Applications whose finalizer only a (now stopped) controller would remove; those are dropped first so the
namespace deletion cannot hang.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time
from pathlib import Path
from typing import Any

import yaml
from sandbox import DemoFailed

from rollouts.kube.client import KubeClient
from rollouts.kube.errors import NotFound
from rollouts.kube.resources import APPLICATION, CRD, NAMESPACE

REPO = Path(__file__).resolve().parents[2]
FINALIZER_KINDS = (APPLICATION,)


async def install_crds(client: KubeClient) -> None:
    names = []
    for path in sorted((REPO / "crds").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") == "CustomResourceDefinition":
                await client.apply(CRD, doc, field_manager="rollouts-demo")
                names.append(doc["metadata"]["name"])

    def established(crd: dict[str, Any]) -> bool:
        return any(c.get("type") == "Established" and c.get("status") == "True"
                   for c in (crd.get("status") or {}).get("conditions") or [])

    deadline = time.monotonic() + 30
    for name in names:
        while not established(await client.get(CRD, name)):
            if time.monotonic() > deadline:
                raise DemoFailed(f"CustomResourceDefinition {name} is not Established after 30s")
            await asyncio.sleep(0.2)
    client.forget_discovery()


async def delete_namespaces(client: KubeClient, names: list[str], *, timeout: float = 120) -> None:
    """Delete the previous demo's namespaces, dropping Application finalizers its (stopped) controller would
    otherwise have to remove, and wait until they are gone so the new demo starts clean."""
    for ns in names:
        for kind in FINALIZER_KINDS:
            with contextlib.suppress(NotFound):
                items, _ = await client.list(kind, ns)
                for obj in items:
                    if obj["metadata"].get("finalizers"):
                        await client.patch(kind, obj["metadata"]["name"], {"metadata": {"finalizers": None}}, ns)
        with contextlib.suppress(NotFound):
            await client.delete(NAMESPACE, ns)
    deadline = time.monotonic() + timeout
    for ns in names:
        while True:
            try:
                await client.get(NAMESPACE, ns)
            except NotFound:
                break
            if time.monotonic() > deadline:
                raise DemoFailed(f"namespace {ns} is still terminating after {timeout:.0f}s")
            await asyncio.sleep(0.5)


def testbed_bin() -> str | None:
    done = subprocess.run([str(REPO / "testbed" / "build.sh")], capture_output=True, text=True, cwd=REPO)
    lines = done.stdout.strip().splitlines()
    return lines[-1] if done.returncode == 0 and lines else None
