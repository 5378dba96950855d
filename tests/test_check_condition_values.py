"""A gateway condition whose form fields' types decide that it fails, or gives no true/false,
is refused by `check` (rule condition-value); at run time a condition giving anything but true,
false or null refuses the action instead of taking the flow."""
from __future__ import annotations

from xml.sax.saxutils import escape

import pytest

from engine.checks import check_processes

from .test_checks import DECISION, _decide

SCORE = '<camunda:formField id="score" label="评分" type="long" />'
REVIEWED = '<camunda:formField id="reviewDate" label="评审日期" type="date" />'
AGREE = '<camunda:formField id="agree" label="同意" type="boolean" />'


def refused(xml: bytes) -> list[dict]:
    return [p for p in check_processes([("t.bpmn", xml)]) if p["rule"] == "condition-value"]


def test_an_enum_field_alone_as_a_condition_is_refused_with_the_comparison_to_write():
    """The analyst's `expertDecision` alone: any non-empty text was true, so 'revise' (退回修改)
    went down the approval's flow, silently; check said nothing."""
    [problem] = refused(_decide(["${decision}"], default="yes"))
    assert (problem["element_id"], problem["severity"]) == ("Flow_3", "error")
    assert problem["message"].startswith("条件 `${decision}` 的结果不是 true/false：decision 是选项（enum）字段，"
                                         "它得到的是字段的值本身（如 'approve'），方案到此会被拒绝。请写成比较，例如 "
                                         "`${decision == 'approve'}`")
    assert "Write a comparison, such as “${decision == 'approve'}”" in problem["message"]


def test_a_text_field_alone_shows_no_made_up_value_and_each_language_reads_alone():
    """The rule tries a sample text ('文本'): said as if it were the field's value, and Chinese
    in the English half, which made the analyst's page show both languages."""
    from web.i18n import split
    remark = '<camunda:formField id="remark" label="备注" type="string" />'
    for condition in ("${remark}", "${score >= '六十'}"):
        [problem] = refused(_decide([condition], fields=remark + SCORE, default="yes"))
        zh, en = split(problem["message"])
        assert en is not None and "'文本'" not in problem["message"], problem["message"]


@pytest.mark.parametrize("condition, advice", [
    ("${score >= '60'}", "整数字段与数字比较，数字不加引号：写 60，不写 '60'"),
    ("${reviewDate < today()}", "日期字段与 today()、addWorkingDays() 等日期比较时，用 date() 转换：`${date(reviewDate) < today()}`"),
    ("${score + reviewDate > 3}", "日期字段与 today()"),
])
def test_values_of_types_that_never_go_together_are_refused_saying_what_to_write(condition, advice):
    """Each passed check and stopped every plan at the gateway: `不能用 '>=' 比较 int 和 str`."""
    [problem] = refused(_decide([escape(condition)], fields=SCORE + REVIEWED, default="yes"))
    assert (problem["element_id"], problem["severity"]) == ("Flow_3", "error")
    assert problem["message"].startswith(f"条件 `{condition}` 无论表单填什么都无法求值：")
    assert advice in problem["message"]
    assert "every plan reaching it would be refused" in problem["message"]
    # the sample values the rule tried are not shown as if they were the plan's
    assert "2026-01-05" not in problem["message"] and "文本'" not in problem["message"]


@pytest.mark.parametrize("condition", ["${score >= 60}", "${date(reviewDate) < today()}", "${decision == 'approve'}",
                                       "${agree}", "${!agree}", "${agree && score > 3}", "${empty reviewDate}",
                                       "${reviewDate == '2026-01-01'}", "${other}"])
def test_conditions_that_give_true_or_false_pass(condition):
    assert refused(_decide([escape(condition)], fields=DECISION + SCORE + REVIEWED + AGREE, default="yes")) == []


def test_a_condition_giving_text_at_run_time_refuses_to_go_on_instead_of_taking_the_flow():
    """A name `check` cannot type (a script sets it): at run time 'revise' is not taken as true."""
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState

    from engine.parser import parse_files
    from engine.runtime import engine_error
    from engine.scripting import mark_timers, script_engine
    xml = _decide(["${verdict}"], default="yes")
    assert refused(xml) == []
    [process] = parse_files([("t.bpmn", xml)])
    mark_timers([process.spec])
    workflow = BpmnWorkflow(process.spec, script_engine=script_engine())
    workflow.do_engine_steps()
    task = workflow.get_next_task(state=TaskState.READY)
    task.data.update({"decision": "approve", "verdict": "revise"})
    task.run()
    with pytest.raises(Exception) as err:
        workflow.do_engine_steps()
    message = engine_error(err.value).message
    assert message.startswith("t.bpmn: element Gateway_1 (): 值无效或超出范围：条件的结果须为 true 或 false，实为 “revise”")
    assert "a condition must give true or false, not “revise”: write a comparison" in message
    assert not workflow.is_completed()
    # true, false and null (as false) go on
    for verdict in (True, False, None):
        [process] = parse_files([("t.bpmn", xml)])
        mark_timers([process.spec])
        workflow = BpmnWorkflow(process.spec, script_engine=script_engine())
        workflow.do_engine_steps()
        task = workflow.get_next_task(state=TaskState.READY)
        task.data.update({"decision": "approve", "verdict": verdict})
        task.run()
        workflow.do_engine_steps()
        assert workflow.is_completed(), verdict
