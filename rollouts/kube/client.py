"""A small dict-based Kubernetes client over kubernetes_asyncio's transport.

Why not the generated typed API classes: the controller watches thousands of objects and only ever needs
their JSON; typed deserialisation costs memory and CPU and does not cover CRDs anyway. This wrapper keeps
kubernetes_asyncio for what it does well (kubeconfig loading, TLS, token refresh, connection pooling) and
speaks plain HTTP verbs on top of it, always with an explicit patch content type (the library's default for
custom objects is JSON-patch, which silently turns a merge patch into an error).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp
import orjson
from kubernetes_asyncio import client as k8s_client
from kubernetes_asyncio import config as k8s_config
from kubernetes_asyncio.client.exceptions import ApiException

from rollouts.kube.errors import ApiError, NotFound, Unreachable, error_from_status
from rollouts.kube.resources import BUILTIN, POD, ResourceKind

PatchType = Literal["merge", "json", "strategic", "apply"]
_PATCH_CONTENT_TYPES: dict[str, str] = {
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "apply": "application/apply-patch+yaml",
}
DEFAULT_FIELD_MANAGER = "rollouts-controller"
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})

WriteGuard = Callable[[], None]
"""Called just before every write is sent; raises (kube.errors.Fenced) to refuse it."""

Obj = dict[str, Any]
# (method, path with query, HTTP status or 0 when unreachable, seconds): what `kubectl -v=6` logs per request
RequestTrace = Callable[[str, str, int, float], None]


@dataclass(frozen=True)
class Impersonation:
    """kubectl's --as / --as-group / --as-uid: act as another user, sent as Impersonate-* headers."""

    user: str | None = None
    groups: tuple[str, ...] = ()
    uid: str | None = None


class KubeClient:
    """Verbs on any resource kind. Objects go in and come out as dicts."""

    def __init__(self, api: Any, *, field_manager: str = DEFAULT_FIELD_MANAGER,
                 write_guard: WriteGuard | None = None) -> None:
        self._api = api
        # Every write names its manager, so `managedFields` says who changed what (not the library's name).
        self.field_manager = field_manager
        self._discovered: dict[tuple[str, str], ResourceKind] = {
            (k.api_version, k.kind): k for k in BUILTIN
        }
        self.requests: Counter[str] = Counter()
        # (kind, namespace, name, verb, status_code) -> count: Argo's controller_clientset_k8s_request_total.
        self.calls: Counter[tuple[str, str, str, str, str]] = Counter()
        self._write_guard = write_guard
        # Seconds a single (non-watch) request may take; None waits as long as the server does.
        self.request_timeout: float | None = 60
        self.trace: RequestTrace | None = None
        # Impersonate-User sent with every request of this client (``impersonating``); None: as itself.
        self.acting_as: str | None = None

    def _sibling(self, write_guard: WriteGuard | None) -> KubeClient:
        """A client on the same connection pool, discovery table and counters."""
        sibling = KubeClient(self._api, field_manager=self.field_manager, write_guard=write_guard)
        sibling._discovered = self._discovered
        sibling.requests = self.requests
        sibling.request_timeout = self.request_timeout
        sibling.trace = self.trace
        sibling.calls = self.calls
        sibling.acting_as = self.acting_as
        return sibling

    def impersonating(self, user: str) -> KubeClient:
        """A client on the same connection that acts as ``user`` (an ``Impersonate-User`` header on every
        request, kubectl's ``--as``): the API server authorises each request as that user, so it can do
        no more than that user may. For AppProject ``destinationServiceAccounts`` the user is
        ``system:serviceaccount:<namespace>:<name>``, whose groups the API server adds by itself. The
        connection's own identity needs the ``impersonate`` verb on that user (or ServiceAccount)."""
        sibling = self._sibling(self._write_guard)
        sibling.acting_as = user
        return sibling

    def with_timeout(self, seconds: float) -> KubeClient:
        """A client on the same connection whose requests give up after ``seconds`` (reachability probes)."""
        sibling = self._sibling(self._write_guard)
        sibling.request_timeout = seconds
        return sibling

    async def version(self) -> Obj:
        """``GET /version``: the cheapest request that proves the API server answers and accepts our credentials."""
        result: Obj = await self._request("GET", "/version")
        return result

    def guarded(self, write_guard: WriteGuard) -> KubeClient:
        """A client on the same connection whose every write first asks `write_guard` (leader fencing:
        a replica that cannot prove it holds the lease refuses to write, checked as late as possible, right
        before the request is sent). Reads are never guarded, so a standby keeps its caches warm."""
        return self._sibling(write_guard)

    @classmethod
    async def connect(
        cls, kubeconfig: str | None = None, context: str | None = None, *, field_manager: str = DEFAULT_FIELD_MANAGER
    ) -> KubeClient:
        """Connect with a kubeconfig file (or the default loading rules, then in-cluster config)."""
        try:
            if kubeconfig:
                api = await k8s_config.new_client_from_config(config_file=kubeconfig, context=context)
            else:
                try:
                    api = await k8s_config.new_client_from_config(context=context)
                except k8s_config.ConfigException:
                    k8s_config.load_incluster_config()  # type: ignore[no-untyped-call]
                    api = k8s_client.ApiClient()
        except (k8s_config.ConfigException, OSError) as exc:
            raise Unreachable(0, "ConfigError", f"cannot load Kubernetes configuration: {exc}") from exc
        return cls(api, field_manager=field_manager)

    @classmethod
    async def from_config(
        cls,
        config: Mapping[str, Any] | None,
        context: str | None = None,
        *,
        field_manager: str = DEFAULT_FIELD_MANAGER,
        impersonation: Impersonation | None = None,
        request_timeout: float | None = 60,
    ) -> KubeClient:
        """Connect with a kubeconfig already loaded (and edited, e.g. by kubectl-style flags) as a dict;
        None means the in-cluster service account."""
        try:
            if config is None:
                k8s_config.load_incluster_config()  # type: ignore[no-untyped-call]
                api = k8s_client.ApiClient()
            else:
                api = await k8s_config.new_client_from_config_dict(dict(config), context=context)
        except (k8s_config.ConfigException, OSError, ValueError, KeyError, TypeError) as exc:
            raise Unreachable(0, "ConfigError", f"cannot load Kubernetes configuration: {exc}") from exc
        if impersonation is not None:
            # The session's own default headers: several Impersonate-Group lines must each be sent, which the
            # library's per-request header dict cannot express.
            headers = api.rest_client.pool_manager.headers
            if impersonation.user:
                headers["Impersonate-User"] = impersonation.user
            if impersonation.uid:
                headers["Impersonate-Uid"] = impersonation.uid
            for group in impersonation.groups:
                headers.add("Impersonate-Group", group)
        client = cls(api, field_manager=field_manager)
        client.request_timeout = request_timeout
        return client

    @property
    def host(self) -> str:
        return str(self._api.configuration.host)

    async def close(self) -> None:
        await self._api.close()

    async def __aenter__(self) -> KubeClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- transport ---------------------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, str]] = (),
        body: Any = None,
        content_type: str = "application/json",
    ) -> Any:
        if self._write_guard is not None and method in _WRITES:
            self._write_guard()
        self.requests[method] += 1
        headers = {"Accept": "application/json", "Content-Type": content_type}
        if self.acting_as is not None:
            headers["Impersonate-User"] = self.acting_as
        started = time.monotonic()
        try:
            resp = await self._api.call_api(
                path, method, query_params=list(query), header_params=headers, body=body,
                auth_settings=["BearerToken"], _preload_content=False, _request_timeout=self.request_timeout,
            )
        except ApiException as exc:  # raised by the library for transport-level problems
            self._traced(method, path, query, 0, started)
            raise Unreachable(0, "Unreachable", f"{self.host}: {exc.reason}") from exc
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            self._traced(method, path, query, 0, started)
            raise Unreachable(0, "Unreachable", f"cannot reach the API server at {self.host}: {exc}") from exc
        self._traced(method, path, query, resp.status, started)
        async with resp:
            raw = await resp.read()
            self.calls[request_labels(method, path, resp.status)] += 1
            if 200 <= resp.status <= 299:
                return _decode(raw) if raw else {}
            try:
                decoded = _decode(raw)
            except ValueError:
                decoded = None
            status_body = decoded if isinstance(decoded, dict) else None
            raise error_from_status(resp.status, status_body, raw.decode(errors="replace")[:500])

    def _traced(self, method: str, path: str, query: Sequence[tuple[str, str]], status: int, started: float) -> None:
        if self.trace is not None:
            from urllib.parse import urlencode

            url = f"{self.host}{path}" + (f"?{urlencode(list(query))}" if query else "")
            self.trace(method, url, status, time.monotonic() - started)

    # -- verbs -------------------------------------------------------------------------------------

    async def get(self, kind: ResourceKind, name: str, namespace: str | None = None,
                  *, subresource: str | None = None) -> Obj:
        result: Obj = await self._request("GET", kind.object_path(name, namespace, subresource))
        return result

    async def get_or_none(self, kind: ResourceKind, name: str, namespace: str | None = None) -> Obj | None:
        try:
            return await self.get(kind, name, namespace)
        except NotFound:
            return None

    async def list(
        self,
        kind: ResourceKind,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int = 500,
    ) -> tuple[list[Obj], str]:
        """All items (following `continue` pages) and the list's resourceVersion."""
        items: list[Obj] = []
        token: str | None = None
        while True:
            query = [("limit", str(limit))]
            if label_selector:
                query.append(("labelSelector", label_selector))
            if field_selector:
                query.append(("fieldSelector", field_selector))
            if token:
                query.append(("continue", token))
            page = await self._request("GET", kind.collection_path(namespace), query=query)
            for item in page.get("items") or ():
                item.setdefault("apiVersion", kind.api_version)
                item.setdefault("kind", kind.kind)
                items.append(item)
            meta = page.get("metadata") or {}
            token = meta.get("continue")
            if not token:
                return items, str(meta.get("resourceVersion", ""))

    async def create(self, kind: ResourceKind, obj: Mapping[str, Any], namespace: str | None = None,
                     *, dry_run: bool = False,
                     field_validation: Literal["Strict", "Warn", "Ignore"] | None = None,
                     field_manager: str | None = None) -> Obj:
        """POST the object; `field_validation="Strict"` makes the server reject unknown or duplicate fields
        instead of dropping them (what `kubectl create` does); `field_manager` overrides the client's."""
        ns = namespace or (obj.get("metadata") or {}).get("namespace")
        query = [("fieldManager", field_manager or self.field_manager)]
        if dry_run:
            query.append(("dryRun", "All"))
        if field_validation:
            query.append(("fieldValidation", field_validation))
        result: Obj = await self._request("POST", kind.collection_path(ns), body=dict(obj), query=query)
        return result

    async def replace(
        self, kind: ResourceKind, obj: Mapping[str, Any], *, subresource: str | None = None,
        field_manager: str | None = None,
    ) -> Obj:
        meta = obj.get("metadata") or {}
        path = kind.object_path(meta["name"], meta.get("namespace"), subresource)
        result: Obj = await self._request("PUT", path, body=dict(obj),
                                          query=[("fieldManager", field_manager or self.field_manager)])
        return result

    async def patch(
        self,
        kind: ResourceKind,
        name: str,
        body: Any,
        namespace: str | None = None,
        *,
        patch_type: PatchType = "merge",
        subresource: str | None = None,
        field_manager: str | None = None,
        force: bool = False,
        dry_run: bool = False,
    ) -> Obj:
        query: list[tuple[str, str]] = [("fieldManager", field_manager or self.field_manager)]
        if force:
            query.append(("force", "true"))
        if dry_run:
            query.append(("dryRun", "All"))
        result: Obj = await self._request(
            "PATCH", kind.object_path(name, namespace, subresource), query=query, body=body,
            content_type=_PATCH_CONTENT_TYPES[patch_type],
        )
        return result

    async def apply(
        self,
        kind: ResourceKind,
        obj: Mapping[str, Any],
        *,
        field_manager: str = DEFAULT_FIELD_MANAGER,
        force: bool = True,
        dry_run: bool = False,
        subresource: str | None = None,
    ) -> Obj:
        """Server-side apply: the object states every field this manager owns."""
        meta = obj.get("metadata") or {}
        body = {"apiVersion": kind.api_version, "kind": kind.kind, **obj}
        return await self.patch(
            kind, meta["name"], body, meta.get("namespace"), patch_type="apply", subresource=subresource,
            field_manager=field_manager, force=force, dry_run=dry_run,
        )

    async def delete(
        self,
        kind: ResourceKind,
        name: str,
        namespace: str | None = None,
        *,
        propagation: Literal["Background", "Foreground", "Orphan"] = "Background",
        preconditions: Mapping[str, str] | None = None,
        dry_run: bool = False,
    ) -> None:
        body: Obj = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation}
        if preconditions:
            body["preconditions"] = dict(preconditions)
        if dry_run:
            body["dryRun"] = ["All"]
        await self._request("DELETE", kind.object_path(name, namespace), body=body)

    async def evict(self, name: str, namespace: str) -> None:
        """Evict a pod (policy/v1 Eviction): the API server refuses with 429 when a PodDisruptionBudget does."""
        body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": namespace}}
        await self._request("POST", POD.object_path(name, namespace, "eviction"), body=body)

    async def watch(
        self,
        kind: ResourceKind,
        namespace: str | None = None,
        *,
        resource_version: str,
        timeout_seconds: int = 300,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> AsyncIterator[tuple[str, Obj]]:
        """Yield (type, object) from a watch; BOOKMARK events carry only a resourceVersion.

        The stream ends when the server's timeout expires; the caller restarts it from the last
        resourceVersion it saw. A 410 arrives as an ERROR event and is raised as `Gone`.
        """
        query = [
            ("watch", "true"),
            ("allowWatchBookmarks", "true"),
            ("resourceVersion", resource_version),
            ("timeoutSeconds", str(timeout_seconds)),
        ]
        if label_selector:
            query.append(("labelSelector", label_selector))
        if field_selector:
            query.append(("fieldSelector", field_selector))
        self.requests["WATCH"] += 1
        started = time.monotonic()
        headers = {"Accept": "application/json"}
        if self.acting_as is not None:
            headers["Impersonate-User"] = self.acting_as
        try:
            resp = await self._api.call_api(
                kind.collection_path(namespace), "GET", query_params=query,
                header_params=headers, auth_settings=["BearerToken"],
                _preload_content=False,
                _request_timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=10, sock_read=timeout_seconds + 30
                ),
            )
        except (TimeoutError, ApiException, aiohttp.ClientError, OSError) as exc:
            self._traced("GET", kind.collection_path(namespace), query, 0, started)
            raise Unreachable(0, "Unreachable", f"cannot reach the API server at {self.host}: {exc}") from exc
        self._traced("GET", kind.collection_path(namespace), query, resp.status, started)
        async with resp:
            labels = request_labels("GET", kind.collection_path(namespace), resp.status)
            self.calls[(labels[0], labels[1], labels[2], "Watch", labels[4])] += 1
            if resp.status != 200:
                raise await _refused(resp)
            async for event in _watch_events(resp, kind):
                yield event

    async def resolve(self, api_version: str, kind: str) -> ResourceKind:
        """The ResourceKind for an apiVersion/kind, through API discovery (cached)."""
        key = (api_version, kind)
        if key in self._discovered:
            return self._discovered[key]
        group, _, version = api_version.rpartition("/")
        path = f"/apis/{group}/{version}" if group else f"/api/{version}"
        try:
            doc = await self._request("GET", path)
        except NotFound as exc:
            raise NotFound(404, "NotFound", f"the server does not serve {api_version}") from exc
        for res in doc.get("resources") or ():
            if "/" in res.get("name", ""):
                continue
            found = ResourceKind(group, version, res["kind"], res["name"], bool(res.get("namespaced")))
            self._discovered[(api_version, res["kind"])] = found
        if key not in self._discovered:
            raise NotFound(404, "NotFound", f"the server does not know kind {kind} in {api_version}")
        return self._discovered[key]

    async def namespaced_kinds(self) -> tuple[ResourceKind, ...]:
        """Every namespaced kind the server lists, at its group's preferred version (discovery, not cached);
        a group version that fails discovery (an aggregated API that is down) is left out."""
        group_versions = [("", "v1")]
        for group in (await self._request("GET", "/apis")).get("groups") or ():
            preferred = (group.get("preferredVersion") or {}).get("version")
            if preferred:
                group_versions.append((str(group.get("name") or ""), str(preferred)))
        out: list[ResourceKind] = []
        for group, version in group_versions:
            try:
                doc = await self._request("GET", f"/apis/{group}/{version}" if group else f"/api/{version}")
            except ApiError:
                continue
            out += [ResourceKind(group, version, str(res["kind"]), str(res["name"]), True)
                    for res in doc.get("resources") or ()
                    if res.get("namespaced") and "/" not in str(res.get("name", ""))
                    and "list" in (res.get("verbs") or ())]
        return tuple(out)

    async def capabilities(self) -> tuple[str, tuple[str, ...]]:
        """The server's version (``v1.34.4``) and every API it serves as ``group/version`` and
        ``group/version/Kind`` strings, in the form Argo CD hands to ``helm template --api-versions``. A group
        version that fails discovery (an aggregated API that is down) is left out."""
        version = str((await self._request("GET", "/version")).get("gitVersion") or "")
        group_versions = [str(v) for v in (await self._request("GET", "/api")).get("versions") or ()]
        for group in (await self._request("GET", "/apis")).get("groups") or ():
            group_versions += [str(v.get("groupVersion")) for v in group.get("versions") or () if v.get("groupVersion")]
        out: set[str] = set()
        for gv in group_versions:
            try:
                doc = await self._request("GET", f"/apis/{gv}" if "/" in gv else f"/api/{gv}")
            except ApiError:
                continue
            out.add(gv)
            out.update(f"{gv}/{res['kind']}" for res in doc.get("resources") or () if "/" not in res.get("name", ""))
        return version, tuple(sorted(out))

    def forget_discovery(self) -> None:
        """Drop discovered kinds (after CRDs are installed) but keep the built-in table."""
        self._discovered.clear()  # in place: guarded siblings share the table
        self._discovered.update({(k.api_version, k.kind): k for k in BUILTIN})


def _decode(raw: bytes) -> Any:
    """JSON from the API server, decoded by orjson (about half the CPU of the stdlib's json on these bodies).

    The API server writes what Go's encoder writes: valid UTF-8, integers within int64 (larger numbers become
    floats on its side already), so orjson reads every body the same as json would. Anything it still refuses
    (lone surrogate escapes, which the stdlib accepts) is decoded by the stdlib, so no answer is lost to the
    choice of decoder; the stdlib's error stands for text that is not JSON at all."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)


_VERBS = {"POST": "Create", "PUT": "Update", "PATCH": "Patch", "DELETE": "Delete"}


def request_labels(method: str, path: str, status: int) -> tuple[str, str, str, str, str]:
    """kind (resource plural), namespace, name, verb, status code, as Argo's kubeclientmetrics reports them."""
    parts = [p for p in path.split("?")[0].split("/") if p]
    rest = parts[2:] if parts[:1] == ["api"] else parts[3:] if parts[:1] == ["apis"] else []
    namespace = ""
    if len(rest) >= 2 and rest[0] == "namespaces" and len(rest) != 2:
        namespace, rest = rest[1], rest[2:]
    if not rest:
        return ("Unknown", "Unknown", "Unknown", "Unknown", str(status))
    kind, name = rest[0], rest[1] if len(rest) > 1 else ""
    verb = _VERBS.get(method, "Get" if name else "List")
    if verb == "List" or kind in ("events", "replicasets"):
        name = "N/A"
    return (kind, namespace, name, verb, str(status))


__all__ = ["ApiError", "Impersonation", "KubeClient", "Obj", "request_labels"]


async def _refused(resp: Any) -> ApiError:
    """The error a non-200 answer to a watch request stands for, with the server's Status when it sent one."""
    raw = await resp.read()
    try:
        decoded = _decode(raw)
    except ValueError:
        decoded = None
    return error_from_status(resp.status, decoded if isinstance(decoded, dict) else None,
                             raw.decode(errors="replace")[:500])


async def _watch_events(resp: Any, kind: ResourceKind) -> AsyncIterator[tuple[str, Obj]]:
    """(type, object) per line of a watch stream; an ERROR event (a 410 among them) is raised."""
    try:
        async for line in resp.content:
            if not line.strip():
                continue
            event = _decode(line)
            etype = event.get("type", "")
            obj = event.get("object") or {}
            if etype == "ERROR":
                raise error_from_status(int(obj.get("code") or 500), obj, "watch error")
            obj.setdefault("apiVersion", kind.api_version)
            obj.setdefault("kind", kind.kind)
            yield etype, obj
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise Unreachable(0, "Unreachable", f"watch of {kind} interrupted: {exc}") from exc
