"""`rollouts`: the controller process and admin commands.

    rollouts controller [--kubeconfig F] [--namespace NS] [--workers N] [--leader-elect] ...
    rollouts judge --input CASES.jsonl

Every controller flag can also be set with an environment variable ROLLOUTS_<FLAG> (upper case, dashes as
underscores), which is how the install manifests configure it; a flag on the command line wins.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"ROLLOUTS_{name.upper().replace('-', '_')}", default)


def _env_bool(name: str) -> bool:
    return (_env(name) or "").lower() in ("1", "true", "yes", "on")


def _env_int(name: str, default: int) -> int:
    value = _env(name)
    try:
        return int(value) if value else default
    except ValueError:
        sys.exit(f"rollouts: ROLLOUTS_{name.upper().replace('-', '_')} must be an integer, got {value!r}")


def _duration(text: str) -> float:
    """A flag value in seconds: a Go duration ("8s", "1500ms") or a bare number of seconds."""
    from rollouts.api.common import parse_duration

    try:
        return parse_duration(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a duration (e.g. 8s, 1500ms)") from None


def add_controller_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from rollouts.traffic.istio import API_VERSIONS as ISTIO_API_VERSIONS

    p = sub.add_parser("controller", help="run the Rollout controller (and the Application reconciler)",
                       description="Run the controller. Flags may also be given as ROLLOUTS_* environment variables.")
    p.add_argument("--kubeconfig", default=_env("kubeconfig") or os.environ.get("KUBECONFIG"),
                   help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config, then in-cluster)")
    p.add_argument("--context", default=_env("context"), help="kubeconfig context")
    p.add_argument("--namespace", default=_env("namespace"),
                   help="watch only this namespace (default: all namespaces)")
    p.add_argument("--workers", type=int, default=_env_int("workers", 10),
                   help="concurrent Rollout reconciles (default 10)")
    p.add_argument("--leader-elect", action="store_true", default=_env_bool("leader-elect"),
                   help="elect a leader through a coordination.k8s.io Lease (for several replicas)")
    p.add_argument("--lease-name", default=_env("lease-name", "rollouts-controller-lock"))
    p.add_argument("--lease-namespace", default=_env("lease-namespace", os.environ.get("POD_NAMESPACE", "default")))
    p.add_argument("--leader-election-lease-duration", type=_duration,
                   default=_duration(_env("leader-election-lease-duration", "8s") or "8s"),
                   help="how long a standby waits after the lease last changed before taking it (default 8s)")
    p.add_argument("--leader-election-renew-deadline", type=_duration,
                   default=_duration(_env("leader-election-renew-deadline", "5s") or "5s"),
                   help="a leader stops writing this long after its last successful renew (default 5s; "
                        "must be shorter than the lease duration)")
    p.add_argument("--leader-election-retry-period", type=_duration,
                   default=_duration(_env("leader-election-retry-period", "1s") or "1s"),
                   help="how often the leader renews and a standby retries (default 1s)")
    p.add_argument("--shards", type=int, default=_env_int("shards", 1),
                   help="spread Rollouts, Experiments, AnalysisRuns and Applications over this many shards, one "
                        "Lease each (<lease-name>-shard-<k> in --lease-namespace); every replica acts for the "
                        "shards it holds (default 1: not sharded; exclusive with --leader-elect)")
    p.add_argument("--shard", type=int, default=_env_int("shard", -1),
                   help="with --shards: hold only this shard (0..N-1, static, e.g. one Deployment per shard); "
                        "unset: shards are assigned to the live replicas through member Leases (dynamic)")
    p.add_argument("--metrics-port", type=int, default=_env_int("metrics-port", 8090),
                   help="port serving Prometheus /metrics (0 disables)")
    p.add_argument("--healthz-port", type=int, default=_env_int("healthz-port", 8080),
                   help="port serving /healthz and /readyz (0 disables)")
    p.add_argument("--bind-address", default=_env("bind-address", "0.0.0.0"),
                   help="address the metrics and health servers listen on")
    p.add_argument("--log-format", choices=("json", "text"), default=_env("log-format", "text"))
    p.add_argument("--log-level", choices=("debug", "info", "warning", "error"), default=_env("log-level", "info"))
    p.add_argument("--disable-applications", action="store_true", default=_env_bool("disable-applications"),
                   help="do not run the Application (GitOps) reconciler, e.g. where Argo CD already runs")
    p.add_argument("--disable-analysis", action="store_true", default=_env_bool("disable-analysis"),
                   help="do not run the AnalysisRun reconciler")
    p.add_argument("--evaluation-deadline", type=_duration,
                   default=_duration(_env("evaluation-deadline", "10s") or "10s"),
                   help="how long one condition, JSONPath or judge may run (in a worker process, off the event "
                        "loop) before it is stopped and the measurement is an Error (default 10s)")
    p.add_argument("--disable-rollouts", action="store_true", default=_env_bool("disable-rollouts"),
                   help="do not run the Rollout controller (with --disable-analysis: the Application reconciler "
                        "alone, under its own ServiceAccount)")
    p.add_argument("--identity", default=_env("identity"), help="leader-election identity (default: host name)")
    p.add_argument("--aws-verify-target-group", "--alb-verify-weight", action="store_true",
                   default=_env_bool("aws-verify-target-group"),
                   help="as Argo: verify ALB target-group weights through AWS before a step completes (off by "
                        "default). This controller has no AWS client, so ALB Rollouts then stop with InvalidSpec "
                        "saying so")
    p.add_argument("--traffic-split-api-version", default=_env("traffic-split-api-version", "v1alpha1") or "v1alpha1",
                   choices=("v1alpha1", "v1alpha2", "v1alpha3"),
                   help="as Argo: the SMI TrafficSplit apiVersion (split.smi-spec.io/...) written for "
                        "trafficRouting.smi (default v1alpha1)")
    p.add_argument("--istio-api-version", default=_env("istio-api-version", "v1alpha3") or "v1alpha3",
                   choices=ISTIO_API_VERSIONS,
                   help="as Argo: the Istio API version (networking.istio.io/...) VirtualServices and "
                        "DestinationRules are read and patched at (default v1alpha3)")
    n = p.add_argument_group("notifications")
    n.add_argument("--disable-notifications", action="store_true", default=_env_bool("disable-notifications"),
                   help="do not send notifications (argo-rollouts-notification-configmap)")
    n.add_argument("--notifications-namespace",
                   default=_env("notifications-namespace", os.environ.get("POD_NAMESPACE", "argo-rollouts")),
                   help="namespace of argo-rollouts-notification-configmap and its Secret "
                        "(default: the controller's own namespace, else argo-rollouts)")
    n.add_argument("--notifications-recovery-window", type=float,
                   default=float(_env("notifications-recovery-window", "600") or 600),
                   help="seconds: at start-up, events this recent that were not yet notified are delivered")
    g = p.add_argument_group("Application (GitOps) reconciler")
    g.add_argument("--applications-namespace",
                   default=_env("applications-namespace", os.environ.get("POD_NAMESPACE", "argocd")),
                   help="namespace holding Application objects and repository credential Secrets "
                        "(default: the controller's own namespace, else argocd)")
    g.add_argument("--git-poll-interval", type=float, default=float(_env("git-poll-interval", "180") or 180),
                   help="seconds between polls of each Application's repository (jittered; default 180)")
    g.add_argument("--webhook-port", type=int, default=_env_int("webhook-port", 0),
                   help="port for Git push webhooks (GitHub/GitLab payloads) that refresh Applications (0: off)")
    g.add_argument("--webhook-secret", default=_env("webhook-secret"),
                   help="shared secret the webhook requires (GitHub signature or GitLab token)")
    g.add_argument("--webhook-max-payload-size-mb", type=int, default=_env_int("webhook-max-payload-size-mb", 25),
                   help="push payloads larger than this many MiB are answered 413 (default 25: GitHub sends "
                        "up to 25 MB)")
    g.add_argument("--repo-cache-dir", default=_env("repo-cache-dir"),
                   help="where Git checkouts and rendered manifests are cached (default: a temp directory)")


def run_controller_command(args: argparse.Namespace) -> int:
    from rollouts.cli.components import GitopsOptions, default_components
    from rollouts.controller.logs import configure_logging
    from rollouts.controller.notifications import NotificationOptions
    from rollouts.controller.runtime import ControllerConfig, run_controller
    from rollouts.kube.leader import LeaseTimings
    from rollouts.kube.shards import Sharding

    configure_logging(fmt=args.log_format, level=args.log_level)
    try:
        timings = LeaseTimings(lease_duration=args.leader_election_lease_duration,
                               renew_deadline=args.leader_election_renew_deadline,
                               retry_period=args.leader_election_retry_period)
        if args.leader_elect and (args.shards > 1 or args.shard >= 0):
            raise ValueError("--leader-elect and --shards/--shard are exclusive: sharded replicas hold one Lease "
                             "per shard instead of one leader Lease")
        Sharding(shards=args.shards, shard=args.shard if args.shard >= 0 else None)
    except ValueError as exc:
        print(f"rollouts controller: {exc}", file=sys.stderr)
        return 2
    config = ControllerConfig(
        kubeconfig=args.kubeconfig, context=args.context, namespace=args.namespace, workers=args.workers,
        leader_elect=args.leader_elect, lease_name=args.lease_name, lease_namespace=args.lease_namespace,
        metrics_port=args.metrics_port, healthz_port=args.healthz_port, bind_address=args.bind_address,
        disable_applications=args.disable_applications, disable_analysis=args.disable_analysis,
        identity=args.identity, lease_timings=timings, disable_rollouts=args.disable_rollouts,
        evaluation_deadline=args.evaluation_deadline, aws_verify_target_group=args.aws_verify_target_group,
        traffic_split_api_version=args.traffic_split_api_version, istio_api_version=args.istio_api_version,
        shards=args.shards, shard=args.shard if args.shard >= 0 else None,
    )
    gitops = GitopsOptions(
        namespace=args.applications_namespace, poll_interval=args.git_poll_interval,
        webhook_port=args.webhook_port, webhook_bind=args.bind_address, webhook_secret=args.webhook_secret,
        webhook_max_payload_bytes=args.webhook_max_payload_size_mb * 1024 * 1024,
        cache_dir=Path(args.repo_cache_dir) if args.repo_cache_dir else None,
    )
    notifications = None if args.disable_notifications else NotificationOptions(
        namespace=args.notifications_namespace, recovery_window=args.notifications_recovery_window)
    config.extra_components = default_components(config, gitops, notifications)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run_controller(config, stop)

    from rollouts.kube.errors import ApiError

    try:
        asyncio.run(main())
    except ApiError as exc:
        print(f"rollouts controller: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rollouts", description="Progressive delivery controller for Kubernetes.")
    sub = parser.add_subparsers(dest="command", required=True)
    add_controller_parser(sub)
    judge = importlib.import_module("rollouts.cli.judge")
    judge.add_parser(sub)
    sub.add_parser("version", help="print the version")
    args = parser.parse_args(argv)
    if args.command == "controller":
        return run_controller_command(args)
    if args.command == "judge":
        return int(judge.run_args(args))
    if args.command == "version":
        from rollouts import __version__

        print(f"rollouts {__version__}")
        return 0
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
