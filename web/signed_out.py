"""A page whose session has ended some other way than by time (web/session_timeout.py): the
person signed out in another browser (which ends every copy of their session, web/auth.py),
changed their password there, was deactivated (and maybe reactivated since), or the server's
key changed. The next click is answered as the inactivity case answers it, as far as it can be:

- the sign-in page says why, and `next` is the page the person was on (for a form, the page it
  was posted from, never an address only a form may post to: web/back.py);
- what was typed into a step's form is not lost. The server no longer knows who is there: the
  session still names the person it was signed in for, but that is a copy of a cookie whose
  session is over, and a copy kept by someone else must be worth nothing (web/auth.py). So
  nothing is written as that person's: the typed values are kept in this browser's session
  (signed with the server's key like the rest of it) beside the name, and only when that same
  person signs in again, on this browser, within the hours a session lasts, are they saved as
  their 暂存 draft of the step, filled in when the step's page opens. Another person signing in
  there never sees them (signing in starts a new session). Files chosen are never kept.
- what cannot be kept that way (the form's token refused, as when the server's key changed and
  the session with it; no name in the session; more than a cookie holds) is shown on a page of
  its own, for the person to copy, beside the way to sign in again.

    answer()             # Flask-Login's unauthorized handler (web/__init__.py)
    refused_form()       # a form's token refused with nobody signed in (web/error_pages.py)
    take() / restore()   # at sign-in: the kept form, before the new session, saved after it
"""
from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_url

from engine import clock
from engine.errors import ReformflowError

from . import current
from .back import page as back_page
from .i18n import say, sentence
from .session_timeout import LONGEST

KEPT = "kept_form"      # the session's key: {user, task, values, comment, at}
WHO = "_user_id"        # Flask-Login's key for the person the session was signed in for
_STEP_FORMS = {"inbox.complete", "inbox.save_draft", "inbox.attach", "inbox.comment"}
_PLUMBING = {"csrf_token", "version", "confirmed", "edit", "back", "files-seen", "comments-seen"}
COOKIE_BUDGET = 3800    # bytes of the signed session: a browser drops a cookie over 4096


def answer():
    """A request that needs a signed-in person, from a browser whose person is not (any more)."""
    stale = session.get(WHO)
    if stale is not None:  # the session is left as it is, until the next sign-in starts a new one
        flash(_("您已退出登录或登录已失效（例如在其他浏览器退出、修改了密码），请重新登录。"), "error")
    if request.method == "GET":
        return redirect(login_url(current_app.login_manager.login_view, next_url=request.url))
    if request.endpoint == "auth.logout":
        return redirect(url_for("auth.login"))
    if stale is not None and request.endpoint in _STEP_FORMS:
        kept = _keep(stale)
        if kept is not None:
            flash(_("刚才填写的内容未提交，已在本浏览器留存：以同一用户重新登录后即暂存到此环节并自动填入，核对后再提交。"), "error")
            if _files_chosen():
                flash(_("所选附件未上传，须重新选择。"), "error")
            return _to_sign_in()
    return _not_kept(shown=stale is not None)


def refused_form():
    """A form's token refused while nobody is signed in (the session gone with the server's key,
    or a cookie lost): nothing is done and nothing kept; what was typed is shown to copy."""
    if request.endpoint in ("auth.login", "auth.language") or request.method == "GET":
        return None
    if request.endpoint == "auth.logout":
        return redirect(url_for("auth.login"))
    flash(_("您已退出登录或登录已失效（例如在其他浏览器退出、修改了密码），请重新登录。"), "error")
    return _not_kept(shown=_from_this_site())


def _not_kept(shown: bool):
    """Nothing kept: the sign-in page says so; what was typed into a step's form is shown to copy
    if the form came from a page of this site (`shown`), never another site's words on this one's page."""
    from .plans import COMMENT_FIELD
    typed = [(_("留言") if name == COMMENT_FIELD else name, value) for name, value in request.form.items(multi=True)
             if name not in _PLUMBING and value.strip()] if shown and request.endpoint in _STEP_FORMS else []
    if not typed:
        flash(_("刚才提交的内容未保存，请重新登录后再填写提交。"), "error")
        return _to_sign_in()
    back = back_page()
    return render_template("signed_out.html", typed=typed, files=_files_chosen(),
                           sign_in=url_for("auth.login", next=back) if back else url_for("auth.login")), 401


def _from_this_site() -> bool:
    """Whether the form was posted from a page of this site, as the browser says (Origin, else Referer)."""
    origin = request.headers.get("Origin")
    if origin:
        return urlsplit(origin).netloc == request.host
    return bool(request.referrer) and urlsplit(request.referrer).netloc == request.host


def _to_sign_in():
    back = back_page()
    return redirect(url_for("auth.login", next=back) if back else url_for("auth.login"))


def _files_chosen() -> bool:
    return any(f and f.filename for f in request.files.getlist("files"))


def _keep(username: str) -> dict | None:
    """The step form's typed values, kept in the session for `username`; None if there is nothing
    typed, no such step, or too much for a cookie (then the session is left as it was)."""
    from .inbox import typed_draft  # inbox imports web/session_timeout.py, which this imports
    from .plans import COMMENT_FIELD
    task_id = (request.view_args or {}).get("task_id")
    try:
        view = current.engine().task_view(task_id)
    except ReformflowError:
        return None
    typed = typed_draft(view["form"], request.form)
    comment = request.form.get(COMMENT_FIELD, "")
    if not comment.strip() and not any(v not in ("", False) for v in typed.values()):
        return None
    before = session.get(KEPT)
    kept = {"user": username, "task": task_id, "values": typed, "comment": comment, "at": clock.now().isoformat()}
    session[KEPT] = kept
    signed = current_app.session_interface.get_signing_serializer(current_app).dumps(dict(session))
    if len(signed) > COOKIE_BUDGET:
        if before is None:
            session.pop(KEPT)
        else:
            session[KEPT] = before
        return None
    return kept


def take() -> dict | None:
    """The form kept in this browser's session, taken out of it (at sign-in, before the new session)."""
    return session.pop(KEPT, None)


def restore(kept: dict | None, username: str) -> None:
    """At `username`'s sign-in: a form kept for them, not too long ago, saved as their draft of
    the step (the engine checks it is still theirs to hold); a form kept for anyone else is
    dropped unseen."""
    if not isinstance(kept, dict) or kept.get("user") != username:
        return
    try:
        at = datetime.fromisoformat(kept["at"])
        if clock.now() - at > current_app.config[LONGEST]:
            return
        current.engine().save_draft(int(kept["task"]), kept["values"], actor=username, comment=kept.get("comment", ""))
    except ReformflowError as exc:
        flash(_("重新登录前填写的内容未能暂存：%(why)s", why=sentence(say(exc.message))), "error")
        return
    except (KeyError, TypeError, ValueError):
        return
    flash(_("重新登录前填写的内容已暂存并填入此环节，尚未提交：请核对后再提交。"), "ok")
