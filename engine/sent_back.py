"""Why a submission came straight back to its step: the first gateway the plan passed after the
step just completed on its way back to it, with the flow it took, as the diagram names them
(意见是否有效：未署名或未回避). Without it the person read only that the step was back,
"see what is missing", with nothing to say what was.

A gateway counts when its flow towards the reopened step has a name in the diagram; a merging
gateway's plain flow, or a flow drawn without a label, says nothing and is left out.
"""
from __future__ import annotations

import json

from SpiffWorkflow.bpmn.specs.defaults import ExclusiveGateway, InclusiveGateway
from sqlalchemy import select

from models import ProcessDefinition

from .expressions import ExpressionError, compile_expression
from .procedure_gates import Container, containers
from .scripting import FUNCTION_NAMES


def reasons(session, plan, done, again) -> list[str]:
    """`done`, `again`: SpiffWorkflow tasks (the completed step, the reopened one) of `plan`
    (anything with definition_id and subprocess_definitions). Oldest gateway first."""
    passed = []  # (gateway task, the element it led to), newest first
    after, task = again, again.parent
    while task is not None and task.id != done.id:
        if isinstance(task.task_spec, (ExclusiveGateway, InclusiveGateway)):
            passed.append((task, after.task_spec.bpmn_id))
        if getattr(task.task_spec, "bpmn_id", None) is not None:
            after = task
        task = task.parent
    if task is None or not passed:
        return []
    named = _named_flows(session, plan, {gateway.task_spec.bpmn_id for gateway, _ in passed})
    said = []
    for gateway, target in reversed(passed):
        flows = named.get((gateway.task_spec.bpmn_id, target), [])
        # two named flows may join the same element (再次讨论, 会议记录不完整): the one whose
        # condition held for the values the gateway saw, as SpiffWorkflow tried them
        taken = flows if len(flows) < 2 else [f for f in flows if _held(f[2], gateway.data)][:1]
        said += [f"{gateway_name}：{flow_name}" for gateway_name, flow_name, _ in taken]
    # the first named way out of the step decided it; routing further on (需征求意见？：不需要) is noise
    return said[:1]


def _held(condition: str | None, data: dict) -> bool:
    try:
        return condition is not None and compile_expression(condition, FUNCTION_NAMES).evaluate(data) is True
    except ExpressionError:
        return False


def _named_flows(session, plan, gateways: set[str]) -> dict[tuple[str, str], list[tuple[str, str, str | None]]]:
    """(gateway id, target id) -> [(the gateway's name, a flow's name, its condition)], for the
    named flows leaving these gateways in the diagrams the plan is bound to, in document order
    (read as procedure_gates reads a diagram: its processes and their subprocesses)."""
    ids = [plan.definition_id, *json.loads(plan.subprocess_definitions or "{}").values()]
    found: dict[tuple[str, str], list] = {}

    def walk(c: Container) -> None:
        for source in gateways:
            if c.kinds.get(source) not in ("exclusiveGateway", "inclusiveGateway"):
                continue
            for _flow, target, condition, label in c.flows.get(source, []):
                if label.strip():
                    found.setdefault((source, target), []).append(
                        ((c.names[source] or "").strip() or source, label.strip(), condition))
        for inner in c.inner.values():
            walk(inner)

    for file_name, xml in session.execute(select(ProcessDefinition.file_name, ProcessDefinition.bpmn_xml)
                                          .where(ProcessDefinition.id.in_(ids))):
        for process in containers(xml.encode("utf-8"), file_name).values():
            walk(process)
    return found
