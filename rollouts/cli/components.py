"""The loops that run beside the Rollout workers in one `rollouts controller` process, chosen by flags.

Assembled here, above both rollouts.controller and rollouts.gitops (which the layer contract keeps
independent of each other): the AnalysisRun reconciler unless --disable-analysis, and the Application
(GitOps) reconciler unless --disable-applications, for clusters that already run Argo CD, and the
notification senders unless --disable-notifications.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rollouts.controller.analysis_runs import run_analysis_runs
from rollouts.controller.metrics import AnalysisRunMetrics
from rollouts.controller.notifications import NotificationMetrics, NotificationOptions, run_rollout_notifications
from rollouts.controller.runtime import Component, ControllerConfig
from rollouts.kube.client import KubeClient

if TYPE_CHECKING:
    from rollouts.controller.app_notifications import ApplicationNotificationMetrics

# The Application side (rollouts.gitops, its notifications) is imported only when it runs: the Rollout controller
# runs with --disable-applications in every bundle, and those modules are about 6 MB of its memory.


@dataclass
class GitopsOptions:
    namespace: str = "argocd"
    poll_interval: float = 180.0
    webhook_port: int = 0
    webhook_bind: str = "127.0.0.1"
    webhook_secret: str | None = None
    webhook_max_payload_bytes: int = 25 * 1024 * 1024
    cache_dir: Path | None = None
    workers: int = 4


def _analysis(metrics: AnalysisRunMetrics) -> Component:
    async def run(client: KubeClient, config: ControllerConfig, stop: asyncio.Event) -> None:
        await run_analysis_runs(client, config, stop, metrics=metrics)

    return run


def _applications(options: GitopsOptions) -> Component:
    async def run(client: KubeClient, config: ControllerConfig, stop: asyncio.Event) -> None:
        from rollouts.gitops.reconciler import run_applications

        await run_applications(
            client, namespace=options.namespace, stop_event=stop, workers=options.workers,
            poll_interval=options.poll_interval, cache_dir=options.cache_dir, webhook_port=options.webhook_port,
            webhook_bind=options.webhook_bind, webhook_secret=options.webhook_secret,
            webhook_max_payload_bytes=options.webhook_max_payload_bytes, shards=config.shard_set,
        )

    return run


def _rollout_notifications(options: NotificationOptions, metrics: NotificationMetrics) -> Component:
    async def run(client: KubeClient, config: ControllerConfig, stop: asyncio.Event) -> None:
        await run_rollout_notifications(client, options=options, watch_namespace=config.namespace, metrics=metrics,
                                        stop=stop, shards=config.shard_set)

    return run


def _application_notifications(options: GitopsOptions, workers: int,
                               metrics: ApplicationNotificationMetrics) -> Component:
    async def run(client: KubeClient, config: ControllerConfig, stop: asyncio.Event) -> None:
        from rollouts.controller.app_notifications import run_application_notifications

        await run_application_notifications(client, namespace=options.namespace, workers=workers, metrics=metrics,
                                            stop=stop, shards=config.shard_set)

    return run


def default_components(config: ControllerConfig, gitops: GitopsOptions | None = None,
                       notifications: NotificationOptions | None = None) -> list[tuple[str, Component]]:
    """The components the flags ask for; their metrics collectors are added to ``config.collectors``."""
    components: list[tuple[str, Component]] = []
    if not config.disable_analysis:
        analysis_metrics = AnalysisRunMetrics()
        config.collectors.append(analysis_metrics)
        components.append(("analysis-runs", _analysis(analysis_metrics)))
    if not config.disable_applications:
        components.append(("applications", _applications(gitops or GitopsOptions())))
    if notifications is not None and not config.disable_rollouts:
        metrics = NotificationMetrics()
        config.collectors.append(metrics)
        components.append(("rollout-notifications", _rollout_notifications(notifications, metrics)))
    if notifications is not None and not config.disable_applications:
        from rollouts.controller.app_notifications import ApplicationNotificationMetrics

        app_metrics = ApplicationNotificationMetrics()
        config.collectors.append(app_metrics)
        components.append(("application-notifications", _application_notifications(
            gitops or GitopsOptions(), notifications.workers, app_metrics)))
    return components
