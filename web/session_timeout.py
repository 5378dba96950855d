"""Web sessions end by themselves (MLPS 2.0, 等保2.0): after IDLE minutes without a request
(REFORMFLOW_IDLE_MINUTES, default 30), and in any case SESSION hours after sign-in
(REFORMFLOW_SESSION_HOURS, default 12), so a tab kept busy does not live for ever.

The session carries when it was signed in and when it last saw a request, read on the engine
clock (tests move it). The request that finds a session over records `session_expired` in the
audit trail, signs out (the language stays) and goes to the sign-in page with `next` set, so the
person lands back where they were. A form posted into a session that is over is not carried
out, and the page says so. What was typed into a step's form (submitted, saved, a file or a
comment sent with it) by the person holding the step is kept as their 暂存 draft of it
(engine/drafts.py): only they see it, filled in when they open the step again after signing in;
what was typed anywhere else is not kept, for the next sign-in on that browser may be someone
else's.

Before it comes to that, every signed-in page warns (web/static/session_warning.js): about two
minutes before the limit a dialog offers 「继续办理」, which posts to /session/continue (CSRF-protected,
this module's `keep_alive`): a request like any other, so the session's activity starts anew.

    install(app)   # before every request
    started()      # at sign-in (web/auth.py)
    seconds_left() # until the session ends if no request comes (the warning's timer)
"""
from __future__ import annotations

from datetime import datetime
from flask import Blueprint, current_app, flash, jsonify, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from engine import clock
from engine.errors import ReformflowError

from . import current
from .back import page as back_page

SIGNED_IN_AT, SEEN_AT = "signed_in_at", "seen_at"
IDLE, LONGEST = "REFORMFLOW_IDLE", "REFORMFLOW_SESSION_LONGEST"  # app.config keys: timedeltas
# Pages that go on as they are for someone whose session just ended: signing in, the language.
_WITHOUT_SESSION = {"auth.login", "auth.language"}
# Signing out is never refused: it also ends the person's sessions in their other browsers.
_NOT_CHECKED = {None, "static", "auth.logout"}
# The forms of a step's page: what their holder typed is kept as their draft when the session is over.
STEP_FORMS = {"inbox.complete", "inbox.save_draft", "inbox.attach", "inbox.comment"}  # a step's forms
KEEP_ALIVE = "session_timeout.keep_alive"

bp = Blueprint("session_timeout", __name__)


@bp.route("/session/continue", methods=["POST"])
def keep_alive():
    """「继续办理」 in the warning: the request itself renews the session's activity (_check);
    the answer says how many seconds are left now, 0 when the session is over."""
    if not current_user.is_authenticated:
        return jsonify(left=0), 401
    return jsonify(left=seconds_left())


def started() -> None:
    session[SIGNED_IN_AT] = session[SEEN_AT] = clock.now().isoformat()


def install(app) -> None:
    app.before_request(_check)
    app.register_blueprint(bp)

    @app.context_processor
    def _left():
        return {"session_seconds_left": seconds_left} if current_user.is_authenticated else {}


def seconds_left() -> int:
    """Whole seconds until the session ends if it sees no other request: the idle limit, or the
    longest a session lasts, whichever comes first."""
    seen, began = _instant(session.get(SEEN_AT)), _instant(session.get(SIGNED_IN_AT))
    if seen is None or began is None:
        return 0
    ends = min(seen + current_app.config[IDLE], began + current_app.config[LONGEST])
    return max(int((ends - clock.now()).total_seconds()), 0)


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
    kept = _keep_as_draft() if request.method == "POST" and request.endpoint in STEP_FORMS else False
    logout_user()
    fresh_session()
    if reason == "idle":
        flash(_("长时间未操作，已自动退出，请重新登录。"), "error")
    else:
        flash(_("登录已超过 %(hours)s 小时，已自动退出，请重新登录。",
                hours=int(current_app.config[LONGEST].total_seconds() // 3600)), "error")
    if request.endpoint in _WITHOUT_SESSION:
        return None
    if request.endpoint == KEEP_ALIVE:  # the warning's 继续办理, too late: the page says so itself
        return jsonify(left=0), 401
    if kept:
        flash(_("刚才提交的内容未提交，已为您暂存：重新登录后打开此环节即自动填入，核对后再提交。所选附件未上传，须重新选择。"),
              "error")
    elif request.method != "GET":  # the form's page: the person comes back to it, and is told that nothing was saved
        flash(_("刚才提交的内容未保存，请重新登录后再填写提交。"), "error")
    back = back_page()
    return redirect(url_for("auth.login", next=back) if back else url_for("auth.login"))



def _keep_as_draft() -> bool:
    """What the signed-in person (still, for this request) posted to a step's form, kept as
    their draft of the step, as 暂存 would keep it; False if it cannot be (not theirs to hold,
    nothing typed, too long): then it is not kept, as before."""
    from .inbox import typed_draft  # inbox imports this module
    from .plans import COMMENT_FIELD
    task_id = (request.view_args or {}).get("task_id")
    try:
        view = current.engine().task_view(task_id)
        typed = typed_draft(view["form"], request.form)
        comment = request.form.get(COMMENT_FIELD, "")
        if not comment.strip() and not any(v not in ("", False) for v in typed.values()):
            return False
        current.engine().save_draft(task_id, typed, actor=current_user.username, comment=comment)
    except ReformflowError:  # not theirs to hold now, too long...: the sign-out goes on
        current_app.logger.info("an expired session's form for task %s was not kept as a draft", task_id)
        return False
    return True
