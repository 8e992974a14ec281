"""The dashboard with 1,000 Rollouts and 200 Applications: the JSON each page reads, the page drawn in headless
Chromium, and the memory the caches hold.

    .venv/bin/python benchmarks/dashboard_bench.py [--rollouts 1000] [--applications 200] [--runs 7]

The objects are made here and put straight into the dashboard's informer caches (the same caches a watch
fills), so the figure is the dashboard's own cost, not the API server's, and no shared machine is loaded with
thousands of objects. Each Rollout has two ReplicaSets and four pods (7,000 objects with the Rollouts). Prints
one JSON line per measurement: median and max seconds of `--runs` requests; in Chromium (when chromium and
chromedriver are installed), by the page's own clock, the time from navigation start until the list's JSON
was received and until the first page of 100 rows (or tiles) is drawn (the page load), and from choosing
"all" until all 1,000 rows are drawn, `--browser-runs` times; and the RSS before and after the caches were
filled.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import socket
import statistics
import time
from typing import Any

import psutil
from aiohttp import ClientSession, web

from rollouts.cli.dashboard.hub import Hub
from rollouts.cli.dashboard.server import Settings, make_app, warm_rollouts


def rollout(ns: str, i: int) -> dict[str, Any]:
    name = f"web-{i}"
    return {"kind": "Rollout", "metadata": {"name": name, "namespace": ns, "uid": f"{ns}-{name}", "generation": 2,
                                            "resourceVersion": str(i)},
            "spec": {"replicas": 4, "selector": {"matchLabels": {"app": name}},
                     "template": {"spec": {"containers": [{"name": "app", "image": "app:green"}]}},
                     "strategy": {"canary": {"steps": [{"setWeight": 25}, {"pause": {}}, {"setWeight": 75}]}}},
            "status": {"observedGeneration": "2", "phase": "Paused", "currentStepIndex": 1, "stableRS": "a",
                       "currentPodHash": "b", "replicas": 4, "readyReplicas": 4, "availableReplicas": 4}}


def family(ro: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    meta = ro["metadata"]
    out: list[tuple[str, dict[str, Any]]] = []
    for pod_hash, revision, count in (("a", 1, 3), ("b", 2, 1)):
        rs_name = f"{meta['name']}-{pod_hash}"
        out.append(("replicasets", {"kind": "ReplicaSet", "metadata": {
            "name": rs_name, "namespace": meta["namespace"], "uid": f"{meta['uid']}-{pod_hash}", "generation": 1,
            "labels": {"rollouts-pod-template-hash": pod_hash},
            "annotations": {"rollout.argoproj.io/revision": str(revision)},
            "ownerReferences": [{"uid": meta["uid"], "controller": True}]},
            "spec": {"replicas": count, "template": {"spec": {"containers": [{"name": "app", "image": f"app:{pod_hash}"}]}}},
            "status": {"observedGeneration": 1, "replicas": count, "availableReplicas": count}}))
        for p in range(count):
            out.append(("pods", {"kind": "Pod", "metadata": {
                "name": f"{rs_name}-{p}", "namespace": meta["namespace"], "uid": f"{meta['uid']}-{pod_hash}-{p}",
                "ownerReferences": [{"uid": f"{meta['uid']}-{pod_hash}", "controller": True}]},
                "spec": {"containers": [{"name": "app"}]},
                "status": {"phase": "Running", "containerStatuses": [{"ready": True, "state": {"running": {}}}]}}))
    return out


def application(i: int) -> dict[str, Any]:
    return {"kind": "Application", "metadata": {"name": f"app-{i}", "namespace": "argocd", "labels": {"team": str(i % 7)}},
            "spec": {"project": f"p{i % 5}", "source": {"repoURL": f"https://git.example/{i}.git", "path": "app"},
                     "destination": {"namespace": f"ns-{i % 10}"}},
            "status": {"sync": {"status": "Synced", "revision": "0" * 40,
                                "revisionMetadata": {"author": "a <a@x>", "date": "2026-01-01T00:00:00Z",
                                                     "message": f"change {i}"}},
                       "health": {"status": "Healthy"},
                       "resources": [{"kind": "Rollout", "group": "argoproj.io", "version": "v1alpha1",
                                      "namespace": f"ns-{i % 10}", "name": f"web-{i}", "status": "Synced",
                                      "health": {"status": "Healthy"}}]}}


def fill(hub: Hub, rollouts: int, applications: int) -> None:
    for i in range(rollouts):
        ro = rollout(f"ns-{i % 10}", i)
        hub.informers["rollouts"].upsert(ro)
        for plural, obj in family(ro):
            hub.informers[plural].upsert(obj)
    for i in range(applications):
        hub.informers["applications"].upsert(application(i))


async def timed(session: ClientSession, url: str, runs: int) -> dict[str, Any]:
    times, size = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        async with session.get(url) as response:
            body = await response.read()
            assert response.status == 200, (url, response.status, body[:200])
        times.append(time.perf_counter() - started)
        size = len(body)
    return {"median_s": round(statistics.median(times), 4), "max_s": round(max(times), 4), "bytes": size}


# Injected before the page's own script (DevTools' addScriptToEvaluateOnNewDocument): notes the page's clock
# (milliseconds since navigation started) when the page first holds `count` elements matching `selector`.
OBSERVER = """
window.__drawn = {};
new MutationObserver(() => {
  const [selector, count] = window.__want;
  if (!(count in window.__drawn) && document.querySelectorAll(selector).length >= count) window.__drawn[count] = performance.now();
}).observe(document, {childList: true, subtree: true});
"""


def chromium() -> Any | None:
    binary, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not binary or not driver_path:
        return None
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,1000"):
        options.add_argument(arg)
    return webdriver.Chrome(options=options, service=Service(driver_path))


def page_load(driver: Any, url: str, api: str, selector: str, count: int) -> dict[str, float]:
    """Load `url` in a fresh document; seconds (the page's clock, from navigation start) until its JSON from
    `api` was received and until `count` elements matching `selector` are drawn."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get("about:blank")
    script = driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",
                                    {"source": f"window.__want = {json.dumps([selector, count])};" + OBSERVER})
    try:
        driver.get(url)
        WebDriverWait(driver, 60, poll_frequency=0.05).until(
            lambda d: d.execute_script(f"return window.__drawn[{count}] !== undefined"))
        drawn, received = driver.execute_script(
            f"return [window.__drawn[{count}], performance.getEntriesByName({json.dumps(api)})[0].responseEnd]")
    finally:
        driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", script)
    return {"data_received_s": round(received / 1000, 3), "drawn_s": round(drawn / 1000, 3)}


def browser_times(base: str, rollouts: int, applications: int) -> list[dict[str, Any]] | None:
    """The Rollouts page (its first page of 100 rows; then every row, after choosing "all" in the pager) and
    the Applications page (its first 100 tiles), each in a fresh document."""
    from selenium.webdriver.support.select import Select
    from selenium.webdriver.support.ui import WebDriverWait

    driver = chromium()
    if driver is None:
        return None
    try:
        first = min(rollouts, 100)
        out: list[dict[str, Any]] = [{"page": "Rollouts", "drawn": f"{first} of {rollouts} rows", **page_load(
            driver, f"{base}/#/rollouts", f"{base}/api/rollouts", "main tbody tr", first)}]
        shown = driver.find_element("css selector", ".pager .range").text
        assert f"of {rollouts}" in shown, shown
        started = driver.execute_script(
            f"window.__want = ['main tbody tr', {rollouts}]; window.__drawn = {{}}; return performance.now()")
        Select(driver.find_element("css selector", "select[data-page-size=rollouts]")).select_by_visible_text("all")
        WebDriverWait(driver, 60, poll_frequency=0.05).until(
            lambda d: d.execute_script(f"return window.__drawn[{rollouts}] !== undefined"))
        every = driver.execute_script(f"return window.__drawn[{rollouts}]") - started
        out.append({"page": "Rollouts, 'all' chosen", "drawn": f"{rollouts} rows", "drawn_s": round(every / 1000, 3)})
        tiles = min(applications, 100)
        out.append({"page": "Applications", "drawn": f"{tiles} of {applications} tiles", **page_load(
            driver, f"{base}/#/applications", f"{base}/api/applications", "main article.tile", tiles)})
        return out
    finally:
        driver.quit()


async def main(args: argparse.Namespace) -> None:
    process = psutil.Process()
    before = process.memory_info().rss
    hub = Hub(client=None, namespace=None)  # type: ignore[arg-type]  # filled directly, never watched
    fill(hub, args.rollouts, args.applications)
    after = process.memory_info().rss
    objects = sum(len(i) for i in hub.informers.values())
    print(json.dumps({"measure": "rss", "objects": objects, "before_mb": round(before / 2**20, 1),
                      "after_mb": round(after / 2**20, 1)}), flush=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = make_app(hub, None, Settings(address="127.0.0.1", port=port))  # type: ignore[arg-type]
    for informer in hub.informers.values():
        informer.synced.set()  # what each informer's first list does
    started = time.perf_counter()
    await warm_rollouts(app)  # what the real process does once its caches are synced, before any page asks
    print(json.dumps({"measure": "Rollouts list computed at start (once the caches are synced)",
                      "seconds": round(time.perf_counter() - started, 3)}), flush=True)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    base = f"http://127.0.0.1:{port}"
    try:
        async with ClientSession() as session:
            for path in ("/", "/static/app.js", "/api/rollouts", "/api/applications", "/api/rollouts/ns-1/web-1",
                         "/api/applications/argocd/app-1"):
                print(json.dumps({"measure": "GET " + path, **await timed(session, base + path, args.runs)}),
                      flush=True)
        for _ in range(args.browser_runs):
            for figure in await asyncio.to_thread(browser_times, base, args.rollouts, args.applications) or []:
                print(json.dumps({"measure": "page in Chromium", **figure}), flush=True)
    finally:
        await runner.cleanup()
    print(json.dumps({"measure": "load average", "value": [round(x, 1) for x in psutil.getloadavg()]}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rollouts", type=int, default=1000)
    parser.add_argument("--applications", type=int, default=200)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--browser-runs", type=int, default=3, help="fresh Chromium page loads")
    asyncio.run(main(parser.parse_args()))
