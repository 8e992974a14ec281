"""The kubectl plugin through a real `kubectl` binary, against the real control plane and controller.

kubectl finds `kubectl-rollouts` on PATH (the venv's bin directory is put first), exactly as an
operator's shell would. The plugin runs as a child process while the controller runs in this
test's event loop, so every call is an asyncio subprocess: a blocking call would starve the
controller and `status --watch` would never see a change.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from rollouts.controller.runtime import Controller
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import ROLLOUT
from tests.support.rollouts import canary_rollout, create_services, get_rollout, replica_sets, wait_phase
from tests.support.wait import eventually

pytestmark = pytest.mark.integration

VENV_BIN = str(Path(sys.executable).parent)
BLUE, GREEN = "example/app:blue", "example/app:green"
MANUAL_STEPS = [{"setWeight": 20}, {"pause": {}}, {"setWeight": 60}, {"pause": {}}]
TIMED_STEPS = [{"setWeight": 50}, {"pause": {"duration": "1s"}}]


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


@dataclass(frozen=True)
class Kubectl:
    binary: str
    kubeconfig: Path

    def env(self, kubeconfig: Path | None = None) -> dict[str, str]:
        return {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                "KUBECONFIG": str(kubeconfig or self.kubeconfig), "NO_COLOR": "1", "COLUMNS": "120"}

    async def start(self, *args: str, kubeconfig: Path | None = None) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            self.binary, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env=self.env(kubeconfig))

    async def __call__(self, *args: str, timeout: float = 60, kubeconfig: Path | None = None) -> Result:
        proc = await self.start(*args, kubeconfig=kubeconfig)
        return await finish(proc, timeout, args)


async def finish(proc: asyncio.subprocess.Process, timeout: float, args: Any) -> Result:
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"kubectl {' '.join(args)} did not finish within {timeout}s") from None
    assert proc.returncode is not None
    return Result(proc.returncode, out.decode(), err.decode())


def one_error_line(result: Result) -> str:
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.err
    assert "Traceback" not in result.err
    return lines[0]


@pytest.fixture
def kubectl(kubectl_bin: str, kubeconfig: Path) -> Kubectl:
    return Kubectl(kubectl_bin, kubeconfig)


async def create(kube: KubeClient, ns: str, name: str, steps: list[dict[str, Any]]) -> dict[str, Any]:
    await create_services(kube, ns, name, f"{name}-stable", f"{name}-canary")
    manifest = canary_rollout(name, image=BLUE, replicas=4, steps=steps, stableService=f"{name}-stable",
                              canaryService=f"{name}-canary")
    await kube.create(ROLLOUT, manifest, ns)
    return await wait_phase(kube, ns, name, "Healthy", timeout=90)


def image_of(obj: dict[str, Any]) -> str:
    return str(obj["spec"]["template"]["spec"]["containers"][0]["image"])


# ---------------------------------------------------------------------------------------------------


async def test_kubectl_discovers_the_plugin(kubectl: Kubectl) -> None:
    listed = await kubectl("plugin", "list")
    assert f"{VENV_BIN}/kubectl-rollouts" in listed.out, listed.out + listed.err
    version = await kubectl("rollouts", "version")
    assert (version.code, version.out.strip()) == (0, "kubectl-rollouts: v0.1.0")
    helped = await kubectl("rollouts", "--help")
    assert helped.code == 0 and helped.out.startswith("usage: kubectl rollouts"), helped.err


async def test_get_list_status_and_json_match_the_object(kube: KubeClient, namespace: str, controller: Controller,
                                                         kubectl: Kubectl) -> None:
    await create(kube, namespace, "shop", MANUAL_STEPS)

    as_json = await kubectl("rollouts", "get", "rollout", "shop", "-n", namespace, "-o", "json")
    assert as_json.code == 0, as_json.err
    obj = json.loads(as_json.out)
    live = await get_rollout(kube, namespace, "shop")
    assert obj["metadata"]["uid"] == live["metadata"]["uid"]
    assert obj["spec"] == live["spec"]
    assert obj["status"]["phase"] == "Healthy" and obj["status"]["stableRS"] == live["status"]["stableRS"]

    as_yaml = await kubectl("rollouts", "get", "rollout", "shop", "-n", namespace, "-o", "yaml")
    assert yaml.safe_load(as_yaml.out)["metadata"]["uid"] == live["metadata"]["uid"]

    shown = await kubectl("rollouts", "get", "rollout", "shop", "-n", namespace)
    assert shown.code == 0, shown.err
    stable = live["status"]["stableRS"]
    for expected in ("Name:            shop", f"Namespace:       {namespace}", "Status:          ✔ Healthy",
                     "Strategy:        Canary", "Step:          4/4", f"{BLUE} (stable)", "# revision:1",
                     f"⧉ shop-{stable}", "ReplicaSet  ✔ Healthy", "Pod         ✔ Running"):
        assert expected in shown.out, f"{expected!r} missing from:\n{shown.out}"
    assert shown.out.count("□ shop-") == 4

    listed = await kubectl("rollouts", "list", "rollouts", "-n", namespace)
    assert listed.code == 0, listed.err
    row = next(line for line in listed.out.splitlines() if line.startswith("shop "))
    assert row.split() == ["shop", "Canary", "✔", "Healthy", "4/4", "100", "100", "4/4"]
    everywhere = await kubectl("rollouts", "list", "rollouts", "-A", "-o", "json")
    assert any(i["metadata"]["namespace"] == namespace for i in json.loads(everywhere.out)["items"])

    status = await kubectl("rollouts", "status", "shop", "-n", namespace)
    assert (status.code, status.out.strip()) == (0, "Healthy")
    status_json = await kubectl("rollouts", "status", "shop", "-n", namespace, "-o", "json")
    assert json.loads(status_json.out) == {"name": "shop", "namespace": namespace, "phase": "Healthy",
                                           "message": live["status"].get("message", "")}

    refused = await kubectl("rollouts", "promote", "shop", "-n", namespace)
    assert refused.code == 1
    assert one_error_line(refused) == ("error: rollout 'shop' is Healthy and fully promoted: there is no update "
                                       "to promote")


async def test_set_image_then_promote_moves_the_step(kube: KubeClient, namespace: str, controller: Controller,
                                                     kubectl: Kubectl) -> None:
    await create(kube, namespace, "shop", MANUAL_STEPS)

    updated = await kubectl("rollouts", "set", "image", "shop", f"app={GREEN}", "-n", namespace)
    assert (updated.code, updated.out.strip()) == (0, f"rollout 'shop' image updated (app={GREEN})"), updated.err
    paused = await wait_phase(kube, namespace, "shop", "Paused", step=1, timeout=90)
    assert image_of(paused) == GREEN

    shown = await kubectl("rollouts", "get", "rollout", "shop", "-n", namespace)
    assert "Status:          ॥ Paused" in shown.out and "Step:          1/4" in shown.out, shown.out
    assert "SetWeight:     20" in shown.out and f"{GREEN} (canary)" in shown.out, shown.out

    promoted = await kubectl("rollouts", "promote", "shop", "-n", namespace)
    assert promoted.code == 0, promoted.err
    assert promoted.out.strip() == "rollout 'shop' promoted (pause CanaryPauseStep cleared)"
    ro = await wait_phase(kube, namespace, "shop", "Paused", step=3, timeout=90)
    assert ro["status"]["currentPodHash"] != ro["status"]["stableRS"]

    full = await kubectl("rollouts", "promote", "shop", "--full", "-n", namespace)
    assert full.code == 0, full.err
    healthy = await wait_phase(kube, namespace, "shop", "Healthy", timeout=90)
    assert healthy["status"]["stableRS"] == ro["status"]["currentPodHash"]


async def test_abort_degrades_and_retry_restarts(kube: KubeClient, namespace: str, controller: Controller,
                                                 kubectl: Kubectl) -> None:
    await create(kube, namespace, "shop", MANUAL_STEPS)
    not_aborted = await kubectl("rollouts", "retry", "rollout", "shop", "-n", namespace)
    assert not_aborted.code == 1
    assert one_error_line(not_aborted) == "error: rollout 'shop' is not aborted: there is nothing to retry"

    await kubectl("rollouts", "set", "image", "shop", f"app={GREEN}", "-n", namespace)
    await wait_phase(kube, namespace, "shop", "Paused", step=1, timeout=90)

    # a CI job waiting on the rollout sees the abort and fails with exit code 1
    waiting = await kubectl.start("rollouts", "status", "shop", "--watch", "--timeout", "120s", "-n", namespace)
    assert waiting.stdout is not None
    first_line = (await asyncio.wait_for(waiting.stdout.readline(), 30)).decode()
    assert first_line == "Paused - CanaryPauseStep\n", first_line  # it is watching now
    aborted = await kubectl("rollouts", "abort", "shop", "-n", namespace)
    assert aborted.code == 0, aborted.err
    assert aborted.out.strip().startswith("rollout 'shop' aborted")
    watched = await finish(waiting, 120, "status --watch")
    assert watched.code == 1, (watched.out, watched.err)
    assert watched.out.splitlines()[-1].startswith("Degraded - RolloutAborted")

    degraded = await wait_phase(kube, namespace, "shop", "Degraded", timeout=90)
    assert degraded["status"]["abort"] is True
    status = await kubectl("rollouts", "status", "shop", "-n", namespace)
    assert status.code == 1 and status.out.startswith("Degraded"), status
    shown = await kubectl("rollouts", "get", "rollout", "shop", "-n", namespace)
    assert "Status:          ✖ Degraded" in shown.out and "SetWeight:     0" in shown.out, shown.out

    retried = await kubectl("rollouts", "retry", "rollout", "shop", "-n", namespace)
    assert retried.code == 0, retried.err
    again = await wait_phase(kube, namespace, "shop", "Paused", step=1, timeout=90)
    assert not again["status"].get("abort")


async def test_status_watch_exit_codes_and_undo(kube: KubeClient, namespace: str, controller: Controller,
                                                kubectl: Kubectl) -> None:
    first = await create(kube, namespace, "shop", TIMED_STEPS)
    blue_hash = first["status"]["stableRS"]

    await kubectl("rollouts", "set", "image", "shop", f"app={GREEN}", "-n", namespace)
    done = await kubectl("rollouts", "status", "shop", "--watch", "--timeout", "120s", "-n", namespace,
                         timeout=150)
    assert done.code == 0, (done.out, done.err)
    assert done.out.splitlines()[-1] == "Healthy"
    green = await get_rollout(kube, namespace, "shop")
    assert green["status"]["stableRS"] != blue_hash and image_of(green) == GREEN

    undone = await kubectl("rollouts", "undo", "shop", "-n", namespace)
    assert undone.code == 0, undone.err
    assert undone.out.strip() == f"rollout 'shop' rolled back to revision 1 (pod template of ReplicaSet shop-{blue_hash})"
    rolled = await get_rollout(kube, namespace, "shop")
    assert image_of(rolled) == BLUE
    assert "rollouts-pod-template-hash" not in rolled["spec"]["template"]["metadata"]["labels"]
    back = await kubectl("rollouts", "status", "shop", "-w", "-t", "120s", "-n", namespace, timeout=150)
    assert back.code == 0, (back.out, back.err)
    final = await get_rollout(kube, namespace, "shop")
    rss = await replica_sets(kube, namespace, "shop")
    assert image_of(rss[final["status"]["stableRS"]]) == BLUE

    # paused indefinitely: status --watch waits through Paused and gives up at the timeout with exit 2
    await kube.patch(ROLLOUT, "shop", {"spec": {"strategy": {"canary": {"steps": MANUAL_STEPS}}}}, namespace)
    await kubectl("rollouts", "set", "image", "shop", f"app={GREEN}", "-n", namespace)
    await wait_phase(kube, namespace, "shop", "Paused", step=1, timeout=90)
    timed_out = await kubectl("rollouts", "status", "shop", "--watch", "--timeout", "2s", "-n", namespace)
    assert timed_out.code == 2, (timed_out.out, timed_out.err)
    assert timed_out.out.strip() == "Paused - CanaryPauseStep"
    line = one_error_line(timed_out)
    assert line.startswith(f"error: timed out after 2s waiting for rollout 'shop' in namespace '{namespace}'")
    assert line.endswith("(last status: Paused - CanaryPauseStep)")


async def test_pause_resume_restart(kube: KubeClient, namespace: str, controller: Controller,
                                    kubectl: Kubectl) -> None:
    await create(kube, namespace, "shop", MANUAL_STEPS)
    paused = await kubectl("rollouts", "pause", "shop", "-n", namespace)
    assert (paused.code, paused.out.strip()) == (0, "rollout 'shop' paused")
    await wait_phase(kube, namespace, "shop", "Paused", timeout=60)
    twice = await kubectl("rollouts", "pause", "shop", "-n", namespace)
    assert twice.code == 1 and one_error_line(twice) == "error: rollout 'shop' is already paused"
    resumed = await kubectl("rollouts", "resume", "shop", "-n", namespace)
    assert (resumed.code, resumed.out.strip()) == (0, "rollout 'shop' resumed")
    await wait_phase(kube, namespace, "shop", "Healthy", timeout=60)

    restarted = await kubectl("rollouts", "restart", "shop", "-n", namespace)
    assert restarted.code == 0, restarted.err
    ro = await get_rollout(kube, namespace, "shop")
    assert restarted.out.strip() == f"rollout 'shop' restarts pods created before {ro['spec']['restartAt']}"
    await eventually(lambda: get_rollout(kube, namespace, "shop"),
                     lambda r: (r.get("status") or {}).get("restartedAt") == r["spec"]["restartAt"]
                     and r["status"].get("phase") == "Healthy",
                     timeout=90, expected="status.restartedAt to reach spec.restartAt, and Healthy")


async def test_bad_input_gives_one_clear_line(kube: KubeClient, namespace: str, crds: None, kubectl: Kubectl,
                                              kubeconfig: Path, tmp_path: Path) -> None:
    name = f"lonely-{namespace[-5:]}"  # unique in the cluster, so "found in namespace(s)" names only ours
    await kube.create(ROLLOUT, canary_rollout(name, image=BLUE, replicas=1), namespace)

    missing = await kubectl("rollouts", "get", "rollout", "nope", "-n", namespace)
    assert missing.code == 1
    assert one_error_line(missing) == f"error: rollout 'nope' not found in namespace '{namespace}'"

    wrong_ns = await kubectl("rollouts", "promote", name, "-n", "default")
    assert wrong_ns.code == 1
    assert one_error_line(wrong_ns) == (f"error: rollout '{name}' not found in namespace 'default' "
                                        f"(found in namespace(s): {namespace}; use -n)")

    bad_image = await kubectl("rollouts", "set", "image", name, "app=Example/App", "-n", namespace)
    assert bad_image.code == 2
    assert "invalid image argument 'app=Example/App'" in one_error_line(bad_image)
    no_container = await kubectl("rollouts", "set", "image", name, "db=postgres:16", "-n", namespace)
    assert one_error_line(no_container) == f"error: rollout '{name}' has no container named 'db' (containers: app)"

    # RBAC: a service account that may read rollouts in this namespace and nothing else
    limited = await limited_kubeconfig(kube, kubectl, namespace, kubeconfig, tmp_path)
    shown = await kubectl("rollouts", "status", name, "-n", namespace, kubeconfig=limited)
    assert shown.code == 0 and shown.err == "", shown.err
    assert shown.out.startswith("Progressing"), shown.out  # no controller runs in this test
    denied = await kubectl("rollouts", "pause", name, "-n", namespace, kubeconfig=limited)
    assert denied.code == 1
    line = one_error_line(denied)
    assert line.startswith(f"error: permission denied (RBAC 403) to pause rollout '{name}' in namespace "
                           f"'{namespace}': "), line
    assert "cannot patch resource" in line
    other = await kubectl("rollouts", "get", "rollout", name, "-n", "default", kubeconfig=limited)
    assert one_error_line(other).startswith(
        f"error: permission denied (RBAC 403) to get rollout '{name}' in namespace 'default'")


async def limited_kubeconfig(kube: KubeClient, kubectl: Kubectl, namespace: str, admin: Path,
                             tmp_path: Path) -> Path:
    from rollouts.kube.resources import ResourceKind

    sa = ResourceKind("", "v1", "ServiceAccount", "serviceaccounts")
    role = ResourceKind("rbac.authorization.k8s.io", "v1", "Role", "roles")
    binding = ResourceKind("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings")
    await kube.create(sa, {"metadata": {"name": "reader"}}, namespace)
    await kube.create(role, {"metadata": {"name": "rollout-reader"}, "rules": [
        {"apiGroups": ["argoproj.io"], "resources": ["rollouts"], "verbs": ["get", "list", "watch"]}]}, namespace)
    await kube.create(binding, {"metadata": {"name": "reader"},
                                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                            "name": "rollout-reader"},
                                "subjects": [{"kind": "ServiceAccount", "name": "reader",
                                              "namespace": namespace}]}, namespace)
    token = await kubectl("create", "token", "reader", "-n", namespace)
    assert token.code == 0, token.err
    return write_token_kubeconfig(admin, token.out.strip(), tmp_path / "reader.kubeconfig")


def write_token_kubeconfig(admin: Path, token: str, path: Path) -> Path:
    """The admin kubeconfig's cluster and context, with a bearer-token user instead of the admin."""
    config = yaml.safe_load(admin.read_text())
    context = next(c for c in config["contexts"] if c["name"] == config["current-context"])
    config["users"] = [{"name": "reader", "user": {"token": token}}]
    context["context"]["user"] = "reader"
    config["contexts"] = [context]
    path.write_text(yaml.safe_dump(config))
    return path


async def test_get_watch_follows_changes_through_a_watch(kube: KubeClient, namespace: str, controller: Controller,
                                                         kubectl: Kubectl) -> None:
    await create(kube, namespace, "shop", MANUAL_STEPS)
    proc = await kubectl.start("rollouts", "get", "rollout", "shop", "-n", namespace, "--watch", "-o", "json")
    stdout = proc.stdout
    assert stdout is not None
    decoder = json.JSONDecoder()
    buffer = ""
    seen: list[dict[str, Any]] = []

    async def next_doc() -> dict[str, Any]:
        nonlocal buffer
        while True:
            stripped = buffer.lstrip()
            if stripped:
                try:
                    doc, end = decoder.raw_decode(stripped)
                except json.JSONDecodeError:
                    pass
                else:
                    buffer = stripped[end:]
                    return dict(doc)
            chunk = await asyncio.wait_for(stdout.read(65536), 60)
            assert chunk, "the watch ended without printing the change"
            buffer += chunk.decode()

    try:
        seen.append(await next_doc())
        assert image_of(seen[0]) == BLUE
        await kubectl("rollouts", "set", "image", "shop", f"app={GREEN}", "-n", namespace)
        # every change is printed as it happens; the controller's status writes follow the spec change
        while not (image_of(seen[-1]) == GREEN and (seen[-1].get("status") or {}).get("phase") == "Paused"):
            seen.append(await next_doc())
        versions = [int(d["metadata"]["resourceVersion"]) for d in seen]
        assert versions == sorted(set(versions)), "each printed version is new and in order"
    finally:
        proc.terminate()
        await proc.wait()
