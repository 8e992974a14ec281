"""The renderer registry: which tool turns an application directory into manifests, and the render cache.

Why this module exists: Argo CD picks the tool from the source (an explicit ``helm:``/``kustomize:``/
``directory:`` block) or else from the files (``Chart.yaml``, then a kustomization file, else plain files).
Each tool is one ``ManifestRenderer`` (``render.py``); ``RENDERERS`` lists them in Argo CD's order of
precedence, so adding a tool is one module plus one line here. A block of a tool this controller does not
have (``plugin:``, a config management plugin) is refused by name instead of rendering something else.
Renders are cached by commit and source settings: the same commit is rendered once, not once per reconcile.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from rollouts.api.application import ApplicationSource
from rollouts.gitops.render import (
    ClusterCapabilities,
    DirectoryRenderer,
    HelmRenderer,
    KustomizeRenderer,
    Manifest,
    ManifestRenderer,
    RenderError,
    resolve_app_path,
)

RendererFactory = Callable[[], ManifestRenderer]

# In Argo CD's order of precedence: an explicit block first, then files (Chart.yaml before a kustomization);
# Directory detects any directory, so it stays last.
RENDERERS: dict[str, RendererFactory] = {
    "Helm": HelmRenderer,
    "Kustomize": KustomizeRenderer,
    "Directory": DirectoryRenderer,
}

# Source blocks Argo CD knows that name a tool no renderer here provides.
_UNSUPPORTED_BLOCKS = {"plugin": "config management plugins"}


def choose_renderer(
    app_dir: Path, source: ApplicationSource, renderers: Mapping[str, RendererFactory] = RENDERERS
) -> ManifestRenderer:
    """The tool for ``source``: an explicit block wins, then the files; a block no tool reads is an error."""
    tools = [factory() for factory in renderers.values()]
    for tool in tools:
        if tool.selected_by(source):
            return tool
    for block, what in _UNSUPPORTED_BLOCKS.items():
        if (source.model_extra or {}).get(block) is not None:
            raise RenderError(f"spec.source.{block}: {what} are not supported (supported tools: "
                              f"{', '.join(renderers)})")
    for tool in tools:
        if tool.detects(app_dir):
            return tool
    raise RenderError(f"no renderer reads {app_dir.name!r} (supported tools: {', '.join(renderers)})")


def with_ref_value_files(source: ApplicationSource, refs: Mapping[str, Path]) -> ApplicationSource:
    """``source`` with its ``$<ref>/path`` Helm value files made absolute inside the checkout of the source
    named ``<ref>`` (multi-source, as Argo CD resolves them); errors are Argo CD's messages.

    ``$values/envs/prod.yaml`` with refs {"$values": /cache/checkouts/abc} -> /cache/checkouts/abc/envs/prod.yaml;
    ``$values/../../etc/passwd`` -> RenderError (outside the referenced repository)."""
    files = source.helm.value_files if source.helm is not None else None
    if not files or not any(f.startswith("$") for f in files):
        return source
    resolved = []
    for value_file in files:
        if not value_file.startswith("$"):
            resolved.append(value_file)
            continue
        ref, _, rest = value_file.partition("/")
        root = refs.get(ref)
        if root is None:
            if not refs:
                raise RenderError(f'source referenced "{ref}", but no source has a \'ref\' field defined')
            raise RenderError(f'source referenced "{ref}", which is not one of the available sources '
                              f"({', '.join(sorted(refs))})")
        target = (root / rest).resolve()
        if target != root.resolve() and root.resolve() not in target.parents:
            raise RenderError(f"error resolving value file path: value file {value_file!r} resolved to outside "
                              "the referenced repository root")
        resolved.append(str(target))
    assert source.helm is not None
    return source.model_copy(update={"helm": source.helm.model_copy(update={"value_files": resolved})})


@dataclass(frozen=True, slots=True)
class Rendered:
    manifests: tuple[Manifest, ...]
    source_type: str


def cache_key(commit: str, source: ApplicationSource, *, release: str, namespace: str,
              cluster: ClusterCapabilities | None = None) -> str:
    """Stable sha256 of everything that changes the render (not the app's identity beyond release name); the
    cluster's capabilities count only for sources that are not plain directories or kustomizations."""
    payload: dict[str, object] = {
        "commit": commit, "source": source.model_dump(by_alias=True, exclude_none=True, mode="json"),
        "release": release, "namespace": namespace}
    if cluster is not None and (cluster.kube_version or cluster.api_versions):
        payload["cluster"] = [cluster.kube_version, list(cluster.api_versions)]
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


class ManifestCache:
    """Bounded LRU of renders keyed by ``cache_key``; ``invalidate`` serves a hard refresh."""

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[str, Rendered] = OrderedDict()

    def get(self, key: str) -> Rendered | None:
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
        return found

    def put(self, key: str, rendered: Rendered) -> None:
        self._entries[key] = rendered
        self._entries.move_to_end(key)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def invalidate(self, keys: Iterable[str] = ()) -> None:
        for key in keys:
            self._entries.pop(key, None)


async def render_source(
    checkout: Path,
    source: ApplicationSource,
    *,
    commit: str,
    release: str,
    namespace: str,
    cache: ManifestCache | None = None,
    renderers: Mapping[str, RendererFactory] = RENDERERS,
    cluster: ClusterCapabilities | None = None,
) -> Rendered:
    """Render ``source`` from a checked-out commit, through the cache when one is given; ``cluster`` is what
    Helm is told about the destination (``.Capabilities``)."""
    key = cache_key(commit, source, release=release, namespace=namespace, cluster=cluster)
    if cache is not None:
        hit = cache.get(key)
        if hit is not None:
            return hit
    # A chart source's files are the chart itself; Argo CD ignores ``path`` there.
    app_dir = resolve_app_path(checkout, source.path if source.chart is None else ".")
    tool = choose_renderer(app_dir, source, renderers)
    manifests = await tool.render(app_dir, source, release=release, namespace=namespace, cluster=cluster)
    rendered = Rendered(tuple(manifests), tool.name)
    if cache is not None:
        cache.put(key, rendered)
    return rendered
