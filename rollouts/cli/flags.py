"""Command-line parsing that behaves like Argo's plugin (cobra + pflag), on top of argparse.

What scripts written for `kubectl argo rollouts` rely on, and argparse does differently by default:

- Boolean flags take an optional `=value`: `status NAME --watch=false`, `-w=false`, `--no-color=true`
  (pflag's rule); a bare flag means true and never swallows the next word (`status --watch NAME`).
- Every error, a usage error included, is one `Error: ...` line on stderr and exit code 1 (cobra's
  `Execute` error -> `os.Exit(1)`), never argparse's exit code 2.
- kubectl's generic flags (`--kubeconfig`, `--context`, `-n`, `--server`, `--token`, `--as`, ...) are
  "persistent": accepted before or after the subcommand. Each subparser repeats them with SUPPRESS
  defaults, so a flag given after the subcommand wins and one given before it is not overwritten.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from rollouts.cli.errors import CliError

_TRUE = {"1", "t", "T", "true", "TRUE", "True"}
_FALSE = {"0", "f", "F", "false", "FALSE", "False"}


def go_bool(text: str) -> bool:
    """strconv.ParseBool, which pflag uses for `--flag=value`."""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise argparse.ArgumentTypeError(f'strconv.ParseBool: parsing "{text}": invalid syntax')


class GoBool(argparse.Action):
    """A boolean flag (`--watch`) that also accepts pflag's `--watch=true|false` spellings: the parser rewrites
    `--flag=<bool>` to `--flag` or to the hidden companion option `--flag=false` before argparse reads it."""

    def __init__(self, option_strings: Sequence[str], dest: str, default: Any = False, required: bool = False,
                 help: str | None = None, deprecated: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=default, required=required, help=help)
        self.deprecated = deprecated

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        if self.deprecated and option_string:
            name = max(self.option_strings, key=len)  # pflag names the long flag, whichever was typed
            print(f"Flag {name} has been deprecated, {self.deprecated}", file=sys.stderr)
        setattr(namespace, self.dest, True)


class CobraParser(argparse.ArgumentParser):
    """argparse with cobra's error convention and pflag's boolean flags (see the module docstring); flags are
    never abbreviated (`--in` is `--in`, not a prefix of `--insecure-skip-tls-verify`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise CliError(f"{message}\nSee '{self.prog} --help' for usage.", exit_code=1)

    def _spell_bools(self, args: list[str]) -> list[str]:
        """`--watch=0` -> `--watch=false`, `--watch=true` -> `--watch`, for this parser's boolean flags."""
        bools = {opt for action in self._actions if isinstance(action, GoBool) for opt in action.option_strings}
        out: list[str] = []
        for i, token in enumerate(args):
            if token == "--":
                return out + args[i:]
            flag, sep, value = token.partition("=")
            if sep and flag in bools:
                try:
                    out.append(flag if go_bool(value) else f"{flag}=false")
                except argparse.ArgumentTypeError as exc:
                    self.error(f'invalid argument "{value}" for "{flag}" flag: {exc}')
            else:
                out.append(token)
        return out

    def parse_known_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                         namespace: argparse.Namespace | None = None) -> tuple[argparse.Namespace, list[str]]:
        return super().parse_known_args(self._spell_bools(list(sys.argv[1:] if args is None else args)), namespace)


def add_bool(parser: argparse.ArgumentParser | Any, *names: str, default: Any = False, help: str,
             deprecated: str | None = None, dest: str | None = None) -> None:
    kwargs: dict[str, Any] = {"action": GoBool, "default": default, "help": help}
    if deprecated:
        kwargs["deprecated"] = deprecated
    if dest:
        kwargs["dest"] = dest
    action = parser.add_argument(*names, **kwargs)
    parser.add_argument(*(f"{name}=false" for name in names), dest=action.dest, action="store_false",
                        default=default, help=argparse.SUPPRESS)


def add_kubectl_flags(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """kubectl's generic flags (genericclioptions.ConfigFlags) and Argo's log-level flags."""
    def d(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    def h(text: str) -> str:
        return argparse.SUPPRESS if suppress else text

    def add(*names: str, help: str, **kw: Any) -> None:
        group.add_argument(*names, help=h(help), **kw)

    # On subcommands the flags are accepted but not listed: their help is the root's ("Global Flags").
    group = parser.add_argument_group("kubectl flags (accepted before or after any command)")
    add("-n", "--namespace", default=d(None), help="If present, the namespace scope for this CLI request")
    add("--kubeconfig", default=d(None), help="Path to the kubeconfig file to use for CLI requests.")
    add("--context", default=d(None), help="The name of the kubeconfig context to use")
    add("--cluster", default=d(None), help="The name of the kubeconfig cluster to use")
    add("--user", default=d(None), help="The name of the kubeconfig user to use")
    add("-s", "--server", default=d(None), help="The address and port of the Kubernetes API server")
    add("--token", default=d(None), help="Bearer token for authentication to the API server")
    add("--as", dest="as_user", default=d(None),
        help="Username to impersonate for the operation. User could be a regular user or a service account in a "
             "namespace.")
    add("--as-group", dest="as_groups", action="append", default=d(None),
        help="Group to impersonate for the operation, this flag can be repeated to specify multiple groups.")
    add("--as-uid", dest="as_uid", default=d(None), help="UID to impersonate for the operation.")
    add("--username", default=d(None), help="Username for basic authentication to the API server")
    add("--password", default=d(None), help="Password for basic authentication to the API server")
    add("--client-certificate", default=d(None), help="Path to a client certificate file for TLS")
    add("--client-key", default=d(None), help="Path to a client key file for TLS")
    add("--certificate-authority", default=d(None), help="Path to a cert file for the certificate authority")
    add_bool(group, "--insecure-skip-tls-verify", default=d(False),
             help=h("If true, the server's certificate will not be checked for validity. This will make your HTTPS "
                    "connections insecure"))
    add("--tls-server-name", default=d(None),
        help="Server name to use for server certificate validation. If it is not provided, the hostname used to "
             "contact the server is used")
    add("--request-timeout", default=d(None),
        help="The length of time to wait before giving up on a single server request. Non-zero values should "
             "contain a corresponding time unit (e.g. 1s, 2m, 3h). A value of zero means don't timeout requests. "
             "(default 60s)")
    add("--cache-dir", default=d(None), help="Default cache directory (accepted for kubectl compatibility; the "
        "plugin keeps no discovery cache)")
    add_bool(group, "--disable-compression", default=d(False),
             help=h("If true, opt-out of response compression for all requests to the server"))
    add("-v", "--kloglevel", dest="kloglevel", default=d(0), type=int, metavar="N",
        help="Log level for kubernetes client library (6 or more: one line per API request on stderr)")
    add("--loglevel", default=d("info"), choices=["debug", "info", "warning", "warn", "error", "fatal", "panic"],
        help="Log level for kubectl argo rollouts")
    add_bool(group, "--no-color", default=d(False),
             help=h("Do not colorize output (also: NO_COLOR, or not a terminal)"))


def connection_flags(args: argparse.Namespace) -> Any:
    """The ConnectionFlags the parsed arguments carry."""
    from rollouts.api.common import parse_duration
    from rollouts.cli.connection import ConnectionFlags

    def get(name: str) -> Any:
        return getattr(args, name, None)

    timeout = get("request_timeout")
    seconds: float | None = None
    if timeout is not None:
        try:
            seconds = parse_duration(str(timeout))
        except ValueError as exc:
            raise CliError(f"invalid argument {timeout!r} for \"--request-timeout\" flag: {exc}") from exc
    return ConnectionFlags(
        kubeconfig=get("kubeconfig"), context=get("context"), cluster=get("cluster"), user=get("user"),
        namespace=get("namespace"), server=get("server"), token=get("token"), username=get("username"),
        password=get("password"), client_certificate=get("client_certificate"), client_key=get("client_key"),
        certificate_authority=get("certificate_authority"),
        insecure_skip_tls_verify=bool(get("insecure_skip_tls_verify")),
        tls_server_name=get("tls_server_name"), as_user=get("as_user"), as_groups=tuple(get("as_groups") or ()),
        as_uid=get("as_uid"), request_timeout=seconds,
    )
