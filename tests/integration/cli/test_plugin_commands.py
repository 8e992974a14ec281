"""`create`, `create analysisrun`, `terminate analysisrun`, shell completion from the cluster, and kubectl's generic
flags (`--as`, `--as-group`, `--server`, `--token`, `--certificate-authority`, `--insecure-skip-tls-verify`,
`--cluster`, `--user`, `--context`, `--request-timeout`, `-v`), against the real control plane."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from rollouts.kube.client import KubeClient
from rollouts.kube.errors import NotFound
from rollouts.kube.resources import ANALYSISRUN, CLUSTERANALYSISTEMPLATE, ROLLOUT, SERVICE, ResourceKind
from tests.support.plugin import (
    VENV_BIN,
    Kubectl,
    Result,
    admin_cluster,
    admin_token,
    error_line,
    finish,
    service_account_token,
)

pytestmark = pytest.mark.integration

ROLE = ResourceKind("rbac.authorization.k8s.io", "v1", "Role", "roles")
BINDING = ResourceKind("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings")


@pytest.fixture
def kubectl(kubectl_bin: str, kubeconfig: Path) -> Kubectl:
    return Kubectl(kubectl_bin, kubeconfig)


def _rollout(name: str) -> dict[str, object]:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": name},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "app", "image": "example/app:blue"}]}},
                     "strategy": {"canary": {"steps": [{"setWeight": 50}, {"pause": {}}]}}}}


TEMPLATE = {"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate", "metadata": {"name": "health"},
            "spec": {"args": [{"name": "service"}, {"name": "threshold", "value": "0.9"}],
                     "metrics": [{"name": "up", "count": 1, "successCondition": "result == 1",
                                  "provider": {"web": {"url": "http://{{args.service}}.invalid/health"}}}]}}


async def test_create_any_manifest_analysis_runs_and_terminate(kube: KubeClient, namespace: str, crds: None,
                                                               kubectl: Kubectl, tmp_path: Path) -> None:
    manifest = tmp_path / "app.yaml"
    manifest.write_text(yaml.safe_dump_all([
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
         "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}},
        _rollout("web"), TEMPLATE]))
    created = await kubectl.argo("create", "-f", str(manifest), "-n", namespace)
    assert created.code == 0, created.err
    assert created.out == ("service/web created\nrollout.argoproj.io/web created\n"
                           "analysistemplate.argoproj.io/health created\n")
    assert (await kube.get(SERVICE, "web", namespace))["spec"]["selector"] == {"app": "web"}
    assert (await kube.get(ROLLOUT, "web", namespace))["spec"]["replicas"] == 1

    again = await kubectl.argo("create", "-f", str(manifest), "-n", namespace)
    assert again.code == 1 and "already exists" in error_line(again)
    typo = tmp_path / "typo.yaml"
    typo.write_text(yaml.safe_dump({**_rollout("typo"), "spec": {**_rollout("typo")["spec"], "replicaz": 2}}))  # type: ignore[dict-item]
    strict = await kubectl.argo("create", "-f", str(typo), "-n", namespace)
    assert strict.code == 1 and "replicaz" in error_line(strict), strict.err
    assert await kube.get_or_none(ROLLOUT, "typo", namespace) is None, "nothing created from a rejected manifest"

    # an AnalysisRun from the AnalysisTemplate in the cluster: -a fills the argument without a value
    unresolved = await kubectl.argo("create", "analysisrun", "--from", "health", "-n", namespace)
    assert error_line(unresolved) == "Error: args.service was not resolved"
    bad_arg = await kubectl.argo("create", "analysisrun", "--from", "health", "-a", "service", "-n", namespace)
    assert error_line(bad_arg) == "Error: arguments must be in the form NAME=VALUE"
    neither = await kubectl.argo("create", "analysisrun", "-n", namespace)
    assert error_line(neither) == "Error: one of --from or --from-file must be specified"
    named = await kubectl.argo("create", "analysisrun", "--from", "health", "-a", "service=web", "--name", "run-1",
                               "--instance-id", "blue", "-n", namespace)
    assert (named.code, named.out) == (0, "analysisrun.argoproj.io/run-1 created\n"), named.err
    run = await kube.get(ANALYSISRUN, "run-1", namespace)
    assert run["spec"]["args"] == [{"name": "service", "value": "web"}, {"name": "threshold", "value": "0.9"}]
    assert run["spec"]["metrics"] == TEMPLATE["spec"]["metrics"]  # type: ignore[index]
    assert run["metadata"]["labels"]["argo-rollouts.argoproj.io/controller-instance-id"] == "blue"
    generated = await kubectl.argo("create", "ar", "--from-file", _write(tmp_path, TEMPLATE), "-a", "service=x",
                                   "-n", namespace)
    assert generated.code == 0 and generated.out.startswith("analysisrun.argoproj.io/health-"), generated.err
    missing = await kubectl.argo("create", "analysisrun", "--from", "nope", "-n", namespace)
    assert error_line(missing) == f"Error: analysistemplates.argoproj.io \"nope\" not found in namespace '{namespace}'"

    # ClusterAnalysisTemplates: --global --from (Argo's) or --from-cluster-template
    cluster_name = f"health-{namespace[-5:]}"
    cluster_file = _write(tmp_path, {**TEMPLATE, "kind": "ClusterAnalysisTemplate", "metadata": {"name": cluster_name}})
    try:
        made = await kubectl.argo("create", "-f", cluster_file)
        assert made.out == f"clusteranalysistemplate.argoproj.io/{cluster_name} created\n", made.err
        for flags in (["--global", "--from", cluster_name], ["--from-cluster-template", cluster_name]):
            from_cluster = await kubectl.argo("create", "analysisrun", *flags, "-a", "service=web", "-n", namespace)
            assert from_cluster.code == 0 and from_cluster.out.startswith(f"analysisrun.argoproj.io/{cluster_name}-")
    finally:
        with contextlib.suppress(NotFound):
            await kube.delete(CLUSTERANALYSISTEMPLATE, cluster_name)

    terminated = await kubectl.argo("terminate", "analysisrun", "run-1", "-n", namespace)
    assert (terminated.code, terminated.out) == (0, "analysisRun 'run-1' terminated\n"), terminated.err
    assert (await kube.get(ANALYSISRUN, "run-1", namespace))["spec"]["terminate"] is True
    nope = await kubectl.argo("terminate", "ar", "nope", "-n", namespace)
    assert error_line(nope) == f"Error: analysisrun 'nope' not found in namespace '{namespace}'"


def _write(tmp_path: Path, obj: dict[str, object]) -> str:
    path = tmp_path / f"{obj['kind']}-{id(obj)}.yaml"
    path.write_text(yaml.safe_dump(obj))
    return str(path)


async def test_create_watch_follows_the_new_rollout(kube: KubeClient, namespace: str, crds: None, kubectl: Kubectl,
                                                    tmp_path: Path) -> None:
    one = _write(tmp_path, _rollout("watched"))
    two = await kubectl.argo("create", "-f", one, "-f", one, "-w", "-n", namespace)
    assert error_line(two) == "Error: Cannot watch multiple resources"
    proc = await kubectl.start("argo", "rollouts", "create", "-f", one, "--watch", "-n", namespace)
    assert proc.stdout is not None
    assert await asyncio.wait_for(proc.stdout.readline(), 30) == b"rollout.argoproj.io/watched created\n"
    assert await asyncio.wait_for(proc.stdout.readline(), 30) == b"Name:            watched\n"
    proc.send_signal(signal.SIGINT)
    assert (await finish(proc, 30, "create -w")).code == 0


async def test_completion_names_come_from_the_cluster(kube: KubeClient, namespace: str, crds: None,
                                                      kubectl: Kubectl) -> None:
    for name in ("checkout", "cart", "catalog"):
        await kube.create(ROLLOUT, _rollout(name), namespace)
    await kube.create(ANALYSISRUN, {"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisRun",
                                    "metadata": {"name": "checkout-run"},
                                    "spec": {"metrics": TEMPLATE["spec"]["metrics"]}}, namespace)  # type: ignore[index]

    async def complete(*words: str, binary: str = "kubectl-argo-rollouts") -> list[str]:
        proc = await asyncio.create_subprocess_exec(f"{VENV_BIN}/{binary}", *words, stdout=subprocess.PIPE,
                                                    stderr=subprocess.PIPE, env=kubectl.env())
        result = await finish(proc, 60, words)
        assert result.code == 0, result.err
        return result.out.splitlines()

    assert await complete("__complete", "-n", namespace, "get", "rollout", "c") == ["cart", "catalog", "checkout",
                                                                                    ":4"]
    assert await complete("__complete", "-n", namespace, "promote", "ch") == ["checkout", ":4"]
    assert await complete("__complete", "--namespace", namespace, "abort", "cart", "") == ["catalog", "checkout",
                                                                                           ":4"]
    assert await complete("__complete", "-n", namespace, "terminate", "ar", "") == ["checkout-run", ":4"]
    namespaces = await complete("__complete", "get", "rollout", "-n", namespace[:-2])
    assert namespace in namespaces and namespaces[-1] == ":4"
    commands = [line.split("\t")[0] for line in await complete("__complete", "")]
    assert {"get", "list", "promote", "status", "create", "completion"} <= set(commands)
    assert await complete("__complete", "status", "x", "--wa") == ["--watch\tWatch the status of the rollout until "
                                                                   "it's done (default true)", ":4"]

    # kubectl's own completion asks kubectl_complete-argo-rollouts for the plugin's words
    through_kubectl = await kubectl("__complete", "argo", "rollouts", "-n", namespace, "get", "rollout", "ca")
    assert through_kubectl.out.splitlines()[:2] == ["cart", "catalog"], through_kubectl.out + through_kubectl.err

    # the bash script, sourced into a real bash, completes the same names
    script = (f'source <("{VENV_BIN}/kubectl-argo-rollouts" completion bash); '
              f'COMP_WORDS=(kubectl-argo-rollouts -n {namespace} get rollout ca); COMP_CWORD=5; '
              '_kubectl_argo_rollouts; printf "%s\\n" "${COMPREPLY[@]}"')
    proc = await asyncio.create_subprocess_exec("bash", "-c", script, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                                env=kubectl.env())
    bash = await finish(proc, 60, "bash completion")
    assert bash.out.split() == ["cart", "catalog"], bash.out + bash.err

    # fish asked for the completions of a command line, as at a prompt
    fish = await _shell(kubectl, "fish", "-c", f'"{VENV_BIN}/kubectl-argo-rollouts" completion fish | source; '
                        f'complete -C "kubectl-argo-rollouts -n {namespace} get rollout ca"')
    assert fish.out.split() == ["cart", "catalog"], fish.out + fish.err
    # zsh: the script's function with the completion system's _describe/_files standing in (what they are given)
    zsh = await _shell(kubectl, "zsh", "-c", "compdef() { :; }; _describe() { print -l -- \"${(@P)4}\"; }; "
                       "_files() { print FILES; }; "
                       f'source <("{VENV_BIN}/kubectl-argo-rollouts" completion zsh); '
                       f"words=(kubectl-argo-rollouts -n {namespace} get rollout ca); CURRENT=6; "
                       "_kubectl_argo_rollouts; words=(kubectl-argo-rollouts promo); CURRENT=2; "
                       "_kubectl_argo_rollouts; words=(kubectl-argo-rollouts lint -f ''); CURRENT=4; "
                       "_kubectl_argo_rollouts")
    assert zsh.out.splitlines() == ["cart", "catalog", "promote:Promote a rollout", "FILES"], zsh.out + zsh.err


async def _shell(kubectl: Kubectl, shell: str, *args: str) -> Result:
    proc = await asyncio.create_subprocess_exec(shell, *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                                env=kubectl.env())
    return await finish(proc, 60, f"{shell} completion")


async def test_impersonation_with_as_and_as_group(kube: KubeClient, namespace: str, crds: None,
                                                  kubectl: Kubectl) -> None:
    await kube.create(ROLLOUT, _rollout("shop"), namespace)
    await service_account_token(kube, kubectl, namespace, name="reader")
    reader = f"system:serviceaccount:{namespace}:reader"
    read = await kubectl.argo("status", "shop", "--watch=false", "--as", reader, "-n", namespace)
    assert read.code == 0, read.err
    denied = await kubectl.argo("pause", "shop", "--as", reader, "-n", namespace)
    assert "permission denied (RBAC 403)" in error_line(denied) and reader in denied.err

    # a Role bound to a group: allowed only when every --as-group header reaches the API server
    await kube.create(ROLE, {"metadata": {"name": "pauser"}, "rules": [
        {"apiGroups": ["argoproj.io"], "resources": ["rollouts"], "verbs": ["get", "patch"]}]}, namespace)
    await kube.create(BINDING, {"metadata": {"name": "pausers"}, "roleRef": {
        "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pauser"},
        "subjects": [{"kind": "Group", "name": "release-managers", "apiGroup": "rbac.authorization.k8s.io"}]},
        namespace)
    alone = await kubectl.argo("pause", "shop", "--as", "jane", "-n", namespace)
    assert alone.code == 1 and "jane" in alone.err
    grouped = await kubectl.argo("pause", "shop", "--as", "jane", "--as-group", "developers", "--as-group",
                                 "release-managers", "-n", namespace)
    assert (grouped.code, grouped.out) == (0, "rollout 'shop' paused\n"), grouped.err


async def test_server_token_ca_and_kubeconfig_overrides(kube: KubeClient, namespace: str, crds: None,
                                                        kubectl: Kubectl, kubeconfig: Path, tmp_path: Path) -> None:
    await kube.create(ROLLOUT, _rollout("shop"), namespace)
    cluster = admin_cluster(kubeconfig)
    token = admin_token(kubeconfig)
    nowhere = {"KUBECONFIG": str(tmp_path / "absent")}

    # no kubeconfig at all: --server and --token, with the CA or without verification
    for tls in (["--certificate-authority", cluster["certificate-authority"]], ["--insecure-skip-tls-verify"]):
        direct = await kubectl.argo("status", "shop", "--watch=false", "--server", cluster["server"], "--token", token,
                                    *tls, "-n", namespace, env=nowhere)
        assert direct.code == 0 and direct.out.startswith("Progressing"), direct.err
    bad_token = await kubectl.argo("status", "shop", "--watch=false", "--server", cluster["server"], "--token", "no",
                                   "--insecure-skip-tls-verify", "-n", namespace, env=nowhere)
    assert bad_token.code == 1 and "not authenticated (401)" in error_line(bad_token)

    # a kubeconfig whose current context points nowhere: --context, or --cluster with --user, pick the good ones
    multi = tmp_path / "multi.kubeconfig"
    multi.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "broken",
        "clusters": [{"name": "dead", "cluster": {"server": "https://127.0.0.1:9"}},
                     {"name": "good", "cluster": cluster}],
        "users": [{"name": "nobody", "user": {"token": "x"}}, {"name": "admin", "user": {"token": token}}],
        "contexts": [{"name": "broken", "context": {"cluster": "dead", "user": "nobody", "namespace": namespace}},
                     {"name": "fine", "context": {"cluster": "good", "user": "admin", "namespace": namespace}}]}))
    env = {"KUBECONFIG": str(multi)}
    assert "cannot reach the API server at https://127.0.0.1:9" in error_line(
        await kubectl.argo("status", "shop", "--watch=false", env=env))
    by_context = await kubectl.argo("status", "shop", "--watch=false", "--context", "fine", env=env)
    assert by_context.code == 0, by_context.err  # and the context's namespace
    by_parts = await kubectl.argo("get", "rollout", "shop", "--cluster", "good", "--user", "admin", env=env)
    assert by_parts.code == 0 and f"Namespace:       {namespace}" in by_parts.out, by_parts.err
    assert error_line(await kubectl.argo("get", "rollout", "shop", "--context", "gone", env=env)) == (
        'Error: context "gone" does not exist')

    traced = await kubectl.argo("-v", "6", "status", "shop", "--watch=false", "-n", namespace)
    assert traced.code == 0
    assert f"GET {cluster['server']}/apis/argoproj.io/v1alpha1/namespaces/{namespace}/rollouts/shop 200" in traced.err


@contextlib.asynccontextmanager
async def _silent_server() -> AsyncIterator[int]:
    """A TCP port that accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield int(sock.getsockname()[1])
    finally:
        sock.close()


async def test_request_timeout_gives_up_on_a_silent_server(kubectl: Kubectl, tmp_path: Path) -> None:
    async with _silent_server() as port:
        # without the flag the request would wait 60 s; with it the command fails well inside the 30 s deadline
        result = await kubectl.argo("get", "rollout", "shop", "--server", f"http://127.0.0.1:{port}", "--token", "t",
                                    "--request-timeout", "1s", "-n", "default",
                                    env={"KUBECONFIG": str(tmp_path / "absent")}, timeout=30)
    assert result.code == 1 and "127.0.0.1" in error_line(result), result.err
