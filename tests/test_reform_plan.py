"""Every branch of the reform-plan procedure (DOMAIN.md), end to end through the engine, on
SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from .plan_helper import Plan, audit_payloads, deploy_library, end_event


@pytest.fixture
def library(engine, people):
    deploy_library(engine)
    return engine


def test_low_risk_ordinary_plan_goes_straight_through_to_filing(library, at):
    with at("2026-01-05T09:00:00"):
        plan = Plan(library)
        assert plan.active == ["Task_RegisterPlan"]
        plan.do("Task_RegisterPlan", category="ordinary", riskAssessmentRequired=True)
        plan.do("Task_Research")
        plan.do("Task_DraftPlan")
        assert plan.active == ["Task_DepartmentOpinions"]  # no public interest, not technical
        plan.do("Task_DepartmentOpinions")
        assert plan.active == ["Task_PrepareRiskReport"]
        plan.do("Task_PrepareRiskReport", riskLevel="low")
        plan.do("Task_RecordControls")
        plan.run_until("Task_ChooseOrdinaryRoute")
        assert "Task_ApproveAgenda" not in plan.done  # the agenda is for major plans only
        plan.do("Task_ChooseOrdinaryRoute", ordinaryRoute="countersign")
        plan.do("Task_Countersign")
        plan.run_until("Task_FileDocument")
        assert "Task_ReportUp" not in plan.done
    with at("2026-03-25T10:00:00"):
        plan.finish()
    assert plan.view["status"] == "completed"
    assert end_event(library, plan.id) == "Event_PlanFiled"
    assert plan.variables["riskControls"] == "专人跟踪"
    assert plan.audit_ok()


def test_high_risk_sends_the_plan_back_and_it_is_reassessed(library):
    plan = Plan(library)
    plan.run_until("Task_DraftPlan", Task_RegisterPlan={"riskAssessmentRequired": True, "touchesPublicInterest": True})
    plan.run_until("Task_PrepareRiskReport", Task_PublicConsultation={"consultationDays": 30})
    plan.do("Task_PrepareRiskReport", riskLevel="high")
    plan.do("Task_RequestAdjustment", returnReason="补偿标准须调整后重新评估")
    assert plan.active == ["Task_DraftPlan"]
    assert plan.task("Task_DraftPlan")["form"][0]["id"] == "returnReason"
    assert plan.variables["returnReason"] == "补偿标准须调整后重新评估"
    plan.do("Task_DraftPlan", draftSummary="调整后的方案")
    # the argumentation runs again; the second consultation's values survive the parallel join
    plan.run_until("Task_PrepareRiskReport", Task_PublicConsultation={"consultationDays": 45})
    assert plan.variables["consultationDays"] == 45
    assert plan.variables["draftSummary"] == "调整后的方案"
    plan.do("Task_PrepareRiskReport", riskLevel="low")
    plan.do("Task_RecordControls")
    assert plan.active == ["Task_SpecialGroupReview"]
    assert plan.done.count("Task_PrepareRiskReport") == 2


@pytest.mark.parametrize("policy,next_step", [("adjust", "Task_RequestAdjustment"), ("proceed", "Task_RecordControls")])
def test_medium_risk_follows_the_configured_rule(library, policy, next_step):
    plan = Plan(library)
    plan.run_until("Task_PrepareRiskReport", Task_RegisterPlan={"riskAssessmentRequired": True, "mediumRiskPolicy": policy})
    plan.do("Task_PrepareRiskReport", riskLevel="medium")
    assert plan.active == [next_step]
    plan.do(next_step)
    assert plan.active == (["Task_DraftPlan"] if policy == "adjust" else ["Task_SpecialGroupReview"])


def test_public_consultation_needs_30_days_unless_a_reason_is_given(library):
    plan = Plan(library)
    plan.run_until("Task_PublicConsultation", Task_RegisterPlan={"touchesPublicInterest": True})
    plan.do("Task_PublicConsultation", consultationDays=15)
    assert "Task_PublicConsultation" in plan.active  # back to the drafter: too short, no reason
    plan.do("Task_PublicConsultation", consultationDays=15, shortenReason="防汛工作紧急")
    assert "Task_PublicConsultation" not in plan.active


def test_expert_argumentation_for_technical_plans(library):
    plan = Plan(library)
    plan.run_until("Task_ExpertArgumentation", Task_RegisterPlan={"technical": True})
    assert plan.active == ["Task_DepartmentOpinions", "Task_ExpertArgumentation"]
    plan.do("Task_ExpertArgumentation", opinionsSigned=False)
    assert "Task_ExpertArgumentation" in plan.active  # unsigned opinions do not count
    plan.do("Task_ExpertArgumentation")
    plan.do("Task_DepartmentOpinions")
    assert plan.active == ["Task_SpecialGroupReview"]


def test_special_group_return_needs_a_reason_and_goes_back_to_drafting(library):
    plan = Plan(library)
    plan.run_until("Task_SpecialGroupReview")
    plan.do("Task_SpecialGroupReview", specialGroupDecision="return")
    assert plan.active == ["Task_SpecialGroupReview"]  # no reason given: back to the reviewer
    plan.do("Task_SpecialGroupReview", specialGroupDecision="return", returnReason="与中央政策衔接不够")
    assert plan.active == ["Task_DraftPlan"]
    assert plan.variables["returnReason"] == "与中央政策衔接不够"


def test_legality_fail_goes_back_to_drafting_and_the_redraft_passes(library):
    plan = Plan(library)
    plan.run_until("Task_CheckMaterials")
    plan.do("Task_CheckMaterials", materialsComplete=False, missingMaterials="缺少起草说明")
    plan.do("Task_SupplementMaterials")
    plan.do("Task_CheckMaterials")
    review = plan.task("Task_LegalityReview")
    assert review["due_at"] is not None  # 15 working days by default
    plan.do("Task_LegalityReview", legalityResult="fail")
    assert plan.active == ["Task_LegalityReview"]  # a fail needs reasons
    plan.do("Task_LegalityReview", legalityResult="fail", returnReason="与上位法相抵触")
    assert plan.active == ["Task_DraftPlan"]
    plan.run_until("Task_LegalityReview")
    plan.do("Task_LegalityReview", legalityResult="pass_with_changes", requiredChanges="删除第五条")
    assert plan.active == ["Task_ReformOfficeReview"]


def test_exploratory_reform_passes_only_with_a_legal_risk_statement(library):
    plan = Plan(library)
    plan.run_until("Task_LegalityReview", Task_RegisterPlan={"exploratory": True})
    plan.do("Task_LegalityReview", legalityResult="pass")
    assert plan.active == ["Task_LegalityReview"]
    plan.do("Task_LegalityReview", legalityResult="pass", legalRiskStatement="国家层面尚无明确规定，存在被上位法调整的风险")
    assert plan.active == ["Task_ReformOfficeReview"]


def test_legality_review_deadline_is_configurable_in_working_days(library, at):
    with at("2025-09-26T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_LegalityReview", Task_RegisterPlan={"legalReviewDays": 7})
        # 7 working days after Fri 26 Sep 2025: 28, 29, 30 Sep, 9, 10, 11 (Sat, worked), 13 Oct
        assert plan.task("Task_LegalityReview")["due_at"] == "2025-10-13T16:00:00+00:00"
    with pytest.raises(Exception):
        Plan(library).do("Task_RegisterPlan", legalReviewDays=5)  # at least 7 working days


def test_major_plan_goes_to_the_leadership_group_after_the_agenda_is_approved(library):
    plan = Plan(library)
    plan.run_until("Task_ReformOfficeReview", Task_RegisterPlan={"category": "major"})
    plan.do("Task_ReformOfficeReview")
    assert plan.active == ["Task_ApproveAgenda"]
    plan.do("Task_ApproveAgenda", agendaDecision="return", returnReason="议题材料不全")
    assert plan.active == ["Task_ReformOfficeReview"]
    plan.do("Task_ReformOfficeReview")
    plan.do("Task_ApproveAgenda")
    plan.do("Task_LeadershipGroupMeeting", decision="discuss_again")
    assert plan.active == ["Task_LeadershipGroupMeeting"]
    plan.do("Task_LeadershipGroupMeeting", absentees="王某（出差）", dissent="一人建议缓行")
    assert plan.active == ["Task_IssuePlan"]
    assert plan.variables["dissent"] == "一人建议缓行"


def test_ordinary_plan_goes_to_the_executive_meeting_when_chosen(library):
    plan = Plan(library)
    plan.run_until("Task_ChooseOrdinaryRoute")
    plan.do("Task_ChooseOrdinaryRoute", ordinaryRoute="executive_meeting")
    assert plan.active == ["Task_ExecutiveMeeting"]
    plan.do("Task_ExecutiveMeeting", decision="defer")
    plan.do("Task_DeferredRetable", retableDate="2026-04-01")
    assert plan.active == ["Task_ChooseOrdinaryRoute"]  # back on the agenda
    plan.do("Task_ChooseOrdinaryRoute", ordinaryRoute="special_group_meeting")
    plan.do("Task_SpecialGroupMeeting")
    assert plan.active == ["Task_IssuePlan"]


@pytest.mark.parametrize("government_duties", [True, False])
def test_party_document_goes_to_the_standing_committee(library, government_duties):
    plan = Plan(library)
    plan.run_until("Task_LeadershipGroupMeeting", Task_RegisterPlan={
        "category": "major", "partyDocument": True, "governmentDuties": government_duties})
    plan.do("Task_LeadershipGroupMeeting")
    if government_duties:  # the government executive meeting first
        assert plan.active == ["Task_GovExecutiveMeeting"]
        plan.do("Task_GovExecutiveMeeting")
    assert plan.active == ["Task_StandingCommittee"]
    plan.do("Task_StandingCommittee", standingCommitteeDecision="revise", returnReason="第三部分需细化")
    assert plan.active == ["Task_DraftPlan"]
    plan.run_until("Task_LeadershipGroupMeeting")
    plan.do("Task_LeadershipGroupMeeting")
    if government_duties:
        plan.do("Task_GovExecutiveMeeting")
    plan.do("Task_StandingCommittee")
    assert plan.active == ["Task_IssuePlan"]  # the stale "revise" of the first pass is not read


def test_rejected_plan_ends_without_issuance(library):
    plan = Plan(library)
    plan.run_until("Task_Countersign")
    plan.do("Task_Countersign", decision="reject")
    assert plan.refresh()["status"] == "completed"
    assert end_event(library, plan.id) == "Event_PlanRejected"


def test_report_up_to_the_central_departments(library):
    plan = Plan(library)
    plan.run_until("Task_ReportUp", Task_RegisterPlan={"reportUp": True})
    plan.do("Task_ReportUp", centralApproval="return", returnReason="国家部委要求修改")
    assert plan.active == ["Task_DraftPlan"]
    plan.run_until("Task_ReportUp")
    plan.do("Task_ReportUp")
    assert plan.active == ["Task_IssuePlan"]


def _issue(library, at, *, pilot=False, issue_date="2026-01-31"):
    with at(f"{issue_date}T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_IssuePlan", Task_RegisterPlan={"pilot": pilot})
        plan.do("Task_IssuePlan", issueDate=issue_date)
    return plan


def test_filing_on_time(library, at):
    plan = _issue(library, at)
    task = plan.task("Task_FileDocument")
    # within one calendar month of 31 January: by the end of 28 February, China time
    assert task["due_at"] == "2026-02-28T16:00:00+00:00"
    with at("2026-02-20T09:00:00"):
        assert library.fire_due_timers() == []
        plan.do("Task_FileDocument", filingDate="2026-02-20")
        plan.do("Task_CheckFiling")
    assert plan.refresh()["status"] == "completed" and end_event(library, plan.id) == "Event_PlanFiled"


def test_late_filing_escalates_to_the_reform_office(library, at):
    plan = _issue(library, at)
    with at("2026-02-23T23:00:00"):
        assert library.fire_due_timers() == []
    with at("2026-02-24T09:00:00"):  # the reminder: once 23 Feb, 5 days before the deadline, is over
        [fired] = library.fire_due_timers()
        assert fired["timers"] == ["Event_FilingReminder"]
    assert plan.active == ["Task_FileDocument"]
    with at("2026-03-01T00:00:01"):
        [fired] = library.fire_due_timers()
        assert fired["timers"] == ["Event_FilingOverdue"]
        assert library.fire_due_timers() == []  # fired exactly once
    assert audit_payloads(library, plan.id, "escalation") == [
        {"element_id": "Event_EscalateToReformOffice", "name": "逾期上报改革办", "code": "filing_overdue",
         "process": "filing"}]
    assert plan.active == ["Task_EscalateOverdueFiling", "Task_FileDocument"]
    assert plan.task("Task_EscalateOverdueFiling")["candidate_groups"] == ["reform_office"]
    with at("2026-03-02T09:00:00"):
        plan.do("Task_EscalateOverdueFiling", noticeAction="deadline_set", newDeadline="2026-03-06")
        plan.do("Task_FileDocument", filingDate="2026-03-05")
        plan.do("Task_CheckFiling")
    assert end_event(library, plan.id) == "Event_PlanFiled"


def test_pilot_plan_files_within_one_week(library, at):
    plan = _issue(library, at, pilot=True, issue_date="2026-03-02")
    assert plan.task("Task_FileDocument")["due_at"] == "2026-03-09T16:00:00+00:00"


def test_incomplete_filing_is_suspended_until_supplemented(library, at):
    plan = _issue(library, at)
    with at("2026-02-10T09:00:00"):
        plan.do("Task_FileDocument")
        plan.do("Task_CheckFiling", filingComplete=False, filingMissing="缺少合法性审查意见")
        assert plan.active == ["Task_SupplementFiling"]
        assert plan.task("Task_SupplementFiling")["assignee"] == "zhang"
        plan.do("Task_SupplementFiling")
        plan.do("Task_CheckFiling")
    assert end_event(library, plan.id) == "Event_PlanFiled"


def test_a_deadline_already_past_when_reached_escalates_at_once(library, at):
    with at("2026-03-10T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_IssuePlan")
        plan.do("Task_IssuePlan", issueDate="2026-01-05")  # recorded late: filing was due 5 Feb
    assert plan.active == ["Task_EscalateOverdueFiling", "Task_FileDocument"]
