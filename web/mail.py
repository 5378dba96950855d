"""邮件提醒 in the browser: anyone sets or clears the address their notifications go to
(/account/email); the reform office sees the outbox (/mail: queued, sent, failing and given-up
counts, the failing mails with their errors) and tries a failed one again. What is mailed and
when is the engine's (engine/mail.py); sending is the worker's (engine/mail_sender.py)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from sqlalchemy import select

from engine import mail_outbox, mail_sender
from engine.errors import ReformflowError
from models import User

from .current import engine
from .office import office_only
from .refusals import refused

bp = Blueprint("mail", __name__)


def address_of(username: str) -> str | None:
    """The address `username`'s notifications go to, if they gave one: their row alone (the users
    list counts every user's open tasks)."""
    with engine().db.reader() as s:
        return s.execute(select(User.email).where(User.username == username)).scalar()


@bp.route("/account/email", methods=["GET", "POST"])
@login_required
def account_email():
    me = current_user.username
    if request.method == "GET":
        return render_template("account_email.html", email=address_of(me) or "")
    entered = request.form.get("email", "")
    try:
        done = engine().set_email(me, entered, actor=me)
    except ReformflowError as exc:
        return refused(exc, lambda: render_template("account_email.html", email=entered))
    if not done["changed"]:
        flash(_("没有变化。"), "ok")
    elif done["email"]:
        flash(_("已保存邮箱地址 %(email)s：有新的待办、指派、催办和提醒时将发邮件给您。", email=done["email"]), "ok")
    else:
        flash(_("已清除邮箱地址，今后不再发邮件给您。"), "ok")
    return redirect(url_for("mail.account_email"))


@bp.route("/mail")
@login_required
def outbox():
    if (refusal := office_only()) is not None:
        return refusal
    try:
        configured = mail_sender.SmtpSettings.from_env() is not None
    except ReformflowError:  # set, but wrongly: the worker says why in its log
        configured = False
    with engine().db.reader() as session:
        state = mail_outbox.status(session, configured=configured)
    return render_template("mail_outbox.html", state=state)


@bp.route("/mail/<int:mail_id>/retry", methods=["POST"])
@login_required
def retry(mail_id: int):
    if (refusal := office_only()) is not None:  # the engine refuses it too
        return refusal
    try:
        mail_outbox.retry(engine(), mail_id, actor=current_user.username)
    except ReformflowError as exc:
        return refused(exc, lambda: redirect(url_for("mail.outbox")))
    flash(_("邮件 %(id)s 将在下一轮发送时重试。", id=mail_id), "ok")
    return redirect(url_for("mail.outbox"))
