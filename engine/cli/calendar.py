"""The working-day calendar: days off and swapped working days entered for the years the
chinesecalendar package lacks, the deadlines counted across them counted again (every open one
of a year's first entry: engine/recount.py counted_through); and the
warning `init` and the worker give when deadlines will soon reach a year nobody entered.
"""
from __future__ import annotations

import sys
from datetime import date

import click

from .. import clock
from ..workdays import gap_warning
from .params import YEAR, YEARS, BadValue, Day, acting_user
from .shared import EXIT_CODES, _emit, command, main
from .show import _deadline


@main.group()
def calendar():
    """工作日日历：录入日历包尚未收录年份的放假和调休 (working-day calendar: holidays and swapped working days for years the package lacks)."""


@command(calendar, "set")
@click.argument("day", type=Day(), metavar="DAY")
@click.option("--off", is_flag=True, help="放假，如落在工作日的节日；与 --working 二选一 (a day off, e.g. a holiday on a weekday; this or --working).")
@click.option("--working", is_flag=True, help="调休上班，如调换的周末；与 --off 二选一 (a working day, e.g. a swapped weekend; this or --off).")
@click.option("--note", default="", help="说明，如 元旦 / 春节调休 (a note).")
@acting_user()
def calendar_set(state, as_json, day, off, working, note, actor):
    """把 DAY 录入为放假 (--off) 或调休上班 (--working)，并重新计算跨过该日的待办期限和定时器（该年首次录入时，按法律推定的补假
    不再计入，所有按工作日计算的未办结期限都重新计算）；限改革办 (enter DAY as a day off or a working day; open deadlines and
    timers counted across it are counted again, and every open working-day deadline when it is the year's first entry:
    the make-up days guessed by the law stop counting; reform office only)."""
    if off == working:  # neither, or both: a --working/--off switch let the last one win unseen
        raise BadValue("须指定 --off（放假）或 --working（调休上班），且只能指定其中一个",
                       "give exactly one of --off (a day off) or --working (a working day)",
                       click.get_current_context(), param_hint="'--off' / '--working'")
    result = state.engine.set_calendar_day(day.date(), working=working, note=note, actor=actor)
    result["moved"] = _recount(state, date.fromisoformat(result["counted_through"]), actor)
    _emit(result, as_json, _print_calendar_change)


def _recount(state, day, actor, reason: str = "calendar") -> list[dict]:
    """Count again the open deadlines counted across `day` (or an earlier changed day)."""
    return state.engine.recount_working_days(
        day, actor=actor, reason=reason,
        progress=lambda done, of: click.echo(f"重新计算期限：{done}/{of} 个方案 (deadlines counted again in "
                                             f"{done} of {of} plans)", err=True))


@command(calendar, "remove")
@click.argument("day", type=Day(), metavar="DAY")
@acting_user()
def calendar_remove(state, as_json, day, actor):
    """撤销 DAY 的录入（录错时用），该日恢复为日历包的安排（日历包不知的年份：法定节假日和周末），并重新计算跨过该日的期限
    （撤销的是该年最后一天时，按法律推定的补假重新计入，所有按工作日计算的未办结期限都重新计算）；限改革办 (take back what was
    entered for DAY; deadlines counted across it are counted again, and every open working-day deadline when it was the
    year's last entry: the make-up days guessed by the law count again; reform office only)."""
    result = state.engine.remove_calendar_day(day.date(), actor=actor)
    result["moved"] = _recount(state, date.fromisoformat(result["counted_through"]), actor)
    # the day is now as the package or the law (engine/workdays.py by_law) has it: a plain working day or day off, no
    # longer 调休上班 or 放假
    now = ("工作日", "a working day") if result["working"] else ("休息日", "a day off")
    _emit(result, as_json, lambda d: (click.echo(f"{d['day']}：已撤销录入，现为{now[0]} (entry removed: now {now[1]})"),
                                      _print_moved(d["moved"]), _print_years_ended(d["years_ended"])))


def _print_years_ended(years: list[int]) -> None:
    """The year's last entry taken back: it counts as not entered again, as before its first."""
    for year in years:
        click.echo(f"警告 (warning)：{year} 年已没有录入的日子，该年又算作未录入，工作日期限重新标为暂定，按法律推定的补假重新计入，"
                   f"所有按工作日计算的未办结期限已重新计算 (no day of {year} is entered any more: the year counts as "
                   f"not entered again, its working-day deadlines are provisional again and the make-up days guessed by "
                   f"the law count again; every open working-day deadline was counted again)", err=True)


@command(calendar, "recount")
@acting_user()
def calendar_recount(state, as_json, actor):
    """按现行规则重新计算全部未办结待办的工作日期限和定时器；升级后若 CHANGELOG 说工作日规则有变，运行一次；限改革办
    (count every open working-day deadline and timer again by today's rules: run once after an upgrade whose
    CHANGELOG says the working-day rule changed; reform office only)."""
    moved = _recount(state, clock.today(), actor, reason="calendar_rule")
    counted = sum("error" not in plan for plan in moved)
    failed = len(moved) - counted
    _emit({"moved": moved, "failed": failed}, as_json,
          lambda d: (click.echo(f"重新计算了 {counted} 个方案的期限 (deadlines moved in {counted} plan(s))"),
                     _print_moved(d["moved"])))
    if failed:  # the command that is run again to finish: a script must see it did not
        sys.exit(EXIT_CODES["invalid"])


@command(calendar, "import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False), metavar="FILE")
@acting_user()
def calendar_import(state, as_json, path, actor):
    """从 CSV 文件一次录入全年放假和调休安排，全部成功或全部不变；限改革办 (enter a year's holidays and
    working weekends from a CSV file, all or nothing; reform office only).

    \b
    文件格式 (the file)，UTF-8 或 GB18030；日期仅为格式示例，不是真实安排 (the dates only show
    the form; they are not the real schedule)：
      日期,安排,说明
      2027-01-01,放假,元旦
      2027-02-06..2027-02-13,放假,春节
      2027-02-14,上班,春节调休
    """
    from .. import calendar_file
    with open(path, "rb") as f:
        content = f.read(calendar_file.MAX_BYTES + 1)
    entries = calendar_file.read(path, content, YEARS)
    result = state.engine.set_calendar_days([(e.day, e.working, e.note) for e in entries], actor=actor)
    # one recount for the whole file: a task counted before the last changed day may cross any of them (and, the
    # year's first entries, any guessed make-up day of the year: counted_through is then its 31 December)
    through = result["counted_through"]
    result["moved"] = _recount(state, date.fromisoformat(through), actor) if through else []
    _emit(result, as_json, _print_calendar_import)


def _print_calendar_import(d: dict) -> None:
    off = sum(not e["working"] for e in d["entered"])
    click.echo(f"已录入 {len(d['entered'])} 天：放假 {off} 天，调休上班 {len(d['entered']) - off} 天；"
               f"已有相同记录 {len(d['unchanged'])} 天 (entered {len(d['entered'])} day(s): {off} off, "
               f"{len(d['entered']) - off} working; {len(d['unchanged'])} already entered the same way)")
    _print_moved(d["moved"])
    for year in d.get("years_begun", []):  # a file of part of a year silences the year's warnings for good
        click.echo(f"警告 (warning)：这是 {year} 年首次录入，该年从此算作已录入，工作日期限不再标为暂定、不再提醒，"
                   f"按法律推定的补假也不再计入；请确认文件含该年全部放假和调休安排，用 reformflow calendar show {year} 核对 "
                   f"(the first days entered for {year}: the year now counts as entered, its working-day deadlines are "
                   f"no longer marked provisional nor warned of, and the make-up days guessed by the law no longer "
                   f"count; make sure the file holds all its holidays and working weekends: check with "
                   f"`reformflow calendar show {year}`)", err=True)


def _print_calendar_change(d: dict) -> None:
    click.echo(f"{d['day']}：{_day_kind(d['working'])}")
    _print_moved(d["moved"])
    for year in d.get("years_begun", []):
        click.echo(f"警告 (warning)：这是 {year} 年录入的第一天，该年从此算作已录入，工作日期限不再标为暂定、不再提醒，"
                   f"按法律推定的补假也不再计入；请录入该年全部放假和调休安排，最好用 reformflow calendar import 一次录入 "
                   f"(the first day entered for {year}: the year now counts as entered, its working-day deadlines are no "
                   f"longer marked provisional nor warned of, and the make-up days guessed by the law no longer count; "
                   f"enter all its holidays and working weekends, best at once with `reformflow calendar import`)", err=True)


def _print_moved(moved: list[dict]) -> None:
    for plan in moved:
        if "error" in plan:  # its own transaction was undone; the other plans were counted
            click.echo(f"警告 (warning)：方案 (plan) {plan['instance_id']} 的期限未能重新计算（{plan['error']}），"
                       f"其他方案已照常计算；问题解决后运行 reformflow calendar recount --as 改革办用户名 再算一次 "
                       f"(its deadlines could not be counted again; the other plans' were: once the cause is fixed, "
                       f"run `reformflow calendar recount --as USER` with a reform office user)", err=True)
        for t in plan["tasks"]:
            click.echo(f"  方案 (plan) {plan['instance_id']}：待办 (task) {t['task_id']} {t['name']} 期限 (due) "
                       f"{_deadline(t['old'], False) if t['old'] else '—'} → {_deadline(t['new'], False)}")
        for t in plan["timers"]:
            click.echo(f"  方案 (plan) {plan['instance_id']}：定时器 (timer) {t['name'] or t['element_id']} "
                       f"{_deadline(t['old'], False)} → {_deadline(t['new'], False)}")


def _day_kind(working: bool) -> str:
    return "调休上班 (working day)" if working else "放假 (day off)"


@command(calendar, "show")
@click.argument("year", type=YEAR)
def calendar_show(state, as_json, year):
    """列出 YEAR 年与周一至周五不同的日子及其来源 (which days of YEAR differ from Monday–Friday, and where from)."""
    from ..calendar_year import entries, year_days
    with state.db.reader() as s:
        result = year_days(entries(s), year)

    def human(d):
        for row in d["days"]:
            label = "按法律推定的补假 (make-up day guessed by the law)" if row.get("made_up") else "法定节假日 (statutory holiday by law)"
            by_law = f" {label}：{row['holiday'][0]} ({row['holiday'][1]})" if row["by_law"] else ""
            click.echo(f"{row['day']} {_day_kind(row['working'])}{' 已录入 (override)' if row['override'] else ''}"
                       f"{by_law}")
        for warning in d["warnings"]:
            click.echo(f"警告 (warning): {warning}", err=True)
    _emit(result, as_json, human)
    # asked for this year in December, say that next year is missing too: that is the one to enter
    for missing in _gaps_in_reach(state):
        if missing != year:
            click.echo(f"警告 (warning): {gap_warning(missing)}", err=True)


def _work_calendar(state):
    """The working-day calendar as deadlines see it: chinesecalendar plus the override table."""
    from ..runtime import calendar_of  # runtime is loaded with the engine these commands use anyway
    with state.db.read_connection() as conn:
        return calendar_of(conn)


# Deadlines set today can reach this far ahead (a month's filing, 30 days' consultation, 15
# working days' review), so a year starting within it must already be known.
def _warn_calendar_gaps(state) -> None:
    """Say on standard error, at init and when a worker starts (then once a day), which year
    deadlines will soon reach that neither chinesecalendar nor the override table knows: working
    days there would count the statutory holidays and weekends only and miss the swapped days and
    bridging days (the State Council publishes next year's schedule each November)."""
    for year in _gaps_in_reach(state):
        click.echo(f"警告 (warning): {gap_warning(year)}", err=True)


def _gaps_in_reach(state) -> list[int]:
    """engine/calendar_year.py `missing_in_reach` today, by the days entered in the database."""
    from ..calendar_year import missing_in_reach
    return missing_in_reach(_work_calendar(state), clock.today())
