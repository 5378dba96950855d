"""A plan's page: where it stands (its line of the ledger, its 流程图), its open steps, its comments (批注/留言, with a box to add one)
and its trail (who did what, when), said in the page's language; and its attached files,
downloaded by those who may see the plan."""
from __future__ import annotations

from datetime import datetime
from pathlib import PurePosixPath

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import channels, clock, ledger_export, migration, timer_lag
from engine.comments import MAX_CHARS, open_to
from engine.documents import MEDIA_TYPES
from engine.errors import NotFound, ReformflowError
from engine.history import plan_history
from engine.trail_text import not_intact, off_clock, said
from engine.visibility import only_audits

from . import current, i18n
from .access import may_see_plan, not_yours
from .downloads import attachment
from .refusals import back_or, refused
from .whole_numbers import whole_number

bp = Blueprint("plans", __name__)
# the comment box's name (web/templates/_comments.html): with a hyphen, so that no form field of a
# diagram (a variable name) can be called so, as the task's form sends both
COMMENT_FIELD = "plan-comment"
# how many of its trail's newest lines a plan's page lists: what happened lately, on one screen or
# two; a plan returned to drafting many times has thousands, behind 查看全部办理经过 (plans.trail)
TRAIL_SHOWN = 50
COMMENTS_SHOWN = 30  # … and of its comments (a task's page too)


def seen_id(field: str) -> int | None:
    """The newest comment or file id the sending page showed (`comments-seen`, `files-seen`): what
    the same text or file sent again after it repeats (engine `after`)."""
    raw = request.form.get(field, "")
    return whole_number(raw)


@bp.route("/plans/<int:instance_id>")
@login_required
def plan(instance_id: int, typed: str = ""):
    """The plan's page; `typed`: a refused comment's text, put back in its box."""
    engine = current.engine()
    if not may_see_plan(engine, current_user, instance_id):
        return not_yours()
    try:
        view = engine.instance(instance_id)
        comments = engine.newest_comments(instance_id, COMMENTS_SHOWN)  # the rest: plans.trail
        # its line of the ledger: lead unit, responsible person, milestone, warning colour
        ledger_row = engine.ledger_line(instance_id)
        with engine.db.reader() as s:
            # its newest events: a plan returned again and again has thousands (the whole: plans.trail)
            trail = plan_history(s, instance_id, newest=TRAIL_SHOWN)
            # 迁移到新版本 is offered to the reform office once a newer version is deployed
            newer = migration.newer_version(s, instance_id) if current_user.office else None
            # … and for a called process the plan is inside, fixed meanwhile (only it moves)
            newer_called = migration.newer_called(s, instance_id) if current_user.office else []
    except ReformflowError as exc:
        return refused(exc, lambda: redirect(url_for("inbox.tasks")))
    events = trail_lines(trail["events"])
    return render_template("plan.html", plan=view, events=events, trail_total=trail["total"],
                           earlier=trail["total"] - len(events), earlier_broken=trail["earlier_broken"],
                           comments=comments["comments"],
                           comments_total=comments["total"], typed=typed,
                           comment_max=MAX_CHARS, reads_only=only_audits(current_user),
                           may_comment=open_to(view["status"], current_user.office) and not only_audits(current_user),
                           ledger=ledger_row, missed_text=ledger_export.missed_text,
                           measures_text=ledger_export.measures_text, newer=newer,
                           newer_called=newer_called, timer_behind=_timer_behind(view))


def _timer_behind(view: dict) -> str | None:
    """When the plan's next timer was due, if that is longer ago than the timer worker would take
    (engine/timer_lag.py): a stopped worker otherwise leaves the page saying no step is open, 预警 绿."""
    due = view.get("next_timer_at")
    if due and timer_lag.plan_behind(view["status"], datetime.fromisoformat(due), clock.now()):
        return due
    return None


@bp.route("/plans/<int:instance_id>/trail")
@login_required
def trail(instance_id: int):
    """全部留言与办理经过: all the plan's comments and its whole trail, oldest first, for whoever
    may see the plan (its page and its tasks' list the newest and link here)."""
    engine = current.engine()
    if not may_see_plan(engine, current_user, instance_id):
        return not_yours()
    try:
        comments = engine.comments(instance_id)
        with engine.db.reader() as s:
            history = plan_history(s, instance_id)  # its id, title and key too: no workflow restored
    except ReformflowError as exc:
        return refused(exc, lambda: redirect(url_for("inbox.tasks")))
    return render_template("plan_trail.html", plan=history, events=trail_lines(history["events"]), comments=comments)


def trail_lines(events: list[dict]) -> list[dict]:
    """A trail's events said in the page's language. A line whose event fails its own hash is
    marked, not shown as fact (engine/history.py `intact`), and so is one written at a time far
    from the one it states (a date given with --now). Dates as the page writes its others
    (2026年12月25日 on a Chinese page); the API and the command line keep ISO."""
    language = i18n.current()
    return [dict(e, said=said(e, language, chinese_dates=language == "zh"), untrusted=None if e["intact"] else not_intact(language),
                 late=off_clock(e, language), via=channels.said(e["channel"], e["token_id"], language))
            for e in events]


@bp.route("/plans/<int:instance_id>/diagram")
@login_required
def diagram(instance_id: int):
    """流程图: the plan's diagrams, each element in its state, to whoever may see the plan."""
    engine = current.engine()
    if not may_see_plan(engine, current_user, instance_id):
        return not_yours()
    try:
        view = engine.instance(instance_id)
        diagrams = engine.plan_diagram(instance_id)
    except ReformflowError as exc:
        return refused(exc, lambda: redirect(url_for("plans.plan", instance_id=instance_id)))
    return render_template("plan_diagram.html", plan=view, diagrams=diagrams)


@bp.route("/plans/<int:instance_id>/comments", methods=["POST"])
@login_required
def comment(instance_id: int):
    """Add a comment to the plan: one engine command. A refused one is shown again in its box."""
    engine = current.engine()
    if not may_see_plan(engine, current_user, instance_id):
        return not_yours()
    text = request.form.get(COMMENT_FIELD, "")
    try:
        done = engine.comment(instance_id, text, actor=current_user.username, after=seen_id("comments-seen"))
    except NotFound:
        return not_yours()
    except ReformflowError as exc:
        return refused(exc, lambda: plan(instance_id, typed=text))
    flash(_("这条留言已经发表，没有重复添加。") if done.get("repeated") else _("已留言。"), "ok")
    return redirect(url_for("plans.plan", instance_id=instance_id, _anchor="comments"))


@bp.route("/plans/<int:instance_id>/files/<int:document_id>")
@login_required
def document(instance_id: int, document_id: int):
    """An attached file, always as a download (never shown inline: a file is what someone uploaded,
    not a page of this site), to those who may see its plan."""
    engine = current.engine()
    if not may_see_plan(engine, current_user, instance_id):
        return not_yours()
    try:
        meta, content = engine.document(document_id)
    except NotFound:
        return not_yours()
    except ReformflowError as exc:  # its content no longer matches its upload: said, not served
        return refused(exc, lambda: redirect(back_or(url_for("plans.plan", instance_id=instance_id))))
    if meta["instance_id"] != instance_id:  # another plan's file: as if it did not exist
        return not_yours()
    media_type = meta["media_type"] if meta["media_type"] in MEDIA_TYPES.values() else "application/octet-stream"
    suffix = PurePosixPath(meta["file_name"]).suffix.lower()  # one of MEDIA_TYPES': plain ASCII
    return attachment(content, media_type, meta["file_name"], fallback=f"document-{document_id}{suffix}")
