#!/usr/bin/env python3
"""Start, reuse and stop a real Kubernetes control plane on loopback, for tests and the demo.

Why a hand-written supervisor rather than kwokctl: every flag is explicit here, so we can be sure each
component binds 127.0.0.1 only, and the processes are ours to stop. The components are the real ones
(etcd, kube-apiserver, kube-controller-manager, kube-scheduler) built from the published Go modules by
testbed/build.sh; kwok stands in for kubelets (fake Ready nodes, pods moved to Running/Ready, deleted pods
finalised), with kwok's own node stages and our pod stages (testbed/kwok/: missing images, failing commands,
readiness gates, hook delays and Job scripts behave as on a kubelet).

State lives in <repo>/.cluster: kubeconfig, certificates, etcd data, logs/, pids.json. Standard library only,
so `make cluster` works before any virtual environment exists.

    python3 testbed/cluster.py up      # idempotent: reuses a healthy cluster
    python3 testbed/cluster.py down    # stops only what `up` started, removes the state
    python3 testbed/cluster.py status

A second, independent control plane (another etcd, API server, CA and token; for multi-cluster tests) runs
beside the first with `--name NAME`: its state in <repo>/.cluster-NAME and every port moved by
ROLLOUTS_PORT_OFFSET (default 50). `--minimal` starts only etcd, the API server and the controller manager's
ServiceAccount, token, namespace and garbage-collector controllers (no nodes, scheduler or kwok): what a
destination cluster of Applications needs, at a fraction of the memory. `apiserver-stop` / `apiserver-start`
take its API server away and bring it back (an unreachable cluster, for the tests that it recovers).

    python3 testbed/cluster.py up --name b --minimal
    python3 testbed/cluster.py apiserver-stop --name b
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TESTBED = REPO / "testbed"
STATE = Path(os.environ.get("ROLLOUTS_CLUSTER_DIR", REPO / ".cluster"))
LOGS = STATE / "logs"
PIDS = STATE / "pids.json"
KUBECONFIG = STATE / "kubeconfig"
ADMIN_TOKEN_FILE = STATE / "admin-token"
CONTEXT = "testbed"
MINIMAL = False
MINIMAL_CONTROLLERS = ("serviceaccount-token-controller", "serviceaccount-controller", "namespace-controller",
                       "garbage-collector-controller")

HOST = "127.0.0.1"
PORTS = {
    "etcd-client": int(os.environ.get("ROLLOUTS_ETCD_PORT", "23790")),
    "etcd-peer": int(os.environ.get("ROLLOUTS_ETCD_PEER_PORT", "23800")),
    "apiserver": int(os.environ.get("ROLLOUTS_APISERVER_PORT", "16443")),
    "controller-manager": int(os.environ.get("ROLLOUTS_KCM_PORT", "16257")),
    "scheduler": int(os.environ.get("ROLLOUTS_SCHEDULER_PORT", "16259")),
    "kwok": int(os.environ.get("ROLLOUTS_KWOK_PORT", "16280")),
}


def configure(name: str | None, *, minimal: bool = False) -> None:
    """A named plane: its own state directory, context name and ports (the first plane's + the offset)."""
    global STATE, LOGS, PIDS, KUBECONFIG, ADMIN_TOKEN_FILE, CONTEXT, MINIMAL
    MINIMAL = minimal
    if not name:
        return
    offset = int(os.environ.get("ROLLOUTS_PORT_OFFSET", "50"))
    STATE = REPO / f".cluster-{name}"
    LOGS, PIDS, KUBECONFIG, ADMIN_TOKEN_FILE = (STATE / "logs", STATE / "pids.json", STATE / "kubeconfig",
                                               STATE / "admin-token")
    CONTEXT = f"testbed-{name}"
    for key in PORTS:
        PORTS[key] += offset
NODES = ("kwok-node-0", "kwok-node-1")
# Node stages come from kwok's own module; pod stages are ours (testbed/kwok/README.md): pods behave as on a
# kubelet for missing images, failing commands, readiness gates, hook delays and Job scripts.
KWOK_STAGES = (
    "kustomize/stage/node/fast/node-initialize.yaml",
    "kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
)
POD_STAGES = tuple(sorted((TESTBED / "kwok").glob("pod-*.yaml")))


def say(msg: str) -> None:
    print(f"[cluster {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def versions() -> dict[str, str]:
    out: dict[str, str] = {}
    for line in (TESTBED / "versions.env").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
    return out


def build() -> Path:
    """Build (or find cached) binaries; returns their directory."""
    res = subprocess.run(["bash", str(TESTBED / "build.sh")], stdout=subprocess.PIPE, text=True, check=False)
    if res.returncode != 0:
        sys.exit(f"testbed: building the control plane failed (exit {res.returncode}); see the output above")
    return Path(res.stdout.strip().splitlines()[-1])


def build_tools() -> Path:
    """Build (or find cached) helm and kustomize for Application sources; returns their directory."""
    res = subprocess.run(["bash", str(TESTBED / "build-tools.sh")], stdout=subprocess.PIPE, text=True, check=False)
    if res.returncode != 0:
        sys.exit(f"testbed: building helm/kustomize failed (exit {res.returncode}); see the output above")
    return Path(res.stdout.strip().splitlines()[-1])


def go_module_dir(module: str) -> Path:
    env = {**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=mod"}
    res = subprocess.run(["go", "mod", "download", "-json", module], cwd=TESTBED, env=env,
                         stdout=subprocess.PIPE, text=True, check=True)
    return Path(json.loads(res.stdout)["Dir"])


# -- health -------------------------------------------------------------------------------------


def _ssl_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(STATE / "pki" / "ca.crt"))
    return ctx


def api(method: str, path: str, body: object | None = None, timeout: float = 5) -> tuple[int, dict]:
    token = ADMIN_TOKEN_FILE.read_text().strip()
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        f"https://{HOST}:{PORTS['apiserver']}{path}", data=data, method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, context=_ssl_context(), timeout=timeout) as resp:
            raw = resp.read()
            return resp.status, (json.loads(raw) if raw.startswith(b"{") else {"text": raw.decode()})
    except urllib.error.HTTPError as err:
        raw = err.read()
        return err.code, (json.loads(raw) if raw.startswith(b"{") else {"text": raw.decode()})


def pids() -> dict[str, int]:
    try:
        return {k: int(v) for k, v in json.loads(PIDS.read_text()).items()}
    except (OSError, ValueError):
        return {}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie is not alive
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def healthy() -> bool:
    running = pids()
    if not running or not all(alive(p) for p in running.values()):
        return False
    if not KUBECONFIG.exists() or not ADMIN_TOKEN_FILE.exists():
        return False
    try:
        code, _ = api("GET", "/readyz", timeout=3)
    except OSError:
        return False
    return code == 200


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


# -- state --------------------------------------------------------------------------------------


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_pki() -> None:
    pki = STATE / "pki"
    pki.mkdir(parents=True, exist_ok=True)
    if not (pki / "ca.crt").exists():
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650", "-subj", "/CN=rollouts-testbed-ca",
                "-keyout", str(pki / "ca.key"), "-out", str(pki / "ca.crt"))
        (pki / "san.cnf").write_text(
            "[req]\ndistinguished_name=dn\n[dn]\n[ext]\nsubjectAltName=IP:127.0.0.1,DNS:localhost,"
            "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:10.96.0.1\n"
            "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
        )
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=kube-apiserver",
                "-keyout", str(pki / "apiserver.key"), "-out", str(pki / "apiserver.csr"))
        openssl("x509", "-req", "-in", str(pki / "apiserver.csr"), "-CA", str(pki / "ca.crt"),
                "-CAkey", str(pki / "ca.key"), "-CAcreateserial", "-days", "3650",
                "-extfile", str(pki / "san.cnf"), "-extensions", "ext", "-out", str(pki / "apiserver.crt"))
        openssl("genrsa", "-out", str(pki / "sa.key"), "2048")
        openssl("rsa", "-in", str(pki / "sa.key"), "-pubout", "-out", str(pki / "sa.pub"))
    token = os.urandom(16).hex()
    ADMIN_TOKEN_FILE.write_text(token)
    # One static token in system:masters for the admin, the controller manager, the scheduler and kwok.
    (pki / "tokens.csv").write_text(f'{token},admin,admin-uid,"system:masters"\n')
    user = "admin" if CONTEXT == "testbed" else f"admin-{CONTEXT}"
    KUBECONFIG.write_text(
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: {CONTEXT}\n  cluster:\n    server: https://{HOST}:{PORTS['apiserver']}\n"
        f"    certificate-authority: {pki / 'ca.crt'}\n"
        f"users:\n- name: {user}\n  user:\n    token: {token}\n"
        f"contexts:\n- name: {CONTEXT}\n  context:\n    cluster: {CONTEXT}\n    user: {user}\n"
        "    namespace: default\n"
        f"current-context: {CONTEXT}\n"
    )
    KUBECONFIG.chmod(0o600)


def kwok_config_text(kwok_dir: Path) -> str:
    docs = [(kwok_dir / rel).read_text() for rel in KWOK_STAGES] + [p.read_text() for p in POD_STAGES]
    return "\n---\n".join(d.strip() for d in docs) + "\n"


def kwok_config(kwok_dir: Path) -> Path:
    # Nodes heartbeat through Leases; keep the heartbeat faster than the node-monitor grace period.
    path = STATE / "kwok.yaml"
    path.write_text(kwok_config_text(kwok_dir))
    return path


def spawn(name: str, argv: list[str]) -> int:
    LOGS.mkdir(parents=True, exist_ok=True)
    log = open(LOGS / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True, cwd=STATE)
    running = pids()
    running[name] = proc.pid
    PIDS.write_text(json.dumps(running))
    return proc.pid


def wait_for(what: str, check, timeout: float, log_name: str | None = None) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        if log_name and pids().get(log_name) and not alive(pids()[log_name]):
            tail = (LOGS / f"{log_name}.log").read_text(errors="replace")[-3000:]
            sys.exit(f"testbed: {log_name} exited while waiting for {what}; last log lines:\n{tail}")
        time.sleep(0.2)
    sys.exit(f"testbed: timed out after {timeout:.0f}s waiting for {what}; logs in {LOGS}")


def spawn_kwok(binaries: Path, kwok_dir: Path) -> int:
    return spawn("kwok", [
        str(binaries / "kwok"), f"--kubeconfig={KUBECONFIG}", f"--config={kwok_config(kwok_dir)}",
        "--manage-all-nodes=false", "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
        "--cidr=10.0.0.1/16", f"--node-ip={HOST}", "--node-lease-duration-seconds=40",
        f"--server-address={HOST}:{PORTS['kwok']}",
    ])


def refresh_kwok_stages() -> None:
    """A running cluster started with other stage files (an older checkout) gets kwok restarted with these."""
    kwok_dir = go_module_dir(f"sigs.k8s.io/kwok@{versions()['KWOK_VERSION']}")
    current = STATE / "kwok.yaml"
    if current.exists() and current.read_text() == kwok_config_text(kwok_dir):
        return
    pid = pids().get("kwok")
    if pid and alive(pid):
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
    spawn_kwok(build(), kwok_dir)
    say("kwok restarted with the current pod stages (testbed/kwok/)")


def up() -> None:
    if not MINIMAL:
        build_tools()  # the tests' Helm and kustomize sources run the real binaries (tests/conftest.py finds them)
    if healthy():
        if not MINIMAL:
            refresh_kwok_stages()
        say(f"reusing the running cluster (kubeconfig {KUBECONFIG})")
        return
    if pids():
        say("a previous cluster is unhealthy or partly stopped; cleaning it up")
        down(quiet=True)
    busy = [f"{name}:{port}" for name, port in PORTS.items() if not port_free(port)]
    if busy:
        sys.exit(f"testbed: ports already in use by another program: {', '.join(busy)} "
                 "(set ROLLOUTS_*_PORT to move them)")
    started = time.monotonic()
    binaries = build()
    kwok_dir = None if MINIMAL else go_module_dir(f"sigs.k8s.io/kwok@{versions()['KWOK_VERSION']}")
    STATE.mkdir(parents=True, exist_ok=True)
    make_pki()
    pki = STATE / "pki"
    t0 = time.monotonic()

    etcd_url = f"http://{HOST}:{PORTS['etcd-client']}"
    peer_url = f"http://{HOST}:{PORTS['etcd-peer']}"
    spawn("etcd", [
        str(binaries / "etcd"), "--name=testbed", f"--data-dir={STATE / 'etcd'}",
        f"--listen-client-urls={etcd_url}", f"--advertise-client-urls={etcd_url}",
        f"--listen-peer-urls={peer_url}", f"--initial-advertise-peer-urls={peer_url}",
        f"--initial-cluster=testbed={peer_url}", "--unsafe-no-fsync", "--log-level=warn",
        "--quota-backend-bytes=4294967296",
    ])
    wait_for("etcd", lambda: urllib.request.urlopen(f"{etcd_url}/health", timeout=2).status == 200, 30, "etcd")

    spawn_apiserver(binaries)
    wait_for("kube-apiserver /readyz", lambda: api("GET", "/readyz", timeout=2)[0] == 200, 90, "kube-apiserver")

    controllers = ",".join(MINIMAL_CONTROLLERS) if MINIMAL else "*,-nodeipam,-cloud-node-lifecycle"
    spawn("kube-controller-manager", [
        str(binaries / "kube-controller-manager"), f"--kubeconfig={KUBECONFIG}",
        f"--authentication-kubeconfig={KUBECONFIG}", f"--authorization-kubeconfig={KUBECONFIG}",
        f"--bind-address={HOST}", f"--secure-port={PORTS['controller-manager']}", "--leader-elect=false",
        f"--service-account-private-key-file={pki / 'sa.key'}", f"--root-ca-file={pki / 'ca.crt'}",
        "--use-service-account-credentials=false", f"--controllers={controllers}",
        "--concurrent-replicaset-syncs=10", "--concurrent-deployment-syncs=10", "--kube-api-qps=400",
        "--kube-api-burst=800", "--v=1",
    ])
    if kwok_dir is not None:
        start_nodes(binaries, kwok_dir)
    wait_for("the default ServiceAccount", lambda: api("GET", "/api/v1/namespaces/default/serviceaccounts/default")[0]
             == 200, 60, "kube-controller-manager")
    say(f"cluster ready in {time.monotonic() - t0:.1f}s (total {time.monotonic() - started:.1f}s); "
        f"kubeconfig {KUBECONFIG}")


def spawn_apiserver(binaries: Path) -> int:
    pki = STATE / "pki"
    etcd_url = f"http://{HOST}:{PORTS['etcd-client']}"
    return spawn("kube-apiserver", [
        str(binaries / "kube-apiserver"), f"--etcd-servers={etcd_url}",
        f"--bind-address={HOST}", f"--advertise-address={HOST}", f"--secure-port={PORTS['apiserver']}",
        f"--cert-dir={pki}", f"--tls-cert-file={pki / 'apiserver.crt'}",
        f"--tls-private-key-file={pki / 'apiserver.key'}", f"--client-ca-file={pki / 'ca.crt'}",
        "--service-cluster-ip-range=10.96.0.0/16", "--service-account-issuer=https://kubernetes.default.svc",
        f"--service-account-key-file={pki / 'sa.pub'}", f"--service-account-signing-key-file={pki / 'sa.key'}",
        f"--token-auth-file={pki / 'tokens.csv'}", "--authorization-mode=RBAC", "--allow-privileged=true",
        # No kubelet mounts tokens on kwok's fake nodes, and waiting for each new namespace's default
        # ServiceAccount only slows tests down.
        "--disable-admission-plugins=ServiceAccount",
        "--endpoint-reconciler-type=none", "--watch-cache=true", "--v=1",
    ])


def start_nodes(binaries: Path, kwok_dir: Path) -> None:
    """The scheduler, kwok and the fake nodes it keeps Ready (not on a --minimal plane)."""
    spawn("kube-scheduler", [
        str(binaries / "kube-scheduler"), f"--kubeconfig={KUBECONFIG}",
        f"--authentication-kubeconfig={KUBECONFIG}", f"--authorization-kubeconfig={KUBECONFIG}",
        f"--bind-address={HOST}", f"--secure-port={PORTS['scheduler']}", "--leader-elect=false",
        "--kube-api-qps=400", "--kube-api-burst=800", "--v=1",
    ])
    spawn_kwok(binaries, kwok_dir)
    for node in NODES:
        code, body = api("POST", "/api/v1/nodes", {
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": node, "annotations": {"kwok.x-k8s.io/node": "fake"},
                         "labels": {"type": "kwok", "kubernetes.io/hostname": node, "kubernetes.io/os": "linux"}},
            "status": {"allocatable": {"cpu": "64", "memory": "256Gi", "pods": "5000"},
                       "capacity": {"cpu": "64", "memory": "256Gi", "pods": "5000"}},
        })
        if code not in (201, 409):
            sys.exit(f"testbed: creating node {node} failed: {code} {body}")

    def nodes_ready() -> bool:
        _, body = api("GET", "/api/v1/nodes")
        ready = [n for n in body.get("items", [])
                 if any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"].get("conditions", []))]
        return len(ready) >= len(NODES)

    wait_for("kwok to mark the fake nodes Ready", nodes_ready, 60, "kwok")


def apiserver_stop() -> None:
    """Stop the API server only (etcd and the rest keep running): the cluster becomes unreachable."""
    pid = pids().get("kube-apiserver")
    if not pid or not alive(pid):
        say("the API server is not running")
        return
    # Killed, not terminated: a graceful shutdown drains watches for up to a minute, and a cluster that goes
    # away is what the tests need (etcd keeps the data; `apiserver-start` brings the same cluster back).
    os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    wait_for("the API server's port to be free", lambda: port_free(PORTS["apiserver"]), 20)
    say("API server stopped")


def apiserver_start() -> None:
    pid = pids().get("kube-apiserver")
    if pid and alive(pid):
        say("the API server is running")
        return
    spawn_apiserver(build())
    wait_for("kube-apiserver /readyz", lambda: api("GET", "/readyz", timeout=2)[0] == 200, 90, "kube-apiserver")
    say("API server started")


def down(quiet: bool = False) -> None:
    running = pids()
    order = ["kwok", "kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd"]
    for name in sorted(running, key=lambda n: order.index(n) if n in order else -1):
        pid = running[name]
        if alive(pid):
            try:
                os.killpg(pid, signal.SIGTERM)
            except OSError:
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if alive(pid):
                os.killpg(pid, signal.SIGKILL)
    if STATE.exists():
        shutil.rmtree(STATE)
    if not quiet:
        say("cluster stopped" if running else "no cluster was running")


def status() -> int:
    if healthy():
        print(f"running; kubeconfig {KUBECONFIG}")
        return 0
    print("not running")
    return 1


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description="the local control plane")
    parser.add_argument("command", nargs="?", default="up",
                        choices=["up", "down", "status", "build", "apiserver-stop", "apiserver-start"])
    parser.add_argument("--name", default=os.environ.get("ROLLOUTS_CLUSTER_NAME") or None,
                        help="a second, independent plane (.cluster-NAME, ports + ROLLOUTS_PORT_OFFSET)")
    parser.add_argument("--minimal", action="store_true", help="no nodes, scheduler or kwok")
    args = parser.parse_args()
    configure(args.name, minimal=args.minimal)
    if args.command == "status":
        return status()
    if args.command == "build":
        print(build())
        return 0
    {"up": up, "down": down, "apiserver-stop": apiserver_stop, "apiserver-start": apiserver_start}[args.command]()
    return 0


if __name__ == "__main__":
    sys.exit(main())
