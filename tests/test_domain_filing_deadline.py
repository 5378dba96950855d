"""A filing that missed its one month stays missed when the reform office orders a new deadline
(限期报送): the ledger judges 报送备案 by the statutory deadline and shows the ordered one beside
it (DOMAIN.md: green on time, yellow a milestone missed but made up, red missed)."""
from __future__ import annotations

from datetime import date

from click.testing import CliRunner

from engine.cli import main

from .plan_helper import complete_step

ISSUED = {"issueDate": "2026-01-31", "pilot": False, "documentNumber": "X发〔2026〕9号"}


def _task(engine, plan_id: int, element_id: str) -> dict:
    [task] = [t for t in engine.instance(plan_id)["tasks"] if t["element_id"] == element_id]
    return task


def _late_filing_with_new_deadline(engine, at) -> int:
    """Issued 31 January: due by the end of 28 February (a Saturday, but worked in 2026, 调休: not moved);
    on 2 March the office orders 10 March."""
    with at("2026-03-02T09:00:00"):
        plan = engine.start("filing", actor="chen", title="测试方案", data=ISSUED)["id"]
        assert _task(engine, plan, "Task_FileDocument")["due_at"] == "2026-02-28T16:00:00+00:00"
        engine.fire_due_timers()
        complete_step(engine, plan, "Task_EscalateOverdueFiling", "chen", {"newDeadline": "2026-03-10", "escalationNote": "限期"})
        assert _task(engine, plan, "Task_FileDocument")["due_at"] == "2026-03-10T16:00:00+00:00"
    return plan


def test_a_filing_still_missing_after_a_new_deadline_is_ordered_stays_red_against_the_month(library, at):
    plan = _late_filing_with_new_deadline(library, at)
    with at("2026-03-04T09:00:00"):  # within the ordered deadline, four days past the month
        [row] = library.ledger(process="filing")
    assert (row["id"], row["colour"]) == (plan, "red")
    [missed] = [m for m in row["missed"] if m["what"] == "报送备案"]
    assert (missed["due_at"], missed["days_late"], missed["done_at"]) == ("2026-02-28T16:00:00+00:00", 4, None)
    assert missed["ordered_due_at"] == "2026-03-10T16:00:00+00:00"


def test_a_filing_made_five_days_after_its_month_is_yellow_with_the_ordered_deadline_beside(library, at):
    plan = _late_filing_with_new_deadline(library, at)
    with at("2026-03-05T09:00:00"):
        complete_step(library, plan, "Task_FileDocument", "chen", {"filingDate": "2026-03-05", "filingMaterials": "正式文本"})
        complete_step(library, plan, "Task_CheckFiling", "chen", {"filingComplete": True})
        [row] = library.ledger(process="filing", status="all")
    assert row["colour"] == "yellow"  # it had shown green: the missed month was forgotten
    [missed] = [m for m in row["missed"] if m["what"] == "报送备案"]
    assert (missed["due_at"], missed["days_late"]) == ("2026-02-28T16:00:00+00:00", 5)
    result = CliRunner().invoke(main, ["--db", library.db.url, "--now", "2026-03-05T10:00:00", "ledger",
                                       "--process", "filing", "--status", "all"])
    assert result.exit_code == 0, result.output
    assert "[黄 yellow]" in result.output
    assert "报送备案：期限 2026-02-28（另定期限 2026-03-10），迟 5 天完成" in result.output
    assert "(due 2026-02-28, new deadline 2026-03-10, done 5 days late)" in result.output


def test_a_filing_made_by_its_month_is_green_and_shows_no_ordered_deadline(library, at):
    with at("2026-02-20T09:00:00"):
        plan = library.start("filing", actor="chen", title="测试方案", data=ISSUED)["id"]
        complete_step(library, plan, "Task_FileDocument", "chen", {"filingDate": "2026-02-20", "filingMaterials": "正式文本"})
        complete_step(library, plan, "Task_CheckFiling", "chen", {"filingComplete": True})
        [row] = library.ledger(process="filing", status="all")
    assert (row["colour"], row["missed"]) == ("green", [])


# ---------------------------------------------------------------- the last day off (民法典第二百零三条)
# 期间的最后一日是法定休假日的，以法定休假日结束的次日为期间的最后一日: a filing month or week that ends
# on a weekend or a holiday runs to the end of the first working day after it. chinesecalendar 1.11.0
# knows no 2027: its days are the statutory holidays and weekends (engine/workdays.py), so the
# deadlines reaching it are 暂定 until the reform office enters the year.


def _fired(engine, at, plan_id: int, moment: str) -> list[str]:
    with at(moment):
        return [t for fired in engine.fire_due_timers() if fired["instance_id"] == plan_id for t in fired["timers"]]


def _filing(engine, at, moment: str, issued: str, pilot: bool = False) -> int:
    with at(moment):
        return engine.start("filing", actor="chen", title="测试方案",
                            data={**ISSUED, "issueDate": issued, "pilot": pilot})["id"]


def test_a_month_ending_on_a_sunday_runs_to_monday_and_is_not_overdue_on_it(library, at):
    plan = _filing(library, at, "2027-02-01T09:00:00", "2027-01-31")
    task = _task(library, plan, "Task_FileDocument")
    # one month from 31 January is Sunday 28 February: due by the end of Monday 1 March, not 28 February
    assert (task["due_at"], task["due_provisional"]) == ("2027-03-01T16:00:00+00:00", True)
    assert library.instance(plan)["variables"]["filingDeadline"] == "2027-03-01"  # 原备案期限 as shown
    # reminded 5 days before the moved end (24 February), not before 28 February
    assert _fired(library, at, plan, "2027-02-24T23:59:00") == []
    assert _fired(library, at, plan, "2027-02-25T00:00:01") == ["Event_FilingReminder"]
    # not overdue on Sunday 28 February, nor on Monday 1 March, its last day
    assert _fired(library, at, plan, "2027-03-01T00:00:01") == []
    assert _fired(library, at, plan, "2027-03-01T23:59:00") == []
    with at("2027-03-01T20:00:00"):
        [row] = library.ledger(process="filing")
        assert row["colour"] != "red"
    assert _fired(library, at, plan, "2027-03-02T00:00:01") == ["Event_FilingOverdue"]
    assert _task(library, plan, "Task_EscalateOverdueFiling")
    with at("2027-03-02T09:00:00"):
        [row] = library.ledger(process="filing")
        assert row["colour"] == "red"


def test_a_month_from_31_december_ending_on_a_sunday_runs_to_1_february(library, at):
    plan = _filing(library, at, "2026-12-31T15:00:00", "2026-12-31")
    # one month from 31 December is Sunday 31 January 2027
    assert _task(library, plan, "Task_FileDocument")["due_at"] == "2027-02-01T16:00:00+00:00"
    assert "Event_FilingOverdue" not in _fired(library, at, plan, "2027-02-01T00:00:01")  # reminded 5 days before it
    assert _fired(library, at, plan, "2027-02-02T00:00:01") == ["Event_FilingOverdue"]


def test_a_pilot_week_ending_in_the_national_day_holiday_runs_to_8_october(library, at):
    # a pilot plan issued Thursday 24 September 2026 has a week: 1 October, in the holiday (1-7 October)
    plan = _filing(library, at, "2026-09-24T15:00:00", "2026-09-24", pilot=True)
    task = _task(library, plan, "Task_FileDocument")
    assert (task["due_at"], task["due_provisional"]) == ("2026-10-08T16:00:00+00:00", False)
    assert library.instance(plan)["variables"]["filingDeadline"] == "2026-10-08"
    # reminded 2 days before the moved end, at the end of 6 October; escalated only after 8 October
    assert _fired(library, at, plan, "2026-09-30T00:00:01") == []
    assert _fired(library, at, plan, "2026-10-07T00:00:01") == ["Event_FilingReminder"]
    assert _fired(library, at, plan, "2026-10-08T23:59:00") == []
    assert _fired(library, at, plan, "2026-10-09T00:00:01") == ["Event_FilingOverdue"]


def test_a_filing_due_in_the_spring_festival_is_not_escalated_in_it(library, at):
    # a month from 5 January 2027 is Friday 5 February, 除夕; by law the holiday is 5-8 February with
    # 9 and 10 February made up for its weekend: the filing is due by the end of Thursday 11 February
    plan = _filing(library, at, "2027-01-05T10:00:00", "2027-01-05")
    task = _task(library, plan, "Task_FileDocument")
    assert (task["due_at"], task["due_provisional"]) == ("2027-02-11T16:00:00+00:00", True)
    assert _fired(library, at, plan, "2027-02-06T23:59:00") == []
    assert _fired(library, at, plan, "2027-02-07T00:00:01") == ["Event_FilingReminder"]  # 5 days before 11 February
    assert _fired(library, at, plan, "2027-02-11T23:59:00") == []  # nothing red or escalated in the holiday
    assert _fired(library, at, plan, "2027-02-12T00:00:01") == ["Event_FilingOverdue"]


def test_entering_the_year_s_holidays_counts_the_moved_end_again(library, at):
    """The office enters the State Council's schedule after the filing opened (the whole of it, as a
    year entered no longer has the law's guessed make-up days): the holiday runs on to Friday 12
    February, so the month's last day moves to Monday 15 February, and the reminder with it; the
    deadline is no longer 暂定."""
    plan = _filing(library, at, "2027-01-05T10:00:00", "2027-01-05")
    assert _task(library, plan, "Task_FileDocument")["due_at"] == "2027-02-11T16:00:00+00:00"
    with at("2027-01-06T09:00:00"):
        for day in (9, 10, 11, 12):
            library.set_calendar_day(date(2027, 2, day), working=False, note="春节", actor="chen")
        moved = library.recount_working_days(date(2027, 2, 12), actor="chen")
    task = _task(library, plan, "Task_FileDocument")
    assert (task["due_at"], task["due_provisional"]) == ("2027-02-15T16:00:00+00:00", False)
    [mine] = [m for m in moved if m["instance_id"] == plan]
    assert [(t["element_id"], t["old"], t["new"]) for t in mine["tasks"]] == [
        ("Task_FileDocument", "2027-02-11T16:00:00+00:00", "2027-02-15T16:00:00+00:00")]
    assert sorted((t["element_id"], t["new"]) for t in mine["timers"]) == [
        ("Event_FilingOverdue", "2027-02-15T16:00:00+00:00"), ("Event_FilingReminder", "2027-02-10T16:00:00+00:00")]
    assert _fired(library, at, plan, "2027-02-10T00:00:01") == []
    assert _fired(library, at, plan, "2027-02-11T00:00:01") == ["Event_FilingReminder"]
    assert _fired(library, at, plan, "2027-02-15T23:59:00") == []
    assert _fired(library, at, plan, "2027-02-16T00:00:01") == ["Event_FilingOverdue"]
