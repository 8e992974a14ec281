"""A namespace-scoped install really works: manifests/namespace-install.yaml applied into a team's namespace
(`kubectl apply -n TEAM`), its controller run as its Deployment says (args, env: `--namespace` from the pod's
namespace) under its own ServiceAccount's token, with namespace rights only.

It takes its Lease, brings a canary Rollout of that namespace to Healthy, pauses it at the canary step after an
image change, finishes it after `kubectl argo rollouts promote`, never touches a Rollout of another namespace,
and no request of it is forbidden (it does not try to watch ClusterAnalysisTemplates, as Argo's --namespaced).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from rollouts.kube.client import KubeClient
from rollouts.kube.errors import NotFound
from rollouts.kube.resources import LEASE, NAMESPACE, REPLICASET, ROLLOUT
from tests.support.bundles import REPO
from tests.support.installed import deployment_command, docs_with_kind, free_port, service_account_kubeconfig
from tests.support.plugin import BLUE, GREEN, MANUAL_STEPS, Kubectl, create
from tests.support.rollouts import canary_rollout, wait_phase
from tests.support.wait import eventually

pytestmark = pytest.mark.integration
BUNDLE = REPO / "manifests" / "namespace-install.yaml"


@contextlib.contextmanager
def _run(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "rollouts.cli.admin", *args], stdout=out,
                                stderr=subprocess.STDOUT, env=env, cwd=REPO, start_new_session=True)
        try:
            yield proc
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(10)


async def test_the_namespace_install_runs_a_rollout_with_namespace_rights_only(
    kube: KubeClient, crds: None, kubectl_bin: str, kubeconfig: Path, namespace: str, tmp_path: Path
) -> None:
    apply = await asyncio.to_thread(subprocess.run, [kubectl_bin, f"--kubeconfig={kubeconfig}", "apply",
                                                     "--server-side", "-n", namespace, "-f", str(BUNDLE)],
                                    capture_output=True, text=True, check=False)
    assert apply.returncode == 0, apply.stderr
    other = f"t-elsewhere-{uuid.uuid4().hex[:5]}"
    await kube.create(NAMESPACE, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": other}})
    try:
        await kube.create(ROLLOUT, canary_rollout("elsewhere", image=BLUE, replicas=1), other)
        sa_config = await asyncio.to_thread(service_account_kubeconfig, kubectl_bin, kubeconfig, namespace,
                                            "rollouts-controller", tmp_path / "sa-kubeconfig")
        (deployment,) = docs_with_kind(BUNDLE, "Deployment")
        args, env = deployment_command(deployment, namespace=namespace, pod_name="rollouts-controller-0",
                                       ports={"metrics": free_port(), "healthz": free_port()})
        env = {**{k: v for k, v in os.environ.items() if k != "KUBECONFIG"}, **env, "HOME": str(tmp_path)}
        log = tmp_path / "controller.log"
        with _run([*args, f"--kubeconfig={sa_config}"], env, log) as proc:
            lease = await eventually(lambda: kube.get(LEASE, "rollouts-controller-lock", namespace),
                                     lambda lease: bool(lease["spec"].get("holderIdentity")), timeout=60,
                                     expected="the controller holding its Lease in its own namespace")
            assert lease["spec"]["holderIdentity"], lease
            await create(kube, namespace, "team", MANUAL_STEPS)
            patch = {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": GREEN}]}}}}
            await kube.patch(ROLLOUT, "team", patch, namespace, patch_type="merge")
            await wait_phase(kube, namespace, "team", "Paused", step=1, timeout=60)
            promoted = await Kubectl(kubectl_bin, kubeconfig).argo("promote", "team", "--full", "-n", namespace)
            assert promoted.code == 0, promoted.err
            done = await wait_phase(kube, namespace, "team", "Healthy", timeout=90)
            assert done["status"]["stableRS"] == done["status"]["currentPodHash"]
            sets, _ = await kube.list(REPLICASET, namespace, label_selector="rollouts-pod-template-hash")
            assert len(sets) == 2, [s["metadata"]["name"] for s in sets]
            assert proc.poll() is None, log.read_text()[-3000:]
        untouched = await kube.get(ROLLOUT, "elsewhere", other)
        assert not untouched.get("status"), f"a Rollout of another namespace was reconciled: {untouched['status']}"
        assert not (await kube.list(REPLICASET, other))[0]
        text = log.read_text()
        assert "ClusterAnalysisTemplates are not readable with namespace rights" in text, text[-3000:]
        forbidden = [line for line in text.splitlines() if "forbidden" in line.lower()]
        assert not forbidden, "requests refused to the namespace install:\n" + "\n".join(forbidden[:10])
    finally:
        with contextlib.suppress(NotFound):
            await kube.delete(NAMESPACE, other)
