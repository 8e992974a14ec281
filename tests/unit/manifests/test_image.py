"""The Dockerfile pins what the testbed tests: helm and kustomize of testbed/versions.env, built as
testbed/build-tools.sh builds them, a Go that can build them, and the user and filesystem the bundles run it with.

`make image` (testbed/image.sh) builds the image itself and tests/integration/manifests/test_image.py runs its
controller against the testbed; these checks hold on any machine, with or without an image builder.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
DOCKERFILE = (REPO / "Dockerfile").read_text()
BUILD_TOOLS = (REPO / "testbed" / "build-tools.sh").read_text()


def env_file(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if re.match(r"^[A-Z_]+=", line))


def build_args() -> dict[str, str]:
    return dict(re.findall(r"^ARG ([A-Z_]+)=(\S+)$", DOCKERFILE, re.MULTILINE))


VERSIONS = env_file(REPO / "testbed" / "versions.env")
ARGS = build_args()


@pytest.mark.parametrize("name", ["HELM_VERSION", "KUSTOMIZE_VERSION"])
def test_tool_versions_are_the_testbeds(name: str) -> None:
    assert ARGS.get(name) == VERSIONS[name], f"Dockerfile ARG {name}={ARGS.get(name)}, versions.env {VERSIONS[name]}"


def _ldflags(text: str) -> list[str]:
    """The -X version settings of each `go install`, with ${VAR} resolved from versions.env."""
    found = re.findall(r"-ldflags \"([^\"]+)\"", text)
    return [re.sub(r"\$\{(\w+)\}", lambda m: VERSIONS[m.group(1)], flags) for flags in found]


def test_tools_are_built_with_the_testbeds_flags() -> None:
    """The version strings helm and kustomize print (helm templates .Capabilities.HelmVersion from its own)
    are set as the testbed sets them, so a chart renders in the image as in the tests."""
    assert _ldflags(DOCKERFILE) == _ldflags(BUILD_TOOLS)
    assert len(_ldflags(DOCKERFILE)) == 2


def test_tools_are_the_modules_the_testbed_builds() -> None:
    pattern = r"\"(\S+/cmd/helm|\S+/kustomize/v5)@\$\{\w+\}\""
    assert re.findall(pattern, DOCKERFILE) == re.findall(pattern, BUILD_TOOLS)


def test_go_builder_is_recent_enough_for_the_tools() -> None:
    """The Go stage's version is a full go1.N.P release, the one GO_IMAGE names, and the testbed builds the
    tools with the local toolchain (so the Go that builds them here is the one to pin)."""
    assert re.fullmatch(r"1\.\d+\.\d+", ARGS["GO_VERSION"]), ARGS["GO_VERSION"]
    assert ARGS["GO_IMAGE"].endswith(":${GO_VERSION}-bookworm")
    assert VERSIONS["HELM_GOTOOLCHAIN"] == VERSIONS["KUSTOMIZE_GOTOOLCHAIN"] == "local"
    assert "GOTOOLCHAIN=local" in DOCKERFILE


def _apt_packages() -> dict[str, str | None]:
    match = re.search(r"apt-get install -y --no-install-recommends \\\n((?:.*\\\n)+?.*)\n", DOCKERFILE)
    assert match, "the runtime stage's apt-get install line"
    words = shlex.split(match.group(1).split("&&")[0].replace("\\\n", " "))
    packages: dict[str, str | None] = {}
    for word in words:
        name, _, version = word.partition("=")
        packages[name] = version or None
    return packages


def test_git_and_python_are_pinned_debian_packages() -> None:
    packages = _apt_packages()
    assert packages["git"] == "${GIT_DEB_VERSION}" and re.fullmatch(r"1:2\.\d+\.\d+-\S+", ARGS["GIT_DEB_VERSION"])
    assert packages["python3"] == packages["python3-venv"] == "${PYTHON_DEB_VERSION}"
    assert re.fullmatch(r"3\.11\.\d+-\S+", ARGS["PYTHON_DEB_VERSION"]), "bookworm's Python 3.11 (>= requires-python)"
    assert set(packages) == {"python3", "python3-venv", "git", "ca-certificates", "openssh-client"}


def _deployment() -> dict[str, object]:
    docs = yaml.safe_load_all((REPO / "manifests" / "base" / "deployment.yaml").read_text())
    return next(d for d in docs if d and d.get("kind") == "Deployment")


def test_runs_as_the_user_and_filesystem_the_bundles_give_it() -> None:
    pod = _deployment()["spec"]["template"]["spec"]  # type: ignore[index]
    container = pod["containers"][0]
    user = re.search(r"^USER (\d+):(\d+)$", DOCKERFILE, re.MULTILINE)
    assert user, "the final stage runs as a numeric non-root user"
    assert (int(user.group(1)), int(user.group(2))) == (pod["securityContext"]["runAsUser"],
                                                        pod["securityContext"]["runAsGroup"]) != (0, 0)
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    home = re.search(r"HOME=(\S+)", DOCKERFILE)
    assert home and home.group(1) in mounts, "HOME must be the writable emptyDir"
    assert "PYTHONDONTWRITEBYTECODE=1" in DOCKERFILE


def test_final_stage_ships_the_tools_on_path() -> None:
    final = DOCKERFILE.rsplit("\nFROM ", 1)[1]
    assert "COPY --from=tools /out/helm /out/kustomize /usr/local/bin/" in final
    assert re.search(r"PATH=/opt/rollouts/bin:\S*/usr/local/bin", final)
    assert 'ENTRYPOINT ["rollouts"]' in final
