"""Web sessions end by themselves (MLPS 2.0, 等保2.0): after IDLE minutes without a request
(REFORMFLOW_IDLE_MINUTES, default 30), and in any case SESSION hours after sign-in
(REFORMFLOW_SESSION_HOURS, default 12), so a tab kept busy does not live for ever.

The session carries when it was signed in and when it last saw a request, read on the engine
clock (tests move it). The request that finds a session over records `session_expired` in the
audit trail, signs out (the language stays) and goes to the sign-in page with `next` set, so the
person lands back where they were. A form posted into a session that is over is not saved, and
the page says so: what was typed is not kept for the next sign-in, which may be someone else's
on that browser.

    install(app)   # before every request
    started()      # at sign-in (web/auth.py)
"""
from __future__ import annotations

from datetime import datetime
from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from engine import clock

from . import current
from .back import page as back_page

SIGNED_IN_AT, SEEN_AT = "signed_in_at", "seen_at"
IDLE, LONGEST = "REFORMFLOW_IDLE", "REFORMFLOW_SESSION_LONGEST"  # app.config keys: timedeltas
# Pages that go on as they are for someone whose session just ended: signing in, the language.
_WITHOUT_SESSION = {"auth.login", "auth.language"}
# Signing out is never refused: it also ends the person's sessions in their other browsers.
_NOT_CHECKED = {None, "static", "auth.logout"}


def started() -> None:
    session[SIGNED_IN_AT] = session[SEEN_AT] = clock.now().isoformat()


def install(app) -> None:
    app.before_request(_check)


def _instant(value) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def _check():
    # the JSON API (web/api.py) never looks at the session: its token is checked on every request
    if request.endpoint in _NOT_CHECKED or request.blueprint == "api" or not current_user.is_authenticated:
        return None
    now = clock.now()
    seen, began = _instant(session.get(SEEN_AT)), _instant(session.get(SIGNED_IN_AT))
    if seen is None or began is None:  # signed in before this check existed: its time starts now
        started()
        return None
    reason = ("idle" if now - seen > current_app.config[IDLE]
              else "too_long" if now - began > current_app.config[LONGEST] else None)
    if reason is None:
        session[SEEN_AT] = now.isoformat()
        return None
    current.engine().session_expired(current_user.username, address=request.remote_addr or "-", reason=reason,
                                     last_seen=seen, signed_in_at=began)
    from .auth import fresh_session  # auth imports this module
    logout_user()
    fresh_session()
    if reason == "idle":
        flash(_("长时间未操作，已自动退出，请重新登录。"), "error")
    else:
        flash(_("登录已超过 %(hours)s 小时，已自动退出，请重新登录。",
                hours=int(current_app.config[LONGEST].total_seconds() // 3600)), "error")
    if request.endpoint in _WITHOUT_SESSION:
        return None
    if request.method != "GET":  # the form's page: the person comes back to it, and is told that nothing was saved
        flash(_("刚才提交的内容未保存，请重新登录后再填写提交。"), "error")
    back = back_page()
    return redirect(url_for("auth.login", next=back) if back else url_for("auth.login"))

