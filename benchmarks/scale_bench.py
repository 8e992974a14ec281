"""Scale benchmark on the real control plane: N Rollouts updated at once.

Measures, for the controller running as its own process (`rollouts controller`):
  * time from the moment all N image updates are written until all N Rollouts are Paused at step 1,
  * reconcile latency p50/p99 (from the controller's own histogram),
  * controller CPU seconds and peak RSS (psutil, sampled every 200 ms),
  * API requests per completed step (the controller's request counters, delta over the update).

    .venv/bin/python benchmarks/scale_bench.py --rollouts 100 1000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rollouts.kube.client import KubeClient  # noqa: E402
from rollouts.kube.errors import NotFound  # noqa: E402
from rollouts.kube.resources import NAMESPACE, ROLLOUT  # noqa: E402
from tests.support.controller import install_crds  # noqa: E402

METRICS_PORT = 18090
WORKERS = 32


def rollout(name: str, image: str) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": name},
        "spec": {
            "replicas": 1, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                         "spec": {"containers": [{"name": "app", "image": image}]}},
            "strategy": {"canary": {"steps": [{"setWeight": 50}, {"pause": {}}]}},
        },
    }


def scrape() -> dict[str, Any]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{METRICS_PORT}/metrics", timeout=5).read().decode()
    requests: dict[str, float] = {}
    buckets: dict[float, float] = {}
    for line in text.splitlines():
        if line.startswith("controller_api_requests{"):
            verb = line.split('verb="')[1].split('"')[0]
            requests[verb] = float(line.rsplit(" ", 1)[1])
        elif line.startswith("rollout_reconcile_bucket{"):
            le = line.split('le="')[1].split('"')[0]
            bound = float("inf") if le == "+Inf" else float(le)
            buckets[bound] = buckets.get(bound, 0.0) + float(line.rsplit(" ", 1)[1])
    return {"requests": requests, "buckets": buckets}


def quantile(buckets: dict[float, float], q: float) -> float:
    """Upper bound of the histogram bucket holding quantile q (what Prometheus' histogram_quantile bounds)."""
    total = buckets.get(float("inf"), 0.0)
    if not total:
        return float("nan")
    for bound in sorted(buckets):
        if buckets[bound] >= q * total:
            return bound
    return float("inf")


async def gather_limited(coros: list[Any], limit: int = 32) -> None:
    sem = asyncio.Semaphore(limit)

    async def one(c: Any) -> None:
        async with sem:
            await c

    await asyncio.gather(*(one(c) for c in coros))


def start_controller(n: int, kubeconfig: str, ns: str) -> tuple[subprocess.Popen[bytes], Any]:
    log = open(REPO / ".cluster" / "logs" / f"bench-controller-{n}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "rollouts.cli.admin", "controller", f"--kubeconfig={kubeconfig}",
         f"--namespace={ns}", f"--metrics-port={METRICS_PORT}", "--healthz-port=0",
         "--bind-address=127.0.0.1", f"--workers={WORKERS}", "--log-level=warning", "--disable-applications"],
        stdout=log, stderr=subprocess.STDOUT, cwd=REPO,
    )
    return proc, log


async def wait_all(client: KubeClient, ns: str, n: int, check: Any, timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        items, _ = await client.list(ROLLOUT, ns)
        if len(items) == n and all(check(i) for i in items):
            return time.monotonic() - start
        await asyncio.sleep(0.5)
    raise TimeoutError(f"not all {n} rollouts reached the state within {timeout}s")


async def run(n: int, kubeconfig: str) -> dict[str, Any]:
    client = await KubeClient.connect(kubeconfig)
    ns = f"bench-scale-{n}"
    try:
        await install_crds(client)
        try:
            await client.delete(NAMESPACE, ns)
            while True:
                await client.get(NAMESPACE, ns)
                await asyncio.sleep(1)
        except NotFound:
            pass
        await client.create(NAMESPACE, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        await gather_limited([client.create(ROLLOUT, rollout(f"r{i}", "app:1"), ns) for i in range(n)])
        proc, log = start_controller(n, kubeconfig, ns)
        ps = psutil.Process(proc.pid)
        peak = 0
        sampling = True

        async def sample() -> None:
            nonlocal peak
            while sampling:
                try:
                    peak = max(peak, ps.memory_info().rss)
                except psutil.Error:
                    return
                await asyncio.sleep(0.2)

        sampler = asyncio.create_task(sample())
        try:
            healthy = await wait_all(client, ns, n, lambda r: (r.get("status") or {}).get("phase") == "Healthy", 600)
            before = scrape()
            cpu_before = sum(ps.cpu_times()[:2])
            t0 = time.monotonic()
            await gather_limited([
                client.patch(ROLLOUT, f"r{i}", {"spec": {"template": {"spec": {"containers": [
                    {"name": "app", "image": "app:2"}]}}}}, ns)
                for i in range(n)
            ])
            written = time.monotonic() - t0
            paused = await wait_all(
                client, ns, n,
                lambda r: (r.get("status") or {}).get("phase") == "Paused"
                and (r.get("status") or {}).get("currentStepIndex") == 1, 600,
            )
            cpu = sum(ps.cpu_times()[:2]) - cpu_before
            after = scrape()
        finally:
            sampling = False
            await sampler
            proc.terminate()
            proc.wait(20)
            log.close()
        delta_requests = sum(after["requests"].values()) - sum(before["requests"].values())
        delta_buckets = {b: after["buckets"].get(b, 0) - before["buckets"].get(b, 0) for b in after["buckets"]}
        return {
            "rollouts": n,
            "workers": WORKERS,
            "initial_healthy_s": round(healthy, 1),
            "updates_written_s": round(written, 1),
            "all_paused_at_step_1_s": round(written + paused, 1),
            "reconcile_p50_le_s": quantile(delta_buckets, 0.5),
            "reconcile_p99_le_s": quantile(delta_buckets, 0.99),
            "controller_cpu_s": round(cpu, 1),
            "controller_peak_rss_mb": round(peak / 2**20, 1),
            "api_requests_per_step": round(delta_requests / n, 1),
        }
    finally:
        try:
            await client.delete(NAMESPACE, ns)
        except NotFound:
            pass
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rollouts", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--kubeconfig", default=str(REPO / ".cluster" / "kubeconfig"))
    parser.add_argument("--workers", type=int, default=WORKERS, help="controller --workers")
    args = parser.parse_args()
    globals()["WORKERS"] = args.workers
    for n in args.rollouts:
        print(json.dumps(asyncio.run(run(n, args.kubeconfig))), flush=True)


if __name__ == "__main__":
    main()
