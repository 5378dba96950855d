"""A deadline with a time of day (登记公众意见采纳情况: P7D from the minute the step opened) is
shown with its time everywhere, and once it has passed it is 已逾期, also on its own day: not
"due today" and not "0 days late"."""
from __future__ import annotations

from datetime import datetime

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.ledger_export import missed_text
from engine.mail_text import deadline_words
from engine.workdays import WorkCalendar

from .plan_helper import Plan
from .web_helper import page_text, signed_in_client


@pytest.fixture
def recording(library, at):
    """A plan whose 30-day consultation from 2 March 2026 ended with 1 April: the step recording
    the comments opened on Thursday 2 April at 10:00, due seven days later at 10:00."""
    with at("2026-03-02T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_PublicConsultation", Task_RegisterPlan={"touchesPublicInterest": True})
        plan.do("Task_PublicConsultation", consultationStart="2026-03-02", consultationDays=30)
        plan.do("Task_DepartmentOpinions")
    assert plan.fire_timers_at(at, "2026-04-02T10:00:00") == ["Event_ConsultationPeriodEnds"]
    step = plan.task("Task_RecordPublicComments")
    assert step["due_at"] == "2026-04-09T02:00:00+00:00"  # 10:00 Beijing
    return plan, step


def test_the_overview_shows_the_hour_and_a_deadline_missed_this_morning_without_a_count_of_days(library, recording, at):
    plan, step = recording

    def overview(now):
        return CliRunner().invoke(main, ["--db", library.db.url, "--now", now, "overview", "--as", "chen"]).stdout
    soon = overview("2026-04-08T09:00:00")
    assert f"即将到期 (due soon)：#{step['id']} 登记公众意见采纳情况" in soon
    assert "期限 (due) 2026-04-09 10:00" in soon
    late = overview("2026-04-09T11:00:00")
    assert f"    逾期 (late)：#{step['id']} 登记公众意见采纳情况" in late and "期限 (due) 2026-04-09 10:00" in late
    assert "逾期 0 天" not in late
    assert "逾期 1 天 (1 day late)" in overview("2026-04-10T09:00:00")
    library.set_password("chen", "correct horse battery", actor="chen", first=True)
    chen = signed_in_client(library, "chen", "correct horse battery")
    with at("2026-04-09T11:00:00"):
        page = page_text(chen.get("/overview"))
    assert "2026年4月9日 10:00 已逾期" in page and "逾期 0 天" not in page


def test_the_ledger_says_missed_and_done_late_on_the_same_day_without_zero_days(library, recording, at):
    plan, step = recording
    with at("2026-04-09T11:00:00"):
        [row] = library.ledger(year=2026)
        [missed] = row["missed"]
        assert missed_text(missed, english=True) == (
            "登记公众意见采纳情况：期限 2026-04-09 10:00，已逾期 (due 2026-04-09 10:00, overdue)")
        plan.do("Task_RecordPublicComments")
        [row] = library.ledger(year=2026)
    [missed] = row["missed"]
    assert missed_text(missed, english=True) == (
        "登记公众意见采纳情况：期限 2026-04-09 10:00，逾期完成 (due 2026-04-09 10:00, done late)")
    assert "迟 1 天完成 (due 2026-04-09 10:00, done 1 day late)" in missed_text({**missed, "days_late": 1}, english=True)


def test_a_mail_says_overdue_once_the_hour_has_passed_and_due_today_before(recording):
    _, step = recording
    due = datetime.fromisoformat(step["due_at"])
    calendar = WorkCalendar({})
    assert deadline_words(due, calendar, datetime.fromisoformat("2026-04-09T09:59:00+08:00"))[1] == "今天到期"
    assert deadline_words(due, calendar, datetime.fromisoformat("2026-04-09T10:00:00+08:00"))[1] == "已逾期"
    assert deadline_words(due, calendar, datetime.fromisoformat("2026-04-10T09:00:00+08:00"))[1] == "已逾期 1 个工作日"
