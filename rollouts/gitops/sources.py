"""Where an Application's files come from: one ``SourceType`` per kind of repository, chosen from a registry.

Why this module exists: ``spec.source`` can name a Git repository (``repoURL`` + ``path``), a Helm chart
repository (``repoURL`` + ``chart``), an OCI registry (``oci://...``). Each is one ``SourceType``: it says which
sources it reads (``claims``), turns a revision into an immutable one (a commit SHA, a chart version) and
hands back a directory holding the files of that revision; a renderer (``renderers.py``) then turns the
directory into manifests. A source that no registered type claims is refused by name with a ComparisonError
*before* anything is fetched: treating a chart repository's URL as a Git
remote would fail later with a misleading Git error.

Adding a source type is one module with a class implementing ``SourceType`` plus one line in
``SOURCE_TYPES`` (see README.md in this package).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Protocol

from rollouts.api.application import ApplicationSource, RevisionMetadata
from rollouts.gitops.chart_repository import HelmRepositories
from rollouts.gitops.comparison import ComparisonError
from rollouts.gitops.source import GitRepositories, RepoCredentials


class SourceType(Protocol):
    """One kind of repository. Errors are ``comparison.SourceError`` with a message safe to show."""

    name: str
    """Argo CD's word for it ("Git", "Helm", "OCI")."""

    def claims(self, source: ApplicationSource) -> bool:
        """Whether this type reads ``source`` (by its shape: ``chart`` set, an ``oci://`` URL, ...)."""
        ...

    async def resolve(self, source: ApplicationSource, revision: str, creds: RepoCredentials | None, *,
                      fetch: bool, newer_than: float | None) -> str:
        """The immutable revision ``revision`` names now; ``fetch`` asks for a fresh look at the remote."""
        ...

    async def files(self, source: ApplicationSource, revision: str) -> Path:
        """A directory with the files of the resolved ``revision`` (shared, read-only by convention)."""
        ...

    async def metadata(self, source: ApplicationSource, revision: str) -> RevisionMetadata | None:
        """Who made the resolved ``revision``, when, why (commit author, date, message, tags); None if unknown."""
        ...


SourceTypeFactory = Callable[[Path], SourceType]
"""Builds a source type around its cache directory."""

# Order matters: Git claims whatever names no chart, so the types that read a chart come first.
SOURCE_TYPES: dict[str, SourceTypeFactory] = {
    "Helm": HelmRepositories,
    "Git": GitRepositories,
}

_SUPPORTED = ("Git repositories (spec.source.path) and HTTP(S) Helm chart repositories (spec.source.chart with an "
              "http:// or https:// repoURL)")


def _oci(source: ApplicationSource) -> str | None:
    if source.repo_url.startswith("oci://"):
        return f"spec.source.repoURL {source.repo_url!r}: an OCI registry"
    if source.chart is not None and "://" not in source.repo_url:
        return (f"spec.source.chart {source.chart!r} with spec.source.repoURL {source.repo_url!r}: a Helm OCI "
                "registry")
    return None


def _chart_elsewhere(source: ApplicationSource) -> str | None:
    if source.chart is not None:
        return f"spec.source.chart {source.chart!r} with spec.source.repoURL {source.repo_url!r}: a chart repository " \
               "that is not HTTP(S)"
    return None


# Source shapes Argo CD reads that no type here claims yet, so a refusal can say what was asked for.
_SHAPES: tuple[Callable[[ApplicationSource], str | None], ...] = (_oci, _chart_elsewhere)


def describe_unclaimed(source: ApplicationSource) -> str:
    """The ComparisonError message for a source no type claims, naming the field that makes its shape.

    repoURL "oci://r.example.com/charts/nginx" -> "spec.source.repoURL 'oci://r.example.com/charts/nginx': an
    OCI registry is not a supported source type (supported: Git repositories (spec.source.path) and ...)".
    """
    for shape_of in _SHAPES:
        named = shape_of(source)
        if named is not None:
            return f"{named} is not a supported source type (supported: {_SUPPORTED})"
    return f"spec.source.repoURL {source.repo_url!r}: no source type reads this source (supported: {_SUPPORTED})"


class Sources(Mapping[str, SourceType]):
    """The opened source types of one reconciler (or CLI command), by name."""

    def __init__(self, cache_dir: Path, factories: Mapping[str, SourceTypeFactory] = SOURCE_TYPES) -> None:
        self._types = {name: factory(cache_dir / name.lower()) for name, factory in factories.items()}

    def __getitem__(self, name: str) -> SourceType:
        return self._types[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._types)

    def __len__(self) -> int:
        return len(self._types)

    def for_source(self, source: ApplicationSource) -> SourceType:
        """The type that reads ``source``; a ComparisonError naming the shape when none does."""
        for kind in self._types.values():
            if kind.claims(source):
                return kind
        raise ComparisonError(describe_unclaimed(source))
