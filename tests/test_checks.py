"""`reformflow check` rules (engine/checks/): every rule fires on a minimal bad diagram and names
the right element; clean diagrams give nothing; the Modeler lint is mapped in, or skipped with
the reason when Node.js is missing; deploy refuses on the same rules."""
from __future__ import annotations

import re

import pytest

from engine import checks, modeler
from engine.checks import CheckReport, check_files, check_processes
from engine.errors import Invalid

from .conftest import BPMN, FIXTURES, read
from .test_modeler_toolchain import requires_modeler

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn" exporter="Camunda Modeler" exporterVersion="5.28.0">\n')
USER = 'camunda:candidateGroups="legal"'


def diagram(body: str, roots: str = "", key: str = "p") -> bytes:
    return (HEAD + f'<bpmn:process id="{key}" name="测试" isExecutable="true">\n{body}\n</bpmn:process>\n'
            f"{roots}</bpmn:definitions>\n").encode()


def flows(*pairs) -> str:
    """Sequence flows Flow_1, Flow_2, ... for (source, target[, condition]) pairs."""
    out = []
    for n, (source, target, *cond) in enumerate(pairs, start=1):
        inner = (f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{cond[0]}</bpmn:conditionExpression>'
                 if cond else "")
        out.append(f'<bpmn:sequenceFlow id="Flow_{n}" sourceRef="{source}" targetRef="{target}">{inner}</bpmn:sequenceFlow>')
    return "\n".join(out)


def simple(task: str, task_id: str = "Task_A") -> bytes:
    """start → <task> → end: the smallest diagram around one element."""
    return diagram(f'<bpmn:startEvent id="StartEvent_1" />\n{task}\n<bpmn:endEvent id="Event_End" />\n'
                   + flows(("StartEvent_1", task_id), (task_id, "Event_End")))


def found(xml: bytes, variables: bool = False, **kw) -> list[tuple[str, str | None]]:
    """(rule, element id) of every problem; the warnings about variables nothing sets (the small
    diagrams here read `x` freely) only with variables=True: they have tests of their own."""
    return [(p["rule"], p["element_id"]) for p in check_processes([("t.bpmn", xml)], **kw)
            if variables or p["rule"] != "variable"]


def severities(xml: bytes) -> list[str]:
    return [p["severity"] for p in check_processes([("t.bpmn", xml)]) if p["rule"] != "variable"]


CLEAN = simple(f'<bpmn:userTask id="Task_A" name="审核" {USER} />')
_CJK = re.compile(r"[\u4e00-\u9fff]")


def chinese_first(message: str) -> bool:
    """True if the message says it in Chinese before its first "(": the English comes in brackets."""
    return bool(_CJK.search(message.split("(", 1)[0]))


@pytest.fixture(autouse=True)
def every_problem_is_chinese_first(monkeypatch):
    """Every problem any test here makes a rule report is Chinese first: a new English-only message
    fails the test that makes the rule fire."""
    from engine.checks import common, directory, expressions

    made = common.problem

    def problem(file, el, rule, message, severity="error"):
        assert chinese_first(message), f"English-only problem message: {message}"
        return made(file, el, rule, message, severity)
    for module in (common, directory, expressions):
        monkeypatch.setattr(module, "problem", problem)


# --------------------------------------------------------------------------- clean diagrams

def test_a_clean_diagram_gives_nothing():
    assert found(CLEAN) == []
    report = check_files([("t.bpmn", CLEAN)], use_modeler=False)
    assert report == CheckReport([], "skipped: not requested") and report.ok


@pytest.mark.parametrize("path", sorted((FIXTURES / "diagrams").glob("*.bpmn")) + [FIXTURES / "modeler" / "clean.bpmn"]
                         + sorted(BPMN.glob("*.bpmn")), ids=lambda p: p.name)
def test_project_diagrams_give_no_error(path):
    report = check_files([read(path)], use_modeler=False)
    assert report.errors == [], report.errors


def test_report_shape():
    report = check_files([("t.bpmn", CLEAN), ("bad.bpmn", b"<nope")], use_modeler=False)
    assert not report.ok
    assert report.to_dict() == {"problems": report.problems, "errors": 1, "warnings": 0, "infos": 0,
                                "modeler_lint": "skipped: not requested"}
    [problem] = report.problems
    assert set(problem) == {"file", "element_id", "element_name", "rule", "message", "severity"}


# --------------------------------------------------------------------------- XML and schema

def test_xml_not_well_formed_and_doctype():
    report = check_files([("broken.bpmn", b"<bpmn:definitions"),
                          ("doctype.bpmn", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>' + CLEAN.split(b"?>", 1)[1])],
                         use_modeler=False)
    assert [(p["file"], p["rule"]) for p in report.problems] == [("broken.bpmn", "xml"), ("doctype.bpmn", "xml")]
    assert "DOCTYPE" in report.problems[1]["message"]


def test_xml_nested_past_the_parsers_limit_is_not_told_to_be_saved_again():
    """The security audit of 6 December 2026: a well-formed file nested 300 deep was "not well-formed
    XML, save it again in the Modeler", with libxml2's "use XML_PARSE_HUGE option"."""
    deep = CLEAN.replace(b"</bpmn:definitions>", b"<x>" * 300 + b"</x>" * 300 + b"</bpmn:definitions>")
    [problem] = check_files([("deep.bpmn", deep)], use_modeler=False).problems
    assert problem["rule"] == "xml" and problem["message"] == (
        "deep.bpmn: XML 元素嵌套超过 256 层，不是 Camunda Modeler 画出的流程图；请核对文件 (XML elements nested deeper "
        "than 256 levels: not a diagram Camunda Modeler draws; check the file)")


def test_billion_laughs_and_other_encodings_are_named_for_what_they_are():
    """Entity expansion stopped by libxml2 was "not well-formed XML"; a GBK or UTF-16 file was
    "UnicodeDecodeError: 'utf-8' codec can't decode byte 0xbc in position 675"."""
    laughs = ('<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
              + "".join(f'<!ENTITY {n} "{("&" + p + ";") * 10}">' for p, n in zip("abcdefg", "bcdefgh"))
              + ']>\n').encode() + CLEAN.split(b"?>", 1)[1].replace(b'name="\xe5\xae\xa1\xe6\xa0\xb8"', b'name="&h;"')
    text = CLEAN.decode()
    report = check_files([("laughs.bpmn", laughs), ("gbk.bpmn", text.replace("UTF-8", "GBK").encode("gbk")),
                          ("utf16.bpmn", text.replace("UTF-8", "UTF-16").encode("utf-16"))], use_modeler=False)
    assert [(p["file"], p["rule"], p["message"]) for p in report.problems] == [
        ("laughs.bpmn", "xml", "laughs.bpmn: 出于安全考虑，BPMN 文件中不允许 DOCTYPE 声明：请删去 <!DOCTYPE …>，"
                               "把其中声明的实体（&名称;）写成原文；Camunda Modeler 保存的文件不会有 DOCTYPE "
                               "(a DOCTYPE declaration is not allowed in a BPMN file: remove the <!DOCTYPE …> and "
                               "write out the entities (&name;) it declares; files saved by Camunda Modeler have "
                               "none)"),
        ("gbk.bpmn", "xml", "gbk.bpmn: 文件须为 UTF-8 编码，此文件为 GBK，请在 Modeler 中重新保存 "
                            "(the file must be UTF-8 encoded, not GBK; save it again in Camunda Modeler)"),
        ("utf16.bpmn", "xml", "utf16.bpmn: 文件须为 UTF-8 编码，此文件为 UTF-16，请在 Modeler 中重新保存 "
                              "(the file must be UTF-8 encoded, not UTF-16; save it again in Camunda Modeler)")]
    ascii_only = text.replace("UTF-8", "ISO-8859-1").replace("审核", "review").replace("测试", "test").encode()
    assert check_files([("ascii.bpmn", ascii_only)], use_modeler=False).problems == []


def test_a_file_of_more_than_20000_elements_is_refused_at_once():
    """A 4 MB file of 1 000 000 empty elements kept `check` busy past a minute (the Modeler lint)."""
    many = CLEAN.replace(b"</bpmn:process>", b"<b/>" * 1_000_000 + b"</bpmn:process>", 1)
    [problem] = check_files([("many.bpmn", many)]).problems
    assert problem["message"] == ("many.bpmn: 文件有 1000007 个 XML 元素，上限 20000，请拆分流程或删除多余内容 "
                                  "(the file has 1000007 XML elements; the limit is 20000)")


def test_schema_error_names_the_element():
    bad = CLEAN.replace(b'<bpmn:userTask id="Task_A" name="\xe5\xae\xa1\xe6\xa0\xb8"',
                        b'<bpmn:userTask id="Task_A" name="\xe5\xae\xa1\xe6\xa0\xb8" isSequential="maybe"')
    report = check_files([("schema.bpmn", bad)], use_modeler=False)
    assert [(p["rule"], p["file"], p["element_id"], p["element_name"]) for p in report.errors] == [
        ("bpmn", "schema.bpmn", "Task_A", "审核")]                 # found by the line the XSD reports
    assert "element Task_A “审核”, line 5" in report.errors[0]["message"]
    # two elements on the reported line: the one the schema message names
    same_line = diagram(f'<bpmn:startEvent id="StartEvent_1" /><bpmn:userTask id="Task_A" {USER} isSequential="maybe" />'
                        '<bpmn:endEvent id="Event_End" />\n' + flows(("StartEvent_1", "Task_A"), ("Task_A", "Event_End")))
    report = check_files([("schema.bpmn", same_line)], use_modeler=False)
    assert [p["element_id"] for p in report.errors] == ["Task_A"]


def test_no_executable_process():
    report = check_files([("none.bpmn", CLEAN.replace(b'isExecutable="true"', b'isExecutable="false"'))],
                         use_modeler=False)
    assert [p["rule"] for p in report.errors] == ["bpmn"] and "no executable process" in report.errors[0]["message"]


def test_a_process_the_engine_cannot_store_is_refused(monkeypatch):
    def refuse(spec, embedded):
        raise TypeError("Object of type Gizmo is not JSON serializable")
    import engine.state
    monkeypatch.setattr(engine.state, "spec_to_json", refuse)
    report = check_files([("t.bpmn", CLEAN)], use_modeler=False)
    assert [(p["rule"], p["element_id"]) for p in report.errors] == [("bpmn", "p")]


# --------------------------------------------------------------------------- expressions, timers, scripts

def test_reserved_ids():
    xml = diagram('<bpmn:startEvent id="Start" />\n<bpmn:endEvent id="End" />\n' + flows(("Start", "End")))
    assert found(xml) == [("reserved-id", "Start"), ("reserved-id", "End")]
    # each renamed as the Modeler names its kind: End was told to become StartEvent_1
    assert [p["message"].split("（", 1)[1].split("）")[0] for p in check_processes([("t.bpmn", xml)])
            if p["rule"] == "reserved-id"] == ["如 StartEvent_1", "如 EndEvent_1"]


@pytest.mark.parametrize("condition, words", [
    ("${__import__('os').system('id')}", "only calls of named functions"),
    ("${_secret == 1}", "names starting with '_'"),
    ("${decision = 'approve'}", "'=' is not allowed"),
    ("${execution.processBusinessKey == 'x'}", "execution"),
    ("${execution.getVariable('result') == 'pass'}", "Camunda's `execution` object does not exist"),
    ("", "empty condition"),
])
def test_condition_outside_the_safe_language(condition, words):
    xml = diagram('<bpmn:startEvent id="StartEvent_1" />\n'
                  '<bpmn:exclusiveGateway id="Gateway_1" default="Flow_3" />\n'
                  '<bpmn:endEvent id="Event_A" />\n<bpmn:endEvent id="Event_B" />\n'
                  + flows(("StartEvent_1", "Gateway_1"), ("Gateway_1", "Event_A", condition), ("Gateway_1", "Event_B")))
    problems = check_processes([("t.bpmn", xml)])
    assert [(p["rule"], p["element_id"]) for p in problems] == [("expression", "Flow_2")]
    assert words in problems[0]["message"]


def test_condition_in_another_language():
    xml = diagram('<bpmn:startEvent id="StartEvent_1" />\n<bpmn:exclusiveGateway id="Gateway_1" default="Flow_3" />\n'
                  '<bpmn:endEvent id="Event_A" />\n<bpmn:endEvent id="Event_B" />\n'
                  + flows(("StartEvent_1", "Gateway_1"), ("Gateway_1", "Event_A", "x"), ("Gateway_1", "Event_B"))
                  .replace('xsi:type="bpmn:tFormalExpression"', 'xsi:type="bpmn:tFormalExpression" language="javascript"'))
    assert found(xml) == [("expression", "Flow_2")]


def _timer_catch(kind: str, value: str) -> bytes:
    return simple(f'<bpmn:intermediateCatchEvent id="Event_Wait"><bpmn:timerEventDefinition id="Timer_1">'
                  f'<bpmn:{kind} xsi:type="bpmn:tFormalExpression">{value}</bpmn:{kind}>'
                  f'</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>', "Event_Wait")


@pytest.mark.parametrize("kind, value", [("timeDuration", "7 days"), ("timeDuration", "P1.5M"),
                                         ("timeDate", "next monday"), ("timeDuration", ""),
                                         ("timeDate", "${open('/etc/passwd')}"),
                                         # passed, then start said "Error evaluating expression 'rf-timer:…'"
                                         ("timeDate", "0001-01-01T00:00:00")])
def test_bad_timer_values(kind, value):
    assert found(_timer_catch(kind, value)) == [("timer", "Event_Wait")]


@pytest.mark.parametrize("kind, value", [("timeDuration", "P7D"), ("timeDuration", "P1M"), ("timeDuration", "PT36H"),
                                         ("timeDate", "2026-12-01"), ("timeDate", "2026-12-01T09:00:00+08:00"),
                                         ("timeDate", "${workingDays(15)}"), ("timeDate", "${addMonths(issueDate, 1)}")])
def test_good_timer_values(kind, value):
    assert found(_timer_catch(kind, value)) == []


def test_numbers_of_thousands_of_digits_are_refused_not_a_crash():
    """int() of more than 4300 digits raises ValueError: it was a traceback from `check`."""
    many = "1" * 5000
    assert found(_timer_catch("timeDuration", f"P{many}D")) == [("timer", "Event_Wait")]
    problems = check_processes([("t.bpmn", _boundary_timer("false", value=f"R{many}/P1D"))])
    [error] = [p for p in problems if p["severity"] == "error"]  # beside the warning every cycle has
    assert (error["rule"], error["element_id"]) == ("timer", "Event_Remind")
    assert "too many repetitions" in error["message"]
    due = check_processes([("t.bpmn", simple(f'<bpmn:userTask id="Task_A" {USER} camunda:dueDate="P{many}D" />'))])
    assert [(p["rule"], p["element_id"]) for p in due] == [("due-date", "Task_A")]
    assert "duration is too long" in due[0]["message"]


def test_timer_without_value():
    xml = simple('<bpmn:intermediateCatchEvent id="Event_Wait"><bpmn:timerEventDefinition id="Timer_1" />'
                 '</bpmn:intermediateCatchEvent>', "Event_Wait")
    assert found(xml) == [("timer", "Event_Wait")]


def _boundary_timer(cancel: str, kind="timeCycle", value="R3/P1D") -> bytes:
    return diagram(f'<bpmn:startEvent id="StartEvent_1" />\n<bpmn:userTask id="Task_A" {USER} />\n'
                   '<bpmn:endEvent id="Event_End" />\n<bpmn:endEvent id="Event_Reminded" />\n'
                   f'<bpmn:boundaryEvent id="Event_Remind" attachedToRef="Task_A" cancelActivity="{cancel}">'
                   f'<bpmn:timerEventDefinition id="Timer_1"><bpmn:{kind} xsi:type="bpmn:tFormalExpression">{value}'
                   f'</bpmn:{kind}></bpmn:timerEventDefinition></bpmn:boundaryEvent>\n'
                   + flows(("StartEvent_1", "Task_A"), ("Task_A", "Event_End"), ("Event_Remind", "Event_Reminded")))


def test_cycles_only_on_non_interrupting_boundary_timers():
    assert found(_boundary_timer("false")) == [("timer", "Event_Remind")]  # runs, with a warning
    assert severities(_boundary_timer("false")) == ["warning"]
    assert found(_boundary_timer("false", "timeDuration", "P3D")) == []
    assert found(_boundary_timer("true")) == [("timer", "Event_Remind")]
    assert found(_timer_catch("timeCycle", "R3/P1D")) == [("timer", "Event_Wait")]
    start = diagram('<bpmn:startEvent id="StartEvent_1"><bpmn:timerEventDefinition id="Timer_1"><bpmn:timeCycle '
                    'xsi:type="bpmn:tFormalExpression">R/P1W</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:startEvent>\n'
                    '<bpmn:endEvent id="Event_End" />\n' + flows(("StartEvent_1", "Event_End")))
    assert found(start) == [("timer", "StartEvent_1")]


def test_script_outside_the_safe_language():
    xml = simple('<bpmn:scriptTask id="Task_A" scriptFormat="python"><bpmn:script>import os</bpmn:script></bpmn:scriptTask>')
    assert found(xml) == [("script", "Task_A")]
    ok = simple('<bpmn:scriptTask id="Task_A" scriptFormat="python"><bpmn:script>total = a + b</bpmn:script></bpmn:scriptTask>')
    assert found(ok) == []


# --------------------------------------------------------------------------- user tasks and forms

def test_user_task_without_assignment():
    assert found(simple('<bpmn:userTask id="Task_A" name="审核" />')) == [("assignment", "Task_A")]
    assert found(simple('<bpmn:userTask id="Task_A" camunda:candidateGroups=" " />')) == [("assignment", "Task_A")]
    for ok in ('camunda:assignee="${initiator}"', 'camunda:candidateUsers="li, chen"', 'camunda:candidateGroups="legal, risk"'):
        assert found(simple(f'<bpmn:userTask id="Task_A" {ok} />')) == []


@pytest.mark.parametrize("attrs", [f'{USER} camunda:priority="urgent"', f'{USER} camunda:assignee="user-${{x}}"',
                                   f'{USER} camunda:priority="²"', f'{USER} camunda:priority="{"9" * 5000}"',
                                   f'{USER} camunda:priority="2147483648"',  # beyond the column on PostgreSQL
                                   'camunda:candidateGroups="${groups.__class__}"'])
def test_bad_assignment_values(attrs):
    assert found(simple(f'<bpmn:userTask id="Task_A" {attrs} />')) == [("assignment", "Task_A")]


@pytest.mark.parametrize("attr", ["dueDate", "followUpDate"])
def test_bad_due_dates(attr):
    problems = check_processes([("t.bpmn", simple(f'<bpmn:userTask id="Task_A" {USER} camunda:{attr}="in a week" />'))])
    assert [(p["rule"], p["element_id"]) for p in problems] == [("due-date", "Task_A")]
    assert f"camunda:{attr}" in problems[0]["message"]
    # named by its attribute, not as a timer's timeDuration (QA analyst finding 12)
    assert f"(camunda:{attr} `in a week` is not an ISO 8601 value" in problems[0]["message"]
    assert "timeDuration" not in problems[0]["message"]


def test_a_chinese_comma_in_candidate_groups_is_one_error_not_also_a_group_to_create():
    """`legal_experts，legal` was refused (assignment) and also warned of as a group the database lacks."""
    xml = simple('<bpmn:userTask id="Task_A" camunda:candidateGroups="legal_experts，legal" />')
    report = check_files([("t.bpmn", xml)], use_modeler=False, directory=({"legal"}, set()))
    assert [(p["rule"], p["severity"]) for p in report.problems] == [("assignment", "error")]
    assert "多个名称请用英文逗号分隔" in report.problems[0]["message"]
    # a name that is a name but not in the database is still a warning
    xml = simple('<bpmn:userTask id="Task_A" camunda:candidateGroups="legal_experts, legal" />')
    report = check_files([("t.bpmn", xml)], use_modeler=False, directory=({"legal"}, set()))
    assert [(p["rule"], p["severity"]) for p in report.problems] == [("directory", "warning")]


def _form(fields: str) -> bytes:
    return simple(f'<bpmn:userTask id="Task_A" {USER}><bpmn:extensionElements><camunda:formData>{fields}'
                  '</camunda:formData></bpmn:extensionElements></bpmn:userTask>')


@pytest.mark.parametrize("fields", [
    '<camunda:formField id="amount" type="double" />',
    '<camunda:formField id="_secret" type="string" />',
    '<camunda:formField id="a" type="string" /><camunda:formField id="a" type="long" />',
    '<camunda:formField id="level" type="enum" />',
    '<camunda:formField id="level" type="enum" defaultValue="x"><camunda:value id="high" name="高" /></camunda:formField>',
    '<camunda:formField id="a" type="string"><camunda:validation><camunda:constraint name="validator" config="com.x.V" />'
    '</camunda:validation></camunda:formField>',
    '<camunda:formField id="a" type="long"><camunda:validation><camunda:constraint name="max" config="ten" />'
    '</camunda:validation></camunda:formField>',
    '<camunda:formField id="d" type="date"><camunda:validation><camunda:constraint name="min" config="soon" />'
    '</camunda:validation></camunda:formField>',
    # a bound written as an expression is held to the expression language
    '<camunda:formField id="d" type="date"><camunda:validation><camunda:constraint name="min" '
    'config="${d.__class__}" /></camunda:validation></camunda:formField>',
    '<camunda:formField id="d" type="date"><camunda:validation><camunda:constraint name="max" '
    'config="before ${d}" /></camunda:validation></camunda:formField>',
    '<camunda:formField id="n" type="long"><camunda:validation><camunda:constraint name="min" '
    'config="${execution.getVariable(\'n\')}" /></camunda:validation></camunda:formField>',
    '<camunda:formField id="s" type="string"><camunda:validation><camunda:constraint name="maxlength" '
    'config="${limit}" /></camunda:validation></camunda:formField>',
    # digits int() does not take: a traceback when the task was completed
    '<camunda:formField id="s" type="string"><camunda:validation><camunda:constraint name="maxlength" '
    f'config="{"1" * 5000}" /></camunda:validation></camunda:formField>',
    '<camunda:formField id="n" type="long"><camunda:validation><camunda:constraint name="min" '
    'config="²" /></camunda:validation></camunda:formField>',
    # ids no condition can read: every ${...} naming them was a syntax error
    '<camunda:formField id="字段" type="string" />', '<camunda:formField id="class" type="string" />',
    '<camunda:formField id="empty" type="string" />', f'<camunda:formField id="{"a" * 65}" type="string" />',
])
def test_bad_form_fields(fields):
    assert found(_form(fields)) == [("form", "Task_A")]


def test_good_form_fields():
    assert found(_form(
        '<camunda:formField id="s" type="string"><camunda:properties><camunda:property id="p" value="v" />'
        '</camunda:properties><camunda:validation><camunda:constraint name="required" />'
        '<camunda:constraint name="maxlength" config="20" /></camunda:validation></camunda:formField>'
        '<camunda:formField id="d" type="date"><camunda:validation><camunda:constraint name="max" config="2030-12-31" />'
        '</camunda:validation></camunda:formField>'
        '<camunda:formField id="e" type="enum" defaultValue="a"><camunda:value id="a" name="甲" /></camunda:formField>'
        '<camunda:formField id="b" type="boolean" defaultValue="false" />')) == []


def test_a_date_or_number_bound_may_be_an_expression_over_known_variables():
    bounds = ('<camunda:formField id="issued" type="date" /><camunda:formField id="filed" type="date">'
              '<camunda:validation><camunda:constraint name="min" config="${issued}" />'
              '<camunda:constraint name="max" config="${today()}" /></camunda:validation></camunda:formField>'
              '<camunda:formField id="least" type="long" /><camunda:formField id="days" type="long"><camunda:validation>'
              '<camunda:constraint name="min" config="${max(7, least)}" /></camunda:validation></camunda:formField>')
    assert found(_form(bounds)) == []
    problems = check_processes([("t.bpmn", _form(bounds.replace("${issued}", "${isued}")))])
    assert [(p["rule"], p["element_id"], p["severity"]) for p in problems] == [("variable", "Task_A", "error")]
    assert "form field 'filed' constraint 'min' `${isued}`" in problems[0]["message"]
    assert "one keystroke from issued" in problems[0]["message"]


def _decision(properties: str, kind: str = "enum") -> bytes:
    return _form(f'<camunda:formField id="result" label="审查结论" type="{kind}"><camunda:properties>{properties}'
                 '</camunda:properties><camunda:value id="pass" name="通过" /><camunda:value id="fail" name="不通过" />'
                 '</camunda:formField>')


def test_confirm_names_values_of_its_enum_field():
    """The choices to confirm before submitting (the web asks): each must be one of the field's
    values, else that choice would go through unasked."""
    assert found(_decision('<camunda:property id="confirm" value="fail" />'
                           '<camunda:property id="confirmText" value="方案将退回修改。" />')) == []
    assert found(_decision('<camunda:property id="confirm" value="pass, fail" />')) == []
    [problem] = check_processes([("t.bpmn", _decision('<camunda:property id="confirm" value="fail,reject" />'))])
    assert (problem["rule"], problem["element_id"], problem["file"]) == ("form", "Task_A", "t.bpmn")
    assert problem["message"].startswith("表单字段 'result' 的属性 confirm 列出的 'reject' 不是它的可选值，可写：pass, fail (")
    assert "names 'reject', which is not one of its values" in problem["message"]


def test_returns_names_choices_that_confirm_lists():
    """`returns` (which confirmed choices are returns, 退回 in the inbox) naming a choice not asked
    about would never count: said, with the choices to pick from."""
    assert found(_decision('<camunda:property id="confirm" value="pass,fail" />'
                           '<camunda:property id="returns" value="fail" />')) == []
    [problem] = check_processes([("t.bpmn", _decision('<camunda:property id="confirm" value="fail" />'
                                                      '<camunda:property id="returns" value="pass" />'))])
    assert problem["message"].startswith("表单字段 'result' 的属性 returns 列出的 'pass' 不在 confirm 中，不会算作退回；"
                                         "returns 只能从 confirm 的选项中选：fail (")
    assert found(_decision('<camunda:property id="returns" value="fail" />')) == [("form", "Task_A")]


@pytest.mark.parametrize("properties, kind", [
    ('<camunda:property id="confirm" value="" />', "enum"),
    ('<camunda:property id="confirm" value="fail" />', "string"),
    ('<camunda:property id="confirmText" value="方案将退回修改。" />', "enum"),
])
def test_confirm_without_choices_or_on_another_type_is_refused(properties, kind):
    assert found(_decision(properties, kind)) == [("form", "Task_A")]


def _reason(properties: str, validation: str = "") -> bytes:
    return _form('<camunda:formField id="result" label="审查结论" type="enum"><camunda:value id="pass" name="通过" />'
                 '<camunda:value id="fail" name="不通过" /></camunda:formField>'
                 f'<camunda:formField id="reason" label="退回理由" type="string"><camunda:properties>{properties}'
                 f'</camunda:properties>{validation}</camunda:formField>')


def test_required_when_is_one_safe_expression_on_an_optional_field():
    assert found(_reason('<camunda:property id="requiredWhen" value="${result == \'fail\'}" />')) == []
    [problem] = check_processes([("t.bpmn", _reason('<camunda:property id="requiredWhen" value="result == fail" />'))])
    assert (problem["rule"], problem["element_id"]) == ("form", "Task_A")
    assert "属性 requiredWhen 'result == fail' 须为一个完整的 ${...} 表达式" in problem["message"]
    [problem] = check_processes([("t.bpmn", _reason(
        '<camunda:property id="requiredWhen" value="${result.__class__}" />'))])  # no private names: refused
    assert problem["rule"] == "form" and "requiredWhen" in problem["message"]
    [problem] = check_processes([("t.bpmn", _reason(
        '<camunda:property id="requiredWhen" value="${result == \'fail\'}" />',
        '<camunda:validation><camunda:constraint name="required" /></camunda:validation>'))])
    assert "已是必填项，属性 requiredWhen 不起作用" in problem["message"]


def _start_form(fields: str, start_attrs: str = "") -> bytes:
    return diagram(f'<bpmn:startEvent id="StartEvent_1"{start_attrs}><bpmn:extensionElements><camunda:formData>'
                   f'{fields}</camunda:formData></bpmn:extensionElements></bpmn:startEvent>\n'
                   '<bpmn:endEvent id="Event_End" />\n' + flows(("StartEvent_1", "Event_End")))


def test_a_start_form_is_checked_like_a_task_form():
    assert found(_start_form('<camunda:formField id="a" type="string" />')) == []
    assert found(_start_form('<camunda:formField id="a" type="money" />')) == [("form", "StartEvent_1")]
    assert found(_start_form('<camunda:formField id="a" type="string" />', ' camunda:formKey="embedded:app:start.html"')) \
        == [("form", "StartEvent_1")]


@pytest.mark.parametrize("tag", ["task", "manualTask"])
def test_tasks_without_a_type(tag):
    assert found(simple(f'<bpmn:{tag} id="Task_A" name="整理" />')) == [("task-type", "Task_A")]


# --------------------------------------------------------------------------- multi-instance

def _mi(loop: str, tag="userTask", attrs=USER) -> bytes:
    return simple(f'<bpmn:{tag} id="Task_A" {attrs}>{loop}</bpmn:{tag}>')


def test_multi_instance():
    good = '<bpmn:multiInstanceLoopCharacteristics camunda:collection="departments" camunda:elementVariable="d" />'
    assert found(_mi(good)) == []
    assert found(_mi('<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality xsi:type="bpmn:tFormalExpression">3'
                     '</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>')) == []
    for bad in ('<bpmn:multiInstanceLoopCharacteristics camunda:collection="${departments}" camunda:elementVariable="d" />',
                '<bpmn:multiInstanceLoopCharacteristics camunda:collection="departments" />',
                '<bpmn:multiInstanceLoopCharacteristics camunda:collection="departments" camunda:elementVariable="a b" />',
                '<bpmn:multiInstanceLoopCharacteristics />',
                '<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality xsi:type="bpmn:tFormalExpression">'
                '${__import__("os")}</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>'):
        assert found(_mi(bad)) == [("multi-instance", "Task_A")], bad
    completion = ('<bpmn:multiInstanceLoopCharacteristics camunda:collection="departments" camunda:elementVariable="d">'
                  '<bpmn:completionCondition xsi:type="bpmn:tFormalExpression">${nrOfCompletedInstances &gt;= 2}'
                  '</bpmn:completionCondition></bpmn:multiInstanceLoopCharacteristics>')
    assert found(_mi(completion)) == [("expression", "Task_A")]


def test_a_loop_cardinality_is_at_most_1000():
    """100000 instances took 16 s and 576 MB at start; ${1000000000} did not end (3.5 GB in 60 s)."""
    def card(n):
        return _mi(f'<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>{n}</bpmn:loopCardinality>'
                   '</bpmn:multiInstanceLoopCharacteristics>')
    assert found(card("1000")) == []
    for bad in ("-1", "2.5", "three"):  # passed check; every plan's start then refused it
        assert found(card(bad)) == [("multi-instance", "Task_A")], bad
    # the element variable may not be the engine's own: "initiator already exists" at every start
    own = '<bpmn:multiInstanceLoopCharacteristics camunda:collection="departments" camunda:elementVariable="initiator" />'
    [problem] = check_processes([("t.bpmn", _mi(own))])
    assert "'initiator' 是引擎自己的变量" in problem["message"]
    [problem] = check_processes([("t.bpmn", card("100000"))])
    assert (problem["rule"], problem["element_id"]) == ("multi-instance", "Task_A")
    assert "(loopCardinality 100000 is too large: at most 1000 instances)" in problem["message"]


def test_an_element_variable_is_set_by_nothing_else_in_the_file():
    """Set by a script first, every plan stopped at the activity ("input item already exists");
    set by the activity's own form, each answer overwrote its item of the collection."""
    loop = '<bpmn:multiInstanceLoopCharacteristics camunda:collection="departments" camunda:elementVariable="d" />'
    own_form = ('<bpmn:extensionElements><camunda:formData><camunda:formField id="d" label="意见" type="string" />'
                '</camunda:formData></bpmn:extensionElements>')
    assert found(_mi(own_form + loop)) == [("multi-instance", "Task_A")]
    script_first = diagram('<bpmn:startEvent id="StartEvent_1" />\n'
                           '<bpmn:scriptTask id="Task_S" scriptFormat="python"><bpmn:script>d = "legal"</bpmn:script>'
                           '</bpmn:scriptTask>\n'
                           f'<bpmn:userTask id="Task_A" {USER}>{loop}</bpmn:userTask>\n<bpmn:endEvent id="Event_End" />\n'
                           + flows(("StartEvent_1", "Task_S"), ("Task_S", "Task_A"), ("Task_A", "Event_End")))
    [problem] = [p for p in check_processes([("t.bpmn", script_first)]) if p["rule"] == "multi-instance"]
    assert problem["element_id"] == "Task_A"
    assert "camunda:elementVariable 'd' is also set by the script of Task_S" in problem["message"]
    assert found(_mi(loop.replace('"d"', '"department"') )) == []  # nothing else sets it


def test_a_loop_cardinality_or_collection_from_the_data_is_bounded_when_the_plan_starts(sqlite_engine, monkeypatch):
    monkeypatch.setattr(modeler, "toolchain_status", lambda: (False, "not in this test"))
    engine = sqlite_engine
    engine.add_group("legal", "法制机构")
    engine.add_user("li", "李娜", groups=["legal"])
    engine.deploy([("mi.bpmn", _mi('<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>${n}'
                                   '</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>'))])
    with pytest.raises(Invalid) as refused:
        engine.start("p", actor="li", data={"n": 1_000_000_000})
    assert "mi.bpmn: element Task_A" in refused.value.message
    assert "loopCardinality must be a whole number from 0 to 1000, not 1000000000" in refused.value.message
    assert engine.start("p", actor="li", data={"n": 3})["status"] == "running"
    # a collection: 20 000 items (40 KB of start data) made 20 000 tasks in 19 s and 3.3 GB
    for sequential in ("false", "true"):
        engine.deploy([("c.bpmn", _mi(f'<bpmn:multiInstanceLoopCharacteristics isSequential="{sequential}" '
                                      'camunda:collection="xs" camunda:elementVariable="x" />').replace(
                                          b'id="p"', b'id="c"'))])
        with pytest.raises(Invalid) as refused:
            engine.start("c", actor="li", data={"xs": [0] * 20_000})
        assert "c.bpmn: element Task_A" in refused.value.message
        assert "the collection xs has 20000 items: a multi-instance activity has at most 1000" in refused.value.message
        assert engine.start("c", actor="li", data={"xs": [1, 2]})["status"] == "running"


def test_multi_instance_on_a_call_activity_is_refused():
    call = _mi('<bpmn:extensionElements><camunda:in variables="all" /><camunda:out variables="all" /></bpmn:extensionElements>'
               '<bpmn:multiInstanceLoopCharacteristics camunda:collection="xs" camunda:elementVariable="x" />',
               tag="callActivity", attrs='calledElement="q"')  # not p, its own process: that is refused too
    assert found(call, deployed_keys={"q"}) == [("multi-instance", "Task_A")]


# --------------------------------------------------------------------------- unsupported

@pytest.mark.parametrize("element, expected", [
    ('<bpmn:serviceTask id="Task_A" camunda:class="com.x.Y" />', [("unsupported", "Task_A")] * 2),
    ('<bpmn:sendTask id="Task_A" />', [("unsupported", "Task_A")]),
    ('<bpmn:businessRuleTask id="Task_A" camunda:decisionRef="d" />', [("unsupported", "Task_A")] * 2),
    ('<bpmn:receiveTask id="Task_A" />', [("unsupported", "Task_A")]),
    (f'<bpmn:userTask id="Task_A" {USER}><bpmn:extensionElements><camunda:taskListener event="create" '
     'class="com.x.L" /></bpmn:extensionElements></bpmn:userTask>', [("unsupported", "Task_A")]),
    (f'<bpmn:userTask id="Task_A" {USER}><bpmn:extensionElements><camunda:inputOutput /></bpmn:extensionElements></bpmn:userTask>',
     [("unsupported", "Task_A")]),
    (f'<bpmn:userTask id="Task_A" {USER} camunda:formRef="review" />', [("unsupported", "Task_A")]),
    (f'<bpmn:userTask id="Task_A" {USER}><bpmn:standardLoopCharacteristics /></bpmn:userTask>', [("unsupported", "Task_A")]),
    (f'<bpmn:userTask id="Task_A" {USER} camunda:formHandlerClass="com.x.FormHandler" />', [("unsupported", "Task_A")]),
    (f'<bpmn:userTask id="Task_A" {USER}><bpmn:extensionElements><camunda:executionListener class="com.x.L">'
     '<camunda:field name="f"><camunda:string>v</camunda:string></camunda:field></camunda:executionListener>'
     '</bpmn:extensionElements></bpmn:userTask>', [("unsupported", "Task_A")]),   # once, not per nested element
    (f'<bpmn:userTask id="Task_A" {USER}><bpmn:extensionElements><camunda:field name="f" stringValue="v" />'
     '</bpmn:extensionElements></bpmn:userTask>', [("unsupported", "Task_A")]),
])
def test_unsupported_elements_and_attributes(element, expected):
    assert found(simple(element)) == expected


@pytest.mark.parametrize("attrs", ['camunda:asyncBefore="true"', 'camunda:asyncAfter="true"', 'camunda:jobPriority="5"',
                                   'camunda:exclusive="false"', 'camunda:async="true"'])
def test_harmless_camunda_attributes_are_named_as_info(attrs):
    problems = check_processes([("t.bpmn", simple(f'<bpmn:userTask id="Task_A" {USER} {attrs} />'))])
    name = attrs.split("=")[0]
    assert [(p["rule"], p["element_id"], p["severity"]) for p in problems] == [("unsupported", "Task_A", "info")]
    assert f"{name} is ignored" in problems[0]["message"]


def test_process_attributes_version_tag_is_info_and_history_time_to_live_is_silent():
    xml = CLEAN.replace(b'isExecutable="true"', b'isExecutable="true" camunda:versionTag="v2" '
                                                b'camunda:historyTimeToLive="180"')
    problems = check_processes([("t.bpmn", xml)])
    assert [(p["element_id"], p["severity"]) for p in problems] == [("p", "info")]
    assert "camunda:versionTag is ignored" in problems[0]["message"]


def test_unknown_camunda_attribute_or_element_is_a_warning_with_a_suggestion():
    typo = check_processes([("t.bpmn", simple(f'<bpmn:userTask id="Task_A" {USER} camunda:candidateGroup="legal" />'))])
    assert [(p["rule"], p["element_id"], p["severity"]) for p in typo] == [("unsupported", "Task_A", "warning")]
    assert "camunda:candidateGroup" in typo[0]["message"] and "did you mean camunda:candidateGroups?" in typo[0]["message"]
    element = check_processes([("t.bpmn", _form('<camunda:formfield id="a" type="string" />'))])
    assert [(p["rule"], p["element_id"], p["severity"]) for p in element] == [("unsupported", "Task_A", "warning")]
    assert "did you mean camunda:formField?" in element[0]["message"]


@pytest.mark.parametrize("name, word", [("unknown_attribute.bpmn", "camunda:candidateGroup "),
                                        ("unknown_element.bpmn", "camunda:formfield ")])
def test_modeler_typo_fixtures_are_named_by_the_python_rules(name, word):
    """The typos the Modeler would drop on save are named without Node.js too."""
    report = check_files([read(FIXTURES / "modeler" / name)], use_modeler=False)
    assert [(p["rule"], p["element_id"]) for p in report.warnings if word in p["message"]] == [
        ("unsupported", "Task_LegalReview")]


def test_unsupported_structures():
    transaction = simple('<bpmn:transaction id="Task_A"><bpmn:startEvent id="Event_S" /></bpmn:transaction>')
    assert ("unsupported", "Task_A") in found(transaction)
    output = diagram(f'<bpmn:startEvent id="StartEvent_1" />\n<bpmn:userTask id="Task_A" {USER}>'
                     '<bpmn:dataOutputAssociation id="DataOutputAssociation_1"><bpmn:targetRef>Ref_1</bpmn:targetRef>'
                     '</bpmn:dataOutputAssociation></bpmn:userTask>\n<bpmn:endEvent id="Event_End" />\n'
                     '<bpmn:dataObjectReference id="Ref_1" dataObjectRef="Obj_1" /><bpmn:dataObject id="Obj_1" />\n'
                     + flows(("StartEvent_1", "Task_A"), ("Task_A", "Event_End")))
    assert found(output) == [("unsupported", "Task_A")]
    store = diagram(f'<bpmn:startEvent id="StartEvent_1" />\n<bpmn:userTask id="Task_A" {USER}>'
                    '<bpmn:property id="Property_1" name="__targetRef_placeholder" />'
                    '<bpmn:dataInputAssociation id="DataInputAssociation_1"><bpmn:sourceRef>Store_1</bpmn:sourceRef>'
                    '<bpmn:targetRef>Property_1</bpmn:targetRef></bpmn:dataInputAssociation></bpmn:userTask>\n'
                    '<bpmn:endEvent id="Event_End" />\n<bpmn:dataStoreReference id="Store_1" />\n'
                    + flows(("StartEvent_1", "Task_A"), ("Task_A", "Event_End")))
    assert found(store) == [("unsupported", "Task_A")]
    assert found(store.replace(b"<bpmn:dataInputAssociation", b"<!--").replace(b"</bpmn:dataInputAssociation>", b"-->")) == []
    event_sub = diagram(f'<bpmn:startEvent id="StartEvent_1" />\n<bpmn:userTask id="Task_A" {USER} />\n'
                        '<bpmn:endEvent id="Event_End" />\n'
                        '<bpmn:subProcess id="Sub_Event" triggeredByEvent="true"><bpmn:startEvent id="Event_S">'
                        '<bpmn:timerEventDefinition id="T"><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">P1D'
                        '</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:startEvent></bpmn:subProcess>\n'
                        + flows(("StartEvent_1", "Task_A"), ("Task_A", "Event_End")))
    assert found(event_sub) == [("unsupported", "Sub_Event")]


def test_link_and_other_event_kinds_are_refused():
    for definition in ('<bpmn:linkEventDefinition id="L" name="x" />', '<bpmn:conditionalEventDefinition id="C" />',
                       '<bpmn:compensateEventDefinition id="C" />'):
        xml = simple(f'<bpmn:intermediateThrowEvent id="Event_X">{definition}</bpmn:intermediateThrowEvent>', "Event_X")
        assert ("unsupported", "Event_X") in found(xml), definition


# --------------------------------------------------------------------------- events

MESSAGE = '<bpmn:message id="Message_1" name="材料补正" />\n'
SIGNAL = '<bpmn:signal id="Signal_1" name="政策调整" />\n'


def _event(tag: str, definition: str, roots: str = MESSAGE + SIGNAL) -> bytes:
    return diagram(f'<bpmn:startEvent id="StartEvent_1" />\n<bpmn:{tag} id="Event_X">{definition}</bpmn:{tag}>\n'
                   '<bpmn:endEvent id="Event_End" />\n' + flows(("StartEvent_1", "Event_X"), ("Event_X", "Event_End")),
                   roots)


def test_message_and_signal_catch_events():
    assert found(_event("intermediateCatchEvent", '<bpmn:messageEventDefinition id="M" messageRef="Message_1" />')) == []
    assert found(_event("intermediateCatchEvent", '<bpmn:signalEventDefinition id="S" signalRef="Signal_1" />')) == []
    for bad, roots in (('<bpmn:messageEventDefinition id="M" />', MESSAGE),
                       ('<bpmn:messageEventDefinition id="M" messageRef="Message_1" />', '<bpmn:message id="Message_1" />\n'),
                       ('<bpmn:messageEventDefinition id="M" messageRef="Message_1" />',
                        '<bpmn:message id="Message_1" name="${name}" />\n'),
                       ('<bpmn:signalEventDefinition id="S" signalRef="Nope" />', SIGNAL)):
        assert found(_event("intermediateCatchEvent", bad, roots)) == [("event", "Event_X")], bad


@pytest.mark.parametrize("definition", ['<bpmn:messageEventDefinition id="M" messageRef="Message_1" />',
                                        '<bpmn:signalEventDefinition id="S" signalRef="Signal_1" />'])
def test_throwing_messages_and_signals_is_refused(definition):
    assert found(_event("intermediateThrowEvent", definition)) == [("event", "Event_X")]


@pytest.mark.parametrize("definition", ['<bpmn:messageEventDefinition id="M" messageRef="Message_1" />',
                                        '<bpmn:signalEventDefinition id="S" signalRef="Signal_1" />'])
def test_message_and_signal_start_events_are_refused(definition):
    xml = diagram(f'<bpmn:startEvent id="StartEvent_1">{definition}</bpmn:startEvent>\n<bpmn:endEvent id="Event_End" />\n'
                  + flows(("StartEvent_1", "Event_End")), MESSAGE + SIGNAL)
    assert found(xml) == [("event", "StartEvent_1")]


def test_event_with_two_triggers_is_refused():
    both = ('<bpmn:messageEventDefinition id="M" messageRef="Message_1" />'
            '<bpmn:signalEventDefinition id="S" signalRef="Signal_1" />')
    assert found(_event("intermediateCatchEvent", both)) == [("event", "Event_X")]


def _boundary(host_tag: str, definition: str, cancel="true") -> bytes:
    inner = ('<bpmn:startEvent id="Event_S" /><bpmn:endEvent id="Event_E" />'
             '<bpmn:sequenceFlow id="Flow_In" sourceRef="Event_S" targetRef="Event_E" />') if host_tag == "subProcess" else ""
    attrs = USER if host_tag == "userTask" else ""
    return diagram(f'<bpmn:startEvent id="StartEvent_1" />\n<bpmn:{host_tag} id="Task_A" {attrs}>{inner}</bpmn:{host_tag}>\n'
                   '<bpmn:endEvent id="Event_End" />\n<bpmn:endEvent id="Event_Caught" />\n'
                   f'<bpmn:boundaryEvent id="Event_B" attachedToRef="Task_A" cancelActivity="{cancel}">{definition}'
                   '</bpmn:boundaryEvent>\n'
                   + flows(("StartEvent_1", "Task_A"), ("Task_A", "Event_End"), ("Event_B", "Event_Caught")),
                   '<bpmn:error id="Error_1" errorCode="E" /><bpmn:escalation id="Escalation_1" escalationCode="X" />\n')


@pytest.mark.parametrize("definition", ['<bpmn:errorEventDefinition id="D" errorRef="Error_1" />',
                                        '<bpmn:escalationEventDefinition id="D" escalationRef="Escalation_1" />'])
def test_error_and_escalation_boundaries(definition):
    assert found(_boundary("subProcess", definition)) == []
    xml = _boundary("userTask", definition)
    assert found(xml) == [("event", "Event_B")] and severities(xml) == ["warning"]


def test_boundary_event_without_trigger():
    assert found(_boundary("userTask", "")) == [("event", "Event_B")]


def _event_gateway(second: str) -> bytes:
    return diagram('<bpmn:startEvent id="StartEvent_1" />\n<bpmn:eventBasedGateway id="Gateway_1" />\n'
                   '<bpmn:intermediateCatchEvent id="Event_M"><bpmn:messageEventDefinition id="M" messageRef="Message_1" />'
                   f'</bpmn:intermediateCatchEvent>\n{second}\n'
                   '<bpmn:endEvent id="Event_End1" />\n<bpmn:endEvent id="Event_End2" />\n'
                   + flows(("StartEvent_1", "Gateway_1"), ("Gateway_1", "Event_M"), ("Gateway_1", "Event_2"),
                           ("Event_M", "Event_End1"), ("Event_2", "Event_End2")), MESSAGE + SIGNAL)


def test_event_based_gateway_targets():
    signal = '<bpmn:intermediateCatchEvent id="Event_2"><bpmn:signalEventDefinition id="S" signalRef="Signal_1" /></bpmn:intermediateCatchEvent>'
    assert found(_event_gateway(signal)) == []
    timer = ('<bpmn:intermediateCatchEvent id="Event_2"><bpmn:timerEventDefinition id="T"><bpmn:timeDuration '
             'xsi:type="bpmn:tFormalExpression">P10D</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>')
    assert found(_event_gateway(timer)) == [("event", "Event_2")]
    receive = '<bpmn:receiveTask id="Event_2" messageRef="Message_1" />'
    assert found(_event_gateway(receive)) == [("unsupported", "Event_2"), ("event", "Event_2")]
    single = diagram('<bpmn:startEvent id="StartEvent_1" />\n<bpmn:eventBasedGateway id="Gateway_1" />\n'
                     '<bpmn:intermediateCatchEvent id="Event_M"><bpmn:messageEventDefinition id="M" messageRef="Message_1" />'
                     '</bpmn:intermediateCatchEvent>\n<bpmn:endEvent id="Event_End" />\n'
                     + flows(("StartEvent_1", "Gateway_1"), ("Gateway_1", "Event_M"), ("Event_M", "Event_End")), MESSAGE)
    assert found(single) == [("event", "Gateway_1")]


# --------------------------------------------------------------------------- gateways

def _split(tag: str, conditions: dict, default: str | None = None) -> bytes:
    """start → gateway → Event_1..n, with a condition per flow (Flow_2.., None = no condition)."""
    attr = f' default="{default}"' if default else ""
    ends = "\n".join(f'<bpmn:endEvent id="Event_{n}" />' for n in range(1, len(conditions) + 1))
    pairs = [("StartEvent_1", "Gateway_1")]
    for n, cond in enumerate(conditions.values(), start=1):
        pairs.append(("Gateway_1", f"Event_{n}", cond) if cond else ("Gateway_1", f"Event_{n}"))
    return diagram(f'<bpmn:startEvent id="StartEvent_1" />\n<bpmn:{tag} id="Gateway_1"{attr} />\n{ends}\n' + flows(*pairs))


@pytest.mark.parametrize("tag", ["exclusiveGateway", "inclusiveGateway"])
def test_gateway_needs_a_default_or_a_condition_on_every_flow(tag):
    every = check_processes([("t.bpmn", _split(tag, {"a": "${x == 1}", "b": "${x == 2}"}))])
    assert [(p["rule"], p["element_id"], p["severity"]) for p in every if p["rule"] == "gateway"] == [
        ("gateway", "Gateway_1", "warning")]                   # every flow has one, but x = 3 is not shown covered
    assert found(_split(tag, {"a": "${x == 1}", "b": None}, default="Flow_3")) == []  # default catches the rest
    problems = [p for p in check_processes([("t.bpmn", _split(tag, {"a": "${x == 1}", "b": None}))])
                if p["rule"] != "variable"]
    assert [(p["rule"], p["element_id"]) for p in problems] == [("gateway", "Gateway_1")]
    assert "Flow_3" in problems[0]["message"]
    assert found(_split(tag, {"a": None, "b": None, "c": None}, default="Flow_2")) == [("gateway", "Gateway_1")]


def test_default_flow_rules():
    assert found(_split("exclusiveGateway", {"a": "${x == 1}", "b": "${x == 2}"}, default="Flow_3")) \
        == [("gateway", "Flow_3")]                                               # default with a condition
    assert found(_split("exclusiveGateway", {"a": "${x == 1}", "b": "${x == 2}"}, default="Flow_1")) \
        == [("gateway", "Gateway_1")]                                            # default does not leave it
    assert found(_split("exclusiveGateway", {"a": "${x == 1}"})) == [("gateway", "Gateway_1")]  # may stop


def test_conditions_where_they_do_nothing():
    assert found(_split("parallelGateway", {"a": "${x}", "b": None})) == [("gateway", "Flow_2")]
    conditional_flow = diagram(f'<bpmn:startEvent id="StartEvent_1" />\n<bpmn:userTask id="Task_A" {USER} />\n'
                               '<bpmn:endEvent id="Event_End" />\n'
                               + flows(("StartEvent_1", "Task_A"), ("Task_A", "Event_End", "${x}")))
    assert found(conditional_flow) == [("gateway", "Flow_2")]


def test_implicit_split():
    xml = diagram(f'<bpmn:startEvent id="StartEvent_1" />\n<bpmn:userTask id="Task_A" {USER} />\n'
                  '<bpmn:endEvent id="Event_1" />\n<bpmn:endEvent id="Event_2" />\n'
                  + flows(("StartEvent_1", "Task_A"), ("Task_A", "Event_1"), ("Task_A", "Event_2")))
    assert found(xml) == [("gateway", "Task_A")]


# --------------------------------------------------------------------------- reachability

def test_unreachable_elements():
    xml = diagram(f'<bpmn:startEvent id="StartEvent_1" />\n<bpmn:userTask id="Task_A" {USER} />\n'
                  f'<bpmn:userTask id="Task_Orphan" name="孤立" {USER} />\n<bpmn:endEvent id="Event_End" />\n'
                  '<bpmn:endEvent id="Event_OrphanEnd" />\n'
                  + flows(("StartEvent_1", "Task_A"), ("Task_A", "Event_End"), ("Task_Orphan", "Event_OrphanEnd")))
    problems = check_processes([("t.bpmn", xml)])
    assert [(p["rule"], p["element_id"], p["element_name"]) for p in problems] == [
        ("unreachable", "Task_Orphan", "孤立"), ("unreachable", "Event_OrphanEnd", None)]


def test_boundary_events_are_reached_from_their_host():
    assert found(_boundary_timer("false", "timeDuration", "P3D")) == []
    assert found(_boundary("subProcess", '<bpmn:errorEventDefinition id="D" errorRef="Error_1" />')) == []


def test_unreachable_inside_a_subprocess_and_a_subprocess_without_start():
    inside = diagram('<bpmn:startEvent id="StartEvent_1" />\n<bpmn:subProcess id="Sub_1">'
                     '<bpmn:startEvent id="Event_S" /><bpmn:endEvent id="Event_E" />'
                     f'<bpmn:userTask id="Task_Lost" {USER} />'
                     '<bpmn:sequenceFlow id="Flow_In" sourceRef="Event_S" targetRef="Event_E" /></bpmn:subProcess>\n'
                     '<bpmn:endEvent id="Event_End" />\n' + flows(("StartEvent_1", "Sub_1"), ("Sub_1", "Event_End")))
    assert found(inside) == [("unreachable", "Task_Lost")]
    no_start = diagram('<bpmn:startEvent id="StartEvent_1" />\n<bpmn:subProcess id="Sub_1">'
                       f'<bpmn:userTask id="Task_In" {USER} /></bpmn:subProcess>\n'
                       '<bpmn:endEvent id="Event_End" />\n' + flows(("StartEvent_1", "Sub_1"), ("Sub_1", "Event_End")))
    assert found(no_start) == [("unreachable", "Sub_1")]


def test_an_unreachable_subprocess_is_reported_once():
    xml = diagram('<bpmn:startEvent id="StartEvent_1" />\n<bpmn:endEvent id="Event_End" />\n'
                  '<bpmn:subProcess id="Sub_1"><bpmn:startEvent id="Event_S" /><bpmn:endEvent id="Event_E" />'
                  '<bpmn:sequenceFlow id="Flow_In" sourceRef="Event_S" targetRef="Event_E" /></bpmn:subProcess>\n'
                  + flows(("StartEvent_1", "Event_End")))
    assert found(xml) == [("unreachable", "Sub_1")]


# --------------------------------------------------------------------------- call activities

def _call(attrs: str = 'calledElement="child"',
          ext: str = '<camunda:in variables="all" /><camunda:out variables="all" />') -> bytes:
    return simple(f'<bpmn:callActivity id="Task_Call" {attrs}><bpmn:extensionElements>{ext}</bpmn:extensionElements>'
                  '</bpmn:callActivity>', "Task_Call")


CHILD = diagram(f'<bpmn:startEvent id="StartEvent_1" />\n<bpmn:userTask id="Task_C" {USER} />\n<bpmn:endEvent id="Event_End" />\n'
                + flows(("StartEvent_1", "Task_C"), ("Task_C", "Event_End")), key="child")


def test_call_activity_must_name_a_deployed_or_included_process():
    problems = check_processes([("t.bpmn", _call())])            # deployed_keys=None: no database to look in
    assert [(p["rule"], p["element_id"], p["severity"]) for p in problems] == [("call-activity", "Task_Call", "warning")]
    assert problems[0]["message"].startswith("被调用的流程 child 不在这些文件中，又未指定数据库，无法查找；")
    assert "(called process child is not in these files and no database was given" in problems[0]["message"]
    assert check_processes([("parent.bpmn", _call()), ("child.bpmn", CHILD)]) == []
    assert found(_call(), deployed_keys={"child"}) == []
    assert found(_call(), deployed_keys=set()) == [("call-activity", "Task_Call")]
    both = check_processes([("parent.bpmn", _call()), ("child.bpmn", CHILD)], deployed_keys=set())
    assert both == []
    not_executable = CHILD.replace(b'isExecutable="true"', b'isExecutable="false"')
    assert [p["rule"] for p in check_processes([("parent.bpmn", _call()), ("child.bpmn", not_executable)],
                                               deployed_keys=set())] == ["call-activity"]


@pytest.mark.parametrize("attrs, ext", [
    ('', '<camunda:in variables="all" /><camunda:out variables="all" />'),
    ('calledElement="${which}"', '<camunda:in variables="all" /><camunda:out variables="all" />'),
    ('calledElement="child" camunda:calledElementBinding="version" camunda:calledElementVersion="3"',
     '<camunda:in variables="all" /><camunda:out variables="all" />'),
    ('calledElement="child"', '<camunda:out variables="all" />'),
    ('calledElement="child"', '<camunda:in variables="all" /><camunda:in businessKey="#{execution.processBusinessKey}" />'
     '<camunda:out variables="all" />'),
    ('calledElement="child"', '<camunda:in variables="all" local="true" /><camunda:out variables="all" />'),
])
def test_call_activity_bindings_and_mappings(attrs, ext):
    problems = found(_call(attrs, ext))
    assert problems and set(problems) == {("call-activity", "Task_Call")}


# --------------------------------------------------------------------------- gateway coverage (issue 3)

DECISION = ('<camunda:formField id="decision" label="结论" type="enum"><camunda:validation>'
            '<camunda:constraint name="required" /></camunda:validation><camunda:value id="approve" name="通过" />'
            '<camunda:value id="return" name="退回" /><camunda:value id="reject" name="不予通过" /></camunda:formField>')


def _decide(conditions: list[str], fields: str = DECISION, tag: str = "exclusiveGateway", default: str = "") -> bytes:
    """start → a user task with a form → gateway (no default unless given) → one end per condition."""
    ends = "\n".join(f'<bpmn:endEvent id="Event_{n}" />' for n in range(1, len(conditions) + 1 + bool(default)))
    pairs = [("StartEvent_1", "Task_A"), ("Task_A", "Gateway_1")]
    pairs += [("Gateway_1", f"Event_{n}", c) for n, c in enumerate(conditions, start=1)]
    if default:
        pairs.append(("Gateway_1", f"Event_{len(conditions) + 1}"))
    attr = f' default="Flow_{len(pairs)}"' if default else ""
    return diagram(f'<bpmn:startEvent id="StartEvent_1" />\n<bpmn:userTask id="Task_A" {USER}><bpmn:extensionElements>'
                   f'<camunda:formData>{fields}</camunda:formData></bpmn:extensionElements></bpmn:userTask>\n'
                   f'<bpmn:{tag} id="Gateway_1"{attr} />\n{ends}\n' + flows(*pairs))


def test_an_enum_value_no_condition_covers_is_an_error():
    """The auditor's example: approve / reject, no default — 'return' would stop the plan."""
    problems = check_processes([("t.bpmn", _decide(["${decision=='approve'}", "${decision=='reject'}"]))])
    assert [(p["rule"], p["element_id"], p["severity"]) for p in problems] == [("gateway", "Gateway_1", "error")]
    assert "decision = 'return' matches no outgoing flow: add a default flow or a condition" in problems[0]["message"]
    assert check_processes([("t.bpmn", _decide(["${decision=='approve'}", "${decision=='reject'}"], default="y"))]) == []
    assert check_processes([("t.bpmn", _decide(["${decision == 'approve'}", "${decision != 'approve'}"]))]) == []


def _run_to_end(xml: bytes, values: dict) -> str:
    """SpiffWorkflow with reformflow's parser and safe script engine: answer the one user task."""
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState

    from engine.parser import parse_files
    from engine.scripting import script_engine
    [process] = parse_files([("t.bpmn", xml)])
    workflow = BpmnWorkflow(process.spec, process.embedded, script_engine=script_engine())
    workflow.do_engine_steps()
    task = workflow.get_next_task(state=TaskState.READY)
    task.data.update(values)
    try:
        task.run()
        workflow.do_engine_steps()
    except Exception as exc:  # noqa: BLE001 - the failure is what this helper reports
        return str(exc)
    return "completed" if workflow.is_completed() else "waiting"


def test_the_engine_stops_exactly_where_the_coverage_rule_says():
    """The rule's prediction is what SpiffWorkflow does at run time, value by value."""
    xml = _decide(["${decision=='approve'}", "${decision=='reject'}"])
    assert [_run_to_end(xml, {"decision": v}) for v in ("approve", "reject")] == ["completed", "completed"]
    assert "No conditions satisfied for Gateway_1" in _run_to_end(xml, {"decision": "return"})


def test_an_optional_enum_or_boolean_can_be_null():
    optional = DECISION.replace('<camunda:validation><camunda:constraint name="required" /></camunda:validation>', "")
    problems = check_processes([("t.bpmn", _decide(["${decision == 'approve'}", "${decision != 'approve'}"], optional))])
    assert problems == []                                     # null != 'approve': covered
    problems = check_processes([("t.bpmn", _decide(["${decision == 'approve'}", "${decision == 'return'}",
                                                    "${decision == 'reject'}"], optional))])
    assert [p["severity"] for p in problems] == ["error"] and "decision = null" in problems[0]["message"]
    with_default = optional.replace('type="enum"', 'type="enum" defaultValue="return"')
    assert check_processes([("t.bpmn", _decide(["${decision == 'approve'}", "${decision == 'return'}",
                                                "${decision == 'reject'}"], with_default))]) == []
    flag = '<camunda:formField id="urgent" type="boolean" defaultValue="false" />'
    assert check_processes([("t.bpmn", _decide(["${urgent}", "${!urgent}"], flag))]) == []
    problems = check_processes([("t.bpmn", _decide(["${urgent == true}"], flag, tag="inclusiveGateway"))])
    assert [p["severity"] for p in problems] == ["error"] and "urgent = false matches" in problems[0]["message"]


def test_inclusive_gateway_needs_one_true_condition_in_every_case():
    fields = DECISION + '<camunda:formField id="urgent" type="boolean" defaultValue="false" />'
    ok = _decide(["${urgent}", "${!urgent || decision == 'reject'}"], fields, tag="inclusiveGateway")
    assert check_processes([("t.bpmn", ok)]) == []
    gap = _decide(["${urgent and decision == 'approve'}", "${!urgent}"], fields, tag="inclusiveGateway")
    [problem] = check_processes([("t.bpmn", gap)])
    assert problem["severity"] == "error"
    assert "decision = 'return', urgent = true; decision = 'reject', urgent = true matches" in problem["message"]


def test_coverage_that_cannot_be_shown_is_a_warning():
    text = '<camunda:formField id="decision" type="string" />'
    problems = check_processes([("t.bpmn", _decide(["${decision == 'approve'}", "${decision == 'reject'}"], text))])
    assert [(p["rule"], p["element_id"], p["severity"]) for p in problems] == [("gateway", "Gateway_1", "warning")]
    assert "no default flow and the conditions cannot be shown to cover every case" in problems[0]["message"]
    assert "decision" in problems[0]["message"]
    many = "".join(f'<camunda:formField id="b{n}" type="boolean" />' for n in range(6))  # 3**6 = 729 cases
    problems = check_processes([("t.bpmn", _decide(["${b0}", "${!b0}"] + [f"${{b{n}}}" for n in range(1, 6)], many))])
    assert [p["severity"] for p in problems] == ["warning"] and "more than 256" in problems[0]["message"]
    dated = '<camunda:formField id="due" type="boolean" />'
    problems = check_processes([("t.bpmn", _decide(["${due}", "${!due &amp;&amp; today() &gt; date('2026-01-01')}"], dated))])
    assert [p["severity"] for p in problems] == ["warning"] and "date" in problems[0]["message"]


# --------------------------------------------------------------------------- variables nothing sets (issue 3)

def test_a_variable_one_keystroke_from_one_that_is_set_is_refused_as_a_typo():
    """The plans on a version that reads `decison` stop at the gateway for good (QA analyst finding 2)."""
    for typo in ("decison", "decisio", "decisions", "decusion", "Decision"):
        xml = _decide([f"${{{typo} == 'approve'}}", "${decision != 'approve'}"], default="y")
        problems = [p for p in check_processes([("t.bpmn", xml)]) if p["rule"] == "variable"]
        assert [(p["element_id"], p["severity"]) for p in problems] == [("Flow_3", "error")], typo
        assert problems[0]["message"] == (
            f"条件 `${{{typo} == 'approve'}}` 读取的变量 {typo} 无处设置，与已设置的 decision 只差一个字符，应是笔误：方案"
            "到达此处时会停住，要等改正的版本部署后逐个迁移才能继续。请改为 decision (condition "
            f"`${{{typo} == 'approve'}}` reads '{typo}', which nothing sets, one keystroke from decision, which is "
            "set: a typo. A plan reaching it would stop there until a corrected version is deployed and the plan is moved to it. "
            "Write decision)")


def test_a_variable_nothing_sets_and_nothing_resembles_closely_is_a_warning_it_may_come_from_a_caller():
    xml = _decide(["${decisionMade == 'approve'}", "${decision != 'approve'}"], default="y")
    problems = [p for p in check_processes([("t.bpmn", xml)]) if p["rule"] == "variable"]
    assert [(p["element_id"], p["severity"]) for p in problems] == [("Flow_3", "warning")]
    message = problems[0]["message"]
    assert "'decisionMade'" in message and "did you mean decision?" in message
    assert "若它来自调用本流程的流程，请把调用方的文件一起检查，或先部署调用方" in message
    assert "reformflow check" not in message  # the web shows it too
    # short names are different words more often than slips: x is not a typo of y
    xml = _decide(["${x == 'approve'}", "${y != 'approve'}"], default="y")
    assert {p["severity"] for p in check_processes([("t.bpmn", xml)]) if p["rule"] == "variable"} == {"warning"}


def test_every_way_of_setting_a_variable_counts():
    body = ('<bpmn:startEvent id="StartEvent_1" camunda:initiator="starter" />\n'
            '<bpmn:scriptTask id="Task_S" scriptFormat="python"><bpmn:script>total = 1</bpmn:script></bpmn:scriptTask>\n'
            '<bpmn:userTask id="Task_A" camunda:assignee="${starter}" camunda:candidateGroups="${department}" '
            'camunda:priority="${total + len(title) + (businessKey == initiator ? 1 : 0)}" '
            'camunda:dueDate="${workingDays(reviewDays)}">'
            '<bpmn:multiInstanceLoopCharacteristics camunda:collection="departments" camunda:elementVariable="department">'
            '<bpmn:completionCondition xsi:type="bpmn:tFormalExpression">${lastMessage == \'done\' || empty departments}'
            '</bpmn:completionCondition></bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>\n'
            '<bpmn:endEvent id="Event_End" />\n'
            + flows(("StartEvent_1", "Task_S"), ("Task_S", "Task_A"), ("Task_A", "Event_End")))
    props = ('<bpmn:extensionElements><camunda:properties><camunda:property name="reviewDays" value="15" />'
             '</camunda:properties></bpmn:extensionElements>\n')
    assert found(diagram(props + body), variables=True) == []
    assert found(diagram(body), variables=True) == [("variable", "Task_A")]      # without the property
    assert "'reviewDays'" in check_processes([("t.bpmn", diagram(body))])[0]["message"]


def test_a_misspelt_multi_instance_collection_is_an_error_with_the_name_to_write():
    """`departmnets` deployed with a warning only, and every plan reaching the activity stopped
    there: no list, no instances, until a corrected version is deployed and the plan moved to it."""
    def plan(collection: str, script: str = "departments = ['legal', 'risk']") -> bytes:
        return diagram('<bpmn:startEvent id="StartEvent_1" />\n'
                       f'<bpmn:scriptTask id="Task_S" scriptFormat="python"><bpmn:script>{script}</bpmn:script>'
                       '</bpmn:scriptTask>\n'
                       f'<bpmn:userTask id="Task_A" {USER}><bpmn:multiInstanceLoopCharacteristics '
                       f'camunda:collection="{collection}" camunda:elementVariable="department" /></bpmn:userTask>\n'
                       '<bpmn:endEvent id="Event_End" />\n'
                       + flows(("StartEvent_1", "Task_S"), ("Task_S", "Task_A"), ("Task_A", "Event_End")))
    assert check_processes([("t.bpmn", plan("departments"))]) == []
    for slip in ("departmnets", "departmens", "departmemts"):  # two letters swapped, one left out, one changed
        [typo] = check_processes([("t.bpmn", plan(slip))])
        assert (typo["rule"], typo["element_id"], typo["severity"]) == ("variable", "Task_A", "error")
        assert f"'{slip}'" in typo["message"] and "Write departments)" in typo["message"]
        assert "请改为 departments" in typo["message"]
    # a list nothing in the files sets may come with the start data: not reported, even when a
    # longer name that is set resembles it, nor when it is the plural of a set name
    assert check_processes([("t.bpmn", plan("departments", "departmentsConsulted = 2"))]) == []
    assert check_processes([("t.bpmn", plan("units", "unit = 'legal'"))]) == []


def test_a_misspelt_loop_cardinality_is_an_error_and_one_nothing_resembles_a_warning():
    def plan(cardinality: str) -> bytes:
        return diagram('<bpmn:startEvent id="StartEvent_1" />\n'
                       '<bpmn:scriptTask id="Task_S" scriptFormat="python"><bpmn:script>reviewerCount = 3</bpmn:script>'
                       '</bpmn:scriptTask>\n'
                       f'<bpmn:userTask id="Task_A" {USER}><bpmn:multiInstanceLoopCharacteristics>'
                       f'<bpmn:loopCardinality>${{{cardinality}}}</bpmn:loopCardinality>'
                       '</bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>\n'
                       '<bpmn:endEvent id="Event_End" />\n'
                       + flows(("StartEvent_1", "Task_S"), ("Task_S", "Task_A"), ("Task_A", "Event_End")))
    assert check_processes([("t.bpmn", plan("reviewerCount"))]) == []
    # one keystroke, and two letters apart but as close (reviewerCuont: swapped; reviewrCont: two left out)
    for slip in ("reviewerCout", "reviewrCont"):
        [typo] = check_processes([("t.bpmn", plan(slip))])
        assert (typo["rule"], typo["severity"]) == ("variable", "error"), slip
        assert "Write reviewerCount)" in typo["message"]
    [unknown] = check_processes([("t.bpmn", plan("panelSize"))])  # may come from a caller checked on its own
    assert (unknown["rule"], unknown["severity"]) == ("variable", "warning")


def test_variables_set_in_another_file_of_the_same_check_count():
    """A called process reads what its caller's forms set: the files checked together are one namespace."""
    child = diagram(f'<bpmn:startEvent id="StartEvent_1" />\n<bpmn:userTask id="Task_C" {USER} '
                    'camunda:dueDate="${workingDays(reviewDays)}" />\n<bpmn:endEvent id="Event_End" />\n'
                    + flows(("StartEvent_1", "Task_C"), ("Task_C", "Event_End")), key="child")
    parent = _call().replace(b'<bpmn:callActivity', b'<bpmn:userTask id="Task_F" camunda:candidateGroups="legal">'
                             b'<bpmn:extensionElements><camunda:formData><camunda:formField id="reviewDays" '
                             b'type="long" /></camunda:formData></bpmn:extensionElements></bpmn:userTask>'
                             b'<bpmn:callActivity')
    assert [p["rule"] for p in check_processes([("child.bpmn", child)])] == ["variable"]
    together = check_processes([("parent.bpmn", parent), ("child.bpmn", child)])
    assert [p for p in together if p["rule"] == "variable"] == []


# --------------------------------------------------------------------------- forms and start permission (issue 3)

def test_form_business_key_and_expression_defaults_are_refused():
    key = simple(f'<bpmn:userTask id="Task_A" {USER}><bpmn:extensionElements><camunda:formData businessKey="caseNo">'
                 '<camunda:formField id="caseNo" type="string" /></camunda:formData></bpmn:extensionElements></bpmn:userTask>')
    [problem] = check_processes([("t.bpmn", key)])
    assert (problem["rule"], problem["element_id"]) == ("form", "Task_A")
    assert problem["message"].startswith('camunda:formData businessKey="caseNo"：不支持，业务编号在启动方案时给出')
    assert "the business key is given when starting the plan" in problem["message"]
    [problem] = check_processes([("t.bpmn", _form('<camunda:formField id="due" type="date" defaultValue="${today()}" />'))])
    assert (problem["rule"], problem["element_id"]) == ("form", "Task_A")
    assert problem["message"].startswith("表单字段 'due' 的 defaultValue `${today()}` 中的表达式不会求值，请写字面值 (")
    assert "expressions in default values are not evaluated" in problem["message"]


@pytest.mark.parametrize("value, ok", [("reform_office, legal", True), ("改革办", True), ("li.chen@gov", True),
                                       ("${starters}", False), ("legal; risk", False), ("legal,,risk", False),
                                       ("reform office", False)])
def test_candidate_starters_must_be_plain_comma_lists(value, ok):
    for attr in ("candidateStarterGroups", "candidateStarterUsers"):
        xml = CLEAN.replace(b'isExecutable="true"', f'isExecutable="true" camunda:{attr}="{value}"'.encode())
        assert found(xml) == ([] if ok else [("start-permission", "p")]), (attr, value)


# --------------------------------------------------------------------------- the library stays clean

def test_the_library_checked_together_has_no_error_and_no_warning():
    """`reformflow check bpmn/*.bpmn` without a database: 0 errors, 0 warnings (issue 3)."""
    report = check_files([read(p) for p in sorted(BPMN.glob("*.bpmn"))], use_modeler=False)
    assert [(p["file"], p["rule"], p["element_id"], p["severity"]) for p in report.problems] == []


# --------------------------------------------------------------------------- the Modeler lint

def test_lint_skipped_without_node(monkeypatch):
    monkeypatch.setattr(modeler, "toolchain_status", lambda: (False, "Node.js not found on PATH"))
    report = check_files([("t.bpmn", CLEAN)])
    assert report.modeler_lint == ("skipped: t.bpmn not linted: Node.js not found on PATH; run `make setup` "
                                   "(tools/modeler needs Node.js >= 20.12)")
    assert report.problems == []


@pytest.fixture
def nothing_linted(monkeypatch):
    """No lint results remembered from earlier tests (engine/checks/files.py keeps them by content)."""
    from engine.checks import files
    monkeypatch.setattr(files, "_LINTED", {})


def test_lint_failure_is_a_skip_not_a_crash(monkeypatch, nothing_linted):
    monkeypatch.setattr(modeler, "toolchain_status", lambda: (True, "ok"))

    def crash(paths):
        raise modeler.ModelerToolchainError("lint.mjs exited 2: boom")
    monkeypatch.setattr(modeler, "lint", crash)
    assert check_files([("t.bpmn", CLEAN)]).modeler_lint == \
        "skipped: t.bpmn not linted: lint.mjs exited 2 (boom); run `make setup` (tools/modeler needs Node.js >= 20.12)"


def test_lint_problems_are_mapped_per_file(monkeypatch, nothing_linted):
    monkeypatch.setattr(modeler, "toolchain_status", lambda: (True, "ok"))
    calls = []

    def fake_lint(paths):
        calls.append(paths)
        return {paths[0]: [{"id": "Task_A", "name": "审核", "rule": "label-required", "message": "missing label",
                            "severity": "error"}],
                paths[1]: [{"id": None, "name": None, "rule": "history-time-to-live", "message": "ttl",
                            "severity": "info"}]}
    monkeypatch.setattr(modeler, "lint", fake_lint)
    report = check_files([("a.bpmn", CLEAN), ("b.bpmn", CLEAN.replace(b'id="p"', b'id="q"'))])
    assert len(calls) == 1 and len(calls[0]) == 2                 # one Node run for all files
    assert report.modeler_lint == "ran"
    assert [(p["file"], p["rule"], p["element_id"], p["severity"]) for p in report.problems] == [
        ("a.bpmn", "modeler/label-required", "Task_A", "error"),
        ("b.bpmn", "modeler/history-time-to-live", None, "info")]
    assert report.to_dict()["infos"] == 1 and len(report.errors) == 1


def test_a_library_with_one_file_changed_lints_only_that_file(monkeypatch, nothing_linted):
    """Each file is linted on its own, so what the lint found is kept by the file's content: an
    analyst who changed one file of the library and checks it all again waits for that one."""
    monkeypatch.setattr(modeler, "toolchain_status", lambda: (True, "ok"))
    linted = []

    def fake_lint(paths):
        contents = [open(p, "rb").read() for p in paths]
        linted.append(contents)
        return {path: [{"id": None, "name": None, "rule": "label-required", "severity": "warning",
                        "message": f"seen {len(data)} bytes"}] for path, data in zip(paths, contents)}
    monkeypatch.setattr(modeler, "lint", fake_lint)
    other = CLEAN.replace(b'id="p"', b'id="q"')
    check_files([("a.bpmn", CLEAN), ("b.bpmn", other)])
    changed = other.replace(b'id="q"', b'id="r"')
    report = check_files([("a.bpmn", CLEAN), ("b.bpmn", changed)])
    assert linted == [[CLEAN, other], [changed]]
    # the file not linted again still has what the lint found in it, under its own name
    assert [(p["file"], p["message"]) for p in report.problems if p["rule"].startswith("modeler/")] == [
        ("a.bpmn", f"元素缺少名称：请在 Modeler 中填写 Name (seen {len(CLEAN)} bytes)"),
        ("b.bpmn", f"元素缺少名称：请在 Modeler 中填写 Name (seen {len(changed)} bytes)")]
    # the toolchain's own line (node and its version) is part of the key: another toolchain lints again
    monkeypatch.setattr(modeler, "toolchain_status", lambda: (True, "another node"))
    check_files([("a.bpmn", CLEAN)])
    assert linted[-1] == [CLEAN]
    # the same bytes under two names in one set: linted once, said of each name
    twin = CLEAN.replace(b'id="p"', b'id="t"')
    report = check_files([("one.bpmn", twin), ("two.bpmn", twin)])
    assert linted[-1] == [twin]
    assert sorted(p["file"] for p in report.problems if p["rule"].startswith("modeler/")) == ["one.bpmn", "two.bpmn"]


@requires_modeler
def test_real_lint_names_the_element():
    report = check_files([read(FIXTURES / "modeler" / "lint_problems.bpmn")])
    assert report.modeler_lint == "ran"
    lint = {(p["rule"], p["element_id"], p["severity"]) for p in report.problems if p["rule"].startswith("modeler/")}
    assert {("modeler/no-implicit-start", "Task_Orphan", "error"), ("modeler/label-required", "Task_Rework", "error"),
            ("modeler/fake-join", "Event_Approved", "warning"),
            ("modeler/camunda-compat/history-time-to-live", "lint_problems", "info")} <= lint
    # reformflow's own rules name the same elements
    assert {("gateway", "Gateway_Decision"), ("unreachable", "Task_Orphan")} <= {
        (p["rule"], p["element_id"]) for p in report.errors}


@requires_modeler
def test_real_lint_on_the_process_library():
    files = sorted(BPMN.glob("*.bpmn"))
    if not files:
        pytest.skip("no process library yet")
    report = check_files([read(p) for p in files], deployed_keys=set())
    assert report.modeler_lint == "ran"


# --------------------------------------------------------------------------- deploy runs the same rules

def test_deploy_refuses_on_the_new_rules(sqlite_engine):
    with pytest.raises(Invalid) as err:
        sqlite_engine.deploy([("gateway.bpmn", _split("exclusiveGateway", {"a": "${x == 1}", "b": "${x == 2}"},
                                                      default="Flow_3"))])
    assert "Flow_3" in err.value.message  # a default flow with a condition: SpiffWorkflow would accept it
    # deploy also runs the Modeler lint when Node.js is there (these bare diagrams have no labels)
    assert [d["rule"] for d in err.value.details if not d["rule"].startswith("modeler/")] == ["gateway"]
    xml = diagram(f'<bpmn:startEvent id="StartEvent_1" />\n<bpmn:userTask id="Task_A" {USER} />\n'
                  f'<bpmn:userTask id="Task_Orphan" {USER} />\n<bpmn:endEvent id="Event_End" />\n'
                  + flows(("StartEvent_1", "Task_A"), ("Task_A", "Event_End")))
    with pytest.raises(Invalid) as err:
        sqlite_engine.deploy([("orphan.bpmn", xml)])
    assert "Task_Orphan" in err.value.message


def test_check_processes_keeps_its_old_signature():
    assert check_processes([("t.bpmn", CLEAN)]) == []
    assert checks.RULES and all(callable(rule) for rule in checks.RULES)


@pytest.mark.parametrize("kind, value, reason", [
    ("timeDate", "P3X", "not an ISO date (2026-12-01) or datetime"),
    ("timeDate", "2026-02-30T00:00:00", "no such date/time"),
    ("timeDate", "2026-02-30", "no such date/time"),
    ("timeDuration", "P3X", "not an ISO 8601 duration"),
    ("timeDuration", "P1.5M", "fractional months are not allowed"),
    ("timeDuration", "2026-02-30", "no such date/time"),
])
def test_a_bad_timer_value_says_why_it_is_not_iso_8601(kind, value, reason):
    [problem] = check_processes([("t.bpmn", _timer_catch(kind, value))])
    assert f"{kind} `{value}` is not an ISO 8601 value reformflow understands" in problem["message"]
    assert reason in problem["message"]
    assert "NoneType" not in problem["message"] and "now must be" not in problem["message"]


# --------------------------------------------------------------------------- Chinese first

CORPUS = FIXTURES / "corpus"


@pytest.mark.parametrize("path", sorted(CORPUS.glob("refused_*.bpmn")), ids=lambda p: p.name)
def test_every_problem_of_a_refused_diagram_is_chinese_first(path):
    """What check and deploy tell an analyst about a refused diagram says it in Chinese first, the
    English after it in brackets (the Modeler lint included where Node.js is installed)."""
    report = check_files([read(path)], deployed_keys=set())
    assert report.errors
    for problem in report.problems:
        assert chinese_first(problem["message"]), problem["message"]


def test_xml_schema_and_lint_problems_are_chinese_first():
    files = [("bad.bpmn", b"<nope"), ("doctype.bpmn", b'<?xml version="1.0"?><!DOCTYPE x []><x/>'),
             read(FIXTURES / "modeler" / "lint_problems.bpmn"), read(FIXTURES / "modeler" / "unknown_element.bpmn")]
    report = check_files(files)
    assert {p["rule"] for p in report.problems} >= {"xml", "gateway"}
    for problem in report.problems:
        assert chinese_first(problem["message"]), problem["message"]
    # the engine's parse error on the flow is said by the gateway rule (tests/test_checks_files.py)
    from engine.checks.files import schema_problems
    [bpmn] = [p for p in schema_problems([read(FIXTURES / "modeler" / "lint_problems.bpmn")])[0]
              if p["element_id"] == "Flow_Reject"]
    assert bpmn["message"].startswith("元素 Flow_Reject（退回）：不符合 BPMN 规范，引擎无法读取。原因（英文）：Non-default "
                                      "exclusive outgoing sequence flow")
    assert "。请在 Modeler 中改正此元素。 (element Flow_Reject “退回”: Non-default exclusive outgoing sequence flow" \
        in bpmn["message"]
    assert ".." not in bpmn["message"]
    [xml] = [p for p in report.problems if p["file"] == "bad.bpmn"]
    assert xml["message"].startswith("bad.bpmn: 不是格式正确的 XML，请在 Modeler 中重新保存 (not well-formed XML: ")


def _on_the_ledger(**properties) -> bytes:
    props = "".join(f'<camunda:property name="{k}" value="{v}" />' for k, v in properties.items())
    task = (f'<bpmn:userTask id="Task_A" name="填报" {USER}><bpmn:extensionElements><camunda:formData>'
            '<camunda:formField id="plannedCompletion" label="计划完成" type="date" />'
            '<camunda:formField id="measureCount" label="举措数" type="long" />'
            '<camunda:formField id="measuresDone" label="已完成" type="string" />'
            '</camunda:formData></bpmn:extensionElements></bpmn:userTask>')
    return simple(task).replace(b'isExecutable="true">\n', (
        f'isExecutable="true">\n<bpmn:extensionElements><camunda:properties>{props}'
        '</camunda:properties></bpmn:extensionElements>\n').encode(), 1)


def test_the_ledgers_properties_name_variables_that_exist_with_the_right_type():
    """Else the ledger silently shows no milestone or no measures (docs/modeling.md)."""
    good = _on_the_ledger(ledgerMilestone="方案出台", ledgerMilestoneDue="plannedCompletion", ledgerMeasures="measureCount")
    assert found(good) == []
    bad = _on_the_ledger(ledgerMilestoneDue="plannedCompletoin", ledgerMeasuresDone="measuresDone")
    problems = [p for p in check_processes([("t.bpmn", bad)]) if p["rule"] == "ledger"]
    assert [(p["element_id"], p["severity"]) for p in problems] == [("p", "warning"), ("p", "warning")]
    assert "流程属性 ledgerMilestoneDue 指定的变量 'plannedCompletoin' 在这些文件中无处设置" in problems[0]["message"]
    assert "表单字段 'measuresDone' 类型为 string，须为整数 long" in problems[1]["message"]


# --------------------------------------------------------------------------- an analyst's slips

@pytest.mark.parametrize("field, says", [
    ('<camunda:formField id="n" type="long" defaultValue="abc" />', "defaultValue 'abc' 无效：须为整数"),
    ('<camunda:formField id="n" type="long" defaultValue="1.5" />', "defaultValue '1.5' 无效：须为整数"),
    ('<camunda:formField id="d" type="date" defaultValue="2026/01/01" />', "defaultValue '2026/01/01' 无效：须为日期"),
    ('<camunda:formField id="d" type="date" defaultValue="2026-02-30" />', "defaultValue '2026-02-30' 无效：须为日期"),
    ('<camunda:formField id="b" type="boolean" defaultValue="maybe" />', "defaultValue 'maybe' 无效：须为是/否"),
])
def test_a_default_value_that_does_not_fit_its_type_is_refused(field, says):
    """It was dropped without a word: the field showed no default and the variable stayed null."""
    [problem] = [p for p in check_processes([("t.bpmn", _form(field))]) if p["rule"] != "variable"]
    assert (problem["rule"], problem["element_id"], problem["severity"]) == ("form", "Task_A", "error")
    assert says in problem["message"] and "correct it or remove it" in problem["message"]


def test_default_values_that_fit_their_type_pass():
    assert found(_form('<camunda:formField id="n" type="long" defaultValue="15" />'
                       '<camunda:formField id="d" type="date" defaultValue="2026-06-30" />'
                       '<camunda:formField id="b" type="boolean" defaultValue="true" />'
                       '<camunda:formField id="s" type="string" defaultValue="无" />')) == []


def _bounds(kind: str, low: str, high: str, names=("min", "max")) -> bytes:
    return _form(f'<camunda:formField id="f" type="{kind}"><camunda:validation>'
                 f'<camunda:constraint name="{names[0]}" config="{low}" /><camunda:constraint name="{names[1]}" '
                 f'config="{high}" /></camunda:validation></camunda:formField>')


@pytest.mark.parametrize("xml", [_bounds("long", "600", "500"), _bounds("date", "2026-12-31", "2026-01-01"),
                                 _bounds("string", "20", "10", ("minlength", "maxlength"))])
def test_a_lower_bound_above_the_upper_one_is_refused(xml):
    """No value could pass: a required field could never be submitted."""
    [problem] = check_processes([("t.bpmn", xml)])
    assert (problem["rule"], problem["element_id"]) == ("form", "Task_A")
    assert "任何值都无法满足" in problem["message"] and "no value can pass" in problem["message"]


def test_bounds_in_order_or_written_as_expressions_pass():
    assert found(_bounds("long", "1", "500")) == found(_bounds("long", "7", "7")) == []
    assert found(_bounds("date", "2026-01-01", "2026-12-31")) == []
    assert found(_bounds("date", "${today()}", "2026-01-01")) == []  # checked when submitted


def test_a_bound_may_read_its_own_fields_previous_value():
    """deliberation.bpmn's 会议日期: not before the meeting recorded before this one."""
    assert found(_bounds("date", "${previous('f')}", "${today()}")) == []


@pytest.mark.parametrize("low, says", [
    ("${previous(f)}", "previous() 须给一个带引号的字段名"),  # a value looked up as a name
    ("${previous('issueDate')}", "previous('issueDate') 读取本表单提交之前的值，'issueDate' 不在本表单上，与 ${issueDate} 相同"),
])
def test_previous_reads_a_field_of_its_own_form_by_name(low, says):
    [problem] = [p for p in check_processes([("t.bpmn", _bounds("date", low, "${today()}"))]) if p["rule"] != "variable"]
    assert (problem["rule"], problem["element_id"]) == ("form", "Task_A")
    assert says in problem["message"] and chinese_first(problem["message"])


def test_previous_is_refused_outside_a_forms_bounds():
    """A condition, a script or a due date has no submission to be before."""
    xml = diagram('<bpmn:startEvent id="StartEvent_1" /><bpmn:exclusiveGateway id="Gateway_1" default="Flow_2" />'
                  '<bpmn:endEvent id="Event_A" /><bpmn:endEvent id="Event_B" />'
                  + flows(("StartEvent_1", "Gateway_1"), ("Gateway_1", "Event_A"),
                          ("Gateway_1", "Event_B", "${previous('x') == 'a'}")))
    problems = [p for p in check_processes([("t.bpmn", xml)]) if p["rule"] != "variable"]
    assert [(p["element_id"], p["severity"]) for p in problems] == [("Flow_3", "error")]
    assert "previous() 只能用于表单字段的 min / max 约束" in problems[0]["message"]


@pytest.mark.parametrize("condition", ["${decision == 'aprove'}", "${decision == 1}",
                                       "${decision == 'approve' and decision == 'reject'}"])
def test_a_condition_no_value_of_its_fields_makes_true_is_a_warning(condition):
    """A misspelt enum value id: with a default flow the gateway is covered, and the flow was
    silently never taken."""
    xml = _decide([condition, "${decision == 'reject'}"], default="yes")
    [problem] = check_processes([("t.bpmn", xml)])
    assert (problem["rule"], problem["element_id"], problem["severity"]) == ("gateway", "Flow_3", "warning")
    assert problem["message"].startswith(f"条件 `{condition}` 在其表单字段的任何取值下都不成立（decision: 'approve', "
                                         "'return', 'reject'）")
    assert "this flow is never taken" in problem["message"]


def test_conditions_that_can_hold_or_read_other_variables_are_not_judged():
    assert check_processes([("t.bpmn", _decide(["${decision == 'approve'}", "${decision != 'reject'}"],
                                               default="yes"))]) == []
    # `other` is no enum or boolean form field: its values are unknown
    assert found(_decide(["${other == 'x'}"], default="yes")) == []


def test_a_duplicate_id_is_said_in_words_with_what_to_do():
    """It was the XML Schema's "'Task_A' is not a valid value of the atomic type 'xs:ID'"."""
    xml = simple(f'<bpmn:userTask id="Task_A" name="审核" {USER} />').replace(
        b'<bpmn:endEvent id="Event_End" />', b'<bpmn:endEvent id="Task_A" />')
    [problem] = [p for p in check_files([("dup.bpmn", xml)], use_modeler=False).problems if p["rule"] == "bpmn"]
    assert problem["element_id"] == "Task_A"
    assert "id Task_A 在此文件中用了不止一次，请在 Modeler 中给其中一个元素改用别的 id" in problem["message"]
    assert "the id Task_A is used more than once in this file" in problem["message"]
    spaced = CLEAN.replace(b'id="Task_A"', b'id="Task A"')
    messages = [p["message"] for p in check_files([("space.bpmn", spaced)], use_modeler=False).problems
                if p["rule"] == "bpmn"]
    assert any("id「Task A」不是合法的 id" in m and "no spaces" in m for m in messages)


def test_deploy_refuses_a_default_value_it_would_drop_and_changes_nothing(engine, people):
    """One good file and one with a long field defaulting to 'abc': neither is deployed, and
    nothing is written to the audit trail, on SQLite and PostgreSQL."""
    from sqlalchemy import func, select

    from models import AuditEvent, ProcessDefinition
    with engine.db.reader() as s:
        events = s.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    bad = _form('<camunda:formField id="pageCount" type="long" defaultValue="abc" />').replace(
        b'id="p"', b'id="bad_default"')
    with pytest.raises(Invalid) as err:
        engine.deploy([("good.bpmn", CLEAN), ("bad.bpmn", bad)])
    assert "bad.bpmn: Task_A: [form] 表单字段 'pageCount'（long）的 defaultValue 'abc' 无效" in err.value.message
    with engine.db.reader() as s:
        assert s.execute(select(ProcessDefinition)).first() is None
        assert s.execute(select(func.count()).select_from(AuditEvent)).scalar_one() == events


def test_one_variable_with_two_form_field_types_is_a_warning():
    """`missing` a string on one task and a long on the next: start data, later forms and
    conditions would each expect another type."""
    xml = diagram(f'<bpmn:startEvent id="StartEvent_1" />\n'
                  f'<bpmn:userTask id="Task_A" {USER}><bpmn:extensionElements><camunda:formData>'
                  '<camunda:formField id="missing" type="string" /></camunda:formData></bpmn:extensionElements>'
                  f'</bpmn:userTask>\n<bpmn:userTask id="Task_B" {USER}><bpmn:extensionElements><camunda:formData>'
                  '<camunda:formField id="missing" type="long" /></camunda:formData></bpmn:extensionElements>'
                  '</bpmn:userTask>\n<bpmn:endEvent id="Event_End" />\n'
                  + flows(("StartEvent_1", "Task_A"), ("Task_A", "Task_B"), ("Task_B", "Event_End")))
    [problem] = check_processes([("t.bpmn", xml)])
    assert (problem["rule"], problem["element_id"], problem["severity"]) == ("form", "Task_B", "warning")
    assert problem["message"].startswith("表单字段 'missing' 在此为 long，在 Task_A 为 string：")
    same = xml.replace(b'type="long"', b'type="string"')
    assert check_processes([("t.bpmn", same)]) == []


def test_a_camunda_8_diagram_is_named_for_what_it_is():
    """Made with File → New → BPMN diagram (Camunda 8): the zeebe: assignment and the FEEL
    condition gave "no assignment" and "syntax error" only, never the reason."""
    xml = _decide(['=decision = "approve"'], default="yes").replace(
        b'xmlns:camunda="http://camunda.org/schema/1.0/bpmn"',
        b'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"').replace(
        f'<bpmn:userTask id="Task_A" {USER}><bpmn:extensionElements>'.encode(),
        b'<bpmn:userTask id="Task_A"><bpmn:extensionElements><zeebe:assignmentDefinition candidateGroups="legal" />')
    problems = check_processes([("c8.bpmn", xml)])
    assert (problems[0]["rule"], problems[0]["element_id"]) == ("unsupported", "p")
    assert problems[0]["message"].startswith("这是为 Camunda 8 画的流程图")
    assert "BPMN diagram (Camunda 7)" in problems[0]["message"]
    platform = CLEAN.replace(b'exporterVersion="5.28.0"', b'exporterVersion="8.5.0" '
                             b'xmlns:modeler="http://camunda.org/schema/modeler/1.0" '
                             b'modeler:executionPlatform="Camunda Cloud"')
    assert found(platform) == [("unsupported", "p")]
    assert found(CLEAN.replace(b'exporterVersion="5.28.0"', b'exporterVersion="5.41.0"')) == []  # a newer Modeler 5


@pytest.mark.parametrize("attrs, bad", [('camunda:candidateGroups="legal，reform_office"', "`legal，reform_office`"),
                                        ('camunda:candidateGroups="legal;reform_office"', "`legal;reform_office`"),
                                        ('camunda:candidateUsers="li, chen wang"', "`chen wang`")])
def test_a_candidate_list_not_separated_by_commas_is_refused(attrs, bad):
    """A Chinese comma made one group nobody is in: the task deployed and sat unclaimable (only
    candidateStarterGroups was held to a comma list)."""
    [problem] = check_processes([("t.bpmn", simple(f'<bpmn:userTask id="Task_A" {attrs} />'))])
    assert (problem["rule"], problem["element_id"]) == ("assignment", "Task_A")
    assert f"{bad} 不是名称；多个名称请用英文逗号分隔" in problem["message"]


def test_candidate_lists_with_commas_and_spaces_pass():
    assert found(simple('<bpmn:userTask id="Task_A" camunda:candidateGroups=" legal , reform_office," '
                        'camunda:candidateUsers="li,chen" />')) == []


def _process_property_warnings(files, deployed=()):
    return [p for p in check_processes(files, deployed_xml=deployed) if p["rule"] == "process-property"]


def test_a_property_changed_in_a_called_process_alone_is_said_to_change_nothing_for_its_callers():
    """An analyst sets legality_review's legalReviewDays to 10 and deploys it alone: plans started
    from reform_plan and adjustment still get 15, which their own properties pass in. Checked
    against the deployed library, the change is told so, naming each caller; changed together
    with the callers, nothing is said."""
    library = {p.name: p.read_text(encoding="utf-8") for p in BPMN.glob("*.bpmn")}
    changed = library["legality_review.bpmn"].replace('name="legalReviewDays" value="15"', 'name="legalReviewDays" value="10"')
    assert changed != library["legality_review.bpmn"]
    warnings = _process_property_warnings([("legality_review.bpmn", changed.encode())], library.values())
    assert [(w["file"], w["element_id"], w["severity"]) for w in warnings] == [("legality_review.bpmn", "legality_review", "warning")] * 2
    assert "reform_plan" in warnings[0]["message"] + warnings[1]["message"]
    assert "adjustment" in warnings[0]["message"] + warnings[1]["message"]
    assert all("legalReviewDays = 10" in w["message"] and "15" in w["message"] for w in warnings)
    callers = {name: library[name].replace('name="legalReviewDays" value="15"', 'name="legalReviewDays" value="10"')
               for name in ("reform_plan.bpmn", "adjustment.bpmn")}
    together = [("legality_review.bpmn", changed.encode())] + [(n, x.encode()) for n, x in callers.items()]
    assert _process_property_warnings(together, library.values()) == []
    # a caller changed alone: told on the caller that the called process says otherwise
    caller_only = _process_property_warnings([("reform_plan.bpmn", callers["reform_plan.bpmn"].encode())], library.values())
    assert [(w["file"], w["element_id"]) for w in caller_only] == [("reform_plan.bpmn", "reform_plan")]
    assert "legality_review" in caller_only[0]["message"]
    # the library as it is deployed agrees with itself
    assert _process_property_warnings([(n, x.encode()) for n, x in library.items()]) == []


def test_utf16_with_a_byte_order_mark_and_no_declaration_is_named_as_not_utf8():
    """Without an XML declaration lxml said UTF-8 of a UTF-16 file it read by its byte order mark;
    the engine's reader then failed with "[bpmn] 引擎无法读取此文件 (…UnicodeDecodeError: 'utf-8'
    codec can't decode byte 0xff…)"."""
    utf16 = CLEAN.decode().split("?>", 1)[1].lstrip().encode("utf-16")  # a BOM, no declaration
    assert utf16.startswith(b"\xff\xfe")
    report = check_files([("utf16.bpmn", utf16)], use_modeler=False)
    assert [(p["file"], p["rule"], p["message"]) for p in report.problems] == [
        ("utf16.bpmn", "xml", "utf16.bpmn: 文件须为 UTF-8 编码，此文件为 UTF-16，请在 Modeler 中重新保存 "
                              "(the file must be UTF-8 encoded, not UTF-16; save it again in Camunda Modeler)")]
    # a UTF-8 byte order mark is UTF-8
    assert check_files([("bom.bpmn", b"\xef\xbb\xbf" + CLEAN)], use_modeler=False).problems == []


@pytest.mark.parametrize("fields, says", [
    # accepted by a form post, which would have made it true without a word
    ('<camunda:formField id="b" type="boolean" defaultValue="yes" />',
     "表单字段 'b'（boolean）的 defaultValue 'yes' 无效：请写 true 或 false"),
    ('<camunda:formField id="b" type="boolean" defaultValue="是" />', "defaultValue '是' 无效：请写 true 或 false"),
    ('<camunda:formField id="s" type="string"><camunda:validation><camunda:constraint name="maxlength" config="-5" />'
     '</camunda:validation></camunda:formField>', "表单字段 's' 的约束 'maxlength' 为 -5，须不小于 1"),
    ('<camunda:formField id="s" type="string"><camunda:validation><camunda:constraint name="maxlength" config="0" />'
     '</camunda:validation></camunda:formField>', "约束 'maxlength' 为 0，须不小于 1"),
    ('<camunda:formField id="s" type="string"><camunda:validation><camunda:constraint name="minlength" config="-1" />'
     '</camunda:validation></camunda:formField>', "约束 'minlength' 为 -1，须不小于 0"),
    ('<camunda:formField id="e" type="enum"><camunda:value id="x" name="甲" /><camunda:value id="x" name="乙" />'
     '</camunda:formField>', "枚举表单字段 'e' 的可选值 id 'x' 出现了不止一次"),
    ('<camunda:formField id="initiator" type="string" />', "表单字段 id 'initiator' 是引擎自己设置的变量"),
    ('<camunda:formField id="title" type="string" />', "表单字段 id 'title' 是引擎自己设置的变量"),
    ('<camunda:formField id="businessKey" type="string" />', "表单字段 id 'businessKey' 是引擎自己设置的变量"),
])
def test_form_fields_the_documentation_refuses_are_refused(fields, says):
    """docs/modeling.md said check refuses them; they were accepted."""
    [problem] = [p for p in check_processes([("t.bpmn", _form(fields))]) if p["rule"] != "variable"]
    assert (problem["file"], problem["rule"], problem["element_id"], problem["severity"]) == \
        ("t.bpmn", "form", "Task_A", "error")
    assert says in problem["message"]


def test_a_form_field_may_not_overwrite_a_process_property_or_the_initiator_variable():
    """A field `filingMonths` on a process whose property filingMonths is the rule: whoever
    submitted the form could change the read-only rule. So, too, the variable the start event's
    camunda:initiator names."""
    xml = _form('<camunda:formField id="filingMonths" type="long" /><camunda:formField id="starter" type="string" />'
                '<camunda:formField id="months" type="long" />')
    xml = xml.replace(b'isExecutable="true">', b'isExecutable="true"><bpmn:extensionElements><camunda:properties>'
                      b'<camunda:property name="filingMonths" value="3" /></camunda:properties></bpmn:extensionElements>')
    xml = xml.replace(b'<bpmn:startEvent id="StartEvent_1"', b'<bpmn:startEvent id="StartEvent_1" camunda:initiator="starter"')
    problems = [p for p in check_processes([("t.bpmn", xml)]) if p["rule"] == "form"]
    assert [(p["element_id"], p["severity"]) for p in problems] == [("Task_A", "error")] * 2
    assert "表单字段 id 'filingMonths' 与流程属性 filingMonths 同名" in problems[0]["message"]
    assert "a property is a read-only rule" in problems[0]["message"]
    assert "表单字段 id 'starter' 是引擎自己设置的变量" in problems[1]["message"]


def _with_property(name: str, value: str, loop: str = "") -> bytes:
    return simple(f'<bpmn:userTask id="Task_A" {USER}><bpmn:extensionElements><camunda:properties>'
                  f'<camunda:property name="{name}" value="{value}" /></camunda:properties></bpmn:extensionElements>'
                  f'{loop}</bpmn:userTask>')


@pytest.mark.parametrize("name, value, rule, says", [
    ("candidateUnit", "${[1,2]}", "assignment", "属性 candidateUnit 的表达式 `${[1,2]}` 在每个方案中都给出 [1, 2]，须为文本"),
    ("candidateUnit", "${3}", "assignment", "在每个方案中都给出 3，须为文本"),
    ("instanceLabel", "${'x' * 99999}", "multi-instance", "给出 99999 个字符，上限 200 个"),
    ("instanceLabel", "${[1]}", "multi-instance", "在每个方案中都给出 [1]，须为文本或数字"),
])
def test_a_constant_unit_or_instance_label_that_gives_no_name_is_refused(name, value, rule, says):
    """${[1,2]} as candidateUnit showed the task as `reform_office（限 [1, 2] only）`; a 99,999-
    character instanceLabel became the task's subject. An expression that reads no variable gives
    the same value in every plan: check evaluates it."""
    loop = '<bpmn:multiInstanceLoopCharacteristics camunda:collection="units" camunda:elementVariable="unit" />'
    problems = [p for p in check_processes([("t.bpmn", _with_property(name, value, loop))]) if p["rule"] != "variable"]
    assert [(p["file"], p["rule"], p["element_id"]) for p in problems] == [("t.bpmn", rule, "Task_A")]
    assert says in problems[0]["message"]


def test_expressions_that_read_variables_or_give_text_pass_as_unit_and_label():
    loop = '<bpmn:multiInstanceLoopCharacteristics camunda:collection="units" camunda:elementVariable="unit" />'
    for name, value in (("candidateUnit", "${leadUnit}"), ("candidateUnit", "${'市发改委'}"),
                        ("instanceLabel", "${unit.name}"), ("instanceLabel", "${'第一轮'}")):
        assert [p for p in check_processes([("t.bpmn", _with_property(name, value, loop))])
                if p["rule"] not in ("variable",)] == [], (name, value)


def test_a_full_width_or_feel_condition_is_refused_saying_what_to_write():
    """QA analyst finding 4: ＝ and a Camunda 8 condition gave "unexpected character" and "syntax error"."""
    for condition, said in (("${decision＝＝'approve'}", "全角字符「＝」（在「decision」之后），请改为半角「=」"),
                            ('=decision = "approve"', "这是 Camunda 8 的 FEEL 写法（以 = 开头），reformflow 读 Camunda 7 "
                                                      "的 JUEL：请写成 ${decision == 'approve'}")):
        xml = _decide([condition.replace('"', "&quot;"), "${decision != 'approve'}"], default="y")
        [problem] = [p for p in check_processes([("t.bpmn", xml)]) if p["rule"] == "expression"]
        assert problem["element_id"] == "Flow_3" and said in problem["message"], problem["message"]
