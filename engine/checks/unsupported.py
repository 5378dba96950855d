"""Unsupported things: BPMN elements, Camunda attributes and extensions reformflow refuses, ignores
or does not know, and the process's candidate starter lists."""
from __future__ import annotations

import difflib
import re

from .common import BPMN, CAMUNDA, NS, Doc, is_bpmn, local_name, owner_of

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
_STARTER_NAME = re.compile(r"[\w.@-]+\Z")


def rule_unsupported(doc: Doc):
    for el in doc.root.iter():
        if not isinstance(el.tag, str):
            continue
        local = local_name(el)
        if el.tag.startswith(BPMN) and local in UNSUPPORTED_ELEMENTS:
            target = owner_of(el.getparent()) if local.endswith(("EventDefinition", "Characteristics", "Association")) else el
            yield doc.problem(target, "unsupported", f"{local}: {UNSUPPORTED_ELEMENTS[local]}")
        if el.tag.startswith(BPMN) and local == "subProcess" and el.get("triggeredByEvent") == "true":
            yield doc.problem(el, "unsupported", "event subprocesses are not supported (messages do not reach them); "
                              "use a boundary event on the activity instead")
        if el.tag.startswith(BPMN) and local == "dataInputAssociation":
            sources = [doc.by_id.get((ref.text or "").strip()) for ref in el.findall("bpmn:sourceRef", NS)]
            if any(src is not None and local_name(src) == "dataStoreReference" for src in sources):
                yield doc.problem(owner_of(el.getparent()), "unsupported", "reading from a data store is not supported "
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
                yield doc.problem(owner_of(el), "unsupported", f"camunda:{local}: {UNSUPPORTED_EXTENSIONS[local]}")
            elif local in IGNORED_EXTENSIONS:
                yield doc.problem(owner_of(el), "unsupported", f"camunda:{local} 被忽略 (camunda:{local} is ignored: "
                                  f"{IGNORED_EXTENSIONS[local]})", "info")
            elif local not in KNOWN_EXTENSIONS:
                yield doc.problem(_bpmn_owner(el), "unsupported", f"camunda:{local} 未知，被忽略 (camunda:{local} is not an "
                                  f"element reformflow knows; it does nothing here)"
                                  f"{_did_you_mean(local, KNOWN_EXTENSIONS)}", "warning")


def _bpmn_owner(el):
    """The nearest BPMN element with an id (a form field's id is not an element in the Modeler)."""
    while el is not None and not (is_bpmn(el) and el.get("id")):
        el = el.getparent()
    return el


def _did_you_mean(name: str, known) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f"；是否应为 camunda:{close[0]}？(did you mean camunda:{close[0]}?)" if close else ""


def _inside_refused_extension(el) -> bool:
    """True under a camunda: element refused by name: that one message is enough."""
    parent = el.getparent()
    while parent is not None:
        if isinstance(parent.tag, str) and parent.tag.startswith(CAMUNDA) and local_name(parent) in UNSUPPORTED_EXTENSIONS:
            return True
        parent = parent.getparent()
    return False


def rule_start_permission(doc: Doc):
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
