"""邮件提醒 in the browser: anyone sets or clears the address their notifications go to, and
turns their daily digest (每日待办摘要) on or off (/account/email); the reform office sees the
outbox (/mail: queued, sent, failing and given-up counts, the failing mails with their kind and
errors) and tries a failed one again. What is mailed and
when is the engine's (engine/mail.py); sending is the worker's (engine/mail_sender.py)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from sqlalchemy import select

from engine import mail_digest, mail_outbox, mail_sender
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


def _page(email: str, digest: bool):
    return render_template("account_email.html", email=email, digest=digest,
                           digest_time=_digest_time())


def _digest_time() -> str:
    try:
        return mail_digest.digest_time().strftime("%H:%M")
    except ReformflowError:  # set wrongly: the worker's log says so; the page still opens
        return mail_digest.DEFAULT_TIME.strftime("%H:%M")


@bp.route("/account/email", methods=["GET", "POST"])
@login_required
def account_email():
    me = current_user.username
    if request.method == "GET":
        with engine().db.reader() as s:
            email, digest = s.execute(select(User.email, User.mail_digest).where(User.username == me)).one()
        return _page(email or "", digest)
    entered, digest = request.form.get("email", ""), request.form.get("digest") == "on"
    try:  # the address and the digest: one change, one transaction, one audit event
        done = engine().set_email(me, entered, actor=me, digest=digest)
    except ReformflowError as exc:
        return refused(exc, lambda: _page(entered, digest))
    if not done["changed"]:
        flash(_("没有变化。"), "ok")
    if "email" in done["changed"]:
        if done["email"]:
            flash(_("已保存邮箱地址 %(email)s：有新的待办、指派、催办和提醒时将发邮件给您。", email=done["email"]), "ok")
        else:
            flash(_("已清除邮箱地址，今后不再发邮件给您。"), "ok")
    if "digest" in done["changed"]:
        if not done["digest"]:
            flash(_("已取消每日待办摘要。"), "ok")
        elif done["email"]:
            flash(_("已开启每日待办摘要：每个工作日 %(time)s 后发一封，列出您的待办。", time=_digest_time()), "ok")
        else:
            flash(_("已开启每日待办摘要，但尚未填写邮箱地址，填写后才会发送。"), "ok")
    return redirect(url_for("mail.account_email"))


@bp.route("/mail")
@login_required
def outbox():
    if (refusal := office_only()) is not None:
        return refusal
    settings, problem = mail_sender.configuration()  # what `reformflow mail status` says
    with engine().db.reader() as session:
        state = mail_outbox.status(session, configured=settings is not None) | {"config_error": problem}
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
