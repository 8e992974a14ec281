"""Application notifications end to end with Argo CD's own catalog (argocd-notifications-cm from the Argo CD
module, as users install it), Argo CD's level-based triggers evaluated in expr-lang, five local services.

The Application's status is driven by the test (the notifier reads whatever the Application reconciler
would write): it degrades at revision abc, each service hears it once; the controller restarts and the
Application changes again without a new revision: nothing more; it degrades at revision def: each service
hears it once more (the catalog's oncePer is the revision).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from rollouts.controller.app_notifications import ApplicationNotificationMetrics, run_application_notifications
from rollouts.controller.runtime import Controller
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import APPLICATION, CONFIGMAP, SECRET
from rollouts.notifications.subscriptions import NOTIFIED_ANNOTATION
from tests.support.controller import controller_in_process
from tests.support.oracles import module_dir
from tests.support.vendors import SLACK_TOKEN, Mailbox, Vendors, smtp_server, vendors
from tests.support.wait import eventually
from tests.unit.notifications.anchors import ARGOCD

pytestmark = pytest.mark.integration

SERVICES = ("hook", "slack", "teams", "email", "github")
GITHUB_STATUS = """
github:
  status:
    state: failure
    label: continuous-delivery/{{.app.metadata.name}}
    targetURL: "{{.context.argocdUrl}}/applications/{{.app.metadata.name}}"
"""


def catalog() -> dict[str, str]:
    path = module_dir(*ARGOCD) / "notifications_catalog" / "install.yaml"
    data: dict[str, str] = yaml.safe_load(path.read_text())["data"]
    return data


def configmap(v: Vendors, box: Mailbox) -> dict[str, str]:
    data = catalog()
    data["template.app-health-degraded"] += GITHUB_STATUS  # a user's customisation: also set a commit status
    data.update({
        "context": "argocdUrl: https://argocd.example.com",
        "service.webhook.hook": f"url: {v.base}/hooks/apps\nretryMax: 1\nretryWaitMin: 10ms\nretryWaitMax: 20ms",
        "service.slack": f"token: $slack-token\napiURL: {v.base}/api/",
        "service.teams": f"recipientUrls:\n  ops: {v.base}/webhookb2/ops",
        "service.email": f"host: 127.0.0.1\nport: {box.port}\nfrom: argocd@example.com",
        "service.github": f"appID: {v.github_app_id}\ninstallationID: {v.github_installation}\n"
                          f"privateKey: $github-key\nenterpriseBaseURL: {v.base}/api/v3",
    })
    return data


def application() -> dict[str, Any]:
    recipients = {"hook": "", "slack": "deploys", "teams": "ops", "email": "ops@example.com", "github": ""}
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": "guestbook", "annotations": {
            f"notifications.argoproj.io/subscribe.on-health-degraded.{svc}": rcpt for svc, rcpt in recipients.items()}},
        "spec": {"project": "default",
                 "source": {"repoURL": "https://github.com/argoproj/argocd-example-apps.git", "path": "guestbook",
                            "targetRevision": "HEAD"},
                 "destination": {"server": "https://kubernetes.default.svc", "namespace": "guestbook"}},
    }


def degraded(revision: str) -> dict[str, Any]:
    return {"status": {
        "sync": {"status": "Synced", "revision": revision},
        "health": {"status": "Degraded", "lastTransitionTime": "2026-03-01T10:02:00Z"},
        "operationState": {"operation": {"sync": {"revision": revision}}, "phase": "Succeeded",
                           "startedAt": "2026-03-01T10:00:00Z",
                           "finishedAt": "2026-03-01T10:01:00Z", "syncResult": {"revision": revision}},
        "conditions": [{"type": "SyncError", "message": "deployment guestbook-ui exceeded its progress deadline"}],
    }}


def counts(v: Vendors, box: Mailbox) -> dict[str, int]:
    return {"hook": len(v.received("/hooks/apps")), "slack": len(v.received("/api/chat.postMessage")),
            "teams": len(v.received("/webhookb2/ops")), "email": len(box.messages),
            "github": len(v.received("/api/v3/repos/"))}


@contextlib.asynccontextmanager
async def notifier(kubeconfig: Path, namespace: str) -> AsyncIterator[Controller]:
    metrics = ApplicationNotificationMetrics()

    async def run(client: KubeClient, config: Any, stop: Any) -> None:
        await run_application_notifications(client, namespace=namespace, workers=2, metrics=metrics, stop=stop)

    async with controller_in_process(kubeconfig, namespace=namespace, collectors=[metrics],
                                     extra_components=[("application-notifications", run)]) as running:
        yield running


async def _now(value: Any) -> Any:
    return value


async def test_a_degraded_application_is_notified_once_per_revision_across_a_restart(
        kube: KubeClient, namespace: str, kubeconfig: Path, crds: None) -> None:
    async with vendors() as v, smtp_server() as box:
        await kube.create(SECRET, {"metadata": {"name": "argocd-notifications-secret"}, "stringData": {
            "slack-token": SLACK_TOKEN, "github-key": v.github_private_key}}, namespace)
        await kube.create(CONFIGMAP, {"metadata": {"name": "argocd-notifications-cm"}, "data": configmap(v, box)},
                          namespace)
        await kube.create(APPLICATION, application(), namespace)
        async with notifier(kubeconfig, namespace):
            await kube.patch(APPLICATION, "guestbook", degraded("abc123"), namespace)
            await eventually(lambda: _now(counts(v, box)), lambda c: c == dict.fromkeys(SERVICES, 1), timeout=60,
                             expected="each service told once that guestbook degraded at abc123")
        async with notifier(kubeconfig, namespace):
            await kube.patch(APPLICATION, "guestbook", {"metadata": {"labels": {"touched": "yes"}}}, namespace)
            await kube.patch(APPLICATION, "guestbook", degraded("def456"), namespace)
            await eventually(lambda: _now(counts(v, box)), lambda c: c == dict.fromkeys(SERVICES, 2), timeout=60,
                             expected="each service told once more, for the new revision, and never twice")
        slack = v.received("/api/chat.postMessage")[-1]
        assert slack.form["text"].startswith(":exclamation: Application guestbook has degraded.")
        [attachment] = json.loads(slack.form["attachments"])
        assert attachment["title_link"] == "https://argocd.example.com/applications/guestbook"
        teams = v.received("/webhookb2/ops")[-1].json
        assert teams["title"] == "Application guestbook has degraded."
        assert {"name": "Health Status", "value": "Degraded"} in teams["sections"][0]["facts"]
        status = v.received("/api/v3/repos/")[-1]
        assert status.path == "/api/v3/repos/argoproj/argocd-example-apps/statuses/def456"
        assert status.json["state"] == "failure" and status.json["context"] == "continuous-delivery/guestbook"
        _, _, mail = box.messages[-1]
        assert mail["Subject"] == "Application guestbook has degraded."
        app = await kube.get(APPLICATION, "guestbook", namespace)
        state = json.loads(app["metadata"]["annotations"][NOTIFIED_ANNOTATION])
        assert sorted({k.split(":")[0] for k in state}) == ["abc123", "def456"] and len(state) == 10, state
