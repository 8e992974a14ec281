"""`python -m rollouts.gitops`: the Application reconciler alone, in its own process.

Why this exists: ``rollouts controller`` runs the reconciler beside the Rollout workers; this entry point runs
only the reconciler, for clusters that want them apart and for benchmarks that measure its own CPU and RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

from rollouts.gitops.reconciler import ApplicationReconciler, GitopsConfig
from rollouts.kube.client import KubeClient


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m rollouts.gitops", description=__doc__.split("\n")[0])
    parser.add_argument("--kubeconfig", default=None)
    parser.add_argument("--context", default=None)
    parser.add_argument("--namespace", default=os.environ.get("POD_NAMESPACE", "argocd"),
                        help="namespace of the Application objects and repository Secrets")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--poll-interval", type=float, default=180.0, help="seconds between Git fetches")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--webhook-port", type=int, default=0, help="serve /api/webhook on this port (0: off)")
    parser.add_argument("--webhook-bind", default="127.0.0.1")
    parser.add_argument("--webhook-secret-env", default="ROLLOUTS_WEBHOOK_SECRET",
                        help="environment variable holding the webhook shared secret")
    return parser.parse_args(argv)


async def amain(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    client = await KubeClient.connect(args.kubeconfig, args.context, field_manager="rollouts-gitops")
    config = GitopsConfig(namespace=args.namespace, workers=args.workers, poll_interval=args.poll_interval,
                          cache_dir=args.cache_dir, webhook_port=args.webhook_port, webhook_bind=args.webhook_bind,
                          webhook_secret=os.environ.get(args.webhook_secret_env) or None)
    try:
        await ApplicationReconciler(client, config).run(stop)
    finally:
        await client.close()


def main(argv: list[str] | None = None) -> int:
    asyncio.run(amain(parse(sys.argv[1:] if argv is None else argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
