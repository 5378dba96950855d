"""Actions entered with a date other than the real one (`--now`, a fixed clock) as people read the trail
(QA auditor finding 2): `reformflow history`, the plan page's 办理经过 and the API's history and events
mark each such line with when it was really entered, as the decision archive does; a step cannot be
completed at a time before it was created. The system's own actions read 系统 on a Chinese page."""
from __future__ import annotations

import json

from click.testing import CliRunner

from engine.audit import CLOCK_TOLERANCE, verify
from engine.cli import main

from .conftest import FIXTURES
from .test_api import _auth, _client
from .web_helper import page_text, signed_in_client


def cli(engine, *args, code: int = 0):
    result = CliRunner().invoke(main, ["--db", engine.db.url, *args])
    assert result.exit_code == code, result.output + (result.stderr or "")
    return result


def _backdated_plan(engine) -> None:
    """Plan 1 started and its first step completed with dates in the past given with --now."""
    cli(engine, "deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))
    cli(engine, "--now", "2026-01-05T09:00:00+08:00", "start", "mini_approval", "--as", "zhang",
        "--title", "深化财政预算管理制度改革方案")
    cli(engine, "--now", "2026-01-06T10:00:00+08:00", "complete", "1", "--as", "zhang",
        "--data", json.dumps({"summary": "初稿", "days": 30}))


def test_history_marks_a_backdated_line_with_when_it_was_entered(engine, people):
    _backdated_plan(engine)
    trail = json.loads(cli(engine, "history", "1", "--json").stdout)
    events = {e["event_type"]: e for e in trail["events"]}
    completed = events["task_completed"]
    assert completed["off_clock"] is True and completed["occurred_at"].startswith("2026-01-06T02:00:00")
    assert completed["recorded_at"] > completed["occurred_at"]
    shown = cli(engine, "history", "1").stdout.splitlines()
    at = shown.index(next(line for line in shown if "提交 (completed) 起草" in line))
    assert shown[at].startswith("  2026-01-06 10:00  张伟 (zhang)")
    assert shown[at + 1].startswith("    补录：实际录入于 ") and "(entered later, at " in shown[at + 1]
    # the threshold is the one `audit verify` notes such events with
    with engine.db.reader() as s:
        assert "超过 5 分钟" in verify(s).notes[0] and CLOCK_TOLERANCE.total_seconds() == 300


def test_a_line_entered_at_its_time_is_not_marked(engine, people):
    cli(engine, "deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))
    cli(engine, "start", "mini_approval", "--as", "zhang", "--title", "深化财政预算管理制度改革方案")
    trail = json.loads(cli(engine, "history", "1", "--json").stdout)
    assert all(e["off_clock"] is False and e["recorded_at"] for e in trail["events"])
    assert "实际录入" not in cli(engine, "history", "1").stdout


def test_a_line_dated_ahead_says_so(engine, people):
    cli(engine, "deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))
    cli(engine, "start", "mini_approval", "--as", "zhang", "--title", "深化财政预算管理制度改革方案")
    cli(engine, "--now", "2099-01-06T10:00:00+08:00", "complete", "1", "--as", "zhang",
        "--data", json.dumps({"summary": "初稿", "days": 30}))
    shown = cli(engine, "history", "1").stdout
    assert "预录：实际录入于 " in shown and "(dated ahead: entered at " in shown


def test_a_step_cannot_be_completed_before_it_was_created(engine, people):
    cli(engine, "deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))
    cli(engine, "--now", "2026-01-05T09:00:00+08:00", "start", "mini_approval", "--as", "zhang",
        "--title", "深化财政预算管理制度改革方案")
    refused = cli(engine, "--now", "2026-01-01T10:00:00+08:00", "complete", "1", "--as", "zhang",
                  "--data", json.dumps({"summary": "初稿", "days": 30}), code=3)
    assert ("任务 1「起草」生成于 2026-01-05 09:00，不能以更早的时间 2026-01-01 10:00 提交；请检查 --now 所给的日期 "
            "(task 1 “起草” was created at 2026-01-05 09:00: it cannot be completed at an earlier time, "
            "2026-01-01 10:00; check the date given with --now)") in refused.stderr
    assert json.loads(cli(engine, "task", "1", "--json").stdout)["status"] == "claimed"
    # at or after its creation it goes in
    cli(engine, "--now", "2026-01-05T09:00:00+08:00", "complete", "1", "--as", "zhang",
        "--data", json.dumps({"summary": "初稿", "days": 30}))


def test_the_plan_page_marks_it(engine, people):
    _backdated_plan(engine)
    engine.set_password("zhang", "correct horse battery", actor="zhang", first=True)
    zh = page_text(signed_in_client(engine, "zhang", "correct horse battery", language="zh").get("/plans/1"))
    assert "张伟 ［命令行］ 提交 起草" in zh  # completed on the command line, as the line says
    assert "补录：实际录入于 " in zh and "年" in zh.split("补录：实际录入于 ")[1][:6]
    en = page_text(signed_in_client(engine, "zhang", "correct horse battery", language="en").get("/plans/1"))
    assert "Entered later, at " in en


def test_the_systems_own_actions_read_xitong_on_a_chinese_page(demo_engine):
    """Timers run by the system (a deadline passed) are the actor `system`: 系统 on a Chinese page."""
    from sqlalchemy import select

    from models import AuditEvent
    with demo_engine.db.reader() as s:
        plan_id = s.execute(select(AuditEvent.instance_id).where(AuditEvent.actor == "system",
                                                                 AuditEvent.instance_id.is_not(None))).scalars().first()
    assert plan_id is not None
    chen = signed_in_client(demo_engine, "chen", language="zh")
    zh = chen.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert '<span class="who">系统</span>' in zh and '<span class="who">system</span>' not in zh
    chen.post("/language/en")
    assert '<span class="who">system</span>' in chen.get(f"/plans/{plan_id}").get_data(as_text=True)
    shown = cli(demo_engine, "history", str(plan_id)).stdout
    assert "  系统 (system)  " in shown


def test_the_api_gives_the_real_write_time_with_each_event(engine, people):
    _backdated_plan(engine)
    secret = engine.create_token("zhang", "OA")["secret"]
    client = _client(engine)
    history = client.get("/api/v1/plans/1/history", headers=_auth(secret)).get_json()
    completed = next(e for e in history["events"] if e["event_type"] == "task_completed")
    assert completed["off_clock"] is True and completed["recorded_at"] > completed["occurred_at"]
    feed = client.get("/api/v1/events", headers=_auth(secret)).get_json()
    assert {e["seq"]: e["off_clock"] for e in feed["events"]}[completed["seq"]] is True


def test_an_overdue_timer_and_its_escalation_name_the_step(demo_engine):
    """QA auditor finding 14: `timer_fired` / `escalation` did not say which step was overdue. A boundary
    timer names the step it is on, and an escalation thrown on its path that step too."""
    from sqlalchemy import select

    from engine.trail_text import said
    from models import AuditEvent
    with demo_engine.db.reader() as s:
        events = s.execute(select(AuditEvent).where(AuditEvent.event_type.in_(("timer_fired", "escalation")))
                           .order_by(AuditEvent.seq)).scalars().all()
    payloads = {(e.event_type, json.loads(e.payload)["element_id"]): json.loads(e.payload) for e in events}
    overdue = payloads[("timer_fired", "Event_ReportOverdue")]
    assert (overdue["on_element_id"], overdue["on_name"]) == ("Task_MonthlyReport", "报送月度进展")
    escalated = payloads[("escalation", "Event_ReportOverdueEscalation")]
    assert escalated["on_name"] == "报送月度进展"
    # a timer on no step (the month's end of a cycle) names none
    assert "on_name" not in payloads[("timer_fired", "Event_ReportMonthEnds")]
    line = said({"event_type": "timer_fired", "payload": overdue, "name": overdue["name"]}, "zh")
    assert line == "定时到期 月报逾期（报送月度进展）"
    assert said({"event_type": "escalation", "payload": escalated, "name": escalated["name"]}, "en") == \
        "escalation 逾期未报上报改革办 (on 报送月度进展) (report_overdue)"
