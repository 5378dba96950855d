"""What fuzzing the diagram path found (the fuzzaudit): `check` and `deploy` crashed with a
TypeError on an attribute a rule took for granted (a form field or a flow without an id, a form
field without a type named by a ledger property); the check of a 1,000-task diagram took half a
minute; and diagrams every start of which was refused passed: a process calling itself, directly
or round a cycle, subprocesses nested deeper than the engine runs, a loop of automatic steps."""
from __future__ import annotations

import pytest
from lxml import etree

from engine.checks import check_files
from engine.errors import Invalid

from .conftest import FIXTURES
from .test_checks import USER, diagram, flows

MINI = (FIXTURES / "diagrams" / "mini_approval.bpmn").read_bytes()
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "camunda": "http://camunda.org/schema/1.0/bpmn"}


def said(xml: bytes, **kw) -> list[tuple[str, str, str | None, str]]:
    """(severity, rule, element id, message) of every problem `check` reports, the Modeler lint left out."""
    return [(p["severity"], p["rule"], p["element_id"], p["message"])
            for p in check_files([("t.bpmn", xml)], use_modeler=False, **kw).problems]


def mini(change) -> bytes:
    """mini_approval.bpmn with `change(root)` made to it."""
    root = etree.fromstring(MINI)
    change(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def field(root, fid: str):
    [el] = root.xpath(f".//camunda:formField[@id='{fid}']", namespaces=NS)
    return el


# --------------------------------------------------------------------------- attributes taken for granted

def test_a_form_field_without_an_id_is_an_error_naming_its_task_and_label():
    """It was `TypeError: 'NoneType' object is not subscriptable` and a traceback."""
    xml = mini(lambda root: field(root, "returnReason").attrib.pop("id"))
    errors = [p for p in said(xml) if p[0] == "error"]
    assert errors == [("error", "form", "Task_Review", (
        "表单字段（标签“退回理由”，第 39 行）没有 id：请在 Camunda Modeler 的 Forms → 该字段 → ID 中填写一个变量名，条件和后续"
        "步骤用它读取填写的值 (form field (“退回理由”, line 39) has no id: enter a variable name under Forms → the field "
        "→ ID in Camunda Modeler; conditions and later steps read the value by it)"))]


def test_a_flow_without_an_id_is_one_error_and_the_gateway_rules_wait_for_it():
    """`TypeError: sequence item 0: expected str instance, NoneType found` from the gateway rule,
    which listed the flows without a condition by their ids."""
    def add_flow(root):
        [process] = root.xpath("./bpmn:process", namespaces=NS)
        etree.SubElement(process, f"{{{NS['bpmn']}}}sequenceFlow", name="另一条", sourceRef="Gateway_Decision",
                         targetRef="Event_Done")
    assert said(mini(add_flow)) == [("error", "bpmn", None, (
        "第 60 行的 bpmn:sequenceFlow“另一条” 没有 id：请在 Modeler 的 General → ID 中给它一个 id。顺序流、网关和事件的检查要"
        "等改正后才会进行，改正后请再检查一次 (the bpmn:sequenceFlow “另一条” on line 60 has no id: give it one in the "
        "Modeler under General → ID. The checks of sequence flows, gateways and events run once it is fixed: check "
        "again then)"))]


def test_a_task_or_gateway_without_an_id_is_named_by_its_kind_and_line():
    xml = mini(lambda root: root.xpath(".//bpmn:exclusiveGateway", namespaces=NS)[0].attrib.pop("id"))
    # the engine's reader says too that the flows name a gateway the file no longer has
    [message] = [m for _, rule, element, m in said(xml) if (rule, element) == ("bpmn", None)]
    assert message.startswith("第 45 行的 bpmn:exclusiveGateway“结论？” 没有 id")
    assert "(the bpmn:exclusiveGateway “结论？” on line 45 has no id" in message


def test_a_ledger_property_naming_a_field_without_a_type_leaves_it_to_the_form_rule():
    """The ledger rule joined the field's types, None among them: a TypeError."""
    def change(root):
        field(root, "days").attrib.pop("type")
        [process] = root.xpath("./bpmn:process", namespaces=NS)
        ext = etree.SubElement(process, f"{{{NS['bpmn']}}}extensionElements")
        process.insert(0, ext)
        props = etree.SubElement(ext, f"{{{NS['camunda']}}}properties")
        etree.SubElement(props, f"{{{NS['camunda']}}}property", name="ledgerMeasures", value="days")
    assert [(s, r, e) for s, r, e, _ in said(mini(change))] == [("error", "form", "Task_Draft")]
    assert "表单字段 'days' 没有类型" in said(mini(change))[0][3]


def test_a_condition_naming_the_value_of_an_enum_field_without_an_id_gets_no_hint_from_it():
    """The hint `${decision == 'approve'}` joined the field ids: None, a TypeError."""
    def change(root):
        field(root, "decision").attrib.pop("id")
        root.xpath(".//bpmn:conditionExpression", namespaces=NS)[0].text = "${approve}"
    problems = said(mini(change))
    assert [(s, r, e) for s, r, e, _ in problems] == [("error", "form", "Task_Review"), ("warning", "variable", "Flow_Return")]
    assert "没有 id" in problems[0][3] and "应写" not in problems[1][3]


def test_deploy_refuses_a_form_field_without_an_id_with_the_check_s_message(engine):
    from sqlalchemy import func, select

    from models import ProcessDefinition
    xml = mini(lambda root: field(root, "returnReason").attrib.pop("id"))
    with pytest.raises(Invalid) as err:
        engine.deploy([("mini_approval.bpmn", xml)])
    assert "Task_Review: [form] 表单字段（标签“退回理由”，第 39 行）没有 id" in err.value.message
    with engine.db.reader() as s:
        assert s.execute(select(func.count()).select_from(ProcessDefinition)).scalar_one() == 0


# --------------------------------------------------------------------------- a large diagram

def test_a_thousand_user_tasks_with_forms_and_files_of_earlier_steps_check_clean():
    """Each task's filesOf rule walked the whole file for the ids of its user tasks: about 30 s
    for 1,000 tasks side by side (figures: the lead's report). Now once per file."""
    n = 1000
    tasks = "".join(f'<bpmn:userTask id="Task_{i}" name="第{i}步" {USER}><bpmn:extensionElements><camunda:formData>'
                    f'<camunda:formField id="note{i}" label="意见" type="string"/></camunda:formData>'
                    + (f'<camunda:properties><camunda:property name="filesOf" value="Task_{i - 1}"/></camunda:properties>'
                       if i else "") + "</bpmn:extensionElements></bpmn:userTask>" for i in range(n))
    pairs = [("StartEvent_1", "Fork"), ("Join", "Event_End")]
    for i in range(n):
        pairs += [("Fork", f"Task_{i}"), (f"Task_{i}", "Join")]
    xml = diagram('<bpmn:startEvent id="StartEvent_1"/><bpmn:parallelGateway id="Fork"/><bpmn:parallelGateway id="Join"/>'
                  + tasks + '<bpmn:endEvent id="Event_End"/>' + flows(*pairs))
    assert said(xml) == []
    bad = xml.replace(b'value="Task_998"', b'value="Task_9999"')
    assert [(s, r, e) for s, r, e, _ in said(bad)] == [("error", "form", "Task_999")]
