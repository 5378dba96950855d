"""People and passwords in the browser: anyone changes their own password (/account/password)
and keeps their access tokens of the JSON API (/account/tokens: make one, its secret shown once;
revoke one) and their delegations while away (/account/delegation, 委托办理: name a colleague for a
period, end one);
the reform office keeps the list of users (/people): adds one with an initial password, changes
a user's name, unit or groups, resets a forgotten password, deactivates someone who left and
reactivates them on their return.

The /people pages are the office's only: anyone else gets 403, as for the ledger (the engine
refuses their POSTs too). Each button is one engine command. The edit form carries what the
person saw, so another office member's change meanwhile is a conflict (409), not undone; a
deactivation asks once more, naming how many tasks the user holds, and then lists where each
went, as `reformflow users deactivate` prints it. A password reset or a deactivation ends the
user's web sessions at their next click (users.session_generation, web/auth.py).
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user, login_required
from sqlalchemy import select

from engine import clock, delegations, display, passwords
from engine.errors import Invalid, ReformflowError
from models import Unit

from . import i18n, names, sign_in_throttle
from .current import engine
from .auth import GENERATION
from .office import office_only
from .refusals import refused

bp = Blueprint("people", __name__)


@bp.context_processor
def _password_rules():
    return {"min_length": passwords.MIN_LENGTH}



def _new_password(username: str, first: str, again: str, *, check: bool = False) -> None:
    """The two entries of a new password agree (Invalid, in the page's words, if not); `check`:
    it is also one the engine takes (Engine.set_password checks it itself)."""
    if first != again:
        raise Invalid(_("两次输入的新密码不一致，请重新输入。"))
    if check:
        passwords.checked(username, first)


# ------------------------------------------------------------------ one's own account
@bp.route("/account")
@login_required
def account():
    """One link in the header for what is one's own (password, access tokens, delegations, mail
    address), each with how it stands now: four links there crowded the header onto two lines."""
    from .mail import address_of  # web/mail.py's blueprint imports nothing of this one
    me = current_user.username
    return render_template("account.html", email=address_of(me),
                           tokens=sum(t["state"] == "active" for t in engine().tokens(me)),
                           delegations=[d for d in engine().delegations(me) if d["state"] in ("in_force", "upcoming")])


# ------------------------------------------------------------------ one's own password
@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def account_password():
    """A person's own password, with the current one: a browser left signed in is not enough to
    take the account. Wrong current passwords count as failed sign-ins (web/sign_in_throttle.py):
    this form is no faster way to guess, and each is on the audit trail (`password_change_refused`).
    The other sessions of the person end; this one goes on."""
    def page():
        return render_template("people_password.html")
    if request.method == "GET":
        return page()
    me, address = current_user.username, request.remote_addr or "-"
    until = sign_in_throttle.wait_until(engine(), me, address)
    if until is not None:
        engine().password_change_refused(me, address=address, reason="throttled")
        flash(_("密码输错次数过多，请于 %(time)s 后再试。", time=display.minute(until.isoformat(), i18n.current() == "zh")), "error")
        return page(), 429
    form = request.form
    try:
        _new_password(me, form.get("new_password", ""), form.get("new_password_again", ""))
        done = engine().set_password(me, form["new_password"], actor=me,
                                     current_password=form.get("current_password", ""))
    except ReformflowError as exc:
        if exc.kind == "forbidden":  # the current password was wrong
            sign_in_throttle.failed(engine(), me, address)
            engine().password_change_refused(me, address=address, reason="wrong_current_password")
        return refused(exc, page)
    session[GENERATION] = done["session_generation"]  # this browser stays signed in
    flash(_("密码已修改。您在其他浏览器的登录已失效，需用新密码重新登录。"), "ok")
    return redirect(url_for("inbox.tasks"))


# ------------------------------------------------------------------ one's own API tokens
@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def account_tokens():
    """A person's access tokens of the JSON API (web/api.py, docs/api.md): the list, never a
    secret; a new one, its secret shown on the answer to the POST only, this once (not flashed:
    the session cookie would carry it); revoking one is the button on its row."""
    me = current_user.username

    def page(created: dict | None = None, name: str = "", expires: str = ""):
        return render_template("people_tokens.html", tokens=engine().tokens(me), created=created, name=name,
                               expires=expires, today=clock.today().isoformat())
    if request.method == "GET":
        return page()
    name, expires = request.form.get("name", ""), request.form.get("expires", "").strip()
    address = request.remote_addr or "-"
    # the current password, as for a new password: a token outlives sign-out and password
    # changes, so a browser left signed in must not be enough to make one; wrong ones count as
    # failed sign-ins, so this form is no faster way to guess
    until = sign_in_throttle.wait_until(engine(), me, address)
    if until is not None:
        flash(_("密码输错次数过多，请于 %(time)s 后再试。", time=display.minute(until.isoformat())), "error")
        return page(name=name, expires=expires), 429
    try:
        try:
            last_day = date.fromisoformat(expires) if expires else None
        except ValueError:
            raise Invalid(_("有效期须为日期，如 2027-12-31。")) from None
        created = engine().create_token(me, name, last_day, current_password=request.form.get("current_password", ""))
    except ReformflowError as exc:
        if exc.kind == "forbidden":  # the current password was wrong
            sign_in_throttle.failed(engine(), me, address)
        return refused(exc, lambda: page(name=name, expires=expires))
    flash(_("已创建访问令牌「%(name)s」。", name=created["name"]), "ok")
    return page(created=created)


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    owner = request.form.get("owner")  # revoked by the office on the owner's page: back there
    back = url_for("people.person", username=owner) if owner else url_for("people.account_tokens")
    try:
        done = engine().revoke_token(current_user.username, token_id)
    except ReformflowError as exc:
        return refused(exc, lambda: redirect(back))
    flash(_("已撤销访问令牌「%(name)s」，使用它的请求将被拒绝。", name=done["name"]), "ok")
    return redirect(back)


# ------------------------------------------------------------------ delegation while away (委托办理)
def _colleagues(excluding: str) -> list[dict]:
    return [u for u in engine().users() if u["username"] != excluding]


def _delegated(principal: str, form) -> dict:
    """Set the delegation the form describes for `principal`: one engine command."""
    try:
        first, last = (date.fromisoformat(form.get(f, "").strip()) for f in ("starts_on", "ends_on"))
    except ValueError:
        raise Invalid(_("请填写委托的第一天和最后一天，如 2027-01-04。")) from None
    return engine().delegate(principal, to=form.get("delegate", "").strip(), starts_on=first, ends_on=last,
                             reason=form.get("reason", ""), actor=current_user.username)


@bp.route("/account/delegation", methods=["GET", "POST"])
@login_required
def account_delegation():
    """One's delegations, given and received, and the form to name a colleague while away."""
    me = current_user.username

    def page(entered=None):
        return render_template("people_delegation.html", delegations=engine().delegations(me),
                               colleagues=_colleagues(me), entered=entered or {}, today=clock.today().isoformat(),
                               max_days=delegations.MAX_DAYS)
    if request.method == "GET":
        return page()
    try:
        done = _delegated(me, request.form)
    except ReformflowError as exc:
        return refused(exc, lambda: page(entered=request.form))
    flash(_("已委托 %(who)s 自 %(first)s 至 %(last)s 代为办理。", who=names.person(done["delegate"]),
            first=done["starts_on"], last=done["ends_on"]), "ok")
    return redirect(url_for("people.account_delegation"))


@bp.route("/account/delegation/<int:delegation_id>/end", methods=["POST"])
@login_required
def end_delegation(delegation_id: int):
    owner = request.form.get("owner")  # ended by the office on the person's page: back there
    back = url_for("people.person", username=owner) if owner else url_for("people.account_delegation")
    try:
        done = engine().end_delegation(delegation_id, actor=current_user.username)
    except ReformflowError as exc:
        return refused(exc, lambda: redirect(back))
    flash(_("已结束委托：%(who)s 不再代 %(principal)s 办理。", who=names.person(done["delegate"]),
            principal=names.person(done["principal"])), "ok")
    return redirect(back)


# ------------------------------------------------------------------ the office's list of users
def _units() -> list[str]:
    with engine().db.reader() as s:
        return list(s.execute(select(Unit.name).order_by(Unit.name)).scalars())


def _user(username: str) -> dict | None:
    return next((u for u in engine().users(include_inactive=True) if u["username"] == username), None)


@bp.route("/people")
@login_required
def people():
    if (refusal := office_only()) is not None:
        return refusal
    return render_template("people_list.html", users=engine().users(include_inactive=True))


@bp.route("/people/new", methods=["GET", "POST"])
@login_required
def add():
    if (refusal := office_only()) is not None:
        return refusal
    form = request.form

    def page():
        return render_template("people_new.html", groups=engine().groups(), units=_units(),
                               entered=form, chosen=form.getlist("groups"))
    if request.method == "GET":
        return page()
    username = form.get("username", "").strip()
    try:
        _new_password(username, form.get("password", ""), form.get("password_again", ""), check=True)
        engine().add_user(username, form.get("display_name", "").strip(), groups=form.getlist("groups"),
                          unit=form.get("unit", "").strip() or None, password=form["password"],
                          actor=current_user.username)
    except ReformflowError as exc:
        return refused(exc, page)
    flash(_("已添加用户 %(who)s，请将初始密码当面或经安全渠道告知本人，并请其登录后修改。",
            who=names.person(username)), "ok")
    return redirect(url_for("people.person", username=username))


@bp.route("/people/<path:username>")
@login_required
def person(username: str, handed: dict | None = None, entered=None):
    """A user's page: their unit and groups to change, a new password, deactivate or reactivate;
    their last sign-in and latest refused ones (from the audit trail);
    `handed`, after a deactivation or a move, where their tasks went."""
    if (refusal := office_only()) is not None:
        return refusal
    user = _user(username)
    if user is None:
        return render_template("not_found.html", message=_("用户 %(who)s 不存在。", who=username)), 404
    return render_template("people_user.html", user=user, groups=engine().groups(), units=_units(), handed=handed,
                           sign_ins=engine().sign_ins(username),
                           tokens=engine().tokens(current_user.username, owner=username),
                           delegations=engine().delegations(current_user.username, user=username),
                           colleagues=_colleagues(username), entered=entered or {}, today=clock.today().isoformat())


@bp.route("/people/<path:username>/update", methods=["POST"])
@login_required
def update(username: str):
    if (refusal := office_only()) is not None:
        return refusal
    form = request.form
    seen = {"display_name": form.get("seen_display_name", ""), "unit": form.get("seen_unit") or None,
            "groups": sorted(form.getlist("seen_groups")), "email": form.get("seen_email") or None,
            "digest": form.get("seen_digest") == "on"}
    name, unit, chosen = form.get("display_name", "").strip(), form.get("unit", "").strip(), set(form.getlist("groups"))
    changes = {"display_name": name if name != seen["display_name"] else None,
               "unit": unit if unit != (seen["unit"] or "") else None,
               "add_groups": sorted(chosen - set(seen["groups"])), "remove_groups": sorted(set(seen["groups"]) - chosen)}
    email = form.get("email", "").strip()
    changes["email"] = email if email != (seen["email"] or "") else None  # "" clears it
    digest = form.get("digest") == "on"
    changes["digest"] = digest if digest != seen["digest"] else None
    if not any(changes.values()) and changes["email"] is None and changes["digest"] is None:
        flash(_("没有变化。"), "ok")
        return redirect(url_for("people.person", username=username))
    try:
        done = engine().update_user(username, actor=current_user.username, expected=seen, **changes)
    except ReformflowError as exc:
        return refused(exc, lambda: person(username))
    flash(_("已修改用户 %(who)s。", who=names.person(username)), "ok")
    if done.get("returned") or done.get("to_assign"):  # moved out of a unit: its steps went back to it
        return person(username, handed=done)
    return redirect(url_for("people.person", username=username))


@bp.route("/people/<path:username>/delegation", methods=["POST"])
@login_required
def delegate_for(username: str):
    """The office names who acts for someone away (a leader who could not set it themself)."""
    if (refusal := office_only()) is not None:
        return refusal
    try:
        done = _delegated(username, request.form)
    except ReformflowError as exc:
        return refused(exc, lambda: person(username, entered=request.form))
    flash(_("已委托 %(who)s 自 %(first)s 至 %(last)s 代 %(principal)s 办理。", who=names.person(done["delegate"]),
            first=done["starts_on"], last=done["ends_on"], principal=names.person(username)), "ok")
    return redirect(url_for("people.person", username=username))


@bp.route("/people/<path:username>/password", methods=["POST"])
@login_required
def reset_password(username: str):
    if (refusal := office_only()) is not None:
        return refusal
    form = request.form
    try:
        _new_password(username, form.get("new_password", ""), form.get("new_password_again", ""))
        done = engine().set_password(username, form["new_password"], actor=current_user.username)
    except ReformflowError as exc:
        return refused(exc, lambda: person(username))
    flash(_("已重设 %(who)s 的密码，其网页登录已失效。请将新密码当面或经安全渠道告知本人，并请其登录后修改。",
            who=names.person(username)), "ok")
    if done["tokens_revoked"]:  # whoever held the account may have made them: the person makes new ones
        flash(ngettext("其 %(num)s 个访问令牌已一并撤销，需要时请本人重新创建。",
                       "其 %(num)s 个访问令牌已一并撤销，需要时请本人重新创建。", done["tokens_revoked"]), "ok")
    return redirect(url_for("people.person", username=username))


@bp.route("/people/<path:username>/deactivate", methods=["GET", "POST"])
@login_required
def deactivate(username: str):
    """Asked first (GET: how many tasks they hold, what will become of them), then done."""
    if (refusal := office_only()) is not None:
        return refusal
    if request.method == "GET":
        user = _user(username)
        if user is None:
            return person(username)
        return render_template("people_deactivate.html", user=user)
    try:
        done = engine().deactivate_user(username, actor=current_user.username)
    except ReformflowError as exc:
        return refused(exc, lambda: person(username))
    flash(_("已停用 %(who)s：其网页登录已失效，手头待办已按下列情况处理。", who=names.person(username)), "ok")
    return person(username, handed=done)


@bp.route("/people/<path:username>/reactivate", methods=["POST"])
@login_required
def reactivate(username: str):
    if (refusal := office_only()) is not None:
        return refusal
    try:
        engine().reactivate_user(username, actor=current_user.username)
    except ReformflowError as exc:
        return refused(exc, lambda: person(username))
    flash(_("已启用 %(who)s。停用期间转交他人的待办不会回到其手中。", who=names.person(username)), "ok")
    return redirect(url_for("people.person", username=username))
