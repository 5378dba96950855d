"""engine.walk must give SpiffWorkflow's own answers: the same tasks in the same order, and
engine steps that run the same tasks. Checked after every step of whole plans, on paths with
loops, parallel branches and called subprocesses."""
import inspect
import sys

import pytest
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from bench.engine import library
from engine import forms
from engine.demo import MEETING, STANDARD_ANSWERS
from engine.drive import answer_for
from engine.parser import parse_files
from engine.scripting import script_engine
from engine.walk import engine_steps, tree_tasks

from .conftest import FIXTURES, read

MASKS = [TaskState.ANY_MASK, TaskState.READY, TaskState.WAITING, TaskState.COMPLETED,
         TaskState.NOT_FINISHED_MASK, TaskState.PREDICTED_MASK, TaskState.FINISHED_MASK,
         TaskState.FUTURE | TaskState.LIKELY]

LOW, HIGH = ({**STANDARD_ANSWERS["Task_PrepareRiskReport"], "riskLevel": level} for level in ("low", "high"))
LEGAL = STANDARD_ANSWERS["Task_LegalityReview"]
SCENARIOS = {
    "everything: argumentation, risk, major, party document, report up": (
        {"category": "major", "touchesPublicInterest": True, "technical": True, "riskAssessmentRequired": True,
         "partyDocument": True, "governmentDuties": True, "reportUp": True}, {}),
    "high risk, redraft, reassessed low": (
        {"riskAssessmentRequired": True, "touchesPublicInterest": True},
        {"Task_PrepareRiskReport": [HIGH, LOW]}),
    "materials missing, legality fail and redraft": (
        {}, {"Task_CheckMaterials": [{"materialsComplete": False, "missingMaterials": "缺少起草说明"},
                                     {"materialsComplete": True}],
             "Task_LegalityReview": [{**LEGAL, "legalityResult": "fail", "returnReason": "与上位法相抵触"},
                                     {**LEGAL, "legalityResult": "pass_with_changes", "requiredChanges": "删除第五条"}]}),
    "major plan deferred, departments without consensus, party document": (
        {"category": "major", "partyDocument": True},
        {"Task_LeadershipGroupMeeting": [{**MEETING, "decision": "defer"}, MEETING],
         "Task_DepartmentOpinions": [{**STANDARD_ANSWERS["Task_DepartmentOpinions"], "consensusReached": False},
                                     STANDARD_ANSWERS["Task_DepartmentOpinions"]]}),
}


def _shape(workflow):
    """What a workflow is, independent of its random task ids: each task in tree order."""
    return [(t.task_spec.name, t.state, t.data) for t in workflow.get_tasks()]


def _assert_walks_agree(workflow):
    for owner in [workflow, *workflow.subprocesses.values()]:
        for mask in MASKS:
            assert tree_tasks(owner, mask) == owner.get_tasks(state=mask), (owner.spec.name, TaskState.get_name(mask))


def _settle(workflow, steps):
    steps(workflow)
    while any(t.state == TaskState.READY and not t.task_spec.manual for t in workflow.get_tasks()):
        steps(workflow)


@pytest.mark.parametrize("start, overrides", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_walk_and_engine_steps_match_spiffworkflow_step_by_step(start, overrides):
    spec, subprocess_specs, settings = library()
    answers = {**STANDARD_ANSWERS, **overrides}
    theirs, ours = (BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine()) for _ in range(2))
    for workflow in (theirs, ours):
        workflow.get_next_task(state=TaskState.READY).data.update(
            {**start, **settings, "initiator": "zhang", "title": "walk", "businessKey": None})
    _settle(theirs, BpmnWorkflow.do_engine_steps)
    _settle(ours, engine_steps)
    done: dict[str, int] = {}
    for _ in range(200):
        _assert_walks_agree(ours)
        assert _shape(ours) == _shape(theirs)
        if theirs.completed:
            break
        assert not ours.completed
        pair = [w.get_tasks(state=TaskState.READY, manual=True)[0] for w in (theirs, ours)]
        element = pair[0].task_spec.bpmn_id
        answer = answer_for(answers, {"element_id": element}, done.get(element, 0))
        done[element] = done.get(element, 0) + 1
        for task in pair:
            task.data.update(forms.validate(forms.describe(task.task_spec.form), answer, task.data))
            task.run()
        _settle(theirs, BpmnWorkflow.do_engine_steps)
        _settle(ours, engine_steps)
    assert ours.completed and ours.success
    assert sum(done.values()) >= 15  # a whole plan, not a first step
    assert ours.subprocesses  # called processes were entered and walked


def test_a_tree_branching_deeper_than_the_python_stack_is_walked_without_recursion():
    # Each round of parallel opinions, answered last branch first, hangs the rest of the plan
    # below the first branch: a walk that recursed at each branch would need a frame per round.
    # The stack is made too short for that; the walk keeps its own list and needs none.
    (parsed,) = parse_files([read(FIXTURES / "diagrams" / "loop_parallel_join.bpmn")])
    workflow = BpmnWorkflow(parsed.spec, {}, script_engine=script_engine())
    workflow.get_next_task(state=TaskState.READY).data.update({"initiator": "zhang"})
    _settle(workflow, engine_steps)
    for _ in range(40):
        for element in ("Task_Draft", "Task_Expert", "Task_Risk", "Task_Legal", "Task_Review"):
            task = workflow.get_next_task(state=TaskState.READY, spec_name=element)
            task.data.update({"decision": "return"})
            task.run()
            _settle(workflow, engine_steps)
    expected = workflow.get_tasks()
    asked = []  # SpiffWorkflow's own (slow) iterator is not asked instead
    stock = workflow.get_tasks
    workflow.get_tasks = lambda **kwargs: asked.append(kwargs) or stock(**kwargs)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack(0)) + 30)
    try:
        walked = tree_tasks(workflow)
    finally:
        sys.setrecursionlimit(limit)
    assert asked == []
    assert walked == expected and len(walked) > 300
