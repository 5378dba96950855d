"""The headers every answer of the web inbox carries, set in one place.

- Content-Security-Policy: the pages load only this site's style sheet and its own script files
  (web/static/submit_once.js, which sends a form once; session_warning.js, which warns before an
  idle session ends and may renew it with a request to this site: connect-src; keep_typed.js, which keeps
  what was typed across a switch of the language; error_summary.js); no inline script, no other site's, no
  eval: text that slipped past the escaping could still run nothing; no other site may frame a
  page (frame-ancestors), and forms post only here.
- X-Frame-Options: the same refusal to be framed, for older browsers: a page with an approve
  button inside someone else's page is a click someone did not mean (clickjacking).
- X-Content-Type-Options: a file is what its type says, never sniffed into a page.
- Referrer-Policy: addresses (with plan ids and searches) are not sent to other sites; this
  site's own pages still see where a person came from (refusals.back_or).
- Cache-Control: pages hold what one person may see; the browser does not keep them for the
  next person at a shared computer (the back button after signing out shows nothing). The
  style sheet may be cached.

A download (web/downloads.py) sets its own, stricter policy; an answer's own header is kept,
but Cache-Control.
"""
from __future__ import annotations

from flask import Flask, request

POLICY = ("default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; connect-src 'self'; "
          "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def install(app: Flask) -> None:
    @app.after_request
    def _headers(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if request.endpoint != "static":  # send_file's own "no-cache" still lets the browser keep a copy
            response.headers["Cache-Control"] = "private, no-store"
        return response
