from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from rollouts.gitops.webhook import PushEvent, matches, parse_push, signature_valid

GITHUB = json.dumps({"ref": "refs/heads/main", "repository": {
    "html_url": "https://github.com/org/deploy", "clone_url": "https://github.com/org/deploy.git",
    "ssh_url": "git@github.com:org/deploy.git", "default_branch": "main"}}).encode()
GITLAB = json.dumps({"ref": "refs/tags/v1.2", "project": {
    "web_url": "https://gitlab.example.com/org/deploy", "git_http_url": "https://gitlab.example.com/org/deploy.git",
    "default_branch": "main"}}).encode()


def test_parse_github_push() -> None:
    event = parse_push({"X-GitHub-Event": "push"}, GITHUB)
    assert event is not None
    assert event.revision == "main" and event.default_branch == "main"
    assert "https://github.com/org/deploy" in event.repo_urls


def test_parse_gitlab_tag_push_and_ignore_other_events() -> None:
    event = parse_push({"X-Gitlab-Event": "Tag Push Hook"}, GITLAB)
    assert event is not None and event.revision == "v1.2"
    assert parse_push({"X-GitHub-Event": "ping"}, GITHUB) is None
    assert parse_push({"X-GitHub-Event": "push"}, b"not json") is None


@pytest.mark.parametrize(
    ("repo_url", "target", "expected"),
    [
        pytest.param("https://github.com/org/deploy.git", "HEAD", True, id="head-follows-default-branch"),
        pytest.param("https://GitHub.com/org/deploy/", "main", True, id="url-normalised"),
        pytest.param("https://github.com/org/deploy", "release", False, id="other-branch"),
        pytest.param("https://github.com/org/other", "main", False, id="other-repo"),
    ],
)
def test_matches(repo_url: str, target: str, expected: bool) -> None:
    event = parse_push({"X-GitHub-Event": "push"}, GITHUB)
    assert event is not None
    assert matches(event, repo_url, target) is expected


def test_head_does_not_follow_a_push_to_another_branch() -> None:
    event = PushEvent(frozenset({"https://github.com/org/deploy"}), "feature", "main")
    assert not matches(event, "https://github.com/org/deploy", "HEAD")


def test_signatures() -> None:
    good = "sha256=" + hmac.new(b"s3cret", GITHUB, hashlib.sha256).hexdigest()
    assert signature_valid({"X-Hub-Signature-256": good}, GITHUB, "s3cret")
    assert not signature_valid({"X-Hub-Signature-256": "sha256=00"}, GITHUB, "s3cret")
    assert signature_valid({"X-Gitlab-Token": "s3cret"}, GITLAB, "s3cret")
    assert not signature_valid({"X-Gitlab-Token": "nope"}, GITLAB, "s3cret")
    assert not signature_valid({}, GITHUB, "s3cret")
    assert signature_valid({}, GITHUB, None)
