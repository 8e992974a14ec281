"""Running the kubectl plugin in integration tests: through a real `kubectl` binary, as an operator's shell would.

kubectl finds `kubectl-argo-rollouts` and `kubectl-rollouts` on PATH (the venv's bin directory is put first). The
plugin runs as a child process while the controller runs in the test's event loop, so every call is an asyncio
subprocess: a blocking call would starve the controller and `status` would never see a change.
"""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from rollouts.kube.client import KubeClient
from rollouts.kube.resources import ROLLOUT
from tests.support.rollouts import canary_rollout, create_services, wait_phase

VENV_BIN = str(Path(sys.executable).parent)
BLUE, GREEN = "example/app:blue", "example/app:green"
MANUAL_STEPS = [{"setWeight": 20}, {"pause": {}}, {"setWeight": 60}, {"pause": {}}]
TIMED_STEPS = [{"setWeight": 50}, {"pause": {"duration": "1s"}}]
ARGO = ("argo", "rollouts")  # kubectl argo rollouts ...


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


@dataclass(frozen=True)
class Kubectl:
    binary: str
    kubeconfig: Path

    def env(self, kubeconfig: Path | None = None, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
               "KUBECONFIG": str(kubeconfig or self.kubeconfig), "COLUMNS": "120"}
        env.pop("NO_COLOR", None)
        return {**env, **(extra or {})}

    async def start(self, *args: str, kubeconfig: Path | None = None,
                    env: dict[str, str] | None = None) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            self.binary, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env=self.env(kubeconfig, env))

    async def __call__(self, *args: str, timeout: float = 60, kubeconfig: Path | None = None,
                       env: dict[str, str] | None = None) -> Result:
        proc = await self.start(*args, kubeconfig=kubeconfig, env=env)
        return await finish(proc, timeout, args)

    async def argo(self, *args: str, **kw: Any) -> Result:
        """`kubectl argo rollouts ARGS...`"""
        return await self(*ARGO, *args, **kw)


async def finish(proc: asyncio.subprocess.Process, timeout: float, args: Any) -> Result:
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"kubectl {' '.join(args)} did not finish within {timeout}s") from None
    assert proc.returncode is not None
    return Result(proc.returncode, out.decode(), err.decode())


def error_line(result: Result) -> str:
    """The one `Error: ...` line a failed command prints (never a traceback)."""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.err
    return lines[0]


async def create(kube: KubeClient, ns: str, name: str, steps: list[dict[str, Any]]) -> dict[str, Any]:
    await create_services(kube, ns, name, f"{name}-stable", f"{name}-canary")
    manifest = canary_rollout(name, image=BLUE, replicas=4, steps=steps, stableService=f"{name}-stable",
                              canaryService=f"{name}-canary")
    await kube.create(ROLLOUT, manifest, ns)
    return await wait_phase(kube, ns, name, "Healthy", timeout=90)


def image_of(obj: dict[str, Any]) -> str:
    return str(obj["spec"]["template"]["spec"]["containers"][0]["image"])


async def service_account_token(kube: KubeClient, kubectl: Kubectl, namespace: str, *, name: str = "reader",
                                verbs: tuple[str, ...] = ("get", "list", "watch")) -> str:
    """A ServiceAccount that may only read Rollouts in `namespace`; its token."""
    from rollouts.kube.resources import ResourceKind

    sa = ResourceKind("", "v1", "ServiceAccount", "serviceaccounts")
    role = ResourceKind("rbac.authorization.k8s.io", "v1", "Role", "roles")
    binding = ResourceKind("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings")
    await kube.create(sa, {"metadata": {"name": name}}, namespace)
    await kube.create(role, {"metadata": {"name": f"{name}-role"}, "rules": [
        {"apiGroups": ["argoproj.io"], "resources": ["rollouts"], "verbs": list(verbs)}]}, namespace)
    await kube.create(binding, {"metadata": {"name": name},
                                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                            "name": f"{name}-role"},
                                "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]},
                      namespace)
    token = await kubectl("create", "token", name, "-n", namespace)
    assert token.code == 0, token.err
    return token.out.strip()


def write_token_kubeconfig(admin: Path, token: str, path: Path) -> Path:
    """The admin kubeconfig's cluster and context, with a bearer-token user instead of the admin."""
    config = yaml.safe_load(admin.read_text())
    context = next(c for c in config["contexts"] if c["name"] == config["current-context"])
    config["users"] = [{"name": "reader", "user": {"token": token}}]
    context["context"]["user"] = "reader"
    config["contexts"] = [context]
    path.write_text(yaml.safe_dump(config))
    return path


def admin_token(admin: Path) -> str:
    """The bearer token of the admin kubeconfig's user (the testbed's admin authenticates with a token)."""
    config = yaml.safe_load(admin.read_text())
    return str(config["users"][0]["user"]["token"])


def admin_cluster(admin: Path) -> dict[str, Any]:
    """The admin kubeconfig's current cluster entry (server, CA data...)."""
    config = yaml.safe_load(admin.read_text())
    context = next(c for c in config["contexts"] if c["name"] == config["current-context"])
    return dict(next(c for c in config["clusters"] if c["name"] == context["context"]["cluster"])["cluster"])
