"""Fixtures shared by all tests: the real local control plane and a namespace per test."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# pytest keeps only its last few base temp dirs under one per-user root: several checkouts testing at once on
# one machine deleted each other's tmp_path (and the logs in it) mid-run. One root per checkout instead.
os.environ.setdefault("PYTEST_DEBUG_TEMPROOT", str(REPO / ".pytest-tmp"))
(REPO / ".pytest-tmp").mkdir(exist_ok=True)
# testbed/cluster.py keeps its state where ROLLOUTS_CLUSTER_DIR says (make conformance runs a cluster of its own).
KUBECONFIG = Path(os.environ.get("ROLLOUTS_CLUSTER_DIR", REPO / ".cluster")) / "kubeconfig"


def pytest_configure(config: pytest.Config) -> None:
    """Put the testbed's helm and kustomize (testbed/build-tools.sh, cached) where the renderer looks.

    Before collection, so ``skipif`` checks see them; a cold cache builds them here (minutes, once)."""
    if os.environ.get("ROLLOUTS_HELM_PATH") and os.environ.get("ROLLOUTS_KUSTOMIZE_PATH"):
        return
    res = subprocess.run(["bash", str(REPO / "testbed" / "build-tools.sh")], stdout=subprocess.PIPE, text=True,
                         check=False)
    if res.returncode != 0 or not res.stdout.strip():
        return  # the Helm/kustomize tests then fail naming the missing tool
    tools = res.stdout.strip().splitlines()[-1]
    os.environ["ROLLOUTS_HELM_PATH"] = os.path.join(tools, "helm")
    os.environ["ROLLOUTS_KUSTOMIZE_PATH"] = os.path.join(tools, "kustomize")


def ensure_cluster() -> Path:
    """Start the testbed cluster unless a healthy one is running; return the kubeconfig path."""
    res = subprocess.run([sys.executable, str(REPO / "testbed" / "cluster.py"), "up"], check=False)
    if res.returncode != 0:
        pytest.fail("the local control plane could not be started (see the testbed output above)")
    return KUBECONFIG


@pytest.fixture(scope="session")
def kubeconfig() -> Path:
    return ensure_cluster()


@pytest.fixture(scope="session")
async def kube(kubeconfig: Path) -> AsyncIterator[object]:
    from rollouts.kube.client import KubeClient

    client = await KubeClient.connect(str(kubeconfig))
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture(scope="session")
def kubectl_bin(kubeconfig: Path) -> str:
    out = subprocess.run(["bash", str(REPO / "testbed" / "build.sh")], check=True, stdout=subprocess.PIPE,
                         text=True).stdout.strip().splitlines()[-1]
    return os.path.join(out, "kubectl")


@pytest.fixture
async def namespace(kube: object, request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """A fresh namespace named after the test, deleted (in the background) afterwards."""
    from rollouts.kube.client import KubeClient
    from rollouts.kube.errors import NotFound
    from rollouts.kube.resources import NAMESPACE

    assert isinstance(kube, KubeClient)
    base = "".join(c if c.isalnum() else "-" for c in request.node.name.lower())[:40].strip("-")
    name = f"t-{base}-{uuid.uuid4().hex[:5]}"
    await kube.create(NAMESPACE, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    try:
        yield name
    finally:
        with contextlib.suppress(NotFound):
            await kube.delete(NAMESPACE, name)


class SecondPlane:
    """The testbed's second, independent control plane (`testbed/cluster.py --name b --minimal`): its own
    etcd, API server, CA and admin token, on the first plane's ports + 50. Destination of multi-cluster tests."""

    NAME = "b"

    def __init__(self) -> None:
        self.state = REPO / f".cluster-{self.NAME}"
        self.kubeconfig = self.state / "kubeconfig"
        self.context = f"testbed-{self.NAME}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(REPO / "testbed" / "cluster.py"), *args, "--name", self.NAME],
                              check=False, text=True, capture_output=True)

    @property
    def server(self) -> str:
        import yaml

        doc = yaml.safe_load(self.kubeconfig.read_text())
        return str(doc["clusters"][0]["cluster"]["server"])

    @property
    def token(self) -> str:
        return (self.state / "admin-token").read_text().strip()

    @property
    def ca_data(self) -> str:
        import base64

        return base64.b64encode((self.state / "pki" / "ca.crt").read_bytes()).decode()

    def running(self) -> bool:
        return self._run("status").returncode == 0

    def up(self) -> None:
        res = self._run("up", "--minimal")
        if res.returncode != 0:
            pytest.fail(f"the second control plane could not be started:\n{res.stderr[-3000:]}")

    def down(self) -> None:
        self._run("down")

    def stop_apiserver(self) -> None:
        res = self._run("apiserver-stop")
        assert res.returncode == 0, res.stderr

    def start_apiserver(self) -> None:
        res = self._run("apiserver-start")
        assert res.returncode == 0, res.stderr


@pytest.fixture(scope="session")
def second_plane(kubeconfig: Path) -> Iterator[SecondPlane]:
    """Started when a test needs it (and stopped at the end of the session if this session started it)."""
    plane = SecondPlane()
    started = not plane.running()
    if started:
        plane.up()
    try:
        yield plane
    finally:
        if started:
            plane.down()


@pytest.fixture(scope="session")
async def second_kube(second_plane: SecondPlane) -> AsyncIterator[object]:
    from rollouts.kube.client import KubeClient

    client = await KubeClient.connect(str(second_plane.kubeconfig))
    try:
        yield client
    finally:
        await client.close()
