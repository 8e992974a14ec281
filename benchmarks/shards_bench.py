"""Sharding benchmark on the real control plane: scale_bench.py's workload, one controller or R sharded replicas.

N Rollouts (scale_bench.rollout: 2 replicas, `setWeight 20, pause {}`) are created and left to become Healthy,
then all N image updates are written at once and the clock runs until every Rollout is Paused at step 1. Each
configuration runs in a fresh namespace:

  * ``unsharded``: one ``rollouts controller`` (no --shards), the baseline;
  * ``R/S``: R processes with ``--shards S`` (dynamic), e.g. ``1/3`` (one replica holding all three shards:
    what the mechanism itself costs) and ``3/3`` (three replicas, one shard each).

Per configuration it prints the time to step 1, the CPU seconds of each process over the update (bump ->
all paused, psutil user+sys), their peak RSS, and how many reconciles each process ran over the update (the
count of its ``rollout_reconcile`` histogram), so the split of the work is visible.

    .venv/bin/python benchmarks/shards_bench.py --rollouts 1000 --configs unsharded 1/3 3/3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.scale_bench import gather_limited, rollout  # noqa: E402
from rollouts.kube.client import KubeClient  # noqa: E402
from rollouts.kube.errors import NotFound  # noqa: E402
from rollouts.kube.resources import LEASE, NAMESPACE, ROLLOUT  # noqa: E402
from rollouts.kube.shards import shard_lease_name  # noqa: E402
from tests.support.controller import install_crds  # noqa: E402

METRICS_PORT = int(os.environ.get("ROLLOUTS_METRICS_PORT") or 18190)
"""Replica i serves /metrics on METRICS_PORT + i (the testbed slot's port, so engineers' runs do not collide)."""
LOCK = "bench-lock"


def parse_config(text: str) -> tuple[int, int]:
    """``unsharded`` -> (1, 1); ``R/S`` -> (R replicas, S shards)."""
    if text == "unsharded":
        return 1, 1
    try:
        replicas, shards = (int(part) for part in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: a configuration is 'unsharded' or REPLICAS/SHARDS, e.g. 3/3") from None
    if replicas < 1 or shards < 2:
        raise argparse.ArgumentTypeError(f"{text!r}: at least 1 replica and 2 shards (or 'unsharded')")
    return replicas, shards


def reconciles(port: int) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("rollout_reconcile_count{"))


def start(i: int, kubeconfig: str, ns: str, shards: int, workers: int) -> tuple[subprocess.Popen[bytes], Any]:
    log = open(REPO / ".cluster" / "logs" / f"bench-shards-{ns}-{i}.log", "wb")  # noqa: SIM115
    sharding = [f"--shards={shards}", f"--lease-name={LOCK}", f"--lease-namespace={ns}"] if shards > 1 else []
    proc = subprocess.Popen(
        [sys.executable, "-m", "rollouts.cli.admin", "controller", f"--kubeconfig={kubeconfig}",
         f"--namespace={ns}", f"--metrics-port={METRICS_PORT + i}", "--healthz-port=0", "--bind-address=127.0.0.1",
         f"--workers={workers}", "--log-level=warning", "--disable-applications", "--disable-notifications",
         f"--identity=bench-{i}", *sharding],
        stdout=log, stderr=subprocess.STDOUT, cwd=REPO,
    )
    return proc, log


async def wait_all(client: KubeClient, ns: str, n: int, check: Any, timeout: float) -> float:
    """Seconds until all n Rollouts pass ``check`` (a list every second: the same cost for every configuration)."""
    start_at = time.monotonic()
    while time.monotonic() - start_at < timeout:
        items, _ = await client.list(ROLLOUT, ns)
        if len(items) == n and all(check(i) for i in items):
            return time.monotonic() - start_at
        await asyncio.sleep(1.0)
    raise TimeoutError(f"not all {n} rollouts reached the state within {timeout}s")


async def fresh_namespace(client: KubeClient, ns: str) -> None:
    try:
        await client.delete(NAMESPACE, ns)
        while True:
            await client.get(NAMESPACE, ns)
            await asyncio.sleep(1)
    except NotFound:
        pass
    await client.create(NAMESPACE, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})


async def spread(client: KubeClient, ns: str, replicas: int, shards: int, timeout: float = 120) -> None:
    """Wait until the shards are spread over the replicas (each holds its share), so the update is shared."""
    want = min(replicas, shards)
    start_at = time.monotonic()
    while time.monotonic() - start_at < timeout:
        holders = set()
        for k in range(shards):
            lease = await client.get_or_none(LEASE, shard_lease_name(LOCK, k), ns)
            holders.add(str(((lease or {}).get("spec") or {}).get("holderIdentity") or ""))
        if "" not in holders and len(holders) == want:
            return
        await asyncio.sleep(0.5)
    raise TimeoutError(f"the {shards} shards were not spread over {want} replicas within {timeout}s")


def sized(name: str, pods: int) -> dict[str, Any]:
    body = rollout(name, "app:1")
    body["spec"]["replicas"] = pods
    return body


async def run(n: int, kubeconfig: str, config: str, workers: int, pods: int) -> dict[str, Any]:
    replicas, shards = parse_config(config)
    client = await KubeClient.connect(kubeconfig)
    ns = f"bench-shards-{n}-{config.replace('/', 'of')}"
    procs: list[tuple[subprocess.Popen[bytes], Any]] = []
    try:
        await install_crds(client)
        await fresh_namespace(client, ns)
        await gather_limited([client.create(ROLLOUT, sized(f"r{i}", pods), ns) for i in range(n)])
        procs = [start(i, kubeconfig, ns, shards, workers) for i in range(replicas)]
        ps = [psutil.Process(p.pid) for p, _ in procs]
        peaks = [0] * replicas
        sampling = True

        async def sample() -> None:
            while sampling:
                for i, p in enumerate(ps):
                    try:
                        peaks[i] = max(peaks[i], p.memory_info().rss)
                    except psutil.Error:
                        pass
                await asyncio.sleep(0.2)

        sampler = asyncio.create_task(sample())
        try:
            if shards > 1:
                await spread(client, ns, replicas, shards)
            healthy = await wait_all(client, ns, n, lambda r: (r.get("status") or {}).get("phase") == "Healthy", 900)
            cpu_before = [sum(p.cpu_times()[:2]) for p in ps]
            counts_before = [reconciles(METRICS_PORT + i) for i in range(replicas)]
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
                and (r.get("status") or {}).get("currentStepIndex") == 1, 900,
            )
            cpu = [round(sum(p.cpu_times()[:2]) - before, 1) for p, before in zip(ps, cpu_before, strict=True)]
            counts = [int(reconciles(METRICS_PORT + i) - before) for i, before in enumerate(counts_before)]
        finally:
            sampling = False
            await sampler
        return {
            "rollouts": n, "pods_per_rollout": pods, "config": config, "replicas": replicas, "shards": shards, "workers": workers,
            "initial_healthy_s": round(healthy, 1),
            "all_paused_at_step_1_s": round(written + paused, 1),
            "cpu_s_per_replica": cpu, "cpu_s_total": round(sum(cpu), 1),
            "cpu_ms_per_rollout_total": round(1000 * sum(cpu) / n, 1),
            "peak_rss_mb_per_replica": [round(p / 2**20) for p in peaks],
            "reconciles_per_replica": counts,
        }
    finally:
        for proc, _log in procs:
            proc.terminate()
        for proc, log in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()
        try:
            await client.delete(NAMESPACE, ns)
        except NotFound:
            pass
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rollouts", type=int, nargs="+", default=[1000])
    parser.add_argument("--configs", nargs="+", default=["unsharded", "1/3", "3/3"],
                        help="'unsharded' or REPLICAS/SHARDS, run in this order")
    parser.add_argument("--workers", type=int, default=32, help="controller --workers (each replica)")
    parser.add_argument("--pod-replicas", type=int, default=2, help="spec.replicas of each Rollout (scale_bench: 2)")
    parser.add_argument("--kubeconfig", default=str(REPO / ".cluster" / "kubeconfig"))
    args = parser.parse_args()
    for config in args.configs:
        parse_config(config)
    for n in args.rollouts:
        for config in args.configs:
            print(json.dumps(asyncio.run(run(n, args.kubeconfig, config, args.workers, args.pod_replicas))), flush=True)


if __name__ == "__main__":
    main()
