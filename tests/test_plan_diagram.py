"""A plan's 流程图 (Engine.plan_diagram): its own process and each called process it entered,
each element in the state the plan's workflow holds — done (how often), in progress, or not
reached — and the flows it passed along, on SQLite and PostgreSQL; a deployed version's without
states; a version stored without DI said in words."""
from __future__ import annotations

import re

import pytest
from lxml import etree

from engine import modeler
from engine.errors import NotFound

from .conftest import FIXTURES
from .plan_helper import Plan

SVG = "{http://www.w3.org/2000/svg}"


def _classes(svg: str) -> dict[str, set[str]]:
    root = etree.fromstring(svg.encode())
    return {g.get("data-element-id"): set(g.get("class").split()) for g in root.iter(f"{SVG}g")
            if "bpmn-element" in g.get("class", "").split()}


def _flows(svg: str) -> dict[str, tuple[set[str], str]]:
    """flow id -> (its classes, its line's arrowhead reference)."""
    root = etree.fromstring(svg.encode())
    return {g.get("data-element-id"): (set(g.get("class").split()), g.find(f"{SVG}polyline").get("marker-end") or "")
            for g in root.iter(f"{SVG}g") if "sequenceFlow" in g.get("class", "").split()}


def _state(diagram: dict, element_id: str) -> tuple[str, int] | None:
    found = diagram["states"].get(element_id)
    return (found.state, found.times) if found else None


def test_a_plan_sent_back_and_now_in_its_legality_review(library):
    plan = Plan(library)
    plan.run_until("Task_SpecialGroupReview")
    plan.do("Task_SpecialGroupReview", specialGroupDecision="return", returnReason="与中央政策衔接不够")
    plan.run_until("Task_LegalityReview")

    main, legal = library.plan_diagram(plan.id)  # no risk assessment: the plan did not need one
    assert (main["key"], main["name"], main["version"]) == ("reform_plan", "改革方案全流程", 1)
    assert (legal["key"], legal["name"], legal["version"]) == ("legality_review", "合法合规性审查", 1)

    # the main diagram: earlier steps done, the return redone twice, the call activity in progress
    assert _state(main, "Task_RegisterPlan") == ("completed", 1)
    assert _state(main, "Task_DraftPlan") == ("completed", 2)
    assert _state(main, "Task_SpecialGroupReview") == ("completed", 2)
    assert _state(main, "CallActivity_LegalityReview") == ("active", 0)
    assert _state(main, "CallActivity_Deliberation") is None and _state(main, "CallActivity_RiskAssessment") is None
    classes = _classes(main["svg"])
    assert "active" in classes["CallActivity_LegalityReview"]
    assert "completed" in classes["Task_DraftPlan"]
    assert not {"active", "completed"} & classes["CallActivity_Deliberation"]
    # the called process: the review inside its embedded subprocess is where the plan is
    assert _state(legal, "Task_CheckMaterials") == ("completed", 1)
    assert _state(legal, "SubProcess_Review") == ("active", 0)
    assert _state(legal, "Task_LegalityReview") == ("active", 0)
    assert _state(legal, "Event_ReviewOverdue") is None  # armed, not fired: not where the plan is
    assert "active" in _classes(legal["svg"])["Task_LegalityReview"]

    # the steps said in words, in the order the diagram reads
    steps = {s["id"]: s for s in main["steps"]}
    assert (steps["Task_DraftPlan"]["state"], steps["Task_DraftPlan"]["times"]) == ("completed", 2)
    assert steps["CallActivity_LegalityReview"]["state"] == "active"
    assert steps["CallActivity_Deliberation"]["state"] is None
    order = [s["id"] for s in main["steps"]]
    assert order.index("Task_RegisterPlan") < order.index("Task_DraftPlan") < order.index("CallActivity_Filing")

    # the flows it passed along: both ways out of the special group's decision (returned, then
    # approved), past the risk assessment it did not need; none into what it has not reached
    taken = set(main["flows_taken"])
    assert {"Flow_SpecialGroupReturn", "Flow_SpecialGroupApprove", "Flow_RiskNotRequired"} <= taken
    assert not {"Flow_RiskRequired", "Flow_SpecialGroupReasonMissing"} & taken
    assert "Flow_ToDeliberation" not in taken and not any("Deliberat" in f for f in taken)
    assert {"Flow_ToCheckMaterials", "Flow_MaterialsComplete", "Flow_ToLegalityReview"} <= set(legal["flows_taken"])
    assert not {"Flow_MaterialsIncomplete", "Flow_ToOpinionComplete"} & set(legal["flows_taken"])
    flows = _flows(main["svg"])
    assert "taken" in flows["Flow_RiskNotRequired"][0] and flows["Flow_RiskNotRequired"][1].endswith("-taken)")
    assert "taken" not in flows["Flow_RiskRequired"][0] and not flows["Flow_RiskRequired"][1].endswith("-taken)")
    assert {f for f, (classes, _) in flows.items() if "taken" in classes} == taken


def test_a_legality_review_failed_and_done_again_counts_both_runs_of_the_called_process(library):
    plan = Plan(library)
    plan.run_until("Task_LegalityReview")
    plan.do("Task_LegalityReview", legalityResult="fail", returnReason="与上位法相抵触")
    plan.run_until("Task_LegalityReview")
    main, legal = library.plan_diagram(plan.id)
    assert _state(main, "CallActivity_LegalityReview") == ("active", 1)  # in its second run
    assert _state(legal, "Task_LegalityReview") == ("active", 1)
    assert _state(legal, "Event_LegalityFailed") == ("completed", 1)
    assert _state(legal, "Task_CheckMaterials") == ("completed", 2)


def test_a_finished_plan_has_every_step_it_took_done_and_nothing_in_progress(library):
    plan = Plan(library)
    plan.finish()
    diagrams = library.plan_diagram(plan.id)
    assert [d["key"] for d in diagrams] == ["reform_plan", "legality_review", "deliberation", "filing"]
    assert all(s.state == "completed" for d in diagrams for s in d["states"].values())
    assert _state(diagrams[0], "Event_PlanFiled") == ("completed", 1)
    # every branch of the parallel argumentation arrived at its join, the two that arrived before
    # the last as well (SpiffWorkflow keeps their arrivals only as cancelled tasks)
    assert {"Flow_PublicBranchDone", "Flow_ConsensusReached", "Flow_ExpertBranchDone",
            "Flow_ArgumentationDone"} <= set(diagrams[0]["flows_taken"])


def test_a_deployed_version_is_drawn_without_states(library):
    drawn = library.definition_diagram("legality_review", 1)
    assert drawn["states"] == {} and drawn["flows_taken"] == [] and drawn["problem"] is None
    assert not any("taken" in classes for classes, _ in _flows(drawn["svg"]).values())
    assert all(s["state"] is None for s in drawn["steps"])
    assert not any({"active", "completed"} & c for c in _classes(drawn["svg"]).values())
    with pytest.raises(NotFound):
        library.definition_diagram("legality_review", 99)
    with pytest.raises(NotFound):
        library.plan_diagram(12345)


def test_a_version_deployed_without_di_is_said_in_words_with_its_steps_still_listed(library, monkeypatch):
    # deployed where Node.js (the Modeler lint that refuses a file without DI) is missing
    monkeypatch.setattr(modeler, "toolchain_status", lambda: (False, "no Node.js"))
    xml = re.sub(r"<bpmndi:BPMNDiagram.*</bpmndi:BPMNDiagram>", "",
                 (FIXTURES / "diagrams" / "mini_approval.bpmn").read_text(encoding="utf-8"), flags=re.S)
    library.deploy([("no_picture.bpmn", xml.encode())], actor="chen")
    plan = library.start("mini_approval", actor="zhang", title="无图方案", data={})
    [drawn] = library.plan_diagram(plan["id"])
    assert drawn["svg"] is None
    assert drawn["problem"].startswith("no_picture.bpmn: 此流程图没有图形信息")
    assert [(s["id"], s["state"]) for s in drawn["steps"]][:2] == [("StartEvent_1", "completed"), ("Task_Draft", "active")]


def test_the_command_line_writes_a_plan_s_diagram_as_an_svg_file(library, tmp_path):
    from click.testing import CliRunner

    from engine.cli import main
    plan = Plan(library)
    plan.run_until("Task_LegalityReview")
    target = tmp_path / "plan.svg"
    run = CliRunner().invoke(main, ["--db", library.db.url, "diagram", str(plan.id), "--process", "legality_review",
                                    "--output", str(target)])
    assert run.exit_code == 0, run.output
    assert "正在办理 (in progress)  合法合规性审查 [Task_LegalityReview]" in run.output
    assert "走过的连线 (flows taken)：7 条" in run.output
    svg = target.read_text(encoding="utf-8")
    assert "active" in _classes(svg.split("\n", 1)[1])["Task_LegalityReview"]
    assert "<style>" in svg  # a file carries its own colours
    refused = CliRunner().invoke(main, ["--db", library.db.url, "diagram", str(plan.id), "--process", "filing",
                                        "--output", str(tmp_path / "filing.svg")])
    assert refused.exit_code != 0 and "没有进入流程 filing" in refused.output
    assert not (tmp_path / "filing.svg").exists()


def test_a_stopped_plan_shows_what_was_open_as_withdrawn_not_in_progress(library):
    """终止: the workflow is kept as it stood, its review still ready inside; the diagram must not
    say 正在办理 of a plan nobody will carry on, nor 未到达 of the step that was open."""
    plan = Plan(library)
    plan.run_until("Task_LegalityReview")
    library.cancel_plan(plan.id, reason="重复发起", actor="chen")
    main, legal = library.plan_diagram(plan.id)
    assert _state(main, "Task_DraftPlan") == ("completed", 1)
    assert _state(main, "CallActivity_LegalityReview") == ("withdrawn", 0)
    assert _state(legal, "Task_LegalityReview") == ("withdrawn", 0)
    assert _state(legal, "Task_CheckMaterials") == ("completed", 1)
    assert not [e for d in (main, legal) for e, s in d["states"].items() if s.state == "active"]
    assert "withdrawn" in _classes(legal["svg"])["Task_LegalityReview"]
    step = next(s for s in legal["steps"] if s["id"] == "Task_LegalityReview")
    assert step["state"] == "withdrawn"


def test_the_office_s_urging_step_withdrawn_with_the_review_is_withdrawn_not_unreached(library, at):
    """The review overdue (审查期限届满): the office gets 督办逾期合法性审查 beside the review; when the
    legal body then finishes, that step is withdrawn with the review's subprocess. It was open:
    已撤销, not 未到达, which the workflow alone (one cancelled task, as of a branch never taken)
    would have said."""
    with at("2025-09-26T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_CheckMaterials")
        plan.do("Task_CheckMaterials", reviewDays=7)
    plan.fire_timers_at(at, "2025-10-13T23:00:00")
    assert plan.fire_timers_at(at, "2025-10-14T00:00:01") == ["Event_ReviewOverdue"]
    assert plan.active == ["Task_LegalityReview", "Task_UrgeLegalityReview"]
    legal = next(d for d in library.plan_diagram(plan.id) if d["key"] == "legality_review")
    assert _state(legal, "Task_UrgeLegalityReview") == ("active", 0)
    with at("2025-10-15T09:00:00"):
        plan.do("Task_LegalityReview")
    assert plan.active == ["Task_ReformOfficeReview"]
    main, *called = library.plan_diagram(plan.id)
    legal = next(d for d in called if d["key"] == "legality_review")
    assert _state(legal, "Task_UrgeLegalityReview") == ("withdrawn", 0)
    assert _state(legal, "Task_LegalityReview") == ("completed", 1)
    assert _state(main, "CallActivity_LegalityReview") == ("completed", 1)
