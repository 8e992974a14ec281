"""The demo's live narration: one line each time something the user cares about changes.

Why it exists: the story is told by the objects the real components write, so the demo only watches them
(informers on the Rollout, its ReplicaSets, Services, the canary Ingress, AnalysisRuns and the Application)
and prints a summary line when a summary changes: the Rollout's phase, step and weights, each analysis
measurement's verdict, the Application's sync and health. Versions are named by reading the image tag of
the ReplicaSet that carries each pod-template hash. Colour comes from rich, which honours NO_COLOR and
drops colour when the output is not a terminal.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.markup import escape

from rollouts.kube.client import KubeClient
from rollouts.kube.informer import Informer
from rollouts.kube.resources import ANALYSISRUN, APPLICATION, INGRESS, REPLICASET, ROLLOUT, SERVICE

HASH = "rollouts-pod-template-hash"
WEIGHT = "nginx.ingress.kubernetes.io/canary-weight"

Obj = dict[str, Any]


def image_tag(template: Obj) -> str:
    containers = (template.get("spec") or {}).get("containers") or [{}]
    image = str(containers[0].get("image") or "?")
    return image.rsplit(":", 1)[-1] if ":" in image else image


class Live:
    """Informers over the demo's objects plus `lines()`, the current summary of each subject."""

    def __init__(self, client: KubeClient, console: Console, *, namespace: str, applications_namespace: str,
                 rollout: str = "demo", application: str = "demo", ingress: str = "demo",
                 started: float | None = None) -> None:
        self.console = console
        self.namespace = namespace
        self.applications_namespace = applications_namespace
        self.rollout_name = rollout
        self.application_name = application
        self.canary_ingress = f"{rollout}-{ingress}-canary"
        self.changed = asyncio.Event()
        self.started = time.monotonic() if started is None else started
        self._printed: dict[str, str] = {}
        self.rollouts = Informer(client, ROLLOUT, namespace=namespace, handler=self._poke)
        self.replica_sets = Informer(client, REPLICASET, namespace=namespace, handler=self._poke)
        self.services = Informer(client, SERVICE, namespace=namespace, handler=self._poke)
        self.ingresses = Informer(client, INGRESS, namespace=namespace, handler=self._poke)
        self.runs = Informer(client, ANALYSISRUN, namespace=namespace, handler=self._poke)
        self.applications = Informer(client, APPLICATION, namespace=applications_namespace, handler=self._poke)
        self._informers = [self.rollouts, self.replica_sets, self.services, self.ingresses, self.runs,
                           self.applications]
        self._tasks: list[asyncio.Task[None]] = []

    def _poke(self, _type: str, _obj: Obj) -> None:
        self.changed.set()

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(i.run()) for i in self._informers]
        self._tasks.append(asyncio.create_task(self._print_loop()))
        await asyncio.gather(*(i.synced.wait() for i in self._informers))

    async def stop(self) -> None:
        self.refresh()
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # --- reads the story's waits use -------------------------------------------------------------

    def rollout(self) -> Obj | None:
        return self.rollouts.get(self.namespace, self.rollout_name)

    def application(self) -> Obj | None:
        return self.applications.get(self.applications_namespace, self.application_name)

    def version_of(self, pod_hash: str | None) -> str:
        if not pod_hash:
            return "-"
        for rs in self.replica_sets.items(self.namespace):
            if ((rs.get("metadata") or {}).get("labels") or {}).get(HASH) == pod_hash:
                return image_tag((rs.get("spec") or {}).get("template") or {})
        return pod_hash

    def service_hash(self, name: str) -> str | None:
        svc = self.services.get(self.namespace, name) or {}
        return ((svc.get("spec") or {}).get("selector") or {}).get(HASH)

    def canary_weight(self) -> int:
        ing = self.ingresses.get(self.namespace, self.canary_ingress)
        if ing is None:
            return 0
        try:
            return int(((ing.get("metadata") or {}).get("annotations") or {}).get(WEIGHT, "0"))
        except ValueError:
            return 0

    async def wait_for(self, what: str, check: Callable[[], bool], *, timeout: float) -> None:
        """Until `check()` holds on the watched objects; TimeoutError naming `what` otherwise."""
        deadline = time.monotonic() + timeout
        while not check():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
            self.changed.clear()
            if check():
                break
            try:
                await asyncio.wait_for(self._wait_change(), timeout=min(remaining, 1.0))
            except TimeoutError:
                pass

    async def _wait_change(self) -> None:
        await self.changed.wait()

    # --- the summary lines ---------------------------------------------------------------------

    async def _print_loop(self) -> None:
        while True:
            await asyncio.sleep(0.2)
            self.refresh()

    def refresh(self) -> None:
        for key, (text, style) in self.lines().items():
            if self._printed.get(key) != text:
                self._printed[key] = text
                self.say(key, text, style)

    def say(self, tag: str, text: str, style: str = "") -> None:
        elapsed = time.monotonic() - self.started
        label = f"[{style}]{tag:<9}[/{style}]" if style else f"{tag:<9}"
        self.console.print(f"[dim]{elapsed:6.1f}s[/dim] {label} {escape(text)}", highlight=False)

    def lines(self) -> dict[str, tuple[str, str]]:
        out: dict[str, tuple[str, str]] = {}
        ro = self.rollout()
        if ro is not None:
            out["rollout"] = (self._rollout_line(ro), _phase_style(str((ro.get("status") or {}).get("phase"))))
            out["traffic"] = (self._traffic_line(), "cyan")
        for run in sorted(self.runs.items(self.namespace), key=lambda r: r["metadata"].get("creationTimestamp", "")):
            line = self._run_line(run)
            if line is not None:
                out[f"analysis {run['metadata']['name']}"] = line
        app = self.application()
        if app is not None:
            out["app"] = self._app_line(app)
        return out

    def _rollout_line(self, ro: Obj) -> str:
        status = ro.get("status") or {}
        steps = ((ro.get("spec") or {}).get("strategy") or {}).get("canary", {}).get("steps") or []
        step = status.get("currentStepIndex")
        stable = status.get("stableRS") or (status.get("canary") or {}).get("stableRS")
        current = status.get("currentPodHash")
        parts = [f"{status.get('phase') or 'Pending'}"]
        if step is not None:
            parts.append(f"step {step}/{len(steps)}" + (f" ({_step_name(steps[step])})" if step < len(steps) else ""))
        parts.append(f"stable {self.version_of(stable)}")
        if current and current != stable:
            parts.append(f"canary {self.version_of(current)}")
        desired = (ro.get("spec") or {}).get("replicas", 1)
        parts.append(f"{desired} desired / {status.get('updatedReplicas', 0)} updated / "
                     f"{status.get('availableReplicas', 0)} available pods")
        if status.get("abort"):
            parts.append("ABORTED")
        text = ", ".join(parts)
        return text + (f" - {status['message']}" if status.get("message") else "")

    def _traffic_line(self) -> str:
        stable = self.service_hash(f"{self.rollout_name}-stable")
        canary = self.service_hash(f"{self.rollout_name}-canary")
        weight = self.canary_weight()
        text = f"ingress canary-weight {weight}%: {100 - weight}% -> {self.version_of(stable)}"
        if weight:
            text += f", {weight}% -> {self.version_of(canary)}"
        return text + (f" (services: stable selects {self.version_of(stable)}, canary selects "
                       f"{self.version_of(canary)})")

    def _run_line(self, run: Obj) -> tuple[str, str] | None:
        status = run.get("status") or {}
        phase = status.get("phase") or "Pending"
        args = {a.get("name"): a.get("value") for a in (run.get("spec") or {}).get("args") or []}
        versus = f"{self.version_of(args.get('canary-hash'))} vs {self.version_of(args.get('stable-hash'))}"
        parts = [f"{phase} ({versus})"]
        for metric in status.get("metricResults") or []:
            measurements = metric.get("measurements") or []
            if measurements:
                last = measurements[-1]
                why = f" - {last['message']}" if last.get("message") and last.get("phase") != "Successful" else ""
                parts.append(f"measurement {len(measurements)}: {last.get('phase')} "
                             f"{_judge_value(last.get('value'))}{why}")
        if status.get("message") and phase not in ("Running", "Pending"):
            parts.append(str(status["message"]))
        return "; ".join(parts), _phase_style(phase)

    def _app_line(self, app: Obj) -> tuple[str, str]:
        status = app.get("status") or {}
        sync = status.get("sync") or {}
        health = status.get("health") or {}
        op = status.get("operationState") or {}
        revision = str(sync.get("revision") or "")[:7] or "-"
        text = (f"sync {sync.get('status') or 'Unknown'} at {revision}, health {health.get('status') or 'Unknown'}"
                + (f" ({health['message']})" if health.get("message") else ""))
        if op.get("phase"):
            text += f", last operation {op['phase']}"
            if op.get("phase") not in ("Succeeded", "Running") and op.get("message"):
                text += f": {op['message']}"
        return text, _health_style(str(health.get("status")))


def _step_name(step: Obj) -> str:
    if "setWeight" in step:
        return f"setWeight {step['setWeight']}"
    if "pause" in step:
        duration = (step.get("pause") or {}).get("duration")
        return f"pause {duration}" if duration else "pause"
    if "analysis" in step:
        names = [t.get("templateName") for t in (step["analysis"] or {}).get("templates") or []]
        return f"analysis {', '.join(str(n) for n in names)}"
    return next(iter(step), "?")


def _judge_value(value: Any) -> str:
    """The judge's JSON summary ({"score":100,"metrics":{...}}) as `score 100 [error-rate Pass, ...]`."""
    if not value:
        return ""
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        return str(value)
    if not isinstance(parsed, dict):
        return str(value)
    metrics = ", ".join(f"{k} {v}" for k, v in (parsed.get("metrics") or {}).items())
    return f"score {parsed.get('score')} [{metrics}]"


def _phase_style(phase: str) -> str:
    return {"Healthy": "green", "Successful": "green", "Degraded": "red", "Failed": "red", "Error": "red",
            "Paused": "yellow", "Inconclusive": "yellow"}.get(phase, "blue")


def _health_style(health: str) -> str:
    return {"Healthy": "green", "Degraded": "red", "Suspended": "yellow", "Missing": "yellow"}.get(health, "blue")
