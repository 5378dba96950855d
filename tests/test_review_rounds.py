"""A review repeated after a return starts from empty decision and opinion fields, with last
round's values said apart as 此前填写 (`earlier`): a hurried submit must not repeat last round's
退回修改. Data the drafter (or an assessor) revises is carried over. Also what the reviewers and
the drafter are shown of what others decided: the reform office's 上会议题及建议 on 组长审定议题,
the office's 限期报送 order on 报送备案."""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from lxml import etree

from engine import forms
from engine.cli import main

from .conftest import BPMN
from .plan_helper import Plan, complete_step

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "camunda": "http://camunda.org/schema/1.0/bpmn"}


def _fields() -> dict[tuple[str, str, str], dict]:
    """Every user task's form field of the library, as the engine reads its properties:
    (file, task id, field id) → {"properties", "readonly", "label", "type"}."""
    found = {}
    for path in sorted(BPMN.glob("*.bpmn")):
        for task in etree.parse(str(path)).getroot().iter(f"{{{NS['bpmn']}}}userTask"):
            for field in task.iter(f"{{{NS['camunda']}}}formField"):
                properties = {p.get("id"): p.get("value") for p in field.iter(f"{{{NS['camunda']}}}property")}
                constraints = {c.get("name") for c in field.iter(f"{{{NS['camunda']}}}constraint")}
                found[(path.name, task.get("id"), field.get("id"))] = {
                    "properties": properties, "readonly": "readonly" in constraints,
                    "label": field.get("label"), "type": field.get("type")}
    return found


FIELDS = _fields()

# A reviewer's decision and opinion: given afresh on every pass (keep = false)
DECIDED_AFRESH = [
    ("reform_plan.bpmn", "Task_SpecialGroupReview", "specialGroupOpinion"),
    ("reform_plan.bpmn", "Task_SpecialGroupReview", "specialGroupDecision"),
    ("reform_plan.bpmn", "Task_SpecialGroupReview", "returnReason"),
    ("reform_plan.bpmn", "Task_ExpertArgumentation", "expertOpinions"),
    ("reform_plan.bpmn", "Task_ReportUp", "centralApproval"),
    ("reform_plan.bpmn", "Task_DepartmentOpinions", "consensusReached"),
    ("reform_plan.bpmn", "Task_PublicConsultation", "consultationStart"),
    ("risk_assessment.bpmn", "Task_PrepareRiskReport", "riskLevel"),
    ("risk_assessment.bpmn", "Task_RequestAdjustment", "returnReason"),
    ("legality_review.bpmn", "Task_LegalityReview", "legalityResult"),
    ("legality_review.bpmn", "Task_LegalityReview", "legalityOpinion"),
    ("deliberation.bpmn", "Task_ReformOfficeReview", "officeReviewDecision"),
    ("deliberation.bpmn", "Task_ReformOfficeReview", "agendaProposal"),
    ("deliberation.bpmn", "Task_ApproveAgenda", "agendaDecision"),
    *[("deliberation.bpmn", meeting, field)
      for meeting in ("Task_LeadershipGroupMeeting", "Task_SpecialGroupMeeting", "Task_ExecutiveMeeting", "Task_Countersign")
      for field in ("memberStances", "decision")],
    ("deliberation.bpmn", "Task_GovExecutiveMeeting", "memberStances"),
    ("deliberation.bpmn", "Task_GovExecutiveMeeting", "govMeetingDecision"),
    ("deliberation.bpmn", "Task_StandingCommittee", "memberStances"),
    ("deliberation.bpmn", "Task_StandingCommittee", "standingCommitteeDecision"),
    # a meeting held again (再次讨论, 暂缓, a plan back after revision) is another meeting: its
    # date, who came and who did not, what each said and the dissent are its own
    *[("deliberation.bpmn", meeting, field)
      for meeting in ("Task_LeadershipGroupMeeting", "Task_SpecialGroupMeeting", "Task_ExecutiveMeeting",
                      "Task_GovExecutiveMeeting", "Task_StandingCommittee")
      for field in ("meetingDate", "attendees", "absentees", "dissent")],
    ("deliberation.bpmn", "Task_Countersign", "dissent"),
    *[("deliberation.bpmn", retable, "retableDate")
      for retable in ("Task_DeferredRetable", "Task_GovMeetingRetable", "Task_StandingCommitteeRetable")],
    ("filing.bpmn", "Task_EscalateOverdueFiling", "newDeadline"),
    ("filing.bpmn", "Task_PublicNotice", "noticeDecision"),
    ("filing.bpmn", "Task_PublicNotice", "noticeNote"),
    ("filing.bpmn", "Task_CheckFiling", "filingComplete"),
    ("adjustment.bpmn", "Task_ReviewProposal", "adjustmentReviewOpinion"),
    ("adjustment.bpmn", "Task_ReviewProposal", "adjustmentReviewDecision"),
    ("adjustment.bpmn", "Task_ReportUp", "centralApproval"),
    ("implementation.bpmn", "Task_ReviewQuarter", "quarterReviewDecision"),
    ("implementation.bpmn", "Task_ReviewQuarter", "quarterReviewOpinion"),
    ("implementation.bpmn", "Task_ReInspect", "reinspectionResult"),
    ("implementation.bpmn", "Task_ReInspect", "reinspectionOpinion"),
    ("implementation.bpmn", "Task_DecideReReview", "reReviewDecision"),
    ("implementation.bpmn", "Task_DecideReReview", "reReviewDecisionReasons"),
    ("work_report.bpmn", "Task_ReviewReport", "reviewDecision"),
    ("work_report.bpmn", "Task_LeaderReview", "leaderDecision"),
]

# Data carried forward: what the drafter (or the assessor, the body recording a meeting) revises
# or what stays the same from round to round, shown filled in
CARRIED = [
    ("reform_plan.bpmn", "Task_DraftPlan", "draftSummary"),
    ("reform_plan.bpmn", "Task_DepartmentOpinions", "departmentsConsulted"),
    ("reform_plan.bpmn", "Task_DepartmentOpinions", "departmentOpinionsHandling"),
    ("reform_plan.bpmn", "Task_PublicConsultation", "consultationMethods"),
    ("reform_plan.bpmn", "Task_PublicConsultation", "consultationDays"),
    ("reform_plan.bpmn", "Task_ExpertArgumentation", "expertPanel"),
    ("reform_plan.bpmn", "Task_CoordinateDepartments", "coordinationSummary"),
    ("reform_plan.bpmn", "Task_ReportUp", "reportedTo"),
    ("risk_assessment.bpmn", "Task_PrepareRiskReport", "riskPoints"),
    ("risk_assessment.bpmn", "Task_PrepareRiskReport", "preventionMeasures"),
    ("risk_assessment.bpmn", "Task_RecordControls", "riskControls"),
    ("deliberation.bpmn", "Task_ChooseOrdinaryRoute", "ordinaryRoute"),
    ("deliberation.bpmn", "Task_LeadershipGroupMeeting", "meetingPlace"),
    ("deliberation.bpmn", "Task_LeadershipGroupMeeting", "meetingChair"),
    ("implementation.bpmn", "Task_DecideReReview", "reReviewPanel"),
]


@pytest.mark.parametrize("where", DECIDED_AFRESH, ids=["/".join(w) for w in DECIDED_AFRESH])
def test_a_reviewers_decision_and_opinion_start_empty_each_round(where):
    assert where in FIELDS, f"{where} is not in the library"
    assert not forms.carries_over(FIELDS[where]), f"{where} lacks keep = false"


@pytest.mark.parametrize("where", CARRIED, ids=["/".join(w) for w in CARRIED])
def test_data_revised_from_round_to_round_is_carried_over(where):
    assert where in FIELDS, f"{where} is not in the library"
    assert forms.carries_over(FIELDS[where])


def test_no_choice_that_sends_a_plan_back_is_prefilled_anywhere():
    """Every choice the diagrams ask to confirm (退回, 不通过, 暂缓, 不同意 …) is a decision: it
    never comes prefilled from an earlier round, in any diagram, now or in a field added later."""
    asked = [where for where, f in FIELDS.items() if f["properties"].get("confirm")]
    assert len(asked) >= 15  # not vacuous: every review of the library
    assert [where for where in asked if forms.carries_over(FIELDS[where])] == []


def test_a_second_round_special_group_review_opens_empty_with_last_rounds_values_apart(library):
    plan = Plan(library)
    plan.run_until("Task_SpecialGroupReview")
    plan.do("Task_SpecialGroupReview", specialGroupOpinion="举措缺乏突破性", specialGroupDecision="return",
            returnReason="请补充突破性举措")
    plan.run_until("Task_SpecialGroupReview")
    again = library.task_view(plan.task("Task_SpecialGroupReview")["id"])
    assert {k: again["values"][k] for k in ("specialGroupOpinion", "specialGroupDecision", "returnReason")} == {
        "specialGroupOpinion": None, "specialGroupDecision": None, "returnReason": None}
    assert again["earlier"] == {"specialGroupOpinion": "举措缺乏突破性", "specialGroupDecision": "return",
                                "returnReason": "请补充突破性举措"}
    # the command line's task page says the same: 此前填写, and an empty decision to submit
    page = CliRunner().invoke(main, ["--db", library.db.url, "task", str(again["id"])]).stdout
    assert '      此前填写 (given earlier)："return"\n' in page
    plan.do("Task_SpecialGroupReview", specialGroupOpinion="已补充", specialGroupDecision="approve")
    assert plan.variables["specialGroupDecision"] == "approve"


def test_a_redrafted_plans_department_opinions_ask_for_consensus_again_and_say_so(library):
    plan = Plan(library)
    plan.run_until("Task_SpecialGroupReview")
    plan.do("Task_SpecialGroupReview", specialGroupDecision="return", returnReason="请补充成本测算")
    plan.do("Task_DraftPlan", draftSummary="修改稿", revisionNotes="已补充成本测算")
    view = library.task_view(plan.task("Task_DepartmentOpinions")["id"])
    # the drafter's record comes back filled; the confirmation is asked afresh, its last answer apart
    assert view["values"]["departmentsConsulted"] == "市发改委、市人社局"
    assert view["values"]["consensusReached"] is False
    assert view["earlier"] == {"consensusReached": True}
    [label] = [f["label"] for f in view["form"] if f["id"] == "consensusReached"]
    assert "每轮须重新确认" in label
    task = next(t for t in library.instance(plan.id)["tasks"] if t["element_id"] == "Task_DepartmentOpinions")
    assert "须每轮重新勾选确认" in task["documentation"]


def test_a_redone_public_consultation_asks_for_its_start_date_again(library, at):
    with at("2026-03-02T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_SpecialGroupReview", Task_RegisterPlan={"touchesPublicInterest": True})
        # the standard answer: 45 days back, so that the 30 days (moved on past a holiday at their
        # end, periodEnd) are over whatever today is
        assert plan.variables["consultationStart"] == "2026-01-16"
        plan.do("Task_SpecialGroupReview", specialGroupDecision="return", returnReason="请补充成本测算")
        plan.do("Task_DraftPlan", draftSummary="修改稿")
        view = library.task_view(plan.task("Task_PublicConsultation")["id"])
    assert view["values"]["consultationStart"] is None  # an old, already-ended period is not offered
    assert view["earlier"] == {"consultationStart": "2026-01-16"}
    assert (view["values"]["consultationMethods"], view["values"]["consultationDays"]) == ("网上公示", 30)
    with at("2026-03-02T09:00:00"):
        plan.do("Task_PublicConsultation", consultationStart="2026-03-03")
    assert plan.variables["consultationStart"] == "2026-03-03"


def test_the_leader_sees_the_reform_offices_agenda_proposal(library):
    plan = Plan(library)
    plan.run_until("Task_ReformOfficeReview", Task_RegisterPlan={"category": "major"})
    office = library.task_view(plan.task("Task_ReformOfficeReview")["id"])
    [proposal] = [f for f in office["form"] if f["id"] == "agendaProposal"]
    assert "required" not in proposal["constraints"] and "readonly" not in proposal["constraints"]
    plan.do("Task_ReformOfficeReview", agendaProposal="提请领导小组第五次全体会议审议，列为第二项议题")
    leader = library.task_view(plan.task("Task_ApproveAgenda")["id"])
    [shown] = [f for f in leader["form"] if f["id"] == "agendaProposal"]
    assert "readonly" in shown["constraints"]
    assert leader["values"]["agendaProposal"] == "提请领导小组第五次全体会议审议，列为第二项议题"
    # returned to the office: its proposal is made afresh, the earlier one said apart
    plan.do("Task_ApproveAgenda", agendaDecision="return", returnReason="会议时间待定")
    again = library.task_view(plan.task("Task_ReformOfficeReview")["id"])
    assert again["values"]["agendaProposal"] is None and again["values"]["officeReviewDecision"] is None
    assert again["earlier"]["agendaProposal"] == "提请领导小组第五次全体会议审议，列为第二项议题"
    plan.do("Task_ReformOfficeReview", agendaProposal="提请领导小组第六次全体会议审议")
    assert library.task_view(plan.task("Task_ApproveAgenda")["id"])["values"]["agendaProposal"] == \
        "提请领导小组第六次全体会议审议"


def test_an_agenda_left_without_a_proposal_shows_none_to_the_leader(library):
    plan = Plan(library)
    plan.run_until("Task_ReformOfficeReview", Task_RegisterPlan={"category": "major"})
    plan.do("Task_ReformOfficeReview", agendaProposal="")
    leader = library.task_view(plan.task("Task_ApproveAgenda")["id"])
    assert leader["values"]["agendaProposal"] is None
    [label] = [f["label"] for f in leader["form"] if f["id"] == "agendaProposal"]
    assert "「—」" in label  # the page shows an empty read-only field as —: the label says what it means


ISSUED = {"issueDate": "2026-01-31", "pilot": False, "documentNumber": "X发〔2026〕9号"}


def _view(engine, plan_id: int, element_id: str) -> dict:
    [task] = [t for t in engine.instance(plan_id)["tasks"] if t["element_id"] == element_id]
    return engine.task_view(task["id"])


def test_the_filing_step_shows_the_reform_offices_order_once_it_is_made(library, at):
    with at("2026-03-02T09:00:00"):
        plan = library.start("filing", actor="chen", title="测试方案", data=ISSUED)["id"]
        before = _view(library, plan, "Task_FileDocument")
        # no order yet: shown empty (the page's —), and the labels say what that means
        assert (before["values"]["newDeadline"], before["values"]["escalationNote"]) == (None, None)
        labels = {f["id"]: f["label"] for f in before["form"]}
        assert "「—」的为未另定" in labels["newDeadline"] and "改革办的处理说明" in labels["escalationNote"]
        assert {f["id"] for f in before["form"] if "readonly" in f["constraints"]} >= {"newDeadline", "escalationNote"}
        library.fire_due_timers()  # due by the end of 28 February: overdue, escalated
        complete_step(library, plan, "Task_EscalateOverdueFiling", "chen",
                      {"newDeadline": "2026-03-10", "escalationNote": "请于3月10日前报送，逾期将予通报"})
        after = _view(library, plan, "Task_FileDocument")
    # the order was made on the escalation's branch, beside the open filing: the filing shows it
    assert after["values"]["newDeadline"] == "2026-03-10"
    assert after["values"]["escalationNote"] == "请于3月10日前报送，逾期将予通报"
    assert after["values"]["issueDate"] == "2026-01-31"  # the original period counts from it
    assert "原备案期限" in after["documentation"] and "仍记为逾期" in after["documentation"]
    page = CliRunner().invoke(main, ["--db", library.db.url, "--now", "2026-03-03T09:00:00", "task",
                                     str(after["id"])]).stdout
    assert "请于3月10日前报送，逾期将予通报" in page and "2026-03-10" in page
    with at("2026-03-05T09:00:00"):
        # submitting the filing sends the read-only values back unchanged, as a page does, and
        # does not blank the order in the plan
        complete_step(library, plan, "Task_FileDocument", "chen",
                      {"filingDate": "2026-03-05", "filingMaterials": "正式文本",
                       "newDeadline": "2026-03-10", "escalationNote": "请于3月10日前报送，逾期将予通报"})
        variables = library.instance(plan)["variables"]
        assert (variables["newDeadline"], variables["escalationNote"]) == ("2026-03-10", "请于3月10日前报送，逾期将予通报")
        complete_step(library, plan, "Task_CheckFiling", "chen", {"filingComplete": False, "filingMissing": "缺少起草说明"})
        supplement = _view(library, plan, "Task_SupplementFiling")
    # the order binds the whole filing: the supplement shows it too
    assert supplement["values"]["newDeadline"] == "2026-03-10"
    assert supplement["values"]["escalationNote"] == "请于3月10日前报送，逾期将予通报"


def test_a_filing_on_time_shows_no_order_and_submits_none(library, at):
    with at("2026-02-20T09:00:00"):
        plan = library.start("filing", actor="chen", title="测试方案", data=ISSUED)["id"]
        complete_step(library, plan, "Task_FileDocument", "chen", {"filingDate": "2026-02-20", "filingMaterials": "正式文本"})
        variables = library.instance(plan)["variables"]
        assert variables.get("newDeadline") is None and variables.get("escalationNote") is None
        complete_step(library, plan, "Task_CheckFiling", "chen", {"filingComplete": True})
    assert library.instance(plan)["status"] == "completed"


def test_a_read_only_value_cannot_be_changed_from_the_filing_step(library, at):
    with at("2026-03-02T09:00:00"):
        plan = library.start("filing", actor="chen", title="测试方案", data=ISSUED)["id"]
        library.fire_due_timers()
        complete_step(library, plan, "Task_EscalateOverdueFiling", "chen", {"newDeadline": "2026-03-10"})
        from engine.errors import Invalid
        with pytest.raises(Invalid, match="newDeadline"):
            complete_step(library, plan, "Task_FileDocument", "chen",
                          {"filingDate": "2026-03-02", "filingMaterials": "正式文本", "newDeadline": "2026-04-30"})


def test_the_archive_hand_over_points_web_users_to_the_archive_page_and_the_draft_step_to_attachments():
    for path in (BPMN / "reform_plan.bpmn", BPMN / "adjustment.bpmn"):
        root = etree.parse(str(path)).getroot()
        [task] = [t for t in root.iter(f"{{{NS['bpmn']}}}userTask") if t.get("id") == "Task_HandOverArchive"]
        text = task.find("bpmn:documentation", NS).text
        assert "在方案页面点「查看和打印决策档案」" in text and "另存为 PDF" in text
        assert text.index("查看和打印决策档案") < text.index("reformflow archive")  # the command line second, for the office
    root = etree.parse(str(BPMN / "reform_plan.bpmn")).getroot()
    [draft] = [t for t in root.iter(f"{{{NS['bpmn']}}}userTask") if t.get("id") == "Task_DraftPlan"]
    assert "请在附件中上传方案稿" in draft.find("bpmn:documentation", NS).text
