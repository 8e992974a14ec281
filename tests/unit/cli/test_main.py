"""The plugin's command line under both names: parsing as Argo's (cobra/pflag), exit codes, speed of --help and
version, kubectl's generic flags, and one-line errors without a cluster."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from rollouts.cli.connection import ConnectionFlags, merge_kubeconfigs, namespace_from_config, resolve
from rollouts.cli.errors import CliError
from rollouts.cli.invocation import program_names
from rollouts.cli.main import build_parser

BIN = Path(sys.executable).parent
PLUGINS = ["kubectl-rollouts", "kubectl-argo-rollouts"]


def run(*args: str, name: str = "kubectl-argo-rollouts", env: dict[str, str] | None = None,
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / name), *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def parse(*argv: str) -> object:
    return build_parser(argv).parse_args(list(argv))


@pytest.mark.parametrize(("argv", "namespace", "name"), [
    (["get", "rollout", "web", "-n", "shop"], "shop", "web"),
    (["-n", "shop", "get", "rollout", "web"], "shop", "web"),
    (["--namespace=shop", "get", "ro", "web"], "shop", "web"),
    (["-n", "ignored", "get", "rollouts", "web", "-n", "shop"], "shop", "web"),
    (["get", "rollout", "web"], None, "web"),
], ids=["flag-after", "flag-before", "alias-ro", "after-wins", "no-namespace"])
def test_common_flags_anywhere(argv: list[str], namespace: str | None, name: str) -> None:
    args = parse(*argv)
    assert (args.command, args.namespace, args.name) == ("get", namespace, name)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("argv", "watch"), [
    (["status", "web"], True),
    (["status", "web", "--watch=false"], False),
    (["status", "--watch", "web"], True),
    (["status", "web", "-w=0"], False),
    (["status", "web", "--watch=TRUE"], True),
], ids=["default-watches", "watch-false", "bare-flag-keeps-the-name", "short-false", "upper-true"])
def test_status_watches_by_default_and_takes_pflag_booleans(argv: list[str], watch: bool) -> None:
    args = parse(*argv)
    assert (args.name, args.watch) == ("web", watch)  # type: ignore[attr-defined]


def test_subcommand_arguments() -> None:
    assert parse("status", "web", "--timeout", "5m", "-o", "json").timeout == "5m"  # type: ignore[attr-defined]
    assert parse("promote", "web", "--full").full is True  # type: ignore[attr-defined]
    assert parse("undo", "web", "--to-revision=3").to_revision == 3  # type: ignore[attr-defined]
    assert parse("retry", "rollout", "a", "b").names == ["a", "b"]  # type: ignore[attr-defined]
    assert parse("abort", "a", "b").names == ["a", "b"]  # type: ignore[attr-defined]
    assert parse("terminate", "ar", "run-1").names == ["run-1"]  # type: ignore[attr-defined]
    assert parse("set", "image", "web", "app=nginx:1").assignment == "app=nginx:1"  # type: ignore[attr-defined]
    args = parse("list", "rollouts", "-A", "-w", "--name", "web", "--timestamps")
    assert (args.all_namespaces, args.watch, args.name, args.timestamps) == (True, True, "web", True)  # type: ignore
    assert parse("get", "rollout", "web", "-w", "--timeout-seconds", "60").timeout_seconds == 60  # type: ignore
    assert parse("lint", "-f", "a.yaml").filename == "a.yaml"  # type: ignore[attr-defined]
    assert parse("restart", "web", "--in", "10s").restart_in == "10s"  # type: ignore[attr-defined]
    args = parse("create", "analysisrun", "--from", "t", "-a", "x=1", "-a", "y=2", "--generate-name", "g-")
    assert (args.resource, args.from_template, args.arguments) == ("analysisrun", "t", ["x=1", "y=2"])  # type: ignore
    assert parse("create", "-f", "a.yaml", "-f", "b.yaml").filenames == ["a.yaml", "b.yaml"]  # type: ignore


def test_kubectl_generic_flags() -> None:
    args = parse("--as", "jane", "--as-group", "devs", "--as-group", "ops", "--server", "https://x:6443", "--token",
                 "t0k", "--request-timeout", "5s", "--cluster", "c", "--user", "u", "--insecure-skip-tls-verify",
                 "--certificate-authority", "/ca.crt", "-v", "6", "get", "rollout", "web", "--context=prod")
    assert (args.as_user, args.as_groups, args.server, args.token, args.request_timeout, args.cluster,  # type: ignore
            args.user, args.insecure_skip_tls_verify, args.certificate_authority, args.kloglevel,  # type: ignore
            args.context) == ("jane", ["devs", "ops"], "https://x:6443", "t0k", "5s", "c", "u", True,  # type: ignore
                              "/ca.crt", 6, "prod")


def test_flags_are_never_abbreviated() -> None:
    """`--in` is restart's flag, not a prefix of `--insecure-skip-tls-verify` (pflag does not abbreviate)."""
    with pytest.raises(CliError, match="unrecognized arguments: --wat"):
        parse("status", "web", "--wat")


# What makes --help and version slow is importing the heavy libraries (the Kubernetes client, pydantic, aiohttp,
# numpy...), about 0.1 s against 1 s; wall time on a shared machine measures the neighbours, so the cause is
# asserted instead.
HEAVY = ("kubernetes_asyncio", "aiohttp", "yaml", "pydantic", "rich", "structlog", "asyncio", "rollouts.kube",
         "rollouts.api", "numpy", "scipy", "prometheus_client", "jsonpath_ng", "jsonpatch")


@pytest.mark.parametrize("name", PLUGINS)
@pytest.mark.parametrize("argv", [["--help"], ["version"], ["get", "--help"], ["version", "--short"]],
                         ids=["help", "version", "get-help", "version-short"])
def test_help_and_version_import_nothing_heavy(name: str, argv: list[str]) -> None:
    """`--help` and `version` stay fast (~0.1 s, measured by benchmarks/plugin_bench.py) because they import no
    client, YAML, pydantic or asyncio module: checked here without a clock."""
    probe = ("import sys\nfrom rollouts.cli.main import main\n"
             f"try:\n    code = main({argv!r}, argv0={name!r})\nexcept SystemExit as exit:\n    code = exit.code\n"
             f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r} or m in {HEAVY!r})\n"
             "print('HEAVY', heavy, code, file=sys.stderr)\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.stderr.strip().splitlines()[-1] == "HEAVY [] 0", result.stderr


def test_both_names_one_program() -> None:
    assert program_names("/usr/local/bin/kubectl-argo-rollouts") == ("kubectl argo rollouts", "kubectl-argo-rollouts")
    assert program_names("kubectl-rollouts") == ("kubectl rollouts", "kubectl-rollouts")
    argo = run("--help")
    assert argo.stdout.startswith("usage: kubectl argo rollouts") and "kubectl argo rollouts status guestbook" in (
        argo.stdout)
    ours = run("--help", name="kubectl-rollouts")
    assert ours.stdout.startswith("usage: kubectl rollouts")
    assert "kubectl argo rollouts set image my-rollout" in run("set", "image", "--help").stdout


def test_version() -> None:
    """TestVersionCmd: the name, then build details; --short only the first line."""
    full = run("version").stdout.splitlines()
    assert full[0] == "kubectl-argo-rollouts: v0.1.0" and any(line.startswith("  Platform: ") for line in full)
    assert run("version", "--short").stdout == "kubectl-argo-rollouts: v0.1.0\n"
    assert run("version", "--short", name="kubectl-rollouts").stdout == "kubectl-rollouts: v0.1.0\n"


def _error(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: "), result.stderr
    return result.stderr.splitlines()[0]


@pytest.mark.parametrize("argv", [[], ["get"], ["list"], ["retry"], ["set"], ["terminate"]],
                         ids=["root", "get", "list", "retry", "set", "terminate"])
def test_a_group_without_its_command_prints_usage_and_exits_1(argv: list[str]) -> None:
    result = run(*argv)
    assert result.returncode == 1 and "usage: kubectl argo rollouts" in result.stderr and not result.stdout


@pytest.mark.parametrize("argv", [["get", "rollout"], ["status", "--bogus", "x"], ["status", "x", "--watch=maybe"],
                                  ["completion", "powershell"], ["promote"]],
                         ids=["missing-name", "unknown-flag", "bad-bool", "bad-shell", "promote-no-name"])
def test_usage_errors_exit_1_as_argo(argv: list[str]) -> None:
    result = run(*argv)
    assert result.returncode == 1
    _error(result)


def test_invalid_image_argument_fails_before_contacting_a_cluster(tmp_path: Path) -> None:
    result = run("set", "image", "web", "web=Nginx:1", "--kubeconfig", str(tmp_path / "none"))
    assert result.returncode == 1
    assert _error(result) == ("Error: invalid image argument 'web=Nginx:1': 'Nginx:1' is not a valid image reference "
                              "(repository names must be lower-case)")


def test_bad_timeout_is_an_error(tmp_path: Path) -> None:
    kubeconfig = _kubeconfig(tmp_path)
    result = run("status", "web", "--timeout", "soon", "--kubeconfig", str(kubeconfig))
    assert result.returncode == 1
    assert 'invalid argument "soon" for "-t, --timeout" flag' in _error(result)


def test_missing_kubeconfig(tmp_path: Path) -> None:
    result = run("get", "rollout", "web", "--kubeconfig", str(tmp_path / "none"))
    assert result.returncode == 1
    assert "cannot load Kubernetes configuration: kubeconfig file" in _error(result)


def _kubeconfig(tmp_path: Path, server: str = "https://127.0.0.1:9") -> Path:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"clusters: [{{name: c, cluster: {{server: '{server}'}}}}, {{name: other, cluster: {{server: 'https://o'}}}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: c, context: {cluster: c, user: u, namespace: shop}}]\n")
    return kubeconfig


def test_no_cluster_reachable(tmp_path: Path) -> None:
    kubeconfig = _kubeconfig(tmp_path)
    for argv in (["promote", "web"], ["get", "rollout", "web"], ["status", "web"], ["list", "rollouts"],
                 ["abort", "web"], ["terminate", "ar", "x"], ["create", "analysisrun", "--from", "t"]):
        result = run(*argv, "--kubeconfig", str(kubeconfig))
        assert result.returncode == 1, (argv, result.stderr)
        assert "cannot reach the API server at https://127.0.0.1:9" in _error(result)


def test_server_flag_overrides_the_kubeconfig(tmp_path: Path) -> None:
    kubeconfig = _kubeconfig(tmp_path)
    result = run("get", "rollout", "web", "--kubeconfig", str(kubeconfig), "--server", "https://127.0.0.1:7")
    assert "cannot reach the API server at https://127.0.0.1:7" in _error(result)


def test_namespace_from_kubeconfig_context() -> None:
    configs = [
        {"current-context": "dev", "contexts": [{"name": "dev", "context": {"namespace": "team-a"}},
                                                {"name": "prod", "context": {}}]},
    ]
    assert namespace_from_config(configs, None) == "team-a"
    assert namespace_from_config(configs, "prod") is None
    assert namespace_from_config(configs, "missing") is None
    assert namespace_from_config([], None) is None


def test_resolve_prefers_flag_then_context_then_default(tmp_path: Path) -> None:
    cfg = tmp_path / "config"
    cfg.write_text("current-context: dev\nclusters: [{name: k, cluster: {server: 'https://k'}}]\n"
                   "contexts: [{name: dev, context: {cluster: k, namespace: team-a}}, {name: bare, context: "
                   "{cluster: k}}]\n")
    env = {"KUBECONFIG": f"{tmp_path / 'absent'}{os.pathsep}{cfg}"}
    assert resolve(ConnectionFlags(namespace="x"), env).namespace == "x"
    assert resolve(ConnectionFlags(), env).namespace == "team-a"
    assert resolve(ConnectionFlags(context="bare"), env).namespace == "default"


def _server_and_user(target: object) -> tuple[dict[str, object], dict[str, object]]:
    config = target.config  # type: ignore[attr-defined]
    context = next(c["context"] for c in config["contexts"] if c["name"] == target.context)  # type: ignore
    cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
    user = next(u["user"] for u in config["users"] if u["name"] == context["user"])
    return cluster, user


def test_overrides_edit_the_chosen_cluster_and_user_as_clientcmd_does(tmp_path: Path) -> None:
    ca = base64.b64encode(b"CA").decode()
    cfg = tmp_path / "config"
    cfg.write_text(yaml.safe_dump({
        "current-context": "dev",
        "clusters": [{"name": "k", "cluster": {"server": "https://k", "certificate-authority-data": ca,
                                               "tls-server-name": "k.internal"}},
                     {"name": "k2", "cluster": {"server": "https://k2", "certificate-authority": "ca2.crt"}}],
        "users": [{"name": "me", "user": {"token": "mine"}}, {"name": "robot", "user": {"token": "theirs"}}],
        "contexts": [{"name": "dev", "context": {"cluster": "k", "user": "me", "namespace": "team-a"}}],
    }))
    env = {"KUBECONFIG": str(cfg)}
    cluster, user = _server_and_user(resolve(ConnectionFlags(), env))
    assert (cluster["server"], user["token"]) == ("https://k", "mine")
    cluster, user = _server_and_user(resolve(ConnectionFlags(cluster="k2", user="robot"), env))
    assert (cluster["server"], cluster["certificate-authority"], user["token"]) == (
        "https://k2", str(tmp_path / "ca2.crt"), "theirs")  # relative to the kubeconfig's directory
    cluster, user = _server_and_user(resolve(ConnectionFlags(server="https://x:6443", token="t0k",
                                                             insecure_skip_tls_verify=True), env))
    assert cluster == {"server": "https://x:6443", "insecure-skip-tls-verify": True}  # CA and tls-server-name gone
    assert user["token"] == "t0k"
    for flags, message in ((ConnectionFlags(context="nope"), 'context "nope" does not exist'),
                           (ConnectionFlags(cluster="nope"), 'cluster "nope" does not exist'),
                           (ConnectionFlags(user="nope"), 'auth info "nope" does not exist')):
        with pytest.raises(CliError, match=message):
            resolve(flags, env)


def test_server_and_token_without_any_kubeconfig(tmp_path: Path) -> None:
    target = resolve(ConnectionFlags(server="https://k:6443", token="t", namespace="ns"),
                     {"KUBECONFIG": str(tmp_path / "absent")})
    cluster, user = _server_and_user(target)
    assert (cluster["server"], user["token"], target.namespace) == ("https://k:6443", "t", "ns")


def test_impersonation_and_request_timeout_reach_the_target(tmp_path: Path) -> None:
    env = {"KUBECONFIG": str(_kubeconfig(tmp_path))}
    target = resolve(ConnectionFlags(as_user="jane", as_groups=("a", "b"), request_timeout=0), env)
    assert (target.impersonate_user, target.impersonate_groups, target.request_timeout) == ("jane", ("a", "b"), None)
    assert resolve(ConnectionFlags(), env).request_timeout == 60.0
    assert resolve(ConnectionFlags(request_timeout=5), env).request_timeout == 5


def test_kubeconfig_files_merge_first_wins() -> None:
    merged = merge_kubeconfigs([
        {"current-context": "a", "clusters": [{"name": "k", "cluster": {"server": "https://first"}}]},
        {"current-context": "b", "clusters": [{"name": "k", "cluster": {"server": "https://second"}},
                                              {"name": "j", "cluster": {"server": "https://j"}}]},
    ])
    assert merged["current-context"] == "a"
    assert [(c["name"], c["cluster"]["server"]) for c in merged["clusters"]] == [("k", "https://first"),
                                                                                  ("j", "https://j")]


def test_app_command_group_is_registered_lazily() -> None:
    top = run("--help", name="kubectl-rollouts")
    assert "    app " in top.stdout
    helped = run("app", "--help", name="kubectl-rollouts")
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("usage: kubectl rollouts app")


def test_negative_revision(tmp_path: Path) -> None:
    result = run("undo", "web", "--to-revision=-2", "--kubeconfig", str(tmp_path / "none"))
    assert result.returncode == 1
    assert _error(result) == "Error: unable to find specified revision -2 in history"
