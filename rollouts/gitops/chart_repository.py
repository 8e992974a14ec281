"""Helm chart repositories as a source: ``repoURL`` (HTTP(S) with ``index.yaml``) + ``chart`` + a version.

Why this module exists: Argo CD reads ``spec.source.chart`` from a Helm chart repository, not from Git. The
``targetRevision`` is a chart version or a semver constraint resolved, as Argo CD does, to the highest version
in the repository's ``index.yaml`` that satisfies it (``semver.max_version``); that version is the revision
written to ``status.sync.revision``. The chart archive named by the index (a URL relative to the repository
or absolute) is downloaded once per (repository, chart, version), its digest checked when the index gives
one, and unpacked; the chart directory then goes through the renderer registry, where it always renders
with Helm. Basic-auth credentials come from the repository Secret of the URL (``type: helm``), sent with the
index request and with chart downloads from the same host only (Helm's default without ``passCredentials``),
never written to disk or to a message. The index is fetched when a refresh asks for it and shared by every
application of the repository (``newer_than`` as for Git), so a poll of a thousand applications costs one
request.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import shutil
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import aiohttp
import yaml

from rollouts.api.application import ApplicationSource, RevisionMetadata
from rollouts.gitops.comparison import SourceError
from rollouts.gitops.semver import SemverError, Version, max_version
from rollouts.gitops.source import RepoCredentials, normalize_repo_url, redact

_MAX_INDEX_BYTES = 64 * 1024 * 1024
"""Argo CD's default ``helm.registry.max.index.size`` is 1 GiB; a 64 MiB index already holds ~100k entries."""
_MAX_CHART_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ChartVersion:
    """One entry of ``index.yaml``: a version of a chart and where its archive is."""

    version: str
    urls: tuple[str, ...]
    digest: str = ""


@dataclass(frozen=True, slots=True)
class ChartIndex:
    entries: dict[str, tuple[ChartVersion, ...]]

    def versions_of(self, chart: str) -> tuple[ChartVersion, ...]:
        found = self.entries.get(chart)
        if found is None:
            raise SourceError(f"chart '{chart}' not found in index")
        return found


def parse_index(text: str | bytes, origin: str) -> ChartIndex:
    """``index.yaml`` as Helm writes it (``apiVersion: v1``, ``entries: {name: [{version, urls, digest}]}``);
    entries without a version or URL are skipped, a file that is no index is a SourceError naming ``origin``."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SourceError(f"error decoding index {origin}: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("entries"), dict):
        raise SourceError(f"error decoding index {origin}: no 'entries' mapping (is this a Helm chart repository?)")
    entries: dict[str, tuple[ChartVersion, ...]] = {}
    for name, versions in doc["entries"].items():
        found = []
        for entry in versions if isinstance(versions, list) else ():
            if not isinstance(entry, dict) or entry.get("version") is None or not entry.get("urls"):
                continue
            found.append(ChartVersion(str(entry["version"]), tuple(str(u) for u in entry["urls"]),
                                      str(entry.get("digest") or "")))
        entries[str(name)] = tuple(found)
    return ChartIndex(entries)


def find_version(versions: tuple[ChartVersion, ...], version: str) -> ChartVersion | None:
    """The entry ``version`` names: the same text first, else the same semantic version ("1.2" is 1.2.0)."""
    for entry in versions:
        if entry.version == version:
            return entry
    try:
        wanted = Version.parse(version)
    except SemverError:
        return None
    for entry in versions:
        try:
            if Version.parse(entry.version) == wanted:
                return entry
        except SemverError:
            continue
    return None


def chart_url(repo_url: str, url: str) -> str:
    """An index entry's URL resolved as Helm does: relative to the repository URL taken as a directory."""
    return urljoin(repo_url.rstrip("/") + "/", url)


def _same_host(a: str, b: str) -> bool:
    left, right = urlsplit(a), urlsplit(b)
    return (left.scheme, left.netloc) == (right.scheme, right.netloc)


class HelmRepositories:
    """The ``Helm`` source type (``sources.SOURCE_TYPES``): a ``chart`` from an HTTP(S) chart repository."""

    name = "Helm"

    def __init__(self, cache_dir: Path, *, timeout: float = 60.0) -> None:
        self.root = cache_dir
        self.timeout = timeout
        self._indexes: dict[str, tuple[float, ChartIndex]] = {}
        """Per repository: when the fetch that produced it started (monotonic), and the index."""
        self._creds: dict[str, RepoCredentials | None] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        (cache_dir / "charts").mkdir(parents=True, exist_ok=True)

    def claims(self, source: ApplicationSource) -> bool:
        return source.chart is not None and source.repo_url.startswith(("http://", "https://"))

    # -- index -----------------------------------------------------------------------------------------

    def _session(self, creds: RepoCredentials | None) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(ssl=False) if creds is not None and creds.insecure_skip_tls else None
        return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout), connector=connector)

    @staticmethod
    def _headers(creds: RepoCredentials | None) -> dict[str, str]:
        """Basic auth from username/password, else a bearer token; nothing without credentials."""
        if creds is not None and (creds.username or creds.password):
            pair = f"{creds.username or ''}:{creds.password or ''}".encode()
            return {"Authorization": "Basic " + base64.b64encode(pair).decode()}
        if creds is not None and creds.bearer_token:
            return {"Authorization": f"Bearer {creds.bearer_token}"}
        return {}

    async def _get(self, url: str, creds: RepoCredentials | None, *, auth: bool, limit: int) -> bytes:
        try:
            async with self._session(creds) as session, session.get(
                    url, headers=self._headers(creds) if auth else {}) as resp:
                if resp.status != 200:
                    raise SourceError(redact(f"failed to get {url}: {resp.status} {resp.reason}", creds))
                body = await resp.content.read(limit + 1)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SourceError(redact(f"error making HTTP request to {url}: {exc or type(exc).__name__}",
                                     creds)) from None
        if len(body) > limit:
            raise SourceError(f"{redact(url)} is larger than {limit // (1024 * 1024)} MiB")
        return body

    async def _index(self, repo_url: str, creds: RepoCredentials | None, *, fetch: bool,
                     newer_than: float | None) -> ChartIndex:
        key = normalize_repo_url(repo_url)
        async with self._locks.setdefault(key, asyncio.Lock()):
            known = self._indexes.get(key)
            stale = known is None or (fetch and (newer_than is None or known[0] < newer_than))
            if known is not None and not stale:
                return known[1]
            started = time.monotonic()
            url = chart_url(repo_url, "index.yaml")
            try:
                body = await self._get(url, creds, auth=True, limit=_MAX_INDEX_BYTES)
            except SourceError as exc:
                raise SourceError(f"Helm repository {redact(repo_url)}: {exc}") from None
            index = parse_index(body, redact(url))
            self._indexes[key] = (started, index)
            return index

    async def check(self, repo_url: str, creds: RepoCredentials | None) -> None:
        """Read the repository's index with these credentials (``repo add --type helm``); SourceError if not."""
        await self._index(repo_url, creds, fetch=True, newer_than=None)

    async def resolve(self, source: ApplicationSource, revision: str, creds: RepoCredentials | None, *,
                      fetch: bool, newer_than: float | None) -> str:
        """The chart version ``revision`` names: a version as written (Argo CD does not look it up), a
        constraint as the highest version of the index it allows."""
        self._creds[normalize_repo_url(source.repo_url)] = creds
        chart = source.chart or ""
        index = await self._index(source.repo_url, creds, fetch=fetch, newer_than=newer_than)
        versions = index.versions_of(chart)
        try:
            return max_version(revision, [v.version for v in versions])
        except SemverError as exc:
            raise SourceError(f"invalid revision {revision!r} for chart '{chart}' in {redact(source.repo_url)}: "
                              f"{exc}") from None

    # -- chart -----------------------------------------------------------------------------------------

    def _chart_dir(self, source: ApplicationSource, version: str) -> Path:
        digest = hashlib.sha256(f"{normalize_repo_url(source.repo_url)}\0{source.chart}\0{version}".encode())
        return self.root / "charts" / digest.hexdigest()[:24]

    async def files(self, source: ApplicationSource, revision: str) -> Path:
        """The unpacked chart of that version: the directory holding its ``Chart.yaml``."""
        target = self._chart_dir(source, revision)
        if not target.exists():
            key = normalize_repo_url(source.repo_url)
            async with self._locks.setdefault(f"chart:{target.name}", asyncio.Lock()):
                if not target.exists():
                    await self._download(source, revision, target, self._creds.get(key))
        return _chart_root(target, source.chart or "")

    async def _download(self, source: ApplicationSource, version: str, target: Path,
                        creds: RepoCredentials | None) -> None:
        chart = source.chart or ""
        index = await self._index(source.repo_url, creds, fetch=False, newer_than=None)
        entry = find_version(index.versions_of(chart), version)
        if entry is None:  # the index may predate the version: look once more
            index = await self._index(source.repo_url, creds, fetch=True, newer_than=time.monotonic())
            entry = find_version(index.versions_of(chart), version)
        if entry is None:
            raise SourceError(f"chart '{chart}' version '{version}' not found in {redact(source.repo_url)}")
        url = chart_url(source.repo_url, entry.urls[0])
        data = await self._get(url, creds, auth=_same_host(url, source.repo_url), limit=_MAX_CHART_BYTES)
        if entry.digest and hashlib.sha256(data).hexdigest() != entry.digest.removeprefix("sha256:"):
            raise SourceError(f"chart '{chart}' version '{version}' from {redact(url)} does not match the digest "
                              f"of the index ({entry.digest})")
        staging = target.with_name(f".{target.name}.tmp")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
                archive.extractall(staging, filter="data")
        except (tarfile.TarError, OSError) as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise SourceError(f"error untarring chart '{chart}' version '{version}' from {redact(url)}: "
                              f"{exc}") from None
        staging.rename(target)

    async def metadata(self, source: ApplicationSource, revision: str) -> RevisionMetadata | None:
        return None  # a chart version has no author or commit message


def _chart_root(unpacked: Path, chart: str) -> Path:
    """A chart archive holds one top directory named after the chart (``nginx/Chart.yaml``)."""
    named = unpacked / chart
    if (named / "Chart.yaml").is_file():
        return named
    found = sorted(p.parent for p in unpacked.glob("*/Chart.yaml"))
    if not found:
        raise SourceError(f"the archive of chart '{chart}' holds no Chart.yaml")
    return found[0]

