"""What `reformflow instance ID` shows while the argumentation branches run in parallel: the
variables every branch entered so far, not just those of the branch that moved last."""
from __future__ import annotations

from datetime import timedelta


from engine import clock

from .plan_helper import Plan

ALL_BRANCHES = {"touchesPublicInterest": True, "technical": True}
ARGUMENTATION = ["Task_DepartmentOpinions", "Task_ExpertArgumentation", "Task_PublicConsultation"]


def days_ago(days: int) -> str:
    """A consultation start far enough back that its period is over and the branch runs on."""
    return (clock.today() - timedelta(days=days)).isoformat()


def test_each_finished_branch_keeps_its_variables_while_the_others_run(library):
    plan = Plan(library)
    plan.run_until("Task_ExpertArgumentation", Task_RegisterPlan=ALL_BRANCHES)
    assert plan.active == ARGUMENTATION

    plan.do("Task_ExpertArgumentation", expertPanel="王教授（市社科院）等五人")
    assert plan.variables["expertPanel"] == "王教授（市社科院）等五人"
    plan.do("Task_RecordExpertOpinionsHandling", expertOpinionsHandling="采纳分步实施的建议")

    plan.do("Task_PublicConsultation", consultationMethods="座谈会、网上公示", consultationDays=35,
            consultationStart=days_ago(50))  # over by now, even if its last day was off and moved on
    plan.do("Task_RecordPublicComments", publicCommentsHandling="采纳9条")  # the period is over
    assert plan.active == ["Task_DepartmentOpinions"]  # still in parallel
    shown = plan.variables
    assert shown["expertPanel"] == "王教授（市社科院）等五人"  # the expert branch's, still shown
    assert shown["expertOpinionsHandling"] == "采纳分步实施的建议"
    assert shown["consultationMethods"] == "座谈会、网上公示"
    assert (shown["consultationDays"], shown["publicCommentsHandling"]) == (35, "采纳9条")
    assert shown["draftSummary"] == "方案初稿"  # entered before the split

    plan.do("Task_DepartmentOpinions", departmentsConsulted="市人社局、市教育局")
    shown = plan.variables
    assert (shown["expertPanel"], shown["consultationDays"], shown["departmentsConsulted"]) == (
        "王教授（市社科院）等五人", 35, "市人社局、市教育局")


def _return_after_first_pass(plan: Plan, first_pass_order: list[str]) -> None:
    """Run the argumentation once in the given order, then have the risk assessment send the
    plan back to drafting, so the parallel branches start a second time."""
    plan.run_until("Task_ExpertArgumentation", Task_RegisterPlan={**ALL_BRANCHES, "riskAssessmentRequired": True})
    for element_id in first_pass_order:
        plan.do(element_id)
    plan.do("Task_PrepareRiskReport", riskLevel="high")
    plan.do("Task_RequestAdjustment", returnReason="补偿标准须调整后重新评估")
    plan.do("Task_DraftPlan", draftSummary="调整后的方案")
    assert plan.active == ARGUMENTATION


def test_a_branch_finishing_later_does_not_bring_back_an_old_value(library):
    """On the second pass the expert branch still carries the first consultation period from
    the split; finishing it after the new consultation must not show the old period again."""
    plan = Plan(library)
    _return_after_first_pass(plan, ["Task_PublicConsultation", "Task_RecordPublicComments",
                                    "Task_ExpertArgumentation", "Task_RecordExpertOpinionsHandling",
                                    "Task_DepartmentOpinions"])
    assert plan.variables["consultationDays"] == 30

    plan.do("Task_PublicConsultation", consultationDays=45, consultationStart=days_ago(60))
    plan.do("Task_ExpertArgumentation", expertPanel="第二轮专家组")
    plan.do("Task_RecordExpertOpinionsHandling")
    assert plan.active == ["Task_DepartmentOpinions", "Task_RecordPublicComments"]
    shown = plan.variables
    assert shown["consultationDays"] == 45
    assert shown["expertPanel"] == "第二轮专家组"
    assert shown["draftSummary"] == "调整后的方案"


def test_second_pass_join_waits_for_every_branch(library):
    """Found while writing the tests above: the branch that arrived last on the first pass,
    arriving first on the second, fires the join at once."""
    plan = Plan(library)
    _return_after_first_pass(plan, ["Task_DepartmentOpinions", "Task_ExpertArgumentation",
                                    "Task_RecordExpertOpinionsHandling", "Task_PublicConsultation",
                                    "Task_RecordPublicComments"])
    plan.do("Task_PublicConsultation", consultationDays=45, consultationStart=days_ago(60))
    plan.do("Task_RecordPublicComments")
    assert plan.active == ["Task_DepartmentOpinions", "Task_ExpertArgumentation"]


def test_entering_a_subprocess_does_not_bring_back_an_old_value():
    """The first task of a subprocess starts from a copy of the data of the task that entered
    it: that copy is inherited, not a change, so a value another branch changed meanwhile stays.
    (Runtime level: a minimal diagram without layout, never deployed.)"""
    import time

    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState

    from engine import joins
    from engine.parser import parse_files
    from engine.runtime import Survey, settle
    from engine.scripting import script_engine

    from .conftest import FIXTURES
    joins.install()
    [parsed] = parse_files([("p.bpmn", (FIXTURES / "runtime" / "parallel_into_subprocess.bpmn").read_bytes())])
    workflow = BpmnWorkflow(parsed.spec, dict(parsed.embedded), script_engine=script_engine())
    workflow.get_next_task(state=TaskState.READY).data.update({"x": "old"})
    settle(workflow)

    def do(element_id, **values):
        task = next(t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.bpmn_id == element_id)
        time.sleep(0.002)  # distinct state-change times, as between two users' actions
        task.data.update(values)
        task.run()
        settle(workflow)
    do("A", x="new")
    do("B")  # enters subprocess S, whose first task inherited x = "old" from B
    assert Survey(workflow, set()).variables["x"] == "new"
