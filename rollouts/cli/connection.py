"""Where a plugin command points and as whom: kubeconfig, context, cluster, user, namespace, resolved like kubectl.

kubectl passes no flags to plugins, only the environment, so the plugin repeats kubectl's rules (client-go's
clientcmd), which is also what Argo's plugin does through genericclioptions:

- the kubeconfig is `--kubeconfig`, else every file of `$KUBECONFIG` merged (the first file that sets a
  name or the current context wins; relative paths are relative to the file that holds them), else
  `~/.kube/config`, else the in-cluster service account;
- `--context` picks the context; `--cluster` and `--user` replace its cluster and user; `--server`,
  `--certificate-authority`, `--insecure-skip-tls-verify` and `--tls-server-name` edit that cluster (a CA
  or insecure flag replaces whatever CA settings the file had); `--token`, `--username`/`--password`,
  `--client-certificate`/`--client-key` edit that user; `--as`, `--as-group`, `--as-uid` impersonate;
- the namespace is `-n`, else the context's, else the pod's (in a cluster), else "default".

The result is a frozen `Target`; `connect` turns it into a client. Nothing here talks to the network.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rollouts.cli.errors import CliError

if TYPE_CHECKING:
    from rollouts.kube.client import KubeClient

SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
_OVERRIDE_CONTEXT = "kubectl-rollouts-flags"


@dataclass(frozen=True)
class ConnectionFlags:
    """kubectl's generic flags as given on the command line (None: not given)."""

    kubeconfig: str | None = None
    context: str | None = None
    cluster: str | None = None
    user: str | None = None
    namespace: str | None = None
    server: str | None = None
    token: str | None = None
    username: str | None = None
    password: str | None = None
    client_certificate: str | None = None
    client_key: str | None = None
    certificate_authority: str | None = None
    insecure_skip_tls_verify: bool = False
    tls_server_name: str | None = None
    as_user: str | None = None
    as_groups: tuple[str, ...] = ()
    as_uid: str | None = None
    request_timeout: float | None = None  # seconds; 0: no limit; None (not given): 60 s


@dataclass(frozen=True)
class Target:
    """A resolved connection: the kubeconfig (None: in-cluster), the context in it, the namespace."""

    namespace: str
    config: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)
    context: str | None = None
    impersonate_user: str | None = None
    impersonate_groups: tuple[str, ...] = ()
    impersonate_uid: str | None = None
    request_timeout: float | None = None
    unavailable: str | None = None  # why there is nothing to connect to (said when a command connects)


def kubeconfig_files(explicit: str | None, environ: Mapping[str, str]) -> list[Path]:
    if explicit:
        return [Path(explicit).expanduser()]
    env = environ.get("KUBECONFIG")
    if env:
        return [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    return [Path("~/.kube/config").expanduser()]


_PATH_FIELDS = {
    "clusters": ("certificate-authority",),
    "users": ("client-certificate", "client-key", "tokenFile"),
}


def load_kubeconfig(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise CliError(f"cannot read kubeconfig {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise CliError(f"kubeconfig {path} is not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise CliError(f"kubeconfig {path} is not a kubeconfig (expected a mapping)")
    base = path.parent
    for section, keys in _PATH_FIELDS.items():
        for entry in data.get(section) or []:
            inner = entry.get(section[:-1]) if isinstance(entry, dict) else None
            if not isinstance(inner, dict):
                continue
            for key in keys:
                value = inner.get(key)
                if isinstance(value, str) and value and not os.path.isabs(value):
                    inner[key] = str(base / value)
    return data


def merge_kubeconfigs(configs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """kubectl's merge of several kubeconfig files: the first file that names a cluster, user or context
    (or sets current-context) wins."""
    merged: dict[str, Any] = {"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [], "contexts": []}
    for cfg in configs:
        if not merged.get("current-context") and cfg.get("current-context"):
            merged["current-context"] = cfg["current-context"]
        for section in ("clusters", "users", "contexts"):
            names = {e.get("name") for e in merged[section]}
            for entry in cfg.get(section) or []:
                if isinstance(entry, Mapping) and entry.get("name") not in names:
                    merged[section].append(copy.deepcopy(dict(entry)))
                    names.add(entry.get("name"))
    return merged


def _entry(config: Mapping[str, Any], section: str, name: str | None) -> dict[str, Any] | None:
    for entry in config.get(section) or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            inner = entry.setdefault(section[:-1], {})
            return inner if isinstance(inner, dict) else None
    return None


def namespace_from_config(configs: Sequence[Mapping[str, Any]], context: str | None) -> str | None:
    """The namespace of `context` (or of the current context) in merged kubeconfigs."""
    merged = merge_kubeconfigs(configs)
    ctx = _entry(merged, "contexts", context or merged.get("current-context"))
    ns = ctx.get("namespace") if ctx else None
    return str(ns) if ns else None


def _apply_flags(config: dict[str, Any], flags: ConnectionFlags) -> str:
    """Edit the merged kubeconfig as clientcmd applies overrides; returns the context to use.

    The edited cluster and user go in under names of their own, so the file's entries stay as they were."""
    context_name = flags.context or config.get("current-context") or ""
    base = _chosen_context(config, flags, context_name)
    cluster = _entry(config, "clusters", base.get("cluster"))
    if cluster is None:
        where = f"context {context_name!r}" if context_name else "the kubeconfig (no current-context is set)"
        raise CliError(f"invalid configuration: {where} names no cluster that the kubeconfig defines")
    user = _entry(config, "users", base.get("user")) or {}
    config["clusters"] = [c for c in config["clusters"] if c.get("name") != _OVERRIDE_CONTEXT]
    config["clusters"].append({"name": _OVERRIDE_CONTEXT, "cluster": _edited_cluster(cluster, flags)})
    config["users"] = [*(config.get("users") or []), {"name": _OVERRIDE_CONTEXT, "user": _edited_user(user, flags)}]
    config["contexts"] = [*(config.get("contexts") or []), {"name": _OVERRIDE_CONTEXT, "context": {
        **base, "cluster": _OVERRIDE_CONTEXT, "user": _OVERRIDE_CONTEXT}}]
    config["current-context"] = _OVERRIDE_CONTEXT
    return _OVERRIDE_CONTEXT


def _chosen_context(config: dict[str, Any], flags: ConnectionFlags, context_name: str) -> dict[str, Any]:
    """The context `--context` (or the current one) names, with `--cluster` / `--user` put in; `--server` on a
    context that names no known cluster gives it an empty one to edit."""
    if flags.context and _entry(config, "contexts", flags.context) is None:
        raise CliError(f'context "{flags.context}" does not exist')
    base = dict(_entry(config, "contexts", context_name) or {})
    if flags.cluster:
        if _entry(config, "clusters", flags.cluster) is None:
            raise CliError(f'cluster "{flags.cluster}" does not exist')
        base["cluster"] = flags.cluster
    if flags.user:
        if _entry(config, "users", flags.user) is None:
            raise CliError(f'auth info "{flags.user}" does not exist')
        base["user"] = flags.user
    if flags.server and _entry(config, "clusters", base.get("cluster")) is None:
        config["clusters"].append({"name": _OVERRIDE_CONTEXT, "cluster": {}})
        base["cluster"] = _OVERRIDE_CONTEXT
    return base


def _edited_cluster(entry: Mapping[str, Any], flags: ConnectionFlags) -> dict[str, Any]:
    """`--server`, `--certificate-authority`, `--insecure-skip-tls-verify`, `--tls-server-name` on a copy of the
    cluster: a CA or insecure flag replaces every CA setting; a new server drops the file's tls-server-name."""
    cluster = copy.deepcopy(dict(entry))
    if flags.server:
        cluster["server"] = flags.server
    if flags.insecure_skip_tls_verify or flags.certificate_authority:
        cluster.pop("certificate-authority-data", None)
        cluster.pop("certificate-authority", None)
        cluster["insecure-skip-tls-verify"] = flags.insecure_skip_tls_verify
        if flags.certificate_authority:
            cluster["certificate-authority"] = str(Path(flags.certificate_authority).expanduser().resolve())
    if flags.tls_server_name:
        cluster["tls-server-name"] = flags.tls_server_name
    elif flags.server:
        cluster.pop("tls-server-name", None)
    return cluster


def _edited_user(entry: Mapping[str, Any], flags: ConnectionFlags) -> dict[str, Any]:
    """`--token`, `--username`/`--password`, `--client-certificate`/`--client-key` on a copy of the user (a file
    flag replaces the inline data)."""
    user = copy.deepcopy(dict(entry))
    for key, value in (("token", flags.token), ("username", flags.username), ("password", flags.password)):
        if value:
            user[key] = value
    for key, path in (("client-certificate", flags.client_certificate), ("client-key", flags.client_key)):
        if path:
            user.pop(f"{key}-data", None)
            user[key] = str(Path(path).expanduser().resolve())
    return user


def _in_cluster_namespace(environ: Mapping[str, str]) -> str | None:
    if environ.get("POD_NAMESPACE"):
        return environ["POD_NAMESPACE"]
    try:
        return SERVICE_ACCOUNT_NAMESPACE.read_text().strip() or None
    except OSError:
        return None


def resolve(flags: ConnectionFlags, environ: Mapping[str, str]) -> Target:
    """The Target the flags and environment point at; raises CliError naming a file, context, cluster or user
    that is missing or wrong. Without any configuration at all, the Target says so when a command connects
    (commands that need no cluster, like `notifications template get --config-map FILE`, still run)."""
    files = kubeconfig_files(flags.kubeconfig, environ)
    if flags.kubeconfig and not files[0].is_file():
        raise CliError(f"cannot load Kubernetes configuration: kubeconfig file '{flags.kubeconfig}' does not exist")
    configs = [load_kubeconfig(p) for p in files if p.is_file()]
    timeout = 60.0 if flags.request_timeout is None else (flags.request_timeout or None)
    impersonation = {"impersonate_user": flags.as_user, "impersonate_groups": flags.as_groups,
                     "impersonate_uid": flags.as_uid, "request_timeout": timeout}
    if not configs and not flags.server:
        if environ.get("KUBERNETES_SERVICE_HOST"):
            namespace = flags.namespace or _in_cluster_namespace(environ) or "default"
            return Target(namespace=namespace, config=None, **impersonation)  # type: ignore[arg-type]
        checked = ", ".join(str(p) for p in files)
        return Target(namespace=flags.namespace or "default", config=None, unavailable=(
            f"cannot load Kubernetes configuration: no kubeconfig file found (checked {checked}; use "
            "--kubeconfig or KUBECONFIG, or --server) and not running inside a cluster"),
            **impersonation)  # type: ignore[arg-type]
    merged = merge_kubeconfigs(configs)
    namespace = flags.namespace or namespace_from_config(configs, flags.context) or "default"
    context = _apply_flags(merged, flags)
    return Target(namespace=namespace, config=merged, context=context, **impersonation)  # type: ignore[arg-type]


async def connect(target: Target) -> KubeClient:
    from rollouts.kube.client import Impersonation, KubeClient

    if target.unavailable:
        raise CliError(target.unavailable)
    impersonation = None
    if target.impersonate_user or target.impersonate_groups or target.impersonate_uid:
        impersonation = Impersonation(target.impersonate_user, target.impersonate_groups, target.impersonate_uid)
    return await KubeClient.from_config(target.config, target.context, field_manager="kubectl-rollouts",
                                        impersonation=impersonation, request_timeout=target.request_timeout)
