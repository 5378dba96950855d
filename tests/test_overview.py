"""工作台, the reform office's overview (engine/overview.py), as its head reads it every morning:
the year's ledger counted by colour as the ledger itself counts it, what is late and what is due
within 5 working days (a weekend is not a working day), the units most behind, filings,
and nobody but the office may see it; on SQLite and PostgreSQL, and on the command line."""
from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta

import pytest
from click.testing import CliRunner

from engine import clock, display
from engine.cli import main
from engine.errors import Forbidden

from .plan_helper import Plan

REGISTER = {"leadUnit": "市财政局", "responsiblePerson": "张伟", "plannedCompletion": "2027-06-30"}


@pytest.fixture
def plans(library, at):
    """One started on Thursday 17 December 2026, waiting at its legality review (due Friday 8 January
    2027: 15 working days, 1 January off by law); and on Friday 18 December one on time at research
    and one at its filing (报送备案, due Monday 18 January 2027)."""
    with at("2026-12-17T09:00:00"):
        late = Plan(library)
        late.run_until("Task_LegalityReview", Task_RegisterPlan=REGISTER)
    with at("2026-12-18T09:00:00"):
        on_time = Plan(library, title="推进用地管理改革方案", starter="chen")  # the office: another unit's
        on_time.run_until("Task_Research", Task_RegisterPlan={**REGISTER, "leadUnit": "市国土局"})
        filing = Plan(library, title="深化科技体制改革方案", starter="chen")
        filing.run_until("Task_FileDocument", Task_RegisterPlan={**REGISTER, "leadUnit": "市科技局"})
    assert late.task("Task_LegalityReview")["due_at"] == "2027-01-08T16:00:00+00:00"
    assert filing.task("Task_FileDocument")["due_at"] == "2027-01-18T16:00:00+00:00"
    return late, on_time, filing


def test_the_counts_are_the_years_ledger_and_an_overdue_step_ranks_its_lead_unit(library, plans, at):
    late, on_time, filing = plans
    with at("2027-01-12T09:00:00"):  # the review four days late
        view = library.overview("chen")
        ledger = library.ledger(year=2027)
    assert view["year"] == 2027 and view["today"] == "2027-01-12"
    assert view["ledger"] == {"plans": len(ledger), **{c: sum(r["colour"] == c for r in ledger)
                                                       for c in ("red", "yellow", "green")},
                              "carried_over": sum(r["carried_over"] for r in ledger)}
    assert view["ledger"] == {"plans": 3, "red": 1, "yellow": 0, "green": 2, "carried_over": 3}
    assert view["overdue"]["count"] == 1
    [step] = view["overdue"]["tasks"]
    assert (step["name"], step["plan_id"], step["lead_unit"], step["days_late"], step["holder"]) == (
        "合法合规性审查", late.id, "市财政局", 4, "法制机构")
    assert view["units"] == {"count": 1, "top": [{"lead_unit": "市财政局", "overdue": 1, "reports": 0, "plans": 1}]}
    # the inbox's 只看已逾期 lists the same
    from engine.queries import count_open_listed
    from engine import clock
    with library.db.reader() as s, at("2027-01-12T09:00:00"):
        assert count_open_listed(s, "chen", "all", clock.now(), soon_by=clock.now())[1] == 1


def test_due_in_3_working_days_across_a_weekend_is_due_soon_and_in_8_is_not(library, plans, at):
    _, _, filing = plans
    filed = filing.task("Task_FileDocument")["id"]
    with at("2027-01-13T09:00:00"):  # Wednesday: Thursday, Friday, (weekend,) Monday the 18th = 3 working days
        view = library.overview("chen")
    assert view["due_soon"]["until"] == "2027-01-20"  # 5 working days on
    assert [t["task_id"] for t in view["due_soon"]["tasks"]] == [filed] and view["due_soon"]["count"] == 1
    # the inbox's 只看即将到期 lists the same, and counts it beside 只看已逾期
    from engine import clock
    from engine.overview import soon_by
    from engine.queries import count_open_listed, list_tasks
    with library.db.reader() as s, at("2027-01-13T09:00:00"):
        soon = soon_by(s.connection(), clock.now())
        listed = list_tasks(s, "chen", "all", due_between=(clock.now(), soon))
        assert [t["id"] for t in listed] == [filed]
        assert count_open_listed(s, "chen", "all", clock.now(), soon_by=soon)[2] == 1
        # the filings figure is the inbox's due-soon list of that one step: ?due=soon&step=Task_FileDocument
        filings = list_tasks(s, "chen", "all", due_between=(clock.now(), soon), step="Task_FileDocument")
        assert [t["id"] for t in filings] == [filed]
    assert view["filings"]["due_soon"] == 1 and view["filings"]["overdue"] == 0
    assert [(t["task_id"], t["overdue"]) for t in view["filings"]["tasks"]] == [(filed, False)]
    library.set_calendar_day(date(2027, 1, 15), working=False, note="调休", actor="chen")  # a Friday off
    with at("2027-01-13T09:00:00"):  # the calendar's working days: five of them now run to Thursday the 21st
        assert library.overview("chen")["due_soon"]["until"] == "2027-01-21"
    library.remove_calendar_day(date(2027, 1, 15), actor="chen")
    with at("2027-01-06T09:00:00"):  # Wednesday a week before: 8 working days to the 18th
        view = library.overview("chen")
    assert view["due_soon"]["until"] == "2027-01-13"
    assert filed not in [t["task_id"] for t in view["due_soon"]["tasks"]]
    assert view["filings"]["due_soon"] == 0  # 8 working days: the filing is not due soon either
    with at("2027-01-19T09:00:00"):  # the filing's day has passed: overdue, no longer due soon
        view = library.overview("chen")
    assert view["filings"]["overdue"] == 1 and view["filings"]["due_soon"] == 0
    assert filed in [t["task_id"] for t in view["overdue"]["tasks"]]
    assert filed not in [t["task_id"] for t in view["due_soon"]["tasks"]]
    # one overdue step each: in the order of their names
    assert [(u["lead_unit"], u["overdue"]) for u in view["units"]["top"]] == sorted([("市财政局", 1), ("市科技局", 1)])


def test_a_year_with_no_holidays_entered_is_named_with_the_open_steps_due_in_it(library, plans, at):
    """In December, deadlines reach into a year the calendar package does not know yet (1.11.0 knows
    none after 2026): the office is told which year, and how many open steps counted in working
    days are due in it, until it enters that year's schedule; the inbox marks them provisional. The
    filing's calendar month counts too: where it ends on a day off it moves on to the next working
    day (periodEnd, 民法典第二百零三条), which the year's schedule decides."""
    from engine.queries import list_tasks
    with at("2026-12-18T09:00:00"):
        view = library.overview("chen")
        with library.db.reader() as s:
            listed = list_tasks(s, "chen", "all")
    in_2027 = [t for t in listed if t["due_at"] is not None and t["due_at"] >= "2026-12-31T16:00:00+00:00"]
    by_step = {t["element_id"]: t for t in in_2027}
    assert by_step["Task_LegalityReview"]["due_in_working_days"] and by_step["Task_LegalityReview"]["due_provisional"]
    assert by_step["Task_FileDocument"]["due_in_working_days"]  # periodEnd(one calendar month after issuance)
    assert by_step["Task_FileDocument"]["due_provisional"]
    working = [t for t in in_2027 if t["due_in_working_days"]]
    assert all(t["due_provisional"] for t in working)
    assert view["calendar_gaps"] == [{"year": 2027, "steps": len(working)}]
    library.set_calendar_day(date(2027, 2, 11), working=False, note="春节", actor="chen")
    with at("2026-12-18T09:00:00"):
        assert library.overview("chen")["calendar_gaps"] == []
        with library.db.reader() as s:
            assert not any(t["due_provisional"] for t in list_tasks(s, "chen", "all"))


def test_calendar_gaps_look_90_days_ahead_and_at_every_deadline():
    from engine.overview import calendar_gaps
    from engine.workdays import WorkCalendar
    nothing = WorkCalendar({})
    assert calendar_gaps(nothing, date(2026, 6, 1), []) == []  # 2026 is known, 30 August too
    assert calendar_gaps(nothing, date(2026, 11, 15), []) == [{"year": 2027, "steps": 0}]
    # a deadline at midnight Beijing time on 1 January runs to the end of 31 December: still 2026
    assert calendar_gaps(nothing, date(2026, 6, 1), ["2026-12-31T16:00:00+00:00", "2028-03-01T16:00:00+00:00",
                                                      None]) == [{"year": 2028, "steps": 1}]
    entered = WorkCalendar({date(2027, 2, 11): False})
    assert calendar_gaps(entered, date(2026, 11, 15), ["2027-01-08T16:00:00+00:00"]) == []


def test_only_the_reform_office_sees_the_overview(library, plans):
    with pytest.raises(Forbidden) as refused:
        library.overview("zhang")
    assert "只有改革办" in refused.value.message
    with pytest.raises(Forbidden):
        library.overview("nobody")


def test_the_command_line_prints_the_overview_and_its_json(library, plans):
    def run(*args):
        return CliRunner().invoke(main, ["--db", library.db.url, "--now", "2027-01-12T09:00:00", "overview", *args])
    shown, data, refused = run("--as", "chen"), run("--as", "chen", "--json"), run("--as", "zhang")
    assert shown.exit_code == 0, shown.output
    assert "红 1、黄 0、绿 2" in shown.stdout and "市财政局 1 个环节" in shown.stdout
    assert json.loads(data.stdout)["overdue"]["count"] == 1
    # 2027 has no holidays entered: said second, before the figures
    assert "截至 2027-01-12 09:00 (the 2027 overview as of 2027-01-12 09:00)" in shown.stdout.splitlines()[0]  # Beijing
    assert shown.stdout.splitlines()[1].startswith("警告 (warning)：")
    assert "期限在 2027 年" in shown.stdout.splitlines()[1] and "reformflow calendar import" in shown.stdout
    assert refused.exit_code != 0 and "只有改革办" in refused.output


def test_the_command_line_lists_the_steps_due_soon(library, plans):
    filed = plans[2].task("Task_FileDocument")["id"]

    def run(now, *args):
        return CliRunner().invoke(main, ["--db", library.db.url, "--now", now, "tasks", "--as", "chen", *args])
    soon = run("2027-01-13T09:00:00", "--due-soon", "--json")  # Wednesday; the filing is due Monday
    assert soon.exit_code == 0, soon.output
    assert [t["id"] for t in json.loads(soon.stdout)["tasks"]] == [filed]
    earlier = json.loads(run("2027-01-06T09:00:00", "--due-soon", "--json").stdout)["tasks"]
    assert filed not in [t["id"] for t in earlier]  # 8 working days away
    assert all("2027-01-06" < t["due_at"] <= "2027-01-14" for t in earlier)  # by the end of the 13th, Beijing
    both = run("2027-01-13T09:00:00", "--due-soon", "--overdue")
    assert both.exit_code == 2 and "--due-soon" in both.output


def test_the_command_lines_english_counts_agree_with_their_nouns(library, plans, monkeypatch):
    from engine.commands import Engine
    counted = Engine.overview

    def one_of_each(self, *args, **kwargs):
        d = counted(self, *args, **kwargs)
        d["supervision"].update(rectifications_open=1, rectifications_overdue=1, supervisions_overdue=1)
        return d
    monkeypatch.setattr(Engine, "overview", one_of_each)
    shown = CliRunner().invoke(main, ["--db", library.db.url, "--now", "2027-01-12T09:00:00", "overview", "--as", "chen"])
    assert "(1 rectification open, 1 overdue; 1 supervision overdue)" in shown.stdout


def test_a_year_without_holidays_and_without_steps_due_in_it_is_warned_of_without_a_count(library, plans, monkeypatch):
    from engine.commands import Engine
    counted = Engine.overview

    def no_steps(self, *args, **kwargs):
        d = counted(self, *args, **kwargs)
        d["calendar_gaps"] = [{"year": 2028, "steps": 0}]
        return d
    monkeypatch.setattr(Engine, "overview", no_steps)
    shown = CliRunner().invoke(main, ["--db", library.db.url, "--now", "2027-01-12T09:00:00", "overview", "--as", "chen"])
    warning = shown.stdout.splitlines()[1]
    assert warning.startswith("警告 (warning)：尚无 2028 年节假日安排") and "0 个未办结环节" not in shown.stdout


def test_the_command_line_says_due_soon_and_overdue_as_the_web_does(library, plans):
    shown = CliRunner().invoke(main, ["--db", library.db.url, "--now", "2027-01-13T09:00:00", "overview", "--as", "chen"])
    assert "    即将到期 (due soon)：#" in shown.stdout and "    将到期" not in shown.stdout
    helped = CliRunner().invoke(main, ["claim", "--help"])
    assert "认领一项您可办理的待办" in helped.output


def test_a_reporting_bodys_overdue_report_counts_against_the_body_not_the_office_that_leads_the_round(library, at):
    """QA walk on 4 January 2027: the year-end round's report 市国资委 had not sent was counted
    against 市委改革办, the round's lead unit, as though the office were late. A body's own report
    is the body's delay (claimed or still open to its group alike); the office's summary report,
    once late, is the office's."""
    from .test_work_report import YEAR_END, Round
    from .web_helper import page_text, signed_in_client
    with at("2026-12-01T09:00:00"):
        round_ = Round(library, key="BG-2026-NB")
        round_.do("Task_ConfirmRound", **YEAR_END)  # reports due 20 December, the summary 15 January
        round_.report("zhang")
        library.claim(round_.body_task("Task_SubmitReport", "special_group")["id"], actor="sun")
    with at("2027-01-04T09:00:00"):
        view = library.overview("chen")
        assert view["overdue"]["count"] == 2
        assert view["units"] == {"count": 2, "top": [
            {"lead_unit": "市政府办公厅", "overdue": 1, "reports": 1, "plans": 1},
            {"lead_unit": "经济体制改革专项小组", "overdue": 1, "reports": 1, "plans": 1}]}
        library.set_password("chen", "correct horse battery", actor="chen", first=True)
        chen = signed_in_client(library, "chen", "correct horse battery", language="zh")
        answer = chen.get("/overview")
        html = answer.get_data(as_text=True)
        units = page_text(answer).split("逾期最多的单位", 1)[1].split("已逾期的环节", 1)[0]
        assert "市政府办公厅 （其中 1 项为本单位应报的报告） 1 1" in units and "市委改革办" not in units
        row = re.search(r'<tr data-unit="市政府办公厅".*?</tr>', html, re.S).group(0)
        assert "<a " not in row  # it leads none of the round's plans: no ledger of its own to link
        round_.report("wang")
        round_.report("special_group")
        round_.review_all()
    with at("2027-01-18T09:00:00"):  # the summary, due 15 January, not written: the office is late
        assert library.overview("chen")["units"]["top"] == [
            {"lead_unit": "市委改革办", "overdue": 1, "reports": 0, "plans": 1}]


def test_a_timer_not_fired_15_minutes_after_it_was_due_is_warned_of_on_the_overview_and_its_command_line(
        library, plans, at):
    """The audit of 6 December 2026: the timer worker stopped for weeks and the overview said
    nothing. The oldest timer of a running plan not fired 15 minutes after it was due, and the
    command line's warning at the top, after the calendar's."""
    due = min(library.instance(p.id)["next_timer_at"] for p in plans if library.instance(p.id)["next_timer_at"])
    late = datetime.fromisoformat(due).astimezone(clock.TZ)
    with at((late + timedelta(minutes=14)).replace(tzinfo=None).isoformat()):
        assert library.overview("chen")["timers_behind"] is None  # a slow round is no stopped worker
    with at((late + timedelta(minutes=16)).replace(tzinfo=None).isoformat()):
        assert library.overview("chen")["timers_behind"] == due
    when = (late + timedelta(days=3)).replace(tzinfo=None).isoformat()
    shown = CliRunner().invoke(main, ["--db", library.db.url, "--now", when, "overview", "--as", "chen"])
    assert shown.exit_code == 0, shown.output
    with at(when):
        gaps = len(library.overview("chen")["calendar_gaps"])  # warned of first, as before
    assert shown.stdout.splitlines()[1 + gaps] == (
        f"警告 (warning)：自 {display.minute(due)} 起有方案的定时器到期而尚未触发，定时器工作进程似乎已停止，请系统管理员检查 "
        f"reformflow-worker，见 docs/operations.md (timers due since {display.minute(due)} have not fired: the timer "
        "worker seems stopped; ask the administrator to check reformflow-worker, docs/operations.md)")
