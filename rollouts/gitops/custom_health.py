"""The health of live objects as the reconciler needs it: built-in rules, plus user Lua checks off the event loop.

Why this module exists: built-in rules are pure and take microseconds, but a user's Lua health check
(``health/customizations.py``) is arbitrary code. It runs in the same kind of sandbox as analysis conditions
(``analysis/sandbox.py``): a small pool of worker processes. Inside, ``health/lua.py`` stops a script at its
deadline between instructions; a script stuck in one long C call (a pathological ``string.find``) outlives
that, and its worker is killed at the deadline plus a grace and replaced. So the event loop keeps serving
probes, Lease renewals and other applications, and a failing script makes only its own resource Unknown,
with a message naming the argocd-cm key and the error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from analysis.sandbox import ProcessSandbox, Sandbox, SandboxError
from rollouts.api.application import HealthStatusCode
from rollouts.gitops.health import checked_health, pending_deletion, resource_health
from rollouts.gitops.health.customizations import HealthCustomizations, HealthScript
from rollouts.gitops.health.lua import (
    DEFAULT_MAX_MEMORY,
    DEFAULT_TIMEOUT,
    LuaHealthError,
    LuaOutcome,
    run_health_script,
)
from rollouts.gitops.health.model import Health, group_of

Obj = Mapping[str, Any]
_GRACE = 0.5


def _run(script: str, obj: Mapping[str, Any], use_open_libs: bool, timeout: float,
         max_memory: int) -> LuaOutcome | str:
    """In the worker: the script's outcome, or the failure's message (a value, not an exception)."""
    try:
        return run_health_script(script, obj, use_open_libs=use_open_libs, timeout=timeout, max_memory=max_memory)
    except LuaHealthError as exc:
        return str(exc)


class HealthAssessor:
    """Assesses live objects with the current ``argocd-cm`` health customizations."""

    def __init__(self, customizations: HealthCustomizations | None = None, *, timeout: float = DEFAULT_TIMEOUT,
                 max_memory: int = DEFAULT_MAX_MEMORY, sandbox: Sandbox | None = None) -> None:
        self.customizations = customizations or HealthCustomizations()
        self.timeout = timeout
        self.max_memory = max_memory
        self._sandbox = sandbox
        self._own_sandbox: ProcessSandbox | None = None

    def configure(self, customizations: HealthCustomizations) -> bool:
        """Use new customizations; True when they differ from the current ones (health must be recomputed)."""
        changed = customizations != self.customizations
        self.customizations = customizations
        return changed

    def close(self) -> None:
        if self._own_sandbox is not None:
            self._own_sandbox.close()
            self._own_sandbox = None

    def _pool(self) -> Sandbox:
        if self._sandbox is not None:
            return self._sandbox
        if self._own_sandbox is None:  # started on the first user script: none, no workers
            self._own_sandbox = ProcessSandbox(workers=2, deadline=self.timeout + _GRACE)
        return self._own_sandbox

    async def health(self, obj: Obj | None) -> Health | None:
        """The object's health: Missing when absent, a user script's verdict when one applies, else built-in."""
        if obj is None:
            return resource_health(None)
        script = self.customizations.script_for(group_of(obj), str(obj.get("kind") or ""))
        if script is None:
            return resource_health(obj)
        return await self._scripted(script, obj)

    async def _scripted(self, script: HealthScript, obj: Obj) -> Health | None:
        try:
            outcome = await self._pool().run(_run, script.script, dict(obj), script.use_open_libs, self.timeout,
                                             self.max_memory)
        except SandboxError as exc:
            reason = f"did not finish within {self.timeout:g}s" if "deadline" in str(exc) else str(exc)
            return self._failed(script, reason)
        except Exception as exc:  # a broken worker pool (its processes could not start): this resource only
            self.close()  # the next script starts a fresh pool
            return self._failed(script, f"the Lua worker failed ({type(exc).__name__}: {exc})")
        if isinstance(outcome, str):
            return self._failed(script, outcome)
        if outcome.returned_nil:
            # A script that returns nil has no opinion: gitops-engine's Go check decides (not Argo CD's Lua one).
            health, failed = checked_health(obj, skip_lua=True)
            return health if failed else pending_deletion(obj, health) or health
        return pending_deletion(obj, outcome.health, outcome.deletion_message) or outcome.health

    @staticmethod
    def _failed(script: HealthScript, reason: str) -> Health:
        return Health(HealthStatusCode.UNKNOWN,
                      f"health check {script.key!r} from argocd-cm failed: {reason}")
