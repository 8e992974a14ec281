"""`kubectl rollouts repo ...` and `repocreds ...`: repositories with ``argocd repo``'s verbs and flag names.

Why this module exists: ``argocd repo add URL --username u --password p`` is how a private repository is
introduced; here the same line writes Argo CD's *declarative* repository Secret (label
``argocd.argoproj.io/secret-type: repository``, named ``repo-<fnv32a of URL and project>`` as Argo CD names
it) in the applications' namespace, after checking that the repository answers with those credentials.
``repocreds add URL-PREFIX`` writes a credential template (``repo-creds``, ``creds-<hash>``) that every
repository under the prefix uses. Credentials never appear in output: list and get print whether a
repository has credentials, never what they are, and errors are redacted.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from rollouts.cli.argocd_group import Handler, run_group, run_with_client, subcommand, table
from rollouts.cli.errors import CliError

SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"
EXAMPLES = """\
  kubectl rollouts repo add https://git.example.com/org/kuard.git --username u --password p
  kubectl rollouts repo add git@git.example.com:org/kuard.git --ssh-private-key-path ~/.ssh/id_ed25519
  kubectl rollouts repo list
  kubectl rollouts repocreds add https://git.example.com/org --username u --password p
"""


def _credential_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--username", default=None, help="username to the repository")
    parser.add_argument("--password", default=None, help="password (or access token) to the repository")
    parser.add_argument("--bearer-token", default=None, help="bearer token (Bitbucket Data Center)")
    parser.add_argument("--ssh-private-key-path", default=None, help="path to the private ssh key")
    parser.add_argument("--type", default="git", choices=["git", "helm", "oci"], help="type of the repository")
    parser.add_argument("--upsert", action="store_true", help="replace an existing entry even if it differs")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``repo`` command group."""
    repo: argparse.ArgumentParser = subparsers.add_parser(
        "repo", help="Manage repository connections (Argo CD's repository Secrets)",
        description="Manage repositories as Argo CD's declarative repository Secrets.",
        epilog=f"Examples:\n{EXAMPLES}", formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = repo.add_subparsers(dest="repo_command", metavar="COMMAND", required=True)
    add = subcommand(sub, "add", "Add a repository (checked with its credentials first)")
    add.add_argument("url", metavar="REPOURL")
    _credential_flags(add)
    add.add_argument("--name", default=None, help="name of the repository")
    add.add_argument("--project", default=None, help="project of the repository")
    add.add_argument("--insecure-skip-server-verification", action="store_true",
                     help="disables server certificate and host key checks")
    add.add_argument("--insecure-ignore-host-key", action="store_true", help="disables SSH strict host key checking")
    add.add_argument("--enable-lfs", action="store_true", help="accepted; git-lfs is not used yet")
    lst = subcommand(sub, "list", "List repositories")
    lst.add_argument("-o", "--output", choices=["wide", "json", "yaml", "url"], default="wide")
    get = subcommand(sub, "get", "Show a repository")
    get.add_argument("url", metavar="REPO")
    get.add_argument("--project", default=None)
    get.add_argument("-o", "--output", choices=["wide", "json", "yaml", "url"], default="wide")
    rm = subcommand(sub, "rm", "Remove repositories")
    rm.add_argument("urls", metavar="REPO", nargs="+")
    rm.add_argument("--project", default=None)
    return repo


def add_creds_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``repocreds`` command group (credential templates by URL prefix)."""
    creds: argparse.ArgumentParser = subparsers.add_parser(
        "repocreds", help="Manage repository credential templates (by URL prefix)",
        description="Manage Argo CD's repository credential templates (repo-creds Secrets).")
    sub = creds.add_subparsers(dest="repocreds_command", metavar="COMMAND", required=True)
    add = subcommand(sub, "add", "Add a credential template for every repository under a URL prefix")
    add.add_argument("url", metavar="REPOURL")
    _credential_flags(add)
    lst = subcommand(sub, "list", "List credential templates")
    lst.add_argument("-o", "--output", choices=["wide", "json", "yaml", "url"], default="wide")
    rm = subcommand(sub, "rm", "Remove credential templates")
    rm.add_argument("urls", metavar="CREDSURL", nargs="+")
    return creds


def run(args: argparse.Namespace) -> int:
    if args.command == "repocreds":
        return run_group(args, CREDS_HANDLERS, args.repocreds_command)
    return run_group(args, HANDLERS, args.repo_command)


async def main(argv: Sequence[str], *, client: Any) -> int:
    """Run a ``repo`` or ``repocreds`` command with an existing client (tests, embedding)."""
    root = argparse.ArgumentParser(prog="kubectl rollouts")
    sub = root.add_subparsers(dest="command")
    add_parser(sub)
    add_creds_parser(sub)
    args = root.parse_args(list(argv))
    if args.command == "repocreds":
        return await run_with_client(args, CREDS_HANDLERS, args.repocreds_command, client)
    return await run_with_client(args, HANDLERS, args.repo_command, client)


# -- the declarative Secret --------------------------------------------------------------------------------------


def fnv32a(data: bytes) -> int:
    value = 0x811C9DC5
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def secret_name(prefix: str, url: str, project: str | None = None) -> str:
    """Argo CD's ``RepoURLToSecretName``: ``repo-`` (or ``creds-``) plus the FNV-1a hash of URL and project."""
    return f"{prefix}-{fnv32a((url + (project or '')).encode())}"


def _string_data(args: argparse.Namespace) -> dict[str, str]:
    data: dict[str, str] = {"url": args.url, "type": args.type}
    for key, value in (("username", args.username), ("password", args.password),
                       ("bearerToken", args.bearer_token), ("name", getattr(args, "name", None)),
                       ("project", getattr(args, "project", None))):
        if value:
            data[key] = value
    if args.ssh_private_key_path:
        try:
            data["sshPrivateKey"] = Path(args.ssh_private_key_path).expanduser().read_text()
        except OSError as exc:
            raise CliError(f"cannot read --ssh-private-key-path {args.ssh_private_key_path}: {exc.strerror}",
                           exit_code=2) from None
    if getattr(args, "insecure_skip_server_verification", False):
        data["insecure"] = "true"
    if getattr(args, "insecure_ignore_host_key", False):
        data["insecureIgnoreHostKey"] = "true"
    if getattr(args, "enable_lfs", False):
        data["enableLfs"] = "true"
    return data


def _secret(name: str, namespace: str, secret_type: str, data: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "namespace": namespace, "labels": {SECRET_TYPE_LABEL: secret_type},
                         "annotations": {"managed-by": "argocd.argoproj.io"}},
            "stringData": data}


async def _check_connection(data: dict[str, str]) -> None:
    """``git ls-remote``-like: fetch HEAD (Git) or ``index.yaml`` (Helm) with these credentials; the error
    is redacted. OCI repositories are stored unchecked (no source type reads them yet)."""
    from rollouts.gitops.chart_repository import HelmRepositories
    from rollouts.gitops.comparison import SourceError
    from rollouts.gitops.source import GitError, GitSource, credentials_for

    kind = data.get("type", "git")
    if kind not in ("git", "helm"):
        return
    creds = credentials_for(data["url"], [{"metadata": {"labels": {SECRET_TYPE_LABEL: "repository"}},
                                            "stringData": data}])
    with tempfile.TemporaryDirectory(prefix="kubectl-rollouts-repo-") as tmp:
        try:
            if kind == "helm":
                await HelmRepositories(Path(tmp), timeout=60).check(data["url"], creds)
            else:
                await GitSource(Path(tmp), timeout=60).fetch(data["url"], creds)
        except (GitError, SourceError) as exc:
            raise CliError(f"unable to connect to repository {data['url']}: {exc}") from None


async def _write(client: Any, body: dict[str, Any], *, upsert: bool, what: str) -> None:
    from rollouts.kube.errors import AlreadyExists
    from rollouts.kube.resources import SECRET

    namespace = body["metadata"]["namespace"]
    try:
        await client.create(SECRET, body, namespace)
    except AlreadyExists:
        if not upsert:
            existing = await client.get(SECRET, body["metadata"]["name"], namespace)
            if _decoded(existing) != body["stringData"]:
                raise CliError(f"existing {what} spec is different; use upsert flag to force update") from None
            return
        import base64

        encoded = {k: base64.b64encode(v.encode()).decode() for k, v in body["stringData"].items()}
        await client.patch(SECRET, body["metadata"]["name"], [{"op": "add", "path": "/data", "value": encoded}],
                           namespace, patch_type="json")


def _decoded(secret: dict[str, Any]) -> dict[str, str]:
    import base64

    out = {k: base64.b64decode(v).decode(errors="replace") for k, v in (secret.get("data") or {}).items()}
    out.update(secret.get("stringData") or {})
    return out


async def _list(client: Any, namespace: str, secret_type: str) -> list[dict[str, str]]:
    from rollouts.kube.resources import SECRET

    items, _ = await client.list(SECRET, namespace, label_selector=f"{SECRET_TYPE_LABEL}={secret_type}")
    return sorted((_decoded(s) | {"_secret": s["metadata"]["name"]} for s in items), key=lambda d: d.get("url", ""))


def _public(entry: dict[str, str]) -> dict[str, Any]:
    """What may be shown of a repository: never a password, token or key."""
    out: dict[str, Any] = {"repo": entry.get("url", ""), "type": entry.get("type", "git")}
    for key in ("name", "project", "username"):
        if entry.get(key):
            out[key] = entry[key]
    out["insecure"] = entry.get("insecure") == "true" or entry.get("insecureIgnoreHostKey") == "true"
    out["enableLfs"] = entry.get("enableLfs") == "true"
    out["hasCredentials"] = any(entry.get(k) for k in ("password", "sshPrivateKey", "bearerToken"))
    return out


def _print(entries: list[dict[str, str]], output: str) -> None:
    shown = [_public(e) for e in entries]
    if output == "json":
        print(json.dumps(shown, indent=2))
    elif output == "yaml":
        print(yaml.safe_dump(shown, sort_keys=False), end="")
    elif output == "url":
        for entry in shown:
            print(entry["repo"])
    else:
        table(["TYPE", "NAME", "REPO", "INSECURE", "LFS", "CREDS", "PROJECT"],
              [[e["type"], e.get("name", ""), e["repo"], str(e["insecure"]).lower(), str(e["enableLfs"]).lower(),
                str(e["hasCredentials"]).lower(), e.get("project", "")] for e in shown])


# -- commands ---------------------------------------------------------------------------------------------------


async def cmd_add(client: Any, args: argparse.Namespace) -> int:
    data = _string_data(args)
    await _check_connection(data)
    body = _secret(secret_name("repo", args.url, args.project), args.namespace, "repository", data)
    await _write(client, body, upsert=args.upsert, what="repository")
    print(f"Repository '{args.url}' added")
    return 0


async def cmd_list(client: Any, args: argparse.Namespace) -> int:
    _print(await _list(client, args.namespace, "repository"), args.output)
    return 0


async def cmd_get(client: Any, args: argparse.Namespace) -> int:
    from rollouts.gitops.source import normalize_repo_url

    found = [e for e in await _list(client, args.namespace, "repository")
             if normalize_repo_url(e.get("url", "")) == normalize_repo_url(args.url)
             and (args.project is None or e.get("project") == args.project)]
    if not found:
        raise CliError(f"repository '{args.url}' not found in namespace '{args.namespace}'")
    _print(found[:1], args.output)
    return 0


async def _remove(client: Any, namespace: str, urls: Sequence[str], secret_type: str, what: str,
                  project: str | None = None) -> int:
    from rollouts.gitops.source import normalize_repo_url
    from rollouts.kube.resources import SECRET

    entries = await _list(client, namespace, secret_type)
    for url in urls:
        matches = [e for e in entries if normalize_repo_url(e.get("url", "")) == normalize_repo_url(url)
                   and (project is None or e.get("project") == project)]
        if not matches:
            raise CliError(f"{what} '{url}' not found in namespace '{namespace}'")
        for entry in matches:
            await client.delete(SECRET, entry["_secret"], namespace)
        print(f"{what.capitalize()} '{url}' removed")
    return 0


async def cmd_rm(client: Any, args: argparse.Namespace) -> int:
    return await _remove(client, args.namespace, args.urls, "repository", "repository", args.project)


async def cmd_creds_add(client: Any, args: argparse.Namespace) -> int:
    body = _secret(secret_name("creds", args.url), args.namespace, "repo-creds", _string_data(args))
    await _write(client, body, upsert=args.upsert, what="repository credentials")
    print(f"Repository credentials for '{args.url}' added")
    return 0


async def cmd_creds_list(client: Any, args: argparse.Namespace) -> int:
    entries = await _list(client, args.namespace, "repo-creds")
    if args.output != "wide":
        _print(entries, args.output)
        return 0
    table(["URL PATTERN", "USERNAME", "SSH_CREDS", "TLS_CREDS"],
          [[e.get("url", ""), e.get("username", "-") or "-", str(bool(e.get("sshPrivateKey"))).lower(), "false"]
           for e in entries])
    return 0


async def cmd_creds_rm(client: Any, args: argparse.Namespace) -> int:
    return await _remove(client, args.namespace, args.urls, "repo-creds", "repository credentials")


HANDLERS: dict[str, Handler] = {"add": cmd_add, "list": cmd_list, "get": cmd_get, "rm": cmd_rm}
CREDS_HANDLERS: dict[str, Handler] = {"add": cmd_creds_add, "list": cmd_creds_list, "rm": cmd_creds_rm}
