"""Signing in and out, and the language switch.

A person signs in with the user name and password the reform office gave them (`reformflow
users password NAME`, or the people page), and may change it (/account/password,
web/people.py); a user without a password, or one deactivated, cannot. The
session holds only the user name (and the count below, and when it began and was last used,
web/session_timeout.py): who they are and what they may do is read from the database
on every request, so a deactivation or a change of groups takes effect on their next click.

Signing out ends the session for good: the session also holds the user's session_generation
as it was at sign-in, and signing out (or being deactivated, or a new password) counts it up, so a copy of the
cookie kept from before is refused, on every web worker. Signing out thus ends the person's
sessions in every browser. Signing in starts a new session (nothing from before it is kept but
the language), so a session planted before sign-in, and its form token, are worth nothing.

A wrong password and an unknown user name get the same answer in about the same time (a
password hash is checked either way, and either is recorded the same way), and repeated
failures are refused for a while (web/sign_in_throttle.py).

Every sign-in, refused sign-in (with why: wrong_password, unknown_user, deactivated,
throttled) and sign-out is an event of the audit trail (Engine.signed_in, sign_in_refused,
signed_out), with the client's address, never the password; a session left idle ends by
itself (web/session_timeout.py).
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from engine import clock, display, passwords
from models import User

from . import back, current, i18n, session_timeout, sign_in_throttle

bp = Blueprint("auth", __name__)


class Person:
    """The signed-in user, as Flask-Login wants them."""
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, username: str, display_name: str, group_codes: list[str], unit: str | None):
        self.username, self.display_name, self.group_codes, self.unit = username, display_name, group_codes, unit

    def get_id(self) -> str:
        return self.username

    @property
    def office(self) -> bool:
        from engine.queries import ADMIN_GROUP
        return ADMIN_GROUP in self.group_codes


def _user_row(username: str):
    """(active, (Person, password hash, session generation)), or (None, None) for no such user."""
    engine = current.engine()
    with engine.db.reader() as s:
        user = s.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if user is None:
            return None, None
        person = Person(user.username, user.display_name, list(user.group_codes),
                        user.unit.name if getattr(user, "unit", None) is not None else None)
        return user.active, (person, user.password_hash, user.session_generation)


def load_user(username: str) -> Person | None:
    """The signed-in person, or None (signed out) for a deactivated user or a session they
    have since signed out of."""
    active, found = _user_row(username)
    if not active or session.get(GENERATION) != found[2]:
        return None
    return found[0]


GENERATION = "generation"  # the session's key for users.session_generation at sign-in


def fresh_session() -> None:
    """Nothing from before sign-in (or after sign-out) carries over but the language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def _safe_next(target: str | None) -> str:
    """Only a path on this site: a link that signs someone in and sends them elsewhere is a phishing tool.
    A control character (a line break from %0A) cannot go into the Location header: the inbox instead."""
    if (target and target.startswith("/") and not target.startswith("//") and target.isprintable()
            and not urlsplit(target).netloc):
        return back.openable(target)  # /tasks/7 for /tasks/7/complete: a GET there is refused
    return url_for("inbox.tasks")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        engine = current.engine()
        username = request.form.get("username", "").strip()
        address = request.remote_addr or "-"
        until = sign_in_throttle.wait_until(engine, username, address)
        if until is not None:  # the password is not even checked: guessing goes no faster
            engine.sign_in_refused(username, address=address, reason="throttled")
            flash(_("登录失败次数过多，请于 %(time)s 后再试。", time=display.minute(until.isoformat(), i18n.current() == "zh")), "error")
            wait = max(int((until - clock.now()).total_seconds()) + 1, 1)
            return render_template("login.html", username=username), 429, {"Retry-After": str(wait)}
        active, found = _user_row(username) if username else (None, None)
        if not passwords.matches(found[1] if found else None, request.form.get("password", "")):
            sign_in_throttle.failed(engine, username, address)
            # the same work either way; only the trail tells the two apart
            engine.sign_in_refused(username, address=address, reason="wrong_password" if found else "unknown_user")
            flash(_("用户名或密码不正确。没有密码的用户请向改革办申领。"), "error")
            return render_template("login.html", username=username), 401
        if not active:  # said only to whoever knows the password: it is theirs
            engine.sign_in_refused(username, address=address, reason="deactivated")
            flash(_("该用户已停用，请联系改革办。"), "error")
            return render_template("login.html", username=username), 401
        sign_in_throttle.succeeded(engine, username)
        engine.signed_in(found[0].username, address=address)
        fresh_session()
        login_user(found[0])
        session[GENERATION] = found[2]
        session_timeout.started()
        # the form secret made now, in the sign-in's own cookie: two pages opened at once before
        # any other (tabs restored) would each make one, the later cookie winning, and the other
        # page's first form refused as 页面已过期
        generate_csrf()
        return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", username="")


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    # every copy of this session, anywhere, is over (the generation counts up)
    current.engine().signed_out(current_user.username, address=request.remote_addr or "-")
    logout_user()
    fresh_session()
    return redirect(url_for("auth.login"))


@bp.route("/language/<code>", methods=["POST"])
def language(code: str):
    if code in i18n.LANGUAGES:
        session["lang"] = code
    return redirect(_safe_next(request.form.get("next")))


@bp.app_context_processor
def _who():
    return {"me": current_user if current_user.is_authenticated else None}
