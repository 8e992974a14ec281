"""Every client failure becomes one line naming the object and the cause."""

from __future__ import annotations

import pytest

from rollouts.cli.errors import CliError, Target, explain
from rollouts.kube import errors as k

TARGET = Target("promote", "rollout", "web", "shop")


@pytest.mark.parametrize(("exc", "message"), [
    pytest.param(k.NotFound(404, "NotFound", 'rollouts.argoproj.io "web" not found',
                            {"details": {"name": "web", "kind": "rollouts"}}),
                 "rollout 'web' not found in namespace 'shop'", id="not-found"),
    pytest.param(k.NotFound(404, "NotFound", "the server could not find the requested resource", {}),
                 "cannot promote rollout 'web' in namespace 'shop': the API server does not serve rollouts (are the "
                 "argoproj.io CRDs installed?): the server could not find the requested resource", id="no-crd"),
    pytest.param(k.Forbidden(403, "Forbidden", 'rollouts.argoproj.io "web" is forbidden: User "u" cannot patch'),
                 "permission denied (RBAC 403) to promote rollout 'web' in namespace 'shop': "
                 'rollouts.argoproj.io "web" is forbidden: User "u" cannot patch', id="forbidden"),
    pytest.param(k.Unreachable(0, "Unreachable", "cannot reach the API server at https://h:6443: refused"),
                 "cannot reach the API server at https://h:6443: refused", id="unreachable"),
    pytest.param(k.Unauthorized(401, "Unauthorized", "Unauthorized"),
                 "not authenticated (401) to promote rollout 'web' in namespace 'shop': check the credentials in "
                 "your kubeconfig (Unauthorized)", id="unauthorized"),
    pytest.param(k.Invalid(422, "Invalid", "spec.replicas: Invalid value"),
                 "the API server rejected the request to promote rollout 'web' in namespace 'shop': "
                 "spec.replicas: Invalid value", id="invalid"),
    pytest.param(k.Conflict(409, "Conflict", "the object has been modified"),
                 "rollout 'web' in namespace 'shop' changed while it was being updated; run the command again "
                 "(the object has been modified)", id="conflict"),
    pytest.param(k.ApiError(500, "InternalError", "etcd timeout"),
                 "cannot promote rollout 'web' in namespace 'shop': 500 InternalError: etcd timeout", id="server"),
    pytest.param(TimeoutError(), "timed out talking to the API server while trying to promote rollout 'web' in "
                 "namespace 'shop'", id="timeout"),
    pytest.param(ValueError("boom"), "cannot promote rollout 'web' in namespace 'shop': unexpected ValueError: boom",
                 id="unexpected"),
])
def test_explain(exc: BaseException, message: str) -> None:
    error = explain(exc, TARGET)
    assert isinstance(error, CliError)
    assert str(error) == message
    assert "\n" not in str(error)
    assert error.exit_code == 1
