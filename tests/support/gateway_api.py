"""Install the real Gateway API CRDs (standard channel) into the test cluster, from the pinned Go module.

The API server stores and validates HTTPRoutes (CEL rules, defaults, the 16-rule limit) without any gateway
data plane, so the Gateway API router is tested against the genuine schema. The CRDs come from the
``sigs.k8s.io/gateway-api`` module at ``GATEWAY_API_VERSION`` in testbed/versions.env, fetched through the Go
module proxy like the rest of the testbed (``go mod download`` caches it; a warm cache is offline).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import yaml

from rollouts.kube.client import KubeClient
from rollouts.kube.errors import NotFound
from rollouts.kube.resources import CRD, ResourceKind

REPO = Path(__file__).resolve().parents[2]
MODULE = "sigs.k8s.io/gateway-api"
FIELD_MANAGER = "rollouts-tests"


def pinned_version(name: str = "GATEWAY_API_VERSION") -> str:
    for line in (REPO / "testbed" / "versions.env").read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == name:
            return value.strip()
    raise RuntimeError(f"{name} is not set in testbed/versions.env")


def module_dir(version: str, module: str = MODULE) -> Path:
    """The unpacked module directory (``go mod download -json``), downloading it on first use."""
    env = {**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=mod"}
    res = subprocess.run(
        ["go", "mod", "download", "-json", f"{module}@{version}"],
        cwd=REPO / "testbed",
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )
    info: dict[str, Any] = json.loads(res.stdout) if res.stdout.strip() else {}
    if res.returncode != 0 or not info.get("Dir"):
        raise RuntimeError(f"go mod download {module}@{version} failed: {info.get('Error') or res.stderr.strip()}")
    return Path(info["Dir"])


def standard_crds(version: str) -> list[dict[str, Any]]:
    crds: list[dict[str, Any]] = []
    for path in sorted((module_dir(version) / "config" / "crd" / "standard").glob("*.yaml")):
        crds += [doc for doc in yaml.safe_load_all(path.read_text()) if doc and doc.get("kind") == "CustomResourceDefinition"]
    if not crds:
        raise RuntimeError(f"no CustomResourceDefinitions under config/crd/standard of {MODULE}@{version}")
    return crds


async def install_gateway_api_crds(client: KubeClient, *, timeout: float = 60.0) -> list[str]:
    """Apply the standard-channel CRDs and wait until each is Established; returns their names."""
    crds = await asyncio.to_thread(standard_crds, pinned_version())
    return await install_crds(client, crds, timeout=timeout)


async def install_crds(client: KubeClient, crds: list[dict[str, Any]], *, timeout: float = 60.0) -> list[str]:
    """Apply CRDs, wait until each is Established and its kind is served; returns their names."""
    for crd in crds:
        await client.apply(CRD, crd, field_manager=FIELD_MANAGER)
    names = [str(crd["metadata"]["name"]) for crd in crds]
    deadline = time.monotonic() + timeout
    pending = set(names)
    while pending:
        for name in sorted(pending):
            conditions = ((await client.get(CRD, name)).get("status") or {}).get("conditions") or []
            if any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions):
                pending.discard(name)
        if pending and time.monotonic() > deadline:
            raise AssertionError(f"CRDs not Established after {timeout:.0f}s: {sorted(pending)}")
        if pending:
            await asyncio.sleep(0.2)
    client.forget_discovery()
    # Established can precede the moment the API server serves the new kind: wait until it is listable.
    for crd in crds:
        spec = crd["spec"]
        version = next(v["name"] for v in spec["versions"] if v.get("served"))
        kind = ResourceKind(spec["group"], version, spec["names"]["kind"], spec["names"]["plural"],
                            spec.get("scope") == "Namespaced")
        while True:
            try:
                await client.list(kind)
                break
            except NotFound:
                if time.monotonic() > deadline:
                    raise AssertionError(f"{kind} is Established but not served after {timeout:.0f}s") from None
                await asyncio.sleep(0.2)
    return names
