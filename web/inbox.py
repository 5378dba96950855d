"""The inbox and a task's page: list, claim, hand back, attach a file, complete (with files).
A choice the diagram marks for confirming (a return, a rejection: a field's `confirm` property)
is asked about first, on a page that posts the same data again (`_question`).

Each POST is one engine command, so one transaction; it carries the task's version as the
person saw it (`expected_version`), and a task changed since then is refused as a conflict
("reload and try again") instead of being overwritten. What the person typed is shown again
with the refusal, for them to copy. Who may see a task's page: web/access.py.
"""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from markupsafe import Markup, escape
from flask_babel import gettext as _, ngettext
from flask_login import current_user, login_required
from sqlalchemy import select

from engine import clock, comments, display, drafts, forms, task_page, urging
from engine.history import load_trail
from engine.errors import Busy, Invalid, NotFound, ReformflowError
from engine.overview import soon_by
from engine.queries import DONE, LISTS, count_listed, count_open_listed, count_tasks, list_tasks
from models import HumanTask, User

from . import field_hints
from .current import engine
from .access import acting_for, delegated_view, may_see_task, may_see_task_id, not_yours
from .plans import COMMENT_FIELD, COMMENTS_SHOWN, seen_id
from .refusals import refused, status_of
from .i18n import say, sentence
from .session_timeout import IDLE
from .signed_out import typed_fields
from .whole_numbers import whole_number

bp = Blueprint("inbox", __name__)
SORTS = ("due", "new")  # the engine's order (overdue first, then priority, then deadline), or the newest first



@bp.route("/")
@login_required
def home():
    return redirect(url_for("inbox.tasks"))


@bp.route("/tasks")
@login_required
def tasks():
    scope = request.args.get("scope", "all")
    sort = request.args.get("sort", "due")
    overdue_only = request.args.get("overdue") == "1"
    soon_only = request.args.get("due") == "soon" and not overdue_only
    step = request.args.get("step", "").strip() or None  # one diagram element's tasks (the overview's filings)
    if scope not in LISTS or sort not in SORTS:
        abort(404)
    text = request.args.get("q", "").strip()
    page = requested_page()
    if scope == DONE:
        return _done(overdue_only, text, page)
    now = clock.now()
    overdue_at = now if overdue_only else None
    with engine().db.reader() as s:
        soon = soon_by(s.connection(), now)  # 5 working days on (the overview's due soon)
        rows = list_tasks(s, current_user.username, scope, overdue_at=overdue_at, text=text, limit=PAGE,
                          offset=(page - 1) * PAGE, newest_first=sort == "new",
                          due_between=(now, soon) if soon_only else None, step=step)
        listed, overdue, due_soon = count_open_listed(s, current_user.username, scope, now, soon_by=soon, text=text,
                                                      step=step)
        marks = urging.urged(s, [r["id"] for r in rows])
        drafted = drafts.saved(s, current_user.username, [r["id"] for r in rows if r["status"] == "claimed"])
        sent_back = task_page.returned(s, rows)  # opened by a return: 退回 beside the step
        # the filtered step by its name, from a listed row or, on an empty list, any step of that id
        step_name = (rows[0]["name"] if rows else s.execute(select(HumanTask.name).where(
            HumanTask.element_id == step).order_by(HumanTask.id.desc()).limit(1)).scalar() or step) if step else None
    for row in rows:
        # judged by its first deadline when a later one was ordered (限期报送, engine/judged_due.py)
        row["overdue"] = bool(row["judged_due_at"]) and datetime.fromisoformat(row["judged_due_at"]) <= now
        row["urged"] = marks.get(row["id"])
        row["drafted_at"] = drafted.get(row["id"])  # 暂存: begun, not yet submitted
        row["returned"] = row["id"] in sent_back
    total = overdue if overdue_only else due_soon if soon_only else listed
    return render_template("tasks.html", tasks=rows, scope=scope, sort=sort, overdue_only=overdue_only,
                           soon_only=soon_only, overdue_count=overdue, soon_count=due_soon, soon_until=soon.isoformat(),
                           step=step, step_name=step_name,
                           text=text, total=total, page=page, more=page * PAGE < total, urge_max=urging.MAX_CHARS)


def requested_page() -> int:
    """?page=N of a list, 1 when missing or not a whole number, and at most MAX_PAGE: a page
    number past any list (a typo, a probe) must give an empty page, not a database error."""
    return min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)


MAX_PAGE = 100_000
# A page of tasks at a time: the reform office sees every open task of every plan (1,500 rows for
# 1,500 plans took 0.45 s to send and made a 700 KB page nobody reads down), and done steps pile
# up over the years.
PAGE = 50


def _done(late_only: bool, text: str, page: int):
    """已办: the steps the person completed, the latest first, a page at a time; `late_only`: those
    completed after their deadline; `text`: those of plans or steps containing it."""
    late = clock.now() if late_only else None
    with engine().db.reader() as s:
        rows = list_tasks(s, current_user.username, DONE, overdue_at=late, text=text, limit=PAGE,
                          offset=(page - 1) * PAGE)
        total = count_listed(s, current_user.username, DONE, overdue_at=late, text=text)
    for row in rows:  # late: completed after the deadline
        row["overdue"] = bool(row["judged_due_at"]) and \
            datetime.fromisoformat(row["judged_due_at"]) <= datetime.fromisoformat(row["completed_at"])
    return render_template("tasks.html", tasks=rows, scope=DONE, sort="new", overdue_only=late_only,
                           total=total, page=page, more=page * PAGE < total, text=text)


@bp.app_context_processor
def _scope_counts():
    """How many tasks each scope of the header holds, for the signed-in person."""
    if not current_user.is_authenticated or request.endpoint == "static":
        return {}

    def counts() -> dict[str, int]:
        with engine().db.reader() as s:
            return count_tasks(s, current_user.username)
    return {"scope_counts": _Once(counts)}


class _Once:
    """Counted when the page first asks, once: a page that shows no header counts nothing."""

    def __init__(self, count):
        self._count, self._counts = count, None

    def __getitem__(self, scope: str) -> int:
        if self._counts is None:
            self._counts = self._count()
        return self._counts[scope]


def _version() -> int | None:
    raw = request.form.get("version", "")
    return whole_number(raw)


def _back(task_id: int):
    target = request.form.get("back")
    if target in ("tasks", "task"):
        return redirect(url_for("inbox.tasks") if target == "tasks" else url_for("inbox.task", task_id=task_id))
    return redirect(url_for("inbox.task", task_id=task_id))


@bp.route("/tasks/<int:task_id>/claim", methods=["POST"])
@login_required
def claim(task_id: int):
    if not may_see_task_id(engine(), current_user, task_id):
        return not_yours()
    try:
        engine().claim(task_id, actor=current_user.username, expected_version=_version())
        flash(_("已认领任务 %(id)s，现在可以办理。", id=task_id), "ok")
    except NotFound:
        return not_yours()
    except ReformflowError as exc:
        return refused(exc, lambda: _back(task_id))
    return redirect(url_for("inbox.task", task_id=task_id))


@bp.route("/tasks/<int:task_id>/unclaim", methods=["POST"])
@login_required
def unclaim(task_id: int):
    if not may_see_task_id(engine(), current_user, task_id):
        return not_yours()
    try:
        result = engine().unclaim(task_id, actor=current_user.username, expected_version=_version())
        # nobody else in the unit may claim it: it is open again, for its holder to claim back, or
        # for the office to assign (the page offers 交回 to its holder only where others may take it)
        flash(_("已交回任务 %(id)s，同组其他人可以认领。", id=task_id) if not result.get("to_assign")
              else _("已交回任务 %(id)s。本单位没有其他在岗人员可以认领：原办理人仍可在「可认领」中认领，或由改革办指派。",
                     id=task_id), "ok")
    except NotFound:
        return not_yours()
    except ReformflowError as exc:
        return refused(exc, lambda: _back(task_id))
    return redirect(url_for("inbox.tasks"))


def _visible_task(task_id: int) -> dict | None:
    """The task's view if the signed-in person may see it; None for one they may not see or
    that does not exist (the same 404 for both)."""
    try:
        view = engine().task_view(task_id)
    except NotFound:
        return None
    return view if may_see_task(engine(), current_user, view) else None


@bp.route("/tasks/<int:task_id>")
@login_required
def task(task_id: int, problems: list | None = None, entered: dict | None = None, kept: dict | None = None,
         status: int = 200, seen_version: int | None = None, comment_typed: str = "", urge_typed: str = ""):
    """The task's page. `entered`: what the person typed, put back in the form (a refused form);
    `kept`: what they typed on a page that has since gone stale, shown apart for them to copy;
    `seen_version`: the version the form carries, when it is the one of an earlier page (back
    from the question), so that a change made since is still refused;
    `comment_typed`, `urge_typed`: a refused comment's or urge's text, put back in its box."""
    view = _visible_task(task_id)
    if view is None:
        return not_yours()
    return _page(view, problems, entered, kept, seen_version, comment_typed, urge_typed), status


def _page(view: dict, problems, entered, kept, seen_version=None, comment_typed: str = "", urge_typed: str = ""):
    form = view["form"]
    values = dict(view["values"])
    acting = acting_for(engine(), current_user.username)  # 委托办理: whom they stand in for today
    delegated = delegated_view(current_user, view, acting)
    draft = None  # 暂存: what they saved last time, when the page is opened afresh by its holder
    if entered is None and view["status"] == "claimed" and \
            (view["assignee"] == current_user.username or delegated["behalf"]):
        draft = engine().draft(view["id"], actor=current_user.username)
        if draft is not None:
            entered = {k: "true" if v is True else v for k, v in draft["values"].items() if v is not False}
            comment_typed = comment_typed or draft["comment"]
    unit_field = view.get("unit_field")
    if unit_field and values.get(unit_field) in (None, "") and not current_user.office and current_user.unit \
            and view["status"] in ("open", "claimed"):
        values[unit_field] = current_user.unit  # a drafter sets only their own unit there (starterUnit)
    if entered is not None:
        for f in form:
            if f["type"] == "boolean":  # an unticked box is not sent at all
                values[f["id"]] = entered.get(f["id"]) == "true"
            elif f["id"] in entered:
                values[f["id"]] = entered[f["id"]]
    by_field = {}
    for p in problems or []:
        by_field.setdefault(p.get("field"), []).append(p["message"])
    labels = {f["id"]: f["label"] for f in form}
    hints = {f["id"]: field_hints.hints(f, view["bounds"].get(f["id"], {}), labels) for f in form} \
        if view["status"] in ("open", "claimed") else {}
    others = [d for d in engine().documents(view["instance_id"]) if d["task_id"] != view["id"]]
    # the files of the steps this one reviews (filesOf: 备案审查 reads 报送备案's), newest first
    reviewed = [d for d in reversed(others) if d["element_id"] in view.get("files_of", [])
                and d["task_status"] != "cancelled"]
    # its newest comments: a plan discussed at length has hundreds (all of them: plans.trail)
    recent = engine().newest_comments(view["instance_id"], COMMENTS_SHOWN)
    files_seen = max((d["id"] for d in view["documents"] + others), default=0)
    with engine().db.reader() as s:
        # the completions only: a long-lived plan's comments, urges and hand-backs are not read
        trail = load_trail(s, view["instance_id"], kinds=task_page.PAGE_EVENTS)
        returned = task_page.returned_by(s, trail, view["id"])  # sent back: by whom, from which step, when
        # 送审材料一览: the five procedures as the decision archive files them
        materials = task_page.materials(s, view["instance_id"], trail)
        due = task_page.deadline(s.connection(), view, clock.now())
        # 交回待办 only where someone else could take it (else it would come straight back to them)
        hand_back = view["status"] == "claimed" and task_page.others_may_claim(s.connection(), view, view["assignee"])
    typed = [(f, kept[f["id"]]) for f in form if kept and kept.get(f["id"]) not in (None, "")
             and "readonly" not in f["constraints"]]
    return render_template("task.html", task=view, values=values, problems=by_field,
                           unplaced=[m for f, ms in by_field.items() if f not in values for m in ms],
                           hints=hints, shown=field_hints.shown, file_size=display.file_size, other_documents=others, typed=typed,
                           names=_names([view["assignee"], view["completed_by"], *(p.username for p in acting)]),
                           **delegated,
                           form_version=view["version"] if seen_version is None else seen_version,
                           comments=recent["comments"], comments_total=recent["total"], comment_typed=comment_typed,
                           files_seen=files_seen, returned=returned, materials=materials, due=due,
                           reviewed_files=reviewed,
                           hand_back=hand_back, latest_files=task_page.latest_files(view["documents"] + others),
                           started_by_me=trail.plan.started_by == current_user.username,
                           answer=field_hints.recorded,
                           comment_max=comments.MAX_CHARS,
                           may_comment=comments.open_to(view["plan_status"], current_user.office),
                           urges=_urges(view["id"]), urge_typed=urge_typed, urge_max=urging.MAX_CHARS,
                           draft=draft, idle_minutes=int(current_app.config[IDLE].total_seconds() // 60),
                           error_heading=ngettext("表单有 %(num)s 处需要修改，未提交。", "表单有 %(num)s 处需要修改，未提交。",
                                                   len(problems)) if problems else None)


def _urges(task_id: int) -> list[dict]:
    with engine().db.reader() as s:
        return urging.urges(s, task_id)


def _names(usernames) -> dict[str, str]:
    """People's display names, for 李明（li）."""
    wanted = [u for u in usernames if u]
    if not wanted:
        return {}
    with engine().db.reader() as s:
        return dict(s.execute(select(User.username, User.display_name).where(User.username.in_(wanted))).all())


def submitted_form(fields: list[dict], form) -> dict:
    """The form's fields as the engine's complete takes them: a read-only field is not sent, an
    unticked box is false, an empty optional field is left out (its default applies)."""
    data = {}
    for field in fields:
        fid = field["id"]
        if "readonly" in field["constraints"]:
            continue
        if field["type"] == "boolean":
            data[fid] = form.get(fid) == "true"
        elif fid in form and (form[fid] != "" or "required" in field["constraints"]):
            data[fid] = form[fid]
    return data


@bp.route("/tasks/<int:task_id>/complete", methods=["POST"])
@login_required
def complete(task_id: int):
    view = _visible_task(task_id)
    if view is None:  # e.g. a delegation ended while the delegate had the page open
        return _gone_with_typed()
    comment = request.form.get(COMMENT_FIELD, "")  # a comment typed and sent with the submission
    if request.form.get("edit") == "1":  # 返回修改 on the question: the form again, as typed
        return task(task_id, entered=dict(request.form), seen_version=_version(), comment_typed=comment)
    data = submitted_form(view["form"], request.form)
    files = [(f.filename, f.read()) for f in request.files.getlist("files") if f and f.filename]
    try:
        if request.form.get("confirmed") != "1" and forms.to_confirm(view["form"], data):
            # a choice to confirm, as submitted: checked as the submit would check it, so the form's
            # problems come before the question (a submission that asks nothing is one transaction)
            values = engine().check_complete(task_id, actor=current_user.username, data=data,
                                             expected_version=_version(), files=files, comment=comment)
            if asked := forms.to_confirm(view["form"], values):
                return _question(view, asked, values, files, comment)
        result = engine().complete(task_id, actor=current_user.username, data=data,
                                   expected_version=_version(), files=files, comment=comment)
    except Invalid as exc:
        if exc.details:  # the form's problems, shown at their fields, with what the person entered
            # said in the form's error summary (task.html), a link to each field, not in a flash
            return task(task_id, problems=exc.details, entered=dict(request.form), status=400, comment_typed=comment)
        return refused(exc, lambda: task(task_id, entered=dict(request.form), status=400, comment_typed=comment))
    except Busy as exc:  # nothing on the page is out of date: the form as typed, to send again
        return refused(exc, lambda: task(task_id, entered=dict(request.form), status=503, comment_typed=comment))
    except ReformflowError as exc:
        # their own first click went in (a second click, another tab): with the same values,
        # nothing more to do; with others (another tab typed differently), those were not saved,
        # and are shown beside what was, below, to copy
        if getattr(exc, "reason", None) != "already_yours_differs" and _done_by_me(task_id):
            flash(sentence(say(exc.message)), "ok")
            return redirect(url_for("plans.plan", instance_id=view["instance_id"]))
        # the page was stale (handed back, reassigned, done by someone else): the task as it is
        # now, and what they typed beside it, not lost
        return refused(exc, lambda exc=exc: task(task_id, kept=dict(request.form), status=status_of(exc),
                                                 comment_typed=comment))
    reopened = result.get("reopened", [])
    if not reopened:
        # one message (one status for a screen reader), the next steps of one's own linked in it
        flash(Markup(" ").join([escape(_("已提交「%(name)s」。", name=view["name"])),
                                *_next_steps(view["instance_id"], task_id, result["completed_at"])]), "ok")
        return redirect(url_for("plans.plan", instance_id=view["instance_id"]))
    # a check of the diagram sent it straight back (a period too short without a reason, a return
    # without one): say so and show the step again, not "submitted" and the plan's page
    for again in reopened:
        if again.get("because"):  # the diagram's own words for the way it took (意见是否有效：未署名或未回避)
            flash(_("已提交，但流程图在「%(why)s」处把「%(name)s」送回您这里（任务 %(id)s），须再次办理：请对照办理要求"
                    "补充后重新提交。", why="；".join(again["because"]), id=again.get("id"), name=again.get("name")), "conflict")
            continue
        flash(_("已提交，但按流程规定「%(name)s」又回到您这里（任务 %(id)s），须再次办理：请对照办理要求"
                "（例如须写明的理由）补充后重新提交。", id=again.get("id"), name=again.get("name")), "conflict")
    return redirect(url_for("inbox.task", task_id=reopened[0]["id"]))


def _next_steps(instance_id: int, task_id: int, completed_at: str) -> list[Markup]:
    """The steps the submission opened that are the person's now or theirs to claim, each said
    with a link, so that the next one of a run of their own (调查研究 after 确认方案任务信息) is one click."""
    with engine().db.reader() as s:
        rows = list_tasks(s, current_user.username, "all", instance_id=instance_id)
    since, said = datetime.fromisoformat(completed_at), []
    for row in rows:
        if row["id"] < task_id or not row["created_at"] or datetime.fromisoformat(row["created_at"]) < since:
            continue
        name = display.step(row["name"], row["subject"])
        if row["status"] == "claimed" and row["assignee"] == current_user.username:
            words = _("下一步「%(name)s」已在您的待办中", name=name)
        elif row["may_claim"]:
            words = _("下一步「%(name)s」可由您认领", name=name)
        else:
            continue
        said.append(Markup('{} → <a href="{}">{}</a>').format(words, url_for("inbox.task", task_id=row["id"]), _("打开")))
    return said


def _done_by_me(task_id: int) -> bool:
    now = _visible_task(task_id)
    return now is not None and now["status"] == "completed" and now.get("completed_by") == current_user.username


def _gone_with_typed():
    """The answer to a submission of a step the person may no longer see: not found, as for one
    that never existed (nothing is revealed), but what they typed shown to copy, under the names
    the form sent it with (the step's labels would tell of a step they may not see)."""
    return render_template("not_found.html", typed=typed_fields(request.form), message=_(
        "找不到该待办，或您已不能办理它（例如委托已结束，或已改派他人）。您填写的内容没有提交。")), 404


def _question(view: dict, asked: list[dict], values: dict, files: list[tuple[str, bytes]], comment: str):
    """The question before a choice that cannot be undone: what was chosen and entered, and the
    same data to post again (confirmed, or back to the form). A page cannot carry the chosen files
    back (a browser never refills a file input), so they are attached to the step now, as
    仅上传所选附件 does: kept with the step whichever button is pressed. A comment typed with the
    submission goes with it again, recorded only if the submission is."""
    attached = []
    for name, content in files:
        try:
            attached.append(engine().attach(view["id"], name, content, actor=current_user.username,
                                            expected_version=_version()))
        except ReformflowError as exc:
            return refused(exc, lambda exc=exc: task(view["id"], entered=dict(request.form), status=status_of(exc),
                                                     comment_typed=comment))
    fields = [f for f in view["form"] if "readonly" not in f["constraints"]]
    summary = [(f, values.get(f["id"])) for f in fields]
    posted = [(f["id"], request.form[f["id"]]) for f in fields if f["id"] in request.form]
    if comment.strip():
        posted.append((COMMENT_FIELD, comment))
    return render_template("task_confirm.html", task=view, asked=asked, summary=summary, posted=posted,
                           attached=attached, comment=comment.strip(), version=request.form.get("version", ""),
                           shown=field_hints.shown)


@bp.route("/tasks/<int:task_id>/attach", methods=["POST"])
@login_required
def attach(task_id: int):
    """Attach files to a task one holds without completing it: each file one engine command; the
    form's other fields, sent along, are shown again as they were typed."""
    view = _visible_task(task_id)
    if view is None:
        return not_yours()
    files = [f for f in request.files.getlist("files") if f and f.filename]
    comment = request.form.get(COMMENT_FIELD, "")  # typed, not sent: kept in its box
    if not files:
        flash(_("请先选择要上传的文件。"), "error")
        return task(task_id, entered=dict(request.form), status=400, comment_typed=comment)
    return _upload(task_id, files, comment) or task(task_id, entered=dict(request.form), comment_typed=comment)


@bp.route("/tasks/<int:task_id>/draft", methods=["POST"])
@login_required
def save_draft(task_id: int):
    """暂存: the form as typed, and the comment beside it, kept for the holder without submitting;
    files chosen are uploaded first, as 仅上传所选附件 does (a browser cannot keep them). Then the
    page afresh, which fills the form from the draft: what the person sees is what was saved."""
    view = _visible_task(task_id)
    if view is None:
        return not_yours()
    comment = request.form.get(COMMENT_FIELD, "")
    files = [f for f in request.files.getlist("files") if f and f.filename]
    if files and (refusal := _upload(task_id, files, comment)) is not None:
        return refusal
    typed = typed_draft(view["form"], request.form)
    try:
        engine().save_draft(task_id, typed, actor=current_user.username, comment=comment)
    except ReformflowError as exc:
        return refused(exc, lambda exc=exc: task(task_id, entered=dict(request.form), status=status_of(exc),
                                                 comment_typed=comment))
    flash(_("已暂存，尚未提交：下次打开此页时自动填入；提交后暂存内容即删除。"), "ok")
    return redirect(url_for("inbox.task", task_id=task_id))


def typed_draft(fields: list[dict], form) -> dict:
    """Every editable field as typed, an emptied one too, as a draft keeps it: not submitted_form,
    which leaves an empty optional field out so that its default applies (a draft would then
    bring the default back)."""
    return {f["id"]: (form.get(f["id"]) == "true") if f["type"] == "boolean" else form.get(f["id"], "")
            for f in fields if "readonly" not in f["constraints"]}


def _upload(task_id: int, files: list, comment: str):
    """Each chosen file attached to the step, one engine command each, said in a line each; the
    refusal's page if one is refused, else None."""
    for f in files:
        try:
            done = engine().attach(task_id, f.filename, f.read(), actor=current_user.username,
                                   expected_version=_version(), after=seen_id("files-seen"))
        except ReformflowError as exc:
            return refused(exc, lambda exc=exc: task(task_id, entered=dict(request.form), status=status_of(exc),
                                                     comment_typed=comment))
        flash(_("附件「%(name)s」已经上传，没有重复添加。", name=done["file_name"]) if done.get("repeated")
              else _("已上传附件「%(name)s」，尚未提交。", name=done["file_name"]), "ok")
    return None


@bp.route("/tasks/<int:task_id>/comment", methods=["POST"])
@login_required
def comment(task_id: int):
    """A comment on the task's plan about this task, without completing it: one engine command.
    The form's other fields, sent along by the assignee's 仅留言 button, are shown again as they
    were typed; a refused comment is put back in its box."""
    view = _visible_task(task_id)
    if view is None:
        return not_yours()
    text = request.form.get(COMMENT_FIELD, "")
    # the holder's 仅留言 (or their delegate's, on the task of whom they stand in for) sends the form too
    holders = {current_user.username, *(p.username for p in acting_for(engine(), current_user.username))}
    entered = dict(request.form) if view["status"] == "claimed" and view["assignee"] in holders else None
    try:
        done = engine().comment(view["instance_id"], text, actor=current_user.username, task_id=task_id,
                                after=seen_id("comments-seen"))
    except ReformflowError as exc:
        return refused(exc, lambda exc=exc: task(task_id, entered=entered, status=status_of(exc), comment_typed=text))
    if done.get("repeated"):
        flash(_("这条留言已经发表，没有重复添加。"), "ok")
    else:
        flash(_("已留言，此环节尚未提交。") if entered is not None else _("已留言。"), "ok")
    return task(task_id, entered=entered)


__all__ = ["bp", "status_of"]
