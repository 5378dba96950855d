"""Deploy-time checks: find, before anything runs, every construct reformflow would fail on.

SpiffWorkflow accepts a Modeler file at parse time and fails mid-process on what it cannot
evaluate; a live plan would be stuck. Each rule here walks the XML (so it can name the element)
and yields problems: file, element id, element name, rule, message, severity.

* `check_processes(files)` — the Python rules on well-formed files; `Engine.deploy` refuses on
  any error they report.
* `check_files(files)` — what `reformflow check` prints: XML and BPMN schema errors as problems
  (not exceptions), the Python rules, and Camunda Modeler's own lint (bpmnlint with the
  camunda-compat rules, run once for all files through `engine.modeler`). Without Node.js the
  lint is skipped and the report says why.

Every rule and what to do about it is listed for analysts in docs/modeling.md.
"""
from __future__ import annotations

import difflib
import itertools
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from .deadlines import (TimerValueError, due_at, is_iso_cycle, is_iso_date_or_datetime,
                        is_iso_duration, parse_duration)
from .errors import Invalid
from .expressions import (BUILTIN_FUNCTIONS, EvaluationError, ExpressionError, compile_expression, compile_script,
                          is_wrapped)
from .forms import SUPPORTED_CONSTRAINTS, SUPPORTED_TYPES
from .parser import NS, USER_TASK_ATTRIBUTES
from .scripting import FUNCTION_NAMES
from .xmlsafe import parse_bpmn_bytes

BPMN = "{" + NS["bpmn"] + "}"
CAMUNDA = "{" + NS["camunda"] + "}"
RESERVED_IDS = {"Start", "End"}  # collide with SpiffWorkflow's own task names
SEVERITIES = ("error", "warning", "info")

UNSUPPORTED_ATTRIBUTES = {
    "class": "Java delegate classes cannot run here",
    "delegateExpression": "delegate expressions call Java beans",
    "expression": "camunda:expression calls Java/JUEL methods",
    "resultVariable": "result variables belong to expression/delegate tasks",
    "type": "external tasks need a Camunda worker",
    "topic": "external tasks need a Camunda worker",
    "decisionRef": "DMN decisions are not supported",
    "formRef": "Camunda Forms (camunda:formRef) are not rendered by reformflow; use generated task forms "
               "(Forms → Type: Generated Task Forms, i.e. camunda:formData)",
    "errorCodeVariable": "reformflow does not set error code variables; branch on a form field instead",
    "errorMessageVariable": "reformflow does not set error message variables; branch on a form field instead",
    "escalationCodeVariable": "reformflow does not set escalation code variables",
    "caseRef": "CMMN cases are not supported",
    "variableMappingClass": "variable mapping classes run Java",
    "variableMappingDelegateExpression": "variable mapping delegates run Java",
    "formHandlerClass": "form handler classes run Java; use generated task forms (camunda:formData)",
}
# Camunda attributes and extensions that change nothing here: reported as info, by name, so an
# analyst knows they are read and ignored (reformflow has no job executor and no version tags).
IGNORED_ATTRIBUTES = {
    "asyncBefore": "reformflow has no job executor: every step runs in the action that reaches it",
    "asyncAfter": "reformflow has no job executor: every step runs in the action that reaches it",
    "exclusive": "reformflow has no job executor",
    "jobPriority": "reformflow has no job executor",
    "taskPriority": "external task priorities belong to external tasks, which are not supported",
    "versionTag": "reformflow numbers versions itself (version n+1 on each changed deploy)",
    "isStartableInTasklist": "plans are started with `reformflow start`",
    "async": "reformflow has no job executor (camunda:async is the old name of asyncBefore)",
    "errorMessage": "errors are matched by their code; the message is not passed to the plan",
    "modelerTemplate": "element templates are Modeler metadata",
    "modelerTemplateVersion": "element templates are Modeler metadata",
}
# Honoured, or checked by a rule of their own: no message from the attribute scan.
KNOWN_ATTRIBUTES = {"assignee", "candidateGroups", "candidateUsers", "dueDate", "followUpDate", "priority", "formKey",
                    "initiator", "collection", "elementVariable", "calledElementBinding", "calledElementVersion",
                    "calledElementVersionTag", "calledElementTenantId", "candidateStarterGroups",
                    "candidateStarterUsers", "resource",
                    # details of constructs refused by name already: one message is enough
                    "decisionRefBinding", "decisionRefVersion", "decisionRefVersionTag", "decisionRefTenantId",
                    "mapDecisionResult", "caseBinding", "caseVersion", "caseTenantId", "variableName",
                    "variableEvents", "formRefBinding", "formRefVersion",
                    # required by Camunda 7.20+, which the Modeler lint asks for; ignored here (docs §1)
                    "historyTimeToLive"}
UNSUPPORTED_EXTENSIONS = {
    "executionListener": "execution listeners run Java or scripts outside the safe language",
    "taskListener": "task listeners run Java or scripts outside the safe language",
    "connector": "connectors call external services",
    "inputOutput": "input/output mappings are not supported; use forms and process variables",
    "script": "external or inline camunda:script is not supported",
    "field": "field injection configures Java delegates, which cannot run here",
    "potentialStarter": "start permission is given with camunda:candidateStarterGroups / candidateStarterUsers "
                        "on the process (Process → Candidate starter groups / users)",
    "errorEventDefinition": "error event definitions on external tasks need a Camunda worker",
}
IGNORED_EXTENSIONS = {"failedJobRetryTimeCycle": "reformflow has no job executor, so no job is retried"}
# camunda: elements that are honoured (forms, properties, call-activity mappings) or nested inside
# one that is refused by name.
KNOWN_EXTENSIONS = {"formData", "formField", "validation", "constraint", "value", "properties", "property",
                    "in", "out", "inputParameter", "outputParameter", "list", "map", "entry", "string",
                    "expression", "connectorId"}
UNSUPPORTED_ELEMENTS = {
    "serviceTask": "service tasks need Java or external workers",
    "sendTask": "send tasks need Java or external workers",
    "businessRuleTask": "DMN business rule tasks are not supported",
    "receiveTask": "receive tasks cannot be stored by the engine; use a message intermediate catch event "
                   "(the round event with an envelope) instead",
    "complexGateway": "complex gateways are not supported",
    "adHocSubProcess": "ad-hoc subprocesses are not supported",
    "transaction": "transaction subprocesses are not supported; use an ordinary subprocess",
    "standardLoopCharacteristics": "loop activities are not supported; draw the loop back with an exclusive gateway",
    "dataOutputAssociation": "writing to a data object is not supported (the task would fail when it completes); "
                             "remove the arrow from the task to the data object — the data object itself may stay",
    "linkEventDefinition": "link events do not run (the plan would stop at the link); connect the sequence flow directly",
    "compensateEventDefinition": "compensation is not supported",
    "conditionalEventDefinition": "conditional events are not supported; use a gateway condition or a message",
    "cancelEventDefinition": "cancel events belong to transactions, which are not supported",
}
EVENT_DEFINITIONS = ("messageEventDefinition", "signalEventDefinition", "timerEventDefinition",
                     "errorEventDefinition", "escalationEventDefinition", "terminateEventDefinition",
                     "linkEventDefinition", "compensateEventDefinition", "conditionalEventDefinition",
                     "cancelEventDefinition")
FLOW_NODES = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
              "task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
              "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess",
              "exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway"}
SCOPES = {"process", "subProcess", "transaction", "adHocSubProcess"}
ACTIVITIES_THAT_THROW = {"subProcess", "callActivity", "transaction"}
MULTI_INSTANCE_HOSTS = {"userTask", "subProcess"}
# Camunda's built-in expression objects and multi-instance variables: they do not exist here.
CAMUNDA_BUILTINS = {
    "execution": "Camunda's `execution` object does not exist in reformflow; use process variables "
                 "(businessKey, initiator, title or form fields)",
    "task": "Camunda's `task` object does not exist in reformflow",
    "authenticatedUserId": "authenticatedUserId is not provided; use the start event's camunda:initiator variable",
    "nrOfInstances": "Camunda's multi-instance counters are not provided by reformflow",
    "nrOfActiveInstances": "Camunda's multi-instance counters are not provided by reformflow",
    "nrOfCompletedInstances": "Camunda's multi-instance counters are not provided by reformflow",
    "loopCounter": "Camunda's loopCounter is not provided by reformflow",
}
# Variables the engine itself sets (engine/commands.py start(), engine/events.py).
ENGINE_VARIABLES = {"title", "businessKey", "initiator", "lastMessage"}
MAX_COMBINATIONS = 256  # gateway coverage: how many value combinations are tried at most
_ASSIGNMENT = re.compile(r"\s*([^\W\d]\w*)\s*=(?!=)(.*)\Z", re.DOTALL)  # a script line, as in expressions.py
_STARTER_NAME = re.compile(r"[\w.@-]+\Z")


@dataclass
class CheckReport:
    """What `reformflow check` found. `modeler_lint` is "ran" or "skipped: <reason>"."""
    problems: list[dict] = field(default_factory=list)
    modeler_lint: str = "skipped: not requested"

    @property
    def errors(self) -> list[dict]:
        return [p for p in self.problems if p["severity"] == "error"]

    @property
    def warnings(self) -> list[dict]:
        return [p for p in self.problems if p["severity"] == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict:
        return {"problems": self.problems, "errors": len(self.errors), "warnings": len(self.warnings),
                "infos": len(self.problems) - len(self.errors) - len(self.warnings),
                "modeler_lint": self.modeler_lint}


def _local(el) -> str:
    return el.tag.split("}")[-1] if isinstance(el.tag, str) else ""


def _is_bpmn(el, *names) -> bool:
    return isinstance(el.tag, str) and el.tag.startswith(BPMN) and (not names or _local(el) in names)


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
        expression = compile_expression(text.strip(), FUNCTION_NAMES)
    except ExpressionError as exc:
        yield _problem(file, el, rule, f"{what} `{text.strip()}`: {exc}")
        return
    for name in sorted(expression.names & CAMUNDA_BUILTINS.keys()):
        yield _problem(file, el, rule, f"{what} `{text.strip()}`: {CAMUNDA_BUILTINS[name]}")


class _Doc:
    """One parsed file plus the indexes the structural rules share."""

    def __init__(self, file: str, root, process_keys: set[str], deployed_keys: set[str] | None,
                 variables: set[str] | None = None):
        self.file, self.root = file, root
        self.process_keys = process_keys          # executable processes in this set of files
        self.deployed_keys = deployed_keys        # None: no database to look in (a warning, not an error)
        # every variable something in this set of files sets: one namespace, as call activities
        # pass all variables both ways
        self.variables = _variables_set([root]) if variables is None else variables
        self.domains = _domains(root)
        self.by_id = {el.get("id"): el for el in root.iter() if _is_bpmn(el) and el.get("id")}
        self.flows = [el for el in root.iter(BPMN + "sequenceFlow")]
        self.outgoing: dict[str, list] = {}
        self.incoming: dict[str, list] = {}
        for flow in self.flows:
            self.outgoing.setdefault(flow.get("sourceRef"), []).append(flow)
            self.incoming.setdefault(flow.get("targetRef"), []).append(flow)

    def problem(self, el, rule, message, severity="error") -> dict:
        return _problem(self.file, el, rule, message, severity)

    def iter(self, *names):
        for el in self.root.iter():
            if _is_bpmn(el, *names):
                yield el

    @staticmethod
    def definitions(event) -> list:
        return [c for c in event if _is_bpmn(c, *EVENT_DEFINITIONS)]

    def top_level(self, el) -> bool:
        """True if el sits directly in a bpmn:process (not in a subprocess)."""
        return _is_bpmn(el.getparent(), "process")


# --------------------------------------------------------------------------- variables

def _script_lines(text: str) -> Iterator[tuple[str, str]]:
    """(target, expression source) per `name = expression` line of a script task."""
    for line in (text or "").splitlines():
        match = _ASSIGNMENT.match(line)
        if match and not line.strip().startswith("#"):
            yield match.group(1), match.group(2).strip()


def _plain_name(text: str | None) -> str | None:
    text = (text or "").strip()
    return text if text.isidentifier() else None


def _variables_set(roots: Iterable) -> set[str]:
    """Every variable name something in these files sets, plus the engine's own and the
    expression language's function names."""
    names = set(ENGINE_VARIABLES) | set(BUILTIN_FUNCTIONS) | set(FUNCTION_NAMES)
    for root in roots:
        names.update(root.xpath(".//camunda:formField/@id", namespaces=NS))
        names.update(root.xpath("./bpmn:process/bpmn:extensionElements/camunda:properties/camunda:property/@name",
                                namespaces=NS))
        for attr in ("initiator", "elementVariable", "collection"):
            names.update(filter(None, map(_plain_name, root.xpath(f".//@camunda:{attr}", namespaces=NS))))
        # a data input association sets a variable named after the data object (value null)
        names.update(root.xpath(".//bpmn:dataObject/@id | .//bpmn:dataObjectReference/@id", namespaces=NS))
        for script in root.xpath(".//bpmn:scriptTask/bpmn:script", namespaces=NS):
            names.update(target for target, _ in _script_lines(script.text))
    return names


def _domains(root) -> dict[str, tuple]:
    """The values a variable can hold, where the form fields of this file fix them: an enum's
    value ids, true/false for a boolean; null too unless every field of that name is required or
    has a default. A name that is also a string/long/date field or is set otherwise is left out."""
    domains: dict[str, list] = {}
    unknown = set(root.xpath(".//@camunda:elementVariable | .//@camunda:initiator | ./bpmn:process/bpmn:extensionElements"
                             "/camunda:properties/camunda:property/@name", namespaces=NS))
    for script in root.xpath(".//bpmn:scriptTask/bpmn:script", namespaces=NS):
        unknown.update(target for target, _ in _script_lines(script.text))
    for field in root.xpath(".//camunda:formField", namespaces=NS):
        fid, kind = field.get("id"), field.get("type")
        if kind == "enum":
            values = list(field.xpath("./camunda:value/@id", namespaces=NS))
        elif kind == "boolean":
            values = [True, False]
        else:
            unknown.add(fid)
            continue
        required = field.xpath("./camunda:validation/camunda:constraint[@name='required']", namespaces=NS)
        if not required and field.get("defaultValue") in (None, ""):
            values.append(None)  # left empty on the form: the variable is null
        domain = domains.setdefault(fid, [])
        domain.extend(v for v in values if v not in domain)
    return {name: tuple(values) for name, values in domains.items() if name not in unknown}


def _read_sites(doc: "_Doc") -> Iterator[tuple[object, str, str]]:
    """(element, what, expression text) for every expression in the file that reads variables."""
    for cond in doc.root.xpath(".//bpmn:conditionExpression | .//bpmn:completionCondition", namespaces=NS):
        if (cond.text or "").strip() and cond.get("language") in (None, "", "juel", "JUEL", "python"):
            yield _owner(cond), "condition", cond.text.strip()
    for card in doc.root.xpath(".//bpmn:loopCardinality", namespaces=NS):
        if (card.text or "").strip():
            yield _owner(card), "loopCardinality", card.text.strip()
    for value in doc.root.xpath(".//bpmn:timerEventDefinition/*", namespaces=NS):
        if is_wrapped(value.text or ""):
            yield _owner(value.getparent().getparent()), _local(value), value.text.strip()
    for task in doc.iter("userTask"):
        for name in ("assignee", "candidateGroups", "candidateUsers", "priority", "dueDate", "followUpDate"):
            value = (task.get(CAMUNDA + name) or "").strip()
            if is_wrapped(value):
                yield task, f"camunda:{name}", value
    for task in doc.iter("scriptTask"):
        script = task.find("bpmn:script", NS)
        if script is not None:
            for target, source in _script_lines(script.text):
                yield task, f"script line `{target} = …`", source


def rule_undefined_variables(doc: _Doc):
    """A variable read that nothing in the files sets: a typo fails only when the plan gets there."""
    reported = set()
    for el, what, text in _read_sites(doc):
        try:
            names = compile_expression(text, FUNCTION_NAMES).names
        except ExpressionError:
            continue  # refused by the expression rules already
        for name in sorted(names - doc.variables - CAMUNDA_BUILTINS.keys()):
            if (el.get("id"), name) in reported:
                continue
            reported.add((el.get("id"), name))
            pool = sorted(doc.variables - BUILTIN_FUNCTIONS.keys() - FUNCTION_NAMES)
            close = difflib.get_close_matches(name, pool, n=1)
            hint = f"；是否应为 {close[0]}？(did you mean {close[0]}?)" if close else ""
            yield doc.problem(el, "variable", f"{what} `{text}` 读取的变量 {name} 在这些文件中无处设置 (reads the "
                              f"variable '{name}', which nothing in these files sets: no form field, script, "
                              "initiator, multi-instance element variable or process property; a variable from a "
                              f"calling process is known when its file is checked too: reformflow check bpmn/*.bpmn)"
                              f"{hint}", "warning")


# --------------------------------------------------------------------------- expressions

def rule_reserved_ids(doc: _Doc):
    for el in doc.root.iter():
        if el.get("id") in RESERVED_IDS:
            yield doc.problem(el, "reserved-id", f"the id '{el.get('id')}' is reserved by the engine; rename it (e.g. StartEvent_1)")


def rule_conditions(doc: _Doc):
    for cond in doc.root.xpath(".//bpmn:conditionExpression | .//bpmn:completionCondition", namespaces=NS):
        owner = _owner(cond)
        if cond.get("language") not in (None, "", "juel", "JUEL", "python"):
            yield doc.problem(owner, "expression", f"expression language '{cond.get('language')}' is not supported; "
                              "write the condition as ${...} (Type: Expression in the Modeler)")
            continue
        if cond.get(CAMUNDA + "resource"):
            yield doc.problem(owner, "expression", "external expression resources are not supported")
            continue
        if (cond.text or "").strip():
            yield from _check_expression(doc.file, owner, cond.text, "expression", "condition")
        elif _local(cond) == "conditionExpression":
            yield doc.problem(owner, "expression", "empty condition: write one like ${decision == 'approve'} or remove it")


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


def rule_timers(doc: _Doc):
    for timer in doc.iter("timerEventDefinition"):
        event = _owner(timer.getparent())
        values = [c for c in timer if _local(c) in ("timeDuration", "timeDate", "timeCycle")]
        if not values:
            yield doc.problem(event, "timer", "timer without a value: set a duration, a date or a cycle")
        for value in values:
            kind = _local(value)
            yield from _check_timer_value(doc.file, event, kind, value.text)
            if kind != "timeCycle":
                continue
            # SpiffWorkflow repeats a cycle by adding children to the waiting event: only a
            # non-interrupting boundary event (a reminder) behaves as in Camunda.
            if _local(event) == "boundaryEvent" and event.get("cancelActivity", "true") == "false":
                yield doc.problem(event, "timer", "a repeating timer: each time it fires it starts the path after it "
                                  "(e.g. a reminder task); when the task it is attached to is completed, reminder "
                                  "tasks still open are cancelled (Camunda would leave them open)", "warning")
                continue
            where = {"startEvent": "a timer start event with a cycle would run the whole process several times "
                                   "inside one plan (Camunda starts a new plan per cycle)",
                     "intermediateCatchEvent": "an intermediate timer with a cycle never lets the plan go on",
                     "boundaryEvent": "an interrupting boundary timer with a cycle does not interrupt the task"}
            yield doc.problem(event, "timer", f"timeCycle here is not supported: {where.get(_local(event), 'cycle')}. "
                              "Cycles (R3/P1D) work on NON-interrupting boundary timers (repeated reminders); "
                              "use timeDuration or timeDate here")


def rule_scripts(doc: _Doc):
    for task in doc.iter("scriptTask"):
        script = task.find("bpmn:script", NS)
        if task.get(CAMUNDA + "resource") or script is None or not (script.text or "").strip():
            yield doc.problem(task, "script", "a script task needs an inline script of `name = expression` lines")
            continue
        try:
            compile_script(script.text, FUNCTION_NAMES)
        except ExpressionError as exc:
            yield doc.problem(task, "script", f"script: {exc}")


# --------------------------------------------------------------------------- user tasks and forms

def rule_user_tasks(doc: _Doc):
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
                    yield from _check_expression(doc.file, task, value, "assignment", f"camunda:{name}")
        priority = (attrs["priority"] or "").strip()
        if priority and not is_wrapped(priority) and not priority.lstrip("-").isdigit():
            yield doc.problem(task, "assignment", f"camunda:priority `{priority}` must be a whole number")
        for name in ("dueDate", "followUpDate"):
            if attrs[name]:
                yield from (dict(p, rule="due-date", message=f"camunda:{name}: {p['message']}")
                            for p in _check_timer_value(doc.file, task, "timeDuration", attrs[name]))
        yield from _check_form(doc, task)


def _check_form(doc: _Doc, task):
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
                if kind == "date":
                    if not is_iso_date_or_datetime(config) or len(config) != 10:
                        yield doc.problem(task, "form", f"form field '{fid}': constraint '{name}' needs a date like 2026-01-01")
                elif not config.lstrip("-").isdigit():
                    yield doc.problem(task, "form", f"form field '{fid}': constraint '{name}' needs a whole-number config")


def rule_start_forms(doc: _Doc):
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


def rule_task_types(doc: _Doc):
    for task in doc.iter("task", "manualTask"):
        kind = "a task without a type" if _local(task) == "task" else "a manual task"
        yield doc.problem(task, "task-type", f"{kind}: Camunda passes through it at once, reformflow would wait for "
                          "someone to complete it. Make it a user task (wrench icon → User task) with an assignee or "
                          "candidate groups, or remove it")


# --------------------------------------------------------------------------- multi-instance

def rule_multi_instance(doc: _Doc):
    for loop in doc.iter("multiInstanceLoopCharacteristics"):
        owner = _owner(loop.getparent())
        if _local(owner) not in MULTI_INSTANCE_HOSTS:
            yield doc.problem(owner, "multi-instance", f"multi-instance {_local(owner)}s are not supported; "
                              "multi-instance works on user tasks and subprocesses")
        collection = (loop.get(CAMUNDA + "collection") or "").strip()
        cardinality = loop.find("bpmn:loopCardinality", NS)
        has_cardinality = cardinality is not None and (cardinality.text or "").strip()
        if collection:
            if is_wrapped(collection) or not collection.isidentifier() or collection.startswith("_"):
                bare = collection[2:-1].strip() if is_wrapped(collection) else ""
                hint = f"write camunda:collection=\"{bare}\"" if bare.isidentifier() else \
                    "store the list in a variable first (e.g. a form field) and name that variable"
                yield doc.problem(owner, "multi-instance", f"camunda:collection `{collection}`: reformflow reads the "
                                  f"collection from a variable by name; {hint}")
            if not (loop.get(CAMUNDA + "elementVariable") or "").strip():
                yield doc.problem(owner, "multi-instance", "camunda:collection without camunda:elementVariable: "
                                  "name the variable each instance gets (e.g. department)")
        elif not has_cardinality:
            yield doc.problem(owner, "multi-instance", "multi-instance needs camunda:collection (a list variable) "
                              "or a loop cardinality")
        if has_cardinality:
            yield from _check_expression(doc.file, owner, cardinality.text, "multi-instance", "loopCardinality")
        element_variable = loop.get(CAMUNDA + "elementVariable")
        if element_variable and (not element_variable.isidentifier() or element_variable.startswith("_")):
            yield doc.problem(owner, "multi-instance", f"camunda:elementVariable '{element_variable}' must be a plain variable name")


# --------------------------------------------------------------------------- unsupported things

def rule_unsupported(doc: _Doc):
    for el in doc.root.iter():
        if not isinstance(el.tag, str):
            continue
        local = _local(el)
        if el.tag.startswith(BPMN) and local in UNSUPPORTED_ELEMENTS:
            target = _owner(el.getparent()) if local.endswith(("EventDefinition", "Characteristics", "Association")) else el
            yield doc.problem(target, "unsupported", f"{local}: {UNSUPPORTED_ELEMENTS[local]}")
        if el.tag.startswith(BPMN) and local == "subProcess" and el.get("triggeredByEvent") == "true":
            yield doc.problem(el, "unsupported", "event subprocesses are not supported (messages do not reach them); "
                              "use a boundary event on the activity instead")
        if el.tag.startswith(BPMN) and local == "dataInputAssociation":
            sources = [doc.by_id.get((ref.text or "").strip()) for ref in el.findall("bpmn:sourceRef", NS)]
            if any(src is not None and _local(src) == "dataStoreReference" for src in sources):
                yield doc.problem(_owner(el.getparent()), "unsupported", "reading from a data store is not supported "
                                  "(the engine cannot resolve it); remove the arrow — the data store itself may stay")
        if el.tag.startswith(BPMN) and el.get("isForCompensation") == "true":
            yield doc.problem(el, "unsupported", "compensation handlers are not supported")
        for attr, value in el.attrib.items():
            if not attr.startswith(CAMUNDA):
                continue
            name = attr[len(CAMUNDA):]
            if name in UNSUPPORTED_ATTRIBUTES:
                yield doc.problem(el, "unsupported", f"camunda:{name}=\"{value}\": {UNSUPPORTED_ATTRIBUTES[name]}")
            elif name in IGNORED_ATTRIBUTES:
                yield doc.problem(el, "unsupported", f"camunda:{name} 被忽略 (camunda:{name} is ignored: "
                                  f"{IGNORED_ATTRIBUTES[name]})", "info")
            elif name not in KNOWN_ATTRIBUTES:
                yield doc.problem(el, "unsupported", f"camunda:{name} 未知，被忽略 (camunda:{name} is not an attribute "
                                  f"reformflow knows; it does nothing here){_did_you_mean(name, KNOWN_ATTRIBUTES)}",
                                  "warning")
        if el.tag.startswith(CAMUNDA) and not _inside_refused_extension(el):
            if local in UNSUPPORTED_EXTENSIONS:
                yield doc.problem(_owner(el), "unsupported", f"camunda:{local}: {UNSUPPORTED_EXTENSIONS[local]}")
            elif local in IGNORED_EXTENSIONS:
                yield doc.problem(_owner(el), "unsupported", f"camunda:{local} 被忽略 (camunda:{local} is ignored: "
                                  f"{IGNORED_EXTENSIONS[local]})", "info")
            elif local not in KNOWN_EXTENSIONS:
                yield doc.problem(_bpmn_owner(el), "unsupported", f"camunda:{local} 未知，被忽略 (camunda:{local} is not an "
                                  f"element reformflow knows; it does nothing here)"
                                  f"{_did_you_mean(local, KNOWN_EXTENSIONS)}", "warning")


def _bpmn_owner(el):
    """The nearest BPMN element with an id (a form field's id is not an element in the Modeler)."""
    while el is not None and not (_is_bpmn(el) and el.get("id")):
        el = el.getparent()
    return el


def _did_you_mean(name: str, known) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f"；是否应为 camunda:{close[0]}？(did you mean camunda:{close[0]}?)" if close else ""


def _inside_refused_extension(el) -> bool:
    """True under a camunda: element refused by name: that one message is enough."""
    parent = el.getparent()
    while parent is not None:
        if isinstance(parent.tag, str) and parent.tag.startswith(CAMUNDA) and _local(parent) in UNSUPPORTED_EXTENSIONS:
            return True
        parent = parent.getparent()
    return False


def rule_start_permission(doc: _Doc):
    """candidateStarterGroups / Users: the engine checks them when a plan starts, so they must be
    plain comma lists of group or user names (no expressions: nothing is evaluated at start)."""
    for process in doc.iter("process"):
        for name in ("candidateStarterGroups", "candidateStarterUsers"):
            value = process.get(CAMUNDA + name)
            if value is None or not value.strip():
                continue
            if "${" in value or "#{" in value:
                yield doc.problem(process, "start-permission", f"camunda:{name} `{value}`: 须为名称列表，不能用表达式 "
                                  "(must be a comma list of names such as `reform_office, legal`; expressions are not "
                                  "evaluated)")
                continue
            bad = [part.strip() for part in value.split(",") if not _STARTER_NAME.match(part.strip())]
            if bad:
                shown = ", ".join(f"`{b}`" for b in bad)
                yield doc.problem(process, "start-permission", f"camunda:{name} `{value}`: {shown} 不是名称 (not a "
                                  "name; write names separated by commas, such as `reform_office, legal`)")


# --------------------------------------------------------------------------- events

def _named_ref(doc: _Doc, definition, attr: str, kind: str):
    """The bpmn:message / bpmn:signal a definition refers to, with a problem if it has no name."""
    ref = definition.get(attr)
    target = doc.by_id.get(ref) if ref else None
    if target is None or not _is_bpmn(target, kind):
        return None, f"no {kind} chosen: select or create a {kind} (Global {kind} reference) with a name"
    name = (target.get("name") or "").strip()
    if not name:
        return None, f"the {kind} '{ref}' has no name: reformflow matches {kind}s by name"
    if "${" in name or "#{" in name:
        return None, f"the {kind} name '{name}' is an expression; {kind} names must be plain text"
    return target, None


def rule_events(doc: _Doc):
    for event in doc.iter("startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"):
        local = _local(event)
        definitions = doc.definitions(event)
        if len(definitions) > 1:
            yield doc.problem(event, "event", "an event with more than one trigger (multiple / parallel multiple) "
                              "is not supported; use an event-based gateway")
            continue
        kind = _local(definitions[0]) if definitions else None
        if kind == "messageEventDefinition":
            if local in ("intermediateThrowEvent", "endEvent"):
                yield doc.problem(event, "event", "sending a message needs an implementation (Java in Camunda); "
                                  "reformflow plans cannot send messages. Messages come from outside "
                                  "(engine.events.send_message)")
                continue
            _, error = _named_ref(doc, definitions[0], "messageRef", "message")
            if error:
                yield doc.problem(event, "event", error)
        elif kind == "signalEventDefinition":
            if local in ("intermediateThrowEvent", "endEvent"):
                yield doc.problem(event, "event", "a signal thrown by a plan would reach only that plan (Camunda "
                                  "broadcasts it to every plan); signals come from outside (engine.events.send_signal)")
                continue
            _, error = _named_ref(doc, definitions[0], "signalRef", "signal")
            if error:
                yield doc.problem(event, "event", error)
        if local == "startEvent" and kind in ("messageEventDefinition", "signalEventDefinition") and doc.top_level(event):
            what = "message" if kind.startswith("message") else "signal"
            yield doc.problem(event, "event", f"a {what} start event: Camunda starts a new plan per {what}, reformflow "
                              "starts plans with `reformflow start` and the plan would then wait here. Use a none "
                              f"start event, followed by a {what} intermediate catch event if the plan must wait")
        if local == "startEvent" and kind in ("errorEventDefinition", "escalationEventDefinition"):
            yield doc.problem(event, "event", "error and escalation start events belong to event subprocesses, "
                              "which are not supported; use a boundary event")
        if local == "boundaryEvent" and kind in ("errorEventDefinition", "escalationEventDefinition"):
            host = doc.by_id.get(event.get("attachedToRef"))
            if host is not None and _local(host) not in ACTIVITIES_THAT_THROW:
                what = "error" if kind.startswith("error") else "escalation"
                yield doc.problem(event, "event", f"this {what} boundary event can never fire: only a subprocess or "
                                  f"call activity can throw a BPMN {what} in reformflow (no Java code runs). Attach it "
                                  "to the subprocess that ends with the matching end event", "warning")
        if local == "boundaryEvent" and kind is None:
            yield doc.problem(event, "event", "a boundary event needs a trigger (timer, message, signal, error or escalation)")


def rule_event_gateways(doc: _Doc):
    for gateway in doc.iter("eventBasedGateway"):
        flows = doc.outgoing.get(gateway.get("id"), [])
        if len(flows) < 2:
            yield doc.problem(gateway, "event", "an event-based gateway needs at least two outgoing flows, each to an "
                              "intermediate catch event")
        for flow in flows:
            target = doc.by_id.get(flow.get("targetRef"))
            if target is None:
                continue
            definitions = doc.definitions(target)
            kinds = {_local(d) for d in definitions}
            if not _is_bpmn(target, "intermediateCatchEvent") or not kinds & {
                    "messageEventDefinition", "signalEventDefinition", "timerEventDefinition"}:
                yield doc.problem(target, "event", "after an event-based gateway only message, signal or timer "
                                  "intermediate catch events may follow (receive tasks are not supported)")
            elif "timerEventDefinition" in kinds:
                yield doc.problem(target, "event", "a timer after an event-based gateway never fires in reformflow "
                                  "(SpiffWorkflow hides its due time from the timer worker). Put the timer on a "
                                  "boundary event instead, or wait for the message with a boundary timer on a user task")
            if flow.find("bpmn:conditionExpression", NS) is not None:
                yield doc.problem(flow, "gateway", "a flow leaving an event-based gateway cannot have a condition")


# --------------------------------------------------------------------------- gateways and flows

def rule_gateways(doc: _Doc):
    for gateway in doc.iter("exclusiveGateway", "inclusiveGateway", "parallelGateway"):
        gid, local = gateway.get("id"), _local(gateway)
        flows = doc.outgoing.get(gid, [])
        default = gateway.get("default")
        conditioned = {f.get("id") for f in flows if f.find("bpmn:conditionExpression", NS) is not None}
        if local == "parallelGateway":
            for flow in flows:
                if flow.get("id") in conditioned:
                    yield doc.problem(flow, "gateway", "a flow leaving a parallel gateway cannot have a condition: "
                                      "every branch runs. Use an inclusive gateway to choose branches")
            continue
        if default and default not in {f.get("id") for f in flows}:
            yield doc.problem(gateway, "gateway", f"the default flow '{default}' does not leave this gateway")
        if default in conditioned:
            yield doc.problem(doc.by_id.get(default), "gateway", "the default flow must not have a condition: it is "
                              "taken when no other condition holds")
        if len(flows) < 2:
            if default is None and conditioned and local == "exclusiveGateway":
                yield doc.problem(gateway, "gateway", "the only flow leaving this gateway has a condition: when it is "
                                  "false the plan stops here. Add a default flow")
            elif default is None and conditioned:
                yield from _coverage(doc, gateway, flows)
            continue
        missing = [f.get("id") for f in flows if f.get("id") != default and f.get("id") not in conditioned]
        if not missing:
            if default is None:
                yield from _coverage(doc, gateway, flows)
            continue
        names = ", ".join(missing)
        if default is None:
            yield doc.problem(gateway, "gateway", f"this gateway splits without a default flow and without a condition "
                              f"on every outgoing flow (no condition: {names}). Give each flow a condition like "
                              "${decision == 'approve'}, or mark the catch-all flow as default (wrench icon → Default flow)")
        else:
            yield doc.problem(gateway, "gateway", f"flows without a condition that are not the default: {names}. "
                              "Only one flow (the default) may go without a condition")


def _juel(value) -> str:
    return {True: "true", False: "false", None: "null"}.get(value, repr(value)) if not isinstance(value, str) \
        else repr(value)


def _coverage(doc: _Doc, gateway, flows) -> Iterator[dict]:
    """A gateway without a default flow: every case must satisfy some condition, or the plan
    stops there at run time ("No conditions satisfied"). Proven by trying every combination of
    the values the conditions read, where form fields fix them (enum values, true/false)."""
    expressions = []
    for flow in flows:
        text = (flow.find("bpmn:conditionExpression", NS).text or "").strip()
        try:
            expressions.append(compile_expression(text, FUNCTION_NAMES))
        except ExpressionError:
            return  # refused by rule_conditions already
    names = sorted(set().union(*(e.names for e in expressions)))
    if any(e.functions & FUNCTION_NAMES for e in expressions) or names and set(names) & CAMUNDA_BUILTINS.keys():
        reason = "a condition depends on the date or on Camunda objects"
    elif [n for n in names if n not in doc.domains]:
        open_names = ", ".join(n for n in names if n not in doc.domains)
        reason = (f"{open_names}: not an enum or boolean form field of this file, so its values are not known")
    elif _combinations(names, doc.domains) > MAX_COMBINATIONS:
        reason = f"more than {MAX_COMBINATIONS} combinations of values"
    else:
        reason = None
    if reason:
        yield doc.problem(gateway, "gateway", f"网关没有默认流，且无法证明各出口条件覆盖所有情况 (no default flow and the "
                          f"conditions cannot be shown to cover every case: {reason}). 如有遗漏，流程会停在此处；"
                          "请设置默认流 (mark a catch-all flow as default: wrench icon → Default flow)", "warning")
        return
    uncovered = []
    for combination in itertools.product(*(doc.domains[n] for n in names)):
        values = dict(zip(names, combination))
        if not any(_holds(e, values) for e in expressions):
            uncovered.append(", ".join(f"{n} = {_juel(v)}" for n, v in values.items()) or "always")
    if uncovered:
        shown = "; ".join(uncovered[:5]) + (f"; … ({len(uncovered)} cases)" if len(uncovered) > 5 else "")
        yield doc.problem(gateway, "gateway", f"网关没有默认流，{shown} 时没有任何出口条件成立，流程会停在此处 ({shown} "
                          "matches no outgoing flow: add a default flow or a condition)")


def _combinations(names, domains) -> int:
    count = 1
    for name in names:
        count *= len(domains[name])
    return count


def _holds(expression, values) -> bool:
    try:
        return bool(expression.evaluate(values))
    except EvaluationError:
        return False  # the engine would refuse the action there: not a way out either


def rule_conditions_on_activities(doc: _Doc):
    """A condition on a flow that leaves no gateway: Camunda's conditional flow, not supported."""
    for flow in doc.flows:
        if flow.find("bpmn:conditionExpression", NS) is None:
            continue
        source = doc.by_id.get(flow.get("sourceRef"))
        if source is not None and not _is_bpmn(source, "exclusiveGateway", "inclusiveGateway", "parallelGateway",
                                                "eventBasedGateway"):
            yield doc.problem(flow, "gateway", "a condition on a flow that leaves an activity or event (conditional "
                              "flow) is not supported; put an exclusive or inclusive gateway after it")


def rule_implicit_splits(doc: _Doc):
    for node in doc.iter(*(FLOW_NODES - {"exclusiveGateway", "inclusiveGateway", "parallelGateway",
                                         "eventBasedGateway", "complexGateway"})):
        if len(doc.outgoing.get(node.get("id"), [])) > 1:
            yield doc.problem(node, "gateway", "more than one flow leaves this element (implicit split), which the "
                              "engine refuses; draw a parallel or exclusive gateway after it")


def rule_unreachable(doc: _Doc):
    """Flow nodes no path from a start event reaches; a boundary event counts as reachable from its host."""
    for scope in doc.root.iter():
        if not _is_bpmn(scope, *SCOPES) or (_is_bpmn(scope, "process") and scope.get("isExecutable") != "true"):
            continue
        if scope.get("triggeredByEvent") == "true":
            continue  # refused as unsupported; its start events are triggered, not reached
        nodes = [c for c in scope if _is_bpmn(c, *FLOW_NODES)]
        if not nodes:
            continue
        ids = {n.get("id"): n for n in nodes}
        starts = [n for n in nodes if _is_bpmn(n, "startEvent")
                  or (_is_bpmn(n, "intermediateCatchEvent") and any(_is_bpmn(d, "linkEventDefinition") for d in n))
                  or n.get("isForCompensation") == "true" or n.get("triggeredByEvent") == "true"]
        if not any(_is_bpmn(n, "startEvent") for n in nodes):
            what = "process" if _is_bpmn(scope, "process") else "subprocess"
            yield doc.problem(scope, "unreachable", f"this {what} has no start event, so nothing in it can run; "
                              "add a (none) start event")
            continue
        reached, pending = set(), [n.get("id") for n in starts]
        while pending:
            nid = pending.pop()
            if nid in reached or nid not in ids:
                continue
            reached.add(nid)
            pending.extend(f.get("targetRef") for f in doc.outgoing.get(nid, []))
            pending.extend(b.get("id") for b in nodes
                           if _is_bpmn(b, "boundaryEvent") and b.get("attachedToRef") == nid)
        for node in nodes:
            if node.get("id") not in reached:
                yield doc.problem(node, "unreachable", "no path from a start event reaches this element: connect it "
                                  "with a sequence flow or delete it")


# --------------------------------------------------------------------------- call activities

def rule_call_activities(doc: _Doc):
    for call in doc.iter("callActivity"):
        key = (call.get("calledElement") or "").strip()
        if not key:
            yield doc.problem(call, "call-activity", "no called process: set Called element to the id of a process")
            continue
        if "${" in key or "#{" in key:
            yield doc.problem(call, "call-activity", f"calledElement `{key}` is an expression; name the process id directly")
            continue
        binding = call.get(CAMUNDA + "calledElementBinding")
        if binding not in (None, "latest"):
            yield doc.problem(call, "call-activity", f"camunda:calledElementBinding=\"{binding}\": only binding "
                              "'latest' is supported (the latest version when the plan starts, kept for its lifetime)")
        for attr in ("calledElementVersion", "calledElementVersionTag", "calledElementTenantId"):
            if call.get(CAMUNDA + attr):
                yield doc.problem(call, "call-activity", f"camunda:{attr} is not supported; use binding 'latest'")
        ext = call.find("bpmn:extensionElements", NS)
        mappings = {"in": [], "out": []}
        if ext is not None:
            for m in ext:
                if isinstance(m.tag, str) and m.tag.startswith(CAMUNDA) and _local(m) in mappings:
                    mappings[_local(m)].append(m)
        for direction, items in mappings.items():
            if not any(m.get("variables") == "all" for m in items):
                yield doc.problem(call, "call-activity", f"reformflow always passes all variables {'into' if direction == 'in' else 'out of'} "
                                  f"the called process: add camunda:{direction} variables=\"all\" "
                                  f"({'In' if direction == 'in' else 'Out'} mappings → Propagate all variables)")
            for m in items:
                extra = sorted(set(m.attrib) - {"variables"})
                if extra or (m.get("variables") not in (None, "all")):
                    shown = " ".join(f'{a}="{m.get(a)}"' for a in sorted(m.attrib))
                    yield doc.problem(call, "call-activity", f"camunda:{direction} {shown}: only variables=\"all\" "
                                      "is supported (no single-variable, business-key or local mappings)")
        if key in doc.process_keys:
            continue
        if doc.deployed_keys is None:
            yield doc.problem(call, "call-activity", f"被调用的流程 {key} 不在这些文件中，且未给出数据库无法查找 (called "
                              f"process {key} is not in these files and no database was given to look for it; "
                              "deploy refuses unless it is deployed)", "warning")
        elif key not in doc.deployed_keys:
            yield doc.problem(call, "call-activity", f"calls process '{key}', which is neither deployed nor in this "
                              f"set of files; check the id (Called element) or deploy {key}.bpmn with it")


RULES = [rule_reserved_ids, rule_conditions, rule_timers, rule_scripts, rule_user_tasks, rule_start_forms,
         rule_task_types, rule_multi_instance, rule_unsupported, rule_start_permission, rule_events,
         rule_event_gateways, rule_gateways, rule_conditions_on_activities, rule_implicit_splits, rule_unreachable,
         rule_call_activities, rule_undefined_variables]


def _executable_keys(roots: Iterable) -> set[str]:
    keys = set()
    for root in roots:
        keys.update(root.xpath("./bpmn:process[@isExecutable='true']/@id", namespaces=NS))
    return keys


def check_processes(files: list[tuple[str, bytes]], *, deployed_keys: Iterable[str] | None = None,
                    deployed_xml: Iterable[str] = ()) -> list[dict]:
    """Every problem the Python rules find in these files (each must be well-formed XML).

    `deployed_keys`: process keys already deployed; with it, call activities must name one of
    them or a process in `files`. None skips that rule.
    `deployed_xml`: the latest deployed diagrams; what they set counts as set, since a called
    process and its caller share their variables.
    """
    trees = [(name, parse_bpmn_bytes(data, name).getroot()) for name, data in files]
    keys = _executable_keys(root for _, root in trees)
    context = [parse_bpmn_bytes(xml.encode(), "deployed").getroot() for xml in deployed_xml]
    variables = _variables_set([root for _, root in trees] + context)
    deployed = None if deployed_keys is None else set(deployed_keys)
    problems = []
    for file_name, root in trees:
        doc = _Doc(file_name, root, keys, deployed, variables)
        for rule in RULES:
            problems.extend(rule(doc))
    return problems


# --------------------------------------------------------------------------- schema, lint, all together

_ELEMENT_IN_MESSAGE = re.compile(r"element (\S+)(?: \((.*?)\))?(?:, line \d+)?: ")


def _schema_problems(files: list[tuple[str, bytes]]) -> tuple[list[dict], dict]:
    """BPMN schema and SpiffWorkflow parse errors, per file, then for the files together.

    Also returns the parsed processes per file, for `_storage_problems`."""
    from .parser import parse_files

    def as_problem(file_name, exc: Invalid) -> dict:
        match = _ELEMENT_IN_MESSAGE.search(exc.message)
        element_id = match.group(1) if match and match.group(1) != "?" else None
        return {"file": file_name, "element_id": element_id, "element_name": match.group(2) if match else None,
                "rule": "bpmn", "message": exc.message, "severity": "error"}

    problems, parsed = [], {}
    for file_name, data in files:
        try:
            parsed[file_name] = parse_files([(file_name, data)])
        except Invalid as exc:
            problems.append(as_problem(file_name, exc))
        except Exception as exc:  # noqa: BLE001 - a parser crash is a problem of the file, not of check
            problems.append({"file": file_name, "element_id": None, "element_name": None, "rule": "bpmn",
                             "message": f"the engine cannot read this file: {type(exc).__name__}: {exc}",
                             "severity": "error"})
    if not problems and len(files) > 1:
        try:
            parse_files(files)
        except Invalid as exc:
            problems.append(as_problem(None, exc))
    return problems, parsed


def _storage_problems(parsed: dict, clean_files: set[str]) -> list[dict]:
    """A safety net under the rules: a process the engine could not store is refused too.

    Only for files the rules found nothing wrong with (otherwise the rule already says why)."""
    from .state import spec_to_json
    problems = []
    for file_name, processes in parsed.items():
        if file_name not in clean_files:
            continue
        for process in processes:
            try:
                spec_to_json(process.spec, process.embedded)
            except Exception as exc:  # noqa: BLE001 - anything the engine could not store
                problems.append({"file": file_name, "element_id": process.key, "element_name": process.name,
                                 "rule": "bpmn", "message": f"the engine cannot store this process: {exc}",
                                 "severity": "error"})
    return problems


def _lint_problems(files: list[tuple[str, bytes]]) -> tuple[list[dict], str]:
    """Camunda Modeler's lint on all files in one Node run; ([], "skipped: why") without Node."""
    from . import modeler
    available, reason = modeler.toolchain_status()
    if not available:
        return [], f"skipped: {reason}"
    with tempfile.TemporaryDirectory(prefix="reformflow-check-") as folder:
        paths = []
        for index, (file_name, data) in enumerate(files):
            path = Path(folder) / f"{index:03d}-{Path(file_name).name or 'diagram.bpmn'}"
            path.write_bytes(data)
            paths.append(str(path))
        try:
            results = modeler.lint(paths)
        except (modeler.ModelerToolchainUnavailable, modeler.ModelerToolchainError) as exc:
            return [], f"skipped: {exc}"
    problems = []
    for (file_name, _), path in zip(files, paths):
        for p in results.get(path, []):
            severity = p.get("severity") if p.get("severity") in SEVERITIES else "error"
            problems.append({"file": file_name, "element_id": p.get("id"), "element_name": p.get("name"),
                             "rule": f"modeler/{p.get('rule')}", "message": p.get("message"), "severity": severity})
    return problems, "ran"


def check_files(files: list[tuple[str, bytes]], *, deployed_keys: Iterable[str] | None = None,
                deployed_xml: Iterable[str] = (), use_modeler: bool = True) -> CheckReport:
    """Everything `reformflow check` reports; XML and schema errors are problems, not exceptions."""
    problems, readable = [], []
    for file_name, data in files:
        try:
            parse_bpmn_bytes(data, file_name)
            readable.append((file_name, data))
        except Invalid as exc:
            problems.append({"file": file_name, "element_id": None, "element_name": None,
                             "rule": "xml", "message": exc.message, "severity": "error"})
    if readable:
        schema, parsed = _schema_problems(readable)
        problems.extend(schema)
        problems.extend(check_processes(readable, deployed_keys=deployed_keys, deployed_xml=deployed_xml))
        flagged = {p["file"] for p in problems if p["severity"] == "error"}
        problems.extend(_storage_problems(parsed, {name for name, _ in readable} - flagged))
    lint_state = "skipped: not requested"
    if use_modeler and readable:
        lint_found, lint_state = _lint_problems(readable)
        problems.extend(lint_found)
    elif use_modeler:
        lint_state = "skipped: no readable file"
    return CheckReport(problems, lint_state)
