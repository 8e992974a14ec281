"""Compare an Application's source at a commit with the cluster: what to apply, what drifted, what is healthy.

Why this module exists: this is the observe step of the reconciler, shared by the status refresh, the sync
operation and ``kubectl rollouts app diff``. It resolves the revision, renders the manifests, resolves every
kind through API discovery (an unknown kind is a ComparisonError naming it, unless a CRD in the same
application defines it), defaults namespaces from the destination, and compares each object with a
*server-side dry-run apply* of the desired object, so the API server's own defaulting decides what "equal"
means (see ``diff.py``). Dry-run results are cached by (desired object, live resourceVersion): an application
that did not change costs no API call per resource on the next pass.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rollouts.api.application import Application, ApplicationSource, ResourceIgnoreDifferences, RevisionMetadata
from rollouts.api.appproject import AppProjectSpec
from rollouts.gitops.clusters import LOCAL, Cluster, unmanaged
from rollouts.gitops.comparison import Comparison, ComparisonError, ResourceState, SourceError, joint_revision
from rollouts.gitops.custom_health import HealthAssessor
from rollouts.gitops.diff import ResourceDiff, compare
from rollouts.gitops.health import resource_health
from rollouts.gitops.live import LiveState
from rollouts.gitops.orphans import is_watched_kind, orphaned_resources
from rollouts.gitops.render import ClusterCapabilities, RenderError
from rollouts.gitops.renderers import ManifestCache, cache_key, render_source, with_ref_value_files
from rollouts.gitops.rollout_fields import with_rollout_fields
from rollouts.gitops.source import SECRET_TYPE_LABEL, RepoCredentials, credentials_for
from rollouts.gitops.sources import Sources
from rollouts.gitops.tracking import ResourceKey, key_of, with_tracking
from rollouts.gitops.waves import is_hook, option_enabled, parse_sync_options, resource_sync_options, sync_wave
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import ApiError, NotFound
from rollouts.kube.resources import SECRET, ResourceKind

FIELD_MANAGER = "rollouts-gitops"
_CAPABILITIES_TTL = 300.0
Obj = dict[str, Any]


def _hash(obj: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def _slim(obj: Obj) -> Obj:
    """Without managedFields: large, and never compared (normalisation drops them)."""
    meta = obj.get("metadata")
    if isinstance(meta, dict) and "managedFields" in meta:
        obj = {**obj, "metadata": {k: v for k, v in meta.items() if k != "managedFields"}}
    return obj


class Comparer:
    """Observe step: desired (Git) vs live (cluster) for one application."""

    def __init__(
        self,
        client: KubeClient,
        sources: Sources,
        live: LiveState,
        *,
        namespace: str,
        manifests: ManifestCache | None = None,
        dry_run_cache_size: int = 20_000,
        concurrency: int = 8,
        health: HealthAssessor | None = None,
        cluster: Cluster = LOCAL,
        control: KubeClient | None = None,
    ) -> None:
        self.concurrency = concurrency
        self.cluster = cluster
        """The destination cluster this comparer reads and dry-runs against (``client`` is connected to it)."""
        self.control = control or client
        """The cluster where the Applications and repository Secrets live (the controller's own)."""
        self.health = health or HealthAssessor()
        self._cluster: tuple[float, ClusterCapabilities | None] = (float("-inf"), None)
        self.client = client
        self.sources = sources
        self.live = live
        self.namespace = namespace
        self.manifests = manifests or ManifestCache()
        self._predicted: OrderedDict[tuple[str, str], Obj] = OrderedDict()
        self._dry_run_cache_size = dry_run_cache_size
        self._render_keys: dict[str, set[str]] = {}
        self._secrets: tuple[float, list[Obj]] = (float("-inf"), [])
        self._kinds: tuple[float, tuple[ResourceKind, ...]] = (float("-inf"), ())

    # -- desired ---------------------------------------------------------------------------------------

    async def _credentials(self, repo_url: str) -> RepoCredentials | None:
        """Credentials from the repository Secrets, listed at most every 30 s (not once per application)."""
        if repo_url.startswith("file://") or repo_url.startswith("/"):
            return None
        listed_at, secrets = self._secrets
        if time.monotonic() - listed_at > 30:
            try:
                secrets, _ = await self.control.list(SECRET, self.namespace, label_selector=SECRET_TYPE_LABEL)
            except ApiError:
                return None
            self._secrets = (time.monotonic(), secrets)
        return credentials_for(repo_url, secrets)

    def invalidate(self, app_name: str) -> None:
        """Hard refresh: forget this application's renders."""
        self.manifests.invalidate(self._render_keys.pop(app_name, set()))

    async def resolve_revision(self, source: ApplicationSource, *, fetch: bool, revision: str | None = None,
                               newer_than: float | None = None) -> str:
        source_type = self.sources.for_source(source)
        creds = await self._credentials(source.repo_url)
        try:
            return await source_type.resolve(source, revision or source.target_revision, creds, fetch=fetch,
                                             newer_than=newer_than)
        except SourceError:
            self._secrets = (float("-inf"), [])  # a fixed Secret must be seen by the next attempt
            raise

    async def render(self, app: Application, source: ApplicationSource, commit: str, namespace: str, *,
                     refs: Mapping[str, Path] | None = None) -> Any:
        """The manifests of ``source`` at ``commit``; ``refs`` (multi-source) are the checkouts of the ``ref``
        sources by ``$name``, for ``$name/...`` Helm value files."""
        try:
            if refs is not None:
                source = with_ref_value_files(source, refs)
            checkout = await self.sources.for_source(source).files(source, commit)
            cluster = await self._capabilities() if self._renders_with_helm(source) else None
            rendered = await render_source(checkout, source, commit=commit, release=app.metadata.name or "",
                                           namespace=namespace, cache=self.manifests, cluster=cluster)
        except (SourceError, RenderError) as exc:
            what = f"chart {source.chart!r}" if source.chart is not None else repr(source.path)
            raise ComparisonError(f"rpc error: failed to generate manifests for {what} at {commit[:10]}: "
                                  f"{exc}") from None
        self._render_keys.setdefault(app.metadata.name or "", set()).add(
            cache_key(commit, source, release=app.metadata.name or "", namespace=namespace, cluster=cluster))
        return rendered

    @staticmethod
    def _renders_with_helm(source: ApplicationSource) -> bool:
        """Only Helm reads the cluster's capabilities; a chart directory without a ``helm:`` block counts too."""
        return source.kustomize is None and source.directory is None

    async def _capabilities(self) -> ClusterCapabilities | None:
        """The destination's version and APIs for ``helm template`` (Argo CD passes both), read at most every
        5 minutes; unreadable -> None (Helm's defaults), never a failed render."""
        at, known = self._cluster
        if known is not None and time.monotonic() - at < _CAPABILITIES_TTL:
            return known
        try:
            version, api_versions = await self.client.capabilities()
        except ApiError:
            return known
        self._cluster = (time.monotonic(), ClusterCapabilities(version, api_versions))
        return self._cluster[1]

    async def _resolve_kind(self, manifest: Obj, crd_kinds: set[tuple[str, str]], *,
                            skip_dry_run: bool) -> tuple[ResourceKind | None, str | None]:
        """(the kind, None), or (None, why it is accepted unresolved); an unknown kind otherwise raises."""
        api_version, kind_name = str(manifest["apiVersion"]), str(manifest["kind"])
        group = api_version.rpartition("/")[0]
        try:
            return await self.client.resolve(api_version, kind_name), None
        except NotFound:
            pass
        if (group, kind_name) in crd_kinds:
            return None, f"{api_version}/{kind_name} is defined by a CRD of this application"
        name = (manifest.get("metadata") or {}).get("name")
        missing = (f"the Kubernetes API could not find {group or 'core'}/{kind_name} ({api_version}) for requested "
                   f"resource {name!r}")
        own = resource_sync_options(manifest).get("SkipDryRunOnMissingResource")
        if (own.lower() == "true") if own is not None else skip_dry_run:
            return None, f"{missing} (SkipDryRunOnMissingResource=true skipped the dry run; the kind is still unknown)"
        raise ComparisonError(f"{missing}: make sure the kind exists or its CRD is installed")

    async def _prepare(self, manifests: Sequence[Obj], namespace: str, app_name: str, *,
                       skip_dry_run: bool = False) -> tuple[list[tuple[ResourceKind | None, Obj]],
                                                            dict[ResourceKey, str], dict[ResourceKey, str]]:
        """Resolve kinds, default namespaces, add tracking. Unknown kinds raise, unless a CRD here defines them
        (pending) or SkipDryRunOnMissingResource=true lets them through (unverified)."""
        crd_kinds = {
            (str((m.get("spec") or {}).get("group") or ""), str(((m.get("spec") or {}).get("names") or {}).get("kind")))
            for m in manifests if m.get("kind") == "CustomResourceDefinition"
        }
        out: list[tuple[ResourceKind | None, Obj]] = []
        pending: dict[ResourceKey, str] = {}
        unverified: dict[ResourceKey, str] = {}
        for manifest in manifests:
            kind, reason = await self._resolve_kind(manifest, crd_kinds, skip_dry_run=skip_dry_run)
            obj = dict(manifest)
            meta = dict(obj.get("metadata") or {})
            if kind is None or kind.namespaced:
                if not meta.get("namespace"):
                    if not namespace:
                        raise ComparisonError(
                            f"{manifest['kind']} {meta.get('name')!r} has no namespace and the application's "
                            "destination.namespace is empty")
                    meta["namespace"] = namespace
            else:
                meta.pop("namespace", None)
            obj["metadata"] = meta
            tracked = with_tracking(obj, app_name) if meta.get("name") else obj
            if reason is not None:
                (unverified if "SkipDryRunOnMissingResource" in reason else pending)[key_of(tracked)] = reason
            out.append((kind, tracked))
        return out, pending, unverified

    # -- live & diff -----------------------------------------------------------------------------------

    async def predicted(self, kind: ResourceKind, desired: Obj, live: Obj) -> Obj:
        """The live object as it would be after our apply (server-side dry run), cached."""
        rv = str((live.get("metadata") or {}).get("resourceVersion") or "")
        cache_id = (_hash(desired), f"{kind}/{rv}")
        hit = self._predicted.get(cache_id)
        if hit is not None:
            self._predicted.move_to_end(cache_id)
            return hit
        result = _slim(await self.client.apply(kind, desired, field_manager=FIELD_MANAGER, force=True,
                                               dry_run=True))
        self._predicted[cache_id] = result
        while len(self._predicted) > self._dry_run_cache_size:
            self._predicted.popitem(last=False)
        return result

    def remember(self, kind: ResourceKind, desired: Obj, applied: Obj) -> None:
        """Our own apply's answer is exactly what a dry run against that resourceVersion would return."""
        rv = str((applied.get("metadata") or {}).get("resourceVersion") or "")
        self._predicted[(_hash(desired), f"{kind}/{rv}")] = _slim(applied)

    async def _live(self, kind: ResourceKind, key: ResourceKey, *, fresh: bool) -> Obj | None:
        if not fresh:
            # The watch holds every object carrying our label; one without it is not ours yet and is
            # reported missing (the sync adopts it), so no GET per missing object.
            try:
                await self.live.ensure(kind)
            except TimeoutError:
                raise ComparisonError(f"cannot list and watch {kind} to compare {key}: the watch did not sync "
                                      "in time (does the controller's RBAC allow list/watch of this kind?)") from None
            return self.live.get(kind, key.namespace, key.name)
        try:
            return await self.client.get(kind, key.name, key.namespace or None)
        except NotFound:
            return None

    async def compare_app(
        self,
        app: Application,
        *,
        fetch: bool,
        revision: str | None = None,
        source: ApplicationSource | None = None,
        fresh: bool = False,
        newer_than: float | None = None,
        revisions: Sequence[str] | None = None,
        sources: Sequence[ApplicationSource] | None = None,
    ) -> Comparison[ResourceKind]:
        """Full comparison at ``revision`` (default: the source's targetRevision) of ``source`` (default: spec);
        for a multi-source application at ``revisions`` of ``sources`` (by position; default: the spec's).

        ``fresh`` reads live objects from the API instead of the watch cache (sync waits, CLI diff).
        """
        namespace = app.spec.destination.namespace or ""
        if app.spec.has_multiple_sources:
            desired = await self._desired_sources(app, fetch=fetch, revisions=revisions, sources=sources,
                                                  newer_than=newer_than)
        else:
            desired = await self._desired_source(app, source or app.spec.source, fetch=fetch, revision=revision,
                                                 newer_than=newer_than)
        app_name = app.metadata.name or ""
        try:
            options = parse_sync_options(app.spec.sync_policy.sync_options if app.spec.sync_policy else None)
            prepared, pending, unverified = await self._prepare(
                desired.manifests, namespace, app_name,
                skip_dry_run=option_enabled(options, "SkipDryRunOnMissingResource"))
        except ValueError as exc:
            raise ComparisonError(str(exc)) from None
        self._check_managed(prepared)
        prepared, repeated = last_of_each(prepared)
        split = _split(prepared, {**pending, **unverified})
        rules: list[ResourceIgnoreDifferences] = list(app.spec.ignore_differences or ())
        fresh = fresh or any(r.managed_fields_managers for r in rules)
        limit = asyncio.Semaphore(self.concurrency)

        async def one(kind: ResourceKind, obj: Obj, key: ResourceKey, wave: int) -> ResourceState[ResourceKind]:
            async with limit:
                return await self._compare_one(kind, obj, key, wave, rules=rules, fresh=fresh)

        resources = split.resources + list(await asyncio.gather(*(one(*item) for item in split.work)))
        kinds = dict(split.kinds)
        for kind, key, live_obj in self.live.owned_by(app_name):
            if key in split.seen or is_hook(live_obj):
                continue
            kinds[key] = kind
            resources.append(ResourceState(key, kind, None, live_obj, ResourceDiff(key, True),
                                           await self.health.health(live_obj), 0))
        comparison = Comparison(desired.revision, desired.source, desired.source_type, resources, split.hooks,
                                kinds, pending, desired.metadata, unverified, desired.revisions, desired.sources,
                                desired.source_types)
        comparison.repeated = repeated
        return comparison

    async def _desired_source(self, app: Application, source: ApplicationSource | None, *, fetch: bool,
                              revision: str | None, newer_than: float | None) -> _Desired:
        assert source is not None
        commit = await self.resolve_revision(source, fetch=fetch, revision=revision, newer_than=newer_than)
        rendered = await self.render(app, source, commit, app.spec.destination.namespace or "")
        metadata = await self.sources.for_source(source).metadata(source, commit)
        return _Desired(commit, source, rendered.source_type, list(rendered.manifests), metadata)

    async def _desired_sources(self, app: Application, *, fetch: bool, revisions: Sequence[str] | None,
                               sources: Sequence[ApplicationSource] | None, newer_than: float | None) -> _Desired:
        """Multi-source (Argo CD 2.6+): every source resolved (``revisions`` overrides them by position, as a
        sync operation's ``revisions`` do), the ``ref`` sources checked out for ``$ref/...`` value files, and
        the manifests of every source that has a ``path`` or a ``chart``, in order."""
        chosen = list(sources or app.spec.sources or ())
        wanted = list(revisions or ())
        commits = [await self.resolve_revision(s, fetch=fetch, newer_than=newer_than,
                                               revision=wanted[i] if i < len(wanted) and wanted[i] else None)
                   for i, s in enumerate(chosen)]
        refs: dict[str, Path] = {}
        for s, commit in zip(chosen, commits, strict=True):
            if s.ref:
                if s.chart is not None:
                    raise ComparisonError(f"source ref {s.ref!r}: source has a 'chart' field defined, but Helm charts "
                                          "are not yet not supported for 'ref' sources")
                try:
                    refs[f"${s.ref}"] = await self.sources.for_source(s).files(s, commit)
                except SourceError as exc:
                    raise ComparisonError(f"failed to get git client for repo {s.repo_url}: {exc}") from None
        manifests: list[Obj] = []
        types: list[str] = []
        namespace = app.spec.destination.namespace or ""
        for s, commit in zip(chosen, commits, strict=True):
            if s.renders_nothing():
                types.append("")
                continue
            rendered = await self.render(app, s, commit, namespace, refs=refs)
            manifests += rendered.manifests
            types.append(rendered.source_type)
        return _Desired(joint_revision(commits), chosen[0], next((t for t in types if t), ""), manifests, None,
                        tuple(commits), tuple(chosen), tuple(types))

    async def orphaned(self, app: Application, comparison: Comparison[ResourceKind], project: AppProjectSpec,
                       applications: Iterable[str]) -> tuple[ResourceKey, ...]:
        """The orphaned resources of the destination namespace (``orphans.py``): every namespaced kind the
        server lists, read in the namespace; a kind this controller may not list is left out."""
        namespace = app.spec.destination.namespace or ""
        if not namespace:
            return ()
        limit = asyncio.Semaphore(self.concurrency)

        async def objects(kind: ResourceKind) -> list[Obj]:
            if not is_watched_kind(kind.group, kind.kind):
                return []
            async with limit:
                try:
                    items, _ = await self.client.list(kind, namespace)
                except ApiError:
                    return []
            return [{**item, "apiVersion": kind.api_version, "kind": kind.kind} for item in items]

        live = [obj for batch in await asyncio.gather(*(objects(k) for k in await self._namespaced_kinds()))
                for obj in batch]
        managed = [r.key for r in comparison.resources]
        return tuple(orphaned_resources(live, managed=managed, project=project, applications=applications))

    async def _namespaced_kinds(self) -> tuple[ResourceKind, ...]:
        """Discovery of the namespaced kinds, read at most every 5 minutes."""
        at, kinds = self._kinds
        if kinds and time.monotonic() - at < _CAPABILITIES_TTL:
            return kinds
        self._kinds = (time.monotonic(), await self.client.namespaced_kinds())
        return self._kinds[1]

    def _check_managed(self, prepared: Sequence[tuple[ResourceKind | None, Obj]]) -> None:
        """A cluster restricted to some namespaces holds nothing elsewhere (gitops-engine's live state load)."""
        for kind, obj in prepared:
            meta = obj.get("metadata") or {}
            namespace = str(meta.get("namespace") or "") if kind is None or kind.namespaced else ""
            problem = unmanaged(self.cluster, kind=str(obj.get("kind")), name=str(meta.get("name")),
                                namespace=namespace)
            if problem is not None:
                raise ComparisonError(f"Failed to load live state: {problem}")

    async def _compare_one(self, kind: ResourceKind, obj: Obj, key: ResourceKey, wave: int, *,
                           rules: Sequence[ResourceIgnoreDifferences], fresh: bool) -> ResourceState[ResourceKind]:
        live = await self._live(kind, key, fresh=fresh)
        obj = with_rollout_fields(obj, live)
        message = ""
        if live is None:
            diff = ResourceDiff(key, True)
        else:
            try:
                predicted = await self.predicted(kind, obj, live)
                diff = compare(predicted, live, rules)
            except ApiError as exc:
                diff, message = ResourceDiff(key, True), exc.message
            except ValueError as exc:
                raise ComparisonError(str(exc)) from None
        return ResourceState(key, kind, obj, live, diff, await self.health.health(live), wave, message)


def last_of_each(prepared: Sequence[tuple[ResourceKind | None, Obj]]) -> tuple[
        list[tuple[ResourceKind | None, Obj]], dict[ResourceKey, int]]:
    """Argo CD's dedupe of the target objects: a resource that appears more than once (in one source or across
    the sources of a multi-source application) is kept once, the last occurrence, and counted for a
    RepeatedResourceWarning. Hooks with ``generateName`` are never duplicates."""
    counts: dict[ResourceKey, int] = {}
    last: dict[ResourceKey, int] = {}
    for index, (_, obj) in enumerate(prepared):
        if not (obj.get("metadata") or {}).get("name"):
            continue
        key = key_of(obj)
        counts[key] = counts.get(key, 0) + 1
        last[key] = index
    keep = [item for index, item in enumerate(prepared)
            if not (item[1].get("metadata") or {}).get("name") or last[key_of(item[1])] == index]
    return keep, {key: n for key, n in counts.items() if n > 1}


@dataclass(frozen=True, slots=True)
class _Desired:
    """What the sources say the application is: revision(s), source(s), tool(s), manifests, commit metadata."""

    revision: str
    source: ApplicationSource
    source_type: str
    manifests: list[Obj]
    metadata: RevisionMetadata | None
    revisions: tuple[str, ...] = ()
    sources: tuple[ApplicationSource, ...] = ()
    source_types: tuple[str, ...] = ()


@dataclass
class _Split:
    """Prepared manifests sorted out: hooks, objects to compare, objects whose kind a CRD here defines."""

    resources: list[ResourceState[ResourceKind]] = field(default_factory=list)
    hooks: list[tuple[ResourceKind, Obj]] = field(default_factory=list)
    kinds: dict[ResourceKey, ResourceKind] = field(default_factory=dict)
    seen: set[ResourceKey] = field(default_factory=set)
    work: list[tuple[ResourceKind, Obj, ResourceKey, int]] = field(default_factory=list)


def _split(prepared: Sequence[tuple[ResourceKind | None, Obj]], pending: Mapping[ResourceKey, str]) -> _Split:
    out = _Split()
    for kind, obj in prepared:
        try:
            hook = is_hook(obj)
            wave = sync_wave(obj)
        except ValueError as exc:
            raise ComparisonError(str(exc)) from None
        if hook:
            if kind is None:
                raise ComparisonError(f"hook {key_of(obj)} uses a kind the API server does not know")
            out.hooks.append((kind, obj))
            continue
        key = key_of(obj)
        out.seen.add(key)  # duplicates were removed before (last_of_each)
        if kind is None:
            out.resources.append(ResourceState(key, None, obj, None, ResourceDiff(key, True), resource_health(None),
                                               wave, pending.get(key, "")))
            continue
        out.kinds[key] = kind
        out.work.append((kind, obj, key, wave))
    return out
