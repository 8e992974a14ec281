"""No piece of a secret reaches logs, events, status or the plugin's output.

A Secret-backed AnalysisTemplate argument is used three ways that used to leak part of it: echoed in a
measured value long enough to be cut inside the secret (the cut came before redaction), in a condition the
parser rejects (it quoted a token of the secret: "unknown name 'S3cr3t'"), and in a URL a provider error
quotes. Real controller processes (JSON logs, then text logs, both at debug level) run canaries whose
analysis steps use them; afterwards every 6-character piece of the secret is searched for in both logs,
every Event of the namespace, every AnalysisRun and Rollout, and `kubectl rollouts get rollout -o yaml` and
its tree view.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from rollouts.kube.client import KubeClient
from rollouts.kube.resources import ANALYSISRUN, ANALYSISTEMPLATE, EVENT, ROLLOUT, SECRET
from tests.integration.analysis.conftest import free_port
from tests.support.controller import controller_process
from tests.support.rollouts import canary_rollout, set_image, wait_phase

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]
TOKEN = "S3cr3t-Fragm3nt-9xQ"
PIECES = {TOKEN[i:i + 6] for i in range(len(TOKEN) - 5)}


class Seen:
    def __init__(self) -> None:
        self.authorized = 0


@pytest.fixture
async def echo_server() -> AsyncIterator[tuple[str, Seen]]:
    seen = Seen()

    async def echo(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"error": "forbidden"}, status=403)
        seen.authorized += 1
        # a value of 2,046 characters, cut at 2,045: the cut falls inside the echoed token
        return web.json_response({"echo": "x" * 2035 + TOKEN})

    app = web.Application()
    app.router.add_get("/echo", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        await runner.cleanup()


def _template(name: str, metrics: list[dict[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate", "metadata": {"name": name},
            "spec": {"args": [{"name": "token", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}}],
                     "metrics": metrics}}


def _rollout(name: str, template: str) -> dict[str, Any]:
    return canary_rollout(name, replicas=1, steps=[{"setWeight": 50},
                                                   {"analysis": {"templates": [{"templateName": template}]}}])


async def _exercise(kube: KubeClient, namespace: str, kubeconfig: Path, log: Path, fmt: str, prefix: str) -> None:
    names = [f"{prefix}-value", f"{prefix}-condition"]
    with controller_process(kubeconfig, f"--namespace={namespace}", "--log-level=debug", f"--log-format={fmt}",
                            log_path=log):
        await kube.create(ROLLOUT, _rollout(names[0], "value"), namespace)
        await kube.create(ROLLOUT, _rollout(names[1], "condition"), namespace)
        for name in names:
            await wait_phase(kube, namespace, name, "Healthy")
            await set_image(kube, namespace, name, "example/app:green")
        for name in names:
            await wait_phase(kube, namespace, name, "Degraded", timeout=90)


def _plugin(kubeconfig: Path, namespace: str, *args: str) -> str:
    res = subprocess.run([sys.executable, "-m", "rollouts.cli.main", f"--kubeconfig={kubeconfig}", "-n", namespace,
                          *args], capture_output=True, text=True, cwd=REPO, env={**os.environ, "COLUMNS": "250"},
                         check=False)
    assert res.returncode == 0, res.stderr
    return res.stdout + res.stderr


def _leaks(where: str, text: str) -> list[str]:
    return [f"{where}: {piece!r} near ...{text[max(0, text.find(piece) - 60):text.find(piece) + 20]!r}"
            for piece in sorted(PIECES) if piece in text]


async def test_no_six_character_piece_of_a_secret_is_written_anywhere(
    kube: KubeClient, namespace: str, kubeconfig: Path, crds: None, tmp_path: Path,
    echo_server: tuple[str, Seen],
) -> None:
    base, seen = echo_server
    await kube.create(SECRET, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "api"},
                               "data": {"token": base64.b64encode(TOKEN.encode()).decode()}}, namespace)
    auth = [{"key": "Authorization", "value": "Bearer {{args.token}}"}]
    await kube.create(ANALYSISTEMPLATE, _template("value", [
        # the measured value echoes the token past the 2,048-character cut
        {"name": "echo", "successCondition": "result == 'never'", "provider": {
            "web": {"url": f"{base}/echo", "headers": auth, "jsonPath": "{$.echo}"}}},
        # a provider error quoting a URL that holds the token
        {"name": "quoted", "consecutiveErrorLimit": 0, "provider": {
            "web": {"url": f"{base}/missing/{{{{args.token}}}}/x", "headers": auth}}},
    ]), namespace)
    await kube.create(ANALYSISTEMPLATE, _template("condition", [
        # a condition built from the token: the parser stops inside it
        {"name": "typo", "successCondition": "result == {{args.token}}", "provider": {
            "web": {"url": f"{base}/echo", "headers": auth}}},
    ]), namespace)
    logs = {"json": tmp_path / "controller-json.log", "text": tmp_path / "controller-text.log"}
    await _exercise(kube, namespace, kubeconfig, logs["json"], "json", "a")
    await _exercise(kube, namespace, kubeconfig, logs["text"], "text", "b")
    assert seen.authorized >= 2, "the secret must have been used (the server saw the right Authorization header)"

    runs, _ = await kube.list(ANALYSISRUN, namespace)
    assert len(runs) >= 4 and all((r.get("status") or {}).get("phase") in ("Error", "Failed") for r in runs), \
        [(r["metadata"]["name"], (r.get("status") or {}).get("phase")) for r in runs]
    statuses = json.dumps([r["status"] for r in runs])
    assert "*****" in statuses, "the redacted places must be visible as *****"
    assert "column" in statuses, "the condition error must say where it is"
    echoed = [m for r in runs for mr in r["status"].get("metricResults", []) if mr["name"] == "echo"
              for m in mr.get("measurements", [])]
    assert echoed and all(len(m.get("value", "")) <= 2048 for m in echoed)

    events, _ = await kube.list(EVENT, namespace)
    rollouts, _ = await kube.list(ROLLOUT, namespace)
    leaks: list[str] = []
    for fmt, path in logs.items():
        text = path.read_text()
        assert "debug" in text, f"the {fmt} log must be at debug level"
        leaks += _leaks(f"{fmt} log", text)
    leaks += _leaks("events", yaml.safe_dump(events))
    leaks += _leaks("analysis runs", yaml.safe_dump(runs))
    leaks += _leaks("rollouts", yaml.safe_dump(rollouts))
    for ro in rollouts:
        name = ro["metadata"]["name"]
        leaks += _leaks(f"plugin -o yaml {name}", _plugin(kubeconfig, namespace, "get", "rollout", name, "-o", "yaml"))
        leaks += _leaks(f"plugin tree {name}", _plugin(kubeconfig, namespace, "get", "rollout", name, "--no-color"))
    assert events, "the controller must have recorded events"
    assert not leaks, "pieces of the secret were written:\n" + "\n".join(leaks)
