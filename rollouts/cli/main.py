"""`kubectl-rollouts`: the kubectl plugin for Rollouts (`kubectl rollouts ...`).

This module only parses arguments and dispatches; everything heavier (the Kubernetes client, rich,
pydantic, YAML) is imported inside the command that needs it, so `kubectl rollouts --help` and
`kubectl rollouts version` answer in well under half a second.

kubectl users put flags anywhere (`kubectl rollouts -n shop get rollout web` and
`kubectl rollouts get rollout web -n shop`), so the common flags are accepted both before and
after the subcommand: every subparser gets them with SUPPRESS defaults, so a flag given after the
subcommand wins and one given before it is not overwritten.

Exit codes: 0 success; 1 an error or a Degraded rollout; 2 a usage error or a `status --watch`
timeout; 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from importlib import import_module
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any

from rollouts.cli.errors import CliError

if TYPE_CHECKING:
    from rich.console import Console

    from rollouts.cli.connection import Target
    from rollouts.kube.client import KubeClient

PROG = "kubectl rollouts"

DESCRIPTION = """\
Drive Rollouts (argoproj.io/v1alpha1) from the terminal: watch progress, promote, abort, retry,
roll back and lint manifests.

Examples:
  # Show a rollout, its revisions, ReplicaSets, pods and analysis, and follow it
  kubectl rollouts get rollout checkout -n shop --watch

  # Promote a rollout paused at a step, or skip every remaining step
  kubectl rollouts promote checkout
  kubectl rollouts promote checkout --full

  # In CI: wait until the rollout is Healthy (exit 0), Degraded (exit 1) or 10 minutes pass (exit 2)
  kubectl rollouts status checkout --watch --timeout 10m
"""

EXAMPLES: dict[str, str] = {
    "get": "  kubectl rollouts get rollout checkout\n  kubectl rollouts get rollout checkout -w\n"
           "  kubectl rollouts get rollout checkout -o json",
    "list": "  kubectl rollouts list rollouts\n  kubectl rollouts list rollouts -A --watch",
    "status": "  kubectl rollouts status checkout\n  kubectl rollouts status checkout --watch --timeout 5m",
    "promote": "  kubectl rollouts promote checkout\n  kubectl rollouts promote checkout --full",
    "abort": "  kubectl rollouts abort checkout",
    "retry": "  kubectl rollouts retry rollout checkout",
    "pause": "  kubectl rollouts pause checkout",
    "resume": "  kubectl rollouts resume checkout",
    "restart": "  kubectl rollouts restart checkout\n  kubectl rollouts restart checkout --in 10m",
    "undo": "  kubectl rollouts undo checkout\n  kubectl rollouts undo checkout --to-revision 3",
    "set": "  kubectl rollouts set image checkout web=shop/checkout:2.1\n"
           "  kubectl rollouts set image checkout '*=shop/checkout:2.1'",
    "lint": "  kubectl rollouts lint rollout.yaml analysis.yaml",
    "version": "  kubectl rollouts version",
}


# ---------------------------------------------------------------------------------------------------
# parser


def _common(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """The flags every kubectl user expects, on the root (real defaults) and on each subcommand
    (SUPPRESS defaults, so an absent flag does not overwrite one given before the subcommand)."""
    def d(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    group = parser.add_argument_group("common flags")
    group.add_argument("-n", "--namespace", default=d(None), help="namespace of the rollout (default: the "
                       "kubeconfig context's namespace, else 'default')")
    group.add_argument("-A", "--all-namespaces", action="store_true", default=d(False),
                       help="list across all namespaces")
    group.add_argument("--kubeconfig", default=d(None), help="path to the kubeconfig file")
    group.add_argument("--context", default=d(None), help="kubeconfig context to use")
    group.add_argument("--no-color", action="store_true", default=d(False),
                       help="plain output without colours (also: the NO_COLOR environment variable)")


def _output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", choices=["json", "yaml"], help="print the object as json or yaml")


def _sub(subparsers: Any, name: str, help_text: str, *, example: str | None = None,
         aliases: Sequence[str] = ()) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name, help=help_text, description=help_text, aliases=list(aliases),
        epilog=f"Examples:\n{example}" if example else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(parser, suppress=True)
    return parser


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    _common(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    get = _sub(sub, "get", "Show a rollout", example=EXAMPLES["get"])
    get_sub = get.add_subparsers(dest="resource", metavar="RESOURCE", required=True)
    get_ro = _sub(get_sub, "rollout", "Show a rollout: status, steps, weights, images, revisions, "
                  "ReplicaSets, pods and AnalysisRuns", aliases=["rollouts", "ro"], example=EXAMPLES["get"])
    get_ro.add_argument("name", metavar="NAME")
    get_ro.add_argument("-w", "--watch", action="store_true", help="redraw in place as the rollout changes")
    _output(get_ro)

    lst = _sub(sub, "list", "List rollouts", example=EXAMPLES["list"])
    lst_sub = lst.add_subparsers(dest="resource", metavar="RESOURCE", required=True)
    lst_ro = _sub(lst_sub, "rollouts", "List rollouts: strategy, status, step, set and actual weight",
                  aliases=["rollout", "ro"], example=EXAMPLES["list"])
    lst_ro.add_argument("-w", "--watch", action="store_true", help="redraw in place as rollouts change")
    _output(lst_ro)

    status = _sub(sub, "status", "Print a rollout's phase; with --watch wait until it is Healthy (exit 0), "
                  "Degraded (exit 1) or the timeout passes (exit 2)", example=EXAMPLES["status"])
    status.add_argument("name", metavar="NAME")
    status.add_argument("-w", "--watch", action="store_true",
                        help="wait through Progressing and Paused until Healthy or Degraded")
    status.add_argument("-t", "--timeout", default="0",
                        help="with --watch, give up after this long (Go duration, e.g. 90s, 10m; 0 = never)")
    _output(status)

    promote = _sub(sub, "promote", "Promote a rollout paused at a step or before blue-green promotion",
                   example=EXAMPLES["promote"])
    promote.add_argument("name", metavar="NAME")
    promote.add_argument("--full", action="store_true",
                         help="skip every remaining step, pause and analysis and finish the update")

    for verb, text in (("abort", "Abort an update: traffic and replicas go back to the stable version"),
                       ("pause", "Pause a rollout (spec.paused)"),
                       ("resume", "Resume a rollout paused with 'pause'")):
        p = _sub(sub, verb, text, example=EXAMPLES[verb])
        p.add_argument("name", metavar="NAME")

    retry = _sub(sub, "retry", "Retry an aborted rollout", example=EXAMPLES["retry"])
    retry_sub = retry.add_subparsers(dest="resource", metavar="RESOURCE", required=True)
    retry_ro = _sub(retry_sub, "rollout", "Retry an aborted rollout: the update starts again",
                    aliases=["rollouts", "ro"], example=EXAMPLES["retry"])
    retry_ro.add_argument("name", metavar="NAME")

    restart = _sub(sub, "restart", "Restart the pods of a rollout, honouring maxUnavailable",
                   example=EXAMPLES["restart"])
    restart.add_argument("name", metavar="NAME")
    restart.add_argument("-i", "--in", dest="restart_in", default=None,
                         help="restart after this long (Go duration, e.g. 30s, 5m)")

    undo = _sub(sub, "undo", "Roll back to the previous (or a given) revision", example=EXAMPLES["undo"])
    undo.add_argument("name", metavar="NAME")
    undo.add_argument("--to-revision", type=int, default=None, metavar="N",
                      help="the revision to roll back to (default: the one before the newest)")

    set_ = _sub(sub, "set", "Change a rollout's pod template", example=EXAMPLES["set"])
    set_sub = set_.add_subparsers(dest="resource", metavar="WHAT", required=True)
    set_image = _sub(set_sub, "image", "Update a container image (CONTAINER '*' means every container)",
                     example=EXAMPLES["set"])
    set_image.add_argument("name", metavar="NAME")
    set_image.add_argument("assignment", metavar="CONTAINER=IMAGE")

    lint = _sub(sub, "lint", "Validate Rollout and AnalysisTemplate manifests offline",
                example=EXAMPLES["lint"])
    lint.add_argument("files", metavar="FILE", nargs="+", help="YAML or JSON files ('-' reads stdin)")

    _sub(sub, "version", "Print the plugin version", example=EXAMPLES["version"])

    _add_app(sub, argv)
    return parser


# Argo CD's command groups: each module registers its parser (add_parser) and runs its commands (run); it is
# imported only when its group is the command, so other commands do not pay for its imports.
ARGOCD_GROUPS: dict[str, tuple[str, str, str]] = {
    "app": ("rollouts.cli.app", "add_parser", "Manage Argo-CD-like Applications (see 'kubectl rollouts app --help')"),
    "proj": ("rollouts.cli.proj", "add_parser", "Manage AppProjects (see 'kubectl rollouts proj --help')"),
    "repo": ("rollouts.cli.repo", "add_parser", "Manage repositories (see 'kubectl rollouts repo --help')"),
    "repocreds": ("rollouts.cli.repo", "add_creds_parser", "Manage repository credential templates"),
    # Argo Rollouts' notifications tools (the notifications engine's command group), same registration.
    "notifications": ("rollouts.cli.notifications", "add_parser",
                      "Preview and test notifications (see 'kubectl rollouts notifications --help')"),
}


def _add_app(sub: Any, argv: Sequence[str]) -> None:
    for group, (module, register, summary) in ARGOCD_GROUPS.items():
        if find_spec(module) is None:
            continue
        if group in argv:
            getattr(import_module(module), register)(sub)
        else:
            sub.add_parser(group, help=summary, add_help=False)


# ---------------------------------------------------------------------------------------------------
# running


def make_console(args: argparse.Namespace, *, stderr: bool = False) -> Console:
    from rich.console import Console

    no_color = bool(getattr(args, "no_color", False)) or "NO_COLOR" in os.environ
    console = Console(stderr=stderr, no_color=no_color, highlight=False, emoji=False,
                      color_system=None if no_color else "auto")
    if not console.is_terminal and "COLUMNS" not in os.environ:
        # piped into a file or a CI log: never cut pod names to rich's default 80 columns
        console.width = 200
    return console


def _target(args: argparse.Namespace) -> Target:
    from rollouts.cli.connection import resolve

    return resolve(kubeconfig=args.kubeconfig, context=args.context, namespace=args.namespace,
                   environ=os.environ)


def _duration(text: str, flag: str) -> float:
    from rollouts.api.common import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise CliError(f"{flag}: {exc}", exit_code=2) from exc


async def _with_client(target: Target, body: Callable[[KubeClient], Awaitable[int]]) -> int:
    from rollouts.cli.connection import connect
    from rollouts.cli.errors import Target as ErrorTarget
    from rollouts.cli.errors import explain

    try:
        client = await connect(target)
    except Exception as exc:
        raise explain(exc, ErrorTarget("connect to", "cluster", None, None)) from exc
    try:
        return await body(client)
    finally:
        await client.close()


def _print_line(line: str) -> None:
    print(line, flush=True)


async def _dispatch(args: argparse.Namespace) -> int:
    command = args.command
    if command == "lint":
        from rollouts.cli.lint import lint_files

        return lint_files(args.files, out=sys.stdout)

    target = _target(args)
    ns = target.namespace

    if command == "get":
        from rollouts.cli.views import get_rollout_cmd

        console = make_console(args)
        return await _with_client(target, lambda c: get_rollout_cmd(
            c, args.name, ns, watch=args.watch, output=args.output, console=console))
    if command == "list":
        from rollouts.cli.views import list_rollouts_cmd

        console = make_console(args)
        list_ns = None if args.all_namespaces else ns
        return await _with_client(target, lambda c: list_rollouts_cmd(
            c, list_ns, watch=args.watch, output=args.output, console=console))
    if command == "status":
        from rollouts.cli.views import status_cmd

        timeout = _duration(args.timeout, "--timeout")
        console = make_console(args)
        return await _with_client(target, lambda c: status_cmd(
            c, args.name, ns, watch=args.watch, timeout=timeout, output=args.output, console=console,
            emit_error=lambda line: print(f"error: {line}", file=sys.stderr, flush=True)))
    return await _dispatch_action(args, target)


async def _dispatch_action(args: argparse.Namespace, target: Target) -> int:
    from rollouts.cli import actions, patches

    command, ns, name = args.command, target.namespace, args.name
    planners: dict[str, Callable[[dict[str, Any]], patches.ActionPlan]] = {
        "abort": patches.plan_abort,
        "retry": patches.plan_retry,
        "pause": patches.plan_pause,
        "resume": patches.plan_resume,
    }
    if command == "promote":
        full = bool(args.full)
        planners["promote"] = lambda ro: patches.plan_promote(ro, full=full)
    elif command == "restart":
        from datetime import UTC, datetime, timedelta

        delay = _duration(args.restart_in, "--in") if args.restart_in else 0.0
        planners["restart"] = actions.restart_planner(datetime.now(UTC) + timedelta(seconds=delay))
    elif command == "set":
        try:
            container, image = patches.parse_image_assignment(args.assignment)
        except ValueError as exc:
            raise CliError(str(exc), exit_code=2) from exc
        planners["set"] = lambda ro: patches.plan_set_image(ro, container, image)

    if command == "undo" and args.to_revision is not None and args.to_revision < 0:
        raise CliError(f"--to-revision must be a revision number (1, 2, ...), got {args.to_revision}", exit_code=2)

    async def body(client: KubeClient) -> int:
        if command == "undo":
            line = await actions.undo(client, name, ns, to_revision=args.to_revision)
        else:
            line = await actions.run_action(client, name, ns, verb=command, planner=planners[command])
        _print_line(line)
        return 0

    return await _with_client(target, body)


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(args_list)
    args = parser.parse_args(args_list)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "version":
        from rollouts import __version__

        print(f"kubectl-rollouts: v{__version__}")
        return 0
    if args.command in ARGOCD_GROUPS:
        return int(import_module(ARGOCD_GROUPS[args.command][0]).run(args))
    # Libraries report through `logging`; without a handler, Python prints warnings to stderr, which
    # would add lines (kubernetes_asyncio's "Config not found") around our one-line errors.
    logging.getLogger().addHandler(logging.NullHandler())
    try:
        return asyncio.run(_dispatch(args))
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `kubectl rollouts list rollouts | head`
        return 0
    except Exception as exc:  # the last line of defence: one line, never a traceback
        if os.environ.get("ROLLOUTS_DEBUG"):
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
