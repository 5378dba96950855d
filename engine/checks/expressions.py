"""Expressions: reserved ids, gateway and completion conditions, timer values, script tasks.

`check_timer_value` is shared with the user-task due dates in `forms.py`."""
from __future__ import annotations

from typing import Iterator

from .. import clock
from ..deadlines import (TimerValueError, cycle_value, due_at, is_iso_cycle, is_iso_date_or_datetime, is_iso_duration,
                         parse_cycle, parse_date_or_datetime, parse_duration)
from ..expressions import ExpressionError, compile_script, is_wrapped
from ..scripting import FUNCTION_NAMES
from .common import CAMUNDA, NS, Doc, check_expression, enum_value_hint, in_english, local_name, owner_of, problem

RESERVED_IDS = {"Start", "End"}  # collide with SpiffWorkflow's own task names


def rule_reserved_ids(doc: Doc):
    for el in doc.root.iter():
        if el.get("id") in RESERVED_IDS:
            instead = f"{el.get('id')}Event_1"  # StartEvent_1, EndEvent_1: as the Modeler names them
            yield doc.problem(el, "reserved-id", f"id '{el.get('id')}' 为引擎保留，请改名（如 {instead}） (the id "
                              f"'{el.get('id')}' is reserved by the engine; rename it (e.g. {instead}))")


def rule_conditions(doc: Doc):
    for cond in doc.root.xpath(".//bpmn:conditionExpression | .//bpmn:completionCondition", namespaces=NS):
        owner = owner_of(cond)
        if cond.get("language") not in (None, "", "juel", "JUEL", "python"):
            yield doc.problem(owner, "expression", f"不支持表达式语言 '{cond.get('language')}'，请把条件写成 ${{...}}"
                              "（Modeler 中 Type 选 Expression） (expression language "
                              f"'{cond.get('language')}' is not supported; write the condition as ${{...}} "
                              "(Type: Expression in the Modeler))")
            continue
        if cond.get(CAMUNDA + "resource"):
            yield doc.problem(owner, "expression", "不支持外部表达式资源，请把条件直接写在图中 (external expression "
                              "resources are not supported)")
            continue
        if (cond.text or "").strip():
            said = list(check_expression(doc.file, owner, cond.text, "expression", ("条件", "condition")))
            # `${同意}`: the name of an enum field's value as the form shows it, where the comparison
            # with the field was meant; "unexpected character '同'" does not say so
            inner = cond.text.strip()[2:-1] if is_wrapped(cond.text) else cond.text
            hint = enum_value_hint(doc.root, inner) if said else None
            if hint:
                text = cond.text.strip()
                quoted = in_english(text, f"`{text}`")
                said = [doc.problem(owner, "expression", f"条件 `{text}` 不是比较：{hint[0]} (condition {quoted} is no "
                                    f"comparison: {hint[1]})")]
            yield from said
        elif local_name(cond) == "conditionExpression":
            yield doc.problem(owner, "expression", "条件为空：请写成 ${decision == 'approve'} 这样的条件，或删除条件 "
                              "(empty condition: write one like ${decision == 'approve'} or remove it)")


def check_timer_value(file, el, kind, text, attribute: str | None = None) -> Iterator[dict]:
    """Problems of a timer's value of `kind` (timeDuration, timeDate, timeCycle); with `attribute`
    (camunda:dueDate, camunda:followUpDate) a user task's date, rule `due-date`."""
    # a due date is named by its attribute: "camunda:dueDate: timeDuration P10WD" named a timer's field
    rule, zh, en = ("due-date", f"{attribute} 的值", attribute) if attribute else ("timer", f"定时器 {kind}", kind)
    text = (text or "").strip()
    if not text:
        yield problem(file, el, rule, f"{zh} 为空：请填写 ISO 8601 值，如 P7D 或 2026-12-01 (empty {en}: "
                      "give an ISO 8601 value such as P7D or 2026-12-01)")
        return
    if is_wrapped(text):
        yield from check_expression(file, el, text, rule, (zh, en))
        return
    ok = {"timeCycle": is_iso_cycle, "timeDate": is_iso_date_or_datetime}.get(
        kind, lambda t: is_iso_duration(t) or is_iso_date_or_datetime(t))(text)
    if ok:
        yield from _resolves(file, el, rule, zh, en, kind, text)
        return
    reason_zh = reason = ""
    try:  # the parser of what the value was meant to be says why it is not
        if kind == "timeCycle":
            parse_cycle(text)
        elif kind == "timeDuration" and not text[:1].isdigit():
            parse_duration(text)
        else:  # a timeDate, or a date given as a duration's end
            parse_date_or_datetime(text)
    except TimerValueError as exc:
        reason_zh, reason = f"：{exc.zh}", f": {exc.en}"
    yield problem(file, el, rule, f"{zh} `{text}` 不是 reformflow 能识别的 ISO 8601 值{reason_zh}。示例：P7D、P1M、"
                  f"PT36H、2026-12-01、R3/P1D、${{workingDays(15)}} ({en} `{text}` is not an ISO 8601 value "
                  f"reformflow understands{reason}. Examples: P7D, P1M, PT36H, 2026-12-01, R3/P1D, ${{workingDays(15)}})")


def _resolves(file, el, rule, zh, en, kind, text) -> Iterator[dict]:
    """A value written out that parses must also give a time, as it will when the step opens:
    9999-12-31 or P9000Y leave the dates reformflow can count, and a cycle may not start in the
    past (cycle_value); else `check` passed what every plan then refused."""
    now = clock.now()
    try:
        if kind == "timeCycle":
            cycle_value(text, now)
        else:
            due_at(text, now)
    except TimerValueError as exc:
        yield problem(file, el, rule, f"{zh} `{text}` 无法使用：{exc.zh} ({en} `{text}` cannot be used: {exc.en})")


def rule_timers(doc: Doc):
    for timer in doc.iter("timerEventDefinition"):
        event = owner_of(timer.getparent())
        values = [c for c in timer if local_name(c) in ("timeDuration", "timeDate", "timeCycle")]
        if not values:
            yield doc.problem(event, "timer", "定时器没有值：请设置时长、日期或周期 (timer without a value: set a "
                              "duration, a date or a cycle)")
        for value in values:
            kind = local_name(value)
            yield from check_timer_value(doc.file, event, kind, value.text)
            if kind != "timeCycle":
                continue
            # SpiffWorkflow repeats a cycle by adding children to the waiting event: only a
            # non-interrupting boundary event (a reminder) behaves as in Camunda.
            if local_name(event) == "boundaryEvent" and event.get("cancelActivity", "true") == "false":
                yield doc.problem(event, "timer", "重复定时器：每次触发都会启动其后的路径（如催办任务）；所附着的任务"
                                  "办结时，仍未办结的催办任务会被取消（Camunda 会保留它们） (a repeating timer: each "
                                  "time it fires it starts the path after it (e.g. a reminder task); when the task it "
                                  "is attached to is completed, reminder tasks still open are cancelled (Camunda would "
                                  "leave them open))", "warning")
                continue
            where = {"startEvent": ("带周期的定时器开始事件会在一个方案内把整个流程运行多次（Camunda 每个周期启动一个"
                                    "新方案）", "a timer start event with a cycle would run the whole process several "
                                    "times inside one plan (Camunda starts a new plan per cycle)"),
                     "intermediateCatchEvent": ("带周期的中间定时器事件永远不会让流程继续",
                                                "an intermediate timer with a cycle never lets the plan go on"),
                     "boundaryEvent": ("带周期的中断边界定时器不会中断任务",
                                       "an interrupting boundary timer with a cycle does not interrupt the task")}
            zh, en = where.get(local_name(event), ("周期", "cycle"))
            yield doc.problem(event, "timer", f"此处不支持 timeCycle：{zh}。周期（R3/P1D）只能用于非中断边界定时器"
                              f"（重复催办）；此处请用 timeDuration 或 timeDate (timeCycle here is not supported: {en}. "
                              "Cycles (R3/P1D) work on NON-interrupting boundary timers (repeated reminders); "
                              "use timeDuration or timeDate here)")


def rule_scripts(doc: Doc):
    for task in doc.iter("scriptTask"):
        script = task.find("bpmn:script", NS)
        if task.get(CAMUNDA + "resource") or script is None or not (script.text or "").strip():
            yield doc.problem(task, "script", "脚本任务须有内嵌脚本，每行一个 `name = expression` (a script task "
                              "needs an inline script of `name = expression` lines)")
            continue
        try:
            compile_script(script.text, FUNCTION_NAMES)
        except ExpressionError as exc:
            yield doc.problem(task, "script", f"脚本：{exc.zh} (script: {exc.en})")
