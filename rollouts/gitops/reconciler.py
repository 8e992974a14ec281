"""The Application reconciler: observe (Git + cluster) -> plan -> execute -> one status write.

Why this module exists: it is the loop users rely on to make the cluster follow Git. Each pass of an
application compares its source with the cluster (``compare.py``), lets the sync runner advance a running
operation by one step (``runner.py``, deciding in ``sync.py``), and hands both to the pure planner
(``plan.py``: status, automated sync, requeue), whose plan is written with a single JSON patch. The
Application CRD has no status subresource (as in Argo CD), so the patch goes to the main resource; clearing
``operation`` is guarded by a JSON-patch ``test`` so a sync requested by the CLI in the meantime is never lost.

When Git is read is ``refresh.py``'s schedule (polls with jitter, the refresh annotation, webhooks). Between
fetches the pass is cheap: renders and dry-run results are cached, and live objects come from label-filtered
watches (``live.py``) that also wake the owning application on every change, which is how drift is seen in
seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from aiohttp import web
from pydantic import ValidationError

from rollouts.api.application import REFRESH_ANNOTATION, Application
from rollouts.api.appproject import DEFAULT_PROJECT, AppProject, AppProjectSpec, default_project_body
from rollouts.gitops.compare import Comparer
from rollouts.gitops.comparison import Comparison, ComparisonError, Outcome, SpecError
from rollouts.gitops.custom_health import HealthAssessor
from rollouts.gitops.health.customizations import SETTINGS_CONFIGMAP, parse_customizations
from rollouts.gitops.live import LiveState
from rollouts.gitops.plan import (
    ApplicationPlan,
    ClearRefreshAnnotation,
    PollTiming,
    plan_application,
    plan_invalid_spec,
)
from rollouts.gitops.project import PERMISSIVE, application_violations
from rollouts.gitops.refresh import Jitter, Monotonic, PollSchedule, Refresh
from rollouts.gitops.runner import SyncRunner
from rollouts.gitops.sources import Sources
from rollouts.gitops.spec import parse_application
from rollouts.gitops.sync import SyncStep
from rollouts.gitops.webhook import DEFAULT_MAX_PAYLOAD_MB, webhook_app
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import AlreadyExists, ApiError, NotFound
from rollouts.kube.informer import Informer
from rollouts.kube.resources import APPLICATION, APPPROJECT, CONFIGMAP
from rollouts.kube.worker import run_worker
from rollouts.kube.workqueue import WorkQueue

log = structlog.get_logger("rollouts.gitops")
Obj = dict[str, Any]
Clock = Callable[[], datetime]
RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io"
RETRY_AFTER_API_ERROR = 2.0
PROJECTS_SYNC_TIMEOUT = 10.0
"""Seconds to wait for the AppProject watch at start; without the CRD only the built-in default exists."""


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class GitopsConfig:
    namespace: str = "argocd"
    """Namespace of the Application objects (and of repository credential Secrets)."""
    workers: int = 4
    poll_interval: float = 180.0
    poll_jitter: float = 0.1
    """Fraction of the poll interval added at random to each application's next poll."""
    cache_dir: Path | None = None
    webhook_port: int = 0
    webhook_bind: str = "127.0.0.1"
    webhook_secret: str | None = None
    webhook_max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_MB * 1024 * 1024
    """Push payloads above this are answered 413 (GitHub sends up to 25 MB)."""


class ApplicationReconciler:
    def __init__(self, client: KubeClient, config: GitopsConfig, *, clock: Clock = utc_now,
                 monotonic: Monotonic | None = None, jitter: Jitter | None = None) -> None:
        self.client = client
        self.config = config
        self.clock = clock
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        cache_dir = config.cache_dir
        if cache_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="rollouts-gitops-")
            cache_dir = Path(self._tmp.name)
        self.sources = Sources(cache_dir)
        self.queue: WorkQueue[str] = WorkQueue(name="Applications")
        self.live = LiveState(client, self.queue.add)
        self.health = HealthAssessor()
        self.comparer = Comparer(client, self.sources, self.live, namespace=config.namespace, health=self.health)
        self.runner = SyncRunner(client, self.live, on_applied=self.comparer.remember, health=self.health)
        self.apps = Informer(client, APPLICATION, namespace=config.namespace, handler=self._on_app_event)
        # argocd-cm, as in Argo CD: user health checks (resource.customizations.health.<group_kind>).
        self.settings = Informer(client, CONFIGMAP, namespace=config.namespace, handler=self._on_settings_event)
        self.projects = Informer(client, APPPROJECT, namespace=config.namespace, handler=self._on_project_event)
        self.polls = PollSchedule(config.poll_interval, config.poll_jitter, monotonic=monotonic, rand=jitter)
        self.reconciles = 0

    def _on_app_event(self, etype: str, obj: Obj) -> None:
        name = str((obj.get("metadata") or {}).get("name") or "")
        if etype == "DELETED":
            self.polls.forget(name)
            return
        self.queue.add(name)

    def _on_settings_event(self, etype: str, obj: Obj) -> None:
        if (obj.get("metadata") or {}).get("name") != SETTINGS_CONFIGMAP:
            return
        customizations = parse_customizations({} if etype == "DELETED" else obj.get("data") or {})
        for problem in customizations.problems:
            log.warning("argocd-cm health customization ignored", problem=problem)
        if self.health.configure(customizations):
            log.info("health customizations changed", scripts=sorted(customizations.scripts))
            for item in self.apps.items(self.config.namespace):
                self.queue.add(str((item.get("metadata") or {}).get("name") or ""))

    def _on_project_event(self, etype: str, obj: Obj) -> None:
        """A project changed: its applications are evaluated again (a tightened rule applies at once)."""
        project = str((obj.get("metadata") or {}).get("name") or "")
        for app in self.apps.items():
            if str((app.get("spec") or {}).get("project") or DEFAULT_PROJECT) == project:
                self.queue.add(str(app["metadata"]["name"]))

    def project_of(self, app: Application) -> tuple[AppProjectSpec | None, str | None]:
        """(the project's spec, a problem with it); the ``default`` project is permissive until it exists."""
        raw = self.projects.get(self.config.namespace, app.spec.project)
        if raw is None:
            return (PERMISSIVE if app.spec.project == DEFAULT_PROJECT else None), None
        try:
            return AppProject.model_validate(raw).spec, None
        except ValidationError as exc:
            return None, f"project {app.spec.project} is invalid: {exc.errors()[0]['msg']}"

    def refresh(self, name: str) -> None:
        """Fetch Git for this application on its next pass (webhook, CLI)."""
        self.polls.request(name)
        self.queue.add(name)

    # -- one pass: observe -> plan -> execute -> one status write ----------------------------------------

    async def reconcile(self, name: str) -> float | None:
        """One pass over one application; returns when to look again (seconds) or None."""
        self.reconciles += 1
        try:
            obj = await self.client.get(APPLICATION, name, self.config.namespace)
        except NotFound:
            self.polls.forget(name)
            return None
        if (obj.get("metadata") or {}).get("deletionTimestamp"):
            return await self._finalize(obj)
        now = self.clock()
        app, problem = parse_application(obj)
        if app is None:
            await self._execute(obj, plan_invalid_spec(obj.get("status") or {}, problem, now))
            return None
        refresh = self.polls.decide(name, (app.metadata.annotations or {}).get(REFRESH_ANNOTATION))
        project, project_problem = self.project_of(app)
        comparison = await self._observe(app, refresh, project, project_problem)
        poll = PollTiming(refresh.fetch, self.polls.next_poll_in(name, fetched=refresh.fetch),
                          clear_refresh_annotation=refresh.annotated)
        try:
            progress = await self._advance_operation(app, comparison, now, project)
        except ApiError as exc:
            log.warning("sync step failed, retrying", app=name, error=exc.message)
            return RETRY_AFTER_API_ERROR
        plan = plan_application(app, comparison, progress, status=obj.get("status") or {}, now=now, poll=poll,
                                sync_windows=project.sync_windows or () if project is not None else ())
        await self._execute(obj, plan)
        return plan.requeue

    async def _observe(self, app: Application, refresh: Refresh, project: AppProjectSpec | None,
                       project_problem: str | None) -> Outcome:
        violations = (project_problem,) if project_problem else application_violations(app, project)
        if violations:
            return SpecError(*violations)
        if refresh.hard:
            self.comparer.invalidate(app.metadata.name or "")
        await self._watch_status_kinds(app)
        try:
            return await self.comparer.compare_app(app, fetch=refresh.fetch, newer_than=refresh.newer_than)
        except ComparisonError as exc:
            return exc
        except ApiError as exc:
            return ComparisonError(f"cannot compare with the cluster: {exc.message}")

    async def _advance_operation(self, app: Application, comparison: Outcome, now: datetime,
                                 project: AppProjectSpec | None) -> SyncStep | None:
        """One step of the running sync operation, if any (the runner performs its actions)."""
        if app.operation is None or app.operation.sync is None:
            return None
        if not isinstance(comparison, SpecError):
            comparison = await self._operation_comparison(app, comparison)
        return await self.runner.step(app, comparison, now=now, project=project)

    async def _finalize(self, obj: Obj) -> float | None:
        """Cascade deletion, as Argo CD's resources finalizer: delete what the app owns, then let it go."""
        meta = obj["metadata"]
        name = str(meta["name"])
        finalizers = list(meta.get("finalizers") or [])
        if RESOURCES_FINALIZER not in finalizers:
            return None
        remaining = 0
        found: dict[tuple[str, str, str, str], tuple[Any, Obj]] = {}
        for res in (obj.get("status") or {}).get("resources") or []:
            group, version = str(res.get("group") or ""), str(res.get("version") or "")
            if not version:
                continue
            with contextlib.suppress(ApiError, TimeoutError):
                kind = await self.client.resolve(f"{group}/{version}" if group else version, str(res["kind"]))
                await self.live.ensure(kind)
        for kind, key, live in self.live.owned_by(name):
            found[(key.group, key.kind, key.namespace, key.name)] = (kind, live)
        for kind, live in found.values():
            live_meta = live.get("metadata") or {}
            remaining += 1
            if live_meta.get("deletionTimestamp"):
                continue
            with contextlib.suppress(NotFound):
                await self.client.delete(kind, str(live_meta["name"]), live_meta.get("namespace"),
                                         propagation="Foreground")
        if remaining:
            return 1.0
        finalizers.remove(RESOURCES_FINALIZER)
        with contextlib.suppress(NotFound):
            await self.client.patch(APPLICATION, name, [
                {"op": "test", "path": "/metadata/resourceVersion", "value": meta["resourceVersion"]},
                {"op": "replace", "path": "/metadata/finalizers", "value": finalizers}],
                self.config.namespace, patch_type="json")
        return None

    async def _operation_comparison(self, app: Application, comparison: Outcome) -> Outcome:
        """The comparison at the operation's revision/source (a rollback names an older commit)."""
        assert app.operation is not None and app.operation.sync is not None
        sync = app.operation.sync
        if sync.source is None and isinstance(comparison, Comparison) and (
                not sync.revision or comparison.revision.startswith(sync.revision)
                or sync.revision == app.spec.source.target_revision):
            return comparison
        try:
            return await self.comparer.compare_app(app, fetch=False, revision=sync.revision, source=sync.source)
        except ComparisonError as exc:
            return exc
        except ApiError as exc:
            return ComparisonError(f"cannot compare with the cluster: {exc.message}")

    async def _watch_status_kinds(self, app: Application) -> None:
        """Watch every kind this application had, so objects that left Git are still found for pruning."""
        for res in (app.status.resources or []) if app.status else []:
            api_version = f"{res.group}/{res.version}" if res.group else res.version
            if not res.version:
                continue
            try:
                kind = await self.client.resolve(api_version, res.kind)
                await self.live.ensure(kind)
            except (ApiError, TimeoutError):
                continue

    async def _execute(self, obj: Obj, plan: ApplicationPlan) -> None:
        """One JSON patch of status and operation; then the refresh annotation, when a refresh was served."""
        name = str(obj["metadata"]["name"])
        ops: list[Obj] = []
        if plan.status != (obj.get("status") or {}):
            ops.append({"op": "add", "path": "/status", "value": plan.status})
        if plan.clear_operation and obj.get("operation") is not None:
            ops += [{"op": "test", "path": "/operation", "value": obj["operation"]},
                    {"op": "remove", "path": "/operation"}]
        if plan.new_operation is not None:
            ops.append({"op": "add", "path": "/operation", "value": plan.new_operation})
            if obj.get("operation") is None:
                ops.insert(0, {"op": "test", "path": "/metadata/resourceVersion",
                               "value": obj["metadata"]["resourceVersion"]})
        if ops:
            updated = await self.client.patch(APPLICATION, name, ops, self.config.namespace, patch_type="json")
            self.apps.upsert(updated)
        if any(isinstance(action, ClearRefreshAnnotation) for action in plan.actions):
            with contextlib.suppress(ApiError):
                await self.client.patch(APPLICATION, name, {"metadata": {"annotations": {REFRESH_ANNOTATION: None}}},
                                        self.config.namespace)

    # -- loops -----------------------------------------------------------------------------------------

    async def _default_project(self) -> None:
        """Create the permissive ``default`` AppProject, as Argo CD does, when it is missing."""
        try:
            await asyncio.wait_for(self.projects.synced.wait(), PROJECTS_SYNC_TIMEOUT)
        except TimeoutError:
            log.warning("AppProjects are not served (is the AppProject CRD installed?); only the built-in "
                        "permissive 'default' project exists", namespace=self.config.namespace)
            return
        if self.projects.get(self.config.namespace, DEFAULT_PROJECT) is not None:
            return
        try:
            created = await self.client.create(APPPROJECT, default_project_body(self.config.namespace),
                                               self.config.namespace)
        except AlreadyExists:
            return
        except ApiError as exc:
            log.warning("cannot create the default AppProject", error=exc.message)
            return
        self.projects.upsert(created)

    async def worker(self) -> None:
        await run_worker(self.queue, self.reconcile, kind="application", log=log, fields=lambda name: {"app": name})

    def _webhook_targets(self) -> list[tuple[str, str, str]]:
        out = []
        for obj in self.apps.items():
            source = (obj.get("spec") or {}).get("source") or {}
            out.append((str(obj["metadata"]["name"]), str(source.get("repoURL") or ""),
                        str(source.get("targetRevision") or "HEAD")))
        return out

    async def run(self, stop: asyncio.Event) -> None:
        tasks = [asyncio.create_task(self.apps.run(), name="gitops-applications"),
                 asyncio.create_task(self.settings.run(), name="gitops-settings"),
                 asyncio.create_task(self.projects.run(), name="gitops-projects"),
                 asyncio.create_task(self.queue.run_timers(), name="gitops-timers")]
        runner: web.AppRunner | None = None
        try:
            if self.config.webhook_port:
                runner = web.AppRunner(webhook_app(self._webhook_targets, self.refresh,
                                                   secret=self.config.webhook_secret,
                                                   max_payload_bytes=self.config.webhook_max_payload_bytes),
                                       access_log=None)
                await runner.setup()
                await web.TCPSite(runner, self.config.webhook_bind, self.config.webhook_port).start()
            await self.apps.synced.wait()
            with contextlib.suppress(TimeoutError):  # user health checks before the first pass, if readable
                await asyncio.wait_for(self.settings.synced.wait(), 10)
            await self._default_project()
            tasks += [asyncio.create_task(self.worker(), name=f"gitops-worker-{n}")
                      for n in range(self.config.workers)]
            log.info("application reconciler started", namespace=self.config.namespace,
                     applications=len(self.apps), webhook_port=self.config.webhook_port or None)
            await stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await self.live.close()
            self.health.close()
            if runner is not None:
                await runner.cleanup()
            if self._tmp is not None:
                self._tmp.cleanup()


async def run_applications(
    client: KubeClient,
    *,
    namespace: str,
    stop_event: asyncio.Event,
    workers: int = 4,
    poll_interval: float = 180.0,
    cache_dir: Path | None = None,
    webhook_port: int = 0,
    webhook_bind: str = "127.0.0.1",
    webhook_secret: str | None = None,
    webhook_max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_MB * 1024 * 1024,
) -> None:
    """Run the Application reconciler until ``stop_event`` is set (started by ``rollouts controller``)."""
    config = GitopsConfig(namespace=namespace, workers=workers, poll_interval=poll_interval, cache_dir=cache_dir,
                          webhook_port=webhook_port, webhook_bind=webhook_bind, webhook_secret=webhook_secret,
                          webhook_max_payload_bytes=webhook_max_payload_bytes)
    await ApplicationReconciler(client, config).run(stop_event)
