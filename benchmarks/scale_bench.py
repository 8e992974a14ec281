"""Scale benchmark on the real control plane: N canary Rollouts updated at once, ours against Argo's controller.

The workload (issue 22): N Rollouts of 2 replicas, canary steps ``setWeight 20, pause {}``, created and left
to become Healthy; then every image is bumped at once (32 concurrent writers) and the clock runs until every
Rollout is Paused at step 1 (its canary ReplicaSet ready: both controllers only reach the pause once the
setWeight step's replica counts are available); then every Rollout is promoted at once (the status patch
both plugins send, ``{"status":{"pauseConditions":null}}``) and the clock runs until every Rollout is
Healthy on the new revision. Each controller runs as its own process, limited to the benchmark's namespace
(ours: ``--namespace``; Argo's: ``--namespaced --namespace``), with its own CRDs installed (as the
conformance kit's run.sh does). The two controllers run alternately (ours, Argo, then Argo, ours, ...), so
both see the same machine load on average; the ratios ours/Argo are what to read on a shared machine.

Figures per run:
  * step1_s: from the first image write until all N are Paused at step 1,
  * promote_s: from the first promote write until all N are Healthy on the new revision,
  * cpu_s: the controller's CPU seconds (user + system, its child processes included) from the bump to Healthy,
  * peak_rss_mb: the controller's peak resident memory over the whole run (sampled every 200 ms),
  * requests: API requests the controller made from the bump to Healthy, from its
    ``controller_clientset_k8s_request_total`` counter (both controllers export it, with the same labels),
  * load: the machine's 1-minute load average at the start and end of the run.

    .venv/bin/python benchmarks/scale_bench.py --rollouts 100 1000 --repeat 1
    .venv/bin/python benchmarks/scale_bench.py --rollouts 1000 --controllers ours --profile .cluster/profile

``--profile DIR`` attaches py-spy to our controller from the bump to Healthy (``py-spy record --nonblocking``,
100 samples/s) and writes the collapsed stacks (``*.folded``: what flame graph tools and speedscope read)
and the top entries, self and inclusive (``*.top.txt``), to DIR. Argo's binary comes from the conformance kit (``~/.cache/rollouts-conformance/bin``,
``ARGO_BIN``); its CRDs from the Argo module it unpacked (``ARGO_SRC``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import yaml
from prometheus_client.parser import text_string_to_metric_families

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rollouts.kube.client import KubeClient  # noqa: E402
from rollouts.kube.errors import NotFound  # noqa: E402
from rollouts.kube.informer import Informer  # noqa: E402
from rollouts.kube.resources import CRD, NAMESPACE, ROLLOUT  # noqa: E402

CONFORMANCE = Path.home() / ".cache" / "rollouts-conformance"
ARGO_BIN = Path(os.environ.get("ARGO_BIN", CONFORMANCE / "bin"))
ARGO_SRC = Path(os.environ.get("ARGO_SRC", CONFORMANCE / "argo-rollouts"))
# The testbed slot's ports (/work/wt/<name>.env, or the defaults of a lone checkout).
OUR_METRICS_PORT = int(os.environ.get("ROLLOUTS_METRICS_PORT") or os.environ.get("METRICS_PORT") or 18090)
ARGO_METRICS_PORT = int(os.environ.get("ARGO_METRICS_PORT") or 18091)
ARGO_HEALTHZ_PORT = int(os.environ.get("ARGO_HEALTHZ_PORT") or 18081)
CRD_NAMES = ("rollouts.argoproj.io", "analysistemplates.argoproj.io", "clusteranalysistemplates.argoproj.io",
             "analysisruns.argoproj.io", "experiments.argoproj.io")
WRITERS = 32
TIMEOUT = 900.0


def rollout(name: str, image: str) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": name},
        "spec": {
            "replicas": 2, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                         "spec": {"containers": [{"name": "app", "image": image}]}},
            "strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {}}]}},
        },
    }


def _status(r: dict[str, Any]) -> dict[str, Any]:
    return r.get("status") or {}


def _current(r: dict[str, Any]) -> bool:
    return str(_status(r).get("observedGeneration") or "") == str(r["metadata"].get("generation"))


def is_healthy(r: dict[str, Any]) -> bool:
    s = _status(r)
    return _current(r) and s.get("phase") == "Healthy" and bool(s.get("stableRS")) \
        and s.get("stableRS") == s.get("currentPodHash")


def is_paused_at_step_1(r: dict[str, Any]) -> bool:
    s = _status(r)
    return _current(r) and s.get("phase") == "Paused" and s.get("currentStepIndex") == 1 \
        and bool(s.get("pauseConditions")) and s.get("stableRS") != s.get("currentPodHash")


# -- the two controllers ---------------------------------------------------------------------------------


@dataclass
class Side:
    name: str
    crd_files: Callable[[], list[Path]]
    command: Callable[[str, str], list[str]]
    metrics_port: int
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path = REPO


def ours(flags: list[str], src: Path = REPO) -> Side:
    def command(kubeconfig: str, ns: str) -> list[str]:
        return [sys.executable, "-m", "rollouts.cli.admin", "controller", f"--kubeconfig={kubeconfig}",
                f"--namespace={ns}", f"--metrics-port={OUR_METRICS_PORT}", "--healthz-port=0",
                "--bind-address=127.0.0.1", "--log-level=warning", "--disable-applications", *flags]

    # `python -m` from src puts that checkout first on sys.path: another commit's controller, same venv.
    return Side("ours", lambda: sorted((src / "crds").glob("*.yaml")), command, OUR_METRICS_PORT, cwd=src)


def argo_binary() -> Path | None:
    for name in ("rollouts-controller-loopback", "rollouts-controller"):
        if (ARGO_BIN / name).is_file() and os.access(ARGO_BIN / name, os.X_OK):
            return ARGO_BIN / name
    return None


def argo(flags: list[str]) -> Side:
    binary = argo_binary()
    if binary is None:
        raise SystemExit(f"Argo's controller is not built: no rollouts-controller(-loopback) in {ARGO_BIN} "
                         "(run ../shared/conformance/argo-e2e/prepare.sh, or pass --controllers ours)")

    def command(kubeconfig: str, ns: str) -> list[str]:
        return [str(binary), "--kubeconfig", kubeconfig, "--namespaced", "--namespace", ns,
                "--leader-elect=false", "--metricsPort", str(ARGO_METRICS_PORT),
                "--healthzPort", str(ARGO_HEALTHZ_PORT), "--loglevel", "warn", *flags]

    return Side("argo", lambda: sorted((ARGO_SRC / "manifests" / "crds").glob("*-crd.yaml")), command,
                ARGO_METRICS_PORT, env={"POD_NAMESPACE": "argo-rollouts"})


# -- cluster helpers --------------------------------------------------------------------------------------


async def install_crds(client: KubeClient, side: Side, state: dict[str, str]) -> None:
    """The side's own CRDs, the other side's removed first (neither runs on the other's schema)."""
    if state.get("crds") == side.name:
        return
    for name in CRD_NAMES:
        try:
            await client.delete(CRD, name)
        except NotFound:
            continue
        for _ in range(240):
            if await client.get_or_none(CRD, name) is None:
                break
            await asyncio.sleep(0.5)
    for path in side.crd_files():
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") == "CustomResourceDefinition":
                await client.apply(CRD, doc, field_manager="scale-bench")
    client.forget_discovery()
    deadline = time.monotonic() + 120
    while True:
        try:
            await client.list(ROLLOUT, "default", limit=1)
            break
        except NotFound:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)
    state["crds"] = side.name


async def delete_namespace(client: KubeClient, ns: str) -> None:
    try:
        await client.delete(NAMESPACE, ns)
    except NotFound:
        return
    deadline = time.monotonic() + TIMEOUT
    while await client.get_or_none(NAMESPACE, ns) is not None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"namespace {ns} still terminating after {TIMEOUT:.0f}s")
        await asyncio.sleep(1)


async def gather_limited(coros: list[Any], limit: int = WRITERS) -> None:
    sem = asyncio.Semaphore(limit)

    async def one(c: Any) -> None:
        async with sem:
            await c

    await asyncio.gather(*(one(c) for c in coros))


async def wait_all(informer: Informer, n: int, check: Callable[[dict[str, Any]], bool], what: str,
                   proc: subprocess.Popen[bytes]) -> None:
    """Poll the benchmark's own watch cache (no API reads) until all n Rollouts pass ``check``."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        items = list(informer.items())
        done = sum(1 for r in items if check(r))
        if len(items) == n and done == n:
            return
        if proc.poll() is not None:
            raise RuntimeError(f"the controller exited ({proc.returncode}) while waiting for {what}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{done} of {n} Rollouts {what} after {TIMEOUT:.0f}s")
        await asyncio.sleep(0.1)


def scrape_requests(port: int) -> Counter[str]:
    """controller_clientset_k8s_request_total summed by verb."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    out: Counter[str] = Counter()
    for family in text_string_to_metric_families(text):
        if family.name != "controller_clientset_k8s_request":
            continue
        for sample in family.samples:
            if sample.name.endswith("_total"):
                out[sample.labels.get("verb", "")] += int(sample.value)
    return out


async def wait_metrics(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            scrape_requests(port)
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the controller's /metrics on :{port} never answered") from None
            await asyncio.sleep(0.5)


class Usage:
    """CPU seconds and peak RSS of a process and its children, sampled every 200 ms."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.peak = 0
        self._task = asyncio.create_task(self._sample())

    def _tree(self) -> list[psutil.Process]:
        try:
            return [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return []

    def cpu(self) -> float:
        total = 0.0
        for p in self._tree():
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                continue
        return total

    async def _sample(self) -> None:
        while True:
            rss = 0
            for p in self._tree():
                try:
                    rss += p.memory_info().rss
                except psutil.Error:
                    continue
            self.peak = max(self.peak, rss)
            await asyncio.sleep(0.2)

    async def stop(self) -> None:
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass


def start_controller(side: Side, kubeconfig: str, ns: str, n: int) -> tuple[subprocess.Popen[bytes], Any]:
    log_path = REPO / ".cluster" / "logs" / f"bench-{side.name}-{n}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("wb")
    proc = subprocess.Popen(side.command(kubeconfig, ns), stdout=log, stderr=subprocess.STDOUT, cwd=side.cwd,
                            env={**os.environ, **side.env})
    return proc, log


# -- one run ---------------------------------------------------------------------------------------------


async def run_once(client: KubeClient, side: Side, n: int, kubeconfig: str, crd_state: dict[str, str],
                   profile: Path | None) -> dict[str, Any]:
    ns = f"bench-scale-{side.name}-{n}"
    await delete_namespace(client, ns)
    await install_crds(client, side, crd_state)
    if side.name == "argo" and await client.get_or_none(NAMESPACE, "argo-rollouts") is None:
        await client.create(NAMESPACE, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "argo-rollouts"}})
    await client.create(NAMESPACE, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    load_start = os.getloadavg()[0]
    await gather_limited([client.create(ROLLOUT, rollout(f"r{i}", "app:1"), ns) for i in range(n)])
    watch = Informer(client, ROLLOUT, namespace=ns)
    watching = asyncio.create_task(watch.run())
    await watch.synced.wait()
    proc, log = start_controller(side, kubeconfig, ns, n)
    usage = Usage(proc.pid)
    spy: subprocess.Popen[bytes] | None = None
    try:
        started = time.monotonic()
        await wait_all(watch, n, is_healthy, "Healthy at first", proc)
        initial = time.monotonic() - started
        await wait_metrics(side.metrics_port, proc)
        requests_before = scrape_requests(side.metrics_port)
        if profile is not None:
            spy = start_profiler(proc.pid, profile / f"{side.name}-{n}")
        cpu_before = usage.cpu()
        t0 = time.monotonic()
        await gather_limited([client.patch(ROLLOUT, f"r{i}", {"spec": {"template": {"spec": {"containers": [
            {"name": "app", "image": "app:2"}]}}}}, ns) for i in range(n)])
        await wait_all(watch, n, is_paused_at_step_1, "Paused at step 1", proc)
        step1 = time.monotonic() - t0
        t1 = time.monotonic()
        await gather_limited([client.patch(ROLLOUT, f"r{i}", {"status": {"pauseConditions": None}}, ns,
                                           subresource="status") for i in range(n)])
        await wait_all(watch, n, is_healthy, "Healthy after promote", proc)
        promote = time.monotonic() - t1
        cpu = usage.cpu() - cpu_before
        if spy is not None:
            stop_profiler(spy, profile / f"{side.name}-{n}")  # type: ignore[operator]  # profile is set
            spy = None
        requests = scrape_requests(side.metrics_port) - requests_before
    finally:
        if spy is not None:
            spy.kill()
        await usage.stop()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)
        await delete_namespace(client, ns)
    return {
        "controller": side.name, "rollouts": n, "initial_healthy_s": round(initial, 1),
        "step1_s": round(step1, 1), "promote_s": round(promote, 1), "cpu_s": round(cpu, 1),
        "peak_rss_mb": round(usage.peak / 2**20, 1), "requests": sum(requests.values()),
        "requests_by_verb": dict(sorted(requests.items())),
        "load_start": round(load_start, 1), "load_end": round(os.getloadavg()[0], 1),
    }


# -- profiling (ours) --------------------------------------------------------------------------------------


def start_profiler(pid: int, prefix: Path) -> subprocess.Popen[bytes]:
    spy = Path(sys.executable).parent / "py-spy"
    if not spy.exists():
        raise SystemExit("--profile needs py-spy in the venv (pip install -e '.[dev]')")
    prefix.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([str(spy), "record", "--pid", str(pid), "--rate", "100", "--nonblocking",
                             "--format", "raw", "--output", f"{prefix}.folded"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_profiler(spy: subprocess.Popen[bytes], prefix: Path) -> None:
    spy.send_signal(signal.SIGINT)
    spy.wait(60)
    folded = Path(f"{prefix}.folded")
    stacks = [(line.rsplit(" ", 1)[0].split(";"), int(line.rsplit(" ", 1)[1]))
              for line in folded.read_text().splitlines() if line.strip()]
    Path(f"{prefix}.top.txt").write_text(top_entries(stacks))


def top_entries(stacks: list[tuple[list[str], int]], limit: int = 25) -> str:
    """Self and inclusive sample shares per function (a flame graph's widest leaves and frames)."""
    total = sum(count for _, count in stacks) or 1
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for frames, count in stacks:
        own[_frame(frames[-1])] += count
        for name in {_frame(f) for f in frames}:
            inclusive[name] += count
    lines = [f"{total} samples", "", "self %   function"]
    lines += [f"{100 * c / total:6.1f}   {name}" for name, c in own.most_common(limit)]
    lines += ["", "inclusive %   function"]
    lines += [f"{100 * c / total:6.1f}   {name}" for name, c in inclusive.most_common(limit)]
    return "\n".join(lines) + "\n"


def _frame(frame: str) -> str:
    """``func (path/to/module.py:123)`` -> ``func (module.py)``: one entry per function, not per line."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/rollouts/", "/lib/python"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{name} ({path})" if path else name


# -- the report ---------------------------------------------------------------------------------------------

FIGURES = ("step1_s", "promote_s", "cpu_s", "peak_rss_mb", "requests")


def ratio_table(results: list[dict[str, Any]]) -> str:
    """Median of each figure per controller and size, and ours/Argo."""
    rows = ["| N | figure | ours | argo | ours / argo |", "|---|---|---|---|---|"]
    for n in sorted({r["rollouts"] for r in results}):
        by = {side: [r for r in results if r["rollouts"] == n and r["controller"] == side] for side in ("ours", "argo")}
        for fig in FIGURES:
            med = {side: statistics.median(r[fig] for r in runs) if runs else None for side, runs in by.items()}
            ratio = (f"{med['ours'] / med['argo']:.2f}" if med["ours"] is not None and med["argo"] else "-")
            rows.append(f"| {n} | {fig} | {_fmt(med['ours'])} | {_fmt(med['argo'])} | {ratio} |")
    loads = [r[k] for r in results for k in ("load_start", "load_end")]
    rows.append(f"\nload average (1 min) during the runs: {min(loads):.1f}-{max(loads):.1f}")
    return "\n".join(rows)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


async def main_async(args: argparse.Namespace) -> list[dict[str, Any]]:
    sides = {"ours": lambda: ours(shlex.split(args.ours_flags), args.ours_src), "argo": lambda: argo(shlex.split(args.argo_flags))}
    chosen = [sides[name]() for name in args.controllers]
    client = await KubeClient.connect(args.kubeconfig)
    results: list[dict[str, Any]] = []
    crd_state: dict[str, str] = {}
    try:
        for n in args.rollouts:
            for rep in range(args.repeat):
                order = chosen if rep % 2 == 0 else list(reversed(chosen))
                for side in order:
                    result = await run_once(client, side, n, args.kubeconfig, crd_state,
                                            args.profile if side.name == "ours" else None)
                    result["flags"] = args.ours_flags if side.name == "ours" else args.argo_flags
                    print(json.dumps(result), flush=True)
                    results.append(result)
    finally:
        if crd_state.get("crds") not in (None, "ours"):
            await install_crds(client, ours([]), crd_state)  # leave the testbed with the project's CRDs
        await client.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rollouts", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--repeat", type=int, default=1, help="runs per controller and size (alternating order)")
    parser.add_argument("--controllers", nargs="+", choices=("ours", "argo"), default=["ours", "argo"])
    parser.add_argument("--ours-flags", default="--workers 32", help="extra flags of `rollouts controller`")
    parser.add_argument("--argo-flags", default="--qps 1000 --burst 2000", help="extra flags of Argo's controller")
    parser.add_argument("--ours-src", type=Path, default=REPO,
                        help="run our controller from this checkout (a worktree of another commit: before/after)")
    parser.add_argument("--kubeconfig", default=str(REPO / ".cluster" / "kubeconfig"))
    parser.add_argument("--profile", type=Path, help="py-spy our controller from the bump to Healthy into DIR")
    args = parser.parse_args()
    results = asyncio.run(main_async(args))
    print(ratio_table(results), flush=True)


if __name__ == "__main__":
    main()
