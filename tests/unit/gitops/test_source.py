"""The Git source against real repositories made by the test (file:// remotes)."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import pytest

from rollouts.gitops.source import GitError, GitSource, RefTable, RepoCredentials, credentials_for, redact
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


SHA_A, SHA_B, SHA_T = "a" * 40, "b" * 40, "c" * 40


@pytest.mark.parametrize(("line", "commits", "tags", "others"), [
    pytest.param(f"refs/heads/main\0commit\0{SHA_A}\0\0", {"refs/heads/main": SHA_A}, {}, set(), id="branch"),
    pytest.param(f"refs/tags/v1\0commit\0{SHA_A}\0\0", {"refs/tags/v1": SHA_A}, {SHA_A: ("v1",)}, set(),
                 id="lightweight-tag"),
    pytest.param(f"refs/tags/v2\0tag\0{SHA_T}\0commit\0{SHA_B}", {"refs/tags/v2": SHA_B}, {SHA_B: ("v2",)}, set(),
                 id="annotated-tag-peeled-to-its-commit"),
    pytest.param(f"refs/tags/t\0tag\0{SHA_T}\0tree\0{SHA_B}", {}, {}, {"refs/tags/t"}, id="tag-of-a-tree"),
    pytest.param(f"refs/tags/tt\0tag\0{SHA_T}\0tag\0{SHA_B}", {}, {}, {"refs/tags/tt"}, id="tag-of-a-tag"),
    pytest.param("garbage", {}, {}, set(), id="unreadable-line"),
])
def test_ref_table_lines(line: str, commits: dict[str, str], tags: dict[str, tuple[str, ...]],
                         others: set[str]) -> None:
    table = RefTable.parse(line + "\n")
    assert (dict(table.commits), dict(table.tags), set(table.others)) == (commits, tags, others)


def test_ref_table_sorts_the_tags_of_a_commit() -> None:
    text = f"refs/tags/b\0commit\0{SHA_A}\0\0\nrefs/tags/a\0tag\0{SHA_T}\0commit\0{SHA_A}\n"
    assert RefTable.parse(text).tags == {SHA_A: ("a", "b")}


@pytest.fixture
def counted_git(tmp_path: Path) -> tuple[str, Path]:
    """A `git` that logs the subcommand of every run, so a test can see which runs a lookup costs."""
    log = tmp_path / "git-calls.log"
    wrapper = tmp_path / "git-counted"
    wrapper.write_text(f'#!/bin/sh\necho "$1" >> {log}\nexec git "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper), log


async def test_resolving_after_a_fetch_runs_no_git(repo: GitRepo, tmp_path: Path,
                                                   counted_git: tuple[str, Path]) -> None:
    """Every pass of every application resolves its revision: after the fetch that is a table lookup (HEAD,
    branches, tags) and the commit's metadata is read once, whatever the number of passes."""
    repo.write("a.yaml", "x: 1\n")
    first = repo.commit("one")
    repo.tag("v1")
    git, log = counted_git
    source = GitSource(tmp_path / "cache", git=git)
    assert await source.resolve(repo.url, "HEAD", fetch=True) == first
    await source.commit_metadata(repo.url, first)
    before = log.read_text().split()
    for _ in range(50):
        assert await source.resolve(repo.url, "HEAD", fetch=False) == first
        assert await source.resolve(repo.url, "main", fetch=False) == first
        assert await source.resolve(repo.url, "v1", fetch=False) == first
        assert (await source.commit_metadata(repo.url, first)).tags == ["v1"]
    assert await source.resolve(repo.url, first[:8], fetch=False) == first
    assert await source.resolve(repo.url, first[:8], fetch=False) == first
    assert log.read_text().split()[len(before):] == ["rev-parse"]  # the short SHA, once until the next fetch


async def test_tags_and_branches_move_with_the_next_fetch(repo: GitRepo, tmp_path: Path) -> None:
    repo.write("a.yaml", "x: 1\n")
    first = repo.commit("one")
    repo.tag("v1")
    source = GitSource(tmp_path / "cache")
    assert await source.resolve(repo.url, "v1", fetch=True) == first
    assert (await source.commit_metadata(repo.url, first)).tags == ["v1"]
    repo.write("a.yaml", "x: 2\n")
    second = repo.commit("two")
    repo.tag("v1")  # moved
    repo._git("tag", "-a", "-m", "annotated", "v2")
    repo._git("push", "--quiet", "origin", "refs/tags/v2")
    assert await source.resolve(repo.url, "v1", fetch=False) == first  # not fetched yet
    assert await source.resolve(repo.url, "v1", fetch=True) == second
    assert await source.resolve(repo.url, "v2", fetch=False) == second
    assert await source.resolve(repo.url, "main", fetch=False) == second
    assert (await source.commit_metadata(repo.url, first)).tags is None
    meta = await source.commit_metadata(repo.url, second)
    assert (meta.tags, meta.message) == (["v1", "v2"], "two")
