"""Plain-string copies of the API's vocabulary enums, for the planner's hot path.

``rollouts.api.rollout`` defines the words (condition types and reasons, event reasons, pause reasons) as
``StrEnum``s; looking up an enum member costs about 0.2 us, several times a plain class attribute, and the
planner uses dozens per plan. The values are taken from the enums, so the two cannot drift apart. The phase
is not copied: a plan names it once, so the planner uses ``RolloutPhase`` itself, as the CLI does.
"""

from __future__ import annotations

from typing import Final

from rollouts.api.rollout import ConditionReason, ConditionType, EventReason, PauseReason


class Condition:
    """``ConditionType`` values as plain strings."""

    AVAILABLE: Final[str] = ConditionType.AVAILABLE.value
    PROGRESSING: Final[str] = ConditionType.PROGRESSING.value
    REPLICA_FAILURE: Final[str] = ConditionType.REPLICA_FAILURE.value
    INVALID_SPEC: Final[str] = ConditionType.INVALID_SPEC.value
    PAUSED: Final[str] = ConditionType.PAUSED.value
    HEALTHY: Final[str] = ConditionType.HEALTHY.value
    COMPLETED: Final[str] = ConditionType.COMPLETED.value


class Reason:
    """``ConditionReason`` values as plain strings."""

    INVALID_SPEC: Final[str] = ConditionReason.INVALID_SPEC.value
    REPLICA_SET_CREATE_ERROR: Final[str] = ConditionReason.REPLICA_SET_CREATE_ERROR.value
    NEW_REPLICA_SET_CREATED: Final[str] = ConditionReason.NEW_REPLICA_SET_CREATED.value
    FOUND_NEW_REPLICA_SET: Final[str] = ConditionReason.FOUND_NEW_REPLICA_SET.value
    NEW_REPLICA_SET_AVAILABLE: Final[str] = ConditionReason.NEW_REPLICA_SET_AVAILABLE.value
    REPLICA_SET_UPDATED: Final[str] = ConditionReason.REPLICA_SET_UPDATED.value
    PROGRESS_DEADLINE_EXCEEDED: Final[str] = ConditionReason.PROGRESS_DEADLINE_EXCEEDED.value
    ROLLOUT_PAUSED: Final[str] = ConditionReason.ROLLOUT_PAUSED.value
    ROLLOUT_RESUMED: Final[str] = ConditionReason.ROLLOUT_RESUMED.value
    ROLLOUT_ABORTED: Final[str] = ConditionReason.ROLLOUT_ABORTED.value
    ROLLOUT_RETRY: Final[str] = ConditionReason.ROLLOUT_RETRY.value
    ROLLOUT_COMPLETED: Final[str] = ConditionReason.ROLLOUT_COMPLETED.value
    ROLLOUT_HEALTHY: Final[str] = ConditionReason.ROLLOUT_HEALTHY.value
    ROLLOUT_NOT_HEALTHY: Final[str] = ConditionReason.ROLLOUT_NOT_HEALTHY.value
    AVAILABLE: Final[str] = ConditionReason.AVAILABLE.value
    ROLLOUT_ANALYSIS_RUN_FAILED: Final[str] = ConditionReason.ROLLOUT_ANALYSIS_RUN_FAILED.value
    ROLLOUT_EXPERIMENT_FAILED: Final[str] = ConditionReason.ROLLOUT_EXPERIMENT_FAILED.value
    ROLLOUT_NOT_COMPLETED: Final[str] = ConditionReason.ROLLOUT_NOT_COMPLETED.value
    REPLICA_SET_NOT_AVAILABLE: Final[str] = ConditionReason.REPLICA_SET_NOT_AVAILABLE.value
    SERVICE_REFERENCE_ERROR: Final[str] = ConditionReason.SERVICE_REFERENCE_ERROR.value


class Event:
    """``EventReason`` values as plain strings."""

    ROLLOUT_ADDED: Final[str] = EventReason.ROLLOUT_ADDED.value
    ROLLOUT_UPDATED: Final[str] = EventReason.ROLLOUT_UPDATED.value
    NEW_REPLICA_SET_CREATED: Final[str] = EventReason.NEW_REPLICA_SET_CREATED.value
    SCALING_REPLICA_SET: Final[str] = EventReason.SCALING_REPLICA_SET.value
    ROLLOUT_STEP_COMPLETED: Final[str] = EventReason.ROLLOUT_STEP_COMPLETED.value
    ROLLOUT_PAUSED: Final[str] = EventReason.ROLLOUT_PAUSED.value
    ROLLOUT_RESUMED: Final[str] = EventReason.ROLLOUT_RESUMED.value
    ROLLOUT_ABORTED: Final[str] = EventReason.ROLLOUT_ABORTED.value
    ROLLOUT_RETRY: Final[str] = EventReason.ROLLOUT_RETRY.value
    ROLLOUT_COMPLETED: Final[str] = EventReason.ROLLOUT_COMPLETED.value
    ROLLOUT_NOT_COMPLETED: Final[str] = EventReason.ROLLOUT_NOT_COMPLETED.value
    ROLLOUT_DELETED: Final[str] = EventReason.ROLLOUT_DELETED.value
    ROLLOUT_RESTARTED: Final[str] = EventReason.ROLLOUT_RESTARTED.value
    SERVICE_REFERENCE_ERROR: Final[str] = EventReason.SERVICE_REFERENCE_ERROR.value
    SWITCH_SERVICE: Final[str] = EventReason.SWITCH_SERVICE.value
    TRAFFIC_WEIGHT_UPDATED: Final[str] = EventReason.TRAFFIC_WEIGHT_UPDATED.value
    ANALYSIS_RUN_RUNNING: Final[str] = EventReason.ANALYSIS_RUN_RUNNING.value
    ANALYSIS_RUN_SUCCESSFUL: Final[str] = EventReason.ANALYSIS_RUN_SUCCESSFUL.value
    ANALYSIS_RUN_FAILED: Final[str] = EventReason.ANALYSIS_RUN_FAILED.value
    INVALID_SPEC: Final[str] = EventReason.INVALID_SPEC.value
    PROGRESS_DEADLINE_EXCEEDED: Final[str] = EventReason.PROGRESS_DEADLINE_EXCEEDED.value
    REPLICA_SET_CREATE_ERROR: Final[str] = EventReason.REPLICA_SET_CREATE_ERROR.value


class Pause:
    """``PauseReason`` values as plain strings."""

    INCONCLUSIVE_ANALYSIS: Final[str] = PauseReason.INCONCLUSIVE_ANALYSIS.value
    INCONCLUSIVE_EXPERIMENT: Final[str] = PauseReason.INCONCLUSIVE_EXPERIMENT.value
    CANARY_PAUSE_STEP: Final[str] = PauseReason.CANARY_PAUSE_STEP.value
    BLUE_GREEN_PAUSE: Final[str] = PauseReason.BLUE_GREEN_PAUSE.value

