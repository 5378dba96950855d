"""What a reviewer is shown of a plan, from the QA pass of daily users (docs/users.md §0): 送审材料一览
tells a procedure the plan does not need (and why, from the diagram's gateway and the plan's own
answers) from one still ahead or in progress, as the decision archive does; it lists the drafter's
修改说明 of each redraft, newest first; 备案审查 shows what was filed; 报送备案 shows the original
filing deadline beside the office's new one; a meeting held again is recorded afresh, not with the
last meeting's date and attendees."""
from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner

from engine import clock, task_page
from engine.archive import decision_archive
from engine.cli import main
from engine.errors import Invalid
from engine.history import load_trail
from engine.procedure_gates import Library, containers

from . import file_samples
from .conftest import BPMN
from .plan_helper import Plan, complete_step


def _materials(engine, plan_id: int) -> dict:
    with engine.db.reader() as s:
        return task_page.materials(s, plan_id, load_trail(s, plan_id))


def _states(materials: dict) -> dict:
    return {s["code"]: (s["state"], s["reason"]) for s in materials["sections"]}


# ---------------------------------------------------------------- not needed, in progress, ahead
def test_the_library_names_the_gateways_that_make_a_procedure_unneeded():
    processes = {}
    for path in sorted(BPMN.glob("*.bpmn")):
        processes.update(containers(path.read_bytes(), path.name))
    diagrams = Library(processes)
    plan = processes["reform_plan"]
    found = {code: [(g.reason, g.condition) for g in diagrams.gates(plan, code)]
             for code in ("public_participation", "expert_argumentation", "risk_assessment", "legality_review",
                          "collective_decision")}
    assert found == {
        "public_participation": [("是否涉及群众切身利益：不涉及", "${touchesPublicInterest}")],
        "expert_argumentation": [("是否专业性技术性强：否", "${technical}")],
        # the call of risk_assessment.bpmn stands for its steps
        "risk_assessment": [("是否须风险评估：无需评估", "${riskAssessmentRequired}")],
        "legality_review": [], "collective_decision": []}


def test_a_procedure_not_needed_is_told_from_one_ahead_and_one_in_progress(library, at):
    with at("2026-03-02T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_PublicConsultation", Task_RegisterPlan={
            "touchesPublicInterest": True, "technical": False, "riskAssessmentRequired": False})
        states = _states(_materials(library, plan.id))
    assert states == {
        "public_participation": ("open", None),
        "expert_argumentation": ("not_needed", "是否专业性技术性强：否"),
        "risk_assessment": ("not_needed", "是否须风险评估：无需评估"),
        "legality_review": ("not_reached", None), "collective_decision": ("not_reached", None)}


def test_a_needed_procedure_still_ahead_is_not_reached(library, at):
    with at("2026-03-02T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_DepartmentOpinions", Task_RegisterPlan={"riskAssessmentRequired": True})
        states = _states(_materials(library, plan.id))
    assert states["risk_assessment"] == ("not_reached", None)  # required: the plan has not come to it
    assert states["public_participation"] == ("not_needed", "是否涉及群众切身利益：不涉及")


def test_the_archive_says_the_states_as_the_task_page_does(library, at):
    with at("2026-03-02T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_LegalityReview")
        with library.db.reader() as s:
            archive = decision_archive(s, plan.id, library_now())
    sections = {s["code"]: (s["state"], s["reason"]) for s in archive["sections"] if s["code"] != "other"}
    assert sections == _states(_materials(library, plan.id))
    assert sections["legality_review"] == ("open", None) and sections["collective_decision"] == ("not_reached", None)
    lines = CliRunner().invoke(main, ["--db", library.db.url, "archive", str(plan.id)]).stdout.splitlines()
    assert "1. 公众参与 (public participation)：不需要（是否涉及群众切身利益：不涉及） " \
           "(not needed: 是否涉及群众切身利益：不涉及)" in lines
    assert "5. 集体讨论决定 (collective discussion and decision)：尚未到达，无记录 (not reached yet, no record)" in lines


def library_now():
    return clock.now()


# ---------------------------------------------------------------- 修改说明
def test_the_material_lists_each_redrafts_revision_notes_newest_first(library, at):
    with at("2026-03-02T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_SpecialGroupReview")
        plan.do("Task_SpecialGroupReview", specialGroupDecision="return", returnReason="请补充成本测算")
    with at("2026-03-04T10:00:00"):
        plan.do("Task_DraftPlan", draftSummary="第二稿", revisionNotes="已补充成本测算")
        plan.run_until("Task_SpecialGroupReview")
        plan.do("Task_SpecialGroupReview", specialGroupDecision="return", returnReason="请压缩篇幅")
    with at("2026-03-06T11:00:00"):
        plan.do("Task_DraftPlan", draftSummary="第三稿", revisionNotes="已压缩至八千字")
        plan.run_until("Task_SpecialGroupReview")
        revisions = _materials(library, plan.id)["revisions"]
    assert [(r["round"], r["notes"], r["name"], r["occurred_at"][:10]) for r in revisions] == [
        (3, "已压缩至八千字", "起草方案", "2026-03-06"), (2, "已补充成本测算", "起草方案", "2026-03-04")]
    assert revisions[0]["actor_name"] == "张伟"


# ---------------------------------------------------------------- filing
ISSUED = {"issueDate": "2026-01-31", "pilot": False, "documentNumber": "X发〔2026〕9号"}


def _view(engine, plan_id: int, element_id: str) -> dict:
    [task] = [t for t in engine.instance(plan_id)["tasks"] if t["element_id"] == element_id]
    return engine.task_view(task["id"])


@pytest.mark.parametrize("data, deadline", [
    (ISSUED, "2026-02-28"),  # one month: the month's last day (a Saturday worked in 2026, 调休: it stays)
    # a week from 16 February ends on the 23rd, the Spring Festival's last day off: on the 24th
    # (periodEnd, 民法典第二百零三条)
    ({**ISSUED, "issueDate": "2026-02-16", "pilot": True}, "2026-02-24")])
def test_the_filing_form_shows_the_original_deadline(library, at, data, deadline):
    with at("2026-02-20T09:00:00"):
        plan = library.start("filing", actor="chen", title="测试方案", data=data)["id"]
        view = _view(library, plan, "Task_FileDocument")
    [field] = [f for f in view["form"] if f["id"] == "filingDeadline"]
    assert "readonly" in field["constraints"] and field["label"].startswith("原备案期限")
    assert view["values"]["filingDeadline"] == deadline
    # as the timer counts it: the step is due at the end of that day
    assert date.fromisoformat(deadline) == date.fromisoformat(view["due_at"][:10]) or view["due_at"].startswith(deadline)


def test_an_extended_filing_shows_both_deadlines(library, at):
    with at("2026-03-02T09:00:00"):
        plan = library.start("filing", actor="chen", title="测试方案", data=ISSUED)["id"]
        library.fire_due_timers()
        complete_step(library, plan, "Task_EscalateOverdueFiling", "chen", {"newDeadline": "2026-03-10"})
        view = _view(library, plan, "Task_FileDocument")
    assert (view["values"]["filingDeadline"], view["values"]["newDeadline"]) == ("2026-02-28", "2026-03-10")
    ids = [f["id"] for f in view["form"]]
    assert ids.index("filingDeadline") < ids.index("newDeadline")  # the original first, then the new one


def test_the_filing_review_shows_what_was_filed(library, at):
    with at("2026-02-20T09:00:00"):
        plan = library.start("filing", actor="chen", title="测试方案", data=ISSUED)["id"]
        [filing] = [t for t in library.instance(plan)["tasks"] if t["element_id"] == "Task_FileDocument"]
        library.attach(filing["id"], "备案报告.pdf", file_samples.pdf("备案报告"), actor="chen")
        complete_step(library, plan, "Task_FileDocument", "chen",
                      {"filingDate": "2026-02-20", "filingMaterials": "正式文本、起草说明"})
        review = _view(library, plan, "Task_CheckFiling")
    shown = {f["id"]: review["values"][f["id"]] for f in review["form"] if "readonly" in f["constraints"]}
    assert shown == {"documentNumber": "X发〔2026〕9号", "issueDate": "2026-01-31", "pilot": False,
                     "filingDeadline": "2026-02-28", "newDeadline": None, "filingDate": "2026-02-20",
                     "filingMaterials": "正式文本、起草说明", "supplementNote": None}
    assert review["files_of"] == ["Task_FileDocument", "Task_SupplementFiling"]
    with at("2026-02-21T09:00:00"):  # the review submits without touching what was filed
        complete_step(library, plan, "Task_CheckFiling", "chen", {"filingComplete": True})
    assert library.instance(plan)["status"] == "completed"


# ---------------------------------------------------------------- a meeting held again
MEETING_ONE = {"meetingDate": "2026-03-02", "attendees": "刘洋、陈静、孙强", "absentees": "王强",
               "memberStances": "多数同意，孙强主张再议", "dissent": "孙强：须补充测算", "decision": "discuss_again"}
ONE_MEETING = ("meetingDate", "attendees", "absentees", "memberStances", "dissent", "decision")


def test_a_meeting_held_again_is_recorded_afresh_and_its_date_bounds_what_follows(library, at):
    with at("2026-03-02T15:00:00"):
        plan = Plan(library)
        plan.run_until("Task_LeadershipGroupMeeting", Task_RegisterPlan={"category": "major"})
        plan.do("Task_LeadershipGroupMeeting", **MEETING_ONE)
        again = _view(library, plan.id, "Task_LeadershipGroupMeeting")
    assert {k: again["values"][k] for k in ONE_MEETING} == dict.fromkeys(ONE_MEETING)
    assert {k: again["earlier"].get(k) for k in ONE_MEETING} == MEETING_ONE  # said apart as 此前填写
    # the room and the chair are usually the same: carried over
    assert (again["values"]["meetingPlace"], again["values"]["meetingChair"]) == ("市委常委会议室", "刘洋")
    with at("2026-03-09T15:00:00"):
        plan.do("Task_LeadershipGroupMeeting", meetingDate="2026-03-09", decision="defer")
        retable = _view(library, plan.id, "Task_DeferredRetable")
        assert retable["bounds"]["retableDate"]["min"] == "2026-03-09"  # not before the meeting that deferred
        with pytest.raises(Invalid, match="retableDate"):
            plan.do("Task_DeferredRetable", retableDate="2026-03-05")
        plan.do("Task_DeferredRetable", retableDate="2026-03-16")
    with at("2026-03-16T15:00:00"):
        plan.run_until("Task_LeadershipGroupMeeting")
        third = _view(library, plan.id, "Task_LeadershipGroupMeeting")
        assert third["values"]["meetingDate"] is None and third["earlier"]["meetingDate"] == "2026-03-09"
        plan.do("Task_LeadershipGroupMeeting", meetingDate="2026-03-16", decision="approve")
        plan.run_until("Task_IssuePlan")
        issue = _view(library, plan.id, "Task_IssuePlan")
        assert issue["bounds"]["issueDate"]["min"] == "2026-03-16"  # the meeting that approved it
        with pytest.raises(Invalid, match="issueDate"):
            plan.do("Task_IssuePlan", issueDate="2026-03-09")
        plan.do("Task_IssuePlan", issueDate="2026-03-16")
    assert plan.variables["meetingDate"] == "2026-03-16"


def test_files_of_a_step_that_is_not_there_is_refused():
    from engine.checks import check_processes
    filing = (BPMN / "filing.bpmn").read_bytes()
    assert [p for p in check_processes([("filing.bpmn", filing)]) if p["severity"] == "error"] == []
    misspelt = filing.replace(b'value="Task_FileDocument, Task_SupplementFiling"',
                              b'value="Task_FileDocuments, Task_SupplementFiling"')
    assert misspelt != filing
    [problem] = [p for p in check_processes([("filing.bpmn", misspelt)]) if p["severity"] == "error"]
    assert (problem["rule"], problem["element_id"]) == ("form", "Task_CheckFiling")
    assert "'Task_FileDocuments' 不是本文件中用户任务的 id" in problem["message"]


# ---------------------------------------------------------------- rounds: what the plan says now
RISK = {"riskAssessmentRequired": True}


def _shown(section: dict) -> list[tuple[str, int]]:
    return [(r["element_id"], section["round"]) for r in section["records"]]


def test_a_risk_assessment_redone_after_an_adjustment_shows_only_its_latest_round(library, at):
    with at("2026-03-02T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_PrepareRiskReport", Task_RegisterPlan=RISK)
        plan.do("Task_PrepareRiskReport", riskLevel="high")
        plan.do("Task_RequestAdjustment", returnReason="补偿标准过低，须提高后重新评估")
        plan.do("Task_DraftPlan", draftSummary="提高补偿标准后的方案", revisionNotes="补偿标准提高两成")
        plan.run_until("Task_PrepareRiskReport")
        plan.do("Task_PrepareRiskReport", riskLevel="low")
        plan.run_until("Task_SpecialGroupReview")
        found = _materials(library, plan.id)
    risk = next(s for s in found["sections"] if s["code"] == "risk_assessment")
    # round 1's 提出方案调整要求 is not what the risk assessment says now: round 2 found the risk low
    assert _shown(risk) == [("Task_PrepareRiskReport", 2), ("Task_RecordControls", 2)]
    assert not risk["earlier"] and risk["count"] == 4  # all four are in the decision archive
    assert [v["value"] for v in risk["records"][0]["values"] if v["field"] == "riskLevel"] == ["low"]
    assert found["round"] == 2
    # what the plan says: its latest draft, round 2; the special group has not reviewed it yet
    [draft] = found["content"]
    assert (draft["element_id"], draft["round"], draft["earlier"]) == ("Task_DraftPlan", 2, False)
    assert [(v["field"], v["value"]) for v in draft["values"]] == [("draftSummary", "提高补偿标准后的方案")]


def test_the_special_groups_review_is_shown_with_its_round_and_said_older_once_the_plan_is_redrafted(library, at):
    with at("2026-03-02T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_SpecialGroupReview")
        plan.do("Task_SpecialGroupReview", specialGroupOpinion="第三条举措缺乏突破", specialGroupDecision="return",
                returnReason="请充实第三条")
        plan.do("Task_DraftPlan", draftSummary="充实第三条后的方案", revisionNotes="第三条增加两项举措")
        plan.run_until("Task_SpecialGroupReview")
        waiting = _materials(library, plan.id)
        plan.do("Task_SpecialGroupReview", specialGroupOpinion="符合中央精神，举措可行", specialGroupDecision="approve")
        plan.run_until("Task_LegalityReview")
        reviewed = _materials(library, plan.id)
    draft, review = waiting["content"]
    assert (draft["round"], draft["earlier"]) == (2, False)
    # round 1's return, about the first draft: said to be older than the plan now read
    assert (review["element_id"], review["round"], review["earlier"]) == ("Task_SpecialGroupReview", 1, True)
    assert [(v["field"], v["option"] or v["value"]) for v in review["values"]] == [
        ("specialGroupDecision", "退回修改"), ("specialGroupOpinion", "第三条举措缺乏突破"), ("returnReason", "请充实第三条")]
    draft, review = reviewed["content"]
    assert (review["round"], review["earlier"]) == (2, False)
    assert [(v["field"], v["option"] or v["value"]) for v in review["values"]] == [
        ("specialGroupDecision", "审核通过"), ("specialGroupOpinion", "符合中央精神，举措可行")]


def test_a_legality_review_failed_then_passed_shows_the_second_round_only(library, at):
    with at("2026-03-02T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_CheckMaterials")
        plan.do("Task_CheckMaterials", materialsComplete=False, missingMaterials="缺起草说明")
        plan.do("Task_SupplementMaterials")
        plan.do("Task_CheckMaterials", materialsComplete=True)
        plan.run_until("Task_LegalityReview")
        plan.do("Task_LegalityReview", legalityResult="fail", legalityOpinion="第五条与上位法抵触",
                returnReason="删除第五条")
        plan.do("Task_DraftPlan", draftSummary="删除第五条后的方案", revisionNotes="已删除第五条")
        plan.run_until("Task_LegalityReview")
        under_way = _materials(library, plan.id)
        plan.do("Task_LegalityReview", legalityResult="pass", legalityOpinion="符合法律法规")
        plan.run_until("Task_ReformOfficeReview")
        passed = _materials(library, plan.id)
    legality = next(s for s in under_way["sections"] if s["code"] == "legality_review")
    # round 2's materials check is done, its review under way: round 1's supplement and failed review are gone
    assert legality["state"] == "open" and _shown(legality) == [("Task_CheckMaterials", 2)]
    legality = next(s for s in passed["sections"] if s["code"] == "legality_review")
    assert _shown(legality) == [("Task_CheckMaterials", 2), ("Task_LegalityReview", 2)]
    assert [v["option"] for v in legality["records"][1]["values"] if v["field"] == "legalityResult"] == ["通过"]


def test_a_procedure_not_done_again_since_the_redraft_says_its_round(library, at):
    with at("2026-03-02T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_SpecialGroupReview", Task_RegisterPlan={"technical": True})
        plan.do("Task_SpecialGroupReview", specialGroupDecision="return", returnReason="请补充成本测算")
        plan.do("Task_DraftPlan", draftSummary="第二稿", revisionNotes="已补充成本测算")
        found = _materials(library, plan.id)
    # the experts argued the first draft: their record stays, said to be of round 1, an earlier draft
    experts = next(s for s in found["sections"] if s["code"] == "expert_argumentation")
    assert experts["state"] == "open" and (experts["round"], experts["earlier"]) == (1, True)
    assert [r["element_id"] for r in experts["records"]] == ["Task_ExpertArgumentation", "Task_RecordExpertOpinionsHandling"]


def test_an_adjustments_reviewers_read_the_proposal_and_the_offices_review(library, at):
    from .test_adjustment import Adjustment
    with at("2026-03-02T09:00:00"):
        plan = Adjustment(library)
        plan.do("Task_ProposeAdjustment", adjustmentType="supplement", adjustmentContent="增加第六条绩效评价",
                adjustmentReasons="第三方评估发现缺少绩效评价")
        plan.do("Task_ReviewProposal", adjustmentReviewDecision="submit", adjustmentReviewOpinion="依据充分")
        plan.run_until("Task_LegalityReview")
        found = _materials(library, plan.id)
    proposal, review = found["content"]
    assert [(v["field"], v["option"] or v["value"]) for v in proposal["values"]] == [
        ("adjustmentType", "补充"), ("adjustmentContent", "增加第六条绩效评价"), ("adjustmentReasons", "第三方评估发现缺少绩效评价")]
    assert [(v["field"], v["option"] or v["value"]) for v in review["values"]] == [
        ("adjustmentReviewDecision", "同意调整，按程序报原审定机关"), ("adjustmentReviewOpinion", "依据充分")]
    assert (proposal["round"], review["round"], found["round"]) == (1, 1, 1)
