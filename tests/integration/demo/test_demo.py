"""`make demo` end to end: run.py --ci in its own namespaces, watched independently, then checked on the API.

The demo's own waits could be wrong in the same way as its story, so this test does not trust its output:
while the demo runs, it records every (Application sync revision, health, Rollout stableRS) it sees through
its own client, and afterwards it reads the commits from the demo's Git repository and the final objects.
Green must have been live and Healthy at the green commit with green's pods stable; red must end aborted
with traffic and selectors back on green and the Application Degraded at the red commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from rollouts.kube.client import KubeClient
from rollouts.kube.errors import NotFound
from rollouts.kube.informer import Informer
from rollouts.kube.resources import ANALYSISRUN, APPLICATION, INGRESS, NAMESPACE, REPLICASET, ROLLOUT, SERVICE
from tests.support.wait import eventually

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
RUN = REPO / "examples" / "demo" / "run.py"
HASH = "rollouts-pod-template-hash"
WEIGHT = "nginx.ingress.kubernetes.io/canary-weight"
DEMO_TIMEOUT = 210
ABORT_TRAFFIC_RESET = 5.0


def _run_args(kubeconfig: Path, namespace: str, state_dir: Path) -> list[str]:
    return [sys.executable, str(RUN), f"--kubeconfig={kubeconfig}", f"--namespace={namespace}",
            f"--applications-namespace={namespace}-apps", f"--application={namespace}", f"--state-dir={state_dir}"]


@dataclass
class Seen:
    """What the test's own watches saw while the demo ran (every event, so short-lived states are kept)."""

    applications: list[tuple[str, str, str]] = field(default_factory=list)
    rollouts: list[tuple[str, str]] = field(default_factory=list)
    aborted_at: float | None = None
    """When the Rollout first reported abort."""
    canary_weight: list[tuple[float, str]] = field(default_factory=list)
    """(when, canary-weight) of each change of the canary Ingress' weight."""

    def application(self, _type: str, app: dict[str, Any]) -> None:
        st = app.get("status") or {}
        row = (str((st.get("sync") or {}).get("status")), str((st.get("sync") or {}).get("revision")),
               str((st.get("health") or {}).get("status")))
        if not self.applications or self.applications[-1] != row:
            self.applications.append(row)

    def rollout(self, _type: str, ro: dict[str, Any]) -> None:
        st = ro.get("status") or {}
        row = (str(st.get("phase")), str(st.get("stableRS")))
        if not self.rollouts or self.rollouts[-1] != row:
            self.rollouts.append(row)
        if st.get("abort") and self.aborted_at is None:
            self.aborted_at = time.monotonic()

    def ingress(self, _type: str, ing: dict[str, Any]) -> None:
        if ing["metadata"]["name"] != "demo-demo-canary":
            return
        weight = str((ing["metadata"].get("annotations") or {}).get(WEIGHT))
        if not self.canary_weight or self.canary_weight[-1][1] != weight:
            self.canary_weight.append((time.monotonic(), weight))

    def traffic_reset_after_abort(self) -> float | None:
        """Seconds from the abort to the canary weight's return to 0 (None: not seen)."""
        if self.aborted_at is None:
            return None
        last_before = [w for t, w in self.canary_weight if t <= self.aborted_at]
        if last_before and last_before[-1] == "0":
            return 0.0
        after = [t for t, w in self.canary_weight if t > self.aborted_at and w == "0"]
        return after[0] - self.aborted_at if after else None


@contextlib.asynccontextmanager
async def watching(kube: KubeClient, namespace: str) -> AsyncIterator[Seen]:
    seen = Seen()
    informers = [Informer(kube, APPLICATION, namespace=f"{namespace}-apps", handler=seen.application),
                 Informer(kube, ROLLOUT, namespace=namespace, handler=seen.rollout),
                 Informer(kube, INGRESS, namespace=namespace, handler=seen.ingress)]
    tasks = [asyncio.create_task(i.run()) for i in informers]
    try:
        await asyncio.wait_for(asyncio.gather(*(i.synced.wait() for i in informers)), 30)
        yield seen
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _commits(state_dir: Path) -> dict[str, str]:
    """Commit SHA by message, from the demo's working clone."""
    out = subprocess.run(["git", "log", "--format=%H %s"], cwd=state_dir / "git" / "work", check=True,
                         capture_output=True, text=True).stdout
    return {line.split(" ", 1)[1]: line.split(" ", 1)[0] for line in out.splitlines()}


async def _hash_of(kube: KubeClient, namespace: str, tag: str) -> str:
    items, _ = await kube.list(REPLICASET, namespace)
    hashes = [str(rs["metadata"]["labels"][HASH]) for rs in items
              if rs["spec"]["template"]["spec"]["containers"][0]["image"].endswith(f":{tag}")]
    assert len(hashes) == 1, f"expected one ReplicaSet running {tag}, found {hashes}"
    return hashes[0]


def _selector_hash(svc: dict[str, Any]) -> str | None:
    return (svc["spec"].get("selector") or {}).get(HASH)


async def test_demo_promotes_green_and_aborts_red(kube: KubeClient, kubeconfig: Path, tmp_path: Path) -> None:
    namespace = f"demo-ci-{uuid.uuid4().hex[:6]}"
    state_dir = tmp_path / "demo"
    log = tmp_path / "demo.out"
    started = time.monotonic()
    try:
        async with watching(kube, namespace) as seen:
            with log.open("wb") as out:
                proc = await asyncio.create_subprocess_exec(*_run_args(kubeconfig, namespace, state_dir), "--ci",
                                                            stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
                try:
                    rc = await asyncio.wait_for(proc.wait(), DEMO_TIMEOUT)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
                    pytest.fail(f"the demo did not finish within {DEMO_TIMEOUT}s:\n{log.read_text()[-4000:]}")
        elapsed = time.monotonic() - started
        output = log.read_text()
        assert rc == 0, f"run.py --ci exited with {rc}:\n{output[-4000:]}"
        recorded = json.loads((state_dir / "state.json").read_text())["processes"]
        assert {p["name"] for p in recorded} == {"exporter", "prometheus", "controller"}
        assert all(_alive(p["pid"]) for p in recorded), "the demo must leave its sandbox running"

        commits = _commits(state_dir)
        green_commit, red_commit = commits["demo app: version green"], commits["demo app: version red"]
        green, red = await _hash_of(kube, namespace, "green"), await _hash_of(kube, namespace, "red")
        assert ("Synced", green_commit, "Healthy") in seen.applications, (
            f"never saw the Application Synced/Healthy at the green commit {green_commit}; saw {seen.applications}")
        assert ("Healthy", green) in seen.rollouts, f"never saw green ({green}) stable and Healthy: {seen.rollouts}"

        ro = await kube.get(ROLLOUT, "demo", namespace)
        st = ro["status"]
        assert st["phase"] == "Degraded" and st.get("abort") is True, st
        assert "RolloutAborted" in st["message"] and "Failed" in st["message"], st["message"]
        assert st["stableRS"] == green and st["currentPodHash"] == red
        for name in ("demo-stable", "demo-canary"):
            svc = await kube.get(SERVICE, name, namespace)
            assert _selector_hash(svc) == green, f"{name} selects {_selector_hash(svc)}, expected green {green}"
        canary_ingress = await kube.get(INGRESS, "demo-demo-canary", namespace)
        assert canary_ingress["metadata"]["annotations"][WEIGHT] == "0"
        # Aborting means the failing version stops receiving traffic now, not at the next unrelated wake-up.
        reset = seen.traffic_reset_after_abort()
        assert reset is not None and reset <= ABORT_TRAFFIC_RESET, (
            f"the canary weight went back to 0 {reset}s after the abort (at most {ABORT_TRAFFIC_RESET}s expected); "
            f"weights seen: {seen.canary_weight}, abort at {seen.aborted_at}")

        runs, _ = await kube.list(ANALYSISRUN, namespace)
        verdicts = {next(a["value"] for a in r["spec"]["args"] if a["name"] == "canary-hash"): r["status"]["phase"]
                    for r in runs}
        assert verdicts == {green: "Successful", red: "Failed"}, verdicts

        app = await kube.get(APPLICATION, namespace, f"{namespace}-apps")
        assert app["status"]["sync"] == {**app["status"]["sync"], "status": "Synced", "revision": red_commit}
        assert app["status"]["health"]["status"] == "Degraded", app["status"]["health"]
        assert "kubectl rollouts get rollout demo" in output and "--stop" in output
        assert elapsed < DEMO_TIMEOUT
        chapters = next((line for line in output.splitlines() if line.startswith("chapters:")), "")
        print(f"demo finished in {elapsed:.0f}s; traffic reset {reset:.1f}s after the abort; {chapters}")
    finally:
        stopper = await asyncio.create_subprocess_exec(*_run_args(kubeconfig, namespace, state_dir), "--stop",
                                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=REPO)
        said, _ = await asyncio.wait_for(stopper.communicate(), 180)
        assert stopper.returncode == 0, said.decode()

    async def gone() -> list[str]:
        present = []
        for ns in (namespace, f"{namespace}-apps"):
            with contextlib.suppress(NotFound):
                await kube.get(NAMESPACE, ns)
                present.append(ns)
        return present

    await eventually(gone, lambda left: not left, timeout=10, expected="--stop to have deleted the demo namespaces")
    assert not (state_dir / "state.json").exists()
    assert not [p["name"] for p in recorded if _alive(p["pid"])], "--stop left demo processes running"


def _alive(pid: int) -> bool:
    try:
        return b"zombie" not in Path(f"/proc/{pid}/status").read_bytes().lower() and Path(f"/proc/{pid}").exists()
    except OSError:
        return False
