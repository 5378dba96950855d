"""A plan sent round the same loop many times keeps running (engine/deep_trees.py): SpiffWorkflow
keeps every round in its task tree, one level below the last. Before, a two-step loop stood
still after 333 returns with no open step, and reform_plan was refused after 82 returns to
drafting as if its diagram forked without end."""
from __future__ import annotations

import inspect
import sys

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine import deep_trees
from engine.commands import Engine
from engine.parser import parse_files
from engine.scripting import script_engine
from engine.walk import tree_tasks
from models.db import Database

from .conftest import FIXTURES, read
from .plan_helper import Plan, deploy_library

MINI = FIXTURES / "diagrams" / "mini_approval.bpmn"


def _open_step(engine: Engine, plan_id: int) -> dict:
    [task] = engine.instance(plan_id)["tasks"]
    return task


def test_a_plan_returned_350_times_still_opens_its_next_step_also_after_a_restart(sqlite_engine):
    engine = sqlite_engine
    engine.add_group("drafter", "起草人")
    engine.add_group("legal", "法制机构")
    engine.add_user("zhang", "张伟", groups=["drafter"])
    engine.add_user("li", "李娜", groups=["legal"])
    engine.deploy([read(MINI)])
    plan_id = engine.start("mini_approval", actor="zhang", title="深化财政预算管理制度改革方案")["id"]
    for round_number in range(1, 351):  # 3 levels of the tree a round: past SpiffWorkflow's 1000
        draft = _open_step(engine, plan_id)
        assert draft["element_id"] == "Task_Draft", round_number
        engine.complete(draft["id"], actor="zhang", data={"summary": f"第 {round_number} 稿"})
        review = _open_step(engine, plan_id)
        engine.claim(review["id"], actor="li")
        engine.complete(review["id"], actor="li", data={"decision": "return", "returnReason": f"第 {round_number} 次退回"})
    assert _open_step(engine, plan_id)["name"] == "起草"
    # a restart (another process, no cached workflow) reads the plan from its rows and goes on
    restarted = Engine(Database(engine.db.url))
    draft = _open_step(restarted, plan_id)
    restarted.complete(draft["id"], actor="zhang", data={"summary": "定稿"})
    review = _open_step(restarted, plan_id)
    restarted.claim(review["id"], actor="li")
    restarted.complete(review["id"], actor="li", data={"decision": "approve"})
    view = restarted.instance(plan_id)
    assert view["status"] == "completed" and view["variables"]["summary"] == "定稿"
    restarted.db.dispose()


def test_reform_plan_returned_to_drafting_again_and_again_runs_on_with_its_joins(engine, people):
    """reform_plan's joins asked SpiffWorkflow whether a task descends from another, which it
    answered by calling itself once per level of the tree: 82 rounds exhausted Python's stack.
    Here the stack is made short (250 frames above this test's) so that 20 rounds would."""
    deploy_library(engine)
    plan = Plan(engine, data={"touchesPublicInterest": False, "technical": True})
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack(0)) + 250)
    try:
        for round_number in range(20):
            plan.run_until("Task_SpecialGroupReview")
            plan.do("Task_SpecialGroupReview", specialGroupOpinion="举措缺乏突破性", specialGroupDecision="return",
                    returnReason=f"第 {round_number + 1} 次退回：请补充具体措施")
        assert plan.active == ["Task_DraftPlan"]
        plan.run_until("Task_SpecialGroupReview")  # the argumentation's parallel branches joined once more
        assert plan.active == ["Task_SpecialGroupReview"]
    finally:
        sys.setrecursionlimit(limit)
    assert plan.audit_ok()


def test_spiffworkflow_finds_the_steps_of_a_loop_deeper_than_1000_levels():
    """SpiffWorkflow's own task iterator, which its joins, timers and waiting tasks use, stopped
    descending at depth 1000; with the engine's patch it finds the latest round's step as the
    engine's walk does (in memory: no database)."""
    deep_trees.install()
    (parsed,) = parse_files([read(MINI)])
    workflow = BpmnWorkflow(parsed.spec, {}, script_engine=script_engine())
    workflow.get_next_task(state=TaskState.READY).data.update({"initiator": "zhang"})
    workflow.do_engine_steps()
    for _ in range(400):
        for answer in ({"summary": "稿"}, {"decision": "return", "returnReason": "退回"}):
            [task] = workflow.get_tasks(state=TaskState.READY, manual=True)
            task.data.update(answer)
            task.run()
            workflow.do_engine_steps()
    depth, task = 0, workflow.get_tasks(state=TaskState.READY, manual=True)[0]
    while task.parent is not None:
        depth, task = depth + 1, task.parent
    assert depth > 1000
    assert [t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.READY, manual=True)] == ["Task_Draft"]
    assert tree_tasks(workflow) == workflow.get_tasks()
