"""User-defined Lua health checks: argocd-cm parsing, the sandbox's limits, and running off the event loop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from analysis.sandbox import ProcessSandbox
from rollouts.api.application import HealthStatusCode as H
from rollouts.gitops.custom_health import HealthAssessor
from rollouts.gitops.health import Health
from rollouts.gitops.health.customizations import HealthScript, parse_customizations
from rollouts.gitops.health.lua import LuaHealthError, run_health_script

WIDGET = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "ns"},
          "status": {"conditions": [{"type": "Ready", "status": "True", "message": "all set"}], "replicas": 2}}

READY_SCRIPT = """
hs = {}
if obj.status ~= nil and obj.status.conditions ~= nil then
  for i, condition in ipairs(obj.status.conditions) do
    if condition.type == "Ready" and condition.status == "True" then
      hs.status = "Healthy"
      hs.message = condition.message .. " (" .. obj.status.replicas .. " replicas)"
      return hs
    end
  end
end
hs.status = "Progressing"
hs.message = "Waiting for the widget"
return hs
"""


# -- argocd-cm ------------------------------------------------------------------------------------------------


def test_split_keys_blob_and_open_libs() -> None:
    custom = parse_customizations({
        "resource.customizations.health.example.com_Widget": READY_SCRIPT,
        "resource.customizations.useOpenLibs.example.com_Widget": "true",
        "resource.customizations.health.ConfigMap": "return {status = 'Healthy'}",
        "resource.customizations": "cert-manager.io/Certificate:\n  health.lua: return nil\n"
                                   "  health.lua.useOpenLibs: true\n",
        "resource.customizations.ignoreDifferences.apps_Deployment": "jsonPointers: [/spec/replicas]",
        "url": "https://argocd.example.com",
    })
    assert custom.problems == ()
    assert custom.script_for("example.com", "Widget") == HealthScript("example.com/Widget", READY_SCRIPT, True)
    assert custom.script_for("", "ConfigMap") == HealthScript("ConfigMap", "return {status = 'Healthy'}")
    assert custom.script_for("cert-manager.io", "Certificate") == HealthScript(
        "cert-manager.io/Certificate", "return nil", True)
    assert custom.script_for("apps", "Deployment") is None


def test_globs_and_all_match_after_exact_keys() -> None:
    custom = parse_customizations({
        "resource.customizations.health.*.example.com_*": "return {status = 'Degraded'}",
        "resource.customizations.health.all": "return {status = 'Suspended'}",
        "resource.customizations.health.ops.example.com_Widget": "return {status = 'Healthy'}",
    })
    assert custom.script_for("ops.example.com", "Widget").key == "ops.example.com/Widget"  # type: ignore[union-attr]
    assert custom.script_for("ops.example.com", "Gadget").key == "*.example.com/*"  # type: ignore[union-attr]
    assert custom.script_for("apps", "Deployment").key == "*/*"  # type: ignore[union-attr]
    # A core kind's key has no "/" ("Pod"), so Argo CD's "*/*" does not match it either.
    assert custom.script_for("", "Pod") is None


def test_unreadable_settings_are_named_and_the_rest_applies() -> None:
    custom = parse_customizations({
        "resource.customizations": "a: [unclosed",
        "resource.customizations.health.a_b_c": "return nil",
        "resource.customizations.useOpenLibs.example.com_Widget": "maybe",
        "resource.customizations.health.example.com_Widget": READY_SCRIPT,
    })
    assert len(custom.problems) == 3
    assert any("not valid YAML" in p for p in custom.problems)
    assert any("a_b_c" in p for p in custom.problems)
    assert any("'maybe' is not a boolean" in p for p in custom.problems)
    assert custom.script_for("example.com", "Widget") is not None


# -- the sandbox ------------------------------------------------------------------------------------------------


def test_a_script_reads_obj_and_returns_a_health() -> None:
    outcome = run_health_script(READY_SCRIPT, WIDGET)
    assert outcome.health == Health(H.HEALTHY, "all set (2 replicas)")


@pytest.mark.parametrize(("script", "error"), [
    pytest.param("while true do end", r"did not finish within 0\.5s", id="infinite-loop"),
    pytest.param("while true do pcall(function() while true do end end) end", r"did not finish within 0\.5s",
                 id="loop-that-catches-errors"),
    pytest.param("local t = {} for i = 1, 1e9 do t[i] = i end", "exceeded the memory limit of 64 MiB",
                 id="huge-table"),
    pytest.param("local s = 'x' while true do s = s .. s end", "exceeded the memory limit of 64 MiB",
                 id="string-doubling"),
    pytest.param("return io.open('/etc/passwd')", "attempt to index global 'io'", id="no-io"),
    pytest.param("return os.execute('true')", "attempt to call field 'execute'", id="no-os-execute"),
    pytest.param("return os.getenv('HOME')", "attempt to call field 'getenv'", id="no-os-getenv"),
    pytest.param("return require('io')", "module 'io' not found", id="require-knows-only-os"),
    pytest.param("return python.eval('1')", "attempt to index global 'python'", id="no-python-bridge"),
    pytest.param("return loadstring('return 1')()", "attempt to call global 'loadstring'", id="no-loadstring"),
    pytest.param("return dofile('/etc/passwd')", "attempt to call global 'dofile'", id="no-dofile"),
    pytest.param("return getfenv(0)", "attempt to call global 'getfenv'", id="no-getfenv"),
    pytest.param("return debug.getinfo(1)", "attempt to index global 'debug'", id="no-debug"),
    pytest.param("return {status = string.upper('x')}", "attempt to index global 'string'", id="no-string-by-default"),
    pytest.param("return {", r"syntax error: health\.lua:1:", id="syntax-error"),
    pytest.param("local x = nil\nreturn x.y", r"health\.lua:2: attempt to index local 'x'", id="runtime-error"),
    pytest.param("return 'Healthy'", "expect table output from Lua script, not string", id="not-a-table"),
])
def test_the_sandbox_stops_and_names_what_went_wrong(script: str, error: str) -> None:
    # The memory cases get a deadline they cannot reach even on a busy machine: the memory limit must stop them.
    timeout = 60.0 if "memory" in error else 0.5
    started = time.monotonic()
    with pytest.raises(LuaHealthError, match=error):
        run_health_script(script, WIDGET, timeout=timeout)
    assert time.monotonic() - started < 30, "a limit was not enforced promptly"


def test_a_runtime_survives_a_failure() -> None:
    with pytest.raises(LuaHealthError):
        run_health_script("while true do end", WIDGET, timeout=0.2)
    assert run_health_script(READY_SCRIPT, WIDGET).health == Health(H.HEALTHY, "all set (2 replicas)")


def test_safe_os_and_open_libs() -> None:
    script = "local os = require('os')\nreturn {status = 'Healthy', message = os.date('!%Y', 0)}"
    assert run_health_script(script, WIDGET).health == Health(H.HEALTHY, "1970")
    libs = "return {status = 'Healthy', message = string.format('%d', math.floor(2.5))}"
    assert run_health_script(libs, WIDGET, use_open_libs=True).health == Health(H.HEALTHY, "2")


@pytest.mark.parametrize(("script", "health", "returned_nil"), [
    pytest.param("return nil", None, True, id="nil-means-built-in-rules"),
    pytest.param("return {}", None, False, id="empty-table-is-an-empty-health"),
    pytest.param("return {'Healthy'}", None, False, id="array-is-an-empty-health"),
    pytest.param("return {status = 3}", None, False, id="wrong-type-is-an-empty-health"),
    pytest.param("return {status = 'Fine'}", Health(H.UNKNOWN, "Lua returned an invalid health status"), False,
                 id="invalid-status"),
    pytest.param("return {message = 'no status'}", Health(H.UNKNOWN, "Lua returned an invalid health status"), False,
                 id="missing-status"),
])
def test_results_decode_as_in_argo_cd(script: str, health: Health | None, returned_nil: bool) -> None:
    outcome = run_health_script(script, WIDGET)
    assert (outcome.health, outcome.returned_nil) == (health, returned_nil)


# -- the assessor ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox() -> Iterator[ProcessSandbox]:
    """One pool of Lua workers for the module (a worker start costs about a second on a busy machine)."""
    pool = ProcessSandbox(workers=2, deadline=1.0)
    yield pool
    pool.close()


@pytest.fixture
def assessor(sandbox: ProcessSandbox) -> Callable[..., HealthAssessor]:
    def make(**data: str) -> HealthAssessor:
        return HealthAssessor(parse_customizations(data), timeout=0.5, sandbox=sandbox)
    return make


async def test_user_script_overrides_built_in_rules_and_nil_falls_back_to_go_checks(assessor: Callable[..., HealthAssessor]) -> None:
    pod: dict[str, Any] = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                           "spec": {"restartPolicy": "Always"}, "status": {"phase": "Pending"}}
    check = assessor(**{"resource.customizations.health.Pod": "return {status = 'Degraded', message = 'mine'}"})
    assert await check.health(pod) == Health(H.DEGRADED, "mine")
    check = assessor(**{"resource.customizations.health.Pod": "return nil"})
    assert await check.health(pod) == Health(H.PROGRESSING, "")


async def test_deletion_message_and_pending_deletion(assessor: Callable[..., HealthAssessor]) -> None:
    deleting = {**WIDGET, "metadata": {"name": "w", "deletionTimestamp": "2024-01-01T00:00:00Z",
                                       "finalizers": ["example.com/cleanup"]}}
    plain = assessor(**{"resource.customizations.health.example.com_Widget": "return {status = 'Healthy'}"})
    assert await plain.health(deleting) == Health(
        H.PROGRESSING, "Pending deletion; blocked by finalizers: example.com/cleanup")
    custom = assessor(**{"resource.customizations.health.example.com_Widget":
                          "return {status = 'Healthy', deletionMessage = 'cleaning up'}"})
    assert await custom.health(deleting) == Health(H.HEALTHY, "cleaning up")


async def test_a_failing_script_makes_only_its_resource_unknown(assessor: Callable[..., HealthAssessor]) -> None:
    check = assessor(**{"resource.customizations.health.example.com_Widget": "while true do end"})
    health = await check.health(WIDGET)
    assert health == Health(H.UNKNOWN, "health check 'example.com/Widget' from argocd-cm failed: "
                                       "did not finish within 0.5s")
    other = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "c"}, "status": {"phase": "Bound"}}
    assert await check.health(other) == Health(H.HEALTHY)


async def test_lua_runs_off_the_event_loop(assessor: Callable[..., HealthAssessor]) -> None:
    """While a script spins until its deadline, the loop keeps running other tasks."""
    check = assessor(**{"resource.customizations.health.example.com_Widget": "while true do end"})
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.02)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        health = await check.health(WIDGET)
    finally:
        task.cancel()
    assert health is not None and health.status is H.UNKNOWN
    assert ticks >= 5, f"the event loop ran only {ticks} ticks of 20 ms during a 0.5 s script"


async def test_a_script_stuck_in_c_is_stopped_by_killing_its_worker(assessor: Callable[..., HealthAssessor]) -> None:
    """A pathological pattern keeps Lua inside one C call, where no instruction hook runs: the worker process is
    killed at the deadline (plus a grace), replaced, and the next script runs normally."""
    stuck = "local s = string.rep('a', 30000)\nstring.find(s, '.-.-.-.-.-b')\nreturn {status = 'Healthy'}"
    check = assessor(**{"resource.customizations.health.example.com_Widget": stuck,
                            "resource.customizations.useOpenLibs.example.com_Widget": "true",
                            "resource.customizations.health.example.com_Gadget": "return {status = 'Healthy'}"})
    started = time.monotonic()
    health = await check.health(WIDGET)
    assert health == Health(H.UNKNOWN, "health check 'example.com/Widget' from argocd-cm failed: "
                                       "did not finish within 0.5s")
    assert time.monotonic() - started < 10
    gadget = {**WIDGET, "kind": "Gadget"}
    assert await check.health(gadget) == Health(H.HEALTHY)


class _BrokenPool:
    async def run(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("All workers expired")


async def test_a_broken_worker_pool_makes_the_resource_unknown_instead_of_failing_the_pass() -> None:
    check = HealthAssessor(parse_customizations({"resource.customizations.health.example.com_Widget": "return nil"}),
                           sandbox=_BrokenPool())
    assert await check.health(WIDGET) == Health(
        H.UNKNOWN, "health check 'example.com/Widget' from argocd-cm failed: the Lua worker failed "
                   "(RuntimeError: All workers expired)")
