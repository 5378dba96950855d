"""Every branch of the reform-plan procedure (DOMAIN.md), each driven from start to its end event
through the engine, on SQLite and PostgreSQL. Each test asserts the path taken (the user tasks
created, in order), the key variables and the end event."""
from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner

from engine import clock
from engine.cli import main
from engine.errors import Invalid

from .conftest import BPMN
from .plan_helper import Plan, audit_payloads, end_event

# Segments of the path, in the order the tasks are created.
START = ["Task_RegisterPlan", "Task_Research", "Task_DraftPlan"]
DEPARTMENTS = ["Task_DepartmentOpinions"]
CONSULTATION = ["Task_PublicConsultation", "Task_RecordPublicComments"]
RISK_LOW = ["Task_PrepareRiskReport", "Task_RecordControls"]
RISK_HIGH = ["Task_PrepareRiskReport", "Task_RequestAdjustment"]
REVIEW = ["Task_SpecialGroupReview", "Task_CheckMaterials", "Task_LegalityReview", "Task_ReformOfficeReview"]
MAJOR = ["Task_ApproveAgenda", "Task_LeadershipGroupMeeting"]
COUNTERSIGN = ["Task_ChooseOrdinaryRoute", "Task_Countersign"]
# once the decision stands, the drafter hands its archive over (Decree 713 Art. 33) beside issuing and filing
ISSUE_AND_FILE = ["Task_IssuePlan", "Task_HandOverArchive", "Task_FileDocument", "Task_CheckFiling"]
DECIDED = ["Task_HandOverArchive", "Task_IssuePlan"]
ORDINARY_PLAN = START + DEPARTMENTS + REVIEW + COUNTERSIGN + ISSUE_AND_FILE


def assert_filed(library, plan):
    assert plan.refresh()["status"] == "completed"
    assert end_event(library, plan.id) == "Event_PlanFiled"
    assert plan.refresh()["ended_with"] == "已备案"
    assert plan.audit_ok()


def _reads_as_turned_down(library, plan):
    """The reviewer's audit of 6 December 2026: a plan turned down read 已办结 on its page and in the
    plans list, the same as one filed."""
    from .web_helper import page_text, signed_in_client
    assert plan.refresh()["ended_with"] == "方案未通过"
    library.add_user("gao", "高远", groups=["reform_office"], password="demo-pass-1")
    office = signed_in_client(library, "gao", "demo-pass-1")
    shown = page_text(office.get(f"/plans/{plan.id}"))
    assert "深化财政预算管理制度改革方案 已办结：方案未通过" in shown, shown[:400]
    assert "已办结：方案未通过" in page_text(office.get("/plans?status=completed"))


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
        plan.finish()
    assert plan.created == START + DEPARTMENTS + RISK_LOW + REVIEW + COUNTERSIGN + ISSUE_AND_FILE
    assert plan.variables["riskControls"] == "专人跟踪"
    assert plan.variables["issueDate"] == "2026-01-05"
    assert_filed(library, plan)


def test_high_risk_sends_the_plan_back_and_it_is_reassessed(library):
    plan = Plan(library)
    plan.run_until("Task_DraftPlan", Task_RegisterPlan={"riskAssessmentRequired": True, "touchesPublicInterest": True})
    plan.run_until("Task_PrepareRiskReport", Task_PublicConsultation={"consultationDays": 30})
    plan.do("Task_PrepareRiskReport", riskLevel="high")
    request = plan.task("Task_RequestAdjustment")["id"]
    # the adjustment asked for is required at the form (spaces are not a reason): the step is not
    # sent back to the analyst by 已写明调整要求？, which stays a guard only
    with pytest.raises(Invalid, match=r"「须调整的内容及理由（调整后重新评估）」\(returnReason\) 为必填项"):
        plan.do("Task_RequestAdjustment", returnReason="   ")
    assert plan.active == ["Task_RequestAdjustment"] and plan.task("Task_RequestAdjustment")["id"] == request
    plan.do("Task_RequestAdjustment", returnReason="补偿标准须调整后重新评估")
    assert plan.active == ["Task_DraftPlan"]
    assert plan.task("Task_DraftPlan")["form"][0]["id"] == "returnReason"
    assert plan.variables["returnReason"] == "补偿标准须调整后重新评估"
    plan.do("Task_DraftPlan", draftSummary="调整后的方案")
    # the argumentation runs again; the second consultation's values survive the parallel join
    # (a 45-day consultation that began 60 days ago: its period is over when the timer is reached, even
    # when its 45th day was a day off and the period ran on to the next working day)
    started = (clock.today() - timedelta(days=60)).isoformat()
    plan.run_until("Task_PrepareRiskReport", Task_PublicConsultation={"consultationDays": 45, "consultationStart": started})
    assert plan.variables["consultationDays"] == 45
    assert plan.variables["draftSummary"] == "调整后的方案"
    plan.do("Task_PrepareRiskReport", riskLevel="low")
    plan.finish()
    argumentation = ["Task_PublicConsultation", "Task_DepartmentOpinions", "Task_RecordPublicComments"]
    assert plan.created == (START + argumentation + RISK_HIGH + ["Task_DraftPlan"] + argumentation
                            + RISK_LOW + REVIEW + COUNTERSIGN + ISSUE_AND_FILE)
    assert_filed(library, plan)


def _with_medium_risk_policy(library, policy: str) -> None:
    """The analyst changes the local rule in the diagram (process properties) and deploys it."""
    files = []
    for name in ("risk_assessment.bpmn", "reform_plan.bpmn"):
        text = (BPMN / name).read_text(encoding="utf-8")
        old = '<camunda:property name="mediumRiskPolicy" value="adjust" />'
        assert old in text
        files.append((name, text.replace(old, f'<camunda:property name="mediumRiskPolicy" value="{policy}" />').encode()))
    library.deploy(files)


@pytest.mark.parametrize("policy", ["adjust", "proceed"])
def test_medium_risk_follows_the_rule_configured_in_the_diagram_not_by_the_drafter(library, policy):
    if policy != "adjust":  # "adjust" is the library's setting
        _with_medium_risk_policy(library, policy)
    # the local rules are process properties: variables from the start, not on the drafter's form
    with pytest.raises(Invalid, match="mediumRiskPolicy"):
        Plan(library, data={"mediumRiskPolicy": "adjust" if policy == "proceed" else "proceed"})
    plan = Plan(library)
    assert {k: plan.variables[k] for k in ("mediumRiskPolicy", "legalReviewDays", "minConsultationDays",
                                          "filingMonths", "pilotFilingDays", "filingSupplementDays")} == {
        "mediumRiskPolicy": policy, "legalReviewDays": 15, "minConsultationDays": 30,
        "filingMonths": 1, "pilotFilingDays": 7, "filingSupplementDays": 3}
    register = {f["id"] for f in plan.task("Task_RegisterPlan")["form"]}
    assert not register & {"mediumRiskPolicy", "legalReviewDays", "minConsultationDays"}
    with pytest.raises(Invalid):
        plan.do("Task_RegisterPlan", mediumRiskPolicy=policy)  # not on the form
    plan.run_until("Task_PrepareRiskReport", Task_RegisterPlan={"riskAssessmentRequired": True})
    plan.do("Task_PrepareRiskReport", riskLevel="medium")
    if policy == "adjust":
        assert plan.active == ["Task_RequestAdjustment"]
        plan.do("Task_RequestAdjustment")
        assert plan.active == ["Task_DraftPlan"]
        plan.run_until("Task_PrepareRiskReport")
        plan.do("Task_PrepareRiskReport", riskLevel="low")
    plan.finish()
    risk = RISK_HIGH + ["Task_DraftPlan"] + DEPARTMENTS + RISK_LOW if policy == "adjust" else RISK_LOW
    assert plan.created == START + DEPARTMENTS + risk + REVIEW + COUNTERSIGN + ISSUE_AND_FILE
    assert_filed(library, plan)


def test_a_consultation_period_past_a_year_is_a_field_error_not_an_engine_failure(library):
    """20,000 days once reached the timer and came back as addDays()'s own range error."""
    plan = Plan(library)
    plan.run_until("Task_PublicConsultation", Task_RegisterPlan={"touchesPublicInterest": True})
    with pytest.raises(Invalid) as err:
        plan.do("Task_PublicConsultation", consultationDays=20000)
    assert "consultationDays" in err.value.message and "365" in err.value.message
    assert "addDays" not in err.value.message
    assert plan.do("Task_PublicConsultation", consultationDays=365) is not None  # a year is still allowed


def test_public_consultation_lasts_30_days_then_the_comments_are_recorded(library, at):
    with at("2026-03-02T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_PublicConsultation", Task_RegisterPlan={"touchesPublicInterest": True})
        step = plan.task("Task_PublicConsultation")
        with pytest.raises(Invalid, match="期限少于规定期限.*的理由」\\(shortenReason\\) 为必填项：征求意见期限（日）为「15」"):
            plan.do("Task_PublicConsultation", consultationStart="2026-03-02", consultationDays=15)  # no reason
        assert plan.task("Task_PublicConsultation")["id"] == step["id"]  # refused: the same step, still open
        plan.do("Task_PublicConsultation", consultationStart="2026-03-02", consultationDays=15,
                shortenReason="防汛工作紧急")
        plan.do("Task_DepartmentOpinions")
        assert plan.active == []  # the consultation is open: nothing to do until it ends
    # 15 days from 2 March, the day it starts not counted (Civil Code Art. 201): the last day is
    # 17 March; the period ends at its midnight
    assert plan.fire_timers_at(at, "2026-03-17T23:59:00") == []
    assert plan.fire_timers_at(at, "2026-03-18T00:00:01") == ["Event_ConsultationPeriodEnds"]
    assert plan.active == ["Task_RecordPublicComments"]
    with at("2026-03-18T09:00:00"):
        plan.do("Task_RecordPublicComments", publicCommentsHandling="采纳8条，未采纳3条并说明理由")
        plan.finish()
    assert plan.variables["shortenReason"] == "防汛工作紧急"
    assert plan.variables["publicCommentsHandling"] == "采纳8条，未采纳3条并说明理由"
    assert plan.created == (START + ["Task_PublicConsultation", "Task_DepartmentOpinions",
                                     "Task_RecordPublicComments"] + REVIEW + COUNTERSIGN + ISSUE_AND_FILE)
    assert_filed(library, plan)


def test_expert_argumentation_for_technical_plans(library):
    plan = Plan(library)
    plan.run_until("Task_ExpertArgumentation", Task_RegisterPlan={"technical": True})
    assert plan.active == ["Task_DepartmentOpinions", "Task_ExpertArgumentation"]
    sent = plan.do("Task_ExpertArgumentation", opinionsSigned=False)
    assert "Task_ExpertArgumentation" in plan.active  # unsigned opinions do not count
    # back to the expert who sent it, with the diagram's words for why (the gateway, the flow)
    [again] = sent["reopened"]
    assert (again["element_id"], again["because"]) == ("Task_ExpertArgumentation", ["意见是否有效：未署名或未回避"])
    plan.do("Task_ExpertArgumentation", expertOpinions="建议分步实施")
    # Decree 713 Art. 29: the meeting needs how expert opinions were handled; the drafter says,
    # seeing the opinions read-only, and cannot leave it out
    handling = plan.task("Task_RecordExpertOpinionsHandling")
    assert handling["assignee"] == "zhang"
    fields = {f["id"]: f["constraints"] for f in handling["form"]}
    assert "readonly" in fields["expertOpinions"] and "required" in fields["expertOpinionsHandling"]
    with pytest.raises(Invalid, match="expertOpinionsHandling"):
        library.complete(handling["id"], actor="zhang", data={})
    plan.do("Task_RecordExpertOpinionsHandling", expertOpinionsHandling="采纳，改为分两步实施")
    plan.do("Task_DepartmentOpinions")
    assert plan.active == ["Task_SpecialGroupReview"]
    plan.finish()
    assert plan.created == (START + ["Task_DepartmentOpinions", "Task_ExpertArgumentation", "Task_ExpertArgumentation",
                                     "Task_RecordExpertOpinionsHandling"] + REVIEW + COUNTERSIGN + ISSUE_AND_FILE)
    assert plan.variables["opinionsSigned"] is True
    assert plan.variables["expertOpinionsHandling"] == "采纳，改为分两步实施"
    assert_filed(library, plan)


def test_departments_without_consensus_are_coordinated_first(library):
    plan = Plan(library)
    plan.run_until("Task_DepartmentOpinions")
    plan.do("Task_DepartmentOpinions", consensusReached=False)
    assert plan.active == ["Task_CoordinateDepartments"]
    assert plan.task("Task_CoordinateDepartments")["candidate_groups"] == ["special_group", "reform_office"]
    plan.do("Task_CoordinateDepartments", coordinationSummary="编制、财政部门已协调一致")
    assert plan.active == ["Task_DepartmentOpinions"]  # the drafter confirms the opinions again
    plan.finish()
    assert plan.created == (START + ["Task_DepartmentOpinions", "Task_CoordinateDepartments", "Task_DepartmentOpinions"]
                            + REVIEW + COUNTERSIGN + ISSUE_AND_FILE)
    assert plan.variables["coordinationSummary"] == "编制、财政部门已协调一致"
    assert_filed(library, plan)


def test_special_group_return_needs_a_reason_and_goes_back_to_drafting(library):
    plan = Plan(library)
    plan.run_until("Task_SpecialGroupReview")
    review = plan.task("Task_SpecialGroupReview")
    with pytest.raises(Invalid, match="审核结论为「退回修改」时须填写「退回理由（退回时必填）」\\(returnReason\\)"):
        plan.do("Task_SpecialGroupReview", specialGroupDecision="return")  # no reason given: said at 提交
    assert plan.active == ["Task_SpecialGroupReview"] and plan.task("Task_SpecialGroupReview")["id"] == review["id"]
    plan.do("Task_SpecialGroupReview", specialGroupDecision="return", returnReason="与中央政策衔接不够")
    assert plan.active == ["Task_DraftPlan"]
    assert plan.variables["returnReason"] == "与中央政策衔接不够"
    plan.finish()
    assert plan.created == (START + DEPARTMENTS + ["Task_SpecialGroupReview"] + ["Task_DraftPlan"]
                            + DEPARTMENTS + REVIEW + COUNTERSIGN + ISSUE_AND_FILE)
    assert_filed(library, plan)


def test_a_reviewers_page_does_not_offer_an_earlier_return_reason_as_its_own(library):
    """returnReason is `keep` = `false`: each decision gives its own. The page (and the submit
    command `task` prints from it) must not prefill the special group's old reason, else the
    legal body copying it back sends the drafter someone else's reason."""
    plan = Plan(library)
    plan.run_until("Task_SpecialGroupReview")
    first = plan.task("Task_SpecialGroupReview")["id"]
    plan.do("Task_SpecialGroupReview", specialGroupDecision="return", returnReason="缺少成本测算")
    plan.run_until("Task_SpecialGroupReview")
    again = library.task_view(plan.task("Task_SpecialGroupReview")["id"])
    assert again["values"]["returnReason"] is None
    # said apart, not prefilled; so are the review's own opinion and decision (a second round's
    # reviewer decides afresh: tests/test_review_rounds.py)
    assert again["earlier"] == {"returnReason": "缺少成本测算", "specialGroupOpinion": "内容可行",
                                "specialGroupDecision": "return"}
    assert (again["values"]["specialGroupOpinion"], again["values"]["specialGroupDecision"]) == (None, None)
    page = CliRunner().invoke(main, ["--db", library.db.url, "task", str(again["id"])]).stdout
    assert "      此前填写 (given earlier)：\"缺少成本测算\"\n" in page
    [submit] = [line for line in page.splitlines() if line.startswith("  提交 (submit)：")]
    assert '"returnReason": ""' in submit
    assert plan.variables["returnReason"] == "缺少成本测算"  # the drafter's 上次退回理由 still
    plan.do("Task_SpecialGroupReview", specialGroupDecision="approve", returnReason="缺少成本测算")
    plan.run_until("Task_LegalityReview")
    review = library.task_view(plan.task("Task_LegalityReview")["id"])
    assert review["values"]["returnReason"] is None
    assert library.task_view(first)["values"]["returnReason"] == "缺少成本测算"  # a done task: what it held


def test_legality_fail_goes_back_to_drafting_and_the_redraft_passes(library):
    plan = Plan(library)
    plan.run_until("Task_CheckMaterials")
    plan.do("Task_CheckMaterials", materialsComplete=False, missingMaterials="缺少起草说明")
    plan.do("Task_SupplementMaterials")
    plan.do("Task_CheckMaterials")
    review = plan.task("Task_LegalityReview")
    assert review["due_at"] is not None  # 15 working days by default
    with pytest.raises(Invalid, match="审查结论为「不通过」时须填写「退回理由（不通过时必填）」\\(returnReason\\)"):
        plan.do("Task_LegalityReview", legalityResult="fail")  # a fail needs reasons: said at 提交
    assert plan.active == ["Task_LegalityReview"] and plan.task("Task_LegalityReview")["id"] == review["id"]
    plan.do("Task_LegalityReview", legalityResult="fail", returnReason="与上位法相抵触")
    assert plan.active == ["Task_DraftPlan"]
    plan.run_until("Task_CheckMaterials")
    # second pass: "materials complete" from the first pass does not count again: left out, it is
    # 否, and the form asks for the missing materials
    check = plan.task("Task_CheckMaterials")["id"]
    library.claim(check, actor="li")
    with pytest.raises(Invalid, match=r"送审材料齐全为「否」时须填写「缺少或须补充的材料（不齐全时必填）」\(missingMaterials\)"):
        library.complete(check, actor="li", data={})
    assert plan.active == ["Task_CheckMaterials"] and plan.task("Task_CheckMaterials")["id"] == check
    plan.do("Task_CheckMaterials")
    plan.do("Task_LegalityReview", legalityResult="pass_with_changes", requiredChanges="删除第五条")
    # Decree 713 Art. 28: the drafter makes the required changes before the plan goes to a meeting
    changes = plan.task("Task_IncorporateLegalChanges")
    assert changes["assignee"] == "zhang"
    assert "readonly" in {f["id"]: f["constraints"] for f in changes["form"]}["requiredChanges"]
    plan.do("Task_IncorporateLegalChanges", legalChangesMade="已删除第五条")
    assert plan.active == ["Task_ReformOfficeReview"]
    plan.finish()
    legal = ["Task_CheckMaterials", "Task_SupplementMaterials", "Task_CheckMaterials", "Task_LegalityReview"]
    assert plan.created == (START + DEPARTMENTS + ["Task_SpecialGroupReview"] + legal + ["Task_DraftPlan"]
                            + DEPARTMENTS + ["Task_SpecialGroupReview"] + ["Task_CheckMaterials"]
                            + ["Task_LegalityReview", "Task_IncorporateLegalChanges", "Task_ReformOfficeReview"]
                            + COUNTERSIGN + ISSUE_AND_FILE)
    assert plan.variables["legalChangesMade"] == "已删除第五条"
    assert plan.variables["legalityResult"] == "pass_with_changes"
    assert plan.variables["requiredChanges"] == "删除第五条"
    assert_filed(library, plan)


def test_exploratory_reform_passes_only_with_a_legal_risk_statement(library):
    plan = Plan(library)
    plan.run_until("Task_LegalityReview", Task_RegisterPlan={"exploratory": True})
    with pytest.raises(Invalid, match="审查结论为「通过」.*时须填写「法律风险说明"):
        plan.do("Task_LegalityReview", legalityResult="pass")
    assert plan.active == ["Task_LegalityReview"]
    statement = "国家层面尚无明确规定，存在被上位法调整的风险"
    plan.do("Task_LegalityReview", legalityResult="pass", legalRiskStatement=statement)
    assert plan.active == ["Task_ReformOfficeReview"]
    plan.finish()
    assert plan.created == (START + DEPARTMENTS + ["Task_SpecialGroupReview", "Task_CheckMaterials"]
                            + ["Task_LegalityReview"] + ["Task_ReformOfficeReview"] + COUNTERSIGN + ISSUE_AND_FILE)
    assert plan.variables["legalRiskStatement"] == statement
    assert_filed(library, plan)


def test_legality_review_period_is_the_local_rule_and_the_legal_body_may_shorten_it(library, at):
    with at("2025-09-26T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_CheckMaterials")
        with pytest.raises(Invalid):
            plan.do("Task_CheckMaterials", reviewDays=5)  # at least 7 working days
        plan.do("Task_CheckMaterials", reviewDays=7)
        # 7 working days after Fri 26 Sep 2025: 28, 29, 30 Sep, 9, 10, 11 (Sat, worked), 13 Oct
        assert plan.task("Task_LegalityReview")["due_at"] == "2025-10-13T16:00:00+00:00"
        assert plan.variables["reviewStart"] == "2025-09-26"  # the script's date, kept as ISO text
        plan.do("Task_LegalityReview", legalityResult="fail", returnReason="程序不完备")
        plan.run_until("Task_CheckMaterials")
        # longer than the local rule: refused, naming the rule's number (it was taken, and the
        # rule's 15 counted, while the summary showed 40 to every later reviewer)
        with pytest.raises(Invalid) as longer:
            plan.do("Task_CheckMaterials", reviewDays=40)
        assert [(d["field"], d["code"]) for d in longer.value.details] == [("reviewDays", "constraint")]
        assert "不得大于 15（本地规定的审查期限）" in longer.value.details[0]["message"], longer.value.details[0]["message"]
        plan.do("Task_CheckMaterials", reviewDays=None)  # left empty: the local rule's 15
        # 15 working days: ... 13, 14, 15, 16, 17, 20, 21, 22, 23 Oct
        assert plan.task("Task_LegalityReview")["due_at"] == "2025-10-23T16:00:00+00:00"
    with at("2025-10-20T09:00:00"):
        # an opinion refused for its missing reasons leaves the review and its period as they were
        with pytest.raises(Invalid, match="退回理由"):
            plan.do("Task_LegalityReview", legalityResult="fail")
        again = plan.task("Task_LegalityReview")
        assert again["due_at"] == "2025-10-23T16:00:00+00:00"
        plan.finish()
    assert plan.created.count("Task_LegalityReview") == 2
    assert_filed(library, plan)


def test_an_overdue_legality_review_goes_to_the_reform_office_and_is_withdrawn_with_the_review(library, at):
    """Due at the end of 13 Oct 2025 (7 working days from 26 Sep): on 14 Oct the reform office
    gets a task to urge the legal body; the review stays with the legal body, and its opinion
    withdraws the office's task."""
    with at("2025-09-26T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_CheckMaterials")
        plan.do("Task_CheckMaterials", reviewDays=7)
    assert plan.fire_timers_at(at, "2025-10-13T23:00:00") == ["Event_ReviewReminder"]  # due since the 10th
    # the reminder on the review subprocess reminds the legal body's review task
    assert [r["element_id"] for r in audit_payloads(library, plan.id, "task_reminded")] == ["Task_LegalityReview"]
    assert plan.fire_timers_at(at, "2025-10-14T00:00:01") == ["Event_ReviewOverdue"]
    assert plan.fire_timers_at(at, "2025-10-14T00:00:02") == []  # exactly once
    assert plan.active == ["Task_LegalityReview", "Task_UrgeLegalityReview"]
    assert plan.task("Task_UrgeLegalityReview")["candidate_groups"] == ["reform_office"]
    assert [e["code"] for e in audit_payloads(library, plan.id, "escalation")] == ["legality_review_overdue"]
    with at("2025-10-15T09:00:00"):
        # an incomplete opinion is refused at 提交: the review and its timers stay as they were,
        # no second reminder, escalation or urging task
        with pytest.raises(Invalid, match="退回理由"):
            plan.do("Task_LegalityReview", legalityResult="fail")
        assert plan.active == ["Task_LegalityReview", "Task_UrgeLegalityReview"]
        assert len(audit_payloads(library, plan.id, "escalation")) == 1
        assert len(audit_payloads(library, plan.id, "task_reminded")) == 1
        plan.do("Task_LegalityReview")
    assert plan.active == ["Task_ReformOfficeReview"]  # the urging task went with the review
    [cancelled] = audit_payloads(library, plan.id, "task_cancelled")
    assert cancelled["element_id"] == "Task_UrgeLegalityReview"
    plan.finish()
    assert_filed(library, plan)


def test_a_local_rule_below_seven_working_days_is_refused_at_deploy(library):
    """Decree 713 Art. 26: at least 7 working days. legalReviewDays = 5 had deployed and then
    silently became 7 through the diagram's max(7, …), while the list of changes said 10 → 5."""
    files = []
    for name in ("legality_review.bpmn", "reform_plan.bpmn"):
        text = (BPMN / name).read_text(encoding="utf-8")
        old = '<camunda:property name="legalReviewDays" value="15" />'
        assert old in text
        files.append((name, text.replace(old, '<camunda:property name="legalReviewDays" value="5" />').encode()))
    before = _versions(library)
    with pytest.raises(Invalid) as refused:
        library.deploy(files)
    assert "流程属性 legalReviewDays 的值为 5，少于 7 个工作日" in str(refused.value)
    assert "《重大行政决策程序暂行条例》第二十六条" in str(refused.value)
    assert _versions(library) == before  # nothing deployed


def _versions(engine) -> list[dict]:
    from engine.queries import definitions
    with engine.db.reader() as s:
        return definitions(s, all_versions=True)


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
    # the chair overrides the majority: the reason is required, by the form (the meeting's date
    # and attendees are not lost to a step sent back)
    with pytest.raises(Invalid, match=r"时须填写「[^」]*」\(overrideReason\)"):
        plan.do("Task_LeadershipGroupMeeting", chairOverridesMajority=True)
    # approved with changes: the changes must be stated
    with pytest.raises(Invalid, match=r"时须填写「[^」]*」\(decisionChanges\)"):
        plan.do("Task_LeadershipGroupMeeting", decision="approve_with_changes", absentees="王某（出差）",
                dissent="一人建议缓行")
    assert plan.active == ["Task_LeadershipGroupMeeting"]
    plan.do("Task_LeadershipGroupMeeting", decision="approve_with_changes", absentees="王某（出差）",
            dissent="一人建议缓行", decisionChanges="第三条增加过渡期", chairOverridesMajority=True,
            overrideReason="多数意见要求缓行，主持人认为改革窗口期不宜错过")
    assert plan.active == DECIDED
    assert plan.variables["dissent"] == "一人建议缓行"
    assert plan.variables["decisionChanges"] == "第三条增加过渡期"
    plan.finish()
    assert plan.created == (START + DEPARTMENTS + REVIEW + ["Task_ApproveAgenda", "Task_ReformOfficeReview"]
                            + MAJOR + ["Task_LeadershipGroupMeeting"] + ISSUE_AND_FILE)
    assert_filed(library, plan)


def test_a_deferred_major_plan_goes_back_on_the_agenda(library, at):
    with at("2026-03-10T09:00:00"):  # the meetings are held today, before the dates set for tabling again
        plan = Plan(library)
        plan.run_until("Task_LeadershipGroupMeeting", Task_RegisterPlan={"category": "major"})
        plan.do("Task_LeadershipGroupMeeting", decision="defer")
        assert plan.active == ["Task_DeferredRetable"]
        plan.do("Task_DeferredRetable", retableDate="2026-04-01")
        assert plan.active == ["Task_ApproveAgenda"]  # a major plan needs the agenda approved again
        plan.finish()
        assert plan.created == (START + DEPARTMENTS + REVIEW + MAJOR + ["Task_DeferredRetable"] + MAJOR
                                + ISSUE_AND_FILE)
        assert plan.variables["retableDate"] == "2026-04-01"
        assert_filed(library, plan)


def test_ordinary_plan_goes_to_the_executive_meeting_when_chosen(library, at):
    with at("2026-03-10T09:00:00"):  # the meetings are held today, before the dates set for tabling again
        plan = Plan(library)
        plan.run_until("Task_ChooseOrdinaryRoute")
        plan.do("Task_ChooseOrdinaryRoute", ordinaryRoute="executive_meeting")
        assert plan.active == ["Task_ExecutiveMeeting"]
        plan.do("Task_ExecutiveMeeting", decision="defer")
        plan.do("Task_DeferredRetable", retableDate="2026-04-01")
        assert plan.active == ["Task_ChooseOrdinaryRoute"]  # back on the agenda
        plan.do("Task_ChooseOrdinaryRoute", ordinaryRoute="special_group_meeting")
        plan.do("Task_SpecialGroupMeeting", decision="discuss_again")
        assert plan.active == ["Task_SpecialGroupMeeting"]
        plan.do("Task_SpecialGroupMeeting")
        assert plan.active == DECIDED
        plan.finish()
        assert plan.created == (START + DEPARTMENTS + REVIEW + ["Task_ChooseOrdinaryRoute", "Task_ExecutiveMeeting",
                                "Task_DeferredRetable", "Task_ChooseOrdinaryRoute"] + ["Task_SpecialGroupMeeting"] * 2
                                + ISSUE_AND_FILE)
        assert_filed(library, plan)


def test_a_party_document_goes_through_the_leadership_group_whatever_its_category(library):
    """Seed 004 §9: 改革方案以省委文件出台的，经领导小组会议审议后，需提交省委常委会议审定 — an
    ordinary plan issued as a party document takes no ordinary route (executive meeting,
    special group meeting or countersign) but the leadership group's, then the government
    executive meeting (government duties) and the standing committee."""
    plan = Plan(library)
    plan.run_until("Task_ApproveAgenda", Task_RegisterPlan={
        "category": "ordinary", "partyDocument": True, "governmentDuties": True})
    plan.finish()
    assert plan.created == (START + DEPARTMENTS + REVIEW + MAJOR + ["Task_GovExecutiveMeeting",
                                                                   "Task_StandingCommittee"] + ISSUE_AND_FILE)
    assert "Task_ChooseOrdinaryRoute" not in plan.created
    assert_filed(library, plan)


def test_a_second_pass_is_decided_by_its_own_meetings(library):
    """Pass 1 ends with the government executive meeting's revise; on pass 2 every meeting
    approves, and the plan goes on to issuing (an earlier version let the first pass's revise,
    left in the variables, send an approved plan back to drafting)."""
    plan = Plan(library)
    plan.run_until("Task_GovExecutiveMeeting", Task_RegisterPlan={"partyDocument": True, "governmentDuties": True})
    plan.do("Task_GovExecutiveMeeting", govMeetingDecision="revise", returnReason="须明确资金来源")
    assert plan.active == ["Task_DraftPlan"]
    plan.run_until("Task_GovExecutiveMeeting")
    plan.do("Task_GovExecutiveMeeting")
    plan.do("Task_StandingCommittee")
    assert plan.active == DECIDED
    assert plan.variables["govMeetingDecision"] == "approve"


def test_each_meetings_required_changes_reach_the_issuing_drafter(library):
    """The leadership group approves with changes, the government meeting approves, the standing
    committee approves with changes of its own: 印发 shows both, each in its own field (one
    shared field kept only the last meeting's, and lost the leadership group's)."""
    plan = Plan(library)
    plan.run_until("Task_LeadershipGroupMeeting", Task_RegisterPlan={"partyDocument": True, "governmentDuties": True})
    plan.do("Task_LeadershipGroupMeeting", decision="approve_with_changes", decisionChanges="增加考核指标")
    plan.do("Task_GovExecutiveMeeting")
    plan.do("Task_StandingCommittee", standingCommitteeDecision="approve_with_changes",
            standingCommitteeChanges="明确牵头领导")
    issue = plan.task("Task_IssuePlan")
    shown = {f["id"] for f in issue["form"] if "readonly" in f["constraints"]}
    assert {"decisionChanges", "govMeetingChanges", "standingCommitteeChanges"} <= shown
    values = plan.variables
    assert (values["decisionChanges"], values["standingCommitteeChanges"]) == ("增加考核指标", "明确牵头领导")
    assert values.get("govMeetingChanges") is None


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
    with pytest.raises(Invalid, match=r"时须填写「[^」]*」\(returnReason\)"):  # revising needs the changes asked for
        plan.do("Task_StandingCommittee", standingCommitteeDecision="revise")
    plan.do("Task_StandingCommittee", standingCommitteeDecision="revise", returnReason="第三部分需细化")
    assert plan.active == ["Task_DraftPlan"]
    plan.run_until("Task_LeadershipGroupMeeting")
    plan.do("Task_LeadershipGroupMeeting")
    if government_duties:
        plan.do("Task_GovExecutiveMeeting")
    plan.do("Task_StandingCommittee")
    assert plan.active == DECIDED  # the stale "revise" of the first pass is not read
    plan.finish()
    meetings = MAJOR + (["Task_GovExecutiveMeeting"] if government_duties else [])
    assert plan.created == (START + DEPARTMENTS + REVIEW + meetings + ["Task_StandingCommittee"]
                            + ["Task_DraftPlan"] + DEPARTMENTS + REVIEW + meetings + ["Task_StandingCommittee"]
                            + ISSUE_AND_FILE)
    assert_filed(library, plan)


@pytest.mark.parametrize("outcome", ["revise", "reject"])
def test_the_government_meeting_revises_or_rejects(library, outcome):
    plan = Plan(library)
    plan.run_until("Task_GovExecutiveMeeting", Task_RegisterPlan={
        "category": "major", "partyDocument": True, "governmentDuties": True})
    plan.do("Task_GovExecutiveMeeting", govMeetingDecision=outcome, returnReason="政府职责分工需调整")
    front = START + DEPARTMENTS + REVIEW + MAJOR + ["Task_GovExecutiveMeeting"]
    if outcome == "reject":
        assert plan.active == ["Task_HandOverArchive"]  # a rejection's records are archived too
        plan.do("Task_HandOverArchive")
        assert plan.refresh()["status"] == "completed"
        assert end_event(library, plan.id) == "Event_PlanRejected"
        assert plan.created == front + ["Task_HandOverArchive"]
        _reads_as_turned_down(library, plan)
        return
    assert plan.active == ["Task_DraftPlan"]
    assert plan.variables["returnReason"] == "政府职责分工需调整"
    plan.finish()
    assert plan.created == (front + ["Task_DraftPlan"] + DEPARTMENTS + REVIEW + MAJOR
                            + ["Task_GovExecutiveMeeting", "Task_StandingCommittee"] + ISSUE_AND_FILE)
    assert_filed(library, plan)


def test_government_meeting_and_standing_committee_defer_discuss_again_and_keep_a_record(library, at):
    with at("2026-04-29T09:00:00"):  # the meetings are held today, before the dates set for tabling again
        plan = Plan(library)
        plan.run_until("Task_GovExecutiveMeeting", Task_RegisterPlan={
            "category": "major", "partyDocument": True, "governmentDuties": True})
        form = {f["id"] for f in plan.task("Task_GovExecutiveMeeting")["form"]}
        assert {"meetingDate", "attendees", "absentees", "memberStances", "dissent", "chairOverridesMajority",
                "overrideReason", "govMeetingChanges"} <= form
        plan.do("Task_GovExecutiveMeeting", govMeetingDecision="defer")
        assert plan.active == ["Task_GovMeetingRetable"]
        assert plan.task("Task_GovMeetingRetable")["candidate_groups"] == ["gov_office"]
        plan.do("Task_GovMeetingRetable", retableDate="2026-05-06")
        plan.do("Task_GovExecutiveMeeting", govMeetingDecision="discuss_again")
        with pytest.raises(Invalid, match=r"时须填写「[^」]*」\(overrideReason\)"):  # overriding the majority needs a reason
            plan.do("Task_GovExecutiveMeeting", govMeetingDecision="approve", chairOverridesMajority=True)
        plan.do("Task_GovExecutiveMeeting", govMeetingDecision="approve", chairOverridesMajority=True,
                overrideReason="时间紧迫", absentees="李某（病假）")
        assert plan.active == ["Task_StandingCommittee"]
        plan.do("Task_StandingCommittee", standingCommitteeDecision="defer")
        plan.do("Task_StandingCommitteeRetable", retableDate="2026-05-20")
        plan.do("Task_StandingCommittee", standingCommitteeDecision="discuss_again")
        with pytest.raises(Invalid, match=r"时须填写「[^」]*」\(standingCommitteeChanges\)"):  # the changes must be stated
            plan.do("Task_StandingCommittee", standingCommitteeDecision="approve_with_changes")
        plan.do("Task_StandingCommittee", standingCommitteeDecision="approve_with_changes",
                standingCommitteeChanges="明确牵头单位")
        assert plan.active == DECIDED
        assert plan.variables["standingCommitteeChanges"] == "明确牵头单位"
        assert not plan.variables.get("absentees")  # each meeting's absentees are its own
        plan.finish()
        assert plan.created == (START + DEPARTMENTS + REVIEW + MAJOR
                                + ["Task_GovExecutiveMeeting", "Task_GovMeetingRetable"] + ["Task_GovExecutiveMeeting"] * 2
                                + ["Task_StandingCommittee", "Task_StandingCommitteeRetable"]
                                + ["Task_StandingCommittee"] * 2 + ISSUE_AND_FILE)
        completed = [e["new"] for e in audit_payloads(library, plan.id, "task_completed")
                     if e["element_id"] == "Task_GovExecutiveMeeting"]
        assert completed[-1]["overrideReason"] == "时间紧迫"  # the record of each meeting is in the audit trail
        assert_filed(library, plan)


def test_the_reform_office_returns_a_plan_with_a_reason(library):
    plan = Plan(library)
    plan.run_until("Task_ReformOfficeReview")
    with pytest.raises(Invalid, match=r"时须填写「[^」]*」\(returnReason\)"):  # no reason: refused at the form
        plan.do("Task_ReformOfficeReview", officeReviewDecision="return")
    plan.do("Task_ReformOfficeReview", officeReviewDecision="return", returnReason="人财物事项未协商一致")
    assert plan.active == ["Task_DraftPlan"]
    assert plan.variables["returnReason"] == "人财物事项未协商一致"
    plan.finish()
    assert plan.created == (START + DEPARTMENTS + REVIEW + ["Task_DraftPlan"]
                            + DEPARTMENTS + REVIEW + COUNTERSIGN + ISSUE_AND_FILE)
    assert_filed(library, plan)


def test_rejected_plan_ends_without_issuance(library):
    plan = Plan(library)
    plan.run_until("Task_Countersign")
    plan.do("Task_Countersign", decision="reject")
    # no issuance; the decision's records still go to the archive (Decree 713 Art. 33), then it ends
    assert plan.active == ["Task_HandOverArchive"]
    archive = plan.task("Task_HandOverArchive")
    assert archive["assignee"] == "zhang"
    # the hand-over date's rule in words names the meeting's date, which a countersigned plan has
    # none of: it hung after the other hint (“不晚于 …（今天）；审议会议日期”, the reviewer's audit)
    from .web_helper import page_text, signed_in_client
    library.set_password("zhang", "demo-pass-1", actor="chen")
    page = page_text(signed_in_client(library, "zhang", "demo-pass-1").get(f"/tasks/{archive['id']}"))
    assert "（今天）" in page and "审议会议日期" not in page
    plan.do("Task_HandOverArchive")
    assert plan.refresh()["status"] == "completed"
    assert end_event(library, plan.id) == "Event_PlanRejected"
    assert plan.created == START + DEPARTMENTS + REVIEW + COUNTERSIGN + ["Task_HandOverArchive"]


def test_the_decision_archive_is_due_30_days_after_the_decision_and_the_plan_ends_with_both(library, at):
    """Decree 713 Art. 33, with the local rule of 30 days (process property archiveDays): the
    drafter hands the decision's records over beside issuing and filing; the plan is done when
    both are."""
    with at("2026-03-02T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_IssuePlan")
        assert plan.active == DECIDED
        archive = plan.task("Task_HandOverArchive")
        assert archive["assignee"] == "zhang" and archive["candidate_groups"] == ["drafter"]
        assert archive["due_at"] == "2026-04-01T16:00:00+00:00"  # to the end of 1 April, Beijing time
        plan.do("Task_IssuePlan", issueDate="2026-03-02")
        plan.do("Task_FileDocument")
        plan.do("Task_CheckFiling")
        assert plan.active == ["Task_HandOverArchive"] and plan.refresh()["status"] == "running"
        with pytest.raises(Invalid) as post_dated:
            plan.do("Task_HandOverArchive", archiveHandedOverOn="2026-03-03")
        assert post_dated.value.details[0]["field"] == "archiveHandedOverOn"
    with at("2026-03-20T09:00:00"):
        plan.do("Task_HandOverArchive", archiveHandedOverOn="2026-03-20", archiveReceiver="市档案馆")
    assert plan.variables["archiveReceiver"] == "市档案馆"
    assert plan.created == ORDINARY_PLAN
    assert_filed(library, plan)


def test_report_up_to_the_central_departments(library):
    plan = Plan(library)
    plan.run_until("Task_ReportUp", Task_RegisterPlan={"reportUp": True})
    plan.do("Task_ReportUp", centralApproval="return", returnReason="国家部委要求修改")
    assert plan.active == ["Task_DraftPlan"]
    plan.run_until("Task_ReportUp")
    plan.do("Task_ReportUp")
    assert plan.active == DECIDED
    plan.finish()
    assert plan.created == (START + DEPARTMENTS + REVIEW + COUNTERSIGN + ["Task_ReportUp", "Task_DraftPlan"]
                            + DEPARTMENTS + REVIEW + COUNTERSIGN + ["Task_ReportUp"] + ISSUE_AND_FILE)
    assert plan.variables["centralApproval"] == "approve"
    assert_filed(library, plan)


def test_issue_date_cannot_be_in_the_future(library, at):
    with at("2026-03-10T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_IssuePlan")
        with pytest.raises(Invalid) as post_dated:  # would push the filing deadline back
            plan.do("Task_IssuePlan", issueDate="2026-04-30")
        assert post_dated.value.details[0]["field"] == "issueDate"
        assert "不得晚于 2026-03-10（今天）" in post_dated.value.message
        assert plan.active == DECIDED
        plan.do("Task_IssuePlan", issueDate="2026-03-10")
        assert plan.task("Task_FileDocument")["due_at"] == "2026-04-10T16:00:00+00:00"
        plan.finish()
    assert plan.created == ORDINARY_PLAN  # refused on submit: 印发 was not opened a second time
    assert_filed(library, plan)


# Each of the five meeting records, and how a plan gets there
MEETINGS = {
    "Task_LeadershipGroupMeeting": {"Task_RegisterPlan": {"category": "major"}},
    "Task_SpecialGroupMeeting": {"Task_ChooseOrdinaryRoute": {"ordinaryRoute": "special_group_meeting"}},
    "Task_ExecutiveMeeting": {"Task_ChooseOrdinaryRoute": {"ordinaryRoute": "executive_meeting"}},
    "Task_GovExecutiveMeeting": {"Task_RegisterPlan": {"category": "major", "partyDocument": True,
                                                       "governmentDuties": True}},
    "Task_StandingCommittee": {"Task_RegisterPlan": {"category": "major", "partyDocument": True}},
}


@pytest.mark.parametrize("meeting", MEETINGS)
def test_a_meeting_is_recorded_after_it_is_held(library, at, meeting):
    """A meeting held on 1 May 2027 cannot be recorded on 4 December 2026: the record is of a
    meeting that took place."""
    with at("2026-12-04T10:00:00"):
        plan = Plan(library)
        plan.run_until(meeting, **MEETINGS[meeting])
        with pytest.raises(Invalid) as future:
            plan.do(meeting, meetingDate="2027-05-01")
        assert [d["field"] for d in future.value.details] == ["meetingDate"]
        assert future.value.details[0]["message"] == (
            "「会议日期」(meetingDate) 不得晚于 2026-12-04（今天） (“会议日期” not after 2026-12-04 (today))")  # the English names the field and says the bound as the Chinese does, never the expression (it was `: ${…}`)
        assert plan.active == [meeting]  # nothing was recorded
        plan.do(meeting, meetingDate="2026-12-04")
        assert plan.variables["meetingDate"] == "2026-12-04"


def _decided_at_a_meeting(library, at, held="2026-03-05") -> Plan:
    """A major plan approved by the leadership group at its meeting of `held`, recorded on 10 March."""
    with at("2026-03-10T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_LeadershipGroupMeeting", Task_RegisterPlan={"category": "major"})
        plan.do("Task_LeadershipGroupMeeting", meetingDate=held)
        assert plan.active == DECIDED
    return plan


def test_a_plan_is_issued_and_its_archive_handed_over_after_the_meeting_that_decided_it(library, at):
    plan = _decided_at_a_meeting(library, at)
    with at("2026-03-10T09:00:00"):
        for element, field, label in (("Task_IssuePlan", "issueDate", "印发日期"),
                                      ("Task_HandOverArchive", "archiveHandedOverOn", "移交日期")):
            with pytest.raises(Invalid) as early:
                plan.do(element, **{field: "2026-03-04"})
            # the meeting's date is on another task's form: the rule is said in words
            assert early.value.details[0]["message"] == (
                f"「{label}」({field}) 不得早于 2026-03-05（审议会议日期） "
                f"(“{label}” not before 2026-03-05 (“审议会议日期”))")  # the English names the field and says the bound as the Chinese does, never the expression (it was `: ${…}`)
            with pytest.raises(Invalid, match="不得晚于 2026-03-10（今天）"):  # and still not in the future
                plan.do(element, **{field: "2026-03-11"})
        assert plan.active == DECIDED
        plan.do("Task_IssuePlan", issueDate="2026-03-05")  # the day of the meeting will do
        plan.do("Task_HandOverArchive", archiveHandedOverOn="2026-03-05")
        plan.finish()
    assert plan.variables["issueDate"] == "2026-03-05"
    assert_filed(library, plan)


def test_a_countersigned_plan_has_no_meeting_date_to_follow(library, at):
    """Countersigned, no meeting was held: the issue date is bounded by today only."""
    with at("2026-03-10T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_IssuePlan")
        assert "meetingDate" not in plan.variables
        plan.do("Task_IssuePlan", issueDate="2026-03-02")
        plan.finish()
    assert plan.created == ORDINARY_PLAN
    assert_filed(library, plan)


def test_a_deferred_plan_is_tabled_again_after_the_meeting_that_deferred_it(library, at):
    with at("2026-03-10T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_LeadershipGroupMeeting", Task_RegisterPlan={"category": "major"})
        plan.do("Task_LeadershipGroupMeeting", meetingDate="2026-03-09", decision="defer")
        with pytest.raises(Invalid) as early:
            plan.do("Task_DeferredRetable", retableDate="2026-03-08")
        assert "不得早于 2026-03-09（决定暂缓的会议日期当天或之后）" in early.value.details[0]["message"]
        plan.do("Task_DeferredRetable", retableDate="2026-03-09")
        assert plan.active == ["Task_ApproveAgenda"]


def _issue(library, at, *, pilot=False, issue_date="2026-01-31"):
    with at(f"{issue_date}T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_IssuePlan", Task_RegisterPlan={"pilot": pilot})
        plan.do("Task_HandOverArchive")  # the decision's archive handed over at once: only filing is left
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
    assert plan.created == ORDINARY_PLAN
    assert_filed(library, plan)


def test_the_filing_date_lies_between_the_issue_date_and_today(library, at):
    plan = _issue(library, at)
    with at("2026-02-20T09:00:00"):
        for wrong, said in (("2026-01-30", "不得早于 2026-01-31（印发日期）"),
                            ("2026-02-21", "不得晚于 2026-02-20（今天）")):
            with pytest.raises(Invalid) as refused:
                plan.do("Task_FileDocument", filingDate=wrong)
            assert [d["field"] for d in refused.value.details] == ["filingDate"] and said in refused.value.message
        assert plan.active == ["Task_FileDocument"] and audit_payloads(library, plan.id, "task_completed")[-1][
            "element_id"] == "Task_IssuePlan"  # nothing was recorded for the refused submissions
        plan.do("Task_FileDocument", filingDate="2026-01-31")
        plan.do("Task_CheckFiling")
    assert plan.created == ORDINARY_PLAN
    assert_filed(library, plan)


def test_a_reminder_already_due_when_its_task_opens_reminds_at_once(library, at):
    """Issued 31 Jan but entered on 25 Feb: the filing reminder (5 days before 28 Feb) is past
    when 报送备案 opens, so it fires in that same action, and reminds the holder as the worker would."""
    with at("2026-01-31T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_IssuePlan")
        plan.do("Task_HandOverArchive")
    with at("2026-02-25T09:00:00"):
        plan.do("Task_IssuePlan", issueDate="2026-01-31")
    assert plan.active == ["Task_FileDocument"]
    [reminded] = audit_payloads(library, plan.id, "task_reminded")
    assert (reminded["element_id"], reminded["reminder"], reminded["to"]) == (
        "Task_FileDocument", "Event_FilingReminder", ["zhang"])
    assert plan.task("Task_FileDocument")["reminded_at"] == "2026-02-25T01:00:00+00:00"
    assert plan.fire_timers_at(at, "2026-02-25T09:00:01") == []  # and not again by the worker


def _overdue(library, at):
    """Issued 31 Jan: reminded on 24 Feb, overdue on 1 Mar, the reform office sets 6 Mar."""
    plan = _issue(library, at)
    assert plan.fire_timers_at(at, "2026-02-23T23:00:00") == []
    # the reminder: once 23 Feb, 5 days before the deadline, is over; it goes to the task's holder
    assert plan.fire_timers_at(at, "2026-02-24T09:00:00") == ["Event_FilingReminder"]
    [reminded] = audit_payloads(library, plan.id, "task_reminded")
    assert (reminded["element_id"], reminded["to"]) == ("Task_FileDocument", ["zhang"])
    assert plan.active == ["Task_FileDocument"]
    assert plan.fire_timers_at(at, "2026-03-01T00:00:01") == ["Event_FilingOverdue"]
    assert plan.fire_timers_at(at, "2026-03-01T00:00:02") == []  # fired exactly once
    # the overdue path escalates; it is not a second reminder: the task keeps the reminder's time
    assert len(audit_payloads(library, plan.id, "task_reminded")) == 1
    assert plan.task("Task_FileDocument")["reminded_at"] == "2026-02-24T01:00:00+00:00"
    assert audit_payloads(library, plan.id, "escalation") == [
        {"element_id": "Event_EscalateToReformOffice", "name": "逾期上报改革办", "code": "filing_overdue",
         "process": "SubProcess_Filing",  # thrown inside filing.bpmn's subprocess 报送和审查备案
         "on_element_id": "Task_FileDocument", "on_name": "报送备案"}]  # on the overdue step's path
    # the filing task stays with the lead unit; the reform office sets a new deadline
    assert plan.active == ["Task_EscalateOverdueFiling", "Task_FileDocument"]
    assert plan.task("Task_EscalateOverdueFiling")["candidate_groups"] == ["reform_office"]
    with at("2026-03-02T09:00:00"):
        with pytest.raises(Invalid) as today:  # the new deadline must be after today
            plan.do("Task_EscalateOverdueFiling", newDeadline="2026-03-02")
        assert "不得早于 2026-03-03（明天）" in today.value.message
        assert "Task_EscalateOverdueFiling" in plan.active
        assert plan.task("Task_FileDocument")["due_at"] == "2026-02-28T16:00:00+00:00"  # not moved to it
        assert audit_payloads(library, plan.id, "task_due_changed") == []
        plan.do("Task_EscalateOverdueFiling", newDeadline="2026-03-06")
    assert plan.active == ["Task_FileDocument"]
    # the lead unit's filing task now shows the new deadline, and the change is on record
    assert plan.task("Task_FileDocument")["due_at"] == "2026-03-06T16:00:00+00:00"
    [moved] = audit_payloads(library, plan.id, "task_due_changed")
    assert moved["element_id"] == "Task_FileDocument"
    assert (moved["old"]["due_at"], moved["new"]["due_at"]) == ("2026-02-28T16:00:00+00:00", "2026-03-06T16:00:00+00:00")
    assert (moved["old"]["inputs"]["newDeadline"], moved["new"]["inputs"]["newDeadline"]) == (None, "2026-03-06")
    return plan


def test_late_filing_gets_a_new_deadline_and_filing_within_it_ends_the_plan(library, at):
    plan = _overdue(library, at)
    with at("2026-03-05T09:00:00"):
        plan.do("Task_FileDocument", filingDate="2026-03-05")
        plan.do("Task_CheckFiling")
    assert_filed(library, plan)  # the wait for the new deadline ended with the filing
    assert plan.fire_timers_at(at, "2026-03-09T09:00:00") == []
    assert plan.created == ORDINARY_PLAN[:-1] + ["Task_EscalateOverdueFiling", "Task_CheckFiling"]


def test_a_supplement_requested_before_the_ordered_deadline_is_due_by_it(library, at):
    plan = _overdue(library, at)  # ordered to file by 6 March
    with at("2026-03-05T09:00:00"):
        plan.do("Task_FileDocument", filingDate="2026-03-05")
        plan.do("Task_CheckFiling", filingComplete=False, filingMissing="缺少起草说明")
        # by the order's end of Fri 6 March, not 3 working days later (end of Tue 10 March)
        assert plan.task("Task_SupplementFiling")["due_at"] == "2026-03-06T16:00:00+00:00"
    assert plan.active == ["Task_SupplementFiling"]


def test_late_filing_past_the_new_deadline_is_publicly_notified(library, at):
    plan = _overdue(library, at)
    assert plan.fire_timers_at(at, "2026-03-06T23:59:00") == []
    assert plan.fire_timers_at(at, "2026-03-07T00:00:01") == ["Event_NewDeadlinePassed"]
    assert plan.active == ["Task_FileDocument", "Task_PublicNotice"]
    assert plan.task("Task_PublicNotice")["candidate_groups"] == ["reform_office"]
    with at("2026-03-09T09:00:00"):
        plan.do("Task_PublicNotice", noticeDecision="notice", noticeNote="同改办通报〔2026〕3号")
        assert plan.active == ["Task_FileDocument"]  # still to be filed
        # computed again once, when the new deadline was set; not by each later action
        assert len(audit_payloads(library, plan.id, "task_due_changed")) == 1
        assert plan.task("Task_FileDocument")["due_at"] == "2026-03-06T16:00:00+00:00"
        plan.do("Task_FileDocument", filingDate="2026-03-09")
        plan.do("Task_CheckFiling")
    assert plan.variables["noticeNote"] == "同改办通报〔2026〕3号"
    assert plan.created == (ORDINARY_PLAN[:-1] + ["Task_EscalateOverdueFiling", "Task_PublicNotice"]
                            + ["Task_CheckFiling"])
    assert_filed(library, plan)


def test_pilot_plan_files_within_one_week(library, at):
    plan = _issue(library, at, pilot=True, issue_date="2026-03-02")
    assert plan.task("Task_FileDocument")["due_at"] == "2026-03-09T16:00:00+00:00"
    with at("2026-03-05T09:00:00"):
        plan.finish()
    assert plan.created == ORDINARY_PLAN
    assert_filed(library, plan)


def test_incomplete_filing_is_suspended_until_supplemented_within_its_deadline(library, at):
    plan = _issue(library, at)
    with at("2026-02-10T09:00:00"):
        plan.do("Task_FileDocument")
        check = plan.task("Task_CheckFiling")["id"]
        # the missing materials must be listed: said at the form, the check still open
        with pytest.raises(Invalid, match=r"备案材料齐全为「否」时须填写「缺少的材料（不齐全时必填）」\(filingMissing\)"):
            plan.do("Task_CheckFiling", filingComplete=False)
        assert plan.active == ["Task_CheckFiling"] and plan.task("Task_CheckFiling")["id"] == check
        plan.do("Task_CheckFiling", filingComplete=False, filingMissing="缺少起草说明")
        assert plan.active == ["Task_SupplementFiling"]
        supplement = plan.task("Task_SupplementFiling")
        assert supplement["assignee"] == "zhang"
        # 3 working days (filingSupplementDays) after Tue 10 Feb 2026: 11, 12, 13 Feb
        assert supplement["due_at"] == "2026-02-13T16:00:00+00:00"
    # reminded one working day before the supplement deadline (end of 12 Feb), overdue after 13 Feb
    assert plan.fire_timers_at(at, "2026-02-13T00:00:01") == ["Event_SupplementReminder"]
    assert [r["element_id"] for r in audit_payloads(library, plan.id, "task_reminded")] == ["Task_SupplementFiling"]
    assert plan.fire_timers_at(at, "2026-02-14T00:00:01") == ["Event_SupplementOverdue"]
    assert [e["element_id"] for e in audit_payloads(library, plan.id, "escalation")] == [
        "Event_SupplementOverdueEscalation"]
    assert plan.active == ["Task_EscalateOverdueFiling", "Task_SupplementFiling"]
    with at("2026-02-16T09:00:00"):
        plan.do("Task_EscalateOverdueFiling", newDeadline="2026-02-20")
        assert plan.task("Task_SupplementFiling")["due_at"] == "2026-02-20T16:00:00+00:00"  # follows the new deadline
    assert plan.fire_timers_at(at, "2026-02-21T00:00:01") == ["Event_NewDeadlinePassed"]
    with at("2026-02-24T09:00:00"):
        plan.do("Task_PublicNotice", noticeDecision="notice", noticeNote="同改办通报〔2026〕2号")
        plan.do("Task_SupplementFiling")
        plan.do("Task_CheckFiling")
    assert plan.created == ORDINARY_PLAN + ["Task_SupplementFiling", "Task_EscalateOverdueFiling",
                                            "Task_PublicNotice", "Task_CheckFiling"]
    assert plan.variables["supplementNote"] == "已补充起草说明"
    assert_filed(library, plan)


def test_a_deadline_already_past_when_reached_escalates_at_once(library, at):
    with at("2026-03-10T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_IssuePlan")
        plan.do("Task_HandOverArchive")
        plan.do("Task_IssuePlan", issueDate="2026-01-05")  # recorded late: filing was due 5 Feb
        assert plan.active == ["Task_EscalateOverdueFiling", "Task_FileDocument"]
        plan.finish()
    assert plan.created == ORDINARY_PLAN[:-1] + ["Task_EscalateOverdueFiling", "Task_CheckFiling"]
    assert_filed(library, plan)
