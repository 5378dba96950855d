"""Whether this web worker can serve: GET /healthz for the reverse proxy and monitoring, and the
answer to a request that found the database unreachable (503, not an opaque 500).

    GET /healthz  200 {"status": "ok", "database": "ok"}
                  503 {"status": "unavailable", "database": "unreachable"}   (or "error")

No sign-in, no session, no form token; it names nothing of the configuration (no URL, host or
role): the reason goes to the log, once per check. docs/operations.md, section 2a.
"""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, jsonify, request, url_for
from markupsafe import escape
from sqlalchemy import text

from engine.commands import unreachable

from .current import engine

bp = Blueprint("health", __name__)
PATH = "/healthz"
RETRY_AFTER = "30"  # seconds: a worker that lost its database tries a new connection on the next request


@bp.route(PATH)
def healthz():
    try:
        with engine().db.read_connection() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - whatever it is, this worker cannot serve: say so, do not 500
        reason = unreachable(exc)
        _log(reason or f"{type(exc).__name__}: {_first_line(exc)}")
        return _unavailable_json("unreachable" if reason is not None else "error")
    return jsonify(status="ok", database="ok")


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]


def _log(reason: str) -> None:
    # one line, no traceback: the same outage would otherwise fill the journal with one per request
    current_app.logger.error("数据库无法连接 (database unreachable): %s %s: %s", request.method, request.path, reason)


def _unavailable_json(database: str):
    answer = jsonify(status="unavailable", database=database)
    answer.status_code = 503
    answer.headers["Retry-After"] = RETRY_AFTER
    return answer


MESSAGE_ZH = "数据库暂时无法连接，未做任何更改"
MESSAGE_EN = "The database cannot be reached right now; nothing was changed"
ADVICE_ZH = "请稍后再试。如持续出现，请告知系统管理员检查数据库服务器。"
ADVICE_EN = "Please try again shortly. If it goes on, ask the system administrator to check the database server."


def install(app: Flask) -> None:
    from sqlalchemy.exc import DBAPIError

    from . import api

    @app.errorhandler(DBAPIError)
    def _database(exc: DBAPIError):
        reason = unreachable(exc)
        if reason is None:
            raise exc  # a bug, not an outage: Flask logs it with its traceback and answers 500
        _log(reason)
        if request.path == PATH:
            return _unavailable_json("unreachable")
        if api.wants_json():
            answer = api.answer({"error": "unavailable", "message": api.say(
                f"{MESSAGE_ZH}；请稍后重试 ({MESSAGE_EN.lower()}; try again shortly)")}, 503,
                {"Retry-After": RETRY_AFTER})
            return answer
        return _page(), 503, {"Retry-After": RETRY_AFTER}


def _page() -> str:
    """A page of its own, not error.html: the site's layout reads the signed-in person from the
    database that is down. Both languages: the language is kept in the session, which is fine, but
    the translations are not needed for four sentences."""
    try:
        style = url_for("static", filename="style.css")
    except Exception:  # noqa: BLE001 - no style sheet is no reason to fail the answer
        style = ""
    link = f'<link rel="stylesheet" href="{escape(style)}">' if style else ""
    return (f'<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{MESSAGE_ZH} (503)</title>{link}</head><body><main>"
            f"<h1>{MESSAGE_ZH}</h1><p>{ADVICE_ZH}</p>"
            f'<p lang="en">{MESSAGE_EN}. {ADVICE_EN}</p>'
            f"</main></body></html>\n")
