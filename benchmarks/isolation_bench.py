"""What a hostile condition does to everything else in the controller: inline, in a thread, in a process.

Part 1, the mechanism (no cluster): an aiohttp /healthz in this process's event loop is polled by a separate
client process while a CPU-bound condition (issue 11's nested `all(...)` with the evaluator's step budget
lifted, so it runs for the whole window) is evaluated (a) on the event loop, (b) in a thread
(asyncio.to_thread, under the GIL), (c) in the ProcessSandbox. Reported: p50/p99/max /healthz latency and
the event loop's lag (how late a 10 ms sleep wakes up).

Part 2, end to end (the testbed cluster): a real `rollouts controller` process with a hostile AnalysisRun
(issue 11's condition over 150 numbers, 3.4 million predicate calls, re-measured every second) and a neighbour Rollout whose
`spec.paused` the benchmark toggles 20 times; reported: p50/p99/max of the neighbour's reconcile latency
(patch -> status.observedGeneration caught up) and of /healthz. `--controller-src DIR` runs the controller
from another checkout (e.g. a worktree of the commit before this work) for the "before" figures.

    .venv/bin/python benchmarks/isolation_bench.py [--part 1|2|both] [--controller-src DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

HOSTILE = "all(result,{all(result,{all(result,{# > 0})})})"
KUBECONFIG = REPO / ".cluster" / "kubeconfig"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"n": len(values), "p50_ms": round(statistics.median(ordered) * 1000, 1), "p99_ms": round(p99 * 1000, 1),
            "max_ms": round(ordered[-1] * 1000, 1)}


def hostile_for(seconds: float) -> int:
    """CPU-bound: the nested condition (no step budget) evaluated again and again for `seconds`."""
    from analysis.expr import argo

    started, rounds = time.monotonic(), 0
    items = [float(i) for i in range(1, 61)]
    while time.monotonic() - started < seconds:
        argo.eval_condition(items, HOSTILE, budget=10**12)
        rounds += 1
    return rounds


PROBE = r"""
import sys, time, urllib.request
url, seconds = sys.argv[1], float(sys.argv[2])
end = time.monotonic() + seconds
while time.monotonic() < end:
    t = time.monotonic()
    try:
        urllib.request.urlopen(url, timeout=30).read()
        print(time.monotonic() - t, flush=True)
    except Exception:
        print(30.0, flush=True)
    time.sleep(0.05)
"""


async def part1(window: float) -> list[dict[str, Any]]:
    from aiohttp import web

    from analysis.sandbox import ProcessSandbox

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    sandbox = ProcessSandbox(workers=1, deadline=window + 30)
    await sandbox.run(len, [1])  # start the worker before measuring
    results = []
    modes: dict[str, Callable[[], Any]] = {
        "idle": lambda: asyncio.sleep(window),
        "inline": lambda: _inline(window),
        "thread": lambda: asyncio.to_thread(hostile_for, window),
        "process": lambda: sandbox.run(hostile_for, window),
    }
    try:
        for mode, work in modes.items():
            lags: list[float] = []
            stop = asyncio.Event()

            async def ticker(lags: list[float] = lags, stop: asyncio.Event = stop) -> None:
                while not stop.is_set():
                    before = time.monotonic()
                    await asyncio.sleep(0.01)
                    lags.append(time.monotonic() - before - 0.01)

            probe = await asyncio.create_subprocess_exec(
                sys.executable, "-c", PROBE, f"http://127.0.0.1:{port}/healthz", str(window),
                stdout=asyncio.subprocess.PIPE)
            tick = asyncio.create_task(ticker())
            await asyncio.sleep(0.2)
            await work()
            stop.set()
            await tick
            out, _ = await probe.communicate()
            latencies = [float(line) for line in out.decode().split()]
            row = {"part": 1, "mode": mode, "healthz": percentiles(latencies), "loop_lag": percentiles(lags)}
            print(json.dumps(row), flush=True)
            results.append(row)
    finally:
        sandbox.close()
        await runner.cleanup()
    return results


async def _inline(window: float) -> None:
    hostile_for(window)


async def part2(controller_src: Path, toggles: int, items: int, hostile: bool = True) -> dict[str, Any]:
    from aiohttp import ClientSession, ClientTimeout, web

    from rollouts.kube.client import KubeClient
    from rollouts.kube.resources import ANALYSISRUN, NAMESPACE, ROLLOUT

    async def numbers(_: web.Request) -> web.Response:
        return web.json_response(list(range(1, items + 1)))

    app = web.Application()
    app.router.add_get("/numbers", numbers)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    web_port, healthz_port = free_port(), free_port()
    await web.TCPSite(runner, "127.0.0.1", web_port).start()
    kube = await KubeClient.connect(str(KUBECONFIG))
    namespace = f"bench-isolation-{uuid.uuid4().hex[:6]}"
    await kube.create(NAMESPACE, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    log = open(Path(tempfile.mkdtemp(prefix="isolation-bench-")) / "controller.log", "wb")  # noqa: SIM115, ASYNC230
    proc = subprocess.Popen(  # noqa: ASYNC220 - a long-lived child the benchmark kills by its group
        [sys.executable, "-m", "rollouts.cli.admin", "controller", f"--kubeconfig={KUBECONFIG}",
         f"--namespace={namespace}", f"--healthz-port={healthz_port}", "--metrics-port=0",
         "--bind-address=127.0.0.1", "--disable-applications"],
        cwd=controller_src, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(controller_src)})
    try:
        await kube.create(ROLLOUT, {
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "neighbour"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "neighbour"}},
                     "template": {"metadata": {"labels": {"app": "neighbour"}},
                                  "spec": {"containers": [{"name": "app", "image": "example/app:1"}]}},
                     "strategy": {"canary": {"steps": []}}}}, namespace)
        await _until(lambda: _healthy(kube, namespace), 90)
        if hostile:
            await kube.create(ANALYSISRUN, {
                "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisRun", "metadata": {"name": "hostile"},
                "spec": {"metrics": [{"name": "nested", "successCondition": HOSTILE, "interval": "1s",
                                      "consecutiveErrorLimit": -1, "failureLimit": -1,
                                      "provider": {"web": {"url": f"http://127.0.0.1:{web_port}/numbers"}}}]}},
                namespace)
            await asyncio.sleep(3)  # let the first hostile measurement start
        reconciles: list[float] = []
        probes: list[float] = []
        stop = asyncio.Event()

        async def poll_healthz() -> None:
            async with ClientSession(timeout=ClientTimeout(total=120)) as session:
                while not stop.is_set():
                    t = time.monotonic()
                    try:
                        async with session.get(f"http://127.0.0.1:{healthz_port}/healthz") as response:
                            await response.read()
                        probes.append(time.monotonic() - t)
                    except Exception:
                        probes.append(120.0)
                    await asyncio.sleep(0.1)

        poller = asyncio.create_task(poll_healthz())
        for i in range(toggles):
            t = time.monotonic()
            patched = await kube.patch(ROLLOUT, "neighbour", {"spec": {"paused": i % 2 == 0}}, namespace)
            generation = str(patched["metadata"]["generation"])
            await _until(lambda g=generation: _observed(kube, namespace, g), 300, interval=0.02)
            reconciles.append(time.monotonic() - t)
        stop.set()
        await poller
        row = {"part": 2, "controller": str(controller_src), "hostile": hostile, "neighbour_reconcile": percentiles(reconciles),
               "healthz": percentiles(probes), "load_average": os.getloadavg()[0]}
        print(json.dumps(row), flush=True)
        return row
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        log.close()
        await kube.delete(NAMESPACE, namespace)
        await kube.close()
        await runner.cleanup()


async def _until(probe: Callable[[], Any], timeout: float, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not await probe():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark precondition not reached")
        await asyncio.sleep(interval)


async def _healthy(kube: Any, namespace: str) -> bool:
    from rollouts.kube.resources import ROLLOUT

    ro = await kube.get(ROLLOUT, "neighbour", namespace)
    return bool((ro.get("status") or {}).get("phase") == "Healthy")


async def _observed(kube: Any, namespace: str, generation: str) -> bool:
    from rollouts.kube.resources import ROLLOUT

    ro = await kube.get(ROLLOUT, "neighbour", namespace)
    return bool((ro.get("status") or {}).get("observedGeneration") == generation)


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--part", choices=["1", "2", "both"], default="both")
    parser.add_argument("--window", type=float, default=8.0, help="seconds of hostile work per mode (part 1)")
    parser.add_argument("--toggles", type=int, default=20, help="neighbour reconciles measured (part 2)")
    parser.add_argument("--items", type=int, default=150,
                        help="length of the list the hostile condition iterates (part 2): 150 = 3.4 M predicate calls")
    parser.add_argument("--controller-src", type=Path, default=REPO)
    parser.add_argument("--no-hostile", action="store_true", help="part 2 without the hostile run (the baseline)")
    args = parser.parse_args()
    if args.part in ("1", "both"):
        await part1(args.window)
    if args.part in ("2", "both"):
        await part2(args.controller_src.resolve(), args.toggles, args.items, not args.no_hostile)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
