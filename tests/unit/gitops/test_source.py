"""The Git source against real repositories made by the test (file:// remotes)."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import pytest

from rollouts.gitops.source import GitError, GitSource, RepoCredentials, credentials_for, redact
from tests.unit.gitops.gitrepo import GitRepo, http_remote


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


async def test_resolves_head_branch_tag_and_sha(repo: GitRepo, tmp_path: Path) -> None:
    repo.write("a.yaml", "x: 1\n")
    first = repo.commit("one")
    repo.tag("v1")
    repo.write("a.yaml", "x: 2\n")
    second = repo.commit("two")
    repo.push_branch("feature")
    source = GitSource(tmp_path / "cache")
    assert await source.resolve(repo.url, "HEAD", fetch=True) == second
    assert await source.resolve(repo.url, "main", fetch=False) == second
    assert await source.resolve(repo.url, "v1", fetch=False) == first
    assert await source.resolve(repo.url, first, fetch=False) == first
    assert await source.resolve(repo.url, first[:8], fetch=False) == first
    assert await source.resolve(repo.url, "feature", fetch=False) == second
    checkout = await source.checkout(repo.url, first)
    assert (checkout / "a.yaml").read_text() == "x: 1\n"


async def test_fetch_only_when_asked(repo: GitRepo, tmp_path: Path) -> None:
    repo.write("a.yaml", "x: 1\n")
    first = repo.commit()
    source = GitSource(tmp_path / "cache")
    assert await source.resolve(repo.url, "main", fetch=False) == first  # never fetched: fetches once
    repo.write("a.yaml", "x: 2\n")
    second = repo.commit()
    assert await source.resolve(repo.url, "main", fetch=False) == first
    assert await source.resolve(repo.url, "main", fetch=True) == second


async def test_concurrent_resolves_share_one_mirror(repo: GitRepo, tmp_path: Path) -> None:
    repo.write("a.yaml", "x: 1\n")
    sha = repo.commit()
    source = GitSource(tmp_path / "cache")
    results = await asyncio.gather(*(source.resolve(repo.url, "main", fetch=True) for _ in range(8)))
    assert set(results) == {sha}
    assert len(list((tmp_path / "cache" / "repos").iterdir())) == 1


async def test_unknown_revision_and_unreachable_repo_are_clear_errors(repo: GitRepo, tmp_path: Path) -> None:
    repo.write("a.yaml", "x: 1\n")
    repo.commit()
    source = GitSource(tmp_path / "cache")
    with pytest.raises(GitError, match="unable to resolve 'nope' to a commit SHA"):
        await source.resolve(repo.url, "nope", fetch=True)
    with pytest.raises(GitError, match="is not reachable"):
        await source.resolve(f"file://{tmp_path}/missing.git", "HEAD", fetch=True)


async def test_credentials_never_appear_in_errors(tmp_path: Path) -> None:
    source = GitSource(tmp_path / "cache", timeout=20)
    creds = RepoCredentials(username="bob", password="s3cr3t-token")
    with pytest.raises(GitError) as info:
        await source.resolve("http://bob:s3cr3t-token@127.0.0.1:9/repo.git", "HEAD", creds, fetch=True)
    assert "s3cr3t-token" not in str(info.value)
    assert "***@" in str(info.value)


def secret(kind: str, url: str, **data: str) -> dict[str, object]:
    encoded = {k: base64.b64encode(v.encode()).decode() for k, v in {"url": url, **data}.items()}
    return {"metadata": {"labels": {"argocd.argoproj.io/secret-type": kind}}, "data": encoded}


def test_credentials_exact_repository_beats_prefix_creds() -> None:
    secrets = [secret("repo-creds", "https://git.example.com/org", username="org", password="p1"),
               secret("repo-creds", "https://git.example.com", username="all", password="p0"),
               secret("repository", "https://git.example.com/org/app.git", username="app", password="p2")]
    assert credentials_for("https://git.example.com/org/app", secrets) == RepoCredentials("app", "p2")
    assert credentials_for("https://git.example.com/org/other", secrets) == RepoCredentials("org", "p1")
    assert credentials_for("https://elsewhere.example.com/x", secrets) is None


def test_redact() -> None:
    creds = RepoCredentials(password="pw123")
    assert redact("https://u:pw123@h/x failed pw123", creds) == "https://***@h/x failed ***"


async def test_http_credentials_reach_git_through_askpass(repo: GitRepo, tmp_path: Path) -> None:
    """A password-protected HTTP remote (git's dumb HTTP protocol over a local aiohttp server)."""
    repo.write("a.yaml", "x: 1\n")
    sha = repo.commit()
    repo._git("update-server-info", cwd=repo.bare)  # what a dumb-HTTP server needs to list refs
    seen_auth: list[str] = []
    async with http_remote(repo, user="bob", password="s3cr3t-token", seen_auth=seen_auth) as url:
        source = GitSource(tmp_path / "cache", timeout=30)
        with pytest.raises(GitError) as info:
            await source.resolve(url, "main", RepoCredentials("bob", "wrong-password"), fetch=True)
        assert "wrong-password" not in str(info.value)
        creds = RepoCredentials("bob", "s3cr3t-token")
        assert await source.resolve(url, "main", creds, fetch=True) == sha
        assert any(h.startswith("Basic ") for h in seen_auth)
