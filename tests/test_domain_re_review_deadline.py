"""The re-review decision (作出复核决定) has a statutory period, 30 days from the request
(《政府督查工作条例》第十七条), and like the library's other statutory deadlines it is reminded
before it ends and escalated once it has passed: it had a due date and nothing chased it."""
from __future__ import annotations

from .plan_helper import audit_payloads
from .test_implementation import _notice, _request_re_review, _started, end_of


def test_an_undecided_re_review_is_reminded_then_escalated_to_the_reform_office_once(library, at):
    plan = _started(library, at)
    _notice(plan, at)
    # on 5 April: the 30th day, 5 May, is in the Labour Day holiday (1-5 May 2026), so the period ends on
    # 6 May, the first working day after it (民法典第二百零三条)
    _request_re_review(plan, at)
    assert plan.inbox()["Task_DecideReReview"] == ("reform_office", end_of("2026-05-06"))
    # reminded reminderDays (3) before the moved end: at the end of 3 May
    assert "Event_ReReviewReminder" not in plan.fire_timers_at(at, "2026-05-03T23:59:00")
    assert "Event_ReReviewReminder" in plan.fire_timers_at(at, "2026-05-04T00:00:01")
    assert [e["element_id"] for e in audit_payloads(library, plan.id, "task_reminded")
            if e["element_id"] == "Task_DecideReReview"] == ["Task_DecideReReview"]
    assert "Task_UrgeReReviewDecision" not in plan.inbox()
    assert "Event_ReReviewOverdue" not in plan.fire_timers_at(at, "2026-05-06T23:59:00")  # not in the holiday's wake
    assert "Event_ReReviewOverdue" in plan.fire_timers_at(at, "2026-05-07T00:00:01")
    assert plan.inbox()["Task_UrgeReReviewDecision"] == ("reform_office", None)
    assert plan.inbox()["Task_DecideReReview"] == ("reform_office", end_of("2026-05-06"))  # still to decide
    assert [(e["name"], e["code"]) for e in audit_payloads(library, plan.id, "escalation")
            if e["element_id"] == "Event_ReReviewOverdueEscalation"] == [("复核决定逾期上报", "rereview_overdue")]
    urge = plan.task("Task_UrgeReReviewDecision")
    view = library.task_view(urge["id"])
    assert view["values"]["reReviewReasons"] == "第2项：预算已按规定公开，不属公开不完整"  # what is at stake
    assert plan.fire_timers_at(at, "2026-05-09T00:00:01") == []  # once
    with at("2026-05-09T10:00:00"):
        plan.do("Task_UrgeReReviewDecision", reReviewUrgeNote="已督促复核人员5月10日前作出决定")
        plan.do("Task_DecideReReview", reReviewPanel="杨帆（未参与督察）", reReviewDecision="upheld",
                reReviewDecisionReasons="维持原意见")
    assert "Task_DecideReReview" not in plan.inbox() and "Task_UrgeReReviewDecision" not in plan.inbox()
    assert plan.audit_ok()


def test_a_re_review_decided_in_time_is_neither_reminded_nor_escalated(library, at):
    plan = _started(library, at)
    _notice(plan, at)
    _request_re_review(plan, at)
    with at("2026-04-10T10:00:00"):
        plan.do("Task_DecideReReview", reReviewPanel="杨帆（未参与督察）", reReviewDecision="upheld",
                reReviewDecisionReasons="维持原意见")
    fired = plan.fire_timers_at(at, "2026-05-07T00:00:01")
    assert "Event_ReReviewReminder" not in fired and "Event_ReReviewOverdue" not in fired
    assert "Task_UrgeReReviewDecision" not in plan.created


def test_a_request_period_ending_in_the_labour_day_holiday_runs_to_the_first_working_day_after(library, at):
    """Served on 1 April 2026, the 30 days for a request end on 1 May, in the holiday (1-5 May): the
    lead unit may still ask until the end of 6 May (民法典第二百零三条)."""
    plan = _started(library, at)
    _notice(plan, at, deadline="2026-05-20")
    assert plan.task("Task_RequestReReview")["follow_up_at"] == end_of("2026-05-06")
    assert plan.fire_timers_at(at, "2026-05-02T00:00:01") == []
    assert plan.fire_timers_at(at, "2026-05-06T23:59:00") == []
    with at("2026-05-06T17:00:00"):  # on its last day, the request still reaches the reform office
        plan.do("Task_RequestReReview", reReviewChoice="request", reReviewReasons="第2项：预算已按规定公开，不属公开不完整")
    # requested on 6 May: 30 days to 5 June, a Friday, which stays
    assert plan.inbox()["Task_DecideReReview"] == ("reform_office", end_of("2026-06-05"))
