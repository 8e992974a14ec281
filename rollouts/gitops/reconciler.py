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

from rollouts.api.application import REFRESH_ANNOTATION, Application, SyncOperation
from rollouts.api.appproject import DEFAULT_PROJECT, AppProject, AppProjectSpec, default_project_body
from rollouts.gitops.clusters import (
    IN_CLUSTER_ENABLED_KEY,
    Clusters,
    resolve_destination,
    scoped_destinations,
    unreachable_message,
)
from rollouts.gitops.comparison import ClusterError, Comparison, ComparisonError, Outcome, SpecError
from rollouts.gitops.connections import ClusterConnection, ConnectionContext, Connections, Unavailable
from rollouts.gitops.custom_health import HealthAssessor
from rollouts.gitops.health.customizations import SETTINGS_CONFIGMAP, parse_customizations
from rollouts.gitops.impersonation import ImpersonationSettings, SyncIdentity, impersonation_settings, sync_identity
from rollouts.gitops.orphans import warns_of_orphans
from rollouts.gitops.plan import (
    ApplicationPlan,
    ClearRefreshAnnotation,
    PollTiming,
    plan_application,
    plan_invalid_spec,
)
from rollouts.gitops.project import (
    PERMISSIVE,
    ResolvedDestination,
    application_violations,
    missing_project_message,
    source_violation,
    with_scoped_clusters,
)
from rollouts.gitops.refresh import Jitter, Monotonic, PollSchedule, Refresh
from rollouts.gitops.renderers import ManifestCache
from rollouts.gitops.sources import Sources
from rollouts.gitops.spec import parse_application
from rollouts.gitops.sync import SyncStep
from rollouts.gitops.webhook import DEFAULT_MAX_PAYLOAD_MB, webhook_app
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import AlreadyExists, ApiError, NotFound
from rollouts.kube.informer import Informer
from rollouts.kube.resources import APPLICATION, APPPROJECT, CONFIGMAP
from rollouts.kube.shards import ShardSet
from rollouts.kube.worker import run_worker
from rollouts.kube.workqueue import WorkQueue

log = structlog.get_logger("rollouts.gitops")
Obj = dict[str, Any]
Clock = Callable[[], datetime]
RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io"
RETRY_AFTER_API_ERROR = 2.0
PROJECTS_SYNC_TIMEOUT = 10.0
"""Seconds to wait for the AppProject watch at start; without the CRD only the built-in default exists."""


FINALIZE_RETRY = 5.0
"""Seconds before a deleted application whose cluster does not answer is looked at again."""


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Placement:
    """Where one application deploys, found before anything is compared: the connection to its cluster, the
    destination its project rules see, whom a sync writes as; or the condition saying why it cannot deploy."""

    connection: ClusterConnection | None = None
    destination: ResolvedDestination | None = None
    problem: ComparisonError | None = None
    identity: SyncIdentity | None = None


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


def _operation_matches(app: Application, comparison: Outcome, sync: SyncOperation) -> bool:
    """Whether the spec's comparison already is the one the operation asks for (no other revision or source)."""
    if not isinstance(comparison, Comparison):
        return False
    if app.spec.has_multiple_sources:
        wanted = sync.revisions or []
        return sync.sources is None and all(
            not want or have.startswith(want) or want == source.target_revision
            for want, have, source in zip(wanted, comparison.revisions, app.spec.source_list(), strict=False))
    assert app.spec.source is not None
    return sync.source is None and (not sync.revision or comparison.revision.startswith(sync.revision)
                                    or sync.revision == app.spec.source.target_revision)


class ApplicationReconciler:
    def __init__(self, client: KubeClient, config: GitopsConfig, *, clock: Clock = utc_now,
                 monotonic: Monotonic | None = None, jitter: Jitter | None = None,
                 shards: ShardSet | None = None) -> None:
        self.client = client
        self.config = config
        self.shards = shards
        self.clock = clock
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        cache_dir = config.cache_dir
        if cache_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="rollouts-gitops-")
            cache_dir = Path(self._tmp.name)
        self.sources = Sources(cache_dir)
        self.queue: WorkQueue[str] = WorkQueue(name="Applications")
        self.health = HealthAssessor()
        self.connections = Connections(
            ConnectionContext(control=client, namespace=config.namespace, sources=self.sources,
                              manifests=ManifestCache(), health=self.health, wake=self.queue.add),
            on_change=self._on_clusters_changed)
        # The local cluster's connection (the other clusters' are made on first use, from their Secrets).
        self.live = self.connections.local.live
        self.comparer = self.connections.local.comparer
        self.runner = self.connections.local.runner
        self.impersonation = ImpersonationSettings()
        self.apps = Informer(client, APPLICATION, namespace=config.namespace, handler=self._on_app_event)
        if shards is not None:
            shards.requeue_on_acquire(self.apps, lambda key: self.queue.add(key[1]))
        # argocd-cm, as in Argo CD: user health checks (resource.customizations.health.<group_kind>).
        self.settings = Informer(client, CONFIGMAP, namespace=config.namespace, handler=self._on_settings_event)
        self.projects = Informer(client, APPPROJECT, namespace=config.namespace, handler=self._on_project_event)
        self.polls = PollSchedule(config.poll_interval, config.poll_jitter, monotonic=monotonic, rand=jitter)
        self.reconciles = 0
        self._written: dict[str, set[str]] = {}
        """Per application, the resourceVersions of our own writes whose watch events (echoes) are still due."""

    def _on_app_event(self, etype: str, obj: Obj) -> None:
        meta = obj.get("metadata") or {}
        name = str(meta.get("name") or "")
        if etype == "DELETED":
            self.polls.forget(name)
            self._written.pop(name, None)
            return
        echoes = self._written.get(name)
        if etype == "MODIFIED" and echoes is not None and str(meta.get("resourceVersion") or "") in echoes:
            # The echo of our own write: the pass that wrote it planned from exactly this object and queued
            # its own requeue; another pass would compare the same thing again and write nothing.
            echoes.discard(str(meta.get("resourceVersion") or ""))
            return
        self.queue.add(name)

    def _on_settings_event(self, etype: str, obj: Obj) -> None:
        if (obj.get("metadata") or {}).get("name") != SETTINGS_CONFIGMAP:
            return
        data = {} if etype == "DELETED" else obj.get("data") or {}
        customizations = parse_customizations(data)
        for problem in customizations.problems:
            log.warning("argocd-cm health customization ignored", problem=problem)
        changed = self.health.configure(customizations)
        if changed:
            log.info("health customizations changed", scripts=sorted(customizations.scripts))
        impersonation = impersonation_settings(data)
        in_cluster = data.get(IN_CLUSTER_ENABLED_KEY) != "false"
        if impersonation != self.impersonation or in_cluster != self.connections.in_cluster_enabled:
            log.info("sync settings changed", impersonation=impersonation.enabled, enforced=impersonation.enforced,
                     in_cluster_enabled=in_cluster)
            self.impersonation, self.connections.in_cluster_enabled = impersonation, in_cluster
            changed = True
        if changed:
            self._wake_all()

    def _wake_all(self) -> None:
        for item in self.apps.items(self.config.namespace):
            self.queue.add(str((item.get("metadata") or {}).get("name") or ""))

    def _on_clusters_changed(self) -> None:
        """A cluster Secret was added, edited or deleted: every application resolves its destination again."""
        self._wake_all()

    def _on_project_event(self, etype: str, obj: Obj) -> None:
        """A project changed: its applications are evaluated again (a tightened rule applies at once)."""
        project = str((obj.get("metadata") or {}).get("name") or "")
        for app in self.apps.items():
            if str((app.get("spec") or {}).get("project") or DEFAULT_PROJECT) == project:
                self.queue.add(str(app["metadata"]["name"]))

    def project_of(self, app: Application,
                   clusters: Clusters | None = None) -> tuple[AppProjectSpec | None, str | None]:
        """(the project's spec, a problem with it); the ``default`` project is permissive until it exists.
        Clusters scoped to the project add their destinations to it, as in Argo CD."""
        raw = self.projects.get(self.config.namespace, app.spec.project)
        if raw is None:
            spec = PERMISSIVE if app.spec.project == DEFAULT_PROJECT else None
        else:
            try:
                spec = AppProject.model_validate(raw).spec
            except ValidationError as exc:
                return None, f"project {app.spec.project} is invalid: {exc.errors()[0]['msg']}"
        if spec is not None and clusters is not None:
            spec = with_scoped_clusters(spec, scoped_destinations(clusters.project_clusters(app.spec.project)))
        return spec, None

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
        clusters = self.connections.clusters()
        project, project_problem = self.project_of(app, clusters)
        placement = await self._place(app, project, project_problem, clusters)
        comparison = await self._observe(app, refresh, placement)
        await self._find_orphans(app, project, comparison, placement)
        poll = PollTiming(refresh.fetch, self.polls.next_poll_in(name, fetched=refresh.fetch),
                          clear_refresh_annotation=refresh.annotated)
        try:
            progress = await self._advance_operation(app, comparison, now, project, placement)
        except ApiError as exc:
            if exc.status == 0 and placement.connection is not None:
                placement.connection.mark_down(exc.message)
            log.warning("sync step failed, retrying", app=name, error=exc.message)
            return RETRY_AFTER_API_ERROR
        plan = plan_application(app, comparison, progress, status=obj.get("status") or {}, now=now, poll=poll,
                                sync_windows=project.sync_windows or () if project is not None else ())
        await self._execute(obj, plan)
        return plan.requeue

    async def _place(self, app: Application, project: AppProjectSpec | None, project_problem: str | None,
                     clusters: Clusters) -> Placement:
        """Where the application deploys: its cluster resolved from the cluster Secrets, checked against the
        project (Argo CD's ValidatePermissions order: source, destination cluster, destination rules), and
        the connection to that cluster; or the condition that says why there is none."""
        if project_problem is not None:
            return Placement(problem=SpecError(project_problem))
        if project is None:
            return Placement(problem=SpecError(missing_project_message(app.spec.project)))
        sources = [source_violation(project, app.spec.project, s.repo_url) for s in app.spec.source_list()]
        cluster = resolve_destination(app.spec.destination, clusters)
        if isinstance(cluster, str):
            return Placement(problem=SpecError(*(m for m in (*sources, cluster) if m)))
        destination = ResolvedDestination(cluster, tuple(clusters.project_clusters(app.spec.project)))
        violations = application_violations(app, project, cluster, destination.scoped)
        if violations:
            return Placement(destination=destination, problem=SpecError(*violations))
        try:
            connection = await self.connections.get(cluster)
        except Unavailable as exc:
            return Placement(destination=destination, problem=ClusterError(str(exc)))
        identity = sync_identity(self.impersonation, project, app, cluster.server)
        return Placement(connection, destination, identity=identity)

    async def _observe(self, app: Application, refresh: Refresh, placement: Placement) -> Outcome:
        if placement.problem is not None:
            return placement.problem
        connection = placement.connection
        assert connection is not None
        if connection.down is not None:
            connection.waits(app.metadata.name or "")
            return ClusterError(connection.down)
        if refresh.hard:
            connection.comparer.invalidate(app.metadata.name or "")
        try:
            await self._watch_status_kinds(app, connection)
            return await connection.comparer.compare_app(app, fetch=refresh.fetch, newer_than=refresh.newer_than)
        except ComparisonError as exc:
            return exc
        except ApiError as exc:
            if exc.status == 0 and not connection.cluster.is_local:
                connection.mark_down(exc.message)
                connection.waits(app.metadata.name or "")
                return ClusterError(unreachable_message(connection.cluster, exc.message))
            where = "" if connection.cluster.is_local else f" {connection.cluster.server}"
            return ComparisonError(f"cannot compare with the cluster{where}: {exc.message}")

    async def _find_orphans(self, app: Application, project: AppProjectSpec | None, comparison: Outcome,
                            placement: Placement) -> None:
        """``orphanedResources.warn``: what else the destination namespace holds (onto the comparison)."""
        if not isinstance(comparison, Comparison) or placement.connection is None or not warns_of_orphans(project):
            return
        assert project is not None
        names = [str((a.get("metadata") or {}).get("name") or "") for a in self.apps.items(self.config.namespace)]
        try:
            comparison.orphaned = await placement.connection.comparer.orphaned(app, comparison, project, names)
        except ApiError as exc:
            log.warning("cannot look for orphaned resources", app=app.metadata.name, error=exc.message)

    async def _advance_operation(self, app: Application, comparison: Outcome, now: datetime,
                                 project: AppProjectSpec | None, placement: Placement) -> SyncStep | None:
        """One step of the running sync operation, if any (the runner performs its actions)."""
        if app.operation is None or app.operation.sync is None:
            return None
        connection = placement.connection or self.connections.local
        if not isinstance(comparison, SpecError):
            comparison = await self._operation_comparison(app, comparison, connection)
        return await connection.runner.step(app, comparison, now=now, project=project,
                                            destination=placement.destination, identity=placement.identity)

    async def _finalize(self, obj: Obj) -> float | None:
        """Cascade deletion, as Argo CD's resources finalizer: delete what the app owns, then let it go. An
        app whose cluster is no longer defined is let go at once; one whose cluster does not answer waits."""
        meta = obj["metadata"]
        name = str(meta["name"])
        finalizers = list(meta.get("finalizers") or [])
        if RESOURCES_FINALIZER not in finalizers:
            return None
        target = await self._deletion_target(obj)
        if isinstance(target, float):
            return target
        if target is not None and await self._delete_owned(name, obj, *target):
            return 1.0
        finalizers.remove(RESOURCES_FINALIZER)
        with contextlib.suppress(NotFound):
            await self.client.patch(APPLICATION, name, [
                {"op": "test", "path": "/metadata/resourceVersion", "value": meta["resourceVersion"]},
                {"op": "replace", "path": "/metadata/finalizers", "value": finalizers}],
                self.config.namespace, patch_type="json")
        return None

    async def _deletion_target(self, obj: Obj) -> tuple[ClusterConnection, KubeClient] | float | None:
        """(the cluster's connection, the client that deletes) for a deleted app; None: its cluster is not
        defined (nothing can be deleted); seconds to wait: the cluster does not answer or no one may delete."""
        app, _ = parse_application(obj)
        if app is None:
            return self.connections.local, self.client
        clusters = self.connections.clusters()
        cluster = resolve_destination(app.spec.destination, clusters)
        if isinstance(cluster, str):
            log.warning("unable to get destination cluster; releasing the application", app=app.metadata.name,
                        error=cluster)
            return None
        try:
            connection = await self.connections.get(cluster)
        except Unavailable:
            return FINALIZE_RETRY
        if connection.down is not None:
            connection.waits(app.metadata.name or "")
            return FINALIZE_RETRY
        project, _ = self.project_of(app, clusters)
        identity = sync_identity(self.impersonation, project, app, cluster.server)
        if identity.refusal is not None:
            log.warning("cannot delete the application's resources", app=app.metadata.name, error=identity.refusal)
            return FINALIZE_RETRY
        client = connection.client.impersonating(identity.user) if identity.user else connection.client
        return connection, client

    async def _delete_owned(self, name: str, obj: Obj, connection: ClusterConnection, client: KubeClient) -> int:
        """Delete (foreground) every object the app owns; how many still exist."""
        remaining = 0
        found: dict[tuple[str, str, str, str], tuple[Any, Obj]] = {}
        for res in (obj.get("status") or {}).get("resources") or []:
            group, version = str(res.get("group") or ""), str(res.get("version") or "")
            if not version:
                continue
            with contextlib.suppress(ApiError, TimeoutError):
                kind = await connection.client.resolve(f"{group}/{version}" if group else version, str(res["kind"]))
                await connection.live.ensure(kind)
        for kind, key, live in connection.live.owned_by(name):
            found[(key.group, key.kind, key.namespace, key.name)] = (kind, live)
        for kind, live in found.values():
            live_meta = live.get("metadata") or {}
            remaining += 1
            if live_meta.get("deletionTimestamp"):
                continue
            with contextlib.suppress(NotFound):
                await client.delete(kind, str(live_meta["name"]), live_meta.get("namespace"), propagation="Foreground")
        return remaining

    async def _operation_comparison(self, app: Application, comparison: Outcome,
                                    connection: ClusterConnection) -> Outcome:
        """The comparison at the operation's revision/source (a rollback names an older commit)."""
        assert app.operation is not None and app.operation.sync is not None
        sync = app.operation.sync
        if isinstance(comparison, ClusterError) or _operation_matches(app, comparison, sync):
            return comparison
        try:
            return await connection.comparer.compare_app(app, fetch=False, revision=sync.revision,
                                                         source=sync.source, revisions=sync.revisions,
                                                         sources=sync.sources)
        except ComparisonError as exc:
            return exc
        except ApiError as exc:
            return ComparisonError(f"cannot compare with the cluster: {exc.message}")

    async def _watch_status_kinds(self, app: Application, connection: ClusterConnection) -> None:
        """Watch every kind this application had, so objects that left Git are still found for pruning."""
        for res in (app.status.resources or []) if app.status else []:
            api_version = f"{res.group}/{res.version}" if res.group else res.version
            if not res.version:
                continue
            try:
                kind = await connection.client.resolve(api_version, res.kind)
                await connection.live.ensure(kind)
            except ApiError as exc:
                if exc.status == 0:
                    raise
                continue
            except TimeoutError:
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
            self._wrote(updated)
        if any(isinstance(action, ClearRefreshAnnotation) for action in plan.actions):
            with contextlib.suppress(ApiError):
                self._wrote(await self.client.patch(APPLICATION, name, {"metadata": {"annotations": {
                    REFRESH_ANNOTATION: None}}}, self.config.namespace))

    def _wrote(self, updated: Obj) -> None:
        """Our write is in the cache at once, and its watch event will not wake the application again."""
        self.apps.upsert(updated)
        meta = updated.get("metadata") or {}
        echoes = self._written.setdefault(str(meta.get("name") or ""), set())
        if len(echoes) > 8:  # echoes a relist skipped never arrive: keep only the recent ones
            echoes.clear()
        echoes.add(str(meta.get("resourceVersion") or ""))

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
        await run_worker(self.queue, self.reconcile, kind="application", log=log, fields=lambda name: {"app": name},
                         shards=self.shards, shard_key=lambda name: f"{self.config.namespace}/{name}")

    def _webhook_targets(self) -> list[tuple[str, str, str]]:
        """(app, repoURL, targetRevision) for every source of every application (a push to any source
        refreshes a multi-source application)."""
        out = []
        for obj in self.apps.items():
            spec = obj.get("spec") or {}
            for source in spec.get("sources") or [spec.get("source") or {}]:
                out.append((str(obj["metadata"]["name"]), str(source.get("repoURL") or ""),
                            str(source.get("targetRevision") or "HEAD")))
        return out

    async def run(self, stop: asyncio.Event) -> None:
        tasks = [asyncio.create_task(self.apps.run(), name="gitops-applications"),
                 asyncio.create_task(self.connections.secrets.run(), name="gitops-cluster-secrets"),
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
            await self.connections.secrets.synced.wait()
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
            await self.connections.close()
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
    shards: ShardSet | None = None,
) -> None:
    """Run the Application reconciler until ``stop_event`` is set (started by ``rollouts controller``); sharded,
    for the Applications of the shards this replica holds."""
    config = GitopsConfig(namespace=namespace, workers=workers, poll_interval=poll_interval, cache_dir=cache_dir,
                          webhook_port=webhook_port, webhook_bind=webhook_bind, webhook_secret=webhook_secret,
                          webhook_max_payload_bytes=webhook_max_payload_bytes)
    await ApplicationReconciler(client, config, shards=shards).run(stop_event)
