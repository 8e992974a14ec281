"""GitOps benchmark on the real control plane, with real local Git repositories.

Runs the Application reconciler as its own process (`python -m rollouts.gitops`) and measures:
  * commit -> Synced with a push webhook (p50/p95) and with polling (interval given by --poll-interval),
  * drift correction (live edit -> value restored by self-heal),
  * first sync of N small Applications (4 objects each): wall time and the reconciler's peak RSS; with
    --clusters 2 every other Application goes to the testbed's second control plane (`testbed/cluster.py
    --name b --minimal`, ports + ROLLOUTS_PORT_OFFSET, started if not running) through an Argo CD cluster
    Secret, and the reconciler's RSS is also read once all are Synced,
  * diff throughput of one Application with M resources (cold: server-side dry runs; warm: cached), and the
    size of its stored object (status included).

    .venv/bin/python benchmarks/gitops_bench.py                       # full sizes (1000 apps, 3000 resources)
    .venv/bin/python benchmarks/gitops_bench.py --apps 50 --resources 300 --iterations 5   # quick
    .venv/bin/python benchmarks/gitops_bench.py --clusters 2 --only many      # 1000 apps over two clusters
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rollouts.api.application import Application  # noqa: E402
from rollouts.gitops.compare import Comparer  # noqa: E402
from rollouts.gitops.live import LiveState  # noqa: E402
from rollouts.gitops.sources import Sources  # noqa: E402
from rollouts.kube.client import KubeClient  # noqa: E402
from rollouts.kube.errors import NotFound  # noqa: E402
from rollouts.kube.resources import APPLICATION, CONFIGMAP, NAMESPACE, SECRET  # noqa: E402
from tests.conftest import SecondPlane  # noqa: E402
from tests.support.controller import install_crds  # noqa: E402
from tests.unit.gitops.gitrepo import GitRepo  # noqa: E402

KUBECONFIG = REPO / ".cluster" / "kubeconfig"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def cm(name: str, value: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"key": value}}


IN_CLUSTER = {"server": "https://kubernetes.default.svc"}
SECOND = {"name": "second"}  # the cluster Secret's name for the second plane


def app_body(name: str, repo: GitRepo, path: str, namespace: str, automated: dict[str, Any],
             cluster: dict[str, str] = IN_CLUSTER) -> dict[str, Any]:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": name},
            "spec": {"project": "default", "source": {"repoURL": repo.url, "path": path},
                     "destination": {**cluster, "namespace": namespace},
                     "syncPolicy": {"automated": automated}}}


async def add_second_cluster(kube: KubeClient, ns: str) -> KubeClient:
    """Start (or reuse) the second plane, create the same namespace there and an Argo CD cluster Secret for it
    in the reconciler's namespace; returns a client on the second plane."""
    plane = SecondPlane()
    if not plane.running():
        plane.up()
    second = await KubeClient.connect(str(plane.kubeconfig))
    await second.create(NAMESPACE, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    config = {"bearerToken": plane.token, "tlsClientConfig": {"caData": plane.ca_data}}
    await kube.create(SECRET, {"apiVersion": "v1", "kind": "Secret", "metadata": {
        "name": "cluster-second", "labels": {"argocd.argoproj.io/secret-type": "cluster"}},
        "stringData": {"name": SECOND["name"], "server": plane.server, "config": json.dumps(config)}}, ns)
    return second


class Sampler:
    """Peak RSS and CPU time of a process, sampled every 200 ms in a thread."""

    def __init__(self, pid: int) -> None:
        self.proc = psutil.Process(pid)
        self.peak_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak_rss = max(self.peak_rss, self.proc.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.2)

    def cpu_seconds(self) -> float:
        times = self.proc.cpu_times()
        return float(times.user + times.system)

    def stop(self) -> None:
        self._stop.set()


async def wait_for(probe: Callable[[], Awaitable[bool]], timeout: float, what: str) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if await probe():
                return time.monotonic() - start
        except NotFound:
            pass
        await asyncio.sleep(0.05)
    raise TimeoutError(f"{what}: not reached within {timeout:.0f}s")


def synced(app: dict[str, Any], revision: str) -> bool:
    status = app.get("status") or {}
    return ((status.get("sync") or {}).get("status") == "Synced" and status["sync"].get("revision") == revision
            and app.get("operation") is None)


class Reconciler:
    def __init__(self, namespace: str, *, poll: float, webhook_port: int, cache: Path, workers: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rollouts.gitops", "--kubeconfig", str(KUBECONFIG), "--namespace", namespace,
             "--poll-interval", str(poll), "--webhook-port", str(webhook_port), "--cache-dir", str(cache),
             "--workers", str(workers)],
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.sampler = Sampler(self.proc.pid)

    def stop(self) -> None:
        self.sampler.stop()
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


async def latency_runs(kube: KubeClient, ns: str, repo: GitRepo, *, iterations: int, webhook_port: int | None,
                       name: str) -> list[float]:
    await kube.create(APPLICATION, app_body(name, repo, name, ns, {}), ns)
    head = repo._git("rev-parse", "HEAD")
    await wait_for(lambda: _synced(kube, name, ns, head), 120, f"{name}: first sync")
    out = []
    async with aiohttp.ClientSession() as session:
        for i in range(iterations):
            repo.write(f"{name}/cm.yaml", cm(f"{name}-cm", f"v{i}"))
            sha = repo.commit(f"{name} {i}")
            start = time.monotonic()
            if webhook_port:
                body = json.dumps({"ref": "refs/heads/main", "repository": {"url": repo.url,
                                                                           "default_branch": "main"}})
                async with session.post(f"http://127.0.0.1:{webhook_port}/api/webhook", data=body,
                                        headers={"X-GitHub-Event": "push"}) as resp:
                    resp.raise_for_status()
            await wait_for(lambda s=sha: _synced(kube, name, ns, s), 600, f"{name}: commit {i}")  # type: ignore[misc]
            out.append(time.monotonic() - start)
    return out


async def _synced(kube: KubeClient, name: str, ns: str, sha: str) -> bool:
    return synced(await kube.get(APPLICATION, name, ns), sha)


async def drift_runs(kube: KubeClient, ns: str, repo: GitRepo, iterations: int) -> list[float]:
    await kube.create(APPLICATION, app_body("drift", repo, "drift", ns, {"selfHeal": True}), ns)
    head = repo._git("rev-parse", "HEAD")
    await wait_for(lambda: _synced(kube, "drift", ns, head), 120, "drift: first sync")
    out = []
    for i in range(iterations):
        if i:
            await asyncio.sleep(11)  # past the self-heal cool-down: each edit is a new drift, not a fight
        await kube.patch(CONFIGMAP, "drift-cm", {"data": {"key": f"edited-{i}"}}, ns)
        start = time.monotonic()

        async def restored() -> bool:
            return bool((await kube.get(CONFIGMAP, "drift-cm", ns))["data"]["key"] == "v")

        await wait_for(restored, 120, f"drift correction {i}")
        out.append(time.monotonic() - start)
        await wait_for(lambda: _synced(kube, "drift", ns, head), 120, "drift: Synced again")
    return out


def small_app_files(repo: GitRepo, count: int) -> None:
    for i in range(count):
        path = f"many/app-{i:04d}"
        repo.write(f"{path}/objects.yaml", [
            cm(f"a{i:04d}-one", "1"), cm(f"a{i:04d}-two", "2"),
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"a{i:04d}-secret"},
             "stringData": {"token": f"t{i}"}},
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": f"a{i:04d}-sa"}},
        ])


async def first_sync_many(kube: KubeClient, ns: str, repo: GitRepo, count: int, rec: Reconciler, *,
                          second: KubeClient | None) -> dict[str, Any]:
    """With a second cluster, odd-numbered Applications go to it (by its cluster Secret's name)."""
    clusters = 2 if second else 1
    head = repo._git("rev-parse", "HEAD")
    cpu_before = rec.sampler.cpu_seconds()
    start = time.monotonic()
    sem = asyncio.Semaphore(16)

    async def create(i: int) -> None:
        async with sem:
            cluster = SECOND if clusters == 2 and i % 2 else IN_CLUSTER
            body = app_body(f"many-{i:04d}", repo, f"many/app-{i:04d}", ns, {}, cluster)
            await kube.create(APPLICATION, body, ns)

    await asyncio.gather(*(create(i) for i in range(count)))
    created = time.monotonic() - start

    async def all_synced() -> bool:
        apps, _ = await kube.list(APPLICATION, ns)
        done = sum(1 for a in apps if a["metadata"]["name"].startswith("many-") and synced(a, head))
        return done == count

    await wait_for(all_synced, 1800, f"{count} apps Synced")
    rss_synced = rec.sampler.proc.memory_info().rss
    for client, expected in ((kube, count - count // 2 * (clusters - 1)), (second, count // 2)):
        if client is not None:
            cms, _ = await client.list(CONFIGMAP, ns)
            landed = sum(1 for c in cms if c["metadata"]["name"].endswith("-one"))
            assert landed == expected, f"{landed} small apps' objects on a cluster, {expected} expected"
    return {"apps": count, "clusters": clusters, "objects": count * 4, "create_s": round(created, 1),
            "all_synced_s": round(time.monotonic() - start, 1),
            "reconciler_cpu_s": round(rec.sampler.cpu_seconds() - cpu_before, 1),
            "reconciler_peak_rss_mb": round(rec.sampler.peak_rss / 2**20, 1),
            "reconciler_rss_when_synced_mb": round(rss_synced / 2**20, 1)}


async def diff_throughput(kube: KubeClient, ns: str, repo: GitRepo, resources: int, tmp: Path) -> dict[str, Any]:
    head = repo._git("rev-parse", "HEAD")
    await kube.create(APPLICATION, app_body("big", repo, "big", ns, {}), ns)
    start = time.monotonic()
    await wait_for(lambda: _synced(kube, "big", ns, head), 1800, f"big app ({resources} resources) Synced")
    first_sync = time.monotonic() - start
    raw = await kube.get(APPLICATION, "big", ns)
    size = len(json.dumps(raw))
    app = Application.model_validate(raw)
    live = LiveState(kube, lambda _n: None)
    comparer = Comparer(kube, Sources(tmp / "diff-cache"), live, namespace=ns)
    try:
        t0 = time.monotonic()
        cold = await comparer.compare_app(app, fetch=True)
        cold_s = time.monotonic() - t0
        t0 = time.monotonic()
        warm = await comparer.compare_app(app, fetch=False)
        warm_s = time.monotonic() - t0
    finally:
        await live.close()
    assert cold.sync_status.value == "Synced" and warm.sync_status.value == "Synced", "big app not in sync"
    return {"resources": resources, "first_sync_s": round(first_sync, 1), "diff_cold_s": round(cold_s, 2),
            "diff_cold_per_s": round(resources / cold_s), "diff_warm_s": round(warm_s, 3),
            "diff_warm_per_s": round(resources / warm_s), "stored_object_kb": round(size / 1024, 1)}


async def one_app_runs(kube: KubeClient, ns: str, repo: GitRepo, args: argparse.Namespace, port: int,
                       tmp: Path) -> dict[str, Any]:
    """Latency (webhook, polling), drift correction and diff throughput: one Application each, in-cluster."""
    results: dict[str, Any] = {}
    hook = await latency_runs(kube, ns, repo, iterations=args.iterations, webhook_port=port, name="webhook")
    results["commit_to_synced_webhook"] = {"n": len(hook), "p50_s": round(statistics.median(hook), 2),
                                           "p95_s": round(pct(hook, 0.95), 2), "max_s": round(max(hook), 2)}
    print(json.dumps(results["commit_to_synced_webhook"]), flush=True)
    polls = await latency_runs(kube, ns, repo, iterations=max(3, args.iterations // 4), webhook_port=None,
                               name="polling")
    results["commit_to_synced_polling"] = {"poll_interval_s": args.poll_interval, "n": len(polls),
                                           "p50_s": round(statistics.median(polls), 2),
                                           "p95_s": round(pct(polls, 0.95), 2)}
    print(json.dumps(results["commit_to_synced_polling"]), flush=True)
    drift = await drift_runs(kube, ns, repo, max(3, args.iterations // 2))
    results["drift_correction"] = {"n": len(drift), "p50_s": round(statistics.median(drift), 2),
                                   "p95_s": round(pct(drift, 0.95), 2), "max_s": round(max(drift), 2)}
    print(json.dumps(results["drift_correction"]), flush=True)
    # The big app goes before the many: measured after the thousand apps it would also measure their polling.
    results["diff_throughput"] = await diff_throughput(kube, ns, repo, args.resources, tmp)
    print(json.dumps(results["diff_throughput"]), flush=True)
    return results


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--apps", type=int, default=1000)
    parser.add_argument("--resources", type=int, default=3000)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--poll-interval", type=float, default=10.0)
    parser.add_argument("--clusters", type=int, choices=(1, 2), default=1,
                        help="2: the many small Applications alternate between this plane and the second one")
    parser.add_argument("--workers", type=int, default=8, help="the reconciler's --workers")
    parser.add_argument("--only", choices=("many",), help="many: only the first sync of --apps Applications")
    args = parser.parse_args()
    kube = await KubeClient.connect(str(KUBECONFIG))
    await install_crds(kube)
    tmp = Path(tempfile.mkdtemp(prefix="gitops-bench-"))
    ns = f"gitops-bench-{uuid.uuid4().hex[:5]}"
    await kube.create(NAMESPACE, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    second = await add_second_cluster(kube, ns) if args.clusters == 2 else None
    repo = GitRepo(tmp / "git")
    for name in ("webhook", "polling"):
        repo.write(f"{name}/cm.yaml", cm(f"{name}-cm", "start"))
    repo.write("drift/cm.yaml", cm("drift-cm", "v"))
    repo.write("big/objects.yaml", [cm(f"big-{i:05d}", str(i)) for i in range(args.resources)])
    small_app_files(repo, args.apps)
    repo.commit("bench fixtures")
    results: dict[str, Any] = {}
    port = free_port()
    rec = Reconciler(ns, poll=args.poll_interval, webhook_port=port, cache=tmp / "cache", workers=args.workers)
    try:
        await asyncio.sleep(1)
        if args.only is None:
            results.update(await one_app_runs(kube, ns, repo, args, port, tmp))
        results["first_sync_many"] = await first_sync_many(kube, ns, repo, args.apps, rec, second=second)
        print(json.dumps(results["first_sync_many"]), flush=True)
    finally:
        rec.stop()
        for client in (kube, second):
            if client is not None:
                with contextlib.suppress(NotFound):
                    await client.delete(NAMESPACE, ns)
                await client.close()
    print(json.dumps(results, indent=2))
    return 0

if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
