"""`kubectl rollouts cluster add|list|get|rm`: destination clusters with ``argocd cluster``'s verbs and flags.

Why this module exists: ``argocd cluster add CONTEXT`` is how a platform team hands Argo CD a cluster. Here the
same line does what Argo CD's CLI and API server do together (``cmd/argocd/commands/cluster.go``,
``util/clusterauth``): on the cluster of kubeconfig context CONTEXT it creates the ServiceAccount
``argocd-manager`` in ``--system-namespace`` (kube-system), the ClusterRole ``argocd-manager-role`` (every
verb on everything) bound by ``argocd-manager-role-binding`` - or, with ``--namespace`` (repeatable), a Role
and RoleBinding of those names in each namespace only - and the long-lived token Secret
``argocd-manager-long-lived-token``; waits for the token; checks that the cluster answers with it; and writes
Argo CD's declarative cluster Secret (``cluster-<host>-<hash>``) in the applications namespace of the
current context (``-n``). ``--service-account`` uses an existing account's token instead, ``--exec-command``
an exec credential plugin and no ServiceAccount at all, ``--in-cluster`` registers the cluster under
``https://kubernetes.default.svc``.

Note the two namespace flags: ``--namespace`` is argocd's (namespaces the cluster is restricted to), ``-n`` is
ours as in every other command (where the Argo CD objects live). Credentials never appear in output.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from rollouts.cli.argocd_group import Handler, run_group, run_with_client, subcommand, table
from rollouts.cli.errors import CliError

MANAGER = "argocd-manager"
MANAGER_ROLE = "argocd-manager-role"
MANAGER_BINDING = "argocd-manager-role-binding"
TOKEN_SUFFIX = "-long-lived-token"
TOKEN_TIMEOUT = 30.0
IN_CLUSTER = "https://kubernetes.default.svc"
EXAMPLES = """\
  kubectl rollouts cluster add staging -n rollouts          # context 'staging' of your kubeconfig
  kubectl rollouts cluster add staging --namespace shop --namespace web -y   # managed only in two namespaces
  kubectl rollouts cluster list -n rollouts
  kubectl rollouts cluster get staging -o wide
  kubectl rollouts cluster rm staging -y
"""


def _pairs(values: Sequence[str] | None, flag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values or ():
        for part in item.split(","):
            key, sep, value = part.partition("=")
            if not sep or not key:
                raise CliError(f"invalid argument {item!r} for {flag}: expected key=value", exit_code=2)
            out[key] = value
    return out


def _add_parser(sub: Any) -> argparse.ArgumentParser:
    add: argparse.ArgumentParser = sub.add_parser("add", help="Add a cluster (from a kubeconfig context)",
                                                  description="Add the cluster of kubeconfig context CONTEXT.")
    add.add_argument("context_name", metavar="CONTEXT")
    add.add_argument("-n", dest="namespace", default=argparse.SUPPRESS,
                     help="namespace of Argo CD's objects, where the cluster Secret goes (default: the context's)")
    add.add_argument("--kubeconfig", default=argparse.SUPPRESS, help="path to the kubeconfig file")
    add.add_argument("--context", default=argparse.SUPPRESS,
                     help="context of the cluster that holds Argo CD's objects (default: the current context)")
    add.add_argument("--no-color", action="store_true", default=argparse.SUPPRESS, help="plain output")
    add.add_argument("--namespace", dest="managed_namespaces", action="append", default=[], metavar="NAMESPACE",
                     help="list of namespaces which are allowed to manage")
    add.add_argument("--cluster-resources", action="store_true",
                     help="manage cluster level resources too (only with --namespace)")
    add.add_argument("--name", default="", help="overwrite the cluster name")
    add.add_argument("--project", default="", help="project of the cluster")
    add.add_argument("--in-cluster", action="store_true",
                     help="Argo CD resides inside this cluster: connect through kubernetes.default.svc")
    add.add_argument("--cluster-endpoint", choices=["kubeconfig", "kube-public", "internal"], default="",
                     help="cluster endpoint to use")
    add.add_argument("--service-account", default="", help="existing system namespace ServiceAccount to use")
    add.add_argument("--system-namespace", default="kube-system", help="use a different system namespace")
    add.add_argument("--upsert", action="store_true", help="override an existing cluster even if the spec differs")
    add.add_argument("-y", "--yes", action="store_true", help="skip explicit confirmation")
    add.add_argument("--label", action="append", default=[], help="set metadata labels (e.g. --label key=value)")
    add.add_argument("--annotation", action="append", default=[], help="set metadata annotations")
    add.add_argument("--shard", type=int, default=-1, help="cluster shard number (stored; one controller here)")
    add.add_argument("--exec-command", default="", help="command that provides client credentials to the cluster")
    add.add_argument("--exec-command-args", action="append", default=[], help="arguments to --exec-command")
    add.add_argument("--exec-command-env", action="append", default=[], help="key=value environment of the command")
    add.add_argument("--exec-command-api-version", default="", help="preferred ExecCredential input version")
    add.add_argument("--exec-command-install-hint", default="", help="shown when the command is missing")
    add.add_argument("--proxy-url", default="", help="use a proxy to connect to the cluster")
    add.add_argument("--disable-compression", action="store_true", help="accepted and stored (no effect here)")
    for flag in ("--aws-cluster-name", "--aws-role-arn", "--aws-profile"):
        add.add_argument(flag, default="", help="not supported (argocd-k8s-auth): use --exec-command")
    return add


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``cluster`` command group."""
    cluster: argparse.ArgumentParser = subparsers.add_parser(
        "cluster", help="Manage destination clusters (Argo CD's cluster Secrets)",
        description="Manage cluster credentials, as Argo CD's declarative cluster Secrets.",
        epilog=f"Examples:\n{EXAMPLES}", formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = cluster.add_subparsers(dest="cluster_command", metavar="COMMAND", required=True)
    _add_parser(sub)
    lst = subcommand(sub, "list", "List configured clusters")
    lst.add_argument("-o", "--output", choices=["wide", "json", "yaml", "server"], default="wide")
    get = subcommand(sub, "get", "Get cluster information")
    get.add_argument("selectors", metavar="SERVER/NAME", nargs="+")
    get.add_argument("-o", "--output", choices=["wide", "json", "yaml", "server"], default="yaml")
    rm = subcommand(sub, "rm", "Remove cluster credentials")
    rm.add_argument("selectors", metavar="SERVER/NAME", nargs="+")
    rm.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    return cluster


def run(args: argparse.Namespace) -> int:
    return run_group(args, HANDLERS, args.cluster_command)


async def main(argv: Sequence[str], *, client: Any) -> int:
    """Run a ``cluster`` command with an existing client for Argo CD's objects (tests, embedding)."""
    root = argparse.ArgumentParser(prog="kubectl rollouts")
    add_parser(root.add_subparsers(dest="command"))
    args = root.parse_args(["cluster", *argv])
    return await run_with_client(args, HANDLERS, args.cluster_command, client)


# -- the target cluster ------------------------------------------------------------------------------------------


def _read_file_or_data(entry: Mapping[str, Any], data_key: str, file_key: str) -> str:
    """The base64 PEM of a kubeconfig field given inline (``*-data``) or as a file."""
    if entry.get(data_key):
        return str(entry[data_key])
    path = entry.get(file_key)
    if not path:
        return ""
    try:
        return base64.b64encode(Path(str(path)).expanduser().read_bytes()).decode()
    except OSError as exc:
        raise CliError(f"cannot read {file_key} {path}: {exc.strerror}") from None


def _context_entries(config: Mapping[str, Any], context: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(cluster, user) of a context in a (merged, flag-edited) kubeconfig."""
    def named(section: str, name: str | None) -> dict[str, Any]:
        for entry in config.get(section) or ():
            if isinstance(entry, dict) and entry.get("name") == name:
                return dict(entry.get(section[:-1]) or {})
        return {}
    ctx = named("contexts", context)
    return named("clusters", ctx.get("cluster")), named("users", ctx.get("user"))


async def _target(args: argparse.Namespace) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """A client on the CONTEXT's cluster, with that context's cluster and user kubeconfig entries."""
    from rollouts.cli.connection import ConnectionFlags, connect, resolve

    target = resolve(ConnectionFlags(kubeconfig=getattr(args, "kubeconfig", None), context=args.context_name),
                     os.environ)
    if target.config is None or target.context is None:
        raise CliError(f"context {args.context_name} does not exist in kubeconfig")
    cluster, user = _context_entries(target.config, target.context)
    return await connect(target), cluster, user


async def _ensure(client: Any, kind: Any, body: dict[str, Any], what: str, *, replace: bool = True) -> None:
    """Create, or (``replace``) update in place: util/clusterauth's upsert, with its log lines."""
    from rollouts.kube.errors import AlreadyExists

    namespace = body["metadata"].get("namespace")
    try:
        await client.create(kind, body, namespace)
    except AlreadyExists:
        if replace:
            await client.replace(kind, body)
            _info(f"{what} updated")
        else:
            _info(f"{what} already exists")
        return
    _info(f"{what} created")


def _info(message: str) -> None:
    print(f"INFO {message}", file=sys.stderr, flush=True)


def _rbac_bodies(system_ns: str, namespaces: Sequence[str]) -> list[tuple[str, str, dict[str, Any], str]]:
    """(apiVersion, kind, body, what) of the manager's role and binding: cluster-wide, or per namespace."""
    subject = [{"kind": "ServiceAccount", "name": MANAGER, "namespace": system_ns}]
    rbac = "rbac.authorization.k8s.io/v1"
    everything = {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}
    if not namespaces:
        return [
            (rbac, "ClusterRole", {"apiVersion": rbac, "kind": "ClusterRole", "metadata": {"name": MANAGER_ROLE},
                                   "rules": [everything, {"nonResourceURLs": ["*"], "verbs": ["*"]}]},
             f'ClusterRole "{MANAGER_ROLE}"'),
            (rbac, "ClusterRoleBinding", {"apiVersion": rbac, "kind": "ClusterRoleBinding",
                                          "metadata": {"name": MANAGER_BINDING}, "subjects": subject,
                                          "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                                      "name": MANAGER_ROLE}},
             f'ClusterRoleBinding "{MANAGER_BINDING}"')]
    out = []
    for ns in namespaces:
        out += [(rbac, "Role", {"apiVersion": rbac, "kind": "Role", "metadata": {"name": MANAGER_ROLE, "namespace": ns},
                                "rules": [everything]}, f'Role "{ns}/{MANAGER_ROLE}"'),
                (rbac, "RoleBinding", {"apiVersion": rbac, "kind": "RoleBinding",
                                       "metadata": {"name": MANAGER_BINDING, "namespace": ns}, "subjects": subject,
                                       "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                                   "name": MANAGER_ROLE}},
                 f'RoleBinding "{ns}/{MANAGER_BINDING}"')]
    return out


async def install_manager_rbac(client: Any, system_ns: str, namespaces: Sequence[str]) -> str:
    """``InstallClusterManagerRBAC``: the ServiceAccount, its role and binding; returns its token."""
    sa_kind = await client.resolve("v1", "ServiceAccount")
    await _ensure(client, sa_kind, {"apiVersion": "v1", "kind": "ServiceAccount",
                                    "metadata": {"name": MANAGER, "namespace": system_ns}},
                  f'ServiceAccount "{MANAGER}" in namespace "{system_ns}"', replace=False)
    for api_version, kind_name, body, what in _rbac_bodies(system_ns, namespaces):
        await _ensure(client, await client.resolve(api_version, kind_name), body, what)
    return await service_account_token(client, system_ns, MANAGER)


async def service_account_token(client: Any, namespace: str, account: str) -> str:
    """``GetServiceAccountBearerToken``: the token of ``<account>-long-lived-token`` (created when missing),
    once the token controller has filled it in."""
    from rollouts.kube.errors import AlreadyExists, ApiError
    from rollouts.kube.resources import SECRET

    name = account + TOKEN_SUFFIX
    body = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
            "metadata": {"name": name, "namespace": namespace,
                         "annotations": {"kubernetes.io/service-account.name": account}}}
    try:
        await client.create(SECRET, body, namespace)
        _info(f'Created bearer token secret "{name}" for ServiceAccount "{account}"')
    except AlreadyExists:
        _info(f'Using existing bearer token secret "{name}" for ServiceAccount "{account}"')
    except ApiError as exc:
        raise CliError(f'failed to create secret "{name}" for serviceaccount "{account}": {exc.message}') from None
    deadline = time.monotonic() + TOKEN_TIMEOUT
    while True:
        secret = await client.get(SECRET, name, namespace)
        token = (secret.get("data") or {}).get("token")
        if token:
            return base64.b64decode(token).decode()
        if time.monotonic() > deadline:
            raise CliError(f'failed to get token for serviceaccount "{account}": timed out waiting for the '
                           f'token controller to fill secret "{name}"')
        await asyncio.sleep(0.5)


# -- add ---------------------------------------------------------------------------------------------------------


def _exec_provider(args: argparse.Namespace) -> Any:
    from rollouts.gitops.clusters import ExecProvider

    if not args.exec_command:
        return None
    return ExecProvider(command=args.exec_command, args=tuple(args.exec_command_args),
                        env=tuple(sorted(_pairs(args.exec_command_env, "--exec-command-env").items())),
                        api_version=args.exec_command_api_version or "client.authentication.k8s.io/v1beta1",
                        install_hint=args.exec_command_install_hint)


async def _kube_public_endpoint(client: Any) -> tuple[str, str]:
    """``GetKubePublicEndpoint``: server and CA from kube-public's cluster-info (("", "") when absent)."""
    from rollouts.kube.errors import ApiError
    from rollouts.kube.resources import CONFIGMAP

    try:
        info = await client.get(CONFIGMAP, "cluster-info", "kube-public")
        doc = yaml.safe_load((info.get("data") or {}).get("kubeconfig") or "") or {}
        entry = (doc.get("clusters") or [{}])[0].get("cluster") or {}
        return str(entry.get("server") or ""), str(entry.get("certificate-authority-data") or "")
    except (ApiError, yaml.YAMLError, AttributeError, IndexError) as exc:
        _info(f"Failed to find the cluster endpoint from kube-public data: {exc}")
        return "", ""


async def _credentials(args: argparse.Namespace, client: Any) -> str:
    """The bearer token the cluster Secret carries ("" with an exec command)."""
    if args.aws_cluster_name:
        raise CliError("--aws-cluster-name (argocd-k8s-auth) is not supported: use --exec-command with "
                       "'aws eks get-token'", exit_code=2)
    if args.exec_command:
        return ""
    if args.service_account:
        return await service_account_token(client, args.system_namespace, args.service_account)
    if sys.stdout.isatty() and not args.yes:
        level = "namespace" if args.managed_namespaces else "cluster"
        question = (f"WARNING: This will create a service account `{MANAGER}` on the cluster referenced by context "
                    f"`{args.context_name}` with full {level} level privileges. Do you want to continue [y/N]? ")
        answer = await asyncio.to_thread(input, question)
        if answer.strip().lower() not in ("y", "yes"):
            raise CliError("cancelled", exit_code=1)
    return await install_manager_rbac(client, args.system_namespace, args.managed_namespaces)


async def _new_cluster(args: argparse.Namespace, client: Any, entry: dict[str, Any], user: dict[str, Any]) -> Any:
    """``NewCluster``: server, TLS from the context, the manager's token unless a client certificate is set."""
    from rollouts.gitops.clusters import Cluster, ClusterConfig

    token = await _credentials(args, client)
    cert = _read_file_or_data(user, "client-certificate-data", "client-certificate")
    key = _read_file_or_data(user, "client-key-data", "client-key")
    server = str(entry.get("server") or "").rstrip("/")
    ca = _read_file_or_data(entry, "certificate-authority-data", "certificate-authority")
    if args.in_cluster or args.cluster_endpoint == "internal":
        server = IN_CLUSTER
    elif args.cluster_endpoint == "kube-public":
        public, public_ca = await _kube_public_endpoint(client)
        if public:
            server, ca = public.rstrip("/"), public_ca
    config = ClusterConfig(bearer_token=token if not (cert and key) else "",
                           insecure=bool(entry.get("insecure-skip-tls-verify")),
                           server_name=str(entry.get("tls-server-name") or ""), ca_data=ca, cert_data=cert,
                           key_data=key, exec_provider=_exec_provider(args), proxy_url=args.proxy_url)
    return Cluster(server=server, name=args.name or args.context_name, namespaces=tuple(args.managed_namespaces),
                   cluster_resources=args.cluster_resources, project=args.project, config=config,
                   labels=tuple(sorted(_pairs(args.label, "--label").items())),
                   annotations=tuple(sorted(_pairs(args.annotation, "--annotation").items())))


async def _check_reachable(cluster: Any, entry: dict[str, Any]) -> None:
    """The API server's ``GetServerVersion`` with the new credentials (through the kubeconfig's URL when the
    Secret names kubernetes.default.svc, which only the controller can reach)."""
    import dataclasses

    from rollouts.gitops.clusters import kubeconfig
    from rollouts.kube.client import KubeClient
    from rollouts.kube.errors import ApiError

    reachable = cluster
    if cluster.server == IN_CLUSTER and entry.get("server"):
        reachable = dataclasses.replace(cluster, server=str(entry["server"]).rstrip("/"))
    try:
        async with await KubeClient.from_config(kubeconfig(reachable), request_timeout=15) as probe:
            await probe.version()
    except ApiError as exc:
        raise CliError(f"error getting server version: {exc.message}") from None


async def cmd_add(client: Any, args: argparse.Namespace) -> int:
    from rollouts.gitops.clusters import cluster_from_secret, cluster_secret
    from rollouts.kube.errors import AlreadyExists
    from rollouts.kube.resources import SECRET

    if args.in_cluster and args.cluster_endpoint:
        raise CliError("Can only use one of --in-cluster or --cluster-endpoint", exit_code=2)
    target, entry, user = await _target(args)
    try:
        cluster = await _new_cluster(args, target, entry, user)
    finally:
        await target.close()
    await _check_reachable(cluster, entry)
    body = cluster_secret(cluster, args.namespace)
    if args.shard >= 0:
        body["stringData"]["shard"] = str(args.shard)
    try:
        await client.create(SECRET, body, args.namespace)
    except AlreadyExists:
        existing = await client.get(SECRET, body["metadata"]["name"], args.namespace)
        same = _comparable(cluster_from_secret(existing)) == _comparable(cluster_from_secret(body))
        if not same and not args.upsert:
            raise CliError("existing cluster spec is different; use upsert flag to force update") from None
        if not same:
            body["metadata"]["resourceVersion"] = existing["metadata"]["resourceVersion"]
            await client.replace(SECRET, body)
    print(f"Cluster '{cluster.server}' added")
    return 0


def _comparable(cluster: Any) -> Any:
    import dataclasses

    return dataclasses.replace(cluster, secret="")


# -- list / get / rm ---------------------------------------------------------------------------------------------


async def _registry(client: Any, namespace: str) -> Any:
    from rollouts.gitops.clusters import CLUSTER_SECRET_SELECTOR, IN_CLUSTER_ENABLED_KEY, Clusters
    from rollouts.kube.resources import CONFIGMAP, SECRET

    secrets, _ = await client.list(SECRET, namespace, label_selector=CLUSTER_SECRET_SELECTOR)
    settings = await client.get_or_none(CONFIGMAP, "argocd-cm", namespace)
    enabled = ((settings or {}).get("data") or {}).get(IN_CLUSTER_ENABLED_KEY) != "false"
    return Clusters.from_secrets(secrets, in_cluster_enabled=enabled)


async def _info_of(client: Any, cluster: Any) -> dict[str, Any]:
    """Argo CD's cluster info, measured from here: the server version and whether it answers."""
    from rollouts.gitops.clusters import kubeconfig
    from rollouts.kube.client import KubeClient
    from rollouts.kube.errors import ApiError

    try:
        if cluster.is_local:
            version = await client.with_timeout(10).version()
        else:
            async with await KubeClient.from_config(kubeconfig(cluster), request_timeout=10) as probe:
                version = await probe.version()
    except ApiError as exc:
        return {"connectionState": {"status": "Failed", "message": exc.message}}
    git = str(version.get("gitVersion") or "")
    match = re.match(r"v?(\d+\.\d+)", git)
    return {"connectionState": {"status": "Successful"}, "serverVersion": match.group(1) if match else git}


def _shown(cluster: Any, info: dict[str, Any]) -> dict[str, Any]:
    """The cluster as ``argocd cluster get -o yaml`` shows it: ``Sanitized()``, no credentials."""
    out: dict[str, Any] = {"server": cluster.server, "name": cluster.name,
                           "config": {"tlsClientConfig": {"insecure": cluster.config.insecure,
                                                          **({"serverName": cluster.config.server_name}
                                                             if cluster.config.server_name else {})}},
                           "connectionState": dict(info["connectionState"]),
                           "info": {**info, "connectionState": dict(info["connectionState"])}}
    if info.get("serverVersion"):
        out["serverVersion"] = info["serverVersion"]
    for key, value in (("namespaces", list(cluster.namespaces)), ("clusterResources", cluster.cluster_resources),
                       ("project", cluster.project), ("labels", dict(cluster.labels)),
                       ("annotations", dict(cluster.annotations))):
        if value:
            out[key] = value
    return dict(sorted(out.items()))


def _select(registry: Any, selector: str) -> Any:
    """``getQueryBySelector``: an http(s) URL is a server, anything else a name."""
    from rollouts.api.application import ApplicationDestination
    from rollouts.gitops.clusters import resolve_destination

    if re.match(r"^https?://", selector):
        found = registry.by_server(selector)
        if found is None:
            raise CliError(f'rpc error: code = NotFound desc = cluster "{selector.rstrip("/")}" not found')
        return found
    found = resolve_destination(ApplicationDestination(name=selector), registry)
    if isinstance(found, str):
        raise CliError(found)
    return found


async def _print(client: Any, clusters: Sequence[Any], output: str, *, details: bool) -> None:
    if output == "server":
        for cluster in clusters:
            print(cluster.server)
        return
    infos = await asyncio.gather(*(_info_of(client, c) for c in clusters))
    shown = [_shown(c, i) for c, i in zip(clusters, infos, strict=True)]
    if output == "json":
        print(json.dumps(shown if not details or len(shown) > 1 else shown[0], indent=2))
    elif output == "yaml":
        print(yaml.safe_dump(shown if not details or len(shown) > 1 else shown[0], sort_keys=False), end="")
    elif details:
        for cluster, info in zip(clusters, infos, strict=True):
            _print_details(cluster, info)
    else:
        table(["SERVER", "NAME", "VERSION", "STATUS", "MESSAGE", "PROJECT"],
              [[f"{c.server} ({len(c.namespaces)} namespaces)" if c.namespaces else c.server, c.name,
                i.get("serverVersion", ""), i["connectionState"]["status"], i["connectionState"].get("message", ""),
                c.project] for c, i in zip(clusters, infos, strict=True)])


def _print_details(cluster: Any, info: dict[str, Any]) -> None:
    """``printClusterDetails``, line for line."""
    config = cluster.config
    print("Cluster information\n")
    print(f"  Server URL:            {cluster.server}")
    print(f"  Server Name:           {cluster.name or '-'}")
    print(f"  Server Version:        {info.get('serverVersion', '')}")
    print(f"  Namespaces:        \t {', '.join(cluster.namespaces) if cluster.namespaces else 'all namespaces'}")
    print("\nTLS configuration\n")
    print(f"  Client cert:           {str(bool(config.cert_data)).lower()}")
    print(f"  Cert validation:       {str(not config.insecure).lower()}")
    print("\nAuthentication\n")
    print(f"  Basic authentication:  {str(bool(config.username)).lower()}")
    print(f"  oAuth authentication:  {str(bool(config.bearer_token)).lower()}")
    print("  AWS authentication:    false")
    print("\nDisable compression: false")
    print(f"\nUse proxy: {str(bool(config.proxy_url)).lower()}")
    print()


async def cmd_list(client: Any, args: argparse.Namespace) -> int:
    await _print(client, (await _registry(client, args.namespace)).all(), args.output, details=False)
    return 0


async def cmd_get(client: Any, args: argparse.Namespace) -> int:
    registry = await _registry(client, args.namespace)
    await _print(client, [_select(registry, s) for s in args.selectors], args.output, details=True)
    return 0


async def _uninstall_manager(context: str, kubeconfig: str | None) -> None:
    """``UninstallClusterManagerRBAC`` on the cluster of the context named like the removed cluster."""
    from rollouts.cli.connection import ConnectionFlags, connect, resolve
    from rollouts.kube.errors import NotFound

    try:
        target = resolve(ConnectionFlags(kubeconfig=kubeconfig, context=context), os.environ)
    except CliError:
        _info(f"context {context} does not exist in kubeconfig: the {MANAGER} ServiceAccount and its role were "
              "left on the cluster")
        return
    client = await connect(target)
    try:
        for api_version, kind_name, name, namespace in (
                ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", MANAGER_BINDING, None),
                ("rbac.authorization.k8s.io/v1", "ClusterRole", MANAGER_ROLE, None),
                ("v1", "ServiceAccount", MANAGER, "kube-system")):
            try:
                await client.delete(await client.resolve(api_version, kind_name), name, namespace)
                _info(f'{kind_name} "{name}" deleted')
            except NotFound:
                _info(f'{kind_name} "{name}" not found')
    finally:
        await client.close()


async def cmd_rm(client: Any, args: argparse.Namespace) -> int:
    from rollouts.kube.errors import NotFound
    from rollouts.kube.resources import SECRET

    registry = await _registry(client, args.namespace)
    for selector in args.selectors:
        cluster = _select(registry, selector)
        if not args.yes:
            question = (f"Are you sure you want to remove '{selector}'? Any Apps deploying to this cluster will go "
                        "to health status Unknown.[y/n] ")
            answer = await asyncio.to_thread(input, question)
            if answer.strip().lower() != "y":
                print(f"The command to remove '{selector}' was cancelled.")
                continue
        if not cluster.secret:
            raise CliError(f'rpc error: code = NotFound desc = cluster "{cluster.server}" not found')
        try:
            await client.delete(SECRET, cluster.secret, args.namespace)
        except NotFound:
            raise CliError(f'rpc error: code = NotFound desc = cluster "{cluster.server}" not found') from None
        print(f"Cluster '{selector}' removed")
        await _uninstall_manager(cluster.name, getattr(args, "kubeconfig", None))
    return 0


HANDLERS: dict[str, Handler] = {"add": cmd_add, "list": cmd_list, "get": cmd_get, "rm": cmd_rm}
