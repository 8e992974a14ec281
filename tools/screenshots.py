"""`make screenshots`: the dashboard's pages in headless Chromium, written to docs/dashboard/*.png.

    .venv/bin/python tools/screenshots.py [--out docs/dashboard] [--dark] [PAGE ...]

PAGE is one of rollouts, rollout, analysis, applications, application (default: all).

The dashboard server runs here on a fixed set of example objects put straight into its caches (what its watches
fill from a cluster): two namespaces of Rollouts (a canary paused at 20 % behind NGINX, a red canary aborted by
the statistical judge, a blue-green, ...), their ReplicaSets and pods, the canary Ingress the NGINX router
builds for the weight, and Argo CD-style Applications. So the pictures are reproducible, need no cluster, and
show every page the way a user sees it; the page code is the product's, unchanged.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import shutil
import socket
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from rollouts.api.validation import parse_rollout
from rollouts.cli.dashboard.hub import Hub
from rollouts.cli.dashboard.server import Settings, make_app
from rollouts.traffic.registry import routers_for
from rollouts.traffic.router import ApplyObject

Obj = dict[str, Any]
STARTED = datetime.now(UTC)


def ago(minutes: float) -> str:
    """A time `minutes` before the run: the page computes ages and countdowns from the browser's clock, so the
    example objects are dated relative to now and every run shows the same ages."""
    return (STARTED - timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def rollout(ns: str, name: str, *, image: str, steps: list[Obj] | None, status: Obj, replicas: int = 4,
            routing: Obj | None = None, bluegreen: bool = False) -> Obj:
    strategy: Obj = ({"blueGreen": {"activeService": f"{name}-active", "previewService": f"{name}-preview"}}
                     if bluegreen else {"canary": {"steps": steps or [], "canaryService": f"{name}-canary",
                                                   "stableService": f"{name}-stable",
                                                   **({"trafficRouting": routing} if routing else {})}})
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": name, "namespace": ns, "uid": f"{ns}-{name}", "generation": 3,
                         "resourceVersion": "10", "creationTimestamp": ago(2 * 24 * 60 + 180)},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "app", "image": image}]}},
                     "strategy": strategy},
            "status": {"observedGeneration": "3", **status}}


def family(ro: Obj, sets: list[tuple[str, int, str, int]]) -> list[tuple[str, Obj]]:
    """(pod hash, revision, image, pods) per ReplicaSet -> the ReplicaSets and their Ready pods."""
    meta, out = ro["metadata"], []
    for pod_hash, revision, image, count in sets:
        name = f"{meta['name']}-{pod_hash}"
        labels = {"app": meta["name"], "rollouts-pod-template-hash": pod_hash}
        out.append(("replicasets", {"kind": "ReplicaSet", "metadata": {
            "name": name, "namespace": meta["namespace"], "uid": f"{meta['uid']}-{pod_hash}", "generation": 1,
            "resourceVersion": "5", "labels": labels, "creationTimestamp": ago(20),
            "annotations": {"rollout.argoproj.io/revision": str(revision)},
            "ownerReferences": [{"uid": meta["uid"], "controller": True, "kind": "Rollout", "name": meta["name"]}]},
            "spec": {"replicas": count, "template": {"metadata": {"labels": labels},
                                                     "spec": {"containers": [{"name": "app", "image": image}]}}},
            "status": {"observedGeneration": 1, "replicas": count, "readyReplicas": count,
                       "availableReplicas": count}}))
        for i in range(count):
            out.append(("pods", {"kind": "Pod", "metadata": {
                "name": f"{name}-{'abcdefgh'[i]}x{i}q", "namespace": meta["namespace"],
                "uid": f"{meta['uid']}-{pod_hash}-{i}", "labels": labels, "resourceVersion": "5",
                "creationTimestamp": ago(19),
                "ownerReferences": [{"uid": f"{meta['uid']}-{pod_hash}", "controller": True}]},
                "spec": {"containers": [{"name": "app"}], "restartPolicy": "Always"},
                "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
                           "containerStatuses": [{"ready": True, "restartCount": 0, "state": {"running": {}}}]}}))
    return out


def service(ns: str, name: str, app: str, pod_hash: str) -> Obj:
    return {"kind": "Service", "metadata": {"name": name, "namespace": ns, "resourceVersion": "3"},
            "spec": {"selector": {"app": app, "rollouts-pod-template-hash": pod_hash}}}


def judge_run(ns: str, ro: Obj, revision: int) -> Obj:
    """A judge AnalysisRun that failed a red canary: latency and error rate per 30 s interval."""
    measurements = []
    for n, (phase, score) in enumerate([("Successful", 92.5), ("Inconclusive", 61.0), ("Failed", 18.0)], start=1):
        intervals = 8 * n
        control = [round(100 + 4 * ((i * 7) % 5 - 2), 1) for i in range(intervals)]
        canary = [round(c * (1.0 + 0.02 * min(i, 12)), 1) for i, c in enumerate(control)]
        series = {"latency": {"start": ago(15), "step": 30.0, "control": control,
                              "canary": canary},
                  "errors": {"start": ago(15), "step": 30.0,
                             "control": [float(i % 3 == 0) for i in range(intervals)],
                             "canary": [float(2 + i % 4) for i in range(intervals)],
                             "controlTotal": [300.0] * intervals, "canaryTotal": [100.0] * intervals}}
        labels = {"latency": "Pass" if n == 1 else "High", "errors": "Pass" if n < 3 else "High"}
        measurements.append({"phase": phase, "startedAt": ago(11 - 4 * n), "finishedAt": ago(11 - 4 * n),
                             "value": json.dumps({"score": score, "metrics": labels, "series": series}),
                             "message": "canary worse than control: errors High (x3.1), latency High (x1.21)"
                             if phase == "Failed" else "not enough evidence yet" if n == 2 else "no difference"})
    meta = ro["metadata"]
    return {"kind": "AnalysisRun", "metadata": {
        "name": f"{meta['name']}-red-{revision}", "namespace": ns, "uid": f"{meta['uid']}-ar",
        "resourceVersion": "9", "creationTimestamp": ago(15),
        "annotations": {"rollout.argoproj.io/revision": str(revision)},
        "ownerReferences": [{"uid": meta["uid"], "controller": True, "kind": "Rollout", "name": meta["name"]}]},
        "status": {"phase": "Failed", "message": "Metric \"judge\" assessed Failed",
                   "metricResults": [{"name": "judge", "phase": "Failed", "successful": 1, "inconclusive": 1,
                                      "failed": 1, "measurements": measurements}]}}


def application(name: str, ns: str, *, health: str, sync: str, message: str, resources: list[Obj],
                history: int = 3) -> Obj:
    shas = [hashlib.sha1(f"{name}-{i}".encode()).hexdigest() for i in range(history, 0, -1)]
    return {"kind": "Application", "metadata": {"name": name, "namespace": "argocd", "resourceVersion": "4",
                                                "labels": {"team": "shop" if ns == "shop" else "platform"}},
            "spec": {"project": "default" if ns == "shop" else "payments",
                     "source": {"repoURL": f"https://git.example.com/{name}.git", "path": "deploy",
                                "targetRevision": "main"},
                     "destination": {"server": "https://kubernetes.default.svc", "namespace": ns}},
            "status": {"sync": {"status": sync, "revision": shas[0], "revisionMetadata": {
                "author": "Ana Lima <ana@example.com>", "date": ago(16), "message": message}},
                "health": {"status": health}, "operationState": {"phase": "Succeeded",
                                                                 "message": "successfully synced (all tasks run)"},
                "resources": [{**r, "status": sync, "health": {"status": health}} for r in resources],
                "history": [{"id": i, "revision": sha, "deployedAt": ago((history - i) * 24 * 60 + 16),
                             "revisionMetadata": {"author": "Ana Lima <ana@example.com>",
                                                  "message": f"release {i}"}}
                            for i, sha in enumerate(reversed(shas), start=1)]}}


def fill(hub: Hub) -> None:
    put = lambda plural, obj: hub.informers[plural].upsert(obj)  # noqa: E731
    web_ro = rollout("shop", "web", image="example/app:green",
                     steps=[{"setWeight": 20}, {"pause": {}}, {"setWeight": 60}, {"pause": {"duration": "5m"}}],
                     routing={"nginx": {"stableIngress": "web"}},
                     status={"phase": "Paused", "message": "CanaryPauseStep", "currentStepIndex": 1,
                             "stableRS": "7d9f", "currentPodHash": "5c4b", "replicas": 5, "readyReplicas": 5,
                             "availableReplicas": 5, "updatedReplicas": 1,
                             "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": ago(10)}],
                             "canary": {"weights": {"canary": {"weight": 20}, "stable": {"weight": 80}}}})
    api_ro = rollout("payments", "api", image="example/app:red",
                     steps=[{"setWeight": 25}, {"analysis": {"templates": [{"templateName": "judge"}]}},
                            {"setWeight": 75}],
                     status={"phase": "Degraded", "message": "RolloutAborted: Rollout aborted update to revision 3",
                             "abort": True, "currentStepIndex": 0, "stableRS": "6a1e", "currentPodHash": "9b2c",
                             "replicas": 4, "readyReplicas": 4, "availableReplicas": 4, "updatedReplicas": 0})
    cart = rollout("shop", "cart", image="example/cart:1.4", steps=[{"setWeight": 50}, {"pause": {}}],
                   status={"phase": "Healthy", "currentStepIndex": 2, "stableRS": "3f3f", "currentPodHash": "3f3f",
                           "replicas": 3, "readyReplicas": 3, "availableReplicas": 3, "updatedReplicas": 3}, replicas=3)
    ledger = rollout("payments", "ledger", image="example/ledger:2.0", steps=None, bluegreen=True,
                     status={"phase": "Healthy", "stableRS": "8e8e", "currentPodHash": "8e8e", "replicas": 2,
                             "readyReplicas": 2, "availableReplicas": 2, "updatedReplicas": 2,
                             "blueGreen": {"activeSelector": "8e8e"}}, replicas=2)
    families = {"web": [("7d9f", 1, "example/app:blue", 4), ("5c4b", 2, "example/app:green", 1)],
                "api": [("6a1e", 2, "example/app:green", 4), ("9b2c", 3, "example/app:red", 0)],
                "cart": [("3f3f", 4, "example/cart:1.4", 3)], "ledger": [("8e8e", 7, "example/ledger:2.0", 2)]}
    for ro in (web_ro, api_ro, cart, ledger):
        put("rollouts", ro)
        for plural, obj in family(ro, families[ro["metadata"]["name"]]):
            put(plural, obj)
    put("analysisruns", judge_run("payments", api_ro, 3))
    for svc in (service("shop", "web-stable", "web", "7d9f"), service("shop", "web-canary", "web", "5c4b")):
        put("services", svc)
    stable_ingress = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {
        "name": "web", "namespace": "shop", "resourceVersion": "7"}, "spec": {"rules": [{
            "host": "shop.example.com", "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {
                "service": {"name": "web-stable", "port": {"number": 80}}}}]}}]}}
    put("ingresses", stable_ingress)
    typed, _ = parse_rollout(web_ro)
    assert typed is not None
    [router] = routers_for(typed)
    for change in router.desired_changes(20, [], {router.references()[0]: stable_ingress}):
        if isinstance(change, ApplyObject):
            put("ingresses", dict(change.obj))  # the canary Ingress exactly as the NGINX router builds it
    put("events", {"kind": "Event", "metadata": {"name": "web.1", "namespace": "shop"},
                   "involvedObject": {"kind": "Rollout", "name": "web"}, "type": "Normal",
                   "reason": "RolloutPaused", "message": "Rollout is paused (CanaryPauseStep)",
                   "lastTimestamp": ago(10), "count": 1})
    put("events", {"kind": "Event", "metadata": {"name": "api.1", "namespace": "payments"},
                   "involvedObject": {"kind": "Rollout", "name": "api"}, "type": "Warning",
                   "reason": "RolloutAborted", "message": "Rollout aborted update to revision 3: Metric \"judge\" "
                   "assessed Failed", "lastTimestamp": ago(2), "count": 1})
    shop = [{"kind": "Rollout", "group": "argoproj.io", "version": "v1alpha1", "namespace": "shop", "name": "web"},
            {"kind": "Service", "version": "v1", "namespace": "shop", "name": "web-stable"},
            {"kind": "Service", "version": "v1", "namespace": "shop", "name": "web-canary"},
            {"kind": "Ingress", "group": "networking.k8s.io", "version": "v1", "namespace": "shop", "name": "web"}]
    put("applications", application("shop", "shop", health="Suspended", sync="Synced",
                                    message="web: green, the new checkout", resources=shop))
    put("applications", application("payments", "payments", health="Degraded", sync="Synced",
                                    message="api: red (slower, more errors)", resources=[
                                        {"kind": "Rollout", "group": "argoproj.io", "version": "v1alpha1",
                                         "namespace": "payments", "name": "api"}]))
    for name, health, sync in (("cart", "Healthy", "Synced"), ("ledger", "Healthy", "OutOfSync"),
                               ("docs", "Progressing", "Synced"), ("search", "Missing", "OutOfSync")):
        put("applications", application(name, "shop", health=health, sync=sync, message=f"{name}: tidy up",
                                        resources=[]))


PAGES = {"rollouts": "#/rollouts", "rollout": "#/rollouts/shop/web", "analysis": "#/rollouts/payments/api",
         "applications": "#/applications", "application": "#/applications/argocd/shop"}


def shoot(base: str, out: Path, *, dark: bool, pages: list[str]) -> list[Path]:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver_path:
        raise SystemExit("chromium and chromedriver are needed (testbed/system-deps.sh installs them)")
    options = Options()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,900", "--hide-scrollbars", "--lang=en-US",
                *(["--force-dark-mode", "--blink-settings=preferredColorScheme=0"] if dark else [])):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    written = []
    try:
        driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": "UTC"})
        for name in pages:
            fragment = PAGES[name]
            driver.get("about:blank")
            driver.get(base + "/" + fragment)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not driver.execute_script(
                    "return document.querySelector('main h1') !== null && !document.querySelector('main .loading')"):
                time.sleep(0.1)
            time.sleep(0.5)  # the event stream's first change redraws once more
            height = driver.execute_script("return Math.min(document.body.scrollHeight, 2400)")
            driver.set_window_size(1280, max(600, int(height)))
            time.sleep(0.3)
            path = out / f"{name}{'-dark' if dark else ''}.png"
            driver.save_screenshot(str(path))
            driver.set_window_size(1280, 900)
            written.append(path)
    finally:
        driver.quit()
    return written


async def main(args: argparse.Namespace) -> None:
    hub = Hub(client=None, namespace=None)  # type: ignore[arg-type]  # filled directly, never watched
    fill(hub)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    runner = web.AppRunner(make_app(hub, None, Settings(address="127.0.0.1", port=port)))  # type: ignore[arg-type]
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        out = Path(args.out)
        await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
        for path in await asyncio.to_thread(shoot, f"http://127.0.0.1:{port}", out, dark=args.dark,
                                            pages=args.pages or list(PAGES)):
            print(path)
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="docs/dashboard")
    parser.add_argument("--dark", action="store_true", help="the dark colour scheme")
    parser.add_argument("pages", nargs="*", metavar="PAGE", help="which pages (default: all)")
    parsed = parser.parse_args()
    unknown = sorted(set(parsed.pages) - set(PAGES))
    if unknown:
        parser.error(f"unknown page(s) {', '.join(unknown)}; one of {', '.join(PAGES)}")
    asyncio.run(main(parsed))
