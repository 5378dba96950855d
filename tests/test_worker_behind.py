"""A person acting while the timer worker is behind (stopped over a holiday, crashed and noticed
days later): the plan's due timers fire first, as the system's own action, and the person's
action comes after, on what the timers left. Before (the worker audit of 6 December 2026), the
action ran first and the deadline's rule was skipped for good: a re-review was requested nine days
after its window closed, and a filing made after its month was never escalated."""
from __future__ import annotations

import pytest

from engine.errors import Conflict

from sqlalchemy import select

from models import AuditEvent

from .plan_helper import audit_payloads, complete_step
from .test_implementation import _notice, _started
from .test_migration_rules import ISSUED


def _actors(engine, plan_id: int, event_type: str) -> list[tuple[str, str]]:
    """(actor, element id) of a plan's events of one type, oldest first."""
    import json
    with engine.db.reader() as s:
        rows = s.execute(select(AuditEvent.actor, AuditEvent.payload).where(
            AuditEvent.instance_id == plan_id, AuditEvent.event_type == event_type).order_by(AuditEvent.seq)).all()
    return [(actor, json.loads(payload).get("element_id")) for actor, payload in rows]


def test_a_re_review_requested_after_its_window_closed_is_refused_the_window_having_closed(library, at):
    plan = _started(library, at)
    _notice(plan, at)  # served 1 April: the window runs to the end of 6 May (a holiday at its end)
    request = plan.task("Task_RequestReReview")
    with at("2026-05-15T10:00:00"), pytest.raises(Conflict) as refused:  # nobody fired the window's timer
        library.complete(request["id"], actor="zhang", data={"reReviewChoice": "request", "reReviewReasons": "期限过短"})
    assert "已撤销（期限已过或流程已转入其他环节），无需再办理" in str(refused.value)
    assert "不能再次提交" not in str(refused.value)
    # the window's timer fired, as the system's, and stays fired though the request was refused
    assert ("system", "Event_ReReviewWindowEnds") in _actors(library, plan.id, "timer_fired")
    assert "Task_RequestReReview" not in plan.inbox()
    assert plan.audit_ok()


def test_a_filing_made_after_its_month_with_the_worker_stopped_is_still_escalated(library, at):
    with at("2026-11-02T09:00:00"):
        plan = library.start("filing", actor="chen", data={**ISSUED, "issueDate": "2026-11-02"})["id"]
    with at("2026-12-04T10:00:00"):  # due by the end of 2 December; no worker since
        complete_step(library, plan, "Task_FileDocument", "chen", {"filingDate": "2026-12-04", "filingMaterials": "正式文本"})
    assert ("system", "Event_FilingOverdue") in _actors(library, plan, "timer_fired")
    assert [actor for actor, _ in _actors(library, plan, "escalation")] == ["system"]  # escalated, by the system
    assert [e["element_id"] for e in audit_payloads(library, plan, "escalation")] == ["Event_EscalateToReformOffice"]
    # the filing itself still goes in, the person's, after the escalation
    assert ("chen", "Task_FileDocument") in _actors(library, plan, "task_completed")
    assert library.instance(plan)["status"] == "running"  # on to the office's check and its chase
