"""A 410-safe informer: list, then watch from the list's resourceVersion, keep a local cache.

Kubernetes watches end whenever the server's timeout expires and may fail with 410 Gone when the
resourceVersion they resume from has been compacted away. The informer resumes from the last
resourceVersion it saw (bookmarks keep that fresh on quiet streams) and, on 410, lists again and reports
every difference between the old cache and the new list, so a consumer never misses a change. managedFields
are dropped from cached objects: they are large and nothing here reads them.

Indexes (client-go's Indexers): a consumer that asks "which cached objects have this key" (the ReplicaSets a
Rollout controls) registers an index function once and reads ``by_index``, instead of scanning the whole
cache on every reconcile, which at 1,000 Rollouts in one namespace costs milliseconds per reconcile and grows
with the square of the fleet.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Iterable, Iterator

import structlog

from rollouts.kube.client import KubeClient, Obj
from rollouts.kube.errors import ApiError, Gone, NotFound
from rollouts.kube.resources import ResourceKind

Key = tuple[str, str]
Handler = Callable[[str, Obj], None]
Transform = Callable[[Obj], Obj]
"""What to keep of an object before it is cached and handed to handlers (client-go's SetTransform)."""
IndexFunc = Callable[[Obj], Iterable[str]]
"""The index values of an object (its controller's uid, say); an object may have none or several."""
log = structlog.get_logger("rollouts.informer")


def object_key(obj: Obj) -> Key:
    meta = obj.get("metadata") or {}
    return (str(meta.get("namespace") or ""), str(meta.get("name") or ""))


class Informer:
    """A cache of one kind of object, kept current by a watch; `handler(type, obj)` hears every change."""

    def __init__(
        self,
        client: KubeClient,
        kind: ResourceKind,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        handler: Handler | None = None,
        watch_timeout: int = 300,
        transform: Transform | None = None,
    ) -> None:
        self.client = client
        self.kind = kind
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self._handlers: list[Handler] = [handler] if handler else []
        self._transform = transform
        self._cache: dict[Key, Obj] = {}
        self._index_funcs: dict[str, IndexFunc] = {}
        # index name -> index value -> the keys of the cached objects with that value (a dict, not a set: in
        # the order they were first cached, so readers see the same order a scan of the cache gives)
        self._indexes: dict[str, dict[str, dict[Key, None]]] = {}
        self._resource_version = ""
        self.synced = asyncio.Event()
        self._watch_timeout = watch_timeout
        self._missing_logged = False
        # Why the cache is not current, for a consumer that shows it (the dashboard's "permission denied"):
        # the last failed list or watch, cleared by the next successful list.
        self.error: ApiError | None = None

    def add_handler(self, handler: Handler) -> None:
        self._handlers.append(handler)

    def set_transform(self, transform: Transform) -> None:
        """Slim objects from now on (call before ``run``, as client-go's SetTransform before Start)."""
        self._transform = transform

    def add_index(self, name: str, func: IndexFunc) -> None:
        """Keep an index of the cache by ``func``'s values, read with ``by_index(name, value)``."""
        self._index_funcs[name] = func
        index: dict[str, dict[Key, None]] = {}
        for key, obj in self._cache.items():
            for value in func(obj):
                index.setdefault(value, {})[key] = None
        self._indexes[name] = index

    # -- reads -----------------------------------------------------------------------------------

    def get(self, namespace: str, name: str) -> Obj | None:
        return self._cache.get((namespace or "", name))

    def items(self, namespace: str | None = None) -> Iterator[Obj]:
        for (ns, _), obj in list(self._cache.items()):
            if namespace is None or ns == namespace:
                yield obj

    def by_index(self, name: str, value: str) -> list[Obj]:
        """The cached objects whose index ``name`` holds ``value`` (an unknown index name is a KeyError)."""
        keys = self._indexes[name].get(value)
        return [self._cache[k] for k in keys] if keys else []

    def __len__(self) -> int:
        return len(self._cache)

    # -- cache writes (every one goes through these two, so the indexes stay true) --------------------

    def _store(self, key: Key, obj: Obj) -> None:
        prev = self._cache.get(key)
        self._cache[key] = obj
        for name, func in self._index_funcs.items():
            index = self._indexes[name]
            old = set(func(prev)) if prev is not None else set()
            new = set(func(obj))
            for value in old - new:
                _discard(index, value, key)
            for value in new - old:
                index.setdefault(value, {})[key] = None

    def _remove(self, key: Key) -> None:
        prev = self._cache.pop(key, None)
        if prev is None:
            return
        for name, func in self._index_funcs.items():
            for value in func(prev):
                _discard(self._indexes[name], value, key)

    # -- the loop --------------------------------------------------------------------------------

    async def run(self) -> None:
        """List and watch until cancelled. Errors back off and retry; they never end the loop."""
        backoff = 0.5
        need_list = True
        while True:
            try:
                if need_list:
                    await self._relist()
                    need_list = False
                async for etype, obj in self.client.watch(
                    self.kind, self.namespace, resource_version=self._resource_version,
                    timeout_seconds=self._watch_timeout + random.randint(0, 30),
                    label_selector=self.label_selector, field_selector=self.field_selector,
                ):
                    self._apply(etype, obj)
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except Gone:
                log.info("watch expired, listing again", kind=str(self.kind))
                need_list = True
            except NotFound as exc:
                self.error = exc
                # The kind is not served (yet): a CRD not installed, or installed moments ago and not yet in
                # discovery. Keep retrying briefly and quietly; it usually appears within seconds.
                if not self._missing_logged:
                    log.info("kind not served yet, waiting for it", kind=str(self.kind), error=str(exc))
                    self._missing_logged = True
                await asyncio.sleep(min(backoff, 5.0))
                backoff = min(backoff * 2, 5.0)
                need_list = True
            except ApiError as exc:
                self.error = exc
                log.warning("watch failed, retrying", kind=str(self.kind), error=str(exc), backoff=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                if exc.status in (0, 500, 503):
                    need_list = True

    async def _relist(self) -> None:
        items, rv = await self.client.list(self.kind, self.namespace, label_selector=self.label_selector,
                                           field_selector=self.field_selector)
        fresh = {object_key(o): self._slim(o) for o in items}
        old = self._cache
        self._cache = {}
        for index in self._indexes.values():
            index.clear()
        for key, obj in fresh.items():
            self._store(key, obj)
        self._resource_version = rv
        self.error = None
        for key, obj in fresh.items():
            prev = old.get(key)
            if prev is None:
                self._notify("ADDED", obj)
            elif _rv(prev) != _rv(obj):
                self._notify("MODIFIED", obj)
        for key, obj in old.items():
            if key not in fresh:
                self._notify("DELETED", obj)
        self.synced.set()

    def _apply(self, etype: str, obj: Obj) -> None:
        rv = _rv(obj)
        if rv:
            self._resource_version = rv
        if etype == "BOOKMARK":
            return
        key = object_key(obj)
        if etype == "DELETED":
            self._remove(key)
        else:
            obj = self._slim(obj)
            self._store(key, obj)
        self._notify(etype, obj)

    def _notify(self, etype: str, obj: Obj) -> None:
        for handler in self._handlers:
            try:
                handler(etype, obj)
            except Exception:  # a consumer's bug must not stop the watch for everyone else
                log.exception("informer handler failed", kind=str(self.kind))

    def upsert(self, obj: Obj) -> None:
        """Record our own write at once, so the next reconcile does not act on a stale copy.

        Only moves forward: a write whose resourceVersion the watch has already passed is ignored.
        """
        key = object_key(obj)
        prev = self._cache.get(key)
        if prev is not None and _rv_int(prev) > _rv_int(obj):
            return
        self._store(key, self._slim(obj))

    def _slim(self, obj: Obj) -> Obj:
        obj = _without_managed_fields(obj)
        return self._transform(obj) if self._transform is not None else obj

    def forget(self, namespace: str, name: str) -> None:
        self._remove((namespace or "", name))


def _discard(index: dict[str, dict[Key, None]], value: str, key: Key) -> None:
    keys = index.get(value)
    if keys is not None:
        keys.pop(key, None)
        if not keys:
            del index[value]


LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"


def without_last_applied(obj: Obj) -> Obj:
    """A transform: drop ``kubectl apply``'s copy of the object (a second copy of the whole spec) from the
    cached object. Only for caches whose objects are never written back whole (a status subresource write
    ignores metadata; patches name their fields), or the write would remove the annotation on the server."""
    annotations = (obj.get("metadata") or {}).get("annotations")
    if isinstance(annotations, dict):
        annotations.pop(LAST_APPLIED_ANNOTATION, None)
    return obj


def _without_managed_fields(obj: Obj) -> Obj:
    meta = obj.get("metadata")
    if isinstance(meta, dict) and "managedFields" in meta:
        meta.pop("managedFields", None)
    return obj


def _rv(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")


def _rv_int(obj: Obj) -> int:
    with contextlib.suppress(ValueError):
        return int(_rv(obj))
    return 0
