"""Deploy-time checks: find, before anything runs, every construct reformflow would fail on.

SpiffWorkflow accepts a Modeler file at parse time and fails mid-process on what it cannot
evaluate; a live plan would be stuck. Each rule here walks the XML (so it can name the element)
and yields problems: file, element id, element name, rule, message, severity.
Deploy refuses on any error; `reformflow check` prints them all.
"""
from __future__ import annotations

from typing import Iterator

from .deadlines import TimerValueError, due_at, is_iso_cycle, is_iso_date_or_datetime, is_iso_duration, parse_duration
from .errors import Invalid
from .expressions import ExpressionError, compile_expression, compile_script, is_wrapped
from .forms import SUPPORTED_CONSTRAINTS, SUPPORTED_TYPES
from .parser import NS, USER_TASK_ATTRIBUTES, parse_files
from .scripting import FUNCTION_NAMES
from .xmlsafe import parse_bpmn_bytes

CAMUNDA = "{" + NS["camunda"] + "}"
RESERVED_IDS = {"Start", "End"}  # collide with SpiffWorkflow's own task names
UNSUPPORTED_ATTRIBUTES = {
    "class": "Java delegate classes cannot run here",
    "delegateExpression": "delegate expressions call Java beans",
    "expression": "camunda:expression calls Java/JUEL methods",
    "resultVariable": "result variables belong to expression/delegate tasks",
    "type": "external tasks need a Camunda worker",
    "topic": "external tasks need a Camunda worker",
    "decisionRef": "DMN decisions are not supported",
    "asyncBefore": None, "asyncAfter": None, "exclusive": None, "jobPriority": None,
}
UNSUPPORTED_EXTENSIONS = {
    "executionListener": "execution listeners run Java or scripts outside the safe language",
    "taskListener": "task listeners run Java or scripts outside the safe language",
    "connector": "connectors call external services",
    "inputOutput": "input/output mappings are not supported; use forms and process variables",
    "script": "external or inline camunda:script is not supported",
}
UNSUPPORTED_ELEMENTS = {
    "serviceTask": "service tasks need Java or external workers",
    "sendTask": "send tasks need Java or external workers",
    "businessRuleTask": "DMN business rule tasks are not supported",
    "complexGateway": "complex gateways are not supported",
    "adHocSubProcess": "ad-hoc subprocesses are not supported",
}


def _problem(file, el, rule, message, severity="error") -> dict:
    return {"file": file, "element_id": el.get("id") if el is not None else None,
            "element_name": el.get("name") if el is not None else None,
            "rule": rule, "message": message, "severity": severity}


def _owner(el):
    """The nearest ancestor (or self) with an id: the element a person would look for."""
    while el is not None and el.get("id") is None:
        el = el.getparent()
    return el


def _check_expression(file, el, text, rule, what) -> Iterator[dict]:
    try:
        compile_expression(text.strip(), FUNCTION_NAMES)
    except ExpressionError as exc:
        yield _problem(file, el, rule, f"{what} `{text.strip()}`: {exc}")


def rule_reserved_ids(file, root):
    for el in root.iter():
        if el.get("id") in RESERVED_IDS:
            yield _problem(file, el, "reserved-id", f"the id '{el.get('id')}' is reserved by the engine; rename it (e.g. StartEvent_1)")


def rule_conditions(file, root):
    for cond in root.xpath(".//bpmn:conditionExpression | .//bpmn:completionCondition", namespaces=NS):
        if cond.get("language") not in (None, "", "juel", "JUEL", "python"):
            yield _problem(file, _owner(cond), "expression", f"expression language '{cond.get('language')}' is not supported")
            continue
        if cond.get(CAMUNDA + "resource"):
            yield _problem(file, _owner(cond), "expression", "external expression resources are not supported")
            continue
        if (cond.text or "").strip():
            yield from _check_expression(file, _owner(cond), cond.text, "expression", "condition")
        elif cond.tag.endswith("conditionExpression"):
            yield _problem(file, _owner(cond), "expression", "empty condition: write one like ${decision == 'approve'} or remove it")


def _check_timer_value(file, el, kind, text) -> Iterator[dict]:
    text = (text or "").strip()
    if not text:
        yield _problem(file, el, "timer", f"empty {kind}: give an ISO 8601 value such as P7D or 2026-12-01")
        return
    if is_wrapped(text):
        yield from _check_expression(file, el, text, "timer", kind)
        return
    ok = {"timeCycle": is_iso_cycle, "timeDate": is_iso_date_or_datetime}.get(
        kind, lambda t: is_iso_duration(t) or is_iso_date_or_datetime(t))(text)
    if ok:
        return
    reason = ""
    try:
        if kind == "timeDuration":
            parse_duration(text)
        else:
            due_at(text, None)
    except (TimerValueError, TypeError, ValueError) as exc:
        reason = f": {exc}"
    yield _problem(file, el, "timer", f"{kind} `{text}` is not an ISO 8601 value reformflow understands{reason}. "
                   "Examples: P7D, P1M, PT36H, 2026-12-01, R3/P1D, ${workingDays(15)}")


def rule_timers(file, root):
    for timer in root.xpath(".//bpmn:timerEventDefinition", namespaces=NS):
        owner = _owner(timer.getparent())
        values = [c for c in timer if c.tag.split("}")[1] in ("timeDuration", "timeDate", "timeCycle")]
        if not values:
            yield _problem(file, owner, "timer", "timer without a value: set a duration, a date or a cycle")
        for value in values:
            yield from _check_timer_value(file, owner, value.tag.split("}")[1], value.text)


def rule_scripts(file, root):
    for task in root.xpath(".//bpmn:scriptTask", namespaces=NS):
        script = task.find("bpmn:script", NS)
        if task.get(CAMUNDA + "resource") or script is None or not (script.text or "").strip():
            yield _problem(file, task, "script", "a script task needs an inline script of `name = expression` lines")
            continue
        try:
            compile_script(script.text, FUNCTION_NAMES)
        except ExpressionError as exc:
            yield _problem(file, task, "script", f"script: {exc}")


def rule_user_tasks(file, root):
    for task in root.xpath(".//bpmn:userTask", namespaces=NS):
        attrs = {a: task.get(CAMUNDA + a) for a in USER_TASK_ATTRIBUTES}
        if not (attrs["assignee"] or attrs["candidateGroups"] or attrs["candidateUsers"]):
            yield _problem(file, task, "assignment", "user task without camunda:assignee, candidateGroups or "
                           "candidateUsers: nobody would find it in an inbox")
        for name in ("assignee", "candidateGroups", "candidateUsers", "priority"):
            value = (attrs[name] or "").strip()
            if "${" in value or "#{" in value:
                if not is_wrapped(value):
                    yield _problem(file, task, "assignment", f"camunda:{name} `{value}`: write either a plain value or one whole ${{...}} expression")
                else:
                    yield from _check_expression(file, task, value, "assignment", f"camunda:{name}")
        priority = (attrs["priority"] or "").strip()
        if priority and not is_wrapped(priority) and not priority.lstrip("-").isdigit():
            yield _problem(file, task, "assignment", f"camunda:priority `{priority}` must be a whole number")
        for name in ("dueDate", "followUpDate"):
            if attrs[name]:
                yield from (dict(p, rule="due-date") for p in _check_timer_value(file, task, "timeDuration", attrs[name]))
        yield from _check_form(file, task)


def _check_form(file, task):
    for field in task.xpath("./bpmn:extensionElements/camunda:formData/camunda:formField", namespaces=NS):
        fid, kind = field.get("id"), field.get("type")
        if not fid or not fid.isidentifier() or fid.startswith("_"):
            yield _problem(file, task, "form", f"form field id '{fid}' must be a plain variable name (letters, digits, _)")
        if kind not in SUPPORTED_TYPES:
            yield _problem(file, task, "form", f"form field '{fid}' has type '{kind}'; supported: {', '.join(SUPPORTED_TYPES)}")
        if kind == "enum" and not field.xpath("./camunda:value", namespaces=NS):
            yield _problem(file, task, "form", f"enum form field '{fid}' has no values")
        for constraint in field.xpath("./camunda:validation/camunda:constraint", namespaces=NS):
            name = constraint.get("name")
            if name not in SUPPORTED_CONSTRAINTS:
                yield _problem(file, task, "form", f"form field '{fid}': constraint '{name}' is not supported; "
                               f"supported: {', '.join(SUPPORTED_CONSTRAINTS)}")
            elif name in ("min", "max", "minlength", "maxlength") and kind != "date":
                if not (constraint.get("config") or "").strip().lstrip("-").isdigit():
                    yield _problem(file, task, "form", f"form field '{fid}': constraint '{name}' needs a whole-number config")


def rule_multi_instance(file, root):
    for loop in root.xpath(".//bpmn:multiInstanceLoopCharacteristics", namespaces=NS):
        owner = _owner(loop.getparent())
        collection = loop.get(CAMUNDA + "collection")
        if collection:
            yield from _check_expression(file, owner, collection, "multi-instance", "camunda:collection")
        cardinality = loop.find("bpmn:loopCardinality", NS)
        if cardinality is not None and (cardinality.text or "").strip():
            yield from _check_expression(file, owner, cardinality.text, "multi-instance", "loopCardinality")
        element_variable = loop.get(CAMUNDA + "elementVariable")
        if element_variable and (not element_variable.isidentifier() or element_variable.startswith("_")):
            yield _problem(file, owner, "multi-instance", f"camunda:elementVariable '{element_variable}' must be a plain variable name")


def rule_unsupported(file, root):
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        local = el.tag.split("}")[-1]
        if el.tag.startswith("{" + NS["bpmn"] + "}") and local in UNSUPPORTED_ELEMENTS:
            yield _problem(file, el, "unsupported", f"{local}: {UNSUPPORTED_ELEMENTS[local]}")
        for attr, value in el.attrib.items():
            if attr.startswith(CAMUNDA) and UNSUPPORTED_ATTRIBUTES.get(attr[len(CAMUNDA):]):
                name = attr[len(CAMUNDA):]
                yield _problem(file, el, "unsupported", f"camunda:{name}=\"{value}\": {UNSUPPORTED_ATTRIBUTES[name]}")
        if el.tag.startswith(CAMUNDA) and local in UNSUPPORTED_EXTENSIONS:
            yield _problem(file, _owner(el), "unsupported", f"camunda:{local}: {UNSUPPORTED_EXTENSIONS[local]}")


RULES = [rule_reserved_ids, rule_conditions, rule_timers, rule_scripts, rule_user_tasks,
         rule_multi_instance, rule_unsupported]


def check_processes(files: list[tuple[str, bytes]]) -> list[dict]:
    """Every problem in these files (parsed XML must already be well-formed)."""
    problems = []
    for file_name, data in files:
        root = parse_bpmn_bytes(data, file_name).getroot()
        for rule in RULES:
            problems.extend(rule(file_name, root))
    return problems


def check_files(files: list[tuple[str, bytes]]) -> list[dict]:
    """Like check_processes, but XML and schema errors become problems instead of exceptions."""
    problems = []
    readable = []
    for file_name, data in files:
        try:
            parse_bpmn_bytes(data, file_name)
            readable.append((file_name, data))
        except Invalid as exc:
            problems.append({"file": file_name, "element_id": None, "element_name": None,
                             "rule": "xml", "message": exc.message, "severity": "error"})
    if readable:
        try:
            parse_files(readable)
        except Invalid as exc:
            problems.append({"file": readable[0][0] if len(readable) == 1 else None, "element_id": None,
                             "element_name": None, "rule": "bpmn", "message": exc.message, "severity": "error"})
    problems.extend(check_processes(readable))
    return problems
