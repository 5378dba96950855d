"""The reform office's reports and calendar in the browser: the quarterly bulletin (季通报), the
supervision and rectification ledger (督察整改台账), how long each step takes (办理时效统计), each
with the command line's .xlsx and .csv files, and the working-day calendar (放假和调休), where a
day is entered or taken back and a year's schedule file imported.

Office only: the reports are reads, refused here (403) like the ledger; a calendar change is
refused by the engine too. A calendar form carries the entries as the page showed them, so a
day another office member entered meanwhile is a conflict (409), never overwritten unseen.
Each change then counts the open deadlines again, and the page lists those that moved.
"""
from __future__ import annotations

import base64
import binascii
import json
import tempfile
from datetime import date
from pathlib import Path

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import bulletin_export, calendar_file, clock, step_times_export, supervision_export
from engine.bulletin import Quarter, last_ended
from engine.calendar_year import days_now, entries, missing_in_reach, work_calendar, year_days
from engine.errors import Invalid, ReformflowError
from engine.step_times import step_id

from . import start_forms
from .current import engine
from .downloads import attachment
from .i18n import current
from .office import office_only
from .refusals import refused
from .whole_numbers import whole_number

bp = Blueprint("reports", __name__)

FORMATS = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "csv": "text/csv"}
QUARTERS_LISTED = 8  # two years of bulletins in the picker; any other is reached by its address
# An import that changes more days than this is shown first and entered on a second click: a
# holiday and its swapped weekend go straight in, a year's schedule (some thirty days) is checked.
CONFIRM_ABOVE = 5



def said(pair) -> str:
    """A (Chinese, English) name from the engine's tables, in the page's language."""
    return pair[1] if current() == "en" else pair[0]


def _names() -> dict:
    """What the report templates use to name states and colours as the command line does."""
    return {"said": said, "standing_names": bulletin_export.STANDING_NAMES, "standing_fills": bulletin_export.STANDING_FILLS,
            "review_names": bulletin_export.REVIEW_NAMES,
            "supervision_names": supervision_export.SUPERVISION_NAMES,
            "supervision_fills": supervision_export.SUPERVISION_FILLS,
            "notice_names": supervision_export.NOTICE_NAMES, "notice_fills": supervision_export.NOTICE_FILLS}


def _download(write, result: dict, fmt: str, name: str, fallback: str):
    """The report as the command line's --output writes it, sent as a download."""
    with tempfile.TemporaryDirectory() as folder:  # our own name: nothing the user sent names a path
        path = Path(folder) / f"report.{fmt}"
        write(result, str(path))
        content = path.read_bytes()
    return attachment(content, FORMATS[fmt], f"{name}.{fmt}", f"{fallback}.{fmt}")


def _wrong_format():
    return render_template("office_refused.html", message=_("报表只能下载为 .xlsx 或 .csv。")), 404


# ------------------------------------------------------------------ the quarterly bulletin
def _bulletin_filters() -> dict:
    args = request.args
    return {"quarter": args.get("quarter", "").strip() or None, "everything": args.get("all") == "1",
            "unit": args.get("unit", "").strip() or None}


def _quarters(chosen: str | None) -> list[str]:
    """The picker's quarters: the one under way and those before it, newest first."""
    today = clock.today()
    quarter = Quarter(today.year, (today.month - 1) // 3 + 1)
    listed = []
    for _n in range(QUARTERS_LISTED):
        listed.append(quarter.code)
        quarter = last_ended(quarter.first_day)
    if chosen and chosen not in listed:
        listed.insert(0, chosen)
    return listed


@bp.route("/bulletin")
@login_required
def bulletin():
    if (refusal := office_only()) is not None:
        return refusal
    filters = _bulletin_filters()

    def page(result=None):
        query = {k: v for k, v in {"quarter": filters["quarter"] or (result or {}).get("quarter"),
                                   "all": "1" if filters["everything"] else None, "unit": filters["unit"]}.items() if v}
        return render_template("reports_bulletin.html", result=result, filters=filters, query=query,
                               quarters=_quarters(query.get("quarter")), **_names())
    try:
        result = engine().bulletin(filters["quarter"], everything=filters["everything"], unit=filters["unit"])
    except ReformflowError as exc:
        return refused(exc, page)
    return page(result)


@bp.route("/bulletin.<fmt>")
@login_required
def bulletin_file(fmt: str):
    if (refusal := office_only()) is not None:
        return refusal
    if fmt not in FORMATS:
        return _wrong_format()
    filters = _bulletin_filters()
    try:
        result = engine().bulletin(filters["quarter"], everything=filters["everything"], unit=filters["unit"])
    except ReformflowError as exc:
        return refused(exc, lambda: redirect(url_for("reports.bulletin")))
    return _download(bulletin_export.write, result, fmt, f"{result['label']}改革项目进展通报",
                     f"bulletin-{result['quarter']}")


# ------------------------------------------------------------------ the supervision ledger
def _supervision_filters() -> dict:
    raw = request.args.get("year", "").strip()
    return {"year": whole_number(raw), "unit": request.args.get("unit", "").strip() or None,
            "typed": raw}


@bp.route("/supervision")
@login_required
def supervision():
    if (refusal := office_only()) is not None:
        return refusal
    filters = _supervision_filters()
    if filters["typed"] and filters["year"] is None:
        return refused(Invalid(f"年度须为数字，如 2027：{filters['typed']} (the year is a number, e.g. 2027)"),
                       lambda: redirect(url_for("reports.supervision")))

    def page(result=None):
        query = {k: v for k, v in {"year": filters["year"], "unit": filters["unit"]}.items() if v}
        this_year = clock.today().year
        return render_template("reports_supervision.html", result=result, filters=filters, query=query,
                               years=range(this_year + 1, this_year - 4, -1), **_names())
    try:
        result = engine().supervision(year=filters["year"], unit=filters["unit"])
    except ReformflowError as exc:
        return refused(exc, page)
    return page(result)


@bp.route("/supervision.<fmt>")
@login_required
def supervision_file(fmt: str):
    if (refusal := office_only()) is not None:
        return refusal
    if fmt not in FORMATS:
        return _wrong_format()
    filters = _supervision_filters()
    try:
        result = engine().supervision(year=filters["year"], unit=filters["unit"])
    except ReformflowError as exc:
        return refused(exc, lambda: redirect(url_for("reports.supervision")))
    name = f"{result['year']}年度督察整改台账" if result["year"] else f"督察整改台账-{clock.today():%Y%m%d}"
    return _download(supervision_export.write, result, fmt, name,
                     f"supervision-{result['year'] or format(clock.today(), '%Y%m%d')}")



# ------------------------------------------------------------------ how long each step takes
def _stats_filters() -> dict:
    args = request.args
    return {"since": args.get("since", "").strip() or None, "until": args.get("until", "").strip() or None,
            "process": args.get("process", "").strip() or None}


@bp.route("/stats")
@login_required
def stats():
    """办理时效统计 (engine/step_times.py): per process and step, how long the steps completed in
    the period took and how many are open and overdue, the slowest first."""
    if (refusal := office_only()) is not None:
        return refusal
    filters = _stats_filters()

    def page(result=None):
        query = {k: v for k, v in filters.items() if v}
        return render_template("reports_stats.html", result=result, filters=filters, query=query,
                               processes=start_forms.processes(engine()), step_id=step_id)
    try:
        result = engine().step_times(current_user.username, **filters)
    except ReformflowError as exc:
        return refused(exc, page)
    return page(result)


@bp.route("/stats.<fmt>")
@login_required
def stats_file(fmt: str):
    if (refusal := office_only()) is not None:
        return refusal
    if fmt not in FORMATS:
        return _wrong_format()
    try:
        result = engine().step_times(current_user.username, **_stats_filters())
    except ReformflowError as exc:
        return refused(exc, lambda: redirect(url_for("reports.stats")))
    return _download(step_times_export.write, result, fmt, f"办理时效统计-{result['since']}至{result['until']}",
                     f"step-times-{result['since']}-{result['until']}")

# ------------------------------------------------------------------ the working-day calendar
def _year_or_404(year: int | None) -> int | None:
    year = clock.today().year if year is None else year
    return year if clock.YEARS[0] <= year <= clock.YEARS[1] else None


def _shown(year: int) -> dict[date, tuple[bool, str]]:
    with engine().db.reader() as s:
        return {d: entry for d, entry in entries(s).items() if d.year == year}


def _seen_field(entered: dict[date, tuple[bool, str]]) -> str:
    """The entries a form was shown, sent back with it (see Engine.set_calendar_days)."""
    return json.dumps({d.isoformat(): [w, n] for d, (w, n) in sorted(entered.items())}, ensure_ascii=False)


def _seen(days: list[date], year: int) -> dict:
    """What the person saw of `days`: each day of the page's year as its form listed it (not
    listed: nothing entered); a day of another year they were not shown, so not checked."""
    try:
        raw = json.loads(request.form.get("seen", ""))
        listed = {date.fromisoformat(d): (bool(v[0]), str(v[1])) for d, v in raw.items()}
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        raise Invalid("页面已过期，请刷新后重试 (the page is out of date: reload it and try again)") from None
    return {d: listed.get(d) for d in days if d.year == year}


def _calendar_page(year: int, *, changed: dict | None = None, preview: dict | None = None, form=None,
                   status: int = 200):
    entered = _shown(year)
    with engine().db.reader() as s:
        everything = entries(s)
    shown = year_days(everything, year)
    # this year's page opened in December: next year is the one to enter, so it says so
    missing = [y for y in missing_in_reach(work_calendar(everything), clock.today()) if y != year]
    for row in shown["days"]:
        row["weekday"] = date.fromisoformat(row["day"]).weekday()
    return render_template("reports_calendar.html", year=year, shown=shown, missing=missing, seen=_seen_field(entered),
                           changed=changed, preview=preview, form=form or {}, years=clock.YEARS,
                           today=clock.today().isoformat()), status


@bp.route("/calendar", defaults={"year": None})
@bp.route("/calendar/<int:year>")
@login_required
def calendar(year: int | None):
    if (refusal := office_only()) is not None:
        return refusal
    if (year := _year_or_404(year)) is None:
        return render_template("not_found.html", message=_("年份须在 %(a)s 至 %(b)s 之间。", a=clock.YEARS[0],
                                                           b=clock.YEARS[1])), 404
    return _calendar_page(year)


def _recount(day: date) -> list[dict]:
    """The open deadlines counted again across `day` (a change's `counted_through`), as `reformflow
    calendar` does after a change."""
    return engine().recount_working_days(day, actor=current_user.username)


@bp.route("/calendar/<int:year>/day", methods=["POST"])
@login_required
def calendar_day(year: int):
    """Enter one day as a day off or a working day (a note is required), or take an entry back."""
    if (refusal := office_only()) is not None:
        return refusal
    if _year_or_404(year) is None:
        return render_template("not_found.html", message=_("找不到该页面。")), 404
    form = request.form
    action, note = form.get("action", ""), form.get("note", "").strip()
    try:
        day = date.fromisoformat(form.get("day", ""))
    except ValueError:
        day = None
    problem = None
    if day is None or day.year != year:
        problem = _("须填写 %(year)s 年内的日期。", year=year)
    elif action not in ("off", "working", "remove"):
        problem = _("须选择放假或调休上班。")
    elif action != "remove" and not note:
        problem = _("须填写说明，如“国庆节”或“国庆节调休”。")
    if problem:
        flash(problem, "error")
        return _calendar_page(year, form=form, status=400)
    try:
        seen = _seen([day], year)
        if action == "remove":
            done = engine().remove_calendar_day(day, actor=current_user.username, seen=seen)
        else:
            done = engine().set_calendar_day(day, working=action == "working", note=note, actor=current_user.username,
                                              seen=seen)
    except ReformflowError as exc:
        return refused(exc, lambda: _calendar_page(year, form=form))
    changed = {"kind": action, "day": done["day"], "working": done["working"], "note": note,
               "moved": _recount(date.fromisoformat(done["counted_through"]))}
    for begun in done.get("years_begun", []):
        flash(_("这是 %(year)s 年录入的第一天：该年从此算作已录入，工作日期限不再标为暂定，按法律推定的补假也不再计入。"
                "请录入该年全部放假和调休安排，最好用下面的「导入」一次录入。", year=begun), "warning")
    for ended in done.get("years_ended", []):  # the year's last entry taken back: its guessed make-up days count again
        flash(_("%(year)s 年已没有录入的日子：该年又算作未录入，工作日期限重新标为暂定，按法律推定的补假重新计入，"
                "所有按工作日计算的未办结待办期限已重新计算。", year=ended), "warning")
    return _calendar_page(year, changed=changed)


@bp.route("/calendar/<int:year>/import", methods=["POST"])
@login_required
def calendar_import(year: int):
    """A year's schedule from a CSV file, as `reformflow calendar import` reads it. One that
    changes many days is shown first: the file travels back with the confirmation (in the form,
    never saved on the server), with the entries as that page showed them."""
    if (refusal := office_only()) is not None:
        return refusal
    if _year_or_404(year) is None:
        return render_template("not_found.html", message=_("找不到该页面。")), 404
    confirmed = request.form.get("confirm") == "1"
    try:
        name, content = _schedule_file(confirmed)
        schedule = calendar_file.read(name, content, clock.YEARS)
        days = [e.day for e in schedule]
        if confirmed:
            seen = _seen_all(days)
        else:
            seen = _seen(days, year)
            with engine().db.reader() as s:
                now = entries(s)
            changes = [e for e in schedule if now.get(e.day) != (e.working, e.note)]
            if len(changes) > CONFIRM_ABOVE:
                # a day nothing was entered for is shown as it counts now (a holiday by law, say)
                counts = days_now(now, [e.day for e in changes])
                covered = work_calendar(now).covered
                preview = {"name": name, "content": base64.b64encode(content).decode(),
                           "seen": json.dumps({d.isoformat(): now.get(d) for d in days}, ensure_ascii=False),
                           "changes": [{"day": e.day.isoformat(), "working": e.working, "note": e.note,
                                        "was": now.get(e.day), "now": counts[e.day]} for e in changes],
                           "unchanged": len(schedule) - len(changes),
                           # the year's first entries: every open working-day deadline is counted again
                           # (engine/recount.py counted_through), not only those across the days
                           "years_begun": sorted({e.day.year for e in changes if not covered(e.day.year)})}
                return _calendar_page(year, preview=preview)
        done = engine().set_calendar_days([(e.day, e.working, e.note) for e in schedule],
                                          actor=current_user.username, seen=seen)
    except ReformflowError as exc:
        return refused(exc, lambda: _calendar_page(year))
    changed = {"kind": "import", "name": name, "entered": done["entered"], "unchanged": len(done["unchanged"]),
               "off": sum(not d["working"] for d in done["entered"]),
               "moved": _recount(date.fromisoformat(done["counted_through"])) if done["counted_through"] else []}
    for begun in done["years_begun"]:  # as `calendar import` warns: a file of part of a year silences it for good
        if begun == year:
            flash(_("这是 %(year)s 年首次录入：该年从此算作已录入，工作日期限不再标为暂定，按法律推定的补假也不再计入。"
                    "请核对下表，确认文件含该年全部放假和调休安排。", year=begun), "warning")
        else:  # the table below is this page's year, not the one the file began
            flash(_("这是 %(year)s 年首次录入：该年从此算作已录入，工作日期限不再标为暂定，按法律推定的补假也不再计入。"
                    "请打开 %(year)s 年的日历核对，确认文件含该年全部放假和调休安排。", year=begun), "warning")
    return _calendar_page(year, changed=changed)


def _schedule_file(confirmed: bool) -> tuple[str, bytes]:
    """The file's name (for messages only) and its bytes: uploaded, or carried by the confirmation."""
    if confirmed:
        try:
            content = base64.b64decode(request.form.get("content", ""), validate=True)
        except (binascii.Error, ValueError):
            raise Invalid("页面已过期，请重新上传文件 (the page is out of date: upload the file again)") from None
        return request.form.get("name", "")[:200] or "schedule.csv", content
    upload = request.files.get("schedule")
    if upload is None or not upload.filename:
        raise Invalid("请选择日历文件 (choose a calendar file)")
    return upload.filename[:200], upload.stream.read(calendar_file.MAX_BYTES + 1)


def _seen_all(days: list[date]) -> dict:
    """The confirmation's entries: every day of the file as the confirmation page listed it."""
    try:
        raw = json.loads(request.form.get("seen", ""))
        return {d: None if raw[d.isoformat()] is None else (bool(raw[d.isoformat()][0]), str(raw[d.isoformat()][1]))
                for d in days}
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        raise Invalid("页面已过期，请重新上传文件 (the page is out of date: upload the file again)") from None
