"""The kubectl plugin for Rollouts, installed under two names: `kubectl-rollouts` and `kubectl-argo-rollouts`.

Under either name it speaks Argo's plugin's language (`kubectl argo rollouts ...`): the same commands,
aliases, flags, output and exit codes, so scripts and CI pipelines written for Argo's plugin keep working.
Where it goes further (`-o json|yaml`, `resume`, `lint FILE...`, the `app` commands) it only adds.

This module only builds the command tree and dispatches. Each command lives in the module named by its
`handler` (imported when that command runs), and everything heavy (the Kubernetes client, YAML, pydantic)
is imported inside it, so `--help` and `version` answer in about 0.1 s.

Exit codes, as Argo's: 0 success; 1 any error (a usage error, a Degraded rollout, a `status` timeout);
130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from importlib import import_module
from importlib.util import find_spec
from typing import Any

from rollouts.cli.errors import CliError
from rollouts.cli.flags import CobraParser, add_bool, add_kubectl_flags
from rollouts.cli.invocation import Invocation, program_names

# Command groups that live in a module of their own, one line each: command -> (module, the module's function
# that registers the group's parser, help). The module also provides `run(args) -> int`; it is imported only
# when its command is used (or for shell completion), so other commands do not pay for its imports.
GROUPS: dict[str, tuple[str, str, str]] = {
    "app": ("rollouts.cli.app", "add_parser", "Manage Argo-CD-like Applications (see 'app --help')"),
    "proj": ("rollouts.cli.proj", "add_parser", "Manage AppProjects (see 'proj --help')"),
    "repo": ("rollouts.cli.repo", "add_parser", "Manage repositories (see 'repo --help')"),
    "repocreds": ("rollouts.cli.repo", "add_creds_parser", "Manage repository credential templates"),
    "cluster": ("rollouts.cli.cluster", "add_parser", "Manage destination clusters (see 'cluster --help')"),
    # Argo Rollouts' notifications tools (the notifications engine's command group)
    "notifications": ("rollouts.cli.notifications", "add_parser",
                      "Preview and test notifications (see 'notifications --help')"),
}

ROOT_EXAMPLES = """\
Examples:
  # Get guestbook rollout and watch progress
  {prog} get rollout guestbook -w

  # Pause, promote, abort or retry the guestbook rollout
  {prog} pause guestbook
  {prog} promote guestbook
  {prog} abort guestbook
  {prog} retry rollout guestbook

  # In CI: wait until the rollout is Healthy (exit 0); Degraded or 10 minutes passed: exit 1
  {prog} status guestbook --timeout 10m
"""


class _Tree:
    """Adds subcommands with the kubectl flags repeated (persistent) and a lazily imported handler."""

    def __init__(self, prog: str, binary: str) -> None:
        self.prog = prog
        self.binary = binary

    def command(self, sub: Any, name: str, summary: str, *, aliases: Sequence[str] = (), handler: str | None = None,
                examples: str = "", description: str | None = None) -> argparse.ArgumentParser:
        epilog = ("Examples:\n" + examples.format(prog=self.prog, binary=self.binary) + "\n") if examples else ""
        epilog += f"Global flags (kubectl's -n, --context, --server, --as, ...): see '{self.prog} --help'."
        parser: argparse.ArgumentParser = sub.add_parser(
            name, help=summary, description=description or summary, aliases=list(aliases), epilog=epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        add_kubectl_flags(parser, suppress=True)
        if handler:
            parser.set_defaults(handler=handler)
        return parser

    def group(self, sub: Any, name: str, summary: str, *, dest: str, metavar: str, **kw: Any) -> Any:
        parser = self.command(sub, name, summary, **kw)
        parser.set_defaults(usage_parser=parser)  # `get` alone prints this usage (and exits 1, as Argo)
        return parser.add_subparsers(dest=dest, metavar=metavar, title="commands", parser_class=CobraParser)


def build_parser(argv: Sequence[str] = (), *, prog: str = "kubectl rollouts",
                 binary: str = "kubectl-rollouts") -> argparse.ArgumentParser:
    parser = CobraParser(
        prog=prog, description="This command consists of multiple subcommands which can be used to manage "
        "Rollouts (argoproj.io/v1alpha1).", epilog=ROOT_EXAMPLES.format(prog=prog),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_kubectl_flags(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands", parser_class=CobraParser)
    t = _Tree(prog, binary)

    # create
    create = t.command(sub, "create", "Create a Rollout, Experiment, AnalysisTemplate, ClusterAnalysisTemplate, "
                       "AnalysisRun or any other resource from a file", handler="create:create_files",
                       examples="  # Create a rollout and watch it\n  {prog} create -f my-rollout.yaml -w\n")
    create.add_argument("-f", "--filename", dest="filenames", action="append", default=[], metavar="FILE",
                        help="Files to use to create the resource ('-' reads stdin)")
    add_bool(create, "-w", "--watch", help="Watch live updates to the resource after creating")
    create_sub = create.add_subparsers(dest="resource", metavar="RESOURCE", parser_class=CobraParser)
    run = t.command(create_sub, "analysisrun", "Create an AnalysisRun from an AnalysisTemplate or a "
                    "ClusterAnalysisTemplate", aliases=["ar"], handler="create:create_analysisrun", examples=(
                        "  # From an AnalysisTemplate in the cluster, with an argument\n"
                        "  {prog} create analysisrun --from my-template -a service=web\n"
                        "  # From a ClusterAnalysisTemplate in the cluster, or a local file\n"
                        "  {prog} create analysisrun --global --from my-cluster-template\n"
                        "  {prog} create analysisrun --from-file my-template.yaml\n"))
    run.add_argument("--name", default="", help="Use the specified name for the run")
    run.add_argument("--generate-name", default="", help="Use the specified generateName for the run")
    run.add_argument("--instance-id", default="", help="Instance-ID for the AnalysisRun")
    run.add_argument("-a", "--argument", dest="arguments", action="append", default=[], metavar="NAME=VALUE",
                     help="Arguments to the parameter template")
    run.add_argument("--from", dest="from_template", default="",
                     help="Create an AnalysisRun from an AnalysisTemplate or ClusterAnalysisTemplate in the cluster")
    run.add_argument("--from-file", default="", help="Create an AnalysisRun from an AnalysisTemplate or "
                     "ClusterAnalysisTemplate in a local file")
    run.add_argument("--from-cluster-template", default="", metavar="NAME",
                     help="Same as --global --from NAME: a ClusterAnalysisTemplate in the cluster")
    add_bool(run, "--global", dest="use_global", help="Use a ClusterAnalysisTemplate instead of a AnalysisTemplate")

    # get
    get = t.group(sub, "get", "Get details about rollouts", dest="resource", metavar="RESOURCE",
                  examples="  {prog} get rollout guestbook\n  {prog} get rollout guestbook -w\n")
    get_ro = t.command(get, "rollout", "Get details about a rollout", aliases=["ro", "rollouts"],
                       handler="views:get_rollout", examples=(
                           "  {prog} get rollout guestbook\n  {prog} get rollout guestbook -w\n"
                           "  # Watch the rollout, stop after 60 seconds\n"
                           "  {prog} get rollout guestbook -w --timeout-seconds 60\n"
                           "  {prog} get rollout guestbook -o json\n"))
    get_ro.add_argument("name", metavar="ROLLOUT_NAME")
    add_bool(get_ro, "-w", "--watch", help="Watch live updates to the rollout")
    get_ro.add_argument("--timeout-seconds", type=int, default=0, help="Timeout after specified seconds")
    get_ro.add_argument("-o", "--output", choices=["json", "yaml"], help="Print the Rollout object as json or yaml")
    get_exp = t.command(get, "experiment", "Get details about an Experiment", aliases=["exp", "experiments"],
                        handler="experiments:get_experiment", examples="  {prog} get experiment my-experiment\n")
    get_exp.add_argument("name", metavar="EXPERIMENT_NAME")

    # lint
    lint = t.command(sub, "lint", "Lint and validate a Rollout", handler="lint:lint_cmd",
                     examples="  {prog} lint -f my-rollout.yaml\n  {prog} lint rollout.yaml analysis.yaml\n")
    lint.add_argument("-f", "--filename", default=None, metavar="FILE", help="File to lint")
    lint.add_argument("files", metavar="FILE", nargs="*",
                      help="More files (this plugin's syntax: every problem of every file, then a summary)")

    # list
    lst = t.group(sub, "list", "List rollouts", dest="resource", metavar="RESOURCE",
                  examples="  {prog} list rollouts\n  {prog} list rollouts -A --watch\n")
    lst_ro = t.command(lst, "rollouts", "List rollouts", aliases=["ro", "rollout"], handler="views:list_rollouts",
                       examples="  {prog} list rollouts\n  {prog} list rollouts --name my-rollout\n"
                                "  {prog} list rollouts --all-namespaces --watch --timestamps\n")
    lst_ro.add_argument("--name", default="", help="Only show rollout with specified name")
    add_bool(lst_ro, "-A", "--all-namespaces", help="Include all namespaces")
    add_bool(lst_ro, "-w", "--watch", help="Watch for changes")
    add_bool(lst_ro, "--timestamps", help="Print timestamps on updates")
    lst_ro.add_argument("-o", "--output", choices=["json", "yaml"], help="Print the list as json or yaml")
    lst_exp = t.command(lst, "experiments", "List experiments", aliases=["exp", "experiment"],
                        handler="experiments:list_experiments",
                        examples="  {prog} list experiments\n  {prog} list experiments --all-namespaces\n")
    add_bool(lst_exp, "-A", "--all-namespaces", help="Include all namespaces")

    for verb, summary in (("pause", "Pause a rollout"), ("abort", "Abort a rollout"),
                          ("resume", "Resume a rollout paused with 'pause' (spec.paused: false)")):
        p = t.command(sub, verb, summary, handler=f"actions:{verb}_cmd",
                      examples=f"  # {summary}\n  {{prog}} {verb} guestbook\n")
        p.add_argument("names", metavar="ROLLOUT_NAME", nargs="+")

    promote = t.command(sub, "promote", "Promote a rollout", handler="actions:promote_cmd",
                        description="Promotes a rollout paused at a canary step, or a paused blue-green "
                                    "pre-promotion. '--full' skips analysis, pauses and steps entirely.",
                        examples="  {prog} promote guestbook\n  {prog} promote guestbook --full\n")
    promote.add_argument("name", metavar="ROLLOUT_NAME")
    add_bool(promote, "--full", help="Perform a full promotion, skipping analysis, pauses, and steps")
    add_bool(promote, "-c", "--skip-current-step", deprecated="use without the flag instead ex: promote "
             "ROLLOUT_NAME", help=argparse.SUPPRESS)
    add_bool(promote, "-a", "--skip-all-steps", deprecated="use --full instead", help=argparse.SUPPRESS)

    restart = t.command(sub, "restart", "Restart the pods of a rollout", handler="actions:restart_cmd",
                        examples="  {prog} restart guestbook\n  {prog} restart guestbook --in 10s\n")
    restart.add_argument("name", metavar="ROLLOUT")
    restart.add_argument("-i", "--in", dest="restart_in", default="",
                         help="Amount of time before a restart. (e.g. 30s, 5m, 1h)")

    version = t.command(sub, "version", "Print version", handler="version:version_cmd",
                        examples="  {prog} version\n  {prog} version --short\n")
    add_bool(version, "--short", help="print just the version number")

    retry = t.group(sub, "retry", "Retry a rollout or experiment", dest="resource", metavar="RESOURCE",
                    examples="  {prog} retry rollout guestbook\n")
    retry_ro = t.command(retry, "rollout", "Retry an aborted rollout", aliases=["ro", "rollouts"],
                         handler="actions:retry_cmd", examples="  {prog} retry rollout guestbook\n")
    retry_ro.add_argument("names", metavar="ROLLOUT_NAME", nargs="+")
    retry_exp = t.command(retry, "experiment", "Retry an experiment", aliases=["exp", "experiments"],
                          handler="actions:retry_experiment_cmd", examples="  {prog} retry experiment my-experiment\n")
    retry_exp.add_argument("names", metavar="EXPERIMENT_NAME", nargs="+")

    terminate = t.group(sub, "terminate", "Terminate an AnalysisRun or Experiment", dest="resource", metavar="RESOURCE",
                        examples="  {prog} terminate analysisrun guestbook-877894d5b-4-success-rate.1\n")
    term_ar = t.command(terminate, "analysisrun", "Terminate an AnalysisRun", aliases=["ar", "analysisruns"],
                        handler="actions:terminate_analysisrun_cmd",
                        examples="  {prog} terminate analysisrun guestbook-877894d5b-4-success-rate.1\n")
    term_ar.add_argument("names", metavar="ANALYSISRUN_NAME", nargs="+")
    term_exp = t.command(terminate, "experiment", "Terminate an experiment", aliases=["exp", "experiments"],
                         handler="actions:terminate_experiment_cmd",
                         examples="  {prog} terminate experiment my-experiment\n")
    term_exp.add_argument("names", metavar="EXPERIMENT_NAME", nargs="+")

    set_ = t.group(sub, "set", "Update various values on resources", dest="resource", metavar="COMMAND",
                   examples="  {prog} set image my-rollout demo=argoproj/rollouts-demo:yellow\n")
    set_image = t.command(set_, "image", "Update the image of a rollout", handler="actions:set_image_cmd",
                          examples="  # containers, initContainers and ephemeralContainers are searched\n"
                                   "  {prog} set image my-rollout containerName=imageName\n"
                                   "  # every container\n  {prog} set image my-rollout '*=imageName'\n")
    set_image.add_argument("name", metavar="ROLLOUT_NAME")
    set_image.add_argument("assignment", metavar="CONTAINER=IMAGE")

    undo = t.command(sub, "undo", "Undo a rollout", description="Rollback to the previous rollout.",
                     handler="actions:undo_cmd",
                     examples="  {prog} undo guestbook\n  {prog} undo guestbook --to-revision=3\n")
    undo.add_argument("name", metavar="ROLLOUT_NAME")
    undo.add_argument("--to-revision", type=int, default=0,
                      help="The revision to rollback to. Default to 0 (last revision).")

    status = t.command(sub, "status", "Show the status of a rollout", handler="views:status_cmd",
                       description="Watch rollout until it finishes or the timeout is exceeded. Returns success if "
                                   "the rollout is healthy upon completion and an error otherwise.",
                       examples="  # Watch the rollout until it succeeds\n  {prog} status guestbook\n"
                                "  # Show the rollout status\n  {prog} status guestbook --watch=false\n"
                                "  # Watch, fail if it takes more than 60 seconds\n"
                                "  {prog} status --timeout 60s guestbook\n")
    status.add_argument("name", metavar="ROLLOUT_NAME")
    add_bool(status, "-w", "--watch", default=True, help="Watch the status of the rollout until it's done "
             "(default true)")
    status.add_argument("-t", "--timeout", default="0", help="The length of time to watch before giving up. "
                        "Non-zero values should contain a corresponding time unit (e.g. 1s, 2m, 3h). Zero means "
                        "wait forever")
    status.add_argument("-o", "--output", choices=["json", "yaml"],
                        help="Print the final phase and message as json or yaml")

    dashboard = t.command(sub, "dashboard", "Start UI dashboard", handler="dashboard.command:dashboard_cmd",
                          description="Serve a web UI of Rollouts and Applications, live, with the plugin's actions, "
                                      "using your kubeconfig's credentials. Without -n it shows every namespace "
                                      "you may list.",
                          examples="  {prog} dashboard\n  {prog} dashboard --port 8080 -n shop\n")
    dashboard.add_argument("--address", default="127.0.0.1", help="Address to listen on (default 127.0.0.1)")
    dashboard.add_argument("-p", "--port", type=int, default=3100, help="Port to listen on (default 3100)")
    add_bool(dashboard, "--read-only", help="Refuse every action (promote, abort, ...); only show")

    completion = t.command(sub, "completion", "Generate completion script", handler="completion:completion_cmd",
                           description="Print a shell completion script. Names of rollouts and AnalysisRuns are "
                                       "completed from the cluster.",
                           examples="  source <({binary} completion bash)\n"
                                    "  {binary} completion zsh > \"${{fpath[1]}}/_{binary}\"\n"
                                    "  {binary} completion fish | source\n")
    completion.add_argument("shell", metavar="SHELL", choices=["bash", "zsh", "fish"])

    _add_groups(sub, argv)
    return parser


def _add_groups(sub: Any, argv: Sequence[str]) -> None:
    """The groups keep their own parsing conventions (argparse's: usage errors exit 2, as their modules say), so
    their parsers are plain ArgumentParsers, not this plugin's CobraParser."""
    for name, (module, register, summary) in GROUPS.items():
        if find_spec(module) is None:
            continue
        if name in argv or "__complete" in argv:
            cobra, sub._parser_class = sub._parser_class, argparse.ArgumentParser
            try:
                getattr(import_module(module), register)(sub)
            finally:
                sub._parser_class = cobra
        else:
            sub.add_parser(name, help=summary, add_help=False)


# ---------------------------------------------------------------------------------------------------
# running


def _handler(args: argparse.Namespace) -> Any:
    target: str = args.handler
    module, _, function = target.partition(":")
    return getattr(import_module(f"rollouts.cli.{module}"), function)


def _group(command: str) -> str | None:
    return GROUPS[command][0] if command in GROUPS else None


def _quiet_libraries() -> None:
    # Libraries report through `logging` and structlog; a command prints its own one-line errors.
    logging.getLogger().addHandler(logging.NullHandler())


def main(argv: Sequence[str] | None = None, *, argv0: str | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    prog, binary = program_names(argv0 if argv0 is not None else sys.argv[0])
    if args_list[:1] == ["__complete"]:
        from rollouts.cli.completion import complete_cmd

        return complete_cmd(args_list[1:], prog=prog)
    try:
        parser = build_parser(args_list, prog=prog, binary=binary)
        args = parser.parse_args(args_list)
    except CliError as exc:
        print(f"Error: {exc}", file=sys.stderr, flush=True)
        return exc.exit_code
    group = _group(args.command) if args.command else None
    if group is not None:
        return int(import_module(group).run(args))
    if getattr(args, "handler", None) is None:
        # no command, or a group without its subcommand (`get`, `list`...): the usage, and exit 1 as Argo's
        getattr(args, "usage_parser", parser).print_help(sys.stderr)
        return 1
    invocation = Invocation(args=args, prog=prog, binary=binary)
    _quiet_libraries()
    try:
        result = _handler(args)(invocation)
        if hasattr(result, "__await__"):  # an async command
            import asyncio

            result = asyncio.run(result)
        return int(result)
    except CliError as exc:
        print(f"Error: {exc}", file=sys.stderr, flush=True)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `kubectl argo rollouts list rollouts | head`
        _silence_stdout()
        return 0
    except Exception as exc:  # the last line of defence: one line, never a traceback
        if os.environ.get("ROLLOUTS_DEBUG"):
            raise
        print(f"Error: unexpected {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return 1


def _silence_stdout() -> None:
    """After EPIPE, Python would complain again while flushing stdout at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass


if __name__ == "__main__":
    sys.exit(main())
