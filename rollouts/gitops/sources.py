"""Where an Application's files come from: one ``SourceType`` per kind of repository, chosen from a registry.

Why this module exists: ``spec.source`` can name a Git repository (``repoURL`` + ``path``), a Helm chart
repository (``repoURL`` + ``chart``), an OCI registry (``oci://...``). Each is one ``SourceType``: it says which
sources it reads (``claims``), turns a revision into an immutable one (a commit SHA, a chart version) and
hands back a directory holding the files of that revision; a renderer (``renderers.py``) then turns the
directory into manifests. A source that no registered type claims is refused by name with a SpecError
(Argo CD's InvalidSpecError) *before* anything is fetched: treating a chart repository's URL as a Git
remote would fail later with a misleading Git error.

Adding a source type is one module with a class implementing ``SourceType`` plus one line in
``SOURCE_TYPES`` (see README.md in this package).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Protocol

from rollouts.api.application import ApplicationSource, RevisionMetadata
from rollouts.gitops.comparison import SpecError
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

SOURCE_TYPES: dict[str, SourceTypeFactory] = {
    "Git": GitRepositories,
}

# Source shapes Argo CD reads that no type here claims yet, so a refusal can say what was asked for.
_SHAPES: tuple[tuple[Callable[[ApplicationSource], str | None], str], ...] = (
    (lambda s: f"spec.source.chart {s.chart!r}" if s.chart is not None else None, "a Helm chart repository"),
    (lambda s: f"spec.source.repoURL {s.repo_url!r}" if s.repo_url.startswith("oci://") else None,
     "an OCI registry"),
)


def describe_unclaimed(source: ApplicationSource) -> str:
    """The InvalidSpecError message for a source no type claims, naming the field that makes its shape.

    chart "nginx" -> "spec.source.chart 'nginx': a Helm chart repository is not a supported source type yet
    (supported: Git repositories with spec.source.path)".
    """
    supported = ", ".join(SOURCE_TYPES)
    for field_of, shape in _SHAPES:
        named = field_of(source)
        if named is not None:
            return (f"{named}: {shape} is not a supported source type yet (supported: {supported} "
                    "repositories with spec.source.path)")
    return f"spec.source.repoURL {source.repo_url!r}: no source type reads this source (supported: {supported})"


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
        """The type that reads ``source``; a SpecError naming the shape when none does."""
        for kind in self._types.values():
            if kind.claims(source):
                return kind
        raise SpecError(describe_unclaimed(source))
