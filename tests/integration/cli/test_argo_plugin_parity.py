"""Our plugin and Argo's own plugin binary (v1.10.2) print the same for the same live objects.

Argo's binary is built by the conformance kit (`make conformance`, or ../shared/conformance/argo-e2e/prepare.sh)
into ~/.cache/rollouts-conformance/bin; without it these tests are skipped, saying so (a fresh machine has only the
golden tests, which hold Argo's expected text for Argo's test objects). Ages differ by the seconds between the
two runs, so lines are compared word by word with ages masked; the column layout itself is proven by the golden
tests. Argo's plugin waits for an Experiment informer, so Argo's Experiment CRD (from the module) is installed
when the cluster serves none.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

from rollouts.controller.runtime import Controller
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import CRD, EXPERIMENT, ROLLOUT
from tests.support.argo_source import argo_rollouts_dir
from tests.support.plugin import GREEN, MANUAL_STEPS, Kubectl, Result, create, finish
from tests.support.rollouts import bluegreen_rollout, create_services, wait_phase

pytestmark = pytest.mark.integration

ARGO_PLUGIN = Path(os.environ.get("ARGO_PLUGIN", Path.home() / ".cache" / "rollouts-conformance" / "bin" /
                                  "kubectl-argo-rollouts"))
ARGO_BUILT = ARGO_PLUGIN.is_file()
AGE = re.compile(r"^(\d+[smhdy])+$|^<invalid>$")


@pytest.fixture
def kubectl(kubectl_bin: str, kubeconfig: Path) -> Kubectl:
    return Kubectl(kubectl_bin, kubeconfig)


@pytest.fixture
async def argo(kube: KubeClient, crds: None) -> Path:
    if not ARGO_BUILT:
        pytest.skip(f"Argo's plugin binary is not built ({ARGO_PLUGIN}; `make conformance` builds it)")
    try:
        await kube.list(EXPERIMENT, limit=1)
    except Exception:
        doc = _experiment_crd()
        await kube.apply(CRD, doc, field_manager="rollouts-tests-argo-experiment-stub")
        from tests.support.wait import eventually

        async def served() -> bool:
            try:
                await kube.list(EXPERIMENT, limit=1)
            except Exception:
                return False
            return True

        await eventually(served, bool, timeout=30, expected="Argo's Experiment CRD served")
    return ARGO_PLUGIN


def _experiment_crd() -> dict[str, object]:
    return dict(yaml.safe_load((argo_rollouts_dir() / "manifests" / "crds" / "experiment-crd.yaml").read_text()))


async def _argo(binary: Path, kubectl: Kubectl, *args: str) -> Result:
    import asyncio

    proc = await asyncio.create_subprocess_exec(str(binary), *args, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE, env=kubectl.env())
    return await finish(proc, 60, args)


def words(text: str) -> list[list[str]]:
    return [["AGE" if AGE.match(w) else w for w in line.split()] for line in text.splitlines()]


async def _same(argo: Path, kubectl: Kubectl, *args: str, mask_ages: bool = True) -> Result:
    theirs = await _argo(argo, kubectl, *args)
    ours = await kubectl.argo(*args)
    assert ours.code == theirs.code, (args, ours, theirs)
    if mask_ages:
        assert words(ours.out) == words(theirs.out), f"{args}\nours:\n{ours.out}\nArgo's:\n{theirs.out}"
    else:
        assert ours.out == theirs.out, f"{args}\nours:\n{ours.out}\nArgo's:\n{theirs.out}"
    return ours


async def test_canary_views_and_actions_match_argos_plugin(kube: KubeClient, namespace: str,
                                                           controller: Controller, kubectl: Kubectl,
                                                           argo: Path) -> None:
    await create(kube, namespace, "shop", MANUAL_STEPS)
    ns = ["-n", namespace]
    await _same(argo, kubectl, "get", "rollout", "shop", "--no-color", *ns)
    await _same(argo, kubectl, "status", "shop", *ns, mask_ages=False)
    await _argo(argo, kubectl, "set", "image", "shop", f"app={GREEN}", *ns)
    await wait_phase(kube, namespace, "shop", "Paused", step=1, timeout=90)
    shown = await _same(argo, kubectl, "get", "rollout", "shop", "--no-color", *ns)
    assert "॥ Paused" in shown.out
    await _same(argo, kubectl, "list", "rollouts", *ns)
    await _same(argo, kubectl, "status", "shop", "--watch=false", *ns, mask_ages=False)
    timed_out = await _argo(argo, kubectl, "status", "shop", "--timeout", "1s", *ns)
    ours = await kubectl.argo("status", "shop", "--timeout", "1s", *ns)
    assert (ours.code, ours.out, ours.err) == (timed_out.code, timed_out.out, timed_out.err)

    # the actions print the same lines
    for args in (["pause", "shop"], ["promote", "shop"], ["abort", "shop"], ["retry", "rollout", "shop"]):
        theirs = await _argo(argo, kubectl, *args, *ns)
        again = await kubectl.argo(*args, *ns)
        assert (again.code, again.out) == (theirs.code, theirs.out), args


async def test_blue_green_views_match_argos_plugin(kube: KubeClient, namespace: str, controller: Controller,
                                                   kubectl: Kubectl, argo: Path) -> None:
    await create_services(kube, namespace, "store", "store-active", "store-preview")
    manifest = bluegreen_rollout("store", replicas=2, previewService="store-preview", autoPromotionEnabled=False)
    await kube.create(ROLLOUT, manifest, namespace)
    await wait_phase(kube, namespace, "store", "Healthy", timeout=90)
    await kube.patch(ROLLOUT, "store", {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": GREEN}]}}}}, namespace)
    await wait_phase(kube, namespace, "store", "Paused", timeout=90)
    ns = ["-n", namespace]
    shown = await _same(argo, kubectl, "get", "rollout", "store", "--no-color", *ns)
    assert "(preview)" in shown.out and "BlueGreenPause" in shown.out, shown.out
    await _same(argo, kubectl, "list", "rollouts", *ns)
    await _same(argo, kubectl, "status", "store", "--watch=false", *ns, mask_ages=False)
