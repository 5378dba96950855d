"""A page whose session has ended some other way than by time (web/session_timeout.py): the
person signed out in another browser (which ends every copy of their session, web/auth.py),
changed their password there, was deactivated (and maybe reactivated since), or the server's
key changed. The next click is answered as far as it can be as the inactivity case answers it:

- the sign-in page says why, and `next` is the page the person was on (for a form, the page it
  was posted from, never an address only a form may post to: web/back.py);
- what was typed into a step's form is not lost, but not kept either: the server no longer knows
  who is there (the session names the person it was for, but it is a copy of a cookie whose
  session is over, and a copy held by someone else must be worth nothing), so nothing is written
  as that person's, and the session cookie (signed, not encrypted: readable in the browser) must
  not carry what they wrote. It is shown on a page of its own, to copy, beside the way to sign
  in again, only to a form posted from this site.

    answer()             # Flask-Login's unauthorized handler (web/__init__.py)
    refused_form()       # a form's token refused with nobody signed in (web/error_pages.py)
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_url

from .back import page as back_page
from .session_timeout import STEP_FORMS

WHO = "_user_id"        # Flask-Login's key for the person the session was signed in for
# what a task page's forms send that nobody typed
_PLUMBING = {"csrf_token", "version", "confirmed", "edit", "back", "files-seen", "comments-seen"}


def answer():
    """A request that needs a signed-in person, from a browser whose person is not (any more)."""
    stale = session.get(WHO)
    if stale is not None:  # the session is left as it is, until the next sign-in starts a new one
        flash(_("您已退出登录或登录已失效（例如在其他浏览器退出、修改了密码），请重新登录。"), "error")
    if request.method == "GET":
        return redirect(login_url(current_app.login_manager.login_view, next_url=request.url))
    if request.endpoint == "auth.logout":
        return redirect(url_for("auth.login"))
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
    typed = typed_fields(request.form) if shown and request.endpoint in STEP_FORMS else []
    if not typed:
        flash(_("刚才提交的内容未保存，请重新登录后再填写提交。"), "error")
        return redirect(_sign_in_url())
    return render_template("signed_out.html", typed=typed, files=_files_chosen(), sign_in=_sign_in_url()), 401


def typed_fields(form) -> list[tuple[str, str]]:
    """What a person typed into a step's form, under the names the form sent it with (the comment
    as 留言), to be shown to copy where it could not be used."""
    from .plans import COMMENT_FIELD
    return [(_("留言") if name == COMMENT_FIELD else name, value) for name, value in form.items(multi=True)
            if name not in _PLUMBING and value.strip()]


def _from_this_site() -> bool:
    """Whether the form was posted from a page of this site, as the browser says (Origin, else Referer)."""
    origin = request.headers.get("Origin")
    if origin:
        return urlsplit(origin).netloc == request.host
    return bool(request.referrer) and urlsplit(request.referrer).netloc == request.host


def _sign_in_url() -> str:
    """The sign-in page, coming back to the page the person was on."""
    back = back_page()
    return url_for("auth.login", next=back) if back else url_for("auth.login")


def _files_chosen() -> bool:
    return any(f and f.filename for f in request.files.getlist("files"))
