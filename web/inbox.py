"""The inbox and a task's page: list, claim, hand back, complete (with files).

Each POST is one engine command, so one transaction; it carries the task's version as the
person saw it (`expected_version`), and a task changed since then is refused as a conflict
("reload and try again") instead of being overwritten.
"""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import clock
from engine.errors import Invalid, ReformflowError
from engine.queries import SCOPES, list_tasks

from .refusals import refused, status_of

bp = Blueprint("inbox", __name__)


def engine():
    return current_app.extensions["reformflow"]


@bp.route("/")
@login_required
def home():
    return redirect(url_for("inbox.tasks"))


@bp.route("/tasks")
@login_required
def tasks():
    scope = request.args.get("scope", "all")
    if scope not in SCOPES:
        abort(404)
    with engine().db.reader() as s:
        rows = list_tasks(s, current_user.username, scope)
    now = clock.now()
    for row in rows:
        row["overdue"] = bool(row["due_at"]) and datetime.fromisoformat(row["due_at"]) <= now
    return render_template("tasks.html", tasks=rows, scope=scope)


def _version() -> int | None:
    raw = request.form.get("version", "")
    return int(raw) if raw.isdigit() else None


def _back(task_id: int):
    target = request.form.get("back")
    if target in ("tasks", "task"):
        return redirect(url_for("inbox.tasks") if target == "tasks" else url_for("inbox.task", task_id=task_id))
    return redirect(url_for("inbox.task", task_id=task_id))


@bp.route("/tasks/<int:task_id>/claim", methods=["POST"])
@login_required
def claim(task_id: int):
    try:
        engine().claim(task_id, actor=current_user.username, expected_version=_version())
        flash(_("已认领任务 %(id)s，现在可以办理。", id=task_id), "ok")
    except ReformflowError as exc:
        return refused(exc, lambda: _back(task_id))
    return redirect(url_for("inbox.task", task_id=task_id))


@bp.route("/tasks/<int:task_id>/unclaim", methods=["POST"])
@login_required
def unclaim(task_id: int):
    try:
        result = engine().unclaim(task_id, actor=current_user.username, expected_version=_version())
        flash(_("已退回任务 %(id)s，同组的其他人可以认领。", id=task_id) if not result.get("to_assign")
              else _("已退回任务 %(id)s。本单位没有其他人可以认领，须由改革办指派。", id=task_id), "ok")
    except ReformflowError as exc:
        return refused(exc, lambda: _back(task_id))
    return redirect(url_for("inbox.tasks"))


@bp.route("/tasks/<int:task_id>")
@login_required
def task(task_id: int, problems: list | None = None, entered: dict | None = None, status: int = 200):
    try:
        view = engine().task_view(task_id)
    except ReformflowError as exc:
        return refused(exc, lambda: redirect(url_for("inbox.tasks")))
    values = dict(view["values"], **(entered or {}))
    by_field = {}
    for p in problems or []:
        by_field.setdefault(p.get("field"), []).append(p["message"])
    return render_template("task.html", task=view, values=values, problems=by_field,
                           unplaced=[m for f, ms in by_field.items() if f not in values for m in ms]), status


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
    try:
        view = engine().task_view(task_id)
    except ReformflowError as exc:
        return refused(exc, lambda: redirect(url_for("inbox.tasks")))
    data = submitted_form(view["form"], request.form)
    files = [(f.filename, f.read()) for f in request.files.getlist("files") if f and f.filename]
    try:
        result = engine().complete(task_id, actor=current_user.username, data=data,
                                   expected_version=_version(), files=files)
    except Invalid as exc:
        if exc.details:  # the form's problems, shown at their fields, with what the person entered
            flash(_("表单有 %(n)s 处需要修改，未提交。", n=len(exc.details)), "error")
            return task(task_id, problems=exc.details, entered=dict(request.form), status=400)
        return refused(exc, lambda: task(task_id, entered=dict(request.form), status=400))
    except ReformflowError as exc:
        return refused(exc, lambda: redirect(url_for("inbox.task", task_id=task_id)))
    flash(_("已提交「%(name)s」。", name=view["name"]), "ok")
    for reopened in result.get("reopened", []):
        flash(_("任务 %(id)s「%(name)s」已回到您的待办。", id=reopened.get("id"), name=reopened.get("name")), "ok")
    return redirect(url_for("plans.plan", instance_id=view["instance_id"]))


__all__ = ["bp", "status_of"]
