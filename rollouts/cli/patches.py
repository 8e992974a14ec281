"""The patches behind promote, abort, retry, pause, resume, restart, undo and set image: Argo's, byte for byte.

Each `plan_*` function looks at the object as read from the API server and decides, without I/O, which
patches to send (an `ActionPlan`) and the line to print, or raises `ActionRefused` with Argo's message. The
command layer only sends what was planned, so the exact bodies are testable by tables, and either plugin
drives either controller:

- promote: `{"spec":{"paused":false}}` when manually paused; through the *status* subresource
  `{"status":{"pauseConditions":null}}` when paused at a step, or, when nothing is paused (an analysis or
  experiment step running), `{"status":{"pauseConditions":null, "currentStepIndex":N+1}}`; after an
  Inconclusive step analysis also `"controllerPause":false`. `--full`: `{"status":{"promoteFull":true}}`
  (unless already fully promoted) and the unpause. The deprecated `-c` / `-a` set the step index.
- abort `{"status":{"abort":true}}` / retry `{"status":{"abort":false}}`.
- pause / resume `{"spec":{"paused":true|false}}`; restart `{"spec":{"restartAt":"<RFC 3339>"}}`.
- undo: a JSON patch replacing `/spec/template` (of the Rollout, or of the workloadRef'd Deployment,
  ReplicaSet or PodTemplate) with the earlier revision's ReplicaSet template, minus the hash label.
- set image: the image of every matching container (init, regular and ephemeral), on the Rollout or on
  its workloadRef'd Deployment; a JSON patch whose `test` operations on the container names make a
  concurrent reorder fail instead of changing the wrong container.

Status fields go through the status subresource first: with the CRD's subresource enabled, a merge patch of
status on the main resource "succeeds" and does nothing. As Argo's plugin does for CRDs without the
subresource, a 404 on the subresource sends the combined patch to the main resource instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from rollouts.api.labels import POD_TEMPLATE_HASH_LABEL
from rollouts.cli.info import canary_steps
from rollouts.cli.objects import as_int, dig, revision_of, strategy_of

Obj = Mapping[str, Any]

SKIP_FLAGS_TOGETHER = "Cannot use skip-current-step and skip-all-steps flags at the same time"
SKIP_FLAGS_BLUE_GREEN = "Cannot skip steps of a bluegreen rollout. Run without a flags"
SKIP_FLAGS_NO_STEPS = "Cannot skip steps of a rollout without steps"


class ActionRefused(Exception):
    """The action cannot be planned; the message says why (Argo's wording where Argo has one)."""


@dataclass(frozen=True)
class Patch:
    body: Any
    patch_type: Literal["merge", "json"] = "merge"


@dataclass(frozen=True)
class ActionPlan:
    """What to send, in Argo's order: `status` to the status subresource (when it answers 404, `unified` goes to
    the main resource instead of `spec`), then `spec` to the main resource. `kind`/`name` name the object
    patched when it is not the Rollout itself (a workloadRef)."""

    message: str
    spec: Patch | None = None
    status: Patch | None = None
    unified: Patch | None = None
    kind: str = "rollouts"
    name: str | None = None

    @property
    def patches(self) -> tuple[Patch, ...]:
        return tuple(p for p in (self.status, self.spec) if p is not None)


def _name(obj: Obj) -> str:
    return str(dig(obj, "metadata", "name") or "")


def _status(rollout: Obj) -> Mapping[str, Any]:
    status = rollout.get("status")
    return status if isinstance(status, Mapping) else {}


def _spec(rollout: Obj) -> Mapping[str, Any]:
    spec = rollout.get("spec")
    return spec if isinstance(spec, Mapping) else {}


# ---------------------------------------------------------------------------------------------------
# promote


def _next_index(rollout: Obj) -> int | None:
    """currentStepIndex + 1, never past the last step; None when the Rollout has no canary steps."""
    steps = canary_steps(rollout)
    if strategy_of(rollout) != "Canary" or not steps:
        return None
    index = as_int(_status(rollout).get("currentStepIndex"))
    return index + 1 if index < len(steps) else index


def _is_inconclusive(rollout: Obj) -> bool:
    return strategy_of(rollout) == "Canary" and dig(
        _status(rollout), "canary", "currentStepAnalysisRunStatus", "status") == "Inconclusive"


def plan_promote(rollout: Obj, *, full: bool = False, skip_current_step: bool = False,
                 skip_all_steps: bool = False) -> ActionPlan:
    """Argo's PromoteRollout.

    Canary paused at step 1 of [setWeight 20, pause, setWeight 50] -> clear pauseConditions (the controller
    then advances itself); canary running analysis at index 2 -> currentStepIndex 3; paused with
    `spec.paused` -> also unpause.
    """
    _refuse_skip_flags(rollout, skip_current_step=skip_current_step, skip_all_steps=skip_all_steps)
    message = f"rollout '{_name(rollout)}' {'fully promoted' if full else 'promoted'}"
    if skip_current_step or skip_all_steps:
        index = len(canary_steps(rollout)) if skip_all_steps else _next_index(rollout)
        body = None if index is None else Patch({"status": {"currentStepIndex": index}})
        return ActionPlan(message, status=body, unified=body)
    unpause = Patch({"spec": {"paused": False}}) if _spec(rollout).get("paused") else None
    if full:
        return _plan_promote_full(rollout, message, unpause)
    return _plan_promote_step(rollout, message, unpause)


def _refuse_skip_flags(rollout: Obj, *, skip_current_step: bool, skip_all_steps: bool) -> None:
    if skip_current_step and skip_all_steps:
        raise ActionRefused(SKIP_FLAGS_TOGETHER)
    if skip_current_step or skip_all_steps:
        if strategy_of(rollout) == "BlueGreen":
            raise ActionRefused(SKIP_FLAGS_BLUE_GREEN)
        if strategy_of(rollout) == "Canary" and not canary_steps(rollout):
            raise ActionRefused(SKIP_FLAGS_NO_STEPS)


def _plan_promote_full(rollout: Obj, message: str, unpause: Patch | None) -> ActionPlan:
    """`--full`: promoteFull, unless the current pods already are the stable ones (then only unpause)."""
    status = _status(rollout)
    full_status = None
    if (status.get("currentPodHash") or "") != (status.get("stableRS") or ""):
        full_status = Patch({"status": {"promoteFull": True}})
    return ActionPlan(message, spec=unpause, status=full_status,
                      unified=Patch({"spec": {"paused": False}, "status": {"promoteFull": True}}))


def _plan_promote_step(rollout: Obj, message: str, unpause: Patch | None) -> ActionPlan:
    """One step on: past an Inconclusive analysis pause, else clear the pause conditions, else (a canary with
    nothing paused) past the step that is running (an analysis or experiment step)."""
    status = _status(rollout)
    pause_conditions = status.get("pauseConditions") if isinstance(status.get("pauseConditions"), list) else []
    unified = Patch({"spec": {"paused": False}, "status": {"pauseConditions": None}})
    index = _next_index(rollout)
    if _is_inconclusive(rollout) and pause_conditions and status.get("controllerPause"):
        if index is None:
            return ActionPlan(message, spec=unpause, unified=unified)
        return ActionPlan(message, spec=unpause, unified=unified, status=Patch(
            {"status": {"pauseConditions": None, "controllerPause": False, "currentStepIndex": index}}))
    if pause_conditions:
        return ActionPlan(message, spec=unpause, unified=unified, status=Patch({"status": {"pauseConditions": None}}))
    if index is not None:  # only a canary with steps has one
        moved = {"pauseConditions": None, "currentStepIndex": index}
        return ActionPlan(message, spec=unpause, status=Patch({"status": moved}),
                          unified=Patch({"spec": {"paused": False}, "status": moved}))
    return ActionPlan(message, spec=unpause, unified=unified)


# ---------------------------------------------------------------------------------------------------
# abort / retry / pause / resume / restart


def plan_abort(rollout: Obj) -> ActionPlan:
    body = Patch({"status": {"abort": True}})
    return ActionPlan(f"rollout '{_name(rollout)}' aborted", status=body, unified=body)


def plan_retry(rollout: Obj) -> ActionPlan:
    body = Patch({"status": {"abort": False}})
    return ActionPlan(f"rollout '{_name(rollout)}' retried", status=body, unified=body)


def plan_pause(rollout: Obj) -> ActionPlan:
    return ActionPlan(f"rollout '{_name(rollout)}' paused", spec=Patch({"spec": {"paused": True}}))


def plan_resume(rollout: Obj) -> ActionPlan:
    return ActionPlan(f"rollout '{_name(rollout)}' resumed", spec=Patch({"spec": {"paused": False}}))


def format_time(moment: datetime) -> str:
    """metav1.Time: RFC 3339, UTC, second precision."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def plan_restart(rollout: Obj, *, at: datetime, delay_text: str = "0s") -> ActionPlan:
    """Ask the controller to restart every pod created before `at` (spec.restartAt)."""
    return ActionPlan(f"rollout '{_name(rollout)}' restarts in {delay_text}",
                      spec=Patch({"spec": {"restartAt": format_time(at)}}))


def plan_terminate_analysisrun(run: Obj) -> ActionPlan:
    return ActionPlan(f"analysisRun '{_name(run)}' terminated", spec=Patch({"spec": {"terminate": True}}),
                      kind="analysisruns")


def plan_retry_experiment(experiment: Obj) -> ActionPlan:
    """Argo's `retry experiment` (retry.go): a merge patch ``{"status": null}`` of the object (the Experiment CRD
    has no status subresource); the controller starts the Experiment again from Pending."""
    return ActionPlan(f"experiment '{_name(experiment)}' retried", spec=Patch({"status": None}), kind="experiments")


def plan_terminate_experiment(experiment: Obj) -> ActionPlan:
    """Argo's `terminate experiment`: spec.terminate (Argo's plugin prints "retried" here, terminate.go:102, a
    slip; ours says what it did)."""
    return ActionPlan(f"experiment '{_name(experiment)}' terminated", spec=Patch({"spec": {"terminate": True}}),
                      kind="experiments")


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

    The API server defaults a ReplicaSet's pod template (imagePullPolicy, dnsPolicy, ...) while the Rollout's
    template stays as written, so plain equality would never match; Argo compares the same way
    (apimachinery's Semantic.DeepDerivative).
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


def is_controlled_by(obj: Obj, owner: Obj) -> bool:
    uid = dig(owner, "metadata", "uid")
    refs = dig(obj, "metadata", "ownerReferences")
    return bool(uid) and isinstance(refs, list) and any(
        isinstance(r, Mapping) and r.get("uid") == uid and r.get("controller") for r in refs)


def revision_replicaset(rollout: Obj, replicasets: Sequence[Obj], to_revision: int) -> Obj:
    """The ReplicaSet to roll back to: revision `to_revision`, or (0) the second newest revision."""
    owned = [rs for rs in replicasets if is_controlled_by(rs, rollout)]
    if to_revision > 0:
        for rs in owned:
            if revision_of(rs) == to_revision:
                return rs
        raise ActionRefused(f"unable to find specified revision {to_revision} in history")
    ordered = sorted(owned, key=revision_of, reverse=True)
    if len(ordered) < 2:
        raise ActionRefused(f'no revision found for rollout "{_name(rollout)}"')
    return ordered[1]


WORKLOAD_KINDS = {"Deployment": "deployments", "ReplicaSet": "replicasets", "PodTemplate": "podtemplates"}


def plan_undo(rollout: Obj, replicasets: Sequence[Obj], *, to_revision: int = 0) -> ActionPlan:
    """Roll back to `to_revision`, or to the revision before the newest when 0."""
    name = _name(rollout)
    target = revision_replicaset(rollout, replicasets, to_revision)
    restored = _without_hash_label(dig(target, "spec", "template") or {})
    template = _spec(rollout).get("template")
    # a Rollout without a template of its own (workloadRef) never matches, as in Argo's equalIgnoreHash
    if isinstance(template, Mapping) and is_derivative(_without_hash_label(template), restored):
        return ActionPlan(f"skipped rollback (current template already matches revision {to_revision})")
    if not restored["metadata"].get("labels"):
        restored["metadata"].pop("labels")
    patch = Patch([{"op": "replace", "path": "/spec/template", "value": restored}], patch_type="json")
    ref = _spec(rollout).get("workloadRef")
    if isinstance(ref, Mapping):
        kind = WORKLOAD_KINDS.get(str(ref.get("kind") or ""))
        if kind is None:
            raise ActionRefused(f"workload of type {ref.get('kind')} is not supported")
        return ActionPlan(f"rollout '{name}' undo", spec=patch, kind=kind, name=str(ref.get("name") or ""))
    return ActionPlan(f"rollout '{name}' undo", spec=patch)


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

    Raises ValueError naming what is wrong: "web=nginx:1.25" is fine; "web" lacks "=", "web=a=b" has two,
    "web=Nginx" has an upper-case repository, "web=nginx:1.25 " has a space. (Argo's plugin checks only
    the "=": an invalid reference would reach the pods as InvalidImageName.)
    """
    parts = text.split("=")
    if len(parts) != 2:
        raise ValueError(f"invalid image argument {text!r}: expected CONTAINER=IMAGE, e.g. web=nginx:1.25")
    container, image = parts
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


def plan_set_image(obj: Obj, container: str, image: str) -> ActionPlan:
    """Set the image of `container` (every container for "*") in `obj`'s pod template: a Rollout, or the
    Deployment its workloadRef names. Init and ephemeral containers count too, as with Argo's plugin."""
    name = _name(obj)
    kind = str(obj.get("kind") or "Rollout")
    pod_spec = dig(obj, "spec", "template", "spec") or {}
    ops: list[dict[str, Any]] = []
    names: list[str] = []
    for field in ("initContainers", "containers", "ephemeralContainers"):
        containers = pod_spec.get(field) if isinstance(pod_spec, Mapping) else None
        for i, ctr in enumerate(containers if isinstance(containers, list) else []):
            cname = str(ctr.get("name", ""))
            names.append(cname)
            if container not in ("*", cname):
                continue
            path = f"/spec/template/spec/{field}/{i}"
            ops.append({"op": "test", "path": f"{path}/name", "value": cname})
            ops.append({"op": "replace" if "image" in ctr else "add", "path": f"{path}/image", "value": image})
    if not ops:
        listed = ", ".join(names) or "none"
        raise ActionRefused(f'unable to find container named "{container}" (containers of {kind.lower()} '
                            f"'{name}': {listed})")
    plural = "deployments" if kind == "Deployment" else "rollouts"
    return ActionPlan(f'{kind.lower()} "{name}" image updated', spec=Patch(ops, patch_type="json"), kind=plural,
                      name=name)
