"""`kubectl rollouts dashboard [--address 127.0.0.1] [--port 3100] [--read-only]`, as Argo's plugin's verb.

It connects with the kubeconfig exactly as every other command does (context, user, `--as`, ...), watches
the namespace given with `-n` or, without `-n`, every namespace the user may list, prints the URL and serves
until interrupted (Ctrl-C: exit 130, as any interrupted command).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rollouts.cli.errors import CliError

if TYPE_CHECKING:
    from rollouts.cli.invocation import Invocation


async def dashboard_cmd(inv: Invocation) -> int:
    from rollouts.cli.dashboard.hub import Hub
    from rollouts.cli.dashboard.server import Settings, serve

    args = inv.args
    if not 0 < args.port < 65536:
        raise CliError(f"invalid port {args.port}: must be between 1 and 65535")
    namespace = getattr(args, "namespace", None) or None  # -n given: that namespace only; else all the user may list
    settings = Settings(address=args.address, port=args.port, read_only=args.read_only)
    async with inv.client() as client:
        hub = Hub(client, namespace)
        try:
            await serve(hub, client, settings, ready=lambda url: inv.print(f"Dashboard is available at {url}"))
        except OSError as exc:
            raise CliError(f"cannot serve the dashboard on {args.address}:{args.port}: {exc.strerror or exc}") from exc
    return 0
