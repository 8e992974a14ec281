"""Each notification service against a local server that checks the request the vendor documents."""

from __future__ import annotations

import json
import urllib.parse

import pytest

from rollouts.notifications.config import parse_config
from rollouts.notifications.delivery import Deliverer
from rollouts.notifications.plan import Send
from rollouts.notifications.services import ConfigError, SendError, build
from rollouts.notifications.services.github import api_base, full_name_by_repo_url
from rollouts.notifications.services.teams import message_card
from rollouts.notifications.services.webhook import WebhookService
from rollouts.notifications.subscriptions import Destination
from rollouts.notifications.templates import Notification, Webhook
from rollouts.notifications.variables import application_vars, rollout_vars
from tests.support.vendors import SLACK_TOKEN, smtp_server, vendors
from tests.unit.notifications.objects import APPLICATION, ROLLOUT

ABORTED = """
message: Rollout {{.rollout.metadata.name}} has been aborted.
email:
  subject: "[{{.rollout.metadata.namespace}}] {{.rollout.metadata.name}} aborted"
slack:
  attachments: |
    [{"title": "{{.rollout.metadata.name}}", "color": "#E01E5A",
      "fields": [{"title": "Strategy", "value": "{{if .rollout.spec.strategy.canary}}Canary{{end}}"}]}]
teams:
  title: Rollout {{.rollout.metadata.name}} aborted
  facts: |
    [{"name": "Image", "value": "{{(index .rollout.spec.template.spec.containers 0).image}}"}]
webhook:
  deploys:
    method: POST
    path: /rollouts/{{.rollout.metadata.name}}
    body: '{"rollout": "{{.rollout.metadata.name}}", "to": "{{.recipient}}", "via": "{{.serviceType}}"}'
"""


def _config(base: str, extra: dict[str, str] | None = None):
    data = {
        "template.aborted": ABORTED,
        "service.slack": f"token: $slack-token\napiURL: {base}/api/\nusername: rollouts\nicon: ':rocket:'",
        "service.teams": f"recipientUrls:\n  ops: {base}/webhookb2/abc",
        "service.webhook.deploys": f"url: {base}/hooks\nheaders:\n- name: X-Team\n  value: payments\n"
                                   "basicAuth:\n  username: ci\n  password: $hook-password\nretryWaitMin: 1ms\n"
                                   "retryWaitMax: 5ms",
        **(extra or {}),
    }
    return parse_config(data, {"slack-token": SLACK_TOKEN.encode(), "hook-password": b"p@ss"})


async def _send(deliverer: Deliverer, service: str, recipient: str, variables: dict) -> None:
    await deliverer.send(Send("on-rollout-aborted", ("aborted",), Destination(service, recipient), "k"), variables)


async def test_slack_posts_the_documented_form_with_token_channel_text_and_attachments() -> None:
    async with vendors() as v:
        cfg = _config(v.base)
        assert cfg.problems == ()
        await _send(Deliverer(cfg), "slack", "deploys", rollout_vars(ROLLOUT, {}))
        [req] = v.received("/api/chat.postMessage")
        assert req.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
        assert req.form["token"] == SLACK_TOKEN and req.form["channel"] == "deploys"
        assert req.form["text"] == "Rollout checkout has been aborted."
        assert req.form["username"] == "rollouts" and req.form["icon_emoji"] == ":rocket:"
        assert json.loads(req.form["attachments"]) == [{
            "title": "checkout", "color": "#E01E5A", "fields": [{"title": "Strategy", "value": "Canary"}]}]
        assert "blocks" not in req.form


async def test_slack_error_answer_is_a_non_retryable_error_with_slacks_reason() -> None:
    async with vendors() as v:
        cfg = parse_config({"template.aborted": ABORTED, "service.slack": f"token: wrong\napiURL: {v.base}/api/"})
        with pytest.raises(SendError) as err:
            await _send(Deliverer(cfg), "slack", "deploys", rollout_vars(ROLLOUT, {}))
        assert "invalid_auth" in str(err.value) and not err.value.retryable


async def test_slack_grouping_key_threads_later_messages() -> None:
    async with vendors() as v:
        threaded = "message: m\nslack:\n  groupingKey: '{{.rollout.metadata.uid}}'\n  notifyBroadcast: true\n"
        cfg = _config(v.base, {"template.aborted": threaded})
        deliverer = Deliverer(cfg)
        await _send(deliverer, "slack", "deploys", rollout_vars(ROLLOUT, {}))
        await _send(deliverer, "slack", "deploys", rollout_vars(ROLLOUT, {}))
        first, second = v.received("/api/chat.postMessage")
        assert "thread_ts" not in first.form
        assert second.form["thread_ts"] and second.form["reply_broadcast"] == "true"


async def test_teams_posts_a_message_card_to_the_recipients_url() -> None:
    async with vendors() as v:
        await _send(Deliverer(_config(v.base)), "teams", "ops", rollout_vars(ROLLOUT, {}))
        [req] = v.received("/webhookb2/abc")
        assert req.headers["Content-Type"] == "application/json"
        assert req.json == {
            "@type": "MessageCard", "context": "https://schema.org/extensions", "title": "Rollout checkout aborted",
            "summary": "", "text": "Rollout checkout has been aborted.",
            "sections": [{"facts": [{"name": "Image", "value": "shop/checkout:2.1"}]}],
        }


async def test_teams_unknown_recipient_is_not_retried() -> None:
    async with vendors() as v:
        with pytest.raises(SendError) as err:
            await _send(Deliverer(_config(v.base)), "teams", "nobody", rollout_vars(ROLLOUT, {}))
        assert "no teams webhook configured for recipient nobody" in str(err.value) and not err.value.retryable


async def test_webhook_sends_the_templates_method_path_body_headers_and_basic_auth() -> None:
    async with vendors() as v:
        await _send(Deliverer(_config(v.base)), "deploys", "", rollout_vars(ROLLOUT, {}))
        [req] = v.received("/hooks")
        assert (req.method, req.path) == ("POST", "/hooks/rollouts/checkout")
        assert json.loads(req.body) == {"rollout": "checkout", "to": "", "via": "deploys"}
        assert req.headers["X-Team"] == "payments"
        assert req.headers["Authorization"] == "Basic Y2k6cEBzcw=="  # ci:p@ss


async def test_webhook_without_template_entry_gets_the_message_by_get() -> None:
    async with vendors() as v:
        svc = WebhookService(url=f"{v.base}/hooks/plain")
        await svc.send(Notification(message="hello"), Destination("other", ""))
        [req] = v.received("/hooks/plain")
        assert (req.method, req.body) == ("GET", b"hello")


async def test_webhook_retries_5xx_and_429_then_succeeds_but_not_4xx() -> None:
    slept: list[float] = []

    async def sleep(s: float) -> None:
        slept.append(s)

    async with vendors() as v:
        svc = WebhookService(url=f"{v.base}/hooks/r", retry_max=3, retry_wait_min=0.01, retry_wait_max=0.03,
                             sleep=sleep)
        v.fail("/hooks/r", 503, 429, 500)
        await svc.send(Notification(message="m"), Destination("w", ""))
        assert len(v.received("/hooks/r")) == 1 and slept == [0.0, 0.0, 0.0]  # Retry-After: 0 is honoured
        v.requests.clear()
        v.failures.clear()
        v.fail("/hooks/none", 502, 502, 502)
        svc2 = WebhookService(url=f"{v.base}/hooks/none", retry_max=3, retry_wait_min=0.01, retry_wait_max=0.03,
                              sleep=sleep)
        slept.clear()
        await _no_retry_after(v, svc2)
        assert slept == [0.01, 0.02, 0.03], slept  # exponential from retryWaitMin, capped at retryWaitMax
        v.fail("/hooks/r", 404)
        with pytest.raises(SendError) as err:
            await svc.send(Notification(message="m"), Destination("w", ""))
        assert "failed with error code 404" in str(err.value) and not err.value.retryable
        v.fail("/hooks/r", 500, 500, 500, 500)
        with pytest.raises(SendError) as err:
            await svc.send(Notification(message="m"), Destination("w", ""))
        assert "giving up after 4 attempt(s)" in str(err.value) and err.value.retryable


async def _no_retry_after(v, svc: WebhookService) -> None:
    v.retry_after = None
    try:
        await svc.send(Notification(message="m"), Destination("w", ""))
    finally:
        v.retry_after = "0"


async def test_email_is_delivered_to_a_real_smtp_server_with_auth() -> None:
    async with smtp_server(login=("bot", "s3cret")) as box:
        cfg = parse_config({
            "template.aborted": ABORTED,
            "service.email.ops": f"host: 127.0.0.1\nport: {box.port}\nfrom: rollouts@example.com\n"
                                 "username: bot\npassword: $email-password",
        }, {"email-password": b"s3cret"})
        await _send(Deliverer(cfg), "ops", "a@example.com, b@example.com", rollout_vars(ROLLOUT, {}))
        [(sender, rcpts, msg)] = box.messages
        assert sender == "rollouts@example.com" and rcpts == ["a@example.com", "b@example.com"]
        assert msg["Subject"] == "[shop] checkout aborted" and msg["To"] == "a@example.com, b@example.com"
        assert msg.get_content_type() == "text/plain"
        assert msg.get_payload(decode=True).decode().strip() == "Rollout checkout has been aborted."


async def test_email_wrong_password_is_a_non_retryable_error() -> None:
    async with smtp_server(login=("bot", "s3cret")) as box:
        cfg = parse_config({"template.aborted": ABORTED, "service.email": f"host: 127.0.0.1\nport: {box.port}\n"
                            "from: r@example.com\nusername: bot\npassword: nope"})
        with pytest.raises(SendError) as err:
            await _send(Deliverer(cfg), "email", "a@example.com", rollout_vars(ROLLOUT, {}))
        assert "authentication failed" in str(err.value) and not err.value.retryable
        assert box.messages == []


GITHUB_TEMPLATE = """
message: Application {{.app.metadata.name}} is now running new version.
github:
  status:
    state: success
    label: continuous-delivery/{{.app.metadata.name}}
    targetURL: "{{.context.argocdUrl}}/applications/{{.app.metadata.name}}"
"""


async def test_github_status_as_a_github_app_against_a_configurable_api_url() -> None:
    async with vendors() as v:
        cfg = parse_config({
            "template.deployed": GITHUB_TEMPLATE,
            "service.github": f"appID: {v.github_app_id}\ninstallationID: {v.github_installation}\n"
                              f"privateKey: $github-privateKey\nenterpriseBaseURL: {v.base}/api/v3",
            "context": "argocdUrl: https://argocd.example.com",
        }, {"github-privateKey": v.github_private_key.encode()})
        assert cfg.problems == ()
        deliverer = Deliverer(cfg)
        variables = application_vars(APPLICATION, {}, cfg.context)
        for _ in range(2):
            await deliverer.send(Send("on-deployed", ("deployed",), Destination("github", ""), "k"), variables)
        assert len(v.received("/api/v3/app/installations/")) == 1, "the installation token is cached"
        first, _second = v.received("/api/v3/repos/")
        sha = APPLICATION["status"]["operationState"]["syncResult"]["revision"]
        assert first.path == f"/api/v3/repos/argoproj/argocd-example-apps/statuses/{sha}"
        assert first.headers["Authorization"].startswith("token ghs_")
        assert first.json == {"state": "success", "target_url": "https://argocd.example.com/applications/guestbook",
                              "description": "Application guestbook is now running new version.",
                              "context": "continuous-delivery/guestbook"}


def test_github_repo_names_and_enterprise_urls() -> None:
    assert full_name_by_repo_url("https://github.com/argoproj/argo-cd.git") == "argoproj/argo-cd"
    assert full_name_by_repo_url("git@github.com:argoproj/argo-cd.git") == "argoproj/argo-cd"
    assert full_name_by_repo_url("ssh://git@ghe.example.com/org/repo/sub") == "org/repo"
    assert api_base("https://ghe.example.com/api/v3") == "https://ghe.example.com/api/v3/"
    assert api_base("https://ghe.example.com") == "https://ghe.example.com/api/v3/"
    assert api_base("") == "https://api.github.com/"


@pytest.mark.parametrize("key,value,message", [
    ("service.teams", "{}", "recipientUrls must map recipient names"),
    ("service.webhook", "headers: []", "url is required"),
    ("service.webhook", "url: http://x\nretryWaitMin: soon", "invalid duration"),
    ("service.github", "appID: x\ninstallationID: 1\nprivateKey: k", "appID and installationID must be integers"),
    ("service.github", "appID: 1\ninstallationID: 1\nprivateKey: not-a-key", "not a valid RSA private key"),
    ("service.opsgenie", "apiUrl: x", "the opsgenie service is not supported by this controller"),
    ("service.carrier-pigeon", "{}", "service type 'carrier-pigeon' is not supported"),
])
def test_bad_service_options_are_reported_by_name(key: str, value: str, message: str) -> None:
    cfg = parse_config({key: value})
    with pytest.raises(ConfigError) as err:
        build(next(iter(cfg.services.values())))
    assert message in str(err.value)
    assert message in " ".join(Deliverer(cfg).problems)


def test_teams_template_field_is_sent_verbatim() -> None:
    assert message_card(Notification(teams={"template": '{"type": "AdaptiveCard"}'})) == b'{"type": "AdaptiveCard"}'


def test_webhook_request_joins_url_and_path_like_the_engine() -> None:
    svc = WebhookService(url="https://h.example.com/api/")
    n = Notification(message="m", webhook={"w": Webhook(method="", path="/v1/x", body="b")})
    assert svc.request(n, Destination("w", "")) == ("GET", "https://h.example.com/api/v1/x", "b")
    assert urllib.parse.urlparse(svc.request(n, Destination("other", ""))[1]).path == "/api/"


async def test_failure_messages_name_the_host_never_the_secret_url_path_or_body() -> None:
    async with vendors() as v:
        svc = WebhookService(url=f"{v.base}/hooks/T0-s3cr3t-path?token=s3cr3t-query", retry_max=0)
        v.fail("/hooks/T0-s3cr3t-path", 404)
        with pytest.raises(SendError) as err:
            await svc.send(Notification(message="password=s3cr3t-body"), Destination("w", ""))
        assert "s3cr3t" not in str(err.value) and v.base in str(err.value), str(err.value)
