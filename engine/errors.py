"""Refusals an engine command can answer with. Each has a kind the CLI, web and API map to
an exit code, an HTTP status or a JSON error object."""


class ReformflowError(Exception):
    kind = "invalid"

    def __init__(self, message: str, *, details: list | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or []

    def to_dict(self) -> dict:
        out = {"error": self.kind, "message": self.message}
        if self.details:
            out["details"] = self.details
        return out


class Invalid(ReformflowError):
    """The request or the diagram is wrong; the message says what to change."""
    kind = "invalid"


class Forbidden(ReformflowError):
    """The user may not do this (not a candidate, not the assignee, wrong role)."""
    kind = "forbidden"


class NotFound(ReformflowError):
    kind = "not_found"


class Unauthorized(ReformflowError):
    """No valid credentials: an API token unknown, revoked or expired, or its owner deactivated
    (the JSON API answers 401)."""
    kind = "unauthorized"


class Conflict(ReformflowError):
    """Someone else changed the same task or plan first; reload and try again. `reason` says
    which case, for a program (the API's 409 body): `already_yours` (the caller already holds
    or submitted it), `already_yours_differs` (submitted it, with other values than these, which
    were not saved), `taken` (someone else holds it), `stale` (changed since its version was
    read), `done`, `stopped` (withdrawn, or its plan stopped), `not_claimed`, `business_key_used`."""
    kind = "conflict"

    def __init__(self, message: str, *, reason: str | None = None, details: list | None = None):
        super().__init__(message, details=details)
        self.reason = reason

    def to_dict(self) -> dict:
        """With its `reason` (the command line's --json), as the API's 409 body has it."""
        return super().to_dict() | ({"reason": self.reason} if self.reason else {})


def ended(status: str) -> str | None:
    """The Conflict reason of a task or plan that is over: `done`, or `stopped` (withdrawn)."""
    return {"completed": "done", "cancelled": "stopped"}.get(status)


class Busy(ReformflowError):
    """The database was held by other work past the wait (SQLite's lock, a PostgreSQL row lock
    past lock_timeout, a deadlock or serialization failure): nothing was changed, and the same
    action again will most likely do. Not a conflict: nothing the person saw is out of date."""
    kind = "unavailable"


class BilingualValueError(ValueError):
    """A value refused (an expression, a timer value): the message is Chinese first with the English
    in brackets, `zh` and `en` keep the two parts for a message that wraps this one
    (`第 2 行：… (line 2: …)`). Given one text only, it serves as both."""

    def __init__(self, zh: str, en: str | None = None) -> None:
        self.zh, self.en = zh, zh if en is None else en
        super().__init__(zh if en is None else f"{zh} ({en})")
