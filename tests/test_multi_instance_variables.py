"""A multi-instance activity's element variable is the engine's to give each instance: start
data may not give it, and a value a calling process set before is refused with a message that
says what to change (it had ended in SpiffWorkflow's "Multiinstance input item department
already exists")."""
from __future__ import annotations

import pytest

from engine.commands import Engine
from engine.errors import Invalid

from .conftest import FIXTURES, read

def _caller() -> tuple[str, bytes]:
    """corpus/call_activity.bpmn turned round: its user task, whose form now sets `department`,
    comes first; then it calls the multi-instance process."""
    xml = (FIXTURES / "corpus" / "call_activity.bpmn").read_text(encoding="utf-8")
    for old, new in (('calledElement="corpus_called_process"', 'calledElement="corpus_multi_instance_parallel"'),
                     ('sourceRef="StartEvent_1" targetRef="Activity_0jsfzpo"', 'sourceRef="StartEvent_1" targetRef="Activity_0lhu4o7"'),
                     ('sourceRef="Activity_0jsfzpo" targetRef="Activity_0lhu4o7"', 'sourceRef="Activity_0lhu4o7" targetRef="Activity_0jsfzpo"'),
                     ('sourceRef="Activity_0lhu4o7" targetRef="Event_15xvin2"', 'sourceRef="Activity_0jsfzpo" targetRef="Event_15xvin2"'),
                     ('camunda:assignee="${initiator}">',
                      'camunda:assignee="${initiator}"><bpmn:extensionElements><camunda:formData>'
                      '<camunda:formField id="department" label="牵头部门" type="string" /></camunda:formData>'
                      '</bpmn:extensionElements>')):
        assert old in xml, old
        xml = xml.replace(old, new)
    return "caller.bpmn", xml.encode()


def test_start_data_may_not_give_the_element_variable(db, people):
    engine = Engine(db)
    engine.deploy([read(FIXTURES / "corpus" / "multi_instance_parallel.bpmn")])
    with pytest.raises(Invalid) as refused:
        engine.start("corpus_multi_instance_parallel", actor="chen",
                     data={"departments": ["legal"], "department": "reform_office"})
    assert "department 是多实例活动给每个实例的变量，启动时不能指定" in str(refused.value)


def test_a_value_set_by_the_calling_process_is_refused_naming_the_activity(db, people):
    engine = Engine(db)
    engine.deploy([read(FIXTURES / "corpus" / "multi_instance_parallel.bpmn"), _caller()])
    plan = engine.start("corpus_call_activity", actor="chen", data={"departments": ["legal"]})
    [task] = plan["tasks"]
    with pytest.raises(Invalid) as refused:
        engine.complete(task["id"], actor="chen", data={"department": "legal"})
    message = str(refused.value)
    assert message.startswith("multi_instance_parallel.bpmn: element Activity_12kapjq (各部门出具意见): ")
    assert "多实例活动给每个实例的变量 department 在进入此活动前已有值" in message
    assert "give camunda:elementVariable another name" in message
    # nothing changed: the step is still there to complete with another answer
    assert [t["id"] for t in engine.instance(plan["id"])["tasks"]] == [task["id"]]
