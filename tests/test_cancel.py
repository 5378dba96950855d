"""A plan started by mistake, twice, or overtaken by events is stopped by the reform office, with
its reason: its tasks leave every inbox, its timers stop, and its trail stays."""
from __future__ import annotations

import pytest

from engine.errors import Conflict, Forbidden, Invalid
from engine.events import send_message
from engine.queries import list_tasks

from .conftest import FIXTURES
from .plan_helper import Plan, audit_payloads
from .test_cli import as_json, cli  # noqa: F401 - the command line on a fresh SQLite database


def _claimable(engine, username: str) -> list[int]:
    with engine.db.reader() as session:
        return [t["id"] for t in list_tasks(session, username, "claimable")]


def test_a_stopped_plan_leaves_the_inboxes_and_its_timers_never_fire(library, at):
    with at("2026-12-01T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_LegalityReview")
    review = plan.task("Task_LegalityReview")
    assert plan.refresh()["next_timer_at"] is not None  # the review's reminder and overdue escalation
    assert _claimable(library, "li") == [review["id"]]

    with pytest.raises(Forbidden, match="只有改革办可以终止方案"):
        library.cancel_plan(plan.id, reason="重复发起", actor="zhang")
    with pytest.raises(Forbidden, match="只有改革办可以终止方案"):  # not asked for a reason first
        library.cancel_plan(plan.id, reason="", actor="zhang")
    with pytest.raises(Invalid, match="须写明终止理由"):
        library.cancel_plan(plan.id, reason=" ", actor="chen")
    with at("2026-12-02T10:00:00"):
        stopped = library.cancel_plan(plan.id, reason="与第 3 号方案重复", actor="chen")
    assert (stopped["status"], stopped["tasks"], stopped["next_timer_at"]) == ("cancelled", [], None)
    assert [t["task_id"] for t in stopped["withdrawn"]] == [review["id"]]
    assert _claimable(library, "li") == []
    [event] = audit_payloads(library, plan.id, "instance_cancelled")
    assert (event["reason"], event["new"]) == ("与第 3 号方案重复", {"status": "cancelled"})
    assert [e["reason"] for e in audit_payloads(library, plan.id, "task_cancelled")] == ["plan_cancelled"]

    # nothing moves it any more: not its old task, not a timer, not a second stop
    # li never submitted it: not "cannot submit again", but that the plan was stopped
    with pytest.raises(Conflict, match=f"方案 {plan.id} 已终止，任务 {review['id']}「.*」已撤销，无需再办理") as refused:
        library.complete(review["id"], actor="li", data={"legalityResult": "pass", "legalityOpinion": "同意"})
    assert "再次提交" not in str(refused.value)
    with at("2027-02-01T09:00:00"):
        assert [f for f in library.fire_due_timers() if f["instance_id"] == plan.id] == []
    with pytest.raises(Conflict, match="已终止，不能终止"):
        library.cancel_plan(plan.id, reason="again", actor="chen")
    with pytest.raises(Conflict, match="已终止，不能接收消息"):  # was 已结束: as if it had ended normally
        send_message(library, plan.id, "材料补正", actor="chen")
    assert [r["id"] for r in library.ledger(status="cancelled")] == [plan.id]
    assert library.ledger(status="running") == []
    assert plan.audit_ok()


def test_an_ended_plan_cannot_be_stopped(library):
    plan = Plan(library)
    plan.finish()
    with pytest.raises(Conflict, match="已办结，不能终止"):
        library.cancel_plan(plan.id, reason="x", actor="chen")


def test_cancel_from_the_command_line(cli):  # noqa: F811
    cli("deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))
    plan = as_json(cli("start", "mini_approval", "--as", "zhang", "--business-key", "DT-9", "--json"))
    shown = cli("cancel", "DT-9", "--reason", "误发起", "--as", "chen").stdout
    assert shown == (f"已终止方案 (plan stopped) #{plan['id']} 简易审批\n"
                     f"  撤销待办 (task withdrawn) {plan['tasks'][0]['id']} 起草\n")
    assert "[已终止 cancelled]" in cli("ledger", "--status", "cancelled").stdout
    trail = cli("history", "DT-9").stdout
    assert "撤销待办 (cancelled) 起草（方案终止 plan stopped）" in trail and "终止方案 (plan stopped)：误发起" in trail
    again = cli("cancel", "DT-9", "--reason", "误发起", "--as", "chen", "--json", ok=False)
    assert again.exit_code == 6 and as_json(again)["error"] == "conflict"
    assert cli("cancel", "DT-9", "--as", "chen", ok=False).exit_code == 2  # --reason is required
