"""Process properties at check: a property the law bounds (legalReviewDays: at least 7 working
days) and a property an expression counts with (not a whole number: '15天') are refused, naming the
property, its value, and the expression that counts with it; the runtime refusal of such a value
says a number was expected, in both languages (QA analyst findings 1 and 3)."""
from __future__ import annotations

import pytest

from engine.checks import check_processes
from engine.expressions import EvaluationError, evaluate

from .conftest import BPMN
from .test_checks import USER, diagram, flows

LEGALITY = ("adjustment", "legality_review", "reform_plan")


def _library(value: str) -> list[tuple[str, bytes]]:
    """The three library diagrams that set legalReviewDays, with `value` in each."""
    files = []
    for key in LEGALITY:
        xml = (BPMN / f"{key}.bpmn").read_text(encoding="utf-8")
        assert 'name="legalReviewDays" value="15"' in xml
        files.append((f"{key}.bpmn", xml.replace('name="legalReviewDays" value="15"',
                                                 f'name="legalReviewDays" value="{value}"').encode()))
    return files


def _property_problems(files, **kw) -> list[dict]:
    return [p for p in check_processes(files, **kw) if p["rule"] == "process-property"]


@pytest.mark.parametrize("value", ["15天", "0", "5", "6", "十五"])
def test_a_legality_review_period_that_is_no_number_or_under_7_days_is_refused(value):
    problems = _property_problems(_library(value))
    assert [(p["file"], p["element_id"], p["severity"]) for p in problems] == [
        (f"{key}.bpmn", key, "error") for key in LEGALITY]
    message = problems[0]["message"]
    assert message.startswith("流程属性 legalReviewDays 的值为 ")
    assert "请写 7 到 15 之间的整数（工作日数），如 15" in message
    assert "《重大行政决策程序暂行条例》第二十六条" in message and "一般不少于7个工作日" in message
    assert "Decree 713" in message and "at least 7 working days" in message
    said = f"'{value}' 不是整数" if not value.isdigit() else f"{value}，少于 7 个工作日"
    assert said in message


@pytest.mark.parametrize("value", ["7", "10", "15", " 15 "])
def test_a_legality_review_period_from_7_to_15_days_passes(value):
    assert _property_problems(_library(value)) == []


def test_more_than_15_days_is_a_warning_a_local_rule_may_allow():
    problems = _property_problems(_library("20"))
    assert [(p["element_id"], p["severity"]) for p in problems] == [(key, "warning") for key in LEGALITY]
    assert "超过地方规定通常的上限 15 个工作日" in problems[0]["message"]
    assert "ignore this warning" in problems[0]["message"]


def _counting(expression: str, value: str = "15天", name: str = "reviewDays", key: str = "p",
              calls: str = "") -> bytes:
    """A process with the property `name` = `value` and a task whose due date is `expression`."""
    props = (f'<bpmn:extensionElements><camunda:properties><camunda:property name="{name}" value="{value}" />'
             '</camunda:properties></bpmn:extensionElements>\n') if value is not None else ""
    return diagram(props + '<bpmn:startEvent id="StartEvent_1" />\n'
                   f'<bpmn:userTask id="Task_A" name="审查" {USER} camunda:dueDate="{expression}" />\n'
                   f'{calls}<bpmn:endEvent id="Event_End" />\n'
                   + flows(("StartEvent_1", "Task_A"), ("Task_A", "Event_End")), key=key)


@pytest.mark.parametrize("expression", [
    "${workingDays(reviewDays)}",
    "${workingDays(max(7, reviewDays))}",
    "${workingDays(reviewDays - 2)}",
    "${addWorkingDays(today(), empty x ? reviewDays : min(x, reviewDays))}",
    "${workingDays(reviewDays &gt; 7 ? 7 : 5)}",
    "${addMonths(today(), reviewDays)}",
])
def test_a_property_an_expression_counts_with_must_be_a_whole_number(expression):
    [problem] = _property_problems([("t.bpmn", _counting(expression))])
    assert (problem["element_id"], problem["severity"]) == ("p", "error")
    shown = expression.replace("&gt;", ">")
    assert problem["message"] == (
        f"流程属性 reviewDays 的值 '15天' 不是整数，但元素 Task_A（审查）的表达式 `{shown}` 用它计算：方案到达那里时会"
        f"出错停住。请写整数，如 15 (process property reviewDays is '15天', not a whole number, but the expression "
        f"`{shown}` of element Task_A (审查) counts with it: plans would stop there with an error. Write a whole "
        "number, e.g. 15)")


@pytest.mark.parametrize("expression", [
    "${workingDays(15)}",                                  # does not read it
    "${reviewDays == 'long' ? workingDays(20) : workingDays(10)}",  # text compared with text
    "${workingDays(len(reviewDays))}",                     # its length, a number
    "${reviewDays ? workingDays(2) : workingDays(3)}",     # a condition, not a number
])
def test_a_text_property_no_expression_counts_with_passes(expression):
    assert _property_problems([("t.bpmn", _counting(expression))]) == []


def test_whole_numbers_and_booleans_pass():
    for value in ("15", "+3", "true"):
        assert _property_problems([("t.bpmn", _counting("${workingDays(reviewDays)}", value))]) == [], value


@pytest.mark.parametrize("value", ["+-5", "²", "1 5"])
def test_a_value_that_only_looks_numeric_is_refused_not_a_crash(value):
    """`+-5` and `²` passed a digits test and then made int() raise: check ended in a traceback."""
    [problem] = _property_problems([("t.bpmn", _counting("${workingDays(reviewDays)}", value))])
    assert problem["severity"] == "error"
    assert f"流程属性 reviewDays 的值 '{value}' 不是整数" in problem["message"]


def test_a_property_a_called_process_counts_with_is_refused_in_the_caller():
    """The called process reads its caller's value: the caller's '10天' stops every plan in the child."""
    child = _counting("${workingDays(reviewDays)}", value=None, key="child")
    parent = _counting("P1D", key="parent", value="10天",
                       calls='<bpmn:callActivity id="Call_C" calledElement="child" />\n')
    problems = _property_problems([("parent.bpmn", parent), ("child.bpmn", child)])
    assert [(p["file"], p["element_id"]) for p in problems] == [("parent.bpmn", "parent")]
    assert "被调用的流程 child 中元素 Task_A（审查）的表达式 `${workingDays(reviewDays)}`" in problems[0]["message"]
    assert "in child, which this process calls" in problems[0]["message"]
    assert "如 10" in problems[0]["message"]
    # the child deployed already counts as well
    deployed = _property_problems([("parent.bpmn", parent)], deployed_xml=[child.decode()])
    assert [(p["file"], p["element_id"]) for p in deployed] == [("parent.bpmn", "parent")]


def test_the_library_diagrams_pass():
    files = [(path.name, path.read_bytes()) for path in sorted(BPMN.glob("*.bpmn"))]
    assert _property_problems(files) == []


@pytest.mark.parametrize("expression, said", [
    ("${max(7, days)}", "max() 执行失败：须为数字，'15天' 是文本 (max() failed: a number was expected, not the text '15天')"),
    ("${days - 2}", "str 与 int 不能做 - 运算：须为数字，'15天' 是文本 (unsupported operand types for -: str and int: "
                    "a number was expected, not the text '15天')"),
    ("${days >= 15}", "不能用 '>=' 比较 str 和 int：须为数字，'15天' 是文本 (cannot compare str and int with '>=': "
                      "a number was expected, not the text '15天')"),
])
def test_text_where_a_number_belongs_is_said_so_at_run_time(expression, said):
    """A value that still gets through (start data of a called process, say) is refused in words,
    not with Python's "'>' not supported between instances of 'str' and 'int'"."""
    with pytest.raises(EvaluationError) as refused:
        evaluate(expression, {"days": "15天"})
    assert str(refused.value) == said
    assert "not supported between instances" not in str(refused.value)
