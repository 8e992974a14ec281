"""Destination clusters as Argo CD declares them: cluster Secrets, name/server resolution, managed namespaces. Pure.

Why this module exists: an Application names its cluster by ``destination.server`` or ``destination.name``,
and Argo CD resolves either through its *declarative cluster Secrets* (label
``argocd.argoproj.io/secret-type: cluster`` in the applications namespace; ``util/db/cluster.go``
``SecretToCluster``): ``server``, ``name``, ``config`` (JSON: ``bearerToken``, ``username``/``password``,
``tlsClientConfig`` with base64 ``caData``/``certData``/``keyData``, ``insecure``, ``serverName``;
``execProviderConfig``), ``namespaces`` (comma-separated: the cluster is managed only there),
``clusterResources`` (with ``namespaces``: cluster-scoped kinds too) and ``project`` (a project-scoped
cluster). The local cluster (``https://kubernetes.default.svc``, name ``in-cluster``) exists without a
Secret; a Secret for that server only renames or restricts it.

The messages are Argo CD's (``util/argo/argo.go`` ``GetDestinationServer``/``GetDestinationCluster``,
gitops-engine ``pkg/cache/cluster.go`` ``GetManagedLiveObjs``), so an Application shows the same condition
here as there. Nothing here connects anywhere: ``kubeconfig`` turns a cluster into the kubeconfig document
that ``rollouts.kube`` connects with.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rollouts.api.application import IN_CLUSTER_NAME, IN_CLUSTER_SERVER, ApplicationDestination

SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"
CLUSTER_SECRET_SELECTOR = f"{SECRET_TYPE_LABEL}=cluster"
IN_CLUSTER_ENABLED_KEY = "cluster.inClusterEnabled"
"""argocd-cm: ``"false"`` removes the local cluster from the destinations (Argo CD's setting)."""
DESTINATION_MISSING = "Destination server missing from app spec"
Obj = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ExecProvider:
    """``config.execProviderConfig``: a command that prints a client.authentication.k8s.io ExecCredential."""

    command: str
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    api_version: str = "client.authentication.k8s.io/v1beta1"
    install_hint: str = ""
    provide_cluster_info: bool = False


@dataclass(frozen=True, slots=True)
class ClusterConfig:
    """How to reach and authenticate to the API server (``config`` of the Secret). TLS data is base64 of PEM,
    as Go marshals ``[]byte`` into the Secret's JSON."""

    bearer_token: str = ""
    username: str = ""
    password: str = ""
    insecure: bool = False
    server_name: str = ""
    ca_data: str = ""
    cert_data: str = ""
    key_data: str = ""
    exec_provider: ExecProvider | None = None
    proxy_url: str = ""


@dataclass(frozen=True, slots=True)
class Cluster:
    """One destination cluster (by default the local one). ``secret`` is the Secret it came from ("" for the
    built-in local cluster)."""

    server: str = IN_CLUSTER_SERVER
    name: str = IN_CLUSTER_NAME
    namespaces: tuple[str, ...] = ()
    cluster_resources: bool = False
    project: str = ""
    config: ClusterConfig = field(default_factory=ClusterConfig)
    secret: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()

    @property
    def is_local(self) -> bool:
        """Served with the controller's own connection (Argo CD: the in-cluster config)."""
        return self.server == IN_CLUSTER_SERVER

    @property
    def namespace_scoped(self) -> bool:
        return bool(self.namespaces)

    def identity(self) -> str:
        """What a connection to this cluster depends on: a change (new token, CA, namespaces) means a new one."""
        data = json.dumps([self.server, self.namespaces, self.cluster_resources, _config_json(self.config)],
                          sort_keys=True, default=str)
        return hashlib.sha256(data.encode()).hexdigest()


LOCAL = Cluster()


def _config_json(config: ClusterConfig) -> Obj:
    out: Obj = {}
    for key, value in (("bearerToken", config.bearer_token), ("username", config.username),
                       ("password", config.password), ("proxyUrl", config.proxy_url)):
        if value:
            out[key] = value
    tls: Obj = {"insecure": config.insecure}
    for key, value in (("serverName", config.server_name), ("caData", config.ca_data),
                       ("certData", config.cert_data), ("keyData", config.key_data)):
        if value:
            tls[key] = value
    out["tlsClientConfig"] = tls
    if config.exec_provider is not None:
        ep = config.exec_provider
        out["execProviderConfig"] = {"command": ep.command, "args": list(ep.args), "env": dict(ep.env),
                                     "apiVersion": ep.api_version, "installHint": ep.install_hint}
    return out


def config_json(config: ClusterConfig) -> str:
    """The Secret's ``config`` value for ``config`` (what ``cluster add`` writes)."""
    return json.dumps(_config_json(config), sort_keys=True)


# -- the Secret -----------------------------------------------------------------------------------------------


class ClusterSecretError(ValueError):
    """A cluster Secret that cannot be read; the message names the Secret and the field."""


def _decoded(secret: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in (secret.get("data") or {}).items():
        try:
            out[str(key)] = base64.b64decode(str(value)).decode()
        except (binascii.Error, UnicodeDecodeError):
            out[str(key)] = ""
    out.update({str(k): str(v) for k, v in (secret.get("stringData") or {}).items()})
    return out


def _b64(value: Any, where: str) -> str:
    if value in (None, ""):
        return ""
    try:
        base64.b64decode(str(value), validate=True)
    except binascii.Error:
        raise ClusterSecretError(f"{where} is not base64-encoded PEM") from None
    return str(value)


def _exec_provider(raw: Any, secret: str) -> ExecProvider | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not raw.get("command"):
        raise ClusterSecretError(f"cluster secret {secret}: config.execProviderConfig needs a command")
    env = raw.get("env") or {}
    if not isinstance(env, dict):
        raise ClusterSecretError(f"cluster secret {secret}: config.execProviderConfig.env must be a map")
    return ExecProvider(command=str(raw["command"]), args=tuple(str(a) for a in raw.get("args") or ()),
                        env=tuple(sorted((str(k), str(v)) for k, v in env.items())),
                        api_version=str(raw.get("apiVersion") or "client.authentication.k8s.io/v1beta1"),
                        install_hint=str(raw.get("installHint") or ""),
                        provide_cluster_info=bool(raw.get("provideClusterInfo")))


def parse_config(text: str, secret: str) -> ClusterConfig:
    """The ``config`` JSON; an unreadable one raises naming the Secret (Argo CD: "could not unmarshal")."""
    if not text.strip():
        return ClusterConfig()
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise ClusterSecretError(f"could not unmarshal cluster secret {secret}: config is not JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise ClusterSecretError(f"could not unmarshal cluster secret {secret}: config must be a JSON object")
    if raw.get("awsAuthConfig"):
        raise ClusterSecretError(f"cluster secret {secret}: config.awsAuthConfig (argocd-k8s-auth) is not supported; "
                                 "use execProviderConfig with the aws CLI instead")
    tls = raw.get("tlsClientConfig") or {}
    if not isinstance(tls, dict):
        raise ClusterSecretError(f"could not unmarshal cluster secret {secret}: tlsClientConfig must be an object")
    return ClusterConfig(
        bearer_token=str(raw.get("bearerToken") or ""), username=str(raw.get("username") or ""),
        password=str(raw.get("password") or ""), insecure=bool(tls.get("insecure")),
        server_name=str(tls.get("serverName") or ""),
        ca_data=_b64(tls.get("caData"), f"cluster secret {secret}: tlsClientConfig.caData"),
        cert_data=_b64(tls.get("certData"), f"cluster secret {secret}: tlsClientConfig.certData"),
        key_data=_b64(tls.get("keyData"), f"cluster secret {secret}: tlsClientConfig.keyData"),
        exec_provider=_exec_provider(raw.get("execProviderConfig"), secret), proxy_url=str(raw.get("proxyUrl") or ""))


def cluster_from_secret(secret: Mapping[str, Any]) -> Cluster:
    """Argo CD's ``SecretToCluster``: ``namespaces`` split at commas and trimmed, ``server`` without a trailing
    ``/``, ``clusterResources`` only when ``"true"``."""
    meta = secret.get("metadata") or {}
    name = str(meta.get("name") or "")
    data = _decoded(secret)
    server = data.get("server", "").strip().rstrip("/")
    if not server:
        raise ClusterSecretError(f"cluster secret {name} has no server")
    namespaces = tuple(ns.strip() for ns in data.get("namespaces", "").split(",") if ns.strip())
    labels = {str(k): str(v) for k, v in (meta.get("labels") or {}).items() if k != SECRET_TYPE_LABEL}
    annotations = {str(k): str(v) for k, v in (meta.get("annotations") or {}).items()
                   if k not in ("kubectl.kubernetes.io/last-applied-configuration", "managed-by")}
    return Cluster(server=server, name=data.get("name", ""), namespaces=namespaces,
                   cluster_resources=data.get("clusterResources") == "true", project=data.get("project", ""),
                   config=parse_config(data.get("config", ""), name), secret=name,
                   labels=tuple(sorted(labels.items())), annotations=tuple(sorted(annotations.items())))


def secret_name(server: str) -> str:
    """Argo CD's ``URIToSecretName("cluster", server)``: ``cluster-<host>-<fnv32a of the URL>``.

    "https://kubernetes.default.svc" -> "cluster-kubernetes.default.svc-3396314289"."""
    import ipaddress
    from urllib.parse import urlsplit

    host = urlsplit(server).netloc.rpartition("@")[2]
    if host.startswith("[") and "]" in host:
        try:
            host = ipaddress.ip_address(host[1:host.index("]")]).compressed.replace(":", "-")
        except ValueError:
            raise ClusterSecretError(f"server {server!r} has an invalid IPv6 address") from None
    else:
        host = host.partition(":")[0]
    value = 0x811C9DC5
    for byte in server.encode():
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return f"cluster-{host.lower()}-{value}"


def cluster_secret(cluster: Cluster, namespace: str) -> Obj:
    """The declarative Secret for ``cluster`` (``clusterToSecret``: name defaults to the server)."""
    data = {"server": cluster.server.rstrip("/"), "name": cluster.name or cluster.server,
            "config": config_json(cluster.config)}
    if cluster.namespaces:
        data["namespaces"] = ",".join(cluster.namespaces)
    if cluster.cluster_resources:
        data["clusterResources"] = "true"
    if cluster.project:
        data["project"] = cluster.project
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": secret_name(cluster.server), "namespace": namespace,
                         "labels": {**dict(cluster.labels), SECRET_TYPE_LABEL: "cluster"},
                         "annotations": {**dict(cluster.annotations), "managed-by": "argocd.argoproj.io"}},
            "stringData": data}


# -- the registry ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clusters:
    """Every destination Argo CD would know: the cluster Secrets, plus the local cluster unless disabled."""

    declared: tuple[Cluster, ...] = ()
    in_cluster_enabled: bool = True
    problems: tuple[str, ...] = ()

    @classmethod
    def from_secrets(cls, secrets: Iterable[Mapping[str, Any]], *, in_cluster_enabled: bool = True) -> Clusters:
        declared: list[Cluster] = []
        problems: list[str] = []
        for secret in sorted(secrets, key=lambda s: str((s.get("metadata") or {}).get("name") or "")):
            try:
                declared.append(cluster_from_secret(secret))
            except ClusterSecretError as exc:
                problems.append(str(exc))
        return cls(tuple(declared), in_cluster_enabled, tuple(problems))

    def all(self) -> list[Cluster]:
        """Argo CD's ``ListClusters``: the declared clusters, the local one from its Secret or built in."""
        out = [c for c in self.declared if not c.is_local or self.in_cluster_enabled]
        if self.in_cluster_enabled and not any(c.is_local for c in self.declared):
            out.append(LOCAL)
        return out

    def by_server(self, server: str) -> Cluster | None:
        server = server.rstrip("/")
        if server == IN_CLUSTER_SERVER and not self.in_cluster_enabled:
            return None
        return next((c for c in self.all() if c.server == server), None)

    def servers_by_name(self, name: str) -> list[str]:
        """``GetClusterServersByName``: ``in-cluster`` names the local cluster unless a Secret took the name."""
        return [c.server for c in self.all() if c.name == name]

    def project_clusters(self, project: str) -> list[Cluster]:
        return [c for c in self.all() if project and c.project == project]


def resolve_destination(destination: ApplicationDestination, clusters: Clusters) -> Cluster | str:
    """The destination's cluster, or Argo CD's InvalidSpecError message.

    {name: "staging"} with one Secret named staging -> that cluster; {name: "x"} and none ->
    "there are no clusters with this name: x"; {server: "https://10.0.0.9"} unknown ->
    'error getting cluster by server "https://10.0.0.9": rpc error: code = NotFound desc = cluster
    "https://10.0.0.9" not found'."""
    if destination.name and destination.server:
        return (f"application destination can't have both name and server defined: {destination.name} "
                f"{destination.server}")
    if destination.server:
        found = clusters.by_server(destination.server)
        if found is None:
            server = destination.server.rstrip("/")
            return (f'error getting cluster by server "{destination.server}": rpc error: code = NotFound desc = '
                    f'cluster "{server}" not found')
        return found
    if destination.name:
        servers = clusters.servers_by_name(destination.name)
        if not servers:
            return f"there are no clusters with this name: {destination.name}"
        if len(servers) > 1:
            return f"there are {len(servers)} clusters with the same name: [{' '.join(servers)}]"
        found = clusters.by_server(servers[0])
        assert found is not None
        return found
    return DESTINATION_MISSING


def unmanaged(cluster: Cluster, *, kind: str, name: str, namespace: str) -> str | None:
    """Why ``cluster`` may not hold this object (its Secret lists ``namespaces``), as gitops-engine says it.

    namespaces [a, b]: ConfigMap in c -> 'namespace "c" for ConfigMap "x" is not managed'; a ClusterRole
    without clusterResources -> 'cluster level ClusterRole "r" can not be managed when in namespaced mode'."""
    if not cluster.namespaces:
        return None
    if not namespace:
        if cluster.cluster_resources:
            return None
        return f'cluster level {kind} "{name}" can not be managed when in namespaced mode'
    if namespace not in cluster.namespaces:
        return f'namespace "{namespace}" for {kind} "{name}" is not managed'
    return None


def scoped_destinations(clusters: Sequence[Cluster]) -> list[ApplicationDestination]:
    """What project-scoped clusters add to their project's destinations (``GetAppProjectByName``): the
    server with namespace ``*``, or one entry per namespace the cluster manages."""
    out: list[ApplicationDestination] = []
    for cluster in clusters:
        for ns in cluster.namespaces or ("*",):
            out.append(ApplicationDestination(server=cluster.server, namespace=ns))
    return out


# -- connecting -----------------------------------------------------------------------------------------------

KUBECONFIG_CONTEXT = "cluster"


def kubeconfig(cluster: Cluster) -> Obj:
    """A one-context kubeconfig for ``cluster`` (what ``rest.Config`` Argo CD builds in ``rawRestConfig``)."""
    config = cluster.config
    entry: Obj = {"server": cluster.server}
    if config.insecure:
        entry["insecure-skip-tls-verify"] = True
    if config.ca_data and not config.insecure:
        entry["certificate-authority-data"] = config.ca_data
    if config.server_name:
        entry["tls-server-name"] = config.server_name
    if config.proxy_url:
        entry["proxy-url"] = config.proxy_url
    user: Obj = {}
    if config.exec_provider is not None:
        ep = config.exec_provider
        user["exec"] = {"apiVersion": ep.api_version, "command": ep.command, "args": list(ep.args),
                        "env": [{"name": k, "value": v} for k, v in ep.env], "installHint": ep.install_hint,
                        "provideClusterInfo": ep.provide_cluster_info, "interactiveMode": "Never"}
    elif config.bearer_token:
        user["token"] = config.bearer_token
    elif config.username:
        user["username"] = config.username
        user["password"] = config.password
    if config.cert_data:
        user["client-certificate-data"] = config.cert_data
    if config.key_data:
        user["client-key-data"] = config.key_data
    return {"apiVersion": "v1", "kind": "Config", "current-context": KUBECONFIG_CONTEXT,
            "clusters": [{"name": KUBECONFIG_CONTEXT, "cluster": entry}],
            "users": [{"name": KUBECONFIG_CONTEXT, "user": user}],
            "contexts": [{"name": KUBECONFIG_CONTEXT, "context": {"cluster": KUBECONFIG_CONTEXT,
                                                                  "user": KUBECONFIG_CONTEXT}}]}


def unreachable_message(cluster: Cluster, reason: str) -> str:
    """The ComparisonError of an application whose cluster does not answer (Argo CD's cluster cache wording)."""
    named = f" ({cluster.name})" if cluster.name and cluster.name != cluster.server else ""
    return (f"Failed to load live state: error synchronizing cache state : failed to sync cluster "
            f"{cluster.server}{named}: {reason}")


__all__ = [
    "CLUSTER_SECRET_SELECTOR", "DESTINATION_MISSING", "LOCAL", "SECRET_TYPE_LABEL", "Cluster", "ClusterConfig",
    "ClusterSecretError", "Clusters", "ExecProvider", "cluster_from_secret", "cluster_secret", "config_json",
    "kubeconfig", "parse_config", "resolve_destination", "scoped_destinations", "secret_name", "unmanaged",
    "unreachable_message",
]
