"""`kubectl rollouts proj ...`: AppProjects with ``argocd proj``'s verbs, arguments and flag names.

Why this module exists: platform teams script ``argocd proj create kuard --dest SERVER,NAMESPACE --src URL
--allow-cluster-resource '*/*'``; the same lines work here, writing the AppProject object in the
applications' namespace (``-n``, default the context's). Messages of the list edits are argocd's ("Group
'apps' and kind 'Deployment' is added to allowed namespaced resources"); ``windows add|list|update|delete|
enable-manual-sync|disable-manual-sync|enable-sync-overrun|disable-sync-overrun`` edit
``syncWindows`` with argocd's flags and validation.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

import yaml

from rollouts.cli.argocd_group import Handler, run_group, run_with_client, subcommand, table
from rollouts.cli.errors import CliError

EXAMPLES = """\
  kubectl rollouts proj create kuard --dest https://kubernetes.default.svc,kuard \\
      --src https://git.example.com/kuard.git --allow-cluster-resource '*/*'
  kubectl rollouts proj add-destination kuard https://kubernetes.default.svc 'kuard-*'
  kubectl rollouts proj allow-namespace-resource kuard apps Deployment
  kubectl rollouts proj get kuard
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``proj`` command group on the plugin's subparsers."""
    proj: argparse.ArgumentParser = subparsers.add_parser(
        "proj", help="Manage AppProjects (Argo CD's projects)",
        description="Manage AppProjects (argoproj.io/v1alpha1).",
        epilog=f"Examples:\n{EXAMPLES}", formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = proj.add_subparsers(dest="proj_command", metavar="COMMAND", required=True)

    create = subcommand(sub, "create", "Create a project")
    create.add_argument("project", metavar="PROJECT")
    create.add_argument("--description", default="", help="project description")
    create.add_argument("-d", "--dest", action="append", default=[], metavar="SERVER,NAMESPACE",
                        help="permitted destination server and namespace (e.g. https://kubernetes.default.svc,kuard)")
    create.add_argument("-s", "--src", action="append", default=[], metavar="URL",
                        help="permitted source repository URL")
    create.add_argument("--allow-cluster-resource", action="append", default=[], metavar="[GROUP/]KIND[/NAME]",
                        help="allowed cluster-scoped resources (e.g. ClusterRole, /Namespace/team1-*, '*/*')")
    create.add_argument("--deny-cluster-resource", action="append", default=[], metavar="[GROUP/]KIND[/NAME]")
    create.add_argument("--allow-namespaced-resource", action="append", default=[], metavar="[GROUP/]KIND")
    create.add_argument("--deny-namespaced-resource", action="append", default=[], metavar="[GROUP/]KIND")
    create.add_argument("--source-namespaces", type=lambda v: [x for x in v.split(",") if x], default=[],
                        help="comma-separated source namespaces for applications")
    create.add_argument("--orphaned-resources", action="store_true", help="enable orphaned resources monitoring")
    create.add_argument("--orphaned-resources-warn", action="store_true", default=None,
                        help="warn with a condition when orphaned resources are detected")
    create.add_argument("--dest-service-accounts", action="append", default=[],
                        metavar="SERVER,NAMESPACE,SERVICE_ACCOUNT")
    create.add_argument("--upsert", action="store_true", help="replace the spec if the project exists")

    get = subcommand(sub, "get", "Show a project")
    get.add_argument("project", metavar="PROJECT")
    get.add_argument("-o", "--output", choices=["json", "yaml", "wide"], default="wide")
    lst = subcommand(sub, "list", "List projects")
    lst.add_argument("-o", "--output", choices=["json", "yaml", "wide", "name"], default="wide")
    delete = subcommand(sub, "delete", "Delete a project")
    delete.add_argument("project", metavar="PROJECT")
    delete.add_argument("-y", "--yes", action="store_true", help="accepted for Argo CD compatibility")

    for verb, text in (("add-source", "Add a source repository"), ("remove-source", "Remove a source repository")):
        cmd = subcommand(sub, verb, text)
        cmd.add_argument("project", metavar="PROJECT")
        cmd.add_argument("url", metavar="URL")
    add_dest = subcommand(sub, "add-destination", "Add a permitted destination")
    add_dest.add_argument("project", metavar="PROJECT")
    add_dest.add_argument("server", metavar="SERVER/NAME")
    add_dest.add_argument("dest_namespace", metavar="NAMESPACE")
    add_dest.add_argument("--name", dest="use_name", action="store_true", help="SERVER is a cluster name")
    rm_dest = subcommand(sub, "remove-destination", "Remove a permitted destination")
    rm_dest.add_argument("project", metavar="PROJECT")
    rm_dest.add_argument("server", metavar="SERVER")
    rm_dest.add_argument("dest_namespace", metavar="NAMESPACE")
    for verb, text in (("add-destination-service-account", "Add project destination's default service account"),
                       ("remove-destination-service-account",
                        "Remove default destination service account from the project")):
        dsa = subcommand(sub, verb, text)
        for dest, metavar in (("project", "PROJECT"), ("server", "SERVER"), ("dest_namespace", "NAMESPACE"),
                              ("service_account", "SERVICE_ACCOUNT")):
            dsa.add_argument(dest, metavar=metavar)
        if verb.startswith("add"):
            dsa.add_argument("--service-account-namespace", default="",
                             help="namespace where the service account is present")

    for verb, text, default in (
            ("allow-cluster-resource", "Add a cluster-scoped kind to the allow list (or remove it from the deny list)",
             "allow"),
            ("deny-cluster-resource", "Remove a cluster-scoped kind from the allow list (or add it to the deny list)",
             "allow"),
            ("allow-namespace-resource", "Remove a namespaced kind from the deny list (or add it to the allow list)",
             "deny"),
            ("deny-namespace-resource", "Add a namespaced kind to the deny list (or remove it from the allow list)",
             "deny")):
        cmd = subcommand(sub, verb, text)
        cmd.add_argument("project", metavar="PROJECT")
        cmd.add_argument("group", metavar="GROUP")
        cmd.add_argument("kind", metavar="KIND")
        if "cluster" in verb:
            cmd.add_argument("resource_name", metavar="NAME", nargs="?", default="")
        cmd.add_argument("-l", "--list", dest="list_type", choices=["allow", "white", "deny", "black"],
                         default=default, help=f"edit the deny or the allow list (default {default})")
    _add_windows(sub)
    return proj


def _add_windows(sub: Any) -> None:
    windows = subcommand(sub, "windows", "Manage a project's sync windows")
    wsub = windows.add_subparsers(dest="windows_command", metavar="COMMAND", required=True)
    add = subcommand(wsub, "add", "Add a sync window")
    add.add_argument("project", metavar="PROJECT")
    add.add_argument("-k", "--kind", default="", help="allow or deny")
    add.add_argument("--schedule", default="", help='cron schedule, e.g. "0 22 * * *"')
    add.add_argument("--duration", default="", help="e.g. 1h")
    for name in ("applications", "namespaces", "clusters"):
        add.add_argument(f"--{name}", type=lambda v: [x for x in v.split(",") if x], default=[],
                         help=f"{name} the window applies to, comma separated, wildcards supported")
    add.add_argument("--manual-sync", action="store_true", help="allow manual syncs for both deny and allow windows")
    add.add_argument("--sync-overrun", action="store_true",
                     help="allow syncs to continue: for deny windows, syncs that started before the window; for "
                          "allow windows, syncs that started during the window")
    add.add_argument("--time-zone", default="UTC", help="time zone of the schedule")
    add.add_argument("--use-and-operator", action="store_true",
                     help="match applications AND namespaces AND clusters instead of OR")
    add.add_argument("--description", default="")
    lst = subcommand(wsub, "list", "List a project's sync windows")
    lst.add_argument("project", metavar="PROJECT")
    lst.add_argument("-o", "--output", choices=["wide", "json", "yaml"], default="wide")
    for verb, text in (("delete", "Delete a sync window from a project (ID from `proj windows list`)"),
                       ("update", "Update a project sync window (ID from `proj windows list`)"),
                       ("enable-manual-sync", "Enable manual sync for a sync window"),
                       ("disable-manual-sync", "Disable manual sync for a sync window"),
                       ("enable-sync-overrun", "Enable sync overrun for a sync window"),
                       ("disable-sync-overrun", "Disable sync overrun for a sync window")):
        cmd = subcommand(wsub, verb, text)
        cmd.add_argument("project", metavar="PROJECT")
        cmd.add_argument("id", metavar="ID", type=int)
        if verb == "update":
            cmd.add_argument("--schedule", default="", help='cron schedule, e.g. "0 22 * * *"')
            cmd.add_argument("--duration", default="", help="e.g. 1h")
            for name in ("applications", "namespaces", "clusters"):
                cmd.add_argument(f"--{name}", type=lambda v: [x for x in v.split(",") if x], default=[],
                                 help=f"{name} the window applies to, comma separated, wildcards supported")
            cmd.add_argument("--time-zone", default="UTC", help="time zone of the schedule")
            cmd.add_argument("--description", default="")


def run(args: argparse.Namespace) -> int:
    return run_group(args, HANDLERS, args.proj_command)


async def main(argv: Sequence[str], *, client: Any) -> int:
    """Run a ``proj`` command with an existing client (tests, embedding)."""
    root = argparse.ArgumentParser(prog="kubectl rollouts")
    add_parser(root.add_subparsers(dest="command"))
    args = root.parse_args(["proj", *argv])
    return await run_with_client(args, HANDLERS, args.proj_command, client)


# -- parsing argocd's shorthand ---------------------------------------------------------------------------------


def group_kinds(values: Sequence[str]) -> list[dict[str, str]]:
    """``apps/Deployment`` -> {group: apps, kind: Deployment}; ``ConfigMap`` -> core group (argocd's rule)."""
    out = []
    for value in values:
        parts = value.split("/")
        if len(parts) == 2:
            out.append({"group": parts[0], "kind": parts[1]})
        elif len(parts) == 1:
            out.append({"group": "", "kind": parts[0]})
        else:
            raise CliError(f"resource {value!r}: expected [GROUP/]KIND", exit_code=2)
    return out


def cluster_items(values: Sequence[str]) -> list[dict[str, str]]:
    """``/Namespace/team1-*`` -> {group: "", kind: Namespace, name: team1-*}; else as ``group_kinds``."""
    out = []
    for value in values:
        parts = value.split("/")
        if len(parts) == 3:
            out.append({"group": parts[0], "kind": parts[1], **({"name": parts[2]} if parts[2] else {})})
        else:
            out.extend(group_kinds([value]))
    return out


def destinations(values: Sequence[str]) -> list[dict[str, str]]:
    out = []
    for value in values:
        parts = value.split(",")
        if len(parts) != 2:
            raise CliError(f"expected destination of the form: server,namespace. Received: {value}", exit_code=2)
        out.append({"server": parts[0], "namespace": parts[1]})
    return out


def service_accounts(values: Sequence[str]) -> list[dict[str, str]]:
    out = []
    for value in values:
        parts = value.split(",")
        if len(parts) != 3:
            raise CliError("expected destination service account of the form: server,namespace,"
                           f"defaultServiceAccount. Received: {value}", exit_code=2)
        out.append({"server": parts[0], "namespace": parts[1], "defaultServiceAccount": parts[2]})
    return out


def spec_from_flags(args: argparse.Namespace) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    fields: list[tuple[str, Any]] = [
        ("description", args.description), ("sourceRepos", list(args.src)), ("destinations", destinations(args.dest)),
        ("clusterResourceWhitelist", cluster_items(args.allow_cluster_resource)),
        ("clusterResourceBlacklist", cluster_items(args.deny_cluster_resource)),
        ("namespaceResourceWhitelist", group_kinds(args.allow_namespaced_resource)),
        ("namespaceResourceBlacklist", group_kinds(args.deny_namespaced_resource)),
        ("sourceNamespaces", list(args.source_namespaces)),
        ("destinationServiceAccounts", service_accounts(args.dest_service_accounts)),
    ]
    spec.update({key: value for key, value in fields if value})
    if args.orphaned_resources or args.orphaned_resources_warn is not None:
        spec["orphanedResources"] = {"warn": True} if args.orphaned_resources_warn else {}
    return spec


# -- commands ---------------------------------------------------------------------------------------------------


async def _get(client: Any, name: str, namespace: str) -> dict[str, Any]:
    from rollouts.kube.errors import NotFound
    from rollouts.kube.resources import APPPROJECT

    try:
        project: dict[str, Any] = await client.get(APPPROJECT, name, namespace)
    except NotFound:
        raise CliError(f"project '{name}' not found in namespace '{namespace}'") from None
    return project


async def _save(client: Any, project: dict[str, Any], namespace: str) -> None:
    """Write the edited spec, guarded by the resourceVersion read (a concurrent edit is never lost)."""
    from rollouts.api.appproject import AppProject
    from rollouts.kube.errors import Conflict
    from rollouts.kube.resources import APPPROJECT

    AppProject.model_validate(project)
    try:
        await client.patch(APPPROJECT, project["metadata"]["name"], [
            {"op": "test", "path": "/metadata/resourceVersion", "value": project["metadata"]["resourceVersion"]},
            {"op": "add", "path": "/spec", "value": project.get("spec") or {}}], namespace, patch_type="json")
    except Conflict:
        raise CliError(f"project '{project['metadata']['name']}' changed meanwhile: run the command again") from None


async def cmd_create(client: Any, args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from rollouts.api.appproject import AppProject
    from rollouts.kube.errors import AlreadyExists
    from rollouts.kube.resources import APPPROJECT

    body = {"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject",
            "metadata": {"name": args.project, "namespace": args.namespace}, "spec": spec_from_flags(args)}
    try:
        AppProject.model_validate(body)
    except ValidationError as exc:
        raise CliError(f"project '{args.project}' is invalid: {exc.errors()[0]['msg']}", exit_code=2) from None
    try:
        await client.create(APPPROJECT, body, args.namespace)
    except AlreadyExists:
        existing = await _get(client, args.project, args.namespace)
        if existing.get("spec") != body["spec"] and not args.upsert:
            raise CliError(f"existing project spec is different, use upsert flag to force update "
                           f"(project '{args.project}')") from None
        existing["spec"] = body["spec"]
        await _save(client, existing, args.namespace)
    print(f"project '{args.project}' created")
    return 0


def _listed(items: Sequence[Any], render: Any, empty: str = "<none>") -> list[str]:
    return [render(item) for item in items] or [empty]


def _print_project(project: dict[str, Any]) -> None:
    """argocd proj get's layout: a 29-column label, one value per line."""
    spec = project.get("spec") or {}

    def field(name: str) -> list[Any]:
        return list(spec.get(name) or [])

    rows: list[tuple[str, list[str]]] = [
        ("Name:", [project["metadata"]["name"]]),
        ("Description:", [spec.get("description") or ""]),
        ("Destinations:", _listed(field("destinations"),
                                  lambda d: f"{d.get('server') or d.get('name') or ''},{d.get('namespace') or ''}")),
        ("Repositories:", _listed(field("sourceRepos"), str)),
        ("Source Namespaces:", _listed(field("sourceNamespaces"), str)),
        ("Allowed Cluster Resources:", _listed(field("clusterResourceWhitelist"), _gk)),
        ("Denied Cluster Resources:", _listed(field("clusterResourceBlacklist"), _gk)),
        ("Allowed Namespaced Resources:", _listed(field("namespaceResourceWhitelist"), _gk,
                                                  "<none>" if "namespaceResourceWhitelist" in spec else "<all>")),
        ("Denied Namespaced Resources:", _listed(field("namespaceResourceBlacklist"), _gk)),
        ("Sync Windows:", _listed(field("syncWindows"),
                                  lambda w: f"{w.get('kind')} {w.get('schedule')} {w.get('duration')}")),
    ]
    for label, values in rows:
        for index, value in enumerate(values):
            print(f"{label if index == 0 else '':<29}{value}")


def _gk(item: dict[str, Any]) -> str:
    text = f"{item.get('group') or ''}/{item.get('kind') or ''}"
    return f"{text}/{item['name']}" if item.get("name") else text


async def cmd_get(client: Any, args: argparse.Namespace) -> int:
    project = await _get(client, args.project, args.namespace)
    if args.output == "json":
        print(json.dumps(project, indent=2))
    elif args.output == "yaml":
        print(yaml.safe_dump(project, sort_keys=False), end="")
    else:
        _print_project(project)
    return 0


async def cmd_list(client: Any, args: argparse.Namespace) -> int:
    from rollouts.kube.resources import APPPROJECT

    items, _ = await client.list(APPPROJECT, args.namespace)
    items = sorted(items, key=lambda p: p["metadata"]["name"])
    if args.output in ("json", "yaml"):
        text = json.dumps(items, indent=2) if args.output == "json" else yaml.safe_dump(items, sort_keys=False)
        print(text, end="" if args.output == "yaml" else "\n")
        return 0
    if args.output == "name":
        for item in items:
            print(item["metadata"]["name"])
        return 0
    rows = []
    for item in items:
        spec = item.get("spec") or {}
        dests = spec.get("destinations") or []
        rows.append([item["metadata"]["name"], spec.get("description") or "",
                     _count(dests, lambda d: f"{d.get('server') or d.get('name')},{d.get('namespace')}"),
                     _count(spec.get("sourceRepos") or [], str),
                     _count(spec.get("clusterResourceWhitelist") or [], _gk),
                     _count(spec.get("namespaceResourceBlacklist") or [], _gk),
                     "disabled" if not spec.get("orphanedResources") else
                     f"enabled (warn={bool((spec.get('orphanedResources') or {}).get('warn', True))})"])
    table(["NAME", "DESCRIPTION", "DESTINATIONS", "SOURCES", "CLUSTER-RESOURCE-WHITELIST",
           "NAMESPACE-RESOURCE-BLACKLIST", "ORPHANED-RESOURCES"], rows)
    return 0


def _count(values: Sequence[Any], render: Any) -> str:
    """argocd's list cell: the only entry, or "N destinations" / "<none>"."""
    if not values:
        return "<none>"
    return str(render(values[0])) if len(values) == 1 else f"{len(values)} items"


async def cmd_delete(client: Any, args: argparse.Namespace) -> int:
    from rollouts.kube.errors import NotFound
    from rollouts.kube.resources import APPLICATION, APPPROJECT

    apps, _ = await client.list(APPLICATION, args.namespace)
    users = sorted(a["metadata"]["name"] for a in apps if (a.get("spec") or {}).get("project") == args.project)
    if users:
        raise CliError(f"project '{args.project}' is referenced by {len(users)} application(s) "
                       f"({', '.join(users[:5])}); delete or move them first")
    try:
        await client.delete(APPPROJECT, args.project, args.namespace)
    except NotFound:
        raise CliError(f"project '{args.project}' not found in namespace '{args.namespace}'") from None
    print(f"project '{args.project}' deleted")
    return 0


async def cmd_add_source(client: Any, args: argparse.Namespace) -> int:
    from rollouts.gitops.source import normalize_repo_url

    project = await _get(client, args.project, args.namespace)
    repos: list[str] = project.setdefault("spec", {}).setdefault("sourceRepos", [])
    for item in repos:
        if item == "*":
            print("Source repository '*' already allowed in project")
            return 0
        if normalize_repo_url(item) == normalize_repo_url(args.url):
            print(f"Source repository '{item}' already allowed in project")
            return 0
    repos.append(args.url)
    await _save(client, project, args.namespace)
    return 0


async def cmd_remove_source(client: Any, args: argparse.Namespace) -> int:
    project = await _get(client, args.project, args.namespace)
    repos: list[str] = (project.get("spec") or {}).get("sourceRepos") or []
    if args.url not in repos:
        print(f"Source repository '{args.url}' does not exist in project")
        return 0
    repos.remove(args.url)
    await _save(client, project, args.namespace)
    return 0


async def cmd_add_destination(client: Any, args: argparse.Namespace) -> int:
    project = await _get(client, args.project, args.namespace)
    dests: list[dict[str, Any]] = project.setdefault("spec", {}).setdefault("destinations", [])
    key = "name" if args.use_name else "server"
    for dest in dests:
        if dest.get(key) == args.server and dest.get("namespace") == args.dest_namespace:
            raise CliError("Specified destination is already defined in project")
    dests.append({key: args.server, "namespace": args.dest_namespace})
    await _save(client, project, args.namespace)
    return 0


async def cmd_remove_destination(client: Any, args: argparse.Namespace) -> int:
    project = await _get(client, args.project, args.namespace)
    dests: list[dict[str, Any]] = (project.get("spec") or {}).get("destinations") or []
    index = next((i for i, d in enumerate(dests) if args.server in (d.get("server"), d.get("name"))
                  and d.get("namespace") == args.dest_namespace), None)
    if index is None:
        raise CliError("Specified destination does not exist in project")
    dests.pop(index)
    await _save(client, project, args.namespace)
    return 0


def _edit_list(items: list[dict[str, Any]], entry: dict[str, str], *, add: bool, what: str) -> str | None:
    """argocd's list edit and its message; None when nothing changed (the message is printed anyway)."""
    same = next((i for i, item in enumerate(items) if all((item.get(k) or "") == v for k, v in entry.items())), None)
    if add and same is None:
        items.append({k: v for k, v in entry.items() if v or k != "name"})
        return f"is added to {what}"
    if not add and same is not None:
        items.pop(same)
        return f"is removed from {what}"
    return None


async def _modify_resources(client: Any, args: argparse.Namespace, *, allow: bool, namespaced: bool) -> int:
    project = await _get(client, args.project, args.namespace)
    spec = project.setdefault("spec", {})
    allow_list = args.list_type in ("allow", "white")
    add = allow if allow_list else not allow
    action = "allowed" if allow_list else "denied"
    if namespaced:
        field = "namespaceResourceWhitelist" if allow_list else "namespaceResourceBlacklist"
        entry = {"group": args.group, "kind": args.kind}
        subject = f"Group '{args.group}' and kind '{args.kind}'"
        what = f"{action} namespaced resources"
    else:
        field = "clusterResourceWhitelist" if allow_list else "clusterResourceBlacklist"
        entry = {"group": args.group, "kind": args.kind, "name": args.resource_name}
        subject = f"Group '{args.group}', kind '{args.kind}', and name '{args.resource_name}'"
        what = f"{action} cluster resources"
    items: list[dict[str, Any]] = spec.setdefault(field, [])
    changed = _edit_list(items, entry, add=add, what=what)
    if changed is None:
        present = "is already present in" if not namespaced else "already present in"
        print(f"{subject} {present if add else 'not in'} {what}")
        return 0
    print(f"{subject} {changed}")
    await _save(client, project, args.namespace)
    return 0


async def cmd_allow_cluster(client: Any, args: argparse.Namespace) -> int:
    return await _modify_resources(client, args, allow=True, namespaced=False)


async def cmd_deny_cluster(client: Any, args: argparse.Namespace) -> int:
    return await _modify_resources(client, args, allow=False, namespaced=False)


async def cmd_allow_namespaced(client: Any, args: argparse.Namespace) -> int:
    return await _modify_resources(client, args, allow=True, namespaced=True)


async def cmd_deny_namespaced(client: Any, args: argparse.Namespace) -> int:
    return await _modify_resources(client, args, allow=False, namespaced=True)


def _window_problem(window: dict[str, Any]) -> str | None:
    """Argo CD's AddWindow/Validate checks, with its messages."""
    from rollouts.api.appproject import SyncWindow
    from rollouts.api.common import duration_nanoseconds
    from rollouts.gitops.windows import parse_schedule

    if not (window["kind"] and window["schedule"] and window["duration"]):
        return ("cannot create window: require kind, schedule, duration and one or more of applications, "
                "namespaces and clusters")
    if window["kind"] not in ("allow", "deny"):
        return f"kind '{window['kind']}' mismatch: can only be allow or deny"
    for check, field in ((parse_schedule, "schedule"), (duration_nanoseconds, "duration")):
        try:
            check(window[field])
        except ValueError as exc:
            return f"cannot parse {field} '{window[field]}': {exc}"
    if len(window.get("description") or "") > 255:
        return "description must not exceed 255 characters"
    SyncWindow.model_validate(window)
    return None


def _edit_window(windows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    """``windows delete|update|enable-manual-sync|disable-manual-sync PROJECT ID``, as argocd's (its messages)."""
    if not 0 <= args.id < len(windows):
        raise CliError(f"window with id '{args.id}' not found")
    if args.windows_command == "delete":
        del windows[args.id]
        return
    window = windows[args.id]
    if args.windows_command != "update":
        field = "manualSync" if args.windows_command.endswith("manual-sync") else "syncOverrun"
        window[field] = args.windows_command.startswith("enable-")
        return
    changes = {"schedule": args.schedule, "duration": args.duration, "applications": args.applications,
               "namespaces": args.namespaces, "clusters": args.clusters, "description": args.description}
    if not any(changes.values()):
        raise CliError("cannot update: require one or more of schedule, duration, application, namespace, cluster "
                       "or description")
    window.update({k: v for k, v in changes.items() if v})
    window["timeZone"] = args.time_zone or "UTC"
    problem = _window_problem(window)
    if problem:
        raise CliError(problem, exit_code=2)


async def cmd_windows(client: Any, args: argparse.Namespace) -> int:
    project = await _get(client, args.project, args.namespace)
    spec = project.setdefault("spec", {})
    if args.windows_command == "list":
        return _print_windows(spec.get("syncWindows") or [], args.output)
    if args.windows_command != "add":
        _edit_window(spec.setdefault("syncWindows", []), args)
        await _save(client, project, args.namespace)
        return 0
    window: dict[str, Any] = {"kind": args.kind, "schedule": args.schedule, "duration": args.duration}
    window.update({k: v for k, v in (("applications", args.applications), ("namespaces", args.namespaces),
                                     ("clusters", args.clusters)) if v})
    window.update({"manualSync": args.manual_sync, "timeZone": args.time_zone or "UTC",
                   "andOperator": args.use_and_operator})
    if args.sync_overrun:
        window["syncOverrun"] = True
    if args.description:
        window["description"] = args.description
    problem = _window_problem(window)
    if problem:
        raise CliError(problem, exit_code=2)
    spec.setdefault("syncWindows", []).append(window)
    await _save(client, project, args.namespace)
    return 0


def _print_windows(windows: list[dict[str, Any]], output: str) -> int:
    from datetime import UTC, datetime

    from rollouts.api.appproject import SyncWindow
    from rollouts.gitops.windows import is_active

    if output in ("json", "yaml"):
        print(json.dumps(windows, indent=2) if output == "json" else yaml.safe_dump(windows, sort_keys=False), end=""
              if output == "yaml" else "\n")
        return 0
    rows = []
    for index, raw in enumerate(windows):
        try:
            active = is_active(SyncWindow.model_validate(raw), datetime.now(UTC))
        except ValueError:
            active = False
        rows.append([str(index), "Active" if active else "Inactive", str(raw.get("kind", "")),
                     str(raw.get("schedule", "")), str(raw.get("duration", "")),
                     *(",".join(raw.get(k) or []) or "-" for k in ("applications", "namespaces", "clusters")),
                     *("Enabled" if raw.get(k) else "Disabled" for k in ("manualSync", "syncOverrun")),
                     str(raw.get("timeZone") or "UTC"), "Enabled" if raw.get("andOperator") else "Disabled"])
    table(["ID", "STATUS", "KIND", "SCHEDULE", "DURATION", "APPLICATIONS", "NAMESPACES", "CLUSTERS", "MANUALSYNC",
           "SYNCOVERRUN", "TIMEZONE", "USEANDOPERATOR"], rows)
    return 0


async def cmd_add_destination_service_account(client: Any, args: argparse.Namespace) -> int:
    """argocd's checks: no wildcards in the account or its namespace, no duplicate entry."""
    if "*" in args.service_account_namespace:
        raise CliError("service-account-namespace for DestinationServiceAccount must not contain wildcards")
    if "*" in args.service_account:
        raise CliError("ServiceAccount for DestinationServiceAccount must not contain wildcards")
    account = (f"{args.service_account_namespace}:{args.service_account}" if args.service_account_namespace
               else args.service_account)
    project = await _get(client, args.project, args.namespace)
    entries: list[dict[str, Any]] = project.setdefault("spec", {}).setdefault("destinationServiceAccounts", [])
    for entry in entries:
        if (entry.get("namespace", "") == args.dest_namespace and args.server and entry.get("server") == args.server
                and entry.get("defaultServiceAccount") == account):
            raise CliError("Specified destination service account is already defined in project")
    entries.append({"server": args.server, "namespace": args.dest_namespace, "defaultServiceAccount": account})
    await _save(client, project, args.namespace)
    return 0


async def cmd_remove_destination_service_account(client: Any, args: argparse.Namespace) -> int:
    project = await _get(client, args.project, args.namespace)
    entries: list[dict[str, Any]] = (project.get("spec") or {}).get("destinationServiceAccounts") or []
    kept = [e for e in entries if not (e.get("namespace", "") == args.dest_namespace and e.get("server") == args.server
                                       and e.get("defaultServiceAccount") == args.service_account)]
    if len(kept) == len(entries):
        raise CliError("Specified destination service account does not exist in project")
    project["spec"]["destinationServiceAccounts"] = kept
    await _save(client, project, args.namespace)
    return 0


HANDLERS: dict[str, Handler] = {
    "create": cmd_create, "get": cmd_get, "list": cmd_list, "delete": cmd_delete, "add-source": cmd_add_source,
    "remove-source": cmd_remove_source, "add-destination": cmd_add_destination,
    "remove-destination": cmd_remove_destination, "allow-cluster-resource": cmd_allow_cluster,
    "deny-cluster-resource": cmd_deny_cluster, "allow-namespace-resource": cmd_allow_namespaced,
    "deny-namespace-resource": cmd_deny_namespaced, "windows": cmd_windows,
    "add-destination-service-account": cmd_add_destination_service_account,
    "remove-destination-service-account": cmd_remove_destination_service_account,
}
