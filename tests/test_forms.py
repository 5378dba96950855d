"""camunda:formData validation rules that the engine tests do not reach directly."""
import json

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.errors import Invalid
from engine.forms import validate

from .conftest import FIXTURES


def field(fid, kind="string", default=None, constraints=None, options=(), properties=None, label=None):
    return {"id": fid, "label": label or fid, "type": kind, "default": default, "options": list(options),
            "constraints": constraints or {}, "properties": properties or {}}


DECISION = field("decision", "enum", constraints={"required": None},
                 options=[{"id": "approve", "name": "通过"}, {"id": "return", "name": "退回"}])
REASON = field("returnReason", properties={"keep": "false"})
UNIT = field("leadUnit")
DAYS = field("legalReviewDays", "long", default="15", constraints={"min": "7", "max": "30"})


def test_a_required_decision_left_over_from_an_earlier_pass_does_not_count():
    with pytest.raises(Invalid) as err:
        validate([DECISION], {}, {"decision": "approve"})
    assert err.value.details[0]["code"] == "required"


def test_fields_left_out_keep_their_value_unless_marked_keep_false():
    values = validate([DECISION, REASON, UNIT, DAYS], {"decision": "approve"},
                      {"returnReason": "上一轮的退回理由", "leadUnit": "市财政局"})
    assert values == {"decision": "approve", "returnReason": None, "leadUnit": "市财政局",
                      "legalReviewDays": 15}


def test_types_are_coerced_from_web_form_strings():
    form = [field("ok", "boolean"), field("when", "date"), DAYS]
    assert validate(form, {"ok": "true", "when": "2026-02-28", "legalReviewDays": "10"}, {}) == \
        {"ok": True, "when": "2026-02-28", "legalReviewDays": 10}
    with pytest.raises(Invalid) as err:
        validate(form, {"ok": "maybe", "when": "28/02/2026", "legalReviewDays": "6"}, {})
    assert [d["code"] for d in err.value.details] == ["type", "type", "constraint"]


def test_readonly_fields_cannot_be_changed():
    ro = field("mediumRiskPolicy", default="adjust", constraints={"readonly": None})
    assert validate([ro], {}, {}) == {"mediumRiskPolicy": "adjust"}
    with pytest.raises(Invalid):
        validate([ro], {"mediumRiskPolicy": "proceed"}, {})


@pytest.mark.parametrize("kind, value", [
    ("date", "2026-01-01 garbage"), ("date", "20260101"), ("date", "2026-02-30"), ("date", "2026-1-1"),
    ("date", 20260101), ("string", {"a": 1}), ("string", ["a"]), ("string", 12), ("string", True),
    ("long", 1.5), ("long", 15.0), ("long", True), ("long", "1e3"), ("long", 10**18), ("long", -10**18),
    ("boolean", 1), ("boolean", "maybe"), ("boolean", [True]),
])
def test_a_value_of_the_wrong_type_is_refused_naming_the_field(kind, value):
    with pytest.raises(Invalid) as err:
        validate([field("x", kind)], {"x": value}, {})
    assert [(d["field"], d["code"]) for d in err.value.details] == [("x", "type")]
    assert "「x」(x)" in err.value.message


def test_an_enum_value_must_be_one_of_its_option_ids_as_text():
    with pytest.raises(Invalid) as err:
        validate([field("n", "enum", options=[{"id": "1", "name": "一"}])], {"n": 1}, {})
    assert err.value.details[0]["field"] == "n"
    assert validate([field("n", "enum", options=[{"id": "1", "name": "一"}])], {"n": "1"}, {}) == {"n": "1"}


@pytest.mark.parametrize("kind, value, stored", [
    ("date", "2026-01-01", "2026-01-01"), ("date", " 2026-01-01 ", "2026-01-01"),
    ("string", "文本", "文本"), ("long", 999999999999999999, 999999999999999999), ("long", "-12", -12),
    ("boolean", False, False), ("boolean", "false", False), ("boolean", "是", True),
])
def test_values_of_the_right_type_and_web_form_text_are_accepted(kind, value, stored):
    assert validate([field("x", kind)], {"x": value}, {}) == {"x": stored}


@pytest.mark.parametrize("kind, current, posted", [
    ("boolean", False, "false"), ("boolean", True, "true"), ("long", 15, "15"), ("date", "2026-01-01", "2026-01-01"),
    ("string", None, ""), ("long", None, ""), ("string", "文号", "文号"),
])
def test_a_read_only_field_posted_back_unchanged_as_text_is_accepted(kind, current, posted):
    ro = field("x", kind, constraints={"readonly": None})
    assert validate([ro], {"x": posted}, {"x": current}) == {"x": current}


@pytest.mark.parametrize("kind, current, posted", [
    ("boolean", False, "true"), ("boolean", False, True), ("long", 15, "16"), ("long", 15, "abc"),
    ("date", "2026-01-01", "2026-01-02"), ("string", "文号", "别的"), ("string", None, "新"),
])
def test_a_read_only_field_really_changed_is_refused(kind, current, posted):
    ro = field("x", kind, constraints={"readonly": None})
    with pytest.raises(Invalid) as err:
        validate([ro], {"x": posted}, {"x": current})
    assert [(d["field"], d["code"]) for d in err.value.details] == [("x", "readonly")]


def test_each_problem_is_said_in_chinese_with_a_short_english_gloss():
    with pytest.raises(Invalid) as err:
        validate([DECISION, DAYS, field("when", "date")],
                 {"legalReviewDays": "40", "when": "2026-02-30", "colour": "red"}, {})
    assert err.value.message == (
        "表单有误 (form data refused)：字段 colour 不在本任务的表单上 (not on this form)；"
        "「decision」(decision) 为必填项 (required)；「legalReviewDays」(legalReviewDays) 不得大于 30 (at most 30)；"
        "「when」(when) 须为日期，格式 YYYY-MM-DD (must be a date, YYYY-MM-DD)")
    with pytest.raises(Invalid) as err:
        validate([DECISION], {"decision": "maybe"}, {})
    assert err.value.details[0]["message"] == ("「decision」(decision) 取值须为以下之一：approve（通过）、return（退回） "
                                               "(must be one of: approve, return)")


# ------------------------------------------------------------ min / max written as expressions

def _limit(variables):
    """What the engine passes: the constraint evaluated by the safe evaluator over the
    submitted values, then the plan's variables (runtime.form_limit)."""
    from collections import ChainMap

    from engine.scripting import SafeEnvironment
    env = SafeEnvironment()
    return lambda text, values: env.evaluate(text, ChainMap(values, variables))


FILED = field("filingDate", "date", constraints={"required": None, "min": "${issueDate}", "max": "${today()}"})


def test_a_date_bound_written_as_an_expression_is_evaluated_on_submit(at):
    with at("2026-03-10T09:00:00"):
        limit = _limit({"issueDate": "2026-01-31"})
        assert validate([FILED], {"filingDate": "2026-01-31"}, {}, limit) == {"filingDate": "2026-01-31"}
        assert validate([FILED], {"filingDate": "2026-03-10"}, {}, limit) == {"filingDate": "2026-03-10"}
        with pytest.raises(Invalid) as early:
            validate([FILED], {"filingDate": "2026-01-30"}, {}, limit)
        with pytest.raises(Invalid) as future:
            validate([FILED], {"filingDate": "2026-03-11"}, {}, limit)
    assert early.value.details == [{"field": "filingDate", "code": "constraint", "message":
                                    "「filingDate」(filingDate) 不得早于 2026-01-31（${issueDate}） "
                                    "(“filingDate” not before 2026-01-31)"}]  # the English names the field and says the bound as the Chinese does, never the expression (it was `: ${…}`)
    assert future.value.details[0]["message"] == ("「filingDate」(filingDate) 不得晚于 2026-03-10（今天） "
                                                  "(“filingDate” not after 2026-03-10 (today))")  # the English names the field and says the bound as the Chinese does, never the expression (it was `: ${…}`)


def test_a_bound_is_said_in_words_where_it_is_a_common_one(at):
    """A drafter told 不得早于 2026-01-31（${issueDate}） reads code: a bound that is today, tomorrow
    or another field of the form is named as a person says it, with the expression in English."""
    issued = field("issueDate", "date", label="印发日期", constraints={"readonly": None})
    later = field("newDeadline", "date", constraints={"min": "${ addDays(today(), 1) }"})
    with at("2026-03-10T09:00:00"):
        with pytest.raises(Invalid) as early:
            validate([issued, FILED], {"filingDate": "2026-01-30"}, {"issueDate": "2026-01-31"}, _limit({}))
        with pytest.raises(Invalid) as today:
            validate([later], {"newDeadline": "2026-03-10"}, {}, _limit({}))
    assert early.value.details[0]["message"] == ("「filingDate」(filingDate) 不得早于 2026-01-31（印发日期） "
                                                 "(“filingDate” not before 2026-01-31 (“印发日期”))")  # the English names the field and says the bound as the Chinese does, never the expression (it was `: ${…}`)
    assert today.value.details[0]["message"] == ("「newDeadline」(newDeadline) 不得早于 2026-03-11（明天） "
                                                 "(“newDeadline” not before 2026-03-11 (tomorrow))")  # the English names the field and says the bound as the Chinese does, never the expression (it was `: ${…}`)


def test_a_bound_may_name_another_field_of_the_same_form_and_one_without_a_value_does_not_apply(at):
    start, end = field("start", "date"), field("end", "date", constraints={"min": "${start}"})
    with at("2026-03-10T09:00:00"):
        with pytest.raises(Invalid) as err:
            validate([start, end], {"start": "2026-03-05", "end": "2026-03-01"}, {}, _limit({}))
        assert [d["field"] for d in err.value.details] == ["end"]
        assert validate([start, end], {"end": "2026-03-01"}, {}, _limit({})) == {"start": None, "end": "2026-03-01"}


def test_a_bound_s_problem_is_listed_in_form_order_with_the_others(at):
    """The bound is checked once every value is known, but the person reads the problems in the
    order of the form: the end date before the decision below it."""
    start, end = field("start", "date"), field("end", "date", constraints={"min": "${start}"})
    with at("2026-03-10T09:00:00"):
        with pytest.raises(Invalid) as err:
            validate([start, end, DECISION], {"start": "2026-03-05", "end": "2026-03-01", "colour": "red"},
                     {}, _limit({}))
    assert [(d["field"], d["code"]) for d in err.value.details] == [
        ("colour", "unknown"), ("end", "constraint"), ("decision", "required")]
    assert err.value.message.index("不得早于 2026-03-05") < err.value.message.index("为必填项")


def test_a_bound_over_a_refused_field_waits_for_it_and_the_other_problems_are_still_listed():
    """A count out of range leaves the bound that sums it up without a value (or with last
    month's): that bound is not checked, and every other problem is still listed, not an
    expression error about the diagram."""
    total = 5
    done = field("done", "long", constraints={"required": None, "min": "0", "max": "${total}"})
    started = field("started", "long", constraints={"required": None, "min": "0", "max": "${total - done}"})
    rest = field("rest", "long", constraints={"required": None, "min": "${total - done - started}",
                                             "max": "${total - done - started}"})
    summary = field("summary", constraints={"required": None})
    for last_month in ({}, {"started": 1}):
        with pytest.raises(Invalid) as err:
            validate([done, started, rest, summary], {"done": 6, "started": -1, "rest": 3}, {},
                     _limit({"total": total, **last_month}))
        assert [(d["field"], d["code"]) for d in err.value.details] == [
            ("done", "constraint"), ("started", "constraint"), ("summary", "required")]
    assert validate([done, started, rest], {"done": 2, "started": 2, "rest": 1}, {}, _limit({"total": total})) == {
        "done": 2, "started": 2, "rest": 1}


def test_a_whole_number_bound_from_a_process_setting():
    days = field("reviewDays", "long", constraints={"min": "${minReviewDays}", "max": "30"})
    with pytest.raises(Invalid) as err:
        validate([days], {"reviewDays": 5}, {}, _limit({"minReviewDays": 7}))
    # the English half no longer shows the expression (it was `(at least 7: ${minReviewDays})`)
    assert "不得小于 7（${minReviewDays}） (“reviewDays” at least 7)" in err.value.details[0]["message"]
    assert validate([days], {"reviewDays": 7}, {}, _limit({"minReviewDays": 7})) == {"reviewDays": 7}


def test_a_bound_of_the_wrong_kind_is_the_diagram_s_fault_and_says_so():
    with pytest.raises(Invalid) as err:
        validate([FILED], {"filingDate": "2026-03-01"}, {}, _limit({"issueDate": "soon"}))
    assert "约束 min = ${issueDate} 的值 'soon' 不是日期，请流程分析人员更正流程图" in err.value.message


def test_a_date_bound_from_an_instant_counts_by_its_beijing_date(at):
    """9 March 20:00 UTC is already 10 March in Beijing: the bound is the 10th, as date() says."""
    from datetime import datetime, timezone
    after = field("replyDate", "date", constraints={"min": "${sentAt}"})
    with at("2026-03-10T09:00:00"):
        for sent in ("2026-03-09T20:00:00+00:00", datetime(2026, 3, 9, 20, tzinfo=timezone.utc)):
            with pytest.raises(Invalid) as err:
                validate([after], {"replyDate": "2026-03-09"}, {}, _limit({"sentAt": sent}))
            assert "不得早于 2026-03-10（${sentAt}）" in err.value.message
            assert validate([after], {"replyDate": "2026-03-10"}, {}, _limit({"sentAt": sent})) == {
                "replyDate": "2026-03-10"}


def test_a_date_bound_that_is_no_real_date_is_refused_not_compared_as_text():
    after = field("replyDate", "date", constraints={"min": "${sentOn}"})
    for bad in ("2026-02-30", "2026-13-01"):
        with pytest.raises(Invalid) as err:
            validate([after], {"replyDate": "2026-12-01"}, {}, _limit({"sentOn": bad}))
        assert f"的值 '{bad}' 不是日期" in err.value.message


# ------------------------------------------------------------ a task's page (reformflow task)

PARALLEL = FIXTURES / "corpus" / "multi_instance_parallel.bpmn"
# each department may ask for its own number of extra days: legal 3, every other one 10
EXTRA_DAYS = ('<camunda:formField id="extraDays" label="延期天数" type="long"><camunda:validation>'
        '<camunda:constraint name="max" config="${department == \'legal\' ? 3 : 10}" />'
        '</camunda:validation></camunda:formField>')


def _deploy_days(engine):
    xml = PARALLEL.read_text(encoding="utf-8")
    assert xml.count("</camunda:formField>") == 1
    engine.deploy([(PARALLEL.name, xml.replace("</camunda:formField>", "</camunda:formField>" + EXTRA_DAYS).encode())])


def test_a_task_page_shows_the_range_of_its_own_item_and_a_closed_task_none(engine, people):
    """The plan's variables name one department only (the last one merged); each department's
    page shows its own range, the one its submission is checked against."""
    def page(task_id):
        result = CliRunner().invoke(main, ["--db", engine.db.url, "task", str(task_id), "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)
    _deploy_days(engine)
    plan = engine.start("corpus_multi_instance_parallel", actor="zhang", data={"departments": ["legal", "risk"]})
    tasks = {t["candidate_groups"][0]: t for t in plan["tasks"]}
    pages = {d: page(t["id"]) for d, t in tasks.items()}
    assert {d: p["bounds"] for d, p in pages.items()} == {"legal": {"extraDays": {"max": 3}},
                                                          "risk": {"extraDays": {"max": 10}}}
    engine.claim(tasks["risk"]["id"], actor="zhou")
    engine.complete(tasks["risk"]["id"], actor="zhou", data={"opinion": "同意", "extraDays": 8})
    legal = page(tasks["legal"]["id"])
    assert legal["bounds"] == {"extraDays": {"max": 3}} and legal["values"]["opinion"] is None
    engine.claim(tasks["legal"]["id"], actor="li")
    with pytest.raises(Invalid):  # what the page said is what submitting checks
        engine.complete(tasks["legal"]["id"], actor="li", data={"opinion": "同意", "extraDays": 4})
    # a completed task's page: what it was submitted with, not a range as of today
    done = page(tasks["risk"]["id"])
    assert (done["values"], done["bounds"]) == ({"opinion": "同意", "extraDays": 8}, {})


def test_a_bound_that_fails_on_submit_names_the_diagram_and_element_and_changes_nothing(engine, people):
    """A start form's bound naming a variable nothing set, and a task's bound giving what is no
    date: the diagram is at fault, and the refusal says which one and where, like any other."""
    start_form = FIXTURES / "corpus" / "start_form.bpmn"
    xml = start_form.read_text(encoding="utf-8").replace(
        '<camunda:formField id="pilot" label="试点方案" type="boolean" defaultValue="false" />',
        '<camunda:formField id="pilot" label="试点方案" type="boolean" defaultValue="false" />'
        '<camunda:formField id="planDate" label="计划日期" type="date"><camunda:validation>'
        '<camunda:constraint name="max" config="${addMonths(today(), maxMonths)}" />'
        '</camunda:validation></camunda:formField>')
    days = PARALLEL.read_text(encoding="utf-8").replace("</camunda:formField>", "</camunda:formField>" + (
        '<camunda:formField id="replyDate" label="答复日期" type="date"><camunda:validation>'
        '<camunda:constraint name="min" config="${department}" /></camunda:validation></camunda:formField>'), 1)
    engine.deploy([(start_form.name, xml.encode()), (PARALLEL.name, days.encode())])
    with pytest.raises(Invalid) as err:
        engine.start("corpus_start_form", actor="zhang", data={"leadUnit": "市财政局", "planDate": "2026-12-10"})
    assert err.value.message.startswith("start_form.bpmn: element StartEvent_1 (登记方案任务): 变量 maxMonths 没有值")
    plan = engine.start("corpus_multi_instance_parallel", actor="zhang", data={"departments": ["legal"]})
    [task] = plan["tasks"]
    engine.claim(task["id"], actor="li")
    with pytest.raises(Invalid) as err:
        engine.complete(task["id"], actor="li", data={"opinion": "同意", "replyDate": "2026-12-10"})
    assert err.value.message == (
        "multi_instance_parallel.bpmn: element Activity_12kapjq (各部门出具意见): 表单字段 「答复日期」(replyDate) 的约束 "
        "min = ${department} 的值 'legal' 不是日期，请流程分析人员更正流程图 (the form's min constraint ${department} "
        "gave 'legal', not a date; the diagram must be corrected)")
    assert [t["status"] for t in engine.instance(plan["id"])["tasks"]] == ["claimed"]  # nothing changed
