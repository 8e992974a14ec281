"""Rollout notifications end to end: the real controller, the real control plane, local vendor servers.

A canary with an analysis step is subscribed to on-analysis-run-failed, on-rollout-aborted and
on-rollout-completed on five services (webhook, Slack, Teams, email over SMTP, GitHub commit status). The
analysis fails (the metric server says 50% errors), the Rollout aborts; while the webhook is down the
controller is restarted; after the restart the webhook gets what it missed and nobody gets anything twice;
then a retry with a healthy metric completes the update and each service hears about it exactly once.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from rollouts.controller.analysis_runs import run_analysis_runs
from rollouts.controller.notifications import NotificationMetrics, NotificationOptions, run_rollout_notifications
from rollouts.controller.runtime import Controller
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import ANALYSISTEMPLATE, CONFIGMAP, EVENT, ROLLOUT, SECRET
from rollouts.notifications.subscriptions import NOTIFIED_ANNOTATION
from tests.support.controller import controller_in_process
from tests.support.rollouts import canary_rollout, create_services, patch_status, set_image, wait_phase
from tests.support.vendors import SLACK_TOKEN, Mailbox, Vendors, smtp_server, vendors
from tests.support.wait import eventually

pytestmark = pytest.mark.integration

NAME = "checkout"
SERVICES = ("hook", "slack", "teams", "email", "github")
TRIGGERS = {"on-analysis-run-failed": "analysis-failed", "on-rollout-aborted": "aborted",
            "on-rollout-completed": "completed"}


def _template(what: str, state: str) -> str:
    revision = "{{(index .rollout.spec.template.spec.containers 0).image}}"
    name = "{{.rollout.metadata.name}}"
    return "\n".join([
        "message: |-", f"  {what}: rollout {name} revision {revision}",
        "email:", "  subject: |-", f"    [{{{{.rollout.metadata.namespace}}}}] {what} {name}",
        "slack:", "  attachments: |", f'    [{{"title": "{name}", "text": "{what} revision {revision}"}}]',
        "teams:", "  title: |-", f"    {what} {name} revision {revision}",
        "webhook:", "  hook:", "    method: POST", "    path: /{{.rollout.metadata.namespace}}", "    body: |",
        f'      {{"what": "{what}", "rollout": "{name}", "revision": "{revision}"}}',
        "github:", "  repoURLPath: https://github.com/shop/checkout.git",
        "  revisionPath: '{{.rollout.status.currentPodHash}}'", "  status:", f"    state: {state}",
        "    label: rollouts/{{.rollout.metadata.name}}",
    ])


def configmap(v: Vendors, box: Mailbox) -> dict[str, str]:
    data = {f"trigger.{t}": f"- send: [{name}]" for t, name in TRIGGERS.items()}
    data.update({
        "template.analysis-failed": _template("analysis failed", "failure"),
        "template.aborted": _template("aborted", "failure"),
        "template.completed": _template("completed", "success"),
        "service.webhook.hook": f"url: {v.base}/hooks\nretryMax: 1\nretryWaitMin: 10ms\nretryWaitMax: 20ms",
        "service.slack": f"token: $slack-token\napiURL: {v.base}/api/",
        "service.teams": f"recipientUrls:\n  ops: {v.base}/webhookb2/ops",
        "service.email": f"host: 127.0.0.1\nport: {box.port}\nfrom: rollouts@example.com",
        "service.github": f"appID: {v.github_app_id}\ninstallationID: {v.github_installation}\n"
                          f"privateKey: $github-key\nenterpriseBaseURL: {v.base}/api/v3",
    })
    return data


def subscriptions() -> dict[str, str]:
    recipients = {"hook": "", "slack": "deploys", "teams": "ops", "email": "team@example.com", "github": ""}
    return {f"notifications.argoproj.io/subscribe.{t}.{svc}": recipients[svc] for t in TRIGGERS for svc in SERVICES}


def received(v: Vendors, box: Mailbox) -> dict[str, Counter[str]]:
    """Per service, how many notifications of each "<what> revision <n>" arrived."""
    out: dict[str, Counter[str]] = {s: Counter() for s in SERVICES}
    for r in v.received("/hooks/"):
        body = json.loads(r.body)
        out["hook"][f"{body['what']} revision {body['revision']}"] += 1
    for r in v.received("/api/chat.postMessage"):
        out["slack"][r.form["text"].split(": ")[0] + " revision " + r.form["text"].rsplit(" ", 1)[1]] += 1
    for r in v.received("/webhookb2/ops"):
        text = r.json["text"]
        out["teams"][text.split(": ")[0] + " revision " + text.rsplit(" ", 1)[1]] += 1
    for _, _, msg in box.messages:
        text = msg.get_payload(decode=True).decode().strip()
        out["email"][text.split(": ")[0] + " revision " + text.rsplit(" ", 1)[1]] += 1
    for r in v.received("/api/v3/repos/"):
        text = r.json["description"]
        out["github"][text.split(": ")[0] + " revision " + text.rsplit(" ", 1)[1]] += 1
    return out


@contextlib.asynccontextmanager
async def running_controller(kubeconfig: Path, namespace: str) -> AsyncIterator[Controller]:
    metrics = NotificationMetrics()
    options = NotificationOptions(namespace=namespace, workers=2)

    async def notifications(client: KubeClient, config: Any, stop: Any) -> None:
        await run_rollout_notifications(client, options=options, watch_namespace=namespace, metrics=metrics,
                                        stop=stop)

    async with controller_in_process(kubeconfig, namespace=namespace, collectors=[metrics], extra_components=[
            ("analysis-runs", run_analysis_runs), ("rollout-notifications", notifications)]) as running:
        yield running


def analysis_template(v: Vendors) -> dict[str, Any]:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate", "metadata": {"name": "error-rate"},
            "spec": {"metrics": [{"name": "error-rate", "count": 1, "successCondition": "result < 0.05",
                                  "provider": {"web": {"url": f"{v.base}/metric", "jsonPath": "{$.errorRate}"}}}]}}


async def test_each_event_reaches_each_service_exactly_once_across_a_restart(
        kube: KubeClient, namespace: str, kubeconfig: Path, crds: None) -> None:
    async with vendors() as v, smtp_server() as box:
        await kube.create(SECRET, {"metadata": {"name": "argo-rollouts-notification-secret"}, "stringData": {
            "slack-token": SLACK_TOKEN, "github-key": v.github_private_key}}, namespace)
        await kube.create(CONFIGMAP, {"metadata": {"name": "argo-rollouts-notification-configmap"},
                                      "data": configmap(v, box)}, namespace)
        await kube.create(ANALYSISTEMPLATE, analysis_template(v), namespace)
        await create_services(kube, namespace, NAME, f"{NAME}-stable", f"{NAME}-canary")
        manifest = canary_rollout(NAME, steps=[{"setWeight": 20}, {"analysis": {"templates": [
            {"templateName": "error-rate"}]}}, {"setWeight": 60}], stableService=f"{NAME}-stable",
            canaryService=f"{NAME}-canary")
        manifest["metadata"]["annotations"] = subscriptions()

        def counts_are(want: dict[str, int]) -> Any:
            return lambda got: all(got[s] == Counter(want) for s in SERVICES)

        async with running_controller(kubeconfig, namespace):
            await kube.create(ROLLOUT, manifest, namespace)
            await wait_phase(kube, namespace, NAME, "Healthy")
            await eventually(lambda: _async(received(v, box)), counts_are({"completed revision example/app:blue": 1}), timeout=60,
                             expected="each service told once that the first revision completed")
            v.error_rate = 0.5
            v.fail("/hooks/", *[503] * 1000)  # the webhook is down from now on
            await set_image(kube, namespace, NAME, "example/app:green")
            await wait_phase(kube, namespace, NAME, "Degraded", timeout=90)

            def others_told(got: dict[str, Counter[str]]) -> bool:
                return all(got[s] == Counter({"completed revision example/app:blue": 1, "analysis failed revision example/app:green": 1,
                                              "aborted revision example/app:green": 1}) for s in SERVICES if s != "hook")

            await eventually(lambda: _async(received(v, box)), others_told, timeout=60,
                             expected="every service but the (failing) webhook told of the failed analysis and abort")
            reasons = await _events(kube, namespace)
            assert reasons["AnalysisRunFailed"] == 1 and reasons["RolloutAborted"] == 1, reasons
        # restarted controller: the webhook is back, and gets what it missed; nobody gets anything twice
        v.failures.clear()
        async with running_controller(kubeconfig, namespace):
            after = {"completed revision example/app:blue": 1, "analysis failed revision example/app:green": 1, "aborted revision example/app:green": 1}
            await eventually(lambda: _async(received(v, box)), counts_are(after), timeout=90,
                             expected=f"after the restart every service has exactly {after}")
            v.error_rate = 0.0
            await patch_status(kube, namespace, NAME, {"abort": False})  # `kubectl argo rollouts retry`
            await wait_phase(kube, namespace, NAME, "Healthy", timeout=120)
            done = {**after, "completed revision example/app:green": 1}
            await eventually(lambda: _async(received(v, box)), counts_are(done), timeout=60,
                             expected=f"each service told exactly once of each event: {done}")

            async def notified() -> dict[str, Any]:
                ro = await kube.get(ROLLOUT, NAME, namespace)
                return dict(json.loads(ro["metadata"]["annotations"][NOTIFIED_ANNOTATION]))

            # a delivery is recorded after it is sent (at least once), so the last record may trail the message
            await eventually(notified, lambda state: len(state) == 4 * 5, timeout=30,
                             expected="one record per event and destination in the notified annotation")
        assert received(v, box) == {s: Counter(done) for s in SERVICES}


async def _async(value: Any) -> Any:
    return value


async def _events(kube: KubeClient, namespace: str) -> Counter[str]:
    items, _ = await kube.list(EVENT, namespace, field_selector=f"involvedObject.kind=Rollout,involvedObject.name={NAME}")
    return Counter(str(e.get("reason")) for e in items)
