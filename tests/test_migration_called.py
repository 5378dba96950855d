"""Moving a plan inside a called process (legality_review, called by reform_plan) to the called
process's new version, and moving many plans of a process at once: the analyst fixes
legality_review, and the plans now inside it follow the fix."""
from __future__ import annotations

import json

import pytest

from engine.audit import verify
from engine.commands import Engine
from engine.errors import Conflict, Invalid

from .conftest import FIXTURES
from .plan_helper import Plan, audit_payloads
from .test_cli import as_json, cli  # noqa: F401 - the command line on a fresh SQLite database
from .test_migration import DRAFT, REFORM_PLAN_V2, V2, _state
from .test_modeler_corpus import LEGAL_ANSWER, LONG_OPINION, OPINION_LABEL_V2, SHORT_OPINION, analyst_copy_of_legality_review

# legality_review with its first step given a new id by the Modeler: a plan waiting there cannot move
CHECK_RENAMED = analyst_copy_of_legality_review().replace(b"Task_CheckMaterials", b"Activity_0check1")


def _ends_reached(engine, plan_id, key) -> set[str]:
    [diagram] = [d for d in engine.plan_diagram(plan_id) if d["key"] == key]
    return {s["id"] for s in diagram["steps"] if s["id"].startswith("Event_Legality") and s["state"]}


def _form(engine, task_id) -> dict:
    return {f["id"]: f for f in engine.task_view(task_id)["form"]}


def test_a_plan_inside_the_called_legality_review_moves_alone_and_follows_version_2(library):
    plan = Plan(library, title="审查材料中")
    plan.run_until("Task_CheckMaterials")  # in the called legality_review v1
    check = plan.task("Task_CheckMaterials")
    library.deploy([("legality_review.bpmn", analyst_copy_of_legality_review())])  # reform_plan stays v1

    before = _state(library, plan.id)
    preview = library.migration_preview(plan.id, actor="chen")
    assert preview["allowed"] and not preview["own_moves"] and preview["called_moves"] == ["legality_review"]
    [called] = [c for c in preview["called"] if c["key"] == "legality_review"]
    assert (called["from_version"], called["to_version"], called["moves"]) == (1, 2, True)
    assert [s["element_id"] for s in called["steps"]] == ["Task_CheckMaterials"]
    assert called["steps"][0]["task_id"] == check["id"]
    assert _state(library, plan.id) == before  # the preview changed nothing

    moved = library.migrate_plan(plan.id, actor="chen", reason="审查意见字数要求",
                                 expected_version=preview["expected_version"])
    assert (moved["definition_version"], moved["called_versions"]["legality_review"]) == (1, 2)
    assert moved["migration"]["called_moved"] == {"legality_review": {"from": 1, "to": 2}}
    assert [t["id"] for t in moved["tasks"]] == [check["id"]]  # the open step kept its inbox row
    [event] = audit_payloads(library, plan.id, "instance_migrated")
    assert event["called_moved"] == {"legality_review": {"from": 1, "to": 2}}

    plan.engine = Engine(library.db)  # read back from the database in a fresh engine
    assert plan.engine.instance(plan.id)["called_versions"]["legality_review"] == 2
    plan.do("Task_CheckMaterials", materialsComplete=True)
    review = plan.task("Task_LegalityReview")
    assert _form(plan.engine, review["id"])["legalityOpinion"]["label"] == OPINION_LABEL_V2
    with pytest.raises(Invalid):  # version 2's form: at least 10 characters
        plan.do("Task_LegalityReview", **LEGAL_ANSWER, legalityOpinion=SHORT_OPINION)
    plan.do("Task_LegalityReview", **LEGAL_ANSWER, legalityOpinion=LONG_OPINION)
    # version 2's condition: a plan that still needs laws changed does not pass as it is
    assert _ends_reached(plan.engine, plan.id, "legality_review") == {"Event_LegalityFailed"}
    assert plan.active == ["Task_ReformOfficeReview"]  # and reform_plan runs on
    with library.db.reader() as s:
        assert verify(s).ok


def test_a_plan_inside_the_called_process_s_subprocess_moves_with_its_own_process(library):
    plan = Plan(library, title="审查中")
    plan.run_until("Task_LegalityReview")  # inside SubProcess_Review, inside the called legality_review
    review = plan.task("Task_LegalityReview")
    library.deploy([("legality_review.bpmn", analyst_copy_of_legality_review())])
    library.deploy([("reform_plan.bpmn", REFORM_PLAN_V2)])

    preview = library.migration_preview(plan.id)
    assert preview["allowed"] and preview["own_moves"] and preview["to_version"] == 2, preview["refusals"]
    step = next(s for s in preview["steps"] if s["element_id"] == "Task_LegalityReview")
    assert (step["called"], step["process"], step["changes"]) == ("legality_review", "SubProcess_Review", ["form"])
    moved = library.migrate_plan(plan.id, actor="chen", reason="新版本")
    assert (moved["definition_version"], moved["called_versions"]["legality_review"]) == (2, 2)

    # the same engine goes on with the workflow it moved (its cache), to the end
    assert _form(plan.engine, review["id"])["legalityOpinion"]["label"] == OPINION_LABEL_V2
    with pytest.raises(Invalid):
        plan.do("Task_LegalityReview", **LEGAL_ANSWER, legalityOpinion=SHORT_OPINION)
    plan.do("Task_LegalityReview", legalityResult="pass", legalityOpinion=LONG_OPINION)
    plan.finish()
    assert plan.refresh()["status"] == "completed" and plan.audit_ok()


def test_a_called_process_whose_open_step_is_gone_is_refused_and_unchanged(library):
    plan = Plan(library, title="审查材料中")
    plan.run_until("Task_CheckMaterials")
    library.deploy([("legality_review.bpmn", CHECK_RENAMED)])
    before = _state(library, plan.id)
    [reason] = library.migration_preview(plan.id)["refusals"]
    assert "Task_CheckMaterials" in reason and "被调用流程 legality_review 第 2 版" in reason
    with pytest.raises(Invalid, match="被调用流程 legality_review 第 2 版"):
        library.migrate_plan(plan.id, actor="chen", reason="新版本")
    assert _state(library, plan.id) == before
    assert library.instance(plan.id)["called_versions"]["legality_review"] == 1


def test_many_plans_of_a_process_move_at_once_each_on_its_own(cli, tmp_path, monkeypatch):  # noqa: F811
    """Three plans on version 1: one moves, one waits at a step the new version gave a new id
    (refused), one is acted on between the preview and its move (conflict): the others still move."""
    cli("deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))
    ids = [as_json(cli("start", "mini_approval", "--as", "zhang", "--business-key", f"DT-{n}", "--json"))["id"]
           for n in (1, 2, 3)]
    draft = as_json(cli("instance", "DT-2", "--json"))["tasks"][0]["id"]
    cli("complete", str(draft), "--as", "zhang", "--data", json.dumps(DRAFT))  # DT-2 now at Task_Review
    new = tmp_path / "mini_approval.bpmn"
    new.write_text(V2.replace("Task_Review", "Activity_0review1"), encoding="utf-8")
    cli("deploy", str(new))

    shown = cli("migrate", "--process", "mini_approval", "--reason", "规则更正", "--as", "chen", "--dry-run", ok=False)
    assert shown.exit_code == 3
    lines = shown.stdout.splitlines()
    assert lines[0] == "  可迁移 (may move) #%d DT-1 简易审批：mini_approval v1 → v2" % ids[0]
    assert lines[1].startswith("  不能迁移 (refused) #%d DT-2" % ids[1]) and "Task_Review" in lines[2]
    assert lines[-1] == ("共 3 个方案 (plans)：可迁移 2 个 (may move)，不能迁移 1 个 (refused)，冲突 0 个 (conflict)，"
                         "未做任何更改 (nothing changed)")
    assert {as_json(cli("instance", f"DT-{n}", "--json"))["definition_version"] for n in (1, 2, 3)} == {1}

    # someone completes DT-3's draft after the office's preview and before its move
    candidates = Engine.migration_candidates

    def then_someone_acts(engine, *args, **kwargs):
        found = candidates(engine, *args, **kwargs)
        [task] = engine.instance(ids[2])["tasks"]
        engine.complete(task["id"], actor="zhang", data=DRAFT)
        return found
    monkeypatch.setattr(Engine, "migration_candidates", then_someone_acts)
    moved = cli("migrate", "--process", "mini_approval", "--from-version", "1", "--reason", "规则更正",
                "--as", "chen", "--json", ok=False)
    assert moved.exit_code == 6  # a conflict: run it again
    result = as_json(moved)
    assert [(p["instance_id"], p["outcome"]) for p in result["plans"]] == [
        (ids[0], "moved"), (ids[1], "refused"), (ids[2], "conflict")]
    assert result["counts"] == {"moved": 1, "refused": 1, "conflict": 1}
    assert [as_json(cli("instance", f"DT-{n}", "--json"))["definition_version"] for n in (1, 2, 3)] == [2, 1, 1]
    cli("audit", "verify")  # exit 0: the chain is intact


def test_the_plans_inside_a_fixed_called_process_are_the_candidates_of_its_key(library):
    inside, before = Plan(library, title="审查材料中"), Plan(library, title="尚未审查")
    inside.run_until("Task_CheckMaterials")
    deep = Plan(library, title="审查中")
    deep.run_until("Task_LegalityReview")  # in legality_review's embedded SubProcess_Review
    library.deploy([("legality_review.bpmn", analyst_copy_of_legality_review())])
    found = library.migration_candidates("legality_review", actor="chen")
    assert found["to_version"] == 2
    assert [(p["instance_id"], p["via_called"], p["preview"]["allowed"]) for p in found["plans"]] == [
        (inside.id, True, True), (deep.id, True, True)]  # not the plan that has not reached it
    assert before.id not in {p["instance_id"] for p in found["plans"]}
    with pytest.raises(Conflict):  # previewed, then acted on
        inside.do("Task_CheckMaterials", materialsComplete=True)
        library.migrate_plan(inside.id, actor="chen", reason="修正", to_version=1,
                             expected_version=found["plans"][0]["preview"]["expected_version"])
    library.migrate_plan(deep.id, actor="chen", reason="修正", to_version=found["plans"][1]["preview"]["to_version"],
                         expected_version=found["plans"][1]["preview"]["expected_version"])
    assert library.instance(deep.id)["called_versions"]["legality_review"] == 2
