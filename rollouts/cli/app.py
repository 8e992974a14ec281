"""`kubectl rollouts app ...`: Argo-CD-like Application commands with Argo CD's flag names.

Why this module exists: people who use Argo CD type ``argocd app create --repo ... --path ...
--dest-namespace ... --sync-policy automated``; the same words work here. Commands talk to the API server
only (no separate API server like Argo CD's): ``create`` writes the Application, ``sync`` and ``rollback``
write its top-level ``operation`` field and wait for the controller to finish it, ``diff`` renders Git
locally and compares with a server-side dry run, exactly as the reconciler does.

Exit codes: 0 success; 1 error or a failed sync; 2 usage error. ``app diff``: 0 no difference, 1 differences,
2 error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rollouts.cli.errors import CliError

EXAMPLES = """\
  kubectl rollouts app create guestbook --repo https://github.com/org/deploy.git --path guestbook \\
      --dest-server https://kubernetes.default.svc --dest-namespace shop --sync-policy automated --self-heal
  kubectl rollouts app get guestbook
  kubectl rollouts app sync guestbook --prune
  kubectl rollouts app diff guestbook; echo $?   # 0 in sync, 1 differences, 2 error
  kubectl rollouts app history guestbook
  kubectl rollouts app rollback guestbook 3
"""


def _common(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("common flags")
    group.add_argument("-n", "--namespace", default=argparse.SUPPRESS,
                       help="namespace of the Application objects (default: the context's namespace)")
    group.add_argument("--kubeconfig", default=argparse.SUPPRESS, help="path to the kubeconfig file")
    group.add_argument("--context", default=argparse.SUPPRESS, help="kubeconfig context to use")
    group.add_argument("--no-color", action="store_true", default=argparse.SUPPRESS, help="plain output")


def _sub(sub: Any, name: str, text: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(name, help=text, description=text)
    _common(parser)
    return parser


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``app`` command group on the plugin's subparsers."""
    app: argparse.ArgumentParser = subparsers.add_parser(
        "app", help="Manage Argo-CD-like Applications (Git as the source of truth)",
        description="Manage Applications (argoproj.io/v1alpha1) reconciled by the rollouts controller.",
        epilog=f"Examples:\n{EXAMPLES}", formatter_class=argparse.RawDescriptionHelpFormatter)
    _common(app)
    sub = app.add_subparsers(dest="app_command", metavar="COMMAND", required=True)

    create = _sub(sub, "create", "Create an Application")
    create.add_argument("name", metavar="APPNAME")
    create.add_argument("--repo", required=True, help="repository URL")
    create.add_argument("--path", default=".", help="path in the repository (default: the root)")
    create.add_argument("--helm-chart", default=None, help="Helm chart name (with --repo a Helm chart repository)")
    create.add_argument("--revision", default="HEAD", help="branch, tag or commit SHA to follow (default HEAD)")
    create.add_argument("--dest-server", default=None, help="cluster URL (https://kubernetes.default.svc)")
    create.add_argument("--dest-name", default=None, help="cluster name (in-cluster)")
    create.add_argument("--dest-namespace", required=True, help="namespace for resources without one")
    create.add_argument("--project", default="default")
    create.add_argument("--sync-policy", choices=["automated", "auto", "automatic", "none", "manual"],
                        default="none", help="automated: sync whenever Git changes")
    create.add_argument("--auto-prune", action="store_true", help="automated sync deletes what left Git")
    create.add_argument("--self-heal", action="store_true", help="automated sync corrects live edits")
    create.add_argument("--allow-empty", action="store_true", help="allow automated sync to delete everything")
    create.add_argument("--sync-option", action="append", default=[], metavar="OPTION",
                        help="e.g. CreateNamespace=true, PruneLast=true (repeatable)")
    create.add_argument("--directory-recurse", action="store_true", help="read sub-directories too")
    create.add_argument("--values", action="append", default=[], metavar="FILE",
                        help="Helm values file in the repository (repeatable)")
    create.add_argument("--helm-set", action="append", default=[], metavar="NAME=VALUE",
                        help="Helm parameter (repeatable)")
    create.add_argument("--helm-set-string", action="append", default=[], metavar="NAME=VALUE",
                        help="Helm parameter kept a string (repeatable)")
    create.add_argument("--release-name", default=None, help="Helm release name (default: the app name)")
    create.add_argument("--upsert", action="store_true", help="replace the spec if the Application exists")

    get = _sub(sub, "get", "Show an Application: source, sync, health and resources")
    get.add_argument("name", metavar="APPNAME")
    get.add_argument("-o", "--output", choices=["json", "yaml", "wide", "tree"], default=None,
                     help="tree: the resources with what they own (ReplicaSets, Pods), as Argo CD shows it")
    get.add_argument("--refresh", action="store_true", help="ask the controller to fetch Git now")
    get.add_argument("--hard-refresh", action="store_true", help="fetch Git and re-render")

    lst = _sub(sub, "list", "List Applications")
    lst.add_argument("-o", "--output", choices=["json", "yaml", "name"], default=None)

    sync = _sub(sub, "sync", "Sync an Application to Git (or to --revision)")
    sync.add_argument("name", metavar="APPNAME")
    sync.add_argument("--revision", default=None, help="sync to this revision instead of the target")
    sync.add_argument("--prune", action="store_true", help="delete resources that left Git")
    sync.add_argument("--dry-run", action="store_true", help="validate without applying")
    sync.add_argument("--sync-option", action="append", default=[], metavar="OPTION")
    sync.add_argument("--resource", action="append", default=[], metavar="GROUP:KIND:NAME",
                      help="sync only these resources (repeatable)")
    sync.add_argument("--async", dest="no_wait", action="store_true", help="do not wait for the result")
    sync.add_argument("--timeout", type=float, default=300.0, help="seconds to wait (default 300)")

    diff = _sub(sub, "diff", "Show differences between Git and the cluster (exit 0 none, 1 some, 2 error)")
    diff.add_argument("name", metavar="APPNAME")
    diff.add_argument("--revision", default=None, help="compare this revision instead of the target")
    diff.add_argument("--refresh", action="store_true", help="fetch Git first (always done for the CLI)")

    history = _sub(sub, "history", "Show the sync history of an Application")
    history.add_argument("name", metavar="APPNAME")
    history.add_argument("-o", "--output", choices=["json", "yaml"], default=None)

    rollback = _sub(sub, "rollback", "Sync an Application back to a revision of its history")
    rollback.add_argument("name", metavar="APPNAME")
    rollback.add_argument("id", metavar="ID", nargs="?", type=int, default=None,
                          help="history id (default: the entry before the newest)")
    rollback.add_argument("--prune", action="store_true")
    rollback.add_argument("--async", dest="no_wait", action="store_true")
    rollback.add_argument("--timeout", type=float, default=300.0)

    delete = _sub(sub, "delete", "Delete an Application (and, by default, the resources it manages)")
    delete.add_argument("name", metavar="APPNAME")
    delete.add_argument("--cascade", default="true", choices=["true", "false"],
                        help="delete the managed resources too (default true)")
    delete.add_argument("-y", "--yes", action="store_true", help="accepted for Argo CD compatibility")
    return app


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse ``app`` arguments on their own (tests, embedding): ``["get", "guestbook", "-n", "argocd"]``."""
    root = argparse.ArgumentParser(prog="kubectl rollouts")
    root.add_argument("-n", "--namespace", default=None)
    root.add_argument("--kubeconfig", default=None)
    root.add_argument("--context", default=None)
    root.add_argument("--no-color", action="store_true")
    sub = root.add_subparsers(dest="command")
    add_parser(sub)
    return root.parse_args(["app", *argv])


def run(args: argparse.Namespace) -> int:
    """Entry point from rollouts.cli.main: resolve the target, connect, run the command."""
    from rollouts.cli.connection import connect, resolve
    from rollouts.cli.flags import connection_flags

    target = resolve(connection_flags(args), os.environ)
    args.namespace = target.namespace

    async def body() -> int:
        client = await connect(target)
        try:
            return await execute(args, client)
        finally:
            await client.close()

    try:
        return asyncio.run(body())
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2 if args.app_command == "diff" else exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if os.environ.get("ROLLOUTS_DEBUG"):
            raise
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return 2 if args.app_command == "diff" else 1


async def main(argv: Sequence[str], *, client: Any) -> int:
    """Run an ``app`` command with an existing client (used by tests and embedding)."""
    args = parse_args(argv)
    if args.namespace is None:
        args.namespace = "default"
    try:
        return await execute(args, client)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2 if args.app_command == "diff" else exc.exit_code


async def execute(args: argparse.Namespace, client: Any) -> int:
    handlers = {"create": cmd_create, "get": cmd_get, "list": cmd_list, "sync": cmd_sync, "diff": cmd_diff,
                "history": cmd_history, "rollback": cmd_rollback, "delete": cmd_delete}
    return await handlers[args.app_command](client, args)


# -- helpers ---------------------------------------------------------------------------------------------------


async def _get_app(client: Any, name: str, namespace: str) -> dict[str, Any]:
    from rollouts.kube.errors import NotFound
    from rollouts.kube.resources import APPLICATION

    try:
        app: dict[str, Any] = await client.get(APPLICATION, name, namespace)
    except NotFound:
        raise CliError(f"application '{name}' not found in namespace '{namespace}'") from None
    return app


def _print_obj(obj: Any, output: str) -> None:
    if output == "json":
        print(json.dumps(obj, indent=2))
    else:
        import yaml

        print(yaml.safe_dump(obj, sort_keys=False), end="")


def _primary_source(spec: dict[str, Any]) -> dict[str, Any]:
    """The single source, or the first of ``spec.sources`` (Argo CD's ``GetSource``)."""
    return dict(spec.get("source") or (spec.get("sources") or [{}])[0] or {})


def _source_lines(spec: dict[str, Any], sync: dict[str, Any]) -> list[tuple[str, str]]:
    """One source: Repo/Target/Path (and Chart). Several: Argo CD v3's "Sources:" block, one "- Repo:" entry
    per source with Target, Path, Ref, Helm Values and Name Prefix when set, plus (ours) the Chart and the
    revision each source is synced to (``status.sync.revisions``)."""
    sources = spec.get("sources") or []
    if not sources:
        source = spec.get("source") or {}
        lines = [("Repo:", str(source.get("repoURL", ""))), ("Target:", str(source.get("targetRevision", "HEAD")))]
        if source.get("chart"):
            return [*lines, ("Chart:", str(source["chart"]))]
        return [*lines, ("Path:", str(source.get("path", ".")))]
    revisions = sync.get("revisions") or []
    lines = [("Sources:", "")]
    for index, source in enumerate(sources):
        helm, kustomize = source.get("helm") or {}, source.get("kustomize") or {}
        entry = [("- Repo:", str(source.get("repoURL", ""))), ("  Target:", str(source.get("targetRevision", "")))]
        entry += [(label, str(value)) for label, value in (
            ("  Path:", source.get("path")), ("  Chart:", source.get("chart")), ("  Ref:", source.get("ref")),
            ("  Helm Values:", ",".join(helm.get("valueFiles") or [])),
            ("  Name Prefix:", kustomize.get("namePrefix")),
            ("  Revision:", revisions[index] if index < len(revisions) else "")) if value]
        lines += entry
    return lines


def _synced_revision(result: dict[str, Any]) -> str:
    """syncResult's revision, or a multi-source sync's revisions joined with ", "."""
    return ", ".join(str(r) for r in result.get("revisions") or []) or str(result.get("revision") or "")


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*row)
    no_color = "NO_COLOR" in os.environ or not sys.stdout.isatty()
    console = Console(no_color=no_color, highlight=False, width=None if sys.stdout.isatty() else 200)
    console.print(table)


def _status(app: dict[str, Any]) -> dict[str, Any]:
    status: dict[str, Any] = app.get("status") or {}
    return status


async def _wait_operation(client: Any, name: str, namespace: str, timeout: float) -> int:
    """Wait until the controller has finished the operation; 0 Succeeded, 1 Failed/Error or timeout."""
    end = time.monotonic() + timeout
    while True:
        app = await _get_app(client, name, namespace)
        state = _status(app).get("operationState") or {}
        if app.get("operation") is None and state.get("phase") in ("Succeeded", "Failed", "Error"):
            print(f"Operation:      Sync\nPhase:          {state['phase']}\nMessage:        "
                  f"{state.get('message', '')}\nRevision:       "
                  f"{(state.get('syncResult') or {}).get('revision', '')}")
            return 0 if state["phase"] == "Succeeded" else 1
        if time.monotonic() >= end:
            raise CliError(f"timed out after {timeout:.0f}s waiting for the sync of '{name}' "
                           f"(phase {state.get('phase', 'Pending')}: {state.get('message', '')})")
        await asyncio.sleep(0.5)


OPERATION_ATTEMPTS = 5
"""Writes of an operation tried: the reconciler writes the Application's status often, so the resourceVersion
read may be gone by the time the patch arrives (422 from the patch's `test`); each retry reads it again and
checks again that no operation is running."""


async def _request_operation(client: Any, name: str, namespace: str, operation: dict[str, Any]) -> None:
    """Write ``operation`` unless another one is running (as Argo CD refuses)."""
    from rollouts.kube.errors import ApiError
    from rollouts.kube.resources import APPLICATION

    for attempt in range(OPERATION_ATTEMPTS):
        app = await _get_app(client, name, namespace)
        state = _status(app).get("operationState") or {}
        if app.get("operation") is not None and state.get("phase") == "Running":
            raise CliError(f"another operation is already in progress on application '{name}'")
        patch = [{"op": "test", "path": "/metadata/resourceVersion", "value": app["metadata"]["resourceVersion"]},
                 {"op": "add", "path": "/operation", "value": operation}]
        try:
            await client.patch(APPLICATION, name, patch, namespace, patch_type="json")
            return
        except ApiError as exc:
            if exc.status in (409, 422) and attempt + 1 < OPERATION_ATTEMPTS:
                continue  # the Application moved on since it was read: read it again
            raise CliError(f"cannot request an operation on application '{name}': {exc.message}") from None


def _initiator() -> dict[str, Any]:
    return {"username": os.environ.get("USER") or "kubectl-rollouts"}


# -- commands --------------------------------------------------------------------------------------------------


def _helm_source(args: argparse.Namespace) -> dict[str, Any]:
    """argocd's --values/--helm-set/--helm-set-string/--release-name as the source's ``helm:`` block."""
    helm: dict[str, Any] = {}
    if args.values:
        helm["valueFiles"] = list(args.values)
    parameters = []
    for flag, force in ((args.helm_set, False), (args.helm_set_string, True)):
        for item in flag:
            name, sep, value = item.partition("=")
            if not sep or not name:
                raise CliError(f"--helm-set{'-string' if force else ''} {item!r}: expected NAME=VALUE", exit_code=2)
            parameters.append({"name": name, "value": value, **({"forceString": True} if force else {})})
    if parameters:
        helm["parameters"] = parameters
    if args.release_name:
        helm["releaseName"] = args.release_name
    return helm


async def cmd_create(client: Any, args: argparse.Namespace) -> int:
    from rollouts.api.application import IN_CLUSTER_SERVER
    from rollouts.kube.errors import AlreadyExists
    from rollouts.kube.resources import APPLICATION

    source: dict[str, Any] = {"repoURL": args.repo, "path": args.path, "targetRevision": args.revision}
    if args.helm_chart:  # a chart repository: the chart and its version (or constraint), no path
        source = {"repoURL": args.repo, "chart": args.helm_chart, "targetRevision": args.revision}
    if args.directory_recurse:
        source["directory"] = {"recurse": True}
    helm = _helm_source(args)
    if helm:
        source["helm"] = helm
    destination: dict[str, Any] = {"namespace": args.dest_namespace}
    if args.dest_name:
        destination["name"] = args.dest_name
    else:
        destination["server"] = args.dest_server or IN_CLUSTER_SERVER
    spec: dict[str, Any] = {"project": args.project, "source": source, "destination": destination}
    policy: dict[str, Any] = {}
    if args.sync_policy in ("automated", "auto", "automatic"):
        policy["automated"] = {"prune": args.auto_prune, "selfHeal": args.self_heal,
                               "allowEmpty": args.allow_empty}
    elif args.auto_prune or args.self_heal or args.allow_empty:
        raise CliError("--auto-prune, --self-heal and --allow-empty need --sync-policy automated", exit_code=2)
    if args.sync_option:
        policy["syncOptions"] = list(args.sync_option)
    if policy:
        spec["syncPolicy"] = policy
    body = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": args.name, "namespace": args.namespace}, "spec": spec}
    from rollouts.api.application import Application

    Application.model_validate(body)
    try:
        await client.create(APPLICATION, body, args.namespace)
        print(f"application '{args.name}' created")
    except AlreadyExists:
        if not args.upsert:
            raise CliError(f"application '{args.name}' already exists in namespace '{args.namespace}' "
                           "(use --upsert to replace its spec)") from None
        await client.patch(APPLICATION, args.name, [{"op": "replace", "path": "/spec", "value": spec}],
                           args.namespace, patch_type="json")
        print(f"application '{args.name}' updated")
    return 0


async def cmd_get(client: Any, args: argparse.Namespace) -> int:
    if args.refresh or args.hard_refresh:
        await _refreshed(client, args.name, args.namespace, hard=args.hard_refresh)
    app = await _get_app(client, args.name, args.namespace)
    if args.output in ("json", "yaml"):
        _print_obj(app, args.output)
        return 0
    spec, status = app.get("spec") or {}, _status(app)
    window = await _sync_window(client, app, str(spec.get("project", "default")), args.namespace)
    for label, value in _summary_lines(app, window):
        print(f"{label:<15}{value}")
    state = status.get("operationState")
    if state:
        print(f"\n{'Operation:':<15}Sync\n{'Sync Revision:':<15}"
              f"{_synced_revision(state.get('syncResult') or {})}\n{'Phase:':<15}{state.get('phase')}\n"
              f"{'Start:':<15}{state.get('startedAt', '')}\n{'Finished:':<15}{state.get('finishedAt', '')}\n"
              f"{'Message:':<15}{state.get('message', '')}")
    conditions = status.get("conditions") or []
    if conditions:
        print()
        _table(["CONDITION", "MESSAGE", "LAST TRANSITION"],
               [[c.get("type", ""), c.get("message", ""), c.get("lastTransitionTime", "")] for c in conditions])
    resources = status.get("resources") or []
    if resources and args.output == "tree":
        from rollouts.cli import app_tree

        print()
        _table(["KIND/NAME", "STATUS", "HEALTH", "MESSAGE"], app_tree.render(await app_tree.load(client, resources)))
    elif resources:
        print()
        _table(["GROUP", "KIND", "NAMESPACE", "NAME", "STATUS", "HEALTH", "MESSAGE"],
               [_resource_row(r) for r in resources])
    return 0


async def _refreshed(client: Any, name: str, namespace: str, *, hard: bool) -> None:
    """Request a refresh and wait (up to a minute) until the reconciler has taken the annotation away."""
    await request_refresh(client, name, namespace, hard=hard)
    end = time.monotonic() + 60
    while time.monotonic() < end:
        app = await _get_app(client, name, namespace)
        if "argocd.argoproj.io/refresh" not in (app["metadata"].get("annotations") or {}):
            return
        await asyncio.sleep(0.3)


def _summary_lines(app: dict[str, Any], window: str) -> list[tuple[str, str]]:
    """`app get`'s labelled lines, as argocd prints them: where it goes, where from, sync and health, the
    synced commit."""
    spec, status = app.get("spec") or {}, _status(app)
    source, dest = _primary_source(spec), spec.get("destination") or {}
    sync, health = status.get("sync") or {}, status.get("health") or {}
    revision = str(sync.get("revision") or "")
    return [
        ("Name:", f"{app['metadata'].get('namespace')}/{app['metadata']['name']}"),
        ("Project:", str(spec.get("project", "default"))),
        ("Server:", _destination_cluster(dest)),
        ("Namespace:", str(dest.get("namespace") or "")),
        *_source_lines(spec, sync),
        ("SyncWindow:", window),
        ("Sync Policy:", {"Auto-Prune": "Automated (Prune)", "Auto": "Automated"}.get(_sync_policy(spec), "Manual")),
        ("Sync Status:", f"{sync.get('status', 'Unknown')} to {source.get('targetRevision', 'HEAD')}"
                         # argocd: a short commit only for revisions longer than 7 (not a chart version)
                         + (f" ({revision[:7]})" if len(revision) > 7 else "")),
        ("Health Status:", str(health.get("status", "Unknown")) + (f" ({health['message']})"
                                                                   if health.get("message") else "")),
        *_commit_lines(sync.get("revisionMetadata") or {}),
    ]


def _destination_cluster(dest: dict[str, Any]) -> str:
    return str(dest.get("server") or dest.get("name") or "")


def _sync_policy(spec: dict[str, Any]) -> str:
    """argocd's SYNCPOLICY column: Auto-Prune, Auto or Manual."""
    automated = (spec.get("syncPolicy") or {}).get("automated")
    if automated is None:
        return "Manual"
    return "Auto-Prune" if automated.get("prune") else "Auto"


def _resource_row(resource: dict[str, Any]) -> list[str]:
    health = resource.get("health") or {}
    return [resource.get("group", ""), resource.get("kind", ""), resource.get("namespace", ""),
            resource.get("name", ""),
            resource.get("status", "") + (" (requires pruning)" if resource.get("requiresPruning") else ""),
            health.get("status", ""), health.get("message", "")]


async def _sync_window(client: Any, raw: dict[str, Any], project: str, namespace: str) -> str:
    """Argo CD's SyncWindow line: Sync Allowed, Manual Allowed (a deny that lets manual syncs through) or Sync
    Denied, from the project's windows now."""
    from datetime import UTC, datetime

    from pydantic import ValidationError

    from rollouts.api.application import Application
    from rollouts.api.appproject import AppProject
    from rollouts.gitops.windows import can_sync
    from rollouts.kube.errors import ApiError
    from rollouts.kube.resources import APPPROJECT

    try:
        windows = AppProject.model_validate(await client.get(APPPROJECT, project, namespace)).spec.sync_windows
        app = Application.model_validate(raw)
    except (ApiError, ValidationError):
        return "Sync Allowed"
    now = datetime.now(UTC)
    if can_sync(windows or (), app, manual=False, now=now).allowed:
        return "Sync Allowed"
    return "Manual Allowed" if can_sync(windows or (), app, manual=True, now=now).allowed else "Sync Denied"


def _commit_lines(meta: dict[str, Any]) -> list[tuple[str, str]]:
    """The synced commit as the walkthrough's screenshot shows it: author, date, tags, message."""
    if not meta:
        return []
    lines = [("Author:", str(meta.get("author") or "")), ("Date:", str(meta.get("date") or ""))]
    if meta.get("tags"):
        lines.append(("Tags:", ", ".join(meta["tags"])))
    message = str(meta.get("message") or "").splitlines() or [""]
    lines.append(("Message:", message[0]))
    lines += [("", line) for line in message[1:] if line.strip()][:9]
    return lines


def _summary_line(meta: dict[str, Any]) -> str:
    message = (str(meta.get("message") or "").splitlines() or [""])[0]
    return f"{message[:60]}" if meta else ""


async def cmd_list(client: Any, args: argparse.Namespace) -> int:
    from rollouts.kube.resources import APPLICATION

    apps, _ = await client.list(APPLICATION, args.namespace)
    if args.output in ("json", "yaml"):
        _print_obj(apps, args.output)
        return 0
    if args.output == "name":
        for app in apps:
            print(f"{app['metadata'].get('namespace')}/{app['metadata']['name']}")
        return 0
    _table(["NAME", "CLUSTER", "NAMESPACE", "PROJECT", "STATUS", "HEALTH", "SYNCPOLICY", "CONDITIONS", "REPO",
            "PATH", "TARGET", "AUTHOR", "MESSAGE"],
           [_list_row(app) for app in sorted(apps, key=lambda a: str(a["metadata"]["name"]))])
    return 0


def _list_row(app: dict[str, Any]) -> list[str]:
    spec, status = app.get("spec") or {}, _status(app)
    dest, source = spec.get("destination") or {}, _primary_source(spec)
    sync = status.get("sync") or {}
    commit = sync.get("revisionMetadata") or {}
    conditions = sorted({c.get("type", "") for c in status.get("conditions") or []})
    return [f"{app['metadata'].get('namespace')}/{app['metadata']['name']}", _destination_cluster(dest),
            str(dest.get("namespace") or ""), str(spec.get("project", "default")), str(sync.get("status", "Unknown")),
            str((status.get("health") or {}).get("status", "Unknown")), _sync_policy(spec),
            ",".join(conditions) or "<none>", str(source.get("repoURL", "")), str(source.get("path", "")),
            str(source.get("targetRevision", "HEAD")), str(commit.get("author") or ""), _summary_line(commit)]


def _parse_resource(text: str) -> dict[str, str]:
    parts = text.split(":")
    if len(parts) != 3 or not parts[1] or not parts[2]:
        raise CliError(f"--resource {text!r}: expected GROUP:KIND:NAME (GROUP empty for core kinds, e.g. "
                       "':ConfigMap:settings')", exit_code=2)
    return {"group": parts[0], "kind": parts[1], "name": parts[2]}


async def request_refresh(client: Any, name: str, namespace: str, *, hard: bool = False) -> None:
    """Ask the reconciler to compare with Git now (Argo CD's refresh annotation; "hard" also re-renders)."""
    from rollouts.kube.resources import APPLICATION

    await client.patch(APPLICATION, name, {"metadata": {"annotations": {
        "argocd.argoproj.io/refresh": "hard" if hard else "normal"}}}, namespace)


async def request_sync(client: Any, name: str, namespace: str, sync: dict[str, Any]) -> None:
    """Request a sync operation (`app sync` and the dashboard's Sync button), with the app's retry policy."""
    app = await _get_app(client, name, namespace)
    retry = ((app.get("spec") or {}).get("syncPolicy") or {}).get("retry")
    operation: dict[str, Any] = {"sync": sync, "initiatedBy": _initiator()}
    if retry:
        operation["retry"] = retry
    await _request_operation(client, name, namespace, operation)


async def cmd_sync(client: Any, args: argparse.Namespace) -> int:
    sync: dict[str, Any] = {"prune": bool(args.prune)}
    if args.revision:
        sync["revision"] = args.revision
    if args.dry_run:
        sync["dryRun"] = True
    if args.sync_option:
        sync["syncOptions"] = list(args.sync_option)
    if args.resource:
        sync["resources"] = [_parse_resource(r) for r in args.resource]
    await request_sync(client, args.name, args.namespace, sync)
    if args.no_wait:
        print(f"sync of application '{args.name}' requested")
        return 0
    return await _wait_operation(client, args.name, args.namespace, args.timeout)


@dataclass(frozen=True, slots=True)
class ResourceChange:
    """One resource `app diff` reports: its kind and key, what a sync would do (modify, create, prune) and the
    unified diff (live -> desired) as `app diff` prints it."""

    kind: str
    key: str
    change: str
    text: str


async def app_changes(client: Any, name: str, namespace: str, *, revision: str | None = None) -> list[ResourceChange]:
    """Render Git locally and compare with a server-side dry run, as the reconciler does: every resource a sync
    would modify, create or prune."""
    import shutil

    from pydantic import ValidationError

    from rollouts.api.application import Application
    from rollouts.gitops.compare import Comparer
    from rollouts.gitops.comparison import ComparisonError
    from rollouts.gitops.diff import to_yaml
    from rollouts.gitops.live import LiveState
    from rollouts.gitops.sources import Sources
    from rollouts.kube.errors import ApiError, NotFound

    raw = await _get_app(client, name, namespace)
    try:
        app = Application.model_validate(raw)
    except ValidationError as exc:
        raise CliError(f"application '{name}' is invalid: {exc.errors()[0]['msg']}") from None
    cluster, target = await _destination_client(client, app, namespace)
    cache = Path(tempfile.mkdtemp(prefix="kubectl-rollouts-diff-"))
    live = LiveState(target, lambda _name: None, namespaces=cluster.namespaces,
                     cluster_resources=cluster.cluster_resources)
    try:
        comparer = Comparer(target, Sources(cache), live, namespace=namespace, cluster=cluster, control=client)
        try:
            comparison = await comparer.compare_app(app, fetch=True, revision=revision, fresh=True)
        except ComparisonError as exc:
            raise CliError(str(exc), exit_code=2) from None
        changes = []
        for res in comparison.resources:
            if not res.diff.modified:
                continue
            if res.live is not None or res.diff.text:
                changes.append(ResourceChange(res.key.kind, str(res.key), "modify", res.diff.text))
            else:
                changes.append(ResourceChange(res.key.kind, str(res.key), "create",
                                              f"===== {res.key} (to be created) ======\n" + "".join(
                                                  f"+{line}\n" for line in to_yaml(res.desired).splitlines())))
        for item in (_status(raw).get("resources") or []):
            if not item.get("requiresPruning"):
                continue
            group, version = item.get("group", ""), item.get("version", "")
            try:
                kind = await target.resolve(f"{group}/{version}" if group else version, item["kind"])
                obj = await target.get(kind, item["name"], item.get("namespace"))
            except (NotFound, ApiError):
                continue
            key = f"{item['kind']}/{item.get('namespace', '')}/{item['name']}"
            changes.append(ResourceChange(str(item["kind"]), key, "prune", f"===== {key} (to be pruned) ======\n"
                                          + "".join(f"-{line}\n" for line in to_yaml(obj).splitlines())))
        return changes
    finally:
        await live.close()
        if target is not client:
            await target.close()
        shutil.rmtree(cache, ignore_errors=True)


async def cmd_diff(client: Any, args: argparse.Namespace) -> int:
    changes = await app_changes(client, args.name, args.namespace, revision=args.revision)
    for change in changes:
        if change.text:
            print(change.text, end="" if change.text.endswith("\n") else "\n")
    return 1 if changes else 0


async def _destination_client(client: Any, app: Any, namespace: str) -> tuple[Any, Any]:
    """(the application's destination cluster, a client on it) from the cluster Secrets, as the reconciler
    resolves it; the local cluster is the CLI's own connection."""
    from rollouts.gitops.clusters import CLUSTER_SECRET_SELECTOR, Clusters, kubeconfig, resolve_destination
    from rollouts.kube.client import KubeClient
    from rollouts.kube.errors import ApiError
    from rollouts.kube.resources import SECRET

    secrets, _ = await client.list(SECRET, namespace, label_selector=CLUSTER_SECRET_SELECTOR)
    cluster = resolve_destination(app.spec.destination, Clusters.from_secrets(secrets))
    if isinstance(cluster, str):
        raise CliError(cluster, exit_code=2)
    if cluster.is_local:
        return cluster, client
    try:
        return cluster, await KubeClient.from_config(kubeconfig(cluster), field_manager="kubectl-rollouts")
    except ApiError as exc:
        raise CliError(f"cannot connect to cluster {cluster.server}: {exc.message}", exit_code=2) from None


async def cmd_history(client: Any, args: argparse.Namespace) -> int:
    app = await _get_app(client, args.name, args.namespace)
    history = _status(app).get("history") or []
    if args.output:
        _print_obj(history, args.output)
        return 0
    if any(h.get("sources") for h in history):
        _history_by_source(history)
        return 0
    _table(["ID", "DATE", "REVISION", "AUTHOR", "COMMITTED", "TAGS", "MESSAGE"],
           [[str(h.get("id")), str(h.get("deployedAt", "")),
             f"{(h.get('source') or {}).get('targetRevision', '')} ({str(h.get('revision', ''))[:7]})",
             str((h.get("revisionMetadata") or {}).get("author") or ""),
             str((h.get("revisionMetadata") or {}).get("date") or ""),
             ",".join((h.get("revisionMetadata") or {}).get("tags") or []),
             _summary_line(h.get("revisionMetadata") or {})]
            for h in history])
    return 0


def _history_by_source(history: Sequence[dict[str, Any]]) -> None:
    """Argo CD's history of a multi-source application: one table per repository ("SOURCE <url>"), each
    row the target revision and, for a commit, its first 7 characters."""
    by_repo: dict[str, list[list[str]]] = {}
    for entry in history:
        pairs = list(zip(entry.get("sources") or [entry.get("source") or {}],
                         entry.get("revisions") or [entry.get("revision") or ""], strict=False))
        for source, revision in pairs:
            shown = str(source.get("targetRevision", ""))
            if len(revision) >= 7:
                shown += f" ({revision[:7]})"
            by_repo.setdefault(str(source.get("repoURL", "")), []).append(
                [str(entry.get("id")), str(entry.get("deployedAt", "")), shown])
    for index, (repo, rows) in enumerate(by_repo.items()):
        if index:
            print()
        print(f"SOURCE  {repo}")
        _table(["ID", "DATE", "REVISION"], rows)


async def request_rollback(client: Any, name: str, namespace: str, entry_id: int | None, *, prune: bool) -> str:
    """Ask for a sync back to a history entry (the one before the last without `entry_id`), as `argocd app
    rollback` does; returns the short revision(s) it goes back to."""
    app = await _get_app(client, name, namespace)
    spec = app.get("spec") or {}
    if (spec.get("syncPolicy") or {}).get("automated") is not None:
        raise CliError(f"rollback cannot be initiated when auto-sync is enabled on application '{name}': "
                       "disable it first (it would sync straight back to Git)")
    history = _status(app).get("history") or []
    if entry_id is None:
        if len(history) < 2:
            raise CliError(f"application '{name}' has no earlier history entry to roll back to")
        entry = history[-2]
    else:
        entry = next((h for h in history if h.get("id") == entry_id), None)
        if entry is None:
            ids = ", ".join(str(h.get("id")) for h in history) or "none"
            raise CliError(f"application '{name}' has no history entry {entry_id} (ids: {ids})")
    sync: dict[str, Any] = {"prune": prune}
    if entry.get("revisions"):  # multi-source: every source back to its revision of that sync
        sync.update({"revisions": entry["revisions"], "sources": entry.get("sources") or []})
        what = ", ".join(str(r)[:7] for r in entry["revisions"])
    else:
        sync["revision"] = entry["revision"]
        if entry.get("source"):
            sync["source"] = entry["source"]
        what = str(entry["revision"])[:7]
    await _request_operation(client, name, namespace, {"sync": sync, "initiatedBy": _initiator()})
    return what


async def cmd_rollback(client: Any, args: argparse.Namespace) -> int:
    what = await request_rollback(client, args.name, args.namespace, args.id, prune=bool(args.prune))
    if args.no_wait:
        print(f"rollback of application '{args.name}' to {what} requested")
        return 0
    return await _wait_operation(client, args.name, args.namespace, args.timeout)


async def cmd_delete(client: Any, args: argparse.Namespace) -> int:
    from rollouts.kube.errors import NotFound
    from rollouts.kube.resources import APPLICATION

    finalizer = "resources-finalizer.argocd.argoproj.io"
    app = await _get_app(client, args.name, args.namespace)
    finalizers = list(app["metadata"].get("finalizers") or [])
    wanted = [f for f in finalizers if f != finalizer] + ([finalizer] if args.cascade == "true" else [])
    if wanted != finalizers:
        await client.patch(APPLICATION, args.name, [
            {"op": "test", "path": "/metadata/resourceVersion", "value": app["metadata"]["resourceVersion"]},
            {"op": "add", "path": "/metadata/finalizers", "value": wanted}], args.namespace, patch_type="json")
    try:
        await client.delete(APPLICATION, args.name, args.namespace)
    except NotFound:
        pass
    print(f"application '{args.name}' deleted" + (" (its resources are being deleted)" if args.cascade == "true"
                                                   else ""))
    return 0
