"""The built image (`make image`) runs: its controller, as the bundles run it (user 65532, read-only root
filesystem, only /tmp writable), takes a canary Rollout on the testbed to Healthy and to its pause step, and its
helm, kustomize and git are the pinned ones.

The image is built by buildah (no daemon) and run by testbed/image-run.sh (buildah mount + chroot in a private
mount namespace: podman's crun cannot set rlimits on this testbed's machines, see that script). Building takes
minutes, so this runs in `make image-test` (ROLLOUTS_IMAGE_TEST=1), not in `make test`; the pins themselves are
checked on every machine by tests/unit/manifests/test_image.py.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from rollouts.kube.client import KubeClient
from rollouts.kube.resources import ROLLOUT
from tests.support.bundles import REPO
from tests.support.rollouts import canary_rollout, set_image, wait_phase

pytestmark = pytest.mark.integration

if os.environ.get("ROLLOUTS_IMAGE_TEST") != "1":
    pytest.skip("the image is built and run by `make image-test` (ROLLOUTS_IMAGE_TEST=1)", allow_module_level=True)

VERSIONS = dict(line.split("=", 1) for line in (REPO / "testbed" / "versions.env").read_text().splitlines()
                if re.match(r"^[A-Z_]+=", line))
ARGS = dict(re.findall(r"^ARG ([A-Z_]+)=(\S+)$", (REPO / "Dockerfile").read_text(), re.MULTILINE))
RUN = [str(REPO / "testbed" / "image-run.sh")]


@pytest.fixture(scope="module")
def image() -> str:
    assert shutil.which("buildah"), "buildah is needed to run the image (testbed/system-deps.sh image installs it)"
    ref = subprocess.run(["python3", str(REPO / "manifests" / "generate.py"), "--print-image"], check=True,
                         capture_output=True, text=True).stdout.strip()
    found = subprocess.run(["buildah", "inspect", "--type", "image", ref], capture_output=True, check=False)
    assert found.returncode == 0, f"{ref} is not built (`make image` builds it)"
    return ref


def _in_image(*command: str) -> str:
    res = subprocess.run([*RUN, "--", *command], capture_output=True, text=True, timeout=300, check=False)
    assert res.returncode == 0, f"{' '.join(command)} in the image: {res.stderr}"
    return res.stdout.strip()


def test_the_images_tools_are_the_pinned_ones(image: str) -> None:
    assert _in_image("helm", "version", "--short").split("+")[0] == VERSIONS["HELM_VERSION"]
    assert _in_image("kustomize", "version") == VERSIONS["KUSTOMIZE_VERSION"]
    git_upstream = ARGS["GIT_DEB_VERSION"].split(":", 1)[1].split("-", 1)[0]
    assert _in_image("git", "--version") == f"git version {git_upstream}"
    assert _in_image("id", "-u") == "65532"
    # the root filesystem is read-only for the controller: only /tmp takes writes
    out = _in_image("sh", "-c", "touch /opt/x 2>&1; touch /tmp/x && echo ok")
    assert "Read-only file system" in out and out.endswith("ok"), out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _self_contained(kubeconfig: Path) -> dict[str, Any]:
    """The kubeconfig with its certificate files inlined (*-data), as a Secret-mounted kubeconfig would be."""
    doc = yaml.safe_load(kubeconfig.read_text())
    for entry in [*(c["cluster"] for c in doc.get("clusters") or ()), *(u["user"] for u in doc.get("users") or ())]:
        for key in ("certificate-authority", "client-certificate", "client-key"):
            if key in entry:
                path = Path(entry.pop(key))
                entry[f"{key}-data"] = base64.b64encode((path if path.is_absolute() else
                                                         kubeconfig.parent / path).read_bytes()).decode()
    return dict(doc)


@pytest.fixture
def image_controller(image: str, kubeconfig: Path, namespace: str, crds: None,
                     tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    config = tmp_path / "kubeconfig"
    config.write_text(yaml.safe_dump(_self_contained(kubeconfig)))
    log = (tmp_path / "controller.log").open("wb")
    proc = subprocess.Popen(
        [*RUN, "-f", str(config), "--", "rollouts", "controller", "--kubeconfig=/tmp/kubeconfig",
         f"--namespace={namespace}", "--disable-applications", "--bind-address=127.0.0.1",
         f"--metrics-port={_free_port()}", f"--healthz-port={_free_port()}"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield proc
    finally:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait(10)
        log.close()


async def test_the_images_controller_runs_a_canary(kube: KubeClient, namespace: str,
                                                   image_controller: subprocess.Popen[bytes],
                                                   tmp_path: Path) -> None:
    manifest = canary_rollout("web", replicas=3, steps=[{"setWeight": 34}, {"pause": {}}])
    await kube.create(ROLLOUT, manifest, namespace)
    try:
        await wait_phase(kube, namespace, "web", "Healthy", timeout=120)
        await set_image(kube, namespace, "web", "example/app:green")
        await wait_phase(kube, namespace, "web", "Paused", step=1, timeout=120)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\ncontroller log:\n{(tmp_path / 'controller.log').read_text()[-4000:]}") from exc
    assert image_controller.poll() is None, "the controller in the image exited"
