"""An engine refusal as a person sees it in the browser: the message, in the page's language,
flashed above the page they are sent back to, with the HTTP status that says what went wrong
(a conflict is 409: reload and try again)."""
from __future__ import annotations

from flask import flash, make_response, request

from engine.errors import ReformflowError

from .i18n import say, sentence

STATUS = {"invalid": 400, "forbidden": 403, "not_found": 404, "conflict": 409, "unauthorized": 401,
          "unavailable": 503}
RETRY_AFTER = "5"  # seconds: a busy database (engine.errors.Busy) is usually free again at once


def status_of(exc: ReformflowError) -> int:
    return STATUS.get(exc.kind, 400)


def refused(exc: ReformflowError, page):
    """Flash the refusal and show `page()` (a redirect or a rendered page)."""
    flash(sentence(say(exc.message)), "conflict" if exc.kind in ("conflict", "unavailable") else "error")
    response = make_response(page())
    if response.status_code == 200:  # a page shown again: its status says it was refused
        response.status_code = status_of(exc)
    if exc.kind == "unavailable":
        response.headers["Retry-After"] = RETRY_AFTER
    return response


def back_or(default: str) -> str:
    """The page the person came from, if it is one of this site's, else `default`."""
    referrer = request.referrer
    return referrer if referrer and referrer.startswith(request.host_url) else default
