"""The patches behind promote, abort, retry, pause, resume, restart, undo and set image.

Each `plan_*` function looks at the Rollout as read from the API server and decides, without I/O,
which patches to send (an `ActionPlan`) or why the action makes no sense (`ActionRefused`). The
command layer only sends what was planned, so the exact bytes are testable by tables.

The bodies are the ones Argo's own kubectl plugin sends, so either plugin drives either controller:

- promote: `{"spec":{"paused":false}}` when manually paused, and through the *status* subresource
  `{"status":{"pauseConditions":null}}` when paused at a step, or
  `{"status":{"pauseConditions":null,"currentStepIndex":N+1}}` to move past a running step
  (an analysis step, say); `--full`: `{"status":{"promoteFull":true}}`.
- abort `{"status":{"abort":true}}` / retry `{"status":{"abort":false}}` (status subresource).
- pause / resume `{"spec":{"paused":true|false}}`; restart `{"spec":{"restartAt":"<RFC 3339>"}}`.
- undo: a JSON patch replacing `/spec/template` with the earlier revision's ReplicaSet template,
  minus the `rollouts-pod-template-hash` label the controller adds.
- set image: a JSON patch replacing each matching container's image, guarded by `test` operations
  on the container names so a concurrent reorder fails instead of changing the wrong container.

Status fields must go through the status subresource: the main resource ignores status changes
once the CRD enables the subresource, so a merge patch there would "succeed" and do nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from rollouts.api.labels import POD_TEMPLATE_HASH_LABEL
from rollouts.cli.info import canary_steps, is_generation_observed
from rollouts.cli.objects import as_int, owned_children, revision_of, strategy_of

Obj = Mapping[str, Any]


class ActionRefused(Exception):
    """The action makes no sense for the Rollout in its current state; the message says why."""


@dataclass(frozen=True)
class Patch:
    body: Any
    patch_type: Literal["merge", "json"] = "merge"
    subresource: Literal["status"] | None = None


@dataclass(frozen=True)
class ActionPlan:
    """Patches to send in order, and the line to print once they succeed."""

    patches: tuple[Patch, ...]
    message: str


def _name(rollout: Obj) -> str:
    return str((rollout.get("metadata") or {}).get("name") or "")


def _status(rollout: Obj) -> Mapping[str, Any]:
    status = rollout.get("status")
    return status if isinstance(status, Mapping) else {}


def _spec(rollout: Obj) -> Mapping[str, Any]:
    spec = rollout.get("spec")
    return spec if isinstance(spec, Mapping) else {}


def is_fully_promoted(rollout: Obj) -> bool:
    """Is there no update in flight? The controller has seen the spec and the stable ReplicaSet is
    the one built from the current template."""
    status = _status(rollout)
    stable = status.get("stableRS")
    return bool(stable) and stable == status.get("currentPodHash") and is_generation_observed(rollout)


# ---------------------------------------------------------------------------------------------------
# promote / abort / retry / pause / resume / restart


def plan_promote(rollout: Obj, *, full: bool = False) -> ActionPlan:
    """Promote past the current pause or step; `full` skips every remaining step and analysis.

    Canary paused at step 1 of [setWeight 20, pause, setWeight 50] -> clear pauseConditions (the
    controller then advances itself); canary running analysis at index 2 -> currentStepIndex 3.
    """
    name = _name(rollout)
    spec, status = _spec(rollout), _status(rollout)
    if status.get("abort"):
        raise ActionRefused(
            f"rollout '{name}' is aborted; run 'kubectl rollouts retry rollout {name}' to start the update "
            "again before promoting it"
        )
    manually_paused = bool(spec.get("paused"))
    pause_conditions = status.get("pauseConditions")
    pause_conditions = pause_conditions if isinstance(pause_conditions, list) else []
    if is_fully_promoted(rollout) and not manually_paused and not pause_conditions:
        raise ActionRefused(f"rollout '{name}' is Healthy and fully promoted: there is no update to promote")

    if not manually_paused and not is_generation_observed(rollout):
        raise ActionRefused(f"rollout '{name}' has a spec change the controller has not observed yet; "
                            "its step and pause state are out of date, so run the command again in a moment")

    unpause = Patch({"spec": {"paused": False}})
    if full:
        patches = [Patch({"status": {"promoteFull": True}}, subresource="status")]
        if manually_paused:
            patches.append(unpause)
        return ActionPlan(tuple(patches), f"rollout '{name}' fully promoted (remaining steps, pauses and "
                                          "analysis skipped)")

    patches = []
    what: list[str] = []
    if pause_conditions:
        reasons = ", ".join(str(c.get("reason")) for c in pause_conditions if isinstance(c, Mapping))
        patches.append(Patch({"status": {"pauseConditions": None}}, subresource="status"))
        what.append(f"pause {reasons or 'condition'} cleared")
    elif strategy_of(rollout) == "Canary" and canary_steps(rollout) and not manually_paused:
        steps = len(canary_steps(rollout))
        index = as_int(status.get("currentStepIndex"))
        if index >= steps:
            raise ActionRefused(f"rollout '{name}' is already past its last step ({steps}/{steps}); "
                                "use --full to finish the update")
        patches.append(Patch({"status": {"pauseConditions": None, "currentStepIndex": index + 1}},
                             subresource="status"))
        what.append(f"step {index}/{steps} -> {index + 1}/{steps}")
    if manually_paused:
        patches.insert(0, unpause)
        what.insert(0, "unpaused")
    if not patches:
        raise ActionRefused(f"rollout '{name}' is not paused: there is nothing to promote "
                            "(use --full to skip the rest of the update)")
    return ActionPlan(tuple(patches), f"rollout '{name}' promoted ({', '.join(what)})")


def plan_abort(rollout: Obj) -> ActionPlan:
    name = _name(rollout)
    if _status(rollout).get("abort"):
        raise ActionRefused(f"rollout '{name}' is already aborted")
    if is_fully_promoted(rollout):
        raise ActionRefused(f"rollout '{name}' is fully promoted: there is no update in progress to abort")
    return ActionPlan((Patch({"status": {"abort": True}}, subresource="status"),),
                      f"rollout '{name}' aborted (traffic and replicas go back to the stable version)")


def plan_retry(rollout: Obj) -> ActionPlan:
    name = _name(rollout)
    if not _status(rollout).get("abort"):
        raise ActionRefused(f"rollout '{name}' is not aborted: there is nothing to retry")
    return ActionPlan((Patch({"status": {"abort": False}}, subresource="status"),),
                      f"rollout '{name}' retried (the update starts again from the first step)")


def plan_pause(rollout: Obj) -> ActionPlan:
    name = _name(rollout)
    if _spec(rollout).get("paused"):
        raise ActionRefused(f"rollout '{name}' is already paused")
    return ActionPlan((Patch({"spec": {"paused": True}}),), f"rollout '{name}' paused")


def plan_resume(rollout: Obj) -> ActionPlan:
    name = _name(rollout)
    if not _spec(rollout).get("paused"):
        if _status(rollout).get("pauseConditions"):
            raise ActionRefused(f"rollout '{name}' is paused by a step, not by 'pause'; "
                                f"use 'kubectl rollouts promote {name}' to continue")
        raise ActionRefused(f"rollout '{name}' is not paused")
    return ActionPlan((Patch({"spec": {"paused": False}}),), f"rollout '{name}' resumed")


def format_time(moment: datetime) -> str:
    """metav1.Time: RFC 3339, UTC, second precision."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def plan_restart(rollout: Obj, *, at: datetime) -> ActionPlan:
    """Ask the controller to restart every pod created before `at` (spec.restartAt)."""
    name = _name(rollout)
    stamp = format_time(at)
    return ActionPlan((Patch({"spec": {"restartAt": stamp}}),),
                      f"rollout '{name}' restarts pods created before {stamp}")


# ---------------------------------------------------------------------------------------------------
# undo


def _without_hash_label(template: Mapping[str, Any]) -> dict[str, Any]:
    copy = dict(template)
    meta = dict(copy.get("metadata") or {})
    labels = dict(meta.get("labels") or {})
    labels.pop(POD_TEMPLATE_HASH_LABEL, None)
    meta["labels"] = labels
    copy["metadata"] = meta
    return copy


def is_derivative(want: Any, have: Any) -> bool:
    """Does `have` contain everything `want` sets (fields `want` leaves unset are ignored)?

    The API server defaults a ReplicaSet's pod template (imagePullPolicy, dnsPolicy, ...) while
    the Rollout's template stays as written, so plain equality would never match; Argo compares
    the same way (apimachinery's DeepDerivative).
    """
    if want is None:
        return True
    if isinstance(want, Mapping):
        if not isinstance(have, Mapping):
            return False
        return all(is_derivative(v, have.get(k)) for k, v in want.items() if v not in (None, {}, []))
    if isinstance(want, list):
        return isinstance(have, list) and len(want) == len(have) and all(
            is_derivative(w, h) for w, h in zip(want, have, strict=True)
        )
    return bool(want == have)


def plan_undo(rollout: Obj, replicasets: Sequence[Obj], *, to_revision: int | None = None) -> ActionPlan:
    """Roll back to `to_revision`, or to the revision before the newest when not given."""
    name = _name(rollout)
    if _spec(rollout).get("workloadRef"):
        ref = _spec(rollout)["workloadRef"]
        raise ActionRefused(
            f"rollout '{name}' takes its pod template from {ref.get('kind', 'Deployment')} "
            f"'{ref.get('name', '')}' (spec.workloadRef); roll back that object instead"
        )
    history = sorted(
        ((revision_of(rs), rs) for rs in owned_children(rollout, replicasets) if revision_of(rs) > 0),
        key=lambda pair: pair[0], reverse=True,
    )
    if to_revision is not None and to_revision > 0:
        found = [rs for rev, rs in history if rev == to_revision]
        if not found:
            known = ", ".join(str(rev) for rev, _ in history) or "none"
            raise ActionRefused(f"rollout '{name}' has no revision {to_revision} (revisions in history: {known})")
        revision, target = to_revision, found[0]
    else:
        if len(history) < 2:
            raise ActionRefused(f"rollout '{name}' has no earlier revision to roll back to")
        revision, target = history[1]
    template = ((target.get("spec") or {}).get("template")) or {}
    restored = _without_hash_label(template)
    current = _without_hash_label(_spec(rollout).get("template") or {})
    if is_derivative(current, restored):
        raise ActionRefused(f"rollout '{name}' already runs the template of revision {revision}")
    if not restored.get("metadata", {}).get("labels"):
        restored["metadata"].pop("labels", None)
    rs_name = (target.get("metadata") or {}).get("name", "")
    return ActionPlan(
        (Patch([{"op": "replace", "path": "/spec/template", "value": restored}], patch_type="json"),),
        f"rollout '{name}' rolled back to revision {revision} (pod template of ReplicaSet {rs_name})",
    )


# ---------------------------------------------------------------------------------------------------
# set image

# The Docker reference grammar (distribution/reference), compacted: [domain[:port]/]path[:tag][@digest].
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*" \
          r"|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_IMAGE_REFERENCE = re.compile(
    rf"^(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*(?::[\w][\w.-]{{0,127}})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$"
)
_CONTAINER_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def parse_image_assignment(text: str) -> tuple[str, str]:
    """`CONTAINER=IMAGE` -> (container, image); `*=IMAGE` targets every container.

    Raises ValueError naming what is wrong: "web=nginx:1.25" is fine; "web" lacks "=",
    "web=Nginx" has an upper-case repository, "web=nginx:1.25 " has a space.
    """
    container, sep, image = text.partition("=")
    if not sep:
        raise ValueError(f"invalid image argument {text!r}: expected CONTAINER=IMAGE, e.g. web=nginx:1.25")
    if not container:
        raise ValueError(f"invalid image argument {text!r}: the container name before '=' is empty")
    if container != "*" and not _CONTAINER_NAME.match(container):
        raise ValueError(f"invalid image argument {text!r}: {container!r} is not a valid container name")
    if not image:
        raise ValueError(f"invalid image argument {text!r}: the image after '=' is empty")
    if len(image) > 255 + 128 + 80 or not _IMAGE_REFERENCE.match(image):
        hint = " (repository names must be lower-case)" if image.split(":")[0] != image.split(":")[0].lower() else ""
        raise ValueError(f"invalid image argument {text!r}: {image!r} is not a valid image reference{hint}")
    return container, image


def plan_set_image(rollout: Obj, container: str, image: str) -> ActionPlan:
    """Replace the image of `container` (or of every container for "*") in spec.template: init
    containers and ephemeral containers count too, as with Argo's plugin."""
    name = _name(rollout)
    spec = _spec(rollout)
    if spec.get("workloadRef"):
        ref = spec["workloadRef"]
        raise ActionRefused(
            f"rollout '{name}' takes its pod template from {ref.get('kind', 'Deployment')} "
            f"'{ref.get('name', '')}' (spec.workloadRef); set the image on that object instead"
        )
    pod_spec = ((spec.get("template") or {}).get("spec")) or {}
    ops: list[dict[str, Any]] = []
    names: list[str] = []
    unchanged = 0
    for field in ("initContainers", "containers", "ephemeralContainers"):
        containers = pod_spec.get(field)
        for i, ctr in enumerate(containers if isinstance(containers, list) else []):
            cname = str(ctr.get("name", ""))
            names.append(cname)
            if container not in ("*", cname):
                continue
            if ctr.get("image") == image:
                unchanged += 1
                continue
            path = f"/spec/template/spec/{field}/{i}"
            ops.append({"op": "test", "path": f"{path}/name", "value": cname})
            ops.append({"op": "replace" if "image" in ctr else "add", "path": f"{path}/image", "value": image})
    if not ops and not unchanged:
        listed = ", ".join(names) or "none"
        raise ActionRefused(f"rollout '{name}' has no container named '{container}' (containers: {listed})")
    if not ops:
        return ActionPlan((), f"rollout '{name}' image unchanged ({container} already runs {image})")
    return ActionPlan((Patch(ops, patch_type="json"),), f"rollout '{name}' image updated ({container}={image})")
