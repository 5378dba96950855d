"""What fuzzing the diagram path found (the fuzzaudit): `check` and `deploy` crashed with a
TypeError on an attribute a rule took for granted (a form field or a flow without an id, a form
field without a type named by a ledger property); the check of a 1,000-task diagram took half a
minute; and diagrams every start of which was refused passed: a process calling itself, directly
or round a cycle, subprocesses nested deeper than the engine runs, a loop of automatic steps."""
from __future__ import annotations

import pytest
from lxml import etree

from engine.checks import check_files, check_processes
from engine.errors import Invalid
from engine.walk import MAX_SUBPROCESS_DEPTH

from .conftest import FIXTURES
from .test_checks import HEAD, USER, diagram, flows

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
    assert [(s, r, e) for s, r, e, _ in problems] == [("error", "form", "Task_Review"),
                                                      ("warning", "variable", "Flow_Return")]
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


# --------------------------------------------------------------------------- never coming to rest

def _calling(key: str, called: str) -> str:
    """A process `key` whose call activity calls `called`, then a user task."""
    return (f'<bpmn:process id="{key}" name="{key}" isExecutable="true"><bpmn:startEvent id="S_{key}"/>'
            f'<bpmn:callActivity id="Call_{key}" name="调用" calledElement="{called}"><bpmn:extensionElements>'
            '<camunda:in variables="all"/><camunda:out variables="all"/></bpmn:extensionElements></bpmn:callActivity>'
            f'<bpmn:userTask id="U_{key}" name="办理" {USER}/><bpmn:endEvent id="E_{key}"/>'
            f'<bpmn:sequenceFlow id="F1_{key}" sourceRef="S_{key}" targetRef="Call_{key}"/>'
            f'<bpmn:sequenceFlow id="F2_{key}" sourceRef="Call_{key}" targetRef="U_{key}"/>'
            f'<bpmn:sequenceFlow id="F3_{key}" sourceRef="U_{key}" targetRef="E_{key}"/></bpmn:process>\n')


def _file(*processes: str) -> bytes:
    return (HEAD + "".join(processes) + "</bpmn:definitions>\n").encode()


def test_a_call_activity_calling_its_own_process_is_refused():
    """Every start was refused: "子流程嵌套超过 30 层，流程可能在调用自己"."""
    assert said(_file(_calling("self_call", "self_call"))) == [("error", "call-activity", "Call_self_call", (
        "调用的是它自己所在的流程 self_call：每次启动都会无休止地嵌套子流程，方案无法启动；请把 Called element 改为要调用的"
        "另一个流程的 id (calls its own process self_call: every start would nest subprocesses without end, so no "
        "plan could start; set Called element to the id of another process)"))]


def test_processes_calling_each_other_are_refused_on_each_call_activity():
    problems = said(_file(_calling("a", "b"), _calling("b", "a")))
    assert [(s, r, e) for s, r, e, _ in problems] == [("error", "call-activity", "Call_a"),
                                                      ("error", "call-activity", "Call_b")]
    assert problems[0][3] == (
        "调用的流程 b 又调用回本流程（a → b → a）：每次启动都会无休止地嵌套子流程，方案无法启动；请去掉这一循环中的一个调用 "
        "(calls process b, which calls this process back (a → b → a): every start would nest subprocesses without "
        "end, so no plan could start; remove one of the calls of this cycle)")


def test_a_cycle_through_files_checked_together_and_deployed_versions_is_refused():
    a, b, c = _file(_calling("a", "b")), _file(_calling("b", "c")), _file(_calling("c", "a"))
    problems = check_processes([("a.bpmn", a), ("b.bpmn", b)], deployed_keys={"c"}, deployed_xml=[c.decode()])
    assert [(p["file"], p["element_id"]) for p in problems] == [("a.bpmn", "Call_a"), ("b.bpmn", "Call_b")]
    assert "（a → b → c → a）" in problems[0]["message"]
    # the file replaces the deployed version: c no longer calls a, so there is no cycle
    assert check_processes([("a.bpmn", a), ("b.bpmn", b), ("c.bpmn", _file(_calling("c", "d")))],
                           deployed_keys={"d"}, deployed_xml=[c.decode()]) == []


def test_deploy_refuses_a_process_calling_itself(engine, people):
    with pytest.raises(Invalid) as err:
        engine.deploy([("self.bpmn", _file(_calling("self_call", "self_call")))])
    assert "Call_self_call: [call-activity] 调用的是它自己所在的流程 self_call" in err.value.message


def _nested(depth: int) -> bytes:
    """Embedded subprocesses `depth` deep, Sub1 the outermost, a user task in the innermost."""
    body = (f'<bpmn:startEvent id="S{depth + 1}"/><bpmn:userTask id="U" name="办理" {USER}/><bpmn:endEvent '
            f'id="E{depth + 1}"/>' + flows((f"S{depth + 1}", "U"), ("U", f"E{depth + 1}")).replace("Flow_", "In_"))
    for d in range(depth, 0, -1):
        body = (f'<bpmn:startEvent id="S{d}"/><bpmn:subProcess id="Sub{d}" name="第{d}层">{body}</bpmn:subProcess>'
                f'<bpmn:endEvent id="E{d}"/><bpmn:sequenceFlow id="Fa{d}" sourceRef="S{d}" targetRef="Sub{d}"/>'
                f'<bpmn:sequenceFlow id="Fb{d}" sourceRef="Sub{d}" targetRef="E{d}"/>')
    return diagram(body)


def test_subprocesses_nested_deeper_than_the_engine_runs_are_refused_at_the_first_level_too_deep():
    """40 levels deployed, and every start was refused at the 31st (walk.MAX_SUBPROCESS_DEPTH)."""
    assert MAX_SUBPROCESS_DEPTH == 30
    assert said(_nested(30)) == []
    assert said(_nested(40)) == [("error", "bpmn", "Sub31", (
        "此子流程嵌套在第 31 层，引擎最多运行 30 层子流程，方案到此会被拒绝；请减少嵌套，把内层的环节移到外层或被调用的流程中 "
        "(this subprocess is nested 31 deep; the engine runs subprocesses at most 30 deep and would refuse the plan "
        "here: nest less, moving the inner steps out or into a called process)"))]


def test_a_loop_of_gateways_only_is_a_warning_naming_its_elements():
    """`${true}` back to the first gateway: every start ran 1000 automatic steps and was refused."""
    xml = diagram('<bpmn:startEvent id="StartEvent_1"/><bpmn:exclusiveGateway id="G1"/>'
                  '<bpmn:exclusiveGateway id="G2" default="Flow_4"/><bpmn:endEvent id="Event_End"/>'
                  + flows(("StartEvent_1", "G1"), ("G1", "G2"), ("G2", "G1", "${true}"), ("G2", "Event_End")))
    assert said(xml) == [("warning", "loop", "G1", (
        "循环 G1, G2 上只有网关、脚本等自动步骤，没有用户任务、定时器或接收事件：除非条件让流程离开，它会一直自动运行，引擎在 "
        "1000 步后拒绝该方案；请确认条件能让流程离开，或在循环上加一个用户任务 (the loop G1, G2 has only automatic steps "
        "such as gateways and scripts, and no user task, timer or receive event: unless a condition lets the plan "
        "leave, it runs on by itself and the engine refuses the plan after 1000 steps; make sure a condition lets "
        "it leave, or put a user task on the loop)"))]


def test_a_loop_through_a_parallel_gateway_and_a_throw_event_is_a_warning_too():
    xml = diagram('<bpmn:startEvent id="StartEvent_1"/><bpmn:exclusiveGateway id="G1"/>'
                  '<bpmn:intermediateThrowEvent id="T"/><bpmn:parallelGateway id="P"/><bpmn:endEvent id="Event_End"/>'
                  + flows(("StartEvent_1", "G1"), ("G1", "T"), ("T", "P"), ("P", "G1"), ("P", "Event_End")))
    assert [(s, r, e) for s, r, e, _ in said(xml)] == [("warning", "loop", "G1")]
    assert "循环 G1, T, P 上" in said(xml)[0][3]


@pytest.mark.parametrize("waits", [
    f'<bpmn:userTask id="W" name="复核" {USER}/>',
    '<bpmn:intermediateCatchEvent id="W"><bpmn:timerEventDefinition><bpmn:timeDuration>P1D</bpmn:timeDuration>'
    "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>",
])
def test_a_loop_through_a_user_task_or_a_timer_is_no_warning(waits):
    """The library's return loops (mini_approval's 退回 back to 起草) come to rest at a person's step."""
    xml = diagram(f'<bpmn:startEvent id="StartEvent_1"/><bpmn:exclusiveGateway id="G1"/>{waits}'
                  '<bpmn:exclusiveGateway id="G2" default="Flow_5"/><bpmn:endEvent id="Event_End"/>'
                  + flows(("StartEvent_1", "G1"), ("G1", "W"), ("W", "G2"), ("G2", "G1", "${true}"), ("G2", "Event_End")))
    assert said(xml) == []
    assert said(MINI) == []
