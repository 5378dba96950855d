"""`reformflow check` messages an analyst audit found unhelpful: each says what to write instead."""
from __future__ import annotations

import pytest

from engine.checks import check_files
from engine.expressions import ExpressionError, compile_expression
from web.i18n import split

from .conftest import FIXTURES
from .test_checks import USER, _decide, every_problem_is_chinese_first, simple  # noqa: F401 (an autouse fixture)
from .test_cli import as_json
from .test_cli import cli  # noqa: F401 (a fixture, asked for by name)
from .test_modeler_toolchain import requires_modeler


def said(xml: bytes, **kw) -> list[tuple[str, str, str | None, str]]:
    """(severity, rule, element id, message) of every problem `check` reports, the Modeler lint left out."""
    return [(p["severity"], p["rule"], p["element_id"], p["message"])
            for p in check_files([("t.bpmn", xml)], use_modeler=False, **kw).problems]


def test_a_form_field_without_a_type_says_so_and_where_to_set_it():
    """It said "the type 'None' is not supported": Python's None, not the analyst's word."""
    xml = simple(f'<bpmn:userTask id="Task_A" {USER}><bpmn:extensionElements><camunda:formData>'
                 '<camunda:formField id="expertScore" label="专家评分" /></camunda:formData></bpmn:extensionElements>'
                 '</bpmn:userTask>')
    [(severity, rule, element, message)] = said(xml)
    assert (severity, rule, element) == ("error", "form", "Task_A")
    assert message == ("表单字段 'expertScore' 没有类型：请在 Camunda Modeler 的 Forms → 该字段 → Type 中选择一种，"
                       "可用：string, long, boolean, date, enum (form field 'expertScore' has no type: choose one in "
                       "Camunda Modeler under Forms → the field → Type; supported: string, long, boolean, date, enum)")
    assert "None" not in message
    # a type that is there but not supported is still named as such
    xml = xml.replace(b'label=', b'type="double" label=')
    [(_, _, _, message)] = said(xml)
    assert "表单字段 'expertScore' 的类型 'double' 不受支持" in message


@pytest.mark.parametrize("text, write", [
    ("${decision.equals('approve')}", "decision == 'approve'"),
    ("${!decision.equals('approve')}", "(decision == 'approve')"),
    ("${x.upper() == 'A'}", "upper(x)"),
    ("${x.lower() == 'a'}", "lower(x)"),
    ("${x.toUpperCase() == 'A'}", "upper(x)"),
    ("${list.size() > 0}", "size(list)"),
    ("${name.length() > 2}", "size(name)"),
    ("${form.units.contains('legal')}", "contains(form.units, 'legal')"),
    ("${title.startsWith('关于')}", "startsWith(title, '关于')"),
    ("${title.endsWith('方案')}", "endsWith(title, '方案')"),
    ("${list.isEmpty()}", "empty list"),
])
def test_a_method_call_names_what_to_write_instead(text, write):
    with pytest.raises(ExpressionError) as refused:
        compile_expression(text)
    assert "请把 " in refused.value.zh and refused.value.zh.endswith(f"改写为 {write}")
    assert refused.value.en.startswith(f"methods cannot be called: write {write} instead of ")
    # and what is to be written is itself accepted
    compile_expression("${" + write + "}")


@pytest.mark.parametrize("text", ["${x.trim() == ''}", "${a.equals(b, c)}", "${x.__class__()}"])
def test_a_method_call_with_no_known_replacement_keeps_the_general_message(text):
    with pytest.raises(ExpressionError) as refused:
        compile_expression(text)
    assert str(refused.value) == "只能调用具名函数，如 lower(x)，不能调用方法 (only calls of named functions such as lower(x) are allowed)"


def test_check_says_the_replacement_of_a_method_call_on_the_flow():
    problems = said(_decide(["${decision.equals('approve')}", "${decision == 'reject'}"], default="y"))
    assert [(s, r, e) for s, r, e, _ in problems] == [("error", "expression", "Flow_3")]
    assert problems[0][3] == ("条件 `${decision.equals('approve')}`：不能调用方法 .equals()：请把 decision.equals('approve') "
                              "改写为 decision == 'approve' (condition `${decision.equals('approve')}`: methods cannot be "
                              "called: write decision == 'approve' instead of decision.equals('approve'))")


EXPERT = ('<camunda:formField id="expertDecision" label="专家意见" type="enum">'
          '<camunda:value id="approve" name="同意" /><camunda:value id="reject" name="不同意" /></camunda:formField>')


@pytest.mark.parametrize("condition", ["${approve}", "approve"])
def test_an_enum_value_id_read_as_a_variable_names_the_comparison_to_write(condition):
    problems = said(_decide([condition, "${expertDecision == 'reject'}"], EXPERT, default="y"))
    [(severity, element, message)] = [(s, e, m) for s, r, e, m in problems if r == "variable"]
    assert (severity, element) == ("warning", "Flow_3")
    assert message == (f"条件 `{condition}` 读取的变量 approve 在这些文件中无处设置：approve 是选项字段 expertDecision 的一个值："
                       f"应写 ${{expertDecision == 'approve'}} (condition `{condition}` reads the variable 'approve', "
                       "which nothing in these files sets: approve is a value of the enum field expertDecision: "
                       "write ${expertDecision == 'approve'})")


def test_a_condition_that_is_an_enum_value_name_names_the_comparison_to_write():
    """The flow's own label as its condition: `同意` (Python style, read as a variable) or `${同意}`
    (refused as "unexpected character '同'")."""
    problems = said(_decide(["同意", "${不同意}"], EXPERT, default="y"))
    mine = {e: (s, r, m) for s, r, e, m in problems if e in ("Flow_3", "Flow_4")}
    assert mine["Flow_3"] == ("warning", "variable", (
        "条件 `同意` 读取的变量 同意 在这些文件中无处设置：同意 是选项字段 expertDecision 的值 approve 的名称："
        "应写 ${expertDecision == 'approve'} (condition “同意” reads the variable “同意”, which nothing in these files "
        "sets: “同意” is the name of the value approve of the enum field expertDecision: write "
        "${expertDecision == 'approve'})"))
    assert mine["Flow_4"] == ("error", "expression", (
        "条件 `${不同意}` 不是比较：不同意 是选项字段 expertDecision 的值 reject 的名称：应写 ${expertDecision == 'reject'} "
        "(condition “${不同意}” is no comparison: “不同意” is the name of the value reject of the enum field "
        "expertDecision: write ${expertDecision == 'reject'})"))
    # an English page shows the English half
    assert split(mine["Flow_4"][2])[1].startswith("condition “${不同意}” is no comparison")


def test_a_variable_that_is_no_enum_value_keeps_the_general_warning():
    problems = said(_decide(["${approved}", "${expertDecision == 'reject'}"], EXPERT, default="y"))
    [message] = [m for s, r, e, m in problems if r == "variable"]
    assert "读取的变量 approved 在这些文件中无处设置" in message and "选项字段" not in message


def test_a_group_or_user_named_by_its_display_name_names_the_code_to_write(request, tmp_path):
    """`candidateGroups="法制机构"`, the name `groups list` shows for the code legal, or `assignee="李娜"`
    for the user li: the directory warning gave no suggestion; it names the code to write."""
    run = request.getfixturevalue("cli")  # test_cli's: a database with legal (法制机构) and li (李娜)
    diagram = tmp_path / "mini_approval.bpmn"
    xml = (FIXTURES / "diagrams" / "mini_approval.bpmn").read_text(encoding="utf-8")
    diagram.write_text(xml.replace('camunda:candidateGroups="legal, reform_office"',
                                   'camunda:candidateGroups="法制机构, reform_office" camunda:candidateUsers="李娜"'),
                       encoding="utf-8")
    warnings = [(p["severity"], p["element_id"], p["message"])
                for p in as_json(run("check", str(diagram), "--json"))["problems"] if p["rule"] == "directory"]
    assert warnings == [
        ("warning", "Task_Review", "camunda:candidateGroups 指定的角色 '法制机构' 在此数据库中不存在：法制机构 是角色 legal 的"
         "显示名称，请写 legal (camunda:candidateGroups names the group “法制机构”, which this database does not have: "
         "“法制机构” is the display name of the group legal; write legal)"),
        ("warning", "Task_Review", "camunda:candidateUsers 指定的用户 '李娜' 在此数据库中不存在：李娜 是用户 li 的显示名称，"
         "请写 li (camunda:candidateUsers names the user “李娜”, which this database does not have: “李娜” is the "
         "display name of the user li; write li)")]
    assert split(warnings[1][2])[1].endswith("write li")
    deployed = run("deploy", str(diagram), "--as", "chen")  # deployed all the same, and said
    assert "法制机构 是角色 legal 的显示名称，请写 legal" in deployed.stderr


def test_a_name_that_is_no_display_name_keeps_the_general_directory_warning():
    xml = simple('<bpmn:userTask id="Task_A" camunda:candidateGroups="legals" />')
    [problem] = check_files([("t.bpmn", xml)], use_modeler=False,
                            directory=({"legal": "法制机构"}, {"li": "李娜"})).problems
    assert "did you mean legal?" in problem["message"] and "显示名称" not in problem["message"]


def _end_as_gateway() -> bytes:
    """mini_approval with its end event given the gateway's id, as a hand edit or a merge leaves it."""
    xml = (FIXTURES / "diagrams" / "mini_approval.bpmn").read_bytes()
    assert xml.count(b'id="Gateway_Decision"') == 1
    return xml.replace(b'<bpmn:endEvent id="Event_Done"', b'<bpmn:endEvent id="Gateway_Decision"')


def test_an_id_used_twice_is_one_error_not_also_its_consequences():
    """It was the duplicate and then errors that were only its consequences: the flows out of the
    gateway read as a conditional flow out of the end event, an implicit split, …"""
    problems = said(_end_as_gateway())
    assert problems == [("error", "bpmn", "Gateway_Decision", (
        "id Gateway_Decision 在此文件中用了不止一次，请在 Modeler 中给其中一个元素改用别的 id（第 45、57 行）。顺序流、网关和事件的"
        "检查要等改正后才会进行，改正后请再检查一次 (the id Gateway_Decision is used more than once in this file: give "
        "one of the elements another id in the Modeler (lines 45, 57). The checks of sequence flows, gateways and "
        "events run once it is fixed: check again then)"))]


def test_every_id_used_twice_is_named_and_the_other_rules_still_run():
    xml = simple(f'<bpmn:userTask id="Task_A" name="审核" {USER}><bpmn:extensionElements><camunda:formData>'
                 '<camunda:formField id="expertScore" /></camunda:formData></bpmn:extensionElements></bpmn:userTask>'
                 '<bpmn:userTask id="StartEvent_1" camunda:candidateGroups="legal" />'
                 '<bpmn:endEvent id="Task_A" />')
    problems = said(xml)
    assert [(r, e) for _, r, e, _ in problems] == [("bpmn", "StartEvent_1"), ("form", "Task_A")]
    assert "id StartEvent_1 在此文件中用了不止一次" in problems[0][3] and "；id Task_A 在此文件中用了不止一次" in problems[0][3]


@requires_modeler
def test_the_modeler_lint_does_not_repeat_an_id_used_twice_or_its_consequences():
    report = check_files([("m.bpmn", _end_as_gateway())])
    assert report.modeler_lint == "ran"
    rules = [p["rule"] for p in report.problems if p["severity"] != "info"]
    # the references to the end event's old id are real: they are said
    assert rules == ["bpmn", "modeler/moddle-import", "modeler/moddle-import"]
    assert not any("duplicate ID" in p["message"] for p in report.problems)
