"""Run the real controller for integration tests: in-process (fast) or as a subprocess (killable)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import yaml

from rollouts.controller.runtime import Controller, ControllerConfig
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import NotFound
from rollouts.kube.resources import (
    ANALYSISRUN,
    ANALYSISTEMPLATE,
    APPLICATION,
    APPPROJECT,
    CLUSTERANALYSISTEMPLATE,
    CRD,
    EXPERIMENT,
    ROLLOUT,
)

REPO = Path(__file__).resolve().parents[2]


async def install_crds(client: KubeClient) -> None:
    """Apply every CRD under crds/ (and wait until each is Established)."""
    names = []
    for path in sorted((REPO / "crds").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") == "CustomResourceDefinition":
                await client.apply(CRD, doc, field_manager="rollouts-tests")
                names.append(doc["metadata"]["name"])
    for name in names:
        for _ in range(100):
            crd = await client.get(CRD, name)
            if any(c["type"] == "Established" and c["status"] == "True"
                   for c in (crd.get("status") or {}).get("conditions") or []):
                break
            await asyncio.sleep(0.1)
    client.forget_discovery()
    # Established can precede the moment the API server serves the kind: wait until each is listable.
    for kind in (ROLLOUT, ANALYSISRUN, ANALYSISTEMPLATE, CLUSTERANALYSISTEMPLATE, APPLICATION, APPPROJECT, EXPERIMENT):
        for _ in range(100):
            try:
                await client.list(kind)
                break
            except NotFound:
                await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def controller_in_process(kubeconfig: Path, **overrides: Any) -> AsyncIterator[Controller]:
    """The controller with its own client, running in this event loop until the block ends."""
    from rollouts.cli.components import default_components

    config = ControllerConfig(kubeconfig=str(kubeconfig), workers=4, **overrides)
    if "extra_components" not in overrides:
        config.extra_components = default_components(config)
    client = await KubeClient.connect(str(kubeconfig))
    controller = Controller(client, config)
    stop = asyncio.Event()
    task = asyncio.create_task(controller.run(stop))
    try:
        ready = asyncio.create_task(controller.ready.wait())
        done, _ = await asyncio.wait({ready, task}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()
        if ready not in done:
            raise AssertionError("the controller did not become ready within 60s")
        yield controller
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(task, 20)
        await client.close()


@contextlib.contextmanager
def controller_process(kubeconfig: Path, *args: str, log_path: Path | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """`rollouts controller` as a child process; killed (SIGKILL) at the end if still running."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "rollouts.cli.admin", "controller", f"--kubeconfig={kubeconfig}",
         "--metrics-port=0", "--healthz-port=0", "--bind-address=127.0.0.1", *args],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO, start_new_session=True,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        if log_path:
            log.close()  # type: ignore[union-attr]
