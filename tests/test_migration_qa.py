"""Moving a plan (方案迁移到新版本) in the harder places: parallel branches, loops, concurrent moves."""
from __future__ import annotations

import threading

import pytest

from engine import clock
from engine.archive import decision_archive
from engine.audit import verify
from engine.commands import Engine
from engine.errors import Conflict
from engine.history import plan_history
from engine.trail_text import said

from .conftest import BPMN, FIXTURES
from .plan_helper import Plan
from .test_migration import REFORM_PLAN_V2
from .test_modeler_corpus import analyst_copy_of_legality_review
from .test_cli import as_json, cli  # noqa: F401 - the command line on a fresh SQLite database
from .web_helper import signed_in_client
from .plan_helper import audit_payloads
from .test_migration import DRAFT, TIMED, V1, V2, _complete, _deploy, _open, _state, refused

def _drawn(xml: str, shapes: list[str], edges: list[str]) -> str:
    """The diagram with a shape or edge for each element added (the deploy's Modeler lint asks for one)."""
    di = "".join(f'<bpmndi:BPMNShape id="{e}_di" bpmnElement="{e}"><dc:Bounds x="{600 + 10 * i}" y="300" width="100" '
                 f'height="80" /></bpmndi:BPMNShape>' for i, e in enumerate(shapes))
    di += "".join(f'<bpmndi:BPMNEdge id="{e}_di" bpmnElement="{e}"><di:waypoint x="600" y="340" />'
                  f'<di:waypoint x="700" y="340" /></bpmndi:BPMNEdge>' for e in edges)
    return xml.replace("</bpmndi:BPMNPlane>", di + "</bpmndi:BPMNPlane>")


PARALLEL = (FIXTURES / "diagrams" / "parallel_review.bpmn").read_text(encoding="utf-8")
# version 2: a third opinion (专家意见) between the split and the join
THIRD_BRANCH = (PARALLEL
                .replace('<bpmn:outgoing>Flow_B</bpmn:outgoing>\n    </bpmn:parallelGateway>',
                         '<bpmn:outgoing>Flow_B</bpmn:outgoing>\n      <bpmn:outgoing>Flow_C</bpmn:outgoing>\n'
                         '    </bpmn:parallelGateway>\n'
                         '    <bpmn:sequenceFlow id="Flow_C" sourceRef="Gateway_Split" targetRef="Task_Expert" />\n'
                         '    <bpmn:userTask id="Task_Expert" name="专家意见" camunda:candidateGroups="expert">'
                         '<bpmn:incoming>Flow_C</bpmn:incoming><bpmn:outgoing>Flow_C2</bpmn:outgoing></bpmn:userTask>\n'
                         '    <bpmn:sequenceFlow id="Flow_C2" sourceRef="Task_Expert" targetRef="Gateway_Join" />')
                .replace('<bpmn:incoming>Flow_B2</bpmn:incoming>\n      <bpmn:outgoing>Flow_End</bpmn:outgoing>',
                         '<bpmn:incoming>Flow_B2</bpmn:incoming>\n      <bpmn:incoming>Flow_C2</bpmn:incoming>\n'
                         '      <bpmn:outgoing>Flow_End</bpmn:outgoing>'))
THIRD_BRANCH = _drawn(THIRD_BRANCH, ["Task_Expert"], ["Flow_C", "Flow_C2"])

# version 2 of mini_approval: the start form asks for the budget, and the return condition reads it
START_FIELD = V1.replace(
    '<bpmn:outgoing>Flow_1</bpmn:outgoing>\n    </bpmn:startEvent>',
    '<bpmn:extensionElements><camunda:formData><camunda:formField id="budget" label="预算" type="long">'
    '<camunda:validation><camunda:constraint name="required" /></camunda:validation></camunda:formField>'
    '</camunda:formData></bpmn:extensionElements><bpmn:outgoing>Flow_1</bpmn:outgoing>\n    </bpmn:startEvent>'
).replace("${decision == 'return' &amp;&amp; !empty returnReason}", "${decision == 'return' &amp;&amp; budget &gt; 5}")

# version 2 of mini_approval: the draft is written beside a countersignature (会签), split at the start
# and joined before the review
FORK_AROUND = _drawn(V1.replace('<bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_Draft" />',
    '<bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Gw_Split" />'
    '<bpmn:parallelGateway id="Gw_Split"><bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_S1</bpmn:outgoing><bpmn:outgoing>Flow_S2</bpmn:outgoing></bpmn:parallelGateway>'
    '<bpmn:sequenceFlow id="Flow_S1" sourceRef="Gw_Split" targetRef="Task_Draft" />'
    '<bpmn:sequenceFlow id="Flow_S2" sourceRef="Gw_Split" targetRef="Task_X" />'
    '<bpmn:userTask id="Task_X" name="会签" camunda:candidateGroups="expert"><bpmn:incoming>Flow_S2</bpmn:incoming><bpmn:outgoing>Flow_X2</bpmn:outgoing></bpmn:userTask>'
    '<bpmn:sequenceFlow id="Flow_X2" sourceRef="Task_X" targetRef="Gw_Join" />'
    '<bpmn:sequenceFlow id="Flow_D2" sourceRef="Task_Draft" targetRef="Gw_Join" />'
    '<bpmn:parallelGateway id="Gw_Join"><bpmn:incoming>Flow_D2</bpmn:incoming><bpmn:incoming>Flow_X2</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing></bpmn:parallelGateway>'
    ).replace('<bpmn:sequenceFlow id="Flow_2" sourceRef="Task_Draft" targetRef="Task_Review" />',
              '<bpmn:sequenceFlow id="Flow_2" sourceRef="Gw_Join" targetRef="Task_Review" />')
    .replace('<bpmn:outgoing>Flow_2</bpmn:outgoing>\n    </bpmn:userTask>', '<bpmn:outgoing>Flow_D2</bpmn:outgoing>\n    </bpmn:userTask>', 1),
    ["Gw_Split", "Task_X", "Gw_Join"], ["Flow_S1", "Flow_S2", "Flow_X2", "Flow_D2"])


def _deploy_parallel(engine, xml: str) -> int:
    [deployed] = engine.deploy([("parallel_review.bpmn", xml.encode())])
    return deployed["version"]


@pytest.fixture
def parallel(engine, people):
    _deploy_parallel(engine, PARALLEL)
    return engine


def test_a_plan_inside_parallel_branches_the_new_version_changes_is_refused_and_unchanged(parallel):
    """A third branch added after the split the plan passed would never be reached: the join would
    wait for it for ever, and the plan would stand still with no open step."""
    plan = parallel.start("parallel_review", actor="zhang")
    _complete(parallel, plan["id"], "Task_Legal", "li", {"legalOpinion": "合法"})
    _deploy_parallel(parallel, THIRD_BRANCH)
    assert "并行分支 Gateway_Split 之后办理" in refused(parallel, plan["id"], "请等各分支汇合后再迁移")[0]
    # once the branches have joined, the plan moves (the split and join are behind it)
    _complete(parallel, plan["id"], "Task_Risk", "zhou", {"riskOpinion": "可控"})
    moved = parallel.migrate_plan(plan["id"], actor="chen", reason="加专家意见")
    assert [t["element_id"] for t in moved["tasks"]] == ["Task_Summary"]


def test_a_plan_that_went_round_its_return_loop_twice_moves_and_ends_on_the_new_version(engine, people, db):
    engine.deploy([("mini_approval.bpmn", V1.encode())])
    plan = engine.start("mini_approval", actor="zhang")
    for _ in range(2):
        _complete(engine, plan["id"], "Task_Draft", "zhang", DRAFT)
        _complete(engine, plan["id"], "Task_Review", "li", {"decision": "return", "returnReason": "再改"})
    _deploy(engine, V2)
    engine.migrate_plan(plan["id"], actor="chen", reason="两轮退回后迁移")
    fresh = Engine(db)
    _complete(fresh, plan["id"], "Task_Draft", "zhang", {**DRAFT, "background": "x"})
    _complete(fresh, plan["id"], "Task_Review", "li", {"decision": "approve"})
    assert [t["element_id"] for t in _open(fresh, plan["id"])] == ["Task_Sign"]
    with engine.db.reader() as s:
        assert verify(s).ok
        drafts = [e for e in plan_history(s, plan["id"])["events"]
                  if e["event_type"] == "task_completed" and e["payload"]["element_id"] == "Task_Draft"]
        archive = decision_archive(s, plan["id"], clock.now())
    assert archive["verified"]["problems"] == []
    assert [r["name"] for section in archive["sections"] for r in section["records"]
            if r["element_id"] == "Task_Draft"] == ["起草", "起草", "起草方案"]
    # the two rounds before the move keep the name they were done under; the one after has the new name
    assert [e["name"] for e in drafts] == ["起草", "起草", "起草方案"]


def test_a_plan_started_without_a_field_the_new_start_form_requires_is_refused(engine, people):
    """Moved, the plan would reach the return condition reading `budget` and the reviewer could
    not complete the review: nothing ever gives the plan that value."""
    engine.deploy([("mini_approval.bpmn", V1.encode())])
    plan = engine.start("mini_approval", actor="zhang")
    assert START_FIELD != V1
    _deploy(engine, START_FIELD)
    assert refused(engine, plan["id"], "发起表单新增必填项 budget") == [
        "第 2 版的发起表单新增必填项 budget「预算」，本方案发起时没有填写，迁移后用到它的环节将无法办理，不能迁移："
        "请在新版本中不设为必填（其后的条件允许其为空），或终止本方案后按新版本重新发起 (version 2's start form "
        "requires budget, which the plan was started without; the steps reading it could not be done: make it "
        "optional in the new version, its later conditions allowing it empty, or stop the plan and start it "
        "again on the new version)"]
    # a plan started on version 2 gave it, and moves on to version 3
    started = engine.start("mini_approval", actor="zhang", data={"budget": 10})
    _deploy(engine, START_FIELD.replace('name="审核"', 'name="审核把关"'))
    assert engine.migrate_plan(started["id"], actor="chen", reason="改名")["definition_version"] == 3


def test_a_called_process_deployed_after_the_preview_makes_the_move_a_conflict(library):
    """The preview showed the legality review still to be called on version 1; version 2 deployed
    meanwhile would have been bound without anyone seeing it."""
    plan = Plan(library, title="预览后又部署")
    library.deploy([("reform_plan.bpmn", REFORM_PLAN_V2)])
    preview = library.migration_preview(plan.id)
    assert preview["called_versions"]["legality_review"] == 1
    library.deploy([("legality_review.bpmn", analyst_copy_of_legality_review())])
    before = _state(library, plan.id)
    with pytest.raises(Conflict, match="在您预览之后又部署了被调用流程的新版本（现为 legality_review 第 2 版）"):
        library.migrate_plan(plan.id, actor="chen", reason="新版本", to_version=preview["to_version"],
                             expected_version=preview["expected_version"], expected_called=preview["called_versions"])
    assert _state(library, plan.id) == before
    again = library.migration_preview(plan.id)
    moved = library.migrate_plan(plan.id, actor="chen", reason="新版本", to_version=again["to_version"],
                                 expected_version=again["expected_version"], expected_called=again["called_versions"])
    assert moved["called_versions"]["legality_review"] == 2


def test_a_reminder_the_new_version_adds_to_the_open_step_is_refused_until_the_step_is_done(engine, people, at):
    """Moved, the review could not be completed any more (SpiffWorkflow: "Split at
    Task_Review.BoundaryEventSplit was not reached"): the step began without the reminder."""
    engine.deploy([("mini_approval.bpmn", V1.encode())])
    with at("2026-12-01T09:00:00"):
        plan = engine.start("mini_approval", actor="zhang")
        _complete(engine, plan["id"], "Task_Draft", "zhang", DRAFT)
    _deploy(engine, TIMED)
    with at("2026-12-02T09:00:00"):
        assert refused(engine, plan["id"], "请等这一步办完后再迁移")[0].startswith(
            "当前待办环节 Task_Review「审核」 的边界事件（如提醒、超时）在第 2 版中有增删，不能迁移")
        # once the review is done (returned for redrafting), the plan moves, and the review reached
        # again has its reminder
        _complete(engine, plan["id"], "Task_Review", "li", {"decision": "return", "returnReason": "再改"})
        engine.migrate_plan(plan["id"], actor="chen", reason="加提醒")
        _complete(engine, plan["id"], "Task_Draft", "zhang", DRAFT)
        assert engine.instance(plan["id"])["next_timer_at"] == "2026-12-05T01:00:00+00:00"
        _complete(engine, plan["id"], "Task_Review", "li", {"decision": "approve"})
    assert engine.instance(plan["id"])["status"] == "completed"


def test_a_parallel_section_put_around_the_open_step_is_refused(engine, people):
    """The split lies behind the open draft: moved, the draft done, the join would wait for the
    countersignature no one was ever given, and the plan would stand with no open step."""
    engine.deploy([("mini_approval.bpmn", V1.encode())])
    plan = engine.start("mini_approval", actor="zhang")
    _deploy(engine, FORK_AROUND)
    fresh = engine.start("mini_approval", actor="zhang")
    assert sorted(t["element_id"] for t in _open(engine, fresh["id"])) == ["Task_Draft", "Task_X"]
    assert refused(engine, plan["id"], "或等方案办过该汇合后再迁移")[0].startswith(
        "第 2 版在方案当前环节之后的并行汇合 Gw_Join 要等待方案不会再经过的分支")


def test_two_moves_of_one_plan_at_once_one_wins_and_the_other_is_a_conflict(engine, people, db):
    """Two office members on two workers confirm the same preview at the same moment."""
    engine.deploy([("mini_approval.bpmn", V1.encode())])
    plan = engine.start("mini_approval", actor="zhang")
    [draft] = _open(engine, plan["id"])
    _deploy(engine, V2)
    seen = engine.migration_preview(plan["id"])
    workers, outcomes, ready = [engine, Engine(db)], [], threading.Barrier(2)
    for worker in workers:
        worker.instance(plan["id"])  # each has the plan's workflow cached

    def move(worker):
        ready.wait()
        try:
            worker.migrate_plan(plan["id"], actor="chen", reason="同时确认", to_version=seen["to_version"],
                                expected_version=seen["expected_version"], expected_called=seen["called_versions"])
            outcomes.append("moved")
        except Conflict:
            outcomes.append("conflict")
    threads = [threading.Thread(target=move, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "moved"]
    assert len(audit_payloads(engine, plan["id"], "instance_migrated")) == 1
    for worker in [*workers, Engine(db)]:  # each reads the moved plan, cached or not
        [kept] = _open(worker, plan["id"])
        assert (kept["id"], kept["name"], worker.instance(plan["id"])["definition_version"]) == (draft["id"], "起草方案", 2)
    Engine(db).complete(draft["id"], actor="zhang", data={**DRAFT, "background": "同时"})
    assert [t["element_id"] for t in _open(engine, plan["id"])] == ["Task_Review"]
    with engine.db.reader() as s:
        assert verify(s).ok


def test_a_round_of_reports_half_done_moves_and_each_step_keeps_its_body(library, at):
    """The multi-instance reports mid-way: one body has reported (its review open), two have not;
    the new version renames the steps. The done report keeps its name; the open ones take the new."""
    from .test_work_report import BODIES, HALF_YEAR, Round
    with at("2026-06-15T09:00:00"):
        plan = Round(library)
        plan.do("Task_ConfirmRound", **HALF_YEAR)
        plan.report(BODIES[0])
        before = {t["id"]: (t["element_id"], plan.values(t)["reportingUnit"]) for t in plan.engine.instance(plan.id)["tasks"]}
        renamed = (BPMN / "work_report.bpmn").read_text(encoding="utf-8").replace(
            'name="报送改革进展报告"', 'name="报送进展报告"').replace('name="编审单位报告"', 'name="编审报告"')
        library.deploy([("work_report.bpmn", renamed.encode())])
        moved = library.migrate_plan(plan.id, actor="chen", reason="步骤改名")
        assert sorted(t["name"] for t in moved["tasks"]) == ["报送进展报告", "报送进展报告", "编审报告"]
        plan.engine = Engine(library.db)  # read back from the database
        after = {t["id"]: (t["element_id"], plan.values(t)["reportingUnit"]) for t in plan.engine.instance(plan.id)["tasks"]}
        assert after == before
        for who in BODIES[1:]:
            plan.report(who)
        plan.review_all()
        plan.do("Task_CompileHalfYearReport")
        plan.do("Task_LeaderReview")
    assert plan.refresh()["status"] == "completed" and plan.audit_ok()
    with library.db.reader() as s:
        reported = [e["name"] for e in plan_history(s, plan.id)["events"]
                    if e["event_type"] == "task_completed" and e["payload"]["element_id"] == "Task_SubmitReport"]
    assert reported == ["报送改革进展报告", "报送进展报告", "报送进展报告"]


def test_a_waiting_timer_whose_rule_the_new_version_changes_is_counted_again(engine, people, at):
    """The reminder is due three days after the review opened; version 2 reminds after one. The
    move counts the running reminder again under the new rule, from when the review opened (the
    office moves a plan to apply a corrected rule); the preview and the trail say old -> new."""
    engine.deploy([("mini_approval.bpmn", TIMED.encode())])
    with at("2026-12-01T09:00:00"):
        plan = engine.start("mini_approval", actor="zhang")
        _complete(engine, plan["id"], "Task_Draft", "zhang", DRAFT)
    due = engine.instance(plan["id"])["next_timer_at"]
    assert due == "2026-12-04T01:00:00+00:00"
    _deploy(engine, TIMED.replace("P3D", "P1D"))
    with at("2026-12-01T15:00:00"):
        preview = engine.migration_preview(plan["id"])
        assert {s["element_id"]: (s["changes"], s["kept"]) for s in preview["steps"]} == {
            "Task_Review": ([], "as_is"), "Event_Remind": (["timer"], "changed")}
        [remind] = [s for s in preview["steps"] if s["element_id"] == "Event_Remind"]
        assert remind["recounted"] == {"old": due, "new": "2026-12-02T01:00:00+00:00"}
        moved = engine.migrate_plan(plan["id"], actor="chen", reason="提醒提前")
    assert moved["next_timer_at"] == "2026-12-02T01:00:00+00:00"  # a day after the review opened, not after the move
    [timer] = audit_payloads(engine, plan["id"], "timer_moved")
    assert (timer["element_id"], timer["reason"]) == ("Event_Remind", "migration")
    with engine.db.reader() as s:
        events = plan_history(s, plan["id"])["events"]
    [event] = [e for e in events if e["event_type"] == "instance_migrated"]
    assert said(event, "en").endswith("steps kept 审核, 提醒 (timer rule)")
    [timer_event] = [e for e in events if e["event_type"] == "timer_moved"]
    assert "moved to a new version: counted again by its rule" in said(timer_event, "en")


# version 2 of mini_approval: a check of the submission (形式审查) before the draft, where every plan begins
PRECHECK = _drawn(V1.replace(
    '<bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_Draft" />',
    '<bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_Precheck" />'
    '<bpmn:userTask id="Task_Precheck" name="形式审查" camunda:candidateGroups="reform_office">'
    '<bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_0</bpmn:outgoing></bpmn:userTask>'
    '<bpmn:sequenceFlow id="Flow_0" sourceRef="Task_Precheck" targetRef="Task_Draft" />').replace(
    '<bpmn:incoming>Flow_1</bpmn:incoming>\n      <bpmn:incoming>Flow_Return</bpmn:incoming>',
    '<bpmn:incoming>Flow_0</bpmn:incoming>\n      <bpmn:incoming>Flow_Return</bpmn:incoming>'),
    ["Task_Precheck"], ["Flow_0"])


def test_a_step_the_new_version_adds_behind_the_plan_is_shown_as_one_it_will_not_do(engine, people):
    """The plan is at the draft: the check added before it is behind the plan, which will not go
    that way again (a return leads back to the draft), so the preview says the plan skips it
    rather than listing it among the changes not reached yet."""
    engine.deploy([("mini_approval.bpmn", V1.encode())])
    plan = engine.start("mini_approval", actor="zhang")
    _deploy(engine, PRECHECK)
    preview = engine.migration_preview(plan["id"])
    assert [c["element_id"] for c in preview["behind"]] == ["Task_Precheck"]
    assert "Task_Precheck" not in {c["element_id"] for c in preview["ahead"]}
    engine.set_password("chen", "迁移预览-2026", actor="chen", first=True)
    page = signed_in_client(engine, "chen", "迁移预览-2026").get(f"/plans/{plan['id']}/migrate").get_data(as_text=True)
    assert "方案不会办理的新增环节" in page and '<li data-element="Task_Precheck">形式审查 (Task_Precheck)</li>' in page
    moved = engine.migrate_plan(plan["id"], actor="chen", reason="加形式审查")
    assert [t["element_id"] for t in moved["tasks"]] == ["Task_Draft"]



def test_the_dry_run_names_the_steps_added_behind_the_plan(cli, tmp_path):  # noqa: F811
    cli("deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))
    cli("start", "mini_approval", "--as", "zhang", "--business-key", "DT-8")
    new = tmp_path / "mini_approval.bpmn"
    new.write_text(PRECHECK, encoding="utf-8")
    cli("deploy", str(new))
    shown = cli("migrate", "DT-8", "--reason", "加形式审查", "--as", "chen", "--dry-run").stdout
    assert ("  方案已过其位置、不会办理的新增环节 (steps added where the plan has already been: it will not do them):\n"
            "    用户任务 (user task) Task_Precheck 形式审查\n") in shown
    assert "Task_Precheck" not in shown.split("方案已过其位置")[0]
