"""User tasks and forms: assignment, priority and due dates, form fields, start forms, untyped tasks."""
from __future__ import annotations

from ..deadlines import is_iso_date_or_datetime
from ..expressions import is_wrapped
from ..forms import SUPPORTED_CONSTRAINTS, SUPPORTED_TYPES
from ..parser import USER_TASK_ATTRIBUTES
from .common import CAMUNDA, NS, Doc, check_expression, local_name
from .expressions import check_timer_value

def rule_user_tasks(doc: Doc):
    for task in doc.iter("userTask"):
        attrs = {a: task.get(CAMUNDA + a) for a in USER_TASK_ATTRIBUTES}
        if not ((attrs["assignee"] or "").strip() or (attrs["candidateGroups"] or "").strip()
                or (attrs["candidateUsers"] or "").strip()):
            yield doc.problem(task, "assignment", "user task without camunda:assignee, candidateGroups or "
                              "candidateUsers: nobody would find it in an inbox")
        for name in ("assignee", "candidateGroups", "candidateUsers", "priority"):
            value = (attrs[name] or "").strip()
            if "${" in value or "#{" in value:
                if not is_wrapped(value):
                    yield doc.problem(task, "assignment", f"camunda:{name} `{value}`: write either a plain value or one whole ${{...}} expression")
                else:
                    yield from check_expression(doc.file, task, value, "assignment", f"camunda:{name}")
        priority = (attrs["priority"] or "").strip()
        if priority and not is_wrapped(priority) and not priority.lstrip("-").isdigit():
            yield doc.problem(task, "assignment", f"camunda:priority `{priority}` must be a whole number")
        for name in ("dueDate", "followUpDate"):
            if attrs[name]:
                yield from (dict(p, rule="due-date", message=f"camunda:{name}: {p['message']}")
                            for p in check_timer_value(doc.file, task, "timeDuration", attrs[name]))
        yield from _check_form(doc, task)


def _check_form(doc: Doc, task):
    seen = set()
    for form in task.xpath("./bpmn:extensionElements/camunda:formData[@businessKey]", namespaces=NS):
        yield doc.problem(task, "form", f"camunda:formData businessKey=\"{form.get('businessKey')}\": 不支持 (not "
                          "supported; the business key is given when starting the plan: reformflow start --business-key)")
    for field in task.xpath("./bpmn:extensionElements/camunda:formData/camunda:formField", namespaces=NS):
        fid, kind = field.get("id"), field.get("type")
        default = field.get("defaultValue") or ""
        if "${" in default or "#{" in default:
            yield doc.problem(task, "form", f"form field '{fid}': defaultValue `{default}` 中的表达式不会求值 (expressions "
                              "in default values are not evaluated; write a literal value)")
        if not fid or not fid.isidentifier() or fid.startswith("_"):
            yield doc.problem(task, "form", f"form field id '{fid}' must be a plain variable name (letters, digits, _)")
        elif fid in seen:
            yield doc.problem(task, "form", f"form field id '{fid}' appears twice on this form")
        seen.add(fid)
        if kind not in SUPPORTED_TYPES:
            yield doc.problem(task, "form", f"form field '{fid}' has type '{kind}'; supported: {', '.join(SUPPORTED_TYPES)}")
        if kind == "enum" and not field.xpath("./camunda:value", namespaces=NS):
            yield doc.problem(task, "form", f"enum form field '{fid}' has no values")
        if kind == "enum" and field.get("defaultValue") and field.get("defaultValue") not in field.xpath(
                "./camunda:value/@id", namespaces=NS):
            yield doc.problem(task, "form", f"enum form field '{fid}': default '{field.get('defaultValue')}' is not one of its values")
        for constraint in field.xpath("./camunda:validation/camunda:constraint", namespaces=NS):
            name = constraint.get("name")
            if name not in SUPPORTED_CONSTRAINTS:
                yield doc.problem(task, "form", f"form field '{fid}': constraint '{name}' is not supported; "
                                  f"supported: {', '.join(SUPPORTED_CONSTRAINTS)}")
            elif name in ("min", "max", "minlength", "maxlength"):
                config = (constraint.get("config") or "").strip()
                computed = name in ("min", "max") and kind in ("date", "long")  # may be ${...}, checked on submit
                if computed and ("${" in config or "#{" in config):
                    if not is_wrapped(config):
                        yield doc.problem(task, "form", f"form field '{fid}': constraint '{name}' `{config}`: write "
                                          "either a plain value or one whole ${...} expression")
                    else:
                        yield from check_expression(doc.file, task, config, "form",
                                                    f"form field '{fid}': constraint '{name}'")
                elif kind == "date":
                    if not is_iso_date_or_datetime(config) or len(config) != 10:
                        yield doc.problem(task, "form", f"form field '{fid}': constraint '{name}' needs a date like "
                                          "2026-01-01, or an expression like ${issueDate} or ${today()}")
                elif not config.lstrip("-").isdigit():
                    yield doc.problem(task, "form", f"form field '{fid}': constraint '{name}' needs a whole-number config"
                                      + (", or an expression like ${maxDays}" if computed else ""))


def rule_start_forms(doc: Doc):
    """A start event's camunda:formData is the start form: `start --data` is validated against it."""
    for start in doc.iter("startEvent"):
        has_form = bool(start.xpath("./bpmn:extensionElements/camunda:formData", namespaces=NS))
        if has_form and (not doc.top_level(start) or doc.definitions(start)):
            yield doc.problem(start, "form", "只有流程的空白开始事件可以带启动表单 (a start form belongs on the "
                              "process's none start event; move the fields to a user task)")
        elif has_form:
            yield from _check_form(doc, start)
        if start.get(CAMUNDA + "formKey"):
            yield doc.problem(start, "form", "camunda:formKey on a start event names a page reformflow does not have; "
                              "describe the start form with Form fields (camunda:formData) instead", "warning")


def rule_task_types(doc: Doc):
    for task in doc.iter("task", "manualTask"):
        kind = "a task without a type" if local_name(task) == "task" else "a manual task"
        yield doc.problem(task, "task-type", f"{kind}: Camunda passes through it at once, reformflow would wait for "
                          "someone to complete it. Make it a user task (wrench icon → User task) with an assignee or "
                          "candidate groups, or remove it")
