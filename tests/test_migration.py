"""Moving a running plan to a newer version of its process (方案迁移到新版本): the reform office
moves a plan stuck on an old version; its open step stays with its holder, what it has not reached
follows the new version, and its history and audit chain stay whole."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine import clock
from engine.archive import decision_archive
from engine.audit import verify
from engine.commands import Engine
from engine.errors import Conflict, Forbidden, Invalid
from engine.history import plan_history
from engine.trail_text import said
from models import HumanTask, InstanceTask, ProcessInstance

from .conftest import BPMN, FIXTURES
from .plan_helper import Plan, audit_payloads
from .test_modeler_corpus import (LEGAL_ANSWER, LONG_OPINION, OPINION_LABEL_V2, SHORT_OPINION,
                                  analyst_copy_of_legality_review, ended_at, open_tasks, work)
from .test_cli import as_json, cli  # noqa: F401 - the command line on a fresh SQLite database

V1 = (FIXTURES / "diagrams" / "mini_approval.bpmn").read_text(encoding="utf-8")
# version 2: the draft step is renamed and asks for one more field; a return no longer needs a
# reason (the later condition); an approved plan is signed off (签发) before it ends (a new step)
V2 = (V1.replace('name="起草" camunda:assignee', 'name="起草方案" camunda:assignee')
      .replace('<camunda:formField id="days"',
               '<camunda:formField id="background" label="起草背景" type="string">'
               '<camunda:validation><camunda:constraint name="required" /></camunda:validation>'
               '</camunda:formField>\n          <camunda:formField id="days"')
      .replace("${decision == 'return' &amp;&amp; !empty returnReason}", "${decision == 'return'}")
      .replace('<bpmn:sequenceFlow id="Flow_Approve" name="通过" sourceRef="Gateway_Decision" targetRef="Event_Done" />',
               '<bpmn:sequenceFlow id="Flow_Approve" name="通过" sourceRef="Gateway_Decision" targetRef="Task_Sign" />'
               '<bpmn:userTask id="Task_Sign" name="签发" camunda:candidateGroups="reform_office">'
               '<bpmn:incoming>Flow_Approve</bpmn:incoming><bpmn:outgoing>Flow_Signed</bpmn:outgoing></bpmn:userTask>'
               '<bpmn:sequenceFlow id="Flow_Signed" sourceRef="Task_Sign" targetRef="Event_Done" />')
      .replace('<bpmn:incoming>Flow_Approve</bpmn:incoming>\n    </bpmn:endEvent>',
               '<bpmn:incoming>Flow_Signed</bpmn:incoming>\n    </bpmn:endEvent>')
      .replace('</bpmndi:BPMNPlane>',
               '<bpmndi:BPMNShape id="Task_Sign_di" bpmnElement="Task_Sign"><dc:Bounds x="625" y="140" width="100" '
               'height="80" /></bpmndi:BPMNShape><bpmndi:BPMNEdge id="Flow_Signed_di" bpmnElement="Flow_Signed">'
               '<di:waypoint x="675" y="140" /><di:waypoint x="675" y="88" /></bpmndi:BPMNEdge></bpmndi:BPMNPlane>'))
# a version without the draft step's id (the Modeler gave it a new one)
NO_DRAFT = V1.replace("Task_Draft", "Activity_0draft1")
# reform_plan with a new description (the process's documentation): a version 2 to move to
REFORM_PLAN_V2 = (BPMN / "reform_plan.bpmn").read_text(encoding="utf-8").replace(
    "<bpmn:documentation>", "<bpmn:documentation>（第二版）", 1).encode()
# version 1 with a reminder three days after the review opens (a duration: counted from when reached)
TIMED = (V1.replace('<bpmn:exclusiveGateway id="Gateway_Decision"',
                    '<bpmn:boundaryEvent id="Event_Remind" name="提醒" cancelActivity="false" attachedToRef="Task_Review">'
                    '<bpmn:outgoing>Flow_Remind</bpmn:outgoing><bpmn:timerEventDefinition id="Timer_Remind">'
                    '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">P3D</bpmn:timeDuration>'
                    '</bpmn:timerEventDefinition></bpmn:boundaryEvent>'
                    '<bpmn:sequenceFlow id="Flow_Remind" sourceRef="Event_Remind" targetRef="Event_Reminded" />'
                    '<bpmn:endEvent id="Event_Reminded" name="已提醒"><bpmn:incoming>Flow_Remind</bpmn:incoming>'
                    '</bpmn:endEvent>\n    <bpmn:exclusiveGateway id="Gateway_Decision"')
         .replace('</bpmndi:BPMNPlane>',
                  '<bpmndi:BPMNShape id="Event_Remind_di" bpmnElement="Event_Remind"><dc:Bounds x="357" y="92" '
                  'width="36" height="36" /></bpmndi:BPMNShape><bpmndi:BPMNShape id="Event_Reminded_di" '
                  'bpmnElement="Event_Reminded"><dc:Bounds x="357" y="182" width="36" height="36" /></bpmndi:BPMNShape>'
                  '<bpmndi:BPMNEdge id="Flow_Remind_di" bpmnElement="Flow_Remind"><di:waypoint x="375" y="128" />'
                  '<di:waypoint x="375" y="182" /></bpmndi:BPMNEdge></bpmndi:BPMNPlane>'))
DRAFT = {"summary": "深化预算改革", "days": 30}


@pytest.fixture
def office(engine, people):
    engine.deploy([("mini_approval.bpmn", V1.encode())])
    return engine


def _deploy(engine, xml: str) -> int:
    [deployed] = engine.deploy([("mini_approval.bpmn", xml.encode())])
    return deployed["version"]


def _open(engine, plan_id: int) -> list[dict]:
    return [t for t in engine.instance(plan_id)["tasks"]]


def _rows(engine, plan_id: int) -> list[tuple]:
    with engine.db.reader() as s:
        return s.execute(select(HumanTask.id, HumanTask.status, HumanTask.assignee, HumanTask.name, HumanTask.version)
                         .where(HumanTask.instance_id == plan_id).order_by(HumanTask.id)).all()


def _state(engine, plan_id: int) -> tuple:
    with engine.db.reader() as s:
        plan = s.get(ProcessInstance, plan_id)
        tasks = s.execute(select(func.count()).select_from(InstanceTask).where(InstanceTask.instance_id == plan_id)).scalar()
        return plan.definition_id, plan.version, plan.state_json, tasks


def refused(engine, plan_id: int, says: str) -> list[str]:
    """The preview's reasons, once its "may not move" is checked, the move refused with a
    message matching `says`, and the plan, its task rows and its inbox rows found as before."""
    before, rows = _state(engine, plan_id), _rows(engine, plan_id)
    preview = engine.migration_preview(plan_id)
    assert preview["allowed"] is False
    with pytest.raises(Invalid, match=says):
        engine.migrate_plan(plan_id, actor="chen", reason="试迁移")
    assert (_state(engine, plan_id), _rows(engine, plan_id)) == (before, rows)
    return preview["refusals"]


def _complete(engine, plan_id: int, element_id: str, actor: str, data: dict) -> None:
    [task] = [t for t in _open(engine, plan_id) if t["element_id"] == element_id]
    if task["status"] == "open":
        engine.claim(task["id"], actor=actor)
    engine.complete(task["id"], actor=actor, data=data)


def test_a_waiting_plan_moves_and_follows_the_new_version_to_its_end(office, db):
    plan = office.start("mini_approval", actor="zhang", title="预算改革")
    [draft] = _open(office, plan["id"])
    assert (draft["element_id"], draft["assignee"], draft["status"]) == ("Task_Draft", "zhang", "claimed")
    assert _deploy(office, V2) == 2

    before = _state(office, plan["id"])
    preview = office.migration_preview(plan["id"])
    assert (preview["from_version"], preview["to_version"], preview["allowed"]) == (1, 2, True)
    [step] = preview["steps"]
    assert (step["task_id"], step["new_name"], step["kept"]) == (draft["id"], "起草方案", "changed")
    assert set(step["changes"]) == {"name", "form"}
    assert "Task_Sign" in {c["element_id"] for c in preview["ahead"] if c["change"] == "added"}
    assert _state(office, plan["id"]) == before  # the preview changed nothing

    moved = office.migrate_plan(plan["id"], actor="chen", reason="退回规则更正", expected_version=preview["expected_version"])
    assert (moved["definition_version"], moved["migration"]["from_version"]) == (2, 1)
    [kept] = moved["tasks"]
    # the same inbox row: holder, claim and deadline kept; the new name and form taken
    assert (kept["id"], kept["assignee"], kept["status"], kept["due_at"]) == (
        draft["id"], "zhang", "claimed", draft["due_at"])
    assert kept["name"] == "起草方案"
    assert [f["id"] for f in office.task_view(draft["id"])["form"]] == ["summary", "background", "days"]
    with pytest.raises(Invalid, match="background"):
        office.complete(draft["id"], actor="zhang", data=DRAFT)

    # a fresh engine reads the moved plan from the database and runs it to its end on version 2
    fresh = Engine(db)
    fresh.complete(draft["id"], actor="zhang", data={**DRAFT, "background": "预算制度调整"})
    _complete(fresh, plan["id"], "Task_Review", "li", {"decision": "return"})  # v1 would approve: no reason
    assert [t["element_id"] for t in _open(fresh, plan["id"])] == ["Task_Draft"]
    _complete(fresh, plan["id"], "Task_Draft", "zhang", {**DRAFT, "background": "补充"})
    _complete(fresh, plan["id"], "Task_Review", "li", {"decision": "approve"})
    assert [t["element_id"] for t in _open(fresh, plan["id"])] == ["Task_Sign"]  # the step version 2 added
    _complete(fresh, plan["id"], "Task_Sign", "chen", {})
    assert fresh.instance(plan["id"])["status"] == "completed"

    [event] = audit_payloads(office, plan["id"], "instance_migrated")
    assert (event["reason"], event["old"], event["new"]) == ("退回规则更正", {"version": 1}, {"version": 2})
    assert [(s["task_id"], s["new_name"]) for s in event["steps"]] == [(draft["id"], "起草方案")]
    with office.db.reader() as s:
        assert verify(s).ok
        assert decision_archive(s, plan["id"], clock.now())["verified"]["problems"] == []
        [moved_event] = [e for e in plan_history(s, plan["id"])["events"] if e["event_type"] == "instance_migrated"]
    assert said(moved_event) == ("迁移到新版本 (moved to a new version) mini_approval v1 → v2：退回规则更正；"
                                 "保留待办 (steps kept) 起草 → 起草方案（名称、表单 name, form）")
    assert said(moved_event, "en") == ("moved to a new version mini_approval v1 → v2: 退回规则更正; "
                                       "steps kept 起草 → 起草方案 (name, form)")


def test_a_plan_whose_open_step_the_new_version_removed_is_refused_and_unchanged(office):
    plan = office.start("mini_approval", actor="zhang")
    _deploy(office, NO_DRAFT)
    [reason] = refused(office, plan["id"], "当前待办环节 Task_Draft「起草」 在第 2 版中没有同 id 的元素")
    assert "Task_Draft「起草」" in reason and "保留该环节" in reason
    assert audit_payloads(office, plan["id"], "instance_migrated") == []


def test_a_refusal_names_a_step_with_boundary_events_as_the_diagram_does(engine, people):
    """Not SpiffWorkflow's node before it (Task_Wait.BoundaryEventSplit), which no analyst can keep:
    the step itself, open or passed, by its id and name."""
    v1 = (FIXTURES / "diagrams" / "deadline_workdays.bpmn").read_text(encoding="utf-8")
    engine.deploy([("deadline_workdays.bpmn", v1.encode())])
    plan = engine.start("deadline_workdays", actor="zhang", data={"days": 5})
    engine.deploy([("deadline_workdays.bpmn", v1.replace("Task_Wait", "Activity_Wait2").encode())])
    [reason] = refused(engine, plan["id"], "当前待办环节 Task_Wait「按期办理」 在第 2 版中没有同 id 的元素")
    assert "BoundaryEventSplit" not in reason


def test_only_the_reform_office_moves_a_plan_and_a_stale_preview_is_a_conflict(office):
    plan = office.start("mini_approval", actor="zhang")
    _deploy(office, V2)
    with pytest.raises(Forbidden, match="只有改革办可以将方案迁移到新版本"):
        office.migrate_plan(plan["id"], actor="zhang", reason="想用新表单")
    with pytest.raises(Forbidden, match="只有改革办可以将方案迁移到新版本"):  # not asked for a reason first
        office.migrate_plan(plan["id"], actor="zhang", reason="")
    with pytest.raises(Forbidden, match="只有改革办"):
        office.migration_preview(plan["id"], actor="zhang")
    with pytest.raises(Invalid, match="须写明迁移理由"):
        office.migrate_plan(plan["id"], actor="chen", reason=" ")
    seen = office.migration_preview(plan["id"])["expected_version"]
    [draft] = _open(office, plan["id"])
    office.save_draft(draft["id"], {"summary": "暂存"}, actor="zhang")  # no change of the plan row
    office.complete(draft["id"], actor="zhang", data=DRAFT)  # the plan moved on since the preview
    with pytest.raises(Conflict, match="在您预览之后已有办理或变动"):
        office.migrate_plan(plan["id"], actor="chen", reason="规则更正", expected_version=seen)
    assert office.instance(plan["id"])["definition_version"] == 1
    with pytest.raises(Invalid, match="第 1 版不比它新"):
        office.migrate_plan(plan["id"], actor="chen", reason="规则更正", to_version=1)


def test_a_draft_and_a_claim_survive_the_move(office):
    plan = office.start("mini_approval", actor="zhang")
    [draft] = _open(office, plan["id"])
    office.complete(draft["id"], actor="zhang", data=DRAFT)
    [review] = _open(office, plan["id"])
    office.claim(review["id"], actor="li")
    office.save_draft(review["id"], {"returnReason": "再议"}, actor="li")
    _deploy(office, V2)
    moved = office.migrate_plan(plan["id"], actor="chen", reason="签发步骤")
    [kept] = moved["tasks"]
    assert (kept["id"], kept["assignee"], kept["status"]) == (review["id"], "li", "claimed")
    assert office.draft(review["id"], actor="li")["values"] == {"returnReason": "再议"}
    assert moved["migration"]["steps"][0]["changes"] == []  # the review step itself is unchanged
    office.complete(review["id"], actor="li", data={"decision": "approve"})
    assert [t["element_id"] for t in _open(office, plan["id"])] == ["Task_Sign"]


def test_a_plan_inside_an_embedded_subprocess_moves_and_keeps_its_timers(library, at):
    """legality_review started on its own waits at Task_LegalityReview inside its embedded
    SubProcess_Review, whose reminder and overdue timers run on the subprocess."""
    with at("2026-12-01T09:00:00"):
        plan = library.start("legality_review", actor="chen", data={"exploratory": False})
        work(library, plan["id"], "Task_CheckMaterials", "li", {"materialsComplete": True})
        [review] = open_tasks(library, plan["id"])
        library.claim(review["id"], actor="li")
    timer_before = library.instance(plan["id"])["next_timer_at"]
    assert timer_before is not None
    library.deploy([("legality_review.bpmn", analyst_copy_of_legality_review())])

    with at("2026-12-03T15:00:00"):  # two days on: timers started afresh would be due two days later
        preview = library.migration_preview(plan["id"], actor="chen")
    steps = {s["element_id"]: s for s in preview["steps"]}
    step = steps.pop("Task_LegalityReview")
    assert (step["task_id"], step["process"], step["changes"]) == (review["id"], "SubProcess_Review", ["form"])
    # the subprocess under way and its reminder and overdue timers: kept as they are
    assert {s["kept"] for s in steps.values()} == {"as_is"} and "SubProcess_Review" in steps, steps
    with at("2026-12-03T15:00:00"):
        moved = library.migrate_plan(plan["id"], actor="chen", reason="审查意见字数要求")
    [kept] = moved["tasks"]
    assert (kept["id"], kept["assignee"], kept["due_at"]) == (review["id"], "li", review["due_at"])
    assert moved["next_timer_at"] == timer_before  # the subprocess's timers keep their moments
    form = {f["id"]: f for f in library.task_view(review["id"])["form"]}
    assert form["legalityOpinion"]["label"] == OPINION_LABEL_V2

    fresh = Engine(library.db)
    with pytest.raises(Invalid):
        work(fresh, plan["id"], "Task_LegalityReview", "li", {**LEGAL_ANSWER, "legalityOpinion": SHORT_OPINION})
    work(fresh, plan["id"], "Task_LegalityReview", "li", {**LEGAL_ANSWER, "legalityOpinion": LONG_OPINION})
    assert ended_at(fresh, plan["id"]) == "Event_LegalityFailed"  # version 2's condition
    with library.db.reader() as s:
        assert verify(s).ok


def test_a_plan_inside_a_called_process_moves_it_too_and_calls_not_made_bind_the_latest(library):
    inside, before = Plan(library, title="已在审查"), Plan(library, title="尚未审查")
    inside.run_until("Task_CheckMaterials")  # in the called legality_review
    library.deploy([("legality_review.bpmn", analyst_copy_of_legality_review())])
    library.deploy([("reform_plan.bpmn", REFORM_PLAN_V2)])

    preview = library.migration_preview(inside.id)
    assert preview["allowed"] and preview["called_moves"] == ["legality_review"], preview["refusals"]
    moved = library.migrate_plan(inside.id, actor="chen", reason="新版本")
    assert (moved["definition_version"], moved["called_versions"]["legality_review"]) == (2, 2)

    moved = library.migrate_plan(before.id, actor="chen", reason="新版本")
    assert moved["definition_version"] == 2
    assert moved["called_versions"]["legality_review"] == 2  # bound as a start would bind it now
    [event] = audit_payloads(library, before.id, "instance_migrated")
    assert event["called_versions"]["legality_review"] == 2
    before.run_until("Task_CheckMaterials")
    assert library.instance(before.id)["tasks"][0]["process_key"] == "legality_review"
    form = {f["id"]: f for f in library.task_view(before.task("Task_CheckMaterials")["id"])["form"]}
    assert "materialsComplete" in form


def test_a_plan_deep_inside_a_called_process_moves_and_the_called_process_stays(library):
    """In legality_review's own embedded subprocess, with no newer legality_review: the plan's own
    process moves, legality_review stays on its version, and the review goes on."""
    plan = Plan(library, title="审查中")
    plan.run_until("Task_LegalityReview")  # inside SubProcess_Review, inside the called legality_review
    legal_version = library.instance(plan.id)["called_versions"]["legality_review"]
    library.deploy([("reform_plan.bpmn", REFORM_PLAN_V2)])
    assert library.migration_preview(plan.id)["refusals"] == []
    moved = library.migrate_plan(plan.id, actor="chen", reason="新版本")
    assert (moved["definition_version"], moved["called_versions"]["legality_review"]) == (2, legal_version)
    plan.engine = Engine(library.db)
    plan.do("Task_LegalityReview")
    assert "Task_LegalityReview" not in plan.active
    with library.db.reader() as s:
        assert verify(s).ok


@pytest.mark.parametrize("restart", [False, True], ids=["same engine", "from the database"])
def test_a_plan_inside_a_called_process_without_a_newer_version_moves_its_own_process(library, restart):
    """risk_assessment has no newer version: it stays on the version the plan is running in it,
    and the plan's own process moves; once the risk assessment ends, the plan follows version 2."""
    renamed = (BPMN / "reform_plan.bpmn").read_text(encoding="utf-8").replace(
        'name="专项小组审核把关"', 'name="专项小组审核（第二版）"', 1).encode()
    plan = Plan(library, data={"riskAssessmentRequired": True}, title="风险评估中")
    plan.run_until("Task_PrepareRiskReport")  # inside the called risk_assessment
    library.deploy([("reform_plan.bpmn", renamed)])
    preview = library.migration_preview(plan.id)
    assert preview["refusals"] == [] and preview["to_version"] == 2
    risk_version = library.instance(plan.id)["called_versions"]["risk_assessment"]
    moved = library.migrate_plan(plan.id, actor="chen", reason="审核步骤改名")
    assert (moved["definition_version"], moved["called_versions"]["risk_assessment"]) == (2, risk_version)

    if restart:
        plan.engine = Engine(library.db)  # from the database alone
    plan.run_until("Task_SpecialGroupReview")
    assert plan.task("Task_SpecialGroupReview")["name"] == "专项小组审核（第二版）"
    with library.db.reader() as s:
        assert verify(s).ok


def test_migrate_from_the_command_line(cli, tmp_path):  # noqa: F811
    cli("deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))
    plan = as_json(cli("start", "mini_approval", "--as", "zhang", "--business-key", "DT-7", "--json"))
    new = tmp_path / "mini_approval.bpmn"
    new.write_text(V2, encoding="utf-8")
    cli("deploy", str(new))
    task = plan["tasks"][0]["id"]

    shown = cli("migrate", "DT-7", "--reason", "规则更正", "--as", "chen", "--dry-run").stdout
    assert shown.splitlines()[:3] == [
        f"迁移预览 (migration preview) #{plan['id']}：mini_approval v1 → v2，未做任何更改 (nothing changed)",
        "  当前环节 (open steps):",
        f"    保留并更新 (kept, updated) Task_Draft 起草 → 起草方案  任务 (task) {task}，办理人 (holder) zhang"
        "  [按新版本 (now as version) 名称 name、表单 form]"]
    assert "    新增 (added) 用户任务 (user task) Task_Sign 签发" in shown
    assert as_json(cli("instance", "DT-7", "--json"))["definition_version"] == 1  # the dry run changed nothing
    assert "instance_migrated" not in cli("audit", "export", "--instance", "DT-7").stdout

    refused = cli("migrate", "DT-7", "--reason", "x", "--as", "zhang", "--json", ok=False)
    assert refused.exit_code == 4 and as_json(refused)["error"] == "forbidden"
    moved = cli("migrate", "DT-7", "--reason", "规则更正", "--as", "chen").stdout
    assert moved == (f"已迁移方案 (plan moved) #{plan['id']} 简易审批：mini_approval v1 → v2\n"
                     f"  保留待办 (task kept) {task} 起草 → 起草方案  [按新版本 (now as version) 名称 name、表单 form]\n")
    assert as_json(cli("instance", "DT-7", "--json"))["definition_version"] == 2
    assert "迁移到新版本 (moved to a new version) mini_approval v1 → v2：规则更正" in cli("history", "DT-7").stdout
    cli("diagram", "DT-7", "--output", str(tmp_path / "plan.svg"))  # drawn from version 2 with the moved state
    assert 'data-element-id="Task_Sign"' in (tmp_path / "plan.svg").read_text(encoding="utf-8")
    again = cli("migrate", "DT-7", "--reason", "再迁", "--as", "chen", "--dry-run", "--json", ok=False)
    assert again.exit_code == 3 and "已是最新版本，无需迁移。如需按新版本办理，请先部署新版本。" in again.stderr
    new.write_text(V2.replace("Task_Draft", "Activity_0draft1"), encoding="utf-8")
    cli("deploy", str(new))
    refused = cli("migrate", "DT-7", "--reason", "再迁", "--as", "chen", "--dry-run", ok=False)
    assert refused.exit_code == 3 and "  不能迁移 (may not move):" in refused.stdout
    assert "当前待办环节 Task_Draft「起草方案」 在第 3 版中没有同 id 的元素" in refused.stderr
    # the open step is listed as what stops it; the renamed one is not said to lie where the plan has been
    assert (f"  当前环节 (open steps):\n    新版本中没有此环节 (not in the new version) Task_Draft 起草方案  任务 (task) {task}，"
            "办理人 (holder) zhang\n") in refused.stdout
    assert "不会办理的新增环节" not in refused.stdout
    assert as_json(cli("instance", "DT-7", "--json"))["definition_version"] == 2
    cli("audit", "verify")  # exit 0: the chain is intact


def test_a_timer_already_running_keeps_its_moment(engine, people, at):
    engine.deploy([("mini_approval.bpmn", TIMED.encode())])
    with at("2026-12-01T09:00:00"):
        plan = engine.start("mini_approval", actor="zhang")
        [draft] = _open(engine, plan["id"])
        engine.complete(draft["id"], actor="zhang", data=DRAFT)
    due = engine.instance(plan["id"])["next_timer_at"]
    assert due is not None
    _deploy(engine, TIMED.replace('name="审核"', 'name="审核把关"'))
    with at("2026-12-02T09:00:00"):  # a day on: a reminder started afresh would come a day later
        moved = engine.migrate_plan(plan["id"], actor="chen", reason="改名")
    assert (moved["next_timer_at"], moved["tasks"][0]["name"]) == (due, "审核把关")


def _with_properties(xml: str, properties: dict) -> str:
    listed = "".join(f'<camunda:property name="{k}" value="{v}" />' for k, v in properties.items())
    return xml.replace('isExecutable="true">', 'isExecutable="true"><bpmn:extensionElements><camunda:properties>'
                       f'{listed}</camunda:properties></bpmn:extensionElements>', 1)


def test_the_values_a_plan_started_with_stay_and_new_properties_are_added(engine, people):
    engine.deploy([("mini_approval.bpmn", _with_properties(V1, {"reviewRounds": "1"}).encode())])
    plan = engine.start("mini_approval", actor="zhang")
    _deploy(engine, _with_properties(V1, {"reviewRounds": "2", "signOffDays": "5"}))
    assert engine.migration_preview(plan["id"])["properties_added"] == {"signOffDays": 5}
    moved = engine.migrate_plan(plan["id"], actor="chen", reason="新增签发期限")
    assert (moved["variables"]["reviewRounds"], moved["variables"]["signOffDays"]) == (1, 5)
    [draft] = moved["tasks"]
    engine.complete(draft["id"], actor="zhang", data=DRAFT)
    assert engine.instance(plan["id"])["variables"]["signOffDays"] == 5  # carried on to the next step


def test_a_called_process_the_plan_went_through_keeps_its_version(library):
    """The plan's finished legality review is saved in the plan's state on legality_review v1:
    after the move the plan is still read back with that version, and runs on to its end."""
    plan = Plan(library, title="审查已过")
    plan.run_until("Task_LegalityReview")
    plan.do("Task_LegalityReview", legalityResult="pass_with_changes", requiredChanges="删除第五条")
    assert plan.active == ["Task_IncorporateLegalChanges"]
    library.deploy([("legality_review.bpmn", analyst_copy_of_legality_review())])
    library.deploy([("reform_plan.bpmn", REFORM_PLAN_V2)])
    moved = library.migrate_plan(plan.id, actor="chen", reason="新版本")
    assert (moved["definition_version"], moved["called_versions"]["legality_review"]) == (2, 1)
    plan.engine = Engine(library.db)  # read back from the database
    plan.do("Task_IncorporateLegalChanges", legalChangesMade="已删除第五条")
    plan.finish()
    assert plan.refresh()["status"] == "completed" and plan.audit_ok()


def test_each_body_of_a_round_of_reports_keeps_its_own_step(library, at):
    """A multi-instance activity (engine/scripting.py gives its spec a class of its own, which
    SpiffWorkflow's comparison of specs must still read): each reporting body's open report keeps
    the body it is for, and the round runs on to its end."""
    from .test_work_report import BODIES, HALF_YEAR, Round
    with at("2026-06-15T09:00:00"):
        plan = Round(library)
        plan.do("Task_ConfirmRound", **HALF_YEAR)
        before = {t["id"]: plan.values(t)["reportingUnit"] for t in plan.tasks("Task_SubmitReport")}
        library.deploy([("work_report.bpmn", (BPMN / "work_report.bpmn").read_text(encoding="utf-8").replace(
            "<bpmn:documentation>", "<bpmn:documentation>（第二版）", 1).encode())])
        moved = library.migrate_plan(plan.id, actor="chen", reason="新版本")
        assert moved["definition_version"] == 2
        plan.engine = Engine(library.db)  # read back from the database
        after = {t["id"]: plan.values(t)["reportingUnit"] for t in plan.tasks("Task_SubmitReport")}
        assert after == before and sorted(after.values()) == ["市政府办公厅", "市财政局", "经济体制改革专项小组"]
        for who in BODIES:
            plan.report(who)
        assert sorted(plan.values(t)["reportingUnit"] for t in plan.tasks("Task_ReviewReport")) == sorted(after.values())
        plan.review_all()
        plan.do("Task_CompileHalfYearReport")
        plan.do("Task_LeaderReview")
    assert plan.refresh()["status"] == "completed" and plan.audit_ok()
