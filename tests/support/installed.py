"""Run the controller the way an installed Deployment runs it: its own container args and env, and the
ServiceAccount's own token, so that what is tested is the shipped manifest and its RBAC, not the test's admin.

The testbed has no kubelet that runs containers (kwok fakes pods), so the Deployment's container is started
here: as a local process (`controller_as_deployed`), or from the image (tests/integration/image/).
"""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.support.plugin import write_token_kubeconfig


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def service_account_kubeconfig(kubectl_bin: str, admin: Path, namespace: str, name: str, path: Path) -> Path:
    """A kubeconfig that authenticates as ServiceAccount `namespace/name` (a TokenRequest token)."""
    res = subprocess.run([kubectl_bin, f"--kubeconfig={admin}", "create", "token", name, "-n", namespace,
                          "--duration=2h"], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    return write_token_kubeconfig(admin, res.stdout.strip(), path)


def container_of(deployment: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = deployment["spec"]["template"]["spec"]["containers"][0]
    return container


def deployment_command(deployment: dict[str, Any], *, namespace: str, pod_name: str,
                       ports: dict[str, int]) -> tuple[list[str], dict[str, str]]:
    """The container's args and environment as the kubelet would give them (fieldRefs resolved, optional
    Secret references that do not exist left out), with the listening ports moved to free loopback ones."""
    container = container_of(deployment)
    env: dict[str, str] = {}
    for var in container.get("env") or []:
        source = var.get("valueFrom")
        if source is None:
            env[var["name"]] = str(var["value"])
        elif "fieldRef" in source:
            field = source["fieldRef"]["fieldPath"]
            env[var["name"]] = {"metadata.namespace": namespace, "metadata.name": pod_name}[field]
        else:
            assert source.get("secretKeyRef", {}).get("optional"), f"unexpected env source {var}"
    env.update({"ROLLOUTS_METRICS_PORT": str(ports["metrics"]), "ROLLOUTS_HEALTHZ_PORT": str(ports["healthz"]),
                "ROLLOUTS_BIND_ADDRESS": "127.0.0.1"})
    return [str(a) for a in container["args"]], env


def docs_with_kind(path: Path, kind: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d and d["kind"] == kind]
