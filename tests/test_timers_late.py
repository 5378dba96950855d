"""Timers that fire late (the audit of 6 December 2026 stopped the timer worker for weeks): the
lead unit files last month's report after its deadline, and this month's report step, its
reminder and its deadline, have all fallen due. The plan's due timers fire first, as the system's
(engine/commands.py complete), and what they set off is the system's too, not the filer's; the
trail says each timer fired late; the filer is told each step is overdue, once, and only the
office's chase steps are mailed as escalated to it."""
from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from engine.cli import main
from engine.history import plan_history
from engine.trail_text import said
from models import AuditEvent

from .test_implementation import _report, _started
from .test_mail import outbox


def _filed_late(library, at):
    """January's report (due 10 Feb) filed by zhang on 20 March, the worker stopped since 1
    February: January's reminder and deadline, and February's report step (due 10 March,
    reminded 8 March), its reminder and deadline, all fire as zhang submits, before his report."""
    library.update_user("zhang", actor="chen", email="zhang@czj.example.gov.cn")
    library.set_email("chen", "chen@reform.example.gov.cn", actor="chen")
    plan = _started(library, at)
    assert plan.fire_timers_at(at, "2026-02-01T00:00:01") == ["Event_ReportMonthEnds"]
    before = len(outbox(library))
    _report(plan, at, "2026-03-20T10:00:00", 0, 1, 2)
    return plan, outbox(library)[before:]


def _events(library, plan):
    with library.db.reader() as s:
        return s.execute(select(AuditEvent).where(AuditEvent.instance_id == plan.id)
                         .order_by(AuditEvent.seq)).scalars().all()


def test_timers_fired_in_a_persons_command_are_recorded_as_the_systems(library, at):
    plan, _ = _filed_late(library, at)
    late = [e for e in _events(library, plan) if e.occurred_at.isoformat() >= "2026-03-20"]
    who = {(e.event_type, json_name(e)): (e.actor, e.channel) for e in late}
    assert who[("task_completed", "Task_MonthlyReport")] == ("zhang", None)  # what zhang did: his
    for fired in ("Event_ReportMonthEnds", "Event_ReportReminder", "Event_ReportOverdue"):
        assert who[("timer_fired", fired)] == ("system", "worker"), fired
    assert who[("escalation", "Event_ReportOverdueEscalation")] == ("system", "worker")
    # the steps the timers opened: February's report and the office's chase
    assert who[("task_created", "Task_MonthlyReport")] == ("system", "worker")
    assert who[("task_created", "Task_UrgeMonthlyReport")] == ("system", "worker")
    assert plan.audit_ok()  # each event's hash covers the actor it was written with
    with library.db.reader() as s:
        trail = plan_history(s, plan.id)["events"]
    escalated = next(e for e in trail if e["event_type"] == "escalation")
    assert escalated["actor"] == "system"


def _tasks(library, plan):
    from models import HumanTask
    with library.db.reader() as s:
        return s.execute(select(HumanTask).where(HumanTask.instance_id == plan.id)).scalars().all()


def json_name(e) -> str:
    import json
    return json.loads(e.payload).get("element_id")


def test_the_trail_says_when_a_late_timer_was_due(library, at):
    plan, _ = _filed_late(library, at)
    with library.db.reader() as s:
        trail = plan_history(s, plan.id)["events"]
    january, overdue = [e for e in trail if e["event_type"] == "timer_fired"
                        and e["payload"]["element_id"] == "Event_ReportOverdue"]
    assert said(january, "zh", chinese_dates=True) == \
        "定时到期 月报逾期（报送月度进展）（应于 2026年2月10日 到期，迟 37 天触发）"
    assert said(overdue, "zh", chinese_dates=True) == \
        "定时到期 月报逾期（报送月度进展）（应于 2026年3月10日 到期，迟 9 天触发）"
    assert said(overdue, "en") == "timer fired 月报逾期 (on 报送月度进展) (due 2026-03-10, fired 9 days late)"
    # fired on time (by the worker, a second after it was due): nothing more said
    on_time = next(e for e in trail if e["event_type"] == "timer_fired")
    assert said(on_time, "zh") == "定时到期 报告月份结束"
    notice = [e for e in trail if e["event_type"] == "task_overdue_notice"][-1]
    assert said(notice, "zh") == "逾期通知 报送月度进展：zhang（期限已过，未发送将到期提醒）"
    history = CliRunner().invoke(main, ["--db", library.db.url, "history", str(plan.id)]).output
    assert ("系统 (system)  [系统 (system)]  定时到期 (timer fired) 月报逾期（报送月度进展 (on 报送月度进展)）"
            "（应于 2026-03-10 到期，迟 9 天触发 (due 2026-03-10, fired 9 days late)）") in history


def test_the_holder_is_told_the_step_is_overdue_once_and_only_the_chase_is_mailed_as_escalated(library, at):
    plan, mails = _filed_late(library, at)
    january, february = sorted((t for t in _tasks(library, plan) if t.element_id == "Task_MonthlyReport"),
                               key=lambda t: t.id)
    chases = sorted(t.id for t in _tasks(library, plan) if t.element_id == "Task_UrgeMonthlyReport")
    got = sorted((m.username, m.kind, m.task_id) for m in mails)
    assert got == sorted([("zhang", "task_late", january.id),  # its reminder held back: overdue
                          ("zhang", "task_new", february.id),  # opened by a timer, not by zhang
                          ("zhang", "task_late", february.id),
                          *[("chen", "task_overdue", chase) for chase in chases]])  # one chase a month
    late = [m for m in mails if m.kind == "task_late" and m.task_id == february.id][0]
    assert late.subject.startswith("【逾期】")
    assert "以下待办已超过办理期限，请尽快办理。" in late.body and "已上报至您处" not in late.body
    assert "办理期限：2026年3月10日" in late.body or "办理期限：2026-03-10（已逾期" in late.body
    assert "past its deadline" in late.body
    # no 「将到期」 reminder recorded, and the worker catching up later adds nothing
    assert [e for e in _events(library, plan) if e.event_type == "task_reminded"
            and e.occurred_at.isoformat() >= "2026-03-20"] == []
    before = len(outbox(library))
    plan.fire_timers_at(at, "2026-03-21T09:00:00")
    assert [m.kind for m in outbox(library)[before:]] == []


def test_the_worker_catching_up_mails_as_escalated_only_the_step_the_escalation_opened(library, at):
    """January filed on time; the worker stopped until 20 March, then catches up in one go:
    February's report opens, its reminder and deadline pass, the office is asked to chase it. The
    lead unit's new report step is a new step (and overdue), not "escalated to you"."""
    library.update_user("zhang", actor="chen", email="zhang@czj.example.gov.cn")
    library.set_email("chen", "chen@reform.example.gov.cn", actor="chen")
    plan = _started(library, at)
    assert plan.fire_timers_at(at, "2026-02-01T00:00:01") == ["Event_ReportMonthEnds"]
    _report(plan, at, "2026-02-05T10:00:00", 0, 1, 2)
    before = len(outbox(library))
    assert sorted(plan.fire_timers_at(at, "2026-03-20T10:00:00")) == [
        "Event_ReportMonthEnds", "Event_ReportOverdue", "Event_ReportReminder"]
    february, chase = plan.task("Task_MonthlyReport"), plan.task("Task_UrgeMonthlyReport")
    mails = {(m.username, m.task_id): m for m in outbox(library)[before:] if m.kind != "task_late"}
    assert {k: m.kind for k, m in mails.items()} == {("zhang", february["id"]): "task_new",
                                                     ("chen", chase["id"]): "task_overdue"}
    assert "已上报至您处" not in mails[("zhang", february["id"])].body
    assert [m.username for m in outbox(library)[before:] if m.kind == "task_late"] == ["zhang"]


def test_a_step_a_late_timer_took_away_in_a_persons_command_is_cancelled_by_the_system(library, at):
    """The window for a re-review ended on 6 May; the worker stopped, the lead unit files its
    rectification on 10 May: the request step the window's timer closed is the system's doing."""
    from .test_implementation import _notice
    plan = _started(library, at)
    _notice(plan, at, deadline="2026-05-20")
    with at("2026-05-10T10:00:00"):
        plan.do("Task_Rectify")
    cancelled = [e for e in _events(library, plan) if e.event_type == "task_cancelled"]
    assert [(json_name(e), e.actor, e.channel) for e in cancelled] == [("Task_RequestReReview", "system", "worker")]
    completed = [e for e in _events(library, plan) if e.event_type == "task_completed"]
    assert completed[-1].actor == "zhang"
    assert plan.audit_ok()
