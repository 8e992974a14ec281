"""Leader failover: how long after the leader is stopped does the standby act? 10 SIGKILLs and 10 SIGTERMs.

Each repetition starts two `rollouts controller --leader-elect` processes (default lease timings unless
--lease-duration etc. are given) on the testbed cluster, waits until one leads and the other stands by with
warm caches, then stops the leader (SIGKILL; or SIGTERM, then waits until the leader has given the Lease up,
so that it cannot act on the change itself) and changes the Rollout's image. "Acting" is the first Event written by the standby (its identity is the Event's reportingInstance),
seen by polling every 50 ms; the figure is that time minus the moment the signal was sent.

    .venv/bin/python benchmarks/failover_bench.py [--repetitions 10]

Prints one JSON line per repetition and a summary line per signal (median and max seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rollouts.kube.client import KubeClient  # noqa: E402
from rollouts.kube.errors import AlreadyExists  # noqa: E402
from rollouts.kube.resources import EVENT, LEASE, NAMESPACE, ROLLOUT  # noqa: E402

KUBECONFIG = REPO / ".cluster" / "kubeconfig"


def start(identity: str, namespace: str, lease: str, log: Path, extra: list[str]) -> subprocess.Popen[bytes]:
    out = open(log, "ab")  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, "-m", "rollouts.cli.admin", "controller", f"--kubeconfig={KUBECONFIG}",
         f"--namespace={namespace}", "--leader-elect", f"--lease-name={lease}", f"--lease-namespace={namespace}",
         f"--identity={identity}", "--metrics-port=0", "--healthz-port=0", "--disable-applications", *extra],
        stdout=out, stderr=subprocess.STDOUT, cwd=REPO, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        start_new_session=True)


async def until(probe: Any, what: str, timeout: float = 60.0, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(interval)


async def one(kube: KubeClient, namespace: str, rep: int, sig: signal.Signals, logs: Path, extra: list[str]
              ) -> float:
    lease = f"bench-{sig.name.lower()}-{rep}"
    first, second = f"a{rep}-{uuid.uuid4().hex[:4]}", f"b{rep}-{uuid.uuid4().hex[:4]}"
    a = start(first, namespace, lease, logs / f"{lease}-a.log", extra)
    b: subprocess.Popen[bytes] | None = None
    try:
        async def holder() -> str:
            try:
                return str((await kube.get(LEASE, lease, namespace))["spec"].get("holderIdentity") or "")
            except Exception:
                return ""

        await until(lambda: _eq(holder(), first), "the first replica to lead")
        b = start(second, namespace, lease, logs / f"{lease}-b.log", extra)
        blog = logs / f"{lease}-b.log"
        await until(lambda: _logged(blog, "standing by with warm caches"), "the standby's caches")
        os.killpg(a.pid, sig)
        stopped = time.monotonic()
        if sig == signal.SIGTERM:  # the leader stops its workers before it releases the Lease
            await until(lambda: _not(holder(), first), "the leader to release the lease after SIGTERM", timeout=30)
        image = f"example/app:{sig.name.lower()}-{rep}"
        await kube.patch(ROLLOUT, "failover", {"spec": {"template": {"spec": {"containers": [
            {"name": "app", "image": image}]}}}}, namespace)

        async def acted() -> bool:
            events, _ = await kube.list(EVENT, namespace)
            return any(e.get("reportingInstance") == second for e in events)

        await until(acted, "the standby to act", timeout=60)
        return time.monotonic() - stopped
    finally:
        for proc in (a, b):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


async def _eq(value: Any, expected: str) -> bool:
    return (await value) == expected


async def _not(value: Any, unexpected: str) -> bool:
    return (await value) != unexpected


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


async def _logged(path: Path, line: str) -> bool:
    return line in await asyncio.to_thread(_read, path)


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repetitions", type=int, default=10)
    parser.add_argument("--signals", default="SIGKILL,SIGTERM")
    parser.add_argument("extra", nargs="*", help="extra controller flags, e.g. --leader-election-lease-duration=15s")
    args = parser.parse_args()
    namespace = f"bench-failover-{uuid.uuid4().hex[:6]}"
    kube = await KubeClient.connect(str(KUBECONFIG))
    logs = Path(tempfile.mkdtemp(prefix="failover-bench-"))
    try:
        await kube.create(NAMESPACE, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        try:
            await kube.create(ROLLOUT, {
                "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "failover"},
                "spec": {"replicas": 1, "revisionHistoryLimit": 2, "selector": {"matchLabels": {"app": "failover"}},
                         "template": {"metadata": {"labels": {"app": "failover"}},
                                      "spec": {"containers": [{"name": "app", "image": "example/app:start"}]}},
                         "strategy": {"canary": {"steps": []}}}}, namespace)
        except AlreadyExists:
            pass
        for name in args.signals.split(","):
            sig = signal.Signals[name]
            times = []
            for rep in range(args.repetitions):
                seconds = await one(kube, namespace, rep, sig, logs, args.extra)
                times.append(seconds)
                print(json.dumps({"signal": name, "repetition": rep, "seconds_to_act": round(seconds, 2)}),
                      flush=True)
            print(json.dumps({"signal": name, "repetitions": len(times), "median_s": round(statistics.median(times), 2),
                              "max_s": round(max(times), 2), "min_s": round(min(times), 2),
                              "load_average": os.getloadavg()[0], "extra_flags": args.extra}), flush=True)
    finally:
        try:
            await kube.delete(NAMESPACE, namespace)
        finally:
            await kube.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
