"""The kubectl plugin under both names through a real `kubectl`, against the real control plane and controller:
Argo's commands, output lines and exit codes (`kubectl argo rollouts ...`), as scripts and CI pipelines use them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from rollouts.controller.runtime import Controller
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import ROLLOUT
from tests.support.plugin import (
    BLUE,
    GREEN,
    MANUAL_STEPS,
    TIMED_STEPS,
    VENV_BIN,
    Kubectl,
    create,
    error_line,
    finish,
    image_of,
    service_account_token,
    write_token_kubeconfig,
)
from tests.support.rollouts import canary_rollout, get_rollout, replica_sets, wait_phase
from tests.support.wait import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
def kubectl(kubectl_bin: str, kubeconfig: Path) -> Kubectl:
    return Kubectl(kubectl_bin, kubeconfig)


async def test_kubectl_finds_the_plugin_under_both_names(kubectl: Kubectl) -> None:
    listed = await kubectl("plugin", "list")
    for name in ("kubectl-rollouts", "kubectl-argo-rollouts"):
        assert f"{VENV_BIN}/{name}" in listed.out, listed.out + listed.err
    for words, binary in ((("argo", "rollouts"), "kubectl-argo-rollouts"), (("rollouts",), "kubectl-rollouts")):
        version = await kubectl(*words, "version", "--short")
        assert (version.code, version.out) == (0, f"{binary}: v0.1.0\n")
    helped = await kubectl.argo("--help")
    assert helped.code == 0 and helped.out.startswith("usage: kubectl argo rollouts"), helped.err


async def test_get_list_status_and_json_match_the_object(kube: KubeClient, namespace: str, controller: Controller,
                                                         kubectl: Kubectl) -> None:
    await create(kube, namespace, "shop", MANUAL_STEPS)

    as_json = await kubectl.argo("get", "rollout", "shop", "-n", namespace, "-o", "json")
    assert as_json.code == 0, as_json.err
    obj = json.loads(as_json.out)
    live = await get_rollout(kube, namespace, "shop")
    assert obj["metadata"]["uid"] == live["metadata"]["uid"] and obj["spec"] == live["spec"]
    as_yaml = await kubectl.argo("get", "rollout", "shop", "-n", namespace, "-o", "yaml")
    assert yaml.safe_load(as_yaml.out)["metadata"]["uid"] == live["metadata"]["uid"]

    shown = await kubectl.argo("get", "rollout", "shop", "-n", namespace)
    assert shown.code == 0 and "\x1b" not in shown.out, shown.err  # not a terminal: no colours
    stable = live["status"]["stableRS"]
    for expected in ("Name:            shop", f"Namespace:       {namespace}", "Status:          ✔ Healthy",
                     "Strategy:        Canary", "  Step:          4/4", "  SetWeight:     100",
                     f"Images:          {BLUE} (stable)", "└──# revision:1", f"⧉ shop-{stable}",
                     "ReplicaSet  ✔ Healthy", "Pod         ✔ Running"):
        assert expected in shown.out, f"{expected!r} missing from:\n{shown.out}"
    assert shown.out.count("□ shop-") == 4

    listed = await kubectl.argo("list", "rollouts", "-n", namespace)
    assert listed.code == 0, listed.err
    assert listed.out.splitlines()[0].split() == ["NAME", "STRATEGY", "STATUS", "STEP", "SET-WEIGHT", "READY",
                                                  "DESIRED", "UP-TO-DATE", "AVAILABLE"]
    assert listed.out.splitlines()[1].split() == ["shop", "Canary", "Healthy", "4/4", "100", "4/4", "4", "4", "4"]
    named = await kubectl.argo("list", "rollouts", "-A", "--name", "shop", "-o", "json")
    assert [i["metadata"]["namespace"] for i in json.loads(named.out)["items"] if
            i["metadata"]["namespace"] == namespace] == [namespace]
    nothing = await kubectl.argo("list", "rollouts", "-n", namespace, "--name", "nope")
    assert (nothing.code, nothing.out, nothing.err) == (0, "", "No resources found.\n")

    status = await kubectl.argo("status", "shop", "-n", namespace)  # watches by default; Healthy: done at once
    assert (status.code, status.out) == (0, "Healthy\n"), status.err
    status_json = await kubectl.argo("status", "shop", "-n", namespace, "--watch=false", "-o", "json")
    assert json.loads(status_json.out) == {"name": "shop", "namespace": namespace, "phase": "Healthy",
                                           "message": live["status"].get("message", "")}


async def test_set_image_promote_and_full_promote(kube: KubeClient, namespace: str, controller: Controller,
                                                  kubectl: Kubectl) -> None:
    await create(kube, namespace, "shop", MANUAL_STEPS)

    updated = await kubectl.argo("set", "image", "shop", f"app={GREEN}", "-n", namespace)
    assert (updated.code, updated.out) == (0, 'rollout "shop" image updated\n'), updated.err
    paused = await wait_phase(kube, namespace, "shop", "Paused", step=1, timeout=90)
    assert image_of(paused) == GREEN

    shown = await kubectl.argo("get", "rollout", "shop", "-n", namespace)
    assert "Status:          ॥ Paused" in shown.out and "  Step:          1/4" in shown.out, shown.out
    assert "  SetWeight:     20" in shown.out and f"{GREEN} (canary)" in shown.out, shown.out
    once = await kubectl.argo("status", "shop", "-n", namespace, "--watch=false")
    assert (once.code, once.out) == (0, "Paused - CanaryPauseStep\n")

    promoted = await kubectl.argo("promote", "shop", "-n", namespace)
    assert (promoted.code, promoted.out) == (0, "rollout 'shop' promoted\n"), promoted.err
    ro = await wait_phase(kube, namespace, "shop", "Paused", step=3, timeout=90)
    assert ro["status"]["currentPodHash"] != ro["status"]["stableRS"]

    full = await kubectl.argo("promote", "shop", "--full", "-n", namespace)
    assert (full.code, full.out) == (0, "rollout 'shop' fully promoted\n"), full.err
    healthy = await wait_phase(kube, namespace, "shop", "Healthy", timeout=90)
    assert healthy["status"]["stableRS"] == ro["status"]["currentPodHash"]
    again = await kubectl.argo("promote", "shop", "-n", namespace)  # as Argo's: no refusal on a Healthy rollout
    assert (again.code, again.out) == (0, "rollout 'shop' promoted\n")


async def test_abort_fails_the_waiting_ci_job_and_retry_restarts(kube: KubeClient, namespace: str,
                                                                controller: Controller, kubectl: Kubectl) -> None:
    await create(kube, namespace, "shop", MANUAL_STEPS)
    await kubectl.argo("set", "image", "shop", f"app={GREEN}", "-n", namespace)
    await wait_phase(kube, namespace, "shop", "Paused", step=1, timeout=90)

    # Argo's usual CI gate: `status NAME --timeout` watches by default; the abort fails it with exit code 1
    waiting = await kubectl.start("argo", "rollouts", "status", "shop", "--timeout", "120s", "-n", namespace)
    assert waiting.stdout is not None
    first_line = (await asyncio.wait_for(waiting.stdout.readline(), 30)).decode()
    assert first_line == "Paused - CanaryPauseStep\n", first_line  # it is watching now
    aborted = await kubectl.argo("abort", "shop", "-n", namespace)
    assert (aborted.code, aborted.out) == (0, "rollout 'shop' aborted\n"), aborted.err
    watched = await finish(waiting, 120, "status")
    assert watched.code == 1, (watched.out, watched.err)
    last = watched.out.splitlines()[-1]
    assert last.startswith("Degraded - RolloutAborted: "), watched.out
    assert error_line(watched) == f"Error: The rollout is in a degraded state with message: {last[11:]}"

    degraded = await wait_phase(kube, namespace, "shop", "Degraded", timeout=90)
    assert degraded["status"]["abort"] is True
    once = await kubectl.argo("status", "shop", "-n", namespace, "--watch=false")
    assert (once.code, once.out) == (1, "Degraded\n")  # Argo prints only the phase without watching
    shown = await kubectl.argo("get", "rollout", "shop", "-n", namespace)
    assert "Status:          ✖ Degraded" in shown.out and "  SetWeight:     0" in shown.out, shown.out

    retried = await kubectl.argo("retry", "rollout", "shop", "-n", namespace)
    assert (retried.code, retried.out) == (0, "rollout 'shop' retried\n"), retried.err
    again = await wait_phase(kube, namespace, "shop", "Paused", step=1, timeout=90)
    assert not again["status"].get("abort")


async def test_status_exit_codes_and_undo(kube: KubeClient, namespace: str, controller: Controller,
                                          kubectl: Kubectl) -> None:
    first = await create(kube, namespace, "shop", TIMED_STEPS)
    blue_hash = first["status"]["stableRS"]

    await kubectl.argo("set", "image", "shop", f"app={GREEN}", "-n", namespace)
    done = await kubectl.argo("status", "shop", "--timeout", "120s", "-n", namespace, timeout=150)
    assert done.code == 0, (done.out, done.err)
    assert done.out.splitlines()[-1] == "Healthy" and done.err == ""
    green = await get_rollout(kube, namespace, "shop")
    assert green["status"]["stableRS"] != blue_hash and image_of(green) == GREEN

    undone = await kubectl.argo("undo", "shop", "-n", namespace)
    assert (undone.code, undone.out) == (0, "rollout 'shop' undo\n"), undone.err
    rolled = await get_rollout(kube, namespace, "shop")
    assert image_of(rolled) == BLUE
    assert "rollouts-pod-template-hash" not in rolled["spec"]["template"]["metadata"]["labels"]
    back = await kubectl.argo("status", "shop", "-t", "120s", "-n", namespace, timeout=150)
    assert back.code == 0, (back.out, back.err)
    final = await get_rollout(kube, namespace, "shop")
    rss = await replica_sets(kube, namespace, "shop")
    assert image_of(rss[final["status"]["stableRS"]]) == BLUE
    missing = await kubectl.argo("undo", "shop", "--to-revision=99", "-n", namespace)
    assert (missing.code, error_line(missing)) == (1, "Error: unable to find specified revision 99 in history")

    # paused indefinitely: status waits through Paused and gives up at the timeout with Argo's error, exit 1
    await kube.patch(ROLLOUT, "shop", {"spec": {"strategy": {"canary": {"steps": MANUAL_STEPS}}}}, namespace)
    await kubectl.argo("set", "image", "shop", f"app={GREEN}", "-n", namespace)
    await wait_phase(kube, namespace, "shop", "Paused", step=1, timeout=90)
    timed_out = await kubectl.argo("status", "shop", "--timeout", "2s", "-n", namespace)
    assert (timed_out.code, timed_out.out) == (1, "Paused - CanaryPauseStep\n"), timed_out.err
    assert error_line(timed_out) == "Error: Rollout status watch exceeded timeout"


async def test_pause_resume_restart_for_several_names(kube: KubeClient, namespace: str, controller: Controller,
                                                      kubectl: Kubectl) -> None:
    await create(kube, namespace, "shop", MANUAL_STEPS)
    await create(kube, namespace, "cart", MANUAL_STEPS)
    paused = await kubectl.argo("pause", "shop", "cart", "-n", namespace)
    assert (paused.code, paused.out) == (0, "rollout 'shop' paused\nrollout 'cart' paused\n")
    await wait_phase(kube, namespace, "shop", "Paused", timeout=60)
    twice = await kubectl.argo("pause", "shop", "-n", namespace)  # Argo's plugin does not refuse
    assert (twice.code, twice.out) == (0, "rollout 'shop' paused\n")
    resumed = await kubectl.argo("resume", "shop", "cart", "-n", namespace)  # beyond Argo: spec.paused=false
    assert (resumed.code, resumed.out) == (0, "rollout 'shop' resumed\nrollout 'cart' resumed\n")
    await wait_phase(kube, namespace, "shop", "Healthy", timeout=60)

    restarted = await kubectl.argo("restart", "shop", "-n", namespace)
    assert (restarted.code, restarted.out) == (0, "rollout 'shop' restarts in 0s\n"), restarted.err
    await eventually(lambda: get_rollout(kube, namespace, "shop"),
                     lambda r: (r.get("status") or {}).get("restartedAt") == r["spec"]["restartAt"]
                     and r["status"].get("phase") == "Healthy",
                     timeout=90, expected="status.restartedAt to reach spec.restartAt, and Healthy")
    later = await kubectl.argo("restart", "cart", "--in", "1h", "-n", namespace)
    assert (later.code, later.out) == (0, "rollout 'cart' restarts in 1h\n")
    assert (await get_rollout(kube, namespace, "cart"))["spec"]["restartAt"] > (
        await get_rollout(kube, namespace, "shop"))["spec"]["restartAt"]


async def test_bad_input_gives_one_clear_line(kube: KubeClient, namespace: str, crds: None, kubectl: Kubectl,
                                              kubeconfig: Path, tmp_path: Path) -> None:
    name = f"lonely-{namespace[-5:]}"  # unique in the cluster, so "found in namespace(s)" names only ours
    await kube.create(ROLLOUT, canary_rollout(name, image=BLUE, replicas=1), namespace)

    missing = await kubectl.argo("get", "rollout", "nope", "-n", namespace)
    assert (missing.code, missing.out) == (1, "")
    assert error_line(missing) == f"Error: rollout 'nope' not found in namespace '{namespace}'"
    watch_missing = await kubectl.argo("get", "rollout", "nope", "-w", "-n", namespace)
    assert error_line(watch_missing) == f"Error: rollout 'nope' not found in namespace '{namespace}'"

    wrong_ns = await kubectl.argo("promote", name, "-n", "default")
    assert wrong_ns.code == 1
    assert error_line(wrong_ns) == (f"Error: rollout '{name}' not found in namespace 'default' "
                                    f"(found in namespace(s): {namespace}; use -n)")

    bad_image = await kubectl.argo("set", "image", name, "app=Example/App", "-n", namespace)
    assert bad_image.code == 1 and "invalid image argument 'app=Example/App'" in error_line(bad_image)
    no_container = await kubectl.argo("set", "image", name, "db=postgres:16", "-n", namespace)
    assert error_line(no_container) == (f'Error: unable to find container named "db" (containers of rollout '
                                        f"'{name}': app)")

    # RBAC: a service account that may read rollouts in this namespace and nothing else
    token = await service_account_token(kube, kubectl, namespace)
    limited = write_token_kubeconfig(kubeconfig, token, tmp_path / "reader.kubeconfig")
    shown = await kubectl.argo("status", name, "-n", namespace, "--watch=false", kubeconfig=limited)
    assert shown.code == 0 and shown.err == "", shown.err
    assert shown.out.startswith("Progressing - "), shown.out  # no controller runs in this test
    denied = await kubectl.argo("pause", name, "-n", namespace, kubeconfig=limited)
    assert denied.code == 1
    line = error_line(denied)
    assert line.startswith(f"Error: permission denied (RBAC 403) to pause rollout '{name}' in namespace "
                           f"'{namespace}': "), line
    assert "cannot patch resource" in line
    other = await kubectl.argo("get", "rollout", name, "-n", "default", kubeconfig=limited)
    assert error_line(other).startswith(
        f"Error: permission denied (RBAC 403) to get rollout '{name}' in namespace 'default'")


async def test_get_watch_json_prints_each_version(kube: KubeClient, namespace: str, controller: Controller,
                                                  kubectl: Kubectl) -> None:
    await create(kube, namespace, "shop", MANUAL_STEPS)
    proc = await kubectl.start("argo", "rollouts", "get", "rollout", "shop", "-n", namespace, "--watch", "-o", "json")
    stdout = proc.stdout
    assert stdout is not None
    decoder = json.JSONDecoder()
    buffer = ""
    seen: list[dict[str, Any]] = []

    async def next_doc() -> dict[str, Any]:
        nonlocal buffer
        while True:
            stripped = buffer.lstrip()
            if stripped:
                try:
                    doc, end = decoder.raw_decode(stripped)
                except json.JSONDecodeError:
                    pass
                else:
                    buffer = stripped[end:]
                    return dict(doc)
            chunk = await asyncio.wait_for(stdout.read(65536), 60)
            assert chunk, "the watch ended without printing the change"
            buffer += chunk.decode()

    try:
        seen.append(await next_doc())
        assert image_of(seen[0]) == BLUE
        await kubectl.argo("set", "image", "shop", f"app={GREEN}", "-n", namespace)
        while not (image_of(seen[-1]) == GREEN and (seen[-1].get("status") or {}).get("phase") == "Paused"):
            seen.append(await next_doc())
        versions = [int(d["metadata"]["resourceVersion"]) for d in seen]
        assert versions == sorted(set(versions)), "each printed version is new and in order"
    finally:
        proc.terminate()
        await proc.wait()
