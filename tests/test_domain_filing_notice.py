"""A filing registered after the ordered deadline (限期报送) has passed still gets the reform
office's public-notice decision (通报): DOMAIN.md "a late one gets a deadline, then a public
notice". Registration used to end the process with its terminate end event and withdraw the
open 通报逾期未备案; now it ends only the subprocess 报送和审查备案, and the notice, sent out
of it when the deadline passed, waits for the office."""
from __future__ import annotations

from .plan_helper import audit_payloads, complete_step, end_event

ISSUED = {"issueDate": "2026-01-31", "pilot": False, "documentNumber": "X发〔2026〕9号"}
FILED = {"filingDate": "2026-03-11", "filingMaterials": "正式文本"}


def _open(engine, plan_id: int) -> list[str]:
    return sorted(t["element_id"] for t in engine.instance(plan_id)["tasks"])


def _ordered_until_10_march(engine, at) -> int:
    """Due by the end of 28 February; on 2 March the office orders filing by 10 March."""
    with at("2026-03-02T09:00:00"):
        plan = engine.start("filing", actor="chen", title="测试方案", data=ISSUED)["id"]
        engine.fire_due_timers()
        complete_step(engine, plan, "Task_EscalateOverdueFiling", "chen", {"newDeadline": "2026-03-10", "escalationNote": "限期"})
    return plan


def _cancelled(engine, plan_id: int) -> list[str]:
    return [e["element_id"] for e in audit_payloads(engine, plan_id, "task_cancelled")]


def test_a_filing_registered_after_the_ordered_deadline_waits_for_the_notice_decision(library, at):
    plan = _ordered_until_10_march(library, at)
    with at("2026-03-11T09:00:00"):
        library.fire_due_timers()  # 限期届满: the notice is to be decided
        assert _open(library, plan) == ["Task_FileDocument", "Task_PublicNotice"]
        complete_step(library, plan, "Task_FileDocument", "chen", FILED)
        complete_step(library, plan, "Task_CheckFiling", "chen", {"filingComplete": True})
        # registered, and the notice still to decide: not withdrawn as it was
        assert _open(library, plan) == ["Task_PublicNotice"]
        assert library.instance(plan)["status"] == "running"
        assert "Task_PublicNotice" not in _cancelled(library, plan)
        complete_step(library, plan, "Task_PublicNotice", "chen", {"noticeDecision": "notice", "noticeNote": "X改办〔2026〕3号通报"})
    assert library.instance(plan)["status"] == "completed"
    assert end_event(library, plan) == "Event_EscalationHandled"  # the notice came last
    assert library.instance(plan)["variables"]["noticeDecision"] == "notice"


def test_a_notice_decided_before_the_filing_ends_the_process_at_registration(library, at):
    plan = _ordered_until_10_march(library, at)
    with at("2026-03-11T09:00:00"):
        library.fire_due_timers()
        complete_step(library, plan, "Task_PublicNotice", "chen", {"noticeDecision": "notice", "noticeNote": "已通报"})
        assert _open(library, plan) == ["Task_FileDocument"]
        complete_step(library, plan, "Task_FileDocument", "chen", FILED)
        complete_step(library, plan, "Task_CheckFiling", "chen", {"filingComplete": True})
    assert library.instance(plan)["status"] == "completed"
    assert end_event(library, plan) == "Event_Filed"


def test_a_filing_made_after_the_deadline_before_the_timer_ran_still_gets_the_notice(library, at):
    """The worker had not run yet: the deadline had passed, no 通报 task so far. Filing is an
    action on the plan, and any action fires what is due first: the notice opens with it."""
    plan = _ordered_until_10_march(library, at)
    with at("2026-03-11T09:00:00"):
        complete_step(library, plan, "Task_FileDocument", "chen", FILED)
        assert _open(library, plan) == ["Task_CheckFiling", "Task_PublicNotice"]
        complete_step(library, plan, "Task_CheckFiling", "chen", {"filingComplete": True})
        assert _open(library, plan) == ["Task_PublicNotice"]
        complete_step(library, plan, "Task_PublicNotice", "chen", {"noticeDecision": "filed_in_time",
                                                          "noticeNote": "限期内已电话报送，正式材料次日送达"})
    assert end_event(library, plan) == "Event_EscalationHandled"


def test_a_filing_registered_within_the_ordered_deadline_ends_without_a_notice(library, at):
    plan = _ordered_until_10_march(library, at)
    with at("2026-03-10T09:00:00"):  # the ordered deadline's last day
        complete_step(library, plan, "Task_FileDocument", "chen", {**FILED, "filingDate": "2026-03-10"})
        complete_step(library, plan, "Task_CheckFiling", "chen", {"filingComplete": True})
    assert library.instance(plan)["status"] == "completed"
    assert end_event(library, plan) == "Event_Filed"
    assert "Task_PublicNotice" not in [e["element_id"] for e in audit_payloads(library, plan, "task_created")]


def test_a_filing_registered_before_the_office_ordered_a_deadline_withdraws_the_escalation(library, at):
    with at("2026-03-02T09:00:00"):
        plan = library.start("filing", actor="chen", title="测试方案", data=ISSUED)["id"]
        library.fire_due_timers()
        complete_step(library, plan, "Task_FileDocument", "chen", {**FILED, "filingDate": "2026-03-02"})
        complete_step(library, plan, "Task_CheckFiling", "chen", {"filingComplete": True})
    assert library.instance(plan)["status"] == "completed"
    assert _cancelled(library, plan) == ["Task_EscalateOverdueFiling"]


def test_an_incomplete_late_filing_is_not_registered_and_waits_for_its_supplement(library, at):
    plan = _ordered_until_10_march(library, at)
    with at("2026-03-11T09:00:00"):
        library.fire_due_timers()
        complete_step(library, plan, "Task_FileDocument", "chen", FILED)
        complete_step(library, plan, "Task_CheckFiling", "chen", {"filingComplete": False, "filingMissing": "起草说明"})
        assert _open(library, plan) == ["Task_PublicNotice", "Task_SupplementFiling"]
