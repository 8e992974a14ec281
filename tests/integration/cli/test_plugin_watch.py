"""Every `--watch` view through a real pipe (and through a real terminal), against the real controller.

When stdout is not a terminal (`| tee log`, a CI log), `get rollout --watch` writes one plain frame per change and
`list rollouts --watch` one line per changed Rollout, each flushed at once: a log never stays empty while the
Rollout moves. On a terminal, `get --watch` redraws in place as Argo's plugin does (clear screen, every second).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import pty
import re
import signal
import time
from pathlib import Path

import pytest

from rollouts.controller.runtime import Controller
from rollouts.kube.client import KubeClient
from tests.support.plugin import GREEN, MANUAL_STEPS, Kubectl, create, finish
from tests.support.rollouts import wait_phase

pytestmark = pytest.mark.integration
ESCAPE = re.compile(r"\x1b\[")


@pytest.fixture
def kubectl(kubectl_bin: str, kubeconfig: Path) -> Kubectl:
    return Kubectl(kubectl_bin, kubeconfig)


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


async def _until(path: Path, predicate: object, *, timeout: float, expected: str) -> str:
    """Poll a growing file until `predicate(text)` holds; fail naming what was expected and what was seen."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = _read(path)
        if predicate(text):  # type: ignore[operator]
            return text
        await asyncio.sleep(0.2)
    raise AssertionError(f"expected {expected} within {timeout}s; the log holds {len(text)} bytes:\n{text[-3000:]}")


async def test_get_watch_through_tee_writes_a_frame_per_change(kube: KubeClient, namespace: str,
                                                               controller: Controller, kubectl: Kubectl,
                                                               tmp_path: Path) -> None:
    await create(kube, namespace, "shop", MANUAL_STEPS)
    log = tmp_path / "watch.log"
    shell = await asyncio.create_subprocess_exec(
        "sh", "-c", f'"$KUBECTL" argo rollouts get rollout shop -n {namespace} --watch | tee "$LOG" >/dev/null',
        env=kubectl.env(extra={"KUBECTL": kubectl.binary, "LOG": str(log)}), start_new_session=True)
    try:
        first = await _until(log, lambda t: "Replicas:" in t and t.rstrip().endswith("ready:1/1"), timeout=30,
                             expected="the first frame in the log")
        assert first.startswith("Name:            shop\n") and "Status:          ✔ Healthy" in first
        assert not ESCAPE.search(first), "no colours or cursor moves when stdout is not a terminal"

        await kubectl.argo("set", "image", "shop", f"app={GREEN}", "-n", namespace)
        text = await _until(log, lambda t: "Status:          ॥ Paused" in t and f"{GREEN} (canary)" in t,
                            timeout=60, expected="a frame showing the paused canary")
        frames = text.split("\n\nName:")
        assert len(frames) >= 2, text
        assert all(frame.count("Replicas:") == 1 for frame in frames)
        assert not ESCAPE.search(text)
        # ages move every second, but a frame is written only when something else changed: once the paused
        # canary has settled, the log stops growing
        quiet_since, size = time.monotonic(), log.stat().st_size
        deadline = time.monotonic() + 60
        while time.monotonic() - quiet_since < 4:
            assert time.monotonic() < deadline, "the log kept growing although the rollout is paused"
            await asyncio.sleep(0.5)
            if log.stat().st_size != size:
                quiet_since, size = time.monotonic(), log.stat().st_size
    finally:
        os.killpg(shell.pid, signal.SIGTERM)
        await shell.wait()


async def test_list_watch_through_a_pipe_writes_a_line_per_change(kube: KubeClient, namespace: str,
                                                                  controller: Controller, kubectl: Kubectl) -> None:
    await create(kube, namespace, "shop", MANUAL_STEPS)
    proc = await kubectl.start("argo", "rollouts", "list", "rollouts", "-n", namespace, "--watch", "--timestamps")
    assert proc.stdout is not None
    try:
        header = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        assert header.split() == ["TIMESTAMP", "NAME", "STRATEGY", "STATUS", "STEP", "SET-WEIGHT", "READY",
                                  "DESIRED", "UP-TO-DATE", "AVAILABLE"]
        row = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode().split()
        assert row[1:4] == ["shop", "Canary", "Healthy"], row
        await kubectl.argo("set", "image", "shop", f"app={GREEN}", "-n", namespace)
        seen: list[list[str]] = []
        while not seen or seen[-1][3:6] != ["Paused", "1/4", "20"]:
            line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
            assert line, f"the watch ended; lines so far: {seen}"
            seen.append(line.split())
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", cells[0]) for cells in seen)
        assert len({tuple(cells[1:]) for cells in seen}) == len(seen), "a line only when something in it changed"
    finally:
        proc.send_signal(signal.SIGINT)
        await finish(proc, 30, "list --watch")


async def test_list_watch_all_namespaces_shows_new_rollouts_and_honours_name(
        kube: KubeClient, namespace: str, controller: Controller, kubectl: Kubectl) -> None:
    """Rollouts created after the table was printed appear as lines (with their namespace under -A); `--name`
    keeps every other Rollout out; Ctrl-C ends the watch with exit code 0."""
    await create(kube, namespace, "shop", MANUAL_STEPS)
    everything = await kubectl.start("argo", "rollouts", "list", "rollouts", "-A", "--watch")
    only_cart = await kubectl.start("argo", "rollouts", "list", "rollouts", "-n", namespace, "--name", "cart",
                                    "--watch")
    assert everything.stdout is not None and only_cart.stdout is not None
    try:
        header = (await asyncio.wait_for(everything.stdout.readline(), 30)).decode().split()
        assert header[:2] == ["NAMESPACE", "NAME"], header
        while True:  # the table: this namespace's shop among the cluster's Rollouts
            cells = (await asyncio.wait_for(everything.stdout.readline(), 30)).decode().split()
            assert cells, "the watch ended before showing the table"
            if cells[:2] == [namespace, "shop"]:
                break
        # nothing named cart exists yet: the filtered watch prints only the header, then waits
        cart_header = (await asyncio.wait_for(only_cart.stdout.readline(), 30)).decode().split()
        assert cart_header[:2] == ["NAME", "STRATEGY"], cart_header
        await create(kube, namespace, "cart", MANUAL_STEPS)
        seen: list[list[str]] = []
        while not seen or seen[-1][:2] != [namespace, "cart"] or seen[-1][3] != "Healthy":
            line = (await asyncio.wait_for(everything.stdout.readline(), 60)).decode()
            assert line, f"the watch ended; lines so far: {seen}"
            seen.append(line.split())
        assert all(cells[1] == "cart" for cells in seen if cells[0] == namespace), seen
        await kubectl.argo("set", "image", "shop", f"app={GREEN}", "-n", namespace)
        cart: list[list[str]] = []
        while not cart or cart[-1][2] != "Healthy":
            line = (await asyncio.wait_for(only_cart.stdout.readline(), 60)).decode()
            assert line, f"the filtered watch ended; lines so far: {cart}"
            cart.append(line.split())
        await wait_phase(kube, namespace, "shop", "Paused", step=1, timeout=60)
        only_cart.send_signal(signal.SIGINT)
        filtered = await finish(only_cart, 30, "list --name cart --watch")
        assert filtered.code == 0, filtered.err
        rows = cart + [line.split() for line in filtered.out.splitlines()]
        assert rows and all(cells[0] == "cart" for cells in rows), f"only cart's lines: {rows}"
    finally:
        for proc in (everything, only_cart):
            if proc.returncode is None:
                proc.send_signal(signal.SIGINT)
        result = await finish(everything, 30, "list -A --watch")
    assert result.code == 0, result.err


async def test_get_watch_timeout_seconds_and_interrupt_exit_0(kube: KubeClient, namespace: str,
                                                              controller: Controller, kubectl: Kubectl) -> None:
    await create(kube, namespace, "shop", MANUAL_STEPS)
    started = time.monotonic()
    timed = await kubectl.argo("get", "rollout", "shop", "-n", namespace, "-w", "--timeout-seconds", "2", timeout=60)
    assert timed.code == 0 and timed.out.startswith("Name:            shop"), timed.err
    assert time.monotonic() - started >= 2

    proc = await kubectl.start("argo", "rollouts", "get", "rollout", "shop", "-n", namespace, "-w")
    assert proc.stdout is not None
    assert (await asyncio.wait_for(proc.stdout.readline(), 30)).startswith(b"Name:")
    proc.send_signal(signal.SIGINT)  # kubectl passes it on; the plugin ends as Argo's does: exit 0
    result = await finish(proc, 30, "get --watch")
    assert result.code == 0, result.err


async def test_get_watch_on_a_terminal_redraws_in_place(kube: KubeClient, namespace: str, controller: Controller,
                                                        kubectl: Kubectl) -> None:
    await create(kube, namespace, "shop", MANUAL_STEPS)
    leader, follower = pty.openpty()
    proc = await asyncio.create_subprocess_exec(
        kubectl.binary, "argo", "rollouts", "get", "rollout", "shop", "-n", namespace, "-w",
        stdin=follower, stdout=follower, stderr=follower, env=kubectl.env(extra={"TERM": "xterm"}))
    os.close(follower)
    received = b""
    loop = asyncio.get_running_loop()
    try:
        deadline = time.monotonic() + 30
        while received.count(b"\x1b[H\x1b[2J") < 3 and time.monotonic() < deadline:
            try:
                received += await loop.run_in_executor(None, os.read, leader, 65536)
            except OSError:  # the plugin closed the terminal: it ended; what it wrote is judged below
                break
        text = received.decode(errors="replace")
        assert text.count("\x1b[H\x1b[2J") >= 3, f"expected the screen cleared and redrawn each second:\n{text}"
        assert "\x1b[32m✔\x1b[0m Healthy" in text, "Argo's colours on a terminal"
    finally:
        proc.send_signal(signal.SIGINT)
        await asyncio.wait_for(proc.wait(), 30)
        os.close(leader)
    assert proc.returncode == 0


async def test_status_is_line_by_line_through_a_pipe(kube: KubeClient, namespace: str, controller: Controller,
                                                     kubectl: Kubectl) -> None:
    await create(kube, namespace, "shop", [{"setWeight": 50}, {"pause": {}}])
    healthy = await kubectl.argo("status", "shop", "-n", namespace, "--timeout", "120s")
    assert (healthy.code, healthy.out, healthy.err) == (0, "Healthy\n", "")

    await kubectl.argo("set", "image", "shop", f"app={GREEN}", "-n", namespace)
    await wait_phase(kube, namespace, "shop", "Paused", step=1, timeout=60)
    follow = await kubectl.start("argo", "rollouts", "status", "shop", "-n", namespace, "--timeout", "120s")
    assert follow.stdout is not None
    first = (await asyncio.wait_for(follow.stdout.readline(), 30)).decode()
    assert first == "Paused - CanaryPauseStep\n", first
    await kubectl.argo("promote", "shop", "-n", namespace)
    lines: list[str] = [first.rstrip("\n")]
    while not lines or lines[-1] != "Healthy":
        line = (await asyncio.wait_for(follow.stdout.readline(), 90)).decode()
        assert line, f"status ended before Healthy: {lines}"
        lines.append(line.rstrip("\n"))
    result = await finish(follow, 30, "status")
    assert result.code == 0 and len(lines) >= 2, lines
    assert all(a != b for a, b in itertools.pairwise(lines)), f"a line per change: {lines}"
    assert any(line.startswith(("Progressing - ", "Paused - ")) for line in lines[:-1]), lines
    await wait_phase(kube, namespace, "shop", "Healthy", timeout=30)
