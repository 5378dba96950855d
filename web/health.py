"""Whether this web worker can serve: GET /healthz for the reverse proxy and monitoring, and the
answer to a request that found the database unreachable (503, not an opaque 500).

    GET /healthz  200 {"status": "ok", "database": "ok", "timers": "ok"}
                  200 {"status": "ok", "database": "ok", "timers": "behind", "timers_due_since": ISO}
                  503 {"status": "unavailable", "database": "unreachable"}   (or "error")

"behind": a running plan's timer was due more than 15 minutes ago and has not fired: the timer
worker (reformflow-worker) seems stopped (engine/timer_lag.py). Still 200: this web worker can
serve, and a 503 would take every web worker out of the proxy's rotation for want of another
process. Monitoring alerts on the field.

No sign-in, no session, no form token; it names nothing of the configuration (no URL, host or
role): the reason goes to the log, once per check. docs/operations.md, section 2a.
"""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, jsonify, request, url_for
from markupsafe import escape
from sqlalchemy import text

from engine import clock, timer_lag
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
            behind = timer_lag.behind_since(conn, clock.now())
    except Exception as exc:  # noqa: BLE001 - whatever it is, this worker cannot serve: say so, do not 500
        reason = unreachable(exc)
        _log(reason or f"{type(exc).__name__}: {_first_line(exc)}")
        return _unavailable_json("unreachable" if reason is not None else "error")
    if behind is None:
        return jsonify(status="ok", database="ok", timers="ok")
    return jsonify(status="ok", database="ok", timers="behind", timers_due_since=behind.isoformat())


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
# A page read (GET) changes nothing, and is often the page after an action that went through: "nothing
# was changed" there told a person their claim had failed when it had not (the concurrency audit).
READ_ZH = "数据库暂时无法连接，本页暂时无法显示"
READ_EN = "The database cannot be reached right now, so this page cannot be shown"
READ_ADVICE_ZH = "已提示成功的操作已经保存。请稍后刷新本页。如持续出现，请告知系统管理员检查数据库服务器。"
READ_ADVICE_EN = ("What you were told was done is saved. Please reload this page shortly. If it goes on, ask the "
                  "system administrator to check the database server.")
# A connection that broke during an action (a server restart, pg_terminate_backend, the network) may
# have broken after COMMIT reached the server: the action may have gone in, so say look, not "nothing".
LOST_ZH = "数据库连接在办理中断开，本次操作可能没有完成"
LOST_EN = "The database connection was lost during the action, which may not have completed"
LOST_ADVICE_ZH = "请稍后刷新待办或方案页面，查看是否已经保存；没有保存的再办理一次。"
LOST_ADVICE_EN = "Reload your inbox or the plan's page shortly to see whether it was saved, and do it again if it was not."
TYPED_ZH = "您在本页填写的内容没有保存，请先复制留存，稍后再提交："
TYPED_EN = "What you typed on the page was not saved: copy it before you submit again later."
TYPED_LOST_ZH = "您在本页填写的内容如下，可能没有保存，请先复制留存："
TYPED_LOST_EN = "What you typed on the page, which may not have been saved: copy it first."


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
        lost = exc.connection_invalidated and request.method not in ("GET", "HEAD")
        if api.wants_json():
            said = (f"{LOST_ZH}：请先读取查看是否已经保存 ({LOST_EN.lower()}: read before sending it again)" if lost
                    else f"{MESSAGE_ZH}；请稍后重试 ({MESSAGE_EN.lower()}; try again shortly)")
            return api.answer({"error": "unavailable", "message": api.say(said)}, 503, {"Retry-After": RETRY_AFTER})
        return _page(lost), 503, {"Retry-After": RETRY_AFTER}


def _page(lost: bool = False) -> str:
    """A page of its own, not error.html: the site's layout reads the signed-in person from the
    database that is down. Both languages: the language is kept in the session, which is fine, but
    the translations are not needed for these sentences. A step's form posted meanwhile shows
    what was typed, to copy (as web/signed_out.py does): it cannot be put back on the step's page,
    which needs the database. `lost`: the connection broke during the action, which may have gone in."""
    try:
        style = url_for("static", filename="style.css")
    except Exception:  # noqa: BLE001 - no style sheet is no reason to fail the answer
        style = ""
    link = f'<link rel="stylesheet" href="{escape(style)}">' if style else ""
    read = request.method in ("GET", "HEAD")
    title, advice, title_en, advice_en = (
        (READ_ZH, READ_ADVICE_ZH, READ_EN, READ_ADVICE_EN) if read
        else (LOST_ZH, LOST_ADVICE_ZH, LOST_EN, LOST_ADVICE_EN) if lost
        else (MESSAGE_ZH, ADVICE_ZH, MESSAGE_EN, ADVICE_EN))
    return (f'<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{title} (503)</title>{link}</head><body><main>"
            f"<h1>{title}</h1><p>{advice}</p>"
            f'<p lang="en">{title_en}. {advice_en}</p>'
            f"{'' if read else _typed(lost)}"
            f"</main></body></html>\n")


def _typed(lost: bool = False) -> str:
    from .session_timeout import STEP_FORMS
    from .signed_out import typed_fields
    if request.endpoint not in STEP_FORMS:
        return ""
    try:
        typed = typed_fields(request.form)
    except Exception:  # noqa: BLE001 - a form that cannot be read is no reason to fail the answer
        return ""
    if not typed:
        return ""
    rows = "".join(f"<dt>{escape(name)}</dt><dd><pre>{escape(value)}</pre></dd>" for name, value in typed)
    said, said_en = (TYPED_LOST_ZH, TYPED_LOST_EN) if lost else (TYPED_ZH, TYPED_EN)
    return f'<section class="typed"><p>{said}</p><p lang="en">{said_en}</p><dl>{rows}</dl></section>'
