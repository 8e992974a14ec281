"""User-defined Lua health checks (argocd-cm ``resource.customizations.health.<group_kind>``), sandboxed.

Why this module exists: Argo CD lets users write a health check for any kind as a Lua script that reads the
global ``obj`` and returns ``{status = "...", message = "..."}``. We run such scripts with lupa's Lua 5.1 (the
language of Argo CD's gopher-lua) in a sandbox a hostile or broken script cannot leave:

- the script sees only ``obj``, Lua's base functions without any that load code or files or reach the real
  globals (no ``dofile``/``loadfile``/``load``/``loadstring``/``getfenv``/``setfenv``/``collectgarbage``, no
  ``python`` bridge), ``table``, and Argo CD's safe ``os`` (``os.time``, ``os.date`` only; ``require("os")``
  returns the same, and ``require`` knows no other module); ``string`` and ``math`` only with
  ``resource.customizations.useOpenLibs.<group_kind>: "true"``, as in Argo CD. No ``io``, ``debug``,
  ``coroutine`` or real ``os``, ever;
- a deadline (1 s of wall time per script, Argo CD's figure): an instruction hook checks it and, once it has
  passed, raises on every instruction, so ``pcall`` cannot swallow it; a memory limit (64 MiB per runtime,
  lupa's allocator) stops huge allocations;
- any failure (syntax error, runtime error, timeout, memory, a result that is not a table) is a
  ``LuaHealthError`` whose message names the customization key and the cause; the caller reports the
  resource Unknown with it, like Argo CD.

Results follow Argo CD's decoding of the returned table: ``nil`` means "no opinion" (built-in rules apply);
an empty or array-like table, or a field of the wrong type, gives an empty health (``None``); a status that
is not a health code is Unknown "Lua returned an invalid health status"; ``deletionMessage`` replaces the
"Pending deletion" message while the object is being deleted.

The hook runs between Lua instructions, so a single long call into C (a pathological ``string.find``
pattern on a long subject, with useOpenLibs) overruns the deadline until it returns: the caller
(``rollouts/gitops/custom_health.py``) runs this in a worker process that is killed in that case.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rollouts.api.application import HealthStatusCode
from rollouts.gitops.health.model import Health, code_of

DEFAULT_TIMEOUT = 1.0
DEFAULT_MAX_MEMORY = 64 * 1024 * 1024
INVALID_STATUS = "Lua returned an invalid health status"
_TIMEOUT_MARK = "__rollouts_health_timeout__"

_BASE = ("assert", "error", "ipairs", "next", "pairs", "pcall", "print", "rawequal", "rawget", "rawset",
         "select", "setmetatable", "tonumber", "tostring", "type", "unpack", "xpcall", "_VERSION")
_OPEN_LIBS = ("string", "math")

# Runs inside the runtime: builds the sandbox environment and calls the script under the deadline hook.
_RUNNER = """
local sethook, setfenv, pairs, pcall, error = debug.sethook, setfenv, pairs, pcall, error
local base, libs, os_time, os_date = ...
local function copy(t) local c = {} for k, v in pairs(t) do c[k] = v end return c end
return function(fn, obj, open_libs, expired)
  local env = {}
  for _, name in ipairs(base) do env[name] = _G[name] end
  env.table = copy(table)
  local safe_os = {time = os_time, date = os_date}
  env.os = safe_os
  env.require = function(name)
    if name == "os" then return safe_os end
    error("module '" .. tostring(name) .. "' not found: only \\"os\\" (time, date) is available", 2)
  end
  if open_libs then for _, name in ipairs(libs) do env[name] = copy(_G[name]) end end
  env._G = env
  env.obj = obj
  setfenv(fn, env)
  local function stop() error("%(mark)s", 0) end
  sethook(function()
    if expired() then sethook(stop, "", 1) stop() end
  end, "", 1000)
  local results = {pcall(fn)}
  sethook()
  return unpack(results)
end
""".replace("%(mark)s", _TIMEOUT_MARK)


class LuaHealthError(Exception):
    """A health script failed; the message names the customization and the cause."""


@dataclass(frozen=True, slots=True)
class LuaOutcome:
    """What a script decided: ``returned_nil`` (built-in rules apply), or a health (None: an empty health)."""

    health: Health | None
    deletion_message: str = ""
    returned_nil: bool = False


class _Runtime:
    """One Lua state per thread (lupa states are not thread-safe), replaced after any failure."""

    def __init__(self, max_memory: int) -> None:
        import lupa.lua51 as lupa  # Lua 5.1, as Argo CD's gopher-lua

        self.lupa = lupa
        self.lua = lupa.LuaRuntime(register_eval=False, register_builtins=False, max_memory=max_memory)
        g = self.lua.globals()
        base = self.lua.table_from(list(_BASE))
        libs = self.lua.table_from(list(_OPEN_LIBS))
        self.runner = self.lua.execute(_RUNNER, base, libs, g.os.time, g.os.date)
        self.loadstring = g.loadstring
        self.compiled: dict[str, Any] = {}

    def compile(self, script: str) -> Any:
        fn = self.compiled.get(script)
        if fn is None:
            loaded = self.loadstring(script, "=health.lua")
            fn, error = loaded if isinstance(loaded, tuple) else (loaded, None)
            if fn is None:
                raise LuaHealthError(f"syntax error: {error}")
            if len(self.compiled) > 256:
                self.compiled.clear()
            self.compiled[script] = fn
        return fn


_local = threading.local()


def _runtime(max_memory: int) -> _Runtime:
    runtime: _Runtime | None = getattr(_local, "runtime", None)
    if runtime is None or getattr(_local, "max_memory", None) != max_memory:
        runtime = _Runtime(max_memory)
        _local.runtime, _local.max_memory = runtime, max_memory
    return runtime


def _to_lua(runtime: _Runtime, value: Any) -> Any:
    if isinstance(value, Mapping):
        return runtime.lua.table_from({k: _to_lua(runtime, v) for k, v in value.items() if v is not None})
    if isinstance(value, list | tuple):
        # JSON null inside a list stays a hole, as in gopher-lua's decoding.
        table = runtime.lua.table()
        for i, item in enumerate(value, start=1):
            if item is not None:
                table[i] = _to_lua(runtime, item)
        return table
    return value


def _decode(runtime: _Runtime, result: Any) -> LuaOutcome:
    """Argo CD's decoding: the table goes through JSON into its HealthStatus struct."""
    if result is None:
        return LuaOutcome(None, returned_nil=True)
    kind = runtime.lupa.lua_type(result)
    if kind != "table":
        names = {bool: "boolean", str: "string", bytes: "string", int: "number", float: "number"}
        raise LuaHealthError(f"expect table output from Lua script, not {kind or names.get(type(result), 'userdata')}")
    keys = list(result.keys())
    if not keys or 1 in keys:
        return LuaOutcome(None)  # encodes as a JSON array: an empty health in Argo CD
    fields = {k: result[k] for k in ("status", "message", "deletionMessage")}
    if any(v is not None and not isinstance(v, str) for v in fields.values()):
        return LuaOutcome(None)  # a JSON type error: an empty health in Argo CD
    code = code_of(fields["status"])
    if code is None:
        return LuaOutcome(Health(HealthStatusCode.UNKNOWN, INVALID_STATUS))
    return LuaOutcome(Health(code, fields["message"] or ""), fields["deletionMessage"] or "")


def run_health_script(script: str, obj: Mapping[str, Any], *, use_open_libs: bool = False,
                      timeout: float = DEFAULT_TIMEOUT, max_memory: int = DEFAULT_MAX_MEMORY) -> LuaOutcome:
    """Run one health script on one object in this thread (call it off the event loop)."""
    runtime = _runtime(max_memory)
    deadline = time.monotonic() + timeout
    timed_out = False

    def expired() -> bool:
        nonlocal timed_out
        timed_out = timed_out or time.monotonic() > deadline
        return timed_out

    try:
        fn = runtime.compile(script)
        returned = runtime.runner(fn, _to_lua(runtime, obj), use_open_libs, expired)
        ok, *results = returned if isinstance(returned, tuple) else (returned,)
    except LuaHealthError:
        raise
    except runtime.lupa.LuaMemoryError:
        _local.runtime = None
        raise LuaHealthError(f"exceeded the memory limit of {max_memory // (1024 * 1024)} MiB") from None
    except runtime.lupa.LuaError as exc:
        _local.runtime = None
        if timed_out or _TIMEOUT_MARK in str(exc):
            raise LuaHealthError(f"did not finish within {timeout:g}s") from None
        raise LuaHealthError(str(exc)) from None
    if not ok:
        error = results[0] if results else None
        _local.runtime = None
        if timed_out or error == _TIMEOUT_MARK:
            raise LuaHealthError(f"did not finish within {timeout:g}s")
        if isinstance(error, str) and "not enough memory" in error:
            raise LuaHealthError(f"exceeded the memory limit of {max_memory // (1024 * 1024)} MiB")
        raise LuaHealthError(str(error))
    return _decode(runtime, results[0] if results else None)
