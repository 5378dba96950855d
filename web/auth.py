"""Signing in and out, and the language switch.

A person signs in with the user name and password the reform office gave them (`reformflow
users add NAME --password P`); a user without a password, or one deactivated, cannot. The
session holds only the user name: who they are and what they may do is read from the database
on every request, so a deactivation or a change of groups takes effect on their next click.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from werkzeug.security import check_password_hash

from models import User

from . import i18n

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
    engine = current_app.extensions["reformflow"]
    with engine.db.reader() as s:
        user = s.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if user is None:
            return None, None
        person = Person(user.username, user.display_name, list(user.group_codes),
                        user.unit.name if getattr(user, "unit", None) is not None else None)
        return user.active, (person, user.password_hash)


def load_user(username: str) -> Person | None:
    active, found = _user_row(username)
    return found[0] if active else None


def _safe_next(target: str | None) -> str:
    """Only a path on this site: a link that signs someone in and sends them elsewhere is a phishing tool."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("inbox.tasks")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        active, found = _user_row(username) if username else (None, None)
        if found and active and found[1] and check_password_hash(found[1], request.form.get("password", "")):
            login_user(found[0])
            return redirect(_safe_next(request.args.get("next")))
        if found and not active:
            flash(_("该用户已停用，请联系改革办。"), "error")
        else:
            flash(_("用户名或密码不正确。没有密码的用户请向改革办申领。"), "error")
        return render_template("login.html", username=username), 401
    return render_template("login.html", username="")


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    return redirect(url_for("auth.login"))


@bp.route("/language/<code>", methods=["POST"])
def language(code: str):
    if code in i18n.LANGUAGES:
        session["lang"] = code
    return redirect(_safe_next(request.form.get("next")))


@bp.app_context_processor
def _who():
    return {"me": current_user if current_user.is_authenticated else None}
