"""The demo app's request metrics: a stand-in for the pods, since pods on kwok's fake nodes serve nothing.

    python examples/demo/exporter.py --kubeconfig .cluster/kubeconfig --namespace demo --port 9110

Why it exists: the analysis must judge real Prometheus data, but the demo's pods run on fake nodes and
no ingress controller runs. So this process plays two parts, both driven only by live API objects:

* **ingress-nginx's traffic split.** Every tick it reads the routing objects the Rollout controller
  writes: the canary Ingress' ``nginx.ingress.kubernetes.io/canary-weight`` (``<rollout>-<ingress>-canary``;
  no canary Ingress means weight 0), and the ``rollouts-pod-template-hash`` in the stable and canary
  Services' selectors. ``weight``% of the simulated requests go to the canary Service, the rest to the
  stable Service, exactly as nginx would route them. So the canary's share of traffic is what the
  controller set, not what the demo expects; when the controller aborts and sets the weight back to 0,
  the canary stops receiving requests at once.
* **the pods answering.** A Service's requests are spread over its *ready* pods (watched through the API);
  each pod answers with the behaviour of its image tag (``demo-app:red`` fails 6% of requests and is
  slower; ``blue`` and ``green`` fail about 0.5%). A Service with no ready endpoint answers 503, as nginx
  would. Nothing here knows which step the Rollout is at or what the analysis expects.
* **ingress-nginx's status writes.** Like ingress-nginx, it publishes the address it serves on
  (``status.loadBalancer.ingress: [{ip: 127.0.0.1}]``) on the namespace's Ingresses of class ``nginx``;
  Argo CD's health check (which the Application reconciler follows) calls an Ingress without an address
  Progressing, so without this the Application could never be Healthy.

Metrics (prometheus-client), labelled by pod-template hash and version (image tag):

    demo_http_requests_total{rollouts_pod_template_hash, version, code}
    demo_http_request_duration_seconds_bucket/_sum/_count{rollouts_pod_template_hash, version}
    demo_traffic_weight{service}            the weight the exporter applied (canary / stable share, %)
    demo_ready_pods{rollouts_pod_template_hash, version}

Randomness is seeded (``--seed``) so two runs see the same draws for the same routing.
Binds 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from rollouts.kube.client import KubeClient
from rollouts.kube.errors import ApiError
from rollouts.kube.informer import Informer
from rollouts.kube.resources import INGRESS, POD, SERVICE

HASH = "rollouts-pod-template-hash"
ANNOTATION_PREFIX = "nginx.ingress.kubernetes.io"
LATENCY_BUCKETS = (0.025, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1, 0.11, 0.12, 0.14, 0.16, 0.18, 0.2, 0.25, 0.3,
                   0.4, 0.5, 0.75, 1.0, 2.0)


@dataclass(frozen=True)
class Behaviour:
    """How a version answers: share of 5xx answers and the median latency (log-normal, sigma 0.25)."""

    error_rate: float
    median_latency: float


BEHAVIOURS = {
    "blue": Behaviour(error_rate=0.005, median_latency=0.080),
    "green": Behaviour(error_rate=0.005, median_latency=0.075),
    "red": Behaviour(error_rate=0.06, median_latency=0.120),
}
UNKNOWN = Behaviour(error_rate=0.005, median_latency=0.080)


def image_tag(pod: dict[str, Any]) -> str:
    containers = (pod.get("spec") or {}).get("containers") or [{}]
    image = str(containers[0].get("image") or "")
    return image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else "latest"


def is_ready(pod: dict[str, Any]) -> bool:
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def selects(selector: dict[str, str], pod: dict[str, Any]) -> bool:
    labels = (pod.get("metadata") or {}).get("labels") or {}
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def canary_weight(ingress: dict[str, Any] | None) -> int:
    """The weight nginx would apply: the canary Ingress' canary-weight when it says canary: "true"."""
    if ingress is None:
        return 0
    annotations = (ingress.get("metadata") or {}).get("annotations") or {}
    if annotations.get(f"{ANNOTATION_PREFIX}/canary") != "true":
        return 0
    try:
        return max(0, min(100, int(annotations.get(f"{ANNOTATION_PREFIX}/canary-weight", "0"))))
    except ValueError:
        return 0


class DemoApp:
    def __init__(self, client: KubeClient, *, namespace: str, rollout: str, ingress: str, stable_service: str,
                 canary_service: str, rps: float, seed: int) -> None:
        self.client = client
        self.namespace = namespace
        self.stable_service = stable_service
        self.canary_service = canary_service
        self.canary_ingress = f"{rollout}-{ingress}-canary"
        self.rps = rps
        self.rng = np.random.default_rng(seed)
        self.pods = Informer(client, POD, namespace=namespace)
        self.services = Informer(client, SERVICE, namespace=namespace)
        self.ingresses = Informer(client, INGRESS, namespace=namespace)
        self.registry = CollectorRegistry()
        labels = ["rollouts_pod_template_hash", "version"]
        self.requests = Counter("demo_http_requests", "Requests answered, by pod-template hash, version and code",
                                [*labels, "code"], registry=self.registry)
        self.latency = Histogram("demo_http_request_duration_seconds", "Request latency", labels,
                                 buckets=LATENCY_BUCKETS, registry=self.registry)
        self.weight = Gauge("demo_traffic_weight", "Share of requests routed to each Service (%)", ["service"],
                            registry=self.registry)
        self.ready = Gauge("demo_ready_pods", "Ready pods", labels, registry=self.registry)
        self._seen: set[tuple[str, str]] = set()

    async def run(self) -> None:
        informers = (self.pods, self.services, self.ingresses)
        tasks = [asyncio.create_task(i.run()) for i in informers]
        try:
            await asyncio.gather(*(i.synced.wait() for i in informers))
            tick = 0.25
            loop = asyncio.get_running_loop()
            last = loop.time()
            while True:
                await asyncio.sleep(tick)
                now = loop.time()
                self.serve(now - last)
                last = now
                await self.publish_ingress_status()
        finally:
            for t in tasks:
                t.cancel()

    async def publish_ingress_status(self) -> None:
        """Write the load-balancer address on nginx-class Ingresses that lack it, as ingress-nginx does."""
        for ing in list(self.ingresses.items(self.namespace)):
            if (ing.get("spec") or {}).get("ingressClassName") != "nginx":
                continue
            if ((ing.get("status") or {}).get("loadBalancer") or {}).get("ingress"):
                continue
            with contextlib.suppress(ApiError):
                updated = await self.client.patch(INGRESS, ing["metadata"]["name"], {"status": {"loadBalancer": {
                    "ingress": [{"ip": "127.0.0.1"}]}}}, self.namespace, subresource="status",
                    field_manager="demo-ingress-nginx")
                self.ingresses.upsert(updated)

    def _selector(self, service: str) -> dict[str, str]:
        svc = self.services.get(self.namespace, service)
        return dict(((svc or {}).get("spec") or {}).get("selector") or {})

    def serve(self, seconds: float) -> None:
        """One tick: route this tick's requests as nginx would, and let the chosen pods answer them."""
        weight = canary_weight(self.ingresses.get(self.namespace, self.canary_ingress))
        self.weight.labels(self.canary_service).set(weight)
        self.weight.labels(self.stable_service).set(100 - weight)
        pods = list(self.pods.items(self.namespace))
        self._count_ready(pods)
        total = int(self.rng.poisson(self.rps * seconds))
        to_canary = int(self.rng.binomial(total, weight / 100.0)) if weight else 0
        for service, requests in ((self.canary_service, to_canary), (self.stable_service, total - to_canary)):
            if requests:
                self._answer(self._selector(service), pods, requests)

    def _count_ready(self, pods: list[dict[str, Any]]) -> None:
        counts: dict[tuple[str, str], int] = {}
        for pod in pods:
            pod_hash = ((pod.get("metadata") or {}).get("labels") or {}).get(HASH)
            if pod_hash and is_ready(pod):
                key = (pod_hash, image_tag(pod))
                counts[key] = counts.get(key, 0) + 1
        for key in self._seen | set(counts):
            self.ready.labels(*key).set(counts.get(key, 0))

    def _ensure_series(self, key: tuple[str, str]) -> None:
        """Create both codes' series at 0 the first time a hash answers, so error counts start at zero."""
        if key not in self._seen:
            self._seen.add(key)
            for code in ("200", "500"):
                self.requests.labels(*key, code).inc(0)

    def _answer(self, selector: dict[str, str], pods: list[dict[str, Any]], requests: int) -> None:
        endpoints = [p for p in pods if selects(selector, p) and is_ready(p)]
        if not endpoints:
            # nginx answers 503 when the Service has no ready endpoint; count it against the selected hash.
            key = (selector.get(HASH, "none"), "none")
            self._ensure_series(key)
            self.requests.labels(*key, "503").inc(requests)
            return
        shares = self.rng.multinomial(requests, [1.0 / len(endpoints)] * len(endpoints))
        for pod, n in zip(endpoints, shares, strict=True):
            if not n:
                continue
            version = image_tag(pod)
            key = (str(pod["metadata"]["labels"].get(HASH, "none")), version)
            self._ensure_series(key)
            behaviour = BEHAVIOURS.get(version, UNKNOWN)
            errors = int(self.rng.binomial(int(n), behaviour.error_rate))
            self.requests.labels(*key, "500").inc(errors)
            self.requests.labels(*key, "200").inc(int(n) - errors)
            histogram = self.latency.labels(*key)
            for value in self.rng.lognormal(np.log(behaviour.median_latency), 0.25, int(n)):
                histogram.observe(float(value))

    async def metrics(self, _: web.Request) -> web.Response:
        return web.Response(body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def main(args: argparse.Namespace) -> None:
    client = await KubeClient.connect(args.kubeconfig)
    app = DemoApp(client, namespace=args.namespace, rollout=args.rollout, ingress=args.ingress,
                  stable_service=args.stable_service, canary_service=args.canary_service, rps=args.rps,
                  seed=args.seed)
    web_app = web.Application()
    web_app.router.add_get("/metrics", app.metrics)
    runner = web.AppRunner(web_app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", args.port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    serving = asyncio.create_task(app.run())
    stopping = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if serving in done:
            serving.result()
    finally:
        serving.cancel()
        stopping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving
        await runner.cleanup()
        await client.close()


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Request metrics for the demo app's pods (see module docstring).")
    p.add_argument("--kubeconfig", required=True)
    p.add_argument("--namespace", default="demo")
    p.add_argument("--port", type=int, required=True, help="port on 127.0.0.1 serving /metrics")
    p.add_argument("--rollout", default="demo")
    p.add_argument("--ingress", default="demo", help="the stable Ingress named by the Rollout")
    p.add_argument("--stable-service", default="demo-stable")
    p.add_argument("--canary-service", default="demo-canary")
    p.add_argument("--rps", type=float, default=400.0, help="requests per second reaching the Ingress")
    p.add_argument("--seed", type=int, default=7)
    return p.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args(sys.argv[1:])))
