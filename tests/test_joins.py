"""A join inside a loop waits for every branch on every pass, whichever order they finish in
(engine/joins.py): SpiffWorkflow 3.2 counted the previous pass's arrivals as arrived."""
from __future__ import annotations

import re

import pytest
from SpiffWorkflow.util.task import TaskState

from .conftest import FIXTURES
from .plan_helper import Plan
from .test_state_rows import in_memory

DIAGRAM = FIXTURES / "diagrams" / "loop_parallel_join.bpmn"
BRANCHES = ["Task_Expert", "Task_Legal", "Task_Risk"]
OPINION = {"Task_Legal": "legalOpinion", "Task_Risk": "riskOpinion", "Task_Expert": "expertOpinion"}
# The branch that finished last on one pass finishes first on the next.
ORDERS = [["Task_Legal", "Task_Risk", "Task_Expert"],
          ["Task_Expert", "Task_Legal", "Task_Risk"],
          ["Task_Risk", "Task_Expert", "Task_Legal"]]


def diagram(join: str) -> tuple[str, bytes]:
    """The fixture, with its merging gateway as a parallel or an inclusive gateway."""
    xml = DIAGRAM.read_text(encoding="utf-8")
    if join == "inclusive":
        xml, n = re.subn(r'<bpmn:parallelGateway id="Gateway_Join">(.*?)</bpmn:parallelGateway>',
                         r'<bpmn:inclusiveGateway id="Gateway_Join">\1</bpmn:inclusiveGateway>', xml, flags=re.S)
        assert n == 1
    return (DIAGRAM.name, xml.encode())


class LoopPlan(Plan):
    """Plan's helpers on the small loop diagram instead of the reform plan."""

    def __init__(self, engine):
        self.engine = engine
        self.view = engine.start("loop_parallel_join", actor="zhang", title="退回重新会签测试")
        self.id = self.view["id"]
        self.done: list[str] = []


@pytest.mark.parametrize("join", ["parallel", "inclusive"])
@pytest.mark.parametrize("passes", [2, 3])
def test_join_in_a_loop_waits_for_every_branch_on_every_pass(engine, people, join, passes):
    engine.deploy([diagram(join)])
    plan = LoopPlan(engine)
    for n, order in enumerate(ORDERS[:passes], start=1):
        plan.do("Task_Draft")
        assert plan.active == BRANCHES, f"pass {n}"
        for i, branch in enumerate(order):
            plan.do(branch, **{OPINION[branch]: f"第{n}轮意见"})
            if i < len(order) - 1:
                assert plan.active == sorted(order[i + 1:]), f"pass {n}: the join fired after {order[:i + 1]}"
        assert plan.active == ["Task_Review"], f"pass {n}"
        assert {plan.variables[v] for v in OPINION.values()} == {f"第{n}轮意见"}  # this pass's opinions
        # and what flows on past the join, as a gateway after it would read them
        [review] = [t for t in in_memory(engine, plan.id).get_tasks(state=TaskState.READY)
                    if t.task_spec.bpmn_id == "Task_Review"]
        assert {review.data[v] for v in OPINION.values()} == {f"第{n}轮意见"}, f"pass {n}"
        plan.do("Task_Review", decision="return" if n < passes else "approve")

    assert plan.refresh()["status"] == "completed"
    assert plan.active == []
    assert plan.done.count("Task_Review") == passes
