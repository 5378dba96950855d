"""A plan's trail as people read it: `reformflow history PLAN` (engine/history.py)."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.errors import NotFound
from engine.history import plan_history

from .plan_helper import Plan


def _returned_plan(library, at):
    with at("2026-03-02T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_SpecialGroupReview")
        plan.do("Task_SpecialGroupReview", specialGroupDecision="return", returnReason="缺少成本测算")
    return plan


def test_the_trail_says_who_did_what_and_what_they_entered(library, at):
    plan = _returned_plan(library, at)
    with library.db.reader() as s:
        trail = plan_history(s, plan.id)
    assert (trail["title"], trail["status"]) == ("深化财政预算管理制度改革方案", "running")
    events = trail["events"]
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    assert (events[0]["event_type"], events[0]["actor"], events[0]["actor_name"]) == ("instance_started", "zhang", "张伟")
    from engine.trail_text import said
    assert said(events[0], "zh") == "发起方案「改革方案全流程」（第 1 版）"  # a Chinese page names the process
    review = [e for e in events if e["name"] == "专项小组审核把关"]
    assert [(e["event_type"], e["actor"]) for e in review] == [
        ("task_created", "zhang"), ("task_claimed", "sun"), ("task_completed", "sun")]
    # what the reviewer entered, under the form's labels, a choice with its name
    assert review[-1]["values"] == [
        {"field": "specialGroupOpinion", "label": "审核意见", "value": "内容可行", "option": None},
        {"field": "specialGroupDecision", "label": "审核结论", "value": "return", "option": "退回修改"},
        {"field": "returnReason", "label": "退回理由（退回时必填）", "value": "缺少成本测算", "option": None}]
    # the plan went back to drafting, and the drafter's task says so
    assert events[-1]["event_type"] == "task_created" and events[-1]["name"] == "起草方案"


def test_history_on_the_command_line(library, at):
    plan = _returned_plan(library, at)
    shown = CliRunner().invoke(main, ["--db", library.db.url, "history", str(plan.id)])
    assert shown.exit_code == 0, shown.output
    # the clock was fixed at a date months before the real one: every line says when it was entered
    # (tests/test_history_backdated.py); the lines of the events themselves are the others
    marks = [line for line in shown.stdout.splitlines() if line.startswith("    补录：实际录入于 ")]
    lines = [line for line in shown.stdout.splitlines() if line not in marks]
    assert len(marks) == len(lines) - 1
    assert lines[0] == f"#{plan.id} 深化财政预算管理制度改革方案 [办理中 running] 业务编号 (business key) -"
    assert lines[1] == "  2026-03-02 09:00  张伟 (zhang)  [未记录 (not recorded)]  发起方案 (started) reform_plan v1"
    assert ("  2026-03-02 09:00  孙强 (sun)  [未记录 (not recorded)]  提交 (completed) 专项小组审核把关：审核意见 = 内容可行；"
            "审核结论 = return（退回修改）；退回理由（退回时必填） = 缺少成本测算") in lines
    assert lines[-1] == "  2026-03-02 09:00  孙强 (sun)  [未记录 (not recorded)]  生成待办 (task created) 起草方案（张伟）"
    as_json = json.loads(CliRunner().invoke(main, ["--db", library.db.url, "history", str(plan.id), "--json"]).stdout)
    assert len(as_json["events"]) == len(lines) - 1


def test_a_plan_that_does_not_exist_has_no_history(library):
    with library.db.reader() as s, pytest.raises(NotFound):
        plan_history(s, 999999)


def test_a_reminder_to_a_group_names_the_group_as_people_read_it():
    from engine.cli.plans import _what
    event = {"event_type": "task_reminded", "name": "报送备案",
             "payload": {"element_id": "Task_FileDocument", "to": ["wang", "group:drafter"]}}
    assert _what(event) == "提醒 (reminded) 报送备案：wang、角色 (group) drafter"


def test_history_names_whom_a_task_went_to(library, at):
    """People, not codes: a step open for the special group is 专项小组's, one the office assigns
    goes to 孙强, as the ledger names them."""
    with at("2026-03-02T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_SpecialGroupReview")
        review = plan.task("Task_SpecialGroupReview")
        library.assign(review["id"], to="sun", actor="chen")
    lines = CliRunner().invoke(main, ["--db", library.db.url, "history", str(plan.id)]).stdout.splitlines()
    assert "  2026-03-02 09:00  张伟 (zhang)  [未记录 (not recorded)]  生成待办 (task created) 专项小组审核把关（专项小组）" in lines
    assert "  2026-03-02 09:00  陈静 (chen)  [未记录 (not recorded)]  指派 (assigned) 专项小组审核把关 → 孙强" in lines
    events = json.loads(CliRunner().invoke(main, ["--db", library.db.url, "history", str(plan.id),
                                                  "--json"]).stdout)["events"]
    assert [e["to_names"] for e in events if e["task_id"] == review["id"] and "to_names" in e] == ["专项小组", "孙强"]
