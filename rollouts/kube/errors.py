"""API errors as a small exception hierarchy keyed by HTTP status.

Callers branch on meaning (NotFound, Conflict, Gone) instead of on numbers; the message is the API
server's own `Status.message`, which is what users need to see in conditions and CLI output.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A non-2xx answer from the API server (status 0: the server could not be reached)."""

    def __init__(self, status: int, reason: str, message: str, body: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {reason}: {message}" if status else message)
        self.status = status
        self.reason = reason
        self.message = message
        self.body = body or {}


class Unreachable(ApiError):
    pass


class BadRequest(ApiError):
    pass


class Unauthorized(ApiError):
    pass


class Forbidden(ApiError):
    pass


class NotFound(ApiError):
    pass


class Conflict(ApiError):
    pass


class AlreadyExists(Conflict):
    pass


class Gone(ApiError):
    """410: a watch's resourceVersion is too old; list again."""


class Invalid(ApiError):
    pass


class TooManyRequests(ApiError):
    pass


class Fenced(ApiError):
    """A write refused before it was sent: this replica may not act now (it does not hold a valid lease)."""


def error_from_status(status: int, body: dict[str, Any] | None, fallback: str) -> ApiError:
    body = body or {}
    reason = str(body.get("reason") or "")
    message = str(body.get("message") or fallback)
    cls: type[ApiError]
    if status == 409 and reason == "AlreadyExists":
        cls = AlreadyExists
    else:
        cls = {
            400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict, 410: Gone,
            422: Invalid, 429: TooManyRequests,
        }.get(status, ApiError)
    return cls(status, reason, message, body)
