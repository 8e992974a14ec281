"""Notification templates: ``template.<name>`` entries compiled once, rendered into a ``Notification``.

A template has a ``message`` and per-service fields (Slack attachments/blocks, email subject/body, Teams
cards, webhook method/path/body per webhook service, GitHub status). Every string field is a Go template
(see ``gotemplate``); fields are rendered in the engine's order and merged the engine's way when a trigger
sends several templates: ``message``, email and Teams fields are replaced only by non-empty renders, Slack
fields always, webhook entries per service name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from rollouts.notifications import gotemplate
from rollouts.notifications.gotemplate import Template, TemplateError

SLACK_FIELDS = ("username", "icon", "attachments", "blocks", "groupingKey")
TEAMS_FIELDS = ("template", "title", "summary", "text", "themeColor", "facts", "sections", "potentialAction")
EMAIL_FIELDS = ("subject", "body")
GITHUB_STATUS_FIELDS = ("state", "label", "targetURL")
GITHUB_DEFAULT_REPO = "{{.app.spec.source.repoURL}}"
GITHUB_DEFAULT_REVISION = "{{.app.status.operationState.syncResult.revision}}"


@dataclass(frozen=True)
class Webhook:
    method: str = ""
    path: str = ""
    body: str = ""


@dataclass(frozen=True)
class GitHub:
    repo_url: str = ""
    revision: str = ""
    status: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Notification:
    """A rendered notification, as the engine's services.Notification carries it."""

    message: str = ""
    email: Mapping[str, str] | None = None
    slack: Mapping[str, Any] | None = None
    teams: Mapping[str, str] | None = None
    webhook: Mapping[str, Webhook] = field(default_factory=dict)
    github: GitHub | None = None

    def preview(self) -> str:
        """The engine's one-line preview (plugin output)."""
        import json

        text = self.message or json.dumps(as_dict(self))
        text = text.split("\n")[0]
        return text[:99] + "..." if len(text) > 100 else text


def as_dict(n: Notification) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if n.message:
        out["message"] = n.message
    for name in ("email", "slack", "teams"):
        value = getattr(n, name)
        if value is not None:
            out[name] = dict(value)
    if n.webhook:
        out["webhook"] = {k: {"method": v.method, "path": v.path, "body": v.body} for k, v in n.webhook.items()}
    if n.github is not None:
        out["github"] = {"repoURL": n.github.repo_url, "revision": n.github.revision,
                         **({"status": dict(n.github.status)} if n.github.status is not None else {})}
    return out


class TemplateSpecError(ValueError):
    pass


def _parse(name: str, where: str, text: Any) -> Template:
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise TemplateSpecError(f"template {name}: {where} must be a string")
    try:
        return gotemplate.parse(name, text)
    except TemplateError as exc:
        raise TemplateSpecError(f"template {name}: {where}: {exc}") from None


@dataclass(frozen=True)
class CompiledTemplate:
    name: str
    message: Template
    email: Mapping[str, Template] | None
    slack: Mapping[str, Template] | None
    slack_static: Mapping[str, Any]
    teams: Mapping[str, Template] | None
    webhook: Mapping[str, tuple[str, Template, Template]]
    github: tuple[Template, Template, Mapping[str, Template] | None] | None


def _section(name: str, spec: Mapping[str, Any], key: str, fields: Sequence[str]) -> Mapping[str, Template] | None:
    section = spec.get(key)
    if section is None:
        return None
    if not isinstance(section, dict):
        raise TemplateSpecError(f"template {name}: {key} must be a map")
    return {f: _parse(name, f"{key}.{f}", section.get(f)) for f in fields}


def compile_template(name: str, spec: Any) -> CompiledTemplate:
    """Compile a decoded ``template.<name>`` value; raises TemplateSpecError naming the field."""
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        raise TemplateSpecError(f"template {name}: must be a map with message and per-service fields")
    webhooks = spec.get("webhook") or {}
    if not isinstance(webhooks, dict):
        raise TemplateSpecError(f"template {name}: webhook must be a map of webhook service names")
    compiled_hooks = {}
    for svc, hook in webhooks.items():
        hook = hook or {}
        if not isinstance(hook, dict):
            raise TemplateSpecError(f"template {name}: webhook.{svc} must be a map with method, path and body")
        compiled_hooks[str(svc)] = (str(hook.get("method") or ""), _parse(name + str(svc), f"webhook.{svc}.body",
                                    hook.get("body")), _parse(name + str(svc), f"webhook.{svc}.path", hook.get("path")))
    slack = spec.get("slack")
    github = spec.get("github")
    compiled_github = None
    if isinstance(github, dict):
        for section in ("deployment", "pullRequestComment", "checkRun", "repositoryDispatch"):
            if github.get(section) is not None:
                raise TemplateSpecError(f"template {name}: github.{section} is not supported by this controller "
                                        "(github.status is)")
        status = github.get("status")
        compiled_github = (
            _parse(name, "github.repoURLPath", github.get("repoURLPath") or GITHUB_DEFAULT_REPO),
            _parse(name, "github.revisionPath", github.get("revisionPath") or GITHUB_DEFAULT_REVISION),
            {f: _parse(name, f"github.status.{f}", status.get(f)) for f in GITHUB_STATUS_FIELDS}
            if isinstance(status, dict) else None,
        )
    return CompiledTemplate(
        name=name, message=_parse(name, "message", spec.get("message")),
        email=_section(name, spec, "email", EMAIL_FIELDS), slack=_section(name, spec, "slack", SLACK_FIELDS),
        slack_static={k: slack.get(k) for k in ("notifyBroadcast", "deliveryPolicy")} if isinstance(slack, dict)
        else {},
        teams=_section(name, spec, "teams", TEAMS_FIELDS), webhook=compiled_hooks, github=compiled_github,
    )


def _render_fields(fields: Mapping[str, Template], data: Mapping[str, Any]) -> dict[str, str]:
    return {k: t.execute(data) for k, t in fields.items()}


def _merge_nonempty(old: Mapping[str, Any] | None, new: Mapping[str, str]) -> dict[str, Any]:
    out = dict(old or {})
    out.update({k: v for k, v in new.items() if v != ""})
    return out


def apply(n: Notification, t: CompiledTemplate, data: Mapping[str, Any]) -> Notification:
    """Render one template into the notification (the engine's Templater); raises gotemplate errors."""
    message = t.message.execute(data)
    n = replace(n, message=message or n.message)
    if t.slack is not None:
        rendered: dict[str, Any] = _render_fields(t.slack, data)
        rendered.update({k: v for k, v in t.slack_static.items() if v is not None})
        n = replace(n, slack={**(n.slack or {}), **rendered})
    if t.email is not None:
        n = replace(n, email=_merge_nonempty(n.email, _render_fields(t.email, data)))
    if t.teams is not None:
        n = replace(n, teams=_merge_nonempty(n.teams, _render_fields(t.teams, data)))
    if t.webhook:
        hooks = dict(n.webhook)
        for svc, (method, body, path) in t.webhook.items():
            hooks[svc] = Webhook(method=method, body=body.execute(data), path=path.execute(data))
        n = replace(n, webhook=hooks)
    if t.github is not None:
        repo, revision, status = t.github
        n = replace(n, github=GitHub(repo.execute(data), revision.execute(data),
                                     _render_fields(status, data) if status is not None else
                                     (n.github.status if n.github else None)))
    return n


def render(templates: Sequence[CompiledTemplate], data: Mapping[str, Any]) -> Notification:
    n = Notification()
    for t in templates:
        n = apply(n, t, data)
    return n


__all__ = ["CompiledTemplate", "GitHub", "Notification", "TemplateSpecError", "Webhook", "compile_template", "render"]
