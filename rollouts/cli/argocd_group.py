"""What the Argo CD command groups of the plugin share (``proj``, ``repo``, ``repocreds``): flags, tables, running.

Why this module exists: ``argocd proj ...`` and ``argocd repo ...`` talk to Argo CD's API server; here the
same verbs write the Kubernetes objects directly (AppProjects, Argo CD's declarative repository Secrets),
so each group is a parser plus handlers, and this module connects, runs one handler and turns errors into
one line on stderr with an exit code (0 success, 1 error, 2 usage), never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from rollouts.cli.errors import CliError

Handler = Callable[[Any, argparse.Namespace], Awaitable[int]]


def common_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("common flags")
    group.add_argument("-n", "--namespace", default=argparse.SUPPRESS,
                       help="namespace of Argo CD's objects (default: the context's namespace)")
    group.add_argument("--kubeconfig", default=argparse.SUPPRESS, help="path to the kubeconfig file")
    group.add_argument("--context", default=argparse.SUPPRESS, help="kubeconfig context to use")
    group.add_argument("--no-color", action="store_true", default=argparse.SUPPRESS, help="plain output")


def subcommand(sub: Any, name: str, text: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(name, help=text, description=text)
    common_flags(parser)
    return parser


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Columns separated by at least two spaces, as ``argocd``'s tabwriter prints them."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    for row in [list(headers), *rows]:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())


def run_group(args: argparse.Namespace, handlers: Mapping[str, Handler], command: str) -> int:
    """Entry point from rollouts.cli.main: resolve the target, connect, run the handler of ``command``."""
    from rollouts.cli.connection import connect, resolve
    from rollouts.cli.flags import connection_flags

    try:
        target = resolve(connection_flags(args), os.environ)
        args.namespace = target.namespace

        async def body() -> int:
            client = await connect(target)
            try:
                return await handlers[command](client, args)
            finally:
                await client.close()

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


async def run_with_client(args: argparse.Namespace, handlers: Mapping[str, Handler], command: str,
                          client: Any) -> int:
    """Run one handler with an existing client (tests, embedding); errors as one line on stderr."""
    if getattr(args, "namespace", None) is None:
        args.namespace = "default"
    try:
        return await handlers[command](client, args)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return exc.exit_code
