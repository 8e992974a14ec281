"""Where a plugin command points: kubeconfig, context and namespace, resolved like kubectl does.

kubectl passes no flags to plugins, only the environment, so the plugin repeats kubectl's rules:
`--kubeconfig`, else the first file in `$KUBECONFIG` that names the context, else `~/.kube/config`;
the namespace is `-n`, else the context's namespace, else "default".
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rollouts.kube.client import KubeClient


@dataclass(frozen=True)
class Target:
    kubeconfig: str | None
    context: str | None
    namespace: str


def kubeconfig_files(explicit: str | None, environ: Mapping[str, str]) -> list[Path]:
    if explicit:
        return [Path(explicit).expanduser()]
    env = environ.get("KUBECONFIG")
    if env:
        return [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    return [Path("~/.kube/config").expanduser()]


def namespace_from_config(configs: list[Mapping[str, Any]], context: str | None) -> str | None:
    """The namespace of `context` (or of the first `current-context` found) in merged kubeconfigs."""
    current = context
    if current is None:
        for cfg in configs:
            value = cfg.get("current-context")
            if value:
                current = str(value)
                break
    if not current:
        return None
    for cfg in configs:
        for entry in cfg.get("contexts") or []:
            if isinstance(entry, Mapping) and entry.get("name") == current:
                ns = (entry.get("context") or {}).get("namespace")
                return str(ns) if ns else None
    return None


def _load(path: Path) -> Mapping[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, Mapping) else {}


def resolve(
    *, kubeconfig: str | None, context: str | None, namespace: str | None, environ: Mapping[str, str]
) -> Target:
    if namespace:
        return Target(kubeconfig, context, namespace)
    configs = [_load(p) for p in kubeconfig_files(kubeconfig, environ) if p.is_file()]
    return Target(kubeconfig, context, namespace_from_config(configs, context) or "default")


def kubeconfig_to_use(target: Target, environ: Mapping[str, str]) -> str | None:
    """The kubeconfig file to load (the first existing one of $KUBECONFIG when it is a list), or None
    inside a cluster; a clear CliError when there is none."""
    from rollouts.cli.errors import CliError

    if target.kubeconfig is not None:
        if not Path(target.kubeconfig).expanduser().is_file():
            raise CliError(f"cannot load Kubernetes configuration: kubeconfig file '{target.kubeconfig}' "
                           "does not exist")
        return target.kubeconfig
    candidates = kubeconfig_files(None, environ)
    files = [p for p in candidates if p.is_file()]
    if files:
        return str(files[0])
    if environ.get("KUBERNETES_SERVICE_HOST"):
        return None
    checked = ", ".join(str(p) for p in candidates)
    raise CliError(f"cannot load Kubernetes configuration: no kubeconfig file found (checked {checked}; "
                   "use --kubeconfig or KUBECONFIG) and not running inside a cluster")


async def connect(target: Target) -> KubeClient:
    from rollouts.kube.client import KubeClient

    return await KubeClient.connect(kubeconfig_to_use(target, os.environ), target.context,
                                    field_manager="kubectl-rollouts")
