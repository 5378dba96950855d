"""From a security review of hostile diagrams (2026-12): what a script builds or counts is
bounded for one whole action, and names shown to people hold no control or invisible character.

* Working-day counts are charged to the work budget (a 520-line script of
  `addWorkingDays(today(), 10000)` held `start`, and the database's write lock, for 278 s), and one
  budget covers every script, condition and due date of an action (a script -> gateway -> script
  loop got a fresh budget each pass).
* A value a script sets is nested at most 32 levels, as submitted data (lines of
  `a = [[[…a…]]]` ended in a RecursionError when the plan was saved: an error 500, nothing saved).
* Names, labels and documentation with a line break (in a name), a right-to-left override or a
  zero-width character are refused by `check` and `deploy`.
"""
from __future__ import annotations

import re
import time
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from engine import expressions
from engine.cli import main
from engine.deadlines import WORK_PER_DAY, deadline_functions
from engine.errors import Invalid
from engine.expressions import MAX_DATA_DEPTH, MAX_WORK, EvaluationError, compile_script
from engine.forms import check_submitted
from engine.workdays import WorkCalendar
from models import AuditEvent, ProcessInstance


def _diagram(key: str, script: str, *, loop: str | None = None, name: str = "脚本", task_name: str = "办理",
             label: str = "意见", doc: str = "请填写") -> bytes:
    """Start -> script -> (a gateway back to the script while `loop` holds) -> user task -> end."""
    if loop is None:
        out, between = "Flow_2", ""
    else:
        out, between = "Flow_1", (
            '<bpmn:exclusiveGateway id="Gw_1" name="再来？" default="Flow_2"><bpmn:incoming>Flow_1</bpmn:incoming>'
            '<bpmn:outgoing>Flow_back</bpmn:outgoing><bpmn:outgoing>Flow_2</bpmn:outgoing></bpmn:exclusiveGateway>'
            '<bpmn:sequenceFlow id="Flow_1" sourceRef="Script_1" targetRef="Gw_1" />'
            '<bpmn:sequenceFlow id="Flow_back" name="是" sourceRef="Gw_1" targetRef="Script_1"><bpmn:conditionExpression '
            f'xsi:type="bpmn:tFormalExpression">${{{loop}}}</bpmn:conditionExpression></bpmn:sequenceFlow>')
    back_in = "" if loop is None else "<bpmn:incoming>Flow_back</bpmn:incoming>"
    # a loop counts with n, which a script sets first (start data may not set what a script sets)
    first = "" if loop is None else (
        '<bpmn:scriptTask id="Script_0" name="计数" scriptFormat="python"><bpmn:incoming>Flow_0</bpmn:incoming>'
        '<bpmn:outgoing>Flow_00</bpmn:outgoing><bpmn:script>n = 0</bpmn:script></bpmn:scriptTask>'
        '<bpmn:sequenceFlow id="Flow_00" sourceRef="Script_0" targetRef="Script_1" />')
    source = "Script_1" if loop is None else "Gw_1"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_{key}" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="{key}" name="测试流程" isExecutable="true" camunda:historyTimeToLive="180">
    <bpmn:startEvent id="StartEvent_1" name="开始"><bpmn:outgoing>Flow_0</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="Script_1" name="{name}" scriptFormat="python"><bpmn:incoming>{'Flow_00' if loop else 'Flow_0'}</bpmn:incoming>{back_in}<bpmn:outgoing>{out}</bpmn:outgoing><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
    {first}{between}
    <bpmn:userTask id="Task_A" name="{task_name}" camunda:candidateGroups="reform_office"><bpmn:documentation>{doc}</bpmn:documentation><bpmn:extensionElements><camunda:formData><camunda:formField id="opinion" label="{label}" type="string" /></camunda:formData></bpmn:extensionElements><bpmn:incoming>Flow_2</bpmn:incoming><bpmn:outgoing>Flow_3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="EndEvent_1" name="结束"><bpmn:incoming>Flow_3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_0" sourceRef="StartEvent_1" targetRef="{'Script_0' if loop else 'Script_1'}" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="{source}" targetRef="Task_A" />
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Task_A" targetRef="EndEvent_1" />
  </bpmn:process>
  {_layout(key, loop is not None)}
</bpmn:definitions>
""".encode()


def _layout(key: str, loop: bool) -> str:
    shapes = [("StartEvent_1", 100, 36), ("Script_1", 200, 100), ("Task_A", 450, 100), ("EndEvent_1", 600, 36)]
    flows = [("Flow_0", 136, 200), ("Flow_2", 400 if loop else 300, 450), ("Flow_3", 550, 600)]
    if loop:
        shapes += [("Gw_1", 350, 50), ("Script_0", 100, 100)]
        flows += [("Flow_1", 300, 350), ("Flow_back", 375, 250), ("Flow_00", 150, 200)]
    return ('<bpmndi:BPMNDiagram id="D1"><bpmndi:BPMNPlane id="P1" bpmnElement="' + key + '">'
            + "".join(f'<bpmndi:BPMNShape id="{i}_di" bpmnElement="{i}"><dc:Bounds x="{x}" y="100" width="{w}" '
                      f'height="{80 if w == 100 else w}" /></bpmndi:BPMNShape>' for i, x, w in shapes)
            + "".join(f'<bpmndi:BPMNEdge id="{i}_di" bpmnElement="{i}"><di:waypoint x="{a}" y="120" />'
                      f'<di:waypoint x="{b}" y="120" /></bpmndi:BPMNEdge>' for i, a, b in flows)
            + "</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>")


def _refused_start(engine, key: str, script: str, data: dict | None = None, **kw) -> str:
    engine.deploy([(f"{key}.bpmn", _diagram(key, script, **kw))])
    with engine.db.reader() as s:
        events = s.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    with pytest.raises(Invalid) as refused:
        engine.start(key, actor="chen", data=data)
    with engine.db.reader() as s:  # nothing changed: no plan, no event
        assert s.execute(select(func.count()).select_from(ProcessInstance)).scalar_one() == 0
        assert s.execute(select(func.count()).select_from(AuditEvent)).scalar_one() == events
    message = refused.value.message
    assert f"{key}.bpmn: element Script_1 (脚本)" in message and "未做任何更改" in message, message
    return message


TOO_MUCH = "计算量过大（一次操作的脚本、条件和期限合计上限 2000000 步）"


# -- 1. the work budget ---------------------------------------------------------------------


def test_working_day_counts_spend_the_work_budget(engine, people):
    """Six counts of 10 000 working days (~0.7 s each) in a script of six lines: refused at the
    fourth (each walks ~14 700 days), well before they all ran. The audit's 520 lines took 278 s."""
    script = "\n".join(f"d{i} = addWorkingDays(today(), 10000)" for i in range(6))
    started = time.perf_counter()
    message = _refused_start(engine, "qa_wd_many", script)
    assert f"第 4 行：{TOO_MUCH}" in message and "(line 4: too much work (limit 2000000 steps" in message
    assert time.perf_counter() - started < 30


@pytest.mark.parametrize("script, loop", [
    # each pass well within a budget, together past it: before, each pass got a budget of its own
    ("n = n + 1\nd = addWorkingDays(today(), 10000)", "n &lt; 6"),
    ("n = n + 1\nbig = [0] * 50000\nk = len(big + big)", "n &lt; 30"),
])
def test_one_budget_covers_a_loop_of_scripts(engine, people, script, loop):
    message = _refused_start(engine, "qa_loop_budget", script, loop=loop)
    assert TOO_MUCH in message


def test_a_loop_within_the_budget_still_runs(engine, people):
    engine.deploy([("qa_loop_ok.bpmn", _diagram("qa_loop_ok", "n = n + 1\nd = addWorkingDays(today(), 15)",
                                                loop="n &lt; 20"))])
    plan = engine.start("qa_loop_ok", actor="chen")
    assert [t["element_id"] for t in plan["tasks"]] == ["Task_A"]


def test_a_deadline_of_some_working_days_spends_little():
    """A due date of 15 working days (~21 days) is ~0.04 % of the budget; the longest a function
    accepts (10 000 working days, ~14 700 days) more than a quarter: three fit in one action, a fourth does not."""
    functions = deadline_functions(datetime(2026, 3, 2, 1, tzinfo=timezone.utc), WorkCalendar())
    token = expressions._work.set([MAX_WORK])
    try:
        functions["workingDays"](15)
        spent = MAX_WORK - expressions._work.get()[0]
        assert 15 * WORK_PER_DAY <= spent <= 25 * WORK_PER_DAY
        functions["addWorkingDays"]("2026-03-02", 10000)
        functions["addWorkingDays"]("2026-03-02", -10000)
        functions["workingDays"](10000)
        with pytest.raises(EvaluationError, match="too much work"):
            functions["addWorkingDays"]("2026-03-02", 10000)
    finally:
        expressions._work.reset(token)


# -- 2. nesting ------------------------------------------------------------------------------


def test_a_script_nesting_a_value_deeper_than_submitted_data_may_be_is_refused(engine, people):
    """The audit's deepdata.bpmn: `a = 1`, then lines of 38 brackets around a."""
    script = "a = 1\n" + "\n".join(f"a = {'[' * 38}a{']' * 38}" for _ in range(48))
    message = _refused_start(engine, "qa_deep_data", script)
    assert f"第 2 行：变量 a 的值嵌套超过 {MAX_DATA_DEPTH} 层" in message
    assert f"line 2: the value of a is nested more than {MAX_DATA_DEPTH} deep" in message


def _nested(depth: int):
    value = "x"
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("depth", [1, 5, 30, 31, 32, 33, 40])
def test_a_script_nests_as_deep_as_submitted_data_may(depth):
    """The same count as the API's (engine/forms.py check_submitted): what a person may submit,
    a script may set, and no deeper."""
    try:
        check_submitted({"v": _nested(depth)}, ("数据", "data"))
        submitted = True
    except Invalid:
        submitted = False
    lines, inner = [], "'x'"
    for chunk in range(0, depth, 20):  # an expression nests at most 40 brackets: 20 a line
        n = min(20, depth - chunk)
        lines.append(f"v = {'[' * n}{inner}{']' * n}")
        inner = "v"
    script = compile_script("\n".join(lines))
    try:
        script.execute({})
        scripted = True
    except EvaluationError as exc:
        assert "嵌套超过 32 层" in exc.zh
        scripted = False
    assert scripted == submitted
    assert submitted == (depth <= 31)


def test_data_nested_as_forms_and_reporting_bodies_are_kept(engine, people):
    """A list of reporting bodies (objects in a list) and start data nested 31 deep pass through
    a script unchanged."""
    script = "bodies = [{'name': '发改委', 'contacts': [{'name': '张三', 'phones': ['1']}]}]\ncopy = deep"
    engine.deploy([("qa_nested_ok.bpmn", _diagram("qa_nested_ok", script))])
    plan = engine.start("qa_nested_ok", actor="chen", data={"deep": _nested(31)})
    assert plan["tasks"]


# -- 3. names ----------------------------------------------------------------------------------


@pytest.mark.parametrize("field, value, code", [
    ("task_name", "任务&#13;&#10;Bcc: evil@example.com", "U+000D"),
    ("task_name", "审核&#x202e;gpj.exe", "U+202E"),
    ("name", "脚本&#x200b;", "U+200B"),
    ("name", "脚本&#x2028;二", "U+2028"),
    ("label", "意见&#x200f;", "U+200F"),
    ("doc", "第一行&#10;第二行&#x202e;", "U+202E"),
])
def test_check_and_deploy_refuse_a_hidden_character_in_a_name(tmp_path, engine, field, value, code):
    data = _diagram("qa_hidden", "x = 1", **{field: value})
    bad = tmp_path / "hidden.bpmn"
    bad.write_bytes(data)
    checked = CliRunner().invoke(main, ["--db", engine.db.url, "check", str(bad)])
    assert checked.exit_code != 0
    line = next(line for line in checked.output.splitlines() if "[hidden-character]" in line)
    assert line.startswith(f"{bad}: 错误 error:") and code in line and "含有控制字符或不可见字符" in line
    assert "\r" not in checked.output and "\u202e" not in checked.output and "\u200b" not in checked.output
    with pytest.raises(Invalid, match=re.escape("[hidden-character]")) as refused:
        engine.deploy([("hidden.bpmn", data)])
    assert code in refused.value.message


def test_documentation_may_keep_its_line_breaks(engine, people):
    engine.deploy([("qa_doc_lines.bpmn", _diagram("qa_doc_lines", "x = 1", doc="第一行&#10;第二行&#13;&#10;\t第三行"))])
    assert engine.start("qa_doc_lines", actor="chen")["tasks"]


def test_a_form_fields_shown_property_with_a_hidden_character_is_refused():
    from engine.checks import check_processes
    data = _diagram("qa_hint", "x = 1").replace(
        b'type="string" />', 'type="string"><camunda:properties><camunda:property id="rangeHint" '
        'value="不超过&#x202e;十个字" /></camunda:properties></camunda:formField>'.encode())
    problems = [p for p in check_processes([("hint.bpmn", data)]) if p["rule"] == "hidden-character"]
    assert [(p["element_id"], p["severity"]) for p in problems] == [("Task_A", "error")]
    assert "属性的值 “不超过<U+202E>十个字”" in problems[0]["message"] and "U+202E" in problems[0]["message"]
