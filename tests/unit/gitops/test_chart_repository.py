"""The chart repository's index as Helm writes it, and chart URLs as Helm resolves them."""

from __future__ import annotations

import pytest

from rollouts.gitops.chart_repository import chart_url, find_version, parse_index
from rollouts.gitops.comparison import SourceError

INDEX = """apiVersion: v1
entries:
  web:
  - version: 1.2.0
    urls: [web-1.2.0.tgz]
    digest: abc
  - version: v1.1.0
    urls: [https://cdn.example.com/web-1.1.0.tgz]
  - name: broken
  db: []
generated: "2026-01-01T00:00:00Z"
"""


def test_index_entries_versions_and_digests() -> None:
    index = parse_index(INDEX, "index.yaml")
    assert [(v.version, v.urls, v.digest) for v in index.versions_of("web")] == [
        ("1.2.0", ("web-1.2.0.tgz",), "abc"), ("v1.1.0", ("https://cdn.example.com/web-1.1.0.tgz",), "")]
    assert index.versions_of("db") == ()
    with pytest.raises(SourceError, match="chart 'api' not found in index"):
        index.versions_of("api")


@pytest.mark.parametrize("text", ["", "- a list", "apiVersion: v1\n", "entries: [1]", "{not yaml"])
def test_a_file_that_is_no_index_is_named(text: str) -> None:
    with pytest.raises(SourceError, match=r"error decoding index https://c.example.com/index.yaml"):
        parse_index(text, "https://c.example.com/index.yaml")


@pytest.mark.parametrize(("wanted", "found"), [("1.2.0", "1.2.0"), ("1.2", "1.2.0"), ("v1.1.0", "v1.1.0"),
                                               ("1.1.0", "v1.1.0"), ("1.3.0", None), ("main", None)])
def test_find_version_text_first_then_semantic_equality(wanted: str, found: str | None) -> None:
    entry = find_version(parse_index(INDEX, "i").versions_of("web"), wanted)
    assert (entry.version if entry else None) == found


@pytest.mark.parametrize(("repo", "url", "expected"), [
    ("https://c.example.com/stable", "web-1.0.0.tgz", "https://c.example.com/stable/web-1.0.0.tgz"),
    ("https://c.example.com/stable/", "charts/web.tgz", "https://c.example.com/stable/charts/web.tgz"),
    ("https://c.example.com/stable", "/abs/web.tgz", "https://c.example.com/abs/web.tgz"),
    ("https://c.example.com/stable", "https://cdn.example.com/w.tgz", "https://cdn.example.com/w.tgz"),
])
def test_chart_urls_resolve_against_the_repository(repo: str, url: str, expected: str) -> None:
    assert chart_url(repo, url) == expected
