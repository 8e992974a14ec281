"""Helm targetRevision resolution against the anchor: Masterminds/semver v3.4.0 (Argo CD v3.6.1's), built as a
Go oracle (tests/oracles/semver), on a table of the constraints Helm users write and on generated ones."""

from __future__ import annotations

import random

import pytest

from rollouts.gitops.semver import SemverError, max_version
from tests.support.oracles import OracleProcess

TAGS = ["0.0.1", "0.0.3", "0.1.0", "0.1.4", "0.2.0", "1.0.0", "1.2.0", "1.2.5", "1.3.0-rc.1", "1.3.0-rc.2",
        "1.3.0", "v1.4.0", "2.0.0-alpha", "2.0.0", "2.1.0+build.7", "3.0.0-beta.2", "10.0.0", "latest"]

# (targetRevision, the version Argo CD resolves it to, or None: an error). Expected values come from the
# library's documented rules (doc.go of Masterminds/semver v3.4.0) and are cross-checked by the oracle.
TABLE = [
    ("^1.2", "v1.4.0"), ("~1.2.0", "1.2.5"), ("~1.2", "1.2.5"), ("~1", "v1.4.0"), (">=1.0 <2.0", "v1.4.0"),
    (">=1.0, <2.0", "v1.4.0"), ("1.2.x", "1.2.5"), ("1.x", "v1.4.0"), ("*", "10.0.0"), ("x", "10.0.0"),
    ("^0.1", "0.1.4"), ("^0.0.1", "0.0.1"), ("^0.0", "0.0.3"), (">1.2", "10.0.0"), (">1.2 <3", "2.1.0+build.7"),
    ("<=1.3", "1.3.0"), ("<1.3.0", "1.2.5"), ("1.0 - 1.2.3", "1.2.0"), ("!=10.0.0", "2.1.0+build.7"),
    (">=1.3.0-0 <1.3.0", "1.3.0-rc.2"), ("~1.3.0-rc.1", "1.3.0"), ("^2.0.0-0", "2.1.0+build.7"),
    ("^3.0.0-alpha", "3.0.0-beta.2"), ("4.x || 0.2.*", "0.2.0"), ("=1.2.5", "1.2.5"), ("~>1.2", "1.2.5"),
    ("1.3.0-rc.1", "1.3.0-rc.1"), ("v9.9.9", "v9.9.9"), ("1.2", "1.2"), ("latest", "latest"),
    ("11.x", None), ("HEAD", None), ("", None), ("main", None), (">= 1 <", None),
]


@pytest.fixture(scope="module")
def oracle() -> OracleProcess:
    process = OracleProcess("semver")
    yield process  # type: ignore[misc]
    process.close()


def ours(revision: str, tags: list[str]) -> str | None:
    try:
        return max_version(revision, tags)
    except SemverError:
        return None


@pytest.mark.parametrize(("revision", "expected"), TABLE, ids=[repr(r) for r, _ in TABLE])
def test_resolution_table(revision: str, expected: str | None, oracle: OracleProcess) -> None:
    assert ours(revision, TAGS) == expected
    answer = oracle.ask([{"revision": revision, "tags": TAGS}])[0]
    assert (answer["version"] or None) == expected, answer


def _version(rng: random.Random) -> str:
    parts = [rng.choice(["0", "1", "2", "3", "10", "x", "*"]) for _ in range(rng.randint(1, 3))]
    text = ("v" if rng.random() < 0.1 else "") + ".".join(parts)
    if rng.random() < 0.25:
        text += "-" + rng.choice(["0", "rc.1", "alpha", "beta.2", "rc.10"])
    return text


def _constraint(rng: random.Random) -> str:
    ops = ["", "=", "!=", ">", "<", ">=", "<=", "~", "~>", "^", "=>", "=<"]
    alternatives = []
    for _ in range(rng.randint(1, 2)):
        if rng.random() < 0.15:
            alternatives.append(f"{_version(rng)} - {_version(rng)}")
            continue
        bounds = [f"{rng.choice(ops)}{rng.choice(['', ' '])}{_version(rng)}" for _ in range(rng.randint(1, 3))]
        alternatives.append(rng.choice([" ", ", ", ","]).join(bounds))
    return " || ".join(alternatives)


def _tags(rng: random.Random) -> list[str]:
    tags = {f"{rng.randint(0, 3)}.{rng.randint(0, 3)}.{rng.randint(0, 3)}" for _ in range(rng.randint(0, 12))}
    tags |= {f"{rng.randint(0, 3)}.{rng.randint(0, 2)}.0-{rng.choice(['rc.1', 'rc.2', 'alpha', '0'])}"
             for _ in range(rng.randint(0, 3))}
    return sorted(tags)


def test_generated_constraints_agree_with_masterminds(oracle: OracleProcess) -> None:
    rng = random.Random(20260)
    requests = [{"revision": _constraint(rng), "tags": _tags(rng)} for _ in range(3000)]
    answers = oracle.ask(requests)
    disagreements = [(r["revision"], r["tags"], a["version"] or None, ours(r["revision"], r["tags"]))
                     for r, a in zip(requests, answers, strict=True)
                     if (a["version"] or None) != ours(r["revision"], r["tags"])]
    assert not disagreements[:10], f"{len(disagreements)} of {len(requests)} disagree (first 10 shown)"
