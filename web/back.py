"""The page a person comes back to after signing in again or switching the language.

A page shown in answer to a GET is its own address. A page shown in answer to a POST (a refused
form, the question before a decision) has no address to go back to: a GET there is refused.
Its way back is the page the form was posted from, when that page is on this site; and when that
is itself an address only a form may post to (the question before a decision is shown at
/tasks/N/complete), the page it belongs to: the nearest address above it that a GET opens
(/tasks/N), as `openable` finds it.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect


def page() -> str | None:
    if request.method == "GET":  # under a proxy's path prefix, the prefix too: the address as the browser has it
        return request.script_root + request.full_path.rstrip("?")
    here = _this_site(request.referrer)
    return openable(here) if here else None


def openable(path: str) -> str:
    """`path` (of this site) if a GET opens it, or may (an address with no page is left to say
    so itself); for an address only a form may post to, the nearest one above it that a GET
    opens, without the query: /tasks/7 for /tasks/7/complete, / at the very top."""
    parts = urlsplit(path)
    root = request.script_root
    inner = parts.path[len(root):] if root and parts.path.startswith(root) else parts.path
    adapter = current_app.url_map.bind("localhost")
    try:
        adapter.match(inner, method="GET")
        return path
    except (NotFound, RequestRedirect):
        return path
    except MethodNotAllowed:
        pass
    while "/" in inner.strip("/"):
        inner = inner.rstrip("/").rsplit("/", 1)[0]
        try:
            adapter.match(inner, method="GET")
            return root + inner
        except (NotFound, MethodNotAllowed):
            continue
        except RequestRedirect:
            return root + inner
    return root + "/"


def _this_site(url: str | None) -> str | None:
    """The path of a page of this site, or None (web/auth.py checks `next` again at sign-in)."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.netloc != request.host:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")
