"""The reform office's pages: every plan (others: the plans that concern them), the overview
(工作台), the ledger (台账) with its downloads, assigning a task, stopping a plan, and starting one (for whoever the
process lets start it).

Permissions are the engine's: assign and stop are refused by the engine to anyone outside the
office, whatever the page showed them; the overview and the ledger, reads, are refused here (403). A step that
takes something from someone (a task another person holds, a plan still running) asks once more
before it is done, and carries the version the person saw, so a change made meanwhile is a
conflict (409), not overwritten.
"""
from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user, login_required

from engine import clock, forms, ledger_export, urging
from engine.errors import Invalid, ReformflowError
from engine.ledger import COLOURS, STATUSES, holder_text
from engine.overview import FILING_STEP
from engine.plan_list import PLAN_STATUSES, plan_rows
from engine.queries import definitions

from . import inbox, names, plans as plan_pages, start_forms
from .current import engine
from .assignees import assignees
from .downloads import attachment
from .refusals import back_or, refused
from .whole_numbers import whole_number

bp = Blueprint("office", __name__)


@bp.route("/plans")
@login_required
def plans():
    status = request.args.get("status", "")
    status = status if status in PLAN_STATUSES else ""
    text = request.args.get("q", "").strip()
    page = inbox.requested_page()
    with engine().db.reader() as s:
        rows, more = plan_rows(s, current_user, status=status or None, text=text, page=page)
    return render_template("office_plans.html", plans=rows, status=status, text=text, page=page, more=more,
                           statuses=PLAN_STATUSES)


# ------------------------------------------------------------------ office only
def office_only():
    """A page only the reform office may see: None for them, else the refusal (403)."""
    if current_user.office:
        return None
    return render_template("office_refused.html", message=_("只有改革办可以查看此页面。")), 403


# ------------------------------------------------------------------ the ledger
ALL_YEARS = "all"  # ?year=all: every plan ever started; no year: this year's ledger


def ledger_filters() -> dict:
    """The request's ledger filters (the page's and the JSON API's), its year this year's (engine
    clock, Beijing) unless it names one or all; a year that is not a number is refused (Invalid)
    as the engine refuses one out of range."""
    args = request.args
    typed = args.get("year", "").strip()
    if not typed:
        year = clock.today().year
    elif typed == ALL_YEARS:
        year = None
    elif (year := whole_number(typed)) is None:
        raise Invalid(f"年度须为数字，如 2027：{typed} (the year is a number, e.g. 2027)")
    return {"status": args.get("status") or "all", "colour": args.get("colour") or None,
            "unit": args.get("unit", "").strip() or None, "process": args.get("process") or None, "year": year}


@bp.route("/ledger")
@login_required
def ledger():
    if (refusal := office_only()) is not None:
        return refusal
    try:
        filters = ledger_filters()
    except Invalid as exc:
        return refused(exc, lambda: redirect(url_for("office.ledger")))

    def page(rows=()):
        counts = {c: sum(r["colour"] == c for r in rows) for c in COLOURS}
        query = {k: v for k, v in filters.items() if v and not (k == "status" and v == "all")}
        query["year"] = ALL_YEARS if filters["year"] is None else filters["year"]  # this page's year, said outright
        years = engine().ledger_years()
        if filters["year"] is not None and filters["year"] not in years:  # one typed into the address
            years = sorted({*years, filters["year"]}, reverse=True)
        return render_template("office_ledger.html", rows=rows, filters=filters, counts=counts, query=query,
                               carried_over=sum(r["carried_over"] for r in rows), years=years,
                               all_years=ALL_YEARS, statuses=STATUSES, colours=COLOURS,
                               processes=start_forms.processes(engine()),
                               holder_text=holder_text, missed_text=ledger_export.missed_text,
                               measures_text=ledger_export.measures_text)
    try:
        rows = engine().ledger(**filters)
    except ReformflowError as exc:
        return refused(exc, page)
    return page(rows)


# ------------------------------------------------------------------ 工作台


@bp.route("/overview")
@login_required
def overview():
    """工作台: how this year stands at a glance (engine/overview.py), each figure a link to the
    page that lists it."""
    if (refusal := office_only()) is not None:
        return refusal
    try:
        result = engine().overview(current_user.username)
    except ReformflowError as exc:
        return refused(exc, lambda: redirect(url_for("inbox.tasks")))
    # the filing step by its element id: the inbox lists its tasks overdue or due soon (?step=)
    return render_template("office_overview.html", o=result, colours=COLOURS, filing_step=FILING_STEP)


_MEDIA = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "csv": "text/csv"}


@bp.route("/ledger.<fmt>")
@login_required
def ledger_file(fmt: str):
    """The same table as the page, as the command line's --output writes it (engine/ledger_export.py)."""
    if (refusal := office_only()) is not None:
        return refusal
    if fmt not in _MEDIA:
        return render_template("office_refused.html", message=_("台账只能下载为 .xlsx 或 .csv。")), 404
    try:
        filters = ledger_filters()
        rows = engine().ledger(**filters)
    except ReformflowError as exc:
        return refused(exc, lambda: redirect(url_for("office.ledger")))
    year = filters["year"]
    with tempfile.TemporaryDirectory() as folder:  # our own name: nothing the user sent names a path
        path = Path(folder) / f"ledger.{fmt}"
        ledger_export.write(rows, str(path), year=year)
        content = path.read_bytes()
    today = f"{clock.today():%Y%m%d}"  # 2026年度改革方案台账-20261204.xlsx; ledger-2026-20261204.xlsx for an old browser
    return attachment(content, _MEDIA[fmt], f"{ledger_export.title(year)}-{today}.{fmt}",
                      f"ledger-{ALL_YEARS if year is None else year}-{today}.{fmt}")


# ------------------------------------------------------------------ assigning a task
@bp.app_template_global()
def office_assignees(task: dict) -> list[dict]:
    """For office_assign.html on a task's page."""
    return assignees(engine(), task)


def _version() -> int | None:
    raw = request.form.get("version", "")
    return whole_number(raw)


@bp.route("/tasks/<int:task_id>/assign", methods=["POST"])
@login_required
def assign(task_id: int):
    to = request.form.get("to", "").strip()
    seen, confirmed = _version(), request.form.get("reassign") == "1"
    if current_user.office and not confirmed:
        try:
            view = engine().task_view(task_id)
        except ReformflowError as exc:
            return refused(exc, lambda: redirect(url_for("inbox.tasks")))
        # someone holds it, as the office saw it: ask before taking it from them (a change since
        # then is the engine's conflict, below)
        if view["status"] == "claimed" and view["assignee"] not in (None, to) and view["version"] == seen:
            target = next((p for p in assignees(engine(), view) if p["username"] == to), None)
            return render_template("office_reassign.html", task=view, to=to, target=target, version=seen)
    try:
        done = engine().assign(task_id, to=to, actor=current_user.username, expected_version=seen,
                               reassign=confirmed)
    except ReformflowError as exc:
        return refused(exc, lambda: inbox.task(task_id))
    flash(_("已将任务 %(id)s「%(name)s」指派给 %(who)s。", id=task_id, name=done["name"], who=names.person(to)), "ok")
    return redirect(url_for("inbox.task", task_id=task_id))


@bp.route("/tasks/<int:task_id>/urge", methods=["POST"])
@login_required
def urge(task_id: int):
    """催办: the office presses the step's holder (engine/urging.py); the engine refuses anyone else."""
    note = request.form.get("note", "")
    try:
        done = urging.urge(engine(), task_id, actor=current_user.username, note=note)
    except ReformflowError as exc:
        return refused(exc, lambda: inbox.task(task_id, urge_typed=note))
    flash(_("这次催办已经发出，没有重复添加。") if done["repeated"] else _("已催办。"), "ok")
    return redirect(url_for("inbox.task", task_id=task_id))


@bp.route("/tasks/urge", methods=["POST"])
@login_required
def urge_picked():
    """催办所选 on a list of tasks: the ticked steps (or, 催办本页全部, every one the page listed) urged
    with one note, in one engine command; then the list again, saying how many were urged and
    which were done meanwhile."""
    if (refusal := office_only()) is not None:  # the engine refuses too; this says it as a page
        return refusal
    note = request.form.get("note", "")
    back = back_or(url_for("inbox.tasks", scope="all"))
    try:
        # 催办本页全部: every step the list showed, ticked or not
        picked = [int(t) for t in request.form.getlist("listed" if request.form.get("all") == "1" else "task")]
        done = urging.urge_many(engine(), picked, actor=current_user.username, note=note)
    except ValueError:
        abort(400)
    except ReformflowError as exc:
        return refused(exc, lambda: redirect(back))
    fresh = [u for u in done["urged"] if not u["repeated"]]
    again = len(done["urged"]) - len(fresh)  # the same note by the same person within a minute: not sent twice
    if fresh:
        flash(ngettext("已催办 %(num)s 项待办。", "已催办 %(num)s 项待办。", len(fresh)), "ok")
    if again:
        flash(ngettext("另有 %(num)s 项不久前已用同样的说明催办过，没有重复催办。",
                       "另有 %(num)s 项不久前已用同样的说明催办过，没有重复催办。", again) if fresh
              else _("所选待办刚才已催办过，没有重复添加。"), "conflict" if fresh else "ok")
    for s in done["skipped"]:
        flash(_("任务 %(id)s 已不存在，未催办。", id=s["task_id"]) if s["reason"] == "not_found"
              else _("任务 %(id)s「%(name)s」已办结或已撤销，无需催办。", id=s["task_id"], name=s["name"]), "conflict")
    return redirect(back)


# ------------------------------------------------------------------ stopping a plan
@bp.route("/plans/<int:instance_id>/stop", methods=["GET", "POST"])
@login_required
def stop(instance_id: int):
    """Two steps for the office: the reason, then a confirmation naming what will be withdrawn.
    Anyone else's POST goes straight to the engine, which refuses it."""
    reason = request.form.get("reason", "").strip()
    if request.method == "GET" and (refusal := office_only()) is not None:
        return refusal
    if request.method == "GET" or (current_user.office and request.form.get("confirm") != "1"):
        try:
            view = engine().instance(instance_id)
        except ReformflowError as exc:
            return refused(exc, lambda: redirect(url_for("office.plans")))
        if request.method == "POST" and not reason:  # the engine would refuse it too, at the last step
            flash(_("须写明终止理由。"), "error")
            return render_template("office_stop.html", plan=view, reason="", confirming=False), 400
        return render_template("office_stop.html", plan=view, reason=reason, confirming=request.method == "POST")
    try:
        done = engine().cancel_plan(instance_id, reason=reason, actor=current_user.username)
    except ReformflowError as exc:
        return refused(exc, lambda: plan_pages.plan(instance_id))
    flash(ngettext("已终止方案「%(title)s」，撤销待办 %(num)s 项。", "已终止方案「%(title)s」，撤销待办 %(num)s 项。",
                   len(done["withdrawn"]), title=done["title"]), "ok")
    return redirect(url_for("plans.plan", instance_id=instance_id))


# ------------------------------------------------------------------ moving a plan to a new version
@bp.route("/plans/<int:instance_id>/migrate", methods=["GET", "POST"])
@login_required
def migrate(instance_id: int):
    """迁移到新版本: the preview with the reason asked, then the move, carrying the plan's version
    the preview showed (a plan acted on meanwhile is a conflict: preview again). Anyone else's POST
    goes straight to the engine, which refuses it."""
    to_version = request.values.get("to_version", type=int)
    if request.method == "GET":
        if (refusal := office_only()) is not None:
            return refusal
        return _migration_page(instance_id, "", to_version)
    reason = request.form.get("reason", "").strip()
    if current_user.office and not reason:  # the engine would refuse it too
        flash(_("须写明迁移理由。"), "error")
        return _migration_page(instance_id, "", to_version, status=400)
    try:
        done = engine().migrate_plan(instance_id, actor=current_user.username, reason=reason, to_version=to_version,
                                     expected_version=request.form.get("expected_version", type=int),
                                     expected_called=_called_shown(request.form.get("called_versions")))
    except ReformflowError as exc:
        return refused(exc, lambda: _migration_page(instance_id, reason, to_version)
                       if current_user.office else plan_pages.plan(instance_id))
    moved = done["migration"]
    if moved["from_version"] != moved["to_version"]:
        flash(_("已将方案「%(title)s」迁移到第 %(version)s 版。", title=done["title"], version=moved["to_version"]), "ok")
    else:  # only the called processes it is inside moved
        flash(_("已将方案「%(title)s」正在办理的调用流程迁移到新版本：%(called)s。", title=done["title"],
                called=_("、").join(f"{k} v{v['to']}" for k, v in moved["called_moved"].items())), "ok")
    return redirect(url_for("plans.plan", instance_id=instance_id))


@bp.route("/definitions/<key>/migrate", methods=["GET", "POST"])
@login_required
def migrate_many(key: str):
    """迁移旧版本方案: every running plan of `key` on an older version (or inside a called `key`),
    previewed; one reason moves all that may, each plan in its own transaction (one refused or
    acted on meanwhile leaves the others moved), and the page then says what became of each."""
    if (refusal := office_only()) is not None:
        return refusal
    try:
        found = engine().migration_candidates(key, actor=current_user.username)
    except ReformflowError as exc:
        return refused(exc, lambda: redirect(url_for("analyst.definitions")))
    with engine().db.reader() as s:  # the page names the process as its diagram does
        found = dict(found, name=next((d["name"] for d in definitions(s) if d["key"] == key), None) or key)
    if request.method == "GET":
        return render_template("office_migrate_many.html", found=found, reason="", results=None)
    reason = request.form.get("reason", "").strip()
    if not reason:
        flash(_("须写明迁移理由。"), "error")
        return render_template("office_migrate_many.html", found=found, reason="", results=None), 400
    # each plan as the page showed it: its id, the plan's version then, the version it moves to
    shown = {int(i): (int(v), int(t)) for i, v, t in (p.split(":") for p in request.form.getlist("plan")
                                                       if re.fullmatch(r"[0-9]+:[0-9]+:[0-9]+", p))}  # not "²"
    results = {}
    for instance_id, (expected, to_version) in shown.items():
        try:
            engine().migrate_plan(instance_id, actor=current_user.username, reason=reason, to_version=to_version,
                                  expected_version=expected,
                                  expected_called=_called_shown(request.form.get(f"called-{instance_id}")))
            results[instance_id] = ("moved", "")
        except ReformflowError as exc:  # this plan's refusal or conflict: the others go on
            results[instance_id] = (exc.kind, exc.message)
    moved = sum(1 for outcome, _why in results.values() if outcome == "moved")
    flash(ngettext("已迁移 %(num)s 个方案，未迁移 %(left)s 个。", "已迁移 %(num)s 个方案，未迁移 %(left)s 个。", moved,
                   left=len(results) - moved),
          "ok" if moved == len(results) else "conflict")
    return render_template("office_migrate_many.html", found=found, reason=reason, results=results)


def _called_shown(text: str | None) -> dict[str, int] | None:
    """The called versions the preview showed (its `called_versions`, as the form carried them);
    None when the form did not carry them (the move then binds what is latest)."""
    try:
        shown = json.loads(text) if text else None
    except ValueError:
        return None
    if not isinstance(shown, dict) or not all(isinstance(v, int) for v in shown.values()):
        return None
    return shown


def _migration_page(instance_id: int, reason: str, to_version: int | None, status: int = 200):
    try:
        view = engine().instance(instance_id)
        preview = engine().migration_preview(instance_id, to_version=to_version, actor=current_user.username)
    except ReformflowError as exc:
        return refused(exc, lambda: redirect(url_for("plans.plan", instance_id=instance_id)))
    return render_template("office_migrate.html", plan=view, preview=preview, reason=reason), status


# ------------------------------------------------------------------ starting a plan
@bp.app_template_global()
def may_start_a_plan() -> bool:
    """For the header's link: whether some process lets the signed-in person start it."""
    return any(start_forms.may_start(p, current_user) for p in start_forms.processes(engine()))


@bp.route("/plans/new", methods=["GET", "POST"])
@login_required
def start():
    key = request.values.get("key", "")
    if not key:
        choices = [p for p in start_forms.processes(engine())
                   if start_forms.may_start(p, current_user) and start_forms.offered(p)]
        return render_template("office_processes.html", processes=choices)
    process = start_forms.process(engine(), key)
    if process is None:
        flash(_("流程 %(key)s 尚未部署。", key=key), "error")
        return redirect(url_for("office.start"))

    def page(problems: dict | None = None, status: int = 200, error_heading: str | None = None):
        entered = dict(request.form) if request.method == "POST" else {}
        if entered:  # what the person entered, kept; an unticked box posts nothing
            values = {f["id"]: entered.get(f["id"]) == "true" if f["type"] == "boolean" else entered.get(f["id"])
                      for f in process["form"]}
        else:
            values = {f["id"]: forms.default_value(f) for f in process["form"]}
        problems = problems or {}
        unplaced = [m for field, ms in problems.items() if field not in values for m in ms]
        return render_template("office_start.html", process=process, values=values, entered=entered,
                               problems=problems, unplaced=unplaced, error_heading=error_heading,
                               allowed=start_forms.may_start(process, current_user),
                               starters=start_forms.starter_names(engine(), process)), status
    if request.method == "GET":
        return page()
    data = inbox.submitted_form(process["form"], request.form)
    try:
        if process["reporting_bodies"]:
            data[process["reporting_bodies"]] = start_forms.bodies_from_lines(
                request.form.get(start_forms.BODIES_FIELD, ""))
        plan = engine().start(key, actor=current_user.username, data=data,
                              title=request.form.get("plan_title", "").strip() or None,
                              business_key=request.form.get("plan_business_key", "").strip() or None)
    except Invalid as exc:
        if exc.details:  # the form's problems, shown at their fields
            by_field: dict = {}
            for p in exc.details:
                by_field.setdefault(p.get("field"), []).append(p["message"])
            return page(by_field, 400, ngettext("表单有 %(num)s 处需要修改，方案未发起。", "表单有 %(num)s 处需要修改，方案未发起。",
                                                len(exc.details)))
        return refused(exc, page)
    except ReformflowError as exc:
        return refused(exc, page)
    flash(_("已发起方案「%(title)s」。", title=plan["title"]), "ok")
    return redirect(url_for("plans.plan", instance_id=plan["id"]))
