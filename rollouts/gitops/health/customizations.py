"""User health checks from Argo CD's ``argocd-cm`` ConfigMap: which Lua script applies to which kind.

Why this module exists: Argo CD users already keep their health checks in ``argocd-cm``, in either form:

- split keys: ``resource.customizations.health.<group>_<kind>`` (``cert-manager.io_Certificate``; a core kind
  is just ``<kind>``; ``all`` means every kind) with ``resource.customizations.useOpenLibs.<group>_<kind>:
  "true"`` to give that script ``string`` and ``math``;
- the older YAML key ``resource.customizations``: ``{"<group>/<kind>": {"health.lua": ...,
  "health.lua.useOpenLibs": true}}``.

The key may be a glob (``"*.example.com/*"``, ``*`` matching any text); an exact group/kind wins, then the
first matching glob in sorted order (Argo CD's order is that of a Go map, i.e. unspecified). A value that
cannot be read (YAML that does not parse, a useOpenLibs that is not a boolean) is reported by name and the
rest still applies. Other customization types (actions, ignoreDifferences, ...) are not health's business
and are skipped here. Pure: data in, data out.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

PREFIX = "resource.customizations"
SETTINGS_CONFIGMAP = "argocd-cm"
_TRUE = {"1", "t", "true"}
_FALSE = {"0", "f", "false"}


@dataclass(frozen=True, slots=True)
class HealthScript:
    key: str
    """The group/kind key it was configured under (``cert-manager.io/Certificate``, ``Pod``, ``*/*``)."""
    script: str
    use_open_libs: bool = False


@dataclass(frozen=True)
class HealthCustomizations:
    scripts: Mapping[str, HealthScript] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    def script_for(self, group: str, kind: str) -> HealthScript | None:
        """The user's script for this kind: the exact key first, then globs in sorted order."""
        key = f"{group}/{kind}" if group else kind
        exact = self.scripts.get(key)
        if exact is not None:
            return exact
        for pattern in sorted(self.scripts):
            if any(c in pattern for c in "*?[") and fnmatch.fnmatchcase(key, pattern):
                return self.scripts[pattern]
        return None


def _override_key(group_kind: str) -> str | None:
    """Argo CD's ``convertToOverrideKey``: ``a.b_Kind`` -> ``a.b/Kind``, ``Kind`` -> ``Kind``; else invalid."""
    parts = group_kind.split("_")
    if len(parts) == 2:
        return f"{parts[0]}/{parts[1]}"
    if len(parts) == 1 and group_kind:
        return "*/*" if group_kind == "all" else group_kind
    return None


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    return True if text in _TRUE else False if text in _FALSE else None


def parse_customizations(data: Mapping[str, str] | None) -> HealthCustomizations:
    """The health scripts of an ``argocd-cm`` ``data`` map."""
    data = data or {}
    scripts: dict[str, tuple[str, bool]] = {}
    problems: list[str] = []
    blob = data.get(PREFIX)
    if blob:
        try:
            parsed = yaml.safe_load(blob)
        except yaml.YAMLError as exc:
            parsed = None
            problems.append(f"{PREFIX}: not valid YAML ({str(exc).splitlines()[0]})")
        if isinstance(parsed, Mapping):
            for key, override in parsed.items():
                if isinstance(override, Mapping) and override.get("health.lua"):
                    open_libs = _bool(override.get("health.lua.useOpenLibs", False))
                    scripts[str(key)] = (str(override["health.lua"]), bool(open_libs))
        elif parsed is not None:
            problems.append(f"{PREFIX}: expected a map of group/kind to overrides")
    open_libs_by_key: dict[str, bool] = {}
    for name, value in sorted(data.items()):
        parts = name.split(".", 3)
        if not name.startswith(PREFIX + ".") or len(parts) < 4 or parts[2] not in ("health", "useOpenLibs"):
            continue
        key = _override_key(parts[3])
        if key is None:
            problems.append(f"{name}: the key must end in <group>_<kind> or <kind>")
            continue
        if parts[2] == "health":
            previous = scripts.get(key, ("", False))
            scripts[key] = (value, previous[1])
        else:
            flag = _bool(value)
            if flag is None:
                problems.append(f"{name}: {value!r} is not a boolean")
                continue
            open_libs_by_key[key] = flag
    result = {}
    for key, (script, open_libs) in scripts.items():
        if script.strip():
            result[key] = HealthScript(key, script, open_libs_by_key.get(key, open_libs))
    return HealthCustomizations(result, tuple(problems))
