"""Dynamic adjustment of an issued plan (seed 004 §10 动态调整完善, §16; DOMAIN.md step 11):
adjustment.bpmn driven through the engine on SQLite and PostgreSQL. The lead unit proposes the
amendment from its tracking research, the reform office reviews it, the legal body reviews the
amended draft, and the body that approved the original decides it again — deliberation.bpmn
routes it by the original's switches, so each test checks the meetings it reaches. Then it is
issued, filed within one month (a pilot: one week) and its decision's records handed over."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from engine.cli import main
from engine.errors import Conflict, Forbidden, Invalid
from models import ProcessInstance

from .plan_helper import Plan, audit_payloads, end_event

BASE = {"originalDocumentNumber": "同改发〔2026〕8号", "leadUnit": "市财政局", "responsiblePerson": "张伟",
        "plannedCompletion": "2026-06-30", "proposalSource": "self_check"}
KEY = "DT-2026-08-TZ1"

# Segments of the path, in the order the tasks are created.
PROPOSE = ["Task_ProposeAdjustment", "Task_ReviewProposal"]
LEGALITY = ["Task_CheckMaterials", "Task_LegalityReview"]
OFFICE = ["Task_ReformOfficeReview"]  # deliberation's own review of what goes on the agenda
MAJOR = ["Task_ApproveAgenda", "Task_LeadershipGroupMeeting"]
COUNTERSIGN = ["Task_ChooseOrdinaryRoute", "Task_Countersign"]
ISSUE_AND_FILE = ["Task_IssuePlan", "Task_HandOverArchive", "Task_FileDocument", "Task_CheckFiling"]
DECIDED = ["Task_HandOverArchive", "Task_IssuePlan"]


class Adjustment(Plan):
    """One proposal to adjust an issued plan, started by its lead unit (zhang) unless said otherwise."""

    def __init__(self, engine, actor="zhang", key=KEY, **data):
        self.engine = engine
        self.view = engine.start("adjustment", actor=actor, title="深化财政预算管理制度改革方案",
                                 business_key=key, data={**BASE, **data})
        self.id = self.view["id"]
        self.done: list[str] = []

    def inbox_row(self, element_id: str) -> tuple[str | None, list[str]]:
        """Who holds the active task, and which groups may claim it."""
        task = self.task(element_id)
        return task["assignee"], task["candidate_groups"]


def assert_ended(library, plan, end: str):
    assert plan.refresh()["status"] == "completed" and plan.view["tasks"] == []
    assert end_event(library, plan.id) == end
    assert plan.audit_ok()


def _archive(library, key: str, now: str) -> dict:
    """`reformflow archive PLAN --json`, the plan named by its business key."""
    result = CliRunner().invoke(main, ["--db", library.db.url, "--now", now, "archive", key, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


ROUTES = {
    # the reform office chooses how an ordinary plan is decided: here the government executive meeting
    "ordinary": ({}, ["Task_ChooseOrdinaryRoute", "Task_ExecutiveMeeting"],
                 {"Task_ChooseOrdinaryRoute": {"ordinaryRoute": "executive_meeting"}}),
    "major": ({"category": "major"}, MAJOR, {}),
    "party document with government duties": (
        {"partyDocument": True, "governmentDuties": True},
        MAJOR + ["Task_GovExecutiveMeeting", "Task_StandingCommittee"], {}),
}


@pytest.mark.parametrize("switches, meetings, answers", ROUTES.values(), ids=ROUTES.keys())
def test_an_approved_adjustment_goes_to_the_body_that_approved_the_original_then_is_issued_and_filed(
        library, at, switches, meetings, answers):
    with at("2026-03-02T09:00:00"):
        plan = Adjustment(library, **switches)
        plan.run_until("Task_IssuePlan", **answers)
        assert plan.active == DECIDED
        archive = plan.task("Task_HandOverArchive")
        assert (archive["assignee"], archive["due_at"]) == ("zhang", "2026-04-01T16:00:00+00:00")  # 30 days
        plan.do("Task_IssuePlan", documentNumber="同改发〔2026〕15号", issueDate="2026-03-02")
        # filed within one calendar month of the issue date
        assert plan.task("Task_FileDocument")["due_at"] == "2026-04-02T16:00:00+00:00"
        plan.finish()
    assert plan.created == PROPOSE + LEGALITY + OFFICE + meetings + ISSUE_AND_FILE
    values = plan.variables
    # the original's number is kept beside the amended plan's, which is the one filed
    assert (values["originalDocumentNumber"], values["documentNumber"]) == ("同改发〔2026〕8号", "同改发〔2026〕15号")
    assert_ended(library, plan, "Event_AdjustmentFiled")
    # on the ledger: the amended plan issued by its planned date
    [row] = library.ledger(process="adjustment")
    assert (row["business_key"], row["lead_unit"], row["responsible_person"], row["colour"]) == (
        KEY, "市财政局", "张伟", "green")
    assert (row["milestone"], row["milestone_due"], row["milestone_reached"]) == (
        "调整后方案印发", "2026-06-30", "2026-03-02")
    # the archive files the legality review and the collective decision under their procedures
    records = {s["code"]: [r["name"] for r in s["records"]]
               for s in _archive(library, KEY, "2026-03-03T09:00:00")["sections"]}
    assert records["legality_review"] == ["核对送审材料是否齐全", "合法合规性审查"]
    decision = records["collective_decision"]
    assert decision[0] == "改革办审核拟上会方案" and len(decision) == 1 + len(meetings)
    assert records["other"][:2] == ["提出调整意见", "审核调整意见"]
    assert not records["public_participation"] and not records["risk_assessment"]


def test_a_deferred_adjustment_is_tabled_again_at_the_same_body(library, at):
    with at("2026-03-10T09:00:00"):  # the meetings are held today, before the dates set for tabling again
        plan = Adjustment(library, category="major")
        plan.run_until("Task_LeadershipGroupMeeting")
        plan.do("Task_LeadershipGroupMeeting", decision="defer")
        plan.do("Task_DeferredRetable", retableDate="2026-04-01")
        assert plan.active == ["Task_ApproveAgenda"]  # back on the leadership group's agenda
        plan.do("Task_ApproveAgenda")
        plan.do("Task_LeadershipGroupMeeting", decision="discuss_again")
        plan.do("Task_LeadershipGroupMeeting", decision="approve_with_changes", decisionChanges="明确实施期限")
        issue = plan.task("Task_IssuePlan")
        shown = {f["id"]: f for f in issue["form"] if "readonly" in f["constraints"]}
        assert {"originalDocumentNumber", "decisionChanges", "govMeetingChanges", "standingCommitteeChanges"} <= set(shown)
        plan.finish()
        assert plan.created == (PROPOSE + LEGALITY + OFFICE + MAJOR + ["Task_DeferredRetable"] + MAJOR
                                + ["Task_LeadershipGroupMeeting"] + ISSUE_AND_FILE)
        assert_ended(library, plan, "Event_AdjustmentFiled")


def test_the_reform_office_returns_the_proposal_with_a_reason_and_the_lead_unit_resubmits(library):
    plan = Adjustment(library)
    plan.do("Task_ProposeAdjustment")
    review = plan.task("Task_ReviewProposal")
    assert review["candidate_groups"] == ["reform_office"] and review["assignee"] is None
    # what the office is told to judge (跟踪调研是否充分) and where the amendment will go: read-only
    values = plan.engine.task_view(review["id"])["values"]
    shown = {f["id"]: values[f["id"]] for f in review["form"] if "readonly" in f["constraints"]}
    assert set(shown) == {"originalDocumentNumber", "proposalSource", "adjustmentType", "adjustmentContent",
                          "adjustmentReasons", "trackingFindings", "revisionNotes", "category", "partyDocument",
                          "governmentDuties", "reportUp", "pilot"}
    assert (shown["trackingFindings"], shown["category"], shown["reportUp"]) == (
        plan.variables["trackingFindings"], "ordinary", False)
    # a return needs its reason: refused at the form, the office's opinion not lost to a step sent back
    with pytest.raises(Invalid, match=r"审核结论为「退回牵头单位补充完善」时须填写「退回理由（退回时必填）」\(returnReason\)"):
        plan.do("Task_ReviewProposal", adjustmentReviewDecision="return")
    assert plan.active == ["Task_ReviewProposal"] and plan.task("Task_ReviewProposal")["id"] == review["id"]
    plan.do("Task_ReviewProposal", adjustmentReviewDecision="return", returnReason="缺少第三方评估报告作为依据")
    assert plan.active == ["Task_ProposeAdjustment"]
    propose = plan.task("Task_ProposeAdjustment")
    assert propose["assignee"] == "zhang"
    reason = next(f for f in propose["form"] if f["id"] == "returnReason")
    assert "readonly" in reason["constraints"] and plan.variables["returnReason"] == "缺少第三方评估报告作为依据"
    plan.do("Task_ProposeAdjustment", trackingFindings="自查报告及第三方评估报告", revisionNotes="已补充第三方评估报告")
    assert plan.active == ["Task_ReviewProposal"]
    shown = plan.engine.task_view(plan.task("Task_ReviewProposal")["id"])["values"]
    assert (shown["trackingFindings"], shown["revisionNotes"]) == ("自查报告及第三方评估报告", "已补充第三方评估报告")
    plan.finish()
    assert plan.created == PROPOSE + PROPOSE + LEGALITY + OFFICE + COUNTERSIGN + ISSUE_AND_FILE
    # the return's reason stays in the record of the office's review, and with the resubmission its answer
    completed = [(e["element_id"], e["new"]) for e in audit_payloads(library, plan.id, "task_completed")]
    assert ("Task_ReviewProposal", "缺少第三方评估报告作为依据") in [(k, v.get("returnReason")) for k, v in completed]
    assert [v["revisionNotes"] for k, v in completed if k == "Task_ProposeAdjustment"] == [None, "已补充第三方评估报告"]
    assert_ended(library, plan, "Event_AdjustmentFiled")


def test_a_wrong_routing_switch_is_corrected_when_the_office_returns_the_proposal(library):
    """Started as an ordinary plan, though the original was a major one: the office returns it and
    the lead unit corrects the category on its proposal; it then goes to the leadership group."""
    plan = Adjustment(library)
    plan.do("Task_ProposeAdjustment")
    plan.do("Task_ReviewProposal", adjustmentReviewDecision="return",
            returnReason="原方案经领导小组会议审议，类别应为重大改革方案")
    propose = plan.engine.task_view(plan.task("Task_ProposeAdjustment")["id"])
    editable = {f["id"] for f in propose["form"] if "readonly" not in f["constraints"]}
    assert {"category", "partyDocument", "governmentDuties", "reportUp", "pilot", "exploratory"} <= editable
    assert propose["values"]["category"] == "ordinary"  # shown as started
    plan.do("Task_ProposeAdjustment", category="major", revisionNotes="已改正原方案类别")
    plan.finish()
    assert plan.created == PROPOSE + PROPOSE + LEGALITY + OFFICE + MAJOR + ISSUE_AND_FILE
    assert_ended(library, plan, "Event_AdjustmentFiled")


def test_no_adjustment_needed_keeps_the_original_plan_with_the_reason(library, at):
    with at("2026-03-02T09:00:00"):
        plan = Adjustment(library, proposalSource="third_party")
        plan.do("Task_ProposeAdjustment")
        # keeping the plan needs its reason: refused at the form
        with pytest.raises(Invalid, match=r"审核结论为「无需调整，维持原方案」时须填写「维持原方案的理由（无需调整时必填）」\(keepReason\)"):
            plan.do("Task_ReviewProposal", adjustmentReviewDecision="no_adjustment")
        # the reason for a return does not do for keeping the plan
        with pytest.raises(Invalid, match=r"时须填写「维持原方案的理由（无需调整时必填）」\(keepReason\)"):
            plan.do("Task_ReviewProposal", adjustmentReviewDecision="no_adjustment", returnReason="无需调整")
        assert plan.active == ["Task_ReviewProposal"]
        plan.do("Task_ReviewProposal", adjustmentReviewDecision="no_adjustment",
                keepReason="所提问题可在现有举措中解决，无需修改方案")
    assert plan.created == PROPOSE
    assert plan.variables["keepReason"] == "所提问题可在现有举措中解决，无需修改方案"
    assert_ended(library, plan, "Event_PlanKept")
    with at("2026-09-01T09:00:00"):  # past its planned date: it ended before it, nothing was missed
        [row] = library.ledger(process="adjustment")
    assert (row["status"], row["colour"], row["milestone_reached"], row["missed"]) == ("completed", "green", None, [])


def test_no_adjustment_decided_after_the_planned_date_is_judged_as_it_stood_on_the_day_of_the_decision(
        library, at):
    """Found unnecessary ten days after its planned issuance date, the adjustment ends that day: the
    ledger shows 调整后方案印发 missed by those ten days, then and months later, not by more each day
    (as reform_plan judges a plan rejected after its planned date)."""
    with at("2026-03-02T09:00:00"):
        plan = Adjustment(library, plannedCompletion="2026-03-10")
        plan.do("Task_ProposeAdjustment")
    with at("2026-03-20T09:00:00"):
        plan.do("Task_ReviewProposal", adjustmentReviewDecision="no_adjustment",
                keepReason="所提问题可在现有举措中解决，无需修改方案")
    assert_ended(library, plan, "Event_PlanKept")
    for day in ("2026-03-20T10:00:00", "2026-09-01T09:00:00", "2027-06-30T09:00:00"):
        result = CliRunner().invoke(main, ["--db", library.db.url, "--now", day, "ledger", "--json",
                                           "--process", "adjustment"])
        assert result.exit_code == 0, result.output
        [row] = json.loads(result.stdout)["plans"]
        assert (row["status"], row["colour"], row["milestone_reached"]) == ("completed", "red", None)
        assert [(m["what"], m["due_at"], m["done_at"], m["days_late"]) for m in row["missed"]] == [
            ("调整后方案印发", "2026-03-10T16:00:00+00:00", None, 10)]


def test_a_failed_legality_review_goes_back_to_the_lead_unit_and_is_never_submitted(library):
    """Decree 713 Art. 25–28: an amended plan is a draft decision again: not reviewed or found
    unlawful, it does not go to the approving body."""
    plan = Adjustment(library)
    plan.run_until("Task_LegalityReview")
    plan.do("Task_LegalityReview", legalityResult="fail", returnReason="调整内容与上位法相抵触")
    assert plan.active == ["Task_ProposeAdjustment"]
    assert plan.variables["returnReason"] == "调整内容与上位法相抵触"
    assert "Task_ReformOfficeReview" not in plan.created  # nothing reached the approving body
    plan.do("Task_ProposeAdjustment", adjustmentContent="删除与上位法相抵触的条款后补充融资措施")
    plan.do("Task_ReviewProposal")
    plan.do("Task_CheckMaterials")
    plan.do("Task_LegalityReview", legalityResult="pass_with_changes", requiredChanges="第三条增加授权依据")
    assert plan.active == ["Task_IncorporateLegalChanges"]
    fix = plan.task("Task_IncorporateLegalChanges")
    assert fix["assignee"] == "zhang" and fix["form"][0]["id"] == "requiredChanges"
    plan.do("Task_IncorporateLegalChanges")
    assert plan.active == ["Task_ReformOfficeReview"]
    plan.finish()
    assert plan.created == (PROPOSE + LEGALITY + PROPOSE + LEGALITY + ["Task_IncorporateLegalChanges"]
                            + OFFICE + COUNTERSIGN + ISSUE_AND_FILE)
    assert_ended(library, plan, "Event_AdjustmentFiled")
    records = {s["code"]: [r["name"] for r in s["records"]]
               for s in _archive(library, KEY, "2026-12-31T09:00:00")["sections"]}
    assert records["legality_review"] == ["核对送审材料是否齐全", "合法合规性审查"] * 2 + ["按合法性审查意见修改方案"]


@pytest.mark.parametrize("where", ["meeting", "standing committee"])
def test_rejected_by_the_approving_body_keeps_the_original_plan_after_the_archive_is_handed_over(
        library, at, where):
    party = where == "standing committee"
    with at("2026-03-02T09:00:00"):
        plan = Adjustment(library, partyDocument=party, plannedCompletion="2026-03-10")
        if party:
            plan.run_until("Task_StandingCommittee")
            plan.do("Task_StandingCommittee", standingCommitteeDecision="reject",
                    memberStances="多数认为原方案举措仍适用，不同意调整")
        else:
            plan.run_until("Task_Countersign")
            plan.do("Task_Countersign", decision="reject", memberStances="各会签单位认为原方案举措仍适用，不同意调整")
        # not issued; the decision's records still go to the archive (Decree 713 Art. 33)
        assert plan.active == ["Task_HandOverArchive"]
        assert plan.variables["rejectedOn"] == "2026-03-02"
    with at("2026-03-20T09:00:00"):  # the planned date has passed meanwhile: judged on the day of the rejection
        [row] = library.ledger(process="adjustment")
        assert (row["colour"], row["missed"]) == ("green", [])
        plan.do("Task_HandOverArchive", archiveHandedOverOn="2026-03-20")
    meetings = MAJOR + ["Task_StandingCommittee"] if party else COUNTERSIGN
    assert plan.created == PROPOSE + LEGALITY + OFFICE + meetings + ["Task_HandOverArchive"]
    stances = [e["new"]["memberStances"] for e in audit_payloads(library, plan.id, "task_completed")
               if e["element_id"] in ("Task_Countersign", "Task_StandingCommittee")]
    assert "不同意调整" in stances[-1]  # the reason stands in the meeting's record
    assert_ended(library, plan, "Event_AdjustmentRejected")


def test_an_original_that_went_up_goes_up_again_and_a_central_return_reaches_the_lead_unit(library):
    plan = Adjustment(library, reportUp=True)
    plan.run_until("Task_ReportUp")
    assert plan.task("Task_ReportUp")["candidate_groups"] == ["reform_office"]
    report = plan.task("Task_ReportUp")["id"]
    # a return needs its reason: refused at the form, where 报批的中央有关部门 was typed
    with pytest.raises(Invalid, match=r"报批结果为「退回修改」时须填写「退回理由（退回时必填）」\(returnReason\)"):
        plan.do("Task_ReportUp", centralApproval="return")
    assert plan.active == ["Task_ReportUp"] and plan.task("Task_ReportUp")["id"] == report
    plan.do("Task_ReportUp", centralApproval="return", returnReason="国家部委要求补充风险防控措施")
    assert plan.active == ["Task_ProposeAdjustment"]
    assert plan.variables["returnReason"] == "国家部委要求补充风险防控措施"
    plan.run_until("Task_ReportUp")
    plan.do("Task_ReportUp")
    plan.finish()
    front = PROPOSE + LEGALITY + OFFICE + COUNTERSIGN
    assert plan.created == front + ["Task_ReportUp"] + front + ["Task_ReportUp"] + ISSUE_AND_FILE
    assert_ended(library, plan, "Event_AdjustmentFiled")


def test_a_pilot_adjustment_is_filed_within_one_week(library, at):
    with at("2026-03-02T09:00:00"):
        plan = Adjustment(library, pilot=True, proposalSource="pilot_feedback")
        plan.run_until("Task_IssuePlan")
        plan.do("Task_HandOverArchive")
        plan.do("Task_IssuePlan", issueDate="2026-03-02")
        task = plan.task("Task_FileDocument")
        assert (task["assignee"], task["due_at"]) == ("zhang", "2026-03-09T16:00:00+00:00")
    with at("2026-03-05T09:00:00"):
        plan.finish()
    assert_ended(library, plan, "Event_AdjustmentFiled")


def test_only_a_lead_unit_starts_it_and_the_start_form_and_local_rules_are_checked(library):
    for other in ("chen", "li", "liu"):  # the reform office, the legal body, the group leader
        with pytest.raises(Forbidden):
            Adjustment(library, actor=other, key=f"X-{other}")
    with pytest.raises(Invalid, match="originalDocumentNumber"):
        Adjustment(library, originalDocumentNumber=None)
    with pytest.raises(Invalid, match="proposalSource"):
        Adjustment(library, proposalSource="rumour")
    with pytest.raises(Invalid, match="archiveDays"):  # a local rule, not the lead unit's to choose
        Adjustment(library, archiveDays=90)
    plan = Adjustment(library, actor="wang")
    assert {k: plan.variables[k] for k in ("legalReviewDays", "filingMonths", "pilotFilingDays",
                                           "filingSupplementDays", "archiveDays")} == {
        "legalReviewDays": 15, "filingMonths": 1, "pilotFilingDays": 7, "filingSupplementDays": 3, "archiveDays": 30}
    # the original's routing switches, with their defaults, for the approving body to be the same
    assert {k: plan.variables[k] for k in ("category", "partyDocument", "governmentDuties", "reportUp", "pilot",
                                           "exploratory")} == {
        "category": "ordinary", "partyDocument": False, "governmentDuties": False, "reportUp": False,
        "pilot": False, "exploratory": False}
    with pytest.raises(Conflict):  # the business key ties it to the plan: one use only
        Adjustment(library, actor="zhang", key=KEY)


def test_each_task_goes_to_its_role_and_the_lead_units_to_the_starter(library):
    plan = Adjustment(library, actor="wang")
    assert plan.inbox_row("Task_ProposeAdjustment") == ("wang", ["drafter"])
    plan.do("Task_ProposeAdjustment")
    assert plan.inbox_row("Task_ReviewProposal") == (None, ["reform_office"])
    plan.do("Task_ReviewProposal")
    assert plan.inbox_row("Task_CheckMaterials") == (None, ["legal"])
    plan.do("Task_CheckMaterials", materialsComplete=False, missingMaterials="缺少调整说明")
    assert plan.inbox_row("Task_SupplementMaterials") == ("wang", ["drafter"])  # the starter, in the called review
    plan.do("Task_SupplementMaterials")
    plan.do("Task_CheckMaterials")
    assert plan.inbox_row("Task_LegalityReview") == (None, ["legal"])
    plan.do("Task_LegalityReview")
    assert plan.inbox_row("Task_ReformOfficeReview") == (None, ["reform_office"])
    plan.do("Task_ReformOfficeReview")
    plan.do("Task_ChooseOrdinaryRoute", ordinaryRoute="special_group_meeting")
    assert plan.inbox_row("Task_SpecialGroupMeeting") == (None, ["special_group"])
    plan.do("Task_SpecialGroupMeeting")
    assert plan.inbox_row("Task_IssuePlan") == ("wang", ["drafter"])
    assert plan.inbox_row("Task_HandOverArchive") == ("wang", ["drafter"])
    plan.do("Task_IssuePlan")
    assert plan.inbox_row("Task_FileDocument") == ("wang", ["drafter"])
    plan.do("Task_FileDocument")
    assert plan.inbox_row("Task_CheckFiling") == (None, ["reform_office"])
    plan.finish()
    assert_ended(library, plan, "Event_AdjustmentFiled")


def test_a_drafter_proposes_an_adjustment_only_for_their_own_unit(library):
    """starterUnit: the lead unit proposes adjusting its own plan. A drafter of 市财政局 naming
    市国资委 would open a step for 市国资委's drafters and a line on the ledger in its name."""
    with library.db.reader() as s:
        before = s.execute(select(func.count(ProcessInstance.id))).scalar()
    with pytest.raises(Forbidden, match="您只能为本单位（市财政局）发起「改革方案动态调整」.*leadUnit 填的是「市国资委」"):
        Adjustment(library, key="DT-2015-07-TZ9", leadUnit="市国资委")
    with library.db.reader() as s:
        assert s.execute(select(func.count(ProcessInstance.id))).scalar() == before  # nothing started
    assert Adjustment(library, key="DT-2015-02-TZ9").task("Task_ProposeAdjustment")  # its own unit: started
