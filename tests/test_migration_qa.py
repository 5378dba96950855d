"""Moving a plan (方案迁移到新版本) in the harder places: parallel branches, loops, concurrent moves."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from engine import clock
from engine.archive import decision_archive
from engine.audit import verify
from engine.commands import Engine
from engine.errors import Conflict, Invalid
from engine.history import plan_history
from models import HumanTask

from .conftest import FIXTURES
from .plan_helper import audit_payloads
from .test_migration import DRAFT, V1, V2, _complete, _deploy, _open, _rows, _state

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
    before, rows = _state(parallel, plan["id"]), _rows(parallel, plan["id"])
    preview = parallel.migration_preview(plan["id"])
    assert preview["allowed"] is False
    assert "并行分支 Gateway_Split 之后办理" in preview["refusals"][0]
    with pytest.raises(Invalid, match="请等各分支汇合后再迁移"):
        parallel.migrate_plan(plan["id"], actor="chen", reason="加专家意见")
    assert (_state(parallel, plan["id"]), _rows(parallel, plan["id"])) == (before, rows)
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
        assert decision_archive(s, plan["id"], clock.now())["verified"]["problems"] == []
    # the two rounds before the move keep the name they were done under; the one after has the new name
    assert [e["name"] for e in drafts] == ["起草", "起草", "起草方案"]
