"""What every rule shares: the namespaces, the tables several rules read, the problem dict, the
element helpers, the expression check, and `Doc` (one parsed file with its indexes), including
the variables the files set and the values form fields fix (read by the variable and gateway rules).
"""
from __future__ import annotations

import re
from functools import cached_property
from typing import Iterable, Iterator

from ..forms import SUPPORTED_TYPES
from ..expressions import BUILTIN_FUNCTIONS, ExpressionError, compile_expression, is_wrapped
from ..parser import NS, property_values
from ..scripting import FUNCTION_NAMES

__all__ = ["BPMN", "CAMUNDA", "CAMUNDA_BUILTINS", "ENGINE_VARIABLES", "EVENT_DEFINITIONS", "NS", "Doc",
           "calls_made", "check_expression", "enum_value_hint", "field_types", "in_english", "is_bpmn", "local_name", "owner_of", "problem", "script_lines", "variables_set"]

BPMN = "{" + NS["bpmn"] + "}"
CAMUNDA = "{" + NS["camunda"] + "}"
EVENT_DEFINITIONS = ("messageEventDefinition", "signalEventDefinition", "timerEventDefinition",
                     "errorEventDefinition", "escalationEventDefinition", "terminateEventDefinition",
                     "linkEventDefinition", "compensateEventDefinition", "conditionalEventDefinition",
                     "cancelEventDefinition")
# Camunda's built-in expression objects and multi-instance variables: they do not exist here.
# name -> (Chinese, English): every problem message is Chinese first, the English in brackets.
_COUNTERS = ("reformflow 不提供 Camunda 的多实例计数变量", "Camunda's multi-instance counters are not provided by reformflow")
CAMUNDA_BUILTINS = {
    "execution": ("reformflow 中没有 Camunda 的 `execution` 对象，请改用流程变量（businessKey、initiator、title 或表单字段）",
                  "Camunda's `execution` object does not exist in reformflow; use process variables "
                  "(businessKey, initiator, title or form fields)"),
    "task": ("reformflow 中没有 Camunda 的 `task` 对象", "Camunda's `task` object does not exist in reformflow"),
    "authenticatedUserId": ("reformflow 不提供 authenticatedUserId，请改用开始事件的 camunda:initiator 变量",
                            "authenticatedUserId is not provided; use the start event's camunda:initiator variable"),
    "nrOfInstances": _COUNTERS,
    "nrOfActiveInstances": _COUNTERS,
    "nrOfCompletedInstances": _COUNTERS,
    "loopCounter": ("reformflow 不提供 Camunda 的 loopCounter", "Camunda's loopCounter is not provided by reformflow"),
}
# Variables the engine itself sets (engine/commands.py start(), engine/events.py).
ENGINE_VARIABLES = {"title", "businessKey", "initiator", "lastMessage"}
# one item of a comma list of group or user names (candidateGroups, candidateStarterUsers, …)
LIST_NAME = re.compile(r"[\w.@-]+\Z")
_ASSIGNMENT = re.compile(r"\s*([^\W\d]\w*)\s*=(?!=)(.*)\Z", re.DOTALL)  # a script line, as in engine/expressions.py


def local_name(el) -> str:
    return el.tag.split("}")[-1] if isinstance(el.tag, str) else ""


def is_bpmn(el, *names) -> bool:
    return isinstance(el.tag, str) and el.tag.startswith(BPMN) and (not names or local_name(el) in names)


def problem(file, el, rule, message, severity="error") -> dict:
    return {"file": file, "element_id": el.get("id") if el is not None else None,
            "element_name": el.get("name") if el is not None else None,
            "rule": rule, "message": message, "severity": severity}


def owner_of(el):
    """The nearest ancestor (or self) with an id: the element a person would look for."""
    while el is not None and el.get("id") is None:
        el = el.getparent()
    return el


def check_expression_property(doc: "Doc", owner, name: str, rule: str, purpose: tuple[str, str],
                              example: str) -> Iterator[dict]:
    """An extension property whose value must be one whole ${...} expression (candidateUnit,
    instanceLabel), checked like any other; `purpose` says what it gives, (Chinese, English)."""
    for value in property_values(owner, name):
        if not is_wrapped(value.strip()):
            yield doc.problem(owner, rule, f"属性 {name} 的值 '{value}' 须为一个完整的 ${{...}} 表达式，{purpose[0]}，"
                              f"如 {example} (property {name} '{value}' must be one whole ${{...}} expression "
                              f"{purpose[1]}, e.g. {example})")
        else:
            said = list(check_expression(doc.file, owner, value, rule, (f"属性 {name} 的表达式", f"property {name}")))
            yield from said
            if not said:
                yield from _constant_value(doc, owner, name, rule, value.strip())


# What a constant ${...} of these properties must give, known before any plan runs: a unit's name
# (candidateUnit: ${[1,2]} kept a task to "[1, 2]") or an instance's label (instanceLabel:
# ${'x' * 99999}), text within the column that keeps it (units.name, human_tasks.subject).
CONSTANT_VALUES = {"candidateUnit": ((str,), "文本", "text", 200), "instanceLabel": ((str, int, float), "文本或数字", "text or a number", 200)}


def _constant_value(doc: "Doc", owner, name: str, rule: str, text: str) -> Iterator[dict]:
    """An expression that reads no variable and calls no function gives the same value in every
    plan: evaluated here, it is refused when it is not what the property needs."""
    if name not in CONSTANT_VALUES:
        return
    kinds, zh, en, limit = CONSTANT_VALUES[name]
    expression = compile_expression(text, FUNCTION_NAMES)
    if expression.names or expression.functions:
        return
    try:
        value = expression.evaluate({})
    except ExpressionError as exc:
        yield doc.problem(owner, rule, f"属性 {name} 的表达式 `{text}` 无法求值：{exc.zh} (property {name} `{text}` "
                          f"cannot be evaluated: {exc.en})")
        return
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:40] + "…"
    if isinstance(value, bool) or not isinstance(value, kinds) or not str(value).strip():
        yield doc.problem(owner, rule, f"属性 {name} 的表达式 `{text}` 在每个方案中都给出 {shown}，须为{zh} (property {name} "
                          f"`{text}` gives {shown} in every plan; it must give {en})")
    elif len(str(value).strip()) > limit:
        yield doc.problem(owner, rule, f"属性 {name} 的表达式 `{text[:40]}` 给出 {len(str(value).strip())} 个字符，上限 {limit} 个 "
                          f"(property {name} `{text[:40]}` gives {len(str(value).strip())} characters; the limit is {limit})")


# previous('x') reads the value before the form now submitted: a condition, a script or a due date
# has no submission to be before (engine/scripting.py BOUND_FUNCTION_NAMES)
_ONLY_IN_BOUNDS = ("previous() 只能用于表单字段的 min / max 约束（读取本表单提交之前的值），如 ${previous('meetingDate')}",
                   "previous() is for a form field's min / max only (the value before the form is submitted), "
                   "such as ${previous('meetingDate')}")


def check_expression(file, el, text, rule, what: tuple[str, str], functions=FUNCTION_NAMES) -> Iterator[dict]:
    """Problems of one expression; `what` names it, (Chinese, English): ("条件", "condition");
    `functions` those it may call besides the built-in ones (a form bound's: BOUND_FUNCTION_NAMES)."""
    text = text.strip()

    def said(reason: tuple[str, str]) -> dict:
        return problem(file, el, rule, f"{what[0]} `{text}`：{reason[0]} ({what[1]} `{text}`: {reason[1]})")

    try:
        expression = compile_expression(text, functions)
    except ExpressionError as exc:
        # `execution.getVariable(...)` fails as a method call; what the modeler needs to hear is
        # that Camunda's objects do not exist here
        builtin = next((name for name in CAMUNDA_BUILTINS if re.search(rf"\b{name}\b", text)), None)
        yield said(CAMUNDA_BUILTINS[builtin] if builtin else _ONLY_IN_BOUNDS if "'previous'" in exc.en
                   else (exc.zh, exc.en))
        return
    for name in sorted(expression.names & CAMUNDA_BUILTINS.keys()):
        yield said(CAMUNDA_BUILTINS[name])


class Doc:
    """One parsed file plus the indexes the structural rules share."""

    def __init__(self, file: str, root, process_keys: set[str], deployed_keys: set[str] | None,
                 variables: set[str] | None = None, calls: dict[str, set[str]] | None = None):
        self.file, self.root = file, root
        self.process_keys = process_keys          # executable processes in this set of files
        self.deployed_keys = deployed_keys        # None: no database to look in (a warning, not an error)
        # process key -> the keys its call activities name, in these files and the latest deployed versions
        self.calls = calls_made([root]) if calls is None else calls
        # every variable something in this set of files sets: one namespace, as call activities
        # pass all variables both ways
        self.variables = variables_set([root]) if variables is None else variables
        self.domains = _domains(root)
        self.by_id = {el.get("id"): el for el in root.iter() if is_bpmn(el) and el.get("id")}
        self.flows = [el for el in root.iter(BPMN + "sequenceFlow")]
        self.outgoing: dict[str, list] = {}
        self.incoming: dict[str, list] = {}
        for flow in self.flows:
            self.outgoing.setdefault(flow.get("sourceRef"), []).append(flow)
            self.incoming.setdefault(flow.get("targetRef"), []).append(flow)

    @cached_property
    def user_task_ids(self) -> set[str]:
        """Once per file, when a rule first asks: per task, it made a 1,000-task check take 30 s."""
        return {t.get("id") for t in self.iter("userTask")}

    def problem(self, el, rule, message, severity="error") -> dict:
        return problem(self.file, el, rule, message, severity)

    def iter(self, *names):
        for el in self.root.iter():
            if is_bpmn(el, *names):
                yield el

    @staticmethod
    def definitions(event) -> list:
        return [c for c in event if is_bpmn(c, *EVENT_DEFINITIONS)]

    def top_level(self, el) -> bool:
        """True if el sits directly in a bpmn:process (not in a subprocess)."""
        return is_bpmn(el.getparent(), "process")


# What the files set: Doc.variables and Doc.domains (script_lines also serves the variable rule).

def script_lines(text: str) -> Iterator[tuple[str, str]]:
    """(target, expression source) per `name = expression` line of a script task."""
    for line in (text or "").splitlines():
        match = _ASSIGNMENT.match(line)
        if match and not line.strip().startswith("#"):
            yield match.group(1), match.group(2).strip()


def _plain_name(text: str | None) -> str | None:
    text = (text or "").strip()
    return text if text.isidentifier() else None


def variables_set(roots: Iterable) -> set[str]:
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
            names.update(target for target, _ in script_lines(script.text))
    return names


def calls_made(roots: Iterable) -> dict[str, set[str]]:
    """Process key -> the process keys its call activities (in its subprocesses too) name; a key
    in a later root replaces an earlier one's, as a file deployed replaces the deployed version."""
    calls = {}
    for root in roots:
        for process in root.xpath("./bpmn:process[@id]", namespaces=NS):
            calls[process.get("id")] = {key.strip() for key in process.xpath(".//bpmn:callActivity/@calledElement",
                                                                             namespaces=NS) if key.strip()}
    return calls


def set_otherwise(root) -> set[str]:
    """The names this file sets other than by a form field: a multi-instance element variable,
    the initiator, a process property, a script's target. Their values are not the form's."""
    names = set(root.xpath(".//@camunda:elementVariable | .//@camunda:initiator | ./bpmn:process/bpmn:extensionElements"
                           "/camunda:properties/camunda:property/@name", namespaces=NS))
    for script in root.xpath(".//bpmn:scriptTask/bpmn:script", namespaces=NS):
        names.update(target for target, _ in script_lines(script.text))
    return names


def field_types(root) -> dict[str, str]:
    """Each form field of this file by its one type (string, long, boolean, date, enum), where
    every field of that name has the same supported type and nothing else sets the name."""
    types: dict[str, set] = {}
    for field in root.xpath(".//camunda:formField", namespaces=NS):
        types.setdefault(field.get("id"), set()).add(field.get("type"))
    unknown = set_otherwise(root)
    return {name: kinds.pop() for name, kinds in types.items()
            if len(kinds) == 1 and name not in unknown and next(iter(kinds)) in SUPPORTED_TYPES}


def _domains(root) -> dict[str, tuple]:
    """The values a variable can hold, where the form fields of this file fix them: an enum's
    value ids, true/false for a boolean; null too unless every field of that name is required or
    has a default. A name that is also a string/long/date field or is set otherwise is left out."""
    domains: dict[str, list] = {}
    unknown = set_otherwise(root)
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


def in_english(text: str, plain: str) -> str:
    """`text` as a message's English half writes it: `plain` (its ASCII quoting: 'x', `x`) when it
    is ASCII, else in “ ”, so that a page in English shows that half alone (web/i18n.py split())."""
    return plain if text.isascii() else f"“{text}”"


def enum_value_hint(root, name: str) -> tuple[str, str] | None:
    """What to write when a condition is only an enum field's value, by its id (`${approve}`,
    read as a variable nothing sets) or by its name as the form shows it (`同意`, the flow's own
    label): the comparison with the field, (Chinese, English); None if no enum field of this file
    has such a value."""
    name = (name or "").strip()
    if not name:
        return None
    by_id, by_name = [], []
    # a field without an id has no comparison to write (its missing id is the form rule's error)
    for field in root.xpath(".//camunda:formField[@type='enum'][normalize-space(@id)]", namespaces=NS):
        for value in field.xpath("./camunda:value", namespaces=NS):
            pair = (field.get("id"), value.get("id"))
            if value.get("id") == name and pair not in by_id:
                by_id.append(pair)
            elif (value.get("name") or "").strip() == name and pair not in by_name:
                by_name.append(pair)
    pairs = by_id or by_name
    if not pairs:
        return None
    fields = list(dict.fromkeys(f for f, _ in pairs))
    write_zh = " 或 ".join(f"${{{f} == '{v}'}}" for f, v in pairs)
    write = " or ".join(f"${{{f} == '{v}'}}" for f, v in pairs)
    if by_id:
        return (f"{name} 是选项字段 {'、'.join(fields)} 的一个值：应写 {write_zh}",
                f"{name} is a value of the enum field {', '.join(fields)}: write {write}")
    values = list(dict.fromkeys(v for _, v in pairs))
    shown = in_english(name, name)
    return (f"{name} 是选项字段 {'、'.join(fields)} 的值 {'、'.join(values)} 的名称：应写 {write_zh}",
            f"{shown} is the name of the value {', '.join(values)} of the enum field {', '.join(fields)}: write {write}")
