"""The health of live objects as the reconciler needs it: built-in rules, plus user Lua checks off the event loop.

Why this module exists: built-in rules are pure and take microseconds, but a user's Lua health check
(``health/customizations.py``) is arbitrary code. It runs in a small thread pool with a deadline
(``health/lua.py`` stops it from inside; ``asyncio.wait_for`` gives up on it at the same deadline plus a
grace even if it is stuck in a C call), so the event loop keeps serving probes, Lease renewals and other
applications. A failing script makes only its own resource Unknown, with a message naming the argocd-cm key
and the error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from rollouts.api.application import HealthStatusCode
from rollouts.gitops.health import checked_health, pending_deletion, resource_health
from rollouts.gitops.health.customizations import HealthCustomizations, HealthScript
from rollouts.gitops.health.lua import DEFAULT_MAX_MEMORY, DEFAULT_TIMEOUT, LuaHealthError, run_health_script
from rollouts.gitops.health.model import Health, group_of

Obj = Mapping[str, Any]
_GRACE = 0.5


class HealthAssessor:
    """Assesses live objects with the current ``argocd-cm`` health customizations."""

    def __init__(self, customizations: HealthCustomizations | None = None, *, timeout: float = DEFAULT_TIMEOUT,
                 max_memory: int = DEFAULT_MAX_MEMORY, workers: int = 2) -> None:
        self.customizations = customizations or HealthCustomizations()
        self.timeout = timeout
        self.max_memory = max_memory
        self._workers = workers
        self._pool: ThreadPoolExecutor | None = None

    def configure(self, customizations: HealthCustomizations) -> bool:
        """Use new customizations; True when they differ from the current ones (health must be recomputed)."""
        changed = customizations != self.customizations
        self.customizations = customizations
        return changed

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    async def health(self, obj: Obj | None) -> Health | None:
        """The object's health: Missing when absent, a user script's verdict when one applies, else built-in."""
        if obj is None:
            return resource_health(None)
        script = self.customizations.script_for(group_of(obj), str(obj.get("kind") or ""))
        if script is None:
            return resource_health(obj)
        return await self._scripted(script, obj)

    async def _scripted(self, script: HealthScript, obj: Obj) -> Health | None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="lua-health")
        loop = asyncio.get_running_loop()
        call = loop.run_in_executor(self._pool, lambda: run_health_script(
            script.script, obj, use_open_libs=script.use_open_libs, timeout=self.timeout,
            max_memory=self.max_memory))
        try:
            outcome = await asyncio.wait_for(call, self.timeout + _GRACE)
        except TimeoutError:
            return self._failed(script, f"did not finish within {self.timeout:g}s")
        except LuaHealthError as exc:
            return self._failed(script, str(exc))
        if outcome.returned_nil:
            # A script that returns nil has no opinion: gitops-engine's Go check decides (not Argo CD's Lua one).
            health, failed = checked_health(obj, skip_lua=True)
            return health if failed else pending_deletion(obj, health) or health
        return pending_deletion(obj, outcome.health, outcome.deletion_message) or outcome.health

    @staticmethod
    def _failed(script: HealthScript, reason: str) -> Health:
        return Health(HealthStatusCode.UNKNOWN,
                      f"health check {script.key!r} from argocd-cm failed: {reason}")
