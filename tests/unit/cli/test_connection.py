"""kubectl's connection overrides (clientcmd's rules) on the chosen cluster and user, case by case.

Each row: the flags given, and the cluster and user entries the Target's context then points at; the entries
of the file itself are never edited (they stay under their own names)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml

from rollouts.cli.connection import ConnectionFlags, resolve
from rollouts.cli.errors import CliError

CA = base64.b64encode(b"CA").decode()
FILE: dict[str, Any] = {
    "current-context": "dev",
    "clusters": [{"name": "k", "cluster": {"server": "https://k", "certificate-authority-data": CA,
                                           "tls-server-name": "k.internal"}}],
    "users": [{"name": "me", "user": {"token": "mine", "client-certificate-data": "Y2VydA==",
                                      "client-key-data": "a2V5"}}],
    "contexts": [{"name": "dev", "context": {"cluster": "k", "user": "me", "namespace": "team-a"}},
                 {"name": "nocluster", "context": {"user": "me"}}],
}
K = FILE["clusters"][0]["cluster"]
ME = FILE["users"][0]["user"]


def _chosen(target: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    config = target.config
    context = next(c["context"] for c in config["contexts"] if c["name"] == target.context)
    cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
    user = next(u["user"] for u in config["users"] if u["name"] == context["user"])
    return context, cluster, user


CASES = [
    ("no-flags", {}, K, ME),
    ("server-drops-tls-server-name", {"server": "https://x"}, {**K, "server": "https://x", "tls-server-name": None}, ME),
    ("tls-server-name", {"tls_server_name": "other"}, {**K, "tls-server-name": "other"}, ME),
    ("server-and-tls-server-name", {"server": "https://x", "tls_server_name": "n"},
     {**K, "server": "https://x", "tls-server-name": "n"}, ME),
    ("insecure-replaces-ca", {"insecure_skip_tls_verify": True},
     {"server": "https://k", "tls-server-name": "k.internal", "insecure-skip-tls-verify": True}, ME),
    ("ca-file-replaces-ca-data", {"certificate_authority": "{tmp}/ca.crt"},
     {"server": "https://k", "tls-server-name": "k.internal", "insecure-skip-tls-verify": False,
      "certificate-authority": "{tmp}/ca.crt"}, ME),
    ("token", {"token": "t0k"}, K, {**ME, "token": "t0k"}),
    ("basic-auth", {"username": "jane", "password": "pw"}, K, {**ME, "username": "jane", "password": "pw"}),
    ("client-certificate-replaces-data", {"client_certificate": "{tmp}/c.crt"}, K,
     {"token": "mine", "client-key-data": "a2V5", "client-certificate": "{tmp}/c.crt"}),
    ("client-key-replaces-data", {"client_key": "{tmp}/c.key"}, K,
     {"token": "mine", "client-certificate-data": "Y2VydA==", "client-key": "{tmp}/c.key"}),
]


def _filled(value: Any, tmp: Path) -> Any:
    if isinstance(value, dict):
        return {k: _filled(v, tmp) for k, v in value.items() if v is not None}
    return value.replace("{tmp}", str(tmp)) if isinstance(value, str) else value


@pytest.mark.parametrize(("flags", "cluster", "user"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_overrides(tmp_path: Path, flags: dict[str, Any], cluster: dict[str, Any], user: dict[str, Any]) -> None:
    cfg = tmp_path / "config"
    cfg.write_text(yaml.safe_dump(FILE))
    given = {k: _filled(v, tmp_path) for k, v in flags.items()}
    target = resolve(ConnectionFlags(**given), {"KUBECONFIG": str(cfg)})
    context, seen_cluster, seen_user = _chosen(target)
    assert (seen_cluster, seen_user) == (_filled(cluster, tmp_path), _filled(user, tmp_path))
    assert context["namespace"] == "team-a"
    assert target.config is not None
    assert next(c["cluster"] for c in target.config["clusters"] if c["name"] == "k") == K  # the file's entry
    assert next(u["user"] for u in target.config["users"] if u["name"] == "me") == ME


def test_server_flag_gives_a_context_without_cluster_one(tmp_path: Path) -> None:
    cfg = tmp_path / "config"
    cfg.write_text(yaml.safe_dump(FILE))
    target = resolve(ConnectionFlags(context="nocluster", server="https://x"), {"KUBECONFIG": str(cfg)})
    _, cluster, user = _chosen(target)
    assert (cluster, user) == ({"server": "https://x"}, ME)


@pytest.mark.parametrize(("current", "context", "message"), [
    ("nocluster", None, "invalid configuration: context 'nocluster' names no cluster that the kubeconfig defines"),
    (None, None, "invalid configuration: the kubeconfig [(]no current-context is set[)] names no cluster"),
], ids=["context-without-cluster", "no-current-context"])
def test_a_context_without_a_cluster_is_refused(tmp_path: Path, current: str | None, context: str | None,
                                                 message: str) -> None:
    cfg = tmp_path / "config"
    cfg.write_text(yaml.safe_dump({**FILE, "current-context": current} if current else
                                  {k: v for k, v in FILE.items() if k != "current-context"}))
    with pytest.raises(CliError, match=message):
        resolve(ConnectionFlags(context=context), {"KUBECONFIG": str(cfg)})
