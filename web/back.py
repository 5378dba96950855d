"""The page a person comes back to after signing in again or switching the language.

A page shown in answer to a GET is its own address. A page shown in answer to a POST (a refused
form, the question before a decision) has no address to go back to: a GET there is refused.
Its way back is the page the form was posted from, when that page is on this site.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import request


def page() -> str | None:
    if request.method == "GET":
        return request.full_path.rstrip("?")
    return _this_site(request.referrer)


def _this_site(url: str | None) -> str | None:
    """The path of a page of this site, or None (web/auth.py checks `next` again at sign-in)."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.netloc != request.host:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")
