"""What templates see (the engine's GetVars), for Rollouts (Argo Rollouts) and Applications (Argo CD).

Rollouts: ``rollout`` (numbers float64: Argo marshals the typed Rollout to a map), ``analysisRuns`` (the
runs of the current revision, newest first), ``time`` (``Parse``, ``Now``), ``secrets``. Applications:
``app`` (unstructured: integers int64), ``context`` (the ConfigMap's ``context``), ``secrets``,
``appProject``, ``time`` (also the duration and layout constants), ``strings`` (``ReplaceAll``, ``ToUpper``,
``ToLower``), ``repo`` (``RepoURLToHTTPS``, ``FullNameByRepoURL``, ``QueryEscape``). The engine adds
``serviceType`` (the destination's service name) and ``recipient``.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from rollouts.notifications.gotemplate.functions import GoError
from rollouts.notifications.gotemplate.gotime import go_parse
from rollouts.notifications.gotemplate.values import BytesMap, GoFunc, Int64, StrMap, from_json
from rollouts.notifications.services.github import full_name_by_repo_url
from rollouts.notifications.subscriptions import Destination


def _parse_rfc3339(value: str) -> datetime:
    try:
        return go_parse("2006-01-02T15:04:05Z07:00", value)
    except GoError as exc:
        raise GoError(str(exc)) from None


def _repo_url_to_https(url: str) -> str:
    if "://" not in url and "@" in url and ":" in url:
        user_host, path = url.split(":", 1)
        host = user_host.split("@", 1)[1]
        return f"https://{host}/{path}"
    parsed = urllib.parse.urlparse(url)
    netloc = parsed.hostname or ""
    if parsed.port:
        netloc += f":{parsed.port}"
    return urllib.parse.urlunparse(("https", netloc, parsed.path, parsed.params, parsed.query, parsed.fragment))


TIME = {
    "Parse": GoFunc("Parse", ("string",), "time.Time", _parse_rfc3339),
    "Now": GoFunc("Now", (), "time.Time", lambda: datetime.now(UTC)),
}
APP_TIME = {
    **TIME,
    **{name: Int64(ns) for name, ns in (("Nanosecond", 1), ("Microsecond", 1_000), ("Millisecond", 1_000_000),
                                        ("Second", 1_000_000_000), ("Minute", 60_000_000_000),
                                        ("Hour", 3_600_000_000_000))},
    "RFC3339": "2006-01-02T15:04:05Z07:00", "RFC3339Nano": "2006-01-02T15:04:05.999999999Z07:00",
    "Kitchen": "3:04PM", "RFC1123": "Mon, 02 Jan 2006 15:04:05 MST", "ANSIC": "Mon Jan _2 15:04:05 2006",
}
STRINGS = {
    "ReplaceAll": GoFunc("ReplaceAll", ("string", "string", "string"), "string", lambda s, o, n: s.replace(o, n)),
    "ToUpper": GoFunc("ToUpper", ("string",), "string", str.upper),
    "ToLower": GoFunc("ToLower", ("string",), "string", str.lower),
}
REPO = {
    "RepoURLToHTTPS": GoFunc("RepoURLToHTTPS", ("string",), "string", _repo_url_to_https),
    "FullNameByRepoURL": GoFunc("FullNameByRepoURL", ("string",), "string", full_name_by_repo_url),
    "QueryEscape": GoFunc("QueryEscape", ("string",), "string", lambda s: urllib.parse.quote_plus(s, safe="~")),
}


def rollout_vars(rollout: Mapping[str, Any], secrets: Mapping[str, bytes],
                 analysis_runs: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"rollout": from_json(rollout, numbers="float64"), "time": dict(TIME),
                           "secrets": BytesMap(secrets)}
    if analysis_runs is not None:
        out["analysisRuns"] = from_json(list(analysis_runs), numbers="float64") if analysis_runs else None
    return out


def application_vars(app: Mapping[str, Any], secrets: Mapping[str, bytes], context: Mapping[str, str],
                     project: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"app": from_json(app, numbers="int64"), "context": StrMap(context), "secrets": BytesMap(secrets),
            "appProject": from_json(dict(project or {}), numbers="int64"), "time": dict(APP_TIME),
            "strings": dict(STRINGS), "repo": dict(REPO)}


def for_destination(variables: Mapping[str, Any], dest: Destination) -> dict[str, Any]:
    return {**variables, "serviceType": dest.service, "recipient": dest.recipient}
