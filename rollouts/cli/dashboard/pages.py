"""What each dashboard page shows, as JSON, computed from the objects in the server's caches.

Nothing here does I/O or reads the clock: the page gets timestamps and computes ages and the pause countdown
itself. The words are the plugin's (rollouts.cli.info, children, app_tree), so the page and
`kubectl rollouts get rollout` never disagree: a canary paused at step 1 of 2 with setWeight 50 reads
"Paused", "1/2", set weight "50" in both.

Secrets are never read by the dashboard, and nothing here copies a Secret's data; every string from the
cluster is sent as data and written into the page as text (the page never parses it as HTML).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from rollouts.cli.app_tree import Node, build_tree
from rollouts.cli.children import AnalysisRunInfo, ReplicaSetInfo
from rollouts.cli.info import canary_steps, current_step_index, images, list_row, revisions, rollout_info
from rollouts.cli.objects import as_list, dig

Obj = dict[str, Any]
Json = dict[str, Any]


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _meta(obj: Mapping[str, Any], key: str) -> str:
    return str(dig(obj, "metadata", key) or "")


class OwnerIndex:
    """Objects by the uid of each of their owners, so one Rollout's ReplicaSets and Pods are found without
    scanning the namespace for every Rollout (1,000 Rollouts on one page)."""

    def __init__(self, objects: Iterable[Obj]) -> None:
        self._by_owner: dict[str, list[Obj]] = defaultdict(list)
        for obj in objects:
            for ref in as_list(dig(obj, "metadata", "ownerReferences")):
                if isinstance(ref, Mapping) and ref.get("uid"):
                    self._by_owner[str(ref["uid"])].append(obj)

    def owned_by(self, uid: str) -> list[Obj]:
        return self._by_owner.get(uid, [])

    def owned_by_any(self, uids: Iterable[str]) -> list[Obj]:
        return [obj for uid in uids for obj in self.owned_by(uid)]


# ---------------------------------------------------------------------------------------------------
# Rollouts


def _family(rollout: Obj, replicasets: OwnerIndex, pods: OwnerIndex) -> tuple[list[Obj], list[Obj]]:
    own_rs = replicasets.owned_by(_meta(rollout, "uid"))
    return own_rs, pods.owned_by_any(_meta(rs, "uid") for rs in own_rs)


def rollout_row(rollout: Obj, replicasets: OwnerIndex, pods: OwnerIndex) -> Json:
    """One line of the Rollouts list: `list rollouts`' columns plus the message, actual weight and images."""
    own_rs, own_pods = _family(rollout, replicasets, pods)
    info = rollout_info(rollout, own_rs, own_pods, ())
    row = list_row(rollout)
    return {
        "namespace": row.namespace, "name": row.name, "strategy": row.strategy, "status": row.status,
        "message": info.message, "step": row.step, "setWeight": row.set_weight,
        "actualWeight": info.actual_weight or "-", "ready": row.ready_current, "desired": row.desired,
        "upToDate": row.up_to_date, "available": row.available,
        "images": [{"image": i.image, "tags": list(i.tags)} for i in images(info)],
    }


class RowCache:
    """The list rows computed before, by the resourceVersions of each Rollout and of its ReplicaSets and pods:
    a row is recomputed only when one of them changed (parsing a spec costs about a millisecond, so 1,000
    Rollouts would otherwise cost a second per page load)."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], tuple[tuple[str, ...], Json]] = {}

    def rows(self, rollouts: Iterable[Obj], replicasets: Iterable[Obj], pods: Iterable[Obj]) -> list[Json]:
        rs_index, pod_index = OwnerIndex(replicasets), OwnerIndex(pods)
        fresh: dict[tuple[str, str], tuple[tuple[str, ...], Json]] = {}
        for ro in rollouts:
            own_rs, own_pods = _family(ro, rs_index, pod_index)
            key = tuple(_meta(o, "resourceVersion") for o in (ro, *own_rs, *own_pods))
            ident = (_meta(ro, "namespace"), _meta(ro, "name"))
            known = self._rows.get(ident)
            row = known[1] if known is not None and known[0] == key else rollout_row(ro, rs_index, pod_index)
            fresh[ident] = (key, row)
        self._rows = fresh
        return [fresh[k][1] for k in sorted(fresh)]


def describe_step(step: Mapping[str, Any]) -> str:
    """A canary step in words: {setWeight: 20} -> "Set weight 20%", {pause: {}} -> "Pause (until promoted)",
    {pause: {duration: 30s}} -> "Pause 30s", {analysis: {templates: [{templateName: ok}]}} -> "Analysis: ok"."""
    if "setWeight" in step:
        return f"Set weight {step['setWeight']}%"
    if "pause" in step:
        duration = dig(step, "pause", "duration")
        return f"Pause {duration}" if duration not in (None, "") else "Pause (until promoted)"
    if "analysis" in step:
        names = [str(t.get("templateName")) for t in as_list(dig(step, "analysis", "templates"))
                 if isinstance(t, Mapping)]
        return "Analysis: " + ", ".join(names)
    if "experiment" in step:
        return "Experiment"
    for key, value in step.items():
        return f"{key}: {json.dumps(value, separators=(',', ':'), sort_keys=True)}"
    return "(empty step)"


def _pause_seconds(step: Mapping[str, Any]) -> float | None:
    from rollouts.api.common import parse_duration

    duration = dig(step, "pause", "duration")
    if duration in (None, ""):
        return None
    try:
        return parse_duration(duration)
    except (ValueError, TypeError):
        return None


def steps_timeline(rollout: Obj) -> list[Json]:
    """Each step with its state (done, current, pending) and, for a timed pause that is running, when it
    started and how long it lasts (the page counts down)."""
    steps = canary_steps(rollout)
    index = current_step_index(rollout)
    pause_start = next((str(c.get("startTime")) for c in as_list(dig(rollout, "status", "pauseConditions"))
                        if isinstance(c, Mapping) and c.get("reason") == "CanaryPauseStep"), None)
    timeline = []
    for i, step in enumerate(steps):
        state = "pending" if index is None or i > index else "current" if i == index else "done"
        entry: Json = {"index": i, "text": describe_step(step), "state": state}
        if state == "current" and "pause" in step:
            entry["pauseStarted"] = pause_start
            entry["pauseSeconds"] = _pause_seconds(step)
        timeline.append(entry)
    return timeline


def _replicaset(rs: ReplicaSetInfo) -> Json:
    roles = [r for r in ("stable", "canary", "active", "preview", "ping", "pong") if getattr(rs, r)]
    return {"name": rs.name, "status": rs.status, "revision": rs.revision, "roles": roles,
            "replicas": rs.replicas, "available": rs.available, "images": list(rs.images),
            "created": _time(rs.created),
            "pods": [{"name": p.name, "status": p.status, "ready": p.ready, "restarts": p.restarts,
                      "created": _time(p.created)} for p in rs.pods]}


def judge_value(value: Any) -> Json | None:
    """The judge provider's measurement value ({"score": 87.5, "metrics": {"errors": "Pass"}, "series": {...}}),
    or None for any other provider's value."""
    if not isinstance(value, str) or not value.startswith("{"):
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    if not isinstance(parsed, dict) or "score" not in parsed:
        return None
    series = parsed.get("series")
    return {"score": parsed.get("score"), "metrics": parsed.get("metrics") or {},
            "series": {str(name): _series(s) for name, s in series.items() if isinstance(s, Mapping)}
            if isinstance(series, Mapping) else {}}


def _series(raw: Mapping[str, Any]) -> Json:
    """One judged metric's intervals as the judge provider records them (analysis.providers.judge
    .judged_series): numbers or null, anything else dropped, so the page draws only numbers."""
    def numbers(key: str) -> list[float | None] | None:
        values = raw.get(key)
        if not isinstance(values, list):
            return None
        return [float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None for v in values]

    step = raw.get("step")
    return {"start": str(raw.get("start") or ""), "step": float(step) if isinstance(step, (int, float)) else None,
            **{key: numbers(key) for key in ("control", "canary", "controlTotal", "canaryTotal")}}


def _measurement(m: Mapping[str, Any]) -> Json:
    metadata = m.get("metadata")
    return {"phase": str(m.get("phase") or ""), "value": m.get("value"), "message": str(m.get("message") or ""),
            "startedAt": m.get("startedAt"), "finishedAt": m.get("finishedAt"),
            "judge": judge_value(m.get("value")),
            "metadata": {str(k): str(v) for k, v in metadata.items()} if isinstance(metadata, Mapping) else {}}


def analysis_run(run: Obj, info: AnalysisRunInfo) -> Json:
    """An AnalysisRun with every measurement of every metric; a judge metric's measurements carry the
    verdict's score and per-metric labels (the page plots the score over time)."""
    metrics = []
    for result in as_list(dig(run, "status", "metricResults")):
        if not isinstance(result, Mapping):
            continue
        metrics.append({
            "name": str(result.get("name") or ""), "phase": str(result.get("phase") or ""),
            "message": str(result.get("message") or ""),
            "counts": {k: int(result.get(k) or 0) for k in ("successful", "failed", "inconclusive", "error")},
            "measurements": [_measurement(m) for m in as_list(result.get("measurements")) if isinstance(m, Mapping)],
        })
    return {"name": info.name, "phase": info.status, "revision": info.revision, "created": _time(info.created),
            "message": str(dig(run, "status", "message") or ""), "metrics": metrics}


def rollout_detail(rollout: Obj, replicasets: Sequence[Obj], pods: Sequence[Obj], runs: Sequence[Obj],
                   events: Sequence[Obj]) -> Json:
    """The Rollout page: the list row, the steps, each revision with its ReplicaSets, pods and AnalysisRuns,
    and the Rollout's events."""
    rs_index, pod_index = OwnerIndex(replicasets), OwnerIndex(pods)
    own_rs, own_pods = _family(rollout, rs_index, pod_index)
    info = rollout_info(rollout, own_rs, own_pods, runs)
    by_name = {_meta(r, "name"): r for r in runs}
    revs = [{"revision": rev,
             "replicasets": [_replicaset(rs) for rs in info.replicasets if rs.revision == rev],
             "analysisruns": [analysis_run(by_name.get(ar.name, {}), ar) for ar in info.analysisruns
                              if ar.revision == rev]}
            for rev in revisions(info)]
    return {**rollout_row(rollout, rs_index, pod_index), "created": _time(info.created),
            "paused": bool(dig(rollout, "spec", "paused")), "aborted": bool(dig(rollout, "status", "abort")),
            "steps": steps_timeline(rollout), "revisions": revs,
            "events": event_rows(events, "Rollout", _meta(rollout, "name"))}


# ---------------------------------------------------------------------------------------------------
# Applications and events


def event_rows(events: Iterable[Obj], kind: str, name: str) -> list[Json]:
    """The events about one object, newest first."""
    rows = []
    for ev in events:
        about = ev.get("involvedObject") or ev.get("regarding") or {}
        if about.get("kind") != kind or about.get("name") != name:
            continue
        rows.append({"type": str(ev.get("type") or ""), "reason": str(ev.get("reason") or ""),
                     "message": str(ev.get("message") or ev.get("note") or ""),
                     "count": int(ev.get("count") or 1),
                     "last": ev.get("lastTimestamp") or ev.get("eventTime") or _meta(ev, "creationTimestamp")})
    return sorted(rows, key=lambda r: str(r["last"] or ""), reverse=True)


def _text(mapping: Any, key: str, default: str = "") -> str:
    value = mapping.get(key) if isinstance(mapping, Mapping) else None
    return str(value) if value not in (None, "") else default


def application_row(app: Obj) -> Json:
    """One Application tile: `app list`'s columns and the synced commit (author, date, message)."""
    spec, status = app.get("spec") or {}, app.get("status") or {}
    source: Any = spec.get("source") or next(iter(as_list(spec.get("sources"))), {})
    sync, health = status.get("sync") or {}, status.get("health") or {}
    commit, dest = sync.get("revisionMetadata") or {}, spec.get("destination") or {}
    labels = dig(app, "metadata", "labels")
    return {
        "namespace": _meta(app, "namespace"), "name": _meta(app, "name"),
        "project": _text(spec, "project", "default"),
        "labels": {str(k): str(v) for k, v in labels.items()} if isinstance(labels, Mapping) else {},
        "sync": _text(sync, "status", "Unknown"), "health": _text(health, "status", "Unknown"),
        "healthMessage": _text(health, "message"),
        "repo": _text(source, "repoURL"), "path": _text(source, "path"),
        "targetRevision": _text(source, "targetRevision", "HEAD"), "syncedRevision": _text(sync, "revision"),
        "destination": {"server": _text(dest, "server") or _text(dest, "name"),
                        "namespace": _text(dest, "namespace")},
        "commit": {key: _text(commit, key) for key in ("author", "date", "message")},
        "operation": str(dig(status, "operationState", "phase") or ""),
    }


def _node(node: Node) -> Json:
    return {"kind": node.kind, "name": node.name, "status": node.status, "health": node.health,
            "message": node.message, "children": [_node(c) for c in node.children]}


def application_detail(app: Obj, live: Mapping[tuple[str, str, str], Obj], owned: Iterable[Obj],
                       events: Sequence[Obj]) -> Json:
    """The Application page: its tile, conditions, the resource tree (Application -> Rollout -> ReplicaSets
    -> Pods, by ownerReference, built by the plugin's `app get -o tree` code), sync history and events."""
    status = app.get("status") or {}
    resources = [r for r in as_list(status.get("resources")) if isinstance(r, Mapping)]
    history = [{"id": h.get("id"), "revision": str(h.get("revision") or ""),
                "deployedAt": h.get("deployedAt"),
                "author": str(dig(h, "revisionMetadata", "author") or ""),
                "message": str(dig(h, "revisionMetadata", "message") or "")}
               for h in reversed(as_list(status.get("history"))) if isinstance(h, Mapping)]
    conditions = [{"type": str(c.get("type") or ""), "message": str(c.get("message") or "")}
                  for c in as_list(status.get("conditions")) if isinstance(c, Mapping)]
    return {**application_row(app), "conditions": conditions, "history": history,
            "operationMessage": str(dig(status, "operationState", "message") or ""),
            "tree": [_node(n) for n in build_tree(resources, live, owned)],
            "events": event_rows(events, "Application", _meta(app, "name"))}

