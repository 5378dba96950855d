"""Expressions: reserved ids, gateway and completion conditions, timer values, script tasks.

`check_timer_value` is shared with the user-task due dates in `forms.py`."""
from __future__ import annotations

from typing import Iterator

from ..deadlines import (TimerValueError, is_iso_cycle, is_iso_date_or_datetime, is_iso_duration, parse_cycle,
                         parse_date_or_datetime, parse_duration)
from ..expressions import ExpressionError, compile_script, is_wrapped
from ..scripting import FUNCTION_NAMES
from .common import CAMUNDA, NS, Doc, check_expression, local_name, owner_of, problem

RESERVED_IDS = {"Start", "End"}  # collide with SpiffWorkflow's own task names


def rule_reserved_ids(doc: Doc):
    for el in doc.root.iter():
        if el.get("id") in RESERVED_IDS:
            yield doc.problem(el, "reserved-id", f"the id '{el.get('id')}' is reserved by the engine; rename it (e.g. StartEvent_1)")


def rule_conditions(doc: Doc):
    for cond in doc.root.xpath(".//bpmn:conditionExpression | .//bpmn:completionCondition", namespaces=NS):
        owner = owner_of(cond)
        if cond.get("language") not in (None, "", "juel", "JUEL", "python"):
            yield doc.problem(owner, "expression", f"expression language '{cond.get('language')}' is not supported; "
                              "write the condition as ${...} (Type: Expression in the Modeler)")
            continue
        if cond.get(CAMUNDA + "resource"):
            yield doc.problem(owner, "expression", "external expression resources are not supported")
            continue
        if (cond.text or "").strip():
            yield from check_expression(doc.file, owner, cond.text, "expression", "condition")
        elif local_name(cond) == "conditionExpression":
            yield doc.problem(owner, "expression", "empty condition: write one like ${decision == 'approve'} or remove it")


def check_timer_value(file, el, kind, text) -> Iterator[dict]:
    text = (text or "").strip()
    if not text:
        yield problem(file, el, "timer", f"empty {kind}: give an ISO 8601 value such as P7D or 2026-12-01")
        return
    if is_wrapped(text):
        yield from check_expression(file, el, text, "timer", kind)
        return
    ok = {"timeCycle": is_iso_cycle, "timeDate": is_iso_date_or_datetime}.get(
        kind, lambda t: is_iso_duration(t) or is_iso_date_or_datetime(t))(text)
    if ok:
        return
    reason = ""
    try:  # the parser of what the value was meant to be says why it is not
        if kind == "timeCycle":
            parse_cycle(text)
        elif kind == "timeDuration" and not text[:1].isdigit():
            parse_duration(text)
        else:  # a timeDate, or a date given as a duration's end
            parse_date_or_datetime(text)
    except TimerValueError as exc:
        reason = f": {exc}"
    yield problem(file, el, "timer", f"{kind} `{text}` is not an ISO 8601 value reformflow understands{reason}. "
                   "Examples: P7D, P1M, PT36H, 2026-12-01, R3/P1D, ${workingDays(15)}")


def rule_timers(doc: Doc):
    for timer in doc.iter("timerEventDefinition"):
        event = owner_of(timer.getparent())
        values = [c for c in timer if local_name(c) in ("timeDuration", "timeDate", "timeCycle")]
        if not values:
            yield doc.problem(event, "timer", "timer without a value: set a duration, a date or a cycle")
        for value in values:
            kind = local_name(value)
            yield from check_timer_value(doc.file, event, kind, value.text)
            if kind != "timeCycle":
                continue
            # SpiffWorkflow repeats a cycle by adding children to the waiting event: only a
            # non-interrupting boundary event (a reminder) behaves as in Camunda.
            if local_name(event) == "boundaryEvent" and event.get("cancelActivity", "true") == "false":
                yield doc.problem(event, "timer", "a repeating timer: each time it fires it starts the path after it "
                                  "(e.g. a reminder task); when the task it is attached to is completed, reminder "
                                  "tasks still open are cancelled (Camunda would leave them open)", "warning")
                continue
            where = {"startEvent": "a timer start event with a cycle would run the whole process several times "
                                   "inside one plan (Camunda starts a new plan per cycle)",
                     "intermediateCatchEvent": "an intermediate timer with a cycle never lets the plan go on",
                     "boundaryEvent": "an interrupting boundary timer with a cycle does not interrupt the task"}
            yield doc.problem(event, "timer", f"timeCycle here is not supported: {where.get(local_name(event), 'cycle')}. "
                              "Cycles (R3/P1D) work on NON-interrupting boundary timers (repeated reminders); "
                              "use timeDuration or timeDate here")


def rule_scripts(doc: Doc):
    for task in doc.iter("scriptTask"):
        script = task.find("bpmn:script", NS)
        if task.get(CAMUNDA + "resource") or script is None or not (script.text or "").strip():
            yield doc.problem(task, "script", "a script task needs an inline script of `name = expression` lines")
            continue
        try:
            compile_script(script.text, FUNCTION_NAMES)
        except ExpressionError as exc:
            yield doc.problem(task, "script", f"script: {exc}")
