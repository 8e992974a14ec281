"""One clear line for every way a plugin command can fail, and never a traceback.

Operators read these in terminals and CI logs, so each message names the object and the cause:
"rollout 'web' not found in namespace 'shop'", "permission denied (RBAC 403) to patch
rollouts/status 'web' in namespace 'shop': ...", "cannot reach the Kubernetes API server at ...".
The API error classes live in rollouts.kube; they are imported lazily so `--help` stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass


class CliError(Exception):
    """A failure to report as `error: <message>` on stderr with a non-zero exit code."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class Target:
    """What a request was about, for the error message: `verb` a `kind` `name` in `namespace`."""

    verb: str
    kind: str
    name: str | None
    namespace: str | None

    def describe(self) -> str:
        what = f"{self.kind} '{self.name}'" if self.name else self.kind
        return f"{what} in namespace '{self.namespace}'" if self.namespace else what

    def not_found(self) -> str:
        what = f"{self.kind} '{self.name}'" if self.name else self.kind
        return f"{what} not found in namespace '{self.namespace}'" if self.namespace else f"{what} not found"


def explain(exc: BaseException, target: Target) -> CliError:
    """Translate an exception from the client into a CliError naming `target` and the cause."""
    from rollouts.kube import errors as k

    if isinstance(exc, CliError):
        return exc
    if isinstance(exc, k.Unreachable):
        return CliError(exc.message)
    if isinstance(exc, k.NotFound):
        details = exc.body.get("details") if isinstance(exc.body, dict) else None
        if target.name and isinstance(details, dict) and details.get("name"):
            return CliError(target.not_found())
        if target.name and not details:
            return CliError(
                f"cannot {target.verb} {target.describe()}: the API server does not serve {target.kind}s "
                f"(are the argoproj.io CRDs installed?): {exc.message}"
            )
        return CliError(target.not_found())
    if isinstance(exc, k.Forbidden):
        return CliError(f"permission denied (RBAC 403) to {target.verb} {target.describe()}: {exc.message}")
    if isinstance(exc, k.Unauthorized):
        return CliError(f"not authenticated (401) to {target.verb} {target.describe()}: check the "
                        f"credentials in your kubeconfig ({exc.message})")
    if isinstance(exc, k.Conflict):
        return CliError(f"{target.describe()} changed while it was being updated; run the command again "
                        f"({exc.message})")
    if isinstance(exc, k.Invalid | k.BadRequest):
        return CliError(f"the API server rejected the request to {target.verb} {target.describe()}: "
                        f"{exc.message}")
    if isinstance(exc, k.ApiError):
        return CliError(f"cannot {target.verb} {target.describe()}: {exc}")
    if isinstance(exc, TimeoutError):
        return CliError(f"timed out talking to the API server while trying to {target.verb} {target.describe()}")
    if isinstance(exc, OSError):
        return CliError(f"cannot {target.verb} {target.describe()}: {exc}")
    return CliError(f"cannot {target.verb} {target.describe()}: unexpected {type(exc).__name__}: {exc}")
