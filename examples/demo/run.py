"""`make demo`: a canary judged by real metrics, delivered from Git, on the local control plane.

    python examples/demo/run.py            # the story, then leaves the sandbox running
    python examples/demo/run.py --stop     # stop the demo's controller, Prometheus and exporter; delete its namespaces
    python examples/demo/run.py --ci       # tighter timings, exits non-zero if the story does not happen

The story, told only by real components acting on the real API server:

1. A local Git repository (bare "remote" + working clone under .cluster/demo/git) holds the app's manifests
   (examples/demo/app/): a Rollout with NGINX canary traffic routing, its Services and Ingress, and an
   AnalysisTemplate using the statistical judge on the app's request metrics. The remote's post-receive
   hook sends a GitHub-style push webhook to the controller, so a push is picked up at once (polling is
   the fallback).
2. `rollouts controller` (Rollouts, AnalysisRuns, Applications) runs as a subprocess scoped to the demo
   namespace; Prometheus scrapes examples/demo/exporter.py every second. The exporter routes simulated
   requests by the canary Ingress weight and Service selectors the controller writes and answers them with
   each pod's version's behaviour (`red` fails more and is slower): see its docstring.
3. An Application with automated sync is created; the reconciler applies the manifests; the Rollout
   becomes Healthy on `blue`.
4. A commit sets the image tag to `green`: the controller walks the steps, the judge compares green's pods
   with blue's in Prometheus, green is promoted.
5. A commit sets `red`: the judge sees the higher error rate, the controller aborts, traffic and selectors
   return to green, and the Application reports the Rollout Degraded.

The demo only commits, creates the Application and watches; every line it prints is read from the objects.
Every process binds 127.0.0.1. Re-running first stops and deletes the previous demo.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

DEMO = Path(__file__).resolve().parent
REPO = DEMO.parents[1]
sys.path.insert(0, str(DEMO))

from cluster import delete_namespaces, install_crds, testbed_bin  # noqa: E402
from gitrepo import GitRepo  # noqa: E402
from live import Live  # noqa: E402
from sandbox import DemoFailed, State, free_port, http_ok, prometheus_up, start, stop_recorded, tail, until  # noqa: E402

from rollouts.kube.client import KubeClient  # noqa: E402
from rollouts.kube.errors import ApiError  # noqa: E402
from rollouts.kube.resources import APPLICATION, NAMESPACE  # noqa: E402

PLACEHOLDER_PROMETHEUS = "http://127.0.0.1:9090"
DEFAULT_STATE_DIR = str(REPO / ".cluster" / "demo")


@dataclass(frozen=True)
class Timings:
    """How long the story's waits last; --ci tightens them (the same steps, shorter pauses)."""

    pause: str
    initial_delay: str
    interval: str
    count: int
    poll: float
    scrape: str

    def edit(self, text: str) -> str:
        """The manifests' timings as this mode wants them (a plain text edit, like a person would make)."""
        return (text.replace("pause: {duration: 30s}", f"pause: {{duration: {self.pause}}}")
                .replace("initialDelay: 10s", f"initialDelay: {self.initial_delay}")
                .replace("interval: 10s", f"interval: {self.interval}")
                .replace("count: 3", f"count: {self.count}"))


STORY = Timings(pause="30s", initial_delay="10s", interval="10s", count=3, poll=15.0, scrape="1s")
CI = Timings(pause="5s", initial_delay="6s", interval="5s", count=3, poll=10.0, scrape="1s")


# --- the story -----------------------------------------------------------------------------------

class Demo:
    def __init__(self, args: argparse.Namespace, console: Console) -> None:
        self.args = args
        self.console = console
        self.timings = CI if args.ci else STORY
        self.state_dir = Path(args.state_dir).resolve()
        self.state_file = self.state_dir / "state.json"
        self.kubeconfig = str(Path(args.kubeconfig).resolve())
        self.ns = args.namespace
        self.apps_ns = args.applications_namespace
        self.app = args.application
        self.state = State(namespace=self.ns, applications_namespace=self.apps_ns)
        self.started = time.monotonic()
        self.marks: list[tuple[str, float]] = []

    def banner(self, text: str, short: str) -> None:
        self.marks.append((short, time.monotonic()))
        self.console.print(f"\n[bold]== {text}[/bold]  [dim](+{time.monotonic() - self.started:.0f}s)[/dim]",
                           highlight=False)

    def note(self, text: str) -> None:
        self.console.print(f"[dim]{time.monotonic() - self.started:6.1f}s[/dim] setup     {text}", highlight=False)

    async def run(self) -> None:
        client = await KubeClient.connect(self.kubeconfig)
        try:
            await self._run(client)
        finally:
            await client.close()

    async def _run(self, client: KubeClient) -> None:
        self.banner("Setting up the sandbox", "setup")
        await clean_previous(client, self.state_dir, self.note)
        self.state.save(self.state_file)
        await install_crds(client)
        for ns in (self.ns, self.apps_ns):
            await client.create(NAMESPACE, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        self.note("CRDs installed; namespaces " + ", ".join((self.ns, self.apps_ns)) + " created")
        ports = {k: free_port() for k in ("prometheus", "exporter", "webhook", "metrics", "healthz")}
        self.state.ports = ports
        logs = self.state_dir / "logs"
        prometheus = f"http://127.0.0.1:{ports['prometheus']}"

        exporter = start(self.state, self.state_file, "exporter", [
            sys.executable, str(DEMO / "exporter.py"), f"--kubeconfig={self.kubeconfig}", f"--namespace={self.ns}",
            f"--port={ports['exporter']}"], log=logs / "exporter.log", cwd=REPO)
        self.note(f"exporter    http://127.0.0.1:{ports['exporter']}/metrics  (pid {exporter.pid})")

        prom_dir = self.state_dir / "prometheus"
        prom_dir.mkdir(parents=True, exist_ok=True)
        (prom_dir / "prometheus.yml").write_text(
            f"global: {{scrape_interval: {self.timings.scrape}, evaluation_interval: {self.timings.scrape}}}\n"
            "scrape_configs:\n"
            f"  - job_name: demo-app\n    static_configs: [{{targets: ['127.0.0.1:{ports['exporter']}']}}]\n")
        binary = shutil.which("prometheus")
        if binary is None:
            raise DemoFailed("Prometheus is not installed: run testbed/system-deps.sh (Debian's prometheus package)")
        prom = start(self.state, self.state_file, "prometheus", [
            binary, f"--config.file={prom_dir / 'prometheus.yml'}", f"--storage.tsdb.path={prom_dir / 'data'}",
            f"--web.listen-address=127.0.0.1:{ports['prometheus']}", "--storage.tsdb.retention.time=1d"],
            log=logs / "prometheus.log")
        self.note(f"prometheus  {prometheus}  (pid {prom.pid})")

        secret = secrets.token_hex(16)
        controller_log = logs / "controller.log"
        controller = start(self.state, self.state_file, "controller", [
            sys.executable, "-m", "rollouts.cli.admin", "controller", f"--kubeconfig={self.kubeconfig}",
            f"--namespace={self.ns}", f"--applications-namespace={self.apps_ns}",
            f"--webhook-port={ports['webhook']}", f"--git-poll-interval={self.timings.poll:g}",
            f"--metrics-port={ports['metrics']}", f"--healthz-port={ports['healthz']}", "--bind-address=127.0.0.1",
            f"--repo-cache-dir={self.state_dir / 'repo-cache'}"],
            log=controller_log, env={"ROLLOUTS_WEBHOOK_SECRET": secret}, cwd=REPO)
        self.note(f"controller  metrics http://127.0.0.1:{ports['metrics']}/metrics, webhook "
                  f"http://127.0.0.1:{ports['webhook']}/api/webhook  (pid {controller.pid}, log {controller_log})")
        await until("Prometheus to scrape the exporter", lambda: prometheus_up(prometheus, "demo-app"), timeout=60,
                    proc=prom, log=logs / "prometheus.log")
        self.note("Prometheus is scraping the exporter")
        await until("the controller to be ready", lambda: http_ok(f"http://127.0.0.1:{ports['healthz']}/readyz"),
                    timeout=90, proc=controller, log=controller_log)
        self.note("the controller is ready (caches synced)")

        repo = GitRepo(self.state_dir / "git")
        repo.install_push_hook(f"http://127.0.0.1:{ports['webhook']}/api/webhook", secret)
        shutil.copytree(DEMO / "app", repo.work / "app")
        for path in (repo.work / "app").glob("*.yaml"):
            path.write_text(self.timings.edit(path.read_text()).replace(PLACEHOLDER_PROMETHEUS, prometheus))
        live = Live(client, self.console, namespace=self.ns, applications_namespace=self.apps_ns,
                    application=self.app, started=self.started)
        await live.start()
        try:
            helpers = [("controller", controller, controller_log), ("exporter", exporter, logs / "exporter.log"),
                       ("prometheus", prom, logs / "prometheus.log")]
            await self._story(client, repo, live, helpers)
        finally:
            await live.stop()
        self.finish(repo, prometheus)

    async def _story(self, client: KubeClient, repo: GitRepo, live: Live,
                     helpers: list[tuple[str, subprocess.Popen[bytes], Path]]) -> None:
        controller_log = helpers[0][2]

        async def wait(what: str, check: Any, timeout: float) -> None:
            watching = asyncio.create_task(live.wait_for(what, check, timeout=timeout))
            while not watching.done():
                for name, proc, log in helpers:
                    if proc.poll() is not None:
                        watching.cancel()
                        raise DemoFailed(f"the {name} exited with {proc.returncode}:\n{tail(log)}")
                await asyncio.wait({watching}, timeout=0.5)
            live.refresh()  # print what satisfied the wait before the next chapter's banner
            try:
                watching.result()
            except TimeoutError as exc:
                raise DemoFailed(f"{exc}\n--- controller log (last lines) ---\n{tail(controller_log)}") from exc

        def rollout_status() -> dict[str, Any]:
            ro = live.rollout() or {}
            st = dict(ro.get("status") or {})
            st["_fresh"] = str(st.get("observedGeneration")) == str((ro.get("metadata") or {}).get("generation"))
            return st

        def app_at(revision: str, health: str) -> bool:
            st = (live.application() or {}).get("status") or {}
            sync = st.get("sync") or {}
            return (sync.get("status") == "Synced" and sync.get("revision") == revision
                    and (st.get("health") or {}).get("status") == health)

        def healthy_on(version: str) -> bool:
            st = rollout_status()
            return (bool(st["_fresh"]) and st.get("phase") == "Healthy"
                    and live.version_of(st.get("stableRS")) == version
                    and st.get("currentPodHash") == st.get("stableRS"))

        self.banner("1. Git holds the app; an Application syncs it (version blue)", "blue")
        first = repo.commit_all("demo app: Rollout demo (canary via NGINX, judged analysis), version blue")
        live.say("git", f"commit {first[:7]} image tag blue", "magenta")
        await client.create(APPLICATION, application_manifest(self.app, repo.url, self.ns, self.apps_ns), self.apps_ns)
        live.say("app", f"created Application {self.apps_ns}/{self.app} -> {repo.url} (automated sync)", "magenta")
        await wait("the Rollout to be Healthy on blue and the Application Synced/Healthy",
                   lambda: healthy_on("blue") and app_at(first, "Healthy"), 120)

        self.banner("2. Commit green: canary 20% -> judged analysis -> 50% -> pause -> 100%", "green")
        repo.set_image_tag("green")
        second = repo.commit_all("demo app: version green")
        live.say("git", f"commit {second[:7]} image tag green (pushed; the remote's hook notifies the controller)",
                 "magenta")
        await wait("green to be promoted and the Application Synced/Healthy at the green commit",
                   lambda: healthy_on("green") and app_at(second, "Healthy"), 240)
        green_hash = str(rollout_status().get("stableRS"))

        self.banner("3. Commit red: its pods fail more requests; the judge should catch it", "red")
        repo.set_image_tag("red")
        third = repo.commit_all("demo app: version red")
        live.say("git", f"commit {third[:7]} image tag red", "magenta")

        def aborted_back_on_green() -> bool:
            st = rollout_status()
            return (st.get("phase") == "Degraded" and bool(st.get("abort")) and st.get("stableRS") == green_hash
                    and live.service_hash("demo-canary") == green_hash
                    and live.service_hash("demo-stable") == green_hash
                    and live.canary_weight() == 0 and app_at(third, "Degraded"))

        await wait("red to be aborted, traffic back on green and the Application Degraded", aborted_back_on_green, 180)
        live.refresh()

    def finish(self, repo: GitRepo, prometheus: str) -> None:
        self.banner(f"Done in {time.monotonic() - self.started:.0f}s: green was promoted, red was aborted", "done")
        spans = [f"{name} {end - begin:.0f}s"
                 for (name, begin), (_, end) in itertools.pairwise(self.marks)]
        self.console.print(f"[dim]chapters: {'; '.join(spans)}[/dim]", highlight=False)
        kube_bin = testbed_bin()
        path = f"{REPO / '.venv' / 'bin'}" + (f":{kube_bin}" if kube_bin else "") + ":$PATH"
        env = f"export KUBECONFIG={self.kubeconfig} PATH={path}"
        if kube_bin and not self.args.ci:
            self.console.print("\n[bold]The plugin's view of the Rollout now:[/bold]")
            subprocess.run([str(REPO / ".venv" / "bin" / "kubectl-rollouts"), "get", "rollout", "demo", "-n", self.ns],
                           env={**os.environ, "KUBECONFIG": self.kubeconfig,
                                "PATH": f"{REPO / '.venv' / 'bin'}:{kube_bin}:{os.environ.get('PATH', '')}"},
                           check=False)
        ns, apps = self.ns, self.apps_ns
        tries = [
            (f"kubectl rollouts get rollout demo -n {ns} --watch", "live tree of the Rollout (Ctrl-C to leave)"),
            (f"kubectl rollouts app get {self.app} -n {apps}", "the Application: sync, health, resources"),
            ("kubectl rollouts dashboard", "the story in a browser at http://127.0.0.1:3100/ (judge plots too)"),
            (f"kubectl get analysisruns -n {ns} -o yaml", "the judge's per-metric reasons"),
            (f"cd {repo.work}", "the Git working clone the Application follows"),
            ("sed -i 's/demo-app:red/demo-app:green/' app/rollout.yaml", "a GitOps rollback to green ..."),
            ("git commit -qam 'back to green' && git push -q origin HEAD:main", "... pushed (webhook: seconds)"),
            (f"kubectl rollouts promote demo -n {ns}", "during an update: skip the current pause or step"),
            (f"kubectl rollouts abort demo -n {ns}", "during an update: back to the stable version"),
        ]
        stops = [(self.stop_command(), "controller, Prometheus, exporter, demo namespaces"),
                 (f"make -C {REPO} cluster-down", "the local control plane")]
        width = max(len(c) for c, _ in tries + stops) + 2

        def rows(pairs: list[tuple[str, str]]) -> str:
            return "\n".join(f"  {command:<{width}}# {why}" for command, why in pairs)

        self.console.print(
            f"\n[bold]The sandbox is still running. Try:[/bold]\n  {env}\n{escape(rows(tries))}\n"
            f"  Prometheus: {prometheus}/graph?g0.expr=sum+by+(version)(rate(demo_http_requests_total%5B30s%5D))\n"
            f"  Logs: {self.state_dir / 'logs'}\n\n[bold]Stop it:[/bold]\n{escape(rows(stops))}\n",
            highlight=False, soft_wrap=True)

    def stop_command(self) -> str:
        command = f"{sys.executable} {DEMO / 'run.py'} --stop"
        if self.state_dir != Path(DEFAULT_STATE_DIR).resolve():
            command += f" --state-dir {self.state_dir}"
        return command


def application_manifest(name: str, repo_url: str, namespace: str, apps_namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": name, "namespace": apps_namespace},
        "spec": {
            "project": "default",
            "source": {"repoURL": repo_url, "path": "app", "targetRevision": "main"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
        },
    }


async def clean_previous(client: KubeClient | None, state_dir: Path, say: Callable[[str], None]) -> None:
    """Stop what the previous demo recorded and delete its namespaces and files."""
    state = State.load(state_dir / "state.json")
    stopped = stop_recorded(state)
    if stopped:
        say(f"stopped the demo's {', '.join(stopped)} (pids recorded in {state_dir / 'state.json'})")
    namespaces = [n for n in (state.namespace, state.applications_namespace) if n]
    if client is not None and namespaces:
        await delete_namespaces(client, namespaces)
        say(f"deleted namespaces {', '.join(namespaces)}")
    for sub in ("git", "prometheus", "logs", "repo-cache", "state.json"):
        target = state_dir / sub
        if target.is_dir():
            shutil.rmtree(target, ignore_errors=True)
        elif target.exists():
            target.unlink()


async def stop(args: argparse.Namespace, console: Console) -> int:
    state_dir = Path(args.state_dir)
    client: KubeClient | None = None
    try:
        client = await KubeClient.connect(args.kubeconfig)
        await client.list(NAMESPACE)
    except ApiError as exc:
        console.print(f"the cluster is not reachable ({exc}); stopping the processes only")
        if client is not None:
            await client.close()
        client = None
    try:
        await clean_previous(client, state_dir, console.print)
    finally:
        if client is not None:
            await client.close()
    console.print("the demo is stopped (the local control plane keeps running: make cluster-down stops it)")
    return 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    p.add_argument("--stop", action="store_true", help="stop the running demo and delete its namespaces")
    p.add_argument("--ci", action="store_true", help="tighter timings for tests; no plugin view at the end")
    p.add_argument("--kubeconfig", default=str(REPO / ".cluster" / "kubeconfig"))
    p.add_argument("--namespace", default="demo", help="namespace of the app (default demo)")
    p.add_argument("--applications-namespace", default="demo-apps", help="namespace of the Application")
    # Resources are tracked by Application name (as Argo CD does), so two demos on one cluster need two names.
    p.add_argument("--application", default="demo", help="name of the Application (default demo)")
    p.add_argument("--state-dir", default=DEFAULT_STATE_DIR,
                   help="where the Git repository, Prometheus data, logs and recorded pids live")
    return p.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    console = Console(highlight=False, soft_wrap=True)
    if args.stop:
        return asyncio.run(stop(args, console))
    if not Path(args.kubeconfig).exists():
        console.print(f"[red]no kubeconfig at {args.kubeconfig}[/red]: start the local control plane: make cluster")
        return 2
    demo = Demo(args, console)
    try:
        asyncio.run(demo.run())
    except DemoFailed as exc:
        console.print("\n[bold red]The demo did not complete:[/bold red]")
        console.print(str(exc), highlight=False, markup=False)
        console.print(f"Its processes are still running for inspection; stop them with: {sys.argv[0]} --stop")
        return 1
    except KeyboardInterrupt:
        console.print(f"\ninterrupted; the sandbox keeps running. Stop it with: {sys.argv[0]} --stop")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
