"""`kubectl rollouts notifications ...`: preview and test notifications, as Argo's plugin does.

    kubectl rollouts notifications template get [NAME] [-o wide|name|json|yaml]
    kubectl rollouts notifications template notify TEMPLATE ROLLOUT [--recipient SERVICE:RECIPIENT ...]
    kubectl rollouts notifications trigger get [NAME] [-o wide|name|json|yaml]
    kubectl rollouts notifications trigger run TRIGGER ROLLOUT

Configuration comes from ``argo-rollouts-notification-configmap`` and ``argo-rollouts-notification-secret``
in the namespace (``-n``), or from files (``--config-map FILE``, ``--secret FILE``; ``--secret :empty`` for
none). ROLLOUT is a Rollout's name, or a YAML/JSON file holding one. ``notify`` prints the rendered
notification (recipient ``console:stdout``, the default) or sends it through the configured service.
Errors are one line on stderr, and configuration problems are listed before the output.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from rollouts.cli.errors import CliError

EXAMPLES = """\
  kubectl rollouts notifications template get
  kubectl rollouts notifications template get rollout-aborted -o yaml
  kubectl rollouts notifications template notify rollout-aborted checkout
  kubectl rollouts notifications template notify rollout-aborted checkout --recipient slack:deploys
  kubectl rollouts notifications trigger get
  kubectl rollouts notifications trigger run on-rollout-aborted ./rollout.yaml --config-map ./cm.yaml
"""
CONFIGMAP, SECRET = "argo-rollouts-notification-configmap", "argo-rollouts-notification-secret"


def _common(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("common flags")
    group.add_argument("-n", "--namespace", default=argparse.SUPPRESS, help="namespace (default: the context's)")
    group.add_argument("--kubeconfig", default=argparse.SUPPRESS, help="path to the kubeconfig file")
    group.add_argument("--context", default=argparse.SUPPRESS, help="kubeconfig context to use")
    group.add_argument("--config-map", default=argparse.SUPPRESS, metavar="FILE",
                       help=f"read the {CONFIGMAP} ConfigMap from this file instead of the cluster")
    group.add_argument("--secret", default=argparse.SUPPRESS, metavar="FILE",
                       help=f"read the {SECRET} Secret from this file (':empty' for none)")


def _sub(sub: Any, name: str, text: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(name, help=text, description=text)
    _common(parser)
    return parser


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``notifications`` command group on the plugin's subparsers."""
    root: argparse.ArgumentParser = subparsers.add_parser(
        "notifications", help="Preview and test notifications (templates and triggers)",
        description="Preview notification templates and evaluate triggers against a Rollout.",
        epilog=f"Examples:\n{EXAMPLES}", formatter_class=argparse.RawDescriptionHelpFormatter)
    _common(root)
    groups = root.add_subparsers(dest="notifications_group", metavar="GROUP", required=True)
    template = _sub(groups, "template", "Notification templates related commands")
    tsub = template.add_subparsers(dest="notifications_command", metavar="COMMAND", required=True)
    tget = _sub(tsub, "get", "Prints information about configured templates")
    tget.add_argument("name", nargs="?", metavar="NAME")
    tget.add_argument("-o", "--output", default="wide", choices=["wide", "name", "json", "yaml"])
    notify = _sub(tsub, "notify", "Generates notification using the specified template and send it to specified "
                  "recipients")
    notify.add_argument("name", metavar="NAME")
    notify.add_argument("resource", metavar="RESOURCE_NAME")
    notify.add_argument("--recipient", action="append", default=None, metavar="SERVICE:RECIPIENT",
                        help="List of recipients (default console:stdout)")
    trigger = _sub(groups, "trigger", "Notification triggers related commands")
    gsub = trigger.add_subparsers(dest="notifications_command", metavar="COMMAND", required=True)
    gget = _sub(gsub, "get", "Prints information about configured triggers")
    gget.add_argument("name", nargs="?", metavar="NAME")
    gget.add_argument("-o", "--output", default="wide", choices=["wide", "name", "json", "yaml"])
    run_ = _sub(gsub, "run", "Evaluates specified trigger condition and prints the result")
    run_.add_argument("name", metavar="NAME")
    run_.add_argument("resource", metavar="RESOURCE_NAME")
    return root


# -- loading ------------------------------------------------------------------------------------------


def _from_file(path: str, kind: str, name: str) -> dict[str, Any]:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
        docs = [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]
    except (OSError, yaml.YAMLError) as exc:
        raise CliError(f"cannot read {path}: {exc}") from None
    for doc in docs:
        if doc.get("kind") == kind and (doc.get("metadata") or {}).get("name") == name:
            return doc
    raise CliError(f"file '{path}' does not have '/{kind}/{name}'")


def _secret_data(secret: Mapping[str, Any]) -> dict[str, bytes]:
    data = {k: base64.b64decode(v) for k, v in (secret.get("data") or {}).items()}
    data.update({k: str(v).encode() for k, v in (secret.get("stringData") or {}).items()})
    return data


async def _config(args: argparse.Namespace, client: Any) -> tuple[Any, dict[str, bytes]]:
    from rollouts.kube.errors import NotFound
    from rollouts.kube.resources import CONFIGMAP as CM_KIND
    from rollouts.kube.resources import SECRET as SECRET_KIND
    from rollouts.notifications.config import parse_config

    ns = args.namespace
    path = getattr(args, "config_map", None)
    if path:
        cm = _from_file(path, "ConfigMap", CONFIGMAP)
    else:
        try:
            cm = await _client(client).get(CM_KIND, CONFIGMAP, ns)
        except NotFound:
            raise CliError(f'configmaps "{CONFIGMAP}" not found in namespace {ns}') from None
    secret_path = getattr(args, "secret", None)
    if secret_path == ":empty":
        secret: dict[str, Any] = {}
    elif secret_path:
        secret = _from_file(secret_path, "Secret", SECRET)
    else:
        secret = await _client(client).get_or_none(SECRET_KIND, SECRET, ns) or {}
    data = _secret_data(secret)
    config = parse_config(cm.get("data") or {}, data, namespace=ns)
    for problem in config.problems:
        print(f"warning: {problem}", file=sys.stderr, flush=True)
    return config, data


async def _resource(args: argparse.Namespace, client: Any) -> dict[str, Any]:
    from rollouts.kube.errors import NotFound
    from rollouts.kube.resources import ROLLOUT

    doc = _resource_file(args.resource)
    if doc is not None:
        return doc
    try:
        obj: dict[str, Any] = await _client(client).get(ROLLOUT, args.resource, args.namespace)
    except NotFound:
        raise CliError(f'failed to load resource: rollouts.argoproj.io "{args.resource}" not found') from None
    return obj


def _resource_file(path: str) -> dict[str, Any] | None:
    if not Path(path).is_file():
        return None
    try:
        docs = [d for d in yaml.safe_load_all(Path(path).read_text()) if isinstance(d, dict)]
    except (OSError, yaml.YAMLError) as exc:
        raise CliError(f"failed to load resource: {' '.join(str(exc).split())}") from None
    if not docs:
        raise CliError(f"failed to load resource: {path} does not hold an object")
    return next((d for d in docs if d.get("kind") == "Rollout"), docs[0])


def _client(client: Any) -> Any:
    if client is None:
        raise CliError("this command needs the cluster (or --config-map/--secret files and a resource file)")
    return client


# -- commands -----------------------------------------------------------------------------------------


def _print_table(rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row[:-1], widths[:-1], strict=True)) + "  " + row[-1]
              if len(row) > 1 else row[0])


def _print_formatted(items: Mapping[str, Any], output: str) -> None:
    if output == "json":
        print(json.dumps(items, indent=2, sort_keys=True))
    else:
        print(yaml.safe_dump(items, sort_keys=True, default_flow_style=False), end="")


async def template_get(args: argparse.Namespace, client: Any) -> int:
    from rollouts.notifications.templates import Notification

    config, _ = await _config(args, client)
    names = sorted(n for n in config.templates if args.name in (None, n))
    if args.output == "name":
        for n in names:
            print(n)
        return 0
    if args.output in ("json", "yaml"):
        data = (await _raw_configmap(args, client)).get("data") or {}
        _print_formatted({n: yaml.safe_load(data[f"template.{n}"]) for n in names}, args.output)
        return 0
    rows = [("NAME", "PREVIEW")]
    for n in names:
        t = config.templates[n]
        preview = Notification(message=t.message.text).preview() if t.message.text else "(per-service fields)"
        rows.append((n, preview))
    _print_table(rows)
    return 0


async def _raw_configmap(args: argparse.Namespace, client: Any) -> dict[str, Any]:
    from rollouts.kube.resources import CONFIGMAP as CM_KIND

    path = getattr(args, "config_map", None)
    if path:
        return _from_file(path, "ConfigMap", CONFIGMAP)
    cm: dict[str, Any] = await _client(client).get(CM_KIND, CONFIGMAP, args.namespace)
    return cm


async def trigger_get(args: argparse.Namespace, client: Any) -> int:
    config, _ = await _config(args, client)
    names = sorted(n for n in config.triggers if args.name in (None, n))
    if args.output == "name":
        for n in names:
            print(n)
        return 0
    if args.output in ("json", "yaml"):
        _print_formatted({n: [{k: v for k, v in (("when", c.when), ("oncePer", c.once_per), ("send", list(c.send)),
                                                  ("description", c.description)) if v}
                              for c in config.triggers[n]] for n in names}, args.output)
        return 0
    rows = [("NAME", "TEMPLATE", "CONDITION")]
    for n in names:
        for i, c in enumerate(config.triggers[n]):
            rows.append((n if i == 0 else "", ", ".join(c.send), c.when))
    _print_table(rows)
    return 0


async def trigger_run(args: argparse.Namespace, client: Any) -> int:
    from rollouts.notifications.expressions import ExprEvaluator, rollout_env
    from rollouts.notifications.triggers import run_trigger

    config, secrets = await _config(args, client)
    conditions = config.triggers.get(args.name)
    if conditions is None:
        raise CliError(f"trigger with name '{args.name}' does not exist (found {', '.join(sorted(config.triggers))})")
    resource = await _resource(args, client)
    results = run_trigger(conditions, rollout_env(resource, secrets), ExprEvaluator())
    rows = [("CONDITION", "RESULT")]
    for c, r in zip(conditions, results, strict=True):
        rows.append((c.when, "true" if r.triggered else "false"))
        if r.error:
            print(f"warning: {c.when}: {r.error}", file=sys.stderr, flush=True)
    _print_table(rows)
    return 0


async def template_notify(args: argparse.Namespace, client: Any) -> int:
    from rollouts.notifications.delivery import Deliverer, render
    from rollouts.notifications.plan import Send
    from rollouts.notifications.services.base import SendError
    from rollouts.notifications.subscriptions import Destination
    from rollouts.notifications.templates import as_dict
    from rollouts.notifications.variables import for_destination, rollout_vars

    config, secrets = await _config(args, client)
    if args.name not in config.templates:
        raise CliError(f"template '{args.name}' is not supported")
    resource = await _resource(args, client)
    variables = rollout_vars(resource, secrets)
    deliverer = Deliverer(config)
    for recipient in args.recipient or ["console:stdout"]:
        service, _, rcpt = recipient.partition(":")
        dest = Destination(service, rcpt.split(":")[0])
        try:
            if service == "console":
                notification = render(config, (args.name,), for_destination(variables, dest))
                print(yaml.safe_dump(as_dict(notification), sort_keys=True, allow_unicode=True), end="")
            else:
                await deliverer.send(Send("", (args.name,), dest, ""), variables)
                print(f"notification sent to {recipient}")
        except SendError as exc:
            raise CliError(f"failed to notify '{recipient}': {exc}") from None
    return 0


COMMANDS = {("template", "get"): template_get, ("template", "notify"): template_notify,
            ("trigger", "get"): trigger_get, ("trigger", "run"): trigger_run}


def _needs_cluster(args: argparse.Namespace) -> bool:
    if not getattr(args, "config_map", None) or not getattr(args, "secret", None):
        return True
    resource = getattr(args, "resource", None)
    return resource is not None and not Path(resource).is_file()


def run(args: argparse.Namespace) -> int:
    """Entry point from rollouts.cli.main."""
    from rollouts.cli.connection import connect, resolve
    from rollouts.cli.flags import connection_flags

    command = COMMANDS[(args.notifications_group, args.notifications_command)]
    # Files for the ConfigMap, the Secret and the resource need no cluster, and no kubeconfig either.
    target = None
    try:
        if _needs_cluster(args):
            target = resolve(connection_flags(args), os.environ)
            args.namespace = target.namespace
        else:
            args.namespace = getattr(args, "namespace", None) or "default"
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return exc.exit_code

    async def body() -> int:
        client = await connect(target) if target is not None else None
        try:
            return await command(args, client)
        finally:
            if client is not None:
                await client.close()

    try:
        return asyncio.run(body())
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if os.environ.get("ROLLOUTS_DEBUG"):
            raise
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return 1
