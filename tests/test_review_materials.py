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
from .test_reform_plan import library  # noqa: F401 - the process library, deployed


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


def test_a_procedure_not_needed_is_told_from_one_ahead_and_one_in_progress(library, at):  # noqa: F811
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


def test_a_needed_procedure_still_ahead_is_not_reached(library, at):  # noqa: F811
    with at("2026-03-02T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_DepartmentOpinions", Task_RegisterPlan={"riskAssessmentRequired": True})
        states = _states(_materials(library, plan.id))
    assert states["risk_assessment"] == ("not_reached", None)  # required: the plan has not come to it
    assert states["public_participation"] == ("not_needed", "是否涉及群众切身利益：不涉及")


def test_the_archive_says_the_states_as_the_task_page_does(library, at):  # noqa: F811
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
def test_the_material_lists_each_redrafts_revision_notes_newest_first(library, at):  # noqa: F811
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
def test_the_filing_form_shows_the_original_deadline(library, at, data, deadline):  # noqa: F811
    with at("2026-02-20T09:00:00"):
        plan = library.start("filing", actor="chen", title="测试方案", data=data)["id"]
        view = _view(library, plan, "Task_FileDocument")
    [field] = [f for f in view["form"] if f["id"] == "filingDeadline"]
    assert "readonly" in field["constraints"] and field["label"].startswith("原备案期限")
    assert view["values"]["filingDeadline"] == deadline
    # as the timer counts it: the step is due at the end of that day
    assert date.fromisoformat(deadline) == date.fromisoformat(view["due_at"][:10]) or view["due_at"].startswith(deadline)


def test_an_extended_filing_shows_both_deadlines(library, at):  # noqa: F811
    with at("2026-03-02T09:00:00"):
        plan = library.start("filing", actor="chen", title="测试方案", data=ISSUED)["id"]
        library.fire_due_timers()
        complete_step(library, plan, "Task_EscalateOverdueFiling", "chen", {"newDeadline": "2026-03-10"})
        view = _view(library, plan, "Task_FileDocument")
    assert (view["values"]["filingDeadline"], view["values"]["newDeadline"]) == ("2026-02-28", "2026-03-10")
    ids = [f["id"] for f in view["form"]]
    assert ids.index("filingDeadline") < ids.index("newDeadline")  # the original first, then the new one


def test_the_filing_review_shows_what_was_filed(library, at):  # noqa: F811
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


def test_a_meeting_held_again_is_recorded_afresh_and_its_date_bounds_what_follows(library, at):  # noqa: F811
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
