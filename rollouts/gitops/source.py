"""Git as the source: a per-repository bare mirror, revisions resolved to commits, commits exported to disk.

Why this module exists: every Application names a repository and a revision (branch, tag, commit SHA or
HEAD); the reconciler needs "which commit is that now?" cheaply and "the files of that commit" once. We run
the real ``git`` binary asynchronously (file://, http(s) and ssh all work the same way) against one bare
mirror per repository, guarded by one lock per repository so concurrent applications never run two fetches
into the same mirror. Exports are keyed by commit, so a commit is unpacked once whatever the number of
applications that use it. After each fetch the mirror's refs are read once (``for-each-ref``) into a table, so
resolving a branch, tag or HEAD - which every pass of every application does - is a lookup, not a ``git``
process run under the repository's lock; a commit's author and message are read once per commit.

Credentials come from Secrets labelled ``argocd.argoproj.io/secret-type: repository`` (exact URL) or
``repo-creds`` (URL prefix), as in Argo CD. They reach git through ``GIT_ASKPASS`` and environment variables
(http) or a key file with mode 0600 (ssh), never through the command line, and every error message is
redacted before it can reach a log or a status condition.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import os
import re
import shutil
import stat
import tarfile
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rollouts.api.application import ApplicationSource, RevisionMetadata
from rollouts.gitops.comparison import SourceError

SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"
_MAX_MESSAGE = 1000
"""Characters of a commit message kept in status (the whole Application must stay well under 1 MB)."""
_COMMITS_KEPT = 4096
_HEX = re.compile(r"^[0-9a-f]{4,40}$")
_URL_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)
_ASKPASS = """#!/bin/sh
case "$1" in
  Username*|username*) printf '%s\\n' "$ROLLOUTS_GIT_USERNAME" ;;
  *) printf '%s\\n' "$ROLLOUTS_GIT_PASSWORD" ;;
esac
"""


class GitError(Exception):
    """A git operation failed; the message is safe to show (credentials redacted)."""


@dataclass(frozen=True, slots=True)
class RepoCredentials:
    username: str | None = None
    password: str | None = None
    ssh_private_key: str | None = None
    insecure_ignore_host_key: bool = False
    """``insecure: "true"`` (``--insecure-skip-server-verification``) or ``insecureIgnoreHostKey``: no SSH host
    key check; with ``insecure`` no TLS certificate check either, as in Argo CD."""
    insecure_skip_tls: bool = False
    bearer_token: str | None = None

    def secrets(self) -> list[str]:
        return [s for s in (self.password, self.ssh_private_key, self.bearer_token) if s]


def normalize_repo_url(url: str) -> str:
    """Compare repository URLs as Argo CD does: case-insensitive, without a trailing slash or ".git"."""
    out = url.strip().lower().rstrip("/")
    return out.removesuffix(".git")


def _decode(data: Mapping[str, Any], name: str) -> str | None:
    raw = data.get(name)
    if raw is None:
        return None
    try:
        return base64.b64decode(str(raw)).decode()
    except (ValueError, UnicodeDecodeError):
        return None


def credentials_for(repo_url: str, secrets: Iterable[Mapping[str, Any]]) -> RepoCredentials | None:
    """Credentials for a repository: a ``repository`` Secret whose url equals the repo URL wins; otherwise the
    ``repo-creds`` Secret with the longest url that prefixes it. ``None`` when nothing matches."""
    wanted = normalize_repo_url(repo_url)
    exact: RepoCredentials | None = None
    best: tuple[int, RepoCredentials] | None = None
    for secret in secrets:
        labels = (secret.get("metadata") or {}).get("labels") or {}
        kind = labels.get(SECRET_TYPE_LABEL)
        data = dict(secret.get("data") or {})
        for name, value in (secret.get("stringData") or {}).items():
            data[name] = base64.b64encode(str(value).encode()).decode()
        url = _decode(data, "url")
        if not url:
            continue
        creds = RepoCredentials(
            username=_decode(data, "username"),
            password=_decode(data, "password"),
            ssh_private_key=_decode(data, "sshPrivateKey"),
            insecure_ignore_host_key=any((_decode(data, k) or "").lower() == "true"
                                         for k in ("insecure", "insecureIgnoreHostKey")),
            insecure_skip_tls=(_decode(data, "insecure") or "").lower() == "true",
            bearer_token=_decode(data, "bearerToken"),
        )
        if kind == "repository" and normalize_repo_url(url) == wanted:
            exact = creds
        elif kind == "repo-creds" and wanted.startswith(normalize_repo_url(url)):
            length = len(normalize_repo_url(url))
            if best is None or length > best[0]:
                best = (length, creds)
    if exact is not None:
        return exact
    return best[1] if best else None


def redact(text: str, creds: RepoCredentials | None = None) -> str:
    """Remove credentials from a message: user:password@ in URLs and any known secret value."""
    out = _URL_USERINFO.sub(r"\g<scheme>***@", text)
    for secret in creds.secrets() if creds else ():
        out = out.replace(secret, "***")
    return out


def is_commit_sha(revision: str) -> bool:
    return bool(_HEX.match(revision.lower())) and len(revision) >= 7


_REF_FORMAT = "%(refname)%00%(objecttype)%00%(objectname)%00%(*objecttype)%00%(*objectname)"


@dataclass(frozen=True, slots=True)
class RefTable:
    """The refs of a mirror as the last fetch left them: ref name -> the commit it names (an annotated tag
    peeled to its commit), and the tags of each commit. A ref naming something else (a tag of a tree, a tag
    of a tag) is in ``others``, so resolution asks ``git`` about exactly those."""

    commits: Mapping[str, str]
    tags: Mapping[str, tuple[str, ...]]
    others: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, text: str) -> RefTable:
        """``git for-each-ref --format=<_REF_FORMAT>`` output -> the table.

        "refs/tags/v1\\0tag\\0<tag sha>\\0commit\\0<commit sha>" -> refs/tags/v1: <commit sha>, a tag v1 of that
        commit; "refs/heads/main\\0commit\\0<sha>\\0\\0" -> refs/heads/main: <sha>."""
        commits: dict[str, str] = {}
        tags: dict[str, list[str]] = {}
        others: set[str] = set()
        for line in text.splitlines():
            fields = line.split("\0")
            if len(fields) != 5:
                continue
            name, kind, sha, peeled_kind, peeled = fields
            if kind == "commit":
                commits[name] = sha
            elif kind == "tag" and peeled_kind == "commit":
                commits[name] = peeled
            else:
                others.add(name)
                continue
            if name.startswith("refs/tags/"):
                tags.setdefault(commits[name], []).append(name.removeprefix("refs/tags/"))
        return cls(commits, {sha: tuple(sorted(names)) for sha, names in tags.items()}, frozenset(others))


class GitSource:
    """Bare mirrors under ``root/repos``, exports under ``root/checkouts/<commit>``."""

    def __init__(self, root: Path, *, git: str = "git", timeout: float = 120.0, max_checkouts: int = 256) -> None:
        self.root = root
        self.git = git
        self.timeout = timeout
        self.max_checkouts = max_checkouts
        self._locks: dict[str, asyncio.Lock] = {}
        self._fetched_at: dict[str, float] = {}
        self._fetch_started: dict[str, float] = {}
        self._refs: dict[str, RefTable] = {}
        self._resolved: dict[str, dict[str, str | None]] = {}
        """Per repository: what ``rev-parse`` said of revisions no ref names (short SHAs), until the next fetch."""
        self._commits: OrderedDict[str, tuple[str, str, str | None]] = OrderedDict()
        """Per commit: (author, date, message), the most recent ``_COMMITS_KEPT``; a commit never changes."""
        (root / "repos").mkdir(parents=True, exist_ok=True)
        (root / "checkouts").mkdir(parents=True, exist_ok=True)
        (root / "keys").mkdir(parents=True, exist_ok=True)
        self._askpass = root / "askpass.sh"
        self._askpass.write_text(_ASKPASS)
        self._askpass.chmod(stat.S_IRWXU)

    # -- plumbing --------------------------------------------------------------------------------------

    def _mirror(self, repo_url: str) -> Path:
        digest = hashlib.sha256(normalize_repo_url(repo_url).encode()).hexdigest()[:20]
        return self.root / "repos" / digest

    def _lock(self, repo_url: str) -> asyncio.Lock:
        return self._locks.setdefault(normalize_repo_url(repo_url), asyncio.Lock())

    def _env(self, creds: RepoCredentials | None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env.update({"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": str(self._askpass), "LC_ALL": "C"})
        if creds is None:
            env["ROLLOUTS_GIT_USERNAME"] = ""
            env["ROLLOUTS_GIT_PASSWORD"] = ""
            return env
        env["ROLLOUTS_GIT_USERNAME"] = creds.username or ""
        env["ROLLOUTS_GIT_PASSWORD"] = creds.password or ""
        if creds.insecure_skip_tls:
            env["GIT_SSL_NO_VERIFY"] = "true"
        if creds.bearer_token:  # through the environment, never the command line
            env.update({"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "http.extraHeader",
                        "GIT_CONFIG_VALUE_0": f"Authorization: Bearer {creds.bearer_token}"})
        if creds.ssh_private_key:
            key = creds.ssh_private_key if creds.ssh_private_key.endswith("\n") else creds.ssh_private_key + "\n"
            path = self.root / "keys" / hashlib.sha256(key.encode()).hexdigest()[:20]
            if not path.exists():
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as handle:
                    handle.write(key)
            host_check = ("-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
                          if creds.insecure_ignore_host_key else "-o StrictHostKeyChecking=yes")
            env["GIT_SSH_COMMAND"] = f"ssh -i {path} -o IdentitiesOnly=yes -o BatchMode=yes {host_check}"
        return env

    async def _run(self, *args: str, cwd: Path | None = None, creds: RepoCredentials | None = None) -> bytes:
        proc = await asyncio.create_subprocess_exec(
            self.git, *args, cwd=cwd, env=self._env(creds),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL,
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout=self.timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise GitError(redact(f"git {args[0]} timed out after {self.timeout:.0f}s", creds)) from None
        if proc.returncode != 0:
            message = err.decode(errors="replace").strip() or out.decode(errors="replace").strip()
            raise GitError(redact(f"git {args[0]} failed: {message}", creds))
        return out

    # -- operations ------------------------------------------------------------------------------------

    def fetched_at(self, repo_url: str) -> float | None:
        """Monotonic time of the last successful fetch of this repository in this process."""
        return self._fetched_at.get(normalize_repo_url(repo_url))

    async def fetch(self, repo_url: str, creds: RepoCredentials | None = None) -> None:
        """Bring the mirror up to date with every branch, tag and the remote HEAD."""
        async with self._lock(repo_url):
            await self._fetch_locked(repo_url, creds)

    async def _fetch_locked(self, repo_url: str, creds: RepoCredentials | None, *extra: str) -> None:
        mirror = self._mirror(repo_url)
        if not (mirror / "HEAD").exists():
            mirror.mkdir(parents=True, exist_ok=True)
            await self._run("init", "--bare", "--quiet", str(mirror))
        refspecs = extra or ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*", "+HEAD:refs/remote-head")
        started = time.monotonic()
        args = ("fetch", "--quiet", "--prune", "--no-write-fetch-head", repo_url)
        try:
            try:
                await self._run(*args, *refspecs, cwd=mirror, creds=creds)
            except GitError as exc:
                if extra or "couldn't find remote ref HEAD" not in str(exc):
                    raise
                # A remote without a HEAD (empty, or HEAD names a missing branch): branches and tags still count.
                await self._run(*args, *refspecs[:2], cwd=mirror, creds=creds)
        except GitError as exc:
            raise GitError(f"repository {redact(repo_url)} is not reachable: {exc}") from None
        key = normalize_repo_url(repo_url)
        self._refs[key] = RefTable.parse((await self._run("for-each-ref", f"--format={_REF_FORMAT}",
                                                          cwd=mirror)).decode(errors="replace"))
        self._resolved.pop(key, None)
        self._fetched_at[key] = time.monotonic()
        if not extra:
            self._fetch_started[key] = started

    async def _rev_parse(self, mirror: Path, ref: str) -> str | None:
        try:
            out = await self._run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", cwd=mirror)
        except GitError:
            return None
        return out.decode().strip() or None

    async def _commit_of(self, repo_url: str, ref: str) -> str | None:
        """The commit ``ref`` names in the mirror (call with the repository's lock held): a ref name from the
        table; anything else (a short SHA, ``main~1``) from ``rev-parse``, remembered until the next fetch."""
        key = normalize_repo_url(repo_url)
        table = self._refs.get(key)
        if table is not None and ref.startswith("refs/") and ref not in table.others:
            return table.commits.get(ref)
        memo = self._resolved.setdefault(key, {})
        if ref not in memo:
            memo[ref] = await self._rev_parse(self._mirror(repo_url), ref)
        return memo[ref]

    async def resolve(
        self,
        repo_url: str,
        revision: str,
        creds: RepoCredentials | None = None,
        *,
        fetch: bool,
        newer_than: float | None = None,
    ) -> str:
        """The commit SHA a revision names: HEAD (or empty), a branch, a tag, or a (short) commit SHA.

        ``fetch=True`` first updates the mirror (polling interval expired or a refresh was asked for);
        a repository never fetched is fetched whatever ``fetch`` says. ``newer_than`` (monotonic time)
        coalesces fetches: a fetch that *started* after it already saw every push made before it, so a
        thousand applications refreshed by one webhook share one fetch.
        """
        async with self._lock(repo_url):
            mirror = self._mirror(repo_url)
            started = self._fetch_started.get(normalize_repo_url(repo_url))
            stale = newer_than is None or started is None or started < newer_than
            if (fetch and stale) or self.fetched_at(repo_url) is None or not (mirror / "HEAD").exists():
                await self._fetch_locked(repo_url, creds)
            rev = revision.strip()
            candidates = (["refs/remote-head"] if rev in ("", "HEAD")
                          else [f"refs/heads/{rev}", f"refs/tags/{rev}", rev])
            for ref in candidates:
                sha = await self._commit_of(repo_url, ref)
                if sha is not None:
                    return sha
            if is_commit_sha(rev):
                try:
                    await self._fetch_locked(repo_url, creds, rev)
                except GitError:
                    pass
                else:
                    sha = await self._commit_of(repo_url, rev)
                    if sha is not None:
                        return sha
        raise GitError(f"unable to resolve '{revision or 'HEAD'}' to a commit SHA in {redact(repo_url)}: "
                       "no such branch, tag or commit")

    async def commit_metadata(self, repo_url: str, commit: str) -> RevisionMetadata:
        """Author, date (UTC), message and tags of a fetched commit. The commit is read once (it never
        changes); its tags come from the refs of the last fetch (they may move)."""
        cached = self._commits.get(commit)
        if cached is None:
            out = (await self._run("show", "-s", "--format=%an <%ae>%x00%aI%x00%B", commit,
                                   cwd=self._mirror(repo_url))).decode(errors="replace")
            author, _, rest = out.partition("\0")
            date, _, message = rest.partition("\0")
            when = datetime.fromisoformat(date.strip()).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            cached = (author.strip(), when, message.strip()[:_MAX_MESSAGE] or None)
            self._commits[commit] = cached
            while len(self._commits) > _COMMITS_KEPT:
                self._commits.popitem(last=False)
        table = self._refs.get(normalize_repo_url(repo_url))
        if table is None:
            tags = (await self._run("tag", "--points-at", commit, cwd=self._mirror(repo_url))).decode(
                errors="replace").split()
        else:
            tags = list(table.tags.get(commit, ()))
        return RevisionMetadata(author=cached[0], date=cached[1], tags=sorted(tags) or None, message=cached[2])

    async def checkout(self, repo_url: str, commit: str) -> Path:
        """A directory holding the files of ``commit`` (read-only by convention; shared by all apps)."""
        target = self.root / "checkouts" / commit
        if target.exists():
            os.utime(target)
            return target
        async with self._lock(repo_url):
            if target.exists():
                return target
            data = await self._run("archive", "--format=tar", commit, cwd=self._mirror(repo_url))
            staging = self.root / "checkouts" / f".{commit}.tmp"
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir()
            with tarfile.open(fileobj=io.BytesIO(data)) as archive:
                archive.extractall(staging, filter="data")
            staging.rename(target)
        self._evict()
        return target

    def _evict(self) -> None:
        dirs = [p for p in (self.root / "checkouts").iterdir() if not p.name.startswith(".")]
        if len(dirs) <= self.max_checkouts:
            return
        dirs.sort(key=lambda p: p.stat().st_mtime)
        for old in dirs[: len(dirs) - self.max_checkouts]:
            shutil.rmtree(old, ignore_errors=True)


class GitRepositories:
    """The ``Git`` source type (``sources.SOURCE_TYPES``): every source that names neither a Helm chart nor an
    OCI registry is a Git repository with a path, as in Argo CD."""

    name = "Git"

    def __init__(self, cache_dir: Path) -> None:
        self.git = GitSource(cache_dir)

    def claims(self, source: ApplicationSource) -> bool:
        return source.chart is None and not source.repo_url.startswith("oci://")

    async def resolve(self, source: ApplicationSource, revision: str, creds: RepoCredentials | None, *,
                      fetch: bool, newer_than: float | None) -> str:
        try:
            return await self.git.resolve(source.repo_url, revision, creds, fetch=fetch, newer_than=newer_than)
        except GitError as exc:
            raise SourceError(str(exc)) from None

    async def files(self, source: ApplicationSource, revision: str) -> Path:
        try:
            return await self.git.checkout(source.repo_url, revision)
        except GitError as exc:
            raise SourceError(str(exc)) from None

    async def metadata(self, source: ApplicationSource, revision: str) -> RevisionMetadata | None:
        try:
            return await self.git.commit_metadata(source.repo_url, revision)
        except (GitError, ValueError):
            return None
