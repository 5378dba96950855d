"""After approval (DOMAIN.md "After approval: implementation and supervision"): implementation.bpmn
driven through the engine on SQLite and PostgreSQL, as the lead unit, the reform office and the
special group would. Each test checks whose inbox a task is in, its due date (Beijing time:
a date is due at the end of that day, 16:00 UTC), the plan's status and end event, and the audit
trail."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.errors import Forbidden, Invalid
from models import ProcessInstance

from .plan_helper import Plan, audit_payloads, end_event

BASE = {"documentNumber": "同改发〔2026〕8号", "leadUnit": "市财政局", "measureCount": 3,
        "implementationStart": "2026-01-15", "plannedCompletion": "2026-12-31"}
REPORT = {"progressSummary": "按计划推进"}


def end_of(day: str) -> str:
    """The due time of a date: the end of that day in Beijing (midnight, 16:00 UTC)."""
    return f"{day}T16:00:00+00:00"


class Implementation(Plan):
    """One filed plan being implemented, started by the lead unit (zhang, of 市财政局) unless said
    otherwise, or for another lead unit by the reform office (chen) naming zhang as its contact."""

    def __init__(self, engine, actor=None, key="DT-2026-08-SS", **data):
        self.engine = engine
        data = {**BASE, **data}
        if actor is None:  # zhang for his own unit (starterUnit); for another, the office, naming him
            actor = "zhang" if data["leadUnit"] == BASE["leadUnit"] else "chen"
            if actor == "chen":
                data.setdefault("leadUser", "zhang")
        self.view = engine.start("implementation", actor=actor, title="深化财政预算管理制度改革方案",
                                 business_key=key, data=data)
        self.id = self.view["id"]
        self.done: list[str] = []

    def inbox(self) -> dict[str, tuple]:
        """element id -> (assignee or candidate groups, due date) of every open task."""
        return {t["element_id"]: (t["assignee"] or ",".join(t["candidate_groups"]), t["due_at"])
                for t in self.refresh()["tasks"]}


def assert_closed(engine, plan):
    assert plan.refresh()["status"] == "completed"
    assert plan.view["tasks"] == []
    assert end_event(engine, plan.id) == "Event_PlanClosed"
    assert plan.audit_ok()


def _started(engine, at, **data) -> Implementation:
    """Started on 15 Jan 2026 (a Thursday); responsibility named the same day."""
    with at("2026-01-15T09:00:00"):
        plan = Implementation(engine, **data)
        plan.do("Task_AssignResponsibility")
    return plan


def _reported_all_done(plan, at):
    """January's table (opened on 1 February) already reports every measure done."""
    assert plan.fire_timers_at(at, "2026-02-01T00:00:01") == ["Event_ReportMonthEnds"]
    _report(plan, at, "2026-02-02T10:00:00", 3, 0, 0)


def _report(plan, at, moment, done, started, not_started, **extra):
    with at(moment):
        plan.do("Task_MonthlyReport", measuresDone=done, measuresStarted=started,
                measuresNotStarted=not_started, **{**REPORT, **extra})


def _no_findings(plan, at, moment="2026-06-10T10:00:00"):
    with at(moment):
        plan.do("Task_Supervise", supervisionDate=moment[:10], problemsFound=False)


def _evaluate(plan, at):
    """The look back (回头看), recorded by the lead unit and passed by the special group."""
    assert "Event_EvaluationDue" in plan.fire_timers_at(at, "2027-01-16T00:00:01")
    with at("2027-01-20T09:00:00"):
        plan.do("Task_EvaluateEffects")
        plan.do("Task_ReviewEvaluation")


def test_monthly_reports_run_month_by_month_until_every_measure_is_done(library, at):
    with at("2026-01-15T09:00:00"):
        plan = Implementation(library)
        # 5 working days from Thu 15 Jan: 16, 19, 20, 21, 22 Jan
        assert plan.inbox() == {"Task_AssignResponsibility": ("zhang", end_of("2026-01-22"))}
        plan.do("Task_AssignResponsibility", responsibleLeader="分管副市长 李强")
        # supervision is due within 12 months; nothing to report before January is over
        assert plan.inbox() == {"Task_Supervise": ("reform_office", end_of("2027-01-15"))}
    assert plan.variables["reportMonth"] == "2026-01-01"
    assert plan.fire_timers_at(at, "2026-01-31T23:59:00") == []
    assert plan.fire_timers_at(at, "2026-02-01T00:00:01") == ["Event_ReportMonthEnds"]
    # January's table is due by the 10th of February (reportDueDay), in the lead unit's inbox
    assert plan.inbox()["Task_MonthlyReport"] == ("zhang", end_of("2026-02-10"))
    _report(plan, at, "2026-02-05T10:00:00", 0, 1, 2, problemsMet="资金未到位")
    assert "Task_MonthlyReport" not in plan.active
    # February has 28 days: its report opens on 1 March, due 10 March
    assert plan.fire_timers_at(at, "2026-02-28T23:59:00") == []
    assert plan.fire_timers_at(at, "2026-03-01T00:00:01") == ["Event_ReportMonthEnds"]
    assert plan.variables["reportMonth"] == "2026-02-01"
    assert plan.inbox()["Task_MonthlyReport"] == ("zhang", end_of("2026-03-10"))
    _report(plan, at, "2026-03-09T10:00:00", 2, 1, 0)
    assert plan.fire_timers_at(at, "2026-04-01T00:00:01") == ["Event_ReportMonthEnds"]
    assert plan.inbox()["Task_MonthlyReport"] == ("zhang", end_of("2026-04-10"))
    _report(plan, at, "2026-04-02T10:00:00", 3, 0, 0)
    # every measure done: no more monthly reports
    assert plan.fire_timers_at(at, "2026-05-01T00:00:01") == []
    assert plan.variables["allMeasuresDone"] is True and plan.variables["reportsFiled"] == 3
    # the plan stays open until supervision and the one-year evaluation are recorded
    _no_findings(plan, at)
    assert plan.active == []
    _evaluate(plan, at)
    assert plan.inbox() == {"Task_ClosePlan": ("reform_office", None)}
    with at("2027-01-25T09:00:00"):
        plan.do("Task_ClosePlan")
    assert plan.created == ["Task_AssignResponsibility", "Task_Supervise"] + ["Task_MonthlyReport"] * 3 + [
        "Task_EvaluateEffects", "Task_ReviewEvaluation", "Task_ClosePlan"]
    assert plan.variables["responsibleLeader"] == "分管副市长 李强"
    assert_closed(library, plan)


def test_a_monthly_table_must_add_up_to_the_plans_measures(library, at):
    plan = _started(library, at)
    plan.fire_timers_at(at, "2026-02-01T00:00:01")
    with at("2026-02-05T10:00:00"):
        said = {}
        for wrong, field in (((1, 1, 0), "measuresNotStarted"), ((4, 0, 0), "measuresDone"),
                             ((1, 3, 0), "measuresStarted"), ((0, 0, 4), "measuresNotStarted"),
                             ((4, -1, 0), "measuresDone")):  # the sum waits for the counts to be right
            with pytest.raises(Invalid) as refused:
                plan.do("Task_MonthlyReport", measuresDone=wrong[0], measuresStarted=wrong[1],
                        measuresNotStarted=wrong[2], **REPORT)
            assert refused.value.details[0]["field"] == field  # the first count that does not fit
            said[wrong] = refused.value.details[0]["message"]
        # the lead unit reads the rule in words (the field's rangeHint), not the diagram's expression
        assert said[(0, 0, 4)] == ("「未启动（项）」(measuresNotStarted) 不得大于 3（已完成、已启动未完成、未启动三项之和须等于"
                                   "举措总数） (“未启动（项）” at most 3 (“已完成、已启动未完成、未启动三项之和须等于举措总数”))")  # the English names the field and says the bound as the Chinese does, never the expression (it was `: ${…}`)
        assert said[(4, 0, 0)] == ("「已完成（项）」(measuresDone) 不得大于 3（不能超过举措总数） "
                                   "(“已完成（项）” at most 3 (“不能超过举措总数”))")  # the English names the field and says the bound as the Chinese does, never the expression (it was `: ${…}`)
        # and the task's page says the same before anything is submitted
        from click.testing import CliRunner

        from engine.cli import main
        page = CliRunner().invoke(main, ["--db", library.db.url, "task", str(plan.task("Task_MonthlyReport")["id"])])
        assert "    未启动（项） measuresNotStarted（整数 long，必填 required，已完成、已启动未完成、未启动三项之和须等于举措总数）" \
            in page.stdout.splitlines()
        assert "Task_MonthlyReport" in plan.active
        plan.do("Task_MonthlyReport", measuresDone=1, measuresStarted=1, measuresNotStarted=1, **REPORT)
    assert plan.audit_ok()


def test_a_missed_monthly_report_reminds_the_lead_unit_then_goes_to_the_reform_office(library, at):
    plan = _started(library, at)
    plan.fire_timers_at(at, "2026-02-01T00:00:01")
    # reminded reminderDays (3) before the 10th: at the end of 7 February
    assert plan.fire_timers_at(at, "2026-02-07T23:59:00") == []
    assert plan.fire_timers_at(at, "2026-02-08T00:00:01") == ["Event_ReportReminder"]
    assert plan.task("Task_MonthlyReport")["reminded_at"] is not None
    assert plan.fire_timers_at(at, "2026-02-10T23:59:00") == []
    assert plan.fire_timers_at(at, "2026-02-11T00:00:01") == ["Event_ReportOverdue"]
    assert [e["code"] for e in audit_payloads(library, plan.id, "escalation")] == ["report_overdue"]
    # the reform office is asked to chase it; the report stays with the lead unit
    assert plan.inbox() == {"Task_Supervise": ("reform_office", end_of("2027-01-15")),
                            "Task_MonthlyReport": ("zhang", end_of("2026-02-10")),
                            "Task_UrgeMonthlyReport": ("reform_office", None)}
    with at("2026-02-11T09:00:00"):
        plan.do("Task_UrgeMonthlyReport", urgeNote="已电话催报，承诺2月13日前报送")
        assert plan.active == ["Task_MonthlyReport", "Task_Supervise"]
    _report(plan, at, "2026-02-12T10:00:00", 0, 3, 0)
    # the next month runs as usual, with its own deadline
    assert plan.fire_timers_at(at, "2026-03-01T00:00:01") == ["Event_ReportMonthEnds"]
    assert plan.inbox()["Task_MonthlyReport"] == ("zhang", end_of("2026-03-10"))
    assert plan.audit_ok()


def test_a_late_report_filed_before_the_office_chases_it_takes_the_chase_out_of_its_inbox(library, at):
    """The month's report, its reminder and its chase are one subprocess that ends when the report
    is filed: a chase the reform office has not done yet is withdrawn, not left to pile up."""
    plan = _started(library, at)
    plan.fire_timers_at(at, "2026-02-01T00:00:01")
    assert sorted(plan.fire_timers_at(at, "2026-02-11T00:00:01")) == ["Event_ReportOverdue", "Event_ReportReminder"]
    assert "Task_UrgeMonthlyReport" in plan.inbox()
    _report(plan, at, "2026-02-11T10:00:00", 1, 2, 0)
    assert plan.inbox() == {"Task_Supervise": ("reform_office", end_of("2027-01-15"))}
    cancelled = [e["element_id"] for e in audit_payloads(library, plan.id, "task_cancelled")]
    assert cancelled == ["Task_UrgeMonthlyReport"]
    # the report's values reach the plan as before: the ledger script counted them
    assert (plan.variables["measuresDone"], plan.variables["reportsFiled"]) == (1, 1)
    assert plan.fire_timers_at(at, "2026-03-01T00:00:01") == ["Event_ReportMonthEnds"]
    assert plan.inbox()["Task_MonthlyReport"] == ("zhang", end_of("2026-03-10"))
    assert plan.audit_ok()


def test_supervision_without_findings_closes_the_supervision(library, at):
    plan = _started(library, at)
    _reported_all_done(plan, at)
    with at("2026-03-20T10:00:00"):
        with pytest.raises(Invalid, match="supervisionDate"):  # not in the future
            plan.do("Task_Supervise", supervisionDate="2026-03-21")
        with pytest.raises(Invalid, match="supervisionDate"):  # not before implementation
            plan.do("Task_Supervise", supervisionDate="2026-01-14")
    _no_findings(plan, at, "2026-03-20T10:00:00")
    assert plan.active == []
    assert plan.variables["supervisionFindings"] == "按计划推进"
    assert "Task_IssueRectificationNotice" not in plan.created
    assert plan.audit_ok()


def _notice(plan, at, deadline="2026-04-30"):
    _reported_all_done(plan, at)
    with at("2026-04-01T10:00:00"):
        plan.do("Task_Supervise", supervisionDate="2026-03-31", supervisionFindings="绩效评价办法未出台",
                problemsFound=True)
        assert plan.inbox()["Task_IssueRectificationNotice"] == ("reform_office", None)
        plan.do("Task_IssueRectificationNotice", rectificationNoticeNumber="同改督〔2026〕3号",
                problemList="1. 绩效评价办法未出台；2. 预算公开不完整", rectificationDeadline=deadline,
                noticeDate="2026-04-01")


def _window_passes(plan, at):
    """The notice was served on 1 April: the 30 days for a re-review end on 1 May, in the Labour Day holiday
    (1-5 May 2026), so they run to the end of 6 May, the first working day after it (民法典第二百零三条)."""
    assert "Event_ReReviewWindowEnds" in plan.fire_timers_at(at, "2026-05-07T00:00:01")


def test_a_rectification_notice_is_rectified_and_passes_re_inspection(library, at):
    plan = _started(library, at)
    _notice(plan, at)
    # the lead unit rectifies by the deadline set in the notice, and may ask for a re-review
    assert plan.inbox() == {"Task_Rectify": ("zhang", end_of("2026-04-30")), "Task_RequestReReview": ("zhang", None)}
    with at("2026-04-20T10:00:00"):
        plan.do("Task_Rectify", rectificationReport="绩效评价办法已印发，预算已全部公开")
        # re-inspection waits until the notice is final: the window for a re-review is still open
        assert plan.inbox() == {"Task_RequestReReview": ("zhang", None)}
    _window_passes(plan, at)
    assert plan.inbox() == {"Task_ReInspect": ("reform_office", None)}
    with at("2026-05-07T10:00:00"):
        plan.do("Task_ReInspect", reinspectionResult="passed", reinspectionOpinion="整改到位，销号")
        assert plan.active == []
    assert plan.fire_timers_at(at, "2026-06-01T00:00:01") == []  # no rectification timer left
    assert plan.created == ["Task_AssignResponsibility", "Task_Supervise", "Task_MonthlyReport",
                            "Task_IssueRectificationNotice", "Task_Rectify", "Task_RequestReReview", "Task_ReInspect"]
    assert plan.audit_ok()


def test_a_failed_re_inspection_sends_it_back_with_its_reason_and_the_leader_is_interviewed(library, at):
    plan = _started(library, at)
    _notice(plan, at)
    with at("2026-04-20T10:00:00"):
        plan.do("Task_Rectify", rectificationReport="已起草绩效评价办法")
    _window_passes(plan, at)
    with at("2026-05-07T10:00:00"):
        plan.do("Task_ReInspect", reinspectionResult="failed", reinspectionOpinion="办法仅起草未印发，预算公开仍不完整")
        assert plan.inbox() == {"Task_OrderFurtherRectification": ("reform_office", None)}
        with pytest.raises(Invalid, match="newRectificationDeadline"):  # a new deadline in the past
            plan.do("Task_OrderFurtherRectification", newRectificationDeadline="2026-05-01", interviewLeader=True)
        plan.do("Task_OrderFurtherRectification", newRectificationDeadline="2026-05-20", interviewLeader=True)
        assert plan.inbox() == {"Task_RecordInterview": ("reform_office", None)}
        plan.do("Task_RecordInterview", interviewDate="2026-05-02", interviewee="分管副市长",
                interviewRecord="指出整改不力，要求5月20日前整改到位")
        # back to the lead unit, due by the new deadline, with the reason on the form
        assert plan.inbox() == {"Task_Rectify": ("zhang", end_of("2026-05-20"))}
        assert plan.variables["reinspectionOpinion"] == "办法仅起草未印发，预算公开仍不完整"
        assert [f["id"] for f in plan.task("Task_Rectify")["form"]][:3] == [
            "rectificationNoticeNumber", "problemList", "reinspectionOpinion"]
    # the old deadline has no timer left, and no second re-review is offered: only the new deadline counts
    assert plan.fire_timers_at(at, "2026-05-08T00:00:01") == []
    with at("2026-05-15T10:00:00"):
        plan.do("Task_Rectify", rectificationReport="办法已印发，预算全部公开")
        plan.do("Task_ReInspect", reinspectionResult="passed", reinspectionOpinion="整改到位")
        assert "Task_Rectify" not in plan.active
    assert plan.created[3:] == ["Task_IssueRectificationNotice", "Task_Rectify", "Task_RequestReReview", "Task_ReInspect",
                                "Task_OrderFurtherRectification", "Task_RecordInterview",
                                "Task_Rectify", "Task_ReInspect"]
    assert plan.variables["interviewRecord"] == "指出整改不力，要求5月20日前整改到位"
    assert plan.audit_ok()


def test_the_interview_is_held_after_the_notice_was_served(library, at):
    plan = _started(library, at)
    _notice(plan, at)  # served on 1 April
    with at("2026-04-20T10:00:00"):
        plan.do("Task_Rectify")
    _window_passes(plan, at)
    with at("2026-05-07T10:00:00"):
        plan.do("Task_ReInspect", reinspectionResult="failed", reinspectionOpinion="未整改到位")
        plan.do("Task_OrderFurtherRectification", newRectificationDeadline="2026-05-20", interviewLeader=True)
        with pytest.raises(Invalid) as early:
            plan.do("Task_RecordInterview", interviewDate="2026-03-31", interviewee="分管副市长", interviewRecord="约谈")
        assert early.value.details[0]["message"] == (
            "「约谈日期」(interviewDate) 不得早于 2026-04-01（整改意见书送达日期至今天之间） "
            "(“约谈日期” not before 2026-04-01 (“整改意见书送达日期至今天之间”))")  # the English names the field and says the bound as the Chinese does, never the expression (it was `: ${…}`)
        plan.do("Task_RecordInterview", interviewDate="2026-04-01", interviewee="分管副市长", interviewRecord="约谈")
        assert plan.inbox() == {"Task_Rectify": ("zhang", end_of("2026-05-20"))}


def test_dates_bounded_by_another_tasks_date_say_the_rule_in_words(library, at):
    """The implementation start is on the start form, the supervision date on 开展督察: on
    the later forms the refusal names them in words, not as ${implementationStart}."""
    plan = _started(library, at)
    _reported_all_done(plan, at)
    with at("2026-04-01T10:00:00"):
        with pytest.raises(Invalid) as early:
            plan.do("Task_Supervise", supervisionDate="2026-01-14", problemsFound=True)
        assert early.value.details[0]["message"].startswith(
            "「督察日期」(supervisionDate) 不得早于 2026-01-15（实施开始日期至今天之间）")
        plan.do("Task_Supervise", supervisionDate="2026-03-31", problemsFound=True)
        with pytest.raises(Invalid) as early:
            plan.do("Task_IssueRectificationNotice", noticeDate="2026-03-30")
        assert early.value.details[0]["message"].startswith(
            "「送达日期」(noticeDate) 不得早于 2026-03-31（督察日期至今天之间）")


def test_the_effects_are_evaluated_after_implementation_started(library, at):
    plan = _started(library, at)
    _reported_all_done(plan, at)
    _no_findings(plan, at)
    assert "Event_EvaluationDue" in plan.fire_timers_at(at, "2027-01-16T00:00:01")
    with at("2027-01-20T09:00:00"):
        with pytest.raises(Invalid) as early:
            plan.do("Task_EvaluateEffects", evaluationDate="2026-01-14")
        assert early.value.details[0]["message"] == (
            "「评估日期」(evaluationDate) 不得早于 2026-01-15（实施开始日期至今天之间） "
            "(“评估日期” not before 2026-01-15 (“实施开始日期至今天之间”))")  # the English names the field and says the bound as the Chinese does, never the expression (it was `: ${…}`)
        with pytest.raises(Invalid, match="不得晚于 2027-01-20（今天）"):
            plan.do("Task_EvaluateEffects", evaluationDate="2027-01-21")
        plan.do("Task_EvaluateEffects", evaluationDate="2026-01-15")
    assert plan.variables["evaluationDate"] == "2026-01-15"


def test_a_failed_re_inspection_without_interview_goes_straight_back(library, at):
    plan = _started(library, at)
    _notice(plan, at)
    with at("2026-04-20T10:00:00"):
        plan.do("Task_Rectify")
    _window_passes(plan, at)
    with at("2026-05-07T10:00:00"):
        plan.do("Task_ReInspect", reinspectionResult="failed", reinspectionOpinion="未整改到位")
        plan.do("Task_OrderFurtherRectification", newRectificationDeadline="2026-05-08")
        assert plan.inbox() == {"Task_Rectify": ("zhang", end_of("2026-05-08"))}
    assert "Task_RecordInterview" not in plan.created
    assert plan.audit_ok()


def test_an_overdue_rectification_is_escalated_to_the_reform_office(library, at):
    plan = _started(library, at)
    _notice(plan, at, deadline="2026-04-30")
    # reminded 3 days before the deadline (end of 27 April), overdue after 30 April
    assert plan.fire_timers_at(at, "2026-04-27T23:59:00") == []
    assert plan.fire_timers_at(at, "2026-04-28T00:00:01") == ["Event_RectifyReminder"]
    assert plan.task("Task_Rectify")["reminded_at"] is not None
    assert plan.fire_timers_at(at, "2026-05-01T00:00:01") == ["Event_RectifyOverdue"]
    assert [e["code"] for e in audit_payloads(library, plan.id, "escalation")] == ["rectification_overdue"]
    inbox = plan.inbox()
    assert inbox["Task_UrgeRectification"] == ("reform_office", None)
    assert inbox["Task_Rectify"] == ("zhang", end_of("2026-04-30"))
    _window_passes(plan, at)
    with at("2026-05-07T09:00:00"):
        plan.do("Task_UrgeRectification", urgeNote="挂账督办")
        plan.do("Task_Rectify")
        plan.do("Task_ReInspect")
    assert "Task_Rectify" not in plan.active and "Task_UrgeRectification" not in plan.active
    assert plan.audit_ok()


def test_a_rectification_reported_before_the_office_follows_it_up_withdraws_the_follow_up(library, at):
    """Rectifying, its reminder and its follow-up are one subprocess that ends with the report:
    a 督办逾期整改 not yet done leaves the reform office's inbox with it."""
    plan = _started(library, at)
    _notice(plan, at, deadline="2026-04-30")
    assert sorted(plan.fire_timers_at(at, "2026-05-01T00:00:01")) == ["Event_RectifyOverdue", "Event_RectifyReminder"]
    assert "Task_UrgeRectification" in plan.inbox()
    _window_passes(plan, at)
    with at("2026-05-07T09:00:00"):
        plan.do("Task_Rectify")
    assert plan.inbox() == {"Task_ReInspect": ("reform_office", None)}  # the follow-up is gone
    assert "Task_UrgeRectification" in [e["element_id"] for e in audit_payloads(library, plan.id, "task_cancelled")]
    assert plan.audit_ok()


def test_the_rectification_deadline_cannot_be_in_the_past(library, at):
    plan = _started(library, at)
    _reported_all_done(plan, at)
    with at("2026-04-01T10:00:00"):
        plan.do("Task_Supervise", supervisionDate="2026-04-01", problemsFound=True)
        with pytest.raises(Invalid) as refused:
            plan.do("Task_IssueRectificationNotice", problemList="问题", rectificationNoticeNumber="X",
                    rectificationDeadline="2026-03-31", noticeDate="2026-04-01")
        assert [d["field"] for d in refused.value.details] == ["rectificationDeadline"]
        plan.do("Task_IssueRectificationNotice", problemList="问题", rectificationNoticeNumber="X",
                rectificationDeadline="2026-04-01", noticeDate="2026-04-01")  # today is allowed: due at its end
        assert plan.inbox()["Task_Rectify"] == ("zhang", end_of("2026-04-01"))
    assert plan.audit_ok()


def test_one_year_on_the_effects_are_evaluated_and_a_third_party_evaluation_recorded(library, at):
    plan = _started(library, at, thirdPartyEvaluation=True)
    _reported_all_done(plan, at)
    _no_findings(plan, at)
    assert plan.fire_timers_at(at, "2027-01-15T23:59:00") == []
    assert plan.fire_timers_at(at, "2027-01-16T00:00:01") == ["Event_EvaluationDue"]
    # the lead unit organises the look back within a month (seed 004 §16); the special group reviews it
    task = plan.task("Task_EvaluateEffects")
    assert (task["assignee"], task["lane"]) == ("zhang", "牵头单位（起草人）")
    assert task["due_at"] == end_of("2027-02-15")
    with at("2027-01-20T09:00:00"):
        plan.do("Task_EvaluateEffects", evaluationRating="partial", remainingProblems="基层执行不一")
        assert plan.inbox() == {"Task_ReviewEvaluation": ("special_group", None)}
        plan.do("Task_ReviewEvaluation")
        assert plan.inbox() == {"Task_RecordThirdPartyEvaluation": ("reform_office", None)}
        plan.do("Task_RecordThirdPartyEvaluation")
        assert plan.inbox() == {"Task_ClosePlan": ("reform_office", None)}
        plan.do("Task_ClosePlan")
    assert plan.variables["thirdPartyEvaluator"] == "市社科院评估中心"
    assert plan.variables["evaluationRating"] == "partial"
    assert_closed(library, plan)


def test_a_pilot_submits_its_summary_within_two_months_of_its_end_with_a_reminder(library, at):
    plan = _started(library, at, pilot=True, pilotEnd="2026-06-30")
    _reported_all_done(plan, at)
    assert plan.fire_timers_at(at, "2026-06-30T23:59:00") == []
    assert plan.fire_timers_at(at, "2026-07-01T00:00:01") == ["Event_PilotEnds"]
    # two calendar months after 30 June: 30 August, a Sunday, so Monday 31 August (Civil Code Art. 203)
    assert plan.inbox()["Task_PilotSummary"] == ("zhang", end_of("2026-08-31"))
    assert plan.fire_timers_at(at, "2026-08-28T23:59:00") == []  # the reminder 3 days before the 31st
    assert plan.fire_timers_at(at, "2026-08-29T00:00:01") == ["Event_PilotSummaryReminder"]
    assert plan.task("Task_PilotSummary")["reminded_at"] is not None
    assert plan.fire_timers_at(at, "2026-08-31T23:59:00") == []  # not overdue on the Monday it is due
    assert plan.fire_timers_at(at, "2026-09-01T00:00:01") == ["Event_PilotSummaryOverdue"]
    assert [e["code"] for e in audit_payloads(library, plan.id, "escalation")] == ["pilot_summary_overdue"]
    assert plan.inbox()["Task_UrgePilotSummary"] == ("reform_office", None)
    with at("2026-09-02T09:00:00"):
        with pytest.raises(Invalid, match="summaryDate"):  # not before the pilot's end
            plan.do("Task_PilotSummary", summaryDate="2026-06-29")
        plan.do("Task_PilotSummary")
        # the reform office's chase is still open; closing the plan ends it
        plan.do("Task_Supervise", supervisionDate="2026-09-01")
    _evaluate(plan, at)
    assert sorted(plan.active) == ["Task_ClosePlan", "Task_UrgePilotSummary"]
    with at("2027-01-25T09:00:00"):
        plan.do("Task_ClosePlan")
    assert_closed(library, plan)
    cancelled = audit_payloads(library, plan.id, "task_cancelled")
    assert [e.get("element_id") for e in cancelled] == ["Task_UrgePilotSummary"]


def test_a_pilot_started_without_its_end_date_asks_the_lead_unit_for_it(library, at):
    plan = _started(library, at, pilot=True)
    assert plan.inbox()["Task_SetPilotEnd"] == ("zhang", None)
    with at("2026-01-16T09:00:00"):
        with pytest.raises(Invalid, match="pilotEnd"):
            plan.do("Task_SetPilotEnd", pilotEnd="2025-12-31")  # before implementation started
        plan.do("Task_SetPilotEnd", pilotEnd="2026-12-31")
    assert plan.fire_timers_at(at, "2027-01-01T00:00:01").count("Event_PilotEnds") == 1
    # clamped to February's end, Sunday 28 February 2027, so Monday 1 March
    assert plan.inbox()["Task_PilotSummary"] == ("zhang", end_of("2027-03-01"))
    assert plan.audit_ok()


def test_the_start_form_is_checked_and_the_local_rules_are_not_the_starters(library, at):
    with at("2026-01-15T09:00:00"):
        with pytest.raises(Invalid, match="plannedCompletion"):
            Implementation(library, plannedCompletion="2026-01-14")
        with pytest.raises(Invalid, match="measureCount"):
            Implementation(library, measureCount=0)
        with pytest.raises(Invalid, match="documentNumber"):
            Implementation(library, documentNumber=None)
        with pytest.raises(Invalid, match="reportDueDay"):
            Implementation(library, reportDueDay=25)
        with pytest.raises(Forbidden):  # only lead units and the reform office start it
            Implementation(library, actor="li")
        plan = Implementation(library)
    assert {k: plan.variables[k] for k in ("reportDueDay", "reminderDays", "responsibilityDays", "supervisionMonths",
                                           "evaluationMonths", "evaluationDueMonths", "pilotSummaryMonths",
                                           "pilotPhaseMonths", "reReviewDays", "reReviewDecisionDays")} == {
        "reportDueDay": 10, "reminderDays": 3, "responsibilityDays": 5, "supervisionMonths": 12,
        "evaluationMonths": 12, "evaluationDueMonths": 1, "pilotSummaryMonths": 2,
        "pilotPhaseMonths": 36, "reReviewDays": 30, "reReviewDecisionDays": 30}
    assert plan.variables["quarterlyReporting"] is False


def test_the_reform_office_starts_it_for_a_lead_unit_and_working_days_follow_the_holidays(library, at):
    # started on Tue 29 Sep 2026: National Day is off (1-7 Oct), Sat 10 Oct is a working day
    with at("2026-09-29T09:00:00"):
        plan = Implementation(library, actor="chen", leadUser="zhang", implementationStart="2026-09-29")
    assert plan.inbox() == {"Task_AssignResponsibility": ("zhang", end_of("2026-10-12"))}
    assert plan.variables["initiator"] == "chen"
    with at("2026-09-30T09:00:00"):
        plan.do("Task_AssignResponsibility")
    assert plan.fire_timers_at(at, "2026-10-01T00:00:01") == ["Event_ReportMonthEnds"]
    assert plan.inbox()["Task_MonthlyReport"] == ("zhang", end_of("2026-10-10"))
    assert plan.audit_ok()


# --- re-review of a rectification notice (《政府督查工作条例》第十七条) ---

def _request_re_review(plan, at, moment="2026-04-05T10:00:00"):
    with at(moment):
        with pytest.raises(Invalid, match="reReviewChoice"):  # request or no objection: one must be chosen
            plan.do("Task_RequestReReview", reReviewChoice=None)
        plan.do("Task_RequestReReview", reReviewChoice="request", reReviewReasons="第2项：预算已按规定公开，不属公开不完整")


def _seen_by_the_lead_unit(engine, plan) -> dict:
    """The rectification task as the lead unit opens it: its due date and what its form shows."""
    view = engine.task_view(plan.task("Task_Rectify")["id"])
    return {"due_at": view["due_at"], "problemList": view["values"]["problemList"],
            "reReviewDecisionReasons": view["values"]["reReviewDecisionReasons"]}


def test_a_re_review_upheld_within_its_period_leaves_the_rectification_running(library, at):
    plan = _started(library, at)
    _notice(plan, at)
    rectify_id = plan.task("Task_Rectify")["id"]
    assert plan.task("Task_RequestReReview")["follow_up_at"] == end_of("2026-05-06")  # 30 days: 1 May, a holiday, so 6 May
    _request_re_review(plan, at)
    # the reform office decides within 30 days of the request; the rectification does not stop meanwhile
    assert plan.inbox() == {"Task_Rectify": ("zhang", end_of("2026-04-30")),
                            "Task_DecideReReview": ("reform_office", end_of("2026-05-06"))}  # the 30th day, 5 May, is a holiday
    with at("2026-04-10T10:00:00"):
        with pytest.raises(Invalid, match="reReviewPanel"):  # who reviewed, the interested ones excluded
            plan.do("Task_DecideReReview", reReviewPanel=None)
        plan.do("Task_DecideReReview", reReviewPanel="杨帆（未参与督察）", reReviewDecision="upheld",
                reReviewDecisionReasons="预算公开缺少三公经费明细，维持原意见")
    # the same task goes on, with the same list and deadline (the decision is the plan's record)
    assert plan.task("Task_Rectify")["id"] == rectify_id
    # the lead unit sees the decision at once on the open task: a read-only field is the plan's
    # value, though the decision was made on the re-review's branch (engine/forms.py with_plan_values)
    assert _seen_by_the_lead_unit(library, plan) == {
        "due_at": end_of("2026-04-30"), "problemList": "1. 绩效评价办法未出台；2. 预算公开不完整",
        "reReviewDecisionReasons": "预算公开缺少三公经费明细，维持原意见"}
    assert plan.variables["reReviewDecisionReasons"] == "预算公开缺少三公经费明细，维持原意见"
    with at("2026-04-20T10:00:00"):
        plan.do("Task_Rectify")
        # decided: nothing waits for the rest of the request period
        assert plan.inbox() == {"Task_ReInspect": ("reform_office", None)}
    assert plan.variables["reReviewDecision"] == "upheld"
    assert audit_payloads(library, plan.id, "escalation") == []
    assert plan.audit_ok()


def test_a_re_review_that_changes_the_notice_restarts_the_rectification_on_the_new_list_and_deadline(library, at):
    plan = _started(library, at)
    _notice(plan, at)
    _request_re_review(plan, at)
    with at("2026-04-28T10:00:00"):
        with pytest.raises(Invalid, match="revisedRectificationDeadline"):  # not in the past
            plan.do("Task_DecideReReview", reReviewDecision="changed", revisedRectificationDeadline="2026-04-27")
        plan.do("Task_DecideReReview", reReviewPanel="杨帆（未参与督察）", reReviewDecision="changed",
                reReviewDecisionReasons="第2项不成立，予以删除；办法须经市政府审议，期限延长",
                revisedProblemList="1. 绩效评价办法未出台", revisedRectificationDeadline="2026-06-15")
    assert [e["code"] for e in audit_payloads(library, plan.id, "escalation")] == ["notice_changed"]
    # the rectification under the old notice is withdrawn, a new one opens on the changed notice
    assert [e["element_id"] for e in audit_payloads(library, plan.id, "task_cancelled")] == ["Task_Rectify"]
    assert plan.inbox() == {"Task_Rectify": ("zhang", end_of("2026-06-15"))}  # no second request offered
    assert _seen_by_the_lead_unit(library, plan) == {
        "due_at": end_of("2026-06-15"), "problemList": "1. 绩效评价办法未出台",
        "reReviewDecisionReasons": "第2项不成立，予以删除；办法须经市政府审议，期限延长"}
    # the old deadline no longer counts; the reminder and the follow-up run to the new one
    assert plan.fire_timers_at(at, "2026-05-01T00:00:01") == []
    assert plan.fire_timers_at(at, "2026-06-13T00:00:01") == ["Event_RectifyReminder"]
    assert plan.fire_timers_at(at, "2026-06-16T00:00:01") == ["Event_RectifyOverdue"]
    with at("2026-06-16T10:00:00"):
        plan.do("Task_Rectify", rectificationReport="绩效评价办法已印发")
        assert plan.active == ["Task_ReInspect"]  # the follow-up not yet done is withdrawn with the round
        task = library.task_view(plan.task("Task_ReInspect")["id"])
        assert task["values"]["problemList"] == "1. 绩效评价办法未出台"  # re-inspected against the changed list
    assert plan.audit_ok()


def test_a_change_that_changes_nothing_goes_back_to_the_office_member_who_decided_it(library, at):
    """变更 with neither list nor deadline written, or both as the notice already has them, would
    restart the rectification for nothing: the decision goes back to whoever made it, with its
    deadline counted from the request as before, and the rectification under the notice goes on."""
    plan = _started(library, at)
    _notice(plan, at)
    rectify = plan.task("Task_Rectify")["id"]
    _request_re_review(plan, at)
    decide = {"reReviewPanel": "杨帆（未参与督察）", "reReviewDecision": "changed", "reReviewDecisionReasons": "问题清单表述不准确"}
    with at("2026-04-10T10:00:00"):
        plan.do("Task_DecideReReview", **decide)
        assert plan.inbox() == {"Task_Rectify": ("zhang", end_of("2026-04-30")),
                                "Task_DecideReReview": ("chen", end_of("2026-05-06"))}
        plan.do("Task_DecideReReview", **decide, revisedProblemList="1. 绩效评价办法未出台；2. 预算公开不完整",
                revisedRectificationDeadline="2026-04-30")  # what the notice already says
        assert plan.inbox() == {"Task_Rectify": ("zhang", end_of("2026-04-30")),
                                "Task_DecideReReview": ("chen", end_of("2026-05-06"))}
    assert plan.task("Task_Rectify")["id"] == rectify  # nothing restarted, nothing escalated
    assert audit_payloads(library, plan.id, "escalation") == []
    assert plan.created.count("Task_DecideReReview") == 3
    with at("2026-04-11T10:00:00"):
        plan.do("Task_DecideReReview", **decide, revisedRectificationDeadline="2026-05-20")
    assert [e["code"] for e in audit_payloads(library, plan.id, "escalation")] == ["notice_changed"]
    assert _seen_by_the_lead_unit(library, plan) == {
        "due_at": end_of("2026-05-20"), "problemList": "1. 绩效评价办法未出台；2. 预算公开不完整",
        "reReviewDecisionReasons": "问题清单表述不准确"}
    assert plan.audit_ok()


def test_a_change_decided_after_the_deadline_must_set_a_new_one_or_the_new_round_would_open_overdue(library, at):
    """The notice's deadline (30 April) has passed when the reform office decides (4 May): a
    change of the list alone would open a rectification already overdue and its follow-up at
    once. It goes back to the member who decided until a deadline not before today is set."""
    plan = _started(library, at)
    _notice(plan, at, deadline="2026-04-30")
    _request_re_review(plan, at)
    assert sorted(plan.fire_timers_at(at, "2026-05-01T00:00:01")) == ["Event_RectifyOverdue", "Event_RectifyReminder"]
    assert plan.inbox()["Task_UrgeRectification"] == ("reform_office", None)
    decide = {"reReviewPanel": "杨帆（未参与督察）", "reReviewDecision": "changed",
              "reReviewDecisionReasons": "第2项不成立，予以删除", "revisedProblemList": "1. 绩效评价办法未出台"}
    with at("2026-05-04T10:00:00"):
        plan.do("Task_DecideReReview", **decide)
        assert plan.inbox() == {"Task_Rectify": ("zhang", end_of("2026-04-30")),
                                "Task_UrgeRectification": ("reform_office", None),
                                "Task_DecideReReview": ("chen", end_of("2026-05-06"))}
        assert [e["code"] for e in audit_payloads(library, plan.id, "escalation")] == ["rectification_overdue"]
        with pytest.raises(Invalid, match="revisedRectificationDeadline"):  # a new deadline in the past is refused
            plan.do("Task_DecideReReview", **decide, revisedRectificationDeadline="2026-05-03")
        plan.do("Task_DecideReReview", **decide, revisedRectificationDeadline="2026-06-15")
    # the new round is on time: its follow-up comes only after the new deadline
    assert plan.inbox() == {"Task_Rectify": ("zhang", end_of("2026-06-15"))}
    assert _seen_by_the_lead_unit(library, plan)["problemList"] == "1. 绩效评价办法未出台"
    assert plan.fire_timers_at(at, "2026-05-05T00:00:01") == []
    assert sorted(plan.fire_timers_at(at, "2026-06-16T00:00:01")) == ["Event_RectifyOverdue", "Event_RectifyReminder"]
    assert plan.audit_ok()


def test_a_re_review_that_withdraws_the_notice_ends_the_rectification_and_closes_the_supervision(library, at):
    plan = _started(library, at)
    _notice(plan, at)
    _request_re_review(plan, at)
    with at("2026-04-15T10:00:00"):
        plan.do("Task_DecideReReview", reReviewPanel="杨帆（未参与督察）", reReviewDecision="withdrawn",
                reReviewDecisionReasons="督察时办法已印发，问题不成立，撤销整改意见书")
    assert [e["code"] for e in audit_payloads(library, plan.id, "escalation")] == ["notice_withdrawn"]
    assert plan.active == []  # no rectification, no re-inspection: the supervision is closed
    assert "Task_Rectify" in [e["element_id"] for e in audit_payloads(library, plan.id, "task_cancelled")]
    assert plan.fire_timers_at(at, "2026-05-02T00:00:01") == []  # no rectification timer, no request period left
    _evaluate(plan, at)
    assert plan.inbox() == {"Task_ClosePlan": ("reform_office", None)}
    with at("2027-01-25T09:00:00"):
        plan.do("Task_ClosePlan")
    assert "Task_ReInspect" not in plan.created
    assert plan.variables["reReviewDecisionReasons"] == "督察时办法已印发，问题不成立，撤销整改意见书"
    assert_closed(library, plan)


def test_an_unused_request_period_ends_at_its_last_day_and_nothing_waits_for_it(library, at):
    plan = _started(library, at)
    _notice(plan, at, deadline="2026-05-20")
    assert plan.fire_timers_at(at, "2026-05-06T23:59:00") == []  # 1 May, the 30th day, is a holiday: to the end of 6 May
    assert plan.fire_timers_at(at, "2026-05-07T00:00:01") == ["Event_ReReviewWindowEnds"]
    assert plan.inbox() == {"Task_Rectify": ("zhang", end_of("2026-05-20"))}  # the request left the inbox
    assert [e["element_id"] for e in audit_payloads(library, plan.id, "task_cancelled")] == ["Task_RequestReReview"]
    with at("2026-05-10T10:00:00"):
        plan.do("Task_Rectify")
        assert plan.inbox() == {"Task_ReInspect": ("reform_office", None)}
    assert "Task_DecideReReview" not in plan.created
    assert plan.audit_ok()


def test_a_lead_unit_without_objection_waives_the_re_review_and_re_inspection_follows_its_report(library, at):
    plan = _started(library, at)
    _notice(plan, at)
    with at("2026-04-03T10:00:00"):
        plan.do("Task_RequestReReview", reReviewChoice="waive", reReviewReasons=None)
        # settled at once: no decision for the reform office, only the rectification is left
        assert plan.inbox() == {"Task_Rectify": ("zhang", end_of("2026-04-30"))}
    with at("2026-04-20T10:00:00"):
        plan.do("Task_Rectify", rectificationReport="绩效评价办法已印发，预算已全部公开")
        # re-inspection opens on the report, eleven days before the request period would have ended
        assert plan.inbox() == {"Task_ReInspect": ("reform_office", None)}
    assert plan.fire_timers_at(at, "2026-05-02T00:00:01") == []  # no request period left to end
    assert plan.variables["reReviewChoice"] == "waive"
    assert "Task_DecideReReview" not in plan.created
    assert audit_payloads(library, plan.id, "task_cancelled") == []
    assert plan.audit_ok()


def test_a_lead_unit_that_reported_early_and_then_waives_has_its_re_inspection_at_once(library, at):
    plan = _started(library, at)
    _notice(plan, at)
    with at("2026-04-10T10:00:00"):
        plan.do("Task_Rectify", rectificationReport="绩效评价办法已印发，预算已全部公开")
        assert plan.inbox() == {"Task_RequestReReview": ("zhang", None)}  # the request period is still open
    with at("2026-04-12T10:00:00"):
        plan.do("Task_RequestReReview", reReviewChoice="waive", reReviewReasons=None)
        assert plan.inbox() == {"Task_ReInspect": ("reform_office", None)}
        plan.do("Task_ReInspect", reinspectionResult="passed", reinspectionOpinion="整改到位，销号")
        assert plan.active == []
    assert plan.fire_timers_at(at, "2026-05-02T00:00:01") == []
    assert plan.audit_ok()


def test_a_request_without_reasons_is_refused_at_the_form_and_nothing_is_decided(library, at):
    plan = _started(library, at)
    _notice(plan, at)
    first = plan.task("Task_RequestReReview")["id"]
    with at("2026-04-05T10:00:00"):
        with pytest.raises(Invalid, match=r"是否申请复核为「申请复核」时须填写「申请复核的事项和理由（申请复核的必填）」"
                                          r"\(reReviewReasons\)"):
            plan.do("Task_RequestReReview", reReviewChoice="request", reReviewReasons=None)
        # the same request stays with the lead unit, with its follow-up date; the reform office has nothing
        assert plan.inbox() == {"Task_Rectify": ("zhang", end_of("2026-04-30")), "Task_RequestReReview": ("zhang", None)}
        again = plan.task("Task_RequestReReview")
        assert again["id"] == first and again["follow_up_at"] == end_of("2026-05-06")
    assert "Task_RequestReReview" not in [e["element_id"] for e in audit_payloads(library, plan.id, "task_completed")]
    assert "Task_DecideReReview" not in plan.created and "reReviewDecision" not in plan.variables
    # with the reasons written, the request reaches the reform office as before
    with at("2026-04-06T10:00:00"):
        plan.do("Task_RequestReReview", reReviewChoice="request", reReviewReasons="第2项：预算已按规定公开，不属公开不完整")
        assert plan.inbox() == {"Task_Rectify": ("zhang", end_of("2026-04-30")),
                                "Task_DecideReReview": ("reform_office", end_of("2026-05-06"))}
    assert plan.created.count("Task_RequestReReview") == 1
    assert plan.audit_ok()


def test_a_request_refused_for_its_reasons_still_ends_with_the_request_period(library, at):
    """A request refused at the form for want of its reasons leaves the request as it was: its
    period is not extended, it leaves the inbox at the end of 6 May (its 30th day, 1 May, is a holiday) and nothing is decided."""
    plan = _started(library, at)
    _notice(plan, at, deadline="2026-05-20")
    with at("2026-04-28T10:00:00"):
        with pytest.raises(Invalid, match=r"时须填写「[^」]*」\(reReviewReasons\)"):
            plan.do("Task_RequestReReview", reReviewChoice="request", reReviewReasons=None)
    assert plan.fire_timers_at(at, "2026-05-06T23:59:00") == []  # 1 May, the 30th day, is a holiday: to the end of 6 May
    assert plan.fire_timers_at(at, "2026-05-07T00:00:01") == ["Event_ReReviewWindowEnds"]
    assert plan.inbox() == {"Task_Rectify": ("zhang", end_of("2026-05-20"))}
    assert "Task_DecideReReview" not in plan.created
    assert plan.audit_ok()


# --- pilot phase evaluation (试点期超过3年的阶段性评估) ---

def test_a_pilot_longer_than_three_years_gets_its_phase_evaluation_three_years_in(library, at):
    plan = _started(library, at, pilot=True, pilotEnd="2029-06-30")
    _reported_all_done(plan, at)
    _no_findings(plan, at)
    _evaluate(plan, at)
    assert plan.fire_timers_at(at, "2029-01-15T23:59:00") == []
    assert plan.fire_timers_at(at, "2029-01-16T00:00:01") == ["Event_PilotPhaseDue"]
    # the lead unit has the approving unit evaluate, and records it within a month
    assert plan.inbox() == {"Task_PilotPhaseEvaluation": ("zhang", end_of("2029-02-15"))}
    with at("2029-02-01T10:00:00"):
        with pytest.raises(Invalid, match="phaseEvaluationDate"):  # not in the future
            plan.do("Task_PilotPhaseEvaluation", phaseEvaluationDate="2029-02-02")
        plan.do("Task_PilotPhaseEvaluation", phaseEvaluationDate="2029-01-28",
                phaseEvaluationProposals="第二阶段扩大到两个县")
    assert plan.active == []  # then the pilot runs to its end
    assert plan.fire_timers_at(at, "2029-07-01T00:00:01") == ["Event_PilotEnds"]
    assert plan.inbox() == {"Task_PilotSummary": ("zhang", end_of("2029-08-30"))}
    assert plan.variables["phaseEvaluator"] == "省委改革办"
    assert plan.created.count("Task_PilotPhaseEvaluation") == 1
    assert plan.audit_ok()


def test_a_pilot_of_three_years_or_less_has_no_phase_evaluation(library, at):
    plan = _started(library, at, pilot=True, pilotEnd="2029-01-15")  # exactly 36 months after the start
    _reported_all_done(plan, at)
    assert sorted(plan.fire_timers_at(at, "2029-01-16T00:00:01")) == ["Event_EvaluationDue", "Event_PilotEnds"]
    assert "Task_PilotSummary" in plan.active
    assert "Task_PilotPhaseEvaluation" not in plan.created
    assert plan.audit_ok()


# --- quarterly report through the special group (季通报) ---

def test_a_quarterly_plan_is_reviewed_by_its_special_group_on_the_quarters_last_month_only(library, at):
    plan = _started(library, at, quarterlyReporting=True)
    for month_ends, report_day in (("2026-02-01", "2026-02-05"), ("2026-03-01", "2026-03-05")):
        assert plan.fire_timers_at(at, f"{month_ends}T00:00:01") == ["Event_ReportMonthEnds"]
        _report(plan, at, f"{report_day}T10:00:00", 0, 2, 1)
        assert "Task_ReviewQuarter" not in plan.active  # January and February: no quarter's end
    # March's table (opened on 1 April) ends the first quarter: the special group reviews it
    assert plan.fire_timers_at(at, "2026-04-01T00:00:01") == ["Event_ReportMonthEnds"]
    _report(plan, at, "2026-04-03T10:00:00", 1, 2, 0)
    task = plan.task("Task_ReviewQuarter")
    assert (task["candidate_groups"], task["lane"]) == (["special_group"], "专项小组")
    # the special group sees the table as the lead unit filed it, all three counts, read-only
    page = library.task_view(task["id"])
    table = [(f["id"], page["values"][f["id"]]) for f in page["form"] if f["id"].startswith("measure")]
    assert table == [("measureCount", 3), ("measuresDone", 1), ("measuresStarted", 2), ("measuresNotStarted", 0)]
    assert all("readonly" in f["constraints"] for f in page["form"] if f["id"].startswith("measure"))
    assert plan.variables["reportsFiled"] == 2  # the ledger counts March once it is reviewed
    with at("2026-04-07T10:00:00"):
        plan.do("Task_ReviewQuarter", quarterReviewDecision="return", quarterReviewOpinion="已完成项数与附件不符，请核实")
        assert plan.inbox() == {"Task_Supervise": ("reform_office", end_of("2027-01-15")),
                                "Task_ReviseQuarterReport": ("zhang", None)}
        view = library.task_view(plan.task("Task_ReviseQuarterReport")["id"])
        assert view["values"]["quarterReviewOpinion"] == "已完成项数与附件不符，请核实"
        with pytest.raises(Invalid, match="measuresNotStarted"):  # the counts must still add up
            plan.do("Task_ReviseQuarterReport", measuresDone=2, measuresStarted=1, measuresNotStarted=1)
        plan.do("Task_ReviseQuarterReport", measuresDone=2, measuresStarted=1, measuresNotStarted=0)
        plan.do("Task_ReviewQuarter", quarterReviewDecision="approve", quarterReviewOpinion="核实无误，报改革办")
    # the ledger takes the reviewed figures, and April's month runs as usual
    assert (plan.variables["measuresDone"], plan.variables["reportsFiled"]) == (2, 3)
    assert plan.fire_timers_at(at, "2026-05-01T00:00:01") == ["Event_ReportMonthEnds"]
    _report(plan, at, "2026-05-03T10:00:00", 2, 1, 0)
    assert "Task_ReviewQuarter" not in plan.active
    assert plan.created.count("Task_ReviewQuarter") == 2
    assert plan.audit_ok()


def test_a_plan_without_quarterly_reporting_files_march_without_a_review(library, at):
    plan = _started(library, at)
    for month_ends in ("2026-02-01", "2026-03-01", "2026-04-01"):
        plan.fire_timers_at(at, f"{month_ends}T00:00:01")
        _report(plan, at, f"{month_ends[:8]}05T10:00:00", 0, 2, 1)
    assert plan.variables["reportsFiled"] == 3
    assert "Task_ReviewQuarter" not in plan.created and "Task_ReviseQuarterReport" not in plan.created
    assert plan.audit_ok()


def test_a_lead_unit_contact_who_is_no_user_is_refused_at_start_not_given_the_step(library):
    """牵头单位经办人 is typed: a name nobody has would have opened 明确责任分工 for nobody to see
    (the office could even urge 'nosuchuser'). The start is refused, naming the step and the name."""
    with pytest.raises(Invalid, match="环节「明确责任分工」.*办理人「nosuchuser」不是本系统的用户"):
        Implementation(library, actor="chen", leadUser="nosuchuser")
    with library.db.reader() as s:
        assert s.execute(select(func.count(ProcessInstance.id))).scalar() == 0  # nothing started
    assert Implementation(library, actor="chen", leadUser="wang").inbox()["Task_AssignResponsibility"][0] == "wang"


def test_a_drafter_starts_implementation_only_for_their_own_unit_and_as_its_contact(library):
    """A penetration test started implementation as a drafter of one unit in another unit's name
    (a line on the ledger and deadlines in that unit's name) and named an auditor as 牵头单位经办人,
    who then held every step. starterUnit keeps a drafter to their own unit; leadUser is
    officeOnly: the reform office names a contact when it starts on a unit's behalf."""
    with pytest.raises(Forbidden, match="您只能为本单位（市财政局）发起「改革方案落实与督察」.*leadUnit 填的是「市司法局」"):
        Implementation(library, actor="zhang", leadUnit="市司法局")
    with pytest.raises(Forbidden, match="「牵头单位经办人（用户名；改革办代为启动时填写，默认为启动人）」只能由改革办代为发起时填写"):
        Implementation(library, actor="zhang", leadUser="li")
    with library.db.reader() as s:
        assert s.execute(select(func.count(ProcessInstance.id))).scalar() == 0  # nothing started
    assert Implementation(library, key="A", leadUser="zhang").inbox()["Task_AssignResponsibility"][0] == "zhang"
    assert Implementation(library, key="B").inbox()["Task_AssignResponsibility"][0] == "zhang"
    on_behalf = Implementation(library, actor="chen", key="C", leadUnit="市司法局", leadUser="li")
    assert on_behalf.inbox()["Task_AssignResponsibility"][0] == "li"
